//! The outcome of one test, as every part of the runner records it.

use serde::{Deserialize, Serialize};

/// What happened to one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The test passed.
    Passed,
    /// An assertion or exception in the test's call.
    Failed,
    /// Skipped (by a marker or `pytest.skip`).
    Skipped,
    /// Expected to fail, and failed.
    Xfailed,
    /// Expected to fail, but passed.
    Xpassed,
    /// An error in setup or teardown (fixtures), or collecting the file.
    Error,
    /// The guest trapped, aborted, overflowed its stack or ran out of
    /// memory while running this test.
    Crashed,
    /// The test ran longer than `--timeout`.
    Timeout,
}

impl Outcome {
    /// All outcomes, in report order.
    pub const ALL: [Outcome; 8] = [
        Outcome::Passed,
        Outcome::Failed,
        Outcome::Skipped,
        Outcome::Xfailed,
        Outcome::Xpassed,
        Outcome::Error,
        Outcome::Crashed,
        Outcome::Timeout,
    ];

    /// The lowercase name used in reports and snapshots.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
            Outcome::Xfailed => "xfailed",
            Outcome::Xpassed => "xpassed",
            Outcome::Error => "error",
            Outcome::Crashed => "crashed",
            Outcome::Timeout => "timeout",
        }
    }

    /// Parse a name from [`Outcome::as_str`].
    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Did the test go wrong (counts against the run)?
    pub fn is_bad(self) -> bool {
        matches!(
            self,
            Outcome::Failed
                | Outcome::Error
                | Outcome::Crashed
                | Outcome::Timeout
                | Outcome::Xpassed
        )
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One test's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestRecord {
    /// The package whose suite this test belongs to.
    pub package: String,
    /// The pytest node id (`tests/test_x.py::TestA::test_b[param]`).
    pub id: String,
    /// What happened.
    pub outcome: Outcome,
    /// Seconds, setup to teardown.
    pub duration: f64,
    /// A short message: the failure's last line, the skip reason, the crash.
    #[serde(default)]
    pub message: String,
}
