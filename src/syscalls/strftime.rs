//! `strftime` and `strftime_l`, which releases up to Emscripten 3.1.58
//! import from JS instead of formatting in libc. Behaves as the glue's
//! version: the C locale, English names, `%Z` from `tm_zone`, `%z` from
//! `tm_gmtoff`, unknown conversions copied as they are, 0 when the result
//! and its NUL do not fit in `maxsize`.

use super::Kernel;
use super::guest;

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The fields of a `struct tm` that formatting reads.
struct Tm {
    sec: i32,
    min: i32,
    hour: i32,
    mday: i32,
    mon: i32,
    year: i32,
    wday: i32,
    yday: i32,
    gmtoff: i32,
    zone: String,
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// ISO 8601 week-based year and week number of a date given by its year,
/// day of the year (0-based) and weekday (0 = Sunday).
fn iso_week(year: i64, yday: i32, wday: i32) -> (i64, i32) {
    let monday_based = (wday + 6).rem_euclid(7); // 0 = Monday
    // The Thursday of this date's week decides the year.
    let thursday_yday = yday - monday_based + 3;
    let days_in = |y: i64| if is_leap(y) { 366 } else { 365 };
    if thursday_yday < 0 {
        let prev = year - 1;
        let t = thursday_yday + days_in(prev);
        (prev, t / 7 + 1)
    } else if thursday_yday >= days_in(year) {
        (year + 1, 1)
    } else {
        (year, thursday_yday / 7 + 1)
    }
}

fn pad(v: i64, width: usize, fill: char) -> String {
    let s = v.to_string();
    if s.len() >= width {
        s
    } else {
        let mut out: String = std::iter::repeat_n(fill, width - s.len()).collect();
        out.push_str(&s);
        out
    }
}

fn name(list: &[&str], i: i32, short: bool) -> String {
    let full = list.get(i as usize).copied().unwrap_or("");
    if short {
        full.chars().take(3).collect()
    } else {
        full.to_string()
    }
}

/// Expand one conversion character (after `%` and an optional `E`/`O`).
fn convert(c: char, tm: &Tm, out: &mut String) -> bool {
    let year = i64::from(tm.year) + 1900;
    match c {
        'a' => out.push_str(&name(&WEEKDAYS, tm.wday, true)),
        'A' => out.push_str(&name(&WEEKDAYS, tm.wday, false)),
        'b' | 'h' => out.push_str(&name(&MONTHS, tm.mon, true)),
        'B' => out.push_str(&name(&MONTHS, tm.mon, false)),
        'c' => format_into("%a %b %d %H:%M:%S %Y", tm, out),
        'C' => out.push_str(&pad(year / 100, 2, '0')),
        'd' => out.push_str(&pad(tm.mday.into(), 2, '0')),
        'D' | 'x' => format_into("%m/%d/%y", tm, out),
        'e' => out.push_str(&pad(tm.mday.into(), 2, ' ')),
        'F' => format_into("%Y-%m-%d", tm, out),
        'g' => {
            let y = iso_week(year, tm.yday, tm.wday).0.to_string();
            out.push_str(y.get(2..).unwrap_or(""));
        }
        'G' => out.push_str(&iso_week(year, tm.yday, tm.wday).0.to_string()),
        'H' => out.push_str(&pad(tm.hour.into(), 2, '0')),
        'I' => {
            let h = match tm.hour {
                0 => 12,
                h if h > 12 => h - 12,
                h => h,
            };
            out.push_str(&pad(h.into(), 2, '0'));
        }
        'j' => out.push_str(&pad(i64::from(tm.yday) + 1, 3, '0')),
        'm' => out.push_str(&pad(i64::from(tm.mon) + 1, 2, '0')),
        'M' => out.push_str(&pad(tm.min.into(), 2, '0')),
        'n' => out.push('\n'),
        'p' => out.push_str(if (0..12).contains(&tm.hour) {
            "AM"
        } else {
            "PM"
        }),
        'r' => format_into("%I:%M:%S %p", tm, out),
        'R' => format_into("%H:%M", tm, out),
        'S' => out.push_str(&pad(tm.sec.into(), 2, '0')),
        't' => out.push('\t'),
        'T' | 'X' => format_into("%H:%M:%S", tm, out),
        'u' => out.push_str(&(if tm.wday == 0 { 7 } else { tm.wday }).to_string()),
        'U' => out.push_str(&pad(((tm.yday + 7 - tm.wday) / 7).into(), 2, '0')),
        'V' => out.push_str(&pad(iso_week(year, tm.yday, tm.wday).1.into(), 2, '0')),
        'w' => out.push_str(&tm.wday.to_string()),
        'W' => out.push_str(&pad(((tm.yday + 7 - (tm.wday + 6) % 7) / 7).into(), 2, '0')),
        'y' => {
            let y = year.to_string();
            out.push_str(y.get(2..).unwrap_or(""));
        }
        'Y' => out.push_str(&year.to_string()),
        'z' => {
            let off = i64::from(tm.gmtoff);
            let minutes = off.abs() / 60;
            out.push(if off >= 0 { '+' } else { '-' });
            out.push_str(&pad(minutes / 60 * 100 + minutes % 60, 4, '0'));
        }
        'Z' => out.push_str(&tm.zone),
        '%' => out.push('%'),
        _ => return false,
    }
    true
}

fn format_into(pattern: &str, tm: &Tm, out: &mut String) {
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut modifier = None;
        if let Some(&m @ ('E' | 'O')) = chars.peek() {
            modifier = Some(m);
            chars.next();
        }
        match chars.next() {
            Some(conv) if convert(conv, tm, out) => {}
            Some(conv) => {
                out.push('%');
                out.extend(modifier);
                out.push(conv);
            }
            None => {
                out.push('%');
                out.extend(modifier);
            }
        }
    }
}

fn read_tm(mem: &[u8], p: u32) -> Option<Tm> {
    let f = |off: u32| guest::read_i32(mem, p + off).ok();
    let zone_ptr = guest::read_u32(mem, p + 40).ok()?;
    let zone = if zone_ptr == 0 {
        String::new()
    } else {
        guest::read_cstr_lossy(mem, zone_ptr).unwrap_or_default()
    };
    Some(Tm {
        sec: f(0)?,
        min: f(4)?,
        hour: f(8)?,
        mday: f(12)?,
        mon: f(16)?,
        year: f(20)?,
        wday: f(24)?,
        yday: f(28)?,
        gmtoff: f(36)?,
        zone,
    })
}

impl Kernel {
    /// `strftime(s, maxsize, format, tm)`: the length written (without
    /// the NUL), or 0 when it does not fit.
    pub fn strftime(&mut self, mem: &mut [u8], s: i32, maxsize: i32, format: i32, tm: i32) -> i32 {
        let Some(t) = read_tm(mem, tm as u32) else {
            return 0;
        };
        let pattern = guest::read_cstr_lossy(mem, format as u32).unwrap_or_default();
        let mut out = String::new();
        format_into(&pattern, &t, &mut out);
        let mut bytes = out.into_bytes();
        bytes.push(0);
        if bytes.len() > maxsize as u32 as usize {
            return 0;
        }
        match guest::write_bytes(mem, s as u32, &bytes) {
            Ok(()) => bytes.len() as i32 - 1,
            Err(_) => 0,
        }
    }

    /// `strftime_l(s, maxsize, format, tm, locale)`: as `strftime`.
    pub fn strftime_l(
        &mut self,
        mem: &mut [u8],
        s: i32,
        maxsize: i32,
        format: i32,
        tm: i32,
        _locale: i32,
    ) -> i32 {
        self.strftime(mem, s, maxsize, format, tm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tm(year: i32, mon: i32, mday: i32, wday: i32, yday: i32) -> Tm {
        Tm {
            sec: 5,
            min: 4,
            hour: 13,
            mday,
            mon,
            year: year - 1900,
            wday,
            yday,
            gmtoff: 0,
            zone: "UTC".into(),
        }
    }

    fn fmt(p: &str, t: &Tm) -> String {
        let mut out = String::new();
        format_into(p, t, &mut out);
        out
    }

    #[test]
    fn formats_like_c() {
        // 2026-11-30 is a Monday, day 334 of the year (0-based 333).
        let t = tm(2026, 10, 30, 1, 333);
        assert_eq!(fmt("%Y-%m-%d %H:%M:%S", &t), "2026-11-30 13:04:05");
        assert_eq!(
            fmt("%a %A %b %B %j %u %w", &t),
            "Mon Monday Nov November 334 1 1"
        );
        assert_eq!(fmt("%c", &t), "Mon Nov 30 13:04:05 2026");
        assert_eq!(
            fmt("%I %p %y %C %e %z %Z %%", &t),
            "01 PM 26 20 30 +0000 UTC %"
        );
        assert_eq!(fmt("%G-W%V", &t), "2026-W49");
        assert_eq!(fmt("%Q %Ey", &t), "%Q 26");
    }

    #[test]
    fn iso_weeks_at_year_edges() {
        // 2021-01-01 (Friday) is in 2020-W53; 2024-12-30 (Monday) in 2025-W01.
        assert_eq!(iso_week(2021, 0, 5), (2020, 53));
        assert_eq!(iso_week(2024, 364, 1), (2025, 1));
    }
}
