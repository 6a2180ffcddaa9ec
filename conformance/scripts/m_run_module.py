"""Run this file as a module with `-m m_run_module arg1 arg2` (companion .cmd): __name__, __spec__, sys.argv[0] is the full path, sys.path[0] is the cwd."""
import sys
print("__name__", __name__)
print("__spec__.name", __spec__.name)
print("argv", sys.argv)
print("path0", sys.path[0])
