"""Exit status: raise SystemExit(0) and SystemExit(None) semantics -> status 0; code attribute."""
try:
    raise SystemExit(None)
except SystemExit as e:
    print("SystemExit(None).code", e.code)
try:
    raise SystemExit(1, 2)
except SystemExit as e:
    print("SystemExit(1, 2).code", e.code)
print("exiting with 0")
raise SystemExit(0)
