//! Traffic: each source's rate over the week and what one arrival of it
//! brings (a message, a login, a cron line).

use std::io;

use super::clock::{hour_of, DAY, HOUR, MIN};
use super::queue::{Ev, Origin};
use super::world::{Contact, MIKE, NEWS_UID, SALES, SASL_USERS, SCRIPT_UID};
use super::Sim;

// Traffic sources, by index.
const SRC_SASL: usize = 0; // ordinary mailboxes, one source per user (6)
pub(super) const N_SASL: usize = 6;
const SRC_SALES: usize = 6;
const SRC_NEWS: usize = 7;
const SRC_ORDERS: usize = 8;
const SRC_WWW: usize = 9;
const SRC_INBOUND: usize = 10;
const SRC_INBOUND_REJECT: usize = 11;
const SRC_MIKE: usize = 12; // the compromised mailbox, legit and then spam
const SRC_SCRIPT: usize = 13; // the hacked site script
const SRC_BRUTE: usize = 14; // password guessing against mike
const SRC_BOTS: usize = 15; // background SASL guessing noise
const SRC_IMAP: usize = 16; // dovecot logins
pub(super) const N_SRC: usize = 17;

impl Sim {
    /// Messages (or events) per hour of a source at time t, before scaling.
    fn rate(&self, src: usize, t: i64) -> f64 {
        // Tuned so that scale 1 gives about 50 k lines.
        0.75 * self.base_rate(src, t)
    }

    fn base_rate(&self, src: usize, t: i64) -> f64 {
        let (h, day) = hour_of(t);
        let weekend = matches!(day, 0 | 1 | 7) || day == 5; // Sat, Sun, Sat; Jan 1
        let office = match h {
            8..=17 => 1.0,
            7 | 18..=20 => 0.45,
            _ => 0.08,
        } * if weekend { 0.3 } else { 1.0 };
        let s = &self.story;
        match src {
            SRC_SASL..=5 => 1.1 * office,
            SRC_SALES => 0.9 * office,
            // The newsletter: the same trickle every day, 07:00 to 21:00.
            SRC_NEWS if (7..21).contains(&h) => 9.0,
            SRC_NEWS => 0.0,
            SRC_ORDERS => 0.6 + 0.6 * office,
            SRC_WWW => 0.15,
            SRC_INBOUND => 2.0 + 5.0 * office,
            SRC_INBOUND_REJECT => 0.9,
            SRC_MIKE => {
                if t >= s.burst_start && t < s.burst_end {
                    95.0
                } else {
                    0.5 * office
                }
            }
            SRC_SCRIPT if t >= s.script_start && t < s.script_end => 130.0,
            SRC_BRUTE if t >= s.brute_start && t < s.brute_end => 110.0,
            SRC_BOTS => 2.5,
            SRC_IMAP => 6.0 * office + 0.5,
            _ => 0.0,
        }
    }

    pub(super) fn next_arrival(&mut self, src: usize, t: i64) {
        let r = self.rate(src, t) * self.cfg.scale;
        let boundary = (t / (10 * MIN) + 1) * 10 * MIN;
        let next = if r <= 0.0 {
            boundary
        } else {
            let dt = (self.rng.exp(3600.0 / r) * 1000.0) as i64 + 1;
            // Memoryless: past a rate change, draw again from there.
            if t + dt >= boundary {
                self.schedule(boundary, Ev::Source(src + 1000));
                return;
            }
            t + dt
        };
        if r <= 0.0 {
            self.schedule(next, Ev::Source(src + 1000));
        } else {
            self.schedule(next, Ev::Source(src));
        }
    }

    /// One arrival of a source at time t.
    pub(super) fn arrive(&mut self, src: usize, t: i64) -> io::Result<()> {
        match src {
            SRC_SASL..=5 => self.user_mail(src, t),
            SRC_SALES => self.sales_mail(t),
            SRC_NEWS => self.newsletter(t),
            SRC_ORDERS => {
                let c = self.rng.pick(&self.customers).clone();
                self.pickup(t, 10001, "orders@shop-example.com", None, vec![c], false)
            }
            SRC_WWW => self.www_mail(t),
            SRC_INBOUND => self.inbound(t),
            SRC_INBOUND_REJECT => self.inbound_reject(t),
            SRC_MIKE => self.mike(t),
            SRC_SCRIPT => {
                let n = self.rng.range(1, 2) as usize;
                let rc = self.spam_rcpts(n);
                self.pickup(
                    t,
                    SCRIPT_UID,
                    "oldblog@mx1.hosting-example.net",
                    Some("oldblog"),
                    rc,
                    true,
                )
            }
            SRC_BRUTE => self.failed_login(t, "unknown", "45.142.120.61", MIKE, true),
            SRC_BOTS => self.bot_login(t),
            SRC_IMAP => self.imap_login(t),
            _ => Ok(()),
        }
    }

    /// An ordinary mailbox writes to one to three of its contacts.
    fn user_mail(&mut self, src: usize, t: i64) -> io::Result<()> {
        let n = if self.rng.chance(0.7) {
            1
        } else {
            self.rng.range(2, 3) as usize
        };
        let rc = self.pick_contacts(src, n);
        let ip = format!("203.0.113.{}", 100 + src);
        let host = format!("dyn-{}.dsl.example-isp.net", 100 + src);
        self.submit_sasl(t, Origin::Sasl(src), SASL_USERS[src], &host, &ip, rc, false)
    }

    /// The sales mailbox writes to many customers at once.
    fn sales_mail(&mut self, t: i64) -> io::Result<()> {
        let n = self.rng.range(8, 25) as usize;
        let mut rc = Vec::new();
        for _ in 0..n {
            let c = self.rng.pick(&self.customers).clone();
            if !rc.iter().any(|r: &Contact| r.addr == c.addr) {
                rc.push(c);
            }
        }
        self.submit_sasl(
            t,
            Origin::Sales,
            SALES,
            "office.shop-example.com",
            "198.51.100.77",
            rc,
            false,
        )
    }

    /// The newsletter goes to the next subscriber on the list.
    fn newsletter(&mut self, t: i64) -> io::Result<()> {
        let c = self.subscribers[self.news_cursor % self.subscribers.len()].clone();
        self.news_cursor += 1;
        *self.c.newsletter_per_day.entry(t / DAY).or_default() += 1;
        self.pickup(
            t,
            NEWS_UID,
            "newsletter@shop-example.com",
            None,
            vec![c],
            false,
        )
    }

    /// The web server's own mail to the shop's office.
    fn www_mail(&mut self, t: i64) -> io::Result<()> {
        let to = Contact {
            addr: "office@shop-example.com".into(),
            dom: 0,
            unknown: false,
            full: false,
        };
        self.pickup(
            t,
            33,
            "www-data@mx1.hosting-example.net",
            Some("www-data"),
            vec![to],
            false,
        )
    }

    /// Mike's mailbox: ordinary mail, the spam burst from foreign IPs, then
    /// the spammers' failed logins once the password is changed.
    fn mike(&mut self, t: i64) -> io::Result<()> {
        let s = &self.story;
        if t >= s.burst_start && t < s.burst_end {
            let n = self.rng.range(4, 10) as usize;
            let rc = self.spam_rcpts(n);
            let (host, ip) = self.rng.pick(&self.mike_ips).clone();
            self.submit_sasl(t, Origin::Mike, MIKE, &host, &ip, rc, true)
        } else if t >= s.burst_end && t < s.burst_end + 2 * HOUR {
            // Password changed: the spammers keep trying.
            let (host, ip) = self.rng.pick(&self.mike_ips).clone();
            self.failed_login(t, &host, &ip, MIKE, true)
        } else {
            let rc = self.pick_contacts(N_SASL, 1);
            self.submit_sasl(
                t,
                Origin::Mike,
                MIKE,
                "dyn-112.dsl.example-isp.net",
                "203.0.113.112",
                rc,
                false,
            )
        }
    }

    /// Background SASL guessing from anywhere against common names.
    fn bot_login(&mut self, t: i64) -> io::Result<()> {
        let ip = format!(
            "{}.{}.{}.{}",
            self.rng.pick(&["80", "141", "193", "212", "5"]),
            self.rng.range(1, 250),
            self.rng.range(1, 250),
            self.rng.range(1, 250)
        );
        let users = ["admin", "test", "info", "sales", "office", "postmaster"];
        let u = format!(
            "{}@{}",
            self.rng.pick(&users),
            self.rng.pick(&[
                "shop-example.com",
                "bakery-example.net",
                "studio-example.org"
            ])
        );
        self.failed_login(t, "unknown", &ip, &u, false)
    }

    fn pick_contacts(&mut self, who: usize, n: usize) -> Vec<Contact> {
        let mut v: Vec<Contact> = Vec::new();
        for _ in 0..n {
            let c = self.rng.pick(&self.contacts[who]).clone();
            if !v.iter().any(|x| x.addr == c.addr) {
                v.push(c);
            }
        }
        v
    }

    fn spam_rcpts(&mut self, n: usize) -> Vec<Contact> {
        let mut v: Vec<Contact> = Vec::new();
        for _ in 0..n {
            // Harvested lists lean on the big webmail providers.
            let dom = if self.rng.chance(0.5) {
                self.spam_domains[(self.rng.next_u64() % 13) as usize]
            } else {
                *self.rng.pick(&self.spam_domains)
            };
            let unknown = self.rng.chance(0.35);
            let c = self.person(dom, unknown);
            if !v.iter().any(|x| x.addr == c.addr) {
                v.push(c);
            }
        }
        v
    }

    pub(super) fn cron(&mut self, t: i64, daily: bool) -> io::Result<()> {
        let p = {
            self.pids.next += self.rng.range(1, 50) as u32;
            self.pids.next
        };
        self.line.clear();
        if daily {
            // cron.daily runs logrotate two seconds later.
            self.line.push_str(
                "(root) CMD (test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; })",
            );
        } else {
            self.line
                .push_str("(root) CMD (   cd / && run-parts --report /etc/cron.hourly)");
        }
        self.emit(t, "CRON", p)
    }
}
