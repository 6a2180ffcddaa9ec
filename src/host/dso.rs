//! The native dynamic linker for Emscripten side modules: what
//! `loadDynamicLibrary`, `loadWebAssemblyModule`, `GOT`, `LDSO`,
//! `__dlopen_js` and `__dlsym_js` do in `pyodide.asm.mjs`, in Rust.
//!
//! A library gets its static data from the guest's allocator (`calloc`) and
//! its table slots by growing the main table; it imports the main module's
//! memory, table, stack pointer and exception tags, its `env.*` functions
//! from the global namespace (main module exports, then libraries loaded
//! with `RTLD_GLOBAL`, then the host's own runtime imports), and its
//! `GOT.mem.*` / `GOT.func.*` cells from one map of mutable globals shared by
//! every module (one global per symbol; a function's cell holds a table
//! slot, a data symbol's its address). Symbols that nothing defines yet are
//! bound late: an `env` function import calls a table slot through a small
//! wasm forwarder (`dso_forward.rs`); the slot gets the function when the
//! library itself or a later one defines it, or from a host stub that
//! resolves it on its first call (the library's own exports and its
//! `RTLD_LOCAL` scope included), so a resolved call stays in wasm; a
//! `GOT` cell stays pending until the library's own exports or a later
//! lookup define it, and a weak one may stay 0.
//!
//! All state lives in [`DylinkState`], reached through [`DylinkHost`] from
//! the store's data. Linker failures (missing file, bad module, undefined
//! symbol) become `dlerror` text through the main module's `__dl_seterr`;
//! errors raised by guest code the linker runs (data relocations,
//! constructors, callbacks) propagate unchanged, so that Wasmtime still
//! recognises exceptions and exits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};
use wasmtime::{
    AsContextMut, Caller, Engine, Extern, ExternType, Func, FuncType, Global, GlobalType, Instance,
    Linker, Module, Mutability, Ref, StoreContextMut, Val, ValType,
};

use super::dso_forward;
use super::dylink::{self, DylinkInfo};
use super::instance::{
    HostState, alloc_cstr, free, malloc, memory, read_cstr, read_u32, table, table_func,
    write_bytes, write_u32,
};
use super::link::GotFuncFixup;
use super::module_cache::ModuleCache;

type WResult<T> = wasmtime::Result<T>;

/// `RTLD_GLOBAL` in Emscripten's `dlfcn.h`.
const RTLD_GLOBAL: i32 = 256;
/// Offsets in libc's `struct dso` (Emscripten's `dynlink.h`).
const DSO_FLAGS: u32 = 4;
const DSO_MEM_ALLOCATED: u32 = 8;
const DSO_MEM_ADDR: u32 = 12;
const DSO_MEM_SIZE: u32 = 16;
const DSO_TABLE_ADDR: u32 = 20;
const DSO_TABLE_SIZE: u32 = 24;
const DSO_FILE_DATA: u32 = 28;
const DSO_FILE_DATA_SIZE: u32 = 32;
const DSO_NAME: u32 = 36;

/// A symbol a library exports, as other modules see it.
#[derive(Clone)]
enum Sym {
    /// A function.
    Func(Func),
    /// An immutable i32 global, relocated by the library's memory base: an
    /// address.
    Addr(u32),
    /// Anything else (a mutable global, a tag, ...), passed through.
    Other(Extern),
}

/// One loaded (or loading) library.
struct Library {
    /// The normalised path it was loaded by (the `LDSO` key).
    name: String,
    /// Loaded with `RTLD_GLOBAL`: its exports are in the global namespace.
    global: bool,
    /// Its exports in export order (the order `dlsym`'s symbol index uses).
    exports: Vec<(String, Sym)>,
    /// Export name -> position in `exports`.
    by_name: HashMap<String, usize>,
    /// The `RTLD_LOCAL` scope its late-bound stubs search, if any.
    scope: Option<usize>,
}

/// A `GOT.mem` / `GOT.func` cell.
struct GotEntry {
    global: Global,
    /// Not yet defined (the JS glue's `value == -1`).
    pending: bool,
    /// Imported without weak binding by some module.
    required: bool,
}

/// Access to the dynamic linker's state from the store's data.
pub trait DylinkHost: HostState + super::js_eh::JsEhHost + Sized {
    /// The linker's state.
    fn dylink(&self) -> &DylinkState<Self>;
    /// The linker's state, mutably.
    fn dylink_mut(&mut self) -> &mut DylinkState<Self>;
}

/// The dynamic linker's per-instance state.
pub struct DylinkState<T: 'static> {
    /// Where side modules are compiled and cached.
    modules: ModuleCache,
    main: Option<Instance>,
    /// What the main module imports from the host and side modules share
    /// with it (a position-independent main module's stack pointer, its
    /// imported exception tags), by `env` name.
    main_imports: HashMap<String, Extern>,
    /// Added to the main module's exported data addresses.
    main_memory_base: u32,
    /// The main module's linker: the host's runtime imports by name.
    host: Option<Arc<Linker<T>>>,
    libs: Vec<Library>,
    /// Normalised path -> index in `libs` (`LDSO.loadedLibsByName`).
    by_name: HashMap<String, usize>,
    /// `struct dso*` handle -> index in `libs` (`LDSO.loadedLibsByHandle`).
    by_handle: HashMap<u32, usize>,
    /// `RTLD_LOCAL` scopes: the libraries whose exports each can see.
    scopes: Vec<Vec<usize>>,
    got: HashMap<String, GotEntry>,
    /// A function's raw funcref -> its table slot (`functionsInTableMap`).
    func_slots: HashMap<usize, u32>,
    /// Whether `func_slots` holds the table as it was at the first load.
    table_scanned: bool,
    /// Host runtime imports looked up so far.
    host_funcs: HashMap<(String, String), Option<Func>>,
    /// Late-bound stubs already resolved: (library, symbol) -> function.
    late: HashMap<(usize, String), Func>,
    /// Table slots behind late-bound imports' forwarders that still hold
    /// their resolving host stub, by slot.
    late_slots: HashMap<u32, LateSlot>,
}

impl<T> DylinkState<T> {
    /// Whether the guest has used the dynamic linker yet: no side module
    /// loaded, no function of the main module looked up or given a slot.
    pub fn untouched(&self) -> bool {
        self.libs.is_empty()
            && self.func_slots.is_empty()
            && self.late.is_empty()
            && self.late_slots.is_empty()
    }

    /// No library loaded yet; side modules are compiled through `modules`.
    pub fn new(modules: ModuleCache) -> Self {
        Self {
            modules,
            main: None,
            main_imports: HashMap::new(),
            main_memory_base: 0,
            host: None,
            libs: Vec::new(),
            by_name: HashMap::new(),
            by_handle: HashMap::new(),
            scopes: Vec::new(),
            got: HashMap::new(),
            func_slots: HashMap::new(),
            table_scanned: false,
            host_funcs: HashMap::new(),
            late: HashMap::new(),
            late_slots: HashMap::new(),
        }
    }
}

/// A late-bound import called through a table slot (see `dso_forward.rs`).
struct LateSlot {
    lib: usize,
    name: String,
    ty: FuncType,
}

/// Why a load failed.
enum LoadError {
    /// The linker refused it: becomes `dlerror` text.
    Link(String),
    /// Guest code failed (trap, exit, exception): propagates unchanged.
    Guest(wasmtime::Error),
}

impl From<wasmtime::Error> for LoadError {
    fn from(e: wasmtime::Error) -> Self {
        LoadError::Guest(e)
    }
}

type LResult<T> = Result<T, LoadError>;

fn link_err<T>(msg: impl Into<String>) -> LResult<T> {
    Err(LoadError::Link(msg.into()))
}

/// Define the dynamic-loading imports (`_dlopen_js`, `_dlsym_js`,
/// `_emscripten_dlopen_js`) on the main module's linker.
pub fn define<T: DylinkHost>(linker: &mut Linker<T>) -> WResult<()> {
    linker.func_wrap("env", "_dlopen_js", dlopen_js)?;
    linker.func_wrap("env", "_dlsym_js", dlsym_js)?;
    linker.func_wrap("env", "_emscripten_dlopen_js", emscripten_dlopen_js)?;
    Ok(())
}

/// Hand the instantiated main module and its linker to the dynamic linker
/// (after the `GOT.func` fix-ups of the main module are applied: those cells
/// join the shared `GOT` map).
pub fn attach<T: DylinkHost>(
    mut store: impl AsContextMut<Data = T>,
    main: &Instance,
    linker: Linker<T>,
    main_got_func: &[GotFuncFixup],
    main_imports: HashMap<String, Extern>,
) {
    let mut cx = store.as_context_mut();
    let memory_base = cx.data().main().map_or(0, |m| m.memory_base);
    let state = &mut cx.data_mut().dylink_mut();
    state.main = Some(*main);
    state.main_imports = main_imports;
    state.main_memory_base = memory_base;
    state.host = Some(Arc::new(linker));
    for fix in main_got_func {
        state.got.insert(
            fix.name.clone(),
            GotEntry {
                global: fix.global,
                pending: false,
                required: false,
            },
        );
    }
}

// ---------------------------------------------------------------------------
// The imports.

/// `_dlopen_js(handle) -> handle or 0`: load the library named in the
/// `struct dso` at `handle` (flags at +4, the name at +36).
fn dlopen_js<T: DylinkHost>(mut caller: Caller<'_, T>, handle: i32) -> WResult<i32> {
    let mut cx = caller.as_context_mut();
    let (filename, result) = dlopen_internal(&mut cx, handle as u32)?;
    match result {
        Ok(()) => Ok(handle),
        Err(msg) => {
            set_dl_error(
                &mut cx,
                &format!("could not load dynamic lib: {filename}\nError: {msg}"),
            )?;
            Ok(0)
        }
    }
}

/// `_emscripten_dlopen_js(handle, onsuccess, onerror, user_data)`: the
/// asynchronous API, served synchronously: load, then call the callback
/// through the table with `(handle, user_data)`.
fn emscripten_dlopen_js<T: DylinkHost>(
    mut caller: Caller<'_, T>,
    handle: i32,
    onsuccess: i32,
    onerror: i32,
    user_data: i32,
) -> WResult<()> {
    let mut cx = caller.as_context_mut();
    let (filename, result) = dlopen_internal(&mut cx, handle as u32)?;
    let callback = match result {
        Ok(()) => onsuccess,
        Err(msg) => {
            set_dl_error(
                &mut cx,
                &format!("'Could not load dynamic lib: {filename}\nError: {msg}"),
            )?;
            onerror
        }
    };
    let func = table_func(&mut cx, callback as u32)?;
    let mut no_results = [];
    func.call(
        &mut cx,
        &[Val::I32(handle), Val::I32(user_data)],
        &mut no_results,
    )
}

/// `_dlsym_js(handle, symbol, symbol_index_ptr) -> address`: a function
/// gives its table slot (added if it has none, writing the symbol's index
/// to `*symbol_index_ptr` as the JS glue does), data its address. Handle 0
/// is `RTLD_DEFAULT`: the global namespace.
fn dlsym_js<T: DylinkHost>(
    mut caller: Caller<'_, T>,
    handle: i32,
    symbol: i32,
    index_ptr: i32,
) -> WResult<i32> {
    let mut cx = caller.as_context_mut();
    let symbol = read_cstr(&cx, symbol as u32)?;
    let (found, lib_name) = if handle == 0 {
        (
            resolve_global(&mut cx, &symbol)?.map(|s| (s, 0usize)),
            "__main__".to_string(),
        )
    } else {
        let state = &cx.data().dylink();
        match state.by_handle.get(&(handle as u32)) {
            Some(&i) => {
                let lib = &state.libs[i];
                (
                    lib.by_name
                        .get(&symbol)
                        .map(|&pos| (lib.exports[pos].1.clone(), pos)),
                    lib.name.clone(),
                )
            }
            None => (None, format!("<invalid handle {handle:#x}>")),
        }
    };
    let Some((sym, pos)) = found else {
        set_dl_error(
            &mut cx,
            &format!("Tried to lookup unknown symbol \"{symbol}\" in dynamic lib: {lib_name}"),
        )?;
        return Ok(0);
    };
    Ok(match sym {
        Sym::Func(f) => {
            let (slot, added) = func_slot(&mut cx, &f)?;
            if added && index_ptr != 0 {
                write_u32(&mut cx, index_ptr as u32, pos as u32)?;
            }
            slot as i32
        }
        Sym::Addr(a) => a as i32,
        Sym::Other(Extern::Global(g)) => match g.get(&mut cx) {
            Val::I32(v) => v,
            _ => 0,
        },
        Sym::Other(_) => 0,
    })
}

/// `dlopenInternal`: read the request from the `struct dso` and load it.
/// The outer error is a guest failure; the inner one is `dlerror` text.
fn dlopen_internal<T: DylinkHost>(
    cx: &mut StoreContextMut<'_, T>,
    handle: u32,
) -> WResult<(String, Result<(), String>)> {
    let filename = normalize(&read_cstr(cx, handle + DSO_NAME)?);
    let flags = read_u32(cx, handle + DSO_FLAGS)? as i32;
    let global = flags & RTLD_GLOBAL != 0;
    let scope = if global {
        None
    } else {
        let state = &mut cx.data_mut().dylink_mut();
        state.scopes.push(Vec::new());
        Some(state.scopes.len() - 1)
    };
    let debug = std::env::var_os("PYODIDE_TEST_DEBUG_DLOPEN").is_some();
    let t0 = std::time::Instant::now();
    let result = match load_library(cx, &filename, global, scope, Some(handle), None) {
        Ok(_) => Ok(()),
        Err(LoadError::Link(msg)) => Err(msg),
        Err(LoadError::Guest(e)) => return Err(e),
    };
    if debug {
        eprintln!(
            "pyodide-test: dlopen {filename} (global={global}): {:?} in {:.1} ms",
            result.as_ref().map(|_| "ok"),
            t0.elapsed().as_secs_f64() * 1e3
        );
    }
    Ok((filename, result))
}

// ---------------------------------------------------------------------------
// Loading.

/// `loadDynamicLibrary`: load `name` (once per normalised path) and the
/// libraries it needs; returns its index.
fn load_library<T: DylinkHost>(
    cx: &mut StoreContextMut<'_, T>,
    name: &str,
    global: bool,
    scope: Option<usize>,
    handle: Option<u32>,
    rpath: Option<&(String, Vec<String>)>,
) -> LResult<usize> {
    let name = normalize(name);
    let state = &mut cx.data_mut().dylink_mut();
    if let Some(&i) = state.by_name.get(&name) {
        if !global {
            if let Some(s) = scope {
                state.scopes[s].push(i);
            }
        } else if !state.libs[i].global {
            state.libs[i].global = true;
        }
        if let Some(h) = handle {
            state.by_handle.insert(h, i);
        }
        return Ok(i);
    }
    let data = read_library(cx, &name, handle, rpath)?;
    let info = dylink::parse_module(&data).map_err(|e| LoadError::Link(format!("{name}: {e}")))?;

    // Register first (`newDSO(.., "loading")`): a needed library that needs
    // this one back finds it.
    let state = &mut cx.data_mut().dylink_mut();
    let index = state.libs.len();
    state.libs.push(Library {
        name: name.clone(),
        global,
        exports: Vec::new(),
        by_name: HashMap::new(),
        scope,
    });
    state.by_name.insert(name.clone(), index);
    if let Some(h) = handle {
        state.by_handle.insert(h, index);
    }
    let result = load_registered(cx, index, &name, &data, &info, global, scope, handle);
    if result.is_err() {
        let state = &mut cx.data_mut().dylink_mut();
        state.by_name.remove(&name);
        state.by_handle.retain(|_, i| *i != index);
        for entry in state.got.values_mut() {
            if entry.pending {
                entry.required = false;
            }
        }
        state.late_slots.retain(|_, s| s.lib != index);
    }
    result.map(|()| index)
}

#[allow(clippy::too_many_arguments)]
fn load_registered<T: DylinkHost>(
    cx: &mut StoreContextMut<'_, T>,
    index: usize,
    name: &str,
    data: &[u8],
    info: &DylinkInfo,
    global: bool,
    scope: Option<usize>,
    handle: Option<u32>,
) -> LResult<()> {
    let rpath = (name.to_string(), info.runtime_paths.clone());
    for needed in &info.needed {
        let path = find_library(cx, needed, Some(&rpath))?.unwrap_or_else(|| needed.clone());
        load_library(cx, &path, global, scope, None, Some(&rpath))
            .map_err(|e| prefix(e, &format!("{needed} (needed by {name})")))?;
    }
    let cache = cx.data().dylink().modules.clone();
    let module =
        compile(cx.engine(), &cache, data, name).map_err(|e| LoadError::Link(format!("{e:#}")))?;

    // Memory and table slots.
    let main = main_instance(cx)?;
    let table = table(&*cx)?;
    let align = 1u32 << info.memory_align;
    let memory_base = if info.memory_size > 0 {
        let calloc = main.get_typed_func::<(i32, i32), i32>(&mut *cx, "calloc")?;
        let size = info
            .memory_size
            .checked_add(align)
            .ok_or_else(|| LoadError::Link(format!("{name}: memory size too large")))?;
        let p = calloc.call(&mut *cx, (size as i32, 1))? as u32;
        if p == 0 {
            return link_err(format!("{name}: out of memory for its static data"));
        }
        p.div_ceil(align) * align
    } else {
        0
    };
    ensure_table_scanned(cx)?;
    let table_base = if info.table_size > 0 {
        table.grow(&mut *cx, u64::from(info.table_size), Ref::Func(None))? as u32
    } else {
        0
    };
    if let Some(h) = handle {
        write_bytes(cx, h + DSO_MEM_ALLOCATED, &[1])?;
        write_u32(cx, h + DSO_MEM_ADDR, memory_base)?;
        write_u32(cx, h + DSO_MEM_SIZE, info.memory_size)?;
        write_u32(cx, h + DSO_TABLE_ADDR, table_base)?;
        write_u32(cx, h + DSO_TABLE_SIZE, info.table_size)?;
    }

    // Imports.
    let mut imports = Vec::new();
    let mut late = Vec::new();
    for import in module.imports() {
        let (m, field) = (import.module(), import.name());
        let ext = match (m, field, import.ty()) {
            ("env", "memory", _) => Extern::Memory(memory(&*cx)?),
            ("env", "__indirect_function_table", _) => Extern::Table(table),
            ("env", "__memory_base", ExternType::Global(gt)) => {
                Global::new(&mut *cx, gt, Val::I32(memory_base as i32))?.into()
            }
            ("env", "__table_base", ExternType::Global(gt)) => {
                Global::new(&mut *cx, gt, Val::I32(table_base as i32))?.into()
            }
            ("GOT.mem" | "GOT.func", _, _) => {
                got_import(cx, field, info.weak_imports.contains(field))?.into()
            }
            ("env" | "wasi_snapshot_preview1", _, ExternType::Func(ty)) => {
                // JS-style exception helpers of a signature the main
                // module does not use are made for the side module.
                let js_eh = m == "env"
                    && (field.starts_with("invoke_")
                        || field.starts_with("__cxa_find_matching_catch_"));
                let own = if js_eh {
                    host_func(cx, m, field)
                        .or_else(|| super::js_eh::side_module_import(&mut *cx, field, &ty))
                } else {
                    None
                };
                match own.map_or_else(|| import_func(cx, index, m, field), |f| Ok(Some(f)))? {
                    Some(f) => f.into(),
                    None => {
                        late.push((imports.len(), field.to_string(), ty));
                        imports.push(None);
                        continue;
                    }
                }
            }
            ("env", _, ExternType::Global(gt)) => import_global(cx, name, field, gt)?,
            ("env", _, ExternType::Tag(_)) => match main
                .get_export(&mut *cx, field)
                .or_else(|| cx.data().dylink().main_imports.get(field).cloned())
            {
                Some(t @ Extern::Tag(_)) => t,
                _ => return link_err(format!("{name}: the main module exports no tag {field}")),
            },
            (_, _, ty) => {
                return link_err(format!(
                    "{name}: unsupported import {m}.{field} ({})",
                    kind_name(&ty)
                ));
            }
        };
        imports.push(Some(ext));
    }
    link_late(cx, index, late, &mut imports)?;
    let imports: Vec<Extern> = imports.into_iter().map(|e| e.expect("linked")).collect();
    let instance = Instance::new(&mut *cx, &module, &imports)
        .map_err(|e| LoadError::Link(format!("{name}: {e}")))?;

    // Exports, relocated.
    let mut exports = Vec::new();
    for export in instance.exports(&mut *cx) {
        let export_name = export.name().to_string();
        let ext = export.into_extern();
        exports.push((export_name, ext));
    }
    let mut syms = Vec::with_capacity(exports.len());
    for (export_name, ext) in exports {
        let sym = match ext {
            Extern::Func(f) => Sym::Func(f),
            Extern::Global(g) => {
                let ty = g.ty(&*cx);
                match (ty.mutability(), g.get(&mut *cx)) {
                    (Mutability::Const, Val::I32(v)) => {
                        Sym::Addr((v as u32).wrapping_add(memory_base))
                    }
                    _ => Sym::Other(Extern::Global(g)),
                }
            }
            other => Sym::Other(other),
        };
        syms.push((export_name, sym));
    }
    // The library's own element segment: reuse those slots for its
    // functions (`updateTableMap`).
    for slot in table_base..table_base + info.table_size {
        if let Some(Ref::Func(Some(f))) = table.get(&mut *cx, u64::from(slot)) {
            let raw = f.to_raw(&mut *cx) as usize;
            cx.data_mut().dylink_mut().func_slots.insert(raw, slot);
        }
    }
    let state = &mut cx.data_mut().dylink_mut();
    let lib = &mut state.libs[index];
    lib.by_name = syms
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (n.clone(), i))
        .collect();
    lib.exports = syms;
    if !global && let Some(s) = scope {
        state.scopes[s].push(index);
    }

    // `updateGOT` + `reportUndefinedSymbols`; late-bound imports (this
    // library's and earlier ones') that are now defined go straight into
    // their slots.
    resolve_pending_got(cx)?;
    bind_late_slots(cx)?;

    // Relocations, then constructors: guest code, errors pass unchanged.
    if let Some(f) = instance.get_func(&mut *cx, "__wasm_apply_data_relocs") {
        f.call(&mut *cx, &[], &mut [])?;
    }
    if let Some(f) = instance.get_func(&mut *cx, "__wasm_call_ctors") {
        f.call(&mut *cx, &[], &mut [])?;
    }
    Ok(())
}

fn prefix(e: LoadError, what: &str) -> LoadError {
    match e {
        LoadError::Link(msg) if !msg.contains(what) => {
            LoadError::Link(format!("could not load {what}: {msg}"))
        }
        other => other,
    }
}

fn kind_name(ty: &ExternType) -> &'static str {
    match ty {
        ExternType::Func(_) => "function",
        ExternType::Global(_) => "global",
        ExternType::Table(_) => "table",
        ExternType::Memory(_) => "memory",
        ExternType::Tag(_) => "tag",
    }
}

/// `loadLibData`: the bytes the `struct dso` carries, else the file found
/// by `findLibraryFS` (or the path itself, relative to the cwd).
fn read_library<T: DylinkHost>(
    cx: &mut StoreContextMut<'_, T>,
    name: &str,
    handle: Option<u32>,
    rpath: Option<&(String, Vec<String>)>,
) -> LResult<Vec<u8>> {
    if let Some(h) = handle {
        let ptr = read_u32(cx, h + DSO_FILE_DATA)?;
        let len = read_u32(cx, h + DSO_FILE_DATA_SIZE)?;
        if ptr != 0 && len != 0 {
            let mem = memory(&*cx)?;
            let mut buf = vec![0u8; len as usize];
            mem.read(&*cx, ptr as usize, &mut buf)
                .map_err(|e| LoadError::Link(format!("{name}: {e}")))?;
            return Ok(buf);
        }
    }
    let path = find_library(cx, name, rpath)?.unwrap_or_else(|| name.to_string());
    match read_guest_file(cx.data_mut().kernel(), &path) {
        Some(bytes) => Ok(bytes),
        None => link_err(format!("Failed to find dynamic library \"{name}\"")),
    }
}

/// Read a whole file of the guest's file system (MEMFS or a mount).
fn read_guest_file(kernel: &mut crate::syscalls::Kernel, path: &str) -> Option<Vec<u8>> {
    // MEMFS or a host mount alike; a file the host cannot hold (a huge
    // sparse one) is "not found" rather than an abort.
    let data = kernel.file_data(path).ok()?;
    let bytes = data.as_slice();
    let mut out = Vec::new();
    out.try_reserve_exact(bytes.len()).ok()?;
    out.extend_from_slice(bytes);
    Some(out)
}

/// `findLibraryFS`: an absolute path if it exists; else the guest's own
/// `_emscripten_find_dylib` (its `LD_LIBRARY_PATH`, then the rpath with
/// `$ORIGIN` replaced by the directory of the library that needs it).
fn find_library<T: DylinkHost>(
    cx: &mut StoreContextMut<'_, T>,
    name: &str,
    rpath: Option<&(String, Vec<String>)>,
) -> LResult<Option<String>> {
    if name.starts_with('/') {
        let exists = read_guest_file_exists(cx.data_mut().kernel(), name);
        return Ok(exists.then(|| name.to_string()));
    }
    let rpath_joined = rpath
        .map(|(parent, paths)| {
            let origin = match parent.rfind('/') {
                Some(0) => "/".to_string(),
                Some(i) => parent[..i].to_string(),
                None => ".".to_string(),
            };
            paths
                .iter()
                .map(|p| p.replace("$ORIGIN", &origin))
                .collect::<Vec<_>>()
                .join(":")
        })
        .unwrap_or_default();
    let main = main_instance(cx)?;
    let Ok(find) =
        main.get_typed_func::<(i32, i32, i32, i32), i32>(&mut *cx, "_emscripten_find_dylib")
    else {
        return Ok(None);
    };
    let buf_size = 2 * 255 + 2;
    let buf = malloc(cx, buf_size)?;
    let rp = cstring(cx, &rpath_joined)?;
    let file = cstring(cx, name)?;
    let res = find.call(
        &mut *cx,
        (buf as i32, rp as i32, file as i32, buf_size as i32),
    )?;
    let found = if res != 0 {
        Some(read_cstr(cx, res as u32)?)
    } else {
        None
    };
    for p in [buf, rp, file] {
        free(cx, p)?;
    }
    Ok(found)
}

fn read_guest_file_exists(kernel: &mut crate::syscalls::Kernel, path: &str) -> bool {
    match kernel.do_open(kernel.cwd, path.as_bytes(), 0, 0) {
        Ok(fd) => {
            let _ = kernel.close_fd(fd);
            true
        }
        Err(_) => false,
    }
}

/// Compile a side module through the on-disk cache, and keep it for the
/// rest of the process (a second instance loading the same bytes pays
/// nothing).
fn compile(
    engine: &Engine,
    cache: &ModuleCache,
    data: &[u8],
    name: &str,
) -> anyhow::Result<Module> {
    type Memo = Mutex<Vec<(Engine, [u8; 32], Module)>>;
    static MEMO: OnceLock<Memo> = OnceLock::new();
    let key: [u8; 32] = Sha256::digest(data).into();
    let memo = MEMO.get_or_init(Default::default);
    if let Some((_, _, m)) = memo
        .lock()
        .expect("memo lock")
        .iter()
        .find(|(e, k, _)| *k == key && Engine::same(e, engine))
    {
        return Ok(m.clone());
    }
    let module = cache.load_digested(engine, data, &key, name)?;
    memo.lock()
        .expect("memo lock")
        .push((engine.clone(), key, module.clone()));
    Ok(module)
}

// ---------------------------------------------------------------------------
// Symbols.

fn main_instance<T: DylinkHost>(cx: &StoreContextMut<'_, T>) -> LResult<Instance> {
    cx.data()
        .dylink()
        .main
        .ok_or_else(|| LoadError::Link("the dynamic linker is not initialised".into()))
}

fn is_internal(name: &str) -> bool {
    matches!(
        name,
        "memory"
            | "__memory_base"
            | "__table_base"
            | "__stack_pointer"
            | "__indirect_function_table"
            | "__cpp_exception"
            | "__c_longjmp"
            | "__wasm_apply_data_relocs"
            | "__dso_handle"
            | "__tls_size"
            | "__tls_align"
            | "__set_stack_limits"
            | "_emscripten_tls_init"
            | "__wasm_init_tls"
            | "__wasm_call_ctors"
            | "__start_em_asm"
            | "__stop_em_asm"
            | "__start_em_js"
            | "__stop_em_js"
    ) || name.starts_with("__em_js__")
}

/// A main-module export as a symbol.
fn main_sym<T: DylinkHost>(cx: &mut StoreContextMut<'_, T>, name: &str) -> Option<Sym> {
    let main = cx.data().dylink().main?;
    let base = cx.data().dylink().main_memory_base;
    Some(match main.get_export(&mut *cx, name)? {
        Extern::Func(f) => Sym::Func(f),
        Extern::Global(g) => match (g.ty(&*cx).mutability(), g.get(&mut *cx)) {
            (Mutability::Const, Val::I32(v)) => Sym::Addr((v as u32).wrapping_add(base)),
            _ => Sym::Other(Extern::Global(g)),
        },
        other => Sym::Other(other),
    })
}

/// A host runtime import (what the main module's linker defines).
fn host_func<T: DylinkHost>(
    cx: &mut StoreContextMut<'_, T>,
    module: &str,
    name: &str,
) -> Option<Func> {
    let key = (module.to_string(), name.to_string());
    if let Some(f) = cx.data().dylink().host_funcs.get(&key) {
        return *f;
    }
    let linker = cx.data().dylink().host.clone()?;
    let f = linker
        .get(&mut *cx, module, name)
        .ok()
        .and_then(|e| e.into_func());
    cx.data_mut().dylink_mut().host_funcs.insert(key, f);
    f
}

/// The symbol's export from library `i`, unless internal.
fn lib_sym<T>(state: &DylinkState<T>, i: usize, name: &str) -> Option<Sym> {
    if is_internal(name) {
        return None;
    }
    let lib = &state.libs[i];
    lib.by_name.get(name).map(|&p| lib.exports[p].1.clone())
}

/// The global namespace (`wasmImports`): main module exports, libraries
/// loaded with `RTLD_GLOBAL` in load order, the host's runtime imports.
fn resolve_global<T: DylinkHost>(
    cx: &mut StoreContextMut<'_, T>,
    name: &str,
) -> WResult<Option<Sym>> {
    if let Some(s) = main_sym(cx, name) {
        return Ok(Some(s));
    }
    let state = &cx.data().dylink();
    if let Some(s) = (0..state.libs.len())
        .filter(|&i| state.libs[i].global)
        .find_map(|i| lib_sym(state, i, name))
    {
        return Ok(Some(s));
    }
    Ok(host_func(cx, "env", name).map(Sym::Func))
}

/// What a `GOT` cell for `name` should hold, if anything defines it yet:
/// main exports, then every loaded library in load order (the JS glue's
/// `updateGOT` runs for each, global or not), then the global namespace.
fn got_value<T: DylinkHost>(cx: &mut StoreContextMut<'_, T>, name: &str) -> WResult<Option<u32>> {
    let sym = match main_sym(cx, name) {
        Some(s) => Some(s),
        None => {
            let state = &cx.data().dylink();
            match (0..state.libs.len()).find_map(|i| lib_sym(state, i, name)) {
                Some(s) => Some(s),
                None => host_func(cx, "env", name).map(Sym::Func),
            }
        }
    };
    Ok(match sym {
        None => None,
        Some(Sym::Func(f)) => Some(func_slot(cx, &f)?.0),
        Some(Sym::Addr(a)) => Some(a),
        Some(Sym::Other(Extern::Global(g))) => match g.get(&mut *cx) {
            Val::I32(v) => Some(v as u32),
            _ => None,
        },
        Some(Sym::Other(_)) => None,
    })
}

/// The shared `GOT` cell for `name` (created on first import).
fn got_import<T: DylinkHost>(
    cx: &mut StoreContextMut<'_, T>,
    name: &str,
    weak: bool,
) -> WResult<Global> {
    if let Some(entry) = cx.data_mut().dylink_mut().got.get_mut(name) {
        if !weak {
            entry.required = true;
        }
        return Ok(entry.global);
    }
    let value = got_value(cx, name)?;
    let ty = GlobalType::new(ValType::I32, Mutability::Var);
    let global = Global::new(&mut *cx, ty, Val::I32(value.map_or(-1, |v| v as i32)))?;
    cx.data_mut().dylink_mut().got.insert(
        name.to_string(),
        GotEntry {
            global,
            pending: value.is_none(),
            required: !weak,
        },
    );
    Ok(global)
}

/// Fill the pending `GOT` cells that are now defined; a weak one that is
/// still undefined becomes 0, a required one is an error.
fn resolve_pending_got<T: DylinkHost>(cx: &mut StoreContextMut<'_, T>) -> LResult<()> {
    let pending: Vec<String> = cx
        .data()
        .dylink()
        .got
        .iter()
        .filter(|(_, e)| e.pending)
        .map(|(n, _)| n.clone())
        .collect();
    let mut undefined = Vec::new();
    for name in pending {
        let value = got_value(cx, &name)?;
        let entry = &cx.data().dylink().got[&name];
        let (global, required) = (entry.global, entry.required);
        match value {
            Some(v) => global.set(&mut *cx, Val::I32(v as i32))?,
            None if required => {
                undefined.push(name);
                continue;
            }
            None => global.set(&mut *cx, Val::I32(0))?,
        }
        cx.data_mut()
            .dylink_mut()
            .got
            .get_mut(&name)
            .expect("entry")
            .pending = false;
    }
    if let Some(first) = undefined.into_iter().min() {
        return link_err(format!("Dynamic linking error: undefined symbol '{first}'"));
    }
    Ok(())
}

/// The table slot of `f`: its existing one, else a new one
/// (`getFunctionAddress` / `addFunction`). Returns (slot, newly added).
fn func_slot<T: DylinkHost>(cx: &mut StoreContextMut<'_, T>, f: &Func) -> WResult<(u32, bool)> {
    ensure_table_scanned(cx)?;
    let raw = f.to_raw(&mut *cx) as usize;
    if let Some(&slot) = cx.data().dylink().func_slots.get(&raw) {
        return Ok((slot, false));
    }
    let table = table(&*cx)?;
    let slot = table.grow(&mut *cx, 1, Ref::Func(Some(*f)))? as u32;
    cx.data_mut().dylink_mut().func_slots.insert(raw, slot);
    Ok((slot, true))
}

/// Index the functions already in the table (once, at the first use).
fn ensure_table_scanned<T: DylinkHost>(cx: &mut StoreContextMut<'_, T>) -> WResult<()> {
    if cx.data().dylink().table_scanned {
        return Ok(());
    }
    let table = table(&*cx)?;
    let size = table.size(&*cx);
    let mut map = HashMap::new();
    for i in 0..size {
        if let Some(Ref::Func(Some(f))) = table.get(&mut *cx, i) {
            map.entry(f.to_raw(&mut *cx) as usize).or_insert(i as u32);
        }
    }
    let state = &mut cx.data_mut().dylink_mut();
    for (raw, slot) in map {
        state.func_slots.entry(raw).or_insert(slot);
    }
    state.table_scanned = true;
    Ok(())
}

/// An `env.*` / `wasi_snapshot_preview1.*` function import of library
/// `lib`: the global namespace, then its `RTLD_LOCAL` scope; `None` when
/// it must be bound late.
fn import_func<T: DylinkHost>(
    cx: &mut StoreContextMut<'_, T>,
    lib: usize,
    module: &str,
    name: &str,
) -> WResult<Option<Func>> {
    if module == "wasi_snapshot_preview1" {
        if let Some(f) = host_func(cx, module, name) {
            return Ok(Some(f));
        }
    } else {
        if let Some(Sym::Func(f)) = resolve_global(cx, name)? {
            return Ok(Some(f));
        }
        if let Some(Sym::Func(f)) = scope_sym(cx.data().dylink(), lib, name) {
            return Ok(Some(f));
        }
    }
    if std::env::var_os("PYODIDE_TEST_DEBUG_DLOPEN").is_some() {
        eprintln!("pyodide-test: dlopen: {name} is bound late");
    }
    Ok(None)
}

/// Link library `lib`'s late-bound function imports (`late`: position in
/// `imports`, symbol, type). Each gets a table slot and a wasm forwarder
/// that calls it (one `call_indirect` once resolved); the slot starts with
/// a host stub that resolves the symbol on first call and writes it into
/// the slot. An import whose type a forwarder cannot carry gets the host
/// stub itself.
fn link_late<T: DylinkHost>(
    cx: &mut StoreContextMut<'_, T>,
    lib: usize,
    late: Vec<(usize, String, FuncType)>,
    imports: &mut [Option<Extern>],
) -> LResult<()> {
    // `PYODIDE_TEST_DYLINK_HOST_STUBS=1`: host stubs only (to compare).
    let stubs_only = std::env::var_os("PYODIDE_TEST_DYLINK_HOST_STUBS").is_some();
    let mut forwarded = Vec::new();
    let mut sigs = Vec::new();
    for (pos, name, ty) in late {
        match dso_forward::encode_func_type(&ty) {
            Some(sig) if !stubs_only => {
                sigs.push(sig);
                forwarded.push((pos, name, ty));
            }
            _ => imports[pos] = Some(late_stub(cx, lib, name, ty, None).into()),
        }
    }
    if forwarded.is_empty() {
        return Ok(());
    }
    let table = table(&*cx)?;
    let base = table.grow(&mut *cx, forwarded.len() as u64, Ref::Func(None))? as u32;
    for (i, (_, name, ty)) in forwarded.iter().enumerate() {
        let slot = base + i as u32;
        let stub = late_stub(cx, lib, name.clone(), ty.clone(), Some(slot));
        table.set(&mut *cx, u64::from(slot), Ref::Func(Some(stub)))?;
        cx.data_mut().dylink_mut().late_slots.insert(
            slot,
            LateSlot {
                lib,
                name: name.clone(),
                ty: ty.clone(),
            },
        );
    }
    let bytes = dso_forward::module_bytes(&sigs);
    let cache = cx.data().dylink().modules.clone();
    let module = compile(cx.engine(), &cache, &bytes, "late-binding forwarders")
        .map_err(|e| LoadError::Link(format!("{e:#}")))?;
    let base_ty = GlobalType::new(ValType::I32, Mutability::Const);
    let base = Global::new(&mut *cx, base_ty, Val::I32(base as i32))?;
    let forwarders = Instance::new(&mut *cx, &module, &[table.into(), base.into()])?;
    for (i, (pos, ..)) in forwarded.iter().enumerate() {
        let f = forwarders
            .get_func(&mut *cx, &i.to_string())
            .expect("forwarder export");
        imports[*pos] = Some(f.into());
    }
    Ok(())
}

/// The host function behind a late-bound import: resolves the symbol on
/// its first call, then (with a forwarder's `slot`) puts the resolved
/// function into the slot so later calls stay in wasm, and forwards the
/// call. Errors from the callee (exceptions, exits, traps) pass unchanged.
fn late_stub<T: DylinkHost>(
    cx: &mut StoreContextMut<'_, T>,
    lib: usize,
    name: String,
    ty: FuncType,
    slot: Option<u32>,
) -> Func {
    Func::new(&mut *cx, ty.clone(), move |mut caller, params, results| {
        let mut cx = caller.as_context_mut();
        let f = resolve_late(&mut cx, lib, &name)?;
        if let Some(slot) = slot {
            bind_slot(&mut cx, slot, f, &ty)?;
        }
        f.call(&mut cx, params, results)
    })
}

/// Put `f` into a late-bound import's slot if its type is the import's
/// (else the stub stays, and its call reports the mismatch).
fn bind_slot<T: DylinkHost>(
    cx: &mut StoreContextMut<'_, T>,
    slot: u32,
    f: Func,
    ty: &FuncType,
) -> WResult<()> {
    if !f.ty(&*cx).matches(ty) {
        return Ok(());
    }
    let table = table(&*cx)?;
    table.set(&mut *cx, u64::from(slot), Ref::Func(Some(f)))?;
    cx.data_mut().dylink_mut().late_slots.remove(&slot);
    Ok(())
}

/// Bind every late-bound slot whose symbol is now defined.
fn bind_late_slots<T: DylinkHost>(cx: &mut StoreContextMut<'_, T>) -> WResult<()> {
    let mut pending: Vec<(u32, usize, String)> = cx
        .data()
        .dylink()
        .late_slots
        .iter()
        .map(|(&slot, s)| (slot, s.lib, s.name.clone()))
        .collect();
    pending.sort_unstable_by_key(|p| p.0);
    for (slot, lib, name) in pending {
        if let Some(f) = lookup_late(cx, lib, &name)? {
            let ty = cx.data().dylink().late_slots[&slot].ty.clone();
            bind_slot(cx, slot, f, &ty)?;
        }
    }
    Ok(())
}

/// A symbol of library `lib`'s `RTLD_LOCAL` scope (later libraries win,
/// as `Object.assign` into the JS `localScope` does).
fn scope_sym<T>(state: &DylinkState<T>, lib: usize, name: &str) -> Option<Sym> {
    let scope = state.libs[lib].scope?;
    state.scopes[scope]
        .iter()
        .rev()
        .find_map(|&i| lib_sym(state, i, name))
}

/// A late-bound function: global namespace, then the library's scope, then
/// its own exports (the JS stub's `resolveSymbol`).
fn resolve_late<T: DylinkHost>(
    cx: &mut StoreContextMut<'_, T>,
    lib: usize,
    name: &str,
) -> WResult<Func> {
    lookup_late(cx, lib, name)?
        .ok_or_else(|| wasmtime::format_err!("Dynamic linking error: cannot resolve symbol {name}"))
}

/// [`resolve_late`], `None` when nothing defines the symbol yet.
fn lookup_late<T: DylinkHost>(
    cx: &mut StoreContextMut<'_, T>,
    lib: usize,
    name: &str,
) -> WResult<Option<Func>> {
    let key = (lib, name.to_string());
    if let Some(f) = cx.data().dylink().late.get(&key) {
        return Ok(Some(*f));
    }
    let sym = match resolve_global(cx, name)? {
        Some(s) => Some(s),
        None => {
            let state = &cx.data().dylink();
            scope_sym(state, lib, name).or_else(|| {
                let own = &state.libs[lib];
                own.by_name.get(name).map(|&p| own.exports[p].1.clone())
            })
        }
    };
    match sym {
        Some(Sym::Func(f)) => {
            cx.data_mut().dylink_mut().late.insert(key, f);
            Ok(Some(f))
        }
        _ => Ok(None),
    }
}

/// An `env.*` global import other than the linker's own: a main-module
/// global of the same type, or a symbol's address.
fn import_global<T: DylinkHost>(
    cx: &mut StoreContextMut<'_, T>,
    lib_name: &str,
    name: &str,
    gt: GlobalType,
) -> LResult<Extern> {
    let main = main_instance(cx)?;
    let shared = cx.data().dylink().main_imports.get(name).cloned();
    if let Some(Extern::Global(g)) = shared.or_else(|| main.get_export(&mut *cx, name)) {
        let ty = g.ty(&*cx);
        if ty.mutability() == gt.mutability() {
            return Ok(g.into());
        }
    }
    match got_value(cx, name)? {
        Some(v) if gt.content().is_i32() => {
            Ok(Global::new(&mut *cx, gt, Val::I32(v as i32))?.into())
        }
        _ => link_err(format!("{lib_name}: undefined global {name}")),
    }
}

/// `s` as a C string in guest memory, or an error when `malloc` fails.
fn cstring<T: DylinkHost>(cx: &mut StoreContextMut<'_, T>, s: &str) -> WResult<u32> {
    match alloc_cstr(cx, s)? {
        0 => Err(wasmtime::format_err!("out of guest memory")),
        p => Ok(p),
    }
}

/// `dlSetError`: hand `msg` to the main module's `__dl_seterr` (a printf
/// format, so `%` is escaped), which `dlerror()` then returns.
fn set_dl_error<T: DylinkHost>(cx: &mut StoreContextMut<'_, T>, msg: &str) -> WResult<()> {
    let Some(main) = cx.data().dylink().main else {
        return Ok(());
    };
    let Ok(seterr) = main.get_typed_func::<(i32, i32), ()>(&mut *cx, "__dl_seterr") else {
        return Ok(());
    };
    let p = cstring(cx, &msg.replace('%', "%%"))?;
    seterr.call(&mut *cx, (p as i32, 0))?;
    free(cx, p)
}

/// `PATH.normalize`: collapse `//`, `.` and `..` (a relative path keeps
/// leading `..`), drop a trailing `/`.
pub fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_like_path_normalize() {
        assert_eq!(
            normalize("/lib//python3.14/./x/../a.so"),
            "/lib/python3.14/a.so"
        );
        assert_eq!(normalize("a/../../b"), "../b");
        assert_eq!(normalize("/../a"), "/a");
        assert_eq!(normalize("./"), ".");
        assert_eq!(normalize("libfoo.so"), "libfoo.so");
    }

    #[test]
    fn internal_symbols() {
        assert!(is_internal("__wasm_call_ctors"));
        assert!(is_internal("__em_js__foo"));
        assert!(!is_internal("PyInit_x"));
    }
}
