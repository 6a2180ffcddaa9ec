//! `pyodide-test cpython [MODULE...]`: CPython's own `Lib/test` run inside
//! the dist's CPython, one test module (or package) per job, an outcome per
//! test method, crashes isolated and the module resumed in a fresh guest,
//! outcomes compared with a snapshot per Pyodide release and `Lib/test`
//! version (`cpython-tests/snapshots/`).
//!
//! `Lib/test` comes from `--cpython-tests DIR` (a CPython checkout's, or an
//! installed `python3.X/test`) or from Debian's packages (see
//! `lib_test.rs`). The plan (`cpython-tests/plan.toml`) names the modules
//! and tests that cannot run here; they are reported as skipped with their
//! reason. Inside the guest our unittest driver (`cpython_driver.py`)
//! configures `test.support` as CPython's own runner does and reports each
//! test through the event device.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::backend::Runtime;
use super::bytecode;
use super::cpython_plan::Plan as TestPlan;
use super::dist::DistSource;
use super::lib_test;
use super::outcome::{Outcome, TestRecord};
use super::suite::{Driver, Suite, UNITTEST_DRIVER_MODULE, UNITTEST_DRIVER_SOURCE};
use super::test_cmd::{self, Setup, TestOptions};
use super::test_sources::{TestFile, TestSource, walk};
use crate::host::spec::{file_set, site_packages};

/// The package name CPython's suite is reported under.
pub const PACKAGE: &str = "cpython";

/// Where `Lib/test`'s `test` package goes in the guest.
pub const TESTDIR: &str = "/lib/cpython-tests";

/// The plan and snapshots of CPython's suite, in the repository.
pub const PLAN_DIR: &str = "cpython-tests";

/// Options of `pyodide-test cpython`.
#[derive(Debug, Clone, Default)]
pub struct CpythonOptions {
    /// Modules to run (`test_json`); empty: all.
    pub modules: Vec<String>,
    /// `--cpython-tests DIR`: a `Lib/test` to use instead of Debian's.
    pub tests_dir: Option<PathBuf>,
    /// `-u RES,...`: regrtest's resources.
    pub resources: Vec<String>,
    /// `--plan FILE` (default `cpython-tests/plan.toml`).
    pub plan: Option<PathBuf>,
    /// The flags shared with package runs.
    pub test: TestOptions,
}

/// A `Lib/test` tree and the CPython version it belongs to.
#[derive(Debug, Clone)]
struct LibTestTree {
    /// The `test` directory.
    dir: PathBuf,
    /// Its CPython version (`3.14.10`).
    version: String,
}

/// The (major, minor) of a version string.
fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

/// The CPython version of a `Lib/test` given by the user: a checkout's
/// `Include/patchlevel.h`, else an installed tree's `python3.X` parent.
fn version_of(dir: &Path) -> Result<String> {
    let abs =
        fs::canonicalize(dir).with_context(|| format!("--cpython-tests {}", dir.display()))?;
    if let Some(root) = abs.parent().and_then(Path::parent) {
        let header = root.join("Include").join("patchlevel.h");
        if let Ok(text) = fs::read_to_string(&header) {
            let v = text.lines().find_map(|l| {
                let rest = l.trim().strip_prefix("#define PY_VERSION")?;
                Some(rest.trim().trim_matches('"').to_string())
            });
            if let Some(v) = v {
                return Ok(v);
            }
        }
    }
    if let Some(name) = abs.parent().and_then(Path::file_name) {
        let name = name.to_string_lossy();
        if let Some(v) = name.strip_prefix("python")
            && major_minor(v).is_some()
        {
            return Ok(v.to_string());
        }
    }
    bail!(
        "cannot tell which CPython {} belongs to: give the Lib/test of a CPython checkout (with Include/patchlevel.h) or an installed python3.X/test",
        dir.display()
    )
}

/// Find `Lib/test`: the user's, checked against the dist's Python, or
/// Debian's for it.
fn lib_test(opts: &CpythonOptions, cache: &Path, python: (u32, u32)) -> Result<LibTestTree> {
    let tree = match &opts.tests_dir {
        Some(dir) => {
            lib_test::check_tree(dir)?;
            let version = version_of(dir)?;
            LibTestTree {
                dir: fs::canonicalize(dir)?,
                version,
            }
        }
        None => {
            let found = lib_test::fetch_lib_test(cache, python.0, python.1)?;
            LibTestTree {
                dir: found.dir,
                version: found.version,
            }
        }
    };
    if major_minor(&tree.version) != Some(python) {
        bail!(
            "{} is the Lib/test of CPython {}, but the dist's Python is {}.{}",
            tree.dir.display(),
            tree.version,
            python.0,
            python.1
        );
    }
    Ok(tree)
}

/// The test modules and packages of `Lib/test` (`test_*.py`, `test_*/`).
fn modules(dir: &Path) -> Result<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("test_") {
            continue;
        }
        let path = entry.path();
        if let Some(module) = name.strip_suffix(".py") {
            out.insert(module.to_string(), entry.metadata()?.len());
        } else if path.join("__init__.py").is_file() {
            let size = walk(&path)?
                .iter()
                .filter_map(|rel| fs::metadata(path.join(rel)).ok())
                .map(|m| m.len())
                .sum();
            out.insert(name, size);
        }
    }
    Ok(out)
}

/// `pyodide-test cpython`: returns the exit status as a package run does.
pub fn run(source: &DistSource, runtime: Runtime, opts: &CpythonOptions) -> Result<i32> {
    let started = Instant::now();
    if opts.test.run.tests.is_some() {
        bail!("--tests does not apply to `cpython`; give a Lib/test with --cpython-tests DIR");
    }
    let setup = Setup::new(source)?;
    let python = setup.dist.python_major_minor()?;
    let tree = lib_test(opts, &setup.cache, python)?;
    let plan_path = opts
        .plan
        .clone()
        .unwrap_or_else(|| PathBuf::from(PLAN_DIR).join("plan.toml"));
    let test_plan = if plan_path.is_file() {
        TestPlan::load(&plan_path)?
    } else if opts.plan.is_some() {
        bail!("--plan {}: no such file", plan_path.display());
    } else {
        TestPlan::default()
    };
    let all = modules(&tree.dir)?;
    for m in &opts.modules {
        let top = m.split('.').next().unwrap_or(m);
        if !all.contains_key(top) {
            bail!(
                "{m} is not a test module of Lib/test {} (try test_json, or no name for all)",
                tree.version
            );
        }
    }
    let selected: Vec<(&String, &u64)> = all
        .iter()
        .filter(|(m, _)| opts.modules.is_empty() || opts.modules.iter().any(|s| s == *m))
        .collect();
    let mut skipped = Vec::new();
    let mut test_files = Vec::new();
    for (module, size) in selected {
        match test_plan.module_skip(module) {
            Some(skip) if opts.modules.is_empty() || !opts.modules.contains(module) => skipped
                .push(TestRecord {
                    package: PACKAGE.to_string(),
                    id: format!("test.{module}"),
                    outcome: Outcome::Skipped,
                    duration: 0.0,
                    message: format!("plan ({:?}): {}", skip.kind, skip.reason),
                }),
            _ => test_files.push(TestFile {
                rel: format!("test.{module}"),
                size: *size,
            }),
        }
    }
    // The tree once, shared by every guest; the driver in site-packages.
    let mut files = Vec::new();
    for rel in walk(&tree.dir)? {
        let data = fs::read(tree.dir.join(&rel))
            .with_context(|| format!("reading {}", tree.dir.join(&rel).display()))?;
        files.push((format!("{TESTDIR}/test/{rel}"), data));
    }
    files.push((
        format!("{}/{UNITTEST_DRIVER_MODULE}.py", site_packages(python)),
        UNITTEST_DRIVER_SOURCE.as_bytes().to_vec(),
    ));
    // The plan's single-test rules for the driver, one list of each kind.
    let rules = |lines: fn(&TestPlan, &str) -> String| -> Vec<u8> {
        test_files
            .iter()
            .map(|f| lines(&test_plan, f.rel.trim_start_matches("test.")))
            .collect::<String>()
            .into_bytes()
    };
    files.push((SKIP_LIST.to_string(), rules(TestPlan::test_skips)));
    files.push((ISOLATE_LIST.to_string(), rules(TestPlan::test_isolations)));
    eprintln!(
        "pyodide-test: cpython: Lib/test {} ({}): {} modules to run, {} skipped by {}",
        tree.version,
        tree.dir.display(),
        test_files.len(),
        skipped.len(),
        plan_path.display()
    );
    let mut suite = Suite {
        package: PACKAGE.to_string(),
        version: Some(tree.version.clone()),
        files: file_set(files),
        root: TESTDIR.to_string(),
        test_files,
        source: TestSource::Dir(tree.dir.clone()),
        wheel_dirs: Vec::new(),
        skipped_links: Vec::new(),
        driver: Driver::Unittest {
            testdir: TESTDIR.to_string(),
            resources: opts.resources.clone(),
        },
        cwd: None,
        pytest_args: Vec::new(),
        notes: Vec::new(),
        modules: Vec::new(),
        installed: Vec::new(),
    };
    // The stdlib's bytecode and the hook that serves it, as a package
    // suite's guests have them: otherwise every guest compiles each stdlib
    // module it imports from source (the zygote's pdb and unittest alone:
    // 2.3 s).
    let module = setup.bytecode_module(opts.test.run.fresh_guests);
    bytecode::add_to(&mut suite, module, &setup.dist, &setup.cache)
        .context("the stdlib's bytecode")?;
    let mut plan = test_cmd::plan_suites(setup, vec![suite], &opts.test, started)?;
    plan.cfg.guest.env.extend([
        ("PYODIDE_TEST_SKIP".into(), SKIP_LIST.into()),
        ("PYODIDE_TEST_ISOLATE".into(), ISOLATE_LIST.into()),
    ]);

    let pyodide = plan.dist.pyodide_version().unwrap_or_else(|| "dist".into());
    let snapshot_dir = opts.test.report.snapshot_dir.clone().unwrap_or_else(|| {
        PathBuf::from(PLAN_DIR)
            .join("snapshots")
            .join(format!("pyodide-{pyodide}-lib-test-{}", tree.version))
    });
    test_cmd::run_and_report(
        &plan,
        runtime,
        &opts.test,
        &[PACKAGE.to_string()],
        snapshot_dir,
        test_cmd::ReportScope {
            before: &skipped,
            some_jobs: !opts.modules.is_empty(),
            unsteady: [(PACKAGE.to_string(), test_plan.isolated_ids())].into(),
        },
    )
}

/// Where the plan's single-test skips go in the guest (`module\tid\treason` lines,
/// read by the driver through `PYODIDE_TEST_SKIP`).
const SKIP_LIST: &str = "/lib/cpython-tests/skips.txt";
/// Where the plan's isolated tests go in the guest (the same format, read
/// by the driver through `PYODIDE_TEST_ISOLATE`).
const ISOLATE_LIST: &str = "/lib/cpython-tests/isolated.txt";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(major_minor("3.14.10"), Some((3, 14)));
        assert_eq!(major_minor("3.15.0b4"), Some((3, 15)));
        assert_eq!(major_minor("3.14"), Some((3, 14)));
        assert_eq!(major_minor("x"), None);
    }

    #[test]
    fn version_of_a_checkout_and_an_installed_tree() {
        let base = std::env::temp_dir().join(format!("pt-cpyver-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let checkout = base.join("cpython");
        fs::create_dir_all(checkout.join("Lib/test")).unwrap();
        fs::create_dir_all(checkout.join("Include")).unwrap();
        fs::write(
            checkout.join("Include/patchlevel.h"),
            "#define PY_MAJOR_VERSION 3\n#define PY_VERSION \"3.14.2+\"\n",
        )
        .unwrap();
        assert_eq!(version_of(&checkout.join("Lib/test")).unwrap(), "3.14.2+");
        let installed = base.join("usr/lib/python3.11/test");
        fs::create_dir_all(&installed).unwrap();
        assert_eq!(version_of(&installed).unwrap(), "3.11");
        let other = base.join("elsewhere/test");
        fs::create_dir_all(&other).unwrap();
        assert!(version_of(&other).is_err());
        fs::remove_dir_all(&base).unwrap();
    }
}
