"""time module: gmtime/localtime of fixed epochs, mktime/timegm, strftime/strptime, tzname/timezone/daylight, clocks (monotonic non-decreasing, perf_counter), sleep, clock info."""
import calendar, time
for t in (0, 86399, 951782400, 1234567890, 2 ** 31 - 1, 2 ** 31, 4102444800, -1, -86400 * 366):
    try:
        g = time.gmtime(t)
        print("gmtime", t, tuple(g), g.tm_zone, g.tm_gmtoff, calendar.timegm(g) == t)
    except (OverflowError, OSError) as e:
        print("gmtime", t, type(e).__name__, e)
for t in (0, 1234567890, 1700000000):
    l = time.localtime(t)
    print("localtime", t, tuple(l), l.tm_zone, l.tm_gmtoff, time.mktime(l))
print("tzname", time.tzname, "timezone", time.timezone, "altzone", time.altzone, "daylight", time.daylight)
g = time.gmtime(1234567890)
for fmt in ["%Y-%m-%d %H:%M:%S", "%a %A %b %B %c", "%d %j %U %W %w %y %p %I", "%x %X %%", "%Z %z", "%G-W%V-%u", "%e|%C|%D|%F|%T|%R|%h|%n|%t|%s"]:
    try:
        print("strftime", repr(fmt), repr(time.strftime(fmt, g)))
    except ValueError as e:
        print("strftime", repr(fmt), "ValueError", e)
print("asctime", time.asctime(g), "ctime(0)", time.ctime(0))
print("strptime", tuple(time.strptime("2024-02-29 13:45:01", "%Y-%m-%d %H:%M:%S")))
print("strptime %j", tuple(time.strptime("2023 100", "%Y %j"))[:3])
try:
    time.strptime("2023-02-30", "%Y-%m-%d")
except ValueError as e:
    print("strptime invalid:", e)
now = time.time()
print("time recent", now > 1.6e9, isinstance(time.time_ns(), int))
m = [time.monotonic() for _ in range(1000)]
print("monotonic non-decreasing", all(a <= b for a, b in zip(m, m[1:])))
p0 = time.perf_counter(); time.sleep(0.05); p1 = time.perf_counter()
print("sleep 0.05 took >= 0.04", p1 - p0 >= 0.04, "< 5", p1 - p0 < 5)
t0 = time.monotonic_ns(); time.sleep(0); print("sleep(0) ok", time.monotonic_ns() >= t0)
print("process_time type", type(time.process_time()).__name__, "thread_time", hasattr(time, "thread_time"))
for clk in ("monotonic", "perf_counter", "process_time", "time"):
    info = time.get_clock_info(clk)
    print("clock", clk, info.implementation, info.monotonic, info.adjustable)
print("clock_gettime", hasattr(time, "clock_gettime"), [n for n in ("CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_PROCESS_CPUTIME_ID", "CLOCK_THREAD_CPUTIME_ID") if hasattr(time, n)])
try:
    time.sleep(-1)
    print("sleep(-1) returned without error")
except ValueError as e:
    print("sleep(-1) ValueError", e)
