//! The builds `matrix`, `bisect` and `compare` run over: `--pyodide` lists
//! (`0.26.4,0.27.7,314.0.7`) and ranges (`0.26.4..314.0.7`, over the
//! releases npm lists for the `pyodide` package, stable ones unless
//! `--pre`), and repeated `--dist DIR`. Every other command takes one
//! build; [`several`] tells the command line when it was given more.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::dist::DistSource;

/// One build of a matrix or a bisection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Build {
    /// A Pyodide release, fetched with `npm pack`.
    Release(String),
    /// A local distribution directory.
    Dir(PathBuf),
}

impl Build {
    /// How the build is named in rows and logs: the release's version, or
    /// the directory as given.
    pub fn label(&self) -> String {
        match self {
            Build::Release(v) => v.clone(),
            Build::Dir(d) => d.display().to_string(),
        }
    }

    /// `base` (the flags every build shares) pointed at this build.
    pub fn source(&self, base: &DistSource) -> DistSource {
        let mut source = base.clone();
        match self {
            Build::Release(v) => {
                source.version = v.clone();
                source.dir = None;
            }
            Build::Dir(d) => source.dir = Some(d.clone()),
        }
        source
    }
}

/// Whether a `--pyodide` value names several builds (a list or a range).
pub fn is_several(pyodide: &str) -> bool {
    pyodide.contains(',') || pyodide.contains("..")
}

/// The one-line refusal for a command that takes one build, or `None`
/// when `pyodide` and `dists` name at most one.
pub fn several(command: &str, pyodide: Option<&str>, dists: &[PathBuf]) -> Option<String> {
    if let Some(p) = pyodide.filter(|p| is_several(p)) {
        return Some(format!(
            "`{command}` runs one build, and --pyodide {p} names several: lists and ranges are for `matrix`, `bisect` and `compare`"
        ));
    }
    if dists.len() > 1 {
        return Some(format!(
            "`{command}` runs one build, and --dist was given {} times: repeated --dist is for `matrix`, `bisect` and `compare`",
            dists.len()
        ));
    }
    if pyodide.is_some() && !dists.is_empty() {
        return Some(format!(
            "`{command}` runs one build: give --pyodide or --dist, not both"
        ));
    }
    None
}

/// The builds named by `--pyodide` (a version, a list or a range; `None`
/// when not given) and the `--dist` directories, releases first, each in
/// the order given (a range in version order). `releases` lists the
/// published versions; it is only asked for when there is a range.
pub fn parse(
    pyodide: Option<&str>,
    dists: &[PathBuf],
    pre: bool,
    releases: impl FnOnce() -> Result<Vec<String>>,
) -> Result<Vec<Build>> {
    let mut builds = Vec::new();
    if let Some(spec) = pyodide {
        let mut listed: Option<Vec<String>> = None;
        let mut releases = Some(releases);
        for item in spec.split(',').map(str::trim) {
            if item.is_empty() {
                bail!("--pyodide {spec}: an empty item in the list");
            }
            if let Some((from, to)) = item.split_once("..") {
                if listed.is_none() {
                    let get = releases.take().expect("asked once");
                    listed = Some(get().context("listing the Pyodide releases")?);
                }
                let all = listed.as_deref().unwrap_or_default();
                for v in range(all, from.trim(), to.trim(), pre)? {
                    builds.push(Build::Release(v));
                }
            } else {
                check_version(item)?;
                builds.push(Build::Release(item.to_string()));
            }
        }
    }
    builds.extend(dists.iter().cloned().map(Build::Dir));
    let mut seen = std::collections::HashSet::new();
    for b in &builds {
        if !seen.insert(b.label()) {
            bail!("build {} is named twice", b.label());
        }
    }
    if builds.is_empty() {
        bail!("no build given (try --pyodide 314.0.3..314.0.7, or --dist DIR twice)");
    }
    Ok(builds)
}

/// The versions of `all` from `from` to `to`, both included and both
/// required to be in `all`; pre-releases between them only with `pre`.
pub fn range(all: &[String], from: &str, to: &str, pre: bool) -> Result<Vec<String>> {
    for end in [from, to] {
        if end.is_empty() {
            bail!("invalid range {from}..{to}: expected FIRST..LAST, e.g. 314.0.0..314.0.7");
        }
        if !all.iter().any(|v| v == end) {
            bail!("{end} is not a published Pyodide release (see `npm view pyodide versions`)");
        }
    }
    if compare_versions(from, to) == Ordering::Greater {
        bail!("invalid range {from}..{to}: {from} comes after {to}");
    }
    let mut out: Vec<String> = all
        .iter()
        .filter(|v| {
            compare_versions(v, from) != Ordering::Less
                && compare_versions(v, to) != Ordering::Greater
                && (pre || !is_prerelease(v) || *v == from || *v == to)
        })
        .cloned()
        .collect();
    out.sort_by(|a, b| compare_versions(a, b));
    out.dedup();
    Ok(out)
}

/// Whether a version is a pre-release (`315.0.0-alpha.2`).
pub fn is_prerelease(version: &str) -> bool {
    version.contains('-')
}

fn check_version(v: &str) -> Result<()> {
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
    {
        bail!("invalid Pyodide version {v:?}");
    }
    Ok(())
}

/// Order of two versions as semantic versions: the dotted numbers, then a
/// release after its pre-releases, pre-releases by their dotted parts
/// (numbers as numbers).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let split = |v: &str| -> (Vec<u64>, Option<String>) {
        let v = v.split('+').next().unwrap_or(v);
        let (core, pre) = match v.split_once('-') {
            Some((c, p)) => (c, Some(p.to_string())),
            None => (v, None),
        };
        (
            core.split('.').map(|n| n.parse().unwrap_or(0)).collect(),
            pre,
        )
    };
    let (ca, pa) = split(a);
    let (cb, pb) = split(b);
    ca.cmp(&cb).then_with(|| match (pa, pb) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            let (xs, ys): (Vec<&str>, Vec<&str>) = (x.split('.').collect(), y.split('.').collect());
            for (p, q) in xs.iter().zip(&ys) {
                let o = match (p.parse::<u64>(), q.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    _ => p.cmp(q),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            xs.len().cmp(&ys.len())
        }
    })
}

/// The published versions of the `pyodide` npm package
/// (`npm view pyodide versions --json`).
pub fn npm_releases() -> Result<Vec<String>> {
    let out = Command::new("npm")
        .args(["view", "pyodide", "versions", "--json"])
        .output()
        .context("running `npm view` (is npm installed?)")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!(
            "`npm view pyodide versions` failed: {}",
            err.lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no message")
        );
    }
    let versions: Vec<String> = serde_json::from_slice(&out.stdout)
        .context("reading the output of `npm view pyodide versions --json`")?;
    Ok(versions)
}

/// The name a build's snapshots are kept under: `pyodide-<version>` for a
/// release, `dist-<directory name>` for a local distribution directory.
pub fn snapshot_key(source: &DistSource) -> String {
    match &source.dir {
        Some(dir) => format!("dist-{}", dir_name(dir)),
        None => format!("pyodide-{}", source.version),
    }
}

fn dir_name(dir: &Path) -> String {
    std::fs::canonicalize(dir)
        .ok()
        .as_deref()
        .unwrap_or(dir)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dist".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<String> {
        [
            "0.26.4",
            "0.27.0",
            "0.28.0",
            "314.0.0-alpha.1",
            "314.0.0-alpha.2",
            "314.0.0",
            "314.0.1",
            "314.0.2",
            "315.0.0-alpha.1",
        ]
        .map(String::from)
        .to_vec()
    }

    fn labels(b: &[Build]) -> Vec<String> {
        b.iter().map(Build::label).collect()
    }

    #[test]
    fn versions_in_order() {
        let mut v = all();
        v.reverse();
        v.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(v, all());
        assert_eq!(compare_versions("0.9.0", "0.10.0"), Ordering::Less);
        assert_eq!(
            compare_versions("1.0.0-alpha.10", "1.0.0-alpha.9"),
            Ordering::Greater
        );
    }

    #[test]
    fn lists_ranges_and_dirs() {
        let ok =
            |spec: &str, pre: bool| labels(&parse(Some(spec), &[], pre, || Ok(all())).unwrap());
        assert_eq!(ok("314.0.2,0.26.4", false), ["314.0.2", "0.26.4"]);
        assert_eq!(
            ok("0.28.0..314.0.2", false),
            ["0.28.0", "314.0.0", "314.0.1", "314.0.2"]
        );
        assert_eq!(
            ok("0.28.0..314.0.0", true),
            ["0.28.0", "314.0.0-alpha.1", "314.0.0-alpha.2", "314.0.0"]
        );
        assert_eq!(
            ok("314.0.2..315.0.0-alpha.1", false),
            ["314.0.2", "315.0.0-alpha.1"]
        );
        assert_eq!(
            ok("0.26.4,314.0.1..314.0.2", false),
            ["0.26.4", "314.0.1", "314.0.2"]
        );
        let b = parse(
            None,
            &[PathBuf::from("a"), PathBuf::from("b")],
            false,
            || panic!("no range, no listing"),
        )
        .unwrap();
        assert_eq!(labels(&b), ["a", "b"]);
    }

    #[test]
    fn bad_specs() {
        let err = |spec: &str| {
            parse(Some(spec), &[], false, || Ok(all()))
                .unwrap_err()
                .to_string()
        };
        assert!(err("314.0.2..0.26.4").contains("comes after"));
        assert!(err("0.26.5..314.0.2").contains("not a published"));
        assert!(err("0.26.4,,314.0.2").contains("empty item"));
        assert!(err("..314.0.2").contains("expected FIRST..LAST"));
        assert!(err("314.0.2,314.0.2").contains("named twice"));
        assert!(err("3$4").contains("invalid Pyodide version"));
    }

    #[test]
    fn refusals() {
        assert!(several("python", Some("1,2"), &[]).is_some());
        assert!(several("python", Some("1..2"), &[]).is_some());
        assert!(several("python", None, &[PathBuf::from("a"), PathBuf::from("b")]).is_some());
        assert!(several("python", Some("314.0.7"), &[]).is_none());
        assert!(several("python", None, &[PathBuf::from("a")]).is_none());
    }
}
