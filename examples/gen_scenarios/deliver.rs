//! Delivery attempts: the hand-off to the content filter and its
//! re-injection, local delivery, remote delivery with each receiver's
//! reply, retries, bounces to the sender, expiry.

use super::clock::{delay, MIN, SEC};
use super::plan::Listing;
use super::replies::{self, ListId, NoiseKind, Provider, Reply};
use super::sim::{Msg, Sim};
use super::tally::Class;
use super::world::Person;

const FILTER_RELAY: &str = "relay=127.0.0.1[127.0.0.1]:10024";

/// One delivery connection: the program, its pid, the relay field, the
/// seconds spent, and the receiver the truth files the reply under.
struct Conn {
    prog: &'static str,
    pid: u32,
    relay: String,
    secs: f64,
    receiver: String,
}

impl Sim {
    pub fn attempt(&mut self, serial: u64, t: i64) {
        let Some(m) = self.live.get(&serial) else {
            return;
        };
        if m.held {
            return;
        }
        if m.attempts > 0 && t - m.queued > self.plan.lifetime {
            return self.expire(serial, t);
        }
        if m.filter {
            self.hand_off(serial, t)
        } else {
            self.deliver(serial, t)
        }
    }

    /// `delay=..., delays=a/b/c/d` of a delivery at `t`.
    fn delays(&mut self, t: i64, queued: i64, conn: f64) -> String {
        let wait = (t - queued) as f64 / 1000.0;
        let mgr = self.rng.range(0, 3) as f64 / 100.0;
        format!(
            "delay={}, delays={}/{}/{}/{}",
            delay(wait + mgr + conn),
            delay(wait),
            delay(mgr),
            delay(conn * 0.3),
            delay(conn * 0.7)
        )
    }

    /// Amavis takes the message on 10024 and re-injects it on 10025 under a
    /// new queue id, which is logged before the hand-off's `status=sent`.
    fn hand_off(&mut self, serial: u64, t: i64) {
        let new = self.new_qid();
        let (old, sender, msgid, size, n, queued) = {
            let m = &self.live[&serial];
            (
                m.qid.clone(),
                m.sender.clone(),
                m.msgid.clone(),
                m.size,
                m.rcpts.len(),
                m.queued,
            )
        };
        let lp = self.pid("postfix/smtpd", 0.02);
        self.emit(t, "postfix/smtpd", lp, "connect from localhost[127.0.0.1]");
        self.emit(
            t,
            "postfix/smtpd",
            lp,
            &format!("{new}: client=localhost[127.0.0.1]"),
        );
        let size2 = size + self.rng.range(180, 260);
        self.queue_lines(t, &new, &msgid, &sender, size2, n);
        let text = format!(
            "disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt={n} data=1 quit=1 commands={}",
            n + 4
        );
        self.emit(t, "postfix/smtpd", lp, &text);
        let ap = self.pid("amavis", 0.02);
        let (spam, first) = {
            let m = &self.live[&serial];
            (m.spam, m.rcpts[0].p.addr.clone())
        };
        let text = format!(
            "({ap}-{:02}) Passed {}, ORIGINATING LOCAL [127.0.0.1]:{} <{sender}> -> <{first}>{}, Queue-ID: {old}, Message-ID: {msgid}, mail_id: {}, Hits: {:.3}, size: {size}, queued_as: {new}, {} ms",
            self.rng.range(1, 99),
            if spam && self.rng.chance(0.3) { "SPAMMY" } else { "CLEAN {RelayedOutbound}" },
            self.rng.range(30_000, 60_000),
            if n > 1 { ",..." } else { "" },
            self.rng.word(b"abcdefghijklmnopqrstuvwxyz0123456789", 12),
            if spam { 4.0 + self.rng.f64() * 1.5 } else { -1.0 + self.rng.f64() * 2.0 },
            self.rng.range(90, 900)
        );
        self.emit(t, "amavis", ap, &text);
        let sp = self.pid("postfix/smtp", 0.05);
        for ri in 0..n {
            let d = self.delays(t, queued, 0.02);
            let addr = self.live[&serial].rcpts[ri].p.addr.clone();
            let text = format!("{old}: to=<{addr}>, {FILTER_RELAY}, {d}, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as {new})");
            self.emit(t, "postfix/smtp", sp, &text);
        }
        let qp = self.pid("postfix/qmgr", 0.0);
        self.emit(t, "postfix/qmgr", qp, &format!("{old}: removed"));
        self.retire_qid(&old);
        let m = self.live.get_mut(&serial).expect("live");
        m.qid = new;
        m.filter = false;
        m.queued = t;
        m.size = size2;
        let d = self.rng.between(100, 2 * SEC);
        self.schedule_attempt(t + d, serial);
    }

    fn deliver(&mut self, serial: u64, t: i64) {
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        for (i, r) in self.live[&serial].rcpts.iter().enumerate() {
            if r.done {
                continue;
            }
            match groups.iter_mut().find(|g| g.0 == r.p.dom) {
                Some(g) => g.1.push(i),
                None => groups.push((r.p.dom, vec![i])),
            }
        }
        for (dom, idx) in groups {
            self.deliver_group(serial, t, dom, &idx);
        }
        if self.live[&serial].rcpts.iter().all(|r| r.done) {
            self.finish(serial, t);
        } else {
            let m = self.live.get_mut(&serial).expect("live");
            m.attempts += 1;
            let a = m.attempts;
            let b = self.backoff(a);
            self.schedule_attempt(t + b, serial);
        }
    }

    /// Writes one recipient's delivery line over connection `c` and records it.
    fn outcome(&mut self, serial: u64, ri: usize, t: i64, c: &Conn, reply: &Reply, class: Class) {
        let status = if reply.dsn.starts_with('2') {
            "sent"
        } else if reply.bounce {
            "bounced"
        } else {
            "deferred"
        };
        let (qid, queued, addr, spam) = {
            let m = &self.live[&serial];
            (m.qid.clone(), m.queued, m.rcpts[ri].p.addr.clone(), m.spam)
        };
        let d = self.delays(t, queued, c.secs);
        let text = format!(
            "{qid}: to=<{addr}>, relay={}, {d}, dsn={}, status={status} ({})",
            c.relay, reply.dsn, reply.text
        );
        let visible = self.emit(t, c.prog, c.pid, &text);
        if visible {
            self.tally.delivery(t, status, class, &c.receiver, spam);
        }
        let dom = self.live[&serial].rcpts[ri].p.dom;
        if let (true, "sent", Some(l)) = (visible, status, self.w.domains[dom].list) {
            if self
                .plan
                .listing_of(l)
                .and_then(|x| x.end)
                .is_some_and(|e| t >= e)
            {
                self.tally.accepted_after(l, t);
            }
        }
        let m = self.live.get_mut(&serial).expect("live");
        let r = &mut m.rcpts[ri];
        match status {
            "sent" => r.done = true,
            "bounced" => {
                r.done = true;
                r.bounced = true;
            }
            _ => {
                r.reason = Some(reply.text.clone());
                if visible {
                    m.deferred_seen = true;
                }
            }
        }
    }

    /// The same reply for every recipient of a group (a connection-level failure).
    fn all(&mut self, serial: u64, t: i64, idx: &[usize], c: &Conn, reply: &Reply, class: Class) {
        for &ri in idx {
            self.outcome(serial, ri, t, c, reply, class);
        }
    }

    fn deliver_local(&mut self, serial: u64, t: i64, idx: &[usize]) {
        let lmtp = self.w.lmtp;
        let prog = if lmtp {
            "postfix/lmtp"
        } else {
            "postfix/virtual"
        };
        let p = self.pid(prog, 0.05);
        for &ri in idx {
            let addr = self.live[&serial].rcpts[ri].p.addr.clone();
            let (relay, text) = if lmtp {
                let sess = self.rng.word(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                    22,
                );
                let msgid = self.live[&serial].msgid.clone();
                let dl = format!(
                    "lmtp({addr})<{}><{sess}>: msgid={msgid}: saved mail to INBOX",
                    self.rng.range(2000, 90_000)
                );
                self.emit(t, "dovecot", 0, &dl);
                (
                    format!("{}[private/dovecot-lmtp]", self.w.fqdn),
                    format!("250 2.0.0 <{addr}> {sess} Saved"),
                )
            } else {
                ("virtual".to_string(), "delivered to maildir".to_string())
            };
            let reply = Reply {
                dsn: "2.0.0",
                bounce: false,
                text,
            };
            let c = Conn {
                prog,
                pid: p,
                relay,
                secs: 0.01,
                receiver: "local".into(),
            };
            self.outcome(serial, ri, t, &c, &reply, Class::Other);
        }
    }

    /// The listing that refuses mail to `dom` at `t`, if any.
    fn listed(&self, dom: usize, t: i64) -> Option<(Listing, bool)> {
        let l = self.w.domains[dom].list?;
        let x = self.plan.listing_of(l)?;
        let on = t >= x.start && x.end.is_none_or(|e| t < e);
        on.then(|| (x.clone(), x.escalate.is_some_and(|e| t >= e)))
    }

    /// Noise that hits mail to `dom` (and `addr`) at `t`.
    fn noise_at(&self, dom: usize, addr: &str, t: i64) -> Option<NoiseKind> {
        self.plan
            .noise
            .iter()
            .find(|n| {
                n.dom == dom
                    && t >= n.start
                    && t < n.end
                    && n.kind != NoiseKind::Greylisting
                    && (n.targets.is_empty() || n.targets.iter().any(|p| p.addr == addr))
            })
            .map(|n| n.kind)
    }

    /// A refusal in the greeting: Barracuda's listing, or too many
    /// connections. Postfix then holds the destination back a while.
    fn greeting(
        &mut self,
        dom: usize,
        t: i64,
        first: &str,
        listed: Option<&(Listing, bool)>,
    ) -> Option<(Reply, Class)> {
        let d = &self.w.domains[dom];
        let host = d.host();
        match (listed, self.noise_at(dom, first, t)) {
            (Some((l, _)), _) if l.list == ListId::Barracuda => {
                let class = Class::Listing(ListId::Barracuda, false);
                let r = if d.appliance {
                    replies::barracuda_appliance(&host, &self.w.ip)
                } else {
                    replies::listing(
                        &mut self.rng,
                        ListId::Barracuda,
                        &host,
                        &self.w.ip,
                        t,
                        false,
                    )
                };
                let until = t + self.rng.between(2 * MIN, 5 * MIN);
                self.suspended.insert(dom, (until, r.text.clone(), class));
                Some((r, class))
            }
            (None, Some(NoiseKind::Concurrency)) => {
                let name = d.name.clone();
                let r = replies::noise(
                    &mut self.rng,
                    NoiseKind::Concurrency,
                    &host,
                    first,
                    &self.w.ip,
                    &name,
                    t,
                );
                Some((r, Class::Noise(NoiseKind::Concurrency)))
            }
            _ => None,
        }
    }

    fn deliver_group(&mut self, serial: u64, t: i64, dom: usize, idx: &[usize]) {
        let d = self.w.domains[dom].clone();
        if d.local() {
            return self.deliver_local(serial, t, idx);
        }
        let host = d.host();
        if let Some((until, reason, class)) = self.suspended.get(&dom).cloned() {
            if t < until {
                let pid = self.pid("postfix/error", 0.3);
                let c = Conn {
                    prog: "postfix/error",
                    pid,
                    relay: "none".into(),
                    secs: 0.0,
                    receiver: d.mx.clone(),
                };
                let text = format!("delivery temporarily suspended: {reason}");
                let reply = Reply {
                    dsn: "4.4.1",
                    bounce: false,
                    text,
                };
                return self.all(serial, t, idx, &c, &reply, class);
            }
        }
        let pid = self.pid("postfix/smtp", 0.05);
        let mut c = Conn {
            prog: "postfix/smtp",
            pid,
            relay: "none".into(),
            secs: 30.0,
            receiver: d.mx.clone(),
        };
        if d.dead {
            let reason = format!("connect to {host}:25: Connection timed out");
            self.emit(t, "postfix/smtp", pid, &reason);
            self.suspended
                .insert(dom, (t + 5 * MIN, reason.clone(), Class::Other));
            let reply = Reply {
                dsn: "4.4.1",
                bounce: false,
                text: reason,
            };
            return self.all(serial, t, idx, &c, &reply, Class::Other);
        }
        c.relay = format!("{host}:25");
        c.secs = 0.3;
        let listed = self.listed(dom, t);
        let first = self.live[&serial].rcpts[idx[0]].p.addr.clone();
        if let Some((reply, class)) = self.greeting(dom, t, &first, listed.as_ref()) {
            return self.all(serial, t, idx, &c, &reply, class);
        }
        if matches!(
            d.provider,
            Provider::Gmail | Provider::Microsoft | Provider::Yahoo
        ) || self.rng.chance(0.3)
        {
            let text = format!("Trusted TLS connection established to {}: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (P-256) server-digest SHA256", c.relay);
            self.emit(t, "postfix/smtp", pid, &text);
        }
        for &ri in idx {
            let person = self.live[&serial].rcpts[ri].p.clone();
            let (reply, class) = self.reply(serial, t, &person, listed.as_ref());
            c.secs = 0.2 + self.rng.f64() * 1.2;
            self.outcome(serial, ri, t, &c, &reply, class);
        }
    }

    /// A connected receiver's reply to one recipient.
    fn reply(
        &mut self,
        serial: u64,
        t: i64,
        to: &Person,
        listed: Option<&(Listing, bool)>,
    ) -> (Reply, Class) {
        let d = &self.w.domains[to.dom];
        let host = d.host();
        if let Some((l, escalated)) = listed {
            let r = replies::listing(&mut self.rng, l.list, &host, &self.w.ip, t, *escalated);
            return (r, Class::Listing(l.list, *escalated));
        }
        if let Some(k) = self.noise_at(to.dom, &to.addr, t) {
            let r = replies::noise(&mut self.rng, k, &host, &to.addr, &self.w.ip, &d.name, t);
            return (r, Class::Noise(k));
        }
        if to.unknown {
            let r = replies::unknown_user(&mut self.rng, d.provider, &host, &to.addr, &d.name);
            return (r, Class::Unknown);
        }
        if d.greylist {
            let key = (self.live[&serial].sender.clone(), to.addr.clone());
            let seen = *self.grey.entry(key).or_insert(t);
            if t - seen < 5 * MIN {
                let r = replies::noise(
                    &mut self.rng,
                    NoiseKind::Greylisting,
                    &host,
                    &to.addr,
                    &self.w.ip,
                    &d.name,
                    t,
                );
                return (r, Class::Noise(NoiseKind::Greylisting));
            }
        }
        let (msgid, size, p) = {
            let m = &self.live[&serial];
            (m.msgid.clone(), m.size, d.provider)
        };
        let text = replies::accepted(&mut self.rng, p, t, &msgid, size);
        (
            Reply {
                dsn: "2.0.0",
                bounce: false,
                text,
            },
            Class::Other,
        )
    }

    /// Every recipient is done: a notice to the sender if any bounced, then
    /// the queue file goes.
    fn finish(&mut self, serial: u64, t: i64) {
        let m = self.live.remove(&serial).expect("live");
        if m.rcpts.iter().any(|r| r.bounced) && !m.sender.is_empty() {
            self.notify(&m, t);
        }
        let qp = self.pid("postfix/qmgr", 0.0);
        let removed = self.emit(t, "postfix/qmgr", qp, &format!("{}: removed", m.qid));
        if m.deferred_seen && removed {
            self.tally.totals.deferred_messages += 1;
        }
        self.retire_qid(&m.qid);
    }

    /// The bounce daemon's non-delivery notice to the sender.
    fn notify(&mut self, m: &Msg, t: i64) {
        let Some(dom) = self.w.dom_of(&m.sender) else {
            return;
        };
        let nq = self.new_qid();
        let msgid = format!("<{}.{nq}@{}>", super::clock::compact(t), self.w.fqdn);
        let size = 2400 + m.size.min(8000) / 4;
        self.queue_lines(t, &nq, &msgid, "", size, 1);
        let bp = self.pid("postfix/bounce", 0.3);
        self.emit(
            t,
            "postfix/bounce",
            bp,
            &format!("{}: sender non-delivery notification: {nq}", m.qid),
        );
        let serial = self.next_serial();
        let notice = Msg {
            qid: nq,
            filter: false,
            sender: String::new(),
            identity: "local:MAILER-DAEMON".into(),
            spam: false,
            client_ip: String::new(),
            why: format!("legit: bounce notice to {}", m.sender),
            rcpts: vec![super::sim::Rcpt {
                p: Person {
                    addr: m.sender.clone(),
                    dom,
                    unknown: false,
                },
                done: false,
                bounced: false,
                reason: None,
            }],
            arrival: t,
            queued: t,
            size,
            msgid,
            attempts: 0,
            deferred_seen: false,
            held: false,
            source: None,
        };
        self.live.insert(serial, notice);
        let d = self.rng.between(10, 900);
        self.schedule_attempt(t + d, serial);
    }

    fn expire(&mut self, serial: u64, t: i64) {
        let mut m = self.live.remove(&serial).expect("live");
        let qp = self.pid("postfix/qmgr", 0.0);
        let text = format!(
            "{}: from=<{}>, status=expired, returned to sender",
            m.qid, m.sender
        );
        if self.emit(t, "postfix/qmgr", qp, &text) {
            self.tally.totals.expired += 1;
        }
        for r in m.rcpts.iter_mut().filter(|r| !r.done) {
            r.done = true;
            r.bounced = true;
        }
        if !m.sender.is_empty() {
            self.notify(&m, t);
        }
        let removed = self.emit(t, "postfix/qmgr", qp, &format!("{}: removed", m.qid));
        if m.deferred_seen && removed {
            self.tally.totals.deferred_messages += 1;
        }
        self.retire_qid(&m.qid);
    }
}
