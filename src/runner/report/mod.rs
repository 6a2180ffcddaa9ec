//! Reporting a test run: live progress, JSON Lines and JUnit files written
//! as results arrive, per-package snapshots compared (or updated), the
//! summary, and the run's exit status.
//!
//! The scheduler calls [`Reporter::record`] for every test as it finishes
//! (from one thread), [`Reporter::file_done`] for every test file that
//! finished, then [`Reporter::finish`].
//!
//! One file per job:
//!
//! - [`snapshot`]: the per-package snapshot files (`snapshots/<pkg>.json`)
//!   and the comparison of a run against them;
//! - [`normalize`]: the test ids snapshots key tests by ([`normalize_id`]);
//! - [`jsonl`]: `--json FILE`, JSON Lines;
//! - [`junit`]: `--junit FILE`, JUnit XML;
//! - [`progress`]: the live progress bar, or plain lines;
//! - [`summary`]: the final summary and the changes against the snapshots;
//! - [`mod@merge`]: `pyodide-test merge`, partitions' JSON Lines into one report;
//! - [`mod@partition`]: `--partition K/N`.
//!
//! Live lines and the summary go to stderr; stdout stays free.
//!
//! Which tests a comparison may call *vanished*: with `-k` (see
//! [`ReportOptions::filtered`]) none; with `--partition` or after an
//! interruption only those in the test files that finished in this run
//! (see [`snapshot::Coverage`]); otherwise every test of the snapshot that
//! did not run.

pub mod jsonl;
pub mod junit;
pub mod merge;
pub mod normalize;
pub mod partition;
pub mod progress;
pub mod snapshot;
pub mod summary;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::outcome::{Outcome, TestRecord};
use snapshot::{Coverage, PackageChanges, Snapshot};

pub use merge::merge;
pub use normalize::normalize_id;
pub use partition::parse_partition;

/// What to report and where.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// `--json FILE`: JSON Lines, one object per test, then a summary object.
    pub json: Option<PathBuf>,
    /// `--junit FILE`: JUnit XML for CI.
    pub junit: Option<PathBuf>,
    /// Directory of the per-package snapshot files (`--snapshot-dir`,
    /// default `./snapshots`).
    pub snapshot_dir: PathBuf,
    /// `--update`: accept the current outcomes as the snapshots.
    pub update: bool,
    /// Draw a live progress bar (stderr is a terminal) instead of plain lines.
    pub progress: bool,
    /// `--partition K/N` of the run, recorded in reports (snapshots are only
    /// compared for the tests this partition ran).
    pub partition: Option<(u32, u32)>,
    /// Only some tests of the files were selected (`-k`): no test is
    /// reported as vanished, and `--update` only adds or changes entries.
    pub filtered: bool,
    /// The Pyodide version of the run, recorded in the snapshots' header and
    /// the JSON summary.
    pub pyodide_version: Option<String>,
    /// Colour the output: `None` decides (stderr is a terminal and
    /// `NO_COLOR` is unset).
    pub color: Option<bool>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            json: None,
            junit: None,
            snapshot_dir: PathBuf::from(snapshot::DEFAULT_DIR),
            update: false,
            progress: false,
            partition: None,
            filtered: false,
            pyodide_version: None,
            color: None,
        }
    }
}

impl ReportOptions {
    /// Whether to colour the output.
    pub fn use_color(&self) -> bool {
        self.color.unwrap_or_else(|| {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        })
    }
}

/// How a run ended, for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunVerdict {
    /// Every outcome equals its snapshot (exit 0). Also the verdict after
    /// `--update` wrote the snapshots (they equal the outcomes now).
    Unchanged,
    /// Something changed against the snapshots, or there was no snapshot
    /// (exit 1).
    Changed,
}

impl RunVerdict {
    /// The process exit status: 0 unchanged, 1 changed.
    pub fn exit_code(self) -> u8 {
        match self {
            RunVerdict::Unchanged => 0,
            RunVerdict::Changed => 1,
        }
    }
}

/// Tests per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counts {
    /// Passed tests.
    pub passed: usize,
    /// Failed tests.
    pub failed: usize,
    /// Skipped tests.
    pub skipped: usize,
    /// Expected failures.
    pub xfailed: usize,
    /// Unexpected passes.
    pub xpassed: usize,
    /// Errors in setup, teardown or collection.
    pub error: usize,
    /// Crashed tests.
    pub crashed: usize,
    /// Tests that timed out.
    pub timeout: usize,
}

impl Counts {
    fn slot(&mut self, outcome: Outcome) -> &mut usize {
        match outcome {
            Outcome::Passed => &mut self.passed,
            Outcome::Failed => &mut self.failed,
            Outcome::Skipped => &mut self.skipped,
            Outcome::Xfailed => &mut self.xfailed,
            Outcome::Xpassed => &mut self.xpassed,
            Outcome::Error => &mut self.error,
            Outcome::Crashed => &mut self.crashed,
            Outcome::Timeout => &mut self.timeout,
        }
    }

    /// The number of tests with this outcome.
    pub fn get(&self, outcome: Outcome) -> usize {
        let mut c = *self;
        *c.slot(outcome)
    }

    /// Count one more test with this outcome.
    pub fn add(&mut self, outcome: Outcome) {
        *self.slot(outcome) += 1;
    }

    /// Count one test fewer with this outcome.
    pub fn remove(&mut self, outcome: Outcome) {
        let n = self.slot(outcome);
        *n = n.saturating_sub(1);
    }

    /// Add another set of counts.
    pub fn add_all(&mut self, other: &Counts) {
        for o in Outcome::ALL {
            *self.slot(o) += other.get(o);
        }
    }

    /// All tests.
    pub fn total(&self) -> usize {
        Outcome::ALL.iter().map(|&o| self.get(o)).sum()
    }

    /// Tests with a bad outcome ([`Outcome::is_bad`]).
    pub fn bad(&self) -> usize {
        Outcome::ALL
            .iter()
            .filter(|o| o.is_bad())
            .map(|&o| self.get(o))
            .sum()
    }

    /// `12 passed, 1 failed, 3 skipped` (outcomes with no test left out;
    /// `0 tests` when empty).
    pub fn describe(&self) -> String {
        let parts: Vec<String> = Outcome::ALL
            .iter()
            .filter(|&&o| self.get(o) > 0)
            .map(|&o| format!("{} {}", self.get(o), o))
            .collect();
        if parts.is_empty() {
            "0 tests".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// The test file of a pytest node id: the part before the first `::`.
pub fn file_of(id: &str) -> &str {
    id.split("::").next().unwrap_or(id)
}

/// `text` in an ANSI style (SGR parameters such as `1;31`) when `color`.
pub(crate) fn paint(text: &str, style: &str, color: bool) -> String {
    if color {
        format!("\x1b[{style}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// A message on one line: its non-blank lines trimmed and joined with
/// ` | `, cut to `width` characters (ending in `…`).
pub(crate) fn one_line(message: &str, width: usize) -> String {
    let joined = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ");
    if joined.chars().count() <= width {
        joined
    } else {
        let mut cut: String = joined.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// One package's results so far.
#[derive(Debug, Clone, Default)]
pub struct PackageResults {
    /// The latest record of every test id.
    pub tests: BTreeMap<String, TestRecord>,
    /// Test files reported finished.
    pub files_done: BTreeSet<String>,
    /// Tests per outcome (of `tests`).
    pub counts: Counts,
}

impl PackageResults {
    /// Record a test. A test reported twice (pytest reports a teardown error
    /// after the call passed) keeps the worse outcome: a bad outcome is not
    /// replaced by a good one; otherwise the later one wins.
    fn add(&mut self, record: &TestRecord) {
        if let Some(old) = self.tests.get(&record.id) {
            if old.outcome.is_bad() && !record.outcome.is_bad() {
                return;
            }
            self.counts.remove(old.outcome);
        }
        self.counts.add(record.outcome);
        self.tests.insert(record.id.clone(), record.clone());
    }

    /// Counts of the tests of one file.
    pub fn file_counts(&self, file: &str) -> Counts {
        let mut counts = Counts::default();
        for (id, rec) in self.tests.range(file.to_string()..) {
            if !id.starts_with(file) {
                break;
            }
            if file_of(id) == file {
                counts.add(rec.outcome);
            }
        }
        counts
    }
}

/// Every package's results, in the run's package order.
#[derive(Debug, Clone, Default)]
pub struct Results {
    /// Package names in the order given (then any others as they came).
    pub order: Vec<String>,
    /// Results per package.
    pub packages: BTreeMap<String, PackageResults>,
}

impl Results {
    fn new(packages: &[String]) -> Self {
        let mut r = Results::default();
        for p in packages {
            r.package(p);
        }
        r
    }

    fn package(&mut self, name: &str) -> &mut PackageResults {
        if !self.packages.contains_key(name) {
            self.order.push(name.to_string());
        }
        self.packages.entry(name.to_string()).or_default()
    }

    /// Record one test.
    pub fn add(&mut self, record: &TestRecord) {
        self.package(&record.package).add(record);
    }

    /// The packages with their results, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &PackageResults)> {
        self.order
            .iter()
            .map(|p| (p.as_str(), &self.packages[p.as_str()]))
    }

    /// Counts over all packages.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for p in self.packages.values() {
            c.add_all(&p.counts);
        }
        c
    }
}

/// Collects results as they come and writes them out.
pub struct Reporter {
    opts: ReportOptions,
    color: bool,
    results: Results,
    snapshots: BTreeMap<String, Option<Snapshot>>,
    json: Option<jsonl::JsonlWriter>,
    junit: Option<junit::JunitWriter>,
    progress: progress::Progress,
    out: Box<dyn Write + Send>,
    started: Instant,
}

impl Reporter {
    /// Start reporting a run of `planned` test files over `packages`.
    ///
    /// Reads the packages' snapshots (a corrupt one is an error now, not
    /// after the run) and creates the `--json`/`--junit` files.
    pub fn new(opts: ReportOptions, packages: &[String], planned: usize) -> Result<Self> {
        let color = opts.use_color();
        let progress = if opts.progress {
            progress::Progress::bar(planned, color)
        } else {
            progress::Progress::plain(planned, color)
        };
        Self::with_output(opts, packages, progress, Box::new(std::io::stderr()))
    }

    /// Like [`Reporter::new`], with the progress display and the writer of
    /// plain lines and the summary given (tests, `merge`).
    pub fn with_output(
        opts: ReportOptions,
        packages: &[String],
        progress: progress::Progress,
        out: Box<dyn Write + Send>,
    ) -> Result<Self> {
        let mut snapshots = BTreeMap::new();
        for p in packages {
            snapshots.insert(p.clone(), Snapshot::load(&opts.snapshot_dir, p)?);
        }
        let json = match &opts.json {
            Some(path) => Some(jsonl::JsonlWriter::create(path)?),
            None => None,
        };
        let junit = opts.junit.as_ref().map(|p| junit::JunitWriter::new(p));
        Ok(Reporter {
            color: opts.use_color(),
            opts,
            results: Results::new(packages),
            snapshots,
            json,
            junit,
            progress,
            out,
            started: Instant::now(),
        })
    }

    /// One test finished: show it and append it to the report files
    /// (flushed, so an interrupted run keeps it).
    pub fn record(&mut self, record: &TestRecord) -> Result<()> {
        self.results.add(record);
        if let Some(json) = &mut self.json {
            json.record(record)?;
        }
        let counts = self.results.counts();
        self.progress.record(&mut self.out, record, &counts);
        Ok(())
    }

    /// One test file finished (for the progress bar, and for which tests
    /// may be called vanished). `file` is the node ids' file part
    /// (`tests/test_x.py`).
    pub fn file_done(&mut self, package: &str, file: &str) {
        let pkg = self.results.package(package);
        pkg.files_done.insert(file.to_string());
        let file_counts = pkg.file_counts(file);
        self.progress
            .file_done(&mut self.out, package, file, &file_counts);
        if let Some(junit) = &mut self.junit {
            // Keep the JUnit file valid and recent for a run that is killed.
            let _ = junit.maybe_write(&self.results, self.started.elapsed());
        }
    }

    /// The results so far.
    pub fn results(&self) -> &Results {
        &self.results
    }

    /// What each package's comparison may cover.
    fn coverage(&self, interrupted: bool) -> BTreeMap<String, Coverage> {
        let full = !interrupted && self.opts.partition.is_none_or(|(_, n)| n == 1);
        self.results
            .iter()
            .map(|(name, pkg)| {
                let cov = if self.opts.filtered {
                    Coverage::Nothing
                } else if full {
                    Coverage::All
                } else {
                    let mut files = pkg.files_done.clone();
                    if !interrupted {
                        // Every file a test came from finished.
                        files.extend(pkg.tests.keys().map(|id| file_of(id).to_string()));
                    }
                    Coverage::Files(files)
                };
                (name.to_string(), cov)
            })
            .collect()
    }

    /// The run is over (or was interrupted): print the summary and the
    /// changes against the snapshots, finish the files, update snapshots if
    /// asked. With `--update` (also after an interruption: what finished is
    /// merged in) the verdict is [`RunVerdict::Unchanged`].
    pub fn finish(self, interrupted: bool) -> Result<RunVerdict> {
        let coverage = self.coverage(interrupted);
        let elapsed = self.started.elapsed();
        self.finish_with(interrupted, coverage, elapsed)
    }

    /// [`Reporter::finish`] with the coverage and duration given (`merge`).
    fn finish_with(
        mut self,
        interrupted: bool,
        coverage: BTreeMap<String, Coverage>,
        elapsed: Duration,
    ) -> Result<RunVerdict> {
        self.progress.finish();
        // Packages that were not announced in `new` (records of others).
        for name in &self.results.order {
            if !self.snapshots.contains_key(name) {
                let snap = Snapshot::load(&self.opts.snapshot_dir, name)?;
                self.snapshots.insert(name.clone(), snap);
            }
        }
        // A package without a snapshot that this partial run did not reach
        // (no test in this partition) is neither compared nor written.
        let compared: Vec<(&str, &PackageResults, Option<&Snapshot>, &Coverage)> = self
            .results
            .iter()
            .map(|(name, pkg)| {
                let snap = self.snapshots.get(name).and_then(Option::as_ref);
                (
                    name,
                    pkg,
                    snap,
                    coverage.get(name).unwrap_or(&Coverage::Nothing),
                )
            })
            .filter(|(_, pkg, snap, cov)| {
                snap.is_some() || !pkg.tests.is_empty() || **cov == Coverage::All
            })
            .collect();
        let changes: Vec<PackageChanges> = compared
            .iter()
            .map(|&(name, pkg, snap, cov)| {
                snapshot::compare(
                    name,
                    snap,
                    &pkg.tests,
                    cov,
                    self.opts.pyodide_version.as_deref(),
                )
            })
            .collect();

        // The files first: they must exist even if the summary fails.
        if let Some(json) = &mut self.json {
            json.summary(&jsonl::SummaryLine::new(
                &self.results,
                elapsed,
                interrupted,
                &self.opts,
            ))?;
        }
        if let Some(junit) = &mut self.junit {
            junit.write(&self.results, elapsed)?;
        }

        let mut written = Vec::new();
        if self.opts.update {
            for &(name, pkg, old, cov) in &compared {
                let new = Snapshot::updated(
                    name,
                    old,
                    &pkg.tests,
                    cov,
                    self.opts.pyodide_version.as_deref(),
                );
                if old != Some(&new) {
                    written.push(new.save(&self.opts.snapshot_dir)?);
                }
            }
        }

        let text = summary::render(&summary::SummaryInput {
            results: &self.results,
            changes: &changes,
            elapsed,
            interrupted,
            update: self.opts.update,
            written: &written,
            snapshot_dir: &self.opts.snapshot_dir,
            partition: self.opts.partition,
            vanished_scope: if coverage.values().any(|c| *c == Coverage::Nothing) {
                summary::VanishedScope::None
            } else if coverage.values().any(|c| matches!(c, Coverage::Files(_))) {
                summary::VanishedScope::FinishedFiles
            } else {
                summary::VanishedScope::All
            },
            color: self.color,
        });
        self.out.write_all(text.as_bytes())?;
        self.out.flush()?;

        let changed = changes.iter().any(|c| c.is_changed());
        Ok(if changed && !self.opts.update {
            RunVerdict::Changed
        } else {
            RunVerdict::Unchanged
        })
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Records and scratch directories for the report tests.

    use std::path::PathBuf;
    use std::sync::{Arc, Mutex};

    use crate::runner::outcome::{Outcome, TestRecord};

    /// A record.
    pub fn rec(
        package: &str,
        id: &str,
        outcome: Outcome,
        duration: f64,
        message: &str,
    ) -> TestRecord {
        TestRecord {
            package: package.into(),
            id: id.into(),
            outcome,
            duration,
            message: message.into(),
        }
    }

    /// A fresh empty directory under the system's temp dir.
    pub fn scratch(name: &str) -> PathBuf {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pyodide-test-report-{}-{}-{}",
            std::process::id(),
            name,
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A writer whose bytes the test can read afterwards.
    #[derive(Clone, Default)]
    pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

    impl Captured {
        /// What was written.
        pub fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;
    use Outcome::*;

    fn opts(dir: &std::path::Path) -> ReportOptions {
        ReportOptions {
            snapshot_dir: dir.join("snapshots"),
            color: Some(false),
            ..Default::default()
        }
    }

    fn reporter(opts: ReportOptions, out: &Captured) -> Reporter {
        Reporter::with_output(
            opts,
            &["pkg".to_string()],
            progress::Progress::plain(2, false),
            Box::new(out.clone()),
        )
        .unwrap()
    }

    #[test]
    fn counts_and_duplicates() {
        let mut r = Results::new(&["pkg".into()]);
        r.add(&rec("pkg", "t.py::a", Passed, 0.1, ""));
        r.add(&rec("pkg", "t.py::a", Error, 0.1, "teardown"));
        r.add(&rec("pkg", "t.py::a", Passed, 0.1, ""));
        r.add(&rec("pkg", "t.py::b", Skipped, 0.0, ""));
        let c = r.counts();
        assert_eq!(
            (c.passed, c.error, c.skipped, c.total(), c.bad()),
            (0, 1, 1, 2, 1)
        );
        assert_eq!(c.describe(), "1 skipped, 1 error");
        assert_eq!(r.packages["pkg"].tests["t.py::a"].message, "teardown");
        assert_eq!(Counts::default().describe(), "0 tests");
    }

    #[test]
    fn file_counts_stop_at_the_file() {
        let mut r = Results::new(&["pkg".into()]);
        r.add(&rec("pkg", "a.py::x", Passed, 0.1, ""));
        r.add(&rec("pkg", "a.py::y", Failed, 0.1, ""));
        r.add(&rec("pkg", "a.pyx::z", Failed, 0.1, ""));
        r.add(&rec("pkg", "b.py::x", Passed, 0.1, ""));
        let c = r.packages["pkg"].file_counts("a.py");
        assert_eq!((c.passed, c.failed), (1, 1));
    }

    #[test]
    fn first_run_is_changed_then_update_then_unchanged() {
        let dir = scratch("lifecycle");
        let out = Captured::default();
        let mut rep = reporter(opts(&dir), &out);
        rep.record(&rec("pkg", "t.py::a", Passed, 0.1, "")).unwrap();
        rep.file_done("pkg", "t.py");
        assert_eq!(rep.finish(false).unwrap(), RunVerdict::Changed);
        assert!(out.text().contains("NO SNAPSHOT"), "{}", out.text());
        assert!(!dir.join("snapshots/pkg.json").exists());

        let mut o = opts(&dir);
        o.update = true;
        let mut rep = reporter(o, &out);
        rep.record(&rec("pkg", "t.py::a", Passed, 0.1, "")).unwrap();
        assert_eq!(rep.finish(false).unwrap(), RunVerdict::Unchanged);
        assert!(dir.join("snapshots/pkg.json").exists());

        let out = Captured::default();
        let mut rep = reporter(opts(&dir), &out);
        rep.record(&rec("pkg", "t.py::a", Passed, 0.1, "")).unwrap();
        assert_eq!(rep.finish(false).unwrap(), RunVerdict::Unchanged);

        let out = Captured::default();
        let mut rep = reporter(opts(&dir), &out);
        rep.record(&rec("pkg", "t.py::a", Failed, 0.1, "AssertionError"))
            .unwrap();
        assert_eq!(rep.finish(false).unwrap(), RunVerdict::Changed);
        let text = out.text();
        assert!(
            text.contains("FAILED  pkg  t.py::a  AssertionError"),
            "{text}"
        );
        assert!(text.contains("NEWLY FAILING"), "{text}");
        assert!(text.contains("--update"), "{text}");
    }

    #[test]
    fn interrupted_run_reports_vanished_only_in_finished_files() {
        let dir = scratch("interrupted");
        let snap = Snapshot {
            package: "pkg".into(),
            pyodide: None,
            tests: [
                ("a.py::x", Passed),
                ("a.py::y", Passed),
                ("b.py::x", Passed),
                ("b.py::y", Passed),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        };
        snap.save(&dir.join("snapshots")).unwrap();
        let out = Captured::default();
        let mut rep = reporter(opts(&dir), &out);
        rep.record(&rec("pkg", "a.py::x", Passed, 0.1, "")).unwrap();
        rep.file_done("pkg", "a.py");
        rep.record(&rec("pkg", "b.py::x", Passed, 0.1, "")).unwrap();
        assert_eq!(rep.finish(true).unwrap(), RunVerdict::Changed);
        let text = out.text();
        assert!(text.contains("VANISHED       pkg  a.py::y"), "{text}");
        assert!(!text.contains("b.py::y"), "{text}");
    }

    #[test]
    fn files_are_written() {
        let dir = scratch("files");
        let mut o = opts(&dir);
        o.json = Some(dir.join("out.jsonl"));
        o.junit = Some(dir.join("out.xml"));
        let out = Captured::default();
        let mut rep = reporter(o, &out);
        rep.record(&rec("pkg", "t.py::a", Passed, 0.1, "")).unwrap();
        // Written and flushed as it arrives.
        let partial = std::fs::read_to_string(dir.join("out.jsonl")).unwrap();
        assert_eq!(partial.lines().count(), 1);
        rep.finish(false).unwrap();
        let json = std::fs::read_to_string(dir.join("out.jsonl")).unwrap();
        assert_eq!(json.lines().count(), 2);
        let xml = std::fs::read_to_string(dir.join("out.xml")).unwrap();
        assert!(xml.contains(r#"<testcase classname="t" name="a""#), "{xml}");
    }

    #[test]
    fn partition_without_a_package_s_tests() {
        let dir = scratch("partition-empty");
        let mut o = opts(&dir);
        o.partition = Some((2, 3));
        o.update = true;
        let out = Captured::default();
        let mut rep = Reporter::with_output(
            o.clone(),
            &["pkg".to_string(), "other".to_string()],
            progress::Progress::plain(1, false),
            Box::new(out.clone()),
        )
        .unwrap();
        rep.record(&rec("pkg", "t.py::a", Passed, 0.1, "")).unwrap();
        rep.file_done("pkg", "t.py");
        assert_eq!(rep.finish(false).unwrap(), RunVerdict::Unchanged);
        // `other` had no test in this partition: no empty snapshot for it.
        assert!(dir.join("snapshots/pkg.json").exists());
        assert!(!dir.join("snapshots/other.json").exists());
        o.update = false;
        let out = Captured::default();
        let rep = Reporter::with_output(
            o,
            &["pkg".to_string(), "other".to_string()],
            progress::Progress::plain(1, false),
            Box::new(out.clone()),
        )
        .unwrap();
        assert_eq!(rep.finish(false).unwrap(), RunVerdict::Unchanged);
        assert!(!out.text().contains("NO SNAPSHOT"), "{}", out.text());
    }

    #[test]
    fn reporter_is_send() {
        fn send<T: Send>() {}
        send::<Reporter>();
    }

    #[test]
    fn default_snapshot_dir() {
        assert_eq!(
            ReportOptions::default().snapshot_dir,
            PathBuf::from("snapshots")
        );
        assert_eq!(RunVerdict::Changed.exit_code(), 1);
        assert_eq!(RunVerdict::Unchanged.exit_code(), 0);
    }
}
