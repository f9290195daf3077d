//! Every outcome put down to a cause: expiries and deletions take their
//! last deferral's cause, and a headline speaks of bounces and rejects
//! when they, not deferrals, are what went wrong.

use rustc_hash::FxHashMap;

use crate::classify::Cause;
use crate::correlate::{Findings, RemovalKind};
use crate::model::{CauseRow, HeadlineItem, Summary, NO_TROUBLE};

/// Bounces make the headline from this many on...
const MIN_BOUNCES: u64 = 5;
/// ...and when they are at least this share (%) of the outbound outcomes,
const BOUNCE_SHARE: f64 = 20.0;
/// or this share when the headline names other trouble already.
const BOUNCE_SHARE_BESIDE: f64 = 50.0;
/// Our own rejects make the headline only when nothing else does, from
/// this many on, and when they outnumber the mail accepted.
const MIN_REJECTS: u64 = 10;

/// Adds the expired and deleted messages to the causes table, each under
/// its last deferral's cause (after the port 25 judgement); a message with
/// no deferral in the logs is `unknown`.
pub fn removal_causes(f: &Findings, summary: &mut Summary) {
    let mut counts: FxHashMap<Cause, (u64, u64)> = FxHashMap::default();
    for r in &f.removals {
        let cause = r
            .last_deferral
            .and_then(|i| f.outcomes.get(i as usize))
            .map_or(Cause::Unknown, |o| o.cause);
        let c = counts.entry(cause).or_default();
        match r.kind {
            RemovalKind::Expired => c.0 += 1,
            RemovalKind::Deleted => c.1 += 1,
        }
    }
    for (cause, (expired, deleted)) in counts {
        let row = match summary.causes.iter_mut().find(|c| c.cause == cause.id()) {
            Some(row) => row,
            None => {
                summary.causes.push(CauseRow {
                    cause: cause.id().to_string(),
                    title: cause.title().to_string(),
                    fix: cause.fix().iter().map(|s| s.to_string()).collect(),
                    ..CauseRow::default()
                });
                summary.causes.last_mut().expect("just pushed")
            }
        };
        row.expired += expired;
        row.deleted += deleted;
    }
    summary.causes.sort_by(|a, b| {
        let n = |c: &CauseRow| c.deferral_events + c.bounces + c.expired + c.deleted;
        n(b).cmp(&n(a)).then(a.cause.cmp(&b.cause))
    });
}

/// Whether the headline says nothing went wrong.
pub fn headline_is_empty(summary: &Summary) -> bool {
    summary.headline.iter().all(|h| h.cause == NO_TROUBLE)
}

/// Speaks of bounces when a large share of the outbound mail bounced, and
/// of our own rejects when nothing else went wrong and they outnumber what
/// was accepted.
pub fn bounce_and_reject_headline(summary: &mut Summary) {
    let t = &summary.totals;
    let outcomes = t.delivered + t.bounced;
    let share = if outcomes == 0 {
        0.0
    } else {
        (t.bounced as f64 * 1000.0 / outcomes as f64).round() / 10.0
    };
    let mut items = Vec::new();
    let needed = if headline_is_empty(summary) {
        BOUNCE_SHARE
    } else {
        BOUNCE_SHARE_BESIDE
    };
    if t.bounced >= MIN_BOUNCES && share >= needed {
        let top = summary
            .causes
            .iter()
            .filter(|c| c.bounces > 0)
            .max_by(|a, b| a.bounces.cmp(&b.bounces).then(b.cause.cmp(&a.cause)));
        if let Some(top) = top {
            let cause = Cause::from_id(&top.cause).unwrap_or(Cause::Unknown);
            let already = summary
                .headline
                .iter()
                .any(|h| h.cause == top.cause && h.text.contains("bounced"));
            if !already {
                items.push(HeadlineItem {
                    cause: top.cause.clone(),
                    title: format!("Mail bounces: {}", cause.title()),
                    text: format!(
                        "{} of {} recipients bounced ({share}%){}; {} of the bounces: {}.",
                        t.bounced,
                        outcomes,
                        if t.deferral_events == 0 {
                            ", none was deferred"
                        } else {
                            ""
                        },
                        top.bounces,
                        cause.title().to_lowercase()
                    ),
                    start: top.first.clone(),
                    end: top.last.clone(),
                    messages: t.bounced,
                    evidence: top.example.clone(),
                    fix: top.fix.clone(),
                    ..HeadlineItem::default()
                });
            }
        }
    }
    let accepted = t.received.max(t.delivered);
    if headline_is_empty(summary)
        && items.is_empty()
        && t.rejected >= MIN_REJECTS
        && t.rejected > accepted
    {
        let top = summary.inbound_rejects.first();
        items.push(HeadlineItem {
            cause: "rejected".into(),
            title: "This server refuses most of what it is offered".into(),
            text: format!(
                "This server rejected {} messages or recipients and accepted {}; most often: {}.",
                t.rejected,
                accepted,
                top.map_or("(no text)".to_string(), |r| format!(
                    "{} times \"{}\"",
                    r.count, r.text
                ))
            ),
            messages: t.rejected,
            evidence: top.map(|r| r.text.clone()),
            fix: vec!["Inbound refusals are this server's own policy: check that the refused clients are the ones meant (`postconf smtpd_recipient_restrictions`), and that its own users are not among them.".into()],
            ..HeadlineItem::default()
        });
    }
    if items.is_empty() {
        return;
    }
    if headline_is_empty(summary) {
        summary.headline = items;
    } else {
        summary.headline.extend(items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TextCount, Totals};

    fn summary(delivered: u64, bounced: u64, headline: &str) -> Summary {
        Summary {
            totals: Totals {
                delivered,
                bounced,
                ..Totals::default()
            },
            causes: vec![CauseRow {
                cause: "unknown_recipient".into(),
                bounces: bounced,
                example: Some("Host or domain name not found. Name service error for name=host.example.local type=A: Host not found".into()),
                ..CauseRow::default()
            }],
            headline: vec![HeadlineItem {
                cause: headline.into(),
                ..HeadlineItem::default()
            }],
            ..Summary::default()
        }
    }

    #[test]
    fn bounces_speak_when_they_are_the_trouble() {
        // Three quarters bounced, none deferred: the headline says so.
        let mut s = summary(62, 174, "none");
        bounce_and_reject_headline(&mut s);
        assert_eq!(s.headline.len(), 1);
        assert_eq!(s.headline[0].cause, "unknown_recipient");
        assert!(
            s.headline[0]
                .text
                .starts_with("174 of 236 recipients bounced (73.7%), none was deferred"),
            "{}",
            s.headline[0].text
        );
        // A fifth beside a listing the headline names already: not again.
        let mut s = summary(3707, 930, "blacklisted");
        bounce_and_reject_headline(&mut s);
        assert_eq!(s.headline.len(), 1);
        // A few bounces in much mail: nothing.
        let mut s = summary(1000, 20, "none");
        bounce_and_reject_headline(&mut s);
        assert_eq!(s.headline[0].cause, "none");
    }

    #[test]
    fn our_own_rejects_speak_only_when_nothing_else_does() {
        let mut s = summary(43, 0, "none");
        s.totals.rejected = 107;
        s.inbound_rejects = vec![TextCount {
            text: "553 5.7.1 Sender ERROR <addr>".into(),
            count: 89,
            cause: None,
        }];
        bounce_and_reject_headline(&mut s);
        assert_eq!(s.headline[0].cause, "rejected");
        assert!(s.headline[0].text.contains("rejected 107"));
    }
}
