//! A guest that spins on `emscripten_get_now`, waiting for a time to pass,
//! is made to nap instead of holding a core (see [`SpinWatch`]).

use std::time::Duration;

/// Consecutive `emscripten_get_now` calls closer together than this are a
/// loop that does nothing but read the clock.
const SPIN_GAP_NS: u64 = 20_000;
/// How many such calls in a row make a spin (a sleep's loop makes one
/// call every few hundred nanoseconds).
pub(crate) const SPIN_STREAK: u32 = 8;
/// The shortest and longest nap before answering a spinning guest.
pub(crate) const SPIN_NAP_MIN: Duration = Duration::from_micros(50);
const SPIN_NAP_MAX: Duration = Duration::from_millis(1);

/// Watches `emscripten_get_now` for a guest that spins on it.
///
/// Without threads, Emscripten's `clock_nanosleep` (CPython's
/// `time.sleep`, `nanosleep`, `usleep`) waits by reading
/// `emscripten_get_now` in a loop until the target time, which holds a core
/// for the whole sleep (under Node too). Nothing else in CPython reads
/// this clock (its clocks go through `clock_time_get`). After
/// [`SPIN_STREAK`] calls in a row each within [`SPIN_GAP_NS`] of the last,
/// each further call naps first: an eighth of how long the guest has
/// spun, within [`SPIN_NAP_MIN`] and [`SPIN_NAP_MAX`]. The sleep still ends
/// at its time (the loop reads a later time), late by at most about an
/// eighth of its length (or the shortest nap), and a long one takes a few
/// percent of a core instead of all of it. A read of the other clocks
/// (`clock_time_get`) ends the streak: `clock_nanosleep` reads one to turn
/// its deadline into a length before its loop, so each sleep starts afresh
/// (a guest sleeping briefly many times is not napped longer and longer).
#[derive(Clone, Debug, Default)]
pub(crate) struct SpinWatch {
    /// The time the last call answered, in ns (`None`: the guest has
    /// done something else since).
    last_ns: Option<u64>,
    /// Calls in a row within the gap.
    streak: u32,
    /// When the streak began, in ns.
    since_ns: u64,
}

impl SpinWatch {
    /// The guest did something else than read this clock.
    pub(crate) fn reset(&mut self) {
        self.last_ns = None;
    }

    /// The call was answered with the time `now` (after any nap).
    pub(crate) fn answered(&mut self, now: u64) {
        self.last_ns = Some(now);
    }

    /// Count a call at `now`: how long to nap, if the guest is spinning.
    pub(crate) fn nap(&mut self, now: u64) -> Option<Duration> {
        if self
            .last_ns
            .is_some_and(|last| now.saturating_sub(last) < SPIN_GAP_NS)
        {
            self.streak = self.streak.saturating_add(1);
        } else {
            self.streak = 0;
            self.since_ns = now;
        }
        (self.streak >= SPIN_STREAK).then(|| {
            Duration::from_nanos(now.saturating_sub(self.since_ns) / 8)
                .clamp(SPIN_NAP_MIN, SPIN_NAP_MAX)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_a_row_are_a_spin_and_a_gap_ends_it() {
        let mut w = SpinWatch::default();
        let mut t = 1_000_000;
        let mut read = |w: &mut SpinWatch, step: u64| {
            t += step;
            let nap = w.nap(t);
            t += nap.map_or(0, |d| d.as_nanos() as u64);
            w.answered(t);
            nap
        };
        assert_eq!(read(&mut w, 0), None);
        // A few reads close together: a guest timing a short piece of work.
        for _ in 1..SPIN_STREAK {
            assert_eq!(read(&mut w, 500), None);
        }
        // One more in a row: a loop waiting on the clock, which naps
        // longer the longer it spins, up to the longest nap.
        assert_eq!(read(&mut w, 500), Some(SPIN_NAP_MIN));
        let naps: Vec<Duration> = (0..200).filter_map(|_| read(&mut w, 500)).collect();
        assert_eq!(naps.len(), 200);
        assert!(naps.windows(2).all(|p| p[0] <= p[1]), "{naps:?}");
        assert_eq!(naps.last(), Some(&SPIN_NAP_MAX));
        // The guest did something else in between.
        assert_eq!(read(&mut w, SPIN_GAP_NS), None);
        // Or read the other clocks (a new sleep): the streak starts afresh.
        for _ in 0..SPIN_STREAK {
            read(&mut w, 500);
        }
        assert!(read(&mut w, 500).is_some());
        w.reset();
        assert_eq!(read(&mut w, 500), None);
    }
}
