"""Uncaught KeyboardInterrupt raised by the program: status 130 (CPython re-raises SIGINT; under Emscripten the exit code path), traceback on stderr."""
print("raising KeyboardInterrupt")
raise KeyboardInterrupt
