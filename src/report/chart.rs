//! The timeline chart as plain numbers for the SVG template: deferrals per
//! bucket stacked by cause, and below them the mail that went out and the
//! bounces of the same buckets, with the incidents as lanes above.
//!
//! Two layouts are built, one for a wide page and one for a phone, each
//! with its text at a readable size in its own coordinates; the page shows
//! the one that fits. Every label is placed so that it stays inside the
//! drawing: lane labels get the room their text needs (wide) or a line of
//! their own (narrow), and tick labels at the edges are anchored inwards.

use super::{cause_color, cause_rank};
use crate::model::Summary;
use serde::Serialize;
use std::collections::BTreeMap;

/// Bars drawn at most; finer buckets are merged.
pub const MAX_BARS: i64 = 60;
/// Colours of the mail that went out and of the bounces (Okabe-Ito green,
/// and a red no cause uses).
const DELIVERED: &str = "#2E7D32";
const BOUNCED: &str = "#C62828";
/// Average width of a character of the labels' font, in the chart's units
/// (11 px text), generous so that no label is cut.
const CHAR_W: f64 = 6.8;

#[derive(Serialize, Debug)]
pub struct Chart {
    /// `wide` or `narrow`: element ids stay unique with both on the page.
    pub id: &'static str,
    pub width: f64,
    pub height: f64,
    pub plot_x: f64,
    pub plot_y: f64,
    pub plot_w: f64,
    pub plot_h: f64,
    /// The deliveries and bounces strip under the plot.
    pub flow_y: f64,
    pub flow_h: f64,
    pub flow_max: u64,
    pub bars: Vec<Bar>,
    pub flow: Vec<FlowBar>,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    pub axis_y: f64,
    pub lanes: Vec<Lane>,
    pub shades: Vec<Span>,
    pub legend: Vec<LegendItem>,
    /// "3 h": each bar's width in time.
    pub bar_label: String,
    pub y_max: u64,
    pub delivered_color: &'static str,
    pub bounced_color: &'static str,
    pub delivered: u64,
    pub bounced: u64,
}

#[derive(Serialize, Debug)]
pub struct Bar {
    pub x: f64,
    pub w: f64,
    pub title: String,
    pub segs: Vec<BarSeg>,
}

#[derive(Serialize, Debug)]
pub struct BarSeg {
    pub y: f64,
    pub h: f64,
    pub color: &'static str,
    pub cause: String,
    pub count: u64,
}

/// One bucket's deliveries and bounces, side by side.
#[derive(Serialize, Debug)]
pub struct FlowBar {
    pub x: f64,
    pub w: f64,
    pub delivered_y: f64,
    pub delivered_h: f64,
    pub bounced_x: f64,
    pub bounced_y: f64,
    pub bounced_h: f64,
    pub title: String,
}

#[derive(Serialize, Debug)]
pub struct Tick {
    pub pos: f64,
    pub label: String,
    /// `start`, `middle` or `end`: edge labels are anchored inwards.
    pub anchor: &'static str,
}

#[derive(Serialize, Debug)]
pub struct Lane {
    pub y: f64,
    pub h: f64,
    pub label: String,
    pub label_x: f64,
    pub label_y: f64,
    /// `end` (left of the plot) or `start` (above the lane).
    pub label_anchor: &'static str,
    pub color: &'static str,
    pub spans: Vec<Span>,
}

#[derive(Serialize, Debug)]
pub struct Span {
    pub x: f64,
    pub w: f64,
    pub color: &'static str,
    pub title: String,
}

#[derive(Serialize, Debug)]
pub struct LegendItem {
    pub cause: String,
    pub title: String,
    pub color: &'static str,
    pub total: u64,
}

/// Where things go, per layout.
struct Layout {
    id: &'static str,
    width: f64,
    /// Lane labels on a line of their own above the lane.
    labels_above: bool,
    plot_h: f64,
    flow_h: f64,
    ticks: i64,
}

const WIDE: Layout = Layout {
    id: "wide",
    width: 1000.0,
    labels_above: false,
    plot_h: 220.0,
    flow_h: 70.0,
    ticks: 7,
};

const NARROW: Layout = Layout {
    id: "narrow",
    width: 380.0,
    labels_above: true,
    plot_h: 190.0,
    flow_h: 60.0,
    ticks: 4,
};

/// Seconds since 1970 of an ISO 8601 time as the Summary writes it
/// (`2025-12-30T10:16:18`, optionally with fractions and an offset, which
/// are ignored: the chart is in the report's wall clock).
pub fn parse_iso(t: &str) -> Option<i64> {
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

pub fn human_seconds(s: i64) -> String {
    match s {
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// An axis maximum and step of 1, 2 or 5 times a power of ten, about four
/// steps to the top.
pub fn nice_axis(max: u64) -> (u64, u64) {
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

/// The time frame: the first bar's start, the bar width, the bars.
struct Frame {
    t0: i64,
    bar_seconds: i64,
    nbars: i64,
}

impl Frame {
    fn new(s: &Summary, first_row: i64, last_row: i64) -> Frame {
        let bs = if s.timeline.bucket_seconds > 0 {
            s.timeline.bucket_seconds
        } else {
            3600
        };
        // The period frames the chart so quiet hours show as quiet, unless
        // it is absurd next to the data (a stray year-less line).
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
        Frame {
            t0,
            bar_seconds,
            nbars,
        }
    }

    fn bar_of(&self, t: i64) -> usize {
        ((t - self.t0) / self.bar_seconds).clamp(0, self.nbars - 1) as usize
    }

    fn end(&self) -> i64 {
        self.t0 + self.nbars * self.bar_seconds
    }
}

type PerBar<'a> = Vec<BTreeMap<(usize, &'a str), u64>>;

/// Both layouts, or `None` when nothing happened to draw.
pub fn charts(s: &Summary) -> Option<(Chart, Chart)> {
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
    let flow: Vec<(i64, u64, u64)> = s
        .timeline
        .flow
        .iter()
        .filter_map(|r| Some((parse_iso(&r.bucket_start)?, r.delivered, r.bounced)))
        .collect();
    let times = rows.iter().map(|r| r.0).chain(flow.iter().map(|r| r.0));
    let first_row = times.clone().min()?;
    let last_row = times.max()?;
    let frame = Frame::new(s, first_row, last_row);
    let mut per_bar: PerBar = vec![BTreeMap::new(); frame.nbars as usize];
    for &(t, cause, n) in &rows {
        *per_bar[frame.bar_of(t)]
            .entry((cause_rank(cause), cause))
            .or_default() += n;
    }
    let mut flow_bars = vec![(0u64, 0u64); frame.nbars as usize];
    for &(t, d, b) in &flow {
        let f = &mut flow_bars[frame.bar_of(t)];
        f.0 += d;
        f.1 += b;
    }
    let data = Data {
        s,
        frame,
        per_bar,
        flow: flow_bars,
    };
    Some((data.layout(&WIDE), data.layout(&NARROW)))
}

struct Data<'a> {
    s: &'a Summary,
    frame: Frame,
    per_bar: PerBar<'a>,
    flow: Vec<(u64, u64)>,
}

impl Data<'_> {
    fn layout(&self, l: &Layout) -> Chart {
        let s = self.s;
        let title_of = |cause: &str| super::cause_title(s, cause);
        let mut incident_causes: Vec<&str> = s.incidents.iter().map(|i| i.cause.as_str()).collect();
        incident_causes.sort_by_key(|c| (cause_rank(c), *c));
        incident_causes.dedup();
        incident_causes.truncate(6);
        let labels: Vec<String> = incident_causes.iter().map(|c| title_of(c)).collect();
        let (y_max, y_step) = nice_axis(
            self.per_bar
                .iter()
                .map(|b| b.values().sum::<u64>())
                .max()
                .unwrap_or(0)
                .max(1),
        );
        let y_label_w = CHAR_W * y_max.to_string().len() as f64 + 10.0;
        let (lane_h, lane_gap, label_line) = if l.labels_above {
            (9.0, 4.0, 13.0)
        } else {
            (14.0, 5.0, 0.0)
        };
        let longest = labels.iter().map(|x| x.chars().count()).max().unwrap_or(0);
        let plot_x = if l.labels_above || labels.is_empty() {
            y_label_w + 14.0
        } else {
            (CHAR_W * longest as f64 + 14.0).max(y_label_w + 14.0)
        };
        let top = 6.0;
        let lanes_h = labels.len() as f64 * (lane_h + lane_gap + label_line);
        // Room above the plot for the top tick's label (its glyphs rise
        // above the line it names).
        let plot_y = top + lanes_h + if lanes_h > 0.0 { 8.0 } else { 6.0 };
        // Room on the right for half a tick label.
        let plot_w = l.width - plot_x - 10.0;
        let flow_y = plot_y + l.plot_h + 12.0;
        let axis_y = flow_y + l.flow_h;
        let height = axis_y + 26.0;
        let f = &self.frame;
        let span = (f.end() - f.t0) as f64;
        let xpos = |t: i64| plot_x + ((t - f.t0) as f64 / span).clamp(0.0, 1.0) * plot_w;
        let bar_w = plot_w / f.nbars as f64;
        let gap = if bar_w > 4.0 { 1.0 } else { 0.0 };

        let bars = self.bars(plot_x, plot_y, l.plot_h, bar_w, gap, y_max);
        let (flow, flow_max) = self.flow_bars(plot_x, flow_y, l.flow_h, bar_w, gap);
        let y_ticks = (0..)
            .map(|k| k * y_step)
            .take_while(|v| *v <= y_max)
            .map(|v| Tick {
                pos: round1(plot_y + l.plot_h - v as f64 / y_max as f64 * l.plot_h),
                label: v.to_string(),
                anchor: "end",
            })
            .collect();
        let x_ticks = x_ticks(f.t0, f.end(), l.ticks, &xpos, (0.0, l.width));

        let mut shades = Vec::new();
        let lanes = incident_causes
            .iter()
            .zip(labels)
            .enumerate()
            .map(|(k, (cause, label))| {
                let color = cause_color(cause);
                let y = top + k as f64 * (lane_h + lane_gap + label_line) + label_line;
                let spans = self.spans(cause, &xpos, &mut shades);
                let (label_x, label_y, label_anchor) = if l.labels_above {
                    (plot_x, y - 3.0, "start")
                } else {
                    (plot_x - 6.0, y + lane_h - 3.0, "end")
                };
                Lane {
                    y,
                    h: lane_h,
                    label,
                    label_x: round1(label_x),
                    label_y: round1(label_y),
                    label_anchor,
                    color,
                    spans,
                }
            })
            .collect();
        Chart {
            id: l.id,
            width: l.width,
            height: round1(height),
            plot_x: round1(plot_x),
            plot_y: round1(plot_y),
            plot_w: round1(plot_w),
            plot_h: l.plot_h,
            flow_y: round1(flow_y),
            flow_h: l.flow_h,
            flow_max,
            bars,
            flow,
            y_ticks,
            x_ticks,
            axis_y: round1(axis_y),
            lanes,
            shades,
            legend: self.legend(),
            bar_label: human_seconds(f.bar_seconds),
            y_max,
            delivered_color: DELIVERED,
            bounced_color: BOUNCED,
            delivered: self.flow.iter().map(|x| x.0).sum(),
            bounced: self.flow.iter().map(|x| x.1).sum(),
        }
    }

    fn bars(
        &self,
        plot_x: f64,
        plot_y: f64,
        plot_h: f64,
        bar_w: f64,
        gap: f64,
        y_max: u64,
    ) -> Vec<Bar> {
        let f = &self.frame;
        self.per_bar
            .iter()
            .enumerate()
            .filter(|(_, b)| !b.is_empty())
            .map(|(i, b)| {
                let start = f.t0 + i as i64 * f.bar_seconds;
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
                        format_span(start, start + f.bar_seconds)
                    ),
                    segs,
                }
            })
            .collect()
    }

    /// Deliveries (left half) and bounces (right half) of each bar, on
    /// their own scale.
    fn flow_bars(
        &self,
        plot_x: f64,
        flow_y: f64,
        flow_h: f64,
        bar_w: f64,
        gap: f64,
    ) -> (Vec<FlowBar>, u64) {
        let f = &self.frame;
        let max = self.flow.iter().map(|x| x.0.max(x.1)).max().unwrap_or(0);
        if max == 0 {
            return (Vec::new(), 0);
        }
        let (top, _) = nice_axis(max);
        let h = |n: u64| n as f64 / top as f64 * flow_h;
        let bars = self
            .flow
            .iter()
            .enumerate()
            .filter(|(_, x)| x.0 + x.1 > 0)
            .map(|(i, &(d, b))| {
                let start = f.t0 + i as i64 * f.bar_seconds;
                let x = plot_x + i as f64 * bar_w + gap / 2.0;
                let half = ((bar_w - gap) / 2.0).max(0.5);
                FlowBar {
                    x: round1(x),
                    w: round1(half),
                    delivered_y: round1(flow_y + flow_h - h(d)),
                    delivered_h: round1(if d > 0 { h(d).max(0.5) } else { 0.0 }),
                    bounced_x: round1(x + half),
                    bounced_y: round1(flow_y + flow_h - h(b)),
                    bounced_h: round1(if b > 0 { h(b).max(0.5) } else { 0.0 }),
                    title: format!(
                        "{}: {d} delivered out, {b} bounced",
                        format_span(start, start + f.bar_seconds)
                    ),
                }
            })
            .collect();
        (bars, top)
    }

    fn spans(&self, cause: &str, xpos: &dyn Fn(i64) -> f64, shades: &mut Vec<Span>) -> Vec<Span> {
        let color = cause_color(cause);
        self.s
            .incidents
            .iter()
            .filter(|i| i.cause == cause)
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
                        super::cause_title(self.s, cause),
                        format_span(a, b),
                        i.deferral_events,
                        i.messages
                    ),
                })
            })
            .collect()
    }

    fn legend(&self) -> Vec<LegendItem> {
        let mut totals: BTreeMap<(usize, &str), u64> = BTreeMap::new();
        for b in &self.per_bar {
            for (&k, &n) in b {
                *totals.entry(k).or_default() += n;
            }
        }
        totals
            .iter()
            .map(|(&(_, cause), &total)| LegendItem {
                cause: cause.to_string(),
                title: super::cause_title(self.s, cause),
                color: cause_color(cause),
                total,
            })
            .collect()
    }
}

/// About `want` time labels on round hours or days; a label near an edge
/// is anchored inwards so it is never cut.
fn x_ticks(t0: i64, t1: i64, want: i64, xpos: &dyn Fn(i64) -> f64, edges: (f64, f64)) -> Vec<Tick> {
    const STEPS: [i64; 16] = [
        60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 345_600,
        604_800, 2_592_000,
    ];
    let step = STEPS
        .iter()
        .copied()
        .find(|st| (t1 - t0) / st <= want)
        .unwrap_or(2_592_000);
    let with_time = step < 86_400;
    let mut out = Vec::new();
    let mut t = (t0 + step - 1).div_euclid(step) * step;
    while t <= t1 {
        let label = format_tick(t, with_time);
        let pos = xpos(t);
        let half = CHAR_W * label.chars().count() as f64 / 2.0;
        let anchor = if pos - half < edges.0 + 2.0 {
            "start"
        } else if pos + half > edges.1 - 2.0 {
            "end"
        } else {
            "middle"
        };
        out.push(Tick {
            pos: round1(pos),
            label,
            anchor,
        });
        t += step;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FlowRow, Incident, TimelineRow};

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

    fn stamp(t: i64) -> String {
        let (y, mo, d) = crate::time::civil_from_days(t / 86_400);
        let sod = t % 86_400;
        format!(
            "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:00",
            sod / 3600,
            sod % 3600 / 60
        )
    }

    #[test]
    fn bars_stack_in_cause_order_and_fine_buckets_merge() {
        let mut s = Summary::default();
        s.timeline.bucket_seconds = 60;
        // Three days of minutes: 4320 buckets must become at most 60 bars.
        let t0 = parse_iso("2025-12-29T00:00:00").unwrap();
        for (m, cause, n) in [
            (0, "blacklisted", 5),
            (0, "port25_blocked", 3),
            (4319, "dns_failure", 2),
        ] {
            s.timeline.rows.push(TimelineRow {
                bucket_start: stamp(t0 + m * 60),
                cause: cause.into(),
                deferral_events: n,
                deferred_messages: 1,
            });
        }
        s.timeline.flow.push(FlowRow {
            bucket_start: stamp(t0 + 60),
            delivered: 40,
            bounced: 2,
            deferral_events: 8,
        });
        let (c, narrow) = charts(&s).unwrap();
        assert_eq!(c.bars.len(), 2);
        assert_eq!(c.bar_label, "72 min");
        let first = &c.bars[0];
        // port25_blocked comes before blacklisted in the fixed order: drawn
        // at the bottom, so its y is the larger one.
        assert_eq!(first.segs[0].cause, "port25_blocked");
        assert!(first.segs[0].y > first.segs[1].y);
        assert_eq!(c.y_max, 8);
        let legend: Vec<&str> = c.legend.iter().map(|l| l.cause.as_str()).collect();
        assert_eq!(legend, ["port25_blocked", "dns_failure", "blacklisted"]);
        assert_eq!((c.delivered, c.bounced), (40, 2));
        assert_eq!(c.flow.len(), 1);
        assert!(c.flow[0].delivered_h > c.flow[0].bounced_h);
        assert_eq!(narrow.width, 380.0);
        assert!(narrow.x_ticks.len() <= 5);
    }

    #[test]
    fn labels_get_the_room_they_need() {
        let mut s = Summary::default();
        s.timeline.bucket_seconds = 60;
        let t0 = parse_iso("2026-11-28T18:30:00").unwrap();
        for m in 0..26 {
            s.timeline.rows.push(TimelineRow {
                bucket_start: stamp(t0 + m * 60),
                cause: "port25_blocked".into(),
                deferral_events: 3,
                deferred_messages: 1,
            });
        }
        s.incidents.push(Incident {
            cause: "port25_blocked".into(),
            start: stamp(t0 + 600),
            end: stamp(t0 + 900),
            ..Incident::default()
        });
        let (wide, narrow) = charts(&s).unwrap();
        let label = &wide.lanes[0].label;
        let needed = CHAR_W * label.chars().count() as f64;
        assert!(wide.lanes[0].label_x - needed >= 0.0, "{label}: {wide:?}");
        assert_eq!(narrow.lanes[0].label_anchor, "start");
        // The last tick label is anchored inwards when it would be cut.
        for c in [&wide, &narrow] {
            for t in &c.x_ticks {
                let w = CHAR_W * t.label.chars().count() as f64;
                let (a, b) = match t.anchor {
                    "start" => (t.pos, t.pos + w),
                    "end" => (t.pos - w, t.pos),
                    _ => (t.pos - w / 2.0, t.pos + w / 2.0),
                };
                assert!(a >= 0.0 && b <= c.width, "{t:?} in {}", c.width);
            }
        }
    }
}
