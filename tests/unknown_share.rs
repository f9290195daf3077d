//! How many deferral, bounce and expiry texts stay `unknown`, per file, on
//! the corpus the rules were written from and on a check set kept out of
//! rule writing.
//!
//! The check set is four folders of `../shared/corpus/public2` that were
//! not read while the rules were written: `kai0200-sohu-emaillog`,
//! `pixelpark-postfix-logsums`, `juliepradelli-link` and
//! `oleg-medovikov-mail-server-anal`. The tuning set is the rest of
//! `public2`, all of `public` and `lab-1`. Both are measured the same way
//! and printed apart (`cargo test --test unknown_share -- --nocapture`);
//! only shares are printed for the check set, never its texts. With
//! `UNKNOWN_TEXTS=1` the tuning set's unknown texts are listed, to grow the
//! table. Skipped when the corpus is absent.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use postmortem::classify::{normalise, Cause, Classifier};

const CHECK_SET: [&str; 4] = [
    "kai0200-sohu-emaillog",
    "pixelpark-postfix-logsums",
    "juliepradelli-link",
    "oleg-medovikov-mail-server-anal",
];

#[path = "common/corpus.rs"]
mod shared;

fn corpus() -> Option<PathBuf> {
    shared::corpus("")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn read(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap_or_default();
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        let mut d = flate2::read::MultiGzDecoder::new(&raw[..]);
        if d.read_to_end(&mut out).is_ok() {
            return out;
        }
    }
    raw
}

/// The reason texts of a file: `status=deferred|bounced|expired|SOFTBOUNCE`
/// lines, and in a queue listing its reasons (a line that is one
/// parenthesised text).
fn reasons(text: &str, listing: bool) -> Vec<&str> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut found = false;
        for status in [
            "status=deferred",
            "status=bounced",
            "status=expired",
            "status=SOFTBOUNCE",
        ] {
            if let Some(at) = line.find(status) {
                let rest = &line[at + status.len()..];
                if let Some(open) = rest.find('(') {
                    let body = &rest[open + 1..];
                    let end = body.rfind(')').unwrap_or(body.len());
                    out.push(body[..end].trim());
                }
                found = true;
                break;
            }
        }
        if found {
            continue;
        }
        let t = line.trim();
        if listing && t.starts_with('(') && t.ends_with(')') {
            out.push(&t[1..t.len() - 1]);
        }
    }
    out
}

#[derive(Default)]
struct Tally {
    texts: u64,
    unknown: u64,
}

fn share(t: &Tally) -> f64 {
    if t.texts == 0 {
        0.0
    } else {
        t.unknown as f64 * 100.0 / t.texts as f64
    }
}

#[test]
fn unknown_share_per_file_on_the_tuning_and_the_check_set() {
    let Some(root) = corpus() else {
        return;
    };
    let classifier = Classifier::builtin();
    let mut files = Vec::new();
    for sub in ["lab-1", "public", "public2"] {
        walk(&root.join(sub), &mut files);
    }
    // The corpus's own descriptions are not logs.
    files.retain(|p| p.extension().is_none_or(|e| e != "md"));
    files.sort();
    let list_texts = std::env::var_os("UNKNOWN_TEXTS").is_some();
    let mut per_file: BTreeMap<(bool, String), Tally> = BTreeMap::new();
    let mut unknown_texts: BTreeMap<String, u64> = BTreeMap::new();
    for path in &files {
        let rel = path.strip_prefix(&root).unwrap().display().to_string();
        let check = rel.starts_with("public2/") && CHECK_SET.iter().any(|c| rel.contains(c));
        let bytes = read(path);
        let listing = postmortem::parse::queue::detect(&bytes)
            == Some(postmortem::parse::queue::DumpKind::Text);
        let text = String::from_utf8_lossy(&bytes);
        for reason in reasons(&text, listing) {
            let t = per_file.entry((check, rel.clone())).or_default();
            t.texts += 1;
            if classifier.classify(reason).cause == Cause::Unknown {
                t.unknown += 1;
                if !check && list_texts {
                    *unknown_texts.entry(normalise(reason)).or_default() += 1;
                }
            }
        }
    }
    let mut sets: BTreeMap<&str, Tally> = BTreeMap::new();
    for ((check, file), t) in &per_file {
        let set = match (check, file.starts_with("public2/")) {
            (true, _) => "check (public2)",
            (false, true) => "tuning (public2)",
            (false, false) => "tuning (public, lab-1)",
        };
        eprintln!(
            "{set:<24} {file:<90} {:>6} texts {:>5} unknown {:>6.2}%",
            t.texts,
            t.unknown,
            share(t)
        );
        let s = sets.entry(set).or_default();
        s.texts += t.texts;
        s.unknown += t.unknown;
    }
    for (set, t) in &sets {
        eprintln!(
            "{set:<24} overall: {} texts, {} unknown = {:.2}%",
            t.texts,
            t.unknown,
            share(t)
        );
    }
    for (text, n) in &unknown_texts {
        eprintln!("{n:>6}  {text}");
    }
    let check = &sets["check (public2)"];
    assert!(check.texts > 100, "the check set holds reason texts");
    assert!(
        share(check) < 1.0,
        "{} of {} check-set texts are unknown",
        check.unknown,
        check.texts
    );
    let tuning = &sets["tuning (public2)"];
    assert!(share(tuning) < 1.0, "tuning public2: {:.2}%", share(tuning));
}
