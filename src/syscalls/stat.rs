//! `struct stat` and `struct statfs` as Emscripten lays them out
//! (`SYSCALLS.writeStat` / `writeStatFs`).
//!
//! `struct stat` (96 bytes): `st_dev` u32 @0, `st_mode` u32 @4, `st_nlink`
//! u32 @8, `st_uid` @12, `st_gid` @16, `st_rdev` @20, `st_size` i64 @24,
//! `st_blksize` i32 @32, `st_blocks` i32 @36, `st_atim` {i64 sec @40, u32
//! nsec @48}, `st_mtim` @56/@64, `st_ctim` @72/@80, `st_ino` u64 @88.
//!
//! As MEMFS's `getattr`: `st_nlink` is always 1, `st_blocks` is
//! `ceil(size / 4096)`, a directory's size is 4096, and times have
//! millisecond precision (JS `Date`s; `utimensat` truncates to the ms).

use super::Kernel;
use super::clock::Timespec;
use super::consts::*;
use super::errno::SysResult;
use super::fd::Target;
use super::guest;
use super::memfs::{NodeId, NodeKind};

/// The fields of a `struct stat`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    /// `st_dev`.
    pub dev: u32,
    /// `st_ino`.
    pub ino: u64,
    /// `st_mode`.
    pub mode: u32,
    /// `st_nlink`.
    pub nlink: u32,
    /// `st_uid`.
    pub uid: u32,
    /// `st_gid`.
    pub gid: u32,
    /// `st_rdev`.
    pub rdev: u32,
    /// `st_size`.
    pub size: i64,
    /// `st_blksize`.
    pub blksize: i32,
    /// `st_blocks` (4096-byte units, as MEMFS).
    pub blocks: i32,
    /// `st_atim`.
    pub atime: Timespec,
    /// `st_mtim`.
    pub mtime: Timespec,
    /// `st_ctim`.
    pub ctime: Timespec,
}

/// Size of Emscripten's `struct stat`.
pub(crate) const STAT_SIZE: u32 = 96;

impl Stat {
    /// Stores the struct at `buf`.
    pub(crate) fn write(&self, mem: &mut [u8], buf: u32) -> SysResult<()> {
        guest::slice_mut(mem, buf, STAT_SIZE)?.fill(0);
        guest::write_u32(mem, buf, self.dev)?;
        guest::write_u32(mem, buf + 4, self.mode)?;
        guest::write_u32(mem, buf + 8, self.nlink)?;
        guest::write_u32(mem, buf + 12, self.uid)?;
        guest::write_u32(mem, buf + 16, self.gid)?;
        guest::write_u32(mem, buf + 20, self.rdev)?;
        guest::write_i64(mem, buf + 24, self.size)?;
        guest::write_i32(mem, buf + 32, self.blksize)?;
        guest::write_i32(mem, buf + 36, self.blocks)?;
        for (off, t) in [(40, self.atime), (56, self.mtime), (72, self.ctime)] {
            guest::write_i64(mem, buf + off, t.sec)?;
            guest::write_u32(mem, buf + off + 8, t.nsec)?;
        }
        guest::write_u64(mem, buf + 88, self.ino)
    }
}

impl Kernel {
    /// The stat of a tree node.
    pub(crate) fn stat_node(&self, id: NodeId) -> Stat {
        if let Some(st) = super::hostfs::stat(&self.fs, id) {
            return st; // HOSTFS
        }
        let n = self.fs.node(id);
        let size = n.size();
        let is_dev = matches!(n.kind, NodeKind::Device(_));
        // MEMFS: nlink is 1 for every node (there are no hard links).
        let nlink = 1;
        let ms = |t: Timespec| Timespec {
            sec: t.sec,
            nsec: t.nsec / 1_000_000 * 1_000_000,
        };
        Stat {
            dev: if is_dev { n.ino as u32 } else { 1 },
            ino: n.ino,
            mode: n.mode,
            nlink,
            uid: n.uid,
            gid: n.gid,
            rdev: n.rdev,
            size: size as i64,
            blksize: 4096,
            blocks: size.div_ceil(4096).min(i32::MAX as u64) as i32,
            atime: ms(n.atime),
            mtime: ms(n.mtime),
            ctime: ms(n.ctime),
        }
    }

    /// The stat of whatever an open description refers to.
    pub(crate) fn stat_target(&self, t: Target) -> Stat {
        match t {
            Target::Node(n) => self.stat_node(n),
            Target::Pipe { pipe, .. } => {
                let (ino, time) = self
                    .pipes
                    .get(pipe)
                    .map(|p| (p.ino, p.ctime))
                    .unwrap_or_default();
                Stat {
                    dev: 14,
                    ino,
                    mode: S_IFIFO | 0o600,
                    nlink: 1,
                    blksize: 4096,
                    atime: time,
                    mtime: time,
                    ctime: time,
                    ..Stat::default()
                }
            }
            Target::Socket(s) => {
                let ino = self.sockets.get(s).map(|s| s.ino).unwrap_or_default();
                Stat {
                    dev: 1,
                    ino,
                    mode: S_IFSOCK | 0o777,
                    nlink: 1,
                    blksize: 4096,
                    ..Stat::default()
                }
            }
        }
    }

    /// Writes MEMFS's `struct statfs` answer at `buf` (`size` bytes).
    pub(crate) fn write_statfs(&self, mem: &mut [u8], size: u32, buf: u32) -> SysResult<()> {
        guest::slice_mut(mem, buf, size.min(128))?.fill(0);
        let files = self.fs.inode_count();
        guest::write_u32(mem, buf + 4, 4096)?;
        guest::write_u64(mem, buf + 8, 1_000_000)?;
        guest::write_u64(mem, buf + 16, 500_000)?;
        guest::write_u64(mem, buf + 24, 500_000)?;
        guest::write_u64(mem, buf + 32, files)?;
        guest::write_u64(mem, buf + 40, files - 1)?;
        guest::write_u32(mem, buf + 48, 42)?;
        guest::write_u32(mem, buf + 56, 255)?;
        guest::write_u32(mem, buf + 60, 4096)?;
        guest::write_u32(mem, buf + 64, 2)
    }
}
