//! pip requirements files (`requirements-test.txt`, tox `deps`): one
//! item a line, `\` continuations, `#` comments (at the start or after
//! whitespace), `-r`/`--requirement` includes (relative to the including
//! file, cycles detected), `-c`/`--constraint` files, `-e`/`--editable`
//! and local paths (`.`, `./sub`, `.[test]`), direct URLs, and global
//! options (`--index-url`, `--find-links`, `--pre`, ...: ignored, noted).
//! `${VAR}` placeholders are left as written.

use std::path::{Path, PathBuf};

use super::requirement::{ParseError, Requirement, normalize_name};

/// What one logical line of a requirements file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReqLine {
    /// A PEP 508 requirement.
    Requirement(Requirement),
    /// `-r FILE` (`constraint: false`) or `-c FILE` (`constraint: true`).
    Include {
        /// The file, as written.
        path: String,
        /// Whether it is a constraints file.
        constraint: bool,
    },
    /// A local path, editable or not: `.`, `-e .[test]`, `../other`.
    LocalPath {
        /// The path, as written (without extras).
        path: String,
        /// Extras requested on it, normalised.
        extras: Vec<String>,
        /// Given with `-e`/`--editable`.
        editable: bool,
    },
    /// A bare URL or archive/wheel file (`git+https://...`, `foo.whl`).
    Url(String),
    /// A global option that does not name a requirement (ignored).
    Option(String),
}

/// Remove a `#` comment: at the line start or after whitespace.
pub fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && i > 0 && bytes[i - 1].is_ascii_whitespace() {
            return line[..i].trim_end();
        }
    }
    line.trim_end()
}

/// Join `\`-continued lines and drop comments and blank lines.
pub fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut acc = String::new();
    for raw in text.lines() {
        if let Some(head) = raw.strip_suffix('\\') {
            acc.push_str(head);
            continue;
        }
        acc.push_str(raw);
        let line = strip_comment(&acc).trim().to_string();
        if !line.is_empty() {
            out.push(line);
        }
        acc.clear();
    }
    let line = strip_comment(&acc).trim().to_string();
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// Split `path[extra1,extra2]` into the path and its extras.
fn split_extras(s: &str) -> (String, Vec<String>) {
    if let Some(open) = s.find('[')
        && s.ends_with(']')
    {
        let extras = s[open + 1..s.len() - 1]
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(normalize_name)
            .collect();
        return (s[..open].to_string(), extras);
    }
    (s.to_string(), Vec::new())
}

fn looks_like_path(s: &str) -> bool {
    s == "."
        || s == ".."
        || s.starts_with("./")
        || s.starts_with("../")
        || s.starts_with('/')
        || s.starts_with("file:")
        || s.starts_with("{toxinidir}")
}

fn looks_like_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    lower.contains("://")
        || [".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz"]
            .iter()
            .any(|ext| lower.ends_with(ext))
}

/// The value of an option given as `-r FILE`, `-rFILE`, `--requirement FILE`
/// or `--requirement=FILE`.
fn option_value<'a>(line: &'a str, short: &str, long: &str) -> Option<&'a str> {
    if let Some(rest) = line.strip_prefix(long) {
        if let Some(v) = rest.strip_prefix('=') {
            return Some(v.trim());
        }
        if rest.starts_with(char::is_whitespace) {
            return Some(rest.trim());
        }
        return None;
    }
    line.strip_prefix(short).map(str::trim)
}

/// Interpret one logical line (comments already removed). Per-requirement
/// `--hash=...` options are removed from a requirement line.
pub fn parse_line(line: &str) -> Result<ReqLine, ParseError> {
    let line = line.trim();
    for (short, long, constraint) in [("-r", "--requirement", false), ("-c", "--constraint", true)]
    {
        if let Some(path) = option_value(line, short, long) {
            return Ok(ReqLine::Include {
                path: path.to_string(),
                constraint,
            });
        }
    }
    if let Some(target) = option_value(line, "-e", "--editable") {
        let (path, extras) = split_extras(target);
        if looks_like_url(&path) && !looks_like_path(&path) {
            return Ok(ReqLine::Url(target.to_string()));
        }
        return Ok(ReqLine::LocalPath {
            path,
            extras,
            editable: true,
        });
    }
    if line.starts_with('-') {
        // `--index-url`, `--find-links`, `--pre`, `--no-binary`, ...
        return Ok(ReqLine::Option(line.to_string()));
    }
    // Drop per-requirement options (`--hash=sha256:...`).
    let line = match line.find(" --") {
        Some(i) => line[..i].trim(),
        None => line,
    };
    let (head, _) = split_extras(line.split(';').next().unwrap_or(line).trim());
    if looks_like_path(&head) {
        let (path, extras) = split_extras(line.split(';').next().unwrap_or(line).trim());
        return Ok(ReqLine::LocalPath {
            path,
            extras,
            editable: false,
        });
    }
    match Requirement::parse(line) {
        Ok(r) => Ok(ReqLine::Requirement(r)),
        Err(e) => {
            if looks_like_url(line) {
                Ok(ReqLine::Url(line.to_string()))
            } else {
                Err(e)
            }
        }
    }
}

/// A line of a requirements file with where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedLine {
    /// The file it came from, relative to the sdist root.
    pub file: String,
    /// The include chain that led to it (`a.txt -> b.txt`), ending in `file`.
    pub chain: String,
    /// The interpreted line (or why it is not understood, and its text).
    pub line: Result<ReqLine, (String, ParseError)>,
    /// Read through a `-c` include (a constraint, not a requirement).
    pub constraint: bool,
}

/// Read a requirements file and the files it includes, depth first, in
/// order. `rel` is relative to `root`. Files in `seen` (already read,
/// e.g. included twice) are skipped; every file read is added to it.
/// Missing files, include cycles and includes leaving `root` are
/// reported as errors in the returned lines.
pub fn read_file(root: &Path, rel: &Path, seen: &mut Vec<PathBuf>) -> Vec<SourcedLine> {
    let mut out = Vec::new();
    let mut stack = Vec::new();
    read_into(root, rel, false, &mut stack, seen, &mut out);
    out
}

fn rel_display(p: &Path) -> String {
    super::pattern::rel_string(p)
}

/// Normalise `a/./b/../c` lexically (no file system access).
pub fn clean_path(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            std::path::Component::Normal(n) => out.push(n),
            _ => return None,
        }
    }
    Some(out)
}

fn read_into(
    root: &Path,
    rel: &Path,
    constraint: bool,
    stack: &mut Vec<PathBuf>,
    seen: &mut Vec<PathBuf>,
    out: &mut Vec<SourcedLine>,
) {
    let file = rel_display(rel);
    let chain: String = stack
        .iter()
        .map(|p| rel_display(p))
        .chain([file.clone()])
        .collect::<Vec<_>>()
        .join(" -> ");
    let fail = |out: &mut Vec<SourcedLine>, message: String| {
        out.push(SourcedLine {
            file: file.clone(),
            chain: chain.clone(),
            line: Err((String::new(), ParseError { message })),
            constraint,
        });
    };
    if stack.iter().any(|p| p == rel) {
        fail(out, format!("include cycle: {file} includes itself"));
        return;
    }
    if seen.iter().any(|p| p == rel) {
        return;
    }
    seen.push(rel.to_path_buf());
    let text = match std::fs::read_to_string(root.join(rel)) {
        Ok(t) => t,
        Err(e) => {
            fail(out, format!("cannot read {file}: {e}"));
            return;
        }
    };
    stack.push(rel.to_path_buf());
    let dir = rel.parent().unwrap_or(Path::new(""));
    for line in logical_lines(&text) {
        match parse_line(&line) {
            Ok(ReqLine::Include {
                path,
                constraint: c,
            }) => {
                if path.contains("://") {
                    fail(out, format!("remote include `{line}` not followed"));
                    continue;
                }
                let path = path.replace("{toxinidir}/", "");
                match clean_path(&dir.join(&path)) {
                    Some(inc) => read_into(root, &inc, constraint || c, stack, seen, out),
                    None => fail(out, format!("include `{line}` leaves the sdist")),
                }
            }
            Ok(l) => out.push(SourcedLine {
                file: file.clone(),
                chain: chain.clone(),
                line: Ok(l),
                constraint,
            }),
            Err(e) => out.push(SourcedLine {
                file: file.clone(),
                chain: chain.clone(),
                line: Err((line.clone(), e)),
                constraint,
            }),
        }
    }
    stack.pop();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &str) -> ReqLine {
        ReqLine::Requirement(Requirement::parse(s).unwrap())
    }

    #[test]
    fn interprets_lines() {
        assert_eq!(parse_line("pytest>=8").unwrap(), req("pytest>=8"));
        assert_eq!(
            parse_line("-r base.txt").unwrap(),
            ReqLine::Include {
                path: "base.txt".into(),
                constraint: false
            }
        );
        assert_eq!(
            parse_line("--requirement=base.txt").unwrap(),
            ReqLine::Include {
                path: "base.txt".into(),
                constraint: false
            }
        );
        assert_eq!(
            parse_line("-cconstraints.txt").unwrap(),
            ReqLine::Include {
                path: "constraints.txt".into(),
                constraint: true
            }
        );
        assert_eq!(
            parse_line("-e .[test, Dev]").unwrap(),
            ReqLine::LocalPath {
                path: ".".into(),
                extras: vec!["test".into(), "dev".into()],
                editable: true
            }
        );
        assert_eq!(
            parse_line(".").unwrap(),
            ReqLine::LocalPath {
                path: ".".into(),
                extras: vec![],
                editable: false
            }
        );
        assert!(matches!(
            parse_line("--index-url https://x.invalid/simple"),
            Ok(ReqLine::Option(_))
        ));
        assert!(matches!(parse_line("--pre"), Ok(ReqLine::Option(_))));
        assert!(matches!(
            parse_line("git+https://x.invalid/a.git#egg=a"),
            Ok(ReqLine::Url(_))
        ));
        assert!(matches!(
            parse_line("-e git+https://x.invalid/a.git#egg=a"),
            Ok(ReqLine::Url(_))
        ));
        assert_eq!(
            parse_line("six==1.16 --hash=sha256:abc").unwrap(),
            req("six==1.16")
        );
        assert!(parse_line("${TOKEN}pkg").is_err());
    }

    #[test]
    fn joins_continuations_and_strips_comments() {
        let lines = logical_lines("# top\npytest \\\n  >=8 # why\n\nfoo#bar @ x\n  \n");
        assert_eq!(lines, ["pytest   >=8", "foo#bar @ x"]);
    }

    #[test]
    fn follows_includes_and_detects_cycles() {
        let d = tempfile::tempdir().unwrap();
        let w = |p: &str, t: &str| {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, t).unwrap();
        };
        w(
            "requirements/test.txt",
            "-r base.txt\n-c ../constraints.txt\npytest\n-r test.txt\n-r missing.txt\n-r base.txt\n",
        );
        w("requirements/base.txt", "attrs\n");
        w("constraints.txt", "pytest<9\n");
        let mut seen = Vec::new();
        let lines = read_file(d.path(), Path::new("requirements/test.txt"), &mut seen);
        let summary: Vec<String> = lines
            .iter()
            .map(|l| match &l.line {
                Ok(ReqLine::Requirement(r)) => format!("{}:{}:{}", l.chain, r, l.constraint),
                Ok(other) => format!("{other:?}"),
                Err((_, e)) => format!("error {e}"),
            })
            .collect();
        assert_eq!(
            summary[0],
            "requirements/test.txt -> requirements/base.txt:attrs:false"
        );
        assert_eq!(
            summary[1],
            "requirements/test.txt -> constraints.txt:pytest<9:true"
        );
        assert_eq!(summary[2], "requirements/test.txt:pytest:false");
        assert!(summary[3].contains("include cycle"), "{}", summary[3]);
        assert!(
            summary[4].contains("cannot read requirements/missing.txt"),
            "{}",
            summary[4]
        );
        assert_eq!(summary.len(), 5, "base.txt is read once");
        assert_eq!(
            read_file(d.path(), Path::new("requirements/base.txt"), &mut seen),
            []
        );
    }
}
