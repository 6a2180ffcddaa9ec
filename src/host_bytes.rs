//! Bytes the host hands to a guest's file system without copying them
//! per guest: [`HostBytes`], held in memory, or a read-only mapping of a
//! file in the tool's cache ([`MappedFile`]), whole or a slice of it (one
//! file of a zygote's bundle, `host/bundle.rs`).
//!
//! A mapped file costs nothing to "read" on the host (its pages come in
//! as they are touched), and a guest's `mmap` of it can map its pages
//! straight into linear memory, copy-on-write, instead of copying them:
//! the stdlib's bytecode table (11 MB), which every guest maps at start,
//! took about 8 ms to read in the guest and 3-4 ms on the host.
//!
//! Only files that nobody changes in place may be mapped: the cache's
//! files are published by renaming a complete file over the old name, so
//! a mapping keeps the contents it was made with. A file truncated under
//! a mapping would fault on the next touch of a page past its new end.

use std::fmt;
use std::fs::File;
use std::ops::Deref;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes placed in a guest's file system; cloning shares them.
#[derive(Clone)]
pub struct HostBytes(Repr);

#[derive(Clone)]
enum Repr {
    Memory(Arc<[u8]>),
    Mapped(Arc<MappedFile>),
    /// `len` bytes of a mapped file from `start` (one file of a bundle:
    /// see the zygote's boot description).
    Slice {
        file: Arc<MappedFile>,
        start: usize,
        len: usize,
    },
}

impl HostBytes {
    /// A read-only mapping of the file at `path` (see the module's
    /// documentation for which files may be mapped).
    pub fn map(path: &Path) -> std::io::Result<Self> {
        Ok(Self(Repr::Mapped(Arc::new(MappedFile::open(path)?))))
    }

    /// The `len` bytes of the mapped file `file` from `start`; `None` if
    /// they lie past its end.
    pub fn slice(file: &Arc<MappedFile>, start: usize, len: usize) -> Option<Self> {
        (start.checked_add(len)? <= file.len).then(|| {
            Self(Repr::Slice {
                file: file.clone(),
                start,
                len,
            })
        })
    }

    /// The file these bytes map, if they are a whole file's mapping (a
    /// slice of one is not: a guest's `mmap` copies it, as bytes in
    /// memory).
    pub fn mapped_file(&self) -> Option<&Arc<MappedFile>> {
        match &self.0 {
            Repr::Mapped(m) => Some(m),
            Repr::Memory(_) | Repr::Slice { .. } => None,
        }
    }

    /// True when both are the same bytes (not merely equal ones).
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        match (&a.0, &b.0) {
            (Repr::Memory(x), Repr::Memory(y)) => Arc::ptr_eq(x, y),
            (Repr::Mapped(x), Repr::Mapped(y)) => Arc::ptr_eq(x, y),
            (
                Repr::Slice { file, start, len },
                Repr::Slice {
                    file: f,
                    start: s,
                    len: l,
                },
            ) => Arc::ptr_eq(file, f) && (start, len) == (s, l),
            _ => false,
        }
    }
}

impl Deref for HostBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Repr::Memory(a) => a,
            Repr::Mapped(m) => m.bytes(),
            Repr::Slice { file, start, len } => &file.bytes()[*start..*start + *len],
        }
    }
}

impl AsRef<[u8]> for HostBytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl fmt::Debug for HostBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Memory(a) => write!(f, "HostBytes({} bytes in memory)", a.len()),
            Repr::Mapped(m) => write!(f, "HostBytes({} bytes mapped)", m.len),
            Repr::Slice { len, .. } => write!(f, "HostBytes({len} bytes of a mapped file)"),
        }
    }
}

impl From<Arc<[u8]>> for HostBytes {
    fn from(a: Arc<[u8]>) -> Self {
        Self(Repr::Memory(a))
    }
}

impl From<Vec<u8>> for HostBytes {
    fn from(v: Vec<u8>) -> Self {
        Self(Repr::Memory(v.into()))
    }
}

impl From<&[u8]> for HostBytes {
    fn from(v: &[u8]) -> Self {
        Self(Repr::Memory(v.into()))
    }
}

/// A whole file mapped read-only and private, with the file kept open so
/// that its pages can be mapped again elsewhere ([`MappedFile::map_into`]).
pub struct MappedFile {
    path: PathBuf,
    file: File,
    addr: *mut libc::c_void,
    len: usize,
}

// SAFETY: the mapping is read-only and lives as long as the value; shared
// references only read it.
unsafe impl Send for MappedFile {}
// SAFETY: as above.
unsafe impl Sync for MappedFile {}

/// The host's page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n).ok().filter(|&n| n > 0).unwrap_or(4096)
}

impl MappedFile {
    /// Map the whole file at `path` (see the module's documentation for
    /// which files may be mapped).
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = File::open(path)?;
        let len = usize::try_from(file.metadata()?.len()).map_err(std::io::Error::other)?;
        let path = path.to_path_buf();
        if len == 0 {
            return Ok(Self {
                path,
                file,
                addr: std::ptr::null_mut(),
                len,
            });
        }
        // SAFETY: a fresh private read-only mapping of an open file; no
        // existing memory is touched.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Self {
            path,
            file,
            addr,
            len,
        })
    }

    /// The path the file was mapped from (another process may map it too).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `addr` maps `len` readable bytes for as long as `self`.
        unsafe { std::slice::from_raw_parts(self.addr.cast::<u8>(), self.len) }
    }

    /// Map the file's bytes from `offset` over the `len` bytes at `dst`,
    /// private and writable (copy-on-write: writes never reach the file),
    /// replacing what was there. Maps whole pages only, and only pages the
    /// file fills: returns how many bytes it mapped (a multiple of the
    /// page size, possibly 0), leaving the rest of `dst` as it was.
    ///
    /// # Safety
    ///
    /// `dst` must be page-aligned and `dst..dst + len` memory that the
    /// caller owns, with no references into it alive: its pages are
    /// replaced.
    pub unsafe fn map_into(
        &self,
        dst: *mut u8,
        offset: usize,
        len: usize,
    ) -> std::io::Result<usize> {
        let page = page_size();
        if !offset.is_multiple_of(page) || !(dst as usize).is_multiple_of(page) {
            return Ok(0);
        }
        let whole = len.min(self.len.saturating_sub(offset)) / page * page;
        if whole == 0 {
            return Ok(0);
        }
        // SAFETY: the caller owns `dst..dst + len` (and `whole <= len`);
        // MAP_FIXED replaces exactly those pages with the file's.
        let addr = unsafe {
            libc::mmap(
                dst.cast(),
                whole,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                self.file.as_raw_fd(),
                offset as libc::off_t,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(whole)
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: the mapping made in `open`, unmapped once.
            unsafe {
                libc::munmap(self.addr, self.len);
            }
        }
    }
}

/// Scaffolding for the tests that map files (here, in `host/mmap.rs` and
/// in the kernel's).
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::PathBuf;

    /// A file of `len` patterned bytes in a fresh temporary directory,
    /// removed on drop.
    pub struct TempFile {
        /// The directory holding it (for more files).
        pub dir: PathBuf,
        /// The file.
        pub path: PathBuf,
        /// Its bytes (none zero).
        pub bytes: Vec<u8>,
    }

    impl TempFile {
        /// `tag` names the directory apart from other tests'.
        pub fn new(tag: &str, len: usize) -> Self {
            let dir = std::env::temp_dir().join(format!("pt-{tag}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("f");
            let bytes: Vec<u8> = (0..len as u32).map(|i| (i % 251) as u8 + 1).collect();
            std::fs::write(&path, &bytes).unwrap();
            Self { dir, path, bytes }
        }

        /// The file mapped, and its mapped file.
        pub fn map(&self) -> (super::HostBytes, std::sync::Arc<super::MappedFile>) {
            let mapped = super::HostBytes::map(&self.path).unwrap();
            let file = mapped.mapped_file().unwrap().clone();
            (mapped, file)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// Fresh page-aligned anonymous memory, unmapped on drop.
    pub struct AnonRegion(*mut u8, usize);

    impl AnonRegion {
        /// `len` bytes of it.
        pub fn new(len: usize) -> Self {
            // SAFETY: a fresh anonymous mapping, ours alone.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            assert_ne!(p, libc::MAP_FAILED);
            AnonRegion(p.cast(), len)
        }

        /// Its bytes.
        pub fn bytes(&mut self) -> &mut [u8] {
            // SAFETY: mapped for the region's life, borrowed mutably once.
            unsafe { std::slice::from_raw_parts_mut(self.0, self.1) }
        }
    }

    impl Drop for AnonRegion {
        fn drop(&mut self) {
            // SAFETY: the mapping made in `new`.
            unsafe { libc::munmap(self.0.cast(), self.1) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{AnonRegion, TempFile};
    use super::*;

    #[test]
    fn a_mapped_file_reads_and_maps_its_pages() {
        let page = page_size();
        let f = TempFile::new("host-bytes", 2 * page + 100);
        let (mapped, file) = f.map();
        assert_eq!(&mapped[..], &f.bytes[..]);

        // Map it over anonymous memory: only the two whole pages it fills.
        let mut region = AnonRegion::new(4 * page);
        let view = region.bytes();
        // SAFETY: `view` is ours and page-aligned.
        let got = unsafe { file.map_into(view.as_mut_ptr(), 0, view.len()) }.unwrap();
        assert_eq!(got, 2 * page);
        assert_eq!(&view[..got], &f.bytes[..got]);
        assert!(view[got..].iter().all(|&b| b == 0));
        // Writes are private: the file and the first mapping keep theirs.
        view[0] = 0;
        assert_eq!(mapped[0], f.bytes[0]);
        assert_eq!(std::fs::read(&f.path).unwrap(), f.bytes);
        // An offset inside a page maps nothing (the caller copies).
        // SAFETY: as above.
        assert_eq!(
            unsafe { file.map_into(view.as_mut_ptr(), 1, page) }.unwrap(),
            0
        );

        std::fs::write(f.dir.join("empty"), b"").unwrap();
        assert!(HostBytes::map(&f.dir.join("empty")).unwrap().is_empty());
        assert!(HostBytes::map(&f.dir.join("missing")).is_err());
    }

    #[test]
    fn a_slice_is_its_range_of_the_file_and_is_not_mapped_whole() {
        let f = TempFile::new("host-bytes-slice", 1000);
        let (_, file) = f.map();
        let slice = HostBytes::slice(&file, 10, 20).unwrap();
        assert_eq!(&slice[..], &f.bytes[10..30]);
        assert!(slice.mapped_file().is_none());
        assert!(HostBytes::ptr_eq(&slice, &slice.clone()));
        assert!(!HostBytes::ptr_eq(
            &slice,
            &HostBytes::slice(&file, 10, 21).unwrap()
        ));
        assert!(HostBytes::slice(&file, 1000, 0).unwrap().is_empty());
        assert!(HostBytes::slice(&file, 990, 11).is_none());
        assert!(HostBytes::slice(&file, usize::MAX, 2).is_none());
    }
}
