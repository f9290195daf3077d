//! A gzip reader that can be resumed in the middle of a file.
//!
//! Evidence lines are looked up again after the analysis (see `lines`). A
//! gzip stream can only be read from its start, so each rotation would be
//! decompressed twice. While the first pass reads a file, this reader keeps
//! the decompressor's whole state every few megabytes (a checkpoint: the
//! 32 KiB window, the Huffman tables, the bit buffer, the input offset);
//! the second pass resumes from the checkpoint before the time it wants
//! and decompresses only from there.
//!
//! It reads the gzip format (RFC 1952): any number of members, each with
//! its header fields, raw deflate data and a CRC-32 and length trailer,
//! and fails on what `gzip -t` fails on.

use std::io::{self, Read, Seek, SeekFrom};

use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

/// Decompressed bytes between checkpoints, at first.
const CHECKPOINT_EVERY: u64 = 8 << 20;
/// Checkpoints kept per file: past it every other one is dropped and the
/// spacing doubles, so memory stays bounded whatever the file's size
/// (each holds 42 KiB of decompressor state).
const MAX_CHECKPOINTS: usize = 256;
/// Compressed bytes read at a time.
const INPUT_CHUNK: usize = 256 << 10;
/// A header longer than this (file name, comment, extra field) is damage.
const MAX_HEADER: usize = 64 << 10;

/// The decompressor's state at one point of a file.
pub struct Checkpoint {
    /// Offset in the compressed file of the next byte to decompress.
    input: u64,
    /// Offset in the decompressed stream.
    output: u64,
    /// Line ends in the decompressed stream before `output`.
    newlines: u64,
    /// Whether `output` is at a line start.
    line_start: bool,
    member_out: u64,
    crc: crc32fast::Hasher,
    state: Box<InflateState>,
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("input", &self.input)
            .field("output", &self.output)
            .field("newlines", &self.newlines)
            .finish_non_exhaustive()
    }
}

/// A file's checkpoints, in stream order.
#[derive(Debug, Default)]
pub struct GzIndex {
    pub checkpoints: Vec<Checkpoint>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Header,
    Body,
    Trailer,
    Done,
}

/// Decompresses a gzip stream; see the module comment.
pub struct GzReader<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    /// Offset in the compressed input of `buf[0]`.
    base: u64,
    eof: bool,
    phase: Phase,
    state: Box<InflateState>,
    crc: crc32fast::Hasher,
    member_out: u64,
    members: u64,
    output: u64,
    newlines: u64,
    line_start: bool,
    /// Checkpoints taken while reading, when indexing.
    index: Option<GzIndex>,
    every: u64,
    next_checkpoint: u64,
}

impl<R: Read> GzReader<R> {
    /// A reader from the start of `inner`.
    pub fn new(inner: R) -> Self {
        GzReader {
            inner,
            buf: Vec::with_capacity(INPUT_CHUNK),
            pos: 0,
            base: 0,
            eof: false,
            phase: Phase::Header,
            state: InflateState::new_boxed(DataFormat::Raw),
            crc: crc32fast::Hasher::new(),
            member_out: 0,
            members: 0,
            output: 0,
            newlines: 0,
            line_start: true,
            index: None,
            every: CHECKPOINT_EVERY,
            next_checkpoint: u64::MAX,
        }
    }

    /// A reader that keeps checkpoints as it goes (see [`GzReader::take_index`]).
    pub fn indexed(inner: R) -> Self {
        let mut r = Self::new(inner);
        r.index = Some(GzIndex::default());
        r.next_checkpoint = CHECKPOINT_EVERY;
        r
    }

    /// Checkpoints every `every` decompressed bytes instead (tests: small
    /// files with many checkpoints).
    #[cfg(test)]
    pub(crate) fn spaced(mut self, every: u64) -> Self {
        self.every = every;
        self.next_checkpoint = every;
        self
    }

    /// The checkpoints taken so far.
    pub fn take_index(&mut self) -> GzIndex {
        self.index.take().unwrap_or_default()
    }

    /// Line ends in what was decompressed so far.
    pub fn newlines(&self) -> u64 {
        self.newlines
    }

    /// Moves to the next unread input byte, reading more when `buf` is spent.
    fn refill(&mut self) -> io::Result<()> {
        if self.pos < self.buf.len() || self.eof {
            return Ok(());
        }
        self.base += self.buf.len() as u64;
        self.buf.clear();
        self.pos = 0;
        self.read_more()
    }

    /// Appends input to `buf` (keeping what is unread).
    fn read_more(&mut self) -> io::Result<()> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
        }
        let have = self.buf.len();
        self.buf.resize(have + INPUT_CHUNK, 0);
        let n = loop {
            match self.inner.read(&mut self.buf[have..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(have);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(have + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(())
    }

    /// Reads one member header; false at the end of the input after a
    /// member (the end of the stream).
    fn header(&mut self) -> io::Result<bool> {
        loop {
            let unread = &self.buf[self.pos..];
            if unread.is_empty() && self.eof && self.members > 0 {
                return Ok(false);
            }
            match parse_header(unread) {
                Ok(Some(len)) => {
                    self.pos += len;
                    return Ok(true);
                }
                Ok(None) if self.eof => return Err(eof("unexpected end of file")),
                Ok(None) if unread.len() > MAX_HEADER => {
                    return Err(invalid("invalid gzip header"))
                }
                Ok(None) => self.read_more()?,
                Err(e) => return Err(e),
            }
        }
    }

    /// Checks a member's trailer: its CRC-32 and length.
    fn trailer(&mut self) -> io::Result<()> {
        while self.buf.len() - self.pos < 8 {
            if self.eof {
                return Err(eof("unexpected end of file"));
            }
            self.read_more()?;
        }
        let t = &self.buf[self.pos..self.pos + 8];
        let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let len = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        self.pos += 8;
        let sum = std::mem::take(&mut self.crc).finalize();
        if crc != sum || len != self.member_out as u32 {
            return Err(invalid(
                "corrupt gzip stream does not have a matching checksum",
            ));
        }
        self.members += 1;
        self.member_out = 0;
        self.state.reset(DataFormat::Raw);
        Ok(())
    }

    fn checkpoint(&mut self) {
        let Some(index) = self.index.as_mut() else {
            return;
        };
        let mut state = InflateState::new_boxed(DataFormat::Raw);
        state.clone_from(&self.state);
        index.checkpoints.push(Checkpoint {
            input: self.base + self.pos as u64,
            output: self.output,
            newlines: self.newlines,
            line_start: self.line_start,
            member_out: self.member_out,
            crc: self.crc.clone(),
            state,
        });
        if index.checkpoints.len() >= MAX_CHECKPOINTS {
            // Keep those on the doubled spacing.
            let every = self.every;
            index.checkpoints.retain(|c| (c.output / every) % 2 == 0);
            self.every = every * 2;
        }
        self.next_checkpoint = (self.output / self.every + 1) * self.every;
    }

    /// One step of decompression into `out`.
    fn body(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut stalled = 0;
        loop {
            self.refill()?;
            let input = &self.buf[self.pos..];
            let r = inflate(&mut self.state, input, out, MZFlush::None);
            self.pos += r.bytes_consumed;
            let n = r.bytes_written;
            if n > 0 {
                let made = &out[..n];
                self.crc.update(made);
                self.newlines += count_newlines(made);
                self.line_start = made[n - 1] == b'\n';
                self.output += n as u64;
                self.member_out += n as u64;
            }
            match r.status {
                Ok(MZStatus::StreamEnd) => {
                    self.phase = Phase::Trailer;
                    return Ok(n);
                }
                Ok(_) | Err(MZError::Buf) if n > 0 => {
                    if self.output >= self.next_checkpoint {
                        self.checkpoint();
                    }
                    return Ok(n);
                }
                Ok(_) | Err(MZError::Buf) => {
                    if self.pos >= self.buf.len() && self.eof {
                        return Err(eof("incomplete deflate stream"));
                    }
                    if r.bytes_consumed == 0 {
                        stalled += 1;
                        if stalled > 2 {
                            return Err(invalid("corrupt deflate stream"));
                        }
                    }
                }
                Err(_) => return Err(invalid("corrupt deflate stream")),
            }
        }
    }
}

impl GzReader<std::fs::File> {
    /// A reader of `file` from `at`, one of its checkpoints.
    pub fn resume(mut file: std::fs::File, at: &Checkpoint) -> io::Result<Self> {
        file.seek(SeekFrom::Start(at.input))?;
        let mut r = Self::new(file);
        r.base = at.input;
        r.phase = Phase::Body;
        r.state.clone_from(&at.state);
        r.crc = at.crc.clone();
        r.member_out = at.member_out;
        r.output = at.output;
        r.newlines = at.newlines;
        r.line_start = at.line_start;
        r.next_checkpoint = u64::MAX;
        Ok(r)
    }

    /// Whether the next byte read starts a line.
    pub fn at_line_start(&self) -> bool {
        self.line_start
    }
}

impl<R: Read> Read for GzReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match self.phase {
                Phase::Done => return Ok(0),
                Phase::Header => {
                    if !self.header()? {
                        self.phase = Phase::Done;
                        return Ok(0);
                    }
                    self.phase = Phase::Body;
                }
                Phase::Body => {
                    let n = self.body(out)?;
                    if n > 0 {
                        return Ok(n);
                    }
                }
                Phase::Trailer => {
                    self.trailer()?;
                    self.phase = Phase::Header;
                }
            }
        }
    }
}

/// The length of the gzip member header at the start of `b`, `None` when
/// `b` ends before it does.
fn parse_header(b: &[u8]) -> io::Result<Option<usize>> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    if b.len() < 10 {
        // A wrong start fails now, not after more input.
        if b.iter().zip([0x1f, 0x8b, 8]).any(|(x, y)| *x != y) {
            return Err(invalid("invalid gzip header"));
        }
        return Ok(None);
    }
    if b[0] != 0x1f || b[1] != 0x8b || b[2] != 8 || b[3] & 0xe0 != 0 {
        return Err(invalid("invalid gzip header"));
    }
    let flags = b[3];
    let mut at = 10;
    if flags & FEXTRA != 0 {
        let Some(len) = b.get(at..at + 2) else {
            return Ok(None);
        };
        at += 2 + u16::from_le_bytes([len[0], len[1]]) as usize;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let Some(end) = b.get(at..).and_then(|r| memchr::memchr(0, r)) else {
                return Ok(None);
            };
            at += end + 1;
        }
    }
    if flags & FHCRC != 0 {
        at += 2;
    }
    Ok((at <= b.len()).then_some(at))
}

/// Line ends in `b`: byte lanes counted in blocks of 255 rounds (a lane
/// cannot overflow), which the compiler turns into vector compares; a
/// plain `filter().count()` widens every byte to 64 bits.
fn count_newlines(b: &[u8]) -> u64 {
    const LANES: usize = 64;
    let mut total = 0u64;
    let mut blocks = b.chunks_exact(LANES * 255);
    for block in blocks.by_ref() {
        let mut acc = [0u8; LANES];
        for c in block.chunks_exact(LANES) {
            for (a, &x) in acc.iter_mut().zip(c) {
                *a += u8::from(x == b'\n');
            }
        }
        total += acc.iter().map(|&a| u64::from(a)).sum::<u64>();
    }
    total + blocks.remainder().iter().filter(|&&c| c == b'\n').count() as u64
}

fn invalid(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn eof(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn log(lines: usize, seed: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let mut x = seed;
        for i in 0..lines {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            writeln!(
                out,
                "Nov 28 10:{:02}:{:02} mx1 postfix/smtp[{}]: {:010X}: to=<u{}@example.com>, relay=mx.example.net[192.0.2.{}]:25, status=sent",
                (i / 60) % 60,
                i % 60,
                x % 30000,
                x >> 24,
                x % 977,
                x % 250
            )
            .unwrap();
        }
        out
    }

    fn read_all(r: &mut impl Read) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        r.read_to_end(&mut v).map(|_| v)
    }

    #[test]
    fn line_ends_are_counted_at_any_length_and_density() {
        for len in [
            0,
            1,
            63,
            64,
            65,
            255 * 64 - 1,
            255 * 64,
            255 * 64 + 1,
            100_000,
        ] {
            for every in [1, 2, 7, 200] {
                let b: Vec<u8> = (0..len)
                    .map(|i| if i % every == 0 { b'\n' } else { b'x' })
                    .collect();
                let want = b.iter().filter(|&&c| c == b'\n').count() as u64;
                assert_eq!(count_newlines(&b), want, "{len} {every}");
            }
        }
    }

    #[test]
    fn reads_what_flate2_reads_including_several_members() {
        let text = log(5000, 1);
        let mut gz = gzip(&text[..text.len() / 3], 6);
        gz.extend(gzip(&text[text.len() / 3..], 1));
        let got = read_all(&mut GzReader::new(&gz[..])).unwrap();
        assert!(got == text);
    }

    #[test]
    fn fails_where_gzip_t_fails() {
        let gz = gzip(b"hello\nworld\n", 6);
        let fails = |b: &[u8]| read_all(&mut GzReader::new(b)).is_err();
        assert!(fails(b""), "empty");
        assert!(fails(&gz[..gz.len() - 12]), "truncated data");
        assert!(fails(&gz[..gz.len() - 3]), "truncated trailer");
        let mut bad = gz.clone();
        let n = bad.len();
        bad[n - 6] ^= 1;
        assert!(fails(&bad), "checksum");
        let mut trailing = gz.clone();
        trailing.extend_from_slice(b"garbage");
        assert!(fails(&trailing), "trailing garbage");
        assert!(fails(b"\x1f\x8b\x08\x00garbage that is no deflate stream"));
        assert!(!fails(&gz));
    }

    #[test]
    fn the_text_before_damage_comes_out_before_the_error() {
        let text = log(20000, 2);
        let gz = gzip(&text, 6);
        let mut r = GzReader::new(&gz[..gz.len() / 2]);
        let mut got = Vec::new();
        let mut buf = vec![0; 1 << 16];
        let err = loop {
            match r.read(&mut buf) {
                Ok(0) => panic!("no error"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(got.len() > text.len() / 3 && text.starts_with(&got));
    }

    #[test]
    fn resuming_at_each_checkpoint_gives_the_rest_of_the_text() {
        let text = log(400_000, 3);
        let mut gz = gzip(&text[..text.len() / 2], 6);
        gz.extend(gzip(&text[text.len() / 2..], 6));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mail.log.2.gz");
        std::fs::write(&path, &gz).unwrap();
        let mut r = GzReader::indexed(std::fs::File::open(&path).unwrap()).spaced(4 << 20);
        assert!(read_all(&mut r).unwrap() == text);
        let index = r.take_index();
        assert!(index.checkpoints.len() >= 3, "{}", index.checkpoints.len());
        for c in &index.checkpoints {
            let at = c.output as usize;
            let newlines = text[..at].iter().filter(|&&b| b == b'\n').count() as u64;
            assert_eq!(c.newlines, newlines);
            let mut r = GzReader::resume(std::fs::File::open(&path).unwrap(), c).unwrap();
            assert_eq!(r.at_line_start(), at == 0 || text[at - 1] == b'\n');
            let rest = read_all(&mut r).unwrap();
            assert!(rest == text[at..], "at {at}");
        }
    }

    #[test]
    fn checkpoints_stay_bounded_and_spread() {
        let text = log(200_000, 4);
        let gz = gzip(&text, 1);
        let mut r = GzReader::indexed(&gz[..]).spaced(4096);
        // Small reads, as the reader thread's: a checkpoint is taken
        // between two.
        let mut buf = [0u8; 4096];
        while r.read(&mut buf).unwrap() > 0 {}
        let index = r.take_index();
        let n = index.checkpoints.len();
        assert!(n < MAX_CHECKPOINTS && n > MAX_CHECKPOINTS / 4, "{n}");
        let out: Vec<u64> = index.checkpoints.iter().map(|c| c.output).collect();
        assert!(out.windows(2).all(|w| w[0] < w[1]));
        assert!(*out.last().unwrap() > text.len() as u64 / 2);
    }

    proptest::proptest! {
        /// Any text in any number of members at any level reads back, and
        /// any bytes at all give text or an error, never a panic.
        #[test]
        fn any_gzip_reads_back_and_any_bytes_are_safe(
            text in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..5000),
            cuts in proptest::collection::vec(0usize..5000, 0..4),
            level in 0u32..10,
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(text.len())).collect();
            cuts.push(0);
            cuts.push(text.len());
            cuts.sort_unstable();
            let mut gz = Vec::new();
            for w in cuts.windows(2) {
                gz.extend(gzip(&text[w[0]..w[1]], level));
            }
            proptest::prop_assert_eq!(read_all(&mut GzReader::new(&gz[..])).unwrap(), text);
            let _ = read_all(&mut GzReader::new(&noise[..]));
            let mut damaged = gz.clone();
            for (i, b) in noise.iter().enumerate() {
                let at = (i * 7919 + usize::from(*b)) % damaged.len();
                damaged[at] ^= b | 1;
            }
            let _ = read_all(&mut GzReader::new(&damaged[..]));
        }
    }
}
