//! Findings from correlated messages: causes over time, incidents,
//! blacklist episodes, suspects, senders.
//!
//! Everything here works on the correlator's compact records, after the
//! logs are read, so its cost does not grow with the number of lines, only
//! with the number of deferrals and outbound recipients.

pub mod clocks;
pub mod episodes;
pub mod evidence;
pub mod explain;
pub mod guessing;
mod headline;
pub mod lasting;
pub mod local;
pub mod messages;
pub mod outcomes;
pub mod queue;
pub mod runbook;
pub mod sending;
pub mod status;
mod suspect_window;
pub mod suspects;
pub mod timeline;
pub mod traffic;

use std::collections::HashMap;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::classify::{delisting_url, judge_port25, Cause, ConnectAttempt, ConnectFailure};
use crate::correlate::{Findings, Sym};
use crate::model::*;
use crate::time::{TimeFormat, HOUR};

pub use timeline::choose_bucket;

/// Knobs of the analysis.
#[derive(Debug, Clone)]
pub struct AnalysisOptions {
    /// Timeline bucket width in ms; chosen from the span when `None`.
    pub bucket: Option<i64>,
    /// How far before a listing to look for its source.
    pub lookback: i64,
    pub format: TimeFormat,
    /// uid -> user name, from a copy of /etc/passwd.
    pub passwd: HashMap<u32, String>,
    /// uid -> home directory, from the same copy.
    pub passwd_homes: HashMap<u32, String>,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            bucket: None,
            lookback: 24 * HOUR,
            format: TimeFormat::local(),
            passwd: HashMap::new(),
            passwd_homes: HashMap::new(),
        }
    }
}

/// Causes that explain a stuck queue. Greylisting passes on retry and
/// recipient-side problems (full mailboxes, unknown users) are not the
/// server's trouble, so they never make the headline alone.
fn is_server_problem(c: Cause) -> bool {
    matches!(
        c,
        Cause::Port25Blocked
            | Cause::ContentFilterDown
            | Cause::DnsFailure
            | Cause::Blacklisted
            | Cause::RateLimited
            | Cause::TlsFailure
            | Cause::RelayAuthFailure
            | Cause::RelayUnavailable
            | Cause::LocalSystem
            | Cause::AuthPolicy
    )
}

/// Decides the port 25 verdicts: connect failures across many unrelated
/// destinations at once are a local block (see `classify::judge_port25`).
pub fn apply_port25_judgement(f: &mut Findings) {
    let idx: Vec<usize> = f
        .outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| o.connect_failure.is_some() && o.cause != Cause::ContentFilterDown)
        .map(|(i, _)| i)
        .collect();
    if idx.is_empty() {
        return;
    }
    let domains: Vec<std::borrow::Cow<str>> = idx
        .iter()
        .map(|&i| f.strings.str(f.outcomes[i].recipient_domain))
        .collect();
    let attempts: Vec<ConnectAttempt> = idx
        .iter()
        .zip(&domains)
        .map(|(&i, d)| {
            let o = &f.outcomes[i];
            ConnectAttempt {
                time: o.time,
                destination: d,
                failure: o.connect_failure.expect("filtered"),
                port: if o.port == 0 { 25 } else { o.port },
            }
        })
        .collect();
    let verdicts = judge_port25(&attempts);
    let window = crate::classify::PORT25_WINDOW;
    let times: Vec<i64> = idx.iter().map(|&i| f.outcomes[i].time.0).collect();
    let kinds: Vec<ConnectFailure> = attempts.iter().map(|a| a.failure).collect();
    // Blocked times per failure kind: a block shows one kind of failure.
    let mut blocked: FxHashMap<ConnectFailure, Vec<i64>> = FxHashMap::default();
    for k in (0..idx.len()).filter(|&k| verdicts[k]) {
        blocked.entry(kinds[k]).or_default().push(times[k]);
    }
    for v in blocked.values_mut() {
        v.sort_unstable();
    }
    let near = |k: usize, dist: i64| {
        let Some(ts) = blocked.get(&kinds[k]) else {
            return false;
        };
        let t = times[k];
        let p = ts.partition_point(|&x| x < t - dist);
        p < ts.len() && ts[p] <= t + dist
    };
    // A destination that also fails well away from any block is down by
    // itself (a dead host): during a block its failures count as the
    // block's only while other destinations fail the same way around them,
    // before and after; otherwise the tail of the judgement window would
    // take in a dead host's failures after the block has lifted.
    let chronic: FxHashSet<&str> = (0..idx.len())
        .filter(|&k| !verdicts[k] && !near(k, 2 * window))
        .map(|k| domains[k].as_ref())
        .collect();
    // At a block's start traffic is thin and the judgement needs a few
    // destinations to fail first: failures just before it belong to it.
    let ahead = |k: usize| {
        let Some(ts) = blocked.get(&kinds[k]) else {
            return false;
        };
        let t = times[k];
        let p = ts.partition_point(|&x| x <= t);
        p < ts.len() && ts[p] - t <= window
    };
    let candidate = |k: usize| verdicts[k] || ahead(k);
    let mut others: FxHashMap<ConnectFailure, Vec<i64>> = FxHashMap::default();
    for k in (0..idx.len()).filter(|&k| candidate(k) && !chronic.contains(domains[k].as_ref())) {
        others.entry(kinds[k]).or_default().push(times[k]);
    }
    for v in others.values_mut() {
        v.sort_unstable();
    }
    let surrounded = |k: usize| {
        let Some(ts) = others.get(&kinds[k]) else {
            return false;
        };
        let t = times[k];
        let p = ts.partition_point(|&x| x < t);
        let before = p > 0 && t - ts[p - 1] <= window;
        let q = ts.partition_point(|&x| x <= t);
        let after = q < ts.len() && ts[q] - t <= window;
        before && after
    };
    let verdict: Vec<bool> = (0..idx.len())
        .map(|k| candidate(k) && (!chronic.contains(domains[k].as_ref()) || surrounded(k)))
        .collect();
    for (k, &i) in idx.iter().enumerate() {
        if verdict[k] {
            f.outcomes[i].cause = Cause::Port25Blocked;
        }
    }
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

/// Builds the analysis sections of the summary from the findings.
/// Returns the raw log lines the findings cite, to look up.
pub fn summarize(f: &mut Findings, opts: &AnalysisOptions, summary: &mut Summary) -> Analyzed {
    sort_for_analysis(f);
    apply_port25_judgement(f);
    lasting::judge_lasting_block(f);
    let f: &Findings = f;
    // The two halves read the records independently: run them side by side.
    let (incidents, sources) = rayon::join(
        || {
            let incidents = timeline::causes_over_time(f, opts, summary)?;
            // Here, not after: this half is the shorter one.
            summary.password_guessing = guessing::password_guessing(f, opts);
            summary.traffic = traffic::summarize(f, opts);
            summary.gaps = traffic::gaps(f, summary.lines.postfix, opts);
            Some(incidents)
        },
        || sources_of_mail(f, opts),
    );
    let Some(incidents) = incidents else {
        return Analyzed::default();
    };
    let ranking: suspects::Ranking;
    (
        summary.blacklistings,
        ranking,
        summary.top_senders,
        summary.unclassified,
        summary.inbound_rejects,
    ) = sources;
    summary.suspects = ranking.suspects;
    summary.notes.extend(ranking.notes);
    let mut requests = ranking.requests;
    let suspects = ranking.identities;
    summary.headline = headline::headline(summary, &incidents, f.counts.deferral_events);
    local::summarize(f, opts, summary);
    status::finish(f, opts, summary);
    status::queue_from_logs(f, opts, summary);
    // The incidents are final only now (the server's own were added).
    let mut more = evidence::Requests::default();
    more.incidents(summary);
    more.local_failures(summary);
    requests.extend(more);
    Analyzed { requests, suspects }
}

/// Puts the records the analysis searches by time in time order, in place:
/// a sorted copy of millions of them would cost as much memory again.
/// Lines of several hosts or files interleave, so log order is not enough.
pub fn sort_for_analysis(f: &mut Findings) {
    f.deliveries.sort_unstable_by_key(|d| (d.time, d.domain));
}

/// What the rest of the pipeline needs from the analysis besides the
/// summary: the raw lines to look up, and who the suspects are.
#[derive(Default)]
pub struct Analyzed {
    pub requests: evidence::Requests,
    pub suspects: Vec<suspects::SuspectRef>,
}

/// Blacklist episodes, suspects, senders, unclassified texts and inbound
/// verdicts.
type Sources = (
    Vec<BlacklistEpisode>,
    suspects::Ranking,
    Vec<SenderRow>,
    Vec<TextCount>,
    Vec<TextCount>,
);

fn sources_of_mail(f: &Findings, opts: &AnalysisOptions) -> Sources {
    let fmt = &opts.format;
    let s = |sym: Sym| f.strings.str(sym).into_owned();
    // Blacklist episodes and their suspects.
    let episodes = episodes::blacklist_episodes(f);
    let blacklistings = episodes
        .iter()
        .map(|e| {
            let list = e.name(f);
            BlacklistEpisode {
                delisting_url: match e.refuser {
                    episodes::Refuser::Unnamed => None,
                    _ => delisting_url(&list).map(str::to_string),
                },
                list,
                receivers: e.receivers.iter().map(|&r| s(r)).collect(),
                first_seen: fmt.iso(e.first),
                last_seen: fmt.iso(e.last),
                deferrals: e.deferrals,
                bounces: e.bounces,
                messages: e.messages,
                recipient_domains: e.recipient_domains.len() as u64,
                example: s(e.example),
                listed_ip: (e.listed_ip != 0).then(|| s(e.listed_ip)),
                cause: e.cause.id().to_string(),
                standing: e.standing,
                state: match e.state {
                    episodes::EpisodeState::Ongoing => ProblemState::Ongoing,
                    episodes::EpisodeState::Ended { .. } => ProblemState::Ended,
                },
                accepted_again: match e.state {
                    episodes::EpisodeState::Ended { accepted_again } => {
                        Some(fmt.iso(accepted_again))
                    }
                    episodes::EpisodeState::Ongoing => None,
                },
                accepted_before: e.accepted_before.map(|t| fmt.iso(t)),
                first_bounce: e.first_bounce.map(|t| fmt.iso(t)),
                lines: Vec::new(),
            }
        })
        .collect();
    let mut ranking = suspects::rank(f, &episodes, opts);
    for (i, e) in episodes.iter().enumerate() {
        // The receiver that refused first need not be the one that refused
        // most: look for each of the first few at that second.
        for &r in e.receivers.iter().take(4) {
            let receiver = f.strings.str(r);
            ranking
                .requests
                .episode(i, &receiver, e.first, e.first_bounce);
            if e.last != e.first {
                ranking.requests.episode_last(i, &receiver, e.last);
            }
        }
    }

    // Senders.
    let mut senders: Vec<SenderRow> = f
        .senders
        .iter()
        .filter(|(_, st)| st.messages + st.recipients + st.rejected > 0)
        .map(|(&id, st)| SenderRow {
            identity: display_identity(&s(id), &opts.passwd),
            kind: st.kind.map_or("unknown", |k| k.id()).to_string(),
            messages: st.messages,
            recipients: st.recipients,
            delivered: st.delivered,
            discarded: st.discarded,
            deferred: st.deferred,
            bounced: st.bounced,
            expired: st.expired,
            rejected: st.rejected,
            first_seen: st.first.map(|t| fmt.iso(t)),
            last_seen: st.last.map(|t| fmt.iso(t)),
            bytes: st.bytes,
        })
        .collect();
    senders.sort_by(|a, b| {
        b.messages
            .cmp(&a.messages)
            .then(b.recipients.cmp(&a.recipients))
            .then(a.identity.cmp(&b.identity))
    });
    senders.truncate(10_000);

    // Unclassified texts and inbound verdicts.
    let mut unknown: FxHashMap<(Sym, Option<Cause>), u64> = FxHashMap::default();
    for o in f.outcomes.iter().filter(|o| o.cause == Cause::Unknown) {
        *unknown.entry((f.reply(o).normalised, None)).or_default() += 1;
    }
    let unclassified = top_texts(f, unknown, 200);
    let mut inbound: FxHashMap<(Sym, Option<Cause>), u64> = FxHashMap::default();
    for r in &f.inbound {
        *inbound.entry((r.normalised, Some(r.cause))).or_default() += 1;
    }
    let inbound = top_texts(f, inbound, 200);
    (blacklistings, ranking, senders, unclassified, inbound)
}

/// The `n` most frequent (text, cause) pairs, most frequent first.
fn top_texts(
    f: &Findings,
    counts: FxHashMap<(Sym, Option<Cause>), u64>,
    n: usize,
) -> Vec<TextCount> {
    let mut v: Vec<TextCount> = counts
        .into_iter()
        .map(|((t, cause), count)| TextCount {
            text: f.strings.str(t).into_owned(),
            count,
            cause: cause.map(|c| c.id().to_string()),
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.text.cmp(&b.text)));
    v.truncate(n);
    v
}

/// `uid:33` becomes `uid:33 (www-data)` when a passwd copy names it.
pub fn display_identity(id: &str, passwd: &HashMap<u32, String>) -> String {
    if let Some(uid) = id.strip_prefix("uid:").and_then(|u| u.parse::<u32>().ok()) {
        if let Some(name) = passwd.get(&uid) {
            return format!("uid:{uid} ({name})");
        }
    }
    id.to_string()
}

/// Reads `/etc/passwd` lines: `name:x:uid:...`.
pub fn parse_passwd(text: &str) -> HashMap<u32, String> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split(':');
            let name = it.next()?;
            let _ = it.next()?;
            let uid = it.next()?.parse().ok()?;
            Some((uid, name.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_names_uids() {
        let p = parse_passwd("root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nbad line\n");
        assert_eq!(display_identity("uid:33", &p), "uid:33 (www-data)");
        assert_eq!(display_identity("uid:34", &p), "uid:34");
        assert_eq!(display_identity("sasl:a@b", &p), "sasl:a@b");
    }
}
