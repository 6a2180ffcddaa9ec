"""struct: pack/unpack every format code, byte orders and alignment, calcsize, pack_into/unpack_from/iter_unpack, errors; array module."""
import array, struct
print("calcsize", {f: struct.calcsize(f) for f in ["b", "h", "i", "l", "q", "n", "P", "f", "d", "e", "?", "x", "c", "s", "5s", "@bi", "=bi", "<bi", ">bi", "!bi", "@iq", "@ci", "@bd"]})
print("native byteorder pack", struct.pack("i", 1).hex(), struct.pack("l", -1).hex(), struct.pack("P", 0x1234).hex())
vals = [("<b", -5), ("<B", 250), ("<h", -30000), ("<H", 65000), ("<i", -2 ** 31), ("<I", 2 ** 32 - 1), ("<q", -2 ** 63), ("<Q", 2 ** 64 - 1), (">f", 1.1), ("<d", -0.1), ("<e", 65504.0), ("?", True), ("c", b"z"), ("3s", b"abcd"), ("5p", b"hi")]
for fmt, v in vals:
    b = struct.pack(fmt, v)
    print(fmt, b.hex(), struct.unpack(fmt, b))
s = struct.Struct(">IHb3x8s")
packed = s.pack(0xDEADBEEF, 513, -1, b"name")
print("Struct", s.size, packed.hex(), s.unpack(packed))
buf = bytearray(16)
struct.pack_into("<2i", buf, 4, 7, -7)
print("pack_into", buf.hex(), struct.unpack_from("<i", buf, 8))
print("iter_unpack", list(struct.iter_unpack("<H", b"\x01\x00\x02\x00\x03\x00")))
for fmt, v in [("<b", 200), ("<H", -1), ("<i", 2 ** 40), ("<f", 1e300)]:
    try:
        struct.pack(fmt, v)
        print(fmt, v, "no error")
    except (struct.error, OverflowError) as e:
        print(fmt, v, type(e).__name__, e)
try:
    struct.unpack("<i", b"abc")
except struct.error as e:
    print("unpack short:", e)
a = array.array("i", range(5))
a.byteswap()
print("array", a.itemsize, a.tobytes().hex(), array.array("d", [1.5, -2]).tobytes().hex(), array.array("u", "hi").itemsize, array.typecodes)
print("array l/q", array.array("l").itemsize, array.array("q").itemsize)
