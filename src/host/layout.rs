//! The file system and environment the guest starts with: what
//! `pyodide.mjs`'s preRun hooks and Emscripten's `FS.init` set up under
//! Node, reproduced on our MEMFS (see `docs/guest-contract.md`).

use anyhow::Result;

use super::spec::GuestSpec;
use crate::host_bytes::HostBytes;
use crate::syscalls::{Kernel, KernelConfig};

/// The guest's home directory and initial cwd.
pub const HOME: &str = "/home/pyodide";

/// The program name CPython sees as `argv[0]` (and `sys.executable`), and
/// Emscripten's `thisProgram` (`_` in the environment): what the reference
/// driver (`conformance/node/run.mjs`, `--executable`) gives Pyodide.
pub const PROGRAM: &str = "/usr/bin/python3";

/// The guest's environment, as Pyodide's CLI under Node gives it:
/// Emscripten's defaults (`_` is `thisProgram`), `HOME` moved to [`HOME`],
/// then what the CLI adds: `PYTHONINSPECT` empty (so an uncaught exception
/// does not enter interactive mode), `PYTHONEXECUTABLE`, and
/// `LD_LIBRARY_PATH` (where `dlopen` looks for shared libraries); then
/// `extra`, replacing a variable of the same name.
pub fn guest_environment(python: (u32, u32), extra: &[(String, String)]) -> Vec<(String, String)> {
    let mut env = crate::syscalls::emscripten_default_env(PROGRAM);
    for (k, v) in &mut env {
        if k == "HOME" {
            *v = HOME.to_string();
        }
    }
    let site = super::spec::site_packages(python);
    let cli = [
        ("PYTHONINSPECT", String::new()),
        ("PYTHONEXECUTABLE", PROGRAM.to_string()),
        ("LD_LIBRARY_PATH", format!("/usr/lib:{site}")),
    ];
    env.extend(cli.into_iter().map(|(k, v)| (k.to_string(), v)));
    for (k, v) in extra {
        match env.iter_mut().find(|(name, _)| name == k) {
            Some(slot) => slot.1 = v.clone(),
            None => env.push((k.clone(), v.clone())),
        }
    }
    env
}

/// The kernel of a guest described by `spec`: its environment, program
/// name and stdio, and its file system laid out by `prepare`.
pub fn kernel_for(spec: &GuestSpec) -> Result<Kernel> {
    let (stdin, stdout, stderr) = spec.stdio.streams();
    let config = KernelConfig {
        env: guest_environment(spec.python, &spec.env),
        progname: PROGRAM.to_string(),
        stdin,
        stdout,
        stderr,
        fs_budget: spec.limits.max_fs,
        events: spec.events.clone(),
        ..KernelConfig::default()
    };
    let mut kernel = Kernel::new(config);
    prepare(&mut kernel, spec)?;
    Ok(kernel)
}

/// Write `content` at the absolute guest `path` in `kernel`'s MEMFS,
/// creating its directories.
pub fn place_file(kernel: &mut Kernel, path: &str, content: &HostBytes) -> Result<()> {
    if let Some((parent, _)) = path.rsplit_once('/')
        && !parent.is_empty()
    {
        kernel
            .mkdir_p(parent)
            .map_err(|e| anyhow::anyhow!("creating {parent}: {e:?}"))?;
    }
    kernel
        .write_file(path, content.clone())
        .map_err(|e| anyhow::anyhow!("writing {path}: {e:?}"))
}

/// Create the directories and files of `spec` in `kernel`'s MEMFS, as
/// `pyodide.mjs`'s preRun hooks do, then mount its host directories and
/// change into its working directory ([`HOME`] unless it names one).
fn prepare(kernel: &mut Kernel, spec: &GuestSpec) -> Result<()> {
    let (major, minor) = spec.python;
    for dir in [
        "/lib".to_string(),
        spec.site_packages(),
        format!("/lib/python{major}.{minor}/lib-dynload"),
        HOME.to_string(),
    ] {
        kernel
            .mkdir_p(&dir)
            .map_err(|e| anyhow::anyhow!("creating {dir} in the guest: {e:?}"))?;
    }
    let zip_path = format!("/lib/python{major}{minor}.zip");
    kernel
        .write_file(&zip_path, spec.stdlib_zip.clone())
        .map_err(|e| anyhow::anyhow!("writing {zip_path}: {e:?}"))?;
    for (path, content) in spec.files.iter().flat_map(|set| set.iter()) {
        place_file(kernel, path, content)?;
    }
    for m in &spec.mounts {
        kernel
            .mount_host_dir(&m.guest, &m.host, m.read_only)
            .map_err(|e| anyhow::anyhow!("--mount {}:{}: {e}", m.host.display(), m.guest))?;
    }
    let cwd = spec.cwd.as_deref().unwrap_or(HOME);
    kernel
        .chdir(cwd)
        .map_err(|e| anyhow::anyhow!("chdir {cwd}: {e:?}"))?;
    Ok(())
}
