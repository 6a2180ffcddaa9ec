"""Directories: mkdir/makedirs(exist_ok, mode), listdir, scandir (DirEntry methods), walk (top-down, bottom-up), rmdir, removedirs."""
import os

os.makedirs("root/a/b/c")
os.makedirs("root/a/b/c", exist_ok=True)
try:
    os.makedirs("root/a/b/c")
except FileExistsError as e:
    print("makedirs existing:", e.errno)
os.makedirs("root/x/y", exist_ok=True)
for name in ["root/f1.txt", "root/a/f2.txt", "root/a/b/f3.txt", "root/x/y/f4.txt"]:
    with open(name, "w") as f:
        f.write(name)
os.symlink("a", "root/link_to_a")
print("listdir", sorted(os.listdir("root")))
print("listdir bytes", sorted(os.listdir(b"root")))
print("listdir cwd", sorted(os.listdir()))
with os.scandir("root") as it:
    entries = sorted(it, key=lambda e: e.name)
for e in entries:
    print("entry", e.name, e.path, e.is_dir(), e.is_file(), e.is_symlink(), e.is_dir(follow_symlinks=False), e.stat(follow_symlinks=False).st_size if e.is_file() else "-")
print("repr", repr(entries[0]))
for top, dirs, files in os.walk("root"):
    dirs.sort()
    print("walk", top, sorted(dirs), sorted(files))
for top, dirs, files in os.walk("root", topdown=False):
    print("walk-up", top, sorted(dirs), sorted(files))
print("followlinks", sorted(t for t, d, f in os.walk("root", followlinks=True)))
print("fwalk" if hasattr(os, "fwalk") else "no fwalk", sorted(t for t, d, f, fd in os.fwalk("root")) if hasattr(os, "fwalk") else "")
os.remove("root/x/y/f4.txt")
os.removedirs("root/x/y")
print("after removedirs", sorted(os.listdir("root")))
os.rmdir("root/a/b/c")
print("after rmdir", sorted(os.listdir("root/a/b")))
os.mkdir("moded", 0o700)
print("mkdir mode", oct(os.stat("moded").st_mode & 0o777))
print("getcwd", os.getcwd())
os.chdir("root/a")
print("chdir", os.getcwd(), sorted(os.listdir(".")))
os.chdir("..")
print("chdir ..", os.getcwd())
os.chdir("/home/pyodide")
print("abspath", os.path.abspath("root/../root/a"))
