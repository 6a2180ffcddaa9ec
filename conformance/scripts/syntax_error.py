"""A script that does not compile: SyntaxError report on stderr, nothing on stdout, status 1."""
print("never printed")
def broken(:
    pass
