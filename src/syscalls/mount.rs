//! The host side of a host-directory mount (`--mount HOST:GUEST[:ro]`):
//! a `cap_std::fs::Dir` handle on the host directory, paths relative to
//! it ([`HostRef`]), open host files ([`HostFile`]), and every host call
//! the guest can cause, with host errors mapped to guest errnos.
//!
//! Every host access goes through `cap-std`, which refuses any path that
//! would leave the mounted directory (`..`, absolute symlinks, symlinks
//! out), so even a racing host-side symlink swap cannot escape. Calls that
//! must not follow a final symlink say so (`O_NOFOLLOW`,
//! `AT_SYMLINK_NOFOLLOW`). Read-only mounts answer `EROFS` to every change.
//! This file knows nothing of the guest's tree; `hostfs.rs` maps it there.

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use cap_std::fs::{Dir, MetadataExt, OpenOptions, OpenOptionsExt, PermissionsExt};

use super::clock::Timespec;
use super::consts::*;
use super::errno::{Errno, SysResult, from_io};
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

/// A host file or directory: its mount (shared through an `Arc`, so a
/// cloned kernel shares it) and its path relative to the mount root
/// (empty for the root itself).
#[derive(Clone, Debug)]
pub struct HostRef {
    mount: Arc<HostMount>,
    rel: PathBuf,
}

/// An open host file (shared by `dup`s and kernel clones).
#[derive(Debug)]
pub struct HostFile(std::fs::File);

/// What kind of file the host has at a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// A symbolic link (not followed).
    Symlink,
    /// Anything else (FIFO, socket, device).
    Other,
}

/// The host's metadata of a path, as a node caches it.
#[derive(Clone, Copy, Debug)]
pub struct HostMeta {
    /// What it is.
    pub kind: HostKind,
    /// `st_ino`.
    pub ino: u64,
    /// `st_mode`.
    pub mode: u32,
    /// `st_uid`.
    pub uid: u32,
    /// `st_gid`.
    pub gid: u32,
    /// `st_atim`.
    pub atime: Timespec,
    /// `st_mtim`.
    pub mtime: Timespec,
    /// `st_ctim`.
    pub ctime: Timespec,
}

/// `st_dev` of the next mount.
static NEXT_DEV: AtomicU32 = AtomicU32::new(0x100);

/// Maps a host error, by its Linux errno where there is one.
pub(crate) fn host_err(e: io::Error) -> Errno {
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

fn meta_of(m: &cap_std::fs::Metadata) -> HostMeta {
    let ft = m.file_type();
    let kind = if ft.is_dir() {
        HostKind::Dir
    } else if ft.is_file() {
        HostKind::File
    } else if ft.is_symlink() {
        HostKind::Symlink
    } else {
        HostKind::Other
    };
    HostMeta {
        kind,
        ino: m.ino(),
        mode: m.mode(),
        uid: m.uid(),
        gid: m.gid(),
        atime: ts(m.atime(), m.atime_nsec()),
        mtime: ts(m.mtime(), m.mtime_nsec()),
        ctime: ts(m.ctime(), m.ctime_nsec()),
    }
}

impl HostRef {
    /// Opens the host directory `host` as a new mount (with its own
    /// `st_dev`): the reference to its root and the root's metadata.
    pub fn mount(host: &Path, read_only: bool) -> SysResult<(HostRef, HostMeta)> {
        let dir = Dir::open_ambient_dir(host, cap_std::ambient_authority()).map_err(host_err)?;
        let meta = dir.dir_metadata().map_err(host_err)?;
        let mount = Arc::new(HostMount {
            dir,
            read_only,
            dev: NEXT_DEV.fetch_add(1, Ordering::Relaxed),
        });
        let root = HostRef {
            mount,
            rel: PathBuf::new(),
        };
        Ok((root, meta_of(&meta)))
    }

    /// `lstat` through the sandbox (the root: the mount's own handle).
    pub(crate) fn lstat(&self) -> io::Result<cap_std::fs::Metadata> {
        if self.is_root() {
            self.mount.dir.dir_metadata()
        } else {
            self.mount.dir.symlink_metadata(&self.rel)
        }
    }

    /// The host's metadata (not following a final symlink).
    pub fn meta(&self) -> SysResult<HostMeta> {
        self.lstat().map(|m| meta_of(&m)).map_err(host_err)
    }

    /// The host's `lstat`, as the guest sees it.
    pub fn stat(&self) -> SysResult<Stat> {
        let m = self.lstat().map_err(host_err)?;
        Ok(host_stat!(self.mount.dev, m))
    }

    /// `EROFS` on a read-only mount.
    pub fn writable(&self) -> SysResult<()> {
        if self.mount.read_only {
            Err(Errno::EROFS)
        } else {
            Ok(())
        }
    }

    /// Whether this is the mount's root directory.
    pub fn is_root(&self) -> bool {
        self.rel.as_os_str().is_empty()
    }

    /// Whether `other` is on the same mount.
    pub fn same_mount(&self, other: &HostRef) -> bool {
        Arc::ptr_eq(&self.mount, &other.mount)
    }

    /// The entry `name` of this directory.
    pub fn child(&self, name: &[u8]) -> HostRef {
        HostRef {
            mount: self.mount.clone(),
            rel: self.rel.join(name_path(name)),
        }
    }

    /// The mount's directory handle (for tests of the sandbox itself).
    #[cfg(test)]
    pub(crate) fn dir(&self) -> &Dir {
        &self.mount.dir
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

    /// The target of the symlink here, as stored (a guest path).
    pub fn read_link(&self) -> SysResult<Vec<u8>> {
        let t = self
            .mount
            .dir
            .read_link_contents(&self.rel)
            .map_err(host_err)?;
        Ok(t.as_os_str().as_bytes().to_vec())
    }

    fn open_nofollow(&self, read: bool, write: bool) -> SysResult<std::fs::File> {
        let mut o = OpenOptions::new();
        o.read(read).write(write).custom_flags(libc::O_NOFOLLOW);
        let f = self.mount.dir.open_with(&self.rel, &o).map_err(host_err)?;
        Ok(f.into_std())
    }

    /// Opens the regular file here for a guest `open` with `flags` (access
    /// mode only; `EROFS` for writing on a read-only mount).
    pub fn open(&self, flags: u32) -> SysResult<HostFile> {
        let acc = flags & O_ACCMODE;
        self.open_nofollow(acc != O_WRONLY, acc != O_RDONLY)
            .map(HostFile)
    }

    /// Creates a new empty regular file here (`O_CREAT | O_EXCL`).
    pub fn create_file(&self, perm: u32) -> SysResult<()> {
        self.writable()?;
        let mut o = OpenOptions::new();
        o.write(true).create_new(true).mode(perm & 0o7777);
        self.mount
            .dir
            .open_with(&self.rel, &o)
            .map(drop)
            .map_err(host_err)
    }

    /// `mkdir` here.
    pub fn mkdir(&self, perm: u32) -> SysResult<()> {
        self.writable()?;
        let mut b = cap_std::fs::DirBuilder::new();
        cap_std::fs::DirBuilderExt::mode(&mut b, perm & 0o7777);
        self.mount
            .dir
            .create_dir_with(&self.rel, &b)
            .map_err(host_err)
    }

    /// `unlink` (or, with `is_dir`, `rmdir`) here.
    pub fn remove(&self, is_dir: bool) -> SysResult<()> {
        self.writable()?;
        if is_dir {
            self.mount.dir.remove_dir(&self.rel)
        } else {
            self.mount.dir.remove_file(&self.rel)
        }
        .map_err(host_err)
    }

    /// Makes a symlink here pointing at `target` (stored as given: it is a
    /// guest path).
    pub fn symlink(&self, target: &[u8]) -> SysResult<()> {
        self.writable()?;
        self.mount
            .dir
            .symlink_contents(name_path(target), &self.rel)
            .map_err(host_err)
    }

    /// `rename` to `to` (on the same mount; the caller checks).
    pub fn rename(&self, to: &HostRef) -> SysResult<()> {
        self.writable()?;
        self.mount
            .dir
            .rename(&self.rel, &to.mount.dir, &to.rel)
            .map_err(host_err)
    }

    /// `chmod` here.
    pub fn chmod(&self, mode: u32) -> SysResult<()> {
        self.writable()?;
        let perm = cap_std::fs::Permissions::from_mode(mode & 0o7777);
        if self.is_root() {
            self.mount.dir.set_permissions(".", perm)
        } else {
            self.mount.dir.set_permissions(&self.rel, perm)
        }
        .map_err(host_err)
    }

    /// `utimensat` here (`None` leaves a time unchanged); the final
    /// component is never followed.
    pub fn set_times(&self, at: Option<Timespec>, mt: Option<Timespec>) -> SysResult<()> {
        self.writable()?;
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
        let (dir, cname) = match self.parent_and_name() {
            Ok(x) => x,
            // The mount root: its own handle.
            Err(_) => {
                let fd = std::os::fd::AsRawFd::as_raw_fd(&self.mount.dir);
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
        let r =
            unsafe { libc::utimensat(fd, c.as_ptr(), times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) };
        if r == 0 {
            Ok(())
        } else {
            Err(host_err(io::Error::last_os_error()))
        }
    }

    /// `truncate` of the regular file here.
    pub fn truncate(&self, len: u64) -> SysResult<()> {
        self.writable()?;
        self.open_nofollow(false, true)?
            .set_len(len)
            .map_err(host_err)
    }

    /// Writes `data` at `pos` of the file here (for callers without an
    /// open handle).
    pub fn write_at(&self, pos: u64, data: &[u8]) -> SysResult<usize> {
        self.writable()?;
        self.open_nofollow(false, true)?
            .write_at(data, pos)
            .map_err(host_err)
    }

    /// The whole contents of the file here.
    pub fn read_all(&self) -> SysResult<Vec<u8>> {
        let mut f = self.open_nofollow(true, false)?;
        let mut out = Vec::new();
        io::Read::read_to_end(&mut f, &mut out).map_err(host_err)?;
        Ok(out)
    }

    /// The entries of the directory here (without `.`/`..`), sorted by
    /// name: `(name, d_ino, d_type)`.
    pub fn read_dir(&self) -> SysResult<Vec<(Vec<u8>, u64, u8)>> {
        let it = if self.is_root() {
            self.mount.dir.entries()
        } else {
            self.mount.dir.read_dir(&self.rel)
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
            out.push((
                e.file_name().as_bytes().to_vec(),
                std::os::unix::fs::DirEntryExt::ino(&e),
                dtype,
            ));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// The `fstat` of an open file on this mount, from its handle.
    pub fn fstat(&self, f: &HostFile) -> SysResult<Stat> {
        let m = f.0.metadata().map_err(host_err)?;
        use std::os::unix::fs::MetadataExt as _;
        Ok(host_stat!(self.mount.dev, m))
    }
}

impl HostFile {
    /// `pread`.
    pub fn read_at(&self, pos: u64, buf: &mut [u8]) -> SysResult<usize> {
        self.0.read_at(buf, pos).map_err(host_err)
    }
    /// `pwrite`.
    pub fn write_at(&self, pos: u64, data: &[u8]) -> SysResult<usize> {
        self.0.write_at(data, pos).map_err(host_err)
    }
    /// The file's current size.
    pub fn len(&self) -> SysResult<u64> {
        self.0.metadata().map(|m| m.len()).map_err(host_err)
    }
    /// `ftruncate`.
    pub fn set_len(&self, len: u64) -> SysResult<()> {
        self.0.set_len(len).map_err(host_err)
    }
}
