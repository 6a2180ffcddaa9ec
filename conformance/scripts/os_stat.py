"""os.stat/lstat/fstat: deterministic fields (mode, type bits, size, nlink), stat module predicates, stat_result shape."""
import os, stat

os.mkdir("sdir")
open("sdir/file", "wb").write(b"0123456789")
os.symlink("file", "sdir/link")
os.mkfifo("sdir/fifo") if hasattr(os, "mkfifo") else None

def show(label, st):
    m = st.st_mode
    kinds = [n for n in ["S_ISREG", "S_ISDIR", "S_ISLNK", "S_ISFIFO", "S_ISCHR", "S_ISBLK", "S_ISSOCK"] if getattr(stat, n)(m)]
    print(label, oct(m), stat.filemode(m), kinds, "size" if stat.S_ISDIR(m) else st.st_size, "nlink", st.st_nlink)

for p in ["sdir", "sdir/file", "sdir/link", "/", "/tmp", "/home/pyodide", "/dev/null", "/dev/stdout", "/lib/python314.zip"]:
    try:
        show("stat " + p, os.stat(p))
        show("lstat " + p, os.lstat(p))
    except OSError as e:
        print(p, "error", e.errno)
if os.path.exists("sdir/fifo"):
    show("fifo", os.stat("sdir/fifo"))
with open("sdir/file", "rb") as f:
    show("fstat", os.fstat(f.fileno()))
st = os.stat("sdir/file")
print("len", len(st), "type", type(st).__name__)
print("uid gid", st.st_uid, st.st_gid)
print("has ns", isinstance(st.st_mtime_ns, int), "st_ino>0", st.st_ino > 0, "dev int", isinstance(st.st_dev, int))
print("mtime float", isinstance(st.st_mtime, float))
print("same file", os.path.samefile("sdir/file", "sdir/link"), os.path.samefile("sdir/file", "sdir"))
print("stat follow_symlinks=False", stat.S_ISLNK(os.stat("sdir/link", follow_symlinks=False).st_mode))
print("lstat link size", os.lstat("sdir/link").st_size)
print("isfile/isdir/islink/exists", os.path.isfile("sdir/file"), os.path.isdir("sdir"), os.path.islink("sdir/link"), os.path.exists("nope"))
print("getsize", os.path.getsize("sdir/file"))
print("dir nlink after subdirs", os.stat("sdir").st_nlink, end=" ")
os.mkdir("sdir/a"); os.mkdir("sdir/b")
print(os.stat("sdir").st_nlink)
print("st_blksize", hasattr(st, "st_blksize"), "st_blocks", hasattr(st, "st_blocks"))
