//! Everything needed to run an unpacked sdist's tests as the project's
//! own CI would, found by parsing its files (no package code runs on the
//! host: no build backend, no `setup.py`, no pip):
//!
//! - **pytest configuration** ([`config`]): the first of `pytest.ini`,
//!   `.pytest.ini`, `pyproject.toml` (`[tool.pytest]`, then
//!   `[tool.pytest.ini_options]`), `tox.ini` `[pytest]`, `setup.cfg`
//!   `[tool:pytest]`, as pytest picks it; `addopts` filtered of what
//!   cannot work in the guest (xdist, coverage, forking).
//! - **test roots** ([`roots`]): `testpaths` if configured and existing,
//!   else every directory holding `python_files` test modules, outside
//!   `norecursedirs`, build output and virtualenvs.
//! - **test dependencies** ([`deps`]), combined in this order, first
//!   occurrence of a name wins, each tagged with its source: PEP 735
//!   dependency groups; the project's extras ([`extras`]:
//!   `[project.optional-dependencies]`, setuptools' dynamic files,
//!   `setup.cfg`; else `PKG-INFO` and a static `setup.py` scan) and
//!   `tests_require`; requirements files (`requirements/test.txt`-style,
//!   else `requirements-test*.txt` variants, else `requirements-dev.txt`);
//!   tox `deps`/`extras`/`dependency_groups` ([`tox`]); `noxfile.py` is
//!   only noted; the plugins the pytest configuration needs ([`plugins`]).
//!   Groups and extras are picked by name: `test`/`tests`/`testing`,
//!   else `test-*`-style, else `dev`. Requirements are PEP 508
//!   ([`requirement`]) with markers evaluated for the guest
//!   ([`MarkerEnv`]); the project itself, false markers, URLs and tools
//!   useless in the guest are dropped, and every drop or oddity is a
//!   [`Note`], as are modules the tests import that no dependency found
//!   provides ([`imports`]).
//!
//! Every file is parsed, never executed: INI by [`ini`], TOML by the
//! `toml` crate, requirements files by [`reqfile`], `setup.py` by a
//! literal-only scanner ([`setup_py`]).
//!
//! Entry point: [`discover`].

pub mod config;
pub mod deps;
pub mod extras;
pub mod files;
pub mod imports;
pub mod ini;
pub mod pattern;
pub mod plugins;
pub mod reqfile;
pub mod requirement;
pub mod roots;
pub mod setup_py;
pub mod tox;
pub mod version;

use std::path::{Path, PathBuf};

pub use config::{ConfigSource, ConfigValue, FilteredAddopts, PytestConfig};
pub use deps::{Note, NoteKind, TestDep, TestDeps, discover_test_deps};
pub use files::SdistFiles;
pub use requirement::{Marker, MarkerEnv, Requirement, normalize_name};
pub use roots::{RootsFrom, TestRoot, TestRoots, find_test_roots};
pub use version::{Specifier, Version};

/// What [`discover`] finds for one sdist.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// The sdist root.
    pub root: PathBuf,
    /// The pytest configuration.
    pub config: PytestConfig,
    /// Its `addopts`, filtered for the guest.
    pub addopts: FilteredAddopts,
    /// The test roots and files.
    pub roots: TestRoots,
    /// The test dependencies and the notes on what was skipped.
    pub deps: TestDeps,
}

/// Discover configuration, test roots and test dependencies of the
/// unpacked sdist at `root`, for the guest described by `env`.
pub fn discover(root: &Path, env: &MarkerEnv) -> Discovery {
    let files = SdistFiles::read(root);
    let config = PytestConfig::discover(root);
    let addopts = config.filtered_addopts();
    let roots = find_test_roots(root, &config);
    let test_files: Vec<PathBuf> = roots.files().cloned().collect();
    let deps = discover_test_deps(&files, env, &config, &test_files);
    Discovery {
        root: root.to_path_buf(),
        config,
        addopts,
        roots,
        deps,
    }
}

impl Discovery {
    /// A human-readable summary (config, addopts, roots, deps, notes).
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "config:  {}", self.config.describe());
        if !self.config.keys().is_empty() {
            let _ = writeln!(s, "keys:    {}", self.config.keys().join(", "));
        }
        let unknown = self.config.unknown_keys();
        if !unknown.is_empty() {
            let _ = writeln!(s, "  note: keys of unknown plugins: {}", unknown.join(", "));
        }
        let _ = writeln!(s, "addopts: {}", self.addopts.kept.join(" "));
        if !self.addopts.dropped.is_empty() {
            let _ = writeln!(s, "dropped: {}", self.addopts.dropped.join(" | "));
        }
        for n in self.config.notes.iter().chain(&self.addopts.notes) {
            let _ = writeln!(s, "  note: {n}");
        }
        let _ = writeln!(
            s,
            "roots ({:?}): {}",
            self.roots.from,
            self.roots
                .roots
                .iter()
                .map(|r| format!("{} ({})", pattern::rel_string(&r.path), r.files.len()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for n in &self.roots.notes {
            let _ = writeln!(s, "  note: {n}");
        }
        let _ = writeln!(s, "deps:");
        for d in &self.deps.deps {
            let _ = writeln!(s, "  {}    <- {}", d.req.to_pip_string(), d.source);
        }
        for c in &self.deps.constraints {
            let _ = writeln!(s, "  constraint {}    <- {}", c.req, c.source);
        }
        let _ = writeln!(s, "notes:");
        for n in &self.deps.notes {
            let _ = writeln!(s, "  [{:?}] {}: {}", n.kind, n.source, n.message);
        }
        s
    }
}
