//! The per-instance state a Wasmtime store carries: everything a later
//! instance snapshot must copy lives here or in the store's wasm objects
//! (memory, table, globals).

use std::sync::Arc;

use wasmtime::{Caller, Memory, Table, TypedFunc};

use super::asm_consts::AsmConsts;
use crate::syscalls::Kernel;

/// Exports of the main module that the runtime itself calls.
#[derive(Clone)]
pub struct RuntimeExports {
    /// `malloc(size) -> ptr`.
    pub malloc: TypedFunc<i32, i32>,
    /// `free(ptr)`.
    pub free: TypedFunc<i32, ()>,
    /// `emscripten_builtin_memalign(align, size) -> ptr`, for mmap.
    pub memalign: Option<TypedFunc<(i32, i32), i32>>,
}

/// State of one guest instance.
pub struct GuestState {
    /// The guest's kernel: MEMFS, file descriptors, clocks.
    pub kernel: Kernel,
    /// The main module's linear memory, once instantiated.
    pub memory: Option<Memory>,
    /// The main module's function table, once instantiated.
    pub table: Option<Table>,
    /// Exports the runtime calls back into.
    pub exports: Option<RuntimeExports>,
    /// The dist's `EM_ASM` snippets.
    pub asm_consts: Arc<AsmConsts>,
    /// `emscripten_runtime_keepalive_*` counter.
    pub keepalive: i32,
    /// Memory limit in bytes for `emscripten_resize_heap`.
    pub heap_max: u64,
    /// Text returned by `_Py_emscripten_runtime` (`sys._emscripten_info.runtime`).
    pub runtime_name: String,
    /// libffi's state: free closure table slots, the cached stack pointer.
    pub ffi: super::ffi::FfiState,
    /// The dynamic linker's state: loaded side modules, the shared GOT,
    /// symbol maps (see `dso.rs`).
    pub dylink: super::dso::DylinkState,
    /// The fake DNS table (`getaddrinfo` and friends).
    pub dns: super::netdb::Dns,
}

impl GuestState {
    /// Fresh state around `kernel`.
    pub fn new(kernel: Kernel, asm_consts: Arc<AsmConsts>, heap_max: u64) -> Self {
        Self {
            kernel,
            memory: None,
            table: None,
            exports: None,
            asm_consts,
            keepalive: 0,
            heap_max,
            runtime_name: format!("pyodide-test {} (Wasmtime 48)", env!("CARGO_PKG_VERSION")),
            ffi: super::ffi::FfiState::default(),
            dylink: super::dso::DylinkState::default(),
            dns: super::netdb::Dns::default(),
        }
    }
}

/// The guest's memory from inside a host call, or an error if the main
/// module is not instantiated yet.
pub fn memory(caller: &Caller<'_, GuestState>) -> wasmtime::Result<Memory> {
    caller.data().memory.ok_or_else(|| {
        wasmtime::format_err!("import called before the main module's memory exists")
    })
}

/// Run `f` with the kernel and the guest memory's bytes.
pub fn with_kernel<R>(
    caller: &mut Caller<'_, GuestState>,
    f: impl FnOnce(&mut Kernel, &mut [u8]) -> R,
) -> wasmtime::Result<R> {
    let mem = memory(caller)?;
    let (bytes, state) = mem.data_and_store_mut(caller);
    Ok(f(&mut state.kernel, bytes))
}

/// Read a NUL-terminated UTF-8 (lossy) string from guest memory.
pub fn read_cstr(bytes: &[u8], ptr: u32) -> String {
    let start = ptr as usize;
    if start >= bytes.len() {
        return String::new();
    }
    let len = bytes[start..]
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(bytes.len() - start);
    String::from_utf8_lossy(&bytes[start..start + len]).into_owned()
}
