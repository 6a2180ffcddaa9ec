//! Anonymous pipes (`pipe()`): PIPEFS's behaviour with Linux's capacity.
//!
//! As PIPEFS, a read of an empty pipe is `EAGAIN` whether or not a writer
//! is left (there is no end of file), a write with no reader left succeeds
//! (its bytes are dropped: nobody can read them), and `poll` reports only
//! data (read end) or room (write end): no `POLLHUP`/`POLLERR`.
//!
//! Unlike PIPEFS (an unbounded queue), a pipe holds at most
//! [`PIPE_CAPACITY`] bytes, as Linux's default: a write to a full pipe is
//! `EAGAIN`, a larger write than the room left is partial, and a write of
//! at most [`PIPE_BUF`] bytes is atomic (all of it, or `EAGAIN`). The
//! write end polls writable while at least `PIPE_BUF` bytes fit. A
//! *blocking* write answers the same: the guest is single-threaded and the
//! kernel cannot wait for a reader that would have to be itself, so it
//! never blocks (nor lets the queue grow without end).

use std::collections::VecDeque;

use super::clock::Timespec;
use super::consts::*;
use super::errno::{Errno, SysResult};
use super::stat::Stat;

/// How many bytes a pipe holds (Linux's default, 16 pages).
pub(crate) const PIPE_CAPACITY: usize = 65536;

/// Writes of at most this many bytes are atomic (POSIX `PIPE_BUF`).
pub(crate) const PIPE_BUF: usize = 4096;

/// One pipe: its buffered bytes and how many ends are open.
#[derive(Clone, Debug)]
pub(crate) struct Pipe {
    pub buf: VecDeque<u8>,
    pub readers: u32,
    pub writers: u32,
    pub ino: u64,
    pub ctime: Timespec,
}

impl Pipe {
    /// A new pipe with one reader and one writer.
    pub fn new(ino: u64, now: Timespec) -> Self {
        Pipe {
            buf: VecDeque::new(),
            readers: 1,
            writers: 1,
            ino,
            ctime: now,
        }
    }

    /// Reads into `out`.
    pub fn read(&mut self, out: &mut [u8]) -> SysResult<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.buf.is_empty() {
            return Err(Errno::EAGAIN);
        }
        let n = out.len().min(self.buf.len());
        for (o, b) in out.iter_mut().zip(self.buf.drain(..n)) {
            *o = b;
        }
        Ok(n)
    }

    /// Appends what fits of `data` (see the module's doc); with no reader
    /// left, takes it all and keeps nothing.
    pub fn write(&mut self, data: &[u8]) -> SysResult<usize> {
        if data.is_empty() || self.readers == 0 {
            return Ok(data.len());
        }
        let room = PIPE_CAPACITY - self.buf.len();
        if room == 0 || (data.len() <= PIPE_BUF && data.len() > room) {
            return Err(Errno::EAGAIN);
        }
        let n = room.min(data.len());
        self.buf.extend(&data[..n]);
        Ok(n)
    }

    /// Bytes buffered (`FIONREAD`).
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Poll readiness of one end.
    pub fn poll(&self, write_end: bool) -> u16 {
        if write_end {
            if self.readers == 0 || PIPE_CAPACITY - self.buf.len() >= PIPE_BUF {
                POLLOUT | POLLWRNORM
            } else {
                0
            }
        } else if !self.buf.is_empty() {
            POLLIN | POLLRDNORM
        } else {
            0
        }
    }

    /// Closes one end (the write end if `write_end`); true when no end is
    /// left open and the pipe can go.
    pub fn close_end(&mut self, write_end: bool) -> bool {
        if write_end {
            self.writers -= 1;
        } else {
            self.readers -= 1;
        }
        self.readers == 0 && self.writers == 0
    }

    /// The `stat` of an end of pipe `p` (PIPEFS: `st_dev` 14, mode
    /// `S_IFIFO | 0600`, the times of its creation).
    pub fn stat(p: Option<&Pipe>) -> Stat {
        let (ino, time) = p.map(|p| (p.ino, p.ctime)).unwrap_or_default();
        Stat {
            dev: 14,
            ino,
            mode: S_IFIFO | 0o600,
            nlink: 1,
            blksize: 4096,
            atime: time,
            mtime: time,
            ctime: time,
            ..Stat::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_semantics() {
        let mut p = Pipe::new(1, Timespec::default());
        let mut b = [0u8; 4];
        assert_eq!(p.read(&mut b), Err(Errno::EAGAIN));
        assert_eq!(p.poll(false), 0);
        p.write(b"hello").unwrap();
        assert_eq!(p.poll(false), POLLIN | POLLRDNORM);
        assert_eq!(p.read(&mut b), Ok(4));
        assert_eq!(&b, b"hell");
        p.writers = 0;
        assert_eq!(p.read(&mut b), Ok(1));
        // PIPEFS: no end of file, no EPIPE, no POLLHUP.
        assert_eq!(p.read(&mut b), Err(Errno::EAGAIN));
        assert_eq!(p.poll(false), 0);
        p.readers = 0;
        assert_eq!(p.write(b"x"), Ok(1));
        assert_eq!(p.poll(true), POLLOUT | POLLWRNORM);
        assert_eq!(p.len(), 0);
    }

    #[test]
    fn capacity_and_atomic_writes() {
        let mut p = Pipe::new(1, Timespec::default());
        let big = vec![7u8; PIPE_CAPACITY + 10];
        assert_eq!(p.write(&big), Ok(PIPE_CAPACITY));
        assert_eq!(p.write(b"x"), Err(Errno::EAGAIN));
        assert_eq!(p.poll(true), 0);
        let mut b = [0u8; 100];
        assert_eq!(p.read(&mut b), Ok(100));
        // 100 bytes of room: a small write is all or nothing, a big one
        // is partial.
        assert_eq!(p.write(&big[..200]), Err(Errno::EAGAIN));
        assert_eq!(p.write(&big[..50]), Ok(50));
        assert_eq!(p.write(&big[..PIPE_BUF + 1]), Ok(50));
        assert_eq!(p.len(), PIPE_CAPACITY);
        let mut b = vec![0u8; PIPE_BUF];
        assert_eq!(p.read(&mut b), Ok(PIPE_BUF));
        assert_eq!(p.poll(true), POLLOUT | POLLWRNORM);
    }
}
