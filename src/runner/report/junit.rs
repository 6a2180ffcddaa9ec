//! `--junit FILE`: JUnit XML for CI.
//!
//! One `<testsuite>` per package, one `<testcase>` per test id (sorted),
//! with `classname` and `name` split from the node id as pytest's own
//! `--junitxml` does (`tests/test_x.py::TestA::test_b[p]` gives
//! `tests.test_x.TestA` and `test_b[p]`). Outcomes:
//!
//! - failed: `<failure type="failed">`, xpassed: `<failure type="xpassed">`;
//! - error, crashed, timeout: `<error type="...">`;
//! - skipped: `<skipped type="skipped">`, xfailed: `<skipped type="xfailed">`
//!   (pytest reports an expected failure as skipped too).
//!
//! The message is both the `message` attribute and the element's text.
//! The file is rewritten whole (atomically, through a temporary file) at
//! the end of the run, also an interrupted one, and at most every
//! [`REWRITE_EVERY`] while test files finish, so a run killed outright
//! leaves a valid, recent file. No timestamps or host names: the same
//! results give the same bytes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Result;

use super::results::Results;
use crate::runner::outcome::{Outcome, TestRecord};

/// How often the file is rewritten during a run.
pub const REWRITE_EVERY: Duration = Duration::from_secs(30);

/// Split a pytest node id into JUnit's `classname` and `name`.
pub fn split_id(id: &str) -> (String, String) {
    let (path, params) = match id.find('[') {
        Some(i) => id.split_at(i),
        None => (id, ""),
    };
    let mut names: Vec<String> = path.split("::").map(str::to_string).collect();
    let module = names[0].replace(['/', '\\'], ".");
    names[0] = module.strip_suffix(".py").unwrap_or(&module).to_string();
    let last = names.len() - 1;
    names[last].push_str(params);
    let name = names.pop().unwrap_or_default();
    (names.join("."), name)
}

/// Escape text for an XML attribute or element. Control characters (which
/// XML 1.0 cannot hold, or discourages) become `#xNN`, as pytest writes
/// them.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "#x{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The `<failure>`/`<error>`/`<skipped>` element of an outcome, if any.
fn element(outcome: Outcome) -> Option<&'static str> {
    match outcome {
        Outcome::Passed => None,
        Outcome::Failed | Outcome::Xpassed => Some("failure"),
        Outcome::Error | Outcome::Crashed | Outcome::Timeout => Some("error"),
        Outcome::Skipped | Outcome::Xfailed => Some("skipped"),
    }
}

struct SuiteCounts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    time: f64,
}

fn suite_counts<'a>(records: impl Iterator<Item = &'a TestRecord>) -> SuiteCounts {
    let mut c = SuiteCounts {
        tests: 0,
        failures: 0,
        errors: 0,
        skipped: 0,
        time: 0.0,
    };
    for r in records {
        c.tests += 1;
        c.time += r.duration;
        match element(r.outcome) {
            Some("failure") => c.failures += 1,
            Some("error") => c.errors += 1,
            Some("skipped") => c.skipped += 1,
            _ => {}
        }
    }
    c
}

/// The whole document. `elapsed` is the run's wall time (the
/// `<testsuites>` time); each suite's time is the sum of its tests'.
/// `properties` (name, value) are written in every `<testsuite>`.
pub fn render(results: &Results, elapsed: Duration, properties: &[(String, String)]) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let all = suite_counts(results.iter().flat_map(|(_, p)| p.tests.values()));
    let _ = writeln!(
        out,
        "<testsuites name=\"pyodide-test\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        all.tests,
        all.failures,
        all.errors,
        all.skipped,
        elapsed.as_secs_f64()
    );
    for (package, pkg) in results.iter() {
        let c = suite_counts(pkg.tests.values());
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            escape(package),
            c.tests,
            c.failures,
            c.errors,
            c.skipped,
            c.time
        );
        if !properties.is_empty() {
            out.push_str("    <properties>\n");
            for (name, value) in properties {
                let _ = writeln!(
                    out,
                    "      <property name=\"{}\" value=\"{}\"/>",
                    escape(name),
                    escape(value)
                );
            }
            out.push_str("    </properties>\n");
        }
        for rec in pkg.tests.values() {
            let (classname, name) = split_id(&rec.id);
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(&classname),
                escape(&name),
                rec.duration
            );
            match element(rec.outcome) {
                None => out.push_str("/>\n"),
                Some(tag) => {
                    let message = escape(&rec.message);
                    let _ = write!(
                        out,
                        ">\n      <{tag} type=\"{}\" message=\"{message}\"",
                        rec.outcome
                    );
                    if message.is_empty() {
                        out.push_str("/>\n");
                    } else {
                        let _ = writeln!(out, ">{message}</{tag}>");
                    }
                    out.push_str("    </testcase>\n");
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// A JUnit file rewritten now and then during a run and at its end.
pub struct JunitWriter {
    path: PathBuf,
    last: Option<Instant>,
    properties: Vec<(String, String)>,
}

impl JunitWriter {
    /// A writer for `path` (written for the first time at the first
    /// [`JunitWriter::maybe_write`]).
    pub fn new(path: &Path, properties: Vec<(String, String)>) -> Self {
        JunitWriter {
            path: path.to_path_buf(),
            last: None,
            properties,
        }
    }

    /// Write the file if it was last written more than [`REWRITE_EVERY`]
    /// ago (or never).
    pub fn maybe_write(&mut self, results: &Results, elapsed: Duration) -> Result<()> {
        if self.last.is_some_and(|t| t.elapsed() < REWRITE_EVERY) {
            return Ok(());
        }
        self.write(results, elapsed)
    }

    /// Write the file now.
    pub fn write(&mut self, results: &Results, elapsed: Duration) -> Result<()> {
        crate::atomic_file::write(
            &self.path,
            render(results, elapsed, &self.properties).as_bytes(),
        )?;
        self.last = Some(Instant::now());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::runner::outcome::Outcome::*;

    fn s(id: &str) -> (String, String) {
        split_id(id)
    }

    #[test]
    fn split_like_pytest() {
        assert_eq!(
            s("tests/test_x.py::test_y"),
            ("tests.test_x".into(), "test_y".into())
        );
        assert_eq!(
            s("tests/test_x.py::TestA::test_b[a::b/c.py]"),
            ("tests.test_x.TestA".into(), "test_b[a::b/c.py]".into())
        );
        // A collection error's id is the file alone.
        assert_eq!(s("tests/test_x.py"), ("".into(), "tests.test_x".into()));
        assert_eq!(
            s("test_doc.txt::test_doc.txt"),
            ("test_doc.txt".into(), "test_doc.txt".into())
        );
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape("a<b>&\"c\" 'd'\n\t\u{1b}[31m\u{0}ü"),
            "a&lt;b&gt;&amp;&quot;c&quot; &apos;d&apos;\n\t#x1B[31m#x00ü"
        );
    }

    fn fixture() -> Results {
        let mut r = Results::new(&["msgpack".into(), "simple-json".into()]);
        for rec in [
            rec("msgpack", "test/test_a.py::test_ok", Passed, 0.0125, ""),
            rec(
                "msgpack",
                "test/test_a.py::TestX::test_fail[<1>]",
                Failed,
                0.5,
                "AssertionError: assert 'a' == \"b\" & <c>",
            ),
            rec(
                "msgpack",
                "test/test_a.py::test_skip",
                Skipped,
                0.0,
                "needs threads",
            ),
            rec(
                "msgpack",
                "test/test_b.py::test_xfail",
                Xfailed,
                0.1,
                "known bug",
            ),
            rec("msgpack", "test/test_b.py::test_xpass", Xpassed, 0.1, ""),
            rec(
                "msgpack",
                "test/test_c.py",
                Error,
                0.0,
                "ImportError: no module named 'x'",
            ),
            rec(
                "simple-json",
                "t.py::test_crash",
                Crashed,
                2.0,
                "wasm trap: call stack exhausted",
            ),
            rec(
                "simple-json",
                "t.py::test_loop",
                Timeout,
                300.0,
                "timed out after 300 s",
            ),
            rec(
                "simple-json",
                "t.py::test_ctrl",
                Failed,
                0.1,
                "bytes \u{1} and \u{7f}",
            ),
        ] {
            r.add(&rec);
        }
        r
    }

    #[test]
    fn document() {
        let xml = render(&fixture(), Duration::from_millis(4200), &[]);
        insta::assert_snapshot!(xml);
    }

    #[test]
    fn writes_atomically() {
        let dir = scratch("junit");
        let path = dir.join("out.xml");
        let mut w = JunitWriter::new(&path, vec![("hash_seed".into(), "0".into())]);
        w.maybe_write(&fixture(), Duration::ZERO).unwrap();
        let first = std::fs::read_to_string(&path).unwrap();
        assert!(first.starts_with("<?xml"));
        // Too soon to rewrite.
        w.maybe_write(&Results::default(), Duration::ZERO).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
        w.write(&Results::default(), Duration::ZERO).unwrap();
        assert_ne!(std::fs::read_to_string(&path).unwrap(), first);
        assert!(!dir.join("out.xml.tmp").exists());
    }
}
