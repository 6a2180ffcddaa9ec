//! Test dependency discovery. Sources, in this order, all combined
//! (first occurrence of a name wins, order kept, each tagged with its
//! source). Test groups and extras are chosen by name in tiers (see
//! [`super::extras::wanted_names`]): `test`, `tests`, `testing`; if
//! none, `test-*`/`tests-*`/`testing-*` (e.g. `test-unit`,
//! `testing-extra`) except typing/lint/docs/profiling/benchmark/coverage
//! ones; if none, `dev`.
//!
//! 1. PEP 735 `[dependency-groups]` test groups, `{include-group = ...}`
//!    expanded, cycles detected.
//! 2. The project's test extras ([`super::extras`]): from
//!    `[project.optional-dependencies]`, setuptools' dynamic extras files,
//!    `setup.cfg [options.extras_require]`; only when none of these
//!    exists, `PKG-INFO`'s `Requires-Dist ...; extra == "x"`, else a static
//!    scan of `setup.py`. Then `tests_require` (`setup.cfg`, `setup.py`).
//! 3. Requirements files (includes followed, each file read once): all
//!    of [`TEST_REQ_FILES`] that exist (`requirements-test.txt`,
//!    `requirements/test.txt`, `tests/requirements.txt`, ...); if none,
//!    the variants [`TEST_REQ_VARIANTS`] (`requirements-test*.txt`,
//!    `requirements/test*.txt`, `requirements/pytest*.txt`, ...); if none,
//!    `requirements-dev.txt`, `dev-requirements.txt`, `requirements/dev.txt`.
//! 4. tox (`tox.ini`, else `tox.toml`, else `[tool.tox]`): see [`super::tox`].
//! 5. `noxfile.py`: never run; noted.
//! 6. Plugins the pytest configuration needs: `-p NAME` in `addopts`,
//!    `required_plugins`, plugin-only keys and options (see [`super::plugins`]).
//!
//! Local paths are relative to the sdist root (pip's working directory).
//! Self-references (`pkg[extra]`, `-e .[test]`) expand to that extra;
//! the bare project (`pkg`, `.`, `-e .`) is dropped (it is installed from
//! its wheel). Requirements whose marker is false for the guest, direct
//! URLs and local paths are dropped; tools that are not test
//! dependencies in the guest ([`super::plugins::GUEST_UNUSABLE`]) are
//! dropped unless a test file imports them. Every drop is a [`Note`].

use std::path::{Path, PathBuf};

use super::config::PytestConfig;
use super::extras::{self, ExtrasSource, wanted_names};
use super::files::SdistFiles;
use super::imports;
use super::pattern::{glob, rel_string};
use super::plugins;
use super::reqfile::{self, ReqLine, SourcedLine, clean_path};
use super::requirement::{Marker, MarkerEnv, Requirement, normalize_name};
use super::tox::{self, ToxItem};
use super::version::Op;

/// One test dependency and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestDep {
    /// The requirement (its marker, if any, holds for the guest).
    pub req: Requirement,
    /// Where it was found, e.g. `pyproject.toml [dependency-groups] test`.
    pub source: String,
}

/// What a note is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// A requirement whose marker is false for the guest: dropped.
    MarkerFalse,
    /// A tool that cannot work / is not needed in the guest: dropped.
    GuestUnusable,
    /// The project itself: dropped (installed from its wheel).
    SelfDependency,
    /// A direct URL or local path: dropped.
    NotInstallable,
    /// An option or file deliberately not used (`--index-url`, `noxfile.py`).
    Ignored,
    /// Something not understood (parse errors, unknown plugins, dynamic values).
    NotUnderstood,
    /// For information only (e.g. a name required twice differently).
    Info,
    /// The tests import a module no dependency found provides (a hint:
    /// it may come from a transitive dependency, or be optional).
    UnprovidedImport,
}

/// A remark on something skipped or not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// What kind of remark.
    pub kind: NoteKind,
    /// Where (a source label, as in [`TestDep::source`]).
    pub source: String,
    /// What happened.
    pub message: String,
}

/// The discovered test dependencies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestDeps {
    /// The project's normalised name (dropped from its own deps).
    pub project: Option<String>,
    /// The dependencies, deduplicated, in discovery order.
    pub deps: Vec<TestDep>,
    /// Constraints from `-c` files (not requirements: pins only).
    pub constraints: Vec<TestDep>,
    /// Everything skipped or not understood.
    pub notes: Vec<Note>,
}

/// Requirements files with the plain test names: all that exist are read.
pub const TEST_REQ_FILES: [&str; 13] = [
    "requirements-test.txt",
    "requirements-tests.txt",
    "requirements-testing.txt",
    "requirements_test.txt",
    "requirements_tests.txt",
    "test-requirements.txt",
    "test_requirements.txt",
    "requirements/test.txt",
    "requirements/tests.txt",
    "requirements/testing.txt",
    "requirements/pytest.txt",
    "tests/requirements.txt",
    "test/requirements.txt",
];
/// Variants (`requirements/test-ft.txt`, `requirements-test-extra.txt`):
/// read only when no plain one exists (CI picks one; the plain one
/// usually includes what it needs), else noted.
pub const TEST_REQ_VARIANTS: [&str; 5] = [
    "requirements-test*.txt",
    "requirements_test*.txt",
    "requirements/test*.txt",
    "requirements/tests*.txt",
    "requirements/pytest*.txt",
];
/// Read only when no test requirements file exists.
pub const DEV_REQ_FILES: [&str; 3] = [
    "requirements-dev.txt",
    "dev-requirements.txt",
    "requirements/dev.txt",
];

struct Collector<'a> {
    files: &'a SdistFiles,
    env: &'a MarkerEnv,
    out: TestDeps,
    /// Every extras source, in precedence order (for self-references).
    extras_sources: Vec<ExtrasSource>,
    /// Extras being expanded (cycle detection).
    expanding: Vec<String>,
    /// Requirements files already read (an include of one is not re-read).
    read_files: Vec<PathBuf>,
    /// Dependency groups already expanded.
    done_groups: Vec<String>,
    /// (extras source label, extra) already expanded.
    done_extras: Vec<(String, String)>,
    /// Names dropped for a false marker (the tests' imports of them are
    /// guarded, not missing).
    marker_false: Vec<String>,
}

/// Discover the test dependencies of the sdist whose files are `files`,
/// for the guest `env`, given its pytest `config` and its test files
/// (relative to the sdist root; read to see what tests import).
pub fn discover_test_deps(
    files: &SdistFiles,
    env: &MarkerEnv,
    config: &PytestConfig,
    test_files: &[PathBuf],
) -> TestDeps {
    let mut c = Collector {
        files,
        env,
        out: TestDeps {
            project: files.project_name(),
            ..TestDeps::default()
        },
        extras_sources: Vec::new(),
        expanding: Vec::new(),
        read_files: Vec::new(),
        done_groups: Vec::new(),
        done_extras: Vec::new(),
        marker_false: Vec::new(),
    };
    for (file, problem) in &files.problems {
        c.note(NoteKind::NotUnderstood, file, problem.clone());
    }
    c.dependency_groups();
    c.extras();
    c.requirements_files();
    c.tox();
    if files.root.join("noxfile.py").is_file() {
        c.note(
            NoteKind::Ignored,
            "noxfile.py",
            "present but never run: the dependencies its sessions install are not known",
        );
    }
    c.plugins(config);
    c.drop_guest_unusable(test_files);
    c.unprovided_imports(test_files);
    c.out
}

impl Collector<'_> {
    fn note(&mut self, kind: NoteKind, source: &str, message: impl Into<String>) {
        self.out.notes.push(Note {
            kind,
            source: source.to_string(),
            message: message.into(),
        });
    }

    fn is_project(&self, name: &str) -> bool {
        self.out.project.as_deref() == Some(normalize_name(name).as_str())
    }

    // ---- 1. dependency groups -------------------------------------------

    fn dependency_groups(&mut self) {
        let Some(groups) = self.files.pyproject_table("dependency-groups") else {
            return;
        };
        let names: Vec<&str> = groups.keys().map(String::as_str).collect();
        for g in wanted_names(names.iter().copied()) {
            let mut stack = Vec::new();
            self.group(&g, &mut stack, "pyproject.toml [dependency-groups]");
        }
    }

    /// Expand group `name` (normalised) of `[dependency-groups]`.
    fn group(&mut self, name: &str, stack: &mut Vec<String>, via: &str) {
        let Some(groups) = self.files.pyproject_table("dependency-groups") else {
            return;
        };
        let source = format!("pyproject.toml [dependency-groups] {name}");
        if stack.iter().any(|s| s == name) {
            let cycle = format!("{} -> {name}", stack.join(" -> "));
            self.note(
                NoteKind::NotUnderstood,
                &source,
                format!("include-group cycle: {cycle}"),
            );
            return;
        }
        let Some(items) = groups
            .iter()
            .find(|(k, _)| normalize_name(k) == name)
            .map(|(_, v)| v.clone())
        else {
            self.note(
                NoteKind::NotUnderstood,
                via,
                format!("dependency group `{name}` not found"),
            );
            return;
        };
        let Some(items) = items.as_array() else {
            self.note(NoteKind::NotUnderstood, &source, "not a list");
            return;
        };
        if self.done_groups.iter().any(|g| g == name) {
            return; // already expanded: its requirements are in
        }
        self.done_groups.push(name.to_string());
        stack.push(name.to_string());
        for item in items {
            if let Some(text) = item.as_str() {
                self.requirement_text(text, &source, self.env.clone());
            } else if let Some(inc) = item
                .as_table()
                .and_then(|t| t.get("include-group"))
                .and_then(|v| v.as_str())
            {
                self.group(&normalize_name(inc), stack, &source);
            } else {
                self.note(
                    NoteKind::NotUnderstood,
                    &source,
                    format!("entry `{item}` not understood"),
                );
            }
        }
        stack.pop();
    }

    // ---- 2. extras -------------------------------------------------------

    /// Add the test extras of every extras source, and `tests_require`.
    fn extras(&mut self) {
        let found = extras::read_extras(self.files);
        for (source, message) in found.problems {
            self.note(NoteKind::NotUnderstood, &source, message);
        }
        self.extras_sources = found.sources;
        let sources = self.extras_sources.clone();
        for s in &sources {
            for extra in s.wanted() {
                self.add_extra_from(s, &extra, &format!("{} {extra}", s.label));
            }
        }
        for (source, req) in found.tests_require {
            self.requirement_text(&req, &source, self.env.clone());
        }
    }

    /// Add the requirements of `extra` as declared by `s`.
    fn add_extra_from(&mut self, s: &ExtrasSource, extra: &str, source: &str) {
        let Some(reqs) = s.get(extra) else { return };
        let key = (s.label.clone(), extra.to_string());
        if self.done_extras.contains(&key) {
            return; // already expanded: its requirements are in
        }
        self.done_extras.push(key);
        let env = self.env.with_extra(extra);
        self.expanding.push(extra.to_string());
        for r in reqs.iter().cloned() {
            if let Some(m) = &r.key_marker {
                match Marker::parse(m) {
                    Ok(m) if !m.evaluate(&env) => {
                        if let Ok(r) = Requirement::parse(&r.text) {
                            self.marker_false.push(r.normalized_name());
                        }
                        self.note(
                            NoteKind::MarkerFalse,
                            source,
                            format!(
                                "`{}` dropped: marker `{m}` of its extra is false for the guest",
                                r.text
                            ),
                        );
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        self.note(
                            NoteKind::NotUnderstood,
                            source,
                            format!("extra marker: {e}"),
                        );
                        continue;
                    }
                }
            }
            self.requirement_text(&r.text, source, env.clone());
        }
        self.expanding.pop();
    }

    /// `pkg[extra]` met in `source`: add that extra's requirements.
    fn self_extra(&mut self, extra: &str, source: &str) {
        if self.expanding.iter().any(|e| e == extra) {
            // `test = ["pkg[test]"]` or a cycle through other extras: done.
            return;
        }
        let found = self
            .extras_sources
            .iter()
            .find(|s| s.get(extra).is_some())
            .cloned();
        match found {
            Some(s) => {
                let label = format!("{source} -> {} {extra}", s.label);
                self.add_extra_from(&s, extra, &label);
            }
            None => self.note(
                NoteKind::NotUnderstood,
                source,
                format!("the project's extra `{extra}` is not declared in any file read"),
            ),
        }
    }

    // ---- requirements ----------------------------------------------------

    /// A PEP 508 string (or requirements-file line) from `source`.
    fn requirement_text(&mut self, text: &str, source: &str, env: MarkerEnv) {
        let text = reqfile::strip_comment(text).trim();
        if text.is_empty() {
            return;
        }
        match reqfile::parse_line(text) {
            Ok(line) => self.line(line, Path::new(""), source, false, &env),
            Err(e) => self.note(NoteKind::NotUnderstood, source, format!("`{text}`: {e}")),
        }
    }

    /// One interpreted line; `dir` is the directory `-r`/`-c` paths are
    /// relative to.
    fn line(&mut self, line: ReqLine, dir: &Path, source: &str, constraint: bool, env: &MarkerEnv) {
        match line {
            ReqLine::Requirement(r) => self.requirement(r, source, constraint, env),
            ReqLine::Include {
                path,
                constraint: c,
            } => {
                let path = path.replace("{toxinidir}/", "");
                match clean_path(&dir.join(&path)) {
                    Some(rel) => {
                        let lines =
                            reqfile::read_file(&self.files.root, &rel, &mut self.read_files);
                        self.sourced_lines(lines, &format!("{source} -> "), constraint || c);
                    }
                    None => self.note(
                        NoteKind::NotUnderstood,
                        source,
                        format!("include `{path}` leaves the sdist"),
                    ),
                }
            }
            ReqLine::LocalPath {
                path,
                extras,
                editable,
            } => {
                let e = if editable { "-e " } else { "" };
                // pip takes local paths relative to its working directory
                // (the sdist root in CI), not to the requirements file.
                let is_root = clean_path(Path::new(path.trim_start_matches("file:")))
                    .is_some_and(|p| p.as_os_str().is_empty());
                if !is_root {
                    self.note(
                        NoteKind::NotInstallable,
                        source,
                        format!("local path `{e}{path}` dropped"),
                    );
                } else if extras.is_empty() {
                    self.note(
                        NoteKind::SelfDependency,
                        source,
                        format!(
                            "`{e}{path}` is the project itself: dropped (installed from its wheel)"
                        ),
                    );
                } else {
                    for x in extras {
                        self.self_extra(&x, source);
                    }
                }
            }
            ReqLine::Url(u) => self.note(
                NoteKind::NotInstallable,
                source,
                format!("direct URL `{u}` dropped"),
            ),
            ReqLine::Option(o) => {
                self.note(NoteKind::Ignored, source, format!("option `{o}` ignored"))
            }
        }
    }

    /// Lines read from requirements files; `prefix` goes before each
    /// file name in the source label.
    fn sourced_lines(&mut self, lines: Vec<SourcedLine>, prefix: &str, constraint: bool) {
        for l in lines {
            let source = format!("{prefix}{}", l.chain);
            let dir = Path::new(&l.file)
                .parent()
                .unwrap_or(Path::new(""))
                .to_path_buf();
            match l.line {
                Ok(line) => self.line(
                    line,
                    &dir,
                    &source,
                    constraint || l.constraint,
                    &self.env.clone(),
                ),
                Err((text, e)) if text.is_empty() => {
                    self.note(NoteKind::NotUnderstood, &source, e.message)
                }
                Err((text, e)) => {
                    self.note(NoteKind::NotUnderstood, &source, format!("`{text}`: {e}"))
                }
            }
        }
    }

    fn requirement(&mut self, req: Requirement, source: &str, constraint: bool, env: &MarkerEnv) {
        if !req.applies(env) {
            self.marker_false.push(req.normalized_name());
            self.note(
                NoteKind::MarkerFalse,
                source,
                format!("`{req}` dropped: marker false for the guest"),
            );
            return;
        }
        if constraint {
            if !self.out.constraints.iter().any(|c| c.req == req) {
                self.out.constraints.push(TestDep {
                    req,
                    source: source.to_string(),
                });
            }
            return;
        }
        if self.is_project(&req.name) {
            if req.extras.is_empty() {
                self.note(
                    NoteKind::SelfDependency,
                    source,
                    format!("`{req}` is the project itself: dropped (installed from its wheel)"),
                );
            } else {
                for x in req.extras.clone() {
                    self.self_extra(&x, source);
                }
            }
            return;
        }
        if !req.is_installable() {
            self.note(
                NoteKind::NotInstallable,
                source,
                format!("`{req}` dropped: a direct URL"),
            );
            return;
        }
        let name = req.normalized_name();
        if name == "pytest"
            && req
                .specifiers
                .iter()
                .any(|s| !matches!(s.op, Op::Ge | Op::Gt | Op::Ne))
        {
            self.note(
                NoteKind::Info,
                source,
                format!(
                    "the project caps or pins `{}`; the runner provides its own pytest",
                    req.to_pip_string()
                ),
            );
        }
        if let Some(existing) = self
            .out
            .deps
            .iter_mut()
            .find(|d| d.req.normalized_name() == name)
        {
            let mut merged_extras = false;
            for x in &req.extras {
                if !existing.req.extras.contains(x) {
                    existing.req.extras.push(x.clone());
                    merged_extras = true;
                }
            }
            if existing.req.specifiers != req.specifiers {
                let first = format!(
                    "`{}` from {}",
                    existing.req.to_pip_string(),
                    existing.source
                );
                self.note(
                    NoteKind::Info,
                    source,
                    format!(
                        "`{}` also required; the first, {first}, is kept",
                        req.to_pip_string()
                    ),
                );
            } else if merged_extras {
                let first = existing.source.clone();
                self.note(
                    NoteKind::Info,
                    source,
                    format!("extras of `{req}` merged into {first}"),
                );
            }
            return;
        }
        self.out.deps.push(TestDep {
            req,
            source: source.to_string(),
        });
    }

    // ---- 3. requirements files ------------------------------------------

    fn requirements_files(&mut self) {
        let root = self.files.root.clone();
        let find = |patterns: &[&str]| -> Vec<PathBuf> {
            let mut v = Vec::new();
            for p in patterns {
                for f in glob(&root, p) {
                    if root.join(&f).is_file() && !v.contains(&f) {
                        v.push(f);
                    }
                }
            }
            v
        };
        let plain = find(&TEST_REQ_FILES);
        let variants: Vec<PathBuf> = find(&TEST_REQ_VARIANTS)
            .into_iter()
            .filter(|v| !plain.contains(v))
            .collect();
        let files = if !plain.is_empty() {
            plain
        } else if !variants.is_empty() {
            variants.clone()
        } else {
            find(&DEV_REQ_FILES)
        };
        for f in &files {
            let lines = reqfile::read_file(&root, f, &mut self.read_files);
            self.sourced_lines(lines, "", false);
        }
        for v in variants {
            if !self.read_files.contains(&v) {
                let plain: Vec<String> = files.iter().map(|f| rel_string(f)).collect();
                self.note(
                    NoteKind::Ignored,
                    &rel_string(&v),
                    format!("not read: a variant, and {} exists", plain.join(", ")),
                );
            }
        }
    }

    // ---- 4. tox -----------------------------------------------------------

    fn tox(&mut self) {
        let py = self.env.python_version.clone();
        let found = if let Some(ini) = &self.files.tox_ini {
            Some(tox::from_ini(ini, "tox.ini", &py))
        } else if let Ok(text) = std::fs::read_to_string(self.files.root.join("tox.toml")) {
            match text.parse::<toml::Table>() {
                Ok(t) => Some(tox::from_toml(&t, "tox.toml", &py)),
                Err(e) => {
                    self.note(
                        NoteKind::NotUnderstood,
                        "tox.toml",
                        format!("invalid TOML: {}", e.message()),
                    );
                    None
                }
            }
        } else {
            self.files
                .pyproject_table("tool.tox")
                .map(|t| tox::from_toml(t, "pyproject.toml [tool.tox]", &py))
        };
        let Some(found) = found else { return };
        for (source, message) in found.notes {
            self.note(NoteKind::Ignored, &source, message);
        }
        for (source, item) in found.items {
            match item {
                ToxItem::Dep(line) => match reqfile::parse_line(&line) {
                    Ok(l) => self.line(l, Path::new(""), &source, false, &self.env.clone()),
                    Err(e) => self.note(NoteKind::NotUnderstood, &source, format!("`{line}`: {e}")),
                },
                ToxItem::Extra(x) => self.self_extra(&normalize_name(&x), &source),
                ToxItem::Group(g) => {
                    let mut stack = Vec::new();
                    self.group(&normalize_name(&g), &mut stack, &source);
                }
            }
        }
    }

    // ---- 6. plugins --------------------------------------------------------

    fn plugins(&mut self, config: &PytestConfig) {
        let label = format!("pytest config ({})", config.describe());
        // Plugins of options the guest drops (xdist, cov) are not needed.
        let addopts = config.filtered_addopts().kept;
        let mut i = 0;
        while i < addopts.len() {
            let a = &addopts[i];
            let name = if a == "-p" {
                i += 1;
                addopts.get(i).cloned()
            } else {
                a.strip_prefix("-p")
                    .filter(|_| !a.starts_with("--"))
                    .map(String::from)
            };
            i += 1;
            if let Some(name) = name {
                self.plugin_name(&name, config, &label);
            } else if let Some(dist) = plugins::option_plugin(a) {
                self.plugin_dep(dist, &format!("{label} addopts {a}"));
            }
        }
        for p in config.required_plugins() {
            let source = format!("{label} required_plugins");
            self.requirement_text(&p, &source, self.env.clone());
        }
        for key in config.keys() {
            if let Some(dist) = plugins::key_plugin(key) {
                self.plugin_dep(dist, &format!("{label} key {key}"));
            }
        }
    }

    fn plugin_dep(&mut self, dist: &str, source: &str) {
        if let Ok(r) = Requirement::parse(dist) {
            self.requirement(r, source, false, &self.env.clone());
        }
    }

    /// `-p NAME` in addopts.
    fn plugin_name(&mut self, name: &str, config: &PytestConfig, label: &str) {
        if name.starts_with("no:") || plugins::is_builtin_plugin(name) {
            return;
        }
        let source = format!("{label} addopts -p {name}");
        if let Some(dist) = plugins::plugin_distribution(name) {
            self.plugin_dep(dist, &source);
            return;
        }
        // A module of the sdist itself (e.g. `-p tests.plugin`)?
        let rel = name.replace('.', "/");
        let bases = [PathBuf::new(), config.dir.clone(), PathBuf::from("src")];
        let local = bases.iter().any(|b| {
            let p = self.files.root.join(b).join(&rel);
            p.with_extension("py").is_file() || p.join("__init__.py").is_file()
        });
        if !local {
            self.note(
                NoteKind::NotUnderstood,
                &source,
                format!("plugin `{name}` is not in the plugin table nor in the sdist: add its distribution by hand"),
            );
        }
    }

    // ---- imports nothing provides -----------------------------------------

    fn unprovided_imports(&mut self, test_files: &[PathBuf]) {
        let mut provided: Vec<String> = self
            .out
            .deps
            .iter()
            .map(|d| d.req.normalized_name())
            .collect();
        provided.extend(self.marker_false.iter().cloned());
        // The project's runtime dependencies come with its wheel.
        for text in self.files.pkg_info_all("Requires-Dist") {
            if let Ok(r) = Requirement::parse(text)
                && !r.marker.as_ref().is_some_and(Marker::mentions_extra)
            {
                provided.push(r.normalized_name());
            }
        }
        if let Some(deps) = self
            .files
            .pyproject_table("project")
            .and_then(|p| p.get("dependencies"))
            .and_then(|v| v.as_array())
        {
            for d in deps.iter().filter_map(|d| d.as_str()) {
                if let Ok(r) = Requirement::parse(d) {
                    provided.push(r.normalized_name());
                }
            }
        }
        let mut modules: Vec<String> = Vec::new();
        if let Some(p) = &self.out.project {
            modules.push(p.replace('-', "_"));
        }
        if let Some(m) = self
            .files
            .pyproject_table("tool.maturin")
            .and_then(|t| t.get("module-name"))
            .and_then(|v| v.as_str())
        {
            modules.push(m.split('.').next().unwrap_or(m).to_string());
        }
        // A Rust extension is named after its crate's library (maturin).
        let mut manifests = vec!["Cargo.toml".to_string()];
        if let Some(m) = self
            .files
            .pyproject_table("tool.maturin")
            .and_then(|t| t.get("manifest-path"))
            .and_then(|v| v.as_str())
        {
            manifests.push(m.to_string());
        }
        for m in manifests {
            let Ok(text) = std::fs::read_to_string(self.files.root.join(m)) else {
                continue;
            };
            let Ok(t) = text.parse::<toml::Table>() else {
                continue;
            };
            for key in ["lib", "package"] {
                if let Some(n) = t
                    .get(key)
                    .and_then(|v| v.get("name"))
                    .and_then(|v| v.as_str())
                {
                    modules.push(n.replace('-', "_"));
                }
            }
        }
        for u in imports::unprovided_imports(&self.files.root, test_files, &provided, &modules) {
            let more = match u.files {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            self.note(
                NoteKind::UnprovidedImport,
                &format!("{}{more}", u.first_file.display()),
                format!(
                    "imports `{}`, which no dependency found provides directly (perhaps `{}`)",
                    u.module, u.guess
                ),
            );
        }
    }

    // ---- guest-unusable tools ---------------------------------------------

    fn drop_guest_unusable(&mut self, test_files: &[PathBuf]) {
        let mut sources: Vec<PathBuf> = test_files.to_vec();
        // conftest.py files next to and above the test files.
        let mut dirs: Vec<PathBuf> = test_files
            .iter()
            .flat_map(|f| {
                f.ancestors()
                    .skip(1)
                    .map(Path::to_path_buf)
                    .collect::<Vec<_>>()
            })
            .collect();
        dirs.sort();
        dirs.dedup();
        for d in dirs {
            let c = d.join("conftest.py");
            if self.files.root.join(&c).is_file() {
                sources.push(c);
            }
        }
        let mut texts: Option<Vec<String>> = None;
        let deps = std::mem::take(&mut self.out.deps);
        for d in deps {
            let name = d.req.normalized_name();
            let Some((module, why)) = plugins::guest_unusable(&name) else {
                self.out.deps.push(d);
                continue;
            };
            let texts = texts.get_or_insert_with(|| {
                sources
                    .iter()
                    .filter_map(|f| std::fs::read(self.files.root.join(f)).ok())
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .collect()
            });
            if texts.iter().any(|t| imports::imports_module(t, module)) {
                self.out.notes.push(Note {
                    kind: NoteKind::Info,
                    source: d.source.clone(),
                    message: format!("`{name}` kept although {why}: the tests import `{module}`"),
                });
                self.out.deps.push(d);
            } else {
                let required = if d.source.contains("required_plugins") {
                    " (it is in required_plugins: override that, e.g. `-o required_plugins=`)"
                } else {
                    ""
                };
                self.out.notes.push(Note {
                    kind: NoteKind::GuestUnusable,
                    source: d.source.clone(),
                    message: format!("`{}` dropped: {why}{required}", d.req),
                });
            }
        }
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

    fn env() -> MarkerEnv {
        MarkerEnv::pyodide("3.14.2", "4.0.9")
    }

    fn run(dir: &Path, test_files: &[&str]) -> TestDeps {
        let files = SdistFiles::read(dir);
        let config = PytestConfig::discover(dir);
        let tf: Vec<PathBuf> = test_files.iter().map(PathBuf::from).collect();
        discover_test_deps(&files, &env(), &config, &tf)
    }

    fn deps(d: &TestDeps) -> Vec<String> {
        d.deps
            .iter()
            .map(|d| format!("{} <- {}", d.req, d.source))
            .collect()
    }

    fn notes(d: &TestDeps, kind: NoteKind) -> Vec<String> {
        d.notes
            .iter()
            .filter(|n| n.kind == kind)
            .map(|n| format!("{}: {}", n.source, n.message))
            .collect()
    }

    #[test]
    fn reads_groups_and_extras_with_self_references() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "pyproject.toml",
            r#"
[project]
name = "Demo_Pkg"
[project.optional-dependencies]
speed = ["fastthing>=1"]
tests = ["demo-pkg[speed]", "pytest>=8", "tomli; python_version < '3.11'", "demo_pkg[tests]"]
dev = ["black"]
[dependency-groups]
base = ["attrs", {include-group = "testing"}]
testing = ["hypothesis", {include-group = "base"}, {bad = 1}]
lint = ["ruff"]
"#,
        );
        let r = run(d.path(), &[]);
        assert_eq!(r.project.as_deref(), Some("demo-pkg"));
        assert_eq!(
            deps(&r),
            [
                "hypothesis <- pyproject.toml [dependency-groups] testing",
                "attrs <- pyproject.toml [dependency-groups] base",
                "fastthing>=1 <- pyproject.toml [project.optional-dependencies] tests -> pyproject.toml [project.optional-dependencies] speed",
                "pytest>=8 <- pyproject.toml [project.optional-dependencies] tests",
            ]
        );
        assert_eq!(
            notes(&r, NoteKind::NotUnderstood).len(),
            2,
            "cycle + bad entry: {:?}",
            r.notes
        );
        assert_eq!(notes(&r, NoteKind::MarkerFalse).len(), 1);
    }

    #[test]
    fn falls_back_to_dev_and_reads_setup_cfg() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "setup.cfg",
            "[metadata]\nname = demo\n[options]\ntests_require = mock\n\
             [options.extras_require]\ndev =\n    pytest\n    pytest-xdist\n    coverage\n    mypy\ndocs = sphinx\n",
        );
        write(d.path(), "tests/test_x.py", "import coverage\n");
        let r = run(d.path(), &["tests/test_x.py"]);
        assert_eq!(
            deps(&r),
            [
                "pytest <- setup.cfg [options.extras_require] dev",
                "coverage <- setup.cfg [options.extras_require] dev",
                "mock <- setup.cfg [options] tests_require",
            ]
        );
        assert_eq!(notes(&r, NoteKind::GuestUnusable).len(), 2, "{:?}", r.notes);
        assert_eq!(
            notes(&r, NoteKind::Info).len(),
            1,
            "coverage kept: imported"
        );
    }

    #[test]
    fn reads_requirements_files_tox_and_plugins() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "PKG-INFO", "Metadata-Version: 2.1\nName: demo\n");
        write(
            d.path(),
            "requirements/test.txt",
            "-r base.txt\n-c ../constraints.txt\n--index-url https://x.invalid/simple\n\
             pytest>=8\n-e .[extra1]\n-e .\nfoo @ https://x.invalid/foo.zip\n\
             pywin32; sys_platform == 'win32'\n",
        );
        write(d.path(), "requirements/base.txt", "attrs\n");
        write(d.path(), "constraints.txt", "pytest<9\n");
        write(d.path(), "requirements-dev.txt", "not-read\n");
        write(
            d.path(),
            "tox.ini",
            "[testenv]\ndeps =\n    -r{toxinidir}/requirements/test.txt\n    pytest-cov\n    \
             py314: tomli-w\nextras = extra1\n\
             [pytest]\naddopts = -p pytest_benchmark -p no:cacheprovider -p tests.myplugin -p unknown_plugin --timeout=5\n\
             required_plugins = pytest-mock>=3\nasyncio_mode = auto\n",
        );
        write(d.path(), "tests/myplugin.py", "");
        write(d.path(), "noxfile.py", "");
        write(
            d.path(),
            "setup.cfg",
            "[options.extras_require]\nextra1 = six\n",
        );
        let r = run(d.path(), &[]);
        assert_eq!(
            deps(&r),
            [
                "attrs <- requirements/test.txt -> requirements/base.txt",
                "pytest>=8 <- requirements/test.txt",
                "six <- requirements/test.txt -> setup.cfg [options.extras_require] extra1",
                "tomli-w <- tox.ini [testenv] deps",
                "pytest-benchmark <- pytest config (tox.ini [pytest]) addopts -p pytest_benchmark",
                "pytest-mock>=3 <- pytest config (tox.ini [pytest]) required_plugins",
                "pytest-asyncio <- pytest config (tox.ini [pytest]) key asyncio_mode",
            ]
        );
        let c: Vec<String> = r
            .constraints
            .iter()
            .map(|c| format!("{} <- {}", c.req, c.source))
            .collect();
        assert_eq!(c, ["pytest<9 <- requirements/test.txt -> constraints.txt"]);
        assert_eq!(
            notes(&r, NoteKind::SelfDependency).len(),
            1,
            "{:?}",
            r.notes
        );
        assert_eq!(notes(&r, NoteKind::NotInstallable).len(), 1);
        assert_eq!(notes(&r, NoteKind::MarkerFalse).len(), 1);
        assert_eq!(notes(&r, NoteKind::GuestUnusable).len(), 1);
        let ignored = notes(&r, NoteKind::Ignored);
        assert!(
            ignored.iter().any(|n| n.contains("--index-url")),
            "{ignored:?}"
        );
        assert!(
            ignored.iter().any(|n| n.starts_with("noxfile.py")),
            "{ignored:?}"
        );
        let nu = notes(&r, NoteKind::NotUnderstood);
        assert_eq!(nu.len(), 1, "{nu:?}");
        assert!(nu[0].contains("unknown_plugin"));
    }

    #[test]
    fn reads_pkg_info_and_setup_py_when_nothing_static() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "PKG-INFO",
            "Metadata-Version: 2.1\nName: demo\nProvides-Extra: test\n\
             Requires-Dist: six\nRequires-Dist: pytest; extra == \"test\"\n\
             Requires-Dist: tomli; python_version < \"3.11\" and extra == \"test\"\n",
        );
        write(
            d.path(),
            "setup.py",
            "setup(extras_require={'test': ['other']}, tests_require=['nose2'])\n",
        );
        let r = run(d.path(), &[]);
        assert_eq!(
            deps(&r),
            [
                "pytest ; extra == \"test\" <- PKG-INFO Requires-Dist extra test",
                "nose2 <- setup.py (static scan) tests_require",
            ]
        );
        assert_eq!(notes(&r, NoteKind::MarkerFalse).len(), 1);
        std::fs::remove_file(d.path().join("PKG-INFO")).unwrap();
        let r = run(d.path(), &[]);
        assert_eq!(
            deps(&r),
            [
                "other <- setup.py (static scan) extras_require test",
                "nose2 <- setup.py (static scan) tests_require",
            ]
        );
    }

    #[test]
    fn local_paths_are_relative_to_the_root() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "PKG-INFO", "Metadata-Version: 2.1\nName: demo\n");
        write(d.path(), "requirements/test.txt", "-r ci.txt\n");
        write(
            d.path(),
            "requirements/ci.txt",
            "-e .\n./vendor/thing\npytest\n",
        );
        let r = run(d.path(), &[]);
        assert_eq!(
            deps(&r),
            ["pytest <- requirements/test.txt -> requirements/ci.txt"]
        );
        let self_dep = notes(&r, NoteKind::SelfDependency);
        assert_eq!(self_dep.len(), 1, "{:?}", r.notes);
        assert_eq!(notes(&r, NoteKind::NotInstallable).len(), 1);
    }
}
