//! The maillog as syslog and logrotate leave it: lines before the start of
//! the logs are lost (rotated away long ago), the rest is cut into files at
//! the daily logrotate run and at hourly runs once a file is over its size,
//! then named `mail.log`, `mail.log.1`, `mail.log.2.gz`, ... (delaycompress).

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};

use super::clock::{iso, stamp, HOUR, MIN, SEC};

struct Segment {
    text: Vec<u8>,
    lines: u64,
    first: i64,
    last: i64,
}

pub struct Sink {
    host: String,
    log_start: i64,
    segments: Vec<Segment>,
    /// The next hourly logrotate run (`:17`, cron.hourly, which rotates a
    /// file over its size); the 06:17 run rotates whatever is there (daily).
    next_check: i64,
    max_lines: u64,
    rotate_pending: bool,
    stamp_sec: i64,
    stamp: String,
    pub lines: u64,
    pub postfix_lines: u64,
    /// Times of the oldest and newest line written.
    pub first: Option<i64>,
    pub last: Option<i64>,
}

impl Sink {
    pub fn new(host: &str, log_start: i64, max_lines: u64) -> Sink {
        Sink {
            host: host.to_string(),
            log_start,
            segments: Vec::new(),
            next_check: (log_start / HOUR + 1) * HOUR + 17 * MIN,
            max_lines,
            rotate_pending: false,
            stamp_sec: i64::MIN,
            stamp: String::new(),
            lines: 0,
            postfix_lines: 0,
            first: None,
            last: None,
        }
    }

    fn rotate_checks(&mut self, t: i64) {
        while t >= self.next_check {
            let daily = self.next_check.rem_euclid(24 * HOUR) == 6 * HOUR + 17 * MIN;
            if let Some(s) = self.segments.last() {
                if s.lines > 0 && (daily || s.lines >= self.max_lines) {
                    self.rotate_pending = true;
                }
            }
            self.next_check += HOUR;
        }
    }

    /// Writes `prog[pid]: text` at `t`; false (and nothing written) when
    /// the line is older than the logs.
    pub fn line(&mut self, t: i64, prog: &str, pid: u32, text: &str) -> bool {
        if t < self.log_start {
            return false;
        }
        self.rotate_checks(t);
        if self.segments.is_empty() || self.rotate_pending {
            self.rotate_pending = false;
            self.segments.push(Segment {
                text: Vec::with_capacity(1 << 20),
                lines: 0,
                first: t,
                last: t,
            });
        }
        let sec = t.div_euclid(SEC);
        if sec != self.stamp_sec {
            self.stamp_sec = sec;
            self.stamp = stamp(t);
        }
        let s = self.segments.last_mut().expect("a segment");
        s.lines += 1;
        s.last = t;
        let mut head = String::with_capacity(64);
        let _ = write!(head, "{} {} {prog}", self.stamp, self.host);
        if pid != 0 {
            let _ = write!(head, "[{pid}]");
        }
        s.text.extend_from_slice(head.as_bytes());
        s.text.extend_from_slice(b": ");
        s.text.extend_from_slice(text.as_bytes());
        s.text.push(b'\n');
        self.lines += 1;
        self.first.get_or_insert(t);
        self.last = Some(t);
        if prog.starts_with("postfix/") {
            self.postfix_lines += 1;
        }
        true
    }

    /// Writes the files into `dir`, newest `mail.log`; returns their
    /// descriptions, oldest first.
    pub fn finish(&mut self, dir: &Path) -> io::Result<Vec<Value>> {
        let n = self.segments.len();
        let mut files = Vec::new();
        for (k, s) in std::mem::take(&mut self.segments).into_iter().enumerate() {
            let age = n - 1 - k;
            let (name, gz) = match age {
                0 => ("mail.log".to_string(), false),
                1 => ("mail.log.1".to_string(), false),
                a => (format!("mail.log.{a}.gz"), true),
            };
            let path = dir.join(&name);
            let mut f = File::create(&path)?;
            if gz {
                let mut e = GzEncoder::new(Vec::new(), Compression::new(6));
                e.write_all(&s.text)?;
                f.write_all(&e.finish()?)?;
            } else {
                f.write_all(&s.text)?;
            }
            // The file's time is its last line (the clock read as UTC): what
            // the year inference sees.
            let secs = (s.last / 1000).max(0) as u64;
            f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))?;
            files.push(json!({
                "name": name,
                "compressed": gz,
                "lines": s.lines,
                "first": iso(s.first),
                "last": iso(s.last),
            }));
        }
        Ok(files)
    }
}
