//! SHA-256 digests of files, remembered by the file's identity, so that a
//! start does not hash a 10 MB module or the stdlib zip again while the
//! file is unchanged.

use std::fs;
use std::path::Path;

use sha2::{Digest, Sha256};

/// A file's identity on disk: length, modification and change times,
/// device and inode (a write in place changes the change time, which
/// cannot be set back; a rewrite by rename changes the inode). `None` if it
/// cannot be read.
pub fn identity(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(path).ok()?;
    Some(format!(
        "{} {}.{:09} {}.{:09} {} {}",
        m.len(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec(),
        m.dev(),
        m.ino()
    ))
}

/// The SHA-256 of the file at `path`, whose bytes `read` gives when they
/// must be hashed (its error is returned as it is): remembered under
/// `memo_dir` by the file's path and identity (a memo that cannot be
/// written only costs the hash next time).
pub fn sha256<B: AsRef<[u8]>, E>(
    memo_dir: &Path,
    path: &Path,
    read: impl FnOnce() -> Result<B, E>,
) -> Result<[u8; 32], E> {
    let memo = identity(path).map(|id| {
        let name = Sha256::digest(format!("{}\0{id}", path.display()));
        memo_dir.join(crate::hex::encode(&name[..20]))
    });
    let remembered = memo
        .as_ref()
        .and_then(|m| fs::read_to_string(m).ok())
        .and_then(|text| crate::hex::decode(text.trim()))
        .and_then(|d| <[u8; 32]>::try_from(d).ok());
    if let Some(d) = remembered {
        return Ok(d);
    }
    let digest: [u8; 32] = Sha256::digest(read()?.as_ref()).into();
    if let Some(m) = &memo {
        let _ = fs::create_dir_all(memo_dir);
        let _ = crate::atomic_file::write(m, crate::hex::encode(&digest).as_bytes());
    }
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_remembered_until_the_file_changes() {
        let dir = std::env::temp_dir().join(format!("pt-digest-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("f");
        let memo = dir.join("memo");
        fs::write(&file, b"one").unwrap();
        let first = sha256(&memo, &file, || fs::read(&file)).unwrap();
        assert_eq!(first, <[u8; 32]>::from(Sha256::digest(b"one")));
        // Remembered: the bytes are not read again.
        let again = sha256(&memo, &file, || -> std::io::Result<Vec<u8>> {
            panic!("read again")
        })
        .unwrap();
        assert_eq!(again, first);
        // A changed file (another length, another change time) is hashed.
        fs::write(&file, b"two!").unwrap();
        let changed = sha256(&memo, &file, || fs::read(&file)).unwrap();
        assert_eq!(changed, <[u8; 32]>::from(Sha256::digest(b"two!")));
        let _ = fs::remove_dir_all(&dir);
    }
}
