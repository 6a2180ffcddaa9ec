//! Shell-style patterns as pytest applies them: `fnmatch` (`*`, `?`,
//! `[seq]`, `[!seq]`; `*` also crosses `/`), matched against a basename
//! when the pattern has no `/`, else against the whole relative path
//! (as if prefixed with `*/`); and `glob` for `testpaths` (per path
//! component, `**` for any depth, hidden entries only when asked for).

use std::path::{Path, PathBuf};

/// Python's `fnmatch.fnmatchcase` on strings (case-sensitive).
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> bool {
    let (mut pi, mut ni) = (0, 0);
    // Backtracking point for the last `*`: (pattern index after it, name index).
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi + 1, ni));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, len)) = class(&p[pi..], n[ni]) {
                        if matched {
                            pi += len;
                            ni += 1;
                            continue;
                        }
                    } else if n[ni] == '[' {
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
                c if c == n[ni] => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// A `[...]` class at the start of `p`: (does `c` match, its length), or
/// `None` when unterminated (then `[` is literal).
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = p.get(i) == Some(&'!');
    if negate {
        i += 1;
    }
    let start = i;
    let mut matched = false;
    while i < p.len() && (p[i] != ']' || i == start) {
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if p[i] <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    if i >= p.len() {
        return None;
    }
    Some((matched != negate, i + 1))
}

/// pytest's `fnmatch_ex`: a pattern without `/` matches the basename of
/// `rel` (a `/`-separated path relative to the root), one with `/`
/// matches the end of the path.
pub fn fnmatch_path(pattern: &str, rel: &str) -> bool {
    let pattern = pattern.trim_end_matches('/');
    if !pattern.contains('/') {
        let base = rel.rsplit('/').next().unwrap_or(rel);
        return fnmatch(pattern, base);
    }
    let pattern = pattern.trim_start_matches("./");
    fnmatch(pattern, rel) || fnmatch(&format!("*/{pattern}"), rel)
}

/// A `/`-separated relative path for display and matching.
pub fn rel_string(path: &Path) -> String {
    let s: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if s.is_empty() {
        ".".into()
    } else {
        s.join("/")
    }
}

fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Python's `glob.glob(pattern, recursive=True)` relative to `base`:
/// existing paths (files or directories) matching `pattern`, sorted,
/// relative to `base`. Hidden names only match patterns that start
/// with `.`. Symlinked directories are not followed by `**`.
pub fn glob(base: &Path, pattern: &str) -> Vec<PathBuf> {
    let pattern = pattern.trim().trim_start_matches("./");
    let pattern = pattern.trim_end_matches('/');
    if pattern.is_empty() {
        return Vec::new();
    }
    if !has_magic(pattern) {
        return if base.join(pattern).exists() {
            vec![PathBuf::from(pattern)]
        } else {
            Vec::new()
        };
    }
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    let mut found = Vec::new();
    walk_glob(base, PathBuf::new(), &parts, &mut found);
    found.sort();
    found.dedup();
    found
}

fn walk_glob(base: &Path, rel: PathBuf, parts: &[&str], out: &mut Vec<PathBuf>) {
    let Some((first, rest)) = parts.split_first() else {
        out.push(rel);
        return;
    };
    let dir = base.join(&rel);
    if *first == "**" {
        // Zero directories...
        walk_glob(base, rel.clone(), rest, out);
        // ...or one more, then `**` again.
        for (name, is_dir) in entries(&dir) {
            if is_dir && !name.starts_with('.') {
                walk_glob(base, rel.join(&name), parts, out);
            }
        }
        return;
    }
    if !has_magic(first) {
        let next = rel.join(first);
        if base.join(&next).exists() {
            walk_glob(base, next, rest, out);
        }
        return;
    }
    for (name, is_dir) in entries(&dir) {
        if name.starts_with('.') && !first.starts_with('.') {
            continue;
        }
        if fnmatch(first, &name) && (rest.is_empty() || is_dir) {
            walk_glob(base, rel.join(&name), rest, out);
        }
    }
}

/// The entries of `dir`: (name, is a real directory), sorted.
fn entries(dir: &Path) -> Vec<(String, bool)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<(String, bool)> = rd
        .flatten()
        .map(|e| {
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            (e.file_name().to_string_lossy().into_owned(), is_dir)
        })
        .collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_like_python() {
        assert!(fnmatch("test_*.py", "test_foo.py"));
        assert!(!fnmatch("test_*.py", "foo_test.py"));
        assert!(fnmatch("*_test.py", "foo_test.py"));
        assert!(fnmatch("*.egg-info", "x.egg-info"));
        assert!(fnmatch("check_?.py", "check_1.py"));
        assert!(fnmatch("[!_]*", "abc"));
        assert!(!fnmatch("[!_]*", "_abc"));
        assert!(fnmatch("[a-c]x", "bx"));
        assert!(fnmatch("a*b*c", "aXbYbZc"));
        assert!(fnmatch("*", ""));
        assert!(!fnmatch("a", "ab"));
        assert!(fnmatch("[", "["));
    }

    #[test]
    fn fnmatch_paths_as_pytest() {
        assert!(fnmatch_path("build", "sub/build"));
        assert!(fnmatch_path("docs/_build", "docs/_build"));
        assert!(fnmatch_path("docs/_build", "x/docs/_build"));
        assert!(!fnmatch_path("docs/_build", "docs/_buildx"));
        assert!(fnmatch_path(".*", ".git"));
    }

    #[test]
    fn globs_relative_paths() {
        let d = tempfile::tempdir().unwrap();
        for f in [
            "tests/a/test_x.py",
            "src/pkg/tests/test_y.py",
            ".hidden/tests/t.py",
            "crates/foo-python/tests/test_z.py",
        ] {
            let p = d.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
        let g =
            |p: &str| -> Vec<String> { glob(d.path(), p).iter().map(|p| rel_string(p)).collect() };
        assert_eq!(g("tests"), ["tests"]);
        assert_eq!(g("./tests/"), ["tests"]);
        assert_eq!(g("missing"), Vec::<String>::new());
        assert_eq!(g("src/*/tests"), ["src/pkg/tests"]);
        assert_eq!(
            g("**/tests"),
            ["crates/foo-python/tests", "src/pkg/tests", "tests"]
        );
        assert_eq!(g("crates/*-python/tests"), ["crates/foo-python/tests"]);
        assert_eq!(g("tests/*/test_*.py"), ["tests/a/test_x.py"]);
    }
}
