//! The short view printed after a run: what broke, the top causes, incidents,
//! suspects and the queue shape, in at most 40 lines, so the answer is on the
//! screen before anyone opens the HTML.
//!
//! Log text may carry terminal escape sequences from strangers; every
//! control character is replaced before it reaches the screen.

use crate::model::{ProblemState, Summary};
use std::fmt::Write;

/// Lines the view may take; the caller adds one: where the report was written.
pub const MAX_LINES: usize = 39;
const WIDTH: usize = 100;

/// Whether to colour output on a stream: only on a terminal, never when
/// `NO_COLOR` is set to anything non-empty (no-color.org) or `TERM=dumb`.
pub fn use_color(stream_is_terminal: bool) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    stream_is_terminal && !no_color && !dumb
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn red(&self, s: &str) -> String {
        self.paint("1;31", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}

/// Shows control and bidi characters (ESC, CR, U+202E, ...) as `<U+XXXX>`
/// and cuts to `max` characters.
fn clean(s: &str, max: usize) -> String {
    let s = super::escape::escape_unsafe(s);
    let mut out: String = s.chars().take(max).collect();
    if s.chars().count() > max {
        out.pop();
        out.push('…');
    }
    out
}

/// Wraps at spaces into at most `lines` lines of `width` characters.
fn wrap(s: &str, width: usize, lines: usize) -> Vec<String> {
    let s = clean(s, width * lines + 1);
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    if out.len() > lines {
        out.truncate(lines);
        if let Some(last) = out.last_mut() {
            *last = clean(last, width - 1);
            last.push('…');
        }
    }
    out
}

fn short_time(t: &str) -> String {
    // "2025-12-30T10:16:18" -> "2025-12-30 10:16"
    t.replacen('T', " ", 1)
        .chars()
        .take(16)
        .map(|c| {
            if super::escape::is_unsafe_char(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// The first notes (soft bounces, the filter's discards, clocks).
fn notes(s: &Summary, st: &Style, lines: &mut Vec<String>) {
    for n in s.notes.iter().take(2) {
        for (i, t) in wrap(n, WIDTH - 4, 2).into_iter().enumerate() {
            let lead = if i == 0 { "  note: " } else { "        " };
            lines.push(st.dim(&format!("{lead}{t}")));
        }
    }
}

/// The server's own failures that stop mail, the biggest first.
fn server_itself(s: &Summary, st: &Style, lines: &mut Vec<String>) {
    let failing: Vec<_> = s.local_failures.iter().filter(|l| l.stops_mail).collect();
    if failing.is_empty() {
        return;
    }
    lines.push(String::new());
    lines.push(st.bold("The server itself                          lines  program"));
    for l in failing.iter().take(3) {
        lines.push(format!(
            "  {:<40}{:>7}  {}",
            clean(&l.title, 40),
            l.count,
            clean(&l.program, 30)
        ));
    }
    more(lines, st, failing.len(), 3, "in local_failures.csv");
}

/// Each problem with its state, its text and its first fix; or no trouble.
fn what_broke(s: &Summary, st: &Style, lines: &mut Vec<String>) {
    if s.headline
        .iter()
        .all(|h| h.cause == crate::model::NO_TROUBLE)
    {
        lines.push(st.bold("No outbound trouble found."));
        for h in &s.headline {
            lines.extend(
                wrap(&h.text, WIDTH - 2, 2)
                    .into_iter()
                    .map(|t| format!("  {t}")),
            );
        }
    } else {
        lines.push(st.bold("What broke"));
        for h in s.headline.iter().take(4) {
            let mut text = wrap(&h.text, WIDTH - 4, 2).into_iter();
            let state = match h.state {
                ProblemState::Ongoing => "[ongoing] ".to_string(),
                ProblemState::Ended => format!(
                    "[ended {}] ",
                    h.end.as_deref().map(short_time).unwrap_or_default()
                ),
                _ => String::new(),
            };
            if let Some(first) = text.next() {
                lines.push(format!("  {} {}{first}", st.red("●"), st.bold(&state)));
            }
            lines.extend(text.map(|t| format!("    {t}")));
            if let Some(fix) = h.fix.first() {
                let fix = fix.replace('`', "");
                lines.push(st.dim(&format!("    fix: {}", clean(&fix, WIDTH - 9))));
            }
        }
        more(lines, st, s.headline.len(), 4, "in the report");
    }
}

/// The likeliest sources, and whether each sent while already listed.
fn suspects(s: &Summary, st: &Style, lines: &mut Vec<String>) {
    if !s.suspects.is_empty() {
        lines.push(String::new());
        lines.push(st.bold("Suspects"));
        for p in s.suspects.iter().take(3) {
            let role = match p.role {
                crate::model::SuspectRole::Cause => "",
                crate::model::SuspectRole::WhileListed => ", sent while listed",
            };
            lines.push(format!(
                "  {}. {} (score {:.0}{role}): {} messages, {} recipients in {} domains",
                p.rank,
                clean(&p.identity, 50),
                p.score,
                p.messages,
                p.recipients,
                p.recipient_domains
            ));
        }
        more(lines, st, s.suspects.len(), 3, "in suspects.csv");
    }
}

/// `  ... 27 more in incidents.csv` when a list was cut at `shown`.
fn more(lines: &mut Vec<String>, st: &Style, total: usize, shown: usize, place: &str) {
    if total > shown {
        lines.push(st.dim(&format!("  ... {} more {place}", total - shown)));
    }
}

pub fn render_terminal(summary: &Summary, color: bool) -> String {
    let st = Style { color };
    let s = summary;
    let mut lines: Vec<String> = Vec::new();
    let period = match (&s.period.first, &s.period.last) {
        (Some(a), Some(b)) => format!("{} to {}", short_time(a), short_time(b)),
        _ => "no dated lines".to_string(),
    };
    lines.push(format!(
        "{} {period}, {} lines, {} deferrals, {} bounces{}",
        st.bold("postmortem:"),
        s.lines.total,
        s.totals.deferral_events,
        s.totals.bounced,
        match (s.redacted, s.redaction_salt.as_deref()) {
            (false, _) => "",
            (true, Some("random")) => {
                " (redacted with a random salt: its pseudonyms match no other report)"
            }
            (true, _) => " (redacted)",
        }
    ));

    lines.push(String::new());
    what_broke(s, &st, &mut lines);

    notes(s, &st, &mut lines);

    if !s.causes.is_empty() {
        lines.push(String::new());
        lines.push(st.bold("Causes                    deferrals  share  bounces"));
        for c in s.causes.iter().take(4) {
            lines.push(format!(
                "  {:<24}{:>9} {:>5.1}% {:>8}",
                clean(&c.cause, 24),
                c.deferral_events,
                c.share_of_deferrals,
                c.bounces
            ));
        }
        more(&mut lines, &st, s.causes.len(), 4, "in causes.csv");
    }

    if !s.incidents.is_empty() {
        lines.push(String::new());
        lines.push(st.bold("Incidents"));
        let mut inc: Vec<_> = s.incidents.iter().collect();
        inc.sort_by_key(|i| std::cmp::Reverse(i.deferral_events));
        for i in inc.iter().take(3) {
            lines.push(format!(
                "  {:<22}{} to {}  {} deferrals, {} messages",
                clean(&i.cause, 22),
                short_time(&i.start),
                short_time(&i.end),
                i.deferral_events,
                i.messages
            ));
        }
        more(&mut lines, &st, inc.len(), 3, "in incidents.csv");
    }

    server_itself(s, &st, &mut lines);

    suspects(s, &st, &mut lines);

    if let Some(q) = &s.queue {
        lines.push(String::new());
        lines.push(st.bold(&format!(
            "Queue at {}: {} messages, {} recipients",
            short_time(&q.dump_time),
            q.messages,
            q.recipients
        )));
        let mut header = format!("  {:<28}{:>6}", "domain", "T");
        for m in &q.shape.bucket_minutes {
            let _ = write!(header, "{m:>6}");
        }
        header.push_str(&format!("{:>6}", "more"));
        lines.push(st.dim(&header));
        for r in q.shape.rows.iter().take(4) {
            let mut row = format!("  {:<28}{:>6}", clean(&r.domain, 27), r.total);
            for c in &r.counts {
                let _ = write!(row, "{c:>6}");
            }
            lines.push(row);
        }
    }

    if lines.len() > MAX_LINES {
        lines.truncate(MAX_LINES - 1);
        lines.push(st.dim("... (more in the report)"));
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CauseRow, HeadlineItem, Incident};

    fn summary() -> Summary {
        let mut s = Summary::default();
        s.lines.total = 51584;
        s.headline.push(HeadlineItem {
            cause: "content_filter_down".into(),
            title: "Content filter down".into(),
            text: "Content filter down from 2025-12-30 10:17 to 2025-12-30 12:05: 30 messages held up, 228 deferrals (5.1% of all deferrals).".into(),
            fix: vec!["Restart it and Postfix: `systemctl restart amavis && postfix reload`".into()],
            ..Default::default()
        });
        for i in 0..30 {
            s.causes.push(CauseRow {
                cause: format!("cause_{i}"),
                ..Default::default()
            });
            s.incidents.push(Incident {
                cause: "remote_unavailable".into(),
                start: "2025-12-28T20:09:36".into(),
                end: "2025-12-28T20:52:05".into(),
                deferral_events: i,
                ..Default::default()
            });
        }
        s
    }

    #[test]
    fn stays_within_forty_lines_and_shows_the_fix() {
        let out = render_terminal(&summary(), false);
        assert!(out.lines().count() <= MAX_LINES, "{out}");
        assert!(out.contains("systemctl restart amavis && postfix reload"));
        assert!(out.contains("... 27 more in incidents.csv"), "{out}");
        assert!(out.contains("... 26 more in causes.csv"), "{out}");
        // The biggest incident comes first.
        assert!(out.contains("29 deferrals"));
        assert!(!out.contains('\x1b'));
        assert!(render_terminal(&summary(), true).contains("\x1b[1m"));
    }

    #[test]
    fn notes_and_the_servers_own_failures_are_shown() {
        let mut s = Summary::default();
        s.notes
            .push("The server runs with `soft_bounce = yes`: 3 deliveries".into());
        s.local_failures.push(crate::model::LocalFailure {
            kind: "crash_loop".into(),
            title: "A Postfix daemon keeps dying at start".into(),
            program: "postfix/master".into(),
            count: 657,
            stops_mail: true,
            ..Default::default()
        });
        let out = render_terminal(&s, false);
        assert!(
            out.contains("note: The server runs with `soft_bounce = yes`"),
            "{out}"
        );
        assert!(
            out.contains("A Postfix daemon keeps dying at start"),
            "{out}"
        );
        assert!(out.contains("657"), "{out}");
    }

    #[test]
    fn each_problem_says_whether_it_is_ongoing_or_when_it_ended() {
        let mut s = Summary::default();
        for (cause, state) in [
            ("blacklisted", ProblemState::Ongoing),
            ("dns_failure", ProblemState::Ended),
        ] {
            s.headline.push(HeadlineItem {
                cause: cause.into(),
                text: format!("{cause} text"),
                end: Some("2026-11-28T18:52:03".into()),
                state,
                ..Default::default()
            });
        }
        let out = render_terminal(&s, false);
        assert!(out.contains("● [ongoing] blacklisted text"), "{out}");
        assert!(
            out.contains("● [ended 2026-11-28 18:52] dns_failure text"),
            "{out}"
        );
    }

    #[test]
    fn escape_sequences_from_logs_never_reach_the_terminal() {
        let mut s = summary();
        s.headline[0].text = "evil \x1b]0;owned\x07 \x1b[2J text".into();
        let out = render_terminal(&s, false);
        assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out:?}");
    }
}
