//! Queue dumps read and merged the one way both `analyze` and `queue` use:
//! gzip or plain, text or JSON, duplicates counted once, the listing's own
//! totals checked, and one dump time chosen and said.
//!
//! The text listing has no date of its own, so the dump time is, best
//! first: `--dump-time`, the newest log line given with it, the file's
//! modification time, the newest arrival in it. A file time far after the
//! newest arrival usually means the file was copied without its time
//! (`cp` without `-p`): that is said, with the newest arrival as the lower
//! bound of the true dump time.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::input::dump::read_dump;
use crate::parse::queue::{self, Declared, DumpKind, DumpTimeSource, QueueDump};
use crate::time::{LogTime, HOUR, MINUTE, SECOND};

/// What the dump time may be taken from.
#[derive(Debug, Clone, Default)]
pub struct DumpClock {
    /// `--dump-time`.
    pub flag: Option<LogTime>,
    /// The newest line of the maillogs read with the dump.
    pub newest_log_line: Option<LogTime>,
    /// The server's zone, for JSON epoch times and file times.
    pub zone: Option<jiff::tz::TimeZone>,
}

/// One dump file read.
#[derive(Debug, Clone)]
pub struct DumpInput {
    pub path: PathBuf,
    pub kind: DumpKind,
    pub compressed: bool,
    pub bytes: u64,
    pub messages: u64,
}

/// The dumps, merged.
#[derive(Debug, Clone)]
pub struct LoadedDumps {
    pub dump: QueueDump,
    pub dump_time: LogTime,
    pub source: DumpTimeSource,
    pub inputs: Vec<DumpInput>,
    /// What could not be read in full: the run is partial.
    pub problems: Vec<String>,
    /// What the reader should know (duplicates, clocks); not partial.
    pub notes: Vec<String>,
}

/// A file time this far after the newest arrival says "copied".
const COPIED_GAP: i64 = 2 * HOUR;

/// Reads and merges `paths`. An error only when none of them is a dump.
pub fn load_dumps(paths: &[PathBuf], clock: &DumpClock) -> Result<LoadedDumps> {
    let mut merged = QueueDump::default();
    let (mut problems, mut notes, mut inputs) = (Vec::new(), Vec::new(), Vec::new());
    let mut seen = HashSet::new();
    let mut duplicates = 0u64;
    let mut chosen: Option<(LogTime, DumpTimeSource)> = None;
    let mut newest_mtime: Option<LogTime> = None;
    for path in paths {
        let file = match read_dump(path) {
            Ok(f) => f,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        if let Some(e) = &file.cut {
            problems.push(format!("{e}; the messages before that point were read"));
        }
        let Some(kind) = queue::detect(&file.bytes) else {
            problems.push(format!(
                "{}: not a queue dump (expected `postqueue -p` text or `postqueue -j` JSON lines): skipped",
                path.display()
            ));
            continue;
        };
        let mtime = file
            .mtime
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| queue::json::epoch_to_wall(d.as_secs() as i64, clock.zone.as_ref()));
        newest_mtime = newest_mtime.max(mtime);
        let (reference, source) = reference(clock, mtime);
        let dump = match kind {
            DumpKind::Text => queue::parse_text(&file.bytes, reference),
            DumpKind::Json => queue::parse_json_in_zone(&file.bytes, clock.zone.as_ref()),
        };
        for p in &dump.problems {
            problems.push(format!("{}:{}: {}", path.display(), p.line, p.message));
        }
        if let Some(n) = &dump.weekday_note {
            notes.push(format!("{}: {n}", path.display()));
        }
        inputs.push(DumpInput {
            path: path.clone(),
            kind,
            compressed: file.compressed,
            bytes: file.bytes.len() as u64,
            messages: dump.messages.len() as u64,
        });
        if chosen.is_none_or(|(t, s)| s == source && reference > t) {
            chosen = Some((reference, source));
        }
        duplicates += merge(&mut merged, dump, &mut seen);
    }
    if inputs.is_empty() {
        return Err(Error::Usage(if problems.is_empty() {
            "no queue dump given; save one with `postqueue -p > queue.txt` or `postqueue -j > queue.jsonl`".into()
        } else {
            problems.join("\n")
        }));
    }
    if duplicates > 0 {
        notes.push(format!(
            "{duplicates} queue ids appeared in more than one dump and were counted once"
        ));
    }
    let (mut dump_time, mut source) = chosen.expect("one input read");
    let newest = merged.newest_arrival();
    if source == DumpTimeSource::NewestArrival {
        dump_time = newest.unwrap_or(dump_time);
    }
    clock_notes(&mut notes, dump_time, source, newest, newest_mtime);
    if let Some(n) = newest {
        if source == DumpTimeSource::FileMtime && dump_time.0 - n.0 > COPIED_GAP {
            // A copy's time would make every age too long by hours: the
            // newest arrival is the surer bound.
            (dump_time, source) = (n, DumpTimeSource::NewestArrival);
        }
    }
    Ok(LoadedDumps {
        dump: merged,
        dump_time,
        source,
        inputs,
        problems,
        notes,
    })
}

/// The reference time of one file: the best source available.
fn reference(clock: &DumpClock, mtime: Option<LogTime>) -> (LogTime, DumpTimeSource) {
    match (clock.flag, clock.newest_log_line, mtime) {
        (Some(t), _, _) => (t, DumpTimeSource::Flag),
        (None, Some(t), _) => (t, DumpTimeSource::NewestLogLine),
        (None, None, Some(t)) => (t, DumpTimeSource::FileMtime),
        (None, None, None) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            (
                queue::json::epoch_to_wall(now, clock.zone.as_ref())
                    .unwrap_or(LogTime(now * SECOND)),
                DumpTimeSource::NewestArrival,
            )
        }
    }
}

/// Adds `dump` to `merged`; returns how many of its ids were already there.
fn merge(merged: &mut QueueDump, dump: QueueDump, seen: &mut HashSet<String>) -> u64 {
    if merged.clock_note.is_none() {
        merged.clock_note = dump.clock_note;
    }
    merged.empty_marker |= dump.empty_marker;
    merged.declared = match (merged.declared, dump.declared) {
        (None, d) | (d, None) => d,
        (Some(a), Some(b)) => Some(Declared {
            kbytes: a.kbytes.saturating_add(b.kbytes),
            requests: a.requests.saturating_add(b.requests),
        }),
    };
    let mut duplicates = 0;
    for m in dump.messages {
        if seen.insert(m.queue_id.clone()) {
            merged.messages.push(m);
        } else {
            duplicates += 1;
        }
    }
    duplicates
}

/// What the chosen dump time may get wrong, in words.
fn clock_notes(
    notes: &mut Vec<String>,
    dump_time: LogTime,
    source: DumpTimeSource,
    newest: Option<LogTime>,
    mtime: Option<LogTime>,
) {
    let Some(newest) = newest else { return };
    if newest.0 > dump_time.0 + MINUTE {
        notes.push(format!(
            "the newest arrival {} is after the dump time {} ({}): ages are too short; give --dump-time",
            newest.iso(),
            dump_time.iso(),
            source.describe()
        ));
    }
    if source == DumpTimeSource::FileMtime {
        if let Some(m) = mtime.filter(|m| m.0 - newest.0 > COPIED_GAP) {
            notes.push(format!(
                "the dump's file time {} is {} after its newest arrival {}: the file was probably copied without its time (cp without -p), so the dump was taken between {} and {}; ages are measured from the newest arrival and may be too short; give --dump-time",
                m.iso(),
                super::human_age(m.0 - newest.0),
                newest.iso(),
                newest.iso(),
                m.iso()
            ));
        }
    }
}
