//! pytest's rewritten modules kept between runs (`rewritten.rs`): a
//! second run loads the modules the first one reported (the test modules,
//! the conftest, and those of an entry-point plugin, which pytest rewrites
//! while it configures itself) instead of rewriting them (it reports none,
//! so the kept table is not written again), with the same outcomes and
//! messages; a module whose source changed is rewritten again, never served
//! stale. Under a zygote (whose first child reports what the zygote itself
//! rewrote) and with fresh guests alike.

mod common;

use std::fs;
use std::path::PathBuf;

use common::local_suite::{outcomes, run_suite, scratch, stderr};
use pyodide_test::runner::fetch::cache_root;
use pyodide_test::runner::rewritten::table_sources;

fn test_file(name: &str, expected: i32) -> String {
    format!("def test_{name}():\n    value = 2\n    assert value == {expected}\n")
}

/// The kept table that holds the modules of the crashy suite's tests.
fn kept_table() -> Option<PathBuf> {
    kept_tables().into_iter().next()
}

/// Every kept table with a `test_one.py` of the `crashy` suite: this
/// test's, and those other tests' suites left (the suites of
/// `tests/zygote.rs` have a `test_one.py` too).
fn kept_tables() -> Vec<PathBuf> {
    let Ok(dir) = fs::read_dir(cache_root().join("rewritten")) else {
        return Vec::new();
    };
    dir.flatten()
        .map(|e| e.path())
        .filter(|p| {
            sources(p).is_some_and(|s| {
                s.iter()
                    .any(|s| s.ends_with("/crashy-tests/tests/test_one.py"))
            })
        })
        .collect()
}

/// The sources of the modules in the table at `path`.
fn sources(path: &std::path::Path) -> Option<Vec<String>> {
    table_sources(&fs::read(path).ok()?)
}

/// Both tests' suites have the same key, so the same kept table.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn check(mode: &[&str], name: &str) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // Tables of earlier runs, this test's or others', would be found
    // instead of the one this run keeps.
    for stale in kept_tables() {
        let _ = fs::remove_file(stale);
    }
    let dir = scratch(name);
    let tests = dir.join("tests");
    fs::create_dir_all(&tests).unwrap();
    fs::write(tests.join("test_one.py"), test_file("one", 2)).unwrap();
    fs::write(tests.join("test_two.py"), test_file("two", 3)).unwrap();
    // pytest rewrites a conftest, and the whole distribution of an
    // entry-point plugin (pytest-mock), before any `pytest_configure`.
    fs::write(
        tests.join("conftest.py"),
        "def check(value):\n    assert value\n",
    )
    .unwrap();
    let constraints = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/constraints.txt");
    let mut args = vec!["--constraint", constraints, "--with", "pytest-mock"];
    args.extend(mode);
    let run = || {
        let (out, records) = run_suite(&dir, &tests, &args);
        let got = outcomes(&records);
        (got, stderr(&out))
    };

    let (first, err) = run();
    assert_eq!(first["tests/test_one.py::test_one"].0, "passed", "{err}");
    let (outcome, message) = &first["tests/test_two.py::test_two"];
    assert_eq!(outcome, "failed", "{err}");
    // pytest's rewritten assert says what the value was.
    assert!(message.contains("assert 2 == 3"), "{message}");

    // The second run loads both kept modules: pytest rewrites nothing, so
    // nothing new is reported and the table stays as it was.
    let table = kept_table().expect("the first run's modules are kept");
    let kept = fs::read(&table).unwrap();
    let sources = table_sources(&kept).expect("a table");
    for name in [
        "/tests/test_one.py",
        "/tests/test_two.py",
        "/tests/conftest.py",
    ] {
        assert_eq!(
            sources.iter().filter(|s| s.ends_with(name)).count(),
            1,
            "{name} in {sources:?}"
        );
    }
    assert!(
        sources
            .iter()
            .any(|s| s.contains("/site-packages/pytest_mock/")),
        "{sources:?}"
    );
    let modified = || fs::metadata(&table).unwrap().modified().unwrap();
    let before = modified();
    let (second, err) = run();
    assert_eq!(second, first, "{err}");
    assert_eq!(
        modified(),
        before,
        "pytest rewrote a module the first run kept"
    );

    // A changed source is rewritten again: its kept module is not placed
    // (and pytest would refuse it), and the new one replaces it.
    fs::write(tests.join("test_one.py"), test_file("one", 5)).unwrap();
    let (changed, err) = run();
    let (outcome, message) = &changed["tests/test_one.py::test_one"];
    assert_eq!(outcome, "failed", "{changed:#?}\n{err}");
    assert!(message.contains("assert 2 == 5"), "{message}");
    let now = fs::read(&table).unwrap();
    assert_ne!(now, kept, "the changed module is kept in place of the old");
    let (again, err) = run();
    assert_eq!(again, changed, "{err}");
    let _ = fs::remove_file(&table);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn kept_modules_are_loaded_and_never_stale_in_a_zygote() {
    check(&["-j", "1"], "rewritten-zygote");
}

#[test]
fn kept_modules_are_loaded_and_never_stale_in_fresh_guests() {
    check(&["-j", "1", "--fresh-guests"], "rewritten-fresh");
}
