"""sys.argv from the companion argv_echo.args (one argument per line: spaces, empty strings, unicode, dashes kept verbatim); sys.orig_argv shape; __main__ facts."""
import sys
print("argv", sys.argv)
print("orig_argv tail", sys.orig_argv[1:])
print("__name__", __name__, "__file__", __file__)
print("main module spec", __spec__)
print("sys.path[0]", sys.path[0])
