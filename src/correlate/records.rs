//! The compact records the correlator leaves for the analysis.

use std::collections::HashMap;

use super::{Interner, Sym};
use crate::classify::{Cause, ConnectFailure, LocalKind, Standing};
use crate::parse::{QueueId, Severity};
use crate::time::LogTime;

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

/// One deferral, bounce or expiry of one recipient, classified. A busy
/// server keeps millions: what the reply said beyond its cause is shared
/// through [`Reply`], so each is 32 bytes.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub time: LogTime,
    /// The message (its first queue id's serial), for distinct counts.
    pub message: u32,
    pub identity: Sym,
    pub recipient_domain: Sym,
    /// What the reply said: an index into [`Findings::replies`].
    pub reply: u32,
    pub port: u16,
    pub status: OutcomeStatus,
    pub cause: Cause,
    /// What the reply says about our standing: only `Reputation` is
    /// evidence of spam sent.
    pub standing: Standing,
    pub connect_failure: Option<ConnectFailure>,
}

const _: () = assert!(std::mem::size_of::<Outcome>() == 32);

/// What a reply said beyond its cause, shared by every outcome that got
/// the same: distinct replies are few next to the outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Reply {
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
    /// The address's [`address_key`], cut to 32 bits: enough to tell a
    /// correspondent mailed before from a new one, without storing it.
    pub address: u32,
}

/// A recipient address's key: its hash, so recipients are compared
/// without being stored.
pub fn address_key(address: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    address.hash(&mut h);
    h.finish()
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
    /// The SMTP client that submitted it (0: local or unknown).
    pub client_ip: Sym,
    pub arrival: LogTime,
    /// When it was removed; `None` while still queued at the end.
    pub removed: Option<LogTime>,
    /// For a bounce notice: the message it reports on (0: none).
    pub bounce_of: u32,
    pub recipients: Vec<RecipientRecord>,
}

/// One recipient accepted by another server (our deliveries out), for
/// telling when a receiver took our mail again after refusing it.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    pub time: LogTime,
    pub domain: Sym,
}

/// Per-identity counters for the sender table.
#[derive(Debug, Clone, Default)]
pub struct SenderStats {
    pub kind: Option<IdentityKind>,
    pub messages: u64,
    pub recipients: u64,
    pub delivered: u64,
    /// Recipients the content filter (or a discard action) dropped.
    pub discarded: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub expired: u64,
    pub rejected: u64,
    pub first: Option<LogTime>,
    pub last: Option<LogTime>,
    /// Bounce and delay notices Postfix wrote back for its mail.
    pub bounce_notices: u64,
    /// The envelope senders it used, most used first after sorting, with
    /// counts (at most [`ENVELOPE_SENDERS`]).
    pub envelope_senders: Vec<(Sym, u64)>,
    /// `size=` of the messages it submitted, summed.
    pub bytes: u64,
}

/// Envelope senders kept per identity.
pub const ENVELOPE_SENDERS: usize = 8;

impl SenderStats {
    /// Counts one message sent as `sender`.
    pub fn note_envelope_sender(&mut self, sender: Sym) {
        if let Some((_, n)) = self.envelope_senders.iter_mut().find(|(s, _)| *s == sender) {
            *n += 1;
        } else if self.envelope_senders.len() < ENVELOPE_SENDERS {
            self.envelope_senders.push((sender, 1));
        }
    }
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
    /// `status=SOFTBOUNCE` lines (also counted as deferral events).
    pub soft_bounces: u64,
    /// Recipients dropped by the content filter, a `discard` transport or
    /// a DISCARD action, and not kept in quarantine.
    pub discarded: u64,
    /// Recipients the content filter blocked and kept in quarantine.
    pub quarantined: u64,
    /// Queued messages removed with `postsuper -d`.
    pub deleted: u64,
    /// `size=` of the messages received, and of each delivered
    /// recipient's message.
    pub bytes_received: u64,
    pub bytes_delivered: u64,
}

/// An inbound verdict of our own server (NOQUEUE and cleanup rejects).
#[derive(Debug, Clone, Copy)]
pub struct InboundReject {
    pub time: LogTime,
    pub cause: Cause,
    pub normalised: Sym,
    pub identity: Sym,
}

/// How a message left the queue without being delivered or bounced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalKind {
    /// `status=expired, returned to sender` (maximal_queue_lifetime).
    Expired,
    /// `postsuper -d`: deleted by hand while queued.
    Deleted,
}

/// A queued message that expired or was deleted. Its cause is its last
/// deferral's, read after the port 25 judgement.
#[derive(Debug, Clone, Copy)]
pub struct Removal {
    pub time: LogTime,
    pub kind: RemovalKind,
    pub message: u32,
    pub identity: Sym,
    /// The message's last deferral, an index into `Findings::outcomes`.
    pub last_deferral: Option<u32>,
}

/// Where a local failure was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LocalSource {
    /// A daemon's own `warning:`, `error:`, `fatal:`, `panic:` line.
    Said(Severity),
    /// A deferral or bounce that points to the server itself.
    Deferral,
    Bounce,
}

impl LocalSource {
    pub fn id(self) -> &'static str {
        match self {
            LocalSource::Said(s) => s.id(),
            LocalSource::Deferral => "deferral",
            LocalSource::Bounce => "bounce",
        }
    }
}

/// One line in which the server shows itself failing: a diagnostic a
/// local rule knows, or a deferral or bounce of a local cause.
#[derive(Debug, Clone, Copy)]
pub struct LocalEvent {
    pub time: LogTime,
    pub kind: LocalKind,
    pub source: LocalSource,
    /// The syslog program (`postfix/smtp`, `dovecot`).
    pub program: Sym,
    /// The first exact text of its normalised group.
    pub text: Sym,
    pub normalised: Sym,
    /// Messages open (arrived, not yet removed) when it was written.
    pub queued: u32,
}

/// Plesk's Outgoing Mail Control refused a message of this sender.
#[derive(Debug, Clone, Copy)]
pub struct OutgoingLimit {
    pub time: LogTime,
    /// Who submitted the message (`sasl:`, `uid:`, ...; 0 when unknown).
    pub identity: Sym,
    /// The envelope sender (`from=`).
    pub sender: Sym,
}

/// How the lines' clocks were written: with a UTC offset or without.
#[derive(Debug, Clone, Default)]
pub struct Clocks {
    /// Stamped lines without an offset (traditional syslog, or ISO without
    /// a zone): the server's wall clock, zone unknown.
    pub local: u64,
    /// Lines with an offset, per offset in seconds.
    pub offsets: Vec<(i32, u64)>,
    /// Lines with an offset moved to `--timezone`'s wall clock.
    pub converted: u64,
}

/// What the correlator knows about a queued message, for joining a queue
/// dump to the logs.
#[derive(Debug, Clone, Copy)]
pub struct QueueIdInfo {
    /// The host whose logs hold it (queue ids repeat across servers).
    pub host: Sym,
    pub identity: Sym,
    /// The SMTP client that submitted it (0: local or unknown).
    pub client_ip: Sym,
    pub arrival: LogTime,
    pub first_cause: Option<Cause>,
    pub first_deferral: Option<LogTime>,
}

/// Everything the analysis needs, as compact records.
#[derive(Debug, Default)]
pub struct Findings {
    pub strings: Interner,
    pub counts: Counts,
    pub outcomes: Vec<Outcome>,
    /// The replies outcomes point to ([`Outcome::reply`]).
    pub replies: Vec<Reply>,
    pub outbound: Vec<OutboundRecipient>,
    /// Recipients accepted by other servers, in log order (in time order
    /// once the analysis has begun: `analyze::sort_for_analysis`).
    pub deliveries: Vec<Delivery>,
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
    pub live_ids: HashMap<String, Vec<QueueIdInfo>>,
    /// Year given to year-less stamps (first series), and how.
    pub year: Option<(i32, String)>,
    /// Year-less stamps that fell after the anchor (inferred year too late).
    pub future_stamps: u64,
    /// `last message repeated N times` beyond what is counted (a cap keeps
    /// a hostile N from exhausting memory).
    pub repeats_dropped: u64,
    /// Messages still open (no `removed` seen) dropped from tracking
    /// because too many were open at once.
    pub evicted: u64,
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
    /// Expired and deleted messages, with their last deferral.
    pub removals: Vec<Removal>,
    /// What the server says about itself, failing, in time order.
    pub local: Vec<LocalEvent>,
    /// Local events beyond what is kept (a log of endless crash loops).
    pub local_dropped: u64,
    /// Every `warning:`/`error:`/`fatal:`/`panic:` text, grouped: the
    /// evidence table, local failures or not.
    pub diagnostics: Vec<DiagnosticGroup>,
    /// Times of delivery attempts that reached an SMTP server on port 25
    /// (a reply, a greeting): port 25 was open then. A time is kept once
    /// when it repeats in a row.
    pub port25_contacts: Vec<LogTime>,
    /// Plesk Outgoing Mail Control refusals, per message.
    pub outgoing_limits: Vec<OutgoingLimit>,
    /// `psa-pc-remote: REJECT during call 'limit-out' handler` lines.
    pub limit_out_handler: u64,
    pub clocks: Clocks,
    /// pflogsumm's aggregates (per hour, per domain, ...).
    pub traffic: super::traffic::Traffic,
    /// The first and last time of every line read, `--since`/`--until`
    /// aside.
    pub logs_span: Option<(LogTime, LogTime)>,
}

impl Findings {
    /// What `o`'s reply said.
    pub fn reply(&self, o: &Outcome) -> &Reply {
        &self.replies[o.reply as usize]
    }
}

/// One normalised diagnostic text of one program, counted.
#[derive(Debug, Clone, Copy)]
pub struct DiagnosticGroup {
    pub severity: Severity,
    pub program: Sym,
    pub normalised: Sym,
    /// The first exact text.
    pub text: Sym,
    pub kind: Option<LocalKind>,
    pub count: u64,
    pub first: LogTime,
    pub last: LogTime,
}
