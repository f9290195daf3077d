//! Findings from correlated messages: causes over time, incidents,
//! blacklist episodes, suspects, senders.
//!
//! Everything here works on the correlator's compact records, after the
//! logs are read, so its cost does not grow with the number of lines, only
//! with the number of deferrals and outbound recipients.

pub mod clocks;
pub mod episodes;
pub mod evidence;
pub mod guessing;
pub mod lasting;
pub mod local;
pub mod messages;
pub mod outcomes;
pub mod queue;
pub mod runbook;
pub mod sending;
mod suspect_window;
pub mod suspects;

use std::collections::HashMap;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::classify::{delisting_url, judge_port25, Cause, ConnectAttempt, ConnectFailure};
use crate::correlate::{Findings, OutcomeStatus, Sym};
use crate::model::*;
use crate::time::{LogTime, TimeFormat, DAY, HOUR, MINUTE};

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

/// The least an incident holds: deferrals, or messages refused.
const MIN_INCIDENT_EVENTS: u64 = 10;
const MIN_INCIDENT_MESSAGES: u64 = 5;

/// Bucket widths a timeline may use, smallest first.
const BUCKETS: [i64; 10] = [
    5 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
];

/// The most timeline buckets a run makes, whatever `--bucket` says.
const MAX_BUCKETS: i64 = 20_000;

/// The smallest width that keeps the chart under 200 bars.
pub fn choose_bucket(span: i64) -> i64 {
    BUCKETS
        .iter()
        .copied()
        .find(|w| span / w <= 200)
        .unwrap_or(DAY)
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

fn most_common(counts: FxHashMap<Sym, u64>) -> Option<Sym> {
    counts
        .into_iter()
        .filter(|(s, _)| *s != 0)
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(s, _)| s)
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
    apply_port25_judgement(f);
    lasting::judge_lasting_block(f);
    let f: &Findings = f;
    // The two halves read the records independently: run them side by side.
    let (incidents, sources) = rayon::join(
        || causes_over_time(f, opts, summary),
        || sources_of_mail(f, opts),
    );
    let Some((incidents, mut requests)) = incidents else {
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
    requests.extend(ranking.requests);
    let suspects = ranking.identities;
    summary.password_guessing = guessing::password_guessing(f, opts);
    summary.headline = headline(summary, &incidents, f.counts.deferral_events);
    local::summarize(f, opts, summary);
    Analyzed { requests, suspects }
}

/// What the rest of the pipeline needs from the analysis besides the
/// summary: the raw lines to look up, and who the suspects are.
#[derive(Default)]
pub struct Analyzed {
    pub requests: evidence::Requests,
    pub suspects: Vec<suspects::SuspectRef>,
}

/// Causes, timeline and incidents, into `summary`; the incidents with their
/// start times, `None` when no line had a time.
fn causes_over_time(
    f: &Findings,
    opts: &AnalysisOptions,
    summary: &mut Summary,
) -> Option<(Vec<(LogTime, Incident)>, evidence::Requests)> {
    let fmt = &opts.format;
    let s = |sym: Sym| f.strings.str(sym).into_owned();
    let deferrals_total = f.counts.deferral_events;

    // Causes.
    #[derive(Default)]
    struct Acc {
        events: u64,
        bounces: u64,
        messages: FxHashSet<u32>,
        first: Option<LogTime>,
        last: Option<LogTime>,
        details: FxHashMap<Sym, u64>,
        texts: FxHashMap<Sym, u64>,
    }
    let mut by_cause: FxHashMap<Cause, Acc> = FxHashMap::default();
    for o in &f.outcomes {
        let a = by_cause.entry(o.cause).or_default();
        match o.status {
            OutcomeStatus::Deferred => {
                a.events += 1;
                a.messages.insert(o.message);
            }
            OutcomeStatus::Bounced => a.bounces += 1,
            OutcomeStatus::Expired => {}
        }
        a.first = Some(a.first.map_or(o.time, |t| t.min(o.time)));
        a.last = Some(a.last.map_or(o.time, |t| t.max(o.time)));
        let detail = if o.list != 0 { o.list } else { o.remote_host };
        *a.details.entry(detail).or_default() += 1;
        *a.texts.entry(o.text).or_default() += 1;
    }
    let mut causes: Vec<CauseRow> = by_cause
        .into_iter()
        .map(|(c, a)| CauseRow {
            cause: c.id().to_string(),
            title: c.title().to_string(),
            deferral_events: a.events,
            deferred_messages: a.messages.len() as u64,
            bounces: a.bounces,
            expired: 0,
            deleted: 0,
            share_of_deferrals: pct(a.events, deferrals_total),
            first: a.first.map(|t| fmt.iso(t)),
            last: a.last.map(|t| fmt.iso(t)),
            top_detail: most_common(a.details).map(s),
            example: most_common(a.texts).map(s),
            fix: c.fix().iter().map(|x| x.to_string()).collect(),
        })
        .collect();
    causes.sort_by(|a, b| {
        (b.deferral_events + b.bounces)
            .cmp(&(a.deferral_events + a.bounces))
            .then(a.cause.cmp(&b.cause))
    });
    summary.causes = causes;

    // Timeline.
    let (Some(first), Some(last)) = (f.first, f.last) else {
        return None;
    };
    let span = last.0 - first.0;
    let mut bucket = opts.bucket.unwrap_or_else(|| choose_bucket(span));
    if span / bucket.max(1) > MAX_BUCKETS {
        // `--bucket 1m` over years of logs would be millions of bars.
        let wider = BUCKETS
            .iter()
            .copied()
            .find(|w| span / w <= MAX_BUCKETS)
            .unwrap_or_else(|| (span / MAX_BUCKETS / DAY + 1) * DAY);
        summary.problems.push(format!(
            "a timeline bucket of {} s would make {} bars over the logs' span: widened to {} s",
            bucket / 1000,
            span / bucket.max(1),
            wider / 1000
        ));
        bucket = wider;
    }
    summary.timeline.bucket_seconds = bucket / 1000;
    let mut cells: FxHashMap<(i64, Cause), (u64, FxHashSet<u32>)> = FxHashMap::default();
    for o in f
        .outcomes
        .iter()
        .filter(|o| o.status == OutcomeStatus::Deferred)
    {
        let c = cells.entry((o.time.floor(bucket).0, o.cause)).or_default();
        c.0 += 1;
        c.1.insert(o.message);
    }
    let mut rows: Vec<(i64, Cause, u64, u64)> = cells
        .into_iter()
        .map(|((b, c), (n, m))| (b, c, n, m.len() as u64))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    summary.timeline.rows = rows
        .iter()
        .map(|&(b, c, n, m)| TimelineRow {
            bucket_start: fmt.iso(LogTime(b)),
            cause: c.id().to_string(),
            deferral_events: n,
            deferred_messages: m,
        })
        .collect();

    // Incidents: per cause, runs of buckets well above its own baseline.
    let n_buckets = ((last.floor(bucket).0 - first.floor(bucket).0) / bucket + 1).max(1) as usize;
    let start_bucket = first.floor(bucket).0;
    let mut incidents = Vec::new();
    // Deferrals and bounces both count: a listing that refuses outright
    // shows as bounces only.
    let mut series_of: FxHashMap<Cause, Vec<u64>> = FxHashMap::default();
    for o in f
        .outcomes
        .iter()
        .filter(|o| o.status != OutcomeStatus::Expired)
    {
        let i = ((o.time.floor(bucket).0 - start_bucket) / bucket) as usize;
        let series = series_of
            .entry(o.cause)
            .or_insert_with(|| vec![0; n_buckets]);
        if i < n_buckets {
            series[i] += 1;
        }
    }
    let mut causes_seen: Vec<Cause> = series_of.keys().copied().collect();
    causes_seen.sort();
    // Each cause's outcomes in time order, so an incident reads only its
    // own stretch instead of every outcome.
    let mut by_time: FxHashMap<Cause, Vec<u32>> = FxHashMap::default();
    for (i, o) in f.outcomes.iter().enumerate() {
        if o.status != OutcomeStatus::Expired {
            by_time.entry(o.cause).or_default().push(i as u32);
        }
    }
    for v in by_time.values_mut() {
        v.sort_by_key(|&i| f.outcomes[i as usize].time);
    }
    for cause in causes_seen {
        let series = &series_of[&cause];
        let mut sorted = series.clone();
        sorted.sort_unstable();
        // The baseline is the lower quartile: a cause that lasts most of
        // the period (a listing) must not raise its own baseline.
        let baseline = sorted[sorted.len() / 4];
        // Well above baseline: three times it and at least three deferrals
        // in the bucket.
        let threshold = (baseline * 3).max(baseline + 2).max(3);
        let mut i = 0;
        while i < n_buckets {
            if series[i] < threshold {
                i += 1;
                continue;
            }
            let mut j = i;
            // Extend over single quiet buckets.
            while j + 1 < n_buckets
                && (series[j + 1] >= threshold
                    || (j + 2 < n_buckets && series[j + 1] > 0 && series[j + 2] >= threshold))
            {
                j += 1;
            }
            let from = LogTime(start_bucket + i as i64 * bucket);
            let to = LogTime(start_bucket + (j as i64 + 1) * bucket);
            let inc = build_incident(f, cause, &by_time[&cause], from, to, deferrals_total, fmt);
            // A handful of refusals is noise, not an incident.
            if inc.1.deferral_events >= MIN_INCIDENT_EVENTS
                || inc.1.messages >= MIN_INCIDENT_MESSAGES
            {
                incidents.push(inc);
            }
            i = j + 1;
        }
    }
    incidents.sort_by_key(|a| a.0 .0);
    summary.incidents = incidents.iter().map(|x| x.1.clone()).collect();
    let mut requests = evidence::Requests::default();
    for (i, ((start, end), inc)) in incidents.iter().enumerate() {
        if let (Some(a), Some(b)) = (&inc.first_example, &inc.last_example) {
            requests.incident(i, (a, *start), (b, *end));
        }
    }
    Some((
        incidents.into_iter().map(|((t, _), i)| (t, i)).collect(),
        requests,
    ))
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
                standing: e.standing.id().to_string(),
                state: match e.state {
                    episodes::EpisodeState::Ongoing => "ongoing".to_string(),
                    episodes::EpisodeState::Ended { .. } => "ended".to_string(),
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
        if let Some(&r) = e.receivers.first() {
            ranking
                .requests
                .episode(i, &f.strings.str(r), e.first, e.first_bounce);
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
        *unknown.entry((o.normalised, None)).or_default() += 1;
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

/// The incident of `cause` between `from` and `to`; `of_cause` holds the
/// cause's outcomes (not expiries) in time order.
fn build_incident(
    f: &Findings,
    cause: Cause,
    of_cause: &[u32],
    from: LogTime,
    to: LogTime,
    deferrals_total: u64,
    fmt: &TimeFormat,
) -> ((LogTime, LogTime), Incident) {
    let mut events = 0;
    let mut messages = FxHashSet::default();
    let mut receivers: FxHashMap<Sym, u64> = FxHashMap::default();
    let mut first: Option<(LogTime, Sym)> = None;
    let mut last: Option<(LogTime, Sym)> = None;
    let lo = of_cause.partition_point(|&i| f.outcomes[i as usize].time < from);
    let hi = of_cause.partition_point(|&i| f.outcomes[i as usize].time < to);
    for o in of_cause[lo..hi].iter().map(|&i| &f.outcomes[i as usize]) {
        if o.status == OutcomeStatus::Deferred {
            events += 1;
        }
        messages.insert(o.message);
        let r = if o.remote_host != 0 {
            o.remote_host
        } else {
            o.recipient_domain
        };
        *receivers.entry(r).or_default() += 1;
        if first.is_none_or(|f| o.time < f.0) {
            first = Some((o.time, o.text));
        }
        if last.is_none_or(|l| o.time >= l.0) {
            last = Some((o.time, o.text));
        }
    }
    let mut recv: Vec<(Sym, u64)> = receivers.into_iter().filter(|r| r.0 != 0).collect();
    recv.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let start = first.map_or(from, |x| x.0);
    let end = last.map_or(to, |x| x.0);
    (
        (start, end),
        Incident {
            cause: cause.id().to_string(),
            start: fmt.iso(start),
            end: fmt.iso(end),
            deferral_events: events,
            messages: messages.len() as u64,
            share_of_deferrals: pct(events, deferrals_total),
            receivers: recv
                .iter()
                .take(10)
                .map(|r| f.strings.str(r.0).into_owned())
                .collect(),
            first_example: first.map(|x| f.strings.str(x.1).into_owned()),
            last_example: last.map(|x| f.strings.str(x.1).into_owned()),
            ..Incident::default()
        },
    )
}

fn headline(
    summary: &Summary,
    incidents: &[(LogTime, Incident)],
    deferrals_total: u64,
) -> Vec<HeadlineItem> {
    let mut items: Vec<HeadlineItem> = Vec::new();
    let short = |iso: &str| iso.replace('T', " ").chars().take(16).collect::<String>();
    // Blacklistings first when they exist: they need a source found.
    if !summary.blacklistings.is_empty() {
        let eps = &summary.blacklistings;
        let first = eps
            .iter()
            .map(|e| e.first_seen.as_str())
            .min()
            .unwrap_or_default();
        let lists: Vec<&str> = eps
            .iter()
            .filter(|e| e.cause == "blacklisted")
            .map(|e| e.list.as_str())
            .collect();
        let limited: Vec<&str> = eps
            .iter()
            .filter(|e| e.cause == "rate_limited")
            .map(|e| e.list.as_str())
            .collect();
        let messages: u64 = eps.iter().map(|e| e.messages).sum();
        let deferrals: u64 = eps.iter().map(|e| e.deferrals).sum();
        let bounces: u64 = eps.iter().map(|e| e.bounces).sum();
        let mut text = String::new();
        if !lists.is_empty() {
            text += &format!(
                "The server is blacklisted since {}: {}",
                short(first),
                join_some(&lists, 5)
            );
        } else {
            text += &format!("Receivers throttle the server since {}", short(first));
        }
        if !limited.is_empty() && !lists.is_empty() {
            text += &format!("; rate-limited by {}", join_some(&limited, 3));
        }
        text += &format!(
            ". {messages} messages refused or delayed ({deferrals} deferrals, {bounces} bounces, {}% of all deferrals).",
            pct(deferrals, deferrals_total)
        );
        let ongoing: Vec<&str> = eps
            .iter()
            .filter(|e| e.state == "ongoing")
            .map(|e| e.list.as_str())
            .collect();
        let ended: Vec<String> = eps
            .iter()
            .filter(|e| e.state == "ended")
            .map(|e| {
                format!(
                    "{} (accepted again {})",
                    e.list,
                    short(e.accepted_again.as_deref().unwrap_or_default())
                )
            })
            .collect();
        if !ongoing.is_empty() {
            text += &format!(
                " Still refused at the end of the logs by {}.",
                join_some(&ongoing, 5)
            );
        }
        if !ended.is_empty() {
            let ended: Vec<&str> = ended.iter().map(String::as_str).collect();
            text += &format!(" Ended: {}.", join_some(&ended, 5));
        }
        let evidence = summary.suspects.first().map(|s| {
            format!(
                "Most likely source: {} (score {:.0}, {} recipients beyond its usual before the {} listing): {}",
                s.identity,
                s.score,
                s.excess_recipients,
                s.episode,
                s.evidence.iter().take(4).cloned().collect::<Vec<_>>().join("; ")
            )
        });
        let cause = if lists.is_empty() {
            Cause::RateLimited
        } else {
            Cause::Blacklisted
        };
        items.push(HeadlineItem {
            cause: cause.id().to_string(),
            title: cause.title().to_string(),
            text,
            start: Some(first.to_string()),
            end: eps.iter().map(|e| e.last_seen.clone()).max(),
            messages,
            evidence,
            fix: cause.fix().iter().map(|s| s.to_string()).collect(),
        });
    }
    let mut ranked: Vec<&Incident> = incidents
        .iter()
        .map(|x| &x.1)
        .filter(|i| {
            Cause::from_id(&i.cause).is_some_and(|c| {
                is_server_problem(c) && !matches!(c, Cause::Blacklisted | Cause::RateLimited)
            })
        })
        .collect();
    ranked.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.start.cmp(&b.start)));
    for inc in ranked.into_iter().take(4) {
        let cause = Cause::from_id(&inc.cause).unwrap_or(Cause::Unknown);
        items.push(HeadlineItem {
            cause: inc.cause.clone(),
            title: cause.title().to_string(),
            text: format!(
                "{} from {} to {}: {} messages held up, {} deferrals ({}% of all deferrals).",
                cause.title(),
                short(&inc.start),
                short(&inc.end),
                inc.messages,
                inc.deferral_events,
                inc.share_of_deferrals
            ),
            start: Some(inc.start.clone()),
            end: Some(inc.end.clone()),
            messages: inc.messages,
            evidence: inc.first_example.clone(),
            fix: cause.fix().iter().map(|s| s.to_string()).collect(),
        });
    }
    if items.is_empty() {
        let text = if deferrals_total == 0 {
            "No deferrals: nothing is held up in these logs.".to_string()
        } else {
            let top = summary.causes.first();
            format!(
                "No incident stands out: {} deferrals spread over time; the most common cause is {}.",
                deferrals_total,
                top.map_or("unknown", |c| c.cause.as_str())
            )
        };
        items.push(HeadlineItem {
            cause: "none".into(),
            title: "No incident found".into(),
            text,
            ..HeadlineItem::default()
        });
    }
    items
}

fn join_some(v: &[&str], n: usize) -> String {
    let mut uniq: Vec<&str> = Vec::new();
    for x in v {
        if !uniq.contains(x) {
            uniq.push(x);
        }
    }
    let more = uniq.len().saturating_sub(n);
    let mut s = uniq.into_iter().take(n).collect::<Vec<_>>().join(", ");
    if more > 0 {
        s += &format!(" and {more} more");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_width_follows_span() {
        assert_eq!(choose_bucket(26 * MINUTE), 5 * MINUTE);
        assert_eq!(choose_bucket(7 * DAY), HOUR);
        assert_eq!(choose_bucket(400 * DAY), DAY);
    }

    #[test]
    fn passwd_names_uids() {
        let p = parse_passwd("root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nbad line\n");
        assert_eq!(display_identity("uid:33", &p), "uid:33 (www-data)");
        assert_eq!(display_identity("uid:34", &p), "uid:34");
        assert_eq!(display_identity("sasl:a@b", &p), "sasl:a@b");
    }
}
