//! The per-instance state a Wasmtime store carries: everything a later
//! instance snapshot must copy lives here or in the store's wasm objects
//! (memory, table, globals). Each subsystem keeps its own part and reaches
//! it through its own trait, implemented here; no subsystem names
//! [`GuestState`].

use std::sync::Arc;

use super::asm_consts::AsmConsts;
use super::dso::{DylinkHost, DylinkState};
use super::ffi::{FfiHost, FfiState};
use super::instance::{HostState, MainHandles};
use super::js_eh::{JsEhHost, JsEhState};
use super::module_cache::ModuleCache;
use super::netdb::{Dns, NetdbHost};
use crate::syscalls::Kernel;

/// State of one guest instance.
pub struct GuestState {
    /// The guest's kernel: MEMFS, file descriptors, clocks.
    pub kernel: Kernel,
    /// The main module's memory, table and allocator, once instantiated.
    pub main: Option<MainHandles>,
    /// The dist's `EM_ASM` snippets.
    pub asm_consts: Arc<AsmConsts>,
    /// `emscripten_runtime_keepalive_*` counter.
    pub keepalive: i32,
    /// Memory limit in bytes for `emscripten_resize_heap`.
    pub heap_max: u64,
    /// Text returned by `_Py_emscripten_runtime` (`sys._emscripten_info.runtime`).
    pub runtime_name: String,
    /// libffi's state: free closure table slots, the cached stack pointer.
    pub ffi: FfiState,
    /// The dynamic linker's state: loaded side modules, the shared GOT,
    /// symbol maps (see `dso.rs`).
    pub dylink: DylinkState<GuestState>,
    /// The fake DNS table (`getaddrinfo` and friends).
    pub dns: Dns,
    /// The table slot of the call trampoline or count-args helper we
    /// installed (0: none).
    pub trampoline_slot: u32,
    /// The JS-style C++ exception state (`invoke_*` modules).
    pub js_eh: JsEhState,
}

impl GuestState {
    /// Fresh state around `kernel`; side modules are compiled through
    /// `modules` (on disk when it has a directory).
    pub fn new(
        kernel: Kernel,
        asm_consts: Arc<AsmConsts>,
        heap_max: u64,
        modules: ModuleCache,
    ) -> Self {
        Self {
            kernel,
            main: None,
            asm_consts,
            keepalive: 0,
            heap_max,
            runtime_name: format!("pyodide-test {} (Wasmtime 48)", env!("CARGO_PKG_VERSION")),
            ffi: FfiState::default(),
            dylink: DylinkState::new(modules),
            dns: Dns::default(),
            trampoline_slot: 0,
            js_eh: JsEhState::default(),
        }
    }
}

impl HostState for GuestState {
    fn main(&self) -> Option<&MainHandles> {
        self.main.as_ref()
    }
    fn kernel(&mut self) -> &mut Kernel {
        &mut self.kernel
    }
}

impl JsEhHost for GuestState {
    fn js_eh(&mut self) -> &mut JsEhState {
        &mut self.js_eh
    }
}

impl FfiHost for GuestState {
    fn ffi(&mut self) -> &mut FfiState {
        &mut self.ffi
    }
}

impl DylinkHost for GuestState {
    fn dylink(&self) -> &DylinkState<Self> {
        &self.dylink
    }
    fn dylink_mut(&mut self) -> &mut DylinkState<Self> {
        &mut self.dylink
    }
}

impl NetdbHost for GuestState {
    fn dns(&mut self) -> &mut Dns {
        &mut self.dns
    }
}
