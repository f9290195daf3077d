//! Lines two inputs both hold, read once.
//!
//! rsyslog on Debian writes `mail.warn`, `mail.err` (and sometimes
//! `mail.info`) beside `mail.log`: severity subsets of it, as long as their
//! rotations line up. They often do not (a `mail.warn.3.gz` may reach back
//! weeks before the oldest `mail.log`), and a fatal error that exists only
//! there must not be lost. So a severity file is read after the other
//! inputs, and each of its lines is skipped only when another input held
//! the very same line (by content: a 64-bit hash of the line).
//!
//! How: the severity files' lines are hashed first into a table; while the
//! other inputs are parsed, each of their lines that is in the table is
//! marked as held; then the severity files are parsed, and a line marked by
//! another input is skipped and counted. A line that two severity files
//! hold (`mail.err` is a subset of `mail.warn`) is read from the first.

use std::hash::Hasher;
use std::io::BufRead;
use std::sync::atomic::{AtomicU32, Ordering};

use rustc_hash::FxHashMap;

use super::Source;

/// Distinct severity-file lines compared at most (about 200 MB of table);
/// past it the severity files' lines are taken to be in the other inputs,
/// as rsyslog writes them, and the report says so.
pub const OVERLAP_MAX: usize = 8_000_000;

/// The severity files' lines, and which input held each first.
#[derive(Debug, Default)]
pub struct Overlap {
    /// Too many lines to compare: every severity-file line is skipped.
    skip_all: bool,
    slots: FxHashMap<u64, u32>,
    /// Per slot: 0, or the index + 1 of the first input that held the line.
    holder: Vec<AtomicU32>,
}

/// The hash a line is compared by: its bytes without the line end and
/// without a leading run of NULs (as the parser reads it).
pub fn line_hash(line: &[u8]) -> u64 {
    let line = match line.iter().position(|&c| c != 0) {
        Some(p) => &line[p..],
        None => &line[line.len()..],
    };
    let mut h = rustc_hash::FxHasher::default();
    h.write(line);
    h.write_usize(line.len());
    h.finish()
}

impl Overlap {
    /// Hashes every line of the severity files among `sources`. `None`
    /// when there is nothing to compare (no severity file, or no other
    /// input). Past [`OVERLAP_MAX`] lines, or when a severity file cannot
    /// be read, its lines are all skipped and the reason is given.
    pub fn build(sources: &[Source]) -> (Option<Overlap>, Option<String>) {
        Self::build_up_to(sources, OVERLAP_MAX)
    }

    fn build_up_to(sources: &[Source], max: usize) -> (Option<Overlap>, Option<String>) {
        match Self::compare(sources, max) {
            Ok(o) => (o, None),
            Err(why) => (
                Some(Overlap {
                    skip_all: true,
                    ..Overlap::default()
                }),
                Some(why),
            ),
        }
    }

    fn compare(sources: &[Source], max: usize) -> Result<Option<Overlap>, String> {
        let others = sources.iter().any(|s| !s.severity_file);
        if !others || !sources.iter().any(|s| s.severity_file) {
            return Ok(None);
        }
        let mut slots: FxHashMap<u64, u32> = FxHashMap::default();
        for s in sources.iter().filter(|s| s.severity_file) {
            let mut r = open(s).map_err(|e| format!("{}: {e}", s.display()))?;
            let mut line = Vec::new();
            loop {
                line.clear();
                match r.read_until(b'\n', &mut line) {
                    Ok(0) => break,
                    Ok(_) => {}
                    // A cut gzip: what was read is compared; the reader
                    // reports the cut.
                    Err(_) => break,
                }
                let mut l = line.strip_suffix(b"\n").unwrap_or(&line);
                l = l.strip_suffix(b"\r").unwrap_or(l);
                if l.is_empty() {
                    continue;
                }
                let next = slots.len() as u32;
                slots.entry(line_hash(l)).or_insert(next);
                if slots.len() > max {
                    return Err(format!(
                        "the severity files (mail.warn, mail.err, mail.info) hold more than {max} lines, too many to compare with the other inputs: they were not read (their lines are taken to be in mail.log, as rsyslog writes them); name them alone to read them"
                    ));
                }
            }
        }
        let holder = (0..slots.len()).map(|_| AtomicU32::new(0)).collect();
        Ok(Some(Overlap {
            skip_all: false,
            slots,
            holder,
        }))
    }

    /// A line of input `source` (not a severity file): marks it as held.
    pub fn mark(&self, hash: u64, source: usize) {
        if let Some(&slot) = self.slots.get(&hash) {
            let _ = self.holder[slot as usize].compare_exchange(
                0,
                source as u32 + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }

    /// A line of severity file `source`: whether another input held it
    /// (then it is skipped); otherwise it is this file's from now on.
    pub fn held_elsewhere(&self, hash: u64, source: usize) -> bool {
        if self.skip_all {
            return true;
        }
        let Some(&slot) = self.slots.get(&hash) else {
            return false;
        };
        let me = source as u32 + 1;
        match self.holder[slot as usize].compare_exchange(
            0,
            me,
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            Ok(_) => false,
            Err(other) => other != me,
        }
    }
}

/// Whether a line of a block is read.
pub type KeepLine<'a> = dyn Fn(&[u8]) -> bool + Sync + 'a;

impl Overlap {
    /// The line filter of one input: another input's lines are marked as
    /// held; a severity file's lines are read only when no other input
    /// held them.
    pub fn filter_for(&self, source: usize, severity_file: bool) -> Box<KeepLine<'_>> {
        if severity_file {
            Box::new(move |line| !self.held_elsewhere(line_hash(line), source))
        } else {
            Box::new(move |line| {
                self.mark(line_hash(line), source);
                true
            })
        }
    }
}

/// What became of a severity file's lines, in words: `read` lines only
/// it held, `skipped` another input held too.
pub fn severity_note(s: &Source, read: u64, skipped: u64) -> String {
    let all = read + skipped;
    let name = s.display();
    let lines = |n: u64| {
        if n == 1 {
            "1 line".to_string()
        } else {
            format!("{n} lines")
        }
    };
    if skipped == 0 {
        format!(
            "{name}: a severity file (mail.warn, mail.err, mail.info) whose {} no other input holds: read",
            lines(all)
        )
    } else if read == 0 {
        format!(
            "{name}: a severity file whose {} another input holds too: read once, from there",
            lines(all)
        )
    } else {
        format!(
            "{name}: a severity file of {}: {skipped} another input holds too (read once, from there), {read} only it holds (read)",
            lines(all)
        )
    }
}

/// A file's lines, decompressed when it is gzip.
/// Whether two logs hold the same bytes once decompressed (a rotation given
/// both gzipped and not). Called only for logs whose line counts and spans
/// already agree, so this second read is rare. Stdin, or a file that cannot
/// be read, is never the same as another.
pub fn same_content(a: &Source, b: &Source) -> bool {
    if a.is_stdin() || b.is_stdin() {
        return false;
    }
    let (Ok(mut x), Ok(mut y)) = (open(a), open(b)) else {
        return false;
    };
    loop {
        let (Ok(p), Ok(q)) = (x.fill_buf(), y.fill_buf()) else {
            return false;
        };
        if p.is_empty() || q.is_empty() {
            return p.is_empty() && q.is_empty();
        }
        let n = p.len().min(q.len());
        if p[..n] != q[..n] {
            return false;
        }
        x.consume(n);
        y.consume(n);
    }
}

fn open(s: &Source) -> std::io::Result<Box<dyn BufRead>> {
    let mut f = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&s.path)?);
    let gzip = f.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        Box::new(std::io::BufReader::with_capacity(
            1 << 20,
            super::gzip::GzReader::new(f),
        ))
    } else {
        Box::new(f)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::SourceKind;

    fn source(path: &std::path::Path, severity_file: bool) -> Source {
        Source {
            path: path.to_path_buf(),
            kind: SourceKind::Maillog,
            compressed: false,
            bytes: 0,
            mtime: None,
            series: 1,
            live: false,
            severity_file,
        }
    }

    #[test]
    fn a_line_is_read_from_the_first_input_that_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("mail.log");
        let warn = dir.path().join("mail.warn");
        let err = dir.path().join("mail.err");
        let shared =
            "Sep 26 10:00:00 h postfix/qmgr[1]: fatal: epoll_create: Too many open files in system";
        let own = "Sep 25 10:00:00 h postfix/pickup[2]: error: accept connection: Too many open files in system";
        std::fs::write(&log, format!("{shared}\n")).unwrap();
        std::fs::write(&warn, format!("{shared}\n{own}\n")).unwrap();
        std::fs::write(&err, format!("{own}\n")).unwrap();
        let sources = [source(&log, false), source(&warn, true), source(&err, true)];
        let o = Overlap::build(&sources).0.unwrap();
        o.mark(line_hash(shared.as_bytes()), 0);
        // mail.warn: the shared line was mail.log's, its own is new.
        assert!(o.held_elsewhere(line_hash(shared.as_bytes()), 1));
        assert!(!o.held_elsewhere(line_hash(own.as_bytes()), 1));
        // A repeat inside one file is that file's own.
        assert!(!o.held_elsewhere(line_hash(own.as_bytes()), 1));
        // mail.err: its line was read from mail.warn already.
        assert!(o.held_elsewhere(line_hash(own.as_bytes()), 2));
        // Nothing to compare without another input.
        assert!(Overlap::build(&sources[1..]).0.is_none());
        // Too many lines to compare: a severity file's lines are skipped.
        let (o, why) = Overlap::build_up_to(&sources, 1);
        assert!(why.unwrap().contains("too many to compare"));
        assert!(o.unwrap().held_elsewhere(line_hash(own.as_bytes()), 1));
    }
}
