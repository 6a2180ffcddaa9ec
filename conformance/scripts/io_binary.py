"""Binary file I/O: seek/tell with every whence, readline, readinto, read1, peek, buffering=0 (FileIO), BufferedRandom."""
import io, os

with open("b.bin", "wb") as f:
    print(type(f).__name__, f.write(bytes(range(256))))
with open("b.bin", "rb") as f:
    print(type(f).__name__, f.raw.__class__.__name__)
    print("read 10", f.read(10).hex())
    print("tell", f.tell())
    print("seek cur +5", f.seek(5, io.SEEK_CUR))
    print("seek end -3", f.seek(-3, io.SEEK_END), f.read().hex())
    print("read at eof", f.read(), f.read(5))
    print("seek past end", f.seek(1000), f.read(1), f.tell())
    try:
        f.seek(-1)
    except Exception as e:
        print("negative seek", type(e).__name__, e)
    f.seek(0)
    buf = bytearray(7)
    print("readinto", f.readinto(buf), buf.hex())
    mv = memoryview(bytearray(300))
    print("readinto big", f.readinto(mv), f.tell())
    f.seek(250)
    print("peek nonempty", len(f.peek(1)) > 0)
    print("read1", f.read1(3).hex())
open("lines.bin", "wb").write(b"first\nsecond\r\nthird\rfourth")
with open("lines.bin", "rb") as f:
    print("readline", f.readline(), f.readline(), f.readline(3), f.readline())
    print("rest", f.readlines())
with open("lines.bin", "rb") as f:
    print("iter", list(f))
with open("u.bin", "wb", buffering=0) as f:
    print("unbuffered type", type(f).__name__, f.write(b"abc"), f.write(memoryview(b"defgh")[1:3]))
print(open("u.bin", "rb").read())
with open("u.bin", "r+b") as f:
    print("r+b type", type(f).__name__)
    f.seek(1)
    f.write(b"XY")
    f.seek(0, 2)
    f.write(b"!!")
    f.seek(0)
    print("r+b content", f.read())
with open("u.bin", "ab") as f:
    print("ab tell", f.tell())
    f.seek(0)
    f.write(b"+")
print("after ab seek+write", open("u.bin", "rb").read())
with open("u.bin", "rb", buffering=0) as f:
    print("FileIO readall", f.readall(), f.read(10))
    print("FileIO mode", f.mode, f.closefd, f.seekable(), f.isatty())
print("buffer sizes default", io.DEFAULT_BUFFER_SIZE)
with open("u.bin", "rb") as f:
    print("fileno is int", isinstance(f.fileno(), int), f.fileno() >= 3)
f = open("u.bin", "rb")
f.close()
try:
    f.read()
except ValueError as e:
    print("closed read", e)
print("os.path.getsize", os.path.getsize("b.bin"))
