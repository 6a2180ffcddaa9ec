//! Time sources of the kernel: wall clock, monotonic clock, CPU time.
//! A trait so tests (and deterministic runs) can substitute a fixed clock.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A point in time as seconds + nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    /// Whole seconds (may be negative).
    pub sec: i64,
    /// Nanoseconds, `0..1_000_000_000`.
    pub nsec: u32,
}

impl Timespec {
    /// From nanoseconds since the epoch.
    pub fn from_nanos(ns: i128) -> Self {
        Timespec {
            sec: ns.div_euclid(1_000_000_000) as i64,
            nsec: ns.rem_euclid(1_000_000_000) as u32,
        }
    }
    /// Nanoseconds since the epoch.
    pub fn as_nanos(self) -> i128 {
        self.sec as i128 * 1_000_000_000 + self.nsec as i128
    }
}

/// The clocks the guest can read.
pub trait Clock: Send + Sync {
    /// Wall-clock time (`CLOCK_REALTIME`).
    fn realtime(&self) -> Timespec;
    /// Nanoseconds on a monotonic clock whose origin is the process start
    /// (what `performance.now()` measures, in ns).
    fn monotonic_ns(&self) -> u64;
    /// CPU time the process used, in ns (`CLOCK_PROCESS_CPUTIME_ID`).
    fn process_cputime_ns(&self) -> u64;
    /// CPU time of the calling thread, in ns (`CLOCK_THREAD_CPUTIME_ID`).
    fn thread_cputime_ns(&self) -> u64;
}

/// The host's clocks.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// Added to [`SystemClock`]'s monotonic clock (see
/// [`monotonic_at_least`]).
static MONOTONIC_SHIFT: AtomicU64 = AtomicU64::new(0);

/// Moves [`SystemClock`]'s monotonic clock forward, if need be, so that it
/// reads at least `ns` from now on: for a guest restored from an image
/// that another process saved, whose memory may hold readings of that
/// process's clock, which must not seem to lie in the future.
pub fn monotonic_at_least(ns: u64) {
    let now = origin().elapsed().as_nanos() as u64;
    if let Some(behind) = ns.checked_sub(now) {
        MONOTONIC_SHIFT.fetch_max(behind, Ordering::Relaxed);
    }
}

fn cputime(id: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the valid timespec we pass.
    let r = unsafe { libc::clock_gettime(id, &mut ts) };
    if r != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Clock for SystemClock {
    fn realtime(&self) -> Timespec {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => Timespec {
                sec: d.as_secs() as i64,
                nsec: d.subsec_nanos(),
            },
            Err(e) => Timespec::from_nanos(-(e.duration().as_nanos() as i128)),
        }
    }
    fn monotonic_ns(&self) -> u64 {
        origin().elapsed().as_nanos() as u64 + MONOTONIC_SHIFT.load(Ordering::Relaxed)
    }
    fn process_cputime_ns(&self) -> u64 {
        cputime(libc::CLOCK_PROCESS_CPUTIME_ID)
    }
    fn thread_cputime_ns(&self) -> u64 {
        cputime(libc::CLOCK_THREAD_CPUTIME_ID)
    }
}

/// A clock frozen at a given instant (tests, reproducible runs).
#[derive(Clone, Copy, Debug, Default)]
pub struct FixedClock {
    /// What `realtime` returns.
    pub now: Timespec,
    /// What every other clock returns.
    pub mono_ns: u64,
}

impl Clock for FixedClock {
    fn realtime(&self) -> Timespec {
        self.now
    }
    fn monotonic_ns(&self) -> u64 {
        self.mono_ns
    }
    fn process_cputime_ns(&self) -> u64 {
        self.mono_ns
    }
    fn thread_cputime_ns(&self) -> u64 {
        self.mono_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespec_roundtrip() {
        let t = Timespec::from_nanos(-1);
        assert_eq!(
            t,
            Timespec {
                sec: -1,
                nsec: 999_999_999
            }
        );
        assert_eq!(t.as_nanos(), -1);
        let c = SystemClock;
        assert!(c.realtime().sec > 1_600_000_000);
        let a = c.monotonic_ns();
        assert!(c.monotonic_ns() >= a);
    }

    #[test]
    fn the_monotonic_clock_moves_forward_to_a_reading_and_never_back() {
        let c = SystemClock;
        let ahead = c.monotonic_ns() + 3_600_000_000_000;
        monotonic_at_least(ahead);
        let a = c.monotonic_ns();
        assert!(a >= ahead, "{a} < {ahead}");
        monotonic_at_least(0);
        assert!(c.monotonic_ns() >= a);
    }
}
