//! Quick code now, optimized code for later runs.
//!
//! Guests run either of two compilations of the same modules (see
//! [`EngineOptions::optimized`]): optimized code, where Cranelift inlines
//! small callees (about 9% faster; Pyodide 314's main module compiles in
//! 18-21 s at a 6 GiB peak), or quick code (8 s, 0.3 GiB). Node compiles
//! lazily and tiers up as it runs, so its first run costs what its later
//! ones do; a first run here that waited for optimized code did not
//! (pydantic-core: 69 s against Node's 58-64 s).
//!
//! So a run uses optimized code when every module it is about to load
//! (the dist's main module, the side modules in the suites' or the
//! `python` guest's files) is compiled so, and otherwise quick code,
//! compiled first where missing. A process of its own then compiles the
//! optimized code in the background for later runs ([`optimize_main`]):
//! detached, at idle priority (it takes only cores nothing else wants),
//! one at a time on the machine (a lock of its own, not the one a run's
//! compiles take, so that it never holds a run up), and only while the
//! memory it needs is free. A run and its zygotes agree on the tier: the
//! runner passes its choice to them ([`TIER_VAR`]).
//!
//! `PYODIDE_TEST_TIER=optimized` makes a run compile optimized code first
//! where it is missing (as the benches do, to time the code later runs
//! get); `quick` runs quick code and starts no background compile.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use wasmtime::Engine;

use super::dist::{Dist, DistSource};
use crate::atomic_file::Lock;
use crate::host::engine::{self, EngineOptions};
use crate::host::module_cache::{self, ModuleCache};

/// The environment variable that chooses the tier (see the module's
/// doc); the runner sets it for its zygotes.
pub const TIER_VAR: &str = "PYODIDE_TEST_TIER";

/// The hidden subcommand of the background compile.
pub const SUBCOMMAND: &str = "__optimize";

/// The free memory (`MemAvailable`) the background compile needs to start
/// a module: an optimizing compile of Pyodide 314's main module peaks at
/// 5.9 GiB, with room beside it for the run that started it.
const OPTIMIZER_FREE_MEMORY: u64 = 8 << 30;

/// The lock the background compiles hold: one at a time on the machine
/// (per user), whatever cache each compiles into, since what they contend
/// for is the machine's memory.
fn optimizer_lock() -> PathBuf {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    std::env::temp_dir().join(format!("pyodide-test-{uid}-optimize.lock"))
}

/// Which compiled code guests run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Compiled without inlining: quick to compile, about 9% slower.
    Quick,
    /// Compiled with inlining, where the machine has the memory.
    Optimized,
}

impl Tier {
    /// The tier's name, as [`TIER_VAR`] takes it.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Quick => "quick",
            Tier::Optimized => "optimized",
        }
    }

    /// The tier [`TIER_VAR`] asks for, if set.
    pub fn requested() -> Result<Option<Tier>> {
        match std::env::var(TIER_VAR) {
            Err(std::env::VarError::NotPresent) => Ok(None),
            Ok(v) if v == "quick" => Ok(Some(Tier::Quick)),
            Ok(v) if v == "optimized" => Ok(Some(Tier::Optimized)),
            Ok(v) if v.is_empty() => Ok(None),
            Ok(v) => bail!("{TIER_VAR}={v:?}: expected \"quick\" or \"optimized\""),
            Err(e) => bail!("{TIER_VAR}: {e}"),
        }
    }

    /// `base` (optimized options) for this tier.
    pub fn options(self, base: EngineOptions) -> EngineOptions {
        match self {
            Tier::Quick => base.quick(),
            Tier::Optimized => base,
        }
    }
}

/// A module a run is about to load, and its artifact for one engine.
struct Wanted<'a> {
    /// The file name, to say what is compiled.
    name: &'a str,
    /// Its bytes; `None` for the dist's main module, read from its file.
    bytes: Option<&'a [u8]>,
    /// The artifact's path.
    path: PathBuf,
}

/// The modules of a run: the dist's main module and the side modules
/// `side` (each once, however often its bytes appear).
struct Modules<'a> {
    dist: &'a Dist,
    cache: ModuleCache,
    side: Vec<(&'a str, &'a [u8], [u8; 32])>,
}

impl<'a> Modules<'a> {
    fn new(dist: &'a Dist, cache: &Path, side: &[(&'a str, &'a [u8])]) -> Self {
        let mut seen = std::collections::HashSet::new();
        let side = side
            .iter()
            .map(|&(path, bytes)| {
                let name = path.rsplit('/').next().unwrap_or(path);
                (name, bytes, Sha256::digest(bytes).into())
            })
            .filter(|(_, _, digest)| seen.insert(*digest))
            .collect();
        Self {
            dist,
            cache: ModuleCache::new(cache.join("modules")),
            side,
        }
    }

    /// Those whose artifact for `engine` is not in the cache, the main
    /// module first.
    fn missing(&self, engine: &Engine) -> Result<Vec<Wanted<'a>>> {
        let main =
            self.cache
                .file_artifact_path(engine, &self.dist.path("pyodide.asm.wasm"), &|| {
                    self.dist.read_wasm()
                })?;
        let main = Wanted {
            name: "pyodide.asm.wasm",
            bytes: None,
            path: main,
        };
        let side = self.side.iter().map(|&(name, bytes, digest)| Wanted {
            name,
            bytes: Some(bytes),
            path: self.cache.artifact_path_for_digest(engine, &digest),
        });
        Ok(std::iter::once(main)
            .chain(side)
            .filter(|w| !module_cache::stored(&w.path))
            .collect())
    }

    /// Compile `wanted` for `engine` into the cache, each on every core
    /// (through the cache's compile lock: `locked`) or without it (the
    /// background compile). A side module that does not compile is left
    /// to the guest that loads it, which reports it.
    fn compile(&self, engine: &Engine, wanted: &[Wanted], locked: bool) -> Result<()> {
        for w in wanted {
            let read = || match w.bytes {
                Some(bytes) => Ok(bytes.to_vec()),
                None => self.dist.read_wasm(),
            };
            let done = if locked {
                self.cache.ensure_at(engine, &w.path, &read, w.name)
            } else {
                self.cache.compile_unlocked(engine, &w.path, &read, w.name)
            };
            if w.bytes.is_none() {
                done?;
            }
        }
        Ok(())
    }
}

/// Choose the tier for a run whose guests load the dist's main module and
/// the side modules `side` (a guest path and the bytes of each), on
/// engines built with `base` (optimized options) or [`Tier::options`] of
/// it; compile what that tier lacks into the cache, and start the
/// background compile of the optimized code if it is missing. With
/// `announce`, says what it compiles (a first run's compiles take a
/// while). The tier, and the engine built for it.
pub fn prepare(
    dist: &Dist,
    cache: &Path,
    base: EngineOptions,
    side: &[(&str, &[u8])],
    announce: bool,
) -> Result<(Tier, Engine)> {
    let requested = Tier::requested()?;
    let modules = Modules::new(dist, cache, side);
    let optimized = engine::new_engine_with(base)?;
    let missing = modules.missing(&optimized)?;
    // Without inlining (a machine without the memory for it) both tiers
    // are one: compile it in the foreground.
    let quick_differs = base.inlines();
    let tier = match requested {
        Some(tier) => tier,
        None if missing.is_empty() || !quick_differs => Tier::Optimized,
        None => Tier::Quick,
    };
    phase(&format!("tier: {}", tier.name()));
    if tier == Tier::Optimized {
        say(announce, &missing, "once: the cache keeps the result");
        return modules
            .compile(&optimized, &missing, true)
            .map(|()| (tier, optimized));
    }
    let quick = engine::new_engine_with(base.quick())?;
    let quick_missing = modules.missing(&quick)?;
    let background = requested.is_none() && can_optimize();
    say(
        announce,
        &quick_missing,
        if background {
            "quick code now; optimized code compiles in the background, for later runs"
        } else {
            "quick code"
        },
    );
    modules.compile(&quick, &quick_missing, true)?;
    if background {
        let side: Vec<(&str, &[u8])> = missing
            .iter()
            .filter_map(|w| Some((w.name, w.bytes?)))
            .collect();
        if let Err(e) = start_optimizer(dist, cache, &side) {
            phase(&format!("background compile not started: {e:#}"));
        }
    }
    Ok((tier, quick))
}

/// The tier of the main module alone, without compiling anything, and an
/// engine for it (no epochs): for a guest of the runner's own that comes
/// before the run's choice (see [`prepare`]), which then runs the code
/// the run will compile anyway.
pub fn main_tier(dist: &Dist, cache: &Path) -> Result<(Tier, Engine)> {
    let base = EngineOptions::uninterrupted();
    if let Some(tier) = Tier::requested()? {
        return Ok((tier, engine::new_engine_with(tier.options(base))?));
    }
    let optimized = engine::new_engine_with(base)?;
    if !base.inlines()
        || Modules::new(dist, cache, &[])
            .missing(&optimized)?
            .is_empty()
    {
        return Ok((Tier::Optimized, optimized));
    }
    Ok((Tier::Quick, engine::new_engine_with(base.quick())?))
}

/// Says which modules it compiles, and why, if `announce` and any.
fn say(announce: bool, wanted: &[Wanted], how: &str) {
    if announce && !wanted.is_empty() {
        let names: Vec<&str> = wanted.iter().map(|w| w.name).collect();
        eprintln!(
            "pyodide-test: compiling {} for this machine ({how})",
            names.join(", ")
        );
    }
}

/// Under `PYODIDE_TEST_PHASES`, say `what`.
fn phase(what: &str) {
    if std::env::var_os("PYODIDE_TEST_PHASES").is_some() {
        eprintln!("pyodide-test: phase {what}");
    }
}

/// Whether a background compile could start now: none is running, and
/// the memory it needs is free.
fn can_optimize() -> bool {
    memory_to_optimize() && Lock::try_acquire(&optimizer_lock()).is_ok_and(|held| held.is_some())
}

/// Whether the memory an optimizing compile needs is free.
fn memory_to_optimize() -> bool {
    engine::memory_available().is_some_and(|m| m >= OPTIMIZER_FREE_MEMORY)
}

/// Start the background compile of the dist's main module and the side
/// modules `side` (name, bytes), detached: its own process group (a
/// Ctrl-C at the terminal does not reach it), no output, the modules on
/// its stdin.
fn start_optimizer(dist: &Dist, cache: &Path, side: &[(&str, &[u8])]) -> Result<()> {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new(this_program()?)
        .arg("--dist")
        .arg(dist.dir())
        .arg(SUBCOMMAND)
        .env("PYODIDE_TEST_CACHE", cache)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .context("starting the background compile")?;
    let mut input = child
        .stdin
        .take()
        .context("the background compile's stdin")?;
    let sent = write_modules(&mut input, side);
    drop(input);
    // Reaped when it ends, while this process lives (else by init).
    std::thread::spawn(move || child.wait());
    sent.context("sending the modules to the background compile")
}

/// This program, as a process of its own runs it again (`PYODIDE_TEST_EXE`
/// where the tests and benches name it).
pub fn this_program() -> Result<PathBuf> {
    match std::env::var_os("PYODIDE_TEST_EXE") {
        Some(p) => Ok(PathBuf::from(p)),
        None => std::env::current_exe().context("finding this program"),
    }
}

/// Side modules as the background compile reads them: for each, the
/// name's length (u32, little-endian), the name, the bytes' length (u64)
/// and the bytes.
fn write_modules(out: &mut impl Write, side: &[(&str, &[u8])]) -> std::io::Result<()> {
    for (name, bytes) in side {
        out.write_all(&(name.len() as u32).to_le_bytes())?;
        out.write_all(name.as_bytes())?;
        out.write_all(&(bytes.len() as u64).to_le_bytes())?;
        out.write_all(bytes)?;
    }
    out.flush()
}

/// Side modules as [`write_modules`] wrote them.
fn read_modules(mut input: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
    fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8]> {
        if input.len() < n {
            bail!("the module list is truncated");
        }
        let (head, rest) = input.split_at(n);
        *input = rest;
        Ok(head)
    }
    let mut modules = Vec::new();
    while !input.is_empty() {
        let n = u32::from_le_bytes(take(&mut input, 4)?.try_into()?) as usize;
        let name = String::from_utf8(take(&mut input, n)?.to_vec())?;
        let n = usize::try_from(u64::from_le_bytes(take(&mut input, 8)?.try_into()?))?;
        modules.push((name, take(&mut input, n)?.to_vec()));
    }
    Ok(modules)
}

/// The hidden subcommand: compile the optimized code of the dist of
/// `source` (the runner gives `--dist DIR`) and of the side modules on
/// stdin into the cache, at idle priority, one such process at a time.
/// Stops early (to be started again by a later run) when the memory a
/// compile needs is not free. Never returns.
pub fn optimize_main(source: &DistSource) -> ! {
    let run = || -> Result<()> {
        let mut input = Vec::new();
        std::io::stdin().read_to_end(&mut input)?;
        let side = read_modules(&input)?;
        lower_priority();
        let cache = super::fetch::cache_root();
        let dist = source.resolve(&cache)?;
        let _one_at_a_time = Lock::acquire(&optimizer_lock())?;
        if !cache.join("modules").is_dir() {
            bail!("the cache was removed");
        }
        let side: Vec<(&str, &[u8])> = side
            .iter()
            .map(|(name, bytes)| (name.as_str(), &bytes[..]))
            .collect();
        let modules = Modules::new(&dist, &cache, &side);
        let engine = engine::new_engine_with(EngineOptions::uninterrupted())?;
        for wanted in modules.missing(&engine)? {
            if !memory_to_optimize() {
                break;
            }
            modules.compile(&engine, std::slice::from_ref(&wanted), false)?;
        }
        Ok(())
    };
    std::process::exit(match run() {
        Ok(()) => 0,
        Err(_) => 1,
    })
}

/// Run at idle priority: only on cores nothing else wants (threads started
/// later, the compile's among them, inherit it).
fn lower_priority() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: sets this process's own scheduling policy; no memory is
    // shared with the call beyond `param`, which outlives it.
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } != 0 {
        // SAFETY: as above, for the nice value.
        unsafe { libc::nice(19) };
    }
}

#[cfg(test)]
mod tests {
    use super::{read_modules, write_modules};

    #[test]
    fn the_module_list_reads_back_as_written() {
        let side: [(&str, &[u8]); 3] = [("a.so", b"\0asm1"), ("", b""), ("libz.so.1", &[7; 300])];
        let mut out = Vec::new();
        write_modules(&mut out, &side).unwrap();
        let back = read_modules(&out).unwrap();
        let back: Vec<(&str, &[u8])> = back.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
        assert_eq!(back, side);
        assert!(read_modules(&out[..out.len() - 1]).is_err(), "truncated");
        assert!(read_modules(&[]).unwrap().is_empty());
    }
}
