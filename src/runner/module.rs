//! Loading a dist's main module (compiled once, kept in the cache), on
//! demand for the runner's own guests, and telling side modules among a
//! guest's files.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result};

use super::dist::Dist;
use crate::host::asm_consts::AsmConsts;
use crate::host::boot::PyodideModule;
use crate::host::engine::{self, EngineOptions};
use crate::host::module_cache::ModuleCache;
use wasmtime::Engine;

/// Load the dist's main module through the compiled-module cache under
/// `cache` (side modules loaded later are cached there too).
pub fn load_module(dist: &Dist, cache: &Path) -> Result<PyodideModule> {
    load_module_with(dist, cache, EngineOptions::default())
}

/// [`load_module`] with an engine built with `opts`.
pub fn load_module_with(dist: &Dist, cache: &Path, opts: EngineOptions) -> Result<PyodideModule> {
    load_module_on(dist, cache, engine::new_engine_with(opts)?)
}

/// [`load_module`] on `engine`, built already.
pub fn load_module_on(dist: &Dist, cache: &Path, engine: Engine) -> Result<PyodideModule> {
    let t = std::time::Instant::now();
    let modules = ModuleCache::new(cache.join("modules"));
    // The 10 MB module is read only to be hashed or compiled (both
    // remembered); its `dylink.0` section comes first.
    let module = modules.load_file(
        &engine,
        &dist.path("pyodide.asm.wasm"),
        &|| dist.read_wasm(),
        "pyodide.asm.wasm",
    )?;
    let glue = dist.map_glue()?;
    let asm = AsmConsts::parse(std::str::from_utf8(&glue).context("the JS glue is not UTF-8")?)?;
    drop(glue);
    // A main module without `dylink.0` needs no layout from it.
    let head = crate::host::dylink::read_head(&dist.path("pyodide.asm.wasm"))?;
    let dylink = crate::host::dylink::parse_module(&head).unwrap_or_default();
    let module = PyodideModule::new(&engine, module, &dylink, asm, modules);
    if std::env::var_os("PYODIDE_TEST_PHASES").is_some() {
        eprintln!(
            "pyodide-test: phase load module (read, key, check, deserialize): {:.1} ms",
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    module
}

/// A main module for the runner's own in-process guests (compiling
/// bytecode, and guests no zygote serves), loaded, and compiled the first
/// time, only when such a guest is about to start. A run whose guests all
/// run in zygotes, with its bytecode cached, never loads one: a first run
/// does not compile it (8 s of pydantic-core's), and later runs do not
/// map it.
pub struct LazyModule {
    source: Option<(Dist, PathBuf, Purpose)>,
    module: OnceLock<Result<Arc<PyodideModule>, String>>,
}

/// What a [`LazyModule`] is for, which decides its engine.
#[derive(Clone, Copy)]
enum Purpose {
    /// Test guests: epochs, so that a timeout can stop them (see
    /// [`load_module`]).
    Tests,
    /// The runner's own scripts, which end (compiling bytecode): no
    /// epochs, and the code the zygotes will run, which a run in zygotes
    /// compiles anyway: optimized where the main module's is compiled,
    /// else quick (see `tier.rs`).
    Scripts,
}

impl LazyModule {
    /// The main module of `dist` for test guests, through the module cache
    /// under `cache`, when first asked for.
    pub fn new(dist: &Dist, cache: &Path) -> Self {
        Self::with_purpose(dist, cache, Purpose::Tests)
    }

    /// The main module of `dist` for the runner's own scripts, when first
    /// asked for: for a run in zygotes, whose main module it shares.
    pub fn for_scripts(dist: &Dist, cache: &Path) -> Self {
        Self::with_purpose(dist, cache, Purpose::Scripts)
    }

    fn with_purpose(dist: &Dist, cache: &Path, purpose: Purpose) -> Self {
        Self {
            source: Some((dist.clone(), cache.to_path_buf(), purpose)),
            module: OnceLock::new(),
        }
    }

    /// A module already loaded.
    pub fn loaded(module: Arc<PyodideModule>) -> Self {
        Self {
            source: None,
            module: OnceLock::from(Ok(module)),
        }
    }

    /// The module, loaded on first use (a failure is kept and given again).
    pub fn get(&self) -> Result<&Arc<PyodideModule>> {
        let loaded = self.module.get_or_init(|| {
            let (dist, cache, purpose) = self.source.as_ref().ok_or("no module")?;
            let module = match purpose {
                Purpose::Tests => load_module(dist, cache),
                Purpose::Scripts => super::tier::main_tier(dist, cache)
                    .and_then(|(_, engine)| load_module_on(dist, cache, engine)),
            };
            module.map(Arc::new).map_err(|e| format!("{e:#}"))
        });
        loaded.as_ref().map_err(|e| anyhow::anyhow!("{e}"))
    }
}

/// Whether a guest file is a side module: a shared library (`NAME.so`,
/// `NAME.so.VERSION`) holding wasm.
pub fn is_side_module(path: &str, bytes: &[u8]) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    (name.ends_with(".so") || name.contains(".so.")) && bytes.starts_with(b"\0asm")
}

#[cfg(test)]
mod tests {
    use super::is_side_module;

    #[test]
    fn side_modules_are_wasm_shared_libraries() {
        let wasm = b"\0asm\x01\0\0\0";
        for path in [
            "/lib/python3.14/site-packages/m/_m.cpython-314-wasm32-emscripten.so",
            "/usr/lib/libz.so",
            "/usr/lib/libz.so.1",
        ] {
            assert!(is_side_module(path, wasm), "{path}");
        }
        assert!(!is_side_module("/usr/lib/libz.so", b"\x7fELF"));
        assert!(!is_side_module("/x/data.sox", wasm));
        assert!(!is_side_module("/x/mod.wasm", wasm));
        assert!(!is_side_module("/x.so/readme.txt", wasm));
    }
}
