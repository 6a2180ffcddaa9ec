//! `pyodide-test fetch` (a release and its compiled module made ready in
//! the cache) and `pyodide-test imports` (what the dist's module imports,
//! and what of it we provide).

use anyhow::Result;

use super::backend::{load_module_on, load_module_with};
use super::dist::DistSource;
use super::fetch;
use super::tier::{Tier, main_tier};
use crate::host::engine::EngineOptions;

/// `pyodide-test fetch`: cache the release and its compiled module: the
/// optimized code runs use (see `tier.rs`), compiled now where it is
/// missing, since this is the command that makes a release ready
/// (`PYODIDE_TEST_TIER=quick`: the quick code).
pub fn fetch(source: &DistSource) -> Result<()> {
    let cache = fetch::cache_root();
    let dist = source.resolve(&cache)?;
    let tier = Tier::requested()?.unwrap_or(Tier::Optimized);
    load_module_with(&dist, &cache, tier.options(EngineOptions::uninterrupted()))?;
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
    // Any compiled code of the module tells its imports: that of the tier
    // runs have compiled.
    let (_, engine) = main_tier(&dist, &cache)?;
    let module = load_module_on(&dist, &cache, engine)?;
    let audit = module.audit_imports()?;
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
