//! Times as the server logged them.
//!
//! A [`LogTime`] is the wall-clock time of the log line in milliseconds since
//! 1970-01-01T00:00:00 *of that same wall clock*: no zone is applied, so a
//! year-less syslog stamp is never silently shifted to UTC. Arithmetic
//! (buckets, windows, ages) works on it directly; a zone is only applied when
//! formatting, if the user named one with `--timezone`.

use std::fmt::Write as _;

/// Wall-clock milliseconds since the civil epoch, zone not applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogTime(pub i64);

pub const SECOND: i64 = 1000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm; valid for any i32 year).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y as i64 - 1 } else { y as i64 };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

pub fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

impl LogTime {
    /// None when the fields do not form a real date and time.
    pub fn from_civil(
        y: i32,
        mo: u32,
        d: u32,
        h: u32,
        mi: u32,
        s: u32,
        ms: u32,
    ) -> Option<LogTime> {
        if !(1..=12).contains(&mo)
            || d == 0
            || d > days_in_month(y, mo)
            || h > 23
            || mi > 59
            || s > 60
            || ms > 999
        {
            return None;
        }
        let days = days_from_civil(y, mo, d);
        // A leap second (:60) is folded into the next second's start.
        Some(LogTime(
            days * DAY
                + h as i64 * HOUR
                + mi as i64 * MINUTE
                + s.min(59) as i64 * SECOND
                + ms as i64,
        ))
    }

    pub fn civil(self) -> (i32, u32, u32, u32, u32, u32, u32) {
        let days = self.0.div_euclid(DAY);
        let rem = self.0.rem_euclid(DAY);
        let (y, m, d) = civil_from_days(days);
        let h = (rem / HOUR) as u32;
        let mi = ((rem % HOUR) / MINUTE) as u32;
        let s = ((rem % MINUTE) / SECOND) as u32;
        let ms = (rem % SECOND) as u32;
        (y, m, d, h, mi, s, ms)
    }

    /// A civil date-time from jiff (a zone's wall clock).
    pub fn from_datetime(dt: jiff::civil::DateTime) -> Option<LogTime> {
        LogTime::from_civil(
            i32::from(dt.year()),
            dt.month() as u32,
            dt.day() as u32,
            dt.hour() as u32,
            dt.minute() as u32,
            dt.second() as u32,
            (dt.subsec_nanosecond() / 1_000_000) as u32,
        )
    }

    /// A file time as this machine's wall clock.
    pub fn from_system_time(t: std::time::SystemTime) -> Option<LogTime> {
        let ts = jiff::Timestamp::try_from(t).ok()?;
        LogTime::from_datetime(jiff::tz::TimeZone::system().to_datetime(ts))
    }

    /// A time the user typed, in the server's wall clock: `2026-01-03`,
    /// `2026-01-03T10:00`, `2026-01-03 10:00:00`.
    pub fn parse_local(s: &str) -> Result<LogTime, String> {
        let bad = || format!("{s:?} is not a time like 2026-01-03 or 2026-01-03T10:00");
        let s = s.trim();
        let (date, time) = s.split_once(['T', ' ']).unwrap_or((s, "00:00:00"));
        let d: Vec<u32> = date
            .split('-')
            .map(|x| x.parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        let t: Vec<u32> = time
            .split(':')
            .map(|x| x.parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        if d.len() != 3 || t.is_empty() || t.len() > 3 {
            return Err(bad());
        }
        let (h, m, sec) = (t[0], *t.get(1).unwrap_or(&0), *t.get(2).unwrap_or(&0));
        LogTime::from_civil(d[0] as i32, d[1], d[2], h, m, sec, 0).ok_or_else(bad)
    }

    pub fn year(self) -> i32 {
        self.civil().0
    }

    /// Start of the bucket of `width` milliseconds that holds this time.
    pub fn floor(self, width: i64) -> LogTime {
        LogTime(self.0 - self.0.rem_euclid(width.max(1)))
    }

    /// ISO 8601 without a zone designator: the server's wall clock.
    pub fn iso(self) -> String {
        let mut s = String::with_capacity(23);
        self.write_iso(&mut s);
        s
    }

    pub fn write_iso(self, out: &mut String) {
        let (y, m, d, h, mi, s, ms) = self.civil();
        let _ = write!(out, "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
        if ms != 0 {
            let _ = write!(out, ".{ms:03}");
        }
    }

    /// `HH:MM` for headlines, with the date when it differs from `reference`.
    pub fn short(self, reference: Option<LogTime>) -> String {
        let (y, m, d, h, mi, _, _) = self.civil();
        match reference {
            Some(r) if r.0.div_euclid(DAY) == self.0.div_euclid(DAY) => format!("{h:02}:{mi:02}"),
            _ => format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}"),
        }
    }
}

/// Formats log times for the reports, applying `--timezone` when given: the
/// wall-clock times are then read as that zone's and printed with its offset.
#[derive(Debug, Clone, Default)]
pub struct TimeFormat {
    zone: Option<jiff::tz::TimeZone>,
    name: Option<String>,
}

impl TimeFormat {
    pub fn local() -> Self {
        TimeFormat::default()
    }

    pub fn with_zone(name: &str) -> crate::Result<Self> {
        let zone = jiff::tz::TimeZone::get(name).map_err(|e| {
            crate::Error::Usage(format!(
                "unknown --timezone {name:?}: {e}; use an IANA name such as Europe/Berlin or UTC"
            ))
        })?;
        Ok(TimeFormat {
            zone: Some(zone),
            name: Some(name.to_string()),
        })
    }

    /// Times written with the one UTC offset every line carried.
    pub fn fixed(offset_secs: i32) -> Self {
        let zone = jiff::tz::Offset::from_seconds(offset_secs)
            .map(jiff::tz::TimeZone::fixed)
            .ok();
        TimeFormat {
            name: zone.as_ref().map(|_| offset_text(offset_secs)),
            zone,
        }
    }

    /// The zone named with `--timezone`, if any.
    pub fn zone(&self) -> Option<&jiff::tz::TimeZone> {
        self.zone.as_ref()
    }

    pub fn zone_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| "local".to_string())
    }

    pub fn iso(&self, t: LogTime) -> String {
        let mut s = t.iso();
        if let Some(zone) = &self.zone {
            let (y, m, d, h, mi, sec, ms) = t.civil();
            if let Ok(dt) = jiff::civil::DateTime::new(
                y as i16,
                m as i8,
                d as i8,
                h as i8,
                mi as i8,
                sec as i8,
                ms as i32 * 1_000_000,
            ) {
                if let Ok(zoned) = dt.to_zoned_datetime(zone.clone()) {
                    let secs = zoned.offset().seconds();
                    let sign = if secs < 0 { '-' } else { '+' };
                    let a = secs.abs();
                    let _ = write!(s, "{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60);
                }
            }
        }
        s
    }
}

/// `+01:00`, `-05:30`, `+00:00`: a UTC offset in seconds, as ISO 8601
/// writes it.
pub fn offset_text(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_across_leap_years() {
        for (y, m, d) in [
            (1970, 1, 1),
            (2024, 2, 29),
            (2026, 12, 31),
            (2027, 1, 1),
            (2000, 2, 29),
        ] {
            let t = LogTime::from_civil(y, m, d, 23, 59, 58, 7).unwrap();
            assert_eq!(t.civil(), (y, m, d, 23, 59, 58, 7));
        }
        assert!(LogTime::from_civil(2026, 2, 29, 0, 0, 0, 0).is_none());
        assert_eq!(LogTime::from_civil(1970, 1, 2, 0, 0, 0, 0).unwrap().0, DAY);
    }

    #[test]
    fn typed_times_parse_or_explain() {
        let t = LogTime::from_civil(2026, 11, 28, 18, 56, 6, 0).unwrap();
        assert_eq!(LogTime::parse_local("2026-11-28T18:56:06"), Ok(t));
        assert_eq!(LogTime::parse_local("2026-11-28 18:56:06"), Ok(t));
        assert_eq!(LogTime::parse_local("2026-11-28").unwrap().civil().3, 0);
        assert!(LogTime::parse_local("yesterday")
            .unwrap_err()
            .contains("is not a time"));
        assert!(LogTime::parse_local("2026-02-30").is_err());
    }

    #[test]
    fn iso_has_no_zone_unless_asked() {
        let t = LogTime::from_civil(2026, 11, 28, 18, 30, 3, 0).unwrap();
        assert_eq!(t.iso(), "2026-11-28T18:30:03");
        let f = TimeFormat::with_zone("UTC").unwrap();
        assert_eq!(f.iso(t), "2026-11-28T18:30:03+00:00");
    }
}
