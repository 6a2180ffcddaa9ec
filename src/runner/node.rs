//! The Node backend: a guest is a `node` process running the dist's own
//! `pyodide.mjs` through a small driver that ships inside the binary and is
//! written to the cache (`conformance/node/run.mjs`). Node is the
//! reference runtime. The guest's files are staged on disk once per file
//! set and copied into MEMFS by the driver (`--put`); the dist's npm
//! dependencies (`ws`, which sockets need) are installed once into the cache.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio as ProcStdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::dist::Dist;
use crate::host::spec::{FileSet, GuestEnd, GuestSpec, Stdio};
use crate::syscalls::OutputSink;

/// The driver: loads Pyodide as its CLI does and runs CPython's command line.
pub const DRIVER: &str = include_str!("../../conformance/node/run.mjs");

/// Oldest Node major version that runs the dists we support.
pub const MIN_NODE_MAJOR: u32 = 20;

/// How much of Node's stderr is kept to explain a crash.
const STDERR_TAIL: usize = 16 << 10;

/// Check that `node` is present and new enough; returns its version.
pub fn check_node() -> Result<String> {
    let out = Command::new("node")
        .arg("--version")
        .output()
        .map_err(|_| {
            anyhow::anyhow!(
                "--runtime node needs Node.js {MIN_NODE_MAJOR} or newer, and `node` is not on PATH"
            )
        })?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < MIN_NODE_MAJOR {
        bail!("--runtime node needs Node.js {MIN_NODE_MAJOR} or newer, found {version}");
    }
    Ok(version)
}

/// Write the driver into the cache (once per content) and return its path.
pub fn driver_path(cache: &Path) -> Result<PathBuf> {
    let dir = cache.join("node");
    let path = dir.join(format!("run-{}.mjs", short_hash(DRIVER.as_bytes())));
    if !path.is_file() {
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        super::cache::write_atomic(&path, DRIVER.as_bytes())?;
    }
    Ok(path)
}

fn short_hash(bytes: &[u8]) -> String {
    use sha2::Digest;
    crate::hex::encode(&sha2::Sha256::digest(bytes)[..8])
}

/// The dist's npm dependencies (`dependencies` of its `package.json`),
/// installed once into the cache with `npm install`; the directory whose
/// `node_modules` holds them. `None` when the dist needs none or carries
/// its own `node_modules`. A failed install is a warning: Pyodide loads
/// without them, only sockets fail.
pub fn node_deps(cache: &Path, dist: &Dist) -> Option<PathBuf> {
    #[derive(serde::Deserialize)]
    struct Package {
        #[serde(default)]
        dependencies: BTreeMap<String, String>,
    }
    let text = fs::read_to_string(dist.path("package.json")).ok()?;
    let deps = serde_json::from_str::<Package>(&text).ok()?.dependencies;
    if deps.is_empty() || dist.path("node_modules").is_dir() {
        return None;
    }
    let specs: Vec<String> = deps.iter().map(|(n, v)| format!("{n}@{v}")).collect();
    let dir = cache
        .join("node-deps")
        .join(short_hash(specs.join("\n").as_bytes()));
    if dir.join(super::cache::COMPLETE).is_file() {
        return Some(dir);
    }
    let tmp = dir.with_extension(format!("tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let installed = fs::create_dir_all(&tmp).is_ok()
        && Command::new("npm")
            .args(["install", "--no-save", "--no-package-lock", "--omit=dev"])
            .args(["--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
            .arg(&tmp)
            .args(&specs)
            .stdout(ProcStdio::null())
            .status()
            .is_ok_and(|s| s.success())
        && fs::write(tmp.join(super::cache::COMPLETE), b"").is_ok()
        && super::cache::publish_dir(&tmp, &dir).is_ok();
    if installed {
        Some(dir)
    } else {
        let _ = fs::remove_dir_all(&tmp);
        eprintln!(
            "pyodide-test: warning: could not install the dist's npm dependencies ({}); \
             sockets will fail under Node",
            specs.join(", ")
        );
        None
    }
}

/// Guests as `node` processes (see the module documentation).
pub struct NodeBackend {
    driver: PathBuf,
    dist: PathBuf,
    deps: Option<PathBuf>,
    stage: StageDir,
    /// File sets already staged, with their directories.
    staged: Mutex<Vec<(FileSet, PathBuf)>>,
}

/// A directory removed when dropped.
struct StageDir(PathBuf);

impl Drop for StageDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

impl NodeBackend {
    /// Check Node, write the driver and install the dist's npm
    /// dependencies (once, into `cache`).
    pub fn new(cache: &Path, dist: &Dist) -> Result<Self> {
        check_node()?;
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let stage = std::env::temp_dir().join(format!(
            "pyodide-test-node-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&stage);
        fs::create_dir_all(&stage).with_context(|| format!("creating {}", stage.display()))?;
        Ok(Self {
            driver: driver_path(cache)?,
            dist: dist.dir().to_path_buf(),
            deps: node_deps(cache, dist),
            stage: StageDir(stage),
            staged: Mutex::new(Vec::new()),
        })
    }

    /// The staging directory of `set`, written on first use.
    fn stage(&self, set: &FileSet) -> Result<PathBuf> {
        let mut staged = self.staged.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, dir)) = staged.iter().find(|(s, _)| Arc::ptr_eq(s, set)) {
            return Ok(dir.clone());
        }
        let dir = self.stage.0.join(format!("set-{}", staged.len()));
        for (guest, data) in set.iter() {
            let path = dir.join(guest.trim_start_matches('/'));
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(&path, data).with_context(|| format!("staging {}", path.display()))?;
        }
        staged.push((set.clone(), dir.clone()));
        Ok(dir)
    }

    /// Run the guest `spec` describes under Node. A Node process that died
    /// with Pyodide's fatal-error report is a crash.
    pub fn run(&self, spec: &GuestSpec) -> Result<GuestEnd> {
        if !spec.mounts.is_empty() {
            bail!("--mount is not supported with --runtime node");
        }
        let mut cmd = Command::new("node");
        cmd.arg(&self.driver).arg("--dist").arg(&self.dist);
        if let Some(deps) = &self.deps {
            cmd.arg("--node-deps").arg(deps);
        }
        for set in &spec.files {
            let dir = self.stage(set)?;
            for (guest, _) in set.iter() {
                let host = dir.join(guest.trim_start_matches('/'));
                cmd.arg("--put").arg(format!("{}={guest}", host.display()));
            }
        }
        for (k, v) in &spec.env {
            cmd.arg("--env").arg(format!("{k}={v}"));
        }
        // The event channel: a pipe whose write end is the child's fd 3.
        let events = match &spec.events {
            Some(sink) => {
                let (read, write) = pipe()?;
                cmd.arg("--events-fd").arg("3");
                let raw = write.as_raw_fd();
                // SAFETY: dup2 is async-signal-safe; it runs in the child
                // between fork and exec and only touches descriptors.
                unsafe {
                    cmd.pre_exec(move || {
                        if libc::dup2(raw, 3) < 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                        Ok(())
                    });
                }
                Some((read, write, sink.clone()))
            }
            None => None,
        };
        cmd.arg("--").args(&spec.argv);
        // Its own process group, so that a stop ends node and the node it
        // re-runs itself under (JSPI).
        cmd.process_group(0);
        let streams = match &spec.stdio {
            Stdio::Host => None,
            Stdio::Streams { .. } => {
                cmd.stdin(ProcStdio::piped())
                    .stdout(ProcStdio::piped())
                    .stderr(ProcStdio::piped());
                Some(spec.stdio.streams())
            }
        };
        let mut child = cmd
            .spawn()
            .map_err(|e| anyhow::anyhow!("running node: {e}"))?;
        let tail = Arc::new(Mutex::new(Vec::new()));
        let mut pumps = Vec::new();
        if let Some((read, write, sink)) = events {
            // Only the child holds the write end now: its exit ends the pump.
            drop(write);
            pumps.push(pump(Box::new(std::fs::File::from(read)), sink, None));
        }
        if let Some((stdin, stdout, stderr)) = streams {
            let mut to_child = child.stdin.take().expect("piped");
            pumps.push(std::thread::spawn(move || {
                let mut buf = vec![0u8; 1 << 16];
                while let Ok(n) = stdin.read(&mut buf) {
                    if n == 0 || to_child.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }));
            pumps.push(pump(
                Box::new(child.stdout.take().expect("piped")),
                stdout,
                None,
            ));
            pumps.push(pump(
                Box::new(child.stderr.take().expect("piped")),
                stderr,
                Some(tail.clone()),
            ));
        }
        let mut stopped = None;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if let Some(reason) = spec.limits.interrupt.as_ref().and_then(|check| check()) {
                kill_group(child.id());
                stopped = Some(reason);
                break child.wait()?;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The JSPI re-run may outlive its parent: end the group.
        kill_group(child.id());
        for p in pumps {
            let _ = p.join();
        }
        if let Some(reason) = stopped {
            return Ok(GuestEnd::Stopped(reason));
        }
        let code = status.code().unwrap_or(1);
        if code != 0
            && let Some(reason) = fatal_reason(&tail.lock().unwrap_or_else(|e| e.into_inner()))
        {
            return Ok(GuestEnd::Crashed(reason));
        }
        Ok(GuestEnd::Exited(code))
    }
}

/// Copy `from` into `to` until end of file, keeping the last bytes in `tail`.
fn pump(
    mut from: Box<dyn Read + Send>,
    to: Arc<dyn OutputSink>,
    tail: Option<Arc<Mutex<Vec<u8>>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            let _ = to.write(&buf[..n]);
            if let Some(tail) = &tail {
                let mut t = tail.lock().unwrap_or_else(|e| e.into_inner());
                t.extend_from_slice(&buf[..n]);
                if t.len() > STDERR_TAIL {
                    let cut = t.len() - STDERR_TAIL;
                    t.drain(..cut);
                }
            }
        }
    })
}

/// A pipe whose two ends close on exec (the child gets its own copy by dup2).
fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the two descriptors we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error()).context("creating the event pipe");
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn kill_group(pid: u32) {
    // SAFETY: signalling the process group of our own child.
    unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
}

/// Why Pyodide under Node died, from its stderr: the `Aborted(...)` line,
/// else the line after "The cause of the fatal error was:".
pub fn fatal_reason(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    if let Some(line) = lines.iter().find(|l| l.starts_with("Aborted(")) {
        return Some(line.to_string());
    }
    let at = lines
        .iter()
        .position(|l| l.starts_with("The cause of the fatal error was"))?;
    lines.get(at + 1).map(|l| l.to_string())
}
