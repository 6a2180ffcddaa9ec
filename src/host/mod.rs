//! The Wasmtime side of pyodide-test: the engine, preparing and caching
//! modules, the Emscripten runtime imports, linking, and the boot sequence.
//! It knows nothing of tests.

pub mod abi;
pub mod asm_consts;
pub mod boot;
pub mod bundle;
pub mod dso;
pub mod dso_forward;
pub mod dylink;
pub mod engine;
pub mod exit;
pub mod exnref;
pub mod ffi;
pub mod image;
pub mod imports;
pub mod instance;
pub mod js_eh;
pub mod jsffi;
pub mod layout;
pub mod link;
pub mod mmap;
pub mod module_cache;
pub mod netdb;
pub mod prefault;
pub mod runtime;
pub mod spec;
pub mod state;
pub mod syscall_imports;
pub mod trampoline;
pub mod variant_imports;
pub mod zygote;

/// Context for `wasmtime::Result`s, whose error type is not `std::error::Error`.
pub(crate) trait WasmContext<T> {
    /// Convert to `anyhow` with a message in front.
    fn ctx(self, msg: impl std::fmt::Display) -> anyhow::Result<T>;
}

impl<T> WasmContext<T> for wasmtime::Result<T> {
    fn ctx(self, msg: impl std::fmt::Display) -> anyhow::Result<T> {
        self.map_err(|e| anyhow::Error::from(e).context(msg.to_string()))
    }
}
