//! What is broken now: each headline problem named once, with its state at
//! the end of the logs (ongoing, or ended, and when mail went through
//! again), its first and last lines, and what is queued at the end.

use rustc_hash::FxHashSet;

use super::local::time_of;
use super::AnalysisOptions;
use crate::classify::Cause;
use crate::correlate::{Delivery, Findings, OutcomeStatus, Sym};
use crate::model::{
    EvidenceLine, HeadlineItem, KeyCount, ProblemState, QueueNow, QueueNowSource, Summary,
};
use crate::time::{LogTime, MINUTE};

/// A problem last seen this close to the end of the logs, with no mail
/// through since, is ongoing.
const ONGOING_WITHIN: i64 = 30 * MINUTE;

/// Merges the headline's repeats and gives each item its state.
pub fn finish(f: &Findings, opts: &AnalysisOptions, summary: &mut Summary) {
    merge_repeats(&mut summary.headline);
    let Some(end) = f.last else {
        return;
    };
    let mut contacts = f.port25_contacts.clone();
    contacts.sort_unstable();
    let incident_window = (summary.timeline.incident_bucket_seconds * 2000).max(ONGOING_WITHIN);
    let states: Vec<(ProblemState, Option<String>)> = summary
        .headline
        .iter()
        .map(|h| {
            if matches!(h.cause.as_str(), "blacklisted" | "rate_limited")
                && !summary.blacklistings.is_empty()
            {
                return listing_state(summary);
            }
            let (Some(cause), Some(last)) =
                (Cause::from_id(&h.cause), h.end.as_deref().and_then(time_of))
            else {
                return (ProblemState::Untimed, None);
            };
            let start = h.start.as_deref().and_then(time_of).unwrap_or(last);
            let through = Through {
                f,
                delivered: &f.deliveries,
                contacts: &contacts,
            };
            match through.after(cause, start, last) {
                Some(t) => (ProblemState::Ended, Some(opts.format.iso(t))),
                None if end.0 - last.0 <= incident_window => (ProblemState::Ongoing, None),
                None => (ProblemState::Ended, None),
            }
        })
        .collect();
    for (h, (state, recovered)) in summary.headline.iter_mut().zip(states) {
        h.state = state;
        h.recovered = recovered;
        h.occurrences = h
            .occurrences
            .max(u64::from(h.cause != crate::model::NO_TROUBLE));
    }
}

/// Items of one cause and title are one problem: the first keeps the
/// place, with the others' messages and times.
fn merge_repeats(items: &mut Vec<HeadlineItem>) {
    let mut out: Vec<HeadlineItem> = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        match out
            .iter_mut()
            .find(|x| x.cause == item.cause && x.title == item.title)
        {
            Some(x) => {
                x.messages += item.messages;
                x.occurrences = x.occurrences.max(1) + item.occurrences.max(1);
                x.start = min_opt(x.start.take(), item.start);
                x.end = max_opt(x.end.take(), item.end);
            }
            None => out.push(item),
        }
    }
    *items = out;
}

fn min_opt(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Ongoing while any listing is; else ended when the last receiver
/// accepted mail again.
fn listing_state(summary: &Summary) -> (ProblemState, Option<String>) {
    let eps = &summary.blacklistings;
    if eps.iter().any(|e| e.state == ProblemState::Ongoing) {
        return (ProblemState::Ongoing, None);
    }
    let again = eps.iter().filter_map(|e| e.accepted_again.clone()).max();
    (ProblemState::Ended, again)
}

/// The mail that went through, to tell whether a problem is over.
struct Through<'a> {
    f: &'a Findings,
    /// Outbound deliveries in time order.
    delivered: &'a [Delivery],
    /// SMTP answers on port 25, in time order.
    contacts: &'a [LogTime],
}

impl Through<'_> {
    /// The first sign after `last` that mail got past the problem: for a
    /// cause that holds all mail (a blocked port, DNS, the filter, the
    /// relay, the server), any delivery out (or an answer on port 25 after
    /// a block); for a receiver's problem, a delivery to one of the domains
    /// it refused.
    fn after(&self, cause: Cause, start: LogTime, last: LogTime) -> Option<LogTime> {
        let first_after = |v: &[LogTime]| v.get(v.partition_point(|&t| t <= last)).copied();
        let all_mail = matches!(
            cause,
            Cause::Port25Blocked
                | Cause::ContentFilterDown
                | Cause::DnsFailure
                | Cause::RelayUnavailable
                | Cause::RelayAuthFailure
                | Cause::LocalSystem
        );
        let from = self.delivered.partition_point(|d| d.time <= last);
        let later = &self.delivered[from..];
        let delivery = if all_mail {
            later.first().map(|d| d.time)
        } else {
            let refused: FxHashSet<Sym> = self
                .f
                .outcomes
                .iter()
                .filter(|o| o.cause == cause && o.time >= start && o.time <= last)
                .filter(|o| o.status != OutcomeStatus::Expired)
                .map(|o| o.recipient_domain)
                .collect();
            later
                .iter()
                .find(|d| refused.contains(&d.domain))
                .map(|d| d.time)
        };
        let answer = if cause == Cause::Port25Blocked {
            first_after(self.contacts)
        } else {
            None
        };
        match (delivery, answer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// What the logs leave queued at the end (messages without a `removed`
/// line), and how many of them the suspects sent.
pub fn queue_from_logs(f: &Findings, opts: &AnalysisOptions, summary: &mut Summary) {
    if f.last.is_none() {
        return;
    }
    let suspects: FxHashSet<&str> = summary
        .suspects
        .iter()
        .map(|s| s.identity.split(" (").next().unwrap_or(&s.identity))
        .collect();
    let mut from_suspects = 0;
    let mut by_cause: Vec<KeyCount> = Vec::new();
    for info in f.live_ids.values().flatten() {
        if suspects.contains(f.strings.str(info.identity).as_ref()) {
            from_suspects += 1;
        }
        let Some(cause) = info.first_cause else {
            continue;
        };
        match by_cause.iter_mut().find(|k| k.key == cause.id()) {
            Some(k) => k.messages += 1,
            None => by_cause.push(KeyCount {
                key: cause.id().to_string(),
                messages: 1,
                bytes: 0,
            }),
        }
    }
    by_cause.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.key.cmp(&b.key)));
    summary.queue_now = Some(QueueNow {
        source: QueueNowSource::Logs,
        at: f.last.map(|t| opts.format.iso(t)),
        messages: f.live_ids.values().map(|v| v.len() as u64).sum(),
        from_suspects,
        by_cause,
    });
}

/// With a queue dump, the queue now is the dump's; `from_suspects` counts
/// the queued messages the suspects submitted (their ids files).
pub fn queue_from_dump(summary: &mut Summary, from_suspects: u64) {
    let Some(q) = &summary.queue else {
        return;
    };
    summary.queue_now = Some(QueueNow {
        source: QueueNowSource::Dump,
        at: Some(q.dump_time.clone()),
        messages: q.messages,
        from_suspects,
        by_cause: q.by_cause.clone(),
    });
}

/// Gives each headline item the first and the last line of the findings
/// behind it (once the lines are looked up).
pub fn headline_lines(summary: &mut Summary) {
    let mut all: Vec<Vec<EvidenceLine>> = Vec::with_capacity(summary.headline.len());
    for h in &summary.headline {
        let (from, to) = (h.start.as_deref(), h.end.as_deref());
        let within = |t: &str| from.is_none_or(|a| t >= a) && to.is_none_or(|b| t <= b);
        let mut lines: Vec<&EvidenceLine> = match h.cause.as_str() {
            "blacklisted" | "rate_limited" if !summary.blacklistings.is_empty() => summary
                .blacklistings
                .iter()
                .flat_map(|b| b.lines.iter())
                .collect(),
            _ => summary
                .incidents
                .iter()
                .filter(|i| i.cause == h.cause && within(&i.start))
                .flat_map(|i| i.lines.iter())
                .collect(),
        };
        lines.sort_by(|a, b| a.time.cmp(&b.time).then(a.line.cmp(&b.line)));
        let mut pick: Vec<EvidenceLine> = lines.first().map(|l| (*l).clone()).into_iter().collect();
        if let Some(last) = lines.last().filter(|_| lines.len() > 1) {
            pick.push((*last).clone());
        }
        all.push(pick);
    }
    for (h, lines) in summary.headline.iter_mut().zip(all) {
        h.lines = lines;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(cause: &str, title: &str, start: &str, end: &str, messages: u64) -> HeadlineItem {
        HeadlineItem {
            cause: cause.into(),
            title: title.into(),
            start: Some(start.into()),
            end: Some(end.into()),
            messages,
            ..HeadlineItem::default()
        }
    }

    #[test]
    fn a_problem_is_named_once() {
        let mut items = vec![
            item(
                "dns_failure",
                "DNS",
                "2026-01-01T10:00:00",
                "2026-01-01T11:00:00",
                5,
            ),
            item(
                "local_system",
                "Disk full",
                "2026-01-01T12:00:00",
                "2026-01-01T13:00:00",
                2,
            ),
            item(
                "dns_failure",
                "DNS",
                "2026-01-02T10:00:00",
                "2026-01-02T10:30:00",
                7,
            ),
            item(
                "local_system",
                "Crash loop",
                "2026-01-01T12:00:00",
                "2026-01-01T13:00:00",
                1,
            ),
        ];
        merge_repeats(&mut items);
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].messages, 12);
        assert_eq!(items[0].occurrences, 2);
        assert_eq!(items[0].end.as_deref(), Some("2026-01-02T10:30:00"));
    }
}
