//! Sockets, their addresses and buffers: an in-host loopback network for `AF_INET` stream and datagram
//! sockets on 127.0.0.0/8 (and 0.0.0.0, which means "this host").
//!
//! Nothing leaves the process: `bind` reserves a port in the kernel's own
//! port table, `connect` to a listening port queues a new connected socket
//! on the listener (the connection is established at once, so `connect`
//! returns 0 even on a non-blocking socket), `accept` takes it. This is
//! what asyncio needs: `socket.socketpair` is missing from this build and
//! `_fallback_socketpair` does bind/listen/connect/accept on 127.0.0.1.
//! Operations that would block return `EAGAIN` (single guest thread).
//! Emscripten's SOCKFS tunnels through WebSockets instead; other families
//! are `EAFNOSUPPORT` as there.
//!
//! Buffers are bounded as Linux's are, so a guest that sends without
//! reading cannot make the host hold unbounded memory:
//! - a stream socket's receive queue holds [`STREAM_BUFFER`] bytes (about
//!   what Linux's loopback TCP takes before a non-blocking `send` fails:
//!   3.7 MiB measured with the default `tcp_rmem`/`tcp_wmem`); a `send`
//!   into a full queue is `EAGAIN`, one larger than the room left is
//!   partial, and `poll` reports `POLLOUT` only while there is room. A
//!   *blocking* `send` answers the same: the kernel cannot wait for the
//!   peer, which is the guest's own other end;
//! - all queues of a kernel together hold at most [`SOCKET_MEMORY`]
//!   bytes (Linux's `tcp_mem` pressure limit plays that part there);
//! - a datagram socket queues at most [`DGRAM_BUFFER`] bytes; datagrams
//!   that do not fit are dropped, as UDP does, and one larger than
//!   [`MAX_DGRAM`] is `EMSGSIZE`;
//! - a listener keeps at most its `listen` backlog + 1 connections
//!   waiting for `accept`; further `connect`s are `ECONNREFUSED`.

//!
//! The socket syscalls themselves are in `socket_calls.rs`.

use std::collections::{BTreeMap, VecDeque};

use super::errno::{Errno, SysResult};
use super::guest;

pub(crate) const AF_INET: i32 = 2;
pub(crate) const SOCK_STREAM: i32 = 1;
pub(crate) const SOCK_DGRAM: i32 = 2;
pub(crate) const SOCK_NONBLOCK: i32 = 0o4000;
pub(crate) const SOCK_CLOEXEC: i32 = 0o2000000;
pub(crate) const IPPROTO_TCP: i32 = 6;
pub(crate) const IPPROTO_UDP: i32 = 17;
pub(crate) const SOL_SOCKET: i32 = 1;
pub(crate) const MSG_PEEK: i32 = 2;
pub(crate) const SHUT_RD: i32 = 0;
pub(crate) const SHUT_WR: i32 = 1;
pub(crate) const SHUT_RDWR: i32 = 2;
pub(crate) const EPHEMERAL_START: u16 = 32768;

/// What a stream socket's receive queue holds.
pub(crate) const STREAM_BUFFER: usize = 4 << 20;
/// What all the socket queues of a kernel hold together.
pub(crate) const SOCKET_MEMORY: usize = 64 << 20;
/// What a datagram socket's queue holds (Linux's default `SO_RCVBUF`).
pub(crate) const DGRAM_BUFFER: usize = 212_992;
/// The largest datagram (UDP over IPv4).
pub(crate) const MAX_DGRAM: usize = 65_507;
/// The largest `listen` backlog (`SOMAXCONN`).
pub(crate) const SOMAXCONN: usize = 4096;

/// An IPv4 address and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct SockAddr {
    pub ip: [u8; 4],
    pub port: u16,
}

pub(crate) const LOOPBACK: [u8; 4] = [127, 0, 0, 1];

pub(crate) fn is_local(ip: [u8; 4]) -> bool {
    ip[0] == 127 || ip == [0, 0, 0, 0]
}

/// One socket.
#[derive(Clone, Debug)]
pub(crate) struct Socket {
    pub ino: u64,
    pub(crate) ty: i32,
    pub(crate) protocol: i32,
    pub(crate) local: Option<SockAddr>,
    pub(crate) peer: Option<SockAddr>,
    /// The connected peer's socket id, while it exists.
    pub(crate) peer_sock: Option<usize>,
    pub(crate) listening: bool,
    pub(crate) backlog: VecDeque<usize>,
    /// How many connections may wait in `backlog`.
    pub(crate) backlog_max: usize,
    pub(crate) rx: VecDeque<u8>,
    pub(crate) dgrams: VecDeque<(SockAddr, Vec<u8>)>,
    /// Bytes queued in `dgrams`.
    pub(crate) dgram_bytes: usize,
    /// The peer will send no more (it shut down writing or closed).
    pub(crate) eof: bool,
    pub(crate) shut_rd: bool,
    pub(crate) shut_wr: bool,
    /// Pending `SO_ERROR`.
    pub(crate) error: i32,
    /// PROCFS: SOCKFS's stream path, `socket[N]`.
    pub name: Vec<u8>,
}

impl Socket {
    pub(crate) fn new(ino: u64, ty: i32, protocol: i32, name: Vec<u8>) -> Self {
        Socket {
            name,
            ino,
            ty,
            protocol,
            local: None,
            peer: None,
            peer_sock: None,
            listening: false,
            backlog: VecDeque::new(),
            backlog_max: 0,
            rx: VecDeque::new(),
            dgrams: VecDeque::new(),
            dgram_bytes: 0,
            eof: false,
            shut_rd: false,
            shut_wr: false,
            error: 0,
        }
    }
}

/// The kernel's port table: which socket holds a port, per type.
pub(crate) type PortTable = BTreeMap<(i32, u16), usize>;

pub(crate) fn read_sockaddr(mem: &[u8], addr: i32, len: i32) -> SysResult<SockAddr> {
    let family = guest::read_u16(mem, addr as u32)? as i32;
    if family != AF_INET {
        return Err(Errno::EAFNOSUPPORT);
    }
    if len < 16 {
        return Err(Errno::EINVAL);
    }
    let b = guest::slice(mem, addr as u32, 8)?;
    Ok(SockAddr {
        port: u16::from_be_bytes([b[2], b[3]]),
        ip: [b[4], b[5], b[6], b[7]],
    })
}

/// Stores `a` as a `sockaddr_in` in a buffer of `*addrlen` bytes (truncated
/// to fit), setting `*addrlen` to 16. Null `addr` writes nothing.
pub(crate) fn write_sockaddr(
    mem: &mut [u8],
    addr: i32,
    addrlen: i32,
    a: SockAddr,
) -> SysResult<()> {
    if addr == 0 {
        return Ok(());
    }
    let cap = if addrlen != 0 {
        guest::read_i32(mem, addrlen as u32)?
    } else {
        16
    };
    if cap < 0 {
        return Err(Errno::EINVAL);
    }
    let mut raw = [0u8; 16];
    raw[..2].copy_from_slice(&(AF_INET as u16).to_le_bytes());
    raw[2..4].copy_from_slice(&a.port.to_be_bytes());
    raw[4..8].copy_from_slice(&a.ip);
    let n = (cap as usize).min(16);
    guest::write_bytes(mem, addr as u32, &raw[..n])?;
    if addrlen != 0 {
        guest::write_i32(mem, addrlen as u32, 16)?;
    }
    Ok(())
}
