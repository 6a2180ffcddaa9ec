//! Per-package snapshot files, and a run compared against them.
//!
//! # Format
//!
//! `<snapshot-dir>/<package>.json` (the package name normalised as PyPI
//! does: lowercase, runs of `-`, `_`, `.` as one `-`) is JSON, written with
//! one test per line in byte order of the ids, so that it reads and diffs
//! well and stays stable from run to run:
//!
//! ```json
//! {
//!   "format": 1,
//!   "package": "msgpack",
//!   "pyodide": "314.0.7",
//!   "tests": {
//!     "test/test_buffer.py::test_unpack_buffer": "passed",
//!     "test/test_extension.py::test_pack_ext_type": "failed"
//!   }
//! }
//! ```
//!
//! Only outcomes are kept (the names of [`Outcome::as_str`]): durations and
//! messages vary from run to run. `pyodide` is the version the snapshot was
//! last written with (absent when unknown).
//!
//! Tests are keyed by their id normalised with
//! [`normalize_id`](super::normalize::normalize_id) (memory addresses,
//! uuids and set orders in the parameters made stable), both when a run is
//! compared and when it is written. When several tests of a run share a
//! normalised id they are kept as `id`, `id #2`, ... in order of outcome
//! (see [`keyed`]), so what is compared is the
//! sorted list of their outcomes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::normalize::keyed;
use super::results::{file_of, files_of, in_file};
use crate::runner::outcome::{Outcome, TestRecord};

/// The default snapshot directory, relative to the cwd.
pub const DEFAULT_DIR: &str = "snapshots";

/// The version of the file format.
pub const FORMAT: u32 = 1;

/// One package's snapshot: the outcome of every test id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The package.
    pub package: String,
    /// The Pyodide version it was written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pyodide: Option<String>,
    /// The distributions the tests ran with: name -> `version (source)`, so
    /// that a version change shows in the snapshot's diff.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub installed: BTreeMap<String, String>,
    /// Outcome per test id.
    pub tests: BTreeMap<String, Outcome>,
}

#[derive(Deserialize)]
struct SnapshotFile {
    format: u32,
    #[serde(flatten)]
    snapshot: Snapshot,
}

/// The file name's stem for a package: PyPI's normalised name.
pub fn normalize_name(package: &str) -> String {
    let mut out = String::with_capacity(package.len());
    let mut sep = false;
    for c in package.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The snapshot file of a package.
pub fn path(dir: &Path, package: &str) -> PathBuf {
    let plain = plain_path(dir, package);
    let gz = gz_path(&plain);
    if !plain.exists() && gz.exists() {
        gz
    } else {
        plain
    }
}

/// Snapshots larger than this are kept gzipped (see [`Snapshot::save`]).
pub const COMPRESS_OVER: usize = 1 << 20;

/// The gzipped form of a snapshot's path.
fn gz_path(plain: &Path) -> PathBuf {
    let mut name = plain.as_os_str().to_owned();
    name.push(".gz");
    PathBuf::from(name)
}

/// `<dir>/<name>.json`.
fn plain_path(dir: &Path, package: &str) -> PathBuf {
    dir.join(format!("{}.json", normalize_name(package)))
}

impl Snapshot {
    /// The file's text: see the module's documentation.
    pub fn render(&self) -> String {
        let q = |s: &str| serde_json::to_string(s).expect("strings serialize");
        let mut out = String::new();
        out.push_str("{\n");
        let _ = writeln!(out, "  \"format\": {FORMAT},");
        let _ = writeln!(out, "  \"package\": {},", q(&self.package));
        if let Some(v) = &self.pyodide {
            let _ = writeln!(out, "  \"pyodide\": {},", q(v));
        }
        if !self.installed.is_empty() {
            out.push_str("  \"installed\": {\n");
            let last = self.installed.len() - 1;
            for (i, (name, what)) in self.installed.iter().enumerate() {
                let comma = if i == last { "" } else { "," };
                let _ = writeln!(out, "    {}: {}{comma}", q(name), q(what));
            }
            out.push_str("  },\n");
        }
        if self.tests.is_empty() {
            out.push_str("  \"tests\": {}\n");
        } else {
            out.push_str("  \"tests\": {\n");
            let last = self.tests.len() - 1;
            for (i, (id, outcome)) in self.tests.iter().enumerate() {
                let comma = if i == last { "" } else { "," };
                let _ = writeln!(out, "    {}: \"{}\"{comma}", q(id), outcome.as_str());
            }
            out.push_str("  }\n");
        }
        out.push_str("}\n");
        out
    }

    /// Parse a file's text.
    pub fn parse(text: &str) -> Result<Snapshot> {
        let file: SnapshotFile = serde_json::from_str(text)?;
        if file.format != FORMAT {
            bail!(
                "snapshot format {} is not supported (this pyodide-test writes {FORMAT})",
                file.format
            );
        }
        Ok(file.snapshot)
    }

    /// Read a package's snapshot (`<name>.json`, else `<name>.json.gz`);
    /// `None` when there is neither.
    pub fn load(dir: &Path, package: &str) -> Result<Option<Snapshot>> {
        let path = plain_path(dir, package);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let gz = gz_path(&path);
                match std::fs::File::open(&gz) {
                    Ok(f) => {
                        let mut t = String::new();
                        flate2::read::GzDecoder::new(f)
                            .read_to_string(&mut t)
                            .with_context(|| format!("reading {}", gz.display()))?;
                        let snap = Snapshot::parse(&t)
                            .with_context(|| format!("reading {}", gz.display()))?;
                        return Ok(Some(snap));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => {
                        return Err(e).with_context(|| format!("reading {}", gz.display()));
                    }
                }
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let snap = Snapshot::parse(&text).with_context(|| format!("reading {}", path.display()))?;
        Ok(Some(snap))
    }

    /// Write the snapshot into `dir` (created if missing), atomically;
    /// returns its path. A snapshot whose text is over [`COMPRESS_OVER`]
    /// (CPython's whole suite) is written gzipped as `<name>.json.gz`, so
    /// that no large file is kept in a repository; the other form is
    /// removed.
    pub fn save(&self, dir: &Path) -> Result<PathBuf> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let plain = plain_path(dir, &self.package);
        let gz = gz_path(&plain);
        let text = self.render();
        let (path, other, bytes) = if text.len() > COMPRESS_OVER {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            enc.write_all(text.as_bytes())?;
            (gz, plain, enc.finish()?)
        } else {
            (plain, gz, text.into_bytes())
        };
        crate::atomic_file::write(&path, &bytes)?;
        let _ = std::fs::remove_file(other);
        Ok(path)
    }

    /// The snapshot after accepting a run's results: within what the run
    /// covered its outcomes replace the old ones (tests that vanished there
    /// are dropped); entries outside are kept. A file that crashed (or timed
    /// out) before any of its tests ran keeps its old entries instead of
    /// the one crash record ([`Snapshot::kept_on_crash`] says which).
    pub fn updated(
        package: &str,
        old: Option<&Snapshot>,
        results: &BTreeMap<String, TestRecord>,
        coverage: &Coverage,
        pyodide: Option<&str>,
    ) -> Snapshot {
        Snapshot::updated_with(package, old, results, coverage, pyodide, None)
    }

    /// [`Snapshot::updated`], with the distributions this run installed
    /// (`None`: keep the old record).
    pub fn updated_with(
        package: &str,
        old: Option<&Snapshot>,
        results: &BTreeMap<String, TestRecord>,
        coverage: &Coverage,
        pyodide: Option<&str>,
        installed: Option<BTreeMap<String, String>>,
    ) -> Snapshot {
        let kept: BTreeSet<String> = Snapshot::kept_on_crash(old, results)
            .into_iter()
            .map(|(file, _)| file)
            .collect();
        let mut tests: BTreeMap<String, Outcome> = match old {
            Some(old) => old
                .tests
                .iter()
                .filter(|(id, _)| !coverage.covers(id) || kept.iter().any(|f| in_file(id, f)))
                .map(|(id, o)| (id.clone(), *o))
                .collect(),
            None => BTreeMap::new(),
        };
        for (id, rec) in keyed(results) {
            if !kept.contains(&id) {
                tests.insert(id, rec.outcome);
            }
        }
        Snapshot {
            package: old.map_or(package, |o| o.package.as_str()).to_string(),
            pyodide: pyodide
                .map(str::to_string)
                .or_else(|| old.and_then(|o| o.pyodide.clone())),
            installed: installed
                .or_else(|| old.map(|o| o.installed.clone()))
                .unwrap_or_default(),
            tests,
        }
    }
}

impl Snapshot {
    /// The files whose run crashed (or timed out) before any of their
    /// tests ran, so that the run's only record of them is the file's own,
    /// while `old` has entries for their tests: (file, number of entries
    /// an update keeps).
    pub fn kept_on_crash(
        old: Option<&Snapshot>,
        results: &BTreeMap<String, TestRecord>,
    ) -> Vec<(String, usize)> {
        let Some(old) = old else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (id, rec) in results {
            let file_level = file_of(id) == id;
            let crashed = matches!(rec.outcome, Outcome::Crashed | Outcome::Timeout);
            let others_ran = results.keys().any(|k| k != id && in_file(k, id));
            if !file_level || !crashed || others_ran {
                continue;
            }
            let entries = old
                .tests
                .keys()
                .filter(|k| *k != id && in_file(k, id))
                .count();
            if entries > 0 {
                out.push((id.clone(), entries));
            }
        }
        out
    }
}

/// Which of a snapshot's tests a run covered, that is, which of them the
/// comparison may call vanished when they did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coverage {
    /// The whole suite ran.
    All,
    /// These test files ran to the end (a partition, an interrupted run).
    Files(BTreeSet<String>),
    /// Only some tests were selected (`-k`): nothing can be called vanished.
    Nothing,
}

impl Coverage {
    /// Does the run cover this test id?
    pub fn covers(&self, id: &str) -> bool {
        match self {
            Coverage::All => true,
            Coverage::Files(files) => files_of(id).any(|f| files.contains(f)),
            Coverage::Nothing => false,
        }
    }
}

/// The kinds of change, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// Was good (passed, skipped, xfailed), now bad.
    NewlyFailing,
    /// Was bad, now good.
    NewlyPassing,
    /// Another outcome on the same side (skipped → passed, failed → crashed).
    Changed,
    /// Not in the snapshot.
    New,
    /// In the snapshot, and in a covered file, but did not run.
    Vanished,
}

impl ChangeKind {
    /// All kinds, in report order.
    pub const ALL: [ChangeKind; 5] = [
        ChangeKind::NewlyFailing,
        ChangeKind::NewlyPassing,
        ChangeKind::Changed,
        ChangeKind::New,
        ChangeKind::Vanished,
    ];

    /// The label in the summary.
    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::NewlyFailing => "NEWLY FAILING",
            ChangeKind::NewlyPassing => "NEWLY PASSING",
            ChangeKind::Changed => "CHANGED",
            ChangeKind::New => "NEW",
            ChangeKind::Vanished => "VANISHED",
        }
    }
}

/// One test whose outcome differs from the snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// What kind of change.
    pub kind: ChangeKind,
    /// The test id.
    pub id: String,
    /// The snapshot's outcome (none for a new test).
    pub old: Option<Outcome>,
    /// This run's outcome (none for a vanished test).
    pub new: Option<Outcome>,
    /// This run's message.
    pub message: String,
}

/// One package compared against its snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageChanges {
    /// The package.
    pub package: String,
    /// Whether it has a snapshot at all. Without one, `changes` is empty
    /// and the whole package counts as changed.
    pub has_snapshot: bool,
    /// The tests of the run (for a package without a snapshot).
    pub tests: usize,
    /// The snapshot's Pyodide version when it differs from the run's.
    pub other_pyodide: Option<String>,
    /// The changes, by kind then id.
    pub changes: Vec<Change>,
    /// Changes of tests whose outcome follows the guest's memory layout
    /// (see [`PackageChanges::set_apart`]): reported, not counted.
    pub unsteady: Vec<Change>,
}

impl PackageChanges {
    /// Does this package differ from its snapshot (or have none)?
    pub fn is_changed(&self) -> bool {
        !self.has_snapshot || !self.changes.is_empty()
    }

    /// Move the outcome changes of the tests in `ids` (raw ids, normalised
    /// here as the comparison keys them) to [`PackageChanges::unsteady`]: tests whose
    /// outcome moves with the memory layout from run to run (CPython's
    /// crash-fix tests that the plan isolates), whose change is no
    /// verdict on the build.
    pub fn set_apart(&mut self, ids: &std::collections::BTreeSet<String>) {
        if ids.is_empty() {
            return;
        }
        let keys: std::collections::BTreeSet<String> = ids
            .iter()
            .map(|id| super::normalize::normalize_id(id))
            .collect();
        // Only a change of outcome: a test that is new or vanished is so
        // whatever the layout.
        let (apart, kept): (Vec<Change>, Vec<Change>) = std::mem::take(&mut self.changes)
            .into_iter()
            .partition(|c| {
                keys.contains(&c.id) && !matches!(c.kind, ChangeKind::New | ChangeKind::Vanished)
            });
        self.changes = kept;
        self.unsteady.extend(apart);
    }
}

/// Compare a package's results (keyed by raw id) with its snapshot (keyed
/// by normalised id, see the module's documentation).
pub fn compare(
    package: &str,
    snapshot: Option<&Snapshot>,
    results: &BTreeMap<String, TestRecord>,
    coverage: &Coverage,
    pyodide: Option<&str>,
) -> PackageChanges {
    let Some(snapshot) = snapshot else {
        return PackageChanges {
            package: package.to_string(),
            has_snapshot: false,
            tests: results.len(),
            other_pyodide: None,
            changes: Vec::new(),
            unsteady: Vec::new(),
        };
    };
    let results = keyed(results);
    let mut changes = Vec::new();
    for (id, rec) in &results {
        let new = rec.outcome;
        let kind = match snapshot.tests.get(id) {
            None => Some(ChangeKind::New),
            Some(&old) if old == new => None,
            Some(&old) => Some(match (old.is_bad(), new.is_bad()) {
                (false, true) => ChangeKind::NewlyFailing,
                (true, false) => ChangeKind::NewlyPassing,
                _ => ChangeKind::Changed,
            }),
        };
        if let Some(kind) = kind {
            changes.push(Change {
                kind,
                id: id.clone(),
                old: snapshot.tests.get(id).copied(),
                new: Some(new),
                message: rec.message.clone(),
            });
        }
    }
    for (id, &old) in &snapshot.tests {
        if !results.contains_key(id) && coverage.covers(id) {
            changes.push(Change {
                kind: ChangeKind::Vanished,
                id: id.clone(),
                old: Some(old),
                new: None,
                message: String::new(),
            });
        }
    }
    changes.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
    let other_pyodide = match (&snapshot.pyodide, pyodide) {
        (Some(old), Some(new)) if old != new => Some(old.clone()),
        _ => None,
    };
    PackageChanges {
        package: package.to_string(),
        has_snapshot: true,
        tests: results.len(),
        other_pyodide,
        changes,
        unsteady: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use Outcome::*;

    fn snap(tests: &[(&str, Outcome)]) -> Snapshot {
        Snapshot {
            package: "msgpack".into(),
            pyodide: Some("314.0.7".into()),
            installed: Default::default(),
            tests: tests.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    fn results(recs: &[(&str, Outcome, &str)]) -> BTreeMap<String, TestRecord> {
        recs.iter()
            .map(|(id, o, m)| (id.to_string(), rec("msgpack", id, *o, 0.5, m)))
            .collect()
    }

    fn kinds(c: &PackageChanges) -> Vec<(ChangeKind, &str)> {
        c.changes.iter().map(|c| (c.kind, c.id.as_str())).collect()
    }

    #[test]
    fn names() {
        assert_eq!(normalize_name("Pydantic_Core"), "pydantic-core");
        assert_eq!(normalize_name("a.-_b"), "a-b");
        assert_eq!(normalize_name("msgpack"), "msgpack");
        assert_eq!(
            path(Path::new("s"), "ruamel.yaml"),
            PathBuf::from("s/ruamel-yaml.json")
        );
    }

    #[test]
    fn render_is_sorted_one_per_line_and_round_trips() {
        let s = snap(&[
            ("tests/test_b.py::test_x[\"q\"]", Failed),
            ("tests/test_a.py::test_y", Passed),
            ("tests/test_a.py::Test::test_z[ü]", Skipped),
        ]);
        let text = s.render();
        assert_eq!(
            text,
            r#"{
  "format": 1,
  "package": "msgpack",
  "pyodide": "314.0.7",
  "tests": {
    "tests/test_a.py::Test::test_z[ü]": "skipped",
    "tests/test_a.py::test_y": "passed",
    "tests/test_b.py::test_x[\"q\"]": "failed"
  }
}
"#
        );
        assert_eq!(Snapshot::parse(&text).unwrap(), s);

        let empty = snap(&[]);
        assert_eq!(Snapshot::parse(&empty.render()).unwrap(), empty);
        let no_version = Snapshot {
            pyodide: None,
            installed: Default::default(),
            ..snap(&[("a", Passed)])
        };
        assert!(!no_version.render().contains("pyodide"));
        assert_eq!(Snapshot::parse(&no_version.render()).unwrap(), no_version);
    }

    #[test]
    fn bad_files() {
        assert!(Snapshot::parse("{").is_err());
        let err = Snapshot::parse(r#"{"format": 2, "package": "x", "tests": {}}"#).unwrap_err();
        assert!(err.to_string().contains("format 2"), "{err}");
        assert!(
            Snapshot::parse(r#"{"format": 1, "package": "x", "tests": {"a": "weird"}}"#).is_err()
        );
    }

    #[test]
    fn unittest_ids_belong_to_their_module() {
        let files: BTreeSet<String> = ["test.test_json".to_string()].into();
        let cov = Coverage::Files(files);
        assert!(cov.covers("test.test_json"));
        assert!(cov.covers("test.test_json.test_speedups.TestEncode.test_x"));
        assert!(!cov.covers("test.test_jsonx.T.t"));
        assert!(!cov.covers("test.test_re.T.t"));
        let old = Snapshot {
            package: "cpython".into(),
            pyodide: None,
            installed: Default::default(),
            tests: [
                ("test.test_json.A.a".to_string(), Outcome::Passed),
                ("test.test_json.A.b".to_string(), Outcome::Failed),
            ]
            .into(),
        };
        let mut results = BTreeMap::new();
        results.insert(
            "test.test_json".to_string(),
            rec("cpython", "test.test_json", Outcome::Crashed, 0.0, "trap"),
        );
        assert_eq!(
            Snapshot::kept_on_crash(Some(&old), &results),
            [("test.test_json".to_string(), 2)]
        );
    }

    #[test]
    fn save_and_load() {
        let dir = scratch("snap-save").join("nested");
        assert_eq!(Snapshot::load(&dir, "msgpack").unwrap(), None);
        let s = snap(&[("a.py::x", Passed)]);
        let p = s.save(&dir).unwrap();
        assert_eq!(p, dir.join("msgpack.json"));
        assert_eq!(Snapshot::load(&dir, "msgpack").unwrap(), Some(s));
        std::fs::write(&p, "not json").unwrap();
        let err = Snapshot::load(&dir, "msgpack").unwrap_err();
        assert!(format!("{err:#}").contains("msgpack.json"), "{err:#}");
    }

    #[test]
    fn compare_kinds() {
        let s = snap(&[
            ("a.py::same", Passed),
            ("a.py::breaks", Passed),
            ("a.py::skipped_breaks", Skipped),
            ("a.py::fixed", Failed),
            ("a.py::crash_fixed_to_skip", Crashed),
            ("a.py::unskipped", Skipped),
            ("a.py::fail_to_crash", Failed),
            ("a.py::gone", Passed),
            ("b.py::not_run", Passed),
        ]);
        let r = results(&[
            ("a.py::same", Passed, ""),
            ("a.py::breaks", Failed, "AssertionError: 1 != 2"),
            ("a.py::skipped_breaks", Error, "fixture"),
            ("a.py::fixed", Passed, ""),
            ("a.py::crash_fixed_to_skip", Skipped, "no threads"),
            ("a.py::unskipped", Passed, ""),
            ("a.py::fail_to_crash", Crashed, "stack overflow"),
            ("a.py::brand_new", Xfailed, ""),
        ]);
        let files = Coverage::Files(["a.py".to_string()].into());
        let c = compare("msgpack", Some(&s), &r, &files, Some("314.0.7"));
        use ChangeKind::*;
        assert_eq!(
            kinds(&c),
            vec![
                (NewlyFailing, "a.py::breaks"),
                (NewlyFailing, "a.py::skipped_breaks"),
                (NewlyPassing, "a.py::crash_fixed_to_skip"),
                (NewlyPassing, "a.py::fixed"),
                (Changed, "a.py::fail_to_crash"),
                (Changed, "a.py::unskipped"),
                (New, "a.py::brand_new"),
                (Vanished, "a.py::gone"),
            ]
        );
        assert!(c.is_changed());
        assert_eq!(c.changes[0].message, "AssertionError: 1 != 2");
        assert_eq!(c.changes[0].old, Some(Passed));
        assert_eq!(c.other_pyodide, None);

        // The whole suite ran: b.py's test vanished too.
        let c = compare("msgpack", Some(&s), &r, &Coverage::All, Some("315.0.0"));
        assert!(kinds(&c).contains(&(Vanished, "b.py::not_run")));
        assert_eq!(c.other_pyodide.as_deref(), Some("314.0.7"));

        // -k: nothing vanished.
        let c = compare("msgpack", Some(&s), &r, &Coverage::Nothing, None);
        assert!(!c.changes.iter().any(|c| c.kind == Vanished));
    }

    #[test]
    fn compare_unchanged_and_missing() {
        let s = snap(&[("a.py::x", Passed), ("b.py::y", Skipped)]);
        let r = results(&[("a.py::x", Passed, "")]);
        let c = compare(
            "msgpack",
            Some(&s),
            &r,
            &Coverage::Files(["a.py".into()].into()),
            None,
        );
        assert!(!c.is_changed());
        let c = compare("msgpack", None, &r, &Coverage::All, None);
        assert!(c.is_changed() && !c.has_snapshot && c.tests == 1);
    }

    #[test]
    fn normalised_ids_and_collisions() {
        // Addresses differ between runs; two tests share a normalised id.
        let first = results(&[
            ("a.py::f[<X at 0x1111111>-1]", Passed, ""),
            ("a.py::f[<X at 0x2222222>-1]", Failed, "boom"),
            ("a.py::g[{'b', 'a'}]", Passed, ""),
        ]);
        let s = Snapshot::updated("msgpack", None, &first, &Coverage::All, None);
        assert_eq!(
            s.tests
                .iter()
                .map(|(k, v)| (k.as_str(), *v))
                .collect::<Vec<_>>(),
            [
                ("a.py::f[<X at 0x?>-1]", Passed),
                ("a.py::f[<X at 0x?>-1] #2", Failed),
                ("a.py::g[{'a', 'b'}]", Passed),
            ]
        );
        // Other addresses, the outcomes swapped between the two: the same.
        let second = results(&[
            ("a.py::f[<X at 0x3333333>-1]", Failed, "boom"),
            ("a.py::f[<X at 0x4444444>-1]", Passed, ""),
            ("a.py::g[{'a', 'b'}]", Passed, ""),
        ]);
        assert!(!compare("msgpack", Some(&s), &second, &Coverage::All, None).is_changed());
        // Both fail now: one newly failing, under the collided key.
        let third = results(&[
            ("a.py::f[<X at 0x3333333>-1]", Failed, "boom"),
            ("a.py::f[<X at 0x4444444>-1]", Failed, "bang"),
            ("a.py::g[{'b', 'a'}]", Passed, ""),
        ]);
        let c = compare("msgpack", Some(&s), &third, &Coverage::All, None);
        assert_eq!(
            kinds(&c),
            [(ChangeKind::NewlyFailing, "a.py::f[<X at 0x?>-1]")]
        );
        // One of them gone: the second entry vanished.
        let fourth = results(&[("a.py::f[<X at 0x5555555>-1]", Passed, "")]);
        let c = compare(
            "msgpack",
            Some(&s),
            &fourth,
            &Coverage::Files(["a.py".into()].into()),
            None,
        );
        assert_eq!(
            kinds(&c),
            [
                (ChangeKind::Vanished, "a.py::f[<X at 0x?>-1] #2"),
                (ChangeKind::Vanished, "a.py::g[{'a', 'b'}]"),
            ]
        );
    }

    #[test]
    fn update_merges_partial_runs() {
        let s = snap(&[
            ("a.py::x", Passed),
            ("a.py::gone", Passed),
            ("b.py::y", Skipped),
        ]);
        let r = results(&[("a.py::x", Failed, ""), ("a.py::new", Passed, "")]);
        let a = Coverage::Files(["a.py".into()].into());
        let u = Snapshot::updated("msgpack", Some(&s), &r, &a, Some("315.0.0"));
        assert_eq!(
            u,
            Snapshot {
                package: "msgpack".into(),
                pyodide: Some("315.0.0".into()),
                installed: Default::default(),
                tests: [
                    ("a.py::new", Passed),
                    ("a.py::x", Failed),
                    ("b.py::y", Skipped)
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect()
            }
        );
        // -k: only adds and changes.
        let u = Snapshot::updated("msgpack", Some(&s), &r, &Coverage::Nothing, None);
        assert_eq!(u.tests.len(), 4);
        assert_eq!(u.pyodide.as_deref(), Some("314.0.7"));
        // Whole run: exactly the results.
        let u = Snapshot::updated("msgpack", Some(&s), &r, &Coverage::All, None);
        assert_eq!(u.tests.keys().collect::<Vec<_>>(), ["a.py::new", "a.py::x"]);
        // First snapshot.
        let u = Snapshot::updated("msgpack", None, &r, &a, None);
        assert_eq!(u.tests.len(), 2);
        // Accepting leaves nothing to report.
        let u = Snapshot::updated("msgpack", Some(&s), &r, &a, None);
        assert!(!compare("msgpack", Some(&u), &r, &a, None).is_changed());
    }
}
