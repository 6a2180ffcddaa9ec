"""json: dumps options (indent, sort_keys, separators, ensure_ascii), loads edge cases, floats/NaN, big ints, errors with positions, custom encoders/hooks, dump/load with files."""
import json
from collections import OrderedDict
doc = {"b": [1, 2.5, None, True, False], "a": {"nested": "é\u2603\U0001f600", "empty": {}, "list": []}, "n": -0.0, "big": 10 ** 30, "f": 1e300}
print(json.dumps(doc))
print(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False))
print(json.dumps(doc, separators=(",", ":"), sort_keys=True))
print(json.dumps([float("nan"), float("inf"), -float("inf")]))
try:
    json.dumps(float("nan"), allow_nan=False)
except ValueError as e:
    print("allow_nan:", e)
print(json.loads('{"x": 1e400, "y": -1e-400, "z": 123456789012345678901234567890, "w": 1.0}'))
print(json.loads('[NaN, Infinity, -Infinity]'), json.loads('"\\ud83d\\ude00"'), json.loads('"\\u00e9"'))
for bad in ['{"a": 1,}', "[1, 2", "{'a': 1}", '"\\x"', "", "nul", '{"a" 1}', "[1] x"]:
    try:
        json.loads(bad)
    except json.JSONDecodeError as e:
        print("error", repr(bad), e.msg, e.pos, e.lineno, e.colno)
print(json.loads('{"a": 1.5, "b": [2]}', parse_float=str, object_pairs_hook=OrderedDict))
class Enc(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, set):
            return sorted(o)
        return super().default(o)
print(json.dumps({"s": {3, 1, 2}}, cls=Enc))
try:
    json.dumps({"o": object()})
except TypeError as e:
    print("TypeError:", str(e).split(" at ")[0])
print(json.dumps({1: "int key", True: "bool", None: "none", 2.5: "float"}))
with open("d.json", "w") as f:
    json.dump(doc, f, indent=1)
with open("d.json") as f:
    print(json.load(f) == doc)
print(json.dumps("\x00\x1f\x7f\u2028"), json.dumps("tab\tquote\"back\\slash/"))
