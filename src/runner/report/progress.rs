//! Live progress: a bar on a terminal (indicatif), plain lines otherwise.
//!
//! The bar shows the test files done out of those planned, the counts so
//! far, and prints every test with a bad outcome above itself as it
//! happens. Plain mode writes one line per test with a bad outcome and one
//! per finished file, never one per passing test:
//!
//! ```text
//!   FAILED  msgpack  test/test_obj.py::test_bad_hook  AssertionError: ...
//! [ 3/40] msgpack  test/test_obj.py  12 passed, 1 failed
//! ```

use std::io::Write;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::results::Counts;
use super::style::{one_line, paint};
use crate::runner::outcome::{Outcome, TestRecord};

/// The longest message shown on a live line.
const MESSAGE_WIDTH: usize = 160;

/// How the run's progress is shown.
pub enum Progress {
    /// A progress bar on stderr.
    Bar {
        /// The bar.
        bar: ProgressBar,
        /// Colour the lines.
        color: bool,
    },
    /// Plain lines to the reporter's writer.
    Plain {
        /// Test files planned (0: unknown).
        planned: usize,
        /// Test files done.
        done: usize,
        /// Colour the lines.
        color: bool,
    },
    /// Nothing (merging finished runs).
    Quiet,
}

/// The live line of a test with a bad outcome.
pub fn bad_line(record: &TestRecord, color: bool) -> String {
    let label = format!("{:>8}", record.outcome.as_str().to_uppercase());
    let style = match record.outcome {
        Outcome::Xpassed => "1;33",
        _ => "1;31",
    };
    let mut line = format!(
        "{}  {}  {}",
        paint(&label, style, color),
        record.package,
        record.id
    );
    let message = one_line(&record.message, MESSAGE_WIDTH);
    if !message.is_empty() {
        line.push_str("  ");
        line.push_str(&paint(&message, "2", color));
    }
    line
}

fn bar_message(counts: &Counts, color: bool) -> String {
    let bad = counts.bad();
    let skipped = counts.skipped + counts.xfailed;
    format!(
        "{}  {}  {}",
        paint(
            &format!("{} passed", counts.passed),
            "32",
            color && counts.passed > 0
        ),
        paint(&format!("{bad} failed"), "1;31", color && bad > 0),
        paint(&format!("{skipped} skipped"), "33", color && skipped > 0),
    )
}

impl Progress {
    /// A bar on stderr for `planned` test files (0: unknown).
    pub fn bar(planned: usize, color: bool) -> Self {
        Self::bar_to(planned, color, ProgressDrawTarget::stderr())
    }

    /// A bar drawn to `target`.
    pub fn bar_to(planned: usize, color: bool, target: ProgressDrawTarget) -> Self {
        let template = if planned > 0 {
            "{spinner} [{elapsed_precise}] [{bar:25}] {pos}/{len} files  {msg}"
        } else {
            "{spinner} [{elapsed_precise}] {pos} files  {msg}"
        };
        let style = ProgressStyle::with_template(template)
            .expect("the template is valid")
            .progress_chars("=> ");
        let len = (planned > 0).then_some(planned as u64);
        let bar = ProgressBar::with_draw_target(len, target).with_style(style);
        bar.set_message(bar_message(&Counts::default(), color));
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress::Bar { bar, color }
    }

    /// Plain lines for `planned` test files (0: unknown).
    pub fn plain(planned: usize, color: bool) -> Self {
        Progress::Plain {
            planned,
            done: 0,
            color,
        }
    }

    /// A test finished; `counts` are the run's so far.
    pub fn record(&mut self, out: &mut dyn Write, record: &TestRecord, counts: &Counts) {
        match self {
            Progress::Bar { bar, color } => {
                if record.outcome.is_bad() {
                    bar.println(bad_line(record, *color));
                }
                bar.set_message(bar_message(counts, *color));
            }
            Progress::Plain { color, .. } => {
                if record.outcome.is_bad() {
                    let _ = writeln!(out, "{}", bad_line(record, *color));
                }
            }
            Progress::Quiet => {}
        }
    }

    /// A test file finished; `counts` are its tests'.
    pub fn file_done(&mut self, out: &mut dyn Write, package: &str, file: &str, counts: &Counts) {
        match self {
            Progress::Bar { bar, .. } => bar.inc(1),
            Progress::Plain {
                planned,
                done,
                color,
            } => {
                *done += 1;
                let pos = if *planned > 0 {
                    let w = planned.to_string().len();
                    format!("[{done:>w$}/{planned}]")
                } else {
                    format!("[{done}]")
                };
                let mut desc = counts.describe();
                if *color && counts.bad() > 0 {
                    desc = paint(&desc, "31", true);
                }
                let _ = writeln!(
                    out,
                    "{}  {package}  {file}  {desc}",
                    paint(&pos, "2", *color)
                );
            }
            Progress::Quiet => {}
        }
    }

    /// The run is over: clear the bar.
    pub fn finish(&mut self) {
        if let Progress::Bar { bar, .. } = self {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use Outcome::*;

    #[test]
    fn plain_lines() {
        let mut out = Vec::new();
        let mut p = Progress::plain(12, false);
        let mut counts = Counts::default();
        for r in [
            rec("msgpack", "t.py::ok", Passed, 0.1, ""),
            rec(
                "msgpack",
                "t.py::bad",
                Failed,
                0.1,
                "Traceback\n\nAssertionError: x\n",
            ),
            rec(
                "msgpack",
                "t.py::boom",
                Crashed,
                0.1,
                "wasm trap: out of bounds",
            ),
            rec("msgpack", "t.py::xp", Xpassed, 0.1, ""),
            rec("msgpack", "t.py::sk", Skipped, 0.1, "why"),
        ] {
            counts.add(r.outcome);
            p.record(&mut out, &r, &counts);
        }
        p.file_done(&mut out, "msgpack", "t.py", &counts);
        p.finish();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "  FAILED  msgpack  t.py::bad  Traceback | AssertionError: x\n \
             CRASHED  msgpack  t.py::boom  wasm trap: out of bounds\n \
             XPASSED  msgpack  t.py::xp\n\
             [ 1/12]  msgpack  t.py  1 passed, 1 failed, 1 skipped, 1 xpassed, 1 crashed\n"
        );
    }

    #[test]
    fn colored_line() {
        let line = bad_line(&rec("p", "t.py::x", Timeout, 1.0, "300 s"), true);
        assert_eq!(
            line,
            "\x1b[1;31m TIMEOUT\x1b[0m  p  t.py::x  \x1b[2m300 s\x1b[0m"
        );
    }

    #[test]
    fn bar_runs_hidden() {
        let mut out = Vec::new();
        for planned in [0, 3] {
            let mut p = Progress::bar_to(planned, true, ProgressDrawTarget::hidden());
            let r = rec("p", "t.py::x", Failed, 1.0, "m");
            let mut counts = Counts::default();
            counts.add(r.outcome);
            p.record(&mut out, &r, &counts);
            p.file_done(&mut out, "p", "t.py", &counts);
            if let Progress::Bar { bar, .. } = &p {
                assert_eq!(bar.position(), 1);
                assert!(bar.message().contains("1 failed"));
            }
            p.finish();
        }
        assert!(out.is_empty());
        assert_eq!(
            bar_message(&Counts::default(), false),
            "0 passed  0 failed  0 skipped"
        );
    }
}
