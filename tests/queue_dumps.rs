//! Queue dumps from the corpus: every one parses, totals match the listings'
//! own summary lines, the text and JSON captures of lab-1 agree, and our
//! qshape equals the qshape Postfix printed at capture time.

use std::path::{Path, PathBuf};

use postmortem::analyze::queue::{qshape, render_qshape, summarize, ShapeMode, ShapeOptions};
use postmortem::classify::Classifier;
use postmortem::parse::queue::{detect, parse_json, parse_text, DumpKind, QueueDump, QueueName};
use postmortem::time::{LogTime, TimeFormat};

#[path = "common/corpus.rs"]
mod shared;

fn corpus() -> Option<PathBuf> {
    shared::corpus("")
}

/// The folder holding `lab-1/` (the repository's fixtures: always here).
fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

/// The capture time of `file` from lab-1's ground truth, as whole seconds
/// (the server's clock is UTC; qshape reads `time` in whole seconds).
fn capture_time(root: &Path, file: &str) -> LogTime {
    let events = std::fs::read_to_string(root.join("lab-1/groundtruth/events.jsonl")).unwrap();
    for line in events.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["action"] == "capture" && v["file"] == file {
            let utc = v["utc"].as_str().unwrap();
            let ts: jiff::Timestamp = utc.parse().unwrap();
            return LogTime(ts.as_second() * 1000);
        }
    }
    panic!("no capture event for {file}");
}

fn lab_text(root: &Path) -> QueueDump {
    let bytes = std::fs::read(root.join("lab-1/queue/postqueue-p.txt")).unwrap();
    parse_text(&bytes, capture_time(root, "postqueue-p.txt"))
}

fn lab_json(root: &Path) -> QueueDump {
    parse_json(&std::fs::read(root.join("lab-1/queue/postqueue-j.jsonl")).unwrap())
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn every_corpus_dump_parses() {
    let Some(root) = corpus() else { return };
    let mut paths = vec![
        fixtures().join("lab-1/queue/postqueue-p.txt"),
        fixtures().join("lab-1/queue/mailq.txt"),
        fixtures().join("lab-1/queue/postqueue-j.jsonl"),
        root.join("public/kumina-postfix-exporter/showq.txt"),
        root.join("public/cyberlab-fhnw/mailq_empty.txt"),
        root.join("public/pymailq/mailq.sample"),
        root.join("public/pymailq/mailq.sample.at-9f28767"),
    ];
    paths.extend(files_under(&root.join("public/queue-dumps")));
    paths.extend(files_under(&root.join("public/postqueue-json")));
    paths.extend(files_under(&root.join("public/scout-plugins-mail-monitor")));
    let dump_time = LogTime::from_civil(2026, 11, 29, 0, 0, 0, 0).unwrap();
    let mut checked = 0;
    for p in &paths {
        let bytes = std::fs::read(p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let Some(kind) = detect(&bytes) else {
            assert_eq!(
                name,
                "fatal.txt",
                "{} not detected as a queue dump",
                p.display()
            );
            continue;
        };
        let dump = match kind {
            DumpKind::Text => parse_text(&bytes, dump_time),
            DumpKind::Json => parse_json(&bytes),
        };
        checked += 1;
        if name.contains("fragment") {
            // A recipient block cut from a listing: reported, nothing kept.
            assert!(!dump.problems.is_empty(), "{}", p.display());
            continue;
        }
        if dump.empty_marker {
            assert!(dump.messages.is_empty(), "{}", p.display());
            continue;
        }
        assert!(!dump.messages.is_empty(), "{}: no messages", p.display());
        for m in &dump.messages {
            assert!(
                m.queue_id.bytes().all(|c| c.is_ascii_alphanumeric()),
                "{}: {}",
                p.display(),
                m.queue_id
            );
            assert!(
                m.arrival <= LogTime(dump_time.0 + postmortem::time::DAY),
                "{}: {}",
                p.display(),
                m.queue_id
            );
            assert!(
                !m.recipients.is_empty(),
                "{}: {} has no recipient",
                p.display(),
                m.queue_id
            );
        }
        match kind {
            DumpKind::Json => {
                let lines = bytes
                    .split(|&c| c == b'\n')
                    .filter(|l| !l.trim_ascii().is_empty())
                    .count();
                assert_eq!(dump.messages.len(), lines, "{}", p.display());
                assert!(
                    dump.problems.is_empty(),
                    "{}: {:?}",
                    p.display(),
                    dump.problems
                );
            }
            DumpKind::Text => {
                let declared = dump.declared.map(|d| d.requests as usize);
                match name.as_str() {
                    // Tails and fragments of a longer listing: the summary
                    // counts what is not there, and that is reported.
                    n if n.starts_with("jp_blog") => {
                        assert!(!dump.problems.is_empty());
                    }
                    // Listings saved without their summary line.
                    "showq.txt" | "more_than_one_with_queue_indicator.txt" => {
                        assert_eq!(declared, None);
                        assert_eq!(
                            dump.messages.len(),
                            if name == "showq.txt" { 24 } else { 6 }
                        );
                    }
                    _ => {
                        assert_eq!(declared, Some(dump.messages.len()), "{}", p.display());
                        assert!(
                            dump.problems.is_empty(),
                            "{}: {:?}",
                            p.display(),
                            dump.problems
                        );
                    }
                }
            }
        }
    }
    assert!(checked >= 15, "only {checked} dumps found");
}

#[test]
fn lab_totals_match_the_summary_line() {
    let root = fixtures();
    let d = lab_text(&root);
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    let declared = d.declared.unwrap();
    assert_eq!(declared.requests, d.messages.len() as u64);
    // Postfix 3.x sums message sizes (not file sizes) into the Kbytes.
    assert_eq!(declared.kbytes, d.bytes() / 1024);
    let held: Vec<&str> = d
        .messages
        .iter()
        .filter(|m| m.queue == QueueName::Hold)
        .map(|m| m.queue_id.as_str())
        .collect();
    // Ground truth: these two were put on hold with postsuper -h.
    assert_eq!(held.len(), 2);
    assert!(held.contains(&"A2AA3D073B") && held.contains(&"A45C2D06F6"));
    // mailq is the same listing.
    let mailq = parse_text(
        &std::fs::read(root.join("lab-1/queue/mailq.txt")).unwrap(),
        capture_time(&root, "mailq.txt"),
    );
    assert_eq!(mailq, d);
}

#[test]
fn lab_text_and_json_agree() {
    let root = fixtures();
    let text = lab_text(&root);
    let json = lab_json(&root);
    assert!(json.problems.is_empty(), "{:?}", json.problems);
    assert_eq!(text.messages.len(), json.messages.len());
    let by_id: std::collections::HashMap<&str, _> = json
        .messages
        .iter()
        .map(|m| (m.queue_id.as_str(), m))
        .collect();
    for t in &text.messages {
        let j = by_id
            .get(t.queue_id.as_str())
            .unwrap_or_else(|| panic!("{} missing from JSON", t.queue_id));
        assert_eq!(t.queue, j.queue, "{}", t.queue_id);
        assert_eq!(t.sender, j.sender, "{}", t.queue_id);
        assert_eq!(t.size, j.size, "{}", t.queue_id);
        // The lab server ran on UTC, so the listing's local time is UTC too.
        assert_eq!(t.arrival, j.arrival, "{}", t.queue_id);
        assert_eq!(t.recipients, j.recipients, "{}", t.queue_id);
    }
    let c = Classifier::builtin();
    let fmt = TimeFormat::local();
    let now = capture_time(&root, "postqueue-p.txt");
    let a = serde_json::to_string(&summarize(&text, now, "--dump-time", &c, &fmt)).unwrap();
    let b = serde_json::to_string(&summarize(&json, now, "--dump-time", &c, &fmt)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn lab_summary_counts() {
    let root = fixtures();
    let d = lab_json(&root);
    let now = capture_time(&root, "postqueue-j.jsonl");
    let s = summarize(
        &d,
        now,
        "--dump-time",
        &Classifier::builtin(),
        &TimeFormat::local(),
    );
    assert_eq!(s.messages, 234);
    assert_eq!(s.recipients, 328);
    let q = |k: &str| {
        s.by_queue
            .iter()
            .find(|x| x.key == k)
            .map_or(0, |x| x.messages)
    };
    assert_eq!((q("deferred"), q("hold")), (232, 2));
    assert_eq!(
        s.by_cause
            .iter()
            .find(|x| x.key == "held")
            .map(|x| x.messages),
        Some(2)
    );
    assert_eq!(s.by_cause.iter().map(|x| x.messages).sum::<u64>(), 234);
    assert_eq!(s.age_bands[0].messages, 234);
    assert_eq!(s.oldest.len(), 20);
    assert!(s
        .oldest
        .windows(2)
        .all(|w| w[0].age_minutes >= w[1].age_minutes));
    // The spam burst's sender leads the queue.
    assert_eq!(s.by_sender[0].key, "dave@lab.test");
    assert_eq!(s.shape.rows[0].total, 328);
    assert_eq!(s.shape_senders.rows[0].total, 234);
}

/// Rows of a captured qshape file, whitespace normalised.
fn normalised(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn qshape_matches_postfix_capture() {
    let root = fixtures();
    let dumps = [("text", lab_text(&root)), ("json", lab_json(&root))];
    for (file, mode, queues) in [
        (
            "qshape-deferred.txt",
            ShapeMode::Recipients,
            vec![QueueName::Deferred],
        ),
        (
            "qshape-s-deferred.txt",
            ShapeMode::Senders,
            vec![QueueName::Deferred],
        ),
        (
            "qshape-hold-active-incoming-deferred.txt",
            ShapeMode::Recipients,
            vec![
                QueueName::Hold,
                QueueName::Active,
                QueueName::Incoming,
                QueueName::Deferred,
            ],
        ),
        (
            "qshape-s-hold-active-incoming-deferred.txt",
            ShapeMode::Senders,
            vec![
                QueueName::Hold,
                QueueName::Active,
                QueueName::Incoming,
                QueueName::Deferred,
            ],
        ),
    ] {
        let captured = std::fs::read_to_string(root.join("lab-1/queue").join(file)).unwrap();
        let now = capture_time(&root, file);
        for (kind, dump) in &dumps {
            let opts = ShapeOptions {
                mode,
                ..ShapeOptions::default()
            };
            let shape = qshape(dump, now, &opts, &queues);
            let ours = render_qshape(&shape);
            assert_eq!(
                normalised(&ours),
                normalised(&captured),
                "{file} from the {kind} dump:\n{ours}"
            );
            // The layout itself is qshape's, to the space.
            assert_eq!(ours, captured, "{file} from the {kind} dump");
        }
    }
}

#[test]
fn truncated_lab_dump_keeps_complete_entries() {
    let root = fixtures();
    let bytes = std::fs::read(root.join("lab-1/queue/postqueue-p.txt")).unwrap();
    let full = lab_text(&root);
    // Cut in the middle of the 101st entry's first recipient line.
    let text = String::from_utf8(bytes).unwrap();
    let id = &full.messages[100].queue_id;
    let start = text.find(id.as_str()).unwrap();
    let rcpt = &full.messages[100].recipients[0].address;
    let cut_at = start + text[start..].find(rcpt.as_str()).unwrap() + 3;
    let cut = &text[..cut_at];
    let d = parse_text(cut.as_bytes(), capture_time(&root, "postqueue-p.txt"));
    assert_eq!(d.messages.len(), 100);
    assert_eq!(d.messages[..], full.messages[..100]);
    assert_eq!(d.problems.len(), 1, "{:?}", d.problems);
    assert_eq!(d.problems[0].line, cut.lines().count() as u64);
    assert!(d.problems[0].message.contains(id.as_str()));
}

fn synthetic_text(n: usize) -> String {
    let mut s =
        String::from("-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n");
    for i in 0..n {
        s += &format!(
            "{:010X}      748 Sat Nov 28 18:48:01  dave{}@lab.test\n",
            i,
            i % 97
        );
        s += "(host mx.bigisp.test[127.0.0.23] said: 450 4.7.1 Service unavailable; Client host [127.0.0.1] blocked using bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?127.0.0.1 (in reply to RCPT TO command))\n";
        s += &format!(
            "                                         user{}@bigisp.test\n\n",
            i % 1000
        );
    }
    s += &format!("-- {} Kbytes in {} Requests.\n", n * 748 / 1024, n);
    s
}

/// Speed of the text parser; run with `cargo test --release --test queue_dumps -- --ignored --nocapture`.
#[test]
#[ignore]
fn parse_100k_messages_speed() {
    let text = synthetic_text(100_000);
    let t = LogTime::from_civil(2026, 11, 28, 19, 0, 0, 0).unwrap();
    let start = std::time::Instant::now();
    let d = parse_text(text.as_bytes(), t);
    let took = start.elapsed();
    assert_eq!(d.messages.len(), 100_000);
    assert!(d.problems.is_empty());
    let start = std::time::Instant::now();
    let s = summarize(
        &d,
        t,
        "--dump-time",
        &Classifier::builtin(),
        &TimeFormat::local(),
    );
    let took_summary = start.elapsed();
    assert_eq!(s.messages, 100_000);
    let json: String = d
        .messages
        .iter()
        .map(|m| {
            format!(
                "{{\"queue_name\": \"deferred\", \"queue_id\": \"{}\", \"arrival_time\": 1795891681, \"message_size\": {}, \"forced_expire\": false, \"sender\": \"{}\", \"recipients\": [{{\"address\": \"{}\", \"delay_reason\": \"{}\"}}]}}\n",
                m.queue_id,
                m.size,
                m.sender,
                m.recipients[0].address,
                m.recipients[0].reason.as_deref().unwrap_or_default()
            )
        })
        .collect();
    let start = std::time::Instant::now();
    let j = parse_json(json.as_bytes());
    let took_json = start.elapsed();
    assert_eq!(j.messages.len(), 100_000);
    eprintln!("parse_json: {} bytes in {took_json:?}", json.len());
    eprintln!(
        "parse_text: {} messages, {} bytes in {:?} ({:.0} MB/s); summarize in {:?}",
        d.messages.len(),
        text.len(),
        took,
        text.len() as f64 / took.as_secs_f64() / 1e6,
        took_summary
    );
}
