//! Events to messages: who submitted each message and what became of it.
//!
//! Lines are stitched by (host, queue id). Short queue ids repeat over days,
//! so a `removed` ends a message and a new `client=`/pickup starts another.
//! A content filter hands a message back under a new id (`250 2.0.0 Ok:
//! queued as NEWID` from a loopback relay): the new copy is the same message,
//! counted once, and inherits its submitter. Postfix's own bounce notices are
//! linked to the message that caused them.
//!
//! The correlator consumes events in log order, one chunk after another, so
//! its result does not depend on how chunks were scheduled. It keeps state
//! only for live messages and appends compact records for the analysis;
//! nothing is kept per line.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::classify::{Cause, Classifier, ConnectFailure, Verdict};
use crate::parse::{
    DeliveryStatus, EventKind, LineEvent, QueueId, RejectAction, RejectStage, Span, Stamp,
};
use crate::time::{LogTime, DAY};

/// Interned byte strings: hosts, addresses, domains, identities, texts.
#[derive(Debug, Default)]
pub struct Interner {
    // One allocation per string, shared by the map and the list.
    map: FxHashMap<Arc<[u8]>, u32>,
    items: Vec<Arc<[u8]>>,
}

pub type Sym = u32;

impl Interner {
    pub fn new() -> Self {
        let mut i = Interner::default();
        i.intern(b""); // Sym 0 is the empty string.
        i
    }

    pub fn intern(&mut self, s: &[u8]) -> Sym {
        if let Some(&id) = self.map.get(s) {
            return id;
        }
        let id = self.items.len() as Sym;
        let b: Arc<[u8]> = s.into();
        self.items.push(b.clone());
        self.map.insert(b, id);
        id
    }

    /// The symbol of a string already interned.
    pub fn lookup(&self, s: &[u8]) -> Option<Sym> {
        self.map.get(s).copied()
    }

    pub fn get(&self, id: Sym) -> &[u8] {
        self.items.get(id as usize).map_or(&[][..], |b| b)
    }

    pub fn str(&self, id: Sym) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.get(id))
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.len() <= 1
    }
}

/// Who submitted a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityKind {
    /// Authenticated SMTP: the usual sign of a stolen mailbox password.
    Sasl,
    /// Local submission by a system user: a website script, a cron job.
    Uid,
    /// An unauthenticated remote client.
    Client,
    /// Only the envelope sender is known.
    Sender,
    /// Postfix itself (bounce notices).
    Local,
}

impl IdentityKind {
    pub fn id(self) -> &'static str {
        match self {
            IdentityKind::Sasl => "sasl",
            IdentityKind::Uid => "uid",
            IdentityKind::Client => "client",
            IdentityKind::Sender => "sender",
            IdentityKind::Local => "local",
        }
    }

    /// The kind an id from [`Self::id`] names (a report's `kind` column).
    pub fn from_id(id: &str) -> Option<IdentityKind> {
        [
            IdentityKind::Sasl,
            IdentityKind::Uid,
            IdentityKind::Client,
            IdentityKind::Sender,
            IdentityKind::Local,
        ]
        .into_iter()
        .find(|k| k.id() == id)
    }
}

/// One deferral, bounce or expiry of one recipient, classified.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub time: LogTime,
    pub status: OutcomeStatus,
    pub cause: Cause,
    pub connect_failure: Option<ConnectFailure>,
    pub port: u16,
    /// The message (its first queue id's serial), for distinct counts.
    pub message: u32,
    pub identity: Sym,
    pub recipient_domain: Sym,
    /// The remote host (MX) named by the reply.
    pub remote_host: Sym,
    /// The list or reputation system named by the reply.
    pub list: Sym,
    pub listed_ip: Sym,
    /// An exact reason text of this outcome's group: the first one seen
    /// with the same normalised text (keeping every exact text would keep
    /// one string per deferral, since replies quote addresses).
    pub text: Sym,
    /// The normalised reason text (interned): groups texts of one cause.
    pub normalised: Sym,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeStatus {
    Deferred,
    Bounced,
    Expired,
}

/// One external recipient of a message, at the message's arrival.
#[derive(Debug, Clone, Copy)]
pub struct OutboundRecipient {
    pub time: LogTime,
    pub identity: Sym,
    pub message: u32,
    pub domain: Sym,
}

/// A failed SASL login.
#[derive(Debug, Clone, Copy)]
pub struct LoginFailure {
    pub time: LogTime,
    pub username: Sym,
    pub client_ip: Sym,
}

/// A successful SASL login (a message submitted with it).
#[derive(Debug, Clone, Copy)]
pub struct Login {
    pub time: LogTime,
    pub identity: Sym,
    pub client_ip: Sym,
}

/// The latest fate of one recipient of a queue file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Sent,
    Deferred,
    Bounced,
    Expired,
}

impl Fate {
    pub fn id(self) -> &'static str {
        match self {
            Fate::Sent => "sent",
            Fate::Deferred => "deferred",
            Fate::Bounced => "bounced",
            Fate::Expired => "expired",
        }
    }
}

impl From<OutcomeStatus> for Fate {
    fn from(s: OutcomeStatus) -> Fate {
        match s {
            OutcomeStatus::Deferred => Fate::Deferred,
            OutcomeStatus::Bounced => Fate::Bounced,
            OutcomeStatus::Expired => Fate::Expired,
        }
    }
}

/// What became of one recipient of one queue file (`--messages`).
#[derive(Debug, Clone, Copy)]
pub struct RecipientRecord {
    pub address: Sym,
    pub relay: Sym,
    pub fate: Fate,
    /// The last attempt.
    pub time: LogTime,
    /// The last failed attempt, an index into `Findings::outcomes` (its
    /// cause is final only after the analysis judged port 25).
    pub failure: Option<u32>,
}

/// One queue file from arrival to removal, with its recipients
/// (`--messages`). Copies of one message share `message`.
#[derive(Debug, Clone)]
pub struct QueueFileRecord {
    pub message: u32,
    pub host: Sym,
    pub queue_id: QueueId,
    pub identity: Sym,
    pub arrival: LogTime,
    /// When it was removed; `None` while still queued at the end.
    pub removed: Option<LogTime>,
    /// For a bounce notice: the message it reports on (0: none).
    pub bounce_of: u32,
    pub recipients: Vec<RecipientRecord>,
}

/// Per-identity counters for the sender table.
#[derive(Debug, Clone, Default)]
pub struct SenderStats {
    pub kind: Option<IdentityKind>,
    pub messages: u64,
    pub recipients: u64,
    pub delivered: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub expired: u64,
    pub rejected: u64,
    pub first: Option<LogTime>,
    pub last: Option<LogTime>,
}

/// Totals as the summary reports them.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub received: u64,
    pub delivered: u64,
    pub deferral_events: u64,
    pub deferred_messages: u64,
    pub bounced: u64,
    pub expired: u64,
    pub rejected: u64,
    pub held: u64,
    pub handoffs: u64,
    pub notifications: u64,
}

/// An inbound verdict of our own server (NOQUEUE and cleanup rejects).
#[derive(Debug, Clone, Copy)]
pub struct InboundReject {
    pub time: LogTime,
    pub cause: Cause,
    pub normalised: Sym,
    pub identity: Sym,
}

/// What the correlator knows about a queued message, for joining a queue
/// dump to the logs.
#[derive(Debug, Clone, Copy)]
pub struct QueueIdInfo {
    pub identity: Sym,
    pub first_cause: Option<Cause>,
    pub first_deferral: Option<LogTime>,
}

/// Everything the analysis needs, as compact records.
#[derive(Debug, Default)]
pub struct Findings {
    pub strings: Interner,
    pub counts: Counts,
    pub outcomes: Vec<Outcome>,
    pub outbound: Vec<OutboundRecipient>,
    pub login_failures: Vec<LoginFailure>,
    pub logins: Vec<Login>,
    pub senders: HashMap<Sym, SenderStats>,
    pub inbound: Vec<InboundReject>,
    pub first: Option<LogTime>,
    pub last: Option<LogTime>,
    /// Per source index: first and last time, lines seen in events.
    pub source_span: HashMap<usize, (LogTime, LogTime)>,
    /// Queue ids still live at the end, with what we know: joined with a
    /// queue dump.
    pub live_ids: HashMap<String, QueueIdInfo>,
    /// Year given to year-less stamps (first series), and how.
    pub year: Option<(i32, String)>,
    /// Year-less stamps that fell after the anchor (inferred year too late).
    pub future_stamps: u64,
    /// `last message repeated N times` beyond what is counted (a cap keeps
    /// a hostile N from exhausting memory).
    pub repeats_dropped: u64,
    /// The hosts that wrote the logs (the syslog host field): the server's
    /// own names, kept readable under `--redact`.
    pub hosts: Vec<Sym>,
    /// Messages known (serial numbers handed out).
    pub messages: u32,
    /// Every queue file with its recipients, when tracking was asked for.
    pub queue_files: Vec<QueueFileRecord>,
    /// Serial numbers given up when a copy turned out to belong to an
    /// earlier message: old -> new.
    pub merged_serials: HashMap<u32, u32>,
}

#[derive(Debug, Clone)]
struct Message {
    serial: u32,
    identity: Sym,
    arrival: LogTime,
    /// Counted in `received` (may be taken back when it turns out to be a
    /// content filter's re-injection).
    counted_received: bool,
    removed: bool,
    /// Hashes of the recipients seen, to count each once.
    recipients: Vec<u64>,
    first_cause: Option<Cause>,
    first_deferral: Option<LogTime>,
    /// Came from a loopback client: maybe a content filter's re-injection.
    loopback: bool,
    /// Hash of the Message-ID header (0: none seen).
    message_id: u64,
    /// Its recipients' fates, when tracking (`--messages`).
    track: Option<Vec<RecipientRecord>>,
    /// For a bounce notice: the serial of the message it reports on.
    bounce_of: u32,
}

/// State shared by all copies of one message.
#[derive(Debug, Clone, Default)]
struct Root {
    deferred: bool,
    held: bool,
    expired: bool,
    refs: u32,
}

/// How year-less stamps get their year.
#[derive(Debug, Clone, Copy)]
pub struct YearPolicy {
    /// `--year`: the year of the first year-less line of each file series.
    pub forced: Option<i32>,
    /// The newest input's modification date (local), as (year, month, day).
    pub anchor: Option<(i32, u32, u32)>,
}

#[derive(Debug, Clone, Copy)]
struct SeriesYear {
    year: i32,
    month: u8,
}

pub struct Correlator<'c> {
    classifier: &'c Classifier,
    /// Scratch space for building identities.
    scratch: Vec<u8>,
    /// Keep every queue file's recipients (`--messages`).
    tracking: bool,
    years: YearPolicy,
    /// A year-less stamp later than this means the year guess was too late.
    future_after: Option<LogTime>,
    series_year: FxHashMap<u32, SeriesYear>,
    live: FxHashMap<(Sym, QueueId), Message>,
    roots: FxHashMap<u32, Root>,
    /// Children announced by `queued as` before their first line.
    pending_parent: FxHashMap<(Sym, QueueId), (u32, Sym, LogTime)>,
    /// Notification children announced before their first line.
    pending_notice: FxHashMap<(Sym, QueueId), (Sym, u32)>,
    /// Symbols of the verdicts seen, by the shared verdict's address.
    pre_syms: FxHashMap<usize, (Arc<PreVerdict>, VerdictSyms)>,
    /// The parse worker's verdict for the event being consumed.
    pre_current: Option<Classified>,
    /// Normalised text -> the first exact text seen for it.
    examples: FxHashMap<Sym, Sym>,
    /// Message-ids of live messages submitted from outside, to recognise a
    /// content filter's re-injected copy before it is delivered.
    by_message_id: FxHashMap<(Sym, u64), (u32, Sym, LogTime)>,
    last_kind_deferral: Option<Outcome>,
    /// Outcomes that `last message repeated N times` may still add: a
    /// hostile log of such lines must not grow memory without end.
    repeats_left: u64,
    window: (Option<LogTime>, Option<LogTime>),
    /// The last host seen and its symbol: most lines share one host.
    last_host: (Vec<u8>, Sym),
    /// Events since the last sweep of stale messages.
    since_sweep: u32,
    pub findings: Findings,
}

/// Relays that are our own content filter or a loopback re-injection:
/// `127.0.0.1[127.0.0.1]:10024`, `localhost[::1]:10025`. A named host on a
/// loopback address (a test rig's fake MX) is not one.
pub(crate) fn is_loopback_relay(relay: &[u8]) -> bool {
    let Some(open) = memchr::memchr(b'[', relay) else {
        return false;
    };
    let name = &relay[..open];
    let rest = &relay[open + 1..];
    let ip = &rest[..memchr::memchr(b']', rest).unwrap_or(rest.len())];
    is_loopback_ip(ip) && (name == ip || name == b"localhost" || name.starts_with(b"127."))
}

/// A relay to another machine, not a local mailbox transport (`virtual`,
/// `local`, `dovecot`, LMTP on port 24) nor our content filter.
fn is_external_relay(relay: &[u8]) -> bool {
    if relay == b"none" {
        return true;
    }
    memchr::memchr(b'[', relay).is_some() && !is_loopback_relay(relay) && !relay.ends_with(b":24")
}

fn domain_of(addr: &[u8]) -> &[u8] {
    match memchr::memrchr(b'@', addr) {
        Some(p) => &addr[p + 1..],
        None => &addr[..0],
    }
}

/// `host[1.2.3.4]` -> `1.2.3.4`
pub fn client_ip(client: &[u8]) -> &[u8] {
    match (memchr::memchr(b'[', client), memchr::memrchr(b']', client)) {
        (Some(a), Some(b)) if b > a => &client[a + 1..b],
        _ => client,
    }
}

fn is_loopback_ip(ip: &[u8]) -> bool {
    ip.starts_with(b"127.") || ip == b"::1"
}

/// A verdict with its texts interned: what an [`Outcome`] records.
#[derive(Debug, Clone, Copy)]
struct VerdictSyms {
    cause: Cause,
    connect_failure: Option<ConnectFailure>,
    port: u16,
    normalised: Sym,
    remote_host: Sym,
    list: Sym,
    listed_ip: Sym,
}

/// A reason text's verdict, computed on a parse worker.
#[derive(Debug)]
pub struct PreVerdict {
    pub verdict: Verdict,
    pub normalised: String,
    /// Which IPv4 address of the text (1-based, 0: none) the verdict's
    /// listed IP and remote host are: the cache key masks addresses, so
    /// each text supplies its own.
    listed_ip_slot: u8,
    remote_host_slot: u8,
}

/// A reason's shared verdict and the addresses that are its own.
#[derive(Debug, Clone)]
pub struct Classified {
    pub verdict: Arc<PreVerdict>,
    /// Byte ranges in the reason text.
    listed_ip: Option<(u32, u32)>,
    remote_ip: Option<(u32, u32)>,
}

impl Classified {
    /// The verdict of this very text: the shared one with the text's own
    /// listed IP and remote host put back.
    pub fn verdict_for(&self, text: &[u8]) -> Verdict {
        let mut v = self.verdict.verdict.clone();
        let own = |r: Option<(u32, u32)>| {
            r.and_then(|(a, b)| text.get(a as usize..b as usize))
                .map(|ip| String::from_utf8_lossy(ip).into_owned())
        };
        if let Some(ip) = own(self.listed_ip) {
            v.detail.listed_ip = Some(ip);
        }
        if let Some(ip) = own(self.remote_ip) {
            v.detail.remote_host = Some(ip);
        }
        v
    }
}

/// A thread's verdict cache: the classifier it holds verdicts of, scratch
/// key and address positions, and verdicts by shape key.
type VerdictCache = (
    u64,
    Vec<u8>,
    Vec<(u32, u32)>,
    FxHashMap<Box<[u8]>, Arc<PreVerdict>>,
);

thread_local! {
    /// Each thread's verdict cache.
    static PRE_CACHE: std::cell::RefCell<VerdictCache> =
        std::cell::RefCell::new((0, Vec::new(), Vec::new(), FxHashMap::default()));
}

/// Classifies the reason texts of a chunk's deferrals, bounces and rejects
/// (the events the correlator would classify), in parallel with other
/// chunks: (event index, verdict), in event order.
pub fn preclassify(
    chunk: &[u8],
    events: &[LineEvent],
    classifier: &Classifier,
) -> Vec<(u32, Classified)> {
    let mut out = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        let reason = match ev.kind {
            EventKind::Delivery {
                status: DeliveryStatus::Deferred | DeliveryStatus::Bounced,
                reason,
                ..
            } => reason,
            EventKind::Reject {
                action: RejectAction::Reject,
                reason,
                ..
            } => reason,
            _ => continue,
        };
        out.push((i as u32, cached_verdict(reason.get(chunk), classifier)));
    }
    out
}

/// The verdict of a reason text, through this thread's cache. Replies
/// differ mostly in addresses, IPs and message ids, so the cache is keyed
/// on the text's shape and the regexes run once per shape. The key, not
/// the text, is classified: every text with one key gets the same verdict
/// and group whichever thread saw it first, so results never depend on
/// timing. IPs in the key are numbered placeholders; an IP the verdict
/// names is taken back from each text.
pub fn cached_verdict(text: &[u8], classifier: &Classifier) -> Classified {
    PRE_CACHE.with(|cache| {
        let (ref mut owner, ref mut key, ref mut ips, ref mut map) = *cache.borrow_mut();
        if *owner != classifier.id() {
            // Another rule table: its verdicts may differ.
            map.clear();
            *owner = classifier.id();
        }
        shape_key(text, key, ips, !classifier.reads_addresses());
        let verdict = match map.get(key.as_slice()) {
            Some(v) => v.clone(),
            None => {
                let s = String::from_utf8_lossy(key);
                let verdict = classifier.classify(&s);
                let slot = |d: &Option<String>| d.as_deref().map_or(0, placeholder_slot);
                let v = Arc::new(PreVerdict {
                    listed_ip_slot: slot(&verdict.detail.listed_ip),
                    remote_host_slot: slot(&verdict.detail.remote_host),
                    normalised: crate::classify::normalise(&s),
                    verdict,
                });
                // Bound the cache: some replies carry unique words all the same.
                if map.len() > 20_000 {
                    map.clear();
                }
                map.insert(key.as_slice().into(), v.clone());
                v
            }
        };
        let pick = |slot: u8| match slot {
            0 => None,
            n => ips.get(n as usize - 1).copied(),
        };
        Classified {
            listed_ip: pick(verdict.listed_ip_slot),
            remote_ip: pick(verdict.remote_host_slot),
            verdict,
        }
    })
}

/// The placeholder `0.0.0.N` stands for the Nth IPv4 address of a text.
fn placeholder_slot(ip: &str) -> u8 {
    ip.strip_prefix("0.0.0.")
        .and_then(|n| n.parse::<u8>().ok())
        .unwrap_or(0)
}

/// The end of a dotted-quad IPv4 address starting at `i`, if one does.
fn ipv4_at(w: &[u8], i: usize) -> Option<usize> {
    let mut p = i;
    for part in 0..4 {
        let start = p;
        while p < w.len() && p - start < 3 && w[p].is_ascii_digit() {
            p += 1;
        }
        if p == start || (p < w.len() && w[p].is_ascii_digit()) {
            return None;
        }
        if part < 3 {
            if w.get(p) != Some(&b'.') {
                return None;
            }
            p += 1;
        }
    }
    // `1.2.3.4.5` is not an address.
    if w.get(p) == Some(&b'.') && w.get(p + 1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some(p)
}

/// The verdict cache key of a reason text: an address becomes `a@b.c`
/// inside its own brackets (`<a@b.c>:`); IPv4 addresses but loopback
/// become `0.0.0.N` (their positions go to `ips`) when `mask_ips`; other
/// words longer than six bytes with three digits and a letter (message
/// ids, server names, timestamps) become `#` (after their `name=`), except
/// `host[ip]:port`, URLs and a multi-line reply's `451-Word`. Reply codes,
/// hosts, ports and everything else stay, so two texts with one key
/// classify alike.
fn shape_key(text: &[u8], out: &mut Vec<u8>, ips: &mut Vec<(u32, u32)>, mask_ips: bool) {
    out.clear();
    ips.clear();
    out.reserve(text.len());
    // This runs for every deferral and bounce. Only a word holding a digit
    // or an `@` can change, so the text is skipped eight bytes at a time to
    // the next digit (and searched for `@` with memchr); only those words
    // are read byte by byte, and the runs between them are copied at once.
    let (mut copied, mut at) = (0usize, 0usize);
    let mut next_at = memchr::memchr(b'@', text);
    while at < text.len() {
        let digit = next_digit(text, at);
        let hit = match (digit, next_at) {
            (Some(d), Some(a)) => d.min(a),
            (Some(d), None) => d,
            (None, Some(a)) => a,
            (None, None) => break,
        };
        let start = memchr::memrchr(b' ', &text[at..hit]).map_or(at, |p| at + p + 1);
        let end = memchr::memchr(b' ', &text[hit..]).map_or(text.len(), |p| hit + p);
        let (mut digits, mut dots, mut flags) = (0usize, 0usize, 0u8);
        for (i, &c) in text[start..end].iter().enumerate() {
            let k = BYTE_CLASS[c as usize];
            digits += usize::from(k & DIGIT);
            dots += usize::from((k & DOT) >> 1);
            // A bracket inside a word is `host[ip]`; a leading one is not.
            flags |= if k & BRACKET != 0 && i == 0 { 0 } else { k };
        }
        out.extend_from_slice(&text[copied..start]);
        shape_word(text, start, end, (digits, dots, flags), out, ips, mask_ips);
        copied = end;
        at = end;
        if next_at.is_some_and(|a| a < end) {
            next_at = memchr::memchr(b'@', &text[end..]).map(|p| end + p);
        }
    }
    out.extend_from_slice(&text[copied..]);
}

/// The position of the first ASCII digit at or after `from`, eight bytes
/// at a time.
fn next_digit(text: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const ZEROS: u64 = u64::from_ne_bytes([b'0'; 8]);
    let mut i = from;
    while i + 8 <= text.len() {
        let x = u64::from_ne_bytes(text[i..i + 8].try_into().expect("8 bytes"));
        // Digits become bytes under 10; test for any byte under 10.
        let t = x ^ ZEROS;
        if t.wrapping_sub(ONES * 10) & !t & HIGHS != 0 {
            break;
        }
        i += 8;
    }
    text[i..].iter().position(u8::is_ascii_digit).map(|p| i + p)
}

const DIGIT: u8 = 1;
const DOT: u8 = 2;
const AT: u8 = 4;
const LETTER: u8 = 8;
const BRACKET: u8 = 16;
const SLASH: u8 = 32;

/// What [`shape_key`] notices about each byte.
static BYTE_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = if b.is_ascii_digit() {
            DIGIT
        } else if b == b'.' {
            DOT
        } else if b == b'@' {
            AT
        } else if b.is_ascii_alphabetic() {
            LETTER
        } else if b == b'[' {
            BRACKET
        } else if b == b'/' {
            SLASH
        } else {
            0
        };
        c += 1;
    }
    t
};

/// Appends the key of `text[start..end]`, one word; see [`shape_key`].
fn shape_word(
    text: &[u8],
    start: usize,
    end: usize,
    (digits, dots, flags): (usize, usize, u8),
    out: &mut Vec<u8>,
    ips: &mut Vec<(u32, u32)>,
    mask_ips: bool,
) {
    let word = &text[start..end];
    if flags & AT != 0 {
        // Keep the brackets around an address (`<a@b>:`): rules read them.
        let lead = word
            .iter()
            .take_while(|c| !c.is_ascii_alphanumeric())
            .count();
        let trail = word[lead..]
            .iter()
            .rev()
            .take_while(|c| !c.is_ascii_alphanumeric())
            .count();
        out.extend_from_slice(&word[..lead]);
        out.extend_from_slice(b"a@b.c");
        out.extend_from_slice(&word[word.len() - trail..]);
        return;
    }
    if mask_ips && digits >= 4 && dots >= 3 {
        let mark = out.len();
        let mut found = false;
        let mut i = 0;
        while i < word.len() {
            let boundary = i == 0 || !(word[i - 1].is_ascii_digit() || word[i - 1] == b'.');
            match (boundary && word[i].is_ascii_digit())
                .then(|| ipv4_at(word, i))
                .flatten()
            {
                Some(e) if !word[i..].starts_with(b"127.") && ips.len() < 255 => {
                    ips.push(((start + i) as u32, (start + e) as u32));
                    out.extend_from_slice(b"0.0.0.");
                    let n = ips.len() as u8;
                    if n >= 100 {
                        out.push(b'0' + n / 100);
                    }
                    if n >= 10 {
                        out.push(b'0' + n / 10 % 10);
                    }
                    out.push(b'0' + n % 10);
                    found = true;
                    i = e;
                }
                Some(e) => {
                    out.extend_from_slice(&word[i..e]);
                    found = true;
                    i = e;
                }
                None => {
                    out.push(word[i]);
                    i += 1;
                }
            }
        }
        if found {
            return;
        }
        out.truncate(mark);
    }
    // Status codes (`550-5.1.1`, `(#5.1.1)`) have no letters; a multi-line
    // reply's first word (`451-You`) is a code too.
    let continued = word.len() > 3 && word[..3].iter().all(u8::is_ascii_digit) && word[3] == b'-';
    let keep = flags & (BRACKET | SLASH) != 0;
    if word.len() > 6 && digits >= 3 && flags & LETTER != 0 && !keep && !continued {
        // `name=value`: the name stays.
        if let Some(eq) = memchr::memrchr(b'=', word) {
            out.extend_from_slice(&word[..=eq]);
        }
        out.push(b'#');
    } else {
        out.extend_from_slice(word);
    }
}

/// `n` in decimal, written into `buf` (no allocation per line).
fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// The queue id named by `... queued as NEWID` at the end of a reply.
fn queued_as(reason: &[u8]) -> Option<QueueId> {
    let p = memchr::memmem::rfind(reason, b"queued as ")?;
    let rest = &reason[p + 10..];
    let end = rest
        .iter()
        .position(|c| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    QueueId::parse(&rest[..end])
}

impl<'c> Correlator<'c> {
    pub fn new(classifier: &'c Classifier, years: YearPolicy) -> Self {
        // More than two days after the anchor date is in the future; a
        // forced year is never second-guessed.
        let future_after = match (years.forced, years.anchor) {
            (None, Some((y, m, d))) => {
                LogTime::from_civil(y, m, d, 0, 0, 0, 0).map(|a| LogTime(a.0 + 2 * DAY))
            }
            _ => None,
        };
        Correlator {
            classifier,
            scratch: Vec::new(),
            tracking: false,
            years,
            future_after,
            series_year: FxHashMap::default(),
            live: FxHashMap::default(),
            roots: FxHashMap::default(),
            pending_parent: FxHashMap::default(),
            pending_notice: FxHashMap::default(),
            pre_syms: FxHashMap::default(),
            examples: FxHashMap::default(),
            pre_current: None,
            by_message_id: FxHashMap::default(),
            last_kind_deferral: None,
            repeats_left: 1_000_000,
            window: (None, None),
            last_host: (Vec::new(), 0),
            since_sweep: 0,
            findings: Findings {
                strings: Interner::new(),
                ..Findings::default()
            },
        }
    }

    /// Turns a stamp into a time, giving year-less stamps their year.
    fn resolve(&mut self, series: u32, stamp: Stamp) -> Option<LogTime> {
        let (month, day) = match stamp {
            Stamp::Full { time, .. } => return Some(time),
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

    /// A verdict as the records need it: copyable, strings interned.
    fn syms_of(&mut self, verdict: &Verdict, normalised: &str) -> VerdictSyms {
        let strings = &mut self.findings.strings;
        let d = &verdict.detail;
        VerdictSyms {
            cause: verdict.cause,
            connect_failure: verdict.connect_failure,
            port: d.remote_port.unwrap_or(0),
            normalised: strings.intern(normalised.as_bytes()),
            remote_host: strings.intern(d.remote_host.as_deref().unwrap_or("").as_bytes()),
            list: strings.intern(d.list.as_deref().unwrap_or("").as_bytes()),
            listed_ip: strings.intern(d.listed_ip.as_deref().unwrap_or("").as_bytes()),
        }
    }

    /// The interned verdict of a reason: the parse worker's when it gave
    /// one, else classified here through the same cache. Symbols are kept
    /// by the shared verdict's address (the entry keeps the verdict alive,
    /// so the address cannot be reused while it is a key).
    fn verdict(&mut self, text: &[u8]) -> VerdictSyms {
        let c = match self.pre_current.take() {
            Some(c) => c,
            None => cached_verdict(text, self.classifier),
        };
        let addr = Arc::as_ptr(&c.verdict) as usize;
        let mut syms = match self.pre_syms.get(&addr) {
            Some((_, syms)) => *syms,
            None => {
                let syms = self.syms_of(&c.verdict.verdict, &c.verdict.normalised);
                if self.pre_syms.len() > 50_000 {
                    self.pre_syms.clear();
                }
                self.pre_syms.insert(addr, (c.verdict.clone(), syms));
                syms
            }
        };
        let own = |r: Option<(u32, u32)>| r.and_then(|(a, b)| text.get(a as usize..b as usize));
        if let Some(ip) = own(c.listed_ip) {
            syms.listed_ip = self.findings.strings.intern(ip);
        }
        if let Some(ip) = own(c.remote_ip) {
            syms.remote_host = self.findings.strings.intern(ip);
        }
        syms
    }

    fn new_message(
        &mut self,
        key: (Sym, QueueId),
        time: LogTime,
        identity: Sym,
        external_origin: bool,
    ) -> &mut Message {
        // A live message under the same id: ids are reused after `removed`;
        // one that never said `removed` (lost lines) is replaced too.
        if let Some(mut old) = self.live.remove(&key) {
            self.close_track(key.0, key.1, &mut old, None);
            self.release_root(old.serial);
        }
        let (serial, identity, counted) = match self.pending_parent.remove(&key) {
            Some((root, id, _)) => (root, id, false),
            None => {
                self.findings.messages += 1;
                (self.findings.messages, identity, external_origin)
            }
        };
        let root = self.roots.entry(serial).or_default();
        root.refs += 1;
        if counted {
            self.findings.counts.received += 1;
        }
        let msg = Message {
            serial,
            identity,
            arrival: time,
            counted_received: counted,
            removed: false,
            recipients: Vec::new(),
            first_cause: None,
            first_deferral: None,
            loopback: false,
            message_id: 0,
            track: self.tracking.then(Vec::new),
            bounce_of: 0,
        };
        self.live.insert(key, msg);
        self.live.get_mut(&key).expect("just inserted")
    }

    fn forget(&mut self, host: Sym, m: &Message) {
        if m.message_id != 0 {
            if let Some(e) = self.by_message_id.get(&(host, m.message_id)) {
                if e.0 == m.serial {
                    self.by_message_id.remove(&(host, m.message_id));
                }
            }
        }
        self.release_root(m.serial);
    }

    /// Makes the live message `ckey` a copy of message `serial`: not
    /// received again, submitted by the same identity.
    fn link_child(&mut self, ckey: (Sym, QueueId), serial: u32, identity: Sym, arrival: LogTime) {
        let Some(c) = self.live.get_mut(&ckey) else {
            return;
        };
        let old = c.serial;
        let was_counted = c.counted_received;
        let child_identity = c.identity;
        c.serial = serial;
        if self.tracking && old != serial {
            self.findings.merged_serials.insert(old, serial);
        }
        c.counted_received = false;
        if identity != 0 {
            c.identity = identity;
        }
        c.arrival = arrival;
        if was_counted {
            self.findings.counts.received -= 1;
            if child_identity != 0 {
                let st = self.sender_stats(child_identity);
                st.messages = st.messages.saturating_sub(1);
            }
        }
        self.roots.entry(serial).or_default().refs += 1;
        self.release_root(old);
    }

    fn release_root(&mut self, serial: u32) {
        if let Some(r) = self.roots.get_mut(&serial) {
            r.refs = r.refs.saturating_sub(1);
            if r.refs == 0 {
                self.roots.remove(&serial);
            }
        }
    }

    fn sender_stats(&mut self, identity: Sym) -> &mut SenderStats {
        self.findings.senders.entry(identity).or_default()
    }

    fn identity(&mut self, kind: IdentityKind, value: &[u8]) -> Sym {
        // `kind:value` in a buffer kept for the purpose: no allocation per line.
        let buf = &mut self.scratch;
        buf.clear();
        buf.extend_from_slice(kind.id().as_bytes());
        buf.push(b':');
        buf.extend_from_slice(value);
        let sym = self.findings.strings.intern(buf);
        let st = self.sender_stats(sym);
        st.kind.get_or_insert(kind);
        sym
    }

    /// The message for a key, created when its first lines were before our
    /// logs began (or were lost).
    fn message(&mut self, key: (Sym, QueueId), time: LogTime) -> &mut Message {
        if !self.live.contains_key(&key) || self.live[&key].removed {
            let (identity, bounce_of) = self.pending_notice.remove(&key).unwrap_or_default();
            self.new_message(key, time, identity, false).bounce_of = bounce_of;
        }
        self.live.get_mut(&key).expect("present")
    }

    fn touch(&mut self, identity: Sym, time: LogTime) {
        let st = self.sender_stats(identity);
        st.first = Some(st.first.map_or(time, |f| f.min(time)));
        st.last = Some(st.last.map_or(time, |l| l.max(time)));
    }

    /// Keeps each queue file's recipients and what became of them, for
    /// `messages.csv`: memory then grows with the number of messages.
    pub fn track_messages(&mut self) {
        self.tracking = true;
    }

    /// Records a delivery attempt of a tracked message; `failure` indexes
    /// the outcome of a failed one.
    fn track(
        &mut self,
        key: (Sym, QueueId),
        to: &[u8],
        relay: &[u8],
        fate: Fate,
        time: LogTime,
        failure: Option<u32>,
    ) {
        if !self.tracking {
            return;
        }
        let address = self.findings.strings.intern(to);
        let relay = self.findings.strings.intern(relay);
        let Some(track) = self.live.get_mut(&key).and_then(|m| m.track.as_mut()) else {
            return;
        };
        let r = match track.iter_mut().position(|r| r.address == address) {
            Some(i) => &mut track[i],
            None => {
                track.push(RecipientRecord {
                    address,
                    relay,
                    fate,
                    time,
                    failure: None,
                });
                track.last_mut().expect("just pushed")
            }
        };
        r.relay = relay;
        r.fate = fate;
        r.time = time;
        if failure.is_some() {
            r.failure = failure;
        }
    }

    /// Ends a tracked queue file: its record joins the findings.
    fn close_track(&mut self, host: Sym, qid: QueueId, m: &mut Message, removed: Option<LogTime>) {
        if let Some(recipients) = m.track.take() {
            self.findings.queue_files.push(QueueFileRecord {
                message: m.serial,
                host,
                queue_id: qid,
                identity: m.identity,
                arrival: m.arrival,
                removed,
                bounce_of: m.bounce_of,
                recipients,
            });
        }
    }

    /// Keeps only events in `[since, until)`.
    pub fn set_window(&mut self, since: Option<LogTime>, until: Option<LogTime>) {
        self.window = (since, until);
    }

    /// Consumes the events of one chunk (in log order).
    pub fn consume(&mut self, source: usize, series: u32, chunk: &[u8], events: &[LineEvent]) {
        self.consume_classified(source, series, chunk, events, Vec::new());
    }

    /// Like [`Correlator::consume`], with the reason texts already
    /// classified by [`preclassify`] on a parse worker, which takes the
    /// regexes off this sequential path.
    pub fn consume_classified(
        &mut self,
        source: usize,
        series: u32,
        chunk: &[u8],
        events: &[LineEvent],
        pre: Vec<(u32, Classified)>,
    ) {
        // Verdicts are moved, not cloned: a clone is an atomic increment on
        // a counter the parse workers touch too.
        let mut pre = pre.into_iter().peekable();
        // The chunk's first and last times, folded into the totals once.
        let mut span: Option<(LogTime, LogTime)> = None;
        for (index, ev) in events.iter().enumerate() {
            let Some(time) = self.resolve(series, ev.stamp) else {
                continue;
            };
            if self.window.0.is_some_and(|s| time < s) || self.window.1.is_some_and(|u| time >= u) {
                continue;
            }
            span = Some(span.map_or((time, time), |(a, b)| (a.min(time), b.max(time))));
            while pre.next_if(|(i, _)| (*i as usize) < index).is_some() {}
            self.pre_current = pre.next_if(|(i, _)| *i as usize == index).map(|(_, v)| v);
            let host_bytes = ev.host.get(chunk);
            let host = if self.last_host.1 != 0
                && crate::parse::same_bytes(&self.last_host.0, host_bytes)
            {
                self.last_host.1
            } else {
                let sym = self.findings.strings.intern(host_bytes);
                self.last_host = (host_bytes.to_vec(), sym);
                if sym != 0 && !self.findings.hosts.contains(&sym) && self.findings.hosts.len() < 64
                {
                    self.findings.hosts.push(sym);
                }
                sym
            };
            self.event(host, time, chunk, ev.kind);
            self.since_sweep += 1;
            if self.since_sweep >= 1 << 20 {
                self.since_sweep = 0;
                self.sweep(time);
            }
        }
        if let Some((a, b)) = span {
            self.findings.first = Some(self.findings.first.map_or(a, |f| f.min(a)));
            self.findings.last = Some(self.findings.last.map_or(b, |l| l.max(b)));
            let s = self.findings.source_span.entry(source).or_insert((a, b));
            s.0 = s.0.min(a);
            s.1 = s.1.max(b);
        }
    }

    /// Drops messages whose `removed` line never came (lost lines, logs
    /// cut): after a week a message has expired or been delivered, and
    /// keeping it would make memory grow with the input.
    fn sweep(&mut self, now: LogTime) {
        let cutoff = now.0 - 7 * DAY;
        let stale: Vec<(Sym, QueueId)> = self
            .live
            .iter()
            .filter(|(_, m)| m.arrival.0 < cutoff)
            .map(|(k, _)| *k)
            .collect();
        for k in stale {
            if let Some(mut m) = self.live.remove(&k) {
                self.close_track(k.0, k.1, &mut m, None);
                self.forget(k.0, &m);
            }
        }
        self.pending_parent.retain(|_, v| v.2 .0 >= cutoff);
        self.by_message_id.retain(|_, v| v.2 .0 >= cutoff);
    }

    fn event(&mut self, host: Sym, time: LogTime, chunk: &[u8], kind: EventKind) {
        let g = |s: Span| s.get(chunk);
        match kind {
            EventKind::Client {
                qid,
                client,
                sasl_username,
            } => {
                let ip = client_ip(g(client));
                let sasl = g(sasl_username);
                let loopback = is_loopback_ip(ip);
                let identity = if !sasl.is_empty() {
                    let id = self.identity(IdentityKind::Sasl, sasl);
                    let ip_sym = self.findings.strings.intern(ip);
                    self.findings.logins.push(Login {
                        time,
                        identity: id,
                        client_ip: ip_sym,
                    });
                    id
                } else if loopback {
                    // Filled in from the envelope sender at `from=`.
                    0
                } else {
                    self.identity(IdentityKind::Client, ip)
                };
                let m = self.new_message((host, qid), time, identity, true);
                m.loopback = loopback && sasl.is_empty();
                let (id, counted) = (m.identity, m.counted_received);
                if counted && id != 0 {
                    self.sender_stats(id).messages += 1;
                    self.touch(id, time);
                }
            }
            EventKind::Pickup { qid, uid, from } => {
                let identity = match uid {
                    Some(u) => self.identity(IdentityKind::Uid, decimal(u, &mut [0; 10])),
                    None => self.identity(IdentityKind::Sender, g(from)),
                };
                let m = self.new_message((host, qid), time, identity, true);
                let (id, counted) = (m.identity, m.counted_received);
                if counted {
                    self.sender_stats(id).messages += 1;
                    self.touch(id, time);
                }
            }
            EventKind::QueueActive { qid, from, .. } => {
                let m = self.message((host, qid), time);
                if m.identity == 0 {
                    let counted = m.counted_received;
                    let from = g(from);
                    let id = if from.is_empty() {
                        self.identity(IdentityKind::Local, b"MAILER-DAEMON")
                    } else {
                        self.identity(IdentityKind::Sender, from)
                    };
                    let m = self.live.get_mut(&(host, qid)).expect("present");
                    m.identity = id;
                    if counted {
                        self.sender_stats(id).messages += 1;
                        self.touch(id, time);
                    }
                }
            }
            EventKind::MessageId { qid, message_id } => {
                let mid = g(message_id);
                if mid.is_empty() {
                    return;
                }
                let mid = {
                    let mut h = rustc_hash::FxHasher::default();
                    mid.hash(&mut h);
                    h.finish().max(1)
                };
                // Postfix's own bounce notices start at cleanup: no client.
                let m = self.message((host, qid), time);
                m.message_id = mid;
                let (serial, identity, arrival, loopback) =
                    (m.serial, m.identity, m.arrival, m.loopback);
                match self.by_message_id.get(&(host, mid)).copied() {
                    // The same message-id from a loopback client, while the
                    // first copy is still queued: the filter's re-injection.
                    Some((ps, pid, parr)) if loopback && ps != serial && time.0 - parr.0 <= DAY => {
                        self.link_child((host, qid), ps, pid, parr);
                    }
                    Some(_) => {}
                    None => {
                        self.by_message_id
                            .insert((host, mid), (serial, identity, arrival));
                    }
                }
            }
            EventKind::Delivery {
                qid,
                to,
                relay,
                status,
                reason,
                ..
            } => self.delivery(host, time, qid, g(to), g(relay), status, g(reason)),
            EventKind::Expired { qid, .. } => {
                let m = self.message((host, qid), time);
                // The recipients still deferred are returned to the sender.
                for r in m.track.iter_mut().flatten() {
                    if r.fate == Fate::Deferred {
                        r.fate = Fate::Expired;
                        r.time = time;
                    }
                }
                let (serial, id) = (m.serial, m.identity);
                let root = self.roots.entry(serial).or_default();
                if !root.expired {
                    root.expired = true;
                    self.findings.counts.expired += 1;
                    if id != 0 {
                        self.sender_stats(id).expired += 1;
                    }
                }
            }
            EventKind::Notification { qid, child } => {
                self.findings.counts.notifications += 1;
                let id = self.identity(IdentityKind::Local, b"MAILER-DAEMON");
                let parent = self.live.get(&(host, qid)).map_or(0, |m| m.serial);
                self.pending_notice.insert((host, child), (id, parent));
                if let Some(m) = self.live.get_mut(&(host, child)) {
                    if m.identity == 0 {
                        m.identity = id;
                    }
                    m.bounce_of = parent;
                }
            }
            EventKind::Held { qid } => {
                let m = self.message((host, qid), time);
                let serial = m.serial;
                let root = self.roots.entry(serial).or_default();
                if !root.held {
                    root.held = true;
                    self.findings.counts.held += 1;
                }
            }
            EventKind::Released { .. } => {}
            EventKind::Removed { qid } | EventKind::Deleted { qid } => {
                if let Some(mut m) = self.live.remove(&(host, qid)) {
                    self.close_track(host, qid, &mut m, Some(time));
                    self.forget(host, &m);
                }
            }
            EventKind::Reject {
                qid,
                stage,
                action,
                reason,
                ..
            } => {
                if action != RejectAction::Reject {
                    return;
                }
                self.findings.counts.rejected += 1;
                let v = self.verdict(g(reason));
                let mut identity = 0;
                if let Some(qid) = qid {
                    if let Some(m) = self.live.get(&(host, qid)) {
                        identity = m.identity;
                    }
                    if identity != 0 {
                        self.sender_stats(identity).rejected += 1;
                    }
                    if stage == RejectStage::Cleanup {
                        // cleanup discards the message: no `removed` follows.
                        if let Some(m) = self.live.remove(&(host, qid)) {
                            self.release_root(m.serial);
                        }
                    }
                }
                self.findings.inbound.push(InboundReject {
                    time,
                    cause: v.cause,
                    normalised: v.normalised,
                    identity,
                });
            }
            EventKind::SaslFailure { client, username } => {
                let user = self.findings.strings.intern(g(username));
                let ip = self.findings.strings.intern(client_ip(g(client)));
                self.findings.login_failures.push(LoginFailure {
                    time,
                    username: user,
                    client_ip: ip,
                });
            }
            // Understood and counted per program by the parser; no report
            // section reads them yet, so no work is spent on them here.
            EventKind::Warning { .. } | EventKind::Fatal { .. } | EventKind::Panic { .. } => {}
            EventKind::Repeated { times } => {
                // syslog folded identical deferrals into one line.
                if let Some(mut o) = self.last_kind_deferral {
                    let n = u64::from(times.min(10_000)).min(self.repeats_left);
                    self.repeats_left -= n;
                    self.findings.repeats_dropped += u64::from(times) - n;
                    for _ in 0..n {
                        o.time = time;
                        self.findings.outcomes.push(o);
                        if o.status == OutcomeStatus::Deferred {
                            self.findings.counts.deferral_events += 1;
                        }
                    }
                }
            }
            EventKind::Info | EventKind::NotUnderstood | EventKind::Mark => {}
        }
        if !matches!(
            kind,
            EventKind::Delivery { .. } | EventKind::Repeated { .. } | EventKind::Mark
        ) {
            self.last_kind_deferral = None;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn delivery(
        &mut self,
        host: Sym,
        time: LogTime,
        qid: QueueId,
        to: &[u8],
        relay: &[u8],
        status: DeliveryStatus,
        reason: &[u8],
    ) {
        self.last_kind_deferral = None;
        let key = (host, qid);
        // Content-filter hand-off: the re-queued copy is the same message.
        if status == DeliveryStatus::Sent && is_loopback_relay(relay) {
            if let Some(child) = queued_as(reason) {
                self.findings.counts.handoffs += 1;
                let m = self.message(key, time);
                let (serial, identity, arrival) = (m.serial, m.identity, m.arrival);
                self.track(key, to, relay, Fate::Sent, time, None);
                let ckey = (host, child);
                match self.live.get(&ckey) {
                    Some(c) if c.serial != serial => {
                        self.link_child(ckey, serial, identity, arrival)
                    }
                    Some(_) => {}
                    None => {
                        self.pending_parent.insert(ckey, (serial, identity, time));
                        // Bound: hand-offs whose child never shows up, or
                        // whose child was finished before this line.
                        if self.pending_parent.len() > 100_000 {
                            let cutoff = time.0 - DAY;
                            self.pending_parent.retain(|_, v| v.2 .0 >= cutoff);
                        }
                    }
                }
                return;
            }
        }
        let m = self.message(key, time);
        let (serial, mut identity, arrival) = (m.serial, m.identity, m.arrival);
        let to_sym_needed = matches!(
            status,
            DeliveryStatus::Sent | DeliveryStatus::Deferred | DeliveryStatus::Bounced
        );
        if !to_sym_needed {
            return;
        }
        if identity == 0 {
            identity = self.identity(IdentityKind::Sender, b"unknown");
            if let Some(m) = self.live.get_mut(&key) {
                m.identity = identity;
            }
        }
        let domain = self.findings.strings.intern(domain_of(to));
        let rcpt = {
            let mut h = rustc_hash::FxHasher::default();
            to.hash(&mut h);
            h.finish()
        };
        let external = is_external_relay(relay);
        // Count each recipient once per message, for the sender table and
        // the outbound volume behind a listing.
        let m = self.live.get_mut(&key).expect("present");
        let first_time_rcpt = !m.recipients.contains(&rcpt);
        if first_time_rcpt {
            if m.recipients.len() < 10_000 {
                m.recipients.push(rcpt);
            }
            self.sender_stats(identity).recipients += 1;
            if external {
                self.findings.outbound.push(OutboundRecipient {
                    time: arrival,
                    identity,
                    message: serial,
                    domain,
                });
            }
        }
        self.touch(identity, time);
        match status {
            DeliveryStatus::Sent => {
                self.findings.counts.delivered += 1;
                self.sender_stats(identity).delivered += 1;
                self.track(key, to, relay, Fate::Sent, time, None);
            }
            DeliveryStatus::Deferred | DeliveryStatus::Bounced => {
                let v = self.verdict(reason);
                let norm = v.normalised;
                let text = match self.examples.get(&norm) {
                    Some(&t) => t,
                    None => {
                        let t = self.findings.strings.intern(reason);
                        self.examples.insert(norm, t);
                        t
                    }
                };
                let outcome = Outcome {
                    time,
                    status: if status == DeliveryStatus::Deferred {
                        OutcomeStatus::Deferred
                    } else {
                        OutcomeStatus::Bounced
                    },
                    cause: v.cause,
                    connect_failure: v.connect_failure,
                    port: v.port,
                    message: serial,
                    identity,
                    recipient_domain: domain,
                    remote_host: v.remote_host,
                    list: v.list,
                    listed_ip: v.listed_ip,
                    text,
                    normalised: norm,
                };
                self.findings.outcomes.push(outcome);
                let index = (self.findings.outcomes.len() - 1) as u32;
                self.track(key, to, relay, outcome.status.into(), time, Some(index));
                if status == DeliveryStatus::Deferred {
                    self.last_kind_deferral = Some(outcome);
                    self.findings.counts.deferral_events += 1;
                    self.sender_stats(identity).deferred += 1;
                    let root = self.roots.entry(serial).or_default();
                    if !root.deferred {
                        root.deferred = true;
                        self.findings.counts.deferred_messages += 1;
                    }
                    let m = self.live.get_mut(&key).expect("present");
                    if m.first_cause.is_none() {
                        m.first_cause = Some(v.cause);
                        m.first_deferral = Some(time);
                    }
                } else {
                    self.findings.counts.bounced += 1;
                    self.sender_stats(identity).bounced += 1;
                }
            }
            _ => {}
        }
    }

    /// Ends the run: what is still live is what the queue should hold.
    pub fn finish(mut self) -> Findings {
        let mut ids = HashMap::with_capacity(self.live.len());
        let live: Vec<((Sym, QueueId), Message)> = self.live.drain().collect();
        for ((host, qid), mut m) in live {
            self.close_track(host, qid, &mut m, None);
            ids.insert(
                qid.to_string(),
                QueueIdInfo {
                    identity: m.identity,
                    first_cause: m.first_cause,
                    first_deferral: m.first_deferral,
                },
            );
        }
        self.findings.live_ids = ids;
        self.findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_chunk;

    fn run(log: &str) -> Findings {
        let classifier = Classifier::builtin();
        let mut c = Correlator::new(
            &classifier,
            YearPolicy {
                forced: Some(2026),
                anchor: None,
            },
        );
        let p = parse_chunk(log.as_bytes());
        c.consume(0, 1, log.as_bytes(), &p.events);
        c.finish()
    }

    const FILTERED: &str = "\
Nov 28 18:30:12 mail postfix/pickup[18039]: D375AD054A: uid=33 from=<www-data>
Nov 28 18:30:12 mail postfix/cleanup[18068]: D375AD054A: message-id=<20261128183012.D375AD054A@mail.lab.test>
Nov 28 18:30:12 mail postfix/qmgr[18040]: D375AD054A: from=<www-data@lab.test>, size=360, nrcpt=1 (queue active)
Nov 28 18:30:12 mail postfix/smtpd[18071]: connect from localhost[127.0.0.1]
Nov 28 18:30:12 mail postfix/smtpd[18071]: DDEDDD0543: client=localhost[127.0.0.1]
Nov 28 18:30:12 mail postfix/cleanup[18068]: DDEDDD0543: message-id=<20261128183012.D375AD054A@mail.lab.test>
Nov 28 18:30:12 mail postfix/qmgr[18040]: DDEDDD0543: from=<www-data@lab.test>, size=603, nrcpt=1 (queue active)
Nov 28 18:30:12 mail postfix/smtp[18070]: D375AD054A: to=<quinn.kim@gmail-like.test>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.06, delays=0.02/0.01/0/0.02, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as DDEDDD0543)
Nov 28 18:30:12 mail postfix/qmgr[18040]: D375AD054A: removed
Nov 28 18:30:12 mail postfix/smtp[18072]: DDEDDD0543: to=<quinn.kim@gmail-like.test>, relay=gmail-smtp-in.l.gmail-like.test[127.0.0.20]:25, delay=0.06, delays=0/0.01/0/0.05, dsn=2.0.0, status=sent (250 2.0.0 OK  1795890612 29388esi4904455qkb.383 - gsmtp)
Nov 28 18:30:12 mail postfix/qmgr[18040]: DDEDDD0543: removed
";

    #[test]
    fn content_filter_copy_is_counted_once() {
        let f = run(FILTERED);
        assert_eq!(f.counts.received, 1);
        assert_eq!(f.counts.delivered, 1);
        assert_eq!(f.counts.handoffs, 1);
        let uid = f.strings.map[&b"uid:33"[..]];
        assert_eq!(f.senders[&uid].messages, 1);
        assert_eq!(f.senders[&uid].delivered, 1);
        assert_eq!(f.outbound.len(), 1);
        assert_eq!(f.outbound[0].identity, uid);
        assert!(f.live_ids.is_empty());
    }

    #[test]
    fn reused_queue_id_days_apart_is_two_messages() {
        let log = "\
Jan  1 10:00:00 mx postfix/smtpd[1]: ABCDE12345: client=a.example[192.0.2.1], sasl_method=PLAIN, sasl_username=alice@example.com
Jan  1 10:00:01 mx postfix/qmgr[2]: ABCDE12345: from=<alice@example.com>, size=100, nrcpt=1 (queue active)
Jan  1 10:00:02 mx postfix/smtp[3]: ABCDE12345: to=<x@remote.test>, relay=mx.remote.test[198.51.100.1]:25, delay=1, delays=0/0/0/1, dsn=4.7.1, status=deferred (host mx.remote.test[198.51.100.1] said: 450 4.7.1 try later)
Jan  1 10:30:02 mx postfix/smtp[3]: ABCDE12345: to=<x@remote.test>, relay=mx.remote.test[198.51.100.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
Jan  1 10:30:03 mx postfix/qmgr[2]: ABCDE12345: removed
Jan  4 09:00:00 mx postfix/pickup[4]: ABCDE12345: uid=10005 from=<shop>
Jan  4 09:00:01 mx postfix/qmgr[2]: ABCDE12345: from=<shop@example.com>, size=100, nrcpt=1 (queue active)
Jan  4 09:00:02 mx postfix/smtp[3]: ABCDE12345: to=<y@remote.test>, relay=mx.remote.test[198.51.100.1]:25, delay=1, delays=0/0/0/1, dsn=4.7.1, status=deferred (host mx.remote.test[198.51.100.1] said: 450 4.7.1 try later)
";
        let f = run(log);
        assert_eq!(f.counts.received, 2);
        assert_eq!(f.counts.deferral_events, 2);
        assert_eq!(f.counts.deferred_messages, 2);
        assert_eq!(f.counts.delivered, 1);
        let alice = f.strings.map[&b"sasl:alice@example.com"[..]];
        let shop = f.strings.map[&b"uid:10005"[..]];
        assert_eq!(f.senders[&alice].deferred, 1);
        assert_eq!(f.senders[&shop].deferred, 1);
        assert_eq!(f.live_ids.len(), 1);
        assert_eq!(f.live_ids["ABCDE12345"].identity, shop);
    }

    #[test]
    fn cache_key_drops_addresses_and_ids_but_keeps_codes() {
        let (mut a, mut b, mut ips) = (Vec::new(), Vec::new(), Vec::new());
        let mut key = |text: &[u8], out: &mut Vec<u8>| shape_key(text, out, &mut ips, true);
        key(
            b"host mx.example.com[192.0.2.1] said: 550 5.1.1 <anna@example.com>: User unknown",
            &mut a,
        );
        key(
            b"host mx.example.com[192.0.2.1] said: 550 5.1.1 <bob@example.com>: User unknown",
            &mut b,
        );
        assert_eq!(a, b);
        key(
            b"host mx.example.com[192.0.2.1] said: 450 4.1.1 <anna@example.com>: User unknown",
            &mut b,
        );
        assert_ne!(a, b);
        // The filter's port and a remote MX's port never share a key.
        key(
            b"connect to 127.0.0.1[127.0.0.1]:10024: Connection refused",
            &mut a,
        );
        key(
            b"connect to mx.example.com[192.0.2.31]:25: Connection refused",
            &mut b,
        );
        assert_ne!(a, b);
        // Gmail's per-message ids do not split a key.
        key(
            b"review our Bulk Email Senders Guidelines. 31539dsi9032594qkb.632 - gsmtp",
            &mut a,
        );
        key(
            b"review our Bulk Email Senders Guidelines. a1c064si6795317qkb.681 - gsmtp",
            &mut b,
        );
        assert_eq!(a, b);
        // Nor do Microsoft's server names, timestamps and ids.
        key(b"block list (S3140). [AM4PEPF00027A6C.eurprd04.prod.outlook.com 2025-12-29T10:43:36.113Z 58818353971E7A77] (in reply to MAIL FROM command)", &mut a);
        key(b"block list (S3140). [DB5PEPF00014B8F.eurprd02.prod.outlook.com 2025-12-30T09:21:17.121Z 02E0C319518F2AAB] (in reply to MAIL FROM command)", &mut b);
        assert_eq!(a, b);
    }

    /// Word by word, every byte read: what [`shape_key`] must equal.
    fn shape_key_plain(text: &[u8], out: &mut Vec<u8>, ips: &mut Vec<(u32, u32)>, mask_ips: bool) {
        out.clear();
        ips.clear();
        let mut start = 0;
        for (n, word) in text.split(|&c| c == b' ').enumerate() {
            if n > 0 {
                out.push(b' ');
            }
            let (mut digits, mut dots, mut flags) = (0usize, 0usize, 0u8);
            for (i, &c) in word.iter().enumerate() {
                digits += usize::from(c.is_ascii_digit());
                dots += usize::from(c == b'.');
                flags |= if c == b'@' { AT } else { 0 };
                flags |= if c.is_ascii_alphabetic() { LETTER } else { 0 };
                flags |= if c == b'[' && i > 0 { BRACKET } else { 0 };
                flags |= if c == b'/' { SLASH } else { 0 };
            }
            shape_word(
                text,
                start,
                start + word.len(),
                (digits, dots, flags),
                out,
                ips,
                mask_ips,
            );
            start += word.len() + 1;
        }
    }

    proptest::proptest! {
        #[test]
        fn shape_key_equals_the_word_by_word_reading(
            text in proptest::collection::vec(proptest::sample::select(b"ab Z01239.@[]/:=<>-\xc3".to_vec()), 0..120),
            mask in proptest::bool::ANY,
        ) {
            let (mut fast, mut fast_ips, mut plain, mut plain_ips) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            shape_key(&text, &mut fast, &mut fast_ips, mask);
            shape_key_plain(&text, &mut plain, &mut plain_ips, mask);
            proptest::prop_assert_eq!(fast, plain);
            proptest::prop_assert_eq!(fast_ips, plain_ips);
        }
    }

    #[test]
    fn decimal_writes_every_u32() {
        for n in [0, 7, 10, 33, 10005, 4_294_967_295] {
            assert_eq!(decimal(n, &mut [0; 10]), n.to_string().as_bytes());
        }
    }

    #[test]
    fn next_digit_finds_every_first_digit() {
        let texts: [&[u8]; 6] = [
            b"",
            b"no digits here at all, none",
            b"7",
            b"abcdefgh9",
            b"\xc3\xa9t\xc3\xa9 \xff\x80/:;@ 450 4.7.1",
            b"host mx.example.com[192.0.2.1] said: 550",
        ];
        for t in texts {
            for from in 0..=t.len() {
                let want = t[from..]
                    .iter()
                    .position(u8::is_ascii_digit)
                    .map(|p| from + p);
                assert_eq!(next_digit(t, from), want, "{t:?} from {from}");
            }
        }
    }

    #[test]
    fn cache_key_numbers_ips_and_keeps_loopback() {
        let (mut key, mut ips) = (Vec::new(), Vec::new());
        let text: &[u8] = b"host mx.example.com[192.0.2.1]:25 said: 554 Client host [203.0.113.9] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/203.0.113.9 via 127.0.0.1 v1.2.3.4.5";
        shape_key(text, &mut key, &mut ips, true);
        assert_eq!(
            String::from_utf8_lossy(&key),
            "host mx.example.com[0.0.0.1]:25 said: 554 Client host [0.0.0.2] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/0.0.0.3 via 127.0.0.1 #"
        );
        let got: Vec<&[u8]> = ips
            .iter()
            .map(|&(a, b)| &text[a as usize..b as usize])
            .collect();
        assert_eq!(got, [&b"192.0.2.1"[..], b"203.0.113.9", b"203.0.113.9"]);
        // Rules from a user's file may name addresses: nothing is masked.
        shape_key(text, &mut key, &mut ips, false);
        assert!(key.windows(9).any(|w| w == b"192.0.2.1"));
        assert!(ips.is_empty());
    }

    #[test]
    fn cached_verdicts_belong_to_their_rule_table() {
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("rules.toml");
        std::fs::write(
            &rules,
            "[[rule]]\ncause = \"blacklisted\"\npattern = \"(?i)try again later\"\n",
        )
        .unwrap();
        let user = Classifier::from_rules_file(&rules).unwrap();
        let builtin = Classifier::builtin();
        // No address in it: both tables build the same key.
        let text: &[u8] = b"450 4.7.1 please try again later";
        let before = cached_verdict(text, &builtin).verdict.verdict.cause;
        assert_eq!(
            cached_verdict(text, &user).verdict.verdict.cause,
            Cause::Blacklisted
        );
        // Same thread, same text: the built-in table's own verdict again.
        assert_eq!(cached_verdict(text, &builtin).verdict.verdict.cause, before);
        assert_ne!(before, Cause::Blacklisted);
    }

    #[test]
    fn cached_verdicts_keep_each_texts_own_addresses() {
        let classifier = Classifier::builtin();
        let a: &[u8] = b"554 5.7.1 Service unavailable; Client host [185.20.235.239] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/185.20.235.239";
        let b: &[u8] = b"554 5.7.1 Service unavailable; Client host [94.73.139.6] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/94.73.139.6";
        let (va, vb) = (
            cached_verdict(a, &classifier),
            cached_verdict(b, &classifier),
        );
        // One shape, one shared verdict...
        assert!(Arc::ptr_eq(&va.verdict, &vb.verdict));
        // ...and each text's own listed IP, as classifying it alone gives.
        for (text, c) in [(a, &va), (b, &vb)] {
            let direct = classifier.classify(std::str::from_utf8(text).unwrap());
            assert_eq!(c.verdict_for(text), direct);
        }
        assert_eq!(
            va.verdict_for(a).detail.listed_ip.as_deref(),
            Some("185.20.235.239")
        );
        let host: &[u8] = b"connect to 198.51.100.7[198.51.100.7]:25: Connection timed out";
        let direct = classifier.classify(std::str::from_utf8(host).unwrap());
        assert_eq!(cached_verdict(host, &classifier).verdict_for(host), direct);
        assert_eq!(direct.detail.remote_host.as_deref(), Some("198.51.100.7"));
    }

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
