//! Tests of the legacy-exceptions to exnref translation
//! (`pyodide_test::host::exnref`).
//!
//! Each `tests/exnref/NAME.wat` is a module written with the legacy
//! instructions, with `NAME.expect` listing calls and their outcomes
//! (`FUNC ARGS => RESULTS`, or `exception` / `trap`). A case translates the
//! module, validates the result without the legacy-exceptions feature, runs
//! it in Wasmtime and compares every outcome. The *original* module also
//! runs under Node (which implements legacy exceptions natively) through
//! `tests/exnref/node-check.mjs`, so the expectations themselves are
//! checked against a reference engine: without `node` on PATH (`.ci/run`
//! installs it) those tests fail rather than pass unchecked.
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

/// Fails the test when `node` cannot run: the cross-check is part of it.
fn require_node() {
    static NODE: OnceLock<bool> = OnceLock::new();
    let ok = *NODE.get_or_init(|| {
        Command::new("node")
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    });
    assert!(
        ok,
        "node is not on PATH: the Node cross-check cannot run (.ci/run installs Node)"
    );
}

/// Run the original (legacy) module under Node: each call's outcome.
fn run_node(name: &str, legacy: &[u8], expect_path: &Path) -> Vec<String> {
    require_node();
    let dir = std::env::temp_dir().join(format!("exnref-node-{}-{name}", std::process::id()));
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
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "node-check failed for {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split_once("=>").expect("=>").1.trim().to_string())
        .collect()
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
    let node = run_node(name, legacy, expect_path);
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
    let dir = std::env::temp_dir().join(format!("exnref-deep-{}", std::process::id()));
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
    let _ = std::fs::remove_dir_all(&dir);
}

/// Small deterministic PRNG (xorshift64*) for the random programs.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) % u64::from(n)) as u32
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Label {
    Block,
    Loop,
    Try,
    Catch,
    If,
}

/// Random legacy-EH statements (void stack shape) that record their path in
/// the global `$g` (`g = g * 31 + k`).
struct ProgramGen {
    rng: Rng,
    out: String,
    labels: Vec<Label>,
    fidx: usize,
}

impl ProgramGen {
    fn line(&mut self, s: &str) {
        for _ in 0..self.labels.len() + 2 {
            self.out.push_str("  ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn trace_top(&mut self) {
        // payload on the stack: g = g * 31 + payload
        self.line("global.get $g");
        self.line("i32.const 31");
        self.line("i32.mul");
        self.line("i32.add");
        self.line("global.set $g");
    }

    fn trace(&mut self) {
        let k = self.rng.below(1000);
        self.line(&format!("i32.const {k}"));
        self.trace_top();
    }

    fn cond(&mut self) {
        let bit = 1 << self.rng.below(4);
        self.line("local.get 0");
        self.line(&format!("i32.const {bit}"));
        self.line("i32.and");
    }

    fn throw(&mut self) {
        match self.rng.below(3) {
            2 => self.line("throw $e2"),
            t => {
                let k = self.rng.below(1000);
                self.line(&format!("i32.const {k}"));
                self.line(&format!("throw $e{t}"));
            }
        }
    }

    fn stmts(&mut self, depth: u32) {
        let n = self.rng.below(4);
        for _ in 0..n {
            self.stmt(depth);
        }
    }

    fn stmt(&mut self, depth: u32) {
        let nested = depth < 7;
        match self.rng.below(if nested { 12 } else { 5 }) {
            0 => self.trace(),
            1 => {
                self.cond();
                self.line("if");
                self.labels.push(Label::If);
                self.throw();
                self.labels.pop();
                self.line("end");
            }
            2 => {
                if self.rng.below(4) == 0 {
                    self.throw();
                } else {
                    self.trace();
                }
            }
            3 => {
                // br_if to a random non-loop label (the function label too)
                let n = self.labels.len();
                let l = self.rng.below(n as u32 + 1) as usize;
                if l < n && self.labels[n - 1 - l] == Label::Loop {
                    return;
                }
                self.cond();
                self.line(&format!("br_if {l}"));
            }
            4 => {
                // rethrow an enclosing catch, conditionally
                let n = self.labels.len();
                let catches: Vec<usize> = (0..n)
                    .filter(|&l| self.labels[n - 1 - l] == Label::Catch)
                    .collect();
                if catches.is_empty() {
                    return self.trace();
                }
                let l = catches[self.rng.below(catches.len() as u32) as usize];
                self.cond();
                self.line("if");
                self.labels.push(Label::If);
                self.line(&format!("rethrow {}", l + 1));
                self.labels.pop();
                self.line("end");
            }
            5 if self.fidx > 0 => {
                let j = self.rng.below(self.fidx as u32);
                self.line("local.get 0");
                let shift = self.rng.below(3);
                self.line(&format!("i32.const {shift}"));
                self.line("i32.shr_u");
                self.line(&format!("call $f{j}"));
            }
            6 => {
                let kind = if self.rng.below(3) == 0 {
                    "loop"
                } else {
                    "block"
                };
                self.line(kind);
                self.labels.push(if kind == "loop" {
                    Label::Loop
                } else {
                    Label::Block
                });
                self.stmts(depth + 1);
                self.labels.pop();
                self.line("end");
            }
            7..=9 => {
                // try with catch clauses (maybe none)
                self.line("try");
                self.labels.push(Label::Try);
                self.stmts(depth + 1);
                self.labels.pop();
                let mut tags: Vec<u32> = (0..3).filter(|_| self.rng.below(2) == 0).collect();
                if self.rng.below(4) == 0 {
                    tags.reverse();
                }
                let all = self.rng.below(2) == 0;
                for t in tags {
                    self.line(&format!("catch $e{t}"));
                    self.labels.push(Label::Catch);
                    if t == 2 {
                        self.trace();
                    } else {
                        self.trace_top();
                    }
                    self.stmts(depth + 1);
                    self.labels.pop();
                }
                if all {
                    self.line("catch_all");
                    self.labels.push(Label::Catch);
                    self.trace();
                    self.stmts(depth + 1);
                    self.labels.pop();
                }
                self.line("end");
            }
            _ => {
                self.line("try");
                self.labels.push(Label::Try);
                self.stmts(depth + 1);
                self.labels.pop();
                let l = self.rng.below(self.labels.len() as u32 + 1);
                self.line(&format!("delegate {l}"));
            }
        }
    }
}

/// Random programs mixing try/catch/catch_all/delegate/rethrow/br_if and
/// calls: the original runs under Node (legacy EH natively), the
/// translation under Wasmtime; every outcome must agree.
#[test]
fn random_programs_match_node() {
    const FUNCS: usize = 150;
    for seed in 1u64..=8 {
        let mut g = ProgramGen {
            rng: Rng(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x1234_5678_9abc_def1)),
            out: String::new(),
            labels: Vec::new(),
            fidx: 0,
        };
        g.out.push_str(
            "(module\n  (tag $e0 (param i32))\n  (tag $e1 (param i32))\n  (tag $e2)\n  (global $g (mut i32) (i32.const 0))\n",
        );
        for i in 0..FUNCS {
            g.fidx = i;
            g.out.push_str(&format!("  (func $f{i} (param i32)\n"));
            g.stmts(0);
            g.out.push_str("  )\n");
            g.out.push_str(&format!(
                "  (func (export \"run{i}\") (param i32) (result i32)
    i32.const 0
    global.set $g
    try
      local.get 0
      call $f{i}
    catch $e0
      i32.const 100000
      i32.add
      global.set $g
    catch $e1
      i32.const 200000
      i32.add
      global.set $g
    catch $e2
      i32.const 300000
      global.set $g
    end
    global.get $g)\n"
            ));
        }
        g.out.push_str(")\n");
        let legacy = wat::parse_str(&g.out).unwrap();
        let translated = exnref::translate(&legacy).unwrap();
        validate_exnref(&translated);

        let calls: Vec<Call> = (0..FUNCS)
            .flat_map(|i| {
                (0..16).map(move |x| Call {
                    func: format!("run{i}"),
                    args: vec![x.to_string()],
                    expect: "?".to_string(),
                })
            })
            .collect();
        let actual = run_wasmtime(&translated, &calls);
        assert!(
            actual.iter().all(|a| a.parse::<i32>().is_ok()),
            "{actual:?}"
        );

        let dir = std::env::temp_dir().join(format!("exnref-random-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let expect = dir.join(format!("random{seed}.expect"));
        let text: String = calls
            .iter()
            .map(|c| format!("{} => ?\n", c.describe()))
            .collect();
        std::fs::write(&expect, text).unwrap();
        let node = run_node(&format!("random{seed}"), &legacy, &expect);
        let _ = std::fs::remove_dir_all(&dir);
        let mut diffs = Vec::new();
        for ((c, a), n) in calls.iter().zip(&actual).zip(&node) {
            if a != n {
                diffs.push(format!("{}: wasmtime {a}, node {n}", c.describe()));
            }
        }
        if !diffs.is_empty() {
            let path = std::env::temp_dir().join(format!("exnref-random{seed}.wat"));
            std::fs::write(&path, &g.out).unwrap();
            panic!(
                "seed {seed}: {} differences (module in {}):\n{}",
                diffs.len(),
                path.display(),
                diffs[..diffs.len().min(20)].join("\n")
            );
        }
        let distinct: std::collections::HashSet<&String> = actual.iter().collect();
        println!(
            "seed {seed}: {} calls agree ({} distinct outcomes)",
            calls.len(),
            distinct.len()
        );
    }
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
/// (Every run of the tool translates it too; this checks the census.)
#[test]
#[ignore = "compiles the real 9.6 MB module twice; run with PYODIDE_TEST_WASM=.../pyodide.asm.wasm"]
fn real_pyodide_module() {
    let path = std::env::var_os("PYODIDE_TEST_WASM")
        .expect("set PYODIDE_TEST_WASM to a pyodide.asm.wasm to run this test");
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
#[ignore = "needs a directory of side modules: EXNREF_TEST_WASM_DIR=DIR"]
fn side_modules_dir() {
    let dir = std::env::var_os("EXNREF_TEST_WASM_DIR")
        .expect("set EXNREF_TEST_WASM_DIR to a directory of side modules to run this test");
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
                            depth -= usize::from(frames.pop() == Some(true));
                        }
                        _ => {}
                    }
                    prev_end = matches!(op, O::End);
                }
            }
        }
    }
}
