//! The ground truth of a generated scenario, from the plan and from the
//! counts kept while the lines were written: `truth.json` and `TRUTH.md`.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::clock::{iso, HOUR};
use super::plan::{Plan, SourceKind};
use super::replies::{ListId, NoiseKind};
use super::sim::Sim;
use super::tally::{Sent, Span};

pub const RANK_BASIS: &str = "spam recipients submitted in the logs before the first listing (then spam messages, then the earlier burst)";

fn t(x: Option<i64>) -> Value {
    x.map_or(Value::Null, |v| Value::String(iso(v)))
}

fn span(s: &Span) -> Value {
    json!({"count": s.count, "first": t(s.first), "last": t(s.last)})
}

/// (messages, recipients) of the submissions that pass `keep`.
fn sum(v: &[Sent], keep: impl Fn(&Sent) -> bool) -> (u64, u64) {
    v.iter()
        .filter(|s| keep(s))
        .fold((0, 0), |a, s| (a.0 + 1, a.1 + s.rcpts))
}

fn episodes(sim: &Sim, end: i64) -> Vec<Value> {
    let p = &sim.plan;
    p.listings
        .iter()
        .map(|l| {
            let e = sim.tally.episodes.get(&l.list).cloned().unwrap_or_default();
            let ended = l.end.filter(|&x| x <= end);
            let mut v = json!({
                "list": l.list.id(),
                "source": p.sources[l.source].identity,
                "planned_start": iso(l.start),
                "first_refusal": t(e.refusals.first),
                "last_refusal": t(e.refusals.last),
                "deferrals": e.deferrals,
                "bounces": e.bounces,
                "state": if ended.is_some() { "ended" } else { "ongoing" },
                "ended": t(ended),
                "accepted_after_end": t(e.accepted_after_end),
                "receivers": e.receivers.iter().collect::<Vec<_>>(),
            });
            if l.list == ListId::Gmail {
                v["steps"] = json!([
                    {"reply": "421-4.7.0 unusual rate of unsolicited mail (deferred)", "refusals": span(&e.deferred_step)},
                    {"reply": "550-5.7.1 likely unsolicited mail (bounced)", "from": t(l.escalate), "refusals": span(&e.bounced_step)},
                ]);
            }
            if l.list == ListId::Barracuda {
                v["aliases"] = json!(["Barracuda Reputation"]);
            }
            v
        })
        .collect()
}

fn noise(sim: &Sim, first: i64) -> Vec<Value> {
    let mut v: Vec<Value> = [NoiseKind::RecipientRate, NoiseKind::Concurrency, NoiseKind::Busy, NoiseKind::Greylisting]
        .into_iter()
        .filter_map(|k| {
            let n = sim.tally.noise.get(&k)?;
            Some(json!({
                "kind": k.id(),
                "example": k.example(),
                "count": n.replies.count,
                "first": t(n.replies.first),
                "last": t(n.replies.last),
                "all_before_first_listing": n.replies.last.is_some_and(|l| l < first),
                "receivers": n.receivers.iter().collect::<Vec<_>>(),
                "staged_windows": sim.plan.noise.iter().filter(|w| w.kind == k).map(|w| json!({"start": iso(w.start), "end": iso(w.end)})).collect::<Vec<_>>(),
            }))
        })
        .collect();
    let u = &sim.tally.unknown_legit;
    if u.count > 0 {
        v.push(json!({
            "kind": "unknown_recipient",
            "example": "550 5.1.1 ... User unknown (legitimate mail, bounced)",
            "count": u.count,
            "first": t(u.first),
            "last": t(u.last),
            "all_before_first_listing": u.last.is_some_and(|l| l < first),
        }));
    }
    v
}

fn sources(sim: &Sim, first: i64) -> Vec<Value> {
    let p = &sim.plan;
    let before = |s: &Sent| s.visible && s.t < first;
    let mut order: Vec<usize> = (0..p.sources.len()).collect();
    order.sort_by_key(|&i| {
        let (m, r) = sum(&sim.tally.sources[i].spam, before);
        (
            std::cmp::Reverse(r),
            std::cmp::Reverse(m),
            p.sources[i].bursts[0].start,
        )
    });
    (0..p.sources.len())
        .map(|i| {
            let s = &p.sources[i];
            let c = &sim.tally.sources[i];
            let rank = order.iter().position(|&x| x == i).unwrap_or(0) + 1;
            let (bm, br) = sum(&c.spam, before);
            let (tm, tr) = sum(&c.spam, |s| s.visible);
            let (hm, hr) = sum(&c.spam, |s| !s.visible);
            let (lm, lr) = sum(&c.legit, |s| s.visible);
            let failed = c.failed_logins.iter().filter(|f| f.0 < first).count();
            let history = c.first_seen.is_some_and(|f| f < first - 24 * HOUR);
            json!({
                "identity": s.identity,
                "kind": s.kind.id(),
                "role": s.role,
                "envelope_senders": [s.sender],
                "uid": if s.kind == SourceKind::Uid { json!(s.uid) } else { Value::Null },
                // Pickup has no client: a script's mail comes from its uid.
                "usual_client_ip": if s.kind == SourceKind::Uid { Value::Null } else { json!(s.usual.1) },
                "attacker_ips": c.spam_ips.iter().filter(|ip| **ip != s.usual.1).collect::<Vec<_>>(),
                "bursts": s.bursts.iter().map(|b| json!({"start": iso(b.start), "end": iso(b.end), "per_hour": (b.per_hour * 10.0).round() / 10.0})).collect::<Vec<_>>(),
                "spam_before_first_listing": {"messages": bm, "recipients": br},
                "spam_in_logs": {"messages": tm, "recipients": tr},
                "spam_before_logs": {"messages": hm, "recipients": hr},
                "spam_total": {"messages": tm + hm, "recipients": tr + hr},
                "legit_in_logs": {"messages": lm, "recipients": lr},
                "failed_logins_before_first_listing": failed,
                "guessing_ips": s.guessing.as_ref().map(|g| g.ips.clone()).unwrap_or_default(),
                "first_seen_in_logs": t(c.first_seen),
                "history_before_24h_window": history,
                "lists_caused": s.lists.iter().map(|l| l.id()).collect::<Vec<_>>(),
                "expected_rank": rank,
            })
        })
        .collect()
}

pub fn build(sim: &Sim, files: Vec<Value>, queue: Vec<Value>) -> Value {
    let p: &Plan = &sim.plan;
    let end = sim.sink.last.unwrap_or(p.log_end);
    let first = sim.tally.first_listing().unwrap_or(p.t1);
    let decoys: Vec<Value> = p
        .decoys
        .iter()
        .zip(&sim.tally.decoys)
        .map(|(d, c)| json!({"identity": d.identity, "why": d.why, "messages": c.0, "recipients": c.1}))
        .collect();
    let tt = &sim.tally.totals;
    let spam = queue.iter().filter(|q| q["spam"] == true).count();
    let held = queue.iter().filter(|q| q["queue"] == "hold").count();
    json!({
        "generator": format!("cargo run --release --example gen_scenarios -- --out DIR --seed {} --shape {}", sim_seed(sim), p.shape.name()),
        "shape": p.shape.name(),
        "features": p.features,
        "seed": sim_seed(sim),
        "year": super::clock::year(p.log_start),
        "host": sim.w.host,
        "fqdn": sim.w.fqdn,
        "server_ip": sim.w.ip,
        "content_filter": p.amavis,
        "local_delivery": if sim.w.lmtp { "lmtp" } else { "virtual" },
        "queue_lifetime_hours": p.lifetime / HOUR,
        "log_start": t(sim.sink.first),
        "log_end": iso(end),
        "first_listing": iso(first),
        "logs_before_first_listing_hours": ((first - p.log_start) as f64 / HOUR as f64 * 10.0).round() / 10.0,
        "lines": {"total": sim.sink.lines, "postfix": sim.sink.postfix_lines},
        "files": files,
        "totals": {
            "received": tt.received,
            "delivered": tt.delivered,
            "deferral_events": tt.deferral_events,
            "deferred_messages": tt.deferred_messages,
            "bounced": tt.bounced,
            "expired": tt.expired,
            "rejected": tt.rejected,
            "held": tt.held,
        },
        "episodes": episodes(sim, end),
        "noise": noise(sim, first),
        "rank_basis": RANK_BASIS,
        "sources": sources(sim, first),
        "decoys": decoys,
        "queue": {
            "file": "postqueue-p.txt",
            "messages": queue.len(),
            "spam": spam,
            "legit": queue.len() - spam,
            "held": held,
            "ids": queue,
        },
    })
}

fn sim_seed(sim: &Sim) -> u64 {
    sim.seed
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

pub fn markdown(t: &Value) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Ground truth: {} (seed {})\n",
        s(&t["shape"]),
        s(&t["seed"])
    );
    let feats: Vec<String> = t["features"]
        .as_array()
        .into_iter()
        .flatten()
        .map(s)
        .collect();
    let _ = writeln!(
        o,
        "Host `{}` ({}), logs {} to {}, first listing {} ({} h of logs before it). Extra features: {}.\n",
        s(&t["fqdn"]),
        s(&t["server_ip"]),
        s(&t["log_start"]),
        s(&t["log_end"]),
        s(&t["first_listing"]),
        s(&t["logs_before_first_listing_hours"]),
        if feats.is_empty() { "none".to_string() } else { feats.join(", ") }
    );
    let _ = writeln!(o, "## Sources (expected rank: {})\n\n| rank | identity | role | spam before first listing (msgs/rcpts) | spam in logs | bursts |\n|---|---|---|---|---|---|", RANK_BASIS);
    for x in t["sources"].as_array().into_iter().flatten() {
        let bursts: Vec<String> = x["bursts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| format!("{} to {}", s(&b["start"]), s(&b["end"])))
            .collect();
        let _ = writeln!(
            o,
            "| {} | `{}` | {} | {}/{} | {}/{} | {} |",
            s(&x["expected_rank"]),
            s(&x["identity"]),
            s(&x["role"]),
            s(&x["spam_before_first_listing"]["messages"]),
            s(&x["spam_before_first_listing"]["recipients"]),
            s(&x["spam_in_logs"]["messages"]),
            s(&x["spam_in_logs"]["recipients"]),
            bursts.join("; ")
        );
    }
    let _ = writeln!(o, "\n## Episodes\n\n| list | source | first refusal | last refusal | deferrals | bounces | state |\n|---|---|---|---|---|---|---|");
    for e in t["episodes"].as_array().into_iter().flatten() {
        let state = if e["state"] == "ended" {
            format!("ended {}", s(&e["ended"]))
        } else {
            "ongoing".into()
        };
        let _ = writeln!(
            o,
            "| {} | `{}` | {} | {} | {} | {} | {} |",
            s(&e["list"]),
            s(&e["source"]),
            s(&e["first_refusal"]),
            s(&e["last_refusal"]),
            s(&e["deferrals"]),
            s(&e["bounces"]),
            state
        );
    }
    let _ = writeln!(o, "\n## Noise (must not open an episode)\n\n| kind | replies | first | last |\n|---|---|---|---|");
    for n in t["noise"].as_array().into_iter().flatten() {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            s(&n["kind"]),
            s(&n["count"]),
            s(&n["first"]),
            s(&n["last"])
        );
    }
    let _ = writeln!(o, "\n## Decoys (must not be in the top 3)\n");
    for d in t["decoys"].as_array().into_iter().flatten() {
        let _ = writeln!(
            o,
            "- `{}`: {} ({} messages, {} recipients)",
            s(&d["identity"]),
            s(&d["why"]),
            s(&d["messages"]),
            s(&d["recipients"])
        );
    }
    let _ = writeln!(o, "\n## Totals\n\n| total | value |\n|---|---|");
    for (k, v) in t["totals"].as_object().into_iter().flatten() {
        let _ = writeln!(o, "| {k} | {v} |");
    }
    let q = &t["queue"];
    let _ = writeln!(
        o,
        "\nQueue at the end (`postqueue-p.txt`): {} messages, {} spam, {} legitimate, {} held.",
        s(&q["messages"]),
        s(&q["spam"]),
        s(&q["legit"]),
        s(&q["held"])
    );
    o
}
