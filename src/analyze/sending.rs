//! How one identity sent, from the logs alone: its bursts (runs at a
//! program's pace), the client IPs of a login (the owner's and the
//! attacker's), and the correspondents it mailed outside its bursts. The
//! queue cleanup sorts queued mail by it; the suspects name the attacker's
//! IPs with it.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::correlate::{address_key, Findings, Sym};
use crate::time::{LogTime, TimeFormat, HOUR, MINUTE};

/// The stretch a pace is measured over.
const SLOT: i64 = 10 * MINUTE;
/// Messages in one stretch that make a program's pace.
pub(crate) const PACE: usize = 5;
/// The longest pause inside a burst.
const MAX_GAP: i64 = 10 * MINUTE;
/// A program's pace: people write a few messages an hour.
const MACHINE_PER_HOUR: f64 = 30.0;

/// How a login's client IP relates to the burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpUse {
    /// Not used before the burst, and used at a program's pace or after
    /// failed logins: the attacker's.
    New,
    /// Used before the burst, or at a person's pace: the owner's.
    Usual,
    /// Not a login, or its IP is not in the logs.
    NotKnown,
}

impl IpUse {
    pub fn id(self) -> &'static str {
        match self {
            IpUse::New => "new",
            IpUse::Usual => "usual",
            IpUse::NotKnown => "",
        }
    }
}

/// Whether a message arrived during one of its identity's bursts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BurstPlace {
    Inside,
    Outside,
}

impl BurstPlace {
    pub fn id(self) -> &'static str {
        match self {
            BurstPlace::Inside => "inside",
            BurstPlace::Outside => "outside",
        }
    }
}

/// What the logs show about one identity's sending.
#[derive(Default)]
pub struct Profile {
    /// Its bursts (see [`bursts`]).
    pub bursts: Vec<(LogTime, LogTime)>,
    /// Per client IP of a login.
    pub ips: FxHashMap<Sym, IpFacts>,
    /// A login's client IPs used before its first burst: its owner's.
    owner_ips: usize,
    /// Recipients (keys) it mailed outside its bursts: its correspondents.
    correspondents: FxHashSet<u32>,
}

/// What one client IP of a login did.
pub struct IpFacts {
    first: LogTime,
    last: LogTime,
    /// The most of its logins within ten minutes.
    peak: usize,
    failures: u64,
}

/// The identity's bursts in `times` (sorted): runs of at least [`PACE`]
/// messages at a program's pace. A program sends back to back, people
/// minutes apart; what "back to back" means is the run's own pace: gaps
/// over eight times its median gap (a minute at least, [`MAX_GAP`] at
/// most) end it, so a message minutes after a fast run is not part of it,
/// and the random pauses of a slow one do not split it.
fn bursts(times: &[LogTime]) -> Vec<(LogTime, LogTime)> {
    let mut out = Vec::new();
    for stretch in split(times, MAX_GAP) {
        let mut gaps: Vec<i64> = stretch.windows(2).map(|w| w[1].0 - w[0].0).collect();
        if gaps.is_empty() {
            continue;
        }
        let mid = gaps.len() / 2;
        let median = *gaps.select_nth_unstable(mid).1;
        let gap = (8 * median).clamp(MINUTE, MAX_GAP);
        for run in split(stretch, gap) {
            let (a, b) = (run[0], run[run.len() - 1]);
            let per_hour = (run.len() - 1) as f64 * HOUR as f64 / (b.0 - a.0).max(1) as f64;
            if run.len() >= PACE && per_hour >= MACHINE_PER_HOUR {
                out.push((a, b));
            }
        }
    }
    out
}

/// `times` (sorted) cut where two are more than `gap` apart.
fn split(times: &[LogTime], gap: i64) -> impl Iterator<Item = &[LogTime]> {
    let mut rest = times;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest
            .windows(2)
            .position(|w| w[1].0 - w[0].0 > gap)
            .map_or(rest.len(), |i| i + 1);
        let (run, tail) = rest.split_at(end);
        rest = tail;
        Some(run)
    })
}

/// Messages of `times` (sorted) within half a stretch of `t`.
fn around(times: &[LogTime], t: LogTime) -> usize {
    let lo = times.partition_point(|x| x.0 < t.0 - SLOT / 2);
    let hi = times.partition_point(|x| x.0 <= t.0 + SLOT / 2);
    hi - lo
}

/// The most messages of `times` (sorted) within half a stretch of one.
fn peak(times: &[LogTime]) -> usize {
    times.iter().map(|&t| around(times, t)).max().unwrap_or(0)
}

impl Profile {
    pub fn of(f: &Findings, identity: Sym) -> Profile {
        let mut seen: FxHashSet<u32> = FxHashSet::default();
        let mut times: Vec<LogTime> = f
            .outbound
            .iter()
            .filter(|r| r.identity == identity && seen.insert(r.message))
            .map(|r| r.time)
            .collect();
        times.sort_unstable();
        let bursts = bursts(&times);
        let inside = |t: LogTime| bursts.iter().any(|&(a, b)| t >= a && t <= b);
        let correspondents = f
            .outbound
            .iter()
            .filter(|r| r.identity == identity && !inside(r.time))
            .map(|r| r.address)
            .collect();
        let mut uses: FxHashMap<Sym, Vec<LogTime>> = FxHashMap::default();
        for l in f.logins.iter().filter(|l| l.identity == identity) {
            uses.entry(l.client_ip).or_default().push(l.time);
        }
        let mut failures: FxHashMap<Sym, u64> = FxHashMap::default();
        for lf in f
            .login_failures
            .iter()
            .filter(|lf| uses.contains_key(&lf.client_ip))
        {
            *failures.entry(lf.client_ip).or_default() += 1;
        }
        let ips: FxHashMap<Sym, IpFacts> = uses
            .into_iter()
            .map(|(ip, mut t)| {
                t.sort_unstable();
                let facts = IpFacts {
                    first: t[0],
                    last: t[t.len() - 1],
                    peak: peak(&t),
                    failures: failures.get(&ip).copied().unwrap_or(0),
                };
                (ip, facts)
            })
            .collect();
        let owner_ips = match bursts.first() {
            Some(b) => ips
                .values()
                .filter(|i: &&IpFacts| i.first.0 < b.0 .0 - SLOT)
                .count(),
            None => 0,
        };
        Profile {
            bursts,
            ips,
            owner_ips,
            correspondents,
        }
    }

    /// One of `addresses` the identity mailed outside its bursts too: a
    /// correspondent, not a spam target.
    pub fn known_recipient<'a>(
        &self,
        mut addresses: impl Iterator<Item = &'a str>,
    ) -> Option<&'a str> {
        addresses.find(|a| {
            self.correspondents
                .contains(&(address_key(a.as_bytes()) as u32))
        })
    }

    /// Whether `t` falls in one of the identity's bursts.
    pub fn dense(&self, t: LogTime) -> bool {
        self.bursts.iter().any(|&(a, b)| t >= a && t <= b)
    }
}

/// A login's client IP judged: whether it is the attacker's, how it relates
/// to the login's burst, and why.
#[derive(Debug, Clone)]
pub struct LoginVerdict(pub bool, pub IpUse, pub String);

/// A login's message, by its client IP. An IP used before the login's
/// first burst is its owner's (review). A new IP is the attacker's when it
/// sent at a program's pace or failed logins, or when the owner's IPs are
/// known from before the attack and it was used only during the attack
/// (first burst to last). A new IP at a person's pace, with no owner's IP
/// to compare with, may be the owner's on another network (review).
pub fn login_verdict(ip: &str, facts: &IpFacts, p: &Profile, fmt: &TimeFormat) -> LoginVerdict {
    let IpFacts {
        first,
        last,
        peak,
        failures,
    } = *facts;
    let attack = match (p.bursts.first(), p.bursts.last()) {
        (Some(a), Some(b)) => Some((a.0, b.1)),
        _ => None,
    };
    if attack.is_some_and(|(start, _)| first.0 < start.0 - SLOT) {
        return LoginVerdict(
            false,
            IpUse::Usual,
            format!(
                "from {ip}, which the login used before its first burst ({}): its owner's",
                fmt.iso(first)
            ),
        );
    }
    let new = format!(
        "from {ip}, first used {}, not before the login's first burst",
        fmt.iso(first)
    );
    if peak >= PACE || failures > 0 {
        let failed = if failures > 0 {
            format!(", {failures} failed logins from it")
        } else {
            String::new()
        };
        return LoginVerdict(
            true,
            IpUse::New,
            format!("{new}; {peak} messages within ten minutes at its peak{failed}"),
        );
    }
    let during = attack.is_some_and(|(a, b)| first.0 >= a.0 - SLOT && last.0 <= b.0 + SLOT);
    if p.owner_ips > 0 && during {
        return LoginVerdict(
            true,
            IpUse::New,
            format!(
                "{new}, used only during the attack, while the owner's {} IP(s) are known from before it",
                p.owner_ips
            ),
        );
    }
    LoginVerdict(
        false,
        IpUse::New,
        format!("{new}, at a person's pace (at most {peak} messages within ten minutes): perhaps its owner's on another network"),
    )
}
