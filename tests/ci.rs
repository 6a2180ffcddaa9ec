//! The nightly workflow of `docs/ci.md`, exercised as far as it can be
//! here: its `env` values and the scripts of its `Run partition` and
//! `Merge the partitions` steps are read from the file and run with bash,
//! one process per partition (`PART` = 1..`PARTS`), the parts handed to
//! the merge script as the artifacts would be; the merged report must equal
//! the same command run without `--partition`, test for test, and so must
//! its exit status, JUnit and summary.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{dist_args, exe};

/// The YAML block of docs/ci.md.
fn workflow() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let doc = fs::read_to_string(root.join("docs/ci.md")).expect("docs/ci.md");
    let start = doc
        .find("```yaml\n")
        .expect("a ```yaml block in docs/ci.md")
        + 8;
    let end = doc[start..].find("\n```").expect("the block's end") + start;
    doc[start..end].to_string()
}

/// The top-level `env:` of the workflow (one-line values).
fn top_env(yaml: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut inside = false;
    for line in yaml.lines() {
        if line == "env:" {
            inside = true;
            continue;
        }
        if inside {
            if !line.starts_with("  ") && !line.trim().is_empty() {
                break;
            }
            let t = line.trim();
            if t.starts_with('#') || t.is_empty() {
                continue;
            }
            let (k, v) = t.split_once(':').expect("KEY: value");
            out.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
        }
    }
    out
}

/// The `run: |` script of the step named `name`, dedented.
fn step_script(yaml: &str, name: &str) -> String {
    let lines: Vec<&str> = yaml.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == format!("- name: {name}"))
        .unwrap_or_else(|| panic!("no step {name:?} in docs/ci.md"));
    let run = (at..lines.len())
        .find(|&i| lines[i].trim() == "run: |")
        .expect("a `run: |` script");
    let indent = lines[run].len() - lines[run].trim_start().len();
    let mut script = String::new();
    for l in &lines[run + 1..] {
        let i = l.len() - l.trim_start().len();
        if !l.trim().is_empty() && i <= indent {
            break;
        }
        script.push_str(l.get(indent + 2..).unwrap_or("").trim_end());
        script.push('\n');
    }
    script
}

/// The binary's directory, first on PATH (the workflow calls `pyodide-test`).
fn path_with_binary() -> String {
    let bin = Path::new(exe()).parent().unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Run a step's script with bash in `dir` with the workflow's env.
fn run_script(dir: &Path, script: &str, env: &BTreeMap<String, String>) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("PATH", path_with_binary())
        .env("GITHUB_STEP_SUMMARY", dir.join("step-summary.md"))
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("running bash")
}

/// id -> outcome of a JSON Lines report, and its summary object.
fn read_report(path: &Path) -> (BTreeMap<String, String>, serde_json::Value) {
    let text = fs::read_to_string(path).unwrap_or_else(|_| panic!("{} exists", path.display()));
    let mut tests = BTreeMap::new();
    let mut summary = serde_json::Value::Null;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(s) = v.get("summary") {
            summary = s.clone();
        } else {
            tests.insert(
                v["id"].as_str().unwrap().to_string(),
                v["outcome"].as_str().unwrap().to_string(),
            );
        }
    }
    (tests, summary)
}

#[test]
fn the_workflow_partitions_merge_to_the_whole_run() {
    // The release is fetched and compiled once (and the dist used).
    let dist = dist_args();
    assert!(
        dist.is_empty(),
        "the workflow runs the default release; unset PYODIDE_DIST for this test"
    );
    let yaml = workflow();
    let mut env = top_env(&yaml);
    // The workflow's cache location is the CI workspace's; here the
    // machine's cache serves.
    env.remove("PYODIDE_TEST_CACHE");
    if let Ok(cache) = std::env::var("PYODIDE_TEST_CACHE") {
        env.insert("PYODIDE_TEST_CACHE".into(), cache);
    }
    let parts: u32 = env["PARTS"].parse().expect("PARTS is a number");
    assert!(parts >= 2, "the workflow partitions the suite");
    let matrix_line = format!(
        "part: [{}]",
        (1..=parts)
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(yaml.contains(&matrix_line), "the job matrix lists 1..PARTS");
    let run_part = step_script(&yaml, "Run partition");
    let merge = step_script(&yaml, "Merge the partitions");
    assert!(run_part.contains("--partition \"$PART/$PARTS\""));

    // A checkout: the constraints file and the committed snapshots.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("pyodide-test-ci-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("tests")).unwrap();
    fs::create_dir_all(dir.join("parts")).unwrap();
    fs::copy(
        root.join("tests/constraints.txt"),
        dir.join("tests/constraints.txt"),
    )
    .unwrap();
    let snaps = dir.join("snapshots/pyodide-314.0.7");
    fs::create_dir_all(&snaps).unwrap();
    fs::copy(
        root.join("snapshots/pyodide-314.0.7/msgpack.json"),
        snaps.join("msgpack.json"),
    )
    .unwrap();

    // The partitions, one process each, as the matrix jobs run them.
    let mut total = 0;
    for k in 1..=parts {
        let mut e = env.clone();
        e.insert("PART".into(), k.to_string());
        let out = run_script(&dir, &run_part, &e);
        assert!(
            out.status.success(),
            "partition {k}/{parts} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let part = dir.join(format!("part-{k}.jsonl"));
        let (tests, summary) = read_report(&part);
        assert!(!tests.is_empty(), "partition {k} ran no test");
        assert_eq!(summary["partition"], format!("{k}/{parts}"));
        total += tests.len();
        // The artifacts: every part-K.jsonl lands in parts/.
        fs::rename(&part, dir.join(format!("parts/part-{k}.jsonl"))).unwrap();
    }
    let step_summary = fs::read_to_string(dir.join("step-summary.md")).unwrap();
    assert_eq!(
        step_summary.matches("### pyodide-test: no changes").count(),
        parts as usize,
        "{step_summary}"
    );

    let merged = run_script(&dir, &merge, &env);
    let merge_err = String::from_utf8_lossy(&merged.stderr);

    // The same command, whole: the partition flag taken out.
    let whole_script = run_part
        .replace("--partition \"$PART/$PARTS\"", "")
        .replace("part-$PART", "whole");
    let mut e = env.clone();
    e.insert("PART".into(), "0".into());
    let whole = run_script(&dir, &whole_script, &e);
    assert!(
        whole.status.success(),
        "the whole run failed:\n{}",
        String::from_utf8_lossy(&whole.stderr)
    );
    let (whole_tests, whole_summary) = read_report(&dir.join("whole.jsonl"));
    let (merged_tests, merged_summary) = read_report(&dir.join("merged.jsonl"));
    assert_eq!(total, whole_tests.len(), "the parts overlap or miss tests");
    assert_eq!(
        merged_tests, whole_tests,
        "merge differs from the whole run"
    );
    for key in ["passed", "failed", "skipped", "error", "crashed", "total"] {
        assert_eq!(merged_summary[key], whole_summary[key], "{key}");
    }
    assert_eq!(merged_summary["build"], "pyodide-314.0.7");
    // Both compared with the same committed snapshot: unchanged.
    assert_eq!(merged.status.code(), Some(0), "merge: {merge_err}");
    assert!(
        merge_err.contains("No changes against the snapshots in snapshots/pyodide-314.0.7/"),
        "{merge_err}"
    );
    let junit = fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), whole_tests.len());
    let summary = fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        summary.starts_with("### pyodide-test: no changes"),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("| msgpack | {} |", whole_tests.len())),
        "{summary}"
    );

    // A changed snapshot fails the merge (the nightly signal).
    let snap = fs::read_to_string(snaps.join("msgpack.json")).unwrap();
    let (id, _) = whole_tests
        .iter()
        .find(|(_, o)| *o == "passed")
        .expect("a passing test");
    let line = format!("{}: \"passed\"", serde_json::to_string(id).unwrap());
    assert!(snap.contains(&line), "{id} in the snapshot");
    fs::write(
        snaps.join("msgpack.json"),
        snap.replace(&line, &line.replace("passed", "failed")),
    )
    .unwrap();
    let merged = run_script(&dir, &merge, &env);
    assert_eq!(merged.status.code(), Some(1));
    let summary = fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        summary.starts_with("### pyodide-test: 1 change"),
        "{summary}"
    );
    assert!(summary.contains("| newly passing | msgpack |"), "{summary}");
    let _ = fs::remove_dir_all(&dir);
}
