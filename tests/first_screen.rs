//! What the first screen must say before anything else, from real runs of
//! the binary: a rotation given twice (gzipped and not) is read once and
//! said in red; a cut `.gz` makes the report partial, said in red above
//! the problems; `--since yesterday` reads that day only; a period outside
//! the logs is a mistake named, not "no trouble"; and lab-1's problems say
//! whether they are ongoing at the end of the logs or when they ended,
//! with no placeholder command.

mod common;

use common::run::{analyze, gzip, log_of, logs_dir, message};
use std::path::Path;
use std::time::{Duration, SystemTime};

fn html(tmp: &Path) -> String {
    std::fs::read_to_string(tmp.join("report/report.html")).unwrap()
}

/// The alerts come first: before the problems' heading.
fn alert_before_problems(page: &str, text: &str) {
    let alert = page
        .find(text)
        .unwrap_or_else(|| panic!("no alert {text:?}"));
    let broken = page.find("<h2>What is broken now").expect("first screen");
    assert!(alert < broken, "{text:?} comes after the problems");
    assert!(page[..alert].rfind("<div class=\"alert\"").is_some());
}

#[test]
fn a_rotation_given_twice_is_read_once_and_said() {
    let (tmp, logs) = logs_dir();
    let text = log_of(30, "mx1", 1);
    std::fs::write(logs.join("mail.log.1"), &text).unwrap();
    std::fs::write(logs.join("mail.log.1.gz"), gzip(text.as_bytes())).unwrap();
    std::fs::write(logs.join("mail.log"), log_of(10, "mx1", 2)).unwrap();
    let r = analyze(tmp.path(), &[&logs]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.total("received"), 40);
    let s = r.summary.as_ref().unwrap();
    let dups = s["duplicate_inputs"].as_array().unwrap();
    assert_eq!(dups.len(), 1, "{dups:?}");
    assert_eq!(dups[0]["lines"], 30 * 5);
    alert_before_problems(&html(tmp.path()), "The same log was given twice");
    let md = std::fs::read_to_string(tmp.path().join("report/summary.md")).unwrap();
    assert!(md.contains("> **The same log was given twice**"), "{md}");
}

#[test]
fn a_cut_gz_is_said_first_in_red() {
    let (tmp, logs) = logs_dir();
    let gz = gzip(log_of(400, "mx1", 1).as_bytes());
    std::fs::write(logs.join("mail.log.2.gz"), &gz[..gz.len() / 2]).unwrap();
    std::fs::write(logs.join("mail.log"), log_of(10, "mx1", 2)).unwrap();
    let r = analyze(tmp.path(), &[&logs]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    alert_before_problems(
        &html(tmp.path()),
        "Some input could not be read completely: this report is partial",
    );
}

/// One message at 10:00 on each of 1, 2 and 3 January 2026; the newest
/// file written at noon on the 3rd, so `today` is the 3rd.
fn three_days(logs: &Path) {
    let mut text = String::new();
    for (k, day) in ["2026-01-01", "2026-01-02", "2026-01-03"]
        .iter()
        .enumerate()
    {
        text += &message(
            "mx1",
            &format!("{day}T10:00:00"),
            &format!("A{k:09}"),
            "alice@example.org",
            &format!("r{k}@example.net"),
            false,
        );
    }
    let path = logs.join("mail.log");
    std::fs::write(&path, text).unwrap();
    let noon = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_441_600);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(noon)
        .unwrap();
}

#[test]
fn since_yesterday_reads_that_day_only() {
    let (tmp, logs) = logs_dir();
    three_days(&logs);
    let out = tmp.path().join("report");
    let r = common::run::analyze_in(
        &out,
        &[&logs],
        &["--since", "yesterday"],
        Duration::from_secs(60),
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.total("received"), 1);
    let s = r.summary.as_ref().unwrap();
    assert!(
        s["period"]["first"]
            .as_str()
            .unwrap()
            .starts_with("2026-01-02T10:00"),
        "{}",
        s["period"]
    );
    // The logs' own span is kept, and the page says a part was read.
    assert!(s["logs_span"]["first"]
        .as_str()
        .unwrap()
        .starts_with("2026-01-01"));
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    alert_before_problems(&page, "A part of the logs was analyzed");
}

#[test]
fn a_period_outside_the_logs_is_named_not_empty() {
    let (tmp, logs) = logs_dir();
    three_days(&logs);
    let r = common::run::analyze_in(
        &tmp.path().join("report"),
        &[&logs],
        &["--since", "2026-02-01"],
        Duration::from_secs(60),
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("no log line falls in the period asked for")
            && r.stderr.contains("the logs hold 2026-01-01T10:00:00"),
        "{}",
        r.stderr
    );
    assert!(r.summary.is_none());
}

/// Every listing cites its first refusal (whichever receiver refused
/// first), and each finding's lines are in the order they were written.
fn listings_cite_their_first_refusal(s: &serde_json::Value) {
    for b in s["blacklistings"].as_array().unwrap() {
        let lines = b["lines"].as_array().unwrap();
        let first = &b["first_seen"].as_str().unwrap()[..19];
        assert!(
            lines.iter().any(|l| l["about"] == "its first refusal"
                && l["time"].as_str().unwrap().starts_with(first)),
            "{}: {lines:?}",
            b["list"]
        );
        let times: Vec<&str> = lines.iter().map(|l| l["time"].as_str().unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    }
}

#[test]
fn the_samples_listings_cite_their_first_refusal() {
    let tmp = tempfile::tempdir().unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let r = analyze(tmp.path(), &[&samples]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    // zen.spamhaus.org's first refusal came from a receiver other than
    // the one that refused most.
    listings_cite_their_first_refusal(r.summary.as_ref().unwrap());
}

#[test]
fn lab1_says_what_is_ongoing_and_what_ended_when() {
    let Some(logs) = common::run::lab_logs() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let queue = logs.join("../queue/postqueue-p.txt");
    let r = analyze(tmp.path(), &[&logs, &queue]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let s = r.summary.as_ref().unwrap();
    let state = |cause: &str| -> (String, String) {
        let h = s["headline"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["cause"] == cause)
            .unwrap_or_else(|| panic!("no {cause} in {}", s["headline"]));
        (
            h["state"].as_str().unwrap().to_string(),
            h["end"].as_str().unwrap_or("").to_string(),
        )
    };
    // The listings were still refusing at the end; the local outages ended.
    assert_eq!(state("blacklisted").0, "ongoing");
    for (cause, ended) in [
        ("content_filter_down", "2026-11-28T18:47"),
        ("dns_failure", "2026-11-28T18:52"),
        ("port25_blocked", "2026-11-28T18:54"),
    ] {
        let (st, end) = state(cause);
        assert_eq!(st, "ended", "{cause}");
        assert!(end.starts_with(ended), "{cause} ended {end}");
    }
    listings_cite_their_first_refusal(s);
    let page = html(tmp.path());
    let first = &page[page.find("<section id=\"headline\">").unwrap()
        ..page.find("<section id=\"timeline\">").unwrap()];
    assert!(first.contains("<span class=\"st ongoing\">Ongoing at the end of the logs</span>"));
    assert!(first.contains("<span class=\"st ended\">Ended 2026-11-28 18:52:03</span>"));
    assert!(
        first.contains("mail went out again at 2026-11-28 18:53:53"),
        "{first}"
    );
    // The queue now, with the suspects' share.
    assert!(
        first.contains("<b>Queue now:</b> 234 messages in the queue dump"),
        "{first}"
    );
    // No placeholder where the value is known.
    for placeholder in [
        "4.3.2.1",
        "see the senders table",
        "HOST",
        "sender_domain=...",
        "DOMAIN",
    ] {
        assert!(
            !first.contains(placeholder),
            "{placeholder} on the first screen"
        );
    }
    assert!(first.contains("dig +short 1.0.0.127.zen.spamhaus.org"));
    let md = std::fs::read_to_string(tmp.path().join("report/summary.md")).unwrap();
    assert!(md.contains("**Ongoing at the end of the logs**"));
    assert!(!md.contains("HOST") && !md.contains("4.3.2.1"));
}
