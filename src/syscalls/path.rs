//! Path resolution: walking components from a start directory, following
//! symlinks (at most [`MAX_SYMLINKS`] per resolution, then `ELOOP`),
//! Linux's rules for `.`/`..` and trailing slashes.

use std::collections::VecDeque;

use super::consts::*;
use super::errno::{Errno, SysResult};
use super::tree::{NodeId, NodeKind, Tree};

/// How the last component is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Follow {
    /// Follow a symlink in the last component (`stat`, `open`).
    Yes,
    /// Do not (`lstat`, `O_NOFOLLOW`, `readlink`, `unlink`).
    No,
}

/// The parent directory of a path's last component, and that name.
#[derive(Clone, Debug)]
pub(crate) struct ParentAndName {
    /// The directory that holds (or would hold) the entry.
    pub dir: NodeId,
    /// The last component (`.` or `..` included as is; empty for `/`).
    pub name: Vec<u8>,
    /// Whether the path ended with `/`.
    pub trailing_slash: bool,
}

fn split(path: &[u8]) -> VecDeque<Vec<u8>> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(|c| c.to_vec())
        .collect()
}

fn check_len(path: &[u8]) -> SysResult<()> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

/// The tree as a walk sees it: the nodes, and how to look a name up in a
/// directory. Through `&Tree`, only the nodes already in the tree are
/// seen; the kernel walks through `vfs::KWalk`, whose lookups go to the
/// directory's file system (a host directory is asked live,
/// `/proc/self/fd` knows the open descriptors).
pub(crate) trait Walk {
    /// The tree.
    fn tree(&self) -> &Tree;
    /// Looks `name` up in directory `dir`.
    fn lookup(&mut self, dir: NodeId, name: &[u8]) -> SysResult<NodeId>;
}

impl Walk for &Tree {
    fn tree(&self) -> &Tree {
        self
    }
    fn lookup(&mut self, dir: NodeId, name: &[u8]) -> SysResult<NodeId> {
        self.lookup_cached(dir, name)
    }
}

/// Steps into `name` from directory `cur`: a lookup with the search
/// permission check.
fn step(w: &mut impl Walk, cur: NodeId, name: &[u8]) -> SysResult<NodeId> {
    let fs = w.tree();
    let n = fs.node(cur);
    if !n.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if !n.permits(false, false, true) {
        return Err(Errno::EACCES);
    }
    if name == b"." {
        return Ok(cur);
    }
    if name == b".." {
        return Ok(fs.parent(cur));
    }
    w.lookup(cur, name)
}

/// Resolves `path` relative to `base` to a node.
pub(crate) fn resolve(
    mut w: impl Walk,
    base: NodeId,
    path: &[u8],
    follow: Follow,
) -> SysResult<NodeId> {
    resolve_in(&mut w, base, path, follow).map(|(n, _)| n)
}

/// Like [`resolve`], also returning the directory and name the node was
/// last reached through (`None` when it was reached by `.`/`..` or is the
/// start directory): what makes a non-directory's canonical path.
pub(crate) fn resolve_named(
    mut w: impl Walk,
    base: NodeId,
    path: &[u8],
    follow: Follow,
) -> SysResult<Named> {
    resolve_in(&mut w, base, path, follow)
}

/// A resolved node and the directory and name it was reached through.
pub(crate) type Named = (NodeId, Option<(NodeId, Vec<u8>)>);

fn resolve_in(w: &mut impl Walk, base: NodeId, path: &[u8], follow: Follow) -> SysResult<Named> {
    check_len(path)?;
    let trailing = path.ends_with(b"/");
    let mut cur = if path.starts_with(b"/") {
        w.tree().root()
    } else {
        base
    };
    let mut rest = split(path);
    let mut links = 0u32;
    let mut via = None;
    while let Some(name) = rest.pop_front() {
        let next = step(w, cur, &name)?;
        let fs = w.tree();
        let last = rest.is_empty();
        if let NodeKind::Symlink(target) = &fs.node(next).kind
            && (!last || follow == Follow::Yes || trailing)
        {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(Errno::ELOOP);
            }
            if target.is_empty() {
                return Err(Errno::ENOENT);
            }
            if target.starts_with(b"/") {
                cur = fs.root();
            }
            via = None;
            for c in split(target).into_iter().rev() {
                rest.push_front(c);
            }
            continue;
        }
        via = if name == b"." || name == b".." {
            None
        } else {
            Some((cur, name))
        };
        cur = next;
    }
    if trailing && !w.tree().node(cur).is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok((cur, via))
}

/// Resolves all but the last component of `path`: the directory an entry
/// would be created in or removed from. Symlinks in the directory part are
/// followed; the last component is returned unresolved.
pub(crate) fn resolve_parent(
    mut w: impl Walk,
    base: NodeId,
    path: &[u8],
) -> SysResult<ParentAndName> {
    check_len(path)?;
    let trailing_slash = path.ends_with(b"/");
    let trimmed = {
        let mut p = path;
        while p.len() > 1 && p.ends_with(b"/") {
            p = &p[..p.len() - 1];
        }
        p
    };
    if trimmed == b"/" {
        return Ok(ParentAndName {
            dir: w.tree().root(),
            name: Vec::new(),
            trailing_slash,
        });
    }
    let (dir_part, name) = match trimmed.iter().rposition(|&b| b == b'/') {
        Some(i) => (&trimmed[..=i], &trimmed[i + 1..]),
        None => (&b""[..], trimmed),
    };
    let dir = if dir_part.is_empty() {
        base
    } else {
        resolve_in(&mut w, base, dir_part, Follow::Yes)?.0
    };
    let d = w.tree().node(dir);
    if !d.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(ParentAndName {
        dir,
        name: name.to_vec(),
        trailing_slash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::clock::Timespec;
    use crate::syscalls::filedata::Contents;
    use crate::syscalls::tree::DirData;

    fn tree() -> (Tree, NodeId, NodeId) {
        let now = Timespec::default();
        let mut fs = Tree::new(now, None);
        let root = fs.root();
        let dir = || {
            NodeKind::Dir(DirData {
                entries: Default::default(),
                parent: NodeId(0),
                name: vec![],
            })
        };
        let a = fs.create(root, b"a", S_IFDIR | 0o777, 0, dir(), now);
        let f = fs.create(
            a,
            b"f",
            S_IFREG | 0o666,
            0,
            NodeKind::File(Contents::default()),
            now,
        );
        fs.create(
            root,
            b"la",
            S_IFLNK | 0o777,
            0,
            NodeKind::Symlink(b"a".to_vec()),
            now,
        );
        fs.create(
            a,
            b"up",
            S_IFLNK | 0o777,
            0,
            NodeKind::Symlink(b"../la/f".to_vec()),
            now,
        );
        fs.create(
            root,
            b"loop1",
            S_IFLNK | 0o777,
            0,
            NodeKind::Symlink(b"loop2".to_vec()),
            now,
        );
        fs.create(
            root,
            b"loop2",
            S_IFLNK | 0o777,
            0,
            NodeKind::Symlink(b"/loop1".to_vec()),
            now,
        );
        (fs, a, f)
    }

    #[test]
    fn follows_and_loops() {
        let (fs, a, f) = tree();
        let root = fs.root();
        assert_eq!(resolve(&fs, root, b"/a/f", Follow::Yes), Ok(f));
        assert_eq!(resolve(&fs, root, b"la/f", Follow::Yes), Ok(f));
        assert_eq!(resolve(&fs, root, b"la/up", Follow::Yes), Ok(f));
        assert_eq!(resolve(&fs, root, b"la", Follow::Yes), Ok(a));
        assert_ne!(resolve(&fs, root, b"la", Follow::No), Ok(a));
        assert_eq!(resolve(&fs, root, b"la/", Follow::No), Ok(a));
        assert_eq!(resolve(&fs, root, b"loop1", Follow::Yes), Err(Errno::ELOOP));
        assert!(resolve(&fs, root, b"loop1", Follow::No).is_ok());
        assert_eq!(
            resolve(&fs, root, b"a/f/", Follow::Yes),
            Err(Errno::ENOTDIR)
        );
        assert_eq!(
            resolve(&fs, root, b"a/f/x", Follow::Yes),
            Err(Errno::ENOTDIR)
        );
        assert_eq!(
            resolve(&fs, root, b"a/nope", Follow::Yes),
            Err(Errno::ENOENT)
        );
        assert_eq!(resolve(&fs, root, b"", Follow::Yes), Err(Errno::ENOENT));
        assert_eq!(resolve(&fs, a, b"../../..", Follow::Yes), Ok(root));
        assert_eq!(resolve(&fs, a, b"f", Follow::Yes), Ok(f));
    }

    #[test]
    fn parents() {
        let (fs, a, _) = tree();
        let root = fs.root();
        let p = resolve_parent(&fs, root, b"/la/new/").unwrap();
        assert_eq!(
            (p.dir, p.name.as_slice(), p.trailing_slash),
            (a, &b"new"[..], true)
        );
        let p = resolve_parent(&fs, a, b"x").unwrap();
        assert_eq!(p.dir, a);
        let p = resolve_parent(&fs, a, b"//").unwrap();
        assert_eq!((p.dir, p.name.len()), (root, 0));
        assert_eq!(
            resolve_parent(&fs, root, b"a/f/x").unwrap_err(),
            Errno::ENOTDIR
        );
        assert_eq!(
            resolve_parent(&fs, root, b"nope/x").unwrap_err(),
            Errno::ENOENT
        );
    }
}
