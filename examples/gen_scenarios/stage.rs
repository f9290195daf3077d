//! What the plan stages besides the spam: noise replies before the first
//! listing, high-volume decoys, and the legitimate messages that make the
//! truth's promises hold (the owner's mail queued next to the spam, each
//! listing's refusals, deliveries after a listing ends).

use super::clock::{HOUR, MIN, SEC};
use super::plan::{Decoy, Noise, Plan, SourceKind, Staged, Who};
use super::replies::{ListId, NoiseKind};
use super::rng::Rng;
use super::world::{Person, World};

pub fn draw_noise(rng: &mut Rng, p: &mut Plan, w: &World) {
    let gmail = w.receivers_of(ListId::Gmail)[0];
    let ms = w.receivers_of(ListId::Microsoft)[0];
    let generic = w.dom_of("web.de").unwrap_or(gmail);
    let grey = (0..w.domains.len())
        .find(|&i| w.domains[i].greylist)
        .unwrap_or(generic);
    let targets: Vec<Person> = (0..rng.range(1, 2))
        .map(|_| w.person(rng, gmail, false))
        .collect();
    let mut add =
        |rng: &mut Rng, kind: NoiseKind, dom: usize, before: (i64, i64), len: (i64, i64)| {
            let start = p.t1 - rng.between(before.0, before.1);
            let end = (start + rng.between(len.0, len.1)).min(p.t1 - 5 * MIN);
            if start >= p.log_start + 10 * MIN && end > start {
                let t = if kind == NoiseKind::RecipientRate {
                    targets.clone()
                } else {
                    Vec::new()
                };
                p.noise.push(Noise {
                    kind,
                    start,
                    end,
                    dom,
                    targets: t,
                });
            }
        };
    add(
        rng,
        NoiseKind::RecipientRate,
        gmail,
        (20 * HOUR, 26 * HOUR),
        (30 * MIN, 90 * MIN),
    );
    add(
        rng,
        NoiseKind::RecipientRate,
        gmail,
        (HOUR, 5 * HOUR),
        (20 * MIN, 60 * MIN),
    );
    add(
        rng,
        NoiseKind::Concurrency,
        generic,
        (21 * HOUR, 26 * HOUR),
        (10 * MIN, 30 * MIN),
    );
    add(
        rng,
        NoiseKind::Concurrency,
        generic,
        (2 * HOUR, 6 * HOUR),
        (10 * MIN, 20 * MIN),
    );
    add(
        rng,
        NoiseKind::Busy,
        ms,
        (2 * HOUR, 9 * HOUR),
        (5 * MIN, 20 * MIN),
    );
    add(
        rng,
        NoiseKind::Greylisting,
        grey,
        (20 * HOUR, 25 * HOUR),
        (2 * HOUR, 3 * HOUR),
    );
    add(
        rng,
        NoiseKind::Greylisting,
        grey,
        (HOUR, 4 * HOUR),
        (HOUR, 2 * HOUR),
    );
    // Ordinary users write into each window, so each noise reply happens.
    let users = w.mailboxes.len();
    for n in p.noise.clone() {
        for _ in 0..rng.range(2, 5) {
            let t = rng.between(n.start, n.end - MIN);
            let to = if n.targets.is_empty() {
                w.person(rng, n.dom, false)
            } else {
                rng.pick(&n.targets).clone()
            };
            let who = Who::Mailbox(rng.index(users));
            p.staged.push(Staged {
                t,
                who,
                to,
                why: "legit: ordinary user",
            });
        }
    }
    // A few typos: unknown users before the listing.
    for _ in 0..rng.range(2, 4) {
        let t = p.t1 - rng.between(2 * HOUR, (p.t1 - p.log_start) - 20 * MIN);
        let d = w.external_domain(rng);
        let to = w.person(rng, d, true);
        p.staged.push(Staged {
            t,
            who: Who::Mailbox(rng.index(users)),
            to,
            why: "legit: ordinary user (mistyped address)",
        });
    }
}

pub fn draw_decoys(rng: &mut Rng, p: &mut Plan, w: &mut World) {
    let shop = w.local_domains[1].clone();
    let hours = (rng.between(6, 9), rng.between(17, 21));
    let per_hour = rng.uniform(12.0, 25.0);
    let d = if rng.chance(0.5) {
        let uid = 10050 + rng.range(0, 30) as u32;
        Decoy {
            identity: format!("uid:{uid}"),
            why: String::new(),
            login: None,
            uid,
            sender: format!("newsletter@{shop}"),
            per_hour,
            hours,
            rcpts: (1, 1),
        }
    } else {
        let login = format!("news@{shop}");
        Decoy {
            identity: format!("sasl:{login}"),
            why: String::new(),
            login: Some((
                login.clone(),
                "newsletter.mailer-example.com".into(),
                format!("192.0.2.{}", rng.range(2, 19)),
            )),
            uid: 0,
            sender: login,
            per_hour,
            hours,
            rcpts: (1, 1),
        }
    };
    let why = format!(
        "steady daily newsletter: about {:.0} messages an hour from {:02}:00 to {:02}:00 every day",
        d.per_hour, d.hours.0, d.hours.1
    );
    p.decoys.push(Decoy { why, ..d });
    let big = w.add_local(rng);
    let login = format!("sales@{big}");
    let ip = format!("192.0.2.{}", rng.range(2, 19));
    p.decoys.push(Decoy {
        identity: format!("sasl:{login}"),
        why: "big legitimate customer: many recipients per message, the same office-hours volume every day".into(),
        login: Some((login.clone(), format!("office.{big}"), ip)),
        uid: 0,
        sender: login,
        per_hour: rng.uniform(2.0, 4.0),
        hours: (8, 18),
        rcpts: (5, 15),
    });
}

/// Legitimate mail of each source's owner that meets the holder listing
/// (so it is queued at the end next to the spam), and mail to a receiver
/// after its listing ended (so deliveries succeed again).
pub fn stage_mail(rng: &mut Rng, p: &mut Plan, w: &World) {
    let hs = p.listing_of(p.holder).map_or(p.t1, |l| l.start);
    for i in 0..p.sources.len() {
        let s = &p.sources[i];
        let (b0, b1) = (s.bursts[0].start, s.bursts[0].end);
        let mut times = Vec::new();
        if s.kind == SourceKind::Sasl {
            let from = hs.max(b0) + MIN;
            for _ in 0..rng.range(1, 2) {
                if from < b1 - MIN {
                    times.push((
                        rng.between(from, b1 - MIN),
                        "legit: owner from usual IP during the burst",
                    ));
                }
            }
        }
        let lo = hs.max(b1) + 5 * MIN;
        let hi = p.log_end - 20 * MIN;
        // "After the burst" means outside every burst (a later one too,
        // five minutes clear): inside one, no log tells it from the spam.
        let clear = |t: i64| {
            s.bursts
                .iter()
                .all(|b| t < b.start - 5 * MIN || t > b.end + 5 * MIN)
        };
        for _ in 0..rng.range(2, 4) {
            if lo < hi {
                let why = match s.kind {
                    SourceKind::Sasl => "legit: owner from usual IP after the burst",
                    SourceKind::Uid => "legit: contact-form message after the burst ended",
                    _ => "legit: ordinary message of the same identity after the burst ended",
                };
                let t = rng.between(lo, hi);
                if clear(t) {
                    times.push((t, why));
                }
            }
        }
        for (t, why) in times {
            let to = if s.kind == SourceKind::Sasl {
                w.person_at(rng, p.holder)
            } else {
                s.legit_to[0].clone()
            };
            p.staged.push(Staged {
                t,
                who: Who::Source(i),
                to,
                why,
            });
        }
    }
    // Someone writes to the first listing's receivers right after it
    // begins: the first refusal follows the onset within a minute.
    if let Some(l) = p.listings.first() {
        let t = l.start + rng.between(5 * SEC, 50 * SEC);
        let to = w.person_at(rng, l.list);
        let who = Who::Mailbox(rng.index(w.mailboxes.len()));
        p.staged.push(Staged {
            t,
            who,
            to,
            why: "legit: ordinary user",
        });
    }
    for l in p.listings.clone() {
        // Ordinary users keep writing to the listing's receivers: every
        // listing shows refusals to several recipients, up to its end.
        let stop = l.end.unwrap_or(p.log_end).min(p.log_end) - 5 * MIN;
        for _ in 0..rng.range(3, 5) {
            if l.start + 2 * MIN < stop {
                let t = rng.between(l.start + 2 * MIN, stop);
                let to = w.person_at(rng, l.list);
                let who = Who::Mailbox(rng.index(w.mailboxes.len()));
                p.staged.push(Staged {
                    t,
                    who,
                    to,
                    why: "legit: ordinary user",
                });
            }
        }
        if let Some(end) = l.end {
            for _ in 0..rng.range(2, 4) {
                let t = rng.between(end + 5 * MIN, p.log_end - 30 * MIN);
                let to = w.person_at(rng, l.list);
                let who = Who::Mailbox(rng.index(w.mailboxes.len()));
                p.staged.push(Staged {
                    t,
                    who,
                    to,
                    why: "legit: ordinary user after the listing ended",
                });
            }
        }
    }
    p.staged.sort_by_key(|s| s.t);
}
