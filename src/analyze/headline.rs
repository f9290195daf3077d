//! The headline: the likely root causes, most important first, each named
//! once.

use super::{is_server_problem, pct};
use crate::classify::Cause;
use crate::model::*;
use crate::time::LogTime;

pub(super) fn headline(
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
            ..HeadlineItem::default()
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
            ..HeadlineItem::default()
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
