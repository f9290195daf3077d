//! `report.html`: one self-contained page that tells the story, problems
//! first, readable on a laptop, a phone and on paper.
//!
//! The page comes from a minijinja template with HTML auto-escaping on for
//! everything: nothing from the Summary (log text from strangers) ever
//! becomes markup, a URL, a script or a style. Rust computes plain values
//! (bar geometry, capped tables, fix steps split into text and commands, the
//! few links allowed, the states in words) and the template emits the
//! elements. No network: no external fonts, scripts or images, and a
//! Content-Security-Policy that forbids them in case anything slipped
//! through.

use super::chart::{charts, Chart};
use super::first_screen::{alerts, state_words, Alert};
use super::{cause_color, segments, ReportOptions, Segment};
use crate::model::{EvidenceLine, HeadlineItem, QueueNow, Summary, SKIPPED_INPUT};
use minijinja::{AutoEscape, Environment};
use serde::Serialize;

#[path = "html_tables.rs"]
mod tables;

use tables::Tables;

/// Rows a table shows in the HTML; the CSV has them all. Keeps the page of a
/// 5-million-line input small (a few MB at most).
pub const MAX_ROWS: usize = 200;

/// The page and the parts it includes, by name.
const TEMPLATES: [(&str, &str); 7] = [
    ("report.html.j2", include_str!("templates/report.html.j2")),
    ("macros.j2", include_str!("templates/macros.j2")),
    ("now.html.j2", include_str!("templates/now.html.j2")),
    (
        "findings.html.j2",
        include_str!("templates/findings.html.j2"),
    ),
    ("traffic.html.j2", include_str!("templates/traffic.html.j2")),
    ("rest.html.j2", include_str!("templates/rest.html.j2")),
    ("timeline.svg.j2", include_str!("templates/timeline.svg.j2")),
];

/// Renders the page. Pure: same Summary and options, same bytes.
pub fn render_html(summary: &Summary, opts: &ReportOptions) -> crate::Result<String> {
    let mut env = Environment::new();
    // Escape everything, whatever the template's name says.
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    let err = |e: minijinja::Error| crate::Error::Report {
        what: "report.html".to_string(),
        message: format!("{e:#}"),
    };
    for (name, text) in TEMPLATES {
        env.add_template(name, text).map_err(err)?;
    }
    let view = View::new(summary, opts);
    env.get_template("report.html.j2")
        .and_then(|t| t.render(minijinja::value::Serde(&view)))
        .map_err(err)
}

/// One problem of the first screen, with its state in words.
#[derive(Serialize)]
struct NowItem<'a> {
    h: &'a HeadlineItem,
    color: &'static str,
    /// `ongoing`, `ended` or empty (a problem without a time).
    state: &'a str,
    /// "Ongoing at the end of the logs", "Ended 2026-11-28 18:52".
    state_label: String,
    /// What says so: "mail went out again at 18:54", "not seen again".
    state_note: String,
    fix: Vec<Vec<Segment>>,
    first: Option<&'a EvidenceLine>,
    last: Option<&'a EvidenceLine>,
}

#[derive(Serialize)]
struct Charts {
    wide: Chart,
    narrow: Chart,
}

#[derive(Serialize)]
struct View<'a> {
    s: &'a Summary,
    time_label: &'a str,
    nonce: String,
    /// The headline causes as a sentence for the page title.
    title: String,
    alerts: Vec<Alert>,
    now: Vec<NowItem<'a>>,
    /// Whether the first screen names trouble (not "no incident").
    trouble: bool,
    queue_now: Option<&'a QueueNow>,
    charts: Option<Charts>,
    t: Tables<'a>,
    inputs_used: usize,
    inputs_skipped: usize,
}

impl<'a> View<'a> {
    fn new(s: &'a Summary, opts: &'a ReportOptions) -> View<'a> {
        let trouble = s
            .headline
            .iter()
            .any(|h| h.cause != crate::model::NO_TROUBLE);
        let title = if trouble {
            s.headline
                .iter()
                .map(|h| h.title.as_str())
                .collect::<Vec<_>>()
                .join(" · ")
        } else {
            "No outbound trouble found".to_string()
        };
        View {
            s,
            time_label: opts.time_label(),
            nonce: nonce(s),
            title,
            alerts: alerts(s),
            now: s.headline.iter().map(|h| now_item(s, h)).collect(),
            trouble,
            queue_now: s.queue_now.as_ref(),
            charts: charts(s).map(|(wide, narrow)| Charts { wide, narrow }),
            t: Tables::new(s),
            inputs_used: s.inputs.iter().filter(|i| i.kind != SKIPPED_INPUT).count(),
            inputs_skipped: s.inputs.iter().filter(|i| i.kind == SKIPPED_INPUT).count(),
        }
    }
}

fn now_item<'a>(s: &'a Summary, h: &'a HeadlineItem) -> NowItem<'a> {
    let (state_label, state_note) = state_words(s, h);
    NowItem {
        h,
        color: cause_color(&h.cause),
        state: h.state.id(),
        state_label,
        state_note,
        fix: h.fix.iter().map(|x| segments(x)).collect(),
        first: h.lines.first(),
        last: h.lines.get(1),
    }
}

/// A per-page value for the script's CSP nonce: injected markup (which the
/// escaping already prevents) could not guess it to run a script.
fn nonce(s: &Summary) -> String {
    let json = serde_json::to_vec(s).unwrap_or_default();
    let h = blake3::hash(&json);
    h.as_bytes()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_said_in_words() {
        let mut s = Summary::default();
        s.period.last = Some("2026-11-28T18:56:07".into());
        let h = HeadlineItem {
            cause: "dns_failure".into(),
            end: Some("2026-11-28T18:52:03".into()),
            state: crate::model::ProblemState::Ended,
            recovered: Some("2026-11-28T18:54:10".into()),
            ..HeadlineItem::default()
        };
        let n = now_item(&s, &h);
        assert_eq!(n.state_label, "Ended 2026-11-28 18:52:03");
        assert_eq!(n.state_note, "mail went out again at 2026-11-28 18:54:10");
        let h = HeadlineItem {
            cause: "port25_blocked".into(),
            end: Some("2026-11-28T18:55:03".into()),
            state: crate::model::ProblemState::Ongoing,
            ..HeadlineItem::default()
        };
        let n = now_item(&s, &h);
        assert_eq!(n.state_label, "Ongoing at the end of the logs");
        assert!(n.state_note.contains("the logs end 2026-11-28 18:56:07"));
    }
}
