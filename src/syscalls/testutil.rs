//! Helpers for the unit tests: a kernel with captured stdio and a guest
//! "memory" with a bump allocator for strings and structs.

use super::*;

/// Size of the fake guest memory.
pub(crate) const MEM: usize = 1 << 20;
/// Where `put`/`alloc` start handing out space.
const HEAP: u32 = 64 * 1024;

/// A kernel with captured stdout/stderr and 1 MiB of zeroed memory.
pub(crate) fn kernel() -> (Kernel, Vec<u8>) {
    let k = Kernel::new(KernelConfig::captured(Capture::new(), Capture::new()));
    (k, vec![0u8; MEM])
}

/// A kernel whose stdout capture is returned too.
pub(crate) fn kernel_with_stdout() -> (Kernel, Vec<u8>, Capture, Capture) {
    let out = Capture::new();
    let err = Capture::new();
    let k = Kernel::new(KernelConfig::captured(out.clone(), err.clone()));
    (k, vec![0u8; MEM], out, err)
}

/// A bump allocator over the test memory.
pub(crate) struct Bump {
    next: u32,
}

impl Bump {
    pub(crate) fn new() -> Self {
        Bump { next: HEAP }
    }
    /// Reserves `n` zeroed bytes, 8-aligned.
    pub(crate) fn alloc(&mut self, m: &mut [u8], n: u32) -> u32 {
        let p = self.next.div_ceil(8) * 8;
        self.next = p + n;
        m[p as usize..(p + n) as usize].fill(0);
        p
    }
    /// Stores a NUL-terminated string.
    pub(crate) fn cstr(&mut self, m: &mut [u8], s: &str) -> i32 {
        let p = self.alloc(m, s.len() as u32 + 1);
        m[p as usize..p as usize + s.len()].copy_from_slice(s.as_bytes());
        p as i32
    }
    /// Stores bytes.
    pub(crate) fn bytes(&mut self, m: &mut [u8], b: &[u8]) -> u32 {
        let p = self.alloc(m, b.len() as u32);
        m[p as usize..p as usize + b.len()].copy_from_slice(b);
        p
    }
}

pub(crate) fn rd_i32(m: &[u8], p: u32) -> i32 {
    i32::from_le_bytes(m[p as usize..p as usize + 4].try_into().unwrap())
}
pub(crate) fn rd_u32(m: &[u8], p: u32) -> u32 {
    rd_i32(m, p) as u32
}
pub(crate) fn rd_u16(m: &[u8], p: u32) -> u16 {
    u16::from_le_bytes(m[p as usize..p as usize + 2].try_into().unwrap())
}
pub(crate) fn rd_i64(m: &[u8], p: u32) -> i64 {
    i64::from_le_bytes(m[p as usize..p as usize + 8].try_into().unwrap())
}
pub(crate) fn wr_i32(m: &mut [u8], p: u32, v: i32) {
    m[p as usize..p as usize + 4].copy_from_slice(&v.to_le_bytes());
}

/// Guest-side conveniences that go through the import-shaped API.
pub(crate) struct G<'a> {
    pub k: &'a mut Kernel,
    pub m: &'a mut Vec<u8>,
    pub b: Bump,
}

impl<'a> G<'a> {
    pub(crate) fn new(k: &'a mut Kernel, m: &'a mut Vec<u8>) -> Self {
        G {
            k,
            m,
            b: Bump::new(),
        }
    }
    pub(crate) fn open(&mut self, path: &str, flags: u32, mode: u32) -> i32 {
        let p = self.b.cstr(self.m, path);
        let va = self.b.alloc(self.m, 4);
        wr_i32(self.m, va, mode as i32);
        self.k
            .sys_openat(self.m, consts::AT_FDCWD, p, flags as i32, va as i32)
    }
    pub(crate) fn write(&mut self, fd: i32, data: &[u8]) -> Result<u32, i32> {
        let buf = self.b.bytes(self.m, data);
        let iov = self.b.alloc(self.m, 8);
        self.m[iov as usize..iov as usize + 4].copy_from_slice(&buf.to_le_bytes());
        self.m[iov as usize + 4..iov as usize + 8]
            .copy_from_slice(&(data.len() as u32).to_le_bytes());
        let nw = self.b.alloc(self.m, 4);
        match self.k.fd_write(self.m, fd, iov as i32, 1, nw as i32) {
            0 => Ok(rd_u32(self.m, nw)),
            e => Err(e),
        }
    }
    pub(crate) fn read(&mut self, fd: i32, n: u32) -> Result<Vec<u8>, i32> {
        let buf = self.b.alloc(self.m, n);
        let iov = self.b.alloc(self.m, 8);
        self.m[iov as usize..iov as usize + 4].copy_from_slice(&buf.to_le_bytes());
        self.m[iov as usize + 4..iov as usize + 8].copy_from_slice(&n.to_le_bytes());
        let nr = self.b.alloc(self.m, 4);
        match self.k.fd_read(self.m, fd, iov as i32, 1, nr as i32) {
            0 => {
                let got = rd_u32(self.m, nr) as usize;
                Ok(self.m[buf as usize..buf as usize + got].to_vec())
            }
            e => Err(e),
        }
    }
    pub(crate) fn seek(&mut self, fd: i32, off: i64, whence: i32) -> Result<i64, i32> {
        let p = self.b.alloc(self.m, 8);
        match self.k.fd_seek(self.m, fd, off, whence, p as i32) {
            0 => Ok(rd_i64(self.m, p)),
            e => Err(e),
        }
    }
    pub(crate) fn close(&mut self, fd: i32) -> i32 {
        self.k.fd_close(self.m, fd)
    }
    /// `stat`/`lstat` returning (mode, size, ino, nlink) or -errno.
    pub(crate) fn stat(&mut self, path: &str, follow: bool) -> Result<stat::Stat, i32> {
        let p = self.b.cstr(self.m, path);
        let buf = self.b.alloc(self.m, 96);
        let r = if follow {
            self.k.sys_stat64(self.m, p, buf as i32)
        } else {
            self.k.sys_lstat64(self.m, p, buf as i32)
        };
        if r != 0 {
            return Err(r);
        }
        Ok(self.parse_stat(buf))
    }
    pub(crate) fn fstat(&mut self, fd: i32) -> Result<stat::Stat, i32> {
        let buf = self.b.alloc(self.m, 96);
        let r = self.k.sys_fstat64(self.m, fd, buf as i32);
        if r != 0 {
            return Err(r);
        }
        Ok(self.parse_stat(buf))
    }
    pub(crate) fn parse_stat(&self, buf: u32) -> stat::Stat {
        let m = &self.m;
        let ts = |o: u32| Timespec {
            sec: rd_i64(m, buf + o),
            nsec: rd_u32(m, buf + o + 8),
        };
        stat::Stat {
            dev: rd_u32(m, buf),
            mode: rd_u32(m, buf + 4),
            nlink: rd_u32(m, buf + 8),
            uid: rd_u32(m, buf + 12),
            gid: rd_u32(m, buf + 16),
            rdev: rd_u32(m, buf + 20),
            size: rd_i64(m, buf + 24),
            blksize: rd_i32(m, buf + 32),
            blocks: rd_i32(m, buf + 36),
            atime: ts(40),
            mtime: ts(56),
            ctime: ts(72),
            ino: rd_i64(m, buf + 88) as u64,
        }
    }
    pub(crate) fn mkdir(&mut self, path: &str, mode: u32) -> i32 {
        let p = self.b.cstr(self.m, path);
        self.k.sys_mkdirat(self.m, consts::AT_FDCWD, p, mode as i32)
    }
    pub(crate) fn unlink(&mut self, path: &str, flags: u32) -> i32 {
        let p = self.b.cstr(self.m, path);
        self.k
            .sys_unlinkat(self.m, consts::AT_FDCWD, p, flags as i32)
    }
    pub(crate) fn rename(&mut self, a: &str, b: &str) -> i32 {
        let pa = self.b.cstr(self.m, a);
        let pb = self.b.cstr(self.m, b);
        self.k
            .sys_renameat(self.m, consts::AT_FDCWD, pa, consts::AT_FDCWD, pb)
    }
    pub(crate) fn symlink(&mut self, target: &str, link: &str) -> i32 {
        let t = self.b.cstr(self.m, target);
        let l = self.b.cstr(self.m, link);
        self.k.sys_symlinkat(self.m, t, consts::AT_FDCWD, l)
    }
    /// Lists a directory through getdents64 with a buffer of `bufsize`.
    pub(crate) fn getdents(
        &mut self,
        fd: i32,
        bufsize: u32,
    ) -> Result<Vec<(String, u8, u64)>, i32> {
        let buf = self.b.alloc(self.m, bufsize);
        let mut out = Vec::new();
        loop {
            let n = self
                .k
                .sys_getdents64(self.m, fd, buf as i32, bufsize as i32);
            if n < 0 {
                return Err(n);
            }
            if n == 0 {
                return Ok(out);
            }
            let mut at = buf;
            while at < buf + n as u32 {
                let reclen = rd_u16(self.m, at + 16) as u32;
                let ty = self.m[at as usize + 18];
                let name_start = at as usize + 19;
                let end = self.m[name_start..].iter().position(|&c| c == 0).unwrap();
                let name =
                    String::from_utf8_lossy(&self.m[name_start..name_start + end]).into_owned();
                out.push((name, ty, rd_i64(self.m, at + 8) as u64));
                at += reclen;
            }
        }
    }
}
