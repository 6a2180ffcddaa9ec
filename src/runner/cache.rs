//! Filling the tool's cache safely when several runs do it at once: an
//! entry is prepared under a private temporary name and moved into place
//! in one step; an entry another run already completed is kept.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

/// The marker file of a complete directory entry.
pub const COMPLETE: &str = ".complete";

/// Move the fully prepared directory `tmp` (its `.complete` marker written)
/// into place at `dir`. If another run completed `dir` first, `tmp` is
/// discarded. An incomplete leftover at `dir` is moved aside, never
/// deleted where a reader could be looking.
pub fn publish_dir(tmp: &Path, dir: &Path) -> Result<()> {
    if !dir.join(COMPLETE).is_file() {
        if dir.exists() {
            let aside = dir.with_extension(format!("stale-{}", std::process::id()));
            if fs::rename(dir, &aside).is_ok() {
                let _ = fs::remove_dir_all(&aside);
            }
        }
        if let Err(e) = fs::rename(tmp, dir)
            && !dir.join(COMPLETE).is_file()
        {
            return Err(e).with_context(|| format!("moving into {}", dir.display()));
        }
    }
    let _ = fs::remove_dir_all(tmp);
    Ok(())
}

/// Write `bytes` to `path` so that readers see either the old or the whole
/// new content.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::atomic_file::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_completed_entry_is_kept_and_an_incomplete_one_replaced() {
        let base = std::env::temp_dir().join(format!("pt-cache-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let (dir, tmp) = (base.join("entry"), base.join("tmp"));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("half"), b"x").unwrap(); // an incomplete leftover
        fs::create_dir_all(&tmp).unwrap();
        fs::write(tmp.join("file"), b"first").unwrap();
        fs::write(tmp.join(COMPLETE), b"").unwrap();
        publish_dir(&tmp, &dir).unwrap();
        assert_eq!(fs::read(dir.join("file")).unwrap(), b"first");
        assert!(!dir.join("half").exists() && !tmp.exists());
        // A second run's copy does not replace the completed entry.
        fs::create_dir_all(&tmp).unwrap();
        fs::write(tmp.join("file"), b"second").unwrap();
        fs::write(tmp.join(COMPLETE), b"").unwrap();
        publish_dir(&tmp, &dir).unwrap();
        assert_eq!(fs::read(dir.join("file")).unwrap(), b"first");
        assert!(!tmp.exists());
        write_atomic(&base.join("memo"), b"a\nb").unwrap();
        assert_eq!(fs::read(base.join("memo")).unwrap(), b"a\nb");
        fs::remove_dir_all(&base).unwrap();
    }
}
