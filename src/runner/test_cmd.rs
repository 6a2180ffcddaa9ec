//! `pyodide-test <package>...`: prepare each package's suite, plan the test
//! files (partition, longest first), run them on the workers, report.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::backend::{Backend, Runtime};
use super::builds;
use super::bytecode;
use super::dist::{Dist, DistSource};
use super::fetch;
use super::module::LazyModule;
use super::options::{ReportArgs, RunArgs, jobs, warn_unhonoured};
use super::outcome::TestRecord;
use super::report::{ReportOptions, Reporter, RunVerdict};
use super::scheduler::{self, RecordSink};
use super::split;
use super::suite::{Suite, SuiteOptions};
use super::worker::WorkerConfig;

/// Options of a test run.
#[derive(Debug, Clone, Default)]
pub struct TestOptions {
    /// Packages whose suites run.
    pub packages: Vec<String>,
    /// The flags shared with `compare`.
    pub run: RunArgs,
    /// Reports, snapshots and partitions.
    pub report: ReportArgs,
}

/// Exit status of an interrupted run (as a shell reports SIGINT).
pub const INTERRUPTED_STATUS: i32 = 130;

/// Set by SIGINT.
static SIGINT: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    SIGINT.store(true, Ordering::SeqCst);
}

/// Route the first Ctrl-C to [`SIGINT`]; a second one kills as usual.
fn install_sigint_handler() {
    // SAFETY: the handler only stores to an atomic (async-signal-safe);
    // SA_RESETHAND restores the default action after the first signal.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as *const () as usize;
        action.sa_flags = libc::SA_RESETHAND | libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
    }
}

/// A prepared run: the dist, its compiled module, the suites and their
/// jobs, and the workers' settings (before the runtime is chosen).
pub struct Plan {
    /// The resolved dist.
    pub dist: Dist,
    /// Its main module for in-process test guests (with epochs), loaded
    /// when first needed.
    pub module: Arc<LazyModule>,
    /// The tool's cache.
    pub cache: PathBuf,
    /// The prepared suites.
    pub suites: Vec<Suite>,
    /// Their test files, in scheduling order.
    pub jobs: Vec<scheduler::Job>,
    /// Number of workers.
    pub threads: usize,
    /// Settings of the workers.
    pub cfg: WorkerConfig,
    /// `--partition K/N`.
    pub partition: Option<(u32, u32)>,
    /// Whether `--max-memory` was given (a runtime that cannot honour it
    /// says so).
    pub max_memory_given: bool,
    /// Whether `--max-fs` was given.
    pub max_fs_given: bool,
    /// The guests' `PYTHONHASHSEED`.
    pub hash_seed: u32,
    /// Test files start in children of a zygote per suite (Wasmtime; not
    /// with `--fresh-guests`).
    pub zygotes: bool,
    /// `--split-files`: files that would hold up a zygotes' run are split
    /// between its workers.
    pub split_files: bool,
    /// When the setup started.
    pub started: Instant,
    /// The name the build's snapshots are kept under.
    pub key: String,
    /// Per suite, the cache key of its rewritten test modules (see
    /// `rewritten.rs`); `None` for suites that do not run pytest.
    pub rewritten: Vec<Option<String>>,
}

/// The dist of a run, its main module (loaded when first needed) and the
/// tool's cache.
pub struct Setup {
    /// The resolved dist.
    pub dist: Dist,
    /// Its main module for in-process guests, loaded when first needed.
    pub module: Arc<LazyModule>,
    /// Its main module for the runner's own scripts in a run in zygotes
    /// (see [`Setup::bytecode_module`]), loaded when first needed.
    pub scripts: Arc<LazyModule>,
    /// The tool's cache.
    pub cache: PathBuf,
    /// The name the build's snapshots are kept under
    /// ([`builds::snapshot_key`]).
    pub key: String,
}

impl Setup {
    /// Resolve the dist (fetching it if needed); its module loads when
    /// first needed.
    pub fn new(source: &DistSource) -> Result<Setup> {
        let cache = fetch::cache_root();
        let dist = source.resolve(&cache)?;
        let module = Arc::new(LazyModule::new(&dist, &cache));
        let scripts = Arc::new(LazyModule::for_scripts(&dist, &cache));
        Ok(Setup {
            dist,
            module,
            scripts,
            cache,
            key: builds::snapshot_key(source),
        })
    }
}

impl Setup {
    /// The module bytecode is compiled with: in a run in zygotes, theirs
    /// (which such a run compiles anyway; a first run then compiles one
    /// main module, not two); with `fresh_guests`, the test guests'.
    pub fn bytecode_module(&self, fresh_guests: bool) -> &LazyModule {
        if fresh_guests {
            &self.module
        } else {
            &self.scripts
        }
    }
}

/// Check the options, resolve the dist, prepare every suite and plan the
/// jobs. Errors here are setup errors (status 2).
pub fn prepare(source: &DistSource, opts: &TestOptions) -> Result<Plan> {
    let started = Instant::now();
    check(opts)?;
    let setup = Setup::new(source)?;
    prepare_with(setup, opts, started)
}

/// The checks of a test run's options that come before anything is
/// fetched: a package or `--tests DIR`, `--tests` with one package at
/// most, typed flags.
pub fn check(opts: &TestOptions) -> Result<()> {
    if opts.packages.is_empty() && opts.run.tests.is_none() {
        bail!(
            "no package given (try `pyodide-test msgpack`, `pyodide-test --tests DIR`, or `pyodide-test --help`)"
        );
    }
    if opts.run.tests.is_some() && opts.packages.len() > 1 {
        bail!("--tests DIR takes one package, or none (a reproducer directory)");
    }
    jobs(opts.run.jobs)?;
    Ok(())
}

/// The packages a run reports: those given, or the reproducer
/// directory's name when `--tests DIR` comes alone.
pub fn package_names(opts: &TestOptions) -> Vec<String> {
    match (&opts.run.tests, opts.packages.is_empty()) {
        (Some(dir), true) => vec![super::suite::reproducer_name(dir)],
        _ => opts.packages.clone(),
    }
}

/// [`prepare`] with the dist already set up.
pub fn prepare_with(setup: Setup, opts: &TestOptions, started: Instant) -> Result<Plan> {
    check(opts)?;
    let suite_opts = SuiteOptions {
        with: opts.run.with.clone(),
        tests: opts.run.tests.clone(),
        no_test_deps: opts.run.no_test_deps,
    };
    let mut suites = Vec::new();
    for package in &package_names(opts) {
        let prepared = match (&opts.run.tests, opts.packages.is_empty()) {
            (Some(dir), true) => {
                Suite::prepare_reproducer(&setup.dist, &setup.cache, package, dir, &suite_opts)
            }
            _ => Suite::prepare(&setup.dist, &setup.cache, package, &suite_opts),
        };
        let mut suite = prepared.with_context(|| format!("preparing the tests of {package}"))?;
        let module = setup.bytecode_module(opts.run.fresh_guests);
        bytecode::add_to(&mut suite, module, &setup.dist, &setup.cache)
            .with_context(|| format!("preparing the tests of {package}"))?;
        eprintln!(
            "pyodide-test: {}{}: {} test files ({})",
            suite.package,
            suite
                .version
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default(),
            suite.test_files.len(),
            suite.source
        );
        let installed: Vec<String> = suite
            .installed
            .iter()
            .map(|i| format!("{} {} ({})", i.name, i.version, i.source))
            .collect();
        eprintln!(
            "pyodide-test: {}: installed {}",
            suite.package,
            installed.join(", ")
        );
        for note in &suite.notes {
            eprintln!("pyodide-test: {}: {note}", suite.package);
        }
        if !suite.skipped_links.is_empty() {
            eprintln!(
                "pyodide-test: {}: {} symlinks lead out of the tests and were left out: {}",
                suite.package,
                suite.skipped_links.len(),
                suite.skipped_links.join(", ")
            );
        }
        suites.push(suite);
    }
    plan_suites(setup, suites, opts, started)
}

/// Plan the jobs of prepared `suites` and the workers' settings.
pub fn plan_suites(
    setup: Setup,
    mut suites: Vec<Suite>,
    opts: &TestOptions,
    started: Instant,
) -> Result<Plan> {
    let partition = opts.report.partition.map(<(u32, u32)>::from);
    let threads = jobs(opts.run.jobs)?;
    let known = scheduler::load_durations(&setup.cache, opts.report.json.as_deref());
    let jobs = scheduler::plan(&suites, partition, &known);
    let hash_seed = opts.run.hash_seed.resolve();
    eprintln!("pyodide-test: hash seed {hash_seed} (repeat with --hash-seed {hash_seed})");
    let mut guest = setup.dist.guest(opts.run.max_memory().bytes())?;
    guest.limits.max_fs = Some(opts.run.max_fs().bytes());
    let module = setup.bytecode_module(opts.run.fresh_guests);
    guest.frozen = bytecode::frozen_modules(module, &setup.dist, &setup.cache)?;
    guest
        .env
        .push(("PYTHONHASHSEED".into(), hash_seed.to_string()));
    let cfg = WorkerConfig {
        guest,
        timeout: opts.run.timeout.0,
        keyword: opts.run.keyword.clone(),
        pytest_args: opts.run.pytest_args.clone(),
        stop: Arc::new(AtomicBool::new(false)),
    };
    let threads = threads.min(jobs.len().max(1));
    let rewritten = suites
        .iter_mut()
        .map(|suite| {
            // Without the run's -k: a selection does not change how pytest
            // rewrites a module, and a new one then finds the modules
            // rewritten by runs that selected others.
            let mut args = suite.job_argv("", None, &cfg.pytest_args);
            args.pop();
            let key = super::rewritten::key(suite, &args)?;
            super::rewritten::stage(&setup.cache, suite, &key);
            Some(key)
        })
        .collect();
    Ok(Plan {
        dist: setup.dist,
        module: setup.module,
        cache: setup.cache,
        suites,
        jobs,
        threads,
        cfg,
        partition,
        max_memory_given: opts.run.max_memory.is_some(),
        max_fs_given: opts.run.max_fs.is_some(),
        hash_seed,
        zygotes: !opts.run.fresh_guests,
        split_files: opts.run.split_files,
        started,
        key: setup.key,
        rewritten,
    })
}

/// Keep the rewritten test modules the run's pytest wrote, per suite (an
/// interrupted run's too: each module is whole).
pub fn save_rewritten(plan: &Plan, summary: &scheduler::RunSummary) {
    for (suite, key) in plan.suites.iter().zip(&plan.rewritten) {
        let (Some(key), Some(modules)) = (key, summary.rewritten.get(&suite.package)) else {
            continue;
        };
        if let Err(e) = super::rewritten::store(&plan.cache, suite, key, modules) {
            eprintln!("pyodide-test: warning: could not keep pytest's rewritten modules: {e:#}");
        }
    }
}

/// How [`run_plan`] went.
pub struct PlanRun {
    /// What the scheduler gathered.
    pub summary: scheduler::RunSummary,
    /// Ctrl-C stopped it.
    pub interrupted: bool,
    /// Wall time of the run proper.
    pub elapsed: Duration,
}

/// Run the plan's jobs under `runtime`, every result going to `sink`.
/// Ctrl-C stops the workers (then `interrupted` is set).
pub fn run_plan(plan: &Plan, runtime: Runtime, sink: &mut dyn RecordSink) -> Result<PlanRun> {
    let cfg = plan.cfg.clone();
    cfg.stop.store(false, Ordering::SeqCst);
    let backend = if runtime == Runtime::Wasmtime && plan.zygotes {
        // A pytest zygote collects the files this run has jobs for (a
        // partition's, not every file of the suite).
        let rates = super::collect_rate::load(&plan.cache);
        let mut plans: Vec<super::zygote::SuitePlan> = plan
            .suites
            .iter()
            .map(|s| super::zygote::SuitePlan {
                files: Vec::new(),
                collect_rate: rates.get(&super::collect_rate::suite_key(s)).copied(),
            })
            .collect();
        for job in &plan.jobs {
            plans[job.suite].files.push(super::zygote::Planned {
                file: job.file.clone(),
                seconds: job.measured.then_some(job.estimate),
            });
        }
        Backend::Zygote(Arc::new(super::zygote::ZygoteBackend::new(
            &plan.module,
            &plan.dist,
            &plan.cache,
            &cfg.guest,
            &plan.suites,
            &plans,
            plan.threads,
        )?))
    } else {
        Backend::with_module(runtime, &plan.dist, &plan.cache, &plan.module)?
    };
    if runtime == Runtime::Node && plan.max_memory_given {
        warn_unhonoured(
            "--max-memory",
            "--runtime node",
            "Pyodide's memory under Node grows to its 4 GiB maximum",
        );
    }
    if runtime == Runtime::Node && plan.max_fs_given {
        warn_unhonoured(
            "--max-fs",
            "--runtime node",
            "Node's MEMFS has no size limit",
        );
    }
    // Ctrl-C: a watcher turns the signal flag into the workers' stop flag.
    SIGINT.store(false, Ordering::SeqCst);
    install_sigint_handler();
    // The watcher looks every 50 ms, and goes as soon as the run is over
    // (the end of the run does not wait out its sleep).
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let watcher = {
        let stop = cfg.stop.clone();
        std::thread::spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                finished.recv_timeout(Duration::from_millis(50))
            {
                if SIGINT.load(Ordering::SeqCst) {
                    stop.store(true, Ordering::SeqCst);
                    break;
                }
            }
        })
    };
    // Forking a part of a file costs a child, not a guest's start: only
    // zygotes' runs split the files that would hold them up.
    let zygotes = matches!(backend, Backend::Zygote(_));
    if plan.split_files && !zygotes {
        let runtime = if runtime == Runtime::Node {
            "--runtime node"
        } else {
            "--fresh-guests"
        };
        warn_unhonoured(
            "--split-files",
            runtime,
            "each part of a file would pay a whole start",
        );
    }
    let jobs = if zygotes && plan.split_files {
        let times = scheduler::load_test_times(&plan.cache);
        split::split_long(plan.jobs.clone(), &plan.suites, plan.threads, &times)
    } else {
        plan.jobs.clone()
    };
    let run_started = Instant::now();
    let result = scheduler::run(
        &backend,
        &plan.suites,
        jobs,
        plan.threads,
        &cfg,
        plan.split_files,
        sink,
    );
    drop(done);
    let _ = watcher.join();
    if let Backend::Zygote(zygotes) = &backend
        && !SIGINT.load(Ordering::SeqCst)
    {
        // Its collectors' rates plan the next run's first shares.
        let _ = super::collect_rate::save(&plan.cache, &zygotes.collect_rates());
    }
    Ok(PlanRun {
        summary: result?,
        interrupted: SIGINT.load(Ordering::SeqCst),
        elapsed: run_started.elapsed(),
    })
}

/// Run the suites; returns the exit status (0 unchanged, 1 changed, 130
/// interrupted). Setup problems are errors (status 2).
pub fn run(source: &DistSource, runtime: Runtime, opts: &TestOptions) -> Result<i32> {
    let plan = prepare(source, opts)?;
    let snapshot_dir = opts
        .report
        .snapshot_dir
        .clone()
        .unwrap_or_else(|| default_snapshot_dir(&plan.key));
    run_and_report(
        &plan,
        runtime,
        opts,
        &package_names(opts),
        snapshot_dir,
        ReportScope::default(),
    )
}

/// Where a build's package snapshots are kept when `--snapshot-dir` is not
/// given: `snapshots/<key>` (`snapshots/pyodide-314.0.7`), one directory
/// per release or dist directory.
pub fn default_snapshot_dir(key: &str) -> PathBuf {
    PathBuf::from(super::report::snapshot::DEFAULT_DIR).join(key)
}

/// What a caller that planned the run itself (`cpython`) adds to its
/// report.
#[derive(Debug, Default)]
pub struct ReportScope<'a> {
    /// Records reported first: tests the plan decided not to run.
    pub before: &'a [TestRecord],
    /// The plan holds only some of the suite's jobs (snapshots are compared
    /// for those).
    pub some_jobs: bool,
    /// Per package, the tests whose outcome follows the memory layout: their
    /// changes are listed apart, not counted.
    pub unsteady: BTreeMap<String, BTreeSet<String>>,
}

/// Run a prepared plan and report it: `scope`'s records first, then the
/// jobs' as they come; returns the exit status as [`run`] does.
pub fn run_and_report(
    plan: &Plan,
    runtime: Runtime,
    opts: &TestOptions,
    packages: &[String],
    snapshot_dir: PathBuf,
    scope: ReportScope,
) -> Result<i32> {
    let files = plan.jobs.len();
    let filtered = opts.run.keyword.is_some() || !opts.run.pytest_args.is_empty();
    let report_opts = ReportOptions {
        json: opts.report.json.clone(),
        junit: opts.report.junit.clone(),
        snapshot_dir,
        update: opts.report.update,
        // SAFETY: isatty only inspects the descriptor number.
        progress: unsafe { libc::isatty(2) == 1 },
        partition: plan.partition,
        some_jobs: scope.some_jobs,
        filtered,
        pyodide_version: plan.dist.pyodide_version(),
        hash_seed: Some(plan.hash_seed),
        markdown: opts.report.markdown.clone(),
        build: Some(plan.key.clone()),
        installed: plan
            .suites
            .iter()
            .filter(|s| !s.installed.is_empty())
            .map(|s| (s.package.clone(), s.installed.clone()))
            .collect(),
        unsteady: scope.unsteady,
        ..ReportOptions::default()
    };
    let mut reporter = Reporter::new(report_opts, packages, files)?;
    for record in scope.before {
        reporter.record(record)?;
    }
    let run = match run_plan(plan, runtime, &mut reporter) {
        Ok(r) => r,
        Err(e) => {
            let _ = reporter.finish(true);
            return Err(e);
        }
    };
    let interrupted = run.interrupted;
    // Later runs are planned by the file times of whole runs in zygotes:
    // with -k or pytest's own arguments (which select, deselect or stop
    // early) a file's time is that of some of its tests; under Node or in
    // fresh guests each file pays a start of its own.
    if !interrupted && runtime == Runtime::Wasmtime && plan.zygotes {
        if !filtered {
            let _ = scheduler::save_durations(&plan.cache, &run.summary.durations);
        }
        if plan.split_files {
            let _ = scheduler::save_test_times(&plan.cache, &run.summary.tests);
        }
    }
    save_rewritten(plan, &run.summary);
    let verdict = reporter.finish(interrupted)?;
    if std::env::var_os("PYODIDE_TEST_TIMING").is_some() {
        eprintln!(
            "pyodide-test: setup {:.1} s, {files} files on {} workers in {:.1} s, {} results",
            (plan.started.elapsed() - run.elapsed).as_secs_f64(),
            plan.threads,
            run.elapsed.as_secs_f64(),
            run.summary.records
        );
    }
    Ok(if interrupted {
        INTERRUPTED_STATUS
    } else {
        match verdict {
            RunVerdict::Unchanged => 0,
            RunVerdict::Changed => 1,
        }
    })
}
