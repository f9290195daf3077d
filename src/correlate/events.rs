//! One handler per event kind: what each log line changes.

use std::hash::{Hash, Hasher};

use super::relay::{client_ip, decimal, domain_of, is_external_relay, is_loopback_ip, queued_as};
use super::sink::{AttemptLine, LineFields};
use super::*;

impl Correlator<'_> {
    pub(super) fn event(&mut self, host: Sym, time: LogTime, chunk: &[u8], kind: EventKind) {
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
                let (id, counted, serial) = (m.identity, m.counted_received, m.serial);
                // The first client wins: a content filter's reinjection
                // (from loopback) is linked to the original's root later.
                let ip = self.findings.strings.intern(ip);
                let root = self.roots.entry(serial).or_default();
                if root.client_ip == 0 {
                    root.client_ip = ip;
                }
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
            EventKind::QueueActive {
                qid,
                from,
                size,
                nrcpt,
            } => {
                let serial = self.message((host, qid), time).serial;
                self.note_envelope(serial, g(from), size, nrcpt);
                let m = self.live.get_mut(&(host, qid)).expect("present");
                if m.identity != 0 && m.counted_received && !g(from).is_empty() {
                    // The envelope senders an identity uses: for a script,
                    // which site it is.
                    let id = m.identity;
                    let sender = self.findings.strings.intern(g(from));
                    self.sender_stats(id).note_envelope_sender(sender);
                }
                let m = self.live.get_mut(&(host, qid)).expect("present");
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
                self.sized((host, qid), size, g(from));
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
                self.note_message_id(serial, g(message_id));
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
            EventKind::Expired { qid, .. } => {
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
            EventKind::Notification { qid, child } => {
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
                if matches!(kind, EventKind::Deleted { .. }) {
                    self.removal(host, qid, time, RemovalKind::Deleted);
                }
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
            EventKind::Daemon { event, text } => {
                let text = self.findings.strings.intern(g(text));
                self.findings.traffic.daemon(time, event, text);
            }
            EventKind::SaslFailure {
                client,
                username,
                reason,
            } => {
                let user = self.findings.strings.intern(g(username));
                let ip = self.findings.strings.intern(client_ip(g(client)));
                self.login_failure(time, user, ip);
                if !reason.is_empty() {
                    self.sasl_backend(time, b"postfix/smtpd", g(reason));
                }
            }
            EventKind::Diagnostic {
                severity,
                program,
                text,
            } => self.diagnostic(time, severity, g(program), g(text)),
            EventKind::Quarantined { qid } => self.quarantined(host, qid),
            EventKind::PleskLimitOut => self.findings.limit_out_handler += 1,
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
                    if let (Some(h), true) = (
                        self.findings.traffic.hour(time),
                        o.status == OutcomeStatus::Deferred,
                    ) {
                        h.deferrals += n;
                    }
                    self.emit_repeat(n, time);
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
        let domain = self.findings.strings.intern(domain_of(to));
        let rcpt = address_key(to);
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
                    address: rcpt as u32,
                });
            }
        }
        // A relay named with port 25 means an SMTP server answered.
        if external && relay.ends_with(b":25") {
            self.findings.port25_contacts.push(time);
        }
        self.touch(identity, time);
        let dropped = (is_loopback_relay(relay) && super::local::is_filter_discard(reason))
            || relay == b"none";
        match status {
            DeliveryStatus::Sent if dropped => {
                self.discarded(key, time, to, relay);
                let kept = self.live.get(&key).is_some_and(|m| m.quarantined);
                let status = if kept {
                    AttemptStatus::Quarantined
                } else {
                    AttemptStatus::Discarded
                };
                self.attempt_row(key, &row, status, None);
            }
            DeliveryStatus::Sent => {
                if external {
                    self.findings.deliveries.push(Delivery { time, domain });
                }
                // A content filter's copy logs its delay from the
                // re-injection; the message waited since its first arrival.
                let waited = (time.0 - arrival.0).clamp(0, i64::from(u32::MAX)) as u32;
                self.findings
                    .traffic
                    .delivered(time, domain, size, delay_ms.max(waited), external);
                self.findings.counts.bytes_delivered += size;
                self.findings.counts.delivered += 1;
                self.sender_stats(identity).delivered += 1;
                self.track(key, to, relay, Fate::Sent, time, None);
                self.attempt_row(key, &row, AttemptStatus::Sent, None);
            }
            _ => {
                let failure = Failure {
                    key,
                    serial,
                    identity,
                    domain,
                    bounced: status == DeliveryStatus::Bounced,
                };
                self.failure(failure, time, to, relay, reason);
                let outcome = self.findings.outcomes.len().checked_sub(1);
                let status = if status == DeliveryStatus::Bounced {
                    AttemptStatus::Bounced
                } else {
                    AttemptStatus::Deferred
                };
                self.attempt_row(key, &row, status, outcome.map(|i| i as u32));
            }
        }
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
    fn failure(&mut self, f: Failure, time: LogTime, to: &[u8], relay: &[u8], reason: &[u8]) {
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
            status: if f.bounced {
                OutcomeStatus::Bounced
            } else {
                OutcomeStatus::Deferred
            },
            cause: v.cause,
            standing: v.standing,
            connect_failure: v.connect_failure,
            port: v.port,
            message: f.serial,
            identity: f.identity,
            recipient_domain: f.domain,
            remote_host: v.remote_host,
            list: v.list,
            listed_ip: v.listed_ip,
            text,
            normalised: norm,
        };
        self.findings.outcomes.push(outcome);
        let index = (self.findings.outcomes.len() - 1) as u32;
        self.track(f.key, to, relay, outcome.status.into(), time, Some(index));
        if let Some(kind) = v.local {
            let source = if f.bounced {
                LocalSource::Bounce
            } else {
                LocalSource::Deferral
            };
            let program = self.findings.strings.intern(b"postfix");
            self.local_event(time, kind, source, program, text, norm);
        }
        if let Some(h) = self.findings.traffic.hour(time) {
            if f.bounced {
                h.bounced += 1;
            } else {
                h.deferrals += 1;
            }
        }
        if f.bounced {
            self.findings.counts.bounced += 1;
            self.sender_stats(f.identity).bounced += 1;
            return;
        }
        self.last_kind_deferral = Some(outcome);
        self.findings.counts.deferral_events += 1;
        self.sender_stats(f.identity).deferred += 1;
        let root = self.roots.entry(f.serial).or_default();
        if !root.deferred {
            root.deferred = true;
            self.findings.counts.deferred_messages += 1;
        }
        let m = self.live.get_mut(&f.key).expect("present");
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

/// Who and what a failed delivery attempt belongs to.
struct Failure {
    key: (Sym, QueueId),
    serial: u32,
    identity: Sym,
    domain: Sym,
    bounced: bool,
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
