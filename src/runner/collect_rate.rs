//! How fast a suite's collectors collect, remembered between runs.
//!
//! Where a run leaves a core idle, the zygote collects only the test files
//! the worker runs first, just enough of them to keep it busy while a
//! forked collector collects the rest on the idle core (see the zygote
//! backend's `first_share`). How many is enough depends on how long the
//! rest takes to collect: a fixed guess of seconds per byte of test files
//! was 4.4 times pydantic-core's measured rate and 2.2 times simplejson's,
//! so the zygote collected two to seven files where one or two would do,
//! before the first test could start. Each run measures its forked
//! collectors and keeps the slowest rate per suite in the cache
//! (`collect-rates.json`), which the next run plans with.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use sha2::{Digest, Sha256};

use super::suite::Suite;

/// Seconds of a forked collector per byte of test files, by suite
/// ([`suite_key`]).
pub type Rates = BTreeMap<String, f64>;

/// What names a suite's rate: its package and the names of its test
/// files (two suites of one name, a reproducer's directory and a
/// package's, or a package's tests before and after a file was added,
/// collect differently).
pub fn suite_key(suite: &Suite) -> String {
    key_of(
        &suite.package,
        suite.test_files.iter().map(|f| f.rel.as_str()),
    )
}

/// [`suite_key`] of package `package` with test files `files` (paths
/// relative to the suite's root, in any order).
pub fn key_of<'a>(package: &str, files: impl IntoIterator<Item = &'a str>) -> String {
    let mut files: Vec<&str> = files.into_iter().collect();
    files.sort_unstable();
    let mut names = Sha256::new();
    for file in files {
        names.update(file.as_bytes());
        names.update(b"\0");
    }
    let digest = crate::hex::encode(&names.finalize()[..8]);
    format!("{package} {digest}")
}

/// The cache's file of rates.
const FILE: &str = "collect-rates.json";

/// The rates the cache holds (none where it holds none, or an unreadable
/// file).
pub fn load(cache: &Path) -> Rates {
    std::fs::read_to_string(cache.join(FILE))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Keep `measured` in the cache, over what it holds for the same suites
/// (a rate is the latest run's; other runs may have saved others since).
pub fn save(cache: &Path, measured: &Rates) -> Result<()> {
    if measured.is_empty() {
        return Ok(());
    }
    let mut rates = load(cache);
    for (package, rate) in measured {
        if rate.is_finite() && *rate > 0.0 {
            rates.insert(package.clone(), *rate);
        }
    }
    crate::atomic_file::write(&cache.join(FILE), serde_json::to_string(&rates)?.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::{Rates, load, save, suite_key};
    use crate::runner::scheduler::tests::suite as with_sizes;
    use crate::runner::suite::Suite;

    fn suite(package: &str, files: &[&str]) -> Suite {
        let sized: Vec<(&str, u64)> = files.iter().map(|f| (*f, 1)).collect();
        with_sizes(package, &sized)
    }

    #[test]
    fn a_suite_is_known_by_its_package_and_test_files() {
        let key = suite_key(&suite("p", &["test_a.py", "test_b.py"]));
        assert!(key.starts_with("p "), "{key}");
        assert_eq!(key, suite_key(&suite("p", &["test_a.py", "test_b.py"])));
        assert_ne!(key, suite_key(&suite("q", &["test_a.py", "test_b.py"])));
        assert_ne!(key, suite_key(&suite("p", &["test_a.py"])));
        assert_ne!(key, suite_key(&suite("p", &["test_a.pytest_b.py"])));
        assert_eq!(key, suite_key(&suite("p", &["test_b.py", "test_a.py"])));
        assert_eq!(key, super::key_of("p", ["test_b.py", "test_a.py"]));
    }

    #[test]
    fn rates_are_kept_per_suite_and_replaced_by_the_latest() {
        let dir = std::env::temp_dir().join(format!("pt-collect-rate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        assert!(load(&dir).is_empty());
        let first: Rates = [("a".to_string(), 1e-6), ("b".to_string(), 2e-6)].into();
        save(&dir, &first).unwrap();
        let second: Rates = [
            ("a".to_string(), 3e-6),
            // Not a rate: ignored, the old one stays.
            ("b".to_string(), f64::NAN),
        ]
        .into();
        save(&dir, &second).unwrap();
        let kept = load(&dir);
        assert_eq!(kept.get("a"), Some(&3e-6));
        assert_eq!(kept.get("b"), Some(&2e-6));
        std::fs::write(dir.join(super::FILE), b"not json").unwrap();
        assert!(load(&dir).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
