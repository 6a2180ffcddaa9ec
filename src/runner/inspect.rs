//! `pyodide-test fetch` (a release and its compiled module made ready in
//! the cache) and `pyodide-test imports` (what the dist's module imports,
//! and what of it we provide).

use anyhow::Result;

use super::backend::load_module;
use super::dist::DistSource;
use super::fetch;

/// `pyodide-test fetch`: cache the release and its compiled module.
pub fn fetch(source: &DistSource) -> Result<()> {
    let cache = fetch::cache_root();
    let dist = source.resolve(&cache)?;
    load_module(&dist, &cache)?;
    eprintln!(
        "pyodide-test: Pyodide {} (Python {}) is ready in {}",
        dist.pyodide_version().as_deref().unwrap_or(&source.version),
        dist.info().python,
        dist.dir().display()
    );
    Ok(())
}

/// `pyodide-test imports`: one line per category with its count, then one
/// line per import we neither provide nor list, and per type mismatch.
/// Exit status 1 when there are any of those.
pub fn imports(source: &DistSource) -> Result<i32> {
    let cache = fetch::cache_root();
    let dist = source.resolve(&cache)?;
    let audit = load_module(&dist, &cache)?.audit_imports()?;
    println!("provided {}", audit.provided.len());
    println!("javascript {}", audit.javascript.len());
    println!("unprovided {}", audit.unprovided.len());
    println!("got {}", audit.got);
    for name in &audit.unknown {
        println!("unknown {name}");
    }
    for (name, theirs, ours) in &audit.mismatched {
        println!("mismatched {name}: the module wants {theirs}, we provide {ours}");
    }
    Ok(i32::from(
        !audit.unknown.is_empty() || !audit.mismatched.is_empty(),
    ))
}
