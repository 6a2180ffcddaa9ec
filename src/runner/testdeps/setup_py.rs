//! A static, best-effort scan of `setup.py` for `extras_require` and
//! `tests_require`. Nothing is executed: the file is tokenized (strings,
//! names, punctuation; comments skipped) and only literal values are
//! read: string literals (adjacent ones concatenated; f-strings with
//! substitutions rejected), lists/tuples/sets of them, dicts with string
//! keys, `dict(key=...)`, `+` of lists, and names bound to such literals
//! by a plain `NAME = ...` assignment elsewhere in the file. Anything
//! else is reported as not understood.

/// What the scan found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetupPyScan {
    /// `extras_require` entries: (key as written, requirement strings).
    pub extras: Vec<(String, Vec<String>)>,
    /// `tests_require`, when found.
    pub tests_require: Option<Vec<String>>,
    /// What could not be read as a literal.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// A string literal (adjacent literals already joined).
    Str(String),
    /// An f-string with substitutions.
    FStr,
    Name(String),
    Punct(char),
    /// Numbers, multi-character operators, anything else.
    Other(String),
}

/// Tokenize Python source, coarsely.
fn tokenize(src: &str) -> Vec<Tok> {
    let chars: Vec<char> = src.chars().collect();
    let mut out: Vec<Tok> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c.is_whitespace() || c == '\\' {
            i += 1;
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let lower = word.to_ascii_lowercase();
            let is_prefix = matches!(
                lower.as_str(),
                "r" | "u" | "b" | "f" | "rb" | "br" | "fr" | "rf"
            );
            if is_prefix && i < chars.len() && (chars[i] == '"' || chars[i] == '\'') {
                let (s, next) = read_string(&chars, i, lower.contains('r'));
                i = next;
                let tok = if lower.contains('f') && s.contains('{') {
                    Tok::FStr
                } else {
                    Tok::Str(s)
                };
                push_str(&mut out, tok);
            } else {
                out.push(Tok::Name(word));
            }
            continue;
        }
        if c == '"' || c == '\'' {
            let (s, next) = read_string(&chars, i, false);
            i = next;
            push_str(&mut out, Tok::Str(s));
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '.' || chars[i] == '_')
            {
                i += 1;
            }
            out.push(Tok::Other(chars[start..i].iter().collect()));
            continue;
        }
        if matches!(c, '=' | '!' | '<' | '>' | '*') && chars.get(i + 1) == Some(&'=')
            || c == '*' && chars.get(i + 1) == Some(&'*')
        {
            out.push(Tok::Other(chars[i..i + 2].iter().collect()));
            i += 2;
            continue;
        }
        out.push(Tok::Punct(c));
        i += 1;
    }
    out
}

/// Append a string token, joining it to a preceding literal.
fn push_str(out: &mut Vec<Tok>, tok: Tok) {
    match (out.last_mut(), tok) {
        (Some(Tok::Str(prev)), Tok::Str(s)) => prev.push_str(&s),
        (Some(last @ Tok::Str(_)), Tok::FStr) => *last = Tok::FStr,
        (Some(Tok::FStr), _) => {}
        (_, tok) => out.push(tok),
    }
}

/// Read a string literal starting at the quote `chars[i]`: its value and
/// the index after it.
fn read_string(chars: &[char], i: usize, raw: bool) -> (String, usize) {
    let q = chars[i];
    let triple = chars.get(i + 1) == Some(&q) && chars.get(i + 2) == Some(&q);
    let mut j = if triple { i + 3 } else { i + 1 };
    let mut s = String::new();
    while j < chars.len() {
        let c = chars[j];
        if c == '\\' && j + 1 < chars.len() {
            let e = chars[j + 1];
            j += 2;
            if raw {
                s.push('\\');
                s.push(e);
                continue;
            }
            match e {
                '\n' => {}
                'n' => s.push('\n'),
                't' => s.push('\t'),
                '\\' | '\'' | '"' => s.push(e),
                _ => {
                    s.push('\\');
                    s.push(e);
                }
            }
            continue;
        }
        if c == q {
            if !triple {
                return (s, j + 1);
            }
            if chars.get(j + 1) == Some(&q) && chars.get(j + 2) == Some(&q) {
                return (s, j + 3);
            }
        }
        if c == '\n' && !triple {
            return (s, j);
        }
        s.push(c);
        j += 1;
    }
    (s, j)
}

/// A literal value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Val {
    Str(String),
    List(Vec<Val>),
    Dict(Vec<(String, Val)>),
}

struct Parser<'a> {
    toks: &'a [Tok],
}

const MAX_DEPTH: usize = 8;

impl Parser<'_> {
    fn describe(&self, pos: usize) -> String {
        match self.toks.get(pos) {
            Some(Tok::Name(n)) => format!("`{n}`"),
            Some(Tok::Str(s)) => format!("{s:?}"),
            Some(Tok::FStr) => "an f-string".into(),
            Some(Tok::Punct(c)) => format!("`{c}`"),
            Some(Tok::Other(o)) => format!("`{o}`"),
            None => "end of file".into(),
        }
    }

    /// A value at `pos`, with `+` concatenation: (value, next position).
    fn value(&self, pos: usize, depth: usize) -> Result<(Val, usize), String> {
        let (mut v, mut pos) = self.atom(pos, depth)?;
        while self.toks.get(pos) == Some(&Tok::Punct('+')) {
            let (rhs, next) = self.atom(pos + 1, depth)?;
            v = match (v, rhs) {
                (Val::List(mut a), Val::List(b)) => {
                    a.extend(b);
                    Val::List(a)
                }
                (Val::Str(a), Val::Str(b)) => Val::Str(a + &b),
                _ => return Err("`+` of values of different kinds".into()),
            };
            pos = next;
        }
        Ok((v, pos))
    }

    fn atom(&self, pos: usize, depth: usize) -> Result<(Val, usize), String> {
        if depth > MAX_DEPTH {
            return Err("names nested too deeply".into());
        }
        match self.toks.get(pos) {
            Some(Tok::Str(s)) => Ok((Val::Str(s.clone()), pos + 1)),
            Some(Tok::Punct(open @ ('[' | '('))) => {
                let close = if *open == '[' { ']' } else { ')' };
                self.seq(pos + 1, close, depth)
            }
            Some(Tok::Punct('{')) => self.dict_or_set(pos + 1, depth),
            Some(Tok::Name(n))
                if n == "dict" && self.toks.get(pos + 1) == Some(&Tok::Punct('(')) =>
            {
                self.dict_call(pos + 2, depth)
            }
            Some(Tok::Name(n)) => {
                let n = n.clone();
                let def = self
                    .binding(&n, pos)
                    .ok_or_else(|| format!("`{n}` is not bound to a literal"))?;
                let (v, _) = self.value(def, depth + 1)?;
                Ok((v, pos + 1))
            }
            _ => Err(format!("{} is not a literal", self.describe(pos))),
        }
    }

    /// Elements up to `close`.
    fn seq(&self, mut pos: usize, close: char, depth: usize) -> Result<(Val, usize), String> {
        let mut items = Vec::new();
        loop {
            if self.toks.get(pos) == Some(&Tok::Punct(close)) {
                return Ok((Val::List(items), pos + 1));
            }
            let (v, next) = self.value(pos, depth)?;
            items.push(v);
            pos = next;
            match self.toks.get(pos) {
                Some(Tok::Punct(',')) => pos += 1,
                Some(Tok::Punct(c)) if *c == close => {}
                _ => return Err(format!("{} in a list is not a literal", self.describe(pos))),
            }
        }
    }

    fn dict_or_set(&self, mut pos: usize, depth: usize) -> Result<(Val, usize), String> {
        let mut entries = Vec::new();
        loop {
            if self.toks.get(pos) == Some(&Tok::Punct('}')) {
                return Ok((Val::Dict(entries), pos + 1));
            }
            let (k, next) = self.value(pos, depth)?;
            if entries.is_empty() && matches!(self.toks.get(next), Some(Tok::Punct(',' | '}'))) {
                // A set literal: read as a list.
                let mut items = vec![k];
                let mut pos = next;
                loop {
                    match self.toks.get(pos) {
                        Some(Tok::Punct('}')) => return Ok((Val::List(items), pos + 1)),
                        Some(Tok::Punct(',')) => pos += 1,
                        _ => return Err(format!("{} in a set", self.describe(pos))),
                    }
                    if self.toks.get(pos) == Some(&Tok::Punct('}')) {
                        continue;
                    }
                    let (v, n) = self.value(pos, depth)?;
                    items.push(v);
                    pos = n;
                }
            }
            let Val::Str(key) = k else {
                return Err("a dict key is not a string".into());
            };
            if self.toks.get(next) != Some(&Tok::Punct(':')) {
                return Err(format!("{} after a dict key", self.describe(next)));
            }
            let (v, next) = self.value(next + 1, depth)?;
            entries.push((key, v));
            pos = next;
            match self.toks.get(pos) {
                Some(Tok::Punct(',')) => pos += 1,
                Some(Tok::Punct('}')) => {}
                _ => return Err(format!("{} in a dict is not a literal", self.describe(pos))),
            }
        }
    }

    fn dict_call(&self, mut pos: usize, depth: usize) -> Result<(Val, usize), String> {
        let mut entries = Vec::new();
        loop {
            match (self.toks.get(pos), self.toks.get(pos + 1)) {
                (Some(Tok::Punct(')')), _) => return Ok((Val::Dict(entries), pos + 1)),
                (Some(Tok::Name(k)), Some(Tok::Punct('='))) => {
                    let (v, next) = self.value(pos + 2, depth)?;
                    entries.push((k.clone(), v));
                    pos = next;
                    match self.toks.get(pos) {
                        Some(Tok::Punct(',')) => pos += 1,
                        Some(Tok::Punct(')')) => {}
                        _ => return Err(format!("{} in dict(...)", self.describe(pos))),
                    }
                }
                _ => return Err(format!("{} in dict(...)", self.describe(pos))),
            }
        }
    }

    /// Where `NAME = ...` binds `name`: the last such assignment before
    /// `used_at`, else the first after it. The value's position.
    fn binding(&self, name: &str, used_at: usize) -> Option<usize> {
        let sites: Vec<usize> = (0..self.toks.len().saturating_sub(1))
            .filter(|&i| {
                self.toks[i] == Tok::Name(name.to_string())
                    && self.toks[i + 1] == Tok::Punct('=')
                    && (i == 0 || !matches!(self.toks[i - 1], Tok::Punct('.' | '(' | ',')))
            })
            .map(|i| i + 2)
            .collect();
        sites
            .iter()
            .rev()
            .find(|&&s| s < used_at)
            .or_else(|| sites.first())
            .copied()
    }

    /// Positions of the values given to `key` (`key=...` or `"key": ...`).
    fn uses(&self, key: &str) -> Vec<usize> {
        (0..self.toks.len().saturating_sub(1))
            .filter(|&i| match (&self.toks[i], &self.toks[i + 1]) {
                (Tok::Name(n), Tok::Punct('=')) => n == key,
                (Tok::Str(s), Tok::Punct(':')) => s == key,
                _ => false,
            })
            .map(|i| i + 2)
            .collect()
    }
}

/// A value as a list of requirement strings (a string counts as its
/// non-empty lines).
fn strings(v: &Val) -> Result<Vec<String>, String> {
    match v {
        Val::Str(s) => Ok(s
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()),
        Val::List(items) => {
            let mut out = Vec::new();
            for i in items {
                match i {
                    Val::Str(s) => out.push(s.trim().to_string()),
                    _ => return Err("a list item is not a string".into()),
                }
            }
            Ok(out)
        }
        Val::Dict(_) => Err("a dict where a list was expected".into()),
    }
}

/// Scan `setup.py` source text.
pub fn scan(src: &str) -> SetupPyScan {
    let toks = tokenize(src);
    let p = Parser { toks: &toks };
    let mut out = SetupPyScan::default();
    for at in p.uses("extras_require") {
        match p.value(at, 0) {
            Ok((Val::Dict(entries), _)) => {
                for (k, v) in entries {
                    match strings(&v) {
                        Ok(reqs) => out.extras.push((k, reqs)),
                        Err(e) => out.problems.push(format!("extras_require[{k:?}]: {e}")),
                    }
                }
            }
            Ok(_) => out.problems.push("extras_require is not a dict".into()),
            Err(e) => out.problems.push(format!("extras_require: {e}")),
        }
    }
    for at in p.uses("tests_require") {
        match p.value(at, 0).and_then(|(v, _)| strings(&v)) {
            Ok(reqs) => out.tests_require.get_or_insert_with(Vec::new).extend(reqs),
            Err(e) => out.problems.push(format!("tests_require: {e}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_literal_extras() {
        let src = r#"
import os  # extras_require = {"x": os.environ}
TESTS = ["pytest>=7", 'hypothesis' "[cli]"]
BASE = ("attrs",)
EXTRAS = {
    "tests": TESTS + ["pytz"],
    'dev': BASE + ("tox",),
    "docs": """sphinx
        furo""",
}
setup(
    name="demo",
    extras_require=EXTRAS,
    tests_require=TESTS,
)
"#;
        let s = scan(src);
        assert_eq!(s.problems, Vec::<String>::new());
        assert_eq!(
            s.extras,
            [
                (
                    "tests".to_string(),
                    vec![
                        "pytest>=7".to_string(),
                        "hypothesis[cli]".into(),
                        "pytz".into()
                    ]
                ),
                ("dev".to_string(), vec!["attrs".to_string(), "tox".into()]),
                (
                    "docs".to_string(),
                    vec!["sphinx".to_string(), "furo".into()]
                ),
            ]
        );
        assert_eq!(
            s.tests_require,
            Some(vec!["pytest>=7".to_string(), "hypothesis[cli]".into()])
        );
    }

    #[test]
    fn reads_dict_calls_and_keyword_dicts() {
        let s = scan("kw = {'extras_require': dict(test=['pytest'], speed={'cython'})}\n");
        assert_eq!(
            s.extras,
            [
                ("test".to_string(), vec!["pytest".to_string()]),
                ("speed".to_string(), vec!["cython".to_string()]),
            ]
        );
    }

    #[test]
    fn reports_non_literals() {
        let s = scan(
            "setup(extras_require={'test': [r for r in open('req.txt')]}, tests_require=get())",
        );
        assert_eq!(s.extras, []);
        assert_eq!(s.problems.len(), 2, "{:?}", s.problems);
        let s = scan("setup(extras_require={'test': [f'pkg=={V}']})");
        assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
        let s = scan("setup(extras_require=EXTRAS)");
        assert!(s.problems[0].contains("not bound"), "{:?}", s.problems);
    }
}
