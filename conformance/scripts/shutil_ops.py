"""shutil: copyfile/copy/copy2/copymode/copystat, copytree (symlinks, ignore, dirs_exist_ok), rmtree (onexc), move, make_archive/unpack_archive, which, disk_usage shape."""
import os, shutil, stat

os.makedirs("src/sub/deeper")
open("src/a.txt", "w").write("a" * 100)
open("src/sub/b.py", "w").write("print()")
open("src/sub/deeper/c.log", "w").write("log")
os.symlink("a.txt", "src/link")
os.utime("src/a.txt", (1000, 2000))
os.chmod("src/a.txt", 0o640)
print("copyfile", shutil.copyfile("src/a.txt", "c1"), oct(os.stat("c1").st_mode & 0o777), os.stat("c1").st_mtime == 2000)
print("copy", shutil.copy("src/a.txt", "c2"), oct(os.stat("c2").st_mode & 0o777), os.stat("c2").st_mtime == 2000)
print("copy2", shutil.copy2("src/a.txt", "c3"), oct(os.stat("c3").st_mode & 0o777), os.stat("c3").st_mtime)
os.mkdir("dst")
print("copy into dir", shutil.copy("src/a.txt", "dst"))
try:
    shutil.copyfile("src/a.txt", "src/a.txt")
except shutil.SameFileError as e:
    print("SameFileError", type(e).__name__)
def tree(top):
    out = []
    for r, ds, fs in os.walk(top):
        ds.sort()
        for n in sorted(ds + fs):
            p = os.path.join(r, n)
            out.append(p + ("@" if os.path.islink(p) else "/" if os.path.isdir(p) else ""))
    return out
shutil.copytree("src", "t1")
print("copytree", tree("t1"))
shutil.copytree("src", "t2", symlinks=True, ignore=shutil.ignore_patterns("*.log"))
print("copytree symlinks+ignore", tree("t2"))
try:
    shutil.copytree("src", "t2")
except FileExistsError as e:
    print("copytree exists", e.errno)
shutil.copytree("src", "t2", dirs_exist_ok=True)
print("dirs_exist_ok", tree("t2"))
shutil.move("t2", "t3")
print("move dir", os.path.exists("t2"), tree("t3")[:3])
shutil.move("c1", "t3")
print("move file into dir", os.path.exists("t3/c1"))
shutil.rmtree("t3")
print("rmtree", os.path.exists("t3"))
errors = []
shutil.rmtree("missing_dir", onexc=lambda f, p, e: errors.append((f.__name__, type(e).__name__))) if hasattr(shutil.rmtree, "__call__") else None
print("rmtree onexc", errors)
shutil.rmtree("missing_dir", ignore_errors=True)
os.utime("src/a.txt", (315532800 + 86400, 315532800 + 86400))
name = shutil.make_archive("arch", "zip", "src")
print("make_archive", os.path.basename(name))
shutil.unpack_archive("arch.zip", "unpacked")
print("unpacked", tree("unpacked"))
print("which python", shutil.which("python"), "which ls", shutil.which("ls"))
du = shutil.disk_usage(".")
print("disk_usage fields", du._fields, all(isinstance(x, int) for x in du))
print("get_terminal_size", tuple(shutil.get_terminal_size()))
