//! The first screen of the report, shared by report.html and summary.md:
//! what the reader must know before trusting the numbers (partial input,
//! a log given twice, silences, a part of the logs), and each problem's
//! state at the end of the logs in words.

use serde::Serialize;

use crate::model::{HeadlineItem, ProblemState, Summary};

/// Something the reader must know before trusting the numbers.
#[derive(Serialize)]
pub struct Alert {
    pub title: String,
    pub items: Vec<String>,
    pub more: usize,
}

/// `2026-11-28T18:52:03+01:00` as `2026-11-28 18:52:03`.
pub fn when(t: &str) -> String {
    t.get(..19).unwrap_or(t).replace('T', " ")
}

/// A problem's state in words: "Ongoing at the end of the logs" or
/// "Ended 2026-11-28 18:52", and what says so ("mail went out again at
/// 18:54"). Empty for a problem without a time (a dump's causes).
pub fn state_words(s: &Summary, h: &HeadlineItem) -> (String, String) {
    let listing = matches!(h.cause.as_str(), "blacklisted" | "rate_limited");
    let end = h.end.as_deref().map(when).unwrap_or_default();
    match h.state {
        ProblemState::Ongoing => (
            "Ongoing at the end of the logs".to_string(),
            match (listing, &s.period.last) {
                (true, _) => {
                    "receivers still refused the server's mail in the last lines".to_string()
                }
                (false, Some(last)) => format!("last seen {end}; the logs end {}", when(last)),
                (false, None) => format!("last seen {end}"),
            },
        ),
        ProblemState::Ended => (
            format!("Ended {end}"),
            match (&h.recovered, listing) {
                (Some(t), true) => format!("the receivers accepted mail again at {}", when(t)),
                (Some(t), false) => format!("mail went out again at {}", when(t)),
                (None, _) => "not seen again in the logs, though no delivery since shows it fixed"
                    .to_string(),
            },
        ),
        _ => (String::new(), String::new()),
    }
}

/// Partial input, inputs read once because another held the same lines,
/// silences in the logs, and the part of the logs chosen: first, in red.
pub fn alerts(s: &Summary) -> Vec<Alert> {
    let mut out = Vec::new();
    let cap = |v: Vec<String>, title: String| {
        let more = v.len().saturating_sub(5);
        Alert {
            title,
            items: v.into_iter().take(5).collect(),
            more,
        }
    };
    if s.partial || !s.problems.is_empty() {
        out.push(cap(
            s.problems.clone(),
            if s.partial {
                "Some input could not be read completely: this report is partial".to_string()
            } else {
                "Problems met while reading".to_string()
            },
        ));
    }
    if !s.duplicate_inputs.is_empty() {
        let v = s
            .duplicate_inputs
            .iter()
            .map(|d| {
                format!(
                    "{} holds the same {} lines as {}: it was read once",
                    d.path, d.lines, d.same_as
                )
            })
            .collect();
        out.push(cap(v, "The same log was given twice".to_string()));
    }
    if !s.gaps.is_empty() {
        let v = s
            .gaps
            .iter()
            .map(|g| {
                format!(
                    "no Postfix line from {} to {} ({}; about {} lines were due at the logs' pace)",
                    when(&g.from),
                    when(&g.to),
                    super::chart::human_seconds(g.minutes as i64 * 60).replace(" min", " minutes"),
                    g.expected_lines
                )
            })
            .collect();
        out.push(cap(
            v,
            "The logs fall silent: a rotation may be missing".to_string(),
        ));
    }
    if let Some(span) = &s.logs_span {
        let (a, b) = (&s.period.first, &s.period.last);
        out.push(Alert {
            title: "A part of the logs was analyzed".to_string(),
            items: vec![format!(
                "{} to {} of logs that hold {} to {} (--since/--until)",
                a.as_deref().map(when).unwrap_or_default(),
                b.as_deref().map(when).unwrap_or_default(),
                span.first.as_deref().map(when).unwrap_or_default(),
                span.last.as_deref().map(when).unwrap_or_default(),
            )],
            more: 0,
        });
    }
    out
}
