"""gzip (fixed mtime), bz2 and lzma round-trips: exact sizes/digests, file objects, multi-stream, incremental decompressors, error types."""
import bz2, gzip, hashlib, io, lzma
data = ("".join(f"{i}:{i*i}\n" for i in range(3000))).encode()
h = lambda b: hashlib.sha256(b).hexdigest()[:16]
g = gzip.compress(data, compresslevel=9, mtime=0)
print("gzip", len(g), h(g), gzip.decompress(g) == data)
with gzip.GzipFile("f.gz", "wb", mtime=1234567890) as f:
    f.write(data)
raw = open("f.gz", "rb").read()
print("gzip file", len(raw), raw[:10].hex(), h(raw))
with gzip.open("f.gz", "rt") as f:
    print("gzip text lines", sum(1 for _ in f))
with gzip.GzipFile("f.gz") as f:
    f.read(); print("gzip mtime", f.mtime)
print("gzip multistream", gzip.decompress(g + g) == data + data)
try:
    gzip.decompress(b"\x1f\x8b junk")
except Exception as e:
    print("gzip error", type(e).__name__)
for lvl in (1, 9):
    b = bz2.compress(data, lvl)
    print("bz2", lvl, len(b), h(b), bz2.decompress(b) == data)
with bz2.open("f.bz2", "wt") as f:
    f.write("text\n" * 100)
print("bz2 file", open("f.bz2", "rb").read()[:4], bz2.open("f.bz2", "rt").read().count("\n"))
d = bz2.BZ2Decompressor()
print("bz2 incremental", len(d.decompress(bz2.compress(data)[:100])), d.eof)
for fmt, name in [(lzma.FORMAT_XZ, "xz"), (lzma.FORMAT_ALONE, "alone")]:
    c = lzma.compress(data, format=fmt)
    print("lzma", name, len(c), h(c), lzma.decompress(c) == data)
c = lzma.compress(data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 1}])
print("lzma raw", len(c), lzma.decompress(c, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 1}]) == data)
c = lzma.compress(data, check=lzma.CHECK_SHA256, preset=9 | lzma.PRESET_EXTREME)
print("lzma extreme sha256", len(c), h(c), lzma.is_check_supported(lzma.CHECK_SHA256))
with lzma.open("f.xz", "wb") as f:
    f.write(data)
print("lzma file", lzma.open("f.xz").read() == data)
try:
    lzma.decompress(b"garbage")
except lzma.LZMAError as e:
    print("lzma error", e)
