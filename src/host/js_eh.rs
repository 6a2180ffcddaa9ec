//! C++ exceptions and `longjmp` the way Emscripten 3's JS glue does them,
//! for main modules that import `invoke_*` (no wasm exceptions):
//!
//! - a throw (`__cxa_throw`, `__cxa_rethrow`, `__resumeException`,
//!   `_emscripten_throw_longjmp`) is a JS throw of a number. Here it is a
//!   host error, [`JsThrow`], that unwinds the wasm frames as a trap does;
//! - `invoke_<sig>(index, args...)` calls the table entry `index`; when a
//!   [`JsThrow`] comes out of it (through any number of wasm and host
//!   frames) it restores the stack pointer, calls the module's
//!   `setThrew(1, 0)` and returns zeros, which the caller's landing pad
//!   then reads. Any other error (a trap, `exit`, an interrupt) goes on;
//! - the C++ runtime's JS side (`__cxa_begin_catch`, `__cxa_end_catch`,
//!   `__cxa_find_matching_catch_N`, ...) keeps its state here: the last
//!   thrown exception, the stack of caught ones and the uncaught count,
//!   and each exception's header 24 bytes before it (type at +4,
//!   destructor at +8, caught at +12, rethrown at +13, adjusted pointer at
//!   +16).
//!
//! Which of these imports a module has decides what is defined: every
//! `invoke_*` and `__cxa_find_matching_catch_*` it declares gets a host
//! function of its declared type.

use std::fmt;

use wasmtime::{Caller, Func, FuncType, Linker, Module, Val, ValType};

use super::exit::GuestAbort;
use super::instance::{HostState, handles, read_u32, table_func, write_bytes, write_u32};

type Result<T> = wasmtime::Result<T>;

/// A JS throw of a number: a C++ exception (its pointer) or a `longjmp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsThrow {
    /// A C++ exception object.
    Cpp(u32),
    /// `emscripten_longjmp` (`setThrew` already holds the target).
    Longjmp,
}

impl fmt::Display for JsThrow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsThrow::Cpp(ptr) => write!(f, "uncaught C++ exception (object at {ptr:#x})"),
            JsThrow::Longjmp => write!(f, "longjmp with no setjmp to return to"),
        }
    }
}

impl std::error::Error for JsThrow {}

/// The glue's exception state, kept with the instance.
#[derive(Default)]
pub struct JsEhState {
    /// `exceptionLast`.
    last: u32,
    /// `exceptionCaught`: the caught exceptions' pointers, innermost last.
    caught: Vec<u32>,
    /// `uncaughtExceptionCount`.
    uncaught: i32,
    /// The main module's exports the glue calls.
    exports: Option<EhExports>,
}

impl JsEhState {
    /// Whether no C++ exception has been thrown yet.
    pub fn untouched(&self) -> bool {
        self.last == 0 && self.caught.is_empty() && self.uncaught == 0
    }
}

/// The main-module exports the exception glue calls.
#[derive(Clone)]
struct EhExports {
    set_threw: Func,
    set_tempret: Option<Func>,
    can_catch: Option<Func>,
    is_pointer_type: Option<Func>,
    incref: Option<Func>,
    decref: Option<Func>,
}

/// Store data that carries [`JsEhState`].
pub trait JsEhHost: HostState {
    /// The exception glue's state.
    fn js_eh(&mut self) -> &mut JsEhState;
}

/// Whether `err` is a JS throw that an `invoke_*` catches.
pub fn is_js_throw(err: &wasmtime::Error) -> bool {
    err.downcast_ref::<JsThrow>().is_some()
}

/// Look up the exports the glue calls on the instantiated main module.
/// A module without `setThrew` keeps no state (it has no `invoke_*`).
pub fn attach<T: JsEhHost>(
    store: &mut wasmtime::Store<T>,
    main: &wasmtime::Instance,
) -> Result<()> {
    let Some(set_threw) = main.get_func(&mut *store, "setThrew") else {
        return Ok(());
    };
    let mut get = |name: &str| main.get_func(&mut *store, name);
    let exports = EhExports {
        set_threw,
        set_tempret: get("setTempRet0").or_else(|| get("_emscripten_tempret_set")),
        can_catch: get("__cxa_can_catch"),
        is_pointer_type: get("__cxa_is_pointer_type"),
        incref: get("__cxa_increment_exception_refcount"),
        decref: get("__cxa_decrement_exception_refcount"),
    };
    store.data_mut().js_eh().exports = Some(exports);
    Ok(())
}

fn exports<T: JsEhHost>(c: &mut Caller<'_, T>) -> Result<EhExports> {
    c.data_mut()
        .js_eh()
        .exports
        .clone()
        .ok_or_else(|| wasmtime::format_err!("exception glue used before the module exports it"))
}

fn call_i32s<T: JsEhHost>(c: &mut Caller<'_, T>, f: &Func, args: &[i32]) -> Result<i32> {
    let args: Vec<Val> = args.iter().map(|v| Val::I32(*v)).collect();
    let mut out = vec![Val::I32(0); f.ty(&*c).results().len()];
    f.call(&mut *c, &args, &mut out)?;
    Ok(out.first().and_then(Val::i32).unwrap_or(0))
}

fn set_threw<T: JsEhHost>(c: &mut Caller<'_, T>, threw: i32, value: i32) -> Result<()> {
    let f = exports(c)?.set_threw;
    call_i32s(c, &f, &[threw, value]).map(|_| ())
}

fn set_tempret<T: JsEhHost>(c: &mut Caller<'_, T>, v: i32) -> Result<()> {
    match exports(c)?.set_tempret {
        Some(f) => call_i32s(c, &f, &[v]).map(|_| ()),
        None => Ok(()),
    }
}

fn refcount<T: JsEhHost>(c: &mut Caller<'_, T>, ptr: u32, up: bool) -> Result<()> {
    let e = exports(c)?;
    match if up { e.incref } else { e.decref } {
        Some(f) => call_i32s(c, &f, &[ptr as i32]).map(|_| ()),
        None => js_refcount(c, ptr, up),
    }
}

/// The refcount kept by the glue itself (Emscripten 3.1.32, whose module
/// imports `__cxa_{in,de}crement_exception_refcount`): an i32 at the start
/// of the header; the last release of an exception that is not being
/// rethrown runs its destructor and frees it.
fn js_refcount<T: JsEhHost>(c: &mut Caller<'_, T>, ptr: u32, up: bool) -> Result<()> {
    if ptr == 0 {
        return Ok(());
    }
    let count = header_u32(c, ptr, 0)? as i32;
    set_header_u32(c, ptr, 0, (if up { count + 1 } else { count - 1 }) as u32)?;
    if up || count != 1 || header_byte(c, ptr, RETHROWN)? {
        return Ok(());
    }
    let destructor = header_u32(c, ptr, DESTRUCTOR)?;
    if destructor != 0 {
        let f = table_func(c, destructor)?;
        call_i32s(c, &f, &[ptr as i32])?;
    }
    if let Some(free) = c
        .get_export("__cxa_free_exception")
        .and_then(|e| e.into_func())
    {
        call_i32s(c, &free, &[ptr as i32])?;
    }
    Ok(())
}

// The exception header, 24 bytes before the thrown object.
const HEADER: u32 = 24;
const TYPE: u32 = 4;
const DESTRUCTOR: u32 = 8;
const CAUGHT: u32 = 12;
const RETHROWN: u32 = 13;
const ADJUSTED: u32 = 16;

fn header_byte<T: JsEhHost>(c: &Caller<'_, T>, ptr: u32, off: u32) -> Result<bool> {
    let mem = handles(c)?.memory;
    let at = ptr.wrapping_sub(HEADER).wrapping_add(off) as usize;
    Ok(mem.data(c).get(at).copied().unwrap_or(0) != 0)
}

fn set_header_byte<T: JsEhHost>(c: &mut Caller<'_, T>, ptr: u32, off: u32, v: bool) -> Result<()> {
    write_bytes(
        c,
        ptr.wrapping_sub(HEADER).wrapping_add(off),
        &[u8::from(v)],
    )
}

fn header_u32<T: JsEhHost>(c: &Caller<'_, T>, ptr: u32, off: u32) -> Result<u32> {
    read_u32(c, ptr.wrapping_sub(HEADER).wrapping_add(off))
}

fn set_header_u32<T: JsEhHost>(c: &mut Caller<'_, T>, ptr: u32, off: u32, v: u32) -> Result<()> {
    write_u32(c, ptr.wrapping_sub(HEADER).wrapping_add(off), v)
}

fn throw<T>(_: &mut Caller<'_, T>, what: JsThrow) -> Result<()> {
    Err(wasmtime::Error::new(what))
}

/// Define the exception imports `module` declares on `linker`.
pub fn define<T: JsEhHost>(linker: &mut Linker<T>, module: &Module) -> Result<()> {
    linker.func_wrap(
        "env",
        "__cxa_throw",
        |mut c: Caller<'_, T>, ptr: i32, ty: i32, destructor: i32| -> Result<()> {
            let ptr = ptr as u32;
            set_header_u32(&mut c, ptr, ADJUSTED, 0)?;
            set_header_u32(&mut c, ptr, TYPE, ty as u32)?;
            set_header_u32(&mut c, ptr, DESTRUCTOR, destructor as u32)?;
            if exports(&mut c)?.incref.is_none() {
                // The glue owns the refcount and flags of this libc++.
                set_header_u32(&mut c, ptr, 0, 0)?;
                set_header_byte(&mut c, ptr, CAUGHT, false)?;
                set_header_byte(&mut c, ptr, RETHROWN, false)?;
            }
            let st = c.data_mut().js_eh();
            st.last = ptr;
            st.uncaught += 1;
            throw(&mut c, JsThrow::Cpp(ptr))
        },
    )?;
    linker.func_wrap(
        "env",
        "__cxa_begin_catch",
        |mut c: Caller<'_, T>, ptr: i32| -> Result<i32> {
            let ptr = ptr as u32;
            if !header_byte(&c, ptr, CAUGHT)? {
                set_header_byte(&mut c, ptr, CAUGHT, true)?;
                c.data_mut().js_eh().uncaught -= 1;
            }
            set_header_byte(&mut c, ptr, RETHROWN, false)?;
            c.data_mut().js_eh().caught.push(ptr);
            refcount(&mut c, ptr, true)?;
            // The pointer the handler sees (`get_exception_ptr`).
            let ty = header_u32(&c, ptr, TYPE)?;
            if let Some(f) = exports(&mut c)?.is_pointer_type
                && call_i32s(&mut c, &f, &[ty as i32])? != 0
            {
                return Ok(read_u32(&c, ptr)? as i32);
            }
            match header_u32(&c, ptr, ADJUSTED)? {
                0 => Ok(ptr as i32),
                adjusted => Ok(adjusted as i32),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "__cxa_end_catch",
        |mut c: Caller<'_, T>| -> Result<()> {
            set_threw(&mut c, 0, 0)?;
            let st = c.data_mut().js_eh();
            let ptr = st.caught.pop();
            st.last = 0;
            match ptr {
                Some(p) => refcount(&mut c, p, false),
                None => Err(wasmtime::Error::new(GuestAbort(
                    "__cxa_end_catch with no exception caught".into(),
                ))),
            }
        },
    )?;
    linker.func_wrap("env", "__cxa_rethrow", |mut c: Caller<'_, T>| {
        rethrow(&mut c)
    })?;
    for (name, up) in [
        ("__cxa_increment_exception_refcount", true),
        ("__cxa_decrement_exception_refcount", false),
    ] {
        linker.func_wrap("env", name, move |mut c: Caller<'_, T>, ptr: i32| {
            js_refcount(&mut c, ptr as u32, up)
        })?;
    }
    linker.func_wrap(
        "env",
        "__cxa_rethrow_primary_exception",
        |mut c: Caller<'_, T>, ptr: i32| -> Result<()> {
            if ptr == 0 {
                return Ok(());
            }
            c.data_mut().js_eh().caught.push(ptr as u32);
            set_header_byte(&mut c, ptr as u32, RETHROWN, true)?;
            rethrow(&mut c)
        },
    )?;
    linker.func_wrap(
        "env",
        "__cxa_current_primary_exception",
        |mut c: Caller<'_, T>| -> Result<i32> {
            let Some(&top) = c.data_mut().js_eh().caught.last() else {
                return Ok(0);
            };
            refcount(&mut c, top, true)?;
            Ok(top as i32)
        },
    )?;
    linker.func_wrap(
        "env",
        "__cxa_uncaught_exceptions",
        |mut c: Caller<'_, T>| -> i32 { c.data_mut().js_eh().uncaught },
    )?;
    linker.func_wrap(
        "env",
        "__resumeException",
        |mut c: Caller<'_, T>, ptr: i32| -> Result<()> {
            let st = c.data_mut().js_eh();
            if st.last == 0 {
                st.last = ptr as u32;
            }
            let last = st.last;
            throw(&mut c, JsThrow::Cpp(last))
        },
    )?;
    linker.func_wrap(
        "env",
        "_emscripten_throw_longjmp",
        |mut c: Caller<'_, T>| -> Result<()> { throw(&mut c, JsThrow::Longjmp) },
    )?;
    for import in module.imports() {
        let name = import.name();
        let Some(ty) = import.ty().func().cloned() else {
            continue;
        };
        if import.module() != "env" {
            continue;
        }
        if name.starts_with("invoke_") {
            define_invoke(linker, name, ty)?;
        } else if name.starts_with("__cxa_find_matching_catch_") {
            linker.func_new("env", name, ty, find_matching_catch_body::<T>)?;
        }
    }
    Ok(())
}

fn rethrow<T: JsEhHost>(c: &mut Caller<'_, T>) -> Result<()> {
    let Some(ptr) = c.data_mut().js_eh().caught.pop() else {
        return Err(wasmtime::Error::new(GuestAbort(
            "no exception to throw".into(),
        )));
    };
    if !header_byte(c, ptr, RETHROWN)? {
        c.data_mut().js_eh().caught.push(ptr);
        set_header_byte(c, ptr, RETHROWN, true)?;
        set_header_byte(c, ptr, CAUGHT, false)?;
        c.data_mut().js_eh().uncaught += 1;
    }
    c.data_mut().js_eh().last = ptr;
    throw(c, JsThrow::Cpp(ptr))
}

/// `findMatchingCatch`: which of the landing pad's `types` catches the
/// last thrown exception; the type goes to tempRet0, the exception is
/// returned.
fn find_matching_catch<T: JsEhHost>(c: &mut Caller<'_, T>, types: &[u32]) -> Result<u32> {
    let thrown = c.data_mut().js_eh().last;
    if thrown == 0 {
        set_tempret(c, 0)?;
        return Ok(0);
    }
    set_header_u32(c, thrown, ADJUSTED, thrown)?;
    let thrown_type = header_u32(c, thrown, TYPE)?;
    if thrown_type == 0 {
        set_tempret(c, 0)?;
        return Ok(thrown);
    }
    let can_catch = exports(c)?.can_catch;
    for &caught in types {
        if caught == 0 || caught == thrown_type {
            break;
        }
        let adjusted_addr = thrown.wrapping_sub(HEADER) + ADJUSTED;
        if let Some(f) = &can_catch
            && call_i32s(
                c,
                f,
                &[caught as i32, thrown_type as i32, adjusted_addr as i32],
            )? != 0
        {
            set_tempret(c, caught as i32)?;
            return Ok(thrown);
        }
    }
    set_tempret(c, thrown_type as i32)?;
    Ok(thrown)
}

/// `invoke_<sig>`: call `table[index]` with the rest of the arguments;
/// catch a [`JsThrow`] as the glue does.
fn define_invoke<T: JsEhHost>(linker: &mut Linker<T>, name: &str, ty: FuncType) -> Result<()> {
    let body = invoke_body::<T>(&ty);
    linker.func_new("env", name, ty, body)?;
    Ok(())
}

/// A host function for an `invoke_*` or `__cxa_find_matching_catch_*`
/// import of a side module whose type the main module does not import
/// (`None` for any other name).
pub fn side_module_import<T: JsEhHost>(
    store: impl wasmtime::AsContextMut<Data = T>,
    name: &str,
    ty: &FuncType,
) -> Option<Func> {
    if name.starts_with("invoke_") {
        Some(Func::new(store, ty.clone(), invoke_body::<T>(ty)))
    } else if name.starts_with("__cxa_find_matching_catch_") && ty.results().len() == 1 {
        Some(Func::new(store, ty.clone(), find_matching_catch_body::<T>))
    } else {
        None
    }
}

fn find_matching_catch_body<T: JsEhHost>(
    mut c: Caller<'_, T>,
    params: &[Val],
    results: &mut [Val],
) -> Result<()> {
    let types: Vec<u32> = params
        .iter()
        .filter_map(Val::i32)
        .map(|v| v as u32)
        .collect();
    results[0] = Val::I32(find_matching_catch(&mut c, &types)? as i32);
    Ok(())
}

type HostBody<T> = dyn Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static;

fn invoke_body<T: JsEhHost>(ty: &FuncType) -> Box<HostBody<T>> {
    let zeros: Vec<Val> = ty
        .results()
        .map(|r| match r {
            // JS `undefined` as a float is NaN.
            ValType::F32 => Val::F32(f32::NAN.to_bits()),
            ValType::F64 => Val::F64(f64::NAN.to_bits()),
            other => Val::default_for_ty(&other).unwrap_or(Val::I32(0)),
        })
        .collect();
    let args_ty: Vec<ValType> = ty.params().skip(1).collect();
    let results_ty: Vec<ValType> = ty.results().collect();
    let same = |a: &mut dyn ExactSizeIterator<Item = ValType>, b: &[ValType]| {
        a.len() == b.len() && a.zip(b).all(|(x, y)| ValType::eq(&x, y))
    };
    Box::new(move |mut c, params, results| {
        let sp_global = handles(&c)?.stack_pointer;
        let sp = sp_global.map(|g| g.get(&mut c));
        let index = params.first().and_then(Val::i32).unwrap_or(0) as u32;
        let func = table_func(&mut c, index)?;
        let callee = func.ty(&c);
        let outcome =
            if same(&mut callee.params(), &args_ty) && same(&mut callee.results(), &results_ty) {
                func.call(&mut c, &params[1..], results)
            } else {
                // A cast function pointer: JS drops or pads arguments.
                let args: Vec<Val> = callee
                    .params()
                    .enumerate()
                    .map(|(i, p)| match params.get(i + 1) {
                        Some(v) if v.ty(&c).is_ok_and(|t| ValType::eq(&t, &p)) => *v,
                        _ => Val::default_for_ty(&p).unwrap_or(Val::I32(0)),
                    })
                    .collect();
                let mut out: Vec<Val> = callee
                    .results()
                    .map(|r| Val::default_for_ty(&r).unwrap_or(Val::I32(0)))
                    .collect();
                let r = func.call(&mut c, &args, &mut out);
                for (slot, v) in results.iter_mut().zip(out) {
                    *slot = v;
                }
                r
            };
        match outcome {
            Ok(()) => Ok(()),
            Err(e) if is_js_throw(&e) => {
                if let (Some(g), Some(v)) = (sp_global, sp) {
                    g.set(&mut c, v)?;
                }
                set_threw(&mut c, 1, 0)?;
                results.clone_from_slice(&zeros);
                Ok(())
            }
            Err(e) => Err(e),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::instance::MainHandles;
    use crate::syscalls::{Kernel, KernelConfig};
    use wasmtime::{Engine, Store};

    struct State {
        main: Option<MainHandles>,
        kernel: Kernel,
        eh: JsEhState,
    }

    impl HostState for State {
        fn main(&self) -> Option<&MainHandles> {
            self.main.as_ref()
        }
        fn kernel(&mut self) -> &mut Kernel {
            &mut self.kernel
        }
    }

    impl JsEhHost for State {
        fn js_eh(&mut self) -> &mut JsEhState {
            &mut self.eh
        }
    }

    /// A main module in miniature: `setThrew`/`setTempRet0` as
    /// Emscripten's, a thrower, a longjmper and a plain function in the
    /// table, and entry points that go through `invoke_*`.
    const WAT: &str = r#"
    (module
      (import "env" "invoke_vi" (func $invoke_vi (param i32 i32)))
      (import "env" "invoke_ii" (func $invoke_ii (param i32 i32) (result i32)))
      (import "env" "__cxa_throw" (func $throw (param i32 i32 i32)))
      (import "env" "_emscripten_throw_longjmp" (func $longjmp))
      (import "env" "__cxa_find_matching_catch_2" (func $find (result i32)))
      (import "env" "__cxa_begin_catch" (func $begin (param i32) (result i32)))
      (import "env" "__cxa_end_catch" (func $end))
      (import "env" "__cxa_uncaught_exceptions" (func $uncaught (result i32)))
      (memory (export "memory") 1)
      (table (export "__indirect_function_table") 4 funcref)
      (global $sp (export "__stack_pointer") (mut i32) (i32.const 4096))
      (global $threw (mut i32) (i32.const 0))
      (global $threw_value (mut i32) (i32.const 0))
      (global $tempret (mut i32) (i32.const 0))
      (func (export "malloc") (param i32) (result i32) (i32.const 2048))
      (func (export "free") (param i32))
      (func (export "setThrew") (param i32 i32)
        (if (i32.eqz (global.get $threw))
          (then (global.set $threw (local.get 0))
                (global.set $threw_value (local.get 1)))))
      (func (export "setTempRet0") (param i32) (global.set $tempret (local.get 0)))
      (func $thrower (param i32)
        (global.set $sp (i32.const 100))
        (call $throw (i32.const 256) (i32.const 7) (i32.const 0)))
      (func $plus_one (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
      (func $jumper (param i32)
        (global.set $sp (i32.const 200))
        (call $longjmp))
      (elem (i32.const 1) $thrower $plus_one $jumper)
      (func (export "direct_throw") (call $thrower (i32.const 0)))
      (func (export "plain") (result i32 i32)
        (call $invoke_ii (i32.const 2) (i32.const 41))
        (global.get $threw))
      (func (export "cpp") (result i32 i32 i32 i32 i32 i32)
        (local $e i32)
        (global.set $threw (i32.const 0))
        (call $invoke_vi (i32.const 1) (i32.const 5))
        (global.get $threw)
        (global.get $sp)
        (call $uncaught)
        (local.set $e (call $find))
        (local.get $e)
        (global.get $tempret)
        (drop (call $begin (local.get $e)))
        (call $uncaught)
        (call $end))
      (func (export "jump") (result i32 i32 i32)
        (global.set $threw (i32.const 0))
        ;; emscripten_longjmp(env, val): setThrew(env, val), then throw.
        (global.set $threw (i32.const 77))
        (global.set $threw_value (i32.const 3))
        (call $invoke_vi (i32.const 3) (i32.const 0))
        (global.get $threw)
        (global.get $threw_value)
        (global.get $sp)))
    "#;

    fn start() -> (Store<State>, wasmtime::Instance) {
        let engine = Engine::default();
        let module = Module::new(&engine, WAT).unwrap();
        let state = State {
            main: None,
            kernel: Kernel::new(KernelConfig::default()),
            eh: JsEhState::default(),
        };
        let mut store = Store::new(&engine, state);
        let mut linker = Linker::new(&engine);
        define(&mut linker, &module).unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let handles = MainHandles {
            memory: instance.get_memory(&mut store, "memory").unwrap(),
            table: instance
                .get_table(&mut store, "__indirect_function_table")
                .unwrap(),
            malloc: instance.get_typed_func(&mut store, "malloc").unwrap(),
            free: instance.get_typed_func(&mut store, "free").unwrap(),
            memalign: None,
            stack_pointer: instance.get_global(&mut store, "__stack_pointer"),
            memory_base: 0,
        };
        store.data_mut().main = Some(handles);
        attach(&mut store, &instance).unwrap();
        (store, instance)
    }

    #[test]
    fn invoke_returns_the_callees_result() {
        let (mut store, instance) = start();
        let f = instance
            .get_typed_func::<(), (i32, i32)>(&mut store, "plain")
            .unwrap();
        assert_eq!(f.call(&mut store, ()).unwrap(), (42, 0));
    }

    #[test]
    fn a_cpp_throw_is_caught_by_the_nearest_invoke() {
        let (mut store, instance) = start();
        let f = instance
            .get_typed_func::<(), (i32, i32, i32, i32, i32, i32)>(&mut store, "cpp")
            .unwrap();
        // setThrew(1, 0), the stack pointer restored, one uncaught
        // exception; the landing pad finds it (type 7 in tempRet0, no
        // catch clause matched) and catching it leaves none uncaught.
        assert_eq!(f.call(&mut store, ()).unwrap(), (1, 4096, 1, 256, 7, 0));
        assert!(store.data_mut().js_eh().caught.is_empty());
    }

    #[test]
    fn a_longjmp_keeps_the_target_setthrew_recorded() {
        let (mut store, instance) = start();
        let f = instance
            .get_typed_func::<(), (i32, i32, i32)>(&mut store, "jump")
            .unwrap();
        assert_eq!(f.call(&mut store, ()).unwrap(), (77, 3, 4096));
    }

    #[test]
    fn side_modules_get_invokes_of_their_own_types() {
        let (mut store, _instance) = start();
        let engine = store.engine().clone();
        let ty = FuncType::new(&engine, [ValType::I32, ValType::F64], [ValType::I32]);
        let f = side_module_import(&mut store, "invoke_iid", &ty).unwrap();
        let call = |store: &mut Store<State>, index: i32| {
            let mut out = [Val::I32(-1)];
            f.call(&mut *store, &[Val::I32(index), Val::F64(0)], &mut out)
                .unwrap();
            out[0].unwrap_i32()
        };
        // `plus_one` takes an i32: the f64 is dropped for a zero, as JS would.
        assert_eq!(call(&mut store, 2), 1);
        // The thrower (no result) throws: caught, zero returned.
        assert_eq!(call(&mut store, 1), 0);
        assert!(side_module_import(&mut store, "malloc", &ty).is_none());
    }

    #[test]
    fn a_throw_with_no_invoke_ends_the_call() {
        let (mut store, instance) = start();
        let f = instance
            .get_typed_func::<(), ()>(&mut store, "direct_throw")
            .unwrap();
        let err = f.call(&mut store, ()).unwrap_err();
        assert_eq!(err.downcast_ref::<JsThrow>(), Some(&JsThrow::Cpp(256)));
    }
}
