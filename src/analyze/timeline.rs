//! Causes over time: the causes table, the timeline (deferrals by cause,
//! and the mail that went through, per bucket) and the incidents (runs of
//! buckets where a cause stands well above its own baseline).

use rustc_hash::{FxHashMap, FxHashSet};

use super::{evidence, pct, AnalysisOptions};
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
    fn bucket_width_follows_span() {
        assert_eq!(choose_bucket(26 * MINUTE), 5 * MINUTE);
        assert_eq!(choose_bucket(7 * DAY), HOUR);
        assert_eq!(choose_bucket(400 * DAY), DAY);
    }
}
