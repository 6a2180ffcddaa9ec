//! MEMFS: the in-memory file system, Emscripten's default. Its nodes
//! ([`Backend::Memory`](super::tree::Backend)) keep everything in the
//! tree: directory entries, symlink targets, file data. `vfs.rs` hands the
//! operations on such nodes to the functions here.
//!
//! As MEMFS's `getattr`: `st_nlink` is always 1, `st_blocks` is
//! `ceil(size / 4096)`, a directory's size is 4096, and times have
//! millisecond precision (JS `Date`s; `utimensat` truncates to the ms).
//!
//! File data is sparse and charged to the kernel's budget (see
//! `filedata.rs`): holes cost nothing, the guest's bytes count.

use super::clock::Timespec;
use super::consts::*;
use super::errno::{Errno, SysResult};
use super::filedata::{Contents, FileData};
use super::stat::Stat;
use super::tree::{DirData, Inode, NodeId, NodeKind, Tree};

/// The largest file size (beyond it, `EFBIG`).
pub(crate) const MAX_FILE_SIZE: u64 = (isize::MAX as u64) / 2;

/// Creates a node `name` of `mode` in `dir` (whose entry must not exist).
pub(crate) fn create(
    tree: &mut Tree,
    dir: NodeId,
    name: &[u8],
    mode: u32,
    rdev: u32,
    now: Timespec,
) -> SysResult<NodeId> {
    let kind = match mode & S_IFMT {
        S_IFREG => NodeKind::File(Contents::default()),
        S_IFDIR => NodeKind::Dir(DirData::empty()),
        S_IFSOCK | S_IFIFO => NodeKind::Special,
        _ => return Err(Errno::EINVAL),
    };
    Ok(tree.create(dir, name, mode, rdev, kind, now))
}

/// Makes the symlink `name` in `dir` pointing at `target`.
pub(crate) fn symlink(tree: &mut Tree, dir: NodeId, name: &[u8], target: &[u8], now: Timespec) {
    tree.create(
        dir,
        name,
        S_IFLNK | 0o777,
        0,
        NodeKind::Symlink(target.to_vec()),
        now,
    );
}

/// `unlink`/`rmdir` of the entry `name` of `dir` (checked by the caller).
pub(crate) fn remove(tree: &mut Tree, dir: NodeId, name: &[u8], now: Timespec) -> SysResult<()> {
    tree.remove_entry(dir, name, now)
}

/// `rmdir`'s own check: `ENOTEMPTY` unless directory `n` is empty.
pub(crate) fn check_rmdir(tree: &Tree, n: NodeId) -> SysResult<()> {
    if tree.node(n).dir()?.entries.is_empty() {
        Ok(())
    } else {
        Err(Errno::ENOTEMPTY)
    }
}

/// `rename`'s checks of moving `old` (from directory `odir`) to `ndir`,
/// replacing `new` if there is one: Linux's rules.
pub(crate) fn check_rename(
    tree: &Tree,
    old: NodeId,
    odir: NodeId,
    ndir: NodeId,
    new: Option<NodeId>,
) -> SysResult<()> {
    let old_is_dir = tree.node(old).is_dir();
    if old_is_dir && tree.is_ancestor(old, ndir) {
        return Err(Errno::EINVAL);
    }
    if let Some(new) = new {
        let nn = tree.node(new);
        match (old_is_dir, nn.is_dir()) {
            (true, false) => return Err(Errno::ENOTDIR),
            (false, true) => return Err(Errno::EISDIR),
            (true, true) if !nn.dir()?.entries.is_empty() => return Err(Errno::ENOTEMPTY),
            _ => {}
        }
        if tree.is_ancestor(new, odir) {
            return Err(Errno::ENOTEMPTY);
        }
    }
    Ok(())
}

/// `st_size` as MEMFS reports it.
pub(crate) fn size(n: &Inode) -> u64 {
    match &n.kind {
        NodeKind::File(f) => f.len(),
        NodeKind::Dir(_) => 4096,
        NodeKind::Symlink(t) => t.len() as u64,
        _ => 0,
    }
}

/// MEMFS's `getattr`.
pub(crate) fn getattr(n: &Inode) -> Stat {
    let size = size(n);
    let is_dev = matches!(n.kind, NodeKind::Device(_));
    let ms = |t: Timespec| Timespec {
        sec: t.sec,
        nsec: t.nsec / 1_000_000 * 1_000_000,
    };
    Stat {
        dev: if is_dev { n.ino as u32 } else { 1 },
        ino: n.ino,
        mode: n.mode,
        // MEMFS: nlink is 1 for every node (there are no hard links).
        nlink: 1,
        uid: n.uid,
        gid: n.gid,
        rdev: n.rdev,
        size: size.min(i64::MAX as u64) as i64,
        blksize: 4096,
        blocks: size.div_ceil(4096).min(i32::MAX as u64) as i32,
        atime: ms(n.atime),
        mtime: ms(n.mtime),
        ctime: ms(n.ctime),
    }
}

/// Reads from a regular file at `pos` (holes read as zeros); returns
/// bytes copied (0 for anything else).
pub(crate) fn read_at(n: &Inode, pos: u64, buf: &mut [u8]) -> usize {
    match &n.kind {
        NodeKind::File(f) => f.read_at(pos, buf),
        _ => 0,
    }
}

/// The mapped host file that holds all of a regular file's bytes from
/// `pos` to the end of a `len`-byte mapping, and the offset of `pos` in it
/// (see [`Contents::host_file_at`](super::filedata::Contents::host_file_at)).
pub(crate) fn host_file_at(
    n: &Inode,
    pos: u64,
    len: u64,
) -> Option<(std::sync::Arc<crate::host_bytes::MappedFile>, u64)> {
    match &n.kind {
        NodeKind::File(f) => f.host_file_at(pos, len),
        _ => None,
    }
}

/// Writes into the regular file `id` at `pos` (a gap before it stays a
/// hole). The new bytes are charged: `ENOSPC` over the budget, `EFBIG`
/// past [`MAX_FILE_SIZE`].
pub(crate) fn write_at(
    tree: &mut Tree,
    id: NodeId,
    pos: u64,
    data: &[u8],
    now: Timespec,
) -> SysResult<usize> {
    if data.is_empty() {
        return Ok(0);
    }
    let end = pos.checked_add(data.len() as u64).ok_or(Errno::EFBIG)?;
    if end > MAX_FILE_SIZE {
        return Err(Errno::EFBIG);
    }
    let (n, budget) = tree.node_and_budget(id);
    let NodeKind::File(f) = &mut n.kind else {
        return Err(Errno::EINVAL);
    };
    let put = f.write_at(pos, data, budget)?;
    n.mtime = now;
    n.ctime = now;
    Ok(put)
}

/// Sets the length of the regular file `id`: growing makes a hole (free),
/// shrinking gives the bytes back.
pub(crate) fn truncate(tree: &mut Tree, id: NodeId, len: u64, now: Timespec) -> SysResult<()> {
    if len > MAX_FILE_SIZE {
        return Err(Errno::EFBIG);
    }
    let (n, budget) = tree.node_and_budget(id);
    match &mut n.kind {
        NodeKind::File(f) => {
            if f.len() != len {
                f.set_len(len, budget)?;
            }
            n.mtime = now;
            n.ctime = now;
            Ok(())
        }
        NodeKind::Dir(_) => Err(Errno::EISDIR),
        _ => Err(Errno::EINVAL),
    }
}

/// `fallocate` of `[off, off + len)` of the regular file `id`: the holes
/// there are stored (and charged: `ENOSPC` over the budget), the file is
/// at least that long.
pub(crate) fn allocate(
    tree: &mut Tree,
    id: NodeId,
    off: u64,
    len: u64,
    now: Timespec,
) -> SysResult<()> {
    let end = off.checked_add(len).ok_or(Errno::EFBIG)?;
    if end > MAX_FILE_SIZE {
        return Err(Errno::EFBIG);
    }
    let (n, budget) = tree.node_and_budget(id);
    let NodeKind::File(f) = &mut n.kind else {
        return Err(Errno::ENODEV);
    };
    let grows = f.len() < end;
    f.allocate(off, len, budget)?;
    if grows {
        n.mtime = now;
        n.ctime = now;
    }
    Ok(())
}

/// Replaces the contents of the regular file `id` with data the host
/// hands in (not charged; what it replaces is given back).
pub(crate) fn set_data(
    tree: &mut Tree,
    id: NodeId,
    data: FileData,
    now: Timespec,
) -> SysResult<()> {
    let (n, budget) = tree.node_and_budget(id);
    let NodeKind::File(f) = &mut n.kind else {
        return Err(Errno::EINVAL);
    };
    budget.release(f.charged());
    *f = Contents::from(data);
    n.mtime = now;
    n.ctime = now;
    Ok(())
}

/// A regular file's contents (shared, not copied, when stored in one
/// piece; `ENOMEM` if a sparse file is too big to hand out).
pub(crate) fn data(n: &Inode) -> SysResult<FileData> {
    match &n.kind {
        NodeKind::File(f) => f.to_data(),
        NodeKind::Dir(_) => Err(Errno::EISDIR),
        _ => Err(Errno::EINVAL),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn t() -> Timespec {
        Timespec { sec: 1, nsec: 0 }
    }

    #[test]
    fn write_makes_holes() {
        let mut fs = Tree::new(t(), None);
        let root = fs.root();
        let f = fs.create(
            root,
            b"f",
            S_IFREG | 0o644,
            0,
            NodeKind::File(FileData::from(Arc::<[u8]>::from(&b"abc"[..])).into()),
            t(),
        );
        write_at(&mut fs, f, 5, b"xy", t()).unwrap();
        let mut buf = [9u8; 10];
        assert_eq!(read_at(fs.node(f), 0, &mut buf), 7);
        assert_eq!(&buf[..7], b"abc\0\0xy");
        write_at(&mut fs, f, 1, b"Z", t()).unwrap();
        assert_eq!(read_at(fs.node(f), 0, &mut buf), 7);
        assert_eq!(&buf[..7], b"aZc\0\0xy");
        truncate(&mut fs, f, 2, t()).unwrap();
        assert_eq!(size(fs.node(f)), 2);
    }
}
