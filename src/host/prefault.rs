//! The pages a zygote's children write, learned from the children that
//! ran and copied ahead of time in the next one.
//!
//! A forked child shares the zygote's memory copy-on-write: every page it
//! writes first costs it a fault and a copy, about 3 µs on a 2-core VM.
//! A child whose guest does a few milliseconds of Python writes about
//! 1,000 pages (the interpreter's state, the objects whose reference
//! counts it touches, its stacks), mostly the same ones every time. So each child
//! records, at its end, which pages of the zygote's writable mappings it
//! holds a copy of now ([`PageSets::record`], from `/proc/self/pagemap`),
//! and the zygote's spare (a child forked before its job is known) copies
//! the pages that the last two children both wrote ([`PageSets::prefault`],
//! `MADV_POPULATE_WRITE`) while it waits for its job.
//!
//! Copying a page never changes what it holds, so a wrong guess costs only
//! time and memory: a page copied and not written, or one left to fault.
//! Where the kernel has no `MADV_POPULATE_WRITE` (before Linux 5.14) or no
//! pagemap, nothing is learned or copied.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::host_bytes::page_size;

/// `MADV_POPULATE_WRITE` (Linux 5.14), which libc may not name.
const MADV_POPULATE_WRITE: libc::c_int = 23;
/// At most this many pages are tracked (4 GiB of 4 KiB pages): the
/// zygote's writable mappings beyond are left out (a guest that big does
/// not fork cheaply anyway).
const MAX_TRACKED_PAGES: usize = 1 << 20;
/// At most this many pages (256 MiB of 4 KiB pages) are copied ahead in
/// one spare.
const MAX_PREFAULT_PAGES: usize = 1 << 16;
/// A spare asks whether its job has come after copying this many pages
/// (about 0.6 ms here): a job that comes while the spare copies waits no
/// longer than that.
pub const PREFAULT_STEP: usize = 256;
/// The pagemap bits: the page is present; it is mapped by this process
/// alone (a child's own copy, or a page it allocated).
const PM_PRESENT: u64 = 1 << 63;
const PM_EXCLUSIVE: u64 = 1 << 56;

/// The zygote's writable private mappings at its fork point, and two
/// page sets over them in memory that the zygote and all its children
/// share.
pub struct PageSets {
    /// (start address, pages) of each tracked mapping.
    regions: Vec<(usize, usize)>,
    /// Pages tracked in all.
    pages: usize,
    /// The host's page size (pagemap has an entry per page).
    page: usize,
    /// The shared area: a generation counter, then two bitmaps of `pages`
    /// bits; a child's record goes to bitmap `generation % 2`.
    shared: *mut u8,
}

// SAFETY: the shared area lives as long as the process (never unmapped)
// and is only read and written through atomics and plain byte copies
// whose tearing is harmless (a torn set only guesses worse).
unsafe impl Send for PageSets {}
// SAFETY: as above.
unsafe impl Sync for PageSets {}

impl PageSets {
    /// In the zygote, at its fork point: the writable private mappings it
    /// has (guest memory, the host's heap, stacks), and the shared area.
    /// `None` if `/proc/self/maps` cannot be read or the area mapped.
    pub fn at_fork_point() -> Option<PageSets> {
        let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
        let page = page_size();
        let mut regions = Vec::new();
        let mut pages = 0;
        for line in maps.lines() {
            let Some((start, end)) = writable_private(line) else {
                continue;
            };
            let n = (end - start) / page;
            if pages + n > MAX_TRACKED_PAGES {
                continue;
            }
            regions.push((start, n));
            pages += n;
        }
        let bytes = 8 + 2 * bitmap_bytes(pages);
        // SAFETY: a new anonymous shared mapping; checked below.
        let shared = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if shared == libc::MAP_FAILED {
            return None;
        }
        Some(PageSets {
            regions,
            pages,
            page,
            shared: shared.cast(),
        })
    }

    fn generation(&self) -> &AtomicU64 {
        // SAFETY: the area starts with 8 bytes reserved for the counter,
        // page-aligned, zeroed by mmap.
        unsafe { &*(self.shared as *const AtomicU64) }
    }

    fn bitmap(&self, slot: u64) -> *mut u8 {
        // SAFETY: slot is 0 or 1; both bitmaps lie inside the area.
        unsafe {
            self.shared
                .add(8 + (slot as usize % 2) * bitmap_bytes(self.pages))
        }
    }

    /// In a child at its end: record which tracked pages it holds alone
    /// (those it wrote, or allocated), as the newest set.
    pub fn record(&self) {
        let Ok(pagemap) = File::open("/proc/self/pagemap") else {
            return;
        };
        let mut set = vec![0u8; bitmap_bytes(self.pages)];
        let mut entries = vec![0u8; 8 * 4096];
        let mut bit = 0;
        for &(start, n) in &self.regions {
            let mut done = 0;
            while done < n {
                let chunk = (n - done).min(entries.len() / 8);
                let at = ((start / self.page + done) * 8) as u64;
                if pagemap
                    .read_exact_at(&mut entries[..chunk * 8], at)
                    .is_err()
                {
                    return;
                }
                for (i, e) in entries[..chunk * 8].chunks_exact(8).enumerate() {
                    let e = u64::from_le_bytes(e.try_into().unwrap_or_default());
                    if e & PM_PRESENT != 0 && e & PM_EXCLUSIVE != 0 {
                        let b = bit + done + i;
                        set[b / 8] |= 1 << (b % 8);
                    }
                }
                done += chunk;
            }
            bit += n;
        }
        let slot = self.generation().load(Ordering::Acquire);
        // SAFETY: the bitmap has `set.len()` bytes.
        unsafe { std::ptr::copy_nonoverlapping(set.as_ptr(), self.bitmap(slot), set.len()) };
        self.generation().fetch_add(1, Ordering::Release);
    }

    /// In a spare: copy the pages that the last two children both wrote
    /// (the last one's, if only one has ended), until `wanted` (asked
    /// between runs of at most [`PREFAULT_STEP`] pages) says the job has
    /// come: the job then takes the rest as faults. Returns how many pages.
    pub fn prefault(&self, wanted: &dyn Fn() -> bool) -> usize {
        let generation = self.generation().load(Ordering::Acquire);
        if generation == 0 {
            return 0;
        }
        let len = bitmap_bytes(self.pages);
        let mut set = vec![0u8; len];
        // SAFETY: both bitmaps have `len` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(self.bitmap(generation - 1), set.as_mut_ptr(), len);
            if generation >= 2 {
                let older = std::slice::from_raw_parts(self.bitmap(generation - 2), len);
                for (b, o) in set.iter_mut().zip(older) {
                    *b &= o;
                }
            }
        }
        let mut copied = 0;
        let mut bit = 0;
        let mut since_asked = 0;
        for &(start, n) in &self.regions {
            let mut page = 0;
            while page < n && copied < MAX_PREFAULT_PAGES {
                if !is_set(&set, bit + page) {
                    page += 1;
                    continue;
                }
                if since_asked >= PREFAULT_STEP {
                    if wanted() {
                        return copied;
                    }
                    since_asked = 0;
                }
                let first = page;
                while page < n
                    && is_set(&set, bit + page)
                    && copied + (page - first) < MAX_PREFAULT_PAGES
                    && since_asked + (page - first) < PREFAULT_STEP
                {
                    page += 1;
                }
                since_asked += page - first;
                // SAFETY: a range of one of this process's own mappings;
                // MADV_POPULATE_WRITE faults pages in without changing
                // what they hold.
                let r = unsafe {
                    libc::madvise(
                        (start + first * self.page) as *mut libc::c_void,
                        (page - first) * self.page,
                        MADV_POPULATE_WRITE,
                    )
                };
                if r == 0 {
                    copied += page - first;
                } else if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
                    // Not this kernel's (or not this mapping's): give up.
                    return copied;
                }
            }
            bit += n;
        }
        copied
    }
}

fn bitmap_bytes(pages: usize) -> usize {
    pages.div_ceil(8)
}

fn is_set(set: &[u8], bit: usize) -> bool {
    set[bit / 8] & (1 << (bit % 8)) != 0
}

/// A `/proc/self/maps` line's range, if it is a private writable mapping.
fn writable_private(line: &str) -> Option<(usize, usize)> {
    let mut fields = line.split_whitespace();
    let (start, end) = fields.next()?.split_once('-')?;
    if !fields.next()?.starts_with("rw-p") {
        return None;
    }
    let start = usize::from_str_radix(start, 16).ok()?;
    let end = usize::from_str_radix(end, 16).ok()?;
    (end > start).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_bytes::test_support::AnonRegion;

    const PAGE: usize = 4096;

    #[test]
    fn only_private_writable_mappings_are_tracked() {
        assert_eq!(
            writable_private("7f00-7f10 rw-p 00000000 00:00 0 "),
            Some((0x7f00, 0x7f10))
        );
        assert_eq!(writable_private("7f00-7f10 r-xp 00001000 fe:00 1 /x"), None);
        assert_eq!(
            writable_private("7f00-7f10 rw-s 00000000 00:01 2 /dev/zero"),
            None
        );
        assert_eq!(writable_private("7f00-7f10 ---p 00000000 00:00 0 "), None);
    }

    /// Run `check` in a forked child (the spare of the tests): whether it
    /// held.
    fn in_child(check: impl FnOnce() -> bool) -> bool {
        // SAFETY: the child only reads and writes memory, reads /proc and
        // exits at once.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let ok = check();
            // SAFETY: ends the child at once.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: our child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
    }

    /// A child that writes `pages` of `area` (one byte each) and records
    /// what it wrote in `sets`, as a zygote's child does at its end.
    fn child_writes(sets: &PageSets, area: *mut u8, pages: impl Iterator<Item = usize>) {
        in_child(|| {
            for p in pages {
                // SAFETY: inside the test's mapping.
                unsafe { *area.add(p * PAGE) = 0xff };
            }
            sets.record();
            true
        });
    }

    /// A private mapping of `n` pages, each written in the parent so that
    /// a fork shares them (page `p` holds `p as u8`), and the page sets at
    /// this fork point.
    fn shared_region(n: usize) -> (AnonRegion, *mut u8, PageSets) {
        assert_eq!(page_size(), PAGE, "this test assumes 4 KiB pages");
        let mut region = AnonRegion::new(n * PAGE);
        let bytes = region.bytes();
        for p in 0..n {
            bytes[p * PAGE] = p as u8;
        }
        let area = bytes.as_mut_ptr();
        let Some(sets) = PageSets::at_fork_point() else {
            panic!("no /proc/self/maps");
        };
        (region, area, sets)
    }

    /// A child records the pages it wrote; a spare forked later copies
    /// them ahead (it then holds them alone before writing any).
    #[test]
    fn a_spare_copies_what_the_last_children_wrote() {
        let (_region, area, sets) = shared_region(64);
        let exclusive = |p: usize| -> bool {
            let pagemap = File::open("/proc/self/pagemap").unwrap();
            let mut e = [0u8; 8];
            pagemap
                .read_exact_at(&mut e, ((area as usize / PAGE + p) * 8) as u64)
                .unwrap();
            let e = u64::from_le_bytes(e);
            e & PM_PRESENT != 0 && e & PM_EXCLUSIVE != 0
        };
        // Two children write pages 3..6 and 10; the second also page 20.
        for extra in [None, Some(20)] {
            child_writes(&sets, area, [3, 4, 5, 10].into_iter().chain(extra));
        }
        let ok = in_child(|| {
            let before: Vec<bool> = (0..64).map(exclusive).collect();
            let copied = sets.prefault(&|| false);
            let after: Vec<bool> = (0..64).map(exclusive).collect();
            // SAFETY: inside the mapping.
            let kept = (0..64).all(|p| unsafe { *area.add(p * PAGE) } == p as u8);
            !before.iter().any(|&b| b)
                && [3, 4, 5, 10].iter().all(|&p| after[p])
                && !after[20]
                && after.iter().filter(|&&b| b).count() == 4
                && copied >= 4
                && kept
        });
        assert!(ok, "the spare did not copy pages 3-5 and 10 alone");
    }

    /// A spare asks after each [`PREFAULT_STEP`] pages whether its job has
    /// come, and stops copying when it has.
    #[test]
    fn a_spare_stops_copying_when_its_job_comes() {
        let n = 2 * PREFAULT_STEP + 10;
        let (_region, area, sets) = shared_region(n);
        // Two children write every page of the region.
        for _ in 0..2 {
            child_writes(&sets, area, 0..n);
        }
        let ok = in_child(|| {
            let asked = std::cell::Cell::new(0);
            let interrupted = sets.prefault(&|| {
                asked.set(asked.get() + 1);
                true
            });
            let whole = sets.prefault(&|| false);
            interrupted == PREFAULT_STEP && asked.get() == 1 && whole >= n
        });
        assert!(
            ok,
            "the spare did not stop after {PREFAULT_STEP} pages, or did not copy them all when let"
        );
    }
}
