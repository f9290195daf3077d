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
            .filter(|e| e.cause == Cause::Blacklisted.id())
            .map(|e| e.list.as_str())
            .collect();
        let limited: Vec<&str> = eps
            .iter()
            .filter(|e| e.cause == Cause::RateLimited.id())
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
            .filter(|e| e.state == ProblemState::Ongoing)
            .map(|e| e.list.as_str())
            .collect();
        let ended: Vec<String> = eps
            .iter()
            .filter(|e| e.state == ProblemState::Ended)
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
            fix: listing_fix(cause, summary),
            ..HeadlineItem::default()
        });
    }
    items.extend(incident_items(incidents));
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

/// One item per cause of the server's own trouble (listings aside: they
/// have their item), biggest first: a cause that struck several times is
/// named once, with how often.
fn incident_items(incidents: &[(LogTime, Incident)]) -> Vec<HeadlineItem> {
    let short = |iso: &str| iso.replace('T', " ").chars().take(16).collect::<String>();
    let mut by_cause: Vec<(Cause, Vec<&Incident>)> = Vec::new();
    for inc in incidents.iter().map(|x| &x.1) {
        let Some(c) = Cause::from_id(&inc.cause) else {
            continue;
        };
        if !is_server_problem(c) || matches!(c, Cause::Blacklisted | Cause::RateLimited) {
            continue;
        }
        match by_cause.iter_mut().find(|(k, _)| *k == c) {
            Some((_, v)) => v.push(inc),
            None => by_cause.push((c, vec![inc])),
        }
    }
    let mut items: Vec<HeadlineItem> = by_cause
        .into_iter()
        .map(|(cause, runs)| {
            let first = runs.iter().map(|i| i.start.as_str()).min().unwrap_or("");
            let last = runs.iter().map(|i| i.end.as_str()).max().unwrap_or("");
            let messages: u64 = runs.iter().map(|i| i.messages).sum();
            let deferrals: u64 = runs.iter().map(|i| i.deferral_events).sum();
            let share: f64 = runs.iter().map(|i| i.share_of_deferrals).sum();
            let share = (share * 10.0).round() / 10.0;
            let text = if runs.len() == 1 {
                format!(
                    "{} from {} to {}: {messages} messages held up, {deferrals} deferrals ({share}% of all deferrals).",
                    cause.title(),
                    short(first),
                    short(last),
                )
            } else {
                let longest = runs
                    .iter()
                    .max_by_key(|i| (i.messages, std::cmp::Reverse(i.start.clone())))
                    .expect("one run");
                format!(
                    "{} {} times between {} and {}: {messages} messages held up, {deferrals} deferrals ({share}% of all deferrals); the worst from {} to {} ({} messages).",
                    cause.title(),
                    runs.len(),
                    short(first),
                    short(last),
                    short(&longest.start),
                    short(&longest.end),
                    longest.messages,
                )
            };
            HeadlineItem {
                cause: cause.id().to_string(),
                title: cause.title().to_string(),
                text,
                start: Some(first.to_string()),
                end: Some(last.to_string()),
                messages,
                evidence: runs[0].first_example.clone(),
                fix: fix_with_host(cause, &runs),
                occurrences: runs.len() as u64,
                ..HeadlineItem::default()
            }
        })
        .collect();
    items.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.start.cmp(&b.start)));
    items
}

/// The listing's fix with the values the findings hold: the likeliest
/// source instead of "see the senders table", and a `dig` per listed IP
/// and list zone instead of the example one.
fn listing_fix(cause: Cause, summary: &Summary) -> Vec<String> {
    let digs: Vec<String> = summary
        .blacklistings
        .iter()
        .filter_map(|b| {
            let dig = crate::classify::dig_command(b.listed_ip.as_deref()?, &b.list)?;
            Some(format!("`{dig}`"))
        })
        .fold(Vec::new(), |mut v, d| {
            if !v.contains(&d) {
                v.push(d);
            }
            v
        });
    let source = summary.suspects.first().map(|s| s.identity.as_str());
    cause
        .fix()
        .iter()
        .map(|step| {
            let mut step = step.to_string();
            if let Some(id) = source {
                step = step.replace(
                    "(see the senders table)",
                    &format!("(most likely {id}: see Suspects)"),
                );
            }
            if !digs.is_empty() && step.contains("`dig +short 4.3.2.1.zen.spamhaus.org`") {
                let shown: Vec<&str> = digs.iter().take(3).map(String::as_str).collect();
                step = step.replace(
                    "`dig +short 4.3.2.1.zen.spamhaus.org` (reversed IP)",
                    &shown.join(", "),
                );
            }
            step
        })
        .collect()
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

/// The cause's fix with a destination its incidents tried in place of the
/// generic `HOST`: the check runs against a server that failed.
fn fix_with_host(cause: Cause, runs: &[&Incident]) -> Vec<String> {
    let host = runs
        .iter()
        .flat_map(|i| i.receivers.iter())
        .find(|h| h.contains('.') && h.parse::<std::net::IpAddr>().is_err());
    cause
        .fix()
        .iter()
        .map(|step| match host {
            Some(h) => step
                .replace(
                    "`nc -zv gmail-smtp-in.l.google.com 25` (or `telnet HOST 25`)",
                    &format!("`nc -zv {h} 25`"),
                )
                .replace("`nc -zv HOST 587`", &format!("`nc -zv {h} 587`"))
                .replace(
                    "-connect HOST:25 -servername HOST",
                    &format!("-connect {h}:25 -servername {h}"),
                )
                .replace("`nc -zv RELAYHOST 587`", &format!("`nc -zv {h} 587`"))
                .replace("`nc -zv MXHOST 25`", &format!("`nc -zv {h} 25`")),
            None => step.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_name_a_destination_that_failed() {
        let inc = Incident {
            cause: "port25_blocked".into(),
            receivers: vec!["127.0.0.1".into(), "mx.bigisp.test".into()],
            ..Incident::default()
        };
        let fix = fix_with_host(Cause::Port25Blocked, &[&inc]);
        assert!(
            fix[0].starts_with("Confirm from the server: `nc -zv mx.bigisp.test 25` times out while `nc -zv mx.bigisp.test 587` connects."),
            "{fix:?}"
        );
        assert!(!fix.iter().any(|f| f.contains("HOST")), "{fix:?}");
        let fix = fix_with_host(Cause::TlsFailure, &[&inc]);
        assert!(fix[0].contains("-connect mx.bigisp.test:25 -servername mx.bigisp.test"));
        // No host known: the generic text stays.
        let fix = fix_with_host(Cause::Port25Blocked, &[]);
        assert!(fix[0].contains("`telnet HOST 25`"));
    }
}
