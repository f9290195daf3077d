//! What a corrupt gzip stream leaves behind.
//!
//! Deflate has no resync points: a flipped bit makes the decoder go on
//! writing fragments of earlier text (back-references gone wrong) until the
//! member's checksum fails at its end, or an invalid code stops it sooner.
//! Those fragments often look like log lines, so analyzing them would invent
//! messages. A gzip source's last [`HOLD`] bytes are therefore held back
//! until the stream ends; when it fails, the held text is cut where it
//! stops looking like a log (lines that no longer parse, control bytes), so
//! nothing after the break is analyzed, and the break's offset is reported.
//! Older text has been analyzed already; a break further back than the held
//! window cannot be taken back, which the message then says.

use std::collections::VecDeque;

/// How much decompressed text is held back.
pub const HOLD: usize = 32 << 20;

/// Blocks not yet handed out, oldest first, as (stream offset, bytes).
#[derive(Default)]
pub(super) struct Held {
    blocks: VecDeque<(u64, Vec<u8>)>,
    bytes: usize,
}

impl Held {
    /// Holds a block; returns those now old enough to hand out.
    pub fn push(&mut self, offset: u64, data: Vec<u8>) -> Vec<(u64, Vec<u8>)> {
        self.bytes += data.len();
        self.blocks.push_back((offset, data));
        let mut out = Vec::new();
        while self.bytes > HOLD && self.blocks.len() > 1 {
            let b = self.blocks.pop_front().expect("more than one");
            self.bytes -= b.1.len();
            out.push(b);
        }
        out
    }

    /// Everything held, for a stream that ended well.
    pub fn release(self) -> Vec<(u64, Vec<u8>)> {
        self.blocks.into()
    }

    /// The held text up to where it stops looking like a log, and where
    /// that is.
    pub fn salvage(self) -> (Vec<(u64, Vec<u8>)>, Salvaged) {
        let mut blocks: Vec<(u64, Vec<u8>)> = self.blocks.into();
        let broke = blocks.iter().enumerate().find_map(|(i, (offset, data))| {
            find_break(data).map(|at| (i, at, *offset + at as u64))
        });
        let (cut, end) = match broke {
            Some((i, at, offset)) => (Some((i, at)), Salvaged::Broke(offset)),
            // The stream ended inside a line: that line is incomplete.
            None => match blocks.iter().enumerate().next_back() {
                Some((i, (offset, data))) if !data.ends_with(b"\n") => {
                    let at = memchr::memrchr(b'\n', data).map_or(0, |p| p + 1);
                    (Some((i, at)), Salvaged::Cut(*offset + at as u64))
                }
                _ => (None, Salvaged::Whole),
            },
        };
        if let Some((i, at)) = cut {
            blocks.truncate(i + 1);
            blocks[i].1.truncate(at);
        }
        (blocks, end)
    }
}

/// Where the held text of a failed stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Salvaged {
    /// It stops looking like a log at this stream offset.
    Broke(u64),
    /// It ends inside a line, dropped from this offset.
    Cut(u64),
    /// It ends on a line end and looks like a log throughout.
    Whole,
}

/// The offset of the first line from which the text stops looking like a
/// log: a line that is binary, or has no syslog stamp, or is a Postfix line
/// not understood, followed within the next 20 lines by at least 4 more
/// such. Real logs have odd lines one at a time, never in such a run.
pub fn find_break(data: &[u8]) -> Option<usize> {
    const WINDOW: usize = 20;
    const BAD_IN_WINDOW: usize = 5;
    let mut starts = Vec::new();
    let mut bad = Vec::new();
    let mut pos = 0;
    for line in data.split_inclusive(|&c| c == b'\n') {
        starts.push(pos);
        bad.push(looks_broken(line));
        pos += line.len();
    }
    (0..bad.len())
        .find(|&i| {
            bad[i]
                && bad[i..(i + WINDOW).min(bad.len())]
                    .iter()
                    .filter(|&&b| b)
                    .count()
                    >= BAD_IN_WINDOW
        })
        .map(|i| starts[i])
}

fn looks_broken(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    if line
        .iter()
        .any(|&c| c < 0x20 && c != b'\t' && c != b'\r' || c == 0x7f)
    {
        return true;
    }
    let Some(h) = crate::parse::syslog::parse_header(line) else {
        return !line.is_empty();
    };
    crate::parse::syslog::is_postfix(h.program)
        && matches!(
            crate::parse::postfix::parse_payload(
                line,
                crate::parse::syslog::service(h.program),
                h.message
            ),
            crate::parse::EventKind::NotUnderstood
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "Dec 31 20:18:40 mx1 postfix/qmgr[2]: 1591ED065B: removed\n";

    #[test]
    fn the_break_is_where_the_run_of_broken_lines_starts() {
        let mut text = GOOD.repeat(50);
        let at = text.len();
        // What a decoder writes after a flipped bit: fragments glued.
        for _ in 0..10 {
            text +=
                "Dec 31 20:12:48 mx1 postfix/21:09]: 3BE78D0521: client=local5B5C2.com0251231\n";
            text += "mx1 postfix/:12:47 mx1 postfi039D, deCE:ED065B:\x01\x02\n";
        }
        assert_eq!(find_break(text.as_bytes()), Some(at));
        // One odd line among good ones is not a break.
        let mut text = GOOD.repeat(10);
        text += "some odd line without a stamp\n";
        text += &GOOD.repeat(10);
        assert_eq!(find_break(text.as_bytes()), None);
    }

    #[test]
    fn a_cut_stream_drops_its_incomplete_last_line() {
        let mut held = Held::default();
        assert!(held.push(0, GOOD.repeat(3).into_bytes()).is_empty());
        let mut tail = GOOD.as_bytes().to_vec();
        tail.extend_from_slice(b"Dec 31 20:18:41 mx1 postfix/qm");
        held.push(GOOD.len() as u64 * 3, tail);
        let (blocks, end) = held.salvage();
        assert_eq!(end, Salvaged::Cut(GOOD.len() as u64 * 4));
        let all: Vec<u8> = blocks.into_iter().flat_map(|b| b.1).collect();
        assert_eq!(all, GOOD.repeat(4).into_bytes());
    }
}
