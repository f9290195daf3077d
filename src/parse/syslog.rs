//! The syslog header: time, host, program, pid, then the message.
//!
//! Three shapes reach us, often mixed in one file:
//! - traditional `Jan  3 10:11:12 host prog[pid]: msg` and Postfix's own
//!   `maillog_file` with a zero-padded day (`Jan 03`), no year;
//! - `journalctl -o short-precise` (`Jan 03 10:11:12.123456`), no year;
//! - RFC 3339 / ISO 8601 with fractions and offsets (rsyslog's high
//!   precision format, `journalctl -o short-iso` with `+0100`).
//!
//! A hand-written parser: measured here it runs six times faster than a
//! chrono or jiff format string, and it never allocates.

use crate::time::LogTime;

/// When the line was written, as far as the line itself says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// Complete date and time; `offset` in seconds when the line carried one.
    Full { time: LogTime, offset: Option<i32> },
    /// Month, day and time without a year; the year is inferred later.
    YearLess {
        month: u8,
        day: u8,
        millis_of_day: u32,
    },
}

impl Stamp {
    /// A key that sorts year-less stamps within one year.
    pub fn month_day(&self) -> Option<(u8, u8)> {
        match *self {
            Stamp::YearLess { month, day, .. } => Some((month, day)),
            Stamp::Full { .. } => None,
        }
    }

    /// The stamp in a given year; `None` for Feb 29 of a common year.
    pub fn in_year(&self, year: i32) -> Option<LogTime> {
        match *self {
            Stamp::Full { time, .. } => Some(time),
            Stamp::YearLess {
                month,
                day,
                millis_of_day,
            } => LogTime::from_civil(year, month as u32, day as u32, 0, 0, 0, 0)
                .map(|t| LogTime(t.0 + millis_of_day as i64)),
        }
    }
}

/// The parts of a syslog line, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub stamp: Stamp,
    pub host: &'a [u8],
    /// `postfix/smtp`, `postfix-out/smtp`, `dovecot`; empty when the line has
    /// none (`last message repeated 3 times`).
    pub program: &'a [u8],
    /// The digits between the brackets, unparsed: nothing on the hot path
    /// needs the number.
    pub pid: &'a [u8],
    pub message: &'a [u8],
}

impl Header<'_> {
    /// The process id, when the tag holds one.
    pub fn pid(&self) -> Option<u32> {
        std::str::from_utf8(self.pid).ok()?.parse().ok()
    }
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn month_number(b: &[u8]) -> Option<u8> {
    let key = [b.first()? | 0x20, b.get(1)? | 0x20, b.get(2)? | 0x20];
    MONTHS
        .iter()
        .position(|m| m[0] | 0x20 == key[0] && m[1] == key[1] && m[2] == key[2])
        .map(|i| i as u8 + 1)
}

#[inline]
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// `.123456` after the seconds: returns milliseconds and the bytes consumed.
fn fraction(b: &[u8], at: usize) -> (u32, usize) {
    if b.get(at) != Some(&b'.') && b.get(at) != Some(&b',') {
        return (0, 0);
    }
    let mut ms = 0u32;
    let mut n = 0usize;
    let mut i = at + 1;
    while let Some(&c) = b.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        if n < 3 {
            ms = ms * 10 + (c - b'0') as u32;
        }
        n += 1;
        i += 1;
    }
    if n == 0 {
        return (0, 0);
    }
    for _ in n..3 {
        ms *= 10;
    }
    (ms, i - at)
}

/// `HH:MM:SS` at `at`: millis of day and the bytes consumed (with fraction).
fn clock(b: &[u8], at: usize) -> Option<(u32, usize)> {
    let h = digits(b, at, 2)?;
    let m = digits(b, at + 3, 2)?;
    let s = digits(b, at + 6, 2)?;
    if b[at + 2] != b':' || b[at + 5] != b':' || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let (ms, used) = fraction(b, at + 8);
    Some(((h * 3600 + m * 60 + s.min(59)) * 1000 + ms, 8 + used))
}

/// Parses the stamp at the start of `line`: the stamp and the bytes used.
pub fn parse_stamp(line: &[u8]) -> Option<(Stamp, usize)> {
    let first = *line.first()?;
    if first.is_ascii_digit() {
        // rsyslog templates that put the year first: `2013 Jun 12 06:35:24.123`.
        if line.get(4) == Some(&b' ') {
            let year = digits(line, 0, 4)? as i32;
            // Only a month name may follow: recursing on `2013 2013 2013 ...`
            // would nest once per five bytes and overflow the stack on a
            // long hostile line.
            if !line.get(5).is_some_and(u8::is_ascii_alphabetic) {
                return None;
            }
            let (stamp, used) = parse_stamp(&line[5..])?;
            return match stamp {
                Stamp::YearLess {
                    month,
                    day,
                    millis_of_day,
                } => {
                    let day_start =
                        LogTime::from_civil(year, month as u32, day as u32, 0, 0, 0, 0)?;
                    Some((
                        Stamp::Full {
                            time: LogTime(day_start.0 + millis_of_day as i64),
                            offset: None,
                        },
                        5 + used,
                    ))
                }
                Stamp::Full { .. } => None,
            };
        }
        return parse_iso(line);
    }
    let month = month_number(line)?;
    if line.get(3) != Some(&b' ') {
        return None;
    }
    // Day: " 3", "03" or a bare "3" (seen in fail2ban's samples). The
    // bytes are copied once: a mapped rotation cut while it is read can
    // change under us, and a digit checked must be the digit used.
    let (day, after_day) = match (line.get(4).copied(), line.get(5).copied()) {
        (Some(b' '), Some(d)) if d.is_ascii_digit() => ((d - b'0') as u32, 6),
        (Some(a), Some(b)) if a.is_ascii_digit() && b.is_ascii_digit() => {
            (((a - b'0') * 10 + (b - b'0')) as u32, 6)
        }
        (Some(a), Some(b' ')) if a.is_ascii_digit() => ((a - b'0') as u32, 5),
        _ => return None,
    };
    if day == 0 || day > 31 || line.get(after_day) != Some(&b' ') {
        return None;
    }
    let (millis_of_day, used) = clock(line, after_day + 1)?;
    Some((
        Stamp::YearLess {
            month,
            day: day as u8,
            millis_of_day,
        },
        after_day + 1 + used,
    ))
}

/// `2026-01-03T10:11:12.123+01:00`, `...Z`, `...+0100`, or with a space for `T`.
fn parse_iso(line: &[u8]) -> Option<(Stamp, usize)> {
    let y = digits(line, 0, 4)?;
    if line.get(4) != Some(&b'-') || line.get(7) != Some(&b'-') {
        return None;
    }
    let mo = digits(line, 5, 2)?;
    let d = digits(line, 8, 2)?;
    if !matches!(line.get(10), Some(b'T') | Some(b' ')) {
        return None;
    }
    let (millis, used) = clock(line, 11)?;
    let mut i = 11 + used;
    let offset = match line.get(i) {
        Some(b'Z') | Some(b'z') => {
            i += 1;
            Some(0)
        }
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(line, i + 1, 2)?;
            let (om, len) = if line.get(i + 3) == Some(&b':') {
                (digits(line, i + 4, 2)?, 6)
            } else {
                (digits(line, i + 3, 2)?, 5)
            };
            i += len;
            let secs = (oh * 3600 + om * 60) as i32;
            Some(if sign == b'-' { -secs } else { secs })
        }
        _ => None,
    };
    let day_start = LogTime::from_civil(y as i32, mo, d, 0, 0, 0, 0)?;
    Some((
        Stamp::Full {
            time: LogTime(day_start.0 + millis as i64),
            offset,
        },
        i,
    ))
}

/// Splits a syslog line into its header and message. `None` when the line
/// does not start with a stamp we know.
pub fn parse_header(line: &[u8]) -> Option<Header<'_>> {
    let (stamp, mut at) = parse_stamp(line)?;
    // Lines re-shipped by docker or logstash carry a second, traditional
    // stamp after the collector's ISO one: the first is the better clock.
    if matches!(stamp, Stamp::Full { .. }) && line.get(at) == Some(&b' ') {
        if let Some((_, used)) = parse_stamp(&line[at + 1..]) {
            at += 1 + used;
        }
    }
    if line.get(at) != Some(&b' ') {
        return None;
    }
    at += 1;
    // Host: one token. An empty host shows as a double space.
    let rest = &line[at..];
    let host_end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
    let host = &rest[..host_end];
    let mut rest = rest.get(host_end + 1..).unwrap_or(&[]);
    if host.is_empty() {
        // `Aug 31 00:21:33  dovecot: ...`: skip the extra space.
        while rest.first() == Some(&b' ') {
            rest = &rest[1..];
        }
    }
    // Program: up to `[pid]:` or `:`; none for "last message repeated".
    let tag_end = rest
        .iter()
        .position(|&c| c == b' ' || c == b'[' || c == b':');
    let (program, pid, message) = match tag_end {
        Some(end) if rest[end] == b'[' => {
            let close = memchr::memchr(b']', &rest[end..]).map(|p| end + p);
            match close {
                Some(close) if rest.get(close + 1) == Some(&b':') => {
                    let pid = &rest[end + 1..close];
                    let msg_start = (close + 2 + usize::from(rest.get(close + 2) == Some(&b' ')))
                        .min(rest.len());
                    (&rest[..end], pid, &rest[msg_start..])
                }
                _ => (&rest[..0], &rest[..0], rest),
            }
        }
        Some(end) if rest[end] == b':' => {
            let msg_start =
                (end + 1 + usize::from(rest.get(end + 1) == Some(&b' '))).min(rest.len());
            (&rest[..end], &rest[..0], &rest[msg_start..])
        }
        _ => (&rest[..0], &rest[..0], rest),
    };
    // Solaris syslog inserts a message id and facility: `[ID 197553 mail.info] `.
    let message = match message.strip_prefix(b"[ID ") {
        Some(r) => match memchr::memchr(b']', r) {
            Some(p) if p < 40 => r.get(p + 2..).unwrap_or(&[]),
            _ => message,
        },
        None => message,
    };
    Some(Header {
        stamp,
        host,
        program,
        pid,
        message,
    })
}

/// True for Postfix's own programs under any `syslog_name`:
/// `postfix/smtp`, `postfix-out/smtp`, `postfix/submission/smtpd`, `postfix`.
pub fn is_postfix(program: &[u8]) -> bool {
    program.starts_with(b"postfix")
}

/// The Postfix daemon behind a program tag: the last path element
/// (`postfix/submission/smtpd` -> `smtpd`).
pub fn service(program: &[u8]) -> &[u8] {
    match memchr::memrchr(b'/', program) {
        Some(p) => &program[p + 1..],
        None => program,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> LogTime {
        LogTime::from_civil(y, mo, d, h, mi, s, ms).unwrap()
    }

    #[test]
    fn traditional_stamp_from_lab() {
        let line =
            b"Nov 28 18:30:12 mail postfix/pickup[18039]: D375AD054A: uid=33 from=<www-data>";
        let h = parse_header(line).unwrap();
        assert_eq!(h.stamp.month_day(), Some((11, 28)));
        assert_eq!(h.stamp.in_year(2026), Some(t(2026, 11, 28, 18, 30, 12, 0)));
        assert_eq!(h.host, b"mail");
        assert_eq!(h.program, b"postfix/pickup");
        assert_eq!(h.pid(), Some(18039));
        assert_eq!(h.message, b"D375AD054A: uid=33 from=<www-data>");
    }

    #[test]
    fn single_digit_and_zero_padded_days() {
        let a = parse_header(b"Aug  3 01:02:03 h postfix/smtpd[1]: x").unwrap();
        let b = parse_header(b"May 01 01:02:03 mx.it5.su postfix/smtpd[1]: x").unwrap();
        let c = parse_header(b"Aug 3 01:02:03 h postfix/smtpd[1]: x").unwrap();
        assert_eq!(a.stamp.month_day(), Some((8, 3)));
        assert_eq!(b.stamp.month_day(), Some((5, 1)));
        assert_eq!(c.stamp.month_day(), Some((8, 3)));
    }

    #[test]
    fn rfc3339_with_fraction_and_offsets() {
        let h = parse_header(b"2026-01-03T10:11:12.123456+01:00 mx postfix/qmgr[9]: ABC: removed")
            .unwrap();
        assert_eq!(
            h.stamp,
            Stamp::Full {
                time: t(2026, 1, 3, 10, 11, 12, 123),
                offset: Some(3600)
            }
        );
        let j = parse_header(b"2026-01-03T10:11:12-0500 mx postfix/qmgr[9]: x").unwrap();
        assert_eq!(
            j.stamp,
            Stamp::Full {
                time: t(2026, 1, 3, 10, 11, 12, 0),
                offset: Some(-5 * 3600)
            }
        );
        let z = parse_header(b"2021-03-06T06:09:00.000Z Mar  6 07:08:59 host postfix/smtp[1]: x")
            .unwrap();
        assert_eq!(z.host, b"host");
        assert_eq!(z.program, b"postfix/smtp");
    }

    #[test]
    fn short_precise_journal() {
        let h = parse_header(b"Jan 03 10:11:12.123456 mx postfix/smtp[7]: msg").unwrap();
        assert_eq!(
            h.stamp,
            Stamp::YearLess {
                month: 1,
                day: 3,
                millis_of_day: (10 * 3600 + 11 * 60 + 12) * 1000 + 123
            }
        );
    }

    #[test]
    fn lines_without_pid_or_program() {
        let h = parse_header(b"Aug  7 06:51:49 hetznew last message repeated 4 times").unwrap();
        assert_eq!(h.program, b"");
        assert_eq!(h.message, b"last message repeated 4 times");
        let e = parse_header(b"Aug 31 00:21:33  dovecot: last message repeated 2 times").unwrap();
        assert_eq!(e.host, b"");
        assert_eq!(e.program, b"dovecot");
        let p = parse_header(b"Oct 10 10:00:00 (none) postgrey: action=greylist").unwrap();
        assert_eq!(p.program, b"postgrey");
        assert_eq!(p.pid(), None);
    }

    #[test]
    fn garbage_is_refused_not_panicking() {
        for junk in [
            &b""[..],
            b"Jan",
            b"Jan: 1",
            b"Jan 99 10:00:00 h p: x",
            b"2026-13-01T00:00:00 h p: x",
            b"\xff\xfe\x00",
            b"madeup: Gobbely Gook",
        ] {
            assert!(parse_header(junk).is_none(), "{junk:?}");
        }
        // Truncated pid is kept as a line with an unknown program.
        let h = parse_header(b"Jan  1 00:00:00 h postfix/postscreen[12345").unwrap();
        assert_eq!(h.program, b"");
    }

    #[test]
    fn year_first_rsyslog_template() {
        let h = parse_header(b"2013 Jun 12 06:35:24.123 gds39d postfix/smtpd[25425]: connect from localhost[127.0.0.1]").unwrap();
        assert_eq!(
            h.stamp,
            Stamp::Full {
                time: t(2013, 6, 12, 6, 35, 24, 123),
                offset: None
            }
        );
        assert_eq!(h.host, b"gds39d");
    }

    #[test]
    fn solaris_message_id_is_skipped() {
        let h = parse_header(b"Oct  5 23:45:10 mailrouter postfix/smtpd[14020]: [ID 197553 mail.info] connect from unknown[46.182.137.63]").unwrap();
        assert_eq!(h.message, b"connect from unknown[46.182.137.63]");
    }

    #[test]
    fn service_is_last_path_element() {
        assert_eq!(service(b"postfix/submission/smtpd"), b"smtpd");
        assert_eq!(service(b"postfix-out/smtp"), b"smtp");
        assert_eq!(service(b"postfix"), b"postfix");
        assert!(is_postfix(b"postfix-12.34.56.78/qmgr"));
    }
}
