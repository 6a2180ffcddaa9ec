//! Differential conformance tests: every script in `conformance/scripts`
//! runs under `pyodide-test python` and must print exactly what the same
//! Pyodide printed under Node 20 (or native CPython where Node cannot run
//! it), as recorded in `conformance/expected/` by `conformance/generate.sh`.
//!
//! A script NAME.py may have companions: NAME.args (one argument per line),
//! NAME.stdin (fed to stdin), NAME.cmd (the Python arguments to use instead
//! of `NAME.py`, one per line). Known differences are listed, each with its
//! reason, in `conformance/known-differences.txt`: a key `NAME@TEXT`
//! excuses the lines containing TEXT (on either side) and the rest of the
//! script's output is still compared; a key `NAME` excuses the whole
//! script, which is then run and reported as ignored.
//!
//! Package suites run too: each `suite::PACKAGE` trial runs `pyodide-test
//! compare PACKAGE` (the suite under Wasmtime and under Node) and fails on
//! any test whose outcome differs, unless `known-differences.txt` lists it
//! (`PACKAGE::test-id-prefix: reason`). The fast suites run by default; the
//! slow ones (minutes each) only with `-- --include-ignored`. Without `node`
//! on PATH the suite trials are ignored.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use libtest_mimic::{Arguments, Failed, Trial};

use common::suites::{CONSTRAINTS, PYTEST, SUITES, Suite};
use pyodide_test::runner::compare::{Known, first_difference};

#[path = "../tests/common/mod.rs"]
mod common;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

fn run_script(name: &str, known: &Known) -> Result<(), Failed> {
    let scripts = root().join("scripts");
    let expected = root().join("expected");
    let want_out = fs::read(expected.join(format!("{name}.stdout")))
        .map_err(|e| format!("no expected output for {name} (run conformance/generate.sh): {e}"))?;
    let want_status: i32 = fs::read_to_string(expected.join(format!("{name}.status")))
        .map_err(|e| format!("no expected status for {name}: {e}"))?
        .trim()
        .parse()
        .map_err(|e| format!("bad status file for {name}: {e}"))?;

    // The script lives in a scratch directory as the cwd, and is given by a
    // relative name, so that it lands at /home/pyodide/NAME.py in the guest.
    let work = tempdir(name)?;
    fs::copy(
        scripts.join(format!("{name}.py")),
        work.join(format!("{name}.py")),
    )
    .map_err(|e| format!("copying {name}.py: {e}"))?;
    let cmd_file = scripts.join(format!("{name}.cmd"));
    let mut py_args = if cmd_file.is_file() {
        lines(&cmd_file)
    } else {
        vec![format!("{name}.py")]
    };
    py_args.extend(lines(&scripts.join(format!("{name}.args"))));
    let stdin = fs::read(scripts.join(format!("{name}.stdin"))).unwrap_or_default();

    let mut cmd = Command::new(common::exe());
    cmd.args(common::dist_args());
    // Scripts run through NAME.cmd (`-m NAME`, `-c`, stdin) still find
    // NAME.py at /home/pyodide, as the convention says.
    let copy = format!("--copy={name}.py:/home/pyodide/{name}.py");
    let mut child = cmd
        .arg("python")
        .args(cmd_file.is_file().then_some(copy))
        .args(&py_args)
        .current_dir(&work)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting pyodide-test: {e}"))?;
    {
        let mut input = child.stdin.take().expect("piped");
        let _ = input.write_all(&stdin);
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("waiting for pyodide-test: {e}"))?;
    let _ = fs::remove_dir_all(&work);
    let status = out.status.code().unwrap_or(-1);
    let mut problems = Vec::new();
    if status != want_status {
        problems.push(format!("exit status {status}, expected {want_status}"));
    }
    let (want, got) = (
        known.without_excused(name, &String::from_utf8_lossy(&want_out)),
        known.without_excused(name, &String::from_utf8_lossy(&out.stdout)),
    );
    if want != got {
        let (line, w, g, nw, ng) = first_difference(&want, &got);
        problems.push(format!(
            "stdout differs:\n  line {line}:\n  expected: {w:?}\n  got:      {g:?}\n  ({nw} expected lines, {ng} got)"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr
            .lines()
            .rev()
            .take(15)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        Err(format!(
            "{}\n--- stderr (last lines) ---\n{}",
            problems.join("\n"),
            tail.join("\n")
        )
        .into())
    }
}

fn tempdir(name: &str) -> Result<PathBuf, Failed> {
    let dir = std::env::temp_dir().join(format!("pyodide-test-conf-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    Ok(dir)
}

/// `pyodide-test compare PACKAGE --known known-differences.txt`: passes
/// when both runtimes agree apart from the listed differences.
fn compare_suite(suite: &Suite) -> Result<(), Failed> {
    let package = suite.package;
    let mut cmd = Command::new(common::exe());
    cmd.args(common::dist_args())
        .arg("--constraint")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(CONSTRAINTS))
        .args(["compare", package, "-j", "1", "--known"])
        .arg(root().join("known-differences.txt"));
    for w in suite.with.iter().chain(PYTEST) {
        cmd.args(["--with", w]);
    }
    if !suite.pytest_args.is_empty() {
        cmd.arg("--").args(suite.pytest_args);
    }
    let out = cmd
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("starting pyodide-test compare: {e}"))?;
    match out.status.code() {
        Some(0) => Ok(()),
        code => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(10).collect();
            Err(format!(
                "pyodide-test compare {package}: exit status {code:?}\n{}\n--- stderr (last lines) ---\n{}",
                String::from_utf8_lossy(&out.stdout),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            )
            .into())
        }
    }
}

fn node_available() -> bool {
    Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn main() {
    let args = Arguments::from_args();
    let known = Known::load(&root().join("known-differences.txt")).expect("known-differences.txt");
    let node = node_available();
    // The suites first: they are the longest trials.
    let mut trials: Vec<Trial> = SUITES
        .iter()
        .map(|suite| {
            Trial::test(format!("suite::{}", suite.package), move || {
                compare_suite(suite)
            })
            // Slow suites run with --include-ignored.
            .with_ignored_flag(!node || suite.slow)
        })
        .collect();
    let mut names: Vec<String> = fs::read_dir(root().join("scripts"))
        .expect("conformance/scripts")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let p = e.path();
            (p.extension().is_some_and(|x| x == "py"))
                .then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    trials.extend(names.into_iter().map(|name| {
        let ignored = known.script(&name).is_some();
        let (n, k) = (name.clone(), known.clone());
        Trial::test(name, move || run_script(&n, &k)).with_ignored_flag(ignored)
    }));
    libtest_mimic::run(&args, trials).exit();
}
