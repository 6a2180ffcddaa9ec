//! Where a suite's tests come from, in order:
//! - `--tests DIR` when given: the directory is placed at
//!   `/home/pyodide/<pkg>-tests/<basename of DIR>/`;
//! - the dist's `<pkg>-tests` archive (`pyodide-lock.json`), when the dist
//!   directory has it: unpacked into site-packages, as Pyodide installs it;
//! - test files the package's wheel ships inside its packages (bitarray,
//!   cytoolz): run where they are installed;
//! - the package's sdist from its index at the wheel's version (cached),
//!   placed whole as the tests' working directory, its tests found as
//!   pytest finds them, its configuration and test dependencies read from
//!   its files (`testdeps/`); tests inside the package's own directory
//!   (`<pkg>/tests`) go into the installed package in site-packages.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::dist::Dist;
use super::sdist::{download_sdist, unpack_sdist};
use super::testdeps::{self, MarkerEnv};
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

/// The `<pkg>-tests` archive the dist's lock lists for `version` of
/// `package`, fetched as Pyodide fetches packages (the dist directory,
/// else the package base URL, checked against the lock's sha256): (its
/// name, its path).
pub fn dist_tests(
    dist: &Dist,
    cache: &Path,
    package: &str,
    version: &str,
) -> Result<Option<(String, PathBuf)>> {
    Ok(super::lock::lock_tests(dist, cache, package, version)?.map(|r| (r.name, r.path)))
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

/// What an sdist adds to a suite besides its test files: the pytest
/// arguments its configuration needs here, the directory the tests run
/// in, its test dependencies, and notes for the run's header.
#[derive(Debug, Clone, Default)]
pub struct SdistSetup {
    /// Extra pytest arguments (`-o addopts=...` when options were dropped).
    pub pytest_args: Vec<String>,
    /// The guest directory the tests run in (the sdist's root there).
    pub cwd: Option<String>,
    /// Test dependencies as pip requirements, with where each was found.
    pub test_deps: Vec<(String, String)>,
    /// Lines for the run's header: dropped options, skipped dependencies.
    pub notes: Vec<String>,
}

/// Which sdist to take tests from, and for what guest.
#[derive(Clone, Copy)]
pub struct SdistWanted<'a> {
    /// The tool's cache.
    pub cache: &'a Path,
    /// The package.
    pub package: &'a str,
    /// Its version (the wheel's).
    pub version: &'a str,
    /// The unpacked wheel (its top-level names stay out of the sdist tree).
    pub wheel_dir: &'a Path,
    /// The guest's site-packages.
    pub site: &'a str,
    /// The guest's environment markers (for test dependencies).
    pub env: &'a MarkerEnv,
}

/// Tests from the package's sdist at `version`, found as pytest would find
/// them (the configured `testpaths`, else test files at any depth). The
/// sdist is placed whole at `/home/pyodide/<pkg>-<version>/`, which is
/// pytest's rootdir and the guest's working directory, so tests find the
/// files beside them; the package's own sources in it (top-level
/// directories or modules named as the wheel's packages) are left out, so
/// the package under test is the wheel's, in site-packages. Tests inside
/// the package's own directory (`pkg/tests`) go into the installed package
/// instead. Its pytest configuration applies, less the options that cannot
/// work in the guest (listed in the notes).
pub fn tests_from_sdist(
    wanted: &SdistWanted<'_>,
    files: &mut Files,
    setup: &mut SdistSetup,
) -> Result<Found> {
    let SdistWanted {
        cache,
        package,
        version,
        wheel_dir,
        site,
        env,
    } = *wanted;
    let archive = download_sdist(cache, package, version)?;
    let top = unpack_sdist(cache, &archive)?;
    let archive_name = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let source = TestSource::Sdist(archive_name.clone());
    let found = testdeps::discover(&top, env);
    // The wheel's top-level import names: their copies in the sdist stay out.
    let own: Vec<String> = fs::read_dir(wheel_dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let p = e.path();
            if p.join("__init__.py").is_file() {
                Some(name)
            } else {
                name.strip_suffix(".py").map(str::to_string)
            }
        })
        .collect();
    let is_own = |rel: &str| {
        let first = rel.split('/').next().unwrap_or(rel);
        own.iter().any(|o| {
            first == o || first == format!("{o}.py") || first.starts_with(&format!("{o}."))
        })
    };
    let test_files: Vec<String> = found
        .roots
        .files()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    if test_files.is_empty() {
        bail!(
            "{package}: the sdist {archive_name} has no test files (test_*.py, *_test.py, or its python_files); give them with --tests DIR"
        );
    }
    for note in found.roots.notes.iter().chain(&found.addopts.notes) {
        setup.notes.push(format!("tests: {note}"));
    }
    if !found.addopts.dropped.is_empty() {
        setup.notes.push(format!(
            "pytest options that cannot work here, dropped: {}",
            found.addopts.dropped.join(" ")
        ));
        setup.pytest_args.extend([
            "-o".into(),
            format!("addopts={}", shell_join(&found.addopts.kept)),
        ]);
    }
    for dep in &found.deps.deps {
        setup
            .test_deps
            .push((dep.req.to_pip_string(), dep.source.clone()));
    }
    // Configuration keys of plugins that will not be here (dropped as
    // unusable in the guest, or unknown) would each be a
    // PytestConfigWarning, an error under `filterwarnings = error`.
    let installed: Vec<String> = found
        .deps
        .deps
        .iter()
        .map(|d| d.req.normalized_name())
        .collect();
    let orphans: Vec<&str> = found
        .config
        .keys()
        .iter()
        .map(String::as_str)
        .filter(|k| !testdeps::plugins::is_core_key(k))
        .filter(|k| {
            testdeps::plugins::key_plugin(k)
                .is_none_or(|p| !installed.contains(&testdeps::normalize_name(p)))
        })
        .collect();
    if !orphans.is_empty() {
        setup.notes.push(format!(
            "configuration keys of plugins not installed here, ignored: {}",
            orphans.join(", ")
        ));
        setup
            .pytest_args
            .extend(["-W".into(), "ignore::pytest.PytestConfigWarning".into()]);
    }
    for note in &found.deps.notes {
        setup
            .notes
            .push(format!("test dependencies: {}", note.message));
    }
    let (walked, skipped) = walk_within(&top, &top)?;
    files.skipped_links.extend(skipped);
    let in_package = test_files.iter().all(|t| is_own(t));
    if in_package {
        // The tests live in the package's own directory: they run from the
        // installed package (site-packages), as the wheel's would.
        let mut tests = Vec::new();
        for rel in &walked {
            if is_own(rel) && test_files.iter().any(|t| under_test_dir(rel, t)) {
                let data = fs::read(top.join(rel))?;
                if test_files.contains(rel) {
                    tests.push(TestFile {
                        rel: rel.clone(),
                        size: data.len() as u64,
                    });
                }
                files.insert(format!("{site}/{rel}"), data);
            }
        }
        tests.sort_by(|a, b| a.rel.cmp(&b.rel));
        return Ok((site.to_string(), tests, source));
    }
    let root = format!("{HOME}/{}-{version}", wheels::normalize(package));
    let mut tests = Vec::new();
    for rel in &walked {
        if is_own(rel) {
            continue;
        }
        let data = fs::read(top.join(rel))?;
        if test_files.contains(rel) {
            tests.push(TestFile {
                rel: rel.clone(),
                size: data.len() as u64,
            });
        }
        files.insert(format!("{root}/{rel}"), data);
    }
    tests.sort_by(|a, b| a.rel.cmp(&b.rel));
    setup.cwd = Some(root.clone());
    Ok((root, tests, source))
}

/// Whether `rel` is in the directory of test file `test` (or below it).
fn under_test_dir(rel: &str, test: &str) -> bool {
    match test.rsplit_once('/') {
        Some((dir, _)) => rel.starts_with(&format!("{dir}/")),
        None => !rel.contains('/'),
    }
}

/// Arguments joined into one shell-like string (for `-o addopts=...`).
fn shell_join(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_=./:,+@%".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
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
