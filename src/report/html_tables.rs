//! The page's tables as plain values: each capped to [`MAX_ROWS`] rows
//! with the name of the CSV that holds them all, the senders and domains
//! split into inbound and outbound, pflogsumm's views, and the evidence
//! lines grouped by finding.

use super::MAX_ROWS;
use crate::model::{
    BlacklistEpisode, CauseRow, DaemonRow, DomainRow, EvidenceLine, Incident, LocalFailure,
    OutgoingLimitRow, QueueShapeRow, QueuedMessageRow, RejectRow, SaslFailureRow, SenderDomainRow,
    SenderRow, Summary, Suspect, SuspectRole, TextCount, TrafficRow,
};
use crate::report::{cause_color, cause_title, safe_delisting_link, segments, Segment};
use serde::Serialize;

/// A table cut to [`MAX_ROWS`], saying how many more rows are in which CSV.
#[derive(Serialize)]
pub(super) struct Capped<T: Serialize> {
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
    /// The cause's one label (`Server IP blacklisted`, `Rate limited ...`).
    label: String,
    /// `dig +short 1.0.0.127.zen.spamhaus.org` when the listed IP and the
    /// list's zone are known.
    dig: Option<String>,
}

#[derive(Serialize)]
struct SuspectView<'a> {
    s: &'a Suspect,
    fix: Vec<Vec<Segment>>,
    client_ips: String,
    /// `cause` or `while_listed`, and in words.
    role: &'static str,
    role_label: &'static str,
    /// Its cleanup files in the report folder, with what each holds.
    files: Vec<FileLink>,
}

/// A file of the report folder the page links to (a relative link, only
/// for a plain file name this tool wrote).
#[derive(Serialize, Debug, PartialEq)]
pub(super) struct FileLink {
    pub name: String,
    /// `3 messages to delete (spam evidence)`.
    pub what: String,
}

/// The role of a suspect in words: a cause of the listing, or a source
/// that sent while the server was already listed.
pub(super) fn role_label(role: SuspectRole) -> &'static str {
    match role {
        SuspectRole::Cause => "cause of the listing",
        SuspectRole::WhileListed => "sent while listed (not the cause)",
    }
}

/// A name safe to put in a relative link: letters, digits, `.`, `-`, `_`,
/// not starting with a dot (never a path, a scheme or a parent).
fn plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// A suspect's cleanup files: its queued messages with their evidence, the
/// ids to delete and the ids to review, each with its count.
pub(super) fn cleanup_files(p: &Suspect) -> Vec<FileLink> {
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    let queued = p.queued_spam + p.queued_review;
    [
        (
            p.queued_file.as_deref(),
            format!(
                "its {queued} queued message{} with their evidence",
                plural(queued)
            ),
        ),
        (
            p.queued_ids_file.as_deref(),
            format!(
                "{} id{} to delete (spam evidence): postsuper -d - < file",
                p.queued_spam,
                plural(p.queued_spam)
            ),
        ),
        (
            p.review_ids_file.as_deref(),
            format!(
                "{} id{} to review before anything is done",
                p.queued_review,
                plural(p.queued_review)
            ),
        ),
    ]
    .into_iter()
    .filter_map(|(name, what)| {
        let name = name.filter(|n| plain_file_name(n))?;
        Some(FileLink {
            name: name.to_string(),
            what,
        })
    })
    .collect()
}

#[derive(Serialize)]
struct QueuedView<'a> {
    m: &'a QueuedMessageRow,
    recipients: String,
    age: String,
}

/// An hour of the day, averaged over the days of a long period.
#[derive(Serialize)]
struct HourAverage {
    hour: String,
    received: f64,
    delivered: f64,
    deferral_events: f64,
    bounced: f64,
    rejected: f64,
}

/// The lines cited by one finding.
#[derive(Serialize)]
struct EvidenceGroup<'a> {
    finding: &'a str,
    lines: Vec<&'a EvidenceLine>,
}

#[derive(Serialize)]
pub(super) struct Tables<'a> {
    causes: Vec<CauseView<'a>>,
    incidents: Capped<IncidentView<'a>>,
    local: Capped<&'a LocalFailure>,
    limits: Capped<&'a OutgoingLimitRow>,
    blacklist: Capped<EpisodeView<'a>>,
    suspects: Capped<SuspectView<'a>>,
    senders_out: Capped<&'a SenderRow>,
    senders_in: Capped<&'a SenderRow>,
    unclassified: Capped<&'a TextCount>,
    inbound: Capped<&'a TextCount>,
    oldest: Capped<QueuedView<'a>>,
    shape_rows: Capped<&'a QueueShapeRow>,
    shape_headers: Vec<String>,
    /// Every hour (a short period) or the hours of the day on average.
    hours: Capped<&'a TrafficRow>,
    hour_averages: Vec<HourAverage>,
    days: Capped<&'a TrafficRow>,
    domains_out: Capped<&'a DomainRow>,
    domains_local: Capped<&'a DomainRow>,
    sender_domains: Capped<&'a SenderDomainRow>,
    rejects: Capped<&'a RejectRow>,
    sasl: Capped<&'a SaslFailureRow>,
    daemon: Capped<&'a DaemonRow>,
    evidence: Vec<EvidenceGroup<'a>>,
}

/// Hours the hourly table lists one by one; past it, the hours of the day
/// on average (pflogsumm's "Per-Hour Traffic Daily Average").
const HOURS_LISTED: usize = 72;

impl<'a> Tables<'a> {
    pub(super) fn new(s: &'a Summary) -> Tables<'a> {
        let fixes = |f: &[String]| f.iter().map(|x| segments(x)).collect::<Vec<_>>();
        let (shape_rows, shape_headers) = shape(s);
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
        let t = &s.traffic;
        let hourly = t.per_hour.len() <= HOURS_LISTED;
        let inbound = |r: &&SenderRow| r.kind == crate::correlate::IdentityKind::Client.id();
        Tables {
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
                s.blacklistings.iter().map(|b| episode(s, b)),
                "blacklist.csv",
            ),
            suspects: capped(
                s.suspects.iter().map(|p| SuspectView {
                    s: p,
                    fix: fixes(&p.fix),
                    client_ips: p.client_ips.join(", "),
                    role: p.role.id(),
                    role_label: role_label(p.role),
                    files: cleanup_files(p),
                }),
                "suspects.csv",
            ),
            senders_out: capped(
                s.top_senders
                    .iter()
                    .filter(|r| !inbound(r))
                    .collect::<Vec<_>>()
                    .into_iter(),
                "senders.csv",
            ),
            senders_in: capped(
                s.top_senders
                    .iter()
                    .filter(inbound)
                    .collect::<Vec<_>>()
                    .into_iter(),
                "senders.csv",
            ),
            unclassified: capped(s.unclassified.iter(), "unclassified.csv"),
            inbound: capped(s.inbound_rejects.iter(), "inbound_rejects.csv"),
            oldest: capped(oldest.into_iter(), "queue.csv"),
            shape_rows,
            shape_headers,
            hours: capped(
                t.per_hour
                    .iter()
                    .take(if hourly { HOURS_LISTED } else { 0 }),
                "traffic_hourly.csv",
            ),
            hour_averages: if hourly {
                Vec::new()
            } else {
                hour_averages(&t.per_hour, t.per_day.len())
            },
            days: capped(t.per_day.iter(), "traffic_daily.csv"),
            domains_out: capped(
                t.domains
                    .iter()
                    .filter(|d| d.outbound)
                    .collect::<Vec<_>>()
                    .into_iter(),
                "domains.csv",
            ),
            domains_local: capped(
                t.domains
                    .iter()
                    .filter(|d| !d.outbound)
                    .collect::<Vec<_>>()
                    .into_iter(),
                "domains.csv",
            ),
            sender_domains: capped(t.sender_domains.iter(), "sender_domains.csv"),
            rejects: capped(t.rejects.iter(), "rejects.csv"),
            sasl: capped(t.sasl_failures.iter(), "sasl_failures.csv"),
            daemon: capped(t.daemon.iter(), "daemon_events.csv"),
            evidence: evidence(s),
        }
    }
}

fn episode<'a>(s: &'a Summary, b: &'a BlacklistEpisode) -> EpisodeView<'a> {
    let dig = b
        .listed_ip
        .as_deref()
        .and_then(|ip| crate::classify::dig_command(ip, &b.list));
    EpisodeView {
        b,
        link: b.delisting_url.as_deref().and_then(safe_delisting_link),
        receivers: b.receivers.join(", "),
        color: cause_color(&b.cause),
        label: cause_title(s, &b.cause),
        dig,
    }
}

fn shape(s: &Summary) -> (Capped<&QueueShapeRow>, Vec<String>) {
    match &s.queue {
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
            capped(std::iter::empty::<&QueueShapeRow>(), "queue_shape.csv"),
            Vec::new(),
        ),
    }
}

/// pflogsumm's daily average per hour of the day.
fn hour_averages(hours: &[TrafficRow], days: usize) -> Vec<HourAverage> {
    let days = days.max(1) as f64;
    let mut sums = [[0u64; 5]; 24];
    for r in hours {
        let Some(h) = r.start.get(11..13).and_then(|h| h.parse::<usize>().ok()) else {
            continue;
        };
        let row = &mut sums[h.min(23)];
        for (k, v) in [
            r.received,
            r.delivered,
            r.deferral_events,
            r.bounced,
            r.rejected,
        ]
        .into_iter()
        .enumerate()
        {
            row[k] += v;
        }
    }
    let avg = |v: u64| (v as f64 / days * 10.0).round() / 10.0;
    sums.iter()
        .enumerate()
        .map(|(h, r)| HourAverage {
            hour: format!("{h:02}:00–{:02}:00", h + 1),
            received: avg(r[0]),
            delivered: avg(r[1]),
            deferral_events: avg(r[2]),
            bounced: avg(r[3]),
            rejected: avg(r[4]),
        })
        .collect()
}

fn evidence(s: &Summary) -> Vec<EvidenceGroup<'_>> {
    let mut out: Vec<EvidenceGroup> = Vec::new();
    for l in s.evidence_lines.iter().take(MAX_ROWS) {
        match out.iter_mut().find(|g| g.finding == l.finding) {
            Some(g) => g.lines.push(l),
            None => out.push(EvidenceGroup {
                finding: &l.finding,
                lines: vec![l],
            }),
        }
    }
    out
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
