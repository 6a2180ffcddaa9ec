//! The character devices of `/dev` (Emscripten's `FS.createDefaultDevices`
//! plus Pyodide's stdio devices): which ones exist, and how each reads,
//! writes, seeks and answers "is this a terminal".
//!
//! Besides Emscripten's, `/dev/pyodide-test-events` ([`EVENTS`]) exists
//! when the host asks for it (`KernelConfig::events`): a write-only device
//! whose writes go to the host's events sink, a channel for test results
//! that the guest's ordinary output (stdout, stderr, files) cannot reach.
//!
//! A device node is an ordinary MEMFS node of kind `Device`; only its
//! stream operations are the device's (as Emscripten registers
//! `stream_ops` per device number). The functions here work on the
//! [`Streams`] the kernel was configured with, and know nothing of nodes.

use super::errno::{Errno, SysResult, from_io};
use super::stdio::{InputSource, OutputSink};

/// The character devices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    /// `/dev/null`.
    Null,
    /// `/dev/zero` (Emscripten 5 creates none; kept for a host that adds it).
    #[allow(dead_code)]
    Zero,
    /// `/dev/random` and `/dev/urandom`.
    Random,
    /// `/dev/tty`: Emscripten's default TTY (stdin in, stdout out).
    Tty,
    /// `/dev/tty1`: Emscripten's second TTY (writes to stderr).
    Tty1,
    /// `/dev/stdin`: Pyodide's stdin device.
    Stdin,
    /// `/dev/stdout`: Pyodide's stdout device.
    Stdout,
    /// `/dev/stderr`: Pyodide's stderr device.
    Stderr,
    /// `/dev/pyodide-test-events`: write-only, to the host's events sink.
    Events,
}

/// `makedev(major, minor)` as Emscripten encodes it.
const fn makedev(major: u32, minor: u32) -> u32 {
    (major << 8) | minor
}

/// The entries of `/dev` made at boot: name, device, permission bits,
/// `st_rdev`.
pub(crate) const DEVICES: [(&str, DeviceKind, u32, u32); 8] = [
    ("null", DeviceKind::Null, 0o666, makedev(1, 3)),
    ("tty", DeviceKind::Tty, 0o666, makedev(5, 0)),
    ("tty1", DeviceKind::Tty1, 0o666, makedev(6, 0)),
    ("random", DeviceKind::Random, 0o555, makedev(64, 0)),
    ("urandom", DeviceKind::Random, 0o555, makedev(65, 0)),
    ("stdin", DeviceKind::Stdin, 0o666, makedev(66, 0)),
    ("stdout", DeviceKind::Stdout, 0o666, makedev(66, 1)),
    ("stderr", DeviceKind::Stderr, 0o666, makedev(66, 2)),
];

/// The events device, made only when the host gives an events sink: name,
/// device, permission bits (write-only), `st_rdev`.
pub(crate) const EVENTS: (&str, DeviceKind, u32, u32) = (
    "pyodide-test-events",
    DeviceKind::Events,
    0o200,
    makedev(67, 0),
);

/// The host-side streams devices read from and write to.
pub(crate) struct Streams<'a> {
    /// Where `/dev/stdin` and `/dev/tty` read.
    pub stdin: &'a dyn InputSource,
    /// Where `/dev/stdout` and `/dev/tty` write.
    pub stdout: &'a dyn OutputSink,
    /// Where `/dev/stderr` and `/dev/tty1` write.
    pub stderr: &'a dyn OutputSink,
    /// Where `/dev/pyodide-test-events` writes (when it exists).
    pub events: Option<&'a dyn OutputSink>,
}

/// How `lseek` treats a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Seek {
    /// Every seek succeeds and the position stays 0 (`/dev/null`).
    Pinned,
    /// `ESPIPE`.
    Unseekable,
}

impl DeviceKind {
    /// Whether `pread`/`pwrite` (an explicit offset) are allowed.
    pub fn positional(self) -> bool {
        matches!(self, DeviceKind::Null | DeviceKind::Zero)
    }

    /// How `lseek` treats it.
    pub fn seek(self) -> Seek {
        if self.positional() {
            Seek::Pinned
        } else {
            Seek::Unseekable
        }
    }

    /// One of Pyodide's stdio devices (`/dev/stdin|stdout|stderr`).
    pub fn is_stdio(self) -> bool {
        matches!(
            self,
            DeviceKind::Stdin | DeviceKind::Stdout | DeviceKind::Stderr
        )
    }

    /// Whether reads stamp `atime` and writes `mtime`/`ctime` of the node
    /// (the terminal and stdio devices, as the glue's TTY stream ops do;
    /// null and random do not).
    pub fn stamps_times(self) -> bool {
        matches!(
            self,
            DeviceKind::Tty
                | DeviceKind::Tty1
                | DeviceKind::Stdin
                | DeviceKind::Stdout
                | DeviceKind::Stderr
        )
    }

    /// Whether a stream opened on it is a terminal.
    pub fn is_tty(self, s: &Streams) -> bool {
        match self {
            DeviceKind::Tty | DeviceKind::Tty1 => true,
            DeviceKind::Stdin => s.stdin.is_tty(),
            DeviceKind::Stdout => s.stdout.is_tty(),
            DeviceKind::Stderr => s.stderr.is_tty(),
            _ => false,
        }
    }

    /// The terminal whose size `TIOCGWINSZ` reports.
    pub fn winsize_sink<'a>(self, s: &Streams<'a>) -> &'a dyn OutputSink {
        match self {
            DeviceKind::Stderr | DeviceKind::Tty1 => s.stderr,
            _ => s.stdout,
        }
    }

    /// Reads into `buf`; `Ok(0)` is end of file.
    pub fn read(self, s: &Streams, buf: &mut [u8]) -> SysResult<usize> {
        match self {
            DeviceKind::Null => Ok(0),
            DeviceKind::Zero => {
                buf.fill(0);
                Ok(buf.len())
            }
            DeviceKind::Random => {
                random_bytes(buf);
                Ok(buf.len())
            }
            DeviceKind::Stdin | DeviceKind::Tty => {
                if buf.is_empty() {
                    return Ok(0);
                }
                s.stdin.read(buf).map_err(|e| from_io(&e))
            }
            DeviceKind::Tty1 => Err(Errno::ENXIO),
            DeviceKind::Stdout | DeviceKind::Stderr => Err(Errno::EIO),
            // No read operation (it is opened write-only anyway).
            DeviceKind::Events => Err(Errno::EINVAL),
        }
    }

    /// Writes all of `data`.
    pub fn write(self, s: &Streams, data: &[u8]) -> SysResult<usize> {
        let sink = match self {
            DeviceKind::Null | DeviceKind::Zero | DeviceKind::Random => return Ok(data.len()),
            DeviceKind::Stdout | DeviceKind::Tty => s.stdout,
            DeviceKind::Stderr | DeviceKind::Tty1 => s.stderr,
            DeviceKind::Stdin => return Err(Errno::EIO),
            DeviceKind::Events => s.events.ok_or(Errno::EIO)?,
        };
        sink.write(data).map_err(|e| from_io(&e))?;
        Ok(data.len())
    }

    /// `fsync`: flushes the sink behind an output device.
    pub fn flush(self, s: &Streams) {
        let _ = match self {
            DeviceKind::Stdout | DeviceKind::Tty => s.stdout.flush(),
            DeviceKind::Stderr | DeviceKind::Tty1 => s.stderr.flush(),
            DeviceKind::Events => s.events.map_or(Ok(()), |e| e.flush()),
            _ => Ok(()),
        };
    }

    /// What closing the last descriptor does: stdout is flushed (as the
    /// glue's TTY `close` does for its output buffer), and so is the
    /// events sink.
    pub fn close(self, s: &Streams) {
        match self {
            DeviceKind::Stdout | DeviceKind::Tty => {
                let _ = s.stdout.flush();
            }
            DeviceKind::Events => self.flush(s),
            _ => {}
        }
    }
}

/// Fills `buf` with random bytes from the host (`getrandom`).
pub(crate) fn random_bytes(buf: &mut [u8]) {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: the pointer/length pair describes the rest of `buf`.
        let n = unsafe { libc::getrandom(buf[done..].as_mut_ptr().cast(), buf.len() - done, 0) };
        if n <= 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            panic!("getrandom failed: {e}");
        }
        done += n as usize;
    }
}
