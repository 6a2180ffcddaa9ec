//! Building a kernel and the host's pre-boot operations on it (what
//! Pyodide's `preRun` hooks do through `FS.*`): make directories, write
//! files, symlinks, chdir, environment.

use std::path::Path;

use super::StatLayout;
use super::consts::*;
use super::device::{DEVICES, EVENTS};
use super::errno::{Errno, SysResult};
use super::filedata::FileData;
use super::path::{self, Follow};
use super::slab::Slab;
use super::tree::{NodeId, NodeKind, Tree};
use super::{Kernel, KernelConfig};

impl Kernel {
    /// A kernel with Emscripten's initial tree (as Pyodide sets it up):
    /// `/tmp`, `/home/web_user`, `/dev` with `null` (no `zero`), `tty`, `tty1`,
    /// `random`, `urandom`, `shm/tmp`, `stdin`, `stdout`, `stderr` (and
    /// `pyodide-test-events` if `cfg.events` is set), and
    /// `/proc/self/fd`; fds 0, 1, 2 open on the stdio devices; cwd `/`.
    pub fn new(cfg: KernelConfig) -> Self {
        let now = cfg.clock.realtime();
        let fs = Tree::new(now, cfg.fs_budget);
        let root = fs.root();
        let mut k = Kernel {
            fs,
            fdt: Default::default(),
            pipes: Slab::default(),
            sockets: Slab::default(),
            ports: Default::default(),
            socket_bytes: 0,
            cwd: root,
            umask: cfg.umask & 0o777,
            env: Vec::new(),
            progname: cfg.progname.into_bytes(),
            uid: cfg.uid,
            stdin: cfg.stdin,
            stdout: cfg.stdout,
            stderr: cfg.stderr,
            events: cfg.events,
            clock: cfg.clock,
            boot_tty: false,
            stream_names: Default::default(),
            stat_layout: StatLayout::default(),
            utc_zone_name: "UTC-0000".into(),
            spin: Default::default(),
        };
        k.fs.retain(root);
        for (key, v) in cfg.env {
            k.set_env(&key, &v);
        }
        for d in ["/tmp", "/home/web_user", "/dev/shm/tmp", "/proc/self/fd"] {
            k.mkdir_p(d).expect("initial tree");
        }
        let proc_dir = k.resolve_path("/proc/self/fd").expect("/proc/self/fd");
        k.mount_proc(proc_dir);
        let dev = k.fs.lookup_cached(root, b"dev").expect("/dev");
        let events = k.events.is_some().then_some(EVENTS);
        for (name, kind, perm, rdev) in DEVICES.into_iter().chain(events) {
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
        let r = self.set_node_data(node, data.into());
        self.close_fd(fd)?;
        r
    }

    /// The contents of the file `path` (symlinks followed), shared; a file
    /// on a host mount is read from the host.
    pub fn file_data(&mut self, path: &str) -> SysResult<FileData> {
        let n = self.resolve_path(path)?;
        self.node_data(n)
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
        let mut names: Vec<Vec<u8>> = self
            .readdir(n)?
            .into_iter()
            .map(|e| e.name)
            .filter(|name| name != b"." && name != b"..")
            .collect();
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

    /// Mounts the host directory `host` at the absolute guest path `guest`
    /// (created, with its parents, if missing; it must be an empty MEMFS
    /// directory other than `/`). `read_only` makes every change `EROFS`.
    pub fn mount_host_dir(&mut self, guest: &str, host: &Path, read_only: bool) -> SysResult<()> {
        if !guest.starts_with('/') {
            return Err(Errno::EINVAL);
        }
        let m = Self::open_host_dir(host, read_only)?;
        self.mkdir_p(guest)?;
        let node = self.resolve_path(guest)?;
        self.mount_host_at(node, m)
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

    /// Makes directory `n` the cwd.
    pub(crate) fn set_cwd(&mut self, n: NodeId) -> SysResult<()> {
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
