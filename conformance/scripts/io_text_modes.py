"""Text file I/O: open modes (w, r, a, x, r+, w+, a+), encodings, errors=, newline= handling."""
import errno

def err(e):
    return f"{type(e).__name__} errno={e.errno} {errno.errorcode.get(e.errno)}" if isinstance(e, OSError) else f"{type(e).__name__}: {e}"

with open("t.txt", "w") as f:
    print("write returns", f.write("alpha\nbeta\n"))
    print("mode", f.mode, "encoding", f.encoding, "name", f.name, "readable", f.readable(), "writable", f.writable())
with open("t.txt") as f:
    print("read", repr(f.read()))
with open("t.txt", "a") as f:
    f.write("gamma\n")
    print("append tell", f.tell())
with open("t.txt") as f:
    print("lines", f.readlines())
try:
    open("t.txt", "x")
except OSError as e:
    print("x on existing:", err(e))
with open("new.txt", "x") as f:
    f.write("fresh")
print("x created", open("new.txt").read())
with open("t.txt", "r+") as f:
    f.write("ALPHA")
    f.seek(0)
    print("r+", repr(f.read()))
with open("t.txt", "w+") as f:
    f.write("one\ntwo\n")
    f.seek(0)
    print("w+", repr(f.read()))
with open("t.txt", "a+") as f:
    print("a+ tell at open", f.tell())
    f.seek(0)
    print("a+ read", repr(f.read()))
    f.write("three\n")
print("after a+", repr(open("t.txt").read()))

# encodings
s = "héllo wörld € \u4e2d\u6587 \U0001f600"
for enc in ["utf-8", "utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252", "ascii", "utf-8-sig"]:
    try:
        with open("enc.txt", "w", encoding=enc) as f:
            f.write(s)
        raw = open("enc.txt", "rb").read()
        back = open("enc.txt", encoding=enc).read()
        print(enc, len(raw), raw[:12].hex(), back == s)
    except Exception as e:
        print(enc, "error", err(e))
for errors in ["replace", "ignore", "backslashreplace", "xmlcharrefreplace", "surrogateescape"]:
    try:
        with open("enc.txt", "w", encoding="ascii", errors=errors) as f:
            f.write("a\xe9b\u20ac")
        print("write errors", errors, open("enc.txt", "rb").read())
    except Exception as e:
        print("write errors", errors, err(e))
open("bad.bin", "wb").write(b"ok \xff\xfe bad \xc3")
for errors in ["strict", "replace", "ignore", "surrogateescape", "backslashreplace"]:
    try:
        print("read errors", errors, ascii(open("bad.bin", encoding="utf-8", errors=errors).read()))
    except Exception as e:
        print("read errors", errors, err(e))

# newline handling
open("nl.bin", "wb").write(b"a\nb\r\nc\rd\r\n\re")
for nl in [None, "", "\n", "\r", "\r\n"]:
    with open("nl.bin", newline=nl) as f:
        data = f.read()
    with open("nl.bin", newline=nl) as f:
        lines = f.readlines()
    print("read newline", repr(nl), repr(data), lines)
for nl in [None, "", "\n", "\r", "\r\n"]:
    with open("nlw.bin", "w", newline=nl) as f:
        f.write("x\ny\r\nz\r")
    print("write newline", repr(nl), open("nlw.bin", "rb").read())
with open("nl.bin") as f:
    f.read()
    print("newlines attr", f.newlines)
