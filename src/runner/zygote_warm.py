# pyodide-test's zygote warm-up: what every zygote imports first, run once
# CPython is initialised and before its command line (the prelude), so
# that the guest's image can be taken here, where no call is under way.
# It must leave the kernel as it found it (no file written, none left open)
# and load no side module, or no image is taken. Nothing is left behind in
# __main__.
def _pyodide_test_warm():
    try:
        import pytest  # noqa: F401
        from _pytest.config import default_plugins

        for name in default_plugins:
            try:
                __import__("_pytest." + name)
            except Exception:
                pass
    except Exception:
        pass
    for name in ("pdb", "unittest"):
        try:
            __import__(name)
        except Exception:
            pass


_pyodide_test_warm()
del _pyodide_test_warm
