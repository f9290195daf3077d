//! The same logs give the same findings however they are read: with one
//! worker or several, and from a memory-mapped rotated file or a live file
//! read through a buffer.

use std::io::Read;
use std::path::Path;
use std::process::Command;

mod common;

fn analyze(inputs: &[&Path], out: &Path, extra: &[&str]) -> serde_json::Value {
    let o = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .arg("analyze")
        .args(inputs)
        .arg("--out")
        .arg(out)
        .args(["--quiet", "--timezone", "UTC"])
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    strip_paths(&mut v);
    v
}

/// File names and paths differ between the runs by design (the runbook
/// names the log paths in its commands).
fn strip_paths(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for key in ["inputs", "file", "path", "year_source", "runbook"] {
                m.remove(key);
            }
            m.values_mut().for_each(strip_paths);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_paths),
        _ => {}
    }
}

/// The lab's rotations as one plain text, oldest first.
fn lab_text() -> Vec<u8> {
    let logs = common::run::lab_dir().join("logs");
    let mut names: Vec<_> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    // `maillog.<stamp>.gz` sort oldest first; the live `maillog` is last.
    names.sort_by_key(|n| (n == "maillog", n.clone()));
    let mut all = Vec::new();
    for n in names {
        let bytes = std::fs::read(logs.join(&n)).unwrap();
        if n.ends_with(".gz") {
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_end(&mut all)
                .unwrap();
        } else {
            all.extend_from_slice(&bytes);
        }
    }
    all
}

/// The lab's lines as if ten hosts had logged them: about 37 MB, so the
/// reader cuts it into several 16 MiB blocks that workers parse apart.
fn ten_hosts(text: &[u8]) -> Vec<u8> {
    let mut all = Vec::with_capacity(text.len() * 10);
    for h in 0..10 {
        for line in text.split_inclusive(|b| *b == b'\n') {
            // `Nov 28 18:30:03 mail postfix/...`: the host is the 4th field.
            let at = line.iter().take(40).position(|b| *b == b'm');
            match at {
                Some(i) if line[i..].starts_with(b"mail ") => {
                    all.extend_from_slice(&line[..i + 4]);
                    all.extend_from_slice(format!("{h}").as_bytes());
                    all.extend_from_slice(&line[i + 4..]);
                }
                _ => all.extend_from_slice(line),
            }
        }
    }
    all
}

#[test]
fn one_worker_or_two_give_the_same_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("maillog.1");
    let text = ten_hosts(&lab_text());
    assert!(text.len() > 2 * 16 * 1024 * 1024, "{} bytes", text.len());
    std::fs::write(&log, &text).unwrap();
    let one = analyze(&[&log], &tmp.path().join("j1"), &["--jobs", "1"]);
    let two = analyze(&[&log], &tmp.path().join("j2"), &["--jobs", "2"]);
    assert!(one["totals"]["delivered"].as_u64().unwrap() > 0);
    assert!(one["suspects"].as_array().unwrap().len() >= 2);
    assert_eq!(one, two);
}

#[test]
fn mapped_and_read_files_give_the_same_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let text = lab_text();
    // A numbered rotation is mapped; a file named like the live log is
    // read through a buffer (it may grow or be cut while read).
    let rotated = tmp.path().join("a").join("maillog.1");
    let live = tmp.path().join("b").join("maillog");
    for p in [&rotated, &live] {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, &text).unwrap();
    }
    let mapped = analyze(&[&rotated], &tmp.path().join("ra"), &[]);
    let read = analyze(&[&live], &tmp.path().join("rb"), &[]);
    assert!(mapped["lines"]["total"].as_u64().unwrap() > 5000);
    assert_eq!(mapped, read);
}
