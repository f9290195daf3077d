//! Delivery after the filter: one connection per destination domain, and
//! what stops it (a suspended destination, DNS, port 25, a listing at the
//! greeting) before each recipient gets its answer.

use std::fmt::Write as _;
use std::io;

use super::clock::{fmt_delay, MIN};
use super::world::{Domain, Listing, Provider, FQDN, OUR_IP};
use super::Sim;

/// One connection's worth of delivery: a message's pending recipients at
/// one destination domain.
pub(super) struct Group<'a> {
    pub(super) serial: u64,
    pub(super) t: i64,
    dom: usize,
    idx: &'a [usize],
    pub(super) d: Domain,
    qid: String,
    arrival: i64,
    pub(super) sender: String,
    relay: String,
}

impl Sim {
    pub(super) fn delays(&mut self, t: i64, m_arrival: i64, conn: f64) -> String {
        let total = (t - m_arrival) as f64 / 1000.0 + conn;
        let mut s = String::new();
        s.push_str("delay=");
        fmt_delay(&mut s, total);
        s.push_str(", delays=");
        fmt_delay(&mut s, (t - m_arrival) as f64 / 1000.0);
        s.push('/');
        fmt_delay(&mut s, self.rng.range(0, 3) as f64 / 100.0);
        s.push('/');
        fmt_delay(&mut s, conn * 0.3);
        s.push('/');
        fmt_delay(&mut s, conn * 0.7);
        s
    }

    pub(super) fn record_deferral(
        &mut self,
        serial: u64,
        cause: &'static str,
        reason: &str,
        ri: usize,
    ) {
        self.c.deferral_events += 1;
        let cc = self.c.causes.entry(cause).or_default();
        cc.deferral_events += 1;
        if cc.example.is_none() {
            cc.example = Some(reason.to_string());
        }
        if let Some(m) = self.live.get_mut(&serial) {
            m.deferred_ever = true;
            m.last_cause = Some(cause);
            m.rcpts[ri].last_reason = Some(reason.to_string());
        }
    }

    fn record_bounce(&mut self, cause: &'static str, reason: &str) {
        self.c.bounced += 1;
        let cc = self.c.causes.entry(cause).or_default();
        cc.bounces += 1;
        if cc.example.is_none() {
            cc.example = Some(reason.to_string());
        }
    }

    pub(super) fn deliver(&mut self, serial: u64, t: i64) -> io::Result<()> {
        // Group pending recipients by domain: one connection each.
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        for (i, r) in self.live[&serial].rcpts.iter().enumerate() {
            if r.done {
                continue;
            }
            match groups.iter_mut().find(|g| g.0 == r.dom) {
                Some(g) => g.1.push(i),
                None => groups.push((r.dom, vec![i])),
            }
        }
        for (dom, idx) in groups {
            self.deliver_group(serial, t, dom, &idx)?;
        }
        let m = &self.live[&serial];
        if m.rcpts.iter().all(|r| r.done) {
            self.finish_msg(serial, t)
        } else {
            self.reschedule(serial, t)
        }
    }

    /// One destination's recipients: saved locally, deferred without a
    /// connection (suspended, DNS, port 25, timeout), or answered one by one.
    fn deliver_group(&mut self, serial: u64, t: i64, dom: usize, idx: &[usize]) -> io::Result<()> {
        let d = self.domains[dom].clone();
        let (qid, arrival, sender) = {
            let m = &self.live[&serial];
            (m.qid.clone(), m.arrival, m.sender.clone())
        };
        let relay = format!("{}[{}]:25", d.mx, d.ip);
        let g = Group {
            serial,
            t,
            dom,
            idx,
            d,
            qid,
            arrival,
            sender,
            relay,
        };
        if g.d.provider == Provider::Local {
            return self.deliver_local(&g);
        }
        if self.deliver_suspended(&g)? {
            return Ok(());
        }
        let p = self.pid("postfix/smtp", 0.05);
        if let Some(fail) = self.connection_failure(&g) {
            return self.defer_connection(&g, p, fail);
        }
        self.connected(&g, p)
    }

    /// Our own domains: dovecot's LMTP saves to the mailbox.
    fn deliver_local(&mut self, g: &Group) -> io::Result<()> {
        let (serial, t, qid, arrival) = (g.serial, g.t, &g.qid, g.arrival);
        let p = self.pid("postfix/lmtp", 0.05);
        for &ri in g.idx {
            let addr = self.live[&serial].rcpts[ri].addr.clone();
            let dl = self.delays(t, arrival, 0.03);
            let sess: String = (0..22)
                .map(|_| {
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                        [(self.rng.next_u64() % 62) as usize] as char
                })
                .collect();
            let msgid = self.live[&serial].msgid.clone();
            self.line.clear();
            let _ = write!(
                self.line,
                "lmtp({addr})<{}><{sess}>: msgid={msgid}: saved mail to INBOX",
                self.rng.range(2000, 90_000)
            );
            self.emit(t, "dovecot", 0)?;
            self.line.clear();
            let _ = write!(
                self.line,
                "{qid}: to=<{addr}>, relay={FQDN}[private/dovecot-lmtp], {dl}, dsn=2.0.0, status=sent (250 2.0.0 <{addr}> {sess} Saved)"
            );
            self.emit(t, "postfix/lmtp", p)?;
            self.c.delivered += 1;
            self.live.get_mut(&serial).expect("live").rcpts[ri].done = true;
        }
        Ok(())
    }

    /// A destination Postfix marked dead: no connection, postfix/error.
    /// Returns whether it was (and the recipients are deferred).
    fn deliver_suspended(&mut self, g: &Group) -> io::Result<bool> {
        let (serial, t, qid, arrival) = (g.serial, g.t, &g.qid, g.arrival);
        if let Some((until, reason, cause)) = self.dead_until.get(&g.dom).cloned() {
            if t < until {
                let p = self.pid("postfix/error", 0.1);
                let reason = format!("delivery temporarily suspended: {reason}");
                for &ri in g.idx {
                    let addr = self.live[&serial].rcpts[ri].addr.clone();
                    let dl = self.delays(t, arrival, 0.0);
                    self.line.clear();
                    let _ = write!(
                        self.line,
                        "{qid}: to=<{addr}>, relay=none, {dl}, dsn=4.4.1, status=deferred ({reason})"
                    );
                    self.emit(t, "postfix/error", p)?;
                    self.record_deferral(serial, cause, &reason, ri);
                    self.listing_hit(cause, &reason, t, false);
                }
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Why no connection is made, if none is: (reason, cause, dsn).
    fn connection_failure(&mut self, g: &Group) -> Option<(String, &'static str, &'static str)> {
        let (t, d) = (g.t, &g.d);
        let s = &self.story;
        let port25 = t >= s.port25.0 && t < s.port25.1;
        let dns = t >= s.dns_down.0 && t < s.dns_down.1;
        if dns {
            Some((
                format!(
                    "Host or domain name not found. Name service error for name={} type=MX: Host not found, try again",
                    d.name
                ),
                "dns_failure",
                "4.4.3",
            ))
        } else if port25 || d.dead {
            Some((
                format!("connect to {}[{}]:25: Connection timed out", d.mx, d.ip),
                if port25 {
                    "port25_blocked"
                } else {
                    "remote_unavailable"
                },
                "4.4.1",
            ))
        } else if self.rng.chance(0.002) {
            Some((
                format!(
                    "lost connection with {}[{}] while receiving the initial server greeting",
                    d.mx, d.ip
                ),
                "remote_unavailable",
                "4.4.2",
            ))
        } else {
            None
        }
    }

    /// No connection: every recipient deferred; a timeout also marks the
    /// destination dead for five minutes.
    fn defer_connection(
        &mut self,
        g: &Group,
        p: u32,
        (reason, cause, dsn): (String, &'static str, &'static str),
    ) -> io::Result<()> {
        let (serial, t, qid, arrival, relay) = (g.serial, g.t, &g.qid, g.arrival, &g.relay);
        let relay_kv = if dsn == "4.4.2" {
            relay.clone()
        } else {
            "none".to_string()
        };
        if dsn == "4.4.1" {
            self.line.clear();
            self.line.push_str(&reason);
            self.emit(t, "postfix/smtp", p)?;
            self.dead_until
                .insert(g.dom, (t + 5 * MIN, reason.clone(), cause));
        }
        for &ri in g.idx {
            let addr = self.live[&serial].rcpts[ri].addr.clone();
            let dl = self.delays(t, arrival, if dsn == "4.4.1" { 30.0 } else { 0.0 });
            self.line.clear();
            let _ = write!(
                self.line,
                "{qid}: to=<{addr}>, relay={relay_kv}, {dl}, dsn={dsn}, status=deferred ({reason})"
            );
            self.emit(t, "postfix/smtp", p)?;
            self.record_deferral(serial, cause, &reason, ri);
        }
        Ok(())
    }

    /// Connected: TLS, then a refusal at the greeting or each recipient's
    /// answer.
    fn connected(&mut self, g: &Group, p: u32) -> io::Result<()> {
        let (t, d, relay) = (g.t, &g.d, &g.relay);
        if matches!(
            d.provider,
            Provider::Gmail | Provider::Microsoft | Provider::Yahoo
        ) || self.rng.chance(0.3)
        {
            self.line.clear();
            let _ = write!(
                self.line,
                "Trusted TLS connection established to {relay}: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (P-256) server-digest SHA256"
            );
            self.emit(t, "postfix/smtp", p)?;
        }
        let listed = d.listing.filter(|&l| self.story.listing_active(l, t));
        // Barracuda refuses in the greeting: a connection-level deferral.
        if listed == Some(Listing::Barracuda) {
            return self.refused_at_greeting(g, p);
        }
        for &ri in g.idx {
            self.deliver_rcpt(g, p, ri, listed)?;
        }
        Ok(())
    }

    fn refused_at_greeting(&mut self, g: &Group, p: u32) -> io::Result<()> {
        let (serial, t, d, qid, arrival, relay) =
            (g.serial, g.t, &g.d, &g.qid, g.arrival, &g.relay);
        let reason = format!(
            "host {}[{}] refused to talk to me: 554 5.7.1 Service unavailable; Client host [{OUR_IP}] blocked using b.barracudacentral.org; http://www.barracudanetworks.com/reputation/?pr=1&ip={OUR_IP}",
            d.mx, d.ip
        );
        self.dead_until
            .insert(g.dom, (t + 4 * MIN, reason.clone(), "blacklisted"));
        for &ri in g.idx {
            let addr = self.live[&serial].rcpts[ri].addr.clone();
            let dl = self.delays(t, arrival, 0.4);
            self.line.clear();
            let _ = write!(
                self.line,
                "{qid}: to=<{addr}>, relay={relay}, {dl}, dsn=4.7.1, status=deferred ({reason})"
            );
            self.emit(t, "postfix/smtp", p)?;
            self.record_deferral(serial, "blacklisted", &reason, ri);
            self.listing_hit("blacklisted", &reason, t, false);
        }
        Ok(())
    }

    /// One recipient's answer, its log line, and what it does to the
    /// message and the counts.
    fn deliver_rcpt(
        &mut self,
        g: &Group,
        p: u32,
        ri: usize,
        listed: Option<Listing>,
    ) -> io::Result<()> {
        let (serial, t, qid, arrival, relay) = (g.serial, g.t, &g.qid, g.arrival, &g.relay);
        let (addr, unknown, full) = {
            let r = &self.live[&serial].rcpts[ri];
            (r.addr.clone(), r.unknown, r.full)
        };
        let attempts = self.live[&serial].attempts;
        let (dsn, kind, text, cause) = self.reply(g, &addr, unknown, full, attempts, listed);
        let conn = 0.2 + self.rng.f64() * 1.2;
        let dl = self.delays(t, arrival, conn);
        let status = match kind {
            0 => "sent",
            1 => "deferred",
            _ => "bounced",
        };
        self.line.clear();
        let _ = write!(
            self.line,
            "{qid}: to=<{addr}>, relay={relay}, {dl}, dsn={dsn}, status={status} ({text})"
        );
        self.emit(t, "postfix/smtp", p)?;
        match kind {
            0 => {
                self.c.delivered += 1;
                self.live.get_mut(&serial).expect("live").rcpts[ri].done = true;
            }
            1 => {
                self.record_deferral(serial, cause, &text, ri);
                self.listing_hit_l(listed, t, false);
            }
            _ => {
                self.record_bounce(cause, &text);
                self.listing_hit_l(listed, t, true);
                let m = self.live.get_mut(&serial).expect("live");
                m.rcpts[ri].done = true;
                m.rcpts[ri].bounced = true;
                m.rcpts[ri].last_reason = Some(text);
                m.last_cause = Some(cause);
            }
        }
        Ok(())
    }

    fn listing_hit_l(&mut self, l: Option<Listing>, t: i64, bounce: bool) {
        if let Some(l) = l {
            let e = self.c.listing_seen.entry(l.list()).or_insert((t, t, 0, 0));
            e.1 = t;
            if bounce {
                e.3 += 1;
            } else {
                e.2 += 1;
            }
        }
    }

    /// A suspended-destination deferral that repeats a listing's text.
    fn listing_hit(&mut self, cause: &str, reason: &str, t: i64, bounce: bool) {
        if cause == "blacklisted" && reason.contains("barracudacentral") {
            self.listing_hit_l(Some(Listing::Barracuda), t, bounce);
        }
    }
}
