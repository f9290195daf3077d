//! Wall-clock times as milliseconds since 1970-01-01T00:00:00 (the server's
//! local time, no zone), formatted the ways Postfix and syslog print them.
//! Calendar arithmetic is the product's own, so the generator and the
//! parser cannot disagree about a date.

use postmortem::time::{civil_from_days, days_from_civil};

pub const SEC: i64 = 1000;
pub const MIN: i64 = 60 * SEC;
pub const HOUR: i64 = 60 * MIN;
pub const DAY: i64 = 24 * HOUR;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
/// 1970-01-01 was a Thursday.
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

/// Midnight of a civil date.
pub fn midnight(y: i32, m: u32, d: u32) -> i64 {
    days_from_civil(y, m, d) * DAY
}

fn parts(t: i64) -> (i32, u32, u32, i64) {
    let (y, m, d) = civil_from_days(t.div_euclid(DAY));
    (y, m, d, t.rem_euclid(DAY) / SEC)
}

pub fn year(t: i64) -> i32 {
    parts(t).0
}

/// Hour of the day, 0..24.
pub fn hour(t: i64) -> i64 {
    t.rem_euclid(DAY) / HOUR
}

/// Saturday or Sunday.
pub fn weekend(t: i64) -> bool {
    matches!(t.div_euclid(DAY).rem_euclid(7), 2 | 3)
}

/// `Mar  3 09:40:12`: syslog's traditional stamp, the day padded with a space.
pub fn stamp(t: i64) -> String {
    let (_, m, d, s) = parts(t);
    format!(
        "{} {:>2} {:02}:{:02}:{:02}",
        MONTHS[m as usize - 1],
        d,
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// `2026-03-03T09:40:12`.
pub fn iso(t: i64) -> String {
    let (y, m, d, s) = parts(t);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// `2026-03-03T09:40:12.123Z`, as Microsoft's replies quote their own clock.
pub fn iso_millis(t: i64) -> String {
    format!("{}.{:03}Z", iso(t), t.rem_euclid(SEC))
}

/// `Tue Mar  3 09:40:12`, as `postqueue -p` shows arrival times.
pub fn queue_stamp(t: i64) -> String {
    let wd = WEEKDAYS[t.div_euclid(DAY).rem_euclid(7) as usize];
    format!("{wd} {}", stamp(t))
}

/// `20260303094012`, the start of Message-Ids made from the clock.
pub fn compact(t: i64) -> String {
    iso(t).replace(['-', 'T', ':'], "")
}

/// Postfix's delay formatting: two significant digits below ten seconds.
pub fn delay(secs: f64) -> String {
    if secs < 0.005 {
        "0".to_string()
    } else if secs < 10.0 {
        let s = if secs < 1.0 {
            format!("{secs:.2}")
        } else {
            format!("{secs:.1}")
        };
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{}", secs.round() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let t = midnight(2026, 3, 3) + 9 * HOUR + 40 * MIN + 12 * SEC;
        assert_eq!(stamp(t), "Mar  3 09:40:12");
        assert_eq!(iso(t), "2026-03-03T09:40:12");
        assert_eq!(queue_stamp(t), "Tue Mar  3 09:40:12");
        assert!(!weekend(t));
        assert!(weekend(midnight(2026, 3, 1)));
        assert_eq!(delay(0.004), "0");
        assert_eq!(delay(0.5), "0.5");
        assert_eq!(delay(1.25), "1.2");
        assert_eq!(delay(12.4), "12");
    }
}
