//! Linking the main module: every import is resolved by name from what the
//! module declares. Imports we implement come from [`super::runtime`] and
//! [`super::syscall_imports`]; the rest are linked to traps that name the
//! import (JavaScript-only ones say so), and `GOT.*` globals get mutable
//! cells that are filled in after instantiation.

use std::collections::HashSet;

use wasmtime::{
    ExternType, Func, Global, GlobalType, Linker, Module, Mutability, Ref, Store, Table, Val,
    ValType,
};

use super::exit::NeedsJavaScript;

type Result<T> = wasmtime::Result<T>;

/// A `GOT.func` import of the main module that must point at a table slot
/// once the table exists.
pub struct GotFuncFixup {
    /// The symbol's name.
    pub name: String,
    /// The global the module imported.
    pub global: Global,
}

/// What linking found: the fix-ups to apply after instantiation and the
/// imports we linked to traps.
#[derive(Default)]
pub struct LinkReport {
    /// `GOT.func.*` globals to point at trap functions once the table exists.
    pub got_func: Vec<GotFuncFixup>,
    /// Function imports with no implementation here (linked to traps).
    pub unimplemented: Vec<String>,
}

/// Is this import part of Pyodide's JavaScript FFI (or otherwise needs JS)?
pub fn needs_javascript(name: &str, ty: &wasmtime::FuncType) -> bool {
    let has_externref = ty
        .params()
        .chain(ty.results())
        .any(|t| matches!(t, ValType::Ref(r) if r.heap_type().is_extern()));
    has_externref
        // Before 0.25 the FFI passed JS values as i32 "hiwire" handles.
        || JS_PREFIXES_I32.iter().any(|p| name.starts_with(p))
        || name.starts_with("Jsv")
        || name.starts_with("JsProxy")
        || name.starts_with("js2python")
        || name.starts_with("python2js")
        || name.starts_with("_python2js")
        || name.starts_with("pyproxy")
        || name.starts_with("emscripten_gl")
        || matches!(
            name,
            "capture_stderr"
                | "fail_test"
                | "hiwire_invalid_ref_js"
                | "jslib_init_js"
                | "jslib_init_buffers_js"
                | "pyodide_js_init"
                | "throw_no_gil"
                | "can_run_sync_js"
                | "hiwire_invalid_ref"
        )
}

/// Whether `name` alone says the import is JavaScript's (GL, console).
fn needs_javascript_name(name: &str) -> bool {
    name.starts_with("emscripten_gl") || name.starts_with("emscripten_console")
}

/// Name prefixes of the i32-handle ("hiwire") FFI of Pyodide before 0.25,
/// whose imports carry no `externref` to recognise them by.
const JS_PREFIXES_I32: &[&str] = &[
    "hiwire_",
    "JsArray_",
    "JsObject_",
    "JsObjMap_",
    "JsMap_",
    "JsSet_",
    "JsString_",
    "JsBuffer_",
    "JsException_",
    "JsProxy_",
    "JsMethod_",
    "js2python",
    "python2js",
    "pyproxy_",
    "new_error",
    "console_error",
    "create_promise_handles",
    "create_once_callable",
    "wrap_generator",
    "wrap_async_generator",
    "destroy_proxy",
    "handle_next_result",
    "_agen_handle_result",
    "destroy_",
    "get_async_js_call",
    "gc_register_proxies",
    "JsDoubleProxy_",
    "proxy_cache_",
    "array_to_js",
    "_JsArray_",
];

/// Add the missing pieces for `module` to `linker`: traps for unimplemented
/// function imports and fresh `GOT.*` globals.
pub fn complete<T: 'static>(
    linker: &mut Linker<T>,
    store: &mut Store<T>,
    module: &Module,
) -> Result<LinkReport> {
    let mut report = LinkReport::default();
    let mut seen = HashSet::new();
    for import in module.imports() {
        let (m, name) = (import.module(), import.name());
        if !seen.insert((m.to_string(), name.to_string())) {
            continue;
        }
        if linker.get(&mut *store, m, name).is_ok() {
            continue;
        }
        match import.ty() {
            ExternType::Func(ty) => {
                let js = needs_javascript(name, &ty);
                let full = format!("{m}.{name}");
                report.unimplemented.push(full.clone());
                linker.func_new(m, name, ty, move |_, _, _| {
                    if js {
                        Err(wasmtime::Error::new(NeedsJavaScript(full.clone())))
                    } else {
                        Err(wasmtime::format_err!(
                            "the import `{full}` is not implemented by pyodide-test"
                        ))
                    }
                })?;
            }
            ExternType::Global(gt) if m == "GOT.func" || m == "GOT.mem" => {
                let ty = GlobalType::new(ValType::I32, Mutability::Var);
                let _ = gt;
                let global = Global::new(&mut *store, ty, Val::I32(0))?;
                linker.define(&mut *store, m, name, global)?;
                if m == "GOT.func" {
                    report.got_func.push(GotFuncFixup {
                        name: name.to_string(),
                        global,
                    });
                }
            }
            other => {
                wasmtime::bail!(
                    "the main module imports {m}.{name} ({other:?}), which pyodide-test does not provide"
                )
            }
        }
    }
    Ok(report)
}

/// Point each `GOT.func` global at a fresh table slot holding the host
/// function of that name that `linker` defines (older releases take the
/// address of `abort`, `__cxa_throw`, ... this way), else a function that
/// traps with a message naming the symbol (the JS-implemented GL and
/// console functions).
pub fn apply_got_func<T: 'static>(
    store: &mut Store<T>,
    linker: &Linker<T>,
    table: Table,
    fixups: &[GotFuncFixup],
) -> Result<()> {
    if fixups.is_empty() {
        return Ok(());
    }
    let first = table.grow(&mut *store, fixups.len() as u64, Ref::Func(None))?;
    for (i, fix) in fixups.iter().enumerate() {
        let name = fix.name.clone();
        let own = linker
            .get(&mut *store, "env", &name)
            .ok()
            .and_then(|e| e.into_func())
            .filter(|_| !needs_javascript_name(&name));
        let func = match own {
            Some(f) => f,
            None => {
                let ty = wasmtime::FuncType::new(store.engine(), [], []);
                Func::new(&mut *store, ty, move |_, _, _| {
                    Err(wasmtime::Error::new(NeedsJavaScript(name.clone())))
                })
            }
        };
        let slot = first + i as u64;
        table.set(&mut *store, slot, Ref::Func(Some(func)))?;
        fix.global.set(&mut *store, Val::I32(slot as i32))?;
    }
    Ok(())
}
