//! The `postqueue -p` / `mailq` listing, as Postfix's `showq_compat.c` prints it.
//!
//! ```text
//! -Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------
//! 3E485D0602      748 Sat Nov 28 18:48:01  dave@lab.test
//! (host mx.bigisp.test[127.0.0.23] said: 450 4.7.1 ... (in reply to RCPT TO command))
//!                                          julia.silva99@bigisp.test
//!
//! -- 157 Kbytes in 234 Requests.
//! ```
//!
//! The queue id carries `*` (active), `!` (hold) and `#` (force-expired);
//! an unmarked message is deferred when it shows a reason, otherwise the
//! listing does not say which queue holds it. A reason is right-aligned when
//! short, at column 0 when long, applies to the recipients below it, and is
//! sometimes wrapped by a terminal or a blog: continuation lines at column 0
//! are joined until the parentheses balance. The arrival has no year: it is
//! the latest year that does not put the arrival after the dump.

use super::{Declared, DumpProblem, QueueDump, QueueName, QueuedMessage, QueuedRecipient};
use crate::time::{LogTime, DAY};

/// Arrivals up to this much after the dump time are still this year's:
/// the dump time may come from a log line written a little earlier.
const FUTURE_TOLERANCE: i64 = DAY;

/// The fields of an entry's first line, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryLine<'a> {
    pub queue_id: &'a [u8],
    pub active: bool,
    pub hold: bool,
    pub forced_expire: bool,
    pub size: u64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 for Monday to 6 for Sunday.
    pub weekday: u32,
    pub sender: &'a [u8],
}

fn is_space(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Splits off the next whitespace-separated token: (token, rest).
fn token(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let start = s.iter().position(|&c| !is_space(c))?;
    let s = &s[start..];
    let end = s.iter().position(|&c| is_space(c)).unwrap_or(s.len());
    Some((&s[..end], &s[end..]))
}

fn digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 18 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |n, &c| n * 10 + u64::from(c - b'0')))
}

fn month(s: &[u8]) -> Option<u32> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    MONTHS
        .iter()
        .position(|m| &m[..] == s)
        .map(|i| i as u32 + 1)
}

/// 0 for Monday to 6 for Sunday.
fn weekday(s: &[u8]) -> Option<u32> {
    const DAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
    DAYS.iter().position(|d| &d[..] == s).map(|i| i as u32)
}

/// The weekday of a time, 0 for Monday (1970-01-01 was a Thursday).
fn weekday_of(t: LogTime) -> u32 {
    (t.0.div_euclid(DAY) + 3).rem_euclid(7) as u32
}

fn clock(s: &[u8]) -> Option<(u32, u32, u32)> {
    if s.len() != 8 || s[2] != b':' || s[5] != b':' {
        return None;
    }
    let h = digits(&s[0..2])? as u32;
    let m = digits(&s[3..5])? as u32;
    let sec = digits(&s[6..8])? as u32;
    (h < 24 && m < 60 && sec <= 60).then_some((h, m, sec))
}

/// Reads an entry's first line: `ID[*!#] SIZE Dow Mon dd hh:mm:ss SENDER`.
/// Short ids are padded to 11 columns, long ones to 17; a marked 12-char id
/// pushes the size right, so fields are taken by token, not by column.
pub fn parse_entry_line(line: &[u8]) -> Option<EntryLine<'_>> {
    if line.first().is_none_or(|&c| is_space(c) || c == b'(') {
        return None;
    }
    let (id_tok, rest) = token(line)?;
    let id_len = id_tok
        .iter()
        .position(|c| matches!(c, b'*' | b'!' | b'#'))
        .unwrap_or(id_tok.len());
    let (queue_id, markers) = id_tok.split_at(id_len);
    if queue_id.len() < 5 || !queue_id.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    if !markers.iter().all(|c| matches!(c, b'*' | b'!' | b'#')) {
        return None;
    }
    let (size_tok, rest) = token(rest)?;
    let size = digits(size_tok)?;
    let (dow, rest) = token(rest)?;
    let weekday = weekday(dow)?;
    let (mon, rest) = token(rest)?;
    let month = month(mon)?;
    let (day_tok, rest) = token(rest)?;
    let day = digits(day_tok).filter(|d| (1..=31).contains(d))? as u32;
    let (time_tok, rest) = token(rest)?;
    let (hour, minute, second) = clock(time_tok)?;
    let sender = rest.trim_ascii();
    Some(EntryLine {
        queue_id,
        active: markers.contains(&b'*'),
        hold: markers.contains(&b'!'),
        forced_expire: markers.contains(&b'#'),
        size,
        month,
        day,
        hour,
        minute,
        second,
        weekday,
        sender,
    })
}

/// The latest year that puts `month day time` no later than the dump (plus
/// a tolerance). Feb 29 looks back to the last leap year.
pub fn infer_arrival(e: &EntryLine, dump_time: LogTime) -> Option<LogTime> {
    let limit = dump_time.0.saturating_add(FUTURE_TOLERANCE);
    let mut year = dump_time.year().saturating_add(1);
    for _ in 0..9 {
        if let Some(t) = LogTime::from_civil(year, e.month, e.day, e.hour, e.minute, e.second, 0) {
            if t.0 <= limit {
                return Some(t);
            }
        }
        year = year.saturating_sub(1);
    }
    None
}

/// What an arrival's weekday says about its year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeekdayCheck {
    /// The year the date alone gives has that weekday.
    Agrees,
    /// Another year (the latest not after the dump) has it; the date
    /// alone would have given this one.
    ChoseYear { instead_of: i32 },
    /// No year in a 28-year cycle has it: the date's year is kept.
    NoYear,
}

/// The arrival's year as its weekday says: the latest year, not after the
/// dump, in which the date falls on that weekday (a dump kept for months
/// or copied from another year); the date alone when no year fits.
pub fn arrival_by_weekday(e: &EntryLine, dump_time: LogTime) -> Option<(LogTime, WeekdayCheck)> {
    let plain = infer_arrival(e, dump_time)?;
    if weekday_of(plain) == e.weekday {
        return Some((plain, WeekdayCheck::Agrees));
    }
    let mut year = plain.year();
    for _ in 0..28 {
        year = year.saturating_sub(1);
        if let Some(t) = LogTime::from_civil(year, e.month, e.day, e.hour, e.minute, e.second, 0) {
            if weekday_of(t) == e.weekday {
                let instead_of = plain.year();
                return Some((t, WeekdayCheck::ChoseYear { instead_of }));
            }
        }
    }
    Some((plain, WeekdayCheck::NoYear))
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Net count of `(` minus `)`.
fn paren_depth(s: &[u8]) -> i64 {
    s.iter().fold(0i64, |d, &c| match c {
        b'(' => d + 1,
        b')' => d - 1,
        _ => d,
    })
}

/// A reason being read, maybe over several lines.
struct OpenReason {
    text: Vec<u8>,
    depth: i64,
}

impl OpenReason {
    fn closed(&self) -> bool {
        self.depth <= 0 && self.text.ends_with(b")")
    }

    /// The text without the outer parentheses; "reason unavailable" is
    /// showq's word for none.
    fn finish(self) -> Option<String> {
        let mut t = &self.text[..];
        t = t.strip_prefix(b"(").unwrap_or(t);
        if self.depth <= 0 {
            t = t.strip_suffix(b")").unwrap_or(t);
        }
        let t = t.trim_ascii();
        (!t.is_empty() && t != b"reason unavailable").then(|| lossy(t))
    }
}

/// The weekday checks of a listing, counted for one note.
#[derive(Default)]
struct Weekdays {
    /// (year chosen, year the date alone gave) -> arrivals.
    chosen: Vec<((i32, i32), u64)>,
    unmatched: u64,
}

impl Weekdays {
    fn note(&mut self, check: WeekdayCheck, year: i32) {
        match check {
            WeekdayCheck::Agrees => {}
            WeekdayCheck::NoYear => self.unmatched += 1,
            WeekdayCheck::ChoseYear { instead_of } => {
                let key = (year, instead_of);
                match self.chosen.iter_mut().find(|c| c.0 == key) {
                    Some(c) => c.1 += 1,
                    None => self.chosen.push((key, 1)),
                }
            }
        }
    }

    /// The note for the report, when the weekdays disagreed.
    fn text(&self) -> Option<String> {
        let mut parts: Vec<String> = self
            .chosen
            .iter()
            .map(|((y, d), n)| format!("{n} arrivals fall on their weekday in {y}, not in {d} as the dump time alone would put them"))
            .collect();
        if self.unmatched > 0 {
            parts.push(format!(
                "{} arrivals name a weekday no year gives their date (kept in the year the dump time gives)",
                self.unmatched
            ));
        }
        (!parts.is_empty()).then(|| {
            format!(
                "{}: their ages are counted from that year; the dump time may be from another year than the dump: give --dump-time",
                parts.join("; ")
            )
        })
    }
}

struct Builder {
    dump: QueueDump,
    dump_time: LogTime,
    weekdays: Weekdays,
    current: Option<(QueuedMessage, u64)>,
    reason: Option<String>,
    open: Option<OpenReason>,
    /// The listing ends inside its last line, numbered `cut_line_no`.
    cut_mid_line: bool,
    cut_line_no: u64,
    /// The line of `-- N Kbytes in M Requests.`.
    summary_line: u64,
}

impl Builder {
    fn problem(&mut self, line: u64, message: String) {
        self.dump.problems.push(DumpProblem { line, message });
    }

    fn close_reason(&mut self) {
        if let Some(open) = self.open.take() {
            self.reason = open.finish();
        }
    }

    fn finish_message(&mut self) {
        self.close_reason();
        self.reason = None;
        if let Some((mut m, _)) = self.current.take() {
            if m.queue == QueueName::Unknown && m.recipients.iter().any(|r| r.reason.is_some()) {
                m.queue = QueueName::Deferred;
            }
            self.dump.messages.push(m);
        }
    }

    /// Reads line `n`; true when it belongs to an entry not yet finished.
    fn line(&mut self, n: u64, line: &[u8]) -> bool {
        let t = line.trim_ascii();
        if t.is_empty() || t.starts_with(b"-Queue ID-") || t.starts_with(b"----Queue ID--") {
            self.finish_message();
            return false;
        }
        if t == b"Mail queue is empty" {
            self.finish_message();
            self.dump.empty_marker = true;
            return false;
        }
        if let Some(d) = parse_summary(t) {
            self.finish_message();
            self.dump.declared = Some(d);
            self.summary_line = n;
            return false;
        }
        // A wrapped reason goes on at column 0 until its parentheses close.
        if let Some(open) = &mut self.open {
            if !open.closed()
                && !line.first().is_some_and(|&c| is_space(c))
                && parse_entry_line(line).is_none()
            {
                open.text.push(b' ');
                open.text.extend_from_slice(t);
                open.depth += paren_depth(t);
                return true;
            }
            self.close_reason();
        }
        if let Some(e) = parse_entry_line(line) {
            return self.entry(n, &e);
        }
        if t.starts_with(b"(") {
            return self.reason_line(n, t);
        }
        if line.first().is_some_and(|&c| is_space(c)) {
            return self.recipient(n, t);
        }
        self.stray(n, t);
        false
    }

    /// An entry's first line starts a message; false when its date is none.
    fn entry(&mut self, n: u64, e: &EntryLine) -> bool {
        self.finish_message();
        let Some((arrival, check)) = arrival_by_weekday(e, self.dump_time) else {
            self.problem(
                n,
                format!("no valid date for arrival of {}", lossy(e.queue_id)),
            );
            return false;
        };
        self.weekdays.note(check, arrival.year());
        let (queue, sender) = if e.sender.starts_with(b"(maildrop queue") {
            (QueueName::Maildrop, String::new())
        } else if e.active {
            (QueueName::Active, lossy(e.sender))
        } else if e.hold {
            (QueueName::Hold, lossy(e.sender))
        } else {
            (QueueName::Unknown, lossy(e.sender))
        };
        self.current = Some((
            QueuedMessage {
                queue_id: lossy(e.queue_id),
                queue,
                arrival,
                size: e.size,
                sender,
                recipients: Vec::new(),
                forced_expire: e.forced_expire,
            },
            n,
        ));
        true
    }

    /// `(reason)` for the recipients below it, maybe wrapped over lines.
    fn reason_line(&mut self, n: u64, t: &[u8]) -> bool {
        if self.current.is_none() {
            self.problem(
                n,
                "reason line without its message line (the listing was cut or edited)".into(),
            );
            return false;
        }
        let open = OpenReason {
            text: t.to_vec(),
            depth: paren_depth(t),
        };
        if open.closed() {
            self.reason = open.finish();
        } else {
            self.open = Some(open);
        }
        true
    }

    /// An indented recipient address, under the last reason read.
    fn recipient(&mut self, n: u64, t: &[u8]) -> bool {
        let reason = self.reason.clone();
        match &mut self.current {
            Some((m, _)) => {
                m.recipients.push(QueuedRecipient {
                    address: lossy(t),
                    reason,
                });
                true
            }
            None => {
                self.problem(
                    n,
                    format!(
                        "recipient {} without its message line (the listing was cut or edited): left out",
                        lossy(&t[..t.len().min(200)])
                    ),
                );
                false
            }
        }
    }

    /// A line no listing has, or the one a cut listing ends inside.
    fn stray(&mut self, n: u64, t: &[u8]) {
        if n == self.cut_line_no {
            self.problem(
                n,
                format!(
                    "the listing is cut off inside this line: {}",
                    lossy(&t[..t.len().min(200)])
                ),
            );
        } else {
            self.problem(
                n,
                format!(
                    "not a queue listing line: {}",
                    lossy(&t[..t.len().min(200)])
                ),
            );
        }
    }

    /// The end, after line `last_line_no`: a dump cut off mid-entry keeps
    /// its complete entries only, and the declared count is checked.
    fn finish(mut self, last_line_no: u64, inside_entry_at_end: bool) -> QueueDump {
        let mut reported_cut = false;
        if let Some((m, start)) = &self.current {
            let (id, start) = (m.queue_id.clone(), *start);
            if m.recipients.is_empty()
                || self.cut_mid_line
                || self.open.as_ref().is_some_and(|o| !o.closed())
            {
                self.current = None;
                self.open = None;
                reported_cut = true;
                self.problem(
                    last_line_no,
                    format!("the listing ends inside message {id} (from line {start}): left out as incomplete"),
                );
            }
        }
        self.finish_message();
        if inside_entry_at_end
            && !reported_cut
            && self.dump.declared.is_none()
            && !self.dump.messages.is_empty()
        {
            self.problem(
                last_line_no,
                "no `-- N Kbytes in M Requests.` line at the end: the listing may be cut off"
                    .into(),
            );
        }
        if let Some(d) = self.dump.declared {
            let found = self.dump.messages.len() as u64;
            if d.requests != found {
                self.problem(
                    self.summary_line,
                    format!(
                        "the listing declares {} requests but {found} messages were read",
                        d.requests
                    ),
                );
            }
        }
        self.dump.weekday_note = self.weekdays.text();
        self.dump
    }
}

/// Parses a whole text listing. Never fails: what it cannot read goes to
/// `problems` with its line number.
pub fn parse_text(bytes: &[u8], dump_time: LogTime) -> QueueDump {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let cut_mid_line = !bytes.is_empty() && !bytes.ends_with(b"\n");
    let mut b = Builder {
        dump: QueueDump::default(),
        dump_time,
        weekdays: Weekdays::default(),
        current: None,
        reason: None,
        open: None,
        cut_mid_line,
        cut_line_no: if cut_mid_line {
            memchr::memchr_iter(b'\n', bytes).count() as u64 + 1
        } else {
            0
        },
        summary_line: 0,
    };
    let mut last_line_no = 0u64;
    // Whether the last non-blank line belonged to an unfinished entry.
    let mut inside_entry_at_end = false;
    for (i, line) in crate::parse::lines(bytes).enumerate() {
        last_line_no = i as u64 + 1;
        inside_entry_at_end = b.line(last_line_no, line);
    }
    b.finish(last_line_no, inside_entry_at_end)
}

/// `-- 157 Kbytes in 234 Requests.` (also `1 Request.` and `5,808 Kbytes`).
fn parse_summary(t: &[u8]) -> Option<Declared> {
    let rest = t.strip_prefix(b"-- ")?;
    let (kb, rest) = token(rest)?;
    let (word, rest) = token(rest)?;
    if word != b"Kbytes" {
        return None;
    }
    let (inw, rest) = token(rest)?;
    if inw != b"in" {
        return None;
    }
    let (req, rest) = token(rest)?;
    let (word, _) = token(rest)?;
    if !word.starts_with(b"Request") {
        return None;
    }
    let num = |s: &[u8]| {
        let clean: Vec<u8> = s
            .iter()
            .copied()
            .filter(|c| *c != b',' && *c != b'.')
            .collect();
        digits(&clean)
    };
    Some(Declared {
        kbytes: num(kb)?,
        requests: num(req)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump_time() -> LogTime {
        LogTime::from_civil(2026, 11, 28, 18, 56, 6, 0).unwrap()
    }

    // Real entries from lab-1/queue/postqueue-p.txt.
    const LAB: &str = "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------
3E485D0602      748 Sat Nov 28 18:48:01  dave@lab.test
(host mx.bigisp.test[127.0.0.23] said: 450 4.7.1 Service unavailable; Client host [127.0.0.1] blocked using bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?127.0.0.1 (in reply to RCPT TO command))
                                         julia.silva99@bigisp.test
(host gmail-smtp-in.l.gmail-like.test[127.0.0.20] said: 421-4.7.0 [127.0.0.1      15] Our system has detected an unusual rate of 421-4.7.0 unsolicited mail originating from your IP address. (in reply to end of DATA command))
                                         karl.meyer65@gmail-like.test
                                         will.weber99@gmail-like.test

34933D0629      701 Sat Nov 28 18:43:37  alice@lab.test
           (connect to mx.unreach.test[192.0.2.25]:25: Network is unreachable)
                                         emil.rossi@unreach.test

A2AA3D073B!     760 Sat Nov 28 18:38:57  dave@lab.test
(host gmail-smtp-in.l.gmail-like.test[127.0.0.20] said: 421-4.7.0 [127.0.0.1      15] Our system has detected an unusual rate of 421-4.7.0 unsolicited mail originating from your IP address. (in reply to end of DATA command))
                                         rosa.weber45@gmail-like.test

-- 2 Kbytes in 3 Requests.
";

    #[test]
    fn reads_lab_entries_with_reason_groups() {
        let d = parse_text(LAB.as_bytes(), dump_time());
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        assert_eq!(
            d.declared,
            Some(Declared {
                kbytes: 2,
                requests: 3
            })
        );
        assert_eq!(d.messages.len(), 3);
        let m = &d.messages[0];
        assert_eq!(m.queue_id, "3E485D0602");
        assert_eq!(m.queue, QueueName::Deferred);
        assert_eq!(m.size, 748);
        assert_eq!(m.sender, "dave@lab.test");
        assert_eq!(
            m.arrival,
            LogTime::from_civil(2026, 11, 28, 18, 48, 1, 0).unwrap()
        );
        assert_eq!(m.recipients.len(), 3);
        assert!(m.recipients[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("bl.spamcop.net"));
        assert!(m.recipients[0]
            .reason
            .as_deref()
            .unwrap()
            .ends_with("(in reply to RCPT TO command)"));
        assert!(m.recipients[1]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("host gmail-smtp-in"));
        assert_eq!(m.recipients[1].reason, m.recipients[2].reason);
        assert_eq!(
            d.messages[1].recipients[0].reason.as_deref(),
            Some("connect to mx.unreach.test[192.0.2.25]:25: Network is unreachable")
        );
        assert_eq!(d.messages[2].queue, QueueName::Hold);
    }

    #[test]
    fn joins_a_reason_wrapped_by_a_terminal() {
        // public/queue-dumps/jp_blog_spam_relay_mailq_tail_2.txt (shortened).
        let text = "398D6A03A8D     8564 Fri Jan 24 09:33:48  21-420159-8257-0-19-7992-1-contact@example2.co.jp
(host alt1.gmail-smtp-in.l.google.com[108.000.000.000] said: 421-4.7.28 [52.000.000.000      15] Our system has
detected an unusual rate of 421-4.7.28 unsolicited mail originating from your IP address. To protect our
our Bulk Email Senders Guidelines. - gsmtp (in reply to end of DATA command))
                                         yamada@gmail.com

-- 5,808 Kbytes in 1 Request.
";
        let t = LogTime::from_civil(2020, 1, 25, 0, 0, 0, 0).unwrap();
        let d = parse_text(text.as_bytes(), t);
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        assert_eq!(
            d.declared,
            Some(Declared {
                kbytes: 5808,
                requests: 1
            })
        );
        let r = d.messages[0].recipients[0].reason.as_deref().unwrap();
        assert!(r.contains("Our system has detected an unusual rate"), "{r}");
        assert!(r.ends_with("(in reply to end of DATA command)"), "{r}");
        assert_eq!(d.messages[0].recipients[0].address, "yamada@gmail.com");
        assert_eq!(d.messages[0].arrival.year(), 2020);
    }

    #[test]
    fn markers_and_unmarked_without_reason() {
        // public/queue-dumps/rjbs_postfix_parse_mailq_t00load_heredoc.txt (excerpt).
        let text = "-Queue ID- --Size-- ----Arrival Time---- -Sender/Recipient-------
061A5B062E*    1300 Fri Oct 17 12:39:22  xavier@example.es
                                         example@example.com
                                         example@example.org

20B11AF9A1   221654 Fri Oct 17 12:38:55  devnull@example.me
                                         senor+bonbon@example.su

-- 8534903 Kbytes in 2 Requests.
";
        let d = parse_text(
            text.as_bytes(),
            LogTime::from_civil(2014, 10, 18, 0, 0, 0, 0).unwrap(),
        );
        assert_eq!(d.messages[0].queue, QueueName::Active);
        assert_eq!(d.messages[0].recipients.len(), 2);
        assert!(d.messages[0].recipients.iter().all(|r| r.reason.is_none()));
        assert_eq!(d.messages[1].queue, QueueName::Unknown);
        assert_eq!(d.messages[1].size, 221654);
    }

    #[test]
    fn long_queue_ids_and_force_expired() {
        // showq_compat.c's long layout: "%-17s %8ld %19.19s %s", recipients
        // indented 47 columns; `#` marks a force-expired message.
        let text = "----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------
4dHJK05XyzzAbcd*      748 Sat Nov 28 18:48:01 dave@lab.test
                                               julia.silva99@bigisp.test

4dHJK06QwertYui!#     701 Sat Nov 28 18:43:37 MAILER-DAEMON
                                                  (connect to mx.unreach.test[192.0.2.25]:25: Network is unreachable)
                                               emil.rossi@unreach.test

-- 1 Kbytes in 2 Requests.
";
        let d = parse_text(text.as_bytes(), dump_time());
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        assert_eq!(d.messages[0].queue_id, "4dHJK05XyzzAbcd");
        assert_eq!(d.messages[0].queue, QueueName::Active);
        assert_eq!(d.messages[0].sender, "dave@lab.test");
        assert_eq!(d.messages[1].queue, QueueName::Hold);
        assert!(d.messages[1].forced_expire);
        assert!(d.messages[1].is_bounce());
        assert_eq!(
            d.messages[1].recipients[0].address,
            "emil.rossi@unreach.test"
        );
    }

    #[test]
    fn the_weekday_chooses_the_year() {
        // `Tue Aug 15` (as public2's datadog listing has it), dumped in
        // 2023 (a Tuesday then), read with a dump time of 2026.
        let dump = LogTime::from_civil(2026, 11, 29, 12, 0, 0, 0).unwrap();
        let text = b"----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------\n4Rk2Lp7Nmfz11aa        367 Tue Aug 15 16:17:33 root@host.example\n                                                    (deferred transport)\n                                                    alice@example.net\n\n-- 1 Kbytes in 1 Request.\n";
        let d = parse_text(text, dump);
        assert_eq!(d.messages[0].arrival.civil().0, 2023);
        let note = d.weekday_note.unwrap();
        assert!(
            note.contains("1 arrivals fall on their weekday in 2023, not in 2026"),
            "{note}"
        );
        // `Sat Oct 10` (public2's palashmaran listing) is 2020's (and
        // 2026's); a weekday that agrees with the dump's year says nothing.
        let e = parse_entry_line(b"5A1B2C3D4E50      484 Sat Oct 10 08:00:01  www@example.org")
            .unwrap();
        let in_2025 = LogTime::from_civil(2025, 12, 1, 0, 0, 0, 0).unwrap();
        let (t, check) = arrival_by_weekday(&e, in_2025).unwrap();
        assert_eq!(
            (t.year(), check),
            (2020, WeekdayCheck::ChoseYear { instead_of: 2025 })
        );
        let (t, check) =
            arrival_by_weekday(&e, LogTime::from_civil(2020, 10, 10, 12, 0, 0, 0).unwrap())
                .unwrap();
        assert_eq!((t.year(), check), (2020, WeekdayCheck::Agrees));
    }

    #[test]
    fn year_is_latest_not_after_dump() {
        let e = parse_entry_line(
            b"10DFD11830F2      263 Mon Dec 31 16:16:12  sender-1@testsend_domain.tld",
        )
        .unwrap();
        let jan = LogTime::from_civil(2027, 1, 2, 0, 0, 0, 0).unwrap();
        assert_eq!(infer_arrival(&e, jan).unwrap().year(), 2026);
        let dec = LogTime::from_civil(2026, 12, 31, 0, 0, 0, 0).unwrap();
        // Within the tolerance: same year.
        assert_eq!(infer_arrival(&e, dec).unwrap().year(), 2026);
        let leap = parse_entry_line(b"ABCDEF1234      263 Thu Feb 29 10:00:00  a@b").unwrap();
        assert_eq!(infer_arrival(&leap, jan).unwrap().year(), 2024);
    }

    #[test]
    fn truncated_dump_keeps_complete_entries() {
        let cut = &LAB[..LAB.find("A2AA3D073B!").unwrap() + 30];
        let d = parse_text(cut.as_bytes(), dump_time());
        assert_eq!(d.messages.len(), 2);
        assert_eq!(d.problems.len(), 1, "{:?}", d.problems);
        assert_eq!(d.problems[0].line, 13);
        assert!(
            d.problems[0].message.contains("cut off"),
            "{:?}",
            d.problems
        );
        // Cut inside a recipient line: the whole message is left out.
        let cut = &LAB[..LAB.find("emil.rossi@").unwrap() + 5];
        let d = parse_text(cut.as_bytes(), dump_time());
        assert_eq!(d.messages.len(), 1);
        assert_eq!(d.problems.len(), 1, "{:?}", d.problems);
        assert_eq!(d.problems[0].line, 11);
        assert!(d.problems[0].message.contains("34933D0629"));
    }

    #[test]
    fn hostile_bytes_do_not_panic() {
        let mut junk = LAB.as_bytes().to_vec();
        junk.extend_from_slice(b"\xff\xfe(((\n   \xc3\x28@x\n)\n-- x Kbytes in y Requests.\nABCDEF1234 99999999999999999999999 Sat Nov 28 18:48:01\n");
        let d = parse_text(&junk, dump_time());
        assert!(!d.problems.is_empty());
        for cut in 0..junk.len() {
            let _ = parse_text(&junk[..cut], dump_time());
        }
    }
}
