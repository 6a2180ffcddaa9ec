"""Float formatting and parsing: repr shortest round-trip, str/format specs, float.hex/fromhex, inf/nan, rounding, sys.float_info, float_repr_style, locale-independent parsing."""
import math, sys
vals = [0.1, 0.2, 0.1 + 0.2, 1 / 3, 2 / 3, 1e16, 1e22, 1e-7, 123456789.123456789, 5e-324, 1.7976931348623157e308, -0.0, 2.5, 1e100, 12345678901234567890.0, 0.3]
for v in vals:
    print(repr(v), str(v), f"{v:.17g}", f"{v:e}", f"{v:.3f}", f"{v:g}", float(repr(v)) == v)
print("hex", (0.1).hex(), float.fromhex("0x1.999999999999ap-4"), (1.0).hex(), (-0.0).hex(), math.inf.hex() if hasattr(math.inf, "hex") else "")
print("inf nan", float("inf"), float("-inf"), float("nan"), repr(float("nan")), float("  1e3 "), float("1_000.5"), float("-INFINITY"))
print("format", f"{1234567.891:,.2f}", f"{0.000123:.2%}", f"{12.5:+08.2f}", f"{3.0:#.0f}", f"{1e-5:}", f"{1e16:}", f"{123.456:10.1e}|", f"{2.5:n}")
print("round", round(2.5), round(3.5), round(-2.5), round(2.675, 2), round(1.23456e10, -5), round(0.5), round(1.5))
print("int conv", int(1e20), int(-3.99), math.trunc(2.7), math.floor(-2.5), math.ceil(-2.5))
print("float_info", sys.float_info)
print("float_repr_style", sys.float_repr_style)
print("as_integer_ratio", (0.75).as_integer_ratio(), (0.1).as_integer_ratio())
print("is_integer", (3.0).is_integer(), (3.5).is_integer())
print("fsum vs sum", math.fsum([0.1] * 10), sum([0.1] * 10))
print("divmod", divmod(7.5, 2), divmod(-7.5, 2), 7.5 % -2, math.fmod(-7.5, 2))
try:
    1.0 / 0.0
except ZeroDivisionError as e:
    print("ZeroDivisionError", e)
print("overflow", 1e308 * 10, -1e308 * 10, 2.0 ** 1023)
try:
    2.0 ** 1024
except OverflowError as e:
    print("OverflowError", e)
print("subnormal", 5e-324 / 2, sys.float_info.min / 2 > 0, math.nextafter(0, 1), math.ulp(1.0))
print("str->float edge", float("4.9406564584124654e-324"), float("2.2250738585072011e-308"), float("9007199254740993"))
