//! Messages from arrival to removal: creation, content-filter copies,
//! identities, per-recipient tracking.

use super::*;

impl Correlator<'_> {
    pub(super) fn new_message(
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
            if let Some(h) = self.findings.traffic.hour(time) {
                h.received += 1;
            }
        }
        self.open_file(key.0, key.1, serial, time);
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
            last_deferral: None,
            quarantined: false,
            size: 0,
            sender_domain: 0,
        };
        self.live.insert(key, msg);
        self.live.get_mut(&key).expect("just inserted")
    }

    pub(super) fn forget(&mut self, host: Sym, m: &Message) {
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
    pub(super) fn link_child(
        &mut self,
        ckey: (Sym, QueueId),
        serial: u32,
        identity: Sym,
        arrival: LogTime,
    ) {
        let Some(c) = self.live.get_mut(&ckey) else {
            return;
        };
        let old = c.serial;
        let was_counted = c.counted_received;
        let child_identity = c.identity;
        let (child_arrival, child_size, child_domain) = (c.arrival, c.size, c.sender_domain);
        c.serial = serial;
        if (self.tracking || self.sink.is_some()) && old != serial {
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
                st.bytes = st.bytes.saturating_sub(child_size);
            }
            self.untake_received(child_arrival, child_size, child_domain);
        }
        self.roots.entry(serial).or_default().refs += 1;
        if old != serial {
            self.merge_acc(old, serial);
        }
        self.release_root(old);
    }

    /// Takes back a message counted as received (a content filter's copy).
    fn untake_received(&mut self, arrival: LogTime, size: u64, sender_domain: Sym) {
        if let Some(h) = self.findings.traffic.hour(arrival) {
            h.received = h.received.saturating_sub(1);
        }
        if size > 0 {
            let c = &mut self.findings.counts;
            c.bytes_received = c.bytes_received.saturating_sub(size);
            self.findings
                .traffic
                .received(arrival, sender_domain, size, -1);
        }
    }

    /// The first `size=` of a message: counted as received bytes when the
    /// message came from outside.
    pub(super) fn sized(&mut self, key: (Sym, QueueId), size: u64, from: &[u8]) {
        let Some(m) = self.live.get_mut(&key) else {
            return;
        };
        if m.size != 0 || size == 0 {
            return;
        }
        let domain = super::relay::domain_of(from);
        let domain: &[u8] = if from.is_empty() {
            b"<>"
        } else if domain.is_empty() {
            b"(no domain)"
        } else {
            domain
        };
        let (counted, arrival, identity) = (m.counted_received, m.arrival, m.identity);
        m.size = size;
        if !counted {
            return;
        }
        let sym = self.findings.strings.intern(domain);
        if let Some(m) = self.live.get_mut(&key) {
            m.sender_domain = sym;
        }
        self.findings.counts.bytes_received += size;
        self.findings.traffic.received(arrival, sym, size, 1);
        if identity != 0 {
            self.sender_stats(identity).bytes += size;
        }
    }

    pub(super) fn release_root(&mut self, serial: u32) {
        if let Some(r) = self.roots.get_mut(&serial) {
            r.refs = r.refs.saturating_sub(1);
            if r.refs == 0 {
                if let Some(root) = self.roots.remove(&serial) {
                    self.emit_message(root);
                }
            }
        }
    }

    pub(super) fn sender_stats(&mut self, identity: Sym) -> &mut SenderStats {
        self.findings.senders.entry(identity).or_default()
    }

    pub(super) fn identity(&mut self, kind: IdentityKind, value: &[u8]) -> Sym {
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
    pub(super) fn message(&mut self, key: (Sym, QueueId), time: LogTime) -> &mut Message {
        if !self.live.contains_key(&key) || self.live[&key].removed {
            let (identity, bounce_of) = self.pending_notice.remove(&key).unwrap_or_default();
            self.new_message(key, time, identity, false).bounce_of = bounce_of;
        }
        self.live.get_mut(&key).expect("present")
    }

    pub(super) fn touch(&mut self, identity: Sym, time: LogTime) {
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
    pub(super) fn track(
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
    pub(super) fn close_track(
        &mut self,
        host: Sym,
        qid: QueueId,
        m: &mut Message,
        removed: Option<LogTime>,
    ) {
        self.close_file(m, removed);
        if let Some(recipients) = m.track.take() {
            let client_ip = self.roots.get(&m.serial).map_or(0, |r| r.client_ip);
            self.findings.queue_files.push(QueueFileRecord {
                message: m.serial,
                host,
                queue_id: qid,
                identity: m.identity,
                client_ip,
                arrival: m.arrival,
                removed,
                bounce_of: m.bounce_of,
                recipients,
            });
        }
    }
}
