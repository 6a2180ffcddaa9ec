//! [`Reporter`]: collects a run's results as they come and writes them
//! out: live lines, JSON Lines and JUnit as results arrive, then snapshots
//! compared (or updated) and the summary.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::options::{ReportOptions, RunVerdict};
use super::results::{PackageResults, Results, file_of};
use super::snapshot::{self, Coverage, PackageChanges, Snapshot};
use super::{jsonl, junit, markdown, progress, summary};
use crate::runner::outcome::TestRecord;

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
        let properties: Vec<(String, String)> = opts
            .hash_seed
            .map(|seed| ("hash_seed".to_string(), seed.to_string()))
            .into_iter()
            .collect();
        let junit = opts
            .junit
            .as_ref()
            .map(|p| junit::JunitWriter::new(p, properties));
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

    /// Mark `files` of `package` as finished (a merged part's summary says so).
    pub fn files_done(&mut self, package: &str, files: impl IntoIterator<Item = String>) {
        self.results.package(package).files_done.extend(files);
    }

    /// What each package's comparison may cover.
    fn coverage(&self, interrupted: bool) -> BTreeMap<String, Coverage> {
        let full =
            !interrupted && !self.opts.some_jobs && self.opts.partition.is_none_or(|(_, n)| n == 1);
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
    pub fn finish_with(
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
                let mut changes = snapshot::compare(
                    name,
                    snap,
                    &pkg.tests,
                    cov,
                    self.opts.pyodide_version.as_deref(),
                );
                if let Some(ids) = self.opts.unsteady.get(name) {
                    changes.set_apart(ids);
                }
                changes
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
        let mut kept = Vec::new();
        if self.opts.update {
            // Other runs (partitions) may update the same snapshots now:
            // each is read again under the directory's lock, this run's
            // changes applied to it, and written before the lock is let go.
            let dir = &self.opts.snapshot_dir;
            let _lock = crate::atomic_file::Lock::acquire(&dir.join(".lock"))?;
            for &(name, pkg, _, cov) in &compared {
                let old = Snapshot::load(dir, name)?;
                for (file, n) in Snapshot::kept_on_crash(old.as_ref(), &pkg.tests) {
                    kept.push(format!(
                        "{name}: kept the {n} previous outcomes of {file}: it crashed before its tests ran"
                    ));
                }
                let installed = self.opts.installed.get(name).map(|list| {
                    list.iter()
                        .map(|i| {
                            (
                                snapshot::normalize_name(&i.name),
                                format!("{} ({})", i.version, i.source),
                            )
                        })
                        .collect()
                });
                let new = Snapshot::updated_with(
                    name,
                    old.as_ref(),
                    &pkg.tests,
                    cov,
                    self.opts.pyodide_version.as_deref(),
                    installed,
                );
                if old.as_ref() != Some(&new) {
                    written.push(new.save(dir)?);
                }
            }
        }

        if let Some(path) = &self.opts.markdown {
            let text = markdown::render(&markdown::MarkdownInput {
                results: &self.results,
                changes: &changes,
                elapsed,
                interrupted,
                update: self.opts.update,
                snapshot_dir: &self.opts.snapshot_dir,
                partition: self.opts.partition,
                pyodide: self.opts.pyodide_version.as_deref(),
            });
            crate::atomic_file::write(path, text.as_bytes())?;
        }

        let text = summary::render(&summary::SummaryInput {
            results: &self.results,
            changes: &changes,
            elapsed,
            interrupted,
            update: self.opts.update,
            written: &written,
            kept: &kept,
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
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::runner::outcome::Outcome::*;
    use crate::runner::report::results::Counts;
    use crate::runner::report::testutil::*;

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
    fn a_file_below_a_skipped_directory_counts_its_record() {
        let mut r = Results::new(&["pkg".into()]);
        r.add(&rec("pkg", "t/sub", Skipped, 0.0, "no numpy"));
        r.add(&rec("pkg", "t/test_a.py::x", Passed, 0.1, ""));
        let pkg = &r.packages["pkg"];
        assert_eq!(
            pkg.file_counts("t/sub/deeper/test_b.py").describe(),
            "1 skipped"
        );
        assert_eq!(pkg.file_counts("t/test_a.py").describe(), "1 passed");
        assert_eq!(pkg.file_counts("t/test_c.py").describe(), "0 tests");
        assert_eq!(r.counts().total(), 2);
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
            installed: Default::default(),
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
