//! `--json FILE`: JSON Lines, written and flushed as results arrive.
//!
//! One object per test, as it finishes (a test reported twice, e.g. passed
//! then a teardown error, has two lines; readers keep the worse outcome):
//!
//! ```json
//! {"package":"msgpack","id":"test/test_obj.py::test_bad_hook","outcome":"failed","duration":0.012,"message":"AssertionError: ..."}
//! ```
//!
//! and, when the run ends (also when it is interrupted), one summary
//! object:
//!
//! ```json
//! {"summary":{"passed":210,"failed":1,"skipped":3,"xfailed":0,"xpassed":0,"error":0,"crashed":0,"timeout":0,
//!   "total":214,"duration":12.5,"interrupted":false,"partition":"2/4","filtered":false,"pyodide":"314.0.7",
//!   "packages":{"msgpack":{"passed":210,...,"files_done":["test/test_buffer.py",...]}}}}
//! ```
//!
//! (on one line). `duration` is in seconds; `partition` is `"K/N"` or null;
//! `filtered` says `-k` selected some tests only; `files_done` lists the
//! test files that ran to the end, which `merge` needs to tell vanished
//! tests from tests another partition ran.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::options::ReportOptions;
use super::results::{Counts, Results};
use crate::runner::outcome::TestRecord;

/// The summary object's contents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SummaryLine {
    /// Tests per outcome, over all packages.
    #[serde(flatten)]
    pub counts: Counts,
    /// All tests.
    #[serde(default)]
    pub total: usize,
    /// Seconds the run took.
    #[serde(default)]
    pub duration: f64,
    /// The run was interrupted (Ctrl-C).
    #[serde(default)]
    pub interrupted: bool,
    /// `"K/N"`, or null for a whole run.
    #[serde(default)]
    pub partition: Option<String>,
    /// Only some tests were selected (`-k`).
    #[serde(default)]
    pub filtered: bool,
    /// Only some of the suites' jobs were chosen (`cpython MODULE...`):
    /// tests of the others are not vanished.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub some_jobs: bool,
    /// The Pyodide version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pyodide: Option<String>,
    /// The guests' `PYTHONHASHSEED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_seed: Option<u32>,
    /// The name the build's snapshots are kept under (`pyodide-314.0.7`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    /// Per package: its counts and the files that ran to the end.
    #[serde(default)]
    pub packages: BTreeMap<String, PackageSummary>,
}

/// One package in the summary object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PackageSummary {
    /// Tests per outcome.
    #[serde(flatten)]
    pub counts: Counts,
    /// Test files that ran to the end.
    #[serde(default)]
    pub files_done: Vec<String>,
    /// The distributions installed for the package's guests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub installed: Vec<crate::runner::lock::Installed>,
    /// Its tests whose outcome follows the memory layout (their changes
    /// are noted apart, not counted; `merge` does the same).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsteady: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct SummaryObject<T> {
    summary: T,
}

impl SummaryLine {
    /// The summary of a run.
    pub fn new(
        results: &Results,
        elapsed: Duration,
        interrupted: bool,
        opts: &ReportOptions,
    ) -> Self {
        let counts = results.counts();
        SummaryLine {
            counts,
            total: counts.total(),
            duration: round_ms(elapsed.as_secs_f64()),
            interrupted,
            partition: opts.partition.map(|(k, n)| format!("{k}/{n}")),
            filtered: opts.filtered,
            some_jobs: opts.some_jobs,
            pyodide: opts.pyodide_version.clone(),
            hash_seed: opts.hash_seed,
            build: opts.build.clone(),
            packages: results
                .iter()
                .map(|(name, pkg)| {
                    (
                        name.to_string(),
                        PackageSummary {
                            counts: pkg.counts,
                            files_done: pkg.files_done.iter().cloned().collect(),
                            installed: opts.installed.get(name).cloned().unwrap_or_default(),
                            unsteady: opts
                                .unsteady
                                .get(name)
                                .map(|ids| ids.iter().cloned().collect())
                                .unwrap_or_default(),
                        },
                    )
                })
                .collect(),
        }
    }
}

fn round_ms(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

/// One line of a JSON Lines report.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// A test.
    Test(TestRecord),
    /// The summary.
    Summary(SummaryLine),
}

/// Parse one line (`None` for a blank one).
pub fn parse_line(line: &str) -> Result<Option<Line>> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let value: serde_json::Value = serde_json::from_str(line)?;
    if value.get("summary").is_some() {
        let s: SummaryObject<SummaryLine> = serde_json::from_value(value)?;
        Ok(Some(Line::Summary(s.summary)))
    } else {
        Ok(Some(Line::Test(serde_json::from_value(value)?)))
    }
}

/// A JSON Lines report being written.
pub struct JsonlWriter {
    path: std::path::PathBuf,
    file: BufWriter<File>,
}

impl JsonlWriter {
    /// Create (truncate) the file.
    pub fn create(path: &Path) -> Result<Self> {
        let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        Ok(JsonlWriter {
            path: path.to_path_buf(),
            file: BufWriter::new(file),
        })
    }

    fn line<T: Serialize>(&mut self, value: &T) -> Result<()> {
        serde_json::to_writer(&mut self.file, value)?;
        self.file.write_all(b"\n")?;
        self.file.flush()?;
        Ok(())
    }

    /// Append a test, flushed.
    pub fn record(&mut self, record: &TestRecord) -> Result<()> {
        self.line(record)
            .with_context(|| format!("writing {}", self.path.display()))
    }

    /// Append the summary, flushed.
    pub fn summary(&mut self, summary: &SummaryLine) -> Result<()> {
        self.line(&SummaryObject { summary })
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::runner::outcome::Outcome::*;

    #[test]
    fn lines_and_summary() {
        let dir = scratch("jsonl");
        let path = dir.join("out.jsonl");
        let mut w = JsonlWriter::create(&path).unwrap();
        let a = rec(
            "msgpack",
            "t.py::a[\"x\"\n]",
            Failed,
            0.25,
            "Assertion\"Error\"\nline 2 ü",
        );
        let b = rec("msgpack", "t.py::b", Passed, 1.0, "");
        w.record(&a).unwrap();
        w.record(&b).unwrap();

        let mut results = Results::new(&["msgpack".into(), "empty".into()]);
        results.add(&a);
        results.add(&b);
        results
            .packages
            .get_mut("msgpack")
            .unwrap()
            .files_done
            .insert("t.py".into());
        let opts = ReportOptions {
            partition: Some((2, 4)),
            pyodide_version: Some("314.0.7".into()),
            ..Default::default()
        };
        let s = SummaryLine::new(&results, Duration::from_millis(12345), true, &opts);
        w.summary(&s).unwrap();
        drop(w);

        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            r#"{"package":"msgpack","id":"t.py::a[\"x\"\n]","outcome":"failed","duration":0.25,"message":"Assertion\"Error\"\nline 2 ü"}"#
        );
        let v: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
        let sum = &v["summary"];
        assert_eq!(sum["passed"], 1);
        assert_eq!(sum["failed"], 1);
        assert_eq!(sum["total"], 2);
        assert_eq!(sum["duration"], 12.345);
        assert_eq!(sum["interrupted"], true);
        assert_eq!(sum["partition"], "2/4");
        assert_eq!(sum["pyodide"], "314.0.7");
        assert_eq!(sum["packages"]["msgpack"]["files_done"][0], "t.py");
        assert_eq!(sum["packages"]["empty"]["passed"], 0);

        assert_eq!(parse_line(lines[0]).unwrap(), Some(Line::Test(a)));
        assert_eq!(parse_line(lines[2]).unwrap(), Some(Line::Summary(s)));
        assert_eq!(parse_line("  ").unwrap(), None);
        assert!(parse_line("{\"id\": 3}").is_err());
    }

    #[test]
    fn whole_run_has_null_partition() {
        let s = SummaryLine::new(
            &Results::default(),
            Duration::ZERO,
            false,
            &ReportOptions::default(),
        );
        let v = serde_json::to_value(SummaryObject { summary: &s }).unwrap();
        assert!(v["summary"]["partition"].is_null());
        assert!(v["summary"].get("pyodide").is_none());
    }
}
