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

/// Define the inert FFI imports that `module` imports from `env`.
pub fn define<T: 'static>(
    linker: &mut Linker<T>,
    module: &wasmtime::Module,
) -> wasmtime::Result<()> {
    for import in module.imports() {
        if import.module() != "env" || !INERT.contains(&import.name()) {
            continue;
        }
        let Some(ty) = import.ty().func().cloned() else {
            continue;
        };
        let results: Vec<Val> = ty
            .results()
            .map(|t| Val::default_for_ty(&t).unwrap_or(Val::I32(0)))
            .collect();
        linker.func_new("env", import.name(), ty, move |_, _, out| {
            out.clone_from_slice(&results);
            Ok(())
        })?;
    }
    Ok(())
}
