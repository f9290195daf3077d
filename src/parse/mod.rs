//! Bytes to compact events: the syslog header, the Postfix payload, and the
//! queue dumps. No allocation per line on the hot path: events hold spans
//! into the chunk, and per-program counters allocate once per program.

mod chatter;
mod foreign;
pub mod postfix;
pub mod queue;
pub mod syslog;

use rustc_hash::FxHashMap;

pub use postfix::{
    DaemonEvent, DeliveryStatus, EventKind, QueueId, RejectAction, RejectStage, Severity, Span,
};
pub use syslog::Stamp;

/// One Postfix line, parsed.
#[derive(Debug, Clone, Copy)]
pub struct LineEvent {
    pub stamp: Stamp,
    pub host: Span,
    /// Byte offset of the line in its chunk, for error messages.
    pub line_start: u32,
    pub kind: EventKind,
}

/// Counters of one program's lines.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProgramLines {
    pub lines: u64,
    pub not_understood: u64,
}

/// What a chunk's lines were, counted. Merged associatively.
#[derive(Debug, Clone, Default)]
pub struct LineStats {
    pub total: u64,
    pub postfix: u64,
    pub other: u64,
    pub not_understood: u64,
    /// Lines without a syslog stamp we know (counted in `other`).
    pub no_header: u64,
    pub by_program: FxHashMap<Box<[u8]>, ProgramLines>,
    pub not_understood_examples: Vec<String>,
    pub no_header_examples: Vec<String>,
    /// Line ends in the chunk, blank lines included: line numbers for
    /// evidence are counted from them.
    pub newlines: u64,
    /// For a whole file: each block's byte offset and the line ends before
    /// it (to number a line near an offset without counting from the start).
    pub line_index: Vec<(u64, u64)>,
    /// Lines of a severity file skipped because another input holds them.
    pub duplicates: u64,
    /// Lines cut at the line limit, and the offsets of the first few (from
    /// the chunk's start until the reader makes them file offsets).
    pub long_lines: u64,
    pub long_line_at: Vec<u64>,
}

const EXAMPLES: usize = 10;

impl LineStats {
    pub fn merge(&mut self, other: LineStats) {
        self.total += other.total;
        self.postfix += other.postfix;
        self.other += other.other;
        self.not_understood += other.not_understood;
        self.no_header += other.no_header;
        self.duplicates += other.duplicates;
        for (k, v) in other.by_program {
            let e = match self.by_program.get_mut(&k) {
                Some(e) => e,
                None => self.program_entry(&k),
            };
            e.lines += v.lines;
            e.not_understood += v.not_understood;
        }
        for e in other.not_understood_examples {
            if self.not_understood_examples.len() < EXAMPLES {
                self.not_understood_examples.push(e);
            }
        }
        for e in other.no_header_examples {
            if self.no_header_examples.len() < EXAMPLES {
                self.no_header_examples.push(e);
            }
        }
        self.long_lines += other.long_lines;
        self.newlines += other.newlines;
        for at in other.long_line_at {
            if self.long_line_at.len() < EXAMPLES {
                self.long_line_at.push(at);
            }
        }
    }

    fn count_program(&mut self, program: &[u8], not_understood: bool) {
        // Multi-instance names (`postfix-12.34.56.78/qmgr`) stay distinct on
        // purpose: an operator wants to see which instance said what. A
        // syslog tag is at most 32 bytes; a longer "name" is junk, cut.
        let program = &program[..program.len().min(PROGRAM_NAME_MAX)];
        let entry = match self.by_program.get_mut(program) {
            Some(e) => e,
            None => self.program_entry(program),
        };
        entry.lines += 1;
        entry.not_understood += u64::from(not_understood);
    }
}

impl LineStats {
    /// A new program's counters; past [`PROGRAMS_MAX`] names, the shared
    /// ones of [`OTHER_PROGRAMS`] (a log of made-up tags must not grow the
    /// table, or the report, without end).
    fn program_entry(&mut self, program: &[u8]) -> &mut ProgramLines {
        let key: &[u8] = if self.by_program.len() >= PROGRAMS_MAX {
            OTHER_PROGRAMS
        } else {
            program
        };
        self.by_program.entry(key.into()).or_default()
    }
}

/// The longest program name kept.
const PROGRAM_NAME_MAX: usize = 128;
/// Distinct program names counted apart.
pub const PROGRAMS_MAX: usize = 1000;
/// Where the lines of programs past [`PROGRAMS_MAX`] are counted.
pub const OTHER_PROGRAMS: &[u8] = b"(other programs)";

/// The events and counters of one chunk.
#[derive(Debug, Default)]
pub struct ParsedChunk {
    pub events: Vec<LineEvent>,
    pub stats: LineStats,
}

/// Iterates the lines of `buf` without their `\n` / `\r\n` ends.
pub fn lines(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= buf.len() {
            return None;
        }
        let end = memchr::memchr(b'\n', &buf[pos..]).map_or(buf.len(), |p| pos + p);
        let mut line = &buf[pos..end];
        pos = end + 1;
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        Some(line)
    })
}

/// Parses every line of `chunk`, which holds whole lines.
pub fn parse_chunk(chunk: &[u8]) -> ParsedChunk {
    parse_chunk_into(chunk, Vec::new(), crate::input::MAX_LINE)
}

/// [`parse_chunk`] into a recycled event buffer (a fresh megabyte-sized
/// buffer per chunk is a fresh mapping, page faults and zeroing included),
/// cutting lines at `max_line` bytes.
pub fn parse_chunk_into(chunk: &[u8], events: Vec<LineEvent>, max_line: usize) -> ParsedChunk {
    parse_chunk_filtered(chunk, events, max_line, None)
}

/// Decides per line (by its bytes) whether it is read: `false` skips it as
/// a duplicate of another input's line.
pub type LineFilter<'a> = &'a (dyn Fn(&[u8]) -> bool + Sync);

/// [`parse_chunk_into`] with a line filter (see `input::overlap`).
pub fn parse_chunk_filtered(
    chunk: &[u8],
    mut events: Vec<LineEvent>,
    max_line: usize,
    keep: Option<LineFilter>,
) -> ParsedChunk {
    events.clear();
    events.reserve(chunk.len() / 160);
    let mut out = ParsedChunk {
        events,
        stats: LineStats::default(),
    };
    let st = &mut out.stats;
    let mut marked = false;
    let mut last_mark: Option<LineEvent> = None;
    // Every line but an unfinished last one ends in a line end.
    st.newlines = u64::from(chunk.last().is_some_and(|&c| c != b'\n')).wrapping_neg();
    for line in lines(chunk) {
        st.newlines = st.newlines.wrapping_add(1);
        // A run of NULs is what a crash leaves where the log's tail was
        // being written (and what a file cut under a mapping reads as);
        // the next line may follow it without a line end.
        let line = match line.first() {
            Some(0) => &line[line.iter().position(|&c| c != 0).unwrap_or(line.len())..],
            _ => line,
        };
        if line.is_empty() || line.iter().all(|c| c.is_ascii_whitespace()) {
            continue;
        }
        if keep.is_some_and(|k| !k(line)) {
            st.duplicates += 1;
            continue;
        }
        let line = if line.len() > max_line {
            st.long_lines += 1;
            if st.long_line_at.len() < EXAMPLES {
                st.long_line_at.push(u64::from(Span::of(chunk, line).start));
            }
            &line[..max_line]
        } else {
            line
        };
        st.total += 1;
        let Some(h) = syslog::parse_header(line) else {
            st.other += 1;
            st.no_header += 1;
            if st.no_header_examples.len() < EXAMPLES {
                st.no_header_examples.push(example(line));
            }
            continue;
        };
        let line_start = Span::of(chunk, line).start;
        let mark = LineEvent {
            stamp: h.stamp,
            host: Span::of(chunk, h.host),
            line_start,
            kind: EventKind::Mark,
        };
        if !marked {
            // The chunk's first mark leads its events.
            marked = true;
            out.events.push(mark);
        }
        last_mark = Some(mark);
        if !syslog::is_postfix(h.program) {
            st.other += 1;
            st.count_program(h.program, false);
            if let Some(kind) = foreign::foreign(chunk, h.program, h.message) {
                out.events.push(LineEvent {
                    stamp: h.stamp,
                    host: Span::of(chunk, h.host),
                    line_start,
                    kind,
                });
                continue;
            }
            // A repeat of the previous line: keep it, the previous line may
            // have been Postfix's.
            if h.program.is_empty() {
                if let Some(times) = postfix::repeated(h.message) {
                    out.events.push(LineEvent {
                        stamp: h.stamp,
                        host: Span::of(chunk, h.host),
                        line_start,
                        kind: EventKind::Repeated { times },
                    });
                }
            }
            continue;
        }
        st.postfix += 1;
        let mut kind = postfix::parse_payload(chunk, syslog::service(h.program), h.message);
        if let EventKind::Diagnostic { program, .. } = &mut kind {
            *program = Span::of(chunk, h.program);
        }
        let not_understood = matches!(kind, EventKind::NotUnderstood);
        st.count_program(h.program, not_understood);
        if not_understood {
            st.not_understood += 1;
            if st.not_understood_examples.len() < EXAMPLES {
                st.not_understood_examples.push(example(line));
            }
        }
        if !matches!(kind, EventKind::Info | EventKind::NotUnderstood) {
            out.events.push(LineEvent {
                stamp: h.stamp,
                host: Span::of(chunk, h.host),
                line_start,
                kind,
            });
        }
    }
    if let Some(last) = last_mark {
        out.events.push(last);
    }
    out
}

/// Equality of two short byte strings (host names, compared on every line)
/// without a call into `memcmp`.
#[inline]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let word = |s: &[u8]| u64::from_ne_bytes(s.try_into().expect("8 bytes"));
    let (mut x, mut y) = (a.chunks_exact(8), b.chunks_exact(8));
    for (p, q) in (&mut x).zip(&mut y) {
        if word(p) != word(q) {
            return false;
        }
    }
    x.remainder().iter().zip(y.remainder()).all(|(p, q)| p == q)
}

fn example(line: &[u8]) -> String {
    let cut = &line[..line.len().min(300)];
    String::from_utf8_lossy(cut).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_is_equality() {
        let words: [&[u8]; 6] = [
            b"",
            b"mail",
            b"mail1",
            b"mail.example.com",
            b"mail.example.co",
            b"mail.example.con",
        ];
        for a in words {
            for b in words {
                assert_eq!(same_bytes(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn counts_every_line_once() {
        let chunk = b"Nov 28 18:30:12 mail postfix/qmgr[1]: D375AD054A: removed\r\n\
Nov 28 18:30:12 mail dovecot: imap-login: Login\n\
garbage without a stamp\n\
\n\
Nov 28 18:30:13 mail postfix/smtpd[2]: a brand new message shape\n\
Nov 28 18:30:14 mail last message repeated 2 times\n";
        let p = parse_chunk(chunk);
        assert_eq!(p.stats.total, 5);
        assert_eq!(p.stats.postfix, 2);
        assert_eq!(p.stats.other, 3);
        assert_eq!(p.stats.no_header, 1);
        assert_eq!(p.stats.not_understood, 1);
        assert_eq!(p.events.len(), 4); // mark, removed, repeated, mark
        assert_eq!(p.events[0].kind, EventKind::Mark);
        assert_eq!(p.events[3].kind, EventKind::Mark);
        assert_eq!(p.stats.by_program[&b"postfix/smtpd"[..]].not_understood, 1);
    }
}
