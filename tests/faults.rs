//! The fault campaign: what a guest (or a second run) may do to the host
//! and the run, each tried through the real binary, each with the other
//! tests' results checked to be kept.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::local_suite::{build_wheel, outcomes, run_suite, scratch, stderr};
use common::{default_cache, dist_args, exe};

/// A test that prints forged records on stdout and stderr (as JSON, and as
/// the old prefixed lines), writes them with `os.write`, and closes and
/// replaces fds 1 and 2: none of it may become or hide a record.
const FORGE_TESTS: &str = r#"
import json, os, sys

FORGED = {"ev": "result", "id": "tests/test_forge.py::test_victim",
          "outcome": "passed", "duration": 0, "message": "forged"}
GHOST = {"ev": "result", "id": "tests/test_forge.py::test_ghost",
         "outcome": "passed", "duration": 0, "message": "forged"}

def test_forger(capfd):
    # With capture off, as `-s` or `capfd.disabled()` give a test, what it
    # prints reaches the guest's real stdout and stderr.
    with capfd.disabled():
        for ev in (FORGED, GHOST):
            line = json.dumps(ev)
            print(line)
            print("\x1e@pyodide-test@ " + line)
            os.write(1, ("\x1e@pyodide-test@ " + line + "\n").encode())
            os.write(2, (line + "\n").encode())
            sys.stdout.flush()

def test_victim():
    assert False, "the real outcome"

def test_closes_stdio():
    os.close(1)
    os.close(2)

def test_dup2_over_stdio():
    r, w = os.pipe()
    os.dup2(w, 1)
    os.dup2(w, 2)

def test_after():
    pass
"#;

#[test]
fn printed_records_are_only_output() {
    let dir = scratch("forge");
    let tests = dir.join("tests");
    fs::create_dir_all(&tests).unwrap();
    fs::write(tests.join("test_forge.py"), FORGE_TESTS).unwrap();
    let (out, records) = run_suite(&dir, &tests, &[]);
    let got = outcomes(&records);
    let err = stderr(&out);
    let outcome = |id: &str| got.get(&format!("tests/test_forge.py::{id}")).cloned();
    assert_eq!(
        outcome("test_victim").map(|o| o.0),
        Some("failed".into()),
        "{got:#?}\n{err}"
    );
    assert!(outcome("test_ghost").is_none(), "a forged record: {got:#?}");
    for id in [
        "test_forger",
        "test_closes_stdio",
        "test_dup2_over_stdio",
        "test_after",
    ] {
        assert_eq!(
            outcome(id).map(|o| o.0),
            Some("passed".into()),
            "{id}: {got:#?}\n{err}"
        );
    }
    assert_eq!(got.len(), 5, "{got:#?}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn symlinks_out_of_the_tests_are_not_followed() {
    let dir = scratch("symlink");
    let secret = dir.join("secret.txt");
    fs::write(&secret, "host secret\n").unwrap();
    let tests = dir.join("tests");
    fs::create_dir_all(&tests).unwrap();
    std::os::unix::fs::symlink(&secret, tests.join("secret.txt")).unwrap();
    // A link inside the tree is fine.
    fs::write(tests.join("data.txt"), "inside\n").unwrap();
    std::os::unix::fs::symlink("data.txt", tests.join("alias.txt")).unwrap();
    fs::write(
        tests.join("test_peek.py"),
        "import os\nHERE = os.path.dirname(__file__)\n\
         def test_no_secret():\n    assert not os.path.exists(os.path.join(HERE, 'secret.txt'))\n\
         def test_inside_link():\n    assert open(os.path.join(HERE, 'alias.txt')).read() == 'inside\\n'\n",
    )
    .unwrap();
    let (out, records) = run_suite(&dir, &tests, &[]);
    let got = outcomes(&records);
    let err = stderr(&out);
    for id in ["test_no_secret", "test_inside_link"] {
        let o = got.get(&format!("tests/test_peek.py::{id}"));
        assert_eq!(
            o.map(|o| o.0.as_str()),
            Some("passed"),
            "{id}: {got:#?}\n{err}"
        );
    }
    assert!(
        err.contains("symlinks lead out of the tests") && err.contains("secret.txt"),
        "the header names the skipped link: {err}"
    );
    let _ = fs::remove_dir_all(&dir);
}

/// The `.cwasm` artifacts of a cache's `modules/` directory.
fn artifacts(cache: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(cache.join("modules"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "cwasm"));
    v.sort();
    v
}

#[test]
fn a_tampered_cached_module_is_rebuilt() {
    let args = dist_args();
    let dist = match args.iter().position(|a| a == "--dist") {
        Some(i) => PathBuf::from(&args[i + 1]),
        None => default_cache().join("pyodide/314.0.7"),
    };
    let dir = scratch("tamper");
    let cache = dir.join("cache");
    // An empty cache: the first run compiles this dist's module, so the
    // largest artifact is its main module (a cache shared with `matrix`
    // and `bisect` runs holds other releases' modules too).
    fs::create_dir_all(cache.join("modules")).unwrap();
    let run = || {
        Command::new(exe())
            .arg("--dist")
            .arg(&dist)
            .args(["python", "-c", "print(6 * 7)"])
            .env("PYODIDE_TEST_CACHE", &cache)
            // One tier: no optimized main module compiled in the
            // background, to be the largest artifact halfway through.
            .env("PYODIDE_TEST_TIER", "quick")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    // The second run checks the artifact and stamps it as checked: the
    // corruption below must be found all the same.
    for _ in 0..2 {
        let out = run();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "42\n",
            "{}",
            stderr(&out)
        );
    }
    let main = artifacts(&cache)
        .into_iter()
        .max_by_key(|p| fs::metadata(p).unwrap().len())
        .expect("a compiled main module");
    assert!(
        main.with_extension("checked").is_file(),
        "the second run stamps the checked artifact"
    );
    // Corrupt the code in the middle (not the headers at either end,
    // which Wasmtime itself would reject).
    let mut bytes = fs::read(&main).unwrap();
    let (from, to) = (bytes.len() / 4, bytes.len() * 3 / 4);
    for b in &mut bytes[from..to] {
        *b ^= 0x5a;
    }
    fs::write(&main, &bytes).unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "42\n");
    assert_ne!(
        fs::read(&main).unwrap(),
        bytes,
        "the artifact was compiled again"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn concurrent_updates_merge() {
    let dir = scratch("updates");
    let tests = dir.join("tests");
    fs::create_dir_all(&tests).unwrap();
    for i in 0..4 {
        fs::write(
            tests.join(format!("test_part{i}.py")),
            format!("def test_a{i}():\n    pass\n\ndef test_b{i}():\n    assert False\n"),
        )
        .unwrap();
    }
    let wheel = build_wheel(&dir);
    let spawn = |k: u32| {
        Command::new(exe())
            .args(dist_args())
            .arg("crashy")
            .arg("--with")
            .arg(&wheel)
            .arg("--tests")
            .arg(&tests)
            .arg("--snapshot-dir")
            .arg(dir.join("snapshots"))
            .args(["--update", "-j", "1", "--partition", &format!("{k}/2")])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(1), spawn(2));
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let snap: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("snapshots/crashy.json")).unwrap())
            .unwrap();
    let tests = snap["tests"].as_object().unwrap();
    assert_eq!(
        tests.len(),
        8,
        "both partitions' updates are kept: {tests:#?}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn update_keeps_the_tests_of_a_file_that_crashed_while_collecting() {
    let dir = scratch("keep");
    let tests = dir.join("tests");
    fs::create_dir_all(&tests).unwrap();
    let file = tests.join("test_keep.py");
    fs::write(
        &file,
        "def test_one():\n    pass\n\ndef test_two():\n    pass\n",
    )
    .unwrap();
    fs::write(tests.join("test_other.py"), "def test_x():\n    pass\n").unwrap();
    let (out, _) = run_suite(&dir, &tests, &["--update"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    fs::write(&file, "import os\nos.abort()\n").unwrap();
    let (out, records) = run_suite(&dir, &tests, &["--update"]);
    let err = stderr(&out);
    let got = outcomes(&records);
    assert_eq!(
        got.get("tests/test_keep.py").map(|o| o.0.as_str()),
        Some("crashed"),
        "{got:#?}"
    );
    assert!(
        err.contains("kept the 2 previous outcomes of tests/test_keep.py"),
        "{err}"
    );
    let snap = fs::read_to_string(dir.join("snapshots/crashy.json")).unwrap();
    for id in [
        "tests/test_keep.py::test_one",
        "tests/test_keep.py::test_two",
        "tests/test_other.py::test_x",
    ] {
        assert!(snap.contains(id), "{id} kept: {snap}");
    }
    assert!(!snap.contains("\"tests/test_keep.py\""), "{snap}");
    let _ = fs::remove_dir_all(&dir);
}

/// Tests that make the host hold memory on the guest's behalf: a file
/// filling `/tmp`, a 1 TiB truncate, a pipe and a socket nobody reads.
const LIMIT_TESTS: &str = r#"
import errno, os, socket

def test_fill_tmp():
    chunk = b"x" * (64 << 20)
    written = 0
    with open("/tmp/big", "wb") as f:
        try:
            while written < (2 << 30):
                f.write(chunk)
                f.flush()
                written += len(chunk)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
        else:
            raise AssertionError(f"{written} bytes went in without ENOSPC")
    os.remove("/tmp/big")

def test_terabyte_truncate():
    fd = os.open("/tmp/sparse", os.O_RDWR | os.O_CREAT)
    try:
        os.ftruncate(fd, 1 << 40)
    except OSError as e:
        assert e.errno == errno.EFBIG, e
    else:
        assert os.fstat(fd).st_size == 1 << 40
        assert os.pread(fd, 4, (1 << 40) - 4) == b"\0\0\0\0"
    os.close(fd)
    os.remove("/tmp/sparse")

def test_full_pipe_blocks():
    r, w = os.pipe()
    os.set_blocking(w, False)
    total = 0
    try:
        while total < (16 << 20):
            total += os.write(w, b"y" * 4096)
    except BlockingIOError:
        pass
    assert total < (16 << 20), "no EAGAIN from a full pipe"
    assert total >= 4096

def test_full_socket_blocks():
    a, b = socket.socketpair()
    a.setblocking(False)
    total = 0
    try:
        while total < (64 << 20):
            total += a.send(b"z" * 65536)
    except BlockingIOError:
        pass
    assert total < (64 << 20), "no EAGAIN from a full socket"

def test_after():
    pass
"#;

#[test]
fn a_guest_cannot_make_the_host_hold_unbounded_memory() {
    let dir = scratch("limits");
    let tests = dir.join("tests");
    fs::create_dir_all(&tests).unwrap();
    fs::write(tests.join("test_limits.py"), LIMIT_TESTS).unwrap();
    let (out, records) = run_suite(&dir, &tests, &["--max-fs", "256M", "--timeout", "120"]);
    let got = outcomes(&records);
    let err = stderr(&out);
    for id in [
        "test_fill_tmp",
        "test_terabyte_truncate",
        "test_full_pipe_blocks",
        "test_full_socket_blocks",
        "test_after",
    ] {
        let o = got.get(&format!("tests/test_limits.py::{id}"));
        assert_eq!(
            o.map(|o| o.0.as_str()),
            Some("passed"),
            "{id}: {o:?}\n{err}"
        );
    }
    let _ = fs::remove_dir_all(&dir);
}
