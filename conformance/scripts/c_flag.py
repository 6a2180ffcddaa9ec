"""`python -c CODE extra args` (companion .cmd): sys.argv is ['-c', ...], sys.path[0] is '', __file__ undefined."""
