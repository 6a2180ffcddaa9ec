//! Older Pyodide releases boot under Wasmtime: each is fetched with
//! `npm pack` (`--pyodide VERSION`) and runs a snippet through CPython's
//! command line. What differs between them (imported or exported memory
//! and table, JS or wasm exceptions, renamed and re-typed imports, the
//! trampoline helpers) is read from each module by the host; these tests
//! keep those paths alive.

mod common;

use std::process::Command;

use common::exe;

/// Every release on npm from 0.23.4 through 315.0.0-alpha.2.
const RELEASES: &[&str] = &[
    "0.23.4",
    "0.24.0",
    "0.24.1",
    "0.25.0",
    "0.25.1",
    "0.26.0-alpha.4",
    "0.26.0",
    "0.26.1",
    "0.26.2",
    "0.26.3",
    "0.26.4",
    "0.27.0",
    "0.27.1",
    "0.27.2",
    "0.27.3",
    "0.27.4",
    "0.27.5",
    "0.27.6",
    "0.27.7",
    "0.27.8",
    "0.28.0",
    "0.28.1",
    "0.28.2",
    "0.28.3",
    "0.29.0",
    "0.29.1",
    "0.29.2",
    "0.29.3",
    "0.29.4",
    "0.29.5",
    "314.0.0-alpha.1",
    "314.0.0-alpha.2",
    "314.0.0",
    "314.0.1",
    "314.0.2",
    "314.0.3",
    "314.0.4",
    "314.0.5",
    "314.0.6",
    "314.0.7",
    "315.0.0-alpha.1",
    "315.0.0-alpha.2",
];

/// Touches the stdlib's C modules (json, re, decimal, zlib, ctypes with
/// libffi), the file system and the time imports.
const SNIPPET: &str = "import sys, json, re, decimal, zlib, ctypes, time, os; \
print(sys.version_info[0], json.dumps({'a': [1]}), re.sub('b+', '-', 'abbbc'), \
decimal.Decimal(1) / 4, len(zlib.compress(b'x' * 100)) < 100, \
ctypes.c_int(7).value, time.strftime('%Y-%m-%d %a', time.gmtime(86400 * 365)), \
os.path.isdir('/tmp'))";

const EXPECTED: &str = "3 {\"a\": [1]} a-c 0.25 True 7 1971-01-01 Fri True\n";

/// Run the snippet under `version`; `Err` says why it did not give the
/// expected line.
fn run_snippet(version: &str) -> Result<(), String> {
    let out = Command::new(exe())
        .args(["--pyodide", version, "python", "-c", SNIPPET])
        .output()
        .map_err(|e| format!("{version}: running pyodide-test: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(0) && stdout == EXPECTED {
        Ok(())
    } else {
        Err(format!(
            "{version}: status {:?}, stdout {stdout:?}, stderr: {}",
            out.status.code(),
            stderr.lines().rev().take(6).collect::<Vec<_>>().join(" | ")
        ))
    }
}

/// The newest 0.29 (position-independent, imported memory, table and
/// exception tags, count-args helper) and the newest 0.27 (also JS-style
/// exceptions through `invoke_*`, `emscripten_exit_with_live_runtime`,
/// strftime in the host).
#[test]
fn older_abis_boot() {
    for version in ["0.29.5", "0.27.8"] {
        if let Err(e) = run_snippet(version) {
            panic!("{e}");
        }
    }
}

#[test]
#[ignore = "fetches 42 releases with npm pack (about 400 MB) and compiles each (minutes)"]
fn every_release_boots() {
    let failures: Vec<String> = RELEASES
        .iter()
        .filter_map(|v| run_snippet(v).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} releases failed:\n{}",
        failures.len(),
        RELEASES.len(),
        failures.join("\n")
    );
}
