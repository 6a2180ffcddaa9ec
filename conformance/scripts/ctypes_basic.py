"""ctypes: CDLL(None) symbols, calls into libc (strlen, abs, atoi, strcmp, toupper), c_int arithmetic/overflow, structures/unions/arrays, create_string_buffer, memmove/memset, pointers, CFUNCTYPE callback through qsort, sizeof/alignment."""
import ctypes, ctypes.util
print("find_library c", ctypes.util.find_library("c"))
libc = ctypes.CDLL(None)
try:
    ctypes.CDLL("libdoesnotexist.so")
except OSError as e:
    print("missing lib: OSError")
print("strlen", libc.strlen(b"hello"), "abs", libc.abs(-42), "atoi", libc.atoi(b"  123xyz"), "toupper", chr(libc.toupper(ord("q"))))
print("strcmp", libc.strcmp(b"abc", b"abd") < 0, libc.strcmp(b"b", b"a") > 0)
libc.labs.restype = ctypes.c_long
libc.labs.argtypes = [ctypes.c_long]
print("labs", libc.labs(-2 ** 31 + 1))
print("c_int wrap", ctypes.c_int(2 ** 31).value, ctypes.c_uint8(300).value, ctypes.c_int16(-1).value, ctypes.c_uint(-1).value)
print("c_double", ctypes.c_double(1.5).value, ctypes.c_float(0.1).value, ctypes.c_longdouble(1.25).value)
print("sizeof", [ctypes.sizeof(t) for t in (ctypes.c_char, ctypes.c_short, ctypes.c_int, ctypes.c_long, ctypes.c_longlong, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_double, ctypes.c_longdouble, ctypes.c_wchar)])
class Point(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_double), ("tag", ctypes.c_char * 3)]
class U(ctypes.Union):
    _fields_ = [("i", ctypes.c_uint32), ("b", ctypes.c_uint8 * 4)]
p = Point(1, 2.5, b"ab")
print("struct", p.x, p.y, p.tag, ctypes.sizeof(Point), ctypes.alignment(Point), Point.y.offset)
u = U(0x01020304)
print("union bytes", list(u.b))
buf = ctypes.create_string_buffer(b"hello", 10)
print("buffer", buf.raw, buf.value, ctypes.sizeof(buf))
ctypes.memmove(buf, b"HE", 2)
ctypes.memset(ctypes.byref(buf, 5), ord("!"), 3)
print("memmove/memset", buf.raw)
wbuf = ctypes.create_unicode_buffer("wide", 8)
print("unicode buffer", wbuf.value, ctypes.sizeof(wbuf))
arr = (ctypes.c_int * 6)(5, -1, 4, 2, 9, 3)
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
calls = []
def cmp(a, b):
    calls.append(1)
    return a[0] - b[0]
libc.qsort(arr, len(arr), ctypes.sizeof(ctypes.c_int), CMP(cmp))
print("qsort", list(arr), "callback called", len(calls) > 0)
ip = ctypes.pointer(ctypes.c_int(7))
ip.contents.value += 1
print("pointer", ip.contents.value, ip[0], bool(ctypes.POINTER(ctypes.c_int)()))
print("cast", ctypes.cast(ctypes.c_char_p(b"xyz"), ctypes.c_void_p).value is not None, ctypes.string_at(ctypes.c_char_p(b"xyz")), ctypes.string_at(buf, 3))
print("from_buffer", ctypes.c_uint16.from_buffer(bytearray(b"\x01\x02")).value, ctypes.c_uint32.from_buffer_copy(b"\xff\x00\x00\x00").value)
print("sprintf", end=" ")
out = ctypes.create_string_buffer(64)
libc.sprintf(out, b"%d-%s-%.2f", 42, b"str", ctypes.c_double(3.14159))
print(out.value)
print("pythonapi", ctypes.pythonapi.Py_IsInitialized())
print("get_errno", ctypes.get_errno())
