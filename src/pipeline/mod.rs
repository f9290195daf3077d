//! The whole analysis, in the order the data flows:
//!
//! ```text
//! discover -> read (parse, classify, correlate) -> analyze -> evidence -> queue -> runbook -> report
//! ```
//!
//! [`run`] is `postmortem analyze`; [`read::read_all`] is the log half on
//! its own (`postmortem queue --logs`, benches, tests). Nothing given is
//! modified; nothing is sent anywhere.

use std::path::{Path, PathBuf};

use crate::analyze::{self, AnalysisOptions};
use crate::correlate::Findings;
use crate::error::{Error, Result};
use crate::input::{self, Source, SourceKind};
use crate::model::{self, InputInfo, Period, Summary, Totals};
use crate::parse::LineStats;
use crate::time::TimeFormat;

pub use crate::config::AnalyzeConfig;

mod inputs;
pub mod queue;
pub mod read;

pub use read::{read_all, read_all_into, LogAnalysis, LogOptions};

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

/// A file written into the report folder beside the standard ones.
pub type ExtraFile = (String, Vec<u8>);

/// The inputs found among the paths given.
struct Inputs {
    logs: Vec<Source>,
    dumps: Vec<Source>,
    skipped: Vec<input::Skipped>,
    /// Logs dropped because another holds the same lines, as inputs rows.
    duplicates: Vec<InputInfo>,
}

/// A worker pool of `jobs` threads.
pub fn pool(jobs: usize) -> Result<rayon::ThreadPool> {
    let jobs = jobs.max(1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {jobs} worker threads: {e}")))
}

/// Runs the whole analysis and writes the report.
pub fn run(cfg: &AnalyzeConfig, progress: &dyn Progress) -> Result<AnalyzeOutcome> {
    let mut fmt = cfg.format.clone();
    if let Some(out) = &cfg.out {
        crate::report::folder::check_against_inputs(out, &cfg.paths)?;
    }
    let mut summary = Summary {
        schema_version: model::SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        ..Summary::default()
    };
    let mut inputs = discover(cfg, &mut summary)?;
    let mut partial = !summary.problems.is_empty();

    let pool = pool(cfg.jobs)?;
    // The event tables' rows, spilled beside the report while the logs are
    // read (`--parquet`, `--tables-csv`).
    let mut spill = match (cfg.tables.parquet || cfg.tables.csv) && !cfg.no_report {
        true => Some(crate::report::tables::Spill::create(&spill_dir(cfg))?),
        false => None,
    };
    progress.start(inputs.logs.iter().map(|s| s.bytes).sum());
    let window = inputs::window(cfg, read::anchor_date(&inputs.logs))?;
    let options = LogOptions {
        classifier: &cfg.classifier,
        year: cfg.year,
        window,
        track_messages: cfg.messages,
        max_line: cfg.max_line,
        zone: cfg.format.zone(),
    };
    let mut analysis = read_all_into(
        &inputs.logs,
        &options,
        &pool,
        progress,
        spill
            .as_mut()
            .map(|s| s as &mut dyn crate::correlate::EventSink),
    )?;
    progress.finish();
    // The same rotation given twice (gzipped and not): read it once.
    let pairs = inputs::duplicates(&inputs.logs, &analysis);
    if !pairs.is_empty() {
        inputs.duplicates =
            inputs::drop_duplicates(&mut inputs.logs, &pairs, &analysis, &mut summary);
        analysis = read_all(&inputs.logs, &options, &pool, &NoProgress)?;
    }
    partial |= analysis.partial;
    analyze::clocks::clock_notes(&analysis.findings.clocks, &mut fmt, &mut summary);
    let postfix_lines: u64 = analysis.stats.iter().map(|s| s.postfix).sum();
    if postfix_lines == 0 && inputs.dumps.is_empty() && !analysis.partial {
        let read: Vec<String> = inputs.logs.iter().map(Source::display).collect();
        return Err(Error::NoInput {
            searched: format!("{} (read, but no Postfix log lines in it)", read.join(", ")),
        });
    }
    inputs::check_window(window, &analysis, &fmt)?;
    summary.logs_span = inputs::logs_span(window, &analysis, &fmt);
    coverage(&inputs, &analysis, &fmt, &mut summary);

    let opts = AnalysisOptions {
        bucket: cfg.bucket,
        lookback: cfg.lookback,
        format: fmt.clone(),
        passwd: cfg.passwd.clone(),
        passwd_homes: cfg.passwd_homes.clone(),
    };
    let f = &mut analysis.findings;
    let analyzed = pool.install(|| analyze::summarize(f, &opts, &mut summary));
    cite_lines(
        &pool,
        &inputs.logs,
        &analysis,
        &analyzed,
        &fmt,
        &mut summary,
    );
    let f = &analysis.findings;
    analyze::status::headline_lines(&mut summary);
    limits_reached(f, &mut summary);

    let mut extra_files = Vec::new();
    let mut queue_rows = Vec::new();
    if cfg.messages && !cfg.no_report {
        extra_files.push(messages_csv(f, &fmt, &opts)?);
    }
    if !inputs.dumps.is_empty() {
        let section = queue::section(
            cfg,
            &inputs.dumps,
            f,
            &analyzed.suspects,
            &fmt,
            &mut summary,
        )?;
        partial |= section.partial;
        queue_rows = queue::attach(section, &mut extra_files, &mut summary);
    }
    summary.runbook = analyze::runbook::build(&summary);
    summary.partial = partial;

    let own_hosts: Vec<String> = f
        .hosts
        .iter()
        .map(|&h| f.strings.str(h).into_owned())
        .collect();
    let tables = spill.as_mut().map(|spill| Tables {
        spill,
        findings: f,
        queue: queue_rows,
    });
    let files = Files {
        extra: extra_files,
        own_hosts,
        tables,
    };
    // On the pool: the report's files are rendered side by side.
    pool.install(|| write(cfg, summary, &fmt, files, partial))
}

/// The raw lines the findings cite, found in a second, targeted pass over
/// the logs, into the summary.
fn cite_lines(
    pool: &rayon::ThreadPool,
    logs: &[Source],
    analysis: &LogAnalysis,
    analyzed: &analyze::Analyzed,
    fmt: &TimeFormat,
    summary: &mut Summary,
) {
    let index: Vec<&[(u64, u64)]> = analysis
        .stats
        .iter()
        .map(|s| s.line_index.as_slice())
        .collect();
    let requests = &analyzed.requests;
    let found = pool.install(|| {
        input::lines::find_lines(
            logs,
            &analysis.findings.source_span,
            &index,
            &analysis.gz_index,
            &requests.queries,
        )
    });
    let files: Vec<String> = logs.iter().map(Source::display).collect();
    analyze::evidence::attach(summary, requests, found, &files, fmt);
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

/// The event tables' sources (`--parquet`, `--tables-csv`).
struct Tables<'a> {
    spill: &'a mut crate::report::tables::Spill,
    findings: &'a Findings,
    /// queue.csv's rows, not yet redacted.
    queue: Vec<crate::report::csv::QueueRow>,
}

/// What goes into the folder beside the Summary's own files.
struct Files<'a> {
    extra: Vec<ExtraFile>,
    /// The server's own host names (kept readable by `--redact`).
    own_hosts: Vec<String>,
    tables: Option<Tables<'a>>,
}

/// Finds the logs and dumps among the paths; an error when there is none.
fn discover(cfg: &AnalyzeConfig, summary: &mut Summary) -> Result<Inputs> {
    let discovery = input::discover(&cfg.paths);
    for e in &discovery.errors {
        summary.problems.push(e.to_string());
    }
    let of = |kinds: &[SourceKind]| -> Vec<Source> {
        discovery
            .sources
            .iter()
            .filter(|s| kinds.contains(&s.kind))
            .cloned()
            .collect()
    };
    let logs = of(&[SourceKind::Maillog, SourceKind::JournalJson]);
    let dumps = of(&[SourceKind::QueueText, SourceKind::QueueJson]);
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
    Ok(Inputs {
        logs,
        dumps,
        skipped: discovery.skipped,
        duplicates: Vec::new(),
    })
}

/// What was read: inputs, line counts, the period and the totals.
fn coverage(inputs: &Inputs, analysis: &LogAnalysis, fmt: &TimeFormat, summary: &mut Summary) {
    for (i, s) in inputs.logs.iter().enumerate() {
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
    summary.inputs.extend(inputs.duplicates.iter().cloned());
    for s in &inputs.dumps {
        summary.inputs.push(InputInfo {
            path: s.display(),
            kind: s.kind.id().to_string(),
            compressed: s.compressed,
            bytes: s.bytes,
            ..InputInfo::default()
        });
    }
    for sk in &inputs.skipped {
        summary.inputs.push(InputInfo {
            path: sk.path.display().to_string(),
            kind: model::SKIPPED_INPUT.to_string(),
            problems: vec![sk.reason.clone()],
            ..InputInfo::default()
        });
    }
    let mut all = LineStats::default();
    for st in &analysis.stats {
        all.merge(st.clone());
    }
    summary.lines = read::line_counts(&all);
    let f = &analysis.findings;
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
    let c = &f.counts;
    summary.totals = Totals {
        received: c.received,
        delivered: c.delivered,
        deferral_events: c.deferral_events,
        deferred_messages: c.deferred_messages,
        bounced: c.bounced,
        expired: c.expired,
        rejected: c.rejected,
        held: c.held,
        discarded: c.discarded,
        quarantined: c.quarantined,
        soft_bounced: c.soft_bounces,
        deleted: c.deleted,
        bytes_received: c.bytes_received,
        bytes_delivered: c.bytes_delivered,
    };
}

/// Says where a bound on memory was reached and what it cost.
fn limits_reached(f: &Findings, summary: &mut Summary) {
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
}

/// messages.csv: one row per message, written in batches.
fn messages_csv(f: &Findings, fmt: &TimeFormat, opts: &AnalysisOptions) -> Result<ExtraFile> {
    let mut csv = Vec::new();
    analyze::messages::for_each_batch(f, fmt, &opts.passwd, 50_000, |rows| {
        crate::report::csv::append_messages_csv(rows, &mut csv)
    })?;
    if csv.is_empty() {
        // No message: the header alone.
        crate::report::csv::append_messages_csv(&[], &mut csv)?;
    }
    Ok(("messages.csv".to_string(), csv))
}

/// Writes the report folder (unless `--no-report`), redacted when asked.
fn write(
    cfg: &AnalyzeConfig,
    mut summary: Summary,
    fmt: &TimeFormat,
    files: Files<'_>,
    partial: bool,
) -> Result<AnalyzeOutcome> {
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
                keep: files.own_hosts,
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
        extra_files: files.extra,
        inputs: cfg.paths.clone(),
    };
    let files = match files.tables {
        None => crate::report::write_report(&summary, &out_dir, &report_opts)?,
        Some(t) => {
            let source = crate::report::tables::RunTables {
                findings: t.findings,
                summary: &summary,
                queue: &t.queue,
                formats: cfg.tables,
                fmt,
                passwd: &cfg.passwd,
                redact: redact.as_ref(),
            };
            let mut write_tables = |dir: &Path| source.write(dir, t.spill);
            let more = Some(&mut write_tables as crate::report::folder::MoreFiles<'_>);
            crate::report::write_report_with(&summary, &out_dir, &report_opts, more)?
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
