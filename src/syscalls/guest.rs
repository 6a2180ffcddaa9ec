//! Access to the guest's linear memory (wasm32, little-endian) with bounds
//! checks: an access outside the memory is `EFAULT`, never a panic.

use super::errno::{Errno, SysResult};

/// The byte range `[ptr, ptr+len)` of guest memory.
pub(crate) fn slice(mem: &[u8], ptr: u32, len: u32) -> SysResult<&[u8]> {
    let start = ptr as usize;
    let end = start.checked_add(len as usize).ok_or(Errno::EFAULT)?;
    mem.get(start..end).ok_or(Errno::EFAULT)
}

/// The mutable byte range `[ptr, ptr+len)` of guest memory.
pub(crate) fn slice_mut(mem: &mut [u8], ptr: u32, len: u32) -> SysResult<&mut [u8]> {
    let start = ptr as usize;
    let end = start.checked_add(len as usize).ok_or(Errno::EFAULT)?;
    mem.get_mut(start..end).ok_or(Errno::EFAULT)
}

fn arr<const N: usize>(mem: &[u8], ptr: u32) -> SysResult<[u8; N]> {
    let s = slice(mem, ptr, N as u32)?;
    let mut a = [0u8; N];
    a.copy_from_slice(s);
    Ok(a)
}

/// Reads a little-endian `u16`.
pub(crate) fn read_u16(mem: &[u8], ptr: u32) -> SysResult<u16> {
    arr::<2>(mem, ptr).map(u16::from_le_bytes)
}
/// Reads a little-endian `u32`.
pub(crate) fn read_u32(mem: &[u8], ptr: u32) -> SysResult<u32> {
    arr::<4>(mem, ptr).map(u32::from_le_bytes)
}
/// Reads a little-endian `i32`.
pub(crate) fn read_i32(mem: &[u8], ptr: u32) -> SysResult<i32> {
    arr::<4>(mem, ptr).map(i32::from_le_bytes)
}
/// Reads a little-endian `i64`.
pub(crate) fn read_i64(mem: &[u8], ptr: u32) -> SysResult<i64> {
    arr::<8>(mem, ptr).map(i64::from_le_bytes)
}

/// Writes bytes at `ptr`.
pub(crate) fn write_bytes(mem: &mut [u8], ptr: u32, data: &[u8]) -> SysResult<()> {
    slice_mut(mem, ptr, data.len() as u32)?.copy_from_slice(data);
    Ok(())
}
/// Writes a `u8`.
pub(crate) fn write_u8(mem: &mut [u8], ptr: u32, v: u8) -> SysResult<()> {
    write_bytes(mem, ptr, &[v])
}
/// Writes a little-endian `u16`.
pub(crate) fn write_u16(mem: &mut [u8], ptr: u32, v: u16) -> SysResult<()> {
    write_bytes(mem, ptr, &v.to_le_bytes())
}
/// Writes a little-endian `u32`.
pub(crate) fn write_u32(mem: &mut [u8], ptr: u32, v: u32) -> SysResult<()> {
    write_bytes(mem, ptr, &v.to_le_bytes())
}
/// Writes a little-endian `i32`.
pub(crate) fn write_i32(mem: &mut [u8], ptr: u32, v: i32) -> SysResult<()> {
    write_bytes(mem, ptr, &v.to_le_bytes())
}
/// Writes a little-endian `u64`.
pub(crate) fn write_u64(mem: &mut [u8], ptr: u32, v: u64) -> SysResult<()> {
    write_bytes(mem, ptr, &v.to_le_bytes())
}
/// Writes a little-endian `i64`.
pub(crate) fn write_i64(mem: &mut [u8], ptr: u32, v: i64) -> SysResult<()> {
    write_bytes(mem, ptr, &v.to_le_bytes())
}

/// Reads a NUL-terminated byte string (without its NUL). A null pointer or
/// a string running off the end of memory is `EFAULT`.
pub(crate) fn read_cstr(mem: &[u8], ptr: u32) -> SysResult<Vec<u8>> {
    if ptr == 0 {
        return Err(Errno::EFAULT);
    }
    let tail = mem.get(ptr as usize..).ok_or(Errno::EFAULT)?;
    let n = tail.iter().position(|&b| b == 0).ok_or(Errno::EFAULT)?;
    Ok(tail[..n].to_vec())
}

/// Writes `s` as a NUL-terminated string into a buffer of `max` bytes,
/// truncating so the NUL fits (Emscripten's `stringToUTF8` contract).
/// Returns the number of bytes written, NUL excluded. `max == 0` writes
/// nothing.
pub(crate) fn write_cstr_trunc(mem: &mut [u8], ptr: u32, s: &[u8], max: u32) -> SysResult<u32> {
    if max == 0 {
        return Ok(0);
    }
    let n = s.len().min(max as usize - 1);
    write_bytes(mem, ptr, &s[..n])?;
    write_u8(mem, ptr + n as u32, 0)?;
    Ok(n as u32)
}

/// One `struct iovec` (`{ void *base; size_t len; }`, 8 bytes on wasm32).
#[derive(Clone, Copy, Debug)]
pub(crate) struct IoVec {
    pub base: u32,
    pub len: u32,
}

/// Reads `cnt` iovecs at `iov`, checking each buffer lies in memory.
pub(crate) fn read_iovecs(mem: &[u8], iov: u32, cnt: u32) -> SysResult<Vec<IoVec>> {
    if cnt > 1024 {
        return Err(Errno::EINVAL);
    }
    let mut v = Vec::with_capacity(cnt as usize);
    for i in 0..cnt {
        let at = iov.checked_add(i * 8).ok_or(Errno::EFAULT)?;
        let base = read_u32(mem, at)?;
        let len = read_u32(mem, at + 4)?;
        slice(mem, base, len)?;
        v.push(IoVec { base, len });
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_efault() {
        let mut m = vec![0u8; 16];
        assert_eq!(read_u32(&m, 13), Err(Errno::EFAULT));
        assert_eq!(read_u32(&m, u32::MAX), Err(Errno::EFAULT));
        write_u32(&mut m, 12, 0xdead_beef).unwrap();
        assert_eq!(read_u32(&m, 12), Ok(0xdead_beef));
        assert_eq!(read_cstr(&m, 0), Err(Errno::EFAULT));
        m[4..7].copy_from_slice(b"abc");
        assert_eq!(read_cstr(&m, 4).unwrap(), b"abc");
        m[15] = b'x';
        assert_eq!(read_cstr(&m[..16], 15), Err(Errno::EFAULT));
    }

    #[test]
    fn cstr_truncates() {
        let mut m = vec![0xffu8; 16];
        assert_eq!(write_cstr_trunc(&mut m, 0, b"hello", 4).unwrap(), 3);
        assert_eq!(&m[..4], b"hel\0");
    }
}
