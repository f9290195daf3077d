//! The simulation: a queue of timed events (arrivals from each traffic
//! stream, staged messages, delivery attempts) run in time order, each one
//! writing the lines Postfix would write. Delivery is in `deliver.rs`.

use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};

use super::clock::{compact, hour, weekend, SEC};
use super::plan::{Plan, SourceKind, Who};
use super::rng::Rng;
use super::sink::Sink;
use super::tally::{Class, Sent, Tally};
use super::world::{Person, World};

#[derive(Debug, Clone)]
pub struct Rcpt {
    pub p: Person,
    pub done: bool,
    pub bounced: bool,
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Msg {
    pub qid: String,
    /// Still to be handed to the content filter.
    pub filter: bool,
    pub sender: String,
    pub identity: String,
    pub spam: bool,
    pub client_ip: String,
    pub why: String,
    pub rcpts: Vec<Rcpt>,
    /// When the message entered the server.
    pub arrival: i64,
    /// When its current queue file was made (delays and lifetime count from here).
    pub queued: i64,
    pub size: u64,
    pub msgid: String,
    pub attempts: u32,
    /// A deferral of it is in the logs.
    pub deferred_seen: bool,
    pub held: bool,
    pub source: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
enum Stream {
    Mailbox(usize),
    Script(usize),
    Decoy(usize),
    Inbound,
    InboundReject,
    Bots,
    Guess(usize),
    Spam(usize),
    SourceLegit(usize),
}

#[derive(Debug)]
enum Ev {
    Stream(usize),
    Staged(usize),
    Attempt(u64),
    Hold,
}

struct Sched {
    t: i64,
    seq: u64,
    ev: Ev,
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
        (o.t, o.seq).cmp(&(self.t, self.seq))
    }
}

/// How a message reaches smtpd or pickup.
pub enum Channel {
    Sasl(String),
    Pickup(u32),
    /// Port 25 from a trusted network, no login.
    Relay,
    Localhost,
    Inbound,
}

pub struct Submit {
    pub channel: Channel,
    pub host: String,
    pub ip: String,
    pub sender: String,
    pub identity: String,
    pub rcpts: Vec<Person>,
    pub spam: bool,
    pub why: String,
    pub source: Option<usize>,
    pub decoy: Option<usize>,
}

pub struct Sim {
    pub seed: u64,
    pub plan: Plan,
    pub w: World,
    pub rng: Rng,
    heap: BinaryHeap<Sched>,
    seq: u64,
    pub sink: Sink,
    pub live: BTreeMap<u64, Msg>,
    qids: HashSet<String>,
    serial: u64,
    pids: HashMap<&'static str, u32>,
    next_pid: u32,
    /// Receivers Postfix holds back after a failed connection: until, reason, class.
    pub suspended: HashMap<usize, (i64, String, Class)>,
    pub grey: HashMap<(String, String), i64>,
    pub tally: Tally,
    streams: Vec<(Stream, f64)>,
    news: usize,
}

fn office(t: i64) -> f64 {
    let f = match hour(t) {
        8..=17 => 1.0,
        7 | 18..=20 => 0.45,
        _ => 0.08,
    };
    if weekend(t) {
        f * 0.3
    } else {
        f
    }
}

impl Sim {
    pub fn new(seed: u64, plan: Plan, w: World, rng: Rng) -> Sim {
        let sink = Sink::new(&w.host, plan.log_start, plan.max_file_lines);
        let tally = Tally::new(plan.sources.len(), plan.decoys.len());
        let mut sim = Sim {
            seed,
            plan,
            w,
            rng,
            heap: BinaryHeap::new(),
            seq: 0,
            sink,
            live: BTreeMap::new(),
            qids: HashSet::new(),
            serial: 0,
            pids: HashMap::new(),
            next_pid: 0,
            suspended: HashMap::new(),
            grey: HashMap::new(),
            tally,
            streams: Vec::new(),
            news: 0,
        };
        sim.next_pid = 1000 + sim.rng.range(0, 20_000) as u32;
        sim.streams = sim.make_streams();
        sim
    }

    fn make_streams(&self) -> Vec<(Stream, f64)> {
        let p = &self.plan;
        let mut v = Vec::new();
        for (i, m) in self.w.mailboxes.iter().enumerate() {
            v.push((Stream::Mailbox(i), m.per_hour));
        }
        for (i, s) in self.w.scripts.iter().enumerate() {
            v.push((Stream::Script(i), s.per_hour));
        }
        for (i, d) in p.decoys.iter().enumerate() {
            v.push((Stream::Decoy(i), d.per_hour));
        }
        v.push((Stream::Inbound, 12.0));
        v.push((Stream::InboundReject, 1.0));
        v.push((Stream::Bots, 2.0));
        for (i, s) in p.sources.iter().enumerate() {
            if let Some(g) = &s.guessing {
                v.push((Stream::Guess(i), g.per_hour));
            }
            let top = s.bursts.iter().map(|b| b.per_hour).fold(0.0, f64::max);
            v.push((Stream::Spam(i), top));
            v.push((Stream::SourceLegit(i), s.legit_per_hour));
        }
        v
    }

    /// Events an hour for a stream at `t`.
    fn rate(&self, s: Stream, t: i64) -> f64 {
        let p = &self.plan;
        match s {
            Stream::Mailbox(i) => self.w.mailboxes[i].per_hour * office(t),
            Stream::Script(i) => self.w.scripts[i].per_hour * (0.3 + 0.7 * office(t)),
            Stream::Decoy(i) => {
                let d = &p.decoys[i];
                let h = hour(t);
                if h >= d.hours.0 && h < d.hours.1 {
                    d.per_hour
                } else {
                    0.0
                }
            }
            Stream::Inbound => 3.0 + 9.0 * office(t),
            Stream::InboundReject => 1.0,
            Stream::Bots => 2.0,
            Stream::Guess(i) => match &p.sources[i].guessing {
                Some(g) if t >= g.start && t < g.end => g.per_hour,
                _ => 0.0,
            },
            Stream::Spam(i) => p.sources[i].burst_at(t).map_or(0.0, |b| b.per_hour),
            Stream::SourceLegit(i) => {
                let s = &p.sources[i];
                if t < s.history_from {
                    0.0
                } else if s.kind == SourceKind::Sasl {
                    s.legit_per_hour * office(t)
                } else {
                    s.legit_per_hour * (0.3 + 0.7 * office(t))
                }
            }
        }
    }

    /// The next arrival of stream `k` after `t` (thinning of a Poisson
    /// process at the stream's top rate).
    fn next_arrival(&mut self, k: usize, mut t: i64) {
        let (s, top) = self.streams[k];
        if top <= 0.0 {
            return;
        }
        loop {
            t += (self.rng.exp(3600.0 / top) * 1000.0) as i64 + 1;
            if t >= self.plan.log_end {
                return;
            }
            if self.rng.f64() * top < self.rate(s, t) {
                self.schedule(t, Ev::Stream(k));
                return;
            }
        }
    }

    fn schedule(&mut self, t: i64, ev: Ev) {
        self.seq += 1;
        self.heap.push(Sched {
            t,
            seq: self.seq,
            ev,
        });
    }

    pub fn schedule_attempt(&mut self, t: i64, serial: u64) {
        self.schedule(t, Ev::Attempt(serial));
    }

    pub fn run(&mut self) {
        let start = self.plan.sim_start;
        for k in 0..self.streams.len() {
            self.next_arrival(k, start);
        }
        for i in 0..self.plan.staged.len() {
            let t = self.plan.staged[i].t;
            self.schedule(t, Ev::Staged(i));
        }
        if let Some(t) = self.plan.hold_at {
            self.schedule(t, Ev::Hold);
        }
        while let Some(Sched { t, ev, .. }) = self.heap.pop() {
            if t >= self.plan.log_end {
                break;
            }
            match ev {
                Ev::Stream(k) => {
                    self.arrive(self.streams[k].0, t);
                    self.next_arrival(k, t);
                }
                Ev::Staged(i) => self.staged(i, t),
                Ev::Attempt(serial) => self.attempt(serial, t),
                Ev::Hold => self.hold(t),
            }
        }
    }

    pub fn pid(&mut self, prog: &'static str, churn: f64) -> u32 {
        if !self.pids.contains_key(prog) || self.rng.chance(churn) {
            self.next_pid += self.rng.range(1, 60) as u32;
            self.pids.insert(prog, self.next_pid);
        }
        self.pids[prog]
    }

    pub fn fresh_pid(&mut self) -> u32 {
        self.next_pid += self.rng.range(1, 40) as u32;
        self.next_pid
    }

    pub fn emit(&mut self, t: i64, prog: &str, pid: u32, text: &str) -> bool {
        self.sink.line(t, prog, pid, text)
    }

    pub fn new_qid(&mut self) -> String {
        loop {
            let usec = self.rng.range(0, 999_999);
            let inode = 0x3D050 + self.rng.range(0, 0xFFF);
            let q = format!("{usec:05X}{inode:05X}");
            if self.qids.insert(q.clone()) {
                return q;
            }
        }
    }

    pub fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    pub fn retire_qid(&mut self, q: &str) {
        self.qids.remove(q);
    }

    fn arrive(&mut self, s: Stream, t: i64) {
        match s {
            Stream::Mailbox(i) => {
                let m = &self.w.mailboxes[i];
                let n = if self.rng.chance(0.7) {
                    1
                } else {
                    self.rng.range(2, 3) as usize
                };
                let mut rc: Vec<Person> = Vec::new();
                for _ in 0..n {
                    let c = self.rng.pick(&m.contacts).clone();
                    if !rc.iter().any(|x| x.addr == c.addr) {
                        rc.push(c);
                    }
                }
                let sub = self.mailbox_submit(i, rc, "legit: ordinary user");
                self.submit(t, sub);
            }
            Stream::Script(i) => {
                let s = &self.w.scripts[i];
                let to = self.rng.pick(&s.to).clone();
                let sub = Submit {
                    channel: Channel::Pickup(s.uid),
                    host: "localhost".into(),
                    ip: "127.0.0.1".into(),
                    sender: s.sender.clone(),
                    identity: format!("uid:{}", s.uid),
                    rcpts: vec![to],
                    spam: false,
                    why: "legit: shop order confirmation".into(),
                    source: None,
                    decoy: None,
                };
                self.submit(t, sub);
            }
            Stream::Decoy(i) => self.decoy(i, t),
            Stream::Inbound => self.inbound(t),
            Stream::InboundReject => self.inbound_reject(t),
            Stream::Bots => {
                let ip = super::world::foreign_ip(&mut self.rng);
                let d = self.rng.pick(&self.w.local_domains[1..]).clone();
                let u = format!(
                    "{}@{d}",
                    self.rng
                        .pick(&["admin", "test", "info", "sales", "office", "postmaster"])
                );
                self.failed_login(t, &ip, &u, None);
            }
            Stream::Guess(i) => {
                let g = self.plan.sources[i].guessing.clone().expect("guessing");
                let ip = self.rng.pick(&g.ips).clone();
                let login = self.plan.sources[i].sender.clone();
                self.failed_login(t, &ip, &login, Some(i));
            }
            Stream::Spam(i) => self.spam(i, t),
            Stream::SourceLegit(i) => {
                let s = &self.plan.sources[i];
                let to = self.rng.pick(&s.legit_to).clone();
                let why = match s.kind {
                    SourceKind::Sasl => "legit: owner from usual IP",
                    SourceKind::Uid => "legit: contact-form message to the site owner",
                    SourceKind::Client => "legit: the device's own mail",
                    SourceKind::Sender => "legit: the web application's notification",
                };
                let sub = self.source_legit(i, to, why);
                self.submit(t, sub);
            }
        }
    }

    fn mailbox_submit(&self, i: usize, rcpts: Vec<Person>, why: &str) -> Submit {
        let m = &self.w.mailboxes[i];
        Submit {
            channel: Channel::Sasl(m.login.clone()),
            host: m.host.clone(),
            ip: m.ip.clone(),
            sender: m.login.clone(),
            identity: format!("sasl:{}", m.login),
            rcpts,
            spam: false,
            why: why.to_string(),
            source: None,
            decoy: None,
        }
    }

    /// A legitimate message of source `i`'s identity from its usual client.
    fn source_legit(&self, i: usize, to: Person, why: &str) -> Submit {
        let s = &self.plan.sources[i];
        let channel = match s.kind {
            SourceKind::Sasl => Channel::Sasl(s.sender.clone()),
            SourceKind::Uid => Channel::Pickup(s.uid),
            SourceKind::Client => Channel::Relay,
            SourceKind::Sender => Channel::Localhost,
        };
        Submit {
            channel,
            host: s.usual.0.clone(),
            ip: s.usual.1.clone(),
            sender: s.sender.clone(),
            identity: s.identity.clone(),
            rcpts: vec![to],
            spam: false,
            why: why.to_string(),
            source: Some(i),
            decoy: None,
        }
    }

    fn spam(&mut self, i: usize, t: i64) {
        let s = &self.plan.sources[i];
        let n = self.rng.range(s.rcpts.0, s.rcpts.1) as usize;
        let rcpts = self.w.harvested(&mut self.rng, n, s.unknown_share);
        let mut sub = self.source_legit(i, rcpts[0].clone(), "");
        sub.rcpts = rcpts;
        sub.spam = true;
        let s = &self.plan.sources[i];
        if s.kind == SourceKind::Sasl {
            let (h, ip) = self.rng.pick(&s.attackers).clone();
            sub.why = format!("spam: burst from attacker IP {ip}");
            (sub.host, sub.ip) = (h, ip);
        } else {
            sub.why = "spam: burst".to_string();
        }
        self.submit(t, sub);
    }

    fn staged(&mut self, k: usize, t: i64) {
        let st = self.plan.staged[k].clone();
        let sub = match st.who {
            Who::Source(i) => self.source_legit(i, st.to, st.why),
            Who::Mailbox(i) => self.mailbox_submit(i, vec![st.to], st.why),
        };
        self.submit(t, sub);
    }

    fn decoy(&mut self, i: usize, t: i64) {
        let d = self.plan.decoys[i].clone();
        let n = self.rng.range(d.rcpts.0, d.rcpts.1) as usize;
        let mut rc: Vec<Person> = Vec::new();
        for _ in 0..n {
            let c = if d.rcpts.1 == 1 {
                self.news += 1;
                self.w.subscribers[self.news % self.w.subscribers.len()].clone()
            } else {
                self.rng.pick(&self.w.customers).clone()
            };
            if !rc.iter().any(|x| x.addr == c.addr) {
                rc.push(c);
            }
        }
        let (channel, host, ip) = match &d.login {
            Some((login, host, ip)) => (Channel::Sasl(login.clone()), host.clone(), ip.clone()),
            None => (
                Channel::Pickup(d.uid),
                "localhost".into(),
                "127.0.0.1".into(),
            ),
        };
        let sub = Submit {
            channel,
            host,
            ip,
            sender: d.sender.clone(),
            identity: d.identity.clone(),
            rcpts: rc,
            spam: false,
            why: "legit: decoy (steady high volume)".into(),
            source: None,
            decoy: Some(i),
        };
        self.submit(t, sub);
    }

    fn msgid(&mut self, t: i64, sub: &Submit, qid: &str) -> String {
        let dom = sub
            .sender
            .rsplit('@')
            .next()
            .unwrap_or("localhost")
            .to_string();
        match sub.channel {
            Channel::Pickup(_) => format!("<{}.{qid}@{}>", compact(t), self.w.fqdn),
            _ if sub.spam => format!("<{}@{dom}>", self.rng.word(b"0123456789abcdef", 32)),
            _ => format!(
                "<{}.{:08}@{dom}>",
                compact(t),
                self.rng.range(0, 99_999_999)
            ),
        }
    }

    /// The submission's lines, then the message joins the queue.
    pub fn submit(&mut self, t: i64, sub: Submit) {
        if sub.rcpts.is_empty() {
            return;
        }
        let qid = self.new_qid();
        let n = sub.rcpts.len();
        let client = format!("{}[{}]", sub.host, sub.ip);
        let (prog, churn) = match sub.channel {
            Channel::Sasl(_) => ("postfix/submission/smtpd", 0.2),
            Channel::Pickup(_) => ("postfix/pickup", 0.002),
            _ => ("postfix/smtpd", 0.1),
        };
        let pid = self.pid(prog, churn);
        let first = match &sub.channel {
            Channel::Sasl(login) => {
                let m = if self.rng.chance(0.8) {
                    "PLAIN"
                } else {
                    "LOGIN"
                };
                format!("{qid}: client={client}, sasl_method={m}, sasl_username={login}")
            }
            Channel::Pickup(uid) => format!("{qid}: uid={uid} from=<{}>", sub.sender),
            _ => format!("{qid}: client={client}"),
        };
        let pickup = matches!(sub.channel, Channel::Pickup(_));
        if !pickup {
            self.emit(t, prog, pid, &format!("connect from {client}"));
        }
        let visible = self.emit(t, prog, pid, &first);
        if visible {
            self.tally.totals.received += 1;
        }
        let msgid = self.msgid(t, &sub, &qid);
        let size = if sub.spam {
            self.rng.range(2500, 9000)
        } else if sub.decoy.is_some() && n == 1 {
            self.rng.range(38_000, 46_000)
        } else {
            self.rng.range(1500, 90_000)
        };
        self.queue_lines(t, &qid, &msgid, &sub.sender, size, n);
        if !pickup {
            let auth = if matches!(sub.channel, Channel::Sasl(_)) {
                " starttls=1 auth=1"
            } else {
                ""
            };
            let ehlo = if auth.is_empty() { 1 } else { 2 };
            let cmds = n + 4 + if auth.is_empty() { 0 } else { 3 };
            let text = format!("disconnect from {client} ehlo={ehlo}{auth} mail=1 rcpt={n} data=1 quit=1 commands={cmds}");
            self.emit(t, prog, pid, &text);
        }
        self.record_submission(t, &sub, visible);
        let serial = self.next_serial();
        let filter = self.plan.amavis;
        self.live.insert(
            serial,
            Msg {
                qid,
                filter,
                sender: sub.sender,
                identity: sub.identity,
                spam: sub.spam,
                client_ip: if pickup { String::new() } else { sub.ip },
                why: sub.why,
                rcpts: sub
                    .rcpts
                    .into_iter()
                    .map(|p| Rcpt {
                        p,
                        done: false,
                        bounced: false,
                        reason: None,
                    })
                    .collect(),
                arrival: t,
                queued: t,
                size,
                msgid,
                attempts: 0,
                deferred_seen: false,
                held: false,
                source: sub.source,
            },
        );
        let d = self.rng.between(200, 3 * SEC);
        self.schedule_attempt(t + d, serial);
    }

    /// cleanup and qmgr lines of a new queue file.
    pub fn queue_lines(
        &mut self,
        t: i64,
        qid: &str,
        msgid: &str,
        sender: &str,
        size: u64,
        n: usize,
    ) {
        let p = self.pid("postfix/cleanup", 0.01);
        self.emit(
            t,
            "postfix/cleanup",
            p,
            &format!("{qid}: message-id={msgid}"),
        );
        let p = self.pid("postfix/qmgr", 0.0);
        let text = format!("{qid}: from=<{sender}>, size={size}, nrcpt={n} (queue active)");
        self.emit(t, "postfix/qmgr", p, &text);
    }

    fn record_submission(&mut self, t: i64, sub: &Submit, visible: bool) {
        let rec = Sent {
            t,
            rcpts: sub.rcpts.len() as u64,
            visible,
        };
        if let Some(i) = sub.source {
            let c = &mut self.tally.sources[i];
            if visible {
                c.first_seen.get_or_insert(t);
            }
            if sub.spam {
                c.spam.push(rec);
                if visible {
                    c.spam_ips.insert(sub.ip.clone());
                }
            } else {
                c.legit.push(rec);
            }
        }
        if let (Some(i), true) = (sub.decoy, visible) {
            self.tally.decoys[i].0 += 1;
            self.tally.decoys[i].1 += rec.rcpts;
        }
    }

    fn failed_login(&mut self, t: i64, ip: &str, user: &str, source: Option<usize>) {
        let prog = "postfix/submission/smtpd";
        let p = self.pid(prog, 0.3);
        self.emit(t, prog, p, &format!("connect from unknown[{ip}]"));
        let text = format!("warning: unknown[{ip}]: SASL LOGIN authentication failed: authentication failure, sasl_username={user}");
        let visible = self.emit(t, prog, p, &text);
        self.emit(
            t + 2 * SEC,
            prog,
            p,
            &format!("disconnect from unknown[{ip}] ehlo=1 auth=0/1 quit=1 commands=2/3"),
        );
        if let (Some(i), true) = (source, visible) {
            self.tally.sources[i]
                .failed_logins
                .push((t, ip.to_string()));
        }
    }

    fn inbound(&mut self, t: i64) {
        let (sender, host, ip) = self.rng.pick(&self.w.inbound).clone();
        let to = self.rng.pick(&self.w.local_users).clone();
        let dom = self.w.dom_of(&to).unwrap_or(0);
        let sub = Submit {
            channel: Channel::Inbound,
            host,
            ip: ip.clone(),
            sender,
            identity: format!("client:{ip}"),
            rcpts: vec![Person {
                addr: to,
                dom,
                unknown: false,
            }],
            spam: false,
            why: "legit: inbound".into(),
            source: None,
            decoy: None,
        };
        self.submit(t, sub);
    }

    fn inbound_reject(&mut self, t: i64) {
        let p = self.pid("postfix/smtpd", 0.1);
        let ip = super::world::foreign_ip(&mut self.rng);
        let to = self.rng.pick(&self.w.local_users).clone();
        let helo = format!("bulk{}.example-bulk.net", self.rng.range(1, 99));
        self.emit(
            t,
            "postfix/smtpd",
            p,
            &format!("connect from unknown[{ip}]"),
        );
        let text = if self.rng.chance(0.7) {
            format!("NOQUEUE: reject: RCPT from unknown[{ip}]: 554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{ip}; from=<promo@{helo}> to=<{to}> proto=ESMTP helo=<{helo}>")
        } else {
            let d = to.rsplit('@').next().unwrap_or("").to_string();
            format!("NOQUEUE: reject: RCPT from unknown[{ip}]: 550 5.1.1 <sales2@{d}>: Recipient address rejected: User unknown in virtual mailbox table; from=<news@{helo}> to=<sales2@{d}> proto=ESMTP helo=<{helo}>")
        };
        if self.emit(t, "postfix/smtpd", p, &text) {
            self.tally.totals.rejected += 1;
        }
        let text =
            format!("disconnect from unknown[{ip}] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4");
        self.emit(t, "postfix/smtpd", p, &text);
    }

    fn hold(&mut self, t: i64) {
        let n = self.rng.range(3, 8) as usize;
        let picked: Vec<u64> = self
            .live
            .iter()
            .filter(|(_, m)| m.source == Some(0) && m.spam && m.deferred_seen && !m.held)
            .map(|(s, _)| *s)
            .take(n)
            .collect();
        let p = self.fresh_pid();
        for s in &picked {
            let m = self.live.get_mut(s).expect("live");
            m.held = true;
            let text = format!("{}: placed on hold", m.qid);
            if self.emit(t, "postfix/postsuper", p, &text) {
                self.tally.totals.held += 1;
            }
        }
        let text = format!("Placed on hold: {} messages", picked.len());
        self.emit(t, "postfix/postsuper", p, &text);
    }

    /// Time as seen by the retry schedule: Postfix's backoff doubles from
    /// 300 s up to 4000 s.
    pub fn backoff(&mut self, attempts: u32) -> i64 {
        let k = attempts.clamp(1, 5);
        let b = (300 * (1i64 << (k - 1))).min(4000) * SEC;
        b + self.rng.between(0, 120) * SEC
    }
}
