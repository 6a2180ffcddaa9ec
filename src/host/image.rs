//! Instance images: a guest saved where its wasm stack is empty, after
//! CPython's initialisation and a warm-up run through exported calls
//! (`main`, then `PyRun_SimpleString`), and restored into a fresh instance
//! of the same module instead of running them again.
//!
//! What an image holds: the linear memory (its pages that are not all
//! zeros), the main module's exported mutable globals and the stack
//! pointer it imports, the runtime's keep-alive count and the reading of
//! the monotonic clock. What it does not hold, and must therefore be the
//! same in the fresh instance, is checked when it is saved and again when
//! it is restored:
//! - the kernel (MEMFS, descriptors, cwd: `Kernel::fingerprint`), which the
//!   restoring process builds from the same boot description. An image is
//!   only saved if the guest did nothing to the kernel but read and remove
//!   files (CPython's start-up removes some of ours once read), and only
//!   restored on a kernel with the fingerprint it was taken on, whose
//!   fingerprint after the same removals is the image's. Nor may the guest
//!   have looked into a host directory (`--mount`): what it read there may
//!   have changed by the next run;
//! - the table (its size: only the host adds entries, and the checks
//!   below rule that out) and the main module's other mutable globals
//!   (the stack's bounds, set by its start-up code the same way every
//!   time);
//! - the host's other state: no side module loaded, no libffi closure
//!   freed, no DNS lookup, no C++ exception thrown.
//!
//! The file's name is the digest of everything that shaped it
//! ([`file_for`]). An image is saved the second time its name is
//! asked for ([`wanted`]); saving one removes those unused for
//! [`UNUSED_FOR`](crate::cache_files::UNUSED_FOR), then the least
//! recently used past `MAX_BYTES`.
//!
//! Layout: `MAGIC`, the JSON header's length (u64, little-endian), the
//! header, then the bytes of each run of non-zero pages in order.

use std::collections::HashSet;
use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use wasmtime::{Global, Instance, Mutability, Store, Val};

use super::WasmContext;
use super::state::GuestState;
use crate::cache_files::{mark_file_used, prune_files};
use crate::syscalls::Kernel;

/// The first bytes of an image file (the format's version is the digit).
const MAGIC: &[u8; 8] = b"PTIMAGE1";
/// The granule of the zero-page scan.
const PAGE: usize = 4096;
/// What the images may take on disk together: past it, the least
/// recently used go (each description seen twice has one of its own).
const MAX_BYTES: u64 = 2 << 30;
/// The name under which the stack pointer a position-independent main
/// module imports is saved (no export has it).
const IMPORTED_STACK_POINTER: &str = "\0imported __stack_pointer";

/// The fresh instance, before the guest has run: what an image must have
/// been taken on.
pub struct Fresh {
    /// A copy of its kernel.
    kernel: Kernel,
    fingerprint: [u8; 32],
    table: u64,
}

impl Fresh {
    /// Take the fresh instance's measure.
    pub fn of(store: &Store<GuestState>) -> Result<Fresh> {
        let table = store.data().main.as_ref().context("instantiated")?.table;
        let kernel = store.data().kernel.clone();
        Ok(Fresh {
            fingerprint: kernel.fingerprint(),
            kernel,
            table: table.size(store),
        })
    }

    /// Its kernel with `removed` removed, if it then has `fingerprint`.
    fn replay(&self, removed: &[String], fingerprint: &str) -> Option<Kernel> {
        let mut kernel = self.kernel.clone();
        for path in removed {
            kernel.remove(path).ok()?;
        }
        (crate::hex::encode(&kernel.fingerprint()) == fingerprint).then_some(kernel)
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    /// The fresh kernel's `Kernel::fingerprint`, in hex.
    fresh: String,
    /// What the guest removed from it (CPython's start-up removes files
    /// of ours once read), deepest first.
    removed: Vec<String>,
    /// The kernel's fingerprint at the image, in hex.
    kernel: String,
    table: u64,
    /// The memory's size in bytes.
    memory: u64,
    globals: Vec<(String, Value)>,
    keepalive: i32,
    monotonic_ns: u64,
    /// Runs of non-zero pages: (offset, length); their bytes follow.
    runs: Vec<(u64, u64)>,
    /// The CRC-32 of those bytes.
    crc: u32,
}

/// An image whose bytes did not match its checksum, found once the
/// instance was being restored from it (the file is removed): the guest
/// must start again in a new instance, without an image.
#[derive(Debug)]
pub struct Corrupt(pub String);

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the image {} is damaged (removed)", self.0)
    }
}

impl std::error::Error for Corrupt {}

#[derive(Serialize, Deserialize)]
enum Value {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
}

impl Value {
    fn of(v: Val) -> Option<Value> {
        Some(match v {
            Val::I32(x) => Value::I32(x),
            Val::I64(x) => Value::I64(x),
            Val::F32(x) => Value::F32(x),
            Val::F64(x) => Value::F64(x),
            _ => return None,
        })
    }
    fn val(&self) -> Val {
        match *self {
            Value::I32(x) => Val::I32(x),
            Value::I64(x) => Val::I64(x),
            Value::F32(x) => Val::F32(x),
            Value::F64(x) => Val::F64(x),
        }
    }
}

/// The mutable globals an image holds, by name.
fn globals(store: &mut Store<GuestState>, instance: &Instance) -> Vec<(String, Global)> {
    let mut out: Vec<(String, Global)> = instance
        .exports(&mut *store)
        .filter_map(|e| Some((e.name().to_string(), e.into_global()?)))
        .collect();
    out.retain(|(_, g)| g.ty(&*store).mutability() == Mutability::Var);
    if let Some(sp) = store.data().main.as_ref().and_then(|m| m.stack_pointer) {
        out.push((IMPORTED_STACK_POINTER.to_string(), sp));
    }
    out
}

/// Why the guest cannot be saved now, if it cannot.
fn unsavable(store: &Store<GuestState>, fresh: &Fresh) -> Option<&'static str> {
    let state = store.data();
    if !state.dylink.untouched() {
        return Some("the dynamic linker was used");
    }
    if !state.ffi.untouched() || !state.dns.untouched() || !state.js_eh.untouched() {
        return Some("the host's state changed");
    }
    let Some(main) = state.main.as_ref() else {
        return Some("not instantiated");
    };
    if main.table.size(store) != fresh.table {
        return Some("the table grew");
    }
    // What the guest read of a host directory is in the image, but may
    // have changed there by the next run.
    if state.kernel.host_nodes() != fresh.kernel.host_nodes() {
        return Some("the warm-up looked into a host directory");
    }
    None
}

/// What the guest did to the kernel since `fresh`, if it only removed
/// nodes: their paths, deepest first.
fn removals(kernel: &Kernel, fresh: &Fresh) -> Option<Vec<String>> {
    let now: HashSet<String> = kernel.memory_paths().into_iter().collect();
    let then: HashSet<String> = fresh.kernel.memory_paths().into_iter().collect();
    if !now.is_subset(&then) {
        return None;
    }
    let mut removed: Vec<String> = then.difference(&now).cloned().collect();
    removed.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    Some(removed)
}

/// The file in `dir` of the image of a guest whose boot description has
/// `digest` (the description as the zygote read it): named by it, this
/// program (our own code shapes the image) and the main module at
/// `main_module`. `None` if either file cannot be identified.
pub fn file_for(dir: &Path, digest: &[u8; 32], main_module: &Path) -> Option<std::path::PathBuf> {
    use sha2::{Digest, Sha256};
    let exe = std::env::current_exe().ok()?;
    let mut key = Sha256::new();
    key.update(digest);
    for file in [exe.as_path(), main_module] {
        let id = crate::file_digest::identity(file)?;
        key.update(format!("{}\0{id}\0", file.display()).as_bytes());
    }
    let name = crate::hex::encode(&key.finalize()[..20]);
    Some(dir.join(format!("{name}.img")))
}

/// Whether a guest should be restored from, or saved in, `file` this time:
/// if the image is there, or its description was seen before (a `.seen`
/// mark beside it). Otherwise the mark is left and no image is taken: a
/// description that runs once (a scratch suite, a one-off CI job) costs
/// no image's writing and room.
pub fn wanted(file: &Path) -> bool {
    if file.exists() {
        return true;
    }
    let mark = file.with_extension("seen");
    if mark.exists() {
        return true;
    }
    if let Some(dir) = file.parent() {
        let _ = fs::create_dir_all(dir);
    }
    let _ = fs::File::create(&mark);
    false
}

/// Save the guest in `file`, taken on `fresh`: `Ok(Some(why))` if it
/// cannot be (nothing is written).
pub fn save(
    store: &mut Store<GuestState>,
    instance: &Instance,
    fresh: &Fresh,
    file: &Path,
) -> Result<Option<&'static str>> {
    if let Some(why) = unsavable(store, fresh) {
        return Ok(Some(why));
    }
    let kernel = store.data().kernel.fingerprint();
    let kernel = crate::hex::encode(&kernel);
    let Some(removed) = removals(&store.data().kernel, fresh) else {
        return Ok(Some("a file was created"));
    };
    if fresh.replay(&removed, &kernel).is_none() {
        return Ok(Some("the kernel changed"));
    }
    let mut values = Vec::new();
    for (name, g) in globals(store, instance) {
        let Some(v) = Value::of(g.get(&mut *store)) else {
            return Ok(Some("a global holds a value an image cannot keep"));
        };
        values.push((name, v));
    }
    let memory = store.data().main.as_ref().context("instantiated")?.memory;
    let bytes = memory.data(&*store);
    let runs = nonzero_runs(bytes);
    let mut crc = crc32fast::Hasher::new();
    for &(at, len) in &runs {
        crc.update(&bytes[at as usize..(at + len) as usize]);
    }
    let header = Header {
        fresh: crate::hex::encode(&fresh.fingerprint),
        removed,
        kernel,
        table: fresh.table,
        memory: bytes.len() as u64,
        globals: values,
        keepalive: store.data().keepalive,
        monotonic_ns: store.data().kernel.monotonic_ns(),
        runs,
        crc: crc.finalize(),
    };
    let dir = file.parent().context("an image file's directory")?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    let write = || -> Result<()> {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, fs::File::create(&tmp)?);
        let head = serde_json::to_vec(&header)?;
        out.write_all(MAGIC)?;
        out.write_all(&(head.len() as u64).to_le_bytes())?;
        out.write_all(&head)?;
        for &(at, len) in &header.runs {
            out.write_all(&bytes[at as usize..(at + len) as usize])?;
        }
        // Not synced: a file cut short by a crash is seen as whole or not
        // at all (its length is checked before use).
        out.into_inner().map_err(|e| e.into_error())?;
        fs::rename(&tmp, file)?;
        Ok(())
    };
    if let Err(e) = write() {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing the image {}", file.display()));
    }
    prune_files(dir, SystemTime::now(), MAX_BYTES);
    Ok(None)
}

/// Restore the guest from `file` into the fresh instance `fresh` measures.
/// `Ok(false)`: there is no image there, or none that fits (nothing was
/// changed). An error once the memory is being written leaves the
/// instance unusable: [`Corrupt`] if the image's bytes were damaged.
pub fn restore(
    store: &mut Store<GuestState>,
    instance: &Instance,
    fresh: &Fresh,
    file: &Path,
) -> Result<bool> {
    let Ok(mut f) = fs::File::open(file) else {
        return Ok(false);
    };
    let Some(header) = read_header(&mut f, fresh) else {
        return Ok(false);
    };
    let Some(kernel) = fresh.replay(&header.removed, &header.kernel) else {
        return Ok(false);
    };
    let handles = store.data().main.clone().context("instantiated")?;
    let memory = handles.memory;
    let have = memory.data_size(&*store) as u64;
    let wasm_page = memory.page_size(&*store);
    if header.memory < have || header.memory % wasm_page != 0 {
        return Ok(false);
    }
    let mut by_name = globals(store, instance);
    if header
        .globals
        .iter()
        .any(|(name, _)| !by_name.iter().any(|(n, _)| n == name))
    {
        return Ok(false);
    }
    // From here on the instance is changed.
    memory
        .grow(&mut *store, (header.memory - have) / wasm_page)
        .ctx("growing the memory to the image's size")?;
    let bytes = memory.data_mut(&mut *store);
    zero(bytes)?;
    let mut crc = crc32fast::Hasher::new();
    for &(at, len) in &header.runs {
        let run = bytes
            .get_mut(at as usize..(at + len) as usize)
            .context("an image's run lies outside its memory")?;
        f.read_exact(run)
            .with_context(|| format!("reading the image {}", file.display()))?;
        crc.update(run);
    }
    if crc.finalize() != header.crc {
        let _ = fs::remove_file(file);
        return Err(Corrupt(file.display().to_string()).into());
    }
    for (name, value) in &header.globals {
        let (_, g) = by_name
            .iter_mut()
            .find(|(n, _)| n == name)
            .expect("checked above");
        g.set(&mut *store, value.val())
            .ctx(format!("restoring the global {name:?}"))?;
    }
    store.data_mut().kernel = kernel;
    store.data_mut().keepalive = header.keepalive;
    crate::syscalls::monotonic_at_least(header.monotonic_ns);
    mark_file_used(&f, SystemTime::now());
    Ok(true)
}

/// The header of the image in `f`, if it is one taken on `fresh` and its
/// file is whole (`f` is left at the first run's bytes).
fn read_header(f: &mut fs::File, fresh: &Fresh) -> Option<Header> {
    let mut magic = [0u8; 8];
    f.read_exact(&mut magic).ok()?;
    if &magic != MAGIC {
        return None;
    }
    let mut len = [0u8; 8];
    f.read_exact(&mut len).ok()?;
    let len = u64::from_le_bytes(len);
    let mut head = vec![0u8; usize::try_from(len).ok().filter(|&n| n < 1 << 26)?];
    f.read_exact(&mut head).ok()?;
    let header: Header = serde_json::from_slice(&head).ok()?;
    let data: u64 = header.runs.iter().map(|r| r.1).sum();
    let whole = f.metadata().ok()?.len() == 16 + len + data;
    let fits = header.fresh == crate::hex::encode(&fresh.fingerprint)
        && header.table == fresh.table
        && header.runs.iter().all(|&(at, n)| at + n <= header.memory);
    (whole && fits).then_some(header)
}

/// The runs of `bytes`' pages (of [`PAGE`] bytes, the last maybe shorter)
/// that are not all zeros: (offset, length).
fn nonzero_runs(bytes: &[u8]) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for (i, page) in bytes.chunks(PAGE).enumerate() {
        if page.iter().all(|&b| b == 0) {
            continue;
        }
        let at = (i * PAGE) as u64;
        match runs.last_mut() {
            Some((start, len)) if *start + *len == at => *len += page.len() as u64,
            _ => runs.push((at, page.len() as u64)),
        }
    }
    runs
}

/// Make all of `bytes` (a linear memory, page-aligned) zeros, giving its
/// pages back: a fresh private mapping in its place.
fn zero(bytes: &mut [u8]) -> Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    // SAFETY: `bytes` is the whole accessible part of a linear memory,
    // page-aligned, which nothing else refers to while the store is
    // borrowed; a fixed anonymous mapping replaces it with zeros, readable
    // and writable as before.
    let p = unsafe {
        libc::mmap(
            bytes.as_mut_ptr().cast(),
            bytes.len(),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED || p != bytes.as_mut_ptr().cast() {
        bail!(
            "clearing the memory for an image: {}",
            std::io::Error::last_os_error()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Fresh, nonzero_runs, removals};
    use crate::syscalls::{Capture, Kernel, KernelConfig};

    fn kernel() -> Kernel {
        let mut k = Kernel::new(KernelConfig::captured(Capture::new(), Capture::new()));
        k.mkdir_p("/tmp/b").unwrap();
        k.write_file("/tmp/a", &b"a"[..]).unwrap();
        k.write_file("/tmp/b/c", &b"c"[..]).unwrap();
        k
    }

    fn fresh(kernel: &Kernel) -> Fresh {
        Fresh {
            kernel: kernel.clone(),
            fingerprint: kernel.fingerprint(),
            table: 0,
        }
    }

    #[test]
    fn removals_are_replayed_deepest_first_and_a_created_file_has_none() {
        let mut live = kernel();
        let was = fresh(&live);
        live.remove("/tmp/b/c").unwrap();
        live.remove("/tmp/b").unwrap();
        let removed = removals(&live, &was).unwrap();
        assert_eq!(removed, ["/tmp/b/c", "/tmp/b"]);
        let after = crate::hex::encode(&live.fingerprint());
        let replayed = was.replay(&removed, &after).expect("the same kernel");
        assert_eq!(replayed.fingerprint(), live.fingerprint());
        // Another build of the same description replays the same way.
        assert!(fresh(&kernel()).replay(&removed, &after).is_some());
        // Not from another kernel, nor to another fingerprint.
        assert!(was.replay(&removed[..1], &after).is_none());
        live.write_file("/tmp/new", &b"n"[..]).unwrap();
        assert_eq!(removals(&live, &was), None);
    }

    #[test]
    fn runs_skip_zero_pages_and_join_neighbours() {
        let mut m = vec![0u8; 5 * 4096 + 100];
        m[10] = 1;
        m[4096 + 4095] = 2;
        m[3 * 4096] = 3;
        m[5 * 4096 + 99] = 4;
        assert_eq!(
            nonzero_runs(&m),
            vec![(0, 2 * 4096), (3 * 4096, 4096), (5 * 4096, 100)]
        );
        assert!(nonzero_runs(&[0u8; 8192]).is_empty());
    }
}
