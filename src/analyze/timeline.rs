//! Causes over time: the causes table, the timeline (deferrals by cause,
//! and the mail that went through, per bucket) and the incidents (runs of
//! buckets where a cause stands well above its own baseline).

use rustc_hash::{FxHashMap, FxHashSet};

use super::{pct, AnalysisOptions};
use crate::classify::Cause;
use crate::correlate::{Findings, OutcomeStatus, Sym};
use crate::model::*;
use crate::time::{LogTime, TimeFormat, DAY, HOUR, MINUTE};

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

fn most_common(counts: FxHashMap<Sym, u64>) -> Option<Sym> {
    counts
        .into_iter()
        .filter(|(s, _)| *s != 0)
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(s, _)| s)
}

/// Causes, timeline and incidents, into `summary`; the incidents with their
/// start times, `None` when no line had a time.
pub(super) fn causes_over_time(
    f: &Findings,
    opts: &AnalysisOptions,
    summary: &mut Summary,
) -> Option<Vec<(LogTime, Incident)>> {
    summary.causes = causes_table(f, opts);
    let (Some(first), Some(last)) = (f.first, f.last) else {
        return None;
    };
    let span = last.0 - first.0;
    let (bucket, incident_bucket) = match opts.bucket {
        Some(b) => {
            let b = widened(b, span, &mut summary.problems);
            (b, b)
        }
        None => (chart_bucket(first, last), choose_bucket(span)),
    };
    let fmt = &opts.format;
    summary.timeline.bucket_seconds = bucket / 1000;
    summary.timeline.incident_bucket_seconds = incident_bucket / 1000;
    summary.timeline.rows = timeline_rows(f, bucket, fmt);
    summary.timeline.flow = flow_rows(f, bucket, fmt);
    let incidents = find_incidents(f, incident_bucket, fmt);
    summary.incidents = incidents.iter().map(|x| x.1.clone()).collect();
    Some(incidents.into_iter().map(|((t, _), i)| (t, i)).collect())
}

/// Bucket widths the chart may use, smallest first.
const CHART_BUCKETS: [i64; 20] = [
    MINUTE,
    2 * MINUTE,
    3 * MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    20 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    4 * HOUR,
    6 * HOUR,
    8 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    4 * DAY,
    7 * DAY,
    14 * DAY,
];

/// The most bars the chart shows; the bucket is the smallest that keeps
/// within it, so a long period gets 30 to 60 bars and a short one one
/// bar a minute.
pub const CHART_BARS: i64 = 60;

/// The smallest chart bucket (1 minute and up) that draws `first` to `last`
/// in at most [`CHART_BARS`] bars.
pub fn chart_bucket(first: LogTime, last: LogTime) -> i64 {
    let bars = |w: i64| (last.floor(w).0 - first.floor(w).0) / w + 1;
    CHART_BUCKETS
        .iter()
        .copied()
        .find(|&w| bars(w) <= CHART_BARS)
        .unwrap_or_else(|| {
            // Years of logs: whole weeks, one more when the buckets'
            // alignment adds a bar.
            let mut weeks = (last.0 - first.0) / (7 * DAY) / CHART_BARS + 1;
            while bars(weeks * 7 * DAY) > CHART_BARS {
                weeks += 1;
            }
            weeks * 7 * DAY
        })
}

/// `--bucket` as given, unless it would make more than [`MAX_BUCKETS`]
/// bars over the logs' span (said in `problems`).
fn widened(bucket: i64, span: i64, problems: &mut Vec<String>) -> i64 {
    if span / bucket.max(1) <= MAX_BUCKETS {
        return bucket;
    }
    // `--bucket 1m` over years of logs would be millions of bars.
    let wider = BUCKETS
        .iter()
        .copied()
        .find(|w| span / w <= MAX_BUCKETS)
        .unwrap_or_else(|| (span / MAX_BUCKETS / DAY + 1) * DAY);
    problems.push(format!(
        "a timeline bucket of {} s would make {} bars over the logs' span: widened to {} s",
        bucket / 1000,
        span / bucket.max(1),
        wider / 1000
    ));
    wider
}

/// Every deferral, bounce and expiry per cause.
fn causes_table(f: &Findings, opts: &AnalysisOptions) -> Vec<CauseRow> {
    let fmt = &opts.format;
    let s = |sym: Sym| f.strings.str(sym).into_owned();
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
        let reply = f.reply(o);
        let detail = if reply.list != 0 {
            reply.list
        } else {
            reply.remote_host
        };
        *a.details.entry(detail).or_default() += 1;
        *a.texts.entry(reply.text).or_default() += 1;
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
            share_of_deferrals: pct(a.events, f.counts.deferral_events),
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
    causes
}

/// Deferrals per bucket and cause, the non-empty cells.
fn timeline_rows(f: &Findings, bucket: i64, fmt: &TimeFormat) -> Vec<TimelineRow> {
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
    rows.iter()
        .map(|&(b, c, n, m)| TimelineRow {
            bucket_start: fmt.iso(LogTime(b)),
            cause: c.id().to_string(),
            deferral_events: n,
            deferred_messages: m,
        })
        .collect()
}

/// Outbound deliveries, bounces and deferrals per bucket: whether mail
/// flows beside the trouble.
fn flow_rows(f: &Findings, bucket: i64, fmt: &TimeFormat) -> Vec<FlowRow> {
    let mut cells: std::collections::BTreeMap<i64, (u64, u64, u64)> = Default::default();
    for d in &f.deliveries {
        cells.entry(d.time.floor(bucket).0).or_default().0 += 1;
    }
    for o in &f.outcomes {
        let c = cells.entry(o.time.floor(bucket).0).or_default();
        match o.status {
            OutcomeStatus::Bounced => c.1 += 1,
            OutcomeStatus::Deferred => c.2 += 1,
            OutcomeStatus::Expired => {}
        }
    }
    cells
        .into_iter()
        .filter(|(_, c)| *c != (0, 0, 0))
        .map(|(b, (delivered, bounced, deferral_events))| FlowRow {
            bucket_start: fmt.iso(LogTime(b)),
            delivered,
            bounced,
            deferral_events,
        })
        .collect()
}

/// Whether an incident of `cause` is trouble rather than a standing
/// condition: greylisting and full mailboxes never are; unknown
/// recipients, a dead destination and unknown replies only when they hit
/// several receivers at once, in numbers.
fn is_trouble(cause: Cause, inc: &Incident) -> bool {
    match cause {
        Cause::Greylisted | Cause::MailboxFull => false,
        c if super::is_server_problem(c) => {
            inc.deferral_events >= MIN_INCIDENT_EVENTS || inc.messages >= MIN_INCIDENT_MESSAGES
        }
        _ => {
            inc.receivers.len() >= STANDING_RECEIVERS
                && (inc.deferral_events >= 3 * MIN_INCIDENT_EVENTS
                    || inc.messages >= 3 * MIN_INCIDENT_MESSAGES)
        }
    }
}

/// Receivers a recipient-side cause must hit at once to be an incident.
const STANDING_RECEIVERS: usize = 3;

/// Per cause, runs of buckets well above its own baseline.
fn find_incidents(
    f: &Findings,
    bucket: i64,
    fmt: &TimeFormat,
) -> Vec<((LogTime, LogTime), Incident)> {
    let (Some(first), Some(last)) = (f.first, f.last) else {
        return Vec::new();
    };
    let deferrals_total = f.counts.deferral_events;
    let n_buckets = ((last.floor(bucket).0 - first.floor(bucket).0) / bucket + 1).max(1) as usize;
    let start_bucket = first.floor(bucket).0;
    let mut incidents = Vec::new();
    // Deferrals and bounces both count: a listing that refuses outright
    // shows as bounces only.
    let mut series_of: FxHashMap<Cause, Vec<u64>> = FxHashMap::default();
    // Each cause's outcomes in time order, so an incident reads only its
    // own stretch instead of every outcome.
    let mut by_time: FxHashMap<Cause, Vec<u32>> = FxHashMap::default();
    for (k, o) in f.outcomes.iter().enumerate() {
        if o.status == OutcomeStatus::Expired {
            continue;
        }
        let i = ((o.time.floor(bucket).0 - start_bucket) / bucket) as usize;
        let series = series_of
            .entry(o.cause)
            .or_insert_with(|| vec![0; n_buckets]);
        if i < n_buckets {
            series[i] += 1;
        }
        by_time.entry(o.cause).or_default().push(k as u32);
    }
    for v in by_time.values_mut() {
        v.sort_by_key(|&i| f.outcomes[i as usize].time);
    }
    let mut causes_seen: Vec<Cause> = series_of.keys().copied().collect();
    causes_seen.sort();
    for cause in causes_seen {
        let series = &series_of[&cause];
        for (i, j) in runs(series) {
            let from = LogTime(start_bucket + i as i64 * bucket);
            let to = LogTime(start_bucket + (j as i64 + 1) * bucket);
            let inc = build_incident(f, cause, &by_time[&cause], from, to, deferrals_total, fmt);
            // A handful of refusals is noise; a standing condition stays
            // in the causes table.
            if is_trouble(cause, &inc.1) {
                incidents.push(inc);
            }
        }
    }
    incidents.sort_by_key(|a| a.0 .0);
    incidents
}

/// Runs `(first, last)` of buckets well above the series' own baseline,
/// bridging single quiet buckets.
fn runs(series: &[u64]) -> Vec<(usize, usize)> {
    let n = series.len();
    let mut sorted = series.to_vec();
    sorted.sort_unstable();
    // The baseline is the lower quartile: a cause that lasts most of the
    // period (a listing) must not raise its own baseline.
    let baseline = sorted[sorted.len() / 4];
    // Well above baseline: three times it and at least three deferrals in
    // the bucket.
    let threshold = (baseline * 3).max(baseline + 2).max(3);
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        if series[i] < threshold {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < n
            && (series[j + 1] >= threshold
                || (j + 2 < n && series[j + 1] > 0 && series[j + 2] >= threshold))
        {
            j += 1;
        }
        out.push((i, j));
        i = j + 1;
    }
    out
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
        let reply = f.reply(o);
        let r = if reply.remote_host != 0 {
            reply.remote_host
        } else {
            o.recipient_domain
        };
        *receivers.entry(r).or_default() += 1;
        if first.is_none_or(|t| o.time < t.0) {
            first = Some((o.time, reply.text));
        }
        if last.is_none_or(|l| o.time >= l.0) {
            last = Some((o.time, reply.text));
        }
    }
    let mut recv: Vec<(Sym, u64)> = receivers.into_iter().filter(|r| r.0 != 0).collect();
    // Ties by name: symbols number strings in the order they were met.
    recv.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| f.strings.get(a.0).cmp(f.strings.get(b.0)))
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_gets_at_most_sixty_bars_a_minute_and_up() {
        let t = |m: i64| LogTime(DAY * 20_000 + m * MINUTE);
        // lab-1: 26 minutes, one bar a minute.
        assert_eq!(chart_bucket(t(3), t(29)), MINUTE);
        // A week: three hours, 56 bars.
        assert_eq!(chart_bucket(t(0), t(7 * 24 * 60 - 1)), 3 * HOUR);
        // A day: half hours, 48 bars.
        assert_eq!(chart_bucket(t(0), t(24 * 60 - 1)), 30 * MINUTE);
        let spans = (0..2000).map(|k| k * k + k * 7);
        for span in spans.chain([5, 90, 121, 600, 3000, 20_000, 200_000, 2_000_000]) {
            let w = chart_bucket(t(0), t(span));
            let bars = (t(span).floor(w).0 - t(0).floor(w).0) / w + 1;
            assert!(bars <= CHART_BARS, "{span} min: {bars} bars of {w}");
            assert!(w == MINUTE || bars >= 30, "{span} min: {bars} bars of {w}");
        }
    }

    #[test]
    fn standing_conditions_are_no_incidents() {
        let inc = |receivers: usize, events: u64, messages: u64| Incident {
            receivers: vec!["mx.example".into(); receivers],
            deferral_events: events,
            messages,
            ..Incident::default()
        };
        assert!(!is_trouble(Cause::Greylisted, &inc(10, 500, 200)));
        assert!(!is_trouble(Cause::RemoteUnavailable, &inc(1, 223, 6)));
        assert!(!is_trouble(Cause::UnknownRecipient, &inc(1, 0, 27)));
        assert!(!is_trouble(Cause::RemoteUnavailable, &inc(6, 9, 6)));
        assert!(is_trouble(Cause::UnknownRecipient, &inc(10, 0, 184)));
        assert!(is_trouble(Cause::DnsFailure, &inc(1, 12, 2)));
    }

    #[test]
    fn bucket_width_follows_span() {
        assert_eq!(choose_bucket(26 * MINUTE), 5 * MINUTE);
        assert_eq!(choose_bucket(7 * DAY), HOUR);
        assert_eq!(choose_bucket(400 * DAY), DAY);
    }
}
