//! How the tool ranks the sources of generated scenarios
//! (examples/gen_scenarios) against their truth, and what it offers to
//! delete from the queue.
//!
//! `scenario_rows` runs the tool on generated scenarios and returns how it
//! ranks the sources against the truth; `attribution_holds_on_varied_scenarios`
//! asserts it on tuning and check seeds; `scenario_table` (ignored) prints
//! the table for the tuning seeds 1..=20 and the check seeds 5001..=5020:
//!
//! ```text
//! cargo test --test scenario_attribution -- --ignored --nocapture scenario_table
//! ```
//!
//! The generator's own truth is checked in `scenario_truth.rs`.

#[path = "common/scenario.rs"]
mod scenario;

use std::collections::BTreeSet;
use std::path::Path;

use scenario::{analyze, generate, st, u};
use serde_json::Value;

/// Seeds the ranking may be tuned on, and seeds kept apart to check it.
/// (1001..=1020 and 3001..=3030 were looked at while the ranking was
/// written, so they count as tuning seeds now; 5001.. were first run after
/// it was done.)
pub const TUNING_SEEDS: std::ops::RangeInclusive<u64> = 1..=20;
pub const CHECK_SEEDS: std::ops::RangeInclusive<u64> = 5001..=5020;

/// How the tool ranked one scenario, next to its truth.
#[derive(Debug, Clone)]
pub struct Row {
    pub seed: u64,
    pub shape: String,
    /// Staged sources, expected rank 1 first.
    pub expected: Vec<String>,
    /// The tool's top 5 suspects with their scores.
    pub top: Vec<(String, f64)>,
    pub decoys_in_top3: Vec<String>,
    /// Blacklist episodes whose onset is a noise reply (no listing yet).
    pub noise_episodes: Vec<String>,
    /// The tool's episodes that match no list of the truth (aliases,
    /// receiver names) or begin before the truth's onset.
    pub other_episodes: Vec<String>,
    /// Truth episodes the tool missed or gave another state (ongoing or
    /// ended at the end of the logs).
    pub state_mismatches: Vec<String>,
    /// Queued spam of the truth, and how much of it the delete lists hold.
    pub queued_spam: usize,
    pub spam_offered: usize,
    /// Legitimate queued messages in a delete list.
    pub legit_in_delete: Vec<String>,
    /// A `postqueue -f` in the runbook while a listing is ongoing.
    pub flush_while_listed: bool,
}

impl Row {
    pub fn rank1_right(&self) -> bool {
        self.top.first().map(|x| &x.0) == self.expected.first()
    }

    pub fn staged_in_top3(&self) -> bool {
        let top3: Vec<&str> = self.top.iter().take(3).map(|x| x.0.as_str()).collect();
        self.expected.iter().all(|e| top3.contains(&e.as_str()))
    }
}

/// Each truth episode's state against the tool's episode of that list.
fn states(t: &Value, s: &Value, r: &mut Row) {
    let tool = s["blacklistings"].as_array().unwrap();
    for e in t["episodes"].as_array().unwrap() {
        let list = st(&e["list"]);
        match tool.iter().find(|b| b["list"] == list) {
            None => r.state_mismatches.push(format!("{list}: missing")),
            Some(b) if b["state"] != e["state"] => r.state_mismatches.push(format!(
                "{list}: {} (truth {})",
                st(&b["state"]),
                st(&e["state"])
            )),
            Some(_) => {}
        }
    }
}

/// The noise kind whose replies came from one of `receivers` and span `time`.
fn noise_at<'a>(t: &'a Value, receivers: &BTreeSet<&str>, time: &str) -> Option<&'a str> {
    t["noise"].as_array().unwrap().iter().find_map(|n| {
        let (f, l) = (st(&n["first"]), st(&n["last"]));
        let from = n["receivers"].as_array().into_iter().flatten();
        let hit = from.map(st).any(|r| receivers.contains(r));
        (hit && f <= time && time <= l).then(|| st(&n["kind"]))
    })
}

/// The truth's episode a tool's list stands for, and whether it is under
/// another name (an alias such as "Barracuda Reputation").
fn episode_of<'a>(t: &'a Value, list: &str) -> Option<(&'a Value, bool)> {
    let eps = t["episodes"].as_array().unwrap();
    if let Some(e) = eps.iter().find(|e| e["list"] == list) {
        return Some((e, false));
    }
    let l = list.to_lowercase();
    eps.iter()
        .find(|e| {
            let aliases = e["aliases"].as_array().into_iter().flatten();
            aliases
                .map(|a| st(a).to_lowercase())
                .any(|a| a == l || a.starts_with(&l))
        })
        .map(|e| (e, true))
}

/// Sorts the tool's blacklistings that do not match the truth: opened by
/// noise, or other (aliases, lists the truth does not have, early onsets).
fn unmatched_episodes(t: &Value, s: &Value, r: &mut Row) {
    for b in s["blacklistings"].as_array().unwrap() {
        let (list, seen) = (st(&b["list"]), &st(&b["first_seen"])[..19]);
        let receivers: BTreeSet<&str> = b["receivers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(st)
            .collect();
        let episode = episode_of(t, list);
        let onset = episode.map(|e| st(&e.0["first_refusal"]));
        let early = onset.is_none_or(|o| seen < o);
        match (noise_at(t, &receivers, seen), episode) {
            (Some(k), _) if early => r.noise_episodes.push(format!("{list} ({k})")),
            (_, None) => r.other_episodes.push(format!("{list} (not in truth)")),
            (_, Some((e, true))) => r
                .other_episodes
                .push(format!("{list} (alias of {})", st(&e["list"]))),
            (_, Some(_)) if early => r.other_episodes.push(format!("{list} (before its onset)")),
            _ => {}
        }
    }
}

fn row(seed: u64, t: &Value, s: &Value) -> Row {
    let mut src: Vec<&Value> = t["sources"].as_array().unwrap().iter().collect();
    src.sort_by_key(|x| u(&x["expected_rank"]));
    let top: Vec<(String, f64)> = s["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .take(5)
        .map(|x| {
            (
                st(&x["identity"]).to_string(),
                x["score"].as_f64().unwrap_or(0.0),
            )
        })
        .collect();
    let decoys: BTreeSet<&str> = t["decoys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| st(&d["identity"]))
        .collect();
    let mut r = Row {
        seed,
        shape: st(&t["shape"]).to_string(),
        expected: src.iter().map(|x| st(&x["identity"]).to_string()).collect(),
        decoys_in_top3: top
            .iter()
            .take(3)
            .filter(|x| decoys.contains(x.0.as_str()))
            .map(|x| x.0.clone())
            .collect(),
        top,
        noise_episodes: Vec::new(),
        other_episodes: Vec::new(),
        state_mismatches: Vec::new(),
        queued_spam: 0,
        spam_offered: 0,
        legit_in_delete: Vec::new(),
        flush_while_listed: false,
    };
    unmatched_episodes(t, s, &mut r);
    states(t, s, &mut r);
    r
}

/// The delete lists against the truth's queued spam, and the runbook's
/// flush against the listings' state.
fn cleanup(t: &Value, s: &Value, out: &Path, r: &mut Row) {
    let mut delete = BTreeSet::new();
    for e in std::fs::read_dir(out).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with("-queued-ids.txt") {
            let text = std::fs::read_to_string(&p).unwrap();
            delete.extend(text.split_whitespace().map(String::from));
        }
    }
    for q in t["queue"]["ids"].as_array().unwrap() {
        let id = st(&q["queue_id"]).to_string();
        if q["spam"].as_bool().unwrap() {
            r.queued_spam += 1;
            r.spam_offered += usize::from(delete.contains(&id));
        } else if delete.contains(&id) {
            r.legit_in_delete.push(id);
        }
    }
    let ongoing = s["blacklistings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["state"] == "ongoing");
    let flush = s["runbook"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|x| x["commands"].as_array().unwrap())
        .any(|c| st(c).contains("postqueue -f"));
    r.flush_while_listed = ongoing && flush;
}

/// Generates each seed's scenario, runs the tool on it and compares.
pub fn scenario_rows(seeds: &[u64]) -> Vec<Row> {
    let base = tempfile::tempdir().unwrap();
    seeds
        .iter()
        .map(|&seed| {
            let dir = base.path().join(format!("s{seed}"));
            let t = generate(&dir, seed, None);
            let out = base.path().join(format!("r{seed}"));
            let s = analyze(&dir, &out);
            let mut r = row(seed, &t, &s);
            cleanup(&t, &s, &out, &mut r);
            r
        })
        .collect()
}

/// The rows as a Markdown table.
pub fn markdown_table(rows: &[Row]) -> String {
    let mut o = String::from("| seed | shape | expected (rank order) | tool's top 5 (score) | rank 1 right | staged in top 3 | decoys in top 3 | episodes opened by noise | other episodes not in truth |\n|---|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        let top: Vec<String> = r.top.iter().map(|(i, s)| format!("{i} ({s:.1})")).collect();
        let top3: Vec<&str> = r.top.iter().take(3).map(|x| x.0.as_str()).collect();
        let right = r
            .top
            .first()
            .is_some_and(|x| Some(&x.0) == r.expected.first());
        let staged = r
            .expected
            .iter()
            .filter(|e| top3.contains(&e.as_str()))
            .count();
        let join = |v: &[String]| {
            if v.is_empty() {
                "-".to_string()
            } else {
                v.join(", ")
            }
        };
        o.push_str(&format!(
            "| {} | {} | {} | {} | {} | {}/{} | {} | {} | {} |\n",
            r.seed,
            r.shape,
            r.expected.join(" > "),
            join(&top),
            if right { "yes" } else { "no" },
            staged,
            r.expected.len(),
            join(&r.decoys_in_top3),
            join(&r.noise_episodes),
            join(&r.other_episodes)
        ));
    }
    let n = rows.len();
    let right = rows
        .iter()
        .filter(|r| {
            r.top
                .first()
                .is_some_and(|x| Some(&x.0) == r.expected.first())
        })
        .count();
    let noisy = rows.iter().filter(|r| !r.noise_episodes.is_empty()).count();
    let decoyed = rows.iter().filter(|r| !r.decoys_in_top3.is_empty()).count();
    o.push_str(&format!("\nRank 1 right in {right} of {n}; a decoy in the top 3 in {decoyed}; an episode opened by noise in {noisy}.\n"));
    let spam: usize = rows.iter().map(|r| r.queued_spam).sum();
    let offered: usize = rows.iter().map(|r| r.spam_offered).sum();
    let legit: usize = rows.iter().map(|r| r.legit_in_delete.len()).sum();
    let low = rows
        .iter()
        .filter(|r| r.spam_offered * 10 < r.queued_spam * 9)
        .count();
    let flushed = rows.iter().filter(|r| r.flush_while_listed).count();
    o.push_str(&format!("Queue cleanup: {offered} of {spam} queued spam messages offered for deletion, {legit} legitimate ones; under 90% offered in {low} of {n}; a flush advised while listed in {flushed}.\n"));
    o
}

/// The issue's bar, on tuning and check seeds alike: rank 1 is the source
/// that sent the most spam before the first listing, every staged source is
/// in the top 3, no decoy is, no noise opens an episode, no list has two
/// rows, and every episode has the truth's state at the end of the logs.
#[test]
fn attribution_holds_on_varied_scenarios() {
    let seeds: Vec<u64> = TUNING_SEEDS.take(12).chain(CHECK_SEEDS.take(12)).collect();
    let rows = scenario_rows(&seeds);
    let table = markdown_table(&rows);
    println!("{table}");
    let shapes: BTreeSet<&str> = rows.iter().map(|r| r.shape.as_str()).collect();
    assert!(shapes.len() >= 6, "too few shapes covered: {shapes:?}");
    for r in &rows {
        assert!(r.rank1_right(), "seed {}: rank 1 wrong\n{table}", r.seed);
        assert!(
            r.staged_in_top3(),
            "seed {}: a source not in the top 3\n{table}",
            r.seed
        );
        assert!(
            r.decoys_in_top3.is_empty(),
            "seed {}: decoy in the top 3\n{table}",
            r.seed
        );
        assert!(
            r.noise_episodes.is_empty(),
            "seed {}: {:?}",
            r.seed,
            r.noise_episodes
        );
        assert!(
            r.other_episodes.is_empty(),
            "seed {}: {:?}",
            r.seed,
            r.other_episodes
        );
        assert!(
            r.state_mismatches.is_empty(),
            "seed {}: {:?}",
            r.seed,
            r.state_mismatches
        );
        assert!(
            r.legit_in_delete.is_empty(),
            "seed {}: legitimate mail offered for deletion: {:?}",
            r.seed,
            r.legit_in_delete
        );
        assert!(
            !r.flush_while_listed,
            "seed {}: flush advised while listed",
            r.seed
        );
    }
    // Most of the spam is offered: the rest waits in review lists (a login
    // with no history before its burst cannot show which IPs are new).
    let spam: usize = rows.iter().map(|r| r.queued_spam).sum();
    let offered: usize = rows.iter().map(|r| r.spam_offered).sum();
    assert!(
        offered * 10 >= spam * 9,
        "{offered} of {spam} queued spam offered\n{table}"
    );
}

#[test]
#[ignore = "runs the tool on 40 scenarios; prints the ranking table"]
fn scenario_table() {
    let tuning: Vec<u64> = TUNING_SEEDS.collect();
    let check: Vec<u64> = CHECK_SEEDS.collect();
    println!(
        "## Tuning seeds {}..={}\n",
        tuning[0],
        tuning[tuning.len() - 1]
    );
    println!("{}", markdown_table(&scenario_rows(&tuning)));
    println!("## Check seeds {}..={}\n", check[0], check[check.len() - 1]);
    println!("{}", markdown_table(&scenario_rows(&check)));
}
