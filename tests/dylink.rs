//! The dynamic linker, through the real binary: side-module wheels from
//! PyPI (C, Cython, Rust, C++) imported and exercised, and small hand-made
//! side modules driven through `ctypes` for the linker's own semantics
//! (needed libraries via the rpath, `RTLD_LOCAL` scopes, `RTLD_GLOBAL`, the
//! shared GOT, weak symbols, late binding, `dlerror` text).
//!
//! Wheels are downloaded once with `pip download` into
//! `$PYODIDE_TEST_CACHE/test-wheels` (or the tool's default cache); when pip
//! or the network is unavailable the wheel tests fail, saying why.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::side_module::side_module;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn cache_dir() -> PathBuf {
    let root = std::env::var_os("PYODIDE_TEST_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| ".".into()))
                .join(".cache")
                .join("pyodide-test")
        });
    root.join("test-wheels")
}

/// The wheel of `name` for Pyodide 314's platform (`binary`) or any
/// pure-Python wheel, downloaded once. A test that cannot get its wheel
/// (no pip, no network) fails, saying why.
fn wheel(name: &str, binary: bool) -> PathBuf {
    fetch_wheel(name, binary).unwrap_or_else(|why| panic!("cannot get the wheel of {name}: {why}"))
}

fn fetch_wheel(name: &str, binary: bool) -> Result<PathBuf, String> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = cache_dir();
    let prefix = name.replace('-', "_").to_lowercase();
    let find = || {
        std::fs::read_dir(&dir).ok()?.flatten().find_map(|e| {
            let file = e.file_name().to_string_lossy().to_lowercase();
            let matches = file.starts_with(&format!("{prefix}-"))
                && file.ends_with(".whl")
                && (!binary || file.contains("pyemscripten_2026_0_wasm32"));
            matches.then(|| e.path())
        })
    };
    if let Some(p) = find() {
        return Ok(p);
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut cmd = Command::new("pip");
    cmd.args([
        "download",
        name,
        "--no-deps",
        "--only-binary=:all:",
        "-q",
        "-d",
    ])
    .arg(&dir);
    if binary {
        cmd.args([
            "--platform",
            "pyemscripten_2026_0_wasm32",
            "--python-version",
            "3.14",
        ]);
    }
    match cmd.output() {
        Ok(out) if out.status.success() => find().ok_or_else(|| "pip saved no wheel".to_string()),
        Ok(out) => Err(format!(
            "pip download failed: {}",
            text(&out.stderr).lines().last().unwrap_or("")
        )),
        Err(e) => Err(format!("pip is not available: {e}")),
    }
}

/// Run `python -c code` with the given wheels installed; returns stdout,
/// asserting success.
fn run_with(wheels: &[PathBuf], code: &str) -> String {
    let mut args: Vec<String> = Vec::new();
    for w in wheels {
        args.push("--with".into());
        args.push(w.to_string_lossy().into_owned());
    }
    args.extend(["-c".to_string(), code.to_string()]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = common::python(&argv, b"", None);
    assert!(
        out.status.success(),
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    if compare_with_node() {
        // The reference: the same command under Node with the dist's glue.
        let mut node_args = vec!["--runtime".to_string(), "node".to_string(), "python".into()];
        node_args.extend(args.iter().cloned());
        let node = Command::new(common::exe())
            .args(common::dist_args())
            .args(&node_args)
            .output()
            .expect("running the node runtime");
        assert_eq!(text(&node.stdout), stdout, "Node's output differs");
    }
    stdout
}

/// Each wheel's output is checked against Node too (Node.js is a
/// requirement of the test suite, like npm).
fn compare_with_node() -> bool {
    let found = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(found, "node is not on PATH: the Node comparison cannot run");
    true
}

macro_rules! wheels {
    ($($name:expr => $binary:expr),+) => {{
        vec![$(wheel($name, $binary)),+]
    }};
}

#[test]
fn msgpack_cython_extension() {
    let w = wheels!("msgpack" => true);
    let out = run_with(
        &w,
        "import msgpack, msgpack._cmsgpack as c\n\
         print(msgpack.Packer is c.Packer)\n\
         print(msgpack.unpackb(msgpack.packb([1, 'a'])))\n\
         print(msgpack.unpackb(msgpack.packb({'k': [1.5, None, b'x', 2**40]})))",
    );
    assert_eq!(
        out,
        "True\n[1, 'a']\n{'k': [1.5, None, b'x', 1099511627776]}\n"
    );
}

#[test]
fn simplejson_c_speedups() {
    let w = wheels!("simplejson" => true);
    let out = run_with(
        &w,
        "import simplejson, simplejson._speedups as s\n\
         print(simplejson._import_c_make_encoder() is s.make_encoder)\n\
         print(simplejson.dumps({'a': [1, 2.5, None, 'é']}, sort_keys=True))\n\
         print(simplejson.loads('[1, {\"b\": 2}, \"\\\\u00e9\"]'))\n\
         try:\n    simplejson.loads('[1,')\nexcept simplejson.JSONDecodeError as e:\n    print('error', e.pos)",
    );
    assert_eq!(
        out,
        "True\n{\"a\": [1, 2.5, null, \"\\u00e9\"]}\n[1, {'b': 2}, 'é']\nerror 3\n"
    );
}

#[test]
fn bitarray_c_extension() {
    let w = wheels!("bitarray" => true);
    let out = run_with(
        &w,
        "import bitarray, bitarray.util as u\n\
         a = bitarray.bitarray('1101')\n\
         print(a.to01(), a.count(), (~a).to01(), u.ba2int(a))\n\
         b = bitarray.bitarray(1000); b.setall(0); b[::7] = 1\n\
         print(b.count(), list(b.search(bitarray.bitarray('1')))[:3])",
    );
    assert_eq!(out, "1101 3 0010 13\n143 [0, 7, 14]\n");
}

#[test]
fn cytoolz_cython_extensions() {
    let w = wheels!("cytoolz" => true, "toolz" => false);
    let out = run_with(
        &w,
        "import cytoolz, cytoolz.itertoolz as it\n\
         print(it.__file__.endswith('.so'))\n\
         print(cytoolz.frequencies('abca'), cytoolz.merge({1: 2}, {3: 4}))\n\
         print(list(cytoolz.partition(2, range(5))), cytoolz.curry(lambda a, b: a + b)(1)(2))\n\
         print(cytoolz.pipe(3, lambda x: x * 2, str), cytoolz.groupby(len, ['a', 'bb', 'c']))",
    );
    assert_eq!(
        out,
        "True\n{'a': 2, 'b': 1, 'c': 1} {1: 2, 3: 4}\n[(0, 1), (2, 3)] 3\n6 {1: ['a', 'c'], 2: ['bb']}\n"
    );
}

#[test]
fn pydantic_core_rust_extension() {
    let w = wheels!("pydantic-core" => true, "typing-extensions" => false);
    let out = run_with(
        &w,
        "from pydantic_core import SchemaValidator, ValidationError, core_schema as cs\n\
         v = SchemaValidator(cs.dict_schema(keys_schema=cs.str_schema(), values_schema=cs.int_schema()))\n\
         print(v.validate_python({'a': '1', 'b': 2}))\n\
         try:\n    v.validate_python({'a': 'x'})\n\
         except ValidationError as e:\n    print(e.error_count(), e.errors()[0]['type'], e.errors()[0]['loc'])\n\
         m = SchemaValidator(cs.model_fields_schema({'n': cs.model_field(cs.int_schema(ge=0))}))\n\
         print(m.validate_json('{\"n\": 5}')[0])",
    );
    assert_eq!(out, "{'a': 1, 'b': 2}\n1 int_parsing ('a',)\n{'n': 5}\n");
}

#[test]
fn luau_cpp_extension_and_exceptions() {
    let w = wheels!("luau-wasm" => true);
    let out = run_with(
        &w,
        "import luau_wasm\n\
         print(repr(luau_wasm.execute('local t = {} for i = 1, 5 do t[i] = i * i end print(table.concat(t, \",\"))')))\n\
         print(repr(luau_wasm.execute('local ok, err = pcall(function() error(\"inner\") end) print(ok, err)')))\n\
         for src in ['error(\"boom\")', 'local x = nil; return x.y', 'this is not luau']:\n\
         \x20   try:\n\
         \x20       luau_wasm.execute(src)\n\
         \x20   except luau_wasm.LuauError as e:\n\
         \x20       print('LuauError:', str(e).splitlines()[0])\n\
         print(repr(luau_wasm.execute('print(\"still fine\")')))",
    );
    assert_eq!(
        out,
        "'1,4,9,16,25\\n'\n'false\\tstdin:1: inner\\n'\n\
         LuauError: stdin:1: boom\n\
         LuauError: stdin:1: attempt to index nil with 'y'\n\
         LuauError: stdin:1: Incomplete statement: expected assignment or a function call\n\
         'still fine\\n'\n"
    );
}

// ---------------------------------------------------------------------------
// Hand-made side modules.

fn write_libs(dir: &Path) {
    let dep = side_module(
        r#"(module
          (import "env" "memory" (memory 0))
          (import "env" "__memory_base" (global $mb i32))
          (data (global.get $mb) "\d2\04\00\00")
          (func (export "dep_add") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.add i32.const 100 i32.add)
          (global (export "dep_value") i32 (i32.const 0)))"#,
        4,
        &[],
        &[],
        &[],
    );
    let user = side_module(
        r#"(module
          (import "env" "memory" (memory 0))
          (import "env" "__indirect_function_table" (table 0 funcref))
          (import "env" "dep_add" (func $dep_add (param i32 i32) (result i32)))
          (import "env" "late_fn" (func $late (result i32)))
          (import "GOT.mem" "dep_value" (global $dv (mut i32)))
          (import "GOT.mem" "weak_missing" (global $wm (mut i32)))
          (import "GOT.func" "dep_add" (global $fp (mut i32)))
          (type $t2 (func (param i32 i32) (result i32)))
          (func (export "user_call") (param i32) (result i32)
            local.get 0 i32.const 1 call $dep_add)
          (func (export "user_read") (result i32) global.get $dv i32.load)
          (func (export "user_weak") (result i32) global.get $wm)
          (func (export "user_fptr") (result i32) global.get $fp)
          (func (export "user_late") (result i32) call $late)
          (func (export "user_indirect") (param i32) (result i32)
            local.get 0 i32.const 2 global.get $fp call_indirect (type $t2))
          (func (export "late_fn") (result i32) i32.const 77))"#,
        0,
        &["libdep.so"],
        &[("GOT.mem", "weak_missing")],
        &["$ORIGIN"],
    );
    let bad = side_module(
        r#"(module
          (import "GOT.mem" "definitely_missing" (global (mut i32)))
          (func (export "bad") (result i32) i32.const 0))"#,
        0,
        &[],
        &[],
        &[],
    );
    let needs_missing = side_module(
        r#"(module (func (export "PyInit_nm") (result i32) i32.const 0))"#,
        0,
        &["libmissing_xyz.so"],
        &[],
        &[],
    );
    let g = side_module(
        r#"(module (func (export "g_func") (result i32) i32.const 4242))"#,
        0,
        &[],
        &[],
        &[],
    );
    let uses_g = side_module(
        r#"(module
          (import "env" "g_func" (func $g (result i32)))
          (func (export "call_g") (result i32) call $g))"#,
        0,
        &[],
        &[],
        &[],
    );
    // Late-bound imports: its own export, one a later library defines,
    // one nothing defines.
    let early = side_module(
        r#"(module
          (import "env" "self_fn" (func $self (param i32 i64 f64) (result i64)))
          (import "env" "later_fn" (func $later (param f64) (result f64)))
          (import "env" "never_defined" (func $never (result i32)))
          (func (export "self_fn") (param i32 i64 f64) (result i64)
            local.get 1 local.get 0 i64.extend_i32_s i64.add local.get 2 i64.trunc_f64_s i64.add)
          (func (export "call_self_loop") (param $n i32) (result i32)
            (local $acc i64)
            (block $done (loop $next
              (br_if $done (i32.eqz (local.get $n)))
              (local.set $acc (call $self (local.get $n) (local.get $acc) (f64.const 0.5)))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br $next)))
            (i32.wrap_i64 (local.get $acc)))
          (func (export "call_later") (param i32) (result i32)
            (i32.trunc_f64_s (call $later (f64.convert_i32_s (local.get 0)))))
          (func (export "call_never") (result i32) call $never))"#,
        0,
        &[],
        &[],
        &[],
    );
    let later = side_module(
        r#"(module
          (func (export "later_fn") (param f64) (result f64)
            local.get 0 f64.const 2.5 f64.mul))"#,
        0,
        &[],
        &[],
        &[],
    );
    for (name, bytes) in [
        ("libearly.so", early),
        ("liblater.so", later),
        ("libdep.so", dep),
        ("libuser.so", user),
        ("libbad.so", bad),
        ("nm.cpython-314-wasm32-emscripten.so", needs_missing),
        ("libg.so", g),
        ("libuses_g.so", uses_g),
    ] {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    std::fs::write(dir.join("notwasm.so"), b"not a wasm module").unwrap();
}

fn lib_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("pyodide-test-dylink-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        write_libs(&dir);
        dir
    })
}

fn run_ctypes(code: &str) -> (String, String, bool) {
    let mount = format!("{}:/dl:ro", lib_dir().display());
    let out = common::python(&["--mount", &mount, "-c", code], b"", None);
    (text(&out.stdout), text(&out.stderr), out.status.success())
}

#[test]
fn linker_semantics_through_ctypes() {
    let (out, err, ok) = run_ctypes(
        "import ctypes\n\
         u = ctypes.CDLL('/dl/libuser.so')\n\
         print(u.user_call(5), u.user_read(), u.user_weak(), u.user_late(), u.user_indirect(3))\n\
         d = ctypes.CDLL('/dl/libdep.so')\n\
         print(u.user_fptr() == ctypes.cast(d.dep_add, ctypes.c_void_p).value)\n\
         print(ctypes.c_int.in_dll(d, 'dep_value').value)\n\
         try:\n    ctypes.CDLL(None).dep_add\nexcept AttributeError as e:\n    print('local:', e)\n\
         ctypes.CDLL('/dl/libg.so', mode=ctypes.RTLD_GLOBAL)\n\
         print(ctypes.CDLL('/dl/libuses_g.so').call_g(), ctypes.CDLL(None).g_func())",
    );
    assert!(ok, "stdout:\n{out}\nstderr:\n{err}");
    assert_eq!(
        out,
        "106 1234 0 77 105\nTrue\n1234\n\
         local: Tried to lookup unknown symbol \"dep_add\" in dynamic lib: __main__\n\
         4242 4242\n"
    );
}

#[test]
fn linker_errors_are_python_errors() {
    let (out, err, ok) = run_ctypes(
        "import ctypes, sys\n\
         for lib in ['/dl/libbad.so', '/dl/notwasm.so', '/dl/nothere.so']:\n\
         \x20   try:\n\
         \x20       ctypes.CDLL(lib)\n\
         \x20   except OSError as e:\n\
         \x20       print('OSError:', ' | '.join(str(e).splitlines()))\n\
         sys.path.insert(0, '/dl')\n\
         try:\n    import nm\nexcept ImportError as e:\n    print('ImportError:', ' | '.join(str(e).splitlines()))\n\
         print('still alive')",
    );
    assert!(ok, "stdout:\n{out}\nstderr:\n{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert_eq!(
        lines[0],
        "OSError: could not load dynamic lib: /dl/libbad.so | Error: Dynamic linking error: undefined symbol 'definitely_missing'"
    );
    assert!(
        lines[1].starts_with("OSError: could not load dynamic lib: /dl/notwasm.so"),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines[2],
        "OSError: could not load dynamic lib: /dl/nothere.so | Error: Failed to find dynamic library \"/dl/nothere.so\""
    );
    assert!(
        lines[3].starts_with(
            "ImportError: could not load dynamic lib: /dl/nm.cpython-314-wasm32-emscripten.so"
        ) && lines[3].contains("libmissing_xyz.so"),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4], "still alive");
}

#[test]
fn late_bound_imports_through_table_slots() {
    let (out, err, ok) = run_ctypes(
        "import ctypes\n\
         e = ctypes.CDLL('/dl/libearly.so')\n\
         print(e.call_self_loop(1000), e.call_self_loop(1000))\n\
         ctypes.CDLL('/dl/liblater.so', mode=ctypes.RTLD_GLOBAL)\n\
         print(e.call_later(4), e.call_later(10))",
    );
    assert!(ok, "stdout:\n{out}\nstderr:\n{err}");
    assert_eq!(out, "500500 500500\n10 25\n");
    let (out, err, ok) = run_ctypes(
        "import ctypes\n\
         e = ctypes.CDLL('/dl/libearly.so')\n\
         print('before', flush=True)\n\
         e.call_never()\n\
         print('not reached')",
    );
    assert!(!ok, "stdout:\n{out}\nstderr:\n{err}");
    assert_eq!(out, "before\n");
    assert!(
        err.contains("cannot resolve symbol never_defined"),
        "stderr:\n{err}"
    );
}
