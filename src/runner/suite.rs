//! A package's test suite: the wheels its guest needs (the package, pytest
//! and their dependencies, `--with` items), its tests (see
//! `test_sources.rs`), and the files placed in its guests. The package
//! itself is always imported from site-packages.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::dist::Dist;
use super::test_sources::{self, TestFile, TestSource};
use super::wheels::{self, WheelTags};
use crate::host::spec::{FileSet, file_set, site_packages};

/// Our pytest plugin, placed in the guest's site-packages.
pub const PLUGIN_SOURCE: &str = include_str!("plugin.py");
/// The plugin's module name (`-p NAME`).
pub const PLUGIN_MODULE: &str = "_pyodide_test_plugin";

/// A package's suite, ready to run.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The package name as given.
    pub package: String,
    /// The package's version (from its wheel), when known.
    pub version: Option<String>,
    /// Every file the guest gets besides the stdlib: (guest path, content).
    pub files: FileSet,
    /// pytest's rootdir in the guest; test ids are relative to it.
    pub root: String,
    /// The test files, sorted.
    pub test_files: Vec<TestFile>,
    /// Where the tests came from.
    pub source: TestSource,
    /// The unpacked wheels in the guest's site-packages (cache directories).
    pub wheel_dirs: Vec<PathBuf>,
    /// Symlinks in the tests that lead out of their tree: not followed.
    pub skipped_links: Vec<String>,
    /// How each job (test file) of the suite is run in its guest.
    pub driver: Driver,
}

/// How a suite's jobs run in the guest. Every driver reports through the
/// same events (see `events.rs`) and honours `PYODIDE_TEST_RESUME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Driver {
    /// pytest with our plugin over one test file; ids are pytest's node ids,
    /// relative to [`Suite::root`].
    Pytest,
    /// CPython's `Lib/test` through our unittest driver, one test module
    /// (or package) per job; ids are unittest's.
    Unittest {
        /// The directory holding the `test` package in the guest.
        testdir: String,
        /// regrtest's `-u` resources (empty: none).
        resources: Vec<String>,
    },
}

impl Suite {
    /// CPython's arguments for the guest that runs `job` (a test file or
    /// module), with `-k EXPR` and extra arguments for the driver.
    pub fn job_argv(&self, job: &str, keyword: Option<&str>, extra: &[String]) -> Vec<String> {
        let mut args: Vec<String> = Vec::new();
        match &self.driver {
            Driver::Pytest => {
                args.extend(
                    [
                        "-m",
                        "pytest",
                        "-p",
                        PLUGIN_MODULE,
                        "-p",
                        "no:cacheprovider",
                        "--color=no",
                        "--tb=short",
                        "-q",
                        "-rN",
                    ]
                    .map(String::from),
                );
                args.push(format!("--rootdir={}", self.root));
                if let Some(k) = keyword {
                    args.extend(["-k".into(), k.to_string()]);
                }
                args.extend(extra.iter().cloned());
                args.push(format!("{}/{job}", self.root));
            }
            Driver::Unittest { testdir, resources } => {
                args.extend(["-m".into(), UNITTEST_DRIVER_MODULE.into()]);
                args.extend(["--testdir".into(), testdir.clone()]);
                if !resources.is_empty() {
                    args.extend(["-u".into(), resources.join(",")]);
                }
                if let Some(k) = keyword {
                    args.extend(["-k".into(), k.to_string()]);
                }
                args.extend(extra.iter().cloned());
                args.push(job.to_string());
            }
        }
        args
    }
}

/// Our unittest driver for CPython's `Lib/test`, placed in site-packages.
pub const UNITTEST_DRIVER_SOURCE: &str = include_str!("cpython_driver.py");
/// Its module name (`-m NAME`).
pub const UNITTEST_DRIVER_MODULE: &str = "_pyodide_test_cpython";

/// What a suite needs besides the package name.
#[derive(Debug, Clone, Default)]
pub struct SuiteOptions {
    /// `--with` items.
    pub with: Vec<String>,
    /// `--tests DIR`.
    pub tests: Option<PathBuf>,
}

impl Suite {
    /// Resolve the wheels and tests of `package`.
    pub fn prepare(dist: &Dist, cache: &Path, package: &str, opts: &SuiteOptions) -> Result<Suite> {
        let site = site_packages(dist.python_major_minor()?);
        let wanted = wheels::normalize(package);
        // --with items first; then the package unless a --with wheel is it;
        // then pytest unless given.
        let mut wheel_paths = wheels::resolve(dist, cache, &opts.with)?;
        let has = |paths: &[PathBuf], name: &str| {
            paths.iter().any(|p| {
                wheel_tags(p).is_some_and(|t| wheels::normalize(&t.name) == wheels::normalize(name))
            })
        };
        if !has(&wheel_paths, &wanted) {
            let found = wheels::resolve(dist, cache, &[package.to_string()])
                .with_context(|| format!("installing {package}"))?;
            wheel_paths.extend(found);
        }
        if !has(&wheel_paths, "pytest") {
            let found = wheels::resolve(dist, cache, &["pytest".to_string()])
                .context("installing pytest")?;
            wheel_paths.extend(found);
        }
        // One wheel per distribution: the first wins.
        let mut seen = HashSet::new();
        let mut files = test_sources::Files::default();
        let mut own: Option<(PathBuf, String, String)> = None;
        let mut wheel_dirs = Vec::new();
        for wheel in &wheel_paths {
            let Some(tags) = wheel_tags(wheel) else {
                continue;
            };
            if !seen.insert(wheels::normalize(&tags.name)) {
                continue;
            }
            let dir = wheels::unpacked(cache, wheel)?;
            wheel_dirs.push(dir.clone());
            if wheels::normalize(&tags.name) == wanted {
                let name = wheel
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                own = Some((dir.clone(), tags.version.clone(), name));
            }
            for rel in wheels::relative_files(&dir)? {
                let data = fs::read(dir.join(&rel))
                    .with_context(|| format!("reading {}", dir.join(&rel).display()))?;
                files.insert(format!("{site}/{rel}"), data);
            }
        }
        let Some((own_dir, version, own_name)) = own else {
            bail!("no wheel of {package} was found among the resolved wheels");
        };
        files.insert(
            format!("{site}/{PLUGIN_MODULE}.py"),
            PLUGIN_SOURCE.as_bytes().to_vec(),
        );

        let (root, test_files, source) = if let Some(dir) = &opts.tests {
            test_sources::tests_from_dir(dir, package, &mut files)?
        } else if let Some((name, archive)) = test_sources::dist_tests(dist, package)? {
            test_sources::tests_from_archive(cache, &name, &archive, &site, &mut files)?
        } else if let Some(tests) = test_sources::wheel_tests(&own_dir)? {
            (site.clone(), tests, TestSource::Wheel(own_name))
        } else {
            test_sources::tests_from_sdist(cache, package, &version, &own_dir, &site, &mut files)?
        };
        if test_files.is_empty() {
            bail!("{package}: no test files (test_*.py, *_test.py) found ({source})");
        }
        Ok(Suite {
            package: package.to_string(),
            version: Some(version),
            files: file_set(files.map),
            root,
            test_files,
            source,
            wheel_dirs,
            skipped_links: files.skipped_links,
            driver: Driver::Pytest,
        })
    }
}

fn wheel_tags(path: &Path) -> Option<WheelTags> {
    WheelTags::parse(&path.file_name()?.to_string_lossy()).ok()
}
