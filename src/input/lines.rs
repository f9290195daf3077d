//! Finding raw log lines again, for evidence a person can check: the file,
//! the line number and the line itself.
//!
//! The first pass keeps no line (memory must not grow with the input), so
//! after the analysis the few lines each finding cites are looked up in a
//! second pass over the files whose time span meets a query. One regex set
//! of all the queries' literal needles tells, per line, which needles it
//! holds; a line is taken for a query when it holds all of that query's
//! needles and its time falls in the query's window. The pass stops once
//! every query has its lines.

use std::collections::HashMap;
use std::io::{self, BufRead, Read};

use super::Source;
use crate::parse::syslog::{parse_header, Stamp};
use crate::time::{LogTime, DAY, MINUTE};

/// How far out of time order a log's lines may be (syslog writes in order;
/// merged hosts and a clock step skew a little).
const SLACK: i64 = 5 * MINUTE;

/// Lines longer than this are cut when quoted.
const QUOTE_MAX: usize = 600;

/// What to look for.
#[derive(Debug, Clone)]
pub struct Query {
    /// The caller's tag, returned with each line found.
    pub tag: u32,
    /// Literal byte strings that must all occur in the line.
    pub needles: Vec<String>,
    pub from: LogTime,
    pub until: LogTime,
    /// How many lines to take (the first ones in log order).
    pub want: usize,
}

/// One line found.
#[derive(Debug, Clone)]
pub struct Found {
    pub tag: u32,
    /// Index into the sources searched.
    pub source: usize,
    /// 1-based line number in the (decompressed) file.
    pub line: u64,
    pub time: LogTime,
    pub text: String,
}

/// Looks up the queries' lines in `sources`; `spans` are each source's
/// first and last times from the first pass (they place a year-less stamp
/// in its year and skip files no query's window meets).
pub fn find_lines(
    sources: &[Source],
    spans: &HashMap<usize, (LogTime, LogTime)>,
    line_index: &[&[(u64, u64)]],
    queries: &[Query],
) -> Vec<Found> {
    let mut needles: Vec<String> = queries.iter().flat_map(|q| q.needles.clone()).collect();
    needles.sort();
    needles.dedup();
    let Ok(set) = regex::bytes::RegexSet::new(needles.iter().map(|n| regex::escape(n))) else {
        return Vec::new();
    };
    let index: Vec<Vec<usize>> = queries
        .iter()
        .map(|q| {
            q.needles
                .iter()
                .filter_map(|n| needles.binary_search(n).ok())
                .collect()
        })
        .collect();
    let mut left: Vec<usize> = queries.iter().map(|q| q.want).collect();
    let mut out = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        let Some(&(first, last)) = spans.get(&i) else {
            continue;
        };
        let meets =
            |q: &Query| q.from <= LogTime(last.0 + DAY) && q.until >= LogTime(first.0 - DAY);
        if !queries.iter().zip(&left).any(|(q, &n)| n > 0 && meets(q)) {
            continue;
        }
        let scan = Scan {
            queries,
            index: &index,
            set: &set,
            span: (first, last),
        };
        if s.compressed || s.is_stdin() {
            if let Ok(reader) = open(s) {
                scan.file(i, reader, 0, None, &mut left, &mut out);
            }
        } else {
            let index = line_index.get(i).copied().unwrap_or(&[]);
            scan.plain(i, s, index, &mut left, &mut out);
        }
        if left.iter().all(|&n| n == 0) {
            break;
        }
    }
    out
}

fn open(s: &Source) -> io::Result<Box<dyn BufRead>> {
    let file = std::fs::File::open(&s.path)?;
    Ok(if s.compressed {
        Box::new(io::BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(io::BufReader::new(file)),
        ))
    } else {
        Box::new(io::BufReader::with_capacity(1 << 20, file))
    })
}

struct Scan<'a> {
    queries: &'a [Query],
    index: &'a [Vec<usize>],
    set: &'a regex::bytes::RegexSet,
    span: (LogTime, LogTime),
}

impl Scan<'_> {
    /// A plain file: each open query's lines are read from the first line
    /// of its window on, found by a binary search over the file's times
    /// (logs are in time order), with line numbers counted up to there.
    fn plain(
        &self,
        source: usize,
        s: &Source,
        index: &[(u64, u64)],
        left: &mut [usize],
        out: &mut Vec<Found>,
    ) {
        let mapped = std::fs::File::open(&s.path)
            .ok()
            .and_then(|f| super::read::map(&f));
        let Some(mapped) = mapped else {
            // Not mappable: read it through.
            if let Ok(reader) = open(s) {
                self.file(source, reader, 0, None, left, out);
            }
            return;
        };
        let bytes = mapped.bytes();
        // Each open query from the first line of its window to an hour
        // past its end; lines of other queries met on the way are taken.
        let order: Vec<usize> = (0..self.queries.len()).filter(|&q| left[q] > 0).collect();
        let mut order: Vec<(usize, usize)> = order
            .into_iter()
            .map(|q| {
                (
                    self.offset_of(bytes, LogTime(self.queries[q].from.0 - SLACK)),
                    q,
                )
            })
            .collect();
        order.sort_unstable();
        // Line numbers counted from the nearest block the first pass
        // numbered (or from one start to the next).
        let (mut counted_to, mut lines_before) = (0usize, 0u64);
        for (at, q) in order {
            if left[q] == 0 {
                continue;
            }
            let known = index.partition_point(|&(o, _)| o as usize <= at);
            if let Some(&(o, n)) = known.checked_sub(1).and_then(|k| index.get(k)) {
                if o as usize > counted_to {
                    (counted_to, lines_before) = (o as usize, n);
                }
            }
            lines_before += memchr::memchr_iter(b'\n', &bytes[counted_to..at]).count() as u64;
            counted_to = at;
            let mut scanned = 0;
            let reader: Box<dyn BufRead> = Box::new(CountBytes {
                inner: &bytes[at..],
                read: &mut scanned,
            });
            let stop = LogTime(self.queries[q].until.0 + SLACK);
            self.file(source, reader, lines_before, Some(stop), left, out);
        }
    }

    /// The offset of the first line at or after `t` (a line start).
    fn offset_of(&self, bytes: &[u8], t: LogTime) -> usize {
        let (mut lo, mut hi) = (0usize, bytes.len());
        while hi - lo > 4096 {
            let mid = lo + (hi - lo) / 2;
            let start = memchr::memchr(b'\n', &bytes[mid..]).map_or(bytes.len(), |p| mid + p + 1);
            match self.time_after(&bytes[start..]) {
                Some(x) if x < t => lo = start,
                _ => hi = mid,
            }
        }
        // Back to a line start.
        memchr::memrchr(b'\n', &bytes[..lo]).map_or(0, |p| p + 1)
    }

    /// The time of the first stamped line in `bytes` (within a few lines).
    fn time_after(&self, bytes: &[u8]) -> Option<LogTime> {
        crate::parse::lines(bytes)
            .take(16)
            .find_map(|l| parse_header(l).and_then(|h| self.time_of(h.stamp)))
    }

    fn file(
        &self,
        source: usize,
        mut r: Box<dyn BufRead + '_>,
        first_line: u64,
        stop: Option<LogTime>,
        left: &mut [usize],
        out: &mut Vec<Found>,
    ) {
        let mut line = Vec::new();
        let mut number = first_line;
        loop {
            line.clear();
            // A line of any length is read, but only its start is kept.
            match (&mut r).take(64 * 1024).read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line.last() != Some(&b'\n') && line.len() == 64 * 1024 {
                let _ = skip_to_line_end(&mut r);
            }
            number += 1;
            let matched = self.set.matches(&line);
            if !matched.matched_any() {
                continue;
            }
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let Some(time) = parse_header(text).and_then(|h| self.time_of(h.stamp)) else {
                continue;
            };
            // Logs are in time order, give or take: past every open
            // query's window, the rest of the file cannot serve.
            let open_until = self
                .queries
                .iter()
                .zip(left.iter())
                .filter(|(_, &n)| n > 0)
                .map(|(q, _)| LogTime(q.until.0 + SLACK))
                .max();
            if open_until.is_none_or(|u| time > u) || stop.is_some_and(|s| time > s) {
                return;
            }
            for (q, query) in self.queries.iter().enumerate() {
                let hit = left[q] > 0
                    && time >= query.from
                    && time < query.until
                    && self.index[q].iter().all(|&n| matched.matched(n));
                // Scans of overlapping windows meet a line twice.
                let seen = out
                    .iter()
                    .any(|f| f.tag == query.tag && f.source == source && f.line == number);
                if hit && !seen {
                    left[q] -= 1;
                    let cut = &text[..text.len().min(QUOTE_MAX)];
                    out.push(Found {
                        tag: query.tag,
                        source,
                        line: number,
                        time,
                        text: String::from_utf8_lossy(cut).into_owned(),
                    });
                }
            }
            if left.iter().all(|&n| n == 0) {
                return;
            }
        }
    }

    /// A stamp's time, a year-less one placed in the year of the file's
    /// span that puts it inside the span (give or take a day).
    fn time_of(&self, stamp: Stamp) -> Option<LogTime> {
        if let Stamp::Full { time, .. } = stamp {
            return Some(time);
        }
        let (first, last) = self.span;
        [first.year(), last.year()]
            .into_iter()
            .filter_map(|y| stamp.in_year(y))
            .find(|t| t.0 >= first.0 - DAY && t.0 <= last.0 + DAY)
    }
}

/// Bytes read through it are counted (where a partial scan stopped).
struct CountBytes<'a> {
    inner: &'a [u8],
    read: &'a mut usize,
}

impl Read for CountBytes<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        *self.read += n;
        Ok(n)
    }
}

impl BufRead for CountBytes<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Ok(self.inner)
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.inner.len());
        self.inner = &self.inner[n..];
        *self.read += n;
    }
}

fn skip_to_line_end(r: &mut dyn BufRead) -> io::Result<()> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match memchr::memchr(b'\n', buf) {
            Some(p) => {
                r.consume(p + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                r.consume(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::SourceKind;

    #[test]
    fn lines_are_found_with_their_number_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mail.log");
        std::fs::write(
            &path,
            "Nov 28 10:00:00 mx postfix/smtpd[1]: A1: client=x[192.0.2.1], sasl_method=PLAIN, sasl_username=dave\n\
             Nov 28 10:05:00 mx postfix/qmgr[2]: A1: removed\n\
             Nov 28 11:00:00 mx postfix/smtpd[1]: B2: client=y[203.0.113.9], sasl_method=PLAIN, sasl_username=dave\n",
        )
        .unwrap();
        let source = Source {
            path,
            kind: SourceKind::Maillog,
            compressed: false,
            bytes: 0,
            mtime: None,
            series: 1,
            live: true,
            severity_file: false,
        };
        let t = |h| LogTime::from_civil(2026, 11, 28, h, 0, 0, 0).unwrap();
        let spans = HashMap::from([(0, (t(10), t(11)))]);
        let q = |tag, needles: &[&str], from, until| Query {
            tag,
            needles: needles.iter().map(|n| n.to_string()).collect(),
            from,
            until,
            want: 5,
        };
        let found = find_lines(
            &[source],
            &spans,
            &[],
            &[
                q(1, &["sasl_username=dave"], t(10), t(12)),
                q(2, &["sasl_username=dave", "[203.0.113.9]"], t(10), t(12)),
                q(3, &["sasl_username=dave"], t(10), LogTime(t(10).0 + 1)),
            ],
        );
        let by = |tag| {
            found
                .iter()
                .filter(|f| f.tag == tag)
                .map(|f| f.line)
                .collect::<Vec<_>>()
        };
        assert_eq!(by(1), [1, 3]);
        assert_eq!(by(2), [3]);
        assert_eq!(by(3), [1]);
        assert!(found[0].text.ends_with("sasl_username=dave"));
    }
}
