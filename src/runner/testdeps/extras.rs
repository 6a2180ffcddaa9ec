//! The project's extras (optional dependencies), read from wherever the
//! sdist declares them, and the name tiers that pick the test ones.
//!
//! Declared (static) sources, each kept when present:
//! `pyproject.toml [project.optional-dependencies]`; with `dynamic =
//! ["optional-dependencies"]`, `[tool.setuptools.dynamic]
//! optional-dependencies` files; `setup.cfg [options.extras_require]`
//! (keys `extra:marker` apply the marker to their requirements).
//! Only when none of these exists (a dynamic or `setup.py` project):
//! `PKG-INFO`'s `Requires-Dist: ...; extra == "x"` (the sdist's own
//! metadata, as its build backend wrote it), else a static scan of
//! `setup.py`. `tests_require` comes from `setup.cfg [options]` and,
//! without declared extras, from the `setup.py` scan.

use super::files::SdistFiles;
use super::ini::value_lines;
use super::reqfile;
use super::requirement::{Marker, Requirement, normalize_name};
use super::setup_py;

/// First tier of test group/extra names.
pub const TEST_NAMES: [&str; 3] = ["test", "tests", "testing"];

/// Second tier: `test-*`/`tests-*`/`testing-*` (e.g. `test-unit`,
/// `testing-extra`), except with these suffixes.
pub const NON_TEST_SUFFIXES: [&str; 17] = [
    "typing",
    "types",
    "type",
    "mypy",
    "lint",
    "linting",
    "style",
    "doc",
    "docs",
    "prof",
    "profile",
    "profiling",
    "bench",
    "benchmark",
    "benchmarks",
    "cov",
    "coverage",
];

/// Last tier.
pub const DEV_NAME: &str = "dev";

/// The test groups/extras among `names`, normalised: `test`, `tests`,
/// `testing`; else `test-*`/`tests-*`/`testing-*` but not
/// [`NON_TEST_SUFFIXES`]; else `dev`.
pub fn wanted_names<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let names: Vec<String> = names.map(normalize_name).collect();
    let tier1: Vec<String> = names
        .iter()
        .filter(|n| TEST_NAMES.contains(&n.as_str()))
        .cloned()
        .collect();
    if !tier1.is_empty() {
        return tier1;
    }
    let tier2: Vec<String> = names
        .iter()
        .filter(|n| {
            n.split_once('-').is_some_and(|(head, tail)| {
                TEST_NAMES.contains(&head) && !NON_TEST_SUFFIXES.contains(&tail)
            })
        })
        .cloned()
        .collect();
    if !tier2.is_empty() {
        return tier2;
    }
    names
        .into_iter()
        .filter(|n| n == DEV_NAME)
        .take(1)
        .collect()
}

/// One requirement string of an extra, with the marker of a setuptools
/// `extra:marker` key if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraReq {
    /// The requirement as written.
    pub text: String,
    /// The key's marker (`test:python_version<"3.8"` -> `python_version<"3.8"`).
    pub key_marker: Option<String>,
}

/// The extras declared by one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtrasSource {
    /// Label, e.g. `pyproject.toml [project.optional-dependencies]`.
    pub label: String,
    /// (normalised extra name, requirements), in declaration order.
    pub extras: Vec<(String, Vec<ExtraReq>)>,
}

impl ExtrasSource {
    /// The requirements of `extra` (normalised), if declared here.
    pub fn get(&self, extra: &str) -> Option<&[ExtraReq]> {
        self.extras
            .iter()
            .find(|(n, _)| n == extra)
            .map(|(_, r)| r.as_slice())
    }

    /// The test extras declared here (by [`wanted_names`]).
    pub fn wanted(&self) -> Vec<String> {
        wanted_names(self.extras.iter().map(|(n, _)| n.as_str()))
    }
}

/// Everything read about the project's extras.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectExtras {
    /// The sources, in precedence order (a self-reference `pkg[x]` uses
    /// the first that declares `x`).
    pub sources: Vec<ExtrasSource>,
    /// `tests_require` entries: (source label, requirement).
    pub tests_require: Vec<(String, String)>,
    /// (source, message) for what was not understood.
    pub problems: Vec<(String, String)>,
}

/// Read the extras of the sdist whose files are `files`.
pub fn read_extras(files: &SdistFiles) -> ProjectExtras {
    let mut out = ProjectExtras::default();
    declared_sources(files, &mut out);
    if let Some(v) = files
        .setup_cfg
        .as_ref()
        .and_then(|c| c.get("options", "tests_require"))
    {
        for line in list_lines(v) {
            out.tests_require
                .push(("setup.cfg [options] tests_require".into(), line));
        }
    }
    if !out.sources.is_empty() {
        return out;
    }
    let dynamic = files
        .pyproject_table("project")
        .and_then(|p| p.get("dynamic"))
        .and_then(|v| v.as_array())
        .is_some_and(|a| {
            a.iter()
                .any(|x| x.as_str() == Some("optional-dependencies"))
        });
    if let Some(s) = pkg_info_source(files) {
        out.sources.push(s);
    }
    let setup_py = files.root.join("setup.py");
    if setup_py.is_file() {
        let src = std::fs::read(&setup_py)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let scan = setup_py::scan(&src);
        for p in scan.problems {
            out.problems.push(("setup.py (static scan)".into(), p));
        }
        if out.sources.is_empty() && !scan.extras.is_empty() {
            out.sources.push(ExtrasSource {
                label: "setup.py (static scan) extras_require".into(),
                extras: group_extra_keys(scan.extras.iter().map(|(k, v)| (k.as_str(), v.clone()))),
            });
        }
        for r in scan.tests_require.unwrap_or_default() {
            out.tests_require
                .push(("setup.py (static scan) tests_require".into(), r));
        }
    }
    if dynamic && out.sources.is_empty() {
        out.problems.push((
            "pyproject.toml [project]".into(),
            "optional-dependencies are dynamic and no file read declares them".into(),
        ));
    }
    out
}

/// pyproject's static extras, setuptools' dynamic extras files, and
/// setup.cfg's extras: each source that declares any.
fn declared_sources(files: &SdistFiles, out: &mut ProjectExtras) {
    let project = files.pyproject_table("project");
    if let Some(opt) = project
        .and_then(|p| p.get("optional-dependencies"))
        .and_then(|v| v.as_table())
    {
        let extras = opt
            .iter()
            .map(|(k, v)| {
                let reqs = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x.as_str())
                    .map(|t| ExtraReq {
                        text: t.to_string(),
                        key_marker: None,
                    })
                    .collect();
                (normalize_name(k), reqs)
            })
            .collect();
        out.sources.push(ExtrasSource {
            label: "pyproject.toml [project.optional-dependencies]".into(),
            extras,
        });
    }
    let dynamic = project
        .and_then(|p| p.get("dynamic"))
        .and_then(|v| v.as_array())
        .is_some_and(|a| {
            a.iter()
                .any(|x| x.as_str() == Some("optional-dependencies"))
        });
    let dyn_opt = files
        .pyproject_table("tool.setuptools.dynamic")
        .and_then(|t| t.get("optional-dependencies"))
        .and_then(|v| v.as_table());
    if let (true, Some(dyn_opt)) = (dynamic, dyn_opt) {
        let mut extras = Vec::new();
        for (k, v) in dyn_opt {
            let names: Vec<String> = match v.get("file") {
                Some(toml::Value::String(s)) => vec![s.clone()],
                Some(toml::Value::Array(a)) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect(),
                _ => Vec::new(),
            };
            let mut reqs = Vec::new();
            for f in names {
                // setuptools reads these as plain requirement lines.
                match std::fs::read_to_string(files.root.join(&f)) {
                    Ok(text) => {
                        reqs.extend(reqfile::logical_lines(&text).into_iter().map(|t| ExtraReq {
                            text: t,
                            key_marker: None,
                        }))
                    }
                    Err(e) => out.problems.push((
                        "pyproject.toml [tool.setuptools.dynamic]".into(),
                        format!("optional-dependencies.{k}: cannot read {f}: {e}"),
                    )),
                }
            }
            extras.push((normalize_name(k), reqs));
        }
        out.sources.push(ExtrasSource {
            label: "pyproject.toml [tool.setuptools.dynamic] optional-dependencies".into(),
            extras,
        });
    }
    if let Some(sec) = files
        .setup_cfg
        .as_ref()
        .and_then(|c| c.section("options.extras_require"))
    {
        let entries = sec.entries.iter().map(|(k, v)| (k.as_str(), list_lines(v)));
        out.sources.push(ExtrasSource {
            label: "setup.cfg [options.extras_require]".into(),
            extras: group_extra_keys(entries),
        });
    }
}

/// `Requires-Dist: ...; extra == "x"` lines of PKG-INFO.
fn pkg_info_source(files: &SdistFiles) -> Option<ExtrasSource> {
    let mut extras: Vec<(String, Vec<ExtraReq>)> = Vec::new();
    for text in files.pkg_info_all("Requires-Dist") {
        let Ok(req) = Requirement::parse(text) else {
            continue;
        };
        let names = req
            .marker
            .as_ref()
            .map(Marker::extra_names)
            .unwrap_or_default();
        for name in names {
            let item = ExtraReq {
                text: text.to_string(),
                key_marker: None,
            };
            match extras.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => v.push(item),
                None => extras.push((name, vec![item])),
            }
        }
    }
    (!extras.is_empty()).then(|| ExtrasSource {
        label: "PKG-INFO Requires-Dist extra".into(),
        extras,
    })
}

/// Split a setup.cfg list value: one item a line, or `;`-separated on a
/// single line (as setuptools does); comments dropped.
pub fn list_lines(value: &str) -> Vec<String> {
    let lines: Vec<&str> = value_lines(value).collect();
    let items: Vec<&str> = if lines.len() == 1 && !lines[0].contains(" ;") && lines[0].contains(';')
    {
        lines[0].split(';').collect()
    } else {
        lines
    };
    items
        .into_iter()
        .map(|l| reqfile::strip_comment(l).trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Group `extras_require` keys (`test`, `test:python_version<"3.8"`) by
/// normalised extra name.
fn group_extra_keys<'a>(
    entries: impl Iterator<Item = (&'a str, Vec<String>)>,
) -> Vec<(String, Vec<ExtraReq>)> {
    let mut out: Vec<(String, Vec<ExtraReq>)> = Vec::new();
    for (key, reqs) in entries {
        let (name, marker) = match key.split_once(':') {
            Some((n, m)) => (
                normalize_name(n),
                Some(m.trim().to_string()).filter(|m| !m.is_empty()),
            ),
            None => (normalize_name(key), None),
        };
        let items = reqs.into_iter().map(|text| ExtraReq {
            text,
            key_marker: marker.clone(),
        });
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => v.extend(items),
            None => out.push((name, items.collect())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &std::path::Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn summary(e: &ProjectExtras) -> Vec<String> {
        e.sources
            .iter()
            .flat_map(|s| {
                s.extras.iter().map(move |(n, r)| {
                    let reqs: Vec<String> = r
                        .iter()
                        .map(|x| match &x.key_marker {
                            Some(m) => format!("{} [{m}]", x.text),
                            None => x.text.clone(),
                        })
                        .collect();
                    format!("{}: {n} = {}", s.label, reqs.join(", "))
                })
            })
            .collect()
    }

    #[test]
    fn picks_names_in_tiers() {
        let w = |names: &[&str]| wanted_names(names.iter().copied());
        assert_eq!(
            w(&["dev", "Tests", "testing", "docs"]),
            ["tests", "testing"]
        );
        assert_eq!(
            w(&[
                "dev",
                "test-unit",
                "test-typing",
                "test-prof",
                "testing_extra",
                "test-base"
            ]),
            ["test-unit", "testing-extra", "test-base"]
        );
        assert_eq!(w(&["docs", "dev", "lint"]), ["dev"]);
        assert_eq!(w(&["docs", "lint"]), Vec::<String>::new());
    }

    #[test]
    fn reads_declared_sources() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "pyproject.toml",
            "[project]\nname = 'x'\ndynamic = ['optional-dependencies']\n\
             [project.optional-dependencies]\nTest_Suite = ['pytest']\n\
             [tool.setuptools.dynamic]\noptional-dependencies.test = { file = ['req-test.txt', 'missing.txt'] }\n",
        );
        write(d.path(), "req-test.txt", "# c\nhypothesis \\\n  >=6\n");
        write(
            d.path(),
            "setup.cfg",
            "[options]\ntests_require = mock; nose\n[options.extras_require]\n\
             speed = cython; cffi\ndocs =\n    sphinx  # why\n    furo\n",
        );
        write(
            d.path(),
            "PKG-INFO",
            "Name: x\nRequires-Dist: ignored; extra == 'test'\n",
        );
        let e = read_extras(&SdistFiles::read(d.path()));
        assert_eq!(
            summary(&e),
            [
                "pyproject.toml [project.optional-dependencies]: test-suite = pytest",
                "pyproject.toml [tool.setuptools.dynamic] optional-dependencies: test = hypothesis   >=6",
                "setup.cfg [options.extras_require]: speed = cython, cffi",
                "setup.cfg [options.extras_require]: docs = sphinx, furo",
            ]
        );
        assert_eq!(e.problems.len(), 1, "{:?}", e.problems);
        let tr: Vec<&str> = e.tests_require.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(tr, ["mock", "nose"]);
    }

    #[test]
    fn falls_back_to_pkg_info_then_setup_py() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "setup.py",
            "setup(extras_require={'test:python_version<\"3.8\"': ['mock'], 'test': ['pytest']},\n\
             tests_require=['nose'])\n",
        );
        let e = read_extras(&SdistFiles::read(d.path()));
        assert_eq!(
            summary(&e),
            ["setup.py (static scan) extras_require: test = mock [python_version<\"3.8\"], pytest"]
        );
        assert_eq!(e.tests_require.len(), 1);
        write(
            d.path(),
            "PKG-INFO",
            "Name: x\nRequires-Dist: six\nRequires-Dist: pytest; extra == \"test\"\n",
        );
        let e = read_extras(&SdistFiles::read(d.path()));
        assert_eq!(
            summary(&e),
            ["PKG-INFO Requires-Dist extra: test = pytest; extra == \"test\""]
        );
        assert_eq!(
            e.tests_require.len(),
            1,
            "setup.py's tests_require still read"
        );
    }
}
