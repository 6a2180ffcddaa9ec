//! PEP 440 versions (parsing, normalisation, ordering) and version
//! specifiers (`>=1.2`, `~=2.0`, `==1.*`, ...), as far as marker
//! evaluation and requirement checks need them.

use std::cmp::Ordering;
use std::fmt;

/// The kind of a pre-release (`a` < `b` < `rc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PreKind {
    /// `a`, `alpha`.
    Alpha,
    /// `b`, `beta`.
    Beta,
    /// `rc`, `c`, `pre`, `preview`.
    Rc,
}

/// One segment of a local version label (`+ubuntu.1` has two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalSegment {
    /// A numeric segment (sorts after every alphanumeric one).
    Num(u64),
    /// An alphanumeric segment, lower-cased.
    Str(String),
}

/// A parsed PEP 440 version. Equality and ordering follow PEP 440
/// (`1.0 == 1.0.0`, `1.0.dev0 < 1.0a1 < 1.0 < 1.0.post1`).
#[derive(Debug, Clone)]
pub struct Version {
    /// `N!` (0 when absent).
    pub epoch: u64,
    /// The release segments, `1.2.3` -> `[1, 2, 3]`.
    pub release: Vec<u64>,
    /// Pre-release, `rc1` -> `(Rc, 1)`.
    pub pre: Option<(PreKind, u64)>,
    /// Post-release number.
    pub post: Option<u64>,
    /// Development release number.
    pub dev: Option<u64>,
    /// Local version label segments (empty when none).
    pub local: Vec<LocalSegment>,
}

/// Consume `word` (ASCII, lower-case) at the start of `s`.
fn eat<'a>(s: &'a str, word: &str) -> Option<&'a str> {
    s.strip_prefix(word)
}

/// Consume one optional separator (`.`, `-`, `_`).
fn eat_sep(s: &str) -> &str {
    s.strip_prefix(['.', '-', '_']).unwrap_or(s)
}

/// Consume a run of digits, returning its value.
fn eat_num(s: &str) -> Option<(u64, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    Some((s[..end].parse().ok()?, &s[end..]))
}

impl Version {
    /// Parse a version in any PEP 440 spelling (case, separators, `v`
    /// prefix, implicit numbers). `None` when it is not a valid version.
    pub fn parse(text: &str) -> Option<Version> {
        let lower = text.trim().to_ascii_lowercase();
        let mut s = lower.strip_prefix('v').unwrap_or(&lower);
        let mut epoch = 0;
        if let Some(bang) = s.find('!') {
            epoch = s[..bang].parse().ok()?;
            s = &s[bang + 1..];
        }
        let mut release = Vec::new();
        loop {
            let (n, rest) = eat_num(s)?;
            release.push(n);
            s = rest;
            match s.strip_prefix('.') {
                Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => s = rest,
                _ => break,
            }
        }
        let mut pre = None;
        {
            let t = eat_sep(s);
            let kinds = [
                ("preview", PreKind::Rc),
                ("alpha", PreKind::Alpha),
                ("beta", PreKind::Beta),
                ("pre", PreKind::Rc),
                ("rc", PreKind::Rc),
                ("a", PreKind::Alpha),
                ("b", PreKind::Beta),
                ("c", PreKind::Rc),
            ];
            if let Some((rest, kind)) = kinds
                .iter()
                .find_map(|(w, k)| eat(t, w).map(|rest| (rest, *k)))
            {
                let after = eat_sep(rest);
                match eat_num(after) {
                    Some((n, rest)) => {
                        pre = Some((kind, n));
                        s = rest;
                    }
                    None => {
                        pre = Some((kind, 0));
                        s = rest;
                    }
                }
            }
        }
        let mut post = None;
        if let Some(rest) = s.strip_prefix('-')
            && let Some((n, rest)) = eat_num(rest)
        {
            post = Some(n);
            s = rest;
        } else {
            let t = eat_sep(s);
            if let Some(rest) = ["post", "rev", "r"].iter().find_map(|w| eat(t, w)) {
                match eat_num(eat_sep(rest)) {
                    Some((n, rest)) => {
                        post = Some(n);
                        s = rest;
                    }
                    None => {
                        post = Some(0);
                        s = rest;
                    }
                }
            }
        }
        let mut dev = None;
        {
            let t = eat_sep(s);
            if let Some(rest) = eat(t, "dev") {
                match eat_num(eat_sep(rest)) {
                    Some((n, rest)) => {
                        dev = Some(n);
                        s = rest;
                    }
                    None => {
                        dev = Some(0);
                        s = rest;
                    }
                }
            }
        }
        let mut local = Vec::new();
        if let Some(rest) = s.strip_prefix('+') {
            for part in rest.split(['.', '-', '_']) {
                if part.is_empty() || !part.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return None;
                }
                local.push(match part.parse() {
                    Ok(n) if part.chars().all(|c| c.is_ascii_digit()) => LocalSegment::Num(n),
                    _ => LocalSegment::Str(part.to_string()),
                });
            }
            s = "";
        }
        if !s.is_empty() {
            return None;
        }
        Some(Version {
            epoch,
            release,
            pre,
            post,
            dev,
            local,
        })
    }

    /// True for pre-releases and development releases.
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }

    /// The version without its local label.
    pub fn public(&self) -> Version {
        Version {
            local: Vec::new(),
            ..self.clone()
        }
    }

    /// Epoch and release only (`1.2rc1.post3` -> `1.2`).
    pub fn base(&self) -> Version {
        Version {
            epoch: self.epoch,
            release: self.release.clone(),
            pre: None,
            post: None,
            dev: None,
            local: Vec::new(),
        }
    }

    /// The release with trailing zeros removed (for comparisons).
    fn trimmed_release(&self) -> &[u64] {
        let end = self
            .release
            .iter()
            .rposition(|&n| n != 0)
            .map_or(0, |i| i + 1);
        &self.release[..end]
    }
}

/// Sort key of the pre-release part: a bare dev release sorts before
/// any pre-release, a final release after all of them.
fn pre_key(v: &Version) -> (u8, Option<(PreKind, u64)>) {
    match (v.pre, v.post, v.dev) {
        (None, None, Some(_)) => (0, None),
        (Some(p), _, _) => (1, Some(p)),
        (None, _, _) => (2, None),
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| self.trimmed_release().cmp(other.trimmed_release()))
            .then_with(|| pre_key(self).cmp(&pre_key(other)))
            .then_with(|| self.post.cmp(&other.post))
            .then_with(|| match (self.dev, other.dev) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(&b),
            })
            .then_with(|| cmp_local(&self.local, &other.local))
    }
}

/// Local labels: none < any; numeric segments sort after alphanumeric
/// ones; a shorter label that is a prefix sorts first.
fn cmp_local(a: &[LocalSegment], b: &[LocalSegment]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (LocalSegment::Num(x), LocalSegment::Num(y)) => x.cmp(y),
            (LocalSegment::Str(x), LocalSegment::Str(y)) => x.cmp(y),
            (LocalSegment::Num(_), LocalSegment::Str(_)) => Ordering::Greater,
            (LocalSegment::Str(_), LocalSegment::Num(_)) => Ordering::Less,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl fmt::Display for Version {
    /// The normalised form (`1.0-RC.1` -> `1.0rc1`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}!", self.epoch)?;
        }
        let release: Vec<String> = self.release.iter().map(u64::to_string).collect();
        f.write_str(&release.join("."))?;
        if let Some((kind, n)) = self.pre {
            let k = match kind {
                PreKind::Alpha => "a",
                PreKind::Beta => "b",
                PreKind::Rc => "rc",
            };
            write!(f, "{k}{n}")?;
        }
        if let Some(n) = self.post {
            write!(f, ".post{n}")?;
        }
        if let Some(n) = self.dev {
            write!(f, ".dev{n}")?;
        }
        if !self.local.is_empty() {
            let parts: Vec<String> = self
                .local
                .iter()
                .map(|s| match s {
                    LocalSegment::Num(n) => n.to_string(),
                    LocalSegment::Str(s) => s.clone(),
                })
                .collect();
            write!(f, "+{}", parts.join("."))?;
        }
        Ok(())
    }
}

/// A comparison operator of a version specifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `~=` (compatible release).
    Compatible,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<=`.
    Le,
    /// `>=`.
    Ge,
    /// `<`.
    Lt,
    /// `>`.
    Gt,
    /// `===` (arbitrary string equality).
    Arbitrary,
}

impl Op {
    /// Every operator with its spelling, longest first (for parsing).
    pub const ALL: [(&'static str, Op); 8] = [
        ("===", Op::Arbitrary),
        ("~=", Op::Compatible),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];

    /// The operator's spelling.
    pub fn as_str(self) -> &'static str {
        Op::ALL
            .iter()
            .find(|(_, o)| *o == self)
            .map_or("", |(s, _)| s)
    }

    /// Parse an operator at the start of `s`: the operator and the rest.
    pub fn parse_prefix(s: &str) -> Option<(Op, &str)> {
        Op::ALL
            .iter()
            .find_map(|(w, op)| s.strip_prefix(w).map(|rest| (*op, rest)))
    }
}

/// One version specifier clause, `>=1.2` or `==3.*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Specifier {
    /// The operator.
    pub op: Op,
    /// The version as written (may end in `.*` for `==`/`!=`).
    pub version: String,
}

impl fmt::Display for Specifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.op.as_str(), self.version)
    }
}

impl Specifier {
    /// Whether the specifier is well formed (its version parses, a
    /// `.*` only after `==`/`!=`, `~=` with at least two segments).
    pub fn is_valid(&self) -> bool {
        match self.op {
            Op::Arbitrary => !self.version.is_empty(),
            Op::Eq | Op::Ne => match self.version.strip_suffix(".*") {
                Some(prefix) => Version::parse(prefix).is_some_and(|v| v.local.is_empty()),
                None => Version::parse(&self.version).is_some(),
            },
            Op::Compatible => Version::parse(&self.version)
                .is_some_and(|v| v.release.len() >= 2 && v.local.is_empty()),
            _ => Version::parse(&self.version).is_some_and(|v| v.local.is_empty()),
        }
    }

    /// Whether `candidate` satisfies this clause (pre-releases are
    /// allowed, as in marker evaluation). An invalid specifier matches
    /// nothing.
    pub fn contains(&self, candidate: &Version) -> bool {
        if self.op == Op::Arbitrary {
            return candidate.to_string() == self.version.trim().to_ascii_lowercase();
        }
        if !self.is_valid() {
            return false;
        }
        if let Some(prefix) = self.version.strip_suffix(".*") {
            let Some(prefix) = Version::parse(prefix) else {
                return false;
            };
            let m = prefix_match(&prefix, candidate);
            return if self.op == Op::Eq { m } else { !m };
        }
        let Some(spec) = Version::parse(&self.version) else {
            return false;
        };
        match self.op {
            Op::Eq | Op::Ne => {
                let equal = if spec.local.is_empty() {
                    candidate.public() == spec
                } else {
                    *candidate == spec
                };
                (self.op == Op::Eq) == equal
            }
            Op::Le => candidate.public() <= spec,
            Op::Ge => candidate.public() >= spec,
            Op::Lt => {
                candidate.public() < spec
                    && !(!spec.is_prerelease()
                        && candidate.is_prerelease()
                        && candidate.base() == spec.base())
            }
            Op::Gt => {
                candidate.public() > spec
                    && !(spec.post.is_none()
                        && candidate.post.is_some()
                        && candidate.base() == spec.base())
                    && (candidate.local.is_empty() || candidate.base() != spec.base())
            }
            Op::Compatible => {
                let mut prefix = spec.base();
                prefix.release.pop();
                candidate.public() >= spec && prefix_match(&prefix, candidate)
            }
            Op::Arbitrary => unreachable!("handled above"),
        }
    }
}

/// `==prefix.*`: same epoch, and the candidate's release (padded with
/// zeros) starts with the prefix's release. A prefix with pre/post/dev
/// parts must match them exactly.
fn prefix_match(prefix: &Version, candidate: &Version) -> bool {
    if prefix.epoch != candidate.epoch {
        return false;
    }
    let n = prefix.release.len();
    let mut release = candidate.release.clone();
    if release.len() < n {
        release.resize(n, 0);
    }
    if release[..n] != prefix.release[..] {
        return false;
    }
    if prefix.pre.is_some() || prefix.post.is_some() || prefix.dev.is_some() {
        return (prefix.pre, prefix.post, prefix.dev)
            == (candidate.pre, candidate.post, candidate.dev);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap_or_else(|| panic!("bad version {s}"))
    }

    fn spec(op: Op, version: &str) -> Specifier {
        Specifier {
            op,
            version: version.into(),
        }
    }

    #[test]
    fn parses_and_normalises() {
        assert_eq!(v("1.0").to_string(), "1.0");
        assert_eq!(v("v1.0-RC.1").to_string(), "1.0rc1");
        assert_eq!(v("1.0alpha").to_string(), "1.0a0");
        assert_eq!(v("1.0-1").to_string(), "1.0.post1");
        assert_eq!(v("1.0.rev2").to_string(), "1.0.post2");
        assert_eq!(v("2!1.0.dev3").to_string(), "2!1.0.dev3");
        assert_eq!(v("1.0+Ubuntu-1").to_string(), "1.0+ubuntu.1");
        assert_eq!(v("3.14.0b2").pre, Some((PreKind::Beta, 2)));
        for bad in ["", "1.", "abc", "1.0+", "1.0 extra", "1..0"] {
            assert!(Version::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn orders_as_pep_440() {
        let ordered = [
            "1.0.dev0",
            "1.0a1.dev1",
            "1.0a1",
            "1.0b1",
            "1.0rc1",
            "1.0",
            "1.0+abc",
            "1.0+5",
            "1.0.post1.dev1",
            "1.0.post1",
            "1.1",
            "1!0.1",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("1.0"), v("1.0.0"));
        assert!(v("3.10") > v("3.9"));
    }

    #[test]
    fn specifiers_match() {
        assert!(spec(Op::Ge, "3.8").contains(&v("3.14")));
        assert!(!spec(Op::Lt, "3.10").contains(&v("3.14")));
        assert!(spec(Op::Eq, "3.*").contains(&v("3.14.2")));
        assert!(!spec(Op::Eq, "3.1.*").contains(&v("3.14.2")));
        assert!(spec(Op::Ne, "3.1.*").contains(&v("3.14.2")));
        assert!(spec(Op::Eq, "1.0").contains(&v("1.0+local")));
        assert!(!spec(Op::Eq, "1.0+other").contains(&v("1.0+local")));
        assert!(spec(Op::Compatible, "2.2").contains(&v("2.9")));
        assert!(!spec(Op::Compatible, "2.2").contains(&v("3.0")));
        assert!(!spec(Op::Compatible, "1.4.5").contains(&v("1.5")));
        assert!(!spec(Op::Lt, "3.14").contains(&v("3.14.0rc1")));
        assert!(spec(Op::Lt, "3.14rc2").contains(&v("3.14.0rc1")));
        assert!(!spec(Op::Gt, "1.0").contains(&v("1.0.post1")));
        assert!(spec(Op::Gt, "1.0").contains(&v("1.1")));
        assert!(spec(Op::Arbitrary, "1.0").contains(&v("1.0")));
        assert!(!spec(Op::Compatible, "1").is_valid());
        assert!(!spec(Op::Ge, "1.*").is_valid());
    }
}
