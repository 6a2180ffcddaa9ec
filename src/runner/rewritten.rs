//! pytest's rewritten modules (tests, conftests, plugins), kept between runs.
//!
//! pytest compiles every test module, conftest and plugin module it
//! imports with its asserts rewritten, in Python: msgpack's 60 KB of tests
//! take 0.3 s of a 2 s run. It keeps the result beside the source
//! (`__pycache__/NAME.cpython-314-pytest-9.2.0.pyc`), which a guest's file
//! system forgets when the guest ends. Our plugin reports each such file
//! that pytest wrote (event `pyc`); the runner keeps them in the cache, per
//! suite ([`store`]). The next run places them in the guest ([`stage`]:
//! [`GUEST_TABLE`] for test modules, [`GUEST_EARLY_TABLE`] for the rest),
//! and the plugin writes them where pytest looks, with the header's source
//! time and size set to the source's in this guest: pytest then loads them
//! instead of rewriting, as it would on a second run on a disk. The rest
//! (plugins', conftests) are written as the plugin is imported, before
//! pytest loads them; of the test modules, at `pytest_configure`, those
//! whose source is about to be collected. The plugins matter most: pytest
//! rewrites the whole distribution of an entry-point plugin (pydantic-core's
//! hypothesis, inline-snapshot and others: 167 modules, about 1.7 s of each
//! zygote's start).
//!
//! The cache key covers what shapes the rewriting besides a module's own
//! source: the suite's conftests and configuration files, the pytest
//! arguments (but the run's `-k`, which only selects), what is installed
//! (pytest's version among it) and our plugin (which writes what it
//! reports). Each entry
//! carries the SHA-256 of its source, and is placed only while the suite's
//! copy of that source has the same.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::{Context, Result};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::suite::{Driver, Suite};
use crate::hex::encode as hex;
use crate::host_bytes::HostBytes;

/// Where the guest finds the table of rewritten test modules (the plugin
/// reads and removes it at `pytest_configure`, and places those its session
/// may collect).
pub const GUEST_TABLE: &str = "/tmp/.pyodide-test-rewritten";

/// Where the guest finds the table of the other rewritten modules: plugins'
/// (pytest rewrites the whole distribution of an entry-point plugin as it
/// loads it), conftests and the modules they name in `pytest_plugins`.
/// pytest imports them while it configures itself, before any
/// `pytest_configure`: the plugin places them all as it is imported.
pub const GUEST_EARLY_TABLE: &str = "/tmp/.pyodide-test-rewritten-early";

/// Whether `path` is one of the guest's tables ([`GUEST_TABLE`],
/// [`GUEST_EARLY_TABLE`]).
pub fn is_table(path: &str) -> bool {
    path == GUEST_TABLE || path == GUEST_EARLY_TABLE
}

/// Files whose content can change how pytest rewrites a module.
const SHAPING_NAMES: [&str; 5] = [
    "conftest.py",
    "pytest.ini",
    "pyproject.toml",
    "tox.ini",
    "setup.cfg",
];

/// A rewritten module, as the plugin reports it and the cache keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    /// The module's source file in the guest.
    pub source: String,
    /// Where pytest wrote the compiled module in the guest.
    pub pyc: String,
    /// The file's bytes.
    pub data: Vec<u8>,
}

struct Entry {
    /// SHA-256 (hex) of the source the module was compiled from.
    sha: String,
    module: Rewritten,
}

/// The first bytes of a table in the cache. A table is binary, not JSON
/// with the modules in base64: pydantic-core's (286 modules, 9 MB) took
/// 33 ms of every run's start to read as JSON and check.
const MAGIC: &[u8; 8] = b"PTRWTAB1";

/// A table's bytes: [`MAGIC`], then for each entry four fields (the
/// source's SHA-256, the source path, the pyc path, the pyc's bytes), each
/// a length (u32, little endian) and its bytes.
fn encode(entries: &[&Entry]) -> Vec<u8> {
    let size: usize = entries
        .iter()
        .map(|e| {
            16 + e.sha.len() + e.module.source.len() + e.module.pyc.len() + e.module.data.len()
        })
        .sum();
    let mut out = Vec::with_capacity(MAGIC.len() + size);
    out.extend_from_slice(MAGIC);
    for e in entries {
        put_fields(
            &mut out,
            [
                e.sha.as_bytes(),
                e.module.source.as_bytes(),
                e.module.pyc.as_bytes(),
                &e.module.data,
            ],
        );
    }
    out
}

/// Append each of `fields` to `out` as its length (u32, little endian)
/// and its bytes: the cache's tables and the guest's alike.
fn put_fields<const N: usize>(out: &mut Vec<u8>, fields: [&[u8]; N]) {
    for field in fields {
        out.extend_from_slice(&(field.len() as u32).to_le_bytes());
        out.extend_from_slice(field);
    }
}

/// The entries of a table's bytes; `None` if they are not a whole table.
fn decode_table(bytes: &[u8]) -> Option<Vec<Entry>> {
    let mut rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let mut field = || -> Option<&[u8]> {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_le_bytes(*len)).ok()?;
        let (data, tail) = (tail.get(..len)?, tail.get(len..)?);
        rest = tail;
        Some(data)
    };
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).ok();
    let mut entries = Vec::new();
    while let Some(sha) = field() {
        let (source, pyc, data) = (field()?, field()?, field()?);
        entries.push(Entry {
            sha: text(sha)?,
            module: Rewritten {
                source: text(source)?,
                pyc: text(pyc)?,
                data: data.to_vec(),
            },
        });
    }
    // The loop ends at the end of the bytes, or at a torn length.
    rest.is_empty().then_some(entries)
}

/// The source paths of the modules a table in the cache (a file of the
/// cache's `rewritten/`) holds, in its order; `None` if `bytes` are not a
/// table.
pub fn table_sources(bytes: &[u8]) -> Option<Vec<String>> {
    Some(
        decode_table(bytes)?
            .into_iter()
            .map(|e| e.module.source)
            .collect(),
    )
}

/// The cache key of `suite`'s rewritten modules when its jobs run pytest
/// with `args` (a job's arguments less its file); `None` for a suite that
/// does not run pytest.
pub fn key(suite: &Suite, args: &[String]) -> Option<String> {
    if suite.driver != Driver::Pytest {
        return None;
    }
    let mut h = Sha256::new();
    h.update(b"rewritten 2\0");
    // The plugin writes the modules it reports.
    h.update(Sha256::digest(super::suite::PLUGIN_SOURCE));
    for a in args {
        h.update(a.as_bytes());
        h.update(b"\0");
    }
    for i in &suite.installed {
        h.update(format!("{} {}\0", i.name, i.version).as_bytes());
    }
    let mut shaping: Vec<&(String, HostBytes)> = suite
        .files
        .iter()
        .filter(|(path, _)| {
            let name = path.rsplit('/').next().unwrap_or(path);
            SHAPING_NAMES.contains(&name)
        })
        .collect();
    shaping.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, data) in shaping {
        h.update(path.as_bytes());
        h.update(b"\0");
        h.update(Sha256::digest(data));
    }
    Some(hex(&h.finalize()[..20]))
}

fn table_path(cache: &Path, key: &str) -> PathBuf {
    cache.join("rewritten").join(format!("{key}.bin"))
}

/// What the tables may take on disk together (each key has its own):
/// past it, the least recently used go, as do those unused for a month
/// (and tables of the JSON format before [`MAGIC`]).
const MAX_BYTES: u64 = 512 << 20;

fn load(cache: &Path, key: &str) -> Vec<Entry> {
    let Ok(mut file) = std::fs::File::open(table_path(cache, key)) else {
        return Vec::new();
    };
    let mut bytes = Vec::new();
    if std::io::Read::read_to_end(&mut file, &mut bytes).is_err() {
        return Vec::new();
    }
    crate::cache_files::mark_file_used(&file, SystemTime::now());
    decode_table(&bytes).unwrap_or_default()
}

/// The `.py` files of the suite by guest path, each hashed (SHA-256, hex)
/// only when asked about: the suite's files include every installed
/// wheel's sources (megabytes), of which only the test modules and
/// conftests are asked about, once each.
struct SourceShas<'a> {
    files: std::collections::HashMap<&'a str, &'a [u8]>,
}

impl<'a> SourceShas<'a> {
    fn new(suite: &'a Suite) -> Self {
        Self {
            files: suite
                .files
                .iter()
                .filter(|(path, _)| path.ends_with(".py"))
                .map(|(path, data)| (path.as_str(), &data[..]))
                .collect(),
        }
    }

    /// Is `path` a source of the suite?
    fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// The digest of `path`, or `None` if it is not a source of the suite.
    fn get(&self, path: &str) -> Option<String> {
        self.files.get(path).map(|data| hex(&Sha256::digest(data)))
    }
}

/// Add the kept modules of `suite` (under `key`) whose source is unchanged
/// to its files: its test modules as [`GUEST_TABLE`], the others (plugins,
/// conftests) as [`GUEST_EARLY_TABLE`]; returns how many.
pub fn stage(cache: &Path, suite: &mut Suite, key: &str) -> usize {
    let entries = load(cache, key);
    if entries.is_empty() {
        return 0;
    }
    let shas = SourceShas::new(suite);
    let tests: HashSet<String> = suite
        .test_files
        .iter()
        .map(|t| format!("{}/{}", suite.root, t.rel))
        .collect();
    // Each table: for each module, three length-prefixed (u32, little
    // endian) fields: source path, pyc path, the pyc's bytes.
    let (mut late, mut early) = (Vec::new(), Vec::new());
    let mut count = 0;
    for e in &entries {
        if shas.get(&e.module.source).as_ref() != Some(&e.sha) {
            continue;
        }
        let table = if tests.contains(&e.module.source) {
            &mut late
        } else {
            &mut early
        };
        put_fields(
            table,
            [
                e.module.source.as_bytes(),
                e.module.pyc.as_bytes(),
                &e.module.data,
            ],
        );
        count += 1;
    }
    for (path, table) in [(GUEST_TABLE, late), (GUEST_EARLY_TABLE, early)] {
        if !table.is_empty() {
            Arc::make_mut(&mut suite.files).push((path.to_string(), table.into()));
        }
    }
    count
}

/// Keep `modules` (reported by a run of `suite` under `key`) with what the
/// cache holds for the key of the suite's files: a module replaces the
/// kept one of the same source.
pub fn store(cache: &Path, suite: &Suite, key: &str, modules: &[Rewritten]) -> Result<()> {
    if modules.is_empty() {
        return Ok(());
    }
    let shas = SourceShas::new(suite);
    // Only the suite's files stay (a table does not grow with files that
    // are gone).
    let mut by_source: BTreeMap<String, Entry> = load(cache, key)
        .into_iter()
        .filter(|e| shas.contains(&e.module.source))
        .map(|e| (e.module.source.clone(), e))
        .collect();
    for m in modules {
        let Some(sha) = shas.get(&m.source) else {
            continue; // not a file of the suite (written by a test)
        };
        // pytest's header: magic, flags, then the source's time and size.
        if m.data.len() < 16 || !m.pyc.ends_with(".pyc") {
            continue;
        }
        by_source.insert(
            m.source.clone(),
            Entry {
                sha: sha.clone(),
                module: m.clone(),
            },
        );
    }
    let entries: Vec<&Entry> = by_source.values().collect();
    let path = table_path(cache, key);
    let dir = path.parent().context("the table's directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    crate::atomic_file::write(&path, &encode(&entries))
        .with_context(|| format!("writing {}", path.display()))?;
    crate::cache_files::prune_files(dir, SystemTime::now(), MAX_BYTES);
    Ok(())
}

/// A `pyc` event's payload: the module's bytes in base64.
pub fn decode(data: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(data).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::spec::file_set;

    fn suite(files: &[(&str, &str)]) -> Suite {
        let mut suite = crate::runner::scheduler::tests::suite("p", &[("test_a.py", 1)]);
        suite.files = file_set(
            files
                .iter()
                .map(|(p, d)| (p.to_string(), d.as_bytes().to_vec())),
        );
        suite
    }

    fn module(source: &str, data: &[u8]) -> Rewritten {
        Rewritten {
            source: source.into(),
            pyc: format!("{source}c"),
            data: data.to_vec(),
        }
    }

    #[test]
    fn a_table_reads_back_whole_or_not_at_all() {
        let a = Entry {
            sha: "ab".into(),
            module: module("/r/a.py", b"\0\x01pyc"),
        };
        let b = Entry {
            sha: "cd".into(),
            module: module("/r/b.py", b""),
        };
        let bytes = encode(&[&a, &b]);
        let back = decode_table(&bytes).expect("a whole table");
        assert_eq!(back.len(), 2);
        assert_eq!((back[0].sha.as_str(), &back[0].module), ("ab", &a.module));
        assert_eq!((back[1].sha.as_str(), &back[1].module), ("cd", &b.module));
        assert_eq!(decode_table(MAGIC).map(|t| t.len()), Some(0));
        // Cut anywhere but between the entries (then it is the first's
        // table), or not a table (the JSON of before): nothing.
        let second = encode(&[&b]).len() - MAGIC.len();
        for cut in 1..bytes.len() - MAGIC.len() {
            let kept = decode_table(&bytes[..bytes.len() - cut]).map(|t| t.len());
            assert_eq!(kept, (cut == second).then_some(1), "cut {cut}");
        }
        assert!(decode_table(b"[]").is_none());
    }

    #[test]
    fn the_key_follows_conftests_and_arguments_not_tests() {
        let a = suite(&[("/r/test_a.py", "x"), ("/r/conftest.py", "1")]);
        let b = suite(&[("/r/test_a.py", "y"), ("/r/conftest.py", "1")]);
        let c = suite(&[("/r/test_a.py", "x"), ("/r/conftest.py", "2")]);
        let args = vec!["-q".to_string()];
        assert_eq!(key(&a, &args), key(&b, &args));
        assert_ne!(key(&a, &args), key(&c, &args));
        assert_ne!(key(&a, &args), key(&a, &["-v".to_string()]));
        let mut unittest = a.clone();
        unittest.driver = Driver::Unittest {
            testdir: "/t".into(),
            resources: Vec::new(),
        };
        assert_eq!(key(&unittest, &args), None);
    }

    #[test]
    fn only_modules_of_unchanged_sources_are_staged() {
        let cache = std::env::temp_dir().join(format!("pt-rewritten-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&cache);
        let before = suite(&[("/r/test_a.py", "x"), ("/r/test_b.py", "y")]);
        let pyc = [7u8; 20];
        store(
            &cache,
            &before,
            "k",
            &[
                module("/r/test_a.py", &pyc),
                module("/r/test_b.py", &pyc),
                // Not the suite's, and too short to be a pyc: not kept.
                module("/tmp/generated.py", &pyc),
                module("/r/test_a.py", b"short"),
            ],
        )
        .unwrap();
        let mut after = suite(&[("/r/test_a.py", "x"), ("/r/test_b.py", "changed")]);
        assert_eq!(stage(&cache, &mut after, "k"), 1);
        let (path, table) = after.files.last().unwrap();
        assert_eq!(path, GUEST_TABLE);
        let mut expected = Vec::new();
        for field in [&b"/r/test_a.py"[..], b"/r/test_a.pyc", &pyc] {
            expected.extend_from_slice(&(field.len() as u32).to_le_bytes());
            expected.extend_from_slice(field);
        }
        assert_eq!(&table[..], &expected[..]);
        let mut other = suite(&[("/r/test_a.py", "x")]);
        assert_eq!(stage(&cache, &mut other, "another key"), 0);
        assert_eq!(other.files.len(), 1);
        let _ = std::fs::remove_dir_all(&cache);
    }
}
