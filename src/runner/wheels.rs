//! Wheels for the guest: `--with` takes a wheel file, a directory of wheels
//! or a package name. Names resolve as Pyodide resolves them: a name in the
//! dist's `pyodide-lock.json` gets its file and its dependencies' from the
//! dist directory or the package base URL, each checked against the lock's
//! sha256 (`lock.rs`); when that URL cannot be reached at all, the name
//! falls back to `pip download` with a warning. Other names, and versions
//! other than the lock's, go to `pip download` (with dependencies) for the
//! dist's platform tag and Python version. Each archive is unpacked once
//! into the cache; a start copies the unpacked files into the guest, where
//! Pyodide installs them (site-packages, `/usr/lib` for shared libraries).

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use super::dist::Dist;
use super::lock::{
    Fetched, Fetcher, InstallDir, InstallSource, Installed, Lock, LockPackage, Resolved,
    Unreachable,
};

/// A wheel's file-name tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelTags {
    /// Distribution name as in the file name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Python tags (`cp314`, `py3`), `.`-separated alternatives.
    pub python: String,
    /// ABI tag (`cp314`, `abi3`, `none`).
    pub abi: String,
    /// Platform tag (`pyemscripten_2026_0_wasm32`, `any`).
    pub platform: String,
}

impl WheelTags {
    /// Parse `name-version(-build)?-python-abi-platform.whl`.
    pub fn parse(file_name: &str) -> Result<Self> {
        let stem = file_name
            .strip_suffix(".whl")
            .ok_or_else(|| anyhow::anyhow!("{file_name} is not a wheel (no .whl suffix)"))?;
        let parts: Vec<&str> = stem.split('-').collect();
        if parts.len() != 5 && parts.len() != 6 {
            bail!("{file_name} is not a valid wheel file name");
        }
        let n = parts.len();
        Ok(Self {
            name: parts[0].to_string(),
            version: parts[1].to_string(),
            python: parts[n - 3].to_string(),
            abi: parts[n - 2].to_string(),
            platform: parts[n - 1].to_string(),
        })
    }
}

/// What the dist accepts: its platform tag and Python version.
#[derive(Debug, Clone)]
pub struct Target {
    /// e.g. `pyemscripten_2026_0_wasm32`.
    pub platform: String,
    /// Also accepted (older naming): e.g. `emscripten_5_0_3_wasm32`.
    pub legacy_platform: Option<String>,
    /// e.g. `cp314`.
    pub cpython: String,
    /// e.g. `3.14`.
    pub python_version: String,
    /// pip's constraints file and a hash of its contents (part of the
    /// remembered resolutions' key).
    pub constraints: Option<(PathBuf, String)>,
    /// Resolve again rather than reuse a remembered resolution.
    pub refresh: bool,
}

impl Target {
    /// The target of `dist`.
    pub fn of(dist: &Dist) -> Result<Self> {
        let (major, minor) = dist.python_major_minor()?;
        let info = dist.info();
        let arch = "wasm32";
        let platform = match &info.abi_version {
            Some(abi) => format!("pyemscripten_{abi}_{arch}"),
            None => format!("{}_{arch}", info.platform.clone().unwrap_or_default()),
        };
        let constraints = match dist.constraints() {
            Some(path) => {
                let text =
                    fs::read(path).with_context(|| format!("--constraint {}", path.display()))?;
                let abs = fs::canonicalize(path)?;
                let hash = crate::hex::encode(&Sha256::digest(&text)[..8]);
                Some((abs, hash))
            }
            None => None,
        };
        Ok(Self {
            platform,
            legacy_platform: info.platform.as_ref().map(|p| format!("{p}_{arch}")),
            cpython: format!("cp{major}{minor}"),
            python_version: format!("{major}.{minor}"),
            constraints,
            refresh: dist.refresh(),
        })
    }

    /// Refuse a wheel built for another platform or Python ABI.
    pub fn check(&self, tags: &WheelTags, file: &str) -> Result<()> {
        let platform_ok = tags.platform.split('.').any(|p| {
            p == "any" || p == self.platform || Some(p) == self.legacy_platform.as_deref()
        });
        if !platform_ok {
            bail!(
                "{file} is for platform {}, but this Pyodide needs {} (or a pure-Python wheel)",
                tags.platform,
                self.platform
            );
        }
        let py_ok = tags.python.split('.').any(|p| {
            p == self.cpython
                || p == "py3"
                || p == "py2.py3"
                || (p.starts_with("cp3") && tags.abi == "abi3")
        });
        let abi_ok = tags
            .abi
            .split('.')
            .any(|a| a == "none" || a == "abi3" || a == self.cpython);
        if !py_ok || !abi_ok {
            bail!(
                "{file} is for Python {}-{}, but this Pyodide runs {} (CPython {})",
                tags.python,
                tags.abi,
                self.cpython,
                self.python_version
            );
        }
        Ok(())
    }
}

pub use super::lock::normalize;

/// What `--with` items and package names resolved to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// Every file to install, each package after its dependencies.
    pub files: Vec<Resolved>,
}

impl Resolution {
    /// The wheels for site-packages, in order (what [`resolve`] returns):
    /// shared libraries and other archives left out.
    pub fn wheels(&self) -> Vec<PathBuf> {
        self.files
            .iter()
            .filter(|r| {
                r.install_dir == InstallDir::Site && r.path.extension().is_some_and(|e| e == "whl")
            })
            .map(|r| r.path.clone())
            .collect()
    }

    /// The record of what is installed: (name, version, source) per file.
    pub fn installed(&self) -> Vec<Installed> {
        self.files.iter().map(Resolved::installed).collect()
    }

    /// The unpacked directories (in the cache) of the site-packages
    /// archives, in order.
    pub fn site_dirs(&self, cache: &Path) -> Result<Vec<PathBuf>> {
        self.files
            .iter()
            .filter(|r| r.install_dir == InstallDir::Site)
            .map(|r| unpacked(cache, &r.path))
            .collect()
    }

    /// Every file to place in a guest whose Python is `python`, as
    /// (guest path, host path): each archive unpacked once into the cache,
    /// its files under the directory Pyodide installs it into
    /// (site-packages, `/usr/lib` for shared libraries).
    pub fn guest_files(&self, cache: &Path, python: (u32, u32)) -> Result<Vec<(String, PathBuf)>> {
        let mut out = Vec::new();
        for r in &self.files {
            let dir = unpacked(cache, &r.path)?;
            let base = r.guest_dir(python);
            for rel in relative_files(&dir)? {
                out.push((format!("{base}/{rel}"), dir.join(&rel)));
            }
        }
        Ok(out)
    }
}

/// Resolve `--with` items to wheel files on the host, dependencies first:
/// the site-packages wheels of [`resolve_all`].
pub fn resolve(dist: &Dist, cache: &Path, items: &[String]) -> Result<Vec<PathBuf>> {
    Ok(resolve_all(dist, cache, items)?.wheels())
}

/// Resolve `--with` items (wheel files, directories of wheels, names,
/// `NAME==VERSION`) as Pyodide would: a name in the dist's lock (bare, or
/// pinned to the lock's version) with its dependencies from the dist
/// directory or the package base URL (see `lock.rs`); if that URL cannot
/// be reached, the name falls back to `pip download` with one warning.
/// Other names and versions go to `pip download` for the dist's platform.
pub fn resolve_all(dist: &Dist, cache: &Path, items: &[String]) -> Result<Resolution> {
    let target = Target::of(dist)?;
    // Read only for a name (`python` without `--with` needs none of it).
    let mut lock: Option<Lock> = None;
    let mut fetcher: Option<Fetcher> = None;
    let mut out = Resolution::default();
    let mut seen = HashSet::new();
    for item in items {
        let path = Path::new(item);
        if item.ends_with(".whl") || path.is_file() {
            if !path.is_file() {
                bail!("wheel {item} does not exist");
            }
            let tags = WheelTags::parse(&file_name(path))?;
            target.check(&tags, item)?;
            out.files.push(from_wheel(path, InstallSource::File));
        } else if path.is_dir() {
            let mut wheels: Vec<PathBuf> = fs::read_dir(path)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "whl"))
                .collect();
            wheels.sort();
            if wheels.is_empty() {
                bail!("{item} holds no wheels");
            }
            for w in wheels {
                target.check(&WheelTags::parse(&file_name(&w))?, &w.display().to_string())?;
                out.files.push(from_wheel(&w, InstallSource::File));
            }
        } else if let Some((lock, pkg)) = {
            if lock.is_none() {
                lock = Some(Lock::read(dist)?);
            }
            lock.as_ref().and_then(|l| Some((l, locked(l, item)?)))
        } {
            let fetcher = match &fetcher {
                Some(f) => f,
                None => fetcher.insert(Fetcher::new(dist, cache)?),
            };
            let mut now_seen = seen.clone();
            let mut got = Vec::new();
            let mut unreachable = None;
            for p in lock.closure(&pkg.name, &mut now_seen)? {
                match fetcher.fetch(p)? {
                    Fetched::Got(r) => got.push(r),
                    Fetched::Unreachable(u) => {
                        unreachable = Some(u);
                        break;
                    }
                }
            }
            match unreachable {
                None => {
                    seen = now_seen;
                    out.files.extend(got);
                }
                Some(u) => {
                    let files = fall_back(cache, &target, item, pkg, &u)?;
                    seen.extend(files.iter().map(|r| normalize(&r.name)));
                    out.files.extend(files);
                }
            }
        } else {
            let files = pip_download(cache, &target, item, true)?;
            seen.extend(files.iter().filter_map(|f| wheel_name(f)));
            out.files
                .extend(files.iter().map(|f| from_wheel(f, InstallSource::Pypi)));
        }
    }
    // Each archive once: an item's dependencies (pip's) can be items too,
    // and an item can come twice.
    let mut placed = HashSet::new();
    out.files.retain(|r| placed.insert(r.path.clone()));
    Ok(out)
}

/// The lock's package for a `--with` item: a bare name the lock has, or
/// `NAME==VERSION` (`===`) with the lock's version. Anything else (another
/// version, other specifiers, extras, markers) is not the lock's.
fn locked<'a>(lock: &'a Lock, item: &str) -> Option<&'a LockPackage> {
    let item = item.trim();
    let (name, version) = match item.split_once("==") {
        Some((name, version)) => (name.trim(), Some(version.trim_start_matches('=').trim())),
        None => (item, None),
    };
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '!'))
    };
    if !plain(name) || version.is_some_and(|v| !plain(v)) {
        return None;
    }
    let pkg = lock.get(name)?;
    match version {
        Some(v) if v != pkg.version => None,
        _ => Some(pkg),
    }
}

/// A wheel file's record (name and version from its file name).
fn from_wheel(path: &Path, source: InstallSource) -> Resolved {
    let (name, version) = match WheelTags::parse(&file_name(path)) {
        Ok(t) => (t.name, t.version),
        Err(_) => (file_name(path), String::new()),
    };
    Resolved {
        name,
        version,
        path: path.to_path_buf(),
        install_dir: InstallDir::Site,
        shared_library: false,
        source,
        origin: path.display().to_string(),
    }
}

/// A lock package whose file (or a dependency's) is neither in the dist
/// nor cached, the base URL being unreachable: `pip download` the item as
/// any other name, with one warning line (once per name and process).
fn fall_back(
    cache: &Path,
    target: &Target,
    item: &str,
    pkg: &LockPackage,
    unreachable: &Unreachable,
) -> Result<Vec<Resolved>> {
    let files = pip_download(cache, target, item, true).map_err(|e| {
        anyhow::anyhow!(
            "{} {} of pyodide-lock.json is not in the dist and {unreachable}, and pip has none: {e:#} \
             (give --package-base-url URL, or a dist directory that holds it)",
            pkg.name,
            pkg.version
        )
    })?;
    let wanted = normalize(&pkg.name);
    let pypi_version = files
        .iter()
        .filter_map(|f| WheelTags::parse(&file_name(f)).ok())
        .find(|t| normalize(&t.name) == wanted)
        .map(|t| t.version)
        .unwrap_or_else(|| "?".into());
    static WARNED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    if WARNED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(wanted)
    {
        eprintln!(
            "pyodide-test: warning: {} {} of pyodide-lock.json is not in the dist and {unreachable}; \
             using {} {pypi_version} from PyPI instead (give --package-base-url URL to use Pyodide's)",
            pkg.name, pkg.version, pkg.name
        );
    }
    Ok(files
        .iter()
        .map(|f| from_wheel(f, InstallSource::Pypi))
        .collect())
}

/// `pip download` a requirement for the target, into the cache. The
/// resolution is remembered, so later runs do not ask the index again.
fn pip_download(
    cache: &Path,
    target: &Target,
    requirement: &str,
    with_deps: bool,
) -> Result<Vec<PathBuf>> {
    let dir = cache.join("wheels").join(&target.platform);
    fs::create_dir_all(dir.join(".resolved"))
        .with_context(|| format!("creating {}", dir.display()))?;
    let constraints = target.constraints.as_ref().map_or("", |(_, h)| h.as_str());
    let key = crate::hex::encode(
        &Sha256::digest(format!(
            "{requirement}\0{with_deps}\0{}\0{constraints}",
            target.python_version
        ))[..12],
    );
    let memo = dir.join(".resolved").join(key);
    let wanted = requirement_name(requirement);
    let remembered = |memo: &Path| -> Option<Vec<PathBuf>> {
        let text = fs::read_to_string(memo).ok()?;
        let files: Vec<PathBuf> = text.lines().map(|l| dir.join(l)).collect();
        let complete = files.iter().all(|f| f.is_file())
            && files
                .iter()
                .any(|f| wheel_name(f).as_deref() == Some(wanted.as_str()));
        complete.then_some(files)
    };
    if !target.refresh
        && let Some(files) = remembered(&memo)
    {
        return Ok(files);
    }
    // One pip at a time per cache directory: concurrent runs wait, then
    // find the resolution the first one remembered.
    let _lock = crate::atomic_file::Lock::acquire(&dir.join(".lock"))?;
    if !target.refresh
        && let Some(files) = remembered(&memo)
    {
        return Ok(files);
    }
    let files = pip_download_uncached(&dir, target, requirement, with_deps)?;
    if !files
        .iter()
        .any(|f| wheel_name(f).as_deref() == Some(wanted.as_str()))
    {
        bail!("`pip download {requirement}` gave no wheel of {wanted}");
    }
    let names: Vec<String> = files.iter().map(|f| file_name(f)).collect();
    let _ = super::cache::write_atomic(&memo, names.join("\n").as_bytes());
    Ok(files)
}

fn pip_download_uncached(
    dir: &Path,
    target: &Target,
    requirement: &str,
    with_deps: bool,
) -> Result<Vec<PathBuf>> {
    let mut cmd = Command::new("python3");
    cmd.args([
        "-m",
        "pip",
        "download",
        "--no-input",
        "--progress-bar",
        "off",
        "--only-binary=:all:",
    ])
    .args(["--platform", &target.platform, "--platform", "any"])
    .args(["--python-version", &target.python_version])
    .args(["--implementation", "cp", "--dest", "."])
    .current_dir(dir);
    if !with_deps {
        cmd.arg("--no-deps");
    }
    if let Some((constraints, _)) = &target.constraints {
        cmd.arg("--constraint").arg(constraints);
    }
    cmd.arg(requirement);
    let out = cmd
        .output()
        .context("running `python3 -m pip download` (is pip installed?)")?;
    if !out.status.success() {
        let line = pip_error_line(&out.stderr);
        bail!(
            "no wheel of {requirement} for {} / Python {}: {line}",
            target.platform,
            target.python_version
        );
    }
    let mut files = Vec::new();
    for name in pip_saved_files(&out.stdout) {
        let full = dir.join(name);
        if full.is_file() && !files.contains(&full) {
            files.push(full);
        }
    }
    if files.is_empty() {
        bail!("`pip download {requirement}` reported no wheel");
    }
    Ok(files)
}

/// The file names `pip download` saved or found already downloaded, from
/// its standard output.
pub(crate) fn pip_saved_files(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(str::trim)
        .filter_map(|l| {
            l.strip_prefix("Saved ")
                .or_else(|| l.strip_prefix("File was already downloaded "))
        })
        .filter_map(|path| path.rsplit('/').next())
        .map(str::to_string)
        .collect()
}

/// The line of pip's standard error that says what went wrong.
pub(crate) fn pip_error_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .rev()
        .find(|l| l.contains("ERROR"))
        .unwrap_or("pip failed")
        .trim()
        .to_string()
}

/// The normalised project name of a requirement (`pytest>=8` -> `pytest`).
fn requirement_name(requirement: &str) -> String {
    let end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(requirement.len());
    normalize(&requirement[..end])
}

/// The normalised project name of a wheel file.
fn wheel_name(path: &Path) -> Option<String> {
    WheelTags::parse(&file_name(path))
        .ok()
        .map(|t| normalize(&t.name))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Unpack `wheel` into the cache once; returns the directory of its files.
pub fn unpacked(cache: &Path, wheel: &Path) -> Result<PathBuf> {
    let key = super::lock::sha256_file_cached(cache, wheel)?;
    let dir = cache.join("unpacked").join(&key[..32]);
    if dir.join(".complete").is_file() {
        return Ok(dir);
    }
    let tmp = cache
        .join("unpacked")
        .join(format!(".tmp-{}-{}", &key[..16], std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp)?;
    super::archive::unzip(wheel, &tmp)
        .map_err(|e| anyhow::anyhow!("{} is not a valid wheel: {e:#}", wheel.display()))?;
    fs::write(tmp.join(super::cache::COMPLETE), b"")?;
    super::cache::publish_dir(&tmp, &dir)?;
    Ok(dir)
}

/// Every file under `dir` (except our marker), as sorted relative paths.
pub fn relative_files(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .into_owned();
                if rel != ".complete" {
                    out.push(rel);
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            platform: "pyemscripten_2026_0_wasm32".into(),
            legacy_platform: Some("emscripten_5_0_3_wasm32".into()),
            cpython: "cp314".into(),
            python_version: "3.14".into(),
            constraints: None,
            refresh: false,
        }
    }

    #[test]
    fn parses_wheel_names() {
        let t =
            WheelTags::parse("msgpack-1.1.2-cp314-cp314-pyemscripten_2026_0_wasm32.whl").unwrap();
        assert_eq!(
            (t.name.as_str(), t.python.as_str(), t.platform.as_str()),
            ("msgpack", "cp314", "pyemscripten_2026_0_wasm32")
        );
        let t = WheelTags::parse("pytest-9.0.2-1-py3-none-any.whl").unwrap();
        assert_eq!((t.version.as_str(), t.abi.as_str()), ("9.0.2", "none"));
        assert!(WheelTags::parse("nope.zip").is_err());
        assert!(WheelTags::parse("a-b.whl").is_err());
    }

    #[test]
    fn refuses_other_platforms_and_abis() {
        let t = target();
        let ok = |f: &str| t.check(&WheelTags::parse(f).unwrap(), f);
        assert!(ok("msgpack-1.1.2-cp314-cp314-pyemscripten_2026_0_wasm32.whl").is_ok());
        assert!(ok("pytest-9.0.2-py3-none-any.whl").is_ok());
        let err = ok("msgpack-1.1.2-cp314-cp314-manylinux_2_17_x86_64.whl")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("manylinux_2_17_x86_64") && err.contains("pyemscripten_2026_0_wasm32"),
            "{err}"
        );
        let err = ok("msgpack-1.1.2-cp313-cp313-pyemscripten_2026_0_wasm32.whl")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cp313") && err.contains("cp314"), "{err}");
        assert!(ok("msgpack-1.0-cp312-cp312-pyemscripten_2024_0_wasm32.whl").is_err());
    }

    #[test]
    fn reads_pip_output() {
        let out = b"Collecting six\n  File was already downloaded /c/six-1.17.0-py2.py3-none-any.whl\nSaved ./pytest-9.2.0-py3-none-any.whl\nSuccessfully downloaded six pytest\n";
        assert_eq!(
            pip_saved_files(out),
            [
                "six-1.17.0-py2.py3-none-any.whl",
                "pytest-9.2.0-py3-none-any.whl"
            ]
        );
        assert_eq!(
            pip_error_line(b"x\nERROR: No matching distribution found for a\n"),
            "ERROR: No matching distribution found for a"
        );
        assert_eq!(pip_error_line(b""), "pip failed");
    }

    #[test]
    fn which_items_the_lock_serves() {
        let lock = Lock::parse(
            r#"{"packages": {"msgpack": {"name": "msgpack", "version": "1.1.2", "file_name": "m.whl"},
                "pydantic_core": {"name": "pydantic_core", "version": "2.41.5", "file_name": "p.whl"}}}"#,
        )
        .unwrap();
        let name = |item: &str| locked(&lock, item).map(|p| p.name.as_str());
        assert_eq!(name("msgpack"), Some("msgpack"));
        assert_eq!(name("msgpack==1.1.2"), Some("msgpack"));
        assert_eq!(name("msgpack === 1.1.2"), Some("msgpack"));
        assert_eq!(name("Pydantic-Core"), Some("pydantic_core"));
        assert_eq!(name("msgpack==1.1.1"), None);
        assert_eq!(name("msgpack>=1"), None);
        assert_eq!(name("msgpack[x]"), None);
        assert_eq!(name("msgpack; python_version>'3'"), None);
        assert_eq!(name("six"), None);
    }

    #[test]
    fn names_of_requirements_and_wheels() {
        assert_eq!(requirement_name("pytest>=8"), "pytest");
        assert_eq!(requirement_name("Pydantic_Core==2.50"), "pydantic-core");
        assert_eq!(requirement_name("six"), "six");
        assert_eq!(
            wheel_name(Path::new("/x/pydantic_core-2.5-cp314-cp314-any.whl")).as_deref(),
            Some("pydantic-core")
        );
    }
}
