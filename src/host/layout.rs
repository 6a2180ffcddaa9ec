//! The file system and environment the guest starts with: what
//! `pyodide.mjs`'s preRun hooks and Emscripten's `FS.init` set up under
//! Node, reproduced on our MEMFS (see `docs/guest-contract.md`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crate::syscalls::{Kernel, KernelConfig};

/// The guest's home directory and initial cwd.
pub const HOME: &str = "/home/pyodide";

/// The program name CPython sees as `argv[0]` (and `sys.executable`), and
/// Emscripten's `thisProgram` (`_` in the environment): what the reference
/// driver (`conformance/node/run.mjs`, `--executable`) gives Pyodide.
pub const PROGRAM: &str = "/usr/bin/python3";

/// A host directory made visible to the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The host directory.
    pub host: PathBuf,
    /// Absolute guest path where it appears.
    pub guest: String,
    /// Refuse every write.
    pub read_only: bool,
}

impl Mount {
    /// Parse `HOST:GUEST[:ro|:rw]`.
    pub fn parse(spec: &str) -> Result<Self> {
        let mut parts: Vec<&str> = spec.split(':').collect();
        let read_only = match parts.last() {
            Some(&"ro") if parts.len() == 3 => {
                parts.pop();
                true
            }
            Some(&"rw") if parts.len() == 3 => {
                parts.pop();
                false
            }
            _ => false,
        };
        let [host, guest] = parts[..] else {
            bail!("invalid --mount {spec:?}: expected HOST:GUEST[:ro]");
        };
        if !guest.starts_with('/') {
            bail!("invalid --mount {spec:?}: the guest path must be absolute");
        }
        let host = std::fs::canonicalize(host)
            .with_context(|| format!("--mount {spec:?}: host directory {host}"))?;
        if !host.is_dir() {
            bail!("--mount {spec:?}: {} is not a directory", host.display());
        }
        Ok(Self {
            host,
            guest: guest.trim_end_matches('/').to_string().max("/".to_string()),
            read_only,
        })
    }
}

/// Everything that decides the guest's initial world.
#[derive(Debug, Clone, Default)]
pub struct GuestLayout {
    /// Python's major version (3).
    pub python_major: u32,
    /// Python's minor version (14).
    pub python_minor: u32,
    /// `python_stdlib.zip`, placed at `/lib/pythonXY.zip`.
    pub stdlib_zip: Vec<u8>,
    /// Host directories to mount.
    pub mounts: Vec<Mount>,
    /// Extra files to place in MEMFS (absolute guest path, content).
    pub files: Vec<(String, Vec<u8>)>,
}

/// The guest's environment, as Pyodide's CLI under Node gives it:
/// Emscripten's defaults (`_` is `thisProgram`), `HOME` moved to
/// [`HOME`], then what the CLI adds: `PYTHONINSPECT` empty (so an uncaught
/// exception does not enter interactive mode) and `PYTHONEXECUTABLE`.
/// `LD_LIBRARY_PATH` is appended by [`host_kernel`].
pub fn guest_environment() -> Vec<(String, String)> {
    [
        ("USER", "web_user"),
        ("LOGNAME", "web_user"),
        ("PATH", "/"),
        ("PWD", "/"),
        ("HOME", HOME),
        ("LANG", "C.UTF-8"),
        ("_", PROGRAM),
        ("PYTHONINSPECT", ""),
        ("PYTHONEXECUTABLE", PROGRAM),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Build the kernel for `layout` with the host's stdio.
pub fn host_kernel(layout: &GuestLayout) -> Result<Kernel> {
    let mut kernel = Kernel::new(kernel_config(layout));
    prepare(&mut kernel, layout)?;
    Ok(kernel)
}

/// The kernel configuration for `layout` (environment, program name) with
/// the host's stdio; callers may replace the stdio sinks before
/// `Kernel::new` and then call [`prepare`].
pub fn kernel_config(layout: &GuestLayout) -> KernelConfig {
    let mut env = guest_environment();
    env.push((
        "LD_LIBRARY_PATH".into(),
        format!(
            "/usr/lib:/lib/python{}.{}/site-packages",
            layout.python_major, layout.python_minor
        ),
    ));
    KernelConfig {
        env,
        progname: PROGRAM.to_string(),
        ..KernelConfig::default()
    }
}

/// Create the directories and files of `layout` in `kernel`'s MEMFS.
pub fn prepare(kernel: &mut Kernel, layout: &GuestLayout) -> Result<()> {
    let ver = format!("{}.{}", layout.python_major, layout.python_minor);
    for dir in [
        "/lib".to_string(),
        format!("/lib/python{ver}/site-packages"),
        format!("/lib/python{ver}/lib-dynload"),
        HOME.to_string(),
    ] {
        kernel
            .mkdir_p(&dir)
            .map_err(|e| anyhow::anyhow!("creating {dir} in the guest: {e:?}"))?;
    }
    let zip_path = format!(
        "/lib/python{}{}.zip",
        layout.python_major, layout.python_minor
    );
    kernel
        .write_file(
            &zip_path,
            Arc::from(layout.stdlib_zip.clone().into_boxed_slice()),
        )
        .map_err(|e| anyhow::anyhow!("writing {zip_path}: {e:?}"))?;
    for (path, content) in &layout.files {
        if let Some((parent, _)) = path.rsplit_once('/')
            && !parent.is_empty()
        {
            kernel
                .mkdir_p(parent)
                .map_err(|e| anyhow::anyhow!("creating {parent}: {e:?}"))?;
        }
        kernel
            .write_file(path, Arc::from(content.clone().into_boxed_slice()))
            .map_err(|e| anyhow::anyhow!("writing {path}: {e:?}"))?;
    }
    for m in &layout.mounts {
        kernel
            .mount_host_dir(&m.guest, &m.host, m.read_only)
            .map_err(|e| anyhow::anyhow!("--mount {}:{}: {e}", m.host.display(), m.guest))?;
    }
    kernel
        .chdir(HOME)
        .map_err(|e| anyhow::anyhow!("chdir {HOME}: {e:?}"))?;
    Ok(())
}
