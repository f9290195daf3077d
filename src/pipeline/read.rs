//! Reading the maillogs: blocks from the reader thread are parsed in
//! parallel and correlated in order, one block behind, so parsing and the
//! sequential correlator overlap.

use std::time::SystemTime;

use rayon::prelude::*;

use super::Progress;
use crate::classify::Classifier;
use crate::correlate::{Correlator, EventSink, Findings, YearPolicy};
use crate::error::Result;
use crate::input::{self, ReadItem, Source};
use crate::model::{LineCounts, ProgramCount};
use crate::parse::{self, LineStats, ParsedChunk};
use crate::time::LogTime;

/// Which lines of a severity file to parse (the others are elsewhere).
type LineFilter<'a> = dyn Fn(&[u8]) -> bool + Sync + 'a;

/// A parsed chunk and its reasons' verdicts.
type Parsed = (ParsedChunk, Vec<(u32, crate::correlate::Classified)>);

/// Everything read from the maillogs.
pub struct LogAnalysis {
    pub findings: Findings,
    pub stats: Vec<LineStats>,
    pub problems: Vec<Vec<String>>,
    pub partial: bool,
    /// Each gzip file's checkpoints (empty for other sources), for the
    /// evidence pass.
    pub gz_index: Vec<input::gzip::GzIndex>,
}

/// How the maillogs are read.
#[derive(Clone)]
pub struct LogOptions<'a> {
    pub classifier: &'a Classifier,
    /// `--year`: the year of the first year-less line.
    pub year: Option<i32>,
    /// `--since` and `--until`.
    pub window: (Option<LogTime>, Option<LogTime>),
    /// Keep every message for messages.csv.
    pub track_messages: bool,
    pub max_line: usize,
    pub zone: Option<&'a jiff::tz::TimeZone>,
}

/// Reads the maillogs, inferring the year of year-less lines from the
/// newest file's date, or taking `--year`.
pub fn read_all(
    sources: &[Source],
    o: &LogOptions,
    pool: &rayon::ThreadPool,
    progress: &dyn Progress,
) -> Result<LogAnalysis> {
    read_all_into(sources, o, pool, progress, None)
}

/// [`read_all`], handing every delivery attempt and message to `sink` as
/// the logs are read (the event tables).
pub fn read_all_into(
    sources: &[Source],
    o: &LogOptions,
    pool: &rayon::ThreadPool,
    progress: &dyn Progress,
    mut sink: Option<&mut dyn EventSink>,
) -> Result<LogAnalysis> {
    let mut years = YearPolicy {
        forced: o.year,
        anchor: anchor_date(sources),
    };
    let first = sink.as_deref_mut().map(|s| s as &mut dyn EventSink);
    let mut analysis = read_logs(sources, o, years, pool, progress, first)?;
    // A year-less stamp after the newest file was written means the year
    // guess was one too late (logs copied without their dates): redo it a
    // year earlier rather than report times in the future.
    if o.year.is_none() && analysis.findings.future_stamps > 0 {
        if let Some((y, _)) = analysis.findings.year.clone() {
            years.forced = Some(y - 1);
            if let Some(s) = sink.as_deref_mut() {
                s.restart();
            }
            let again = sink.map(|s| s as &mut dyn EventSink);
            analysis = read_logs(sources, o, years, pool, &super::NoProgress, again)?;
            if let Some(yr) = analysis.findings.year.as_mut() {
                yr.1 = format!(
                    "inferred: {y} would put lines after the newest input's modification date, so the year before"
                );
            }
        }
    }
    Ok(analysis)
}

/// Reads and correlates the maillogs among `sources`, in order.
fn read_logs(
    sources: &[Source],
    o: &LogOptions,
    years: YearPolicy,
    pool: &rayon::ThreadPool,
    progress: &dyn Progress,
    sink: Option<&mut dyn EventSink>,
) -> Result<LogAnalysis> {
    let (classifier, max_line) = (o.classifier, o.max_line);
    let jobs = pool.current_num_threads();
    let mut correlator = correlator(classifier, o, years);
    if let Some(sink) = sink {
        correlator.set_sink(sink);
    }
    let mut stats: Vec<LineStats> = vec![LineStats::default(); sources.len()];
    let mut problems: Vec<Vec<String>> = vec![Vec::new(); sources.len()];
    let mut partial = false;
    let overlap = severity_overlap(sources, &mut problems);
    let rx = input::spawn_reader(
        sources.to_vec(),
        input::ReadOptions {
            block: input::BLOCK,
            max_line,
        },
    );
    let mut long_lines: Vec<(u64, Vec<u64>)> = vec![(0, Vec::new()); sources.len()];
    let mut gz_index: Vec<input::gzip::GzIndex> =
        sources.iter().map(|_| Default::default()).collect();
    let parts = jobs.max(1) * 4;
    // Parse block k+1 while correlating block k: the correlator is
    // sequential, parsing is parallel.
    let mut pending: Option<(input::Block, Vec<Parsed>)> = None;
    // Event buffers go back to the parsers once correlated.
    let spare: std::sync::Mutex<Vec<Vec<parse::LineEvent>>> = Default::default();
    let correlate = |c: &mut Correlator, stats: &mut Vec<LineStats>, done| {
        correlate_block(c, sources, parts, &spare, &mut stats[..], done)
    };
    pool.install(|| {
        for item in rx {
            match item {
                ReadItem::Block(block) => {
                    let prev = pending.take();
                    let keep = overlap
                        .as_ref()
                        .map(|o| o.filter_for(block.source, sources[block.source].severity_file));
                    let (parsed, cut) = rayon::join(
                        || {
                            parse_block(
                                &block,
                                parts,
                                &spare,
                                max_line,
                                keep.as_deref(),
                                classifier,
                            )
                        },
                        || {
                            prev.map(|prev| {
                                let source = prev.0.source;
                                (source, correlate(&mut correlator, &mut stats, prev))
                            })
                        },
                    );
                    if let Some((source, Some(at))) = cut {
                        shrunk(&mut problems[source], &sources[source], at);
                        partial = true;
                    }
                    pending = Some((block, parsed));
                }
                ReadItem::LongLine { source, offset } => {
                    let l = &mut long_lines[source];
                    l.0 += 1;
                    if l.1.len() < 10 {
                        l.1.push(offset);
                    }
                }
                ReadItem::Failed { source, error } => {
                    partial = true;
                    problems[source].push(error.to_string());
                }
                ReadItem::GzIndex { source, index } => gz_index[source] = index,
                ReadItem::Done { .. } => {}
                ReadItem::Progress(n) => progress.advance(n),
            }
        }
        if let Some(prev) = pending.take() {
            let source = prev.0.source;
            if let Some(at) = correlate(&mut correlator, &mut stats, prev) {
                shrunk(&mut problems[source], &sources[source], at);
                partial = true;
            }
        }
    });
    partial |= long_line_notes(sources, &stats, &long_lines, max_line, &mut problems);
    Ok(LogAnalysis {
        findings: correlator.finish(),
        stats,
        problems,
        partial,
        gz_index,
    })
}

/// Correlates a parsed block in order, then gives its event buffers back
/// and its mapped pages up; where a mapped file was cut, if it was.
fn correlate_block(
    c: &mut Correlator,
    sources: &[Source],
    parts: usize,
    spare: &std::sync::Mutex<Vec<Vec<parse::LineEvent>>>,
    stats: &mut [LineStats],
    done: (input::Block, Vec<Parsed>),
) -> Option<u64> {
    let (block, parsed) = done;
    let bytes = block.data.bytes();
    let series = sources[block.source].series;
    let subs = input::split_lines(bytes, parts);
    let st = &mut stats[block.source];
    st.line_index.push((block.offset, st.newlines));
    for (sub, (mut p, pre)) in subs.iter().zip(parsed) {
        c.consume_classified(block.source, series, sub, &p.events, pre);
        // Cut lines' offsets, from the chunk's start to the file's.
        let base = block.offset + (sub.as_ptr() as usize - bytes.as_ptr() as usize) as u64;
        for at in &mut p.stats.long_line_at {
            *at += base;
        }
        stats[block.source].merge(p.stats);
        spare
            .lock()
            .expect("no panics under the lock")
            .push(p.events);
    }
    drop(subs);
    let cut = block.data.cut_at();
    block.data.release();
    cut
}

/// Severity files (mail.warn, mail.err) are compared line by line with
/// the other inputs, so that what those hold is read once; why they could
/// not be goes to the severity file's problems.
fn severity_overlap(
    sources: &[Source],
    problems: &mut [Vec<String>],
) -> Option<input::overlap::Overlap> {
    let (overlap, why) = input::overlap::Overlap::build(sources);
    if let Some(why) = why {
        if let Some(i) = sources.iter().position(|s| s.severity_file) {
            problems[i].push(why);
        }
    }
    overlap
}

/// A correlator set up by the options.
fn correlator<'c>(classifier: &'c Classifier, o: &LogOptions, years: YearPolicy) -> Correlator<'c> {
    let mut correlator = Correlator::new(classifier, years);
    correlator.set_window(o.window.0, o.window.1);
    correlator.set_zone(o.zone.cloned());
    if o.track_messages {
        correlator.track_messages();
    }
    correlator
}

/// Parses a block in `parts` chunks on the pool, each with its reasons'
/// verdicts: the regexes run here, in parallel, not on the sequential
/// correlator. Event buffers are taken from `spare`.
fn parse_block(
    block: &input::Block,
    parts: usize,
    spare: &std::sync::Mutex<Vec<Vec<parse::LineEvent>>>,
    max_line: usize,
    keep: Option<&LineFilter<'_>>,
    classifier: &Classifier,
) -> Vec<Parsed> {
    let subs = input::split_lines(block.data.bytes(), parts);
    subs.par_iter()
        .map(|s| {
            let buf = spare.lock().expect("no panics under the lock").pop();
            let p = parse::parse_chunk_filtered(s, buf.unwrap_or_default(), max_line, keep);
            let pre = crate::correlate::preclassify(s, &p.events, classifier);
            (p, pre)
        })
        .collect()
}

/// A problem per file with lines cut at the line limit (by the reader or
/// the parser), with the first offsets; whether there was one.
fn long_line_notes(
    sources: &[Source],
    stats: &[LineStats],
    long_lines: &[(u64, Vec<u64>)],
    max_line: usize,
    problems: &mut [Vec<String>],
) -> bool {
    let mut any = false;
    for (i, st) in stats.iter().enumerate() {
        let (reader_cuts, reader_at) = &long_lines[i];
        let n = st.long_lines + reader_cuts;
        if n == 0 {
            continue;
        }
        let mut at: Vec<u64> = reader_at.iter().chain(&st.long_line_at).copied().collect();
        at.sort_unstable();
        at.truncate(3);
        let at: Vec<String> = at.iter().map(u64::to_string).collect();
        problems[i].push(format!(
            "{}: {n} lines longer than {} bytes were cut to that length (at byte {}); raise --max-line to read them whole",
            sources[i].display(),
            max_line,
            at.join(", ")
        ));
        any = true;
    }
    any
}

/// Notes a mapped file that shrank while it was read (once per file).
fn shrunk(problems: &mut Vec<String>, source: &Source, at: u64) {
    let msg = format!(
        "{}: the file shrank while it was read (rotated or copied over?); its lines from about byte {at} on were lost",
        source.display()
    );
    if !problems.contains(&msg) {
        problems.push(msg);
    }
}

/// The newest modification date among the logs, as a local civil date.
pub(super) fn anchor_date(sources: &[Source]) -> Option<(i32, u32, u32)> {
    let newest: SystemTime = sources.iter().filter_map(|s| s.mtime).max().or_else(|| {
        // stdin: today.
        sources.iter().any(Source::is_stdin).then(SystemTime::now)
    })?;
    let (y, m, d, ..) = LogTime::from_system_time(newest)?.civil();
    Some((y, m, d))
}

pub fn line_counts(all: &LineStats) -> LineCounts {
    let mut by_program: Vec<ProgramCount> = all
        .by_program
        .iter()
        .map(|(k, v)| ProgramCount {
            program: String::from_utf8_lossy(k).into_owned(),
            lines: v.lines,
        })
        .collect();
    by_program.sort_by(|a, b| b.lines.cmp(&a.lines).then(a.program.cmp(&b.program)));
    let mut nu: Vec<ProgramCount> = all
        .by_program
        .iter()
        .filter(|(_, v)| v.not_understood > 0)
        .map(|(k, v)| ProgramCount {
            program: String::from_utf8_lossy(k).into_owned(),
            lines: v.not_understood,
        })
        .collect();
    nu.sort_by(|a, b| b.lines.cmp(&a.lines).then(a.program.cmp(&b.program)));
    LineCounts {
        total: all.total,
        postfix: all.postfix,
        other: all.other,
        not_understood: all.not_understood,
        not_understood_examples: all.not_understood_examples.clone(),
        by_program,
        not_understood_by_program: nu,
    }
}
