//! ctypes through the real binary: libffi's calls (`ffi_call_js`) and
//! closures (`ffi_prep_closure_loc_js`) as implemented in `src/host/ffi.rs`.
//!
//! Each case runs a Python snippet with `pyodide-test --dist $PYODIDE_DIST
//! python -c ...` and compares its stdout with what Pyodide 314.0.7 prints
//! under Node 20 for the same snippet (`node conformance/node/run.mjs
//! --dist DIST -c ...`), recorded here. The dist is `PYODIDE_DIST`, else
//! the default release (see `tests/common`).

mod common;

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

/// Run `code` with `python -c` (the dist comes from `PYODIDE_DIST` or the
/// default release, fetched once).
fn python(code: &str) -> Run {
    let out = common::python(&["-c", code], b"", None);
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Run `code`; it must exit 0 with exactly `expected` on stdout.
fn check(code: &str, expected: &str) {
    let run = python(code);
    assert_eq!(
        run.status, 0,
        "exit status {}\nstdout:\n{}\nstderr:\n{}",
        run.status, run.stdout, run.stderr
    );
    assert_eq!(run.stdout, expected, "stderr:\n{}", run.stderr);
}

#[test]
fn libc_calls_with_int_float_and_64_bit_types() {
    check(
        r#"
import ctypes
libc = ctypes.CDLL(None)
print("strlen", libc.strlen(b"hello world"))
print("abs", libc.abs(-42), "labs", libc.labs(-7), "atoi", libc.atoi(b"  -123xyz"))
libc.strtod.restype = ctypes.c_double
libc.strtod.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
print("strtod", libc.strtod(b"3.25e2rest", None))
libc.llabs.restype = ctypes.c_longlong
libc.llabs.argtypes = [ctypes.c_longlong]
print("llabs", libc.llabs(-(2**40 + 5)))
for name, t in [("fabs", ctypes.c_double), ("fabsf", ctypes.c_float)]:
    f = getattr(libc, name); f.restype = t; f.argtypes = [t]
    print(name, f(-2.5))
libc.ldexp.restype = ctypes.c_double
libc.ldexp.argtypes = [ctypes.c_double, ctypes.c_int]
print("ldexp", libc.ldexp(1.5, 10))
libc.strtoll.restype = ctypes.c_longlong
libc.strtoll.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
print("strtoll", libc.strtoll(b"-9000000000000", None, 10))
libc.strtoull.restype = ctypes.c_ulonglong
print("strtoull", libc.strtoull(b"18446744073709551615", None, 10))
libc.toupper.restype = ctypes.c_char
print("toupper c_char", libc.toupper(ord("a")))
libc.atoi.restype = ctypes.c_short
print("atoi short", libc.atoi(b"70000"))
libc.atoi.restype = ctypes.c_ubyte
print("atoi ubyte", libc.atoi(b"300"))
"#,
        "strlen 11
abs 42 labs 7 atoi -123
strtod 325.0
llabs 1099511627781
fabs 2.5
fabsf 2.5
ldexp 1536.0
strtoll -9000000000000
strtoull 18446744073709551615
toupper c_char b'A'
atoi short 4464
atoi ubyte 44
",
    );
}

/// Without `argtypes` ctypes makes a fixed-arity call, and the JS drops the
/// surplus arguments (snprintf reads its va_list from a bogus pointer); with
/// `argtypes` the extra arguments are variadic and go through memory.
#[test]
fn variadic_printf_family() {
    check(
        r#"
import ctypes
libc = ctypes.CDLL(None)
buf = ctypes.create_string_buffer(64)
n = libc.snprintf(buf, 64, b"%d|%s|%.3f|%c", 42, b"str", ctypes.c_double(3.14159), ord("Z"))
print("snprintf no argtypes", n, buf.value)
libc.snprintf.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p]
n = libc.snprintf(buf, 64, b"%d|%s|%.3f|%lld|%c", 42, b"str", ctypes.c_double(3.14159), ctypes.c_longlong(-2**40), ord("Z"))
print("snprintf varargs", n, buf.value)
libc.sprintf.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.sprintf(buf, b"%s-%s-%d", b"a", b"bc", -5)
print("sprintf varargs", buf.value)
"#,
        "snprintf no argtypes 16 b'0|(null)|0.000|'
snprintf varargs 29 b'42|str|3.142|-1099511627776|'
sprintf varargs b'a-bc--5'
",
    );
}

#[test]
fn callbacks_qsort_and_return_types() {
    let code = r#"
import ctypes
libc = ctypes.CDLL(None)
arr = (ctypes.c_int * 8)(5, -1, 4, 2, 9, 3, 100, -50)
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
calls = [0]
def cmp(a, b):
    calls[0] += 1
    return (a[0] > b[0]) - (a[0] < b[0])
libc.qsort.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, CMP]
libc.qsort(arr, len(arr), ctypes.sizeof(ctypes.c_int), CMP(cmp))
print("qsort", list(arr), calls[0] > 0)
darr = (ctypes.c_double * 5)(2.5, -1.0, 3.75, 0.0, -7.5)
DCMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_double))
ctypes.CDLL(None).qsort(darr, 5, 8, DCMP(lambda a, b: (a[0] < b[0]) - (a[0] > b[0])))
print("qsort desc doubles", list(darr))
DF = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double, ctypes.c_double)
f = DF(lambda x, y: x * y + 0.25)
print("double callback", f(1.5, 4.0))
FF = ctypes.CFUNCTYPE(ctypes.c_float, ctypes.c_float)
print("float callback", FF(lambda x: x / 3)(1.0))
LL = ctypes.CFUNCTYPE(ctypes.c_longlong, ctypes.c_longlong, ctypes.c_int8, ctypes.c_uint16)
print("longlong callback", LL(lambda a, b, c: a + b + c)(2**50, -3, 65535))
V = ctypes.CFUNCTYPE(None, ctypes.c_char_p)
got = []
V(lambda s: got.append(s))(b"text")
print("void callback", got)
def boom(x):
    raise ValueError("inside callback")
IC = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
print("raising callback", IC(boom)(3))
class Pt(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_double)]
SP = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.POINTER(Pt))
p = Pt(3, 0.5)
print("struct ptr callback", SP(lambda q: q[0].x + q[0].y)(ctypes.byref(p)))
SV = ctypes.CFUNCTYPE(ctypes.c_double, Pt)
print("struct value callback", SV(lambda q: q.x * q.y)(p))
cb = IC(lambda v: v * 2)
addr = ctypes.cast(cb, ctypes.c_void_p).value
print("closure via pointer", IC(addr)(21), addr > 0)
del cb
cb2 = IC(lambda v: v + 1)
print("reused", cb2(1))
"#;
    let run = python(code);
    assert_eq!(run.status, 0, "stderr:\n{}", run.stderr);
    assert_eq!(
        run.stdout,
        "qsort [-50, -1, 2, 3, 4, 5, 9, 100] True
qsort desc doubles [3.75, 2.5, 0.0, -1.0, -7.5]
double callback 6.25
float callback 0.3333333432674408
longlong callback 1125899906908156
void callback [b'text']
raising callback 0
struct ptr callback 3.5
struct value callback 1.5
closure via pointer 42 True
reused 2
",
        "stderr:\n{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("Exception ignored while calling ctypes callback function")
            && run.stderr.contains("ValueError: inside callback"),
        "stderr:\n{}",
        run.stderr
    );
}

#[test]
fn structs_memory_and_pythonapi() {
    check(
        r#"
import ctypes, sys
libc = ctypes.CDLL(None)
class Tm(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int) for n in ("sec", "min", "hour", "mday", "mon", "year", "wday", "yday", "isdst")] + [("gmtoff", ctypes.c_long), ("zone", ctypes.c_char_p)]
t = ctypes.c_longlong(86400 * 365 + 3661)
tm = Tm()
r = libc.gmtime_r(ctypes.byref(t), ctypes.byref(tm))
print("gmtime_r", r == ctypes.addressof(tm), tm.year, tm.yday, tm.hour, tm.min, tm.sec)
class Div(ctypes.Structure):
    _fields_ = [("quot", ctypes.c_int), ("rem", ctypes.c_int)]
libc.div.restype = Div
libc.div.argtypes = [ctypes.c_int, ctypes.c_int]
d = libc.div(17, 5)
print("div struct return", d.quot, d.rem)
class LLDiv(ctypes.Structure):
    _fields_ = [("quot", ctypes.c_longlong), ("rem", ctypes.c_longlong)]
libc.lldiv.restype = LLDiv
libc.lldiv.argtypes = [ctypes.c_longlong, ctypes.c_longlong]
d = libc.lldiv(-(2**40) - 3, 7)
print("lldiv", d.quot, d.rem)
buf = ctypes.create_string_buffer(b"hello", 10)
ctypes.memmove(buf, b"HE", 2)
ctypes.memset(ctypes.byref(buf, 5), ord("!"), 3)
print("memmove/memset", buf.raw, ctypes.string_at(buf, 4))
libc.memcpy.restype = ctypes.c_void_p
dst = ctypes.create_string_buffer(8)
print("memcpy ret", libc.memcpy(dst, b"abcdefg", 7) == ctypes.addressof(dst), dst.value)
api = ctypes.pythonapi
api.PyLong_FromLong.restype = ctypes.py_object
api.PyLong_FromLong.argtypes = [ctypes.c_long]
print("PyLong_FromLong", api.PyLong_FromLong(-123456))
o = object()
before = sys.getrefcount(o)
api.Py_IncRef(ctypes.py_object(o))
print("Py_IncRef", sys.getrefcount(o) - before)
api.Py_DecRef(ctypes.py_object(o))
print("Py_DecRef", sys.getrefcount(o) - before)
api.PyUnicode_FromString.restype = ctypes.py_object
print("PyUnicode_FromString", repr(api.PyUnicode_FromString(b"caf\xc3\xa9")))
print("missing symbol", hasattr(libc, "no_such_function_xyz"))
try:
    ctypes.CDLL("libnothere.so")
except OSError as e:
    print("dlopen missing: OSError")
"#,
        "gmtime_r True 71 0 1 1 1
div struct return 3 2
lldiv -157073089682 -5
memmove/memset b'HEllo!!!\\x00\\x00' b'HEll'
memcpy ret True b'abcdefg'
PyLong_FromLong -123456
Py_IncRef 1
Py_DecRef 0
PyUnicode_FromString 'café'
missing symbol False
dlopen missing: OSError
",
    );
}

/// A Number passed to an `i64` parameter is a JS `TypeError` in the glue,
/// which Pyodide reports as a fatal error; here it ends the run with the
/// same message instead of a panic.
#[test]
fn wasm_type_mismatch_is_an_error_not_a_panic() {
    let code = r#"
import ctypes
libc = ctypes.CDLL(None)
print("before", flush=True)
print(libc.llabs(-5))
print("after")
"#;
    let run = python(code);
    assert_ne!(run.status, 0);
    assert_eq!(run.stdout, "before\n");
    assert!(
        run.stderr.contains("Cannot convert 4294967291 to a BigInt"),
        "stderr:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "stderr:\n{}", run.stderr);
}
