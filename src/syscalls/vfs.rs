//! The virtual file system: the one place where an operation on a node or
//! on an open file description is handed to the file system that owns it
//! (Emscripten's `FS` calling a node's `node_ops` or a stream's
//! `stream_ops`).
//!
//! - Node operations (lookup, create, mkdir, mknod, symlink, unlink,
//!   rmdir, rename, readlink, readdir, getattr, chmod/chown/utimes,
//!   truncate, access, open, mount) go by the [`Backend`] of the node or of
//!   the directory it is in: MEMFS (`memfs.rs`), a host mount
//!   (`hostfs.rs`), `/proc/self/fd` (`procfs.rs`).
//! - Stream operations (read, write, seek, poll, `FIONREAD`, fsync,
//!   allocate, ftruncate, close) go by what the description is open on
//!   ([`Stream`]): a MEMFS file, a host file handle, a directory, a
//!   character device (`device.rs`), a pipe (`pipe.rs`) or a socket
//!   (`socket.rs`).
//!
//! The syscall files (`fs_calls.rs`, `io_calls.rs`, `wasi.rs`,
//! `setup.rs`) decode arguments and apply the path rules (`.`, `..`,
//! trailing slashes, which errors come first), then call these methods;
//! they never look at a backend themselves.

use std::path::Path;
use std::sync::Arc;

use super::Kernel;
use super::clock::Timespec;
use super::consts::*;
use super::device::{DeviceKind, Seek, Streams};
use super::errno::{Errno, SysResult};
use super::fd::{FdTable, Ofd, Target};
use super::filedata::FileData;
use super::hostfs;
use super::memfs;
use super::mount::HostFile;
use super::path::Walk;
use super::pipe::Pipe;
use super::procfs;
use super::stat::Stat;
use super::tree::{Backend, DirEntry, NodeId, NodeKind, Tree};

/// The kernel's walk: the tree plus the descriptor table, each lookup
/// handed to the directory's file system.
pub(crate) struct KWalk<'a> {
    tree: &'a mut Tree,
    fdt: &'a FdTable,
}

impl Walk for KWalk<'_> {
    fn tree(&self) -> &Tree {
        self.tree
    }
    fn lookup(&mut self, dir: NodeId, name: &[u8]) -> SysResult<NodeId> {
        lookup(self.tree, self.fdt, dir, name)
    }
}

/// Looks `name` up in directory `dir`, asking its file system.
fn lookup(tree: &mut Tree, fdt: &FdTable, dir: NodeId, name: &[u8]) -> SysResult<NodeId> {
    match &tree.node(dir).backend {
        Backend::Memory => tree.lookup_cached(dir, name),
        Backend::Host(h) => {
            let h = h.clone();
            hostfs::lookup(tree, dir, &h, name)
        }
        Backend::Proc => procfs::lookup(tree, fdt, dir, name),
    }
}

/// What an open description's data operations go to.
enum Stream {
    /// A regular file served from the tree: MEMFS (or a host file opened
    /// with `O_PATH`, which has no data operations).
    File(NodeId),
    /// A regular file on a host mount, through its open handle.
    HostFile(NodeId, Arc<HostFile>),
    /// A directory, of any file system.
    Dir,
    /// A character device.
    Device(NodeId, DeviceKind),
    /// A node without stream operations: a symlink or `/proc` entry opened
    /// with `O_PATH`, a socket made by `mknod`.
    Inert,
    /// One end of a pipe.
    Pipe { pipe: usize, write: bool },
    /// A socket.
    Socket(usize),
}

/// What `lseek` measures `SEEK_END` from.
pub(crate) enum SeekBase {
    /// The stream has a size.
    Size(u64),
    /// Every seek succeeds and the position stays 0 (`/dev/null`).
    Pinned,
}

impl Kernel {
    /// The walk every path resolution of the kernel uses.
    pub(crate) fn walk(&mut self) -> KWalk<'_> {
        KWalk {
            tree: &mut self.fs,
            fdt: &self.fdt,
        }
    }

    /// Looks `name` up in directory `dir` as a path walk would (host
    /// directories asked live, `/proc/self/fd` from the descriptors).
    pub(crate) fn lookup_entry(&mut self, dir: NodeId, name: &[u8]) -> SysResult<NodeId> {
        lookup(&mut self.fs, &self.fdt, dir, name)
    }

    /// The host streams, for devices.
    fn streams(&self) -> Streams<'_> {
        Streams {
            stdin: &*self.stdin,
            stdout: &*self.stdout,
            stderr: &*self.stderr,
            events: self.events.as_deref(),
        }
    }

    // ---- Node operations ------------------------------------------------

    /// Whether entries may be made or removed in directory `dir`: `EPERM`
    /// in `/proc/self/fd` (no `node_ops` there), `EACCES` without write
    /// and search permission.
    fn may_change(&self, dir: NodeId) -> SysResult<()> {
        let d = self.fs.node(dir);
        if matches!(d.backend, Backend::Proc) {
            return Err(Errno::EPERM);
        }
        if d.permits(false, true, true) {
            Ok(())
        } else {
            Err(Errno::EACCES)
        }
    }

    /// Creates the regular file `name` (permission bits `perm`) in `dir`,
    /// which has no such entry.
    pub(crate) fn create_file(&mut self, dir: NodeId, name: &[u8], perm: u32) -> SysResult<NodeId> {
        self.may_change(dir)?;
        let now = self.now();
        match &self.fs.node(dir).backend {
            Backend::Host(h) => {
                let h = h.clone();
                hostfs::create_file(&mut self.fs, dir, &h, name, perm)
            }
            _ => memfs::create(&mut self.fs, dir, name, S_IFREG | perm, 0, now),
        }
    }

    /// `mknod` of `name` in `dir` (no such entry): a regular file or
    /// socket node of `mode`. On a host mount, regular files only.
    pub(crate) fn mknod(
        &mut self,
        dir: NodeId,
        name: &[u8],
        mode: u32,
        rdev: u32,
    ) -> SysResult<()> {
        self.may_change(dir)?;
        let now = self.now();
        match &self.fs.node(dir).backend {
            Backend::Host(h) => {
                if mode & S_IFMT != S_IFREG {
                    return Err(Errno::EPERM);
                }
                let h = h.clone();
                hostfs::create_file(&mut self.fs, dir, &h, name, mode & 0o7777).map(|_| ())
            }
            _ => memfs::create(&mut self.fs, dir, name, mode, rdev, now).map(|_| ()),
        }
    }

    /// `mkdir` of `name` (permission bits `perm`) in `dir`.
    pub(crate) fn make_dir(&mut self, dir: NodeId, name: &[u8], perm: u32) -> SysResult<()> {
        self.may_change(dir)?;
        let now = self.now();
        match &self.fs.node(dir).backend {
            Backend::Host(h) => {
                let h = h.clone();
                hostfs::mkdir(&mut self.fs, dir, &h, name, perm)
            }
            _ => memfs::create(&mut self.fs, dir, name, S_IFDIR | perm, 0, now).map(|_| ()),
        }
    }

    /// `symlink(target, dir/name)`.
    pub(crate) fn make_symlink(
        &mut self,
        dir: NodeId,
        name: &[u8],
        target: &[u8],
    ) -> SysResult<()> {
        self.may_change(dir)?;
        let now = self.now();
        match &self.fs.node(dir).backend {
            Backend::Host(h) => {
                let h = h.clone();
                hostfs::symlink(&mut self.fs, dir, &h, name, target)
            }
            _ => {
                memfs::symlink(&mut self.fs, dir, name, target, now);
                Ok(())
            }
        }
    }

    /// `unlink` of the non-directory entry `name` of `dir`.
    pub(crate) fn unlink_entry(&mut self, dir: NodeId, name: &[u8]) -> SysResult<()> {
        self.may_change(dir)?;
        let now = self.now();
        match &self.fs.node(dir).backend {
            Backend::Host(h) => {
                let h = h.clone();
                hostfs::remove(&mut self.fs, dir, &h, name, false)
            }
            _ => memfs::remove(&mut self.fs, dir, name, now),
        }
    }

    /// `rmdir` of the entry `name` of `dir`, which is node `n`: `EBUSY`
    /// for a mount point (`/proc/self/fd`, a host mount's root).
    pub(crate) fn rmdir_entry(&mut self, dir: NodeId, name: &[u8], n: NodeId) -> SysResult<()> {
        let node = self.fs.node(n);
        match (&self.fs.node(dir).backend, &node.backend) {
            (_, Backend::Proc) if node.is_dir() => Err(Errno::EBUSY),
            (Backend::Host(h), _) => {
                let h = h.clone();
                node.dir()?;
                self.may_change(dir)?;
                hostfs::remove(&mut self.fs, dir, &h, name, true)
            }
            (_, Backend::Host(_)) => Err(Errno::EBUSY),
            _ => {
                memfs::check_rmdir(&self.fs, n)?;
                self.may_change(dir)?;
                let now = self.now();
                memfs::remove(&mut self.fs, dir, name, now)
            }
        }
    }

    /// Whether `n` is a mount point (`/proc/self/fd`, a host mount's root).
    fn is_mount_point(&self, n: NodeId) -> bool {
        let node = self.fs.node(n);
        match &node.backend {
            Backend::Memory => false,
            Backend::Host(h) => h.is_root(),
            Backend::Proc => node.is_dir(),
        }
    }

    /// `rename` of `odir/oname` (node `old`) to `ndir/nname` (node `new`
    /// if there is one, and it is not `old`). `EBUSY` for mount points,
    /// `EXDEV` across file systems.
    pub(crate) fn rename_entry(
        &mut self,
        (odir, oname, old): (NodeId, &[u8], NodeId),
        (ndir, nname, new): (NodeId, &[u8], Option<NodeId>),
    ) -> SysResult<()> {
        if self.is_mount_point(old) || new.is_some_and(|n| self.is_mount_point(n)) {
            return Err(Errno::EBUSY);
        }
        let now = self.now();
        match (&self.fs.node(odir).backend, &self.fs.node(ndir).backend) {
            (Backend::Host(oh), Backend::Host(nh)) if oh.same_mount(nh) => {
                let (oh, nh) = (oh.clone(), nh.clone());
                hostfs::rename(&mut self.fs, (odir, &oh, oname), (ndir, &nh, nname), now)
            }
            (Backend::Host(_), _) | (_, Backend::Host(_)) => Err(Errno::EXDEV),
            _ => {
                memfs::check_rename(&self.fs, old, odir, ndir, new)?;
                self.may_change(odir)?;
                self.may_change(ndir)?;
                self.fs.move_entry(odir, oname, ndir, nname, now)
            }
        }
    }

    /// `readlink` of node `n`: a symlink's target, or the path of the
    /// descriptor a `/proc/self/fd` entry stands for; `EINVAL` otherwise.
    pub(crate) fn readlink_node(&self, n: NodeId) -> SysResult<Vec<u8>> {
        let node = self.fs.node(n);
        match (&node.backend, &node.kind) {
            (_, NodeKind::Symlink(t)) => Ok(t.clone()),
            (Backend::Proc, NodeKind::FdLink(fd)) => self.fd_path(*fd),
            _ => Err(Errno::EINVAL),
        }
    }

    /// The path of descriptor `fd` (the glue's `stream.path`): what it was
    /// opened by, `pipe[N]`, `socket[N]`.
    pub(crate) fn fd_path(&self, fd: i32) -> SysResult<Vec<u8>> {
        let o = self.fdt.ofd(fd)?;
        Ok(match o.target {
            Target::Socket(s) => self.socket_name(s),
            _ => o.path.clone(),
        })
    }

    /// The listing of directory `dir` for `getdents64`: `.`, `..` and the
    /// entries (`/proc/self/fd`: the open descriptors, without `.`/`..`).
    pub(crate) fn readdir(&self, dir: NodeId) -> SysResult<Vec<DirEntry>> {
        let node = self.fs.node(dir);
        let d = node.dir()?;
        let dots = || {
            vec![
                DirEntry {
                    name: b".".to_vec(),
                    ino: node.ino,
                    dtype: DT_DIR,
                },
                DirEntry {
                    name: b"..".to_vec(),
                    ino: self.fs.node(d.parent).ino,
                    dtype: DT_DIR,
                },
            ]
        };
        Ok(match &node.backend {
            Backend::Proc => procfs::readdir(&self.fdt),
            Backend::Host(h) => {
                let mut list = dots();
                list.extend(hostfs::readdir(h)?);
                list
            }
            Backend::Memory => {
                let mut list = dots();
                list.extend(d.entries.iter().map(|(name, id)| {
                    let n = self.fs.node(*id);
                    DirEntry {
                        name: name.clone(),
                        ino: n.ino,
                        dtype: n.dtype(),
                    }
                }));
                list
            }
        })
    }

    /// Whether an entry of an earlier listing of `dir` is still there
    /// (entries removed since are skipped by `getdents64`).
    pub(crate) fn still_listed(&self, dir: NodeId, e: &DirEntry) -> bool {
        let node = self.fs.node(dir);
        match (&node.backend, &node.kind) {
            (Backend::Proc, _) => procfs::listed(&self.fdt, e),
            (Backend::Host(_), _) => true,
            (Backend::Memory, NodeKind::Dir(d)) => {
                e.name == b"." || e.name == b".." || d.entries.contains_key(&e.name)
            }
            _ => false,
        }
    }

    /// `getattr` of whatever `t` is: `EPERM` in `/proc/self/fd` (no
    /// `getattr` there); a host node's live `lstat` (its cached fields once
    /// it is gone).
    pub(crate) fn getattr(&self, t: Target) -> SysResult<Stat> {
        match t {
            Target::Node(n) => {
                let node = self.fs.node(n);
                match &node.backend {
                    Backend::Proc => Err(Errno::EPERM),
                    Backend::Host(h) => {
                        Ok(hostfs::getattr(&self.fs, n, h).unwrap_or_else(|| memfs::getattr(node)))
                    }
                    Backend::Memory => Ok(memfs::getattr(node)),
                }
            }
            Target::Pipe { pipe, .. } => Ok(Pipe::stat(self.pipes.get(pipe))),
            Target::Socket(s) => Ok(self.socket_stat(s)),
        }
    }

    /// `fstat` of descriptor `fd`: an open host file is asked through its
    /// handle, so it keeps its size once removed.
    pub(crate) fn fgetattr(&self, fd: i32) -> SysResult<Stat> {
        let id = self.fdt.ofd_id(fd)?;
        if let Stream::HostFile(n, f) = self.stream(id)?
            && let Backend::Host(h) = &self.fs.node(n).backend
            && let Some(st) = hostfs::fgetattr(h, &f)
        {
            return Ok(st);
        }
        self.getattr(self.fdt.ofd(fd)?.target)
    }

    /// `chmod` of node `n` (a host node: the host's, seen at the next
    /// lookup).
    pub(crate) fn chmod_node(&mut self, n: NodeId, mode: u32) -> SysResult<()> {
        let now = self.now();
        let node = self.fs.node_mut(n);
        match &node.backend {
            Backend::Proc => Err(Errno::EPERM),
            Backend::Host(h) => h.chmod(mode),
            Backend::Memory => {
                node.mode = (node.mode & S_IFMT) | (mode & 0o7777);
                node.ctime = now;
                Ok(())
            }
        }
    }

    /// `chown` of node `n` (`-1` keeps an id): recorded in the node (a
    /// host node's ids are not changed on the host).
    pub(crate) fn chown_node(&mut self, n: NodeId, uid: i32, gid: i32) -> SysResult<()> {
        let now = self.now();
        let node = self.fs.node_mut(n);
        if matches!(node.backend, Backend::Proc) {
            return Err(Errno::EPERM);
        }
        if uid != -1 {
            node.uid = uid as u32;
        }
        if gid != -1 {
            node.gid = gid as u32;
        }
        node.ctime = now;
        Ok(())
    }

    /// `utimensat` of node `n` (`None` keeps a time).
    pub(crate) fn utimes_node(
        &mut self,
        n: NodeId,
        at: Option<Timespec>,
        mt: Option<Timespec>,
    ) -> SysResult<()> {
        let now = self.now();
        let node = self.fs.node_mut(n);
        match &node.backend {
            Backend::Proc => return Err(Errno::EPERM),
            Backend::Host(h) if at.is_some() || mt.is_some() => h.set_times(at, mt)?,
            _ => {}
        }
        if let Some(a) = at {
            node.atime = a;
        }
        if let Some(m) = mt {
            node.mtime = m;
        }
        if at.is_some() || mt.is_some() {
            node.ctime = now;
        }
        Ok(())
    }

    /// Sets the length of the regular file `n` (no permission check).
    fn set_size(&mut self, n: NodeId, len: u64) -> SysResult<()> {
        if len > memfs::MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let now = self.now();
        let node = self.fs.node(n);
        match (&node.backend, &node.kind) {
            (Backend::Host(h), NodeKind::File(_)) => h.truncate(len),
            _ => memfs::truncate(&mut self.fs, n, len, now),
        }
    }

    /// `truncate` of node `n` (a path's): a regular file the caller may
    /// write.
    pub(crate) fn truncate_node(&mut self, n: NodeId, len: i64) -> SysResult<()> {
        if len < 0 {
            return Err(Errno::EINVAL);
        }
        let node = self.fs.node(n);
        match node.kind {
            NodeKind::Dir(_) => return Err(Errno::EISDIR),
            NodeKind::File(_) => {}
            _ => return Err(Errno::EINVAL),
        }
        if !node.permits(false, true, false) {
            return Err(Errno::EACCES);
        }
        self.set_size(n, len as u64)
    }

    /// `access` of node `n` for `amode` (`R_OK` 4, `W_OK` 2, `X_OK` 1):
    /// `EROFS` for writing on a read-only mount, else the permission bits.
    pub(crate) fn access_node(&self, n: NodeId, amode: i32) -> SysResult<()> {
        let node = self.fs.node(n);
        if amode & 2 != 0
            && let Backend::Host(h) = &node.backend
        {
            h.writable()?;
        }
        if node.permits(amode & 4 != 0, amode & 2 != 0, amode & 1 != 0) {
            Ok(())
        } else {
            Err(Errno::EACCES)
        }
    }

    /// `EROFS` if `n` is on a read-only mount.
    fn writable_fs(&self, n: NodeId) -> SysResult<()> {
        match &self.fs.node(n).backend {
            Backend::Host(h) => h.writable(),
            _ => Ok(()),
        }
    }

    /// Opens node `n` with `flags`, the path and type checks done: a new
    /// descriptor whose `/proc/self/fd` path is `path`. `created`: this
    /// open made the file (no truncation then). `EACCES` for a
    /// `/proc/self/fd` entry (mode 0, even for `O_PATH`); a host file gets
    /// its host handle (`EROFS` for writing on a read-only mount).
    pub(crate) fn open_node(
        &mut self,
        n: NodeId,
        flags: u32,
        created: bool,
        path: Vec<u8>,
    ) -> SysResult<i32> {
        let node = self.fs.node(n);
        let host_file = match (&node.backend, &node.kind) {
            (Backend::Proc, NodeKind::FdLink(_)) => return Err(Errno::EACCES),
            (Backend::Host(h), kind) => hostfs::open(kind, h, flags)?,
            _ => None,
        };
        if flags & O_TRUNC != 0 && !created && matches!(node.kind, NodeKind::File(_)) {
            self.set_size(n, 0)?;
        }
        self.fs.retain(n);
        match self.new_fd(Target::Node(n), flags) {
            Ok(fd) => {
                let o = self.fdt.ofd_mut(fd)?;
                o.host_file = host_file;
                o.path = path;
                Ok(fd)
            }
            Err(e) => {
                self.fs.release(n);
                Err(e)
            }
        }
    }

    /// The contents of the regular file `n` (a host file: read from the
    /// host; a MEMFS file: shared, not copied).
    pub(crate) fn node_data(&self, n: NodeId) -> SysResult<FileData> {
        let node = self.fs.node(n);
        match (&node.backend, &node.kind) {
            (Backend::Host(h), NodeKind::File(_)) => h.read_all().map(FileData::from),
            _ => memfs::data(node),
        }
    }

    /// Replaces the contents of the regular file `n` (a MEMFS file takes
    /// `data` as it is, without copying; a host file is written).
    pub(crate) fn set_node_data(&mut self, n: NodeId, data: FileData) -> SysResult<()> {
        let now = self.now();
        let node = self.fs.node(n);
        match (&node.backend, &node.kind) {
            (Backend::Host(h), NodeKind::File(_)) => {
                let bytes = data.as_slice();
                h.truncate(0)?;
                let mut put = 0;
                while put < bytes.len() {
                    match h.write_at(put as u64, &bytes[put..])? {
                        0 => return Err(Errno::EIO),
                        k => put += k,
                    }
                }
                Ok(())
            }
            _ => memfs::set_data(&mut self.fs, n, data, now),
        }
    }

    /// Makes the empty directory `n` the `/proc/self/fd` mount.
    pub(crate) fn mount_proc(&mut self, n: NodeId) {
        procfs::mount(&mut self.fs, n);
    }

    /// Opens the host directory `host` for [`Kernel::mount_host_at`].
    pub(crate) fn open_host_dir(host: &Path, read_only: bool) -> SysResult<hostfs::NewMount> {
        hostfs::open_mount(host, read_only)
    }

    /// Mounts an opened host directory on the empty MEMFS directory `n`
    /// (not `/`, not another mount point: `EBUSY`).
    pub(crate) fn mount_host_at(&mut self, n: NodeId, m: hostfs::NewMount) -> SysResult<()> {
        let node = self.fs.node(n);
        if n == self.fs.root() || !matches!(node.backend, Backend::Memory) {
            return Err(Errno::EBUSY);
        }
        if !node.dir()?.entries.is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        hostfs::mount(&mut self.fs, n, m);
        Ok(())
    }

    // ---- Stream operations -----------------------------------------------

    /// What open description `id` reads and writes through.
    fn stream(&self, id: usize) -> SysResult<Stream> {
        let o = self.fdt.ofds.get(id).ok_or(Errno::EBADF)?;
        Ok(match o.target {
            Target::Pipe { pipe, write } => Stream::Pipe { pipe, write },
            Target::Socket(s) => Stream::Socket(s),
            Target::Node(n) => match (&self.fs.node(n).kind, &o.host_file) {
                (NodeKind::File(_), Some(h)) => Stream::HostFile(n, h.clone()),
                (NodeKind::File(_), None) => Stream::File(n),
                (NodeKind::Dir(_), _) => Stream::Dir,
                (NodeKind::Device(d), _) => Stream::Device(n, *d),
                _ => Stream::Inert,
            },
        })
    }

    /// The device a description is open on, if any.
    fn device_of(&self, t: Target) -> Option<DeviceKind> {
        match t {
            Target::Node(n) => match self.fs.node(n).kind {
                NodeKind::Device(d) => Some(d),
                _ => None,
            },
            _ => None,
        }
    }

    /// Reads from open description `id` into `buf`; `at` is a `pread`
    /// offset (the file position is used and advanced when `None`).
    pub(crate) fn read_ofd(
        &mut self,
        id: usize,
        buf: &mut [u8],
        at: Option<u64>,
    ) -> SysResult<usize> {
        let o = self.fdt.ofds.get(id).ok_or(Errno::EBADF)?;
        if !o.readable() {
            return Err(Errno::EBADF);
        }
        let pos = at.unwrap_or(o.pos);
        let got = match self.stream(id)? {
            Stream::Dir => return Err(Errno::EISDIR),
            Stream::File(n) => memfs::read_at(self.fs.node(n), pos, buf),
            Stream::HostFile(_, h) => h.read_at(pos, buf)?,
            Stream::Device(n, d) => {
                if at.is_some() && !d.positional() {
                    return Err(Errno::ESPIPE);
                }
                let got = d.read(&self.streams(), buf)?;
                if got > 0 && d.stamps_times() {
                    let now = self.now();
                    self.fs.node_mut(n).atime = now;
                }
                return Ok(got);
            }
            Stream::Inert => return Err(Errno::EINVAL),
            Stream::Pipe { pipe, .. } => {
                if at.is_some() {
                    return Err(Errno::ESPIPE);
                }
                return self.pipes.get_mut(pipe).ok_or(Errno::EBADF)?.read(buf);
            }
            Stream::Socket(s) => {
                if at.is_some() {
                    return Err(Errno::ESPIPE);
                }
                return self.socket_recv(s, buf);
            }
        };
        if at.is_none()
            && let Some(o) = self.fdt.ofds.get_mut(id)
        {
            o.pos = pos + got as u64;
        }
        Ok(got)
    }

    /// Writes `data` to open description `id` (at `at` for `pwrite`; on an
    /// `O_APPEND` file always at the end).
    pub(crate) fn write_ofd(
        &mut self,
        id: usize,
        data: &[u8],
        at: Option<u64>,
    ) -> SysResult<usize> {
        let o = self.fdt.ofds.get(id).ok_or(Errno::EBADF)?;
        if !o.writable() {
            return Err(Errno::EBADF);
        }
        let (pos, append) = (at.unwrap_or(o.pos), o.flags & O_APPEND != 0);
        let now = self.now();
        let (pos, put) = match self.stream(id)? {
            Stream::Dir => return Err(Errno::EISDIR),
            Stream::File(n) => {
                let p = if append {
                    memfs::size(self.fs.node(n))
                } else {
                    pos
                };
                (p, memfs::write_at(&mut self.fs, n, p, data, now)?)
            }
            Stream::HostFile(_, h) => {
                let p = if append { h.len()? } else { pos };
                (p, h.write_at(p, data)?)
            }
            Stream::Device(n, d) => {
                if at.is_some() && !d.positional() {
                    return Err(Errno::ESPIPE);
                }
                let put = d.write(&self.streams(), data)?;
                if !data.is_empty() && d.stamps_times() {
                    let node = self.fs.node_mut(n);
                    node.mtime = now;
                    node.ctime = now;
                }
                return Ok(put);
            }
            Stream::Inert => return Err(Errno::EINVAL),
            Stream::Pipe { pipe, .. } => {
                if at.is_some() {
                    return Err(Errno::ESPIPE);
                }
                return self.pipes.get_mut(pipe).ok_or(Errno::EBADF)?.write(data);
            }
            Stream::Socket(s) => {
                if at.is_some() {
                    return Err(Errno::ESPIPE);
                }
                return self.socket_send(s, data);
            }
        };
        if at.is_none()
            && let Some(o) = self.fdt.ofds.get_mut(id)
        {
            o.pos = pos + put as u64;
        }
        Ok(put)
    }

    /// What `lseek` on description `id` measures from: `ESPIPE` for
    /// pipes, sockets and most devices.
    pub(crate) fn seek_base(&self, id: usize) -> SysResult<SeekBase> {
        match self.stream(id)? {
            Stream::File(n) => Ok(SeekBase::Size(memfs::size(self.fs.node(n)))),
            Stream::HostFile(_, h) => Ok(SeekBase::Size(h.len()?)),
            Stream::Dir => Ok(SeekBase::Size(0)),
            Stream::Device(_, d) if d.seek() == Seek::Pinned => Ok(SeekBase::Pinned),
            _ => Err(Errno::ESPIPE),
        }
    }

    /// Bytes ready to read on description `id` (`FIONREAD`); `None` where
    /// the question has no answer (directories, devices).
    pub(crate) fn ready_bytes(&self, id: usize) -> SysResult<Option<u64>> {
        let pos = self.fdt.ofds.get(id).ok_or(Errno::EBADF)?.pos;
        Ok(match self.stream(id)? {
            Stream::Pipe { pipe, .. } => Some(self.pipes.get(pipe).map_or(0, Pipe::len) as u64),
            Stream::Socket(s) => Some(self.socket_pending(s) as u64),
            Stream::File(n) => Some(memfs::size(self.fs.node(n)).saturating_sub(pos)),
            Stream::HostFile(_, h) => Some(h.len()?.saturating_sub(pos)),
            _ => None,
        })
    }

    /// `poll` readiness of description `id`: files and devices are always
    /// ready; pipes and sockets report their state.
    pub(crate) fn poll_ofd(&self, id: usize) -> u16 {
        match self.stream(id) {
            Err(_) => POLLNVAL,
            Ok(Stream::Pipe { pipe, write }) => {
                self.pipes.get(pipe).map_or(POLLNVAL, |p| p.poll(write))
            }
            Ok(Stream::Socket(s)) => self.socket_poll(s),
            Ok(_) => POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM,
        }
    }

    /// `fsync` of description `id`: flushes an output device's sink.
    pub(crate) fn fsync_ofd(&self, id: usize) -> SysResult<()> {
        if let Stream::Device(_, d) = self.stream(id)? {
            d.flush(&self.streams());
        }
        Ok(())
    }

    /// `fallocate` of `[off, off + len)` of the regular file of description
    /// `id`: afterwards the file is at least that long and (MEMFS) the range
    /// is stored, so writing there cannot fail for lack of space.
    /// `ESPIPE` on pipes and sockets, `ENODEV` on other non-files.
    pub(crate) fn allocate(&mut self, id: usize, off: u64, len: u64) -> SysResult<()> {
        let end = off.checked_add(len).ok_or(Errno::EFBIG)?;
        match self.stream(id)? {
            Stream::HostFile(n, h) => {
                // The host's size, grown through the handle.
                if h.len()? < end {
                    self.writable_fs(n)?;
                    h.set_len(end)?;
                }
                Ok(())
            }
            Stream::File(n) => {
                let node = self.fs.node(n);
                if memfs::size(node) < end && !node.permits(false, true, false) {
                    return Err(Errno::EACCES);
                }
                let now = self.now();
                memfs::allocate(&mut self.fs, n, off, len, now)
            }
            Stream::Dir => Err(Errno::EISDIR),
            Stream::Pipe { .. } | Stream::Socket(_) => Err(Errno::ESPIPE),
            Stream::Device(..) | Stream::Inert => Err(Errno::ENODEV),
        }
    }

    /// `ftruncate` of description `id` (a host file through its handle,
    /// wherever the file went since).
    pub(crate) fn ftruncate(&mut self, id: usize, len: u64) -> SysResult<()> {
        match self.stream(id)? {
            Stream::HostFile(n, h) => {
                self.writable_fs(n)?;
                h.set_len(len)
            }
            Stream::File(n) => {
                if len > memfs::MAX_FILE_SIZE {
                    return Err(Errno::EFBIG);
                }
                let now = self.now();
                memfs::truncate(&mut self.fs, n, len, now)
            }
            Stream::Dir => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Whether description `id` is open on a regular file (what `mmap`
    /// can map).
    pub(crate) fn is_file_stream(&self, id: usize) -> bool {
        matches!(self.stream(id), Ok(Stream::File(_) | Stream::HostFile(..)))
    }

    /// The size of the regular file of description `id` (`ENODEV` for
    /// anything else).
    pub(crate) fn file_size(&self, id: usize) -> SysResult<u64> {
        match self.stream(id)? {
            Stream::File(n) => Ok(memfs::size(self.fs.node(n))),
            Stream::HostFile(_, h) => h.len(),
            _ => Err(Errno::ENODEV),
        }
    }

    /// The mapped host file that holds all the bytes of the MEMFS file of
    /// description `id` from `pos` to the end of a `len`-byte mapping, and
    /// the offset of `pos` in it.
    pub(crate) fn host_file_at(
        &self,
        id: usize,
        pos: u64,
        len: u64,
    ) -> Option<(std::sync::Arc<crate::host_bytes::MappedFile>, u64)> {
        match self.stream(id).ok()? {
            Stream::File(n) => memfs::host_file_at(self.fs.node(n), pos, len),
            _ => None,
        }
    }

    /// Fills `buf` from the regular file of description `id` at `pos`, as
    /// far as the file goes (the rest is left as it is); the position is
    /// not moved.
    pub(crate) fn read_file_at(&self, id: usize, pos: u64, buf: &mut [u8]) -> SysResult<()> {
        match self.stream(id)? {
            Stream::File(n) => {
                memfs::read_at(self.fs.node(n), pos, buf);
                Ok(())
            }
            Stream::HostFile(_, h) => {
                // Through the handle, until EOF.
                let mut got = 0;
                while got < buf.len() {
                    match h.read_at(pos + got as u64, &mut buf[got..])? {
                        0 => break,
                        k => got += k,
                    }
                }
                Ok(())
            }
            _ => Err(Errno::ENODEV),
        }
    }

    /// Writes all of `data` at `pos` of the regular file of description
    /// `id` (a mapping written back); the position is not moved.
    pub(crate) fn write_file_at(&mut self, id: usize, pos: u64, data: &[u8]) -> SysResult<()> {
        match self.stream(id)? {
            Stream::File(n) => {
                let now = self.now();
                memfs::write_at(&mut self.fs, n, pos, data, now).map(|_| ())
            }
            Stream::HostFile(n, h) => {
                self.writable_fs(n)?;
                let mut put = 0;
                while put < data.len() {
                    match h.write_at(pos + put as u64, &data[put..])? {
                        0 => return Err(Errno::EIO),
                        k => put += k,
                    }
                }
                Ok(())
            }
            _ => Err(Errno::ENODEV),
        }
    }

    /// Whether a stream on `target` is a terminal when opened.
    fn is_tty_target(&self, target: Target) -> bool {
        self.device_of(target)
            .is_some_and(|d| d.is_tty(&self.streams()))
    }

    /// Whether an open file description (TTY-ness `tty` when opened, on
    /// `target`) answers as a terminal now: before Pyodide's
    /// `initializeStreams` (see [`Kernel::set_stdio_boot_tty`]) the stdio
    /// devices do.
    pub(crate) fn sees_tty(&self, tty: bool, target: Target) -> bool {
        tty || (self.boot_tty && self.is_stdio_device(target))
    }

    /// Whether `target` is one of Pyodide's stdio devices.
    pub(crate) fn is_stdio_device(&self, target: Target) -> bool {
        self.device_of(target).is_some_and(DeviceKind::is_stdio)
    }

    /// The `(rows, cols)` `TIOCGWINSZ` reports for a terminal on `target`
    /// (the host terminal's, else 24x80).
    pub(crate) fn terminal_size(&self, target: Target) -> (u16, u16) {
        let s = self.streams();
        let sink = match self.device_of(target) {
            Some(d) => d.winsize_sink(&s),
            None => s.stdout,
        };
        sink.terminal_size().unwrap_or((24, 80))
    }

    /// Opens a new descriptor on `target` (the caller has already counted
    /// the reference on the target itself).
    pub(crate) fn new_fd(&mut self, target: Target, flags: u32) -> SysResult<i32> {
        let tty = self.is_tty_target(target);
        let ofd = Ofd::new(
            target,
            flags & !(O_CREAT | O_EXCL | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_DIRECTORY),
            tty,
        );
        self.fdt.open_new(ofd, 0, flags & O_CLOEXEC != 0)
    }

    /// Drops one reference to open description `id`, closing it at the
    /// last: the node is released, the pipe end or socket closed.
    pub(crate) fn drop_ofd(&mut self, id: usize) {
        let Some(o) = self.fdt.ofds.get_mut(id) else {
            return;
        };
        o.refs -= 1;
        if o.refs > 0 {
            return;
        }
        let Some(o) = self.fdt.ofds.remove(id) else {
            return;
        };
        match o.target {
            Target::Node(n) => {
                if let Some(d) = self.device_of(o.target) {
                    d.close(&self.streams());
                }
                self.fs.release(n)
            }
            Target::Pipe { pipe, write } => {
                if let Some(p) = self.pipes.get_mut(pipe)
                    && p.close_end(write)
                {
                    self.pipes.remove(pipe);
                }
            }
            Target::Socket(s) => self.socket_closed(s),
        }
    }

    /// Closes descriptor `fd`.
    pub(crate) fn close_fd(&mut self, fd: i32) -> SysResult<()> {
        let id = self.fdt.take(fd)?;
        self.drop_ofd(id);
        Ok(())
    }
}
