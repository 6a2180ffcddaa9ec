//! Descriptor-based operations: the read/write engine shared by WASI and
//! sockets, seek, `fcntl`, `ioctl`, `dup`, `getdents64`, `pipe`, `poll`,
//! `ftruncate`, `fallocate`, and the `mmap` helpers.

use super::Kernel;
use super::consts::*;
use super::errno::{Errno, SysResult, sys_ret};
use super::fd::{Ofd, Target};
use super::guest;
use super::pipe::Pipe;
use super::stdio::DEFAULT_TERMIOS;
use super::vfs::SeekBase;

/// What a guest's mapping of a file holds (see [`Kernel::mmap_read`]).
pub enum MapContents {
    /// The mapping's bytes, copied out of the file.
    Bytes(Vec<u8>),
    /// A mapped host file holds the file's bytes: `valid` bytes from
    /// `offset` in it; the rest of the mapping is zeros.
    HostFile {
        /// The host file.
        file: std::sync::Arc<crate::host_bytes::MappedFile>,
        /// Where the mapping starts in it.
        offset: u64,
        /// How many of the mapping's bytes come from it.
        valid: usize,
        /// The mapping's length.
        len: usize,
    },
}

impl MapContents {
    /// The mapping's bytes, copied.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            MapContents::Bytes(bytes) => bytes,
            MapContents::HostFile {
                file,
                offset,
                valid,
                len,
            } => {
                let mut out = vec![0; len];
                let from = offset as usize;
                out[..valid].copy_from_slice(&file.bytes()[from..from + valid]);
                out
            }
        }
    }
}

/// Size of one `struct dirent64` record as Emscripten writes them.
const DIRENT_SIZE: u64 = 280;

impl Kernel {
    /// Reads into guest iovecs; stops at the first short read. A failure
    /// after some bytes were read returns the bytes.
    pub(crate) fn readv(
        &mut self,
        mem: &mut [u8],
        fd: i32,
        iov: u32,
        cnt: u32,
        mut at: Option<u64>,
    ) -> SysResult<usize> {
        let id = self.fdt.ofd_id(fd)?;
        let iovs = guest::read_iovecs(mem, iov, cnt)?;
        let mut total = 0usize;
        for v in iovs {
            let dst = guest::slice_mut(mem, v.base, v.len)?;
            let got = match self.read_ofd(id, dst, at) {
                Ok(g) => g,
                Err(e) if total == 0 => return Err(e),
                Err(_) => break,
            };
            total += got;
            if let Some(a) = at.as_mut() {
                *a += got as u64;
            }
            if got < v.len as usize {
                break;
            }
        }
        Ok(total)
    }

    /// Writes guest iovecs; stops at the first short write.
    pub(crate) fn writev(
        &mut self,
        mem: &mut [u8],
        fd: i32,
        iov: u32,
        cnt: u32,
        mut at: Option<u64>,
    ) -> SysResult<usize> {
        let id = self.fdt.ofd_id(fd)?;
        let iovs = guest::read_iovecs(mem, iov, cnt)?;
        let mut total = 0usize;
        for v in iovs {
            let src = guest::slice(mem, v.base, v.len)?;
            let put = match self.write_ofd(id, src, at) {
                Ok(p) => p,
                Err(e) if total == 0 => return Err(e),
                Err(_) => break,
            };
            total += put;
            if let Some(a) = at.as_mut() {
                *a += put as u64;
            }
            if put < v.len as usize {
                break;
            }
        }
        Ok(total)
    }

    /// `lseek`: returns the new position.
    pub(crate) fn seek(&mut self, fd: i32, offset: i64, whence: i32) -> SysResult<u64> {
        let id = self.fdt.ofd_id(fd)?;
        let pos = self.fdt.ofd(fd)?.pos;
        let size = match self.seek_base(id)? {
            SeekBase::Size(s) => s as i64,
            SeekBase::Pinned => {
                return if matches!(whence, SEEK_SET | SEEK_CUR | SEEK_END) {
                    Ok(0)
                } else {
                    Err(Errno::EINVAL)
                };
            }
        };
        let base = match whence {
            SEEK_SET => 0,
            SEEK_CUR => pos as i64,
            SEEK_END => size,
            _ => return Err(Errno::EINVAL),
        };
        let new = base.checked_add(offset).ok_or(Errno::EOVERFLOW)?;
        if new < 0 {
            return Err(Errno::EINVAL);
        }
        let o = self.fdt.ofd_mut(fd)?;
        o.pos = new as u64;
        if new == 0 && whence == SEEK_SET {
            o.dirents = None;
        }
        Ok(new as u64)
    }

    /// `__syscall_dup(fd)`.
    pub fn sys_dup(&mut self, _mem: &mut [u8], fd: i32) -> i32 {
        sys_ret(self.dup_from(fd, 0, false))
    }

    fn dup_from(&mut self, fd: i32, min: usize, cloexec: bool) -> SysResult<i32> {
        let id = self.fdt.ofd_id(fd)?;
        let new = self.fdt.lowest_free(min)?;
        self.fdt.ofds.get_mut(id).ok_or(Errno::EBADF)?.refs += 1;
        self.fdt.install_at(new, id, cloexec);
        Ok(new as i32)
    }

    /// `__syscall_dup3(fd, newfd, flags)`: `EINVAL` if equal, closes
    /// `newfd` first.
    pub fn sys_dup3(&mut self, _mem: &mut [u8], fd: i32, newfd: i32, flags: i32) -> i32 {
        sys_ret((|| {
            let id = self.fdt.ofd_id(fd)?;
            if fd == newfd || flags as u32 & !O_CLOEXEC != 0 {
                return Err(Errno::EINVAL);
            }
            if newfd < 0 || newfd as usize >= MAX_OPEN_FDS {
                return Err(Errno::EBADF);
            }
            if self.fdt.entry(newfd).is_ok() {
                self.close_fd(newfd)?;
            }
            self.fdt.ofds.get_mut(id).ok_or(Errno::EBADF)?.refs += 1;
            self.fdt
                .install_at(newfd as usize, id, flags as u32 & O_CLOEXEC != 0);
            Ok(newfd)
        })())
    }

    /// `__syscall_fcntl64(fd, cmd, varargs)`: `F_DUPFD`, `F_DUPFD_CLOEXEC`,
    /// `F_GETFD`/`F_SETFD`, `F_GETFL`/`F_SETFL` (Linux semantics: replaces
    /// the changeable flags), `F_GETLK` (always unlocked), `F_SETLK(W)`.
    pub fn sys_fcntl64(&mut self, mem: &mut [u8], fd: i32, cmd: i32, varargs: i32) -> i32 {
        sys_ret((|| {
            let entry = self.fdt.entry(fd)?;
            let arg = || guest::read_i32(mem, varargs as u32);
            match cmd {
                F_DUPFD | F_DUPFD_CLOEXEC => {
                    let a = arg()?;
                    if a < 0 || a as usize >= MAX_OPEN_FDS {
                        return Err(Errno::EINVAL);
                    }
                    self.dup_from(fd, a as usize, cmd == F_DUPFD_CLOEXEC)
                }
                // As the glue: close-on-exec means nothing in one process;
                // F_GETFD always answers 0 (so every fd is inheritable) and
                // F_SETFD is ignored.
                F_GETFD | F_SETFD => {
                    let _ = entry;
                    Ok(0)
                }
                F_GETFL => Ok(self.fdt.ofd(fd)?.flags as i32),
                F_SETFL => {
                    let a = arg()? as u32;
                    let o = self.fdt.ofd_mut(fd)?;
                    o.flags = (o.flags & !SETFL_MASK) | (a & SETFL_MASK);
                    Ok(0)
                }
                F_GETLK => {
                    let p = guest::read_u32(mem, varargs as u32)?;
                    guest::write_u16(mem, p, F_UNLCK as u16)?;
                    Ok(0)
                }
                F_SETLK | F_SETLKW => Ok(0),
                _ => Err(Errno::EINVAL),
            }
        })())
    }

    /// `__syscall_ioctl(fd, op, varargs)`: terminal requests on TTYs
    /// (`TCGETS`, `TCSETS*`, `TIOCGWINSZ`, `TIOCGPGRP`, ...; `ENOTTY`
    /// elsewhere), `FIONREAD` and `FIONBIO` on any descriptor.
    pub fn sys_ioctl(&mut self, mem: &mut [u8], fd: i32, op: i32, varargs: i32) -> i32 {
        sys_ret((|| {
            let id = self.fdt.ofd_id(fd)?;
            let o = self.fdt.ofd(fd)?;
            let (tty, target) = (o.tty, o.target);
            let argp = || guest::read_u32(mem, varargs as u32);
            let std_dev = self.is_stdio_device(target);
            let tty = self.sees_tty(tty, target);
            match op {
                FIONREAD => {
                    let n: u64 = match self.ready_bytes(id)? {
                        Some(n) => n,
                        None if tty => 0,
                        None => return Err(Errno::ENOTTY),
                    };
                    let p = argp()?;
                    guest::write_i32(mem, p, n.min(i32::MAX as u64) as i32)?;
                    Ok(0)
                }
                FIONBIO => {
                    let p = argp()?;
                    let on = guest::read_i32(mem, p)? != 0;
                    let o = self.fdt.ofd_mut(fd)?;
                    if on {
                        o.flags |= O_NONBLOCK;
                    } else {
                        o.flags &= !O_NONBLOCK;
                    }
                    Ok(0)
                }
                _ if !tty => Err(Errno::ENOTTY),
                TCGETS => {
                    // Pyodide's stdio TTYs have no tcgets: 0, struct untouched.
                    if !std_dev {
                        let p = argp()?;
                        let (i, o, c, l, cc) = DEFAULT_TERMIOS;
                        guest::write_u32(mem, p, i)?;
                        guest::write_u32(mem, p + 4, o)?;
                        guest::write_u32(mem, p + 8, c)?;
                        guest::write_u32(mem, p + 12, l)?;
                        guest::write_bytes(mem, p + 17, &cc)?;
                    }
                    Ok(0)
                }
                TCSETS | TCSETSW | TCSETSF | TCGETA | TCSETA | TCSETAW | TCSETAF | TCFLSH
                | TIOCSWINSZ => Ok(0),
                TIOCGPGRP => {
                    let p = argp()?;
                    guest::write_i32(mem, p, 0)?;
                    Ok(0)
                }
                TIOCSPGRP => Err(Errno::EINVAL),
                TIOCGWINSZ => {
                    let (rows, cols) = self.terminal_size(target);
                    let p = argp()?;
                    guest::write_u16(mem, p, rows)?;
                    guest::write_u16(mem, p + 2, cols)?;
                    Ok(0)
                }
                _ => Err(Errno::EINVAL),
            }
        })())
    }

    /// `__syscall_getdents64(fd, dirp, count)`: fixed 280-byte records
    /// (`d_ino` u64, `d_off` i64 = next record's offset, `d_reclen` u16 =
    /// 280, `d_type` u8, `d_name[256]`), `.` and `..` first; the listing is
    /// taken at the first call (and again after a rewind), so offsets are
    /// stable; entries removed since are skipped.
    pub fn sys_getdents64(&mut self, mem: &mut [u8], fd: i32, dirp: i32, count: i32) -> i32 {
        sys_ret((|| {
            let o = self.fdt.ofd(fd)?;
            let Target::Node(dir) = o.target else {
                return Err(Errno::ENOTDIR);
            };
            let fresh = o.dirents.is_none();
            self.fs.node(dir).dir()?;
            if fresh {
                let list = self.readdir(dir)?;
                self.fdt.ofd_mut(fd)?.dirents = Some(list);
            }
            let o = self.fdt.ofd(fd)?;
            let list = o.dirents.as_ref().ok_or(Errno::EBADF)?;
            let mut idx = (o.pos / DIRENT_SIZE) as usize;
            let slots = count as u32 as u64 / DIRENT_SIZE;
            let mut written = 0u64;
            while idx < list.len() && written < slots {
                let e = &list[idx];
                if self.still_listed(dir, e) {
                    let at = dirp as u32 + (written * DIRENT_SIZE) as u32;
                    guest::slice_mut(mem, at, DIRENT_SIZE as u32)?.fill(0);
                    guest::write_u64(mem, at, e.ino)?;
                    guest::write_i64(mem, at + 8, ((idx as u64 + 1) * DIRENT_SIZE) as i64)?;
                    guest::write_u16(mem, at + 16, DIRENT_SIZE as u16)?;
                    guest::write_u8(mem, at + 18, e.dtype)?;
                    let n = e.name.len().min(255);
                    guest::write_bytes(mem, at + 19, &e.name[..n])?;
                    written += 1;
                }
                idx += 1;
            }
            if written == 0 && idx < list.len() {
                return Err(Errno::EINVAL);
            }
            self.fdt.ofd_mut(fd)?.pos = idx as u64 * DIRENT_SIZE;
            Ok((written * DIRENT_SIZE) as i32)
        })())
    }

    /// `__syscall_pipe(fds)`: writes `[read_fd, write_fd]`.
    pub fn sys_pipe(&mut self, mem: &mut [u8], fds: i32) -> i32 {
        self.sys_pipe2(mem, fds, 0)
    }

    /// `__syscall_pipe2(fds, flags)`: as `pipe`, with `O_NONBLOCK` and
    /// `O_CLOEXEC` (any other flag is `EINVAL`).
    pub fn sys_pipe2(&mut self, mem: &mut [u8], fds: i32, flags: i32) -> i32 {
        sys_ret((|| {
            if fds == 0 {
                return Err(Errno::EFAULT);
            }
            let flags = flags as u32;
            if flags & !(O_NONBLOCK | O_CLOEXEC) != 0 {
                return Err(Errno::EINVAL);
            }
            let cloexec = flags & O_CLOEXEC != 0;
            let nonblock = flags & O_NONBLOCK;
            guest::slice(mem, fds as u32, 8)?;
            let now = self.now();
            let ino = self.fs.alloc_ino();
            let pipe = self.pipes.insert(Pipe::new(ino, now));
            let mut ro = Ofd::new(
                Target::Pipe { pipe, write: false },
                O_RDONLY | nonblock,
                false,
            );
            let mut wo = Ofd::new(
                Target::Pipe { pipe, write: true },
                O_WRONLY | nonblock,
                false,
            );
            ro.path = self.stream_names.pipe();
            wo.path = self.stream_names.pipe();
            let r = self.fdt.open_new(ro, 0, cloexec);
            let r = match r {
                Ok(r) => r,
                Err(e) => {
                    self.pipes.remove(pipe);
                    return Err(e);
                }
            };
            let w = match self.fdt.open_new(wo, 0, cloexec) {
                Ok(w) => w,
                Err(e) => {
                    if let Some(p) = self.pipes.get_mut(pipe) {
                        p.writers = 0;
                    }
                    self.close_fd(r)?;
                    return Err(e);
                }
            };
            guest::write_i32(mem, fds as u32, r)?;
            guest::write_i32(mem, fds as u32 + 4, w)?;
            Ok(0)
        })())
    }

    fn poll_mask(&self, fd: i32) -> u16 {
        match self.fdt.ofd_id(fd) {
            Ok(id) => self.poll_ofd(id),
            Err(_) => POLLNVAL,
        }
    }

    /// `__syscall_poll(fds, nfds, timeout)`: `struct pollfd` is `{i32 fd;
    /// i16 events; i16 revents}`. Files and devices are always ready;
    /// pipes and sockets report their state. Nothing can change while the
    /// single guest thread waits, so when nothing is ready a positive
    /// timeout is slept (capped) and 0 returned; `-1` returns 0 at once.
    pub fn sys_poll(&mut self, mem: &mut [u8], fds: i32, nfds: i32, timeout: i32) -> i32 {
        sys_ret((|| {
            let mut count = 0;
            for i in 0..nfds as u32 {
                let at = fds as u32 + 8 * i;
                let fd = guest::read_i32(mem, at)?;
                let events = guest::read_u16(mem, at + 4)?;
                let revents = if fd < 0 {
                    0
                } else {
                    self.poll_mask(fd) & (events | POLLERR | POLLHUP | POLLNVAL)
                };
                if revents != 0 {
                    count += 1;
                }
                guest::write_u16(mem, at + 6, revents)?;
            }
            if count == 0 && timeout > 0 {
                std::thread::sleep(std::time::Duration::from_millis(timeout.min(60_000) as u64));
            }
            Ok(count)
        })())
    }

    /// `__syscall_poll_nonblocking(fds, nfds)`: `poll` with a zero timeout.
    pub fn sys_poll_nonblocking(&mut self, mem: &mut [u8], fds: i32, nfds: i32) -> i32 {
        self.sys_poll(mem, fds, nfds, 0)
    }

    /// `__syscall__newselect(nfds, readfds, writefds, exceptfds, timeout)`
    /// (older releases): the `fd_set`s are bit arrays of 32-bit words; each
    /// set is rewritten to the descriptors that are ready, and the count is
    /// returned. A descriptor that is not open is `EBADF`; nothing changes
    /// while the single guest thread waits, so a timeout is not slept.
    pub fn sys_newselect(
        &mut self,
        mem: &mut [u8],
        nfds: i32,
        readfds: i32,
        writefds: i32,
        exceptfds: i32,
        _timeout: i32,
    ) -> i32 {
        sys_ret((|| {
            if !(0..=1024).contains(&nfds) {
                return Err(Errno::EINVAL);
            }
            let sets = [(readfds, POLLIN), (writefds, POLLOUT), (exceptfds, POLLPRI)];
            let mut out = [[0u32; 32]; 3];
            let mut count = 0;
            for fd in 0..nfds {
                let (word, bit) = ((fd / 32) as usize, 1u32 << (fd % 32));
                let mut asked = false;
                for &(set, _) in &sets {
                    if set != 0 && guest::read_u32(mem, set as u32 + 4 * word as u32)? & bit != 0 {
                        asked = true;
                    }
                }
                if !asked {
                    continue;
                }
                if self.fdt.ofd_id(fd).is_err() {
                    return Err(Errno::EBADF);
                }
                let mask = self.poll_mask(fd);
                for (i, &(set, want)) in sets.iter().enumerate() {
                    if set == 0 || guest::read_u32(mem, set as u32 + 4 * word as u32)? & bit == 0 {
                        continue;
                    }
                    if mask & want != 0 {
                        out[i][word] |= bit;
                        count += 1;
                    }
                }
            }
            let words = (nfds as usize).div_ceil(32);
            for (i, &(set, _)) in sets.iter().enumerate() {
                if set == 0 {
                    continue;
                }
                for (w, v) in out[i].iter().enumerate().take(words) {
                    guest::write_u32(mem, set as u32 + 4 * w as u32, *v)?;
                }
            }
            Ok(count)
        })())
    }

    /// `__syscall_epoll_create1`, `_ctl`, `_pwait`: not supported, as in
    /// the glue (`ENOSYS`).
    pub fn sys_epoll_create1(&mut self, _mem: &mut [u8], _flags: i32) -> i32 {
        Errno::ENOSYS.to_neg()
    }

    /// See [`Kernel::sys_epoll_create1`].
    pub fn sys_epoll_ctl(
        &mut self,
        _mem: &mut [u8],
        _ep: i32,
        _op: i32,
        _fd: i32,
        _ev: i32,
    ) -> i32 {
        Errno::ENOSYS.to_neg()
    }

    /// See [`Kernel::sys_epoll_create1`].
    #[allow(clippy::too_many_arguments)]
    pub fn sys_epoll_pwait(
        &mut self,
        _mem: &mut [u8],
        _ep: i32,
        _ev: i32,
        _max: i32,
        _timeout: i32,
        _sigmask: i32,
        _sigsetsize: i32,
    ) -> i32 {
        Errno::ENOSYS.to_neg()
    }

    /// `__syscall_fdatasync(fd)`: checks the fd.
    pub fn sys_fdatasync(&mut self, _mem: &mut [u8], fd: i32) -> i32 {
        sys_ret(self.fdt.ofd(fd).map(|_| 0))
    }

    /// `__syscall_fadvise64(fd, offset, len, advice)`: always 0 (as the glue).
    pub fn sys_fadvise64(
        &mut self,
        _mem: &mut [u8],
        _fd: i32,
        _offset: i64,
        _len: i64,
        _advice: i32,
    ) -> i32 {
        0
    }

    /// `__syscall_fallocate(fd, mode, offset, len)`: mode 0 only; grows
    /// the file to `offset + len`.
    pub fn sys_fallocate(
        &mut self,
        _mem: &mut [u8],
        fd: i32,
        mode: i32,
        offset: i64,
        len: i64,
    ) -> i32 {
        sys_ret((|| {
            let o = self.fdt.ofd(fd)?;
            if mode != 0 {
                return Err(Errno::EOPNOTSUPP);
            }
            if offset < 0 || len <= 0 {
                return Err(Errno::EINVAL);
            }
            if !o.writable() {
                return Err(Errno::EBADF);
            }
            if !matches!(o.target, Target::Node(_)) {
                return Err(Errno::ESPIPE);
            }
            offset.checked_add(len).ok_or(Errno::EFBIG)?;
            let id = self.fdt.ofd_id(fd)?;
            self.allocate(id, offset as u64, len as u64).map(|_| 0)
        })())
    }

    /// `__syscall_ftruncate64(fd, length)`: `EINVAL` if not open for writing.
    pub fn sys_ftruncate64(&mut self, _mem: &mut [u8], fd: i32, length: i64) -> i32 {
        sys_ret((|| {
            let o = self.fdt.ofd(fd)?;
            if length < 0 || !o.writable() {
                return Err(Errno::EINVAL);
            }
            let id = self.fdt.ofd_id(fd)?;
            self.ftruncate(id, length as u64).map(|_| 0)
        })())
    }

    /// Pyodide's `_try_fcntl64(fd, cmd, arg, result)`: the hook for socket
    /// implementations with their own `fcntl`. Ours go through
    /// `__syscall_fcntl64`, so this always answers "not handled" (0).
    pub fn try_fcntl64(
        &mut self,
        _mem: &mut [u8],
        _fd: i32,
        _cmd: i32,
        _arg: i32,
        _result: i32,
    ) -> i32 {
        0
    }

    /// The checks and contents for `_mmap_js(len, prot, flags, fd, offset,
    /// allocated, addr)`: the host allocates `len` bytes of guest memory,
    /// zeroes them, places the contents there, and writes `*allocated =
    /// 1`, `*addr = ptr`. Errors: `EBADF`, `EACCES` (write-only, or shared
    /// writable mapping without `O_RDWR`), `ENODEV` (not a regular file),
    /// `EINVAL` (`len == 0`, negative offset). The contents are `len`
    /// bytes, zero past the end of the file: copied, or where a mapped host
    /// file holds them all, that file to map.
    pub fn mmap_read(
        &mut self,
        fd: i32,
        len: u32,
        prot: i32,
        flags: i32,
        offset: i64,
    ) -> SysResult<MapContents> {
        let o = self.fdt.ofd(fd)?;
        if prot & PROT_WRITE != 0 && flags & MAP_PRIVATE == 0 && o.flags & O_ACCMODE != O_RDWR {
            return Err(Errno::EACCES);
        }
        if o.flags & O_ACCMODE == O_WRONLY {
            return Err(Errno::EACCES);
        }
        let id = self.fdt.ofd_id(fd)?;
        if !self.is_file_stream(id) {
            return Err(Errno::ENODEV);
        }
        if len == 0 || offset < 0 {
            return Err(Errno::EINVAL);
        }
        if let Some((file, at)) = self.host_file_at(id, offset as u64, u64::from(len)) {
            let size = self.file_size(id)?;
            let valid = size.saturating_sub(offset as u64).min(u64::from(len)) as usize;
            return Ok(MapContents::HostFile {
                file,
                offset: at,
                valid,
                len: len as usize,
            });
        }
        let mut out = Vec::new();
        out.try_reserve_exact(len as usize)
            .map_err(|_| Errno::ENOMEM)?;
        out.resize(len as usize, 0);
        self.read_file_at(id, offset as u64, &mut out)?;
        Ok(MapContents::Bytes(out))
    }

    /// Writes back a shared mapping: `bytes` at `offset` of `fd`'s file,
    /// clipped to the file's size (Linux drops bytes past EOF). Private
    /// mappings (`MAP_PRIVATE` in `flags`) are not written.
    pub fn msync_write(&mut self, fd: i32, offset: i64, bytes: &[u8], flags: i32) -> SysResult<()> {
        let id = self.fdt.ofd_id(fd)?;
        let size = self.file_size(id)?;
        if flags & MAP_PRIVATE != 0 || offset < 0 || offset as u64 >= size {
            return Ok(());
        }
        let n_bytes = bytes.len().min((size - offset as u64) as usize);
        self.write_file_at(id, offset as u64, &bytes[..n_bytes])
    }

    /// `_msync_js(addr, len, prot, flags, fd, offset)`: writes guest memory
    /// `[addr, addr+len)` back to the file of a shared mapping.
    #[allow(clippy::too_many_arguments)]
    pub fn msync_js(
        &mut self,
        mem: &mut [u8],
        addr: i32,
        len: i32,
        _prot: i32,
        flags: i32,
        fd: i32,
        offset: i64,
    ) -> i32 {
        sys_ret((|| {
            let bytes = guest::slice(mem, addr as u32, len as u32)?;
            self.msync_write(fd, offset, bytes, flags).map(|_| 0)
        })())
    }

    /// `_munmap_js(addr, len, prot, flags, fd, offset)`: writes a shared
    /// writable mapping back (the host frees the memory).
    #[allow(clippy::too_many_arguments)]
    pub fn munmap_js(
        &mut self,
        mem: &mut [u8],
        addr: i32,
        len: i32,
        prot: i32,
        flags: i32,
        fd: i32,
        offset: i64,
    ) -> i32 {
        sys_ret((|| {
            self.fdt.ofd(fd)?;
            if prot & PROT_WRITE != 0 {
                let bytes = guest::slice(mem, addr as u32, len as u32)?;
                self.msync_write(fd, offset, bytes, flags)?;
            }
            Ok(0)
        })())
    }
}
