//! `pyodide-test matrix`: the same tests on every build of a list or a
//! range, a row per build, then the tests whose outcome changes between
//! neighbouring builds (see `matrix_report`). Each build runs through the
//! test run's own path (`build_run`); a build that does not boot is a row
//! that says so.
//!
//! Exit status: 0 when every build ran and no test changes between
//! neighbours, 1 when some test changes or some build did not run, 2 when
//! no build ran at all (or on a usage or setup error).

use std::path::PathBuf;

use anyhow::{Result, bail};

use super::backend::Runtime;
use super::build_run::{self, BuildResult, BuildStatus};
use super::builds::Build;
use super::dist::DistSource;
use super::matrix_report;
use super::test_cmd::{self, TestOptions};

/// Options of `matrix`.
#[derive(Debug, Clone, Default)]
pub struct MatrixOptions {
    /// The builds, in order.
    pub builds: Vec<Build>,
    /// The tests to run on each (packages or `--tests DIR`, `-k`, ...).
    pub test: TestOptions,
    /// `--html FILE`: one self-contained page.
    pub html: Option<PathBuf>,
    /// `--markdown FILE`: a summary for a CI job's page.
    pub markdown: Option<PathBuf>,
    /// `--json FILE`: every build's outcomes and the changes.
    pub json: Option<PathBuf>,
}

/// One line on stderr about a build that finished.
pub fn describe(result: &BuildResult) -> String {
    match &result.status {
        BuildStatus::Ran {
            counts, elapsed, ..
        } => {
            let [p, f, s, c] = crate::runner::report::markdown::columns(counts);
            format!(
                "{}: {} tests: {p} passed, {f} failed, {s} skipped, {c} crashed [{:.1}s]",
                result.info.describe(),
                counts.total(),
                elapsed.as_secs_f64()
            )
        }
        BuildStatus::Skipped { .. } => format!(
            "{}: {}",
            result.info.describe(),
            result.skip_line().unwrap_or_default()
        ),
    }
}

/// Run the matrix; returns the exit status (see the module's documentation).
pub fn run(base: &DistSource, runtime: Runtime, opts: &MatrixOptions) -> Result<i32> {
    test_cmd::check(&opts.test)?;
    if opts.builds.is_empty() {
        bail!("no build given");
    }
    let n = opts.builds.len();
    let mut results = Vec::with_capacity(n);
    for (i, build) in opts.builds.iter().enumerate() {
        eprintln!("pyodide-test: matrix [{}/{n}] {}", i + 1, build.label());
        let result = build_run::run_build(build, base, runtime, &opts.test)?;
        eprintln!("pyodide-test: matrix [{}/{n}] {}", i + 1, describe(&result));
        results.push(result);
    }
    let changes = matrix_report::changes(&results);
    print!("{}", matrix_report::render_text(&results, &changes));
    let names = test_cmd::package_names(&opts.test).join(", ");
    if let Some(path) = &opts.html {
        let title = format!("pyodide-test matrix: {names}");
        crate::atomic_file::write(
            path,
            matrix_report::render_html(&title, &results, &changes).as_bytes(),
        )?;
    }
    if let Some(path) = &opts.markdown {
        crate::atomic_file::write(
            path,
            matrix_report::render_markdown(&results, &changes).as_bytes(),
        )?;
    }
    if let Some(path) = &opts.json {
        crate::atomic_file::write(
            path,
            matrix_report::render_json(&results, &changes).as_bytes(),
        )?;
    }
    let ran = results
        .iter()
        .filter(|r| matches!(r.status, BuildStatus::Ran { .. }))
        .count();
    Ok(if ran == 0 {
        2
    } else if ran < results.len() || !changes.is_empty() {
        1
    } else {
        0
    })
}
