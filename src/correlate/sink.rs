//! The event tables' feed (`--parquet`): every delivery attempt, and every
//! message once its last queue file is gone, handed to an [`EventSink`] as
//! it happens. The sink streams them out; nothing here grows with the
//! input, only with the messages open at once.

use super::*;

/// What became of one recipient in one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptStatus {
    Sent,
    Deferred,
    Bounced,
    /// Accepted by the content filter (or a discard transport) and dropped.
    Discarded,
    /// Blocked by the content filter and kept in its quarantine.
    Quarantined,
    /// Handed to the content filter, which queued it again as a new copy.
    HandedOff,
}

impl AttemptStatus {
    pub fn id(self) -> &'static str {
        match self {
            AttemptStatus::Sent => "sent",
            AttemptStatus::Deferred => "deferred",
            AttemptStatus::Bounced => "bounced",
            AttemptStatus::Discarded => "discarded",
            AttemptStatus::Quarantined => "quarantined",
            AttemptStatus::HandedOff => "handed_off",
        }
    }
}

/// One recipient's delivery attempt, as logged (`to=... status=...`).
/// Interned fields are symbols of the findings' strings.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub time: LogTime,
    pub host: Sym,
    pub queue_id: QueueId,
    /// The message's serial (see [`Findings::merged_serials`]).
    pub message: u32,
    pub identity: Sym,
    pub recipient: &'a [u8],
    pub orig_recipient: &'a [u8],
    pub relay: &'a [u8],
    pub dsn: &'a [u8],
    pub delays: &'a [u8],
    pub status: AttemptStatus,
    /// `status=SOFTBOUNCE` read as a deferral.
    pub soft_bounce: bool,
    pub reply: &'a [u8],
    /// The failure's outcome, an index into [`Findings::outcomes`]: its
    /// cause is final once the analysis judged port 25.
    pub outcome: Option<u32>,
}

/// One message after the content filter: its queue files taken together.
#[derive(Debug, Clone, Default)]
pub struct MessageSummary {
    pub host: Sym,
    pub message: u32,
    pub queue_ids: Vec<QueueId>,
    pub message_id: Vec<u8>,
    pub sender: Vec<u8>,
    pub identity: Sym,
    pub client_ip: Vec<u8>,
    pub size: u64,
    pub nrcpt: u32,
    pub arrival: LogTime,
    /// When its last queue file was removed; `None` while one is queued.
    pub removed: Option<LogTime>,
    /// Counted in `received` (came from outside, not a filter's copy).
    pub received: bool,
    pub bounce_of: u32,
    /// Each recipient's latest fate (hash, status), at most [`RCPT_MAX`].
    pub recipients: Vec<(u64, AttemptStatus)>,
    pub expired: bool,
    pub deleted: bool,
    pub held: bool,
    pub rejected: bool,
    /// Queue files still open.
    open: u32,
    /// A queue file was still open at the end of the logs (or dropped
    /// from tracking): the message was not seen removed.
    unfinished: bool,
}

/// Recipients whose fates a message keeps.
pub const RCPT_MAX: usize = 10_000;

/// Where the correlator hands its rows. Errors are the sink's to keep and
/// report when the run ends.
pub trait EventSink: Send {
    fn attempt(&mut self, a: &Attempt<'_>);
    /// `last message repeated N times` after an attempt: `n` more like it.
    fn repeat_last(&mut self, n: u64, time: LogTime);
    fn message(&mut self, m: &MessageSummary);
    /// The logs are read again from the start: forget every row so far.
    fn restart(&mut self);
}

impl<'c> Correlator<'c> {
    /// Feeds every delivery attempt and message to `sink`; messages still
    /// queued at the end go out in [`Correlator::finish`].
    pub fn set_sink(&mut self, sink: &'c mut dyn EventSink) {
        self.sink = Some(sink);
    }

    pub(super) fn emit_attempt(&mut self, a: Attempt<'_>) {
        let Some(sink) = self.sink.as_mut() else {
            return;
        };
        sink.attempt(&a);
        let rcpt = hash_bytes(a.recipient);
        if let Some(acc) = self
            .roots
            .get_mut(&a.message)
            .and_then(|r| r.acc.as_deref_mut())
        {
            if a.identity != 0 {
                acc.identity = a.identity;
            }
            match acc.recipients.iter().position(|(h, _)| *h == rcpt) {
                // A hand-off never hides what the filter's copy did.
                Some(i) if a.status != AttemptStatus::HandedOff => acc.recipients[i].1 = a.status,
                Some(_) => {}
                None if acc.recipients.len() < RCPT_MAX => acc.recipients.push((rcpt, a.status)),
                None => {}
            }
        }
    }

    pub(super) fn emit_repeat(&mut self, n: u64, time: LogTime) {
        if let Some(sink) = self.sink.as_mut() {
            sink.repeat_last(n, time);
        }
    }

    /// The message summary of a serial, when the tables are written.
    pub(super) fn acc(&mut self, serial: u32) -> Option<&mut MessageSummary> {
        self.sink.as_ref()?;
        self.roots.get_mut(&serial)?.acc.as_deref_mut()
    }

    /// The envelope of message `serial` (qmgr's `from=, size=, nrcpt=`).
    pub(super) fn note_envelope(&mut self, serial: u32, from: &[u8], size: u64, nrcpt: u32) {
        if let Some(acc) = self.acc(serial) {
            if acc.sender.is_empty() {
                acc.sender = keep(from);
            }
            acc.size = acc.size.max(size);
            acc.nrcpt = acc.nrcpt.max(nrcpt);
        }
    }

    /// The Message-ID header of message `serial`, the first seen.
    pub(super) fn note_message_id(&mut self, serial: u32, message_id: &[u8]) {
        if let Some(acc) = self.acc(serial) {
            if acc.message_id.is_empty() {
                acc.message_id = keep(message_id);
            }
        }
    }

    /// A new queue file of message `serial`.
    pub(super) fn open_file(&mut self, host: Sym, qid: QueueId, serial: u32, time: LogTime) {
        if self.sink.is_none() {
            return;
        }
        let root = self.roots.entry(serial).or_default();
        let acc = root.acc.get_or_insert_with(|| {
            Box::new(MessageSummary {
                host,
                message: serial,
                arrival: time,
                ..MessageSummary::default()
            })
        });
        acc.open += 1;
        if acc.queue_ids.len() < 16 {
            acc.queue_ids.push(qid);
        }
    }

    /// A queue file ends (removed, dropped, or open at the end).
    pub(super) fn close_file(&mut self, m: &Message, removed: Option<LogTime>) {
        let (identity, counted, bounce_of) = (m.identity, m.counted_received, m.bounce_of);
        let Some(acc) = self.acc(m.serial) else {
            return;
        };
        acc.open = acc.open.saturating_sub(1);
        if identity != 0 {
            acc.identity = identity;
        }
        acc.received |= counted;
        if bounce_of != 0 {
            acc.bounce_of = bounce_of;
        }
        acc.unfinished |= removed.is_none();
        acc.removed = match (acc.removed, removed) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    /// A filter's copy turned out to belong to message `into`: what was
    /// gathered under its own serial joins that message.
    pub(super) fn merge_acc(&mut self, from: u32, into: u32) {
        let Some(old) = self.roots.get_mut(&from).and_then(|r| r.acc.take()) else {
            return;
        };
        let Some(acc) = self.acc(into) else { return };
        acc.open += old.open;
        acc.unfinished |= old.unfinished;
        for q in old.queue_ids {
            if acc.queue_ids.len() < 16 && !acc.queue_ids.contains(&q) {
                acc.queue_ids.push(q);
            }
        }
        for r in old.recipients {
            match acc.recipients.iter().position(|(h, _)| *h == r.0) {
                Some(i) => acc.recipients[i].1 = r.1,
                None if acc.recipients.len() < RCPT_MAX => acc.recipients.push(r),
                None => {}
            }
        }
        if acc.message_id.is_empty() {
            acc.message_id = old.message_id;
        }
        if acc.sender.is_empty() {
            acc.sender = old.sender;
        }
        acc.size = acc.size.max(old.size);
    }

    /// A message's last queue file is gone: its row goes out.
    pub(super) fn emit_message(&mut self, root: Root) {
        let Some(mut acc) = root.acc else { return };
        let Some(sink) = self.sink.as_mut() else {
            return;
        };
        if root.client_ip != 0 {
            acc.client_ip = keep(self.findings.strings.get(root.client_ip));
        }
        acc.expired |= root.expired;
        acc.deleted |= root.deleted;
        acc.held |= root.held;
        if acc.open > 0 || acc.unfinished {
            acc.removed = None;
        }
        sink.message(&acc);
    }

    /// At the end of the logs: the messages still queued go out too.
    pub(super) fn flush_messages(&mut self) {
        if self.sink.is_none() {
            return;
        }
        let mut serials: Vec<u32> = self.roots.keys().copied().collect();
        serials.sort_unstable();
        for s in serials {
            if let Some(root) = self.roots.remove(&s) {
                self.emit_message(root);
            }
        }
    }
}

/// The fields of a delivery line the analysis itself does not read.
#[derive(Debug, Clone, Copy)]
pub(super) struct LineFields<'a> {
    pub orig_to: &'a [u8],
    pub dsn: &'a [u8],
    pub delays: &'a [u8],
}

/// A delivery line, for its row.
pub(super) struct AttemptLine<'a> {
    pub time: LogTime,
    pub to: &'a [u8],
    pub relay: &'a [u8],
    pub reason: &'a [u8],
    pub more: LineFields<'a>,
    pub soft_bounce: bool,
}

impl Correlator<'_> {
    /// The row of one delivery line of the live message `key`.
    pub(super) fn attempt_row(
        &mut self,
        key: (Sym, QueueId),
        line: &AttemptLine<'_>,
        status: AttemptStatus,
        outcome: Option<u32>,
    ) {
        if self.sink.is_none() {
            return;
        }
        let Some(m) = self.live.get(&key) else { return };
        let a = Attempt {
            time: line.time,
            host: key.0,
            queue_id: key.1,
            message: m.serial,
            identity: m.identity,
            recipient: line.to,
            orig_recipient: line.more.orig_to,
            relay: line.relay,
            dsn: line.more.dsn,
            delays: line.more.delays,
            status,
            soft_bounce: line.soft_bounce,
            reply: line.reason,
            outcome,
        };
        self.emit_attempt(a);
    }
}

fn hash_bytes(b: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    b.hash(&mut h);
    h.finish()
}

/// Cut to the envelope fields a message row keeps.
pub(super) fn keep(b: &[u8]) -> Vec<u8> {
    b[..b.len().min(STRING_MAX)].to_vec()
}
