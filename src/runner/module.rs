//! Loading a dist's main module (compiled once, kept in the cache), and
//! telling side modules among a guest's files.

use std::path::Path;

use anyhow::{Context, Result};

use super::dist::Dist;
use crate::host::asm_consts::AsmConsts;
use crate::host::boot::PyodideModule;
use crate::host::engine::{self, EngineOptions};
use crate::host::module_cache::ModuleCache;

/// Load the dist's main module through the compiled-module cache under
/// `cache` (side modules loaded later are cached there too).
pub fn load_module(dist: &Dist, cache: &Path) -> Result<PyodideModule> {
    load_module_with(dist, cache, EngineOptions::default())
}

/// [`load_module`] with an engine built with `opts`.
pub fn load_module_with(dist: &Dist, cache: &Path, opts: EngineOptions) -> Result<PyodideModule> {
    let t = std::time::Instant::now();
    let engine = engine::new_engine_with(opts)?;
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
