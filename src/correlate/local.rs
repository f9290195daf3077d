//! What the server says about itself and what leaves the queue undelivered:
//! diagnostics, local failures, expiries and deletions, the content
//! filter's discards and quarantine, Plesk's outgoing limits.

use memchr::memmem;

use super::events::intern_reason as intern_cut;
use super::*;
use crate::classify::LocalKind;
use crate::parse::Severity;

/// Local events kept at most (one per line of a crash loop).
pub const LOCAL_MAX: usize = 2_000_000;
/// Distinct diagnostic groups kept; later ones are counted in the last.
const DIAG_GROUPS_MAX: usize = 20_000;

impl Correlator<'_> {
    /// A daemon's `warning:`, `error:`, `fatal:` or `panic:` line.
    pub(super) fn diagnostic(
        &mut self,
        time: LogTime,
        severity: Severity,
        program: &[u8],
        text: &[u8],
    ) {
        let v = self.verdict(text);
        let program = self.findings.strings.intern(program);
        let postfix = self.findings.strings.get(program).starts_with(b"postfix");
        let kind = match (v.local, severity) {
            (Some(k), _) => Some(k),
            (None, Severity::Panic) if postfix => Some(LocalKind::Panic),
            (None, Severity::Fatal) if postfix => Some(LocalKind::Fatal),
            _ => None,
        };
        let text = self.group_diagnostic(time, severity, program, v.normalised, text, kind);
        if let Some(k) = kind.filter(|k| k.stops_mail()) {
            self.local_event(
                time,
                k,
                LocalSource::Said(severity),
                program,
                text,
                v.normalised,
            );
        }
    }

    /// Counts a diagnostic in its group; returns the group's example text.
    fn group_diagnostic(
        &mut self,
        time: LogTime,
        severity: Severity,
        program: Sym,
        normalised: Sym,
        text: &[u8],
        kind: Option<LocalKind>,
    ) -> Sym {
        let key = (shape_hash(text), program, severity);
        let i = match self.diag_groups.get(&key) {
            Some(&i) => i,
            None if self.findings.diagnostics.len() < DIAG_GROUPS_MAX => {
                let text = intern_cut(&mut self.findings.strings, text);
                self.findings.diagnostics.push(DiagnosticGroup {
                    severity,
                    program,
                    normalised,
                    text,
                    kind,
                    count: 0,
                    first: time,
                    last: time,
                });
                let i = self.findings.diagnostics.len() - 1;
                self.diag_groups.insert(key, i);
                i
            }
            // Past the cap the texts are counted, not kept apart.
            None => self.findings.diagnostics.len() - 1,
        };
        let g = &mut self.findings.diagnostics[i];
        g.count += 1;
        g.first = g.first.min(time);
        g.last = g.last.max(time);
        g.text
    }

    pub(super) fn local_event(
        &mut self,
        time: LogTime,
        kind: LocalKind,
        source: LocalSource,
        program: Sym,
        text: Sym,
        normalised: Sym,
    ) {
        if self.findings.local.len() >= LOCAL_MAX {
            self.findings.local_dropped += 1;
            return;
        }
        self.findings.local.push(LocalEvent {
            time,
            kind,
            source,
            program,
            text,
            normalised,
            queued: self.live.len().min(u32::MAX as usize) as u32,
        });
    }

    /// smtpd's SASL backend went away under it: the server's failure, not
    /// the client's (kept as evidence; a guessing client causes it too).
    pub(super) fn sasl_backend(&mut self, time: LogTime, program: &[u8], reason: &[u8]) {
        const BACKEND: [&[u8]; 3] = [
            b"Connection lost to authentication server",
            b"cannot connect to saslauthd",
            b"authentication server",
        ];
        if !BACKEND.iter().any(|w| memmem::find(reason, w).is_some()) {
            return;
        }
        let program = self.findings.strings.intern(program);
        // The reason without the login it was for: one group per reason.
        let text = match memmem::find(reason, b", sasl_username=") {
            Some(p) => &reason[..p],
            None => reason,
        };
        let normalised = self.findings.strings.intern(text);
        self.group_diagnostic(
            time,
            Severity::Warning,
            program,
            normalised,
            text,
            Some(LocalKind::AuthBackend),
        );
    }

    /// A message expired (`status=expired`) or was deleted (`postsuper
    /// -d`) while queued: counted once per message, with its last deferral.
    pub(super) fn removal(&mut self, host: Sym, qid: QueueId, time: LogTime, kind: RemovalKind) {
        let (serial, identity, last_deferral) = match (kind, self.live.get(&(host, qid))) {
            (RemovalKind::Expired, _) => {
                let m = self.message((host, qid), time);
                (m.serial, m.identity, m.last_deferral)
            }
            (RemovalKind::Deleted, Some(m)) => (m.serial, m.identity, m.last_deferral),
            // A deletion of a message the logs never showed queued.
            (RemovalKind::Deleted, None) => return,
        };
        let root = self.roots.entry(serial).or_default();
        let first = match kind {
            RemovalKind::Expired => !std::mem::replace(&mut root.expired, true),
            RemovalKind::Deleted => !std::mem::replace(&mut root.deleted, true),
        };
        if !first {
            return;
        }
        match kind {
            RemovalKind::Expired => {
                self.findings.counts.expired += 1;
                if let Some(h) = self.findings.traffic.hour(time) {
                    h.expired += 1;
                }
                if identity != 0 {
                    self.sender_stats(identity).expired += 1;
                }
            }
            RemovalKind::Deleted => self.findings.counts.deleted += 1,
        }
        self.findings.removals.push(Removal {
            time,
            kind,
            message: serial,
            identity,
            last_deferral,
        });
    }

    /// A failed login. Plesk's `plesk_saslauthd` and smtpd may both log one
    /// attempt (the one names the account, the other the client too):
    /// lines of one account seconds apart, one of each, are one failure.
    pub(super) fn login_failure(&mut self, time: LogTime, username: Sym, client_ip: Sym) {
        const PAIR: i64 = 10 * crate::time::SECOND;
        let plesk = client_ip == 0;
        if username != 0 {
            if let Some((t, i, other_was_plesk)) = self.sasl_unpaired.get(&username).copied() {
                if other_was_plesk != plesk && (time.0 - t.0).abs() <= PAIR {
                    self.sasl_unpaired.remove(&username);
                    // One attempt: smtpd's line knows the client.
                    if !plesk {
                        self.findings.login_failures[i].client_ip = client_ip;
                    }
                    return;
                }
            }
        }
        self.findings.login_failures.push(LoginFailure {
            time,
            username,
            client_ip,
        });
        if username != 0 {
            if self.sasl_unpaired.len() > 100_000 {
                self.sasl_unpaired.clear();
            }
            let i = self.findings.login_failures.len() - 1;
            self.sasl_unpaired.insert(username, (time, i, plesk));
        }
    }

    /// A hand-off the content filter answered `discarded` (or a `discard`
    /// transport's delivery): the recipient is gone, not delivered.
    pub(super) fn discarded(
        &mut self,
        key: (Sym, QueueId),
        time: LogTime,
        to: &[u8],
        relay: &[u8],
    ) {
        let m = self.message(key, time);
        let (quarantined, mut identity) = (m.quarantined, m.identity);
        if identity == 0 {
            identity = self.identity(IdentityKind::Sender, b"unknown");
            if let Some(m) = self.live.get_mut(&key) {
                m.identity = identity;
            }
        }
        if quarantined {
            self.findings.counts.quarantined += 1;
        } else {
            self.findings.counts.discarded += 1;
        }
        self.sender_stats(identity).discarded += 1;
        self.touch(identity, time);
        self.track(key, to, relay, Fate::Sent, time, None);
    }

    /// amavisd-new kept a message in quarantine.
    pub(super) fn quarantined(&mut self, host: Sym, qid: QueueId) {
        if let Some(m) = self.live.get_mut(&(host, qid)) {
            m.quarantined = true;
        }
    }

    /// A cleanup `milter-reject` by Plesk's Outgoing Mail Control.
    pub(super) fn outgoing_limit(&mut self, time: LogTime, identity: Sym, from: &[u8]) {
        let sender = self
            .findings
            .strings
            .intern(crate::parse::postfix::strip_angle(from));
        self.findings.outgoing_limits.push(OutgoingLimit {
            time,
            identity,
            sender,
        });
    }
}

/// A diagnostic's group: its text with every run of digits as one mark
/// (pids, sizes, line numbers and queue ids differ from line to line of
/// one complaint), hashed without allocating.
fn shape_hash(text: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    let mut in_digits = false;
    for &c in text {
        if c.is_ascii_digit() {
            if !in_digits {
                h.write_u8(b'#');
            }
            in_digits = true;
        } else {
            in_digits = false;
            h.write_u8(c);
        }
    }
    h.finish()
}

/// A reply of a cleanup reject from Plesk's Outgoing Mail Control
/// (`5.7.0 Your message could not be sent. The limit on the number of
/// allowed outgoing messages was exceeded. Try again later.`).
pub(super) fn is_plesk_limit(reason: &[u8]) -> bool {
    memmem::find(reason, b"allowed outgoing messages").is_some()
}

/// A relay that is this server's own delivery: a transport name (`local`,
/// `virtual`, `dovecot`, a pipe), a unix socket (`host[private/dovecot-lmtp]`)
/// or LMTP on loopback port 24. Failures there are this server's.
pub(super) fn is_local_delivery_relay(relay: &[u8]) -> bool {
    if relay.is_empty() || relay == b"none" {
        return false;
    }
    match memchr::memchr(b'[', relay) {
        None => true,
        Some(p) => {
            let inner = &relay[p + 1..];
            inner.starts_with(b"private/")
                || inner.starts_with(b"public/")
                || inner.starts_with(b"/")
                || (super::relay::is_loopback_relay(relay) && relay.ends_with(b":24"))
        }
    }
}

/// The content filter's answer to a hand-off that it dropped the message:
/// amavisd-new's `250 2.7.0 Ok, discarded, id=...`.
pub(super) fn is_filter_discard(reason: &[u8]) -> bool {
    let head = &reason[..reason.len().min(40)];
    memmem::find(head, b"Ok, discarded").is_some()
}
