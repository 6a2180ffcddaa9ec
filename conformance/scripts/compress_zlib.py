"""zlib: version, compress/decompress at all levels, exact compressed bytes, crc32/adler32, streaming compressobj/decompressobj, wbits variants, errors."""
import zlib
data = b"The quick brown fox jumps over the lazy dog. " * 50
print("ZLIB_VERSION", zlib.ZLIB_VERSION, "runtime", zlib.ZLIB_RUNTIME_VERSION)
print("crc32", zlib.crc32(data), zlib.crc32(b""), zlib.crc32(b"abc", 12345))
print("adler32", zlib.adler32(data), zlib.adler32(b""))
for level in range(-1, 10):
    c = zlib.compress(data, level)
    assert zlib.decompress(c) == data
    print("level", level, len(c), c[:16].hex())
for wbits in (9, 15, -15, 31, 25):
    co = zlib.compressobj(6, zlib.DEFLATED, wbits)
    c = co.compress(data) + co.flush()
    do = zlib.decompressobj(wbits if wbits > 0 else wbits)
    print("wbits", wbits, len(c), c[:4].hex(), do.decompress(c) == data, do.eof)
co = zlib.compressobj()
parts = [co.compress(data[i:i + 100]) for i in range(0, len(data), 100)]
parts.append(co.flush(zlib.Z_SYNC_FLUSH))
parts.append(co.flush())
stream = b"".join(parts)
do = zlib.decompressobj()
out = b"".join(do.decompress(stream[i:i + 7]) for i in range(0, len(stream), 7)) + do.flush()
print("streaming", len(stream), out == data, do.eof)
d = zlib.decompressobj()
print("max_length", len(d.decompress(zlib.compress(data), 10)), len(d.unconsumed_tail) > 0)
try:
    zlib.decompress(b"not zlib data")
except zlib.error as e:
    print("error", e)
zd = zlib.compressobj(zdict=b"quick brown fox lazy dog")
c = zd.compress(data) + zd.flush()
print("zdict", len(c), zlib.decompressobj(zdict=b"quick brown fox lazy dog").decompress(c) == data)
big = bytes(range(256)) * 40000
print("big", len(zlib.compress(big)), zlib.crc32(big))
