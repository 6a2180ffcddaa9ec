"""math and cmath functions at fixed inputs (libm results as repr), special cases and domain errors."""
import cmath, math
xs = [0.5, 1.0, 2.0, 10.0, 1e-10, 100.0]
for name in ["sqrt", "exp", "log", "log10", "log2", "log1p", "expm1", "sin", "cos", "tan", "asinh", "atan", "sinh", "cosh", "tanh", "gamma", "lgamma", "erf", "erfc", "cbrt", "exp2"]:
    f = getattr(math, name, None)
    if f is None:
        print(name, "missing")
        continue
    print(name, [repr(f(x)) for x in xs])
print("asin acos atanh", math.asin(0.5), math.acos(0.5), math.atanh(0.5), math.acosh(2.0))
print("atan2", math.atan2(1, -1), math.atan2(-0.0, -1), math.atan2(0.0, -0.0))
print("pow", math.pow(2, 0.5), 10 ** -2, math.pow(0, 0), 2 ** 0.5)
print("hypot dist", math.hypot(3, 4), math.hypot(1e200, 1e200), math.dist((0, 0, 0), (1, 2, 2)))
print("constants", math.pi, math.e, math.tau, math.inf, math.nan)
print("prod sumprod", math.prod([1.5, 2, 3]), math.sumprod([1, 2, 3], [4, 5, 6]) if hasattr(math, "sumprod") else "")
print("fma", math.fma(2.0, 3.0, 1.0) if hasattr(math, "fma") else "n/a")
print("frexp ldexp modf", math.frexp(1234.5), math.ldexp(0.5, 10), math.modf(-3.75), math.copysign(1, -0.0))
print("isclose", math.isclose(1.0, 1.0 + 1e-10), math.isfinite(math.inf), math.isnan(math.nan), math.isinf(-math.inf))
print("degrees radians", math.degrees(math.pi), math.radians(180))
print("remainder", math.remainder(10, 3), math.remainder(11, 3))
for bad in [lambda: math.sqrt(-1), lambda: math.log(0), lambda: math.acos(2), lambda: math.exp(1000), lambda: math.gamma(0)]:
    try:
        print("no error", bad())
    except (ValueError, OverflowError) as e:
        print(type(e).__name__, e)
print("cmath", cmath.sqrt(-1), cmath.exp(1j * math.pi), cmath.phase(-1 + 0j), cmath.polar(1 + 1j), cmath.log(-1))
print("complex", (1 + 2j) * (3 - 4j), (1 + 2j) / (3 - 4j), abs(3 + 4j), complex("1+2j"), (2j) ** 0.5)
