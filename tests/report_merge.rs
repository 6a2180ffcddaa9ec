//! `pyodide-test merge`: exit statuses and files, through the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "pyodide-test-merge-cli-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn merge(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pyodide-test"))
        .arg("merge")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn part(dir: &Path, name: &str, k: u32, id: &str, outcome: &str) {
    let file = id.split("::").next().unwrap();
    let text = format!(
        concat!(
            r#"{{"package":"pkg","id":"{id}","outcome":"{outcome}","duration":0.5,"message":"why"}}"#,
            "\n",
            r#"{{"summary":{{"{outcome}":1,"total":1,"duration":1.5,"interrupted":false,"partition":"{k}/2","filtered":false,"#,
            r#""packages":{{"pkg":{{"{outcome}":1,"files_done":["{file}"]}}}}}}}}"#,
            "\n"
        ),
        id = id,
        outcome = outcome,
        k = k,
        file = file
    );
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn merge_statuses_and_files() {
    let dir = scratch("statuses");
    part(&dir, "a.jsonl", 1, "a.py::x", "passed");
    part(&dir, "b.jsonl", 2, "b.py::y", "failed");

    // No snapshot yet: changed.
    let out = merge(
        &dir,
        &[
            "a.jsonl",
            "b.jsonl",
            "--json",
            "all.jsonl",
            "--junit",
            "all.xml",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("NO SNAPSHOT"), "{stderr}");
    assert!(stderr.contains("--update"), "{stderr}");
    let json = std::fs::read_to_string(dir.join("all.jsonl")).unwrap();
    assert_eq!(json.lines().count(), 3, "{json}");
    assert!(
        json.lines()
            .last()
            .unwrap()
            .starts_with(r#"{"summary":{"passed":1,"failed":1"#),
        "{json}"
    );
    let xml = std::fs::read_to_string(dir.join("all.xml")).unwrap();
    assert!(
        xml.contains(r#"<failure type="failed" message="why">why</failure>"#),
        "{xml}"
    );

    // --update writes the snapshot: 0, and then unchanged: 0.
    let out = merge(&dir, &["a.jsonl", "b.jsonl", "--update"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snap = std::fs::read_to_string(dir.join("snapshots/pkg.json")).unwrap();
    assert!(snap.contains("\"b.py::y\": \"failed\""), "{snap}");
    let out = merge(&dir, &["a.jsonl", "b.jsonl"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A test that now passes: changed.
    part(&dir, "b.jsonl", 2, "b.py::y", "passed");
    let out = merge(&dir, &["a.jsonl", "b.jsonl", "--snapshot-dir", "snapshots"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("NEWLY PASSING  pkg  b.py::y  failed -> passed"),
        "{stderr}"
    );

    // Usage and input errors: 2.
    assert_eq!(merge(&dir, &[]).status.code(), Some(2));
    assert_eq!(merge(&dir, &["missing.jsonl"]).status.code(), Some(2));
    std::fs::write(dir.join("bad.jsonl"), "nonsense\n").unwrap();
    let out = merge(&dir, &["bad.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.jsonl:1"));
    let _ = std::fs::remove_dir_all(&dir);
}
