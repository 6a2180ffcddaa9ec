//! The guest cannot make the host hold unbounded memory: the file-data
//! budget, sparse files, pipe and socket capacities.

use std::time::{Duration, Instant};

use super::consts::*;
use super::filedata::RUN_COST;
use super::testutil::*;
use super::*;

const ENOSPC: i32 = 51;
const EAGAIN: i32 = 6;
const KIB: u32 = 1024;
/// What one stored run costs beyond its bytes.
const R: u64 = RUN_COST;

/// A kernel with a file-data budget of `budget` bytes and `mem` bytes of
/// guest memory.
fn kernel_with_budget(budget: Option<u64>, mem: usize) -> (Kernel, Vec<u8>) {
    let cfg = KernelConfig {
        fs_budget: budget,
        ..KernelConfig::captured(Capture::new(), Capture::new())
    };
    (Kernel::new(cfg), vec![0u8; mem])
}

/// `write(fd, buf, len)` of `len` bytes already in guest memory at `buf`
/// (the bump allocator of `G` would run out for big writes).
fn write_raw(g: &mut G, fd: i32, buf: u32, len: u32) -> Result<u32, i32> {
    let iov = g.b.alloc(g.m, 12);
    g.m[iov as usize..iov as usize + 4].copy_from_slice(&buf.to_le_bytes());
    g.m[iov as usize + 4..iov as usize + 8].copy_from_slice(&len.to_le_bytes());
    match g.k.fd_write(g.m, fd, iov as i32, 1, iov as i32 + 8) {
        0 => Ok(rd_u32(g.m, iov + 8)),
        e => Err(e),
    }
}

/// `pwrite` of `data` at `off`.
fn pwrite(g: &mut G, fd: i32, data: &[u8], off: i64) -> Result<u32, i32> {
    let buf = g.b.bytes(g.m, data);
    let iov = g.b.alloc(g.m, 12);
    g.m[iov as usize..iov as usize + 4].copy_from_slice(&buf.to_le_bytes());
    g.m[iov as usize + 4..iov as usize + 8].copy_from_slice(&(data.len() as u32).to_le_bytes());
    match g.k.fd_pwrite(g.m, fd, iov as i32, 1, off, iov as i32 + 8) {
        0 => Ok(rd_u32(g.m, iov + 8)),
        e => Err(e),
    }
}

/// `pread` of `n` bytes at `off`.
fn pread(g: &mut G, fd: i32, n: u32, off: i64) -> Result<Vec<u8>, i32> {
    let buf = g.b.alloc(g.m, n);
    g.m[buf as usize..(buf + n) as usize].fill(0xAA);
    let iov = g.b.alloc(g.m, 12);
    g.m[iov as usize..iov as usize + 4].copy_from_slice(&buf.to_le_bytes());
    g.m[iov as usize + 4..iov as usize + 8].copy_from_slice(&n.to_le_bytes());
    match g.k.fd_pread(g.m, fd, iov as i32, 1, off, iov as i32 + 8) {
        0 => {
            let got = rd_u32(g.m, iov + 8) as usize;
            Ok(g.m[buf as usize..buf as usize + got].to_vec())
        }
        e => Err(e),
    }
}

#[test]
fn the_budget_fills_up_and_unlink_frees_it() {
    // Room for one run of 1 MiB.
    let (mut k, mut m) = kernel_with_budget(Some((1 << 20) + R), 4 << 20);
    // Host placements do not count, however big.
    k.write_file("/tmp/placed", vec![7u8; 3 << 20]).unwrap();
    assert_eq!(k.fs_bytes_used(), 0);
    let mut g = G::new(&mut k, &mut m);
    let chunk = g.b.alloc(g.m, 512 * KIB);
    let fd = g.open("/tmp/a", O_WRONLY | O_CREAT, 0o644);
    assert_eq!(write_raw(&mut g, fd, chunk, 512 * KIB), Ok(512 * KIB));
    assert_eq!(write_raw(&mut g, fd, chunk, 512 * KIB), Ok(512 * KIB));
    assert_eq!(g.k.fs_bytes_used(), (1 << 20) + R);
    // Full: like a full disk.
    assert_eq!(write_raw(&mut g, fd, chunk, 1), Err(ENOSPC));
    let other = g.open("/tmp/b", O_WRONLY | O_CREAT, 0o644);
    assert_eq!(g.write(other, b"x"), Err(ENOSPC));
    assert_eq!(g.fstat(fd).unwrap().size, 1 << 20);
    // Unlinked but open: still held; the last close frees it.
    assert_eq!(g.unlink("/tmp/a", 0), 0);
    assert_eq!(g.k.fs_bytes_used(), (1 << 20) + R);
    assert_eq!(g.close(fd), 0);
    assert_eq!(g.k.fs_bytes_used(), 0);
    assert_eq!(g.write(other, b"x"), Ok(1));
    // Truncating down gives bytes back too.
    assert_eq!(write_raw(&mut g, other, chunk, 512 * KIB), Ok(512 * KIB));
    assert_eq!(g.k.sys_ftruncate64(g.m, other, 100), 0);
    assert_eq!(g.k.fs_bytes_used(), 100 + R);
    // A write into a host-placed file costs only what it adds.
    let placed = g.open("/tmp/placed", O_WRONLY, 0);
    assert_eq!(pwrite(&mut g, placed, b"abc", 10), Ok(3));
    assert_eq!(g.k.fs_bytes_used(), 100 + R);
    assert_eq!(
        g.k.read_file("/tmp/placed").unwrap()[9..14],
        [7, b'a', b'b', b'c', 7]
    );
    // Replacing a file from the host gives its charged bytes back.
    g.k.write_file("/tmp/b", &b"host"[..]).unwrap();
    assert_eq!(g.k.fs_bytes_used(), 0);
}

#[test]
fn a_terabyte_ftruncate_is_free_and_sparse() {
    let (mut k, mut m) = kernel_with_budget(Some(1 << 20), MEM);
    let mut g = G::new(&mut k, &mut m);
    let fd = g.open("/tmp/sparse", O_RDWR | O_CREAT, 0o644);
    let t = Instant::now();
    assert_eq!(g.k.sys_ftruncate64(g.m, fd, 1 << 40), 0);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(g.k.fs_bytes_used(), 0);
    let st = g.fstat(fd).unwrap();
    assert_eq!(st.size, 1 << 40);
    assert_eq!(g.seek(fd, 0, SEEK_END), Ok(1 << 40));
    // A hole reads as zeros.
    assert_eq!(pread(&mut g, fd, 100, 1 << 39).unwrap(), vec![0u8; 100]);
    // Writing far out counts only the bytes written (and their runs).
    assert_eq!(pwrite(&mut g, fd, b"far", (1 << 40) - 3), Ok(3));
    assert_eq!(pwrite(&mut g, fd, b"x", 5 << 30), Ok(1));
    assert_eq!(g.k.fs_bytes_used(), 4 + 2 * R);
    assert_eq!(pread(&mut g, fd, 8, (1 << 40) - 5).unwrap(), b"\0\0far");
    assert_eq!(pread(&mut g, fd, 3, (5 << 30) - 1).unwrap(), b"\0x\0");
    // Writing past the end of a sparse file leaves a hole, not zeros.
    assert_eq!(pwrite(&mut g, fd, b"end", (1 << 41) + 7), Ok(3));
    assert_eq!(g.fstat(fd).unwrap().size, (1 << 41) + 10);
    assert_eq!(g.k.fs_bytes_used(), 7 + 3 * R);
    // Copying it out for the host is refused, not an abort.
    assert_eq!(g.k.read_file("/tmp/sparse").unwrap_err(), Errno::ENOMEM);
    // Truncating back frees what was past the new end.
    assert_eq!(g.k.sys_ftruncate64(g.m, fd, 1 << 40), 0);
    assert_eq!(g.k.fs_bytes_used(), 4 + 2 * R);
    assert_eq!(g.k.sys_ftruncate64(g.m, fd, 0), 0);
    assert_eq!(g.k.fs_bytes_used(), 0);
    // Past the largest file size: EFBIG.
    assert_eq!(g.k.sys_ftruncate64(g.m, fd, i64::MAX), -22);
    assert_eq!(pwrite(&mut g, fd, b"x", i64::MAX - 1), Err(22));
    // fallocate stores what it reserves: over the budget it is ENOSPC.
    assert_eq!(g.k.sys_fallocate(g.m, fd, 0, 0, 1 << 30), -ENOSPC);
    assert_eq!(g.k.sys_fallocate(g.m, fd, 0, 0, 1000), 0);
    assert_eq!(g.k.fs_bytes_used(), 1000 + R);
}

#[test]
fn kernel_clones_have_their_own_budget() {
    let (mut k, mut m) = kernel_with_budget(Some((1 << 20) + R), 2 << 20);
    let mut g = G::new(&mut k, &mut m);
    let chunk = g.b.alloc(g.m, 768 * KIB);
    let fd = g.open("/tmp/a", O_WRONLY | O_CREAT, 0o644);
    assert_eq!(write_raw(&mut g, fd, chunk, 768 * KIB), Ok(768 * KIB));
    g.close(fd);
    let mut clone = g.k.clone();
    assert_eq!(clone.fs_bytes_used(), (768 << 10) + R);
    // The clone frees its copy: the original still holds its own.
    clone.remove("/tmp/a").unwrap();
    assert_eq!(clone.fs_bytes_used(), 0);
    assert_eq!(g.k.fs_bytes_used(), (768 << 10) + R);
    {
        let mut m2 = vec![0u8; 2 << 20];
        let mut g2 = G::new(&mut clone, &mut m2);
        let chunk2 = g2.b.alloc(g2.m, 1 << 20);
        let fd2 = g2.open("/tmp/c", O_WRONLY | O_CREAT, 0o644);
        assert_eq!(write_raw(&mut g2, fd2, chunk2, 1 << 20), Ok(1 << 20));
    }
    assert_eq!(clone.fs_bytes_used(), (1 << 20) + R);
    // The original's budget has not moved: 256 KiB are left there.
    let fd = g.open("/tmp/a", O_WRONLY | O_APPEND, 0);
    assert_eq!(write_raw(&mut g, fd, chunk, 512 * KIB), Err(ENOSPC));
    assert_eq!(write_raw(&mut g, fd, chunk, 256 * KIB), Ok(256 * KIB));
    assert_eq!(g.k.read_file("/tmp/a").unwrap().len(), 1 << 20);
    assert!(clone.read_file("/tmp/a").is_err());
}

#[test]
fn a_pipe_holds_64_kib() {
    let (mut k, mut m) = kernel();
    let mut g = G::new(&mut k, &mut m);
    let fds = g.b.alloc(g.m, 8);
    assert_eq!(g.k.sys_pipe(g.m, fds as i32), 0);
    let (r, w) = (rd_i32(g.m, fds), rd_i32(g.m, fds + 4));
    let va = g.b.alloc(g.m, 4);
    wr_i32(g.m, va, O_NONBLOCK as i32);
    assert_eq!(g.k.sys_fcntl64(g.m, w, F_SETFL, va as i32), 0);
    let chunk = g.b.alloc(g.m, 8192);
    for _ in 0..16 {
        assert_eq!(write_raw(&mut g, w, chunk, 4096), Ok(4096));
    }
    assert_eq!(write_raw(&mut g, w, chunk, 1), Err(EAGAIN));
    let cnt = g.b.alloc(g.m, 4);
    wr_i32(g.m, va, cnt as i32);
    assert_eq!(g.k.sys_ioctl(g.m, r, FIONREAD, va as i32), 0);
    assert_eq!(rd_i32(g.m, cnt), 65536);
    // poll: the write end is not writable while full.
    let pfd = g.b.alloc(g.m, 16);
    let poll = |g: &mut G| {
        wr_i32(g.m, pfd, r);
        g.m[pfd as usize + 4..pfd as usize + 6].copy_from_slice(&POLLIN.to_le_bytes());
        wr_i32(g.m, pfd + 8, w);
        g.m[pfd as usize + 12..pfd as usize + 14].copy_from_slice(&POLLOUT.to_le_bytes());
        g.k.sys_poll(g.m, pfd as i32, 2, 0);
        (rd_u16(g.m, pfd + 6), rd_u16(g.m, pfd + 14))
    };
    assert_eq!(poll(&mut g), (POLLIN, 0));
    // 100 bytes of room: writes up to PIPE_BUF are atomic, larger ones
    // partial.
    assert_eq!(g.read(r, 100).unwrap().len(), 100);
    assert_eq!(write_raw(&mut g, w, chunk, 200), Err(EAGAIN));
    assert_eq!(poll(&mut g), (POLLIN, 0));
    assert_eq!(write_raw(&mut g, w, chunk, 5000), Ok(100));
    assert_eq!(g.read(r, 8192).unwrap().len(), 8192);
    assert_eq!(poll(&mut g), (POLLIN, POLLOUT));
    assert_eq!(write_raw(&mut g, w, chunk, 5000), Ok(5000));
    // A blocking write end cannot wait either: a partial write, then
    // EAGAIN.
    wr_i32(g.m, va, 0);
    assert_eq!(g.k.sys_fcntl64(g.m, w, F_SETFL, va as i32), 0);
    assert_eq!(write_raw(&mut g, w, chunk, 8192), Ok(8192 - 5000));
    assert_eq!(write_raw(&mut g, w, chunk, 8192), Err(EAGAIN));
    // With the read end closed, writes succeed and nothing is kept.
    g.close(r);
    for _ in 0..100 {
        assert_eq!(write_raw(&mut g, w, chunk, 8192), Ok(8192));
    }
    assert!(g.k.pipes.get(0).is_some_and(|p| p.len() <= 65536));
}

/// Stores `127.0.0.1:port` as a `sockaddr_in` at `at`.
fn sin(m: &mut [u8], at: u32, port: u16) {
    m[at as usize..at as usize + 16].fill(0);
    m[at as usize..at as usize + 2].copy_from_slice(&2u16.to_le_bytes());
    m[at as usize + 2..at as usize + 4].copy_from_slice(&port.to_be_bytes());
    m[at as usize + 4..at as usize + 8].copy_from_slice(&[127, 0, 0, 1]);
}

/// A listening stream socket on 127.0.0.1 with `backlog`, and its
/// address (a `sockaddr_in` in guest memory).
fn listener(g: &mut G, backlog: i32) -> (i32, u32) {
    let (sa, len) = (g.b.alloc(g.m, 16), g.b.alloc(g.m, 4));
    sin(g.m, sa, 0);
    let l = g.k.sys_socket(g.m, 2, 1, 0, 0, 0, 0);
    assert_eq!(g.k.sys_bind(g.m, l, sa as i32, 16, 0, 0, 0), 0);
    assert_eq!(g.k.sys_listen(g.m, l, backlog, 0, 0, 0, 0), 0);
    wr_i32(g.m, len, 16);
    assert_eq!(
        g.k.sys_getsockname(g.m, l, sa as i32, len as i32, 0, 0, 0),
        0
    );
    (l, sa)
}

/// A non-blocking client connected to `sa`, or `-errno`.
fn connect(g: &mut G, sa: u32) -> Result<i32, i32> {
    let c = g.k.sys_socket(g.m, 2, 1 | O_NONBLOCK as i32, 0, 0, 0, 0);
    match g.k.sys_connect(g.m, c, sa as i32, 16, 0, 0, 0) {
        0 => Ok(c),
        e => {
            g.close(c);
            Err(e)
        }
    }
}

/// A connected non-blocking pair (client, server) through `l` at `sa`.
fn pair(g: &mut G, l: i32, sa: u32) -> (i32, i32) {
    let c = connect(g, sa).unwrap();
    let s = g.k.sys_accept4(g.m, l, 0, 0, O_NONBLOCK as i32, 0, 0);
    assert!(s >= 0, "{s}");
    (c, s)
}

/// `send(fd, buf, len)`.
fn send(g: &mut G, fd: i32, buf: u32, len: u32) -> i32 {
    g.k.sys_sendto(g.m, fd, buf as i32, len as i32, 0, 0, 0)
}

/// Sends `buf` until `EAGAIN`; returns the bytes sent.
fn fill(g: &mut G, fd: i32, buf: u32, len: u32) -> usize {
    let mut total = 0;
    loop {
        match send(g, fd, buf, len) {
            n if n > 0 => total += n as usize,
            e => {
                assert_eq!(e, -EAGAIN);
                return total;
            }
        }
    }
}

/// `poll` of one descriptor for `POLLIN | POLLOUT`: the revents.
fn poll1(g: &mut G, fd: i32) -> u16 {
    let pfd = g.b.alloc(g.m, 8);
    wr_i32(g.m, pfd, fd);
    g.m[pfd as usize + 4..pfd as usize + 6].copy_from_slice(&(POLLIN | POLLOUT).to_le_bytes());
    g.k.sys_poll(g.m, pfd as i32, 1, 0);
    rd_u16(g.m, pfd + 6)
}

#[test]
fn a_socket_send_buffer_fills_up() {
    use super::socket::{SOCKET_MEMORY, STREAM_BUFFER};
    let (mut k, mut m) = kernel();
    let mut g = G::new(&mut k, &mut m);
    let (l, sa) = listener(&mut g, 16);
    let (c, s) = pair(&mut g, l, sa);
    let chunk = g.b.alloc(g.m, 64 * KIB);
    assert_eq!(poll1(&mut g, c), POLLOUT);
    assert_eq!(fill(&mut g, c, chunk, 64 * KIB), STREAM_BUFFER);
    // Full: not writable; the peer is readable.
    assert_eq!(poll1(&mut g, c), 0);
    assert_eq!(poll1(&mut g, s), POLLIN | POLLOUT);
    // Room for 1000 bytes: writable again, and a send is partial.
    assert_eq!(g.read(s, 1000).unwrap().len(), 1000);
    assert_eq!(poll1(&mut g, c), POLLOUT);
    assert_eq!(send(&mut g, c, chunk, 64 * KIB), 1000);
    // A blocking socket cannot wait for its own peer either.
    let va = g.b.alloc(g.m, 4);
    wr_i32(g.m, va, 0);
    assert_eq!(g.k.sys_fcntl64(g.m, c, F_SETFL, va as i32), 0);
    assert_eq!(send(&mut g, c, chunk, 64 * KIB), -EAGAIN);
    // The other direction has its own buffer.
    assert_eq!(send(&mut g, s, chunk, 10), 10);
    // All queues together are bounded too.
    let conns = SOCKET_MEMORY / STREAM_BUFFER;
    for _ in 1..conns {
        let (c2, _) = pair(&mut g, l, sa);
        let put = fill(&mut g, c2, chunk, 64 * KIB);
        assert!(put > 0 && put <= STREAM_BUFFER, "{put}");
    }
    let (c3, s3) = pair(&mut g, l, sa);
    assert_eq!(send(&mut g, c3, chunk, 1), -EAGAIN);
    assert_eq!(poll1(&mut g, c3), 0);
    assert_eq!(g.read(s, 100).unwrap().len(), 100);
    assert_eq!(send(&mut g, c3, chunk, 64 * KIB), 100);
    assert_eq!(g.read(s3, 1000).unwrap().len(), 100);
    // Closing a socket gives its queue back.
    g.close(s);
    assert_eq!(send(&mut g, c3, chunk, 64 * KIB), 64 * KIB as i32);
}

#[test]
fn datagrams_and_backlogs_are_bounded() {
    use super::socket::{DGRAM_BUFFER, MAX_DGRAM};
    let (mut k, mut m) = kernel();
    let mut g = G::new(&mut k, &mut m);
    let a = g.k.sys_socket(g.m, 2, 2, 0, 0, 0, 0);
    let b = g.k.sys_socket(g.m, 2, 2, 0, 0, 0, 0);
    let sa = g.b.alloc(g.m, 16);
    sin(g.m, sa, 6001);
    assert_eq!(g.k.sys_bind(g.m, a, sa as i32, 16, 0, 0, 0), 0);
    let msg = g.b.alloc(g.m, 70_000);
    let sendto = |g: &mut G, n: usize| {
        g.k.sys_sendto(g.m, b, msg as i32, n as i32, 0, sa as i32, 16)
    };
    assert_eq!(sendto(&mut g, MAX_DGRAM + 1), -35); // EMSGSIZE
    let fits = DGRAM_BUFFER / 65_000;
    for _ in 0..fits + 2 {
        assert_eq!(sendto(&mut g, 65_000), 65_000);
    }
    let buf = g.b.alloc(g.m, 65_000);
    for _ in 0..fits {
        assert_eq!(
            g.k.sys_recvfrom(g.m, a, buf as i32, 65_000, 0, 0, 0),
            65_000
        );
    }
    // The rest were dropped, as UDP drops what the receiver cannot hold.
    assert_eq!(
        g.k.sys_recvfrom(g.m, a, buf as i32, 65_000, 0, 0, 0),
        -EAGAIN
    );
    // A listener keeps backlog + 1 connections waiting for accept.
    let (l, lsa) = listener(&mut g, 1);
    let first = connect(&mut g, lsa).unwrap();
    connect(&mut g, lsa).unwrap();
    assert_eq!(connect(&mut g, lsa), Err(-14)); // ECONNREFUSED
    assert!(g.k.sys_accept4(g.m, l, 0, 0, 0, 0, 0) >= 0);
    connect(&mut g, lsa).unwrap();
    assert!(first >= 0);
}
