"""`python --version` (companion .cmd): "Python 3.14.2" on stdout, status 0; exits before any script runs."""
