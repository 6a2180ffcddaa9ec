//! `pyodide-test <package>...` against a small local suite whose tests
//! abort, trap, recurse without end, allocate without end and loop forever,
//! each followed by ordinary tests in the same file: every outcome must be in
//! the `--json` report, including the tests after each crash.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::local_suite::{build_wheel, outcomes, run_suite, scratch, stderr};
use common::{dist_args, exe};

const CRASH_TESTS: &str = r#"
import ctypes, os, sys
import pytest
import crashy

def test_before():
    assert crashy.VALUE == 42

def test_abort():
    os.abort()

def test_after_abort():
    pass

def test_trap():
    ctypes.string_at(0xFFFFFFF0, 64)

def test_after_trap_fails():
    assert 1 == 2

def test_recursion():
    sys.setrecursionlimit(10**9)
    x = []
    for _ in range(10**6):
        x = [x]
    repr(x)

@pytest.mark.skip(reason="skipped on purpose")
def test_after_recursion_skipped():
    pass

def test_memory():
    hoard = [bytearray(10**8) for _ in range(100)]

@pytest.mark.xfail(reason="expected to fail")
def test_after_memory_xfail():
    assert False

def test_exit():
    os._exit(3)

def test_last():
    pass
"#;

const FOREVER_TESTS: &str = r#"
def test_forever():
    while True:
        pass

def test_after_forever():
    pass
"#;

const COLLECT_CRASH: &str = r#"
import os
os.abort()

def test_never():
    pass
"#;

/// The crash suite's outcomes, checked test by test. Under Node the crash
/// messages are Node's (`RuntimeError: ...`), so only outcomes are compared.
fn check_crash_suite(runtime: &[&str]) {
    let node = !runtime.is_empty();
    let dir = scratch(if node { "crash-node" } else { "crash" });
    let tests = dir.join("tests");
    fs::create_dir_all(&tests).unwrap();
    fs::write(tests.join("test_crash.py"), CRASH_TESTS).unwrap();
    fs::write(tests.join("test_collect_crash.py"), COLLECT_CRASH).unwrap();
    let mut extra = runtime.to_vec();
    extra.extend(["--max-memory", "256M", "-j", "2"]);
    let (out, records) = run_suite(&dir, &tests, &extra);
    let got = outcomes(&records);
    let err = stderr(&out);
    let outcome = |id: &str| -> (String, String) {
        got.get(&format!("tests/{id}"))
            .cloned()
            .unwrap_or_else(|| panic!("no record of {id}; got {got:#?}\nstderr: {err}"))
    };
    let is = |id: &str, want: &str| {
        let (o, m) = outcome(id);
        assert_eq!(o, want, "{id}: {m}\nall: {got:#?}");
        m
    };
    is("test_crash.py::test_before", "passed");
    let m = is("test_crash.py::test_abort", "crashed");
    assert!(m.contains("Aborted"), "{m}");
    is("test_crash.py::test_after_abort", "passed");
    let m = is("test_crash.py::test_trap", "crashed");
    assert!(
        m.contains(if node {
            "memory access out of bounds"
        } else {
            "out of bounds memory access"
        }),
        "{m}"
    );
    let m = is("test_crash.py::test_after_trap_fails", "failed");
    assert!(m.contains("assert 1 == 2"), "{m}");
    // Without end in C: the engine's stack limit (or CPython's own check).
    let (o, m) = outcome("test_crash.py::test_recursion");
    assert!(
        o == "crashed" && (m.contains("call stack exhausted") || m.contains("call stack size"))
            || o == "failed" && m.contains("RecursionError"),
        "{o}: {m}"
    );
    let m = is("test_crash.py::test_after_recursion_skipped", "skipped");
    assert_eq!(m, "skipped on purpose");
    // Without end in memory: the heap limit makes malloc fail.
    let (o, m) = outcome("test_crash.py::test_memory");
    assert!(
        o == "failed" && m.contains("MemoryError") || o == "crashed",
        "{o}: {m}"
    );
    let m = is("test_crash.py::test_after_memory_xfail", "xfailed");
    assert_eq!(m, "expected to fail");
    let m = is("test_crash.py::test_exit", "crashed");
    assert!(m.contains("status 3"), "{m}");
    is("test_crash.py::test_last", "passed");
    // A crash while collecting is recorded for the file as a crash.
    let m = is("test_collect_crash.py", "crashed");
    assert!(m.contains("Aborted"), "{m}");
    assert_eq!(got.len(), 12, "{got:#?}");
    // No snapshot yet: something changed.
    assert_eq!(out.status.code(), Some(1), "{err}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn crashes_are_isolated_and_the_file_goes_on() {
    check_crash_suite(&[]);
}

/// The same suite under Node (`--runtime node`), the reference.
#[test]
#[ignore = "slow: one Node start per guest; run with -- --include-ignored"]
fn crashes_under_node_have_the_same_outcomes() {
    check_crash_suite(&["--runtime", "node"]);
}

#[test]
fn a_test_that_loops_forever_times_out() {
    let dir = scratch("forever");
    let tests = dir.join("tests");
    fs::create_dir_all(&tests).unwrap();
    fs::write(tests.join("test_forever.py"), FOREVER_TESTS).unwrap();
    let started = Instant::now();
    let (out, records) = run_suite(&dir, &tests, &["--timeout", "2"]);
    let got = outcomes(&records);
    let err = stderr(&out);
    let (o, m) = got
        .get("tests/test_forever.py::test_forever")
        .cloned()
        .unwrap_or_else(|| panic!("{got:#?}\n{err}"));
    assert_eq!(o, "timeout", "{m}");
    assert!(m.contains("2 s"), "{m}");
    assert_eq!(
        got.get("tests/test_forever.py::test_after_forever")
            .map(|x| x.0.as_str()),
        Some("passed"),
        "{got:#?}"
    );
    assert!(started.elapsed() < Duration::from_secs(120));
    let _ = fs::remove_dir_all(&dir);
}

const OUTCOME_TESTS: &str = r#"
import pytest

@pytest.fixture
def broken_setup():
    raise RuntimeError("setup broke")

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown broke")

def test_passes():
    pass

def test_fails():
    raise ValueError("bad value")

def test_skips_inside():
    pytest.skip("not today")

def test_xfails_inside():
    pytest.xfail("known bug")

@pytest.mark.xfail(reason="thought broken")
def test_xpasses():
    pass

@pytest.mark.xfail(reason="strictly broken", strict=True)
def test_xpasses_strictly():
    pass

def test_setup_error(broken_setup):
    pass

def test_teardown_error(broken_teardown):
    pass

@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    assert n == 1
"#;

#[test]
fn every_outcome_is_reported_with_its_message() {
    let dir = scratch("outcomes");
    let tests = dir.join("tests");
    fs::create_dir_all(&tests).unwrap();
    fs::write(tests.join("test_outcomes.py"), OUTCOME_TESTS).unwrap();
    let (out, records) = run_suite(&dir, &tests, &[]);
    let got = outcomes(&records);
    let err = stderr(&out);
    let want = [
        ("test_passes", "passed", ""),
        ("test_fails", "failed", "ValueError: bad value"),
        ("test_skips_inside", "skipped", "not today"),
        ("test_xfails_inside", "xfailed", "known bug"),
        ("test_xpasses", "xpassed", "thought broken"),
        ("test_xpasses_strictly", "xpassed", "strictly broken"),
        ("test_setup_error", "error", "RuntimeError: setup broke"),
        (
            "test_teardown_error",
            "error",
            "RuntimeError: teardown broke",
        ),
        ("test_param[1]", "passed", ""),
        ("test_param[2]", "failed", "assert 2 == 1"),
    ];
    for (name, outcome, message) in want {
        let id = format!("tests/test_outcomes.py::{name}");
        let (o, m) = got
            .get(&id)
            .cloned()
            .unwrap_or_else(|| panic!("no record of {id}: {got:#?}\n{err}"));
        assert_eq!(o, outcome, "{id}: {m}");
        assert!(m.contains(message), "{id}: {m:?} lacks {message:?}");
    }
    assert_eq!(got.len(), want.len(), "{got:#?}");
    let summary = records.last().expect("a summary line");
    assert!(summary.get("summary").is_some(), "{summary}");
    let _ = fs::remove_dir_all(&dir);
}

/// A module skipped whole at collection counts once, as pytest's summary
/// and JUnit XML count it (and so Node's run of the suite): one skipped
/// record under the module's id, with the reason, whether the zygote's
/// collectors collect the suite, each file gets a fresh guest, or one
/// worker runs them.
#[test]
fn a_module_skipped_at_collection_is_one_skipped_record() {
    let dir = scratch("module-skips");
    let tests = dir.join("tests");
    fs::create_dir_all(&tests).unwrap();
    fs::write(tests.join("test_a.py"), "def test_a():\n    pass\n").unwrap();
    fs::write(tests.join("test_b.py"), "def test_b():\n    pass\n").unwrap();
    fs::write(
        tests.join("test_skipped.py"),
        "import pytest\npytest.skip('not on this platform', allow_module_level=True)\n\ndef test_never():\n    pass\n",
    )
    .unwrap();
    fs::write(
        tests.join("test_missing.py"),
        "import pytest\nnope = pytest.importorskip('no_such_module_here')\n\ndef test_never():\n    pass\n",
    )
    .unwrap();
    records_in_every_mode(
        &dir,
        &tests,
        &[
            ("tests/test_a.py::test_a", "passed", ""),
            ("tests/test_b.py::test_b", "passed", ""),
            ("tests/test_skipped.py", "skipped", "not on this platform"),
            ("tests/test_missing.py", "skipped", "no_such_module_here"),
        ],
    );
    let _ = fs::remove_dir_all(&dir);
}

/// Run the suite in `tests` with the default zygote, `--fresh-guests` and
/// `-j 1`: each time, exactly the records `want` (id, outcome, a part of
/// the message), each once.
fn records_in_every_mode(dir: &Path, tests: &Path, want: &[(&str, &str, &str)]) {
    for extra in [&[][..], &["--fresh-guests"][..], &["-j", "1"][..]] {
        let (out, records) = run_suite(dir, tests, extra);
        let got = outcomes(&records);
        for &(id, outcome, message) in want {
            let (o, m) = got.get(id).cloned().unwrap_or_else(|| {
                panic!("{extra:?}: no record of {id}: {got:#?}\n{}", stderr(&out))
            });
            assert_eq!(o, outcome, "{extra:?} {id}: {m}");
            assert!(
                m.contains(message),
                "{extra:?} {id}: {m:?} lacks {message:?}"
            );
        }
        let ids = records.iter().filter(|r| r.get("id").is_some()).count();
        assert_eq!(ids, want.len(), "{extra:?}: {records:#?}");
    }
}

/// A conftest that skips (a missing optional dependency) skips its
/// directory, one skipped record however many files lie below, as pytest
/// run in the rootdir reports it, although each of our jobs names its file
/// (pytest given a file there ends before collecting). A conftest that such
/// a pytest loads before collecting (the rootdir's, its test* directories')
/// ends it before any test: each file is an error, not a silent skip.
#[test]
fn a_directory_its_conftest_skips_is_one_skipped_record() {
    let dir = scratch("conftest-skips");
    let tests = dir.join("tests");
    for sub in ["sub/deeper", "test_io"] {
        fs::create_dir_all(tests.join(sub)).unwrap();
    }
    let write = |path: &str, text: &str| fs::write(tests.join(path), text).unwrap();
    write("test_a.py", "def test_a():\n    pass\n");
    write(
        "sub/conftest.py",
        "import pytest\npytest.importorskip('no_such_module_here')\n",
    );
    write("sub/test_b.py", "def test_b():\n    pass\n");
    write("sub/test_c.py", "def test_c():\n    pass\n");
    write("sub/deeper/test_d.py", "def test_d():\n    pass\n");
    write(
        "test_io/conftest.py",
        "import pytest\npytest.skip('io is off', allow_module_level=True)\n",
    );
    write("test_io/test_e.py", "def test_e():\n    pass\n");
    // Each directory's record once, not once per file below it.
    records_in_every_mode(
        &dir,
        &tests,
        &[
            ("tests/test_a.py::test_a", "passed", ""),
            ("tests/sub", "skipped", "no_such_module_here"),
            ("tests/test_io", "skipped", "io is off"),
        ],
    );
    // The tests directory's own conftest: pytest ends before collecting.
    write(
        "conftest.py",
        "import pytest\npytest.importorskip('no_such_module_here')\n",
    );
    let (out, records) = run_suite(&dir, &tests, &[]);
    let got = outcomes(&records);
    for id in [
        "tests/test_a.py",
        "tests/sub/test_b.py",
        "tests/test_io/test_e.py",
    ] {
        let (o, m) = got
            .get(id)
            .cloned()
            .unwrap_or_else(|| panic!("no record of {id}: {got:#?}\n{}", stderr(&out)));
        assert_eq!(o, "error", "{id}: {m}");
        assert!(m.contains("no_such_module_here"), "{id}: {m}");
    }
    let _ = fs::remove_dir_all(&dir);
}

/// Files that pytest over the suite leaves out (a conftest's
/// `collect_ignore`, `collect_ignore_glob`, its own `pytest_ignore_collect`)
/// do not run, although each of our jobs names its file, and pytest asks
/// none of these of a file named on its command line.
#[test]
fn files_pytest_leaves_out_do_not_run() {
    let dir = scratch("collect-ignore");
    let tests = dir.join("tests");
    fs::create_dir_all(tests.join("sub")).unwrap();
    fs::create_dir_all(tests.join("optional")).unwrap();
    let write = |path: &str, text: &str| fs::write(tests.join(path), text).unwrap();
    let missing = "import no_such_module_here\n\ndef test_never():\n    pass\n";
    write(
        "conftest.py",
        "collect_ignore = ['test_ignored.py']\n\
         collect_ignore_glob = ['sub/test_*_np.py']\n\
         \n\
         def pytest_ignore_collect(collection_path, config):\n\
         \x20   if collection_path.name == 'optional':\n\
         \x20       return True\n",
    );
    write("test_a.py", "def test_a():\n    pass\n");
    write("test_ignored.py", missing);
    write("sub/test_s.py", "def test_s():\n    pass\n");
    write("sub/test_x_np.py", missing);
    write("optional/test_o.py", missing);
    records_in_every_mode(
        &dir,
        &tests,
        &[
            ("tests/test_a.py::test_a", "passed", ""),
            ("tests/sub/test_s.py::test_s", "passed", ""),
        ],
    );
    let _ = fs::remove_dir_all(&dir);
}

const PARSED_ONCE_TESTS: &str = r#"
import ast
import importlib
import sys

import pytest

# Every parse pytest makes of a source file to format a failure.
PARSES = []
_parse = ast.parse


def _counting(source, filename="<unknown>", *args, **kwargs):
    if filename == "source":
        PARSES.append(source)
    return _parse(source, filename, *args, **kwargs)


ast.parse = _counting


def test_fails_1():
    assert 1 == 2


def test_fails_2():
    assert 2 == 3


def test_fails_3():
    assert 3 == 4


def test_this_file_was_parsed_once():
    mine = [s for s in PARSES if "def test_this_file_was_parsed_once" in s]
    assert len(mine) == 1


FIRST = "def boom():\n    raise ValueError('first')\nx1 = 1\nx2 = 2\nx3 = 3\n"
SECOND = "def boom():\n    raise ValueError(\n        'second'\n    )\n"


def test_a_file_rewritten_is_parsed_again(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    module = tmp_path / "changing.py"
    module.write_text(FIRST)
    import changing

    reprs = []
    for text in (FIRST, SECOND):
        module.write_text(text)
        importlib.reload(changing)
        with pytest.raises(ValueError) as info:
            changing.boom()
        reprs.append(str(info.getrepr(style="long")))
    assert "raise ValueError('first')" in reprs[0]
    # The whole statement: the first file's tree would end it a line early.
    assert "        'second'" in reprs[1], reprs[1]
"#;

/// pytest formats each failure's traceback by parsing the source file of
/// each entry; the plugin keeps the tree of a source text for the next
/// failure (one parse of a file with three failures, not three), and a
/// file whose text changed is parsed again, so the report is the same.
#[test]
fn a_source_is_parsed_once_for_all_its_failures() {
    let dir = scratch("parsed-once");
    let tests = dir.join("tests");
    fs::create_dir_all(&tests).unwrap();
    fs::write(tests.join("test_parsed.py"), PARSED_ONCE_TESTS).unwrap();
    let (out, records) = run_suite(&dir, &tests, &[]);
    let got = outcomes(&records);
    let want = [
        ("test_fails_1", "failed"),
        ("test_fails_2", "failed"),
        ("test_fails_3", "failed"),
        ("test_this_file_was_parsed_once", "passed"),
        ("test_a_file_rewritten_is_parsed_again", "passed"),
    ];
    for (name, outcome) in want {
        let id = format!("tests/test_parsed.py::{name}");
        let (o, m) = got
            .get(&id)
            .cloned()
            .unwrap_or_else(|| panic!("no record of {id}: {got:#?}\n{}", stderr(&out)));
        assert_eq!(o, outcome, "{id}: {m}");
    }
    assert_eq!(got.len(), want.len(), "{got:#?}");
    let _ = fs::remove_dir_all(&dir);
}

/// The marks of plugins that the runner does not install in the guest
/// (pytest-cov, pytest-xdist, pytest-forked, pytest-timeout) are known
/// marks there: under `--strict-markers` (or `filterwarnings = error`) a
/// test that carries one runs, as where the plugin is installed.
#[test]
fn marks_of_plugins_not_installed_are_known() {
    let dir = scratch("absent-marks");
    let tests = dir.join("tests");
    fs::create_dir_all(&tests).unwrap();
    fs::write(
        tests.join("test_marks.py"),
        "import pytest\n\n\
         @pytest.mark.no_cover\ndef test_cov():\n    pass\n\n\
         @pytest.mark.xdist_group(name='g')\ndef test_xdist():\n    pass\n\n\
         @pytest.mark.forked\ndef test_forked():\n    pass\n\n\
         @pytest.mark.timeout(5)\ndef test_timeout():\n    pass\n",
    )
    .unwrap();
    let (out, records) = run_suite(&dir, &tests, &["--", "--strict-markers"]);
    let got = outcomes(&records);
    for name in ["cov", "xdist", "forked", "timeout"] {
        let id = format!("tests/test_marks.py::test_{name}");
        let (o, m) = got
            .get(&id)
            .cloned()
            .unwrap_or_else(|| panic!("no record of {id}: {got:#?}\n{}", stderr(&out)));
        assert_eq!(o, "passed", "{id}: {m}");
    }
    assert_eq!(got.len(), 4, "{got:#?}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn usage_errors_give_one_line_and_status_2() {
    let dir = scratch("usage");
    for (args, needle) in [
        (&["msgpack", "--partition", "5/4"][..], "expected K/N"),
        (
            &["a", "b", "--tests", "."][..],
            "--tests DIR takes one package, or none",
        ),
        (&["msgpack", "--max-memory", "lots"][..], "invalid size"),
    ] {
        let out = Command::new(exe())
            .args(dist_args())
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn ctrl_c_stops_and_keeps_what_finished() {
    let dir = scratch("sigint");
    let tests = dir.join("tests");
    fs::create_dir_all(&tests).unwrap();
    fs::write(tests.join("test_quick.py"), "def test_quick():\n    pass\n").unwrap();
    fs::write(
        tests.join("test_slow.py"),
        "def test_slow():\n    while True:\n        pass\n",
    )
    .unwrap();
    let wheel = build_wheel(&dir);
    let json = dir.join("out.jsonl");
    let mut child = Command::new(exe())
        .args(dist_args())
        .args(["crashy", "-j", "2", "--with"])
        .arg(&wheel)
        .arg("--tests")
        .arg(&tests)
        .arg("--json")
        .arg(&json)
        .arg("--snapshot-dir")
        .arg(dir.join("snapshots"))
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let text = fs::read_to_string(&json).unwrap_or_default();
        if text.contains("test_quick.py::test_quick") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "test_quick never finished"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if stopped.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("pyodide-test did not stop within 30 s of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130));
    let text = fs::read_to_string(&json).unwrap();
    assert!(text.contains(r#""outcome":"passed""#), "{text}");
    assert!(!text.contains("test_slow.py::test_slow"), "{text}");
    let _ = fs::remove_dir_all(&dir);
}

/// The time of the file `test_remembered_slow.py` of `crashy`'s suite in
/// the cache's `durations.json`, by which later runs are planned.
fn remembered_slow_time() -> Option<f64> {
    let path = pyodide_test::runner::fetch::cache_root().join("durations.json");
    let text = fs::read_to_string(path).ok()?;
    let all: serde_json::Value = serde_json::from_str(&text).ok()?;
    all["crashy"]["tests/test_remembered_slow.py"].as_f64()
}

/// Later runs are planned by the file times of whole runs in zygotes: a
/// run that selects tests (`-k`), one under Node and one in fresh guests
/// leave them as they were.
#[test]
fn only_whole_runs_in_zygotes_leave_file_times() {
    let dir = scratch("remembered");
    let tests = dir.join("tests");
    fs::create_dir_all(&tests).unwrap();
    fs::write(
        tests.join("test_remembered_slow.py"),
        "import time\n\ndef test_slow():\n    time.sleep(0.5)\n\ndef test_quick_too():\n    pass\n",
    )
    .unwrap();
    fs::write(
        tests.join("test_remembered_quick.py"),
        "def test_quick():\n    pass\n",
    )
    .unwrap();
    let whole = |extra: &[&str]| {
        let (out, records) = run_suite(&dir, &tests, extra);
        assert_eq!(
            outcomes(&records).len(),
            if extra.contains(&"-k") { 2 } else { 3 },
            "{extra:?}: {}",
            stderr(&out)
        );
        remembered_slow_time().unwrap_or_else(|| panic!("{extra:?}: no time remembered"))
    };
    let first = whole(&[]);
    assert!(first >= 0.5, "{first}");
    for extra in [
        &["-k", "quick"][..],
        &["--runtime", "node"],
        &["--fresh-guests"],
    ] {
        assert_eq!(whole(extra), first, "after a run with {extra:?}");
    }
    let again = whole(&[]);
    assert!(again >= 0.5 && again != first, "{first} then {again}");
    let _ = fs::remove_dir_all(&dir);
}
