//! Unpacking downloaded archives (wheels, sdists, `-tests` zips) with every
//! member checked: a path that is absolute or climbs out with `..` refuses
//! the whole archive; links (symlinks, hard links) are not created, so
//! nothing in an unpacked tree can lead outside it. Sizes are the
//! archive's own business: members are written as they are read, never
//! held whole in memory.

use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

/// What unpacking left out.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Unpacked {
    /// Link members not created (their paths in the archive).
    pub skipped_links: Vec<String>,
}

/// `rel` as a path under the unpack directory, or `None` if it is absolute
/// or leaves it.
fn safe_relative(rel: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in rel.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Write `from` into a new file `dest` (its directories created).
fn write_member(dest: &Path, from: &mut dyn Read) -> io::Result<()> {
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut file = fs::File::create(dest)?;
    io::copy(from, &mut file)?;
    Ok(())
}

/// Unpack the zip `archive` into `dest` (an empty directory).
pub fn unzip(archive: &Path, dest: &Path) -> Result<Unpacked> {
    let file = fs::File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| anyhow::anyhow!("{} is not a valid zip archive: {e}", archive.display()))?;
    let mut out = Unpacked::default();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| anyhow::anyhow!("{} is corrupt: {e}", archive.display()))?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        let Some(rel) = safe_relative(Path::new(&name)) else {
            bail!("{} has an unsafe member path {name:?}", archive.display());
        };
        if entry.is_symlink() {
            out.skipped_links.push(name);
            continue;
        }
        let target = dest.join(rel);
        if entry.is_dir() {
            fs::create_dir_all(&target)?;
            continue;
        }
        write_member(&target, &mut entry)
            .with_context(|| format!("{} is corrupt ({name})", archive.display()))?;
    }
    Ok(out)
}

/// Unpack the gzipped tar `archive` into `dest` (an empty directory).
pub fn untar_gz(archive: &Path, dest: &Path) -> Result<Unpacked> {
    let file = fs::File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut out = Unpacked::default();
    let entries = tar
        .entries()
        .with_context(|| format!("reading {}", archive.display()))?;
    for entry in entries {
        let mut entry = entry.with_context(|| format!("{} is corrupt", archive.display()))?;
        let path = entry
            .path()
            .with_context(|| format!("{} is corrupt", archive.display()))?
            .into_owned();
        let name = path.display().to_string();
        let Some(rel) = safe_relative(&path) else {
            bail!("{} has an unsafe member path {name:?}", archive.display());
        };
        let target = dest.join(rel);
        match entry.header().entry_type() {
            tar::EntryType::Directory => fs::create_dir_all(&target)?,
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                write_member(&target, &mut entry)
                    .with_context(|| format!("{} is corrupt ({name})", archive.display()))?
            }
            tar::EntryType::Symlink | tar::EntryType::Link => out.skipped_links.push(name),
            // PAX headers, GNU long names (already applied), devices, FIFOs.
            _ => {}
        }
    }
    Ok(out)
}

/// Unpack `archive` (`.zip`, `.whl`, `.tar.gz`) into `dest`.
pub fn unpack(archive: &Path, dest: &Path) -> Result<Unpacked> {
    let name = archive.to_string_lossy();
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        untar_gz(archive, dest)
    } else {
        unzip(archive, dest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pt-archive-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn paths_that_leave_are_refused() {
        assert_eq!(
            safe_relative(Path::new("a/./b")),
            Some(PathBuf::from("a/b"))
        );
        for bad in ["../x", "a/../../x", "/etc/passwd", "a/../..", ""] {
            assert_eq!(safe_relative(Path::new(bad)), None, "{bad}");
        }
    }

    #[test]
    fn tar_links_are_not_created() {
        let dir = scratch("tar");
        let archive = dir.join("x.tar.gz");
        {
            let gz = flate2::write::GzEncoder::new(
                fs::File::create(&archive).unwrap(),
                flate2::Compression::fast(),
            );
            let mut b = tar::Builder::new(gz);
            let mut h = tar::Header::new_gnu();
            h.set_size(3);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, "pkg/a.txt", &b"abc"[..]).unwrap();
            let mut l = tar::Header::new_gnu();
            l.set_entry_type(tar::EntryType::Symlink);
            l.set_size(0);
            l.set_cksum();
            b.append_link(&mut l, "pkg/secret", "/etc/passwd").unwrap();
            b.into_inner().unwrap().finish().unwrap();
        }
        let out = dir.join("out");
        fs::create_dir_all(&out).unwrap();
        let u = untar_gz(&archive, &out).unwrap();
        assert_eq!(fs::read(out.join("pkg/a.txt")).unwrap(), b"abc");
        assert!(fs::symlink_metadata(out.join("pkg/secret")).is_err());
        assert_eq!(u.skipped_links, ["pkg/secret"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn zip_with_a_climbing_member_is_refused() {
        let dir = scratch("zip");
        let archive = dir.join("x.zip");
        {
            let mut z = zip::ZipWriter::new(fs::File::create(&archive).unwrap());
            let o = zip::write::SimpleFileOptions::default();
            z.start_file("ok.txt", o).unwrap();
            z.write_all(b"fine").unwrap();
            z.start_file("../../escape.txt", o).unwrap();
            z.write_all(b"bad").unwrap();
            z.finish().unwrap();
        }
        let out = dir.join("out");
        fs::create_dir_all(&out).unwrap();
        let err = unzip(&archive, &out).unwrap_err().to_string();
        assert!(err.contains("unsafe member path"), "{err}");
        assert!(!dir.join("escape.txt").exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
