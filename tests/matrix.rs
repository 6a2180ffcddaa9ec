//! `matrix` and `bisect` on real Pyodide releases (fetched by the tool
//! with `npm pack` into its cache) with a small reproducer directory of
//! pure-Python tests that check what really changed between 314.0.x
//! releases:
//!
//! - 314.0.3 dropped the pure-Python `zoneinfo._zoneinfo` from the stdlib
//!   zip (314.0.0 to 314.0.2 ship it);
//! - 314.0.7 added the `dedent` parameter to `_pyodide._base.eval_code`;
//!
//! and one that needs Python 3.13 (`copy.replace`), bisected over every
//! stable release from 0.26.4 to 314.0.7: 0.28.0 brought CPython 3.13.
//!
//! Also: a build that does not boot (a dist whose module is broken) is a row
//! that says so; `compare` over a list of releases agrees with Node on a
//! pure-Python suite on each; and the commands that take one build refuse
//! lists, ranges and repeated `--dist` in one line.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::exe;

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("pyodide-test-matrix-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// The reproducer directory `repro/` in `dir`.
fn repro(dir: &Path) -> PathBuf {
    let repro = dir.join("repro");
    fs::create_dir_all(&repro).unwrap();
    fs::write(
        repro.join("test_releases.py"),
        r#"import importlib.util
import inspect


def test_pure_python_zoneinfo():
    assert importlib.util.find_spec("zoneinfo._zoneinfo") is not None


def test_eval_code_dedent():
    from _pyodide._base import eval_code

    assert "dedent" in inspect.signature(eval_code).parameters


def test_arithmetic():
    assert sum(range(10)) == 45
"#,
    )
    .unwrap();
    repro
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(exe())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("running pyodide-test")
}

/// `bisect --pyodide BUILDS --tests REPRO EXTRA...` in `dir`.
fn bisect(dir: &Path, builds: &str, repro: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "bisect",
        "--pyodide",
        builds,
        "--tests",
        repro.to_str().unwrap(),
    ];
    args.extend(extra);
    run(dir, &args)
}

/// Node must be on PATH (CI installs it): a test that needs it fails
/// without it, never passes by returning early.
fn require_node() {
    let found = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "node (Node.js 20) is not on PATH; this test runs Pyodide under it"
    );
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A copy of the release's dist whose main module is not a valid module.
fn broken_dist(dir: &Path) -> PathBuf {
    // Fetch 314.0.7 if needed and find it through `fetch`'s cache layout.
    let out = run(dir, &["--pyodide", "314.0.7", "fetch"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cache = std::env::var_os("PYODIDE_TEST_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/pyodide-test")
        });
    let release = cache.join("pyodide/314.0.7");
    let broken = dir.join("broken");
    fs::create_dir_all(&broken).unwrap();
    for f in [
        "pyodide.asm.mjs",
        "python_stdlib.zip",
        "pyodide-lock.json",
        "package.json",
    ] {
        fs::copy(release.join(f), broken.join(f)).unwrap();
    }
    // The wasm header, then a section that runs past the end.
    fs::write(
        broken.join("pyodide.asm.wasm"),
        b"\0asm\x01\0\0\0\x01\xff\xff\x03",
    )
    .unwrap();
    broken
}

#[test]
fn matrix_rows_changes_and_page() {
    let dir = scratch("matrix");
    let repro = repro(&dir);
    let broken = broken_dist(&dir);
    let html = dir.join("matrix.html");
    let json = dir.join("matrix.json");
    let md = dir.join("matrix.md");
    let out = run(
        &dir,
        &[
            "matrix",
            "--pyodide",
            "314.0.2,314.0.3,314.0.7",
            "--dist",
            broken.to_str().unwrap(),
            "--tests",
            repro.to_str().unwrap(),
            "-j",
            "2",
            "--html",
            html.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--markdown",
            md.to_str().unwrap(),
        ],
    );
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    // Changes, and a build that did not boot: 1.
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("build"), "{stdout}");
    let row = |label: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no row {label}: {stdout}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    // build, Pyodide, Python, Emscripten, tests, passed, failed, skipped, crashed
    assert_eq!(
        row("314.0.2"),
        [
            "314.0.2", "314.0.2", "3.14.2", "5.0.3", "3", "2", "1", "0", "0"
        ]
    );
    assert_eq!(
        row("314.0.3"),
        [
            "314.0.3", "314.0.3", "3.14.2", "5.0.3", "3", "1", "2", "0", "0"
        ]
    );
    assert_eq!(
        row("314.0.7"),
        [
            "314.0.7", "314.0.7", "3.14.2", "5.0.3", "3", "2", "1", "0", "0"
        ]
    );
    let broken_row = lines
        .iter()
        .find(|l| l.starts_with(broken.to_str().unwrap()))
        .expect("a row for the broken dist");
    assert!(broken_row.contains("does not boot: "), "{broken_row}");
    assert!(
        !broken_row.contains('\n') && broken_row.len() < 400,
        "{broken_row}"
    );
    // The changes, between neighbours.
    assert!(
        stdout.contains("Tests whose outcome changes between neighbouring builds (2):"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "  314.0.2 -> 314.0.3:\n    repro/test_releases.py::test_pure_python_zoneinfo  passed -> failed"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "  314.0.3 -> 314.0.7:\n    repro/test_releases.py::test_eval_code_dedent  failed -> passed"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("test_arithmetic"), "{stdout}");

    // The page: self-contained, a grid of builds x changed tests.
    let page = fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(!page.contains("<script") && !page.contains("src=") && !page.contains("href="));
    assert!(page.contains("<table class=\"grid\">"));
    let grid = &page[page.find("<table class=\"grid\">").unwrap()..];
    assert_eq!(grid.matches("<th class=\"build\">").count(), 4);
    assert_eq!(grid.matches("<td class=\"test\">").count(), 2);
    assert!(grid.contains(
        "<td class=\"test\">repro/test_releases.py::test_pure_python_zoneinfo</td><td class=\"passed\""
    ));
    assert_eq!(grid.matches("<td class=\"noboot\">").count(), 2);

    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["builds"].as_array().unwrap().len(), 4);
    assert_eq!(report["builds"][3]["status"], "does not boot");
    assert_eq!(report["changes"].as_array().unwrap().len(), 2);
    let summary = fs::read_to_string(&md).unwrap();
    assert!(
        summary.starts_with("### pyodide-test matrix: 4 builds, 2 tests change, 1 skipped"),
        "{summary}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn bisect_finds_the_release_that_dropped_a_module() {
    let dir = scratch("bisect");
    let repro = repro(&dir);
    let builds = "314.0.0,314.0.1,314.0.2,314.0.3,314.0.4,314.0.5,314.0.6,314.0.7";
    let n = builds.split(',').count();
    let out = bisect(&dir, builds, &repro, &["-k", "zoneinfo", "-j", "1"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let ran: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("bisect: ["))
        .collect();
    let bound = (n as f64).log2().ceil() as usize + 2;
    assert!(
        ran.len() <= bound,
        "{} builds run, more than {bound}:\n{stdout}",
        ran.len()
    );
    // Each build it ran, with its verdict.
    assert!(
        ran[0].starts_with(
            "bisect: [1] 314.0.0 (Python 3.14.2, Emscripten 5.0.3): reference (1 test: 1 passed"
        ),
        "{stdout}"
    );
    assert!(ran[1].starts_with("bisect: [2] 314.0.7 (Python 3.14.2, Emscripten 5.0.3): changed: repro/test_releases.py::test_pure_python_zoneinfo passed -> failed"), "{stdout}");
    for l in &ran[2..] {
        assert!(l.ends_with(": same") || l.contains(": changed: "), "{l}");
    }
    let last = stdout.lines().last().unwrap();
    assert_eq!(
        last,
        format!(
            "bisect: {} builds run; the outcomes change between 314.0.2 (Python 3.14.2, Emscripten 5.0.3) and 314.0.3 (Python 3.14.2, Emscripten 5.0.3)",
            ran.len()
        )
    );
    let _ = fs::remove_dir_all(&dir);
}

/// A reproducer whose test needs Python 3.13: `copy.replace` is new in
/// 3.13 (Pyodide 0.26 and 0.27 ship CPython 3.12, 0.28 ships 3.13.2).
fn repro_py313(dir: &Path) -> PathBuf {
    let repro = dir.join("repro313");
    fs::create_dir_all(&repro).unwrap();
    fs::write(
        repro.join("test_py313.py"),
        r#"import copy
from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    x: int
    y: int


def test_copy_replace():
    assert copy.replace(Point(1, 2), y=5) == Point(1, 5)
"#,
    )
    .unwrap();
    repro
}

/// Across every stable release from 0.26.4 to 314.0.7 (28 builds, three
/// CPython minor versions, three Emscripten majors), the bisect finds the
/// release that brought Python 3.13 in at most 8 runs, ends included.
#[test]
fn bisect_finds_the_release_that_brought_python_3_13() {
    let dir = scratch("bisect313");
    let repro = repro_py313(&dir);
    let out = bisect(&dir, "0.26.4..314.0.7", &repro, &["-j", "1"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0], "bisect: 28 builds from 0.26.4 to 314.0.7: at most 7 runs if every build boots",
        "{stdout}"
    );
    let ran: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("bisect: ["))
        .collect();
    assert!(ran.len() <= 8, "{} builds run:\n{stdout}", ran.len());
    assert!(
        ran[0].starts_with(
            "bisect: [1] 0.26.4 (Python 3.12.1, Emscripten 3.1.58): reference (1 test: 0 passed, 1 failed"
        ),
        "{stdout}"
    );
    assert_eq!(
        ran[1],
        "bisect: [2] 314.0.7 (Python 3.14.2, Emscripten 5.0.3): changed: repro313/test_py313.py::test_copy_replace failed -> passed",
        "{stdout}"
    );
    // Every build it ran: on the 3.12 side the same as 0.26.4, on the 3.13
    // and later side changed.
    for l in &ran[2..] {
        let python = l.split("(Python ").nth(1).unwrap_or_default();
        if python.starts_with("3.12.") {
            assert!(l.ends_with(": same"), "{l}");
        } else {
            assert!(
                l.ends_with(
                    ": changed: repro313/test_py313.py::test_copy_replace failed -> passed"
                ),
                "{l}"
            );
        }
    }
    assert_eq!(
        *lines.last().unwrap(),
        format!(
            "bisect: {} builds run; the outcomes change between 0.27.8 (Python 3.12.7, Emscripten 3.1.58) and 0.28.0 (Python 3.13.2, Emscripten 4.0.9)",
            ran.len()
        )
    );
    let _ = fs::remove_dir_all(&dir);
}

/// The releases `compare` runs iniconfig's suite on: the oldest, JS-style
/// exceptions (0.26, 0.27), wasm exceptions with imported tags (0.28,
/// 0.29), and 314 and 315 (exported memory and table).
const COMPARED: &str = "0.23.4,0.26.4,0.27.8,0.28.3,0.29.5,314.0.7,315.0.0-alpha.2";

/// A pure-Python suite (iniconfig's, from its sdist) agrees with Node on
/// every release, test for test. `--capture=sys` goes to pytest under
/// both runtimes: under Node, releases up to 0.27 fail `os.fstat` on an
/// unlinked file (pytest's fd capture), and pytest there collects nothing.
#[test]
fn compare_agrees_with_node_on_each_release() {
    require_node();
    let dir = scratch("compare");
    let out = run(
        &dir,
        &[
            "compare",
            "--pyodide",
            COMPARED,
            "iniconfig",
            "--with",
            "iniconfig==2.3.1",
            "--with",
            "pytest==9.2.0",
            "--known",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/conformance/known-differences.txt"
            ),
            "-j",
            "2",
            "--",
            "--capture=sys",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let n = COMPARED.split(',').count();
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with(&format!("compare: {n} builds: ")))
        .unwrap_or_else(|| panic!("no summary:\n{stdout}"));
    assert_eq!(
        lines[at],
        format!("compare: {n} builds: {n} agree, 0 differ, 0 could not be compared"),
        "{stdout}"
    );
    let rows = &lines[at + 1..];
    assert_eq!(rows.len(), n, "{stdout}");
    for (row, release) in rows.iter().zip(COMPARED.split(',')) {
        let fields: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(fields[0], release, "{stdout}");
        assert_eq!(
            fields[1..].join(" "),
            "54 tests: 54 agree (54 passed), 0 differ, 0 only under wasmtime, 0 only under node (0 known differences)",
            "{stdout}"
        );
    }
    let _ = fs::remove_dir_all(&dir);
}

/// The conformance scripts under both runtimes on releases with
/// Emscripten 3.1's glue, from the oldest to the newest: every difference
/// is listed for its releases, with its reason, in
/// conformance/known-differences.txt.
#[test]
#[ignore = "runs 72 scripts under both runtimes on five releases (about 25 minutes here)"]
fn conformance_scripts_on_older_releases_differ_only_as_known() {
    let dir = scratch("conformance");
    let root = env!("CARGO_MANIFEST_DIR");
    let out = run(
        &dir,
        &[
            "compare",
            "--pyodide",
            "0.23.4,0.24.1,0.25.1,0.26.4,0.27.8",
            "--scripts",
            &format!("{root}/conformance/scripts"),
            "--known",
            &format!("{root}/conformance/known-differences.txt"),
            "-j",
            "2",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("compare: 5 builds: 5 agree, 0 differ, 0 could not be compared"),
        "{stdout}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn bisect_with_no_change_says_so() {
    let dir = scratch("nochange");
    let repro = repro(&dir);
    let out = bisect(&dir, "314.0.3,314.0.5,314.0.6", &repro, &["-k", "zoneinfo"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.lines().last().unwrap().starts_with(
            "bisect: 2 builds run; no change: 314.0.6 (Python 3.14.2, Emscripten 5.0.3) has the outcomes of 314.0.3"
        ),
        "{stdout}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn one_build_commands_refuse_lists_ranges_and_repeated_dists() {
    let dir = scratch("refuse");
    let cases: &[&[&str]] = &[
        &["--pyodide", "314.0.3,314.0.7", "python", "-c", "pass"],
        &["--pyodide", "314.0.3..314.0.7", "msgpack"],
        &["--pyodide", "314.0.3..314.0.7", "test", "msgpack"],
        &["--pyodide", "314.0.3,314.0.7", "cpython", "test_json"],
        &["--pyodide", "314.0.3,314.0.7", "fetch"],
        &["--dist", "a", "--dist", "b", "python", "-c", "pass"],
        &["--dist", "a", "--dist", "b", "imports"],
    ];
    for args in cases {
        let out = run(&dir, args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.contains("runs one build") && err.contains("`matrix`, `bisect` and `compare`"),
            "{args:?}: {err}"
        );
    }
    // matrix and bisect check their lists in one line too.
    for (args, want) in [
        (
            &["matrix", "--pyodide", "314.0.3,,314.0.7", "msgpack"][..],
            "empty item",
        ),
        (
            &["bisect", "--pyodide", "314.0.7", "msgpack"][..],
            "at least two builds",
        ),
        (
            &["bisect", "--pyodide", "314.0.7..314.0.3", "msgpack"][..],
            "comes after",
        ),
    ] {
        let out = run(&dir, args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_package_named_like_a_subcommand_and_a_reproducer_alone() {
    let dir = scratch("names");
    let repro = repro(&dir);
    // A local wheel of a package called `matrix`: `test matrix` runs it.
    let wheel = dir.join("matrix-1.0-py3-none-any.whl");
    {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(fs::File::create(&wheel).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        for (name, text) in [
            ("matrix/__init__.py", "ANSWER = 42\n"),
            (
                "matrix-1.0.dist-info/METADATA",
                "Metadata-Version: 2.1\nName: matrix\nVersion: 1.0\n",
            ),
            (
                "matrix-1.0.dist-info/WHEEL",
                "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            ),
            ("matrix-1.0.dist-info/RECORD", ""),
        ] {
            zip.start_file(name, opts).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
    }
    let tests = dir.join("matrix-tests");
    fs::create_dir_all(&tests).unwrap();
    fs::write(
        tests.join("test_answer.py"),
        "import matrix\n\ndef test_answer():\n    assert matrix.ANSWER == 42\n",
    )
    .unwrap();
    let out = run(
        &dir,
        &[
            "--pyodide",
            "314.0.7",
            "test",
            "matrix",
            "--with",
            wheel.to_str().unwrap(),
            "--tests",
            tests.to_str().unwrap(),
            "--snapshot-dir",
            dir.join("snaps").to_str().unwrap(),
            "--update",
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("matrix  1 test: 1 passed"), "{err}");
    assert!(dir.join("snaps/matrix.json").is_file());
    // The help says how.
    let help = text(&run(&dir, &["--help"]).stdout);
    assert!(help.contains("`pyodide-test test NAME`"), "{help}");

    // `--tests DIR` alone runs the directory's tests as their own suite,
    // named after the directory.
    let out = run(
        &dir,
        &[
            "--pyodide",
            "314.0.7",
            "--tests",
            repro.to_str().unwrap(),
            "--snapshot-dir",
            dir.join("snaps").to_str().unwrap(),
            "--update",
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("repro  3 tests: 2 passed, 1 failed"), "{err}");
    let snap = fs::read_to_string(dir.join("snaps/repro.json")).unwrap();
    assert!(snap.contains("\"repro/test_releases.py::test_pure_python_zoneinfo\": \"failed\""));
    let _ = fs::remove_dir_all(&dir);
}

/// Under Node, pytest up to 0.27 fails after its session when its fd
/// capture is on (`os.fstat` of an unlinked file), having run nothing: the
/// file is an error that says so, never a silent "0 tests".
#[test]
fn a_pytest_that_fails_after_its_session_is_an_error() {
    require_node();
    let dir = scratch("after-session");
    let json = dir.join("out.jsonl");
    let out = run(
        &dir,
        &[
            "--runtime",
            "node",
            "--pyodide",
            "0.27.8",
            "iniconfig",
            "--with",
            "iniconfig==2.3.1",
            "--with",
            "pytest==9.2.0",
            "--json",
            json.to_str().unwrap(),
            "--snapshot-dir",
            dir.join("snap").to_str().unwrap(),
        ],
    );
    let records = fs::read_to_string(&json).unwrap_or_default();
    let errors: Vec<&str> = records
        .lines()
        .filter(|l| l.contains("\"outcome\":\"error\""))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "{records}\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        errors[0].contains("pytest failed after its session"),
        "{}",
        errors[0]
    );
    let _ = fs::remove_dir_all(&dir);
}
