//! The Wasmtime engine configuration shared by every module we run.

use anyhow::Result;

use super::WasmContext;
use wasmtime::{Config, Engine};

/// Wasm stack given to guest code. CPython's recursion limit is checked in C
/// against its own estimate; deep recursion must reach `RecursionError`
/// before Wasmtime's stack limit traps, so give wasm a generous stack.
pub const WASM_STACK_BYTES: usize = 256 << 20;

/// Native stack for a thread that runs guest code: the wasm stack plus room
/// for host frames.
pub const HOST_THREAD_STACK_BYTES: usize = WASM_STACK_BYTES + (32 << 20);

/// How an engine differs between the ways guests are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineOptions {
    /// Epoch interruption: a runner can stop a guest that loops from
    /// another thread. It costs CPython's eval loop about a quarter of its
    /// speed; a guest in a process of its own (the zygote's children) is
    /// stopped by killing the process instead.
    pub epochs: bool,
    /// Compile on several threads. Off where the process must stay
    /// single-threaded (a zygote that forks).
    pub parallel_compilation: bool,
    /// Optimized code: Cranelift inlines small wasm callees into their
    /// callers, where the machine has the memory for such a compile (see
    /// [`new_engine_with`]). Off: quick code, which compiles in a third
    /// of the time and runs about 9% slower.
    pub optimized: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            epochs: true,
            parallel_compilation: true,
            optimized: false,
        }
    }
}

impl EngineOptions {
    /// For guests nothing interrupts from inside (`python`; a zygote's
    /// children, which are killed instead): no epochs.
    pub fn uninterrupted() -> Self {
        Self {
            epochs: false,
            parallel_compilation: true,
            optimized: true,
        }
    }

    /// The zygote's engine: no epochs, one thread (same artifacts as
    /// [`EngineOptions::uninterrupted`]: the thread count is not part of
    /// the compiled code).
    pub fn zygote() -> Self {
        Self {
            epochs: false,
            parallel_compilation: false,
            optimized: true,
        }
    }

    /// These options with quick code instead of optimized.
    pub fn quick(self) -> Self {
        Self {
            optimized: false,
            ..self
        }
    }

    /// Whether an engine built with these options inlines: optimized
    /// code, on a machine with the memory for its compile.
    pub fn inlines(&self) -> bool {
        self.optimized && memory_total().is_some_and(|m| m >= INLINING_MEMORY)
    }
}

/// Build the default engine (see [`new_engine_with`]).
pub fn new_engine() -> Result<Engine> {
    new_engine_with(EngineOptions::default())
}

/// Build the engine: exceptions (standard exnref form), GC (for `ref.test`
/// in the call trampoline), function references, tail calls, and (with
/// `opts.epochs`) epoch interruption so that a runner can stop a guest
/// that loops.
///
/// `PYODIDE_TEST_ENGINE` (comma-separated, for measurements only) changes
/// more: see [`apply_experiment`].
pub fn new_engine_with(opts: EngineOptions) -> Result<Engine> {
    let mut config = Config::new();
    config
        .wasm_exceptions(true)
        .wasm_gc(true)
        .wasm_function_references(true)
        .wasm_tail_call(true)
        .wasm_reference_types(true)
        .wasm_multi_value(true)
        .wasm_bulk_memory(true)
        .wasm_extended_const(true)
        .epoch_interruption(opts.epochs)
        .async_stack_size(WASM_STACK_BYTES + (1 << 20))
        .max_wasm_stack(WASM_STACK_BYTES)
        .parallel_compilation(opts.parallel_compilation);
    // Cranelift guards every table access (each `call_indirect`: CPython's
    // type slots, vectorcall, the trampoline) against speculation past the
    // table's end, for hosts that hold secrets from their guests. The
    // guest here is the user's own test code, and the guard costs the CPU
    // set about 2.5% (regex 11%).
    // SAFETY: a boolean setting Cranelift defines for every target.
    unsafe { config.cranelift_flag_set("enable_table_access_spectre_mitigation", "false") };
    // Cranelift inlines small wasm callees into their callers (LLVM has
    // already inlined within each module, but not across the calls that
    // wasm-ld and Emscripten leave: CPython's object helpers, the
    // allocator, libc). The CPU set runs in about 0.91-0.93x the time.
    // The price is paid once per module and cached: compiling Pyodide's
    // main module takes about 2.5x as long (with the cap below) and holds
    // about 6 GiB at its peak, and the artifact is larger. So only
    // optimized engines inline (`EngineOptions::optimized`: those that run
    // tests and `python`, without epochs, where that code is compiled);
    // engines with epochs never do. A machine with less memory than such a compile needs
    // (with room for the run itself) compiles without inlining.
    if opts.inlines() {
        config.compiler_inlining(wasmtime::Inlining::Yes);
        // Inline a callee only while caller and callee together stay under
        // 1000 (Wasmtime's default: 2000). Pyodide 314's main module then
        // compiles in 18-21 s at a 5.9 GiB peak instead of 41-52 s at 8.8 GiB,
        // and the CPU set runs as fast within the noise (concurrent pairs
        // both ways round: 1.009 and 0.999 the time; 500 loses about half
        // of inlining's gain, regex most).
        // SAFETY: a setting Wasmtime's Cranelift compiler defines (the
        // engine fails to build if it does not).
        unsafe {
            config.cranelift_flag_set(
                "wasmtime_inlining_sum_size_threshold",
                &INLINING_SUM_SIZE.to_string(),
            )
        };
    }
    if let Some(knobs) = std::env::var_os("PYODIDE_TEST_ENGINE") {
        apply_experiment(&mut config, &knobs.to_string_lossy())?;
    }
    Engine::new(&config).ctx("configuring the Wasmtime engine")
}

/// Wasmtime's inlining cap: the largest sum of a caller's and a callee's
/// sizes for which it inlines (callees of at most 50 are inlined anyway).
const INLINING_SUM_SIZE: u32 = 1000;

/// The machine memory below which engines compile without inlining: an
/// inlining compile of Pyodide 314's main module peaks at about 6 GiB
/// (pydantic-core's first run, with its side modules, at 7.6 GiB).
/// The machine's total (not what is free at the moment) decides, so that
/// the runner and its zygotes, which must agree on the engine, always do.
const INLINING_MEMORY: u64 = 16 << 30;

/// The machine's memory in bytes (`MemTotal`), where the system says.
fn memory_total() -> Option<u64> {
    meminfo("MemTotal")
}

/// The memory the system could give now without swapping
/// (`MemAvailable`), in bytes, where it says.
pub fn memory_available() -> Option<u64> {
    meminfo("MemAvailable")
}

/// The field `key` of `/proc/meminfo`, in bytes.
fn meminfo(key: &str) -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_meminfo(&info, key)
}

fn parse_meminfo(meminfo: &str, key: &str) -> Option<u64> {
    let line = meminfo
        .lines()
        .find(|l| l.split_once(':').is_some_and(|(k, _)| k == key))?;
    let mut words = line.split_whitespace().skip(1);
    let n: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => n.checked_mul(1024),
        _ => None,
    }
}

/// Settings for measuring the engine, from `PYODIDE_TEST_ENGINE`:
/// `perfmap` (write `/tmp/perf-PID.map` for `perf report`), `no-epochs`,
/// `opt=none|speed|size`, `inline=no|inter|yes`, `lazy-table=0|1`, `backtrace=0|1`,
/// `unwind=0|1`, `signals=0|1`, `reservation=BYTES`, `guard=BYTES`,
/// `cow=0|1`, `flag=NAME:VALUE` (a Cranelift flag). Not a user-facing option: the module cache keys artifacts by
/// the engine's compatibility hash, so each setting compiles its own.
pub fn apply_experiment(config: &mut Config, knobs: &str) -> Result<()> {
    use wasmtime::{OptLevel, ProfilingStrategy};
    for knob in knobs.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        let (name, value) = knob.split_once('=').unwrap_or((knob, "1"));
        let on = value != "0";
        let bytes = || -> Result<u64> {
            value
                .parse::<u64>()
                .map_err(|_| anyhow::anyhow!("PYODIDE_TEST_ENGINE: {knob}: not a number"))
        };
        match name {
            "perfmap" => {
                config.profiler(ProfilingStrategy::PerfMap);
            }
            "no-epochs" => {
                config.epoch_interruption(false);
            }
            "opt" => {
                config.cranelift_opt_level(match value {
                    "none" => OptLevel::None,
                    "size" => OptLevel::SpeedAndSize,
                    _ => OptLevel::Speed,
                });
            }
            "inline" => {
                use wasmtime::Inlining;
                config.compiler_inlining(match value {
                    "0" | "no" => Inlining::No,
                    "inter" => Inlining::InterModule,
                    _ => Inlining::Yes,
                });
            }
            "lazy-table" => {
                config.table_lazy_init(on);
            }
            "backtrace" => {
                config.wasm_backtrace_max_frames(if on {
                    std::num::NonZeroUsize::new(20)
                } else {
                    None
                });
            }
            "unwind" => {
                config.native_unwind_info(on);
            }
            "signals" => {
                config.signals_based_traps(on);
            }
            "reservation" => {
                config.memory_reservation(bytes()?);
            }
            "guard" => {
                config.memory_guard_size(bytes()?);
            }
            "cow" => {
                config.memory_init_cow(on);
            }
            "flag" => {
                // flag=NAME:VALUE, a Cranelift setting.
                let (flag, v) = value.split_once(':').unwrap_or((value, "true"));
                // SAFETY: measurements only; the caller picks a flag that
                // Cranelift accepts for this target.
                unsafe { config.cranelift_flag_set(flag, v) };
            }
            _ => anyhow::bail!("PYODIDE_TEST_ENGINE: unknown setting {knob:?}"),
        }
    }
    Ok(())
}

/// Start (once per engine) a thread that advances the engine's epoch every
/// 100 ms, which is when stores check their interrupt predicates.
pub fn start_epoch_ticker(engine: &Engine) {
    use std::sync::Mutex;
    static STARTED: Mutex<Vec<Engine>> = Mutex::new(Vec::new());
    let mut started = STARTED.lock().unwrap_or_else(|e| e.into_inner());
    if started.iter().any(|e| Engine::same(e, engine)) {
        return;
    }
    started.push(engine.clone());
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        })
        .expect("spawning the epoch ticker thread");
}

#[cfg(test)]
mod tests {
    use super::parse_meminfo;

    #[test]
    fn reads_meminfo() {
        let info =
            "MemTotal:       24563008 kB\nMemFree:         1000 kB\nMemAvailable:    2000 kB\n";
        assert_eq!(parse_meminfo(info, "MemTotal"), Some(24563008 * 1024));
        assert_eq!(parse_meminfo(info, "MemAvailable"), Some(2000 * 1024));
        assert_eq!(parse_meminfo(info, "Mem"), None);
        assert_eq!(parse_meminfo("MemFree: 1 kB\n", "MemTotal"), None);
        assert_eq!(parse_meminfo("MemTotal: lots\n", "MemTotal"), None);
        assert_eq!(parse_meminfo("MemTotal: 12 MB\n", "MemTotal"), None);
    }
}
