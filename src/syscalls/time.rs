//! Calendar-time imports, behaving as the glue does when the JS time zone
//! is UTC (the only zone supported): `_tzset_js` reports offset 0, no DST
//! and the names `UTC-0000`; `_localtime_js` equals `_gmtime_js` plus
//! `tm_isdst = 0` and `tm_gmtoff = 0`; `_mktime_js` equals `_timegm_js`
//! plus the field normalisation JS `Date` does. Neither writes `tm_zone`.
//!
//! JS `Date` semantics reproduced: the year argument 0..=99 means 1900+y,
//! times beyond ±8.64e15 ms are invalid; an invalid date stores 0 in every
//! field the glue writes and `mktime` returns -1. (`_timegm_js` throws in
//! JS on an invalid date; here it returns -1.)
//!
//! `struct tm`: `tm_sec` @0, `tm_min` @4, `tm_hour` @8, `tm_mday` @12,
//! `tm_mon` @16, `tm_year` @20, `tm_wday` @24, `tm_yday` @28, `tm_isdst`
//! @32, `tm_gmtoff` @36, `tm_zone` @40.

use super::Kernel;
use super::errno::SysResult;
use super::guest;
#[cfg(test)]
use super::spin::{SPIN_NAP_MIN, SPIN_STREAK};

const MS_PER_DAY: i128 = 86_400_000;
const MAX_MS: i128 = 8_640_000_000_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1..=12).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month 1..=12, day) of a day number.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Broken-down UTC time of a valid JS time value (ms).
#[derive(Debug, Default, PartialEq, Eq)]
struct Tm {
    sec: i32,
    min: i32,
    hour: i32,
    mday: i32,
    mon: i32,
    year: i32,
    wday: i32,
    yday: i32,
}

fn breakdown(ms: i128) -> Tm {
    let days = ms.div_euclid(MS_PER_DAY) as i64;
    let in_day = ms.rem_euclid(MS_PER_DAY) as i64 / 1000;
    let (y, m, d) = civil_from_days(days);
    Tm {
        sec: (in_day % 60) as i32,
        min: (in_day / 60 % 60) as i32,
        hour: (in_day / 3600) as i32,
        mday: d as i32,
        mon: (m - 1) as i32,
        year: (y - 1900) as i32,
        wday: (days + 4).rem_euclid(7) as i32,
        yday: (days - days_from_civil(y, 1, 1)) as i32,
    }
}

/// JS `Date.UTC(year, mon, mday, hour, min, sec)` (also `new Date(...)`
/// in a UTC zone): `None` if the result is not a valid time.
fn make_time(year: i64, mon: i32, mday: i32, hour: i32, min: i32, sec: i32) -> Option<i128> {
    let mut y = year;
    if (0..=99).contains(&y) {
        y += 1900;
    }
    let ym = y + (mon as i64).div_euclid(12);
    let mn = (mon as i64).rem_euclid(12);
    let day = days_from_civil(ym, mn + 1, 1) as i128 + mday as i128 - 1;
    let ms =
        day * MS_PER_DAY + hour as i128 * 3_600_000 + min as i128 * 60_000 + sec as i128 * 1000;
    (ms.abs() <= MAX_MS).then_some(ms)
}

fn epoch_ms(t: i64) -> Option<i128> {
    let ms = t as i128 * 1000;
    (t.unsigned_abs() <= 1 << 53 && ms.abs() <= MAX_MS).then_some(ms)
}

fn read_tm_inputs(mem: &[u8], tm: u32) -> SysResult<[i32; 6]> {
    let mut v = [0i32; 6];
    for (i, off) in [20u32, 16, 12, 8, 4, 0].into_iter().enumerate() {
        v[i] = guest::read_i32(mem, tm + off)?;
    }
    Ok(v)
}

fn write_tm(mem: &mut [u8], p: u32, t: &Tm) -> SysResult<()> {
    for (off, v) in [
        (0, t.sec),
        (4, t.min),
        (8, t.hour),
        (12, t.mday),
        (16, t.mon),
        (20, t.year),
        (24, t.wday),
        (28, t.yday),
    ] {
        guest::write_i32(mem, p + off, v)?;
    }
    Ok(())
}

impl Kernel {
    /// The name `_tzset_js` gives the UTC zone (the glue's own: `UTC-0000`
    /// from Emscripten 4, `UTC` or `Coordinated Universal Time` in older
    /// glue, as Node names it).
    pub fn set_utc_zone_name(&mut self, name: &str) {
        self.utc_zone_name = name.to_string();
    }

    /// The name `_tzset_js` gives the UTC zone.
    pub fn utc_zone_name(&self) -> &str {
        &self.utc_zone_name
    }

    /// `_tzset_js(timezone, daylight, std_name, dst_name)`: UTC.
    pub fn tzset_js(
        &mut self,
        mem: &mut [u8],
        timezone: i32,
        daylight: i32,
        std_name: i32,
        dst_name: i32,
    ) {
        let _ = guest::write_u32(mem, timezone as u32, 0);
        let _ = guest::write_i32(mem, daylight as u32, 0);
        let name = self.utc_zone_name.clone();
        let _ = guest::write_cstr_trunc(mem, std_name as u32, name.as_bytes(), 17);
        let _ = guest::write_cstr_trunc(mem, dst_name as u32, name.as_bytes(), 17);
    }

    /// `_gmtime_js(time, tm)`: fields `tm_sec`..`tm_yday`.
    pub fn gmtime_js(&mut self, mem: &mut [u8], time: i64, tm: i32) {
        let t = epoch_ms(time).map(breakdown).unwrap_or_default();
        let _ = write_tm(mem, tm as u32, &t);
    }

    /// `_gmtime_js(time, tm) -> i32` as Emscripten 6 declares it: 1 (and
    /// nothing written) when `time` is not a valid JS date, else 0.
    pub fn gmtime_js_checked(&mut self, mem: &mut [u8], time: i64, tm: i32) -> i32 {
        if epoch_ms(time).is_none() {
            return 1;
        }
        self.gmtime_js(mem, time, tm);
        0
    }

    /// `_localtime_js(time, tm) -> i32`: as [`Kernel::gmtime_js_checked`].
    pub fn localtime_js_checked(&mut self, mem: &mut [u8], time: i64, tm: i32) -> i32 {
        if epoch_ms(time).is_none() {
            return 1;
        }
        self.localtime_js(mem, time, tm);
        0
    }

    /// `_localtime_js(time, tm)`: as `gmtime` plus `tm_isdst = 0` and
    /// `tm_gmtoff = 0`.
    pub fn localtime_js(&mut self, mem: &mut [u8], time: i64, tm: i32) {
        self.gmtime_js(mem, time, tm);
        let _ = guest::write_i32(mem, tm as u32 + 36, 0);
        let _ = guest::write_i32(mem, tm as u32 + 32, 0);
    }

    /// `_mktime_js(tm)`: normalises the fields (and `tm_isdst` to 0 when
    /// negative), computes `tm_wday`/`tm_yday`, returns the time or -1.
    pub fn mktime_js(&mut self, mem: &mut [u8], tm: i32) -> i64 {
        let p = tm as u32;
        let Ok([y, mo, d, h, mi, s]) = read_tm_inputs(mem, p) else {
            return -1;
        };
        let ms = make_time(y as i64 + 1900, mo, d, h, mi, s);
        if guest::read_i32(mem, p + 32).is_ok_and(|dst| dst < 0) {
            let _ = guest::write_i32(mem, p + 32, 0);
        }
        let t = ms.map(breakdown).unwrap_or_default();
        let _ = write_tm(mem, p, &t);
        ms.map_or(-1, |ms| (ms / 1000) as i64)
    }

    /// `_timegm_js(tm)`: writes `tm_wday`/`tm_yday` only, returns the time
    /// or -1.
    pub fn timegm_js(&mut self, mem: &mut [u8], tm: i32) -> i64 {
        let p = tm as u32;
        let Ok([y, mo, d, h, mi, s]) = read_tm_inputs(mem, p) else {
            return -1;
        };
        let ms = make_time(y as i64 + 1900, mo, d, h, mi, s);
        let t = ms.map(breakdown).unwrap_or_default();
        let _ = guest::write_i32(mem, p + 24, t.wday);
        let _ = guest::write_i32(mem, p + 28, t.yday);
        ms.map_or(-1, |ms| (ms / 1000) as i64)
    }

    /// `emscripten_date_now()`: `Date.now()`, whole milliseconds.
    pub fn emscripten_date_now(&mut self, _mem: &mut [u8]) -> f64 {
        (self.clock.realtime().as_nanos().div_euclid(1_000_000)) as f64
    }

    /// `emscripten_get_now()`: `performance.now()`, fractional milliseconds
    /// since the process started. A guest that reads it in a tight loop is
    /// waiting for it to pass a time: the host naps before answering (see
    /// `spin.rs`).
    pub fn emscripten_get_now(&mut self, _mem: &mut [u8]) -> f64 {
        let mut now = self.clock.monotonic_ns();
        if let Some(nap) = self.spin.nap(now) {
            std::thread::sleep(nap);
            now = self.clock.monotonic_ns();
        }
        self.spin.answered(now);
        now as f64 / 1e6
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::testutil::*;

    #[test]
    fn civil_roundtrip() {
        for d in [-1_000_000i64, -719_468, -1, 0, 1, 10_957, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn gmtime_localtime() {
        let (mut k, mut m) = kernel();
        let tm = 1000;
        // 2024-02-29 13:14:15 UTC, a Thursday, day 59 of the year.
        k.localtime_js(&mut m, 1_709_212_455, tm);
        let f: Vec<i32> = (0..10).map(|i| rd_i32(&m, tm as u32 + 4 * i)).collect();
        assert_eq!(f, vec![15, 14, 13, 29, 1, 124, 4, 59, 0, 0]);
        k.gmtime_js(&mut m, -1, tm);
        let f: Vec<i32> = (0..8).map(|i| rd_i32(&m, tm as u32 + 4 * i)).collect();
        assert_eq!(f, vec![59, 59, 23, 31, 11, 69, 3, 364]);
        // Out of JS Date range: all zero.
        k.gmtime_js(&mut m, i64::MAX, tm);
        assert!((0..8).all(|i| rd_i32(&m, tm as u32 + 4 * i) == 0));
    }

    #[test]
    fn mktime_normalises() {
        let (mut k, mut m) = kernel();
        let tm = 1000u32;
        // 2023-13-32 25:61:61 -> 2024-02-02 02:02:01
        for (off, v) in [
            (0, 61),
            (4, 61),
            (8, 25),
            (12, 32),
            (16, 12),
            (20, 123),
            (32, -1),
        ] {
            wr_i32(&mut m, tm + off, v);
        }
        let t = k.mktime_js(&mut m, tm as i32);
        assert_eq!(t, 1_706_839_321);
        let f: Vec<i32> = (0..9).map(|i| rd_i32(&m, tm + 4 * i)).collect();
        assert_eq!(f, vec![1, 2, 2, 2, 1, 124, 5, 32, 0]);
        assert_eq!(k.timegm_js(&mut m, tm as i32), 1_706_839_321);
        // Year 1900+(-1850)=50 is taken as 1950 by JS Date.
        wr_i32(&mut m, tm + 20, -1850);
        let t = k.timegm_js(&mut m, tm as i32);
        let (y, _, _) = civil_from_days(t.div_euclid(86_400));
        assert_eq!(y, 1950);
        wr_i32(&mut m, tm + 20, i32::MAX);
        assert_eq!(k.mktime_js(&mut m, tm as i32), -1);
        assert_eq!(rd_i32(&m, tm + 20), 0);
    }

    #[test]
    fn a_guest_spinning_on_the_clock_waits_and_sees_the_time_pass() {
        let mut k = crate::syscalls::Kernel::new(crate::syscalls::KernelConfig::default());
        let mut m = vec![0u8; 16];
        let reads = SPIN_STREAK + 20;
        let start = std::time::Instant::now();
        let first = k.emscripten_get_now(&mut m);
        let mut last = first;
        for _ in 1..reads {
            let now = k.emscripten_get_now(&mut m);
            assert!(now >= last, "monotonic");
            last = now;
        }
        let napped = SPIN_NAP_MIN * (reads - SPIN_STREAK);
        assert!(start.elapsed() >= napped, "{:?}", start.elapsed());
        assert!(last - first >= napped.as_secs_f64() * 1e3, "{first} {last}");
    }

    #[test]
    fn tzset_names() {
        let (mut k, mut m) = kernel();
        m[100..104].fill(0xff);
        k.tzset_js(&mut m, 100, 104, 200, 300);
        assert_eq!(rd_i32(&m, 100), 0);
        assert_eq!(rd_i32(&m, 104), 0);
        assert_eq!(&m[200..209], b"UTC-0000\0");
        assert_eq!(&m[300..309], b"UTC-0000\0");
        assert_eq!(k.emscripten_date_now(&mut m), 1_700_000_000_123.0);
        assert_eq!(k.emscripten_get_now(&mut m), 5.0);
    }
}
