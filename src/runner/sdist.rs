//! A package's sdist: downloaded once into the cache at the wheel's
//! version, unpacked once.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::wheels;

/// The sdist of `package` at `version`, downloaded into the cache once
/// and returned. It comes from the package index that pip is configured to
/// use (pip's own option parsing reads its configuration files and
/// environment: `index-url`, `extra-index-url`), through the index's simple
/// API (PEP 691 JSON, else PEP 503 HTML), and is checked against the sha256
/// the index gives before it is kept. Nothing of the package runs on the
/// host: no build backend is asked for metadata.
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
    let out = Command::new("python3")
        .args(["-c", FETCH_SDIST, package, version])
        .arg(&dir)
        .output()
        .context("running python3 (with pip) to find the sdist")?;
    let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || name.is_empty() || !dir.join(&name).is_file() {
        let why = String::from_utf8_lossy(&out.stderr)
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("no answer")
            .trim()
            .to_string();
        bail!(
            "{package}: no sdist of {package}=={version} to take the tests from ({why}); give them with --tests DIR"
        );
    }
    let found = dir.join(name);
    let file_name = found.file_name().unwrap_or_default().to_string_lossy();
    crate::atomic_file::write(&memo, file_name.as_bytes())?;
    Ok(found)
}

/// Finds and downloads an sdist through pip's configured index (see
/// [`download_sdist`]): `python3 -c FETCH_SDIST NAME VERSION DIR` prints
/// the file name it saved in DIR, or exits non-zero with the reason last
/// on stderr. A file whose sha256 differs from the index's is refused.
const FETCH_SDIST: &str = r##"
import hashlib, html.parser, json, os, re, sys, urllib.parse, urllib.request
from pip._internal.commands import create_command
name, version, dest = sys.argv[1:4]
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
options, _ = create_command("download").parse_args([])
indexes = [options.index_url] + list(options.extra_index_urls or [])

class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.files = []
    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                url, _, frag = href.partition("#")
                name = urllib.parse.unquote(url.rsplit("/", 1)[-1])
                hashes = dict([frag.split("=", 1)]) if "=" in frag else {}
                self.files.append({"filename": name, "url": url, "hashes": hashes})

def listing(index):
    page = index.rstrip("/") + "/" + norm(name) + "/"
    req = urllib.request.Request(page, headers={
        "Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1"})
    with urllib.request.urlopen(req, timeout=60) as r:
        body = r.read()
        kind = r.headers.get("Content-Type", "")
    if "json" in kind:
        files = json.loads(body)["files"]
    else:
        parser = Links()
        parser.feed(body.decode("utf-8", "replace"))
        files = parser.files
    for f in files:
        f["url"] = urllib.parse.urljoin(page, f["url"])
    return files

problems = []
for index in indexes:
    try:
        files = listing(index)
    except Exception as e:
        problems.append(f"{index}: {e}")
        continue
    for f in files:
        fn = f["filename"]
        stem = fn[:-7] if fn.endswith(".tar.gz") else fn[:-4] if fn.endswith(".zip") else None
        if not stem or "-" not in stem or f.get("yanked"):
            continue
        n, v = stem.rsplit("-", 1)
        if norm(n) != norm(name) or v != version:
            continue
        want = (f.get("hashes") or {}).get("sha256")
        if not want:
            problems.append(f"{fn}: the index gives no sha256 to check it against")
            continue
        with urllib.request.urlopen(f["url"], timeout=300) as r:
            data = r.read()
        got = hashlib.sha256(data).hexdigest()
        if got != want:
            sys.exit(f"{fn}: sha256 {got} differs from the index's {want}")
        path = os.path.join(dest, fn)
        tmp = f"{path}.part-{os.getpid()}"
        with open(tmp, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
        print(fn)
        sys.exit(0)
sys.exit("; ".join(problems) or f"no sdist of {name} {version} in {', '.join(indexes)}")
"##;

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
        super::archive::unpack(archive, &tmp)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fetch_script_parses() {
        let out = Command::new("python3")
            .args(["-c", "import ast, sys; ast.parse(sys.argv[1])", FETCH_SDIST])
            .output()
            .expect("python3 is needed by the runner's tests");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
