//! `--markdown FILE` (test runs and `merge`): a short summary of a run and
//! its changes against the snapshots, in Markdown, for a CI job's page
//! (GitHub Actions shows `$GITHUB_STEP_SUMMARY`, for example):
//!
//! ```text
//! ### pyodide-test: 1 change
//!
//! Pyodide 314.0.7 · partition 2/8 · 214 tests in 12.3s
//!
//! | package | tests | passed | failed | skipped | crashed |
//! |---|---:|---:|---:|---:|---:|
//! | msgpack | 214 | 210 | 1 | 3 | 0 |
//!
//! Changes against `snapshots/pyodide-314.0.7/`:
//!
//! | change | package | test | was | now |
//! |---|---|---|---|---|
//! | newly failing | msgpack | `test/test_obj.py::test_bad_hook` | passed | failed |
//! ```
//!
//! "failed" counts failed, error and xpassed tests; "skipped" skipped and
//! xfailed; "crashed" crashed and timed-out ones.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::results::{Counts, Results};
use super::snapshot::{ChangeKind, PackageChanges};
use super::style::one_line;
use super::summary::format_duration;

/// Change lines shown; the rest are counted.
pub const MAX_LINES: usize = 50;

/// What the Markdown summary shows.
pub struct MarkdownInput<'a> {
    /// The run's results.
    pub results: &'a Results,
    /// Every package compared against its snapshot.
    pub changes: &'a [PackageChanges],
    /// The run's wall time.
    pub elapsed: Duration,
    /// The run was interrupted.
    pub interrupted: bool,
    /// `--update` was given (the changes were accepted).
    pub update: bool,
    /// The snapshot directory.
    pub snapshot_dir: &'a Path,
    /// `--partition K/N`.
    pub partition: Option<(u32, u32)>,
    /// The Pyodide version.
    pub pyodide: Option<&'a str>,
}

/// The columns of a count row: passed, failed (+error, xpassed), skipped
/// (+xfailed), crashed (+timeout).
pub fn columns(c: &Counts) -> [usize; 4] {
    [
        c.passed,
        c.failed + c.error + c.xpassed,
        c.skipped + c.xfailed,
        c.crashed + c.timeout,
    ]
}

/// Text for a Markdown table cell: `|` escaped, one line.
pub fn cell(text: &str) -> String {
    one_line(text, 160).replace('|', "\\|")
}

/// Code in a table cell (backticks, `|` escaped).
pub fn code(text: &str) -> String {
    format!("`{}`", cell(text).replace('`', "'"))
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The summary's text.
pub fn render(input: &MarkdownInput) -> String {
    let mut out = String::new();
    let changed: Vec<&PackageChanges> = input.changes.iter().filter(|c| c.is_changed()).collect();
    let n: usize = changed.iter().map(|c| c.changes.len()).sum();
    let missing = changed.iter().filter(|c| !c.has_snapshot).count();
    let headline = if changed.is_empty() {
        "no changes".to_string()
    } else {
        let mut what = Vec::new();
        if n > 0 {
            what.push(plural(n, "change"));
        }
        if missing > 0 {
            what.push(format!("{} without a snapshot", plural(missing, "package")));
        }
        what.join(", ")
    };
    let accepted = if input.update && !changed.is_empty() {
        " (accepted)"
    } else {
        ""
    };
    let _ = writeln!(out, "### pyodide-test: {headline}{accepted}\n");
    let counts = input.results.counts();
    let mut facts = Vec::new();
    if let Some(v) = input.pyodide {
        facts.push(format!("Pyodide {v}"));
    }
    if let Some((k, n)) = input.partition {
        facts.push(format!("partition {k}/{n}"));
    }
    facts.push(format!(
        "{} in {}",
        plural(counts.total(), "test"),
        format_duration(input.elapsed)
    ));
    if input.interrupted {
        facts.push("**interrupted**".into());
    }
    let _ = writeln!(out, "{}\n", facts.join(" · "));

    out.push_str("| package | tests | passed | failed | skipped | crashed |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|\n");
    for (name, pkg) in input.results.iter() {
        let [p, f, s, c] = columns(&pkg.counts);
        let _ = writeln!(
            out,
            "| {} | {} | {p} | {f} | {s} | {c} |",
            cell(name),
            pkg.counts.total()
        );
    }
    out.push('\n');

    let dir = input.snapshot_dir.display();
    if changed.is_empty() {
        let _ = writeln!(out, "No changes against `{dir}/`.");
        return out;
    }
    let _ = writeln!(out, "Changes against `{dir}/`:\n");
    out.push_str("| change | package | test | was | now |\n");
    out.push_str("|---|---|---|---|---|\n");
    let mut shown = 0;
    for kind in ChangeKind::ALL {
        for pc in &changed {
            for c in pc.changes.iter().filter(|c| c.kind == kind) {
                shown += 1;
                if shown > MAX_LINES {
                    continue;
                }
                let mut now = c.new.map_or("-".to_string(), |o| o.to_string());
                if c.new.is_some_and(|o| o.is_bad()) && !c.message.is_empty() {
                    now = format!("{now}: {}", one_line(&c.message, 100));
                }
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    kind.label().to_lowercase(),
                    cell(&pc.package),
                    code(&c.id),
                    c.old.map_or("-".to_string(), |o| o.to_string()),
                    cell(&now)
                );
            }
        }
    }
    for pc in changed.iter().filter(|c| !c.has_snapshot) {
        let _ = writeln!(
            out,
            "| no snapshot | {} | {} | - | - |",
            cell(&pc.package),
            plural(pc.tests, "test")
        );
    }
    if shown > MAX_LINES {
        let _ = writeln!(
            out,
            "\n… and {} more (all are in the JSON Lines report).",
            shown - MAX_LINES
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::snapshot::{Coverage, Snapshot, compare};
    use super::super::testutil::*;
    use super::*;
    use crate::runner::outcome::Outcome::*;

    #[test]
    fn a_change_and_a_table() {
        let mut results = Results::new(&["pkg".to_string()]);
        results.add(&rec("pkg", "t.py::a", Passed, 0.1, ""));
        results.add(&rec("pkg", "t.py::b|x", Failed, 0.1, "AssertionError: no"));
        let snap = Snapshot {
            package: "pkg".into(),
            pyodide: None,
            installed: Default::default(),
            tests: [("t.py::a", Passed), ("t.py::b|x", Passed)]
                .map(|(k, v)| (k.to_string(), v))
                .into_iter()
                .collect(),
        };
        let pkg = results.iter().next().unwrap().1;
        let changes = vec![compare(
            "pkg",
            Some(&snap),
            &pkg.tests,
            &Coverage::All,
            None,
        )];
        let text = render(&MarkdownInput {
            results: &results,
            changes: &changes,
            elapsed: Duration::from_secs(3),
            interrupted: false,
            update: false,
            snapshot_dir: Path::new("snapshots/pyodide-314.0.7"),
            partition: Some((2, 8)),
            pyodide: Some("314.0.7"),
        });
        assert!(text.starts_with("### pyodide-test: 1 change\n"), "{text}");
        assert!(text.contains("Pyodide 314.0.7 · partition 2/8 · 2 tests in 3.0s"));
        assert!(text.contains("| pkg | 2 | 1 | 1 | 0 | 0 |"), "{text}");
        assert!(
            text.contains(
                "| newly failing | pkg | `t.py::b\\|x` | passed | failed: AssertionError: no |"
            ),
            "{text}"
        );
    }
}
