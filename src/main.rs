//! The `pyodide-test` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pyodide_test::runner::{self, fetch::DEFAULT_PYODIDE_VERSION, python::Runtime};

/// Run Pyodide's CPython and its packages' tests natively, without a browser or Node.
///
/// `pyodide-test PACKAGE...` runs the packages' test suites and compares the
/// outcomes with their snapshots (exit 0: unchanged, 1: changed, 2: usage or
/// setup error).
#[derive(Parser)]
#[command(name = "pyodide-test", version, about, subcommand_negates_reqs = true)]
struct Cli {
    /// Pyodide release to use (fetched with `npm pack` into the cache).
    #[arg(long, global = true, default_value = DEFAULT_PYODIDE_VERSION, value_name = "VERSION")]
    pyodide: String,
    /// Use this local Pyodide distribution directory instead of a release.
    #[arg(long, global = true, value_name = "DIR")]
    dist: Option<PathBuf>,
    /// Engine that runs the guest: natively under Wasmtime, or Node.js (the reference).
    #[arg(long, global = true, value_enum, default_value_t = Runtime::Wasmtime)]
    runtime: Runtime,
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    test: TestArgs,
}

/// Running test suites (when no subcommand is given).
#[derive(clap::Args)]
struct TestArgs {
    /// Packages whose test suites to run.
    #[arg(value_name = "PACKAGE", required = true)]
    packages: Vec<String>,
    /// Number of workers (default: the number of cores).
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    jobs: Option<usize>,
    /// Only run tests matching the expression (pytest's -k).
    #[arg(short = 'k', value_name = "EXPR")]
    keyword: Option<String>,
    /// Accept the current outcomes as the snapshots.
    #[arg(long)]
    update: bool,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write JSON Lines: one object per test, then a summary.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Run only part K of N of the test files (deterministic).
    #[arg(long, value_name = "K/N")]
    partition: Option<String>,
    /// Seconds a test may run before it is stopped and recorded as timeout.
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0)]
    timeout: f64,
    /// Largest guest memory per worker, e.g. 2G, 512M.
    #[arg(long, value_name = "SIZE", default_value = "2G")]
    max_memory: String,
    /// Also install a wheel, a directory of wheels, or a package (with its
    /// dependencies); a wheel of the package itself replaces the resolved one.
    #[arg(long = "with", value_name = "WHEEL|DIR|NAME")]
    with: Vec<String>,
    /// Take the tests from this directory (one package only).
    #[arg(long, value_name = "DIR")]
    tests: Option<PathBuf>,
    /// Where the per-package snapshots are kept (default: ./snapshots).
    #[arg(long, value_name = "DIR")]
    snapshot_dir: Option<PathBuf>,
    /// Extra arguments for pytest, after `--` (e.g. `-- -W ignore::DeprecationWarning`).
    #[arg(last = true, value_name = "PYTEST_ARGS")]
    pytest_args: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Fetch and cache the Pyodide release (and compile it) once.
    Fetch,
    /// Run CPython with CPython's own command line: -c, -m, -, FILE, -X, -u, -I ...
    Python(PythonArgs),
    /// Join the JSON Lines reports (`--json`) of several runs, such as the
    /// partitions of one, into one report and one snapshot comparison.
    Merge(MergeArgs),
    /// Run the same plan under Wasmtime and under Node (the reference) and
    /// print the tests whose outcome differs (or, with `--scripts DIR`, the
    /// scripts whose stdout or exit status differs). Exit 0: they agree
    /// (apart from known differences), 1: they differ, 2: setup error.
    Compare(CompareArgs),
}

#[derive(clap::Args)]
struct CompareArgs {
    /// Packages whose test suites to run; with `--scripts`, the names of the
    /// scripts to run (default: all).
    #[arg(value_name = "PACKAGE|SCRIPT", required_unless_present = "scripts")]
    names: Vec<String>,
    /// Run the `*.py` scripts of DIR instead (companions NAME.args, NAME.stdin,
    /// NAME.cmd as in conformance/).
    #[arg(long, value_name = "DIR")]
    scripts: Option<PathBuf>,
    /// Known differences: `package::test-id-prefix: reason` and
    /// `script: reason` lines; listed differences do not fail the comparison.
    #[arg(long, value_name = "FILE")]
    known: Option<PathBuf>,
    /// Number of workers (default: the number of cores).
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    jobs: Option<usize>,
    /// Only run tests matching the expression (pytest's -k).
    #[arg(short = 'k', value_name = "EXPR")]
    keyword: Option<String>,
    /// Seconds a test (or a script) may run before it is stopped.
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0)]
    timeout: f64,
    /// Largest guest memory per worker, e.g. 2G, 512M.
    #[arg(long, value_name = "SIZE", default_value = "2G")]
    max_memory: String,
    /// Also install a wheel, a directory of wheels, or a package.
    #[arg(long = "with", value_name = "WHEEL|DIR|NAME")]
    with: Vec<String>,
    /// Take the tests from this directory (one package only).
    #[arg(long, value_name = "DIR")]
    tests: Option<PathBuf>,
    /// Extra arguments for pytest, after `--`.
    #[arg(last = true, value_name = "PYTEST_ARGS")]
    pytest_args: Vec<String>,
}

#[derive(clap::Args)]
struct MergeArgs {
    /// The JSON Lines files to join.
    #[arg(value_name = "JSONL", required = true)]
    inputs: Vec<PathBuf>,
    /// Write the joined JSON Lines report.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Where the per-package snapshots are kept.
    #[arg(long, value_name = "DIR", default_value = "snapshots")]
    snapshot_dir: PathBuf,
    /// Accept the joined outcomes as the snapshots.
    #[arg(long)]
    update: bool,
}

#[derive(clap::Args)]
struct PythonArgs {
    /// Make a host directory visible to the guest: HOST:GUEST[:ro].
    #[arg(long = "mount", value_name = "HOST:GUEST[:ro]")]
    mounts: Vec<String>,
    /// Install a wheel, a directory of wheels, or a package (with its
    /// dependencies) into the guest's site-packages. Repeatable.
    #[arg(long = "with", value_name = "WHEEL|DIR|NAME")]
    with: Vec<String>,
    /// Copy a host file into the guest's in-memory file system first:
    /// HOST:GUEST (GUEST absolute). Repeatable.
    #[arg(long = "copy", value_name = "HOST:GUEST")]
    copies: Vec<String>,
    /// Largest guest memory, e.g. 2G, 512M.
    #[arg(long, value_name = "SIZE", default_value = "4G")]
    max_memory: String,
    /// The arguments for Python, exactly as for `python3`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = cli.runtime;
    let source = runner::DistSource {
        version: cli.pyodide,
        dir: cli.dist,
    };
    // Guest code runs on a thread with a stack large enough for the wasm stack.
    let worker = std::thread::Builder::new()
        .name("guest".into())
        .stack_size(pyodide_test::host::engine::HOST_THREAD_STACK_BYTES)
        .spawn(move || match cli.command {
            None => runner::test_cmd::run(
                &source,
                runtime,
                &runner::test_cmd::TestOptions {
                    packages: cli.test.packages,
                    jobs: cli.test.jobs,
                    keyword: cli.test.keyword,
                    update: cli.test.update,
                    junit: cli.test.junit,
                    json: cli.test.json,
                    partition: cli.test.partition,
                    timeout: cli.test.timeout,
                    max_memory: cli.test.max_memory,
                    with: cli.test.with,
                    tests: cli.test.tests,
                    snapshot_dir: cli.test.snapshot_dir,
                    pytest_args: cli.test.pytest_args,
                },
            ),
            Some(Command::Merge(args)) => runner::report::merge(
                &args.inputs,
                runner::report::ReportOptions {
                    json: args.json,
                    junit: args.junit,
                    snapshot_dir: args.snapshot_dir,
                    update: args.update,
                    ..Default::default()
                },
            )
            .map(|v| i32::from(v.exit_code())),
            Some(Command::Compare(args)) => compare(&source, args),
            Some(Command::Fetch) => runner::python::fetch(&source).map(|()| 0),
            Some(Command::Python(args)) => runner::python::run(
                &source,
                runtime,
                &runner::python::PythonOptions {
                    mounts: args.mounts,
                    max_memory: args.max_memory,
                    with: args.with,
                    copies: args.copies,
                },
                &args.args,
            ),
        });
    let result = match worker {
        Ok(handle) => handle
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("internal error: the guest thread panicked"))),
        Err(e) => Err(anyhow::anyhow!("starting the guest thread: {e}")),
    };
    match result {
        Ok(status) => ExitCode::from(status as u8),
        Err(err) => {
            eprintln!("pyodide-test: error: {}", one_line(&err));
            ExitCode::from(2)
        }
    }
}

/// `pyodide-test compare`.
fn compare(source: &runner::DistSource, args: CompareArgs) -> anyhow::Result<i32> {
    let known = match &args.known {
        Some(path) => runner::compare::Known::load(path)?,
        None => runner::compare::Known::default(),
    };
    if let Some(dir) = args.scripts {
        let jobs = match args.jobs {
            Some(0) => anyhow::bail!("-j must be at least 1"),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        return runner::compare::run_scripts(
            source,
            &runner::compare::ScriptOptions {
                dir,
                names: args.names,
                jobs,
                timeout: args.timeout,
            },
            &known,
        );
    }
    runner::compare::run_packages(
        source,
        &runner::test_cmd::TestOptions {
            packages: args.names,
            jobs: args.jobs,
            keyword: args.keyword,
            timeout: args.timeout,
            max_memory: args.max_memory,
            with: args.with,
            tests: args.tests,
            pytest_args: args.pytest_args,
            ..Default::default()
        },
        &known,
    )
}

/// The error and its causes on one line.
fn one_line(err: &anyhow::Error) -> String {
    err.chain()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}
