//! The main module's import surface in one place: which subsystem serves
//! which imports ([`define`]), which imports we leave unprovided on
//! purpose ([`UNPROVIDED`]; JavaScript-only ones are recognised by
//! [`link::needs_javascript`]), and an audit of a real module against both
//! ([`audit`]) that the tests run on every release they support.

use wasmtime::{Engine, ExternType, Linker, Module, Store};

use super::abi::MainAbi;
use super::dylink::DylinkInfo;
use super::link;
use super::module_cache::ModuleCache;
use super::state::GuestState;
use super::{dso, ffi, js_eh, jsffi, mmap, netdb, runtime, syscall_imports, variant_imports};
use crate::syscalls::{Kernel, KernelConfig};

/// Define every import we provide for `main` on `linker`.
pub fn define(linker: &mut Linker<GuestState>, main: &Module) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    runtime::define(linker)?;
    syscall_imports::define(linker)?;
    jsffi::define(linker, main)?;
    ffi::define(linker)?;
    dso::define(linker)?;
    mmap::define(linker)?;
    netdb::define(linker)?;
    js_eh::define(linker, main)?;
    variant_imports::define(linker, main)?;
    Ok(())
}

/// Imports that are not JavaScript-only and that we do not provide: each
/// is linked to a trap naming it, with the reason here.
pub const UNPROVIDED: &[(&str, &str)] = &[
    (
        "env.emscripten_promise_create",
        "only `emscripten_dlopen_promise` uses promises, and Pyodide's JS is its \
         only caller; our `_emscripten_dlopen_js` completes synchronously",
    ),
    (
        "env.emscripten_promise_resolve",
        "as emscripten_promise_create",
    ),
    (
        "env.emscripten_promise_destroy",
        "as emscripten_promise_create",
    ),
];

/// What [`audit`] found about a module's imports.
#[derive(Debug, Default)]
pub struct ImportAudit {
    /// Imports we provide, with a matching type (`module.name`).
    pub provided: Vec<String>,
    /// Imports that need JavaScript (linked to traps that say so).
    pub javascript: Vec<String>,
    /// Imports listed in [`UNPROVIDED`].
    pub unprovided: Vec<String>,
    /// Imports we neither provide nor list: each would trap if called.
    pub unknown: Vec<String>,
    /// Imports we provide with another type: (import, its type, ours).
    pub mismatched: Vec<(String, String, String)>,
    /// `GOT.*` globals (filled by the linker).
    pub got: usize,
}

/// Compare `main`'s imports with what [`define`] provides.
pub fn audit(engine: &Engine, main: &Module) -> wasmtime::Result<ImportAudit> {
    let kernel = Kernel::new(KernelConfig::default());
    let modules = ModuleCache::new(std::env::temp_dir().join("pyodide-test-audit"));
    let state = GuestState::new(kernel, Default::default(), 0, modules);
    let mut store = Store::new(engine, state);
    let mut linker = Linker::new(engine);
    define(&mut linker, main)?;
    // What the host creates for the module (memory, table, tags, ...).
    MainAbi::read(main, &DylinkInfo::default())
        .create(&mut store)?
        .define(&mut linker, &mut store)?;
    let mut out = ImportAudit::default();
    for import in main.imports() {
        let (m, name) = (import.module(), import.name());
        let full = format!("{m}.{name}");
        if m.starts_with("GOT.") {
            out.got += 1;
            continue;
        }
        let wanted = import.ty();
        match (linker.get(&mut store, m, name).ok(), &wanted) {
            (Some(ours), ExternType::Func(want)) => {
                let have = ours.ty(&store);
                match have.func() {
                    Some(f) if f.matches(want) => out.provided.push(full),
                    _ => out
                        .mismatched
                        .push((full, format!("{want}"), format!("{have:?}"))),
                }
            }
            (Some(_), _) => out.provided.push(full),
            (None, ExternType::Func(ty)) if link::needs_javascript(name, ty) => {
                out.javascript.push(full)
            }
            (None, _) if UNPROVIDED.iter().any(|(n, _)| *n == full) => out.unprovided.push(full),
            (None, _) => out.unknown.push(full),
        }
    }
    Ok(out)
}
