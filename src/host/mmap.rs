//! `_mmap_js`: mapping a file means allocating guest memory (64 KiB
//! aligned, zeroed, through the guest's own `emscripten_builtin_memalign`)
//! and copying the file's bytes in; the kernel checks the request and
//! supplies the bytes. Bytes that a mapped host file holds (the stdlib's
//! bytecode table) have their whole pages mapped in, copy-on-write,
//! instead of copied: the guest sees the same bytes either way.
//! `_munmap_js`/`_msync_js` (writing back) are kernel imports.

use wasmtime::{Caller, Linker};

use super::instance::{HostState, handles, memory, with_kernel};
use crate::syscalls::{MapContents, guest};

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
    let contents = match with_kernel(&mut caller, |k, _| {
        k.mmap_read(fd, len as u32, prot, flags, offset)
    })? {
        Ok(contents) => contents,
        Err(errno) => return Ok(errno.to_neg()),
    };
    let size = u64::from(len as u32).div_ceil(65536) * 65536;
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
        .map(|region| place(region, &contents))
        .and_then(|()| guest::write_i32(data, allocated as u32, 1))
        .and_then(|()| guest::write_u32(data, addr as u32, ptr));
    Ok(match placed {
        Ok(()) => 0,
        Err(errno) => errno.to_neg(),
    })
}

/// Fill a fresh mapping's guest memory: its contents, zeros after them.
/// A mapped host file's whole pages are mapped in rather than copied
/// (copy-on-write, so the guest may write them; see
/// [`MappedFile::map_into`](crate::host_bytes::MappedFile::map_into)).
fn place(region: &mut [u8], contents: &MapContents) {
    let filled = match contents {
        MapContents::Bytes(bytes) => {
            let n = bytes.len().min(region.len());
            region[..n].copy_from_slice(&bytes[..n]);
            n
        }
        MapContents::HostFile {
            file,
            offset,
            valid,
            ..
        } => {
            let valid = (*valid).min(region.len());
            let from = usize::try_from(*offset).unwrap_or(usize::MAX);
            let source = file.bytes().get(from..).unwrap_or(&[]);
            let valid = valid.min(source.len());
            // SAFETY: `region` is this mapping's guest memory, allocated
            // for it just now and referenced from nowhere else (`map_into`
            // maps nothing unless it is page-aligned).
            let mapped = unsafe { file.map_into(region.as_mut_ptr(), from, valid) }.unwrap_or(0);
            region[mapped..valid].copy_from_slice(&source[mapped..valid]);
            valid
        }
    };
    region[filled..].fill(0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_bytes::page_size;
    use crate::host_bytes::test_support::{AnonRegion, TempFile};

    #[test]
    fn a_host_file_is_placed_page_for_page_with_its_tail_copied() {
        let page = page_size();
        let f = TempFile::new("place", 2 * page + 10);
        let (data, file) = f.map();
        for offset in [0, page] {
            let mut region = AnonRegion::new(4 * page);
            region.bytes().fill(0xee);
            let valid = f.bytes.len() - offset;
            let contents = MapContents::HostFile {
                file: file.clone(),
                offset: offset as u64,
                valid,
                len: 4 * page,
            };
            place(region.bytes(), &contents);
            let got = region.bytes();
            assert_eq!(&got[..valid], &f.bytes[offset..]);
            assert!(got[valid..].iter().all(|&b| b == 0), "zeros after the file");
            // The guest may write its copy; the file keeps its bytes.
            got[0] = 0;
            assert_eq!(data[offset], f.bytes[offset]);
        }
        assert_eq!(std::fs::read(&f.path).unwrap(), f.bytes);
    }
}
