"""Pipes: small writes and reads, a non-blocking write end filled until the
pipe is full (Linux: 64 KiB, then EAGAIN; Node's PIPEFS has no capacity)."""
import errno, os
r, w = os.pipe()
print("small write", os.write(w, b"hello"))
print("read back", os.read(r, 16))
os.set_blocking(w, False)
total = 0
try:
    while total < (4 << 20):
        total += os.write(w, b"x" * 4096)
    print("pipe full: no EAGAIN within 4 MiB")
except BlockingIOError as e:
    print("pipe full: EAGAIN after", total, "bytes", e.errno == errno.EAGAIN)
os.set_blocking(r, False)
drained = 0
try:
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        drained += len(chunk)
except BlockingIOError:
    pass
print("drained everything", drained == total)
print("write after draining", os.write(w, b"y"))
os.close(r); os.close(w)
