//! Test-runner benchmark, in one run: msgpack's whole test suite
//! (`pyodide-test msgpack`, pinned as in `tests/suites.rs`, compared with
//! the committed `snapshots/pyodide-314.0.7/`) at `-j 1` and `-j 2`, under this tool and
//! under `--runtime node` (every guest a Node process running the dist's
//! own JS), wall time including start-up. Prints the times and the ratios
//! Node / this tool at the same parallelism (issue 4's target: at least 2).
//!
//! `cargo bench --bench runner`. `PYODIDE_DIST` selects the dist (else the
//! default release, fetched by the tool), `BENCH_RUNS` the runs per
//! configuration (default 3, the median is reported), `BENCH_SUITE` another
//! committed suite (`bitarray`). One untimed run of each runtime first fills
//! the caches (wheels, sdist, bytecode, compiled module).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PYTEST: &[&str] = &[
    "pluggy==1.7.0",
    "iniconfig==2.3.1",
    "packaging==26.4",
    "pygments==2.21.0",
    "pytest==9.2.0",
];

fn pins(suite: &str) -> &'static [&'static str] {
    match suite {
        "msgpack" => &["msgpack==1.2.4"],
        "bitarray" => &["bitarray==3.12.3"],
        other => panic!("BENCH_SUITE={other}: msgpack or bitarray"),
    }
}

mod common;
use common::median;

fn main() {
    common::time_optimized_code();
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_pyodide-test"));
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let suite = std::env::var("BENCH_SUITE").unwrap_or_else(|_| "msgpack".into());
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let dist: Vec<String> = match std::env::var("PYODIDE_DIST") {
        Ok(d) => vec!["--dist".into(), d],
        Err(_) => Vec::new(),
    };
    let run = |runtime: &str, jobs: usize| -> Duration {
        let mut cmd = Command::new(&exe);
        cmd.args(&dist).args(["--runtime", runtime]).arg(&suite);
        for w in pins(&suite).iter().chain(PYTEST) {
            cmd.args(["--with", w]);
        }
        cmd.args(["-j", &jobs.to_string()])
            .arg("--snapshot-dir")
            .arg(root.join("snapshots/pyodide-314.0.7"))
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let start = Instant::now();
        let out = cmd.output().expect("spawning pyodide-test");
        let took = start.elapsed();
        assert!(
            out.status.success(),
            "{cmd:?} failed (or differs from the snapshot):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        took
    };
    let runtimes = ["wasmtime", "node"];
    for rt in runtimes {
        run(rt, 2);
    }
    println!("{suite}: whole suite, wall time (median of {runs}), including start-up");
    println!(
        "{:>4}  {:>12}  {:>12}  {:>14}",
        "-j", "pyodide-test", "node", "node / ours"
    );
    for jobs in [1, 2] {
        let times: Vec<Duration> = runtimes
            .iter()
            .map(|rt| median((0..runs).map(|_| run(rt, jobs)).collect()))
            .collect();
        println!(
            "{jobs:>4}  {:>11.2}s  {:>11.2}s  {:>13.2}x",
            times[0].as_secs_f64(),
            times[1].as_secs_f64(),
            times[1].as_secs_f64() / times[0].as_secs_f64()
        );
    }
}
