//! The final summary: counts per outcome per package, the run's time, then
//! the changes against the snapshots, one line each, grouped by kind:
//!
//! ```text
//! Summary [12.3s] 214 tests in 1 package
//!   msgpack  214 tests: 210 passed, 1 failed, 3 skipped
//!
//! Changes against the snapshots in snapshots/:
//!   NEWLY FAILING  msgpack  test/test_obj.py::test_bad_hook  passed -> failed  AssertionError: ...
//!
//! 1 change in 1 package; run with --update to accept.
//! ```
//!
//! Coloured when asked; nothing in it depends on the clock but the time
//! given.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::results::Results;
use super::snapshot::{self, Change, ChangeKind, PackageChanges};
use super::style::{one_line, paint};
use crate::runner::outcome::Outcome;

/// Lines shown per kind of change and package; the rest are counted.
pub const MAX_LINES: usize = 100;

/// The longest message shown on a change's line.
const MESSAGE_WIDTH: usize = 200;

/// What the summary shows.
pub struct SummaryInput<'a> {
    /// The run's results.
    pub results: &'a Results,
    /// Every package compared against its snapshot.
    pub changes: &'a [PackageChanges],
    /// The run's wall time.
    pub elapsed: Duration,
    /// The run was interrupted.
    pub interrupted: bool,
    /// `--update` was given.
    pub update: bool,
    /// The snapshot files `--update` wrote.
    pub written: &'a [PathBuf],
    /// Notes on old snapshot entries an update kept (files that crashed
    /// before their tests ran).
    pub kept: &'a [String],
    /// The snapshot directory.
    pub snapshot_dir: &'a Path,
    /// `--partition K/N`.
    pub partition: Option<(u32, u32)>,
    /// Which tests could be found vanished.
    pub vanished_scope: VanishedScope,
    /// Colour the text.
    pub color: bool,
}

/// Which tests a comparison could call vanished (for a note).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VanishedScope {
    /// Any test of the snapshots.
    All,
    /// Only those in the test files that ran to the end.
    FinishedFiles,
    /// None (`-k`).
    None,
}

/// `12.3s`, `2m 03s`, `1h 02m 03s`.
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        let total = d.as_secs();
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
        if h > 0 {
            format!("{h}h {m:02}m {s:02}s")
        } else {
            format!("{m}m {s:02}s")
        }
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The counts, each outcome in its colour.
fn describe_counts(counts: &super::results::Counts, color: bool) -> String {
    if counts.total() == 0 {
        return "no tests".to_string();
    }
    Outcome::ALL
        .iter()
        .filter(|&&o| counts.get(o) > 0)
        .map(|&o| {
            let text = format!("{} {}", counts.get(o), o);
            let style = match o {
                Outcome::Passed => "32",
                Outcome::Skipped | Outcome::Xfailed => "33",
                _ => "1;31",
            };
            paint(&text, style, color)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn style(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::NewlyFailing => "1;31",
        ChangeKind::NewlyPassing => "1;32",
        ChangeKind::Changed => "1;33",
        ChangeKind::New => "1;36",
        ChangeKind::Vanished => "1;35",
    }
}

/// What follows the id on a change's line.
fn detail(change: &Change) -> String {
    let show_message = change.new.is_some_and(Outcome::is_bad);
    let mut s = match (change.old, change.new) {
        (Some(old), Some(new)) => format!("{old} -> {new}"),
        (None, Some(new)) => new.to_string(),
        (Some(old), None) => format!("was {old}"),
        (None, None) => String::new(),
    };
    if show_message {
        let m = one_line(&change.message, MESSAGE_WIDTH);
        if !m.is_empty() {
            s.push_str("  ");
            s.push_str(&m);
        }
    }
    s
}

/// The summary's text.
pub fn render(input: &SummaryInput) -> String {
    let color = input.color;
    let mut out = String::new();
    let counts = input.results.counts();
    let npkg = input.results.order.len();

    // Counts.
    let mut notes = Vec::new();
    if let Some((k, n)) = input.partition {
        notes.push(format!("partition {k}/{n}"));
    }
    if input.interrupted {
        notes.push(paint("interrupted", "1;33", color));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    };
    let _ = writeln!(
        out,
        "{} [{}] {} in {}{notes}",
        paint("Summary", "1", color),
        format_duration(input.elapsed),
        plural(counts.total(), "test"),
        plural(npkg, "package"),
    );
    let width = input
        .results
        .order
        .iter()
        .map(|p| p.len())
        .max()
        .unwrap_or(0);
    for (name, pkg) in input.results.iter() {
        let _ = writeln!(
            out,
            "  {name:<width$}  {}: {}",
            plural(pkg.counts.total(), "test"),
            describe_counts(&pkg.counts, color)
        );
    }
    if npkg > 1 {
        let _ = writeln!(
            out,
            "  {:<width$}  {}: {}",
            "total",
            plural(counts.total(), "test"),
            describe_counts(&counts, color)
        );
    }
    out.push('\n');

    // Changes.
    let dir = input.snapshot_dir.display();
    let changed: Vec<&PackageChanges> = input.changes.iter().filter(|c| c.is_changed()).collect();
    if changed.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint(
                &format!("No changes against the snapshots in {dir}/."),
                "32",
                color
            )
        );
    } else {
        let verb = if input.update {
            "accepted into"
        } else {
            "against"
        };
        let _ = writeln!(out, "Changes {verb} the snapshots in {dir}/:");
        let pwidth = changed.iter().map(|c| c.package.len()).max().unwrap_or(0);
        let lwidth = ChangeKind::ALL
            .iter()
            .map(|k| k.label().len())
            .max()
            .unwrap_or(0)
            .max("NO SNAPSHOT".len());
        for kind in ChangeKind::ALL {
            for pc in &changed {
                let of_kind: Vec<&Change> = pc.changes.iter().filter(|c| c.kind == kind).collect();
                for c in of_kind.iter().take(MAX_LINES) {
                    let label = format!("{:<lwidth$}", kind.label());
                    let _ = writeln!(
                        out,
                        "  {}  {:<pwidth$}  {}  {}",
                        paint(&label, style(kind), color),
                        pc.package,
                        c.id,
                        detail(c)
                    );
                }
                if of_kind.len() > MAX_LINES {
                    let _ = writeln!(
                        out,
                        "  … and {} more {} in {} (all are in --json)",
                        of_kind.len() - MAX_LINES,
                        kind.label(),
                        pc.package
                    );
                }
            }
        }
        for pc in changed.iter().filter(|c| !c.has_snapshot) {
            let label = format!("{:<lwidth$}", "NO SNAPSHOT");
            let _ = writeln!(
                out,
                "  {}  {:<pwidth$}  {} ran, none recorded in {}",
                paint(&label, "1;33", color),
                pc.package,
                plural(pc.tests, "test"),
                snapshot::path(input.snapshot_dir, &pc.package).display()
            );
        }
    }
    for pc in input.changes.iter().filter(|c| !c.unsteady.is_empty()) {
        let _ = writeln!(
            out,
            "  note: {} of {} whose outcome follows the memory layout (isolated by the plan) changed, not counted:",
            plural(pc.unsteady.len(), "test"),
            pc.package
        );
        for c in pc.unsteady.iter().take(MAX_LINES) {
            let _ = writeln!(out, "    {}  {}", c.id, detail(c));
        }
        if pc.unsteady.len() > MAX_LINES {
            let _ = writeln!(
                out,
                "    … and {} more (all are in --json)",
                pc.unsteady.len() - MAX_LINES
            );
        }
    }
    for pc in input.changes {
        if let Some(v) = &pc.other_pyodide {
            let _ = writeln!(
                out,
                "  note: {} was recorded with Pyodide {v}",
                snapshot::path(input.snapshot_dir, &pc.package).display()
            );
        }
    }
    match input.vanished_scope {
        VanishedScope::All => {}
        VanishedScope::FinishedFiles => {
            let _ = writeln!(
                out,
                "  note: only the test files that ran to the end were checked for vanished tests"
            );
        }
        VanishedScope::None => {
            let _ = writeln!(
                out,
                "  note: some tests were selected (-k): none is reported vanished"
            );
        }
    }

    // The verdict.
    let n: usize = changed.iter().map(|c| c.changes.len()).sum();
    let missing = changed.iter().filter(|c| !c.has_snapshot).count();
    let mut what = Vec::new();
    if n > 0 {
        what.push(plural(n, "change"));
    }
    if missing > 0 {
        what.push(format!("{} without a snapshot", plural(missing, "package")));
    }
    if input.update {
        for note in input.kept {
            let _ = writeln!(out, "{}: {note}", paint("note", "1;33", color));
        }
        if input.written.is_empty() {
            let _ = writeln!(out, "\nThe snapshots are up to date.");
        } else {
            let files: Vec<String> = input
                .written
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            let _ = writeln!(
                out,
                "\n{} {}.",
                paint("Updated", "1;32", color),
                files.join(", ")
            );
        }
    } else if !changed.is_empty() {
        let _ = writeln!(
            out,
            "\n{}; run with {} to accept.",
            paint(&what.join(" and "), "1", color),
            paint("--update", "1", color)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::snapshot::{Coverage, Snapshot, compare};
    use super::super::testutil::*;
    use super::*;
    use Outcome::*;

    fn fixture() -> (Results, Vec<PackageChanges>) {
        let mut r = Results::new(&["msgpack".into(), "simple-json".into(), "cytoolz".into()]);
        for rec in [
            rec("msgpack", "test/test_a.py::test_ok", Passed, 0.0125, ""),
            rec(
                "msgpack",
                "test/test_a.py::test_breaks",
                Failed,
                0.5,
                "Traceback (most recent call last):\n  ...\nAssertionError: assert 1 == 2",
            ),
            rec("msgpack", "test/test_a.py::test_fixed", Passed, 0.1, ""),
            rec("msgpack", "test/test_a.py::test_unskipped", Passed, 0.1, ""),
            rec("msgpack", "test/test_b.py::test_new", Passed, 0.1, ""),
            rec(
                "msgpack",
                "test/test_b.py::test_new_crash",
                Crashed,
                0.1,
                "wasm trap: call stack exhausted",
            ),
            rec("simple-json", "t.py::test_same", Skipped, 0.0, "no threads"),
            rec("simple-json", "t.py::test_same_fail", Failed, 0.0, "known"),
            rec("cytoolz", "t.py::test_a", Passed, 0.0, ""),
            rec("cytoolz", "t.py::test_b", Xfailed, 0.0, ""),
        ] {
            r.add(&rec);
        }
        let snaps = [
            Snapshot {
                package: "msgpack".into(),
                pyodide: Some("0.27.0".into()),
                installed: Default::default(),
                tests: [
                    ("test/test_a.py::test_ok", Passed),
                    ("test/test_a.py::test_breaks", Passed),
                    ("test/test_a.py::test_fixed", Timeout),
                    ("test/test_a.py::test_unskipped", Skipped),
                    ("test/test_a.py::test_gone", Passed),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            },
            Snapshot {
                package: "simple-json".into(),
                pyodide: Some("314.0.7".into()),
                installed: Default::default(),
                tests: [
                    ("t.py::test_same", Skipped),
                    ("t.py::test_same_fail", Failed),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            },
        ];
        let changes = r
            .iter()
            .map(|(name, pkg)| {
                let snap = snaps.iter().find(|s| s.package == name);
                compare(name, snap, &pkg.tests, &Coverage::All, Some("314.0.7"))
            })
            .collect();
        (r, changes)
    }

    fn input<'a>(r: &'a Results, c: &'a [PackageChanges]) -> SummaryInput<'a> {
        SummaryInput {
            results: r,
            changes: c,
            elapsed: Duration::from_millis(12345),
            interrupted: false,
            update: false,
            written: &[],
            kept: &[],
            snapshot_dir: Path::new("snapshots"),
            partition: None,
            vanished_scope: VanishedScope::All,
            color: false,
        }
    }

    #[test]
    fn changes() {
        let (r, c) = fixture();
        insta::assert_snapshot!(render(&input(&r, &c)));
    }

    #[test]
    fn changes_colored() {
        let (r, c) = fixture();
        let text = render(&SummaryInput {
            color: true,
            ..input(&r, &c)
        });
        assert!(
            text.contains("\x1b[1;31mNEWLY FAILING\x1b[0m  msgpack"),
            "{text}"
        );
        assert!(text.contains("\x1b[32m4 passed\x1b[0m"), "{text}");
    }

    /// Changes of tests set apart (their outcome follows the memory
    /// layout) are listed in a note and not counted; a package left with
    /// none of its own is unchanged.
    #[test]
    fn changes_set_apart_are_noted_not_counted() {
        let (r, mut c) = fixture();
        let apart: std::collections::BTreeSet<String> = [
            "test/test_a.py::test_breaks".to_string(),
            "test/test_a.py::test_fixed".to_string(),
        ]
        .into();
        c[0].set_apart(&apart);
        let text = render(&input(&r, &c));
        assert!(
            text.contains(
                "note: 2 tests of msgpack whose outcome follows the memory layout (isolated by the plan) changed, not counted:"
            ),
            "{text}"
        );
        assert!(
            text.contains("    test/test_a.py::test_breaks  passed -> failed"),
            "{text}"
        );
        assert!(
            !text.contains("NEWLY FAILING  msgpack      test/test_a.py::test_breaks"),
            "{text}"
        );
        let all = fixture().1.iter().map(|p| p.changes.len()).sum::<usize>();
        assert!(
            text.contains(&format!("\n{} changes and", all - 2)),
            "{text}"
        );
        // Every test set apart: the outcome changes go, a new or vanished
        // test stays a change (that is so whatever the layout).
        let mut pc = c[0].clone();
        let every: std::collections::BTreeSet<String> =
            pc.changes.iter().map(|ch| ch.id.clone()).collect();
        pc.set_apart(&every);
        let kinds: Vec<ChangeKind> = pc.changes.iter().map(|ch| ch.kind).collect();
        assert_eq!(
            kinds,
            [ChangeKind::New, ChangeKind::New, ChangeKind::Vanished]
        );
        assert_eq!(pc.unsteady.len(), 3);
    }

    #[test]
    fn updated_partition_interrupted() {
        let (r, c) = fixture();
        let written = [
            PathBuf::from("snapshots/msgpack.json"),
            PathBuf::from("snapshots/cytoolz.json"),
        ];
        insta::assert_snapshot!(render(&SummaryInput {
            update: true,
            written: &written,
            kept: &[],
            interrupted: true,
            partition: Some((2, 4)),
            vanished_scope: VanishedScope::FinishedFiles,
            elapsed: Duration::from_secs(3723),
            ..input(&r, &c)
        }));
    }

    #[test]
    fn nothing_changed() {
        let mut r = Results::new(&["msgpack".into()]);
        r.add(&rec("msgpack", "t.py::a", Passed, 0.1, ""));
        let snap = Snapshot {
            package: "msgpack".into(),
            pyodide: None,
            installed: Default::default(),
            tests: [("t.py::a".to_string(), Passed)].into(),
        };
        let c = vec![compare(
            "msgpack",
            Some(&snap),
            &r.packages["msgpack"].tests,
            &Coverage::All,
            None,
        )];
        insta::assert_snapshot!(render(&SummaryInput {
            elapsed: Duration::from_secs(75),
            ..input(&r, &c)
        }));
    }

    #[test]
    fn long_lists_are_cut() {
        let mut r = Results::new(&["p".into()]);
        for i in 0..MAX_LINES + 5 {
            r.add(&rec("p", &format!("t.py::test_{i:03}"), Passed, 0.0, ""));
        }
        let snap = Snapshot {
            package: "p".into(),
            pyodide: None,
            installed: Default::default(),
            tests: Default::default(),
        };
        let c = vec![compare(
            "p",
            Some(&snap),
            &r.packages["p"].tests,
            &Coverage::All,
            None,
        )];
        let text = render(&input(&r, &c));
        assert_eq!(text.matches("  NEW  ").count(), MAX_LINES, "{text}");
        assert!(text.contains("… and 5 more NEW in p"), "{text}");
        assert!(
            text.contains("105 changes; run with --update to accept."),
            "{text}"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(Duration::from_millis(1234)), "1.2s");
        assert_eq!(format_duration(Duration::from_secs(123)), "2m 03s");
        assert_eq!(format_duration(Duration::from_secs(3723)), "1h 02m 03s");
    }
}
