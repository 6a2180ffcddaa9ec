//! Start from a suite snapshot: a zygote for msgpack's suite boots once,
//! then each job is a child that runs a module doing nothing (fork, the
//! job's description, `runpy`, exit). Against the in-process start of the
//! same guest (boot, `import pytest`, the package, then the module).
//!
//! `cargo bench --bench zygote [-- --profile FILE]`: with `--profile`, one
//! more job runs pytest over FILE (relative to the suite's root) under
//! cProfile and prints its top functions. Needs the default release and
//! msgpack in the cache (run `pyodide-test msgpack` once).

use std::sync::Arc;
use std::time::Instant;

use pyodide_test::host::spec::{GuestEnd, GuestSpec, Stdio, file_set};
use pyodide_test::runner::bytecode;
use pyodide_test::runner::dist::DistSource;
use pyodide_test::runner::fetch::DEFAULT_PYODIDE_VERSION;
use pyodide_test::runner::suite::{Suite, SuiteOptions};
use pyodide_test::runner::test_cmd::Setup;
use pyodide_test::runner::zygote::{Planned, SuitePlan, ZygoteBackend};
use pyodide_test::syscalls::Null;

const JOBS: usize = 15;

mod common;
use common::{Keep, median};

fn main() {
    common::time_optimized_code();
    // SAFETY: no other thread runs yet.
    unsafe { std::env::set_var("PYODIDE_TEST_EXE", env!("CARGO_BIN_EXE_pyodide-test")) };
    let profile = std::env::args().skip_while(|a| a != "--profile").nth(1);
    let source = DistSource {
        version: DEFAULT_PYODIDE_VERSION.to_string(),
        dir: None,
        package_base_url: None,
        constraints: None,
        refresh: false,
    };
    let setup = Setup::new(&source).expect("the dist");
    let mut suite = Suite::prepare(
        &setup.dist,
        &setup.cache,
        "msgpack",
        &SuiteOptions::default(),
    )
    .expect("msgpack's suite");
    bytecode::add_to(&mut suite, &setup.module, &setup.dist, &setup.cache).expect("bytecode");
    let base = setup.dist.guest(1 << 30).expect("guest");
    let suites = vec![suite.clone()];
    let plans = vec![SuitePlan {
        files: suite
            .test_files
            .iter()
            .map(|f| Planned {
                file: f.rel.clone(),
                seconds: None,
            })
            .collect(),
        collect_rate: None,
    }];
    let backend = ZygoteBackend::new(
        &setup.module,
        &setup.dist,
        &setup.cache,
        &base,
        &suites,
        &plans,
        1,
    )
    .expect("zygote backend");
    // In the suite's working directory, where `-m` finds it.
    let home = suite.cwd.clone().unwrap_or_else(|| "/home/pyodide".into());
    let noop = file_set([(format!("{home}/noop_job.py"), b"".to_vec())]);
    let job = |argv: Vec<String>, stdout: Arc<Keep>| {
        let mut spec: GuestSpec = base.clone();
        spec.files.push(suite.files.clone());
        spec.files.push(noop.clone());
        // The suite's guests start where it does (else no zygote serves).
        spec.cwd = suite.cwd.clone();
        spec.argv = argv;
        spec.stdio = Stdio::to_sinks(stdout, Arc::new(Null));
        spec.events = Some(Arc::new(Null));
        spec
    };
    // The first job starts the zygote.
    let t = Instant::now();
    let first = backend
        .run(&job(vec!["-m".into(), "noop_job".into()], Arc::default()))
        .expect("first job");
    assert_eq!(first, GuestEnd::Exited(0));
    println!(
        "zygote boot + first job: {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut times = Vec::new();
    for _ in 0..JOBS {
        let t = Instant::now();
        let end = backend
            .run(&job(vec!["-m".into(), "noop_job".into()], Arc::default()))
            .expect("job");
        times.push(t.elapsed());
        assert_eq!(end, GuestEnd::Exited(0));
    }
    println!(
        "job from the snapshot (fork to exit, {JOBS} jobs): median {:.1} ms, min {:.1} ms",
        median(times.clone()).as_secs_f64() * 1e3,
        times.iter().min().unwrap().as_secs_f64() * 1e3
    );
    // In-process, the same guest from nothing.
    let mut cold = Vec::new();
    for _ in 0..3 {
        let mut spec = job(
            vec![
                "-c".into(),
                "import pytest, msgpack, runpy; runpy.run_module('noop_job')".into(),
            ],
            Arc::default(),
        );
        spec.events = None;
        let t = Instant::now();
        let end = setup
            .module
            .get()
            .expect("the module")
            .run(&spec)
            .expect("cold run");
        cold.push(t.elapsed());
        assert_eq!(end, GuestEnd::Exited(0));
    }
    println!(
        "the same from boot, in-process (boot, import pytest and msgpack): median {:.0} ms",
        median(cold).as_secs_f64() * 1e3
    );
    if let Some(file) = profile {
        let out = Arc::new(Keep::default());
        let mut argv: Vec<String> = ["-m", "cProfile", "-s", "cumtime", "-m"]
            .map(String::from)
            .to_vec();
        argv.extend(suite.job_argv(&file, None, &[])[1..].iter().cloned());
        let t = Instant::now();
        let end = backend.run(&job(argv, out.clone())).expect("profiled job");
        println!(
            "profiled job: {end:?} in {:.0} ms",
            t.elapsed().as_secs_f64() * 1e3
        );
        let text = String::from_utf8_lossy(&out.0.lock().unwrap()).into_owned();
        let start = text.find("Ordered by").unwrap_or(0);
        for line in text[start..].lines().take(60) {
            println!("{line}");
        }
    }
}
