"""Exit status: sys.exit(263) -> the process status is 263 & 0xff = 7 (POSIX wait status truncation)."""
import sys
print("exit with 263")
sys.exit(263)
