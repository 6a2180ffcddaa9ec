//! libffi's JavaScript imports (`ffi_call_js`, `ffi_closure_*_js`) for
//! ctypes, implemented natively.
//!
//! Pyodide's libffi port leaves the machine-specific part of libffi to four
//! JS functions in `pyodide.asm.mjs`; this module gives them the same
//! observable behaviour:
//!
//! - `ffi_call_js(cif, fn, rvalue, avalue)` reads the call interface (cif),
//!   turns each argument into the value a JS caller would pass (a Number, or
//!   a BigInt for 64-bit integers), copies structs and variadic arguments to
//!   the guest's stack, calls the table entry `fn` and stores the result.
//! - `ffi_closure_alloc_js` / `ffi_closure_free_js` hand out table slots for
//!   closures; `ffi_prep_closure_loc_js` puts a host function of the wasm
//!   type derived from the cif into the slot; the host function lays its
//!   arguments out in guest memory and calls the closure's C handler.
//!
//! The JS calls table entries with JavaScript's calling rules, and so do we
//! (`call_like_js`): extra arguments are dropped, missing ones are
//! `undefined`, and each value converts to the parameter's wasm type the way
//! `ToWebAssemblyValue` does (a Number into an `i64` parameter, or a BigInt
//! into an `i32` one, is a `TypeError`). This matters for output: ctypes
//! calls a variadic C function without `argtypes` as a fixed-arity one, and
//! under Node the surplus arguments are silently dropped.
//!
//! Typed-array accesses in the JS index with `ptr >> k`, i.e. they round the
//! address down to the access size; the accessors here do the same.
//!
//! Deliberate differences from the JS (none visible to a correct program):
//! `ffi_closure_alloc_js` takes no table slot when `malloc` fails (the JS
//! writes the slot index to address 0 and leaks the slot), and
//! `ffi_closure_free_js` ignores a NULL closure and empties the freed slot,
//! so a call through a dangling closure pointer traps as a null function
//! instead of running with freed memory.

use std::sync::Arc;

use wasmtime::{Caller, Func, FuncType, Global, Linker, Ref, Val, ValType};

use super::instance::{HostState, free, malloc, memory};
use crate::syscalls::guest;

type Result<T> = wasmtime::Result<T>;

/// Access to libffi's state from the store's data.
pub trait FfiHost: HostState {
    /// libffi's part of the state.
    fn ffi(&mut self) -> &mut FfiState;
}

/// libffi's state that lives with the instance.
#[derive(Default)]
pub struct FfiState {
    /// Table slots given back by `ffi_closure_free_js`, reused last-in first-out.
    free_slots: Vec<u32>,
    /// The main module's `__stack_pointer` (looked up on first use).
    stack_pointer: Option<Global>,
}

impl FfiState {
    /// Whether no closure has been freed yet (none holds a slot).
    pub fn untouched(&self) -> bool {
        self.free_slots.is_empty()
    }
}

// libffi's type ids (`FFI_TYPE_*`).
const T_VOID: u16 = 0;
const T_INT: u16 = 1;
const T_FLOAT: u16 = 2;
const T_DOUBLE: u16 = 3;
const T_LONGDOUBLE: u16 = 4;
const T_UINT8: u16 = 5;
const T_SINT8: u16 = 6;
const T_UINT16: u16 = 7;
const T_SINT16: u16 = 8;
const T_UINT32: u16 = 9;
const T_SINT32: u16 = 10;
const T_UINT64: u16 = 11;
const T_SINT64: u16 = 12;
const T_STRUCT: u16 = 13;
const T_POINTER: u16 = 14;
const T_COMPLEX: u16 = 15;

/// Define the libffi imports on `linker`.
pub fn define<T: FfiHost>(linker: &mut Linker<T>) -> Result<()> {
    linker.func_wrap("env", "ffi_call_js", ffi_call_js)?;
    linker.func_wrap("env", "ffi_closure_alloc_js", ffi_closure_alloc_js)?;
    linker.func_wrap("env", "ffi_prep_closure_loc_js", ffi_prep_closure_loc_js)?;
    linker.func_wrap("env", "ffi_closure_free_js", ffi_closure_free_js)?;
    Ok(())
}

/// A JS error thrown by the glue, as the host error ending the run.
fn js_error(func: &str, kind: &str, msg: impl std::fmt::Display) -> wasmtime::Error {
    wasmtime::format_err!("{func}: {kind}: {msg}")
}

// ---------------------------------------------------------------------------
// Guest memory, accessed the way the JS typed arrays do: an access of N
// bytes rounds the address down to a multiple of N (`HEAP32[p >> 2]`).

/// A guest access outside memory, as the error that ends the run.
fn fault(addr: u32) -> wasmtime::Error {
    wasmtime::format_err!("libffi: memory access out of bounds at {addr:#x}")
}

fn rd_u8(b: &[u8], p: u32) -> Result<u8> {
    guest::read_u8(b, p).map_err(|_| fault(p))
}
fn rd_u16(b: &[u8], p: u32) -> Result<u16> {
    guest::read_u16(b, p & !1).map_err(|_| fault(p))
}
fn rd_u32(b: &[u8], p: u32) -> Result<u32> {
    guest::read_u32(b, p & !3).map_err(|_| fault(p))
}
fn rd_u64(b: &[u8], p: u32) -> Result<u64> {
    guest::read_u64(b, p & !7).map_err(|_| fault(p))
}
fn rd_f32(b: &[u8], p: u32) -> Result<f32> {
    guest::read_f32(b, p & !3).map_err(|_| fault(p))
}
fn rd_f64(b: &[u8], p: u32) -> Result<f64> {
    guest::read_f64(b, p & !7).map_err(|_| fault(p))
}
fn wr_u8(b: &mut [u8], p: u32, v: u8) -> Result<()> {
    guest::write_u8(b, p, v).map_err(|_| fault(p))
}
fn wr_u16(b: &mut [u8], p: u32, v: u16) -> Result<()> {
    guest::write_u16(b, p & !1, v).map_err(|_| fault(p))
}
fn wr_u32(b: &mut [u8], p: u32, v: u32) -> Result<()> {
    guest::write_u32(b, p & !3, v).map_err(|_| fault(p))
}
fn wr_u64(b: &mut [u8], p: u32, v: u64) -> Result<()> {
    guest::write_u64(b, p & !7, v).map_err(|_| fault(p))
}
fn wr_f32(b: &mut [u8], p: u32, v: f32) -> Result<()> {
    guest::write_f32(b, p & !3, v).map_err(|_| fault(p))
}
fn wr_f64(b: &mut [u8], p: u32, v: f64) -> Result<()> {
    guest::write_f64(b, p & !7, v).map_err(|_| fault(p))
}

/// `memmove(dst, src, len)` inside guest memory.
fn copy(b: &mut [u8], dst: u32, src: u32, len: u32) -> Result<()> {
    guest::copy_within(b, dst, src, len).map_err(|_| fault(dst))
}

/// Move `ptr` down by `size` and align it down to `align` (an alignment of
/// 0 gives 0, as `p & ~(0 - 1)` does in JS).
fn push_down(ptr: u32, size: u32, align: u32) -> u32 {
    ptr.wrapping_sub(size) & !align.wrapping_sub(1)
}

// ---------------------------------------------------------------------------
// JavaScript values and the conversions between them and wasm values.

/// The value a JS variable holds in the glue.
#[derive(Clone, Copy, Debug)]
enum Js {
    Undefined,
    Number(f64),
    /// A BigInt, kept modulo 2^64 (every use is `asIntN(64)`/`asUintN(64)`).
    BigInt(u64),
}

/// ECMAScript `ToInt32` of a Number.
fn to_int32(x: f64) -> i32 {
    if !x.is_finite() {
        return 0;
    }
    x.trunc().rem_euclid(4_294_967_296.0) as u64 as u32 as i32
}

/// `ToNumber` then `ToInt32` (a typed-array or `i32` store): BigInts throw.
fn js_int32(v: Js) -> std::result::Result<i32, String> {
    match v {
        Js::Undefined => Ok(0),
        Js::Number(x) => Ok(to_int32(x)),
        Js::BigInt(_) => Err("Cannot convert a BigInt value to a number".into()),
    }
}

/// `ToNumber` (a float store or parameter): BigInts throw.
fn js_number(v: Js) -> std::result::Result<f64, String> {
    match v {
        Js::Undefined => Ok(f64::NAN),
        Js::Number(x) => Ok(x),
        Js::BigInt(_) => Err("Cannot convert a BigInt value to a number".into()),
    }
}

/// `ToBigInt` (an `i64` store or parameter): anything but a BigInt throws.
fn js_bigint(v: Js) -> std::result::Result<u64, String> {
    match v {
        Js::BigInt(b) => Ok(b),
        Js::Number(x) => Err(format!("Cannot convert {x} to a BigInt")),
        Js::Undefined => Err("Cannot convert undefined to a BigInt".into()),
    }
}

/// `ToWebAssemblyValue(v, ty)`.
fn to_wasm(v: Js, ty: &ValType) -> std::result::Result<Val, String> {
    Ok(match ty {
        ValType::I32 => Val::I32(js_int32(v)?),
        ValType::I64 => Val::I64(js_bigint(v)? as i64),
        ValType::F32 => Val::F32((js_number(v)? as f32).to_bits()),
        ValType::F64 => Val::F64(js_number(v)?.to_bits()),
        other => return Err(format!("cannot pass a JS number as a {other} parameter")),
    })
}

/// `ToJSValue` of a wasm value.
fn to_js(v: &Val) -> std::result::Result<Js, String> {
    Ok(match v {
        Val::I32(x) => Js::Number(f64::from(*x)),
        Val::I64(x) => Js::BigInt(*x as u64),
        Val::F32(bits) => Js::Number(f64::from(f32::from_bits(*bits))),
        Val::F64(bits) => Js::Number(f64::from_bits(*bits)),
        other => {
            return Err(format!(
                "cannot turn the wasm value {other:?} into a JS value"
            ));
        }
    })
}

/// The function in table slot `index`.
fn table_func<T: FfiHost>(caller: &mut Caller<'_, T>, who: &str, index: u32) -> Result<Func> {
    let table = caller
        .data()
        .main()
        .map(|m| m.table)
        .ok_or_else(|| wasmtime::format_err!("{who}: the function table does not exist yet"))?;
    let entry = table.get(&mut *caller, u64::from(index)).ok_or_else(|| {
        js_error(
            who,
            "RangeError",
            format!("table index {index} is out of bounds"),
        )
    })?;
    entry.as_func().flatten().copied().ok_or_else(|| {
        js_error(
            who,
            "TypeError",
            format!("null function at table index {index}"),
        )
    })
}

/// Call `func` as JS would call an exported wasm function with `args`.
/// Errors raised by the callee (traps, exceptions) come back unchanged.
fn call_like_js<T: FfiHost>(
    caller: &mut Caller<'_, T>,
    who: &str,
    func: &Func,
    args: &[Js],
) -> Result<Js> {
    let ty = func.ty(&*caller);
    let mut params = Vec::with_capacity(ty.params().len());
    for (i, p) in ty.params().enumerate() {
        let arg = args.get(i).copied().unwrap_or(Js::Undefined);
        params.push(to_wasm(arg, &p).map_err(|m| js_error(who, "TypeError", m))?);
    }
    let mut results = Vec::with_capacity(ty.results().len());
    for r in ty.results() {
        results.push(
            Val::default_for_ty(&r)
                .ok_or_else(|| js_error(who, "TypeError", format!("the callee returns a {r}")))?,
        );
    }
    func.call(&mut *caller, &params, &mut results)?;
    match results.as_slice() {
        [] => Ok(Js::Undefined),
        [one] => to_js(one).map_err(|m| js_error(who, "TypeError", m)),
        _ => Err(js_error(
            who,
            "TypeError",
            "the callee returns several values",
        )),
    }
}

// ---------------------------------------------------------------------------
// The shadow stack.

fn stack_pointer<T: FfiHost>(caller: &mut Caller<'_, T>) -> Result<Global> {
    if let Some(g) = caller.data_mut().ffi().stack_pointer {
        return Ok(g);
    }
    let g = caller
        .data()
        .main()
        .and_then(|m| m.stack_pointer)
        .or_else(|| {
            caller
                .get_export("__stack_pointer")
                .and_then(|e| e.into_global())
        })
        .ok_or_else(|| wasmtime::format_err!("libffi: the module exports no `__stack_pointer`"))?;
    caller.data_mut().ffi().stack_pointer = Some(g);
    Ok(g)
}

fn get_sp<T: FfiHost>(caller: &mut Caller<'_, T>, sp: Global) -> Result<u32> {
    match sp.get(&mut *caller) {
        Val::I32(v) => Ok(v as u32),
        other => Err(wasmtime::format_err!(
            "libffi: `__stack_pointer` holds {other:?}"
        )),
    }
}

fn set_sp<T: FfiHost>(caller: &mut Caller<'_, T>, sp: Global, value: u32) -> Result<()> {
    sp.set(&mut *caller, Val::I32(value as i32))
}

// ---------------------------------------------------------------------------
// Types and call interfaces.

/// `unbox_small_structs`: a struct of one element is passed as that
/// element, a struct with no elements as void. Returns the type's address
/// and id after unboxing.
fn unbox(b: &[u8], mut ty: u32) -> Result<(u32, u16)> {
    let mut id = rd_u16(b, ty + 6)?;
    let mut depth = 0;
    while id == T_STRUCT {
        let elements = rd_u32(b, ty + 8)?;
        let first = rd_u32(b, elements)?;
        if first == 0 {
            id = T_VOID;
            break;
        }
        if rd_u32(b, elements + 4)? != 0 {
            break;
        }
        ty = first;
        id = rd_u16(b, first + 6)?;
        depth += 1;
        if depth > 10_000 {
            wasmtime::bail!("libffi: a struct type at {ty:#x} contains itself");
        }
    }
    Ok((ty, id))
}

/// An argument type after unboxing: id, size and alignment.
#[derive(Clone, Copy, Debug)]
struct ArgType {
    id: u16,
    size: u32,
    align: u32,
}

fn arg_type(b: &[u8], ty: u32) -> Result<ArgType> {
    let (ptr, id) = unbox(b, ty)?;
    Ok(ArgType {
        id,
        size: rd_u32(b, ptr)?,
        align: u32::from(rd_u16(b, ptr + 4)?),
    })
}

/// The fields of an `ffi_cif` the JS reads.
struct Cif {
    nargs: u32,
    nfixedargs: u32,
    arg_types: u32,
    rtype_id: u16,
}

fn read_cif(b: &[u8], cif: u32) -> Result<Cif> {
    let (_, rtype_id) = unbox(b, rd_u32(b, cif + 12)?)?;
    Ok(Cif {
        nargs: rd_u32(b, cif + 4)?,
        arg_types: rd_u32(b, cif + 8)?,
        nfixedargs: rd_u32(b, cif + 24)?,
        rtype_id,
    })
}

// ---------------------------------------------------------------------------
// ffi_call_js

const CALL: &str = "ffi_call_js";

/// What `ffi_call_js` prepared: the JS argument list and the stack pointer
/// to call with.
struct CallPlan {
    args: Vec<Js>,
    sp: u32,
    rtype_id: u16,
    ret_by_arg: bool,
}

fn plan_call(b: &mut [u8], cif: u32, rvalue: u32, avalue: u32, sp: u32) -> Result<CallPlan> {
    let c = read_cif(b, cif)?;
    let rtype_id = c.rtype_id;
    if rtype_id == T_COMPLEX {
        return Err(js_error(CALL, "Error", "complex ret marshalling nyi"));
    }
    if rtype_id > T_COMPLEX {
        return Err(js_error(
            CALL,
            "Error",
            format!("Unexpected rtype {rtype_id}"),
        ));
    }
    let mut cur = sp;
    let mut args = Vec::new();
    let ret_by_arg = rtype_id == T_LONGDOUBLE || rtype_id == T_STRUCT;
    if ret_by_arg {
        args.push(Js::Number(f64::from(rvalue)));
    }
    for i in 0..c.nfixedargs {
        let p = rd_u32(b, avalue + 4 * i)?;
        let t = arg_type(b, rd_u32(b, c.arg_types + 4 * i)?)?;
        match t.id {
            T_INT | T_SINT32 | T_UINT32 | T_POINTER => {
                args.push(Js::Number(f64::from(rd_u32(b, p)?)));
            }
            T_FLOAT => args.push(Js::Number(f64::from(rd_f32(b, p)?))),
            T_DOUBLE => args.push(Js::Number(rd_f64(b, p)?)),
            T_UINT8 => args.push(Js::Number(f64::from(rd_u8(b, p)?))),
            T_SINT8 => args.push(Js::Number(f64::from(rd_u8(b, p)? as i8))),
            T_UINT16 => args.push(Js::Number(f64::from(rd_u16(b, p)?))),
            T_SINT16 => args.push(Js::Number(f64::from(rd_u16(b, p)? as i16))),
            T_UINT64 | T_SINT64 => args.push(Js::BigInt(rd_u64(b, p)?)),
            T_LONGDOUBLE => {
                args.push(Js::BigInt(rd_u64(b, p)?));
                args.push(Js::BigInt(rd_u64(b, (p & !7) + 8)?));
            }
            T_STRUCT => {
                cur = push_down(cur, t.size, t.align);
                copy(b, cur, p, t.size)?;
                args.push(Js::Number(f64::from(cur)));
            }
            T_COMPLEX => return Err(js_error(CALL, "Error", "complex marshalling nyi")),
            id => return Err(js_error(CALL, "Error", format!("Unexpected type {id}"))),
        }
    }
    if c.nfixedargs != c.nargs {
        // Variadic arguments go to the stack, the first one lowest; the
        // callee gets a pointer to them. Structs are copied below that
        // area, and the area holds pointers to the copies.
        let mut structs = Vec::new();
        for i in (c.nfixedargs..c.nargs).rev() {
            let p = rd_u32(b, avalue + 4 * i)?;
            let t = arg_type(b, rd_u32(b, c.arg_types + 4 * i)?)?;
            let (size, align) = match t.id {
                T_UINT8 | T_SINT8 => (1, 1),
                T_UINT16 | T_SINT16 => (2, 2),
                T_INT | T_UINT32 | T_SINT32 | T_POINTER | T_FLOAT => (4, 4),
                T_DOUBLE | T_UINT64 | T_SINT64 => (8, 8),
                T_LONGDOUBLE => (16, 8),
                T_STRUCT => {
                    cur = push_down(cur, 4, 4);
                    structs.push((cur, p, t.size, t.align));
                    continue;
                }
                T_COMPLEX => {
                    return Err(js_error(CALL, "Error", "complex arg marshalling nyi"));
                }
                id => return Err(js_error(CALL, "Error", format!("Unexpected argtype {id}"))),
            };
            cur = push_down(cur, size, align);
            match size {
                1 => wr_u8(b, cur, rd_u8(b, p)?)?,
                2 => wr_u16(b, cur, rd_u16(b, p)?)?,
                _ => {
                    // Copied as 32-bit words, as the JS does.
                    for w in 0..size / 4 {
                        let v = rd_u32(b, (p & !3) + 4 * w)?;
                        wr_u32(b, (cur & !3) + 4 * w, v)?;
                    }
                }
            }
        }
        args.push(Js::Number(f64::from(cur)));
        for (target, p, size, align) in structs {
            cur = push_down(cur, size, align);
            copy(b, cur, p, size)?;
            wr_u32(b, target, cur)?;
        }
    }
    Ok(CallPlan {
        args,
        sp: cur,
        rtype_id,
        ret_by_arg,
    })
}

fn store_result(b: &mut [u8], rtype_id: u16, rvalue: u32, result: Js) -> Result<()> {
    let type_error = |m: String| js_error(CALL, "TypeError", m);
    match rtype_id {
        T_VOID => Ok(()),
        T_INT | T_UINT32 | T_SINT32 | T_POINTER => {
            wr_u32(b, rvalue, js_int32(result).map_err(type_error)? as u32)
        }
        T_FLOAT => wr_f32(b, rvalue, js_number(result).map_err(type_error)? as f32),
        T_DOUBLE => wr_f64(b, rvalue, js_number(result).map_err(type_error)?),
        T_UINT8 | T_SINT8 => wr_u8(b, rvalue, js_int32(result).map_err(type_error)? as u8),
        T_UINT16 | T_SINT16 => wr_u16(b, rvalue, js_int32(result).map_err(type_error)? as u16),
        T_UINT64 | T_SINT64 => wr_u64(b, rvalue, js_bigint(result).map_err(type_error)?),
        T_COMPLEX => Err(js_error(CALL, "Error", "complex ret marshalling nyi")),
        id => Err(js_error(CALL, "Error", format!("Unexpected rtype {id}"))),
    }
}

/// `ffi_call_js(cif, fn, rvalue, avalue)`: call table entry `fn` with the
/// arguments `avalue[i]` described by `cif`, the result to `rvalue`.
fn ffi_call_js<T: FfiHost>(
    mut caller: Caller<'_, T>,
    cif: i32,
    func: i32,
    rvalue: i32,
    avalue: i32,
) -> Result<()> {
    let mem = memory(&caller)?;
    let sp = stack_pointer(&mut caller)?;
    let orig_sp = get_sp(&mut caller, sp)?;
    let plan = plan_call(
        mem.data_mut(&mut caller),
        cif as u32,
        rvalue as u32,
        avalue as u32,
        orig_sp,
    )?;
    let callee = table_func(&mut caller, CALL, func as u32)?;
    // `stackRestore(cur); stackAlloc(0)`: the callee's frame starts below
    // the copies, 16-byte aligned.
    set_sp(&mut caller, sp, plan.sp & !15)?;
    let result = call_like_js(&mut caller, CALL, &callee, &plan.args)?;
    set_sp(&mut caller, sp, orig_sp)?;
    if plan.ret_by_arg {
        return Ok(());
    }
    store_result(
        mem.data_mut(&mut caller),
        plan.rtype_id,
        rvalue as u32,
        result,
    )
}

// ---------------------------------------------------------------------------
// Closures

const PREP: &str = "ffi_prep_closure_loc_js";

/// `ffi_closure_alloc_js(size, code)`: allocate the closure and a table
/// slot for its code; the slot index goes to `*code` and `*closure`.
fn ffi_closure_alloc_js<T: FfiHost>(
    mut caller: Caller<'_, T>,
    size: i32,
    code: i32,
) -> Result<i32> {
    let closure = malloc(&mut caller, size as u32)?;
    if closure == 0 {
        return Ok(0);
    }
    let index = match caller.data_mut().ffi().free_slots.pop() {
        Some(i) => i,
        None => {
            let table = caller.data().main().map(|m| m.table).ok_or_else(|| {
                wasmtime::format_err!("ffi_closure_alloc_js: the function table does not exist")
            })?;
            let slot = table
                .grow(&mut caller, 1, Ref::Func(None))
                .map_err(|e| js_error("ffi_closure_alloc_js", "RangeError", e))?;
            u32::try_from(slot)?
        }
    };
    let mem = memory(&caller)?;
    let b = mem.data_mut(&mut caller);
    wr_u32(b, code as u32, index)?;
    wr_u32(b, closure, index)?;
    Ok(closure as i32)
}

/// `ffi_closure_free_js(closure)`: give the slot back and free the closure.
fn ffi_closure_free_js<T: FfiHost>(mut caller: Caller<'_, T>, closure: i32) -> Result<()> {
    if closure == 0 {
        return Ok(());
    }
    let mem = memory(&caller)?;
    let index = rd_u32(mem.data(&caller), closure as u32)?;
    if let Some(table) = caller.data().main().map(|m| m.table) {
        // An index that is not a slot (a corrupted closure) is not reused.
        if table
            .set(&mut caller, u64::from(index), Ref::Func(None))
            .is_ok()
        {
            caller.data_mut().ffi().free_slots.push(index);
        }
    }
    free(&mut caller, closure as u32)?;
    Ok(())
}

/// What a closure's host function needs, fixed when it is prepared.
struct ClosureSpec {
    /// The closure (`ffi_closure*`): its cif, handler and user data are
    /// read from it at each call.
    closure: u32,
    /// The wasm result: `b'v'`, `b'i'`, `b'j'`, `b'f'` or `b'd'`.
    ret: u8,
    /// The result is written through a pointer passed first.
    ret_by_arg: bool,
    nfixedargs: u32,
    /// Every argument's type (fixed and variadic).
    args: Vec<ArgType>,
}

/// `ffi_prep_closure_loc_js(closure, cif, fun, user_data, codeloc)`: put
/// a function of the cif's wasm type at table slot `codeloc` that calls
/// `fun(cif, ret, args, user_data)`.
fn ffi_prep_closure_loc_js<T: FfiHost>(
    mut caller: Caller<'_, T>,
    closure: i32,
    cif: i32,
    fun: i32,
    user_data: i32,
    codeloc: i32,
) -> Result<i32> {
    let mem = memory(&caller)?;
    stack_pointer(&mut caller)?;
    let b = mem.data(&caller);
    let c = read_cif(b, cif as u32)?;
    let (ret, ret_by_arg, mut sig) = match c.rtype_id {
        T_VOID => (b'v', false, vec![]),
        T_STRUCT | T_LONGDOUBLE => (b'v', true, vec![ValType::I32]),
        T_INT | T_UINT8 | T_SINT8 | T_UINT16 | T_SINT16 | T_UINT32 | T_SINT32 | T_POINTER => {
            (b'i', false, vec![])
        }
        T_FLOAT => (b'f', false, vec![]),
        T_DOUBLE => (b'd', false, vec![]),
        T_UINT64 | T_SINT64 => (b'j', false, vec![]),
        T_COMPLEX => return Err(js_error(PREP, "Error", "complex ret marshalling nyi")),
        id => return Err(js_error(PREP, "Error", format!("Unexpected rtype {id}"))),
    };
    let mut args = Vec::new();
    for i in 0..c.nargs {
        args.push(arg_type(b, rd_u32(b, c.arg_types + 4 * i)?)?);
    }
    for i in 0..c.nfixedargs {
        match args.get(i as usize).map(|t| t.id) {
            Some(
                T_INT | T_UINT8 | T_SINT8 | T_UINT16 | T_SINT16 | T_UINT32 | T_SINT32 | T_POINTER
                | T_STRUCT,
            ) => sig.push(ValType::I32),
            Some(T_FLOAT) => sig.push(ValType::F32),
            Some(T_DOUBLE) => sig.push(ValType::F64),
            Some(T_LONGDOUBLE) => sig.extend([ValType::I64, ValType::I64]),
            Some(T_UINT64 | T_SINT64) => sig.push(ValType::I64),
            Some(T_COMPLEX) => return Err(js_error(PREP, "Error", "complex marshalling nyi")),
            other => {
                return Err(js_error(
                    PREP,
                    "Error",
                    format!("Unexpected argtype {}", other.map_or(-1, i32::from)),
                ));
            }
        }
    }
    if c.nfixedargs < c.nargs {
        sig.push(ValType::I32); // the pointer to the variadic arguments
    }
    // The JS builds a one-function wasm module for the signature; a module
    // with more parameters than engines accept fails, and it returns 1.
    if sig.len() > 1000 {
        return Ok(1);
    }
    let result = match ret {
        b'i' => Some(ValType::I32),
        b'j' => Some(ValType::I64),
        b'f' => Some(ValType::F32),
        b'd' => Some(ValType::F64),
        _ => None,
    };
    let ty = FuncType::new(caller.engine(), sig, result);
    let spec = Arc::new(ClosureSpec {
        closure: closure as u32,
        ret,
        ret_by_arg,
        nfixedargs: c.nfixedargs,
        args,
    });
    let func = Func::new(&mut caller, ty, move |mut c, params, results| {
        run_closure(&mut c, &spec, params, results)
    });
    let table = caller
        .data()
        .main()
        .map(|m| m.table)
        .ok_or_else(|| wasmtime::format_err!("{PREP}: the function table does not exist"))?;
    table
        .set(
            &mut caller,
            u64::from(codeloc as u32),
            Ref::Func(Some(func)),
        )
        .map_err(|e| js_error(PREP, "RangeError", e))?;
    let b = mem.data_mut(&mut caller);
    let closure = closure as u32;
    wr_u32(b, closure + 4, cif as u32)?;
    wr_u32(b, closure + 8, fun as u32)?;
    wr_u32(b, closure + 12, user_data as u32)?;
    Ok(0)
}

const CLOSURE: &str = "libffi closure";

/// The body of a closure's host function: lay the arguments out on the
/// guest stack as `void *args[]`, call the handler, return its result.
fn run_closure<T: FfiHost>(
    caller: &mut Caller<'_, T>,
    spec: &ClosureSpec,
    params: &[Val],
    results: &mut [Val],
) -> Result<()> {
    let type_error = |m: String| js_error(CLOSURE, "TypeError", m);
    let args = params
        .iter()
        .map(to_js)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(type_error)?;
    let arg = |i: usize| args.get(i).copied().unwrap_or(Js::Undefined);
    let mem = memory(caller)?;
    let sp = stack_pointer(caller)?;
    let orig_sp = get_sp(caller, sp)?;
    let mut cur = orig_sp;
    let mut next = 0;
    let ret_ptr = if spec.ret_by_arg {
        next = 1;
        js_int32(arg(0)).map_err(type_error)? as u32
    } else {
        cur = push_down(cur, 8, 8);
        cur
    };
    let nargs = spec.args.len() as u32;
    cur = cur.wrapping_sub(4 * nargs);
    let args_ptr = cur;
    let slot = |i: u32| (args_ptr & !3).wrapping_add(4 * i);
    let b = mem.data_mut(&mut *caller);
    let mut i = 0u32;
    while i < spec.nfixedargs {
        let v = arg(next);
        next += 1;
        let Some(t) = spec.args.get(i as usize) else {
            break;
        };
        match t.id {
            T_UINT8 | T_SINT8 => {
                cur = push_down(cur, 1, 4);
                wr_u32(b, slot(i), cur)?;
                wr_u8(b, cur, js_int32(v).map_err(type_error)? as u8)?;
            }
            T_UINT16 | T_SINT16 => {
                cur = push_down(cur, 2, 4);
                wr_u32(b, slot(i), cur)?;
                wr_u16(b, cur, js_int32(v).map_err(type_error)? as u16)?;
            }
            T_INT | T_UINT32 | T_SINT32 | T_POINTER => {
                cur = push_down(cur, 4, 4);
                wr_u32(b, slot(i), cur)?;
                wr_u32(b, cur, js_int32(v).map_err(type_error)? as u32)?;
            }
            T_STRUCT => {
                cur = push_down(cur, t.size, t.align);
                let src = js_int32(v).map_err(type_error)? as u32;
                copy(b, cur, src, t.size)?;
                wr_u32(b, slot(i), cur)?;
            }
            T_FLOAT => {
                cur = push_down(cur, 4, 4);
                wr_u32(b, slot(i), cur)?;
                wr_f32(b, cur, js_number(v).map_err(type_error)? as f32)?;
            }
            T_DOUBLE => {
                cur = push_down(cur, 8, 8);
                wr_u32(b, slot(i), cur)?;
                wr_f64(b, cur, js_number(v).map_err(type_error)?)?;
            }
            T_UINT64 | T_SINT64 => {
                cur = push_down(cur, 8, 8);
                wr_u32(b, slot(i), cur)?;
                wr_u64(b, cur, js_bigint(v).map_err(type_error)?)?;
            }
            T_LONGDOUBLE => {
                cur = push_down(cur, 16, 8);
                wr_u32(b, slot(i), cur)?;
                wr_u64(b, cur, js_bigint(v).map_err(type_error)?)?;
                let hi = arg(next);
                next += 1;
                wr_u64(b, (cur & !7) + 8, js_bigint(hi).map_err(type_error)?)?;
            }
            _ => {}
        }
        i += 1;
    }
    // Variadic arguments: the last parameter points at them, one 4-byte
    // slot each (a struct's slot holds a pointer to it).
    let mut varargs =
        js_int32(args.last().copied().unwrap_or(Js::Undefined)).map_err(type_error)? as u32;
    for (i, t) in spec.args.iter().enumerate().skip(spec.nfixedargs as usize) {
        let i = i as u32;
        if t.id == T_STRUCT {
            let src = rd_u32(b, varargs)?;
            cur = push_down(cur, t.size, t.align);
            copy(b, cur, src, t.size)?;
            wr_u32(b, slot(i), cur)?;
        } else {
            wr_u32(b, slot(i), varargs)?;
        }
        varargs = varargs.wrapping_add(4);
    }
    let closure = spec.closure;
    let cif = rd_u32(b, closure + 4)?;
    let fun = rd_u32(b, closure + 8)?;
    let user_data = rd_u32(b, closure + 12)?;
    set_sp(caller, sp, cur & !15)?;
    let handler = table_func(caller, CLOSURE, fun)?;
    let call_args = [cif, ret_ptr, args_ptr, user_data].map(|v| Js::Number(f64::from(v)));
    call_like_js(caller, CLOSURE, &handler, &call_args)?;
    set_sp(caller, sp, orig_sp)?;
    if spec.ret_by_arg {
        return Ok(());
    }
    let b = mem.data(&*caller);
    let value = match spec.ret {
        b'i' => Val::I32(rd_u32(b, ret_ptr)? as i32),
        b'j' => Val::I64(rd_u64(b, ret_ptr)? as i64),
        b'd' => Val::F64(rd_f64(b, ret_ptr)?.to_bits()),
        b'f' => Val::F32(rd_f32(b, ret_ptr)?.to_bits()),
        _ => return Ok(()),
    };
    if let Some(slot) = results.first_mut() {
        *slot = value;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int32_conversion_is_ecmascript_toint32() {
        assert_eq!(to_int32(4_294_967_295.0), -1);
        assert_eq!(to_int32(2_147_483_648.0), i32::MIN);
        assert_eq!(to_int32(-1.5), -1);
        assert_eq!(to_int32(f64::NAN), 0);
        assert_eq!(to_int32(f64::INFINITY), 0);
        assert_eq!(to_int32(1e20), 1_661_992_960);
    }

    #[test]
    fn js_parameter_conversion_rejects_mixed_numbers_and_bigints() {
        assert!(to_wasm(Js::Number(1.0), &ValType::I64).is_err());
        assert!(to_wasm(Js::BigInt(1), &ValType::I32).is_err());
        assert!(to_wasm(Js::Undefined, &ValType::I64).is_err());
        assert!(matches!(
            to_wasm(Js::Undefined, &ValType::I32),
            Ok(Val::I32(0))
        ));
        assert!(
            matches!(to_wasm(Js::Undefined, &ValType::F64), Ok(Val::F64(b)) if f64::from_bits(b).is_nan())
        );
        assert!(matches!(
            to_wasm(Js::BigInt(u64::MAX), &ValType::I64),
            Ok(Val::I64(-1))
        ));
    }

    #[test]
    fn push_down_aligns_like_the_js() {
        assert_eq!(push_down(1000, 3, 4), 996);
        assert_eq!(push_down(1000, 16, 8), 984);
        assert_eq!(push_down(1000, 1, 0), 0);
    }
}
