//! A package's test suite: the wheels its guest needs (the package, pytest
//! and their dependencies, `--with` items), its tests (see
//! `test_sources.rs`), and the files placed in its guests. The package
//! itself is always imported from site-packages.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::dist::Dist;
use super::lock::{InstallDir, Installed};
use super::test_sources::{self, TestFile, TestSource};
use super::testdeps::MarkerEnv;
use super::wheels;
use super::wheels::Resolution;
use crate::host::spec::{FileSet, file_set, site_packages};

/// Our pytest plugin, placed in the guest's site-packages.
pub const PLUGIN_SOURCE: &str = include_str!("plugin.py");
/// The plugin's module name (`-p NAME`).
pub const PLUGIN_MODULE: &str = "_pyodide_test_plugin";
/// The variable that names, to a guest's driver, the file of the node ids
/// that already have a result (a file resumed after a crash).
pub const RESUME_VAR: &str = "PYODIDE_TEST_RESUME";
/// The variable that gives a job's part of its file's tests, `K/N` (see
/// [`super::split::split_long`]); the plugin keeps that part.
pub const PART_VAR: &str = "PYODIDE_TEST_PART";
/// With [`PART_VAR`]: the first test of each part after the first, one a
/// line (the parts cut by the tests' known times).
pub const PART_CUTS_VAR: &str = "PYODIDE_TEST_PART_CUTS";

/// Part `index` of `of` (from 1) of a file's tests, as a job gives it to
/// the plugin ([`PART_VAR`], [`PART_CUTS_VAR`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// Which part.
    pub index: u32,
    /// Of how many.
    pub of: u32,
    /// The first test of each part after the first, cut by the tests'
    /// known times; empty: parts of about as many tests.
    pub cuts: Vec<String>,
}

impl Part {
    /// (index, of).
    pub fn number(&self) -> (u32, u32) {
        (self.index, self.of)
    }
}

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
    /// The guest directory its jobs run in (default: the guest's home).
    pub cwd: Option<String>,
    /// Arguments every job's driver gets (the sdist's configuration
    /// adjusted for the guest).
    pub pytest_args: Vec<String>,
    /// Lines for the run's header: what was dropped or not installed.
    pub notes: Vec<String>,
    /// The top-level modules of the package's wheel: the plugin checks
    /// that the tests import them from site-packages.
    pub modules: Vec<String>,
    /// Every distribution installed for the suite, its version and source.
    pub installed: Vec<Installed>,
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
                args.extend(self.pytest_args.iter().cloned());
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
    /// `--no-test-deps`: do not install the test dependencies the sdist
    /// declares.
    pub no_test_deps: bool,
}

/// Places resolved packages in the guest (wheels in site-packages, shared
/// libraries in `/usr/lib`), one per distribution (the first wins), and
/// keeps the record of what was installed from where.
struct Installer<'a> {
    cache: &'a Path,
    python: (u32, u32),
    seen: HashSet<String>,
    files: test_sources::Files,
    wheel_dirs: Vec<PathBuf>,
    installed: Vec<Installed>,
}

/// Resolve the `--with` items, then each of `needed` that they do not
/// already provide.
fn resolve_with(dist: &Dist, cache: &Path, with: &[String], needed: &[&str]) -> Result<Resolution> {
    let mut resolution = wheels::resolve_all(dist, cache, with)?;
    for name in needed {
        let wanted = wheels::normalize(name);
        if resolution
            .files
            .iter()
            .any(|f| wheels::normalize(&f.name) == wanted)
        {
            continue;
        }
        let found = wheels::resolve_all(dist, cache, &[name.to_string()])
            .with_context(|| format!("installing {name}"))?;
        resolution.files.extend(found.files);
    }
    Ok(resolution)
}

impl<'a> Installer<'a> {
    /// An installer for a guest of CPython `python`, with our pytest
    /// plugin already in its site-packages.
    fn new(cache: &'a Path, python: (u32, u32)) -> Self {
        let mut files = test_sources::Files::default();
        files.insert(
            format!("{}/{PLUGIN_MODULE}.py", site_packages(python)),
            PLUGIN_SOURCE.as_bytes().to_vec(),
        );
        Self {
            cache,
            python,
            seen: HashSet::new(),
            files,
            wheel_dirs: Vec::new(),
            installed: Vec::new(),
        }
    }

    /// Place every file of `resolution` not placed yet; returns the
    /// unpacked directory and version of `wanted` when it was placed.
    fn place(
        &mut self,
        resolution: &Resolution,
        wanted: &str,
    ) -> Result<Option<(PathBuf, String, String)>> {
        let mut own = None;
        for r in &resolution.files {
            if !self.seen.insert(wheels::normalize(&r.name)) {
                continue;
            }
            let dir = wheels::unpacked(self.cache, &r.path)?;
            let base = r.guest_dir(self.python);
            for rel in wheels::relative_files(&dir)? {
                let data = fs::read(dir.join(&rel))
                    .with_context(|| format!("reading {}", dir.join(&rel).display()))?;
                self.files.insert(format!("{base}/{rel}"), data);
            }
            if r.install_dir == InstallDir::Site {
                self.wheel_dirs.push(dir.clone());
            }
            if wheels::normalize(&r.name) == wanted {
                let file = r
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                own = Some((dir, r.version.clone(), file));
            }
            self.installed.push(r.installed());
        }
        Ok(own)
    }
}

impl Suite {
    /// Resolve the wheels and tests of `package`.
    pub fn prepare(dist: &Dist, cache: &Path, package: &str, opts: &SuiteOptions) -> Result<Suite> {
        let site = site_packages(dist.python_major_minor()?);
        let wanted = wheels::normalize(package);
        // --with items first; then the package unless a --with wheel is it;
        // then pytest unless given.
        let resolution = resolve_with(dist, cache, &opts.with, &[package, "pytest"])?;
        let mut install = Installer::new(cache, dist.python_major_minor()?);
        let own = install.place(&resolution, &wanted)?;
        let Some((own_dir, version, own_name)) = own else {
            bail!("no wheel of {package} was found among the resolved wheels");
        };

        let mut sdist = test_sources::SdistSetup::default();
        let files = &mut install.files;
        let (root, test_files, source) = if let Some(dir) = &opts.tests {
            test_sources::tests_from_dir(dir, package, files)?
        } else if let Some((name, archive)) =
            test_sources::dist_tests(dist, cache, package, &version)?
        {
            test_sources::tests_from_archive(cache, &name, &archive, &site, files)?
        } else if let Some(tests) = test_sources::wheel_tests(&own_dir)? {
            (site.clone(), tests, TestSource::Wheel(own_name))
        } else {
            let env = MarkerEnv::pyodide(&dist.info().python, &dist.emscripten_version());
            let wanted = test_sources::SdistWanted {
                cache,
                package,
                version: &version,
                wheel_dir: &own_dir,
                site: &site,
                env: &env,
            };
            test_sources::tests_from_sdist(&wanted, files, &mut sdist)?
        };
        if test_files.is_empty() {
            bail!("{package}: no test files (test_*.py, *_test.py) found ({source})");
        }
        // The test dependencies the sdist declares, each resolved on its
        // own: one that cannot be installed is a note, not a failure.
        let mut notes = std::mem::take(&mut sdist.notes);
        if !opts.no_test_deps {
            for (req, from) in &sdist.test_deps {
                match wheels::resolve_all(dist, cache, std::slice::from_ref(req)) {
                    Ok(found) => {
                        install.place(&found, "")?;
                    }
                    Err(e) => notes.push(format!(
                        "test dependency {req} (from {from}) not installed: {}",
                        one_line(&e)
                    )),
                }
            }
        } else if !sdist.test_deps.is_empty() {
            notes.push(format!(
                "--no-test-deps: not installed: {}",
                sdist
                    .test_deps
                    .iter()
                    .map(|(r, _)| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(Suite {
            package: package.to_string(),
            version: Some(version),
            files: file_set(install.files.map),
            root,
            test_files,
            source,
            wheel_dirs: install.wheel_dirs,
            installed: install.installed,
            skipped_links: install.files.skipped_links,
            driver: Driver::Pytest,
            cwd: sdist.cwd,
            pytest_args: sdist.pytest_args,
            notes,
            modules: top_level_modules(&own_dir)?,
        })
    }
}

impl Suite {
    /// A reproducer directory's suite (`--tests DIR` with no package): its
    /// tests with pytest and the `--with` items, named `name` (the
    /// directory's name).
    pub fn prepare_reproducer(
        dist: &Dist,
        cache: &Path,
        name: &str,
        dir: &Path,
        opts: &SuiteOptions,
    ) -> Result<Suite> {
        let resolution = resolve_with(dist, cache, &opts.with, &["pytest"])?;
        let mut install = Installer::new(cache, dist.python_major_minor()?);
        install.place(&resolution, "")?;
        let (root, test_files, source) =
            test_sources::tests_from_dir(dir, name, &mut install.files)?;
        if test_files.is_empty() {
            bail!("{name}: no test files (test_*.py, *_test.py) found ({source})");
        }
        Ok(Suite {
            package: name.to_string(),
            version: None,
            files: file_set(install.files.map),
            root,
            test_files,
            source,
            wheel_dirs: install.wheel_dirs,
            installed: install.installed,
            skipped_links: install.files.skipped_links,
            driver: Driver::Pytest,
            cwd: None,
            pytest_args: Vec::new(),
            notes: Vec::new(),
            modules: Vec::new(),
        })
    }
}

/// The name a reproducer directory's tests are reported under: the
/// directory's own name (`./repro` -> `repro`).
pub fn reproducer_name(dir: &Path) -> String {
    fs::canonicalize(dir)
        .ok()
        .as_deref()
        .unwrap_or(dir)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "tests".into())
}

/// The top-level importable names of an unpacked wheel: its packages
/// (directories with `__init__.py`), modules and extension modules.
fn top_level_modules(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().join("__init__.py").is_file() {
            out.push(name);
        } else if let Some(stem) = name.strip_suffix(".py") {
            out.push(stem.to_string());
        } else if name.ends_with(".so")
            && let Some(stem) = name.split('.').next()
        {
            out.push(stem.to_string());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// An error and its causes on one line.
fn one_line(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}
