"""Exit status: sys.exit("message") -> message on stderr, status 1."""
import sys
print("stdout line")
sys.exit("fatal: something went wrong")
