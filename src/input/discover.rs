//! Finding the inputs: files and folders to sources, each rotation series
//! ordered oldest first, kinds told apart by content.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::{Discovery, Skipped, Source, SourceKind};
use crate::error::Error;

/// Folders below a given one that are searched for logs.
const MAX_DEPTH: usize = 8;

/// How a file name places it in its rotation series.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RotationKey {
    base: String,
    /// 0: numbered (`.3` oldest first), 1: dated, 2: the live file.
    class: u8,
    value: i64,
}

fn rotation_key(name: &str) -> RotationKey {
    let stem = name.strip_suffix(".gz").unwrap_or(name);
    // Debian: mail.log.3
    if let Some((base, n)) = stem.rsplit_once('.') {
        if !n.is_empty() && n.len() <= 4 && n.bytes().all(|c| c.is_ascii_digit()) {
            return RotationKey {
                base: base.to_string(),
                class: 0,
                value: -n.parse::<i64>().unwrap_or(0),
            };
        }
    }
    // RHEL dateext (maillog-20260103) and postfix logrotate
    // (maillog.20260103-101112).
    // Bytes, not chars: a name may hold any UTF-8 (`maillog-été`), and a
    // separator is ASCII, so `i` and `i + 1` are always char boundaries.
    let sb = stem.as_bytes();
    let date_at = (0..sb.len()).find(|&i| {
        matches!(sb[i], b'-' | b'.')
            && sb.len() - i > 8
            && sb[i + 1..i + 9].iter().all(u8::is_ascii_digit)
    });
    if let Some(i) = date_at {
        let digits: String = stem[i + 1..]
            .chars()
            .filter(char::is_ascii_digit)
            .take(14)
            .collect();
        let mut v: i64 = digits.parse().unwrap_or(0);
        for _ in digits.len()..14 {
            v *= 10;
        }
        return RotationKey {
            base: stem[..i].to_string(),
            class: 1,
            value: v,
        };
    }
    RotationKey {
        base: stem.to_string(),
        class: 2,
        value: 0,
    }
}

/// Names worth opening inside a folder: logs and queue dumps.
fn folder_candidate(name: &str) -> Result<(), &'static str> {
    if name.starts_with('.') {
        return Err("hidden file");
    }
    Ok(())
}

/// rsyslog's severity files beside `mail.log` (`mail.warn`, `mail.err.1`,
/// `mail.info.2.gz`): severity subsets of it as long as their rotations
/// line up, which they need not. Read after the other inputs, each of
/// their lines only when no other input holds it (`overlap`).
pub fn is_severity_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let stem = lower.strip_suffix(".gz").unwrap_or(&lower);
    let stem = stem.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-');
    ["mail.warn", "mail.err", "mail.info"].contains(&stem)
}

const SNIFF: usize = 64 * 1024;

/// The first bytes of a file, decompressed if it is gzip.
fn sniff(path: &Path) -> io::Result<(Vec<u8>, bool)> {
    let mut f = File::open(path)?;
    let mut head = vec![0u8; SNIFF];
    let mut n = 0;
    while n < head.len() {
        let r = f.read(&mut head[n..])?;
        if r == 0 {
            break;
        }
        n += r;
    }
    head.truncate(n);
    if head.starts_with(&[0x1f, 0x8b]) {
        let mut dec = super::gzip::GzReader::new(File::open(path)?);
        let mut out = vec![0u8; SNIFF];
        let mut m = 0;
        while m < out.len() {
            match dec.read(&mut out[m..]) {
                Ok(0) => break,
                Ok(r) => m += r,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Nothing readable at all: say so, not "empty file".
                Err(e) if m == 0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("gzip data unreadable from its start ({e}); re-copy the file (`gzip -t` checks a copy)"),
                    ))
                }
                // A truncated gzip still has a readable start.
                Err(_) => break,
            }
        }
        out.truncate(m);
        return Ok((out, true));
    }
    Ok((head, false))
}

/// Judges content: a maillog has syslog-stamped lines, a queue dump has
/// postqueue's shapes.
pub fn detect_kind(head: &[u8]) -> Option<SourceKind> {
    let first = crate::parse::lines(head).find(|l| !l.trim_ascii().is_empty());
    if let Some(l) = first {
        if l.starts_with(b"{") && memchr::memmem::find(l, b"\"__REALTIME_TIMESTAMP\"").is_some() {
            return Some(SourceKind::JournalJson);
        }
    }
    if let Some(k) = crate::parse::queue::detect(head) {
        return Some(match k {
            crate::parse::queue::DumpKind::Text => SourceKind::QueueText,
            crate::parse::queue::DumpKind::Json => SourceKind::QueueJson,
        });
    }
    let mut seen = 0;
    let mut stamped = 0;
    for line in crate::parse::lines(head).take(200) {
        if line.is_empty() {
            continue;
        }
        seen += 1;
        if crate::parse::syslog::parse_header(line).is_some() {
            stamped += 1;
        }
    }
    // Some logs carry foreign lines (Roundcube, editors' marks): a third
    // stamped is enough to call it a log; the rest is counted later.
    if stamped > 0 && stamped * 3 >= seen {
        Some(SourceKind::Maillog)
    } else {
        None
    }
}

/// Collects the candidate files of a folder and its subfolders. Links to
/// folders are not followed, so a link loop cannot trap the walk.
fn walk(
    dir: &Path,
    depth: usize,
    found: &mut Vec<(PathBuf, RotationKey, PathBuf)>,
    d: &mut Discovery,
) {
    if depth > MAX_DEPTH {
        d.skipped.push(Skipped {
            path: dir.to_path_buf(),
            reason: format!("more than {MAX_DEPTH} folders deep: not read (name it to read it)"),
        });
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            d.errors.push(Error::io(dir, e));
            return;
        }
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(lmeta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if lmeta.is_dir() {
            if name.starts_with('.') {
                d.skipped.push(Skipped {
                    path,
                    reason: "hidden folder: not read (name it to read it)".into(),
                });
            } else {
                walk(&path, depth + 1, found, d);
            }
            continue;
        }
        let is_file = std::fs::metadata(&path)
            .map(|m| m.is_file())
            .unwrap_or(false);
        if !is_file {
            if lmeta.file_type().is_symlink() {
                d.skipped.push(Skipped {
                    path,
                    reason: "a link to a folder or to nothing: not followed".into(),
                });
            }
            continue;
        }
        if let Err(why) = folder_candidate(&name) {
            d.skipped.push(Skipped {
                path,
                reason: why.to_string(),
            });
            continue;
        }
        found.push((path, rotation_key(&name), dir.to_path_buf()));
    }
}

/// Finds the inputs under `paths` (files, folders, `-`).
pub fn discover(paths: &[PathBuf]) -> Discovery {
    let mut d = Discovery::default();
    let mut found: Vec<(PathBuf, RotationKey, PathBuf)> = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            d.sources.push(Source {
                path: p.clone(),
                kind: SourceKind::Maillog,
                compressed: false,
                bytes: 0,
                mtime: None,
                series: 0,
                live: true,
                severity_file: false,
            });
            continue;
        }
        let meta = match std::fs::metadata(p) {
            Ok(m) => m,
            Err(e) => {
                d.errors.push(Error::io(p, e));
                continue;
            }
        };
        if meta.is_dir() {
            let before = found.len();
            walk(p, 0, &mut found, &mut d);
            if found.len() == before {
                d.skipped.push(Skipped {
                    path: p.clone(),
                    reason: "folder holds no log files".into(),
                });
            }
        } else {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let parent = p.parent().map(Path::to_path_buf).unwrap_or_default();
            found.push((p.clone(), rotation_key(&name), parent));
        }
    }
    found.sort_by(|a, b| (&a.2, &a.1).cmp(&(&b.2, &b.1)).then(a.0.cmp(&b.0)));
    found.dedup_by(|a, b| a.0 == b.0);
    let mut series_of: Vec<(PathBuf, String)> = Vec::new();
    for (path, key, folder) in found {
        // A pipe (`analyze <(journalctl ...)`) cannot be read twice: what a
        // sniff took would be lost, and a second open waits for a writer
        // for ever. Read it once, as a plain maillog, like stdin.
        let regular = std::fs::metadata(&path).map_or(true, |m| m.is_file());
        let sniffed = if regular {
            sniff(&path)
        } else {
            Ok((Vec::new(), false))
        };
        let (head, compressed) = match sniffed {
            Ok(x) => x,
            Err(e) => {
                d.errors.push(Error::io(&path, e));
                continue;
            }
        };
        let detected = if regular {
            detect_kind(&head)
        } else {
            Some(SourceKind::Maillog)
        };
        let Some(kind) = detected else {
            let reason = if head.is_empty() {
                "empty file".to_string()
            } else {
                "not a maillog or queue dump (no syslog-stamped lines at its start)".to_string()
            };
            d.skipped.push(Skipped { path, reason });
            continue;
        };
        let meta = std::fs::metadata(&path).ok();
        let severity_file = path
            .file_name()
            .is_some_and(|n| is_severity_file(&n.to_string_lossy()));
        let series_key = (folder, key.base.clone());
        let series = match series_of.iter().position(|s| *s == series_key) {
            Some(i) => i as u32 + 1,
            None => {
                series_of.push(series_key);
                series_of.len() as u32
            }
        };
        d.sources.push(Source {
            path,
            kind,
            compressed,
            bytes: meta.as_ref().map_or(0, |m| m.len()),
            mtime: meta.and_then(|m| m.modified().ok()),
            series,
            live: (key.class == 2 || !regular) && !compressed,
            severity_file,
        });
    }
    // Severity files last: their lines are compared with the others'.
    d.sources.sort_by_key(|s| s.severity_file);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keys() {
        assert!(rotation_key("mail.log.2.gz") < rotation_key("mail.log.1"));
        assert!(rotation_key("mail.log.1") < rotation_key("mail.log"));
        assert!(rotation_key("maillog-20251227") < rotation_key("maillog-20260103.gz"));
        assert!(rotation_key("maillog-20260103.gz") < rotation_key("maillog"));
        assert!(
            rotation_key("maillog.20261128-183500.gz") < rotation_key("maillog.20261128-184002.gz")
        );
        assert!(rotation_key("maillog.20261128-185500.gz") < rotation_key("maillog"));
    }

    #[test]
    fn rotation_keys_of_non_ascii_names() {
        // Used to slice inside `é` and panic.
        assert_eq!(rotation_key("maillog-été").class, 2);
        assert_eq!(rotation_key("почта-20260103.gz").base, "почта");
        assert!(rotation_key("почта-20260103.gz") < rotation_key("почта"));
    }

    #[test]
    fn severity_files_are_read_after_the_others() {
        assert!(is_severity_file("mail.warn"));
        assert!(is_severity_file("mail.err.1"));
        assert!(is_severity_file("mail.info.2.gz"));
        assert!(!is_severity_file("mail.log.2.gz"));
        assert!(!is_severity_file("mail.warnings"));
        let dir = tempfile::tempdir().unwrap();
        let line = "Nov 28 10:00:00 mx1 postfix/qmgr[1]: ABCDEF0123: removed\n";
        for name in ["mail.err", "mail.log", "mail.warn.1"] {
            std::fs::write(dir.path().join(name), line).unwrap();
        }
        let d = discover(&[dir.path().to_path_buf()]);
        let names: Vec<String> = d
            .sources
            .iter()
            .map(|s| s.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["mail.log", "mail.err", "mail.warn.1"]);
        assert!(d.skipped.is_empty(), "{:?}", d.skipped);
    }

    #[test]
    fn deep_and_hidden_folders_are_reported_not_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let mut deep = dir.path().to_path_buf();
        for i in 0..=MAX_DEPTH + 1 {
            deep.push(format!("d{i}"));
        }
        std::fs::create_dir_all(&deep).unwrap();
        let line = "Nov 28 10:00:00 mx1 postfix/qmgr[1]: ABCDEF0123: removed\n";
        std::fs::write(deep.join("mail.log"), line).unwrap();
        let hidden = dir.path().join(".old");
        std::fs::create_dir(&hidden).unwrap();
        std::fs::write(hidden.join("mail.log"), line).unwrap();
        std::fs::write(dir.path().join("mail.log"), line).unwrap();
        let d = discover(&[dir.path().to_path_buf()]);
        assert_eq!(d.sources.len(), 1);
        let reasons: Vec<&str> = d.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert!(
            reasons.iter().any(|r| r.contains("folders deep")),
            "{reasons:?}"
        );
        assert!(
            reasons.iter().any(|r| r.contains("hidden folder")),
            "{reasons:?}"
        );
    }
}
