"""Big integers: huge pow, pow with modulus/negative exponent, int<->str digit limit (ValueError), set_int_max_str_digits, bit ops, to/from_bytes, hash, math.isqrt/factorial/comb."""
import hashlib, math, sys
n = 3 ** 100000
print("3**100000 bit_length", n.bit_length(), "mod", n % 1000000007)
print("2**4000 hex tail", hex(2 ** 4000 - 1)[-20:], len(hex(2 ** 4000)))
print("pow mod", pow(7, 10 ** 18, 10 ** 9 + 7), pow(3, -1, 11), pow(123456789, 987654321, 2 ** 127 - 1))
print("int_info", sys.int_info)
print("default max str digits", sys.get_int_max_str_digits())
try:
    str(10 ** 5000)
except ValueError as e:
    print("str limit:", e)
try:
    int("1" * 5000)
except ValueError as e:
    print("int limit:", e)
sys.set_int_max_str_digits(0)
s = str(7 ** 20000)
print("unlimited len", len(s), hashlib.sha256(s.encode()).hexdigest()[:16])
print("roundtrip", int(s) == 7 ** 20000)
sys.set_int_max_str_digits(640)
print("limit 640 ok", len(str(10 ** 639)))
sys.set_int_max_str_digits(0)
print("hex no limit", len(hex(10 ** 10000)), int("f" * 10000, 16).bit_length())
print("to_bytes", (2 ** 70 + 5).to_bytes(10, "big").hex(), (-1).to_bytes(3, "little", signed=True).hex(), int.from_bytes(b"\x01\x00\xff", "little"))
print("bit_count", (2 ** 100 - 1).bit_count(), (-(2 ** 65)) >> 3, (1 << 200) >> 198, ~(2 ** 64))
print("divmod", divmod(-(10 ** 30) - 7, 10 ** 15 + 3), (10 ** 50) // -(7))
print("hash", hash(2 ** 61 - 1), hash(2 ** 61), hash(-(2 ** 100)), hash(-1), sys.hash_info.modulus)
print("isqrt", math.isqrt(10 ** 100 + 12345), "factorial(500) digits", len(str(math.factorial(500))))
print("comb", math.comb(1000, 500) % (10 ** 12), "gcd", math.gcd(2 ** 100, 6 ** 60), "lcm", math.lcm(12, 18, 2 ** 70) % 1000)
print("float conv", float(2 ** 1023))
try:
    float(2 ** 1024)
except OverflowError as e:
    print("OverflowError", e)
print("true div", (10 ** 400) / (10 ** 399), 2 ** 53 + 1 == float(2 ** 53 + 1))
print("sys.maxsize", sys.maxsize, "2**31", 2 ** 31)
