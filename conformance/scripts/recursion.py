"""Recursion in Python code: sys.getrecursionlimit default, RecursionError caught, setrecursionlimit(5000) and depth 4500, deep generators, nested parentheses. (C-level recursion is in c_stack_deep.py.)"""
import sys
print("recursionlimit", sys.getrecursionlimit())
def depth(n):
    return depth(n + 1)
try:
    depth(0)
except RecursionError as e:
    print("RecursionError", e)
def count(n):
    return 0 if n == 0 else 1 + count(n - 1)
print("depth 900", count(900))
sys.setrecursionlimit(5000)
print("depth 4500", count(4500))
try:
    count(10 ** 6)
except RecursionError as e:
    print("still RecursionError at 1e6", type(e).__name__)
sys.setrecursionlimit(1000)
def gen(n):
    if n:
        yield from gen(n - 1)
    yield n
print("yield from depth 500", sum(gen(500)))
try:
    eval("(" * 300 + ")" * 300)
    print("nested parens ok")
except (RecursionError, SyntaxError, MemoryError) as e:
    print("nested parens", type(e).__name__)
