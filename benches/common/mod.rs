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
