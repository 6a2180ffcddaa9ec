"""stdin: read lines from sys.stdin (companion stdin_lines.stdin), input(), sys.stdin.buffer, EOF handling, isatty."""
import sys
print("stdin isatty", sys.stdin.isatty(), "encoding", sys.stdin.encoding, "errors", sys.stdin.errors)
first = input()
print("input()", repr(first))
second = sys.stdin.readline()
print("readline", repr(second))
raw = sys.stdin.buffer.readline()
print("buffer.readline", raw)
rest = sys.stdin.readlines()
print("rest", len(rest), rest[:3], rest[-1:])
print("at EOF", repr(sys.stdin.read()), repr(sys.stdin.readline()))
try:
    input()
except EOFError as e:
    print("input at EOF -> EOFError", repr(str(e)))
total = sum(int(l.split()[-1]) for l in rest if l.strip() and l.split()[-1].isdigit())
print("sum of trailing numbers", total)
