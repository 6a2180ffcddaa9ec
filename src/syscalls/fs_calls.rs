//! Path-based syscalls: open, mkdir, unlink, rmdir, rename, symlink,
//! readlink, stat family, chmod/chown, truncate, utimensat, access,
//! chdir/getcwd, mknod, statfs.
//!
//! Each `sys_*` method decodes the guest's arguments and calls a `do_*`
//! helper working on byte paths, which the host-side setup API reuses.

use super::Kernel;
use super::clock::Timespec;
use super::consts::*;
use super::errno::{Errno, SysResult, sys_ret};
use super::fd::Target;
use super::guest;
use super::path::{self, Follow};
use super::stat::write_statfs;
use super::tree::{NodeId, NodeKind};

fn is_dot(name: &[u8]) -> bool {
    name == b"." || name == b".."
}

impl Kernel {
    /// The directory a relative path in an `*at` call starts from.
    pub(crate) fn base_dir(&self, dirfd: i32, path: &[u8]) -> SysResult<NodeId> {
        if path.starts_with(b"/") || dirfd == AT_FDCWD {
            return Ok(self.cwd);
        }
        match self.fdt.ofd(dirfd)?.target {
            Target::Node(n) if self.fs.node(n).is_dir() => Ok(n),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// Resolves an `*at` path, or with `AT_EMPTY_PATH` and an empty path
    /// the descriptor itself. Returns the node or (for `AT_EMPTY_PATH` on a
    /// non-node descriptor) the target.
    fn resolve_at(
        &mut self,
        dirfd: i32,
        path: &[u8],
        follow: Follow,
        empty_ok: bool,
    ) -> SysResult<Target> {
        if path.is_empty() {
            if !empty_ok {
                return Err(Errno::ENOENT);
            }
            if dirfd == AT_FDCWD {
                return Ok(Target::Node(self.cwd));
            }
            return Ok(self.fdt.ofd(dirfd)?.target);
        }
        let base = self.base_dir(dirfd, path)?;
        path::resolve(self.walk(), base, path, follow).map(Target::Node)
    }

    /// `open` relative to `base`; returns the new descriptor.
    pub(crate) fn do_open(
        &mut self,
        base: NodeId,
        p: &[u8],
        flags: u32,
        mode: u32,
    ) -> SysResult<i32> {
        self.do_open_depth(base, p, flags, mode, 0)
    }

    fn do_open_depth(
        &mut self,
        base: NodeId,
        p: &[u8],
        flags: u32,
        mode: u32,
        depth: u32,
    ) -> SysResult<i32> {
        let acc = flags & O_ACCMODE;
        let mut created = false;
        // The directory and name the node is reached through (its path).
        let mut via = None;
        let node = if flags & O_CREAT != 0 {
            let pn = path::resolve_parent(self.walk(), base, p)?;
            let existing = if pn.name.is_empty() || is_dot(&pn.name) {
                Some(path::resolve(self.walk(), base, p, Follow::Yes)?)
            } else {
                via = Some((pn.dir, pn.name.clone()));
                match self.lookup_entry(pn.dir, &pn.name) {
                    Ok(n) => Some(n),
                    Err(Errno::ENOENT) => None,
                    Err(e) => return Err(e),
                }
            };
            match existing {
                Some(_) if flags & O_EXCL != 0 => return Err(Errno::EEXIST),
                Some(n) => match &self.fs.node(n).kind {
                    NodeKind::Symlink(_) if flags & O_NOFOLLOW != 0 => return Err(Errno::ELOOP),
                    NodeKind::Symlink(t) => {
                        // Follow it; a dangling link creates its target.
                        if depth >= MAX_SYMLINKS {
                            return Err(Errno::ELOOP);
                        }
                        let t = t.clone();
                        return self.do_open_depth(pn.dir, &t, flags, mode, depth + 1);
                    }
                    _ => n,
                },
                None => {
                    if pn.trailing_slash {
                        return Err(Errno::EISDIR);
                    }
                    created = true;
                    // Emscripten's FS.open does not apply the umask.
                    self.create_file(pn.dir, &pn.name, mode & 0o7777)?
                }
            }
        } else {
            let follow = if flags & O_NOFOLLOW != 0 {
                Follow::No
            } else {
                Follow::Yes
            };
            let (n, v) = path::resolve_named(self.walk(), base, p, follow)?;
            via = v;
            n
        };
        let n = self.fs.node(node);
        let is_dir = n.is_dir();
        match n.kind {
            NodeKind::Symlink(_) if flags & O_PATH == 0 => return Err(Errno::ELOOP),
            NodeKind::Special if flags & O_PATH == 0 => return Err(Errno::ENXIO),
            _ => {}
        }
        if flags & O_DIRECTORY != 0 && !is_dir {
            return Err(Errno::ENOTDIR);
        }
        if is_dir && (acc != O_RDONLY || flags & (O_TRUNC | O_CREAT) != 0) {
            return Err(Errno::EISDIR);
        }
        if !created && flags & O_PATH == 0 {
            let r = acc == O_RDONLY || acc == O_RDWR;
            let w = acc == O_WRONLY || acc == O_RDWR || flags & O_TRUNC != 0;
            if !n.permits(r, w, false) {
                return Err(Errno::EACCES);
            }
        }
        let path = self.fs.node_path(node, via, p);
        self.open_node(node, flags, created, path)
    }

    /// `mkdir` relative to `base`. `apply_umask` is false for host setup.
    pub(crate) fn do_mkdir(
        &mut self,
        base: NodeId,
        p: &[u8],
        mode: u32,
        apply_umask: bool,
    ) -> SysResult<()> {
        let pn = path::resolve_parent(self.walk(), base, p)?;
        if pn.name.is_empty() || is_dot(&pn.name) || self.lookup_entry(pn.dir, &pn.name).is_ok() {
            return Err(Errno::EEXIST);
        }
        // Emscripten's FS.mkdir does not apply the umask (`apply_umask`
        // is kept for callers; the umask is recorded, never applied).
        let _ = apply_umask;
        self.make_dir(pn.dir, &pn.name, mode & 0o1777)
    }

    /// `unlink` relative to `base`.
    pub(crate) fn do_unlink(&mut self, base: NodeId, p: &[u8]) -> SysResult<()> {
        let pn = path::resolve_parent(self.walk(), base, p)?;
        if pn.name.is_empty() || is_dot(&pn.name) {
            return Err(Errno::EISDIR);
        }
        let n = self.lookup_entry(pn.dir, &pn.name)?;
        if self.fs.node(n).is_dir() {
            return Err(Errno::EISDIR);
        }
        if pn.trailing_slash {
            return Err(Errno::ENOTDIR);
        }
        self.unlink_entry(pn.dir, &pn.name)
    }

    /// `rmdir` relative to `base`.
    pub(crate) fn do_rmdir(&mut self, base: NodeId, p: &[u8]) -> SysResult<()> {
        let pn = path::resolve_parent(self.walk(), base, p)?;
        match pn.name.as_slice() {
            b"" => return Err(Errno::EBUSY),
            b"." => return Err(Errno::EINVAL),
            b".." => return Err(Errno::ENOTEMPTY),
            _ => {}
        }
        let n = self.lookup_entry(pn.dir, &pn.name)?;
        self.rmdir_entry(pn.dir, &pn.name, n)
    }

    /// `rename` with Linux's rules.
    pub(crate) fn do_rename(
        &mut self,
        obase: NodeId,
        op: &[u8],
        nbase: NodeId,
        np: &[u8],
    ) -> SysResult<()> {
        let o = path::resolve_parent(self.walk(), obase, op)?;
        let n = path::resolve_parent(self.walk(), nbase, np)?;
        if o.name.is_empty() || is_dot(&o.name) || n.name.is_empty() || is_dot(&n.name) {
            return Err(Errno::EBUSY);
        }
        let old = self.lookup_entry(o.dir, &o.name)?;
        let old_is_dir = self.fs.node(old).is_dir();
        if (o.trailing_slash || n.trailing_slash) && !old_is_dir {
            return Err(Errno::ENOTDIR);
        }
        let new = match self.lookup_entry(n.dir, &n.name) {
            Ok(x) => Some(x),
            Err(Errno::ENOENT) => None,
            Err(e) => return Err(e),
        };
        if new == Some(old) {
            return Ok(());
        }
        self.rename_entry((o.dir, &o.name, old), (n.dir, &n.name, new))
    }

    /// `symlink(target, base/link)`.
    pub(crate) fn do_symlink(&mut self, target: &[u8], base: NodeId, link: &[u8]) -> SysResult<()> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        let pn = path::resolve_parent(self.walk(), base, link)?;
        if pn.name.is_empty() || is_dot(&pn.name) || self.lookup_entry(pn.dir, &pn.name).is_ok() {
            return Err(Errno::EEXIST);
        }
        if pn.trailing_slash {
            return Err(Errno::ENOENT);
        }
        self.make_symlink(pn.dir, &pn.name, target)
    }

    /// A path argument: `ENAMETOOLONG` from `PATH_MAX` bytes on, checked
    /// before the host copies it (the guest's string may be gigabytes).
    fn path_arg(mem: &[u8], ptr: i32) -> SysResult<Vec<u8>> {
        let p = guest::cstr(mem, ptr as u32)?;
        if p.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        Ok(p.to_vec())
    }

    /// `__syscall_openat(dirfd, path, flags, varargs)`: the mode is read
    /// from `varargs` when it is non-null. Returns the new fd.
    pub fn sys_openat(
        &mut self,
        mem: &mut [u8],
        dirfd: i32,
        path: i32,
        flags: i32,
        varargs: i32,
    ) -> i32 {
        sys_ret((|| {
            let p = Self::path_arg(mem, path)?;
            let mode = if varargs != 0 {
                guest::read_u32(mem, varargs as u32)?
            } else {
                0
            };
            let base = self.base_dir(dirfd, &p)?;
            self.do_open(base, &p, flags as u32, mode)
        })())
    }

    /// `__syscall_mkdirat(dirfd, path, mode)`.
    pub fn sys_mkdirat(&mut self, mem: &mut [u8], dirfd: i32, path: i32, mode: i32) -> i32 {
        sys_ret((|| {
            let p = Self::path_arg(mem, path)?;
            let base = self.base_dir(dirfd, &p)?;
            self.do_mkdir(base, &p, mode as u32, true).map(|_| 0)
        })())
    }

    /// `__syscall_unlinkat(dirfd, path, flags)`: `AT_REMOVEDIR` removes a
    /// directory; other flags are `EINVAL`.
    pub fn sys_unlinkat(&mut self, mem: &mut [u8], dirfd: i32, path: i32, flags: i32) -> i32 {
        sys_ret((|| {
            let p = Self::path_arg(mem, path)?;
            let base = self.base_dir(dirfd, &p)?;
            match flags as u32 {
                0 => self.do_unlink(base, &p),
                AT_REMOVEDIR => self.do_rmdir(base, &p),
                _ => Err(Errno::EINVAL),
            }
            .map(|_| 0)
        })())
    }

    /// `__syscall_rmdir(path)`.
    pub fn sys_rmdir(&mut self, mem: &mut [u8], path: i32) -> i32 {
        sys_ret((|| {
            let p = Self::path_arg(mem, path)?;
            self.do_rmdir(self.cwd, &p).map(|_| 0)
        })())
    }

    /// `__syscall_renameat(olddirfd, oldpath, newdirfd, newpath)`.
    pub fn sys_renameat(
        &mut self,
        mem: &mut [u8],
        olddirfd: i32,
        oldpath: i32,
        newdirfd: i32,
        newpath: i32,
    ) -> i32 {
        sys_ret((|| {
            let op = Self::path_arg(mem, oldpath)?;
            let np = Self::path_arg(mem, newpath)?;
            let ob = self.base_dir(olddirfd, &op)?;
            let nb = self.base_dir(newdirfd, &np)?;
            self.do_rename(ob, &op, nb, &np).map(|_| 0)
        })())
    }

    /// `__syscall_symlinkat(target, dirfd, linkpath)`.
    pub fn sys_symlinkat(&mut self, mem: &mut [u8], target: i32, dirfd: i32, linkpath: i32) -> i32 {
        sys_ret((|| {
            let t = Self::path_arg(mem, target)?;
            let l = Self::path_arg(mem, linkpath)?;
            let base = self.base_dir(dirfd, &l)?;
            self.do_symlink(&t, base, &l).map(|_| 0)
        })())
    }

    /// `__syscall_symlink(target, linkpath)` (older releases): `symlinkat`
    /// relative to the cwd.
    pub fn sys_symlink(&mut self, mem: &mut [u8], target: i32, linkpath: i32) -> i32 {
        self.sys_symlinkat(mem, target, AT_FDCWD, linkpath)
    }

    /// `__syscall_linkat(olddirfd, oldpath, newdirfd, newpath, flags)`:
    /// MEMFS has no hard links; as the glue, the new name is checked
    /// (`ENOENT` for a missing parent, `EEXIST` for a taken name) and
    /// then the call fails with `EMLINK`.
    pub fn sys_linkat(
        &mut self,
        mem: &mut [u8],
        _olddirfd: i32,
        oldpath: i32,
        newdirfd: i32,
        newpath: i32,
        _flags: i32,
    ) -> i32 {
        sys_ret((|| {
            Self::path_arg(mem, oldpath)?;
            let l = Self::path_arg(mem, newpath)?;
            let base = self.base_dir(newdirfd, &l)?;
            let pn = path::resolve_parent(self.walk(), base, &l)?;
            if pn.name.is_empty() || is_dot(&pn.name) || self.lookup_entry(pn.dir, &pn.name).is_ok()
            {
                return Err(Errno::EEXIST);
            }
            Err(Errno::EMLINK)
        })())
    }

    /// `__syscall_readlinkat(dirfd, path, buf, bufsize)`: copies the target
    /// without a NUL, truncated to `bufsize`; returns its length.
    pub fn sys_readlinkat(
        &mut self,
        mem: &mut [u8],
        dirfd: i32,
        path: i32,
        buf: i32,
        bufsize: i32,
    ) -> i32 {
        sys_ret((|| {
            if bufsize <= 0 {
                return Err(Errno::EINVAL);
            }
            let p = Self::path_arg(mem, path)?;
            let Target::Node(n) = self.resolve_at(dirfd, &p, Follow::No, false)? else {
                return Err(Errno::EINVAL);
            };
            let t = self.readlink_node(n)?;
            let len = t.len().min(bufsize as usize);
            guest::write_bytes(mem, buf as u32, &t[..len])?;
            Ok(len as i32)
        })())
    }

    fn stat_into(&self, mem: &mut [u8], t: Target, buf: i32) -> SysResult<i32> {
        self.getattr(t)?.write(mem, buf as u32, self.stat_layout)?;
        Ok(0)
    }

    /// `fstat`.
    fn stat_fd_into(&self, mem: &mut [u8], fd: i32, buf: i32) -> SysResult<i32> {
        self.fgetattr(fd)?
            .write(mem, buf as u32, self.stat_layout)?;
        Ok(0)
    }

    /// `__syscall_stat64(path, buf)`.
    pub fn sys_stat64(&mut self, mem: &mut [u8], path: i32, buf: i32) -> i32 {
        sys_ret((|| {
            let p = Self::path_arg(mem, path)?;
            let t = self.resolve_at(AT_FDCWD, &p, Follow::Yes, false)?;
            self.stat_into(mem, t, buf)
        })())
    }

    /// `__syscall_lstat64(path, buf)`.
    pub fn sys_lstat64(&mut self, mem: &mut [u8], path: i32, buf: i32) -> i32 {
        sys_ret((|| {
            let p = Self::path_arg(mem, path)?;
            let t = self.resolve_at(AT_FDCWD, &p, Follow::No, false)?;
            self.stat_into(mem, t, buf)
        })())
    }

    /// `__syscall_fstat64(fd, buf)`.
    pub fn sys_fstat64(&mut self, mem: &mut [u8], fd: i32, buf: i32) -> i32 {
        sys_ret(self.stat_fd_into(mem, fd, buf))
    }

    /// `__syscall_newfstatat(dirfd, path, buf, flags)` with
    /// `AT_SYMLINK_NOFOLLOW` and `AT_EMPTY_PATH`.
    pub fn sys_newfstatat(
        &mut self,
        mem: &mut [u8],
        dirfd: i32,
        path: i32,
        buf: i32,
        flags: i32,
    ) -> i32 {
        sys_ret((|| {
            let flags = flags as u32;
            if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT) != 0 {
                return Err(Errno::EINVAL);
            }
            let p = Self::path_arg(mem, path)?;
            if p.is_empty() && flags & AT_EMPTY_PATH != 0 && dirfd != AT_FDCWD {
                return self.stat_fd_into(mem, dirfd, buf);
            }
            let follow = if flags & AT_SYMLINK_NOFOLLOW != 0 {
                Follow::No
            } else {
                Follow::Yes
            };
            let t = self.resolve_at(dirfd, &p, follow, flags & AT_EMPTY_PATH != 0)?;
            self.stat_into(mem, t, buf)
        })())
    }

    /// `__syscall_statfs64(path, size, buf)`.
    pub fn sys_statfs64(&mut self, mem: &mut [u8], path: i32, size: i32, buf: i32) -> i32 {
        sys_ret((|| {
            let p = Self::path_arg(mem, path)?;
            self.resolve_at(AT_FDCWD, &p, Follow::Yes, false)?;
            write_statfs(mem, size as u32, buf as u32, self.fs.inode_count())?;
            Ok(0)
        })())
    }

    /// `__syscall_fstatfs64(fd, size, buf)`.
    pub fn sys_fstatfs64(&mut self, mem: &mut [u8], fd: i32, size: i32, buf: i32) -> i32 {
        sys_ret((|| {
            self.fdt.ofd(fd)?;
            write_statfs(mem, size as u32, buf as u32, self.fs.inode_count())?;
            Ok(0)
        })())
    }

    /// `__syscall_chmod(path, mode)`.
    pub fn sys_chmod(&mut self, mem: &mut [u8], path: i32, mode: i32) -> i32 {
        self.sys_fchmodat2(mem, AT_FDCWD, path, mode, 0)
    }

    /// `__syscall_fchmodat2(dirfd, path, mode, flags)`. With
    /// `AT_SYMLINK_NOFOLLOW` on a symlink: `EOPNOTSUPP` (Linux).
    pub fn sys_fchmodat2(
        &mut self,
        mem: &mut [u8],
        dirfd: i32,
        path: i32,
        mode: i32,
        flags: i32,
    ) -> i32 {
        sys_ret((|| {
            let flags = flags as u32;
            if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
                return Err(Errno::EINVAL);
            }
            let p = Self::path_arg(mem, path)?;
            let follow = if flags & AT_SYMLINK_NOFOLLOW != 0 {
                Follow::No
            } else {
                Follow::Yes
            };
            if let Target::Node(n) =
                self.resolve_at(dirfd, &p, follow, flags & AT_EMPTY_PATH != 0)?
            {
                if matches!(self.fs.node(n).kind, NodeKind::Symlink(_)) {
                    return Err(Errno::EOPNOTSUPP);
                }
                self.chmod_node(n, mode as u32)?;
            }
            Ok(0)
        })())
    }

    /// `__syscall_fchmod(fd, mode)`.
    pub fn sys_fchmod(&mut self, _mem: &mut [u8], fd: i32, mode: i32) -> i32 {
        sys_ret((|| {
            if let Target::Node(n) = self.fdt.ofd(fd)?.target {
                self.chmod_node(n, mode as u32)?;
            }
            Ok(0)
        })())
    }

    /// `__syscall_fchownat(dirfd, path, owner, group, flags)`: records the
    /// ids (everyone is allowed).
    pub fn sys_fchownat(
        &mut self,
        mem: &mut [u8],
        dirfd: i32,
        path: i32,
        owner: i32,
        group: i32,
        flags: i32,
    ) -> i32 {
        sys_ret((|| {
            let flags = flags as u32;
            if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
                return Err(Errno::EINVAL);
            }
            let p = Self::path_arg(mem, path)?;
            let follow = if flags & AT_SYMLINK_NOFOLLOW != 0 {
                Follow::No
            } else {
                Follow::Yes
            };
            if let Target::Node(n) =
                self.resolve_at(dirfd, &p, follow, flags & AT_EMPTY_PATH != 0)?
            {
                self.chown_node(n, owner, group)?;
            }
            Ok(0)
        })())
    }

    /// `__syscall_fchown32(fd, owner, group)`.
    pub fn sys_fchown32(&mut self, _mem: &mut [u8], fd: i32, owner: i32, group: i32) -> i32 {
        sys_ret((|| {
            if let Target::Node(n) = self.fdt.ofd(fd)?.target {
                self.chown_node(n, owner, group)?;
            }
            Ok(0)
        })())
    }

    /// `__syscall_truncate64(path, length)`.
    pub fn sys_truncate64(&mut self, mem: &mut [u8], path: i32, length: i64) -> i32 {
        sys_ret((|| {
            let p = Self::path_arg(mem, path)?;
            let Target::Node(n) = self.resolve_at(AT_FDCWD, &p, Follow::Yes, false)? else {
                unreachable!()
            };
            self.truncate_node(n, length).map(|_| 0)
        })())
    }

    /// `__syscall_utimensat(dirfd, path, times, flags)`: `times` null means
    /// now; `UTIME_NOW`/`UTIME_OMIT` per field; a null or empty path acts
    /// on `dirfd` itself.
    pub fn sys_utimensat(
        &mut self,
        mem: &mut [u8],
        dirfd: i32,
        path: i32,
        times: i32,
        flags: i32,
    ) -> i32 {
        sys_ret((|| {
            let flags = flags as u32;
            if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
                return Err(Errno::EINVAL);
            }
            let p = if path == 0 {
                Vec::new()
            } else {
                Self::path_arg(mem, path)?
            };
            let now = self.now();
            let read = |off: u32| -> SysResult<Option<Timespec>> {
                let sec = guest::read_i64(mem, times as u32 + off)?;
                let nsec = guest::read_i32(mem, times as u32 + off + 8)?;
                match nsec {
                    UTIME_NOW => Ok(Some(now)),
                    UTIME_OMIT => Ok(None),
                    0..=999_999_999 => Ok(Some(Timespec {
                        sec,
                        nsec: nsec as u32,
                    })),
                    _ => Err(Errno::EINVAL),
                }
            };
            let (at, mt) = if times == 0 {
                (Some(now), Some(now))
            } else {
                (read(0)?, read(16)?)
            };
            let follow = if flags & AT_SYMLINK_NOFOLLOW != 0 {
                Follow::No
            } else {
                Follow::Yes
            };
            if let Target::Node(n) = self.resolve_at(dirfd, &p, follow, true)? {
                self.utimes_node(n, at, mt)?;
            }
            Ok(0)
        })())
    }

    /// `__syscall_faccessat(dirfd, path, amode, flags)`.
    pub fn sys_faccessat(
        &mut self,
        mem: &mut [u8],
        dirfd: i32,
        path: i32,
        amode: i32,
        flags: i32,
    ) -> i32 {
        sys_ret((|| {
            if amode & !7 != 0 {
                return Err(Errno::EINVAL);
            }
            let flags = flags as u32;
            if flags & !(AT_SYMLINK_NOFOLLOW | AT_EACCESS | AT_EMPTY_PATH) != 0 {
                return Err(Errno::EINVAL);
            }
            let p = Self::path_arg(mem, path)?;
            let follow = if flags & AT_SYMLINK_NOFOLLOW != 0 {
                Follow::No
            } else {
                Follow::Yes
            };
            if let Target::Node(n) =
                self.resolve_at(dirfd, &p, follow, flags & AT_EMPTY_PATH != 0)?
            {
                self.access_node(n, amode)?;
            }
            Ok(0)
        })())
    }

    /// `__syscall_chdir(path)`.
    pub fn sys_chdir(&mut self, mem: &mut [u8], path: i32) -> i32 {
        sys_ret((|| {
            let p = Self::path_arg(mem, path)?;
            let cwd = self.cwd;
            let n = path::resolve(self.walk(), cwd, &p, Follow::Yes)?;
            self.set_cwd(n).map(|_| 0)
        })())
    }

    /// `__syscall_fchdir(fd)`.
    pub fn sys_fchdir(&mut self, _mem: &mut [u8], fd: i32) -> i32 {
        sys_ret((|| match self.fdt.ofd(fd)?.target {
            Target::Node(n) => self.set_cwd(n).map(|_| 0),
            _ => Err(Errno::ENOTDIR),
        })())
    }

    /// `__syscall_getcwd(buf, size)`: returns the length including the NUL;
    /// `ERANGE` if it does not fit, `ENOENT` if the cwd was removed.
    pub fn sys_getcwd(&mut self, mem: &mut [u8], buf: i32, size: i32) -> i32 {
        sys_ret((|| {
            if size == 0 {
                return Err(Errno::EINVAL);
            }
            let p = self.fs.dir_path(self.cwd).ok_or(Errno::ENOENT)?;
            if (size as u32 as usize) < p.len() + 1 {
                return Err(Errno::ERANGE);
            }
            guest::write_bytes(mem, buf as u32, &p)?;
            guest::write_u8(mem, buf as u32 + p.len() as u32, 0)?;
            Ok(p.len() as i32 + 1)
        })())
    }

    /// `__syscall_mknodat(dirfd, path, mode, dev)`: regular files and
    /// sockets are made; FIFOs and devices are `EPERM` (as MEMFS).
    pub fn sys_mknodat(
        &mut self,
        mem: &mut [u8],
        dirfd: i32,
        path: i32,
        mode: i32,
        dev: i32,
    ) -> i32 {
        sys_ret((|| {
            let mode = mode as u32;
            let ftype = match mode & S_IFMT {
                S_IFREG | 0 => S_IFREG,
                S_IFSOCK => S_IFSOCK,
                S_IFCHR | S_IFBLK | S_IFIFO => return Err(Errno::EPERM),
                _ => return Err(Errno::EINVAL),
            };
            let p = Self::path_arg(mem, path)?;
            let base = self.base_dir(dirfd, &p)?;
            let pn = path::resolve_parent(self.walk(), base, &p)?;
            if pn.name.is_empty() || is_dot(&pn.name) || self.lookup_entry(pn.dir, &pn.name).is_ok()
            {
                return Err(Errno::EEXIST);
            }
            // As FS.mknod: no umask.
            self.mknod(pn.dir, &pn.name, ftype | (mode & 0o7777), dev as u32)?;
            Ok(0)
        })())
    }
}
