//! Compiling guest modules once and keeping the artifacts on disk.
//!
//! A module is prepared (legacy exceptions translated to exnref) and compiled
//! on first use; the serialized artifact is stored under the cache directory,
//! keyed by everything that shapes the compiled code: the original bytes,
//! the Wasmtime version and the engine's configuration (its compatibility
//! hash), the target, and the source of our own code that rewrites or
//! configures it (`SHAPING_SOURCES`). Each artifact has a CRC-32 beside it
//! (`.crc`); one that does not match (truncated, tampered, half-written) is
//! compiled again, never loaded. Reading a 25 MB artifact to check it costs
//! more than loading it, so a check that passed leaves a stamp (`.checked`:
//! the artifact's length, times, device and inode, and the checksum):
//! while those are unchanged the artifact is not read again.
//!
//! A module read from a file ([`ModuleCache::load_file`]) keeps the digest
//! of its bytes in the same way (`digests/`, by the file's path, length,
//! modification time and inode), so that a start does not hash it again.
//!
//! Every key change (a Pyodide release, a Wasmtime or engine change, our
//! translator) leaves the old artifacts behind, 30-150 MB each. So a load
//! marks its artifact used (the stamp's modification time, refreshed at
//! most once a day), and storing a new artifact, the only time the cache
//! grows, removes those unused for [`UNUSED_FOR`]. A run that still maps
//! one keeps its pages (removing a file never changes a mapping of it).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

use super::WasmContext;
use super::exnref;
use crate::cache_files::{UNUSED_FOR, at_least, mark_file_used};

/// Our source files whose text shapes what is compiled: the exception
/// translator, the engine's configuration, and this cache's own format.
const SHAPING_SOURCES: [&str; 3] = [
    include_str!("exnref.rs"),
    include_str!("engine.rs"),
    include_str!("module_cache.rs"),
];

/// Where compiled artifacts live, and how they are named.
#[derive(Debug, Clone)]
pub struct ModuleCache {
    dir: PathBuf,
}

impl ModuleCache {
    /// A cache rooted at `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The artifact path for `wasm` compiled by `engine`.
    pub fn artifact_path(&self, engine: &Engine, wasm: &[u8]) -> PathBuf {
        self.artifact_path_for_digest(engine, &Sha256::digest(wasm))
    }

    /// The artifact path for the module whose bytes have SHA-256 `digest`.
    pub fn artifact_path_for_digest(&self, engine: &Engine, digest: &[u8]) -> PathBuf {
        use std::hash::{Hash, Hasher};
        let mut config = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut config);
        let mut hasher = Sha256::new();
        hasher.update(digest);
        hasher.update(b"\0wasmtime-48.0.8\0");
        hasher.update(config.finish().to_le_bytes());
        hasher.update(std::env::consts::ARCH.as_bytes());
        for source in SHAPING_SOURCES {
            hasher.update(Sha256::digest(source.as_bytes()));
        }
        let digest = hasher.finalize();
        self.dir
            .join(format!("{}.cwasm", crate::hex::encode(&digest[..20])))
    }

    /// Load `wasm` as a module: from the cache when present, else prepare,
    /// compile and store it.
    pub fn load(&self, engine: &Engine, wasm: &[u8], what: &str) -> Result<Module> {
        self.load_digested(engine, wasm, &Sha256::digest(wasm).into(), what)
    }

    /// [`ModuleCache::load`] of `wasm` whose SHA-256 the caller has
    /// already computed (`digest`): a side module's 5 MB take about 4 ms
    /// to hash, on the path of every guest that imports it.
    pub fn load_digested(
        &self,
        engine: &Engine,
        wasm: &[u8],
        digest: &[u8; 32],
        what: &str,
    ) -> Result<Module> {
        let t = std::time::Instant::now();
        let path = self.artifact_path_for_digest(engine, digest);
        self.load_artifact(engine, &path, &|| Ok(wasm.to_vec()), what, t)
    }

    /// [`ModuleCache::load`] for the module in the file `origin`, whose
    /// bytes `read` gives: the digest of its bytes is remembered by the
    /// file's identity, and the file is read only to hash or compile it.
    pub fn load_file(
        &self,
        engine: &Engine,
        origin: &Path,
        read: &dyn Fn() -> Result<Vec<u8>>,
        what: &str,
    ) -> Result<Module> {
        let t = std::time::Instant::now();
        let path = self.file_artifact_path(engine, origin, read)?;
        self.load_artifact(engine, &path, read, what, t)
    }

    /// Make sure the artifact at `path` (from [`ModuleCache::artifact_path`]
    /// or [`ModuleCache::file_artifact_path`]) is in the cache, compiling
    /// the module whose bytes `read` gives if not, without loading it.
    pub fn ensure_at(
        &self,
        engine: &Engine,
        path: &Path,
        read: &dyn Fn() -> Result<Vec<u8>>,
        what: &str,
    ) -> Result<()> {
        if stored(path) {
            return Ok(());
        }
        self.load_artifact(engine, path, read, what, std::time::Instant::now())
            .map(drop)
    }

    /// The artifact path for the module in the file `origin`, whose bytes
    /// `read` gives: the digest of its bytes is remembered by the file's
    /// identity, so the file is read only the first time.
    pub fn file_artifact_path(
        &self,
        engine: &Engine,
        origin: &Path,
        read: &dyn Fn() -> Result<Vec<u8>>,
    ) -> Result<PathBuf> {
        let digest = crate::file_digest::sha256(&self.dir.join("digests"), origin, read)?;
        Ok(self.artifact_path_for_digest(engine, &digest))
    }

    fn load_artifact(
        &self,
        engine: &Engine,
        path: &Path,
        wasm: &dyn Fn() -> Result<Vec<u8>>,
        what: &str,
        t: std::time::Instant,
    ) -> Result<Module> {
        let phases = std::env::var_os("PYODIDE_TEST_PHASES").is_some();
        if phases {
            eprintln!(
                "pyodide-test: phase {what}: cache key: {:.1} ms",
                t.elapsed().as_secs_f64() * 1e3
            );
        }
        if let Some(module) = cached(engine, path, what, phases) {
            return Ok(module);
        }
        // One compile at a time per cache, across runs (a test suite's
        // processes, a matrix's builds): a run that waited for another's
        // compile of the same module uses its artifact. A compile with
        // inlining holds gigabytes, and each compile already uses every
        // core, so two at once would cost memory and gain nothing.
        let _lock = crate::atomic_file::Lock::acquire(&self.dir.join(".compile.lock"))?;
        if let Some(module) = cached(engine, path, what, phases) {
            return Ok(module);
        }
        let module = compile(engine, &wasm()?, what)?;
        if let Err(e) = store_artifact(path, &module) {
            eprintln!("pyodide-test: warning: could not cache {what}: {e:#}");
        }
        prune(&self.dir, SystemTime::now());
        Ok(module)
    }

    /// Compile the module whose bytes `read` gives into the artifact at
    /// `path` without the cache's compile lock: for a compile in the
    /// background, which serialises on a lock of its own so that it never
    /// holds up a run's compiles. A cache directory removed meanwhile (a
    /// temporary one) is not made again.
    pub fn compile_unlocked(
        &self,
        engine: &Engine,
        path: &Path,
        read: &dyn Fn() -> Result<Vec<u8>>,
        what: &str,
    ) -> Result<()> {
        let module = compile(engine, &read()?, what)?;
        if !self.dir.is_dir() {
            anyhow::bail!("{} was removed", self.dir.display());
        }
        store_artifact(path, &module)?;
        prune(&self.dir, SystemTime::now());
        Ok(())
    }
}

/// Whether an artifact is at `path`, intact.
pub fn stored(path: &Path) -> bool {
    path.is_file() && intact(path)
}

/// The artifact at `path`, when it is there, intact and loads; a stale,
/// truncated or altered one is removed.
fn cached(engine: &Engine, path: &Path, what: &str, phases: bool) -> Option<Module> {
    if !path.is_file() {
        return None;
    }
    let t = std::time::Instant::now();
    let ok = intact(path);
    if phases {
        eprintln!(
            "pyodide-test: phase {what}: checksum: {:.1} ms",
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    if ok {
        // SAFETY: the file was written by `Module::serialize` of this same
        // Wasmtime version and configuration (both are part of the key),
        // and its checksum matches what was written.
        if let Ok(module) = unsafe { Module::deserialize_file(engine, path) } {
            mark_used(path, SystemTime::now());
            return Some(module);
        }
    }
    let _ = fs::remove_file(path);
    None
}

/// Prepare and compile `wasm` without any cache.
pub fn compile(engine: &Engine, wasm: &[u8], what: &str) -> Result<Module> {
    let prepared = if exnref::uses_legacy_exceptions(wasm)
        .with_context(|| format!("{what} is not a valid wasm module"))?
    {
        exnref::translate(wasm).with_context(|| format!("translating the exceptions of {what}"))?
    } else {
        wasm.to_vec()
    };
    let module = Module::new(engine, &prepared).ctx(format!("compiling {what}"));
    release_freed_memory();
    module
}

/// Give the memory a compile freed back to the system. A compile with
/// inlining holds gigabytes at its peak, spread over the compiling
/// threads' malloc arenas, which glibc keeps: a matrix or bisection that
/// compiles build after build in one process would otherwise hold the sum.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of glibc's heaps.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The checksum file of an artifact.
fn crc_path(artifact: &Path) -> PathBuf {
    artifact.with_extension("crc")
}

/// The stamp of an artifact whose checksum matched.
fn stamp_path(artifact: &Path) -> PathBuf {
    artifact.with_extension("checked")
}

/// Whether the artifact's bytes match the checksum written beside it:
/// read and checked once, then known by its stamp while unchanged.
fn intact(artifact: &Path) -> bool {
    let Ok(expected) = fs::read_to_string(crc_path(artifact)) else {
        return false;
    };
    let Some(id) = crate::file_digest::identity(artifact) else {
        return false;
    };
    let stamp = format!("{id} {}\n", expected.trim());
    if fs::read_to_string(stamp_path(artifact)).is_ok_and(|s| s == stamp) {
        return true;
    }
    let Ok(bytes) = fs::read(artifact) else {
        return false;
    };
    let ok = format!("{:08x}", crc32fast::hash(&bytes)) == expected.trim();
    if ok {
        let _ = crate::atomic_file::write(&stamp_path(artifact), stamp.as_bytes());
    }
    ok
}

/// When the artifact was last used: its stamp's modification time (see
/// [`mark_used`]), else its own (stored, never loaded since).
fn last_used(artifact: &Path) -> Option<SystemTime> {
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(&stamp_path(artifact)), modified(artifact)) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Mark the artifact used at `now`: its stamp's modification time (see
/// [`mark_file_used`]).
fn mark_used(artifact: &Path, now: SystemTime) {
    if let Ok(file) = fs::File::options().write(true).open(stamp_path(artifact)) {
        mark_file_used(&file, now);
    }
}

/// Remove the artifacts in `dir` (with their checksum and stamp) unused
/// for [`UNUSED_FOR`] at `now`; returns how many.
pub fn prune(dir: &Path, now: SystemTime) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let artifact = entry.path();
        if artifact.extension().is_none_or(|e| e != "cwasm") {
            continue;
        }
        let unused = last_used(&artifact).is_some_and(|t| at_least(now, t, UNUSED_FOR));
        if unused && fs::remove_file(&artifact).is_ok() {
            let _ = fs::remove_file(crc_path(&artifact));
            let _ = fs::remove_file(stamp_path(&artifact));
            removed += 1;
        }
    }
    removed
}

fn store_artifact(path: &Path, module: &Module) -> Result<()> {
    let dir = path.parent().context("artifact path has no parent")?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let bytes = module.serialize()?;
    // The checksum first: an artifact without a matching one is never used.
    crate::atomic_file::write(
        &crc_path(path),
        format!("{:08x}\n", crc32fast::hash(&bytes)).as_bytes(),
    )?;
    crate::atomic_file::write(path, &bytes)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const DAY: Duration = Duration::from_secs(24 * 3600);

    /// An artifact `name` with its checksum, modified at `at`, and its
    /// stamp (modified at `stamped`) if given.
    fn artifact(dir: &Path, name: &str, at: SystemTime, stamped: Option<SystemTime>) -> PathBuf {
        let path = dir.join(format!("{name}.cwasm"));
        fs::write(&path, b"artifact").unwrap();
        fs::write(crc_path(&path), b"00000000\n").unwrap();
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(at)
            .unwrap();
        if let Some(t) = stamped {
            fs::write(stamp_path(&path), b"stamp\n").unwrap();
            let f = fs::File::options().write(true).open(stamp_path(&path));
            f.unwrap().set_modified(t).unwrap();
        }
        path
    }

    #[test]
    fn storing_removes_only_artifacts_unused_for_a_month() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let long_ago = now - 40 * DAY;
        let stale = artifact(dir.path(), "stale", long_ago, Some(long_ago));
        let never_loaded = artifact(dir.path(), "never-loaded", long_ago, None);
        let used = artifact(dir.path(), "used", long_ago, Some(now - DAY));
        let fresh = artifact(dir.path(), "fresh", now, None);
        let other = dir.path().join("notes.txt");
        fs::write(&other, b"not an artifact").unwrap();
        fs::File::options()
            .write(true)
            .open(&other)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();

        assert_eq!(prune(dir.path(), now), 2);
        for gone in [&stale, &never_loaded] {
            assert!(!gone.exists() && !crc_path(gone).exists() && !stamp_path(gone).exists());
        }
        for kept in [&used, &fresh] {
            assert!(
                kept.exists() && crc_path(kept).exists(),
                "{}",
                kept.display()
            );
        }
        assert!(stamp_path(&used).exists() && other.exists());
        assert_eq!(prune(dir.path(), now), 0);
    }

    #[test]
    fn a_load_marks_its_artifact_used_at_most_daily() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let modified = |p: &Path| fs::metadata(stamp_path(p)).unwrap().modified().unwrap();
        let old_mark = artifact(dir.path(), "old", now - 40 * DAY, Some(now - 2 * DAY));
        mark_used(&old_mark, now);
        assert_eq!(modified(&old_mark), now);
        let recent = now - Duration::from_secs(3600);
        let new_mark = artifact(dir.path(), "new", now - 40 * DAY, Some(recent));
        mark_used(&new_mark, now);
        assert_eq!(modified(&new_mark), recent);
        // Marked, it outlives a prune a month after it was stored.
        assert_eq!(prune(dir.path(), now + 20 * DAY), 0);
        assert_eq!(prune(dir.path(), now + 40 * DAY), 2);
    }
}
