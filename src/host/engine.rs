//! The Wasmtime engine configuration shared by every module we run.

use anyhow::Result;

use super::WasmContext;
use wasmtime::{Config, Engine};

/// Wasm stack given to guest code. CPython's recursion limit is checked in C
/// against its own estimate; deep recursion must reach `RecursionError`
/// before Wasmtime's stack limit traps, so give wasm a generous stack.
pub const WASM_STACK_BYTES: usize = 256 << 20;

/// Native stack for a thread that runs guest code: the wasm stack plus room
/// for host frames.
pub const HOST_THREAD_STACK_BYTES: usize = WASM_STACK_BYTES + (32 << 20);

/// Build the engine: exceptions (standard exnref form), GC (for `ref.test`
/// in the call trampoline), function references, tail calls, and epoch
/// interruption so that a runner can stop a guest that loops.
pub fn new_engine() -> Result<Engine> {
    let mut config = Config::new();
    config
        .wasm_exceptions(true)
        .wasm_gc(true)
        .wasm_function_references(true)
        .wasm_tail_call(true)
        .wasm_reference_types(true)
        .wasm_multi_value(true)
        .wasm_bulk_memory(true)
        .wasm_extended_const(true)
        .epoch_interruption(true)
        .async_stack_size(WASM_STACK_BYTES + (1 << 20))
        .max_wasm_stack(WASM_STACK_BYTES)
        .parallel_compilation(true);
    Engine::new(&config).ctx("configuring the Wasmtime engine")
}

/// Start (once per engine) a thread that advances the engine's epoch every
/// 100 ms, which is when stores check their interrupt predicates.
pub fn start_epoch_ticker(engine: &Engine) {
    use std::sync::Mutex;
    static STARTED: Mutex<Vec<Engine>> = Mutex::new(Vec::new());
    let mut started = STARTED.lock().unwrap_or_else(|e| e.into_inner());
    if started.iter().any(|e| Engine::same(e, engine)) {
        return;
    }
    started.push(engine.clone());
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        })
        .expect("spawning the epoch ticker thread");
}
