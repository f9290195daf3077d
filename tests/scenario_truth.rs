//! The scenario generator (examples/gen_scenarios) and its truth: the same
//! seed gives the same bytes, every shape generates what it promises, the
//! truth agrees with a plain count over the written text and with the
//! dump, and the tool understands every line and counts as the truth.
//! How the tool ranks the sources is in `scenario_attribution.rs`.

#[path = "common/folder.rs"]
mod folder;
#[path = "common/scenario.rs"]
mod scenario;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use folder::{files, log_lines};
use scenario::{analyze, gen, generate, st, u};
use serde_json::Value;

/// `2026-07-16T20:43:48` as syslog stamps it: `Jul 16 20:43:48`.
fn stamp_of(iso: &str) -> String {
    const M: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m: usize = iso[5..7].parse().unwrap();
    let d: u32 = iso[8..10].parse().unwrap();
    format!("{} {d:>2} {}", M[m - 1], &iso[11..19])
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_does_not() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    generate(a.path(), 5, None);
    generate(b.path(), 5, None);
    generate(c.path(), 6, None);
    let fa = files(a.path());
    assert!(fa.iter().any(|f| f.0 == "postqueue-p.txt") && fa.iter().any(|f| f.0 == "truth.json"));
    assert!(fa.iter().any(|f| f.0 == "mail.log"));
    assert_eq!(fa, files(b.path()));
    assert_ne!(fa, files(c.path()));
    // A given shape is also reproducible, and differs from another shape.
    generate(a.path(), 5, Some("decoys"));
    generate(b.path(), 5, Some("decoys"));
    assert_eq!(files(a.path()), files(b.path()));
    generate(b.path(), 5, Some("two-sources"));
    assert_ne!(files(a.path()), files(b.path()));
}

/// What each shape promises, checked on its truth.
fn check_shape(shape: &str, t: &Value) {
    let src = t["sources"].as_array().unwrap();
    let by_rank = |r: u64| {
        src.iter()
            .find(|s| u(&s["expected_rank"]) == r)
            .expect("ranked")
    };
    let before = |s: &Value| u(&s["spam_before_first_listing"]["messages"]);
    let first = st(&t["first_listing"]);
    match shape {
        "script-outsends-login" => {
            let (script, login) = (by_rank(1), by_rank(2));
            assert_eq!(st(&script["kind"]), "uid");
            assert_eq!(st(&login["kind"]), "sasl");
            assert!(
                before(script) as f64 >= 1.4 * before(login) as f64,
                "{} vs {}",
                before(script),
                before(login)
            );
            assert!(before(login) > 0);
            assert!(u(&login["failed_logins_before_first_listing"]) >= 10);
            assert!(login["attacker_ips"].as_array().unwrap().len() >= 2);
        }
        "no-history" => {
            let s = by_rank(1);
            assert_eq!(s["history_before_24h_window"], false);
            assert!(t["logs_before_first_listing_hours"].as_f64().unwrap() > 24.0);
        }
        "two-sources" => {
            assert_eq!(src.len(), 2);
            assert_eq!(before(by_rank(2)), 0);
            let second = st(&by_rank(2)["identity"]);
            let ep = t["episodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["source"] == second)
                .expect("its episode");
            assert!(st(&ep["first_refusal"]) > first);
        }
        "noise-before" => {
            let kinds: BTreeSet<&str> = t["noise"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| st(&n["kind"]))
                .collect();
            for k in ["recipient_rate", "concurrency", "busy", "greylisting"] {
                assert!(kinds.contains(k), "{k} missing: {kinds:?}");
            }
            for n in t["noise"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["kind"] != "greylisting" && n["kind"] != "unknown_recipient")
            {
                assert_eq!(n["all_before_first_listing"], true, "{n}");
            }
        }
        "decoys" => {
            let d = t["decoys"].as_array().unwrap();
            assert_eq!(d.len(), 2);
            assert!(d.iter().all(|d| u(&d["recipients"]) >= 100), "{d:?}");
        }
        "short-logs" => {
            let h = t["logs_before_first_listing_hours"].as_f64().unwrap();
            assert!(
                (0.08..=0.5).contains(&h),
                "{h} h of logs before the first listing"
            );
        }
        "listing-ends" => {
            let eps = t["episodes"].as_array().unwrap();
            let ended = eps
                .iter()
                .find(|e| e["state"] == "ended")
                .expect("an ended listing");
            assert!(st(&ended["accepted_after_end"]) > st(&ended["last_refusal"]));
            assert!(eps.iter().any(|e| e["state"] == "ongoing"));
        }
        other => panic!("unknown shape {other}"),
    }
}

#[test]
fn every_shape_generates_what_it_promises() {
    let names = gen::shape_names();
    assert_eq!(names.len(), 7);
    let dir = tempfile::tempdir().unwrap();
    for seed in [11, 12] {
        for shape in &names {
            let t = generate(dir.path(), seed, Some(shape));
            assert_eq!(st(&t["shape"]), *shape);
            assert!(!t["sources"].as_array().unwrap().is_empty());
            for e in t["episodes"].as_array().unwrap() {
                assert!(
                    u(&e["deferrals"]) + u(&e["bounces"]) >= 3,
                    "{shape} seed {seed}: {e}"
                );
            }
            check_shape(shape, &t);
            let lines = u(&t["lines"]["total"]);
            assert!(
                (1500..=50_000).contains(&lines),
                "{shape} seed {seed}: {lines} lines"
            );
        }
    }
    // Without --shape the seed picks one, and over a few seeds all appear.
    let picked: BTreeSet<&str> = (1..=60).map(|s| gen::shape_of_seed(s).name()).collect();
    assert_eq!(picked.len(), 7);
}

/// Counts over the written text, to compare with the truth.
fn text_totals(lines: &[String]) -> BTreeMap<&'static str, u64> {
    let mut m = BTreeMap::new();
    let reinjected: BTreeSet<String> = lines
        .iter()
        .filter(|l| l.contains("relay=127.0.0.1[127.0.0.1]:10024") && l.contains("status=sent"))
        .filter_map(|l| {
            l.rsplit("queued as ")
                .next()
                .map(|q| q.trim_end_matches(')').to_string())
        })
        .collect();
    let mut add = |k: &'static str, yes: bool| *m.entry(k).or_insert(0) += u64::from(yes);
    for l in lines {
        let sent = l.contains(" status=sent (");
        add("delivered", sent && !l.contains(":10024,"));
        add("deferral_events", l.contains(" status=deferred ("));
        add("bounced", l.contains(" status=bounced ("));
        add("expired", l.contains(" status=expired, "));
        add("held", l.ends_with(": placed on hold"));
        add("rejected", l.contains(": NOQUEUE: reject: "));
        let pickup = l.contains(" postfix/pickup[") && l.contains(": uid=");
        let client = l.contains("smtpd[") && l.contains(": client=");
        let loopback_copy = l.contains(": client=localhost[127.0.0.1]") && {
            let qid = l.split(": ").nth(1).unwrap_or("");
            reinjected.contains(qid)
        };
        add("received", pickup || (client && !loopback_copy));
    }
    m
}

/// The markers of each list's refusals in the logs.
fn list_markers(list: &str) -> &'static [&'static str] {
    match list {
        "zen.spamhaus.org" => &["blocked using zen.spamhaus.org"],
        "bl.spamcop.net" => &["blocked using bl.spamcop.net"],
        "b.barracudacentral.org" => &[
            "blocked using b.barracudacentral.org",
            "blocked using Barracuda Reputation",
        ],
        "microsoft" => &["(S3140)"],
        "gmail" => &["UnsolicitedRateLimitError", "UnsolicitedMessageError"],
        "yahoo" => &["[TSS04]"],
        other => panic!("unknown list {other}"),
    }
}

fn check_text_against_truth(dir: &Path, t: &Value) {
    let lines = log_lines(dir);
    assert_eq!(lines.len() as u64, u(&t["lines"]["total"]));
    let by_file: u64 = t["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| u(&f["lines"]))
        .sum();
    assert_eq!(by_file, lines.len() as u64);
    let counted = text_totals(&lines);
    for (k, v) in &counted {
        assert_eq!(*v, u(&t["totals"][*k]), "total {k}");
    }
    let status: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains(" status=deferred (") || l.contains(" status=bounced ("))
        .collect();
    let mut firsts = Vec::new();
    for e in t["episodes"].as_array().unwrap() {
        let marks = list_markers(st(&e["list"]));
        let hits: Vec<&&String> = status
            .iter()
            .filter(|l| marks.iter().any(|m| l.contains(m)))
            .collect();
        assert_eq!(
            hits.len() as u64,
            u(&e["deferrals"]) + u(&e["bounces"]),
            "{}",
            e["list"]
        );
        assert!(
            hits[0].starts_with(&stamp_of(st(&e["first_refusal"]))),
            "{}",
            e["list"]
        );
        assert!(
            hits[hits.len() - 1].starts_with(&stamp_of(st(&e["last_refusal"]))),
            "{}",
            e["list"]
        );
        firsts.push(st(&e["first_refusal"]));
    }
    assert_eq!(firsts.into_iter().min(), Some(st(&t["first_listing"])));
    let noise_marks = [
        ("recipient_rate", "450-4.2.1 The user"),
        ("concurrency", "Too many concurrent SMTP"),
        ("busy", "4.7.500 Server busy"),
        ("greylisting", "Greylisted, see"),
    ];
    for (kind, mark) in noise_marks {
        let n = status.iter().filter(|l| l.contains(mark)).count() as u64;
        let truth = t["noise"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["kind"] == kind)
            .map_or(0, |x| u(&x["count"]));
        assert_eq!(n, truth, "noise {kind}");
    }
    for s in t["sources"].as_array().unwrap() {
        let needle = match st(&s["kind"]) {
            "sasl" => format!("sasl_username={}", &st(&s["identity"])[5..]),
            "uid" => format!(": uid={} from=", u(&s["uid"])),
            "client" => format!("[{}]", &st(&s["identity"])[7..]),
            _ => continue,
        };
        let is_sub = |l: &String| l.contains(": client=") || l.contains(": uid=");
        let subs = lines
            .iter()
            .filter(|l| {
                is_sub(l)
                    && (l.ends_with(&needle)
                        || (!needle.starts_with("sasl") && l.contains(&needle)))
            })
            .count() as u64;
        let (spam, legit) = (
            &s["spam_in_logs"]["messages"],
            &s["legit_in_logs"]["messages"],
        );
        assert_eq!(subs, u(spam) + u(legit), "{}", s["identity"]);
        assert!(u(&s["spam_before_first_listing"]["messages"]) <= u(spam));
        assert!(
            u(&s["spam_before_first_listing"]["recipients"]) <= u(&s["spam_in_logs"]["recipients"])
        );
    }
}

/// The queue ids and the summary line of a `postqueue -p` text.
fn dump_ids(text: &str) -> (BTreeSet<String>, u64, u64, u64) {
    let mut ids = BTreeSet::new();
    let mut bytes = 0;
    for l in text.lines() {
        let id: String = l.chars().take_while(char::is_ascii_alphanumeric).collect();
        if id.len() == 10 && l.len() > 20 {
            let size: u64 = l[11..19].trim().parse().expect("size column");
            bytes += size;
            ids.insert(id);
        }
    }
    let last = text.lines().last().unwrap();
    let words: Vec<&str> = last.split(' ').collect();
    assert_eq!(
        (words[0], words[2], words[3]),
        ("--", "Kbytes", "in"),
        "{last}"
    );
    (
        ids,
        bytes,
        words[1].parse().unwrap(),
        words[4].parse().unwrap(),
    )
}

#[test]
fn truth_adds_up_and_agrees_with_the_text_and_the_dump() {
    let dir = tempfile::tempdir().unwrap();
    for seed in 1..=8 {
        let t = generate(dir.path(), seed, None);
        check_text_against_truth(dir.path(), &t);
        let ranks: BTreeSet<u64> = t["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| u(&s["expected_rank"]))
            .collect();
        assert_eq!(ranks, (1..=ranks.len() as u64).collect());
        let text = std::fs::read_to_string(dir.path().join("postqueue-p.txt")).unwrap();
        let (ids, bytes, kb, n) = dump_ids(&text);
        let truth: BTreeSet<String> = t["queue"]["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| st(&q["queue_id"]).to_string())
            .collect();
        assert_eq!(ids, truth, "seed {seed}");
        assert_eq!((kb, n), (bytes / 1024, ids.len() as u64));
        // The hacked identity's own legitimate mail is queued next to its spam.
        let first = st(&t["sources"][0]["identity"]);
        let q = t["queue"]["ids"].as_array().unwrap();
        assert!(
            q.iter()
                .any(|m| m["identity"] == first && m["spam"] == true),
            "seed {seed}: no queued spam of {first}"
        );
        assert!(
            q.iter()
                .any(|m| m["identity"] == first && m["spam"] == false),
            "seed {seed}: no queued legit mail of {first}"
        );
    }
}

#[test]
fn the_tool_understands_every_line_and_counts_as_the_truth() {
    let base = tempfile::tempdir().unwrap();
    for (seed, shape) in [(3, "script-outsends-login"), (4, "short-logs")] {
        let dir = base.path().join(format!("s{seed}"));
        let t = generate(&dir, seed, Some(shape));
        let s = analyze(&dir, &base.path().join(format!("r{seed}")));
        assert_eq!(
            u(&s["lines"]["not_understood"]),
            0,
            "{}",
            s["lines"]["not_understood_examples"]
        );
        assert_eq!(u(&s["lines"]["total"]), u(&t["lines"]["total"]));
        for (k, v) in t["totals"].as_object().unwrap() {
            assert_eq!(&s["totals"][k], v, "{shape}: total {k}");
        }
        assert_eq!(s["queue"]["messages"], t["queue"]["messages"]);
        assert_eq!(s["period"]["year_inferred"], t["year"]);
    }
}
