//! What a run reports and where ([`ReportOptions`]), and how it ended
//! ([`RunVerdict`]).

use std::io::IsTerminal;
use std::path::PathBuf;

use super::snapshot;

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
    /// Only some of the suite's jobs were chosen (named test modules): as
    /// with a partition, snapshots are compared for the jobs that ran.
    pub some_jobs: bool,
    /// Only some tests of the files were selected (`-k`): no test is
    /// reported as vanished, and `--update` only adds or changes entries.
    pub filtered: bool,
    /// The Pyodide version of the run, recorded in the snapshots' header and
    /// the JSON summary.
    pub pyodide_version: Option<String>,
    /// The guests' `PYTHONHASHSEED`, recorded in the JSON summary and JUnit.
    pub hash_seed: Option<u32>,
    /// Per package, the distributions installed for its guests (name,
    /// version, source), recorded in the JSON summary and the snapshots.
    pub installed: std::collections::BTreeMap<String, Vec<crate::runner::lock::Installed>>,
    /// `--markdown FILE`: a short summary of the run and its changes for a
    /// CI job's page.
    pub markdown: Option<PathBuf>,
    /// The name the build's snapshots are kept under (`pyodide-314.0.7`),
    /// recorded in the JSON summary so that `merge` finds them.
    pub build: Option<String>,
    /// Colour the output: `None` decides (stderr is a terminal and
    /// `NO_COLOR` is unset).
    pub color: Option<bool>,
    /// Per package, the tests whose outcome follows the guest's memory
    /// layout (CPython's plan's isolated tests): their changes are listed
    /// apart and do not count (see `PackageChanges::set_apart`).
    pub unsteady: std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
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
            some_jobs: false,
            filtered: false,
            pyodide_version: None,
            hash_seed: None,
            installed: Default::default(),
            markdown: None,
            build: None,
            color: None,
            unsteady: Default::default(),
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
