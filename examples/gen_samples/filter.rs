//! The content filter: each attempt's first hop, amavis on
//! 127.0.0.1:10024, which re-injects clean mail, blocks some inbound spam,
//! and is down for a while.

use std::fmt::Write as _;
use std::io;

use super::clock::{DAY, MIN};
use super::queue::{Ev, Origin, Stage};
use super::world::{FILTER_RELAY, FQDN};
use super::Sim;

impl Sim {
    pub(super) fn attempt(&mut self, serial: u64, t: i64) -> io::Result<()> {
        let Some(m) = self.live.get(&serial) else {
            return Ok(());
        };
        if m.held {
            return Ok(());
        }
        // Expiry: queue lifetime 5 days.
        if m.attempts > 0 && t - m.arrival > 5 * DAY {
            return self.expire(serial, t);
        }
        match m.stage {
            Stage::PreFilter => self.hand_to_filter(serial, t),
            Stage::Deliver => self.deliver(serial, t),
        }
    }

    fn filter_down(&self, t: i64) -> bool {
        t >= self.story.filter_down.0 && t < self.story.filter_down.1
    }

    fn hand_to_filter(&mut self, serial: u64, t: i64) -> io::Result<()> {
        let p = self.pid("postfix/smtp", 0.05);
        if self.filter_down(t) {
            self.line.clear();
            self.line
                .push_str("connect to 127.0.0.1[127.0.0.1]:10024: Connection refused");
            self.emit(t, "postfix/smtp", p)?;
            let reason = "connect to 127.0.0.1[127.0.0.1]:10024: Connection refused";
            let n = self.live[&serial].rcpts.len();
            let (qid, arrival) = (self.live[&serial].qid.clone(), self.live[&serial].arrival);
            for ri in 0..n {
                let d = self.delays(t, arrival, 0.0);
                let addr = self.live[&serial].rcpts[ri].addr.clone();
                self.line.clear();
                let _ = write!(
                    self.line,
                    "{qid}: to=<{addr}>, relay=none, {d}, dsn=4.4.1, status=deferred ({reason})"
                );
                self.emit(t, "postfix/smtp", p)?;
                self.record_deferral(serial, "content_filter_down", reason, ri);
            }
            return self.reschedule(serial, t);
        }
        // Some inbound mail is spam amavis blocks: dropped or quarantined.
        if matches!(self.live[&serial].origin, Origin::Inbound) && self.filter_rng.chance(0.12) {
            return self.filter_blocks(serial, t, p);
        }
        // Amavis re-injects first, then answers: the new queue file's lines
        // come before the hand-off's status=sent.
        let new = self.new_qid(t);
        let lp = self.pid("postfix/smtpd#local", 0.02);
        let (old, n, sender, origin, spam) = {
            let m = &self.live[&serial];
            (
                m.qid.clone(),
                m.rcpts.len(),
                m.sender.clone(),
                m.origin,
                m.spam,
            )
        };
        self.line.clear();
        self.line.push_str("connect from localhost[127.0.0.1]");
        self.emit(t, "postfix/smtpd", lp)?;
        self.line.clear();
        let _ = write!(self.line, "{new}: client=localhost[127.0.0.1]");
        self.emit(t, "postfix/smtpd", lp)?;
        {
            let grow = self.rng.range(180, 260);
            let m = self.live.get_mut(&serial).expect("live");
            m.qid = new.clone();
            m.stage = Stage::Deliver;
            m.queued = t;
            m.size += grow;
            m.attempts = 0;
        }
        self.enqueue_lines(t, serial)?;
        let outbound = !matches!(origin, Origin::Inbound);
        if outbound {
            let dp = self.pid("opendkim", 0.0);
            self.line.clear();
            let _ = write!(
                self.line,
                "{new}: DKIM-Signature field added (s=default, d={})",
                sender.rsplit('@').next().unwrap_or(FQDN)
            );
            self.emit(t, "opendkim", dp)?;
        }
        self.line.clear();
        let _ = write!(
            self.line,
            "disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt={n} data=1 quit=1 commands={}",
            n + 4
        );
        self.emit(t, "postfix/smtpd", lp)?;
        let ap = self.pid("amavis", 0.02);
        let first_rcpt = self.live[&serial].rcpts[0].addr.clone();
        let mail_id: String = (0..12)
            .map(|_| (b'a' + (self.rng.next_u64() % 26) as u8) as char)
            .collect();
        let msgid = self.live[&serial].msgid.clone();
        let size = self.live[&serial].size;
        self.line.clear();
        let _ = write!(
            self.line,
            "({ap}-{:02}) Passed {} {} <{sender}> -> <{first_rcpt}>{}, Queue-ID: {old}, Message-ID: {msgid}, mail_id: {mail_id}, Hits: {:.3}, size: {size}, queued_as: {new}, {} ms",
            self.rng.range(1, 99),
            if spam && self.rng.chance(0.3) { "SPAMMY" } else { "CLEAN" },
            if outbound { "{RelayedOutbound}, ORIGINATING LOCAL [127.0.0.1]:41234" } else { "{RelayedInbound}, [127.0.0.1]:41234" },
            if n > 1 { ",..." } else { "" },
            if spam { 4.0 + self.rng.f64() * 1.5 } else { -1.0 + self.rng.f64() * 2.0 },
            self.rng.range(90, 900)
        );
        self.emit(t, "amavis", ap)?;
        let arrival = self.live[&serial].arrival;
        for ri in 0..n {
            let d = self.delays(t, arrival, 0.02);
            let addr = self.live[&serial].rcpts[ri].addr.clone();
            self.line.clear();
            let _ = write!(
                self.line,
                "{old}: to=<{addr}>, {FILTER_RELAY}, {d}, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as {new})"
            );
            self.emit(t, "postfix/smtp", p)?;
        }
        let qp = self.pid("postfix/qmgr", 0.0);
        self.line.clear();
        let _ = write!(self.line, "{old}: removed");
        self.emit(t, "postfix/qmgr", qp)?;
        self.retire_qid(t, &old);
        let d = self.rng.range(10, 1500) as i64;
        self.schedule(t + d, Ev::Attempt(serial));
        Ok(())
    }

    /// Amavis blocks the message as spam: it answers `discarded`, keeps a
    /// copy in quarantine half the time, and nothing is re-injected.
    fn filter_blocks(&mut self, serial: u64, t: i64, p: u32) -> io::Result<()> {
        let quarantine = self.filter_rng.chance(0.5);
        let ap = self.pid("amavis", 0.02);
        let m = self.live[&serial].clone();
        let id = format!("{ap:05}-{:02}", self.filter_rng.range(1, 99));
        let mail_id: String = (0..12)
            .map(|_| (b'a' + (self.filter_rng.next_u64() % 26) as u8) as char)
            .collect();
        self.line.clear();
        let _ = write!(
            self.line,
            "({id}) Blocked SPAM {{DiscardedInbound{}}}, [127.0.0.1]:41234 <{}> -> <{}>{}, {}Queue-ID: {}, Message-ID: {}, mail_id: {mail_id}, Hits: {:.3}, size: {}, {} ms",
            if quarantine { ",Quarantined" } else { "" },
            m.sender,
            m.rcpts[0].addr,
            if m.rcpts.len() > 1 { ",..." } else { "" },
            if quarantine {
                format!("quarantine: spam-{mail_id}, ")
            } else {
                String::new()
            },
            m.qid,
            m.msgid,
            8.0 + self.filter_rng.f64() * 20.0,
            m.size,
            self.filter_rng.range(200, 2500)
        );
        self.emit(t, "amavis", ap)?;
        for r in &m.rcpts {
            let d = self.delays(t, m.arrival, 0.02);
            self.line.clear();
            let _ = write!(
                self.line,
                "{}: to=<{}>, {FILTER_RELAY}, {d}, dsn=2.7.0, status=sent (250 2.7.0 Ok, discarded, id={id} - spam)",
                m.qid, r.addr
            );
            self.emit(t, "postfix/smtp", p)?;
            if quarantine {
                self.c.quarantined += 1;
            } else {
                self.c.discarded += 1;
            }
        }
        let qp = self.pid("postfix/qmgr", 0.0);
        self.line.clear();
        let _ = write!(self.line, "{}: removed", m.qid);
        self.emit(t, "postfix/qmgr", qp)?;
        self.retire_qid(t, &m.qid);
        self.live.remove(&serial);
        // It may have waited for the filter before: it was deferred then.
        if m.deferred_ever {
            self.c.deferred_messages += 1;
        }
        Ok(())
    }

    pub(super) fn filter_back(&mut self, t: i64) -> io::Result<()> {
        let p = {
            self.pids.next += 11;
            self.pids.next
        };
        self.line.clear();
        self.line.push_str(
            "starting. /usr/sbin/amavisd-new at mx1.hosting-example.net amavisd-new-2.13.0 (20230106), Unicode aware, LC_CTYPE=\"C.UTF-8\"",
        );
        self.emit(t, "amavis", p)?;
        self.pids.cur.remove("amavis");
        // The admin flushes the queue (postqueue -f) once amavis is back.
        let pending: Vec<u64> = self
            .live
            .iter()
            .filter(|(_, m)| m.stage == Stage::PreFilter && !m.held)
            .map(|(s, _)| *s)
            .collect();
        let flush_at = t + 2 * MIN;
        for (i, s) in pending.into_iter().enumerate() {
            self.schedule(flush_at + (i as i64 % 120) * 500, Ev::Attempt(s));
        }
        Ok(())
    }
}
