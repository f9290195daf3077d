//! Queue dumps: what was stuck at the moment the operator looked.
//!
//! Two formats, told apart by content: the `postqueue -p` / `mailq` text
//! listing ([`text`]) and the `postqueue -j` JSON lines of Postfix 3.1 and
//! later ([`json`]). Both become one [`QueueDump`]; a damaged dump keeps its
//! complete entries and lists what it could not read in `problems`.

pub mod json;
pub mod text;

use crate::time::LogTime;

pub use json::{parse_json, parse_json_in_zone};
pub use text::parse_text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpKind {
    Text,
    Json,
}

/// The Postfix queue a message sat in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueueName {
    Active,
    Deferred,
    Hold,
    Incoming,
    Maildrop,
    /// The text listing marks only active (`*`) and held (`!`) messages; an
    /// unmarked message without any reason may be incoming, in maildrop, or
    /// deferred without a defer log yet.
    Unknown,
}

impl QueueName {
    pub const ALL: [QueueName; 6] = [
        QueueName::Active,
        QueueName::Deferred,
        QueueName::Hold,
        QueueName::Incoming,
        QueueName::Maildrop,
        QueueName::Unknown,
    ];

    pub fn id(self) -> &'static str {
        match self {
            QueueName::Active => "active",
            QueueName::Deferred => "deferred",
            QueueName::Hold => "hold",
            QueueName::Incoming => "incoming",
            QueueName::Maildrop => "maildrop",
            QueueName::Unknown => "unknown",
        }
    }

    pub fn from_id(id: &str) -> Option<QueueName> {
        let id = id.trim();
        QueueName::ALL
            .into_iter()
            .find(|q| q.id().eq_ignore_ascii_case(id))
    }
}

/// The listing's own closing line, `-- N Kbytes in M Requests.`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declared {
    pub kbytes: u64,
    pub requests: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpProblem {
    /// 1-based line of the dump; 0 when it concerns the whole dump.
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRecipient {
    pub address: String,
    /// Why the last attempt failed, as the defer log says; `None` when the
    /// recipient was never tried (or the listing says "reason unavailable").
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub queue_id: String,
    pub queue: QueueName,
    /// Wall clock of the server (the text listing prints local time; JSON
    /// epoch seconds are converted, see [`QueueDump::clock_note`]).
    pub arrival: LogTime,
    pub size: u64,
    /// The envelope sender as shown: `MAILER-DAEMON` for bounces, possibly "".
    pub sender: String,
    pub recipients: Vec<QueuedRecipient>,
    pub forced_expire: bool,
}

impl QueuedMessage {
    /// The null sender shows as `MAILER-DAEMON` (Postfix's `empty_address_recipient`).
    pub fn is_bounce(&self) -> bool {
        self.sender.is_empty() || self.sender == "MAILER-DAEMON"
    }

    pub fn sender_domain(&self) -> String {
        if self.is_bounce() {
            return "MAILER-DAEMON".to_string();
        }
        address_domain(&self.sender)
    }

    pub fn first_reason(&self) -> Option<&str> {
        self.recipients.iter().find_map(|r| r.reason.as_deref())
    }
}

/// The domain of an address, lower-cased, as qshape reduces it: after the
/// last `@`, doubled dots collapsed, one leading and one trailing dot dropped.
pub fn address_domain(address: &str) -> String {
    let lower = address.to_lowercase();
    let after = match lower.rfind('@') {
        Some(p) => &lower[p + 1..],
        None => &lower[..],
    };
    let collapsed = after.replace("..", ".");
    let mut d = collapsed.as_str();
    if d.len() > 1 && d.starts_with('.') {
        d = &d[1..];
    }
    if d.len() > 1 && d.ends_with('.') {
        d = &d[..d.len() - 1];
    }
    d.to_string()
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueDump {
    pub messages: Vec<QueuedMessage>,
    pub declared: Option<Declared>,
    /// The listing said `Mail queue is empty`.
    pub empty_marker: bool,
    pub problems: Vec<DumpProblem>,
    /// How arrival times were read, when that needs saying (JSON epoch
    /// seconds shown in a zone, or as UTC because none was given).
    pub clock_note: Option<String>,
    /// When arrivals' weekdays put them in another year than the dump
    /// time alone: which, and how many.
    pub weekday_note: Option<String>,
}

impl QueueDump {
    pub fn recipients(&self) -> u64 {
        self.messages
            .iter()
            .map(|m| m.recipients.len() as u64)
            .sum()
    }

    pub fn bytes(&self) -> u64 {
        // Sizes come from the dump: a hostile one must not wrap the sum.
        self.messages
            .iter()
            .fold(0u64, |sum, m| sum.saturating_add(m.size))
    }

    pub fn newest_arrival(&self) -> Option<LogTime> {
        self.messages.iter().map(|m| m.arrival).max()
    }
}

/// Where the dump time came from; the text listing has no date of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpTimeSource {
    /// `--dump-time`
    Flag,
    /// The newest line of the maillogs given with it.
    NewestLogLine,
    /// The dump file's modification time.
    FileMtime,
    /// Nothing better: the newest arrival in the dump itself.
    NewestArrival,
}

impl DumpTimeSource {
    pub fn describe(self) -> &'static str {
        match self {
            DumpTimeSource::Flag => "--dump-time",
            DumpTimeSource::NewestLogLine => "newest log line",
            DumpTimeSource::FileMtime => "file mtime",
            DumpTimeSource::NewestArrival => "newest arrival in the dump",
        }
    }
}

/// Tells a text listing from JSON lines by their first non-blank line.
pub fn detect(bytes: &[u8]) -> Option<DumpKind> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut lines = crate::parse::lines(bytes).filter(|l| !l.iter().all(u8::is_ascii_whitespace));
    let first = lines.next()?;
    let t = first.trim_ascii();
    if t.starts_with(b"{") {
        return memchr::memmem::find(t, b"\"queue_name\"").map(|_| DumpKind::Json);
    }
    if t.starts_with(b"-Queue ID-")
        || t.starts_with(b"----Queue ID--")
        || t == b"Mail queue is empty"
    {
        return Some(DumpKind::Text);
    }
    if text::parse_entry_line(first).is_some() {
        return Some(DumpKind::Text);
    }
    // A fragment that starts inside an entry: recipient or reason lines,
    // then a proper entry line soon after.
    if first
        .first()
        .is_some_and(|c| *c == b' ' || *c == b'\t' || *c == b'(')
    {
        for l in lines.take(64) {
            if text::parse_entry_line(l).is_some() {
                return Some(DumpKind::Text);
            }
        }
    }
    None
}

/// Parses either format; `None` when the bytes are neither.
pub fn parse(
    bytes: &[u8],
    dump_time: LogTime,
    zone: Option<&jiff::tz::TimeZone>,
) -> Option<QueueDump> {
    match detect(bytes)? {
        DumpKind::Text => Some(parse_text(bytes, dump_time)),
        DumpKind::Json => Some(parse_json_in_zone(bytes, zone)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content() {
        assert_eq!(detect(b"Mail queue is empty\n"), Some(DumpKind::Text));
        assert_eq!(
            detect(b"\n-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n"),
            Some(DumpKind::Text)
        );
        assert_eq!(
            detect(b"AD00A13E5C22     8564 Fri Jan 24 09:33:48  21-420159-8257-0-19-7992-1-contact@example2.co.jp\n"),
            Some(DumpKind::Text)
        );
        assert_eq!(
            detect(br#"{"queue_name": "active", "queue_id": "09EAF4422BA", "arrival_time": 1713849287}"#),
            Some(DumpKind::Json)
        );
        assert_eq!(
            detect(b"postqueue: fatal: Queue report unavailable - mail system is down\n"),
            None
        );
        assert_eq!(
            detect(b"Nov 28 18:30:12 mail postfix/qmgr[1]: D375AD054A: removed\n"),
            None
        );
        assert_eq!(detect(b"{\"MESSAGE\": \"x\"}\n"), None);
        assert_eq!(detect(b""), None);
    }

    #[test]
    fn domains_reduce_like_qshape() {
        assert_eq!(address_domain("Julia.Silva99@BigISP.test"), "bigisp.test");
        assert_eq!(address_domain("a@b@example..org."), "example.org");
        assert_eq!(address_domain("root"), "root");
    }
}
