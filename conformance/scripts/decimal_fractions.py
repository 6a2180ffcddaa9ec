"""decimal (contexts, precision, rounding, quantize, special values, traps) and fractions (arithmetic, limit_denominator, from_float)."""
import decimal
from decimal import Decimal as D, localcontext, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_DOWN
from fractions import Fraction as F
print("getcontext", decimal.getcontext())
print(D("1.1") + D("2.2"), D(1) / D(7), D(2).sqrt(), D(10).ln(), D("1e-3").exp())
with localcontext() as ctx:
    ctx.prec = 50
    print("prec50", D(1) / D(7), D(2).sqrt())
for r in (ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_DOWN):
    print(r, [str(D(x).quantize(D("1"), rounding=r)) for x in ("0.5", "1.5", "2.5", "-2.5")])
print("quantize", D("3.14159").quantize(D("0.01")), D("1234.5678").to_integral_value(), D("12.3400").normalize())
print("special", D("inf"), D("-inf") < 0, D("nan").is_nan(), D("-0") == 0, D("sNaN").is_snan())
print("from_float", D(0.1), D.from_float(0.5), D((0, (1, 4), -1)))
print("as_tuple", D("-12.345").as_tuple(), D("1.20").as_integer_ratio())
try:
    D(1) / D(0)
except decimal.DivisionByZero as e:
    print("DivisionByZero", type(e).__name__)
try:
    D("abc")
except decimal.InvalidOperation as e:
    print("InvalidOperation", type(e).__name__)
with localcontext(traps=[]) as ctx:
    ctx.traps[decimal.DivisionByZero] = False
    print("untrapped", D(1) / D(0), ctx.flags[decimal.DivisionByZero])
print("format", f"{D('1234567.891'):,.2f}", f"{D('0.000012345'):.3e}", format(D("1.5"), "%"))
print("big", D(2) ** 200, D("9" * 40) + 1)
print("compare", D("1.0") == D("1.00"), D("1.0").compare_total(D("1.00")), hash(D("1.0")) == hash(1))
print(F(1, 3) + F(1, 6), F(3, 4) * F(2, 3), F(7, 2) // 1, F(-7, 2) % 3, F(1, 3) ** 2, F(2) ** F(1, 2))
print("from str", F("3.1415"), F("-2/6"), F(0.1), F(0.1).limit_denominator(100), F(D("0.125")))
print("math", float(F(22, 7)), round(F(5, 2)), round(F(7, 3), 2), F(10, 4).as_integer_ratio(), F(3, 4).is_integer())
print("format", f"{F(1, 3):.5f}", format(F(22, 7), ".3e") if hasattr(F, "__format__") else "")
