"""Command-line flags (companion .cmd: -I -X dev -X utf8 -O -B -W error::UserWarning): sys.flags, sys._xoptions, sys.path in isolated mode, warnings filters, __debug__."""
import sys, warnings
f = sys.flags
print("isolated", f.isolated, "ignore_environment", f.ignore_environment, "no_user_site", f.no_user_site, "safe_path", f.safe_path)
print("dev_mode", f.dev_mode, "utf8_mode", f.utf8_mode, "optimize", f.optimize, "dont_write_bytecode", f.dont_write_bytecode)
print("_xoptions", sorted(sys._xoptions.items()))
print("path", sys.path)
print("__debug__", __debug__)
print("first filters", [(a, c.__name__) for a, m, c, mod, l in warnings.filters[:2]])
try:
    warnings.warn("dep", UserWarning)
    print("no error")
except UserWarning as e:
    print("UserWarning raised", e)
