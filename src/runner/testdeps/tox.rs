//! tox configuration read for test dependencies, never run: the `deps`,
//! `extras` and `dependency_groups` of `[testenv]` and of the
//! `[testenv:NAME]` sections whose NAME starts with `py` or `test`
//! (skipping ones pinned to another Python, e.g. `py38`, or to PyPy).
//! Factor-conditional lines (`py314: foo`, `!lint: bar`, `py3{13,14}: x`)
//! are kept when their condition holds for the factors `py`, `py3`,
//! `py3XY` (the guest's Python), `test`, `tests`, `testing`, and the
//! section's own factors (`{a,b}` and `{9-14}` expanded); for
//! `[testenv]`, also those of the first `envlist` environment for the
//! guest's Python whose commands run pytest (`unit` of `py314-unit`); the
//! rest are noted. Substitutions: `{toxinidir}`/`{tox_root}` -> `.`,
//! `{[section]key}` references, `{env:NAME:default}` -> default,
//! `{posargs}` -> nothing; a line with any other substitution is noted.
//! Also read: tox 4's TOML form (`tox.toml`, `[tool.tox]`:
//! `env_run_base` and `env.NAME` with `deps`, `extras`,
//! `dependency_groups`) and `legacy_tox_ini` in `pyproject.toml`.

use super::ini::{Ini, value_lines};
use super::reqfile::strip_comment;

/// One thing a tox environment asks to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToxItem {
    /// A `deps` line (substituted), to read as a requirements-file line.
    Dep(String),
    /// An `extras` entry (an extra of the project).
    Extra(String),
    /// A `dependency_groups` entry (a PEP 735 group of the project).
    Group(String),
}

/// The items of the test environments, each with its source label
/// (`tox.ini [testenv] deps`), and notes on what was skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToxDeps {
    /// (source, item), in order.
    pub items: Vec<(String, ToxItem)>,
    /// (source, message).
    pub notes: Vec<(String, String)>,
}

/// The factors a test environment for the guest has: the Python ones
/// and the usual test-suite names.
fn guest_factors(py: &str) -> Vec<String> {
    let digits: String = py.chars().filter(char::is_ascii_digit).collect();
    let mut f: Vec<String> = vec!["py".into(), "py3".into(), format!("py{digits}")];
    f.extend(["test", "tests", "testing"].map(String::from));
    f
}

/// Expand `{a,b}` groups and `{9-11}` ranges, recursively: `py3{8,9}-x`
/// -> `py38-x`, `py39-x`.
pub fn expand_braces(s: &str) -> Vec<String> {
    let Some(open) = s.find('{') else {
        return vec![s.to_string()];
    };
    let Some(close_rel) = s[open..].find('}') else {
        return vec![s.to_string()];
    };
    let close = open + close_rel;
    let (head, body, tail) = (&s[..open], &s[open + 1..close], &s[close + 1..]);
    let mut alts: Vec<String> = Vec::new();
    for alt in body.split(',').map(str::trim) {
        match alt
            .split_once('-')
            .map(|(a, b)| (a.parse::<u32>(), b.parse::<u32>()))
        {
            Some((Ok(a), Ok(b))) if a <= b && b - a < 100 => {
                alts.extend((a..=b).map(|n| n.to_string()))
            }
            _ => alts.push(alt.to_string()),
        }
    }
    alts.iter()
        .flat_map(|alt| expand_braces(&format!("{head}{alt}{tail}")))
        .collect()
}

/// A `py38`/`py310`/`pypy3` factor pinned to another interpreter than
/// the guest's (`py3XY`).
fn other_python(factor: &str, guest: &[String]) -> bool {
    if factor.starts_with("pypy") {
        return true;
    }
    let Some(digits) = factor.strip_prefix("py") else {
        return false;
    };
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && !guest
            .iter()
            .any(|g| g == &format!("py{}", digits.replace('.', "")))
}

/// Split `COND: rest` when the line starts with a factor condition.
fn factor_condition(line: &str) -> Option<(&str, &str)> {
    let (cond, rest) = line.split_once(':')?;
    if rest.starts_with("//") || rest.trim().is_empty() {
        return None;
    }
    let ok = !cond.is_empty()
        && cond.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '!' | ',' | '{' | '}' | '-')
        })
        && cond.matches('{').count() == cond.matches('}').count()
        && !cond.starts_with('{');
    ok.then(|| (cond.trim(), rest.trim()))
}

/// Whether a factor condition holds for `factors`.
fn condition_holds(cond: &str, factors: &[String]) -> bool {
    expand_braces(cond).iter().any(|alt| {
        alt.split(',').any(|alt| {
            alt.split('-')
                .filter(|f| !f.is_empty())
                .all(|f| match f.strip_prefix('!') {
                    Some(neg) => !factors.iter().any(|x| x == neg),
                    None => factors.iter().any(|x| x == f),
                })
        })
    })
}

/// Replace `{[section]key}` references in `value`, `depth` deep.
fn expand_refs(ini: &Ini, value: &str, depth: usize) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("{[") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(close) = after.find(']') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let section = &after[..close];
        let Some(end) = after[close..].find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let key = &after[close + 1..close + end];
        let section_name = if section.is_empty() {
            "testenv"
        } else {
            section
        };
        let Some(v) = ini.get(section_name, key) else {
            return Err(format!("reference {{[{section}]{key}}} not found"));
        };
        if depth == 0 {
            return Err("references nested too deeply".into());
        }
        out.push_str(&expand_refs(ini, v, depth - 1)?);
        rest = &after[close + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Apply the simple substitutions to one line; `Err` names the first
/// one not understood.
fn substitute(line: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('{') {
        if start > 0 && rest.as_bytes()[start - 1] == b'\\' {
            out.push_str(&rest[..start - 1]);
            out.push('{');
            rest = &rest[start + 1..];
            continue;
        }
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let inner = &rest[start + 1..start + len];
        match inner {
            "toxinidir" | "tox_root" => out.push('.'),
            _ if inner == "posargs" || inner.starts_with("posargs:") => {}
            _ if inner.starts_with("env:") => match inner[4..].split_once(':') {
                Some((_, default)) => out.push_str(default),
                None => {
                    return Err(format!(
                        "{{{inner}}} (environment variable without default)"
                    ));
                }
            },
            _ => return Err(format!("{{{inner}}}")),
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Whether a `testenv:NAME` section is a test environment to read.
fn wanted_env(name: &str) -> bool {
    name.starts_with("py") || name.starts_with("test")
}

/// The lines of a multi-line `deps`-like value: `\` continuations
/// joined, comments stripped (`\#` keeps a `#`).
fn deps_lines(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut acc = String::new();
    for line in value.lines() {
        let line = line.trim();
        if let Some(head) = line.strip_suffix('\\') {
            acc.push_str(head);
            acc.push(' ');
            continue;
        }
        acc.push_str(line);
        let escaped = acc.replace("\\#", "\u{0}");
        let clean = strip_comment(&escaped)
            .replace('\u{0}', "#")
            .trim()
            .to_string();
        if !clean.is_empty() {
            out.push(clean);
        }
        acc.clear();
    }
    out
}

/// `extras`/`dependency_groups`: comma- or newline-separated names.
fn name_list(value: &str) -> Vec<String> {
    value_lines(value)
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

impl ToxDeps {
    fn note(&mut self, source: &str, message: impl Into<String>) {
        self.notes.push((source.to_string(), message.into()));
    }

    /// Lines of a value, each factor-filtered for `factors`.
    fn conditional_lines(
        &mut self,
        source: &str,
        lines: Vec<String>,
        factors: &[String],
    ) -> Vec<String> {
        let mut out = Vec::new();
        for line in lines {
            match factor_condition(&line) {
                Some((cond, rest)) if condition_holds(cond, factors) => out.push(rest.to_string()),
                Some((cond, rest)) => self.note(
                    source,
                    format!("`{rest}` skipped: only for factors `{cond}`"),
                ),
                None => out.push(line),
            }
        }
        out
    }
}

/// Whether a command line runs pytest (`pytest`, `py.test`, `python -m
/// pytest`, `coverage run -m pytest`, a path ending in `/pytest`).
fn runs_pytest(command: &str) -> bool {
    command.split_whitespace().any(|word| {
        let word = word.trim_matches(|c| c == '"' || c == '\'');
        let name = word.rsplit('/').next().unwrap_or(word);
        name == "pytest" || name == "py.test"
    })
}

/// The first environment of `[tox] envlist` for the guest's Python (no
/// factor pinning another interpreter) whose `commands`, filtered for its
/// factors, run pytest: the one `tox -e` would run the tests in for this
/// Python. Its factors (`unit` of `py314-unit`) then select `[testenv]`'s
/// factor-conditional lines, as in that environment.
fn pytest_env(ini: &Ini, guest: &[String]) -> Option<(String, Vec<String>)> {
    let envlist = ini.get("tox", "envlist")?;
    let names: Vec<String> = value_lines(envlist)
        .flat_map(split_outside_braces)
        .flat_map(|name| expand_braces(&name))
        .collect();
    names.into_iter().find_map(|name| {
        let own: Vec<String> = name.split('-').map(String::from).collect();
        if own.iter().any(|f| other_python(f, guest)) {
            return None;
        }
        let mut factors = guest.to_vec();
        factors.extend(own);
        let commands = ini
            .get(&format!("testenv:{name}"), "commands")
            .or_else(|| ini.get("testenv", "commands"))?;
        let commands = expand_refs(ini, commands, 5).ok()?;
        let runs = deps_lines(&commands)
            .iter()
            .any(|line| match factor_condition(line) {
                Some((cond, rest)) => condition_holds(cond, &factors) && runs_pytest(rest),
                None => runs_pytest(line),
            });
        runs.then_some((name, factors))
    })
}

/// Split `a, py3{9,10}-x` at the commas that are not inside braces.
fn split_outside_braces(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in line.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(line[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(line[start..].trim().to_string());
    out.retain(|s| !s.is_empty());
    out
}

/// Read the test environments of a `tox.ini` (or `legacy_tox_ini`) text.
/// `label` names the file in sources; `python_version` is the guest's
/// (`3.14`).
pub fn from_ini(ini: &Ini, label: &str, python_version: &str) -> ToxDeps {
    let mut out = ToxDeps::default();
    let guest = guest_factors(python_version);
    // `[testenv]` as in the envlist's environment that runs pytest for
    // this Python, if there is one.
    let base = match pytest_env(ini, &guest) {
        Some((name, factors)) => {
            out.note(
                &format!("{label} [testenv]"),
                format!("read as environment `{name}` (its commands run pytest)"),
            );
            factors
        }
        None => guest.clone(),
    };
    for section in &ini.sections {
        let env = if section.name == "testenv" {
            None
        } else if let Some(env) = section.name.strip_prefix("testenv:") {
            Some(env.trim())
        } else {
            continue;
        };
        let src = format!("{label} [{}]", section.name);
        let mut factors = if env.is_none() {
            base.clone()
        } else {
            guest.clone()
        };
        if let Some(env) = env {
            if !wanted_env(env) {
                continue;
            }
            let names = expand_braces(env);
            let usable: Vec<&String> = names
                .iter()
                .filter(|n| !n.split('-').any(|f| other_python(f, &guest)))
                .collect();
            if usable.is_empty() {
                out.note(
                    &src,
                    format!("environment for another interpreter ({env}): skipped"),
                );
                continue;
            }
            for n in usable {
                factors.extend(n.split('-').map(String::from));
            }
        }
        for key in ["deps", "extras", "dependency_groups"] {
            let Some(raw) = section.get(key) else {
                continue;
            };
            let source = format!("{src} {key}");
            let value = match expand_refs(ini, raw, 5) {
                Ok(v) => v,
                Err(e) => {
                    out.note(&source, format!("{e}: value skipped"));
                    continue;
                }
            };
            let lines = out.conditional_lines(&source, deps_lines(&value), &factors);
            for line in lines {
                match substitute(&line) {
                    Ok(line) if key == "deps" => {
                        out.items.push((source.clone(), ToxItem::Dep(line)))
                    }
                    Ok(line) => {
                        for name in name_list(&line) {
                            let item = if key == "extras" {
                                ToxItem::Extra(name)
                            } else {
                                ToxItem::Group(name)
                            };
                            out.items.push((source.clone(), item));
                        }
                    }
                    Err(sub) => out.note(
                        &source,
                        format!("`{line}` skipped: substitution {sub} not understood"),
                    ),
                }
            }
        }
    }
    out
}

/// Read tox 4's TOML configuration (`tox.toml`, or the `[tool.tox]`
/// table of `pyproject.toml`).
pub fn from_toml(tox: &toml::Table, label: &str, python_version: &str) -> ToxDeps {
    let mut out = ToxDeps::default();
    if let Some(legacy) = tox.get("legacy_tox_ini").and_then(|v| v.as_str()) {
        let mut d = from_ini(
            &Ini::parse(legacy),
            &format!("{label} legacy_tox_ini"),
            python_version,
        );
        out.items.append(&mut d.items);
        out.notes.append(&mut d.notes);
    }
    let guest = guest_factors(python_version);
    let mut tables: Vec<(String, &toml::Table)> = Vec::new();
    if let Some(base) = tox.get("env_run_base").and_then(|v| v.as_table()) {
        tables.push(("env_run_base".into(), base));
    }
    if let Some(envs) = tox.get("env").and_then(|v| v.as_table()) {
        for (name, t) in envs {
            if let Some(t) = t.as_table()
                && wanted_env(name)
            {
                if name.split('-').any(|f| other_python(f, &guest)) {
                    out.note(
                        &format!("{label} env.{name}"),
                        "environment for another interpreter: skipped",
                    );
                    continue;
                }
                tables.push((format!("env.{name}"), t));
            }
        }
    }
    for (name, t) in tables {
        for key in ["deps", "extras", "dependency_groups"] {
            let Some(v) = t.get(key) else { continue };
            let source = format!("{label} {name} {key}");
            let Some(items) = v.as_array() else {
                out.note(&source, "not a list: skipped");
                continue;
            };
            for item in items {
                let Some(s) = item.as_str() else {
                    out.note(
                        &source,
                        format!("`{item}` not understood (not a string): skipped"),
                    );
                    continue;
                };
                match substitute(s) {
                    Ok(s) => {
                        let item = match key {
                            "deps" => ToxItem::Dep(s),
                            "extras" => ToxItem::Extra(s),
                            _ => ToxItem::Group(s),
                        };
                        out.items.push((source.clone(), item));
                    }
                    Err(sub) => out.note(
                        &source,
                        format!("`{s}` skipped: substitution {sub} not understood"),
                    ),
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(d: &ToxDeps) -> Vec<String> {
        d.items
            .iter()
            .map(|(src, item)| format!("{src}: {item:?}"))
            .collect()
    }

    #[test]
    fn expands_braces_and_conditions() {
        assert_eq!(expand_braces("py3{8,9}-x"), ["py38-x", "py39-x"]);
        assert_eq!(expand_braces("{a,b}-{c,d}"), ["a-c", "a-d", "b-c", "b-d"]);
        assert_eq!(expand_braces("py3{9-11}"), ["py39", "py310", "py311"]);
        let f: Vec<String> = ["py", "py3", "py314"].map(String::from).to_vec();
        assert!(condition_holds("py314", &f));
        assert!(condition_holds("py3{13,14}", &f));
        assert!(condition_holds("!lint", &f));
        assert!(condition_holds("py38,py314", &f));
        assert!(!condition_holds("py314-cov", &f));
        assert!(!condition_holds("lint", &f));
        assert_eq!(factor_condition("py38: foo>=1"), Some(("py38", "foo>=1")));
        assert_eq!(factor_condition("git+https://x.invalid/a"), None);
        assert_eq!(factor_condition("{env:DEPS:pytest}"), None);
        assert_eq!(factor_condition("foo ; python_version < '3'"), None);
    }

    #[test]
    fn testenv_is_read_as_the_envlist_environment_that_runs_pytest() {
        let ini = Ini::parse(
            "[tox]\nenvlist =\n    py39-unit,py{310,314}-{doctest,unit},mypy-check\n\
             [testenv]\n\
             deps =\n    unit: pytest\n    unit-!py314t: matplotlib\n    doctest: sphinx\n\
             extras = unit: diagrams\n\
             commands =\n    unit: pytest tests {posargs}\n    doctest: sphinx-build -b doctest docs x\n",
        );
        let d = from_ini(&ini, "tox.ini", "3.14");
        assert_eq!(
            items(&d),
            [
                "tox.ini [testenv] deps: Dep(\"pytest\")",
                "tox.ini [testenv] deps: Dep(\"matplotlib\")",
                "tox.ini [testenv] extras: Extra(\"diagrams\")",
            ]
        );
        assert!(
            d.notes
                .iter()
                .any(|(_, n)| n.contains("environment `py314-unit`")),
            "{:?}",
            d.notes
        );
        // Without commands that run pytest, only the guest's own factors.
        let ini = Ini::parse(
            "[tox]\nenvlist = py314-unit\n[testenv]\ndeps = unit: pytest\ncommands = sphinx-build x\n",
        );
        assert!(from_ini(&ini, "tox.ini", "3.14").items.is_empty());
        assert!(runs_pytest("python -m pytest -x"));
        assert!(runs_pytest("{envbindir}/pytest tests"));
        assert!(!runs_pytest("pytest-benchmark compare"));
        assert_eq!(
            split_outside_braces("a, py3{9,10}-x ,b"),
            ["a", "py3{9,10}-x", "b"]
        );
    }

    #[test]
    fn reads_testenvs() {
        let ini = Ini::parse(
            "[tox]\nenvlist = py3{9,14}, lint\n\
             [base]\ndeps = attrs\n\
             [testenv]\n\
             deps =\n    pytest>=8 # why\n    -r{toxinidir}/requirements-test.txt\n    \
             py39: old-thing\n    py314: new-thing\n    cov: pytest-cov\n    {[base]deps}\n    \
             {env:EXTRA_DEP:hypothesis}\n    {envsitepackagesdir}/x\n\
             extras = test, speedups\n\
             [testenv:lint]\ndeps = ruff\n\
             [testenv:py38]\ndeps = ancient\n\
             [testenv:pypy3]\ndeps = pypy-only\n\
             [testenv:tests-network]\ndeps = requests\ndependency_groups = net\n",
        );
        let d = from_ini(&ini, "tox.ini", "3.14");
        assert_eq!(
            items(&d),
            [
                "tox.ini [testenv] deps: Dep(\"pytest>=8\")",
                "tox.ini [testenv] deps: Dep(\"-r./requirements-test.txt\")",
                "tox.ini [testenv] deps: Dep(\"new-thing\")",
                "tox.ini [testenv] deps: Dep(\"attrs\")",
                "tox.ini [testenv] deps: Dep(\"hypothesis\")",
                "tox.ini [testenv] extras: Extra(\"test\")",
                "tox.ini [testenv] extras: Extra(\"speedups\")",
                "tox.ini [testenv:tests-network] deps: Dep(\"requests\")",
                "tox.ini [testenv:tests-network] dependency_groups: Group(\"net\")",
            ]
        );
        let notes: Vec<&str> = d.notes.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(notes.len(), 5, "{notes:?}");
    }

    #[test]
    fn reads_toml_forms() {
        let t: toml::Table = r#"
legacy_tox_ini = """
[testenv]
deps = pytest
"""
[env_run_base]
deps = ["hypothesis", "-r requirements.txt", { replace = "ref", of = ["x"] }]
extras = ["test"]
dependency_groups = ["test"]
[env.py38]
deps = ["old"]
[env.docs]
deps = ["sphinx"]
"#
        .parse()
        .unwrap();
        let d = from_toml(&t, "pyproject.toml [tool.tox]", "3.14");
        assert_eq!(
            items(&d),
            [
                "pyproject.toml [tool.tox] legacy_tox_ini [testenv] deps: Dep(\"pytest\")",
                "pyproject.toml [tool.tox] env_run_base deps: Dep(\"hypothesis\")",
                "pyproject.toml [tool.tox] env_run_base deps: Dep(\"-r requirements.txt\")",
                "pyproject.toml [tool.tox] env_run_base extras: Extra(\"test\")",
                "pyproject.toml [tool.tox] env_run_base dependency_groups: Group(\"test\")",
            ]
        );
        assert_eq!(d.notes.len(), 2, "{:?}", d.notes);
    }
}
