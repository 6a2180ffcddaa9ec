"""`python -u` (companion .cmd): sys.flags.unbuffered, stdout/stderr write_through, output interleaving of stdout and os.write."""
import os, sys
print("write_through", sys.stdout.write_through, sys.stderr.write_through, "line_buffering", sys.stdout.line_buffering)
print("first", end="")
os.write(1, b"[os]")
print(" second")
print("stdout buffer type", type(sys.stdout.buffer).__name__)
