//! A small INI reader for `setup.cfg`, `tox.ini` and `pytest.ini`, with
//! the rules those tools' parsers share: `[section]` headers, `key = value`
//! or `key: value` (split at the first `=` or `:`), values continued on
//! indented lines (joined with `\n`), whole-line `#`/`;` comments (also
//! between continuation lines). Inline comments are kept: configparser
//! keeps them too, and each consumer strips them where its tool does.
//! Keys are looked up case-insensitively; a repeated section is merged,
//! a repeated key keeps its last value.

/// One `[section]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IniSection {
    /// The header's name, as written.
    pub name: String,
    /// `(key, value)` in file order, keys as written.
    pub entries: Vec<(String, String)>,
}

impl IniSection {
    /// The value of `key` (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The keys, in file order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    fn set(&mut self, key: String, value: String) {
        self.entries.retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
        self.entries.push((key, value));
    }
}

/// A parsed INI file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ini {
    /// The sections, in order of first appearance.
    pub sections: Vec<IniSection>,
}

/// The value's lines, trimmed, without empty ones.
pub fn value_lines(value: &str) -> impl Iterator<Item = &str> {
    value.lines().map(str::trim).filter(|l| !l.is_empty())
}

impl Ini {
    /// Parse INI text. Never fails: lines it cannot place are skipped.
    pub fn parse(text: &str) -> Ini {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut ini = Ini::default();
        // (section index, key) of the value being read, for continuations.
        let mut current: Option<(usize, String, String)> = None;
        let flush = |ini: &mut Ini, current: &mut Option<(usize, String, String)>| {
            if let Some((sec, key, value)) = current.take() {
                let value = value.trim_end().to_string();
                ini.sections[sec].set(key, value);
            }
        };
        for raw in text.lines() {
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                if let Some((_, _, value)) = current.as_mut() {
                    value.push('\n');
                }
                continue;
            }
            if trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let indented = raw.starts_with([' ', '\t']);
            if indented && let Some((_, _, value)) = current.as_mut() {
                value.push('\n');
                value.push_str(trimmed);
                continue;
            }
            flush(&mut ini, &mut current);
            if trimmed.starts_with('[')
                && let Some(close) = trimmed.rfind(']')
            {
                let name = trimmed[1..close].trim().to_string();
                if !ini.sections.iter().any(|s| s.name == name) {
                    ini.sections.push(IniSection {
                        name,
                        entries: Vec::new(),
                    });
                } else {
                    // Merge: move it to the end so new keys land in it.
                    let i = ini.sections.iter().position(|s| s.name == name);
                    if let Some(i) = i {
                        let s = ini.sections.remove(i);
                        ini.sections.push(s);
                    }
                }
                continue;
            }
            if ini.sections.is_empty() {
                continue; // text before any section
            }
            let sec = ini.sections.len() - 1;
            let (key, value) = match trimmed.find(['=', ':']) {
                Some(i) => (trimmed[..i].trim(), trimmed[i + 1..].trim()),
                None => (trimmed, ""),
            };
            current = Some((sec, key.to_string(), value.to_string()));
        }
        flush(&mut ini, &mut current);
        ini
    }

    /// The section named exactly `name`.
    pub fn section(&self, name: &str) -> Option<&IniSection> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// `[section] key`.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.section(section)?.get(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections_values_and_continuations() {
        let ini = Ini::parse(
            "top = ignored\n\
             [tool:pytest]\n\
             addopts = -ra --strict-markers  # kept\n\
             testpaths =\n    tests\n\n    # a comment\n    other\n\
             Markers: slow: marks slow tests\n\
             ; comment\n\
             [testenv]\n\
             deps =\n    pytest\n    -r requirements.txt\n\
             extras = test\n\
             [tool:pytest]\n\
             xfail_strict = true\n",
        );
        assert_eq!(ini.sections.len(), 2);
        let p = ini.section("tool:pytest").unwrap();
        assert_eq!(p.get("addopts"), Some("-ra --strict-markers  # kept"));
        assert_eq!(
            value_lines(p.get("testpaths").unwrap()).collect::<Vec<_>>(),
            ["tests", "other"]
        );
        assert_eq!(p.get("markers"), Some("slow: marks slow tests"));
        assert_eq!(p.get("xfail_strict"), Some("true"));
        assert_eq!(
            value_lines(ini.get("testenv", "deps").unwrap()).collect::<Vec<_>>(),
            ["pytest", "-r requirements.txt"]
        );
        assert_eq!(ini.get("testenv", "extras"), Some("test"));
        assert_eq!(ini.get("testenv", "missing"), None);
    }

    #[test]
    fn handles_bom_and_keys_with_colons() {
        let ini = Ini::parse("\u{feff}[options.extras_require]\ntest:python_version<'3.8' = foo\n");
        let s = ini.section("options.extras_require").unwrap();
        // Split at the first delimiter, as configparser does.
        assert_eq!(s.entries[0].0, "test");
    }
}
