//! The contents of a MEMFS regular file: [`FileData`], the bytes the host
//! hands in and gets back, and [`Contents`], how a file node stores them.
//!
//! [`Contents`] is sparse and copy-on-write:
//! - the file is a logical size plus *extents* (runs of bytes at offsets);
//!   everything between them (holes) reads as zeros, so `ftruncate` to a
//!   terabyte or a write far past the end costs only what is written;
//! - bytes the host handed in (`FileData::Shared`, e.g. the stdlib zip)
//!   stay shared with the host; a write into them copies only the bytes
//!   written, and they are never charged;
//! - bytes the guest wrote are `Arc`-shared with kernel clones until one
//!   side writes them (then that extent is copied);
//! - every byte the guest makes the host hold is charged to the kernel's
//!   [`Budget`] (`ENOSPC` over it) and released when the file shrinks or
//!   goes: the bytes of each stored run plus [`RUN_COST`] for the run
//!   itself (its map entry and allocations), so scattering one-byte writes
//!   over a sparse file cannot make the host hold much more than the
//!   budget. Host allocations are fallible: `ENOMEM`, never an abort.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::budget::Budget;
use super::errno::{Errno, SysResult};
use crate::host_bytes::{HostBytes, MappedFile};

/// Contents of a regular file as the host hands them in and gets them
/// back. `Shared` holds data handed in by the host (e.g. the stdlib zip)
/// without copying; the first write turns it into an `Owned` copy.
/// `Owned` is itself copy-on-write across kernel clones.
#[derive(Clone, Debug)]
pub enum FileData {
    /// Immutable bytes shared with the host.
    Shared(HostBytes),
    /// Bytes owned by this file (shared with snapshots until written).
    Owned(Arc<Vec<u8>>),
}

impl Default for FileData {
    fn default() -> Self {
        FileData::Owned(Arc::new(Vec::new()))
    }
}

impl FileData {
    /// The file's bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            FileData::Shared(a) => a,
            FileData::Owned(v) => v,
        }
    }
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The bytes, made private and writable.
    pub fn make_mut(&mut self) -> &mut Vec<u8> {
        if let FileData::Shared(a) = self {
            *self = FileData::Owned(Arc::new(a.to_vec()));
        }
        match self {
            FileData::Owned(v) => Arc::make_mut(v),
            FileData::Shared(_) => unreachable!(),
        }
    }
}

impl From<Vec<u8>> for FileData {
    fn from(v: Vec<u8>) -> Self {
        FileData::Owned(Arc::new(v))
    }
}
impl From<&[u8]> for FileData {
    fn from(v: &[u8]) -> Self {
        FileData::Owned(Arc::new(v.to_vec()))
    }
}
impl From<Arc<[u8]>> for FileData {
    fn from(v: Arc<[u8]>) -> Self {
        FileData::Shared(v.into())
    }
}
impl From<HostBytes> for FileData {
    fn from(v: HostBytes) -> Self {
        FileData::Shared(v)
    }
}

/// What one stored run costs beyond its bytes (its map entry, its `Arc`
/// and allocation headers, and the shared piece a write may split off),
/// charged to the budget like bytes.
pub(crate) const RUN_COST: u64 = 256;

/// One run of stored bytes.
#[derive(Clone, Debug)]
enum Extent {
    /// Bytes the host handed in: `data[off..off + len]` (never charged).
    Shared {
        data: HostBytes,
        off: usize,
        len: usize,
    },
    /// Bytes the file owns, shared with kernel clones until written.
    Owned(Arc<Vec<u8>>),
}

impl Extent {
    fn bytes(&self) -> &[u8] {
        match self {
            Extent::Shared { data, off, len } => &data[*off..*off + *len],
            Extent::Owned(v) => v,
        }
    }
    fn len(&self) -> u64 {
        self.bytes().len() as u64
    }
    /// What it costs: its bytes and [`RUN_COST`] if the file owns it, 0
    /// if it is the host's.
    fn cost(&self) -> u64 {
        match self {
            Extent::Owned(v) => v.len() as u64 + RUN_COST,
            Extent::Shared { .. } => 0,
        }
    }
    fn is_owned(&self) -> bool {
        matches!(self, Extent::Owned(_))
    }
}

/// A new vector of `cap` bytes' capacity, or `ENOMEM`.
fn vec_with_capacity(cap: u64) -> SysResult<Vec<u8>> {
    let cap = usize::try_from(cap).map_err(|_| Errno::ENOMEM)?;
    let mut v = Vec::new();
    v.try_reserve_exact(cap).map_err(|_| Errno::ENOMEM)?;
    Ok(v)
}

/// Makes `v` private to this file with room for `extra` more bytes
/// (copying it if a kernel clone shares it), or `ENOMEM`. Grows by at
/// least a quarter, so appends stay amortized without doubling.
fn make_mut_with_room(v: &mut Arc<Vec<u8>>, extra: usize) -> SysResult<&mut Vec<u8>> {
    if Arc::get_mut(v).is_none() {
        let mut copy = vec_with_capacity(v.len() as u64 + extra as u64)?;
        copy.extend_from_slice(v);
        *v = Arc::new(copy);
    }
    let v = Arc::get_mut(v).ok_or(Errno::ENOMEM)?;
    if v.capacity() - v.len() < extra {
        v.try_reserve_exact(extra.max(v.len() / 4))
            .map_err(|_| Errno::ENOMEM)?;
    }
    Ok(v)
}

/// The bytes to write: data, or zeros (`fallocate`).
#[derive(Clone, Copy)]
enum Src<'a> {
    Bytes(&'a [u8]),
    Zeros(u64),
}

impl Src<'_> {
    fn len(&self) -> u64 {
        match self {
            Src::Bytes(b) => b.len() as u64,
            Src::Zeros(n) => *n,
        }
    }
    /// Appends bytes `from..to` of the source to `v` (room reserved).
    fn append(&self, v: &mut Vec<u8>, from: usize, to: usize) {
        match self {
            Src::Bytes(b) => v.extend_from_slice(&b[from..to]),
            Src::Zeros(_) => v.resize(v.len() + (to - from), 0),
        }
    }
    /// Copies bytes `from..to` of the source over `dst`.
    fn copy_to(&self, dst: &mut [u8], from: usize, to: usize) {
        match self {
            Src::Bytes(b) => dst.copy_from_slice(&b[from..to]),
            Src::Zeros(_) => dst.fill(0),
        }
    }
}

/// How a MEMFS regular file stores its bytes (see the module's doc).
#[derive(Clone, Debug, Default)]
pub(crate) struct Contents {
    /// The logical size (`st_size`).
    size: u64,
    /// Stored runs by offset: none empty, none overlapping, none past
    /// `size`. Bytes outside them are zeros.
    extents: BTreeMap<u64, Extent>,
    /// What the `Owned` extents cost (see [`Extent::cost`]).
    cost: u64,
    /// Of that, what is charged to the budget (the rest was placed by the
    /// host).
    charged: u64,
}

impl From<FileData> for Contents {
    /// Host-placed contents: stored as they are, charged nothing.
    fn from(d: FileData) -> Self {
        let mut c = Contents::default();
        let ext = match d {
            FileData::Shared(data) => {
                let len = data.len();
                Extent::Shared { data, off: 0, len }
            }
            FileData::Owned(v) => Extent::Owned(v),
        };
        c.size = ext.len();
        c.cost = ext.cost();
        if c.size > 0 {
            c.extents.insert(0, ext);
        }
        c
    }
}

impl Contents {
    /// The logical size.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// What is charged to the budget for this file (given back when it
    /// goes).
    pub fn charged(&self) -> u64 {
        self.charged
    }

    /// Owned runs costing `n` are gone: gives back what they were charged
    /// (what the host placed goes last).
    fn discharge(&mut self, n: u64, budget: &mut Budget) {
        self.cost -= n;
        let back = n.min(self.charged);
        self.charged -= back;
        budget.release(back);
    }

    /// Where the file's bytes from `pos` to the end of a `len`-byte
    /// mapping come from, when one mapped host file holds all of them:
    /// that file and the offset in it of `pos` (the bytes past the file's
    /// end are zeros). `None` when the range starts in a hole, spans
    /// several runs, or comes from memory.
    pub fn host_file_at(&self, pos: u64, len: u64) -> Option<(Arc<MappedFile>, u64)> {
        let end = pos.checked_add(len)?.min(self.size);
        let (&start, ext) = self.extents.range(..=pos).next_back()?;
        let Extent::Shared { data, off, .. } = ext else {
            return None;
        };
        if start + ext.len() < end || pos >= start + ext.len() {
            return None;
        }
        let file = data.mapped_file()?;
        Some((file.clone(), *off as u64 + (pos - start)))
    }

    /// Copies bytes from `pos` into `buf` (holes as zeros); returns the
    /// count, 0 at or past the end.
    pub fn read_at(&self, pos: u64, buf: &mut [u8]) -> usize {
        if pos >= self.size {
            return 0;
        }
        let n = (buf.len() as u64).min(self.size - pos);
        let end = pos + n;
        let buf = &mut buf[..n as usize];
        let first = self
            .extents
            .range(..=pos)
            .next_back()
            .map_or(pos, |(s, _)| *s);
        let mut cur = pos;
        for (&s, e) in self.extents.range(first..end) {
            let e_end = s + e.len();
            if e_end <= cur {
                continue;
            }
            if s > cur {
                buf[(cur - pos) as usize..(s - pos) as usize].fill(0);
                cur = s;
            }
            let to = e_end.min(end);
            buf[(cur - pos) as usize..(to - pos) as usize]
                .copy_from_slice(&e.bytes()[(cur - s) as usize..(to - s) as usize]);
            cur = to;
        }
        buf[(cur - pos) as usize..].fill(0);
        n as usize
    }

    /// Writes `data` at `pos`, growing the file if needed (a gap before
    /// `pos` stays a hole). Charges the bytes not stored before.
    pub fn write_at(&mut self, pos: u64, data: &[u8], budget: &mut Budget) -> SysResult<usize> {
        self.splice(pos, Src::Bytes(data), budget)?;
        Ok(data.len())
    }

    /// Stores zeros over every hole of `[off, off + len)` and makes the file
    /// at least that long (`fallocate`): all-or-nothing, `ENOSPC` if the
    /// holes might not fit in the budget.
    pub fn allocate(&mut self, off: u64, len: u64, budget: &mut Budget) -> SysResult<()> {
        let end = off.checked_add(len).ok_or(Errno::EFBIG)?;
        let holes = self.holes(off, end);
        let need: u64 = holes.iter().map(|(s, e)| e - s + RUN_COST).sum();
        if budget
            .limit()
            .is_some_and(|l| budget.used().saturating_add(need) > l)
        {
            return Err(Errno::ENOSPC);
        }
        for (s, e) in holes {
            self.splice(s, Src::Zeros(e - s), budget)?;
        }
        self.size = self.size.max(end);
        Ok(())
    }

    /// The holes (not stored ranges) within `[from, to)`.
    fn holes(&self, from: u64, to: u64) -> Vec<(u64, u64)> {
        let first = self
            .extents
            .range(..=from)
            .next_back()
            .map_or(from, |(s, _)| *s);
        let mut out = Vec::new();
        let mut cur = from;
        for (&s, e) in self.extents.range(first..to) {
            if s > cur {
                out.push((cur, s));
            }
            cur = cur.max(s + e.len());
        }
        if cur < to {
            out.push((cur, to));
        }
        out
    }

    /// Stores `src` at `pos`: merges it with the owned extents it overlaps
    /// or touches, cuts the shared ones it overlaps.
    fn splice(&mut self, pos: u64, src: Src, budget: &mut Budget) -> SysResult<()> {
        let n = src.len();
        if n == 0 {
            return Ok(());
        }
        let end = pos.checked_add(n).ok_or(Errno::EFBIG)?;
        // The extents the write overlaps, and owned ones it touches.
        let mut keys = Vec::new();
        if let Some((&s, e)) = self.extents.range(..pos).next_back() {
            let e_end = s + e.len();
            if e_end > pos || (e_end == pos && e.is_owned()) {
                keys.push(s);
            }
        }
        for (&s, e) in self.extents.range(pos..=end) {
            if s < end || e.is_owned() {
                keys.push(s);
            }
        }
        // The new owned run: from the first owned extent reaching before
        // `pos` to the last reaching after `end`.
        let (mut new_start, mut new_end, mut old_cost) = (pos, end, 0);
        for &k in &keys {
            let e = &self.extents[&k];
            if e.is_owned() {
                new_start = new_start.min(k);
                new_end = new_end.max(k + e.len());
                old_cost += e.cost();
            }
        }
        let new_len = new_end - new_start;
        let new_cost = new_len + RUN_COST;
        // In place: one owned extent from before `pos` (a rewrite, or the
        // append of sequential writes). It grows by what is appended.
        if let [k] = keys[..]
            && k <= pos
            && let Some(Extent::Owned(v)) = self.extents.get_mut(&k)
        {
            let growth = new_cost - old_cost;
            budget.charge(growth)?;
            let v = match make_mut_with_room(v, growth as usize) {
                Ok(v) => v,
                Err(e) => {
                    budget.release(growth);
                    return Err(e);
                }
            };
            let o = (pos - k) as usize;
            let over = (v.len() - o).min(n as usize);
            src.copy_to(&mut v[o..o + over], 0, over);
            src.append(v, over, n as usize);
            self.cost += growth;
            self.charged += growth;
            self.size = self.size.max(end);
            return Ok(());
        }
        // Else one new run replaces the owned ones it absorbs.
        let growth = new_cost.saturating_sub(old_cost);
        budget.charge(growth)?;
        let mut v = match vec_with_capacity(new_len) {
            Ok(v) => v,
            Err(e) => {
                budget.release(growth);
                return Err(e);
            }
        };
        let mut shared = Vec::new();
        let mut suffix = None;
        for &k in &keys {
            let Some(e) = self.extents.remove(&k) else {
                continue;
            };
            let e_end = k + e.len();
            if let Extent::Shared { data, off, .. } = &e {
                if k < pos {
                    shared.push((k, data.clone(), *off, (pos - k) as usize));
                }
                if e_end > end {
                    let cut = (end - k) as usize;
                    shared.push((end, data.clone(), off + cut, (e_end - end) as usize));
                }
                continue;
            }
            if k < pos {
                v.extend_from_slice(&e.bytes()[..(pos - k) as usize]);
            }
            if e_end > end {
                suffix = Some((k, e));
            }
        }
        src.append(&mut v, 0, n as usize);
        if let Some((k, e)) = suffix {
            v.extend_from_slice(&e.bytes()[(end - k) as usize..]);
        }
        self.extents.insert(new_start, Extent::Owned(Arc::new(v)));
        for (k, data, off, len) in shared {
            self.extents.insert(k, Extent::Shared { data, off, len });
        }
        self.cost += growth;
        self.charged += growth;
        self.discharge(old_cost.saturating_sub(new_cost), budget);
        self.size = self.size.max(end);
        Ok(())
    }

    /// Sets the logical size: shrinking frees the bytes past it (and gives
    /// them back to the budget), growing only makes a hole.
    pub fn set_len(&mut self, len: u64, budget: &mut Budget) -> SysResult<()> {
        if len >= self.size {
            self.size = len;
            return Ok(());
        }
        // The extent across the new end keeps its head.
        let mut freed = 0;
        if let Some((&k, e)) = self.extents.range_mut(..len).next_back()
            && k + e.len() > len
        {
            let keep = (len - k) as usize;
            match e {
                Extent::Shared { len: l, .. } => *l = keep,
                Extent::Owned(v) => {
                    freed += v.len() as u64 - keep as u64;
                    // Copy the head when a clone shares the rest or most of
                    // the allocation would stay unused.
                    if Arc::get_mut(v).is_none() || v.capacity() > 2 * keep + 65536 {
                        let mut head = vec_with_capacity(keep as u64)?;
                        head.extend_from_slice(&v[..keep]);
                        *v = Arc::new(head);
                    } else if let Some(v) = Arc::get_mut(v) {
                        v.truncate(keep);
                    }
                }
            }
        }
        for e in self.extents.split_off(&len).into_values() {
            freed += e.cost();
        }
        self.discharge(freed, budget);
        self.size = len;
        Ok(())
    }

    /// The whole contents as [`FileData`]: shared, not copied, when stored
    /// as one run from the start; else assembled, holes as zeros
    /// (`ENOMEM` if the host cannot hold that).
    pub fn to_data(&self) -> SysResult<FileData> {
        if self.size == 0 {
            return Ok(FileData::default());
        }
        if let Some((0, e)) = self.extents.first_key_value()
            && self.extents.len() == 1
            && e.len() == self.size
        {
            match e {
                Extent::Shared { data, off: 0, len } if *len == data.len() => {
                    return Ok(FileData::Shared(data.clone()));
                }
                Extent::Owned(v) => return Ok(FileData::Owned(v.clone())),
                _ => {}
            }
        }
        let mut v = vec_with_capacity(self.size)?;
        v.resize(self.size as usize, 0);
        self.read_at(0, &mut v);
        Ok(FileData::from(v))
    }

    /// Bytes actually stored (for tests: holes are not).
    #[cfg(test)]
    pub fn stored(&self) -> u64 {
        self.extents.values().map(Extent::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(c: &Contents) -> Vec<u8> {
        let mut v = vec![0xAA; c.len() as usize];
        assert_eq!(c.read_at(0, &mut v), c.len() as usize);
        v
    }

    #[test]
    fn shared_data_is_copy_on_write() {
        let data: Arc<[u8]> = Arc::from(&b"zipdata"[..]);
        let mut fd = FileData::from(data.clone());
        assert_eq!(fd.as_slice().as_ptr(), data.as_ptr());
        fd.make_mut()[0] = b'Z';
        assert_eq!(&*data, b"zipdata");
        assert_eq!(fd.as_slice(), b"Zipdata");
    }

    const R: u64 = RUN_COST;

    #[test]
    fn holes_read_as_zeros_and_cost_nothing() {
        let mut b = Budget::new(Some(10_000));
        let mut c = Contents::default();
        c.write_at(5, b"xy", &mut b).unwrap();
        assert_eq!(read_all(&c), b"\0\0\0\0\0xy");
        assert_eq!((b.used(), c.stored()), (2 + R, 2));
        c.write_at(2, b"ab", &mut b).unwrap();
        assert_eq!(read_all(&c), b"\0\0ab\0xy");
        assert_eq!(b.used(), 4 + 2 * R);
        // Filling the gap merges the runs.
        c.write_at(4, b"c", &mut b).unwrap();
        assert_eq!(read_all(&c), b"\0\0abcxy");
        assert_eq!((b.used(), c.extents.len()), (5 + R, 1));
        // Overwriting costs nothing; appending costs what it adds.
        c.write_at(3, b"BCX", &mut b).unwrap();
        c.write_at(7, b"!", &mut b).unwrap();
        assert_eq!(read_all(&c), b"\0\0aBCXy!");
        assert_eq!(b.used(), 6 + R);
        c.set_len(1 << 40, &mut b).unwrap();
        assert_eq!((c.len(), b.used()), (1 << 40, 6 + R));
        let mut buf = [1u8; 4];
        assert_eq!(c.read_at((1 << 40) - 2, &mut buf), 2);
        assert_eq!(buf, [0, 0, 1, 1]);
        c.set_len(4, &mut b).unwrap();
        assert_eq!(read_all(&c), b"\0\0aB");
        assert_eq!(b.used(), 2 + R);
        c.set_len(0, &mut b).unwrap();
        assert_eq!((b.used(), c.charged()), (0, 0));
    }

    #[test]
    fn scattered_writes_pay_for_their_runs() {
        let mut b = Budget::new(Some(10 * (1 + R)));
        let mut c = Contents::default();
        for i in 0..10 {
            c.write_at(i * 1000, b"x", &mut b).unwrap();
        }
        assert_eq!(c.write_at(20_000, b"x", &mut b), Err(Errno::ENOSPC));
        assert_eq!((c.extents.len(), b.used()), (10, 10 * (1 + R)));
    }

    #[test]
    fn host_data_is_free_and_written_bytes_only_are_charged() {
        let mut b = Budget::new(Some(R + 3));
        let data: Arc<[u8]> = Arc::from(&b"0123456789"[..]);
        let mut c = Contents::from(FileData::from(data.clone()));
        assert_eq!(b.used(), 0);
        c.write_at(4, b"ab", &mut b).unwrap();
        assert_eq!(read_all(&c), b"0123ab6789");
        assert_eq!((b.used(), c.extents.len()), (2 + R, 3));
        assert_eq!(c.write_at(8, b"xy", &mut b), Err(Errno::ENOSPC));
        assert_eq!(read_all(&c), b"0123ab6789");
        // Shrinking into the shared head frees the written bytes.
        c.set_len(5, &mut b).unwrap();
        assert_eq!((read_all(&c), b.used()), (b"0123a".to_vec(), 1 + R));
        // What the host placed comes back without a copy.
        let whole = Contents::from(FileData::from(data.clone()));
        match whole.to_data().unwrap() {
            FileData::Shared(a) => assert!(HostBytes::ptr_eq(&a, &data.clone().into())),
            FileData::Owned(_) => panic!("copied"),
        }
        assert_eq!(c.to_data().unwrap().as_slice(), b"0123a");
        // An owned host placement is exempt too, until the guest adds.
        let mut o = Contents::from(FileData::from(b"abcd".to_vec()));
        o.write_at(4, b"e", &mut b).unwrap();
        assert_eq!((o.charged(), b.used()), (1, 2 + R));
        o.set_len(1, &mut b).unwrap();
        assert_eq!((o.charged(), b.used()), (0, 1 + R));
    }

    #[test]
    fn clones_share_until_written() {
        let mut b = Budget::new(None);
        let mut c = Contents::default();
        c.write_at(0, b"hello", &mut b).unwrap();
        let snap = c.clone();
        c.write_at(1, b"E", &mut b).unwrap();
        c.write_at(5, b"!", &mut b).unwrap();
        assert_eq!(read_all(&c), b"hEllo!");
        assert_eq!(read_all(&snap), b"hello");
    }

    #[test]
    fn allocate_fills_holes_only() {
        let mut b = Budget::new(Some(3 * R + 10));
        let mut c = Contents::default();
        c.write_at(2, b"ab", &mut b).unwrap();
        assert_eq!(c.allocate(0, 20, &mut b), Err(Errno::ENOSPC));
        assert_eq!((c.len(), b.used()), (4, 2 + R));
        c.allocate(0, 8, &mut b).unwrap();
        assert_eq!(read_all(&c), b"\0\0ab\0\0\0\0");
        assert_eq!((b.used(), c.stored()), (8 + R, 8));
    }

    #[test]
    fn huge_sparse_files_are_enomem_to_copy_out() {
        let mut b = Budget::new(None);
        let mut c = Contents::default();
        c.set_len(1 << 62, &mut b).unwrap();
        assert_eq!(c.to_data().unwrap_err(), Errno::ENOMEM);
    }
}
