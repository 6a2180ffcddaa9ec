//! Test files through a zygote (the default) and fresh guests
//! (`--fresh-guests`): the same
//! outcomes and messages as fresh in-process guests for crashes, exits, the
//! memory limit, timeouts and ordinary outcomes; and nothing that one
//! file's tests do (files in `/tmp`, module globals, imports, environment,
//! changes to what the conftest's `pytest_configure` built: the zygote
//! configures pytest once) reaches the next. The zygote collects the whole
//! suite, as pytest over a suite does (and Node): every test module is
//! imported before any test runs. A suite whose pytest stops before
//! collecting (a broken conftest), collection errors, and a test module
//! that ends the guest while it is imported give the same outcomes both
//! ways too.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::local_suite::{outcomes, run_suite, run_suite_with, scratch, stderr};

const CRASH_TESTS: &str = r#"
import ctypes, os, sys
import pytest
import crashy

def test_before():
    assert crashy.VALUE == 42

def test_abort():
    os.abort()

def test_trap():
    ctypes.string_at(0xFFFFFFF0, 64)

def test_after_trap_fails():
    assert 1 == 2

def test_memory():
    hoard = [bytearray(10**8) for _ in range(100)]

@pytest.mark.xfail(reason="expected to fail")
def test_after_memory_xfail():
    assert False

def test_exit():
    os._exit(3)

def test_forever():
    while True:
        pass

@pytest.mark.skip(reason="skipped on purpose")
def test_last():
    pass
"#;

/// Configured once per pytest session: under a zygote, once for all files.
const CONFTEST: &str = r#"
import os

def pytest_configure(config):
    config.pyodide_test_marks = []
    with open("/tmp/configured", "a") as f:
        f.write("x")
"#;

/// Each file checks that the other's marks are absent, then leaves its own
/// (a file, a global of a shared module, a module it imports, a variable,
/// a change to the configuration).
fn isolation_test(me: &str, other: &str) -> String {
    format!(
        r#"
import json, os, sys

def test_isolated_{me}(pytestconfig):
    assert pytestconfig.pyodide_test_marks == []
    pytestconfig.pyodide_test_marks.append("{me}")
    with open("/tmp/configured") as f:
        assert f.read() == "x"
    assert not os.path.exists("/tmp/x_{other}")
    assert not hasattr(json, "mark_{other}")
    assert "helper_{other}" not in sys.modules
    assert os.environ.get("MARK_{other}") is None
    with open("/tmp/x_{me}", "w") as f:
        f.write("{me}")
    json.mark_{me} = 1
    import helper_{me}
    os.environ["MARK_{me}"] = "1"
"#
    )
}

#[test]
fn a_zygote_gives_the_outcomes_of_fresh_guests() {
    let (dir, tests) = suite_dir("zygote");
    fs::write(tests.join("test_crash.py"), CRASH_TESTS).unwrap();
    fs::write(tests.join("conftest.py"), CONFTEST).unwrap();
    fs::write(tests.join("test_a.py"), isolation_test("a", "b")).unwrap();
    fs::write(tests.join("test_b.py"), isolation_test("b", "a")).unwrap();
    for me in ["a", "b"] {
        fs::write(tests.join(format!("helper_{me}.py")), "").unwrap();
    }
    let args = ["--timeout", "3", "--max-memory", "256M"];
    let mut runs = Vec::new();
    for (fresh, jobs) in [(true, "1"), (false, "1"), (false, "2")] {
        let mut extra = args.to_vec();
        extra.extend(["-j", jobs]);
        if fresh {
            extra.push("--fresh-guests");
        }
        let (out, records) = run_suite(&dir, &tests, &extra);
        let got = outcomes(&records);
        let err = stderr(&out);
        assert_eq!(got.len(), 11, "{got:#?}\n{err}");
        for id in [
            "tests/test_a.py::test_isolated_a",
            "tests/test_b.py::test_isolated_b",
        ] {
            assert_eq!(got[id].0, "passed", "{id}: {}\n{err}", got[id].1);
        }
        let outcome = |id: &str| got[&format!("tests/test_crash.py::{id}")].0.clone();
        if !fresh {
            // Seven jobs (each crash and the timeout resume the file in a
            // new child), from the second on given to spares. A spare copies
            // ahead what the jobs before it wrote only if the run leaves a
            // core idle.
            let copied: Vec<u64> = err
                .lines()
                .filter_map(|l| l.strip_prefix("pyodide-test: a spare took a job, "))
                .filter_map(|l| l.split(' ').next()?.parse().ok())
                .collect();
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let copying = copied.iter().filter(|&&n| n > 0).count();
            if jobs.parse::<usize>().unwrap() < cores {
                assert!(
                    copied.len() >= 3 && copying >= 2,
                    "spares: {copied:?}\n{err}"
                );
            } else {
                assert!(
                    copied.len() >= 3 && copying == 0,
                    "spares: {copied:?}\n{err}"
                );
            }
        }
        assert_eq!(outcome("test_abort"), "crashed");
        assert_eq!(outcome("test_trap"), "crashed");
        assert_eq!(outcome("test_exit"), "crashed");
        assert_eq!(outcome("test_forever"), "timeout");
        runs.push(got);
    }
    assert_eq!(runs[0], runs[1], "in-process and zygote (-j 1) differ");
    assert_eq!(runs[0], runs[2], "in-process and zygote (-j 2) differ");
    let _ = fs::remove_dir_all(&dir);
}

/// The suite in `tests` run with fresh guests, then through the zygote at
/// `-j 1`, then at `-j 2` (where a suite of four files or more is
/// collected by the zygote and a child collector of it, half each, side
/// by side): whether fresh, the output and the records, each.
fn both_ways(dir: &Path, tests: &Path) -> Vec<(bool, Output, Vec<serde_json::Value>)> {
    [(true, "1"), (false, "1"), (false, "2")]
        .into_iter()
        .map(|(fresh, jobs)| {
            let mut extra = vec!["-j", jobs];
            if fresh {
                extra.push("--fresh-guests");
            }
            let (out, records) = run_suite(dir, tests, &extra);
            (fresh, out, records)
        })
        .collect()
}

/// A scratch directory `name` with an empty `tests` directory in it:
/// (the directory, its `tests`).
fn suite_dir(name: &str) -> (PathBuf, PathBuf) {
    let dir = scratch(name);
    let tests = dir.join("tests");
    fs::create_dir_all(&tests).unwrap();
    (dir, tests)
}

/// Two more one-test files (`test_more1.py`, `test_more2.py`, each with a
/// passing `test_more`) in `tests`.
fn write_more_files(tests: &Path) {
    for name in ["test_more1.py", "test_more2.py"] {
        fs::write(tests.join(name), "def test_more():\n    pass\n").unwrap();
    }
}

/// The runs of [`both_ways`] (its order) all gave fresh guests' outcomes.
fn assert_alike<T: PartialEq + std::fmt::Debug>(runs: &[T]) {
    for (way, run) in ["the zygote (-j 1)", "the zygotes (-j 2)"]
        .iter()
        .zip(&runs[1..])
    {
        assert_eq!(&runs[0], run, "fresh guests and {way} differ");
    }
    assert_eq!(runs.len(), 3, "a run of both_ways is missing");
}

#[test]
fn a_conftest_that_breaks_pytest_gives_the_same_outcomes_in_a_zygote() {
    let (dir, tests) = suite_dir("zygote-broken");
    fs::write(
        tests.join("conftest.py"),
        "raise RuntimeError('broken conftest')\n",
    )
    .unwrap();
    fs::write(tests.join("test_one.py"), "def test_one():\n    pass\n").unwrap();
    fs::write(tests.join("test_two.py"), "def test_two():\n    pass\n").unwrap();
    let mut runs = Vec::new();
    for (fresh, out, records) in both_ways(&dir, &tests) {
        let err = stderr(&out);
        assert!(!out.status.success(), "{err}");
        assert!(err.contains("broken conftest"), "{err}");
        if !fresh {
            assert!(
                err.contains("each test file configures pytest itself"),
                "{err}"
            );
        }
        let got = outcomes(&records);
        assert_eq!(got.len(), 2, "{got:#?}");
        for (outcome, message) in got.values() {
            assert_eq!(outcome, "error", "{message}");
            assert!(message.contains("broken conftest"), "{message}");
        }
        runs.push(got);
    }
    assert_alike(&runs);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn collection_errors_and_crashes_stay_with_their_file() {
    // A module that fails to import is its file's collection error only;
    // one that ends the guest while imported cannot be collected with the
    // others (the zygote then lets each file collect itself, with a note).
    for (bad, note) in [
        ("raise ImportError('no such thing')\n", None),
        (
            "import os\nos._exit(7)\n",
            Some("each test file is collected on its own"),
        ),
    ] {
        let (dir, tests) = suite_dir("zygote-collect");
        fs::write(tests.join("test_bad.py"), bad).unwrap();
        fs::write(
            tests.join("test_good.py"),
            "def test_one():\n    pass\n\ndef test_two():\n    assert False\n",
        )
        .unwrap();
        // Enough files for two collecting zygotes at -j 2: the bad file
        // is in one group, good files in both.
        write_more_files(&tests);
        let mut runs = Vec::new();
        for (i, (fresh, out, records)) in both_ways(&dir, &tests).into_iter().enumerate() {
            let err = stderr(&out);
            if let (Some(note), false) = (note, fresh) {
                assert!(err.contains(note), "{err}");
            }
            // One zygote boots; at -j 2 two collectors (it and a child of
            // it) collect side by side (at -j 1 one: the suite is too small
            // for an extra one on an idle core).
            let collectors = err.matches("collector of").count()
                + err
                    .matches("each test file is collected on its own")
                    .count();
            assert_eq!(collectors, [0, 1, 2][i], "{err}");
            assert!(err.matches("zygote booted in").count() <= 2, "{err}");
            let got = outcomes(&records);
            assert_eq!(
                got["tests/test_good.py::test_one"].0, "passed",
                "{got:#?}\n{err}"
            );
            assert_eq!(
                got["tests/test_good.py::test_two"].0, "failed",
                "{got:#?}\n{err}"
            );
            for name in ["test_more1", "test_more2"] {
                let id = format!("tests/{name}.py::test_more");
                assert_eq!(got[&id].0, "passed", "{got:#?}\n{err}");
            }
            let bad: Vec<_> = got.keys().filter(|k| k.contains("test_bad")).collect();
            assert_eq!(bad.len(), 1, "{got:#?}\n{err}");
            assert!(
                matches!(got[bad[0]].0.as_str(), "error" | "crashed"),
                "{got:#?}\n{err}"
            );
            runs.push(got);
        }
        assert_alike(&runs);
        let _ = fs::remove_dir_all(&dir);
    }
}

/// A file's results are complete when its tests have run: a session
/// fixture's failing teardown (in its last test's teardown) is that test's
/// error, and a conftest's `pytest_sessionfinish` that fails changes no
/// outcome, with fresh guests and through the zygotes alike (whose
/// children end before the rest of the session's finish runs).
#[test]
fn the_session_finish_changes_no_outcome() {
    let (dir, tests) = suite_dir("zygote-finish");
    fs::write(
        tests.join("conftest.py"),
        r#"
import pytest

@pytest.fixture(scope="session")
def shared():
    yield 1
    raise RuntimeError("teardown of the session fixture")

def pytest_sessionfinish(session, exitstatus):
    raise RuntimeError("a failing session finish")
"#,
    )
    .unwrap();
    fs::write(
        tests.join("test_one.py"),
        "def test_one(shared):\n    assert shared == 1\n",
    )
    .unwrap();
    fs::write(
        tests.join("test_two.py"),
        "def test_two():\n    pass\n\ndef test_three():\n    assert False\n",
    )
    .unwrap();
    // Four files: two zygotes collect at -j 2.
    write_more_files(&tests);
    let mut runs = Vec::new();
    for (_, out, records) in both_ways(&dir, &tests) {
        let err = stderr(&out);
        let got = outcomes(&records);
        assert_eq!(got.len(), 5, "{got:#?}\n{err}");
        let (outcome, message) = &got["tests/test_one.py::test_one"];
        assert_eq!(outcome, "error", "{message}\n{err}");
        assert!(
            message.contains("teardown of the session fixture"),
            "{message}"
        );
        assert_eq!(got["tests/test_two.py::test_two"].0, "passed", "{err}");
        assert_eq!(got["tests/test_two.py::test_three"].0, "failed", "{err}");
        for name in ["test_more1", "test_more2"] {
            let id = format!("tests/{name}.py::test_more");
            assert_eq!(got[&id].0, "passed", "{id}: {got:#?}\n{err}");
        }
        runs.push(got);
    }
    assert_alike(&runs);
    let _ = fs::remove_dir_all(&dir);
}

/// A file that takes most of a suite's time, for `--split-files`: a
/// function's parametrizations, then a class whose second test needs its
/// first across the middle of the file (they must stay in one part), then
/// slow tests and one that aborts (its part goes on in a new child).
const BIG_FILE: &str = r#"
import os
import time
import unittest
import pytest

@pytest.mark.parametrize("n", range(4))
def test_param(n):
    time.sleep(0.1)

class TestInOrder(unittest.TestCase):
    seen = []

    def test_1_first(self):
        self.seen.append(1)

    def test_2_second(self):
        assert self.seen == [1]

def test_slow_a():
    time.sleep(0.2)

def test_slow_b():
    time.sleep(0.2)

def test_fails():
    assert 1 == 2

def test_abort():
    os.abort()

def test_slow_c():
    time.sleep(0.6)
"#;

/// From a run's output with `PYODIDE_TEST_DEBUG`: how many tests each
/// guest of `file` reported (pytest's progress characters).
fn tests_per_guest(err: &str, file: &str) -> Vec<usize> {
    let mut ran = Vec::new();
    let mut lines = err.lines();
    while let Some(line) = lines.next() {
        if line.contains(&format!("{file}: stdout ---")) {
            let progress = lines.next().unwrap_or("");
            ran.push(progress.chars().filter(|c| ".F".contains(*c)).count());
        }
    }
    ran
}

#[test]
fn a_split_file_gives_the_outcomes_of_the_whole_file() {
    let (dir, tests) = suite_dir("zygote-split");
    fs::write(tests.join("test_split_big.py"), BIG_FILE).unwrap();
    fs::write(
        tests.join("test_split_small.py"),
        "def test_small():\n    pass\n",
    )
    .unwrap();
    // The first run learns the files' times (the cache, and its --json
    // report that the next run reads); the second splits the big file.
    let (first, records) = run_suite(&dir, &tests, &["-j", "2"]);
    let whole = outcomes(&records);
    assert_eq!(whole.len(), 12, "{whole:#?}\n{}", stderr(&first));
    // PYODIDE_TEST_DEBUG: each guest's output (pytest's progress) follows.
    let split_run = || {
        let (out, records) = run_suite_with(
            &dir,
            &tests,
            &["-j", "2", "--split-files"],
            &[("PYODIDE_TEST_DEBUG", "1")],
        );
        (stderr(&out), records)
    };
    let (err, records) = split_run();
    // The guests of the parts (one more after the abort) each ran some of
    // the ten tests that report (not the one that aborts), and together
    // all of them.
    let ran = tests_per_guest(&err, "test_split_big.py");
    assert!(
        ran.len() >= 2 && ran.iter().sum::<usize>() == 10 && ran.iter().all(|&n| n < 10),
        "{ran:?}\n{err}"
    );
    for part in ["(part 1/2)", "(part 2/2)"] {
        assert!(
            err.lines()
                .any(|l| l.contains("test_split_big.py") && l.contains(part)),
            "no {part} of the big file:\n{err}"
        );
    }
    let ids: Vec<&str> = records.iter().filter_map(|r| r["id"].as_str()).collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), unique.len(), "a test reported twice: {ids:#?}");
    assert_eq!(outcomes(&records), whole, "{err}");
    assert_eq!(
        whole["tests/test_split_big.py::TestInOrder::test_2_second"].0,
        "passed"
    );
    assert_eq!(whole["tests/test_split_big.py::test_fails"].0, "failed");
    assert_eq!(whole["tests/test_split_big.py::test_abort"].0, "crashed");
    // The file is done once, when both parts are (the progress lines).
    let done = err
        .lines()
        .filter(|l| l.starts_with('[') && l.contains("test_split_big.py"))
        .count();
    assert_eq!(done, 1, "{err}");
    // That run kept the tests' times: now the parts are cut by time, not
    // by number. The first part is the four parametrizations, the class
    // and the two slow tests (eight that report, 0.8 s); the second,
    // from test_fails (its 0.6 s test after the abort).
    let (err, records) = split_run();
    let mut ran = tests_per_guest(&err, "test_split_big.py");
    ran.sort();
    assert_eq!(ran, [1, 1, 8], "{err}");
    assert_eq!(outcomes(&records), whole, "{err}");
    // Without zygotes the flag is not applied, and says so.
    let (fresh, records) = run_suite(
        &dir,
        &tests,
        &["-j", "2", "--split-files", "--fresh-guests"],
    );
    assert!(
        stderr(&fresh).contains("--split-files is not applied under --fresh-guests"),
        "{}",
        stderr(&fresh)
    );
    assert_eq!(outcomes(&records), whole);
    let _ = fs::remove_dir_all(&dir);
}

/// At `-j 1` on a machine with a core to spare, once the files' times are
/// known, the zygote collects only the file the worker runs first (the
/// longest), and a child collector collects the rest side by side while
/// it runs: the first test starts before the suite is collected, and the
/// outcomes are those of one collection.
#[test]
fn the_longest_file_runs_while_the_rest_is_collected() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (dir, tests) = suite_dir("first-share");
    fs::write(
        tests.join("test_slow.py"),
        "import time\n\ndef test_slow():\n    time.sleep(0.5)\n",
    )
    .unwrap();
    // Six files of 4 KB: 24 KB for the collector, 0.1 s at most.
    let padding = format!("\"\"\"{}\"\"\"\n", "x".repeat(4000));
    for i in 0..6 {
        let body =
            format!("{padding}\ndef test_a():\n    pass\n\ndef test_b():\n    assert {i} < 6\n");
        fs::write(tests.join(format!("test_f{i}.py")), body).unwrap();
    }
    let mut runs = Vec::new();
    // Rounds 1 and 2 each measure their forked collector, and the next
    // run plans with that rate (round 2 at least: round 1 may have one
    // from an earlier test run, else the fixed guess).
    let collect_rates = || -> std::collections::BTreeMap<String, f64> {
        fs::read_to_string(common::default_cache().join("collect-rates.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    };
    let names: Vec<String> = std::iter::once("tests/test_slow.py".to_string())
        .chain((0..6).map(|i| format!("tests/test_f{i}.py")))
        .collect();
    let key =
        pyodide_test::runner::collect_rate::key_of("crashy", names.iter().map(|s| s.as_str()));
    let mut rate_before = collect_rates().get(&key).copied();
    for round in 0..3 {
        let (out, records) = run_suite(&dir, &tests, &["-j", "1"]);
        let err = stderr(&out);
        let mut collectors: Vec<&str> = err
            .lines()
            .filter(|l| l.contains("collector of"))
            .map(|l| l.split("collector of ").nth(1).unwrap_or(""))
            .map(|l| l.split(" files").next().unwrap_or(""))
            .collect();
        collectors.sort();
        if round >= 1 {
            // The times are known now (the first round's).
            let want = if cores > 1 { vec!["1", "6"] } else { vec!["7"] };
            assert_eq!(collectors, want, "{err}");
        }
        let now = collect_rates().get(&key).copied();
        if round >= 1 && cores > 1 {
            // The forked collector's rate is kept under this suite's name
            // (its package and files), anew each run: about 1 us a byte
            // here; anything from 0.1 to 100 us is a time for its 24 KB.
            let rate = now.expect("a rate kept");
            assert_ne!(now, rate_before, "{err}");
            assert!((1e-7..1e-4).contains(&rate), "{rate}\n{err}");
        }
        rate_before = now;
        let got = outcomes(&records);
        assert_eq!(got.len(), 13, "{got:#?}\n{err}");
        assert!(got.values().all(|o| o.0 == "passed"), "{got:#?}\n{err}");
        runs.push(got);
    }
    assert_eq!(runs[0], runs[1]);
    let _ = fs::remove_dir_all(&dir);
}

/// A zygote's guest is saved as an image after its warm-up (CPython
/// initialised, pytest imported) once its description has been seen
/// before, and the next run of that description restores it instead of
/// starting CPython: the outcomes (crashes, the memory limit and timeouts
/// among them), and what each file cannot see of another's, are those of a
/// run without images. A damaged image is removed and the guest started
/// again without it. Another description (two more test files) is only
/// marked seen.
#[test]
fn the_next_run_restores_the_zygotes_guest_from_its_image() {
    let (dir, tests) = suite_dir("image");
    fs::write(tests.join("test_crash.py"), CRASH_TESTS).unwrap();
    // A description no earlier run had (the cache is shared).
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    let unique = format!("# {:?} {}\n", now.unwrap(), std::process::id());
    fs::write(tests.join("conftest.py"), format!("{CONFTEST}{unique}")).unwrap();
    fs::write(tests.join("test_a.py"), isolation_test("a", "b")).unwrap();
    fs::write(tests.join("test_b.py"), isolation_test("b", "a")).unwrap();
    for me in ["a", "b"] {
        fs::write(tests.join(format!("helper_{me}.py")), "").unwrap();
    }
    let saved = "pyodide-test: image saved in ";
    let restored = "pyodide-test: restored from the image in ";
    let mut runs = Vec::new();
    // Without images; seen; saved; restored; from a damaged image (the
    // guest starts again without it); another description.
    let mut image = PathBuf::new();
    for (round, images) in ["0", "1", "1", "1", "1", "1"].into_iter().enumerate() {
        if round == 4 {
            let mut bytes = fs::read(&image).unwrap();
            let at = bytes.len() - 4096;
            bytes[at] ^= 0x5a;
            fs::write(&image, bytes).unwrap();
        }
        if round == 5 {
            write_more_files(&tests);
        }
        let env = [("PYODIDE_TEST_IMAGES", images)];
        let args = ["-j", "1", "--timeout", "3", "--max-memory", "256M"];
        let (out, records) = run_suite_with(&dir, &tests, &args, &env);
        let err = stderr(&out);
        assert_eq!(err.contains(saved), round == 2, "round {round}: {err}");
        assert_eq!(err.contains(restored), round == 3, "round {round}: {err}");
        if round == 2 {
            let line = err.lines().find(|l| l.starts_with(saved)).unwrap();
            let path = line.rsplit_once(" (").unwrap().1.trim_end_matches(')');
            image = PathBuf::from(path);
        }
        let damaged = err.contains("is damaged (removed)");
        assert_eq!(damaged, round == 4, "round {round}: {err}");
        assert_eq!(image.exists(), round == 2 || round == 3, "round {round}");
        let got = outcomes(&records);
        let files = if round == 5 { 13 } else { 11 };
        assert_eq!(got.len(), files, "{got:#?}\n{err}");
        for id in ["test_a.py::test_isolated_a", "test_b.py::test_isolated_b"] {
            let id = format!("tests/{id}");
            assert_eq!(got[&id].0, "passed", "{id}: {}\n{err}", got[&id].1);
        }
        let outcome = |id: &str| got[&format!("tests/test_crash.py::{id}")].0.clone();
        assert_eq!(outcome("test_trap"), "crashed");
        assert_eq!(outcome("test_forever"), "timeout");
        runs.push(got);
    }
    for round in 1..5 {
        assert_eq!(runs[0], runs[round], "round {round}");
    }
    let _ = fs::remove_dir_all(&dir);
}

/// The zygote's guest is imaged before pytest's arguments and the tables
/// of rewritten modules reach it, and a run's `-k` does not change which
/// rewritten modules it is given. So a suite's second run saves its image
/// although the first rewrote the test modules (the tables changed), and
/// runs that select other tests (`-k alpha`, `-k beta`) restore it, each
/// with its own selection. After a test file is edited, the same: the
/// next run is a new description, the one after saves its image.
#[test]
fn a_suites_image_is_saved_on_its_second_run_and_serves_every_selection() {
    let (dir, tests) = suite_dir("image-k");
    // A description no earlier run had (the cache is shared).
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    let unique = format!("# {:?} {}\n", now.unwrap(), std::process::id());
    fs::write(tests.join("conftest.py"), format!("{CONFTEST}{unique}")).unwrap();
    fs::write(tests.join("test_a.py"), "def test_alpha():\n    assert 1\n").unwrap();
    fs::write(tests.join("test_b.py"), "def test_beta():\n    assert 2\n").unwrap();
    let saved = "pyodide-test: image saved in ";
    let restored = "pyodide-test: restored from the image in ";
    let image_of = |err: &str, how: &str| -> Option<String> {
        let line = err.lines().find(|l| l.starts_with(how))?;
        Some(line.rsplit_once(" (")?.1.trim_end_matches(')').to_string())
    };
    let alpha = "tests/test_a.py::test_alpha";
    let beta = "tests/test_b.py::test_beta";
    // (-k, the tests that run, what becomes of the image); test_a.py is
    // edited before round 4.
    let rounds: [(Option<&str>, &[&str], Option<&str>); 7] = [
        (None, &[alpha, beta], None),
        (None, &[alpha, beta], Some(saved)),
        (Some("alpha"), &[alpha], Some(restored)),
        (Some("beta"), &[beta], Some(restored)),
        (None, &[alpha, beta], None),
        (None, &[alpha, beta], Some(saved)),
        (Some("alpha"), &[alpha], Some(restored)),
    ];
    let mut images = Vec::new();
    for (round, (k, want, image)) in rounds.into_iter().enumerate() {
        if round == 4 {
            let edited = "def test_alpha():\n    assert 1 + 1\n";
            fs::write(tests.join("test_a.py"), edited).unwrap();
        }
        let mut args = vec!["-j", "1"];
        args.extend(k.iter().flat_map(|k| ["-k", *k]));
        let env = [("PYODIDE_TEST_IMAGES", "1")];
        let (out, records) = run_suite_with(&dir, &tests, &args, &env);
        let err = stderr(&out);
        for how in [saved, restored] {
            let expected = image == Some(how);
            assert_eq!(err.contains(how), expected, "round {round} ({how}): {err}");
        }
        images.push(image.and_then(|how| image_of(&err, how)));
        let got = outcomes(&records);
        let ran: Vec<&str> = got
            .keys()
            .map(|id| id.as_str())
            .filter(|id| id.contains("::"))
            .collect();
        assert_eq!(ran, want, "round {round}: {got:#?}\n{err}");
        for id in want {
            assert_eq!(got[*id].0, "passed", "round {round}: {id}\n{err}");
        }
    }
    // Rounds 1-3 one image, rounds 5-6 another (the edit).
    assert!(images[1].is_some() && images[1] == images[2] && images[2] == images[3]);
    assert!(images[5].is_some() && images[5] == images[6], "{images:?}");
    assert_ne!(images[1], images[5], "{images:?}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn the_runner_compiles_side_modules_before_the_zygotes_load_them() {
    let tagged = TaggedSuite::new("zygote-side-modules");
    let first = tagged.run(&[]);
    assert!(tagged.compiling(&first), "{first}");
    assert!(first.contains("tagged/libtag.so: checksum"), "{first}");
    let again = tagged.run(&[]);
    assert!(!tagged.compiling(&again), "{again}");
    assert!(again.contains("tagged/libtag.so: checksum"), "{again}");
    // With the wheel's bytecode cached by the first run, the runner
    // starts no guest of its own: only the zygote loads the main module.
    let loads = again.matches("phase load module").count();
    assert_eq!(loads, 1, "{again}");
    let _ = fs::remove_dir_all(&tagged.dir);
}

/// A first run of a suite whose optimized code is not all compiled runs
/// quick code and compiles the optimized code in the background; a later
/// run, once that is done, runs the optimized code and compiles nothing.
/// `PYODIDE_TEST_TIER` picks either.
#[test]
fn a_first_run_runs_quick_code_and_later_runs_the_optimized_code() {
    let tagged = TaggedSuite::new("zygote-tiers");
    // Asked for, quick code is all a run compiles, and no background
    // compile starts (a later run still finds no optimized code).
    let quick = tagged.run(&[("PYODIDE_TEST_TIER", "quick")]);
    assert!(quick.contains("phase tier: quick"), "{quick}");
    assert!(tagged.compiling(&quick), "{quick}");
    std::thread::sleep(std::time::Duration::from_secs(2));
    let first = tagged.run(&[]);
    assert!(first.contains("phase tier: quick"), "{first}");
    assert!(
        !tagged.compiling(&first),
        "the quick code is there: {first}"
    );
    // The optimized code of the main module may be compiled already (by
    // earlier runs); the side module's is not. A background compile yields
    // the cores to the other tests: wait for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(900);
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3));
        let later = tagged.run(&[]);
        assert!(!tagged.compiling(&later), "{later}");
        if later.contains("phase tier: optimized") {
            break;
        }
        assert!(later.contains("phase tier: quick"), "{later}");
        assert!(
            std::time::Instant::now() < deadline,
            "no optimized code after 15 minutes: {later}"
        );
    }
    // Asked for where it is missing, optimized code is compiled first.
    let fresh = TaggedSuite::new("zygote-tiers-optimized");
    let optimized = fresh.run(&[("PYODIDE_TEST_TIER", "optimized")]);
    assert!(optimized.contains("phase tier: optimized"), "{optimized}");
    assert!(fresh.compiling(&optimized), "{optimized}");
    let _ = fs::remove_dir_all(&tagged.dir);
    let _ = fs::remove_dir_all(&fresh.dir);
}

/// A run in zygotes that finds no module compiled compiles one main
/// module, the zygotes' (quick code here), and compiles bytecode (the
/// wheel's, new) with it: not a second one, with epochs, of its own.
#[test]
fn a_run_in_zygotes_with_nothing_compiled_compiles_one_main_module() {
    let tagged = TaggedSuite::new("zygote-one-main");
    // The shared cache but for its compiled modules.
    let cache = tagged.dir.join("cache");
    let shared = common::default_cache();
    for entry in ["pyodide", "wheels", "unpacked", "packages", "pyc", "sdists"] {
        common::link_tree(&shared.join(entry), &cache.join(entry));
    }
    fs::create_dir_all(cache.join("modules")).unwrap();
    let cache_var = cache.to_string_lossy().into_owned();
    let err = tagged.run(&[
        ("PYODIDE_TEST_CACHE", &cache_var),
        ("PYODIDE_TEST_TIER", "quick"),
    ]);
    assert!(tagged.compiling(&err), "{err}");
    // Main modules are tens of megabytes; the side module, a few hundred
    // bytes.
    let main_modules: Vec<_> = fs::read_dir(cache.join("modules"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        .filter(|e| e.metadata().unwrap().len() > 1 << 20)
        .map(|e| e.path())
        .collect();
    assert_eq!(main_modules.len(), 1, "{main_modules:?}\n{err}");
    let _ = fs::remove_dir_all(&tagged.dir);
}

/// A suite for a wheel `tagged` holding a side module no run has compiled
/// yet (it returns a constant new to this process), which the package
/// loads through `ctypes` as it is imported: the zygote loads it before
/// its fork point.
struct TaggedSuite {
    dir: PathBuf,
    tests: PathBuf,
    wheel: PathBuf,
}

impl TaggedSuite {
    fn new(name: &str) -> Self {
        use common::local_suite::build_named_wheel;
        let (dir, tests) = suite_dir(name);
        let tag = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
            % 1_000_000_000;
        let lib = common::side_module::side_module(
            &format!(
                r#"(module
                  (import "env" "memory" (memory 0))
                  (func (export "tag") (result i32) i32.const {tag}))"#
            ),
            0,
            &[],
            &[],
            &[],
        );
        let init = "import ctypes, os\n\
                    TAG = ctypes.CDLL(os.path.join(os.path.dirname(__file__), 'libtag.so')).tag()\n";
        let wheel = build_named_wheel(
            &dir,
            "tagged",
            &[
                ("tagged/__init__.py", init.as_bytes()),
                ("tagged/libtag.so", &lib),
            ],
        );
        fs::write(
            tests.join("test_tag.py"),
            format!("import tagged\n\ndef test_tag():\n    assert tagged.TAG == {tag}\n"),
        )
        .unwrap();
        Self { dir, tests, wheel }
    }

    /// Run the suite at `-j 1` with `env` and `PYODIDE_TEST_PHASES` (under
    /// which the runner names the tier, and the zygote says whether it
    /// found the side module compiled: "checksum"); its one test passes.
    /// The runner's stderr.
    fn run(&self, env: &[(&str, &str)]) -> String {
        let mut env = env.to_vec();
        env.push(("PYODIDE_TEST_PHASES", "1"));
        let (out, records) = common::local_suite::run_package(
            &self.dir,
            "tagged",
            &self.wheel,
            &self.tests,
            &["-j", "1"],
            &env,
        );
        let err = stderr(&out);
        let got = outcomes(&records);
        assert_eq!(
            got.get("tests/test_tag.py::test_tag").map(|o| o.0.as_str()),
            Some("passed"),
            "{got:#?}\n{err}"
        );
        err
    }

    /// Whether the runner said it compiles the side module.
    fn compiling(&self, err: &str) -> bool {
        err.lines()
            .any(|l| l.starts_with("pyodide-test: compiling ") && l.contains("libtag.so"))
    }
}
