"""chmod/fchmod/umask and the permission bits stat reports; os.access results; setuid/sticky bits."""
import os, stat

print("umask was", oct(os.umask(0o022)))
open("p", "w").close()
print("created mode", oct(stat.S_IMODE(os.stat("p").st_mode)))
for mode in [0o777, 0o644, 0o600, 0o400, 0o000, 0o4755, 0o1777, 0o2750]:
    os.chmod("p", mode)
    print("chmod", oct(mode), "->", oct(stat.S_IMODE(os.stat("p").st_mode)), stat.filemode(os.stat("p").st_mode))
os.chmod("p", 0o644)
for m, n in [(os.F_OK, "F_OK"), (os.R_OK, "R_OK"), (os.W_OK, "W_OK"), (os.X_OK, "X_OK")]:
    print("access", n, os.access("p", m), os.access("missing", m))
os.chmod("p", 0o000)
print("access after 000", os.access("p", os.R_OK), os.access("p", os.W_OK))
try:
    open("p").close()
    print("open 000 file: allowed")
except PermissionError as e:
    print("open 000 file:", e.errno)
os.chmod("p", 0o644)
with open("p") as f:
    if hasattr(os, "fchmod"):
        os.fchmod(f.fileno(), 0o711)
        print("fchmod", oct(stat.S_IMODE(os.stat("p").st_mode)))
os.umask(0o077)
open("q", "w").close()
os.mkdir("qd")
print("umask 077 file", oct(stat.S_IMODE(os.stat("q").st_mode)), "dir", oct(stat.S_IMODE(os.stat("qd").st_mode)))
print("umask now", oct(os.umask(0o022)))
os.mkdir("ro")
os.chmod("ro", 0o500)
try:
    open("ro/x", "w").close()
    print("write in 0o500 dir: allowed")
except PermissionError as e:
    print("write in 0o500 dir:", e.errno)
