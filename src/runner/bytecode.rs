//! Bytecode, compiled once by the guest's own CPython and kept in the
//! cache, so that every guest does not compile the stdlib, pytest and the
//! package again: the wheels' `__pycache__/*.pyc` (placed next to each
//! module, as an installer that compiles would leave them), and a table of
//! the stdlib's code objects served to zipimport by a `.pth` hook.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::dist::Dist;
use super::module::LazyModule;
use super::suite::Suite;
use super::test_sources::walk;
use crate::host::engine::HOST_THREAD_STACK_BYTES;
use crate::host::spec::{GuestEnd, Mount, Stdio, file_set, site_packages};
use crate::host_bytes::HostBytes;
use crate::syscalls::Capture;

/// The stdlib's precompiled bytecode in the guest (see [`STDLIB_HOOK_SOURCE`]).
const STDLIB_TABLE: &str = "/lib/pyodide-test-stdlib.marshal";
/// The module that installs the hook at start-up: `site` imports it as
/// the guest's `sitecustomize` (Pyodide ships none), which costs no
/// `.pth` file (decoding one imports `encodings.utf_8_sig`, compiled from
/// source before the hook runs: 3-5 ms a start). Where the guest's
/// site-packages has a `sitecustomize.py` of its own, a `.pth` file
/// imports the hook under [`STDLIB_HOOK_FALLBACK`] instead.
const STDLIB_HOOK: &str = "sitecustomize";
/// The hook's name where `sitecustomize` is taken.
const STDLIB_HOOK_FALLBACK: &str = "_pyodide_test_stdlib";
/// The start of the hook and of the encodings shim (below): what reads
/// the table and has zipimport serve it.
macro_rules! table_reader {
    () => {
        r#"
import _io
import marshal
import sys
import zipimport


def _map(f):
    """The table's bytes: mapped where this Python's mmap can map without
    keeping a descriptor open (trackfd, 3.13 and later), else read."""
    had_mmap = "mmap" in sys.modules
    try:
        import mmap

        return memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ, trackfd=False))
    except Exception:
        return memoryview(f.read())
    finally:
        if not had_mmap:
            sys.modules.pop("mmap", None)


def _install(path="/lib/pyodide-test-stdlib.marshal"):
    # The table: an 8-byte length, the marshalled index (path -> offset
    # and length of its code after the index), then the code objects, read
    # whole; each module's code is unmarshalled when it is imported.
    # "\0directory" -> (offset, length, archive): zipimport's directory of
    # the stdlib zip (what its _read_directory returns, in Python: about 8
    # ms a start).
    if getattr(zipimport._compile_source, "_pyodide_test", False):
        return  # installed already (by the frozen encodings shim)
    try:
        # _io's open: builtins.open is not there yet while CPython
        # initialises (the encodings shim).
        with _io.open(path, "rb") as f:
            table = _map(f)
        size = int.from_bytes(table[:8], "little")
        index = marshal.loads(table[8 : 8 + size])
    except Exception:
        return
    base = 8 + size

    def load(entry):
        """The object marshalled at ``entry`` (offset, length, ...)."""
        return marshal.loads(table[base + entry[0] : base + entry[0] + entry[1]])

    directory = index.get("\0directory")
    if directory is not None and directory[2] not in zipimport._zip_directory_cache:
        try:
            zipimport._zip_directory_cache[directory[2]] = load(directory)
        except Exception:
            pass
    compile_source = zipimport._compile_source
    get_data = zipimport._get_data
    module_code = zipimport._get_module_code.__code__
    getframe = sys._getframe
    # Sources whose reading zipimport's _get_module_code left to us, by
    # path: (archive, entry).
    pending = {}
    # The code last served, for the second compile of the same module.
    last = [None, None]

    def _get_data(archive, toc_entry):
        # _get_module_code reads (and inflates) a module's source only to
        # compile it, which the table does: read it only if that fails.
        # Everything else (get_source, get_data) reads as before.
        if toc_entry[0] in index and getframe(1).f_code is module_code:
            pending[toc_entry[0]] = (archive, toc_entry)
            return b""
        return get_data(archive, toc_entry)

    # CPython 3.15 passes the module name too.
    def _compile_source(pathname, source, *rest):
        where = pending.pop(pathname, None)
        entry = index.get(pathname)
        if entry is not None:
            # An import compiles each module twice (its spec's
            # get_filename, then get_code): the same code serves both.
            if last[0] == pathname:
                code = last[1]
                last[0] = last[1] = None
                return code
            try:
                code = load(entry)
            except Exception:
                pass
            else:
                last[0], last[1] = pathname, code
                return code
        if where is not None:
            source = get_data(*where)
        return compile_source(pathname, source, *rest)

    _compile_source._pyodide_test = True
    zipimport._compile_source = _compile_source
    zipimport._get_data = _get_data


"#
    };
}

/// CPython compiles every stdlib module from the zip's source at every
/// start (the dist ships no bytecode), twice per module (zipimport's
/// `get_filename` compiles too): most of a guest's start-up. This hook,
/// run by `site`, makes zipimport's `_compile_source` return the code
/// compiled once from the same source and path, so modules, `__file__`,
/// tracebacks and `inspect` stay exactly as without it. The same code
/// object serves both compiles of an import, and `_get_module_code` no
/// longer reads and inflates the source it does not need (0.13 ms a
/// module, twice per import); `get_source` and `get_data` read as before.
///
/// The table is mapped, not read: the host maps its pages into the
/// guest's memory (see `host_bytes`), so a start touches only the pages
/// of the modules it imports; reading all 11 MB took about 8 ms.
const STDLIB_HOOK_SOURCE: &str = concat!(
    r#""""pyodide-test: the stdlib's bytecode, compiled once (see the runner)."""
"#,
    table_reader!(),
    r#"
def _leave_no_trace():
    """The table, this module, its bytecode and its .pth are the runner's,
    not the guest's: gone from the file system once installed (and from
    sys.modules: see _next_sitecustomize, or the .pth line), so the guest
    sees the tree it would see without them."""
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    stem = __name__
    doomed = ["/lib/pyodide-test-stdlib.marshal",
              os.path.join(here, stem + ".py"), os.path.join(here, stem + ".pth")]
    cache = os.path.join(here, "__pycache__")
    try:
        doomed += [os.path.join(cache, n) for n in os.listdir(cache) if n.startswith(stem + ".")]
    except OSError:
        pass
    for path in doomed:
        try:
            os.remove(path)
        except OSError:
            pass
    try:
        if not os.listdir(cache):
            os.rmdir(cache)
    except OSError:
        pass


def _next_sitecustomize():
    """As `site` imports the guest's own `sitecustomize`, if a later
    entry of sys.path has one; else the import fails as if there were
    none (`site` passes over that ImportError), so that the guest sees no
    `sitecustomize` module."""
    import os

    # The import system's own modules (importlib's would be new imports).
    bootstrap = sys.modules["_frozen_importlib"]
    external = sys.modules["_frozen_importlib_external"]
    here = os.path.dirname(os.path.abspath(__file__))
    path = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = external.PathFinder.find_spec(__name__, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"No module named {__name__!r}", name=__name__)
    module = bootstrap.module_from_spec(spec)
    sys.modules[__name__] = module
    spec.loader.exec_module(module)


_install()
_leave_no_trace()
del _install, _leave_no_trace, _map
if __name__ == "sitecustomize":
    _next_sitecustomize()
"#
);

/// CPython imports `encodings` (and its aliases and UTF-8 codec) while it
/// initialises, before `site` runs the hook: from the zip's sources, with
/// zipimport reading the zip's directory in Python (about 19 ms of
/// `python -c pass`'s 60). This shim is given to CPython as a frozen
/// `encodings` for its initialisation only (`GuestSpec::frozen`): it puts
/// the table in place (the hook then finds it there), and imports the
/// real `encodings` from the zip, which takes its place in
/// `sys.modules` (the import system returns what a module leaves there):
/// the module, its spec, loader and file are the zip's, as without it.
const ENCODINGS_SHIM_SOURCE: &str = concat!(
    r#""""pyodide-test: CPython's encodings, with the stdlib's bytecode in place."""
"#,
    table_reader!(),
    r#"

def _load():
    import _frozen_importlib
    import _frozen_importlib_external

    spec = _frozen_importlib_external.PathFinder.find_spec(__name__)
    if spec is None:
        raise ImportError(f"No module named {__name__!r}", name=__name__)
    _frozen_importlib._load_unlocked(spec)


_install()
_load()
"#
);

/// Add the wheels' bytecode (`__pycache__/*.pyc` next to each module,
/// as an installer that compiles would leave them), so that every
/// guest does not compile pytest and the package again. The bytecode is
/// compiled once per wheel by the guest's own CPython (unchecked-hash
/// pycs, the source stays as it is) and kept in the cache.
pub fn add_to(suite: &mut Suite, module: &LazyModule, dist: &Dist, cache: &Path) -> Result<()> {
    let files = Arc::make_mut(&mut suite.files);
    let present: HashSet<String> = files.iter().map(|(p, _)| p.clone()).collect();
    files.extend(guest_files(
        module,
        dist,
        cache,
        &suite.wheel_dirs,
        &present,
    )?);
    Ok(())
}

/// What a guest whose site-packages holds `wheel_dirs` (unpacked wheels)
/// needs to start without compiling: the wheels' pycs, the stdlib's table
/// and the hook that serves it, as (guest path, contents), less the guest
/// paths in `present` (already placed: these never replace them).
/// Compiled on first use and cached.
pub fn guest_files(
    module: &LazyModule,
    dist: &Dist,
    cache: &Path,
    wheel_dirs: &[PathBuf],
    present: &HashSet<String>,
) -> Result<Vec<(String, HostBytes)>> {
    let (major, minor) = dist.python_major_minor()?;
    let site = site_packages((major, minor));
    // Where the stdlib's bytecode is not cached, its compile and the
    // wheels' (each a guest on one core: about 5 and 6 s for
    // pydantic-core's suite) run side by side.
    let stdlib_dir = stdlib_dir(dist, cache)?;
    let (wheels, stdlib) = if stdlib_dir.join("stdlib.marshal").is_file() {
        (
            for_wheels(module, dist, cache, wheel_dirs)?,
            stdlib_found(&stdlib_dir)?,
        )
    } else {
        std::thread::scope(|scope| {
            let stdlib = std::thread::Builder::new()
                .name("stdlib-bytecode".into())
                .stack_size(HOST_THREAD_STACK_BYTES)
                .spawn_scoped(scope, || stdlib_files(module, dist, cache))
                .context("starting a thread")?;
            let wheels = for_wheels(module, dist, cache, wheel_dirs);
            let stdlib = stdlib
                .join()
                .map_err(|_| anyhow::anyhow!("compiling the stdlib's bytecode panicked"))?;
            anyhow::Ok((wheels?, stdlib?))
        })?
    };
    let mut out: Vec<(String, HostBytes)> = wheels
        .into_iter()
        .map(|(rel, data)| (format!("{site}/{rel}"), data.into()))
        .collect();
    out.push((STDLIB_TABLE.to_string(), stdlib.table));
    let hook = format!("{site}/{STDLIB_HOOK}.py");
    if !present.contains(&hook) {
        out.push((hook, STDLIB_HOOK_SOURCE.as_bytes().into()));
        if let Some(pyc) = stdlib.hook_pyc {
            out.push((
                format!("{site}/__pycache__/{STDLIB_HOOK}.cpython-{major}{minor}.pyc"),
                pyc,
            ));
        }
    } else {
        // The guest's own sitecustomize stays; a .pth runs the hook.
        out.push((
            format!("{site}/{STDLIB_HOOK_FALLBACK}.py"),
            STDLIB_HOOK_SOURCE.as_bytes().into(),
        ));
        out.push((
            format!("{site}/{STDLIB_HOOK_FALLBACK}.pth"),
            format!(
                "import {STDLIB_HOOK_FALLBACK}, sys; sys.modules.pop({STDLIB_HOOK_FALLBACK:?}, None)\n"
            )
            .into_bytes()
            .into(),
        ));
    }
    out.retain(|(guest, _)| !present.contains(guest));
    Ok(out)
}

/// The frozen modules a guest of `dist` is given for CPython's
/// initialisation: the encodings shim (see `ENCODINGS_SHIM_SOURCE`),
/// compiled with the stdlib's table and cached.
pub fn frozen_modules(
    module: &LazyModule,
    dist: &Dist,
    cache: &Path,
) -> Result<Vec<(String, HostBytes)>> {
    Ok(stdlib_files(module, dist, cache)?.frozen)
}

/// Compiles `(key, rel)` pairs listed in argv[1]: `site/rel` to
/// `/pyc-out/key/<rel's pyc path relative to site>`.
const SCRIPT: &str = r#"
import importlib.util, os, py_compile, sys
site, listing = sys.argv[1], sys.argv[2]
with open(listing, encoding="utf-8") as f:
    pairs = [line.rstrip("\n").split("\t", 1) for line in f if line.strip()]
for key, rel in pairs:
    src = os.path.join(site, rel)
    cfile = importlib.util.cache_from_source(src)
    out = os.path.join("/pyc-out", key, os.path.relpath(cfile, site))
    try:
        py_compile.compile(src, cfile=out, dfile=src, doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except Exception:
        pass
"#;

/// (path relative to site-packages, content) of every wheel's pycs.
pub fn for_wheels(
    module: &LazyModule,
    dist: &Dist,
    cache: &Path,
    wheel_dirs: &[PathBuf],
) -> Result<Vec<(String, Vec<u8>)>> {
    let (major, minor) = dist.python_major_minor()?;
    let base = cache.join("pyc").join(format!("cp{major}{minor}"));
    let key_of = |dir: &Path| -> String {
        dir.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    // Each directory once: a second compile of one would find its output
    // already published.
    let mut keys = HashSet::new();
    let wheel_dirs: Vec<&PathBuf> = wheel_dirs
        .iter()
        .filter(|d| keys.insert(key_of(d)))
        .collect();
    let missing: Vec<&PathBuf> = wheel_dirs
        .iter()
        .copied()
        .filter(|d| !base.join(key_of(d)).join(".complete").is_file())
        .collect();
    if !missing.is_empty() {
        compile(module, dist, &base, &missing, key_of)?;
    }
    let mut out = Vec::new();
    for dir in wheel_dirs {
        let root = base.join(key_of(dir));
        for rel in walk_all(&root)? {
            if rel.ends_with(".pyc") {
                out.push((rel.clone(), fs::read(root.join(&rel))?));
            }
        }
    }
    Ok(out)
}

/// Every file under `dir`, `__pycache__` included.
fn walk_all(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, prefix)) = stack.pop() {
        for entry in fs::read_dir(&d)? {
            let entry = entry?;
            let rel = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if entry.file_type()?.is_dir() {
                stack.push((entry.path(), format!("{rel}/")));
            } else {
                out.push(rel);
            }
        }
    }
    Ok(out)
}

/// Run a Python script in a guest with `out` (a host directory)
/// mounted writable at `/pyc-out`.
fn run_script(
    module: &LazyModule,
    dist: &Dist,
    files: Vec<(String, Vec<u8>)>,
    out: &Path,
    args: &[&str],
) -> Result<()> {
    let mut spec = dist.guest(u64::MAX)?;
    spec.files.push(file_set(files));
    spec.mounts.push(Mount {
        host: fs::canonicalize(out)?,
        guest: "/pyc-out".into(),
        read_only: false,
    });
    spec.argv = args.iter().map(|s| s.to_string()).collect();
    let err = Capture::new();
    spec.stdio = Stdio::to_sinks(Arc::new(Capture::new()), Arc::new(err.clone()));
    match module.get()?.run(&spec)? {
        GuestEnd::Exited(0) => Ok(()),
        _ => bail!(
            "{}",
            String::from_utf8_lossy(&err.contents())
                .lines()
                .last()
                .unwrap_or("the guest failed")
        ),
    }
}

/// Compiles every `.py` of the stdlib zip as zipimport would (same
/// path, same line-ending normalisation) into
/// `/pyc-out/stdlib.marshal`: an 8-byte length, a marshalled dict of path
/// -> (offset, length) of its marshalled code after the dict, the codes.
/// Then the hook (`argv[2]`, as `argv[3]` in the guest) into
/// `/pyc-out/hook.pyc`, and the encodings shim (`argv[4]`) into
/// `/pyc-out/encodings.frozen` (a marshalled code object). The index also
/// holds `"\0directory"`: (offset, length, `argv[1]`) of zipimport's
/// directory of the zip, marshalled.
const STDLIB_SCRIPT: &str = r#"
import marshal, py_compile, sys, zipfile, zipimport
archive, hook, hook_path, shim = sys.argv[1:5]
index, blobs, offset = {}, [], 0
with zipfile.ZipFile(archive) as z:
    for name in z.namelist():
        if not name.endswith(".py"):
            continue
        path = archive + "/" + name
        source = z.read(name).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        try:
            code = compile(source, path, "exec", dont_inherit=True)
        except Exception:
            continue
        blob = marshal.dumps(code)
        index[path] = (offset, len(blob))
        blobs.append(blob)
        offset += len(blob)
blob = marshal.dumps(zipimport._read_directory(archive))
index["\0directory"] = (offset, len(blob), archive)
blobs.append(blob)
offset += len(blob)
head = marshal.dumps(index)
with open(shim, "rb") as f:
    shim_code = compile(f.read(), "<frozen encodings>", "exec", dont_inherit=True)
with open("/pyc-out/encodings.frozen", "wb") as f:
    f.write(marshal.dumps(shim_code))
with open("/pyc-out/stdlib.marshal.tmp", "wb") as f:
    f.write(len(head).to_bytes(8, "little"))
    f.write(head)
    for blob in blobs:
        f.write(blob)
py_compile.compile(hook, cfile="/pyc-out/hook.pyc", dfile=hook_path, doraise=True,
    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
"#;

/// The stdlib's bytecode table and the hook's bytecode (see
/// [`stdlib_files`]).
pub struct StdlibFiles {
    /// The table, mapped.
    pub table: HostBytes,
    /// The hook compiled as the guest's `sitecustomize` (`None` if it
    /// could not be read).
    pub hook_pyc: Option<HostBytes>,
    /// The frozen modules CPython's initialisation is given (the
    /// encodings shim).
    pub frozen: Vec<(String, HostBytes)>,
}

/// The stdlib's bytecode table for `dist`, and the hook's bytecode
/// (compiled once, cached).
pub fn stdlib_files(module: &LazyModule, dist: &Dist, cache: &Path) -> Result<StdlibFiles> {
    let dir = stdlib_dir(dist, cache)?;
    if dir.join("stdlib.marshal").is_file() {
        return stdlib_found(&dir);
    }
    let (major, minor) = dist.python_major_minor()?;
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let archive = format!("/lib/python{major}{minor}.zip");
    let hook_path = format!("{}/{STDLIB_HOOK}.py", site_packages((major, minor)));
    let files = vec![
        (
            "/tmp/compile_stdlib.py".to_string(),
            STDLIB_SCRIPT.as_bytes().to_vec(),
        ),
        (
            "/tmp/hook.py".to_string(),
            STDLIB_HOOK_SOURCE.as_bytes().to_vec(),
        ),
        (
            "/tmp/encodings_shim.py".to_string(),
            ENCODINGS_SHIM_SOURCE.as_bytes().to_vec(),
        ),
    ];
    run_script(
        module,
        dist,
        files,
        &dir,
        &[
            "/tmp/compile_stdlib.py",
            &archive,
            "/tmp/hook.py",
            &hook_path,
            "/tmp/encodings_shim.py",
        ],
    )
    .context("compiling the stdlib's bytecode")?;
    // The table is published last: its presence says both are there.
    let tmp = dir.join("stdlib.marshal.tmp");
    let unique = dir.join(format!("stdlib.marshal.{}", std::process::id()));
    fs::rename(&tmp, &unique)?;
    fs::rename(&unique, dir.join("stdlib.marshal"))?;
    stdlib_found(&dir)
}

/// Where the stdlib's bytecode for `dist` is kept: named by the stdlib
/// archive's digest and by the compiling script's and the hook's sources
/// (the table's format is theirs).
fn stdlib_dir(dist: &Dist, cache: &Path) -> Result<PathBuf> {
    use sha2::Digest;
    let digest = crate::file_digest::sha256(
        &cache.join("digests"),
        &dist.path("python_stdlib.zip"),
        || dist.stdlib_zip(),
    )?;
    let key = crate::hex::encode(&digest[..16]);
    let ours = crate::hex::encode(
        &sha2::Sha256::digest(format!(
            "{STDLIB_SCRIPT}\0{STDLIB_HOOK_SOURCE}\0{STDLIB_HOOK}\0{ENCODINGS_SHIM_SOURCE}"
        ))[..8],
    );
    Ok(cache.join("pyc").join(format!("stdlib-{key}-{ours}")))
}

/// The stdlib's bytecode kept in `dir` (see [`stdlib_dir`]).
fn stdlib_found(dir: &Path) -> Result<StdlibFiles> {
    // Mapped, not read: every guest maps it (see the hook), and the file
    // is only ever replaced whole (renamed over), never changed in place.
    Ok(StdlibFiles {
        table: HostBytes::map(&dir.join("stdlib.marshal"))?,
        hook_pyc: crate::shared_file::read(&dir.join("hook.pyc"))
            .ok()
            .map(HostBytes::from),
        frozen: crate::shared_file::read(&dir.join("encodings.frozen"))
            .ok()
            .map(|code| vec![("encodings".to_string(), HostBytes::from(code))])
            .unwrap_or_default(),
    })
}

fn compile(
    module: &LazyModule,
    dist: &Dist,
    base: &Path,
    missing: &[&PathBuf],
    key_of: impl Fn(&Path) -> String,
) -> Result<()> {
    let site = site_packages(dist.python_major_minor()?);
    let tmp = base.join(format!(".tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut files = Vec::new();
    let mut listing = String::new();
    for dir in missing {
        let key = key_of(dir);
        fs::create_dir_all(tmp.join(&key))?;
        for rel in walk(dir)? {
            if rel.ends_with(".py") {
                files.push((format!("{site}/{rel}"), fs::read(dir.join(&rel))?));
                listing.push_str(&format!("{key}\t{rel}\n"));
            }
        }
    }
    files.push(("/tmp/pyc-list.txt".to_string(), listing.into_bytes()));
    files.push((
        "/tmp/compile_pyc.py".to_string(),
        SCRIPT.as_bytes().to_vec(),
    ));
    let args = ["/tmp/compile_pyc.py", &site, "/tmp/pyc-list.txt"];
    if let Err(e) = run_script(module, dist, files, &tmp, &args) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e.context("compiling the wheels' bytecode"));
    }
    for dir in missing {
        let key = key_of(dir);
        let from = tmp.join(&key);
        fs::write(from.join(".complete"), b"")?;
        super::cache::publish_dir(&from, &base.join(&key))?;
    }
    let _ = fs::remove_dir_all(&tmp);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Python this module runs in guests is valid Python (parsed by
    /// the host's `python3`; a broken script would only show on a cold cache).
    #[test]
    fn embedded_scripts_parse() {
        for (name, source) in [
            ("compile_pyc", SCRIPT),
            ("compile_stdlib", STDLIB_SCRIPT),
            ("stdlib_hook", STDLIB_HOOK_SOURCE),
            ("encodings_shim", ENCODINGS_SHIM_SOURCE),
        ] {
            let out = std::process::Command::new("python3")
                .args(["-c", "import ast, sys; ast.parse(sys.stdin.read())"])
                .stdin(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .and_then(|mut child| {
                    use std::io::Write;
                    child.stdin.take().unwrap().write_all(source.as_bytes())?;
                    child.wait_with_output()
                })
                .expect("python3 is needed by the runner's tests");
            assert!(
                out.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
