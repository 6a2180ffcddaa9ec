//! The guest's kernel: MEMFS, file descriptors, syscalls, WASI p1, time.
//!
//! [`Kernel`] is the whole guest OS state. It knows nothing of Wasmtime:
//! each import is a method taking the guest's linear memory as `&mut [u8]`
//! (wasm32, little-endian, pointers are `u32` offsets) and the import's
//! arguments with their wasm types, and returning what the import returns:
//! `__syscall_*` return a result or `-errno`, WASI functions return `0` or
//! `errno` (Emscripten's numbering, see [`Errno`]). Method names follow the
//! import names: `sys_<name>` for `env.__syscall_<name>`, the plain name
//! for WASI (`fd_write`) and for `env` helpers without their leading `_`
//! (`tzset_js` for `env._tzset_js`). `host/syscall_imports.rs` wires them to
//! the imports by name.
//!
//! The behavioural reference is Emscripten's JS glue as shipped in
//! `pyodide.asm.mjs` (MEMFS, TTY, PIPEFS, SYSCALLS, WASI). Where the glue is
//! sloppier than Linux (e.g. trailing slashes, `F_SETFL`, `st_blocks`,
//! reading an empty pipe with no writer), Linux's behaviour is chosen and
//! the deviation is noted at the function.
//!
//! # Layout
//!
//! The files import each other downwards only, never in a loop:
//!
//! - basics: `errno`, `consts`, `clock`, `spin` (a guest waiting on the
//!   clock), `slab`, `stdio` (where guest I/O
//!   goes), [`guest`] (guest memory access, public);
//! - what the file system is made of: `budget` (what file data may
//!   cost), `filedata` (file contents, sparse), `stat`
//!   (`struct stat`), `device` (the character devices), `pipe`, `mount`
//!   (the host side of `--mount`, on cap-std), `tree` (the inode arena all
//!   file systems share), `fd` (descriptors), `path` (path resolution);
//! - the file systems, as operations on the tree: `memfs`, `hostfs`,
//!   `procfs`;
//! - `vfs`: the one place that hands each operation on a node or open
//!   description to its file system, device, pipe or socket;
//! - the imports, decoding arguments and calling `vfs`: `fs_calls`,
//!   `io_calls`, `socket` (which also is the socket implementation),
//!   `wasi`, `time`, `misc`; and `setup` (building a kernel, the host's
//!   pre-boot operations).

#![warn(missing_docs)]

mod clock;
mod consts;
mod errno;
pub mod guest;
mod slab;
mod spin;
mod stdio;

mod budget;
mod device;
mod fd;
mod filedata;
mod fingerprint;
mod mount;
mod path;
mod pipe;
mod stat;
mod tree;

mod hostfs;
mod memfs;
mod procfs;
mod vfs;

mod fs_calls;
mod io_calls;
mod misc;
mod setup;
mod socket;
mod socket_calls;
mod strftime;
mod time;
mod wasi;

#[cfg(test)]
mod tests_fs;
#[cfg(test)]
mod tests_io;
#[cfg(test)]
mod tests_limits;
#[cfg(test)]
mod testutil;

use std::sync::Arc;

pub use clock::{Clock, FixedClock, SystemClock, Timespec, monotonic_at_least};
pub use errno::{Errno, SysResult};
pub use filedata::FileData;
pub use io_calls::MapContents;
pub use stat::StatLayout;
pub use stdio::{BytesInput, Capture, HostFd, InputSource, Null, OutputSink};

use fd::FdTable;
use pipe::Pipe;
use slab::Slab;
use socket::Socket;
use tree::{NodeId, Tree};

/// How to build a [`Kernel`].
#[derive(Clone)]
pub struct KernelConfig {
    /// Where the guest's stdin (`/dev/stdin`, fd 0, `/dev/tty` reads) comes from.
    pub stdin: Arc<dyn InputSource>,
    /// Where stdout (fd 1, `/dev/stdout`, `/dev/tty`) goes.
    pub stdout: Arc<dyn OutputSink>,
    /// Where stderr (fd 2, `/dev/stderr`, `/dev/tty1`) goes.
    pub stderr: Arc<dyn OutputSink>,
    /// Where writes to `/dev/pyodide-test-events` go: a channel from the
    /// guest to the host that ordinary output cannot reach (a test that
    /// prints cannot forge a record). When set, the kernel makes that
    /// character device (mode `0200`, write-only; `st_rdev` 67:0); when
    /// `None`, there is no such node. Default: `None`.
    pub events: Option<Arc<dyn OutputSink>>,
    /// The environment, in order (`environ_get`).
    pub env: Vec<(String, String)>,
    /// `_emscripten_get_progname` (Emscripten's `thisProgram`).
    pub progname: String,
    /// What `getuid()` returns (Node: the host's uid).
    pub uid: u32,
    /// Initial umask.
    pub umask: u32,
    /// The clocks.
    pub clock: Arc<dyn Clock>,
    /// How many bytes of MEMFS file data the guest may make the host hold
    /// (`None`: unlimited). Past it, writes fail with `ENOSPC` as on a full
    /// disk. Only bytes the guest writes count: files the host places with
    /// [`Kernel::write_file`] (the stdlib zip, wheels) never do, and holes
    /// of sparse files cost nothing. Freed data (truncation, an unlinked
    /// file's last close) is given back. Each kernel clone keeps its own
    /// count. Default: [`DEFAULT_FS_BUDGET`].
    pub fs_budget: Option<u64>,
}

/// The default [`KernelConfig::fs_budget`]: 1 GiB.
pub const DEFAULT_FS_BUDGET: u64 = 1 << 30;

impl Default for KernelConfig {
    /// Host stdio (fds 0/1/2, TTY-ness from the host), Emscripten's default
    /// environment, progname `./this.program`, the host uid, umask 022.
    fn default() -> Self {
        let progname = "./this.program".to_string();
        KernelConfig {
            stdin: Arc::new(HostFd(0)),
            stdout: Arc::new(HostFd(1)),
            stderr: Arc::new(HostFd(2)),
            events: None,
            env: emscripten_default_env(&progname),
            progname,
            // SAFETY: getuid has no preconditions.
            uid: unsafe { libc::getuid() },
            umask: 0o022,
            clock: Arc::new(SystemClock),
            fs_budget: Some(DEFAULT_FS_BUDGET),
        }
    }
}

impl KernelConfig {
    /// A config with captured stdout/stderr, empty stdin, a fixed clock
    /// and the default environment: for tests.
    pub fn captured(stdout: Capture, stderr: Capture) -> Self {
        KernelConfig {
            stdin: Arc::new(Null),
            stdout: Arc::new(stdout),
            stderr: Arc::new(stderr),
            uid: 0,
            clock: Arc::new(FixedClock {
                now: Timespec {
                    sec: 1_700_000_000,
                    nsec: 123_456_789,
                },
                mono_ns: 5_000_000,
            }),
            ..KernelConfig::default()
        }
    }
}

/// Emscripten's default environment (`getEnvStrings` with a `C` locale):
/// `USER`, `LOGNAME`, `PATH`, `PWD`, `HOME`, `LANG`, `_`.
pub fn emscripten_default_env(progname: &str) -> Vec<(String, String)> {
    [
        ("USER", "web_user"),
        ("LOGNAME", "web_user"),
        ("PATH", "/"),
        ("PWD", "/"),
        ("HOME", "/home/web_user"),
        ("LANG", "C.UTF-8"),
        ("_", progname),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The guest OS: file tree, descriptors, cwd, umask, environment, clocks,
/// stdio. `Clone` makes an independent copy (file contents are shared
/// copy-on-write), which is how instance snapshots are taken.
#[derive(Clone)]
pub struct Kernel {
    pub(crate) fs: Tree,
    pub(crate) fdt: FdTable,
    pub(crate) pipes: Slab<Pipe>,
    pub(crate) sockets: Slab<Socket>,
    pub(crate) ports: socket::PortTable,
    /// Bytes queued in all sockets (bounded by `socket::SOCKET_MEMORY`).
    pub(crate) socket_bytes: usize,
    pub(crate) cwd: NodeId,
    pub(crate) umask: u32,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) progname: Vec<u8>,
    pub(crate) uid: u32,
    pub(crate) stdin: Arc<dyn InputSource>,
    pub(crate) stdout: Arc<dyn OutputSink>,
    pub(crate) stderr: Arc<dyn OutputSink>,
    pub(crate) events: Option<Arc<dyn OutputSink>>,
    pub(crate) clock: Arc<dyn Clock>,
    /// See [`Kernel::set_stdio_boot_tty`].
    pub(crate) boot_tty: bool,
    /// PROCFS: the `pipe[N]`/`socket[N]` names handed out so far.
    pub(crate) stream_names: procfs::StreamNames,
    /// How `struct stat` is laid out for this guest's libc.
    pub(crate) stat_layout: StatLayout,
    /// See [`Kernel::set_utc_zone_name`].
    pub(crate) utc_zone_name: String,
    /// Recent `emscripten_get_now` calls (see [`spin::SpinWatch`]).
    pub(crate) spin: spin::SpinWatch,
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel")
            .field("cwd", &self.fs.dir_path(self.cwd))
            .field("open_fds", &self.fdt.open_fds())
            .field("umask", &self.umask)
            .finish_non_exhaustive()
    }
}

impl Kernel {
    /// Lay out `struct stat` as `layout` (the guest's libc decides).
    pub fn set_stat_layout(&mut self, layout: StatLayout) {
        self.stat_layout = layout;
    }

    /// The guest's monotonic clock now, in nanoseconds.
    pub fn monotonic_ns(&self) -> u64 {
        self.clock.monotonic_ns()
    }

    /// The current wall-clock time (for timestamps).
    pub(crate) fn now(&self) -> Timespec {
        self.clock.realtime()
    }

    /// Bytes of MEMFS file data the guest holds now (what
    /// [`KernelConfig::fs_budget`] limits).
    pub fn fs_bytes_used(&self) -> u64 {
        self.fs.budget().used()
    }

    /// The file-data budget (`None`: unlimited).
    pub fn fs_budget(&self) -> Option<u64> {
        self.fs.budget().limit()
    }

    /// Changes the file-data budget; bytes already held stay held, even
    /// past a lower limit (new writes then fail).
    pub fn set_fs_budget(&mut self, limit: Option<u64>) {
        self.fs.budget_mut().set_limit(limit);
    }
}
