"""tempfile: gettempdir, mkstemp/mkdtemp naming (prefix/suffix/dir), TemporaryFile, NamedTemporaryFile(delete), TemporaryDirectory cleanup, SpooledTemporaryFile rollover."""
import os, tempfile

print("gettempdir", tempfile.gettempdir(), "gettempprefix", tempfile.gettempprefix())
fd, path = tempfile.mkstemp(prefix="pre_", suffix=".suf")
print("mkstemp", os.path.dirname(path), os.path.basename(path).startswith("pre_"), path.endswith(".suf"), len(os.path.basename(path)))
print("mkstemp mode", oct(os.stat(path).st_mode & 0o777))
os.write(fd, b"abc"); os.close(fd); os.unlink(path)
d = tempfile.mkdtemp(dir="/home/pyodide")
print("mkdtemp", os.path.dirname(d), oct(os.stat(d).st_mode & 0o777))
os.rmdir(d)
with tempfile.TemporaryFile() as f:
    f.write(b"hello")
    f.seek(0)
    print("TemporaryFile", f.read(), type(f).__name__)
with tempfile.NamedTemporaryFile("w+", suffix=".txt") as f:
    f.write("named")
    f.flush()
    name = f.name
    print("Named exists", os.path.exists(name), open(name).read())
print("Named deleted", os.path.exists(name))
with tempfile.NamedTemporaryFile(delete=False) as f:
    name = f.name
print("delete=False kept", os.path.exists(name))
os.unlink(name)
with tempfile.TemporaryDirectory(prefix="td") as td:
    open(os.path.join(td, "x"), "w").write("x")
    os.mkdir(os.path.join(td, "sub"))
    print("TemporaryDirectory", os.path.basename(td).startswith("td"), sorted(os.listdir(td)))
print("cleaned", os.path.exists(td))
with tempfile.SpooledTemporaryFile(max_size=10) as f:
    f.write(b"12345")
    print("spooled rolled", f._rolled)
    f.write(b"678901")
    print("spooled rolled", f._rolled)
    f.seek(0)
    print(f.read())
names = {os.path.basename(tempfile.mktemp()) for _ in range(50)}
print("mktemp unique", len(names))
