//! Test roots, as pytest finds them when run without arguments: the
//! configured `testpaths` (glob patterns, relative to the rootdir) when
//! any of them exists; otherwise every directory holding test files
//! (`python_files`, default `test_*.py` / `*_test.py`) at any depth.
//! Directories are not entered when they match `norecursedirs` (pytest's
//! defaults when not configured), are virtualenvs (`pyvenv.cfg`), or are
//! in the fixed list [`ALWAYS_SKIPPED`]. A scan's directories are lifted
//! to their top-most `test`/`tests`/`testing` ancestor and nested ones
//! merged; test modules at the sdist's top level are roots of their own.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::config::PytestConfig;
use super::pattern::{fnmatch_path, glob, rel_string};

/// Directories never searched for tests (patterns as `norecursedirs`).
pub const ALWAYS_SKIPPED: &[&str] = &[
    ".git",
    "build",
    "dist",
    "*.egg-info",
    "node_modules",
    "venv",
    ".venv",
    ".tox",
    ".nox",
    "docs/_build",
    "site-packages",
    "__pycache__",
];

/// pytest's default `norecursedirs`.
pub const DEFAULT_NORECURSEDIRS: &[&str] = &[
    "*.egg",
    ".*",
    "_darcs",
    "build",
    "CVS",
    "dist",
    "node_modules",
    "venv",
    "{arch}",
];

/// How the roots were chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootsFrom {
    /// The configured `testpaths`.
    Testpaths,
    /// A scan of the sdist (no `testpaths` configured).
    Scan,
    /// A scan, because no configured `testpaths` entry exists.
    ScanAfterMissingTestpaths,
}

/// One test root and the test files under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRoot {
    /// A directory or a file, relative to the sdist root.
    pub path: PathBuf,
    /// Its test files, relative to the sdist root, sorted.
    pub files: Vec<PathBuf>,
}

/// The test roots of an sdist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRoots {
    /// The roots, sorted.
    pub roots: Vec<TestRoot>,
    /// How they were chosen.
    pub from: RootsFrom,
    /// Remarks (missing `testpaths` entries, non-Python files, ...).
    pub notes: Vec<String>,
}

impl TestRoots {
    /// Every test file, relative to the sdist root.
    pub fn files(&self) -> impl Iterator<Item = &PathBuf> {
        self.roots.iter().flat_map(|r| r.files.iter())
    }

    /// How many test files there are.
    pub fn file_count(&self) -> usize {
        self.roots.iter().map(|r| r.files.len()).sum()
    }
}

/// What the walk skips and collects.
struct Rules {
    norecurse: Vec<String>,
    python_files: Vec<String>,
}

impl Rules {
    fn skip_dir(&self, root: &Path, rel: &Path) -> bool {
        let r = rel_string(rel);
        ALWAYS_SKIPPED.iter().any(|p| fnmatch_path(p, &r))
            || self.norecurse.iter().any(|p| fnmatch_path(p, &r))
            || root.join(rel).join("pyvenv.cfg").is_file()
    }

    fn is_test_file(&self, rel: &Path) -> bool {
        let r = rel_string(rel);
        r.ends_with(".py") && self.python_files.iter().any(|p| fnmatch_path(p, &r))
    }

    /// Test files under `rel` (a directory), depth first, sorted.
    fn walk(&self, root: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(root.join(rel)) else {
            return;
        };
        let mut entries: Vec<(String, bool, bool)> = rd
            .flatten()
            .map(|e| {
                let t = e.file_type().ok();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    t.is_some_and(|t| t.is_dir()),
                    t.is_some_and(|t| t.is_file() || t.is_symlink()),
                )
            })
            .collect();
        entries.sort();
        for (name, is_dir, is_file) in entries {
            let child = rel.join(&name);
            if is_dir {
                if !self.skip_dir(root, &child) {
                    self.walk(root, &child, out);
                }
            } else if is_file && self.is_test_file(&child) {
                out.push(child);
            }
        }
    }
}

/// Find the test roots of the sdist at `root` under `config`.
pub fn find_test_roots(root: &Path, config: &PytestConfig) -> TestRoots {
    let mut r = find_roots(root, config);
    // Roots inside a top-level package directory (`bitarray/tests`,
    // `simplejson/tests`): the sdist's uncompiled copy can shadow the wheel.
    let mut packages: Vec<String> = Vec::new();
    for t in &r.roots {
        let Some(first) = t.path.components().next() else {
            continue;
        };
        let first = first.as_os_str().to_string_lossy().into_owned();
        // A `tests/` package is the suite itself, not the project.
        if !is_test_dir_name(&first) && root.join(&t.path).is_dir() {
            let init = root.join(&first).join("__init__.py");
            if init.is_file() && !packages.contains(&first) {
                packages.push(first);
            }
        }
    }
    for p in packages {
        r.notes.push(format!(
            "test root inside the package directory `{p}/` (it has `__init__.py`): \
             imports may pick the sdist's uncompiled source over the installed wheel"
        ));
    }
    r
}

fn find_roots(root: &Path, config: &PytestConfig) -> TestRoots {
    let rules = Rules {
        norecurse: config.norecursedirs().unwrap_or_else(|| {
            DEFAULT_NORECURSEDIRS
                .iter()
                .map(|s| s.to_string())
                .collect()
        }),
        python_files: config.python_files(),
    };
    let mut notes = Vec::new();
    let testpaths = config.testpaths();
    let mut from = RootsFrom::Scan;
    if !testpaths.is_empty() {
        let mut roots = Vec::new();
        for pattern in &testpaths {
            let matches = glob(&root.join(&config.dir), pattern);
            if matches.is_empty() {
                notes.push(format!("testpaths entry `{pattern}` matches nothing"));
            }
            for m in matches {
                let path = config.dir.join(m);
                let full = root.join(&path);
                let mut files = Vec::new();
                if full.is_dir() {
                    rules.walk(root, &path, &mut files);
                } else if path.extension().is_some_and(|e| e == "py") {
                    files.push(path.clone());
                } else {
                    notes.push(format!(
                        "testpaths entry `{}` is not a Python file (collected only by a plugin or --doctest-glob)",
                        rel_string(&path)
                    ));
                }
                if !roots.iter().any(|r: &TestRoot| r.path == path) {
                    roots.push(TestRoot { path, files });
                }
            }
        }
        if !roots.is_empty() {
            return TestRoots {
                roots,
                from: RootsFrom::Testpaths,
                notes,
            };
        }
        from = RootsFrom::ScanAfterMissingTestpaths;
    }
    let mut files = Vec::new();
    rules.walk(root, Path::new(""), &mut files);
    TestRoots {
        roots: group(files),
        from,
        notes,
    }
}

fn is_test_dir_name(name: &str) -> bool {
    matches!(name, "test" | "tests" | "testing")
}

/// Group scanned test files into roots.
fn group(files: Vec<PathBuf>) -> Vec<TestRoot> {
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    let mut top_files = Vec::new();
    for f in &files {
        let parent = f.parent().unwrap_or(Path::new(""));
        if parent.as_os_str().is_empty() {
            top_files.push(f.clone());
            continue;
        }
        // Lift to the top-most test-named ancestor (itself included).
        let mut lifted = parent.to_path_buf();
        for anc in parent.ancestors() {
            if anc
                .file_name()
                .is_some_and(|n| is_test_dir_name(&n.to_string_lossy()))
            {
                lifted = anc.to_path_buf();
            }
        }
        dirs.insert(lifted);
    }
    // Keep only the outermost directories.
    let outer: Vec<PathBuf> = dirs
        .iter()
        .filter(|d| !dirs.iter().any(|o| o != *d && d.starts_with(o)))
        .cloned()
        .collect();
    let mut roots: Vec<TestRoot> = outer
        .into_iter()
        .map(|d| TestRoot {
            files: files
                .iter()
                .filter(|f| f.starts_with(&d))
                .cloned()
                .collect(),
            path: d,
        })
        .collect();
    roots.extend(top_files.into_iter().map(|f| TestRoot {
        path: f.clone(),
        files: vec![f],
    }));
    roots.sort_by(|a, b| a.path.cmp(&b.path));
    roots
}

#[cfg(test)]
mod tests {
    use super::super::config::ConfigValue;
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for f in files {
            let p = d.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
        d
    }

    fn summary(r: &TestRoots) -> Vec<String> {
        r.roots
            .iter()
            .map(|r| format!("{}:{}", rel_string(&r.path), r.files.len()))
            .collect()
    }

    fn config(pairs: &[(&str, &str)]) -> PytestConfig {
        let mut c = PytestConfig::default();
        for (k, v) in pairs {
            c.values
                .insert(k.to_string(), ConfigValue::Str(v.to_string()));
        }
        c
    }

    #[test]
    fn scans_common_layouts() {
        let d = tree(&[
            "tests/test_a.py",
            "tests/unit/test_b.py",
            "tests/conftest.py",
            "src/pkg/tests/test_c.py",
            "src/pkg/core.py",
            "pkg2/tests/sub/check_test.py",
            "crates/foo-python/tests/test_d.py",
            "test_top.py",
            "build/lib/tests/test_copy.py",
            "pkg.egg-info/test_x.py",
            ".tox/py/test_y.py",
            "docs/_build/test_z.py",
            "venv2/pyvenv.cfg",
            "venv2/lib/test_v.py",
            "benchmarks/unit/test_bench.py",
            "pkg2/__init__.py",
        ]);
        let r = find_test_roots(d.path(), &PytestConfig::default());
        assert_eq!(r.from, RootsFrom::Scan);
        assert_eq!(
            summary(&r),
            [
                "benchmarks/unit:1",
                "crates/foo-python/tests:1",
                "pkg2/tests:1",
                "src/pkg/tests:1",
                "test_top.py:1",
                "tests:2"
            ]
        );
        assert_eq!(r.file_count(), 7);
        assert_eq!(
            r.notes.len(),
            1,
            "pkg2/tests is inside a package: {:?}",
            r.notes
        );
    }

    #[test]
    fn uses_testpaths_and_patterns() {
        let d = tree(&[
            "tests/test_a.py",
            "tests/fixtures/test_data.py",
            "tests/check_b.py",
            "other/test_c.py",
            "README.rst",
        ]);
        let c = config(&[
            ("testpaths", "tests\n missing\n README.rst"),
            ("python_files", "test_*.py check_*.py"),
            ("norecursedirs", "fixtures"),
        ]);
        let r = find_test_roots(d.path(), &c);
        assert_eq!(r.from, RootsFrom::Testpaths);
        assert_eq!(summary(&r), ["tests:2", "README.rst:0"]);
        assert_eq!(r.notes.len(), 2);
        let c = config(&[("testpaths", "nowhere")]);
        let r = find_test_roots(d.path(), &c);
        assert_eq!(r.from, RootsFrom::ScanAfterMissingTestpaths);
        assert_eq!(summary(&r), ["other:1", "tests:2"]);
        let c = config(&[("testpaths", "*/test_*.py")]);
        let r = find_test_roots(d.path(), &c);
        assert_eq!(summary(&r), ["other/test_c.py:1", "tests/test_a.py:1"]);
    }
}
