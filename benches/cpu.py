"""The CPU set: six workloads, each timed as the best of 3 inside one process.

Run the same file under every runtime compared (native CPython, Pyodide
under Node, Pyodide under pyodide-test); it prints one JSON object:
{"name": seconds, ...}. `python cpu.py NAME...` runs only those workloads.
"""

import json
import re
import sys
import time


def nbody(steps=40_000):
    """An n-body loop over 5 bodies (the Sun and the four giant planets)."""
    pi = 3.14159265358979323
    days = 365.24
    mass = 4 * pi * pi
    bodies = [
        [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], mass],
        [[4.84143144246472090e00, -1.16032004402742839e00, -1.03622044471123109e-01],
         [1.66007664274403694e-03 * days, 7.69901118419740425e-03 * days,
          -6.90460016972063023e-05 * days], 9.54791938424326609e-04 * mass],
        [[8.34336671824457987e00, 4.12479856412430479e00, -4.03523417114321381e-01],
         [-2.76742510726862411e-03 * days, 4.99852801234917238e-03 * days,
          2.30417297573763929e-05 * days], 2.85885980666130812e-04 * mass],
        [[1.28943695621391310e01, -1.51111514016986312e01, -2.23307578892655734e-01],
         [2.96460137564761618e-03 * days, 2.37847173959480950e-03 * days,
          -2.96589568540237556e-05 * days], 4.36624404335156298e-05 * mass],
        [[1.53796971148509165e01, -2.59193146099879641e01, 1.79258772950371181e-01],
         [2.68067772490389322e-03 * days, 1.62824170038242295e-03 * days,
          -9.51592254519715870e-05 * days], 5.15138902046611451e-05 * mass],
    ]
    pairs = [(bodies[i], bodies[j]) for i in range(5) for j in range(i + 1, 5)]
    dt = 0.01
    for _ in range(steps):
        for ([x1, y1, z1], v1, m1), ([x2, y2, z2], v2, m2) in pairs:
            dx, dy, dz = x1 - x2, y1 - y2, z1 - z2
            mag = dt * ((dx * dx + dy * dy + dz * dz) ** -1.5)
            b1, b2 = m1 * mag, m2 * mag
            v1[0] -= dx * b2
            v1[1] -= dy * b2
            v1[2] -= dz * b2
            v2[0] += dx * b1
            v2[1] += dy * b1
            v2[2] += dz * b1
        for r, [vx, vy, vz], _m in bodies:
            r[0] += dt * vx
            r[1] += dt * vy
            r[2] += dt * vz
    return bodies[0][0][0]


def json_roundtrip(n=5_000):
    """`json.loads(json.dumps(d))` of a small nested dict."""
    d = {
        "name": "pyodide-test",
        "version": [314, 0, 7],
        "flags": {"fast": True, "safe": None, "ratio": 0.94},
        "items": [{"id": i, "tags": ["a", "b", str(i)]} for i in range(8)],
    }
    out = None
    for _ in range(n):
        out = json.loads(json.dumps(d))
    return out


TEXT = " ".join(
    f"user{i}@example{i % 7}.org text {i} more words here, name.last{i}@mail.test;"
    for i in range(40)
)[:2048]
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def regex(n=2_000):
    """A compiled regex `findall` of e-mail addresses over a 2 KB text."""
    found = None
    for _ in range(n):
        found = EMAIL.findall(TEXT)
    return len(found)


def bigint(steps=40_000):
    """Modular multiplication of a 400-digit integer."""
    m = 10**400 + 267
    x = 3**838 % m
    y = x
    for _ in range(steps):
        y = y * x % m
    return y % 1000


def strings(n=5_000):
    """Building and splitting a 200-item string."""
    total = 0
    for _ in range(n):
        s = ",".join(str(i * 7) for i in range(200))
        total += len(s.split(","))
    return total


class Counter:
    def __init__(self):
        self.n = 0

    def bump(self):
        self.n += 1


def calls(n=1_000_000):
    """A bound-method call."""
    c = Counter()
    bump = c.bump
    for _ in range(n):
        bump()
    return c.n


WORKLOADS = {
    "nbody": nbody,
    "json": json_roundtrip,
    "regex": regex,
    "bigint": bigint,
    "strings": strings,
    "calls": calls,
}


def main(names):
    result = {}
    for name in names or WORKLOADS:
        fn = WORKLOADS[name]
        best = None
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            t = time.perf_counter() - t0
            best = t if best is None else min(best, t)
        result[name] = round(best, 4)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
