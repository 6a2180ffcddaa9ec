//! The `pyodide-test` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pyodide_test::runner::options::{ReportArgs, RunArgs, Seconds, Size, jobs};
use pyodide_test::runner::{self, Runtime, fetch::DEFAULT_PYODIDE_VERSION};

/// Run Pyodide's CPython and its packages' tests natively, without a browser or Node.
///
/// `pyodide-test PACKAGE...` runs the packages' test suites and compares the
/// outcomes with their snapshots (exit 0: unchanged, 1: changed, 2: usage or
/// setup error); `pyodide-test --tests DIR` runs a directory of tests on
/// its own. A package named like a subcommand (`cpython`, `matrix`,
/// `bisect`, `python`, ...) is run with `pyodide-test test NAME`.
#[derive(Parser)]
#[command(name = "pyodide-test", version, about, subcommand_negates_reqs = true)]
struct Cli {
    /// Pyodide release to use (default: 314.0.7), fetched with `npm pack`
    /// into the cache. `matrix`, `bisect` and `compare` also take a list
    /// (0.27.7,314.0.7) or a range over the releases npm lists
    /// (0.26.4..314.0.7; stable ones unless --pre).
    #[arg(long, global = true, value_name = "VERSION|LIST|RANGE")]
    pyodide: Option<String>,
    /// Use this local Pyodide distribution directory instead of a release
    /// (`matrix`, `bisect` and `compare`: repeat it for several builds).
    #[arg(long, global = true, value_name = "DIR")]
    dist: Vec<PathBuf>,
    /// Where the packages of the dist's pyodide-lock.json that are not in
    /// its directory are downloaded from (checked against the lock's
    /// sha256, cached). Default: the URL the dist's own pyodide.mjs uses.
    /// `{version}` is replaced by the dist's Pyodide version.
    #[arg(long, global = true, value_name = "URL")]
    package_base_url: Option<String>,
    /// Pin what pip resolves (test dependencies, --with names) with a
    /// constraints file in pip's format (for CI).
    #[arg(long, global = true, value_name = "FILE")]
    constraint: Option<PathBuf>,
    /// Resolve package names again instead of reusing the resolutions
    /// remembered in the cache.
    #[arg(long, global = true)]
    refresh: bool,
    /// Engine that runs the guest: natively under Wasmtime, or Node.js (the reference).
    #[arg(long, global = true, value_enum, default_value_t = Runtime::Wasmtime)]
    runtime: Runtime,
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    test: TestArgs,
}

/// Running test suites (when no subcommand is given, or with `test`).
#[derive(clap::Args)]
struct TestArgs {
    /// Packages whose test suites to run (none with --tests DIR: the
    /// directory's tests run on their own).
    #[arg(value_name = "PACKAGE", required_unless_present = "tests")]
    packages: Vec<String>,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    report: ReportArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run packages' test suites, as `pyodide-test PACKAGE...` does; for a
    /// package named like a subcommand: `pyodide-test test cpython`.
    Test(TestArgs),
    /// Run the same tests on several builds (--pyodide LIST|RANGE, or
    /// --dist DIR repeated): a row per build (Pyodide, Python, Emscripten,
    /// tests passed, failed, skipped, crashed, or why it did not run),
    /// then the tests whose outcome changes between neighbouring builds.
    /// Exit 0: every build ran and agrees, 1: some test changes or some
    /// build did not run, 2: no build ran, or a usage or setup error.
    Matrix(MatrixArgs),
    /// Find the first build (of --pyodide LIST|RANGE, or --dist DIR
    /// repeated, oldest first) at which the selected tests' outcomes differ
    /// from the first build's, by binary search; builds that do not boot
    /// are skipped. Exit 0: found, 1: no change, 2: nothing to compare, or
    /// a usage or setup error.
    Bisect(BisectArgs),
    /// Fetch and cache the Pyodide release, and compile its optimized code,
    /// once.
    Fetch,
    /// List what the dist's module imports: how many imports we provide,
    /// how many need JavaScript, and each one we do not provide (exit 1
    /// if there is any, or a type mismatch).
    Imports,
    /// Run CPython with CPython's own command line: -c, -m, -, FILE, -X, -u, -I ...
    Python(PythonArgs),
    /// Join the JSON Lines reports (`--json`) of several runs, such as the
    /// partitions of one, into one report and one snapshot comparison.
    Merge(MergeArgs),
    /// Run CPython's own test suite (Lib/test) in the dist's CPython: one
    /// module per job, an outcome per test, compared with the snapshot in
    /// cpython-tests/snapshots/ (exit 0: unchanged, 1: changed, 2: setup
    /// error). Lib/test comes from Debian's packages unless --cpython-tests
    /// names one.
    Cpython(CpythonArgs),
    /// Run the same plan under Wasmtime and under Node (the reference) and
    /// print the tests whose outcome differs (or, with `--scripts DIR`, the
    /// scripts whose stdout or exit status differs). Exit 0: they agree
    /// (apart from known differences), 1: they differ, 2: setup error.
    Compare(CompareArgs),
    /// (internal) A zygote for the test runner: boots the guest sent on
    /// stdin and forks a child per job (see `host/zygote.rs`).
    #[command(name = "__zygote", hide = true)]
    Zygote,
    /// (internal) Compile optimized code in the background for later runs
    /// (see `runner/tier.rs`); the side modules come on stdin.
    #[command(name = "__optimize", hide = true)]
    Optimize,
}

#[derive(clap::Args)]
struct MatrixArgs {
    /// Packages whose test suites to run on each build (none with --tests
    /// DIR).
    #[arg(value_name = "PACKAGE", required_unless_present = "tests")]
    packages: Vec<String>,
    /// With a --pyodide range: include pre-releases.
    #[arg(long)]
    pre: bool,
    /// Write one self-contained HTML page: the builds, and a grid of builds
    /// against the changed tests coloured by outcome.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Write a short Markdown summary (for a CI job's page).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Write every build's outcomes and the changes as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(clap::Args)]
struct BisectArgs {
    /// Packages whose test suites to run on each build (none with --tests
    /// DIR); select the tests with -k.
    #[arg(value_name = "PACKAGE", required_unless_present = "tests")]
    packages: Vec<String>,
    /// With a --pyodide range: include pre-releases.
    #[arg(long)]
    pre: bool,
    #[command(flatten)]
    run: RunArgs,
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
    /// With a --pyodide range: include pre-releases.
    #[arg(long)]
    pre: bool,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(clap::Args)]
struct CpythonArgs {
    /// Test modules to run (test_json, test_re); default: all of them.
    #[arg(value_name = "MODULE")]
    modules: Vec<String>,
    /// Use this Lib/test (a CPython checkout's, or an installed python3.X/test)
    /// instead of Debian's package for the dist's Python.
    #[arg(long, value_name = "DIR")]
    cpython_tests: Option<PathBuf>,
    /// Resources the tests may use, as CPython's own runner takes them
    /// (-u largefile,cpu; all; -RES); default: none.
    #[arg(
        short = 'u',
        long = "use",
        value_name = "RES,...",
        value_delimiter = ','
    )]
    resources: Vec<String>,
    /// The plan of modules and tests that cannot run here (default:
    /// cpython-tests/plan.toml).
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    report: ReportArgs,
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
    /// Where the per-package snapshots are kept (default:
    /// ./snapshots/BUILD for the build the inputs ran, as a test run
    /// keeps them).
    #[arg(long, value_name = "DIR")]
    snapshot_dir: Option<PathBuf>,
    /// Accept the joined outcomes as the snapshots.
    #[arg(long)]
    update: bool,
    /// Write a short Markdown summary of the joined run and its changes.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
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
    /// Copy a host file, or a directory's files, into the guest's
    /// in-memory file system first: HOST:GUEST (GUEST absolute). Repeatable
    /// (works under `--runtime node` too, unlike `--mount`).
    #[arg(long = "copy", value_name = "HOST:GUEST")]
    copies: Vec<String>,
    /// Set a variable in the guest's environment: NAME=VALUE. Repeatable
    /// (the host's environment never reaches the guest).
    #[arg(long = "env", value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// Largest guest memory (default 4G): 512M, 4G, 1GiB are powers of
    /// 1024; 500MB, 1.5GB powers of 1000.
    #[arg(long, value_name = "SIZE")]
    max_memory: Option<Size>,
    /// Largest file data the guest may write into its in-memory file
    /// system (default 1G); past it, writes fail with ENOSPC.
    #[arg(long, value_name = "SIZE")]
    max_fs: Option<Size>,
    /// The arguments for Python, exactly as for `python3`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<String>,
}

fn main() -> ExitCode {
    // A panic (a bug of ours) is reported on one line; a guest's is turned
    // into a crash of that guest where it happens.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("a panic");
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("pyodide-test: internal error{at}: {what}");
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let runtime = cli.runtime;
    // Several builds are for `matrix`, `bisect` and `compare` only.
    let builds = match &cli.command {
        Some(Command::Matrix(MatrixArgs { pre, .. }) | Command::Bisect(BisectArgs { pre, .. })) => {
            let pyodide = match (&cli.pyodide, cli.dist.is_empty()) {
                (None, true) => Some(DEFAULT_PYODIDE_VERSION),
                (p, _) => p.as_deref(),
            };
            match runner::builds::parse(pyodide, &cli.dist, *pre, runner::builds::npm_releases) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("pyodide-test: error: {}", one_line(&e));
                    return ExitCode::from(2);
                }
            }
        }
        // `compare` takes one build, or several to compare on each.
        Some(Command::Compare(CompareArgs { pre, .. }))
            if cli
                .pyodide
                .as_deref()
                .is_some_and(runner::builds::is_several)
                || cli.dist.len() > 1 =>
        {
            match runner::builds::parse(
                cli.pyodide.as_deref(),
                &cli.dist,
                *pre,
                runner::builds::npm_releases,
            ) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("pyodide-test: error: {}", one_line(&e));
                    return ExitCode::from(2);
                }
            }
        }
        other => {
            let name = other.as_ref().map_or("pyodide-test PACKAGE", command_name);
            if let Some(refusal) = runner::builds::several(name, cli.pyodide.as_deref(), &cli.dist)
            {
                eprintln!("pyodide-test: error: {refusal}");
                return ExitCode::from(2);
            }
            Vec::new()
        }
    };
    let source = runner::DistSource {
        version: cli
            .pyodide
            .clone()
            .unwrap_or_else(|| DEFAULT_PYODIDE_VERSION.to_string()),
        dir: cli.dist.first().cloned(),
        package_base_url: cli.package_base_url,
        constraints: cli.constraint,
        refresh: cli.refresh,
    };
    if let Some(Command::Zygote) = cli.command {
        // On the main thread: a zygote forks, so it stays single-threaded.
        runner::zygote::zygote_main(&source);
    }
    if let Some(Command::Optimize) = cli.command {
        // On the main thread, before any other: the compile's threads
        // inherit its idle priority.
        runner::tier::optimize_main(&source);
    }
    // Guest code runs on a thread with a stack large enough for the wasm stack.
    let worker = std::thread::Builder::new()
        .name("guest".into())
        .stack_size(pyodide_test::host::engine::HOST_THREAD_STACK_BYTES)
        .spawn(move || match cli.command {
            None => run_tests(&source, runtime, cli.test),
            Some(Command::Test(args)) => run_tests(&source, runtime, args),
            Some(Command::Matrix(args)) => runner::matrix::run(
                &source,
                runtime,
                &runner::matrix::MatrixOptions {
                    builds,
                    test: runner::test_cmd::TestOptions {
                        packages: args.packages,
                        run: args.run,
                        report: ReportArgs::default(),
                    },
                    html: args.html,
                    markdown: args.markdown,
                    json: args.json,
                },
            ),
            Some(Command::Bisect(args)) => runner::bisect::run(
                &source,
                runtime,
                &runner::bisect::BisectOptions {
                    builds,
                    test: runner::test_cmd::TestOptions {
                        packages: args.packages,
                        run: args.run,
                        report: ReportArgs::default(),
                    },
                },
            ),
            Some(Command::Merge(args)) => merge(args),
            Some(Command::Compare(args)) => compare(&source, &builds, args),
            Some(Command::Cpython(args)) => runner::cpython::run(
                &source,
                runtime,
                &runner::cpython::CpythonOptions {
                    modules: args.modules,
                    tests_dir: args.cpython_tests,
                    resources: args.resources,
                    plan: args.plan,
                    test: runner::test_cmd::TestOptions {
                        packages: vec![runner::cpython::PACKAGE.to_string()],
                        run: args.run,
                        report: args.report,
                    },
                },
            ),
            Some(Command::Zygote | Command::Optimize) => {
                unreachable!("the zygote and the background compile run on the main thread")
            }
            Some(Command::Fetch) => runner::inspect::fetch(&source).map(|()| 0),
            Some(Command::Imports) => runner::inspect::imports(&source),
            Some(Command::Python(args)) => runner::python::run(
                &source,
                runtime,
                &runner::python::PythonOptions {
                    mounts: args.mounts,
                    max_memory: args.max_memory,
                    max_fs: args.max_fs,
                    with: args.with,
                    copies: args.copies,
                    env: args.env,
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

/// `pyodide-test PACKAGE...` and `pyodide-test test PACKAGE...`.
fn run_tests(
    source: &runner::DistSource,
    runtime: runner::Runtime,
    args: TestArgs,
) -> anyhow::Result<i32> {
    runner::test_cmd::run(
        source,
        runtime,
        &runner::test_cmd::TestOptions {
            packages: args.packages,
            run: args.run,
            report: args.report,
        },
    )
}

/// `pyodide-test merge`.
fn merge(args: MergeArgs) -> anyhow::Result<i32> {
    let snapshot_dir = match args.snapshot_dir {
        Some(dir) => dir,
        None => runner::report::merge::default_snapshot_dir(&args.inputs)?,
    };
    runner::report::merge(
        &args.inputs,
        runner::report::ReportOptions {
            json: args.json,
            junit: args.junit,
            snapshot_dir,
            update: args.update,
            markdown: args.markdown,
            ..Default::default()
        },
    )
    .map(|v| i32::from(v.exit_code()))
}

/// The name of a subcommand, for messages.
fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Test(_) => "test",
        Command::Matrix(_) => "matrix",
        Command::Bisect(_) => "bisect",
        Command::Fetch => "fetch",
        Command::Imports => "imports",
        Command::Python(_) => "python",
        Command::Merge(_) => "merge",
        Command::Cpython(_) => "cpython",
        Command::Compare(_) => "compare",
        Command::Zygote => "__zygote",
        Command::Optimize => "__optimize",
    }
}

/// `pyodide-test compare`, on one build or (`builds`, when several were
/// given) on each.
fn compare(
    source: &runner::DistSource,
    builds: &[runner::builds::Build],
    args: CompareArgs,
) -> anyhow::Result<i32> {
    let known = match &args.known {
        Some(path) => runner::compare::Known::load(path)?,
        None => runner::compare::Known::default(),
    };
    let one = |source: &runner::DistSource| -> anyhow::Result<runner::compare::Compared> {
        // The known differences of this build's release.
        let version = match &source.dir {
            Some(dir) => runner::dist::Dist::open(dir)
                .ok()
                .and_then(|d| d.pyodide_version()),
            None => Some(source.version.clone()),
        };
        let known = known.for_release(version.as_deref());
        if let Some(dir) = &args.scripts {
            let Seconds(timeout) = args.run.timeout;
            return runner::compare::run_scripts(
                source,
                &runner::compare::ScriptOptions {
                    dir: dir.clone(),
                    names: args.names.clone(),
                    jobs: jobs(args.run.jobs)?,
                    timeout,
                    max_memory: args.run.max_memory,
                    max_fs: args.run.max_fs,
                },
                &known,
            );
        }
        runner::compare::run_packages(
            source,
            &runner::test_cmd::TestOptions {
                packages: args.names.clone(),
                run: args.run.clone(),
                report: ReportArgs::default(),
            },
            &known,
        )
    };
    if builds.len() > 1 {
        runner::compare::run_builds(source, builds, one)
    } else {
        one(source).map(|c| c.status)
    }
}

/// A command line clap refused: help and version as clap prints them, any
/// other error as one line (exit 2).
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    let text = e.render().to_string();
    // The message is what comes before clap's usage and tip lines.
    let message: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    eprintln!("pyodide-test: error: {message} (see --help)");
    ExitCode::from(2)
}

/// The error and its causes on one line.
fn one_line(err: &anyhow::Error) -> String {
    err.chain()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}
