//! One handler per event kind: what each log line changes.

use std::hash::{Hash, Hasher};

use super::relay::{client_ip, decimal, domain_of, is_external_relay, is_loopback_ip, queued_as};
use super::sink::{AttemptLine, LineFields};
use super::*;
use crate::parse::DaemonEvent;

impl Correlator<'_> {
    /// Applies one line's event: each kind has its own handler below. The
    /// handlers have this one caller, so inlining them costs no code.
    pub(super) fn event(&mut self, host: Sym, time: LogTime, chunk: &[u8], kind: EventKind) {
        let g = |s: Span| s.get(chunk);
        match kind {
            EventKind::Client {
                qid,
                client,
                sasl_username,
            } => self.on_client((host, qid), time, client_ip(g(client)), g(sasl_username)),
            EventKind::Pickup { qid, uid, from } => self.on_pickup((host, qid), time, uid, g(from)),
            EventKind::QueueActive {
                qid,
                from,
                size,
                nrcpt,
            } => self.on_queue_active((host, qid), time, g(from), size, nrcpt),
            EventKind::MessageId { qid, message_id } => {
                // No id: nothing changes, not even what `repeated` repeats.
                let message_id = g(message_id);
                if message_id.is_empty() {
                    return;
                }
                self.on_message_id((host, qid), time, message_id);
            }
            EventKind::Delivery {
                qid,
                to,
                orig_to,
                relay,
                dsn,
                delays,
                status,
                reason,
                delay_ms,
            } => {
                let attempt = Attempt {
                    to: g(to),
                    relay: g(relay),
                    status,
                    reason: g(reason),
                    delay_ms,
                    more: LineFields {
                        orig_to: g(orig_to),
                        dsn: g(dsn),
                        delays: g(delays),
                    },
                };
                self.delivery(host, time, qid, attempt)
            }
            EventKind::Expired { qid, .. } => self.on_expired(host, qid, time),
            EventKind::Notification { qid, child } => self.on_notification(host, qid, child),
            EventKind::Held { qid } => self.on_held((host, qid), time),
            EventKind::Released { .. } => {}
            EventKind::Removed { qid } => self.on_removed(host, qid, time),
            EventKind::Deleted { qid } => {
                self.removal(host, qid, time, RemovalKind::Deleted);
                self.on_removed(host, qid, time);
            }
            EventKind::Reject {
                qid,
                stage,
                action,
                reason,
                from,
                client,
                ..
            } => {
                let said = Said {
                    reason: g(reason),
                    from: g(from),
                    client: g(client),
                };
                self.reject(host, time, qid, stage, action, said)
            }
            EventKind::Daemon { event, text } => self.on_daemon(time, event, g(text)),
            EventKind::SaslFailure {
                client,
                username,
                reason,
            } => {
                let reason = (!reason.is_empty()).then(|| g(reason));
                self.on_sasl_failure(time, g(client), g(username), reason)
            }
            EventKind::Diagnostic {
                severity,
                program,
                text,
            } => self.diagnostic(time, severity, g(program), g(text)),
            EventKind::Quarantined { qid } => self.quarantined(host, qid),
            EventKind::PleskLimitOut => self.findings.limit_out_handler += 1,
            EventKind::Repeated { times } => self.on_repeated(time, times),
            EventKind::Info | EventKind::NotUnderstood | EventKind::Mark => {}
        }
        if !matches!(
            kind,
            EventKind::Delivery { .. } | EventKind::Repeated { .. } | EventKind::Mark
        ) {
            self.last_kind_deferral = None;
        }
    }

    /// A message its submitter sent, counted in the sender table.
    #[inline]
    fn count_submission(&mut self, identity: Sym, time: LogTime) {
        self.sender_stats(identity).messages += 1;
        self.touch(identity, time);
    }

    /// smtpd accepted a client for a new queue file: its identity is the
    /// SASL login, else the client's address (a loopback client's waits
    /// for the envelope sender).
    #[inline]
    fn on_client(&mut self, key: (Sym, QueueId), time: LogTime, ip: &[u8], sasl: &[u8]) {
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
        let m = self.new_message(key, time, identity, true);
        m.loopback = loopback && sasl.is_empty();
        let (id, counted, serial) = (m.identity, m.counted_received, m.serial);
        // The first client wins: a content filter's reinjection
        // (from loopback) is linked to the original's root later.
        let ip = self.findings.strings.intern(ip);
        let root = self.roots.entry(serial).or_default();
        if root.client_ip == 0 {
            root.client_ip = ip;
        }
        if counted && id != 0 {
            self.count_submission(id, time);
        }
    }

    /// A local submission (sendmail/postdrop): its identity is the uid,
    /// else the sender it gave.
    #[inline]
    fn on_pickup(&mut self, key: (Sym, QueueId), time: LogTime, uid: Option<u32>, from: &[u8]) {
        let identity = match uid {
            Some(u) => self.identity(IdentityKind::Uid, decimal(u, &mut [0; 10])),
            None => self.identity(IdentityKind::Sender, from),
        };
        let m = self.new_message(key, time, identity, true);
        let (id, counted) = (m.identity, m.counted_received);
        if counted {
            self.count_submission(id, time);
        }
    }

    /// qmgr took the message: its envelope sender, size and recipient
    /// count. A message of no known submitter is its envelope sender's.
    #[inline]
    fn on_queue_active(
        &mut self,
        key: (Sym, QueueId),
        time: LogTime,
        from: &[u8],
        size: u64,
        nrcpt: u32,
    ) {
        let serial = self.message(key, time).serial;
        self.note_envelope(serial, from, size, nrcpt);
        let m = self.live.get_mut(&key).expect("present");
        if m.identity != 0 && m.counted_received && !from.is_empty() {
            // The envelope senders an identity uses: for a script,
            // which site it is.
            let id = m.identity;
            let sender = self.findings.strings.intern(from);
            self.sender_stats(id).note_envelope_sender(sender);
        }
        let m = self.live.get_mut(&key).expect("present");
        if m.identity == 0 {
            let counted = m.counted_received;
            let id = if from.is_empty() {
                self.identity(IdentityKind::Local, b"MAILER-DAEMON")
            } else {
                self.identity(IdentityKind::Sender, from)
            };
            let m = self.live.get_mut(&key).expect("present");
            m.identity = id;
            if counted {
                self.count_submission(id, time);
            }
        }
        self.sized(key, size, from);
    }

    /// cleanup read the Message-ID header: a second copy of a message from
    /// a loopback client is the content filter's re-injection.
    #[inline]
    fn on_message_id(&mut self, key: (Sym, QueueId), time: LogTime, message_id: &[u8]) {
        let mid = {
            let mut h = rustc_hash::FxHasher::default();
            message_id.hash(&mut h);
            h.finish().max(1)
        };
        // Postfix's own bounce notices start at cleanup: no client.
        let m = self.message(key, time);
        m.message_id = mid;
        let (serial, identity, arrival, loopback) = (m.serial, m.identity, m.arrival, m.loopback);
        self.note_message_id(serial, message_id);
        let host = key.0;
        match self.by_message_id.get(&(host, mid)).copied() {
            // The same message-id from a loopback client, while the
            // first copy is still queued: the filter's re-injection.
            Some((ps, pid, parr)) if loopback && ps != serial && time.0 - parr.0 <= DAY => {
                self.link_child(key, ps, pid, parr);
            }
            Some(_) => {}
            None => {
                self.by_message_id
                    .insert((host, mid), (serial, identity, arrival));
            }
        }
    }

    /// The message stayed queued past its lifetime.
    #[inline]
    fn on_expired(&mut self, host: Sym, qid: QueueId, time: LogTime) {
        let m = self.message((host, qid), time);
        // The recipients still deferred are returned to the sender.
        for r in m.track.iter_mut().flatten() {
            if r.fate == Fate::Deferred {
                r.fate = Fate::Expired;
                r.time = time;
            }
        }
        self.removal(host, qid, time, RemovalKind::Expired);
    }

    /// A bounce notice `child` about the message `qid`: the notice is
    /// MAILER-DAEMON's, and a bounce its sender caused.
    #[inline]
    fn on_notification(&mut self, host: Sym, qid: QueueId, child: QueueId) {
        self.findings.counts.notifications += 1;
        let id = self.identity(IdentityKind::Local, b"MAILER-DAEMON");
        let (parent, parent_identity) = self
            .live
            .get(&(host, qid))
            .map_or((0, 0), |m| (m.serial, m.identity));
        if parent_identity != 0 {
            self.sender_stats(parent_identity).bounce_notices += 1;
        }
        self.pending_notice.insert((host, child), (id, parent));
        if self.pending_notice.len() > PENDING_MAX {
            // Notices whose child never logged a line: forget them.
            self.pending_notice.clear();
        }
        if let Some(m) = self.live.get_mut(&(host, child)) {
            if m.identity == 0 {
                m.identity = id;
            }
            m.bounce_of = parent;
        }
    }

    /// Put on hold: counted once per message, whatever copy was held.
    #[inline]
    fn on_held(&mut self, key: (Sym, QueueId), time: LogTime) {
        let serial = self.message(key, time).serial;
        let root = self.roots.entry(serial).or_default();
        if !root.held {
            root.held = true;
            self.findings.counts.held += 1;
        }
    }

    /// The queue file is gone: the message ends here.
    #[inline]
    fn on_removed(&mut self, host: Sym, qid: QueueId, time: LogTime) {
        if let Some(mut m) = self.live.remove(&(host, qid)) {
            self.close_track(host, qid, &mut m, Some(time));
            self.forget(host, &m);
        }
    }

    /// The master daemon started, reloaded or stopped.
    #[inline]
    fn on_daemon(&mut self, time: LogTime, event: DaemonEvent, text: &[u8]) {
        let text = self.findings.strings.intern(text);
        self.findings.traffic.daemon(time, event, text);
    }

    /// A failed SASL login on our submission service; `reason` when the
    /// line says why.
    #[inline]
    fn on_sasl_failure(
        &mut self,
        time: LogTime,
        client: &[u8],
        username: &[u8],
        reason: Option<&[u8]>,
    ) {
        let user = self.findings.strings.intern(username);
        let ip = self.findings.strings.intern(client_ip(client));
        self.login_failure(time, user, ip);
        if let Some(reason) = reason {
            self.sasl_backend(time, b"postfix/smtpd", reason);
        }
    }

    /// syslog folded identical deferrals into one line: the last one is
    /// counted again, up to a bound.
    #[inline]
    fn on_repeated(&mut self, time: LogTime, times: u32) {
        let Some(mut o) = self.last_kind_deferral else {
            return;
        };
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
        if let (Some(h), true) = (
            self.findings.traffic.hour(time),
            o.status == OutcomeStatus::Deferred,
        ) {
            h.deferrals += n;
        }
        self.emit_repeat(n, time);
    }

    /// A reject (or discard) of our own server: smtpd, cleanup, milters.
    fn reject(
        &mut self,
        host: Sym,
        time: LogTime,
        qid: Option<QueueId>,
        stage: RejectStage,
        action: RejectAction,
        said: Said,
    ) {
        let Said {
            reason,
            from,
            client,
        } = said;
        let discard = action == RejectAction::Discard;
        if action != RejectAction::Reject && !discard {
            return;
        }
        let mut identity = 0;
        if let Some(qid) = qid {
            if let Some(m) = self.live.get(&(host, qid)) {
                identity = m.identity;
            }
            if identity != 0 && !discard {
                self.sender_stats(identity).rejected += 1;
            }
            if stage == RejectStage::Cleanup {
                // cleanup drops the message: no `removed` follows.
                if let Some(m) = self.live.remove(&(host, qid)) {
                    if let Some(acc) = self.acc(m.serial) {
                        acc.rejected = !discard;
                    }
                    self.release_root(m.serial);
                }
            }
        }
        if discard {
            // A DISCARD action: accepted, then dropped.
            self.findings.counts.discarded += 1;
            if identity != 0 {
                self.sender_stats(identity).discarded += 1;
            }
            return;
        }
        self.findings.counts.rejected += 1;
        if stage == RejectStage::Cleanup && super::local::is_plesk_limit(reason) {
            self.outgoing_limit(time, identity, from);
        }
        let v = self.verdict(reason);
        let client = self.findings.strings.intern(if client.is_empty() {
            b"(no client)"
        } else {
            client
        });
        self.findings
            .traffic
            .reject(time, v.normalised, client, v.cause);
        self.findings.inbound.push(InboundReject {
            time,
            cause: v.cause,
            normalised: v.normalised,
            identity,
        });
    }

    pub(super) fn delivery(&mut self, host: Sym, time: LogTime, qid: QueueId, a: Attempt) {
        let Attempt {
            to,
            relay,
            status,
            reason,
            delay_ms,
            more,
        } = a;
        self.last_kind_deferral = None;
        let key = (host, qid);
        let row = AttemptLine {
            time,
            to,
            relay,
            reason,
            more,
            soft_bounce: status == DeliveryStatus::SoftBounce,
        };
        // Content-filter hand-off: the re-queued copy is the same message.
        if status == DeliveryStatus::Sent && is_loopback_relay(relay) {
            if let Some(child) = queued_as(reason) {
                self.handoff(key, child, to, relay, time);
                self.attempt_row(key, &row, AttemptStatus::HandedOff, None);
                return;
            }
        }
        let status = match status {
            // `soft_bounce = yes`: a would-be bounce stays queued.
            DeliveryStatus::SoftBounce => {
                self.findings.counts.soft_bounces += 1;
                DeliveryStatus::Deferred
            }
            s => s,
        };
        let m = self.message(key, time);
        let (serial, mut identity, arrival, size) = (m.serial, m.identity, m.arrival, m.size);
        if !matches!(
            status,
            DeliveryStatus::Sent | DeliveryStatus::Deferred | DeliveryStatus::Bounced
        ) {
            return;
        }
        if identity == 0 {
            identity = self.identity(IdentityKind::Sender, b"unknown");
            if let Some(m) = self.live.get_mut(&key) {
                m.identity = identity;
            }
        }
        let r = Recipient {
            key,
            serial,
            identity,
            arrival,
            size,
            domain: self.findings.strings.intern(domain_of(to)),
            external: is_external_relay(relay),
        };
        self.count_recipient(&r, to);
        // A relay named with port 25 means an SMTP server answered.
        // Only whether port 25 answered at a time is asked: a time that
        // repeats the last one is not kept (a busy server has many a second).
        if r.external
            && relay.ends_with(b":25")
            && self.findings.port25_contacts.last() != Some(&time)
        {
            self.findings.port25_contacts.push(time);
        }
        self.touch(identity, time);
        let dropped = (is_loopback_relay(relay) && super::local::is_filter_discard(reason))
            || relay == b"none";
        match status {
            DeliveryStatus::Sent if dropped => self.dropped(key, &row),
            DeliveryStatus::Sent => self.delivered(&r, &row, delay_ms),
            _ => {
                let bounced = status == DeliveryStatus::Bounced;
                self.failure(&r, bounced, &row);
                let outcome = self.findings.outcomes.len().checked_sub(1);
                let status = if bounced {
                    AttemptStatus::Bounced
                } else {
                    AttemptStatus::Deferred
                };
                self.attempt_row(key, &row, status, outcome.map(|i| i as u32));
            }
        }
    }

    /// Counts each recipient once per message, for the sender table and
    /// the outbound volume behind a listing.
    #[inline]
    fn count_recipient(&mut self, r: &Recipient, to: &[u8]) {
        let rcpt = address_key(to);
        let m = self.live.get_mut(&r.key).expect("present");
        if m.recipients.contains(&rcpt) {
            return;
        }
        if m.recipients.len() < 10_000 {
            m.recipients.push(rcpt);
        }
        self.sender_stats(r.identity).recipients += 1;
        if r.external {
            self.findings.outbound.push(OutboundRecipient {
                time: r.arrival,
                identity: r.identity,
                message: r.serial,
                domain: r.domain,
                address: rcpt as u32,
            });
        }
    }

    /// The content filter (or a `discard` transport) dropped the recipient:
    /// kept in quarantine or discarded, never delivered.
    #[inline]
    fn dropped(&mut self, key: (Sym, QueueId), row: &AttemptLine) {
        self.discarded(key, row.time, row.to, row.relay);
        let kept = self.live.get(&key).is_some_and(|m| m.quarantined);
        let status = if kept {
            AttemptStatus::Quarantined
        } else {
            AttemptStatus::Discarded
        };
        self.attempt_row(key, row, status, None);
    }

    /// The recipient's server (or mailbox) took the message.
    #[inline]
    fn delivered(&mut self, r: &Recipient, row: &AttemptLine, delay_ms: u32) {
        let time = row.time;
        if r.external {
            self.findings.deliveries.push(Delivery {
                time,
                domain: r.domain,
            });
        }
        // A content filter's copy logs its delay from the
        // re-injection; the message waited since its first arrival.
        let waited = (time.0 - r.arrival.0).clamp(0, i64::from(u32::MAX)) as u32;
        self.findings
            .traffic
            .delivered(time, r.domain, r.size, delay_ms.max(waited), r.external);
        self.findings.counts.bytes_delivered += r.size;
        self.findings.counts.delivered += 1;
        self.sender_stats(r.identity).delivered += 1;
        self.track(r.key, row.to, row.relay, Fate::Sent, time, None);
        self.attempt_row(r.key, row, AttemptStatus::Sent, None);
    }

    /// A content filter took the message and queued it again as `child`.
    fn handoff(
        &mut self,
        key: (Sym, QueueId),
        child: QueueId,
        to: &[u8],
        relay: &[u8],
        time: LogTime,
    ) {
        self.findings.counts.handoffs += 1;
        let host = key.0;
        let m = self.message(key, time);
        let (serial, identity, arrival) = (m.serial, m.identity, m.arrival);
        self.track(key, to, relay, Fate::Sent, time, None);
        let ckey = (host, child);
        match self.live.get(&ckey) {
            Some(c) if c.serial != serial => self.link_child(ckey, serial, identity, arrival),
            Some(_) => {}
            None => {
                self.pending_parent.insert(ckey, (serial, identity, time));
                // Bound: hand-offs whose child never shows up, or whose
                // child was finished before this line.
                if self.pending_parent.len() > PENDING_MAX {
                    let cutoff = time.0 - DAY;
                    self.pending_parent.retain(|_, v| v.2 .0 >= cutoff);
                    if self.pending_parent.len() > PENDING_MAX / 2 {
                        self.pending_parent.clear();
                    }
                }
            }
        }
    }

    /// A deferral or bounce of one recipient: classified, recorded, counted.
    fn failure(&mut self, r: &Recipient, bounced: bool, line: &AttemptLine) {
        let (time, to, relay, reason) = (line.time, line.to, line.relay, line.reason);
        let mut v = self.verdict(reason);
        // Our own delivery (a pipe to Dovecot, LMTP on a socket) failing
        // with a text no rule places is this server's failure.
        if super::local::is_local_delivery_relay(relay)
            && matches!(v.cause, Cause::RemoteUnavailable | Cause::Unknown)
        {
            v.cause = Cause::LocalSystem;
            v.local = Some(crate::classify::LocalKind::LocalDelivery);
        }
        let norm = v.normalised;
        let text = match self.examples.get(&norm) {
            Some(&t) => t,
            None => {
                let t = intern_reason(&mut self.findings.strings, reason);
                if self.examples.len() >= 200_000 {
                    self.examples.clear();
                }
                self.examples.insert(norm, t);
                t
            }
        };
        let outcome = Outcome {
            time,
            status: if bounced {
                OutcomeStatus::Bounced
            } else {
                OutcomeStatus::Deferred
            },
            cause: v.cause,
            standing: v.standing,
            connect_failure: v.connect_failure,
            port: v.port,
            message: r.serial,
            identity: r.identity,
            recipient_domain: r.domain,
            reply: self.reply_id(Reply {
                remote_host: v.remote_host,
                list: v.list,
                listed_ip: v.listed_ip,
                text,
                normalised: norm,
            }),
        };
        self.findings.outcomes.push(outcome);
        let index = (self.findings.outcomes.len() - 1) as u32;
        self.track(r.key, to, relay, outcome.status.into(), time, Some(index));
        if let Some(kind) = v.local {
            let source = if bounced {
                LocalSource::Bounce
            } else {
                LocalSource::Deferral
            };
            let program = self.findings.strings.intern(b"postfix");
            self.local_event(time, kind, source, program, text, norm);
        }
        if let Some(h) = self.findings.traffic.hour(time) {
            if bounced {
                h.bounced += 1;
            } else {
                h.deferrals += 1;
            }
        }
        if bounced {
            self.findings.counts.bounced += 1;
            self.sender_stats(r.identity).bounced += 1;
            return;
        }
        self.last_kind_deferral = Some(outcome);
        self.findings.counts.deferral_events += 1;
        self.sender_stats(r.identity).deferred += 1;
        let root = self.roots.entry(r.serial).or_default();
        if !root.deferred {
            root.deferred = true;
            self.findings.counts.deferred_messages += 1;
        }
        let m = self.live.get_mut(&r.key).expect("present");
        m.last_deferral = Some(index);
        if m.first_cause.is_none() {
            m.first_cause = Some(v.cause);
            m.first_deferral = Some(time);
        }
    }
}

/// One recipient's delivery attempt, as the line says it.
pub(super) struct Attempt<'a> {
    pub to: &'a [u8],
    pub relay: &'a [u8],
    pub status: DeliveryStatus,
    pub reason: &'a [u8],
    pub delay_ms: u32,
    /// The rest of the line, for the event tables.
    pub more: LineFields<'a>,
}

/// What a reject line says: the reply, the envelope sender, the client.
struct Said<'a> {
    reason: &'a [u8],
    from: &'a [u8],
    client: &'a [u8],
}

/// One recipient of a live message, as a delivery line names it: the
/// message it belongs to and where the attempt went.
struct Recipient {
    key: (Sym, QueueId),
    serial: u32,
    identity: Sym,
    arrival: LogTime,
    size: u64,
    /// The recipient's domain.
    domain: Sym,
    /// Relayed to another machine ([`is_external_relay`]).
    external: bool,
}

/// A reason text as reports quote it: whole, or its first
/// [`REASON_MAX`](crate::classify::cache::REASON_MAX) bytes with a note
/// saying it was cut.
pub(super) fn intern_reason(strings: &mut Interner, reason: &[u8]) -> Sym {
    use crate::classify::cache::REASON_MAX;
    if reason.len() <= REASON_MAX {
        return strings.intern(reason);
    }
    let mut cut = reason[..REASON_MAX].to_vec();
    cut.extend_from_slice(format!(" … [cut: {} bytes in all]", reason.len()).as_bytes());
    strings.intern(&cut)
}
