"""weakref and gc: refs die on del, WeakValueDictionary/WeakKeyDictionary/WeakSet, finalize, callbacks, gc.collect of cycles with __del__, gc thresholds/isenabled, sys.getrefcount relations."""
import gc, sys, weakref
class Obj:
    def __init__(self, n): self.n = n
    def __repr__(self): return f"Obj({self.n})"
o = Obj(1)
events = []
r = weakref.ref(o, lambda ref: events.append("callback"))
print("alive", r(), weakref.getweakrefcount(o))
del o
print("dead", r(), events)
d = weakref.WeakValueDictionary()
keep = Obj(2)
d["a"] = keep; d["b"] = Obj(3)
print("WeakValueDictionary", sorted(d.keys()))
wk = weakref.WeakKeyDictionary(); k = Obj(4); wk[k] = "v"; print("WeakKeyDictionary", len(wk)); del k; print(len(wk))
ws = weakref.WeakSet([keep]); print("WeakSet", len(ws))
f = weakref.finalize(keep, events.append, "finalized")
del keep, d, ws
print("finalize", events, f.alive)
class Cyc:
    def __del__(self): events.append("del cyc")
a, b = Cyc(), Cyc()
a.other, b.other = b, a
del a, b
print("collected >= 2", gc.collect() >= 2, events.count("del cyc"))
print("isenabled", gc.isenabled(), "thresholds", gc.get_threshold(), "garbage", gc.garbage)
gc.disable(); print("disabled", gc.isenabled()); gc.enable()
x = Obj(6); px = weakref.proxy(x); print("proxy", px.n); del x
try:
    px.n
except ReferenceError as e:
    print("ReferenceError", e)
try:
    weakref.ref(1)
except TypeError as e:
    print("TypeError", e)
lst = []
print("refcount relation", sys.getrefcount(lst) >= 2)
print("gc.get_stats len", len(gc.get_stats()), "freeze", hasattr(gc, "freeze"))
