"""os.utime with explicit times (seconds, float, ns) and reading them back through stat; precision visible in st_*_ns."""
import os

open("u", "w").write("x")
os.utime("u", (1000000000, 1200000000))
st = os.stat("u")
print("atime", st.st_atime, "mtime", st.st_mtime)
print("ns", st.st_atime_ns, st.st_mtime_ns)
os.utime("u", (1.5, 2.25))
st = os.stat("u")
print("float", st.st_atime, st.st_mtime, st.st_atime_ns, st.st_mtime_ns)
os.utime("u", ns=(123456789123456789, 987654321987654321))
st = os.stat("u")
print("ns set", st.st_atime_ns, st.st_mtime_ns)
os.utime("u", (0, 0))
st = os.stat("u")
print("zero", st.st_atime, st.st_mtime)
os.mkdir("dd")
os.utime("dd", (86400, 86400 * 2))
print("dir", os.stat("dd").st_mtime)
os.utime("u")
print("now is recent", os.stat("u").st_mtime > 1.6e9)
print("getmtime", os.path.getmtime("dd"), "getatime", os.path.getatime("dd"))
os.symlink("u", "ul")
try:
    os.utime("ul", (5, 6), follow_symlinks=False)
    print("lutime", os.lstat("ul").st_mtime, os.stat("u").st_mtime > 1.6e9)
except (NotImplementedError, OSError) as e:
    print("lutime error", type(e).__name__, e)
with open("u", "rb") as f:
    try:
        os.utime(f.fileno(), (7, 8))
        print("futime", os.stat("u").st_mtime)
    except (NotImplementedError, OSError) as e:
        print("futime error", type(e).__name__, e)
