//! The unpacked sdist's metadata files, read and parsed once:
//! `pyproject.toml`, `setup.cfg`, `tox.ini`, `PKG-INFO`, and the
//! project's name (from `PKG-INFO`, `[project] name`, `setup.cfg
//! [metadata] name`, or the directory name, in that order).

use std::path::{Path, PathBuf};

use super::ini::Ini;
use super::requirement::normalize_name;

/// Parsed metadata files of one sdist root.
#[derive(Debug, Clone, Default)]
pub struct SdistFiles {
    /// The sdist root.
    pub root: PathBuf,
    /// `pyproject.toml`, if present and valid TOML.
    pub pyproject: Option<toml::Table>,
    /// `setup.cfg`.
    pub setup_cfg: Option<Ini>,
    /// `tox.ini`.
    pub tox_ini: Option<Ini>,
    /// `PKG-INFO` headers, `(field, value)` in order (no body).
    pub pkg_info: Vec<(String, String)>,
    /// Problems reading them (e.g. invalid TOML), for the notes.
    pub problems: Vec<(String, String)>,
}

impl SdistFiles {
    /// Read the files of the sdist at `root`. Missing files are `None`;
    /// unreadable or invalid ones are recorded in `problems`.
    pub fn read(root: &Path) -> SdistFiles {
        let mut files = SdistFiles {
            root: root.to_path_buf(),
            ..SdistFiles::default()
        };
        if let Some(text) = files.read_text("pyproject.toml") {
            match text.parse::<toml::Table>() {
                Ok(t) => files.pyproject = Some(t),
                Err(e) => files.problems.push((
                    "pyproject.toml".into(),
                    format!("invalid TOML, ignored: {}", e.message()),
                )),
            }
        }
        files.setup_cfg = files.read_text("setup.cfg").map(|t| Ini::parse(&t));
        files.tox_ini = files.read_text("tox.ini").map(|t| Ini::parse(&t));
        if let Some(text) = files.read_text("PKG-INFO") {
            files.pkg_info = parse_pkg_info(&text);
        }
        files
    }

    /// A file's text, `None` when absent; read errors are recorded.
    pub fn read_text(&mut self, rel: &str) -> Option<String> {
        let path = self.root.join(rel);
        if !path.is_file() {
            return None;
        }
        match std::fs::read(&path) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) => {
                self.problems
                    .push((rel.into(), format!("cannot read: {e}")));
                None
            }
        }
    }

    /// A table of `pyproject.toml` by dotted path (`tool.pytest.ini_options`).
    pub fn pyproject_table(&self, path: &str) -> Option<&toml::Table> {
        let mut t = self.pyproject.as_ref()?;
        for key in path.split('.') {
            t = t.get(key)?.as_table()?;
        }
        Some(t)
    }

    /// Every value of a `PKG-INFO` field (`Requires-Dist`, ...).
    pub fn pkg_info_all(&self, field: &str) -> impl Iterator<Item = &str> {
        self.pkg_info
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(field))
            .map(|(_, v)| v.as_str())
    }

    /// The project's normalised name.
    pub fn project_name(&self) -> Option<String> {
        if let Some(n) = self.pkg_info_all("Name").next() {
            return Some(normalize_name(n));
        }
        if let Some(n) = self
            .pyproject_table("project")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
        {
            return Some(normalize_name(n));
        }
        if let Some(n) = self
            .setup_cfg
            .as_ref()
            .and_then(|c| c.get("metadata", "name"))
        {
            return Some(normalize_name(n));
        }
        // `name-1.2.3` -> `name`.
        let dir = self.root.file_name()?.to_string_lossy().into_owned();
        let name = match dir.rfind('-') {
            Some(i) if dir[i + 1..].starts_with(|c: char| c.is_ascii_digit()) => &dir[..i],
            _ => &dir,
        };
        Some(normalize_name(name))
    }
}

/// The header fields of a core-metadata file (RFC 822 style: `Key: value`,
/// continuation lines indented, headers end at the first empty line).
pub fn parse_pkg_info(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = out.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_and_project_name() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("My_Pkg-1.2.3");
        std::fs::create_dir(&root).unwrap();
        assert_eq!(
            SdistFiles::read(&root).project_name().as_deref(),
            Some("my-pkg")
        );
        std::fs::write(root.join("setup.cfg"), "[metadata]\nname = From.Cfg\n").unwrap();
        assert_eq!(
            SdistFiles::read(&root).project_name().as_deref(),
            Some("from-cfg")
        );
        std::fs::write(
            root.join("pyproject.toml"),
            "[project]\nname = 'From_Toml'\n",
        )
        .unwrap();
        assert_eq!(
            SdistFiles::read(&root).project_name().as_deref(),
            Some("from-toml")
        );
        std::fs::write(
            root.join("PKG-INFO"),
            "Metadata-Version: 2.1\nName: PkgInfo\nRequires-Dist: pytest; extra == \"test\"\n\nbody: x\n",
        )
        .unwrap();
        let f = SdistFiles::read(&root);
        assert_eq!(f.project_name().as_deref(), Some("pkginfo"));
        assert_eq!(
            f.pkg_info_all("requires-dist").collect::<Vec<_>>(),
            ["pytest; extra == \"test\""]
        );
        assert_eq!(f.pkg_info_all("body").count(), 0);
        std::fs::write(root.join("pyproject.toml"), "[project\n").unwrap();
        assert_eq!(SdistFiles::read(&root).problems.len(), 1);
    }
}
