"""Memory: a 200 MB bytearray (touched), a 512 MB bytes, then allocations that cannot fit (MemoryError / OverflowError)."""
import sys
b = bytearray(200 * 1024 * 1024)
for i in range(0, len(b), 4096):
    b[i] = i & 0xFF
print("bytearray", len(b), sum(b[::1 << 20]))
del b
c = b"x" * (512 * 1024 * 1024)
print("bytes 512MB", len(c), c[-1:])
del c
for size in (8 * 1024 ** 3, sys.maxsize):
    try:
        x = bytearray(size)
        print("allocated", size)
    except MemoryError:
        print("MemoryError for", size)
    except OverflowError as e:
        print("OverflowError for", size, e)
try:
    l = [0] * (sys.maxsize // 4)
except MemoryError:
    print("MemoryError list")
print("still alive", len(bytearray(10 * 1024 * 1024)))
