//! The byte budget of a kernel's file data: how many bytes of MEMFS file
//! contents the guest has made the host hold, against an optional limit.
//!
//! Only bytes the guest wrote count (see `filedata.rs`): files the host
//! places before or during the run (`Kernel::write_file`, the stdlib zip,
//! wheels) are exempt, holes of sparse files cost nothing. Going over the
//! limit is `ENOSPC`, as on a full disk; freeing file data (truncating, the
//! last reference to an unlinked file going) gives the bytes back. Each
//! kernel clone carries its own copy of the counters.

use super::errno::{Errno, SysResult};

/// Bytes charged against an optional limit.
#[derive(Clone, Debug, Default)]
pub(crate) struct Budget {
    limit: Option<u64>,
    used: u64,
}

impl Budget {
    /// An empty budget of `limit` bytes (`None`: unlimited).
    pub fn new(limit: Option<u64>) -> Self {
        Budget { limit, used: 0 }
    }

    /// Takes `n` more bytes, or `ENOSPC` (and nothing taken) if that would
    /// go over the limit.
    pub fn charge(&mut self, n: u64) -> SysResult<()> {
        let used = self.used.checked_add(n).ok_or(Errno::ENOSPC)?;
        if self.limit.is_some_and(|l| used > l) {
            return Err(Errno::ENOSPC);
        }
        self.used = used;
        Ok(())
    }

    /// Gives `n` bytes back.
    pub fn release(&mut self, n: u64) {
        debug_assert!(n <= self.used, "releasing {n} of {} bytes", self.used);
        self.used = self.used.saturating_sub(n);
    }

    /// Bytes in use.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// The limit (`None`: unlimited).
    pub fn limit(&self) -> Option<u64> {
        self.limit
    }

    /// Changes the limit (bytes already in use stay, even above it).
    pub fn set_limit(&mut self, limit: Option<u64>) {
        self.limit = limit;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_up_to_the_limit() {
        let mut b = Budget::new(Some(10));
        b.charge(6).unwrap();
        assert_eq!(b.charge(5), Err(Errno::ENOSPC));
        assert_eq!(b.used(), 6);
        b.charge(4).unwrap();
        b.release(7);
        assert_eq!(b.used(), 3);
        let mut u = Budget::new(None);
        u.charge(u64::MAX).unwrap();
        assert_eq!(u.charge(1), Err(Errno::ENOSPC));
    }
}
