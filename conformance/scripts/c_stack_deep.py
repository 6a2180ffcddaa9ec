# reference: cpython
"""C-level recursion depth (reference is native CPython: under Node 20 each of these exhausts V8's stack and Pyodide dies with a fatal "RangeError: Maximum call stack size exceeded", status 1): repr of a 100000-deep list, json.loads of 100000 nested arrays, pickle.dumps of a deep list, unbounded __getattr__ recursion (Python frames through a C slot). The wanted result is a RecursionError for each."""
import json, pickle
l = []
for _ in range(100000):
    l = [l]
class A:
    def __getattr__(self, name):
        return getattr(self, name + "x")
for label, fn in [("__getattr__", lambda: A().foo), ("repr", lambda: repr(l)), ("json.loads", lambda: json.loads("[" * 100000 + "]" * 100000)), ("pickle.dumps", lambda: pickle.dumps(l))]:
    try:
        fn()
        print(label, "no error")
    except RecursionError:
        print(label, "RecursionError")
