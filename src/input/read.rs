//! Reading sources into blocks of whole lines, on a thread of its own.
//!
//! Rotated plain files are memory-mapped (registered with [`super::guard`],
//! so a file cut while it is read is reported, not fatal); the live file is
//! read with `read(2)`, gzip is decompressed in process, stdin is read as a
//! stream. Whatever the way in, memory stays bounded by the block size and
//! the line limit: a line longer than the limit keeps its first bytes, the
//! rest is skipped and the cut reported with its offset, and a "line" that
//! never ends (`/dev/zero`, a gzip bomb) stops that source after
//! [`SKIP_LIMIT`] bytes.

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::time::SystemTime;

use std::cell::RefCell;

use super::journal::JournalReader;
use super::salvage::{Held, Salvaged};
use super::{Source, SourceKind};
use crate::error::Error;

/// Block size: big enough that per-block work is negligible, small enough
/// that a few in flight bound memory.
pub const BLOCK: usize = 4 * 1024 * 1024;
/// Lines longer than this are cut (`--max-line`): no log line is near it.
pub const MAX_LINE: usize = 1024 * 1024;
/// The most a cut line may skip before its source is given up on.
pub const SKIP_LIMIT: u64 = 256 * 1024 * 1024;

/// How the reader cuts its input.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    pub block: usize,
    pub max_line: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            block: BLOCK,
            max_line: MAX_LINE,
        }
    }
}

/// A mapped file and its guard (dropped first, so the range is unregistered
/// before it is unmapped).
#[derive(Debug)]
pub struct Mapped {
    #[cfg(unix)]
    guard: super::guard::Guard,
    map: memmap2::Mmap,
}

/// Bytes of whole lines, from a mapping or a buffer.
#[derive(Debug)]
pub enum BlockData {
    Mapped(Arc<Mapped>, Range<usize>),
    Owned(Vec<u8>),
}

impl BlockData {
    /// Tells the kernel the block's pages of a mapped file are done with,
    /// so that resident memory does not grow with the file. Call only once
    /// nothing borrows from the block any more.
    pub fn release(&self) {
        if let BlockData::Mapped(m, r) = self {
            release(&m.map, r.clone());
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            BlockData::Mapped(m, r) => &m.map[r.clone()],
            BlockData::Owned(v) => v,
        }
    }

    /// For a mapped block of a file that shrank while it was read: the file
    /// offset from which its pages were lost (they read as zeros).
    pub fn cut_at(&self) -> Option<u64> {
        match self {
            #[cfg(unix)]
            BlockData::Mapped(m, _) => m.guard.cut_at().map(|o| o as u64),
            _ => None,
        }
    }
}

/// Drops the pages of `range` from memory (they are re-read from the file
/// if touched again).
fn release(map: &memmap2::Mmap, range: Range<usize>) {
    // The offset must be page-aligned: round the start up.
    let page = 4096;
    let start = range.start.div_ceil(page) * page;
    if start < range.end {
        // SAFETY: the mapping is read-only and private to us, and the
        // caller guarantees no slice of this range is alive; after
        // MADV_DONTNEED a read would fetch the page again from the file,
        // so even a stray read stays correct.
        let _ = unsafe {
            map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, range.end - start)
        };
    }
}

#[derive(Debug)]
pub struct Block {
    /// Index into the sources handed to [`spawn_reader`].
    pub source: usize,
    /// Offset of the block in the (decompressed) stream.
    pub offset: u64,
    pub data: BlockData,
}

#[derive(Debug)]
pub enum ReadItem {
    Block(Block),
    /// A line longer than the limit was cut at this stream offset (its
    /// first bytes were kept).
    LongLine {
        source: usize,
        offset: u64,
    },
    /// Reading stopped early; what came before was delivered.
    Failed {
        source: usize,
        error: Error,
    },
    /// The source was read to its end (or to its failure).
    Done {
        source: usize,
        bytes: u64,
    },
    /// Bytes of input consumed, for the progress bar.
    Progress(u64),
    /// A gzip file's checkpoints, sent before its `Done`: the evidence
    /// pass resumes there instead of decompressing the file again.
    GzIndex {
        source: usize,
        index: super::gzip::GzIndex,
    },
}

/// Starts the reader thread: it reads `sources` in order and sends blocks.
pub fn spawn_reader(sources: Vec<Source>, opts: ReadOptions) -> Receiver<ReadItem> {
    let (tx, rx) = sync_channel(4);
    std::thread::Builder::new()
        .name("postmortem-reader".into())
        .spawn(move || {
            for (i, s) in sources.iter().enumerate() {
                let bytes = match read_source(i, s, opts, &tx) {
                    Ok(n) => n,
                    Err((n, error)) => {
                        if tx.send(ReadItem::Failed { source: i, error }).is_err() {
                            return;
                        }
                        n
                    }
                };
                if tx.send(ReadItem::Done { source: i, bytes }).is_err() {
                    return;
                }
            }
        })
        .expect("spawning the reader thread");
    rx
}

type ReadResult = Result<u64, (u64, Error)>;

fn read_source(i: usize, s: &Source, opts: ReadOptions, tx: &SyncSender<ReadItem>) -> ReadResult {
    let sink = Sink {
        source: i,
        tx,
        opts,
        held: RefCell::new(None),
    };
    if s.is_stdin() {
        // `zcat` is optional: a gzip stream on stdin is decompressed here.
        use io::BufRead;
        let mut input = io::BufReader::with_capacity(1 << 20, io::stdin().lock());
        let gzip = input
            .fill_buf()
            .map(|b| b.starts_with(&[0x1f, 0x8b]))
            .unwrap_or(false);
        if gzip {
            let dec = super::gzip::GzReader::new(input);
            return sink.stream(&s.path, dec, true);
        }
        return sink.stream(&s.path, input, false);
    }
    let file = File::open(&s.path).map_err(|e| (0, Error::io(&s.path, e)))?;
    let counting = |f: File| CountingReader {
        inner: f,
        tx: tx.clone(),
    };
    let unzip = |f: File| super::gzip::GzReader::new(counting(f));
    match (s.kind, s.compressed) {
        (SourceKind::JournalJson, true) => {
            sink.stream(&s.path, JournalReader::new(unzip(file)), true)
        }
        (SourceKind::JournalJson, false) => {
            sink.stream(&s.path, JournalReader::new(counting(file)), false)
        }
        (_, true) => {
            let mut gz = super::gzip::GzReader::indexed(counting(file));
            let result = sink.stream(&s.path, &mut gz, true);
            let index = gz.take_index();
            if !index.checkpoints.is_empty() {
                let _ = tx.send(ReadItem::GzIndex { source: i, index });
            }
            result
        }
        _ if !s.live && !in_flux(s) && file.metadata().is_ok_and(|m| m.is_file()) => {
            match map(&file) {
                Some(m) => sink.mapped(&s.path, &file, m),
                None => sink.stream(&s.path, counting(file), false),
            }
        }
        _ => sink.stream(&s.path, counting(file), false),
    }
}

impl Mapped {
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }
}

/// Maps `file` with a guard; `None` when either fails (read it instead).
pub(super) fn map(file: &File) -> Option<Arc<Mapped>> {
    #[cfg(unix)]
    {
        // SAFETY: the file is a rotated log that nothing should write to;
        // if it shrinks anyway, the guard registered before any page is
        // read turns the lost pages into zeros and reports the cut instead
        // of letting SIGBUS end the process.
        let map = unsafe { memmap2::Mmap::map(file) }.ok()?;
        let _ = map.advise(memmap2::Advice::Sequential);
        let guard = super::guard::Guard::register(map.as_ptr(), map.len())?;
        Some(Arc::new(Mapped { guard, map }))
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        None
    }
}

/// Modified within the last minutes, or in the future: a rotation (copy,
/// then truncate) may still be at work on it, so it is read, not mapped.
fn in_flux(s: &Source) -> bool {
    const RECENT: std::time::Duration = std::time::Duration::from_secs(10 * 60);
    match s.mtime {
        Some(m) => SystemTime::now()
            .duration_since(m)
            .map_or(true, |age| age < RECENT),
        None => true,
    }
}

/// Reports bytes read from disk as progress.
struct CountingReader<R> {
    inner: R,
    tx: SyncSender<ReadItem>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            let _ = self.tx.send(ReadItem::Progress(n as u64));
        }
        Ok(n)
    }
}

/// Where one source's blocks go.
struct Sink<'a> {
    source: usize,
    tx: &'a SyncSender<ReadItem>,
    opts: ReadOptions,
    /// A gzip source's newest text, held back until the stream ends well
    /// (see [`super::salvage`]).
    held: RefCell<Option<Held>>,
}

impl Sink<'_> {
    /// Sends an item; `false` when the receiver is gone (stop reading).
    fn send(&self, item: ReadItem) -> bool {
        self.tx.send(item).is_ok()
    }

    fn block(&self, offset: u64, data: BlockData) -> bool {
        self.send(ReadItem::Block(Block {
            source: self.source,
            offset,
            data,
        }))
    }

    fn long_line(&self, offset: u64) -> bool {
        self.send(ReadItem::LongLine {
            source: self.source,
            offset,
        })
    }

    /// Hands out a mapped file in blocks ending on line ends.
    fn mapped(&self, path: &Path, file: &File, m: Arc<Mapped>) -> ReadResult {
        let len = m.map.len();
        let block = self.opts.block;
        let mut start = 0usize;
        while start < len {
            // A file cut since it was mapped: stop where it now ends.
            let now = file.metadata().map_or(len as u64, |meta| meta.len());
            if now < len as u64 && now <= start as u64 {
                return Err((start as u64, shrank(path, len as u64, now, start as u64)));
            }
            let mut end = (start + block).min(len);
            if end < len {
                match memchr::memrchr(b'\n', &m.map[start..end]) {
                    Some(p) => end = start + p + 1,
                    None => {
                        // One line longer than a block.
                        let line_end = newline_after(&m.map, end).map_or(len, |p| p + 1);
                        if line_end - start > self.opts.max_line {
                            let cut = start..start + self.opts.max_line;
                            // The line's own end, so that line numbers
                            // counted over the blocks stay right.
                            let ends = line_end > 0 && m.map[line_end - 1] == b'\n';
                            if !self.block(start as u64, BlockData::Mapped(m.clone(), cut))
                                || (ends
                                    && !self.block(
                                        line_end as u64 - 1,
                                        BlockData::Owned(b"\n".to_vec()),
                                    ))
                                || !self.long_line(start as u64)
                            {
                                return Ok(start as u64);
                            }
                            start = line_end;
                            continue;
                        }
                        end = line_end;
                    }
                }
            }
            let range = start..end;
            if !self.block(start as u64, BlockData::Mapped(m.clone(), range))
                || !self.send(ReadItem::Progress((end - start) as u64))
            {
                return Ok(end as u64);
            }
            start = end;
        }
        Ok(len as u64)
    }

    /// A block of text read from a stream: held back first for gzip.
    fn owned(&self, offset: u64, data: Vec<u8>) -> bool {
        let released = match self.held.borrow_mut().as_mut() {
            Some(h) => h.push(offset, data),
            None => return self.block(offset, BlockData::Owned(data)),
        };
        released
            .into_iter()
            .all(|(o, d)| self.block(o, BlockData::Owned(d)))
    }

    /// Reads a stream into blocks ending on line ends; a partial last line
    /// is carried into the next block, and a line over the limit is cut. A
    /// gzip stream that fails is cut where its text stops looking like a
    /// log.
    fn stream(&self, path: &Path, r: impl Read, gzip: bool) -> ReadResult {
        if gzip {
            *self.held.borrow_mut() = Some(Held::default());
        }
        let result = self.stream_blocks(path, r, gzip);
        let Some(held) = self.held.borrow_mut().take() else {
            return result;
        };
        match result {
            Ok(n) => {
                for (o, d) in held.release() {
                    if !self.block(o, BlockData::Owned(d)) {
                        break;
                    }
                }
                Ok(n)
            }
            Err((n, e)) => {
                let (blocks, end) = held.salvage();
                for (o, d) in blocks {
                    if !self.block(o, BlockData::Owned(d)) {
                        break;
                    }
                }
                Err((n, located(e, end)))
            }
        }
    }

    fn stream_blocks(&self, path: &Path, mut r: impl Read, gzip: bool) -> ReadResult {
        let block = self.opts.block;
        // Stream offset of `buf[0]`.
        let mut offset = 0u64;
        let mut buf: Vec<u8> = Vec::with_capacity(block + 4096);
        // How full to fill `buf`: one block, or more while one line is
        // longer than a block (up to the line limit). `scanned`: bytes
        // known to hold no line end, so a long line is searched once.
        let mut want = block;
        let mut scanned = 0usize;
        // Bytes read past a skipped line's end, read before `r` again so
        // that no block grows past `want`.
        let mut pending: Vec<u8> = Vec::new();
        let failed = |delivered: u64, e: io::Error| {
            let err = if gzip {
                Error::Gzip {
                    path: path.to_path_buf(),
                    offset: delivered,
                    message: e.to_string(),
                }
            } else {
                Error::io(path, e)
            };
            (delivered, err)
        };
        loop {
            let (filled, eof) = match fill(&mut pending, &mut r, &mut buf, want) {
                Ok(x) => x,
                Err(e) => {
                    // Deliver what was read before the failure.
                    let delivered = offset + buf.len() as u64;
                    if !buf.is_empty() {
                        self.owned(offset, std::mem::take(&mut buf));
                    }
                    return Err(failed(delivered, e));
                }
            };
            if filled == 0 {
                return Ok(offset);
            }
            let cut = if eof {
                buf.len()
            } else {
                match memchr::memrchr(b'\n', &buf[scanned..]) {
                    Some(p) => scanned + p + 1,
                    None if buf.len() > self.opts.max_line => {
                        // A line over the limit: keep its start, skip the rest.
                        let seen = buf.len() as u64;
                        buf.truncate(self.opts.max_line);
                        buf.push(b'\n');
                        let line = std::mem::replace(&mut buf, Vec::with_capacity(block + 4096));
                        if !self.owned(offset, line) || !self.long_line(offset) {
                            return Ok(offset);
                        }
                        let (skipped, rest) = match skip_line(&mut pending, &mut r) {
                            Ok(x) => x,
                            Err(e) => return Err(failed(offset + seen, e)),
                        };
                        let line_start = offset;
                        offset += seen + skipped;
                        match rest {
                            Some(rest) => pending = rest,
                            None if skipped >= SKIP_LIMIT => {
                                return Err((offset, endless(path, line_start)));
                            }
                            None => return Ok(offset),
                        }
                        want = block;
                        scanned = 0;
                        continue;
                    }
                    None => {
                        scanned = buf.len();
                        want = buf.len() + block;
                        continue;
                    }
                }
            };
            want = block;
            scanned = 0;
            let rest = buf.split_off(cut);
            let len = buf.len() as u64;
            let full = std::mem::replace(&mut buf, {
                let mut v = Vec::with_capacity(block + 4096);
                v.extend_from_slice(&rest);
                v
            });
            if !self.owned(offset, full) {
                return Ok(offset);
            }
            offset += len;
            if eof && buf.is_empty() {
                return Ok(offset);
            }
        }
    }
}

/// Fills `buf` up to `want` bytes; returns (bytes in `buf`, end reached).
fn fill(
    pending: &mut Vec<u8>,
    r: &mut impl Read,
    buf: &mut Vec<u8>,
    want: usize,
) -> io::Result<(usize, bool)> {
    // Zero the buffer once per block, not once per read: a decoder returns
    // a few KiB a call, and re-zeroing the rest of a block-sized buffer each
    // time cost more than the decompression.
    let mut filled = buf.len();
    if filled < want {
        buf.resize(want, 0);
    }
    let n = pending.len().min(want.saturating_sub(filled));
    buf[filled..filled + n].copy_from_slice(&pending[..n]);
    pending.drain(..n);
    filled += n;
    let mut eof = false;
    while filled < want {
        match r.read(&mut buf[filled..want]) {
            Ok(0) => {
                eof = true;
                break;
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(filled);
                return Err(e);
            }
        }
    }
    buf.truncate(filled);
    Ok((filled, eof))
}

/// Reads past the rest of a cut line: (bytes skipped up to and including
/// its line end, the bytes read after it), or no rest when the stream ended
/// or [`SKIP_LIMIT`] was reached first.
fn skip_line(pending: &mut Vec<u8>, r: &mut impl Read) -> io::Result<(u64, Option<Vec<u8>>)> {
    // The line may go on in what was read ahead.
    if let Some(p) = memchr::memchr(b'\n', pending) {
        let rest = pending.split_off(p + 1);
        let skipped = pending.len() as u64;
        pending.clear();
        return Ok((skipped, Some(rest)));
    }
    let mut skipped = pending.len() as u64;
    pending.clear();
    let mut scratch = vec![0u8; 64 * 1024];
    while skipped < SKIP_LIMIT {
        let n = match r.read(&mut scratch) {
            Ok(0) => return Ok((skipped, None)),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if let Some(p) = memchr::memchr(b'\n', &scratch[..n]) {
            return Ok((skipped + p as u64 + 1, Some(scratch[p + 1..n].to_vec())));
        }
        skipped += n as u64;
    }
    Ok((skipped, None))
}

/// The next line end at or after `from`, searched a window at a time with
/// each window's pages dropped again: a line of gigabytes must not stay
/// resident.
fn newline_after(map: &memmap2::Mmap, from: usize) -> Option<usize> {
    const WINDOW: usize = 16 * 1024 * 1024;
    let mut at = from;
    while at < map.len() {
        let end = (at + WINDOW).min(map.len());
        let found = memchr::memchr(b'\n', &map[at..end]).map(|p| at + p);
        release(map, at..end);
        if found.is_some() {
            return found;
        }
        at = end;
    }
    None
}

/// A gzip failure with where its text broke, when that was found.
fn located(e: Error, end: Salvaged) -> Error {
    let Error::Gzip {
        path,
        offset,
        message,
    } = e
    else {
        return e;
    };
    let (offset, message) = match end {
        Salvaged::Broke(at) => (at, format!("{message}; the text stops looking like a log at decompressed byte {at}, and nothing from there on was analyzed")),
        Salvaged::Cut(at) => (at, message),
        Salvaged::Whole if message.contains("corrupt") => (offset, format!("{message}; the damage was not found in the last {} MiB of text, so the lines before the failure were analyzed as they came", super::salvage::HOLD >> 20)),
        Salvaged::Whole => (offset, message),
    };
    Error::Gzip {
        path,
        offset,
        message,
    }
}

fn shrank(path: &Path, was: u64, now: u64, read: u64) -> Error {
    Error::io(
        path,
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the file shrank from {was} to {now} bytes while it was read (rotated or copied over?); the lines after byte {read} were not analyzed"),
        ),
    )
}

fn endless(path: &Path, at: u64) -> Error {
    Error::io(
        path,
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a line starting at byte {at} runs on for more than {} MiB without a line end: not a log; the rest of the file was not read", SKIP_LIMIT >> 20),
        ),
    )
}

/// What reading a stream gave: its text as blocks would hand it out, the
/// offsets of the lines cut, and the failure that stopped it, if any.
#[derive(Debug, Default)]
pub struct StreamText {
    pub text: Vec<u8>,
    pub long_lines: Vec<u64>,
    pub failure: Option<Error>,
}

/// Reads `r` as the reader thread reads a stream (long lines cut, endless
/// ones stopped, a failing gzip stream cut where its text breaks), into
/// memory: for tests and fuzzing.
pub fn read_stream_to_end(r: impl Read + Send, gzip: bool, opts: ReadOptions) -> StreamText {
    let (tx, rx) = sync_channel(16);
    std::thread::scope(|scope| {
        let drain = scope.spawn(move || {
            let mut out = StreamText::default();
            for item in rx {
                match item {
                    ReadItem::Block(b) => out.text.extend_from_slice(b.data.bytes()),
                    ReadItem::LongLine { offset, .. } => out.long_lines.push(offset),
                    _ => {}
                }
            }
            out
        });
        let sink = Sink {
            source: 0,
            tx: &tx,
            opts,
            held: RefCell::new(None),
        };
        let failure = sink.stream(Path::new("-"), r, gzip).err().map(|e| e.1);
        drop(tx);
        let mut out = drain.join().expect("the drain does not panic");
        out.failure = failure;
        out
    })
}

/// Splits `buf` into about `parts` pieces ending on line ends.
pub fn split_lines(buf: &[u8], parts: usize) -> Vec<&[u8]> {
    let parts = parts.max(1);
    let target = buf.len() / parts + 1;
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    while start < buf.len() {
        let mut end = (start + target).min(buf.len());
        if end < buf.len() {
            end = memchr::memchr(b'\n', &buf[end..]).map_or(buf.len(), |p| end + p + 1);
        }
        out.push(&buf[start..end]);
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_on_line_ends() {
        let buf = b"a\nbb\nccc\ndddd\n";
        let parts = split_lines(buf, 3);
        assert!(parts.iter().all(|p| p.ends_with(b"\n")));
        assert_eq!(parts.concat(), buf.to_vec());
    }

    /// Everything a stream reader sends for `input`, as (blocks joined,
    /// long-line offsets, failure).
    fn read_all(input: Vec<u8>, opts: ReadOptions) -> (Vec<u8>, Vec<u64>, Option<String>) {
        let r = read_stream_to_end(io::Cursor::new(input), false, opts);
        (r.text, r.long_lines, r.failure.map(|e| e.to_string()))
    }

    #[test]
    fn a_line_over_the_limit_keeps_its_start_and_the_rest_follows() {
        let opts = ReadOptions {
            block: 64,
            max_line: 100,
        };
        let mut input = b"first line\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 1000));
        input.extend_from_slice(b"\nlast line\n");
        let (got, long, failed) = read_all(input, opts);
        let mut want = b"first line\n".to_vec();
        want.extend(std::iter::repeat_n(b'x', 100));
        want.extend_from_slice(b"\nlast line\n");
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want)
        );
        assert_eq!(long, [11]);
        assert_eq!(failed, None);
    }

    #[test]
    fn lines_within_the_limit_are_whole_even_past_a_block() {
        let opts = ReadOptions {
            block: 16,
            max_line: 1000,
        };
        let mut input = b"a\n".to_vec();
        input.extend(std::iter::repeat_n(b'y', 500));
        input.extend_from_slice(b"\nb");
        let (got, long, _) = read_all(input.clone(), opts);
        assert_eq!(got, input);
        assert!(long.is_empty());
    }

    /// Found by fuzzing: what was read past a cut line's end went into the
    /// next block whole, so the lines after it (up to 64 KiB of them) were
    /// never cut. Now it is read like the rest of the stream.
    #[test]
    fn lines_after_a_cut_line_are_cut_too() {
        let opts = ReadOptions {
            block: 256,
            max_line: 64,
        };
        let long = |c: u8| {
            let mut l = vec![c; 300];
            l.push(b'\n');
            l
        };
        let mut input = Vec::new();
        for c in [b'a', b'b', b'c'] {
            input.extend(long(c));
            input.extend_from_slice(b"short line\n");
        }
        let (got, long_lines, failed) = read_all(input, opts);
        let lines: Vec<&[u8]> = got.split(|&b| b == b'\n').collect();
        assert_eq!(lines.len(), 7, "{}", String::from_utf8_lossy(&got));
        for c in [b'a', b'b', b'c'] {
            let cut = [c; 64];
            assert!(lines.contains(&&cut[..]), "{}", c as char);
        }
        assert_eq!(lines.iter().filter(|l| *l == b"short line").count(), 3);
        assert_eq!(long_lines, [0, 312, 624]);
        assert_eq!(failed, None);
    }
}
