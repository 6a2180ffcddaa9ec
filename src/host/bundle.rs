//! A zygote's boot files as one file in the cache: the bytes of every
//! file of its boot description that is held in the runner's memory (the
//! wheels' files, the tests, their bytecode), one after another, in a file
//! named by the digest of those bytes.
//!
//! The zygote maps the bundle instead of reading the bytes from its stdin
//! and hashing them to name its image: the name already says what they
//! are. Its files are then pages of the cache file, shared with every
//! child, not tens of megabytes of the zygote's heap that each fork copies
//! the page tables of (pydantic-core: 2,901 files, 35 MB, about 47 ms of
//! each zygote's boot read through a pipe and hashed).
//!
//! A bundle is written once, by renaming a complete file over its name
//! (`atomic_file`: so that a mapping never sees it change), and marked
//! used whenever a run names it; writing one removes those unused for a
//! while, then the least recently used past `MAX_BYTES` (as images are
//! pruned).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::cache_files::{mark_file_used, prune_files};

/// What the bundles may take on disk together.
const MAX_BYTES: u64 = 2 << 30;

/// The bundle in `dir` holding `parts` one after another, written there
/// if it is not yet: its path.
pub fn store(dir: &Path, parts: &[&[u8]]) -> Result<PathBuf> {
    let mut digest = Sha256::new();
    let mut len = 0u64;
    for part in parts {
        digest.update(part);
        len += part.len() as u64;
    }
    let hex = crate::hex::encode(&digest.finalize());
    let path = dir.join(format!("{hex}.bundle"));
    if let Ok(f) = fs::File::open(&path)
        && f.metadata().is_ok_and(|m| m.len() == len)
    {
        mark_file_used(&f, SystemTime::now());
        return Ok(path);
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    crate::atomic_file::write_parts(&path, parts)?;
    prune_files(dir, SystemTime::now(), MAX_BYTES);
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::store;

    #[test]
    fn a_bundle_is_named_by_its_bytes_and_written_once() {
        let dir = std::env::temp_dir().join(format!("pt-bundle-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = store(&dir, &[b"ab", b"", b"cde"]).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"abcde");
        // The same bytes, cut elsewhere: the same bundle, not written again.
        let before = std::fs::metadata(&a).unwrap().modified().unwrap();
        assert_eq!(store(&dir, &[b"abc", b"de"]).unwrap(), a);
        assert_eq!(std::fs::metadata(&a).unwrap().modified().unwrap(), before);
        // Other bytes: another bundle; the first stays.
        let b = store(&dir, &[b"abcdf"]).unwrap();
        assert_ne!(a, b);
        assert_eq!(std::fs::read(&b).unwrap(), b"abcdf");
        assert!(a.exists());
        // A damaged bundle (not its length) is written again.
        std::fs::write(&a, b"abc").unwrap();
        assert_eq!(store(&dir, &[b"ab", b"cde"]).unwrap(), a);
        assert_eq!(std::fs::read(&a).unwrap(), b"abcde");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
