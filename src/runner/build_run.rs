//! One build of a `matrix` or `bisect`: fetch it, boot it once to ask its
//! CPython for its version (a build that cannot do that "does not boot"),
//! then run the selected tests through the same path as a test run
//! (`test_cmd::prepare_with` and `test_cmd::run_plan`), collecting the
//! outcomes instead of comparing them with snapshots.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::backend::{Backend, LazyModule, Runtime};
use super::builds::{Build, snapshot_key};
use super::dist::DistSource;
use super::fetch;
use super::outcome::{Outcome, TestRecord};
use super::report::normalize::keyed;
use super::report::{Counts, Results};
use super::scheduler::RecordSink;
use super::test_cmd::{self, Setup, TestOptions};
use crate::host::spec::{GuestEnd, Stdio};
use crate::syscalls::Capture;

/// What a build is, as its rows and log lines show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// The build as named on the command line (version or directory).
    pub label: String,
    /// Its Pyodide version (the npm package's, else the lock's).
    pub pyodide: Option<String>,
    /// The version its CPython reports (`platform.python_version()`),
    /// else the lock's `info.python`.
    pub python: Option<String>,
    /// The Emscripten version of the lock's platform.
    pub emscripten: Option<String>,
}

impl BuildInfo {
    /// `314.0.3 (Python 3.14.2, Emscripten 5.0.3)`.
    pub fn describe(&self) -> String {
        let mut facts = Vec::new();
        if let Some(p) = &self.pyodide
            && *p != self.label
        {
            facts.push(format!("Pyodide {p}"));
        }
        facts.push(format!(
            "Python {}",
            self.python.as_deref().unwrap_or("unknown")
        ));
        facts.push(format!(
            "Emscripten {}",
            self.emscripten.as_deref().unwrap_or("unknown")
        ));
        format!("{} ({})", self.label, facts.join(", "))
    }
}

/// Why a build was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipKind {
    /// The release could not be fetched.
    Unavailable,
    /// It is no dist this tool can open, its module does not load, or its
    /// CPython does not start.
    DoesNotBoot,
    /// It boots, but the suites could not be prepared for it (no wheel of
    /// the package for its Python, ...).
    CannotRun,
}

impl SkipKind {
    /// The words rows and logs use.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipKind::Unavailable => "unavailable",
            SkipKind::DoesNotBoot => "does not boot",
            SkipKind::CannotRun => "cannot run the tests",
        }
    }
}

/// How a build went.
#[derive(Debug, Clone)]
pub enum BuildStatus {
    /// The tests ran.
    Ran {
        /// Outcome of every test, by its key ([`test_key`]).
        tests: BTreeMap<String, TestRecord>,
        /// Tests per outcome.
        counts: Counts,
        /// Wall time of the build (setup and run).
        elapsed: Duration,
    },
    /// The build was skipped.
    Skipped {
        /// Why.
        kind: SkipKind,
        /// The error, on one line.
        reason: String,
    },
}

/// One build's result.
#[derive(Debug, Clone)]
pub struct BuildResult {
    /// The build.
    pub info: BuildInfo,
    /// How it went.
    pub status: BuildStatus,
}

impl BuildResult {
    /// The outcome of each test, when the tests ran.
    pub fn outcomes(&self) -> Option<BTreeMap<&str, Outcome>> {
        match &self.status {
            BuildStatus::Ran { tests, .. } => {
                Some(tests.iter().map(|(k, r)| (k.as_str(), r.outcome)).collect())
            }
            BuildStatus::Skipped { .. } => None,
        }
    }

    /// `does not boot: <reason>` for a skipped build, else `None`.
    pub fn skip_line(&self) -> Option<String> {
        match &self.status {
            BuildStatus::Skipped { kind, reason } => Some(format!("{}: {reason}", kind.as_str())),
            BuildStatus::Ran { .. } => None,
        }
    }
}

/// The key a test is compared under across builds: its normalised id
/// (see `report::normalize`), after `package: ` when the run has several
/// packages.
pub fn test_key(package: &str, id: &str, several: bool) -> String {
    if several {
        format!("{package}: {id}")
    } else {
        id.to_string()
    }
}

/// The records of a run, kept as the reports keep them (the latest, worse
/// record of a test reported twice).
struct Collect(Results);

impl RecordSink for Collect {
    fn record(&mut self, record: &TestRecord) -> Result<()> {
        self.0.add(record);
        Ok(())
    }
    fn file_done(&mut self, package: &str, file: &str) {
        self.0.package(package).files_done.insert(file.to_string());
    }
}

/// The error and its causes on one line.
fn one_line(err: &anyhow::Error) -> String {
    err.chain()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

/// Boot the build's CPython once, in `module`, and ask for its version.
fn probe(setup: &Setup, module: &LazyModule, runtime: Runtime) -> Result<String> {
    let backend = Backend::with_module(runtime, &setup.dist, &setup.cache, module)?;
    let mut spec = setup
        .dist
        .guest(crate::runner::options::DEFAULT_TEST_MEMORY.bytes())?;
    spec.argv = vec![
        "-c".into(),
        "import platform; print(platform.python_version())".into(),
    ];
    let (out, err) = (Capture::new(), Capture::new());
    spec.stdio = Stdio::to_sinks(Arc::new(out.clone()), Arc::new(err.clone()));
    let last_err = || {
        String::from_utf8_lossy(&err.contents())
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message")
            .trim()
            .to_string()
    };
    match backend.run(&spec)? {
        GuestEnd::Exited(0) => {
            let text = String::from_utf8_lossy(&out.contents()).trim().to_string();
            if text.is_empty() || text.contains('\n') {
                bail!("its CPython printed {text:?} for its version");
            }
            Ok(text)
        }
        GuestEnd::Exited(n) => bail!("python -c exited with status {n}: {}", last_err()),
        GuestEnd::Crashed(c) => bail!("the guest crashed: {c}"),
        GuestEnd::Stopped(why) => bail!("the guest was stopped: {why:?}"),
    }
}

/// Run `opts`'s tests on `build` (`base`: the flags every build shares).
/// A build that cannot be fetched, booted or prepared is returned as
/// skipped with the reason; an error is returned only when the run was
/// interrupted (Ctrl-C), which ends the whole command.
pub fn run_build(
    build: &Build,
    base: &DistSource,
    runtime: Runtime,
    opts: &TestOptions,
) -> Result<BuildResult> {
    let started = Instant::now();
    let source = build.source(base);
    let mut info = BuildInfo {
        label: build.label(),
        ..Default::default()
    };
    let skip = |info: BuildInfo, kind, e: anyhow::Error| {
        Ok(BuildResult {
            info,
            status: BuildStatus::Skipped {
                kind,
                reason: one_line(&e),
            },
        })
    };
    let cache = fetch::cache_root();
    // A release that cannot be fetched is unavailable; one fetched that
    // cannot be opened as a dist does not boot.
    let mut opened = source.clone();
    if opened.dir.is_none() {
        match fetch::ensure_pyodide(&cache, &source.version) {
            Ok(dir) => opened.dir = Some(dir),
            Err(e) => return skip(info, SkipKind::Unavailable, e),
        }
    }
    let dist = match opened.resolve(&cache) {
        Ok(d) => d,
        Err(e) => return skip(info, SkipKind::DoesNotBoot, e),
    };
    info.pyodide = dist.pyodide_version();
    info.python = Some(dist.info().python.clone());
    let em = dist.emscripten_version();
    info.emscripten = (!em.is_empty()).then_some(em);
    let setup = Setup {
        module: Arc::new(LazyModule::new(&dist, &cache)),
        scripts: Arc::new(LazyModule::for_scripts(&dist, &cache)),
        dist,
        cache,
        key: snapshot_key(&source),
    };
    // The probe boots, in-process, the module the run compiles bytecode
    // with: its zygotes' in a run in zygotes (each build then compiles one
    // main module, not two). One that does not load does not boot.
    let module = setup.bytecode_module(opts.run.fresh_guests);
    if let Err(e) = module.get() {
        return skip(info, SkipKind::DoesNotBoot, e);
    }
    match probe(&setup, module, runtime) {
        Ok(v) => info.python = Some(v),
        Err(e) => return skip(info, SkipKind::DoesNotBoot, e),
    }
    let plan = match test_cmd::prepare_with(setup, opts, started) {
        Ok(p) => p,
        Err(e) => return skip(info, SkipKind::CannotRun, e),
    };
    let packages = test_cmd::package_names(opts);
    let mut sink = Collect(Results::new(&packages));
    let run = match test_cmd::run_plan(&plan, runtime, &mut sink) {
        Ok(r) => r,
        Err(e) => return skip(info, SkipKind::CannotRun, e),
    };
    if run.interrupted {
        bail!("interrupted");
    }
    let several = packages.len() > 1;
    let mut tests = BTreeMap::new();
    for (package, pkg) in sink.0.iter() {
        for (id, rec) in keyed(&pkg.tests) {
            tests.insert(test_key(package, &id, several), rec.clone());
        }
    }
    Ok(BuildResult {
        info,
        status: BuildStatus::Ran {
            tests,
            counts: sink.0.counts(),
            elapsed: started.elapsed(),
        },
    })
}
