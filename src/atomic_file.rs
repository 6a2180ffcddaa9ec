//! Writing files that other runs may read or write at the same time:
//! [`write()`] makes readers see either the old or the whole new content (a
//! temporary name unique to the process and call, synced, then renamed
//! into place), and [`Lock`] serialises read-modify-write cycles between
//! runs (`flock` on a lock file). Used by the module cache, the tool's
//! cache, snapshots and reports.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};

/// A temporary name beside `path`, unique to this process and call.
pub fn temp_name(path: &Path) -> PathBuf {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}-{n}", std::process::id()))
}

/// Replace `path` with `bytes` in one step (see the module documentation).
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    write_parts(path, &[bytes])
}

/// [`write()`] of `parts` one after another (without joining them in
/// memory first).
pub fn write_parts(path: &Path, parts: &[&[u8]]) -> Result<()> {
    let tmp = temp_name(path);
    let written = fs::File::create(&tmp)
        .and_then(|f| {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
            for part in parts {
                out.write_all(part)?;
            }
            out.into_inner().map_err(|e| e.into_error())?.sync_all()
        })
        .with_context(|| format!("writing {}", tmp.display()));
    if let Err(e) = written.and_then(|()| {
        fs::rename(&tmp, path).with_context(|| format!("renaming into {}", path.display()))
    }) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

/// An exclusive advisory lock (`flock`) on a lock file, held until dropped;
/// other holders wait for it.
pub struct Lock {
    _file: fs::File,
}

impl Lock {
    /// Wait for and take the lock on `path` (created if missing).
    pub fn acquire(path: &Path) -> Result<Self> {
        Self::take(path, true)?.with_context(|| format!("locking {}", path.display()))
    }

    /// Take the lock on `path` if nobody holds it; `None` if somebody does.
    pub fn try_acquire(path: &Path) -> Result<Option<Self>> {
        Self::take(path, false)
    }

    fn take(path: &Path, wait: bool) -> Result<Option<Self>> {
        use std::os::fd::AsRawFd;
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        let op = if wait {
            libc::LOCK_EX
        } else {
            libc::LOCK_EX | libc::LOCK_NB
        };
        loop {
            // SAFETY: flock on a descriptor we own; released when it is closed.
            if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
                return Ok(Some(Self { _file: file }));
            }
            let err = std::io::Error::last_os_error();
            match err.kind() {
                std::io::ErrorKind::Interrupted => {}
                std::io::ErrorKind::WouldBlock if !wait => return Ok(None),
                _ => return Err(err).with_context(|| format!("locking {}", path.display())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_writers_never_mix() {
        let dir = std::env::temp_dir().join(format!("pt-atomic-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("file");
        std::thread::scope(|s| {
            for t in 0..4u8 {
                let path = &path;
                s.spawn(move || {
                    for _ in 0..50 {
                        write(path, &vec![t; 64 << 10]).unwrap();
                    }
                });
            }
            for _ in 0..200 {
                if let Ok(bytes) = fs::read(&path) {
                    assert_eq!(bytes.len(), 64 << 10);
                    assert!(bytes.iter().all(|&b| b == bytes[0]), "mixed content");
                }
            }
        });
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["file"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn lock_serialises_read_modify_write() {
        let dir = std::env::temp_dir().join(format!("pt-lock-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let (path, lock) = (dir.join("count"), dir.join(".lock"));
        write(&path, b"0").unwrap();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..25 {
                        let _held = Lock::acquire(&lock).unwrap();
                        let n: u32 = fs::read_to_string(&path).unwrap().parse().unwrap();
                        write(&path, (n + 1).to_string().as_bytes()).unwrap();
                    }
                });
            }
        });
        assert_eq!(fs::read_to_string(&path).unwrap(), "100");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn try_acquire_leaves_a_held_lock_alone() {
        let dir = std::env::temp_dir().join(format!("pt-trylock-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let path = dir.join(".lock");
        let held = Lock::try_acquire(&path).unwrap();
        assert!(held.is_some(), "a free lock is taken");
        assert!(
            Lock::try_acquire(&path).unwrap().is_none(),
            "a held lock is not"
        );
        drop(held);
        assert!(
            Lock::try_acquire(&path).unwrap().is_some(),
            "a released lock is free"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
