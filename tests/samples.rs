//! The README's main command on the shipped samples, checked against the
//! generator's ground truth (samples/truth.json, written while generating,
//! never by parsing the logs).

use std::path::Path;
use std::process::Command;

fn run_samples() -> (serde_json::Value, serde_json::Value, tempfile::TempDir) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    let st = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args(["analyze", "--quiet", "--out"])
        .arg(&out)
        .arg(root.join("samples"))
        .status()
        .unwrap();
    assert!(st.success(), "{st}");
    let s =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let t =
        serde_json::from_str(&std::fs::read_to_string(root.join("samples/truth.json")).unwrap())
            .unwrap();
    (s, t, tmp)
}

/// Seconds of an ISO time without zone, for comparisons.
fn epoch(iso: &str) -> i64 {
    let (d, t) = iso.split_at(10);
    let d: Vec<i64> = d.split('-').map(|x| x.parse().unwrap()).collect();
    let t: Vec<i64> = t[1..9].split(':').map(|x| x.parse().unwrap()).collect();
    // Days from a fixed origin; months as 31 days is fine for differences
    // of hours inside one run that crosses a single year boundary.
    ((d[0] * 12 + d[1]) * 31 + d[2]) * 86400 + t[0] * 3600 + t[1] * 60 + t[2]
}

#[test]
fn totals_and_causes_equal_the_generators_truth() {
    let (s, t, _tmp) = run_samples();
    for key in [
        "received",
        "delivered",
        "deferral_events",
        "deferred_messages",
        "bounced",
        "expired",
        "rejected",
        "held",
        "discarded",
        "quarantined",
    ] {
        assert_eq!(s["totals"][key], t["totals"][key], "{key}");
    }
    // Every expiry is put down to the cause of its last deferral.
    let ours = s["causes"].as_array().unwrap();
    for want in t["causes"].as_array().unwrap() {
        let got = ours
            .iter()
            .find(|c| c["cause"] == want["cause"])
            .unwrap_or_else(|| panic!("cause {} missing", want["cause"]));
        assert_eq!(
            got["deferral_events"], want["deferral_events"],
            "{}",
            want["cause"]
        );
        assert_eq!(got["bounces"], want["bounces"], "{}", want["cause"]);
        assert_eq!(got["expired"], want["expired"], "{}", want["cause"]);
    }
    assert_eq!(s["lines"]["not_understood"], 0);
    assert_eq!(s["lines"]["total"], t["lines"]["total"]);
    assert_eq!(s["lines"]["postfix"], t["lines"]["postfix"]);
    assert_eq!(s["lines"]["other"], t["lines"]["other"]);
}

#[test]
fn the_year_boundary_is_crossed() {
    let (s, t, _tmp) = run_samples();
    assert_eq!(s["period"]["first"], t["first_line"]);
    assert_eq!(s["period"]["last"], t["last_line"]);
}

#[test]
fn incidents_start_within_one_bucket_of_the_truth() {
    let (s, t, _tmp) = run_samples();
    let bucket = s["timeline"]["bucket_seconds"].as_i64().unwrap();
    let incidents = s["incidents"].as_array().unwrap();
    let episodes = s["blacklistings"].as_array().unwrap();
    for want in t["incidents"].as_array().unwrap() {
        let cause = want["cause"].as_str().unwrap();
        if let Some(list) = want["list"].as_str().filter(|l| !l.is_empty()) {
            let first = want["first_seen"].as_str().unwrap();
            let got = episodes
                .iter()
                .find(|e| e["list"] == list)
                .unwrap_or_else(|| panic!("no episode for {list}"));
            let d = (epoch(got["first_seen"].as_str().unwrap()) - epoch(first)).abs();
            assert!(
                d <= bucket,
                "{list}: first seen {} vs {first}",
                got["first_seen"]
            );
            continue;
        }
        let start = epoch(want["start"].as_str().unwrap());
        let got = incidents
            .iter()
            .filter(|i| i["cause"] == cause)
            .min_by_key(|i| (epoch(i["start"].as_str().unwrap()) - start).abs())
            .unwrap_or_else(|| panic!("no {cause} incident"));
        let d = (epoch(got["start"].as_str().unwrap()) - start).abs();
        assert!(
            d <= bucket,
            "{cause}: starts {} vs {}",
            got["start"],
            want["start"]
        );
        let named = s["headline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["cause"] == cause);
        assert!(named, "headline lacks {cause}");
    }
}

#[test]
fn culprits_rank_first_and_decoys_stay_out_of_the_top_three() {
    let (s, t, _tmp) = run_samples();
    let suspects: Vec<&str> = s["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["identity"].as_str().unwrap())
        .collect();
    let culprits: Vec<&str> = t["culprits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["identity"].as_str().unwrap())
        .collect();
    assert!(suspects.len() >= culprits.len(), "{suspects:?}");
    for c in &culprits {
        assert!(
            suspects[..culprits.len()].contains(c),
            "{c} not in the top {}: {suspects:?}",
            culprits.len()
        );
    }
    for d in t["decoys"].as_array().unwrap() {
        let id = d["identity"].as_str().unwrap();
        assert!(
            !suspects.iter().take(3).any(|s| *s == id),
            "decoy {id} in the top 3: {suspects:?}"
        );
    }
}

#[test]
fn queued_mail_is_joined_to_the_logs() {
    let (s, t, _tmp) = run_samples();
    let q = &s["queue"];
    assert_eq!(q["messages"], t["queue_at_end"]["messages"]);
    assert_eq!(q["dump_time_source"], "newest log line");
    // Every queued message is one the logs saw.
    assert_eq!(q["not_in_logs"], 0);
}
