//! A package's test suite: the wheels its guest needs (the package, pytest
//! and their dependencies, `--with` items), where its tests come from and
//! where they go in the guest, and the test files to run.
//!
//! Tests come from, in order:
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
//!
//! The package itself is always imported from site-packages.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::dist::Dist;
use super::wheels::{self, WheelTags};
use crate::host::boot::PyodideModule;
use crate::host::layout::HOME;

/// Our pytest plugin, placed in the guest's site-packages.
pub const PLUGIN_SOURCE: &str = include_str!("plugin.py");
/// The plugin's module name (`-p NAME`).
pub const PLUGIN_MODULE: &str = "_pyodide_test_plugin";

/// The stdlib's precompiled bytecode in the guest (see [`STDLIB_HOOK_SOURCE`]).
const STDLIB_TABLE: &str = "/lib/pyodide-test-stdlib.marshal";
/// The module a `.pth` file imports at start-up to use it.
const STDLIB_HOOK: &str = "_pyodide_test_stdlib";
/// CPython compiles every stdlib module from the zip's source at every
/// start (the dist ships no bytecode), twice per module (zipimport's
/// `get_filename` compiles too): most of a guest's start-up. This hook, run
/// from a `.pth` file, makes zipimport's `_compile_source` return the code
/// compiled once from the same source and path, so modules, `__file__`,
/// tracebacks and `inspect` stay exactly as without it.
const STDLIB_HOOK_SOURCE: &str = r#""""pyodide-test: the stdlib's bytecode, compiled once (see the runner)."""
import marshal
import zipimport


def _install(path="/lib/pyodide-test-stdlib.marshal"):
    try:
        with open(path, "rb") as f:
            table = marshal.load(f)
    except (OSError, ValueError, EOFError):
        return
    compile_source = zipimport._compile_source

    def _compile_source(pathname, source):
        code = table.get(pathname)
        if code is not None:
            return marshal.loads(code)
        return compile_source(pathname, source)

    zipimport._compile_source = _compile_source


_install()
del _install
"#;

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

/// A package's suite, ready to run.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The package name as given.
    pub package: String,
    /// The package's version (from its wheel), when known.
    pub version: Option<String>,
    /// Every file the guest gets besides the stdlib: (guest path, content).
    pub files: Arc<Vec<(String, Vec<u8>)>>,
    /// pytest's rootdir in the guest; test ids are relative to it.
    pub root: String,
    /// The test files, sorted.
    pub test_files: Vec<TestFile>,
    /// Where the tests came from.
    pub source: TestSource,
    /// The unpacked wheels in the guest's site-packages (cache directories).
    pub wheel_dirs: Vec<PathBuf>,
}

/// What a suite needs besides the package name.
#[derive(Debug, Clone, Default)]
pub struct SuiteOptions {
    /// `--with` items.
    pub with: Vec<String>,
    /// `--tests DIR`.
    pub tests: Option<PathBuf>,
}

/// Guest site-packages for the dist's Python.
pub fn site_packages(dist: &Dist) -> Result<String> {
    let (major, minor) = dist.python_major_minor()?;
    Ok(format!("/lib/python{major}.{minor}/site-packages"))
}

impl Suite {
    /// Resolve the wheels and tests of `package`.
    pub fn prepare(dist: &Dist, cache: &Path, package: &str, opts: &SuiteOptions) -> Result<Suite> {
        let site = site_packages(dist)?;
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
        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
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
            tests_from_dir(dir, package, &mut files)?
        } else if let Some((name, archive)) = dist_tests(dist, package)? {
            let unpacked = wheels::unpacked(cache, &archive)?;
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
            (site.clone(), tests, TestSource::Dist(name))
        } else if let Some(tests) = wheel_tests(&own_dir)? {
            (site.clone(), tests, TestSource::Wheel(own_name))
        } else {
            tests_from_sdist(cache, package, &version, &own_dir, &site, &mut files)?
        };
        if test_files.is_empty() {
            bail!("{package}: no test files (test_*.py, *_test.py) found ({source})");
        }
        Ok(Suite {
            package: package.to_string(),
            version: Some(version),
            files: Arc::new(files.into_iter().collect()),
            root,
            test_files,
            source,
            wheel_dirs,
        })
    }

    /// Add the wheels' bytecode (`__pycache__/*.pyc` next to each module,
    /// as an installer that compiles would leave them), so that every
    /// guest does not compile pytest and the package again. The bytecode is
    /// compiled once per wheel by the guest's own CPython (unchecked-hash
    /// pycs, the source stays as it is) and kept in the cache.
    pub fn add_bytecode(
        &mut self,
        module: &PyodideModule,
        dist: &Dist,
        cache: &Path,
    ) -> Result<()> {
        let site = site_packages(dist)?;
        let pycs = bytecode::for_wheels(module, dist, cache, &self.wheel_dirs)?;
        let table = bytecode::stdlib_table(module, dist, cache)?;
        let files = Arc::make_mut(&mut self.files);
        let present: HashSet<String> = files.iter().map(|(p, _)| p.clone()).collect();
        for (rel, data) in pycs {
            let guest = format!("{site}/{rel}");
            if !present.contains(&guest) {
                files.push((guest, data));
            }
        }
        files.push((STDLIB_TABLE.to_string(), table));
        files.push((
            format!("{site}/{STDLIB_HOOK}.py"),
            STDLIB_HOOK_SOURCE.as_bytes().to_vec(),
        ));
        files.push((
            format!("{site}/{STDLIB_HOOK}.pth"),
            format!("import {STDLIB_HOOK}\n").into_bytes(),
        ));
        Ok(())
    }
}

fn wheel_tags(path: &Path) -> Option<WheelTags> {
    WheelTags::parse(&path.file_name()?.to_string_lossy()).ok()
}

/// Is `rel` (a `/`-separated path) a test file by pytest's default rule?
pub fn is_test_file(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name.ends_with(".py")
        && (name.starts_with("test_") || name.ends_with("_test.py"))
        && !rel.split('/').any(|c| c == "__pycache__")
}

/// Test files the package's wheel ships inside its packages.
fn wheel_tests(dir: &Path) -> Result<Option<Vec<TestFile>>> {
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
fn tests_from_dir(
    dir: &Path,
    package: &str,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(String, Vec<TestFile>, TestSource)> {
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
    guest: &str,
    prefix: &str,
    files: &mut BTreeMap<String, Vec<u8>>,
    tests: &mut Vec<TestFile>,
) -> Result<()> {
    for rel in walk(host)? {
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
/// directories and compiled files.
fn walk(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
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
            } else if ty.is_file() || (ty.is_symlink() && entry.path().is_file()) {
                out.push(rel);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The dist's `<pkg>-tests` archive, if the lock lists it and the dist
/// directory has it: (its name, its path).
fn dist_tests(dist: &Dist, package: &str) -> Result<Option<(String, PathBuf)>> {
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

/// Tests from the package's sdist at `version`.
fn tests_from_sdist(
    cache: &Path,
    package: &str,
    version: &str,
    wheel_dir: &Path,
    site: &str,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(String, Vec<TestFile>, TestSource)> {
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
                &format!("{root}/{name}"),
                &format!("{name}/"),
                files,
                &mut tests,
            )?;
            for cfg in CONFIG_FILES {
                let p = top.join(cfg);
                if p.is_file() {
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
            if p.is_file() {
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

/// The sdist of `package` at `version`, downloaded into the cache once:
/// from PyPI's simple index, else with `pip download NAME==VERSION
/// --no-binary NAME --no-deps` (the host's pip configuration and index);
/// returns the archive.
fn download_sdist(cache: &Path, package: &str, version: &str) -> Result<PathBuf> {
    let dir = cache.join("sdists");
    fs::create_dir_all(dir.join(".resolved"))
        .with_context(|| format!("creating {}", dir.display()))?;
    let key = format!("{}-{version}", wheels::normalize(package));
    let memo = dir.join(".resolved").join(&key);
    if let Ok(name) = fs::read_to_string(&memo) {
        let path = dir.join(name.trim());
        if path.is_file() {
            return Ok(path);
        }
    }
    let remember = |found: &Path| {
        let name = found.file_name().unwrap_or_default().to_string_lossy();
        let _ = crate::runner::cache::write_atomic(&memo, name.as_bytes());
    };
    if let Ok(found) = download_sdist_from_pypi(&dir, package, version) {
        remember(&found);
        return Ok(found);
    }
    let requirement = format!("{package}=={version}");
    let out = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--no-input",
            "--progress-bar",
            "off",
        ])
        .args(["--no-binary", package, "--no-deps"])
        .args(["-d", "."])
        .arg(&requirement)
        .current_dir(&dir)
        .output()
        .context("running `python3 -m pip download` (is pip installed?)")?;
    let saved = wheels::pip_saved_files(&out.stdout)
        .into_iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file());
    // The archive may be there even if preparing its metadata failed;
    // pip prepares the sdist's metadata, which may need a build backend
    // that cannot run here, while PyPI's JSON API needs nothing.
    let found = match saved {
        Some(path) => Some(path),
        None => find_sdist(&dir, package, version)?,
    };
    if let Some(found) = found {
        remember(&found);
        return Ok(found);
    }
    let line = wheels::pip_error_line(&out.stderr);
    bail!(
        "{package}: no sdist of {requirement} to take the tests from ({line}); give them with --tests DIR"
    )
}

/// Download the sdist of `package` at `version` through PyPI's simple
/// index (its JSON form, PEP 691), with the host's Python (whose
/// certificates and proxies pip also uses). Unlike `pip download`, this
/// does not prepare the sdist's metadata, which can mean building its build
/// backend from source.
fn download_sdist_from_pypi(dir: &Path, package: &str, version: &str) -> Result<PathBuf> {
    const SCRIPT: &str = r#"
import json, os, re, sys, urllib.request
name, version, dest = sys.argv[1:4]
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
req = urllib.request.Request(
    f"https://pypi.org/simple/{norm(name)}/",
    headers={"Accept": "application/vnd.pypi.simple.v1+json"})
with urllib.request.urlopen(req, timeout=60) as r:
    index = json.load(r)
for f in index["files"]:
    fn = f["filename"]
    stem = fn[:-7] if fn.endswith(".tar.gz") else fn[:-4] if fn.endswith(".zip") else None
    if not stem or "-" not in stem:
        continue
    n, v = stem.rsplit("-", 1)
    if norm(n) == norm(name) and v == version:
        path = os.path.join(dest, fn)
        tmp = path + ".part"
        with urllib.request.urlopen(f["url"], timeout=300) as r, open(tmp, "wb") as out:
            out.write(r.read())
        os.replace(tmp, path)
        print(fn)
        break
else:
    sys.exit("no sdist")
"#;
    let out = Command::new("python3")
        .args(["-c", SCRIPT, package, version])
        .arg(dir)
        .output()
        .context("running python3")?;
    let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || name.is_empty() || !dir.join(&name).is_file() {
        bail!("PyPI has no sdist of {package} {version}");
    }
    Ok(dir.join(name))
}

/// An sdist of `package` at `version` already in `dir`.
fn find_sdist(dir: &Path, package: &str, version: &str) -> Result<Option<PathBuf>> {
    let want = format!("{}-{version}", wheels::normalize(package));
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let stem = name
            .strip_suffix(".tar.gz")
            .or_else(|| name.strip_suffix(".zip"));
        if let Some(stem) = stem
            && let Some((n, v)) = stem.rsplit_once('-')
            && format!("{}-{v}", wheels::normalize(n)) == want
        {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// Unpack an sdist (`.tar.gz` or `.zip`) into the cache once; returns its
/// top directory.
fn unpack_sdist(cache: &Path, archive: &Path) -> Result<PathBuf> {
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = cache.join("sdists").join("unpacked");
    let dir = base.join(&name);
    if !dir.join(".complete").is_file() {
        let tmp = base.join(format!(".tmp-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp)?;
        if name.ends_with(".zip") {
            let file = fs::File::open(archive)?;
            let mut zip = zip::ZipArchive::new(file)
                .map_err(|e| anyhow::anyhow!("{} is not a valid zip: {e}", archive.display()))?;
            for i in 0..zip.len() {
                let mut entry = zip
                    .by_index(i)
                    .map_err(|e| anyhow::anyhow!("{} is corrupt: {e}", archive.display()))?;
                let Some(rel) = entry.enclosed_name() else {
                    continue;
                };
                let dest = tmp.join(rel);
                if entry.is_dir() {
                    fs::create_dir_all(&dest)?;
                    continue;
                }
                if let Some(parent) = dest.parent() {
                    fs::create_dir_all(parent)?;
                }
                let mut data = Vec::new();
                entry.read_to_end(&mut data)?;
                fs::write(&dest, data)?;
            }
        } else {
            let file = fs::File::open(archive)?;
            let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
            tar.unpack(&tmp)
                .with_context(|| format!("unpacking {}", archive.display()))?;
        }
        fs::write(tmp.join(".complete"), b"")?;
        super::cache::publish_dir(&tmp, &dir)?;
    }
    // The archive's single top directory, if it has one.
    let entries: Vec<PathBuf> = fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n != ".complete"))
        .collect();
    match &entries[..] {
        [one] if one.is_dir() => Ok(one.clone()),
        _ => Ok(dir),
    }
}

/// Bytecode of unpacked wheels, compiled by the guest's CPython.
mod bytecode {
    use std::fs;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use anyhow::{Context, Result, bail};

    use super::super::dist::Dist;
    use super::{site_packages, walk};
    use crate::host::boot::{PyodideModule, RunLimits};
    use crate::host::layout::{self, GuestLayout, Mount};
    use crate::syscalls::{Capture, Kernel, Null};

    /// Compiles `(key, rel)` pairs listed in argv[1]: `site/rel` to
    /// `/pyc-out/key/<rel's pyc path relative to site>`.
    const SCRIPT: &str = r#"
import importlib.util, os, py_compile, sys
site, listing = sys.argv[1], sys.argv[2]
with open(listing, encoding="utf-8") as f:
    pairs = [line.rstrip("\n").split("\t", 1) for line in f if line.strip()]
for key, rel in pairs:
    src = os.path.join(site, rel)
    cfile = importlib.util.cache_from_source(src)
    out = os.path.join("/pyc-out", key, os.path.relpath(cfile, site))
    try:
        py_compile.compile(src, cfile=out, dfile=src, doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except Exception:
        pass
"#;

    /// (path relative to site-packages, content) of every wheel's pycs.
    pub fn for_wheels(
        module: &PyodideModule,
        dist: &Dist,
        cache: &Path,
        wheel_dirs: &[PathBuf],
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let (major, minor) = dist.python_major_minor()?;
        let base = cache.join("pyc").join(format!("cp{major}{minor}"));
        let key_of = |dir: &Path| -> String {
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let missing: Vec<&PathBuf> = wheel_dirs
            .iter()
            .filter(|d| !base.join(key_of(d)).join(".complete").is_file())
            .collect();
        if !missing.is_empty() {
            compile(module, dist, &base, &missing, key_of)?;
        }
        let mut out = Vec::new();
        for dir in wheel_dirs {
            let root = base.join(key_of(dir));
            for rel in walk_all(&root)? {
                if rel.ends_with(".pyc") {
                    out.push((rel.clone(), fs::read(root.join(&rel))?));
                }
            }
        }
        Ok(out)
    }

    /// Every file under `dir`, `__pycache__` included.
    fn walk_all(dir: &Path) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut stack = vec![(dir.to_path_buf(), String::new())];
        while let Some((d, prefix)) = stack.pop() {
            for entry in fs::read_dir(&d)? {
                let entry = entry?;
                let rel = format!("{prefix}{}", entry.file_name().to_string_lossy());
                if entry.file_type()?.is_dir() {
                    stack.push((entry.path(), format!("{rel}/")));
                } else {
                    out.push(rel);
                }
            }
        }
        Ok(out)
    }

    /// Run a Python script in a guest with `out` (a host directory)
    /// mounted writable at `/pyc-out`.
    fn run_script(
        module: &PyodideModule,
        dist: &Dist,
        files: Vec<(String, Vec<u8>)>,
        out: &Path,
        args: &[&str],
    ) -> Result<()> {
        let (major, minor) = dist.python_major_minor()?;
        let layout = GuestLayout {
            python_major: major,
            python_minor: minor,
            stdlib_zip: dist.read_stdlib_zip()?,
            mounts: vec![Mount {
                host: fs::canonicalize(out)?,
                guest: "/pyc-out".into(),
                read_only: false,
            }],
            files,
        };
        let mut config = layout::kernel_config(&layout);
        let err = Capture::new();
        config.stdout = Arc::new(Capture::new());
        config.stderr = Arc::new(err.clone());
        config.stdin = Arc::new(Null);
        let mut kernel = Kernel::new(config);
        layout::prepare(&mut kernel, &layout)?;
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let outcome = module.run(
            kernel,
            &args,
            &RunLimits::memory(crate::host::runtime::EMSCRIPTEN_HEAP_MAX),
        )?;
        if outcome.status != 0 || outcome.crash.is_some() {
            bail!(
                "{}",
                String::from_utf8_lossy(&err.contents())
                    .lines()
                    .last()
                    .unwrap_or("the guest failed")
            );
        }
        Ok(())
    }

    /// Compiles every `.py` of the stdlib zip as zipimport would (same
    /// path, same line-ending normalisation) into
    /// `/pyc-out/stdlib.marshal`: a marshalled dict of path -> marshalled
    /// code.
    const STDLIB_SCRIPT: &str = r#"
import marshal, sys, zipfile
archive = sys.argv[1]
table = {}
with zipfile.ZipFile(archive) as z:
    for name in z.namelist():
        if not name.endswith(".py"):
            continue
        path = archive + "/" + name
        source = z.read(name).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        try:
            code = compile(source, path, "exec", dont_inherit=True)
        except Exception:
            continue
        table[path] = marshal.dumps(code)
with open("/pyc-out/stdlib.marshal.tmp", "wb") as f:
    marshal.dump(table, f)
"#;

    /// The stdlib's bytecode table for `dist` (compiled once, cached).
    pub fn stdlib_table(module: &PyodideModule, dist: &Dist, cache: &Path) -> Result<Vec<u8>> {
        use sha2::Digest;
        let zip = dist.read_stdlib_zip()?;
        let key: String = sha2::Sha256::digest(&zip)
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect();
        let (major, minor) = dist.python_major_minor()?;
        let dir = cache.join("pyc").join(format!("stdlib-{key}"));
        let path = dir.join("stdlib.marshal");
        if let Ok(data) = fs::read(&path) {
            return Ok(data);
        }
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let archive = format!("/lib/python{major}{minor}.zip");
        let files = vec![(
            "/tmp/compile_stdlib.py".to_string(),
            STDLIB_SCRIPT.as_bytes().to_vec(),
        )];
        run_script(
            module,
            dist,
            files,
            &dir,
            &["/tmp/compile_stdlib.py", &archive],
        )
        .context("compiling the stdlib's bytecode")?;
        let tmp = dir.join("stdlib.marshal.tmp");
        let unique = dir.join(format!("stdlib.marshal.{}", std::process::id()));
        fs::rename(&tmp, &unique)?;
        fs::rename(&unique, &path)?;
        Ok(fs::read(&path)?)
    }

    fn compile(
        module: &PyodideModule,
        dist: &Dist,
        base: &Path,
        missing: &[&PathBuf],
        key_of: impl Fn(&Path) -> String,
    ) -> Result<()> {
        let site = site_packages(dist)?;
        let tmp = base.join(format!(".tmp-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut files = Vec::new();
        let mut listing = String::new();
        for dir in missing {
            let key = key_of(dir);
            fs::create_dir_all(tmp.join(&key))?;
            for rel in walk(dir)? {
                if rel.ends_with(".py") {
                    files.push((format!("{site}/{rel}"), fs::read(dir.join(&rel))?));
                    listing.push_str(&format!("{key}\t{rel}\n"));
                }
            }
        }
        files.push(("/tmp/pyc-list.txt".to_string(), listing.into_bytes()));
        files.push((
            "/tmp/compile_pyc.py".to_string(),
            SCRIPT.as_bytes().to_vec(),
        ));
        let args = ["/tmp/compile_pyc.py", &site, "/tmp/pyc-list.txt"];
        if let Err(e) = run_script(module, dist, files, &tmp, &args) {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e.context("compiling the wheels' bytecode"));
        }
        for dir in missing {
            let key = key_of(dir);
            let from = tmp.join(&key);
            fs::write(from.join(".complete"), b"")?;
            crate::runner::cache::publish_dir(&from, &base.join(&key))?;
        }
        let _ = fs::remove_dir_all(&tmp);
        Ok(())
    }
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
