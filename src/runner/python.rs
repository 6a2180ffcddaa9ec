//! `pyodide-test python ...`: resolve the dist, describe the guest (the
//! script, `--copy` files, wheels, mounts) and run CPython's own command
//! line in it.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::backend::{Backend, LazyModule, Runtime};
use super::bytecode;
use super::dist::DistSource;
use super::fetch;
use super::module::is_side_module;
use super::options::{DEFAULT_FS, DEFAULT_PYTHON_MEMORY, Size, warn_unhonoured};
use super::wheels;
use crate::host::layout;
use crate::host::spec::{GuestEnd, Mount};
use crate::host_bytes::HostBytes;

/// Options of `pyodide-test python` besides CPython's own arguments.
#[derive(Debug, Clone, Default)]
pub struct PythonOptions {
    /// `--mount HOST:GUEST[:ro]` specs.
    pub mounts: Vec<String>,
    /// `--max-memory` (default 4 GiB).
    pub max_memory: Option<Size>,
    /// `--max-fs` (default 1 GiB).
    pub max_fs: Option<Size>,
    /// `--with` items: wheel files, directories of wheels, package names.
    pub with: Vec<String>,
    /// `--copy HOST:GUEST` files placed in MEMFS before start.
    pub copies: Vec<String>,
    /// `--env NAME=VALUE` variables for the guest.
    pub env: Vec<String>,
}

/// `pyodide-test python ARGS`: run CPython; returns its exit status.
pub fn run(
    source: &DistSource,
    runtime: Runtime,
    opts: &PythonOptions,
    args: &[String],
) -> Result<i32> {
    let mounts = opts
        .mounts
        .iter()
        .map(|m| Mount::parse(m))
        .collect::<Result<Vec<_>>>()?;
    let cache = fetch::cache_root();
    let dist = source.resolve(&cache)?;
    let mut argv = args.to_vec();
    // Host files to place in the guest: (host path, guest path).
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let copied: Vec<&str> = opts
        .copies
        .iter()
        .filter_map(|c| c.rsplit_once(':').map(|(_, g)| g))
        .collect();
    let in_guest = |script: &str| {
        copied.contains(&script)
            || mounts
                .iter()
                .any(|m| Path::new(script).starts_with(&m.guest))
    };
    if let Some((index, script)) = script_operand(args).filter(|(_, s)| !in_guest(s)) {
        let host_path = Path::new(script);
        if !host_path.is_file() {
            bail!("can't open file '{script}': no such file");
        }
        let guest = guest_script_path(host_path)?;
        argv[index] = if host_path.is_absolute() {
            guest.clone()
        } else {
            script.to_string()
        };
        files.push((host_path.to_path_buf(), guest));
    }
    for copy in &opts.copies {
        let (host, guest) = copy
            .rsplit_once(':')
            .filter(|(h, g)| !h.is_empty() && g.starts_with('/'))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "invalid --copy {copy:?}: expected HOST:GUEST with an absolute GUEST path"
                )
            })?;
        let host_path = Path::new(host);
        if host_path.is_dir() {
            // A tree: its files (as a test directory's are taken; symlinks
            // leading out of it are left out) under GUEST.
            let guest = guest.trim_end_matches('/');
            for rel in super::test_sources::walk(host_path)? {
                files.push((host_path.join(&rel), format!("{guest}/{rel}")));
            }
        } else if host_path.is_file() {
            files.push((PathBuf::from(host), guest.to_string()));
        } else {
            bail!("--copy {copy:?}: {host} is neither a file nor a directory");
        }
    }
    // Each package where Pyodide installs it: site-packages, shared
    // libraries in /usr/lib.
    let resolution = wheels::resolve_all(&dist, &cache, &opts.with)?;
    for (guest, host) in resolution.guest_files(&cache, dist.python_major_minor()?)? {
        files.push((host, guest));
    }
    let mut contents = Vec::with_capacity(files.len());
    for (host, guest) in files {
        let data = crate::shared_file::read(&host)
            .with_context(|| format!("reading {}", host.display()))?;
        contents.push((guest, HostBytes::from(data)));
    }
    if runtime == Runtime::Node && opts.max_memory.is_some() {
        warn_unhonoured(
            "--max-memory",
            "--runtime node",
            "Pyodide's memory under Node grows to its 4 GiB maximum",
        );
    }
    if runtime == Runtime::Node && opts.max_fs.is_some() {
        warn_unhonoured(
            "--max-fs",
            "--runtime node",
            "Node's MEMFS has no size limit",
        );
    }
    let side: Vec<(&str, &[u8])> = contents
        .iter()
        .filter(|(path, bytes)| is_side_module(path, bytes))
        .map(|(path, bytes)| (path.as_str(), &bytes[..]))
        .collect();
    let backend = Backend::open_uninterrupted(runtime, &dist, &cache, &side)?;
    drop(side);
    let mut frozen = Vec::new();
    if let Backend::Wasmtime(module) = &backend {
        let module = LazyModule::loaded(module.clone());
        frozen = bytecode::frozen_modules(&module, &dist, &cache)?;
        // The bytecode the test runner keeps: the stdlib and the wheels are
        // compiled once, not at every start.
        let present: HashSet<String> = contents.iter().map(|(g, _)| g.clone()).collect();
        let site_dirs = resolution.site_dirs(&cache)?;
        contents.extend(bytecode::guest_files(
            &module, &dist, &cache, &site_dirs, &present,
        )?);
    }
    let mut spec = dist.guest(opts.max_memory.unwrap_or(DEFAULT_PYTHON_MEMORY).bytes())?;
    spec.limits.max_fs = Some(opts.max_fs.unwrap_or(DEFAULT_FS).bytes());
    spec.argv = argv;
    spec.mounts = mounts;
    spec.frozen = frozen;
    for var in &opts.env {
        let (name, value) = var
            .split_once('=')
            .filter(|(n, _)| !n.is_empty())
            .ok_or_else(|| anyhow::anyhow!("invalid --env {var:?}: expected NAME=VALUE"))?;
        spec.env.push((name.to_string(), value.to_string()));
    }
    spec.files.push(Arc::new(contents));
    let end = match &backend {
        // `python` ends with its guest: the process exits as soon as the
        // guest has (its output flushed), without freeing the guest's
        // store, its file system, the module or the engine (1-3 ms of a
        // `python -c pass`).
        Backend::Wasmtime(module) => module.run_then(&spec, &mut |end| {
            report_crash(end);
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().flush();
            std::process::exit(i32::from(end.status() as u8));
        })?,
        _ => backend.run(&spec)?,
    };
    report_crash(&end);
    Ok(end.status())
}

fn report_crash(end: &GuestEnd) {
    if let GuestEnd::Crashed(crash) = end {
        eprintln!("pyodide-test: the guest crashed: {crash}");
    }
}

/// Where a script given on the command line is placed in the guest: a
/// relative path under the guest's cwd (`/home/pyodide`), an absolute path
/// at the same path.
fn guest_script_path(host: &Path) -> Result<String> {
    if host.is_absolute() {
        return Ok(host.to_string_lossy().into_owned());
    }
    if host
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        let abs =
            std::fs::canonicalize(host).with_context(|| format!("resolving {}", host.display()))?;
        return Ok(abs.to_string_lossy().into_owned());
    }
    Ok(format!("{}/{}", layout::HOME, host.to_string_lossy()))
}

/// The index and value of the script-file operand in CPython's arguments,
/// if the command runs a file (not `-c`, `-m` or `-`).
fn script_operand(args: &[String]) -> Option<(usize, &str)> {
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "-" || a == "--" && i + 1 < args.len() && args[i + 1] == "-" {
            return None;
        }
        if a == "--" {
            return args.get(i + 1).map(|s| (i + 1, s.as_str()));
        }
        if !a.starts_with('-') {
            return Some((i, a));
        }
        // Options that end option processing or take a value.
        let body = &a[1..];
        if body.starts_with('-') {
            // Long options (--help, --version, ...) take no value here.
            i += 1;
            continue;
        }
        for (k, ch) in body.char_indices() {
            match ch {
                'c' | 'm' => return None,
                'W' | 'X' => {
                    if k + 1 == body.len() {
                        i += 1; // the value is the next argument
                    }
                    break;
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn finds_the_script_operand() {
        assert_eq!(script_operand(&s(&["a.py", "x"])), Some((0, "a.py")));
        assert_eq!(
            script_operand(&s(&["-u", "-X", "dev", "a.py"])),
            Some((3, "a.py"))
        );
        assert_eq!(script_operand(&s(&["-Xdev", "a.py"])), Some((1, "a.py")));
        assert_eq!(script_operand(&s(&["-c", "pass", "a.py"])), None);
        assert_eq!(script_operand(&s(&["-m", "json.tool"])), None);
        assert_eq!(script_operand(&s(&["-"])), None);
        assert_eq!(script_operand(&s(&["-Ic", "pass"])), None);
    }
}
