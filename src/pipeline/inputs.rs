//! `analyze`'s inputs: the period asked for (`--since today`), each log
//! read once (the same rotation given gzipped and unzipped is one input),
//! and the inputs table with what each held.

use crate::config::{AnalyzeConfig, RelativeDay};
use crate::error::{Error, Result};
use crate::input::{self, Source};
use crate::model::{DuplicateInput, InputInfo, Period, Summary};
use crate::time::{LogTime, TimeFormat, DAY};

use super::read::LogAnalysis;

/// The period to read: `--since`/`--until`, or the day `--since today` or
/// `yesterday` names, counted from `anchor` (the newest input's last
/// write, as a civil date).
pub(super) fn window(
    cfg: &AnalyzeConfig,
    anchor: Option<(i32, u32, u32)>,
) -> Result<(Option<LogTime>, Option<LogTime>)> {
    let Some(day) = cfg.day else {
        return Ok((cfg.since, cfg.until));
    };
    let (y, m, d) = anchor.ok_or_else(|| {
        Error::Usage("--since today: no input has a modification date to say which day today is; give a date (--since 2026-01-03)".to_string())
    })?;
    let today = LogTime::from_civil(y, m, d, 0, 0, 0, 0)
        .ok_or_else(|| Error::Usage(format!("--since today: no day {y}-{m}-{d}")))?;
    let start = match day {
        RelativeDay::Today => today,
        RelativeDay::Yesterday => LogTime(today.0 - DAY),
    };
    let end = LogTime(start.0 + DAY);
    Ok((Some(start), Some(cfg.until.map_or(end, |u| u.min(end)))))
}

/// Pairs (later, earlier) of logs that held the same lines: as many, of
/// the same programs, over the same span. A rotation given twice (gzipped
/// and not) would count every message twice.
pub(super) fn duplicates(logs: &[Source], analysis: &LogAnalysis) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let same = |i: usize, j: usize| {
        let (a, b) = (&analysis.stats[i], &analysis.stats[j]);
        let span = |k: usize| analysis.findings.source_span.get(&k);
        a.total > 0
            && a.total == b.total
            && a.newlines == b.newlines
            && a.postfix == b.postfix
            && span(i).is_some()
            && span(i) == span(j)
            && a.by_program.len() == b.by_program.len()
            && a.by_program
                .iter()
                .all(|(k, v)| b.by_program.get(k).is_some_and(|w| w.lines == v.lines))
    };
    for j in 0..logs.len() {
        if logs[j].severity_file || out.iter().any(|&(d, _)| d == j) {
            continue;
        }
        let dup = (0..j).find(|&i| {
            !logs[i].severity_file && same(i, j) && input::overlap::same_content(&logs[i], &logs[j])
        });
        if let Some(i) = dup {
            out.push((j, i));
        }
    }
    out
}

/// Drops the later of each pair of duplicate logs, saying so in the
/// summary; returns their rows for the inputs table (as skipped).
pub(super) fn drop_duplicates(
    logs: &mut Vec<Source>,
    pairs: &[(usize, usize)],
    analysis: &LogAnalysis,
    summary: &mut Summary,
) -> Vec<InputInfo> {
    let mut rows = Vec::new();
    for &(dup, orig) in pairs {
        summary.duplicate_inputs.push(DuplicateInput {
            path: logs[dup].display(),
            same_as: logs[orig].display(),
            lines: analysis.stats[dup].total,
        });
        rows.push(InputInfo {
            path: logs[dup].display(),
            kind: crate::model::SKIPPED_INPUT.to_string(),
            compressed: logs[dup].compressed,
            bytes: logs[dup].bytes,
            problems: vec![format!(
                "the same lines as {}: read once",
                logs[orig].display()
            )],
            ..InputInfo::default()
        });
    }
    let mut k = 0;
    logs.retain(|_| {
        k += 1;
        !pairs.iter().any(|&(d, _)| d == k - 1)
    });
    rows
}

/// A period asked for that holds no line of the logs is a mistake to
/// name, not an empty report.
pub(super) fn check_window(
    window: (Option<LogTime>, Option<LogTime>),
    analysis: &LogAnalysis,
    fmt: &TimeFormat,
) -> Result<()> {
    if window == (None, None) || analysis.findings.first.is_some() {
        return Ok(());
    }
    let asked = |t: Option<LogTime>| t.map_or("…".to_string(), |t| fmt.iso(t));
    let held = match analysis.findings.logs_span {
        Some((a, b)) => format!("the logs hold {} to {}", fmt.iso(a), fmt.iso(b)),
        None => "the logs hold no dated line".to_string(),
    };
    Err(Error::Usage(format!(
        "no log line falls in the period asked for ({} to {}): {held}",
        asked(window.0),
        asked(window.1)
    )))
}

/// The logs' own span when `--since`/`--until` chose a part of them.
pub(super) fn logs_span(
    window: (Option<LogTime>, Option<LogTime>),
    analysis: &LogAnalysis,
    fmt: &TimeFormat,
) -> Option<Period> {
    if window == (None, None) {
        return None;
    }
    let (a, b) = analysis.findings.logs_span?;
    Some(Period {
        first: Some(fmt.iso(a)),
        last: Some(fmt.iso(b)),
        timezone: fmt.zone_name(),
        ..Period::default()
    })
}
