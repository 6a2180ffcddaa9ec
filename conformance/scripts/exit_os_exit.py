"""Exit status: os._exit(5) ends the process at once: atexit and finally do not run; a print without flush= still appears because Pyodide's sys.stdout is line-buffered even when not a tty (CPython would lose it)."""
import atexit, os, sys
atexit.register(lambda: print("atexit must not run"))
print("flushed line", flush=True)
sys.stderr.write("stderr line\n")
print("unflushed line (kept: Pyodide's stdout is line-buffered even when it is not a tty)")
try:
    os._exit(5)
finally:
    print("finally must not run")
