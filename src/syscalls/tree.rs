//! The inode tree: one arena of nodes forming one directory tree, shared by
//! every file system (MEMFS, host mounts, `/proc`).
//!
//! Every node has exactly one parent (the guest has no `link()`), so a
//! directory knows its parent and name, which gives `getcwd` and `..`.
//! An inode is freed when it is neither linked in a directory nor open.
//! Which file system serves a node is its [`Backend`]; this file keeps the
//! structure (entries, links, open counts, paths) and never asks a backend
//! anything: `vfs.rs` does the dispatching.

use std::collections::BTreeMap;

use super::budget::Budget;
use super::clock::Timespec;
use super::consts::*;
use super::device::DeviceKind;
use super::errno::{Errno, SysResult};
use super::filedata::Contents;
use super::mount::HostRef;
use super::slab::Slab;

/// Index of an inode in the arena (not its `st_ino`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId(pub(crate) u32);

/// A directory's entries and its place in the tree.
#[derive(Clone, Debug)]
pub struct DirData {
    /// Entries by name (`.` and `..` are implicit). In a host directory,
    /// only the entries looked up so far (a cache).
    pub entries: BTreeMap<Vec<u8>, NodeId>,
    /// The parent directory (the root is its own parent).
    pub parent: NodeId,
    /// This directory's name in its parent.
    pub name: Vec<u8>,
}

impl DirData {
    /// An empty directory (its parent and name are set when it is linked).
    pub fn empty() -> Self {
        DirData {
            entries: BTreeMap::new(),
            parent: NodeId(0),
            name: Vec::new(),
        }
    }
}

/// What an inode is.
#[derive(Clone, Debug)]
pub enum NodeKind {
    /// A regular file (the data is MEMFS's; empty for a host file, whose
    /// data stays on the host).
    File(Contents),
    /// A directory.
    Dir(DirData),
    /// A symbolic link and its target.
    Symlink(Vec<u8>),
    /// A character device.
    Device(DeviceKind),
    /// A FIFO or socket made by `mknod`: exists, cannot be opened usefully.
    Special,
    /// PROCFS: the entry for descriptor N in `/proc/self/fd` (the glue's
    /// mode-less fake node: not a directory, not followed as a symlink;
    /// `readlink` gives the descriptor's path, `stat` is `EPERM`, `open`
    /// is `EACCES`). See `procfs.rs`.
    FdLink(i32),
}

/// The file system that owns a node, to which `vfs.rs` hands its
/// operations (Emscripten: the `node_ops`/`stream_ops` of the node's
/// mount).
#[derive(Clone, Debug, Default)]
pub enum Backend {
    /// MEMFS: everything about the node is in the tree (devices included:
    /// their nodes are MEMFS's, their streams `device.rs`'s).
    #[default]
    Memory,
    /// HOSTFS (`--mount`): a host file or directory; the node caches it.
    Host(HostRef),
    /// PROCFS: `/proc/self/fd` and its entries.
    Proc,
}

/// One inode.
#[derive(Clone, Debug)]
pub struct Inode {
    /// `st_ino`.
    pub ino: u64,
    /// `st_mode` (type and permission bits).
    pub mode: u32,
    /// `st_uid`.
    pub uid: u32,
    /// `st_gid`.
    pub gid: u32,
    /// `st_rdev`.
    pub rdev: u32,
    /// Last access.
    pub atime: Timespec,
    /// Last modification.
    pub mtime: Timespec,
    /// Last status change.
    pub ctime: Timespec,
    /// Directory entries naming this inode (0 or 1).
    pub links: u32,
    /// Open file descriptions referring to it (or cwd references).
    pub open: u32,
    /// The payload.
    pub kind: NodeKind,
    /// The file system serving it.
    pub backend: Backend,
}

impl Inode {
    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, NodeKind::Dir(_))
    }
    /// The directory payload, or `ENOTDIR`.
    pub fn dir(&self) -> SysResult<&DirData> {
        match &self.kind {
            NodeKind::Dir(d) => Ok(d),
            _ => Err(Errno::ENOTDIR),
        }
    }
    /// The directory payload mutably, or `ENOTDIR`.
    pub fn dir_mut(&mut self) -> SysResult<&mut DirData> {
        match &mut self.kind {
            NodeKind::Dir(d) => Ok(d),
            _ => Err(Errno::ENOTDIR),
        }
    }
    /// The `d_type` of a directory entry for this node.
    pub fn dtype(&self) -> u8 {
        dtype_of(self.mode)
    }
    /// Emscripten's permission check: a permission is granted if any of
    /// the owner/group/other bits grants it (everyone is root-ish, but
    /// `chmod 000` still locks a file).
    pub fn permits(&self, r: bool, w: bool, x: bool) -> bool {
        !(r && self.mode & 0o444 == 0 || w && self.mode & 0o222 == 0 || x && self.mode & 0o111 == 0)
    }
}

/// The `d_type` for a file of mode `mode`.
pub fn dtype_of(mode: u32) -> u8 {
    match mode & S_IFMT {
        S_IFDIR => DT_DIR,
        S_IFREG => DT_REG,
        S_IFLNK => DT_LNK,
        S_IFCHR => DT_CHR,
        S_IFIFO => DT_FIFO,
        S_IFSOCK => DT_SOCK,
        _ => DT_UNKNOWN,
    }
}

/// One directory entry as `getdents64` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// The name.
    pub name: Vec<u8>,
    /// `d_ino`.
    pub ino: u64,
    /// `d_type`.
    pub dtype: u8,
}

/// The inode tree, and the budget its file data is charged to (so a node
/// that goes gives its bytes back).
#[derive(Clone, Debug)]
pub struct Tree {
    nodes: Slab<Inode>,
    next_ino: u64,
    root: NodeId,
    budget: Budget,
}

impl Tree {
    /// An empty tree: just `/` (mode 0777), its file data limited to
    /// `budget` bytes (`None`: unlimited).
    pub fn new(now: Timespec, budget: Option<u64>) -> Self {
        let mut t = Tree {
            nodes: Slab::default(),
            next_ino: 1,
            root: NodeId(0),
            budget: Budget::new(budget),
        };
        let root = t.alloc(S_IFDIR | 0o777, 0, now, NodeKind::Dir(DirData::empty()));
        t.root = root;
        if let Ok(d) = t.node_mut(root).dir_mut() {
            d.parent = root;
        }
        t.node_mut(root).links = 1;
        t
    }

    fn alloc(&mut self, mode: u32, rdev: u32, now: Timespec, kind: NodeKind) -> NodeId {
        let ino = self.alloc_ino();
        let id = self.nodes.insert(Inode {
            ino,
            mode,
            uid: 0,
            gid: 0,
            rdev,
            atime: now,
            mtime: now,
            ctime: now,
            links: 0,
            open: 0,
            kind,
            backend: Backend::Memory,
        });
        NodeId(id as u32)
    }

    /// Takes an inode number (for a new node, or an object outside the
    /// tree: pipes, sockets).
    pub fn alloc_ino(&mut self) -> u64 {
        let i = self.next_ino;
        self.next_ino += 1;
        i
    }

    /// Number of inode numbers handed out so far (for `statfs`).
    pub fn inode_count(&self) -> u64 {
        self.next_ino
    }

    /// The root directory.
    pub fn root(&self) -> NodeId {
        self.root
    }

    /// The live inodes with their arena indices, in index order.
    pub fn nodes(&self) -> impl Iterator<Item = (u32, &Inode)> {
        self.nodes.iter().map(|(k, n)| (k as u32, n))
    }

    /// The inode `id` (which must be live).
    pub fn node(&self, id: NodeId) -> &Inode {
        self.nodes.get(id.0 as usize).expect("dangling NodeId")
    }

    /// The inode `id`, mutably.
    pub fn node_mut(&mut self, id: NodeId) -> &mut Inode {
        self.nodes.get_mut(id.0 as usize).expect("dangling NodeId")
    }

    /// The inode `id` and the budget, to change its file data.
    pub(crate) fn node_and_budget(&mut self, id: NodeId) -> (&mut Inode, &mut Budget) {
        let n = self.nodes.get_mut(id.0 as usize).expect("dangling NodeId");
        (n, &mut self.budget)
    }

    /// The budget of the file data.
    pub(crate) fn budget(&self) -> &Budget {
        &self.budget
    }

    /// The budget of the file data, mutably.
    pub(crate) fn budget_mut(&mut self) -> &mut Budget {
        &mut self.budget
    }

    /// The parent of a directory (the root's parent is the root). For a
    /// non-directory, the root (never needed: callers go through dirs).
    pub fn parent(&self, id: NodeId) -> NodeId {
        match &self.node(id).kind {
            NodeKind::Dir(d) => d.parent,
            _ => self.root,
        }
    }

    /// Looks `name` up among the entries in the tree (for a host
    /// directory: the cached ones only).
    pub fn lookup_cached(&self, dir: NodeId, name: &[u8]) -> SysResult<NodeId> {
        let d = self.node(dir).dir()?;
        d.entries.get(name).copied().ok_or(Errno::ENOENT)
    }

    /// Creates `name` in `parent` (which must be a directory without that
    /// entry; callers check), served by MEMFS until the caller says
    /// otherwise. Returns the new node.
    pub fn create(
        &mut self,
        parent: NodeId,
        name: &[u8],
        mode: u32,
        rdev: u32,
        kind: NodeKind,
        now: Timespec,
    ) -> NodeId {
        let kind = match kind {
            NodeKind::Dir(_) => NodeKind::Dir(DirData {
                entries: BTreeMap::new(),
                parent,
                name: name.to_vec(),
            }),
            k => k,
        };
        let id = self.alloc(mode, rdev, now, kind);
        self.node_mut(id).links = 1;
        let p = self.node_mut(parent);
        p.mtime = now;
        p.ctime = now;
        if let Ok(d) = p.dir_mut() {
            d.entries.insert(name.to_vec(), id);
        }
        id
    }

    /// Removes the entry `name` from `parent`, freeing the node if nothing
    /// else holds it.
    pub fn remove_entry(&mut self, parent: NodeId, name: &[u8], now: Timespec) -> SysResult<()> {
        let p = self.node_mut(parent);
        let id = p.dir_mut()?.entries.remove(name).ok_or(Errno::ENOENT)?;
        p.mtime = now;
        p.ctime = now;
        let n = self.node_mut(id);
        n.links = n.links.saturating_sub(1);
        n.ctime = now;
        self.maybe_free(id);
        Ok(())
    }

    /// Moves the entry `old_name` of `old_dir` to `new_name` in `new_dir`,
    /// replacing (and dropping) what was there. Checks are the caller's.
    pub fn move_entry(
        &mut self,
        old_dir: NodeId,
        old_name: &[u8],
        new_dir: NodeId,
        new_name: &[u8],
        now: Timespec,
    ) -> SysResult<()> {
        if self.lookup_cached(new_dir, new_name).is_ok() {
            self.remove_entry(new_dir, new_name, now)?;
        }
        let id = {
            let p = self.node_mut(old_dir);
            let id = p.dir_mut()?.entries.remove(old_name).ok_or(Errno::ENOENT)?;
            p.mtime = now;
            p.ctime = now;
            id
        };
        {
            let p = self.node_mut(new_dir);
            p.dir_mut()?.entries.insert(new_name.to_vec(), id);
            p.mtime = now;
            p.ctime = now;
        }
        let n = self.node_mut(id);
        n.ctime = now;
        if let NodeKind::Dir(d) = &mut n.kind {
            d.parent = new_dir;
            d.name = new_name.to_vec();
        }
        Ok(())
    }

    /// One more open reference to `id`.
    pub fn retain(&mut self, id: NodeId) {
        self.node_mut(id).open += 1;
    }

    /// One open reference less; frees an unlinked, unreferenced node.
    pub fn release(&mut self, id: NodeId) {
        let n = self.node_mut(id);
        n.open = n.open.saturating_sub(1);
        self.maybe_free(id);
    }

    fn maybe_free(&mut self, id: NodeId) {
        let n = self.node(id);
        if n.links == 0
            && n.open == 0
            && id != self.root
            && let Some(Inode {
                kind: NodeKind::File(c),
                ..
            }) = self.nodes.remove(id.0 as usize)
        {
            self.budget.release(c.charged());
        }
    }

    /// Whether `id` is still linked in the tree.
    pub fn is_linked(&self, id: NodeId) -> bool {
        id == self.root || self.node(id).links > 0
    }

    /// True if `anc` is `id` or one of its ancestors (both directories).
    pub fn is_ancestor(&self, anc: NodeId, mut id: NodeId) -> bool {
        loop {
            if id == anc {
                return true;
            }
            if id == self.root {
                return false;
            }
            id = self.parent(id);
        }
    }

    /// The absolute path of a linked directory, or `None` if unlinked.
    pub fn dir_path(&self, mut id: NodeId) -> Option<Vec<u8>> {
        let mut parts: Vec<&[u8]> = Vec::new();
        while id != self.root {
            if !self.is_linked(id) {
                return None;
            }
            let d = self.node(id).dir().ok()?;
            parts.push(&d.name);
            id = d.parent;
        }
        if parts.is_empty() {
            return Some(b"/".to_vec());
        }
        let mut out = Vec::new();
        for p in parts.iter().rev() {
            out.push(b'/');
            out.extend_from_slice(p);
        }
        Some(out)
    }

    /// The canonical path of a node just resolved (`via`: the directory
    /// and name it was reached through), as `FS.getPath`; `fallback` when
    /// it is no longer reachable.
    pub fn node_path(&self, n: NodeId, via: Option<(NodeId, Vec<u8>)>, fallback: &[u8]) -> Vec<u8> {
        if self.node(n).is_dir() {
            return self.dir_path(n).unwrap_or_else(|| fallback.to_vec());
        }
        match via.and_then(|(d, name)| Some((self.dir_path(d)?, name))) {
            Some((mut p, name)) => {
                if p != b"/" {
                    p.push(b'/');
                }
                p.extend_from_slice(&name);
                p
            }
            None => fallback.to_vec(),
        }
    }

    /// Number of subdirectories of a directory (Linux's `st_nlink` would
    /// be 2 plus this; MEMFS reports 1).
    #[allow(dead_code)]
    pub fn subdir_count(&self, id: NodeId) -> u32 {
        match &self.node(id).kind {
            NodeKind::Dir(d) => d
                .entries
                .values()
                .filter(|c| self.node(**c).is_dir())
                .count() as u32,
            _ => 0,
        }
    }

    /// Whether `id` is a live node (for tests).
    #[cfg(test)]
    pub fn exists(&self, id: NodeId) -> bool {
        self.nodes.get(id.0 as usize).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Timespec {
        Timespec { sec: 1, nsec: 0 }
    }

    #[test]
    fn create_lookup_remove_free() {
        let mut fs = Tree::new(t(), None);
        let root = fs.root();
        let d = fs.create(
            root,
            b"d",
            S_IFDIR | 0o755,
            0,
            NodeKind::Dir(DirData::empty()),
            t(),
        );
        let f = fs.create(
            d,
            b"f",
            S_IFREG | 0o644,
            0,
            NodeKind::File(Contents::default()),
            t(),
        );
        assert_eq!(fs.lookup_cached(d, b"f"), Ok(f));
        assert_eq!(fs.lookup_cached(f, b"x"), Err(Errno::ENOTDIR));
        assert_eq!(fs.dir_path(d).unwrap(), b"/d");
        assert_eq!(fs.subdir_count(root), 1);
        fs.retain(f);
        fs.remove_entry(d, b"f", t()).unwrap();
        assert_eq!(fs.lookup_cached(d, b"f"), Err(Errno::ENOENT));
        // Still open: readable.
        assert_eq!(fs.node(f).links, 0);
        fs.release(f);
        assert!(!fs.exists(f));
    }
}
