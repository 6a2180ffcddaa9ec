//! Where the guest's stdin comes from and its stdout/stderr go, and the
//! terminal behaviour of the stdio devices.
//!
//! Pyodide under Node installs its own `/dev/stdin|stdout|stderr` devices
//! (`API.initializeStreams`): they read/write the host's fds 0/1/2
//! unbuffered and are TTYs exactly when the host fd is a TTY
//! (`tty.isatty(fd)`). A TTY stream answers `isatty`, `TCGETS` (returning 0
//! without filling the struct) and `TIOCGWINSZ` (the host terminal's size,
//! default 24x80); a non-TTY stream answers those with `ENOTTY`.

use std::io::{self, Cursor, Read};
use std::sync::{Arc, Mutex};

/// A destination for guest output (stdout, stderr).
pub trait OutputSink: Send + Sync {
    /// Writes all of `data`.
    fn write(&self, data: &[u8]) -> io::Result<()>;
    /// Flushes anything buffered.
    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
    /// Whether the guest should see this stream as a terminal.
    fn is_tty(&self) -> bool {
        false
    }
    /// `(rows, cols)` of the terminal, if known.
    fn terminal_size(&self) -> Option<(u16, u16)> {
        None
    }
}

/// A source of guest input (stdin).
pub trait InputSource: Send + Sync {
    /// Reads up to `buf.len()` bytes; 0 is end of file. `WouldBlock`
    /// becomes `EAGAIN` for the guest.
    fn read(&self, buf: &mut [u8]) -> io::Result<usize>;
    /// Whether the guest should see this stream as a terminal.
    fn is_tty(&self) -> bool {
        false
    }
}

/// One of the host process's own file descriptors, used unbuffered.
#[derive(Clone, Copy, Debug)]
pub struct HostFd(pub i32);

impl HostFd {
    fn isatty(self) -> bool {
        // SAFETY: isatty only inspects the descriptor number.
        unsafe { libc::isatty(self.0) == 1 }
    }
}

impl OutputSink for HostFd {
    fn write(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            // SAFETY: the pointer/length pair describes `data`.
            let n = unsafe { libc::write(self.0, data.as_ptr().cast(), data.len()) };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::Interrupted => continue,
                    io::ErrorKind::WouldBlock => {
                        std::thread::sleep(std::time::Duration::from_millis(1));
                        continue;
                    }
                    _ => return Err(e),
                }
            }
            data = &data[n as usize..];
        }
        Ok(())
    }
    fn is_tty(&self) -> bool {
        self.isatty()
    }
    fn terminal_size(&self) -> Option<(u16, u16)> {
        let mut ws = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ writes a winsize into the struct we pass.
        let r = unsafe { libc::ioctl(self.0, libc::TIOCGWINSZ, &mut ws) };
        (r == 0 && ws.ws_row > 0 && ws.ws_col > 0).then_some((ws.ws_row, ws.ws_col))
    }
}

impl InputSource for HostFd {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // SAFETY: the pointer/length pair describes `buf`.
            let n = unsafe { libc::read(self.0, buf.as_mut_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                // Node's NodeReader treats EOF-ish errors as end of input.
                _ => return Err(e),
            }
        }
    }
    fn is_tty(&self) -> bool {
        self.isatty()
    }
}

/// Collects output in memory (tests, captured runs). Clones share the buffer.
#[derive(Clone, Debug, Default)]
pub struct Capture {
    buf: Arc<Mutex<Vec<u8>>>,
    tty: bool,
}

impl Capture {
    /// An empty capture that is not a TTY.
    pub fn new() -> Self {
        Self::default()
    }
    /// An empty capture that claims to be a TTY.
    pub fn tty() -> Self {
        Capture {
            buf: Arc::default(),
            tty: true,
        }
    }
    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.buf.lock().map(|b| b.clone()).unwrap_or_default()
    }
}

impl OutputSink for Capture {
    fn write(&self, data: &[u8]) -> io::Result<()> {
        self.buf
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .extend_from_slice(data);
        Ok(())
    }
    fn is_tty(&self) -> bool {
        self.tty
    }
}

/// Input from a fixed byte string, then end of file.
#[derive(Debug, Default)]
pub struct BytesInput(Mutex<Cursor<Vec<u8>>>);

impl BytesInput {
    /// Input that yields `data` then EOF.
    pub fn new(data: impl Into<Vec<u8>>) -> Self {
        BytesInput(Mutex::new(Cursor::new(data.into())))
    }
}

impl InputSource for BytesInput {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .read(buf)
    }
}

/// Output that is discarded / input that is always at EOF.
#[derive(Clone, Copy, Debug, Default)]
pub struct Null;

impl OutputSink for Null {
    fn write(&self, _: &[u8]) -> io::Result<()> {
        Ok(())
    }
}
impl InputSource for Null {
    fn read(&self, _: &mut [u8]) -> io::Result<usize> {
        Ok(0)
    }
}

/// Emscripten's default termios for `/dev/tty` (`ioctl_tcgets`).
pub(crate) const DEFAULT_TERMIOS: (u32, u32, u32, u32, [u8; 32]) = (
    25856,
    5,
    191,
    35387,
    [
        3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0,
    ],
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_and_bytes() {
        let c = Capture::new();
        c.write(b"hi").unwrap();
        let c2 = c.clone();
        c2.write(b"!").unwrap();
        assert_eq!(c.contents(), b"hi!");
        let i = BytesInput::new("ab");
        let mut b = [0u8; 4];
        assert_eq!(i.read(&mut b).unwrap(), 2);
        assert_eq!(i.read(&mut b).unwrap(), 0);
    }
}
