//! The binary on the lab-1 recording (real Postfix 3.7 with staged
//! incidents), checked against the lab's ground truth.
//!
//! The corpus lives beside the project in ../shared; these tests skip with
//! a message when it is absent.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

fn lab() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/lab-1");
    if p.join("logs").is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared/corpus/lab-1 is not here");
        None
    }
}

/// The lab's machine-readable ground truth.
fn manifest(lab: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(lab.join("groundtruth/manifest.json")).unwrap())
        .unwrap()
}

fn analyze(args: &[&str]) -> (serde_json::Value, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let status = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .arg("analyze")
        .args(args)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .status()
        .unwrap();
    assert!(
        status.success(),
        "postmortem analyze {args:?} failed: {status}"
    );
    let json = std::fs::read_to_string(out.join("summary.json")).unwrap();
    (serde_json::from_str(&json).unwrap(), tmp)
}

/// All lines of the lab logs, oldest file first, decompressed here with
/// flate2 independently of the tool's reader.
fn lab_lines(lab: &Path) -> Vec<String> {
    use std::io::Read;
    let mut names: Vec<_> = std::fs::read_dir(lab.join("logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // postfix logrotate names sort by time; the live file comes last.
    names.sort_by_key(|p| (p.extension().is_none(), p.clone()));
    let mut text = String::new();
    for p in names {
        let bytes = std::fs::read(&p).unwrap();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_string(&mut text)
                .unwrap();
        } else {
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    text.lines().map(str::to_string).collect()
}

#[test]
fn totals_match_the_lab_ground_truth() {
    let Some(lab) = lab() else { return };
    let (s, _tmp) = analyze(&[lab.join("logs").to_str().unwrap()]);
    let totals = &s["totals"];

    // Received: every submission the lab made that Postfix accepted, once,
    // although each passed the content filter and came back under a new id.
    let subs = std::fs::read_to_string(lab.join("groundtruth/submissions.csv")).unwrap();
    let mut rdr = subs.lines();
    let header: Vec<&str> = rdr.next().unwrap().split(',').collect();
    let accepted_col = header.iter().position(|h| *h == "accepted").unwrap();
    let accepted = rdr
        .filter(|l| l.split(',').nth(accepted_col) == Some("True"))
        .count() as u64;
    assert_eq!(totals["received"], accepted);

    // Counts that a reader can take from the log text itself.
    let lines = lab_lines(&lab);
    let count = |f: &dyn Fn(&str) -> bool| lines.iter().filter(|l| f(l)).count() as u64;
    let delivered =
        count(&|l| l.contains("status=sent") && !l.contains("relay=127.0.0.1[127.0.0.1]:10024"));
    assert_eq!(totals["delivered"], delivered);
    assert_eq!(
        totals["deferral_events"],
        count(&|l| l.contains("status=deferred"))
    );
    assert_eq!(totals["bounced"], count(&|l| l.contains("status=bounced")));
    assert_eq!(totals["expired"], count(&|l| l.contains("status=expired")));
    assert_eq!(
        totals["rejected"],
        count(&|l| l.contains("NOQUEUE: reject:") || l.contains(": milter-reject:"))
    );
    let manifest = manifest(&lab);
    assert_eq!(
        totals["held"],
        manifest["held_queue_ids"].as_array().unwrap().len() as u64
    );
    assert!(totals["deferred_messages"].as_u64().unwrap() > 0);
    assert!(
        totals["deferred_messages"].as_u64().unwrap() < totals["deferral_events"].as_u64().unwrap()
    );
}

#[test]
fn every_lab_line_is_understood_and_the_year_inferred() {
    let Some(lab) = lab() else { return };
    let (s, _tmp) = analyze(&[lab.join("logs").to_str().unwrap()]);
    let lines = lab_lines(&lab)
        .iter()
        .filter(|l| !l.trim().is_empty())
        .count() as u64;
    assert_eq!(s["lines"]["total"], lines);
    assert_eq!(
        s["lines"]["not_understood"], 0,
        "{}",
        s["lines"]["not_understood_examples"]
    );
    assert_eq!(s["inputs"].as_array().unwrap().len(), 6);
    // The files are kept with their 2026 modification times.
    assert_eq!(
        s["period"]["first"].as_str().unwrap().get(..10),
        Some("2026-11-28")
    );
}

#[test]
fn submissions_per_identity_match_the_lab() {
    let Some(lab) = lab() else { return };
    let (s, _tmp) = analyze(&[lab.join("logs").to_str().unwrap()]);
    let manifest = manifest(&lab);
    let senders = s["top_senders"].as_array().unwrap();
    let mut checked = 0;
    for want in manifest["submissions_by_identity"].as_array().unwrap() {
        let id = want["identity"].as_str().unwrap();
        // The lab writes `uid:33(www-data)`; we write `uid:33`.
        let ours = id.split('(').next().unwrap();
        if !(ours.starts_with("sasl:") || ours.starts_with("uid:")) {
            continue;
        }
        let got = senders
            .iter()
            .find(|r| r["identity"] == ours)
            .unwrap_or_else(|| panic!("{ours} missing from senders"));
        assert_eq!(got["messages"], want["messages_accepted"], "{ours}");
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} identities checked");
}

#[test]
fn a_wrong_year_flag_is_obeyed_and_stated() {
    let Some(lab) = lab() else { return };
    let (s, _tmp) = analyze(&[lab.join("logs").to_str().unwrap(), "--year", "2024"]);
    assert_eq!(s["period"]["year_inferred"], 2024);
    assert!(s["period"]["year_source"]
        .as_str()
        .unwrap()
        .contains("--year"));
    assert!(s["period"]["first"]
        .as_str()
        .unwrap()
        .starts_with("2024-11-28"));
}

fn headline_names(s: &serde_json::Value, cause: &str) -> bool {
    s["headline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["cause"] == cause)
}

/// Seconds since midnight of an ISO time (`2026-11-28T18:45:05` or with Z).
/// A staged phase's start and, when it ended, its end (seconds), from the
/// manifest.
fn phase_span(manifest: &serde_json::Value, id: &str) -> (i64, Option<i64>) {
    let p = manifest["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("no phase {id} in the manifest"));
    let at = |k: &str| p[k].as_str().map(secs);
    (at("start_utc").expect("a start"), at("end_utc"))
}

fn secs(iso: &str) -> i64 {
    let t = &iso[11..19];
    let p: Vec<i64> = t.split(':').map(|x| x.parse().unwrap()).collect();
    p[0] * 3600 + p[1] * 60 + p[2]
}

#[test]
fn staged_incidents_are_found_in_their_periods() {
    let Some(lab) = lab() else { return };
    let (s, _tmp) = analyze(&[lab.join("logs").to_str().unwrap()]);
    let manifest = manifest(&lab);
    let bucket = s["timeline"]["bucket_seconds"].as_i64().unwrap();
    assert!(bucket > 0);
    let incidents = s["incidents"].as_array().unwrap();
    for (phase, cause) in [
        ("content-filter-down", "content_filter_down"),
        ("dns-down", "dns_failure"),
        ("port25-blocked", "port25_blocked"),
    ] {
        let (start, end) = phase_span(&manifest, phase);
        let end = end.expect("the phase ended");
        let found = incidents
            .iter()
            .find(|i| i["cause"] == cause)
            .unwrap_or_else(|| panic!("no {cause} incident"));
        let (fs, fe) = (
            secs(found["start"].as_str().unwrap()),
            secs(found["end"].as_str().unwrap()),
        );
        assert!(
            (fs - start).abs() <= bucket,
            "{cause} starts {fs} vs {start}"
        );
        assert!((fe - end).abs() <= bucket, "{cause} ends {fe} vs {end}");
        // The headline names it.
        assert!(headline_names(&s, cause), "headline lacks {cause}");
    }
    // Listings: each receiver's refusals start when the lab switched it.
    for (phase, list) in [
        ("bl-spamhaus-example.com", "zen.spamhaus.org"),
        ("bl-microsoft-outlook-like", "microsoft"),
        ("bl-gmail-like", "gmail"),
        ("bl-spamcop-bigisp", "bl.spamcop.net"),
    ] {
        let (start, _) = phase_span(&manifest, phase);
        let ep = s["blacklistings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["list"] == list)
            .unwrap_or_else(|| panic!("no episode for {list}"));
        let first = secs(ep["first_seen"].as_str().unwrap());
        assert!(
            (first - start).abs() <= bucket,
            "{list} first seen {first} vs {start}"
        );
    }
    assert_eq!(s["headline"][0]["cause"], "blacklisted");
}

#[test]
fn the_compromised_mailbox_ranks_first() {
    let Some(lab) = lab() else { return };
    let (s, _tmp) = analyze(&[lab.join("logs").to_str().unwrap()]);
    let manifest = manifest(&lab);
    // The source that bursted before the first listing.
    let culprit = manifest["spam_sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["phase"] == "spam-burst-dave")
        .unwrap();
    let want = format!("sasl:{}", culprit["sasl_username"].as_str().unwrap());
    let suspects = s["suspects"].as_array().unwrap();
    assert_eq!(suspects[0]["identity"], want.as_str());
    // Legitimate identities score far below it.
    let top = suspects[0]["score"].as_f64().unwrap();
    for legit in manifest["legit_identities"].as_array().unwrap() {
        let id = legit.as_str().unwrap().split('(').next().unwrap();
        if let Some(x) = suspects.iter().find(|x| x["identity"] == id) {
            assert!(
                x["score"].as_f64().unwrap() * 5.0 < top,
                "{id} scores {} vs {top}",
                x["score"]
            );
        }
    }
    // Its evidence names the password guessing and the many client IPs.
    let evidence = suspects[0]["evidence"].to_string();
    assert!(evidence.contains("failed logins"), "{evidence}");
    assert!(evidence.contains("client IPs"), "{evidence}");
}

/// Each staged listing is one episode under its list's name, in the state
/// the lab left it in: Spamhaus delisted at 18:50 (ended), the others
/// active at capture (ongoing). The `www-data` burst came after the
/// listings and is not ranked as their cause; the password guessing against
/// the mailbox is its own finding.
#[test]
fn listings_have_their_lab_state_and_guessing_is_found() {
    let Some(lab) = lab() else { return };
    let (s, _tmp) = analyze(&[lab.join("logs").to_str().unwrap()]);
    let manifest = manifest(&lab);
    let lists = [
        ("bl-spamhaus-example.com", "zen.spamhaus.org"),
        ("bl-microsoft-outlook-like", "microsoft"),
        ("bl-gmail-like", "gmail"),
        ("bl-spamcop-bigisp", "bl.spamcop.net"),
        ("bl-barracuda-corp-mail", "b.barracudacentral.org"),
    ];
    let episodes = s["blacklistings"].as_array().unwrap();
    assert_eq!(episodes.len(), lists.len(), "{episodes:?}");
    for (phase, list) in lists {
        let p = manifest["phases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == phase)
            .unwrap();
        let want = if p["end_utc"].is_null() {
            "ongoing"
        } else {
            "ended"
        };
        let e = episodes.iter().find(|e| e["list"] == list).unwrap();
        assert_eq!(e["state"], want, "{list}");
        assert_eq!(e["standing"], "reputation", "{list}");
        // The listing began no later than the first refusal the logs show.
        let start = secs(&p["start_utc"].as_str().unwrap()[..19]);
        assert!(secs(e["first_seen"].as_str().unwrap()) >= start, "{list}");
    }
    let suspects = s["suspects"].as_array().unwrap();
    // The web server's script sent after the listings began: it may be
    // named, but only as sending while listed, never as a cause.
    assert!(
        suspects
            .iter()
            .filter(|x| x["identity"].as_str().unwrap().starts_with("uid:33"))
            .all(|x| x["role"] == "while_listed"),
        "{suspects:?}"
    );
    assert_eq!(suspects[0]["role"], "cause", "{suspects:?}");
    let guessing = s["password_guessing"].as_array().unwrap();
    let dave = guessing
        .iter()
        .find(|g| g["kind"] == "account" && g["key"] == "dave@lab.test")
        .expect("the guessed mailbox is listed");
    assert!(dave["login_after"].is_string(), "{dave}");
}

/// `--messages`: one row per message, and the rows add up to the totals.
#[test]
fn messages_csv_accounts_for_every_message() {
    let Some(lab) = lab() else { return };
    let (s, tmp) = analyze(&[
        lab.join("logs").to_str().unwrap(),
        lab.join("queue/postqueue-p.txt").to_str().unwrap(),
        "--messages",
    ]);
    let text = std::fs::read_to_string(tmp.path().join("report/messages.csv")).unwrap();
    let cells = common::csv_cells(&text);
    let header = &cells[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows = &cells[1..];
    let sum = |name: &str| -> u64 {
        rows.iter()
            .map(|r| r[col(name)].parse::<u64>().unwrap())
            .sum()
    };
    let totals = &s["totals"];
    // Every message the server accepted, and every bounce notice it wrote.
    let notices = rows
        .iter()
        .filter(|r| r[col("identity")] == "local:MAILER-DAEMON")
        .count() as u64;
    assert_eq!(
        rows.len() as u64 - notices,
        totals["received"].as_u64().unwrap()
    );
    // Each recipient's final fate once: the per-line totals are recovered.
    assert_eq!(sum("sent"), totals["delivered"].as_u64().unwrap());
    assert_eq!(sum("bounced"), totals["bounced"].as_u64().unwrap());
    // What is still queued is what the dump holds.
    let dump = std::fs::read_to_string(lab.join("queue/postqueue-p.txt")).unwrap();
    let queued: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r[col("status")] == "queued")
        .collect();
    assert_eq!(queued.len(), 234);
    for r in &queued {
        let last_id = r[col("queue_ids")]
            .split(' ')
            .next_back()
            .unwrap()
            .to_string();
        assert!(dump.contains(&last_id), "{last_id} is not in the dump");
    }
    // Per identity, as many messages as the lab submitted.
    for want in manifest(&lab)["submissions_by_identity"]
        .as_array()
        .unwrap()
    {
        let id = want["identity"]
            .as_str()
            .unwrap()
            .split('(')
            .next()
            .unwrap();
        if !(id.starts_with("sasl:") || id.starts_with("uid:")) {
            continue;
        }
        let got = rows.iter().filter(|r| r[col("identity")] == id).count() as u64;
        assert_eq!(got, want["messages_accepted"].as_u64().unwrap(), "{id}");
    }
    // Bounce and delay notices name the message they report on.
    let ids: std::collections::HashSet<&str> =
        rows.iter().map(|r| r[col("message")].as_str()).collect();
    let linked = rows
        .iter()
        .filter(|r| r[col("identity")] == "local:MAILER-DAEMON" && !r[col("bounce_of")].is_empty())
        .inspect(|r| {
            assert!(ids.contains(r[col("bounce_of")].as_str()), "{r:?}");
            assert_ne!(r[col("bounce_of")], r[col("message")]);
        })
        .count() as u64;
    assert!(
        linked * 100 >= notices * 95,
        "{linked} of {notices} notices linked"
    );
    // A content filter's copies are one message: two queue ids.
    let first = &rows[0];
    assert_eq!(first[col("queue_ids")], "D375AD054A DDEDDD0543");
    assert_eq!(first[col("status")], "delivered");
}
