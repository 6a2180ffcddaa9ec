//! Tests of the legacy-exceptions to exnref translation
//! (`pyodide_test::host::exnref`).
//!
//! Each `tests/exnref/NAME.wat` is a module written with the legacy
//! instructions, with `NAME.expect` listing calls and their outcomes
//! (`FUNC ARGS => RESULTS`, or `exception` / `trap`). A case translates the
//! module, validates the result without the legacy-exceptions feature, runs
//! it in Wasmtime and compares every outcome. When `node` is on PATH, the
//! *original* module also runs under Node (which implements legacy
//! exceptions natively) through `tests/exnref/node-check.mjs`, so the
//! expectations themselves are checked against a reference engine.
//!
//! `PYODIDE_TEST_WASM=/path/to/pyodide.asm.wasm` enables the test on the real
//! Pyodide main module.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use pyodide_test::host::exnref;
use wasmparser::{Validator, WasmFeatures};
use wasmtime::{Config, Engine, Func, Instance, Linker, Module, Store, Trap, Val};

fn case_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/exnref")
}

/// The features of the translated output: standard exceptions, no legacy.
fn exnref_features() -> WasmFeatures {
    let mut f = WasmFeatures::default()
        | WasmFeatures::EXCEPTIONS
        | WasmFeatures::GC
        | WasmFeatures::FUNCTION_REFERENCES
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::REFERENCE_TYPES
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SATURATING_FLOAT_TO_INT;
    f.remove(WasmFeatures::LEGACY_EXCEPTIONS);
    f
}

fn validate_exnref(wasm: &[u8]) {
    if let Err(e) = Validator::new_with_features(exnref_features()).validate_all(wasm) {
        let text = wasmprinter_fallback(wasm);
        panic!("translated module does not validate: {e}\n{text}");
    }
}

/// Disassembly of a small module for failure messages (wat has no printer;
/// print the bytes in hex instead when large).
fn wasmprinter_fallback(wasm: &[u8]) -> String {
    if wasm.len() > 4096 {
        return format!("({} bytes)", wasm.len());
    }
    wasm.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config
            .wasm_exceptions(true)
            .wasm_gc(true)
            .wasm_function_references(true)
            .wasm_tail_call(true);
        Engine::new(&config).expect("engine")
    })
}

struct Call {
    func: String,
    args: Vec<String>,
    expect: String,
}

impl Call {
    fn describe(&self) -> String {
        let mut s = self.func.clone();
        for a in &self.args {
            s.push(' ');
            s.push_str(a);
        }
        s
    }
}

fn parse_expect(text: &str) -> Vec<Call> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (lhs, rhs) = l.split_once("=>").expect("`=>` in expectation line");
            let mut words = lhs.split_whitespace().map(str::to_string);
            Call {
                func: words.next().expect("function name"),
                args: words.collect(),
                expect: rhs.trim().to_string(),
            }
        })
        .collect()
}

fn format_val(v: &Val) -> String {
    match v {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(x) => f32::from_bits(*x).to_string(),
        Val::F64(x) => f64::from_bits(*x).to_string(),
        other => format!("{other:?}"),
    }
}

/// Instantiate `wasm` in Wasmtime and perform every call; returns outcomes.
fn run_wasmtime(wasm: &[u8], calls: &[Call]) -> Vec<String> {
    let module = Module::new(engine(), wasm).expect("wasmtime compiles the translation");
    let mut store = Store::new(engine(), ());
    let mut linker = Linker::new(engine());
    linker
        .func_wrap(
            "env",
            "callback",
            |mut caller: wasmtime::Caller<'_, ()>, n: i32| -> wasmtime::Result<i32> {
                let f = caller
                    .get_export("callback")
                    .and_then(|e| e.into_func())
                    .expect("export callback");
                // An exception thrown inside comes back as `ThrownException`;
                // returning it propagates the exception into the caller.
                f.typed::<i32, i32>(&caller)?.call(&mut caller, n)
            },
        )
        .unwrap();
    let instance: Instance = linker
        .instantiate(&mut store, &module)
        .expect("instantiate");
    calls
        .iter()
        .map(|c| {
            let f: Func = instance
                .get_func(&mut store, &c.func)
                .unwrap_or_else(|| panic!("no export {}", c.func));
            let ty = f.ty(&store);
            let params: Vec<Val> = ty
                .params()
                .zip(&c.args)
                .map(|(t, a)| match t {
                    wasmtime::ValType::I32 => Val::I32(a.parse().unwrap()),
                    wasmtime::ValType::I64 => Val::I64(a.parse().unwrap()),
                    other => panic!("unsupported parameter type {other}"),
                })
                .collect();
            assert_eq!(params.len(), c.args.len(), "arity of {}", c.func);
            let mut results: Vec<Val> = ty.results().map(|_| Val::I32(0)).collect();
            match f.call(&mut store, &params, &mut results) {
                Ok(()) => results.iter().map(format_val).collect::<Vec<_>>().join(" "),
                Err(e) if e.is::<wasmtime::ThrownException>() => {
                    store.take_pending_exception();
                    "exception".to_string()
                }
                Err(e) if e.downcast_ref::<Trap>().is_some() => "trap".to_string(),
                Err(e) => format!("error: {e:?}"),
            }
        })
        .collect()
}

fn node_available() -> bool {
    static NODE: OnceLock<bool> = OnceLock::new();
    *NODE.get_or_init(|| {
        let ok = Command::new("node")
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok {
            println!("node not found on PATH: skipping the Node cross-check");
        }
        ok
    })
}

/// Run the original (legacy) module under Node; None if node is missing.
fn run_node(name: &str, legacy: &[u8], expect_path: &Path) -> Option<Vec<String>> {
    if !node_available() {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("exnref-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wasm_path = dir.join(format!("{name}.wasm"));
    std::fs::write(&wasm_path, legacy).unwrap();
    let out = Command::new("node")
        .arg(case_dir().join("node-check.mjs"))
        .arg(&wasm_path)
        .arg("--expect")
        .arg(expect_path)
        .output()
        .expect("run node");
    let _ = std::fs::remove_file(&wasm_path);
    assert!(
        out.status.success(),
        "node-check failed for {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split_once("=>").expect("=>").1.trim().to_string())
            .collect(),
    )
}

/// Translate, validate and run a legacy module; check every call against
/// the expectations, in Wasmtime and (original module) in Node.
fn check_module(name: &str, legacy: &[u8], expect_path: &Path) {
    let calls = parse_expect(&std::fs::read_to_string(expect_path).unwrap());
    assert!(!calls.is_empty());
    assert!(exnref::uses_legacy_exceptions(legacy).unwrap());
    assert!(
        Module::new(engine(), legacy).is_err(),
        "Wasmtime should refuse the legacy module"
    );
    let translated = exnref::translate(legacy).unwrap();
    validate_exnref(&translated);
    assert!(!exnref::uses_legacy_exceptions(&translated).unwrap());
    // Translating the translation changes nothing.
    assert_eq!(exnref::translate(&translated).unwrap(), translated);

    let mut failures = Vec::new();
    let actual = run_wasmtime(&translated, &calls);
    for (c, a) in calls.iter().zip(&actual) {
        if *a != c.expect {
            failures.push(format!(
                "wasmtime: {} => {a} (expected {})",
                c.describe(),
                c.expect
            ));
        }
    }
    if let Some(node) = run_node(name, legacy, expect_path) {
        assert_eq!(node.len(), calls.len());
        for (c, a) in calls.iter().zip(&node) {
            if *a != c.expect {
                failures.push(format!(
                    "node (legacy original): {} => {a} (expected {})",
                    c.describe(),
                    c.expect
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{name}:\n{}", failures.join("\n"));
}

fn check_case(name: &str) {
    let wat_path = case_dir().join(format!("{name}.wat"));
    let legacy = wat::parse_file(&wat_path).unwrap();
    check_module(name, &legacy, &case_dir().join(format!("{name}.expect")));
}

#[test]
fn basic() {
    check_case("basic");
}

#[test]
fn rethrow() {
    check_case("rethrow");
}

#[test]
fn delegate() {
    check_case("delegate");
}

#[test]
fn control() {
    check_case("control");
}

#[test]
fn calls() {
    check_case("calls");
}

#[test]
fn deadcode() {
    check_case("deadcode");
}

/// Deep nesting, generated: 200 nested try/catch levels each re-throwing,
/// 200 nested delegates, 200 nested catch bodies with a rethrow of the
/// outermost one from the innermost.
#[test]
fn deep_nesting() {
    const N: usize = 200;
    let mut w = String::from("(module\n  (tag $e (param i32))\n");

    // Each level catches, adds one and throws again; the outermost returns.
    w.push_str("  (func (export \"deep_catch\") (param i32) (result i32)\n");
    for _ in 0..N {
        w.push_str("    try (result i32)\n");
    }
    w.push_str("    local.get 0\n    throw $e\n");
    for k in (0..N).rev() {
        w.push_str("    catch $e\n    i32.const 1\n    i32.add\n");
        if k > 0 {
            w.push_str("    throw $e\n");
        }
        w.push_str("    end\n");
    }
    w.push_str("  )\n");

    // Levels of `try (catch) { try { ... } delegate 1 }`: every delegate
    // skips its level's handler and lands on the outer level's delegate,
    // so only the outermost handler sees the exception.
    w.push_str("  (func (export \"deep_delegate\") (param i32) (result i32)\n");
    w.push_str("    try (result i32)\n");
    for _ in 0..N {
        w.push_str("    try (result i32)\n    try (result i32)\n");
    }
    w.push_str("    local.get 0\n    throw $e\n");
    for _ in 0..N {
        w.push_str("    delegate 1\n    catch $e\n    i32.const 1000\n    i32.add\n    end\n");
    }
    w.push_str("    catch $e\n    i32.const 7\n    i32.add\n    end\n  )\n");

    // Nested catch bodies; the innermost rethrows the outermost exception.
    w.push_str("  (func (export \"deep_rethrow\") (param i32) (result i32)\n");
    w.push_str("    try (result i32)\n");
    for k in 0..N {
        w.push_str(&format!(
            "    try (result i32)\n    i32.const {k}\n    local.get 0\n    i32.add\n    throw $e\n    catch $e\n    drop\n"
        ));
    }
    w.push_str(&format!("    rethrow {}\n", N - 1));
    for _ in 0..N {
        w.push_str("    end\n");
    }
    w.push_str("    catch $e\n    i32.const 1\n    i32.add\n    end\n  )\n");
    w.push_str(")\n");

    let legacy = wat::parse_str(&w).unwrap();
    let dir = std::env::temp_dir().join(format!("exnref-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let expect = dir.join("deep.expect");
    std::fs::write(
        &expect,
        format!(
            "deep_catch 5 => {}\ndeep_delegate 5 => 12\ndeep_rethrow 5 => 6\n",
            5 + N
        ),
    )
    .unwrap();
    check_module("deep", &legacy, &expect);
    let _ = std::fs::remove_file(&expect);
}

/// A GC module with rec groups: new block types go after them; not run
/// under Node 20 (no GC there).
#[test]
fn rec_groups_and_new_types() {
    let legacy = wat::parse_str(
        r#"(module
          (rec (type $a (struct (field (ref null $b)))) (type $b (struct (field (ref null $a)))))
          (type $f (func (param i32) (result i32 i32)))
          (tag $e (param i32 i64))
          (func (export "f") (param i32) (result i32)
            (local (ref null $a))
            local.get 0
            try (param i32) (result i32 i64)
              i64.const 3
              throw $e
            catch $e
              drop
              rethrow 0
            catch_all
              i32.const 0
              i64.const 0
            end
            drop
            struct.new_default $b
            drop)
          (func (export "g") (param i32) (result i32)
            try (result i32)
              local.get 0
              call 0
            catch $e
              i64.const 7
              i64.mul
              i32.wrap_i64
              i32.add
            end))"#,
    )
    .unwrap();
    let translated = exnref::translate(&legacy).unwrap();
    validate_exnref(&translated);
    let calls = parse_expect("g 4 => 25\nf 1 => exception\n");
    let actual = run_wasmtime(&translated, &calls);
    assert_eq!(actual, ["25", "exception"]);
}

/// Modules without legacy instructions come back identical; other sections
/// (custom ones included, in place) are kept byte for byte.
#[test]
fn sections_preserved() {
    let plain = wat::parse_str(
        r#"(module (@custom "dylink.0" (before first) "\00\01")
          (func (export "f") (result i32) i32.const 6))"#,
    )
    .unwrap();
    assert!(!exnref::uses_legacy_exceptions(&plain).unwrap());
    assert_eq!(exnref::translate(&plain).unwrap(), plain);
    assert!(matches!(
        exnref::translate_if_needed(&plain).unwrap(),
        std::borrow::Cow::Borrowed(_)
    ));

    let legacy = wat::parse_str(
        r#"(module (@custom "dylink.0" (before first) "\00\01")
          (type (func))
          (import "env" "g" (global i32))
          (tag $e (param i32))
          (memory 1)
          (global $x (mut i32) (i32.const 3))
          (export "m" (memory 0))
          (func $f (export "f") (param i32) (result i32)
            try (result i32 i32)
              local.get 0
              local.get 0
              throw $e
            catch $e
              i32.const 1
            end
            i32.add)
          (func $g (result i32) i32.const 1)
          (data (i32.const 0) "hello")
          (@custom "after" (after last) "xyz"))"#,
    )
    .unwrap();
    let translated = exnref::translate(&legacy).unwrap();
    validate_exnref(&translated);

    let sections = |wasm: &[u8]| -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        for p in wasmparser::Parser::new(0).parse_all(wasm) {
            if let Some((id, range)) = p.unwrap().as_section() {
                out.push((id, wasm[range].to_vec()));
            }
        }
        out
    };
    let before = sections(&legacy);
    let after = sections(&translated);
    assert_eq!(before.len(), after.len());
    assert_eq!(after[0].0, 0, "custom section dylink.0 stays first");
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.0, a.0, "section order");
        if b.0 != 1 && b.0 != 10 {
            assert_eq!(b.1, a.1, "section {} unchanged", b.0);
        }
    }
    assert_ne!(
        before.iter().find(|s| s.0 == 10),
        after.iter().find(|s| s.0 == 10)
    );
}

/// Malformed input gives an error, not a panic.
#[test]
fn bad_input() {
    assert!(exnref::translate(b"not wasm").is_err());
    assert!(exnref::uses_legacy_exceptions(b"\0asm\x0d\0\x01\0").is_err());
    let legacy = wat::parse_str("(module (tag $e) (func try throw $e catch_all end))").unwrap();
    for cut in 8..legacy.len() {
        let _ = exnref::translate(&legacy[..cut]);
    }
}

/// The real Pyodide main module: `PYODIDE_TEST_WASM=.../pyodide.asm.wasm`.
#[test]
fn real_pyodide_module() {
    let Some(path) = std::env::var_os("PYODIDE_TEST_WASM") else {
        println!("PYODIDE_TEST_WASM not set: skipping the real-module test");
        return;
    };
    let wasm = std::fs::read(&path).unwrap();
    assert!(exnref::uses_legacy_exceptions(&wasm).unwrap());
    let t = Instant::now();
    let translated = exnref::translate(&wasm).unwrap();
    let took = t.elapsed();
    println!(
        "translated {} bytes -> {} bytes in {took:?}",
        wasm.len(),
        translated.len()
    );

    let mut census = Census::default();
    census.count(&wasm);
    println!("legacy census: {census:?}");
    let mut after = Census::default();
    after.count(&translated);
    println!("after: {after:?}");
    assert_eq!(after.legacy, 0);
    assert!(after.try_table > 0 && after.try_table <= census.tries);
    assert_eq!(after.throw_ref, census.rethrows + after.throw_ref_dt);

    let t = Instant::now();
    validate_exnref(&translated);
    println!("validated in {:?}", t.elapsed());
    let t = Instant::now();
    Module::new(engine(), &translated).expect("wasmtime compiles the real module");
    println!("wasmtime compiled in {:?}", t.elapsed());
}

/// Every `.so` / `.wasm` in `EXNREF_TEST_WASM_DIR` (side modules from
/// wheels, say): translated, validated and compiled.
#[test]
fn side_modules_dir() {
    let Some(dir) = std::env::var_os("EXNREF_TEST_WASM_DIR") else {
        println!("EXNREF_TEST_WASM_DIR not set: skipping the side-module test");
        return;
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("so" | "wasm")))
        .collect();
    paths.sort();
    for path in paths {
        let wasm = std::fs::read(&path).unwrap();
        let mut census = Census::default();
        census.count(&wasm);
        assert_eq!(
            exnref::uses_legacy_exceptions(&wasm).unwrap(),
            census.legacy > 0
        );
        let t = Instant::now();
        let translated = exnref::translate(&wasm).unwrap();
        let took = t.elapsed();
        let mut after = Census::default();
        after.count(&translated);
        assert_eq!(after.legacy, 0);
        validate_exnref(&translated);
        let t = Instant::now();
        Module::new(engine(), &translated).expect("wasmtime compiles the translation");
        println!(
            "{}: {} bytes, {} try (max depth {}), translated in {took:?}, compiled in {:?}",
            path.file_name().unwrap().to_string_lossy(),
            wasm.len(),
            census.tries,
            census.max_depth,
            t.elapsed()
        );
    }
}

#[derive(Default, Debug)]
struct Census {
    tries: usize,
    catches: usize,
    catch_alls: usize,
    rethrows: usize,
    delegates: usize,
    legacy: usize,
    try_table: usize,
    throw_ref: usize,
    /// `throw_ref` directly after an `end` (the delegation re-throws).
    throw_ref_dt: usize,
    /// Deepest nesting of legacy tries.
    max_depth: usize,
}

impl Census {
    fn count(&mut self, wasm: &[u8]) {
        for p in wasmparser::Parser::new(0).parse_all(wasm) {
            if let wasmparser::Payload::CodeSectionEntry(body) = p.unwrap() {
                let mut prev_end = false;
                // Per open frame: is it a legacy try?
                let mut frames: Vec<bool> = Vec::new();
                let mut depth = 0;
                let mut ops = body.get_operators_reader().unwrap();
                while !ops.eof() {
                    let op = ops.read().unwrap();
                    use wasmparser::Operator as O;
                    match op {
                        O::Try { .. } => self.tries += 1,
                        O::Catch { .. } => self.catches += 1,
                        O::CatchAll => self.catch_alls += 1,
                        O::Rethrow { .. } => self.rethrows += 1,
                        O::Delegate { .. } => self.delegates += 1,
                        O::TryTable { .. } => self.try_table += 1,
                        O::ThrowRef => {
                            self.throw_ref += 1;
                            if prev_end {
                                self.throw_ref_dt += 1;
                            }
                        }
                        _ => {}
                    }
                    if matches!(
                        op,
                        O::Try { .. }
                            | O::Catch { .. }
                            | O::CatchAll
                            | O::Rethrow { .. }
                            | O::Delegate { .. }
                    ) {
                        self.legacy += 1;
                    }
                    match op {
                        O::Block { .. } | O::Loop { .. } | O::If { .. } | O::TryTable { .. } => {
                            frames.push(false)
                        }
                        O::Try { .. } => {
                            frames.push(true);
                            depth += 1;
                            self.max_depth = self.max_depth.max(depth);
                        }
                        O::End | O::Delegate { .. } => {
                            if frames.pop() == Some(true) {
                                depth -= 1;
                            }
                        }
                        _ => {}
                    }
                    prev_end = matches!(op, O::End);
                }
            }
        }
    }
}
