//! `pyodide-test cpython`: a handful of CPython's own test modules against
//! the committed snapshot (`cpython-tests/snapshots/`), including one whose
//! test traps (the module goes on in a fresh guest), and the bad inputs.
//! The whole suite is `pyodide-test cpython -j 2` (see the README), or
//! `cargo test --test cpython -- --include-ignored`.

mod common;

use std::process::{Command, Output, Stdio};

use common::{dist_args, exe};

/// The modules the default test run checks: small, and `test_peepholer`
/// traps in four tests (3.14.10's regression tests for compiler fixes made
/// after 3.14.2; these trap the same way every run, unlike `test_json`'s,
/// whose trap follows the heap's layout).
const HANDFUL: &[&str] = &[
    "test_peepholer",
    "test_textwrap",
    "test_struct",
    "test_list",
    "test_bool",
    "test_int",
];

fn cpython(args: &[&str]) -> Output {
    Command::new(exe())
        .args(dist_args())
        .arg("cpython")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .output()
        .expect("running pyodide-test cpython")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_handful_of_modules_match_the_snapshot() {
    let json = std::env::temp_dir().join(format!("pt-cpython-{}.jsonl", std::process::id()));
    let mut args: Vec<&str> = HANDFUL.to_vec();
    let json_arg = json.to_string_lossy().into_owned();
    args.extend(["-j", "2", "--json", &json_arg]);
    let out = cpython(&args);
    let all = text(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "outcomes differ from cpython-tests/snapshots (a newer Lib/test from Debian needs \
         `pyodide-test cpython --update`):\n{all}"
    );
    let records = std::fs::read_to_string(&json).unwrap();
    let _ = std::fs::remove_file(&json);
    // The traps are recorded for their tests, and the module went on
    // after each (in a fresh guest, resumed after the trapping test).
    let lines: Vec<&str> = records.lines().collect();
    let crash = lines
        .iter()
        .position(|l| l.contains("test.test_peepholer.") && l.contains("\"crashed\""))
        .expect("a crashed record in test_peepholer");
    assert!(
        lines[crash + 1..]
            .iter()
            .any(|l| l.contains("test.test_peepholer.") && l.contains("\"passed\"")),
        "test_peepholer went on after the trap"
    );
    let crashes = lines
        .iter()
        .filter(|l| l.contains("test.test_peepholer.") && l.contains("\"crashed\""))
        .count();
    assert_eq!(crashes, 4, "test_peepholer's four traps");
    let peepholer_tests = lines
        .iter()
        .filter(|l| l.contains("\"id\":\"test.test_peepholer."))
        .count();
    assert!(
        peepholer_tests > 100,
        "{peepholer_tests} test_peepholer records"
    );
    assert!(records.contains("\"package\":\"cpython\""));
}

/// A job's guest starts with the descriptors a fresh guest has: the
/// zygote that forks it leaves none open (its look for the suite's
/// distribution once left the stdlib's zip open, held by
/// importlib.metadata's cache, and test_os's closerange tests, which need
/// two consecutive free descriptors, skipped themselves).
#[test]
fn a_jobs_guest_has_no_descriptor_a_fresh_guest_lacks() {
    let json = std::env::temp_dir().join(format!("pt-cpython-fd-{}.jsonl", std::process::id()));
    let json_arg = json.to_string_lossy().into_owned();
    let out = cpython(&["test_os", "-k", "closerange", "--json", &json_arg]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let records = std::fs::read_to_string(&json).unwrap();
    let _ = std::fs::remove_file(&json);
    for id in [
        "test.test_os.FileTests.test_closerange",
        "test.test_os.TestInvalidFD.test_closerange",
    ] {
        let line = records
            .lines()
            .find(|l| l.contains(&format!("\"id\":\"{id}\"")))
            .unwrap_or_else(|| panic!("no record of {id}:\n{records}"));
        assert!(line.contains("\"outcome\":\"passed\""), "{line}");
    }
}

/// Tests the plan isolates run each alone in a guest: the guest ends
/// before one (when it has run another test) and after it, and the module
/// goes on in a fresh guest. A module of three tests, each leaving a mark
/// in `builtins` and checking for the others', run without and with the
/// isolation of the middle one; and a change of an isolated test's outcome
/// is noted apart, not counted.
#[test]
fn isolated_tests_run_alone_in_their_guest() {
    // Lib/test's `support` and `libregrtest`, from the tree the tool fetched.
    let out = cpython(&["test_bool"]);
    let all = text(&out);
    let tree = all
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix("pyodide-test: cpython: Lib/test ")?;
            let open = rest.find(" (")?;
            let close = rest.find("): ")?;
            Some(std::path::PathBuf::from(&rest[open + 2..close]))
        })
        .unwrap_or_else(|| panic!("no Lib/test path in:\n{all}"));
    let scratch = std::env::temp_dir().join(format!("pt-cpython-iso-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let lib_test = scratch.join("lib/python3.14/test");
    for dir in ["support", "libregrtest"] {
        copy_dir(&tree.join(dir), &lib_test.join(dir));
    }
    std::fs::write(lib_test.join("__init__.py"), "").unwrap();
    std::fs::write(
        lib_test.join("test_zz_isolated.py"),
        "import builtins, unittest\n\
         def marks():\n    return getattr(builtins, '_pt_marks', '')\n\
         class T(unittest.TestCase):\n\
         \x20   def test_a(self):\n        builtins._pt_marks = marks() + 'a'\n\
         \x20   def test_b(self):\n        seen = marks()\n        builtins._pt_marks = seen + 'b'\n        self.assertEqual(seen, '')\n\
         \x20   def test_c(self):\n        self.assertEqual(marks(), '')\n",
    )
    .unwrap();
    let plain = scratch.join("plain.toml");
    std::fs::write(&plain, "").unwrap();
    let isolating = scratch.join("isolating.toml");
    std::fs::write(
        &isolating,
        "[[isolate]]\nmodule = \"test_zz_isolated\"\ntests = [\"test.test_zz_isolated.T.test_b\"]\nreason = \"r\"\n",
    )
    .unwrap();
    let snapshots = scratch.join("snapshots");
    let run = |plan: &std::path::Path, update: bool| {
        let json = scratch.join("out.jsonl");
        let mut args = vec![
            "--cpython-tests".to_string(),
            lib_test.to_string_lossy().into_owned(),
            "--plan".into(),
            plan.to_string_lossy().into_owned(),
            "--snapshot-dir".into(),
            snapshots.to_string_lossy().into_owned(),
            "--json".into(),
            json.to_string_lossy().into_owned(),
            "test_zz_isolated".into(),
        ];
        if update {
            args.push("--update".into());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = cpython(&refs);
        let records = std::fs::read_to_string(&json).unwrap_or_default();
        let outcome = |name: &str| {
            records
                .lines()
                .find(|l| l.contains(&format!("T.{name}\"")))
                .and_then(|l| l.split("\"outcome\":\"").nth(1))
                .and_then(|r| r.split('"').next())
                .unwrap_or("none")
                .to_string()
        };
        (
            out,
            [outcome("test_a"), outcome("test_b"), outcome("test_c")],
        )
    };
    // Without the isolation, one guest runs all three.
    let (out, outcomes) = run(&plain, true);
    assert_eq!(outcomes, ["passed", "failed", "failed"], "{}", text(&out));
    // With it, test_b starts in a fresh guest and test_c in another.
    let (out, outcomes) = run(&isolating, false);
    assert_eq!(outcomes, ["passed", "passed", "passed"], "{}", text(&out));
    let said = text(&out);
    // test_b's change is noted apart; test_c's counts.
    assert!(
        said.contains("note: 1 test of cpython whose outcome follows the memory layout"),
        "{said}"
    );
    assert!(
        said.contains("NEWLY PASSING  cpython  test.test_zz_isolated.T.test_c"),
        "{said}"
    );
    assert!(
        !said.contains("NEWLY PASSING  cpython  test.test_zz_isolated.T.test_b"),
        "{said}"
    );
    assert_eq!(out.status.code(), Some(1), "{said}");
    let _ = std::fs::remove_dir_all(&scratch);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

/// The same modules give the same outcomes under Node (the reference),
/// traps included.
#[test]
fn node_gives_the_snapshot_outcomes() {
    let json = std::env::temp_dir().join(format!("pt-cpython-node-{}.jsonl", std::process::id()));
    let json_arg = json.to_string_lossy().into_owned();
    let out = Command::new(exe())
        .args(dist_args())
        .args([
            "--runtime",
            "node",
            "cpython",
            "test_bool",
            "test_peepholer",
        ])
        .args(["--json", &json_arg])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .output()
        .expect("running pyodide-test --runtime node cpython");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let records = std::fs::read_to_string(&json).unwrap();
    let _ = std::fs::remove_file(&json);
    let passed = records.lines().filter(|l| l.contains("\"passed\"")).count();
    assert!(passed > 100, "{passed} passed under Node:\n{all}");
}

#[test]
#[ignore = "the whole suite: tens of minutes; run with -- --include-ignored"]
fn the_whole_suite_matches_the_snapshot() {
    let out = cpython(&["-j", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    let dir = std::env::temp_dir().join(format!("pt-cpython-bad-{}", std::process::id()));
    let lib_test = dir.join("usr/lib/python3.9/test");
    for pkg in ["", "support", "libregrtest"] {
        std::fs::create_dir_all(lib_test.join(pkg)).unwrap();
        std::fs::write(lib_test.join(pkg).join("__init__.py"), "").unwrap();
    }
    let other_python = lib_test.to_string_lossy().into_owned();
    for (args, needle) in [
        (vec!["test_no_such_module"], "is not a test module"),
        (
            vec!["--cpython-tests", other_python.as_str()],
            "is the Lib/test of CPython 3.9",
        ),
    ] {
        let out = cpython(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
