//! One job: one test file of one package, run by pytest in a fresh guest,
//! and the recovery loop around it.
//!
//! The guest runs `python -m pytest -p _pyodide_test_plugin ... FILE`; the
//! plugin's events reach an [`EventSink`] (see `events.rs`) that forwards
//! results to the reporting thread at once. When the guest dies in a test
//! (trap, abort, stack overflow, out of memory) or a test exceeds the
//! timeout, that test is recorded as crashed or timeout and a fresh guest
//! runs the file's remaining tests (the plugin deselects those already done).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;

use super::backend::Backend;
use super::events::{Channel, EventSink, Msg, Progress, crash_reason, last_line, short};
use super::outcome::{Outcome, TestRecord};
use super::suite::{Driver, PART_CUTS_VAR, PART_VAR, Part, RESUME_VAR, Suite};
use crate::host::spec::{
    EVENTS_DEVICE, GuestEnd, GuestSpec, Interrupt, Stdio, StopReason, file_set,
};

/// Where the resume list goes in the guest.
const RESUME_PATH: &str = "/tmp/.pyodide-test-resume";

/// How long a guest may run outside any test (start-up, collection, module
/// fixtures) without an event, at least.
const OUTSIDE_TEST_TIMEOUT: Duration = Duration::from_secs(300);

/// Settings shared by every job.
#[derive(Clone)]
pub struct WorkerConfig {
    /// The guest every job starts from: the dist's Python and stdlib and
    /// the memory limit (`--max-memory`); each job adds its files,
    /// arguments and streams.
    pub guest: GuestSpec,
    /// `--timeout` per test.
    pub timeout: Duration,
    /// `-k EXPR`.
    pub keyword: Option<String>,
    /// Extra pytest arguments (`-- ARGS`).
    pub pytest_args: Vec<String>,
    /// Set by Ctrl-C: stop every guest now, record nothing more.
    pub stop: Arc<AtomicBool>,
}

/// Why the guest of a job stopped early.
enum Stop {
    /// Trap, abort, stack overflow: the description.
    Crash(String),
    /// The timeout (`--timeout`) passed.
    Timeout,
    /// Ctrl-C.
    Cancelled,
    /// The guest exited (status) without finishing the session.
    Exit(i32),
}

/// Run one test file of `suite` (or its part K of N: see
/// [`super::split::split_long`]) to the end, restarting the guest after
/// crashes; results go to `tx` as they happen.
pub fn run_file(
    backend: &Backend,
    suite: &Suite,
    file: &str,
    part: Option<&Part>,
    cfg: &WorkerConfig,
    tx: &Sender<Msg>,
) -> Result<()> {
    let started = Instant::now();
    backend.take_shared_wait();
    // Node's crash reasons come from its stderr already.
    let node = matches!(backend, Backend::Node(_));
    let mut collected: Vec<String> = Vec::new();
    let mut collection_seen = false;
    let mut done: HashSet<String> = HashSet::new();
    let send = |id: String, outcome: Outcome, duration: f64, message: String| {
        let _ = tx.send(Msg::Record(TestRecord {
            package: suite.package.clone(),
            id,
            outcome,
            duration,
            message,
        }));
    };
    loop {
        if cfg.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let done_before = done.len();
        let progress = Arc::new(Mutex::new(Progress::resuming(done.clone())));
        let stop = run_guest(backend, suite, file, part, cfg, tx, &progress, &done)?;
        let p = std::mem::take(&mut *progress.lock().unwrap_or_else(|e| e.into_inner()));
        if std::env::var_os("PYODIDE_TEST_DEBUG").is_some() {
            // The guest's own output, for looking into a job.
            eprintln!(
                "--- {} {file}: stdout ---\n{}\n--- stderr ---\n{}\n---",
                suite.package,
                String::from_utf8_lossy(&p.diag),
                String::from_utf8_lossy(&p.stderr)
            );
        }
        for id in &p.collected {
            if !collected.contains(id) {
                collected.push(id.clone());
            }
        }
        collection_seen |= p.collection_seen;
        let detail = p.last_diag_line();
        let stderr_line = last_line(&p.stderr);
        done = p.done;
        let Some(stop) = stop else {
            // The session finished normally. With an error status (2
            // interrupted, 3 internal error, 4 usage error) and tests that
            // did not run, or nothing collected, pytest gave up: the file is
            // an error.
            let not_run = collected.iter().any(|id| !done.contains(id))
                || !collection_seen && done.is_empty() && p.collect_errors == 0;
            if not_run
                && let Some(status) = p.session_done
                && status != 0
                && status != 1
                && status != 5
                && p.collect_errors == 0
                && !done.contains(file)
            {
                send(
                    file.to_string(),
                    Outcome::Error,
                    0.0,
                    format!("pytest exited with status {status}: {}", short(&detail)),
                );
            } else if !collection_seen
                && p.session_done == Some(0)
                && done.is_empty()
                && p.collect_errors == 0
            {
                // Not one event, and a clean exit (both drivers report
                // their collection before they finish; `run_guest` takes
                // the exit status as the session's when nothing came): the
                // driver never reported (its channel broken, or it never
                // ran, as under `--version`). Never silence.
                let said = if stderr_line.is_empty() {
                    &detail
                } else {
                    &stderr_line
                };
                send(
                    file.to_string(),
                    Outcome::Error,
                    0.0,
                    format!(
                        "the guest ended without its test driver reporting anything: {}",
                        short(said)
                    ),
                );
            } else if suite.driver == Driver::Pytest
                && done.is_empty()
                && p.collect_errors == 0
                && let (Some(reported), Some(exited)) = (p.session_done, p.exit_status)
                && reported != exited
            {
                // pytest reported its session with one status and then
                // ended with another: it failed after the session (e.g.
                // its fd capture under Node up to 0.27), having run
                // nothing. An error, not a silent "no tests".
                send(
                    file.to_string(),
                    Outcome::Error,
                    0.0,
                    format!(
                        "pytest failed after its session (status {reported}, then exit status {exited}): {}",
                        short(&stderr_line)
                    ),
                );
            }
            break;
        };
        if matches!(stop, Stop::Cancelled) {
            return Ok(());
        }
        let reason = match &stop {
            Stop::Crash(msg) => crash_reason(msg),
            Stop::Timeout => format!("timed out after {} s", cfg.timeout.as_secs_f64()),
            Stop::Exit(status) => format!("the guest exited with status {status}"),
            Stop::Cancelled => unreachable!(),
        };
        let message = if stderr_line.is_empty()
            || matches!(stop, Stop::Timeout)
            || node && matches!(stop, Stop::Crash(_))
        {
            reason.clone()
        } else {
            format!("{reason} ({})", short(&stderr_line))
        };
        if let Some((id, since)) = p.current {
            // The test in flight when the guest died.
            let outcome = if matches!(stop, Stop::Timeout) {
                Outcome::Timeout
            } else {
                Outcome::Crashed
            };
            if done.insert(id.clone()) {
                send(id, outcome, since.elapsed().as_secs_f64(), message.clone());
            }
        } else if !collection_seen {
            // Died while collecting: the file crashed (or timed out, or
            // exited) before any of its tests ran.
            let outcome = match stop {
                Stop::Crash(_) => Outcome::Crashed,
                Stop::Timeout => Outcome::Timeout,
                _ => Outcome::Error,
            };
            if done.insert(file.to_string()) {
                send(
                    file.to_string(),
                    outcome,
                    0.0,
                    format!("collecting: {message}"),
                );
            }
            break;
        }
        let remaining: Vec<&String> = collected.iter().filter(|id| !done.contains(*id)).collect();
        if remaining.is_empty() {
            break;
        }
        if done.len() == done_before {
            // No progress: a fresh guest would die the same way.
            for id in remaining {
                send(
                    id.clone(),
                    Outcome::Error,
                    0.0,
                    format!("not run: {message}"),
                );
            }
            break;
        }
    }
    let _ = tx.send(Msg::FileDone {
        package: suite.package.clone(),
        file: file.to_string(),
        // The file's own time (for planning runs): not the suite's boot.
        seconds: started
            .elapsed()
            .saturating_sub(backend.take_shared_wait())
            .as_secs_f64(),
        part: part.map(Part::number),
        order: collected,
    });
    Ok(())
}

/// Start one guest on the file; `None` when the session finished.
#[allow(clippy::too_many_arguments)]
fn run_guest(
    backend: &Backend,
    suite: &Suite,
    file: &str,
    part: Option<&Part>,
    cfg: &WorkerConfig,
    tx: &Sender<Msg>,
    progress: &Arc<Mutex<Progress>>,
    done: &HashSet<String>,
) -> Result<Option<Stop>> {
    let sink = |channel: Channel| EventSink {
        progress: progress.clone(),
        tx: tx.clone(),
        package: suite.package.clone(),
        file: file.to_string(),
        channel,
    };
    let timeout = cfg.timeout;
    let stop_flag = cfg.stop.clone();
    let watched = progress.clone();
    let interrupt: Interrupt = Arc::new(move || {
        if stop_flag.load(Ordering::SeqCst) {
            return Some(StopReason::Cancelled);
        }
        let p = watched.lock().unwrap_or_else(|e| e.into_inner());
        // A test gets --timeout; start-up, collection and the gaps
        // between tests get at least the default (300 s).
        let (since, limit) = match &p.current {
            Some((_, t)) => (*t, timeout),
            None => (p.last_activity?, timeout.max(OUTSIDE_TEST_TIMEOUT)),
        };
        (since.elapsed() > limit).then_some(StopReason::Timeout)
    });
    let mut spec = cfg.guest.clone();
    spec.files.push(suite.files.clone());
    spec.cwd = suite.cwd.clone();
    if !suite.modules.is_empty() {
        spec.env
            .push(("PYODIDE_TEST_PACKAGE".into(), suite.modules.join(",")));
    }
    if let Some(part) = part {
        spec.env
            .push((PART_VAR.into(), format!("{}/{}", part.index, part.of)));
        if !part.cuts.is_empty() {
            spec.env.push((PART_CUTS_VAR.into(), part.cuts.join("\n")));
        }
    }
    if !done.is_empty() {
        let mut list: Vec<&str> = done.iter().map(String::as_str).collect();
        list.sort();
        let resume = (list.join("\n") + "\n").into_bytes();
        spec.files
            .push(file_set([(RESUME_PATH.to_string(), resume)]));
        spec.env.push((RESUME_VAR.into(), RESUME_PATH.into()));
    }
    spec.argv = suite.job_argv(file, cfg.keyword.as_deref(), &cfg.pytest_args);
    spec.limits.interrupt = Some(interrupt);
    spec.stdio = Stdio::to_sinks(
        Arc::new(sink(Channel::Stdout)),
        Arc::new(sink(Channel::Stderr)),
    );
    spec.events = Some(Arc::new(sink(Channel::Events)));
    spec.env
        .push(("PYODIDE_TEST_EVENTS".into(), EVENTS_DEVICE.into()));
    let status = match backend.run(&spec)? {
        GuestEnd::Stopped(StopReason::Cancelled) => return Ok(Some(Stop::Cancelled)),
        GuestEnd::Stopped(StopReason::Timeout) => return Ok(Some(Stop::Timeout)),
        GuestEnd::Crashed(crash) => return Ok(Some(Stop::Crash(crash))),
        GuestEnd::Exited(status) => status,
    };
    let mut p = progress.lock().unwrap_or_else(|e| e.into_inner());
    p.exit_status = Some(status);
    if p.session_done.is_some() && p.current.is_none() {
        return Ok(None);
    }
    if !p.collection_seen && p.session_done.is_none() && p.current.is_none() {
        // pytest stopped before collecting (bad options, import errors of
        // the plugin or conftest): a normal end, with its message.
        p.session_done = Some(status);
        return Ok(if status == 0 {
            None
        } else {
            Some(Stop::Exit(status))
        });
    }
    Ok(Some(Stop::Exit(status)))
}
