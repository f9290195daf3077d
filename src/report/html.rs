//! `report.html`: one self-contained page that tells the story, problems
//! first, readable on a laptop, a phone and on paper.
//!
//! The page comes from a minijinja template with HTML auto-escaping on for
//! everything: nothing from the Summary (log text from strangers) ever
//! becomes markup, a URL, a script or a style. Rust computes plain values
//! (bar geometry, capped tables, fix steps split into text and commands, the
//! few links allowed) and the template emits the elements. No network: no
//! external fonts, scripts or images, and a Content-Security-Policy that
//! forbids them in case anything slipped through.

use super::{cause_color, cause_rank, safe_delisting_link, segments, ReportOptions, Segment};
use crate::model::{
    BlacklistEpisode, CauseRow, HeadlineItem, Incident, LocalFailure, OutgoingLimitRow,
    QueuedMessageRow, SenderRow, Summary, Suspect, TextCount,
};
use minijinja::{AutoEscape, Environment};
use serde::Serialize;
use std::collections::BTreeMap;

/// Rows a table shows in the HTML; the CSV has them all. Keeps the page of a
/// 5-million-line input small (a few MB at most).
pub const MAX_ROWS: usize = 200;
/// Bars the timeline draws at most; finer buckets are merged.
const MAX_BARS: i64 = 240;

const TEMPLATE: &str = include_str!("templates/report.html.j2");
const CHART: &str = include_str!("templates/timeline.svg.j2");

/// Renders the page. Pure: same Summary and options, same bytes.
pub fn render_html(summary: &Summary, opts: &ReportOptions) -> crate::Result<String> {
    let mut env = Environment::new();
    // Escape everything, whatever the template's name says.
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    let err = |e: minijinja::Error| crate::Error::Report {
        what: "report.html".to_string(),
        message: format!("{e:#}"),
    };
    env.add_template("report.html.j2", TEMPLATE).map_err(err)?;
    env.add_template("timeline.svg.j2", CHART).map_err(err)?;
    let view = View::new(summary, opts);
    env.get_template("report.html.j2")
        .and_then(|t| t.render(minijinja::value::Serde(&view)))
        .map_err(err)
}

/// A table cut to [`MAX_ROWS`], saying how many more rows are in which CSV.
#[derive(Serialize)]
struct Capped<T: Serialize> {
    rows: Vec<T>,
    total: usize,
    more: usize,
    csv: &'static str,
}

fn capped<T: Serialize>(rows: impl ExactSizeIterator<Item = T>, csv: &'static str) -> Capped<T> {
    let total = rows.len();
    Capped {
        rows: rows.take(MAX_ROWS).collect(),
        total,
        more: total.saturating_sub(MAX_ROWS),
        csv,
    }
}

#[derive(Serialize)]
struct HeadView<'a> {
    h: &'a HeadlineItem,
    color: &'static str,
    fix: Vec<Vec<Segment>>,
}

#[derive(Serialize)]
struct CauseView<'a> {
    c: &'a CauseRow,
    color: &'static str,
    fix: Vec<Vec<Segment>>,
}

#[derive(Serialize)]
struct IncidentView<'a> {
    i: &'a Incident,
    title: String,
    color: &'static str,
    receivers: String,
}

#[derive(Serialize)]
struct EpisodeView<'a> {
    b: &'a BlacklistEpisode,
    /// Only an allow-listed portal link; any other URL is shown as text.
    link: Option<&'a str>,
    receivers: String,
    color: &'static str,
}

#[derive(Serialize)]
struct SuspectView<'a> {
    s: &'a Suspect,
    fix: Vec<Vec<Segment>>,
    client_ips: String,
}

#[derive(Serialize)]
struct QueuedView<'a> {
    m: &'a QueuedMessageRow,
    recipients: String,
    age: String,
}

#[derive(Serialize)]
struct View<'a> {
    s: &'a Summary,
    time_label: &'a str,
    nonce: String,
    headline: Vec<HeadView<'a>>,
    /// The headline causes as a sentence for the page title.
    title: String,
    chart: Option<Chart>,
    causes: Vec<CauseView<'a>>,
    incidents: Capped<IncidentView<'a>>,
    local: Capped<&'a LocalFailure>,
    limits: Capped<&'a OutgoingLimitRow>,
    blacklist: Capped<EpisodeView<'a>>,
    suspects: Capped<SuspectView<'a>>,
    senders: Capped<&'a SenderRow>,
    unclassified: Capped<&'a TextCount>,
    inbound: Capped<&'a TextCount>,
    oldest: Capped<QueuedView<'a>>,
    shape_rows: Capped<&'a crate::model::QueueShapeRow>,
    shape_headers: Vec<String>,
    inputs_used: usize,
    inputs_skipped: usize,
}

impl<'a> View<'a> {
    fn new(s: &'a Summary, opts: &'a ReportOptions) -> View<'a> {
        let fixes = |f: &[String]| f.iter().map(|x| segments(x)).collect::<Vec<_>>();
        let title = if s.headline.is_empty() {
            "No outbound trouble found".to_string()
        } else {
            s.headline
                .iter()
                .map(|h| h.title.as_str())
                .collect::<Vec<_>>()
                .join(" · ")
        };
        let (shape_rows, shape_headers) = match &s.queue {
            Some(q) => (
                capped(q.shape.rows.iter(), "queue_shape.csv"),
                q.shape
                    .bucket_minutes
                    .iter()
                    .map(|m| m.to_string())
                    .chain(q.shape.bucket_minutes.last().map(|m| format!("{m}+")))
                    .collect(),
            ),
            None => (
                capped(
                    std::iter::empty::<&crate::model::QueueShapeRow>(),
                    "queue_shape.csv",
                ),
                Vec::new(),
            ),
        };
        let oldest: Vec<QueuedView> = s
            .queue
            .iter()
            .flat_map(|q| q.oldest.iter())
            .map(|m| QueuedView {
                m,
                recipients: m.recipients.join(", "),
                age: human_minutes(m.age_minutes),
            })
            .collect();
        View {
            s,
            time_label: if opts.time_label.is_empty() {
                "server local time"
            } else {
                &opts.time_label
            },
            nonce: nonce(s),
            headline: s
                .headline
                .iter()
                .map(|h| HeadView {
                    h,
                    color: cause_color(&h.cause),
                    fix: fixes(&h.fix),
                })
                .collect(),
            title,
            chart: Chart::build(s),
            causes: s
                .causes
                .iter()
                .map(|c| CauseView {
                    c,
                    color: cause_color(&c.cause),
                    fix: fixes(&c.fix),
                })
                .collect(),
            incidents: capped(
                s.incidents.iter().map(|i| IncidentView {
                    i,
                    title: cause_title(s, &i.cause),
                    color: cause_color(&i.cause),
                    receivers: i.receivers.join(", "),
                }),
                "incidents.csv",
            ),
            local: capped(s.local_failures.iter(), "local_failures.csv"),
            limits: capped(s.outgoing_limits.iter(), "outgoing_limits.csv"),
            blacklist: capped(
                s.blacklistings.iter().map(|b| EpisodeView {
                    b,
                    link: b.delisting_url.as_deref().and_then(safe_delisting_link),
                    receivers: b.receivers.join(", "),
                    color: cause_color(&b.cause),
                }),
                "blacklist.csv",
            ),
            suspects: capped(
                s.suspects.iter().map(|p| SuspectView {
                    s: p,
                    fix: fixes(&p.fix),
                    client_ips: p.client_ips.join(", "),
                }),
                "suspects.csv",
            ),
            senders: capped(s.top_senders.iter(), "senders.csv"),
            unclassified: capped(s.unclassified.iter(), "unclassified.csv"),
            inbound: capped(s.inbound_rejects.iter(), "inbound_rejects.csv"),
            oldest: capped(oldest.into_iter(), "queue.csv"),
            shape_rows,
            shape_headers,
            inputs_used: s.inputs.iter().filter(|i| i.kind != "skipped").count(),
            inputs_skipped: s.inputs.iter().filter(|i| i.kind == "skipped").count(),
        }
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

/// The cause's title as the analysis named it, else its id in words.
fn cause_title(s: &Summary, cause: &str) -> String {
    s.causes
        .iter()
        .find(|c| c.cause == cause)
        .map(|c| c.title.clone())
        .or_else(|| {
            s.headline
                .iter()
                .find(|h| h.cause == cause)
                .map(|h| h.title.clone())
        })
        .unwrap_or_else(|| {
            let words = cause.replace('_', " ");
            let mut c = words.chars();
            c.next()
                .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
        })
}

fn human_minutes(m: i64) -> String {
    if m < 0 {
        return format!("{m} min");
    }
    match m {
        0..=119 => format!("{m} min"),
        120..=2879 => format!("{} h", m / 60),
        _ => format!("{} d {} h", m / 1440, (m % 1440) / 60),
    }
}

/// Seconds since 1970 of an ISO 8601 time as the Summary writes it
/// (`2025-12-30T10:16:18`, optionally with fractions and an offset, which
/// are ignored: the chart is in the report's wall clock).
fn parse_iso(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() < 16
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b' ')
        || b[13] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { t.get(r)?.parse().ok() };
    let (y, mo, d, h, mi) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
    );
    let s = if b.len() >= 19 && b[16] == b':' {
        num(17..19)?
    } else {
        0
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = crate::time::days_from_civil(y as i32, mo as u32, d as u32);
    Some(days * 86_400 + h * 3600 + mi * 60 + s)
}

fn format_tick(t: i64, with_time: bool) -> String {
    let (_, m, d) = crate::time::civil_from_days(t.div_euclid(86_400));
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS[(m as usize).clamp(1, 12) - 1];
    let sod = t.rem_euclid(86_400);
    if with_time && sod != 0 {
        format!("{:02}:{:02}", sod / 3600, (sod % 3600) / 60)
    } else {
        format!("{month} {d}")
    }
}

fn format_span(a: i64, b: i64) -> String {
    let f = |t: i64| {
        let (y, m, d) = crate::time::civil_from_days(t.div_euclid(86_400));
        let sod = t.rem_euclid(86_400);
        format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}",
            sod / 3600,
            (sod % 3600) / 60
        )
    };
    format!("{} to {}", f(a), f(b))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The timeline as plain numbers for the SVG template.
#[derive(Serialize, Debug)]
struct Chart {
    width: f64,
    height: f64,
    plot_x: f64,
    plot_y: f64,
    plot_w: f64,
    plot_h: f64,
    bars: Vec<Bar>,
    y_ticks: Vec<Tick>,
    x_ticks: Vec<Tick>,
    lanes: Vec<Lane>,
    shades: Vec<Span>,
    legend: Vec<LegendItem>,
    /// "Each bar: 3 h" when buckets were merged or for the caption.
    bar_label: String,
    y_max: u64,
}

#[derive(Serialize, Debug)]
struct Bar {
    x: f64,
    w: f64,
    title: String,
    segs: Vec<BarSeg>,
}

#[derive(Serialize, Debug)]
struct BarSeg {
    y: f64,
    h: f64,
    color: &'static str,
    cause: String,
    count: u64,
}

#[derive(Serialize, Debug)]
struct Tick {
    pos: f64,
    label: String,
}

#[derive(Serialize, Debug)]
struct Lane {
    y: f64,
    h: f64,
    label: String,
    color: &'static str,
    spans: Vec<Span>,
}

#[derive(Serialize, Debug)]
struct Span {
    x: f64,
    w: f64,
    color: &'static str,
    title: String,
}

#[derive(Serialize, Debug)]
struct LegendItem {
    cause: String,
    title: String,
    color: &'static str,
    total: u64,
}

impl Chart {
    fn build(s: &Summary) -> Option<Chart> {
        let bs = if s.timeline.bucket_seconds > 0 {
            s.timeline.bucket_seconds
        } else {
            3600
        };
        let rows: Vec<(i64, &str, u64)> = s
            .timeline
            .rows
            .iter()
            .filter_map(|r| {
                Some((
                    parse_iso(&r.bucket_start)?,
                    r.cause.as_str(),
                    r.deferral_events,
                ))
            })
            .collect();
        let first_row = rows.iter().map(|r| r.0).min()?;
        let last_row = rows.iter().map(|r| r.0).max()?;
        // The period frames the chart so quiet days show as quiet, unless it
        // is absurd next to the data (a stray year-less line).
        let t0 = s
            .period
            .first
            .as_deref()
            .and_then(parse_iso)
            .filter(|t| *t <= first_row && first_row - t < 400 * 86_400)
            .unwrap_or(first_row)
            .div_euclid(bs)
            * bs;
        let t_last = s
            .period
            .last
            .as_deref()
            .and_then(parse_iso)
            .filter(|t| *t >= last_row && t - last_row < 400 * 86_400)
            .unwrap_or(last_row);
        let buckets = (t_last - t0) / bs + 1;
        let group = (buckets + MAX_BARS - 1) / MAX_BARS;
        let bar_seconds = bs * group.max(1);
        let nbars = ((t_last - t0) / bar_seconds + 1).max(1);
        let t1 = t0 + nbars * bar_seconds;

        // Causes present, in the fixed order.
        let mut per_bar: Vec<BTreeMap<(usize, &str), u64>> = vec![BTreeMap::new(); nbars as usize];
        let mut totals: BTreeMap<(usize, &str), u64> = BTreeMap::new();
        for &(t, cause, n) in &rows {
            let i = ((t - t0) / bar_seconds).clamp(0, nbars - 1) as usize;
            *per_bar[i].entry((cause_rank(cause), cause)).or_default() += n;
            *totals.entry((cause_rank(cause), cause)).or_default() += n;
        }
        let y_max_raw = per_bar
            .iter()
            .map(|b| b.values().sum::<u64>())
            .max()
            .unwrap_or(0)
            .max(1);
        let (y_max, y_step) = nice_axis(y_max_raw);

        let title_of = |cause: &str| cause_title(s, cause);

        let incident_causes: Vec<&str> = {
            let mut v: Vec<&str> = s.incidents.iter().map(|i| i.cause.as_str()).collect();
            v.sort_by_key(|c| (cause_rank(c), *c));
            v.dedup();
            v.truncate(6);
            v
        };
        let width = 1000.0;
        let lane_h = 14.0;
        let lane_gap = 5.0;
        let top = 8.0;
        let lanes_h = incident_causes.len() as f64 * (lane_h + lane_gap);
        let plot_x = if lanes_h > 0.0 { 150.0 } else { 56.0 };
        let plot_y = top + lanes_h + if lanes_h > 0.0 { 8.0 } else { 0.0 };
        let plot_w = width - plot_x - 12.0;
        let plot_h = 240.0;
        let height = plot_y + plot_h + 30.0;
        let span = (t1 - t0) as f64;
        let xpos = |t: i64| plot_x + ((t - t0) as f64 / span).clamp(0.0, 1.0) * plot_w;
        let bar_w = plot_w / nbars as f64;
        let gap = if bar_w > 4.0 { 1.0 } else { 0.0 };

        let bars = per_bar
            .iter()
            .enumerate()
            .filter(|(_, b)| !b.is_empty())
            .map(|(i, b)| {
                let start = t0 + i as i64 * bar_seconds;
                let mut y = plot_y + plot_h;
                let total: u64 = b.values().sum();
                let segs = b
                    .iter()
                    .map(|(&(_, cause), &n)| {
                        let h = n as f64 / y_max as f64 * plot_h;
                        y -= h;
                        BarSeg {
                            y: round1(y),
                            h: round1(h.max(0.5)),
                            color: cause_color(cause),
                            cause: cause.to_string(),
                            count: n,
                        }
                    })
                    .collect();
                Bar {
                    x: round1(plot_x + i as f64 * bar_w + gap / 2.0),
                    w: round1((bar_w - gap).max(0.5)),
                    title: format!(
                        "{}: {total} deferrals",
                        format_span(start, start + bar_seconds)
                    ),
                    segs,
                }
            })
            .collect();

        let y_ticks = (0..)
            .map(|k| k * y_step)
            .take_while(|v| *v <= y_max)
            .map(|v| Tick {
                pos: round1(plot_y + plot_h - v as f64 / y_max as f64 * plot_h),
                label: v.to_string(),
            })
            .collect();

        // About six time labels, on round hours or days.
        const STEPS: [i64; 12] = [
            300, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800, 2_592_000,
        ];
        let step = STEPS
            .iter()
            .copied()
            .find(|st| (t1 - t0) / st <= 7)
            .unwrap_or(2_592_000);
        let with_time = step < 86_400;
        let mut x_ticks = Vec::new();
        let mut t = (t0 + step - 1).div_euclid(step) * step;
        while t <= t1 {
            x_ticks.push(Tick {
                pos: round1(xpos(t)),
                label: format_tick(t, with_time),
            });
            t += step;
        }

        let mut shades = Vec::new();
        let lanes = incident_causes
            .iter()
            .enumerate()
            .map(|(k, cause)| {
                let color = cause_color(cause);
                let spans = s
                    .incidents
                    .iter()
                    .filter(|i| i.cause == *cause)
                    .filter_map(|i| {
                        let (a, b) = (parse_iso(&i.start)?, parse_iso(&i.end)?);
                        let x = xpos(a);
                        let w = (xpos(b.max(a)) - x).max(3.0);
                        shades.push(Span {
                            x: round1(x),
                            w: round1(w),
                            color,
                            title: String::new(),
                        });
                        Some(Span {
                            x: round1(x),
                            w: round1(w),
                            color,
                            title: format!(
                                "{}: {}, {} deferrals, {} messages",
                                title_of(cause),
                                format_span(a, b),
                                i.deferral_events,
                                i.messages
                            ),
                        })
                    })
                    .collect();
                Lane {
                    y: top + k as f64 * (lane_h + lane_gap),
                    h: lane_h,
                    label: title_of(cause),
                    color,
                    spans,
                }
            })
            .collect();

        let legend = totals
            .iter()
            .map(|(&(_, cause), &total)| LegendItem {
                cause: cause.to_string(),
                title: title_of(cause),
                color: cause_color(cause),
                total,
            })
            .collect();

        Some(Chart {
            width,
            height: round1(height),
            plot_x,
            plot_y: round1(plot_y),
            plot_w,
            plot_h,
            bars,
            y_ticks,
            x_ticks,
            lanes,
            shades,
            legend,
            bar_label: human_seconds(bar_seconds),
            y_max,
        })
    }
}

fn human_seconds(s: i64) -> String {
    match s {
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// An axis maximum and step of 1, 2 or 5 times a power of ten, about four
/// steps to the top.
fn nice_axis(max: u64) -> (u64, u64) {
    let rough = (max as f64 / 4.0).max(1.0);
    let pow = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * pow)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * pow) as u64;
    let step = step.max(1);
    (max.div_ceil(step) * step, step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TimelineRow;

    #[test]
    fn iso_times_parse_with_and_without_offsets() {
        let a = parse_iso("2025-12-30T10:16:18").unwrap();
        assert_eq!(parse_iso("2025-12-30T10:16:18.250+01:00"), Some(a));
        assert_eq!(a % 86_400, 10 * 3600 + 16 * 60 + 18);
        assert_eq!(parse_iso("Dec 30 10:16:18"), None);
        assert_eq!(parse_iso("2025-13-30T10:16:18"), None);
        assert_eq!(parse_iso("2025-12-30T1é:16:18"), None);
    }

    #[test]
    fn axis_steps_are_round() {
        assert_eq!(nice_axis(1), (1, 1));
        assert_eq!(nice_axis(7), (8, 2));
        assert_eq!(nice_axis(412), (600, 200));
        assert_eq!(nice_axis(1665), (2000, 500));
    }

    #[test]
    fn bars_stack_in_cause_order_and_fine_buckets_merge() {
        let mut s = Summary::default();
        s.timeline.bucket_seconds = 60;
        // Three days of minutes: 4320 buckets must become at most 240 bars.
        for (m, cause, n) in [
            (0, "blacklisted", 5),
            (0, "port25_blocked", 3),
            (4319, "dns_failure", 2),
        ] {
            let t = parse_iso("2025-12-29T00:00:00").unwrap() + m * 60;
            let (y, mo, d) = crate::time::civil_from_days(t / 86_400);
            let sod = t % 86_400;
            s.timeline.rows.push(TimelineRow {
                bucket_start: format!(
                    "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:00",
                    sod / 3600,
                    sod % 3600 / 60
                ),
                cause: cause.into(),
                deferral_events: n,
                deferred_messages: 1,
            });
        }
        let c = Chart::build(&s).unwrap();
        assert_eq!(c.bars.len(), 2);
        assert_eq!(c.bar_label, "18 min");
        let first = &c.bars[0];
        // port25_blocked comes before blacklisted in the fixed order: drawn
        // at the bottom, so its y is the larger one.
        assert_eq!(first.segs[0].cause, "port25_blocked");
        assert!(first.segs[0].y > first.segs[1].y);
        assert_eq!(c.y_max, 8);
        let legend: Vec<&str> = c.legend.iter().map(|l| l.cause.as_str()).collect();
        assert_eq!(legend, ["port25_blocked", "dns_failure", "blacklisted"]);
    }
}
