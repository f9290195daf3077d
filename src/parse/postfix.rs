//! The Postfix payload: what each daemon says, as compact events.
//!
//! An event borrows nothing and owns nothing: its text fields are [`Span`]s
//! into the chunk being parsed, so parsing a line allocates nothing. Only the
//! correlator, which keeps a few fields per message, copies (and interns)
//! them.
//!
//! Recognition is by fixed prefixes and `key=value` scanning with memchr;
//! no regex runs here. A line of a Postfix daemon that matches nothing known
//! is [`EventKind::NotUnderstood`], counted per program, never dropped.

use memchr::memmem;
use std::sync::LazyLock;

use super::chatter::informational;
use queued::{queue_id_prefix, with_queue_id};

mod queued;

/// A field of a line: a byte range of the chunk the line came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub len: u32,
}

impl Span {
    pub const EMPTY: Span = Span { start: 0, len: 0 };

    /// The span of `part`, which must be a sub-slice of `chunk`.
    #[inline]
    pub fn of(chunk: &[u8], part: &[u8]) -> Span {
        let start = (part.as_ptr() as usize).wrapping_sub(chunk.as_ptr() as usize);
        // Empty fields may come from a static empty slice: no position.
        if part.is_empty() || start.saturating_add(part.len()) > chunk.len() {
            return Span::EMPTY;
        }
        Span {
            start: start as u32,
            len: part.len() as u32,
        }
    }

    #[inline]
    pub fn get<'a>(&self, chunk: &'a [u8]) -> &'a [u8] {
        let s = self.start as usize;
        chunk.get(s..s + self.len as usize).unwrap_or(&[])
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A Postfix queue id, short hex (`D375AD054A`) or long (`4Qw2Rh1GhVz9sXp`),
/// packed into 128 bits (7 bits a character, up to 18 characters) so that
/// keys are `Copy` and hashing is cheap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueId(pub u128);

impl QueueId {
    /// Accepts 5 to 18 ASCII alphanumerics: Postfix's short ids are at
    /// least 6 hex digits, long ids 12 or more base-52 characters.
    pub fn parse(b: &[u8]) -> Option<QueueId> {
        if b.len() < 5 || b.len() > 18 {
            return None;
        }
        let mut v: u128 = 0;
        for &c in b {
            if !c.is_ascii_alphanumeric() {
                return None;
            }
            v = (v << 7) | c as u128;
        }
        Some(QueueId(v))
    }

    pub fn to_bytes(self) -> ([u8; 18], usize) {
        let mut out = [0u8; 18];
        let mut v = self.0;
        let mut n = 0;
        while v != 0 && n < 18 {
            out[n] = (v & 0x7f) as u8;
            v >>= 7;
            n += 1;
        }
        out[..n].reverse();
        (out, n)
    }
}

impl std::fmt::Display for QueueId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (b, n) = self.to_bytes();
        f.write_str(std::str::from_utf8(&b[..n]).unwrap_or("?"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    Sent,
    Deferred,
    Bounced,
    Expired,
    /// `soft_bounce = yes`: a would-be bounce kept as a deferral.
    SoftBounce,
    /// `sendmail -bv` address verification: no mail moved.
    Deliverable,
    Undeliverable,
    Other,
}

/// How bad a daemon says things are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
    Fatal,
    Panic,
}

impl Severity {
    pub fn id(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Fatal => "fatal",
            Severity::Panic => "panic",
        }
    }
}

/// What the master daemon says about Postfix as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DaemonEvent {
    /// `daemon started -- version 3.7.11, configuration /etc/postfix`
    Started,
    /// `reload -- version 3.7.11, configuration /etc/postfix`
    Reloaded,
    /// `terminating on signal 15`
    Stopped,
}

impl DaemonEvent {
    pub fn id(self) -> &'static str {
        match self {
            DaemonEvent::Started => "started",
            DaemonEvent::Reloaded => "reloaded",
            DaemonEvent::Stopped => "stopped",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectAction {
    Reject,
    Warn,
    Hold,
    Discard,
}

/// Where a reject came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectStage {
    /// smtpd before a queue id existed (NOQUEUE), or smtpd with a queue id.
    Smtpd,
    /// cleanup: header/body checks and milters.
    Cleanup,
    Postscreen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// smtpd accepted a client for a new queue file.
    Client {
        qid: QueueId,
        /// `host[ip]`
        client: Span,
        sasl_username: Span,
    },
    /// A local submission (sendmail/postdrop) picked up.
    Pickup {
        qid: QueueId,
        uid: Option<u32>,
        from: Span,
    },
    MessageId {
        qid: QueueId,
        message_id: Span,
    },
    /// qmgr took the message: envelope sender, size, recipient count.
    QueueActive {
        qid: QueueId,
        from: Span,
        size: u64,
        nrcpt: u32,
    },
    Removed {
        qid: QueueId,
    },
    Expired {
        qid: QueueId,
        from: Span,
        forced: bool,
    },
    /// One recipient's delivery attempt.
    Delivery {
        qid: QueueId,
        to: Span,
        orig_to: Span,
        relay: Span,
        dsn: Span,
        /// `delays=a/b/c/d`: before the queue manager, in it, connection
        /// setup, transmission (seconds).
        delays: Span,
        status: DeliveryStatus,
        /// The text in parentheses after the status.
        reason: Span,
        /// `delay=` in milliseconds (arrival to this attempt), saturated.
        delay_ms: u32,
    },
    /// `sender non-delivery notification: CHILD` on the parent's id.
    Notification {
        qid: QueueId,
        child: QueueId,
    },
    Held {
        qid: QueueId,
    },
    Released {
        qid: QueueId,
    },
    /// postsuper -d
    Deleted {
        qid: QueueId,
    },
    Reject {
        qid: Option<QueueId>,
        stage: RejectStage,
        action: RejectAction,
        client: Span,
        /// Reply code, enhanced code and text: `554 5.7.1 ...`.
        reason: Span,
        from: Span,
        to: Span,
        helo: Span,
    },
    /// A failed SASL login on our submission service (or Plesk's
    /// `plesk_saslauthd`, which names the account but not the client).
    SaslFailure {
        client: Span,
        username: Span,
        /// Why, as smtpd says it (`authentication failure`, `Connection
        /// lost to authentication server`).
        reason: Span,
    },
    /// What a daemon says about itself: `warning:`, `error:`, `fatal:`,
    /// `panic:` (Dovecot's `Error:`, `Fatal:`, `Panic:` too). `text` starts
    /// with the severity word, so the rules can tell it from a reply.
    Diagnostic {
        severity: Severity,
        /// The syslog program (`postfix/smtp`), filled in by the chunk
        /// parser.
        program: Span,
        text: Span,
    },
    /// amavisd-new blocked a message and kept it in quarantine
    /// (`Blocked SPAM {DiscardedInbound,Quarantined}, ... Queue-ID: ID`).
    Quarantined {
        qid: QueueId,
    },
    /// Plesk's Outgoing Mail Control refused a message
    /// (`psa-pc-remote: REJECT during call 'limit-out' handler`); the
    /// cleanup `milter-reject` line names the message.
    PleskLimitOut,
    /// The master daemon started, reloaded or stopped.
    Daemon {
        event: DaemonEvent,
        text: Span,
    },
    /// `last message repeated N times`
    Repeated {
        times: u32,
    },
    /// Understood, and carries nothing the analysis keeps.
    Info,
    /// The first or last stamped line of a chunk, of any program: keeps the
    /// period and the year inference right when other programs' lines
    /// open or close the logs.
    Mark,
    NotUnderstood,
}

static F_SASL_USER: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"sasl_username="));
static F_STATUS: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"status="));

/// The value of the field `key` (`key=value`) in `s`; `<...>` values kept
/// whole (addresses may hold commas and spaces).
#[inline]
fn field<'a>(s: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    fields(s).find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// The `key=value` fields of `s` in order (separators `, ` or ` `).
#[inline]
fn fields(s: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < s.len() {
            let rest = &s[i..];
            let end = rest
                .iter()
                .position(|&c| c == b'=' || c == b' ' || c == b',');
            match end {
                Some(e) if rest[e] == b'=' => {
                    let v = value_end(&rest[e + 1..]);
                    i += e + 1 + v.len();
                    while i < s.len() && (s[i] == b',' || s[i] == b' ') {
                        i += 1;
                    }
                    return Some((&rest[..e], v));
                }
                Some(e) => {
                    i += e.max(1);
                    while i < s.len() && (s[i] == b',' || s[i] == b' ') {
                        i += 1;
                    }
                }
                None => return None,
            }
        }
        None
    })
}

#[inline]
fn value_end(v: &[u8]) -> &[u8] {
    if v.first() == Some(&b'<') {
        // Address in brackets: up to `>,` / `>` + space / end.
        let mut i = 1;
        while i < v.len() {
            if v[i] == b'>' && matches!(v.get(i + 1), None | Some(b',') | Some(b' ')) {
                return &v[..=i];
            }
            i += 1;
        }
        return v;
    }
    let end = v
        .iter()
        .position(|&c| c == b',' || c == b' ')
        .unwrap_or(v.len());
    &v[..end]
}

/// `<addr>` to `addr`.
#[inline]
pub fn strip_angle(v: &[u8]) -> &[u8] {
    if v.len() >= 2 && v[0] == b'<' && v[v.len() - 1] == b'>' {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

#[inline]
fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let mut v = 0u64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u64;
    }
    Some(v)
}

/// `12.5` (seconds, as `delay=` writes them) in milliseconds; 0 when not
/// a number, `u32::MAX` past 49 days.
#[inline]
fn parse_millis(v: &[u8]) -> u32 {
    let (whole, frac) = match memchr::memchr(b'.', v) {
        Some(p) => (&v[..p], &v[p + 1..]),
        None => (v, &v[..0]),
    };
    let Some(secs) = parse_u64(whole) else {
        return 0;
    };
    let mut ms = 0u64;
    for k in 0..3 {
        let d = match frac.get(k).copied() {
            Some(c) if c.is_ascii_digit() => u64::from(c - b'0'),
            _ => 0,
        };
        ms = ms * 10 + d;
    }
    secs.saturating_mul(1000)
        .saturating_add(ms)
        .min(u64::from(u32::MAX)) as u32
}

/// The master daemon's start, reload and stop lines.
fn daemon(chunk: &[u8], service: &[u8], msg: &[u8]) -> Option<EventKind> {
    if service != b"master" {
        return None;
    }
    let event = if msg.starts_with(b"daemon started") {
        DaemonEvent::Started
    } else if msg.starts_with(b"reload ") {
        DaemonEvent::Reloaded
    } else if msg.starts_with(b"terminating on signal") {
        DaemonEvent::Stopped
    } else {
        return None;
    };
    Some(EventKind::Daemon {
        event,
        text: Span::of(chunk, msg),
    })
}

fn diagnostic(chunk: &[u8], msg: &[u8]) -> Option<EventKind> {
    let (severity, rest) = if let Some(t) = msg.strip_prefix(b"warning: ") {
        (Severity::Warning, t)
    } else if let Some(t) = msg.strip_prefix(b"error: ") {
        (Severity::Error, t)
    } else if let Some(t) = msg.strip_prefix(b"fatal: ") {
        (Severity::Fatal, t)
    } else if let Some(t) = msg.strip_prefix(b"panic: ") {
        (Severity::Panic, t)
    } else {
        return None;
    };
    if severity == Severity::Warning && inbound_noise(rest) {
        return Some(EventKind::Info);
    }
    Some(EventKind::Diagnostic {
        severity,
        program: Span::EMPTY,
        text: Span::of(chunk, msg),
    })
}

/// Warnings about clients and their mail, not about this server: they are
/// the bulk of a busy server's warnings and need no classification.
fn inbound_noise(t: &[u8]) -> bool {
    const PREFIXES: &[&[u8]] = &[
        b"hostname ",
        b"header ",
        b"body ",
        b"non-SMTP command",
        b"TLS library problem",
        b"Illegal address syntax",
        b"valid_hostname",
        b"numeric hostname",
        b"malformed domain name",
        b"Connection concurrency limit exceeded",
        b"Connection rate limit exceeded",
        b"Message delivery request rate limit exceeded",
        b"Recipient address rate limit exceeded",
        b"dnsblog",
        b"ehlo ",
        b"helo ",
    ];
    // `192.0.2.7: address not listed for hostname ...`
    t.first().is_some_and(u8::is_ascii_digit) || PREFIXES.iter().any(|p| t.starts_with(p))
}

/// Parses the message of a Postfix line. `service` is the daemon name
/// (`smtpd`, `qmgr`, ...); `msg` must be a sub-slice of `chunk`.
pub fn parse_payload(chunk: &[u8], service: &[u8], msg: &[u8]) -> EventKind {
    // A message may hold a queue id even for a warning, so try both.
    if let Some((qid, rest)) = queue_id_prefix(msg) {
        if let Some(k) = with_queue_id(chunk, service, qid, rest) {
            return k;
        }
    }
    if let Some(k) = sasl_failure(chunk, msg) {
        return k;
    }
    if let Some(k) = diagnostic(chunk, msg) {
        return k;
    }
    if let Some(rest) = msg.strip_prefix(b"NOQUEUE: ") {
        if let Some(k) = reject(chunk, None, RejectStage::Smtpd, rest) {
            return k;
        }
        return EventKind::Info;
    }
    if let Some(t) = repeated(msg) {
        return EventKind::Repeated { times: t };
    }
    if let Some(k) = daemon(chunk, service, msg) {
        return k;
    }
    if informational(service, msg) {
        return EventKind::Info;
    }
    EventKind::NotUnderstood
}

/// `last message repeated 3 times` (and rsyslog's `message repeated 3 times: [ ... ]`).
pub fn repeated(msg: &[u8]) -> Option<u32> {
    let rest = msg
        .strip_prefix(b"last message repeated ")
        .or_else(|| msg.strip_prefix(b"message repeated "))?;
    let end = memchr::memchr(b' ', rest)?;
    parse_u64(&rest[..end]).map(|n| n.min(u32::MAX as u64) as u32)
}

fn sasl_failure(chunk: &[u8], msg: &[u8]) -> Option<EventKind> {
    let rest = msg.strip_prefix(b"warning: ")?;
    if memmem::find(rest, b"authentication failed").is_none()
        || memmem::find(rest, b"SASL").is_none()
    {
        return None;
    }
    let client_end = memmem::find(rest, b": SASL")?;
    let client = &rest[..client_end];
    let username = F_SASL_USER
        .find(rest)
        .map(|p| value_end(&rest[p + 14..]))
        .unwrap_or(&rest[..0]);
    let reason = memmem::find(rest, b"failed: ")
        .map(|p| &rest[p + 8..])
        .unwrap_or(&rest[..0]);
    Some(EventKind::SaslFailure {
        client: Span::of(chunk, client),
        username: Span::of(chunk, username),
        reason: Span::of(chunk, reason),
    })
}

fn reject(
    chunk: &[u8],
    qid: Option<QueueId>,
    stage: RejectStage,
    rest: &[u8],
) -> Option<EventKind> {
    let (action, rest) = if let Some(r) = rest.strip_prefix(b"reject: ") {
        (RejectAction::Reject, r)
    } else if let Some(r) = rest.strip_prefix(b"milter-reject: ") {
        (RejectAction::Reject, r)
    } else if let Some(r) = rest.strip_prefix(b"reject_warning: ") {
        (RejectAction::Warn, r)
    } else if let Some(r) = rest.strip_prefix(b"warn: ") {
        (RejectAction::Warn, r)
    } else if let Some(r) = rest.strip_prefix(b"hold: ") {
        (RejectAction::Hold, r)
    } else if let Some(r) = rest.strip_prefix(b"milter-hold: ") {
        (RejectAction::Hold, r)
    } else if let Some(r) = rest.strip_prefix(b"discard: ") {
        (RejectAction::Discard, r)
    } else if let Some(r) = rest.strip_prefix(b"milter-discard: ") {
        (RejectAction::Discard, r)
    } else {
        return None;
    };
    // `RCPT from host[ip]: 554 5.7.1 text; from=<a> to=<b> proto=ESMTP helo=<h>`
    let (client, after) = match memmem::find(rest, b" from ") {
        Some(p) if p < 40 => {
            let c = &rest[p + 6..];
            let end = memmem::find(c, b": ").unwrap_or(c.len());
            (&c[..end], c.get(end + 2..).unwrap_or(&[]))
        }
        _ => (&rest[..0], rest),
    };
    let tail_start = memmem::rfind(after, b"; from=").map(|p| p + 2);
    let reason = match tail_start {
        Some(p) => &after[..p - 2],
        None => after,
    };
    let tail = tail_start.map(|p| &after[p..]).unwrap_or(&[]);
    let get = |k: &[u8]| field(tail, k).unwrap_or(&tail[..0]);
    Some(EventKind::Reject {
        qid,
        stage,
        action,
        client: Span::of(chunk, client),
        reason: Span::of(chunk, reason),
        from: Span::of(chunk, get(b"from")),
        to: Span::of(chunk, get(b"to")),
        helo: Span::of(chunk, get(b"helo")),
    })
}

#[cfg(test)]
#[path = "postfix_tests.rs"]
mod tests;
