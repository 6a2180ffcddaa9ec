//! A Pyodide distribution directory: `pyodide.asm.wasm`, `pyodide.asm.mjs`,
//! `python_stdlib.zip`, `pyodide-lock.json`, maybe wheels.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::host::spec::GuestSpec;
use crate::host_bytes::HostBytes;

/// Where the Pyodide distribution comes from.
#[derive(Debug, Clone)]
pub struct DistSource {
    /// Release to fetch with `npm pack` when `dir` is not given.
    pub version: String,
    /// A local distribution directory.
    pub dir: Option<PathBuf>,
    /// `--package-base-url`: where the lock's packages that are not in the
    /// dist directory are fetched from, instead of the default that the
    /// dist's `pyodide.mjs` builds (see `runner::lock`). May hold
    /// `{version}`, the dist's Pyodide version.
    pub package_base_url: Option<String>,
    /// `--constraint FILE`: pip's constraints for everything resolved
    /// through pip (test dependencies, `--with` names).
    pub constraints: Option<PathBuf>,
    /// `--refresh`: resolve names again instead of reusing the remembered
    /// resolutions.
    pub refresh: bool,
}

impl DistSource {
    /// Open the dist, fetching the release into `cache` if needed.
    pub fn resolve(&self, cache: &Path) -> Result<Dist> {
        let (dir, fetched) = match &self.dir {
            Some(dir) => (dir.clone(), false),
            None => (super::fetch::ensure_pyodide(cache, &self.version)?, true),
        };
        Ok(Dist::open(&dir)?
            .unchanging(fetched)
            .with_package_base_url(self.package_base_url.clone())
            .with_resolution(self.constraints.clone(), self.refresh))
    }
}

/// An opened, checked Pyodide distribution.
#[derive(Debug, Clone)]
pub struct Dist {
    dir: PathBuf,
    lock: LockInfo,
    /// The stdlib zip, read (or mapped) once.
    stdlib: Arc<OnceLock<HostBytes>>,
    /// Its files are never changed in place (a release in the cache,
    /// published whole), so they may be mapped rather than read.
    unchanging: bool,
    /// The package base URL given for it (`--package-base-url`), as given.
    package_base_url: Option<String>,
    /// `--constraint FILE`.
    constraints: Option<PathBuf>,
    /// `--refresh`.
    refresh: bool,
}

/// The `info` block of `pyodide-lock.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct LockInfo {
    /// Python version, e.g. `3.14.2`.
    pub python: String,
    /// Pyodide version, when recorded.
    #[serde(default)]
    pub version: Option<String>,
    /// Platform, e.g. `emscripten_4_0_9`.
    #[serde(default)]
    pub platform: Option<String>,
    /// Pyodide ABI version, e.g. `2026_0`.
    #[serde(default)]
    pub abi_version: Option<String>,
}

#[derive(Deserialize)]
struct LockFile {
    info: LockInfo,
}

/// The files a dist must have: each entry is satisfied by any of its
/// names (older releases ship `pyodide.asm.js` and, before 0.24,
/// `repodata.json`).
const REQUIRED: [&[&str]; 4] = [
    &["pyodide.asm.wasm"],
    &["pyodide.asm.mjs", "pyodide.asm.js"],
    &["python_stdlib.zip"],
    &["pyodide-lock.json", "repodata.json"],
];

/// The first of `names` that is a file in `dir`.
fn first_file(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    names.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

impl Dist {
    /// Open and check the dist in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            bail!(
                "Pyodide distribution directory {} does not exist",
                dir.display()
            );
        }
        for names in REQUIRED {
            if first_file(dir, names).is_none() {
                let also = match &names[1..] {
                    [] => String::new(),
                    older => format!(" (nor {}, as older releases have)", older.join(", ")),
                };
                bail!(
                    "{} is not a Pyodide distribution: {} is missing{also}",
                    dir.display(),
                    names[0]
                );
            }
        }
        let lock_path = first_file(dir, REQUIRED[3]).expect("checked");
        let text = fs::read_to_string(&lock_path)
            .with_context(|| format!("reading {}", lock_path.display()))?;
        let lock: LockFile = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is corrupt: {e}", lock_path.display()))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            lock: lock.info,
            stdlib: Arc::default(),
            unchanging: false,
            package_base_url: None,
            constraints: None,
            refresh: false,
        })
    }

    /// The same dist, known (`yes`) never to change in place (a fetched
    /// release, published whole into the cache): its stdlib zip is then
    /// mapped, not read.
    pub fn unchanging(mut self, yes: bool) -> Self {
        self.unchanging = yes;
        self
    }

    /// The same dist with the package base URL `url` (`--package-base-url`;
    /// `None`: the default of its `pyodide.mjs`).
    pub fn with_package_base_url(mut self, url: Option<String>) -> Self {
        self.package_base_url = url;
        self
    }

    /// The package base URL given for this dist, as given (`{version}`
    /// not yet filled in); `None` when the default applies. The URL in
    /// use is `runner::lock::package_base_url`.
    pub fn package_base_url(&self) -> Option<&str> {
        self.package_base_url.as_deref()
    }

    /// The same dist, with pip resolving against a constraints file (pip's
    /// format; `--constraint FILE`) and, with `refresh`, resolving names
    /// again instead of reusing remembered resolutions (`--refresh`).
    pub fn with_resolution(mut self, constraints: Option<PathBuf>, refresh: bool) -> Self {
        self.constraints = constraints;
        self.refresh = refresh;
        self
    }

    /// The constraints file pip resolves against, if any.
    pub fn constraints(&self) -> Option<&Path> {
        self.constraints.as_deref()
    }

    /// Whether to resolve again rather than reuse remembered resolutions.
    pub fn refresh(&self) -> bool {
        self.refresh
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The lock file's `info`.
    pub fn info(&self) -> &LockInfo {
        &self.lock
    }

    /// The Pyodide version: the npm package's `version` (`package.json`),
    /// else the lock's, else `None` (a bare build directory).
    pub fn pyodide_version(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Package {
            version: Option<String>,
        }
        fs::read_to_string(self.path("package.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Package>(&t).ok())
            .and_then(|p| p.version)
            .or_else(|| self.lock.version.clone())
    }

    /// The Emscripten version the dist was built with (`5.0.3` from the
    /// lock's platform `emscripten_5_0_3`), or empty when unknown.
    pub fn emscripten_version(&self) -> String {
        self.lock
            .platform
            .as_deref()
            .and_then(|p| p.strip_prefix("emscripten_"))
            .map(|v| v.replace('_', "."))
            .unwrap_or_default()
    }

    /// `major.minor` of the dist's Python, e.g. (3, 14).
    pub fn python_major_minor(&self) -> Result<(u32, u32)> {
        let mut parts = self.lock.python.split('.');
        let major = parts.next().and_then(|p| p.parse().ok());
        let minor = parts.next().and_then(|p| p.parse().ok());
        match (major, minor) {
            (Some(a), Some(b)) => Ok((a, b)),
            _ => bail!(
                "pyodide-lock.json has an unreadable Python version {:?}",
                self.lock.python
            ),
        }
    }

    /// Path of a file in the dist.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The main module's bytes.
    pub fn read_wasm(&self) -> Result<Vec<u8>> {
        let path = self.path("pyodide.asm.wasm");
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
            bail!("{} is not a wasm module", path.display());
        }
        Ok(bytes)
    }

    /// The lock file: `pyodide-lock.json`, or `repodata.json` in releases
    /// before 0.24.
    pub fn lock_path(&self) -> PathBuf {
        first_file(&self.dir, REQUIRED[3]).unwrap_or_else(|| self.path("pyodide-lock.json"))
    }

    /// The JS glue: `pyodide.asm.mjs`, or `pyodide.asm.js` in releases
    /// before 314.
    pub fn glue_path(&self) -> PathBuf {
        first_file(&self.dir, REQUIRED[1]).unwrap_or_else(|| self.path("pyodide.asm.mjs"))
    }

    /// The JS glue's bytes (for its `EM_ASM` table), mapped: 1.25 MB read
    /// at every start, which took 0.7 ms copied and takes 0.3 ms mapped.
    /// The mapping lives only while the caller parses it (a glue rebuilt in
    /// place during those moments could fault the process, as with any
    /// mapped file).
    pub fn map_glue(&self) -> Result<HostBytes> {
        let path = self.glue_path();
        HostBytes::map(&path).with_context(|| format!("reading {}", path.display()))
    }

    /// The standard library zip (read once, then shared).
    pub fn stdlib_zip(&self) -> Result<HostBytes> {
        if let Some(zip) = self.stdlib.get() {
            return Ok(zip.clone());
        }
        let path = self.path("python_stdlib.zip");
        // A build directory may be rebuilt while a run maps it: only an
        // unchanging dist's zip is mapped (2.5 MB not read at each start).
        let bytes = if self.unchanging {
            HostBytes::map(&path)
        } else {
            crate::shared_file::read(&path).map(HostBytes::from)
        }
        .with_context(|| format!("reading {}", path.display()))?;
        if bytes.len() < 22 || &bytes[..2] != b"PK" {
            bail!("{} is not a zip file", path.display());
        }
        Ok(self.stdlib.get_or_init(|| bytes).clone())
    }

    /// The description of a guest of this dist: its Python and stdlib,
    /// `max_memory` bytes of memory, the host's stdio, nothing else yet.
    pub fn guest(&self, max_memory: u64) -> Result<GuestSpec> {
        Ok(GuestSpec::new(
            self.python_major_minor()?,
            self.stdlib_zip()?,
            max_memory,
        ))
    }
}
