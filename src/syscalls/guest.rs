//! Access to the guest's linear memory (wasm32, little-endian, pointers are
//! `u32` offsets) with bounds checks: an access outside the memory is
//! [`Errno::EFAULT`], never a panic.
//!
//! Every function takes the memory as a plain byte slice (`&[u8]` to read,
//! `&mut [u8]` to write), so the kernel and the host's Wasmtime glue can
//! share them: the host passes `Memory::data(&store)` /
//! `Memory::data_mut(&mut store)`. Nothing here aligns pointers: wasm
//! allows unaligned access, and so do these helpers.

use super::errno::{Errno, SysResult};

/// The byte range `[ptr, ptr+len)` of guest memory, or `EFAULT` if any of
/// it lies outside the memory.
pub fn slice(mem: &[u8], ptr: u32, len: u32) -> SysResult<&[u8]> {
    let start = ptr as usize;
    let end = start.checked_add(len as usize).ok_or(Errno::EFAULT)?;
    mem.get(start..end).ok_or(Errno::EFAULT)
}

/// The mutable byte range `[ptr, ptr+len)` of guest memory, or `EFAULT`.
pub fn slice_mut(mem: &mut [u8], ptr: u32, len: u32) -> SysResult<&mut [u8]> {
    let start = ptr as usize;
    let end = start.checked_add(len as usize).ok_or(Errno::EFAULT)?;
    mem.get_mut(start..end).ok_or(Errno::EFAULT)
}

/// The `N` bytes at `ptr`, copied.
pub fn read_array<const N: usize>(mem: &[u8], ptr: u32) -> SysResult<[u8; N]> {
    let s = slice(mem, ptr, N as u32)?;
    let mut a = [0u8; N];
    a.copy_from_slice(s);
    Ok(a)
}

/// Copies `[ptr, ptr+len)` out of guest memory into a new vector.
/// `EFAULT` if out of bounds; `ENOMEM` if the host cannot allocate it
/// (the length is the guest's choice, so the allocation is fallible).
pub fn read_bytes(mem: &[u8], ptr: u32, len: u32) -> SysResult<Vec<u8>> {
    let s = slice(mem, ptr, len)?;
    let mut v = Vec::new();
    v.try_reserve_exact(s.len()).map_err(|_| Errno::ENOMEM)?;
    v.extend_from_slice(s);
    Ok(v)
}

/// Reads a `u8`.
pub fn read_u8(mem: &[u8], ptr: u32) -> SysResult<u8> {
    read_array::<1>(mem, ptr).map(|a| a[0])
}
/// Reads a little-endian `u16`.
pub fn read_u16(mem: &[u8], ptr: u32) -> SysResult<u16> {
    read_array::<2>(mem, ptr).map(u16::from_le_bytes)
}
/// Reads a little-endian `u32`.
pub fn read_u32(mem: &[u8], ptr: u32) -> SysResult<u32> {
    read_array::<4>(mem, ptr).map(u32::from_le_bytes)
}
/// Reads a little-endian `u64`.
pub fn read_u64(mem: &[u8], ptr: u32) -> SysResult<u64> {
    read_array::<8>(mem, ptr).map(u64::from_le_bytes)
}
/// Reads a little-endian `i32`.
pub fn read_i32(mem: &[u8], ptr: u32) -> SysResult<i32> {
    read_array::<4>(mem, ptr).map(i32::from_le_bytes)
}
/// Reads a little-endian `i64`.
pub fn read_i64(mem: &[u8], ptr: u32) -> SysResult<i64> {
    read_array::<8>(mem, ptr).map(i64::from_le_bytes)
}
/// Reads a little-endian `f32`.
pub fn read_f32(mem: &[u8], ptr: u32) -> SysResult<f32> {
    read_array::<4>(mem, ptr).map(f32::from_le_bytes)
}
/// Reads a little-endian `f64`.
pub fn read_f64(mem: &[u8], ptr: u32) -> SysResult<f64> {
    read_array::<8>(mem, ptr).map(f64::from_le_bytes)
}

/// Writes `data` at `ptr` (all of it, or nothing and `EFAULT`).
pub fn write_bytes(mem: &mut [u8], ptr: u32, data: &[u8]) -> SysResult<()> {
    let len = u32::try_from(data.len()).map_err(|_| Errno::EFAULT)?;
    slice_mut(mem, ptr, len)?.copy_from_slice(data);
    Ok(())
}
/// Writes a `u8`.
pub fn write_u8(mem: &mut [u8], ptr: u32, v: u8) -> SysResult<()> {
    write_bytes(mem, ptr, &[v])
}
/// Writes a little-endian `u16`.
pub fn write_u16(mem: &mut [u8], ptr: u32, v: u16) -> SysResult<()> {
    write_bytes(mem, ptr, &v.to_le_bytes())
}
/// Writes a little-endian `u32`.
pub fn write_u32(mem: &mut [u8], ptr: u32, v: u32) -> SysResult<()> {
    write_bytes(mem, ptr, &v.to_le_bytes())
}
/// Writes a little-endian `u64`.
pub fn write_u64(mem: &mut [u8], ptr: u32, v: u64) -> SysResult<()> {
    write_bytes(mem, ptr, &v.to_le_bytes())
}
/// Writes a little-endian `i32`.
pub fn write_i32(mem: &mut [u8], ptr: u32, v: i32) -> SysResult<()> {
    write_bytes(mem, ptr, &v.to_le_bytes())
}
/// Writes a little-endian `i64`.
pub fn write_i64(mem: &mut [u8], ptr: u32, v: i64) -> SysResult<()> {
    write_bytes(mem, ptr, &v.to_le_bytes())
}
/// Writes a little-endian `f32`.
pub fn write_f32(mem: &mut [u8], ptr: u32, v: f32) -> SysResult<()> {
    write_bytes(mem, ptr, &v.to_le_bytes())
}
/// Writes a little-endian `f64`.
pub fn write_f64(mem: &mut [u8], ptr: u32, v: f64) -> SysResult<()> {
    write_bytes(mem, ptr, &v.to_le_bytes())
}

/// `memmove(dst, src, len)` inside guest memory: `EFAULT` (and nothing
/// copied) unless both ranges are in bounds; overlapping ranges are fine.
pub fn copy_within(mem: &mut [u8], dst: u32, src: u32, len: u32) -> SysResult<()> {
    slice(mem, src, len)?;
    slice(mem, dst, len)?;
    let src = src as usize;
    mem.copy_within(src..src + len as usize, dst as usize);
    Ok(())
}

/// The bytes of the NUL-terminated string at `ptr`, borrowed, without the
/// NUL. A null pointer, or a string running off the end of memory, is
/// `EFAULT`.
pub fn cstr(mem: &[u8], ptr: u32) -> SysResult<&[u8]> {
    if ptr == 0 {
        return Err(Errno::EFAULT);
    }
    let tail = mem.get(ptr as usize..).ok_or(Errno::EFAULT)?;
    let n = tail.iter().position(|&b| b == 0).ok_or(Errno::EFAULT)?;
    Ok(&tail[..n])
}

/// Reads a NUL-terminated byte string (without its NUL), copied. Errors
/// as [`cstr`].
pub fn read_cstr(mem: &[u8], ptr: u32) -> SysResult<Vec<u8>> {
    cstr(mem, ptr).map(<[u8]>::to_vec)
}

/// Reads a NUL-terminated string as UTF-8, invalid sequences replaced by
/// U+FFFD. Errors as [`cstr`].
pub fn read_cstr_lossy(mem: &[u8], ptr: u32) -> SysResult<String> {
    cstr(mem, ptr).map(|b| String::from_utf8_lossy(b).into_owned())
}

/// Writes `s` and a NUL at `ptr` (`s.len() + 1` bytes). `EFAULT` if that
/// does not fit in memory (then nothing is written).
pub fn write_cstr(mem: &mut [u8], ptr: u32, s: &[u8]) -> SysResult<()> {
    let len = u32::try_from(s.len())
        .ok()
        .and_then(|n| n.checked_add(1))
        .ok_or(Errno::EFAULT)?;
    let dst = slice_mut(mem, ptr, len)?;
    dst[..s.len()].copy_from_slice(s);
    dst[s.len()] = 0;
    Ok(())
}

/// Writes `s` as a NUL-terminated string into a buffer of `max` bytes,
/// truncating so the NUL fits (Emscripten's `stringToUTF8` contract).
/// Returns the number of bytes written, NUL excluded. `max == 0` writes
/// nothing.
pub fn write_cstr_trunc(mem: &mut [u8], ptr: u32, s: &[u8], max: u32) -> SysResult<u32> {
    if max == 0 {
        return Ok(0);
    }
    let n = s.len().min(max as usize - 1);
    write_cstr(mem, ptr, &s[..n])?;
    Ok(n as u32)
}

/// One `struct iovec` (`{ void *base; size_t len; }`, 8 bytes on wasm32).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoVec {
    /// Where the buffer starts.
    pub base: u32,
    /// Its length in bytes.
    pub len: u32,
}

/// Most iovecs one call may pass (`IOV_MAX`); more is `EINVAL`.
pub const IOV_MAX: u32 = 1024;

/// Reads `cnt` iovecs at `iov`, checking each buffer lies in memory.
/// More than [`IOV_MAX`] is `EINVAL`.
pub fn read_iovecs(mem: &[u8], iov: u32, cnt: u32) -> SysResult<Vec<IoVec>> {
    if cnt > IOV_MAX {
        return Err(Errno::EINVAL);
    }
    let mut v = Vec::with_capacity(cnt as usize);
    for i in 0..cnt {
        let at = iov.checked_add(i * 8).ok_or(Errno::EFAULT)?;
        let base = read_u32(mem, at)?;
        let len = read_u32(mem, at.checked_add(4).ok_or(Errno::EFAULT)?)?;
        slice(mem, base, len)?;
        v.push(IoVec { base, len });
    }
    Ok(v)
}

/// The total length of `iovs` (at most [`IOV_MAX`] × 4 GiB, so no
/// overflow in `u64`). Several iovecs may name the same memory, so this
/// can exceed the memory's size: size host buffers by what is really
/// there to copy, not by this.
pub fn iovecs_len(iovs: &[IoVec]) -> u64 {
    iovs.iter().map(|v| v.len as u64).sum()
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
        assert_eq!(write_u64(&mut m, 9, 1), Err(Errno::EFAULT));
        assert_eq!(m[9..16], [0, 0, 0, 0xef, 0xbe, 0xad, b'x']);
        assert_eq!(read_bytes(&m, 4, 3).unwrap(), b"abc");
        assert_eq!(read_bytes(&m, 4, 13), Err(Errno::EFAULT));
    }

    #[test]
    fn integers_and_floats_round_trip() {
        let mut m = vec![0u8; 64];
        write_u8(&mut m, 0, 0xfe).unwrap();
        write_u16(&mut m, 1, 0xbeef).unwrap();
        write_i32(&mut m, 3, -5).unwrap();
        write_i64(&mut m, 7, -6).unwrap();
        write_u64(&mut m, 15, u64::MAX - 1).unwrap();
        write_f32(&mut m, 23, 1.5).unwrap();
        write_f64(&mut m, 27, -2.25).unwrap();
        assert_eq!(read_u8(&m, 0), Ok(0xfe));
        assert_eq!(read_u16(&m, 1), Ok(0xbeef));
        assert_eq!(read_i32(&m, 3), Ok(-5));
        assert_eq!(read_u32(&m, 3), Ok(-5i32 as u32));
        assert_eq!(read_i64(&m, 7), Ok(-6));
        assert_eq!(read_u64(&m, 15), Ok(u64::MAX - 1));
        assert_eq!(read_f32(&m, 23), Ok(1.5));
        assert_eq!(read_f64(&m, 27), Ok(-2.25));
        assert_eq!(read_f64(&m, 60), Err(Errno::EFAULT));
    }

    #[test]
    fn cstrings() {
        let mut m = vec![0xffu8; 16];
        assert_eq!(write_cstr_trunc(&mut m, 0, b"hello", 4).unwrap(), 3);
        assert_eq!(&m[..4], b"hel\0");
        write_cstr(&mut m, 8, b"h\xffi").unwrap();
        assert_eq!(read_cstr_lossy(&m, 8).unwrap(), "h\u{fffd}i");
        assert_eq!(cstr(&m, 8).unwrap(), b"h\xffi");
        assert_eq!(write_cstr(&mut m, 12, b"abcd"), Err(Errno::EFAULT));
        assert_eq!(m[12], 0xff);
    }

    #[test]
    fn memmove_and_iovecs() {
        let mut m = vec![0u8; 64];
        m[..4].copy_from_slice(b"abcd");
        copy_within(&mut m, 2, 0, 4).unwrap();
        assert_eq!(&m[..6], b"ababcd");
        assert_eq!(copy_within(&mut m, 62, 0, 4), Err(Errno::EFAULT));
        write_u32(&mut m, 32, 0).unwrap();
        write_u32(&mut m, 36, 8).unwrap();
        write_u32(&mut m, 40, 4).unwrap();
        write_u32(&mut m, 44, 60).unwrap();
        let v = read_iovecs(&m, 32, 2).unwrap();
        assert_eq!(v, [IoVec { base: 0, len: 8 }, IoVec { base: 4, len: 60 }]);
        assert_eq!(iovecs_len(&v), 68);
        write_u32(&mut m, 44, 61).unwrap();
        assert_eq!(read_iovecs(&m, 32, 2), Err(Errno::EFAULT));
        assert_eq!(read_iovecs(&m, 32, IOV_MAX + 1), Err(Errno::EINVAL));
    }
}
