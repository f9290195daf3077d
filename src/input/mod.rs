//! Files to blocks of whole lines, oldest first.
//!
//! An operator hands us a folder of rotations (`mail.log`, `mail.log.1`,
//! `mail.log.2.gz`, `maillog-20260103.gz`, `maillog.20260103-101112.gz`),
//! single files, or `-` for stdin. We find them, order each rotation series
//! oldest to newest, tell logs from queue dumps and junk by their content,
//! and hand out blocks that end on a line end so the parse stage can split
//! them across cores.
//!
//! Reading happens on its own thread, so decompression overlaps parsing.
//! Rotated plain files are memory-mapped; the live file (no rotation suffix)
//! is read with `read(2)`, because logrotate's copytruncate may shrink it
//! while we read and a shrunk mapping kills the process with SIGBUS.

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::time::SystemTime;

use crate::error::Error;

/// What a file holds, judged by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Maillog,
    /// `journalctl -o json`: one JSON record a line, turned into syslog
    /// lines as it is read.
    JournalJson,
    QueueText,
    QueueJson,
}

impl SourceKind {
    pub fn id(self) -> &'static str {
        match self {
            SourceKind::Maillog => "maillog",
            SourceKind::JournalJson => "journal_json",
            SourceKind::QueueText => "queue_text",
            SourceKind::QueueJson => "queue_json",
        }
    }
}

/// One input to analyze.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path as given, or `-` for stdin.
    pub path: PathBuf,
    pub kind: SourceKind,
    pub compressed: bool,
    /// Size on disk (compressed size for gzip); 0 for stdin.
    pub bytes: u64,
    pub mtime: Option<SystemTime>,
    /// Files of one rotation series share a number (folder + base name);
    /// the year of year-less stamps is tracked per series.
    pub series: u32,
    /// The file syslog still writes to: read, never mapped.
    pub live: bool,
}

impl Source {
    pub fn display(&self) -> String {
        self.path.display().to_string()
    }
    pub fn is_stdin(&self) -> bool {
        self.path.as_os_str() == "-"
    }
}

/// A file we looked at and did not use, with the reason.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Discovery {
    pub sources: Vec<Source>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<Error>,
}

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

/// Names worth opening inside a folder: logs and queue dumps. rsyslog's
/// `mail.warn`/`mail.err`/`mail.info` repeat lines of `mail.log`, so they
/// would be counted twice.
fn folder_candidate(name: &str) -> Result<(), &'static str> {
    let lower = name.to_ascii_lowercase();
    if lower.starts_with('.') {
        return Err("hidden file");
    }
    let stem = lower.strip_suffix(".gz").unwrap_or(&lower);
    let stem_no_num = stem.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-');
    for dup in ["mail.warn", "mail.err", "mail.info"] {
        if stem_no_num.starts_with(dup) {
            return Err("a severity subset of mail.log (its lines are already in mail.log)");
        }
    }
    Ok(())
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
        let mut dec = flate2::read::MultiGzDecoder::new(File::open(path)?);
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
    if depth > 8 {
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
            if !name.starts_with('.') {
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
        });
    }
    d
}

/// Bytes of whole lines, from a mapping or a buffer.
#[derive(Debug)]
pub enum BlockData {
    Mapped(Arc<memmap2::Mmap>, Range<usize>),
    Owned(Vec<u8>),
}

impl BlockData {
    /// Tells the kernel the block's pages of a mapped file are done with,
    /// so that resident memory does not grow with the file. Call only once
    /// nothing borrows from the block any more.
    pub fn release(&self) {
        if let BlockData::Mapped(m, r) = self {
            // The offset must be page-aligned: round the start up.
            let page = 4096;
            let start = r.start.div_ceil(page) * page;
            if start < r.end {
                // SAFETY: the mapping is read-only and private to us, and
                // the caller guarantees no slice of this range is alive;
                // after MADV_DONTNEED a read would fetch the page again
                // from the file, so even a stray read stays correct.
                let _ = unsafe {
                    m.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        start,
                        r.end - start,
                    )
                };
            }
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            BlockData::Mapped(m, r) => &m[r.clone()],
            BlockData::Owned(v) => v,
        }
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
}

/// Block size: big enough that per-block work is negligible, small enough
/// that a few in flight bound memory.
pub const BLOCK: usize = 16 * 1024 * 1024;

/// Starts the reader thread: it reads `sources` in order and sends blocks.
pub fn spawn_reader(sources: Vec<Source>, block: usize) -> Receiver<ReadItem> {
    let (tx, rx) = sync_channel(4);
    std::thread::Builder::new()
        .name("postmortem-reader".into())
        .spawn(move || {
            for (i, s) in sources.iter().enumerate() {
                let r = read_source(i, s, block, &tx);
                let bytes = match r {
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

fn read_source(i: usize, s: &Source, block: usize, tx: &SyncSender<ReadItem>) -> ReadResult {
    if s.is_stdin() {
        // `zcat` is optional: a gzip stream on stdin is decompressed here.
        use io::BufRead;
        let mut input = io::BufReader::with_capacity(1 << 20, io::stdin().lock());
        let gzip = input
            .fill_buf()
            .map(|b| b.starts_with(&[0x1f, 0x8b]))
            .unwrap_or(false);
        if gzip {
            let dec = flate2::read::MultiGzDecoder::new(input);
            return read_stream(i, &s.path, dec, block, tx, true);
        }
        return read_stream(i, &s.path, input, block, tx, false);
    }
    let file = File::open(&s.path).map_err(|e| (0, Error::io(&s.path, e)))?;
    if s.kind == SourceKind::JournalJson {
        let counting = CountingReader {
            inner: file,
            tx: tx.clone(),
        };
        let raw: Box<dyn Read> = if s.compressed {
            Box::new(flate2::read::MultiGzDecoder::new(
                io::BufReader::with_capacity(1 << 20, counting),
            ))
        } else {
            Box::new(counting)
        };
        let journal = JournalReader {
            inner: io::BufReader::with_capacity(1 << 20, raw),
            pending: Vec::new(),
            at: 0,
        };
        return read_stream(i, &s.path, journal, block, tx, s.compressed);
    }
    if s.compressed {
        let counting = CountingReader {
            inner: file,
            tx: tx.clone(),
        };
        let dec =
            flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(1 << 20, counting));
        return read_stream(i, &s.path, dec, block, tx, true);
    }
    if !s.live && !in_flux(s) {
        // SAFETY: the file is a rotated log that nothing writes to any more;
        // if it were truncated while mapped, reading the lost pages would
        // raise SIGBUS. Live files, and rotated ones touched in the last few
        // minutes (a rotation may still be at work on them), never take this
        // path; the remaining risk is someone truncating an old rotation by
        // hand during the run.
        if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
            #[cfg(unix)]
            let _ = map.advise(memmap2::Advice::Sequential);
            let map = Arc::new(map);
            let len = map.len();
            let mut start = 0usize;
            while start < len {
                let mut end = (start + block).min(len);
                if end < len {
                    end = match memchr::memrchr(b'\n', &map[start..end]) {
                        Some(p) => start + p + 1,
                        // One line longer than a block: take it whole.
                        None => memchr::memchr(b'\n', &map[end..]).map_or(len, |p| end + p + 1),
                    };
                }
                let item = ReadItem::Block(Block {
                    source: i,
                    offset: start as u64,
                    data: BlockData::Mapped(map.clone(), start..end),
                });
                if tx.send(item).is_err()
                    || tx.send(ReadItem::Progress((end - start) as u64)).is_err()
                {
                    return Ok(end as u64);
                }
                start = end;
            }
            return Ok(len as u64);
        }
    }
    let counting = CountingReader {
        inner: file,
        tx: tx.clone(),
    };
    read_stream(i, &s.path, counting, block, tx, false)
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

/// Turns `journalctl -o json` records into syslog lines with an RFC 3339
/// stamp in UTC (`+00:00`: the export's clock, stated, not guessed).
/// Records it cannot read become a line without a stamp, counted later.
struct JournalReader<R> {
    inner: io::BufReader<R>,
    pending: Vec<u8>,
    at: usize,
}

impl<R: Read> Read for JournalReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use io::BufRead;
        while self.at >= self.pending.len() {
            self.pending.clear();
            self.at = 0;
            let mut line = Vec::new();
            if self.inner.read_until(b'\n', &mut line)? == 0 {
                return Ok(0);
            }
            journal_record_to_line(&line, &mut self.pending);
        }
        let n = buf.len().min(self.pending.len() - self.at);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// One journal JSON record as a syslog line (with its `\n`).
pub fn journal_record_to_line(record: &[u8], out: &mut Vec<u8>) {
    let trimmed = record.trim_ascii();
    if trimmed.is_empty() {
        return;
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(trimmed) else {
        out.extend_from_slice(b"unreadable journal record\n");
        return;
    };
    let text = |k: &str| -> Option<String> {
        match v.get(k)? {
            serde_json::Value::String(s) => Some(s.clone()),
            // journald writes non-UTF-8 or binary fields as byte arrays.
            serde_json::Value::Array(a) => {
                let bytes: Vec<u8> = a
                    .iter()
                    .filter_map(|x| x.as_u64().map(|b| b as u8))
                    .collect();
                Some(String::from_utf8_lossy(&bytes).into_owned())
            }
            other => Some(other.to_string()),
        }
    };
    let micros: i64 = text("__REALTIME_TIMESTAMP")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let t = crate::time::LogTime(micros.div_euclid(1000));
    let (y, mo, d, h, mi, s, ms) = t.civil();
    let host = text("_HOSTNAME").unwrap_or_default();
    let ident = text("SYSLOG_IDENTIFIER")
        .or_else(|| text("_COMM"))
        .unwrap_or_default();
    let pid = text("SYSLOG_PID").or_else(|| text("_PID"));
    let message = text("MESSAGE").unwrap_or_default();
    use std::io::Write as _;
    let _ = write!(
        out,
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}+00:00 {} {}",
        host.replace(' ', "_"),
        ident.replace(' ', "_")
    );
    if let Some(p) = pid {
        let _ = write!(out, "[{p}]");
    }
    out.extend_from_slice(b": ");
    // One record, one line: embedded line ends would split it.
    for c in message.bytes() {
        out.push(if c == b'\n' || c == b'\r' { b' ' } else { c });
    }
    out.push(b'\n');
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

/// Reads a stream into blocks ending on a line end; a partial last line is
/// carried into the next block.
fn read_stream(
    i: usize,
    path: &Path,
    mut r: impl Read,
    block: usize,
    tx: &SyncSender<ReadItem>,
    gzip: bool,
) -> ReadResult {
    let mut offset = 0u64;
    let mut buf: Vec<u8> = Vec::with_capacity(block + 4096);
    // How full to fill `buf`: one block, or more while one line is longer
    // than a block. `scanned`: the bytes known to hold no line end, so a
    // long line is searched once, not once per read (a 1 GB line).
    let mut want = block;
    let mut scanned = 0usize;
    loop {
        let mut eof = false;
        // Zero the buffer once per block, not once per read: a decoder
        // returns a few KiB a call, and re-zeroing the rest of a 16 MiB
        // buffer each time cost more than the decompression.
        let mut filled = buf.len();
        if filled < want {
            buf.resize(want, 0);
        }
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
                    // Deliver what was read before the failure.
                    let delivered = offset + buf.len() as u64;
                    if !buf.is_empty() {
                        let _ = tx.send(ReadItem::Block(Block {
                            source: i,
                            offset,
                            data: BlockData::Owned(std::mem::take(&mut buf)),
                        }));
                    }
                    let err = if gzip {
                        Error::Gzip {
                            path: path.to_path_buf(),
                            offset: delivered,
                            message: e.to_string(),
                        }
                    } else {
                        Error::io(path, e)
                    };
                    return Err((delivered, err));
                }
            }
        }
        buf.truncate(filled);
        if buf.is_empty() {
            return Ok(offset);
        }
        let cut = if eof {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf[scanned..]) {
                Some(p) => scanned + p + 1,
                None => {
                    // A line longer than a block: read on until it ends.
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
        if tx
            .send(ReadItem::Block(Block {
                source: i,
                offset,
                data: BlockData::Owned(full),
            }))
            .is_err()
        {
            return Ok(offset);
        }
        offset += len;
        if eof && buf.is_empty() {
            return Ok(offset);
        }
    }
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
    fn journal_json_records_become_syslog_lines() {
        let rec = br#"{"SYSLOG_IDENTIFIER":"postfix/smtpd","_HOSTNAME":"andres","__REALTIME_TIMESTAMP":"1789228152650438","SYSLOG_PID":"314894","MESSAGE":"NOQUEUE: reject: RCPT from unknown[91.92.41.82]: 554 5.7.1 <verify@test.com>: Relay access denied; from=<test@test.com> to=<verify@test.com> proto=ESMTP helo=<test.com>"}"#;
        assert_eq!(detect_kind(rec), Some(SourceKind::JournalJson));
        let mut out = Vec::new();
        journal_record_to_line(rec, &mut out);
        let line = String::from_utf8(out).unwrap();
        assert!(line.starts_with("2026-09-12T"), "{line}");
        assert!(
            line.contains("+00:00 andres postfix/smtpd[314894]: NOQUEUE: reject: RCPT from"),
            "{line}"
        );
        let h = crate::parse::syslog::parse_header(line.trim_end().as_bytes()).unwrap();
        assert_eq!(h.program, b"postfix/smtpd");
        // A binary MESSAGE (array of bytes) and junk do not panic.
        let mut out = Vec::new();
        journal_record_to_line(
            br#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":[104,105,255]}"#,
            &mut out,
        );
        journal_record_to_line(b"{not json", &mut out);
        assert_eq!(String::from_utf8_lossy(&out).lines().count(), 2);
    }

    #[test]
    fn split_on_line_ends() {
        let buf = b"a\nbb\nccc\ndddd\n";
        let parts = split_lines(buf, 3);
        assert!(parts.iter().all(|p| p.ends_with(b"\n")));
        assert_eq!(parts.concat(), buf.to_vec());
    }

    #[test]
    fn severity_subsets_are_skipped() {
        assert!(folder_candidate("mail.warn").is_err());
        assert!(folder_candidate("mail.err.1").is_err());
        assert!(folder_candidate("mail.log.2.gz").is_ok());
    }
}
