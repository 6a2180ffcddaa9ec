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
//! - [`reporter`]: [`Reporter`], which the others serve;
//! - [`options`]: what to report and where, and the run's verdict;
//! - [`results`]: the results as they accumulate, counts per outcome;
//! - [`style`]: colours and one-line messages;
//! - [`snapshot`]: the per-package snapshot files (`snapshots/<pkg>.json`)
//!   and the comparison of a run against them;
//! - [`normalize`]: the test ids snapshots key tests by ([`normalize_id`]);
//! - [`jsonl`]: `--json FILE`, JSON Lines;
//! - [`junit`]: `--junit FILE`, JUnit XML;
//! - [`markdown`]: `--markdown FILE`, a short summary for a CI job's page;
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
pub mod markdown;
pub mod merge;
pub mod normalize;
pub mod options;
pub mod partition;
pub mod progress;
pub mod reporter;
pub mod results;
pub mod snapshot;
pub mod style;
pub mod summary;

pub use merge::merge;
pub use normalize::normalize_id;
pub use options::{ReportOptions, RunVerdict};
pub use partition::{Partition, parse_partition};
pub use reporter::Reporter;
pub use results::{Counts, PackageResults, Results, file_of};

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
