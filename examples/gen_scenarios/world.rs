//! The server and the mail world around it: hosted domains and mailboxes,
//! site scripts, receivers (with the list each one consults), contacts.

use std::collections::HashMap;

use super::replies::{ListId, Provider};
use super::rng::Rng;

#[derive(Debug, Clone)]
pub struct Domain {
    pub name: String,
    pub mx: String,
    pub ip: String,
    pub provider: Provider,
    /// The list (or provider reputation) this receiver refuses us for.
    pub list: Option<ListId>,
    /// Names Barracuda's list "Barracuda Reputation" (an appliance).
    pub appliance: bool,
    pub greylist: bool,
    /// Nothing answers on port 25.
    pub dead: bool,
}

impl Domain {
    pub fn local(&self) -> bool {
        self.provider == Provider::Local
    }
    /// `mx[ip]` as Postfix names the host it talks to.
    pub fn host(&self) -> String {
        format!("{}[{}]", self.mx, self.ip)
    }
}

#[derive(Debug, Clone)]
pub struct Person {
    pub addr: String,
    pub dom: usize,
    pub unknown: bool,
}

/// A mailbox that submits with SASL on port 587 from its usual client.
#[derive(Debug, Clone)]
pub struct Mailbox {
    pub login: String,
    pub host: String,
    pub ip: String,
    pub per_hour: f64,
    pub contacts: Vec<Person>,
}

/// A site script that sends through sendmail (pickup).
#[derive(Debug, Clone)]
pub struct Script {
    pub uid: u32,
    pub sender: String,
    pub per_hour: f64,
    pub to: Vec<Person>,
}

pub struct World {
    pub host: String,
    pub fqdn: String,
    pub ip: String,
    pub local_domains: Vec<String>,
    pub domains: Vec<Domain>,
    index: HashMap<String, usize>,
    pub mailboxes: Vec<Mailbox>,
    pub scripts: Vec<Script>,
    pub customers: Vec<Person>,
    pub subscribers: Vec<Person>,
    /// Outside senders of inbound mail: (address, host, ip).
    pub inbound: Vec<(String, String, String)>,
    pub local_users: Vec<String>,
    /// Deliver locally through Dovecot LMTP (else Postfix virtual).
    pub lmtp: bool,
    /// A receiver nothing answers for: its mail waits in the queue.
    pub dead: usize,
    /// Receivers by kind, for drawing recipients.
    big: Vec<usize>,
    other: Vec<usize>,
}

const FIRST: [&str; 24] = [
    "anna", "ben", "clara", "david", "eva", "felix", "greta", "hugo", "ida", "jonas", "karin",
    "lukas", "marie", "nils", "olga", "paul", "rita", "stefan", "tina", "uwe", "vera", "walter",
    "yara", "zoe",
];
const LAST: [&str; 16] = [
    "weber", "schmidt", "meyer", "fischer", "wagner", "becker", "koch", "richter", "klein", "wolf",
    "braun", "krause", "martin", "dubois", "rossi", "novak",
];
const W1: [&str; 14] = [
    "alpen", "nord", "sun", "blue", "green", "star", "metro", "city", "euro", "tech", "river",
    "oak", "lake", "stone",
];
const W2: [&str; 10] = [
    "mail", "net", "web", "shop", "media", "haus", "works", "trade", "bau", "design",
];
const TLDS: [&str; 6] = ["de", "com", "net", "fr", "nl", "at"];

/// A name like `alpenhaus-example.de`, not yet in `taken`.
pub fn domain_name(rng: &mut Rng, taken: &HashMap<String, usize>, extra: &[String]) -> String {
    loop {
        let n = format!(
            "{}{}-example.{}",
            rng.pick(&W1),
            rng.pick(&W2),
            rng.pick(&TLDS)
        );
        if !taken.contains_key(&n) && !extra.contains(&n) {
            return n;
        }
    }
}

/// A public-looking address of a far-away network (attackers, bots).
pub fn foreign_ip(rng: &mut Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        rng.pick(&["45", "103", "185", "91", "177", "41", "36", "196", "5", "80", "141"]),
        rng.range(10, 250),
        rng.range(1, 250),
        rng.range(2, 250)
    )
}

impl World {
    pub fn build(rng: &mut Rng) -> World {
        let host = rng
            .pick(&["mx1", "mail", "srv01", "web3", "plesk"])
            .to_string();
        let hoster = format!(
            "{}{}",
            rng.pick(&W1),
            rng.pick(&["host", "hosting", "server"])
        );
        let fqdn = format!("{host}.{hoster}-example.net");
        let ip = format!("198.51.100.{}", rng.range(10, 250));
        let mut w = World {
            host,
            fqdn: fqdn.clone(),
            ip: ip.clone(),
            local_domains: Vec::new(),
            domains: Vec::new(),
            index: HashMap::new(),
            mailboxes: Vec::new(),
            scripts: Vec::new(),
            customers: Vec::new(),
            subscribers: Vec::new(),
            inbound: Vec::new(),
            local_users: Vec::new(),
            lmtp: rng.chance(0.5),
            dead: 0,
            big: Vec::new(),
            other: Vec::new(),
        };
        w.add(&fqdn, &fqdn, &ip, Provider::Local, None);
        for _ in 0..rng.range(4, 6) {
            w.add_local(rng);
        }
        w.add_receivers(rng);
        w.add_people(rng);
        w
    }

    fn add(&mut self, name: &str, mx: &str, ip: &str, p: Provider, list: Option<ListId>) -> usize {
        let i = self.domains.len();
        self.domains.push(Domain {
            name: name.to_string(),
            mx: mx.to_string(),
            ip: ip.to_string(),
            provider: p,
            list,
            appliance: false,
            greylist: false,
            dead: false,
        });
        self.index.insert(name.to_string(), i);
        if p == Provider::Local {
            self.local_domains.push(name.to_string());
        }
        i
    }

    /// A new hosted domain.
    pub fn add_local(&mut self, rng: &mut Rng) -> String {
        let n = domain_name(rng, &self.index, &[]);
        let (fqdn, ip) = (self.fqdn.clone(), self.ip.clone());
        self.add(&n, &fqdn, &ip, Provider::Local, None);
        n
    }

    fn add_generic(&mut self, rng: &mut Rng, list: Option<ListId>) -> usize {
        let n = domain_name(rng, &self.index, &[]);
        let mx = format!("{}.{n}", rng.pick(&["mx", "mail", "mx1", "smtp"]));
        let ip = format!(
            "{}.{}",
            rng.pick(&["203.0.113", "192.0.2"]),
            rng.range(20, 250)
        );
        self.add(&n, &mx, &ip, Provider::Generic, list)
    }

    fn add_receivers(&mut self, rng: &mut Rng) {
        let g = rng.range(26, 27);
        for (d, ip) in [
            ("gmail.com", "142.250.27"),
            ("googlemail.com", "74.125.206"),
        ] {
            let i = self.add(
                d,
                "gmail-smtp-in.l.google.com",
                &format!("{ip}.{g}"),
                Provider::Gmail,
                Some(ListId::Gmail),
            );
            self.big.push(i);
        }
        for d in ["outlook.com", "hotmail.com", "live.com"] {
            let mx = format!("{}.olc.protection.outlook.com", d.replace('.', "-"));
            let ip = format!("52.101.{}.{}", rng.range(40, 90), rng.range(2, 60));
            let i = self.add(d, &mx, &ip, Provider::Microsoft, Some(ListId::Microsoft));
            self.big.push(i);
        }
        let i = self.add(
            "yahoo.com",
            "mta6.am0.yahoodns.net",
            "67.195.204.74",
            Provider::Yahoo,
            Some(ListId::Yahoo),
        );
        self.big.push(i);
        let i = self.add(
            "aol.com",
            "mx-aol.mail.gm0.yahoodns.net",
            "98.136.96.91",
            Provider::Yahoo,
            Some(ListId::Yahoo),
        );
        self.big.push(i);
        for (d, mx, ip) in [
            ("web.de", "mx-ha03.web.de", "212.227.15.10"),
            ("gmx.de", "mx00.emig.gmx.net", "212.227.17.5"),
        ] {
            let i = self.add(d, mx, ip, Provider::Generic, None);
            self.big.push(i);
        }
        for _ in 0..rng.range(2, 3) {
            let i = self.add_generic(rng, Some(ListId::Spamhaus));
            self.other.push(i);
        }
        for _ in 0..rng.range(1, 2) {
            let i = self.add_generic(rng, Some(ListId::Spamcop));
            self.other.push(i);
        }
        for k in 0..2 {
            let i = self.add_generic(rng, Some(ListId::Barracuda));
            self.domains[i].appliance = k == 1;
            self.other.push(i);
        }
        let i = self.add_generic(rng, None);
        self.domains[i].greylist = true;
        self.other.push(i);
        for _ in 0..rng.range(8, 14) {
            let i = self.add_generic(rng, None);
            self.other.push(i);
        }
        let i = self.add_generic(rng, None);
        self.domains[i].dead = true;
        self.dead = i;
    }

    pub fn dom_of(&self, addr: &str) -> Option<usize> {
        self.index
            .get(addr.rsplit('@').next().unwrap_or(""))
            .copied()
    }

    /// A made-up person at a domain.
    pub fn person(&self, rng: &mut Rng, dom: usize, unknown: bool) -> Person {
        let (f, l) = (*rng.pick(&FIRST), *rng.pick(&LAST));
        let d = &self.domains[dom].name;
        let addr = match rng.range(0, 3) {
            0 => format!("{f}.{l}@{d}"),
            1 => format!("{f}{l}{}@{d}", rng.range(1, 99)),
            2 => format!("{}{l}@{d}", &f[..1]),
            _ => format!("{f}_{l}@{d}"),
        };
        Person { addr, dom, unknown }
    }

    /// A receiving domain as ordinary mail spreads: big providers first.
    pub fn external_domain(&self, rng: &mut Rng) -> usize {
        if rng.chance(0.6) {
            // Gmail and Microsoft carry most of it.
            let k = rng.index(self.big.len() + 4);
            self.big[if k >= self.big.len() { k % 2 } else { k }]
        } else {
            *rng.pick(&self.other)
        }
    }

    /// Receivers that refuse us when `l` lists us.
    pub fn receivers_of(&self, l: ListId) -> Vec<usize> {
        (0..self.domains.len())
            .filter(|&i| self.domains[i].list == Some(l))
            .collect()
    }

    /// A new mailbox on a hosted domain with its usual client.
    pub fn mailbox(&mut self, rng: &mut Rng, login: String, per_hour: f64) -> Mailbox {
        let n = rng.range(2, 240);
        let host = if rng.chance(0.5) {
            "unknown".to_string()
        } else {
            format!("dyn-{n}.dsl.example-isp.net")
        };
        let ip = format!("203.0.113.{n}");
        let mut contacts = Vec::new();
        for _ in 0..rng.range(15, 30) {
            let d = self.external_domain(rng);
            let u = rng.chance(0.01);
            contacts.push(self.person(rng, d, u));
        }
        if rng.chance(0.4) {
            contacts.push(self.person(rng, self.dead, false));
        }
        for _ in 0..2 {
            let u = rng.pick(&self.local_users).clone();
            let dom = self.dom_of(&u).unwrap_or(0);
            contacts.push(Person {
                addr: u,
                dom,
                unknown: false,
            });
        }
        Mailbox {
            login,
            host,
            ip,
            per_hour,
            contacts,
        }
    }

    fn add_people(&mut self, rng: &mut Rng) {
        for d in self.local_domains.clone().iter().skip(1) {
            for u in ["info", "office"] {
                self.local_users.push(format!("{u}@{d}"));
            }
            for _ in 0..rng.range(1, 3) {
                let f = *rng.pick(&FIRST);
                let a = format!("{f}@{d}");
                if !self.local_users.contains(&a) {
                    self.local_users.push(a);
                }
            }
        }
        let logins: Vec<String> = self
            .local_users
            .iter()
            .filter(|u| !u.starts_with("info@"))
            .cloned()
            .collect();
        let n = (rng.range(4, 7) as usize).min(logins.len());
        for login in logins.into_iter().take(n) {
            let per_hour = rng.uniform(0.4, 1.4);
            let m = self.mailbox(rng, login, per_hour);
            self.mailboxes.push(m);
        }
        for _ in 0..200 {
            let d = self.external_domain(rng);
            let p = self.person(rng, d, false);
            self.customers.push(p);
        }
        for _ in 0..rng.range(300, 600) {
            let d = self.external_domain(rng);
            let u = rng.chance(0.005);
            let p = self.person(rng, d, u);
            self.subscribers.push(p);
        }
        // A shop's order confirmations: a steady legitimate script.
        let shop = self.local_domains[1].clone();
        let to = self.customers[..60].to_vec();
        self.scripts.push(Script {
            uid: 10001,
            sender: format!("orders@{shop}"),
            per_hour: rng.uniform(0.6, 2.0),
            to,
        });
        for _ in 0..80 {
            let d = self.external_domain(rng);
            let p = self.person(rng, d, false);
            // Outside servers: never an address of this server's own clients.
            let ip = format!(
                "{}.{}",
                rng.pick(&["209.85.218", "40.107.21", "212.227.126", "217.72.192"]),
                rng.range(2, 250)
            );
            let host = match self.domains[d].provider {
                Provider::Gmail => format!("mail-ej1-f{}.google.com", rng.range(40, 70)),
                Provider::Microsoft => format!(
                    "mail-{}.outbound.protection.outlook.com",
                    rng.pick(&["db8eur05", "am6eur04", "vi1eur06"])
                ),
                _ => self.domains[d].mx.clone(),
            };
            self.inbound.push((p.addr, host, ip));
        }
    }

    /// Recipients of a spam run: harvested addresses, many dead.
    pub fn harvested(&self, rng: &mut Rng, n: usize, unknown_share: f64) -> Vec<Person> {
        let mut v: Vec<Person> = Vec::new();
        for _ in 0..n {
            let d = self.external_domain(rng);
            let u = rng.chance(unknown_share);
            let p = self.person(rng, d, u);
            if !v.iter().any(|x| x.addr == p.addr) {
                v.push(p);
            }
        }
        v
    }

    /// Someone at a receiver that consults `l`.
    pub fn person_at(&self, rng: &mut Rng, l: ListId) -> Person {
        let r = self.receivers_of(l);
        let d = *rng.pick(&r);
        self.person(rng, d, false)
    }
}
