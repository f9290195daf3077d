//! Years for year-less syslog stamps, per rotation series.

use super::Correlator;
use crate::parse::Stamp;
use crate::time::LogTime;

/// How year-less stamps get their year.
#[derive(Debug, Clone, Copy)]
pub struct YearPolicy {
    /// `--year`: the year of the first year-less line of each file series.
    pub forced: Option<i32>,
    /// The newest input's modification date (local), as (year, month, day).
    pub anchor: Option<(i32, u32, u32)>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct SeriesYear {
    year: i32,
    month: u8,
}

/// The server's zone (`--timezone`), to put lines written with a UTC
/// offset on the wall clock of the lines written without one.
#[derive(Debug, Clone)]
pub(super) struct ZoneClock {
    zone: jiff::tz::TimeZone,
    /// (line offset, hour of the instant) -> the zone's offset then, in ms.
    cache: Option<(i32, i64, i64)>,
}

impl ZoneClock {
    pub(super) fn new(zone: jiff::tz::TimeZone) -> Self {
        ZoneClock { zone, cache: None }
    }

    /// A wall-clock time written with `offset` (seconds east of UTC), as
    /// the zone's wall clock.
    fn convert(&mut self, time: LogTime, offset: i32) -> LogTime {
        let instant = time.0 - i64::from(offset) * 1000;
        let hour = instant.div_euclid(crate::time::HOUR);
        let delta = match self.cache {
            Some((o, h, d)) if o == offset && h == hour => d,
            _ => {
                let d = jiff::Timestamp::from_millisecond(instant)
                    .map_or(0, |ts| i64::from(self.zone.to_offset(ts).seconds()) * 1000);
                self.cache = Some((offset, hour, d));
                d
            }
        };
        LogTime(instant + delta)
    }
}

impl Correlator<'_> {
    /// Counts how a line's time was written: with an offset or without.
    pub(super) fn count_clock(&mut self, stamp: Stamp) {
        let clocks = &mut self.findings.clocks;
        let Stamp::Full {
            offset: Some(offset),
            ..
        } = stamp
        else {
            clocks.local += 1;
            return;
        };
        if self.zone.is_some() {
            clocks.converted += 1;
        }
        match clocks.offsets.iter().position(|(o, _)| *o == offset) {
            Some(i) => clocks.offsets[i].1 += 1,
            None if clocks.offsets.len() < 64 => clocks.offsets.push((offset, 1)),
            None => {}
        }
    }

    /// Turns a stamp into a time, giving year-less stamps their year and
    /// putting a stamp with an offset on the server's clock when its zone
    /// is known.
    pub(super) fn resolve(&mut self, series: u32, stamp: Stamp) -> Option<LogTime> {
        let (month, day) = match stamp {
            Stamp::Full { time, offset } => {
                return Some(match (offset, &mut self.zone) {
                    (Some(offset), Some(z)) => z.convert(time, offset),
                    _ => time,
                });
            }
            Stamp::YearLess { month, day, .. } => (month, day),
        };
        let years = self.years;
        let state = self.series_year.entry(series).or_insert_with(|| {
            let year = match (years.forced, years.anchor) {
                (Some(y), _) => y,
                // The first line is not after the newest file was written:
                // if its date is later in the calendar than the anchor's, it
                // is from the year before.
                (None, Some((ay, am, ad))) => {
                    if (month as u32, day as u32) > (am, ad) {
                        ay - 1
                    } else {
                        ay
                    }
                }
                (None, None) => 1970,
            };
            SeriesYear { year, month }
        });
        if self.findings.year.is_none() {
            let how = match (years.forced, years.anchor) {
                (Some(_), _) => "given with --year".to_string(),
                (None, Some((y, m, d))) => format!(
                    "inferred: the first year-less line is not after the newest input's modification date ({y:04}-{m:02}-{d:02})"
                ),
                (None, None) => "unknown: no modification time to anchor on".to_string(),
            };
            self.findings.year = Some((state.year, how));
        }
        let mut year = state.year;
        if month + 6 <= state.month {
            // December to January: a new year.
            state.year += 1;
            state.month = month;
            year = state.year;
        } else if month >= state.month + 6 {
            // A late line from before the turn of the year.
            year -= 1;
        } else if month > state.month {
            state.month = month;
        }
        let t = stamp.in_year(year)?;
        if self.future_after.is_some_and(|f| t > f) {
            self.findings.future_stamps += 1;
        }
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Classifier;

    #[test]
    fn year_rolls_over_in_december() {
        let classifier = Classifier::builtin();
        let mut c = Correlator::new(
            &classifier,
            YearPolicy {
                forced: None,
                anchor: Some((2026, 1, 3)),
            },
        );
        let dec = Stamp::YearLess {
            month: 12,
            day: 31,
            millis_of_day: 0,
        };
        let jan = Stamp::YearLess {
            month: 1,
            day: 1,
            millis_of_day: 0,
        };
        assert_eq!(c.resolve(1, dec).unwrap().year(), 2025);
        assert_eq!(c.resolve(1, jan).unwrap().year(), 2026);
        // A late December line after the turn stays in December 2025.
        assert_eq!(c.resolve(1, dec).unwrap().year(), 2025);
        assert_eq!(c.resolve(1, jan).unwrap().year(), 2026);
        assert_eq!(c.findings.future_stamps, 0);
        // Two days after the anchor is still the present; a week is not.
        let on = |day| Stamp::YearLess {
            month: 1,
            day,
            millis_of_day: 0,
        };
        c.resolve(1, on(5));
        assert_eq!(c.findings.future_stamps, 0);
        c.resolve(1, on(10));
        assert_eq!(c.findings.future_stamps, 1);
    }
}
