//! Pyodide's own packages, found the way Pyodide finds them.
//!
//! The dist's `pyodide-lock.json` names each package's file, version,
//! sha256, dependencies and install directory. Under Node, `loadPackage`
//! takes a package's file from the dist directory when it is there, and
//! otherwise downloads it from the package base URL (`cdnUrl`), which
//! `pyodide.mjs` builds from its own version unless `loadPyodide` is given
//! `packageBaseUrl`. We do the same: the dist directory first, then the
//! base URL (`--package-base-url`, or the default read from the dist's own
//! `pyodide.mjs`: see [`default_url_template`]). Every file is checked
//! against the lock's sha256 before it is used; a downloaded one is only
//! kept in the cache (`packages/<sha256>/<file>`) once it has passed, so a
//! second run makes no request.
//!
//! Where the files go in the guest ([`InstallDir`]) is Pyodide's too
//! (`pyodide/_package_loader.py`, `TARGETS`): `site` into site-packages,
//! `dynlib` (shared libraries such as `libopenblas`) into `/usr/lib`, where
//! `dlopen` finds them through `LD_LIBRARY_PATH`, and an older dist's
//! `stdlib` into `/lib/pythonX.Y`. A `<pkg>-tests` archive holds paths
//! relative to site-packages (pyodide-build's `unvendor_tests`) and is
//! unpacked there ([`lock_tests`]).

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use crate::hex::encode as hex;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::dist::Dist;
use super::download::{self, Failure};

/// Where Pyodide puts shared libraries (`install_dir: dynlib`).
pub const DYNLIB_DIR: &str = "/usr/lib";

/// The placeholder in a package base URL for the dist's Pyodide version.
pub const VERSION_PLACEHOLDER: &str = "{version}";

/// Normalise a distribution name as PEP 503 does.
pub fn normalize(name: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in name.chars() {
        if c == '-' || c == '_' || c == '.' {
            dash = true;
        } else {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Where a package's files go in the guest (the lock's `install_dir`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InstallDir {
    /// site-packages (`site`; also what Pyodide does with an unknown value).
    #[default]
    Site,
    /// [`DYNLIB_DIR`] (`dynlib`: shared libraries).
    Dynlib,
    /// The stdlib directory `/lib/pythonX.Y` (`stdlib`, older dists'
    /// `cpython_module` packages).
    Stdlib,
}

impl<'de> Deserialize<'de> for InstallDir {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "dynlib" => InstallDir::Dynlib,
            "stdlib" => InstallDir::Stdlib,
            _ => InstallDir::Site,
        })
    }
}

impl InstallDir {
    /// The guest directory the archive is unpacked into, for a dist whose
    /// Python is `python` (major, minor).
    pub fn guest_dir(self, python: (u32, u32)) -> String {
        match self {
            InstallDir::Site => crate::host::spec::site_packages(python),
            InstallDir::Dynlib => DYNLIB_DIR.to_string(),
            InstallDir::Stdlib => format!("/lib/python{}.{}", python.0, python.1),
        }
    }
}

/// One package of `pyodide-lock.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct LockPackage {
    /// Its name as the lock spells it.
    pub name: String,
    /// Its version.
    #[serde(default)]
    pub version: String,
    /// The file: a name relative to the dist directory and the base URL,
    /// or an absolute URL.
    pub file_name: String,
    /// The file's sha256 (hex).
    #[serde(default)]
    pub sha256: Option<String>,
    /// Names of the packages it needs.
    #[serde(default)]
    pub depends: Vec<String>,
    /// Where its files go.
    #[serde(default)]
    pub install_dir: InstallDir,
    /// `package`, `shared_library`, `cpython_module`.
    #[serde(default)]
    pub package_type: Option<String>,
    /// Older locks' flag for shared libraries.
    #[serde(default)]
    pub shared_library: bool,
}

impl LockPackage {
    /// Whether it is a shared library (Pyodide loads its `.so` files
    /// globally before the packages that need them).
    pub fn is_shared_library(&self) -> bool {
        self.shared_library || self.package_type.as_deref() == Some("shared_library")
    }

    /// The sha256 the lock gives, if any (lower-case hex).
    fn want_sha256(&self) -> Option<String> {
        self.sha256
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_lowercase)
    }
}

/// The packages of a dist's `pyodide-lock.json`, by normalised name.
#[derive(Debug, Clone)]
pub struct Lock {
    packages: BTreeMap<String, LockPackage>,
}

impl Lock {
    /// Read `dist`'s lock file.
    pub fn read(dist: &Dist) -> Result<Lock> {
        let path = dist.lock_path();
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        Lock::parse(&text).with_context(|| format!("reading the packages of {}", path.display()))
    }

    /// The packages of a lock file's text.
    pub fn parse(text: &str) -> Result<Lock> {
        #[derive(Deserialize)]
        struct File {
            packages: BTreeMap<String, LockPackage>,
        }
        let file: File = serde_json::from_str(text)?;
        Ok(Lock {
            packages: file
                .packages
                .into_values()
                .map(|p| (normalize(&p.name), p))
                .collect(),
        })
    }

    /// The package called `name` (any spelling).
    pub fn get(&self, name: &str) -> Option<&LockPackage> {
        self.packages.get(&normalize(name))
    }

    /// `name` and everything it depends on, dependencies first, each once;
    /// packages in `skip` (normalised names) are left out with their
    /// dependencies, and every package returned is added to it.
    pub fn closure(&self, name: &str, skip: &mut HashSet<String>) -> Result<Vec<&LockPackage>> {
        let mut out = Vec::new();
        self.visit(&normalize(name), skip, &mut out)?;
        Ok(out)
    }

    fn visit<'a>(
        &'a self,
        name: &str,
        seen: &mut HashSet<String>,
        out: &mut Vec<&'a LockPackage>,
    ) -> Result<()> {
        if !seen.insert(name.to_string()) {
            return Ok(());
        }
        let Some(pkg) = self.packages.get(name) else {
            bail!("pyodide-lock.json lists a dependency {name} that it does not define");
        };
        for dep in &pkg.depends {
            self.visit(&normalize(dep), seen, out)?;
        }
        out.push(pkg);
        Ok(())
    }

    /// The `<package>-tests` entry (a `.zip` or `.whl`), if the lock has one.
    pub fn tests_of(&self, package: &str) -> Option<&LockPackage> {
        self.get(&format!("{}-tests", normalize(package)))
            .filter(|p| p.file_name.ends_with(".zip") || p.file_name.ends_with(".whl"))
    }
}

/// Where a resolved file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstallSource {
    /// The dist directory (`--dist`), as listed in its lock.
    DistDir,
    /// The package base URL (downloaded, or from the cache of an earlier
    /// download), as listed in the dist's lock.
    BaseUrl,
    /// `pip download` from the index pip is configured with (PyPI unless
    /// told otherwise).
    Pypi,
    /// A wheel file given with `--with`.
    File,
}

impl std::fmt::Display for InstallSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InstallSource::DistDir => "dist",
            InstallSource::BaseUrl => "base URL",
            InstallSource::Pypi => "PyPI",
            InstallSource::File => "file",
        })
    }
}

/// A file to install in the guest, on the host and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The distribution name (the lock's spelling, or the wheel's).
    pub name: String,
    /// Its version.
    pub version: String,
    /// The archive on the host: a wheel or a zip.
    pub path: PathBuf,
    /// Where its contents go in the guest.
    pub install_dir: InstallDir,
    /// A shared library package (see [`LockPackage::is_shared_library`]).
    pub shared_library: bool,
    /// Where it came from.
    pub source: InstallSource,
    /// The dist path, URL or host file it came from (for messages).
    pub origin: String,
}

/// One line of the record of what a run installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installed {
    /// The distribution name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Where it came from.
    pub source: InstallSource,
}

impl Resolved {
    /// Its line in the record of what was installed.
    pub fn installed(&self) -> Installed {
        Installed {
            name: self.name.clone(),
            version: self.version.clone(),
            source: self.source,
        }
    }

    /// The guest directory its archive is unpacked into.
    pub fn guest_dir(&self, python: (u32, u32)) -> String {
        self.install_dir.guest_dir(python)
    }
}

/// The sha256 of a file, as lower-case hex, remembered under the cache's
/// `digests/` by the file's identity (see [`crate::file_digest`]): the
/// wheels and packages of a run are hashed once, not at every run.
pub fn sha256_file_cached(cache: &Path, path: &Path) -> Result<String> {
    let digest = crate::file_digest::sha256(&cache.join("digests"), path, || {
        fs::read(path).with_context(|| format!("reading {}", path.display()))
    })?;
    Ok(hex(&digest))
}

// ---------------------------------------------------------------------------
// The package base URL.

/// The default package base URL as the dist's `pyodide.mjs` builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate {
    /// The URL with [`VERSION_PLACEHOLDER`] where `pyodide.mjs` puts its
    /// version.
    pub template: String,
    /// That version as `pyodide.mjs` has it, when its value could be read
    /// from the file (a string constant, maybe through aliases).
    pub version: Option<String>,
}

/// Find the default package base URL in the text of a dist's `pyodide.mjs`
/// (minified): the first template literal after `cdnUrl` (`cdnUrl =
/// packageBaseUrl ?? \`...v${version}/full/\``; older releases'
/// `setCdnUrl(\`...\`)`) that is an `http(s)` URL with exactly one
/// substitution. The substitution becomes [`VERSION_PLACEHOLDER`]; when it is
/// a plain identifier, its string value is looked up in the file.
pub fn default_url_template(mjs: &str) -> Option<UrlTemplate> {
    const NEEDLE: &str = "cdnurl";
    const WINDOW: usize = 200;
    let lower = mjs.to_ascii_lowercase();
    let bytes = mjs.as_bytes();
    let mut from = 0;
    while let Some(i) = lower[from..].find(NEEDLE) {
        let at = from + i + NEEDLE.len();
        from = at;
        let end = (at + WINDOW).min(bytes.len());
        let Some(open) = bytes[at..end].iter().position(|&b| b == b'`') else {
            continue;
        };
        let start = at + open + 1;
        let Some(len) = bytes[start..(start + WINDOW).min(bytes.len())]
            .iter()
            .position(|&b| b == b'`')
        else {
            continue;
        };
        // Backticks are ASCII: both ends are character boundaries.
        if let Some((template, expr)) = url_template(&mjs[start..start + len]) {
            let version = is_identifier(&expr)
                .then(|| js_string_constant(mjs, &expr, 4))
                .flatten();
            return Some(UrlTemplate { template, version });
        }
    }
    None
}

/// An `http(s)` template literal with one `${expr}`: (the URL with the
/// placeholder, expr).
fn url_template(literal: &str) -> Option<(String, String)> {
    if !(literal.starts_with("https://") || literal.starts_with("http://")) {
        return None;
    }
    let open = literal.find("${")?;
    let close = open + literal[open..].find('}')?;
    let (head, expr, tail) = (
        &literal[..open],
        &literal[open + 2..close],
        &literal[close + 1..],
    );
    if tail.contains("${") || expr.trim().is_empty() || literal.contains(char::is_whitespace) {
        return None;
    }
    Some((
        format!("{head}{VERSION_PLACEHOLDER}{tail}"),
        expr.trim().to_string(),
    ))
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

fn is_identifier_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// The version-like string constant assigned to `ident` in `js`, directly
/// (`var Y="314.0.7"`) or through up to `hops` aliases (`var U=Y`).
fn js_string_constant(js: &str, ident: &str, hops: usize) -> Option<String> {
    if hops == 0 {
        return None;
    }
    let bytes = js.as_bytes();
    let pattern = format!("{ident}=");
    let mut alias = None;
    for (i, _) in js.match_indices(&pattern) {
        if i > 0 && (is_identifier_byte(bytes[i - 1]) || bytes[i - 1] == b'.') {
            continue;
        }
        let rhs = &js[i + pattern.len()..];
        if rhs.starts_with('=') || rhs.starts_with('>') {
            continue;
        }
        if let Some(quote) = rhs.chars().next().filter(|c| matches!(c, '"' | '\'' | '`')) {
            let value = rhs[1..].split(quote).next().unwrap_or("");
            if looks_like_version(value) {
                return Some(value.to_string());
            }
            continue;
        }
        if alias.is_none() {
            let end = rhs
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
                .unwrap_or(rhs.len());
            let (name, after) = rhs.split_at(end);
            if is_identifier(name) && after.starts_with([';', ',', '}', '\n']) && name != ident {
                alias = Some(name.to_string());
            }
        }
    }
    alias.and_then(|a| js_string_constant(js, &a, hops - 1))
}

fn looks_like_version(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_digit())
        && s.contains('.')
        && s.len() < 40
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
}

/// Replace [`VERSION_PLACEHOLDER`] in `url` by `version`, and end it with
/// `/` as `pyodide.mjs` does.
pub fn fill_version(url: &str, version: Option<&str>) -> Result<String> {
    let mut out = if url.contains(VERSION_PLACEHOLDER) {
        let Some(v) = version else {
            bail!(
                "{url}: the dist's Pyodide version is unknown, so {VERSION_PLACEHOLDER} cannot be filled in"
            );
        };
        url.replace(VERSION_PLACEHOLDER, v)
    } else {
        url.to_string()
    };
    if !out.ends_with('/') {
        out.push('/');
    }
    Ok(out)
}

/// The default base URL's template read from the dist's `pyodide.mjs`, if
/// it has one.
pub fn dist_url_template(dist: &Dist) -> Option<UrlTemplate> {
    let text = fs::read_to_string(dist.path("pyodide.mjs")).ok()?;
    default_url_template(&text)
}

/// The dist's Pyodide version as its package URLs use it: the constant in
/// its `pyodide.mjs` (e.g. `315.0.0a2`), else [`Dist::pyodide_version`]
/// (`package.json`'s, e.g. `315.0.0-alpha.2`).
pub fn url_version(dist: &Dist) -> Option<String> {
    dist_url_template(dist)
        .and_then(|t| t.version)
        .or_else(|| dist.pyodide_version())
}

/// The package base URL for `dist`: `--package-base-url` (given to the
/// dist, see [`Dist::package_base_url`]) or the default of its
/// `pyodide.mjs`, with [`VERSION_PLACEHOLDER`] filled in and a trailing
/// `/`; `None` when there is neither.
pub fn package_base_url(dist: &Dist) -> Result<Option<String>> {
    let template = dist_url_template(dist);
    let version = template
        .as_ref()
        .and_then(|t| t.version.clone())
        .or_else(|| dist.pyodide_version());
    let url = match dist.package_base_url() {
        Some(given) => given.to_string(),
        None => match template {
            Some(t) => t.template,
            None => return Ok(None),
        },
    };
    fill_version(&url, version.as_deref()).map(Some)
}

// ---------------------------------------------------------------------------
// Fetching a lock package's file.

/// The package base URL could not be reached at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable {
    /// The base URL (or a description when there is none).
    pub base: String,
    /// Why, one line.
    pub why: String,
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} cannot be reached ({})", self.base, self.why)
    }
}

/// The outcome of fetching a lock package's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// On the host and checked.
    Got(Resolved),
    /// Not in the dist, not cached, and the base URL cannot be reached.
    Unreachable(Unreachable),
}

/// Base URLs found unreachable in this process (base -> why): asked
/// once, not once per file.
static UNREACHABLE: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());

fn unreachable_bases() -> std::sync::MutexGuard<'static, BTreeMap<String, String>> {
    UNREACHABLE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Fetches lock packages' files for one dist: from its directory, the
/// cache, or its package base URL.
#[derive(Debug, Clone)]
pub struct Fetcher {
    dist: Dist,
    cache: PathBuf,
    base: Option<String>,
}

impl Fetcher {
    /// A fetcher for `dist`, caching downloads under `cache`.
    pub fn new(dist: &Dist, cache: &Path) -> Result<Self> {
        Ok(Self {
            dist: dist.clone(),
            cache: cache.to_path_buf(),
            base: package_base_url(dist)?,
        })
    }

    /// The package base URL in use, if any.
    pub fn base_url(&self) -> Option<&str> {
        self.base.as_deref()
    }

    /// The file of `pkg`, checked against the lock's sha256: the dist
    /// directory's, else a cached download, else downloaded from the base
    /// URL (kept in the cache only once it matches). A file that does not
    /// match is an error naming it and both hashes.
    pub fn fetch(&self, pkg: &LockPackage) -> Result<Fetched> {
        let want = pkg.want_sha256();
        let resolved = |path: PathBuf, source: InstallSource, origin: String| Resolved {
            name: pkg.name.clone(),
            version: pkg.version.clone(),
            path,
            install_dir: pkg.install_dir,
            shared_library: pkg.is_shared_library(),
            source,
            origin,
        };
        let url_file = download::is_url(&pkg.file_name);
        if !url_file {
            let rel = safe_relative(&pkg.file_name)?;
            let local = self.dist.dir().join(&rel);
            if local.is_file() {
                if let Some(want) = &want {
                    let got = sha256_file_cached(&self.cache, &local)?;
                    if &got != want {
                        bail!(
                            "{}: sha256 {got} does not match pyodide-lock.json's {want}",
                            local.display()
                        );
                    }
                }
                let origin = local.display().to_string();
                return Ok(Fetched::Got(resolved(
                    local,
                    InstallSource::DistDir,
                    origin,
                )));
            }
        }
        let Some(want) = want else {
            bail!(
                "{} ({}) is not in {} and pyodide-lock.json gives no sha256 to check a download against",
                pkg.name,
                pkg.file_name,
                self.dist.dir().display()
            );
        };
        if want.len() != 64 || !want.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!(
                "pyodide-lock.json gives {} an invalid sha256 {want:?}",
                pkg.name
            );
        }
        let base_name = pkg
            .file_name
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty() && *n != "..")
            .with_context(|| format!("{}: no file name in {:?}", pkg.name, pkg.file_name))?;
        let dir = self.cache.join("packages");
        let cached = dir.join(&want).join(base_name);
        let url = if url_file {
            pkg.file_name.clone()
        } else {
            match &self.base {
                Some(base) => format!("{base}{}", pkg.file_name),
                None => String::new(),
            }
        };
        if cached.is_file() {
            if sha256_file_cached(&self.cache, &cached)? == want {
                return Ok(Fetched::Got(resolved(cached, InstallSource::BaseUrl, url)));
            }
            // A damaged cache entry: fetched again below.
            let _ = fs::remove_file(&cached);
        }
        if url.is_empty() {
            return Ok(Fetched::Unreachable(Unreachable {
                base: "the package base URL".into(),
                why: "the dist's pyodide.mjs names none and --package-base-url is not given".into(),
            }));
        }
        let base = if url_file {
            url.clone()
        } else {
            self.base.clone().unwrap_or_default()
        };
        let known = unreachable_bases().get(&base).cloned();
        if let Some(why) = known {
            return Ok(Fetched::Unreachable(Unreachable { base, why }));
        }
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let tmp = crate::atomic_file::temp_name(&dir.join(base_name));
        let got = match download_to(&url, &tmp) {
            Ok(got) => got,
            Err(failure) => {
                let _ = fs::remove_file(&tmp);
                return match failure {
                    Failure::Unreachable(why) => {
                        unreachable_bases().insert(base.clone(), why.clone());
                        Ok(Fetched::Unreachable(Unreachable { base, why }))
                    }
                    Failure::Failed(e) => {
                        Err(e.context(format!("fetching {} {}", pkg.name, pkg.version)))
                    }
                };
            }
        };
        if got != want {
            let _ = fs::remove_file(&tmp);
            bail!(
                "{} from {url}: sha256 {got} does not match pyodide-lock.json's {want}",
                pkg.file_name
            );
        }
        let entry = dir.join(&want);
        let placed = fs::create_dir_all(&entry)
            .and_then(|()| fs::rename(&tmp, &cached))
            .with_context(|| format!("moving a download into {}", cached.display()));
        if let Err(e) = placed {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(Fetched::Got(resolved(cached, InstallSource::BaseUrl, url)))
    }
}

/// A file name from the lock as a path under the dist directory.
fn safe_relative(name: &str) -> Result<PathBuf> {
    let path = Path::new(name);
    let ok = !name.is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !ok {
        bail!("pyodide-lock.json has a file_name {name:?} outside the dist directory");
    }
    Ok(path.to_path_buf())
}

/// A writer that hashes what it writes.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Download `url` (`http(s)://`, `file://` or a path) into the new file
/// `dest`; returns its sha256.
fn download_to(url: &str, dest: &Path) -> Result<String, Failure> {
    let file = fs::File::create(dest)
        .map_err(|e| Failure::Failed(anyhow::anyhow!("creating {}: {e}", dest.display())))?;
    let mut out = Hashing {
        inner: io::BufWriter::new(file),
        hasher: Sha256::new(),
    };
    if let Some(path) = local_path(url) {
        let parent_exists = path.parent().is_some_and(Path::is_dir);
        let mut from = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if !parent_exists => {
                return Err(Failure::Unreachable(format!(
                    "{}: {e}",
                    path.parent().unwrap_or(&path).display()
                )));
            }
            Err(e) => {
                return Err(Failure::Failed(anyhow::anyhow!(
                    "reading {}: {e}",
                    path.display()
                )));
            }
        };
        io::copy(&mut from, &mut out)
            .map_err(|e| Failure::Failed(anyhow::anyhow!("copying {}: {e}", path.display())))?;
    } else {
        download::get(url, &mut out)?;
    }
    let Hashing { inner, hasher } = out;
    inner
        .into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .map_err(|e| Failure::Failed(anyhow::anyhow!("writing {}: {e}", dest.display())))?;
    Ok(hex(&hasher.finalize()))
}

/// The host path of a `file://` URL or a plain path; `None` for other URLs.
fn local_path(url: &str) -> Option<PathBuf> {
    if let Some(rest) = url.strip_prefix("file://") {
        return Some(PathBuf::from(rest));
    }
    (!download::is_url(url)).then(|| PathBuf::from(url))
}

/// The dist's `<package>-tests` archive (its lock entry, a `.zip` or
/// `.whl`) for `version` of `package` (the installed one), fetched like
/// any lock package: from the dist directory, the cache, or the package
/// base URL, checked against the lock's sha256. `None` when the lock has no
/// such entry, when the entry is another version's (a `--with` wheel of
/// another version is under test: the lock's tests are not its tests, and
/// nothing is fetched), or when the file is neither in the dist nor cached
/// and the base URL cannot be reached (one warning line). The caller then
/// looks for the tests elsewhere. Its contents are paths relative to
/// site-packages ([`Resolved::guest_dir`]).
pub fn lock_tests(
    dist: &Dist,
    cache: &Path,
    package: &str,
    version: &str,
) -> Result<Option<Resolved>> {
    let lock = Lock::read(dist)?;
    let Some(pkg) = lock.tests_of(package) else {
        return Ok(None);
    };
    if !same_version(&pkg.version, version) {
        return Ok(None);
    }
    match Fetcher::new(dist, cache)?.fetch(pkg)? {
        Fetched::Got(r) => Ok(Some(r)),
        Fetched::Unreachable(u) => {
            eprintln!(
                "pyodide-test: warning: {} {} (pyodide-lock.json) is not in the dist and {u}; \
                 looking for {package}'s tests elsewhere (give --package-base-url URL to use Pyodide's)",
                pkg.name, pkg.version
            );
            Ok(None)
        }
    }
}

/// Whether two version strings name the same version (PEP 440: `1.0` is
/// `1.0.0`); strings that do not parse compare as written.
fn same_version(a: &str, b: &str) -> bool {
    use super::testdeps::Version;
    match (Version::parse(a), Version::parse(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a.trim() == b.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped like 314.0.7's minified `pyodide.mjs` (host made up).
    const MJS_314: &str = r#"o(Ie,"getInstantiateWasmFunc");var Y="9.8.7";function k(e){return e===void 0||e.endsWith("/")?e:e+"/"}o(k,"withTrailingSlash");var U=Y;async function Se(e={}){if(await C(),e.lockFileContents&&e.lockFileURL)throw new Error("x");let t=e.indexURL||await J();if(t=k(w(t)),e.packageBaseUrl=k(e.packageBaseUrl),e.cdnUrl=k(e.packageBaseUrl??`https://packages.example.test/pyodide/v${U}/full/`),!e.lockFileContents){let s=e.lockFileURL??t+"pyodide-lock.json";e.lockFileContents=H(s),e.packageBaseUrl??=V(s)}"#;

    /// Shaped like 0.24–0.28's (`setCdnUrl`, the version a property).
    const MJS_026: &str = r#"let U=1;n.setCdnUrl(`https://packages.example.test/pyodide/v${d.version}/full/`),n._pyodide.set_excepthook()"#;

    #[test]
    fn finds_the_default_url_template() {
        let t = default_url_template(MJS_314).unwrap();
        assert_eq!(
            t.template,
            "https://packages.example.test/pyodide/v{version}/full/"
        );
        assert_eq!(t.version.as_deref(), Some("9.8.7"));
        let t = default_url_template(MJS_026).unwrap();
        assert_eq!(
            t.template,
            "https://packages.example.test/pyodide/v{version}/full/"
        );
        assert_eq!(t.version, None);
        assert_eq!(default_url_template("var cdnUrl=`./x/${a}`;"), None);
        assert_eq!(default_url_template("nothing here"), None);
    }

    #[test]
    fn resolves_string_constants_through_aliases() {
        let js = r#"var a=1,U=Y;if(U==2){};let f=U=>U;var Y="315.0.0a2";"#;
        assert_eq!(js_string_constant(js, "U", 4).as_deref(), Some("315.0.0a2"));
        assert_eq!(js_string_constant(js, "a", 4), None);
        assert_eq!(js_string_constant("var U=U;", "U", 4), None);
    }

    #[test]
    fn fills_the_version() {
        assert_eq!(
            fill_version("http://127.0.0.1:1/v{version}/full", Some("1.2.3")).unwrap(),
            "http://127.0.0.1:1/v1.2.3/full/"
        );
        assert_eq!(
            fill_version("http://127.0.0.1:1/x/", None).unwrap(),
            "http://127.0.0.1:1/x/"
        );
        assert!(fill_version("http://h/{version}/", None).is_err());
    }

    #[test]
    fn lock_packages_and_closures() {
        let json = r#"{"info": {"python": "3.14.2"}, "packages": {
            "a": {"name": "A_pkg", "version": "1", "file_name": "a.whl", "depends": ["b", "libz"], "install_dir": "site"},
            "b": {"name": "b", "version": "2", "file_name": "b.whl", "depends": ["libz"]},
            "libz": {"name": "libz", "version": "3", "file_name": "libz.zip", "install_dir": "dynlib", "package_type": "shared_library"},
            "a-pkg-tests": {"name": "a_pkg-tests", "version": "1", "file_name": "a-tests.zip", "depends": ["a-pkg"]},
            "old": {"name": "old", "file_name": "old.zip", "install_dir": "stdlib", "shared_library": false}
        }}"#;
        let lock = Lock::parse(json).unwrap();
        let mut seen = HashSet::new();
        let names: Vec<&str> = lock
            .closure("a.pkg", &mut seen)
            .unwrap()
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, ["libz", "b", "A_pkg"]);
        assert!(lock.closure("b", &mut seen).unwrap().is_empty());
        let libz = lock.get("libz").unwrap();
        assert!(libz.is_shared_library());
        assert_eq!(libz.install_dir, InstallDir::Dynlib);
        assert_eq!(libz.install_dir.guest_dir((3, 14)), "/usr/lib");
        assert_eq!(
            lock.get("old").unwrap().install_dir.guest_dir((3, 12)),
            "/lib/python3.12"
        );
        assert_eq!(
            InstallDir::Site.guest_dir((3, 14)),
            "/lib/python3.14/site-packages"
        );
        assert_eq!(lock.tests_of("A-Pkg").unwrap().file_name, "a-tests.zip");
        assert!(lock.tests_of("b").is_none());
    }

    #[test]
    fn lock_file_names_stay_in_the_dist() {
        assert!(safe_relative("a-1.0-py3-none-any.whl").is_ok());
        assert!(safe_relative("sub/a.zip").is_ok());
        assert!(safe_relative("../a.zip").is_err());
        assert!(safe_relative("/etc/passwd").is_err());
    }

    /// A dist directory with the files `Dist::open` checks, a lock with
    /// `pkg` (`pkg.whl`, sha256 of `content`, depends on nothing) and
    /// `pyodide.mjs` shaped like 314's.
    fn fake_dist(base: &Path, content: &[u8]) -> Dist {
        let dir = base.join("dist");
        fs::create_dir_all(&dir).unwrap();
        for f in ["pyodide.asm.wasm", "pyodide.asm.mjs", "python_stdlib.zip"] {
            fs::write(dir.join(f), b"").unwrap();
        }
        fs::write(dir.join("pyodide.mjs"), MJS_314).unwrap();
        let sha = hex(&Sha256::digest(content));
        let lock = format!(
            r#"{{"info": {{"python": "3.14.2"}}, "packages": {{
                "pkg": {{"name": "pkg", "version": "1.0", "file_name": "pkg-1.0-py3-none-any.whl", "sha256": "{sha}"}},
                "pkg-tests": {{"name": "pkg-tests", "version": "1.0", "file_name": "pkg-tests.zip", "sha256": "{sha}"}}
            }}}}"#
        );
        fs::write(dir.join("pyodide-lock.json"), lock).unwrap();
        Dist::open(&dir).unwrap()
    }

    #[test]
    fn the_default_base_url_comes_from_pyodide_mjs() {
        let base = std::env::temp_dir().join(format!("pt-lock-url-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let dist = fake_dist(&base, b"x");
        assert_eq!(
            package_base_url(&dist).unwrap().as_deref(),
            Some("https://packages.example.test/pyodide/v9.8.7/full/")
        );
        let given = dist.with_package_base_url(Some("http://127.0.0.1:9/m/{version}".into()));
        assert_eq!(
            package_base_url(&given).unwrap().as_deref(),
            Some("http://127.0.0.1:9/m/9.8.7/")
        );
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn fetches_from_a_base_directory_checked_and_cached() {
        let base = std::env::temp_dir().join(format!("pt-lock-fetch-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let content = b"the wheel's bytes";
        let served = base.join("served");
        fs::create_dir_all(&served).unwrap();
        let cache = base.join("cache");
        let dist =
            fake_dist(&base, content).with_package_base_url(Some(served.display().to_string()));
        let lock = Lock::read(&dist).unwrap();
        let pkg = lock.get("pkg").unwrap();
        let cached_files = || -> Vec<PathBuf> {
            let mut out = Vec::new();
            for e in fs::read_dir(cache.join("packages")).into_iter().flatten() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    out.extend(fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
                } else {
                    out.push(p);
                }
            }
            out
        };
        // Tampered: refused, naming the file and both hashes; nothing kept.
        fs::write(served.join(&pkg.file_name), b"other bytes").unwrap();
        let err = format!(
            "{:#}",
            Fetcher::new(&dist, &cache).unwrap().fetch(pkg).unwrap_err()
        );
        let want = pkg.sha256.clone().unwrap();
        let got = hex(&Sha256::digest(b"other bytes"));
        assert!(
            err.contains(&pkg.file_name) && err.contains(&want) && err.contains(&got),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
        assert_eq!(cached_files(), Vec::<PathBuf>::new());
        // The real bytes: fetched, cached under their sha256.
        fs::write(served.join(&pkg.file_name), content).unwrap();
        let Fetched::Got(r) = Fetcher::new(&dist, &cache).unwrap().fetch(pkg).unwrap() else {
            panic!("not fetched");
        };
        assert_eq!(r.source, InstallSource::BaseUrl);
        assert_eq!(
            r.path,
            cache.join("packages").join(&want).join(&pkg.file_name)
        );
        assert_eq!(fs::read(&r.path).unwrap(), content);
        assert_eq!(cached_files(), vec![r.path.clone()]);
        // Again with the source gone: the cache serves it.
        fs::remove_dir_all(&served).unwrap();
        let Fetched::Got(again) = Fetcher::new(&dist, &cache).unwrap().fetch(pkg).unwrap() else {
            panic!("not served from the cache");
        };
        assert_eq!(again.path, r.path);
        // A test archive not cached, its base gone: unreachable.
        let tests = lock.tests_of("pkg").unwrap();
        assert!(matches!(
            Fetcher::new(&dist, &cache).unwrap().fetch(tests).unwrap(),
            Fetched::Unreachable(_)
        ));
        // In the dist directory: taken from there.
        fs::write(dist.path(&tests.file_name), content).unwrap();
        let found = lock_tests(&dist, &cache, "PKG", "1.0.0").unwrap().unwrap();
        assert_eq!(found.source, InstallSource::DistDir);
        assert_eq!(found.name, "pkg-tests");
        assert_eq!(found.install_dir, InstallDir::Site);
        // Another version of the package under test: the lock's tests are
        // not its tests, though they are at hand.
        assert!(lock_tests(&dist, &cache, "PKG", "1.1").unwrap().is_none());
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize("Pydantic_Core"), "pydantic-core");
        assert_eq!(normalize("zope.interface"), "zope-interface");
    }
}
