//! A small local suite run through the real binary: a pure-Python wheel
//! `crashy`, test files written by the test, the `--json` report read back.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::{dist_args, exe};

/// A fresh directory under the system temp dir.
pub fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("pyodide-test-runner-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A pure-Python wheel `crashy-1.0-py3-none-any.whl` in `dir`.
pub fn build_wheel(dir: &Path) -> PathBuf {
    build_named_wheel(dir, "crashy", &[("crashy/__init__.py", b"VALUE = 42\n")])
}

/// A wheel `NAME-1.0-py3-none-any.whl` in `dir`: `files` (path in the
/// wheel, contents) and its metadata, which names `NAME` its top-level
/// package.
pub fn build_named_wheel(dir: &Path, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let path = dir.join(format!("{name}-1.0-py3-none-any.whl"));
    let mut zip = zip::ZipWriter::new(fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    let info = format!("{name}-1.0.dist-info");
    let metadata = [
        (
            format!("{info}/METADATA"),
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"),
        ),
        (
            format!("{info}/WHEEL"),
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                .to_string(),
        ),
        (format!("{info}/top_level.txt"), format!("{name}\n")),
        (format!("{info}/RECORD"), String::new()),
    ];
    let metadata = metadata.iter().map(|(p, t)| (p.as_str(), t.as_bytes()));
    for (entry, bytes) in files.iter().copied().chain(metadata) {
        zip.start_file(entry, opts).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    path
}

/// Run the suite of `crashy` with the tests in `tests`.
pub fn run_suite(dir: &Path, tests: &Path, extra: &[&str]) -> (Output, Vec<serde_json::Value>) {
    run_suite_with(dir, tests, extra, &[])
}

/// [`run_suite`] with more environment variables for the runner.
pub fn run_suite_with(
    dir: &Path,
    tests: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Output, Vec<serde_json::Value>) {
    let wheel = build_wheel(dir);
    run_package(dir, "crashy", &wheel, tests, extra, env)
}

/// Run the suite of `package`, installed from `wheel`, with the tests in
/// `tests`: the output and the records of the `--json` report.
pub fn run_package(
    dir: &Path,
    package: &str,
    wheel: &Path,
    tests: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Output, Vec<serde_json::Value>) {
    let json = dir.join("out.jsonl");
    let out = Command::new(exe())
        .args(dist_args())
        .arg(package)
        .arg("--with")
        .arg(wheel)
        .arg("--tests")
        .arg(tests)
        .arg("--json")
        .arg(&json)
        .arg("--snapshot-dir")
        .arg(dir.join("snapshots"))
        .args(extra)
        .current_dir(dir)
        // Says when each zygote has booted (on stderr).
        .env("PYODIDE_TEST_TIMING", "1")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("running pyodide-test");
    let text = fs::read_to_string(&json).unwrap_or_default();
    let records = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    (out, records)
}

/// id -> (outcome, message) of the test records.
pub fn outcomes(records: &[serde_json::Value]) -> BTreeMap<String, (String, String)> {
    records
        .iter()
        .filter(|r| r.get("id").is_some())
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                (
                    r["outcome"].as_str().unwrap().to_string(),
                    r["message"].as_str().unwrap_or("").to_string(),
                ),
            )
        })
        .collect()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
