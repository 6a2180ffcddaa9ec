//! Real packages' test suites against the snapshots committed in
//! `snapshots/pyodide-314.0.7/` (snapshots are kept per build):
//! `pyodide-test PACKAGE --snapshot-dir snapshots/pyodide-314.0.7` must
//! exit 0 (every test's outcome as recorded).
//!
//! msgpack, bitarray and cytoolz always run (a few seconds each);
//! simplejson and pydantic-core (minutes) are `#[ignore]`d: run them with
//! `cargo test --test suites -- --include-ignored`.
//! The package and pytest are pinned to the versions the snapshots were
//! taken with, and the test dependencies the runner finds are pinned by
//! `tests/constraints.txt`, so a new release on PyPI does not change the
//! outcomes behind CI's back; after a deliberate upgrade, change the pins
//! and rewrite the snapshot with the same command and `--update`. The suites run one at a time, each at
//! `-j 2` (`PYODIDE_TEST_JOBS` overrides). Needs network access the first
//! time (pip, PyPI), then everything is in the tool's cache.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use common::suites::{CONSTRAINTS, PYTEST, Suite, suite};
use common::{dist_args, exe};

/// The committed snapshots of the default release.
const SNAPSHOTS: &str = "snapshots/pyodide-314.0.7";

/// One suite at a time: each already uses the cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn check(case: &Suite) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let jobs = std::env::var("PYODIDE_TEST_JOBS").unwrap_or_else(|_| "2".into());
    let mut cmd = Command::new(exe());
    cmd.args(dist_args())
        .arg("--constraint")
        .arg(root.join(CONSTRAINTS))
        .arg(case.package);
    for w in case.with.iter().chain(PYTEST) {
        cmd.args(["--with", w]);
    }
    cmd.args(["-j", &jobs])
        .arg("--snapshot-dir")
        .arg(root.join(SNAPSHOTS))
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
        "{} differs from {SNAPSHOTS}/{}.json (or could not run): {cmd:?}\n{}",
        case.package,
        case.package,
        tail.join("\n")
    );
}

#[test]
fn msgpack() {
    check(suite("msgpack"));
}

#[test]
fn bitarray() {
    check(suite("bitarray"));
}

#[test]
fn cytoolz() {
    check(suite("cytoolz"));
}

#[test]
#[ignore = "a slow suite (minutes): run with --include-ignored"]
fn simplejson() {
    check(suite("simplejson"));
}

#[test]
#[ignore = "a slow suite (minutes): run with --include-ignored"]
fn pydantic_core() {
    check(suite("pydantic-core"));
}
