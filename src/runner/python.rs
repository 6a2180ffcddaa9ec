//! `pyodide-test python ...` and `pyodide-test fetch`: resolve the dist,
//! load the (cached) compiled module, prepare the guest's file system and
//! run CPython's own command line.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::dist::Dist;
use super::fetch;
use super::wheels;
use crate::host::asm_consts::AsmConsts;
use crate::host::boot::PyodideModule;
use crate::host::engine;
use crate::host::layout::{self, GuestLayout, Mount};
use crate::host::module_cache::ModuleCache;

/// Which engine runs the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Runtime {
    /// Natively, under Wasmtime (the default).
    #[default]
    Wasmtime,
    /// Under Node.js with the dist's own JS glue (the reference).
    Node,
}

/// Where the Pyodide distribution comes from.
#[derive(Debug, Clone)]
pub struct DistSource {
    /// Release to fetch with `npm pack` when `dir` is not given.
    pub version: String,
    /// A local distribution directory.
    pub dir: Option<PathBuf>,
}

impl DistSource {
    /// Open the dist, fetching the release into the cache if needed.
    pub fn resolve(&self) -> Result<Dist> {
        let dir = match &self.dir {
            Some(dir) => dir.clone(),
            None => fetch::ensure_pyodide(&fetch::cache_root(), &self.version)?,
        };
        Dist::open(&dir)
    }
}

/// Load the dist's main module through the compiled-module cache.
pub fn load_module(dist: &Dist) -> Result<PyodideModule> {
    let engine = engine::new_engine()?;
    let wasm = dist.read_wasm()?;
    let cache = ModuleCache::new(fetch::cache_root().join("modules"));
    let module = cache.load(&engine, &wasm, "pyodide.asm.wasm")?;
    let asm = AsmConsts::parse(&dist.read_glue()?)?;
    PyodideModule::new(&engine, module, asm)
}

/// `pyodide-test fetch`: cache the release and its compiled module.
pub fn fetch(source: &DistSource) -> Result<()> {
    let dist = source.resolve()?;
    load_module(&dist)?;
    eprintln!(
        "pyodide-test: Pyodide {} (Python {}) is ready in {}",
        dist.info().version.as_deref().unwrap_or(&source.version),
        dist.info().python,
        dist.dir().display()
    );
    Ok(())
}

/// Options of `pyodide-test python` besides CPython's own arguments.
#[derive(Debug, Clone, Default)]
pub struct PythonOptions {
    /// `--mount HOST:GUEST[:ro]` specs.
    pub mounts: Vec<String>,
    /// `--max-memory` (e.g. `4G`).
    pub max_memory: String,
    /// `--with` items: wheel files, directories of wheels, package names.
    pub with: Vec<String>,
    /// `--copy HOST:GUEST` files placed in MEMFS before start.
    pub copies: Vec<String>,
}

/// `pyodide-test python ARGS`: run CPython; returns its exit status.
pub fn run(
    source: &DistSource,
    runtime: Runtime,
    opts: &PythonOptions,
    args: &[String],
) -> Result<i32> {
    let heap_max = parse_size(&opts.max_memory)?;
    let mounts = opts
        .mounts
        .iter()
        .map(|m| Mount::parse(m))
        .collect::<Result<Vec<_>>>()?;
    let dist = source.resolve()?;
    let (major, minor) = dist.python_major_minor()?;
    let mut guest_args = args.to_vec();
    // Host files to place in the guest: (host path, guest path).
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    if let Some((index, script)) = script_operand(args) {
        let host_path = Path::new(script);
        if !host_path.is_file() {
            bail!("can't open file '{script}': no such file");
        }
        let guest = guest_script_path(host_path)?;
        guest_args[index] = if host_path.is_absolute() {
            guest.clone()
        } else {
            script.to_string()
        };
        files.push((host_path.to_path_buf(), guest));
    }
    for spec in &opts.copies {
        let (host, guest) = spec
            .rsplit_once(':')
            .filter(|(h, g)| !h.is_empty() && g.starts_with('/'))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "invalid --copy {spec:?}: expected HOST:GUEST with an absolute GUEST path"
                )
            })?;
        if !Path::new(host).is_file() {
            bail!("--copy {spec:?}: {host} is not a file");
        }
        files.push((PathBuf::from(host), guest.to_string()));
    }
    let cache = fetch::cache_root();
    let site = format!("/lib/python{major}.{minor}/site-packages");
    for wheel in wheels::resolve(&dist, &cache, &opts.with)? {
        let dir = wheels::unpacked(&cache, &wheel)?;
        for rel in wheels::relative_files(&dir)? {
            files.push((dir.join(&rel), format!("{site}/{rel}")));
        }
    }
    if runtime == Runtime::Node {
        if !mounts.is_empty() {
            bail!("--mount is not supported with --runtime node");
        }
        return super::node::run_python(&cache, &dist, &files, &guest_args);
    }
    let module = load_module(&dist)?;
    let mut contents = Vec::with_capacity(files.len());
    for (host, guest) in files {
        let data = std::fs::read(&host).with_context(|| format!("reading {}", host.display()))?;
        contents.push((guest, data));
    }
    let layout = GuestLayout {
        python_major: major,
        python_minor: minor,
        stdlib_zip: dist.read_stdlib_zip()?,
        mounts,
        files: contents,
    };
    let kernel = layout::host_kernel(&layout)?;
    let outcome = module.run(
        kernel,
        &guest_args,
        &crate::host::boot::RunLimits::memory(
            heap_max.min(crate::host::runtime::EMSCRIPTEN_HEAP_MAX),
        ),
    )?;
    if let Some(crash) = outcome.crash {
        eprintln!("pyodide-test: the guest crashed: {crash}");
    }
    Ok(outcome.status)
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

/// Parse sizes like `4G`, `512M`, `65536`.
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let (num, mult) = match t.chars().last() {
        Some('G' | 'g') => (&t[..t.len() - 1], 1u64 << 30),
        Some('M' | 'm') => (&t[..t.len() - 1], 1 << 20),
        Some('K' | 'k') => (&t[..t.len() - 1], 1 << 10),
        _ => (t, 1),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("invalid size {text:?} (try 2G or 512M)"))?;
    if n == 0 {
        bail!("invalid size {text:?}: must be positive");
    }
    Ok(n * mult)
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

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("2G").unwrap(), 2 << 30);
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert!(parse_size("lots").is_err());
    }
}
