//! PEP 508 dependency specifiers: `name[extras] (version spec) ; marker`
//! and `name[extras] @ url ; marker`, PEP 503 name normalisation, and
//! environment markers evaluated for the guest (Pyodide: CPython on
//! wasm32-emscripten).

use std::fmt;

use super::version::{Op, Specifier, Version};

/// PEP 503 normalisation: lower case, runs of `-`, `_` and `.` become
/// one `-` (`Pydantic_Core` -> `pydantic-core`).
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Why a requirement could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What went wrong, and where.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

fn err<T>(message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        message: message.into(),
    })
}

/// The environment markers' values for the guest. [`MarkerEnv::pyodide`]
/// fills in everything but the Python and Emscripten versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerEnv {
    /// `python_version`, e.g. `3.14`.
    pub python_version: String,
    /// `python_full_version`, e.g. `3.14.2`.
    pub python_full_version: String,
    /// `implementation_version` (CPython: the full version).
    pub implementation_version: String,
    /// `sys_platform`: `emscripten`.
    pub sys_platform: String,
    /// `platform_system`: `Emscripten`.
    pub platform_system: String,
    /// `platform_machine`: `wasm32`.
    pub platform_machine: String,
    /// `os_name`: `posix`.
    pub os_name: String,
    /// `implementation_name`: `cpython`.
    pub implementation_name: String,
    /// `platform_python_implementation`: `CPython`.
    pub platform_python_implementation: String,
    /// `platform_release` (Pyodide: the Emscripten version).
    pub platform_release: String,
    /// `platform_version`, e.g. `#1`.
    pub platform_version: String,
    /// `extra`: empty unless an extra's requirements are evaluated.
    pub extra: String,
}

impl MarkerEnv {
    /// The Pyodide guest running CPython `python_full_version` (e.g.
    /// `3.14.2`) on Emscripten `platform_release` (e.g. `4.0.9`).
    pub fn pyodide(python_full_version: &str, platform_release: &str) -> MarkerEnv {
        let short = python_full_version
            .split('.')
            .take(2)
            .collect::<Vec<_>>()
            .join(".");
        MarkerEnv {
            python_version: short,
            python_full_version: python_full_version.to_string(),
            implementation_version: python_full_version.to_string(),
            sys_platform: "emscripten".into(),
            platform_system: "Emscripten".into(),
            platform_machine: "wasm32".into(),
            os_name: "posix".into(),
            implementation_name: "cpython".into(),
            platform_python_implementation: "CPython".into(),
            platform_release: platform_release.to_string(),
            platform_version: "#1".into(),
            extra: String::new(),
        }
    }

    /// The same environment, evaluating the requirements of `extra`.
    pub fn with_extra(&self, extra: &str) -> MarkerEnv {
        MarkerEnv {
            extra: extra.to_string(),
            ..self.clone()
        }
    }

    /// The value of a marker variable.
    pub fn value(&self, var: MarkerVar) -> &str {
        match var {
            MarkerVar::PythonVersion => &self.python_version,
            MarkerVar::PythonFullVersion => &self.python_full_version,
            MarkerVar::ImplementationVersion => &self.implementation_version,
            MarkerVar::SysPlatform => &self.sys_platform,
            MarkerVar::PlatformSystem => &self.platform_system,
            MarkerVar::PlatformMachine => &self.platform_machine,
            MarkerVar::OsName => &self.os_name,
            MarkerVar::ImplementationName => &self.implementation_name,
            MarkerVar::PlatformPythonImplementation => &self.platform_python_implementation,
            MarkerVar::PlatformRelease => &self.platform_release,
            MarkerVar::PlatformVersion => &self.platform_version,
            MarkerVar::Extra => &self.extra,
        }
    }
}

/// A marker variable (PEP 508, plus the legacy dotted spellings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerVar {
    /// `python_version`.
    PythonVersion,
    /// `python_full_version`.
    PythonFullVersion,
    /// `implementation_version`.
    ImplementationVersion,
    /// `sys_platform` (`sys.platform`).
    SysPlatform,
    /// `platform_system`.
    PlatformSystem,
    /// `platform_machine` (`platform.machine`).
    PlatformMachine,
    /// `os_name` (`os.name`).
    OsName,
    /// `implementation_name`.
    ImplementationName,
    /// `platform_python_implementation` (`platform.python_implementation`,
    /// `python_implementation`).
    PlatformPythonImplementation,
    /// `platform_release`.
    PlatformRelease,
    /// `platform_version` (`platform.version`).
    PlatformVersion,
    /// `extra`.
    Extra,
}

impl MarkerVar {
    const NAMES: [(&'static str, MarkerVar); 17] = [
        ("python_version", MarkerVar::PythonVersion),
        ("python_full_version", MarkerVar::PythonFullVersion),
        ("implementation_version", MarkerVar::ImplementationVersion),
        ("sys_platform", MarkerVar::SysPlatform),
        ("platform_system", MarkerVar::PlatformSystem),
        ("platform_machine", MarkerVar::PlatformMachine),
        ("os_name", MarkerVar::OsName),
        ("implementation_name", MarkerVar::ImplementationName),
        (
            "platform_python_implementation",
            MarkerVar::PlatformPythonImplementation,
        ),
        ("platform_release", MarkerVar::PlatformRelease),
        ("platform_version", MarkerVar::PlatformVersion),
        ("extra", MarkerVar::Extra),
        ("sys.platform", MarkerVar::SysPlatform),
        ("os.name", MarkerVar::OsName),
        ("platform.machine", MarkerVar::PlatformMachine),
        ("platform.version", MarkerVar::PlatformVersion),
        (
            "python_implementation",
            MarkerVar::PlatformPythonImplementation,
        ),
    ];

    /// Look a variable up by name.
    pub fn from_name(name: &str) -> Option<MarkerVar> {
        if name == "platform.python_implementation" {
            return Some(MarkerVar::PlatformPythonImplementation);
        }
        MarkerVar::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    /// The variable's canonical name.
    pub fn name(self) -> &'static str {
        MarkerVar::NAMES
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("", |(n, _)| n)
    }
}

/// One side of a marker comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkerValue {
    /// An environment variable.
    Var(MarkerVar),
    /// A quoted string.
    Str(String),
}

/// A marker comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerOp {
    /// A version/string comparison (`==`, `<`, `~=`, ...).
    Cmp(Op),
    /// `in` (substring).
    In,
    /// `not in`.
    NotIn,
}

/// A parsed environment marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marker {
    /// All of these hold (`and`).
    All(Vec<Marker>),
    /// Any of these holds (`or`).
    Any(Vec<Marker>),
    /// `lhs op rhs`.
    Compare {
        /// Left side.
        lhs: MarkerValue,
        /// Operator.
        op: MarkerOp,
        /// Right side.
        rhs: MarkerValue,
    },
}

impl Marker {
    /// Parse a marker expression (the part after `;`).
    pub fn parse(text: &str) -> Result<Marker, ParseError> {
        let tokens = tokenize_marker(text)?;
        let mut p = MarkerParser { tokens, pos: 0 };
        let m = p.or()?;
        if p.pos != p.tokens.len() {
            return err(format!(
                "unexpected {:?} in marker {text:?}",
                p.tokens[p.pos]
            ));
        }
        Ok(m)
    }

    /// Evaluate the marker in `env`. Comparisons of version-valued
    /// operands use PEP 440 ordering when both sides are versions;
    /// otherwise strings are compared (a `~=` between non-versions is
    /// false). `extra` is compared after name normalisation.
    pub fn evaluate(&self, env: &MarkerEnv) -> bool {
        match self {
            Marker::All(ms) => ms.iter().all(|m| m.evaluate(env)),
            Marker::Any(ms) => ms.iter().any(|m| m.evaluate(env)),
            Marker::Compare { lhs, op, rhs } => {
                let is_extra = matches!(lhs, MarkerValue::Var(MarkerVar::Extra))
                    || matches!(rhs, MarkerValue::Var(MarkerVar::Extra));
                let get = |v: &MarkerValue| -> String {
                    let s = match v {
                        MarkerValue::Var(var) => env.value(*var).to_string(),
                        MarkerValue::Str(s) => s.clone(),
                    };
                    if is_extra { normalize_name(&s) } else { s }
                };
                compare(&get(lhs), *op, &get(rhs))
            }
        }
    }

    /// The extras the marker compares `extra` with (normalised), e.g.
    /// `["test"]` for `python_version < "3.12" and extra == "test"`.
    pub fn extra_names(&self) -> Vec<String> {
        match self {
            Marker::All(ms) | Marker::Any(ms) => ms.iter().flat_map(Marker::extra_names).collect(),
            Marker::Compare { lhs, rhs, .. } => match (lhs, rhs) {
                (MarkerValue::Var(MarkerVar::Extra), MarkerValue::Str(s))
                | (MarkerValue::Str(s), MarkerValue::Var(MarkerVar::Extra)) => {
                    vec![normalize_name(s)]
                }
                _ => Vec::new(),
            },
        }
    }

    /// Whether the marker mentions `extra` anywhere.
    pub fn mentions_extra(&self) -> bool {
        match self {
            Marker::All(ms) | Marker::Any(ms) => ms.iter().any(Marker::mentions_extra),
            Marker::Compare { lhs, rhs, .. } => [lhs, rhs]
                .iter()
                .any(|v| matches!(v, MarkerValue::Var(MarkerVar::Extra))),
        }
    }
}

/// `lhs op rhs` on values.
fn compare(lhs: &str, op: MarkerOp, rhs: &str) -> bool {
    let op = match op {
        MarkerOp::In => return rhs.contains(lhs),
        MarkerOp::NotIn => return !rhs.contains(lhs),
        MarkerOp::Cmp(op) => op,
    };
    let spec = Specifier {
        op,
        version: rhs.to_string(),
    };
    if op != Op::Arbitrary
        && spec.is_valid()
        && let Some(l) = Version::parse(lhs)
    {
        return spec.contains(&l);
    }
    match op {
        Op::Eq | Op::Arbitrary => lhs == rhs,
        Op::Ne => lhs != rhs,
        Op::Lt => lhs < rhs,
        Op::Le => lhs <= rhs,
        Op::Gt => lhs > rhs,
        Op::Ge => lhs >= rhs,
        Op::Compatible => false,
    }
}

impl fmt::Display for MarkerValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MarkerValue::Var(v) => f.write_str(v.name()),
            MarkerValue::Str(s) if s.contains('"') => write!(f, "'{s}'"),
            MarkerValue::Str(s) => write!(f, "\"{s}\""),
        }
    }
}

impl fmt::Display for Marker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `and` binds tighter than `or`: only an `or` inside an `and`
        // needs parentheses.
        fn join(
            f: &mut fmt::Formatter<'_>,
            ms: &[Marker],
            word: &str,
            in_and: bool,
        ) -> fmt::Result {
            for (i, m) in ms.iter().enumerate() {
                if i > 0 {
                    write!(f, " {word} ")?;
                }
                if in_and && matches!(m, Marker::Any(_)) {
                    write!(f, "({m})")?;
                } else {
                    write!(f, "{m}")?;
                }
            }
            Ok(())
        }
        match self {
            Marker::All(ms) => join(f, ms, "and", true),
            Marker::Any(ms) => join(f, ms, "or", false),
            Marker::Compare { lhs, op, rhs } => {
                let op = match op {
                    MarkerOp::Cmp(o) => o.as_str(),
                    MarkerOp::In => "in",
                    MarkerOp::NotIn => "not in",
                };
                write!(f, "{lhs} {op} {rhs}")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Str(String),
    Ident(String),
    Op(MarkerOp),
    And,
    Or,
    LParen,
    RParen,
}

fn tokenize_marker(text: &str) -> Result<Vec<Tok>, ParseError> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let c = rest.chars().next().unwrap_or(' ');
        if c == '(' || c == ')' {
            out.push(if c == '(' { Tok::LParen } else { Tok::RParen });
            rest = &rest[1..];
        } else if c == '"' || c == '\'' {
            let Some(end) = rest[1..].find(c) else {
                return err(format!("unterminated string in marker {text:?}"));
            };
            out.push(Tok::Str(rest[1..1 + end].to_string()));
            rest = &rest[end + 2..];
        } else if let Some((op, r)) = Op::parse_prefix(rest) {
            out.push(Tok::Op(MarkerOp::Cmp(op)));
            rest = r;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .unwrap_or(rest.len());
            let word = &rest[..end];
            rest = &rest[end..];
            match word {
                "and" => out.push(Tok::And),
                "or" => out.push(Tok::Or),
                "in" => out.push(Tok::Op(MarkerOp::In)),
                "not" => {
                    let r = rest.trim_start();
                    match r.strip_prefix("in") {
                        Some(after) if !after.starts_with(|c: char| c.is_ascii_alphanumeric()) => {
                            out.push(Tok::Op(MarkerOp::NotIn));
                            rest = after;
                        }
                        _ => return err(format!("expected `in` after `not` in {text:?}")),
                    }
                }
                _ => out.push(Tok::Ident(word.to_string())),
            }
        } else {
            return err(format!("unexpected {c:?} in marker {text:?}"));
        }
        rest = rest.trim_start();
    }
    Ok(out)
}

struct MarkerParser {
    tokens: Vec<Tok>,
    pos: usize,
}

impl MarkerParser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<Marker, ParseError> {
        let mut items = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Marker::Any(items)
        })
    }

    fn and(&mut self) -> Result<Marker, ParseError> {
        let mut items = vec![self.atom()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            items.push(self.atom()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Marker::All(items)
        })
    }

    fn atom(&mut self) -> Result<Marker, ParseError> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let m = self.or()?;
            if self.next() != Some(Tok::RParen) {
                return err("missing `)` in marker");
            }
            return Ok(m);
        }
        let lhs = self.value()?;
        let op = match self.next() {
            Some(Tok::Op(op)) => op,
            other => return err(format!("expected a comparison operator, got {other:?}")),
        };
        let rhs = self.value()?;
        Ok(Marker::Compare { lhs, op, rhs })
    }

    fn value(&mut self) -> Result<MarkerValue, ParseError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(MarkerValue::Str(s)),
            Some(Tok::Ident(name)) => match MarkerVar::from_name(&name) {
                Some(v) => Ok(MarkerValue::Var(v)),
                None => err(format!("unknown marker variable `{name}`")),
            },
            other => err(format!(
                "expected a marker variable or string, got {other:?}"
            )),
        }
    }
}

/// A parsed PEP 508 requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The distribution name as written.
    pub name: String,
    /// Requested extras, normalised, in order.
    pub extras: Vec<String>,
    /// Version specifier clauses (all must hold).
    pub specifiers: Vec<Specifier>,
    /// `name @ url`: a direct reference (not installable from an index).
    pub url: Option<String>,
    /// The environment marker, if any.
    pub marker: Option<Marker>,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

impl Requirement {
    /// Parse one PEP 508 requirement string.
    pub fn parse(text: &str) -> Result<Requirement, ParseError> {
        let s = text.trim();
        let name_end = s.find(|c: char| !is_name_char(c)).unwrap_or(s.len());
        let name = &s[..name_end];
        if name.is_empty()
            || !name.starts_with(|c: char| c.is_ascii_alphanumeric())
            || !name.ends_with(|c: char| c.is_ascii_alphanumeric())
        {
            return err(format!("invalid requirement {text:?}: no valid name"));
        }
        let mut rest = s[name_end..].trim_start();
        let mut extras = Vec::new();
        if let Some(r) = rest.strip_prefix('[') {
            let Some(close) = r.find(']') else {
                return err(format!("invalid requirement {text:?}: missing `]`"));
            };
            for e in r[..close].split(',') {
                let e = e.trim();
                if e.is_empty() {
                    continue;
                }
                if !e.chars().all(is_name_char) {
                    return err(format!("invalid requirement {text:?}: bad extra {e:?}"));
                }
                extras.push(normalize_name(e));
            }
            rest = r[close + 1..].trim_start();
        }
        let mut url = None;
        let mut specifiers = Vec::new();
        let marker_text;
        if let Some(r) = rest.strip_prefix('@') {
            let r = r.trim_start();
            let end = r.find(char::is_whitespace).unwrap_or(r.len());
            if end == 0 {
                return err(format!("invalid requirement {text:?}: empty URL"));
            }
            url = Some(r[..end].to_string());
            let after = r[end..].trim_start();
            marker_text = match after.strip_prefix(';') {
                Some(m) => Some(m),
                None if after.is_empty() => None,
                None => return err(format!("invalid requirement {text:?}: text after URL")),
            };
        } else {
            let (spec_text, m) = match rest.find(';') {
                Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                None => (rest, None),
            };
            marker_text = m;
            let mut spec_text = spec_text.trim();
            if let Some(inner) = spec_text.strip_prefix('(') {
                let Some(inner) = inner.strip_suffix(')') else {
                    return err(format!("invalid requirement {text:?}: missing `)`"));
                };
                spec_text = inner.trim();
            }
            if !spec_text.is_empty() {
                for clause in spec_text.split(',') {
                    let clause = clause.trim();
                    let Some((op, version)) = Op::parse_prefix(clause) else {
                        return err(format!(
                            "invalid requirement {text:?}: bad version clause {clause:?}"
                        ));
                    };
                    let spec = Specifier {
                        op,
                        version: version.trim().to_string(),
                    };
                    if !spec.is_valid() {
                        return err(format!(
                            "invalid requirement {text:?}: bad version clause {clause:?}"
                        ));
                    }
                    specifiers.push(spec);
                }
            }
        }
        let marker = match marker_text {
            Some(m) if m.trim().is_empty() => {
                return err(format!("invalid requirement {text:?}: empty marker"));
            }
            Some(m) => Some(Marker::parse(m).map_err(|e| ParseError {
                message: format!("invalid requirement {text:?}: {e}"),
            })?),
            None => None,
        };
        Ok(Requirement {
            name: name.to_string(),
            extras,
            specifiers,
            url,
            marker,
        })
    }

    /// The PEP 503 normalised name.
    pub fn normalized_name(&self) -> String {
        normalize_name(&self.name)
    }

    /// Whether an index can provide it (no direct URL).
    pub fn is_installable(&self) -> bool {
        self.url.is_none()
    }

    /// Whether the marker (if any) holds in `env`.
    pub fn applies(&self, env: &MarkerEnv) -> bool {
        self.marker.as_ref().is_none_or(|m| m.evaluate(env))
    }

    /// The requirement without its marker, as pip takes it
    /// (`pytest[testing]>=8,<9`).
    pub fn to_pip_string(&self) -> String {
        let mut s = self.name.clone();
        if !self.extras.is_empty() {
            s.push('[');
            s.push_str(&self.extras.join(","));
            s.push(']');
        }
        if let Some(url) = &self.url {
            s.push_str(" @ ");
            s.push_str(url);
        } else {
            let specs: Vec<String> = self.specifiers.iter().map(Specifier::to_string).collect();
            s.push_str(&specs.join(","));
        }
        s
    }
}

impl fmt::Display for Requirement {
    /// The requirement in PEP 508 form, marker included.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_pip_string())?;
        if let Some(m) = &self.marker {
            write!(f, " ; {m}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> MarkerEnv {
        MarkerEnv::pyodide("3.14.2", "4.0.9")
    }

    fn holds(marker: &str) -> bool {
        Marker::parse(marker)
            .unwrap_or_else(|e| panic!("{e}"))
            .evaluate(&env())
    }

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize_name("Pydantic_Core"), "pydantic-core");
        assert_eq!(normalize_name("zope.interface"), "zope-interface");
        assert_eq!(normalize_name("a-_.b"), "a-b");
    }

    #[test]
    fn parses_requirements() {
        let r = Requirement::parse("Pytest[Testing, extra_x] (>=7.0, <9)").unwrap();
        assert_eq!(r.name, "Pytest");
        assert_eq!(r.normalized_name(), "pytest");
        assert_eq!(r.extras, ["testing", "extra-x"]);
        assert_eq!(r.to_pip_string(), "Pytest[testing,extra-x]>=7.0,<9");
        let r = Requirement::parse("hypothesis>=6;python_version>='3.9'").unwrap();
        assert_eq!(r.to_string(), "hypothesis>=6 ; python_version >= \"3.9\"");
        let r = Requirement::parse("foo @ https://x.invalid/foo.zip#egg=foo ; os_name == 'nt'")
            .unwrap();
        assert_eq!(r.url.as_deref(), Some("https://x.invalid/foo.zip#egg=foo"));
        assert!(!r.is_installable());
        assert!(!r.applies(&env()));
        let r = Requirement::parse("numpy==2.*").unwrap();
        assert_eq!(r.specifiers[0].version, "2.*");
        for bad in [
            "",
            ">=1",
            "foo >= ",
            "foo[bar",
            "foo ; ",
            "foo ; bogus == '1'",
            "-foo",
        ] {
            assert!(Requirement::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn evaluates_markers() {
        assert!(holds("python_version >= '3.9'"));
        assert!(holds("python_version > '3.9'"), "3.14 > 3.9 as versions");
        assert!(!holds("python_version < '3.10'"));
        assert!(holds("python_full_version >= '3.14.1'"));
        assert!(holds("python_version == '3.*'"));
        assert!(holds("python_version ~= '3.12'"));
        assert!(holds("sys_platform == 'emscripten'"));
        assert!(!holds(
            "sys_platform == 'linux' or sys_platform == 'darwin'"
        ));
        assert!(holds(
            "sys_platform != 'win32' and (implementation_name == 'cpython' or os_name == 'nt')"
        ));
        assert!(!holds("platform_python_implementation == 'PyPy'"));
        assert!(holds("'wasm' in platform_machine"));
        assert!(holds("platform_machine not in 'x86_64 aarch64'"));
        assert!(holds("'3.14' in python_version"));
        assert!(holds("platform_system != \"Windows\""));
        assert!(holds("os.name == 'posix'"), "legacy dotted name");
        assert!(!holds("extra == 'test'"));
        assert!(holds("platform_release >= '4'"));
    }

    #[test]
    fn evaluates_extras_normalised() {
        let m = Marker::parse("extra == 'Test_Suite'").unwrap();
        assert!(m.mentions_extra());
        assert!(m.evaluate(&env().with_extra("test-suite")));
        assert!(!m.evaluate(&env()));
        let m = Marker::parse("python_version < '3.10' and extra == 'test'").unwrap();
        assert_eq!(m.extra_names(), ["test"]);
        assert!(!m.evaluate(&env().with_extra("test")));
    }

    #[test]
    fn displays_nested_markers() {
        let m = Marker::parse("(os_name == 'nt' or os_name == 'posix') and extra == 'x'").unwrap();
        assert_eq!(
            m.to_string(),
            "(os_name == \"nt\" or os_name == \"posix\") and extra == \"x\""
        );
        let m = Marker::parse("a_b == '1' or python_version < '3'");
        assert!(m.is_err());
    }
}
