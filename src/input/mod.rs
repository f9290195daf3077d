//! Files to blocks of whole lines, oldest first.
//!
//! An operator hands us a folder of rotations (`mail.log`, `mail.log.1`,
//! `mail.log.2.gz`, `maillog-20260103.gz`, `maillog.20260103-101112.gz`),
//! single files, or `-` for stdin. [`discover`] finds them, orders each
//! rotation series oldest to newest and tells logs from queue dumps and junk
//! by their content; [`spawn_reader`] reads them on a thread of its own and
//! hands out blocks that end on a line end, so the parse stage can split
//! them across cores.

mod discover;
pub mod dump;
#[cfg(unix)]
mod guard;
pub mod gzip;
mod journal;
pub mod lines;
pub mod overlap;
mod read;
mod salvage;

use std::path::PathBuf;
use std::time::SystemTime;

use crate::error::Error;

pub use discover::{detect_kind, discover};
pub use journal::journal_record_to_line;
pub use read::{
    read_stream_to_end, spawn_reader, split_lines, Block, BlockData, ReadItem, ReadOptions,
    StreamText, BLOCK, MAX_LINE, SKIP_LIMIT,
};

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
    /// A syslog severity file (`mail.warn`, `mail.err`, `mail.info`): read
    /// after the other inputs, its lines that another input holds skipped.
    pub severity_file: bool,
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
