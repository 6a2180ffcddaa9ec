//! Real packages' test suites against the snapshots committed in
//! `snapshots/`: `pyodide-test PACKAGE --snapshot-dir snapshots` must exit 0
//! (every test's outcome as recorded).
//!
//! msgpack, bitarray and cytoolz always run (a few seconds each);
//! simplejson and pydantic-core (minutes) are `#[ignore]`d: run them with
//! `cargo test --test suites -- --include-ignored`.
//! Every wheel is pinned to the version the snapshots were taken with, so a
//! new release on PyPI does not change the outcomes behind CI's back; after
//! a deliberate upgrade, change the pins and rewrite the snapshot with the
//! same command and `--update`. The suites run one at a time, each at
//! `-j 2` (`PYODIDE_TEST_JOBS` overrides). Needs network access the first
//! time (pip, PyPI), then everything is in the tool's cache.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use common::{dist_args, exe};

/// pytest and its dependencies, for every suite.
const PYTEST: &[&str] = &[
    "pluggy==1.7.0",
    "iniconfig==2.3.1",
    "packaging==26.4",
    "pygments==2.21.0",
    "pytest==9.2.0",
];

struct Case {
    package: &'static str,
    with: &'static [&'static str],
    pytest_args: &'static [&'static str],
}

const MSGPACK: Case = Case {
    package: "msgpack",
    with: &["msgpack==1.2.4"],
    pytest_args: &[],
};

const BITARRAY: Case = Case {
    package: "bitarray",
    with: &["bitarray==3.12.3"],
    pytest_args: &[],
};

const CYTOOLZ: Case = Case {
    package: "cytoolz",
    with: &["cytoolz==1.2.0", "toolz==1.2.0"],
    pytest_args: &[],
};

const SIMPLEJSON: Case = Case {
    package: "simplejson",
    with: &["simplejson==4.3.0"],
    pytest_args: &[],
};

const PYDANTIC_CORE: Case = Case {
    package: "pydantic-core",
    with: &[
        "pydantic-core==2.50.5",
        "typing-extensions==4.16.0",
        "hypothesis==6.170.17",
        "sortedcontainers==2.4.0",
        "dirty-equals==0.11",
        "inline-snapshot==0.36.1",
        "asttokens==3.0.2",
        "executing==2.3.0",
        "rich==15.0.0",
        "markdown-it-py==4.3.0",
        "mdurl==0.1.2",
        "pytest-benchmark==5.3.1",
        "py-cpuinfo2==10.1.1",
        "typing-inspection==0.4.5",
        "pytest-mock==3.17.0",
        "tzdata==2026.6",
        "pytest-run-parallel==0.10.0",
    ],
    pytest_args: &["-W", "ignore::pytest.PytestConfigWarning"],
};

/// One suite at a time: each already uses the cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn check(case: &Case) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let jobs = std::env::var("PYODIDE_TEST_JOBS").unwrap_or_else(|_| "2".into());
    let mut cmd = Command::new(exe());
    cmd.args(dist_args()).arg(case.package);
    for w in case.with.iter().chain(PYTEST) {
        cmd.args(["--with", w]);
    }
    cmd.args(["-j", &jobs])
        .arg("--snapshot-dir")
        .arg(root.join("snapshots"))
        .current_dir(std::env::temp_dir());
    if !case.pytest_args.is_empty() {
        cmd.arg("--").args(case.pytest_args);
    }
    let out = cmd.output().expect("running pyodide-test");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The summary and the changes are at the end.
    let tail: Vec<&str> = stderr.lines().rev().take(60).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{} differs from snapshots/{}.json (or could not run): {cmd:?}\n{}",
        case.package,
        case.package,
        tail.join("\n")
    );
}

#[test]
fn msgpack() {
    check(&MSGPACK);
}

#[test]
fn bitarray() {
    check(&BITARRAY);
}

#[test]
fn cytoolz() {
    check(&CYTOOLZ);
}

#[test]
#[ignore = "a slow suite (minutes): run with --include-ignored"]
fn simplejson() {
    check(&SIMPLEJSON);
}

#[test]
#[ignore = "a slow suite (minutes): run with --include-ignored"]
fn pydantic_core() {
    check(&PYDANTIC_CORE);
}
