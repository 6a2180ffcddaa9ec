//! Behaviour tests of stdio, devices, pipes, poll, ioctl and the WASI
//! process-level calls.

use std::sync::Arc;

use super::consts::*;
use super::testutil::*;
use super::*;

#[test]
fn stdout_stderr_and_tty_devices() {
    let (mut k, mut m, out, err) = kernel_with_stdout();
    let mut g = G::new(&mut k, &mut m);
    assert_eq!(g.write(1, b"out\n"), Ok(4));
    assert_eq!(g.write(2, b"err\n"), Ok(4));
    let tty = g.open("/dev/tty", O_WRONLY, 0);
    g.write(tty, b"via tty\n").unwrap();
    let fd = g.open("/dev/stderr", O_WRONLY, 0);
    g.write(fd, b"2").unwrap();
    assert_eq!(g.seek(1, 0, SEEK_SET), Err(70));
    assert_eq!(out.contents(), b"out\nvia tty\n");
    assert_eq!(err.contents(), b"err\n2");
    // /dev/null, /dev/urandom; Emscripten 5 has no /dev/zero.
    let null = g.open("/dev/null", O_RDWR, 0);
    assert_eq!(g.write(null, b"gone"), Ok(4));
    assert_eq!(g.read(null, 10).unwrap(), b"");
    assert_eq!(g.open("/dev/zero", O_RDONLY, 0), -44);
    let r = g.open("/dev/urandom", O_RDONLY, 0);
    let a = g.read(r, 32).unwrap();
    let b = g.read(r, 32).unwrap();
    assert_eq!(a.len(), 32);
    assert_ne!(a, b);
}

#[test]
fn stdin_reads_source() {
    let cfg = KernelConfig {
        stdin: Arc::new(BytesInput::new("line1\nrest")),
        ..KernelConfig::captured(Capture::new(), Capture::new())
    };
    let mut k = Kernel::new(cfg);
    let mut m = vec![0u8; MEM];
    let mut g = G::new(&mut k, &mut m);
    assert_eq!(g.read(0, 100).unwrap(), b"line1\nrest");
    assert_eq!(g.read(0, 100).unwrap(), b"");
    assert_eq!(g.write(0, b"x"), Err(8));
}

#[test]
fn isatty_follows_the_sinks() {
    let (mut k, mut m) = kernel();
    let buf = 4096;
    // Captured (non-TTY) stdout: fdstat says regular file, ioctl ENOTTY.
    assert_eq!(k.fd_fdstat_get(&mut m, 1, buf), 0);
    assert_eq!(m[buf as usize], 4);
    assert!(!k.isatty(1));
    assert_eq!(k.sys_ioctl(&mut m, 1, TCGETS, 0), -59);
    // /dev/tty is always a terminal.
    let mut g = G::new(&mut k, &mut m);
    let t = g.open("/dev/tty", O_RDWR, 0);
    let va = g.b.alloc(g.m, 4);
    let termios = g.b.alloc(g.m, 60);
    wr_i32(g.m, va, termios as i32);
    assert_eq!(g.k.sys_ioctl(g.m, t, TCGETS, va as i32), 0);
    assert_eq!(rd_u32(g.m, termios), 25856);
    assert_eq!(g.m[termios as usize + 17], 3);
    let ws = g.b.alloc(g.m, 8);
    wr_i32(g.m, va, ws as i32);
    assert_eq!(g.k.sys_ioctl(g.m, t, TIOCGWINSZ, va as i32), 0);
    assert_eq!((rd_u16(g.m, ws), rd_u16(g.m, ws + 2)), (24, 80));
    assert_eq!(g.k.fd_fdstat_get(g.m, t, buf), 0);
    assert_eq!(g.m[buf as usize], 2);
    // /dev/null is a character device but not a terminal.
    let n = g.open("/dev/null", O_RDONLY, 0);
    assert_eq!(g.k.fd_fdstat_get(g.m, n, buf), 0);
    assert_eq!(g.m[buf as usize], 4);
    assert_eq!(g.k.fd_fdstat_get(g.m, 42, buf), 8);
    // A TTY stdout (Pyodide's device): TCGETS succeeds without writing.
    let cfg = KernelConfig {
        stdout: Arc::new(Capture::tty()),
        ..KernelConfig::captured(Capture::new(), Capture::new())
    };
    let mut k2 = Kernel::new(cfg);
    m[termios as usize..termios as usize + 4].fill(0xAA);
    wr_i32(&mut m, va, termios as i32);
    assert_eq!(k2.sys_ioctl(&mut m, 1, TCGETS, va as i32), 0);
    assert_eq!(rd_u32(&m, termios), 0xAAAA_AAAA);
    assert!(k2.isatty(1));
    assert!(!k2.isatty(2));
    // During Pyodide's boot, redirected stdio still answers as a TTY.
    let ws2 = 8192;
    wr_i32(&mut m, va, ws2);
    assert_eq!(k.sys_ioctl(&mut m, 1, TIOCGWINSZ, va as i32), -59);
    k.set_stdio_boot_tty(true);
    assert_eq!(k.sys_ioctl(&mut m, 0, TIOCGWINSZ, va as i32), 0);
    assert_eq!(k.sys_ioctl(&mut m, 1, TIOCGWINSZ, va as i32), 0);
    assert_eq!(k.sys_ioctl(&mut m, n, TIOCGWINSZ, va as i32), -59);
    k.set_stdio_boot_tty(false);
    assert_eq!(k.sys_ioctl(&mut m, 1, TIOCGWINSZ, va as i32), -59);
}

#[test]
fn pipes_and_poll() {
    let (mut k, mut m) = kernel();
    let mut g = G::new(&mut k, &mut m);
    let fds = g.b.alloc(g.m, 8);
    assert_eq!(g.k.sys_pipe(g.m, fds as i32), 0);
    let (r, w) = (rd_i32(g.m, fds), rd_i32(g.m, fds + 4));
    assert_eq!((r, w), (3, 4));
    assert_eq!(g.read(r, 10), Err(6));
    let st = g.fstat(r).unwrap();
    assert_eq!(st.mode, S_IFIFO | 0o600);
    assert_eq!(g.seek(r, 0, SEEK_SET), Err(70));
    let pfd = g.b.alloc(g.m, 16);
    let setp = |m: &mut Vec<u8>, i: u32, fd: i32, ev: u16| {
        wr_i32(m, pfd + 8 * i, fd);
        m[(pfd + 8 * i + 4) as usize..(pfd + 8 * i + 6) as usize]
            .copy_from_slice(&ev.to_le_bytes());
    };
    setp(g.m, 0, r, POLLIN);
    setp(g.m, 1, w, POLLOUT);
    assert_eq!(g.k.sys_poll(g.m, pfd as i32, 2, 0), 1);
    assert_eq!(rd_u16(g.m, pfd + 6), 0);
    assert_eq!(rd_u16(g.m, pfd + 14), POLLOUT);
    g.write(w, b"ping").unwrap();
    assert_eq!(g.k.sys_poll(g.m, pfd as i32, 2, 0), 2);
    assert_eq!(rd_u16(g.m, pfd + 6), POLLIN);
    let va = g.b.alloc(g.m, 4);
    let cnt = g.b.alloc(g.m, 4);
    wr_i32(g.m, va, cnt as i32);
    assert_eq!(g.k.sys_ioctl(g.m, r, FIONREAD, va as i32), 0);
    assert_eq!(rd_i32(g.m, cnt), 4);
    assert_eq!(g.read(r, 2).unwrap(), b"pi");
    g.close(w);
    assert_eq!(g.read(r, 10).unwrap(), b"ng");
    // PIPEFS: no end of file and no POLLHUP once the writer is gone.
    assert_eq!(g.read(r, 10), Err(6));
    setp(g.m, 0, r, POLLIN);
    assert_eq!(g.k.sys_poll(g.m, pfd as i32, 1, 0), 0);
    assert_eq!(rd_u16(g.m, pfd + 6), 0);
    // Bad fds report POLLNVAL; negative fds are ignored.
    setp(g.m, 0, 99, POLLIN);
    setp(g.m, 1, -1, POLLIN);
    assert_eq!(g.k.sys_poll(g.m, pfd as i32, 2, 0), 1);
    assert_eq!(rd_u16(g.m, pfd + 6), POLLNVAL);
    assert_eq!(rd_u16(g.m, pfd + 14), 0);
    // Writing with the read end closed succeeds (PIPEFS: no EPIPE).
    let fds2 = g.b.alloc(g.m, 8);
    g.k.sys_pipe(g.m, fds2 as i32);
    let (r2, w2) = (rd_i32(g.m, fds2), rd_i32(g.m, fds2 + 4));
    g.close(r2);
    assert_eq!(g.write(w2, b"x"), Ok(1));
    assert_eq!(g.k.sys_pipe(g.m, 0), -21);
}

#[test]
fn pread_pwrite_readv() {
    let (mut k, mut m) = kernel();
    k.write_file("/tmp/f", b"abcdefgh".to_vec()).unwrap();
    let mut g = G::new(&mut k, &mut m);
    let fd = g.open("/tmp/f", O_RDWR, 0);
    // Two iovecs.
    let b1 = g.b.alloc(g.m, 3);
    let b2 = g.b.alloc(g.m, 10);
    let iov = g.b.alloc(g.m, 16);
    for (i, (b, l)) in [(b1, 3u32), (b2, 10)].into_iter().enumerate() {
        let at = iov as usize + 8 * i;
        g.m[at..at + 4].copy_from_slice(&b.to_le_bytes());
        g.m[at + 4..at + 8].copy_from_slice(&l.to_le_bytes());
    }
    let n = g.b.alloc(g.m, 4);
    assert_eq!(g.k.fd_pread(g.m, fd, iov as i32, 2, 2, n as i32), 0);
    assert_eq!(rd_u32(g.m, n), 6);
    assert_eq!(&g.m[b1 as usize..b1 as usize + 3], b"cde");
    assert_eq!(&g.m[b2 as usize..b2 as usize + 3], b"fgh");
    assert_eq!(g.seek(fd, 0, SEEK_CUR), Ok(0));
    assert_eq!(g.k.fd_pwrite(g.m, fd, iov as i32, 1, 10, n as i32), 0);
    assert_eq!(g.k.read_file("/tmp/f").unwrap(), b"abcdefgh\0\0cde");
    assert_eq!(g.k.fd_pread(g.m, fd, iov as i32, 1, -1, n as i32), 28);
    assert_eq!(g.k.fd_pread(g.m, 1, iov as i32, 1, 0, n as i32), 8);
    let fds = g.b.alloc(g.m, 8);
    g.k.sys_pipe(g.m, fds as i32);
    let r = rd_i32(g.m, fds);
    assert_eq!(g.k.fd_pread(g.m, r, iov as i32, 1, 0, n as i32), 70);
}

#[test]
fn environ_progname_uid_clock_random() {
    let (mut k, mut m) = kernel();
    k.set_env("HOME", "/home/pyodide");
    k.set_env("EXTRA", "1");
    k.unset_env("_");
    let (cnt, sz) = (100, 104);
    assert_eq!(k.environ_sizes_get(&mut m, cnt, sz), 0);
    let n = rd_u32(&m, cnt as u32);
    assert_eq!(n, 7);
    let size = rd_u32(&m, sz as u32);
    let (envp, buf) = (1000, 2000);
    assert_eq!(k.environ_get(&mut m, envp, buf), 0);
    let strs: Vec<String> = (0..n)
        .map(|i| {
            let p = rd_u32(&m, envp as u32 + 4 * i) as usize;
            let e = m[p..].iter().position(|&c| c == 0).unwrap();
            String::from_utf8(m[p..p + e].to_vec()).unwrap()
        })
        .collect();
    assert_eq!(strs[0], "USER=web_user");
    assert_eq!(strs[4], "HOME=/home/pyodide");
    assert_eq!(strs[6], "EXTRA=1");
    assert_eq!(
        size as usize,
        strs.iter().map(|s| s.len() + 1).sum::<usize>()
    );
    k.get_progname(&mut m, 3000, 5);
    assert_eq!(&m[3000..3005], b"./th\0");
    assert_eq!(k.sys_getuid32_js(&mut m), 0);
    assert_eq!(k.clock_time_get(&mut m, 0, 0, 4000), 0);
    assert_eq!(rd_i64(&m, 4000), 1_700_000_000_123_456_789);
    assert_eq!(k.clock_time_get(&mut m, 1, 0, 4000), 0);
    assert_eq!(rd_i64(&m, 4000), 5_000_000);
    assert_eq!(k.clock_time_get(&mut m, 9, 0, 4000), 28);
    assert_eq!(k.clock_res_get(&mut m, 0, 4000), 0);
    assert_eq!(rd_i64(&m, 4000), 1000);
    assert_eq!(k.random_get(&mut m, 5000, 64), 0);
    assert!(m[5000..5064].iter().any(|&b| b != 0));
    assert_eq!(k.random_get(&mut m, MEM as i32 - 1, 64), 21);
}

#[test]
fn mmap_helpers() {
    let (mut k, mut m) = kernel();
    k.write_file("/tmp/f", b"0123456789".to_vec()).unwrap();
    let mut g = G::new(&mut k, &mut m);
    let ro = g.open("/tmp/f", O_RDONLY, 0);
    let rw = g.open("/tmp/f", O_RDWR, 0);
    assert_eq!(
        g.k.mmap_read(ro, 16, 1, MAP_SHARED, 4)
            .map(MapContents::into_bytes)
            .unwrap(),
        b"456789\0\0\0\0\0\0\0\0\0\0"
    );
    assert_eq!(
        g.k.mmap_read(ro, 4, PROT_WRITE, MAP_SHARED, 0)
            .map(MapContents::into_bytes),
        Err(Errno::EACCES)
    );
    assert!(
        g.k.mmap_read(ro, 4, PROT_WRITE, MAP_PRIVATE, 0)
            .map(MapContents::into_bytes)
            .is_ok()
    );
    assert_eq!(
        g.k.mmap_read(ro, 0, 1, MAP_SHARED, 0)
            .map(MapContents::into_bytes),
        Err(Errno::EINVAL)
    );
    let d = g.open("/tmp", O_RDONLY, 0);
    assert_eq!(
        g.k.mmap_read(d, 4, 1, MAP_SHARED, 0)
            .map(MapContents::into_bytes),
        Err(Errno::ENODEV)
    );
    // msync writes back, clipped to the file size.
    let addr = g.b.bytes(g.m, b"ABCDEFGHIJKLMNOP");
    assert_eq!(g.k.msync_js(g.m, addr as i32, 16, 3, MAP_SHARED, rw, 6), 0);
    assert_eq!(g.k.read_file("/tmp/f").unwrap(), b"012345ABCD");
    assert_eq!(g.k.munmap_js(g.m, addr as i32, 4, 3, MAP_PRIVATE, rw, 0), 0);
    assert_eq!(g.k.read_file("/tmp/f").unwrap(), b"012345ABCD");
}

#[test]
fn mapping_a_file_the_host_mapped_hands_over_the_host_file() {
    use crate::host_bytes::test_support::TempFile;
    use crate::host_bytes::{HostBytes, page_size};
    let page = page_size();
    let f = TempFile::new("map", 3 * page);
    let (host, bytes) = (&f.path, &f.bytes);
    let (mut k, mut m) = kernel();
    k.write_file("/tmp/table", HostBytes::map(host).unwrap())
        .unwrap();
    let mut g = G::new(&mut k, &mut m);
    let fd = g.open("/tmp/table", O_RDONLY, 0);
    let len = 4 * page as u32;
    // Past the end of the file the mapping is zeros (only 2 pages valid).
    match g.k.mmap_read(fd, len, 1, MAP_SHARED, page as i64).unwrap() {
        MapContents::HostFile {
            offset,
            valid,
            len: l,
            ..
        } => assert_eq!((offset, valid, l), (page as u64, 2 * page, len as usize)),
        MapContents::Bytes(_) => panic!("copied, not handed over"),
    }
    let whole =
        g.k.mmap_read(fd, len, 1, MAP_SHARED, 0)
            .unwrap()
            .into_bytes();
    assert_eq!(&whole[..bytes.len()], &bytes[..]);
    assert!(whole[bytes.len()..].iter().all(|&b| b == 0));
    // Once the guest writes the file, its bytes are no longer all the
    // host file's: copied, with the write.
    let rw = g.open("/tmp/table", O_RDWR, 0);
    assert_eq!(g.write(rw, b"xyz"), Ok(3));
    match g.k.mmap_read(fd, len, 1, MAP_SHARED, 0).unwrap() {
        MapContents::Bytes(copy) => {
            assert_eq!(&copy[..3], b"xyz");
            assert_eq!(&copy[3..bytes.len()], &bytes[3..]);
        }
        MapContents::HostFile { .. } => panic!("the guest's write is not in the host file"),
    }
    // The part after the write is still the host file's.
    assert!(matches!(
        g.k.mmap_read(fd, page as u32, 1, MAP_SHARED, page as i64),
        Ok(MapContents::HostFile { .. })
    ));
}

#[test]
fn events_device_is_a_write_only_channel() {
    let (out, events) = (Capture::new(), Capture::new());
    let cfg = KernelConfig {
        events: Some(Arc::new(events.clone())),
        ..KernelConfig::captured(out.clone(), Capture::new())
    };
    let mut k = Kernel::new(cfg);
    let mut m = vec![0u8; MEM];
    assert!(
        k.list_dir("/dev")
            .unwrap()
            .contains(&"pyodide-test-events".to_string())
    );
    let mut g = G::new(&mut k, &mut m);
    let path = "/dev/pyodide-test-events";
    let st = g.stat(path, true).unwrap();
    assert_eq!((st.mode, st.rdev, st.size), (S_IFCHR | 0o200, 67 << 8, 0));
    // Written (twice open is fine): to the sink, never to stdout.
    let a = g.open(path, O_WRONLY, 0);
    let b = g.open(path, O_WRONLY | O_APPEND, 0);
    assert!(a >= 0 && b >= 0, "{a} {b}");
    assert_eq!(g.write(a, b"{\"test\": 1}\n"), Ok(12));
    assert_eq!(g.write(b, b"{\"test\": 2}\n"), Ok(12));
    assert_eq!(events.contents(), b"{\"test\": 1}\n{\"test\": 2}\n");
    assert_eq!(out.contents(), b"");
    // Write-only: not readable, not openable for reading, not seekable.
    assert_eq!(g.read(a, 10), Err(8));
    assert_eq!(g.open(path, O_RDONLY, 0), -2);
    assert_eq!(g.open(path, O_RDWR, 0), -2);
    assert_eq!(g.seek(a, 0, SEEK_SET), Err(70));
    let p = g.b.cstr(g.m, path);
    assert_eq!(g.k.sys_faccessat(g.m, AT_FDCWD, p, 2, 0), 0);
    assert_eq!(g.k.sys_faccessat(g.m, AT_FDCWD, p, 4, 0), -2);
    assert!(!g.k.isatty(a));
    assert_eq!(g.fstat(a).unwrap().mode, S_IFCHR | 0o200);
    // Listed in /dev as a character device.
    let d = g.open("/dev", O_RDONLY | O_DIRECTORY, 0);
    let ents = g.getdents(d, 4096).unwrap();
    assert!(
        ents.iter()
            .any(|(n, t, _)| n == "pyodide-test-events" && *t == DT_CHR)
    );
    g.close(a);
    g.close(b);
    // Without a sink there is no such node.
    let (mut k2, mut m2) = kernel();
    let mut g2 = G::new(&mut k2, &mut m2);
    assert_eq!(g2.stat(path, true).unwrap_err(), -44);
    assert_eq!(g2.open(path, O_WRONLY, 0), -44);
}
