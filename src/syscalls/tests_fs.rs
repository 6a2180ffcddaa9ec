//! Behaviour tests of the file-system syscalls through the import-shaped
//! API on a byte-vector memory.

use super::consts::*;
use super::testutil::*;
use super::*;

const ENOENT: i32 = -44;
const EEXIST: i32 = -20;
const ENOTDIR: i32 = -54;
const EISDIR: i32 = -31;
const ENOTEMPTY: i32 = -55;
const EINVAL: i32 = -28;
const ELOOP: i32 = -32;

#[test]
fn initial_tree_and_stdio() {
    let (mut k, mut m) = kernel();
    assert_eq!(k.open_fds(), vec![0, 1, 2]);
    assert_eq!(k.list_dir("/").unwrap(), vec!["dev", "home", "proc", "tmp"]);
    assert_eq!(
        k.list_dir("/dev").unwrap(),
        vec![
            "null", "random", "shm", "stderr", "stdin", "stdout", "tty", "tty1", "urandom"
        ]
    );
    let mut g = G::new(&mut k, &mut m);
    let st = g.fstat(1).unwrap();
    assert_eq!(st.mode, S_IFCHR | 0o666);
    assert_eq!(st.rdev, (66 << 8) | 1);
    assert_eq!(g.k.sys_getcwd(g.m, 0, 0), EINVAL);
}

#[test]
fn open_write_read_seek_stat() {
    let (mut k, mut m) = kernel();
    let mut g = G::new(&mut k, &mut m);
    assert_eq!(g.open("/tmp/x", O_RDONLY, 0), ENOENT);
    let fd = g.open("/tmp/x", O_RDWR | O_CREAT | O_EXCL, 0o644);
    assert_eq!(fd, 3);
    assert_eq!(g.open("/tmp/x", O_RDWR | O_CREAT | O_EXCL, 0o644), EEXIST);
    assert_eq!(g.write(fd, b"hello world"), Ok(11));
    assert_eq!(g.seek(fd, 0, SEEK_CUR), Ok(11));
    assert_eq!(g.seek(fd, -5, SEEK_END), Ok(6));
    assert_eq!(g.read(fd, 100).unwrap(), b"world");
    assert_eq!(g.read(fd, 100).unwrap(), b"");
    assert_eq!(g.seek(fd, -1, SEEK_SET), Err(28));
    assert_eq!(g.seek(fd, 0, 7), Err(28));
    // Seek past the end and write: a hole of zeros.
    assert_eq!(g.seek(fd, 20, SEEK_SET), Ok(20));
    g.write(fd, b"!").unwrap();
    let st = g.fstat(fd).unwrap();
    assert_eq!(st.size, 21);
    assert_eq!(st.mode, S_IFREG | 0o644);
    assert_eq!(st.nlink, 1);
    assert_eq!(st.blksize, 4096);
    // MEMFS: 4096-byte blocks, millisecond times.
    assert_eq!(st.blocks, 1);
    assert_eq!(
        st.mtime,
        Timespec {
            sec: 1_700_000_000,
            nsec: 123_000_000
        }
    );
    g.seek(fd, 0, SEEK_SET).unwrap();
    assert_eq!(g.read(fd, 100).unwrap(), b"hello world\0\0\0\0\0\0\0\0\0!");
    assert_eq!(g.close(fd), 0);
    assert_eq!(g.close(fd), 8);
    assert_eq!(g.k.read_file("/tmp/x").unwrap().len(), 21);
}

#[test]
fn umask_is_recorded_not_applied_and_chmod() {
    let (mut k, mut m) = kernel();
    let mut g = G::new(&mut k, &mut m);
    assert_eq!(g.k.sys_umask_js(&mut Vec::new(), 0o027), 0o022);
    assert_eq!(g.k.sys_umask_js(&mut Vec::new(), 0o027), 0o027);
    // As MEMFS: the umask does not mask created files or directories.
    let fd = g.open("/tmp/u", O_WRONLY | O_CREAT, 0o666);
    assert_eq!(g.fstat(fd).unwrap().mode, S_IFREG | 0o666);
    assert_eq!(g.mkdir("/tmp/d", 0o777), 0);
    assert_eq!(g.stat("/tmp/d", true).unwrap().mode, S_IFDIR | 0o777);
    let p = g.b.cstr(g.m, "/tmp/u");
    assert_eq!(g.k.sys_chmod(g.m, p, 0o4755), 0);
    assert_eq!(g.stat("/tmp/u", true).unwrap().mode, S_IFREG | 0o4755);
    // chmod 000 locks the file against opening (Emscripten's check).
    g.k.sys_chmod(g.m, p, 0);
    assert_eq!(g.open("/tmp/u", O_RDONLY, 0), -2);
    let a = g.b.cstr(g.m, "/tmp/u");
    assert_eq!(g.k.sys_faccessat(g.m, AT_FDCWD, a, 4, 0), -2);
    assert_eq!(g.k.sys_faccessat(g.m, AT_FDCWD, a, 0, 0), 0);
    assert_eq!(g.k.sys_faccessat(g.m, AT_FDCWD, a, 8, 0), EINVAL);
}

#[test]
fn trunc_append_and_flags() {
    let (mut k, mut m) = kernel();
    k.write_file("/tmp/f", b"abcdef".to_vec()).unwrap();
    let mut g = G::new(&mut k, &mut m);
    let fd = g.open("/tmp/f", O_WRONLY | O_APPEND, 0);
    g.write(fd, b"XY").unwrap();
    assert_eq!(g.k.read_file("/tmp/f").unwrap(), b"abcdefXY");
    assert_eq!(
        g.k.sys_fcntl64(g.m, fd, F_GETFL, 0),
        (O_WRONLY | O_APPEND) as i32
    );
    let va = g.b.alloc(g.m, 4);
    wr_i32(g.m, va, O_NONBLOCK as i32);
    assert_eq!(g.k.sys_fcntl64(g.m, fd, F_SETFL, va as i32), 0);
    assert_eq!(
        g.k.sys_fcntl64(g.m, fd, F_GETFL, 0),
        (O_WRONLY | O_NONBLOCK) as i32
    );
    assert_eq!(g.read(fd, 1), Err(8));
    let fd2 = g.open("/tmp/f", O_RDONLY | O_TRUNC, 0);
    assert!(fd2 > 0);
    assert_eq!(g.k.read_file("/tmp/f").unwrap(), b"");
    assert_eq!(g.write(fd2, b"x"), Err(8));
    // ftruncate needs a writable fd.
    assert_eq!(g.k.sys_ftruncate64(g.m, fd2, 10), EINVAL);
    assert_eq!(g.k.sys_ftruncate64(g.m, fd, 10), 0);
    assert_eq!(g.k.read_file("/tmp/f").unwrap(), vec![0u8; 10]);
    let p = g.b.cstr(g.m, "/tmp/f");
    assert_eq!(g.k.sys_truncate64(g.m, p, 3), 0);
    assert_eq!(g.fstat(fd).unwrap().size, 3);
    assert_eq!(g.k.sys_truncate64(g.m, p, -1), EINVAL);
    let d = g.b.cstr(g.m, "/tmp");
    assert_eq!(g.k.sys_truncate64(g.m, d, 0), EISDIR);
}

#[test]
fn dup_shares_offset_getfd_is_zero() {
    let (mut k, mut m) = kernel();
    k.write_file("/tmp/f", b"0123456789".to_vec()).unwrap();
    let mut g = G::new(&mut k, &mut m);
    let fd = g.open("/tmp/f", O_RDONLY | O_CLOEXEC, 0);
    // As the glue: F_GETFD answers 0 even for O_CLOEXEC, F_SETFD is ignored.
    assert_eq!(g.k.sys_fcntl64(g.m, fd, F_GETFD, 0), 0);
    let va1 = g.b.alloc(g.m, 4);
    wr_i32(g.m, va1, FD_CLOEXEC);
    assert_eq!(g.k.sys_fcntl64(g.m, fd, F_SETFD, va1 as i32), 0);
    assert_eq!(g.k.sys_fcntl64(g.m, fd, F_GETFD, 0), 0);
    let d = g.k.sys_dup(g.m, fd);
    assert_eq!(d, fd + 1);
    assert_eq!(g.k.sys_fcntl64(g.m, d, F_GETFD, 0), 0);
    assert_eq!(g.read(fd, 3).unwrap(), b"012");
    assert_eq!(g.read(d, 3).unwrap(), b"345");
    let va = g.b.alloc(g.m, 4);
    wr_i32(g.m, va, 10);
    assert_eq!(g.k.sys_fcntl64(g.m, fd, F_DUPFD_CLOEXEC, va as i32), 10);
    assert_eq!(g.k.sys_fcntl64(g.m, 10, F_GETFD, 0), 0);
    assert_eq!(g.k.sys_dup3(g.m, fd, fd, 0), EINVAL);
    assert_eq!(g.k.sys_dup3(g.m, fd, 1, 0), 1);
    assert_eq!(g.read(1, 3).unwrap(), b"678");
    g.close(fd);
    g.close(d);
    g.close(10);
    assert_eq!(g.read(1, 3).unwrap(), b"9");
    assert_eq!(g.k.sys_dup(g.m, 99), -8);
    assert_eq!(g.k.sys_fcntl64(g.m, 1, 999, 0), EINVAL);
}

#[test]
fn directories_and_getdents() {
    let (mut k, mut m) = kernel();
    let mut g = G::new(&mut k, &mut m);
    assert_eq!(g.mkdir("/tmp/d", 0o755), 0);
    assert_eq!(g.mkdir("/tmp/d", 0o755), EEXIST);
    assert_eq!(g.mkdir("/tmp/nope/d", 0o755), ENOENT);
    assert_eq!(g.mkdir("/", 0o755), EEXIST);
    g.mkdir("/tmp/d/sub", 0o755);
    let f = g.open("/tmp/d/file", O_CREAT | O_WRONLY, 0o600);
    g.close(f);
    g.symlink("file", "/tmp/d/link");
    // MEMFS: st_nlink is 1 for directories too.
    assert_eq!(g.stat("/tmp/d", true).unwrap().nlink, 1);
    assert_eq!(g.open("/tmp/d", O_WRONLY, 0), EISDIR);
    assert_eq!(g.open("/tmp/d/file", O_RDONLY | O_DIRECTORY, 0), ENOTDIR);
    let dfd = g.open("/tmp/d", O_RDONLY | O_DIRECTORY, 0);
    assert!(dfd > 0);
    assert_eq!(g.read(dfd, 10), Err(31));
    let ents = g.getdents(dfd, 4096).unwrap();
    let names: Vec<(&str, u8)> = ents.iter().map(|(n, t, _)| (n.as_str(), *t)).collect();
    assert_eq!(
        names,
        vec![
            (".", DT_DIR),
            ("..", DT_DIR),
            ("file", DT_REG),
            ("link", DT_LNK),
            ("sub", DT_DIR)
        ]
    );
    // d_off is the next record's offset.
    assert_eq!(ents[0].2, 280);
    // One record at a time gives the same listing.
    g.seek(dfd, 0, SEEK_SET).unwrap();
    assert_eq!(g.getdents(dfd, 300).unwrap().len(), 5);
    // Too small a buffer.
    g.seek(dfd, 0, SEEK_SET).unwrap();
    let buf = g.b.alloc(g.m, 100);
    assert_eq!(g.k.sys_getdents64(g.m, dfd, buf as i32, 100), EINVAL);
    // Entries removed after the listing was taken are skipped.
    let buf = g.b.alloc(g.m, 560);
    assert_eq!(g.k.sys_getdents64(g.m, dfd, buf as i32, 560), 560);
    assert_eq!(g.unlink("/tmp/d/link", 0), 0);
    let rest = g.getdents(dfd, 4096).unwrap();
    let names: Vec<&str> = rest.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names, vec!["file", "sub"]);
    // rmdir rules.
    assert_eq!(g.unlink("/tmp/d", AT_REMOVEDIR), ENOTEMPTY);
    assert_eq!(g.unlink("/tmp/d/sub", 0), EISDIR);
    assert_eq!(g.unlink("/tmp/d/file", AT_REMOVEDIR), ENOTDIR);
    assert_eq!(g.unlink("/tmp/d/file/", 0), ENOTDIR);
    assert_eq!(g.unlink("/tmp/d/sub/.", AT_REMOVEDIR), EINVAL);
    assert_eq!(g.unlink("/tmp/d/sub", 0x4), EINVAL);
    assert_eq!(g.unlink("/tmp/d/sub", AT_REMOVEDIR), 0);
    let p = g.b.cstr(g.m, "/tmp/d/file");
    assert_eq!(g.k.sys_rmdir(g.m, p), ENOTDIR);
}

#[test]
fn cwd_relative_and_at_calls() {
    let (mut k, mut m) = kernel();
    k.mkdir_p("/a/b/c").unwrap();
    let mut g = G::new(&mut k, &mut m);
    let p = g.b.cstr(g.m, "/a/b");
    assert_eq!(g.k.sys_chdir(g.m, p), 0);
    let buf = g.b.alloc(g.m, 64);
    assert_eq!(g.k.sys_getcwd(g.m, buf as i32, 64), 5);
    assert_eq!(&g.m[buf as usize..buf as usize + 5], b"/a/b\0");
    assert_eq!(g.k.sys_getcwd(g.m, buf as i32, 4), -68);
    let f = g.open("c/../f", O_CREAT | O_WRONLY, 0o644);
    assert!(f > 0);
    assert!(g.k.exists("/a/b/f"));
    // *at relative to a directory fd.
    let dfd = g.open("/a", O_RDONLY | O_DIRECTORY, 0);
    let rel = g.b.cstr(g.m, "b/f");
    let st = g.b.alloc(g.m, 96);
    assert_eq!(g.k.sys_newfstatat(g.m, dfd, rel, st as i32, 0), 0);
    assert_eq!(g.parse_stat(st).mode & S_IFMT, S_IFREG);
    assert_eq!(g.k.sys_newfstatat(g.m, f, rel, st as i32, 0), ENOTDIR);
    assert_eq!(g.k.sys_newfstatat(g.m, 77, rel, st as i32, 0), -8);
    let empty = g.b.cstr(g.m, "");
    assert_eq!(g.k.sys_newfstatat(g.m, dfd, empty, st as i32, 0), ENOENT);
    assert_eq!(
        g.k.sys_newfstatat(g.m, f, empty, st as i32, AT_EMPTY_PATH as i32),
        0
    );
    assert_eq!(g.parse_stat(st).mode & S_IFMT, S_IFREG);
    // fchdir, then the old cwd is removed: getcwd says ENOENT.
    assert_eq!(g.k.sys_fchdir(g.m, dfd), 0);
    assert_eq!(g.k.cwd(), "/a");
    assert_eq!(g.k.sys_fchdir(g.m, f), ENOTDIR);
    g.mkdir("gone", 0o777);
    let p = g.b.cstr(g.m, "gone");
    g.k.sys_chdir(g.m, p);
    let p = g.b.cstr(g.m, "/a/gone");
    assert_eq!(g.k.sys_rmdir(g.m, p), 0);
    assert_eq!(g.k.sys_getcwd(g.m, buf as i32, 64), ENOENT);
}

#[test]
fn symlinks() {
    let (mut k, mut m) = kernel();
    k.write_file("/tmp/target", b"data".to_vec()).unwrap();
    let mut g = G::new(&mut k, &mut m);
    assert_eq!(g.symlink("target", "/tmp/l"), 0);
    assert_eq!(g.symlink("x", "/tmp/l"), EEXIST);
    assert_eq!(g.symlink("", "/tmp/e"), ENOENT);
    assert_eq!(g.stat("/tmp/l", true).unwrap().size, 4);
    let ls = g.stat("/tmp/l", false).unwrap();
    assert_eq!((ls.mode, ls.size), (S_IFLNK | 0o777, 6));
    let fd = g.open("/tmp/l", O_RDONLY, 0);
    assert_eq!(g.read(fd, 10).unwrap(), b"data");
    assert_eq!(g.open("/tmp/l", O_RDONLY | O_NOFOLLOW, 0), ELOOP);
    // readlink: truncation without NUL, EINVAL on non-links.
    let p = g.b.cstr(g.m, "/tmp/l");
    let buf = g.b.alloc(g.m, 16);
    g.m[buf as usize..buf as usize + 16].fill(b'#');
    assert_eq!(g.k.sys_readlinkat(g.m, AT_FDCWD, p, buf as i32, 3), 3);
    assert_eq!(&g.m[buf as usize..buf as usize + 4], b"tar#");
    assert_eq!(g.k.sys_readlinkat(g.m, AT_FDCWD, p, buf as i32, 16), 6);
    let t = g.b.cstr(g.m, "/tmp/target");
    assert_eq!(g.k.sys_readlinkat(g.m, AT_FDCWD, t, buf as i32, 16), EINVAL);
    assert_eq!(g.k.sys_readlinkat(g.m, AT_FDCWD, p, buf as i32, 0), EINVAL);
    // Loops.
    g.symlink("/tmp/loop2", "/tmp/loop1");
    g.symlink("loop1", "/tmp/loop2");
    assert_eq!(g.stat("/tmp/loop1", true).unwrap_err(), ELOOP);
    assert_eq!(g.open("/tmp/loop1/x", O_RDONLY, 0), ELOOP);
    assert!(g.stat("/tmp/loop1", false).is_ok());
    // O_CREAT through a dangling link creates its target.
    g.symlink("made", "/tmp/dangling");
    let fd = g.open("/tmp/dangling", O_CREAT | O_WRONLY, 0o644);
    assert!(fd > 0);
    assert!(g.k.exists("/tmp/made"));
    assert_eq!(
        g.open("/tmp/dangling", O_CREAT | O_EXCL | O_WRONLY, 0o644),
        EEXIST
    );
    // Symlink to a directory, with a trailing slash.
    g.mkdir("/tmp/dir", 0o777);
    g.symlink("dir", "/tmp/dl");
    assert_eq!(g.stat("/tmp/dl/", false).unwrap().mode & S_IFMT, S_IFDIR);
    assert_eq!(g.stat("/tmp/target/", true).unwrap_err(), ENOTDIR);
    // unlink removes the link, not the target.
    assert_eq!(g.unlink("/tmp/dl", 0), 0);
    assert!(g.k.is_dir("/tmp/dir"));
}

#[test]
fn rename_rules() {
    let (mut k, mut m) = kernel();
    k.mkdir_p("/r/a/sub").unwrap();
    k.mkdir_p("/r/empty").unwrap();
    k.mkdir_p("/r/full/x").unwrap();
    k.write_file("/r/f1", b"one".to_vec()).unwrap();
    k.write_file("/r/f2", b"two".to_vec()).unwrap();
    let mut g = G::new(&mut k, &mut m);
    let fd = g.open("/r/f2", O_RDONLY, 0);
    assert_eq!(g.rename("/r/f1", "/r/f2"), 0);
    assert!(!g.k.exists("/r/f1"));
    assert_eq!(g.k.read_file("/r/f2").unwrap(), b"one");
    // The replaced file stays readable through its open fd.
    assert_eq!(g.read(fd, 10).unwrap(), b"two");
    assert_eq!(g.rename("/r/nope", "/r/x"), ENOENT);
    assert_eq!(g.rename("/r/a", "/r/a/sub/inside"), EINVAL);
    assert_eq!(g.rename("/r/a", "/r/a"), 0);
    assert_eq!(g.rename("/r/a", "/r/full"), ENOTEMPTY);
    assert_eq!(g.rename("/r/a", "/r/f2"), ENOTDIR);
    assert_eq!(g.rename("/r/f2", "/r/empty"), EISDIR);
    assert_eq!(g.rename("/r/f2/", "/r/z"), ENOTDIR);
    assert_eq!(g.rename("/r/a", "/r/empty"), 0);
    assert!(g.k.is_dir("/r/empty/sub"));
    assert!(!g.k.exists("/r/a"));
    assert_eq!(g.rename("/r/empty", "/r/moved/"), 0);
    assert!(g.k.is_dir("/r/moved/sub"));
    let p = g.b.cstr(g.m, "/r/moved/sub");
    g.k.sys_chdir(g.m, p);
    assert_eq!(g.rename("/r/moved", "/r/again"), 0);
    assert_eq!(g.k.cwd(), "/r/again/sub");
    assert_eq!(g.rename("/r/again/.", "/r/x"), -10);
}

#[test]
fn unlink_open_file_keeps_data() {
    let (mut k, mut m) = kernel();
    let mut g = G::new(&mut k, &mut m);
    let fd = g.open("/tmp/t", O_RDWR | O_CREAT, 0o600);
    g.write(fd, b"temp").unwrap();
    assert_eq!(g.unlink("/tmp/t", 0), 0);
    assert_eq!(g.stat("/tmp/t", true).unwrap_err(), ENOENT);
    // MEMFS reports nlink 1 even for an unlinked open file.
    assert_eq!(g.fstat(fd).unwrap().nlink, 1);
    g.seek(fd, 0, SEEK_SET).unwrap();
    assert_eq!(g.read(fd, 10).unwrap(), b"temp");
    assert_eq!(g.close(fd), 0);
}

#[test]
fn utimensat_and_chown() {
    let (mut k, mut m) = kernel();
    k.write_file("/tmp/f", b"x".to_vec()).unwrap();
    let mut g = G::new(&mut k, &mut m);
    let p = g.b.cstr(g.m, "/tmp/f");
    let times = g.b.alloc(g.m, 32);
    g.m[times as usize..times as usize + 8].copy_from_slice(&5i64.to_le_bytes());
    wr_i32(g.m, times + 8, 7);
    g.m[times as usize + 16..times as usize + 24].copy_from_slice(&9i64.to_le_bytes());
    wr_i32(g.m, times + 24, UTIME_OMIT);
    assert_eq!(g.k.sys_utimensat(g.m, AT_FDCWD, p, times as i32, 0), 0);
    let st = g.stat("/tmp/f", true).unwrap();
    // Times keep milliseconds only (JS Dates): 7 ns is gone.
    assert_eq!(st.atime, Timespec { sec: 5, nsec: 0 });
    assert_eq!(st.mtime.sec, 1_700_000_000);
    wr_i32(g.m, times + 24, 1_000_000_000);
    assert_eq!(g.k.sys_utimensat(g.m, AT_FDCWD, p, times as i32, 0), EINVAL);
    // A null path acts on the dirfd.
    let fd = g.open("/tmp/f", O_RDONLY, 0);
    wr_i32(g.m, times + 24, 0);
    assert_eq!(g.k.sys_utimensat(g.m, fd, 0, times as i32, 0), 0);
    assert_eq!(g.fstat(fd).unwrap().mtime, Timespec { sec: 9, nsec: 0 });
    assert_eq!(g.k.sys_fchownat(g.m, AT_FDCWD, p, 1000, -1, 0), 0);
    assert_eq!(g.fstat(fd).unwrap().uid, 1000);
    assert_eq!(g.k.sys_fchown32(g.m, fd, -1, 50), 0);
    assert_eq!(g.fstat(fd).unwrap().gid, 50);
}

#[test]
fn mknod_statfs_fallocate() {
    let (mut k, mut m) = kernel();
    let mut g = G::new(&mut k, &mut m);
    let p = g.b.cstr(g.m, "/tmp/n");
    assert_eq!(
        g.k.sys_mknodat(g.m, AT_FDCWD, p, (S_IFREG | 0o600) as i32, 0),
        0
    );
    assert_eq!(
        g.k.sys_mknodat(g.m, AT_FDCWD, p, (S_IFREG | 0o600) as i32, 0),
        EEXIST
    );
    let q = g.b.cstr(g.m, "/tmp/fifo");
    assert_eq!(
        g.k.sys_mknodat(g.m, AT_FDCWD, q, (S_IFIFO | 0o600) as i32, 0),
        -63
    );
    let buf = g.b.alloc(g.m, 88);
    assert_eq!(g.k.sys_statfs64(g.m, p, 88, buf as i32), 0);
    assert_eq!(rd_u32(g.m, buf + 4), 4096);
    assert_eq!(rd_u32(g.m, buf + 56), 255);
    let fd = g.open("/tmp/n", O_RDWR, 0);
    assert_eq!(g.k.sys_fallocate(g.m, fd, 0, 10, 90), 0);
    assert_eq!(g.fstat(fd).unwrap().size, 100);
    assert_eq!(g.k.sys_fallocate(g.m, fd, 1, 0, 10), -138);
    assert_eq!(g.k.sys_fstatfs64(g.m, fd, 88, buf as i32), 0);
    assert_eq!(g.k.sys_fdatasync(g.m, fd), 0);
    assert_eq!(g.k.sys_fdatasync(g.m, 55), -8);
}

#[test]
fn efault_on_bad_pointers() {
    let (mut k, mut m) = kernel();
    let len = m.len() as i32;
    assert_eq!(k.sys_openat(&mut m, AT_FDCWD, len + 10, 0, 0), -21);
    assert_eq!(k.sys_fstat64(&mut m, 1, len - 10), -21);
    assert_eq!(k.fd_write(&mut m, 1, len - 4, 1, 0), 21);
}

#[test]
fn clone_is_an_independent_snapshot() {
    let (mut k, mut m) = kernel();
    k.write_file("/tmp/f", b"before".to_vec()).unwrap();
    let mut snap = k.clone();
    let mut g = G::new(&mut k, &mut m);
    let fd = g.open("/tmp/f", O_WRONLY | O_TRUNC, 0);
    g.write(fd, b"after").unwrap();
    assert_eq!(k.read_file("/tmp/f").unwrap(), b"after");
    assert_eq!(snap.read_file("/tmp/f").unwrap(), b"before");
    assert_eq!(snap.open_fds(), vec![0, 1, 2]);
}
