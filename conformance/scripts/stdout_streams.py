"""stdout/stderr plumbing: bytes via sys.stdout.buffer, partial lines, explicit flush ordering, non-ASCII, surrogates (errors=), print(file=sys.stderr), os.write(1), no trailing newline at the end."""
import os, sys
sys.stdout.write("partial ")
sys.stdout.write("line\n")
sys.stdout.flush()
os.write(1, b"os.write to fd 1\n")
sys.stdout.buffer.write(b"raw bytes \xe2\x9c\x93 and invalid \xff\n")
sys.stdout.buffer.flush()
print("unicode: é ü 中 😀")
try:
    print("lone surrogate \udc80")
except UnicodeEncodeError as e:
    print("UnicodeEncodeError", e.reason)
print("to stderr", file=sys.stderr)
print("stdout errors", sys.stdout.errors, "stderr errors", sys.stderr.errors)
print("sep/end", 1, 2, 3, sep="|", end="<end>\n")
print("\x00NUL\tTAB\rCR")
sys.stdout.write("big:" + "x" * 100000 + "\n")
sys.stdout.write("no trailing newline")
