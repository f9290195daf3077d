//! Ground truth: the counters kept while lines are written, and the
//! `truth.json` / `TRUTH.md` made from them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{json, Value};

use super::clock::{iso, DAY};
use super::world::{Listing, HOST, MIKE, NEWS_UID, OUR_IP, SALES, SCRIPT_UID};
use super::Sim;

#[derive(Debug, Default, Clone)]
pub(super) struct CauseCount {
    pub(super) deferral_events: u64,
    pub(super) bounces: u64,
    pub(super) expired: u64,
    pub(super) example: Option<String>,
}

#[derive(Debug, Default)]
pub(super) struct Counts {
    pub(super) received: u64,
    pub(super) delivered: u64,
    pub(super) deferral_events: u64,
    pub(super) deferred_messages: u64,
    pub(super) bounced: u64,
    pub(super) expired: u64,
    pub(super) rejected: u64,
    pub(super) held: u64,
    /// Recipients amavis blocked as spam: dropped, or kept in quarantine.
    pub(super) discarded: u64,
    pub(super) quarantined: u64,
    pub(super) postfix_lines: u64,
    pub(super) other_lines: u64,
    pub(super) causes: BTreeMap<&'static str, CauseCount>,
    /// Per listing: first and last line time seen, deferrals, bounces.
    pub(super) listing_seen: BTreeMap<&'static str, (i64, i64, u64, u64)>,
    pub(super) culprit_msgs: BTreeMap<&'static str, (u64, u64)>,
    pub(super) culprit_ips: BTreeMap<&'static str, Vec<String>>,
    pub(super) failed_logins: u64,
    pub(super) newsletter_per_day: BTreeMap<i64, u64>,
}

impl Sim {
    /// The whole truth: totals, causes, incidents, culprits, decoys, files
    /// and the queue left at the end.
    pub(super) fn truth(&self, files: Vec<Value>, queue: Value) -> Value {
        let c = &self.c;
        let first = files
            .first()
            .and_then(|f| f["first"].as_str())
            .unwrap_or("")
            .to_string();
        let last = files
            .last()
            .and_then(|f| f["last"].as_str())
            .unwrap_or("")
            .to_string();
        let causes: Vec<Value> = c
            .causes
            .iter()
            .map(|(k, v)| {
                json!({
                    "cause": k,
                    "deferral_events": v.deferral_events,
                    "bounces": v.bounces,
                    "expired": v.expired,
                    "example": v.example,
                })
            })
            .collect();
        json!({
            "generator": "cargo run --release --example gen_samples",
            "seed": self.cfg.seed,
            "scale": self.cfg.scale,
            "host": HOST,
            "server_ip": OUR_IP,
            "first_line": first,
            "last_line": last,
            "years": [2025, 2026],
            "timezone": "server wall clock, no zone",
            "lines": {
                "total": c.postfix_lines + c.other_lines,
                "postfix": c.postfix_lines,
                "other": c.other_lines,
            },
            "files": files,
            "totals": {
                "received": c.received,
                "delivered": c.delivered,
                "deferral_events": c.deferral_events,
                "deferred_messages": c.deferred_messages,
                "bounced": c.bounced,
                "expired": c.expired,
                "rejected": c.rejected,
                "held": c.held,
                "discarded": c.discarded,
                "quarantined": c.quarantined,
            },
            "causes": causes,
            "incidents": self.incidents(),
            "culprits": self.culprits(),
            "decoys": self.decoys(),
            "queue_at_end": queue,
        })
    }

    /// The outages, then each listing with what the logs show of it.
    fn incidents(&self) -> Vec<Value> {
        let s = &self.story;
        let c = &self.c;
        let mut incidents = vec![
            json!({"cause": "content_filter_down", "start": iso(s.filter_down.0), "end": iso(s.filter_down.1),
                   "detail": "nothing listens on 127.0.0.1:10024 (amavis stopped); queue flushed when it came back"}),
            json!({"cause": "dns_failure", "start": iso(s.dns_down.0), "end": iso(s.dns_down.1),
                   "detail": "resolver down: every remote MX lookup answers 'Host not found, try again'"}),
            json!({"cause": "port25_blocked", "start": iso(s.port25.0), "end": iso(s.port25.1),
                   "detail": "provider drops outbound tcp/25: timeouts to every remote destination at once"}),
        ];
        for &(l, start, end) in &s.listings {
            let receivers: Vec<&str> = self
                .domains
                .iter()
                .filter(|d| d.listing == Some(l))
                .map(|d| d.name.as_str())
                .collect();
            let seen = c.listing_seen.get(l.list());
            let episode = if l == Listing::Barracuda {
                "script-burst"
            } else {
                "mailbox-burst"
            };
            incidents.push(json!({
                "cause": l.cause(),
                "list": l.list(),
                "receivers": receivers,
                "start": iso(start),
                "end": end.map(iso),
                "delisted": end.is_some(),
                "first_seen": seen.map(|x| iso(x.0)),
                "last_seen": seen.map(|x| iso(x.1)),
                "deferrals": seen.map_or(0, |x| x.2),
                "bounces": seen.map_or(0, |x| x.3),
                "episode": episode,
            }));
        }
        incidents
    }

    /// The two spam sources the story stages.
    fn culprits(&self) -> Value {
        let s = &self.story;
        let c = &self.c;
        let mike = c.culprit_msgs.get("mike").copied().unwrap_or_default();
        let script = c.culprit_msgs.get("script").copied().unwrap_or_default();
        json!([
            {
                "identity": format!("sasl:{MIKE}"),
                "kind": "sasl",
                "episode": "mailbox-burst",
                "lists": ["zen.spamhaus.org", "microsoft", "gmail", "bl.spamcop.net"],
                "burst_start": iso(s.burst_start),
                "burst_end": iso(s.burst_end),
                "messages": mike.0,
                "recipients": mike.1,
                "client_ips": c.culprit_ips.get("mike").cloned().unwrap_or_default(),
                "failed_logins_before": c.failed_logins,
                "brute_force_ip": "45.142.120.61",
                "brute_force_start": iso(s.brute_start),
            },
            {
                "identity": format!("uid:{SCRIPT_UID}"),
                "kind": "uid",
                "episode": "script-burst",
                "lists": ["b.barracudacentral.org"],
                "envelope_sender": "oldblog@mx1.hosting-example.net",
                "burst_start": iso(s.script_start),
                "burst_end": iso(s.script_end),
                "messages": script.0,
                "recipients": script.1,
            },
        ])
    }

    /// Senders that look busy but must not rank as spam sources.
    fn decoys(&self) -> Value {
        let news_days: Vec<Value> = self
            .c
            .newsletter_per_day
            .iter()
            .map(|(d, n)| json!({"date": &iso(d * DAY)[..10], "messages": n}))
            .collect();
        json!([
            {"identity": format!("uid:{NEWS_UID}"), "why": "newsletter@shop-example.com: high volume but the same rate every day (07:00-21:00), clean list", "per_day": news_days},
            {"identity": format!("sasl:{SALES}"), "why": "many legitimate recipients per message, steady office-hours rate, almost no unknown recipients"},
        ])
    }
}

pub(super) fn truth_md(t: &Value) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Ground truth of the generated maillogs\n");
    let _ = writeln!(
        s,
        "Seed {}, scale {}. Host `{}` ({}). Lines {} to {} (the span crosses the new year: year-less syslog stamps).\n",
        t["seed"], t["scale"], t["host"].as_str().unwrap_or(""), t["server_ip"].as_str().unwrap_or(""),
        t["first_line"].as_str().unwrap_or(""), t["last_line"].as_str().unwrap_or("")
    );
    let _ = writeln!(
        s,
        "## Totals (the product's counting rules)\n\n| total | value |\n|---|---|"
    );
    if let Some(o) = t["totals"].as_object() {
        for (k, v) in o {
            let _ = writeln!(s, "| {k} | {v} |");
        }
    }
    let _ = writeln!(
        s,
        "\n## Causes\n\n| cause | deferral events | bounces | expired |\n|---|---|---|---|"
    );
    for c in t["causes"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            c["cause"].as_str().unwrap_or(""),
            c["deferral_events"],
            c["bounces"],
            c["expired"]
        );
    }
    let _ = writeln!(s, "\n## Incidents\n\n| cause | list | receivers | start | end | first seen | episode |\n|---|---|---|---|---|---|---|");
    for i in t["incidents"].as_array().into_iter().flatten() {
        let rec: Vec<&str> = i["receivers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str())
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            i["cause"].as_str().unwrap_or(""),
            i["list"].as_str().unwrap_or(""),
            rec.join(", "),
            i["start"].as_str().unwrap_or(""),
            i["end"].as_str().unwrap_or("end of logs"),
            i["first_seen"].as_str().unwrap_or(""),
            i["episode"].as_str().unwrap_or(""),
        );
    }
    let _ = writeln!(s, "\n## Culprits\n\n| identity | kind | episode | burst | messages | recipients |\n|---|---|---|---|---|---|");
    for c in t["culprits"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} to {} | {} | {} |",
            c["identity"].as_str().unwrap_or(""),
            c["kind"].as_str().unwrap_or(""),
            c["episode"].as_str().unwrap_or(""),
            c["burst_start"].as_str().unwrap_or(""),
            c["burst_end"].as_str().unwrap_or(""),
            c["messages"],
            c["recipients"]
        );
    }
    let _ = writeln!(
        s,
        "\n## Decoys (must not rank as spam suspects)\n\n| identity | why |\n|---|---|"
    );
    for d in t["decoys"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "| {} | {} |",
            d["identity"].as_str().unwrap_or(""),
            d["why"].as_str().unwrap_or("")
        );
    }
    let _ = writeln!(
        s,
        "\n## Files (oldest first)\n\n| file | lines | first | last |\n|---|---|---|---|"
    );
    for f in t["files"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            f["name"].as_str().unwrap_or(""),
            f["lines"],
            f["first"].as_str().unwrap_or(""),
            f["last"].as_str().unwrap_or("")
        );
    }
    let q = &t["queue_at_end"];
    let _ = writeln!(
        s,
        "\nQueue at the end (`postqueue-p.txt`): {} messages, {} held, {} recipients.",
        q["messages"], q["held"], q["recipients"]
    );
    s
}
