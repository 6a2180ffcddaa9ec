//! What every host import may need from the running main instance, and the
//! one place where host code reaches guest memory through the store or
//! calls back into the guest's allocator and function table. The byte-level
//! reads and writes are `syscalls::guest`'s, shared with the kernel.
//!
//! The store's data is any type implementing [`HostState`]; subsystems
//! (libffi, the dynamic linker, netdb, ...) add their own state through
//! their own traits on top of it, so none of them names the embedder's
//! concrete state type (`state::GuestState` implements them all).

use wasmtime::{AsContext, AsContextMut, Func, Global, Memory, Table, TypedFunc, Val};

use crate::syscalls::{Kernel, guest};

type Result<T> = wasmtime::Result<T>;

/// Handles on the instantiated main module that the runtime calls into.
#[derive(Clone)]
pub struct MainHandles {
    /// Its linear memory.
    pub memory: Memory,
    /// Its function table (`__indirect_function_table`).
    pub table: Table,
    /// `malloc(size) -> ptr`.
    pub malloc: TypedFunc<i32, i32>,
    /// `free(ptr)`.
    pub free: TypedFunc<i32, ()>,
    /// `emscripten_builtin_memalign(align, size) -> ptr`, for mmap.
    pub memalign: Option<TypedFunc<(i32, i32), i32>>,
    /// `__stack_pointer` (exported, or imported from the host).
    pub stack_pointer: Option<Global>,
    /// Added to every data address the module exports (`__memory_base`
    /// of a position-independent main module, else 0).
    pub memory_base: u32,
}

/// The part of a store's data that every host import relies on.
pub trait HostState: Send + 'static {
    /// The main instance's handles, once it is instantiated.
    fn main(&self) -> Option<&MainHandles>;
    /// The guest's kernel (file system, descriptors, clocks).
    fn kernel(&mut self) -> &mut Kernel;
}

/// The main instance's handles, or an error if an import runs before it exists.
///
/// A reference, not a copy: host imports run this on every call, and
/// cloning the typed functions in [`MainHandles`] takes a lock in
/// Wasmtime's type registry (3% of a compute-bound suite's time).
pub fn handles<T: HostState>(cx: &impl AsContext<Data = T>) -> Result<&MainHandles> {
    cx.as_context().data().main().ok_or_else(|| {
        wasmtime::format_err!("import called before the main module is instantiated")
    })
}

/// The guest's linear memory.
pub fn memory<T: HostState>(cx: &impl AsContext<Data = T>) -> Result<Memory> {
    Ok(handles(cx)?.memory)
}

/// The guest's function table.
pub fn table<T: HostState>(cx: &impl AsContext<Data = T>) -> Result<Table> {
    Ok(handles(cx)?.table)
}

/// Run `f` with the kernel and the guest memory's bytes.
pub fn with_kernel<T: HostState, R>(
    cx: &mut impl AsContextMut<Data = T>,
    f: impl FnOnce(&mut Kernel, &mut [u8]) -> R,
) -> Result<R> {
    let mem = memory(cx)?;
    let (bytes, state) = mem.data_and_store_mut(cx.as_context_mut());
    Ok(f(state.kernel(), bytes))
}

/// A NUL-terminated string at `ptr` (lossy UTF-8; empty past the end).
pub fn read_cstr<T: HostState>(cx: &impl AsContext<Data = T>, ptr: u32) -> Result<String> {
    let mem = memory(cx)?;
    Ok(cstr_lossy(mem.data(cx), ptr))
}

/// A NUL-terminated string at `ptr` in `bytes` (lossy UTF-8; empty past
/// the end; one running off the end is cut there), as the glue's
/// `UTF8ToString` reads it.
pub fn cstr_lossy(bytes: &[u8], ptr: u32) -> String {
    guest::read_cstr_lossy(bytes, ptr).unwrap_or_else(|_| {
        // A null pointer (address 0 is memory too) or no NUL before the end.
        let tail = bytes.get(ptr as usize..).unwrap_or_default();
        let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
        String::from_utf8_lossy(&tail[..end]).into_owned()
    })
}

/// Guest memory access outside the memory, as the error ending the run.
fn fault(what: &str, ptr: u32) -> wasmtime::Error {
    wasmtime::format_err!("{what} out of bounds at {ptr:#x}")
}

/// The little-endian `u32` at `ptr`.
pub fn read_u32<T: HostState>(cx: &impl AsContext<Data = T>, ptr: u32) -> Result<u32> {
    guest::read_u32(memory(cx)?.data(cx), ptr).map_err(|_| fault("read", ptr))
}

/// Write `bytes` at `ptr`.
pub fn write_bytes<T: HostState>(
    cx: &mut impl AsContextMut<Data = T>,
    ptr: u32,
    bytes: &[u8],
) -> Result<()> {
    let mem = memory(cx)?;
    guest::write_bytes(mem.data_mut(cx.as_context_mut()), ptr, bytes)
        .map_err(|_| fault("write", ptr))
}

/// Write the little-endian `u32` `v` at `ptr`.
pub fn write_u32<T: HostState>(
    cx: &mut impl AsContextMut<Data = T>,
    ptr: u32,
    v: u32,
) -> Result<()> {
    write_bytes(cx, ptr, &v.to_le_bytes())
}

/// Allocate `size` bytes with the guest's `malloc` (0 when it fails).
pub fn malloc<T: HostState>(cx: &mut impl AsContextMut<Data = T>, size: u32) -> Result<u32> {
    let malloc = handles(cx)?.malloc.clone();
    Ok(malloc.call(cx.as_context_mut(), size as i32)? as u32)
}

/// Give `ptr` back to the guest's allocator.
pub fn free<T: HostState>(cx: &mut impl AsContextMut<Data = T>, ptr: u32) -> Result<()> {
    let free = handles(cx)?.free.clone();
    free.call(cx.as_context_mut(), ptr as i32)
}

/// A copy of `s` as a NUL-terminated string in guest memory (0 when
/// `malloc` fails).
pub fn alloc_cstr<T: HostState>(cx: &mut impl AsContextMut<Data = T>, s: &str) -> Result<u32> {
    let ptr = malloc(cx, s.len() as u32 + 1)?;
    if ptr != 0 {
        let mut bytes = s.as_bytes().to_vec();
        bytes.push(0);
        write_bytes(cx, ptr, &bytes)?;
    }
    Ok(ptr)
}

/// The function in table slot `index`, or an error naming the index.
pub fn table_func<T: HostState>(cx: &mut impl AsContextMut<Data = T>, index: u32) -> Result<Func> {
    let table = table(cx)?;
    let entry = table
        .get(cx.as_context_mut(), u64::from(index))
        .ok_or_else(|| wasmtime::format_err!("table index is out of bounds: {index}"))?;
    entry
        .as_func()
        .flatten()
        .copied()
        .ok_or_else(|| wasmtime::format_err!("null function at table index {index}"))
}

/// Call the table entry `index` with as many of `args` as it takes (extra
/// ones are dropped, missing ones are zero, as a JS call would do), and
/// return its first result.
pub fn call_table<T: HostState>(
    cx: &mut impl AsContextMut<Data = T>,
    index: u32,
    args: &[Val],
) -> Result<Option<Val>> {
    let func = table_func(cx, index)?;
    let ty = func.ty(cx.as_context());
    let params: Vec<Val> = ty
        .params()
        .enumerate()
        .map(|(i, p)| match (args.get(i), p) {
            (Some(Val::I32(v)), wasmtime::ValType::I32) => Val::I32(*v),
            (Some(Val::I32(v)), wasmtime::ValType::I64) => Val::I64(i64::from(*v)),
            (Some(Val::I32(v)), wasmtime::ValType::F64) => Val::F64(f64::from(*v).to_bits()),
            (Some(Val::I32(v)), wasmtime::ValType::F32) => Val::F32((*v as f32).to_bits()),
            (_, p) => Val::default_for_ty(&p).unwrap_or(Val::I32(0)),
        })
        .collect();
    let mut results: Vec<Val> = ty
        .results()
        .map(|r| Val::default_for_ty(&r).unwrap_or(Val::I32(0)))
        .collect();
    func.call(cx.as_context_mut(), &params, &mut results)?;
    Ok(results.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cstr_stops_at_nul_and_end() {
        let bytes = b"ab\0cd";
        assert_eq!(cstr_lossy(bytes, 0), "ab");
        assert_eq!(cstr_lossy(bytes, 3), "cd");
        assert_eq!(cstr_lossy(bytes, 9), "");
    }
}
