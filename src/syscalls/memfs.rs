//! The in-memory file system: an arena of inodes forming one tree.
//!
//! Every node has exactly one parent (the guest has no `link()`), so a
//! directory knows its parent and name, which gives `getcwd` and `..`.
//! An inode is freed when it is neither linked in a directory nor open.
//! New node kinds (a host-backed directory for `--mount`) slot into
//! [`NodeKind`]; the tree operations below are the only places that match
//! on it.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::clock::Timespec;
use super::consts::*;
use super::errno::{Errno, SysResult};
use super::slab::Slab;

/// Index of an inode in the arena (not its `st_ino`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId(pub(crate) u32);

/// Contents of a regular file. `Shared` holds data handed in by the host
/// (e.g. the stdlib zip) without copying; the first write turns it into an
/// `Owned` copy. `Owned` is itself copy-on-write across kernel clones.
#[derive(Clone, Debug)]
pub enum FileData {
    /// Immutable bytes shared with the host.
    Shared(Arc<[u8]>),
    /// Bytes owned by this file (shared with snapshots until written).
    Owned(Arc<Vec<u8>>),
}

impl Default for FileData {
    fn default() -> Self {
        FileData::Owned(Arc::new(Vec::new()))
    }
}

impl FileData {
    /// The file's bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            FileData::Shared(a) => a,
            FileData::Owned(v) => v,
        }
    }
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The bytes, made private and writable.
    pub fn make_mut(&mut self) -> &mut Vec<u8> {
        if let FileData::Shared(a) = self {
            *self = FileData::Owned(Arc::new(a.to_vec()));
        }
        match self {
            FileData::Owned(v) => Arc::make_mut(v),
            FileData::Shared(_) => unreachable!(),
        }
    }
}

impl From<Vec<u8>> for FileData {
    fn from(v: Vec<u8>) -> Self {
        FileData::Owned(Arc::new(v))
    }
}
impl From<&[u8]> for FileData {
    fn from(v: &[u8]) -> Self {
        FileData::Owned(Arc::new(v.to_vec()))
    }
}
impl From<Arc<[u8]>> for FileData {
    fn from(v: Arc<[u8]>) -> Self {
        FileData::Shared(v)
    }
}

/// The character devices of `/dev`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    /// `/dev/null`.
    Null,
    /// `/dev/zero` (Emscripten 5 creates none; kept for a host that adds it).
    #[allow(dead_code)]
    Zero,
    /// `/dev/random` and `/dev/urandom`.
    Random,
    /// `/dev/tty`: Emscripten's default TTY (stdin in, stdout out).
    Tty,
    /// `/dev/tty1`: Emscripten's second TTY (writes to stderr).
    Tty1,
    /// `/dev/stdin`: Pyodide's stdin device.
    Stdin,
    /// `/dev/stdout`: Pyodide's stdout device.
    Stdout,
    /// `/dev/stderr`: Pyodide's stderr device.
    Stderr,
}

/// A directory's entries and its place in the tree.
#[derive(Clone, Debug)]
pub struct DirData {
    /// Entries by name (`.` and `..` are implicit).
    pub entries: BTreeMap<Vec<u8>, NodeId>,
    /// The parent directory (the root is its own parent).
    pub parent: NodeId,
    /// This directory's name in its parent.
    pub name: Vec<u8>,
}

/// What an inode is.
#[derive(Clone, Debug)]
pub enum NodeKind {
    /// A regular file.
    File(FileData),
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
    /// HOSTFS: the host file or directory behind this node (`--mount`).
    pub host: Option<super::hostfs::HostRef>,
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
    /// `st_size` as MEMFS reports it.
    pub fn size(&self) -> u64 {
        match &self.kind {
            NodeKind::File(f) => f.len() as u64,
            NodeKind::Dir(_) => 4096,
            NodeKind::Symlink(t) => t.len() as u64,
            _ => 0,
        }
    }
    /// The `d_type` of a directory entry for this node.
    pub fn dtype(&self) -> u8 {
        match self.mode & S_IFMT {
            S_IFDIR => DT_DIR,
            S_IFREG => DT_REG,
            S_IFLNK => DT_LNK,
            S_IFCHR => DT_CHR,
            S_IFIFO => DT_FIFO,
            S_IFSOCK => DT_SOCK,
            _ => DT_UNKNOWN,
        }
    }
    /// Emscripten's permission check: a permission is granted if any of
    /// the owner/group/other bits grants it (everyone is root-ish, but
    /// `chmod 000` still locks a file).
    pub fn permits(&self, r: bool, w: bool, x: bool) -> bool {
        !(r && self.mode & 0o444 == 0 || w && self.mode & 0o222 == 0 || x && self.mode & 0o111 == 0)
    }
}

/// The inode tree.
#[derive(Clone, Debug)]
pub struct Fs {
    nodes: Slab<Inode>,
    next_ino: u64,
    root: NodeId,
    /// PROCFS: the `/proc/self/fd` directory, whose entries are the open
    /// descriptors (set by `Kernel::new`).
    pub(crate) proc_fd: Option<NodeId>,
}

impl Fs {
    /// An empty tree: just `/` (mode 0777).
    pub fn new(now: Timespec) -> Self {
        let mut fs = Fs {
            nodes: Slab::default(),
            next_ino: 1,
            root: NodeId(0),
            proc_fd: None,
        };
        let root = fs.alloc(
            S_IFDIR | 0o777,
            0,
            now,
            NodeKind::Dir(DirData {
                entries: BTreeMap::new(),
                parent: NodeId(0),
                name: Vec::new(),
            }),
        );
        fs.root = root;
        if let Ok(d) = fs.node_mut(root).dir_mut() {
            d.parent = root;
        }
        fs.node_mut(root).links = 1;
        fs
    }

    fn alloc(&mut self, mode: u32, rdev: u32, now: Timespec, kind: NodeKind) -> NodeId {
        let ino = self.next_ino;
        self.next_ino += 1;
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
            host: None,
        });
        NodeId(id as u32)
    }

    /// Takes an inode number for an object outside the tree (pipes, sockets).
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

    /// The inode `id` (which must be live).
    pub fn node(&self, id: NodeId) -> &Inode {
        self.nodes.get(id.0 as usize).expect("dangling NodeId")
    }

    /// The inode `id`, mutably.
    pub fn node_mut(&mut self, id: NodeId) -> &mut Inode {
        self.nodes.get_mut(id.0 as usize).expect("dangling NodeId")
    }

    /// The parent of a directory (the root's parent is the root). For a
    /// non-directory, the root (never needed: callers go through dirs).
    pub fn parent(&self, id: NodeId) -> NodeId {
        match &self.node(id).kind {
            NodeKind::Dir(d) => d.parent,
            _ => self.root,
        }
    }

    /// Looks `name` up in directory `dir`; in a host directory, asks the
    /// host and updates the cached node (HOSTFS).
    pub fn lookup(&mut self, dir: NodeId, name: &[u8]) -> SysResult<NodeId> {
        if self.node(dir).host.is_some() {
            return super::hostfs::lookup(self, dir, name);
        }
        self.lookup_cached(dir, name)
    }

    /// Looks `name` up among the nodes already in the tree (a host
    /// directory's cached entries only).
    pub fn lookup_cached(&self, dir: NodeId, name: &[u8]) -> SysResult<NodeId> {
        let d = self.node(dir).dir()?;
        d.entries.get(name).copied().ok_or(Errno::ENOENT)
    }

    /// Creates `name` in `parent` (which must be a directory without that
    /// entry; callers check). Returns the new node.
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
        if self.lookup(new_dir, new_name).is_ok() {
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
        if n.links == 0 && n.open == 0 && id != self.root {
            self.nodes.remove(id.0 as usize);
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

    /// Reads from a regular file at `pos`; returns bytes copied.
    pub fn read_at(&self, id: NodeId, pos: u64, buf: &mut [u8]) -> usize {
        if let Some(h) = &self.node(id).host {
            return super::hostfs::read_path(h, pos, buf); // HOSTFS
        }
        if let NodeKind::File(f) = &self.node(id).kind {
            let data = f.as_slice();
            if pos >= data.len() as u64 {
                return 0;
            }
            let start = pos as usize;
            let n = buf.len().min(data.len() - start);
            buf[..n].copy_from_slice(&data[start..start + n]);
            n
        } else {
            0
        }
    }

    /// Writes into a regular file at `pos`, zero-filling any hole.
    pub fn write_at(
        &mut self,
        id: NodeId,
        pos: u64,
        data: &[u8],
        now: Timespec,
    ) -> SysResult<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        let end = pos.checked_add(data.len() as u64).ok_or(Errno::EFBIG)?;
        if end > (isize::MAX as u64) / 2 {
            return Err(Errno::EFBIG);
        }
        if let Some(h) = &self.node(id).host {
            return super::hostfs::write_path(h, pos, data); // HOSTFS
        }
        let n = self.node_mut(id);
        n.mtime = now;
        n.ctime = now;
        if let NodeKind::File(f) = &mut n.kind {
            let v = f.make_mut();
            let (start, end) = (pos as usize, end as usize);
            if v.len() < end {
                v.resize(end, 0);
            }
            v[start..end].copy_from_slice(data);
            Ok(data.len())
        } else {
            Err(Errno::EINVAL)
        }
    }

    /// Sets a regular file's length, zero-extending.
    pub fn truncate(&mut self, id: NodeId, len: u64, now: Timespec) -> SysResult<()> {
        if len > (isize::MAX as u64) / 2 {
            return Err(Errno::EFBIG);
        }
        if let (Some(h), NodeKind::File(_)) = (&self.node(id).host, &self.node(id).kind) {
            return super::hostfs::truncate(h, len); // HOSTFS
        }
        let n = self.node_mut(id);
        match &mut n.kind {
            NodeKind::File(f) => {
                if f.len() as u64 != len {
                    f.make_mut().resize(len as usize, 0);
                }
                n.mtime = now;
                n.ctime = now;
                Ok(())
            }
            NodeKind::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
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
        let mut fs = Fs::new(t());
        let root = fs.root();
        let d = fs.create(
            root,
            b"d",
            S_IFDIR | 0o755,
            0,
            NodeKind::Dir(DirData {
                entries: Default::default(),
                parent: root,
                name: vec![],
            }),
            t(),
        );
        let f = fs.create(
            d,
            b"f",
            S_IFREG | 0o644,
            0,
            NodeKind::File(FileData::default()),
            t(),
        );
        assert_eq!(fs.lookup(d, b"f"), Ok(f));
        assert_eq!(fs.lookup(f, b"x"), Err(Errno::ENOTDIR));
        assert_eq!(fs.dir_path(d).unwrap(), b"/d");
        assert_eq!(fs.subdir_count(root), 1);
        fs.retain(f);
        fs.remove_entry(d, b"f", t()).unwrap();
        assert_eq!(fs.lookup(d, b"f"), Err(Errno::ENOENT));
        // Still open: readable.
        assert_eq!(fs.node(f).links, 0);
        fs.release(f);
        assert!(fs.nodes.get(f.0 as usize).is_none());
    }

    #[test]
    fn write_makes_holes() {
        let mut fs = Fs::new(t());
        let root = fs.root();
        let f = fs.create(
            root,
            b"f",
            S_IFREG | 0o644,
            0,
            NodeKind::File(Arc::<[u8]>::from(&b"abc"[..]).into()),
            t(),
        );
        fs.write_at(f, 5, b"xy", t()).unwrap();
        let mut buf = [9u8; 10];
        assert_eq!(fs.read_at(f, 0, &mut buf), 7);
        assert_eq!(&buf[..7], b"abc\0\0xy");
        fs.write_at(f, 1, b"Z", t()).unwrap();
        assert_eq!(fs.read_at(f, 0, &mut buf), 7);
        assert_eq!(&buf[..7], b"aZc\0\0xy");
        fs.truncate(f, 2, t()).unwrap();
        assert_eq!(fs.node(f).size(), 2);
    }

    #[test]
    fn shared_data_is_copy_on_write() {
        let data: Arc<[u8]> = Arc::from(&b"zipdata"[..]);
        let mut fd = FileData::from(data.clone());
        assert_eq!(fd.as_slice().as_ptr(), data.as_ptr());
        fd.make_mut()[0] = b'Z';
        assert_eq!(&*data, b"zipdata");
        assert_eq!(fd.as_slice(), b"Zipdata");
    }
}
