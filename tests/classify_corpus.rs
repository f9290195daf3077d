//! Every reason text in the shared corpus gets a cause.
//!
//! Walks ../shared/corpus (plain files and .gz), takes the reason text of
//! every `status=deferred|bounced|expired` line and every `delivery
//! temporarily suspended` text, and classifies it. Fewer than 1% of the
//! deferral events may stay `unknown`; the unknown texts are printed,
//! normalised and counted, so the table can grow. The check set of
//! `public2` is left out (it is measured apart). Skipped when the corpus is
//! absent.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use postmortem::classify::{normalise, Cause, Classifier};
use postmortem::correlate::cached_verdict;

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

/// Every file of the corpus but the check set kept out of rule writing
/// (see `tests/unknown_share.rs`, which measures it), in a stable order.
fn corpus_files() -> Option<Vec<PathBuf>> {
    const CHECK_SET: [&str; 4] = [
        "kai0200-sohu-emaillog",
        "pixelpark-postfix-logsums",
        "juliepradelli-link",
        "oleg-medovikov-mail-server-anal",
    ];
    let mut files = Vec::new();
    walk(&corpus()?, &mut files);
    files.retain(|p| !CHECK_SET.iter().any(|c| p.to_string_lossy().contains(c)));
    files.sort();
    Some(files)
}

fn read(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap_or_default();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        let mut d = flate2::read::MultiGzDecoder::new(&raw[..]);
        if d.read_to_end(&mut out).is_ok() {
            return out;
        }
    }
    raw
}

/// The reason text of a line, and whether the line is a deferral event.
fn reason(line: &str) -> Option<(&str, bool)> {
    for status in ["status=deferred", "status=bounced", "status=expired"] {
        if let Some(at) = line.find(status) {
            let rest = &line[at + status.len()..];
            let open = rest.find('(')?;
            let body = &rest[open + 1..];
            let end = body.rfind(')').unwrap_or(body.len());
            return Some((&body[..end], status == "status=deferred"));
        }
    }
    // Queue listings and the like: the text runs to the closing parenthesis.
    let at = line.find("delivery temporarily suspended")?;
    let body = &line[at..];
    let end = body.rfind(')').unwrap_or(body.len());
    Some((&body[..end], false))
}

#[test]
fn unknown_is_under_one_percent_of_deferrals() {
    let Some(files) = corpus_files() else {
        return;
    };
    let classifier = Classifier::builtin();
    let mut cache: HashMap<String, Cause> = HashMap::new();
    // CLASSIFY_DUMP=1 prints every distinct normalised text with its rule,
    // to review the table by eye.
    let dump = std::env::var_os("CLASSIFY_DUMP").is_some();
    let mut seen: HashMap<String, (String, u64)> = HashMap::new();
    let (mut texts, mut deferrals, mut unknown_deferrals) = (0u64, 0u64, 0u64);
    let mut by_cause: HashMap<Cause, u64> = HashMap::new();
    let mut unknown: HashMap<String, u64> = HashMap::new();
    for path in &files {
        let bytes = read(path);
        let text = String::from_utf8_lossy(&bytes);
        for line in text.lines() {
            let Some((reason, is_deferral)) = reason(line) else {
                continue;
            };
            let reason = reason.trim();
            let cause = *cache
                .entry(reason.to_string())
                .or_insert_with(|| classifier.classify(reason).cause);
            if dump {
                let e = seen.entry(normalise(reason)).or_insert_with(|| {
                    let v = classifier.classify(reason);
                    (format!("{} {}", v.cause.id(), v.rule), 0)
                });
                e.1 += 1;
            }
            texts += 1;
            *by_cause.entry(cause).or_default() += 1;
            if is_deferral {
                deferrals += 1;
            }
            if cause == Cause::Unknown {
                *unknown.entry(normalise(reason)).or_default() += 1;
                if is_deferral {
                    unknown_deferrals += 1;
                }
            }
        }
    }
    let mut seen: Vec<_> = seen.into_iter().collect();
    seen.sort_by(|a, b| a.1 .0.cmp(&b.1 .0).then_with(|| b.1 .1.cmp(&a.1 .1)));
    for (t, (rule, n)) in &seen {
        eprintln!("{rule}\t{n}\t{t}");
    }
    let mut causes: Vec<_> = by_cause.into_iter().collect();
    causes.sort_by_key(|c| std::cmp::Reverse(c.1));
    eprintln!(
        "{texts} reason texts in {} files, {deferrals} deferrals",
        files.len()
    );
    for (c, n) in &causes {
        eprintln!("{n:>7} {}", c.id());
    }
    let mut unknown: Vec<_> = unknown.into_iter().collect();
    unknown.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    eprintln!("unknown texts ({} distinct):", unknown.len());
    for (t, n) in &unknown {
        eprintln!("{n:>6}  {t}");
    }
    assert!(
        deferrals > 1000,
        "the corpus should hold deferrals, found {deferrals}"
    );
    let share = unknown_deferrals as f64 / deferrals as f64;
    eprintln!(
        "unknown deferrals: {unknown_deferrals}/{deferrals} = {:.2}%",
        share * 100.0
    );
    assert!(
        share < 0.01,
        "{unknown_deferrals} of {deferrals} deferrals are unknown"
    );
}

/// The pipeline classifies a text through a cache keyed by its shape
/// (addresses, IPs and ids masked). For every reason text in the corpus the
/// cached verdict, with the text's own IPs put back, must be the verdict of
/// the text alone: cause, list, remote host and port, codes, listed IP.
#[test]
fn cached_verdicts_equal_direct_classification() {
    let Some(files) = corpus_files() else {
        return;
    };
    let classifier = Classifier::builtin();
    let mut checked = std::collections::HashSet::new();
    let mut differ = Vec::new();
    for path in &files {
        let bytes = read(path);
        let text = String::from_utf8_lossy(&bytes);
        for line in text.lines() {
            let Some((reason, _)) = reason(line) else {
                continue;
            };
            let reason = reason.trim();
            if !checked.insert(reason.to_string()) {
                continue;
            }
            let direct = classifier.classify(reason);
            let cached =
                cached_verdict(reason.as_bytes(), &classifier).verdict_for(reason.as_bytes());
            if (direct.cause, &direct.detail) != (cached.cause, &cached.detail) {
                differ.push(format!(
                    "{reason}\n  direct {:?} {:?}\n  cached {:?} {:?}",
                    direct.cause, direct.detail, cached.cause, cached.detail
                ));
            }
        }
    }
    eprintln!("{} distinct reason texts checked", checked.len());
    assert!(checked.len() > 1000, "too few texts: {}", checked.len());
    assert!(
        differ.is_empty(),
        "{} differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
}
