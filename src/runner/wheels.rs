//! Wheels for the guest: `--with` takes a wheel file, a directory of wheels
//! or a package name. Names resolve against the dist's `pyodide-lock.json`
//! (with dependencies, wheels from the dist directory, checked against the
//! lock's sha256) when the dist has the wheel, otherwise with `pip download`
//! (with dependencies) for the dist's platform tag and Python version. Each
//! wheel is unpacked once into the cache; a start copies the unpacked files
//! into the guest's site-packages.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::dist::Dist;

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
        Ok(Self {
            platform,
            legacy_platform: info.platform.as_ref().map(|p| format!("{p}_{arch}")),
            cpython: format!("cp{major}{minor}"),
            python_version: format!("{major}.{minor}"),
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

#[derive(Debug, Clone, Deserialize)]
struct LockPackage {
    name: String,
    file_name: String,
    #[serde(default)]
    depends: Vec<String>,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    install_dir: Option<String>,
}

#[derive(Deserialize)]
struct LockFile {
    packages: BTreeMap<String, LockPackage>,
}

pub use super::lock::normalize;

/// Resolve `--with` items to wheel files on the host, dependencies first.
pub fn resolve(dist: &Dist, cache: &Path, items: &[String]) -> Result<Vec<PathBuf>> {
    let target = Target::of(dist)?;
    let lock_text = fs::read_to_string(dist.path("pyodide-lock.json"))?;
    let lock: LockFile =
        serde_json::from_str(&lock_text).context("reading pyodide-lock.json packages")?;
    let by_name: BTreeMap<String, &LockPackage> = lock
        .packages
        .values()
        .map(|p| (normalize(&p.name), p))
        .collect();
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for item in items {
        let path = Path::new(item);
        if item.ends_with(".whl") || path.is_file() {
            if !path.is_file() {
                bail!("wheel {item} does not exist");
            }
            let tags = WheelTags::parse(&file_name(path))?;
            target.check(&tags, item)?;
            out.push(path.to_path_buf());
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
                out.push(w);
            }
        } else if by_name
            .get(&normalize(item))
            .is_some_and(|p| dist.path(&p.file_name).is_file())
        {
            // A full distribution directory: the dist's own wheels.
            resolve_locked(dist, &by_name, &normalize(item), &mut seen, &mut out)?;
        } else {
            out.extend(pip_download(cache, &target, item, true)?);
        }
    }
    Ok(out)
}

fn resolve_locked(
    dist: &Dist,
    by_name: &BTreeMap<String, &LockPackage>,
    name: &str,
    seen: &mut HashSet<String>,
    out: &mut Vec<PathBuf>,
) -> Result<()> {
    if !seen.insert(name.to_string()) {
        return Ok(());
    }
    let Some(pkg) = by_name.get(name) else {
        bail!("pyodide-lock.json lists a dependency {name} that it does not define");
    };
    for dep in &pkg.depends {
        resolve_locked(dist, by_name, &normalize(dep), seen, out)?;
    }
    if pkg.install_dir.as_deref().is_some_and(|d| d != "site") || !pkg.file_name.ends_with(".whl") {
        // Shared libraries and test archives are not wheels for site-packages.
        return Ok(());
    }
    let wheel = dist.path(&pkg.file_name);
    if !wheel.is_file() {
        bail!(
            "{} needs {}, which is not in {}",
            name,
            pkg.file_name,
            dist.dir().display()
        );
    }
    if let Some(want) = &pkg.sha256 {
        let got = super::lock::sha256_file(&wheel)?;
        if &got != want {
            bail!(
                "{} does not match pyodide-lock.json's sha256 ({got} != {want})",
                wheel.display()
            );
        }
    }
    out.push(wheel);
    Ok(())
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
    let key: String = Sha256::digest(format!(
        "{requirement}\0{with_deps}\0{}",
        target.python_version
    ))
    .iter()
    .take(12)
    .map(|b| format!("{b:02x}"))
    .collect();
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
    if let Some(files) = remembered(&memo) {
        return Ok(files);
    }
    // One pip at a time per cache directory: concurrent runs wait, then
    // find the resolution the first one remembered.
    let _lock = crate::atomic_file::Lock::acquire(&dir.join(".lock"))?;
    if let Some(files) = remembered(&memo) {
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
    let key = super::lock::sha256_file(wheel)?;
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
