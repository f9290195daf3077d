//! The world: hosts, domains, people and the mailboxes on our server,
//! drawn once from the seed.

use super::traffic::N_SASL;
use super::Sim;

pub(super) const HOST: &str = "mx1";
pub(super) const FQDN: &str = "mx1.hosting-example.net";
pub(super) const OUR_IP: &str = "198.51.100.25";
pub(super) const FILTER_RELAY: &str = "relay=127.0.0.1[127.0.0.1]:10024";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Provider {
    Local,
    Gmail,
    Microsoft,
    Yahoo,
    Generic,
}

/// A receiver-side condition that lasts a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Listing {
    Spamhaus,
    Microsoft,
    GmailRate,
    Spamcop,
    Barracuda,
}

impl Listing {
    pub(super) fn list(self) -> &'static str {
        match self {
            Listing::Spamhaus => "zen.spamhaus.org",
            Listing::Microsoft => "microsoft",
            Listing::GmailRate => "gmail",
            Listing::Spamcop => "bl.spamcop.net",
            Listing::Barracuda => "b.barracudacentral.org",
        }
    }
    pub(super) fn cause(self) -> &'static str {
        match self {
            Listing::GmailRate => "rate_limited",
            _ => "blacklisted",
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Domain {
    pub(super) name: String,
    pub(super) mx: String,
    pub(super) ip: String,
    pub(super) provider: Provider,
    pub(super) greylist: bool,
    pub(super) dead: bool,
    pub(super) listing: Option<Listing>,
}

#[derive(Debug, Clone)]
pub(super) struct Contact {
    pub(super) addr: String,
    pub(super) dom: usize,
    pub(super) unknown: bool,
    pub(super) full: bool,
}

pub(super) const FIRST: [&str; 24] = [
    "anna", "ben", "clara", "david", "eva", "felix", "greta", "hugo", "ida", "jonas", "karin",
    "lukas", "marie", "nils", "olga", "paul", "rita", "stefan", "tina", "uwe", "vera", "walter",
    "yara", "zoe",
];
const LAST: [&str; 20] = [
    "weber",
    "schmidt",
    "meyer",
    "fischer",
    "wagner",
    "becker",
    "hoffmann",
    "koch",
    "richter",
    "klein",
    "wolf",
    "neumann",
    "braun",
    "zimmermann",
    "krause",
    "martin",
    "dubois",
    "rossi",
    "jansen",
    "novak",
];
pub(super) const W1: [&str; 12] = [
    "alpen", "nord", "sun", "blue", "green", "star", "metro", "city", "euro", "tech", "river",
    "oak",
];
const W2: [&str; 8] = [
    "mail", "net", "web", "shop", "media", "haus", "works", "trade",
];
const TLDS: [&str; 7] = [".de", ".com", ".net", ".fr", ".it", ".nl", ".at"];

pub(super) const SASL_USERS: [&str; N_SASL] = [
    "alice@shop-example.com",
    "bob@shop-example.com",
    "carol@bakery-example.net",
    "dan@bakery-example.net",
    "erin@studio-example.org",
    "frank@studio-example.org",
];
pub(super) const MIKE: &str = "mike@studio-example.org";
pub(super) const SALES: &str = "sales@shop-example.com";
pub(super) const NEWS_UID: u32 = 10002;
pub(super) const SCRIPT_UID: u32 = 10005;

impl Sim {
    fn add_domain(&mut self, name: &str, mx: &str, ip: &str, p: Provider) -> usize {
        let i = self.domains.len();
        self.domains.push(Domain {
            name: name.to_string(),
            mx: mx.to_string(),
            ip: ip.to_string(),
            provider: p,
            greylist: false,
            dead: false,
            listing: None,
        });
        self.dom_index.insert(name.to_string(), i);
        i
    }

    /// Draws the domains, the mailboxes' contacts, the shop's customers and
    /// subscribers, outside senders and the spammers' IPs, in that order
    /// (the order of the draws is part of the output).
    pub(super) fn build_world(&mut self) {
        let (k, dead) = self.add_named_domains();
        self.add_generic_domains();
        let big: Vec<usize> = (5..self.domains.len())
            .filter(|&i| !self.domains[i].dead && !self.domains[i].greylist)
            .collect();
        self.spam_domains = big.clone();

        self.local_users = SASL_USERS
            .iter()
            .chain(
                [
                    MIKE,
                    SALES,
                    "info@oldblog-example.org",
                    "office@shop-example.com",
                ]
                .iter(),
            )
            .map(|s| s.to_string())
            .collect();

        self.add_contacts(&big, k, dead);
        self.add_customers(&big, dead);
        self.add_external_senders(&big);
        self.add_mike_ips();
    }

    /// Our own domains, the big providers and the partners the story needs
    /// (listed, greylisting, dead); returns the greylisting and the dead one.
    fn add_named_domains(&mut self) -> (usize, usize) {
        for d in [
            "shop-example.com",
            "bakery-example.net",
            "studio-example.org",
            "oldblog-example.org",
            "mx1.hosting-example.net",
        ] {
            self.add_domain(d, FQDN, OUR_IP, Provider::Local);
        }
        let g = self.add_domain(
            "gmail.com",
            "gmail-smtp-in.l.google.com",
            "142.250.27.26",
            Provider::Gmail,
        );
        self.domains[g].listing = Some(Listing::GmailRate);
        let g2 = self.add_domain(
            "googlemail.com",
            "gmail-smtp-in.l.google.com",
            "142.250.27.27",
            Provider::Gmail,
        );
        self.domains[g2].listing = Some(Listing::GmailRate);
        for (d, ip) in [
            ("outlook.com", "52.101.68.17"),
            ("hotmail.com", "52.101.73.4"),
        ] {
            let mx = format!("{}.olc.protection.outlook.com", d.replace('.', "-"));
            let i = self.add_domain(d, &mx, ip, Provider::Microsoft);
            self.domains[i].listing = Some(Listing::Microsoft);
        }
        self.add_domain(
            "yahoo.com",
            "mta5.am0.yahoodns.net",
            "67.195.204.72",
            Provider::Yahoo,
        );
        self.add_domain(
            "web.de",
            "mx-ha03.web.de",
            "212.227.15.10",
            Provider::Generic,
        );
        self.add_domain(
            "gmx.de",
            "mx00.emig.gmx.net",
            "212.227.17.5",
            Provider::Generic,
        );
        for (d, mx, ip, l) in [
            (
                "kabelnet-example.de",
                "mx.kabelnet-example.de",
                "192.0.2.31",
                Listing::Spamhaus,
            ),
            (
                "telco-example.fr",
                "mx1.telco-example.fr",
                "192.0.2.32",
                Listing::Spamhaus,
            ),
            (
                "bigisp-example.net",
                "mx.bigisp-example.net",
                "192.0.2.33",
                Listing::Spamcop,
            ),
            (
                "corp-example.com",
                "mail.corp-example.com",
                "192.0.2.34",
                Listing::Barracuda,
            ),
        ] {
            let i = self.add_domain(d, mx, ip, Provider::Generic);
            self.domains[i].listing = Some(l);
        }
        let k = self.add_domain(
            "kmu-example.ch",
            "mail.kmu-example.ch",
            "192.0.2.35",
            Provider::Generic,
        );
        self.domains[k].greylist = true;
        let dead = self.add_domain(
            "deadshop-example.com",
            "mail.deadshop-example.com",
            "203.0.113.77",
            Provider::Generic,
        );
        self.domains[dead].dead = true;
        (k, dead)
    }

    /// Ordinary other domains.
    fn add_generic_domains(&mut self) {
        let mut generic = Vec::new();
        for a in W1 {
            for b in W2 {
                if self.rng.chance(0.35) {
                    let tld = *self.rng.pick(&TLDS);
                    let name = format!("{a}{b}{tld}");
                    if self.dom_index.contains_key(&name) {
                        continue;
                    }
                    let ip = format!(
                        "{}.{}",
                        self.rng.pick(&["203.0.113", "198.51.100", "192.0.2"]),
                        self.rng.range(40, 250)
                    );
                    let mx = if self.rng.chance(0.5) {
                        format!("mx.{name}")
                    } else {
                        format!("mail.{name}")
                    };
                    generic.push(self.add_domain(&name, &mx, &ip, Provider::Generic));
                }
            }
        }
    }

    /// Contact lists: mostly the big providers and a few partners; one
    /// contact at the dead shop, one at the greylisting firm, one full box.
    fn add_contacts(&mut self, big: &[usize], k: usize, dead: usize) {
        for u in 0..N_SASL + 1 {
            let mut list = Vec::new();
            for _ in 0..30 {
                let dom = if self.rng.chance(0.55) {
                    big[(self.rng.next_u64() % 9) as usize]
                } else {
                    *self.rng.pick(big)
                };
                list.push(self.person(dom, false));
            }
            list.push(self.person(k, false));
            if u % 2 == 0 {
                list.push(self.person(dead, false));
            }
            // Colleagues on the same server.
            for l in 0..3 {
                let addr = self.local_users[(u + l + 1) % N_SASL].clone();
                let dom = self.dom_of(&addr);
                list.push(Contact {
                    addr,
                    dom,
                    unknown: false,
                    full: false,
                });
            }
            self.contacts.push(list);
        }
        let bigisp = self.dom_index["bigisp-example.net"];
        self.contacts[1].push(Contact {
            addr: "buchhaltung@bigisp-example.net".into(),
            dom: bigisp,
            unknown: false,
            full: true,
        });
    }

    /// The shop's customers (one at the dead shop) and the newsletter's
    /// subscribers.
    fn add_customers(&mut self, big: &[usize], dead: usize) {
        for _ in 0..300 {
            let dom = *self.rng.pick(big);
            let c = self.person(dom, false);
            self.customers.push(c);
        }
        let c = self.person(dead, false);
        self.customers.push(c);
        for _ in 0..900 {
            let dom = *self.rng.pick(big);
            let unknown = self.rng.chance(0.006);
            let c = self.person(dom, unknown);
            self.subscribers.push(c);
        }
    }

    /// People elsewhere who write to our mailboxes, with their servers.
    fn add_external_senders(&mut self, big: &[usize]) {
        for _ in 0..120 {
            let dom = *self.rng.pick(big);
            let p = self.person(dom, false);
            let host = match self.domains[dom].provider {
                Provider::Gmail => format!("mail-ej1-f{}.google.com", self.rng.range(40, 70)),
                Provider::Microsoft => format!(
                    "mail-{}.outbound.protection.outlook.com",
                    self.rng.pick(&["db8eur05", "am6eur04", "vi1eur06"])
                ),
                _ => self.domains[dom].mx.clone(),
            };
            let ip = format!(
                "{}.{}",
                self.rng
                    .pick(&["209.85.218", "40.107.21", "212.227.126", "203.0.113"]),
                self.rng.range(2, 250)
            );
            self.external_senders.push((p.addr, host, ip));
        }
    }

    /// The foreign IPs the spammers use with mike's password.
    fn add_mike_ips(&mut self) {
        for _ in 0..8 {
            let ip = format!(
                "{}.{}.{}.{}",
                self.rng
                    .pick(&["45", "103", "185", "91", "177", "41", "36", "196"]),
                self.rng.range(10, 250),
                self.rng.range(1, 250),
                self.rng.range(2, 250)
            );
            let name = if self.rng.chance(0.5) {
                "unknown".to_string()
            } else {
                format!("ip-{}.static.example-hoster.net", ip.replace('.', "-"))
            };
            self.mike_ips.push((name, ip));
        }
    }

    pub(super) fn dom_of(&self, addr: &str) -> usize {
        let d = addr.rsplit('@').next().unwrap_or("");
        *self.dom_index.get(d).unwrap_or(&0)
    }

    pub(super) fn person(&mut self, dom: usize, unknown: bool) -> Contact {
        let f = *self.rng.pick(&FIRST);
        let l = *self.rng.pick(&LAST);
        let addr = match self.rng.range(0, 3) {
            0 => format!("{f}.{l}@{}", self.domains[dom].name),
            1 => format!("{f}{l}{}@{}", self.rng.range(1, 99), self.domains[dom].name),
            2 => format!("{}{l}@{}", &f[..1], self.domains[dom].name),
            _ => format!("{f}_{l}@{}", self.domains[dom].name),
        };
        Contact {
            addr,
            dom,
            unknown,
            full: false,
        }
    }
}
