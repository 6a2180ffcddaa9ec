"""Exit status: os._exit(5) ends the process immediately: flushed output appears, buffered output is lost, atexit and finally do not run."""
import atexit, os, sys
atexit.register(lambda: print("atexit must not run"))
print("flushed line", flush=True)
sys.stderr.write("stderr line\n")
print("buffered line that os._exit discards when stdout is not a tty")
try:
    os._exit(5)
finally:
    print("finally must not run")
