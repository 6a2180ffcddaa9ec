//! pyodide-test: run Pyodide's CPython natively under Wasmtime.
//!
//! - [`host`]: the Wasmtime side: engine, module preparation and caching,
//!   the Emscripten runtime imports, the boot sequence.
//! - [`syscalls`]: the guest's kernel: MEMFS, file descriptors, the
//!   `__syscall_*` family and WASI preview 1, time. Pure Rust over the
//!   guest's linear memory as a byte slice; knows nothing of Wasmtime.
//! - [`runner`]: dists, fetching, test plans, workers and reports.
//! - [`atomic_file`]: files written safely while other runs read or write them.
//! - [`cache_files`]: cache files marked used and pruned by age and size.

pub mod atomic_file;
pub mod cache_files;
pub mod file_digest;
pub mod hex;
pub mod host;
pub mod host_bytes;
pub mod runner;
pub mod shared_file;
pub mod stderr_line;
pub mod syscalls;
