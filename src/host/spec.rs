//! One value that describes a guest: what [`super::boot::PyodideModule::run`]
//! starts. Everything that shapes a guest's world is here: the Python
//! version and stdlib, the files and mounts, argv and environment, limits,
//! and where its stdio goes. Callers describe; the host lays out and runs.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crate::host_bytes::HostBytes;
use crate::syscalls::{HostFd, InputSource, Null, OutputSink};

/// A host directory made visible to the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The host directory.
    pub host: PathBuf,
    /// Absolute guest path where it appears.
    pub guest: String,
    /// Refuse every write.
    pub read_only: bool,
}

impl Mount {
    /// Parse `HOST:GUEST[:ro|:rw]`.
    pub fn parse(spec: &str) -> Result<Self> {
        let mut parts: Vec<&str> = spec.split(':').collect();
        let read_only = match parts.last() {
            Some(&"ro") if parts.len() == 3 => {
                parts.pop();
                true
            }
            Some(&"rw") if parts.len() == 3 => {
                parts.pop();
                false
            }
            _ => false,
        };
        let [host, guest] = parts[..] else {
            bail!("invalid --mount {spec:?}: expected HOST:GUEST[:ro]");
        };
        if !guest.starts_with('/') {
            bail!("invalid --mount {spec:?}: the guest path must be absolute");
        }
        let host = std::fs::canonicalize(host)
            .with_context(|| format!("--mount {spec:?}: host directory {host}"))?;
        if !host.is_dir() {
            bail!("--mount {spec:?}: {} is not a directory", host.display());
        }
        Ok(Self {
            host,
            guest: guest.trim_end_matches('/').to_string().max("/".to_string()),
            read_only,
        })
    }
}

/// Files placed in the guest's MEMFS before it starts: (absolute guest
/// path, contents). Shared between guests without copying.
pub type FileSet = Arc<Vec<(String, HostBytes)>>;

/// Make a [`FileSet`] from owned contents.
pub fn file_set(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> FileSet {
    Arc::new(
        files
            .into_iter()
            .map(|(path, data)| (path, HostBytes::from(data)))
            .collect(),
    )
}

/// Why a guest was stopped from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// A time limit passed.
    Timeout,
    /// The user asked to stop (Ctrl-C).
    Cancelled,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopReason::Timeout => "timeout",
            StopReason::Cancelled => "cancelled",
        })
    }
}

/// A predicate checked about ten times a second while the guest runs;
/// returning a reason stops the guest.
pub type Interrupt = Arc<dyn Fn() -> Option<StopReason> + Send + Sync>;

/// What a guest may use.
#[derive(Clone)]
pub struct Limits {
    /// Largest linear memory in bytes (clamped to what Emscripten allows).
    pub max_memory: u64,
    /// Bytes of file data the guest may make the host hold in MEMFS
    /// (`None`: unlimited); past it, writes fail with `ENOSPC`. Files the
    /// host places (stdlib, wheels, tests) do not count.
    pub max_fs: Option<u64>,
    /// Checked while the guest runs; see [`Interrupt`].
    pub interrupt: Option<Interrupt>,
}

impl Limits {
    /// A memory limit and the kernel's default file-data budget.
    pub fn memory(max_memory: u64) -> Self {
        Self {
            max_memory,
            max_fs: Some(crate::syscalls::DEFAULT_FS_BUDGET),
            interrupt: None,
        }
    }
}

/// Where the guest's standard streams go.
#[derive(Clone)]
pub enum Stdio {
    /// The host process's own stdin, stdout and stderr (terminals stay
    /// terminals).
    Host,
    /// Streams of the caller's.
    Streams {
        /// fd 0, `/dev/stdin`, reads of `/dev/tty`.
        stdin: Arc<dyn InputSource>,
        /// fd 1, `/dev/stdout`, writes to `/dev/tty`.
        stdout: Arc<dyn OutputSink>,
        /// fd 2, `/dev/stderr`, `/dev/tty1`.
        stderr: Arc<dyn OutputSink>,
    },
}

/// The three streams of a [`Stdio`].
pub type Streams = (
    Arc<dyn InputSource>,
    Arc<dyn OutputSink>,
    Arc<dyn OutputSink>,
);

impl Stdio {
    /// No input; output to the given sinks.
    pub fn to_sinks(stdout: Arc<dyn OutputSink>, stderr: Arc<dyn OutputSink>) -> Self {
        Stdio::Streams {
            stdin: Arc::new(Null),
            stdout,
            stderr,
        }
    }

    /// The streams (the host's fds 0, 1 and 2 for [`Stdio::Host`]).
    pub fn streams(&self) -> Streams {
        match self {
            Stdio::Host => (
                Arc::new(HostFd(0)),
                Arc::new(HostFd(1)),
                Arc::new(HostFd(2)),
            ),
            Stdio::Streams {
                stdin,
                stdout,
                stderr,
            } => (stdin.clone(), stdout.clone(), stderr.clone()),
        }
    }
}

/// Everything that decides one guest: see the module documentation.
#[derive(Clone)]
pub struct GuestSpec {
    /// Python's (major, minor) version: decides `/lib/pythonX.Y/...`.
    pub python: (u32, u32),
    /// `python_stdlib.zip`, placed at `/lib/pythonXY.zip`.
    pub stdlib_zip: HostBytes,
    /// Files to place, in order (a later set wins on the same path).
    pub files: Vec<FileSet>,
    /// Host directories to mount.
    pub mounts: Vec<Mount>,
    /// CPython's arguments (without the program name).
    pub argv: Vec<String>,
    /// The directory the guest starts in (default: its home).
    pub cwd: Option<String>,
    /// Variables set on top of the guest's default environment (a name
    /// already there is replaced).
    pub env: Vec<(String, String)>,
    /// Memory and time limits.
    pub limits: Limits,
    /// Where stdio goes.
    pub stdio: Stdio,
    /// Where the guest's event device (`/dev/pyodide-test-events`, see
    /// [`EVENTS_DEVICE`]) writes: a channel apart from stdio, which
    /// ordinary output cannot reach. No device when `None`.
    pub events: Option<Arc<dyn OutputSink>>,
    /// Modules CPython finds frozen while it initialises, as an embedding
    /// application's `PyImport_FrozenModules` gives them: (name, its code
    /// marshalled by the guest's CPython). The table is gone once CPython
    /// is initialised (see `boot.rs`).
    pub frozen: Vec<(String, HostBytes)>,
    /// A warm-up after CPython's initialisation, and the image of the
    /// guest as it leaves it (see `image.rs`). `None`: no warm-up.
    pub image: Option<ImageSpec>,
}

/// A guest's warm-up and its image.
#[derive(Clone, Debug)]
pub struct ImageSpec {
    /// Python source that `PyRun_SimpleString` runs once CPython is
    /// initialised, before the command line (`argv`) is: what every
    /// guest of this description would do first.
    pub warm: String,
    /// The image's file: restored from it, if it holds one that fits,
    /// instead of initialising CPython and running `warm`; otherwise
    /// saved there after `warm`. `None`: no image, `warm` runs.
    pub file: Option<std::path::PathBuf>,
    /// Arguments appended to `sys.argv` once the guest is warmed up or
    /// restored, before its command line runs: not in the image, so that
    /// guests that differ only in them share one.
    pub argv_after: Vec<String>,
    /// Files written into the guest's file system then too, before
    /// `argv_after` is appended: what the guest reads only once its command
    /// line runs, and what would otherwise name another image each time it
    /// changes.
    pub files_after: FileSet,
}

/// The guest path of the event device.
pub const EVENTS_DEVICE: &str = "/dev/pyodide-test-events";

impl GuestSpec {
    /// A guest of Python `python` with `stdlib_zip`, the host's stdio, no
    /// files, mounts or arguments, and `max_memory` bytes of memory.
    pub fn new(python: (u32, u32), stdlib_zip: HostBytes, max_memory: u64) -> Self {
        Self {
            python,
            stdlib_zip,
            files: Vec::new(),
            mounts: Vec::new(),
            argv: Vec::new(),
            cwd: None,
            env: Vec::new(),
            limits: Limits::memory(max_memory),
            stdio: Stdio::Host,
            events: None,
            frozen: Vec::new(),
            image: None,
        }
    }

    /// The guest's site-packages directory.
    pub fn site_packages(&self) -> String {
        site_packages(self.python)
    }
}

/// The site-packages directory of Python `(major, minor)` in the guest.
pub fn site_packages((major, minor): (u32, u32)) -> String {
    format!("/lib/python{major}.{minor}/site-packages")
}

/// How a guest ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestEnd {
    /// It exited with this status (Python's own).
    Exited(i32),
    /// It trapped or aborted: the description.
    Crashed(String),
    /// It was stopped from outside.
    Stopped(StopReason),
}

impl GuestEnd {
    /// The exit status a process would report (1 for a crash or a stop).
    pub fn status(&self) -> i32 {
        match self {
            GuestEnd::Exited(s) => *s,
            _ => 1,
        }
    }
}
