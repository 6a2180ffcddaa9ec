//! Where a suite's tests come from, in order:
//! - `--tests DIR` when given: the directory is placed at
//!   `/home/pyodide/<pkg>-tests/<basename of DIR>/`;
//! - the dist's `<pkg>-tests` archive (`pyodide-lock.json`), when the dist
//!   directory has it: unpacked into site-packages, as Pyodide installs it;
//! - test files the package's wheel ships inside its packages (bitarray,
//!   cytoolz): run where they are installed;
//! - the package's sdist from PyPI at the wheel's version (`pip download`,
//!   cached): its `tests/` or `test/` directory goes to
//!   `/home/pyodide/<pkg>-tests/` with the sdist's top-level `conftest.py`
//!   and pytest configuration; tests inside the package (`<pkg>/tests`,
//!   `src/<pkg>/tests`) go into the installed package in site-packages.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::dist::Dist;
use super::sdist::{download_sdist, unpack_sdist};
use super::wheels;
use crate::host::layout::HOME;

/// Files to place in the guest, by guest path, and the symlinks left out
/// because they lead outside the tree they were found in.
#[derive(Debug, Default)]
pub struct Files {
    /// Guest path -> content.
    pub map: BTreeMap<String, Vec<u8>>,
    /// Host paths of symlinks that lead out of their tree (not followed).
    pub skipped_links: Vec<String>,
}

impl Files {
    /// Place `data` at guest path `path`.
    pub fn insert(&mut self, path: String, data: Vec<u8>) {
        self.map.insert(path, data);
    }
}

/// The tests of a suite: pytest's rootdir in the guest, the test files
/// (relative to it) and where they came from.
pub type Found = (String, Vec<TestFile>, TestSource);

/// Pytest configuration files taken from an sdist's top level.
const CONFIG_FILES: [&str; 5] = [
    "conftest.py",
    "pytest.ini",
    "pyproject.toml",
    "setup.cfg",
    "tox.ini",
];

/// Where a suite's tests came from (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestSource {
    /// `--tests DIR`.
    Dir(PathBuf),
    /// The dist's `<pkg>-tests` archive.
    Dist(String),
    /// The package's wheel itself (tests inside the package).
    Wheel(String),
    /// The sdist file from PyPI.
    Sdist(String),
}

impl std::fmt::Display for TestSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TestSource::Dir(d) => write!(f, "tests from {}", d.display()),
            TestSource::Dist(name) => write!(f, "tests from the dist's {name}"),
            TestSource::Wheel(name) => write!(f, "tests in the wheel {name}"),
            TestSource::Sdist(name) => write!(f, "tests from the sdist {name}"),
        }
    }
}

/// One test file of a suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestFile {
    /// Path relative to the suite's root (pytest's rootdir), `/`-separated;
    /// the prefix of its tests' node ids.
    pub rel: String,
    /// Size in bytes (a first guess of how long it runs).
    pub size: u64,
}

/// Is `rel` (a `/`-separated path) a test file by pytest's default rule?
pub fn is_test_file(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name.ends_with(".py")
        && (name.starts_with("test_") || name.ends_with("_test.py"))
        && !rel.split('/').any(|c| c == "__pycache__")
}

/// Test files the package's wheel ships inside its packages.
pub fn wheel_tests(dir: &Path) -> Result<Option<Vec<TestFile>>> {
    let mut tests = Vec::new();
    for rel in wheels::relative_files(dir)? {
        let top = rel.split('/').next().unwrap_or("");
        if top.ends_with(".dist-info") || top.ends_with(".data") || !rel.contains('/') {
            continue;
        }
        if is_test_file(&rel) {
            let size = fs::metadata(dir.join(&rel))?.len();
            tests.push(TestFile { rel, size });
        }
    }
    Ok((!tests.is_empty()).then_some(tests))
}

/// `--tests DIR`: the directory goes to `/home/pyodide/<pkg>-tests/<name>`.
pub fn tests_from_dir(dir: &Path, package: &str, files: &mut Files) -> Result<Found> {
    if !dir.is_dir() {
        bail!("--tests {}: not a directory", dir.display());
    }
    let abs = fs::canonicalize(dir).with_context(|| format!("--tests {}", dir.display()))?;
    let name = abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tests".into());
    let root = format!("{HOME}/{}-tests", wheels::normalize(package));
    let mut tests = Vec::new();
    copy_tree(
        &abs,
        &abs,
        &format!("{root}/{name}"),
        &format!("{name}/"),
        files,
        &mut tests,
    )?;
    Ok((root, tests, TestSource::Dir(dir.to_path_buf())))
}

/// Copy the files under `host` to `guest` (recursively), noting test files
/// (as `prefix` + their relative path).
fn copy_tree(
    host: &Path,
    root: &Path,
    guest: &str,
    prefix: &str,
    files: &mut Files,
    tests: &mut Vec<TestFile>,
) -> Result<()> {
    let (found, skipped) = walk_within(host, root)?;
    files.skipped_links.extend(skipped);
    for rel in found {
        let data = fs::read(host.join(&rel))
            .with_context(|| format!("reading {}", host.join(&rel).display()))?;
        if is_test_file(&rel) {
            tests.push(TestFile {
                rel: format!("{prefix}{rel}"),
                size: data.len() as u64,
            });
        }
        files.insert(format!("{guest}/{rel}"), data);
    }
    tests.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(())
}

/// Relative paths of the files under `dir`, skipping caches, VCS
/// directories, compiled files and symlinks that lead out of `dir`.
pub fn walk(dir: &Path) -> Result<Vec<String>> {
    Ok(walk_within(dir, dir)?.0)
}

/// The files under `dir` (as [`walk`]) where a symlink counts only if it
/// leads to a file inside `root`; the others are returned apart (their host
/// paths) and never read. Symlinked directories are not followed.
pub fn walk_within(dir: &Path, root: &Path) -> Result<(Vec<String>, Vec<String>)> {
    let root = fs::canonicalize(root).with_context(|| format!("resolving {}", root.display()))?;
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, prefix)) = stack.pop() {
        for entry in fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "__pycache__" || name.starts_with(".git") || name.ends_with(".pyc") {
                continue;
            }
            let rel = format!("{prefix}{name}");
            let ty = entry.file_type()?;
            if ty.is_dir() {
                stack.push((entry.path(), format!("{rel}/")));
            } else if ty.is_file() {
                out.push(rel);
            } else if ty.is_symlink() {
                let target = fs::canonicalize(entry.path()).ok();
                match target {
                    Some(t) if t.starts_with(&root) && t.is_file() => out.push(rel),
                    Some(t) if t.starts_with(&root) => {}
                    _ => skipped.push(entry.path().display().to_string()),
                }
            }
        }
    }
    out.sort();
    skipped.sort();
    Ok((out, skipped))
}

/// Whether `path` (a file) is inside `root` after resolving symlinks; one
/// that leads out is noted in `files` and must not be read.
fn file_within(path: &Path, root: &Path, files: &mut Files) -> bool {
    let inside = match (fs::canonicalize(path), fs::canonicalize(root)) {
        (Ok(p), Ok(r)) => p.starts_with(r),
        _ => false,
    };
    if !inside {
        files.skipped_links.push(path.display().to_string());
    }
    inside
}

/// The dist's `<pkg>-tests` archive, if the lock lists it and the dist
/// directory has it: (its name, its path).
pub fn dist_tests(dist: &Dist, package: &str) -> Result<Option<(String, PathBuf)>> {
    #[derive(serde::Deserialize)]
    struct Pkg {
        name: String,
        file_name: String,
    }
    #[derive(serde::Deserialize)]
    struct Lock {
        packages: BTreeMap<String, Pkg>,
    }
    let text = fs::read_to_string(dist.path("pyodide-lock.json"))?;
    let lock: Lock = serde_json::from_str(&text).context("reading pyodide-lock.json")?;
    let want = format!("{}-tests", wheels::normalize(package));
    for p in lock.packages.values() {
        let archive = p.file_name.ends_with(".zip") || p.file_name.ends_with(".whl");
        let path = dist.path(&p.file_name);
        if wheels::normalize(&p.name) == want && archive && path.is_file() {
            return Ok(Some((p.name.clone(), path)));
        }
    }
    Ok(None)
}

/// The dist's `<pkg>-tests` archive `name` at `archive`, unpacked into
/// site-packages as Pyodide installs it; the tests run where they land.
pub fn tests_from_archive(
    cache: &Path,
    name: &str,
    archive: &Path,
    site: &str,
    files: &mut Files,
) -> Result<Found> {
    let unpacked = wheels::unpacked(cache, archive)?;
    let mut tests = Vec::new();
    for rel in wheels::relative_files(&unpacked)? {
        let data = fs::read(unpacked.join(&rel))?;
        if is_test_file(&rel) {
            tests.push(TestFile {
                rel: rel.clone(),
                size: data.len() as u64,
            });
        }
        files.insert(format!("{site}/{rel}"), data);
    }
    Ok((site.to_string(), tests, TestSource::Dist(name.to_string())))
}

/// Tests from the package's sdist at `version`.
pub fn tests_from_sdist(
    cache: &Path,
    package: &str,
    version: &str,
    wheel_dir: &Path,
    site: &str,
    files: &mut Files,
) -> Result<Found> {
    let archive = download_sdist(cache, package, version)?;
    let top = unpack_sdist(cache, &archive)?;
    let archive_name = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let source = TestSource::Sdist(archive_name.clone());
    // Top-level test directories.
    for name in ["tests", "test", "testing"] {
        let dir = top.join(name);
        if dir.is_dir() && !walk(&dir)?.iter().all(|r| !is_test_file(r)) {
            let root = format!("{HOME}/{}-tests", wheels::normalize(package));
            let mut tests = Vec::new();
            copy_tree(
                &dir,
                &top,
                &format!("{root}/{name}"),
                &format!("{name}/"),
                files,
                &mut tests,
            )?;
            for cfg in CONFIG_FILES {
                let p = top.join(cfg);
                if p.is_file() && file_within(&p, &top, files) {
                    files.insert(format!("{root}/{cfg}"), fs::read(&p)?);
                }
            }
            return Ok((root, tests, source));
        }
    }
    // Test modules at the sdist's top level (six's test_six.py).
    let mut top_tests = Vec::new();
    for entry in fs::read_dir(&top)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_file() && is_test_file(&name) {
            top_tests.push(name);
        }
    }
    if !top_tests.is_empty() {
        top_tests.sort();
        let root = format!("{HOME}/{}-tests", wheels::normalize(package));
        let mut tests = Vec::new();
        for name in top_tests.iter().map(String::as_str).chain(CONFIG_FILES) {
            let p = top.join(name);
            if p.is_file() && file_within(&p, &top, files) {
                let data = fs::read(&p)?;
                if is_test_file(name) {
                    tests.push(TestFile {
                        rel: name.to_string(),
                        size: data.len() as u64,
                    });
                }
                files.insert(format!("{root}/{name}"), data);
            }
        }
        return Ok((root, tests, source));
    }
    // Tests inside the package: into the installed package.
    let mut packages: Vec<String> = fs::read_dir(wheel_dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("__init__.py").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    packages.sort();
    for pkg in &packages {
        for base in [top.join(pkg), top.join("src").join(pkg)] {
            for name in ["tests", "test"] {
                let dir = base.join(name);
                if dir.is_dir() && walk(&dir)?.iter().any(|r| is_test_file(r)) {
                    let mut tests = Vec::new();
                    let rel = format!("{pkg}/{name}");
                    copy_tree(
                        &dir,
                        &top,
                        &format!("{site}/{rel}"),
                        &format!("{rel}/"),
                        files,
                        &mut tests,
                    )?;
                    return Ok((site.to_string(), tests, source));
                }
            }
        }
    }
    bail!(
        "{package}: the sdist {archive_name} has no test directory (tests/, test/ or <pkg>/tests); give one with --tests DIR"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_file_rule() {
        assert!(is_test_file("test/test_a.py"));
        assert!(is_test_file("a_test.py"));
        assert!(!is_test_file("test/conftest.py"));
        assert!(!is_test_file("test/__pycache__/test_a.py"));
        assert!(!is_test_file("test/test_a.txt"));
    }
}
