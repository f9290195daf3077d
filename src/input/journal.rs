//! `journalctl -o json` exports, turned into syslog lines as they are read.

use std::io::{self, Read};

/// Turns `journalctl -o json` records into syslog lines with an RFC 3339
/// stamp in UTC (`+00:00`: the export's clock, stated, not guessed).
/// Records it cannot read become a line without a stamp, counted later.
pub(super) struct JournalReader<R> {
    inner: io::BufReader<R>,
    pending: Vec<u8>,
    at: usize,
}

impl<R: Read> JournalReader<R> {
    pub(super) fn new(inner: R) -> Self {
        JournalReader {
            inner: io::BufReader::with_capacity(1 << 20, inner),
            pending: Vec::new(),
            at: 0,
        }
    }
}

impl<R: Read> Read for JournalReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.pending.len() {
            self.pending.clear();
            self.at = 0;
            let mut line = Vec::new();
            if read_record(&mut self.inner, &mut line)? == 0 {
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

/// A record longer than this is not one journalctl wrote: its excess is
/// skipped, and what is kept fails to parse and is counted.
const RECORD_MAX: usize = 1 << 20;

/// Reads one record up to its line end into `out`, keeping at most
/// [`RECORD_MAX`] bytes of it; returns the bytes consumed (0 at the end).
fn read_record<R: io::BufRead>(r: &mut R, out: &mut Vec<u8>) -> io::Result<usize> {
    let mut consumed = 0;
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(consumed);
        }
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(p) => (p + 1, true),
            None => (buf.len(), false),
        };
        let room = RECORD_MAX.saturating_sub(out.len());
        out.extend_from_slice(&buf[..take.min(room)]);
        r.consume(take);
        consumed += take;
        if done {
            return Ok(consumed);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_json_records_become_syslog_lines() {
        let rec = br#"{"SYSLOG_IDENTIFIER":"postfix/smtpd","_HOSTNAME":"andres","__REALTIME_TIMESTAMP":"1789228152650438","SYSLOG_PID":"314894","MESSAGE":"NOQUEUE: reject: RCPT from unknown[91.92.41.82]: 554 5.7.1 <verify@test.com>: Relay access denied; from=<test@test.com> to=<verify@test.com> proto=ESMTP helo=<test.com>"}"#;
        assert_eq!(
            super::super::detect_kind(rec),
            Some(super::super::SourceKind::JournalJson)
        );
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
}
