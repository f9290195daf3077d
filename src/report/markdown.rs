//! `summary.md`: the report's first screen as text to paste into a ticket.
//! What to know first (partial input, a log given twice, silences), what is
//! broken at the end of the logs and what ended when, with the first and
//! last evidence, the queue now, and the steps in order with their commands
//! in fenced blocks, copied as they are.
//!
//! Log text is hostile: outside code blocks every Markdown character is
//! escaped, and a code block's fence is longer than any run of backticks
//! inside it, so nothing from the logs becomes a link, an image or markup.

use std::fmt::Write;

use super::first_screen::{alerts, state_words, when};
use crate::model::{EvidenceLine, Summary};

/// Escapes the characters that make Markdown (and HTML in Markdown) out of
/// text; a line break becomes a space.
pub fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '!' | '#' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A fenced code block (`lang` after the fence) holding `lines` as they are.
fn code_block(out: &mut String, indent: &str, lang: &str, lines: &[&str]) {
    let longest = lines
        .iter()
        .flat_map(|l| l.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = writeln!(out, "{indent}{fence}{lang}");
    for l in lines {
        let _ = writeln!(out, "{indent}{}", l.replace(['\n', '\r'], " "));
    }
    let _ = writeln!(out, "{indent}{fence}");
}

fn evidence(out: &mut String, label: &str, l: &EvidenceLine) {
    let _ = writeln!(out, "   - {label}, {}:{}:", md_text(&l.file), l.line);
    code_block(out, "     ", "", &[&l.text]);
}

/// The first screen as Markdown. Pure: same Summary, same text.
pub fn render_markdown(s: &Summary, time_label: &str) -> String {
    let mut out = String::new();
    let period = |t: &Option<String>| t.as_deref().map(when).unwrap_or_else(|| "–".into());
    let _ = writeln!(out, "# Mail server incident report\n");
    let _ = writeln!(
        out,
        "{} to {} ({}) · {} log lines{}{}\n",
        period(&s.period.first),
        period(&s.period.last),
        md_text(time_label),
        s.lines.total,
        s.queue
            .as_ref()
            .map(|q| format!(" · queue dump at {}", when(&q.dump_time)))
            .unwrap_or_default(),
        if s.redacted { " · redacted" } else { "" },
    );
    for a in alerts(s) {
        let _ = writeln!(out, "> **{}**", md_text(&a.title));
        for i in &a.items {
            let _ = writeln!(out, "> - {}", md_text(i));
        }
        if a.more > 0 {
            let _ = writeln!(out, "> - and {} more (summary.json)", a.more);
        }
        out.push('\n');
    }
    problems(&mut out, s);
    queue_now(&mut out, s);
    runbook(&mut out, s);
    let t = &s.totals;
    let _ = writeln!(
        out,
        "## Totals\n\n| messages received | recipients delivered | deferral events | messages deferred | recipients bounced | messages expired | rejected inbound (events) |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n| {} | {} | {} | {} | {} | {} | {} |\n",
        t.received, t.delivered, t.deferral_events, t.deferred_messages, t.bounced, t.expired, t.rejected
    );
    let _ = writeln!(
        out,
        "The full report is report.html beside this file; every table is a CSV there too. Generated offline by postmortem {}: nothing was changed on the server.",
        md_text(&s.tool_version)
    );
    out
}

/// What is broken now, each problem with its state and evidence.
fn problems(out: &mut String, s: &Summary) {
    let _ = writeln!(
        out,
        "## What is broken now (at the end of the logs, {})\n",
        s.period.last.as_deref().map(when).unwrap_or_default()
    );
    if !s.headline.iter().any(|h| h.cause != "none") {
        let text = s
            .headline
            .first()
            .map(|h| h.text.as_str())
            .unwrap_or("No cause held up a significant share of the mail in this period.");
        let _ = writeln!(out, "No outbound trouble found. {}\n", md_text(text));
        return;
    }
    for (k, h) in s.headline.iter().enumerate() {
        let (label, note) = state_words(s, h);
        let state = match (label.is_empty(), note.is_empty()) {
            (true, _) => String::new(),
            (false, true) => format!(": **{}**", md_text(&label)),
            (false, false) => format!(": **{}** ({})", md_text(&label), md_text(&note)),
        };
        let _ = writeln!(out, "{}. **{}**{state}", k + 1, md_text(&h.title));
        let _ = writeln!(out, "   {}", md_text(&h.text));
        let mut meta = Vec::new();
        if let Some(a) = &h.start {
            meta.push(format!("first seen {}", when(a)));
        }
        if let Some(b) = &h.end {
            meta.push(format!("last seen {}", when(b)));
        }
        meta.push(format!("{} messages", h.messages));
        if h.occurrences > 1 {
            meta.push(format!("{} times", h.occurrences));
        }
        let _ = writeln!(out, "   - {}", meta.join(" · "));
        if let Some(l) = h.lines.first() {
            evidence(out, "first evidence", l);
        }
        if let Some(l) = h.lines.get(1) {
            evidence(out, "last evidence", l);
        }
        if s.runbook.is_empty() {
            // Without the ordered steps, each problem's own fix.
            for f in &h.fix {
                let _ = writeln!(out, "   - to do: {}", fix_text(f));
            }
        }
    }
    out.push('\n');
}

/// A fix step: its `commands` in code spans, the rest escaped.
fn fix_text(step: &str) -> String {
    super::segments(step)
        .iter()
        .map(|seg| {
            if seg.code {
                let longest = seg
                    .text
                    .split(|c| c != '`')
                    .map(str::len)
                    .max()
                    .unwrap_or(0);
                let ticks = "`".repeat(longest + 1);
                format!("{ticks} {} {ticks}", seg.text)
            } else {
                md_text(&seg.text)
            }
        })
        .collect()
}

fn queue_now(out: &mut String, s: &Summary) {
    let Some(q) = &s.queue_now else { return };
    let at = q.at.as_deref().map(when).unwrap_or_default();
    let mut line = if q.source == crate::model::QueueNowSource::Dump {
        format!(
            "**Queue now:** {} messages in the queue dump of {at}",
            q.messages
        )
    } else {
        format!(
            "**Queue now:** {} messages still queued at the end of the logs ({at}: no removed line yet)",
            q.messages
        )
    };
    if !s.suspects.is_empty() {
        let _ = write!(line, "; {} of them from the suspects", q.from_suspects);
    }
    if !q.by_cause.is_empty() {
        let causes: Vec<String> = q
            .by_cause
            .iter()
            .take(5)
            .map(|k| format!("{} {}", md_text(&k.key), k.messages))
            .collect();
        let _ = write!(line, "; by cause: {}", causes.join(", "));
        if q.by_cause.len() > 5 {
            let _ = write!(line, " and {} more", q.by_cause.len() - 5);
        }
    }
    let _ = writeln!(out, "{line}.\n");
}

/// The steps in order, each command in its own block to copy.
fn runbook(out: &mut String, s: &Summary) {
    if s.runbook.is_empty() {
        return;
    }
    let _ = writeln!(out, "## What to do, in order\n");
    for (k, step) in s.runbook.iter().enumerate() {
        let _ = writeln!(out, "{}. **{}**", k + 1, md_text(&step.title));
        if !step.why.is_empty() {
            let _ = writeln!(out, "   {}", md_text(&step.why));
        }
        if !step.commands.is_empty() {
            let cmds: Vec<&str> = step.commands.iter().map(String::as_str).collect();
            out.push('\n');
            code_block(out, "   ", "sh", &cmds);
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HeadlineItem, RunbookStep};

    #[test]
    fn markup_in_log_text_stays_text() {
        assert_eq!(
            md_text("<script>[x](http://e) *a* `b` | #1\nz"),
            "\\<script\\>\\[x\\](http://e) \\*a\\* \\`b\\` \\| \\#1 z"
        );
        let mut out = String::new();
        code_block(&mut out, "", "", &["a ``` b"]);
        assert_eq!(out, "````\na ``` b\n````\n");
    }

    #[test]
    fn steps_in_order_with_their_commands_and_problems_with_their_state() {
        let s = Summary {
            headline: vec![HeadlineItem {
                cause: "port25_blocked".into(),
                title: "Outbound port 25 blocked".into(),
                text: "Port 25 blocked.".into(),
                end: Some("2026-11-28T18:52:03".into()),
                state: crate::model::ProblemState::Ended,
                recovered: Some("2026-11-28T18:54:10".into()),
                messages: 7,
                lines: vec![EvidenceLine {
                    file: "mail.log".into(),
                    line: 12,
                    text: "connect to mx[1.2.3.4]:25: Connection timed out".into(),
                    ..EvidenceLine::default()
                }],
                ..HeadlineItem::default()
            }],
            runbook: vec![
                RunbookStep {
                    title: "Stop the source".into(),
                    commands: vec!["doveadm kick mike@studio-example.org".into()],
                    why: "It sent the spam.".into(),
                },
                RunbookStep {
                    title: "Flush the queue, last".into(),
                    commands: vec!["postqueue -f".into()],
                    why: String::new(),
                },
            ],
            ..Summary::default()
        };
        let md = render_markdown(&s, "UTC");
        assert!(md.contains("1. **Outbound port 25 blocked**: **Ended 2026-11-28 18:52:03** (mail went out again at 2026-11-28 18:54:10)"), "{md}");
        assert!(md.contains("   - first evidence, mail.log:12:\n     ```\n     connect to mx[1.2.3.4]:25: Connection timed out\n     ```\n"), "{md}");
        let a = md.find("1. **Stop the source**\n   It sent the spam.\n\n   ```sh\n   doveadm kick mike@studio-example.org\n   ```").expect(&md);
        let b = md
            .find("2. **Flush the queue, last**\n\n   ```sh\n   postqueue -f\n   ```")
            .expect(&md);
        assert!(a < b);
        // With the steps given, no per-problem fix is repeated.
        assert!(!md.contains("to do:"), "{md}");
        // Without steps (none known yet), nothing is said about them.
        let s = Summary {
            runbook: vec![],
            ..s
        };
        assert!(!render_markdown(&s, "UTC").contains("What to do, in order"));
    }
}
