//! Blacklist episodes: runs of refusals, from one list or provider, that say
//! our server's standing is bad.
//!
//! The rules, from what receivers document:
//! - Only replies about our reputation (a listing, a provider's reputation
//!   block, a throttle citing complaints or unsolicited mail) or about the
//!   kind of our IP (dynamic ranges: policy) count. A recipient-side limit,
//!   a connection-concurrency limit or a busy server is about nothing of
//!   ours and never opens an episode.
//! - One row per list or provider: the list a reply names (canonical per
//!   operator), else the provider its MX belongs to, else one row for
//!   receivers' own unnamed filters. Never a recipient domain.
//! - One refusal is not an episode: it takes at least [`MIN_REFUSALS`]
//!   refusals of [`MIN_MESSAGES`] messages, with no pause over
//!   [`EPISODE_GAP`] between them (a longer pause starts a new episode).
//! - Its state at the end of the logs: `ended` when accepted deliveries to
//!   its recipient domains follow its last refusal, else `ongoing`.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::classify::{Cause, Standing};
use crate::correlate::{Delivery, Findings, OutcomeStatus, Sym};
use crate::time::{LogTime, HOUR};

/// The least an episode holds.
pub const MIN_REFUSALS: u64 = 3;
pub const MIN_MESSAGES: u64 = 2;
/// A pause in refusals longer than this separates two episodes.
pub const EPISODE_GAP: i64 = 12 * HOUR;

/// Who refuses: a list, a provider, or receivers' own filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Refuser {
    /// A list the replies name (its canonical id, interned).
    List(Sym),
    /// The provider whose MX refused (`gmail`, `microsoft`, ...).
    Provider(&'static str),
    /// Receivers' own filters, named by nothing.
    Unnamed,
}

/// The state of an episode at the end of the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpisodeState {
    /// No accepted delivery to its receivers after its last refusal.
    Ongoing,
    /// Accepted deliveries to its receivers followed its last refusal; the
    /// first of them.
    Ended { accepted_again: LogTime },
}

/// One episode.
#[derive(Debug, Clone)]
pub struct Episode {
    pub refuser: Refuser,
    pub standing: Standing,
    pub cause: Cause,
    /// The first refusal: the onset.
    pub first: LogTime,
    /// The first outright refusal (a bounce), when it escalated to that.
    pub first_bounce: Option<LogTime>,
    pub last: LogTime,
    pub deferrals: u64,
    pub bounces: u64,
    pub messages: u64,
    pub recipient_domains: Vec<Sym>,
    /// The MX hosts that refused, most refusals first (at most 10).
    pub receivers: Vec<Sym>,
    pub example: Sym,
    pub listed_ip: Sym,
    /// The last delivery its receivers accepted before the onset: the
    /// listing happened between then and the onset.
    pub accepted_before: Option<LogTime>,
    pub state: EpisodeState,
}

impl Episode {
    /// The list or provider, as reports name it.
    pub fn name(&self, f: &Findings) -> String {
        match self.refuser {
            Refuser::List(s) => f.strings.str(s).into_owned(),
            Refuser::Provider(p) => p.to_string(),
            Refuser::Unnamed => "receivers' own filters".to_string(),
        }
    }

    /// Whether the refusals are evidence that spam went out.
    pub fn is_reputation(&self) -> bool {
        self.standing == Standing::Reputation
    }
}

/// The provider an MX host belongs to, for replies that name no list.
pub fn provider_of_host(host: &str) -> Option<&'static str> {
    let h = host.to_ascii_lowercase();
    const PROVIDERS: &[(&str, &str)] = &[
        ("google.com", "gmail"),
        ("googlemail.com", "gmail"),
        ("outlook.com", "microsoft"),
        ("hotmail.com", "microsoft"),
        ("yahoodns.net", "yahoo"),
        ("yahoo.com", "yahoo"),
        ("aol.com", "yahoo"),
        ("pphosted.com", "proofpoint"),
        ("mimecast", "mimecast"),
        ("messagelabs.com", "messagelabs"),
        ("icloud.com", "apple"),
        ("me.com", "apple"),
        ("gmx.net", "gmx-web.de"),
        ("web.de", "gmx-web.de"),
    ];
    PROVIDERS
        .iter()
        .find(|(suffix, _)| h == *suffix || h.ends_with(&format!(".{suffix}")))
        .map(|(_, p)| *p)
}

/// The episodes of the logs, earliest onset first.
pub fn blacklist_episodes(f: &Findings) -> Vec<Episode> {
    // Outcomes of a busy server run to millions: each refusal is keyed by
    // a small number standing for its refuser (ranked in the refusers'
    // order) rather than by the refuser itself, and no copy of the
    // deliveries is made (they are in time order, see `sort_for_analysis`).
    let mut ids: FxHashMap<(Sym, Sym), u32> = FxHashMap::default();
    let mut found: Vec<Refuser> = Vec::new();
    let mut keyed: Vec<Refusal> = Vec::new();
    for (i, o) in f.outcomes.iter().enumerate() {
        if !matches!(o.standing, Standing::Reputation | Standing::Policy)
            || o.status == OutcomeStatus::Expired
        {
            continue;
        }
        let reply = f.reply(o);
        // The host only matters when no list is named.
        let host = if reply.list != 0 {
            0
        } else {
            reply.remote_host
        };
        let id = *ids.entry((reply.list, host)).or_insert_with(|| {
            found.push(if reply.list != 0 {
                Refuser::List(reply.list)
            } else {
                provider_of_host(&f.strings.str(reply.remote_host))
                    .map_or(Refuser::Unnamed, Refuser::Provider)
            });
            found.len() as u32 - 1
        });
        keyed.push(Refusal {
            refuser: id,
            outcome: i as u32,
            time: o.time,
        });
    }
    let mut ranked = found.clone();
    ranked.sort_unstable();
    ranked.dedup();
    let rank: Vec<u32> = found
        .iter()
        .map(|r| ranked.binary_search(r).expect("ranked") as u32)
        .collect();
    for k in &mut keyed {
        k.refuser = rank[k.refuser as usize];
    }
    keyed.sort_unstable_by_key(|k| (k.refuser, k.time, k.outcome));
    let deliveries = &f.deliveries;
    let mut out = Vec::new();
    let mut group: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < keyed.len() {
        let mut j = i;
        while j + 1 < keyed.len()
            && keyed[j + 1].refuser == keyed[i].refuser
            && keyed[j + 1].time.0 - keyed[j].time.0 <= EPISODE_GAP
        {
            j += 1;
        }
        group.clear();
        group.extend(keyed[i..=j].iter().map(|k| k.outcome as usize));
        if let Some(e) = build(f, ranked[keyed[i].refuser as usize], &group, deliveries) {
            out.push(e);
        }
        i = j + 1;
    }
    out.sort_by(|a, b| a.first.cmp(&b.first).then(a.refuser.cmp(&b.refuser)));
    out
}

/// One refusal that counts, keyed for grouping by refuser and time.
struct Refusal {
    /// The refuser's rank among the refusers seen (its number in the order
    /// they were found, until ranked).
    refuser: u32,
    outcome: u32,
    time: LogTime,
}

/// The episode of one group of refusals (time order), if it is one.
fn build(
    f: &Findings,
    refuser: Refuser,
    group: &[usize],
    deliveries: &[Delivery],
) -> Option<Episode> {
    let mut messages = FxHashSet::default();
    let mut domains: FxHashSet<Sym> = FxHashSet::default();
    let mut receivers: FxHashMap<Sym, u64> = FxHashMap::default();
    let (mut deferrals, mut bounces) = (0u64, 0u64);
    let (mut reputation, mut blacklisted) = (false, false);
    let mut first_bounce = None;
    let mut listed_ip = 0;
    for &g in group {
        let o = &f.outcomes[g];
        let reply = f.reply(o);
        messages.insert(o.message);
        domains.insert(o.recipient_domain);
        let r = if reply.remote_host != 0 {
            reply.remote_host
        } else {
            o.recipient_domain
        };
        *receivers.entry(r).or_default() += 1;
        reputation |= o.standing == Standing::Reputation;
        blacklisted |= o.cause == Cause::Blacklisted;
        match o.status {
            OutcomeStatus::Deferred => deferrals += 1,
            OutcomeStatus::Bounced => {
                bounces += 1;
                first_bounce.get_or_insert(o.time);
            }
            OutcomeStatus::Expired => {}
        }
        if listed_ip == 0 {
            listed_ip = reply.listed_ip;
        }
    }
    if deferrals + bounces < MIN_REFUSALS || (messages.len() as u64) < MIN_MESSAGES {
        return None;
    }
    let first = f.outcomes[group[0]].time;
    let last = f.outcomes[group[group.len() - 1]].time;
    let to_ours = |d: &&Delivery| domains.contains(&d.domain);
    let before = deliveries.partition_point(|d| d.time < first);
    let accepted_before = deliveries[..before]
        .iter()
        .rev()
        .find(to_ours)
        .map(|d| d.time);
    let after = deliveries.partition_point(|d| d.time <= last);
    let state = match deliveries[after..].iter().find(to_ours) {
        Some(d) => EpisodeState::Ended {
            accepted_again: d.time,
        },
        None => EpisodeState::Ongoing,
    };
    let mut recv: Vec<(Sym, u64)> = receivers.into_iter().collect();
    recv.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut recipient_domains: Vec<Sym> = domains.into_iter().collect();
    recipient_domains.sort_unstable();
    Some(Episode {
        refuser,
        standing: if reputation {
            Standing::Reputation
        } else {
            Standing::Policy
        },
        cause: if blacklisted {
            Cause::Blacklisted
        } else {
            Cause::RateLimited
        },
        first,
        first_bounce,
        last,
        deferrals,
        bounces,
        messages: messages.len() as u64,
        recipient_domains,
        receivers: recv.into_iter().take(10).map(|r| r.0).collect(),
        example: f.reply(&f.outcomes[group[0]]).text,
        listed_ip,
        accepted_before,
        state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Classifier;
    use crate::correlate::{Correlator, YearPolicy};
    use crate::parse::parse_chunk;

    fn findings(log: &str) -> Findings {
        let classifier = Classifier::builtin();
        let mut c = Correlator::new(
            &classifier,
            YearPolicy {
                forced: Some(2026),
                anchor: None,
            },
        );
        let p = parse_chunk(log.as_bytes());
        c.consume(0, 1, log.as_bytes(), &p.events);
        let mut f = c.finish();
        crate::analyze::sort_for_analysis(&mut f);
        f
    }

    /// One message from a script to `to`, refused or accepted with `reply`.
    fn attempt(min: u32, id: u32, to: &str, mx: &str, status: &str, reply: &str) -> String {
        let qid = format!("{id:010X}");
        let t = format!("Nov 28 10:{:02}:{:02}", min / 60 % 60, min % 60);
        format!(
            "{t} mx1 postfix/pickup[1]: {qid}: uid=33 from=<www-data>\n\
             {t} mx1 postfix/qmgr[2]: {qid}: from=<www@site.example>, size=900, nrcpt=1 (queue active)\n\
             {t} mx1 postfix/smtp[3]: {qid}: to=<{to}>, relay={mx}[192.0.2.9]:25, delay=1, delays=0/0/0/1, dsn=5.0.0, status={status} ({reply})\n"
        )
    }

    const SPAMHAUS: &str = "host mx.example.net[192.0.2.9] said: 554 5.7.1 Service unavailable; Client host [198.51.100.25] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/198.51.100.25";
    const RATE: &str = "host gmail-smtp-in.l.google.com[192.0.2.9] said: 450-4.2.1 The user you are trying to contact is receiving mail at a rate that 450-4.2.1 prevents additional messages from being delivered.";
    const BUSY: &str = "host mx.example.net[192.0.2.9] said: 421 4.7.0 Too many concurrent SMTP connections from this IP address";

    #[test]
    fn noise_and_one_offs_open_no_episode() {
        let mut log = String::new();
        // A recipient-side rate limit, many times; a concurrency limit.
        for k in 0..6 {
            log += &attempt(
                k,
                k,
                "a@gmail.com",
                "gmail-smtp-in.l.google.com",
                "deferred",
                RATE,
            );
            log += &attempt(
                k + 10,
                100 + k,
                "b@example.net",
                "mx.example.net",
                "deferred",
                BUSY,
            );
        }
        // A single listing reply.
        log += &attempt(
            30,
            200,
            "c@example.net",
            "mx.example.net",
            "bounced",
            SPAMHAUS,
        );
        assert!(blacklist_episodes(&findings(&log)).is_empty());
    }

    #[test]
    fn a_listing_ends_when_its_receivers_accept_mail_again() {
        let mut log = String::new();
        log += &attempt(0, 1, "a@example.net", "mx.example.net", "sent", "250 ok");
        for k in 0..4 {
            log += &attempt(
                10 + k,
                10 + k,
                "c@example.net",
                "mx.example.net",
                "bounced",
                SPAMHAUS,
            );
        }
        let f = findings(&log);
        let e = blacklist_episodes(&f);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].name(&f), "zen.spamhaus.org");
        assert_eq!(e[0].state, EpisodeState::Ongoing);
        assert!(e[0].accepted_before.is_some());
        assert_eq!(e[0].bounces, 4);
        log += &attempt(50, 99, "d@example.net", "mx.example.net", "sent", "250 ok");
        let e = blacklist_episodes(&findings(&log));
        assert!(
            matches!(e[0].state, EpisodeState::Ended { .. }),
            "{:?}",
            e[0].state
        );
    }
}
