"""Special files: /dev/null, /dev/zero, /dev/urandom, /dev/tty, /dev/stdout by path, /proc/self/fd listing, os.devnull, reading/writing them."""
import os, stat
with open(os.devnull, "w") as f:
    print("write devnull", f.write("discard"))
with open("/dev/null", "rb") as f:
    print("read devnull", f.read())
for p in ["/dev/zero", "/dev/urandom", "/dev/random", "/dev/tty", "/dev/shm", "/dev/full", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/fd", "/proc/self/fd"]:
    try:
        st = os.stat(p)
        print(p, stat.filemode(st.st_mode), "rdev!=0", st.st_rdev != 0 if stat.S_ISCHR(st.st_mode) else "-")
    except OSError as e:
        print(p, "OSError", e.errno)
try:
    with open("/dev/zero", "rb") as f:
        print("zero", f.read(4))
except OSError as e:
    print("open /dev/zero", e.errno)
with open("/dev/stdout", "w") as f:
    f.write("written via /dev/stdout\n")
try:
    print("/proc/self/fd", sorted(os.listdir("/proc/self/fd")))
    fd = os.open("/tmp", os.O_RDONLY)
    print("readlink fd", os.readlink(f"/proc/self/fd/{fd}"))
    os.close(fd)
except OSError as e:
    print("proc error", e.errno)
print("devnull name", os.devnull)
print("tty name", end=" ")
try:
    print(os.ttyname(1))
except OSError as e:
    print("OSError", e.errno)
