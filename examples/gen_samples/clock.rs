//! Time: milliseconds of wall clock since 2025-12-27T00:00:00, and the
//! stamps syslog, postqueue and the delay fields print.

use std::fmt::Write as _;

pub(super) const SEC: i64 = 1000;
pub(super) const MIN: i64 = 60 * SEC;
pub(super) const HOUR: i64 = 60 * MIN;
pub(super) const DAY: i64 = 24 * HOUR;
/// Days since 1970-01-01 of 2025-12-27, the simulation's day 0.
pub(super) const EPOCH_DAYS: i64 = 20449;

/// The product's own calendar arithmetic, so the generator and the parser
/// cannot disagree about a date.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let (y, m, d) = postmortem::time::civil_from_days(z);
    (i64::from(y), m, d)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

/// `Dec 29 09:40:12` (day padded with a space).
pub(super) fn syslog_stamp(t: i64) -> String {
    let days = t.div_euclid(DAY);
    let (_, m, d) = civil_from_days(EPOCH_DAYS + days);
    let s = t.div_euclid(SEC) % 86400;
    format!(
        "{} {:>2} {:02}:{:02}:{:02}",
        MONTHS[m as usize - 1],
        d,
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// `2025-12-29T09:40:12`.
pub fn iso(t: i64) -> String {
    let days = t.div_euclid(DAY);
    let (y, m, d) = civil_from_days(EPOCH_DAYS + days);
    let s = t.div_euclid(SEC) % 86400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// `Mon Dec 29 09:40:12`, as `postqueue -p` shows arrival times.
pub(super) fn queue_stamp(t: i64) -> String {
    let days = EPOCH_DAYS + t.div_euclid(DAY);
    format!(
        "{} {}",
        WEEKDAYS[days.rem_euclid(7) as usize],
        syslog_stamp(t)
    )
}

/// Hour of day 0..24 and day index of a time.
pub(super) fn hour_of(t: i64) -> (i64, i64) {
    (t.rem_euclid(DAY) / HOUR, t.div_euclid(DAY))
}

/// Postfix's delay formatting: two significant digits below ten seconds.
pub(super) fn fmt_delay(out: &mut String, secs: f64) {
    if secs < 0.005 {
        out.push('0');
    } else if secs < 1.0 {
        let s = format!("{secs:.2}");
        out.push_str(s.trim_end_matches('0').trim_end_matches('.'));
    } else if secs < 10.0 {
        let s = format!("{secs:.1}");
        out.push_str(s.trim_end_matches('0').trim_end_matches('.'));
    } else {
        let _ = write!(out, "{}", secs.round() as i64);
    }
}
