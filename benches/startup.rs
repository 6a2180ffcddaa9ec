//! Start-up benchmark, in one run: `pyodide-test python -c pass` (first run
//! compiling into an empty cache, then cached) against Node 20's
//! `loadPyodide()` + the same statement (through the conformance driver,
//! which starts Pyodide the way its CLI does), and native `python3 -c pass`.
//!
//! `cargo bench --bench startup`. Needs the dist: `PYODIDE_DIST`, else the
//! default release is fetched into the cache by the tool itself.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 7;

fn time_once(cmd: &mut Command) -> Duration {
    let start = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("spawn");
    let took = start.elapsed();
    assert!(status.success(), "benchmark command failed: {cmd:?}");
    took
}

mod common;
use common::{median, native_python};

fn main() {
    common::time_optimized_code();
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_pyodide-test"));
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dist = match std::env::var_os("PYODIDE_DIST") {
        Some(d) => PathBuf::from(d),
        None => {
            let out = Command::new(&exe)
                .arg("fetch")
                .output()
                .expect("pyodide-test fetch");
            assert!(
                out.status.success(),
                "fetch failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let cache = std::env::var_os("PYODIDE_TEST_CACHE")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/pyodide-test")
                });
            cache
                .join("pyodide")
                .join(pyodide_test::runner::fetch::DEFAULT_PYODIDE_VERSION)
        }
    };
    // A private cache for the compiled module, so the first run compiles.
    let cache = std::env::temp_dir().join(format!("pyodide-test-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let ours = || {
        let mut c = Command::new(&exe);
        c.env("PYODIDE_TEST_CACHE", &cache)
            .arg("--dist")
            .arg(&dist)
            .args(["python", "-c", "pass"]);
        c
    };
    let first = time_once(&mut ours());
    let cached = median((0..RUNS).map(|_| time_once(&mut ours())).collect());

    let node = median(
        (0..RUNS.min(5))
            .map(|_| {
                time_once(
                    Command::new("node")
                        // The flag Pyodide's launcher passes (the driver
                        // would otherwise start Node a second time with it).
                        .arg("--experimental-wasm-stack-switching")
                        .arg(root.join("conformance/node/run.mjs"))
                        .arg("--dist")
                        .arg(&dist)
                        .args(["-c", "pass"]),
                )
            })
            .collect(),
    );
    let python = native_python();
    let native = median(
        (0..RUNS)
            .map(|_| time_once(Command::new(&python).args(["-c", "pass"])))
            .collect(),
    );
    let _ = std::fs::remove_dir_all(&cache);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("start-up, `-c pass` (median of {RUNS}):");
    println!("  pyodide-test, first run (compiles) {:>8.1} ms", ms(first));
    println!(
        "  pyodide-test, cached               {:>8.1} ms",
        ms(cached)
    );
    println!("  node + loadPyodide                 {:>8.1} ms", ms(node));
    println!("  native {python:<27} {:>8.1} ms", ms(native));
    println!("ratios:");
    println!(
        "  node / pyodide-test cached   {:>6.1}x",
        ms(node) / ms(cached)
    );
    println!(
        "  node / pyodide-test first    {:>6.1}x",
        ms(node) / ms(first)
    );
    println!(
        "  pyodide-test cached / native {:>6.1}x",
        ms(cached) / ms(native)
    );
}
