"""pickle: round trips of builtin and custom objects over all protocols, exact bytes of protocol 0/2/5 dumps, __reduce__/__getstate__, recursive structures, errors; copy/copyreg/marshal."""
import copy, marshal, pickle
from collections import OrderedDict
from fractions import Fraction
class Pt:
    def __init__(self, x, y): self.x, self.y = x, y
    def __eq__(self, o): return (self.x, self.y) == (o.x, o.y)
    def __repr__(self): return f"Pt({self.x}, {self.y})"
class Slots:
    __slots__ = ("a", "b")
    def __init__(self): self.a, self.b = 1, [2]
obj = {"int": 2 ** 100, "float": -1.5, "str": "héllo", "bytes": b"\x00\xff", "tuple": (1, (2, 3)), "set": {1, 2}, "fs": frozenset("ab"), "none": None, "pt": Pt(1, 2), "od": OrderedDict(a=1), "frac": Fraction(1, 3), "cplx": 1 + 2j, "ba": bytearray(b"x")}
print("HIGHEST", pickle.HIGHEST_PROTOCOL, "DEFAULT", pickle.DEFAULT_PROTOCOL)
for proto in range(pickle.HIGHEST_PROTOCOL + 1):
    data = pickle.dumps(obj, protocol=proto)
    print("protocol", proto, len(data), pickle.loads(data) == obj)
print("p0", pickle.dumps([1, "a", None], protocol=0))
print("p2", pickle.dumps((1, 2.5, "x"), protocol=2).hex())
print("p5", pickle.dumps({"k": [True, b"b"]}, protocol=5).hex())
l = [1]; l.append(l)
r = pickle.loads(pickle.dumps(l))
print("recursive", r[1] is r)
s = pickle.loads(pickle.dumps(Slots()))
print("slots", s.a, s.b)
try:
    pickle.dumps(lambda: 0)
except (pickle.PicklingError, AttributeError) as e:
    print("lambda", type(e).__name__)
try:
    pickle.loads(b"not a pickle")
except pickle.UnpicklingError as e:
    print("UnpicklingError", e)
print("deepcopy", copy.deepcopy(obj) == obj, copy.copy(Pt(3, 4)))
print("marshal", marshal.dumps((1, "a", b"b", 2.5)).hex(), marshal.loads(marshal.dumps([1, {2: 3}])), marshal.version)
code = compile("x = 1 + 2", "<m>", "exec")
ns = {}; exec(marshal.loads(marshal.dumps(code)), ns); print("marshal code", ns["x"])
