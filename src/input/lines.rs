//! Finding raw log lines again, for evidence a person can check: the file,
//! the line number and the line itself.
//!
//! The first pass keeps no line (memory must not grow with the input), so
//! after the analysis the few lines each finding cites are looked up in a
//! second pass over the files whose time span meets a query, each file on
//! its own thread. One regex set of all the queries' literal needles tells,
//! per line, which needles it holds; a line is taken for a query when it
//! holds all of that query's needles and its time falls in the query's
//! window. Only each window is read: a plain file from the line a binary
//! search over its times finds, a gzip rotation from the checkpoint its
//! first-pass reader kept before the window (`gzip`), so no rotation is
//! decompressed twice.

use std::collections::HashMap;
use std::io::{self, BufRead, Read};

use rayon::prelude::*;

use super::gzip::{Checkpoint, GzIndex, GzReader};
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
    gz_index: &[GzIndex],
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
    let wants: Vec<usize> = queries.iter().map(|q| q.want).collect();
    // Each file is searched on its own (in parallel), then each query
    // keeps its first lines in file order, as one pass over the files in
    // order would.
    let per_file: Vec<Vec<Found>> = sources
        .par_iter()
        .enumerate()
        .map(|(i, s)| {
            let Some(&span) = spans.get(&i) else {
                return Vec::new();
            };
            let scan = Scan {
                queries,
                index: &index,
                set: &set,
                span,
            };
            let mut left = wants.clone();
            let mut out = Vec::new();
            scan.source(i, s, line_index, gz_index, &mut left, &mut out);
            out
        })
        .collect();
    let tags: HashMap<u32, usize> = queries
        .iter()
        .enumerate()
        .map(|(k, q)| (q.tag, k))
        .collect();
    let mut left = wants;
    let mut out = Vec::new();
    for found in per_file.into_iter().flatten() {
        if let Some(&k) = tags.get(&found.tag) {
            if left[k] > 0 {
                left[k] -= 1;
                out.push(found);
            }
        }
    }
    out
}

fn open(s: &Source) -> io::Result<Box<dyn BufRead>> {
    let file = std::fs::File::open(&s.path)?;
    Ok(if s.compressed {
        Box::new(io::BufReader::with_capacity(1 << 20, GzReader::new(file)))
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
    /// Searches one file by the way it can be read.
    fn source(
        &self,
        i: usize,
        s: &Source,
        line_index: &[&[(u64, u64)]],
        gz_index: &[GzIndex],
        left: &mut [usize],
        out: &mut Vec<Found>,
    ) {
        let (first, last) = self.span;
        let meets =
            |q: &Query| q.from <= LogTime(last.0 + DAY) && q.until >= LogTime(first.0 - DAY);
        if !self.queries.iter().any(meets) {
            return;
        }
        let checkpoints = gz_index.get(i).map_or(&[][..], |g| &g.checkpoints[..]);
        if s.compressed && !s.is_stdin() && !checkpoints.is_empty() {
            self.gzip(i, s, checkpoints, left, out);
        } else if s.compressed || s.is_stdin() {
            if let Ok(reader) = open(s) {
                self.file(i, reader, 0, None, left, out);
            }
        } else {
            let index = line_index.get(i).copied().unwrap_or(&[]);
            self.plain(i, s, index, left, out);
        }
    }

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

    /// A gzip file read first with checkpoints: each open query's lines
    /// are read from the last checkpoint before its window (found by a
    /// binary search over the checkpoints' times), not from the file's
    /// start.
    fn gzip(
        &self,
        source: usize,
        s: &Source,
        checkpoints: &[Checkpoint],
        left: &mut [usize],
        out: &mut Vec<Found>,
    ) {
        let mut times: Vec<Option<Option<LogTime>>> = vec![None; checkpoints.len()];
        // Only the queries whose window meets the file's lines: a scan for
        // one past the file's end would read from its last checkpoint on.
        let (first, last) = self.span;
        let meets = |q: &Query| q.from.0 <= last.0 + SLACK && q.until.0 >= first.0 - SLACK;
        let mut order: Vec<usize> = (0..self.queries.len())
            .filter(|&q| left[q] > 0 && meets(&self.queries[q]))
            .collect();
        order.sort_by_key(|&q| self.queries[q].from);
        for q in order {
            if left[q] == 0 {
                continue;
            }
            let target = LogTime(self.queries[q].from.0 - SLACK);
            // Checkpoints whose first line is before the window; one whose
            // time is unknown counts as not before (reading more is safe).
            let (mut lo, mut hi) = (0, checkpoints.len());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                let t = *times[mid].get_or_insert_with(|| self.probe(s, &checkpoints[mid]));
                if t.is_some_and(|t| t < target) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            let Some((reader, first_line)) =
                resume(s, lo.checked_sub(1).map(|k| &checkpoints[k]), 1 << 20)
            else {
                return;
            };
            let stop = LogTime(self.queries[q].until.0 + SLACK);
            self.file(source, reader, first_line, Some(stop), left, out);
        }
    }

    /// The time of the first stamped line after a checkpoint.
    fn probe(&self, s: &Source, c: &Checkpoint) -> Option<LogTime> {
        let (mut r, _) = resume(s, Some(c), 64 << 10)?;
        let mut line = Vec::new();
        for _ in 0..16 {
            line.clear();
            if (&mut r).take(64 * 1024).read_until(b'\n', &mut line).ok()? == 0 {
                return None;
            }
            if let Some(t) = parse_header(&line).and_then(|h| self.time_of(h.stamp)) {
                return Some(t);
            }
        }
        None
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
        let mut open = OpenWindows::of(self.queries, left);
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
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let Some(time) = parse_header(text).and_then(|h| self.time_of(h.stamp)) else {
                continue;
            };
            // Logs are in time order, give or take: past every open
            // query's window, the rest of the file cannot serve.
            let beyond = open.until.is_none_or(|u| time > u) || stop.is_some_and(|s| time > s);
            // Most lines read lead up to a window: their time rules them
            // out before their text is matched.
            if !beyond && !open.holds(time) {
                continue;
            }
            let matched = self.set.matches(&line);
            if !matched.matched_any() {
                continue;
            }
            if beyond {
                return;
            }
            let mut changed = false;
            for (q, query) in self.queries.iter().enumerate() {
                let hit = left[q] > 0
                    && time >= query.from
                    && time < query.until
                    && self.index[q].iter().all(|&n| matched.matched(n));
                // Scans of overlapping windows meet a line twice (looked
                // for only on a hit: `out` grows with every line found).
                let seen = || {
                    out.iter()
                        .any(|f| f.tag == query.tag && f.source == source && f.line == number)
                };
                if hit && !seen() {
                    left[q] -= 1;
                    changed = true;
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
            if changed {
                open = OpenWindows::of(self.queries, left);
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

/// The windows of the queries still open, merged and in order, and the
/// latest time a line can serve one.
struct OpenWindows {
    spans: Vec<(LogTime, LogTime)>,
    until: Option<LogTime>,
}

impl OpenWindows {
    fn of(queries: &[Query], left: &[usize]) -> Self {
        let mut windows: Vec<(LogTime, LogTime)> = queries
            .iter()
            .zip(left)
            .filter(|(_, &n)| n > 0)
            .map(|(q, _)| (q.from, q.until))
            .collect();
        let until = windows.iter().map(|w| LogTime(w.1 .0 + SLACK)).max();
        windows.sort_unstable();
        let mut spans: Vec<(LogTime, LogTime)> = Vec::with_capacity(windows.len());
        for (from, to) in windows {
            match spans.last_mut() {
                Some(last) if from <= last.1 => last.1 = last.1.max(to),
                _ => spans.push((from, to)),
            }
        }
        OpenWindows { spans, until }
    }

    /// Whether `t` is inside an open query's window (`from <= t < until`).
    fn holds(&self, t: LogTime) -> bool {
        let p = self.spans.partition_point(|s| s.0 <= t);
        p > 0 && t < self.spans[p - 1].1
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

/// A gzip file read from a checkpoint (or its start), at a line start,
/// with the line ends before it.
fn resume(s: &Source, at: Option<&Checkpoint>, buffer: usize) -> Option<(Box<dyn BufRead>, u64)> {
    let file = std::fs::File::open(&s.path).ok()?;
    let Some(at) = at else {
        let r = io::BufReader::with_capacity(buffer, GzReader::new(file));
        return Some((Box::new(r), 0));
    };
    let gz = GzReader::resume(file, at).ok()?;
    let (start, newlines) = (gz.at_line_start(), gz.newlines());
    let mut r = io::BufReader::with_capacity(buffer, gz);
    if start {
        return Some((Box::new(r), newlines));
    }
    // The rest of the line the checkpoint cut.
    skip_to_line_end(&mut r).ok()?;
    Some((Box::new(r), newlines + 1))
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
    fn open_windows_merge_and_hold_what_their_queries_do() {
        let q = |from: i64, until: i64| Query {
            tag: 0,
            needles: Vec::new(),
            from: LogTime(from),
            until: LogTime(until),
            want: 1,
        };
        let queries = [q(10, 20), q(15, 30), q(30, 40), q(50, 60), q(70, 80)];
        // The last query has all it wants: its window is closed.
        let open = OpenWindows::of(&queries, &[1, 1, 1, 1, 0]);
        assert_eq!(
            open.spans,
            [(LogTime(10), LogTime(40)), (LogTime(50), LogTime(60))]
        );
        assert_eq!(open.until, Some(LogTime(60 + SLACK)));
        for t in 0..100 {
            let want = queries
                .iter()
                .take(4)
                .any(|w| w.from.0 <= t && t < w.until.0);
            assert_eq!(open.holds(LogTime(t)), want, "{t}");
        }
        let none = OpenWindows::of(&queries, &[0; 5]);
        assert!(none.until.is_none() && !none.holds(LogTime(15)));
    }

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

    /// A gzip rotation searched from its checkpoints finds the same lines,
    /// numbered the same, as one read from its start.
    #[test]
    fn a_gzip_file_searched_from_checkpoints_finds_what_a_full_read_finds() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mail.log.2.gz");
        let mut text = String::new();
        let t0 = LogTime::from_civil(2026, 11, 28, 0, 0, 0, 0).unwrap();
        for i in 0..40_000u32 {
            let (h, m, s) = (i / 3600, (i / 60) % 60, i % 60);
            let user = if i % 997 == 0 { "dave" } else { "alice" };
            text.push_str(&format!(
                "Nov 28 {h:02}:{m:02}:{s:02} mx postfix/smtpd[{}]: {i:08X}: client=x[192.0.2.{}], sasl_method=PLAIN, sasl_username={user}\n",
                i % 5000,
                i % 200
            ));
        }
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text.as_bytes()).unwrap();
        std::fs::write(&path, e.finish().unwrap()).unwrap();
        let mut gz = GzReader::indexed(std::fs::File::open(&path).unwrap()).spaced(64 << 10);
        let mut buf = vec![0; 16 << 10];
        while gz.read(&mut buf).unwrap() > 0 {}
        let index = gz.take_index();
        assert!(index.checkpoints.len() > 20, "{}", index.checkpoints.len());
        let source = Source {
            path,
            kind: SourceKind::Maillog,
            compressed: true,
            bytes: 0,
            mtime: None,
            series: 1,
            live: false,
            severity_file: false,
        };
        let at = |secs: u32| LogTime(t0.0 + i64::from(secs) * crate::time::SECOND);
        let spans = HashMap::from([(0, (at(0), at(39_999)))]);
        // dave's logins at 997 k seconds; a window around some of them.
        let queries: Vec<Query> = [(0, 1), (9_000, 3), (20_000, 2), (39_000, 5)]
            .iter()
            .enumerate()
            .map(|(tag, &(from, want))| Query {
                tag: tag as u32,
                needles: vec!["sasl_username=dave".into()],
                from: at(from),
                until: at(from + 3_000),
                want,
            })
            .collect();
        let indexed = find_lines(
            std::slice::from_ref(&source),
            &spans,
            &[],
            &[index],
            &queries,
        );
        let whole = find_lines(&[source], &spans, &[], &[], &queries);
        let lines = |f: &[Found]| {
            f.iter()
                .map(|f| (f.tag, f.line, f.text.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(lines(&indexed), lines(&whole));
        // The line numbers are the lines' own: line n holds second n - 1.
        let numbers: Vec<(u32, u64)> = indexed.iter().map(|f| (f.tag, f.line)).collect();
        assert_eq!(
            numbers,
            [
                (0, 1),
                (1, 9_971),
                (1, 10_968),
                (1, 11_965),
                (2, 20_938),
                (2, 21_935),
                (3, 39_881)
            ]
        );
    }
}
