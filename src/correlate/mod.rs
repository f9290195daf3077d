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

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::classify::{Cause, Classifier, ConnectFailure, Verdict};
use crate::parse::{
    DeliveryStatus, EventKind, LineEvent, QueueId, RejectAction, RejectStage, Span,
};
use crate::time::{LogTime, DAY};

mod events;
mod interner;
mod lifecycle;
mod local;
#[cfg(test)]
mod outcome_tests;
mod records;
mod relay;
mod sink;
pub mod traffic;
mod years;

pub use crate::classify::cache::{cached_verdict, preclassify, Classified, PreVerdict};
pub use interner::{Interner, Sym, OVERFLOW, STRINGS_MAX, STRING_MAX};
pub use local::LOCAL_MAX;
pub use records::*;
pub use relay::{client_ip, is_loopback_relay};
pub use sink::{Attempt, AttemptStatus, EventSink, MessageSummary};
pub use years::YearPolicy;
use years::{SeriesYear, ZoneClock};

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
    /// Its last deferral, an index into `Findings::outcomes`.
    last_deferral: Option<u32>,
    /// The content filter kept it in quarantine (amavis said so).
    quarantined: bool,
    /// `size=` (0 until qmgr names it) and the envelope sender's domain.
    size: u64,
    sender_domain: Sym,
}

/// State shared by all copies of one message.
#[derive(Debug, Clone, Default)]
struct Root {
    /// The client that submitted it over SMTP (not a filter's loopback).
    client_ip: Sym,
    deferred: bool,
    held: bool,
    expired: bool,
    deleted: bool,
    refs: u32,
    /// The message as the event tables show it (`--parquet`).
    acc: Option<Box<MessageSummary>>,
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
    /// Each distinct reply's index in `findings.replies`.
    reply_ids: FxHashMap<Reply, u32>,
    /// Outcomes that `last message repeated N times` may still add: a
    /// hostile log of such lines must not grow memory without end.
    repeats_left: u64,
    window: (Option<LogTime>, Option<LogTime>),
    /// The last host seen and its symbol: most lines share one host.
    last_host: (Vec<u8>, Sym),
    /// Events since the last sweep of stale messages.
    since_sweep: u32,
    /// Open messages tracked at once ([`LIVE_MAX`]).
    live_limit: usize,
    /// Diagnostic groups by (text shape, program, severity): an index into
    /// `findings.diagnostics`.
    diag_groups: FxHashMap<(u64, Sym, crate::parse::Severity), usize>,
    /// `--timezone`: lines with an offset are moved to its wall clock.
    zone: Option<ZoneClock>,
    /// The last failed login of an account not yet paired with the other
    /// daemon's line of the same attempt: (time, index, from plesk).
    sasl_unpaired: FxHashMap<Sym, (LogTime, usize, bool)>,
    /// Where delivery attempts and messages go (`--parquet`).
    sink: Option<&'c mut dyn EventSink>,
    pub findings: Findings,
}

/// A verdict with its texts interned: what an [`Outcome`] records.
#[derive(Debug, Clone, Copy)]
struct VerdictSyms {
    cause: Cause,
    standing: crate::classify::Standing,
    connect_failure: Option<ConnectFailure>,
    local: Option<crate::classify::LocalKind>,
    port: u16,
    normalised: Sym,
    remote_host: Sym,
    list: Sym,
    listed_ip: Sym,
}

/// Messages open at once (arrived, not yet removed) that are tracked.
pub const LIVE_MAX: usize = 400_000;
/// Distinct replies looked up to be shared (see [`Correlator::reply_id`]).
const REPLIES_MAX: usize = 1_000_000;
/// Hand-offs and notices announced before their new queue file's first line.
const PENDING_MAX: usize = 100_000;

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
            reply_ids: FxHashMap::default(),
            repeats_left: 1_000_000,
            window: (None, None),
            last_host: (Vec::new(), 0),
            since_sweep: 0,
            live_limit: LIVE_MAX,
            diag_groups: FxHashMap::default(),
            zone: None,
            sasl_unpaired: FxHashMap::default(),
            sink: None,
            findings: Findings {
                strings: Interner::new(),
                ..Findings::default()
            },
        }
    }

    /// A verdict as the records need it: copyable, strings interned.
    fn syms_of(&mut self, verdict: &Verdict, normalised: &str) -> VerdictSyms {
        let strings = &mut self.findings.strings;
        let d = &verdict.detail;
        VerdictSyms {
            cause: verdict.cause,
            standing: verdict.standing,
            connect_failure: verdict.connect_failure,
            local: verdict.local,
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
                if self.pre_syms.len() > 10_000 {
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

    /// The server's zone: a line written with a UTC offset is put on the
    /// wall clock of the lines written without one.
    pub fn set_zone(&mut self, zone: Option<jiff::tz::TimeZone>) {
        self.zone = zone.map(ZoneClock::new);
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
            if ev.kind != EventKind::Mark {
                self.count_clock(ev.stamp);
            }
            let all = self.findings.logs_span.get_or_insert((time, time));
            all.0 = all.0.min(time);
            all.1 = all.1.max(time);
            if self.window.0.is_some_and(|s| time < s) || self.window.1.is_some_and(|u| time >= u) {
                continue;
            }
            self.findings.traffic.line_at(time);
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
            if self.live.len() > self.live_limit {
                self.evict_oldest();
            }
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
    /// Tracks at most `n` open messages at once (tests use a small one).
    pub fn set_live_limit(&mut self, n: usize) {
        self.live_limit = n.max(10);
    }

    /// Drops the oldest tenth of the open messages: with more than
    /// [`LIVE_MAX`] open at once (ids never removed, hostile or cut logs)
    /// memory would otherwise grow with the input. Their later lines, if
    /// any, start new messages.
    fn evict_oldest(&mut self) {
        let n = self.live.len() / 10;
        let mut by_age: Vec<(LogTime, (Sym, QueueId))> =
            self.live.iter().map(|(k, m)| (m.arrival, *k)).collect();
        by_age.select_nth_unstable(n);
        for (_, k) in &by_age[..n] {
            if let Some(mut m) = self.live.remove(k) {
                self.close_track(k.0, k.1, &mut m, None);
                self.forget(k.0, &m);
            }
        }
        self.findings.evicted += n as u64;
    }

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

    /// Ends the run: what is still live is what the queue should hold.
    /// The index of `reply` in `findings.replies`, added if new. Past
    /// [`REPLIES_MAX`] distinct replies (hostile input) new ones are kept
    /// without being looked up again, so the map stays bounded.
    fn reply_id(&mut self, reply: Reply) -> u32 {
        if let Some(&id) = self.reply_ids.get(&reply) {
            return id;
        }
        let id = self.findings.replies.len() as u32;
        self.findings.replies.push(reply);
        if self.reply_ids.len() < REPLIES_MAX {
            self.reply_ids.insert(reply, id);
        }
        id
    }

    pub fn finish(mut self) -> Findings {
        let mut ids: HashMap<String, Vec<QueueIdInfo>> = HashMap::with_capacity(self.live.len());
        let live: Vec<((Sym, QueueId), Message)> = self.live.drain().collect();
        for ((host, qid), mut m) in live {
            self.close_track(host, qid, &mut m, None);
            ids.entry(qid.to_string()).or_default().push(QueueIdInfo {
                host,
                identity: m.identity,
                client_ip: self.roots.get(&m.serial).map_or(0, |r| r.client_ip),
                arrival: m.arrival,
                first_cause: m.first_cause,
                first_deferral: m.first_deferral,
            });
        }
        self.findings.live_ids = ids;
        self.flush_messages();
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
        let uid = f.strings.lookup(b"uid:33").unwrap();
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
        let alice = f.strings.lookup(b"sasl:alice@example.com").unwrap();
        let shop = f.strings.lookup(b"uid:10005").unwrap();
        assert_eq!(f.senders[&alice].deferred, 1);
        assert_eq!(f.senders[&shop].deferred, 1);
        assert_eq!(f.live_ids.len(), 1);
        assert_eq!(f.live_ids["ABCDE12345"][0].identity, shop);
    }

    /// Queue ids that are never removed (a hostile or cut log) used to be
    /// kept for a week of log time: 8 M of them took 4.5 GB.
    #[test]
    fn open_messages_are_bounded_by_count() {
        let classifier = Classifier::builtin();
        let mut c = Correlator::new(
            &classifier,
            YearPolicy {
                forced: Some(2026),
                anchor: None,
            },
        );
        c.set_live_limit(100);
        let mut log = String::new();
        for i in 0..1000 {
            log += &format!(
                "Nov 28 10:{:02}:{:02} mx postfix/pickup[1]: {:010X}: uid=33 from=<a@b.c>\n",
                i / 60 % 60,
                i % 60,
                i
            );
        }
        let p = parse_chunk(log.as_bytes());
        c.consume(0, 1, log.as_bytes(), &p.events);
        assert!(c.live.len() <= 100, "{}", c.live.len());
        let f = c.finish();
        assert!(f.evicted >= 900, "{}", f.evicted);
        assert_eq!(f.counts.received, 1000);
    }
}
