//! A zygote: one single-threaded process that boots a guest up to a
//! snapshot point (CPython started, the suite's modules imported) and then
//! forks a child per job, each resuming the guest where the zygote left it.
//!
//! The snapshot point is a host call: the guest's prelude reads its job
//! from stdin, and the zygote's stdin (`ForkPoint`) does not return to the
//! guest. It serves the control socket instead: for every `run` request it
//! forks; in the child the read returns that job's description and the
//! guest goes on from there. The OS gives each child a copy-on-write copy of
//! everything — linear memory, tables, side modules, the kernel's MEMFS, the
//! host's own state — so one job's files, globals and imports are gone for
//! the next. A child is stopped by killing it, so the zygote's engine needs
//! no epoch interruption.
//!
//! Protocol (a `SOCK_SEQPACKET` socket pair; the zygote's end is fd
//! [`CONTROL_FD`]):
//! - runner → zygote: `run ID` with five descriptors passed along
//!   (`SCM_RIGHTS`): the job's input (read end: the job description, then
//!   end of file), stdout, stderr, events (write ends) and the result
//!   channel (write end); `kill ID`.
//! - zygote → runner: `ready MS` once (the boot took MS milliseconds) or
//!   `failed MESSAGE`.
//! - on the result channel: the child writes `end JSON` (its
//!   [`GuestEnd`]) before it exits; the zygote, having reaped it, writes
//!   `wait STATUS` (the raw wait status) and closes its copy. End of file
//!   there means the job is over.
//!
//! Shortly after a job has started (`spare_delay`), the zygote forks a
//! spare child for the next (`Spare`): it copies ahead the pages children
//! write (see [`crate::host::prefault`]; a job that comes meanwhile stops
//! the copying) and waits for a `run`'s descriptors, which the zygote
//! passes on to it instead of forking then ([`SPARE_VAR`],
//! [`COPY_AHEAD_VAR`]).
//!
//! A zygote can also go on from its fork point to a later one (a
//! collector: a pytest zygote's collects its share of the suite), itself
//! or in a child that is then a zygote of its own: runner → zygote
//! `collect ID` with the collector's description (read end, as a job's)
//! and, for a child, its own control socket. The collector's guest reads
//! the description and goes on; its next read of stdin is its next fork
//! point, where it serves its socket as above (`ready MS` first). A
//! child collector does not end with the zygote that forked it, only with
//! its own socket.
//!
//! When the runner closes its end, the zygote kills its children and exits.
//! The zygote boots once from a [`GuestSpec`] sent on its stdin
//! ([`write_boot`]).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::process::{Child, Command, Stdio as ProcStdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::boot::PyodideModule;
use super::prefault::PageSets;
use super::spec::{GuestEnd, GuestSpec, ImageSpec, Interrupt, Limits, Mount, Stdio, StopReason};
use crate::host_bytes::{HostBytes, MappedFile};
use crate::syscalls::{HostFd, InputSource, OutputSink};

/// The zygote's end of the control socket.
pub const CONTROL_FD: RawFd = 3;
/// Where the guest's events device writes, in the zygote and its children.
pub const EVENTS_FD: RawFd = 250;
/// Native stack of the zygote's main thread (`RLIMIT_STACK`), which runs
/// the guest: as the guest threads of the runner.
const ZYGOTE_STACK_BYTES: u64 = super::engine::HOST_THREAD_STACK_BYTES as u64 + (16 << 20);
/// Descriptors passed with a `run` request, in order.
const RUN_FDS: usize = 5;
/// How often the runner reads a running job's output (see [`Zygote::run`]).
const DRAIN_INTERVAL: Duration = Duration::from_millis(10);
/// The size asked for the pipes of a job's output: what a child can write
/// between two reads without waiting.
const OUTPUT_PIPE_BYTES: libc::c_int = 1 << 20;
/// How long a zygote may take to boot.
const BOOT_TIMEOUT: Duration = Duration::from_secs(300);

// ---------------------------------------------------------------------
// The boot description
// ---------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct BootHeader {
    python: (u32, u32),
    stdlib_len: u64,
    /// The stdlib zip's host file, when it is mapped (its bytes not sent).
    stdlib_mapped: Option<String>,
    /// Each file set: (path, length, host file) in order. A file given
    /// as a host file (a mapped one: see `host_bytes`) is mapped from it
    /// again, its bytes not sent.
    files: Vec<Vec<(String, u64, Option<String>)>>,
    mounts: Vec<(String, String, bool)>,
    argv: Vec<String>,
    /// The working directory (None: the default home).
    cwd: Option<String>,
    env: Vec<(String, String)>,
    max_memory: u64,
    max_fs: Option<u64>,
    /// The frozen modules: (name, length, host file), as `files`.
    frozen: Vec<(String, u64, Option<String>)>,
    /// The warm-up of the guest's image (see [`GuestSpec::image`]); the
    /// zygote names the image's file itself.
    warm: Option<String>,
    /// The image's `argv_after`: left out of the description's digest (it
    /// names the image), as the image does not hold them.
    argv_after: Vec<String>,
    /// The image's `files_after`, as `files` (their bytes come last), and
    /// left out of the digest as `argv_after` is.
    files_after: Vec<(String, u64, Option<String>)>,
    /// The cache file ([`super::bundle`]) that holds the bytes of the
    /// stdlib, the files and the frozen modules above that are not
    /// mapped, in that order: they are mapped from it rather than sent.
    /// `None`: they are sent, before those of `files_after`.
    bundle: Option<String>,
}

/// Write the zygote's guest to `out`: everything of `spec` but its stdio,
/// events and interrupt (the zygote has its own). A JSON header, then the
/// stdlib and every file's contents, each written straight from the
/// spec's memory; with `bundles` (a directory of the cache), the bytes of
/// all but `files_after` go to a bundle there instead, which the header
/// names (or, if it cannot be written, with a warning, are sent too).
pub fn write_boot(spec: &GuestSpec, out: &mut dyn Write, bundles: Option<&Path>) -> Result<()> {
    let after = files_after(spec);
    let sent: Vec<&[u8]> = std::iter::once(&spec.stdlib_zip)
        .chain(spec.files.iter().flat_map(|s| s.iter()).map(|(_, d)| d))
        .chain(spec.frozen.iter().map(|(_, d)| d))
        .filter(|d| mapped_path(d).is_none())
        .map(|d| &d[..])
        .collect();
    let bundle = bundles.and_then(|dir| match super::bundle::store(dir, &sent) {
        Ok(path) => path.to_str().map(String::from),
        Err(e) => {
            eprintln!("pyodide-test: warning: {e:#} (the zygote is sent its files instead)");
            None
        }
    });
    let header = BootHeader {
        python: spec.python,
        stdlib_len: spec.stdlib_zip.len() as u64,
        stdlib_mapped: mapped_path(&spec.stdlib_zip),
        files: spec
            .files
            .iter()
            .map(|set| {
                set.iter()
                    .map(|(p, d)| {
                        let mapped = mapped_path(d);
                        (p.clone(), d.len() as u64, mapped)
                    })
                    .collect()
            })
            .collect(),
        mounts: spec
            .mounts
            .iter()
            .map(|m| {
                (
                    m.host.to_string_lossy().into_owned(),
                    m.guest.clone(),
                    m.read_only,
                )
            })
            .collect(),
        argv: spec.argv.clone(),
        cwd: spec.cwd.clone(),
        env: spec.env.clone(),
        max_memory: spec.limits.max_memory,
        max_fs: spec.limits.max_fs,
        frozen: spec
            .frozen
            .iter()
            .map(|(name, d)| (name.clone(), d.len() as u64, mapped_path(d)))
            .collect(),
        warm: spec.image.as_ref().map(|i| i.warm.clone()),
        argv_after: spec
            .image
            .as_ref()
            .map(|i| i.argv_after.clone())
            .unwrap_or_default(),
        files_after: after
            .iter()
            .map(|(p, d)| (p.clone(), d.len() as u64, mapped_path(d)))
            .collect(),
        bundle: bundle.clone(),
    };
    let head = serde_json::to_vec(&header)?;
    out.write_all(&(head.len() as u64).to_le_bytes())?;
    out.write_all(&head)?;
    if bundle.is_none() {
        for data in sent {
            out.write_all(data)?;
        }
    }
    for (_, data) in after.iter() {
        if mapped_path(data).is_none() {
            out.write_all(data)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `spec`'s image's `files_after` (none without an image).
fn files_after(spec: &GuestSpec) -> &[(String, HostBytes)] {
    spec.image.as_ref().map_or(&[], |i| &i.files_after[..])
}

/// The host file that a zygote maps `data` from itself, rather than
/// being sent its bytes: a mapped file's (with a path that JSON holds).
fn mapped_path(data: &HostBytes) -> Option<String> {
    data.mapped_file()?.path().to_str().map(String::from)
}

/// The [`GuestSpec`] that [`write_boot`] wrote (host stdio, no events),
/// each file read once, into its own shared memory.
pub fn read_boot_from(from: &mut dyn Read) -> Result<GuestSpec> {
    Ok(read_boot_digest(from)?.0)
}

/// [`read_boot_from`], and the SHA-256 of the description: of every byte
/// read, and of the identity (path, size, times, inode) of each file mapped
/// rather than sent, but the image's `argv_after` and `files_after`. A
/// bundle's bytes are in the digest through its name, their digest.
fn read_boot_digest(from: &mut dyn Read) -> Result<(GuestSpec, [u8; 32])> {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    let mut len = [0u8; 8];
    from.read_exact(&mut len)
        .context("boot description: truncated")?;
    let len = usize::try_from(u64::from_le_bytes(len)).context("boot description: overflow")?;
    let head = crate::shared_file::read_exact(from, len).context("boot description: truncated")?;
    let mut header: BootHeader = serde_json::from_slice(&head)?;
    let argv_after = std::mem::take(&mut header.argv_after);
    let files_after = std::mem::take(&mut header.files_after);
    digest.update(serde_json::to_vec(&header)?);
    let mut take = |n: u64| -> Result<Arc<[u8]>> {
        let n = usize::try_from(n).context("boot description: overflow")?;
        crate::shared_file::read_exact(from, n).context("boot description: truncated")
    };
    let bundle = match &header.bundle {
        Some(path) => Some(Arc::new(
            MappedFile::open(path.as_ref())
                .with_context(|| format!("boot description: mapping {path}"))?,
        )),
        None => None,
    };
    // Where the next file's bytes start in the bundle.
    let mut at = 0usize;
    // The next `n` bytes (from the bundle, if there is one and they are
    // digested), or the host file `mapped`; `digested`: in the digest (the
    // image's `files_after` are not: it does not hold them).
    let mut bytes = |n: u64, mapped: &Option<String>, digested: bool| -> Result<HostBytes> {
        if let (None, Some(bundle), true) = (mapped, &bundle, digested) {
            let n = usize::try_from(n).context("boot description: overflow")?;
            let data = HostBytes::slice(bundle, at, n).with_context(|| {
                format!(
                    "boot description: {} is shorter than its files",
                    bundle.path().display()
                )
            })?;
            at += n;
            return Ok(data);
        }
        let Some(host) = mapped else {
            let data = take(n)?;
            if digested {
                digest.update(&data);
            }
            return Ok(data.into());
        };
        let data = HostBytes::map(host.as_ref())
            .with_context(|| format!("boot description: mapping {host}"))?;
        if data.len() as u64 != n {
            bail!("boot description: {host} changed size");
        }
        if digested {
            let id = crate::file_digest::identity(host.as_ref()).unwrap_or_default();
            digest.update(format!("{host}\0{id}\0").as_bytes());
        }
        Ok(data)
    };
    let stdlib = bytes(header.stdlib_len, &header.stdlib_mapped, true)?;
    let mut files = Vec::new();
    for set in &header.files {
        let mut out = Vec::with_capacity(set.len());
        for (path, n, mapped) in set {
            out.push((path.clone(), bytes(*n, mapped, true)?));
        }
        files.push(Arc::new(out));
    }
    let mut frozen = Vec::new();
    for (name, n, mapped) in &header.frozen {
        frozen.push((name.clone(), bytes(*n, mapped, true)?));
    }
    let mut after = Vec::with_capacity(files_after.len());
    for (path, n, mapped) in &files_after {
        after.push((path.clone(), bytes(*n, mapped, false)?));
    }
    if let Some(bundle) = bundle.as_ref().filter(|b| b.bytes().len() != at) {
        bail!(
            "boot description: {} is longer than its files",
            bundle.path().display()
        );
    }
    let mut spec = GuestSpec::new(header.python, stdlib, header.max_memory);
    spec.files = files;
    spec.frozen = frozen;
    spec.mounts = header
        .mounts
        .into_iter()
        .map(|(host, guest, read_only)| Mount {
            host: host.into(),
            guest,
            read_only,
        })
        .collect();
    spec.argv = header.argv;
    spec.cwd = header.cwd;
    spec.env = header.env;
    spec.limits = Limits {
        max_memory: header.max_memory,
        max_fs: header.max_fs,
        interrupt: None,
    };
    spec.image = header.warm.map(|warm| ImageSpec {
        warm,
        file: None,
        argv_after,
        files_after: Arc::new(after),
    });
    Ok((spec, digest.finalize().into()))
}

// ---------------------------------------------------------------------
// Descriptors and messages
// ---------------------------------------------------------------------

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// A pipe: (read end, write end), both close-on-exec.
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 just opened both and nothing else owns them.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A `SOCK_SEQPACKET` pair, close-on-exec.
fn seqpacket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors socketpair writes.
    cvt(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    // SAFETY: socketpair just opened both and nothing else owns them.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Send one message with descriptors attached.
fn send_msg(sock: RawFd, data: &[u8], fds: &[RawFd]) -> io::Result<()> {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut _,
        iov_len: data.len(),
    };
    // SAFETY: CMSG_SPACE is a pure computation.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of_val(fds) as u32) } as usize;
    let mut control = vec![0u8; space.max(1)];
    // SAFETY: zeroed msghdr is a valid empty header; every pointer set below
    // points at live buffers of the given lengths.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        // SAFETY: the control buffer is CMSG_SPACE(len) bytes, room for one
        // header and `fds`.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of_val(fds) as u32) as _;
            std::ptr::copy_nonoverlapping(fds.as_ptr(), libc::CMSG_DATA(cmsg).cast(), fds.len());
        }
    }
    loop {
        // SAFETY: `msg` is fully initialised above.
        let n = unsafe { libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL) };
        if n >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Receive one message (up to 64 KiB) and the descriptors that came with
/// it; `None` at end of file.
fn recv_msg(sock: RawFd) -> io::Result<Option<(Vec<u8>, Vec<OwnedFd>)>> {
    let mut buf = vec![0u8; 1 << 16];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: a pure computation.
    let space = unsafe { libc::CMSG_SPACE((RUN_FDS * std::mem::size_of::<RawFd>()) as u32) };
    let mut control = vec![0u8; space as usize];
    // SAFETY: zeroed msghdr is a valid empty header; the pointers set below
    // point at live buffers of the given lengths.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = control.len() as _;
    let n = loop {
        // SAFETY: `msg` describes the buffers above.
        let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n >= 0 {
            break n as usize;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    };
    let mut fds = Vec::new();
    // SAFETY: walking the control messages recvmsg filled in; every
    // descriptor in an SCM_RIGHTS message is new and ours.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(cmsg) as *const RawFd;
                let count = ((*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize)
                    / std::mem::size_of::<RawFd>();
                for i in 0..count {
                    fds.push(OwnedFd::from_raw_fd(std::ptr::read_unaligned(data.add(i))));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    if n == 0 && fds.is_empty() {
        return Ok(None);
    }
    buf.truncate(n);
    Ok(Some((buf, fds)))
}

fn write_all(fd: RawFd, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        // SAFETY: the pointer/length pair describes `data`.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        data = &data[n as usize..];
    }
    Ok(())
}

fn read_some(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: the pointer/length pair describes `buf`.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// How a job's guest ended, as the child reports it.
#[derive(Serialize, Deserialize)]
enum EndWire {
    Exited(i32),
    Crashed(String),
}

// ---------------------------------------------------------------------
// The zygote process
// ---------------------------------------------------------------------

/// What a child keeps of its job after the fork.
struct ChildJob {
    /// The job description (read end).
    input: RawFd,
    /// Where `end JSON` goes.
    result: RawFd,
}

/// Set in a child right after the fork.
static CHILD: OnceLock<ChildJob> = OnceLock::new();

/// A zygote's live children, kept from one fork point to the next.
static KIDS: Mutex<Option<HashMap<u64, Kid>>> = Mutex::new(None);

/// In a collector (see the module documentation) until its guest has read
/// its description to the end: where the description comes from.
static COLLECTING: Mutex<Option<OwnedFd>> = Mutex::new(None);

/// The zygote's stdin: the fork point (see the module documentation).
struct ForkPoint {
    started: Instant,
}

impl InputSource for ForkPoint {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(job) = CHILD.get() {
                return read_some(job.input, buf);
            }
            {
                let mut collecting = COLLECTING.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(input) = collecting.as_ref() {
                    let n = read_some(input.as_raw_fd(), buf)?;
                    if n == 0 {
                        // The description is read: the guest's next read
                        // is this collector's own fork point.
                        *collecting = None;
                    }
                    return Ok(n);
                }
            }
            // In a zygote: this returns only in a child (a job's, or a
            // collector).
            serve(self.started);
        }
    }
}

/// A live child of the zygote.
struct Kid {
    pid: libc::pid_t,
    pidfd: OwnedFd,
    /// Where `wait STATUS` goes (a job's; a collector has none).
    result: Option<OwnedFd>,
}

/// The threads of this process.
fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

fn report_failure(message: &str) -> ! {
    let _ = send_msg(CONTROL_FD, format!("failed {message}").as_bytes(), &[]);
    // SAFETY: ends the process without running anything else.
    unsafe { libc::_exit(1) }
}

/// The zygote's loop; returns only in a forked child.
fn serve(started: Instant) {
    if thread_count() != 1 {
        report_failure(&format!(
            "the zygote has {} threads at the fork point; it must have one",
            thread_count()
        ));
    }
    let ready = format!("ready {}", started.elapsed().as_millis());
    if send_msg(CONTROL_FD, ready.as_bytes(), &[]).is_err() {
        // SAFETY: ends the process; the runner is gone.
        unsafe { libc::_exit(0) }
    }
    // The children forked at an earlier fork point (collectors) too.
    let mut kids = (KIDS.lock().unwrap_or_else(|e| e.into_inner()))
        .take()
        .unwrap_or_default();
    let spares = not_off(SPARE_VAR);
    // This zygote's own (a collector does not copy its parent's pages).
    *PAGES.lock().unwrap_or_else(|e| e.into_inner()) = if spares && not_off(COPY_AHEAD_VAR) {
        PageSets::at_fork_point().map(Arc::new)
    } else {
        None
    };
    let mut spare: Option<Spare> = None;
    let spare_delay = spare_delay();
    // When the next spare is to be forked.
    let mut spare_due: Option<Instant> = None;
    loop {
        if let Some(due) = spare_due
            && Instant::now() >= due
        {
            spare_due = None;
            if spare.is_none() {
                match Spare::fork(&mut kids) {
                    Ok(Some(s)) => spare = Some(s),
                    Ok(None) => return, // in the spare, now the job's child
                    Err(_) => {}
                }
            }
        }
        let mut polls: Vec<libc::pollfd> = vec![libc::pollfd {
            fd: CONTROL_FD,
            events: libc::POLLIN,
            revents: 0,
        }];
        let ids: Vec<u64> = kids.keys().copied().collect();
        for id in &ids {
            polls.push(libc::pollfd {
                fd: kids[id].pidfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
        }
        let timeout = spare_due.map_or(-1, |due| {
            due.saturating_duration_since(Instant::now())
                .as_micros()
                .div_ceil(1000) as libc::c_int
        });
        // SAFETY: `polls` is a live array of pollfd of the given length.
        let n = unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as _, timeout) };
        if n <= 0 {
            continue; // EINTR, or the spare is due
        }
        for (i, id) in ids.iter().enumerate() {
            if polls[i + 1].revents != 0
                && let Some(kid) = kids.remove(id)
            {
                let mut status = 0;
                // SAFETY: `kid.pid` is our child, not yet reaped.
                unsafe { libc::waitpid(kid.pid, &mut status, 0) };
                if let Some(result) = &kid.result {
                    let _ = write_all(result.as_raw_fd(), format!("wait {status}\n").as_bytes());
                }
            }
        }
        if polls[0].revents == 0 {
            continue;
        }
        let msg = match recv_msg(CONTROL_FD) {
            Ok(Some(m)) => m,
            // The runner is gone (or the socket broke): end every child.
            Ok(None) | Err(_) => {
                if let Some(spare) = spare.take() {
                    spare.end();
                }
                for kid in kids.values() {
                    // SAFETY: signalling and reaping our own children.
                    unsafe {
                        libc::kill(kid.pid, libc::SIGKILL);
                        libc::waitpid(kid.pid, std::ptr::null_mut(), 0);
                    }
                }
                // SAFETY: ends the zygote.
                unsafe { libc::_exit(0) }
            }
        };
        let (text, fds) = msg;
        let text = String::from_utf8_lossy(&text).into_owned();
        let (verb, arg) = text.split_once(' ').unwrap_or((&text, ""));
        let Ok(id) = arg.trim().parse::<u64>() else {
            continue;
        };
        match verb {
            "kill" => {
                if let Some(kid) = kids.get(&id) {
                    // SAFETY: not yet reaped, so the pid is still our child's.
                    unsafe { libc::kill(kid.pid, libc::SIGKILL) };
                }
            }
            "collect" if fds.len() == 1 => {
                // This zygote goes on itself.
                if let Some(spare) = spare.take() {
                    spare.end();
                }
                *KIDS.lock().unwrap_or_else(|e| e.into_inner()) = Some(kids);
                *COLLECTING.lock().unwrap_or_else(|e| e.into_inner()) = fds.into_iter().next();
                return;
            }
            "collect" => {
                if let Some(()) = fork_collector(id, fds, &mut kids) {
                    return; // in the collector
                }
            }
            "run" if fds.len() == RUN_FDS => {
                let fds = match spare.take() {
                    Some(spare) => spare.take(id, fds, &mut kids).err(),
                    None => Some(fds),
                };
                if let Some(fds) = fds
                    && let Some(()) = fork_job(id, fds, &mut kids)
                {
                    return; // in the child
                }
                // A job has started: more are likely to follow, and the
                // next one is given to a spare forked shortly.
                if spares {
                    spare_due = Some(Instant::now() + spare_delay);
                }
            }
            _ => {}
        }
    }
}

/// Fork a child for job `id`; `Some` in the child.
fn fork_job(id: u64, fds: Vec<OwnedFd>, kids: &mut HashMap<u64, Kid>) -> Option<()> {
    let fds: [OwnedFd; RUN_FDS] = fds.try_into().ok()?;
    // SAFETY: the process is single-threaded (checked before serving), so
    // the child's only thread is this one, holding no lock of another.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        let _ = write_all(
            fds[4].as_raw_fd(),
            format!(
                "end {}\n",
                serde_json::to_string(&EndWire::Crashed(format!(
                    "the zygote could not fork: {}",
                    io::Error::last_os_error()
                )))
                .unwrap_or_default()
            )
            .as_bytes(),
        );
        return None;
    }
    if pid == 0 {
        leave_zygote(kids);
        take_job(fds);
        return Some(());
    }
    let [_, _, _, _, result] = fds;
    keep(kids, id, pid, Some(result))
}

/// Watch the zygote's new child `pid` (job `id`, whose `wait` line goes to
/// `result`); `None` (as a fork in the zygote returns).
fn keep(
    kids: &mut HashMap<u64, Kid>,
    id: u64,
    pid: libc::pid_t,
    result: Option<OwnedFd>,
) -> Option<()> {
    let pidfd = watch(pid)?;
    kids.insert(id, Kid { pid, pidfd, result });
    None
}

/// Fork collector `id` (see the module documentation), whose description
/// and control socket are `fds`; `Some` in the collector. When it cannot be
/// forked, its socket closes: the runner learns it ended while booting.
fn fork_collector(id: u64, fds: Vec<OwnedFd>, kids: &mut HashMap<u64, Kid>) -> Option<()> {
    let [input, control]: [OwnedFd; 2] = fds.try_into().ok()?;
    // SAFETY: as in `fork_job`: the process is single-threaded.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return None;
    }
    if pid == 0 {
        leave_zygote(kids);
        // SAFETY: placing our own socket at CONTROL_FD (closed just
        // above); a collector lives as long as its socket, not its parent
        // (whose own collection may end it).
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, 0);
            libc::dup2(control.as_raw_fd(), CONTROL_FD);
        }
        drop(control);
        *COLLECTING.lock().unwrap_or_else(|e| e.into_inner()) = Some(input);
        return Some(());
    }
    keep(kids, id, pid, None)
}

/// In a new child: nothing of the zygote's (the control socket, the other
/// children's descriptors), and killed if the zygote goes.
fn leave_zygote(kids: &mut HashMap<u64, Kid>) {
    // SAFETY: plain process and descriptor operations.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        libc::close(CONTROL_FD);
    }
    for kid in kids.drain().map(|(_, k)| k) {
        drop(kid);
    }
}

/// In a child: take the job whose descriptors are `fds` (stdio and events
/// on its pipes); its guest then reads the job.
fn take_job(fds: [OwnedFd; RUN_FDS]) {
    let [input, stdout, stderr, events, result] = fds;
    // SAFETY: plain descriptor operations on descriptors we own.
    unsafe {
        libc::dup2(stdout.as_raw_fd(), 1);
        libc::dup2(stderr.as_raw_fd(), 2);
        libc::dup2(events.as_raw_fd(), EVENTS_FD);
    }
    drop((stdout, stderr, events));
    let job = ChildJob {
        input: std::mem::ManuallyDrop::new(input).as_raw_fd(),
        result: std::mem::ManuallyDrop::new(result).as_raw_fd(),
    };
    let _ = CHILD.set(job);
}

/// A pidfd for the zygote's new child `pid` (to learn of its end); without
/// one the child is killed and reaped rather than lost.
fn watch(pid: libc::pid_t) -> Option<OwnedFd> {
    // SAFETY: pidfd_open on our own child.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if pidfd < 0 {
        // SAFETY: our own child.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
        return None;
    }
    // SAFETY: pidfd_open returned a new descriptor that nothing else owns.
    Some(unsafe { OwnedFd::from_raw_fd(pidfd as RawFd) })
}

/// Whether `fd` has something to read (or its other end is closed), now.
fn readable(fd: RawFd) -> bool {
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one live pollfd, no waiting.
    unsafe { libc::poll(&mut poll, 1, 0) > 0 }
}

/// A child forked before its job is known: it copies the pages children
/// write ([`PageSets::prefault`]) and waits on `chan` for a job's
/// descriptors, so that the next job starts without waiting for the fork
/// and the copies (see the module documentation).
struct Spare {
    pid: libc::pid_t,
    pidfd: OwnedFd,
    chan: OwnedFd,
}

impl Spare {
    /// Fork a spare; `Ok(None)` in the spare once it has its job, `Err` if
    /// it could not be forked.
    fn fork(kids: &mut HashMap<u64, Kid>) -> io::Result<Option<Spare>> {
        let (ours, theirs) = seqpacket_pair()?;
        // SAFETY: as in `fork_job`: the process is single-threaded.
        let pid = cvt(unsafe { libc::fork() })?;
        if pid == 0 {
            drop(ours);
            leave_zygote(kids);
            // Copying stops as soon as the job has come.
            let wanted = || readable(theirs.as_raw_fd());
            let copied = pages().map_or(0, |pages| pages.prefault(&wanted));
            // Nothing (or not a job) comes if the zygote has ended or is
            // done with this spare.
            if let Ok(Some((_, fds))) = recv_msg(theirs.as_raw_fd())
                && let Ok(fds) = <[OwnedFd; RUN_FDS]>::try_from(fds)
            {
                if std::env::var_os("PYODIDE_TEST_TIMING").is_some() {
                    // On the zygote's stderr (the runner's), before the
                    // job's replaces it.
                    crate::stderr_line::write(&format!(
                        "pyodide-test: a spare took a job, {copied} pages copied ahead"
                    ));
                }
                take_job(fds);
                return Ok(None);
            }
            // SAFETY: ends the spare without running anything else.
            unsafe { libc::_exit(0) }
        }
        drop(theirs);
        let pidfd = watch(pid).ok_or_else(io::Error::last_os_error)?;
        Ok(Some(Spare {
            pid,
            pidfd,
            chan: ours,
        }))
    }

    /// Give job `id` (its descriptors `fds`) to this spare; the descriptors
    /// back if it is gone.
    fn take(
        self,
        id: u64,
        fds: Vec<OwnedFd>,
        kids: &mut HashMap<u64, Kid>,
    ) -> Result<(), Vec<OwnedFd>> {
        let raw: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
        if fds.len() != RUN_FDS || send_msg(self.chan.as_raw_fd(), b"run", &raw).is_err() {
            self.end();
            return Err(fds);
        }
        let Spare { pid, pidfd, .. } = self;
        let result = fds.into_iter().nth(4);
        kids.insert(id, Kid { pid, pidfd, result });
        Ok(())
    }

    /// Stop and reap an unused spare.
    fn end(self) {
        // SAFETY: our own child, not yet reaped.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::waitpid(self.pid, std::ptr::null_mut(), 0);
        }
    }
}

/// What the zygote's children wrote (see [`crate::host::prefault`]), set
/// at the fork point when the zygote keeps spares.
static PAGES: Mutex<Option<Arc<PageSets>>> = Mutex::new(None);

/// This zygote's [`PAGES`].
fn pages() -> Option<Arc<PageSets>> {
    PAGES.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// How long after a job has started the zygote forks the spare for the
/// next: the fork (copying the page tables of the zygote's memory, 1.5-9
/// ms for pydantic-core's) would otherwise take the core that the job's
/// child, just woken, waits for. Milliseconds, from
/// `PYODIDE_TEST_ZYGOTE_SPARE_DELAY_MS` (to measure), else [`SPARE_DELAY_MS`].
fn spare_delay() -> Duration {
    let ms = std::env::var("PYODIDE_TEST_ZYGOTE_SPARE_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(SPARE_DELAY_MS);
    Duration::from_millis(ms)
}

/// See [`spare_delay`].
const SPARE_DELAY_MS: u64 = 2;

/// `0`: the zygote keeps no spare child, and forks at each `run` (to
/// measure without).
pub const SPARE_VAR: &str = "PYODIDE_TEST_ZYGOTE_SPARE";
/// `0`: the zygote's spare forks ahead but copies no pages ahead; for a
/// zygote whose jobs keep every core busy, where the copying (of pages
/// some jobs never write: about 5,600 a spare for the largest jobs
/// measured) would take time from them.
pub const COPY_AHEAD_VAR: &str = "PYODIDE_TEST_ZYGOTE_COPY_AHEAD";

/// Whether the environment variable `name` is set to anything but `0`, or
/// not at all.
fn not_off(name: &str) -> bool {
    std::env::var_os(name).is_none_or(|v| v != "0")
}

/// The zygote's body (its process's main thread): boot `spec`'s guest to
/// its fork point under `module` (whose engine has no epochs) and serve the
/// control socket. Never returns: the zygote and each child end here.
pub fn serve_forever(module: &PyodideModule, mut spec: GuestSpec, started: Instant) -> ! {
    // The guest's stdout and stderr are the process's fds 1 and 2 (the
    // job's pipes in a child); its events go to EVENTS_FD.
    // SAFETY: opening /dev/null and placing it at EVENTS_FD until a child
    // gets its own.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
        if null >= 0 {
            libc::dup2(null, EVENTS_FD);
            libc::close(null);
        }
    }
    spec.stdio = Stdio::Streams {
        stdin: Arc::new(ForkPoint { started }),
        stdout: Arc::new(HostFd(1)),
        stderr: Arc::new(HostFd(2)),
    };
    spec.events = Some(Arc::new(HostFd(EVENTS_FD)));
    spec.limits.interrupt = None;
    // A child reports its end and leaves at once: the process goes, so
    // nothing of the store needs freeing.
    let end = module.run_then(&spec, &mut |end| {
        if let Some(job) = CHILD.get() {
            report_end(job, Ok(end.clone()));
        }
    });
    let Some(job) = CHILD.get() else {
        // The guest ended before its fork point.
        let why = match end {
            Ok(GuestEnd::Exited(s)) => format!("the guest exited with status {s} while booting"),
            Ok(other) => format!("the guest ended while booting: {other:?}"),
            Err(e) => format!("{e:#}"),
        };
        report_failure(&why);
    };
    report_end(job, end)
}

/// Send a child's end to the runner and end the child, without running
/// destructors (the zygote's, or the store's).
fn report_end(job: &ChildJob, end: Result<GuestEnd>) -> ! {
    let wire = match end {
        Ok(GuestEnd::Exited(s)) => EndWire::Exited(s),
        Ok(GuestEnd::Crashed(m)) => EndWire::Crashed(m),
        Ok(GuestEnd::Stopped(r)) => EndWire::Crashed(format!("stopped: {r}")),
        Err(e) => EndWire::Crashed(format!("{e:#}")),
    };
    let line = format!("end {}\n", serde_json::to_string(&wire).unwrap_or_default());
    // Output first, then the end: the runner, once it has read both, need
    // not wait for the process to be gone (taking apart its copy of the
    // zygote's memory takes milliseconds).
    // SAFETY: closing the child's own descriptors (all written through).
    unsafe {
        libc::close(1);
        libc::close(2);
        libc::close(EVENTS_FD);
    }
    let _ = write_all(job.result, line.as_bytes());
    // What this child wrote, for the next spares to copy ahead (after the
    // end is reported: the runner need not wait for it).
    if let Some(pages) = pages() {
        pages.record();
    }
    // SAFETY: ends the child without running destructors.
    unsafe { libc::_exit(0) }
}

/// The zygote's half of [`Zygote::spawn`]'s setup, at the top of its
/// process: read the boot description from stdin, then put `/dev/null` on
/// stdin. With the description's digest (see `read_boot_digest`).
pub fn read_boot() -> Result<(GuestSpec, [u8; 32])> {
    let spec = read_boot_digest(&mut io::stdin().lock()).context("reading the boot description")?;
    // SAFETY: replacing fd 0 with /dev/null.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
        if null >= 0 {
            libc::dup2(null, 0);
            libc::close(null);
        }
    }
    Ok(spec)
}

// ---------------------------------------------------------------------
// The runner's side
// ---------------------------------------------------------------------

/// One job for a zygote's child: run `module` as `python -m module args`
/// would, after setting `env` and writing `files`. The child is also told
/// (`first`) whether it is its zygote's first.
#[derive(Serialize, Clone, Debug, Default)]
pub struct Job {
    /// The module to run (`-m`).
    pub module: String,
    /// Its arguments (`sys.argv[1:]`).
    pub args: Vec<String>,
    /// Environment variables to set.
    pub env: Vec<(String, String)>,
    /// Files to write first: (absolute guest path, contents in base64).
    pub files: Vec<(String, String)>,
    /// Finalise the interpreter at the end as a normal run does (clear
    /// `sys.modules`, collect, `Py_FinalizeEx`); otherwise the child runs
    /// the exit handlers, flushes and ends.
    pub finalize: bool,
}

/// The id of a zygote's first job (ids count up from it).
const FIRST_JOB: u64 = 1;

/// A running zygote (see the module documentation).
pub struct Zygote {
    control: OwnedFd,
    send: Mutex<()>,
    /// The zygote's process, or for a collector the zygote that forked it
    /// (kept as long as the collector: a zygote that ends kills its
    /// children, collectors among them).
    process: Parent,
    next: AtomicU64,
    /// Whether no job has run yet (the guest is told: see [`Job`]).
    first: AtomicBool,
    /// How long the zygote took from its start to the fork point.
    pub boot: Duration,
}

/// A collector asked of a zygote ([`Zygote::fork_collector`]), not yet
/// at its fork point.
pub struct PendingCollector {
    control: OwnedFd,
    parent: Arc<Zygote>,
    started: Instant,
}

impl PendingCollector {
    /// The collector, once at its fork point.
    pub fn wait(self) -> Result<Zygote> {
        let process = Parent::Zygote {
            _parent: self.parent,
        };
        Zygote::ready(self.control, process, self.started)
    }
}

/// Wait for a zygote's `ready` on `control` (or `failed`, or its end).
fn await_ready(control: &OwnedFd) -> Result<()> {
    let mut poll = libc::pollfd {
        fd: control.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one live pollfd.
    let n = unsafe { libc::poll(&mut poll, 1, BOOT_TIMEOUT.as_millis() as i32) };
    if n == 0 {
        bail!("the zygote did not boot in {} s", BOOT_TIMEOUT.as_secs());
    }
    let reply = recv_msg(control.as_raw_fd()).context("the zygote's reply")?;
    let Some((text, _)) = reply else {
        bail!("the zygote ended while booting");
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    match text.split_once(' ') {
        Some(("ready", _)) => Ok(()),
        Some(("failed", why)) => bail!("the zygote failed to boot: {why}"),
        _ => bail!("unexpected reply from the zygote: {text:?}"),
    }
}

/// Who ends a zygote's process.
enum Parent {
    /// The runner started it.
    Runner(Mutex<Child>),
    /// A collector: the zygote that forked it, kept alive while it is.
    Zygote { _parent: Arc<Zygote> },
}

impl Zygote {
    /// Start `command` (this program's hidden zygote subcommand) as a
    /// zygote booting `boot` (as [`write_boot`] writes it, with `bundles`),
    /// and wait until it is at its fork point.
    pub fn spawn(mut command: Command, boot: &GuestSpec, bundles: Option<&Path>) -> Result<Zygote> {
        let started = Instant::now();
        let (ours, theirs) = seqpacket_pair().context("creating the zygote's socket")?;
        let theirs_fd = theirs.as_raw_fd();
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            use std::os::unix::process::CommandExt;
            command.pre_exec(move || {
                if libc::dup2(theirs_fd, CONTROL_FD) < 0 {
                    return Err(io::Error::last_os_error());
                }
                // Its own process group: a terminal's Ctrl-C goes to the
                // runner, which stops the jobs itself.
                libc::setpgid(0, 0);
                // The guest runs on the zygote's main thread.
                let mut old: libc::rlimit = std::mem::zeroed();
                libc::getrlimit(libc::RLIMIT_STACK, &mut old);
                let stack = libc::rlimit {
                    rlim_max: old.rlim_max,
                    rlim_cur: ZYGOTE_STACK_BYTES.min(old.rlim_max),
                };
                libc::setrlimit(libc::RLIMIT_STACK, &stack);
                Ok(())
            });
        }
        command
            .stdin(ProcStdio::piped())
            .stdout(ProcStdio::null())
            .stderr(ProcStdio::inherit());
        let mut child = command.spawn().context("starting the zygote")?;
        drop(theirs);
        {
            let mut stdin = child.stdin.take().context("the zygote's stdin")?;
            // Tens of megabytes go through the pipe: in large pieces.
            // SAFETY: fcntl on our own pipe; failing leaves the default.
            unsafe { libc::fcntl(stdin.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20) };
            if let Err(e) = write_boot(boot, &mut stdin, bundles) {
                let _ = child.kill();
                let _ = child.wait();
                bail!("sending the zygote its guest: {e}");
            }
        }
        Zygote::ready(ours, Parent::Runner(Mutex::new(child)), started)
    }

    /// Ask the zygote `parent` for a collector in a child (see the module
    /// documentation), whose guest reads `description` (JSON) at the fork
    /// point and goes on; [`PendingCollector::wait`] for it.
    pub fn fork_collector(
        parent: &Arc<Zygote>,
        description: &serde_json::Value,
    ) -> Result<PendingCollector> {
        let started = Instant::now();
        let (ours, theirs) = seqpacket_pair().context("creating a collector's socket")?;
        parent.collect(description, Some(theirs))?;
        Ok(PendingCollector {
            control: ours,
            parent: parent.clone(),
            started,
        })
    }

    /// Have this zygote go on from its fork point itself, as a collector
    /// reading `description`, and wait until it is at its next fork point
    /// (how long that took). Its children so far stay.
    pub fn go_on(&self, description: &serde_json::Value) -> Result<Duration> {
        let started = Instant::now();
        self.collect(description, None)?;
        await_ready(&self.control)?;
        Ok(started.elapsed())
    }

    /// Send `collect ID` with `description` and, for a child collector,
    /// its socket.
    fn collect(&self, description: &serde_json::Value, socket: Option<OwnedFd>) -> Result<()> {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let (input_r, input_w) = pipe()?;
        let mut fds = vec![input_r.as_raw_fd()];
        fds.extend(socket.as_ref().map(|s| s.as_raw_fd()));
        self.send(&format!("collect {id}"), &fds)
            .context("asking the zygote for a collector")?;
        drop((input_r, socket));
        // A collector that is gone before reading it shows as its end.
        let _ = write_all(input_w.as_raw_fd(), &serde_json::to_vec(description)?);
        Ok(())
    }

    /// The zygote at the other end of `control` once it is at its fork
    /// point.
    fn ready(control: OwnedFd, process: Parent, started: Instant) -> Result<Zygote> {
        await_ready(&control)?;
        Ok(Zygote {
            control,
            send: Mutex::new(()),
            process,
            next: AtomicU64::new(FIRST_JOB),
            first: AtomicBool::new(true),
            boot: started.elapsed(),
        })
    }

    /// Tell the zygote to end (it kills and reaps its children), without
    /// waiting for it: several zygotes then end side by side before their
    /// drops wait for each.
    pub fn shutdown(&self) {
        // SAFETY: shutting down our own socket; the fd is closed by OwnedFd.
        unsafe { libc::shutdown(self.control.as_raw_fd(), libc::SHUT_RDWR) };
    }

    fn send(&self, text: &str, fds: &[RawFd]) -> io::Result<()> {
        let _guard = self.send.lock().unwrap_or_else(|e| e.into_inner());
        send_msg(self.control.as_raw_fd(), text.as_bytes(), fds)
    }

    /// Run `job` in a new child: its stdout, stderr and events go to the
    /// sinks as they come; `interrupt` is checked about ten times a second
    /// (a reason kills the child).
    pub fn run(
        &self,
        job: &Job,
        stdout: &dyn OutputSink,
        stderr: &dyn OutputSink,
        events: Option<&dyn OutputSink>,
        interrupt: Option<&Interrupt>,
    ) -> Result<GuestEnd> {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let (input_r, input_w) = pipe()?;
        let (out_r, out_w) = pipe()?;
        let (err_r, err_w) = pipe()?;
        let (ev_r, ev_w) = pipe()?;
        let (res_r, res_w) = pipe()?;
        self.send(
            &format!("run {id}"),
            &[
                input_r.as_raw_fd(),
                out_w.as_raw_fd(),
                err_w.as_raw_fd(),
                ev_w.as_raw_fd(),
                res_w.as_raw_fd(),
            ],
        )
        .context("sending a job to the zygote")?;
        drop((input_r, out_w, err_w, ev_w, res_w));
        // The guest learns whether it is the zygote's first child (for
        // what only one child of a zygote need do).
        let mut payload = serde_json::to_value(job)?;
        payload["first"] = self.first.swap(false, Ordering::SeqCst).into();
        let payload = serde_json::to_vec(&payload)?;
        // A child that is gone before reading it shows on the result channel.
        let _ = write_all(input_w.as_raw_fd(), &payload);
        drop(input_w);

        // The child's output is read every DRAIN_INTERVAL, not as it comes:
        // only the result channel is waited on. A write to a pipe that a
        // reader waits on wakes that reader, which costs the writer (a
        // guest that reports each test's start and end: bitarray at `-j 1`
        // on this 2-core VM, about 0.3 ms a write, 0.5-0.9 s of the run's
        // CPU in the kernel); with no reader waiting, a write is a copy.
        for fd in [&out_r, &err_r, &ev_r] {
            // SAFETY: fcntl on our own pipe end; failing leaves the
            // default size.
            unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, OUTPUT_PIPE_BYTES) };
        }
        for fd in [&out_r, &err_r, &ev_r, &res_r] {
            // SAFETY: fcntl on our own pipe end; failing leaves it
            // blocking.
            unsafe {
                let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
                libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
            }
        }
        let mut open: Vec<(OwnedFd, u8)> = vec![(out_r, 0), (err_r, 1), (ev_r, 2), (res_r, 3)];
        let mut result = Vec::new();
        let mut stopped: Option<StopReason> = None;
        let mut buf = vec![0u8; 1 << 16];
        let mut last_check = Instant::now();
        // Until every channel is closed, or the child's output is and it
        // has sent its end (the zygote's `wait` line, after the child is
        // reaped, is then not needed).
        let ended = |open: &[(OwnedFd, u8)], result: &[u8]| {
            open.iter().all(|(_, which)| *which == 3)
                && result
                    .split(|&b| b == b'\n')
                    .rev()
                    .skip(1)
                    .any(|line| line.starts_with(b"end "))
        };
        while !open.is_empty() && !ended(&open, &result) {
            // The result channel: readable with the child's end (written
            // after its output is closed), the zygote's `wait`, or at the
            // end of file.
            if let Some((fd, _)) = open.iter().find(|(_, which)| *which == 3) {
                let mut poll = libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one live pollfd.
                unsafe { libc::poll(&mut poll, 1, DRAIN_INTERVAL.as_millis() as i32) };
            } else {
                std::thread::sleep(DRAIN_INTERVAL);
            }
            let mut closed = Vec::new();
            for (i, (fd, which)) in open.iter().enumerate() {
                // What the channel holds now (none of them blocks).
                loop {
                    let got = match read_some(fd.as_raw_fd(), &mut buf) {
                        Ok(0) => {
                            closed.push(i);
                            break;
                        }
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(_) => {
                            closed.push(i);
                            break;
                        }
                    };
                    let data = &buf[..got];
                    let _ = match which {
                        0 => stdout.write(data),
                        1 => stderr.write(data),
                        2 => events.map_or(Ok(()), |e| e.write(data)),
                        _ => {
                            result.extend_from_slice(data);
                            Ok(())
                        }
                    };
                }
            }
            for i in closed.into_iter().rev() {
                open.remove(i);
            }
            if stopped.is_none() && last_check.elapsed() >= Duration::from_millis(100) {
                last_check = Instant::now();
                if let Some(reason) = interrupt.and_then(|check| check()) {
                    stopped = Some(reason);
                    let _ = self.send(&format!("kill {id}"), &[]);
                }
            }
        }
        let _ = stdout.flush();
        let _ = stderr.flush();
        if let Some(e) = events {
            let _ = e.flush();
        }
        if let Some(reason) = stopped {
            return Ok(GuestEnd::Stopped(reason));
        }
        let text = String::from_utf8_lossy(&result);
        let mut end = None;
        let mut wait = None;
        for line in text.lines() {
            if let Some(json) = line.strip_prefix("end ") {
                end = serde_json::from_str::<EndWire>(json).ok();
            } else if let Some(s) = line.strip_prefix("wait ") {
                wait = s.trim().parse::<i32>().ok();
            }
        }
        Ok(match (end, wait) {
            (Some(EndWire::Exited(s)), _) => GuestEnd::Exited(s),
            (Some(EndWire::Crashed(m)), _) => GuestEnd::Crashed(m),
            (None, Some(status)) if libc::WIFSIGNALED(status) => GuestEnd::Crashed(format!(
                "the guest's process was killed by signal {}",
                libc::WTERMSIG(status)
            )),
            (None, Some(status)) => GuestEnd::Crashed(format!(
                "the guest's process exited with status {} without an end",
                libc::WEXITSTATUS(status)
            )),
            (None, None) => GuestEnd::Crashed("the zygote is gone".to_string()),
        })
    }
}

impl Drop for Zygote {
    fn drop(&mut self) {
        // Closing our end ends the zygote (it kills and reaps its
        // children); one that does not end soon (still booting) is killed.
        self.shutdown();
        let Parent::Runner(child) = &self.process else {
            // A collector ends with its socket (and with its zygote).
            return;
        };
        let mut child = child.lock().unwrap_or_else(|e| e.into_inner());
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// In the zygote, before its fork point: tell the runner why it cannot
/// serve, and end.
pub fn fail(message: &str) -> ! {
    report_failure(message)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::{GuestSpec, ImageSpec, read_boot_digest, write_boot};
    use crate::host_bytes::HostBytes;
    use crate::host_bytes::test_support::TempFile;

    /// A description with files in memory (two sets and a frozen module),
    /// a mapped one, and `files_after`.
    fn spec(first: &[u8], after: &[u8], mapped: &HostBytes) -> GuestSpec {
        let mut spec = GuestSpec::new((3, 14), HostBytes::from(&b"stdlib-bytes"[..]), 1 << 30);
        spec.files = vec![
            Arc::new(vec![
                ("/a/one.py".into(), HostBytes::from(first)),
                ("/a/mapped".into(), mapped.clone()),
            ]),
            Arc::new(vec![(
                "/b/two.py".into(),
                HostBytes::from(&b"two-bytes"[..]),
            )]),
        ];
        spec.frozen = vec![("frozen".into(), HostBytes::from(&b"marshal-bytes"[..]))];
        spec.image = Some(ImageSpec {
            warm: "pass".into(),
            file: None,
            argv_after: vec!["--after".into()],
            files_after: Arc::new(vec![("/tmp/table".into(), HostBytes::from(after))]),
        });
        spec
    }

    /// What `spec` sends the zygote, what it reads, and its digest.
    fn round_trip(spec: &GuestSpec, bundles: Option<&Path>) -> (Vec<u8>, GuestSpec, [u8; 32]) {
        let mut sent = Vec::new();
        write_boot(spec, &mut sent, bundles).unwrap();
        let (read, digest) = read_boot_digest(&mut &sent[..]).unwrap();
        (sent, read, digest)
    }

    /// Every file's path and bytes, the stdlib's and files_after's too.
    fn contents(spec: &GuestSpec) -> Vec<(String, Vec<u8>)> {
        let after = &spec.image.as_ref().unwrap().files_after;
        let files = spec.files.iter().flat_map(|s| s.iter());
        std::iter::once(("stdlib".to_string(), spec.stdlib_zip.to_vec()))
            .chain(
                files
                    .chain(&spec.frozen)
                    .chain(after.iter())
                    .map(|(p, d)| (p.clone(), d.to_vec())),
            )
            .collect()
    }

    fn holds(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_bundle_carries_the_files_and_names_them_in_the_digest() {
        let mapped_file = TempFile::new("boot-bundle", 100);
        let mapped = HostBytes::map(&mapped_file.path).unwrap();
        let bundles = mapped_file.dir.join("bundles");
        let base = spec(b"one-bytes", b"table-bytes", &mapped);

        let (sent_plain, plain, digest_plain) = round_trip(&base, None);
        let (sent, bundled, digest) = round_trip(&base, Some(&bundles));
        assert_eq!(contents(&plain), contents(&base));
        assert_eq!(contents(&bundled), contents(&base));
        assert_eq!(bundled.image.as_ref().unwrap().argv_after, ["--after"]);
        assert!(bundled.files[0][1].1.mapped_file().is_some());
        // Only files_after's bytes go through the pipe with a bundle.
        for inline in [
            &b"stdlib-bytes"[..],
            b"one-bytes",
            b"two-bytes",
            b"marshal-bytes",
        ] {
            assert!(holds(&sent_plain, inline));
            assert!(!holds(&sent, inline));
        }
        assert!(holds(&sent, b"table-bytes"));

        // The same description sent again: the same digest (its image's).
        assert_eq!(round_trip(&base, Some(&bundles)).2, digest);
        // files_after are not in it.
        let after = spec(b"one-bytes", b"TABLE-bytes!", &mapped);
        assert_eq!(round_trip(&after, Some(&bundles)).2, digest);
        // A file's bytes are, through the bundle's name: a change that
        // keeps its length is another description, as without a bundle.
        let changed = spec(b"ONE-bytes", b"table-bytes", &mapped);
        assert_ne!(round_trip(&changed, Some(&bundles)).2, digest);
        assert_ne!(round_trip(&changed, None).2, digest_plain);

        // A bundle that is not its files' size is refused: longer, or
        // shorter.
        let paths: Vec<_> = std::fs::read_dir(&bundles)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        for path in &paths {
            let mut longer = std::fs::read(path).unwrap();
            longer.push(b'x');
            std::fs::write(path, longer).unwrap();
        }
        assert!(read_boot_digest(&mut &sent[..]).is_err());
        for path in &paths {
            std::fs::write(path, b"short").unwrap();
        }
        assert!(read_boot_digest(&mut &sent[..]).is_err());
    }
}
