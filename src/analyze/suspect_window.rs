//! One listing's look-back window: what each identity sent in it, against
//! its own past, and the evidence for each (see `suspects` for the score).

use rustc_hash::{FxHashMap, FxHashSet};

use super::suspects::{
    human_span, refused_for_reputation, Scored, Tally, MIN_EXCESS, MIN_SUSPICION,
};
use crate::classify::Cause;
use crate::correlate::{Findings, IdentityKind, OutcomeStatus, Sym};
use crate::time::{LogTime, HOUR, MINUTE};

/// The window before one onset.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub onset: LogTime,
    /// Where the window starts: a look-back before the onset, or the start
    /// of the logs when they start later.
    pub from: LogTime,
    pub log_start: LogTime,
    pub lookback: i64,
    /// The first reputation refusal of all: refusals before it speak of the
    /// mail itself, after it of the listing.
    pub first_listing: LogTime,
    /// The window runs from the first listing to the end of the logs: who
    /// sent in bulk while the server was listed.
    pub while_listed: bool,
}

/// What one identity sent in the window, and before it by hour of day.
#[derive(Default)]
struct Sent {
    messages: FxHashSet<u32>,
    recipients: u64,
    domains: FxHashSet<Sym>,
    earlier: u64,
    earlier_by_hour: [u64; 24],
    /// Messages per ten minutes of the window, for its peak rate.
    per_slot: FxHashMap<i64, u32>,
    /// Its first message in the window.
    first: Option<LogTime>,
}

/// The slot a peak rate is measured over.
const SLOT: i64 = 10 * MINUTE;

/// Minutes of `[from, to)` that fall in each hour of the day.
fn minutes_by_hour(from: LogTime, to: LogTime) -> [f64; 24] {
    let mut out = [0.0; 24];
    let mut t = from.0;
    while t < to.0 {
        let next = (t.div_euclid(HOUR) + 1) * HOUR;
        let end = next.min(to.0);
        out[hour_of_day(LogTime(t))] += (end - t) as f64 / MINUTE as f64;
        t = end;
    }
    out
}

fn hour_of_day(t: LogTime) -> usize {
    (t.0.rem_euclid(24 * HOUR) / HOUR) as usize
}

impl Window {
    pub fn new(f: &Findings, onset: LogTime, lookback: i64, first_listing: LogTime) -> Window {
        let log_start = f.first.unwrap_or(onset);
        Window {
            onset,
            from: LogTime((onset.0 - lookback).max(log_start.0)),
            log_start,
            lookback,
            first_listing,
            while_listed: false,
        }
    }

    /// From the first listing to `end` (the end of the logs): mail that
    /// cannot have caused the listing, but is spam sent while listed.
    pub fn while_listed(
        f: &Findings,
        first_listing: LogTime,
        end: LogTime,
        lookback: i64,
    ) -> Window {
        Window {
            onset: end,
            from: first_listing,
            log_start: f.first.unwrap_or(first_listing),
            lookback,
            first_listing,
            while_listed: true,
        }
    }

    /// How the window's end reads in the evidence.
    fn until(&self) -> &'static str {
        if self.while_listed {
            "while the server was listed"
        } else {
            "before the listing"
        }
    }

    /// Whether the logs reach far enough before the window to compare an
    /// identity with its own past: a quarter of a look-back at least.
    pub fn has_history(&self) -> bool {
        self.from.0 - self.log_start.0 >= self.lookback / 4
    }

    /// The identities worth listing, heaviest first.
    pub fn score(&self, f: &Findings) -> Vec<Scored> {
        let sent = self.sent(f);
        let total: u64 = sent.values().map(|s| s.recipients).sum();
        if total == 0 {
            return Vec::new();
        }
        let (unknown, refused) = self.outcomes(f, &sent);
        let logins = self.logins(f);
        let failures = self.failures(f);
        let mut out: Vec<Scored> = sent
            .iter()
            .filter(|(id, s)| {
                s.recipients > 0
                    && f.senders.get(id).and_then(|st| st.kind) != Some(IdentityKind::Local)
            })
            .map(|(&id, s)| {
                let ctx = Evidence {
                    unknown: unknown.get(&id).copied().unwrap_or(0),
                    refused: refused.get(&id).copied().unwrap_or(0),
                    ips: logins.get(&id).cloned().unwrap_or_default(),
                    failed: failed_for(f, id, &failures),
                };
                self.judge(f, id, s, total, ctx)
            })
            .filter(|s| s.excess >= MIN_EXCESS && s.suspicion >= MIN_SUSPICION)
            .collect();
        out.sort_by(|a, b| {
            b.weight
                .total_cmp(&a.weight)
                .then(a.identity.cmp(&b.identity))
        });
        let top = out.first().map_or(0.0, |s| s.weight);
        out.retain(|s| s.weight >= top / 20.0);
        let sum: f64 = out.iter().map(|s| s.weight).sum();
        for s in &mut out {
            s.weight = 100.0 * s.weight / sum.max(f64::MIN_POSITIVE);
        }
        out
    }

    fn sent(&self, f: &Findings) -> FxHashMap<Sym, Sent> {
        let mut sent: FxHashMap<Sym, Sent> = FxHashMap::default();
        for r in &f.outbound {
            if r.time >= self.from && r.time < self.onset {
                let s = sent.entry(r.identity).or_default();
                if s.messages.insert(r.message) {
                    *s.per_slot.entry(r.time.0.div_euclid(SLOT)).or_default() += 1;
                }
                s.first = Some(s.first.map_or(r.time, |t| t.min(r.time)));
                s.recipients += 1;
                s.domains.insert(r.domain);
            } else if r.time < self.from {
                let s = sent.entry(r.identity).or_default();
                s.earlier += 1;
                s.earlier_by_hour[hour_of_day(r.time)] += 1;
            }
        }
        sent
    }

    /// Unknown-user bounces of each identity's window mail (in the hours
    /// after it was sent), and its refusals citing reputation or spam
    /// before any listing began.
    fn outcomes(&self, f: &Findings, sent: &FxHashMap<Sym, Sent>) -> (Tally, Tally) {
        let (mut unknown, mut refused) = (Tally::default(), Tally::default());
        let until = LogTime(self.onset.0 + self.lookback);
        for o in &f.outcomes {
            if o.time < self.from || o.time > until {
                continue;
            }
            let ours = sent
                .get(&o.identity)
                .is_some_and(|s| s.messages.contains(&o.message));
            if !ours {
                continue;
            }
            if o.cause == Cause::UnknownRecipient && o.status == OutcomeStatus::Bounced {
                *unknown.entry(o.identity).or_default() += 1;
            } else if o.time < self.first_listing
                && refused_for_reputation(o.cause, o.standing, o.status)
            {
                *refused.entry(o.identity).or_default() += 1;
            }
        }
        (unknown, refused)
    }

    /// Per SASL identity, the client IPs it used in the window: (IP, first
    /// use, messages, used before the window).
    fn logins(&self, f: &Findings) -> FxHashMap<Sym, Vec<(Sym, LogTime, u64, bool)>> {
        let mut before: FxHashSet<(Sym, Sym)> = FxHashSet::default();
        let mut now: FxHashMap<Sym, FxHashMap<Sym, (LogTime, u64)>> = FxHashMap::default();
        for l in &f.logins {
            if l.time < self.from {
                before.insert((l.identity, l.client_ip));
            } else if l.time < self.onset {
                let e = now
                    .entry(l.identity)
                    .or_default()
                    .entry(l.client_ip)
                    .or_insert((l.time, 0));
                e.0 = e.0.min(l.time);
                e.1 += 1;
            }
        }
        now.into_iter()
            .map(|(id, ips)| {
                let mut v: Vec<(Sym, LogTime, u64, bool)> = ips
                    .into_iter()
                    .map(|(ip, (t, n))| (ip, t, n, before.contains(&(id, ip))))
                    .collect();
                v.sort_by_key(|x| (x.1, x.0));
                (id, v)
            })
            .collect()
    }

    /// Failed logins before the onset (two look-backs at most), by user
    /// name: (count, distinct IPs, the first).
    fn failures(&self, f: &Findings) -> FxHashMap<Sym, Failures> {
        let since = LogTime(self.onset.0 - 2 * self.lookback);
        let mut out: FxHashMap<Sym, Failures> = FxHashMap::default();
        for lf in &f.login_failures {
            if lf.username != 0 && lf.time >= since && lf.time < self.onset {
                let e = out.entry(lf.username).or_default();
                e.0 += 1;
                e.1.insert(lf.client_ip);
                e.2 = Some(e.2.map_or(lf.time, |t: LogTime| t.min(lf.time)));
            }
        }
        out
    }

    /// What an identity's own past predicts for the window, hour of day by
    /// hour of day (mail follows office hours): its rate in the same hours
    /// of the history where the history has them, else its busiest hour's.
    fn expected(&self, s: &Sent) -> f64 {
        let history = minutes_by_hour(self.log_start, self.from);
        let window = minutes_by_hour(self.from, self.onset);
        let rate = |h: usize| s.earlier_by_hour[h] as f64 / history[h];
        let busiest = (0..24)
            .filter(|&h| history[h] > 0.0)
            .map(rate)
            .fold(0.0, f64::max);
        (0..24)
            .map(|h| {
                let r = if history[h] >= 30.0 { rate(h) } else { busiest };
                r * window[h]
            })
            .sum()
    }

    fn judge(&self, f: &Findings, id: Sym, s: &Sent, total: u64, ev: Evidence) -> Scored {
        let kind = f.senders.get(&id).and_then(|st| st.kind);
        let v = s.recipients as f64;
        let (excess, burst) = if self.has_history() {
            let expected = self.expected(s);
            ((v - expected).max(0.0), v / (expected + 1.0))
        } else {
            (v, 0.0)
        };
        let clamp = |x: f64| x.clamp(0.0, 1.0);
        // Up to 3x its prediction is the noise of a steady sender (hours
        // differ); 30x is a new source.
        let novel = clamp((burst / 3.0).max(1.0).ln() / 10f64.ln());
        let unknown = clamp(ev.unknown as f64 / v);
        let refused = clamp(ev.refused as f64 / v);
        let new_ips = ev.ips.iter().filter(|ip| !ip.3).count();
        let ips_term = if ev.ips.iter().any(|ip| ip.3) || self.has_history() {
            clamp(new_ips as f64 / 3.0)
        } else {
            clamp((ev.ips.len() as f64 - 2.0) / 3.0)
        };
        // A typo or two is not guessing.
        let guessing = clamp((ev.failed.0 as f64 - 2.0) / 20.0);
        let per_message = v / s.messages.len().max(1) as f64;
        // Legitimate mail has several recipients a message too: only many
        // count, and little.
        let bulk = clamp((per_message - 5.0) / 20.0);
        let spread = if s.recipients >= 20 {
            clamp((s.domains.len() as f64 / v - 0.5) / 0.4)
        } else {
            0.0
        };
        // People write a few messages an hour; a program writes dozens.
        let peak = s.per_slot.values().copied().max().unwrap_or(0) as f64 * (HOUR / SLOT) as f64;
        let machine = clamp((peak - 30.0) / 120.0);
        let keep = [
            (0.9, novel),
            (0.6, machine),
            (0.8, clamp(unknown / 0.2)),
            (0.8, clamp(refused / 0.1)),
            (0.8, ips_term),
            (0.7, guessing),
            (0.3, bulk),
            (0.4, spread),
        ]
        .iter()
        .fold(1.0, |acc, (w, e)| acc * (1.0 - w * e));
        let suspicion = 1.0 - keep;
        let mut evidence = vec![format!(
            "sent {} messages to {} external recipients in {} domains in the {} {} ({:.1}% of the server's outbound recipients)",
            s.messages.len(),
            s.recipients,
            s.domains.len(),
            human_span(self.onset.0 - self.from.0),
            self.until(),
            100.0 * v / total as f64
        )];
        if peak >= 60.0 {
            evidence.push(format!(
                "{peak:.0} messages an hour at its peak: a program's pace, not a person's"
            ));
        }
        self.words(&mut evidence, s, burst, unknown, refused, per_message, &ev);
        Scored {
            identity: id,
            kind,
            weight: excess * suspicion,
            excess,
            suspicion,
            messages: s.messages.len() as u64,
            recipients: s.recipients,
            domains: s.domains.len() as u64,
            share: v / total as f64,
            burst,
            unknown,
            refused,
            failed_logins: ev.failed.0,
            first_failure: ev.failed.2,
            first_sent: s.first,
            ips: ev.ips,
            evidence,
        }
    }

    /// The evidence in words, strongest first.
    #[allow(clippy::too_many_arguments)]
    fn words(
        &self,
        out: &mut Vec<String>,
        s: &Sent,
        burst: f64,
        unknown: f64,
        refused: f64,
        per_message: f64,
        ev: &Evidence,
    ) {
        if self.has_history() {
            let before = human_span(self.from.0 - self.log_start.0);
            if s.earlier == 0 {
                out.push(format!(
                    "new: it sent no external mail in the {before} of logs before that"
                ));
            } else if burst >= 3.0 {
                out.push(format!(
                    "{burst:.0}x what its own past predicts for those hours ({before} of logs before that)"
                ));
            }
        }
        if unknown >= 0.05 {
            out.push(format!(
                "{:.0}% of its recipients bounced as unknown users (a bought or guessed list)",
                unknown * 100.0
            ));
        }
        if refused >= 0.02 {
            out.push(format!(
                "{:.0}% of its recipients were refused as spam before any listing",
                refused * 100.0
            ));
        }
        let new: Vec<&(Sym, LogTime, u64, bool)> = ev.ips.iter().filter(|ip| !ip.3).collect();
        if ev.ips.len() >= 2 || (!new.is_empty() && ev.ips.iter().any(|ip| ip.3)) {
            out.push(format!(
                "the login was used from {} client IPs in the window, {} of them never seen before it",
                ev.ips.len(),
                new.len()
            ));
        }
        if ev.failed.0 >= 5 {
            out.push(format!(
                "{} failed logins for this account from {} IPs {} (password guessing)",
                ev.failed.0,
                ev.failed.1,
                self.until()
            ));
        } else if ev.failed.0 > 0 {
            out.push(format!(
                "{} failed login(s) for this account {}",
                ev.failed.0,
                self.until()
            ));
        }
        if per_message >= 3.0 {
            out.push(format!("{per_message:.1} recipients per message"));
        }
    }
}

/// What the logs hold against one identity, besides its volume.
struct Evidence {
    unknown: u64,
    refused: u64,
    ips: Vec<(Sym, LogTime, u64, bool)>,
    /// Failed logins, their distinct IPs, the first.
    failed: (u64, u64, Option<LogTime>),
}

/// Failed logins of one account: count, distinct IPs, the first.
type Failures = (u64, FxHashSet<Sym>, Option<LogTime>);

/// The failed logins of a SASL identity's account: (count, distinct IPs,
/// the first).
fn failed_for(
    f: &Findings,
    id: Sym,
    failures: &FxHashMap<Sym, Failures>,
) -> (u64, u64, Option<LogTime>) {
    let name = f.strings.get(id);
    let Some(user) = name.strip_prefix(b"sasl:") else {
        return (0, 0, None);
    };
    f.strings
        .lookup(user)
        .and_then(|u| failures.get(&u))
        .map_or((0, 0, None), |(n, ips, first)| {
            (*n, ips.len() as u64, *first)
        })
}
