//! The scenario drawn from a seed: when the logs start and end, who sends
//! spam when, which receivers list the server when, what noise comes first.
//! Everything the simulation stages is decided here, before any line.

use super::clock::{midnight, DAY, HOUR, MIN};
use super::replies::{ListId, NoiseKind};
use super::rng::Rng;
use super::world::{foreign_ip, Person, World};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    ScriptOutsendsLogin,
    NoHistory,
    TwoSources,
    NoiseBefore,
    Decoys,
    ShortLogs,
    ListingEnds,
}

impl Shape {
    pub const ALL: [Shape; 7] = [
        Shape::ScriptOutsendsLogin,
        Shape::NoHistory,
        Shape::TwoSources,
        Shape::NoiseBefore,
        Shape::Decoys,
        Shape::ShortLogs,
        Shape::ListingEnds,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Shape::ScriptOutsendsLogin => "script-outsends-login",
            Shape::NoHistory => "no-history",
            Shape::TwoSources => "two-sources",
            Shape::NoiseBefore => "noise-before",
            Shape::Decoys => "decoys",
            Shape::ShortLogs => "short-logs",
            Shape::ListingEnds => "listing-ends",
        }
    }

    pub fn parse(s: &str) -> Option<Shape> {
        Shape::ALL.into_iter().find(|x| x.name() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A mailbox login used by someone else (`sasl:LOGIN`).
    Sasl,
    /// A site script sending through sendmail (`uid:N`).
    Uid,
    /// A device on a trusted network relaying without login (`client:IP`).
    Client,
    /// A web application talking SMTP to localhost (`sender:ADDRESS`).
    Sender,
}

impl SourceKind {
    pub fn id(self) -> &'static str {
        match self {
            SourceKind::Sasl => "sasl",
            SourceKind::Uid => "uid",
            SourceKind::Client => "client",
            SourceKind::Sender => "sender",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Burst {
    pub start: i64,
    pub end: i64,
    pub per_hour: f64,
}

#[derive(Debug, Clone)]
pub struct Guessing {
    pub start: i64,
    pub end: i64,
    pub ips: Vec<String>,
    pub per_hour: f64,
}

/// One staged spam source and the legitimate mail of the same identity.
#[derive(Debug, Clone)]
pub struct Source {
    pub kind: SourceKind,
    pub role: &'static str,
    pub identity: String,
    pub sender: String,
    pub uid: u32,
    /// The identity's usual client (host, ip); `localhost` for scripts.
    pub usual: (String, String),
    pub attackers: Vec<(String, String)>,
    pub bursts: Vec<Burst>,
    pub rcpts: (u64, u64),
    pub unknown_share: f64,
    pub legit_per_hour: f64,
    pub legit_to: Vec<Person>,
    /// No mail of this identity before this time.
    pub history_from: i64,
    pub guessing: Option<Guessing>,
    pub lists: Vec<ListId>,
}

impl Source {
    pub fn burst_at(&self, t: i64) -> Option<&Burst> {
        self.bursts.iter().find(|b| t >= b.start && t < b.end)
    }
}

#[derive(Debug, Clone)]
pub struct Listing {
    pub list: ListId,
    pub start: i64,
    pub end: Option<i64>,
    /// Gmail's step from 421 (deferred) to 550 (bounced).
    pub escalate: Option<i64>,
    pub source: usize,
}

#[derive(Debug, Clone)]
pub struct Noise {
    pub kind: NoiseKind,
    pub start: i64,
    pub end: i64,
    /// The receiving domain, and for a recipient-side limit the mailboxes.
    pub dom: usize,
    pub targets: Vec<Person>,
}

/// Who sends a staged message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The legitimate owner of a source's identity, from its usual client.
    Source(usize),
    Mailbox(usize),
}

#[derive(Debug, Clone)]
pub struct Staged {
    pub t: i64,
    pub who: Who,
    pub to: Person,
    pub why: &'static str,
}

/// A high-volume legitimate sender that must not be taken for a source.
#[derive(Debug, Clone)]
pub struct Decoy {
    pub identity: String,
    pub why: String,
    pub login: Option<(String, String, String)>,
    pub uid: u32,
    pub sender: String,
    pub per_hour: f64,
    pub hours: (i64, i64),
    pub rcpts: (u64, u64),
}

pub struct Plan {
    pub shape: Shape,
    pub features: Vec<&'static str>,
    pub sim_start: i64,
    pub log_start: i64,
    pub log_end: i64,
    /// When the first listing begins (the first refusal follows it).
    pub t1: i64,
    pub sources: Vec<Source>,
    pub listings: Vec<Listing>,
    pub noise: Vec<Noise>,
    pub staged: Vec<Staged>,
    pub decoys: Vec<Decoy>,
    pub amavis: bool,
    pub lifetime: i64,
    pub hold_at: Option<i64>,
    /// A deferring list that lasts to the end: its mail stays queued.
    pub holder: ListId,
    pub max_file_lines: u64,
}

impl Plan {
    pub fn listing_of(&self, l: ListId) -> Option<&Listing> {
        self.listings.iter().find(|x| x.list == l)
    }
}

fn attacker(rng: &mut Rng) -> (String, String) {
    let ip = foreign_ip(rng);
    let host = if rng.chance(0.6) {
        "unknown".to_string()
    } else {
        format!("ip-{}.static.example-hoster.net", ip.replace('.', "-"))
    };
    (host, ip)
}

/// Draws the scenario. `world` gains the domains and mailboxes it needs.
pub fn draw(rng: &mut Rng, shape: Shape, w: &mut World) -> Plan {
    let mut features: Vec<&'static str> = Vec::new();
    let mut extra = |rng: &mut Rng, name: &'static str, p: f64, own: bool| {
        let on = own || rng.chance(p);
        if on && !own {
            features.push(name);
        }
        on
    };
    let short = shape == Shape::ShortLogs;
    let noisy = extra(
        rng,
        "noise",
        if short { 0.0 } else { 0.3 },
        shape == Shape::NoiseBefore,
    );
    let decoys = extra(rng, "decoys", 0.3, shape == Shape::Decoys);
    let ends = extra(rng, "listing-ends", 0.25, shape == Shape::ListingEnds);
    let hold = extra(rng, "hold", 0.35, false);
    let no_filter = extra(rng, "no-content-filter", 0.3, false);
    let short_life = extra(rng, "queue-lifetime-1d", 0.25, false);

    let year = 2024 + rng.range(0, 3) as i32;
    let day = midnight(year, 1, 1) + rng.range(0, 364) as i64 * DAY;
    let t1 = day + rng.between(8 * HOUR, 23 * HOUR + 30 * MIN);
    let pre = match shape {
        Shape::ShortLogs => rng.between(5 * MIN, 29 * MIN),
        Shape::NoHistory | Shape::NoiseBefore => rng.between(28 * HOUR, 40 * HOUR),
        _ if noisy => rng.between(27 * HOUR, 36 * HOUR),
        _ => rng.between(14 * HOUR, 30 * HOUR),
    };
    let log_start = t1 - pre;
    let mut p = Plan {
        shape,
        features,
        sim_start: if short {
            t1 - 26 * HOUR
        } else {
            log_start - 2 * HOUR
        },
        log_start,
        log_end: t1
            + if short {
                rng.between(10 * HOUR, 18 * HOUR)
            } else {
                rng.between(5 * HOUR, 14 * HOUR)
            },
        t1,
        sources: Vec::new(),
        listings: Vec::new(),
        noise: Vec::new(),
        staged: Vec::new(),
        decoys: Vec::new(),
        amavis: !no_filter,
        lifetime: if short_life { DAY } else { 5 * DAY },
        hold_at: None,
        holder: *rng.pick(&[
            ListId::Spamcop,
            ListId::Barracuda,
            ListId::Yahoo,
            ListId::Gmail,
        ]),
        max_file_lines: if short {
            rng.range(800, 2000)
        } else {
            rng.range(2500, 7000)
        },
    };
    draw_sources(rng, &mut p, w);
    draw_listings(rng, &mut p, ends);
    if shape == Shape::TwoSources {
        draw_second_source(rng, &mut p, w);
    }
    draw_repeats(rng, &mut p);
    if noisy {
        super::stage::draw_noise(rng, &mut p, w);
    }
    if decoys {
        super::stage::draw_decoys(rng, &mut p, w);
    }
    super::stage::stage_mail(rng, &mut p, w);
    let last_burst = p
        .sources
        .iter()
        .flat_map(|s| s.bursts.iter().map(|b| b.end))
        .max()
        .unwrap_or(t1);
    if hold && last_burst + 45 * MIN < p.log_end {
        p.hold_at = Some(last_burst + rng.between(10 * MIN, 40 * MIN));
    }
    p
}

/// A new or existing identity of the given kind, with its legitimate side.
fn make_source(rng: &mut Rng, kind: SourceKind, fresh: bool, p: &Plan, w: &mut World) -> Source {
    let mut s = Source {
        kind,
        role: "",
        identity: String::new(),
        sender: String::new(),
        uid: 0,
        usual: ("localhost".into(), "127.0.0.1".into()),
        attackers: Vec::new(),
        bursts: Vec::new(),
        rcpts: (1, 4),
        unknown_share: rng.uniform(0.15, 0.4),
        legit_per_hour: rng.uniform(0.15, 0.5),
        legit_to: Vec::new(),
        history_from: p.sim_start,
        guessing: None,
        lists: Vec::new(),
    };
    let holder_person = |rng: &mut Rng, w: &World| w.person_at(rng, p.holder);
    match kind {
        SourceKind::Sasl => {
            let m = if fresh || w.mailboxes.len() < 3 {
                let d = w.local_domains[1 + rng.index(w.local_domains.len() - 1)].clone();
                let login = format!(
                    "{}@{d}",
                    rng.pick(&["booking", "events", "team", "jobs", "shop"])
                );
                w.local_users.push(login.clone());
                let per = rng.uniform(0.3, 1.0);
                w.mailbox(rng, login, per)
            } else {
                let i = rng.index(w.mailboxes.len());
                w.mailboxes.remove(i)
            };
            s.role = if fresh {
                "new mailbox login, password guessed"
            } else {
                "phished mailbox login"
            };
            s.identity = format!("sasl:{}", m.login);
            s.sender = m.login.clone();
            s.usual = (m.host.clone(), m.ip.clone());
            s.legit_per_hour = m.per_hour;
            s.legit_to = m.contacts.clone();
            s.rcpts = (1, 6);
            for _ in 0..rng.range(3, 10) {
                s.attackers.push(attacker(rng));
            }
        }
        SourceKind::Uid => {
            let site = w.add_local(rng);
            s.role = if fresh {
                "new site script"
            } else {
                "hacked contact form"
            };
            s.uid = 10002 + w.scripts.len() as u32 + rng.range(0, 40) as u32;
            s.identity = format!("uid:{}", s.uid);
            s.sender = format!(
                "{}@{site}",
                rng.pick(&["contact", "noreply", "wordpress", "form"])
            );
            s.legit_to = vec![holder_person(rng, w)];
        }
        SourceKind::Client => {
            let site = w.add_local(rng);
            let n = rng.range(20, 250);
            s.role = "compromised device on a trusted network";
            s.usual = (format!("office-gw.{site}"), format!("192.0.2.{n}"));
            s.identity = format!("client:192.0.2.{n}");
            s.sender = format!("scanner@{site}");
            s.legit_to = vec![holder_person(rng, w)];
        }
        SourceKind::Sender => {
            let site = w.add_local(rng);
            s.role = if fresh {
                "new web application (SMTP to localhost)"
            } else {
                "hacked web application (SMTP to localhost)"
            };
            s.sender = format!("wordpress@{site}");
            s.identity = format!("sender:{}", s.sender);
            s.legit_to = vec![holder_person(rng, w)];
        }
    }
    s
}

/// Password guessing against a login in the night before `start` (from
/// 22:00 on), ending at least half an hour before it; from `not_before` on
/// for an account that did not exist earlier.
fn guessing_before(rng: &mut Rng, start: i64, not_before: i64) -> Guessing {
    let night = (start - 3 * HOUR - 22 * HOUR).div_euclid(DAY) * DAY + 22 * HOUR;
    let g0 = (night + rng.between(0, 3 * HOUR)).max(not_before + rng.between(5 * MIN, 20 * MIN));
    let g0 = g0.min(start - 90 * MIN);
    let end = (g0 + rng.between(2 * HOUR, 5 * HOUR)).min(start - 30 * MIN);
    Guessing {
        start: g0,
        end,
        ips: (0..rng.range(1, 3)).map(|_| foreign_ip(rng)).collect(),
        per_hour: rng.uniform(20.0, 70.0),
    }
}

fn draw_sources(rng: &mut Rng, p: &mut Plan, w: &mut World) {
    let t1 = p.t1;
    let lead = |rng: &mut Rng| rng.between(25 * MIN, 90 * MIN);
    let after = |rng: &mut Rng| rng.between(30 * MIN, 150 * MIN);
    match p.shape {
        Shape::ScriptOutsendsLogin => {
            let mut script = make_source(rng, SourceKind::Uid, false, p, w);
            let mut login = make_source(rng, SourceKind::Sasl, false, p, w);
            login.rcpts = (1, 4);
            let (sl, ss) = (
                t1 - rng.between(25 * MIN, 70 * MIN),
                t1 - rng.between(30 * MIN, 90 * MIN),
            );
            let rl = rng.uniform(40.0, 90.0);
            let ratio = rng.uniform(1.8, 2.5);
            let rs = ratio * rl * (t1 - sl) as f64 / (t1 - ss) as f64;
            login.bursts.push(Burst {
                start: sl,
                end: t1 + after(rng),
                per_hour: rl,
            });
            script.bursts.push(Burst {
                start: ss,
                end: t1 + after(rng),
                per_hour: rs,
            });
            login.guessing = Some(guessing_before(rng, sl, p.sim_start));
            p.sources.push(script);
            p.sources.push(login);
        }
        _ => {
            let fresh = p.shape == Shape::NoHistory;
            let kinds: &[SourceKind] = if fresh {
                &[SourceKind::Sasl, SourceKind::Uid, SourceKind::Sender]
            } else {
                &[
                    SourceKind::Sasl,
                    SourceKind::Sasl,
                    SourceKind::Uid,
                    SourceKind::Uid,
                    SourceKind::Client,
                    SourceKind::Sender,
                ]
            };
            let kind = *rng.pick(kinds);
            let mut s = make_source(rng, kind, fresh, p, w);
            let start = if p.shape == Shape::ShortLogs {
                t1 - rng.between(30 * MIN, 120 * MIN)
            } else {
                t1 - lead(rng)
            };
            s.bursts.push(Burst {
                start,
                end: t1 + after(rng),
                per_hour: rng.uniform(60.0, 180.0),
            });
            if kind == SourceKind::Sasl {
                s.guessing = Some(guessing_before(rng, start, p.sim_start));
            }
            if fresh {
                // Created a few hours before it was abused: nothing older.
                s.history_from = start - rng.between(2 * HOUR, 6 * HOUR);
                if let Some(g) = &mut s.guessing {
                    *g = guessing_before(rng, start, s.history_from);
                }
            }
            p.sources.push(s);
        }
    }
}

/// Now and then an identity is abused again later (not the first source
/// of two, whose second listing must have one cause).
fn draw_repeats(rng: &mut Rng, p: &mut Plan) {
    let skip = usize::from(p.shape == Shape::TwoSources);
    for s in p.sources.iter_mut().skip(skip) {
        let end = s.bursts[0].end;
        let again = end + rng.between(HOUR, 4 * HOUR);
        let stop = again + rng.between(15 * MIN, 50 * MIN);
        if rng.chance(0.35) && stop + 30 * MIN < p.log_end {
            let per_hour = s.bursts[0].per_hour * rng.uniform(0.4, 0.9);
            s.bursts.push(Burst {
                start: again,
                end: stop,
                per_hour,
            });
        }
    }
}

/// The lists a source gets the server onto, from `first` on.
fn lists_for(
    rng: &mut Rng,
    p: &mut Plan,
    source: usize,
    first: i64,
    count: usize,
    avoid: &[ListId],
) {
    let mut pool: Vec<ListId> = ListId::ALL
        .into_iter()
        .filter(|l| !avoid.contains(l))
        .collect();
    let mut chosen = Vec::new();
    if source == 0 {
        chosen.push(p.holder);
        pool.retain(|&l| l != p.holder);
    }
    while chosen.len() < count && !pool.is_empty() {
        let i = rng.index(pool.len());
        chosen.push(pool.remove(i));
    }
    // The first onset is a random one of them; the rest follow.
    let k = rng.index(chosen.len());
    chosen.swap(0, k);
    let mut t = first;
    for l in chosen {
        let escalate = (l == ListId::Gmail && l != p.holder && rng.chance(0.6))
            .then(|| t + rng.between(30 * MIN, 2 * HOUR));
        p.listings.push(Listing {
            list: l,
            start: t,
            end: None,
            escalate,
            source,
        });
        p.sources[source].lists.push(l);
        t += rng.between(5 * MIN, 50 * MIN);
    }
}

fn draw_listings(rng: &mut Rng, p: &mut Plan, ends: bool) {
    let n = rng.range(2, 4) as usize;
    lists_for(rng, p, 0, p.t1, n, &[]);
    let last_onset = p.listings.iter().map(|l| l.start).max().unwrap_or(p.t1);
    // The bursts outlast the holder's onset, so the owner's mail sent
    // during the burst meets the listing.
    let hs = p.listing_of(p.holder).map_or(p.t1, |l| l.start);
    for s in &mut p.sources {
        s.bursts[0].end = s.bursts[0].end.max(hs + rng.between(20 * MIN, 60 * MIN));
    }
    p.log_end = p.log_end.max(last_onset + 3 * HOUR);
    if ends {
        let cands: Vec<usize> = (0..p.listings.len())
            .filter(|&i| p.listings[i].list != p.holder)
            .collect();
        let i = cands[rng.index(cands.len())];
        let l = &mut p.listings[i];
        let end = l.start + rng.between(90 * MIN, 5 * HOUR);
        l.end = Some(end);
        if let Some(e) = l.escalate {
            if e >= end {
                l.escalate = None;
            }
        }
        p.log_end = p.log_end.max(end + rng.between(2 * HOUR, 5 * HOUR));
    }
}

fn draw_second_source(rng: &mut Rng, p: &mut Plan, w: &mut World) {
    let first = p.sources[0].kind;
    let kinds: Vec<SourceKind> = [
        SourceKind::Sasl,
        SourceKind::Uid,
        SourceKind::Client,
        SourceKind::Sender,
    ]
    .into_iter()
    .filter(|&k| k != first)
    .collect();
    let kind = *rng.pick(&kinds);
    let mut s = make_source(rng, kind, false, p, w);
    // It starts after the first source's burst, so each listing has one cause.
    let a_end = p.sources[0].bursts[0].end;
    let start = (a_end + 30 * MIN).max(p.t1 + 90 * MIN) + rng.between(0, 3 * HOUR);
    let end = start + rng.between(60 * MIN, 150 * MIN);
    s.bursts.push(Burst {
        start,
        end,
        per_hour: rng.uniform(60.0, 160.0),
    });
    if kind == SourceKind::Sasl {
        s.guessing = Some(guessing_before(rng, start, p.sim_start));
    }
    p.sources.push(s);
    let used: Vec<ListId> = p.listings.iter().map(|l| l.list).collect();
    let onset = start + rng.between(30 * MIN, 70 * MIN);
    let n = rng.range(1, 2) as usize;
    lists_for(rng, p, 1, onset, n, &used);
    let last = p.listings.iter().map(|l| l.start).max().unwrap_or(onset);
    p.log_end = p
        .log_end
        .max(end + rng.between(HOUR, 3 * HOUR))
        .max(last + 2 * HOUR);
}
