//! What `matrix` shows: a row per build (its Pyodide, Python and
//! Emscripten versions and its counts, or why it did not run), then the
//! tests whose outcome changes between neighbouring builds; as text, as
//! one self-contained HTML page (a grid of builds against the changed
//! tests, coloured by outcome; no script, no external asset), as JSON and
//! as Markdown.
//!
//! Neighbours are the builds that ran, in the order given: a build that
//! did not run is passed over, so the change is shown between the builds
//! on either side of it.
//!
//! Counts: "failed" is failed, error and xpassed; "skipped" is skipped and
//! xfailed; "crashed" is crashed and timeout.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use super::build_run::{BuildResult, BuildStatus};
use super::outcome::Outcome;
use super::report::markdown::{cell, code, columns};

/// A test whose outcome differs between two neighbouring builds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The test's key.
    pub test: String,
    /// The earlier build's label.
    pub from: String,
    /// The later build's label.
    pub to: String,
    /// Its outcome on the earlier build (none: it did not run there).
    pub old: Option<Outcome>,
    /// Its outcome on the later build.
    pub new: Option<Outcome>,
    /// The later build's message for it.
    pub message: String,
}

/// The changes between each pair of neighbouring builds that ran.
pub fn changes(results: &[BuildResult]) -> Vec<Change> {
    let ran: Vec<&BuildResult> = results
        .iter()
        .filter(|r| matches!(r.status, BuildStatus::Ran { .. }))
        .collect();
    let mut out = Vec::new();
    for pair in ran.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (BuildStatus::Ran { tests: ta, .. }, BuildStatus::Ran { tests: tb, .. }) =
            (&a.status, &b.status)
        else {
            continue;
        };
        let keys: BTreeSet<&String> = ta.keys().chain(tb.keys()).collect();
        for key in keys {
            let (old, new) = (ta.get(key), tb.get(key));
            let (oo, no) = (old.map(|r| r.outcome), new.map(|r| r.outcome));
            if oo != no {
                out.push(Change {
                    test: key.clone(),
                    from: a.info.label.clone(),
                    to: b.info.label.clone(),
                    old: oo,
                    new: no,
                    message: new.map(|r| r.message.clone()).unwrap_or_default(),
                });
            }
        }
    }
    out
}

fn or_dash(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("-")
}

fn outcome_name(o: Option<Outcome>) -> &'static str {
    o.map_or("absent", Outcome::as_str)
}

/// A message cut to one short line.
fn short(message: &str) -> String {
    let line = message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.chars().count() > 120 {
        let mut s: String = line.chars().take(119).collect();
        s.push('…');
        s
    } else {
        line.to_string()
    }
}

/// The text: the rows, then the changes.
pub fn render_text(results: &[BuildResult], changes: &[Change]) -> String {
    let header = [
        "build",
        "Pyodide",
        "Python",
        "Emscripten",
        "tests",
        "passed",
        "failed",
        "skipped",
        "crashed",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for r in results {
        let mut row = vec![
            r.info.label.clone(),
            or_dash(&r.info.pyodide).to_string(),
            or_dash(&r.info.python).to_string(),
            or_dash(&r.info.emscripten).to_string(),
        ];
        match &r.status {
            BuildStatus::Ran { counts, .. } => {
                row.push(counts.total().to_string());
                row.extend(columns(counts).iter().map(usize::to_string));
            }
            BuildStatus::Skipped { .. } => row.push(r.skip_line().unwrap_or_default()),
        }
        rows.push(row);
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        // A skip line spans the count columns: it does not widen them.
        let cols = if row.len() == header.len() {
            row.len()
        } else {
            4
        };
        for (i, c) in row.iter().take(cols).enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            if i >= 4 && cells.len() == header.len() {
                let _ = write!(s, "{c:>w$}", w = widths[i]);
            } else if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                let _ = write!(s, "{c:<w$}", w = widths[i]);
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&header.map(String::from), &mut out);
    for row in &rows {
        line(row, &mut out);
    }
    out.push('\n');
    if changes.is_empty() {
        out.push_str("No test changes its outcome between neighbouring builds.\n");
        return out;
    }
    let tests: BTreeSet<&str> = changes.iter().map(|c| c.test.as_str()).collect();
    let _ = writeln!(
        out,
        "Tests whose outcome changes between neighbouring builds ({}):",
        tests.len()
    );
    let mut last_pair = None;
    for c in changes {
        let pair = (&c.from, &c.to);
        if last_pair != Some(pair) {
            let _ = writeln!(out, "  {} -> {}:", c.from, c.to);
            last_pair = Some(pair);
        }
        let mut text = format!(
            "    {}  {} -> {}",
            c.test,
            outcome_name(c.old),
            outcome_name(c.new)
        );
        if c.new.is_some_and(Outcome::is_bad) && !c.message.is_empty() {
            let _ = write!(text, "  {}", short(&c.message));
        }
        out.push_str(&text);
        out.push('\n');
    }
    out
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The CSS class of an outcome's cell.
fn class(o: Option<Outcome>) -> &'static str {
    match o {
        Some(Outcome::Passed) => "passed",
        Some(Outcome::Skipped | Outcome::Xfailed) => "skipped",
        Some(Outcome::Failed | Outcome::Error | Outcome::Xpassed) => "failed",
        Some(Outcome::Crashed | Outcome::Timeout) => "crashed",
        None => "absent",
    }
}

/// One HTML page: the rows as a table, then the grid of builds (columns)
/// against the tests that change (rows), each cell coloured by outcome.
pub fn render_html(title: &str, results: &[BuildResult], changes: &[Change]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n",
        html_escape(title)
    );
    h.push_str(
        "<style>\n\
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\n\
table{border-collapse:collapse;margin:1em 0}\n\
th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top}\n\
td.n{text-align:right}\n\
th.build{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}\n\
td.test{font-family:monospace;white-space:nowrap}\n\
.passed{background:#c8ecc8}\n.failed{background:#f6b8b8}\n.crashed{background:#d9a0e6}\n\
.skipped{background:#f4e3a1}\n.absent{background:#eee;color:#888}\n.noboot{background:#ddd;color:#555}\n\
.legend span{display:inline-block;padding:.1em .5em;margin-right:.4em;border:1px solid #bbb}\n\
</style>\n</head>\n<body>\n",
    );
    let _ = writeln!(h, "<h1>{}</h1>", html_escape(title));
    h.push_str("<h2>Builds</h2>\n<table>\n<tr><th>build</th><th>Pyodide</th><th>Python</th><th>Emscripten</th><th>tests</th><th>passed</th><th>failed</th><th>skipped</th><th>crashed</th></tr>\n");
    for r in results {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            html_escape(&r.info.label),
            html_escape(or_dash(&r.info.pyodide)),
            html_escape(or_dash(&r.info.python)),
            html_escape(or_dash(&r.info.emscripten))
        );
        match &r.status {
            BuildStatus::Ran { counts, .. } => {
                let _ = write!(h, "<td class=\"n\">{}</td>", counts.total());
                for (n, cls) in columns(counts)
                    .iter()
                    .zip(["passed", "failed", "skipped", "crashed"])
                {
                    let cls = if *n > 0 { cls } else { "" };
                    let _ = write!(h, "<td class=\"n {cls}\">{n}</td>");
                }
            }
            BuildStatus::Skipped { .. } => {
                let _ = write!(
                    h,
                    "<td class=\"noboot\" colspan=\"5\">{}</td>",
                    html_escape(&r.skip_line().unwrap_or_default())
                );
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");

    let tests: BTreeSet<&str> = changes.iter().map(|c| c.test.as_str()).collect();
    let _ = writeln!(
        h,
        "<h2>Tests whose outcome changes between neighbouring builds ({})</h2>",
        tests.len()
    );
    if tests.is_empty() {
        h.push_str("<p>None: every build that ran agrees.</p>\n</body>\n</html>\n");
        return h;
    }
    h.push_str("<p class=\"legend\"><span class=\"passed\">passed</span><span class=\"failed\">failed / error / xpassed</span><span class=\"crashed\">crashed / timeout</span><span class=\"skipped\">skipped / xfailed</span><span class=\"absent\">did not run</span><span class=\"noboot\">build skipped</span></p>\n");
    h.push_str("<table class=\"grid\">\n<tr><th>test</th>");
    for r in results {
        let _ = write!(h, "<th class=\"build\">{}</th>", html_escape(&r.info.label));
    }
    h.push_str("</tr>\n");
    let per_build: Vec<Option<BTreeMap<&str, Outcome>>> =
        results.iter().map(BuildResult::outcomes).collect();
    let messages: Vec<BTreeMap<&str, &str>> = results
        .iter()
        .map(|r| match &r.status {
            BuildStatus::Ran { tests, .. } => tests
                .iter()
                .map(|(k, rec)| (k.as_str(), rec.message.as_str()))
                .collect(),
            BuildStatus::Skipped { .. } => BTreeMap::new(),
        })
        .collect();
    for test in tests {
        let _ = write!(h, "<tr><td class=\"test\">{}</td>", html_escape(test));
        for (i, outcomes) in per_build.iter().enumerate() {
            match outcomes {
                None => h.push_str("<td class=\"noboot\">-</td>"),
                Some(map) => {
                    let o = map.get(test).copied();
                    let msg = messages[i].get(test).copied().unwrap_or("");
                    let _ = write!(
                        h,
                        "<td class=\"{}\" title=\"{}\">{}</td>",
                        class(o),
                        html_escape(&short(msg)),
                        outcome_name(o)
                    );
                }
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n</body>\n</html>\n");
    h
}

/// One build in the JSON report.
#[derive(Serialize)]
struct JsonBuild<'a> {
    build: &'a str,
    pyodide: Option<&'a str>,
    python: Option<&'a str>,
    emscripten: Option<&'a str>,
    /// `ran`, `unavailable`, `does not boot`, `cannot run the tests`.
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counts: Option<super::report::Counts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tests: Option<BTreeMap<&'a str, Outcome>>,
}

/// The JSON report: `{"builds": [...], "changes": [...]}`, every build with
/// its versions, status, counts and every test's outcome.
pub fn render_json(results: &[BuildResult], changes: &[Change]) -> String {
    let builds: Vec<JsonBuild> = results
        .iter()
        .map(|r| {
            let (status, reason, counts) = match &r.status {
                BuildStatus::Ran { counts, .. } => ("ran", None, Some(*counts)),
                BuildStatus::Skipped { kind, reason } => {
                    (kind.as_str(), Some(reason.as_str()), None)
                }
            };
            JsonBuild {
                build: &r.info.label,
                pyodide: r.info.pyodide.as_deref(),
                python: r.info.python.as_deref(),
                emscripten: r.info.emscripten.as_deref(),
                status,
                reason,
                counts,
                tests: r.outcomes(),
            }
        })
        .collect();
    let value = serde_json::json!({ "builds": builds, "changes": changes });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// The Markdown summary: the rows as a table, then the changes.
pub fn render_markdown(results: &[BuildResult], changes: &[Change]) -> String {
    let mut out = String::new();
    let tests: BTreeSet<&str> = changes.iter().map(|c| c.test.as_str()).collect();
    let skipped = results
        .iter()
        .filter(|r| matches!(r.status, BuildStatus::Skipped { .. }))
        .count();
    let _ = writeln!(
        out,
        "### pyodide-test matrix: {} builds, {} change{}\n",
        results.len(),
        if tests.len() == 1 {
            "1 test".to_string()
        } else {
            format!("{} tests", tests.len())
        },
        if skipped > 0 {
            format!(", {skipped} skipped")
        } else {
            String::new()
        }
    );
    out.push_str(
        "| build | Pyodide | Python | Emscripten | tests | passed | failed | skipped | crashed |\n",
    );
    out.push_str("|---|---|---|---|---:|---:|---:|---:|---:|\n");
    for r in results {
        let _ = write!(
            out,
            "| {} | {} | {} | {} |",
            cell(&r.info.label),
            cell(or_dash(&r.info.pyodide)),
            cell(or_dash(&r.info.python)),
            cell(or_dash(&r.info.emscripten))
        );
        match &r.status {
            BuildStatus::Ran { counts, .. } => {
                let [p, f, s, c] = columns(counts);
                let _ = writeln!(out, " {} | {p} | {f} | {s} | {c} |", counts.total());
            }
            BuildStatus::Skipped { .. } => {
                let _ = writeln!(
                    out,
                    " {} | | | | |",
                    cell(&r.skip_line().unwrap_or_default())
                );
            }
        }
    }
    out.push('\n');
    if changes.is_empty() {
        out.push_str("No test changes its outcome between neighbouring builds.\n");
        return out;
    }
    out.push_str("| from | to | test | was | now |\n|---|---|---|---|---|\n");
    for c in changes.iter().take(super::report::markdown::MAX_LINES) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&c.from),
            cell(&c.to),
            code(&c.test),
            outcome_name(c.old),
            outcome_name(c.new)
        );
    }
    if changes.len() > super::report::markdown::MAX_LINES {
        let _ = writeln!(
            out,
            "\n… and {} more (all are in --json).",
            changes.len() - super::report::markdown::MAX_LINES
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::build_run::{BuildInfo, SkipKind};
    use super::super::outcome::TestRecord;
    use super::*;

    fn ran(label: &str, tests: &[(&str, Outcome)]) -> BuildResult {
        let mut counts = super::super::report::Counts::default();
        let tests = tests
            .iter()
            .map(|(id, o)| {
                counts.add(*o);
                (
                    id.to_string(),
                    TestRecord {
                        package: "p".into(),
                        id: id.to_string(),
                        outcome: *o,
                        duration: 0.0,
                        message: if *o == Outcome::Failed {
                            "AssertionError: <boom>".into()
                        } else {
                            String::new()
                        },
                    },
                )
            })
            .collect();
        BuildResult {
            info: BuildInfo {
                label: label.into(),
                pyodide: Some(label.into()),
                python: Some("3.14.2".into()),
                emscripten: Some("5.0.3".into()),
            },
            status: BuildStatus::Ran {
                tests,
                counts,
                elapsed: Duration::ZERO,
            },
        }
    }

    fn results() -> Vec<BuildResult> {
        use Outcome::*;
        vec![
            ran("1.0.0", &[("t.py::a", Passed), ("t.py::b", Passed)]),
            BuildResult {
                info: BuildInfo {
                    label: "1.0.1".into(),
                    ..Default::default()
                },
                status: BuildStatus::Skipped {
                    kind: SkipKind::DoesNotBoot,
                    reason: "unknown import env.f".into(),
                },
            },
            ran("1.0.2", &[("t.py::a", Passed), ("t.py::b", Failed)]),
            ran("1.0.3", &[("t.py::a", Passed), ("t.py::b", Failed)]),
        ]
    }

    #[test]
    fn changes_pass_over_skipped_builds() {
        let r = results();
        let c = changes(&r);
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].from.as_str(), c[0].to.as_str(), c[0].test.as_str()),
            ("1.0.0", "1.0.2", "t.py::b")
        );
        let text = render_text(&r, &c);
        assert!(
            text.contains(
                "1.0.1  -        -       -           does not boot: unknown import env.f"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "  1.0.0 -> 1.0.2:\n    t.py::b  passed -> failed  AssertionError: <boom>\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn html_is_one_page_with_a_grid() {
        let r = results();
        let html = render_html("m", &r, &changes(&r));
        assert!(!html.contains("<script") && !html.contains("http"));
        assert!(html.contains("<td class=\"test\">t.py::b</td><td class=\"passed\" title=\"\">passed</td><td class=\"noboot\">-</td><td class=\"failed\" title=\"AssertionError: &lt;boom&gt;\">failed</td>"), "{html}");
        let md = render_markdown(&r, &changes(&r));
        assert!(
            md.contains("| 1.0.0 | 1.0.2 | `t.py::b` | passed | failed |"),
            "{md}"
        );
        let json: serde_json::Value = serde_json::from_str(&render_json(&r, &changes(&r))).unwrap();
        assert_eq!(json["builds"][1]["status"], "does not boot");
        assert_eq!(json["changes"][0]["new"], "failed");
    }
}
