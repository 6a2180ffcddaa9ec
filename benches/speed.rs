//! Speed against Node as its users run it, and against native CPython, in
//! one run (issue 12's figures):
//!
//! - start-up: `python -c pass` cached, `--runtime node` (one
//!   `loadPyodide`) and the host's CPython (resolved through any shim);
//! - the CPU set (`benches/cpu.py`: six workloads, each the best of 3 in
//!   one process) under `pyodide-test python`, `--runtime node python`
//!   (one `loadPyodide`) and the host's `python3`, each workload in its own
//!   process under the three one after the other;
//! - import time of big wheels (`python --with W -c 'import w'`, minus the
//!   same start with `-c pass`);
//! - the pinned package suites (`tests/common/suites.rs`) at `-j 1` and
//!   `-j 2` against Node running pytest over the whole suite in one
//!   `loadPyodide` (as pytest-pyodide and `pyodide venv` do): the same
//!   staged files (the runner's `Suite`), the same pytest arguments less
//!   our plugin, one guest.
//!
//! `cargo bench --bench speed`. `BENCH_RUNS` (default 3; medians are
//! printed), `BENCH_SUITES` (comma-separated; default msgpack, bitarray,
//! cytoolz, simplejson, pydantic-core), `BENCH_SKIP` (`start`, `cpu`,
//! `imports`, `suites`). Untimed runs fill the caches first (a suite's:
//! two, so that its guests' image is saved, see `host/image.rs`). Each
//! table also prints the share of the machine's CPU time that its
//! hypervisor stole while it was measured (`/proc/stat`), which slows
//! every runtime in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use pyodide_test::host::spec::{GuestEnd, Stdio as GuestStdio};
use pyodide_test::runner::bytecode;
use pyodide_test::runner::dist::DistSource;
use pyodide_test::runner::fetch::DEFAULT_PYODIDE_VERSION;
use pyodide_test::runner::node::NodeBackend;
use pyodide_test::runner::suite::{PLUGIN_MODULE, Suite, SuiteOptions};
use pyodide_test::runner::test_cmd::Setup;
use pyodide_test::syscalls::Null;

#[path = "../tests/common/suites.rs"]
#[allow(dead_code)]
mod suites;

mod common;
use common::{Keep, Steal, median, native_python};

fn geomean(v: &[f64]) -> f64 {
    (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp()
}

fn runs() -> usize {
    std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1)
}

fn skipped(what: &str) -> bool {
    std::env::var("BENCH_SKIP")
        .map(|s| s.split(',').any(|x| x.trim() == what))
        .unwrap_or(false)
}

/// Run `cmd` to success; its stdout and wall time in seconds.
fn timed(cmd: &mut Command) -> (String, f64) {
    let t = Instant::now();
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let took = t.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (String::from_utf8_lossy(&out.stdout).into_owned(), took)
}

fn tool(root: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pyodide-test"));
    c.current_dir(root);
    c
}

/// `python -c pass`: ours (cached module), Node (`--runtime node`: Node's
/// start and one `loadPyodide`, as its CLI), native CPython.
fn start_up(root: &Path) {
    let python = native_python();
    let mut runtimes: Vec<(&str, Command)> = vec![
        ("pyodide-test", {
            let mut c = tool(root);
            c.args(["python", "-c", "pass"]);
            c
        }),
        ("node", {
            let mut c = tool(root);
            c.args(["--runtime", "node", "python", "-c", "pass"]);
            c
        }),
        ("native", {
            let mut c = Command::new(&python);
            c.args(["-c", "pass"]);
            c
        }),
    ];
    for (_, cmd) in &mut runtimes {
        timed(cmd); // caches
    }
    // In rounds, as the other sections.
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); runtimes.len()];
    for _ in 0..runs().max(5) {
        for (i, (_, cmd)) in runtimes.iter_mut().enumerate() {
            times[i].push(timed(cmd).1);
        }
    }
    let rows: Vec<(&str, f64)> = runtimes
        .iter()
        .zip(times)
        .map(|((label, _), t)| (*label, median(t)))
        .collect();
    println!(
        "start-up, `python -c pass` (median of {} runs):",
        runs().max(5)
    );
    for (label, t) in &rows {
        println!("{label:>14} {:>9.1} ms", t * 1e3);
    }
    println!(
        "{:>14} {:>9.2}x   ours/native {:.2}x   ({python})",
        "node/ours",
        rows[1].1 / rows[0].1,
        rows[0].1 / rows[2].1
    );
}

/// Makes a runtime's command (see [`cpu_set`]).
type MakeCommand<'a> = Box<dyn Fn() -> Command + 'a>;

fn cpu_set(root: &Path) {
    let cpu = root.join("benches/cpu.py");
    let cpu = cpu.to_str().unwrap();
    let parse = |out: &str| -> Vec<(String, f64)> {
        let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_f64().unwrap()))
            .collect()
    };
    let python = native_python();
    // Each runtime, and its command for all the workloads.
    let runtimes: [(&str, MakeCommand); 3] = [
        (
            "pyodide-test",
            Box::new(|| {
                let mut c = tool(root);
                c.args(["python", cpu]);
                c
            }),
        ),
        (
            "node",
            Box::new(|| {
                let mut c = tool(root);
                c.args(["--runtime", "node", "python", cpu]);
                c
            }),
        ),
        (
            "native",
            Box::new(|| {
                let mut c = Command::new(&python);
                c.arg(cpu);
                c
            }),
        ),
    ];
    // Runtime `i`'s command for the workloads `names` (all: none).
    let command = |i: usize, names: &[&str]| -> Command {
        let mut c = (runtimes[i].1)();
        c.args(names);
        c
    };
    let labels: Vec<&str> = runtimes.iter().map(|(label, _)| *label).collect();
    // One untimed run of each fills the caches and names the workloads.
    let mut names: Vec<String> = Vec::new();
    for i in 0..labels.len() {
        names = parse(&timed(&mut command(i, &[])).0)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
    }
    // Rounds, and in each round every workload under the three runtimes
    // one after the other: this machine's speed moves by a third from one
    // minute to the next (a native loop's time, run after run), so each
    // ratio compares times taken seconds apart, not a whole set apart.
    let mut all: Vec<Vec<Vec<(String, f64)>>> = vec![Vec::new(); labels.len()];
    let steal = Steal::start();
    for _ in 0..runs() {
        let mut round: Vec<Vec<(String, f64)>> = vec![Vec::new(); labels.len()];
        for name in &names {
            for (i, times) in round.iter_mut().enumerate() {
                times.extend(parse(&timed(&mut command(i, &[name.as_str()])).0));
            }
        }
        for (i, times) in round.into_iter().enumerate() {
            all[i].push(times);
        }
    }
    let rows: Vec<(&str, Vec<(String, f64)>)> = labels
        .iter()
        .zip(&all)
        .map(|(label, all)| {
            let names: Vec<String> = all[0].iter().map(|(k, _)| k.clone()).collect();
            let med = names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), median(all.iter().map(|r| r[i].1).collect())))
                .collect();
            (*label, med)
        })
        .collect();
    println!(
        "CPU set (seconds, median of {} runs of best-of-3; CPU time stolen meanwhile: {}):",
        runs(),
        steal.percent()
    );
    print!("{:>14}", "");
    for (n, _) in &rows[0].1 {
        print!("{n:>9}");
    }
    println!("{:>9}", "geomean");
    for (label, r) in &rows {
        print!("{label:>14}");
        for (_, t) in r {
            print!("{t:>9.4}");
        }
        println!(
            "{:>9.4}",
            geomean(&r.iter().map(|(_, t)| *t).collect::<Vec<_>>())
        );
    }
    for (other, idx) in [("node", 1), ("native", 2)] {
        let ratios: Vec<f64> = rows[0]
            .1
            .iter()
            .zip(&rows[idx].1)
            .map(|((_, a), (_, b))| a / b)
            .collect();
        print!("{:>14}", format!("ours/{other}"));
        for r in &ratios {
            print!("{r:>9.2}");
        }
        println!("{:>9.2}", geomean(&ratios));
    }
}

fn imports(root: &Path) {
    println!(
        "import time of wheels (median of {}, minus `-c pass`):",
        runs()
    );
    for (wheel, module) in [
        ("pydantic-core==2.50.5", "pydantic_core"),
        ("msgpack==1.2.4", "msgpack"),
        ("bitarray==3.12.3", "bitarray"),
    ] {
        let mut per = Vec::new();
        for runtime in ["wasmtime", "node"] {
            let run = |code: &str| {
                let mut c = tool(root);
                c.args(["--runtime", runtime, "python", "--with", wheel, "-c", code]);
                timed(&mut c);
                median((0..runs()).map(|_| timed(&mut c).1).collect())
            };
            let base = run("pass");
            let with = run(&format!("import {module}"));
            per.push(((with - base) * 1e3).max(0.0));
        }
        println!(
            "  {module:<16} pyodide-test {:>7.1} ms   node {:>7.1} ms",
            per[0], per[1]
        );
    }
}

/// The counts of pytest's summary: its last line ("N passed, M skipped
/// ... in S s"), or pytest-pretty's block ("Results (S s):" then one
/// "N passed" line per outcome).
fn pytest_total(text: &str) -> u64 {
    const OUTCOMES: [&str; 7] = [
        "passed", "failed", "skipped", "xfailed", "xpassed", "error", "errors",
    ];
    let counted = |line: &str| -> u64 {
        let words: Vec<&str> = line
            .split([',', ' ', '='])
            .filter(|w| !w.is_empty())
            .collect();
        words
            .windows(2)
            .filter(|w| OUTCOMES.contains(&w[1]))
            .filter_map(|w| w[0].parse::<u64>().ok())
            .sum()
    };
    let lines: Vec<&str> = text.lines().collect();
    if let Some(line) = lines
        .iter()
        .rev()
        .find(|l| l.contains(" in ") && (l.contains("passed") || l.contains("failed")))
    {
        return counted(line);
    }
    let Some(start) = lines
        .iter()
        .rposition(|l| l.trim_start().starts_with("Results ("))
    else {
        return 0;
    };
    lines[start + 1..]
        .iter()
        .take_while(|l| counted(l) > 0)
        .map(|l| counted(l))
        .sum()
}

/// Node as its users run a suite: one guest, pytest over every file.
fn node_one_process(setup: &Setup, node: &NodeBackend, suite: &Suite) -> (u64, f64) {
    let mut spec = setup.dist.guest(4 << 30).unwrap();
    spec.files.push(suite.files.clone());
    spec.cwd = suite.cwd.clone();
    spec.env.push(("PYTHONHASHSEED".into(), "0".into()));
    let first = &suite.test_files[0].rel;
    let mut argv = suite.job_argv(first, None, &[]);
    if let Some(i) = argv.iter().position(|a| a == PLUGIN_MODULE) {
        argv.drain(i - 1..=i);
    }
    // A file that fails to collect must not stop the others (our runner
    // records it and goes on).
    argv.push("--continue-on-collection-errors".into());
    // Our plugin (left out here) registers pytest-timeout's mark, which a
    // suite's `filterwarnings = error` would otherwise turn into errors.
    argv.extend([
        "-W".into(),
        "ignore::pytest.PytestUnknownMarkWarning".into(),
    ]);
    for f in &suite.test_files[1..] {
        argv.push(format!("{}/{}", suite.root, f.rel));
    }
    spec.argv = argv;
    let out = Arc::new(Keep::default());
    spec.stdio = GuestStdio::to_sinks(out.clone(), Arc::new(Null));
    let t = Instant::now();
    let end = node.run(&spec).expect("node");
    let took = t.elapsed().as_secs_f64();
    let text = out.text();
    let total = pytest_total(&text);
    if total == 0 || !matches!(end, GuestEnd::Exited(0 | 1)) {
        // Reported, not fatal: the other figures still come.
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        println!(
            "  node on {}: ended {end:?} after {took:.1} s with {total} tests counted; its last lines:\n    {}",
            suite.package,
            tail.join("\n    ")
        );
    }
    (total, took)
}

fn ours(root: &Path, s: &suites::Suite, jobs: usize) -> (u64, f64) {
    let json = std::env::temp_dir().join(format!("pt-speed-{}.jsonl", std::process::id()));
    let mut c = tool(root);
    c.args(["--constraint", suites::CONSTRAINTS, s.package]);
    for w in s.with.iter().chain(suites::PYTEST) {
        c.args(["--with", w]);
    }
    c.args(["-j", &jobs.to_string(), "--json"])
        .arg(&json)
        .arg("--snapshot-dir")
        .arg(
            root.join("snapshots")
                .join(format!("pyodide-{DEFAULT_PYODIDE_VERSION}")),
        );
    let (_, took) = timed(&mut c);
    let text = std::fs::read_to_string(&json).unwrap();
    let _ = std::fs::remove_file(&json);
    let total = text
        .lines()
        .rev()
        .find_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            v["summary"]["total"].as_u64()
        })
        .expect("a summary");
    (total, took)
}

fn package_suites(root: &Path) {
    let wanted: Vec<String> = std::env::var("BENCH_SUITES")
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect())
        .unwrap_or_else(|_| {
            suites::SUITES
                .iter()
                .map(|s| s.package.to_string())
                .collect()
        });
    let source = DistSource {
        version: DEFAULT_PYODIDE_VERSION.to_string(),
        dir: std::env::var_os("PYODIDE_DIST").map(PathBuf::from),
        package_base_url: None,
        constraints: Some(root.join(suites::CONSTRAINTS)),
        refresh: false,
    };
    let setup = Setup::new(&source).expect("the dist");
    let node = NodeBackend::new(&setup.cache, &setup.dist).expect("node");
    println!(
        "package suites, wall seconds (median of {}), start-up included; Node: one loadPyodide, pytest over the suite:",
        runs()
    );
    println!(
        "{:>14} {:>7} {:>9} {:>9} {:>7} {:>9} {:>11} {:>11} {:>7}",
        "suite", "tests", "ours -j1", "ours -j2", "node n", "node", "node/j1", "node/j2", "stolen"
    );
    for name in &wanted {
        let s = suites::suite(name);
        let opts = SuiteOptions {
            with: s
                .with
                .iter()
                .chain(suites::PYTEST)
                .map(|w| w.to_string())
                .collect(),
            ..SuiteOptions::default()
        };
        let mut suite =
            Suite::prepare(&setup.dist, &setup.cache, s.package, &opts).expect("the suite");
        // Node gets the same precompiled bytecode as our guests.
        bytecode::add_to(&mut suite, &setup.module, &setup.dist, &setup.cache).expect("bytecode");
        // Twice: a guest's image is saved the second time its description
        // is seen (host/image.rs). Every timed run then restores the image,
        // as a user's third run and later do.
        ours(root, s, 2);
        ours(root, s, 1);
        node_one_process(&setup, &node, &suite);
        // Rounds of all three, so that a slow spell of the machine weighs
        // on each alike.
        let (mut j1, mut j2, mut nd) = (Vec::new(), Vec::new(), Vec::new());
        let steal = Steal::start();
        for _ in 0..runs() {
            j1.push(ours(root, s, 1));
            j2.push(ours(root, s, 2));
            nd.push(node_one_process(&setup, &node, &suite));
        }
        let m = |v: &[(u64, f64)]| median(v.iter().map(|x| x.1).collect());
        let (t1, t2, tn) = (m(&j1), m(&j2), m(&nd));
        println!(
            "{:>14} {:>7} {:>9.2} {:>9.2} {:>7} {:>9.2} {:>10.2}x {:>10.2}x {:>7}",
            name,
            j1[0].0,
            t1,
            t2,
            nd[0].0,
            tn,
            tn / t1,
            tn / t2,
            steal.percent()
        );
    }
}

fn main() {
    common::time_optimized_code();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if !skipped("start") {
        start_up(&root);
    }
    if !skipped("cpu") {
        cpu_set(&root);
    }
    if !skipped("imports") {
        imports(&root);
    }
    if !skipped("suites") {
        package_suites(&root);
    }
}
