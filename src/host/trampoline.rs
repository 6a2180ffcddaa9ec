//! CPython's function-pointer-cast trampoline.
//!
//! CPython 3.14 on Emscripten calls C functions whose real arity may be lower
//! than the caller's through `_PyEM_TrampolineCall`. At start-up the glue
//! stores a table index at `_PyRuntime + *_PyEM_EMSCRIPTEN_TRAMPOLINE_OFFSET`;
//! that index names a small wasm function that reads the callee from the
//! table, finds its arity with `ref.test` (wasm GC) and calls it with as
//! many arguments. With 0 there, every such call would leave wasm for the
//! `_PyEM_TrampolineCall_JS` import. Our module is written here in wat and
//! instantiated against the main module's memory and table, so C-to-C calls
//! stay in wasm. CPython 3.12/3.13 builds take a smaller helper that only
//! counts the callee's arguments ([`COUNT_ARGS_WAT`]).

use anyhow::{Context, Result};

use super::module_cache::ModuleCache;
use wasmtime::{Engine, Module};

/// The trampoline in wat: `trampoline_call(ok_ptr, func, a1, a2, a3) -> i32`.
/// Writes 1 to `*ok_ptr` when the callee has one of the four accepted
/// signatures `(i32{0..3}) -> i32`, else 0 (CPython raises `SystemError`).
pub const TRAMPOLINE_WAT: &str = r#"
(module
  (type $a3 (func (param i32 i32 i32) (result i32)))
  (type $a2 (func (param i32 i32) (result i32)))
  (type $a1 (func (param i32) (result i32)))
  (type $a0 (func (result i32)))
  (import "env" "memory" (memory 0))
  (import "env" "__indirect_function_table" (table 0 funcref))
  (func (export "trampoline_call")
        (param $ok i32) (param $fp i32) (param $x i32) (param $y i32) (param $z i32)
        (result i32)
    (local $f funcref)
    (i32.store (local.get $ok) (i32.const 1))
    (local.set $f (table.get (local.get $fp)))
    (if (ref.test (ref $a3) (local.get $f))
      (then (return (call_indirect (type $a3) (local.get $x) (local.get $y) (local.get $z) (local.get $fp)))))
    (if (ref.test (ref $a2) (local.get $f))
      (then (return (call_indirect (type $a2) (local.get $x) (local.get $y) (local.get $fp)))))
    (if (ref.test (ref $a1) (local.get $f))
      (then (return (call_indirect (type $a1) (local.get $x) (local.get $fp)))))
    (if (ref.test (ref $a0) (local.get $f))
      (then (return (call_indirect (type $a0) (local.get $fp)))))
    (i32.store (local.get $ok) (i32.const 0))
    (i32.const 0)))
"#;

/// The trampoline module, compiled once and kept in `modules` (compiling
/// it at every start cost a few milliseconds, mostly starting Wasmtime's
/// compilation threads).
pub fn module(engine: &Engine, modules: &ModuleCache) -> Result<Module> {
    cached(engine, modules, TRAMPOLINE_WAT, "the call trampoline")
}

/// `wat` compiled through the module cache.
fn cached(engine: &Engine, modules: &ModuleCache, wat: &str, what: &str) -> Result<Module> {
    let wasm = wat::parse_str(wat).with_context(|| format!("assembling {what}"))?;
    modules.load(engine, &wasm, what)
}

/// CPython 3.12 and 3.13 on Emscripten ask instead for a function that
/// tells how many of the four accepted signatures' arguments the callee
/// takes: `count_args(func) -> i32` is 3, 2, 1 or 0 for `(i32{n}) -> i32`,
/// else -1 (CPython then raises `SystemError`). Its table index goes to
/// `_PyRuntime + *_PyEM_EMSCRIPTEN_COUNT_ARGS_OFFSET` and is what the import
/// `_PyEM_GetCountArgsPtr` returns.
pub const COUNT_ARGS_WAT: &str = r#"
(module
  (type $a3 (func (param i32 i32 i32) (result i32)))
  (type $a2 (func (param i32 i32) (result i32)))
  (type $a1 (func (param i32) (result i32)))
  (type $a0 (func (result i32)))
  (import "env" "__indirect_function_table" (table 0 funcref))
  (func (export "count_args") (param $fp i32) (result i32)
    (local $f funcref)
    (local.set $f (table.get (local.get $fp)))
    (if (ref.test (ref $a3) (local.get $f)) (then (return (i32.const 3))))
    (if (ref.test (ref $a2) (local.get $f)) (then (return (i32.const 2))))
    (if (ref.test (ref $a1) (local.get $f)) (then (return (i32.const 1))))
    (if (ref.test (ref $a0) (local.get $f)) (then (return (i32.const 0))))
    (i32.const -1)))
"#;

/// The count-args module, compiled once and kept in `modules`.
pub fn count_args_module(engine: &Engine, modules: &ModuleCache) -> Result<Module> {
    cached(engine, modules, COUNT_ARGS_WAT, "the count-args helper")
}
