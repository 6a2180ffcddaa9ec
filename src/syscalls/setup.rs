//! Building a kernel and the host's pre-boot operations on it (what
//! Pyodide's `preRun` hooks do through `FS.*`): make directories, write
//! files, symlinks, chdir, environment.

use super::consts::*;
use super::errno::{Errno, SysResult};
use super::fd::{Ofd, Target};
use super::memfs::{DeviceKind, FileData, Fs, NodeId, NodeKind};
use super::path::{self, Follow};
use super::slab::Slab;
use super::{Kernel, KernelConfig};

fn makedev(major: u32, minor: u32) -> u32 {
    (major << 8) | minor
}

impl Kernel {
    /// A kernel with Emscripten's initial tree (as Pyodide sets it up):
    /// `/tmp`, `/home/web_user`, `/dev` with `null` (no `zero`), `tty`, `tty1`,
    /// `random`, `urandom`, `shm/tmp`, `stdin`, `stdout`, `stderr`, and
    /// `/proc/self/fd`; fds 0, 1, 2 open on the stdio devices; cwd `/`.
    pub fn new(cfg: KernelConfig) -> Self {
        let now = cfg.clock.realtime();
        let fs = Fs::new(now);
        let root = fs.root();
        let mut k = Kernel {
            fs,
            fdt: Default::default(),
            pipes: Slab::default(),
            sockets: Slab::default(),
            ports: Default::default(),
            cwd: root,
            umask: cfg.umask & 0o777,
            env: Vec::new(),
            progname: cfg.progname.into_bytes(),
            uid: cfg.uid,
            stdin: cfg.stdin,
            stdout: cfg.stdout,
            stderr: cfg.stderr,
            clock: cfg.clock,
            boot_tty: false,
            stream_names: Default::default(),
        };
        k.fs.retain(root);
        for (key, v) in cfg.env {
            k.set_env(&key, &v);
        }
        for d in ["/tmp", "/home/web_user", "/dev/shm/tmp", "/proc/self/fd"] {
            k.mkdir_p(d).expect("initial tree");
        }
        k.fs.proc_fd = Some(k.resolve_path("/proc/self/fd").expect("/proc/self/fd"));
        let devices = [
            ("null", DeviceKind::Null, 0o666, makedev(1, 3)),
            ("tty", DeviceKind::Tty, 0o666, makedev(5, 0)),
            ("tty1", DeviceKind::Tty1, 0o666, makedev(6, 0)),
            ("random", DeviceKind::Random, 0o555, makedev(64, 0)),
            ("urandom", DeviceKind::Random, 0o555, makedev(65, 0)),
            ("stdin", DeviceKind::Stdin, 0o666, makedev(66, 0)),
            ("stdout", DeviceKind::Stdout, 0o666, makedev(66, 1)),
            ("stderr", DeviceKind::Stderr, 0o666, makedev(66, 2)),
        ];
        let dev = k.fs.lookup(root, b"dev").expect("/dev");
        for (name, kind, perm, rdev) in devices {
            k.fs.create(
                dev,
                name.as_bytes(),
                S_IFCHR | perm,
                rdev,
                NodeKind::Device(kind),
                now,
            );
        }
        for (path, flags) in [
            ("/dev/stdin", O_RDONLY),
            ("/dev/stdout", O_WRONLY),
            ("/dev/stderr", O_WRONLY),
        ] {
            k.do_open(root, path.as_bytes(), flags, 0).expect("stdio");
        }
        k
    }

    /// Creates `path` and any missing parents (mode 0777, as
    /// `FS.mkdirTree`). Existing directories are fine.
    pub fn mkdir_p(&mut self, path: &str) -> SysResult<()> {
        let abs = path.starts_with('/');
        let mut cur = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            if abs || !cur.is_empty() {
                cur.push('/');
            }
            cur.push_str(part);
            match self.do_mkdir(self.cwd, cur.as_bytes(), 0o777, false) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(e),
            }
        }
        let n = self.resolve_path(path)?;
        if self.fs.node(n).is_dir() {
            Ok(())
        } else {
            Err(Errno::ENOTDIR)
        }
    }

    /// Resolves `path` from the cwd, symlinks followed, as the guest's
    /// own calls do (host directories asked live, `/proc/self/fd`).
    fn resolve_path(&mut self, path: &str) -> SysResult<NodeId> {
        let cwd = self.cwd;
        path::resolve(self.walk(), cwd, path.as_bytes(), Follow::Yes)
    }

    /// Creates or replaces the regular file `path` (mode 0666) with `data`.
    /// Pass an `Arc<[u8]>` to share a large buffer without copying.
    pub fn write_file(&mut self, path: &str, data: impl Into<FileData>) -> SysResult<()> {
        let fd = self.do_open(
            self.cwd,
            path.as_bytes(),
            O_WRONLY | O_CREAT | O_TRUNC,
            0o666,
        )?;
        let node = self.fdt.ofd(fd)?.node().ok_or(Errno::EINVAL)?;
        let now = self.now();
        let n = self.fs.node_mut(node);
        let r = match &mut n.kind {
            NodeKind::File(f) => {
                *f = data.into();
                n.mtime = now;
                n.ctime = now;
                Ok(())
            }
            _ => Err(Errno::EINVAL),
        };
        self.close_fd(fd)?;
        r
    }

    /// The contents of the file `path` (symlinks followed), shared; a file
    /// on a host mount is read from the host.
    pub fn file_data(&mut self, path: &str) -> SysResult<FileData> {
        let n = self.resolve_path(path)?;
        let node = self.fs.node(n);
        match &node.kind {
            NodeKind::File(_) if node.host.is_some() => {
                super::hostfs::read_all(&self.fs, n).map(FileData::from) // HOSTFS
            }
            NodeKind::File(f) => Ok(f.clone()),
            NodeKind::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    /// The contents of the file `path` (symlinks followed), copied.
    pub fn read_file(&mut self, path: &str) -> SysResult<Vec<u8>> {
        Ok(self.file_data(path)?.as_slice().to_vec())
    }

    /// Makes the symlink `link` pointing at `target`.
    pub fn symlink(&mut self, target: &str, link: &str) -> SysResult<()> {
        self.do_symlink(target.as_bytes(), self.cwd, link.as_bytes())
    }

    /// Changes the current directory.
    pub fn chdir(&mut self, path: &str) -> SysResult<()> {
        let n = self.resolve_path(path)?;
        self.set_cwd(n)
    }

    /// The current directory's absolute path.
    pub fn cwd(&self) -> String {
        self.fs
            .dir_path(self.cwd)
            .map(|p| String::from_utf8_lossy(&p).into_owned())
            .unwrap_or_default()
    }

    /// Whether `path` exists (symlinks followed; host mounts asked live).
    pub fn exists(&mut self, path: &str) -> bool {
        self.resolve_path(path).is_ok()
    }

    /// Whether `path` is a directory (symlinks followed; host mounts
    /// asked live).
    pub fn is_dir(&mut self, path: &str) -> bool {
        self.resolve_path(path)
            .is_ok_and(|n| self.fs.node(n).is_dir())
    }

    /// The names in directory `path`, sorted, without `.` and `..` (a host
    /// directory listed from the host, `/proc/self/fd` from the open
    /// descriptors).
    pub fn list_dir(&mut self, path: &str) -> SysResult<Vec<String>> {
        let n = self.resolve_path(path)?;
        let node = self.fs.node(n);
        let d = node.dir()?;
        let mut names: Vec<Vec<u8>> = if self.fs.proc_fd == Some(n) {
            self.proc_fd_entries().into_iter().map(|e| e.name).collect()
        } else if node.host.is_some() {
            super::hostfs::read_dir(&self.fs, n)? // HOSTFS
                .into_iter()
                .map(|e| e.name)
                .collect()
        } else {
            d.entries.keys().cloned().collect()
        };
        names.sort();
        Ok(names
            .into_iter()
            .map(|k| String::from_utf8_lossy(&k).into_owned())
            .collect())
    }

    /// Removes the file or empty directory `path`.
    pub fn remove(&mut self, path: &str) -> SysResult<()> {
        match self.do_unlink(self.cwd, path.as_bytes()) {
            Err(Errno::EISDIR) => self.do_rmdir(self.cwd, path.as_bytes()),
            r => r,
        }
    }

    /// Sets (or replaces) an environment variable, keeping its position.
    pub fn set_env(&mut self, key: &str, value: &str) {
        let entry = format!("{key}={value}").into_bytes();
        let prefix = format!("{key}=").into_bytes();
        match self.env.iter_mut().find(|e| e.starts_with(&prefix)) {
            Some(e) => *e = entry,
            None => self.env.push(entry),
        }
    }

    /// Removes an environment variable.
    pub fn unset_env(&mut self, key: &str) {
        let prefix = format!("{key}=").into_bytes();
        self.env.retain(|e| !e.starts_with(&prefix));
    }

    /// The environment as `KEY=value` strings, in order.
    pub fn env(&self) -> Vec<String> {
        self.env
            .iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect()
    }

    /// Sets what `_emscripten_get_progname` reports.
    pub fn set_progname(&mut self, name: &str) {
        self.progname = name.as_bytes().to_vec();
    }

    /// Flushes the stdout and stderr sinks.
    pub fn flush_stdio(&self) {
        let _ = self.stdout.flush();
        let _ = self.stderr.flush();
    }

    /// Open descriptor numbers, ascending.
    pub fn open_fds(&self) -> Vec<i32> {
        self.fdt.open_fds()
    }

    /// Closes every descriptor (what `FS.quit` does at exit).
    pub fn close_all(&mut self) {
        for fd in self.fdt.open_fds() {
            let _ = self.close_fd(fd);
        }
        self.flush_stdio();
    }

    /// Whether fd `fd` is a terminal (`isatty`).
    pub fn isatty(&self, fd: i32) -> bool {
        self.fdt.ofd(fd).is_ok_and(|o| o.tty)
    }

    /// While `on`, the stdio devices (`/dev/stdin`, `/dev/stdout`,
    /// `/dev/stderr`) answer the terminal ioctls (`isatty` is true) whatever
    /// the host's fds are. This reproduces Pyodide's start under Node:
    /// CPython is initialised while fds 0-2 are Emscripten's default TTY
    /// streams, and only then does `loadPyodide` call `initializeStreams`,
    /// which installs streams whose `isatty` follows the host's fds. So
    /// `sys.stdin`/`sys.stdout` are line-buffered even when redirected,
    /// while `os.isatty` tells the truth. The host turns this on before
    /// Pyodide's `main` and off before `run_main`.
    pub fn set_stdio_boot_tty(&mut self, on: bool) {
        self.boot_tty = on;
    }

    /// Whether an open file description (TTY-ness `tty` when opened, on
    /// `target`) answers as a terminal now: before Pyodide's
    /// `initializeStreams` (see [`Kernel::set_stdio_boot_tty`]) the stdio
    /// devices do.
    pub(crate) fn sees_tty(&self, tty: bool, target: Target) -> bool {
        tty || (self.boot_tty
            && matches!(target, Target::Node(n) if matches!(
                self.fs.node(n).kind,
                NodeKind::Device(DeviceKind::Stdin | DeviceKind::Stdout | DeviceKind::Stderr)
            )))
    }

    pub(crate) fn is_tty_target(&self, t: Target) -> bool {
        match t {
            Target::Node(n) => match self.fs.node(n).kind {
                NodeKind::Device(DeviceKind::Tty | DeviceKind::Tty1) => true,
                NodeKind::Device(DeviceKind::Stdin) => self.stdin.is_tty(),
                NodeKind::Device(DeviceKind::Stdout) => self.stdout.is_tty(),
                NodeKind::Device(DeviceKind::Stderr) => self.stderr.is_tty(),
                _ => false,
            },
            _ => false,
        }
    }

    /// Drops one reference to an OFD, releasing its target at the last.
    pub(crate) fn drop_ofd(&mut self, id: usize) {
        let Some(o) = self.fdt.ofds.get_mut(id) else {
            return;
        };
        o.refs -= 1;
        if o.refs > 0 {
            return;
        }
        let Some(o) = self.fdt.ofds.remove(id) else {
            return;
        };
        match o.target {
            Target::Node(n) => {
                if let NodeKind::Device(DeviceKind::Stdout | DeviceKind::Tty) = self.fs.node(n).kind
                {
                    let _ = self.stdout.flush();
                }
                self.fs.release(n)
            }
            Target::Pipe { pipe, write } => {
                if let Some(p) = self.pipes.get_mut(pipe) {
                    if write {
                        p.writers -= 1;
                    } else {
                        p.readers -= 1;
                    }
                    if p.readers == 0 && p.writers == 0 {
                        self.pipes.remove(pipe);
                    }
                }
            }
            Target::Socket(s) => self.socket_closed(s),
        }
    }

    /// Closes descriptor `fd`.
    pub(crate) fn close_fd(&mut self, fd: i32) -> SysResult<()> {
        let id = self.fdt.take(fd)?;
        self.drop_ofd(id);
        Ok(())
    }

    /// Opens a new descriptor on `target` (the caller has already counted
    /// the reference on the target itself).
    pub(crate) fn new_fd(&mut self, target: Target, flags: u32) -> SysResult<i32> {
        let tty = self.is_tty_target(target);
        let ofd = Ofd::new(
            target,
            flags & !(O_CREAT | O_EXCL | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_DIRECTORY),
            tty,
        );
        self.fdt.open_new(ofd, 0, flags & O_CLOEXEC != 0)
    }

    pub(crate) fn set_cwd(&mut self, n: super::memfs::NodeId) -> SysResult<()> {
        let node = self.fs.node(n);
        if !node.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if !node.permits(false, false, true) {
            return Err(Errno::EACCES);
        }
        self.fs.retain(n);
        let old = std::mem::replace(&mut self.cwd, n);
        self.fs.release(old);
        Ok(())
    }
}
