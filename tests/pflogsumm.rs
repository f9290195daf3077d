//! Our totals next to pflogsumm's Grand Totals, on the same logs.
//!
//! pflogsumm is the classic reference; where both count the same thing the
//! numbers must agree. Where they differ by design (a content filter's
//! re-injected copy, which pflogsumm counts as a second message), the test
//! states the difference. Skips when pflogsumm or the corpus is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn pflogsumm() -> Option<PathBuf> {
    for p in ["/usr/sbin/pflogsumm", "/usr/bin/pflogsumm"] {
        if Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    eprintln!("skipping: pflogsumm is not installed (apt-get install pflogsumm)");
    None
}

#[path = "common/corpus.rs"]
mod shared;
use shared::corpus;

/// pflogsumm's Grand Totals: `received`, `delivered`, `deferred`
/// (messages), `deferrals`, `bounced`, `rejected`.
fn grand_totals(pfl: &Path, text: &[u8]) -> std::collections::HashMap<String, u64> {
    use std::io::Write;
    let mut child = Command::new(pfl)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = text.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut totals = std::collections::HashMap::new();
    for line in report
        .lines()
        .skip_while(|l| !l.starts_with("Grand Totals"))
        .take(16)
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() >= 2 {
            if let Ok(n) = words[0].parse::<u64>() {
                totals.insert(words[1].to_string(), n);
            }
            // "14   deferred  (91  deferrals)"
            if words.len() >= 4 && words[3].starts_with("deferrals") {
                totals.insert(
                    "deferrals".into(),
                    words[2].trim_start_matches('(').parse().unwrap_or(0),
                );
            }
        }
    }
    totals
}

fn ours(args: &[&Path], extra: &[&str]) -> serde_json::Value {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    let st = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .arg("analyze")
        .args(args)
        .args(extra)
        .arg("--quiet")
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn grand_totals_agree_on_logs_without_a_content_filter() {
    let Some(pfl) = pflogsumm() else { return };
    let mut checked = 0;
    for name in ["mail.log", "mail2.log", "mail3.log"] {
        let Some(log) = corpus(&format!("public/kdent-postfix-log-analysis/{name}")) else {
            continue;
        };
        let text = std::fs::read(&log).unwrap();
        let theirs = grand_totals(&pfl, &text);
        let s = ours(&[&log], &["--year", "2015"]);
        let t = &s["totals"];
        assert_eq!(t["received"], theirs["received"], "{name} received");
        assert_eq!(t["delivered"], theirs["delivered"], "{name} delivered");
        assert_eq!(
            t["deferral_events"], theirs["deferrals"],
            "{name} deferrals"
        );
        assert_eq!(
            t["deferred_messages"], theirs["deferred"],
            "{name} deferred messages"
        );
        assert_eq!(t["bounced"], theirs["bounced"], "{name} bounced");
        assert_eq!(t["rejected"], theirs["rejected"], "{name} rejected");
        checked += 1;
    }
    if checked == 0 {
        eprintln!("skipping: no kdent logs");
    }
}

#[test]
fn pflogsumm_double_counts_what_passed_the_content_filter() {
    let Some(pfl) = pflogsumm() else { return };
    let Some(logs) = corpus("lab-1/logs") else {
        return;
    };
    let mut text = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort_by_key(|p| (p.extension().is_none(), p.clone()));
    for p in &names {
        use std::io::Read;
        let bytes = std::fs::read(p).unwrap();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_end(&mut text)
                .unwrap();
        } else {
            text.extend_from_slice(&bytes);
        }
    }
    let theirs = grand_totals(&pfl, &text);
    let s = ours(&[&logs], &[]);
    let t = &s["totals"];
    let reinjected = String::from_utf8_lossy(&text)
        .lines()
        .filter(|l| l.contains(": client=localhost[127.0.0.1]"))
        .count() as u64;
    assert!(reinjected > 0);
    // pflogsumm counts each message twice: once from the client, once from
    // the filter's re-injection.
    assert_eq!(
        theirs["received"],
        t["received"].as_u64().unwrap() + reinjected
    );
    // Its `delivered` includes the hand-offs to the filter (port 10024).
    let handoffs = String::from_utf8_lossy(&text)
        .lines()
        .filter(|l| l.contains("status=sent") && l.contains("relay=127.0.0.1[127.0.0.1]:10024"))
        .count() as u64;
    assert_eq!(
        theirs["delivered"],
        t["delivered"].as_u64().unwrap() + handoffs
    );
    assert_eq!(t["deferral_events"], theirs["deferrals"]);
    assert_eq!(t["bounced"], theirs["bounced"]);
}
