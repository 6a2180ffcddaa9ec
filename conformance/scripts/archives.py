"""zipfile and tarfile round-trips with fixed timestamps: member lists, infos, exact archive digests, compression types, extraction, errors."""
import hashlib, io, os, tarfile, zipfile
h = lambda b: hashlib.sha256(b).hexdigest()[:16]
payload = {"a.txt": b"alpha\n" * 100, "dir/b.bin": bytes(range(256)), "dir/sub/c.txt": b""}
for comp in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=comp) as z:
        for name, d in payload.items():
            zi = zipfile.ZipInfo(name, date_time=(2020, 1, 2, 3, 4, 6))
            zi.external_attr = 0o644 << 16
            zi.compress_type = comp
            z.writestr(zi, d)
        z.comment = b"fixed"
    raw = buf.getvalue()
    print("zip", comp, len(raw), h(raw))
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        print(" names", z.namelist(), "testzip", z.testzip(), "comment", z.comment)
        for i in z.infolist():
            print(" ", i.filename, i.file_size, i.compress_size, i.date_time, hex(i.CRC), oct(i.external_attr >> 16))
        assert all(z.read(n) == d for n, d in payload.items())
with zipfile.ZipFile("disk.zip", "w") as z:
    z.writestr(zipfile.ZipInfo("x/y.txt", (1999, 12, 31, 23, 59, 58)), "zz")
with zipfile.ZipFile("disk.zip") as z:
    z.extractall("out_zip")
print("extracted", sorted(os.path.join(r, f) for r, _, fs in os.walk("out_zip") for f in fs), open("out_zip/x/y.txt").read())
print("is_zipfile", zipfile.is_zipfile("disk.zip"), zipfile.is_zipfile(io.BytesIO(b"nope")))
try:
    zipfile.ZipFile(io.BytesIO(b"not a zip"))
except zipfile.BadZipFile as e:
    print("BadZipFile", e)
zp = zipfile.Path(zipfile.ZipFile("disk.zip"))
print("zipfile.Path", [p.name for p in zp.iterdir()])
for mode in ("w", "w:gz", "w:bz2", "w:xz"):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.PAX_FORMAT) as t:
        for name, d in payload.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(d); ti.mtime = 1600000000; ti.mode = 0o644; ti.uname = "u"; ti.gname = "g"
            t.addfile(ti, io.BytesIO(d))
        di = tarfile.TarInfo("emptydir"); di.type = tarfile.DIRTYPE; di.mtime = 1600000000; di.mode = 0o755
        t.addfile(di)
        li = tarfile.TarInfo("link"); li.type = tarfile.SYMTYPE; li.linkname = "a.txt"; li.mtime = 1600000000
        t.addfile(li)
    raw = buf.getvalue()
    print("tar", mode, len(raw), h(raw) if mode in ("w", "w:bz2", "w:xz") else "(gz header holds time)")
    with tarfile.open(fileobj=io.BytesIO(raw)) as t:
        for m in t.getmembers():
            print(" ", m.name, m.size, m.mtime, oct(m.mode), m.type, m.linkname)
os.makedirs("tsrc/d")
open("tsrc/d/f.txt", "w").write("file")
os.utime("tsrc/d/f.txt", (1500000000, 1500000000))
with tarfile.open("disk.tar", "w") as t:
    t.add("tsrc", filter=lambda ti: (setattr(ti, "mtime", 0), setattr(ti, "uid", 0), setattr(ti, "gid", 0), setattr(ti, "uname", ""), setattr(ti, "gname", ""), ti)[-1])
with tarfile.open("disk.tar") as t:
    print("disk tar", t.getnames())
    t.extractall("tout", filter="data")
print("tar extracted", open("tout/tsrc/d/f.txt").read(), os.stat("tout/tsrc/d/f.txt").st_mtime)
print("is_tarfile", tarfile.is_tarfile("disk.tar"))
