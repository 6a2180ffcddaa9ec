"""base64 (b64/urlsafe/b32/b32hex/b16/b85/a85/z85), binascii (hexlify, crc32, crc_hqx, a2b/b2a variants), quopri/uu-free codecs, errors on bad input."""
import base64, binascii, codecs, quopri
data = bytes(range(0, 256, 7)) + b"hello?>"
for fn in ["b64encode", "urlsafe_b64encode", "b32encode", "b32hexencode", "b16encode", "b85encode", "a85encode", "z85encode"]:
    f = getattr(base64, fn, None)
    if f is None:
        print(fn, "missing"); continue
    enc = f(data)
    dec = getattr(base64, fn.replace("encode", "decode"))(enc)
    print(fn, enc, dec == data)
print("encodebytes", base64.encodebytes(data * 3))
print("standard_b64decode", base64.standard_b64decode("aGVsbG8="), base64.b64decode("aGVs\nbG8=", validate=False))
for bad in ["abc", "a===", "!!!!"]:
    try:
        print("b64decode", bad, base64.b64decode(bad, validate=True))
    except binascii.Error as e:
        print("b64decode", repr(bad), "binascii.Error", e)
print("hexlify", binascii.hexlify(b"\x00\xffab", "-", 2), binascii.unhexlify("deadBEEF"), bytes.fromhex("de ad"), b"\x01\x02".hex(":"))
print("crc32", binascii.crc32(data), binascii.crc_hqx(data, 0))
print("b2a_base64", binascii.b2a_base64(b"x", newline=False), binascii.a2b_base64(b"eA=="), binascii.b2a_qp(b"caf\xe9 = x\n"), binascii.a2b_qp(b"caf=E9"))
print("quopri", quopri.encodestring("héllo wörld\t\n".encode()), quopri.decodestring(b"h=C3=A9"))
print("codecs", codecs.encode(b"hello", "hex"), codecs.decode("68656c6c6f", "hex"), codecs.encode("Hello", "rot13"), codecs.encode(b"abc", "base64"), len(codecs.encode(b"x" * 100, "zlib")))
print("punycode/idna", "bücher".encode("punycode"), "bücher.example".encode("idna"))
try:
    binascii.unhexlify("abc")
except binascii.Error as e:
    print("odd hex", e)
