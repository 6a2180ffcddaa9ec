//! A package's sdist: downloaded once into the cache at the wheel's
//! version, unpacked once.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::wheels;

/// The sdist of `package` at `version`, downloaded into the cache once:
/// from PyPI's simple index, else with `pip download NAME==VERSION
/// --no-binary NAME --no-deps` (the host's pip configuration and index);
/// returns the archive.
pub fn download_sdist(cache: &Path, package: &str, version: &str) -> Result<PathBuf> {
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
pub fn unpack_sdist(cache: &Path, archive: &Path) -> Result<PathBuf> {
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
