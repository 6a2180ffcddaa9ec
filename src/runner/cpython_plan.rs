//! The plan of CPython's own test suite (`cpython-tests/plan.toml`): the
//! test modules, and single tests, that cannot run here, each with its
//! kind and reason. A skipped module is reported as one `skipped` record
//! (its id `test.<module>`, the reason as message) without starting a
//! guest; a skipped test is reported `skipped` by the driver without
//! running it. An isolated test (`[[isolate]]`) runs, but alone in its
//! guest: the driver ends the guest before it (when the guest has run
//! another test) and after it, and the module goes on in a fresh one.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// Why something cannot run here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipKind {
    /// A module this Pyodide is built without (`dbm`, `_pydecimal`, ...).
    Build,
    /// File-system semantics MEMFS lacks (permissions, links, ...).
    Fs,
    /// Needs threads.
    Threads,
    /// Needs subprocesses.
    Subprocess,
    /// Needs a real network.
    Network,
    /// Needs signal delivery.
    Signals,
    /// Needs `fork`.
    Fork,
    /// Hangs in this build (a bug of the build, not of either runtime).
    Hang,
    /// Crashes in this build.
    Crash,
    /// Needs what this platform lacks (another OS, a tool, a C compiler).
    Platform,
    /// Reads the stdlib's sources from a directory (ours is a zip).
    Zipimport,
    /// Takes too long to be worth it in a run.
    Slow,
    /// Expects a different CPython or `Lib/test` version.
    VersionSkew,
    /// Another reason (the reason says which).
    Other,
}

/// One `[[skip]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skip {
    /// The module (`test_x`, or `test_pkg.test_sub` in a package).
    pub module: String,
    /// Only these tests (full unittest ids); absent: the whole module.
    #[serde(default)]
    pub tests: Vec<String>,
    /// Why, in a word.
    pub kind: SkipKind,
    /// Why, in a sentence.
    pub reason: String,
    /// What happened when it was tried here (for the record).
    #[serde(default)]
    pub tried: Option<String>,
}

/// One `[[isolate]]` entry: tests that run, each alone in a guest, because
/// what they do to the heap when they do not crash (a use-after-free that
/// CPython fixed after this build) decides the outcome of tests after them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Isolate {
    /// The module (`test_x`, or `test_pkg.test_sub` in a package).
    pub module: String,
    /// The tests: full unittest ids (`test.<module>.<Class>.<method>`),
    /// which the report matches to its records.
    pub tests: Vec<String>,
    /// Why, in a sentence.
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    #[serde(default)]
    skip: Vec<Skip>,
    #[serde(default)]
    isolate: Vec<Isolate>,
}

/// The plan: modules and tests not run, with their reasons.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Whole modules not run: module -> its entry.
    pub modules: BTreeMap<String, Skip>,
    /// Single tests not run, by module: (unittest id or regrtest `-m`
    /// pattern, reason).
    pub tests: BTreeMap<String, Vec<(String, String)>>,
    /// Tests run alone in a guest, by top-level module: (full unittest
    /// id, reason).
    pub isolated: BTreeMap<String, Vec<(String, String)>>,
}

impl Plan {
    /// Parse the plan's text.
    pub fn parse(text: &str) -> Result<Plan> {
        let file: PlanFile = toml::from_str(text).context("reading the CPython test plan")?;
        let mut plan = Plan::default();
        for skip in file.skip {
            if !skip.module.starts_with("test_") || skip.reason.trim().is_empty() {
                bail!(
                    "plan entry {:?}: a module named test_* and a reason are needed",
                    skip.module
                );
            }
            let top = skip.module.split('.').next().unwrap_or(&skip.module);
            if skip.tests.is_empty() && top == skip.module {
                plan.modules.insert(skip.module.clone(), skip);
            } else if skip.tests.is_empty() {
                // A submodule of a test package: its tests, by pattern.
                plan.tests.entry(top.to_string()).or_default().push((
                    format!("test.{}.*", skip.module),
                    format!("{:?}: {}", skip.kind, skip.reason),
                ));
            } else {
                let top = skip.module.split('.').next().unwrap_or(&skip.module);
                let entry = plan.tests.entry(top.to_string()).or_default();
                for t in &skip.tests {
                    entry.push((t.clone(), format!("{:?}: {}", skip.kind, skip.reason)));
                }
            }
        }
        for entry in file.isolate {
            if !entry.module.starts_with("test_")
                || entry.reason.trim().is_empty()
                || entry.tests.is_empty()
            {
                bail!(
                    "plan isolate entry {:?}: a module named test_*, tests and a reason are needed",
                    entry.module
                );
            }
            let top = entry.module.split('.').next().unwrap_or(&entry.module);
            // Full ids: the report matches them to its records.
            let prefix = format!("test.{}.", entry.module);
            if let Some(t) = entry.tests.iter().find(|t| !t.starts_with(&prefix)) {
                bail!(
                    "plan isolate entry {:?}: {t:?} is not a full test id ({prefix}...)",
                    entry.module
                );
            }
            let list = plan.isolated.entry(top.to_string()).or_default();
            for t in &entry.tests {
                list.push((t.clone(), entry.reason.clone()));
            }
        }
        Ok(plan)
    }

    /// Read the plan at `path`.
    pub fn load(path: &Path) -> Result<Plan> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Plan::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    /// The entry that skips the whole module (job) `module`.
    pub fn module_skip(&self, module: &str) -> Option<&Skip> {
        self.modules.get(module)
    }

    /// The driver's skip list for `module` (and the submodules of a test
    /// package): `module\tpattern\treason` lines. The driver applies a
    /// line only to the module it names (a bare test name such as
    /// `test_subclass` would otherwise skip every module's).
    pub fn test_skips(&self, module: &str) -> String {
        rule_lines(&self.tests, module)
    }

    /// Every isolated test's id (their outcome follows the memory layout:
    /// the report lists their changes apart).
    pub fn isolated_ids(&self) -> std::collections::BTreeSet<String> {
        self.isolated
            .values()
            .flatten()
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The driver's list of isolated tests for `module`, in the same
    /// format as [`Plan::test_skips`].
    pub fn test_isolations(&self, module: &str) -> String {
        rule_lines(&self.isolated, module)
    }
}

/// `module\tpattern\treason` lines of `rules`' entries for `module`.
fn rule_lines(rules: &BTreeMap<String, Vec<(String, String)>>, module: &str) -> String {
    rules
        .get(module)
        .into_iter()
        .flatten()
        .map(|(id, reason)| format!("{module}\t{id}\t{reason}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_and_tests() {
        let plan = Plan::parse(
            r#"
[[skip]]
module = "test_threading"
kind = "threads"
reason = "no threads in this build"

[[skip]]
module = "test_csv"
tests = ["test.test_csv.TestSniffer.test_sniff_regex_backtracking"]
kind = "hang"
reason = "catastrophic backtracking"
"#,
        )
        .unwrap();
        assert_eq!(
            plan.module_skip("test_threading").unwrap().kind,
            SkipKind::Threads
        );
        assert!(plan.module_skip("test_csv").is_none());
        assert_eq!(
            plan.test_skips("test_csv"),
            "test_csv\ttest.test_csv.TestSniffer.test_sniff_regex_backtracking\tHang: catastrophic backtracking\n"
        );
        assert_eq!(plan.test_skips("test_json"), "");
    }

    #[test]
    fn bad_entries_are_refused() {
        assert!(
            Plan::parse("[[skip]]\nmodule = \"x\"\nkind = \"hang\"\nreason = \"r\"\n").is_err()
        );
        assert!(
            Plan::parse("[[skip]]\nmodule = \"test_x\"\nkind = \"nope\"\nreason = \"r\"\n")
                .is_err()
        );
        assert!(
            Plan::parse("[[skip]]\nmodule = \"test_x\"\nkind = \"hang\"\nreason = \"\"\n").is_err()
        );
        // An isolation needs its tests and a reason.
        assert!(Plan::parse("[[isolate]]\nmodule = \"test_x\"\nreason = \"r\"\n").is_err());
        assert!(
            Plan::parse("[[isolate]]\nmodule = \"test_x\"\ntests = []\nreason = \"r\"\n").is_err()
        );
        assert!(
            Plan::parse("[[isolate]]\nmodule = \"test_x\"\ntests = [\"a\"]\nreason = \" \"\n")
                .is_err()
        );
    }

    #[test]
    fn isolated_tests() {
        let plan = Plan::parse(
            r#"
[[isolate]]
module = "test_itertools"
tests = ["test.test_itertools.TestBasicOps.test_a", "test.test_itertools.TestBasicOps.test_b"]
reason = "corrupts the heap"
"#,
        )
        .unwrap();
        assert_eq!(
            plan.test_isolations("test_itertools"),
            "test_itertools\ttest.test_itertools.TestBasicOps.test_a\tcorrupts the heap\n\
             test_itertools\ttest.test_itertools.TestBasicOps.test_b\tcorrupts the heap\n"
        );
        // Isolated is not skipped.
        assert_eq!(plan.test_skips("test_itertools"), "");
        assert!(plan.module_skip("test_itertools").is_none());
        assert_eq!(plan.test_isolations("test_json"), "");
    }
}
