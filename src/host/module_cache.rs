//! Compiling guest modules once and keeping the artifacts on disk.
//!
//! A module is prepared (legacy exceptions translated to exnref) and compiled
//! on first use; the serialized artifact is stored under the cache directory,
//! keyed by the SHA-256 of the original bytes, the Wasmtime version and our
//! own version, so a later start only deserializes it.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

use super::WasmContext;
use super::exnref;

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

    /// The artifact path for `wasm`.
    pub fn artifact_path(&self, wasm: &[u8]) -> PathBuf {
        let mut hasher = Sha256::new();
        hasher.update(wasm);
        hasher.update(b"\0wasmtime-48.0.8\0");
        hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
        hasher.update(std::env::consts::ARCH.as_bytes());
        let digest = hasher.finalize();
        let hex: String = digest.iter().take(20).map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{hex}.cwasm"))
    }

    /// Load `wasm` as a module: from the cache when present, else prepare,
    /// compile and store it.
    pub fn load(&self, engine: &Engine, wasm: &[u8], what: &str) -> Result<Module> {
        let path = self.artifact_path(wasm);
        if path.is_file() {
            // SAFETY: the file was written by `Module::serialize` of this same
            // Wasmtime version (the version is part of the key) into a
            // directory only this tool writes to.
            match unsafe { Module::deserialize_file(engine, &path) } {
                Ok(module) => return Ok(module),
                Err(_) => {
                    // A stale or truncated artifact: compile again below.
                    let _ = fs::remove_file(&path);
                }
            }
        }
        let module = compile(engine, wasm, what)?;
        if let Err(e) = store_artifact(&path, &module) {
            eprintln!("pyodide-test: warning: could not cache {what}: {e:#}");
        }
        Ok(module)
    }
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
    Module::new(engine, &prepared).ctx(format!("compiling {what}"))
}

fn store_artifact(path: &Path, module: &Module) -> Result<()> {
    let dir = path.parent().context("artifact path has no parent")?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let bytes = module.serialize()?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming into {}", path.display()))?;
    Ok(())
}
