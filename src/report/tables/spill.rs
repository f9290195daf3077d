//! The correlator's rows, spilled to a file as they come and read back
//! once the analysis is done: a failure's cause is final only after the
//! port 25 judgement over the whole run, and `--redact` knows the server's
//! own IPs only then. Memory stays flat whatever the input: a row is
//! written and forgotten.
//!
//! A record is a tag byte and fixed little-endian fields, then
//! length-prefixed byte strings.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::correlate::{Attempt, AttemptStatus, EventSink, MessageSummary, Sym};
use crate::parse::QueueId;
use crate::time::LogTime;

const ATTEMPT: u8 = 1;
const REPEAT: u8 = 2;
const MESSAGE: u8 = 3;
/// Reply texts are kept to this length, as the reports quote them.
const REPLY_MAX: usize = crate::classify::cache::REASON_MAX;
/// Any other text (addresses, relays, Message-IDs) to this.
const TEXT_MAX: usize = crate::correlate::STRING_MAX;

/// Rows on their way to the event tables.
pub struct Spill {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    error: Option<std::io::Error>,
    buf: Vec<u8>,
    pub attempts: u64,
    pub messages: u64,
}

impl Spill {
    /// A new spill file in `dir` (created when missing), removed on drop.
    pub fn create(dir: &Path) -> crate::Result<Spill> {
        std::fs::create_dir_all(dir).map_err(|e| crate::Error::io(dir, e))?;
        let path = dir.join(format!(".postmortem-rows-{}.tmp", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| crate::Error::io(&path, e))?;
        Ok(Spill {
            path,
            out: Some(BufWriter::with_capacity(1 << 20, file)),
            error: None,
            buf: Vec::with_capacity(512),
            attempts: 0,
            messages: 0,
        })
    }

    /// Forgets every row (the logs are read again).
    pub fn reset(&mut self) -> crate::Result<()> {
        let file = File::create(&self.path).map_err(|e| crate::Error::io(&self.path, e))?;
        self.out = Some(BufWriter::with_capacity(1 << 20, file));
        self.error = None;
        self.attempts = 0;
        self.messages = 0;
        Ok(())
    }

    fn put(&mut self) {
        if self.error.is_some() {
            return;
        }
        if let Some(out) = self.out.as_mut() {
            if let Err(e) = out.write_all(&self.buf) {
                self.error = Some(e);
            }
        }
    }

    /// The rows, in the order they came.
    pub fn reader(&mut self) -> crate::Result<SpillReader> {
        let path = self.path.clone();
        let io = |e| crate::Error::io(&path, e);
        if let Some(e) = self.error.take() {
            return Err(io(e));
        }
        if let Some(out) = self.out.take() {
            out.into_inner().map_err(|e| io(e.into_error()))?;
        }
        let file = File::open(&self.path).map_err(io)?;
        Ok(SpillReader {
            input: BufReader::with_capacity(1 << 20, file),
        })
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        self.out = None;
        let _ = std::fs::remove_file(&self.path);
    }
}

fn u8s(buf: &mut Vec<u8>, b: u8) {
    buf.push(b);
}
fn u32s(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_le_bytes());
}
fn u64s(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&v.to_le_bytes());
}
fn bytes(buf: &mut Vec<u8>, b: &[u8], max: usize) {
    let b = &b[..b.len().min(max)];
    u32s(buf, b.len() as u32);
    buf.extend_from_slice(b);
}

fn status_code(s: AttemptStatus) -> u8 {
    match s {
        AttemptStatus::Sent => 0,
        AttemptStatus::Deferred => 1,
        AttemptStatus::Bounced => 2,
        AttemptStatus::Discarded => 3,
        AttemptStatus::Quarantined => 4,
        AttemptStatus::HandedOff => 5,
    }
}

fn status_of(c: u8) -> AttemptStatus {
    match c {
        0 => AttemptStatus::Sent,
        1 => AttemptStatus::Deferred,
        2 => AttemptStatus::Bounced,
        3 => AttemptStatus::Discarded,
        4 => AttemptStatus::Quarantined,
        _ => AttemptStatus::HandedOff,
    }
}

impl EventSink for Spill {
    fn attempt(&mut self, a: &Attempt<'_>) {
        self.attempts += 1;
        let mut b = std::mem::take(&mut self.buf);
        b.clear();
        u8s(&mut b, ATTEMPT);
        u64s(&mut b, a.time.0 as u64);
        u32s(&mut b, a.host);
        b.extend_from_slice(&a.queue_id.0.to_le_bytes());
        u32s(&mut b, a.message);
        u32s(&mut b, a.identity);
        u8s(&mut b, status_code(a.status));
        u8s(&mut b, u8::from(a.soft_bounce));
        u32s(&mut b, a.outcome.unwrap_or(u32::MAX));
        for f in [a.recipient, a.orig_recipient, a.relay, a.dsn, a.delays] {
            bytes(&mut b, f, TEXT_MAX);
        }
        bytes(&mut b, a.reply, REPLY_MAX);
        self.buf = b;
        self.put();
    }

    fn repeat_last(&mut self, n: u64, time: LogTime) {
        self.attempts += n;
        self.buf.clear();
        u8s(&mut self.buf, REPEAT);
        u64s(&mut self.buf, n);
        u64s(&mut self.buf, time.0 as u64);
        self.put();
    }

    fn message(&mut self, m: &MessageSummary) {
        self.messages += 1;
        let mut b = std::mem::take(&mut self.buf);
        b.clear();
        u8s(&mut b, MESSAGE);
        u32s(&mut b, m.host);
        u32s(&mut b, m.message);
        u8s(&mut b, m.queue_ids.len() as u8);
        for q in &m.queue_ids {
            b.extend_from_slice(&q.0.to_le_bytes());
        }
        for f in [&m.message_id, &m.sender, &m.client_ip] {
            bytes(&mut b, f, TEXT_MAX);
        }
        u32s(&mut b, m.identity);
        u64s(&mut b, m.size);
        u32s(&mut b, m.nrcpt);
        u64s(&mut b, m.arrival.0 as u64);
        u64s(&mut b, m.removed.map_or(i64::MIN, |t| t.0) as u64);
        u32s(&mut b, m.bounce_of);
        let flags = [m.received, m.expired, m.deleted, m.held, m.rejected];
        u8s(
            &mut b,
            flags
                .iter()
                .enumerate()
                .fold(0, |acc, (i, &f)| acc | (u8::from(f) << i)),
        );
        u32s(&mut b, m.recipients.len() as u32);
        for (_, s) in &m.recipients {
            u8s(&mut b, status_code(*s));
        }
        self.buf = b;
        self.put();
    }

    fn restart(&mut self) {
        if let Err(e) = self.reset() {
            self.error = Some(std::io::Error::other(e.to_string()));
        }
    }
}

/// One delivery attempt read back.
#[derive(Debug, Clone, Default)]
pub struct AttemptRow {
    pub time: LogTime,
    pub host: Sym,
    pub queue_id: u128,
    pub message: u32,
    pub identity: Sym,
    pub status: u8,
    pub soft_bounce: bool,
    pub outcome: Option<u32>,
    pub recipient: Vec<u8>,
    pub orig_recipient: Vec<u8>,
    pub relay: Vec<u8>,
    pub dsn: Vec<u8>,
    pub delays: Vec<u8>,
    pub reply: Vec<u8>,
}

impl AttemptRow {
    pub fn status(&self) -> AttemptStatus {
        status_of(self.status)
    }
}

/// One message read back.
#[derive(Debug, Clone, Default)]
pub struct MessageRow {
    pub host: Sym,
    pub message: u32,
    pub queue_ids: Vec<QueueId>,
    pub message_id: Vec<u8>,
    pub sender: Vec<u8>,
    pub client_ip: Vec<u8>,
    pub identity: Sym,
    pub size: u64,
    pub nrcpt: u32,
    pub arrival: LogTime,
    pub removed: Option<LogTime>,
    pub bounce_of: u32,
    pub received: bool,
    pub expired: bool,
    pub deleted: bool,
    pub held: bool,
    pub rejected: bool,
    pub fates: Vec<AttemptStatus>,
}

/// A record of the spill.
pub enum Record {
    /// Fields are refilled in place: no allocation per row.
    Attempt,
    /// `n` more of the last attempt, at `time`.
    Repeat(u64, LogTime),
    Message(Box<MessageRow>),
}

pub struct SpillReader {
    input: BufReader<File>,
}

impl SpillReader {
    fn u8(&mut self) -> std::io::Result<u8> {
        let mut b = [0; 1];
        self.input.read_exact(&mut b)?;
        Ok(b[0])
    }
    fn u32(&mut self) -> std::io::Result<u32> {
        let mut b = [0; 4];
        self.input.read_exact(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn u64(&mut self) -> std::io::Result<u64> {
        let mut b = [0; 8];
        self.input.read_exact(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn u128(&mut self) -> std::io::Result<u128> {
        let mut b = [0; 16];
        self.input.read_exact(&mut b)?;
        Ok(u128::from_le_bytes(b))
    }
    fn bytes(&mut self, into: &mut Vec<u8>) -> std::io::Result<()> {
        let n = self.u32()? as usize;
        into.clear();
        into.resize(n, 0);
        self.input.read_exact(into)
    }

    /// The next record; an attempt is read into `row`. `None` at the end.
    pub fn next(&mut self, row: &mut AttemptRow) -> std::io::Result<Option<Record>> {
        let tag = match self.u8() {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        };
        match tag {
            ATTEMPT => {
                row.time = LogTime(self.u64()? as i64);
                row.host = self.u32()?;
                row.queue_id = self.u128()?;
                row.message = self.u32()?;
                row.identity = self.u32()?;
                row.status = self.u8()?;
                row.soft_bounce = self.u8()? != 0;
                row.outcome = Some(self.u32()?).filter(|&o| o != u32::MAX);
                self.bytes(&mut row.recipient)?;
                self.bytes(&mut row.orig_recipient)?;
                self.bytes(&mut row.relay)?;
                self.bytes(&mut row.dsn)?;
                self.bytes(&mut row.delays)?;
                self.bytes(&mut row.reply)?;
                Ok(Some(Record::Attempt))
            }
            REPEAT => {
                let n = self.u64()?;
                let t = LogTime(self.u64()? as i64);
                Ok(Some(Record::Repeat(n, t)))
            }
            MESSAGE => self.message().map(|m| Some(Record::Message(Box::new(m)))),
            t => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("row file: unknown record {t}"),
            )),
        }
    }

    fn message(&mut self) -> std::io::Result<MessageRow> {
        let mut m = MessageRow {
            host: self.u32()?,
            message: self.u32()?,
            ..MessageRow::default()
        };
        let n = self.u8()?;
        for _ in 0..n {
            m.queue_ids.push(QueueId(self.u128()?));
        }
        self.bytes(&mut m.message_id)?;
        self.bytes(&mut m.sender)?;
        self.bytes(&mut m.client_ip)?;
        m.identity = self.u32()?;
        m.size = self.u64()?;
        m.nrcpt = self.u32()?;
        m.arrival = LogTime(self.u64()? as i64);
        let removed = self.u64()? as i64;
        m.removed = (removed != i64::MIN).then_some(LogTime(removed));
        m.bounce_of = self.u32()?;
        let flags = self.u8()?;
        let bit = |i: u8| flags & (1 << i) != 0;
        (m.received, m.expired, m.deleted, m.held, m.rejected) =
            (bit(0), bit(1), bit(2), bit(3), bit(4));
        let n = self.u32()?;
        for _ in 0..n {
            m.fates.push(status_of(self.u8()?));
        }
        Ok(m)
    }
}
