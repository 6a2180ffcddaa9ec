-c
import sys; print(sys.argv); print(repr(sys.path[0])); print("__file__" in globals()); print(__name__)
extra
--opt
