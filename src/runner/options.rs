//! Settings typed when the command line is parsed: sizes in bytes, time
//! limits, the number of workers, and the flags that every test run and
//! `compare` share ([`RunArgs`], flattened into both by the CLI).

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Result, bail};

use super::report::Partition;

/// A size in bytes, parsed from `65536`, `512M`, `2G`, `1GiB`, `1.5GB`:
/// `K`, `M`, `G`, `T` and `KiB`, `MiB`, `GiB`, `TiB` are powers of 1024;
/// `KB`, `MB`, `GB`, `TB` are powers of 1000; a trailing `B` alone means
/// bytes. Case does not matter; a fraction is allowed with a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Size(pub u64);

impl Size {
    /// The number of bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }
}

impl FromStr for Size {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("invalid size {text:?} (try 2G, 512MiB or 1.5GB)");
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = (&t[..split], t[split..].trim());
        let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kib" => 1 << 10,
            "m" | "mib" => 1 << 20,
            "g" | "gib" => 1 << 30,
            "t" | "tib" => 1 << 40,
            "kb" => 1_000,
            "mb" => 1_000_000,
            "gb" => 1_000_000_000,
            "tb" => 1_000_000_000_000,
            _ => return Err(bad()),
        };
        if num.is_empty() || num.starts_with('.') || num.matches('.').count() > 1 {
            return Err(bad());
        }
        let bytes = match num.split_once('.') {
            None => num
                .parse::<u64>()
                .ok()
                .and_then(|n| n.checked_mul(multiplier)),
            Some(_) if multiplier == 1 => None,
            Some(_) => num
                .parse::<f64>()
                .ok()
                .map(|f| f * multiplier as f64)
                .filter(|b| b.is_finite() && *b < u64::MAX as f64)
                .map(|b| b.round() as u64),
        };
        match bytes {
            Some(0) => Err(format!("invalid size {text:?}: must be positive")),
            Some(b) => Ok(Size(b)),
            None => Err(bad()),
        }
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = self.0;
        for (unit, shift) in [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)] {
            if b >= 1 << shift && b.is_multiple_of(1 << shift) {
                return write!(f, "{}{unit}", b >> shift);
            }
        }
        write!(f, "{b}B")
    }
}

/// A time limit in seconds (`300`, `0.5`), positive and finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seconds(pub Duration);

impl FromStr for Seconds {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let t = t.strip_suffix('s').unwrap_or(t);
        match t.parse::<f64>() {
            Ok(s) if s > 0.0 && s.is_finite() && s < 1e9 => Ok(Seconds(Duration::from_secs_f64(s))),
            _ => Err(format!(
                "invalid time {text:?}: expected a positive number of seconds"
            )),
        }
    }
}

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.as_secs_f64())
    }
}

/// `--hash-seed N|random`: the guest's `PYTHONHASHSEED`. String hashing
/// (and so the order of sets, and some crashes) depends on it, so every run
/// has one, written in its header and reports, and a run can be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashSeed {
    /// This seed (0 turns hash randomisation off, as in CPython).
    Fixed(u32),
    /// A seed drawn for the run (then reported like a fixed one).
    Random,
}

impl Default for HashSeed {
    fn default() -> Self {
        HashSeed::Fixed(DEFAULT_HASH_SEED)
    }
}

/// The hash seed of a run when `--hash-seed` is not given.
pub const DEFAULT_HASH_SEED: u32 = 0;

impl FromStr for HashSeed {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim() {
            "random" => Ok(HashSeed::Random),
            t => t.parse::<u32>().map(HashSeed::Fixed).map_err(|_| {
                format!("invalid hash seed {text:?}: expected a number from 0 to 4294967295, or `random`")
            }),
        }
    }
}

impl HashSeed {
    /// The seed to use: a fixed one as it is, `random` drawn now.
    pub fn resolve(self) -> u32 {
        match self {
            HashSeed::Fixed(n) => n,
            HashSeed::Random => {
                use std::hash::{BuildHasher, Hasher};
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_u128(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos()),
                );
                h.finish() as u32
            }
        }
    }
}

/// The number of workers: `-j N`, else the number of cores.
pub fn jobs(requested: Option<usize>) -> Result<usize> {
    match requested {
        Some(0) => bail!("-j must be at least 1"),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// Largest guest memory when `--max-memory` is not given to a test run.
pub const DEFAULT_TEST_MEMORY: Size = Size(2 << 30);

/// Largest guest memory when `--max-memory` is not given to `python`.
pub const DEFAULT_PYTHON_MEMORY: Size = Size(4 << 30);

/// Largest guest file data when `--max-fs` is not given.
pub const DEFAULT_FS: Size = Size(crate::syscalls::DEFAULT_FS_BUDGET);

/// Default `--timeout` per test, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 300;

/// The flags that a test run and `compare` share.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Number of workers (default: the number of cores).
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    pub jobs: Option<usize>,
    /// Only run tests matching the expression (pytest's -k).
    #[arg(short = 'k', value_name = "EXPR")]
    pub keyword: Option<String>,
    /// Seconds a test may run before it is stopped and recorded as timeout.
    #[arg(long, value_name = "SECONDS", default_value = "300")]
    pub timeout: Seconds,
    /// Largest guest memory per worker (default 2G): 512M, 2G, 1GiB are
    /// powers of 1024; 500MB, 1.5GB powers of 1000.
    #[arg(long, value_name = "SIZE")]
    pub max_memory: Option<Size>,
    /// Largest file data a guest may write into its in-memory file system
    /// (default 1G): past it, writes fail as on a full disk (ENOSPC).
    #[arg(long, value_name = "SIZE")]
    pub max_fs: Option<Size>,
    /// Also install a wheel, a directory of wheels, or a package (with its
    /// dependencies); a wheel of the package itself replaces the resolved one.
    #[arg(long = "with", value_name = "WHEEL|DIR|NAME")]
    pub with: Vec<String>,
    /// Take the tests from this directory (one package only).
    #[arg(long, value_name = "DIR")]
    pub tests: Option<PathBuf>,
    /// Do not install the test dependencies the package's sdist declares
    /// (test extras, dependency groups, requirements files, tox deps).
    #[arg(long)]
    pub no_test_deps: bool,
    /// The guests' PYTHONHASHSEED: a number (default 0), or `random` (drawn
    /// once for the run and reported, so the run can be repeated).
    #[arg(long, value_name = "N|random", default_value = "0")]
    pub hash_seed: HashSeed,
    /// Boot every test file's guest from scratch instead of forking it
    /// from its suite's zygote (a guest booted once, with pytest and the
    /// package imported). Slower; for checking that a start-up state does
    /// not change an outcome. Only Wasmtime runs have zygotes.
    #[arg(long)]
    pub fresh_guests: bool,
    /// With `-j` over 1, split a test file that would hold up the run
    /// (expected, from earlier runs, to take longer than its share of the
    /// workers) into parts run side by side, as pytest-xdist spreads a
    /// file's tests. Each part is a contiguous run of the file's tests (a
    /// class's tests, and a function's parametrizations, stay together) in
    /// a child of its own, cut by the tests' times in the last run that
    /// split it (the first time, by number of tests); a file whose time is
    /// in one test gains little. Module- and session-scoped fixtures run
    /// once per part, and which files are split depends on earlier runs'
    /// times.
    #[arg(long)]
    pub split_files: bool,
    /// Extra arguments for pytest, after `--` (e.g. `-- -W ignore::DeprecationWarning`).
    #[arg(last = true, value_name = "PYTEST_ARGS")]
    pub pytest_args: Vec<String>,
}

impl Default for RunArgs {
    fn default() -> Self {
        Self {
            jobs: None,
            keyword: None,
            timeout: Seconds(Duration::from_secs(DEFAULT_TIMEOUT_SECS)),
            max_memory: None,
            max_fs: None,
            with: Vec::new(),
            tests: None,
            no_test_deps: false,
            hash_seed: HashSeed::default(),
            fresh_guests: false,
            split_files: false,
            pytest_args: Vec::new(),
        }
    }
}

impl RunArgs {
    /// `--max-memory`, or the test runs' default.
    pub fn max_memory(&self) -> Size {
        self.max_memory.unwrap_or(DEFAULT_TEST_MEMORY)
    }

    /// `--max-fs`, or the default.
    pub fn max_fs(&self) -> Size {
        self.max_fs.unwrap_or(DEFAULT_FS)
    }
}

/// The flags of a test run that `compare` does not take.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReportArgs {
    /// Accept the current outcomes as the snapshots.
    #[arg(long)]
    pub update: bool,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write JSON Lines: one object per test, then a summary.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Run only part K of N of the test files (deterministic).
    #[arg(long, value_name = "K/N")]
    pub partition: Option<Partition>,
    /// Where the per-package snapshots are kept (default:
    /// ./snapshots/pyodide-VERSION, or ./snapshots/dist-NAME for --dist:
    /// one directory per build).
    #[arg(long, value_name = "DIR")]
    pub snapshot_dir: Option<PathBuf>,
    /// Write a short Markdown summary of the run and its changes (for a CI
    /// job's page).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

/// Say once, on stderr, that `flag` is not applied by `runtime` and why.
pub fn warn_unhonoured(flag: &str, runtime: &str, why: &str) {
    eprintln!("pyodide-test: warning: {flag} is not applied under {runtime}: {why}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(s: &str) -> u64 {
        s.parse::<Size>().unwrap().bytes()
    }

    #[test]
    fn sizes_in_both_systems() {
        assert_eq!(size("65536"), 65536);
        assert_eq!(size("512M"), 512 << 20);
        assert_eq!(size("2G"), 2 << 30);
        assert_eq!(size("2g"), 2 << 30);
        assert_eq!(size("1GiB"), 1 << 30);
        assert_eq!(size("1gib"), 1 << 30);
        assert_eq!(size("4KiB"), 4096);
        assert_eq!(size("1.5GB"), 1_500_000_000);
        assert_eq!(size("1.5GiB"), 3 << 29);
        assert_eq!(size("500MB"), 500_000_000);
        assert_eq!(size("2 GiB"), 2 << 30);
        assert_eq!(size("100B"), 100);
        assert_eq!(size("1T"), 1 << 40);
    }

    #[test]
    fn bad_sizes() {
        for bad in [
            "",
            "lots",
            "0",
            "0G",
            "-1G",
            "1.5",
            "1..5G",
            ".5G",
            "2X",
            "G",
            "1e9",
            "99999999999T",
        ] {
            assert!(bad.parse::<Size>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn size_display() {
        assert_eq!(Size(2 << 30).to_string(), "2GiB");
        assert_eq!(Size(1_500_000_000).to_string(), "1500000000B");
    }

    #[test]
    fn seconds() {
        assert_eq!(
            "2.5".parse::<Seconds>().unwrap().0,
            Duration::from_millis(2500)
        );
        assert_eq!("30s".parse::<Seconds>().unwrap().0, Duration::from_secs(30));
        for bad in ["0", "-1", "inf", "NaN", "x"] {
            assert!(bad.parse::<Seconds>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn hash_seeds() {
        assert_eq!("7".parse::<HashSeed>().unwrap(), HashSeed::Fixed(7));
        assert_eq!("random".parse::<HashSeed>().unwrap(), HashSeed::Random);
        assert!("-1".parse::<HashSeed>().is_err());
        assert!("x".parse::<HashSeed>().is_err());
        assert_eq!(HashSeed::Fixed(3).resolve(), 3);
    }

    #[test]
    fn job_counts() {
        assert!(jobs(Some(0)).is_err());
        assert_eq!(jobs(Some(3)).unwrap(), 3);
        assert!(jobs(None).unwrap() >= 1);
    }
}
