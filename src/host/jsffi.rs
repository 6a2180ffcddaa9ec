//! Pyodide's JavaScript FFI imports that CPython reaches even when no
//! JavaScript exists, given their native meaning: in a world without JS
//! values every JS-side table is empty and every JS value is `null`.
//! All other FFI imports are linked to traps by [`super::link`].

use wasmtime::{Linker, Val};

/// FFI imports with an inert native meaning: they return zero / `null`.
///
/// - `__hiwire_deduplicate_*`: the JS `Map` from JS values to hiwire ids that
///   `_pyodide_core` creates in its constructor; with no JS values it stays
///   empty (`get` finds nothing, `set`/`delete` have nothing to record).
/// - `_maybe_*_async`: Pyodide's hooks for JS-backed async sockets; `null`
///   means "no async path here", and the plain syscall runs.
pub const INERT: &[&str] = &[
    "__hiwire_deduplicate_new",
    "__hiwire_deduplicate_get",
    "__hiwire_deduplicate_set",
    "__hiwire_deduplicate_delete",
    "_maybe_poll_async",
    "_maybe_connect_async",
    "_maybe_recvfrom_async",
    "_maybe_sendto_async",
];

/// FFI imports that report failure (-1): the JS side of `_pyodide_core`'s
/// bridge cannot be set up without JS, so its initialisation fails and
/// `import _pyodide_core` raises (`SystemError`) instead of trapping later
/// in a JS call (pydoc's `apropos` imports every built-in module).
pub const FAILING: &[&str] = &["jslib_init_js", "jslib_init_buffers_js"];

/// Define the inert and failing FFI imports that `module` imports from `env`.
pub fn define<T: 'static>(
    linker: &mut Linker<T>,
    module: &wasmtime::Module,
) -> wasmtime::Result<()> {
    for import in module.imports() {
        let failing = FAILING.contains(&import.name());
        if import.module() != "env" || !(INERT.contains(&import.name()) || failing) {
            continue;
        }
        let Some(ty) = import.ty().func().cloned() else {
            continue;
        };
        let results: Vec<Val> = ty
            .results()
            .map(|t| match (failing, &t) {
                (true, wasmtime::ValType::I32) => Val::I32(-1),
                _ => Val::default_for_ty(&t).unwrap_or(Val::I32(0)),
            })
            .collect();
        linker.func_new("env", import.name(), ty, move |_, _, out| {
            out.clone_from_slice(&results);
            Ok(())
        })?;
    }
    Ok(())
}
