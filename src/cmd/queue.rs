//! `postmortem queue`: what a queue dump says, in one screen.
//!
//! ```text
//! postmortem queue DUMP... [--dump-time 2026-11-28T18:56:06] [--timezone Europe/Berlin]
//!                          [--shape-queues hold,active,incoming,deferred]
//!                          [--select sender=dave@lab.test --select age>2h] [--ids-out ids.txt]
//! ```
//!
//! DUMP is `postqueue -p` / `mailq` text or `postqueue -j` JSON lines (told
//! apart by content), or `-` for stdin. Prints totals by queue and cause,
//! qshape's table, and the oldest messages. `--select` (repeatable: values of
//! one key are alternatives, different keys must all hold) picks messages for
//! cleanup, and `--ids-out` writes their ids for `postsuper -d - < ids.txt`,
//! to be reviewed and run by the operator: nothing here touches a server.
//! The text listing has no year and no date of its own: the dump time is
//! `--dump-time`, else the file's modification time (the lead passes the
//! newest log line when logs are given).

use std::fmt;
use std::io::Write;
use std::path::PathBuf;

use crate::analyze::queue::{
    human_age, load_dumps, qshape, render_qshape_width, select, summarize, DumpClock, LoadedDumps,
    SelectContext, Selector, ShapeMode,
};
use crate::model::QueueSummary;
use crate::parse::queue::{QueueDump, QueuedMessage};
use crate::time::{LogTime, TimeFormat, MINUTE};
use crate::{Error, Result};

pub use crate::config::QueueConfig;

#[derive(Debug, Clone)]
pub struct QueueRunOutcome {
    pub summary: QueueSummary,
    /// All dumps merged (a queue id seen twice is kept once).
    pub dump: QueueDump,
    pub dump_time: LogTime,
    /// One line per problem, naming the file and line.
    pub problems: Vec<String>,
    pub selected: u64,
    pub ids_file: Option<PathBuf>,
}

impl QueueRunOutcome {
    /// Whether some input could not be read in full.
    pub fn partial(&self) -> bool {
        !self.problems.is_empty()
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Sender(a) => write!(f, "sender={a}"),
            Selector::SenderDomain(d) => write!(f, "sender_domain={d}"),
            Selector::RecipientDomain(d) => write!(f, "domain={d}"),
            Selector::Cause(c) => write!(f, "cause={c}"),
            Selector::OlderThan(m) => write!(f, "age>{m}m"),
            Selector::Queue(q) => write!(f, "queue={}", q.id()),
            Selector::Identity(i) => write!(f, "identity={i}"),
        }
    }
}

/// Reads `--dump-time`: the server's wall clock, `2026-11-28T18:56:06` or
/// `2026-11-28 18:56`, read as the server's own clock like the listing's
/// arrivals (no zone is applied).
pub fn parse_dump_time(s: &str) -> Result<LogTime> {
    LogTime::parse_local(s).map_err(|why| {
        Error::Usage(format!(
            "--dump-time: {why}; give the server's local time as 2026-11-28T18:56:06"
        ))
    })
}

/// Reads, analyses and prints the dumps; writes the ids file when asked.
pub fn run(cfg: &QueueConfig, out: &mut dyn Write) -> Result<QueueRunOutcome> {
    let classifier = &cfg.classifier;
    if cfg.dumps.is_empty() {
        return Err(Error::Usage("no queue dump given; save one with `postqueue -p > queue.txt` or `postqueue -j > queue.jsonl`".into()));
    }
    if cfg
        .select
        .iter()
        .any(|s| matches!(s, Selector::Identity(_)))
    {
        return Err(Error::Usage(
            "--select identity=...: whose mail a message is comes from the logs, which `postmortem queue` does not read. \
             Run `postmortem analyze LOGS DUMP`: it writes each suspect's queued ids, sorted into spam (suspect-N-queued-ids.txt) \
             and mail to review (suspect-N-review-ids.txt). Here, select by sender= or sender_domain= instead."
                .into(),
        ));
    }
    let fmt = match &cfg.timezone {
        Some(name) => TimeFormat::with_zone(name)?,
        None => TimeFormat::local(),
    };
    let loaded = load_dumps(
        &cfg.dumps,
        &DumpClock {
            flag: cfg.dump_time,
            newest_log_line: None,
            zone: fmt.zone().cloned(),
        },
    )?;
    let LoadedDumps {
        dump: merged,
        dump_time,
        source,
        problems,
        notes,
        ..
    } = loaded;
    let summary = summarize(&merged, dump_time, source.describe(), classifier, &fmt);

    print_view(cfg, &summary, &merged, &notes, dump_time, out)?;
    let (selected, ids_file) = cleanup_selection(cfg, &merged, dump_time, out)?;
    if !problems.is_empty() {
        let w = |e: std::io::Error| Error::io("<stdout>", e);
        writeln!(out, "\nProblems ({}):", problems.len()).map_err(w)?;
        for p in problems.iter().take(20) {
            writeln!(out, "  {p}").map_err(w)?;
        }
    }
    Ok(QueueRunOutcome {
        summary,
        dump: merged,
        dump_time,
        problems,
        selected,
        ids_file,
    })
}

/// The terminal view of the dump: totals, dump time, notes, the tables.
fn print_view(
    cfg: &QueueConfig,
    summary: &QueueSummary,
    merged: &QueueDump,
    notes: &[String],
    dump_time: LogTime,
    out: &mut dyn Write,
) -> Result<()> {
    let w = |e: std::io::Error| Error::io("<stdout>", e);
    let names: Vec<String> = cfg.dumps.iter().map(|p| p.display().to_string()).collect();
    writeln!(
        out,
        "Queue: {} messages, {} recipients, {} KB in {}",
        summary.messages,
        summary.recipients,
        summary.bytes / 1024,
        names.join(", ")
    )
    .map_err(w)?;
    writeln!(
        out,
        "Dump time: {} ({})",
        summary.dump_time, summary.dump_time_source
    )
    .map_err(w)?;
    if let Some(note) = &merged.clock_note {
        writeln!(out, "Note: {note}").map_err(w)?;
    }
    for note in notes {
        writeln!(out, "Note: {note}").map_err(w)?;
    }
    if merged.messages.is_empty() {
        writeln!(
            out,
            "{}",
            if merged.empty_marker {
                "Mail queue is empty."
            } else {
                "No queued messages read."
            }
        )
        .map_err(w)?;
    }
    let row = |k: &crate::model::KeyCount| {
        format!("{} {} ({} KB)", k.key, k.messages, k.bytes.div_ceil(1024))
    };
    if !summary.by_queue.is_empty() {
        writeln!(
            out,
            "By queue: {}",
            summary
                .by_queue
                .iter()
                .map(row)
                .collect::<Vec<_>>()
                .join(", ")
        )
        .map_err(w)?;
        writeln!(out, "\nBy cause:").map_err(w)?;
        for k in &summary.by_cause {
            writeln!(
                out,
                "  {:<22} {:>7} messages {:>9} KB",
                k.key,
                k.messages,
                k.bytes.div_ceil(1024)
            )
            .map_err(w)?;
        }
        writeln!(out, "\nTop senders:").map_err(w)?;
        for k in summary.by_sender.iter().take(5) {
            writeln!(out, "  {:<40} {:>7} messages", k.key, k.messages).map_err(w)?;
        }
        let bands: Vec<String> = summary
            .age_bands
            .iter()
            .map(|b| format!("{} {}", b.key, b.messages))
            .collect();
        writeln!(out, "Ages: {}", bands.join(", ")).map_err(w)?;
        print_shape(cfg, merged, dump_time, out)?;
        writeln!(out, "\nOldest messages:").map_err(w)?;
        for r in summary
            .oldest
            .iter()
            .take(if cfg.oldest == 0 { 10 } else { cfg.oldest })
        {
            let more = r.recipients.len().saturating_sub(1);
            let rcpt = r.recipients.first().map_or(String::new(), |a| {
                if more > 0 {
                    format!("{a} (+{more})")
                } else {
                    a.clone()
                }
            });
            writeln!(
                out,
                "  {:<12} {:<8} {:>12}  {} -> {}  [{}]",
                r.queue_id,
                r.queue,
                human_age(r.age_minutes * MINUTE),
                if r.sender.is_empty() { "<>" } else { &r.sender },
                rcpt,
                r.cause
            )
            .map_err(w)?;
        }
    }

    Ok(())
}

/// qshape's table, cut at 22 lines on the terminal.
fn print_shape(
    cfg: &QueueConfig,
    merged: &QueueDump,
    dump_time: LogTime,
    out: &mut dyn Write,
) -> Result<()> {
    let w = |e: std::io::Error| Error::io("<stdout>", e);
    let shape = qshape(merged, dump_time, &cfg.shape, &cfg.shape_queues);
    let which = if cfg.shape_queues.is_empty() {
        "all queues".to_string()
    } else {
        cfg.shape_queues
            .iter()
            .map(|q| q.id())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let by = match cfg.shape.mode {
        ShapeMode::Recipients => "recipient domains",
        ShapeMode::Senders => "sender domains",
    };
    writeln!(out, "\nqshape ({which}; {by} by age in minutes):").map_err(w)?;
    let mut table = render_qshape_width(&shape, cfg.shape.width);
    let lines: Vec<&str> = table.lines().collect();
    if lines.len() > 22 {
        table = lines[..22].join("\n") + &format!("\n  ... {} more domains\n", lines.len() - 22);
    }
    write!(out, "{table}").map_err(w)?;
    Ok(())
}

/// The cleanup selection: the picked ids, printed or written for
/// `postsuper -d -`.
fn cleanup_selection(
    cfg: &QueueConfig,
    merged: &QueueDump,
    dump_time: LogTime,
    out: &mut dyn Write,
) -> Result<(u64, Option<PathBuf>)> {
    let w = |e: std::io::Error| Error::io("<stdout>", e);
    let classifier = &cfg.classifier;
    let mut selected = 0;
    let mut ids_file = None;
    if !cfg.select.is_empty() {
        let ctx = SelectContext {
            classifier,
            dump_time,
            logs: None,
        };
        let picked = select(merged, &cfg.select, &ctx);
        selected = picked.len() as u64;
        let what: Vec<String> = cfg.select.iter().map(|s| s.to_string()).collect();
        writeln!(out, "\nSelection ({}): {selected} messages", what.join(" ")).map_err(w)?;
        senders_of(&picked, out).map_err(w)?;
        match &cfg.ids_out {
            Some(path) => {
                let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| {
                    if e.kind() == std::io::ErrorKind::AlreadyExists {
                        Error::Usage(format!("{} already exists; choose another --ids-out (it is never overwritten)", path.display()))
                    } else {
                        Error::io(path, e)
                    }
                })?;
                let (written, skipped) = crate::analyze::queue::write_ids(
                    picked.iter().map(|m| m.queue_id.as_str()),
                    &mut file,
                )
                .map_err(|e| Error::io(path, e))?;
                writeln!(out, "  {written} queue ids written to {}", path.display()).map_err(w)?;
                if skipped > 0 {
                    writeln!(
                        out,
                        "  {skipped} ids were not plain letters and digits and were left out"
                    )
                    .map_err(w)?;
                }
                writeln!(
                    out,
                    "  Review the list, then delete with:  postsuper -d - < {}",
                    path.display()
                )
                .map_err(w)?;
                ids_file = Some(path.clone());
            }
            None => {
                for m in picked.iter().take(20) {
                    writeln!(out, "  {}", m.queue_id).map_err(w)?;
                }
                if picked.len() > 20 {
                    writeln!(out, "  ... and {} more", picked.len() - 20).map_err(w)?;
                }
                writeln!(
                    out,
                    "  Add --ids-out ids.txt to write them for `postsuper -d - < ids.txt`"
                )
                .map_err(w)?;
            }
        }
        writeln!(
            out,
            "  Flush the rest with `postqueue -f` only once the cause is fixed, no list refuses the server any more, and no spam is left queued."
        )
        .map_err(w)?;
    }
    Ok((selected, ids_file))
}

/// Whose mail a selection holds, by envelope sender: a cause or a domain
/// selects everyone's mail that met it, legitimate mail included.
fn senders_of(picked: &[&QueuedMessage], out: &mut dyn Write) -> std::io::Result<()> {
    let mut by: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    for m in picked {
        *by.entry(if m.sender.is_empty() { "<>" } else { &m.sender })
            .or_default() += 1;
    }
    if by.len() < 2 {
        return Ok(());
    }
    let mut rows: Vec<(&str, u64)> = by.into_iter().collect();
    rows.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    writeln!(
        out,
        "  It holds the mail of {} senders; check that each is meant before deleting:",
        rows.len()
    )?;
    for (sender, n) in rows.iter().take(10) {
        writeln!(out, "    {n:>6}  {sender}")?;
    }
    if rows.len() > 10 {
        writeln!(out, "    ... and {} more senders", rows.len() - 10)?;
    }
    writeln!(
        out,
        "  The logs tell spam from legitimate mail: `postmortem analyze LOGS DUMP` writes each suspect's spam and review lists."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_time_flag() {
        let t = LogTime::from_civil(2026, 11, 28, 18, 56, 6, 0).unwrap();
        assert_eq!(parse_dump_time("2026-11-28T18:56:06").unwrap(), t);
        assert_eq!(parse_dump_time("2026-11-28 18:56:06").unwrap(), t);
        assert!(parse_dump_time("yesterday").is_err());
    }

    #[test]
    fn prints_and_writes_ids_without_overwriting() {
        let dir = tempfile::tempdir().unwrap();
        let dump = dir.path().join("q.txt");
        std::fs::write(
            &dump,
            include_str!("../../tests/fixtures/lab1-postqueue-p-head.txt"),
        )
        .unwrap();
        let ids = dir.path().join("ids.txt");
        let cfg = QueueConfig {
            dumps: vec![dump.clone()],
            dump_time: LogTime::from_civil(2026, 11, 28, 18, 56, 6, 0),
            select: vec![Selector::parse("queue=hold").unwrap()],
            ids_out: Some(ids.clone()),
            ..QueueConfig::default()
        };
        let mut out = Vec::new();
        let o = run(&cfg, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(o.selected, 2);
        assert_eq!(
            std::fs::read_to_string(&ids).unwrap(),
            "A45C2D06F6\nA2AA3D073B\n"
        );
        assert!(text.contains("postsuper -d - < "), "{text}");
        assert!(text.contains("TOTAL"), "{text}");
        assert!(o.problems.is_empty(), "{:?}", o.problems);
        // A second run must not overwrite the reviewed file.
        let mut out = Vec::new();
        assert!(run(&cfg, &mut out).is_err());
    }
}
