"""Imports from a directory written at run time: package with submodules, sys.path.insert, importlib.reload after modifying source, namespace packages, import errors, invalidate_caches, no __pycache__ (dont_write_bytecode)."""
import importlib, os, sys
root = "/tmp/rtimport"
os.makedirs(root + "/mypkg/sub")
os.makedirs(root + "/nspkg/part")
open(root + "/mypkg/__init__.py", "w").write("VALUE = 1\nfrom . import helper\n")
open(root + "/mypkg/helper.py", "w").write("def f():\n    return 'helper v1'\n")
open(root + "/mypkg/sub/__init__.py", "w").write("")
open(root + "/mypkg/sub/leaf.py", "w").write("from ..helper import f\nLEAF = f() + ' via leaf'\n")
open(root + "/nspkg/part/mod.py", "w").write("X = 'namespace'\n")
open(root + "/broken.py", "w").write("def oops(:\n")
open(root + "/raises.py", "w").write("raise RuntimeError('at import')\n")
sys.path.insert(0, root)
import mypkg, mypkg.helper
from mypkg.sub import leaf
print(mypkg.VALUE, mypkg.helper.f(), leaf.LEAF, mypkg.__file__, mypkg.__path__)
print("spec", mypkg.__spec__.name, mypkg.__spec__.origin, type(mypkg.__loader__).__name__)
open(root + "/mypkg/helper.py", "w").write("def f():\n    return 'helper v2 (longer so size changes)'\n")
importlib.invalidate_caches()
importlib.reload(mypkg.helper)
print("after reload", mypkg.helper.f())
from nspkg.part import mod
print("namespace", mod.X, list(sys.modules["nspkg"].__path__))
for name in ["broken", "raises", "does_not_exist", "mypkg.nope"]:
    try:
        importlib.import_module(name)
    except Exception as e:
        print("import", name, type(e).__name__, getattr(e, "name", None), str(e).splitlines()[0])
print("pycache written", sorted(d for d, ds, fs in os.walk(root) if "__pycache__" in ds), "dont_write_bytecode", sys.dont_write_bytecode)
open("local_mod.py", "w").write("WHERE = __file__\n")
import local_mod
print("cwd import", local_mod.WHERE)
open(root + "/late.py", "w").write("LATE = True\n")
importlib.invalidate_caches()
import late
print("late", late.LATE)
print("find_spec", importlib.util.find_spec("json").origin, importlib.util.find_spec("zlib").origin, importlib.util.find_spec("nothing_here"))
