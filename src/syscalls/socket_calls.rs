//! The socket syscalls (`socket`, `bind`, `listen`, `connect`, `accept4`,
//! `sendto`/`recvfrom`, `sendmsg`/`recvmsg`, options, `shutdown`) on the
//! loopback network of `socket.rs`.

// The import signatures take six i32 arguments plus the memory.
#![allow(clippy::too_many_arguments)]

use super::Kernel;
use super::consts::*;
use super::errno::{Errno, SysResult, sys_ret};
use super::fd::{Ofd, Target};
use super::guest;
use super::socket::*;
use super::stat::Stat;

impl Kernel {
    fn sock(&self, id: usize) -> SysResult<&Socket> {
        self.sockets.get(id).ok_or(Errno::EBADF)
    }

    fn sock_mut(&mut self, id: usize) -> SysResult<&mut Socket> {
        self.sockets.get_mut(id).ok_or(Errno::EBADF)
    }

    /// The socket behind `fd`: `EBADF` or `ENOTSOCK`.
    fn sock_of(&self, fd: i32) -> SysResult<usize> {
        match self.fdt.ofd(fd)?.target {
            Target::Socket(s) => Ok(s),
            _ => Err(Errno::ENOTSOCK),
        }
    }

    fn free_port(&self, ty: i32) -> SysResult<u16> {
        (EPHEMERAL_START..=u16::MAX)
            .find(|p| !self.ports.contains_key(&(ty, *p)))
            .ok_or(Errno::EADDRINUSE)
    }

    fn do_bind(&mut self, s: usize, mut a: SockAddr) -> SysResult<()> {
        if !is_local(a.ip) {
            return Err(Errno::EADDRNOTAVAIL);
        }
        let ty = self.sock(s)?.ty;
        if self.sock(s)?.local.is_some() {
            return Err(Errno::EINVAL);
        }
        if a.port == 0 {
            a.port = self.free_port(ty)?;
        } else if self.ports.contains_key(&(ty, a.port)) {
            return Err(Errno::EADDRINUSE);
        }
        self.ports.insert((ty, a.port), s);
        self.sock_mut(s)?.local = Some(a);
        Ok(())
    }

    fn autobind(&mut self, s: usize) -> SysResult<SockAddr> {
        if let Some(a) = self.sock(s)?.local {
            return Ok(a);
        }
        self.do_bind(
            s,
            SockAddr {
                ip: LOOPBACK,
                port: 0,
            },
        )?;
        Ok(self.sock(s)?.local.unwrap_or_default())
    }

    /// Room left for `n` more queued bytes, kernel-wide.
    fn socket_memory_room(&self) -> usize {
        SOCKET_MEMORY.saturating_sub(self.socket_bytes)
    }

    /// Room left in the receive queue of stream socket `p` (the peer of a
    /// sender).
    fn stream_room(&self, p: &Socket) -> usize {
        STREAM_BUFFER
            .saturating_sub(p.rx.len())
            .min(self.socket_memory_room())
    }

    /// Called when the last descriptor of socket `s` is closed.
    pub(crate) fn socket_closed(&mut self, s: usize) {
        let Some(sock) = self.sockets.remove(s) else {
            return;
        };
        self.socket_bytes -= sock.rx.len() + sock.dgram_bytes;
        if let Some(a) = sock.local
            && self.ports.get(&(sock.ty, a.port)) == Some(&s)
        {
            self.ports.remove(&(sock.ty, a.port));
        }
        if let Some(p) = sock.peer_sock
            && let Some(peer) = self.sockets.get_mut(p)
        {
            peer.eof = true;
            peer.peer_sock = None;
        }
        for pending in sock.backlog {
            self.socket_closed(pending);
        }
    }

    /// Receives into `buf` from a stream or datagram socket.
    pub(crate) fn socket_recv(&mut self, s: usize, buf: &mut [u8]) -> SysResult<usize> {
        self.recv_inner(s, buf, 0).map(|(n, _)| n)
    }

    fn recv_inner(
        &mut self,
        s: usize,
        buf: &mut [u8],
        flags: i32,
    ) -> SysResult<(usize, Option<SockAddr>)> {
        let sock = self.sock_mut(s)?;
        if sock.ty == SOCK_DGRAM {
            let Some((from, data)) = sock.dgrams.front() else {
                return Err(Errno::EAGAIN);
            };
            let (from, len) = (*from, data.len());
            let n = len.min(buf.len());
            buf[..n].copy_from_slice(&data[..n]);
            if flags & MSG_PEEK == 0 {
                sock.dgrams.pop_front();
                sock.dgram_bytes -= len;
                self.socket_bytes -= len;
            }
            return Ok((n, Some(from)));
        }
        if sock.listening || (sock.peer.is_none() && !sock.eof) {
            return Err(Errno::ENOTCONN);
        }
        if sock.rx.is_empty() {
            return if sock.eof || sock.shut_rd || buf.is_empty() {
                Ok((0, sock.peer))
            } else {
                Err(Errno::EAGAIN)
            };
        }
        let n = buf.len().min(sock.rx.len());
        for (o, b) in buf.iter_mut().zip(sock.rx.iter()) {
            *o = *b;
        }
        let peer = sock.peer;
        if flags & MSG_PEEK == 0 {
            sock.rx.drain(..n);
            self.socket_bytes -= n;
        }
        Ok((n, peer))
    }

    /// Sends on a connected socket.
    pub(crate) fn socket_send(&mut self, s: usize, data: &[u8]) -> SysResult<usize> {
        self.send_inner(s, data, None)
    }

    fn send_inner(&mut self, s: usize, data: &[u8], to: Option<SockAddr>) -> SysResult<usize> {
        let sock = self.sock(s)?;
        if sock.ty == SOCK_DGRAM {
            if data.len() > MAX_DGRAM {
                return Err(Errno::EMSGSIZE);
            }
            let dest = to.or(sock.peer).ok_or(Errno::EDESTADDRREQ)?;
            let from = self.autobind(s)?;
            let from = SockAddr {
                ip: if from.ip == [0; 4] { LOOPBACK } else { from.ip },
                ..from
            };
            let room = self.socket_memory_room();
            // A datagram that does not fit is dropped, as UDP does.
            if is_local(dest.ip)
                && let Some(&r) = self.ports.get(&(SOCK_DGRAM, dest.port))
                && let Some(rs) = self.sockets.get_mut(r)
                && rs.dgram_bytes + data.len() <= DGRAM_BUFFER
                && data.len() <= room
            {
                rs.dgrams.push_back((from, data.to_vec()));
                rs.dgram_bytes += data.len();
                self.socket_bytes += data.len();
            }
            return Ok(data.len());
        }
        if sock.shut_wr {
            return Err(Errno::EPIPE);
        }
        if sock.peer.is_none() {
            return Err(Errno::ENOTCONN);
        }
        let Some(p) = sock.peer_sock else {
            return Err(Errno::EPIPE);
        };
        let peer = self.sock(p)?;
        if peer.shut_rd || data.is_empty() {
            return Ok(data.len());
        }
        let room = self.stream_room(peer);
        if room == 0 {
            return Err(Errno::EAGAIN);
        }
        let n = room.min(data.len());
        self.sock_mut(p)?.rx.extend(&data[..n]);
        self.socket_bytes += n;
        Ok(n)
    }

    /// Poll readiness of a socket.
    pub(crate) fn socket_poll(&self, s: usize) -> u16 {
        let Some(sock) = self.sockets.get(s) else {
            return POLLNVAL;
        };
        if sock.ty == SOCK_DGRAM {
            let mut m = POLLOUT | POLLWRNORM;
            if !sock.dgrams.is_empty() {
                m |= POLLIN | POLLRDNORM;
            }
            return m;
        }
        if sock.listening {
            return if sock.backlog.is_empty() {
                0
            } else {
                POLLIN | POLLRDNORM
            };
        }
        if sock.peer.is_none() {
            return POLLOUT | POLLHUP;
        }
        let mut m = 0;
        if !sock.rx.is_empty() || sock.eof || sock.shut_rd {
            m |= POLLIN | POLLRDNORM;
        }
        // Writable unless the peer's queue is full (a gone or shut peer
        // answers at once: EPIPE, or the bytes dropped).
        let full = sock
            .peer_sock
            .and_then(|p| self.sockets.get(p))
            .is_some_and(|p| !p.shut_rd && self.stream_room(p) == 0);
        if !sock.shut_wr && !full {
            m |= POLLOUT | POLLWRNORM;
        }
        if sock.peer_sock.is_none() && sock.eof {
            m |= POLLHUP;
        }
        if sock.error != 0 {
            m |= POLLERR;
        }
        m
    }

    /// SOCKFS's name of socket `s` (`socket[N]`): its `/proc/self/fd` path.
    pub(crate) fn socket_name(&self, s: usize) -> Vec<u8> {
        self.sockets
            .get(s)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }

    /// The `stat` of socket `s`.
    pub(crate) fn socket_stat(&self, s: usize) -> Stat {
        let ino = self.sockets.get(s).map(|s| s.ino).unwrap_or_default();
        Stat {
            dev: 1,
            ino,
            mode: S_IFSOCK | 0o777,
            nlink: 1,
            blksize: 4096,
            ..Stat::default()
        }
    }

    /// Bytes ready to read (`FIONREAD`).
    pub(crate) fn socket_pending(&self, s: usize) -> usize {
        self.sockets.get(s).map_or(0, |x| {
            if x.ty == SOCK_DGRAM {
                x.dgrams.front().map_or(0, |d| d.1.len())
            } else {
                x.rx.len()
            }
        })
    }

    /// `__syscall_socket(domain, type, protocol, ...)`.
    pub fn sys_socket(
        &mut self,
        _mem: &mut [u8],
        domain: i32,
        ty: i32,
        protocol: i32,
        _d1: i32,
        _d2: i32,
        _d3: i32,
    ) -> i32 {
        sys_ret((|| {
            if domain != AF_INET {
                return Err(Errno::EAFNOSUPPORT);
            }
            let base = ty & !(SOCK_NONBLOCK | SOCK_CLOEXEC);
            let proto = match (base, protocol) {
                (SOCK_STREAM, 0 | IPPROTO_TCP) => IPPROTO_TCP,
                (SOCK_DGRAM, 0 | IPPROTO_UDP) => IPPROTO_UDP,
                (SOCK_STREAM | SOCK_DGRAM, _) => return Err(Errno::EPROTONOSUPPORT),
                _ => return Err(Errno::EINVAL),
            };
            let ino = self.fs.alloc_ino();
            let name = self.stream_names.socket();
            let id = self.sockets.insert(Socket::new(ino, base, proto, name));
            let mut flags = O_RDWR;
            if ty & SOCK_NONBLOCK != 0 {
                flags |= O_NONBLOCK;
            }
            match self.fdt.open_new(
                Ofd::new(Target::Socket(id), flags, false),
                0,
                ty & SOCK_CLOEXEC != 0,
            ) {
                Ok(fd) => Ok(fd),
                Err(e) => {
                    self.sockets.remove(id);
                    Err(e)
                }
            }
        })())
    }

    /// `__syscall_bind(fd, addr, addrlen, ...)`.
    pub fn sys_bind(
        &mut self,
        mem: &mut [u8],
        fd: i32,
        addr: i32,
        addrlen: i32,
        _d1: i32,
        _d2: i32,
        _d3: i32,
    ) -> i32 {
        sys_ret((|| {
            let s = self.sock_of(fd)?;
            let a = read_sockaddr(mem, addr, addrlen)?;
            self.do_bind(s, a).map(|_| 0)
        })())
    }

    /// `__syscall_listen(fd, backlog, ...)`: at most `backlog + 1`
    /// connections wait for `accept` (`backlog` capped at `SOMAXCONN`).
    pub fn sys_listen(
        &mut self,
        _mem: &mut [u8],
        fd: i32,
        backlog: i32,
        _d1: i32,
        _d2: i32,
        _d3: i32,
        _d4: i32,
    ) -> i32 {
        sys_ret((|| {
            let s = self.sock_of(fd)?;
            let sock = self.sock(s)?;
            if sock.ty != SOCK_STREAM {
                return Err(Errno::EOPNOTSUPP);
            }
            if sock.peer.is_some() {
                return Err(Errno::EINVAL);
            }
            self.autobind(s)?;
            let l = self.sock_mut(s)?;
            l.listening = true;
            l.backlog_max = (backlog.max(0) as usize).min(SOMAXCONN) + 1;
            Ok(0)
        })())
    }

    /// `__syscall_connect(fd, addr, addrlen, ...)`: stream sockets connect
    /// to a listener on this host or get `ECONNREFUSED`; datagram sockets
    /// set their default destination.
    pub fn sys_connect(
        &mut self,
        mem: &mut [u8],
        fd: i32,
        addr: i32,
        addrlen: i32,
        _d1: i32,
        _d2: i32,
        _d3: i32,
    ) -> i32 {
        sys_ret((|| {
            let s = self.sock_of(fd)?;
            let dest = read_sockaddr(mem, addr, addrlen)?;
            let sock = self.sock(s)?;
            if sock.ty == SOCK_DGRAM {
                self.autobind(s)?;
                self.sock_mut(s)?.peer = Some(dest);
                return Ok(0);
            }
            if sock.listening {
                return Err(Errno::EINVAL);
            }
            if sock.peer.is_some() {
                return Err(Errno::EISCONN);
            }
            let listener = match self.ports.get(&(SOCK_STREAM, dest.port)) {
                Some(&l)
                    if is_local(dest.ip)
                        && self.sock(l)?.listening
                        && self.sock(l)?.backlog.len() < self.sock(l)?.backlog_max =>
                {
                    l
                }
                _ => {
                    self.sock_mut(s)?.error = 0;
                    return Err(Errno::ECONNREFUSED);
                }
            };
            let me = self.autobind(s)?;
            let me = SockAddr {
                ip: if me.ip == [0; 4] { LOOPBACK } else { me.ip },
                ..me
            };
            let lip = self
                .sock(listener)?
                .local
                .map_or(LOOPBACK, |a| if a.ip == [0; 4] { LOOPBACK } else { a.ip });
            let ino = self.fs.alloc_ino();
            let name = self.stream_names.socket();
            let mut server = Socket::new(ino, SOCK_STREAM, IPPROTO_TCP, name);
            server.local = Some(SockAddr {
                ip: lip,
                port: dest.port,
            });
            server.peer = Some(me);
            server.peer_sock = Some(s);
            let sid = self.sockets.insert(server);
            self.sock_mut(listener)?.backlog.push_back(sid);
            let c = self.sock_mut(s)?;
            c.local = Some(me);
            c.peer = Some(SockAddr {
                ip: lip,
                port: dest.port,
            });
            c.peer_sock = Some(sid);
            Ok(0)
        })())
    }

    /// `__syscall_accept4(fd, addr, addrlen, flags, ...)`: `EAGAIN` when
    /// no connection is pending.
    pub fn sys_accept4(
        &mut self,
        mem: &mut [u8],
        fd: i32,
        addr: i32,
        addrlen: i32,
        flags: i32,
        _d1: i32,
        _d2: i32,
    ) -> i32 {
        sys_ret((|| {
            let s = self.sock_of(fd)?;
            if !self.sock(s)?.listening {
                return Err(Errno::EINVAL);
            }
            if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
                return Err(Errno::EINVAL);
            }
            let Some(&n) = self.sock(s)?.backlog.front() else {
                return Err(Errno::EAGAIN);
            };
            let peer = self.sock(n)?.peer.unwrap_or_default();
            write_sockaddr(mem, addr, addrlen, peer)?;
            let mut of = O_RDWR;
            if flags & SOCK_NONBLOCK != 0 {
                of |= O_NONBLOCK;
            }
            let newfd = self.fdt.open_new(
                Ofd::new(Target::Socket(n), of, false),
                0,
                flags & SOCK_CLOEXEC != 0,
            )?;
            self.sock_mut(s)?.backlog.pop_front();
            Ok(newfd)
        })())
    }

    /// `__syscall_getsockname(fd, addr, addrlen, ...)`: 0.0.0.0:0 if unbound.
    pub fn sys_getsockname(
        &mut self,
        mem: &mut [u8],
        fd: i32,
        addr: i32,
        addrlen: i32,
        _d1: i32,
        _d2: i32,
        _d3: i32,
    ) -> i32 {
        sys_ret((|| {
            let s = self.sock_of(fd)?;
            let a = self.sock(s)?.local.unwrap_or_default();
            write_sockaddr(mem, addr, addrlen, a).map(|_| 0)
        })())
    }

    /// `__syscall_getpeername(fd, addr, addrlen, ...)`: `ENOTCONN` if not
    /// connected.
    pub fn sys_getpeername(
        &mut self,
        mem: &mut [u8],
        fd: i32,
        addr: i32,
        addrlen: i32,
        _d1: i32,
        _d2: i32,
        _d3: i32,
    ) -> i32 {
        sys_ret((|| {
            let s = self.sock_of(fd)?;
            let a = self.sock(s)?.peer.ok_or(Errno::ENOTCONN)?;
            write_sockaddr(mem, addr, addrlen, a).map(|_| 0)
        })())
    }

    /// `__syscall_getsockopt(fd, level, optname, optval, optlen, ...)`:
    /// `SO_ERROR` (and clears it), `SO_TYPE`, `SO_PROTOCOL`, `SO_DOMAIN`,
    /// `SO_ACCEPTCONN`, buffer sizes, and 0 for the common boolean options;
    /// `TCP_NODELAY`. Others: `ENOPROTOOPT`.
    pub fn sys_getsockopt(
        &mut self,
        mem: &mut [u8],
        fd: i32,
        level: i32,
        optname: i32,
        optval: i32,
        optlen: i32,
        _d1: i32,
    ) -> i32 {
        sys_ret((|| {
            let s = self.sock_of(fd)?;
            let sock = self.sock(s)?;
            let v = match (level, optname) {
                (SOL_SOCKET, 4) => {
                    let e = sock.error;
                    self.sock_mut(s)?.error = 0;
                    e
                }
                (SOL_SOCKET, 3) => sock.ty,
                (SOL_SOCKET, 38) => sock.protocol,
                (SOL_SOCKET, 39) => AF_INET,
                (SOL_SOCKET, 30) => sock.listening as i32,
                (SOL_SOCKET, 7 | 8) => 212_992,
                (SOL_SOCKET, 2 | 9 | 15) | (IPPROTO_TCP, 1) => 0,
                _ => return Err(Errno::ENOPROTOOPT),
            };
            let cap = guest::read_i32(mem, optlen as u32)?;
            if cap < 0 {
                return Err(Errno::EINVAL);
            }
            let bytes = v.to_le_bytes();
            let n = (cap as usize).min(4);
            guest::write_bytes(mem, optval as u32, &bytes[..n])?;
            guest::write_i32(mem, optlen as u32, n as i32)?;
            Ok(0)
        })())
    }

    /// `__syscall_sendto(fd, message, length, flags, addr, addr_len)`.
    pub fn sys_sendto(
        &mut self,
        mem: &mut [u8],
        fd: i32,
        message: i32,
        length: i32,
        _flags: i32,
        addr: i32,
        addr_len: i32,
    ) -> i32 {
        sys_ret((|| {
            let s = self.sock_of(fd)?;
            let to = if addr != 0 {
                Some(read_sockaddr(mem, addr, addr_len)?)
            } else {
                None
            };
            let data = guest::slice(mem, message as u32, length as u32)?;
            let to = if self.sock(s)?.ty == SOCK_STREAM {
                None
            } else {
                to
            };
            self.send_inner(s, data, to).map(|n| n as i32)
        })())
    }

    /// `__syscall_recvfrom(fd, buf, len, flags, addr, addrlen)`.
    pub fn sys_recvfrom(
        &mut self,
        mem: &mut [u8],
        fd: i32,
        buf: i32,
        len: i32,
        flags: i32,
        addr: i32,
        addrlen: i32,
    ) -> i32 {
        sys_ret((|| {
            let s = self.sock_of(fd)?;
            let dst = guest::slice_mut(mem, buf as u32, len as u32)?;
            let (n, from) = self.recv_inner(s, dst, flags)?;
            if let Some(from) = from {
                write_sockaddr(mem, addr, addrlen, from)?;
            }
            Ok(n as i32)
        })())
    }

    /// `__syscall_sendmsg(fd, message, flags, ...)`: gathers the iovecs
    /// of the `msghdr` (`msg_name` @0, `msg_namelen` @4, `msg_iov` @8,
    /// `msg_iovlen` @12).
    pub fn sys_sendmsg(
        &mut self,
        mem: &mut [u8],
        fd: i32,
        message: i32,
        _flags: i32,
        _d1: i32,
        _d2: i32,
        _d3: i32,
    ) -> i32 {
        sys_ret((|| {
            let s = self.sock_of(fd)?;
            let m = message as u32;
            let name = guest::read_u32(mem, m)?;
            let namelen = guest::read_i32(mem, m + 4)?;
            let iovs = guest::read_iovecs(
                mem,
                guest::read_u32(mem, m + 8)?,
                guest::read_u32(mem, m + 12)?,
            )?;
            // Several iovecs may name the same memory, so their total can
            // be far more than the memory: gather only what one send can
            // take (a datagram whole, or `EMSGSIZE`).
            let total = guest::iovecs_len(&iovs);
            let limit = if self.sock(s)?.ty == SOCK_DGRAM {
                if total > MAX_DGRAM as u64 {
                    return Err(Errno::EMSGSIZE);
                }
                total as usize
            } else {
                total.min(STREAM_BUFFER as u64) as usize
            };
            let mut data = Vec::new();
            data.try_reserve_exact(limit).map_err(|_| Errno::ENOMEM)?;
            for v in iovs {
                let src = guest::slice(mem, v.base, v.len)?;
                let take = src.len().min(limit - data.len());
                data.extend_from_slice(&src[..take]);
            }
            let to = if name != 0 && self.sock(s)?.ty == SOCK_DGRAM {
                Some(read_sockaddr(mem, name as i32, namelen)?)
            } else {
                None
            };
            self.send_inner(s, &data, to).map(|n| n as i32)
        })())
    }

    /// `__syscall_recvmsg(fd, message, flags, ...)`: scatters into the
    /// iovecs, fills `msg_name` when given, clears `msg_controllen` and
    /// `msg_flags`.
    pub fn sys_recvmsg(
        &mut self,
        mem: &mut [u8],
        fd: i32,
        message: i32,
        flags: i32,
        _d1: i32,
        _d2: i32,
        _d3: i32,
    ) -> i32 {
        sys_ret((|| {
            let s = self.sock_of(fd)?;
            let m = message as u32;
            let iovs = guest::read_iovecs(
                mem,
                guest::read_u32(mem, m + 8)?,
                guest::read_u32(mem, m + 12)?,
            )?;
            // Only what can be received is copied out (the iovecs' total
            // may be far more than the memory: they may overlap).
            let total = guest::iovecs_len(&iovs);
            let ready = (self.socket_pending(s) as u64).max(1);
            let mut tmp = Vec::new();
            let cap = total.min(ready) as usize;
            tmp.try_reserve_exact(cap).map_err(|_| Errno::ENOMEM)?;
            tmp.resize(cap, 0);
            let (n, from) = self.recv_inner(s, &mut tmp, flags)?;
            let mut off = 0;
            for v in iovs {
                if off >= n {
                    break;
                }
                let k = (v.len as usize).min(n - off);
                guest::write_bytes(mem, v.base, &tmp[off..off + k])?;
                off += k;
            }
            let name = guest::read_u32(mem, m)?;
            if let Some(from) = from
                && name != 0
            {
                write_sockaddr(mem, name as i32, (m + 4) as i32, from)?;
            }
            guest::write_u32(mem, m + 20, 0)?;
            guest::write_i32(mem, m + 24, 0)?;
            Ok(n as i32)
        })())
    }

    /// Pyodide's `_try_shutdown(fd, how, result)`: for our sockets performs
    /// `shutdown`, stores 0 or `-errno` at `result` and returns 1; for
    /// anything else returns 0 (not handled).
    pub fn try_shutdown(&mut self, mem: &mut [u8], fd: i32, how: i32, result: i32) -> i32 {
        let Ok(s) = self.sock_of(fd) else { return 0 };
        let r = self.shutdown_sock(s, how);
        let _ = guest::write_i32(mem, result as u32, sys_ret(r));
        1
    }

    /// `__syscall_shutdown(fd, how, ...)` (releases without
    /// `_try_shutdown`): `shutdown` on a socket descriptor, `ENOTSOCK`
    /// on any other.
    pub fn sys_shutdown(
        &mut self,
        _mem: &mut [u8],
        fd: i32,
        how: i32,
        _u1: i32,
        _u2: i32,
        _u3: i32,
        _u4: i32,
    ) -> i32 {
        sys_ret(self.sock_of(fd).and_then(|s| self.shutdown_sock(s, how)))
    }

    fn shutdown_sock(&mut self, s: usize, how: i32) -> SysResult<i32> {
        {
            if !(SHUT_RD..=SHUT_RDWR).contains(&how) {
                return Err(Errno::EINVAL);
            }
            let sock = self.sock_mut(s)?;
            if sock.peer.is_none() {
                return Err(Errno::ENOTCONN);
            }
            if how != SHUT_WR {
                sock.shut_rd = true;
            }
            if how != SHUT_RD {
                sock.shut_wr = true;
                if let Some(p) = sock.peer_sock
                    && let Some(peer) = self.sockets.get_mut(p)
                {
                    peer.eof = true;
                }
            }
            Ok(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::testutil::*;

    fn sin(m: &mut [u8], at: u32, ip: [u8; 4], port: u16) {
        m[at as usize..at as usize + 16].fill(0);
        m[at as usize..at as usize + 2].copy_from_slice(&2u16.to_le_bytes());
        m[at as usize + 2..at as usize + 4].copy_from_slice(&port.to_be_bytes());
        m[at as usize + 4..at as usize + 8].copy_from_slice(&ip);
    }

    fn port_of(m: &[u8], at: u32) -> u16 {
        u16::from_be_bytes([m[at as usize + 2], m[at as usize + 3]])
    }

    #[test]
    fn fallback_socketpair_dance() {
        let (mut k, mut m) = kernel();
        let mut g = G::new(&mut k, &mut m);
        let (sa, len) = (g.b.alloc(g.m, 16), g.b.alloc(g.m, 4));
        let lsock = g.k.sys_socket(g.m, 2, 1, 0, 0, 0, 0);
        assert_eq!(lsock, 3);
        sin(g.m, sa, LOOPBACK, 0);
        assert_eq!(g.k.sys_bind(g.m, lsock, sa as i32, 16, 0, 0, 0), 0);
        assert_eq!(g.k.sys_listen(g.m, lsock, 1, 0, 0, 0, 0), 0);
        wr_i32(g.m, len, 16);
        assert_eq!(
            g.k.sys_getsockname(g.m, lsock, sa as i32, len as i32, 0, 0, 0),
            0
        );
        let port = port_of(g.m, sa);
        assert!(port >= EPHEMERAL_START);
        assert_eq!(&g.m[sa as usize + 4..sa as usize + 8], &LOOPBACK);
        let csock = g.k.sys_socket(g.m, 2, 1 | SOCK_NONBLOCK, 0, 0, 0, 0);
        // Nothing pending yet.
        assert_eq!(g.k.sys_accept4(g.m, lsock, 0, 0, 0, 0, 0), -6);
        assert_eq!(g.k.sys_connect(g.m, csock, sa as i32, 16, 0, 0, 0), 0);
        assert_eq!(g.k.sys_connect(g.m, csock, sa as i32, 16, 0, 0, 0), -30);
        let peer = g.b.alloc(g.m, 16);
        wr_i32(g.m, len, 16);
        let ssock =
            g.k.sys_accept4(g.m, lsock, peer as i32, len as i32, 0, 0, 0);
        assert_eq!(ssock, 5);
        assert_eq!(g.k.sys_accept4(g.m, lsock, 0, 0, 0, 0, 0), -6);
        // The accepted socket's peer is the client's name.
        let cname = g.b.alloc(g.m, 16);
        wr_i32(g.m, len, 16);
        g.k.sys_getsockname(g.m, csock, cname as i32, len as i32, 0, 0, 0);
        assert_eq!(
            g.m[peer as usize..peer as usize + 16],
            g.m[cname as usize..cname as usize + 16]
        );
        wr_i32(g.m, len, 16);
        assert_eq!(
            g.k.sys_getpeername(g.m, csock, cname as i32, len as i32, 0, 0, 0),
            0
        );
        assert_eq!(port_of(g.m, cname), port);
        // Data both ways, through write/read and send/recv.
        assert_eq!(g.write(csock, b"hello"), Ok(5));
        assert_eq!(g.read(ssock, 100).unwrap(), b"hello");
        assert_eq!(g.read(ssock, 100), Err(6));
        let msg = g.b.bytes(g.m, b"back");
        assert_eq!(g.k.sys_sendto(g.m, ssock, msg as i32, 4, 0, 0, 0), 4);
        let rb = g.b.alloc(g.m, 16);
        assert_eq!(
            g.k.sys_recvfrom(g.m, csock, rb as i32, 16, MSG_PEEK, 0, 0),
            4
        );
        assert_eq!(g.k.sys_recvfrom(g.m, csock, rb as i32, 2, 0, 0, 0), 2);
        assert_eq!(&g.m[rb as usize..rb as usize + 2], b"ba");
        assert_eq!(g.k.sys_recvfrom(g.m, csock, rb as i32, 16, 0, 0, 0), 2);
        // Poll: writable, not readable; readable after a send.
        let pfd = g.b.alloc(g.m, 8);
        wr_i32(g.m, pfd, ssock);
        g.m[pfd as usize + 4..pfd as usize + 6].copy_from_slice(&(POLLIN | POLLOUT).to_le_bytes());
        assert_eq!(g.k.sys_poll(g.m, pfd as i32, 1, 0), 1);
        assert_eq!(rd_u16(g.m, pfd + 6), POLLOUT);
        g.write(csock, b"x").unwrap();
        g.k.sys_poll(g.m, pfd as i32, 1, 0);
        assert_eq!(rd_u16(g.m, pfd + 6), POLLIN | POLLOUT);
        // Shutdown of the client's write side: the server reads EOF.
        let res = g.b.alloc(g.m, 4);
        assert_eq!(g.k.try_shutdown(g.m, csock, SHUT_WR, res as i32), 1);
        assert_eq!(rd_i32(g.m, res), 0);
        assert_eq!(g.read(ssock, 10).unwrap(), b"x");
        assert_eq!(g.read(ssock, 10).unwrap(), b"");
        assert_eq!(g.write(csock, b"y"), Err(64));
        assert_eq!(g.k.try_shutdown(g.m, 1, SHUT_WR, res as i32), 0);
        // Closing the server: client reads EOF, its writes break.
        g.close(ssock);
        g.close(lsock);
        assert_eq!(g.read(csock, 10).unwrap(), b"");
        // The port is free again; nobody listens there now.
        let s3 = g.k.sys_socket(g.m, 2, 1, 0, 0, 0, 0);
        assert_eq!(g.k.sys_connect(g.m, s3, sa as i32, 16, 0, 0, 0), -14);
        let st = g.fstat(csock).unwrap();
        assert_eq!(st.mode & S_IFMT, S_IFSOCK);
    }

    #[test]
    fn errors_and_options() {
        let (mut k, mut m) = kernel();
        let mut g = G::new(&mut k, &mut m);
        assert_eq!(g.k.sys_socket(g.m, 10, 1, 0, 0, 0, 0), -5);
        assert_eq!(g.k.sys_socket(g.m, 2, 5, 0, 0, 0, 0), -28);
        let s = g.k.sys_socket(g.m, 2, 1, 0, 0, 0, 0);
        let sa = g.b.alloc(g.m, 16);
        sin(g.m, sa, [10, 0, 0, 1], 80);
        assert_eq!(g.k.sys_bind(g.m, s, sa as i32, 16, 0, 0, 0), -4);
        assert_eq!(g.k.sys_connect(g.m, s, sa as i32, 16, 0, 0, 0), -14);
        sin(g.m, sa, [0, 0, 0, 0], 5000);
        assert_eq!(g.k.sys_bind(g.m, s, sa as i32, 8, 0, 0, 0), -28);
        assert_eq!(g.k.sys_bind(g.m, s, sa as i32, 16, 0, 0, 0), 0);
        let s2 = g.k.sys_socket(g.m, 2, 1, 0, 0, 0, 0);
        assert_eq!(g.k.sys_bind(g.m, s2, sa as i32, 16, 0, 0, 0), -3);
        assert_eq!(g.k.sys_getpeername(g.m, s, sa as i32, 0, 0, 0, 0), -53);
        assert_eq!(g.k.sys_bind(g.m, 1, sa as i32, 16, 0, 0, 0), -57);
        let (ov, ol) = (g.b.alloc(g.m, 4), g.b.alloc(g.m, 4));
        wr_i32(g.m, ol, 4);
        assert_eq!(
            g.k.sys_getsockopt(g.m, s, SOL_SOCKET, 3, ov as i32, ol as i32, 0),
            0
        );
        assert_eq!(rd_i32(g.m, ov), SOCK_STREAM);
        assert_eq!(
            g.k.sys_getsockopt(g.m, s, SOL_SOCKET, 4, ov as i32, ol as i32, 0),
            0
        );
        assert_eq!(rd_i32(g.m, ov), 0);
        assert_eq!(
            g.k.sys_getsockopt(g.m, s, 99, 4, ov as i32, ol as i32, 0),
            -50
        );
        // FIONBIO and fcntl on sockets.
        let va = g.b.alloc(g.m, 4);
        wr_i32(g.m, va, ov as i32);
        wr_i32(g.m, ov, 1);
        assert_eq!(g.k.sys_ioctl(g.m, s, FIONBIO, va as i32), 0);
        assert_eq!(
            g.k.sys_fcntl64(g.m, s, F_GETFL, 0),
            (O_RDWR | O_NONBLOCK) as i32
        );
    }

    #[test]
    fn datagrams() {
        let (mut k, mut m) = kernel();
        let mut g = G::new(&mut k, &mut m);
        let a = g.k.sys_socket(g.m, 2, 2, 0, 0, 0, 0);
        let b = g.k.sys_socket(g.m, 2, 2, 0, 0, 0, 0);
        let sa = g.b.alloc(g.m, 16);
        sin(g.m, sa, LOOPBACK, 6000);
        assert_eq!(g.k.sys_bind(g.m, a, sa as i32, 16, 0, 0, 0), 0);
        let msg = g.b.bytes(g.m, b"dgram");
        assert_eq!(g.k.sys_sendto(g.m, b, msg as i32, 5, 0, sa as i32, 16), 5);
        let (from, len, buf) = (g.b.alloc(g.m, 16), g.b.alloc(g.m, 4), g.b.alloc(g.m, 3));
        wr_i32(g.m, len, 16);
        assert_eq!(
            g.k.sys_recvfrom(g.m, a, buf as i32, 3, 0, from as i32, len as i32),
            3
        );
        assert_eq!(&g.m[buf as usize..buf as usize + 3], b"dgr");
        assert!(port_of(g.m, from) >= EPHEMERAL_START);
        assert_eq!(g.k.sys_recvfrom(g.m, a, buf as i32, 3, 0, 0, 0), -6);
    }
}
