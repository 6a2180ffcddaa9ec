"""`python -` reads the program itself from stdin (companion .cmd is `-`, .stdin is the program)."""
