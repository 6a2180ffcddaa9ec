//! Files of the tool's cache that runs keep as long as they use them:
//! each is marked used (its modification time, refreshed at most once a
//! day) when a run reads it, and a directory of them is pruned when one is
//! written: those unused for [`UNUSED_FOR`] go, then the least recently
//! used past a size. For the module cache's stamps, the guests' images,
//! the zygotes' bundles and the rewritten modules' tables.

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Files unused this long are removed when a new one is stored.
pub const UNUSED_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
/// A read marks its file used again once its mark is this old.
const MARK_EVERY: Duration = Duration::from_secs(24 * 3600);

/// Mark a cached file used at `now` (its modification time, which the
/// cache's pruning reads), when the mark is older than [`MARK_EVERY`]: a
/// start does not write each time.
pub fn mark_file_used(file: &fs::File, now: SystemTime) {
    let modified = file.metadata().and_then(|m| m.modified());
    if modified.is_ok_and(|t| at_least(now, t, MARK_EVERY)) {
        let _ = file.set_modified(now);
    }
}

/// Whether `age` or more has passed from `then` to `now`.
pub fn at_least(now: SystemTime, then: SystemTime, age: Duration) -> bool {
    now.duration_since(then).is_ok_and(|d| d >= age)
}

/// Remove the files in `dir` unused for [`UNUSED_FOR`] (and leftovers of
/// writes that did not finish, as old), then the least recently used ones
/// while they take more than `max_bytes`: how many were removed. For the
/// guests' images and the zygotes' bundles, each a file of its own.
pub fn prune_files(dir: &Path, now: SystemTime, max_bytes: u64) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut kept: Vec<(SystemTime, u64, std::path::PathBuf)> = Vec::new();
    let mut removed = 0;
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let unused = at_least(now, used, UNUSED_FOR);
        if unused && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        } else if !unused {
            kept.push((used, meta.len(), entry.path()));
        }
    }
    kept.sort();
    let mut total: u64 = kept.iter().map(|k| k.1).sum();
    for (_, len, path) in kept {
        if total <= max_bytes {
            break;
        }
        if fs::remove_file(&path).is_ok() {
            total -= len;
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_removes_the_unused_then_the_least_recently_used_past_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let day = Duration::from_secs(24 * 3600);
        let put = |name: &str, len: usize, age: Duration| {
            let path = dir.path().join(name);
            std::fs::write(&path, vec![1u8; len]).unwrap();
            let f = std::fs::File::options().write(true).open(&path).unwrap();
            f.set_modified(now - age).unwrap();
        };
        put("old", 10, UNUSED_FOR + day);
        put("a", 100, 3 * day);
        put("b", 100, 2 * day);
        put("c", 100, day);
        put("d", 100, Duration::ZERO);
        assert_eq!(prune_files(dir.path(), now, 250), 3);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["c", "d"]);
    }
}
