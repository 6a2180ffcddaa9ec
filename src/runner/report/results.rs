//! A run's results as they accumulate: every test's latest record per
//! package, and the counts per outcome.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::runner::outcome::{Outcome, TestRecord};

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

/// Whether test `id` belongs to the job (test file or module) `file`: it is
/// the job's own record, a pytest node id in the file (`file::...`), or a
/// unittest id in the module (`file.Class.test`).
pub fn in_file(id: &str, file: &str) -> bool {
    id.strip_prefix(file)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::") || rest.starts_with('.'))
}

/// The jobs `id` could belong to: its pytest file, and each dotted prefix
/// of a unittest id (`test.test_json` of `test.test_json.T.test_x`).
pub fn files_of(id: &str) -> impl Iterator<Item = &str> {
    let dotted = id
        .match_indices('.')
        .map(move |(i, _)| &id[..i])
        .filter(|p| !p.contains("::"));
    std::iter::once(file_of(id)).chain(dotted)
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

    /// Counts of the tests of one file; for a file without any, the
    /// record of the nearest directory above it that has one (a directory
    /// its conftest skipped: that record is the file's outcome too).
    pub fn file_counts(&self, file: &str) -> Counts {
        let mut counts = Counts::default();
        for (id, rec) in self.tests.range(file.to_string()..) {
            if !id.starts_with(file) {
                break;
            }
            if in_file(id, file) {
                counts.add(rec.outcome);
            }
        }
        let mut below = file;
        while counts.total() == 0
            && let Some((dir, _)) = below.rsplit_once('/')
        {
            if let Some(rec) = self.tests.get(dir) {
                counts.add(rec.outcome);
            }
            below = dir;
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
    /// Results for `packages`, in that order, none recorded yet.
    pub fn new(packages: &[String]) -> Self {
        let mut r = Results::default();
        for p in packages {
            r.package(p);
        }
        r
    }

    /// The results of `name`, added (last in order) if new.
    pub fn package(&mut self, name: &str) -> &mut PackageResults {
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
