//! `_mmap_js`: mapping a file means allocating guest memory (64 KiB
//! aligned, zeroed, through the guest's own `emscripten_builtin_memalign`)
//! and copying the file's bytes in; the kernel checks the request and
//! supplies the bytes. `_munmap_js`/`_msync_js` (writing back) are kernel
//! imports.

use wasmtime::{Caller, Linker};

use super::instance::{HostState, handles, memory, with_kernel};
use crate::syscalls::guest;

/// `ENOMEM` in Emscripten's numbering.
const ENOMEM: i32 = 48;

/// Define `_mmap_js`.
pub fn define<T: HostState>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.func_wrap("env", "_mmap_js", mmap_js)?;
    Ok(())
}

/// `_mmap_js(len, prot, flags, fd, offset, allocated, addr)`.
#[allow(clippy::too_many_arguments)]
pub fn mmap_js<T: HostState>(
    mut caller: Caller<'_, T>,
    len: i32,
    prot: i32,
    flags: i32,
    fd: i32,
    offset: i64,
    allocated: i32,
    addr: i32,
) -> wasmtime::Result<i32> {
    let bytes = match with_kernel(&mut caller, |k, _| {
        k.mmap_read(fd, len as u32, prot, flags, offset)
    })? {
        Ok(bytes) => bytes,
        Err(errno) => return Ok(errno.to_neg()),
    };
    let size = (bytes.len() as u64).div_ceil(65536) * 65536;
    let Some(memalign) = handles(&caller)?.memalign.clone() else {
        return Ok(-ENOMEM);
    };
    let ptr = memalign.call(&mut caller, (65536, size as i32))? as u32;
    if ptr == 0 {
        return Ok(-ENOMEM);
    }
    let mem = memory(&caller)?;
    let data = mem.data_mut(&mut caller);
    let placed = guest::slice_mut(data, ptr, size as u32)
        .map(|region| {
            region.fill(0);
            region[..bytes.len()].copy_from_slice(&bytes);
        })
        .and_then(|()| guest::write_i32(data, allocated as u32, 1))
        .and_then(|()| guest::write_u32(data, addr as u32, ptr));
    Ok(match placed {
        Ok(()) => 0,
        Err(errno) => errno.to_neg(),
    })
}
