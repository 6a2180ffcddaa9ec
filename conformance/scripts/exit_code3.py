"""Exit status: sys.exit(3) after output -> status 3, buffered stdout still flushed, finally blocks and atexit run."""
import atexit, sys
atexit.register(lambda: print("atexit ran"))
print("before exit", end="")
try:
    sys.exit(3)
finally:
    print(" | finally ran")
print("not reached")
