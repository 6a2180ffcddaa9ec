//! pytest's configuration, found as pytest finds it for a rootdir: in
//! the start directory, then each parent up to the sdist root, the first
//! of `pytest.ini` (matches even without a `[pytest]` section),
//! `.pytest.ini`, `pyproject.toml` (`[tool.pytest]` native table, pytest
//! 9, else `[tool.pytest.ini_options]`), `tox.ini` (`[pytest]`),
//! `setup.cfg` (`[tool:pytest]`). Values keep their INI/TOML shape and
//! are read with pytest's types: `args` (shell-split), `linelist`,
//! strings. [`PytestConfig::filtered_addopts`] removes the options that
//! cannot work in the guest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::ini::{Ini, value_lines};
use super::plugins;

/// Which file and section the configuration came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    /// `pytest.ini` `[pytest]` (or the file with no such section).
    PytestIni,
    /// `.pytest.ini` `[pytest]`.
    DotPytestIni,
    /// `pyproject.toml` `[tool.pytest]` (pytest 9's native table).
    PyprojectNative,
    /// `pyproject.toml` `[tool.pytest.ini_options]`.
    PyprojectIniOptions,
    /// `tox.ini` `[pytest]`.
    ToxIni,
    /// `setup.cfg` `[tool:pytest]`.
    SetupCfg,
}

impl ConfigSource {
    /// The file's name.
    pub fn file_name(self) -> &'static str {
        match self {
            ConfigSource::PytestIni => "pytest.ini",
            ConfigSource::DotPytestIni => ".pytest.ini",
            ConfigSource::PyprojectNative | ConfigSource::PyprojectIniOptions => "pyproject.toml",
            ConfigSource::ToxIni => "tox.ini",
            ConfigSource::SetupCfg => "setup.cfg",
        }
    }

    /// The section, as written in the file.
    pub fn section(self) -> &'static str {
        match self {
            ConfigSource::PytestIni | ConfigSource::DotPytestIni | ConfigSource::ToxIni => {
                "[pytest]"
            }
            ConfigSource::PyprojectNative => "[tool.pytest]",
            ConfigSource::PyprojectIniOptions => "[tool.pytest.ini_options]",
            ConfigSource::SetupCfg => "[tool:pytest]",
        }
    }
}

/// A configuration value as written: an INI or TOML string (scalars are
/// rendered as strings), or a TOML array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigValue {
    /// A string (INI values, TOML strings, numbers and booleans).
    Str(String),
    /// A TOML array, each element as a string.
    List(Vec<String>),
}

/// The pytest configuration of a rootdir.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PytestConfig {
    /// Where it came from; `None` when no configuration file matched.
    pub source: Option<ConfigSource>,
    /// The file, relative to the sdist root.
    pub file: Option<PathBuf>,
    /// pytest's rootdir (the file's directory), relative to the sdist root.
    pub dir: PathBuf,
    /// Every key with its value.
    pub values: BTreeMap<String, ConfigValue>,
    /// The keys in file order.
    pub keys: Vec<String>,
    /// Anything odd met while reading (for the run's header).
    pub notes: Vec<String>,
}

/// The result of [`PytestConfig::filtered_addopts`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilteredAddopts {
    /// Arguments to pass on.
    pub kept: Vec<String>,
    /// Options removed (an option with its value is one item, e.g. `-n auto`).
    pub dropped: Vec<String>,
    /// Remarks on kept options (e.g. `--timeout`), and parse problems.
    pub notes: Vec<String>,
}

/// Split like Python's `shlex.split` (POSIX mode, no comments): spaces
/// separate, quotes group, backslash escapes outside single quotes.
pub fn shell_split(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(format!("no closing quotation in {s:?}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('\\' | '"' | '$' | '`')) => cur.push(e),
                            Some('\n') => {}
                            Some(e) => {
                                cur.push('\\');
                                cur.push(e);
                            }
                            None => return Err(format!("no closing quotation in {s:?}")),
                        },
                        Some(c) => cur.push(c),
                        None => return Err(format!("no closing quotation in {s:?}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') => {}
                    Some(e) => cur.push(e),
                    None => return Err(format!("no escaped character in {s:?}")),
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// A TOML value as a configuration value.
fn from_toml(v: &toml::Value) -> ConfigValue {
    match v {
        toml::Value::String(s) => ConfigValue::Str(s.clone()),
        toml::Value::Array(a) => ConfigValue::List(
            a.iter()
                .map(|x| match x {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
        ),
        other => ConfigValue::Str(other.to_string()),
    }
}

fn read(path: &Path) -> Option<String> {
    std::fs::read(path)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

impl PytestConfig {
    /// The configuration for the sdist root itself.
    pub fn discover(root: &Path) -> PytestConfig {
        PytestConfig::discover_from(root, Path::new(""))
    }

    /// The configuration pytest finds when started on `start` (relative
    /// to `root`): `start`, then its parents up to `root`.
    pub fn discover_from(root: &Path, start: &Path) -> PytestConfig {
        let mut dir = start.to_path_buf();
        let mut carried = Vec::new();
        loop {
            if let Some(mut c) = PytestConfig::in_dir(root, &dir, &mut carried) {
                carried.append(&mut c.notes);
                c.notes = carried;
                return c;
            }
            if !dir.pop() {
                break;
            }
        }
        PytestConfig {
            notes: carried,
            ..PytestConfig::default()
        }
    }

    /// The first matching configuration file in `root/dir`.
    /// Problems met in directories without a match go to `carried`.
    fn in_dir(root: &Path, dir: &Path, carried: &mut Vec<String>) -> Option<PytestConfig> {
        let base = root.join(dir);
        let mut notes = Vec::new();
        let found =
            |source: ConfigSource, entries: Vec<(String, ConfigValue)>, notes: Vec<String>| {
                let mut c = PytestConfig {
                    source: Some(source),
                    file: Some(dir.join(source.file_name())),
                    dir: dir.to_path_buf(),
                    notes,
                    ..PytestConfig::default()
                };
                for (k, v) in entries {
                    if !c.keys.contains(&k) {
                        c.keys.push(k.clone());
                    }
                    c.values.insert(k, v);
                }
                c
            };
        let ini_entries = |ini: &Ini, section: &str| -> Vec<(String, ConfigValue)> {
            ini.section(section)
                .map(|s| {
                    s.entries
                        .iter()
                        .map(|(k, v)| (k.clone(), ConfigValue::Str(v.clone())))
                        .collect()
                })
                .unwrap_or_default()
        };
        for (name, source) in [
            ("pytest.ini", ConfigSource::PytestIni),
            (".pytest.ini", ConfigSource::DotPytestIni),
        ] {
            if let Some(text) = read(&base.join(name)) {
                let ini = Ini::parse(&text);
                if ini.section("pytest").is_none() {
                    notes.push(format!(
                        "{name} has no [pytest] section: empty configuration"
                    ));
                }
                return Some(found(source, ini_entries(&ini, "pytest"), notes));
            }
        }
        if let Some(text) = read(&base.join("pyproject.toml")) {
            match text.parse::<toml::Table>() {
                Ok(t) => {
                    let pytest = t
                        .get("tool")
                        .and_then(|t| t.get("pytest"))
                        .and_then(|t| t.as_table());
                    if let Some(pytest) = pytest {
                        let ini_options = pytest.get("ini_options").and_then(|t| t.as_table());
                        let native: Vec<(String, ConfigValue)> = pytest
                            .iter()
                            .filter(|(k, _)| k.as_str() != "ini_options")
                            .map(|(k, v)| (k.clone(), from_toml(v)))
                            .collect();
                        if !native.is_empty() {
                            if ini_options.is_some() {
                                notes.push(
                                    "pyproject.toml has both [tool.pytest] and \
                                     [tool.pytest.ini_options]: the native table is used"
                                        .into(),
                                );
                            }
                            return Some(found(ConfigSource::PyprojectNative, native, notes));
                        }
                        if let Some(opts) = ini_options {
                            let entries = opts
                                .iter()
                                .map(|(k, v)| (k.clone(), from_toml(v)))
                                .collect();
                            return Some(found(ConfigSource::PyprojectIniOptions, entries, notes));
                        }
                    }
                }
                Err(e) => notes.push(format!("pyproject.toml is not valid TOML: {}", e.message())),
            }
        }
        if let Some(text) = read(&base.join("tox.ini")) {
            let ini = Ini::parse(&text);
            if ini.section("pytest").is_some() {
                return Some(found(
                    ConfigSource::ToxIni,
                    ini_entries(&ini, "pytest"),
                    notes,
                ));
            }
        }
        if let Some(text) = read(&base.join("setup.cfg")) {
            let ini = Ini::parse(&text);
            if ini.section("tool:pytest").is_some() {
                return Some(found(
                    ConfigSource::SetupCfg,
                    ini_entries(&ini, "tool:pytest"),
                    notes,
                ));
            }
            if ini.section("pytest").is_some() {
                notes.push(
                    "setup.cfg has a [pytest] section, which pytest refuses \
                     (it wants [tool:pytest]); ignored"
                        .into(),
                );
            }
        }
        carried.append(&mut notes);
        None
    }

    /// A short description: `setup.cfg [tool:pytest]`, or `none`.
    pub fn describe(&self) -> String {
        match (self.source, &self.file) {
            (Some(s), Some(f)) => format!("{} {}", super::pattern::rel_string(f), s.section()),
            _ => "none".into(),
        }
    }

    /// The raw value of `key`.
    pub fn get(&self, key: &str) -> Option<&ConfigValue> {
        self.values.get(key)
    }

    /// A string-typed value (a TOML array is joined with spaces).
    pub fn get_str(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            ConfigValue::Str(s) => Some(s.trim().to_string()),
            ConfigValue::List(l) => Some(l.join(" ")),
        }
    }

    /// An `args`-typed value: a string is shell-split, an array taken
    /// as is. A string that does not split (unbalanced quotes) is split
    /// on whitespace.
    pub fn get_args(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            None => Vec::new(),
            Some(ConfigValue::List(l)) => l.clone(),
            Some(ConfigValue::Str(s)) => {
                shell_split(s).unwrap_or_else(|_| s.split_whitespace().map(String::from).collect())
            }
        }
    }

    /// A `linelist`-typed value: a string's non-empty lines, or an array.
    pub fn get_lines(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            None => Vec::new(),
            Some(ConfigValue::List(l)) => l.clone(),
            Some(ConfigValue::Str(s)) => value_lines(s).map(String::from).collect(),
        }
    }

    /// `addopts`, split.
    pub fn addopts(&self) -> Vec<String> {
        self.get_args("addopts")
    }

    /// `testpaths` (patterns, relative to [`PytestConfig::dir`]).
    pub fn testpaths(&self) -> Vec<String> {
        self.get_args("testpaths")
    }

    /// `python_files`, or pytest's default `test_*.py *_test.py`.
    pub fn python_files(&self) -> Vec<String> {
        let v = self.get_args("python_files");
        if v.is_empty() {
            vec!["test_*.py".into(), "*_test.py".into()]
        } else {
            v
        }
    }

    /// `norecursedirs` when configured (it replaces pytest's defaults).
    pub fn norecursedirs(&self) -> Option<Vec<String>> {
        self.get("norecursedirs")
            .map(|_| self.get_args("norecursedirs"))
    }

    /// `required_plugins`: distribution names with optional version specs.
    pub fn required_plugins(&self) -> Vec<String> {
        self.get_args("required_plugins")
    }

    /// `minversion`.
    pub fn minversion(&self) -> Option<String> {
        self.get_str("minversion")
    }

    /// `filterwarnings` lines.
    pub fn filterwarnings(&self) -> Vec<String> {
        self.get_lines("filterwarnings")
    }

    /// `markers` lines.
    pub fn markers(&self) -> Vec<String> {
        self.get_lines("markers")
    }

    /// Every key found, in file order.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The keys that are neither pytest's own nor known to belong to a
    /// plugin (with `--strict-config`, pytest rejects a key no installed
    /// plugin declares).
    pub fn unknown_keys(&self) -> Vec<&str> {
        self.keys
            .iter()
            .map(String::as_str)
            .filter(|k| !plugins::is_core_key(k) && plugins::key_plugin(k).is_none())
            .collect()
    }

    /// `addopts` without what cannot work in the guest: pytest-xdist's
    /// options (`-n`, `--numprocesses`, `--dist`, `--maxprocesses`, `--tx`,
    /// `-p xdist`, ...), pytest-cov's (`--cov*`, `--no-cov*`, `-p
    /// pytest_cov`), `--forked`/`--boxed`, pytest-timeout's `--timeout`
    /// (it needs `setitimer` or threads; the runner's own timeout stops a
    /// test instead). `--benchmark-*` is kept.
    pub fn filtered_addopts(&self) -> FilteredAddopts {
        let mut out = FilteredAddopts::default();
        let args = match self.get("addopts") {
            Some(ConfigValue::Str(s)) => match shell_split(s) {
                Ok(a) => a,
                Err(e) => {
                    out.notes.push(format!("addopts: {e}; split on whitespace"));
                    s.split_whitespace().map(String::from).collect()
                }
            },
            _ => self.addopts(),
        };
        filter_args(&args, &mut out);
        out
    }
}

/// xdist/forked options that take a value (`--dist load` or `--dist=load`).
const DROP_WITH_VALUE: &[&str] = &[
    "--numprocesses",
    "--maxprocesses",
    "--dist",
    "--tx",
    "--rsyncdir",
    "--rsyncignore",
    "--max-worker-restart",
    "--maxschedchunk",
    "--cov-report",
    "--cov-config",
    "--cov-fail-under",
    "--cov-context",
    "--cov-precision",
];

/// Flags to drop.
const DROP_FLAGS: &[&str] = &[
    "--looponfail",
    "-f",
    "-d",
    "--boxed",
    "--forked",
    "--loadscope-reorder",
    "--no-loadscope-reorder",
    "--cov-append",
    "--cov-branch",
    "--cov-reset",
    "--no-cov",
    "--no-cov-on-fail",
];

/// Whether `-p NAME` loads a plugin that cannot work in the guest.
fn unusable_plugin(name: &str) -> bool {
    plugins::plugin_distribution(name).is_some_and(|d| plugins::guest_unusable(d).is_some())
}

fn filter_args(args: &[String], out: &mut FilteredAddopts) {
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let next = args.get(i + 1).map(String::as_str);
        let opt_name = a.split('=').next().unwrap_or(a);
        // -n N / -nN
        if a == "-n" {
            out.dropped.push(join(a, next));
            i += 2;
            continue;
        }
        if a.starts_with("-n") && !a.starts_with("--") {
            out.dropped.push(a.to_string());
            i += 1;
            continue;
        }
        if DROP_WITH_VALUE.contains(&opt_name) {
            if a.contains('=') {
                out.dropped.push(a.to_string());
                i += 1;
            } else {
                out.dropped.push(join(a, next));
                i += 2;
            }
            continue;
        }
        if DROP_FLAGS.contains(&a) {
            out.dropped.push(a.to_string());
            i += 1;
            continue;
        }
        // --cov / --cov=SRC / --cov SRC (optional value, as argparse).
        if opt_name == "--cov" {
            if !a.contains('=') && next.is_some_and(|n| !n.starts_with('-')) {
                out.dropped.push(join(a, next));
                i += 2;
            } else {
                out.dropped.push(a.to_string());
                i += 1;
            }
            continue;
        }
        if a.starts_with("--cov-") || a.starts_with("--no-cov") {
            out.dropped.push(a.to_string());
            i += 1;
            continue;
        }
        // -p NAME / -pNAME
        if a == "-p" || (a.starts_with("-p") && !a.starts_with("--")) {
            let (name, width) = if a == "-p" {
                (next.unwrap_or(""), 2)
            } else {
                (&a[2..], 1)
            };
            if unusable_plugin(name) {
                out.dropped.push(if width == 2 {
                    join(a, next)
                } else {
                    a.to_string()
                });
            } else {
                out.kept.push(a.to_string());
                if width == 2
                    && let Some(n) = next
                {
                    out.kept.push(n.to_string());
                }
            }
            i += width;
            continue;
        }
        if opt_name == "--timeout" || opt_name == "--timeout-method" {
            // pytest-timeout cannot work in the guest (no setitimer, no
            // threads); the runner's own --timeout stops a test instead.
            let (text, width) = if a.contains('=') {
                (a.to_string(), 1)
            } else {
                (join(a, next), 2)
            };
            out.dropped.push(text);
            i += width;
            continue;
        }
        out.kept.push(a.to_string());
        i += 1;
    }
}

fn join(a: &str, next: Option<&str>) -> String {
    match next {
        Some(n) => format!("{a} {n}"),
        None => a.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn splits_like_shlex() {
        assert_eq!(shell_split("-ra  -q").unwrap(), ["-ra", "-q"]);
        assert_eq!(
            shell_split(r#"-k "not slow and not net" -W 'ignore::Dep Warning' a\ b"#).unwrap(),
            [
                "-k",
                "not slow and not net",
                "-W",
                "ignore::Dep Warning",
                "a b"
            ]
        );
        assert_eq!(shell_split(r#""a\"b" x"y"z"#).unwrap(), [r#"a"b"#, "xyz"]);
        assert_eq!(shell_split("--a\n  --b").unwrap(), ["--a", "--b"]);
        assert!(shell_split("'open").is_err());
        assert_eq!(shell_split("'' x").unwrap(), ["", "x"]);
    }

    #[test]
    fn precedence_follows_pytest() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        assert_eq!(PytestConfig::discover(r).source, None);
        write(r, "setup.cfg", "[tool:pytest]\ntestpaths = t1\n");
        assert_eq!(
            PytestConfig::discover(r).source,
            Some(ConfigSource::SetupCfg)
        );
        write(r, "tox.ini", "[tox]\n[pytest]\ntestpaths = t2\n");
        assert_eq!(PytestConfig::discover(r).source, Some(ConfigSource::ToxIni));
        write(r, "pyproject.toml", "[project]\nname='x'\n");
        assert_eq!(
            PytestConfig::discover(r).source,
            Some(ConfigSource::ToxIni),
            "no pytest table"
        );
        write(
            r,
            "pyproject.toml",
            "[tool.pytest.ini_options]\ntestpaths = ['t3']\n",
        );
        let c = PytestConfig::discover(r);
        assert_eq!(c.source, Some(ConfigSource::PyprojectIniOptions));
        assert_eq!(c.testpaths(), ["t3"]);
        write(
            r,
            "pyproject.toml",
            "[tool.pytest]\ntestpaths = ['t4']\nxfail_strict = true\n[tool.pytest.ini_options]\ntestpaths = ['t3']\n",
        );
        let c = PytestConfig::discover(r);
        assert_eq!(c.source, Some(ConfigSource::PyprojectNative));
        assert_eq!(c.get_str("xfail_strict").as_deref(), Some("true"));
        assert_eq!(c.notes.len(), 1);
        write(r, ".pytest.ini", "[pytest]\ntestpaths = t5\n");
        assert_eq!(
            PytestConfig::discover(r).source,
            Some(ConfigSource::DotPytestIni)
        );
        write(r, "pytest.ini", "# empty\n");
        let c = PytestConfig::discover(r);
        assert_eq!(c.source, Some(ConfigSource::PytestIni));
        assert!(c.testpaths().is_empty());
        assert_eq!(c.describe(), "pytest.ini [pytest]");
        write(r, "tests/pytest.ini", "[pytest]\naddopts = -x\n");
        let c = PytestConfig::discover_from(r, Path::new("tests"));
        assert_eq!(c.file.as_deref(), Some(Path::new("tests/pytest.ini")));
        assert_eq!(c.dir, Path::new("tests"));
        assert_eq!(c.addopts(), ["-x"]);
    }

    #[test]
    fn reads_typed_values() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "setup.cfg",
            "[tool:pytest]\naddopts = -ra --strict-markers\n    -p no:cacheprovider\n\
             testpaths = tests\n    src/pkg/tests\npython_files = check_*.py\n\
             filterwarnings =\n    error\n    ignore::DeprecationWarning\n\
             markers =\n    slow: slow tests\nminversion = 7.0\n\
             required_plugins = pytest-benchmark>=4 pytest-mock\nnorecursedirs = fixtures\n",
        );
        let c = PytestConfig::discover(d.path());
        assert_eq!(
            c.addopts(),
            ["-ra", "--strict-markers", "-p", "no:cacheprovider"]
        );
        assert_eq!(c.testpaths(), ["tests", "src/pkg/tests"]);
        assert_eq!(c.python_files(), ["check_*.py"]);
        assert_eq!(c.filterwarnings(), ["error", "ignore::DeprecationWarning"]);
        assert_eq!(c.markers(), ["slow: slow tests"]);
        assert_eq!(c.minversion().as_deref(), Some("7.0"));
        assert_eq!(c.required_plugins(), ["pytest-benchmark>=4", "pytest-mock"]);
        assert_eq!(c.norecursedirs(), Some(vec!["fixtures".to_string()]));
        assert_eq!(c.keys()[0], "addopts");
        assert_eq!(c.keys().len(), 8);
        assert!(c.unknown_keys().is_empty());
        let mut c = c;
        c.keys.push("asyncio_mode".into());
        c.keys.push("my_plugin_key".into());
        assert_eq!(c.unknown_keys(), ["my_plugin_key"]);
        let empty = PytestConfig::default();
        assert_eq!(empty.python_files(), ["test_*.py", "*_test.py"]);
        assert_eq!(empty.norecursedirs(), None);
    }

    fn filtered(addopts: &str) -> FilteredAddopts {
        let mut c = PytestConfig::default();
        c.values
            .insert("addopts".into(), ConfigValue::Str(addopts.into()));
        c.filtered_addopts()
    }

    #[test]
    fn filters_guest_incompatible_options() {
        let f = filtered(
            "-ra -n auto --dist=loadfile --cov=pkg --cov-report term-missing --cov src \
             --no-cov-on-fail -p xdist -p no:cacheprovider -pxdist.plugin --forked \
             --benchmark-disable --timeout 60 -nauto --maxprocesses 4 --strict-markers -p pytest_cov",
        );
        assert_eq!(
            f.kept,
            [
                "-ra",
                "-p",
                "no:cacheprovider",
                "--benchmark-disable",
                "--strict-markers"
            ]
        );
        assert_eq!(
            f.dropped,
            [
                "-n auto",
                "--dist=loadfile",
                "--cov=pkg",
                "--cov-report term-missing",
                "--cov src",
                "--no-cov-on-fail",
                "-p xdist",
                "-pxdist.plugin",
                "--forked",
                "--timeout 60",
                "-nauto",
                "--maxprocesses 4",
                "-p pytest_cov"
            ]
        );
        assert!(f.notes.is_empty(), "{:?}", f.notes);
        let f = filtered("--cov --tb=short");
        assert_eq!(f.kept, ["--tb=short"]);
        assert_eq!(f.dropped, ["--cov"]);
        let f = filtered("-q 'unbalanced");
        assert_eq!(f.kept, ["-q", "'unbalanced"]);
        assert_eq!(f.notes.len(), 1);
        let mut c = PytestConfig::default();
        c.values.insert(
            "addopts".into(),
            ConfigValue::List(vec!["-n".into(), "4".into(), "-v".into()]),
        );
        assert_eq!(c.filtered_addopts().kept, ["-v"]);
    }
}
