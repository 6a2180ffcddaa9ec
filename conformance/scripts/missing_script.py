"""`python does_not_exist.py` (companion .cmd): "can't open file ... [Errno 44]" on stderr, status 2."""
