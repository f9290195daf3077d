//! Queue state: messages and their recipients, queue ids, scheduled
//! events, and what happens to a queue file after its attempts (backoff,
//! removal, bounce notices, expiry, hold).

use std::fmt::Write as _;
use std::io;

use super::clock::{iso, DAY, SEC};
use super::world::{Contact, FQDN};
use super::Sim;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)] // the user index documents who sent; only equality is read
pub(super) enum Origin {
    Sasl(usize),
    Sales,
    Mike,
    Uid(u32),
    Inbound,
    Bounce,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    /// Waiting for the hand-off to the content filter.
    PreFilter,
    /// Re-queued by the filter (or a bounce): real delivery.
    Deliver,
}

#[derive(Debug, Clone)]
pub(super) struct Rcpt {
    pub(super) addr: String,
    pub(super) dom: usize,
    pub(super) unknown: bool,
    pub(super) full: bool,
    pub(super) done: bool,
    pub(super) bounced: bool,
    pub(super) last_reason: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct Msg {
    pub(super) qid: String,
    pub(super) stage: Stage,
    pub(super) sender: String,
    pub(super) origin: Origin,
    pub(super) rcpts: Vec<Rcpt>,
    /// When the message first entered the queue (delay= counts from here).
    pub(super) arrival: i64,
    /// When the current queue file was made (postqueue's arrival time).
    pub(super) queued: i64,
    pub(super) size: u64,
    pub(super) msgid: String,
    pub(super) attempts: u32,
    pub(super) deferred_ever: bool,
    pub(super) held: bool,
    pub(super) spam: bool,
    pub(super) last_cause: Option<&'static str>,
}

#[derive(Debug)]
pub(super) enum Ev {
    Source(usize),
    Attempt(u64),
    Hold,
    FilterBack,
    /// Hourly cron (false) or cron.daily, which runs logrotate (true).
    Cron(bool),
    /// A line written later, e.g. a dovecot logout.
    Line(&'static str, String),
}

pub(super) struct Sched {
    pub(super) t: i64,
    pub(super) seq: u64,
    pub(super) ev: Ev,
}
impl PartialEq for Sched {
    fn eq(&self, o: &Self) -> bool {
        (self.t, self.seq) == (o.t, o.seq)
    }
}
impl Eq for Sched {}
impl PartialOrd for Sched {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Sched {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        // Min-heap on (time, sequence).
        (o.t, o.seq).cmp(&(self.t, self.seq))
    }
}

impl Sim {
    pub(super) fn new_qid(&mut self, t: i64) -> String {
        // Postfix reuses short ids: the inode comes back, and so can the
        // microseconds. Reuse one retired days ago now and then.
        if self.rng.chance(0.003) {
            if let Some((rt, q)) = self.retired.front().cloned() {
                if t - rt > 2 * DAY && !self.live_qids.contains(&q) {
                    self.retired.pop_front();
                    self.live_qids.insert(q.clone());
                    return q;
                }
            }
        }
        loop {
            let usec = self.rng.range(0, 999_999);
            let inode = 0xD0500 + self.rng.range(0, 0x2FF);
            let q = format!("{usec:05X}{inode:05X}");
            if self.live_qids.insert(q.clone()) {
                return q;
            }
        }
    }

    pub(super) fn retire_qid(&mut self, t: i64, q: &str) {
        self.live_qids.remove(q);
        if self.rng.chance(0.05) {
            self.retired.push_back((t, q.to_string()));
            if self.retired.len() > 20_000 {
                self.retired.pop_front();
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn make_msg(
        &mut self,
        t: i64,
        qid: String,
        sender: &str,
        origin: Origin,
        rc: Vec<Contact>,
        spam: bool,
        size: u64,
        stage: Stage,
    ) -> u64 {
        let serial = self.next_serial;
        self.next_serial += 1;
        // Postfix makes the Message-Id of what it creates itself (pickup,
        // bounces); mail clients make their own.
        let stamp = iso(t).replace(['-', 'T', ':'], "");
        let msgid = match origin {
            Origin::Bounce | Origin::Uid(_) => format!("<{stamp}.{qid}@{FQDN}>"),
            _ => format!(
                "<{stamp}.{:08}@{}>",
                self.rng.range(0, 99_999_999),
                sender.rsplit('@').next().unwrap_or(FQDN)
            ),
        };
        let m = Msg {
            qid,
            stage,
            sender: sender.to_string(),
            origin,
            rcpts: rc
                .into_iter()
                .map(|c| Rcpt {
                    addr: c.addr,
                    dom: c.dom,
                    unknown: c.unknown,
                    full: c.full,
                    done: false,
                    bounced: false,
                    last_reason: None,
                })
                .collect(),
            arrival: t,
            queued: t,
            size,
            msgid,
            attempts: 0,
            deferred_ever: false,
            held: false,
            spam,
            last_cause: None,
        };
        self.live.insert(serial, m);
        serial
    }

    /// cleanup + qmgr lines of a new queue file.
    pub(super) fn enqueue_lines(&mut self, t: i64, serial: u64) -> io::Result<()> {
        let (qid, msgid, sender, size, n) = {
            let m = &self.live[&serial];
            (
                m.qid.clone(),
                m.msgid.clone(),
                m.sender.clone(),
                m.size,
                m.rcpts.len(),
            )
        };
        let p = self.pid("postfix/cleanup", 0.01);
        self.line.clear();
        let _ = write!(self.line, "{qid}: message-id={msgid}");
        self.emit(t, "postfix/cleanup", p)?;
        let p = self.pid("postfix/qmgr", 0.0);
        self.line.clear();
        let _ = write!(
            self.line,
            "{qid}: from=<{sender}>, size={size}, nrcpt={n} (queue active)"
        );
        self.emit(t, "postfix/qmgr", p)
    }

    pub(super) fn reschedule(&mut self, serial: u64, t: i64) -> io::Result<()> {
        let m = self.live.get_mut(&serial).expect("live");
        m.attempts += 1;
        let k = m.attempts.min(5);
        let backoff = (300 * (1i64 << (k - 1))).min(3600) * SEC;
        let jitter = self.rng.range(0, 240) as i64 * SEC;
        self.schedule(t + backoff + jitter, Ev::Attempt(serial));
        Ok(())
    }

    /// All recipients done: a bounce notice if any bounced, then removal.
    pub(super) fn finish_msg(&mut self, serial: u64, t: i64) -> io::Result<()> {
        let m = self.live.remove(&serial).expect("live");
        let bounced = m.rcpts.iter().any(|r| r.bounced);
        if bounced && !m.sender.is_empty() {
            self.notify_sender(&m, t)?;
        }
        let qp = self.pid("postfix/qmgr", 0.0);
        self.line.clear();
        let _ = write!(self.line, "{}: removed", m.qid);
        self.emit(t, "postfix/qmgr", qp)?;
        if m.deferred_ever {
            self.c.deferred_messages += 1;
        }
        self.retire_qid(t, &m.qid);
        Ok(())
    }

    fn notify_sender(&mut self, m: &Msg, t: i64) -> io::Result<()> {
        let nq = self.new_qid(t);
        let dom = self.dom_of(&m.sender);
        let dom = if self.domains[dom].name == m.sender.rsplit('@').next().unwrap_or("") {
            dom
        } else {
            // An outside sender we have no table entry for: use a generic one.
            self.spam_domains[self.spam_domains.len() - 1]
        };
        let rc = vec![Contact {
            addr: m.sender.clone(),
            dom,
            unknown: false,
            full: false,
        }];
        let size = 2400 + m.size.min(8000) / 4;
        let serial = self.make_msg(
            t,
            nq.clone(),
            "",
            Origin::Bounce,
            rc,
            false,
            size,
            Stage::Deliver,
        );
        self.enqueue_lines(t, serial)?;
        let bp = self.pid("postfix/bounce", 0.05);
        self.line.clear();
        let _ = write!(
            self.line,
            "{}: sender non-delivery notification: {nq}",
            m.qid
        );
        self.emit(t, "postfix/bounce", bp)?;
        self.schedule(t + 5, Ev::Attempt(serial));
        Ok(())
    }

    pub(super) fn expire(&mut self, serial: u64, t: i64) -> io::Result<()> {
        let m = self.live.get(&serial).expect("live").clone();
        let qp = self.pid("postfix/qmgr", 0.0);
        self.line.clear();
        if m.sender.is_empty() {
            // A bounce that could not be delivered is just dropped.
            let _ = write!(
                self.line,
                "{}: from=<>, status=expired, returned to sender",
                m.qid
            );
        } else {
            let _ = write!(
                self.line,
                "{}: from=<{}>, status=expired, returned to sender",
                m.qid, m.sender
            );
        }
        self.emit(t, "postfix/qmgr", qp)?;
        self.c.expired += 1;
        let cause = m.last_cause.unwrap_or("unknown");
        self.c.causes.entry(cause).or_default().expired += 1;
        // The pending recipients now count as bounced for the notice.
        let m2 = {
            let mm = self.live.get_mut(&serial).expect("live");
            for r in mm.rcpts.iter_mut() {
                if !r.done {
                    r.done = true;
                    r.bounced = true;
                }
            }
            mm.clone()
        };
        if !m2.sender.is_empty() {
            self.notify_sender(&m2, t)?;
        }
        self.live.remove(&serial);
        self.line.clear();
        let _ = write!(self.line, "{}: removed", m2.qid);
        self.emit(t, "postfix/qmgr", qp)?;
        if m2.deferred_ever {
            self.c.deferred_messages += 1;
        }
        self.retire_qid(t, &m2.qid);
        Ok(())
    }

    pub(super) fn hold(&mut self, t: i64) -> io::Result<()> {
        // The admin notices the burst and holds what is left of the spam.
        let picked: Vec<u64> = self
            .live
            .iter()
            .filter(|(_, m)| m.origin == Origin::Mike && m.spam && m.deferred_ever && !m.held)
            .map(|(s, _)| *s)
            .take((6.0 * self.cfg.scale).ceil() as usize)
            .collect();
        let p = {
            self.pids.next += 7;
            self.pids.next
        };
        for s in &picked {
            let q = {
                let m = self.live.get_mut(s).expect("live");
                m.held = true;
                m.qid.clone()
            };
            self.line.clear();
            let _ = write!(self.line, "{q}: placed on hold");
            self.emit(t, "postfix/postsuper", p)?;
            self.c.held += 1;
        }
        self.line.clear();
        let _ = write!(self.line, "Placed on hold: {} messages", picked.len());
        self.emit(t, "postfix/postsuper", p)
    }
}
