//! One job: one test file of one package, run by pytest in a fresh guest.
//!
//! The guest runs `python -m pytest -p _pyodide_test_plugin ... FILE`. The
//! plugin (`plugin.py`) writes an event line for every test as it happens to
//! a copy of fd 1; [`EventSink`], the guest's stdout, parses those lines,
//! keeps the file's progress in [`Progress`] and forwards results to the
//! reporting thread at once. When the guest dies in a test (trap, abort,
//! stack overflow, out of memory) or a test exceeds the timeout, that test is
//! recorded as crashed or timeout and a fresh guest runs the file's
//! remaining tests (the plugin deselects those already done).

use std::collections::HashSet;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Deserialize;

use super::outcome::{Outcome, TestRecord};
use super::suite::{PLUGIN_MODULE, Suite};
use crate::host::boot::{PyodideModule, RunLimits, RunOutcome};
use crate::host::layout::{self, GuestLayout};
use crate::syscalls::{Kernel, Null, OutputSink};

/// Line prefix of the plugin's events (must equal `plugin.py`'s `PREFIX`).
pub const EVENT_PREFIX: &str = "\x1e@pyodide-test@ ";

/// Where the resume list goes in the guest.
const RESUME_PATH: &str = "/tmp/.pyodide-test-resume";

/// How long a guest may run outside any test (start-up, collection, module
/// fixtures) without an event, at least.
const OUTSIDE_TEST_TIMEOUT: Duration = Duration::from_secs(300);

/// How much of the guest's other output is kept for diagnostics.
const DIAG_BYTES: usize = 16 << 10;

/// What a worker sends to the reporting thread.
#[derive(Debug)]
pub enum Msg {
    /// A test finished.
    Record(TestRecord),
    /// A file finished; `seconds` is its wall time (for scheduling).
    FileDone {
        /// The suite's package.
        package: String,
        /// The file, relative to the suite's root.
        file: String,
        /// Wall time of the whole job.
        seconds: f64,
    },
}

/// Settings shared by every job.
#[derive(Clone)]
pub struct WorkerConfig {
    /// Python's version.
    pub python: (u32, u32),
    /// The stdlib zip.
    pub stdlib_zip: Arc<Vec<u8>>,
    /// `--timeout` per test.
    pub timeout: Duration,
    /// `--max-memory` per guest, bytes.
    pub heap_max: u64,
    /// `-k EXPR`.
    pub keyword: Option<String>,
    /// Extra pytest arguments (`-- ARGS`).
    pub pytest_args: Vec<String>,
    /// Set by Ctrl-C: stop every guest now, record nothing more.
    pub stop: Arc<AtomicBool>,
    /// Run the guests under Node instead (`--runtime node`).
    pub node: Option<NodeRunner>,
}

/// Guests under Node with the dist's own `pyodide.mjs` (the reference):
/// each guest is a `node` process running the reference driver, with the
/// suite's files staged on disk and copied into MEMFS (`--put`).
#[derive(Clone, Debug)]
pub struct NodeRunner {
    /// The driver script (`node::driver_path`).
    pub driver: PathBuf,
    /// The dist directory.
    pub dist: PathBuf,
    /// Where each suite's files are staged: `<stage>/<package>/<guest path>`.
    pub stage: PathBuf,
}

impl NodeRunner {
    /// Write the suite's files under the stage (once per run).
    pub fn stage_suite(&self, suite: &Suite) -> Result<()> {
        let base = self.stage.join(&suite.package);
        for (guest, data) in suite.files.iter() {
            let path = base.join(guest.trim_start_matches('/'));
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, data)?;
        }
        Ok(())
    }

    /// Run one guest: the outcome as [`PyodideModule::run`] gives it (a
    /// test in flight when node exits non-zero is a crash).
    fn run(
        &self,
        suite: &Suite,
        resume: Option<Vec<u8>>,
        args: &[String],
        out: EventSink,
        err: EventSink,
        interrupt: &crate::host::boot::Interrupt,
    ) -> Result<RunOutcome> {
        use std::io::Read;
        use std::os::unix::process::CommandExt;
        use std::process::{Command, Stdio};
        static JOB: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let base = self.stage.join(&suite.package);
        let mut cmd = Command::new("node");
        cmd.arg(&self.driver).arg("--dist").arg(&self.dist);
        for (guest, _) in suite.files.iter() {
            let host = base.join(guest.trim_start_matches('/'));
            cmd.arg("--put").arg(format!("{}={guest}", host.display()));
        }
        let mut resume_file = None;
        if let Some(resume) = resume {
            let n = JOB.fetch_add(1, Ordering::SeqCst);
            let path = self.stage.join(format!(".resume-{n}"));
            std::fs::write(&path, resume)?;
            cmd.arg("--put")
                .arg(format!("{}={RESUME_PATH}", path.display()));
            cmd.arg("--env")
                .arg(format!("PYODIDE_TEST_RESUME={RESUME_PATH}"));
            resume_file = Some(path);
        }
        cmd.arg("--").args(args);
        // Its own process group, so that a timeout or Ctrl-C stops node and
        // the node it re-runs itself under (JSPI).
        cmd.process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| anyhow::anyhow!("running node: {e}"))?;
        let pump = |mut from: Box<dyn Read + Send>, to: EventSink| {
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 1 << 16];
                while let Ok(n) = from.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let _ = to.write(&buf[..n]);
                }
            })
        };
        let t_out = pump(Box::new(child.stdout.take().expect("piped")), out);
        let t_err = pump(Box::new(child.stderr.take().expect("piped")), err);
        let mut interrupted = None;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if let Some(reason) = interrupt() {
                // SAFETY: signalling the process group of our own child.
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                interrupted = Some(reason);
                break child.wait()?;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The JSPI re-run may outlive its parent: end the group.
        // SAFETY: as above.
        unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
        let _ = t_out.join();
        let _ = t_err.join();
        if let Some(path) = resume_file {
            let _ = std::fs::remove_file(path);
        }
        let code = status.code().unwrap_or(1);
        Ok(RunOutcome {
            status: code,
            crash: None,
            interrupted,
        })
    }
}

/// A file's progress across the guests that run it.
#[derive(Debug, Default)]
pub struct Progress {
    /// Node ids collected (union over the guests, in order).
    pub collected: Vec<String>,
    collected_set: HashSet<String>,
    /// Whether any guest reported its collection.
    pub collection_seen: bool,
    /// Node ids that have a record.
    pub done: HashSet<String>,
    /// The test now running and when it started.
    pub current: Option<(String, Instant)>,
    /// The last event (or the guest's start).
    pub last_activity: Option<Instant>,
    /// The session finished (pytest's exit status).
    pub session_done: Option<i32>,
    /// Errors reported for collectors (files, conftests).
    pub collect_errors: usize,
    /// Tail of the guest's other stdout.
    pub diag: Vec<u8>,
    /// Tail of the guest's stderr.
    pub stderr: Vec<u8>,
    line: Vec<u8>,
}

impl Progress {
    fn note_diag(&mut self, data: &[u8]) {
        keep_tail(&mut self.diag, data);
    }

    /// What pytest said when it gave up: its last `INTERNALERROR>` line,
    /// else the last non-empty line of stderr, else of the other stdout.
    pub fn last_diag_line(&self) -> String {
        let stdout = String::from_utf8_lossy(&self.diag);
        if let Some(line) = stdout
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("INTERNALERROR> "))
        {
            return line.trim().to_string();
        }
        match last_line(&self.stderr) {
            l if l.is_empty() => last_line(&self.diag),
            l => l,
        }
    }
}

fn keep_tail(buf: &mut Vec<u8>, data: &[u8]) {
    buf.extend_from_slice(data);
    if buf.len() > DIAG_BYTES {
        let cut = buf.len() - DIAG_BYTES;
        buf.drain(..cut);
    }
}

fn last_line(buf: &[u8]) -> String {
    String::from_utf8_lossy(buf)
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// Why Pyodide under Node died, from its stderr: the `Aborted(...)` line,
/// else the line after "The cause of the fatal error was:".
fn node_fatal_reason(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    if let Some(line) = lines.iter().find(|l| l.starts_with("Aborted(")) {
        return Some(short(line));
    }
    let at = lines
        .iter()
        .position(|l| l.starts_with("The cause of the fatal error was"))?;
    lines.get(at + 1).map(|l| short(l))
}

/// The telling line of a crash description: the trap after Wasmtime's
/// backtrace ("wasm trap: call stack exhausted"), else its first line.
pub fn crash_reason(crash: &str) -> String {
    if let Some((_, cause)) = crash.rsplit_once("Caused by:")
        && let Some(line) = cause.lines().map(str::trim).rfind(|l| !l.is_empty())
    {
        return short(line);
    }
    short(crash)
}

#[derive(Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
enum Event {
    Collected {
        ids: Vec<String>,
    },
    Start {
        id: String,
    },
    Result {
        id: String,
        outcome: String,
        duration: f64,
        #[serde(default)]
        message: String,
    },
    CollectError {
        id: String,
        #[serde(default)]
        message: String,
    },
    Done {
        #[serde(default)]
        status: i32,
    },
}

/// The guest's stdout (and, without events, stderr): parses event lines and
/// forwards results.
pub struct EventSink {
    progress: Arc<Mutex<Progress>>,
    tx: Sender<Msg>,
    package: String,
    file: String,
    events: bool,
}

impl EventSink {
    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn handle_line(&self, p: &mut Progress, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let Some(pos) = text.find(EVENT_PREFIX) else {
            p.note_diag(line);
            p.note_diag(b"\n");
            return;
        };
        if pos > 0 {
            p.note_diag(&line[..pos]);
            p.note_diag(b"\n");
        }
        let json = text[pos + EVENT_PREFIX.len()..].trim_end();
        let Ok(event) = serde_json::from_str::<Event>(json) else {
            p.note_diag(line);
            p.note_diag(b"\n");
            return;
        };
        let now = Instant::now();
        p.last_activity = Some(now);
        match event {
            Event::Collected { ids } => {
                p.collection_seen = true;
                for id in ids {
                    if p.collected_set.insert(id.clone()) {
                        p.collected.push(id);
                    }
                }
            }
            Event::Start { id } => p.current = Some((id, now)),
            Event::Result {
                id,
                outcome,
                duration,
                message,
            } => {
                if p.current.as_ref().is_some_and(|(c, _)| *c == id) {
                    p.current = None;
                }
                if p.done.insert(id.clone()) {
                    let outcome = Outcome::parse(&outcome).unwrap_or(Outcome::Error);
                    self.send(id, outcome, duration, message);
                }
            }
            Event::CollectError { id, message } => {
                p.collect_errors += 1;
                let id = if id.is_empty() { self.file.clone() } else { id };
                if p.done.insert(id.clone()) {
                    self.send(id, Outcome::Error, 0.0, message);
                }
            }
            Event::Done { status } => p.session_done = Some(status),
        }
    }

    fn send(&self, id: String, outcome: Outcome, duration: f64, message: String) {
        let _ = self.tx.send(Msg::Record(TestRecord {
            package: self.package.clone(),
            id,
            outcome,
            duration,
            message,
        }));
    }
}

impl OutputSink for EventSink {
    fn write(&self, data: &[u8]) -> io::Result<()> {
        let mut p = self.lock();
        if !self.events {
            keep_tail(&mut p.stderr, data);
            return Ok(());
        }
        let mut rest = data;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let mut line = std::mem::take(&mut p.line);
            line.extend_from_slice(&rest[..nl]);
            self.handle_line(&mut p, &line);
            rest = &rest[nl + 1..];
        }
        p.line.extend_from_slice(rest);
        if p.line.len() > DIAG_BYTES && !String::from_utf8_lossy(&p.line).contains(EVENT_PREFIX) {
            let line = std::mem::take(&mut p.line);
            p.note_diag(&line);
        }
        Ok(())
    }
}

/// The first line of `text`, at most 300 characters.
fn short(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.chars().count() > 300 {
        let cut: String = line.chars().take(297).collect();
        format!("{cut}...")
    } else {
        line.to_string()
    }
}

/// Why the guest of a job stopped early.
enum Stop {
    /// Trap, abort, stack overflow: the description.
    Crash(String),
    /// The timeout (`--timeout`) passed.
    Timeout,
    /// Ctrl-C.
    Interrupted,
    /// The guest exited (status) without finishing the session.
    Exit(i32),
}

/// Run one test file of `suite` to the end, restarting the guest after
/// crashes; results go to `tx` as they happen.
pub fn run_file(
    module: &PyodideModule,
    suite: &Suite,
    file: &str,
    cfg: &WorkerConfig,
    tx: &Sender<Msg>,
) -> Result<()> {
    let started = Instant::now();
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
        let progress = Arc::new(Mutex::new(Progress {
            done: done.clone(),
            last_activity: Some(Instant::now()),
            ..Progress::default()
        }));
        let stop = run_guest(module, suite, file, cfg, tx, &progress, &done)?;
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
            }
            break;
        };
        if matches!(stop, Stop::Interrupted) {
            return Ok(());
        }
        let reason = match &stop {
            Stop::Crash(msg) => crash_reason(msg),
            Stop::Timeout => format!("timed out after {} s", cfg.timeout.as_secs_f64()),
            Stop::Exit(status) => format!("the guest exited with status {status}"),
            Stop::Interrupted => unreachable!(),
        };
        let message = if stderr_line.is_empty()
            || matches!(stop, Stop::Timeout)
            || cfg.node.is_some() && matches!(stop, Stop::Crash(_))
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
            // Died while collecting: the file is an error.
            if done.insert(file.to_string()) {
                send(
                    file.to_string(),
                    Outcome::Error,
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
        seconds: started.elapsed().as_secs_f64(),
    });
    Ok(())
}

/// The arguments of `python` for one guest.
pub fn pytest_args(
    suite: &Suite,
    file: &str,
    keyword: Option<&str>,
    extra: &[String],
) -> Vec<String> {
    let mut args: Vec<String> = [
        "-m",
        "pytest",
        "-p",
        PLUGIN_MODULE,
        "-p",
        "no:cacheprovider",
        "--color=no",
        "--tb=short",
        "-q",
        "-rN",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--rootdir={}", suite.root));
    if let Some(k) = keyword {
        args.extend(["-k".into(), k.to_string()]);
    }
    args.extend(extra.iter().cloned());
    args.push(format!("{}/{file}", suite.root));
    args
}

/// Start one guest on the file; `None` when the session finished.
fn run_guest(
    module: &PyodideModule,
    suite: &Suite,
    file: &str,
    cfg: &WorkerConfig,
    tx: &Sender<Msg>,
    progress: &Arc<Mutex<Progress>>,
    done: &HashSet<String>,
) -> Result<Option<Stop>> {
    let resume = (!done.is_empty()).then(|| {
        let mut list: Vec<&str> = done.iter().map(String::as_str).collect();
        list.sort();
        (list.join("\n") + "\n").into_bytes()
    });
    let sink = |events: bool| EventSink {
        progress: progress.clone(),
        tx: tx.clone(),
        package: suite.package.clone(),
        file: file.to_string(),
        events,
    };
    let timeout = cfg.timeout;
    let stop_flag = cfg.stop.clone();
    let watched = progress.clone();
    let interrupt: crate::host::boot::Interrupt = Arc::new(move || {
        if stop_flag.load(Ordering::SeqCst) {
            return Some("interrupted".to_string());
        }
        let p = watched.lock().unwrap_or_else(|e| e.into_inner());
        // A test gets --timeout; start-up, collection and the gaps
        // between tests get at least the default (300 s).
        let (since, limit) = match &p.current {
            Some((_, t)) => (*t, timeout),
            None => (p.last_activity?, timeout.max(OUTSIDE_TEST_TIMEOUT)),
        };
        (since.elapsed() > limit).then(|| "timeout".to_string())
    });
    let args = pytest_args(suite, file, cfg.keyword.as_deref(), &cfg.pytest_args);
    let outcome = match &cfg.node {
        Some(node) => {
            let (out, err) = (sink(true), sink(false));
            node.run(suite, resume, &args, out, err, &interrupt)?
        }
        None => {
            let mut files: Vec<(String, Vec<u8>)> = suite.files.as_ref().clone();
            if let Some(resume) = resume {
                files.push((RESUME_PATH.to_string(), resume));
            }
            let layout = GuestLayout {
                python_major: cfg.python.0,
                python_minor: cfg.python.1,
                stdlib_zip: cfg.stdlib_zip.as_ref().clone(),
                mounts: Vec::new(),
                files,
            };
            let mut config = layout::kernel_config(&layout);
            config.stdout = Arc::new(sink(true));
            config.stderr = Arc::new(sink(false));
            config.stdin = Arc::new(Null);
            if !done.is_empty() {
                config
                    .env
                    .push(("PYODIDE_TEST_RESUME".into(), RESUME_PATH.into()));
            }
            let mut kernel = Kernel::new(config);
            layout::prepare(&mut kernel, &layout)?;
            let limits = RunLimits {
                heap_max: cfg.heap_max,
                interrupt: Some(interrupt),
            };
            module.run(kernel, &args, &limits)?
        }
    };
    let mut outcome = outcome;
    if cfg.node.is_some() && outcome.interrupted.is_none() && outcome.status != 0 {
        // Node died: Pyodide's fatal-error report on stderr says why.
        let p = progress.lock().unwrap_or_else(|e| e.into_inner());
        if p.current.is_some() || p.session_done.is_none() {
            outcome.crash = node_fatal_reason(&p.stderr);
        }
    }
    if let Some(reason) = outcome.interrupted {
        return Ok(Some(if reason == "interrupted" {
            Stop::Interrupted
        } else {
            Stop::Timeout
        }));
    }
    if let Some(crash) = outcome.crash {
        return Ok(Some(Stop::Crash(crash)));
    }
    let p = progress.lock().unwrap_or_else(|e| e.into_inner());
    if p.session_done.is_some() && p.current.is_none() {
        return Ok(None);
    }
    if !p.collection_seen && p.session_done.is_none() && p.current.is_none() {
        // pytest stopped before collecting (bad options, import errors of
        // the plugin or conftest): a normal end, with its message.
        drop(p);
        let mut p = progress.lock().unwrap_or_else(|e| e.into_inner());
        p.session_done = Some(outcome.status);
        return Ok(if outcome.status == 0 {
            None
        } else {
            Some(Stop::Exit(outcome.status))
        });
    }
    Ok(Some(Stop::Exit(outcome.status)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_matches_the_plugin() {
        let src = super::super::suite::PLUGIN_SOURCE;
        assert!(src.contains(r#"PREFIX = "\x1e@pyodide-test@ ""#));
        assert_eq!(EVENT_PREFIX, "\x1e@pyodide-test@ ");
    }

    #[test]
    fn sink_parses_events_across_writes() {
        let (tx, rx) = std::sync::mpsc::channel();
        let progress = Arc::new(Mutex::new(Progress::default()));
        let sink = EventSink {
            progress: progress.clone(),
            tx,
            package: "p".into(),
            file: "t/test_a.py".into(),
            events: true,
        };
        let line = |s: &str| format!("{EVENT_PREFIX}{s}\n");
        sink.write(b"noise\n").unwrap();
        sink.write(
            line(r#"{"ev":"collected","ids":["t/test_a.py::a","t/test_a.py::b"]}"#).as_bytes(),
        )
        .unwrap();
        let start = line(r#"{"ev":"start","id":"t/test_a.py::a"}"#);
        let (x, y) = start.as_bytes().split_at(10);
        sink.write(x).unwrap();
        sink.write(y).unwrap();
        assert_eq!(
            progress
                .lock()
                .unwrap()
                .current
                .as_ref()
                .map(|c| c.0.clone()),
            Some("t/test_a.py::a".to_string())
        );
        sink.write(
            line(r#"{"ev":"result","id":"t/test_a.py::a","outcome":"failed","duration":0.5,"message":"assert 1 == 2"}"#)
                .as_bytes(),
        )
        .unwrap();
        let Msg::Record(r) = rx.try_recv().unwrap() else {
            panic!("expected a record")
        };
        assert_eq!(
            (r.id.as_str(), r.outcome),
            ("t/test_a.py::a", Outcome::Failed)
        );
        assert_eq!(r.message, "assert 1 == 2");
        let p = progress.lock().unwrap();
        assert!(p.current.is_none());
        assert_eq!(p.collected.len(), 2);
        assert_eq!(p.last_diag_line(), "noise");
    }
}
