//! Host directories mounted into the guest (`--mount HOST:GUEST[:ro]`).
//!
//! A mount turns a MEMFS directory into the root of a host-backed subtree.
//! Host-backed nodes live in the same arena as MEMFS nodes and use the same
//! [`NodeKind`]s (`Dir`, `File`, `Symlink`, `Special`); what makes them
//! host-backed is [`Inode::host`], a [`HostRef`]: the mount (a
//! `cap_std::fs::Dir` handle on the host directory, shared through an `Arc`
//! so a cloned kernel shares it) and the path relative to it.
//!
//! - Nodes are materialized lazily: [`Fs::lookup`] in a host directory asks
//!   the host (`lstat` of that one entry) and creates, refreshes or drops
//!   the cached child node. A host directory's `entries` are only a cache;
//!   listings (`getdents64`) come from the host.
//! - Path resolution stays in the guest namespace: the walk (`path.rs`)
//!   handles `.`, `..` and symlinks itself, so `..` at the mount root is the
//!   MEMFS parent, and a host symlink's target is a *guest* path (an
//!   absolute target starts at the guest's `/`). Every host access goes
//!   through `cap-std`, which refuses any path that would leave the mounted
//!   directory, so even a racing host-side symlink swap cannot escape.
//! - An open regular file holds a host file handle ([`HostFile`], in the
//!   open file description); reads and writes go to it, closing the last
//!   descriptor closes it.
//! - Read-only mounts answer `EROFS` to every change.
//! - Each mount has its own `st_dev`; `st_ino` is the host's.

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use cap_std::fs::{Dir, MetadataExt, OpenOptions, OpenOptionsExt, PermissionsExt};

use super::Kernel;
use super::clock::Timespec;
use super::consts::*;
use super::errno::{Errno, SysResult, from_io};
use super::memfs::{DirData, FileData, Fs, Inode, NodeId, NodeKind};
#[cfg(test)]
use super::path;
use super::stat::Stat;

/// One mounted host directory.
pub struct HostMount {
    dir: Dir,
    read_only: bool,
    dev: u32,
}

impl std::fmt::Debug for HostMount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostMount")
            .field("read_only", &self.read_only)
            .field("dev", &self.dev)
            .finish_non_exhaustive()
    }
}

/// What backs a host node: its mount and its path relative to the mount
/// root (empty for the root itself).
#[derive(Clone, Debug)]
pub struct HostRef {
    mount: Arc<HostMount>,
    rel: PathBuf,
}

/// An open host file (shared by `dup`s and kernel clones).
#[derive(Debug)]
pub struct HostFile(std::fs::File);

/// `st_dev` of the next mount.
static NEXT_DEV: AtomicU32 = AtomicU32::new(0x100);

/// Maps a host error, by its Linux errno where there is one.
fn host_err(e: io::Error) -> Errno {
    let Some(code) = e.raw_os_error() else {
        return from_io(&e);
    };
    match code {
        libc::EPERM => Errno::EPERM,
        libc::ENOENT => Errno::ENOENT,
        libc::EIO => Errno::EIO,
        libc::EBADF => Errno::EBADF,
        libc::EACCES => Errno::EACCES,
        libc::EBUSY => Errno::EBUSY,
        libc::EEXIST => Errno::EEXIST,
        libc::EXDEV => Errno::EXDEV,
        libc::ENOTDIR => Errno::ENOTDIR,
        libc::EISDIR => Errno::EISDIR,
        libc::EINVAL => Errno::EINVAL,
        libc::EFBIG => Errno::EFBIG,
        libc::ENOSPC => Errno::ENOSPC,
        libc::EROFS => Errno::EROFS,
        libc::EMLINK => Errno::EMLINK,
        libc::ENAMETOOLONG => Errno::ENAMETOOLONG,
        libc::ENOTEMPTY => Errno::ENOTEMPTY,
        libc::ELOOP => Errno::ELOOP,
        libc::EDQUOT => Errno::EDQUOT,
        libc::ETXTBSY => Errno::ETXTBSY,
        libc::EOPNOTSUPP => Errno::EOPNOTSUPP,
        _ => from_io(&e),
    }
}

fn name_path(name: &[u8]) -> &Path {
    Path::new(std::ffi::OsStr::from_bytes(name))
}

fn ts(sec: i64, nsec: i64) -> Timespec {
    Timespec {
        sec,
        nsec: nsec.clamp(0, 999_999_999) as u32,
    }
}

impl HostRef {
    fn lstat(&self) -> io::Result<cap_std::fs::Metadata> {
        if self.rel.as_os_str().is_empty() {
            self.mount.dir.dir_metadata()
        } else {
            self.mount.dir.symlink_metadata(&self.rel)
        }
    }

    fn writable(&self) -> SysResult<()> {
        if self.mount.read_only {
            Err(Errno::EROFS)
        } else {
            Ok(())
        }
    }

    fn child(&self, name: &[u8]) -> HostRef {
        HostRef {
            mount: self.mount.clone(),
            rel: self.rel.join(name_path(name)),
        }
    }

    /// The parent directory (opened through the sandbox) and the last
    /// component, for calls that must not follow a final symlink.
    fn parent_and_name(&self) -> io::Result<(Dir, &std::ffi::OsStr)> {
        let name = self
            .rel
            .file_name()
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EBUSY))?;
        let parent = self.rel.parent().unwrap_or(Path::new(""));
        let dir = if parent.as_os_str().is_empty() {
            self.mount.dir.try_clone()?
        } else {
            self.mount.dir.open_dir(parent)?
        };
        Ok((dir, name))
    }
}

impl HostFile {
    /// `pread`.
    pub(crate) fn read_at(&self, pos: u64, buf: &mut [u8]) -> SysResult<usize> {
        self.0.read_at(buf, pos).map_err(host_err)
    }
    /// `pwrite`.
    pub(crate) fn write_at(&self, pos: u64, data: &[u8]) -> SysResult<usize> {
        self.0.write_at(data, pos).map_err(host_err)
    }
    /// The file's current size.
    pub(crate) fn len(&self) -> SysResult<u64> {
        self.0.metadata().map(|m| m.len()).map_err(host_err)
    }
    /// `ftruncate`.
    pub(crate) fn set_len(&self, len: u64) -> SysResult<()> {
        self.0.set_len(len).map_err(host_err)
    }
}

/// Copies the host's metadata into a cached node.
fn refresh(n: &mut Inode, meta: &cap_std::fs::Metadata) {
    n.ino = meta.ino();
    n.mode = meta.mode();
    n.uid = meta.uid();
    n.gid = meta.gid();
    n.atime = ts(meta.atime(), meta.atime_nsec());
    n.mtime = ts(meta.mtime(), meta.mtime_nsec());
    n.ctime = ts(meta.ctime(), meta.ctime_nsec());
}

fn same_type(kind: &NodeKind, ft: cap_std::fs::FileType) -> bool {
    match kind {
        NodeKind::Dir(_) => ft.is_dir(),
        NodeKind::File(_) => ft.is_file(),
        NodeKind::Symlink(_) => ft.is_symlink(),
        _ => !ft.is_dir() && !ft.is_file() && !ft.is_symlink(),
    }
}

/// Drops the cached entry `name` of `dir` (and, for a directory, its
/// cached subtree). Nodes still open stay alive, unlinked.
fn forget(fs: &mut Fs, dir: NodeId, name: &[u8], now: Timespec) {
    let Ok(child) = fs.lookup_cached(dir, name) else {
        return;
    };
    if let Ok(d) = fs.node(child).dir() {
        let names: Vec<Vec<u8>> = d.entries.keys().cloned().collect();
        for n in names {
            forget(fs, child, &n, now);
        }
    }
    let _ = fs.remove_entry(dir, name, now);
}

/// [`Fs::lookup`] in a host directory: asks the host about `name` and
/// returns the (new or refreshed) cached node.
pub(crate) fn lookup(fs: &mut Fs, dir: NodeId, name: &[u8]) -> SysResult<NodeId> {
    let parent = fs.node(dir);
    parent.dir()?;
    let h = parent.host.clone().ok_or(Errno::EINVAL)?;
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') {
        return Err(Errno::ENOENT);
    }
    let now = Timespec::default();
    let child = h.child(name);
    let meta = match child.lstat() {
        Ok(m) => m,
        Err(e) => {
            let e = host_err(e);
            if matches!(e, Errno::ENOENT | Errno::ENOTDIR) {
                forget(fs, dir, name, now);
            }
            return Err(e);
        }
    };
    let ft = meta.file_type();
    let target = if ft.is_symlink() {
        let t = h
            .mount
            .dir
            .read_link_contents(&child.rel)
            .map_err(host_err)?;
        Some(t.as_os_str().as_bytes().to_vec())
    } else {
        None
    };
    if let Ok(id) = fs.lookup_cached(dir, name) {
        if same_type(&fs.node(id).kind, ft) {
            let n = fs.node_mut(id);
            refresh(n, &meta);
            if let (Some(t), NodeKind::Symlink(old)) = (target, &mut n.kind) {
                *old = t;
            }
            return Ok(id);
        }
        forget(fs, dir, name, now);
    }
    let kind = if ft.is_dir() {
        NodeKind::Dir(DirData {
            entries: Default::default(),
            parent: dir,
            name: Vec::new(),
        })
    } else if let Some(t) = target {
        NodeKind::Symlink(t)
    } else if ft.is_file() {
        NodeKind::File(FileData::default())
    } else {
        NodeKind::Special
    };
    let id = fs.create(dir, name, meta.mode(), 0, kind, now);
    let n = fs.node_mut(id);
    refresh(n, &meta);
    n.host = Some(child);
    Ok(id)
}

/// A [`Stat`] from host metadata (std's or cap-std's: the same accessors)
/// on a mount whose device number is `dev`.
macro_rules! host_stat {
    ($dev:expr, $m:expr) => {{
        let m = &$m;
        Stat {
            dev: $dev,
            ino: m.ino(),
            mode: m.mode(),
            nlink: m.nlink().min(u32::MAX as u64) as u32,
            uid: m.uid(),
            gid: m.gid(),
            rdev: 0,
            size: m.size() as i64,
            blksize: 4096,
            blocks: m.blocks().min(i32::MAX as u64) as i32,
            atime: ts(m.atime(), m.atime_nsec()),
            mtime: ts(m.mtime(), m.mtime_nsec()),
            ctime: ts(m.ctime(), m.ctime_nsec()),
        }
    }};
}

/// The live `stat` of a host node (`None` for MEMFS nodes, and for host
/// nodes no longer linked or gone on the host: their cached fields serve).
pub(crate) fn stat(fs: &Fs, id: NodeId) -> Option<Stat> {
    let n = fs.node(id);
    let h = n.host.as_ref()?;
    if !fs.is_linked(id) {
        return None;
    }
    let m = h.lstat().ok()?;
    Some(host_stat!(h.mount.dev, m))
}

/// The `fstat` of an open host file, from its handle: live even when the
/// file was since removed or renamed (on either side). `None` for a
/// MEMFS node or if the host cannot answer.
pub(crate) fn fstat(fs: &Fs, id: NodeId, f: &HostFile) -> Option<Stat> {
    let h = fs.node(id).host.as_ref()?;
    let m = f.0.metadata().ok()?;
    use std::os::unix::fs::MetadataExt as _;
    Some(host_stat!(h.mount.dev, m))
}

/// The whole contents of the host file behind `id` (for the host-side
/// `Kernel::file_data`).
pub(crate) fn read_all(fs: &Fs, id: NodeId) -> SysResult<Vec<u8>> {
    let h = fs.node(id).host.as_ref().ok_or(Errno::EINVAL)?;
    let mut o = OpenOptions::new();
    o.read(true).custom_flags(libc::O_NOFOLLOW);
    let mut f = h.mount.dir.open_with(&h.rel, &o).map_err(host_err)?;
    let mut out = Vec::new();
    io::Read::read_to_end(&mut f, &mut out).map_err(host_err)?;
    Ok(out)
}

/// The entries of a host directory for `getdents64` (without `.`/`..`).
pub(crate) fn read_dir(fs: &Fs, dir: NodeId) -> SysResult<Vec<super::fd::DirEntry>> {
    let h = fs.node(dir).host.as_ref().ok_or(Errno::ENOTDIR)?;
    let it = if h.rel.as_os_str().is_empty() {
        h.mount.dir.entries()
    } else {
        h.mount.dir.read_dir(&h.rel)
    }
    .map_err(host_err)?;
    let mut out = Vec::new();
    for e in it {
        let e = e.map_err(host_err)?;
        let dtype = match e.file_type() {
            Ok(t) if t.is_dir() => DT_DIR,
            Ok(t) if t.is_file() => DT_REG,
            Ok(t) if t.is_symlink() => DT_LNK,
            _ => DT_UNKNOWN,
        };
        out.push(super::fd::DirEntry {
            name: e.file_name().as_bytes().to_vec(),
            ino: std::os::unix::fs::DirEntryExt::ino(&e),
            dtype,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Opens the host file behind `node` for a guest `open` with `flags`
/// (`None` for MEMFS nodes, host directories and `O_PATH`).
pub(crate) fn open_file(fs: &Fs, node: NodeId, flags: u32) -> SysResult<Option<Arc<HostFile>>> {
    let n = fs.node(node);
    let Some(h) = &n.host else {
        return Ok(None);
    };
    let acc = flags & O_ACCMODE;
    let write = acc != O_RDONLY || flags & O_TRUNC != 0;
    if write {
        h.writable()?;
    }
    if flags & O_PATH != 0 || !matches!(n.kind, NodeKind::File(_)) {
        return Ok(None);
    }
    let mut o = OpenOptions::new();
    o.read(acc != O_WRONLY).write(acc != O_RDONLY);
    o.custom_flags(libc::O_NOFOLLOW);
    let f = h.mount.dir.open_with(&h.rel, &o).map_err(host_err)?;
    Ok(Some(Arc::new(HostFile(f.into_std()))))
}

/// Creates the regular file `name` in host directory `dir`.
pub(crate) fn create_file(fs: &mut Fs, dir: NodeId, name: &[u8], perm: u32) -> SysResult<NodeId> {
    let h = fs.node(dir).host.clone().ok_or(Errno::EINVAL)?;
    h.writable()?;
    let mut o = OpenOptions::new();
    o.write(true).create_new(true).mode(perm & 0o7777);
    h.mount
        .dir
        .open_with(h.child(name).rel, &o)
        .map_err(host_err)?;
    lookup(fs, dir, name)
}

/// `mkdir` in a host directory.
pub(crate) fn mkdir(fs: &mut Fs, dir: NodeId, name: &[u8], perm: u32) -> SysResult<()> {
    let h = fs.node(dir).host.clone().ok_or(Errno::EINVAL)?;
    h.writable()?;
    let mut b = cap_std::fs::DirBuilder::new();
    cap_std::fs::DirBuilderExt::mode(&mut b, perm & 0o7777);
    h.mount
        .dir
        .create_dir_with(h.child(name).rel, &b)
        .map_err(host_err)?;
    lookup(fs, dir, name).map(|_| ())
}

/// `unlink` (or `rmdir` with `dir_too`) in a host directory.
pub(crate) fn remove(fs: &mut Fs, dir: NodeId, name: &[u8], is_dir: bool) -> SysResult<()> {
    let h = fs.node(dir).host.clone().ok_or(Errno::EINVAL)?;
    h.writable()?;
    let rel = h.child(name).rel;
    if is_dir {
        h.mount.dir.remove_dir(rel)
    } else {
        h.mount.dir.remove_file(rel)
    }
    .map_err(host_err)?;
    forget(fs, dir, name, Timespec::default());
    Ok(())
}

/// `symlink(target, dir/name)` in a host directory; the target is stored
/// as given (it is a guest path).
pub(crate) fn symlink(fs: &mut Fs, target: &[u8], dir: NodeId, name: &[u8]) -> SysResult<()> {
    let h = fs.node(dir).host.clone().ok_or(Errno::EINVAL)?;
    h.writable()?;
    h.mount
        .dir
        .symlink_contents(name_path(target), h.child(name).rel)
        .map_err(host_err)?;
    lookup(fs, dir, name).map(|_| ())
}

/// Writes `data` at `pos` of a host file by path (for callers without an
/// open handle, e.g. `msync`).
pub(crate) fn write_path(h: &HostRef, pos: u64, data: &[u8]) -> SysResult<usize> {
    h.writable()?;
    let mut o = OpenOptions::new();
    o.write(true).custom_flags(libc::O_NOFOLLOW);
    let f = h.mount.dir.open_with(&h.rel, &o).map_err(host_err)?;
    f.into_std().write_at(data, pos).map_err(host_err)
}

/// Reads at `pos` of a host file by path (for `mmap`); 0 on any error.
pub(crate) fn read_path(h: &HostRef, pos: u64, buf: &mut [u8]) -> usize {
    let mut o = OpenOptions::new();
    o.read(true).custom_flags(libc::O_NOFOLLOW);
    h.mount
        .dir
        .open_with(&h.rel, &o)
        .and_then(|f| f.into_std().read_at(buf, pos))
        .unwrap_or(0)
}

/// `truncate` of a host file.
pub(crate) fn truncate(h: &HostRef, len: u64) -> SysResult<()> {
    h.writable()?;
    let mut o = OpenOptions::new();
    o.write(true).custom_flags(libc::O_NOFOLLOW);
    let f = h.mount.dir.open_with(&h.rel, &o).map_err(host_err)?;
    f.set_len(len).map_err(host_err)
}

/// Host-side `utimensat` (`None` leaves a time unchanged); the final
/// component is never followed.
fn utimes(h: &HostRef, at: Option<Timespec>, mt: Option<Timespec>) -> SysResult<()> {
    h.writable()?;
    let conv = |t: Option<Timespec>| match t {
        Some(t) => libc::timespec {
            tv_sec: t.sec,
            tv_nsec: t.nsec as _,
        },
        None => libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        },
    };
    let times = [conv(at), conv(mt)];
    let (dir, cname) = match h.parent_and_name() {
        Ok(x) => x,
        // The mount root: its own handle.
        Err(_) => {
            let fd = std::os::fd::AsRawFd::as_raw_fd(&h.mount.dir);
            // SAFETY: `fd` is a live directory descriptor, `times` two timespecs.
            let r = unsafe { libc::futimens(fd, times.as_ptr()) };
            return if r == 0 {
                Ok(())
            } else {
                Err(host_err(io::Error::last_os_error()))
            };
        }
    };
    let c = std::ffi::CString::new(cname.as_bytes()).map_err(|_| Errno::EINVAL)?;
    let fd = std::os::fd::AsRawFd::as_raw_fd(&dir);
    // SAFETY: `fd` is a live directory descriptor opened inside the mount,
    // `c` a single path component, `times` two timespecs.
    let r = unsafe { libc::utimensat(fd, c.as_ptr(), times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) };
    if r == 0 {
        Ok(())
    } else {
        Err(host_err(io::Error::last_os_error()))
    }
}

fn chmod(h: &HostRef, mode: u32) -> SysResult<()> {
    h.writable()?;
    let perm = cap_std::fs::Permissions::from_mode(mode & 0o7777);
    if h.rel.as_os_str().is_empty() {
        h.mount.dir.set_permissions(".", perm)
    } else {
        h.mount.dir.set_permissions(&h.rel, perm)
    }
    .map_err(host_err)
}

impl Kernel {
    /// Mounts the host directory `host` at the absolute guest path `guest`
    /// (created, with its parents, if missing; it must be an empty MEMFS
    /// directory other than `/`). `read_only` makes every change `EROFS`.
    pub fn mount_host_dir(&mut self, guest: &str, host: &Path, read_only: bool) -> SysResult<()> {
        if !guest.starts_with('/') {
            return Err(Errno::EINVAL);
        }
        let dir = Dir::open_ambient_dir(host, cap_std::ambient_authority()).map_err(host_err)?;
        let meta = dir.dir_metadata().map_err(host_err)?;
        self.mkdir_p(guest)?;
        let cwd = self.cwd;
        let node =
            super::path::resolve(self.walk(), cwd, guest.as_bytes(), super::path::Follow::Yes)?;
        if node == self.fs.root()
            || self.fs.node(node).host.is_some()
            || self.fs.proc_fd == Some(node)
        {
            return Err(Errno::EBUSY);
        }
        if !self.fs.node(node).dir()?.entries.is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        let mount = Arc::new(HostMount {
            dir,
            read_only,
            dev: NEXT_DEV.fetch_add(1, Ordering::Relaxed),
        });
        let n = self.fs.node_mut(node);
        refresh(n, &meta);
        n.host = Some(HostRef {
            mount,
            rel: PathBuf::new(),
        });
        Ok(())
    }

    /// The mount a directory belongs to, by identity (`None`: MEMFS).
    fn mount_of(&self, dir: NodeId) -> Option<*const HostMount> {
        self.fs
            .node(dir)
            .host
            .as_ref()
            .map(|h| Arc::as_ptr(&h.mount))
    }

    /// `rename` where a host mount is involved: `None` when both sides are
    /// MEMFS (the caller goes on), else the result. `EXDEV` across a mount
    /// boundary, `EBUSY` for a mount root.
    pub(crate) fn host_rename(
        &mut self,
        odir: NodeId,
        oname: &[u8],
        old: NodeId,
        ndir: NodeId,
        nname: &[u8],
        new: Option<NodeId>,
    ) -> Option<SysResult<()>> {
        let is_root = |k: &Kernel, n: NodeId| {
            k.fs.node(n)
                .host
                .as_ref()
                .is_some_and(|h| h.rel.as_os_str().is_empty())
        };
        if is_root(self, old) || new.is_some_and(|n| is_root(self, n)) {
            return Some(Err(Errno::EBUSY));
        }
        let (om, nm) = (self.mount_of(odir), self.mount_of(ndir));
        if om.is_none() && nm.is_none() {
            return None;
        }
        if om != nm {
            return Some(Err(Errno::EXDEV));
        }
        Some((|| {
            let oh = self.fs.node(odir).host.clone().ok_or(Errno::EINVAL)?;
            let nh = self.fs.node(ndir).host.clone().ok_or(Errno::EINVAL)?;
            oh.writable()?;
            oh.mount
                .dir
                .rename(oh.child(oname).rel, &nh.mount.dir, nh.child(nname).rel)
                .map_err(host_err)?;
            let now = self.now();
            forget(&mut self.fs, odir, oname, now);
            forget(&mut self.fs, ndir, nname, now);
            Ok(())
        })())
    }

    /// `chmod` of a node: the host's for host nodes. `Ok(false)` for MEMFS.
    pub(crate) fn host_chmod(&mut self, n: NodeId, mode: u32) -> SysResult<bool> {
        match self.fs.node(n).host.clone() {
            Some(h) => chmod(&h, mode).map(|_| true),
            None => Ok(false),
        }
    }

    /// `utimensat` of a host node (no-op for MEMFS nodes).
    pub(crate) fn host_utimes(
        &mut self,
        n: NodeId,
        at: Option<Timespec>,
        mt: Option<Timespec>,
    ) -> SysResult<()> {
        match self.fs.node(n).host.clone() {
            Some(h) if at.is_some() || mt.is_some() => utimes(&h, at, mt),
            _ => Ok(()),
        }
    }

    /// `EROFS` if `n` is on a read-only mount (for `access(W_OK)`).
    pub(crate) fn host_writable(&self, n: NodeId) -> SysResult<()> {
        match &self.fs.node(n).host {
            Some(h) => h.writable(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{G, kernel};
    use super::*;
    use std::fs;

    /// A scratch host tree: `base/secret`, and `base/mnt` (mounted) with
    /// `hello.txt`, `sub/x`, and symlinks `abs` (host-absolute path of
    /// `secret`), `rel` (`../secret`), `ok` (`hello.txt`).
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Self {
            let base = std::env::temp_dir()
                .join(format!("pyodide-test-hostfs-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&base);
            fs::create_dir_all(base.join("mnt/sub")).unwrap();
            fs::write(base.join("secret"), b"TOP SECRET").unwrap();
            fs::write(base.join("mnt/hello.txt"), b"hello host\n").unwrap();
            fs::write(base.join("mnt/sub/x"), b"x").unwrap();
            std::os::unix::fs::symlink(base.join("secret"), base.join("mnt/abs")).unwrap();
            std::os::unix::fs::symlink("../secret", base.join("mnt/rel")).unwrap();
            std::os::unix::fs::symlink("hello.txt", base.join("mnt/ok")).unwrap();
            Scratch(base)
        }
        fn mnt(&self) -> PathBuf {
            self.0.join("mnt")
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    const EROFS: i32 = -(Errno::EROFS.0 as i32);
    const ENOENT: i32 = -(Errno::ENOENT.0 as i32);

    #[test]
    fn reads_stats_and_lists() {
        let s = Scratch::new("read");
        let (mut k, mut m) = kernel();
        k.mount_host_dir("/mnt/data", &s.mnt(), false).unwrap();
        let mut g = G::new(&mut k, &mut m);
        let fd = g.open("/mnt/data/hello.txt", O_RDONLY, 0);
        assert!(fd >= 0, "{fd}");
        assert_eq!(g.read(fd, 100).unwrap(), b"hello host\n");
        assert_eq!(g.seek(fd, 0, SEEK_END).unwrap(), 11);
        let st = g.fstat(fd).unwrap();
        assert_eq!((st.size, st.mode & S_IFMT), (11, S_IFREG));
        assert_eq!(g.close(fd), 0);
        let root = g.stat("/mnt/data", true).unwrap();
        let memfs = g.stat("/mnt", true).unwrap();
        assert_eq!(root.mode & S_IFMT, S_IFDIR);
        assert_ne!(root.dev, memfs.dev);
        // A symlink inside the mount, followed in the guest namespace.
        let fd = g.open("/mnt/data/ok", O_RDONLY, 0);
        assert_eq!(g.read(fd, 100).unwrap(), b"hello host\n");
        g.close(fd);
        assert_eq!(
            g.stat("/mnt/data/ok", false).unwrap().mode & S_IFMT,
            S_IFLNK
        );
        let fd = g.open("/mnt/data", O_RDONLY | O_DIRECTORY, 0);
        let mut names: Vec<String> = g
            .getdents(fd, 4096)
            .unwrap()
            .into_iter()
            .map(|e| e.0)
            .collect();
        names.sort();
        assert_eq!(names, [".", "..", "abs", "hello.txt", "ok", "rel", "sub"]);
        g.close(fd);
        // The host changes under the guest: seen at the next lookup.
        fs::write(s.mnt().join("late"), b"new").unwrap();
        assert_eq!(g.stat("/mnt/data/late", true).unwrap().size, 3);
        fs::remove_file(s.mnt().join("late")).unwrap();
        assert_eq!(g.stat("/mnt/data/late", true).unwrap_err(), ENOENT);
    }

    #[test]
    fn writes_reach_the_host() {
        let s = Scratch::new("rw");
        let (mut k, mut m) = kernel();
        k.mount_host_dir("/data", &s.mnt(), false).unwrap();
        let mut g = G::new(&mut k, &mut m);
        let fd = g.open("/data/new.txt", O_WRONLY | O_CREAT | O_EXCL, 0o644);
        assert!(fd >= 0, "{fd}");
        assert_eq!(g.write(fd, b"from guest").unwrap(), 10);
        g.close(fd);
        assert_eq!(fs::read(s.mnt().join("new.txt")).unwrap(), b"from guest");
        let fd = g.open("/data/new.txt", O_WRONLY | O_APPEND, 0);
        g.write(fd, b"!").unwrap();
        g.close(fd);
        assert_eq!(fs::read(s.mnt().join("new.txt")).unwrap(), b"from guest!");
        assert_eq!(g.mkdir("/data/d", 0o755), 0);
        assert!(s.mnt().join("d").is_dir());
        assert_eq!(g.rename("/data/new.txt", "/data/d/moved"), 0);
        assert_eq!(fs::read(s.mnt().join("d/moved")).unwrap(), b"from guest!");
        assert_eq!(g.stat("/data/new.txt", true).unwrap_err(), ENOENT);
        assert_eq!(
            g.rename("/data/d/moved", "/tmp/out"),
            -(Errno::EXDEV.0 as i32)
        );
        assert_eq!(g.rename("/data", "/tmp/x"), -(Errno::EBUSY.0 as i32));
        assert_eq!(
            g.unlink("/data/d", AT_REMOVEDIR),
            -(Errno::ENOTEMPTY.0 as i32)
        );
        assert_eq!(g.unlink("/data/d/moved", 0), 0);
        assert_eq!(g.unlink("/data/d", AT_REMOVEDIR), 0);
        assert!(!s.mnt().join("d").exists());
        assert_eq!(g.symlink("/guest/path", "/data/ln"), 0);
        assert_eq!(
            fs::read_link(s.mnt().join("ln")).unwrap(),
            Path::new("/guest/path")
        );
        // A clone shares the mount.
        let mut k2 = g.k.clone();
        let mut m2 = vec![0u8; super::super::testutil::MEM];
        let mut g2 = G::new(&mut k2, &mut m2);
        assert_eq!(g2.stat("/data/hello.txt", true).unwrap().size, 11);
    }

    #[test]
    fn read_only_mounts_refuse_changes() {
        let s = Scratch::new("ro");
        let (mut k, mut m) = kernel();
        k.mount_host_dir("/ro", &s.mnt(), true).unwrap();
        let mut g = G::new(&mut k, &mut m);
        let fd = g.open("/ro/hello.txt", O_RDONLY, 0);
        assert!(fd >= 0);
        g.close(fd);
        assert_eq!(g.open("/ro/hello.txt", O_WRONLY, 0), EROFS);
        assert_eq!(g.open("/ro/hello.txt", O_RDWR, 0), EROFS);
        assert_eq!(g.open("/ro/new", O_WRONLY | O_CREAT, 0o644), EROFS);
        assert_eq!(g.mkdir("/ro/d", 0o755), EROFS);
        assert_eq!(g.unlink("/ro/hello.txt", 0), EROFS);
        assert_eq!(g.unlink("/ro/sub", AT_REMOVEDIR), EROFS);
        assert_eq!(g.rename("/ro/hello.txt", "/ro/h2"), EROFS);
        assert_eq!(g.symlink("x", "/ro/l"), EROFS);
        let p = g.b.cstr(g.m, "/ro/hello.txt");
        assert_eq!(g.k.sys_chmod(g.m, p, 0o600), EROFS);
        assert_eq!(g.k.sys_truncate64(g.m, p, 0), EROFS);
        assert_eq!(g.k.sys_utimensat(g.m, AT_FDCWD, p, 0, 0), EROFS);
        assert_eq!(
            fs::read(s.mnt().join("hello.txt")).unwrap(),
            b"hello host\n"
        );
        assert!(!s.mnt().join("new").exists());
    }

    #[test]
    fn setup_helpers_see_the_host() {
        let s = Scratch::new("setup");
        let (mut k, _m) = kernel();
        k.mount_host_dir("/data", &s.mnt(), false).unwrap();
        // Nothing below the mount is cached yet: the helpers ask the host.
        assert!(k.exists("/data/hello.txt"));
        assert!(k.exists("/data/sub/x"));
        assert!(!k.exists("/data/nope"));
        assert!(k.is_dir("/data/sub"));
        assert!(!k.is_dir("/data/hello.txt"));
        assert_eq!(
            k.list_dir("/data").unwrap(),
            ["abs", "hello.txt", "ok", "rel", "sub"]
        );
        assert_eq!(k.list_dir("/data/sub").unwrap(), ["x"]);
        assert_eq!(k.read_file("/data/hello.txt").unwrap(), b"hello host\n");
        assert_eq!(k.file_data("/data/ok").unwrap().as_slice(), b"hello host\n");
        assert_eq!(k.file_data("/data/sub").unwrap_err(), Errno::EISDIR);
        // Host-side changes are seen at once.
        fs::write(s.mnt().join("sub/y"), b"yy").unwrap();
        assert_eq!(k.list_dir("/data/sub").unwrap(), ["x", "y"]);
        assert_eq!(k.read_file("/data/sub/y").unwrap(), b"yy");
        fs::remove_file(s.mnt().join("sub/y")).unwrap();
        assert!(!k.exists("/data/sub/y"));
        k.chdir("/data/sub").unwrap();
        assert_eq!(k.read_file("x").unwrap(), b"x");
    }

    #[test]
    fn shared_mappings_write_back_to_the_host() {
        let s = Scratch::new("mmap");
        let (mut k, mut m) = kernel();
        k.mount_host_dir("/data", &s.mnt(), false).unwrap();
        let mut g = G::new(&mut k, &mut m);
        let fd = g.open("/data/hello.txt", O_RDWR, 0);
        assert!(fd >= 0, "{fd}");
        let prot = PROT_WRITE | 1;
        let mut map = g.k.mmap_read(fd, 16, prot, MAP_SHARED, 0).unwrap();
        assert_eq!(&map[..11], b"hello host\n");
        assert_eq!(&map[11..], [0; 5]);
        map[..5].copy_from_slice(b"HELLO");
        map[12] = b'!'; // past EOF: dropped
        g.k.msync_write(fd, 0, &map, MAP_SHARED).unwrap();
        assert_eq!(
            fs::read(s.mnt().join("hello.txt")).unwrap(),
            b"HELLO host\n"
        );
        // munmap of a shared writable mapping writes back too.
        let addr = g.b.bytes(g.m, b"J");
        assert_eq!(
            g.k.munmap_js(g.m, addr as i32, 1, prot, MAP_SHARED, fd, 6),
            0
        );
        assert_eq!(
            fs::read(s.mnt().join("hello.txt")).unwrap(),
            b"HELLO Jost\n"
        );
        // A private mapping is never written.
        g.k.msync_write(fd, 0, b"zzzz", MAP_PRIVATE).unwrap();
        assert_eq!(
            fs::read(s.mnt().join("hello.txt")).unwrap(),
            b"HELLO Jost\n"
        );
        // The mapping follows the file through a rename.
        assert_eq!(g.rename("/data/hello.txt", "/data/moved"), 0);
        g.k.msync_write(fd, 0, b"h", MAP_SHARED).unwrap();
        assert_eq!(fs::read(s.mnt().join("moved")).unwrap(), b"hELLO Jost\n");
        g.close(fd);
    }

    #[test]
    fn sizes_come_from_the_host() {
        let s = Scratch::new("sizes");
        let (mut k, mut m) = kernel();
        k.mount_host_dir("/data", &s.mnt(), false).unwrap();
        let mut g = G::new(&mut k, &mut m);
        let fd = g.open("/data/hello.txt", O_RDWR, 0);
        let out = g.b.alloc(g.m, 4);
        let fionread = |g: &mut G, fd: i32| {
            let ptr = g.b.alloc(g.m, 4);
            super::super::testutil::wr_i32(g.m, ptr, out as i32);
            assert_eq!(g.k.sys_ioctl(g.m, fd, FIONREAD, ptr as i32), 0);
            super::super::testutil::rd_i32(g.m, out)
        };
        assert_eq!(fionread(&mut g, fd), 11);
        g.read(fd, 6).unwrap();
        assert_eq!(fionread(&mut g, fd), 5);
        fs::write(s.mnt().join("hello.txt"), b"hello host, longer\n").unwrap();
        assert_eq!(fionread(&mut g, fd), 13);
        // fallocate grows the host file; never shrinks it.
        assert_eq!(g.k.sys_fallocate(g.m, fd, 0, 0, 100), 0);
        assert_eq!(fs::metadata(s.mnt().join("hello.txt")).unwrap().len(), 100);
        assert_eq!(g.k.sys_fallocate(g.m, fd, 0, 0, 10), 0);
        assert_eq!(fs::metadata(s.mnt().join("hello.txt")).unwrap().len(), 100);
        // ftruncate goes through the handle, wherever the file went.
        assert_eq!(g.rename("/data/hello.txt", "/data/sub/h"), 0);
        assert_eq!(g.k.sys_ftruncate64(g.m, fd, 3), 0);
        assert_eq!(fs::read(s.mnt().join("sub/h")).unwrap(), b"hel");
        g.close(fd);
        // Read-only mounts refuse fallocate.
        let (mut k2, mut m2) = kernel();
        k2.mount_host_dir("/ro", &s.mnt(), true).unwrap();
        let mut g2 = G::new(&mut k2, &mut m2);
        let fd = g2.open("/ro/sub/x", O_RDONLY, 0);
        assert_eq!(
            g2.k.sys_fallocate(g2.m, fd, 0, 0, 100),
            -(Errno::EBADF.0 as i32)
        );
    }

    #[test]
    fn open_removed_files_keep_their_size() {
        let s = Scratch::new("unlinked");
        let (mut k, mut m) = kernel();
        k.mount_host_dir("/data", &s.mnt(), false).unwrap();
        let mut g = G::new(&mut k, &mut m);
        // Removed by the guest.
        let fd = g.open("/data/hello.txt", O_RDONLY, 0);
        let before = g.fstat(fd).unwrap();
        assert_eq!(g.unlink("/data/hello.txt", 0), 0);
        let st = g.fstat(fd).unwrap();
        assert_eq!((st.size, st.ino, st.dev), (11, before.ino, before.dev));
        assert_eq!(st.nlink, 0);
        assert_eq!(g.read(fd, 100).unwrap(), b"hello host\n");
        g.close(fd);
        // Removed on the host, behind the guest's back.
        let fd = g.open("/data/sub/x", O_RDWR, 0);
        fs::remove_file(s.mnt().join("sub/x")).unwrap();
        g.write(fd, b"abc").unwrap();
        assert_eq!(g.fstat(fd).unwrap().size, 3);
        let p = g.b.cstr(g.m, "");
        let buf = g.b.alloc(g.m, 96);
        assert_eq!(
            g.k.sys_newfstatat(g.m, fd, p, buf as i32, AT_EMPTY_PATH as i32),
            0
        );
        assert_eq!(g.parse_stat(buf).size, 3);
        g.close(fd);
    }

    #[test]
    fn nothing_outside_the_mount_is_reachable() {
        let s = Scratch::new("escape");
        let (mut k, mut m) = kernel();
        k.mount_host_dir("/data", &s.mnt(), false).unwrap();
        let mut g = G::new(&mut k, &mut m);
        // `..` at the mount root is the guest's `/`.
        let fd = g.open("/data/..", O_RDONLY | O_DIRECTORY, 0);
        let names: Vec<String> = g
            .getdents(fd, 4096)
            .unwrap()
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert!(names.contains(&"dev".to_string()), "{names:?}");
        assert!(!names.contains(&"secret".to_string()), "{names:?}");
        assert_eq!(g.stat("/data/../secret", true).unwrap_err(), ENOENT);
        assert_eq!(g.stat("/data/sub/../../secret", true).unwrap_err(), ENOENT);
        // Symlinks resolve in the guest: neither reaches the host's secret.
        assert_eq!(g.open("/data/abs", O_RDONLY, 0), ENOENT);
        assert_eq!(g.open("/data/rel", O_RDONLY, 0), ENOENT);
        // Once the guest has a /secret, `rel` finds that one.
        g.k.write_file("/secret", &b"guest"[..]).unwrap();
        let fd = g.open("/data/rel", O_RDONLY, 0);
        assert_eq!(g.read(fd, 100).unwrap(), b"guest");
        // The host layer itself refuses escapes even if asked directly.
        let data = path::resolve(&mut g.k.fs, g.k.cwd, b"/data", path::Follow::Yes).unwrap();
        let h = g.k.fs.node(data).host.clone().unwrap();
        assert!(h.child(b"..").lstat().is_err());
        assert!(h.mount.dir.open("rel").is_err());
        assert!(h.mount.dir.open("abs").is_err());
    }
}
