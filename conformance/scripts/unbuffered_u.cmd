-u
unbuffered_u.py
