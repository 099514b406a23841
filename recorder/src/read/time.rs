//! Times on the command line (`--since`, `--until`) and in reports.
//!
//! Records carry CLOCK_MONOTONIC nanoseconds of the recording machine; the
//! header says where the recording started on that clock and on the wall
//! clock. Wall-clock times are always UTC, written and read, so output never
//! depends on the reader's time zone.

use crate::event::Header;

const NS: i128 = 1_000_000_000;
const DAY_NS: i128 = 86_400 * NS;

/// A point in time as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpec {
    /// Nanoseconds after the start of the recording (`2.5`, `1500ms`).
    Relative(u64),
    /// Unix epoch nanoseconds (`@1700000000.25`, `2024-05-01T12:00:00Z`).
    Wall(i128),
    /// UTC time of day, nanoseconds after midnight (`12:34:56.5`): the
    /// occurrence nearest the start of the recording.
    TimeOfDay(u64),
}

impl TimeSpec {
    /// The CLOCK_MONOTONIC nanoseconds of the recording machine this time
    /// means in the log described by `h` (may be out of the u64 range when
    /// the time lies far outside the recording: saturated).
    pub fn to_mono(self, h: &Header) -> u64 {
        let mono = match self {
            TimeSpec::Relative(ns) => i128::from(h.start_mono_ns) + i128::from(ns),
            TimeSpec::Wall(epoch) => epoch - i128::from(h.realtime_offset_ns),
            TimeSpec::TimeOfDay(tod) => {
                let start = i128::from(h.start_wall_ns);
                let day = start.div_euclid(DAY_NS) * DAY_NS;
                // Of the same time on the day before, of and after the
                // start, the one closest to the start.
                let wall = [-DAY_NS, 0, DAY_NS]
                    .iter()
                    .map(|d| day + d + i128::from(tod))
                    .min_by_key(|t| (t - start).abs())
                    .unwrap_or(day);
                wall - i128::from(h.realtime_offset_ns)
            }
        };
        mono.clamp(0, i128::from(u64::MAX)) as u64
    }
}

/// Parses `--since`/`--until` values:
///
/// - `2.5`, `2.5s`, `1500ms`, `250us`, `100ns`, `2m`, `1h`, optionally
///   after a `+`: that long after the recording started;
/// - `HH:MM[:SS[.fraction]]`: UTC time of day (the occurrence nearest the
///   start of the recording; give a date for recordings longer than 12 h);
/// - `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]][Z]`: UTC date and time;
/// - `@SECONDS[.fraction]`: Unix time.
pub fn parse_time(s: &str) -> Result<TimeSpec, String> {
    let s = s.trim();
    let bad = || {
        format!(
            "{s:?} is not a time: give seconds since the start (2.5, 1500ms), \
             a UTC time of day (12:34:56.5), a UTC date and time \
             (2024-05-01T12:34:56Z) or Unix time (@1714566896)"
        )
    };
    if let Some(epoch) = s.strip_prefix('@') {
        let (secs, frac) = split_fraction(epoch).ok_or_else(bad)?;
        let secs: i128 = secs.parse::<u64>().map_err(|_| bad())?.into();
        return Ok(TimeSpec::Wall(secs * NS + frac));
    }
    let date_time = (s.get(..10), s.get(10..));
    if let (Some(date), Some(time)) = date_time
        && date.as_bytes()[4] == b'-'
        && date.as_bytes()[7] == b'-'
    {
        let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
        let (Some(Some(y)), Some(Some(m)), Some(Some(day))) = (d.next(), d.next(), d.next()) else {
            return Err(bad());
        };
        if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
            return Err(bad());
        }
        let time = time
            .strip_prefix(['T', ' '])
            .ok_or_else(bad)?
            .trim_end_matches('Z');
        let tod = time_of_day(time).ok_or_else(bad)?;
        let days = i128::from(days_from_civil(y, m as u32, day as u32));
        return Ok(TimeSpec::Wall(days * DAY_NS + i128::from(tod)));
    }
    if s.contains(':') {
        return time_of_day(s).map(TimeSpec::TimeOfDay).ok_or_else(bad);
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let unit_at = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(unit_at);
    let per_unit: i128 = match unit {
        "" | "s" => NS,
        "ms" => 1_000_000,
        "us" => 1_000,
        "ns" => 1,
        "m" | "min" => 60 * NS,
        "h" => 3600 * NS,
        _ => return Err(bad()),
    };
    let (whole, frac_ns) = split_fraction(num).ok_or_else(bad)?;
    let whole: i128 = whole.parse::<u64>().map_err(|_| bad())?.into();
    // The fraction was parsed as nanoseconds of a second; scale it to the
    // unit without going through floating point.
    let ns = whole * per_unit + frac_ns * per_unit / NS;
    u64::try_from(ns).map(TimeSpec::Relative).map_err(|_| bad())
}

/// `"12.5"` → `("12", 500_000_000)`: the fraction as nanoseconds of one
/// unit (digits past the ninth are dropped).
fn split_fraction(s: &str) -> Option<(&str, i128)> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut ns: i128 = 0;
    for i in 0..9 {
        let digit = frac.as_bytes().get(i).map_or(0, |b| b - b'0');
        ns = ns * 10 + i128::from(digit);
    }
    Some((whole, ns))
}

/// `HH:MM[:SS[.fraction]]` → nanoseconds after midnight.
fn time_of_day(s: &str) -> Option<u64> {
    let mut parts = s.split(':');
    let h: u64 = parts.next()?.parse().ok()?;
    let m: u64 = parts.next()?.parse().ok()?;
    let (sec, frac) = match parts.next() {
        Some(p) => split_fraction(p)?,
        None => ("0", 0),
    };
    let sec: u64 = sec.parse().ok()?;
    if parts.next().is_some() || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some(((h * 60 + m) * 60 + sec) * 1_000_000_000 + frac as u64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (the inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// `2024-05-01 12:34:56.123456789 UTC` for Unix epoch nanoseconds.
pub fn utc(epoch_ns: i128) -> String {
    let days = epoch_ns.div_euclid(DAY_NS);
    let tod = epoch_ns.rem_euclid(DAY_NS);
    let (y, m, d) = civil_from_days(days as i64);
    let secs = tod / NS;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:09} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        tod % NS
    )
}

/// strace's sprinttime_nsec in UTC: `2024-05-01T12:34:56+0000`, with
/// `.123456789` before the zone when the nanoseconds are not 0.
pub(crate) fn strace_date(sec: i64, nsec: i64) -> String {
    let (y, m, d) = civil_from_days(sec.div_euclid(86_400));
    let tod = sec.rem_euclid(86_400);
    let frac = if nsec == 0 {
        String::new()
    } else {
        format!(".{nsec:09}")
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{frac}+0000",
        tod / 3600,
        tod / 60 % 60,
        tod % 60
    )
}

/// `12.345678901` (seconds with nanoseconds, for durations and offsets).
pub fn secs9(ns: u64) -> String {
    format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        // 2024-05-01 23:59:50 UTC, monotonic clock at 1000 s.
        let start_wall = 1_714_607_990 * 1_000_000_000u64;
        Header {
            start_wall_ns: start_wall,
            start_mono_ns: 1_000 * 1_000_000_000,
            realtime_offset_ns: start_wall as i64 - 1_000 * 1_000_000_000,
            ..Default::default()
        }
    }

    #[test]
    fn relative_times() {
        assert_eq!(parse_time("2.5"), Ok(TimeSpec::Relative(2_500_000_000)));
        assert_eq!(parse_time("+2.5s"), Ok(TimeSpec::Relative(2_500_000_000)));
        assert_eq!(parse_time("1500ms"), Ok(TimeSpec::Relative(1_500_000_000)));
        assert_eq!(parse_time("0.5ms"), Ok(TimeSpec::Relative(500_000)));
        assert_eq!(parse_time("250us"), Ok(TimeSpec::Relative(250_000)));
        assert_eq!(parse_time("7ns"), Ok(TimeSpec::Relative(7)));
        assert_eq!(parse_time("2m"), Ok(TimeSpec::Relative(120_000_000_000)));
        assert_eq!(
            parse_time("0.000000001"),
            Ok(TimeSpec::Relative(1)),
            "nanoseconds are exact"
        );
        for bad in [
            "",
            "soon",
            "1.2.3",
            "5 parsecs",
            "-1",
            ".5",
            "99999999999999999999h",
        ] {
            assert!(parse_time(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn wall_clock_times() {
        let h = header();
        let start = h.start_mono_ns;
        assert_eq!(
            parse_time("@1714607991").unwrap().to_mono(&h),
            start + 1_000_000_000
        );
        assert_eq!(
            parse_time("2024-05-01T23:59:52.5Z").unwrap().to_mono(&h),
            start + 2_500_000_000
        );
        assert_eq!(
            parse_time("2024-05-01 23:59:52.5").unwrap().to_mono(&h),
            start + 2_500_000_000
        );
        // Time of day: the occurrence nearest the start, across midnight.
        assert_eq!(
            parse_time("23:59:55").unwrap().to_mono(&h),
            start + 5_000_000_000
        );
        assert_eq!(
            parse_time("00:00:05").unwrap().to_mono(&h),
            start + 15_000_000_000
        );
        assert_eq!(
            parse_time("23:59:40").unwrap().to_mono(&h),
            start - 10_000_000_000
        );
        assert!(parse_time("24:00").is_err());
        assert!(parse_time("2024-13-01T00:00:00Z").is_err());
    }

    #[test]
    fn relative_to_mono() {
        let h = header();
        assert_eq!(TimeSpec::Relative(5).to_mono(&h), h.start_mono_ns + 5);
        // Long before the monotonic clock started: saturates at 0.
        assert_eq!(TimeSpec::Wall(0).to_mono(&h), 0);
    }

    #[test]
    fn utc_rendering() {
        assert_eq!(utc(0), "1970-01-01 00:00:00.000000000 UTC");
        assert_eq!(
            utc(1_714_607_990_123_456_789),
            "2024-05-01 23:59:50.123456789 UTC"
        );
        assert_eq!(utc(-1), "1969-12-31 23:59:59.999999999 UTC");
        for days in [-1_000_000i64, -1, 0, 59, 60, 365, 11_016, 1_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(secs9(1_500_000_007), "1.500000007");
    }
}
