//! The Node backend: the same command line run by the dist's own
//! `pyodide.mjs` under Node.js, through a small driver that ships inside the
//! binary and is written to the cache. Node is the reference runtime.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::dist::Dist;

/// The driver: loads Pyodide as its CLI does and runs CPython's command line.
pub const DRIVER: &str = include_str!("../../conformance/node/run.mjs");

/// Oldest Node major version that runs the dists we support.
pub const MIN_NODE_MAJOR: u32 = 20;

/// Check that `node` is present and new enough; returns its version.
pub fn check_node() -> Result<String> {
    let out = Command::new("node")
        .arg("--version")
        .output()
        .map_err(|_| {
            anyhow::anyhow!(
                "--runtime node needs Node.js {MIN_NODE_MAJOR} or newer, and `node` is not on PATH"
            )
        })?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < MIN_NODE_MAJOR {
        bail!("--runtime node needs Node.js {MIN_NODE_MAJOR} or newer, found {version}");
    }
    Ok(version)
}

/// Write the driver into the cache (once per content) and return its path.
pub fn driver_path(cache: &Path) -> Result<PathBuf> {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(DRIVER.as_bytes());
    let name: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let dir = cache.join("node");
    let path = dir.join(format!("run-{name}.mjs"));
    if !path.is_file() {
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let tmp = dir.join(format!(".run-{}.tmp", std::process::id()));
        fs::write(&tmp, DRIVER).with_context(|| format!("writing {}", tmp.display()))?;
        fs::rename(&tmp, &path)?;
    }
    Ok(path)
}

/// Run `python ARGS` under Node with the dist; `files` are (host path,
/// guest path) pairs placed in MEMFS first. Returns Python's exit status.
pub fn run_python(
    cache: &Path,
    dist: &Dist,
    files: &[(PathBuf, String)],
    args: &[String],
) -> Result<i32> {
    check_node()?;
    let driver = driver_path(cache)?;
    let mut cmd = Command::new("node");
    cmd.arg(&driver).arg("--dist").arg(dist.dir());
    for (host, guest) in files {
        cmd.arg("--put").arg(format!("{}={guest}", host.display()));
    }
    cmd.arg("--").args(args);
    let status = cmd.status().context("running node")?;
    Ok(status.code().unwrap_or(1))
}
