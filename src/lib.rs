//! pyodide-test: run Pyodide's CPython natively under Wasmtime.
//!
//! - [`host`]: the Wasmtime side: engine, module preparation and caching,
//!   the Emscripten runtime imports, the boot sequence.
//! - [`syscalls`]: the guest's kernel: MEMFS, file descriptors, the
//!   `__syscall_*` family and WASI preview 1, time. Pure Rust over the
//!   guest's linear memory as a byte slice; knows nothing of Wasmtime.
//! - [`runner`]: dists, fetching, and (later) test plans and reports.

pub mod host;
pub mod runner;
pub mod syscalls;
