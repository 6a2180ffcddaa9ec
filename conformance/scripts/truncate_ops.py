"""Truncation: os.truncate, os.ftruncate, file.truncate (shrink, extend with zeros, position unchanged), O_TRUNC, 'w' mode."""
import os

open("t", "wb").write(b"0123456789")
os.truncate("t", 4)
print(open("t", "rb").read())
os.truncate("t", 8)
print(open("t", "rb").read())
with open("t", "r+b") as f:
    f.seek(6)
    print("truncate()", f.truncate(), f.tell())
    print("truncate(2)", f.truncate(2), f.tell())
    f.write(b"Z")
print("after write past truncation", open("t", "rb").read())
fd = os.open("t", os.O_RDWR)
os.ftruncate(fd, 3)
print("fstat size", os.fstat(fd).st_size)
os.ftruncate(fd, 0)
print("size 0", os.fstat(fd).st_size)
os.close(fd)
open("t", "wb").write(b"abc")
fd = os.open("t", os.O_WRONLY | os.O_TRUNC)
print("O_TRUNC size", os.fstat(fd).st_size)
os.close(fd)
with open("t", "w") as f:
    pass
print("w empties", os.path.getsize("t"))
with open("t", "wb") as f:
    f.seek(100)
    f.write(b"x")
print("sparse size", os.path.getsize("t"), open("t", "rb").read()[:5])
