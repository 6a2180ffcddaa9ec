"""Randomness sources: os.urandom/getrandom lengths and types, secrets token lengths, seeded random reproducible values, /dev/urandom read."""
import os, random, secrets
for n in (0, 1, 16, 1000, 65536, 1 << 20):
    b = os.urandom(n)
    print("urandom", n, len(b), type(b).__name__)
print("two draws differ", os.urandom(32) != os.urandom(32))
if hasattr(os, "getrandom"):
    print("getrandom", len(os.getrandom(10)))
print("secrets", len(secrets.token_bytes(8)), len(secrets.token_hex(8)), len(secrets.token_urlsafe(8)) > 0)
r = random.Random(12345)
print("seeded", r.random(), r.randint(0, 10**6), r.choice("abcdef"), r.getrandbits(70))
r.seed("a string seed")
print("str seed", r.random())
l = list(range(10)); r.shuffle(l); print("shuffle", l)
print("gauss", r.gauss(0, 1), "sample", r.sample(range(100), 5))
random.seed(7)
print("module seeded", random.random(), random.randrange(1000))
with open("/dev/urandom", "rb") as f:
    print("/dev/urandom", len(f.read(64)))
with open("/dev/random", "rb") as f:
    print("/dev/random", len(f.read(16)))
print("SystemRandom", 0 <= random.SystemRandom().random() < 1)
