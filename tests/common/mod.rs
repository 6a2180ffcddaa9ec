//! Shared by the integration tests: the real binary, and the Pyodide dist
//! it runs (`PYODIDE_DIST` if set, else the default release fetched and
//! compiled once into the tool's cache by `pyodide-test fetch`).

#![allow(dead_code)]

pub mod local_suite;
pub mod side_module;
pub mod suites;

use std::ffi::OsString;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The `pyodide-test` binary under test.
pub fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_pyodide-test")
}

/// Arguments that select the dist (`--dist DIR` or nothing). The first
/// call makes sure the release is fetched and compiled, once.
pub fn dist_args() -> Vec<OsString> {
    static READY: OnceLock<Vec<OsString>> = OnceLock::new();
    READY
        .get_or_init(|| {
            let args: Vec<OsString> = match std::env::var_os("PYODIDE_DIST") {
                Some(d) => vec!["--dist".into(), d],
                None => Vec::new(),
            };
            let out = Command::new(exe())
                .args(&args)
                .arg("fetch")
                .output()
                .expect("running pyodide-test fetch");
            assert!(
                out.status.success(),
                "pyodide-test fetch failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            args
        })
        .clone()
}

/// Run `pyodide-test python ARGS` with `stdin`, in `cwd` (or a temp dir).
pub fn python(args: &[&str], stdin: &[u8], cwd: Option<&std::path::Path>) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(exe());
    cmd.args(dist_args()).arg("python").args(args);
    cmd.current_dir(
        cwd.map(|p| p.to_path_buf())
            .unwrap_or_else(std::env::temp_dir),
    );
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning pyodide-test");
    child.stdin.take().unwrap().write_all(stdin).ok();
    child.wait_with_output().expect("waiting for pyodide-test")
}

/// A file at `to` that is `from`: linked, or copied where it cannot be.
pub fn link_or_copy(from: &std::path::Path, to: &std::path::Path) {
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to).unwrap();
    }
}

/// `from`'s tree at `to`, files linked or copied.
pub fn link_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).into_iter().flatten().flatten() {
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            link_tree(&path, &dest);
        } else if entry.file_type().unwrap().is_file() {
            link_or_copy(&path, &dest);
        }
    }
}

/// The tool's cache the tests share (`PYODIDE_TEST_CACHE`, or the
/// default).
pub fn default_cache() -> std::path::PathBuf {
    match std::env::var_os("PYODIDE_TEST_CACHE") {
        Some(d) => d.into(),
        None => {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/pyodide-test")
        }
    }
}
