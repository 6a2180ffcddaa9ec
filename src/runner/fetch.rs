//! Fetching Pyodide releases into the cache with `npm pack`, checking the
//! tarball against the registry's published integrity, unpacking once.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use sha2::{Digest, Sha512};

/// The Pyodide version used when none is given.
pub const DEFAULT_PYODIDE_VERSION: &str = "314.0.7";

/// The tool's cache root: `$PYODIDE_TEST_CACHE`, else `~/.cache/pyodide-test`.
pub fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("PYODIDE_TEST_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache").join("pyodide-test")
}

/// Directory of the unpacked release `version` in the cache, fetching it
/// first if needed. Returns the dist directory (the package's contents).
pub fn ensure_pyodide(cache: &Path, version: &str) -> Result<PathBuf> {
    if version.is_empty()
        || !version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
    {
        bail!("invalid Pyodide version {version:?}");
    }
    let dist = cache.join("pyodide").join(version);
    if dist.join(".complete").is_file() {
        return Ok(dist);
    }
    fs::create_dir_all(cache.join("pyodide"))
        .with_context(|| format!("creating {}", cache.display()))?;
    let work = cache
        .join("pyodide")
        .join(format!(".tmp-{version}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work)?;
    let result = fetch_into(&work, version).and_then(|pkg| {
        fs::write(pkg.join(super::cache::COMPLETE), b"")?;
        super::cache::publish_dir(&pkg, &dist)
    });
    let _ = fs::remove_dir_all(&work);
    result?;
    Ok(dist)
}

fn fetch_into(work: &Path, version: &str) -> Result<PathBuf> {
    let spec = format!("pyodide@{version}");
    let expected = npm_view_integrity(&spec)?;
    let out = Command::new("npm")
        .args(["pack", &spec, "--silent", "--pack-destination"])
        .arg(work)
        .output()
        .context("running `npm pack` (is npm installed?)")?;
    if !out.status.success() {
        bail!("`npm pack {spec}` failed: {}", first_line(&out.stderr));
    }
    let name = String::from_utf8_lossy(&out.stdout)
        .trim()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    let tarball = work.join(&name);
    let bytes = fs::read(&tarball).with_context(|| format!("reading {}", tarball.display()))?;
    let actual = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha512::digest(&bytes))
    );
    if actual != expected {
        bail!(
            "integrity check failed for {spec}: the registry says {expected}, the tarball is {actual}"
        );
    }
    let unpack = work.join("unpacked");
    let gz = flate2::read::GzDecoder::new(&bytes[..]);
    tar::Archive::new(gz)
        .unpack(&unpack)
        .with_context(|| format!("unpacking {}", tarball.display()))?;
    let pkg = unpack.join("package");
    if !pkg.join("pyodide.asm.wasm").is_file() {
        bail!("{spec} does not contain pyodide.asm.wasm");
    }
    Ok(pkg)
}

fn npm_view_integrity(spec: &str) -> Result<String> {
    let out = Command::new("npm")
        .args(["view", spec, "dist.integrity"])
        .output()
        .context("running `npm view` (is npm installed?)")?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() {
        bail!(
            "unknown Pyodide version {spec}: {}",
            first_line(&out.stderr)
        );
    }
    if text.is_empty() {
        bail!("unknown Pyodide version {spec}: the registry has no such release");
    }
    Ok(text)
}

fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no message")
        .to_string()
}
