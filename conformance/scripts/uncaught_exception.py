"""Uncaught exception: traceback (with chained cause and notes) on stderr, status 1, stdout flushed before."""
def inner():
    raise KeyError("missing key")
def outer():
    try:
        inner()
    except KeyError as e:
        err = ValueError("wrapped")
        err.add_note("a note for the traceback")
        raise err from e
print("about to fail")
outer()
