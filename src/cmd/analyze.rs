//! `postmortem analyze [PATH...]`: the incident report.
//!
//! Reads maillogs (plain, gzip, rotated, folders, `-` for stdin) and queue
//! dumps found among the paths, puts every deferral down to a cause, finds
//! the incidents and the senders behind any blacklisting, and writes a
//! report folder: `report.html`, `summary.json` and CSVs.
//!
//! Nothing given is modified; nothing is sent anywhere.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rayon::prelude::*;

use crate::analyze::{self, AnalysisOptions};
use crate::classify::Classifier;
use crate::correlate::{Correlator, Findings, YearPolicy};
use crate::error::{Error, Result};
use crate::input::{self, ReadItem, Source, SourceKind};
use crate::model::{self, InputInfo, LineCounts, Period, ProgramCount, Summary, Totals};
use crate::parse::{self, LineStats, ParsedChunk};
use crate::time::{LogTime, TimeFormat};

pub use crate::config::AnalyzeConfig;

/// Progress callbacks: total bytes once, then bytes done.
pub trait Progress: Sync {
    fn start(&self, total_bytes: u64);
    fn advance(&self, bytes: u64);
    fn finish(&self);
}

/// A progress sink that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// The result of a run: the summary, where it was written, and whether
/// some input could not be read completely.
#[derive(Debug)]
pub struct AnalyzeOutcome {
    pub summary: Summary,
    pub out_dir: Option<PathBuf>,
    pub files: Vec<PathBuf>,
    /// Some input was unreadable or cut short: exit code 2.
    pub partial: bool,
}

/// A parsed chunk and its reasons' verdicts.
type Parsed = (ParsedChunk, Vec<(u32, crate::correlate::Classified)>);

/// Everything read from the maillogs.
pub struct LogAnalysis {
    pub findings: Findings,
    pub stats: Vec<LineStats>,
    pub problems: Vec<Vec<String>>,
    pub partial: bool,
}

/// Reads and correlates the maillogs among `sources`, in order.
#[allow(clippy::too_many_arguments)]
pub fn read_logs(
    sources: &[Source],
    classifier: &Classifier,
    years: YearPolicy,
    window: (Option<LogTime>, Option<LogTime>),
    pool: &rayon::ThreadPool,
    track_messages: bool,
    max_line: usize,
    zone: Option<&jiff::tz::TimeZone>,
    progress: &dyn Progress,
    sink: Option<&mut dyn crate::correlate::EventSink>,
) -> Result<LogAnalysis> {
    let jobs = pool.current_num_threads();
    let mut correlator = Correlator::new(classifier, years);
    correlator.set_window(window.0, window.1);
    correlator.set_zone(zone.cloned());
    if track_messages {
        correlator.track_messages();
    }
    if let Some(sink) = sink {
        correlator.set_sink(sink);
    }
    let mut stats: Vec<LineStats> = vec![LineStats::default(); sources.len()];
    let mut problems: Vec<Vec<String>> = vec![Vec::new(); sources.len()];
    let mut partial = false;
    // Severity files (mail.warn, mail.err) are compared line by line with
    // the other inputs: what those hold is read once.
    let (overlap, why) = input::overlap::Overlap::build(sources);
    if let Some(why) = why {
        if let Some(i) = sources.iter().position(|s| s.severity_file) {
            problems[i].push(why);
        }
    }
    let rx = input::spawn_reader(
        sources.to_vec(),
        input::ReadOptions {
            block: input::BLOCK,
            max_line,
        },
    );
    let mut long_lines: Vec<(u64, Vec<u64>)> = vec![(0, Vec::new()); sources.len()];
    let parts = jobs.max(1) * 4;
    // Parse block k+1 while correlating block k: the correlator is
    // sequential, parsing is parallel.
    let mut pending: Option<(input::Block, Vec<Parsed>)> = None;
    // Event buffers go back to the parsers once correlated.
    let spare: std::sync::Mutex<Vec<Vec<parse::LineEvent>>> = Default::default();
    let correlate =
        |c: &mut Correlator, stats: &mut Vec<LineStats>, done: (input::Block, Vec<Parsed>)| {
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
                            let subs = input::split_lines(block.data.bytes(), parts);
                            subs.par_iter()
                                .map(|s| {
                                    let buf = spare.lock().expect("no panics under the lock").pop();
                                    let p = parse::parse_chunk_filtered(
                                        s,
                                        buf.unwrap_or_default(),
                                        max_line,
                                        keep.as_deref(),
                                    );
                                    // The regexes run here, in parallel,
                                    // not on the sequential correlator.
                                    let pre =
                                        crate::correlate::preclassify(s, &p.events, classifier);
                                    (p, pre)
                                })
                                .collect::<Vec<_>>()
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
        partial = true;
    }
    Ok(LogAnalysis {
        findings: correlator.finish(),
        stats,
        problems,
        partial,
    })
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
fn anchor_date(sources: &[Source]) -> Option<(i32, u32, u32)> {
    let newest: SystemTime = sources.iter().filter_map(|s| s.mtime).max().or_else(|| {
        // stdin: today.
        sources.iter().any(Source::is_stdin).then(SystemTime::now)
    })?;
    let (y, m, d, ..) = LogTime::from_system_time(newest)?.civil();
    Some((y, m, d))
}

/// Runs the whole analysis and writes the report.
pub fn run(cfg: &AnalyzeConfig, progress: &dyn Progress) -> Result<AnalyzeOutcome> {
    let mut fmt = cfg.format.clone();
    let classifier = &cfg.classifier;
    if let Some(out) = &cfg.out {
        crate::report::folder::check_against_inputs(out, &cfg.paths)?;
    }

    let discovery = input::discover(&cfg.paths);
    let mut summary = Summary {
        schema_version: model::SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        ..Summary::default()
    };
    let mut partial = false;
    for e in &discovery.errors {
        partial = true;
        summary.problems.push(e.to_string());
    }
    let logs: Vec<Source> = discovery
        .sources
        .iter()
        .filter(|s| matches!(s.kind, SourceKind::Maillog | SourceKind::JournalJson))
        .cloned()
        .collect();
    let dumps: Vec<Source> = discovery
        .sources
        .iter()
        .filter(|s| matches!(s.kind, SourceKind::QueueText | SourceKind::QueueJson))
        .cloned()
        .collect();
    if logs.is_empty() && dumps.is_empty() {
        let mut searched = cfg
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        // Say why each file was passed over.
        for sk in discovery.skipped.iter().take(5) {
            searched += &format!(" ({}: {})", sk.path.display(), sk.reason);
        }
        if discovery.errors.len() == 1 && discovery.skipped.is_empty() {
            return Err(discovery.errors.into_iter().next().expect("one"));
        }
        return Err(Error::NoInput { searched });
    }

    let total_bytes: u64 = logs.iter().map(|s| s.bytes).sum();
    progress.start(total_bytes);
    let mut years = YearPolicy {
        forced: cfg.year,
        anchor: anchor_date(&logs),
    };
    let jobs = cfg.jobs.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {jobs} worker threads: {e}")))?;
    // The event tables' rows, spilled beside the report while the logs are
    // read (`--parquet`, `--tables-csv`).
    let mut spill = match (cfg.tables.parquet || cfg.tables.csv) && !cfg.no_report {
        true => Some(crate::report::tables::Spill::create(&spill_dir(cfg))?),
        false => None,
    };
    let mut read = |years, progress: &dyn Progress| -> Result<LogAnalysis> {
        if let Some(s) = spill.as_mut() {
            s.reset()?;
        }
        read_logs(
            &logs,
            classifier,
            years,
            (cfg.since, cfg.until),
            &pool,
            cfg.messages,
            cfg.max_line,
            cfg.format.zone(),
            progress,
            spill
                .as_mut()
                .map(|s| s as &mut dyn crate::correlate::EventSink),
        )
    };
    let mut analysis = read(years, progress)?;
    // A year-less stamp after the newest file was written means the year
    // guess was one too late (logs copied without their dates): redo it a
    // year earlier rather than report times in the future.
    if cfg.year.is_none() && analysis.findings.future_stamps > 0 {
        if let Some((y, _)) = analysis.findings.year.clone() {
            years.forced = Some(y - 1);
            analysis = read(years, &NoProgress)?;
            if let Some(yr) = analysis.findings.year.as_mut() {
                yr.1 = format!(
                    "inferred: {} would put lines after the newest input's modification date, so the year before",
                    y
                );
            }
        }
    }
    progress.finish();
    partial |= analysis.partial;
    crate::analyze::clocks::clock_notes(&analysis.findings.clocks, &mut fmt, &mut summary);
    let postfix_lines: u64 = analysis.stats.iter().map(|s| s.postfix).sum();
    if postfix_lines == 0 && dumps.is_empty() && !analysis.partial {
        let read = logs
            .iter()
            .map(Source::display)
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Error::NoInput {
            searched: format!("{read} (read, but no Postfix log lines in it)"),
        });
    }

    // Inputs and coverage.
    for (i, s) in logs.iter().enumerate() {
        let st = &analysis.stats[i];
        let span = analysis.findings.source_span.get(&i);
        summary.inputs.push(InputInfo {
            path: s.display(),
            kind: s.kind.id().to_string(),
            compressed: s.compressed,
            bytes: s.bytes,
            lines: st.total,
            first: span.map(|x| fmt.iso(x.0)),
            last: span.map(|x| fmt.iso(x.1)),
            problems: analysis.problems[i].clone(),
            duplicate_lines: st.duplicates,
        });
        if s.severity_file {
            summary
                .notes
                .push(input::overlap::severity_note(s, st.total, st.duplicates));
        }
        summary
            .problems
            .extend(analysis.problems[i].iter().cloned());
    }
    for s in &dumps {
        summary.inputs.push(InputInfo {
            path: s.display(),
            kind: s.kind.id().to_string(),
            compressed: s.compressed,
            bytes: s.bytes,
            ..InputInfo::default()
        });
    }
    for sk in &discovery.skipped {
        summary.inputs.push(InputInfo {
            path: sk.path.display().to_string(),
            kind: "skipped".to_string(),
            problems: vec![sk.reason.clone()],
            ..InputInfo::default()
        });
    }
    let mut all = LineStats::default();
    for st in &analysis.stats {
        all.merge(st.clone());
    }
    summary.lines = line_counts(&all);
    let f = &mut analysis.findings;
    summary.period = Period {
        first: f.first.map(|t| fmt.iso(t)),
        last: f.last.map(|t| fmt.iso(t)),
        timezone: fmt.zone_name(),
        year_inferred: f.year.as_ref().map(|y| y.0),
        year_source: f.year.as_ref().map(|y| y.1.clone()),
        offsets: f
            .clocks
            .offsets
            .iter()
            .map(|&(o, _)| crate::time::offset_text(o))
            .collect(),
    };
    summary.totals = Totals {
        received: f.counts.received,
        delivered: f.counts.delivered,
        deferral_events: f.counts.deferral_events,
        deferred_messages: f.counts.deferred_messages,
        bounced: f.counts.bounced,
        expired: f.counts.expired,
        rejected: f.counts.rejected,
        held: f.counts.held,
        discarded: f.counts.discarded,
        quarantined: f.counts.quarantined,
        soft_bounced: f.counts.soft_bounces,
        deleted: f.counts.deleted,
    };
    let opts = AnalysisOptions {
        bucket: cfg.bucket,
        lookback: cfg.lookback,
        format: fmt.clone(),
        passwd: cfg.passwd.clone(),
        passwd_homes: cfg.passwd_homes.clone(),
    };
    let requests = pool.install(|| analyze::summarize(f, &opts, &mut summary));
    // The raw lines the findings cite: a second, targeted pass.
    let index: Vec<&[(u64, u64)]> = analysis
        .stats
        .iter()
        .map(|s| s.line_index.as_slice())
        .collect();
    let found = crate::input::lines::find_lines(&logs, &f.source_span, &index, &requests.queries);
    let files: Vec<String> = logs.iter().map(Source::display).collect();
    analyze::evidence::attach(&mut summary, &requests, found, &files, &fmt);
    if f.evicted > 0 {
        summary.problems.push(format!(
            "{} messages were still open (no `removed` line) while more than {} were open at once: the oldest were dropped from tracking, so later lines about them count as new messages",
            f.evicted,
            crate::correlate::LIVE_MAX
        ));
    }
    if f.strings.overflowed > 0 {
        summary.problems.push(format!(
            "more than {} distinct addresses, hosts and texts: {} later ones are counted together as `other`",
            crate::correlate::STRINGS_MAX,
            f.strings.overflowed
        ));
    }
    if f.repeats_dropped > 0 {
        summary.problems.push(format!(
            "{} repeats of `last message repeated N times` were not counted (more than a million in all)",
            f.repeats_dropped
        ));
    }
    let own_hosts: Vec<String> = f
        .hosts
        .iter()
        .map(|&h| f.strings.str(h).into_owned())
        .collect();

    let mut extra_files = Vec::new();
    if cfg.messages && !cfg.no_report {
        let mut csv = Vec::new();
        analyze::messages::for_each_batch(
            &analysis.findings,
            &fmt,
            &opts.passwd,
            50_000,
            |rows| crate::report::csv::append_messages_csv(rows, &mut csv),
        )?;
        if csv.is_empty() {
            // No message: the header alone.
            crate::report::csv::append_messages_csv(&[], &mut csv)?;
        }
        extra_files.push(("messages.csv".to_string(), csv));
    }
    let mut queue_rows = Vec::new();
    if !dumps.is_empty() {
        let (queue, files, dump_partial, rows) = queue_section(
            cfg,
            &dumps,
            &analysis.findings,
            classifier,
            &fmt,
            &mut summary,
        )?;
        partial |= dump_partial;
        queue_rows = rows;
        summary.queue = queue;
        extra_files.extend(files);
        queue_headline(&mut summary);
    }

    if cfg.no_report {
        return Ok(AnalyzeOutcome {
            summary,
            out_dir: None,
            files: Vec::new(),
            partial,
        });
    }
    let out_dir = match &cfg.out {
        Some(o) => o.clone(),
        None => default_out_dir(&cfg.reports_root, &summary),
    };
    // The server's own names stay readable: they are not third parties.
    // Resolved once: without --salt, the files and the terminal share the
    // random salt drawn here.
    let redact = cfg
        .redact
        .then(|| {
            crate::report::RedactOptions {
                salt: cfg.salt.clone(),
                keep: own_hosts,
                ..Default::default()
            }
            .resolved()
        })
        .transpose()?;
    let report_opts = crate::report::ReportOptions {
        force: cfg.force,
        redact: redact.clone(),
        time_label: if fmt.zone_name() == "local" {
            "server local time".to_string()
        } else {
            fmt.zone_name()
        },
        extra_files,
        inputs: cfg.paths.clone(),
    };
    let files = match spill.as_mut() {
        None => crate::report::write_report(&summary, &out_dir, &report_opts)?,
        Some(spill) => {
            let findings = &analysis.findings;
            let source = crate::report::tables::RunTables {
                findings,
                summary: &summary,
                queue: &queue_rows,
                formats: cfg.tables,
                fmt: &fmt,
                passwd: &cfg.passwd,
                redact: redact.as_ref(),
            };
            let mut tables = |dir: &Path| source.write(dir, spill);
            crate::report::write_report_with(&summary, &out_dir, &report_opts, Some(&mut tables))?
        }
    };
    // What the terminal shows is as redacted as the files (same pseudonyms).
    if let Some(r) = &redact {
        crate::report::redact(&mut summary, r)?;
    }
    Ok(AnalyzeOutcome {
        summary,
        out_dir: Some(out_dir),
        files,
        partial,
    })
}

/// Where the event tables' rows wait for the analysis: beside the report
/// folder, on the disk the tables go to.
fn spill_dir(cfg: &AnalyzeConfig) -> PathBuf {
    match &cfg.out {
        Some(o) => o
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf(),
        None => cfg.reports_root.clone(),
    }
}

/// Without logs (or without incidents in them), the queue says what is
/// stuck: one headline item per cause holding queued mail.
fn queue_headline(summary: &mut Summary) {
    let only_none = summary.headline.iter().all(|h| h.cause == "none");
    let Some(q) = &summary.queue else { return };
    if !only_none || q.messages == 0 {
        return;
    }
    let mut items = Vec::new();
    for kc in q.by_cause.iter().take(4) {
        let cause = crate::classify::Cause::from_id(&kc.key);
        let title = cause.map_or(kc.key.replace('_', " "), |c| c.title().to_string());
        items.push(model::HeadlineItem {
            cause: kc.key.clone(),
            title: title.clone(),
            text: format!(
                "{title}: {} of the {} queued messages ({} KB) at {}.",
                kc.messages,
                q.messages,
                kc.bytes / 1024,
                q.dump_time.replace('T', " ")
            ),
            messages: kc.messages,
            evidence: q
                .oldest
                .iter()
                .find(|m| m.cause == kc.key)
                .and_then(|m| m.reason.clone()),
            fix: cause.map_or_else(Vec::new, |c| {
                c.fix().iter().map(|s| s.to_string()).collect()
            }),
            ..model::HeadlineItem::default()
        });
    }
    if !items.is_empty() {
        summary.headline = items;
    }
}

/// A file written into the report folder beside the standard ones.
type ExtraFile = (String, Vec<u8>);

/// The queue's summary, its files, whether a dump was cut short, and its
/// recipients (the `queue` event table).
type QueueSection = (
    Option<model::QueueSummary>,
    Vec<ExtraFile>,
    bool,
    Vec<crate::report::csv::QueueRow>,
);

/// Reads the queue dumps, joins them to the logs, and writes the cleanup
/// selections per suspect (ids files for `postsuper -d -`, never run here).
fn queue_section(
    cfg: &AnalyzeConfig,
    dumps: &[Source],
    findings: &Findings,
    classifier: &Classifier,
    fmt: &TimeFormat,
    summary: &mut Summary,
) -> Result<QueueSection> {
    use crate::parse::queue as q;
    let paths: Vec<PathBuf> = dumps.iter().map(|s| s.path.clone()).collect();
    let loaded = crate::analyze::queue::load_dumps(
        &paths,
        &crate::analyze::queue::DumpClock {
            flag: cfg.dump_time,
            newest_log_line: findings.last,
            zone: fmt.zone().cloned(),
        },
    )?;
    let partial = !loaded.problems.is_empty();
    summary.problems.extend(loaded.problems);
    let (merged, dump_time, source, notes) =
        (loaded.dump, loaded.dump_time, loaded.source, loaded.notes);
    let passwd = &cfg.passwd;
    let lookup = |id: &str| -> Option<(String, Option<String>)> {
        let info = findings.live_ids.get(id)?;
        let identity =
            crate::analyze::display_identity(&findings.strings.str(info.identity), passwd);
        Some((identity, info.first_cause.map(|c| c.id().to_string())))
    };
    let has_logs = findings.first.is_some();
    let mut qs = crate::analyze::queue::summarize_joined(
        &merged,
        dump_time,
        source.describe(),
        classifier,
        fmt,
        has_logs.then_some(&lookup as &dyn Fn(&str) -> Option<(String, Option<String>)>),
    );
    // queue.csv: every queued recipient with what the logs say.
    let mut cache = crate::analyze::queue::CauseCache::new(classifier);
    let mut rows = Vec::new();
    for m in &merged.messages {
        let joined = lookup(&m.queue_id);
        for r in &m.recipients {
            let cause = match (&r.reason, m.queue) {
                (_, q::QueueName::Hold) => "held".to_string(),
                (Some(reason), _) => cache.cause_of(reason).to_string(),
                (None, _) => joined
                    .as_ref()
                    .and_then(|j| j.1.clone())
                    .unwrap_or_else(|| "never_tried".to_string()),
            };
            rows.push(crate::report::csv::QueueRow {
                queue_id: m.queue_id.clone(),
                queue: m.queue.id().to_string(),
                arrival: fmt.iso(m.arrival),
                age_minutes: ((dump_time.0 - m.arrival.0).max(0) / crate::time::MINUTE) as u64,
                size: m.size,
                sender: m.sender.clone(),
                recipient: r.address.clone(),
                domain: q::address_domain(&r.address),
                cause,
                reason: r.reason.clone(),
                identity: joined.as_ref().map(|j| j.0.clone()),
            });
        }
    }
    let mut files = vec![(
        "queue.csv".to_string(),
        crate::report::csv::queue_csv(&rows)?,
    )];
    // One ids file per suspect with mail still queued.
    for s in summary.suspects.iter_mut() {
        let ids: Vec<&str> = merged
            .messages
            .iter()
            .filter(|m| lookup(&m.queue_id).is_some_and(|(id, _)| id == s.identity))
            .map(|m| m.queue_id.as_str())
            .collect();
        if ids.is_empty() {
            continue;
        }
        let name = format!("suspect-{}-queued-ids.txt", s.rank);
        let mut body = Vec::new();
        let _ = crate::analyze::queue::write_ids(ids.iter().copied(), &mut body);
        s.queued_ids_file = Some(name.clone());
        s.fix.push(format!(
            "{} of its messages are still queued: review {name}, then `postsuper -d - < {name}` on the server",
            ids.len()
        ));
        files.push((name, body));
    }
    qs.notes.extend(notes);
    Ok((Some(qs), files, partial, rows))
}

fn line_counts(all: &LineStats) -> LineCounts {
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

/// `reports/2026-11-28T1830_2026-11-28T1856`, with `-2`, `-3`... when taken.
fn default_out_dir(root: &Path, summary: &Summary) -> PathBuf {
    let stamp = |s: &Option<String>| {
        s.as_deref()
            .map(|t| t.chars().take(16).filter(|c| *c != ':').collect::<String>())
            .unwrap_or_else(|| "no-dates".to_string())
    };
    let base = format!(
        "{}_{}",
        stamp(&summary.period.first),
        stamp(&summary.period.last)
    );
    let mut candidate = root.join(&base);
    let mut n = 2;
    while candidate.exists() {
        candidate = root.join(format!("{base}-{n}"));
        n += 1;
    }
    candidate
}
