"""`python -m json.tool --sort-keys` on stdin (companion .cmd gives the python arguments, .stdin the JSON)."""
