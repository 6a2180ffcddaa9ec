//! PROCFS: `/proc/self/fd` as Emscripten's glue has it
//! (`FS.createSpecialDirectories`): a directory (mode `0777`) whose
//! entries are the open descriptors. Its nodes have [`Backend::Proc`];
//! `vfs.rs` hands their operations here (or refuses them).
//!
//! - Listing it (`getdents64`) gives one entry per open descriptor, named
//!   by its number, taken at the first call (so the descriptor of the
//!   listing itself is included); no `.` and `..`; `d_ino` is `fd + 1`,
//!   `d_type` is `DT_REG` (the glue's fake nodes have no mode).
//! - Looking a name up converts it as JS's `+name` does (`"03"`, `"3.0"`,
//!   `"0x3"` all mean 3); anything that is not an open descriptor is
//!   `EBADF`. The entry ([`NodeKind::FdLink`]) has no mode: it is not a
//!   directory (`ENOTDIR` below it) and is not followed as a symlink, so
//!   `stat`/`lstat` of it are `EPERM` (the glue's nodes have no `getattr`),
//!   `open` is `EACCES` (mode 0 grants nothing), and `readlink` gives the
//!   descriptor's path: the path it was opened by (canonical, as of the
//!   open: a later rename does not change it), `pipe[N]` for pipe ends and
//!   `socket[N]` for sockets (numbered from 0 in creation order, as
//!   PIPEFS/SOCKFS name their nodes).
//! - The directory itself: `stat`/`fstat` are `EPERM`; it can be opened,
//!   listed and made the cwd; nothing can be created, removed, renamed,
//!   `chmod`ed, `chown`ed or `utime`d in or on it (`EPERM`; `rmdir` and
//!   `rename` of it are `EBUSY`, it being a mount point in the glue).

use super::clock::Timespec;
use super::consts::*;
use super::errno::{Errno, SysResult};
use super::fd::FdTable;
use super::tree::{Backend, DirEntry, NodeId, NodeKind, Tree};

/// The names PIPEFS and SOCKFS give their streams (`pipe[N]`,
/// `socket[N]`), counted per kernel.
#[derive(Clone, Debug, Default)]
pub(crate) struct StreamNames {
    pipes: u64,
    sockets: u64,
}

impl StreamNames {
    /// The next `pipe[N]`.
    pub fn pipe(&mut self) -> Vec<u8> {
        let n = self.pipes;
        self.pipes += 1;
        format!("pipe[{n}]").into_bytes()
    }
    /// The next `socket[N]`.
    pub fn socket(&mut self) -> Vec<u8> {
        let n = self.sockets;
        self.sockets += 1;
        format!("socket[{n}]").into_bytes()
    }
}

/// JS's `+name` as a descriptor number: surrounding whitespace ignored,
/// decimal (with sign, fraction, exponent) or `0x`/`0o`/`0b`; `None`
/// unless it is a non-negative integer in range.
fn fd_number(name: &[u8]) -> Option<i32> {
    let s = std::str::from_utf8(name).ok()?.trim();
    let v = if s.is_empty() {
        0.0
    } else if let Some(r) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(r, 16).ok()? as f64
    } else if let Some(r) = s.strip_prefix("0o").or_else(|| s.strip_prefix("0O")) {
        u64::from_str_radix(r, 8).ok()? as f64
    } else if let Some(r) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        u64::from_str_radix(r, 2).ok()? as f64
    } else if s
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
    {
        s.parse::<f64>().ok()?
    } else {
        return None;
    };
    (v.fract() == 0.0 && (0.0..=i32::MAX as f64).contains(&v)).then_some(v as i32)
}

/// Makes the (empty, MEMFS) directory `dir` the `/proc/self/fd` mount.
pub(crate) fn mount(tree: &mut Tree, dir: NodeId) {
    tree.node_mut(dir).backend = Backend::Proc;
}

/// Looks `name` up in `/proc/self/fd` (`dir`): the entry node of that
/// open descriptor (made on first use, then reused), or `EBADF`.
pub(crate) fn lookup(
    tree: &mut Tree,
    fdt: &FdTable,
    dir: NodeId,
    name: &[u8],
) -> SysResult<NodeId> {
    let fd = fd_number(name).ok_or(Errno::EBADF)?;
    fdt.entry(fd)?;
    let key = fd.to_string().into_bytes();
    if let Ok(id) = tree.lookup_cached(dir, &key)
        && matches!(tree.node(id).kind, NodeKind::FdLink(f) if f == fd)
    {
        return Ok(id);
    }
    let _ = tree.remove_entry(dir, &key, Timespec::default());
    let (mtime, ctime) = (tree.node(dir).mtime, tree.node(dir).ctime);
    let id = tree.create(dir, &key, 0, 0, NodeKind::FdLink(fd), Timespec::default());
    tree.node_mut(id).backend = Backend::Proc;
    let d = tree.node_mut(dir);
    (d.mtime, d.ctime) = (mtime, ctime);
    Ok(id)
}

/// The listing of `/proc/self/fd`: the open descriptors.
pub(crate) fn readdir(fdt: &FdTable) -> Vec<DirEntry> {
    fdt.open_fds()
        .into_iter()
        .map(|fd| DirEntry {
            name: fd.to_string().into_bytes(),
            ino: fd as u64 + 1,
            dtype: DT_REG,
        })
        .collect()
}

/// Whether an entry of an earlier listing is still there (its descriptor
/// still open).
pub(crate) fn listed(fdt: &FdTable, e: &DirEntry) -> bool {
    fdt.entry(e.ino as i32 - 1).is_ok()
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{G, kernel};
    use super::*;

    const EPERM: i32 = -(Errno::EPERM.0 as i32);
    const EBADF: i32 = -(Errno::EBADF.0 as i32);
    const EACCES: i32 = -(Errno::EACCES.0 as i32);
    const ENOTDIR: i32 = -(Errno::ENOTDIR.0 as i32);

    fn readlink(g: &mut G, p: &str) -> Result<String, i32> {
        let path = g.b.cstr(g.m, p);
        let buf = g.b.alloc(g.m, 256);
        let r = g.k.sys_readlinkat(g.m, AT_FDCWD, path, buf as i32, 256);
        if r < 0 {
            return Err(r);
        }
        Ok(String::from_utf8(g.m[buf as usize..buf as usize + r as usize].to_vec()).unwrap())
    }

    fn names(g: &mut G, p: &str) -> Vec<String> {
        let fd = g.open(p, O_RDONLY | O_DIRECTORY, 0);
        assert!(fd >= 0, "{fd}");
        let v = g
            .getdents(fd, 4096)
            .unwrap()
            .into_iter()
            .map(|e| e.0)
            .collect();
        g.close(fd);
        v
    }

    #[test]
    fn numbers_as_js() {
        for (s, v) in [
            ("3", Some(3)),
            ("03", Some(3)),
            (" 3 ", Some(3)),
            ("3.0", Some(3)),
            ("+3", Some(3)),
            ("-0", Some(0)),
            ("0x10", Some(16)),
            ("1e1", Some(10)),
            ("3.5", None),
            ("-1", None),
            ("x", None),
            ("inf", None),
            ("99999999999", None),
        ] {
            assert_eq!(fd_number(s.as_bytes()), v, "{s}");
        }
    }

    #[test]
    fn lists_stats_and_reads_links() {
        let (mut k, mut m) = kernel();
        let mut g = G::new(&mut k, &mut m);
        assert_eq!(g.stat("/proc/self/fd", true).unwrap_err(), EPERM);
        assert_eq!(g.stat("/proc/self/fd", false).unwrap_err(), EPERM);
        assert!(g.stat("/proc/self", true).is_ok());
        assert_eq!(names(&mut g, "/proc/self/fd"), ["0", "1", "2", "3"]);
        let fd = g.open("/tmp", O_RDONLY, 0);
        assert_eq!(fd, 3);
        assert_eq!(readlink(&mut g, "/proc/self/fd/3").unwrap(), "/tmp");
        assert_eq!(readlink(&mut g, "/proc/self/fd/03").unwrap(), "/tmp");
        assert_eq!(readlink(&mut g, "/proc/self/fd/0").unwrap(), "/dev/stdin");
        assert_eq!(readlink(&mut g, "/proc/self/fd/2").unwrap(), "/dev/stderr");
        assert_eq!(readlink(&mut g, "/proc/self/fd/9").unwrap_err(), EBADF);
        assert_eq!(readlink(&mut g, "/proc/self/fd/x").unwrap_err(), EBADF);
        assert_eq!(
            readlink(&mut g, "/proc/self/fd").unwrap_err(),
            -(Errno::EINVAL.0 as i32)
        );
        assert_eq!(g.stat("/proc/self/fd/3", true).unwrap_err(), EPERM);
        assert_eq!(g.stat("/proc/self/fd/3", false).unwrap_err(), EPERM);
        assert_eq!(g.stat("/proc/self/fd/7", true).unwrap_err(), EBADF);
        assert_eq!(g.stat("/proc/self/fd/3/x", true).unwrap_err(), ENOTDIR);
        assert_eq!(g.open("/proc/self/fd/3", O_RDONLY, 0), EACCES);
        assert_eq!(g.open("/proc/self/fd/3", O_WRONLY, 0), EACCES);
        assert_eq!(
            g.open("/proc/self/fd/3", O_RDONLY | O_DIRECTORY, 0),
            ENOTDIR
        );
        g.close(fd);
        assert_eq!(g.stat("/proc/self/fd/3", true).unwrap_err(), EBADF);
        // The directory itself opens; fstat of it is EPERM.
        let d = g.open("/proc/self/fd", O_RDONLY | O_DIRECTORY, 0);
        assert_eq!(g.fstat(d).unwrap_err(), EPERM);
        g.close(d);
        // Paths are taken at open (canonical), not updated by rename.
        g.k.write_file("/tmp/a", &b"x"[..]).unwrap();
        g.k.symlink("/tmp/a", "/tmp/l").unwrap();
        let f = g.open("/tmp/l", O_RDONLY, 0);
        assert_eq!(
            readlink(&mut g, &format!("/proc/self/fd/{f}")).unwrap(),
            "/tmp/a"
        );
        assert_eq!(g.rename("/tmp/a", "/tmp/b"), 0);
        assert_eq!(
            readlink(&mut g, &format!("/proc/self/fd/{f}")).unwrap(),
            "/tmp/a"
        );
        let c = g.open("/tmp/new", O_WRONLY | O_CREAT, 0o644);
        assert_eq!(
            readlink(&mut g, &format!("/proc/self/fd/{c}")).unwrap(),
            "/tmp/new"
        );
        let r = g.open("/", O_RDONLY, 0);
        assert_eq!(
            readlink(&mut g, &format!("/proc/self/fd/{r}")).unwrap(),
            "/"
        );
    }

    #[test]
    fn pipes_and_sockets_are_named() {
        let (mut k, mut m) = kernel();
        let mut g = G::new(&mut k, &mut m);
        let fds = g.b.alloc(g.m, 8);
        assert_eq!(g.k.sys_pipe(g.m, fds as i32), 0);
        let (r, w) = (
            super::super::testutil::rd_i32(g.m, fds),
            super::super::testutil::rd_i32(g.m, fds + 4),
        );
        assert_eq!(
            readlink(&mut g, &format!("/proc/self/fd/{r}")).unwrap(),
            "pipe[0]"
        );
        assert_eq!(
            readlink(&mut g, &format!("/proc/self/fd/{w}")).unwrap(),
            "pipe[1]"
        );
        let s = g.k.sys_socket(g.m, 2, 1, 0, 0, 0, 0);
        assert!(s >= 0, "{s}");
        assert_eq!(
            readlink(&mut g, &format!("/proc/self/fd/{s}")).unwrap(),
            "socket[0]"
        );
        let d = g.k.sys_dup(g.m, r);
        assert_eq!(
            readlink(&mut g, &format!("/proc/self/fd/{d}")).unwrap(),
            "pipe[0]"
        );
    }

    #[test]
    fn nothing_changes_in_it() {
        let (mut k, mut m) = kernel();
        let mut g = G::new(&mut k, &mut m);
        assert_eq!(g.mkdir("/proc/self/fd/d", 0o755), EPERM);
        assert_eq!(
            g.open("/proc/self/fd/new", O_WRONLY | O_CREAT, 0o644),
            EBADF
        );
        assert_eq!(g.open("/proc/self/fd/9", O_WRONLY | O_CREAT, 0o644), EBADF);
        assert_eq!(
            g.open("/proc/self/fd/1", O_WRONLY | O_CREAT | O_EXCL, 0o644),
            -(Errno::EEXIST.0 as i32)
        );
        assert_eq!(g.symlink("/tmp", "/proc/self/fd/l"), EPERM);
        assert_eq!(g.unlink("/proc/self/fd/1", 0), EPERM);
        assert_eq!(g.unlink("/proc/self/fd/1", AT_REMOVEDIR), ENOTDIR);
        assert_eq!(
            g.unlink("/proc/self/fd", AT_REMOVEDIR),
            -(Errno::EBUSY.0 as i32)
        );
        assert_eq!(
            g.rename("/proc/self/fd", "/tmp/fd"),
            -(Errno::EBUSY.0 as i32)
        );
        let p = g.b.cstr(g.m, "/proc/self/fd");
        assert_eq!(g.k.sys_chmod(g.m, p, 0o700), EPERM);
        assert_eq!(g.k.sys_utimensat(g.m, AT_FDCWD, p, 0, 0), EPERM);
        assert_eq!(g.k.sys_fchownat(g.m, AT_FDCWD, p, 0, 0, 0), EPERM);
        assert_eq!(g.k.list_dir("/proc/self/fd").unwrap(), ["0", "1", "2"]);
        // It can be the cwd; relative names are descriptors.
        assert_eq!(g.k.sys_chdir(g.m, p), 0);
        let one = g.b.cstr(g.m, "1");
        let buf = g.b.alloc(g.m, 64);
        assert_eq!(
            g.k.sys_readlinkat(g.m, AT_FDCWD, one, buf as i32, 64),
            "/dev/stdout".len() as i32
        );
    }
}
