//! The Emscripten runtime imports that are not syscalls: process exit and
//! abort, heap growth, `EM_ASM`, keep-alive counters, CPython's Emscripten
//! hooks, logging, signals, the JS call-trampoline fallback.

use wasmtime::{Caller, Linker, Val};

use super::asm_consts::AsmConst;
use super::exit::{GuestAbort, GuestExit, NeedsJavaScript, Unwind};
use super::instance::{alloc_cstr, call_table, cstr_lossy as read_cstr, memory};
use super::state::GuestState;

type Result<T> = wasmtime::Result<T>;

/// Highest heap size in bytes Emscripten lets memory grow to (4 GiB - 64 KiB).
pub const EMSCRIPTEN_HEAP_MAX: u64 = 4_294_901_760;

/// Define the runtime imports on `linker`.
pub fn define(linker: &mut Linker<GuestState>) -> Result<()> {
    linker.func_wrap("env", "exit", |status: i32| -> Result<()> {
        Err(wasmtime::Error::new(GuestExit(status)))
    })?;
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "proc_exit",
        |status: i32| -> Result<()> { Err(wasmtime::Error::new(GuestExit(status))) },
    )?;
    linker.func_wrap("env", "_abort_js", || -> Result<()> {
        Err(wasmtime::Error::new(GuestAbort(String::new())))
    })?;
    // Before Emscripten 4: `abort` itself is imported.
    linker.func_wrap("env", "abort", || -> Result<()> {
        Err(wasmtime::Error::new(GuestAbort(String::new())))
    })?;
    linker.func_wrap(
        "env",
        "emscripten_exit_with_live_runtime",
        || -> Result<()> { Err(wasmtime::Error::new(Unwind)) },
    )?;
    // Before Emscripten 3.1.58 large copies were done in JS (a memmove).
    for name in ["emscripten_memcpy_big", "emscripten_memcpy_js"] {
        linker.func_wrap(
            "env",
            name,
            |caller: Caller<'_, GuestState>, dest: i32, src: i32, n: i32| -> Result<()> {
                let mem = memory(&caller)?;
                let mut caller = caller;
                let bytes = mem.data_mut(&mut caller);
                let (d, s, n) = (dest as u32 as usize, src as u32 as usize, n as u32 as usize);
                if s.checked_add(n).is_none_or(|e| e > bytes.len())
                    || d.checked_add(n).is_none_or(|e| e > bytes.len())
                {
                    return Err(wasmtime::format_err!("memcpy out of bounds"));
                }
                bytes.copy_within(s..s + n, d);
                Ok(())
            },
        )?;
    }
    // Emscripten 3.1.32's `getloadavg`: 0.1 for each of up to 3 values.
    linker.func_wrap(
        "env",
        "getloadavg",
        |mut c: Caller<'_, GuestState>, out: i32, n: i32| -> Result<i32> {
            let n = n.clamp(0, 3);
            for i in 0..n {
                let p = out as u32 + 8 * i as u32;
                super::instance::write_bytes(&mut c, p, &0.1f64.to_le_bytes())?;
            }
            Ok(n)
        },
    )?;
    // Node's clock: nanosecond resolution, monotonic.
    linker.func_wrap("env", "emscripten_get_now_res", || -> f64 { 1.0 })?;
    linker.func_wrap("env", "_emscripten_get_now_is_monotonic", || -> i32 { 1 })?;
    linker.func_wrap(
        "env",
        "__assert_fail",
        |caller: Caller<'_, GuestState>,
         cond: i32,
         file: i32,
         line: i32,
         func: i32|
         -> Result<()> {
            let mem = memory(&caller)?;
            let bytes = mem.data(&caller);
            let text = |p: i32, dflt: &str| {
                if p == 0 {
                    dflt.to_string()
                } else {
                    read_cstr(bytes, p as u32)
                }
            };
            let msg = format!(
                "Assertion failed: {}, at: {},{},{}",
                text(cond, ""),
                text(file, "unknown filename"),
                line,
                text(func, "unknown function")
            );
            Err(wasmtime::Error::new(GuestAbort(msg)))
        },
    )?;
    linker.func_wrap(
        "env",
        "emscripten_get_heap_max",
        |caller: Caller<'_, GuestState>| -> i32 { caller.data().heap_max as u32 as i32 },
    )?;
    linker.func_wrap("env", "emscripten_resize_heap", resize_heap)?;
    linker.func_wrap("env", "emscripten_asm_const_int", asm_const_int)?;
    linker.func_wrap(
        "env",
        "emscripten_runtime_keepalive_push",
        |mut c: Caller<'_, GuestState>| {
            c.data_mut().keepalive += 1;
        },
    )?;
    linker.func_wrap(
        "env",
        "emscripten_runtime_keepalive_pop",
        |mut c: Caller<'_, GuestState>| {
            c.data_mut().keepalive -= 1;
        },
    )?;
    linker.func_wrap(
        "env",
        "_emscripten_runtime_keepalive_clear",
        |mut c: Caller<'_, GuestState>| {
            c.data_mut().keepalive = 0;
        },
    )?;
    linker.func_wrap("env", "_Py_emscripten_runtime", py_emscripten_runtime)?;
    // No JS signal buffer: signals are not delivered asynchronously.
    linker.func_wrap("env", "_Py_CheckEmscriptenSignals_Helper", || -> i32 { 0 })?;
    linker.func_wrap("env", "_PyEM_TrampolineCall_JS", trampoline_call_fallback)?;
    // CPython 3.12/3.13: the count-args helper is installed before the
    // constructors run (see `boot.rs`), so the constructor's request has
    // nothing left to do, and the pointer is the helper's slot.
    linker.func_wrap("env", "_PyEM_InitTrampoline_js", || {})?;
    linker.func_wrap(
        "env",
        "_PyEM_GetCountArgsPtr",
        |c: Caller<'_, GuestState>| -> i32 { c.data().trampoline_slot as i32 },
    )?;
    // CPython 3.12 before the count-args helper: no type reflection, so
    // every call takes `_PyEM_TrampolineCall_JS`.
    linker.func_wrap("env", "_PyEM_detect_type_reflection", || -> i32 { 0 })?;
    linker.func_wrap(
        "env",
        "_PyEM_CountFuncParams",
        |mut c: Caller<'_, GuestState>, f: i32| -> Result<i32> {
            let func = super::instance::table_func(&mut c, f as u32)?;
            Ok(func.ty(&c).params().len() as i32)
        },
    )?;
    // CPython 3.11's call sites, each a JS call of a table entry.
    linker.func_wrap(
        "env",
        "_PyCFunctionWithKeywords_TrampolineCall",
        trampoline_call_fallback,
    )?;
    linker.func_wrap("env", "descr_set_trampoline_call", trampoline_call_fallback)?;
    linker.func_wrap(
        "env",
        "descr_get_trampoline_call",
        |c: Caller<'_, GuestState>, f: i32, a: i32, b: i32| -> Result<i32> {
            trampoline_call_fallback(c, f, a, b, 0)
        },
    )?;
    linker.func_wrap(
        "env",
        "_PyImport_InitFunc_TrampolineCall",
        |c: Caller<'_, GuestState>, f: i32| -> Result<i32> {
            trampoline_call_fallback(c, f, 0, 0, 0)
        },
    )?;
    linker.func_wrap(
        "env",
        "__call_sighandler",
        |mut c: Caller<'_, GuestState>, fp: i32, sig: i32| -> Result<()> {
            call_table(&mut c, fp as u32, &[Val::I32(sig)]).map(|_| ())
        },
    )?;
    linker.func_wrap("env", "emscripten_debugger", || {})?;
    linker.func_wrap(
        "env",
        "emscripten_set_up_async_input_device_js",
        || -> i32 { 0 },
    )?;
    linker.func_wrap("env", "emscripten_log_impl_js", |_flags: i32| {})?;
    linker.func_wrap(
        "env",
        "_emscripten_log_formatted",
        |caller: Caller<'_, GuestState>, _flags: i32, ptr: i32| -> Result<()> {
            let mem = memory(&caller)?;
            eprintln!("{}", read_cstr(mem.data(&caller), ptr as u32));
            Ok(())
        },
    )?;
    // There is no host shell for the guest: `system(NULL)` says so.
    linker.func_wrap("env", "_emscripten_system", |cmd: i32| -> i32 {
        if cmd == 0 { 0 } else { -52 }
    })?;
    // Before Emscripten 3.1.52 libc's `system` itself was imported: -1
    // for a command (no shell), 0 for `system(NULL)`.
    linker.func_wrap("env", "system", |cmd: i32| -> i32 {
        if cmd == 0 { 0 } else { -1 }
    })?;
    // Interval timers would deliver SIGALRM through the JS event loop; there
    // is none, so the timer is accepted and never fires.
    linker.func_wrap("env", "_setitimer_js", |_which: i32, _ms: f64| -> i32 { 0 })?;
    Ok(())
}

/// `emscripten_resize_heap(requested)`: grow memory the way the glue does
/// (over-allocate by up to 20%, at most 96 MiB more than asked), within
/// the configured maximum; 0 when it cannot.
fn resize_heap(mut caller: Caller<'_, GuestState>, requested: i32) -> Result<i32> {
    let requested = requested as u32 as u64;
    let mem = memory(&caller)?;
    let old = mem.data_size(&caller) as u64;
    let max = caller.data().heap_max;
    if requested > max {
        return Ok(0);
    }
    for cut_down in [1u64, 2, 4] {
        let over = old + old / (5 * cut_down);
        let over = over.min(requested + 96 * 1024 * 1024);
        let want = requested.max(over).div_ceil(65536) * 65536;
        let new_size = want.min(max);
        let pages = (new_size.saturating_sub(old)).div_ceil(65536);
        if pages == 0 || mem.grow(&mut caller, pages).is_ok() {
            return Ok(1);
        }
    }
    Ok(0)
}

fn asm_const_int(caller: Caller<'_, GuestState>, code: i32, _sig: i32, _args: i32) -> Result<i32> {
    // A position-independent module passes the snippet's address in
    // memory; the glue's table may key it without `__memory_base`.
    let base = caller.data().main.as_ref().map_or(0, |m| m.memory_base);
    let consts = &caller.data().asm_consts;
    let found = consts
        .get(code as u32)
        .or_else(|| consts.get((code as u32).wrapping_sub(base)));
    match found {
        Some(AsmConst::JspiSupported) => Ok(0),
        Some(AsmConst::AliasOpen64) => Ok(0),
        Some(AsmConst::Throws(text)) => Err(wasmtime::Error::new(GuestAbort(format!(
            "EM_ASM snippet threw: {text}"
        )))),
        Some(AsmConst::Unknown(text)) => Err(wasmtime::Error::new(NeedsJavaScript(format!(
            "emscripten_asm_const_int ({text})"
        )))),
        None => Err(wasmtime::format_err!(
            "emscripten_asm_const_int called with unknown snippet address {code}"
        )),
    }
}

fn py_emscripten_runtime(mut caller: Caller<'_, GuestState>) -> Result<i32> {
    let text = caller.data().runtime_name.clone();
    Ok(alloc_cstr(&mut caller, &text)? as i32)
}

/// `_PyEM_TrampolineCall_JS(func, a1, a2, a3)`: the JS fallback of the call
/// trampoline. JS passes as many arguments as the callee takes; so do we.
fn trampoline_call_fallback(
    mut caller: Caller<'_, GuestState>,
    func: i32,
    a1: i32,
    a2: i32,
    a3: i32,
) -> Result<i32> {
    let all = [Val::I32(a1), Val::I32(a2), Val::I32(a3)];
    match call_table(&mut caller, func as u32, &all)? {
        Some(Val::I32(v)) => Ok(v),
        _ => Ok(0),
    }
}
