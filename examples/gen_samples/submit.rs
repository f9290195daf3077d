//! How mail and logins reach the server: SASL submission, pickup, inbound
//! SMTP, NOQUEUE rejects, failed logins and IMAP logins.

use std::fmt::Write as _;
use std::io;

use super::queue::{Ev, Origin, Stage};
use super::traffic::N_SASL;
use super::world::{Contact, FIRST, MIKE, NEWS_UID, OUR_IP, SASL_USERS, SCRIPT_UID, W1};
use super::Sim;

impl Sim {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn submit_sasl(
        &mut self,
        t: i64,
        origin: Origin,
        login: &str,
        host: &str,
        ip: &str,
        rc: Vec<Contact>,
        spam: bool,
    ) -> io::Result<()> {
        if rc.is_empty() {
            return Ok(());
        }
        let prog = if self.rng.chance(0.8) {
            "postfix/submission/smtpd"
        } else {
            "postfix/smtps/smtpd"
        };
        let p = self.pid(prog, 0.15);
        self.line.clear();
        let _ = write!(self.line, "connect from {host}[{ip}]");
        self.emit(t, prog, p)?;
        let qid = self.new_qid(t);
        self.line.clear();
        let _ = write!(
            self.line,
            "{qid}: client={host}[{ip}], sasl_method={}, sasl_username={login}",
            if self.rng.chance(0.7) {
                "PLAIN"
            } else {
                "LOGIN"
            }
        );
        self.emit(t, prog, p)?;
        self.c.received += 1;
        let n = rc.len();
        let size = if spam {
            self.rng.range(2500, 9000)
        } else {
            self.rng.range(1800, 90_000)
        };
        if origin == Origin::Mike {
            let e = self
                .c
                .culprit_msgs
                .entry(if spam { "mike" } else { "mike-legit" })
                .or_default();
            e.0 += 1;
            e.1 += n as u64;
            if spam {
                let ips = self.c.culprit_ips.entry("mike").or_default();
                if !ips.iter().any(|x| x == ip) {
                    ips.push(ip.to_string());
                }
            }
        }
        let serial = self.make_msg(t, qid, login, origin, rc, spam, size, Stage::PreFilter);
        self.enqueue_lines(t, serial)?;
        self.line.clear();
        let _ = write!(
            self.line,
            "disconnect from {host}[{ip}] ehlo=2 starttls=1 auth=1 mail=1 rcpt={n} data=1 quit=1 commands={}",
            n + 6
        );
        self.emit(t, prog, p)?;
        let d = self.rng.range(0, 900) as i64;
        self.schedule(t + d, Ev::Attempt(serial));
        Ok(())
    }

    pub(super) fn pickup(
        &mut self,
        t: i64,
        uid: u32,
        sender: &str,
        pickup_from: Option<&str>,
        rc: Vec<Contact>,
        spam: bool,
    ) -> io::Result<()> {
        if rc.is_empty() {
            return Ok(());
        }
        let qid = self.new_qid(t);
        let p = self.pid("postfix/pickup", 0.002);
        self.line.clear();
        let _ = write!(
            self.line,
            "{qid}: uid={uid} from=<{}>",
            pickup_from.unwrap_or(sender)
        );
        self.emit(t, "postfix/pickup", p)?;
        self.c.received += 1;
        if uid == SCRIPT_UID {
            let e = self.c.culprit_msgs.entry("script").or_default();
            e.0 += 1;
            e.1 += rc.len() as u64;
        }
        let size = if uid == NEWS_UID {
            self.rng.range(38_000, 46_000)
        } else {
            self.rng.range(900, 6000)
        };
        let serial = self.make_msg(
            t,
            qid,
            sender,
            Origin::Uid(uid),
            rc,
            spam,
            size,
            Stage::PreFilter,
        );
        self.enqueue_lines(t, serial)?;
        let d = self.rng.range(0, 700) as i64;
        self.schedule(t + d, Ev::Attempt(serial));
        Ok(())
    }

    pub(super) fn inbound(&mut self, t: i64) -> io::Result<()> {
        let (sender, host, ip) = self.rng.pick(&self.external_senders).clone();
        let to = self.rng.pick(&self.local_users[..N_SASL + 2]).clone();
        let dom = self.dom_of(&to);
        let p = self.pid("postfix/smtpd", 0.1);
        self.line.clear();
        let _ = write!(self.line, "connect from {host}[{ip}]");
        self.emit(t, "postfix/smtpd", p)?;
        let qid = self.new_qid(t);
        self.line.clear();
        let _ = write!(self.line, "{qid}: client={host}[{ip}]");
        self.emit(t, "postfix/smtpd", p)?;
        self.c.received += 1;
        let size = self.rng.range(3000, 250_000);
        let rc = vec![Contact {
            addr: to,
            dom,
            unknown: false,
            full: false,
        }];
        let serial = self.make_msg(
            t,
            qid,
            &sender,
            Origin::Inbound,
            rc,
            false,
            size,
            Stage::PreFilter,
        );
        self.enqueue_lines(t, serial)?;
        self.line.clear();
        let _ = write!(
            self.line,
            "disconnect from {host}[{ip}] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7"
        );
        self.emit(t, "postfix/smtpd", p)?;
        let d = self.rng.range(0, 900) as i64;
        self.schedule(t + d, Ev::Attempt(serial));
        Ok(())
    }

    pub(super) fn inbound_reject(&mut self, t: i64) -> io::Result<()> {
        let p = self.pid("postfix/smtpd", 0.1);
        let ip = format!(
            "{}.{}.{}.{}",
            self.rng.pick(&["37", "77", "94", "185", "193"]),
            self.rng.range(1, 250),
            self.rng.range(1, 250),
            self.rng.range(2, 250)
        );
        let to = self.rng.pick(&self.local_users).clone();
        let helo = format!("{}.example-bulk.net", self.rng.pick(&W1));
        self.line.clear();
        let _ = write!(self.line, "connect from unknown[{ip}]");
        self.emit(t, "postfix/smtpd", p)?;
        self.line.clear();
        if self.rng.chance(0.7) {
            let _ = write!(
                self.line,
                "NOQUEUE: reject: RCPT from unknown[{ip}]: 554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{ip}; from=<promo@{helo}> to=<{to}> proto=ESMTP helo=<{helo}>"
            );
        } else {
            let local = to.rsplit('@').next().unwrap_or("shop-example.com");
            let f = *self.rng.pick(&FIRST);
            let _ = write!(
                self.line,
                "NOQUEUE: reject: RCPT from unknown[{ip}]: 550 5.1.1 <{f}@{local}>: Recipient address rejected: User unknown in virtual mailbox table; from=<news@{helo}> to=<{f}@{local}> proto=ESMTP helo=<{helo}>"
            );
        }
        self.emit(t, "postfix/smtpd", p)?;
        self.c.rejected += 1;
        self.line.clear();
        let _ = write!(
            self.line,
            "disconnect from unknown[{ip}] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4"
        );
        self.emit(t, "postfix/smtpd", p)
    }

    pub(super) fn failed_login(
        &mut self,
        t: i64,
        host: &str,
        ip: &str,
        user: &str,
        known: bool,
    ) -> io::Result<()> {
        let p = self.pid("postfix/smtpd", 0.1);
        self.line.clear();
        let _ = write!(self.line, "connect from {host}[{ip}]");
        self.emit(t, "postfix/smtpd", p)?;
        let sp = self.pid("plesk_saslauthd", 0.01);
        if !known {
            self.line.clear();
            let _ = write!(
                self.line,
                "No such user '{user}' in mail authorization database"
            );
            self.emit(t, "plesk_saslauthd", sp)?;
        }
        self.line.clear();
        let _ = write!(
            self.line,
            "failed mail authentication attempt for user '{user}' (password len={})",
            self.rng.range(6, 14)
        );
        self.emit(t, "plesk_saslauthd", sp)?;
        self.line.clear();
        let _ = write!(
            self.line,
            "warning: {host}[{ip}]: SASL LOGIN authentication failed: authentication failure, sasl_username={user}"
        );
        self.emit(t, "postfix/smtpd", p)?;
        if user == MIKE {
            self.c.failed_logins += 1;
        }
        self.line.clear();
        let _ = write!(
            self.line,
            "disconnect from {host}[{ip}] ehlo=1 auth=0/1 quit=1 commands=2/3"
        );
        self.emit(t, "postfix/smtpd", p)
    }

    pub(super) fn imap_login(&mut self, t: i64) -> io::Result<()> {
        let u = self.rng.pick(&SASL_USERS[..]).to_string();
        let mpid = {
            self.pids.next += self.rng.range(1, 30) as u32;
            self.pids.next
        };
        let sess: String = (0..16)
            .map(|_| {
                let c = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                    [(self.rng.next_u64() % 64) as usize];
                c as char
            })
            .collect();
        let rip = format!("203.0.113.{}", self.rng.range(100, 106));
        self.line.clear();
        let _ = write!(
            self.line,
            "imap-login: Login: user=<{u}>, method=PLAIN, rip={rip}, lip={OUR_IP}, mpid={mpid}, TLS, session=<{sess}>"
        );
        self.emit(t, "dovecot", 0)?;
        let text = format!(
            "imap({u})<{mpid}><{sess}>: Logged out in={} out={} deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0",
            self.rng.range(40, 900),
            self.rng.range(400, 90_000)
        );
        let later = t + self.rng.range(1000, 40_000) as i64;
        self.schedule(later, Ev::Line("dovecot", text));
        Ok(())
    }
}
