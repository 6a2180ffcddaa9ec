//! File descriptors and open file descriptions.
//!
//! A descriptor points at an open file description (OFD); `dup` makes a
//! second descriptor for the same OFD, so both share the offset and status
//! flags, while `FD_CLOEXEC` belongs to the descriptor.

use std::sync::Arc;

use super::consts::*;
use super::errno::{Errno, SysResult};
use super::mount::HostFile;
use super::slab::Slab;
use super::tree::{DirEntry, NodeId};

/// What an open file description refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A node of the tree (file, directory, device).
    Node(NodeId),
    /// One end of a pipe.
    Pipe { pipe: usize, write: bool },
    /// A socket.
    Socket(usize),
}

/// An open file description.
#[derive(Clone, Debug)]
pub(crate) struct Ofd {
    pub target: Target,
    /// Access mode and status flags (`O_RDONLY`.., `O_APPEND`, `O_NONBLOCK`).
    pub flags: u32,
    pub pos: u64,
    pub refs: u32,
    /// Whether this stream is a terminal (stdio on a host TTY, `/dev/tty`).
    pub tty: bool,
    /// The listing taken by the first `getdents64`, so offsets stay
    /// stable while the directory changes.
    pub dirents: Option<Vec<DirEntry>>,
    /// HOSTFS: the host file handle of a regular file opened on a
    /// `--mount` (only `vfs.rs` looks at it).
    pub host_file: Option<Arc<HostFile>>,
    /// PROCFS: the glue's `stream.path` (what `readlink` of
    /// `/proc/self/fd/N` gives): the canonical path at open, `pipe[N]`.
    pub path: Vec<u8>,
}

impl Ofd {
    /// A fresh description with one reference.
    pub fn new(target: Target, flags: u32, tty: bool) -> Self {
        Ofd {
            target,
            flags,
            pos: 0,
            refs: 1,
            tty,
            dirents: None,
            host_file: None,
            path: Vec::new(),
        }
    }
    /// Opened for reading.
    pub fn readable(&self) -> bool {
        self.flags & O_PATH == 0 && self.flags & O_ACCMODE != O_WRONLY
    }
    /// Opened for writing.
    pub fn writable(&self) -> bool {
        self.flags & O_PATH == 0 && self.flags & O_ACCMODE != O_RDONLY
    }
    /// The node, for node-backed descriptions.
    pub fn node(&self) -> Option<NodeId> {
        match self.target {
            Target::Node(n) => Some(n),
            _ => None,
        }
    }
}

/// One descriptor slot.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FdEntry {
    pub ofd: usize,
    /// Recorded at open/dup, never reported: as in the glue, `F_GETFD`
    /// answers 0.
    #[allow(dead_code)]
    pub cloexec: bool,
}

/// The descriptor table and the descriptions it points at.
#[derive(Clone, Debug, Default)]
pub(crate) struct FdTable {
    pub fds: Vec<Option<FdEntry>>,
    pub ofds: Slab<Ofd>,
}

impl FdTable {
    /// The entry of `fd`, or `EBADF`.
    pub fn entry(&self, fd: i32) -> SysResult<FdEntry> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        self.fds
            .get(fd as usize)
            .copied()
            .flatten()
            .ok_or(Errno::EBADF)
    }

    /// The OFD key of `fd`, or `EBADF`.
    pub fn ofd_id(&self, fd: i32) -> SysResult<usize> {
        Ok(self.entry(fd)?.ofd)
    }

    /// The OFD of `fd`.
    pub fn ofd(&self, fd: i32) -> SysResult<&Ofd> {
        let id = self.ofd_id(fd)?;
        self.ofds.get(id).ok_or(Errno::EBADF)
    }

    /// The OFD of `fd`, mutably.
    pub fn ofd_mut(&mut self, fd: i32) -> SysResult<&mut Ofd> {
        let id = self.ofd_id(fd)?;
        self.ofds.get_mut(id).ok_or(Errno::EBADF)
    }

    /// The lowest free descriptor `>= min`.
    pub fn lowest_free(&self, min: usize) -> SysResult<usize> {
        (min..MAX_OPEN_FDS)
            .find(|&i| self.fds.get(i).is_none_or(|e| e.is_none()))
            .ok_or(Errno::EMFILE)
    }

    /// Installs `ofd` (already counted) at exactly `fd`.
    pub fn install_at(&mut self, fd: usize, ofd: usize, cloexec: bool) {
        if self.fds.len() <= fd {
            self.fds.resize(fd + 1, None);
        }
        self.fds[fd] = Some(FdEntry { ofd, cloexec });
    }

    /// Stores a new OFD under the lowest free descriptor `>= min`.
    pub fn open_new(&mut self, ofd: Ofd, min: usize, cloexec: bool) -> SysResult<i32> {
        let fd = self.lowest_free(min)?;
        let id = self.ofds.insert(ofd);
        self.install_at(fd, id, cloexec);
        Ok(fd as i32)
    }

    /// Empties slot `fd`, returning the OFD key it held. The OFD's
    /// reference count is the caller's to drop.
    pub fn take(&mut self, fd: i32) -> SysResult<usize> {
        let e = self.entry(fd)?;
        self.fds[fd as usize] = None;
        while matches!(self.fds.last(), Some(None)) {
            self.fds.pop();
        }
        Ok(e.ofd)
    }

    /// Open descriptor numbers, ascending.
    pub fn open_fds(&self) -> Vec<i32> {
        self.fds
            .iter()
            .enumerate()
            .filter(|(_, e)| e.is_some())
            .map(|(i, _)| i as i32)
            .collect()
    }
}
