//! The terminal view of `postmortem queue`: totals, the dump time and how
//! it was found, the tables by queue, cause and sender, the ages, qshape's
//! table, the oldest messages, and the cleanup selection with its ids.
//!
//! Each function returns the text; the caller writes it (through
//! [`super::escape::SafeWriter`], since dump text comes from strangers).

use std::fmt::{self, Write};
use std::path::{Path, PathBuf};

use crate::analyze::queue::{
    human_age, render_qshape_width, senders_of, Selector, ShapeMode, ShapeOptions,
};
use crate::model::{KeyCount, QueueShape, QueueSummary};
use crate::parse::queue::{QueueDump, QueueName, QueuedMessage};
use crate::time::MINUTE;

/// qshape's table is cut to this many lines on the terminal.
const SHAPE_LINES: usize = 22;
/// Ids listed when no `--ids-out` is given.
const IDS_LISTED: usize = 20;
/// Senders of a selection listed by name.
const SENDERS_LISTED: usize = 10;

/// What the view shows.
pub struct QueueView<'a> {
    /// The dump files, as given.
    pub dumps: &'a [PathBuf],
    pub summary: &'a QueueSummary,
    /// All dumps merged.
    pub dump: &'a QueueDump,
    /// What the reader should know about the dumps (duplicates, clocks).
    pub notes: &'a [String],
    /// qshape's table as asked for, over `shape_queues` (empty: all).
    pub shape: &'a QueueShape,
    pub shape_options: &'a ShapeOptions,
    pub shape_queues: &'a [QueueName],
    /// Rows of the oldest messages; 0 shows 10.
    pub oldest: usize,
}

/// Where the selected ids went.
pub enum IdsOut<'a> {
    /// Written to a file for `postsuper -d -`: (written, skipped) ids.
    File(&'a Path, u64, u64),
    /// Listed on the screen only.
    Screen,
}

/// The view of the dumps, before any selection.
pub fn render_view(v: &QueueView) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = view(v, &mut s);
    s
}

/// The selection's heading and whose mail it holds.
pub fn render_selection(selectors: &[Selector], picked: &[&QueuedMessage]) -> String {
    let mut s = String::new();
    let what: Vec<String> = selectors.iter().map(|s| s.to_string()).collect();
    let _ = writeln!(
        s,
        "\nSelection ({}): {} messages",
        what.join(" "),
        picked.len()
    );
    let _ = senders(picked, &mut s);
    s
}

/// Where the selected ids went, and when to flush the rest.
pub fn render_ids(picked: &[&QueuedMessage], out: IdsOut) -> String {
    let mut s = String::new();
    let _ = ids(picked, out, &mut s);
    s
}

/// The problems with the inputs, at most 20; empty when there are none.
pub fn render_problems(problems: &[String]) -> String {
    let mut s = String::new();
    if !problems.is_empty() {
        let _ = writeln!(s, "\nProblems ({}):", problems.len());
        for p in problems.iter().take(20) {
            let _ = writeln!(s, "  {p}");
        }
    }
    s
}

fn view(v: &QueueView, out: &mut String) -> fmt::Result {
    let summary = v.summary;
    let names: Vec<String> = v.dumps.iter().map(|p| p.display().to_string()).collect();
    writeln!(
        out,
        "Queue: {} messages, {} recipients, {} KB in {}",
        summary.messages,
        summary.recipients,
        summary.bytes / 1024,
        names.join(", ")
    )?;
    writeln!(
        out,
        "Dump time: {} ({})",
        summary.dump_time, summary.dump_time_source
    )?;
    for note in v.dump.clock_note.iter().chain(v.notes) {
        writeln!(out, "Note: {note}")?;
    }
    if v.dump.messages.is_empty() {
        let empty = if v.dump.empty_marker {
            "Mail queue is empty."
        } else {
            "No queued messages read."
        };
        writeln!(out, "{empty}")?;
    }
    if summary.by_queue.is_empty() {
        return Ok(());
    }
    tables(summary, out)?;
    shape(v, out)?;
    oldest(summary, v.oldest, out)
}

/// By queue, by cause, the top senders and the ages.
fn tables(summary: &QueueSummary, out: &mut String) -> fmt::Result {
    let row = |k: &KeyCount| format!("{} {} ({} KB)", k.key, k.messages, k.bytes.div_ceil(1024));
    let by_queue: Vec<String> = summary.by_queue.iter().map(row).collect();
    writeln!(out, "By queue: {}", by_queue.join(", "))?;
    writeln!(out, "\nBy cause:")?;
    for k in &summary.by_cause {
        writeln!(
            out,
            "  {:<22} {:>7} messages {:>9} KB",
            k.key,
            k.messages,
            k.bytes.div_ceil(1024)
        )?;
    }
    writeln!(out, "\nTop senders:")?;
    for k in summary.by_sender.iter().take(5) {
        writeln!(out, "  {:<40} {:>7} messages", k.key, k.messages)?;
    }
    let bands: Vec<String> = summary
        .age_bands
        .iter()
        .map(|b| format!("{} {}", b.key, b.messages))
        .collect();
    writeln!(out, "Ages: {}", bands.join(", "))
}

/// qshape's table, cut at 22 lines.
fn shape(v: &QueueView, out: &mut String) -> fmt::Result {
    let which = if v.shape_queues.is_empty() {
        "all queues".to_string()
    } else {
        let ids: Vec<&str> = v.shape_queues.iter().map(|q| q.id()).collect();
        ids.join(" ")
    };
    let by = match v.shape_options.mode {
        ShapeMode::Recipients => "recipient domains",
        ShapeMode::Senders => "sender domains",
    };
    writeln!(out, "\nqshape ({which}; {by} by age in minutes):")?;
    let table = render_qshape_width(v.shape, v.shape_options.width);
    let lines: Vec<&str> = table.lines().collect();
    if lines.len() > SHAPE_LINES {
        let more = lines.len() - SHAPE_LINES;
        writeln!(out, "{}", lines[..SHAPE_LINES].join("\n"))?;
        writeln!(out, "  ... {more} more domains")
    } else {
        write!(out, "{table}")
    }
}

/// The oldest messages, one line each.
fn oldest(summary: &QueueSummary, rows: usize, out: &mut String) -> fmt::Result {
    writeln!(out, "\nOldest messages:")?;
    let rows = if rows == 0 { 10 } else { rows };
    for r in summary.oldest.iter().take(rows) {
        let more = r.recipients.len().saturating_sub(1);
        let rcpt = match r.recipients.first() {
            Some(a) if more > 0 => format!("{a} (+{more})"),
            Some(a) => a.clone(),
            None => String::new(),
        };
        writeln!(
            out,
            "  {:<12} {:<8} {:>12}  {} -> {}  [{}]",
            r.queue_id,
            r.queue,
            human_age(r.age_minutes * MINUTE),
            if r.sender.is_empty() { "<>" } else { &r.sender },
            rcpt,
            r.cause
        )?;
    }
    Ok(())
}

/// Whose mail a selection holds, when it is more than one sender's.
fn senders(picked: &[&QueuedMessage], out: &mut String) -> fmt::Result {
    let rows = senders_of(picked);
    if rows.len() < 2 {
        return Ok(());
    }
    writeln!(
        out,
        "  It holds the mail of {} senders; check that each is meant before deleting:",
        rows.len()
    )?;
    for (sender, n) in rows.iter().take(SENDERS_LISTED) {
        writeln!(out, "    {n:>6}  {sender}")?;
    }
    if rows.len() > SENDERS_LISTED {
        writeln!(
            out,
            "    ... and {} more senders",
            rows.len() - SENDERS_LISTED
        )?;
    }
    writeln!(
        out,
        "  The logs tell spam from legitimate mail: `postmortem analyze LOGS DUMP` writes each suspect's spam and review lists."
    )
}

fn ids(picked: &[&QueuedMessage], to: IdsOut, out: &mut String) -> fmt::Result {
    match to {
        IdsOut::File(path, written, skipped) => {
            writeln!(out, "  {written} queue ids written to {}", path.display())?;
            if skipped > 0 {
                writeln!(
                    out,
                    "  {skipped} ids were not plain letters and digits and were left out"
                )?;
            }
            writeln!(
                out,
                "  Review the list, then delete with:  postsuper -d - < {}",
                path.display()
            )?;
        }
        IdsOut::Screen => {
            for m in picked.iter().take(IDS_LISTED) {
                writeln!(out, "  {}", m.queue_id)?;
            }
            if picked.len() > IDS_LISTED {
                writeln!(out, "  ... and {} more", picked.len() - IDS_LISTED)?;
            }
            writeln!(
                out,
                "  Add --ids-out ids.txt to write them for `postsuper -d - < ids.txt`"
            )?;
        }
    }
    writeln!(
        out,
        "  Flush the rest with `postqueue -f` only once the cause is fixed, no list refuses the server any more, and no spam is left queued."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::queue::{qshape, select, summarize, SelectContext};
    use crate::classify::Classifier;
    use crate::parse::queue::parse_text;
    use crate::time::{LogTime, TimeFormat};

    const LAB: &str = include_str!("../../tests/fixtures/lab1-postqueue-p-head.txt");

    fn now() -> LogTime {
        LogTime::from_civil(2026, 11, 28, 18, 56, 6, 0).unwrap()
    }

    /// The view of `dump` as `postmortem queue` shows it.
    fn view_of(
        dump: &QueueDump,
        opts: &ShapeOptions,
        queues: &[QueueName],
        oldest: usize,
    ) -> String {
        let c = Classifier::builtin();
        let summary = summarize(dump, now(), "--dump-time", &c, &TimeFormat::local());
        let shape = qshape(dump, now(), opts, queues);
        render_view(&QueueView {
            dumps: &[PathBuf::from("q.txt")],
            summary: &summary,
            dump,
            notes: &["1 message listed twice was counted once".to_string()],
            shape: &shape,
            shape_options: opts,
            shape_queues: queues,
            oldest,
        })
    }

    #[test]
    fn view_of_the_lab_dump() {
        let dump = parse_text(LAB.as_bytes(), now());
        let s = view_of(&dump, &ShapeOptions::default(), &[], 0);
        assert!(
            s.starts_with(
                "Queue: 40 messages, 49 recipients, 27 KB in q.txt\n\
                 Dump time: 2026-11-28T18:56:06 (--dump-time)\n\
                 Note: 1 message listed twice was counted once\n\
                 By queue: deferred 38 (27 KB), hold 2 (2 KB)\n\nBy cause:\n  rate_limited                13 messages        10 KB\n"
            ),
            "{s}"
        );
        assert!(
            s.contains(
                "\nTop senders:\n  alice@lab.test                                19 messages\n"
            ),
            "{s}"
        );
        assert!(
            s.contains("\nAges: under_1d 40, 1d_to_4d 0, over_4d 0\n"),
            "{s}"
        );
        assert!(
            s.contains("\nqshape (all queues; recipient domains by age in minutes):\n"),
            "{s}"
        );
        assert!(s.contains("\n                                  TOTAL 49 12 27 10  0  0   0   0   0    0     0\n"), "{s}");
        let oldest = s.split("\nOldest messages:\n").nth(1).unwrap();
        assert_eq!(oldest.lines().count(), 10, "{s}");
        assert!(oldest.starts_with("  D74F9D06F3   deferred       18 min  carol@lab.test -> fullbox@example.org  [mailbox_full]\n"), "{s}");
        assert!(oldest.contains("  A45C2D06F6   hold           17 min  dave@lab.test -> george.khan48@gmail-like.test  [held]\n"), "{s}");
    }

    #[test]
    fn view_says_which_queues_and_domains_the_shape_counts() {
        let dump = parse_text(LAB.as_bytes(), now());
        let s = view_of(
            &dump,
            &ShapeOptions::senders(),
            &[QueueName::Hold, QueueName::Deferred],
            3,
        );
        assert!(
            s.contains("\nqshape (hold deferred; sender domains by age in minutes):\n"),
            "{s}"
        );
        assert!(s.contains(" lab.test "), "{s}");
        let oldest = s.split("\nOldest messages:\n").nth(1).unwrap();
        assert_eq!(oldest.lines().count(), 3, "{s}");
    }

    #[test]
    fn an_empty_queue_is_said_and_has_no_tables() {
        let empty = parse_text(b"Mail queue is empty\n", now());
        let s = view_of(&empty, &ShapeOptions::default(), &[], 0);
        assert!(
            s.ends_with("Note: 1 message listed twice was counted once\nMail queue is empty.\n"),
            "{s}"
        );
        assert!(!s.contains("By queue") && !s.contains("qshape"), "{s}");
        let unread = parse_text(b"", now());
        assert!(view_of(&unread, &ShapeOptions::default(), &[], 0)
            .ends_with("\nNo queued messages read.\n"));
    }

    #[test]
    fn a_long_shape_is_cut_at_22_lines() {
        let mut dump = parse_text(LAB.as_bytes(), now());
        for (i, m) in dump.messages.iter_mut().enumerate() {
            for r in &mut m.recipients {
                r.address = format!("someone@domain{i}.example");
            }
        }
        let s = view_of(&dump, &ShapeOptions::default(), &[], 0);
        let shape = s.split("by age in minutes):\n").nth(1).unwrap();
        let shape = shape.split("\nOldest messages:").next().unwrap();
        // The heading, TOTAL and 20 of the 40 domains.
        assert_eq!(shape.lines().count(), 23, "{shape}");
        assert!(shape.ends_with("\n  ... 20 more domains\n"), "{shape}");
        // Short ones are shown whole.
        let lab = view_of(
            &parse_text(LAB.as_bytes(), now()),
            &ShapeOptions::default(),
            &[],
            0,
        );
        assert!(!lab.contains("more domains"), "{lab}");
    }

    #[test]
    fn a_selection_says_whose_mail_it_holds_and_where_its_ids_went() {
        let dump = parse_text(LAB.as_bytes(), now());
        let c = Classifier::builtin();
        let ctx = SelectContext {
            classifier: &c,
            dump_time: now(),
            logs: None,
        };
        let by_domain = [Selector::parse("sender_domain=lab.test").unwrap()];
        let picked = select(&dump, &by_domain, &ctx);
        let s = render_selection(&by_domain, &picked);
        assert!(s.starts_with("\nSelection (sender_domain=lab.test): 40 messages\n  It holds the mail of 3 senders; check that each is meant before deleting:\n        19  alice@lab.test\n        12  dave@lab.test\n         9  carol@lab.test\n  The logs tell spam"), "{s}");
        let listed = render_ids(&picked, IdsOut::Screen);
        assert_eq!(listed.lines().count(), 23, "{listed}");
        assert!(
            listed.starts_with("  3E485D0602\n  303F4D0570\n"),
            "{listed}"
        );
        assert!(
            listed.contains("\n  ... and 20 more\n  Add --ids-out ids.txt"),
            "{listed}"
        );
        assert!(listed.ends_with("no spam is left queued.\n"), "{listed}");

        let held = [Selector::parse("queue=hold").unwrap()];
        let picked = select(&dump, &held, &ctx);
        let s = render_selection(&held, &picked);
        // One sender: nothing to check.
        assert_eq!(s, "\nSelection (queue=hold): 2 messages\n");
        let written = render_ids(&picked, IdsOut::File(Path::new("ids.txt"), 2, 0));
        assert!(written.starts_with("  2 queue ids written to ids.txt\n  Review the list, then delete with:  postsuper -d - < ids.txt\n"), "{written}");
        let skipped = render_ids(&picked, IdsOut::File(Path::new("ids.txt"), 1, 1));
        assert!(
            skipped.contains("\n  1 ids were not plain letters and digits and were left out\n"),
            "{skipped}"
        );
    }

    #[test]
    fn problems_are_listed_up_to_20() {
        assert_eq!(render_problems(&[]), "");
        let many: Vec<String> = (1..=25)
            .map(|i| format!("dump{i}.txt: not a queue dump"))
            .collect();
        let s = render_problems(&many);
        assert!(
            s.starts_with("\nProblems (25):\n  dump1.txt: not a queue dump\n"),
            "{s}"
        );
        assert_eq!(s.lines().count(), 22, "{s}");
        assert!(s.ends_with("  dump20.txt: not a queue dump\n"), "{s}");
    }
}
