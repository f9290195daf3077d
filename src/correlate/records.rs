//! The compact records the correlator leaves for the analysis.

use std::collections::HashMap;

use super::{Interner, Sym};
use crate::classify::{Cause, ConnectFailure, Standing};
use crate::parse::QueueId;
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

/// One deferral, bounce or expiry of one recipient, classified.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub time: LogTime,
    pub status: OutcomeStatus,
    pub cause: Cause,
    /// What the reply says about our standing: only `Reputation` is
    /// evidence of spam sent.
    pub standing: Standing,
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
    /// Recipients accepted by other servers, in log order.
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
    pub live_ids: HashMap<String, QueueIdInfo>,
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
}
