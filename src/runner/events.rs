//! The events our guest-side reporters (the pytest plugin `plugin.py`,
//! and every other in-guest driver) send for each test as it happens, and
//! [`EventSink`], the stream that parses them, keeps a job's [`Progress`]
//! and forwards each result to the reporting thread at once.
//!
//! Events are JSON objects, one per line, on the guest's event device
//! (a channel apart from stdout and stderr, so that nothing a test prints
//! can forge or hide a record): `collected` (the ids that will run),
//! `start`, `result` (outcome, duration, message), `collect_error`,
//! `done`. The guest's stdout and stderr are kept (their tails) for
//! diagnostics.

use std::collections::HashSet;
use std::io;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Deserialize;

use super::outcome::{Outcome, TestRecord};
use crate::syscalls::OutputSink;

/// How much of the guest's output is kept for diagnostics.
const DIAG_BYTES: usize = 16 << 10;

/// The longest event line accepted (a `collected` list of many long ids);
/// a longer one is dropped, with a note in the diagnostics.
const MAX_EVENT_LINE: usize = 64 << 20;

/// Which of a guest's streams an [`EventSink`] receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The event device: parsed.
    Events,
    /// stdout: its tail kept.
    Stdout,
    /// stderr: its tail kept.
    Stderr,
}

/// What a worker sends to the reporting thread.
#[derive(Debug)]
pub enum Msg {
    /// A test finished.
    Record(TestRecord),
    /// A file (or a part of one) finished; `seconds` is its wall time (for
    /// scheduling).
    FileDone {
        /// The suite's package.
        package: String,
        /// The file, relative to the suite's root.
        file: String,
        /// Wall time of the whole job.
        seconds: f64,
        /// The part of the file the job ran (see `split::split_long`).
        part: Option<(u32, u32)>,
        /// The job's tests as collected, in their order.
        order: Vec<String>,
    },
    /// pytest wrote a rewritten module (kept for the next run).
    Rewritten {
        /// The suite's package.
        package: String,
        /// The module.
        module: super::rewritten::Rewritten,
    },
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
    /// The status the guest exited with, when it exited.
    pub exit_status: Option<i32>,
    /// Errors reported for collectors (files, conftests).
    pub collect_errors: usize,
    /// Tail of the guest's other stdout.
    pub diag: Vec<u8>,
    /// Tail of the guest's stderr.
    pub stderr: Vec<u8>,
    line: Vec<u8>,
    line_dropped: bool,
}

impl Progress {
    /// The progress of a guest starting now, with `done` already recorded.
    pub fn resuming(done: HashSet<String>) -> Self {
        Progress {
            done,
            last_activity: Some(Instant::now()),
            ..Progress::default()
        }
    }

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

pub fn keep_tail(buf: &mut Vec<u8>, data: &[u8]) {
    buf.extend_from_slice(data);
    if buf.len() > DIAG_BYTES {
        let cut = buf.len() - DIAG_BYTES;
        buf.drain(..cut);
    }
}

pub fn last_line(buf: &[u8]) -> String {
    String::from_utf8_lossy(buf)
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
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
    Pyc {
        source: String,
        pyc: String,
        data: String,
    },
}

/// One of a guest's streams ([`Channel`]): the event device's lines are
/// parsed and results forwarded at once; stdout and stderr keep a tail.
pub struct EventSink {
    /// The job's progress, shared with the worker.
    pub progress: Arc<Mutex<Progress>>,
    /// Where results go.
    pub tx: Sender<Msg>,
    /// The suite's package.
    pub package: String,
    /// The job's file (the id of a file-level error).
    pub file: String,
    /// Which stream this is.
    pub channel: Channel,
}

impl EventSink {
    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn handle_line(&self, p: &mut Progress, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let Ok(event) = serde_json::from_str::<Event>(text.trim_end()) else {
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
            Event::Pyc { source, pyc, data } => {
                if let Some(data) = super::rewritten::decode(&data) {
                    let _ = self.tx.send(Msg::Rewritten {
                        package: self.package.clone(),
                        module: super::rewritten::Rewritten { source, pyc, data },
                    });
                }
            }
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
        match self.channel {
            Channel::Stdout => {
                p.note_diag(data);
                return Ok(());
            }
            Channel::Stderr => {
                keep_tail(&mut p.stderr, data);
                return Ok(());
            }
            Channel::Events => {}
        }
        let mut rest = data;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            if p.line_dropped {
                p.line_dropped = false;
            } else {
                let mut line = std::mem::take(&mut p.line);
                line.extend_from_slice(&rest[..nl]);
                self.handle_line(&mut p, &line);
            }
            rest = &rest[nl + 1..];
        }
        if !p.line_dropped {
            p.line.extend_from_slice(rest);
            if p.line.len() > MAX_EVENT_LINE {
                // The rest of this line is dropped as it comes.
                p.line = Vec::new();
                p.line_dropped = true;
                p.note_diag(b"(an event line over 64 MiB was dropped)\n");
            }
        }
        Ok(())
    }
}

/// The first line of `text`, at most 300 characters.
pub fn short(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink on `channel` for `t/test_a.py`, its records' receiver and
    /// its progress.
    fn sink_on(
        channel: Channel,
    ) -> (
        EventSink,
        std::sync::mpsc::Receiver<Msg>,
        Arc<Mutex<Progress>>,
    ) {
        let (tx, rx) = std::sync::mpsc::channel();
        let progress = Arc::new(Mutex::new(Progress::default()));
        let sink = EventSink {
            progress: progress.clone(),
            tx,
            package: "p".into(),
            file: "t/test_a.py".into(),
            channel,
        };
        (sink, rx, progress)
    }

    #[test]
    fn plugin_writes_to_the_event_device() {
        let src = include_str!("plugin.py");
        assert!(src.contains("PYODIDE_TEST_EVENTS"));
        assert_eq!(crate::host::spec::EVENTS_DEVICE, "/dev/pyodide-test-events");
    }

    #[test]
    fn stdout_cannot_forge_a_record() {
        let (tx, rx) = std::sync::mpsc::channel();
        let progress = Arc::new(Mutex::new(Progress::default()));
        let sink = |channel| EventSink {
            progress: progress.clone(),
            tx: tx.clone(),
            package: "p".into(),
            file: "t/test_a.py".into(),
            channel,
        };
        let forged = r#"{"ev":"result","id":"t/test_a.py::a","outcome":"passed","duration":0}"#;
        sink(Channel::Stdout)
            .write(format!("{forged}\n").as_bytes())
            .unwrap();
        sink(Channel::Stderr)
            .write(format!("{forged}\n").as_bytes())
            .unwrap();
        assert!(rx.try_recv().is_err());
        assert!(progress.lock().unwrap().done.is_empty());
    }

    #[test]
    fn overlong_event_lines_are_dropped() {
        let (sink, rx, progress) = sink_on(Channel::Events);
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..70 {
            sink.write(&chunk).unwrap();
        }
        assert!(progress.lock().unwrap().line.len() <= MAX_EVENT_LINE);
        sink.write(b"tail\n").unwrap();
        let ok = r#"{"ev":"result","id":"t/test_a.py::a","outcome":"passed","duration":0}"#;
        sink.write(format!("{ok}\n").as_bytes()).unwrap();
        let Msg::Record(r) = rx.try_recv().unwrap() else {
            panic!("expected a record")
        };
        assert_eq!(r.outcome, Outcome::Passed);
    }

    #[test]
    fn sink_parses_events_across_writes() {
        let (sink, rx, progress) = sink_on(Channel::Events);
        let line = |s: &str| format!("{s}\n");
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
