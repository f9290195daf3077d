//! Queue cleanup on the lab recording, checked against its ground truth:
//! the ids offered for `postsuper -d -` hold no legitimate message and at
//! least 90% of the queued spam, whichever of the three dumps is given;
//! the runbook never advises a flush while a listing is ongoing.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;
use std::process::Command;

mod common;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_postmortem"))
}

fn text_of(p: &Path) -> String {
    let bytes = std::fs::read(p).unwrap();
    if p.extension().is_some_and(|x| x == "gz") {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .unwrap();
        s
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Queued id -> spam or not, from the lab's submissions: a submission's
/// queue id, followed through the content filter's `queued as`; a
/// sendmail pickup (no id recorded) by its recipients and arrival time.
fn lab_truth(lab: &Path) -> HashMap<String, bool> {
    let queued_as =
        regex::Regex::new(r": ([0-9A-F]{8,12}): to=<.*queued as ([0-9A-F]{8,12})\)").unwrap();
    let mut child = HashMap::new();
    for e in std::fs::read_dir(lab.join("logs")).unwrap() {
        for line in text_of(&e.unwrap().path()).lines() {
            if let Some(c) = queued_as.captures(line) {
                child.insert(c[1].to_string(), c[2].to_string());
            }
        }
    }
    let subs = std::fs::read_to_string(lab.join("groundtruth/submissions.csv")).unwrap();
    let mut rows = subs.lines();
    let head: Vec<&str> = rows.next().unwrap().split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let (utc, rcpts, tag, accepted, qid) = (
        col("utc"),
        col("rcpts"),
        col("tag"),
        col("accepted"),
        col("queue_id"),
    );
    let mut truth = HashMap::new();
    let mut pickups = Vec::new();
    for r in rows {
        // No field of the lab's submissions holds a quoted comma before
        // `queue_id`; the response text after it may.
        let f: Vec<&str> = r.split(',').collect();
        let spam = f[tag] == "spam";
        let mut q = f[qid].to_string();
        while !q.is_empty() {
            truth.insert(q.clone(), spam);
            q = child.get(&q).cloned().unwrap_or_default();
        }
        if f[accepted] == "True" {
            let t: jiff::Timestamp = f[utc].parse().unwrap();
            let to: BTreeSet<String> = f[rcpts].split_whitespace().map(String::from).collect();
            pickups.push((t.as_second(), to, spam));
        }
    }
    for line in std::fs::read_to_string(lab.join("queue/postqueue-j.jsonl"))
        .unwrap()
        .lines()
    {
        let j: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = j["queue_id"].as_str().unwrap().to_string();
        if truth.contains_key(&id) {
            continue;
        }
        let arrival = j["arrival_time"].as_i64().unwrap();
        let to: BTreeSet<String> = j["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["address"].as_str().unwrap().to_string())
            .collect();
        let best = pickups
            .iter()
            .filter(|p| p.0 <= arrival + 1 && to.is_subset(&p.1))
            .max_by_key(|p| p.0)
            .unwrap_or_else(|| panic!("no submission for {id}"));
        truth.insert(id, best.2);
    }
    truth
}

fn ids(dir: &Path, suffix: &str) -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().unwrap().to_string_lossy().ends_with(suffix) {
            all.extend(
                std::fs::read_to_string(&p)
                    .unwrap()
                    .split_whitespace()
                    .map(String::from),
            );
        }
    }
    all
}

fn analyze(lab: &Path, dump: &Path, out: &Path) -> serde_json::Value {
    let st = bin()
        .arg("analyze")
        .arg(lab.join("logs"))
        .arg(dump)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .status()
        .unwrap();
    assert!(st.success());
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn lab1_delete_lists_hold_only_spam_with_every_dump_format() {
    let lab = common::run::lab_dir();
    let truth = lab_truth(&lab);
    let tmp = tempfile::tempdir().unwrap();
    // The same dump as text, as mailq and as JSON, and gzipped.
    let gz = tmp.path().join("postqueue-p.txt.gz");
    {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::fast(),
        );
        enc.write_all(&std::fs::read(lab.join("queue/postqueue-p.txt")).unwrap())
            .unwrap();
        enc.finish().unwrap();
    }
    let in_dump: BTreeSet<String> = std::fs::read_to_string(lab.join("queue/postqueue-j.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["queue_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for dump in [
        lab.join("queue/postqueue-p.txt"),
        lab.join("queue/mailq.txt"),
        lab.join("queue/postqueue-j.jsonl"),
        gz,
    ] {
        let out = tmp
            .path()
            .join(format!("r-{}", dump.file_name().unwrap().to_string_lossy()));
        let s = analyze(&lab, &dump, &out);
        let delete = ids(&out, "-queued-ids.txt");
        let review = ids(&out, "-review-ids.txt");
        let queued: BTreeSet<&String> = truth.keys().filter(|id| in_dump.contains(*id)).collect();
        let spam: BTreeSet<&String> = queued.iter().copied().filter(|id| truth[*id]).collect();
        let legit_deleted: Vec<&String> = delete
            .iter()
            .filter(|id| truth.get(*id) == Some(&false))
            .collect();
        assert!(
            legit_deleted.is_empty(),
            "{}: legitimate mail offered for deletion: {legit_deleted:?}",
            dump.display()
        );
        assert!(
            delete.iter().all(|id| in_dump.contains(id)),
            "{}: ids not in the dump",
            dump.display()
        );
        let offered = delete.iter().filter(|id| spam.contains(id)).count();
        assert!(spam.len() > 100, "the lab queues about 195 spam messages");
        assert!(
            offered * 10 >= spam.len() * 9,
            "{}: {offered} of {} queued spam messages offered",
            dump.display(),
            spam.len()
        );
        assert!(review.is_disjoint(&delete));
        // Each list is named on its suspect, with its count.
        let s1 = &s["suspects"][0];
        assert_eq!(s1["queued_ids_file"], "suspect-1-queued-ids.txt");
        assert_eq!(
            s1["queued_spam"].as_u64().unwrap() as usize,
            ids(&out, "suspect-1-queued-ids.txt").len()
        );
        assert!(out.join("suspect-1-queued.csv").is_file());
    }
}

#[test]
fn lab1_runbook_keeps_the_order_and_never_flushes_while_listed() {
    let lab = common::run::lab_dir();
    let tmp = tempfile::tempdir().unwrap();
    let s = analyze(
        &lab,
        &lab.join("queue/postqueue-p.txt"),
        &tmp.path().join("r"),
    );
    let steps = s["runbook"].as_array().unwrap();
    let titles: Vec<&str> = steps.iter().map(|x| x["title"].as_str().unwrap()).collect();
    let at = |p: &str| {
        titles
            .iter()
            .position(|t| t.starts_with(p))
            .unwrap_or_else(|| panic!("{p} in {titles:?}"))
    };
    assert!(
        at("Stop the source: reset the password of dave@lab.test")
            < at("Delete the queued spam of sasl:dave@lab.test")
    );
    assert!(at("Delete the queued spam") < at("Request delisting from"));
    assert_eq!(at("Do not flush the queue yet"), titles.len() - 1);
    let commands: Vec<&str> = steps
        .iter()
        .flat_map(|x| {
            x["commands"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
        })
        .collect();
    assert!(
        commands.iter().all(|c| !c.contains("postqueue -f")),
        "{commands:?}"
    );
    assert!(commands.contains(&"postsuper -d - < suspect-1-queued-ids.txt"));
    assert!(
        commands.contains(&"dig +short 1.0.0.127.bl.spamcop.net"),
        "{commands:?}"
    );
    // No cause card or suspect advises a flush either.
    let text = serde_json::to_string(&s["headline"]).unwrap()
        + &serde_json::to_string(&s["suspects"]).unwrap();
    assert!(!text.contains("postqueue -f"));
}

#[test]
fn select_typos_and_identity_without_logs_fail_with_the_valid_values() {
    let lab = common::run::lab_dir();
    let dump = lab.join("queue/postqueue-p.txt");
    let run = |sel: &str| {
        bin()
            .arg("queue")
            .arg(&dump)
            .args(["--select", sel])
            .output()
            .unwrap()
    };
    let o = run("cause=blacklist");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unknown cause") && err.contains("blacklisted") && err.contains("never_tried"),
        "{err}"
    );
    let o = run("caus=blacklisted");
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("sender_domain="));
    let o = run("identity=uid:33");
    assert!(
        !o.status.success()
            && String::from_utf8_lossy(&o.stderr).contains("postmortem analyze LOGS DUMP")
    );
    // A cause selects everyone's mail that met it, and says so.
    let o = run("cause=blacklisted");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(
        out.contains("It holds the mail of 2 senders") && out.contains("alice@lab.test"),
        "{out}"
    );
}

/// A dump copied without its time: the file time is hours after the
/// newest arrival, so ages would be too long; the warning says so and the
/// newest arrival is the lower bound used.
#[test]
fn a_copied_dump_gets_the_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let dump = tmp.path().join("queue.txt");
    std::fs::copy(common::run::lab_dir().join("queue/postqueue-p.txt"), &dump).unwrap();
    // The lab's newest arrival is 2026-11-28 18:55; the copy is a day later.
    let later = jiff::civil::date(2026, 11, 29)
        .at(15, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::system())
        .unwrap();
    let t = std::time::SystemTime::try_from(later).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&dump)
        .unwrap()
        .set_modified(t)
        .unwrap();
    let o = bin().arg("queue").arg(&dump).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(out.contains("probably copied without its time"), "{out}");
    assert!(
        out.contains("Dump time: 2026-11-28T18:55:39 (newest arrival in the dump)"),
        "{out}"
    );
}

/// Logs of two hosts that both used one queue id: the dump is joined to
/// the host whose ids it holds, and its rows say which.
#[test]
fn the_dump_joins_the_host_whose_ids_it_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for (host, id, who) in [
        ("hosta", "4F1A2B3C4D", "alice@a.example"),
        ("hostb", "4F1A2B3C4D", "bob@b.example"),
        ("hostb", "5E6F7A8B9C", "bob@b.example"),
    ] {
        log += &format!(
            "2026-01-03T10:00:00+00:00 {host} postfix/smtpd[1]: {id}: client=unknown[203.0.113.5], sasl_method=PLAIN, sasl_username={who}\n\
             2026-01-03T10:00:01+00:00 {host} postfix/qmgr[2]: {id}: from=<{who}>, size=100, nrcpt=1 (queue active)\n\
             2026-01-03T10:00:02+00:00 {host} postfix/smtp[3]: {id}: to=<x@gmail.com>, relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to gmail.com[192.0.2.1]:25: Connection timed out)\n"
        );
    }
    std::fs::write(tmp.path().join("maillog"), log).unwrap();
    let dump = "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n\
        4F1A2B3C4D      100 Sat Jan  3 10:00:01  bob@b.example\n\
        (connect to gmail.com[192.0.2.1]:25: Connection timed out)\n\
        \x20                                        x@gmail.com\n\n\
        5E6F7A8B9C      100 Sat Jan  3 10:00:01  bob@b.example\n\
        (connect to gmail.com[192.0.2.1]:25: Connection timed out)\n\
        \x20                                        x@gmail.com\n\n\
        -- 1 Kbytes in 2 Requests.\n";
    std::fs::write(tmp.path().join("postqueue-p.txt"), dump).unwrap();
    let out = tmp.path().join("r");
    let st = bin()
        .args(["analyze", "--quiet", "--timezone", "UTC", "--out"])
        .arg(&out)
        .arg(tmp.path().join("maillog"))
        .arg(tmp.path().join("postqueue-p.txt"))
        .status()
        .unwrap();
    assert!(st.success());
    let csv = std::fs::read_to_string(out.join("queue.csv")).unwrap();
    let row = csv
        .lines()
        .find(|l| l.starts_with("4F1A2B3C4D"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(
        row.contains("sasl:bob@b.example") && row.contains("hostb"),
        "{csv}"
    );
    assert!(!csv.contains("alice"), "{csv}");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["queue"]["host"], "hostb");
}
