//! Reading a file straight into shared memory (`Arc<[u8]>`, what guest
//! file sets hold in memory): reading into a vector and then into an `Arc`
//! copies it twice. Cache files that never change in place are mapped
//! instead (`host_bytes`).

use std::fs;
use std::path::Path;
use std::sync::Arc;

/// The contents of the file at `path`, read once into shared memory.
pub fn read(path: &Path) -> std::io::Result<Arc<[u8]>> {
    let mut file = fs::File::open(path)?;
    let len = usize::try_from(file.metadata()?.len()).map_err(std::io::Error::other)?;
    read_exact(&mut file, len)
}

/// The next `len` bytes of `from`, read once into shared memory.
pub fn read_exact(from: &mut dyn std::io::Read, len: usize) -> std::io::Result<Arc<[u8]>> {
    let mut data = Arc::<[u8]>::new_zeroed_slice(len);
    // SAFETY: zeroed bytes are valid `u8`s.
    let slice = unsafe { Arc::get_mut(&mut data).expect("unshared").assume_init_mut() };
    populate(slice);
    from.read_exact(slice)?;
    // SAFETY: every byte is initialised (zeroed, then read over).
    Ok(unsafe { data.assume_init() })
}

/// Fault in the fresh pages of a large buffer that is about to be written
/// whole, in one call, rather than one page fault per page as the copy
/// goes: reading an 11 MB file (a zygote's boot files) took about 40% less
/// time that way.
/// Best effort: nothing happens where the kernel cannot.
fn populate(buf: &mut [u8]) {
    const LARGE: usize = 1 << 20;
    if buf.len() < LARGE {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        let page = crate::host_bytes::page_size();
        let start = (buf.as_mut_ptr() as usize).next_multiple_of(page);
        let end = (buf.as_mut_ptr() as usize + buf.len()) / page * page;
        if end > start {
            // SAFETY: the range lies inside `buf`, which we own mutably;
            // MADV_POPULATE_WRITE only faults pages in, keeping their
            // contents (fresh pages stay zero).
            unsafe {
                libc::madvise(
                    start as *mut libc::c_void,
                    end - start,
                    libc::MADV_POPULATE_WRITE,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_whole_file() {
        let dir = std::env::temp_dir().join(format!("pt-shared-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(&*super::read(&path).unwrap(), &bytes[..]);
        std::fs::write(&path, b"").unwrap();
        assert!(super::read(&path).unwrap().is_empty());
        assert!(super::read(&dir.join("missing")).is_err());
        let mut from = &bytes[..];
        assert_eq!(&*super::read_exact(&mut from, 10).unwrap(), &bytes[..10]);
        assert_eq!(&*super::read_exact(&mut from, 5).unwrap(), &bytes[10..15]);
        assert!(super::read_exact(&mut &b"ab"[..], 3).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
