//! `struct stat` and `struct statfs` as Emscripten lays them out
//! (`SYSCALLS.writeStat` / `writeStatFs`).
//!
//! `struct stat` (96 bytes): `st_dev` u32 @0, `st_mode` u32 @4, `st_nlink`
//! u32 @8, `st_uid` @12, `st_gid` @16, `st_rdev` @20, `st_size` i64 @24,
//! `st_blksize` i32 @32, `st_blocks` i32 @36, `st_atim` {i64 sec @40, u32
//! nsec @48}, `st_mtim` @56/@64, `st_ctim` @72/@80, `st_ino` u64 @88.
//!
//! What goes into the fields is each file system's business (MEMFS's
//! `getattr` in `memfs.rs`, the host's in `mount.rs`, pipes, sockets).

use super::clock::Timespec;
use super::errno::SysResult;
use super::guest;

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

/// Which `struct stat` the guest's libc was built with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StatLayout {
    /// The layout above (Emscripten 3.1.33 and later).
    #[default]
    Current,
    /// Emscripten 3.1.32 and before (112 bytes): `st_dev` @0, a truncated
    /// `st_ino` u32 @8, `st_mode` @12, `st_nlink` @16, `st_uid` @20,
    /// `st_gid` @24, `st_rdev` @28, `st_size` i64 @40, `st_blksize` @48,
    /// `st_blocks` @52, the three times at @56/@72/@88 (i64 sec, u32
    /// nsec), `st_ino` u64 @104.
    Legacy,
}

impl Stat {
    /// Stores the struct at `buf` in `layout`.
    pub(crate) fn write(&self, mem: &mut [u8], buf: u32, layout: StatLayout) -> SysResult<()> {
        if layout == StatLayout::Legacy {
            return self.write_legacy(mem, buf);
        }
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

    fn write_legacy(&self, mem: &mut [u8], buf: u32) -> SysResult<()> {
        guest::slice_mut(mem, buf, 112)?.fill(0);
        guest::write_u32(mem, buf, self.dev)?;
        guest::write_u32(mem, buf + 8, self.ino as u32)?;
        guest::write_u32(mem, buf + 12, self.mode)?;
        guest::write_u32(mem, buf + 16, self.nlink)?;
        guest::write_u32(mem, buf + 20, self.uid)?;
        guest::write_u32(mem, buf + 24, self.gid)?;
        guest::write_u32(mem, buf + 28, self.rdev)?;
        guest::write_i64(mem, buf + 40, self.size)?;
        guest::write_i32(mem, buf + 48, self.blksize)?;
        guest::write_i32(mem, buf + 52, self.blocks)?;
        for (off, t) in [(56, self.atime), (72, self.mtime), (88, self.ctime)] {
            guest::write_i64(mem, buf + off, t.sec)?;
            guest::write_u32(mem, buf + off + 8, t.nsec)?;
        }
        guest::write_u64(mem, buf + 104, self.ino)
    }
}

/// Writes MEMFS's `struct statfs` answer at `buf` (`size` bytes): 4096-byte
/// blocks, a million of them, half free; `files` inodes, all but one free
/// (as the glue: its numbers are made up too).
pub(crate) fn write_statfs(mem: &mut [u8], size: u32, buf: u32, files: u64) -> SysResult<()> {
    guest::slice_mut(mem, buf, size.min(128))?.fill(0);
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
