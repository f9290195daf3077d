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

use std::io::Write;
use std::path::PathBuf;

use crate::analyze::queue::{
    check_without_logs, load_dumps, qshape, select, summarize, write_ids_file, DumpClock,
    SelectContext,
};
use crate::model::QueueSummary;
use crate::parse::queue::QueueDump;
use crate::report::queue::{
    render_ids, render_problems, render_selection, render_view, IdsOut, QueueView,
};
use crate::time::{LogTime, TimeFormat};
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

/// Reads, analyses and prints the dumps; writes the ids file when asked.
pub fn run(cfg: &QueueConfig, out: &mut dyn Write) -> Result<QueueRunOutcome> {
    if cfg.dumps.is_empty() {
        return Err(Error::Usage("no queue dump given; save one with `postqueue -p > queue.txt` or `postqueue -j > queue.jsonl`".into()));
    }
    check_without_logs(&cfg.select)?;
    let fmt = match &cfg.timezone {
        Some(name) => TimeFormat::with_zone(name)?,
        None => TimeFormat::local(),
    };
    let clock = DumpClock {
        flag: cfg.dump_time,
        newest_log_line: None,
        zone: fmt.zone().cloned(),
    };
    let loaded = load_dumps(&cfg.dumps, &clock)?;
    let (dump, dump_time) = (loaded.dump, loaded.dump_time);
    let summary = summarize(
        &dump,
        dump_time,
        loaded.source.describe(),
        &cfg.classifier,
        &fmt,
    );
    let shape = qshape(&dump, dump_time, &cfg.shape, &cfg.shape_queues);
    let view = QueueView {
        dumps: &cfg.dumps,
        summary: &summary,
        dump: &dump,
        notes: &loaded.notes,
        shape: &shape,
        shape_options: &cfg.shape,
        shape_queues: &cfg.shape_queues,
        oldest: cfg.oldest,
    };
    emit(out, &render_view(&view))?;
    let (selected, ids_file) = cleanup_selection(cfg, &dump, dump_time, out)?;
    emit(out, &render_problems(&loaded.problems))?;
    Ok(QueueRunOutcome {
        summary,
        dump,
        dump_time,
        problems: loaded.problems,
        selected,
        ids_file,
    })
}

/// The cleanup selection: the picked ids, printed or written for
/// `postsuper -d -`.
fn cleanup_selection(
    cfg: &QueueConfig,
    dump: &QueueDump,
    dump_time: LogTime,
    out: &mut dyn Write,
) -> Result<(u64, Option<PathBuf>)> {
    if cfg.select.is_empty() {
        return Ok((0, None));
    }
    let ctx = SelectContext {
        classifier: &cfg.classifier,
        dump_time,
        logs: None,
    };
    let picked = select(dump, &cfg.select, &ctx);
    emit(out, &render_selection(&cfg.select, &picked))?;
    let to = match &cfg.ids_out {
        Some(path) => {
            let (written, skipped) =
                write_ids_file(path, picked.iter().map(|m| m.queue_id.as_str()))?;
            IdsOut::File(path, written, skipped)
        }
        None => IdsOut::Screen,
    };
    emit(out, &render_ids(&picked, to))?;
    Ok((picked.len() as u64, cfg.ids_out.clone()))
}

fn emit(out: &mut dyn Write, text: &str) -> Result<()> {
    out.write_all(text.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}

#[cfg(test)]
mod tests {
    use super::*;

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
            select: vec![crate::analyze::queue::Selector::parse("queue=hold").unwrap()],
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
