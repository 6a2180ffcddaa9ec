//! What the benches share: an in-memory output sink, the median, the
//! host's real CPython (not a shim in front of it), and the code timed.

#![allow(dead_code)]

use std::process::Command;
use std::sync::Mutex;

use pyodide_test::syscalls::OutputSink;

/// Output kept in memory.
#[derive(Default)]
pub struct Keep(pub Mutex<Vec<u8>>);

impl OutputSink for Keep {
    fn write(&self, data: &[u8]) -> std::io::Result<()> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(())
    }
}

impl Keep {
    /// What was written, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The median of `v` (the upper one of an even count).
pub fn median<T: PartialOrd + Copy>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    v[v.len() / 2]
}

/// The native CPython to compare with: `PYTHON`, else `python3`, resolved
/// to the interpreter itself (a version manager's `python3` is often a
/// shell script that costs more than CPython's start).
pub fn native_python() -> String {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    Command::new(&python)
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|p| !p.is_empty())
        .unwrap_or(python)
}

/// Time the code later runs get: every run of ours compiles its optimized
/// code first where it is missing, instead of running quick code while
/// the optimized code compiles in the background (see `runner/tier.rs`).
/// Call first in `main`, before any thread starts.
pub fn time_optimized_code() {
    // SAFETY: no other thread runs yet (the caller's promise).
    unsafe { std::env::set_var(pyodide_test::runner::tier::TIER_VAR, "optimized") };
}

/// The machine's CPU time so far, from `/proc/stat`'s first line: (time
/// stolen by the hypervisor, all time), in ticks; `None` where it cannot
/// be read.
fn cpu_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest times are
    // counted in user and nice already).
    let steal = *ticks.get(7)?;
    Some((steal, ticks.iter().take(8).sum()))
}

/// The share of the machine's CPU time that its hypervisor took while a
/// measurement ran: a figure taken during a high steal is slower than the
/// code it times.
pub struct Steal(Option<(u64, u64)>);

impl Steal {
    /// Start counting.
    pub fn start() -> Steal {
        Steal(cpu_ticks())
    }

    /// The stolen share since `start`, in percent, as printed ("-" where
    /// `/proc/stat` cannot tell).
    pub fn percent(&self) -> String {
        match (self.0, cpu_ticks()) {
            (Some((s0, t0)), Some((s1, t1))) if t1 > t0 => {
                format!("{:.1}%", 100.0 * (s1 - s0) as f64 / (t1 - t0) as f64)
            }
            _ => "-".into(),
        }
    }
}
