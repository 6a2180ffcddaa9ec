//! HOSTFS: how a host directory mounted into the guest (`--mount
//! HOST:GUEST[:ro]`) appears in the guest's tree. The host calls
//! themselves (sandboxed by `cap-std`) are `mount.rs`'s.
//!
//! A mount turns a MEMFS directory into the root of a host-backed subtree.
//! Host-backed nodes live in the same arena as MEMFS nodes and use the same
//! [`NodeKind`]s (`Dir`, `File`, `Symlink`, `Special`); what makes them
//! host-backed is their [`Backend::Host`], a [`HostRef`]: the mount and
//! the path relative to it. `vfs.rs` hands the operations on such nodes
//! to the functions here, with that `HostRef`.
//!
//! - Nodes are materialized lazily: [`lookup`] in a host directory asks
//!   the host (`lstat` of that one entry) and creates, refreshes or drops
//!   the cached child node. A host directory's `entries` are only a cache;
//!   listings ([`readdir`]) come from the host.
//! - Path resolution stays in the guest namespace: the walk (`path.rs`)
//!   handles `.`, `..` and symlinks itself, so `..` at the mount root is the
//!   MEMFS parent, and a host symlink's target is a *guest* path (an
//!   absolute target starts at the guest's `/`). The host itself never
//!   resolves more than one component below a directory it was given.
//! - An open regular file holds a host file handle (`HostFile`, in the
//!   open file description); reads and writes go to it, closing the last
//!   descriptor closes it.
//! - Read-only mounts answer `EROFS` to every change.
//! - Each mount has its own `st_dev`; `st_ino` is the host's.

use std::path::Path;
use std::sync::Arc;

use super::clock::Timespec;
use super::consts::*;
use super::errno::{Errno, SysResult};
use super::filedata::Contents;
use super::mount::{HostFile, HostKind, HostMeta, HostRef};
use super::stat::Stat;
use super::tree::{Backend, DirData, DirEntry, Inode, NodeId, NodeKind, Tree};

/// Copies the host's metadata into a cached node.
fn refresh(n: &mut Inode, m: &HostMeta) {
    n.ino = m.ino;
    n.mode = m.mode;
    n.uid = m.uid;
    n.gid = m.gid;
    n.atime = m.atime;
    n.mtime = m.mtime;
    n.ctime = m.ctime;
}

fn same_type(kind: &NodeKind, k: HostKind) -> bool {
    match kind {
        NodeKind::Dir(_) => k == HostKind::Dir,
        NodeKind::File(_) => k == HostKind::File,
        NodeKind::Symlink(_) => k == HostKind::Symlink,
        _ => k == HostKind::Other,
    }
}

/// Drops the cached entry `name` of `dir` (and, for a directory, its
/// cached subtree). Nodes still open stay alive, unlinked.
fn forget(tree: &mut Tree, dir: NodeId, name: &[u8], now: Timespec) {
    let Ok(child) = tree.lookup_cached(dir, name) else {
        return;
    };
    if let Ok(d) = tree.node(child).dir() {
        let names: Vec<Vec<u8>> = d.entries.keys().cloned().collect();
        for n in names {
            forget(tree, child, &n, now);
        }
    }
    let _ = tree.remove_entry(dir, name, now);
}

/// A host directory opened to be mounted.
pub(crate) struct NewMount {
    root: HostRef,
    meta: HostMeta,
}

/// Opens the host directory `host` to mount it (`read_only`: every change
/// below it is `EROFS`).
pub(crate) fn open_mount(host: &Path, read_only: bool) -> SysResult<NewMount> {
    let (root, meta) = HostRef::mount(host, read_only)?;
    Ok(NewMount { root, meta })
}

/// Makes the MEMFS directory `node` the root of mount `m`. The caller
/// checks the directory may be a mount point.
pub(crate) fn mount(tree: &mut Tree, node: NodeId, m: NewMount) {
    let n = tree.node_mut(node);
    refresh(n, &m.meta);
    n.backend = Backend::Host(m.root);
}

/// Looks `name` up in the host directory `dir` (behind `h`): asks the host
/// and returns the (new or refreshed) cached node.
pub(crate) fn lookup(tree: &mut Tree, dir: NodeId, h: &HostRef, name: &[u8]) -> SysResult<NodeId> {
    tree.node(dir).dir()?;
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') {
        return Err(Errno::ENOENT);
    }
    let now = Timespec::default();
    let child = h.child(name);
    let meta = match child.meta() {
        Ok(m) => m,
        Err(e) => {
            if matches!(e, Errno::ENOENT | Errno::ENOTDIR) {
                forget(tree, dir, name, now);
            }
            return Err(e);
        }
    };
    let target = if meta.kind == HostKind::Symlink {
        Some(child.read_link()?)
    } else {
        None
    };
    if let Ok(id) = tree.lookup_cached(dir, name) {
        if same_type(&tree.node(id).kind, meta.kind) {
            let n = tree.node_mut(id);
            refresh(n, &meta);
            if let (Some(t), NodeKind::Symlink(old)) = (target, &mut n.kind) {
                *old = t;
            }
            return Ok(id);
        }
        forget(tree, dir, name, now);
    }
    let kind = match (meta.kind, target) {
        (HostKind::Dir, _) => NodeKind::Dir(DirData::empty()),
        (_, Some(t)) => NodeKind::Symlink(t),
        (HostKind::File, _) => NodeKind::File(Contents::default()),
        _ => NodeKind::Special,
    };
    let id = tree.create(dir, name, meta.mode, 0, kind, now);
    let n = tree.node_mut(id);
    refresh(n, &meta);
    n.backend = Backend::Host(child);
    Ok(id)
}

/// Creates the regular file `name` in the host directory `dir`.
pub(crate) fn create_file(
    tree: &mut Tree,
    dir: NodeId,
    h: &HostRef,
    name: &[u8],
    perm: u32,
) -> SysResult<NodeId> {
    h.child(name).create_file(perm)?;
    lookup(tree, dir, h, name)
}

/// `mkdir` in a host directory.
pub(crate) fn mkdir(
    tree: &mut Tree,
    dir: NodeId,
    h: &HostRef,
    name: &[u8],
    perm: u32,
) -> SysResult<()> {
    h.child(name).mkdir(perm)?;
    lookup(tree, dir, h, name).map(|_| ())
}

/// `unlink` (or `rmdir` with `is_dir`) in a host directory.
pub(crate) fn remove(
    tree: &mut Tree,
    dir: NodeId,
    h: &HostRef,
    name: &[u8],
    is_dir: bool,
) -> SysResult<()> {
    h.child(name).remove(is_dir)?;
    forget(tree, dir, name, Timespec::default());
    Ok(())
}

/// `symlink(target, dir/name)` in a host directory; the target is stored
/// as given (it is a guest path).
pub(crate) fn symlink(
    tree: &mut Tree,
    dir: NodeId,
    h: &HostRef,
    name: &[u8],
    target: &[u8],
) -> SysResult<()> {
    h.child(name).symlink(target)?;
    lookup(tree, dir, h, name).map(|_| ())
}

/// `rename` of `odir/oname` to `ndir/nname`, both directories on the mount
/// of `oh`/`nh` (the caller checks it is the same one).
pub(crate) fn rename(
    tree: &mut Tree,
    (odir, oh, oname): (NodeId, &HostRef, &[u8]),
    (ndir, nh, nname): (NodeId, &HostRef, &[u8]),
    now: Timespec,
) -> SysResult<()> {
    oh.child(oname).rename(&nh.child(nname))?;
    forget(tree, odir, oname, now);
    forget(tree, ndir, nname, now);
    Ok(())
}

/// The live `stat` of the host node `id` (`None` when it is no longer
/// linked, or gone on the host: its cached fields serve).
pub(crate) fn getattr(tree: &Tree, id: NodeId, h: &HostRef) -> Option<Stat> {
    if !tree.is_linked(id) {
        return None;
    }
    h.stat().ok()
}

/// The `fstat` of an open host file, from its handle: live even when the
/// file was since removed or renamed (on either side). `None` if the host
/// cannot answer.
pub(crate) fn fgetattr(h: &HostRef, f: &HostFile) -> Option<Stat> {
    h.fstat(f).ok()
}

/// The entries of a host directory for `getdents64` (without `.`/`..`).
pub(crate) fn readdir(h: &HostRef) -> SysResult<Vec<DirEntry>> {
    Ok(h.read_dir()?
        .into_iter()
        .map(|(name, ino, dtype)| DirEntry { name, ino, dtype })
        .collect())
}

/// What a guest `open` with `flags` of the host node (of kind `kind`)
/// holds: the host file handle of a regular file, `None` for directories
/// and `O_PATH`. `EROFS` for any writing open on a read-only mount.
pub(crate) fn open(kind: &NodeKind, h: &HostRef, flags: u32) -> SysResult<Option<Arc<HostFile>>> {
    let acc = flags & O_ACCMODE;
    if acc != O_RDONLY || flags & O_TRUNC != 0 {
        h.writable()?;
    }
    if flags & O_PATH != 0 || !matches!(kind, NodeKind::File(_)) {
        return Ok(None);
    }
    h.open(flags).map(|f| Some(Arc::new(f)))
}

#[cfg(test)]
mod tests {
    use super::super::path;
    use super::super::testutil::{G, kernel};
    use super::*;
    use std::fs;
    use std::path::PathBuf;

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
        let mut map =
            g.k.mmap_read(fd, 16, prot, MAP_SHARED, 0)
                .unwrap()
                .into_bytes();
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
        let cwd = g.k.cwd;
        let data = path::resolve(g.k.walk(), cwd, b"/data", path::Follow::Yes).unwrap();
        let Backend::Host(h) = g.k.fs.node(data).backend.clone() else {
            panic!("/data is not a host directory")
        };
        assert!(h.child(b"..").lstat().is_err());
        assert!(h.dir().open("rel").is_err());
        assert!(h.dir().open("abs").is_err());
    }
}
