//! `pyodide-test merge a.jsonl b.jsonl ...`: the JSON Lines of several runs
//! (typically the partitions of one run, `--partition K/N` on several CI
//! machines) joined into one report and one snapshot comparison.
//!
//! Which tests may be called vanished: when every input has its summary
//! line, none was interrupted or filtered (`-k`), and the inputs are
//! either whole runs or exactly the partitions 1..N of one N, the merged
//! run covers whole suites; otherwise only the test files the inputs list
//! as finished (`files_done`) are checked, and with `-k` none.
//!
//! The merged run's duration is the longest of the inputs' (partitions run
//! side by side).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::jsonl::{Line, SummaryLine, parse_line};
use super::options::{ReportOptions, RunVerdict};
use super::progress::Progress;
use super::reporter::Reporter;
use super::snapshot::Coverage;
use crate::runner::outcome::TestRecord;

/// One input file, read.
#[derive(Debug, Default)]
pub struct Part {
    /// Its tests, in order.
    pub records: Vec<TestRecord>,
    /// Its summary line, if the run got to write one.
    pub summary: Option<SummaryLine>,
    /// Problems that did not stop the reading (a cut last line).
    pub warnings: Vec<String>,
}

/// Read one JSON Lines report. A last line cut short (a run killed while
/// writing) is skipped with a warning; any other bad line is an error.
pub fn read_part(path: &std::path::Path) -> Result<Part> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut part = Part::default();
    let lines: Vec<&str> = text.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let last = i + 1 == lines.len();
        match parse_line(line) {
            Ok(None) => {}
            Ok(Some(Line::Test(r))) => part.records.push(r),
            Ok(Some(Line::Summary(s))) => {
                if part.summary.is_some() {
                    bail!("{}:{}: a second summary line", path.display(), i + 1);
                }
                part.summary = Some(s);
            }
            Err(_) if last => part.warnings.push(format!(
                "{}:{}: skipped a line cut short",
                path.display(),
                i + 1
            )),
            Err(e) => bail!(
                "{}:{}: not a test or summary line: {e}",
                path.display(),
                i + 1
            ),
        }
    }
    if part.summary.is_none() {
        part.warnings.push(format!(
            "{}: no summary line (the run did not finish): only its finished files are compared",
            path.display()
        ));
    }
    Ok(part)
}

/// Whether the parts make up whole runs: all finished, none filtered, and
/// either none a partition or exactly the partitions 1..N of one N.
fn complete(parts: &[Part], warnings: &mut Vec<String>) -> bool {
    let Some(summaries) = parts
        .iter()
        .map(|p| p.summary.as_ref())
        .collect::<Option<Vec<_>>>()
    else {
        return false;
    };
    if summaries.iter().any(|s| s.interrupted || s.filtered) {
        return false;
    }
    let partitions: Vec<Option<(u32, u32)>> = summaries
        .iter()
        .map(|s| {
            s.partition
                .as_deref()
                .and_then(|p| super::parse_partition(p).ok())
        })
        .collect();
    if partitions.iter().all(Option::is_none) {
        return true;
    }
    let Some(Some((_, n))) = partitions.first().copied() else {
        warnings.push("whole runs and partitions mixed: only finished files are compared".into());
        return false;
    };
    let ks: BTreeSet<u32> = partitions
        .iter()
        .filter_map(|p| p.filter(|&(_, m)| m == n).map(|(k, _)| k))
        .collect();
    if partitions.iter().all(|p| p.is_some_and(|(_, m)| m == n)) && ks == (1..=n).collect() {
        return true;
    }
    let have: Vec<String> = partitions
        .iter()
        .map(|p| p.map_or("whole".to_string(), |(k, m)| format!("{k}/{m}")))
        .collect();
    warnings.push(format!(
        "partitions {} do not make up 1..{n}/{n}: only their finished files are compared",
        have.join(", ")
    ));
    false
}

/// Where `merge` keeps the snapshots when `--snapshot-dir` is not given:
/// `snapshots/<build>` for the build the inputs' summaries name (as a test
/// run does), plain `snapshots` when they name none or several.
pub fn default_snapshot_dir(inputs: &[PathBuf]) -> Result<PathBuf> {
    let mut builds = BTreeSet::new();
    for path in inputs {
        if let Some(b) = read_part(path)?.summary.and_then(|s| s.build) {
            builds.insert(b);
        }
    }
    let base = PathBuf::from(super::snapshot::DEFAULT_DIR);
    Ok(match builds.len() {
        1 => base.join(builds.into_iter().next().unwrap_or_default()),
        _ => base,
    })
}

/// Join the JSON Lines reports `inputs` into one report (`opts.json`,
/// `opts.junit`), compare with the snapshots in `opts.snapshot_dir`
/// (updated with `opts.update`), and print the summary to stderr.
pub fn merge(inputs: &[PathBuf], opts: ReportOptions) -> Result<RunVerdict> {
    merge_to(inputs, opts, Box::new(std::io::stderr()))
}

/// [`merge`], printing to `out`.
pub fn merge_to(
    inputs: &[PathBuf],
    mut opts: ReportOptions,
    mut out: Box<dyn Write + Send>,
) -> Result<RunVerdict> {
    if inputs.is_empty() {
        bail!("merge needs at least one JSON Lines file");
    }
    let parts = inputs
        .iter()
        .map(|p| read_part(p))
        .collect::<Result<Vec<_>>>()?;
    let mut warnings: Vec<String> = parts.iter().flat_map(|p| p.warnings.clone()).collect();

    // The packages: in the order the tests came, then any others.
    let mut packages: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    let names = parts.iter().flat_map(|p| {
        p.records
            .iter()
            .map(|r| r.package.clone())
            .chain(p.summary.iter().flat_map(|s| s.packages.keys().cloned()))
    });
    for name in names {
        if seen.insert(name.clone()) {
            packages.push(name);
        }
    }

    let summaries: Vec<&SummaryLine> = parts.iter().filter_map(|p| p.summary.as_ref()).collect();
    let filtered = opts.filtered || summaries.iter().any(|s| s.filtered);
    let interrupted = summaries.len() < parts.len() || summaries.iter().any(|s| s.interrupted);
    // Runs of some jobs only (named modules) together are not the whole.
    let whole = complete(&parts, &mut warnings) && !summaries.iter().any(|s| s.some_jobs);
    let versions: BTreeSet<&str> = summaries
        .iter()
        .filter_map(|s| s.pyodide.as_deref())
        .collect();
    if versions.len() > 1 {
        let v: Vec<&str> = versions.iter().copied().collect();
        warnings.push(format!(
            "the inputs ran different Pyodide versions: {}",
            v.join(", ")
        ));
    }
    if opts.pyodide_version.is_none() {
        opts.pyodide_version = versions.iter().next().map(|v| v.to_string());
    }
    if opts.build.is_none() {
        let builds: BTreeSet<&str> = summaries
            .iter()
            .filter_map(|s| s.build.as_deref())
            .collect();
        if builds.len() == 1 {
            opts.build = builds.iter().next().map(|b| b.to_string());
        }
    }
    // The tests each input set apart stay apart.
    for s in &summaries {
        for (name, pkg) in &s.packages {
            opts.unsteady
                .entry(name.clone())
                .or_default()
                .extend(pkg.unsteady.iter().cloned());
        }
    }
    opts.filtered = filtered;
    opts.partition = None;
    opts.progress = false;
    let elapsed = summaries
        .iter()
        .map(|s| Duration::from_secs_f64(s.duration.max(0.0)))
        .max()
        .unwrap_or_default();

    let color = opts.use_color();
    for w in &warnings {
        let _ = writeln!(
            out,
            "{}: {w}",
            super::style::paint("warning", "1;33", color)
        );
    }

    let mut reporter = Reporter::with_output(opts, &packages, Progress::Quiet, out)?;
    for part in &parts {
        for r in &part.records {
            reporter.record(r)?;
        }
        if let Some(s) = &part.summary {
            for (name, pkg) in &s.packages {
                reporter.files_done(name, pkg.files_done.iter().cloned());
            }
        }
    }
    let coverage: BTreeMap<String, Coverage> = reporter
        .results()
        .iter()
        .map(|(name, pkg)| {
            let cov = if filtered {
                Coverage::Nothing
            } else if whole {
                Coverage::All
            } else {
                Coverage::Files(pkg.files_done.clone())
            };
            (name.to_string(), cov)
        })
        .collect();
    reporter.finish_with(interrupted, coverage, elapsed)
}

#[cfg(test)]
mod tests {
    use super::super::snapshot::Snapshot;
    use super::super::testutil::*;
    use super::*;
    use crate::runner::outcome::Outcome::{self, *};

    /// Write a partition's JSON Lines through a real reporter.
    fn run_part(
        dir: &std::path::Path,
        name: &str,
        partition: Option<(u32, u32)>,
        tests: &[(&str, Outcome)],
        files: &[&str],
        interrupted: bool,
    ) -> PathBuf {
        let opts = ReportOptions {
            partition,
            ..Default::default()
        };
        run_part_with(dir, name, opts, tests, files, interrupted).0
    }

    /// [`run_part`] with more of the partition's report options; also the
    /// partition's own verdict.
    fn run_part_with(
        dir: &std::path::Path,
        name: &str,
        opts: ReportOptions,
        tests: &[(&str, Outcome)],
        files: &[&str],
        interrupted: bool,
    ) -> (PathBuf, RunVerdict) {
        let path = dir.join(name);
        let opts = ReportOptions {
            json: Some(path.clone()),
            snapshot_dir: dir.join("snapshots"),
            pyodide_version: Some("314.0.7".into()),
            color: Some(false),
            ..opts
        };
        let mut rep = Reporter::with_output(
            opts,
            &["pkg".into()],
            Progress::Quiet,
            Box::new(Captured::default()),
        )
        .unwrap();
        for (id, o) in tests {
            rep.record(&rec("pkg", id, *o, 0.5, "msg")).unwrap();
        }
        for f in files {
            rep.file_done("pkg", f);
        }
        let verdict = rep.finish(interrupted).unwrap();
        (path, verdict)
    }

    /// A test that a partition's report sets apart (its outcome follows
    /// the memory layout) stays apart in the merge: noted, not counted.
    /// And a run of some jobs only (named modules) is not the whole suite:
    /// the other files' tests are not vanished.
    #[test]
    fn tests_set_apart_stay_apart() {
        let dir = scratch("merge-apart");
        snapshot(
            &dir,
            &[
                ("a.py::x", Passed),
                ("b.py::y", Passed),
                ("c.py::other", Passed),
            ],
        );
        let part = ReportOptions {
            partition: Some((1, 1)),
            unsteady: [("pkg".to_string(), ["a.py::x".to_string()].into())].into(),
            some_jobs: true,
            ..Default::default()
        };
        let (path, verdict) = run_part_with(
            &dir,
            "a.jsonl",
            part,
            &[("a.py::x", Crashed), ("b.py::y", Passed)],
            &["a.py", "b.py"],
            false,
        );
        assert_eq!(verdict, RunVerdict::Unchanged);
        let out = Captured::default();
        let verdict = merge_to(&[path], opts(&dir), Box::new(out.clone())).unwrap();
        let text = out.text();
        assert_eq!(verdict, RunVerdict::Unchanged, "{text}");
        assert!(
            text.contains("note: 1 test of pkg whose outcome follows the memory layout"),
            "{text}"
        );
        assert!(
            text.contains("    a.py::x  passed -> crashed  msg"),
            "{text}"
        );
        assert!(!text.contains("c.py::other"), "{text}");
    }

    fn snapshot(dir: &std::path::Path, tests: &[(&str, Outcome)]) {
        Snapshot {
            package: "pkg".into(),
            pyodide: Some("314.0.7".into()),
            installed: Default::default(),
            tests: tests.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
        .save(&dir.join("snapshots"))
        .unwrap();
    }

    fn opts(dir: &std::path::Path) -> ReportOptions {
        ReportOptions {
            snapshot_dir: dir.join("snapshots"),
            color: Some(false),
            ..Default::default()
        }
    }

    #[test]
    fn two_partitions_make_a_whole_run() {
        let dir = scratch("merge-whole");
        snapshot(
            &dir,
            &[
                ("a.py::x", Passed),
                ("b.py::y", Passed),
                ("c.py::gone", Passed),
            ],
        );
        let a = run_part(
            &dir,
            "a.jsonl",
            Some((1, 2)),
            &[("a.py::x", Passed)],
            &["a.py"],
            false,
        );
        let b = run_part(
            &dir,
            "b.jsonl",
            Some((2, 2)),
            &[("b.py::y", Failed)],
            &["b.py"],
            false,
        );

        let out = Captured::default();
        let mut o = opts(&dir);
        o.json = Some(dir.join("all.jsonl"));
        o.junit = Some(dir.join("all.xml"));
        let verdict = merge_to(&[a.clone(), b.clone()], o, Box::new(out.clone())).unwrap();
        assert_eq!(verdict, RunVerdict::Changed);
        let text = out.text();
        assert!(
            text.contains("NEWLY FAILING  pkg  b.py::y  passed -> failed  msg"),
            "{text}"
        );
        // All partitions ran: c.py's test vanished although no part ran c.py.
        assert!(
            text.contains("VANISHED       pkg  c.py::gone  was passed"),
            "{text}"
        );
        assert!(!text.contains("warning"), "{text}");

        let json = std::fs::read_to_string(dir.join("all.jsonl")).unwrap();
        let merged = read_part(&dir.join("all.jsonl")).unwrap();
        assert_eq!(merged.records.len(), 2, "{json}");
        let s = merged.summary.unwrap();
        assert_eq!(
            (s.counts.passed, s.counts.failed, s.partition),
            (1, 1, None)
        );
        assert_eq!(s.packages["pkg"].files_done, ["a.py", "b.py"]);
        assert_eq!(s.pyodide.as_deref(), Some("314.0.7"));
        let xml = std::fs::read_to_string(dir.join("all.xml")).unwrap();
        assert!(
            xml.contains(r#"<testsuite name="pkg" tests="2" failures="1""#),
            "{xml}"
        );

        // --update writes the merged outcomes and drops the vanished test.
        let mut o = opts(&dir);
        o.update = true;
        assert_eq!(
            merge_to(&[a.clone(), b.clone()], o, Box::new(Captured::default())).unwrap(),
            RunVerdict::Unchanged
        );
        let snap = Snapshot::load(&dir.join("snapshots"), "pkg")
            .unwrap()
            .unwrap();
        assert_eq!(
            snap.tests,
            [
                ("a.py::x".to_string(), Passed),
                ("b.py::y".to_string(), Failed)
            ]
            .into()
        );
        assert_eq!(
            merge_to(&[a, b], opts(&dir), Box::new(Captured::default())).unwrap(),
            RunVerdict::Unchanged
        );
    }

    #[test]
    fn one_partition_alone_checks_only_its_files() {
        let dir = scratch("merge-partial");
        snapshot(
            &dir,
            &[
                ("a.py::x", Passed),
                ("a.py::gone", Passed),
                ("b.py::y", Passed),
            ],
        );
        let a = run_part(
            &dir,
            "a.jsonl",
            Some((1, 2)),
            &[("a.py::x", Passed)],
            &["a.py"],
            false,
        );
        let out = Captured::default();
        assert_eq!(
            merge_to(&[a], opts(&dir), Box::new(out.clone())).unwrap(),
            RunVerdict::Changed
        );
        let text = out.text();
        assert!(
            text.contains("warning: partitions 1/2 do not make up 1..2/2"),
            "{text}"
        );
        assert!(text.contains("VANISHED       pkg  a.py::gone"), "{text}");
        assert!(!text.contains("b.py::y"), "{text}");
    }

    #[test]
    fn cut_and_unfinished_inputs() {
        let dir = scratch("merge-cut");
        snapshot(
            &dir,
            &[
                ("a.py::x", Passed),
                ("a.py::y", Passed),
                ("b.py::z", Passed),
            ],
        );
        let path = dir.join("cut.jsonl");
        std::fs::write(
            &path,
            concat!(
                r#"{"package":"pkg","id":"a.py::x","outcome":"passed","duration":0.1,"message":""}"#,
                "\n",
                r#"{"package":"pkg","id":"a.py::y","outco"#
            ),
        )
        .unwrap();
        let part = read_part(&path).unwrap();
        assert_eq!(part.records.len(), 1);
        assert_eq!(part.warnings.len(), 2, "{:?}", part.warnings);
        let out = Captured::default();
        // No summary: nothing is known finished, so nothing vanished.
        assert_eq!(
            merge_to(&[path], opts(&dir), Box::new(out.clone())).unwrap(),
            RunVerdict::Unchanged
        );
        assert!(
            out.text().contains("skipped a line cut short"),
            "{}",
            out.text()
        );

        let bad = dir.join("bad.jsonl");
        std::fs::write(&bad, "{oops\n{}\n").unwrap();
        let err = read_part(&bad).unwrap_err().to_string();
        assert!(err.contains("bad.jsonl:1"), "{err}");
        assert!(merge_to(&[], opts(&dir), Box::new(Captured::default())).is_err());
        assert!(
            merge_to(
                &[dir.join("missing.jsonl")],
                opts(&dir),
                Box::new(Captured::default())
            )
            .is_err()
        );
    }

    #[test]
    fn filtered_inputs_report_nothing_vanished() {
        let dir = scratch("merge-filtered");
        snapshot(&dir, &[("a.py::x", Passed), ("a.py::y", Passed)]);
        let a = run_part(
            &dir,
            "a.jsonl",
            None,
            &[("a.py::x", Passed)],
            &["a.py"],
            false,
        );
        // Mark the input as a -k run.
        let text = std::fs::read_to_string(&a)
            .unwrap()
            .replace("\"filtered\":false", "\"filtered\":true");
        std::fs::write(&a, text).unwrap();
        assert_eq!(
            merge_to(&[a], opts(&dir), Box::new(Captured::default())).unwrap(),
            RunVerdict::Unchanged
        );
    }
}
