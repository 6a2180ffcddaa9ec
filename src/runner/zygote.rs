//! Test files through zygotes (see `host/zygote.rs`): one zygote process
//! per suite boots CPython, imports pytest and the package once (the suite
//! snapshot point), and forks a child per test file.
//!
//! [`ZygoteBackend::run`] takes the same [`GuestSpec`] as every backend:
//! a spec that extends a registered suite's (the same file sets, then more;
//! the same environment, then more; `-m MODULE ARGS`) runs in a child of
//! that suite's zygote, the extra files and variables going with the job.
//! Anything else runs in-process as before.
//!
//! A pytest suite's zygote goes further: it runs pytest itself over the
//! whole suite, so that pytest's configuration (its plugins, the conftests'
//! `pytest_configure`, the session's start) and its collection happen
//! once, as when pytest runs a whole suite in one process (the way Node
//! runs it): every test module is imported and its tests collected before
//! any test runs. It forks when collection is over; each child keeps its
//! own file's tests and collection errors and runs them. A large suite's
//! files are collected in shares side by side: the zygote configures
//! pytest once, forks a collector for each share but the first (a zygote
//! of its own from there) and collects the first itself. If collecting
//! the whole suite in one guest fails (a test module that crashes or
//! exits the guest while imported), a zygote forked at the start of
//! collection serves instead: each child collects its own file. Jobs whose
//! pytest arguments differ from that zygote's (other than the file) go to
//! a zygote forked before pytest starts, as do all jobs of a suite whose
//! pytest stops before collecting (bad options, a conftest that does not
//! import: every file then reports it itself).
//!
//! The default for test runs under Wasmtime; `--fresh-guests` boots every
//! file's guest from scratch instead.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use base64::Engine as _;

use super::dist::{Dist, DistSource};
use super::fetch;
use super::module::{LazyModule, is_side_module, load_module_with};
use super::suite::{Driver, PART_CUTS_VAR, PART_VAR, RESUME_VAR, Suite};
use super::tier::{self, Tier};
use crate::host::boot::PyodideModule;
use crate::host::engine::EngineOptions;
use crate::host::image;
use crate::host::spec::{FileSet, GuestEnd, GuestSpec, ImageSpec, file_set, site_packages};
use crate::host::zygote::{self, Job, Zygote};

/// The hidden subcommand that runs a zygote.
pub const SUBCOMMAND: &str = "__zygote";
/// The prelude's module name (`-m NAME`).
pub const PRELUDE_MODULE: &str = "_pyodide_test_zygote";
/// The prelude (see the file).
pub const PRELUDE_SOURCE: &str = include_str!("zygote_prelude.py");

/// A suite a zygote can serve.
struct ZygoteSuite {
    /// The spec every job of the suite extends.
    base: GuestSpec,
    /// What the zygote boots: `base`, the prelude, `-m PRELUDE NAMES`.
    boot: GuestSpec,
    /// Started on first use; an error is kept (then jobs run in-process).
    zygote: Mutex<Option<Result<Arc<Zygote>, String>>>,
    /// A pytest suite's test files as its jobs name them (the last
    /// argument), in the groups that collect them (one group per
    /// collector); `None` for other drivers.
    pytest_groups: Option<Vec<Vec<String>>>,
    /// Zygotes forked at pytest's collection, one per group and distinct
    /// pytest command line (less the file) and environment; an error is
    /// kept.
    pytest: Mutex<Vec<PytestZygote>>,
    /// What names its collectors' rate in the cache
    /// (`collect_rate::suite_key`).
    rate_key: String,
    /// This run's forked collectors' rate (see `collect_rate.rs`).
    rate: CollectorRate,
}

/// A zygote that configured pytest for a whole suite.
struct PytestZygote {
    /// pytest's arguments before the test file.
    prefix: Vec<String>,
    /// The job variables the zygote was booted with.
    env: Vec<(String, String)>,
    /// The test files it collected (and serves).
    files: Vec<String>,
    /// Filled when its boot is over (an error is kept).
    slot: Arc<BootSlot>,
}

/// Where a zygote booting on a thread of its own is left for the jobs
/// that wait for it.
#[derive(Default)]
struct BootSlot {
    zygote: Mutex<Option<Result<Arc<Zygote>, String>>>,
    ready: std::sync::Condvar,
}

impl BootSlot {
    fn fill(&self, zygote: Result<Arc<Zygote>, String>) {
        *self.zygote.lock().unwrap_or_else(|e| e.into_inner()) = Some(zygote);
        self.ready.notify_all();
    }

    /// The zygote, once booted.
    fn wait(&self) -> Result<Arc<Zygote>, String> {
        let mut slot = self.zygote.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(z) = slot.as_ref() {
                return z.clone();
            }
            slot = self.ready.wait(slot).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The zygote, if its boot is over and went well.
    fn booted(&self) -> Option<Arc<Zygote>> {
        let slot = self.zygote.lock().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().and_then(|z| z.as_ref().ok().cloned())
    }
}

/// Where a suite's forked collectors' times go: seconds per byte of the
/// test files each collected (the slowest kept). Clones share it.
#[derive(Clone)]
struct CollectorRate {
    /// The size in bytes of each test file, by guest path.
    sizes: Arc<HashMap<String, u64>>,
    slowest: Arc<Mutex<Option<f64>>>,
}

impl CollectorRate {
    /// A forked collector collected `files` in `took`. A share smaller
    /// than [`FIRST_SHARE_MIN_REST`] (which `first_share` never leaves to
    /// collectors) says nothing: its collector's start, not its bytes,
    /// takes the time.
    fn record(&self, files: &[String], took: Duration) {
        let bytes: u64 = files.iter().filter_map(|f| self.sizes.get(f)).sum();
        if bytes < FIRST_SHARE_MIN_REST {
            return;
        }
        let rate = took.as_secs_f64() / bytes as f64;
        let mut slowest = self.slowest.lock().unwrap_or_else(|e| e.into_inner());
        *slowest = Some(slowest.map_or(rate, |r| r.max(rate)));
    }
}

thread_local! {
    /// How long this thread's jobs waited for zygotes to boot (see
    /// [`take_boot_wait`]).
    static BOOT_WAIT: std::cell::Cell<Duration> = const { std::cell::Cell::new(Duration::ZERO) };
}

/// How long the calling thread waited for zygotes to boot since the last
/// call: time of the suite's, not of the job that happened to wait.
pub fn take_boot_wait() -> Duration {
    BOOT_WAIT.with(|w| w.replace(Duration::ZERO))
}

/// `f()`, its time counted as waiting for a boot.
fn waiting_for_boot<T>(f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    BOOT_WAIT.with(|w| w.set(w.get() + started.elapsed()));
    out
}

/// What starting a zygote process needs.
#[derive(Clone)]
struct Launcher {
    dist_dir: PathBuf,
    cache: PathBuf,
    /// Whether the run leaves a core idle, on which a zygote's spare child
    /// can copy ahead the pages the next job will write (see
    /// `host::prefault`); with every core busy running jobs, that copying
    /// (of pages some jobs never write) only takes time from them.
    copy_ahead: bool,
    /// The code the zygotes run (see `tier.rs`).
    tier: Tier,
}

/// Runs suites' test files in zygotes' children.
pub struct ZygoteBackend {
    /// For guests no zygote serves.
    module: Arc<LazyModule>,
    launcher: Launcher,
    suites: Vec<ZygoteSuite>,
}

impl ZygoteBackend {
    /// A backend for `suites`, whose jobs extend `guest` (the workers'
    /// base spec) with the suite's files; `plans[i].files` are the test
    /// files of `suites[i]` that the run has jobs for, in the order the
    /// workers take them, which its pytest zygote's collectors collect,
    /// each a share of the files, in parallel: as many as the run's
    /// `workers`, or for a large suite up to twice as many where the
    /// machine has the cores (see `collectors`); where the workers leave
    /// cores idle and the files' times are known, the zygote's own share is
    /// the files run first (see `first_share`), as many as the collectors'
    /// rate of an earlier run (`plans[i].collect_rate`) says are needed.
    /// Chooses the zygotes' code (see `tier.rs`) and compiles what it
    /// lacks of the main module and the suites' side modules into the
    /// cache (on all cores), so that the zygotes only load them.
    pub fn new(
        module: &Arc<LazyModule>,
        dist: &Dist,
        cache: &Path,
        guest: &GuestSpec,
        suites: &[Suite],
        plans: &[SuitePlan],
        workers: usize,
    ) -> Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // The suites' side modules too: the zygotes load them as they
        // import the packages and configure pytest.
        let side: Vec<(&str, &[u8])> = suites
            .iter()
            .flat_map(|s| s.files.iter())
            .filter(|(path, bytes)| is_side_module(path, bytes))
            .map(|(path, bytes)| (path.as_str(), &bytes[..]))
            .collect();
        let (tier, _) = tier::prepare(dist, cache, EngineOptions::uninterrupted(), &side, true)
            .context("compiling the module for the zygotes")?;
        let site = site_packages(guest.python);
        let prelude: FileSet = file_set([(
            format!("{site}/{PRELUDE_MODULE}.py"),
            PRELUDE_SOURCE.as_bytes().to_vec(),
        )]);
        let suites = suites
            .iter()
            .zip(plans)
            .map(|(s, plan)| {
                let mut base = guest.clone();
                base.files.push(s.files.clone());
                // The zygote starts where the suite's guests start: `-m`
                // puts the working directory first on sys.path.
                base.cwd = s.cwd.clone();
                // The tables of rewritten modules, which change as runs
                // rewrite modules, reach the guest after its image (as
                // pytest's arguments do: see `start_pytest`), which does
                // not read them: pytest's configuration does.
                let (kept, tables): (Vec<_>, Vec<_>) = s
                    .files
                    .iter()
                    .cloned()
                    .partition(|(path, _)| !super::rewritten::is_table(path));
                let mut boot = base.clone();
                *boot.files.last_mut().expect("the suite's files") = Arc::new(kept);
                boot.files.push(prelude.clone());
                boot.argv = vec!["-m".into(), PRELUDE_MODULE.into(), s.package.clone()];
                // The zygote names the image's file, if images are on.
                boot.image = Some(ImageSpec {
                    warm: WARM_SOURCE.to_string(),
                    file: None,
                    argv_after: Vec::new(),
                    files_after: Arc::new(tables),
                });
                let pytest_groups = (s.driver == Driver::Pytest)
                    .then(|| pytest_groups(s, &plan.files, workers, cores, plan.collect_rate));
                ZygoteSuite {
                    base,
                    boot,
                    zygote: Mutex::new(None),
                    pytest_groups,
                    pytest: Mutex::new(Vec::new()),
                    rate_key: super::collect_rate::suite_key(s),
                    rate: CollectorRate {
                        sizes: Arc::new(
                            s.test_files
                                .iter()
                                .map(|f| (format!("{}/{}", s.root, f.rel), f.size))
                                .collect(),
                        ),
                        slowest: Arc::default(),
                    },
                }
            })
            .collect();
        Ok(Self {
            module: module.clone(),
            launcher: Launcher {
                dist_dir: dist.dir().to_path_buf(),
                cache: cache.to_path_buf(),
                copy_ahead: workers < cores,
                tier,
            },
            suites,
        })
    }

    /// Start the guest `spec` describes and run it to its end: in a child
    /// of a zygote when one serves it, else in-process.
    pub fn run(&self, spec: &GuestSpec) -> Result<GuestEnd> {
        let Some((suite, job)) = self
            .suites
            .iter()
            .find_map(|s| job_for(&s.base, spec).map(|job| (s, job)))
        else {
            return self.module.get()?.run(spec);
        };
        let (_, stdout, stderr) = spec.stdio.streams();
        let run = |zygote: &Zygote, job: &Job| {
            zygote.run(
                job,
                &*stdout,
                &*stderr,
                spec.events.as_deref(),
                spec.limits.interrupt.as_ref(),
            )
        };
        if let Some((zygote, job)) = self.pytest_zygote(suite, &job) {
            return run(&zygote, &job);
        }
        // The first job boots the zygote; the others wait for the lock.
        let booted = waiting_for_boot(|| {
            let mut slot = suite.zygote.lock().unwrap_or_else(|e| e.into_inner());
            if slot.is_none() {
                *slot = Some(self.launcher.start(&suite.boot).map(Arc::new).map_err(|e| {
                    eprintln!("pyodide-test: warning: {e:#}; running in-process");
                    format!("{e:#}")
                }));
            }
            slot.as_ref().expect("set above").clone()
        });
        let Ok(zygote) = booted else {
            return self.module.get()?.run(spec);
        };
        run(&zygote, &job)
    }

    /// The rates of this run's forked collectors (the slowest of each
    /// suite), for `collect_rate::save`.
    pub fn collect_rates(&self) -> super::collect_rate::Rates {
        self.suites
            .iter()
            .filter_map(|s| {
                let rate = *s.rate.slowest.lock().unwrap_or_else(|e| e.into_inner());
                rate.map(|r| (s.rate_key.clone(), r))
            })
            .collect()
    }

    /// The zygote at pytest's collection that serves `job` (`python -m
    /// pytest ... FILE` on one of the suite's files), started on first use,
    /// and the job it runs there: the file, and what the zygote's
    /// environment lacks. `None`: the job needs a zygote forked before
    /// pytest starts.
    fn pytest_zygote(&self, suite: &ZygoteSuite, job: &Job) -> Option<(Arc<Zygote>, Job)> {
        let groups = suite.pytest_groups.as_ref()?;
        let (file, prefix) = job.args.split_last()?;
        if job.module != "pytest" || !groups.iter().any(|g| g.contains(file)) {
            return None;
        }
        // A resumed file's list of finished tests and a part's number come
        // with its job; the rest of the environment is the zygote's, set
        // before pytest starts.
        let (rest, env): (Vec<_>, Vec<_>) = job
            .env
            .iter()
            .cloned()
            .partition(|(k, _)| k == RESUME_VAR || k == PART_VAR || k == PART_CUTS_VAR);
        let slot = {
            let mut zygotes = suite.pytest.lock().unwrap_or_else(|e| e.into_inner());
            if !zygotes.iter().any(|z| z.prefix == prefix && z.env == env) {
                // One zygote configures pytest; its collectors (one a
                // group) collect side by side, each on a core; a job waits
                // for its own group's only.
                let slots: Vec<Arc<BootSlot>> = groups.iter().map(|_| Arc::default()).collect();
                for (group, slot) in groups.iter().zip(&slots) {
                    zygotes.push(PytestZygote {
                        prefix: prefix.to_vec(),
                        env: env.clone(),
                        files: group.clone(),
                        slot: slot.clone(),
                    });
                }
                let (launcher, boot) = (self.launcher.clone(), suite.boot.clone());
                let (prefix, env, groups) = (prefix.to_vec(), env.clone(), groups.clone());
                let filling = slots.clone();
                let rate = suite.rate.clone();
                let spawned = std::thread::Builder::new()
                    .name("zygote-boot".into())
                    .spawn(move || {
                        launcher.start_pytest(boot, &prefix, &env, &groups, &filling, &rate)
                    });
                if let Err(e) = spawned {
                    for slot in &slots {
                        slot.fill(Err(format!("starting a thread to boot a zygote: {e}")));
                    }
                }
            }
            zygotes
                .iter()
                .find(|z| z.prefix == prefix && z.env == env && z.files.contains(file))?
                .slot
                .clone()
        };
        let zygote = waiting_for_boot(|| slot.wait()).ok()?;
        Some((
            zygote,
            Job {
                args: vec![file.clone()],
                env: rest,
                ..job.clone()
            },
        ))
    }
}

impl Launcher {
    /// Boot a zygote that configures pytest with `prefix` and every file of
    /// the suite's `groups` and forks at the start of collection; fill
    /// `slots[i]` with the zygote that collected group `i`'s files (not the
    /// others') and forks after collection: the zygote itself for the first
    /// group, a child collector of it for each other (see `host::zygote`),
    /// all collecting side by side. A group whose collection in one guest
    /// fails (a test module that crashes or exits while imported) is served
    /// by a zygote forked at the start of collection, booted when first
    /// needed, each file then collecting itself; if pytest cannot even be
    /// configured, every slot gets an error (each file then configures it
    /// itself).
    fn start_pytest(
        &self,
        mut boot: GuestSpec,
        prefix: &[String],
        env: &[(String, String)],
        groups: &[Vec<String>],
        slots: &[Arc<BootSlot>],
        rate: &CollectorRate,
    ) {
        boot.env.extend(env.iter().cloned());
        // pytest is given every file, as over the whole suite (its rootdir
        // and initial conftests come from them); each collector collects
        // its group's. In the order of their paths, as pytest given the
        // suite's directory imports them, whatever the groups are (their
        // order follows the files' times, which change from run to run).
        let mut files: Vec<String> = groups.iter().flatten().cloned().collect();
        files.sort();
        let mut args = prefix.to_vec();
        args.extend(files);
        let pytest = [
            "--pytest".to_string(),
            serde_json::to_string(&args).unwrap_or_default(),
        ];
        match boot.image.as_mut() {
            // After the image (taken before the prelude runs): runs that
            // select other tests (-k, --partition) share the suite's image.
            Some(image) => image.argv_after.extend(pytest),
            None => boot.argv.extend(pytest),
        }
        let zygote = match self.start(&boot) {
            Ok(z) => Arc::new(z),
            Err(e) => {
                eprintln!("pyodide-test: note: {e:#}; each test file configures pytest itself");
                for slot in slots {
                    slot.fill(Err(format!("{e:#}")));
                }
                return;
            }
        };
        let description = |i: usize| {
            let others: Vec<&String> = groups
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .flat_map(|(_, g)| g)
                .collect();
            serde_json::json!({ "collect": true, "others": others, "env": [], "files": [] })
        };
        let ready = |group: usize, took: Duration| {
            if std::env::var_os("PYODIDE_TEST_TIMING").is_some() {
                crate::stderr_line::write(&format!(
                    "pyodide-test: collector of {} files ready in {} ms",
                    groups[group].len(),
                    took.as_millis()
                ));
            }
        };
        let fallback = std::sync::OnceLock::new();
        let collected = |group: usize, collector: Result<Arc<Zygote>>| match collector {
            Ok(z) => {
                ready(group, z.boot);
                Ok(z)
            }
            Err(e) => {
                eprintln!("pyodide-test: note: {e:#}; each test file is collected on its own");
                fallback
                    .get_or_init(|| {
                        self.start(&boot)
                            .map(Arc::new)
                            .map_err(|e| format!("{e:#}"))
                    })
                    .clone()
            }
        };
        // The children first, then the zygote goes on itself.
        let children: Vec<_> = (1..groups.len())
            .map(|i| Zygote::fork_collector(&zygote, &description(i)))
            .collect();
        std::thread::scope(|scope| {
            for (i, child) in children.into_iter().enumerate() {
                let collected = &collected;
                scope.spawn(move || {
                    let child = child.and_then(|c| c.wait()).map(Arc::new);
                    if let Ok(c) = &child {
                        rate.record(&groups[i + 1], c.boot);
                    }
                    slots[i + 1].fill(collected(i + 1, child));
                });
            }
            slots[0].fill(match zygote.go_on(&description(0)) {
                Ok(took) => {
                    ready(0, took);
                    Ok(zygote.clone())
                }
                Err(e) => collected(0, Err(e)),
            });
        });
    }

    fn start(&self, boot: &GuestSpec) -> Result<Zygote> {
        let mut command = Command::new(tier::this_program()?);
        command
            .arg("--dist")
            .arg(&self.dist_dir)
            .arg(SUBCOMMAND)
            .env("PYODIDE_TEST_CACHE", &self.cache)
            .env(tier::TIER_VAR, self.tier.name());
        // Set unless the user has.
        if std::env::var_os(zygote::COPY_AHEAD_VAR).is_none() {
            command.env(
                zygote::COPY_AHEAD_VAR,
                if self.copy_ahead { "1" } else { "0" },
            );
        }
        let zygote = Zygote::spawn(command, boot, Some(&self.cache.join("bundles")))?;
        if std::env::var_os("PYODIDE_TEST_TIMING").is_some() {
            crate::stderr_line::write(&format!(
                "pyodide-test: zygote booted in {} ms",
                zygote.boot.as_millis()
            ));
        }
        Ok(zygote)
    }
}

impl Drop for ZygoteBackend {
    fn drop(&mut self) {
        // Every zygote ends at once; each `Zygote`'s drop then waits.
        for suite in &self.suites {
            let single = suite.zygote.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(Ok(z)) = single.as_ref() {
                z.shutdown();
            }
            let pytest = suite.pytest.lock().unwrap_or_else(|e| e.into_inner());
            for z in pytest.iter().filter_map(|p| p.slot.booted()) {
                z.shutdown();
            }
        }
    }
}

/// How many collectors collect a pytest suite whose test files hold `bytes`
/// for a run of `workers` on `cores`: the workers, and more on cores the
/// run leaves idle, one for each [`EXTRA_COLLECTOR_BYTES`] of tests, up to
/// twice the workers. The collectors collect side by side, and each job
/// then waits only for its own group's (pydantic-core, 1.5 MB of tests, at
/// `-j 1` on two cores: the zygotes' boot about 3.2-3.8 s with one
/// collector, 2.0-2.8 s with two booting side by side). Each child sees the
/// test modules of its group collected, as at `-j 2`.
fn collectors(workers: usize, cores: usize, bytes: u64) -> usize {
    let extra = usize::try_from(bytes / EXTRA_COLLECTOR_BYTES).unwrap_or(usize::MAX);
    workers.max(
        cores
            .min(workers.saturating_mul(2))
            .min(workers.saturating_add(extra)),
    )
}

/// The test files an extra collector needs to pay for itself: collecting
/// takes about 1.3 us a byte here, and a collector forked from the zygote
/// pays a page fault and copy for each page it writes. Below this
/// (simplejson, 165 KB; cytoolz, msgpack) a second one measured no gain,
/// above it (bitarray, 387 KB; pydantic-core) it did.
const EXTRA_COLLECTOR_BYTES: u64 = 256 * 1024;

/// Split a suite's test files (path, size in bytes) into at most
/// `collectors` groups of similar total size (the size stands for the cost
/// of importing and collecting a file), keeping the suite's order within
/// each group. A group has two files at least: a zygote's boot (CPython,
/// pytest, the package) costs more than collecting one file.
fn collection_groups(files: &[(String, u64)], collectors: usize) -> Vec<Vec<String>> {
    let n = collectors.min(files.len() / 2).max(1);
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(files[i].1));
    let mut load = vec![0u64; n];
    let mut owner = vec![0usize; files.len()];
    for i in order {
        let g = (0..n).min_by_key(|&g| (load[g], g)).unwrap_or(0);
        load[g] += files[i].1.max(1);
        owner[i] = g;
    }
    let mut groups = vec![Vec::new(); n];
    for (i, (path, _)) in files.iter().enumerate() {
        groups[owner[i]].push(path.clone());
    }
    groups.retain(|g| !g.is_empty());
    groups
}

/// The groups of a pytest suite `s`'s `planned` files (in the workers'
/// order) that its collectors collect, for `workers` on `cores`: uneven
/// ([`first_share`], by the collectors' `rate` of an earlier run where
/// known) where that applies, else balanced by size
/// ([`collection_groups`]), in the suite's order.
fn pytest_groups(
    s: &Suite,
    planned: &[Planned],
    workers: usize,
    cores: usize,
    rate: Option<f64>,
) -> Vec<Vec<String>> {
    let size: HashMap<&str, u64> = s
        .test_files
        .iter()
        .map(|f| (f.rel.as_str(), f.size))
        .collect();
    // In the workers' order, a split file's parts as one.
    let mut run: Vec<RunFile> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for p in planned {
        let Some(&bytes) = size.get(p.file.as_str()) else {
            continue;
        };
        if let Some(&i) = index.get(p.file.as_str()) {
            run[i].seconds = run[i].seconds.zip(p.seconds).map(|(a, b)| a + b);
            continue;
        }
        index.insert(&p.file, run.len());
        run.push(RunFile {
            path: format!("{}/{}", s.root, p.file),
            bytes,
            seconds: p.seconds,
        });
    }
    let files: Vec<(String, u64)> = s
        .test_files
        .iter()
        .filter(|f| index.contains_key(f.rel.as_str()))
        .map(|f| (format!("{}/{}", s.root, f.rel), f.size))
        .collect();
    let bytes = files.iter().map(|(_, size)| size).sum();
    let collectors = collectors(workers, cores, bytes);
    // The collectors beside the zygote, on the idle cores.
    let others = cores
        .saturating_sub(workers)
        .min(collectors.saturating_sub(1))
        .max(1);
    (workers < cores)
        .then(|| first_share(&run, workers, others, forked_secs_per_byte(rate)))
        .flatten()
        .unwrap_or_else(|| collection_groups(&files, collectors))
}

/// What a run plans for one suite (see [`ZygoteBackend::new`]).
#[derive(Debug, Clone, Default)]
pub struct SuitePlan {
    /// The test files it has jobs for, in the order the workers take them.
    pub files: Vec<Planned>,
    /// Seconds per byte of test files that its forked collectors took in
    /// an earlier run (see `collect_rate.rs`), when known.
    pub collect_rate: Option<f64>,
}

/// A test file a run has a job for (see [`ZygoteBackend::new`]).
#[derive(Debug, Clone)]
pub struct Planned {
    /// The file, relative to its suite's root.
    pub file: String,
    /// Its job's time in an earlier run, in seconds, when known.
    pub seconds: Option<f64>,
}

/// A test file in the order the workers take them: its guest path, size
/// and known time.
#[derive(Debug, Clone)]
struct RunFile {
    path: String,
    bytes: u64,
    seconds: Option<f64>,
}

/// Seconds a collector forked from the zygote takes per byte of test
/// files, where no earlier run measured the suite's: collecting takes
/// about 1.3 us a byte, and the copy-on-write faults on every page a
/// forked collector writes make it about three times as slow (simplejson's
/// 165 KB: 0.1 s in the zygote, 0.3 s forked). Measured since (the
/// zygote's images, copying ahead): 0.8-0.9 us a byte (pydantic-core,
/// simplejson).
const FORKED_SECS_PER_BYTE: f64 = 4e-6;

/// How much slower than an earlier run's collectors [`first_share`]
/// plans for: a rate measured once varies from run to run (pydantic-core's
/// 1.3 s collector: 1.2-1.4 s), and a collector that is late holds the
/// worker up, where a first share one file longer costs only that
/// file's collection.
const MEASURED_RATE_MARGIN: f64 = 1.5;

/// The seconds per byte [`first_share`] plans with: the collectors'
/// `rate` of an earlier run (with [`MEASURED_RATE_MARGIN`]), else
/// [`FORKED_SECS_PER_BYTE`].
fn forked_secs_per_byte(rate: Option<f64>) -> f64 {
    rate.filter(|r| r.is_finite() && *r > 0.0)
        .map_or(FORKED_SECS_PER_BYTE, |r| r * MEASURED_RATE_MARGIN)
}

/// The least of the test files (bytes) that [`first_share`] leaves to
/// collectors: what the zygote collects in about 20 ms.
const FIRST_SHARE_MIN_REST: u64 = 16 * 1024;

/// The collection groups where the workers leave cores idle: the zygote
/// collects only the files the `workers` run first (`run`'s first), just
/// enough of them (by their known times) to keep the workers busy while
/// `others` collectors, forked onto the idle cores, collect the rest; so
/// the first tests start after a fraction of the collection instead of
/// half of it or all. `None` (balanced groups instead) where no such cut
/// exists or a time it needs is unknown (a first run), or where the rest
/// is too small for its collection to matter ([`FIRST_SHARE_MIN_REST`]).
/// A forked collector is taken to need `secs_per_byte` a byte of test
/// files.
fn first_share(
    run: &[RunFile],
    workers: usize,
    others: usize,
    secs_per_byte: f64,
) -> Option<Vec<Vec<String>>> {
    let total: u64 = run.iter().map(|f| f.bytes).sum();
    let (mut busy, mut taken) = (0.0, 0);
    for (k, file) in run.iter().enumerate().take(run.len().saturating_sub(1)) {
        busy += file.seconds?;
        taken += file.bytes;
        if total - taken < FIRST_SHARE_MIN_REST {
            return None;
        }
        let collecting = (total - taken) as f64 * secs_per_byte / others.max(1) as f64;
        if busy / workers.max(1) as f64 >= collecting {
            let (first, rest) = run.split_at(k + 1);
            let rest: Vec<(String, u64)> = rest.iter().map(|f| (f.path.clone(), f.bytes)).collect();
            let mut groups = vec![first.iter().map(|f| f.path.clone()).collect()];
            groups.extend(collection_groups(&rest, others));
            return Some(groups);
        }
    }
    None
}

/// The job that turns `base` into `spec`, when `spec` extends it.
fn job_for(base: &GuestSpec, spec: &GuestSpec) -> Option<Job> {
    let same_files = spec.files.len() >= base.files.len()
        && base
            .files
            .iter()
            .zip(&spec.files)
            .all(|(a, b)| Arc::ptr_eq(a, b));
    if !same_files
        || spec.python != base.python
        || !crate::host_bytes::HostBytes::ptr_eq(&spec.stdlib_zip, &base.stdlib_zip)
        || spec.mounts != base.mounts
        || spec.cwd != base.cwd
        || spec.limits.max_memory != base.limits.max_memory
        || spec.limits.max_fs != base.limits.max_fs
        || spec.frozen.len() != base.frozen.len()
        || spec
            .frozen
            .iter()
            .zip(&base.frozen)
            .any(|(a, b)| a.0 != b.0 || !crate::host_bytes::HostBytes::ptr_eq(&a.1, &b.1))
        || !spec.env.starts_with(&base.env)
        || spec.events.is_none()
    {
        return None;
    }
    let [flag, module, args @ ..] = &spec.argv[..] else {
        return None;
    };
    if flag != "-m" {
        return None;
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    Some(Job {
        module: module.clone(),
        args: args.to_vec(),
        env: spec.env[base.env.len()..].to_vec(),
        files: spec.files[base.files.len()..]
            .iter()
            .flat_map(|set| set.iter())
            .map(|(path, data)| (path.clone(), b64.encode(data)))
            .collect(),
        finalize: std::env::var_os("PYODIDE_TEST_ZYGOTE_FINALIZE").is_some(),
    })
}

/// `0`: zygotes neither save nor restore images of their guests (see
/// `host/image.rs`), to measure without.
pub const IMAGES_VAR: &str = "PYODIDE_TEST_IMAGES";

/// The zygotes' warm-up, after which their guests' images are taken.
const WARM_SOURCE: &str = include_str!("zygote_warm.py");

/// The hidden subcommand: be a zygote for the dist of `source` (the runner
/// gives `--dist DIR`); the guest comes on stdin. Never returns.
pub fn zygote_main(source: &DistSource) -> ! {
    let started = Instant::now();
    let boot = (|| -> Result<(PyodideModule, GuestSpec)> {
        // The module first: it loads while the runner writes the boot
        // description.
        let cache = fetch::cache_root();
        let dist = source.resolve(&cache)?;
        // The runner's tier (see `tier.rs`).
        let tier = Tier::requested()?.unwrap_or(Tier::Optimized);
        let module = load_module_with(&dist, &cache, tier.options(EngineOptions::zygote()))?;
        let (mut spec, digest) = zygote::read_boot()?;
        let images = std::env::var_os(IMAGES_VAR).is_none_or(|v| v != "0");
        if let Some(image) = spec.image.as_mut().filter(|_| images) {
            let wasm = dist.path("pyodide.asm.wasm");
            image.file =
                image::file_for(&cache.join("images"), &digest, &wasm).filter(|f| image::wanted(f));
        }
        Ok((module, spec))
    })();
    match boot {
        Ok((module, spec)) => zygote::serve_forever(&module, spec, started),
        Err(e) => zygote::fail(&format!("{e:#}")),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::{
        CollectorRate, EXTRA_COLLECTOR_BYTES, FORKED_SECS_PER_BYTE, MEASURED_RATE_MARGIN, RunFile,
        collection_groups, collectors, first_share, forked_secs_per_byte,
    };

    fn files(sizes: &[u64]) -> Vec<(String, u64)> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, &s)| (format!("t{i}.py"), s))
            .collect()
    }

    #[test]
    fn idle_cores_collect_large_suites_with_up_to_twice_the_workers() {
        let large = 10 * EXTRA_COLLECTOR_BYTES;
        assert_eq!(collectors(1, 1, large), 1);
        assert_eq!(collectors(1, 2, large), 2);
        assert_eq!(collectors(1, 8, large), 2);
        assert_eq!(collectors(2, 2, large), 2);
        assert_eq!(collectors(3, 4, large), 4);
        assert_eq!(collectors(4, 2, large), 4);
        // A small suite: the workers only.
        assert_eq!(collectors(1, 2, EXTRA_COLLECTOR_BYTES - 1), 1);
        assert_eq!(collectors(2, 8, EXTRA_COLLECTOR_BYTES - 1), 2);
        assert_eq!(collectors(2, 8, EXTRA_COLLECTOR_BYTES), 3);
    }

    #[test]
    fn groups_balance_size_and_keep_order() {
        let groups = collection_groups(&files(&[100, 10, 60, 40, 5, 5]), 2);
        assert_eq!(
            groups,
            vec![
                vec!["t0.py", "t1.py"],
                vec!["t2.py", "t3.py", "t4.py", "t5.py"]
            ]
        );
    }

    /// Files in the workers' order: (size in bytes, known seconds).
    fn run(files: &[(u64, Option<f64>)]) -> Vec<RunFile> {
        files
            .iter()
            .enumerate()
            .map(|(i, &(bytes, seconds))| RunFile {
                path: format!("t{i}.py"),
                bytes,
                seconds,
            })
            .collect()
    }

    #[test]
    fn the_zygote_collects_what_keeps_the_workers_busy_while_the_rest_is_collected() {
        // 100 KB after the first file take a forked collector 0.4 s: the
        // first file's 0.5 s covers it.
        let kb = 1000;
        assert!((FORKED_SECS_PER_BYTE * (100 * kb) as f64 - 0.4).abs() < 1e-9);
        let files = run(&[
            (5 * kb, Some(0.5)),
            (60 * kb, Some(0.1)),
            (40 * kb, Some(0.1)),
        ]);
        assert_eq!(
            first_share(&files, 1, 1, FORKED_SECS_PER_BYTE),
            Some(vec![
                vec!["t0.py".to_string()],
                vec!["t1.py".into(), "t2.py".into()]
            ])
        );
        // Two workers share the first files: 0.5 s keeps them busy 0.25 s,
        // less than the rest's collection; the second file's 0.6 s in all
        // (0.3 s each) outlasts the 40 KB left (0.16 s).
        assert_eq!(
            first_share(&files, 2, 1, FORKED_SECS_PER_BYTE),
            Some(vec![
                vec!["t0.py".to_string(), "t1.py".into()],
                vec!["t2.py".into()]
            ])
        );
        // Two collectors for the rest (110 KB): each collects about half,
        // 0.22 s, within the first file's 0.25 s.
        let files = run(&[
            (5 * kb, Some(0.25)),
            (50 * kb, Some(0.1)),
            (30 * kb, Some(0.1)),
            (20 * kb, Some(0.1)),
            (10 * kb, Some(0.1)),
        ]);
        assert_eq!(
            first_share(&files, 1, 2, FORKED_SECS_PER_BYTE),
            Some(vec![
                vec!["t0.py".to_string()],
                vec!["t1.py".into(), "t4.py".into()],
                vec!["t2.py".into(), "t3.py".into()]
            ])
        );
    }

    #[test]
    fn a_measured_rate_makes_the_first_share_as_short_as_it_can_be() {
        // pydantic-core's order and sizes at `-j 1`: its first file (10 KB)
        // runs 4.9 s, the next two 1.8 s and 1.1 s, and 1.45 MB of tests
        // follow.
        let kb = 1000;
        let mut sizes = vec![
            (10 * kb, Some(4.9)),
            (7 * kb, Some(1.8)),
            (66 * kb, Some(1.1)),
        ];
        sizes.extend((0..116).map(|_| (12_500, Some(0.08))));
        let files = run(&sizes);
        let first = |rate: f64| first_share(&files, 1, 1, rate).map(|g| g[0].len());
        // The fixed guess (4 us a byte: 6.1 s for the rest after one file)
        // needs the zygote to collect two files first.
        assert_eq!(first(FORKED_SECS_PER_BYTE), Some(2));
        // The rate measured (1.3 s for 1.45 MB), with its margin: one.
        let measured = 1.3 / 1.45e6;
        assert_eq!(first(forked_secs_per_byte(Some(measured))), Some(1));
        assert_eq!(
            forked_secs_per_byte(Some(measured)),
            measured * MEASURED_RATE_MARGIN
        );
        // No rate, or none that is one: the fixed guess.
        for rate in [None, Some(0.0), Some(f64::NAN), Some(-1.0)] {
            assert_eq!(forked_secs_per_byte(rate), FORKED_SECS_PER_BYTE);
        }
    }

    #[test]
    fn a_collectors_rate_is_its_time_by_the_bytes_it_collected_the_slowest_kept() {
        let rate = CollectorRate {
            sizes: Arc::new(HashMap::from([
                ("/t/a.py".to_string(), 20_000),
                ("/t/b.py".to_string(), 60_000),
                ("/t/small.py".to_string(), 1_000),
            ])),
            slowest: Arc::new(Mutex::new(None)),
        };
        let group = ["/t/a.py".to_string(), "/t/b.py".to_string()];
        rate.record(&group, Duration::from_millis(80));
        assert_eq!(*rate.slowest.lock().unwrap(), Some(1e-6));
        rate.record(&group[..1], Duration::from_millis(60));
        assert_eq!(*rate.slowest.lock().unwrap(), Some(3e-6));
        rate.record(&group[1..], Duration::from_millis(60));
        assert_eq!(*rate.slowest.lock().unwrap(), Some(3e-6));
        // A share too small to tell (its collector's start is most of its
        // time), and files of unknown size: no rate.
        rate.record(&["/t/small.py".to_string()], Duration::from_millis(10));
        rate.record(&["/t/c.py".to_string()], Duration::from_secs(1));
        assert_eq!(*rate.slowest.lock().unwrap(), Some(3e-6));
    }

    #[test]
    fn without_known_times_or_a_cut_the_groups_are_balanced() {
        let kb = 1000;
        // A first run: a time the cut needs is unknown.
        assert_eq!(
            first_share(
                &run(&[(5 * kb, None), (100 * kb, Some(1.0))]),
                1,
                1,
                FORKED_SECS_PER_BYTE
            ),
            None
        );
        // Nothing runs long enough before the last file.
        assert_eq!(
            first_share(
                &run(&[(50 * kb, Some(0.01)), (50 * kb, Some(0.01))]),
                1,
                1,
                FORKED_SECS_PER_BYTE
            ),
            None
        );
        // One file: nothing to share.
        assert_eq!(
            first_share(&run(&[(5 * kb, Some(9.0))]), 1, 1, FORKED_SECS_PER_BYTE),
            None
        );
        // Too little left to collect for a collector to matter.
        assert_eq!(
            first_share(
                &run(&[(5 * kb, Some(9.0)), (10 * kb, Some(0.1))]),
                1,
                1,
                FORKED_SECS_PER_BYTE
            ),
            None
        );
    }

    #[test]
    fn one_group_for_one_collector_or_few_files() {
        assert_eq!(collection_groups(&files(&[1, 2, 3]), 1).len(), 1);
        assert_eq!(collection_groups(&files(&[1, 2, 3]), 4).len(), 1);
        assert_eq!(collection_groups(&files(&[1, 2, 3, 4]), 4).len(), 2);
        assert_eq!(collection_groups(&files(&[]), 2), Vec::<Vec<String>>::new());
    }
}
