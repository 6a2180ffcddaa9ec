does_not_exist.py
