//! Sockets (placeholder until the loopback emulation lands).

use super::Kernel;
use super::errno::{Errno, SysResult};

/// One socket.
#[derive(Clone, Debug)]
pub(crate) struct Socket {
    pub ino: u64,
}

impl Kernel {
    pub(crate) fn socket_closed(&mut self, s: usize) {
        self.sockets.remove(s);
    }
    pub(crate) fn socket_recv(
        &mut self,
        _s: usize,
        _buf: &mut [u8],
        _nonblock: bool,
    ) -> SysResult<usize> {
        Err(Errno::ENOTCONN)
    }
    pub(crate) fn socket_send(&mut self, _s: usize, _data: &[u8]) -> SysResult<usize> {
        Err(Errno::ENOTCONN)
    }
    pub(crate) fn socket_poll(&self, _s: usize) -> u16 {
        0
    }
    pub(crate) fn socket_pending(&self, _s: usize) -> usize {
        0
    }
}
