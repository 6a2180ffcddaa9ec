//! The `wasi_snapshot_preview1` imports Emscripten uses, on the same
//! descriptor table as the syscalls. They return `0` or an errno.

use super::Kernel;
use super::consts::*;
use super::device::random_bytes;
use super::errno::{Errno, SysResult, wasi_ret};
use super::fd::Target;
use super::guest;

const FILETYPE_CHARACTER_DEVICE: u8 = 2;
const FILETYPE_DIRECTORY: u8 = 3;
const FILETYPE_REGULAR_FILE: u8 = 4;
const FDFLAGS_APPEND: u16 = 1;
const FDFLAGS_NONBLOCK: u16 = 4;

impl Kernel {
    /// `fd_close(fd)`.
    pub fn fd_close(&mut self, _mem: &mut [u8], fd: i32) -> i32 {
        wasi_ret(self.close_fd(fd))
    }

    /// `fd_read(fd, iovs, iovs_len, nread)`.
    pub fn fd_read(
        &mut self,
        mem: &mut [u8],
        fd: i32,
        iovs: i32,
        iovs_len: i32,
        nread: i32,
    ) -> i32 {
        wasi_ret((|| {
            let n = self.readv(mem, fd, iovs as u32, iovs_len as u32, None)?;
            guest::write_u32(mem, nread as u32, n as u32)
        })())
    }

    /// `fd_write(fd, iovs, iovs_len, nwritten)`.
    pub fn fd_write(
        &mut self,
        mem: &mut [u8],
        fd: i32,
        iovs: i32,
        iovs_len: i32,
        nwritten: i32,
    ) -> i32 {
        wasi_ret((|| {
            let n = self.writev(mem, fd, iovs as u32, iovs_len as u32, None)?;
            guest::write_u32(mem, nwritten as u32, n as u32)
        })())
    }

    /// `fd_pread(fd, iovs, iovs_len, offset, nread)`.
    pub fn fd_pread(
        &mut self,
        mem: &mut [u8],
        fd: i32,
        iovs: i32,
        iovs_len: i32,
        offset: i64,
        nread: i32,
    ) -> i32 {
        wasi_ret((|| {
            if offset < 0 {
                return Err(Errno::EINVAL);
            }
            let n = self.readv(mem, fd, iovs as u32, iovs_len as u32, Some(offset as u64))?;
            guest::write_u32(mem, nread as u32, n as u32)
        })())
    }

    /// `fd_pwrite(fd, iovs, iovs_len, offset, nwritten)`. On an `O_APPEND`
    /// descriptor the data is appended (Linux).
    pub fn fd_pwrite(
        &mut self,
        mem: &mut [u8],
        fd: i32,
        iovs: i32,
        iovs_len: i32,
        offset: i64,
        nwritten: i32,
    ) -> i32 {
        wasi_ret((|| {
            if offset < 0 {
                return Err(Errno::EINVAL);
            }
            let n = self.writev(mem, fd, iovs as u32, iovs_len as u32, Some(offset as u64))?;
            guest::write_u32(mem, nwritten as u32, n as u32)
        })())
    }

    /// `fd_seek(fd, offset, whence, newoffset)`: a rewind of a directory
    /// (`SEEK_SET` to 0) also drops its `getdents64` listing.
    pub fn fd_seek(
        &mut self,
        mem: &mut [u8],
        fd: i32,
        offset: i64,
        whence: i32,
        newoffset: i32,
    ) -> i32 {
        wasi_ret((|| {
            let pos = self.seek(fd, offset, whence)?;
            guest::write_u64(mem, newoffset as u32, pos)
        })())
    }

    /// `fd_fdstat_get(fd, buf)`: `{u8 filetype; u16 flags; u64 rights_base;
    /// u64 rights_inheriting}`. As in the glue, a TTY is a character device
    /// (this is what `isatty` tests) and the rights are 0; other character
    /// devices, pipes and sockets report "regular file" like the glue does,
    /// directories report "directory".
    pub fn fd_fdstat_get(&mut self, mem: &mut [u8], fd: i32, buf: i32) -> i32 {
        wasi_ret((|| {
            let o = self.fdt.ofd(fd)?;
            let ftype = if self.sees_tty(o.tty, o.target) {
                FILETYPE_CHARACTER_DEVICE
            } else {
                match o.target {
                    Target::Node(n) if self.fs.node(n).is_dir() => FILETYPE_DIRECTORY,
                    _ => FILETYPE_REGULAR_FILE,
                }
            };
            let mut flags = 0;
            if o.flags & O_APPEND != 0 {
                flags |= FDFLAGS_APPEND;
            }
            if o.flags & O_NONBLOCK != 0 {
                flags |= FDFLAGS_NONBLOCK;
            }
            guest::slice_mut(mem, buf as u32, 24)?.fill(0);
            guest::write_u8(mem, buf as u32, ftype)?;
            guest::write_u16(mem, buf as u32 + 2, flags)
        })())
    }

    /// `fd_sync(fd)`: flushes stdout/stderr devices, otherwise checks the fd.
    pub fn fd_sync(&mut self, _mem: &mut [u8], fd: i32) -> i32 {
        wasi_ret((|| {
            let id = self.fdt.ofd_id(fd)?;
            self.fsync_ofd(id)
        })())
    }

    /// `environ_sizes_get(count, buf_size)`.
    pub fn environ_sizes_get(&mut self, mem: &mut [u8], count: i32, buf_size: i32) -> i32 {
        wasi_ret((|| {
            guest::write_u32(mem, count as u32, self.env.len() as u32)?;
            let size: usize = self.env.iter().map(|e| e.len() + 1).sum();
            guest::write_u32(mem, buf_size as u32, size as u32)
        })())
    }

    /// `environ_get(environ, environ_buf)`.
    pub fn environ_get(&mut self, mem: &mut [u8], environ: i32, environ_buf: i32) -> i32 {
        wasi_ret((|| {
            let mut at = environ_buf as u32;
            for (i, e) in self.env.iter().enumerate() {
                guest::write_u32(mem, environ as u32 + 4 * i as u32, at)?;
                guest::write_bytes(mem, at, e)?;
                guest::write_u8(mem, at + e.len() as u32, 0)?;
                at += e.len() as u32 + 1;
            }
            Ok(())
        })())
    }

    fn clock_ns(&self, id: i32) -> SysResult<u64> {
        match id {
            0 => Ok(self.clock.realtime().as_nanos().max(0) as u64),
            1 => Ok(self.clock.monotonic_ns()),
            2 => Ok(self.clock.process_cputime_ns()),
            3 => Ok(self.clock.thread_cputime_ns()),
            _ => Err(Errno::EINVAL),
        }
    }

    /// `clock_time_get(id, precision, time)`: realtime (ns precision, the
    /// glue has ms), monotonic (from process start, like
    /// `performance.now()`), process and thread CPU time (the glue returns
    /// the monotonic clock for those). Other ids: `EINVAL`.
    /// A read of this clock starts a new wait, if the guest then waits
    /// (see `spin.rs`).
    pub fn clock_time_get(&mut self, mem: &mut [u8], id: i32, _precision: i64, time: i32) -> i32 {
        self.spin.reset();
        wasi_ret((|| {
            let ns = self.clock_ns(id)?;
            guest::write_u64(mem, time as u32, ns)
        })())
    }

    /// `clock_res_get(id, resolution)`: 1 µs for realtime, 1 ns otherwise.
    pub fn clock_res_get(&mut self, mem: &mut [u8], id: i32, resolution: i32) -> i32 {
        wasi_ret((|| {
            let res = match id {
                0 => 1000,
                1..=3 => 1,
                _ => return Err(Errno::EINVAL),
            };
            guest::write_u64(mem, resolution as u32, res)
        })())
    }

    /// `random_get(buf, len)`: the host's `getrandom`.
    pub fn random_get(&mut self, mem: &mut [u8], buf: i32, len: i32) -> i32 {
        wasi_ret((|| {
            random_bytes(guest::slice_mut(mem, buf as u32, len as u32)?);
            Ok(())
        })())
    }
}
