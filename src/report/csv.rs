//! The CSV tables of a report, written by polars from a [`Summary`].
//!
//! Every table is a pure function of the Summary to bytes. Column names are
//! snake_case and part of the public schema (README); times stay the ISO 8601
//! strings of the Summary. Text cells come from strangers' log lines, so any
//! cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR
//! first) gets a leading `'`; numeric columns are numeric dtypes, so a count
//! or a negative age is never touched. Lists in one cell are joined with `; `.
//!
//! `queue_shape.csv` has `domain`, `total`, then one column per qshape age
//! bucket: `min_5` holds messages up to 5 minutes old, ..., `min_1280`, and
//! `min_1280_plus` the older ones.

#[path = "csv_traffic.rs"]
mod traffic;

use crate::model::{Summary, TextCount};
use polars::prelude::{Column, DataFrame, DataType, IntoColumn, IntoSeries, StringChunked};
use polars_io::prelude::{CsvWriter, QuoteStyle, SerWriter};

/// One table under construction: named columns of equal length.
struct Table {
    name: &'static str,
    height: usize,
    columns: Vec<Column>,
    /// A cell holds a neutralised formula after a separator: every text
    /// cell of the table is then quoted ([`needs_quotes`]).
    quote_text: bool,
}

impl Table {
    fn new(name: &'static str, height: usize) -> Table {
        Table {
            name,
            height,
            columns: Vec::new(),
            quote_text: false,
        }
    }

    fn text<'a>(mut self, col: &str, values: impl Iterator<Item = &'a str>) -> Self {
        let v: Vec<String> = values.map(neutralise).collect();
        self.quote_text |= v.iter().any(|c| needs_quotes(c));
        self.columns.push(Column::new(col.into(), v));
        self
    }

    fn opt_text<'a>(mut self, col: &str, values: impl Iterator<Item = Option<&'a str>>) -> Self {
        let v: Vec<Option<String>> = values.map(|o| o.map(neutralise)).collect();
        self.quote_text |= v.iter().flatten().any(|c| needs_quotes(c));
        self.columns.push(Column::new(col.into(), v));
        self
    }

    fn list<'a, L: AsRef<[String]> + 'a>(
        self,
        col: &str,
        values: impl Iterator<Item = &'a L>,
    ) -> Self {
        let joined: Vec<String> = values.map(|l| l.as_ref().join("; ")).collect();
        self.text(col, joined.iter().map(String::as_str))
    }

    fn uint(mut self, col: &str, values: impl Iterator<Item = u64>) -> Self {
        self.columns
            .push(Column::new(col.into(), values.collect::<Vec<u64>>()));
        self
    }

    fn opt_uint(mut self, col: &str, values: impl Iterator<Item = Option<u64>>) -> Self {
        self.columns.push(Column::new(
            col.into(),
            values.collect::<Vec<Option<u64>>>(),
        ));
        self
    }

    fn float(mut self, col: &str, values: impl Iterator<Item = f64>) -> Self {
        self.columns
            .push(Column::new(col.into(), values.collect::<Vec<f64>>()));
        self
    }

    fn into_bytes(self) -> crate::Result<(String, Vec<u8>)> {
        let name = self.name;
        let mut out = Vec::new();
        self.append_to(&mut out, true)?;
        Ok((name.to_string(), out))
    }

    /// Appends the rows as CSV to `out`, with the header line or without
    /// (a long table written in batches).
    fn append_to(self, out: &mut Vec<u8>, header: bool) -> crate::Result<()> {
        let name = self.name;
        let err = |e: polars::prelude::PolarsError| crate::Error::Report {
            what: name.to_string(),
            message: e.to_string(),
        };
        let mut df = DataFrame::new(self.height, self.columns).map_err(err)?;
        let style = if self.quote_text {
            // The header stays as the schema documents it, unquoted.
            if header {
                CsvWriter::new(&mut *out)
                    .include_header(true)
                    .n_threads(1)
                    .finish(&mut df.head(Some(0)))
                    .map_err(err)?;
            }
            QuoteStyle::NonNumeric
        } else {
            QuoteStyle::Necessary
        };
        // The tables are small aggregates: one thread avoids waking the pool.
        CsvWriter::new(out)
            .include_header(header && !self.quote_text)
            .with_quote_style(style)
            .n_threads(1)
            .finish(&mut df)
            .map_err(err)
    }
}

/// Appends a frame of the event tables as CSV to `out` (the header line
/// first when `header`): text cells neutralised as in every CSV of the
/// report, times in ISO 8601.
pub fn append_frame(
    df: &mut DataFrame,
    out: &mut impl std::io::Write,
    header: bool,
    what: &str,
) -> crate::Result<()> {
    let err = |e: polars::prelude::PolarsError| crate::Error::Report {
        what: what.to_string(),
        message: e.to_string(),
    };
    let mut quote_text = false;
    let mut columns = Vec::with_capacity(df.width());
    for c in df.columns() {
        if c.dtype() != &DataType::String {
            columns.push(c.clone());
            continue;
        }
        let ca: StringChunked = c
            .str()
            .map_err(err)?
            .iter()
            .map(|v| v.map(neutralise))
            .collect();
        quote_text |= ca.iter().flatten().any(needs_quotes);
        columns.push(ca.with_name(c.name().clone()).into_series().into_column());
    }
    let mut safe = DataFrame::new(df.height(), columns).map_err(err)?;
    let iso = Some("%Y-%m-%dT%H:%M:%S%.3f".into());
    if quote_text && header {
        CsvWriter::new(&mut *out)
            .include_header(true)
            .with_datetime_format(iso.clone())
            .n_threads(1)
            .finish(&mut safe.head(Some(0)))
            .map_err(err)?;
    }
    let style = if quote_text {
        QuoteStyle::NonNumeric
    } else {
        QuoteStyle::Necessary
    };
    CsvWriter::new(out)
        .include_header(header && !quote_text)
        .with_quote_style(style)
        .with_datetime_format(iso)
        .n_threads(1)
        .finish(&mut safe)
        .map_err(err)
}

fn is_formula_start(b: u8) -> bool {
    matches!(b, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
}

/// Makes a text cell inert in a spreadsheet: a cell that begins with a
/// formula character gets a leading `'`, unless it is a plain number (`-3`).
/// A spreadsheet that splits on `;` (the list separator of German and
/// French locales), on tabs or on commas would start a new cell after such
/// a character, so a formula character right after one gets its `'` too
/// (`x;=1+1` becomes `x;'=1+1`); the writer then quotes the cell
/// ([`quote_risky_cells`]).
pub fn neutralise(cell: &str) -> String {
    let b = cell.as_bytes();
    let risky = b.first().is_some_and(|&c| is_formula_start(c));
    let mut s = String::with_capacity(cell.len() + 1);
    if risky && !is_plain_number(cell) {
        s.push('\'');
    }
    let mut prev_separator = false;
    for c in cell.chars() {
        if prev_separator && c.is_ascii() && is_formula_start(c as u8) {
            s.push('\'');
        }
        // Spaces after a separator: some spreadsheets trim them.
        prev_separator = matches!(c, ';' | ',' | '\t' | '|') || (prev_separator && c == ' ');
        s.push(c);
    }
    s
}

/// Whether a neutralised cell holds a separator before a formula start
/// made inert: such a cell is always quoted, so a spreadsheet splitting on
/// that separator keeps it whole.
pub(crate) fn needs_quotes(cell: &str) -> bool {
    [";'", ",'", "\t'", "|'"].iter().any(|p| cell.contains(p))
}

fn is_plain_number(cell: &str) -> bool {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    let mut parts = digits.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// All CSV tables of the report, in a fixed order, as (file name, bytes).
pub fn render_csvs(s: &Summary) -> crate::Result<Vec<(String, Vec<u8>)>> {
    let mut out = vec![
        timeline(s).into_bytes()?,
        causes(s).into_bytes()?,
        incidents(s).into_bytes()?,
        blacklist(s).into_bytes()?,
        suspects(s).into_bytes()?,
        guessing(s).into_bytes()?,
        evidence(s).into_bytes()?,
        senders(s).into_bytes()?,
        text_counts("unclassified.csv", &s.unclassified).into_bytes()?,
        text_counts("inbound_rejects.csv", &s.inbound_rejects).into_bytes()?,
        local_failures(s).into_bytes()?,
        outgoing_limits(s).into_bytes()?,
    ];
    for t in traffic::tables(s) {
        out.push(t.into_bytes()?);
    }
    if s.queue.is_some() {
        out.push(queue_shape(s)?.into_bytes()?);
    }
    Ok(out)
}

fn timeline(s: &Summary) -> Table {
    let r = &s.timeline.rows;
    Table::new("timeline.csv", r.len())
        .text("bucket_start", r.iter().map(|x| x.bucket_start.as_str()))
        .text("cause", r.iter().map(|x| x.cause.as_str()))
        .uint("deferral_events", r.iter().map(|x| x.deferral_events))
        .uint("deferred_messages", r.iter().map(|x| x.deferred_messages))
}

fn causes(s: &Summary) -> Table {
    let r = &s.causes;
    Table::new("causes.csv", r.len())
        .text("cause", r.iter().map(|x| x.cause.as_str()))
        .text("title", r.iter().map(|x| x.title.as_str()))
        .uint("deferral_events", r.iter().map(|x| x.deferral_events))
        .uint("deferred_messages", r.iter().map(|x| x.deferred_messages))
        .uint("bounces", r.iter().map(|x| x.bounces))
        .uint("expired", r.iter().map(|x| x.expired))
        .float("share_of_deferrals", r.iter().map(|x| x.share_of_deferrals))
        .opt_text("first", r.iter().map(|x| x.first.as_deref()))
        .opt_text("last", r.iter().map(|x| x.last.as_deref()))
        .opt_text("top_detail", r.iter().map(|x| x.top_detail.as_deref()))
        .opt_text("example", r.iter().map(|x| x.example.as_deref()))
        .list("fix", r.iter().map(|x| &x.fix))
        .uint("deleted", r.iter().map(|x| x.deleted))
}

fn incidents(s: &Summary) -> Table {
    let r = &s.incidents;
    Table::new("incidents.csv", r.len())
        .text("cause", r.iter().map(|x| x.cause.as_str()))
        .text("start", r.iter().map(|x| x.start.as_str()))
        .text("end", r.iter().map(|x| x.end.as_str()))
        .uint("deferral_events", r.iter().map(|x| x.deferral_events))
        .uint("messages", r.iter().map(|x| x.messages))
        .float("share_of_deferrals", r.iter().map(|x| x.share_of_deferrals))
        .list("receivers", r.iter().map(|x| &x.receivers))
        .opt_text(
            "first_example",
            r.iter().map(|x| x.first_example.as_deref()),
        )
        .opt_text("last_example", r.iter().map(|x| x.last_example.as_deref()))
        .opt_text("local_kind", r.iter().map(|x| x.local_kind.as_deref()))
        .uint("local_lines", r.iter().map(|x| x.local_lines))
        .list("programs", r.iter().map(|x| &x.programs))
}

fn blacklist(s: &Summary) -> Table {
    let r = &s.blacklistings;
    Table::new("blacklist.csv", r.len())
        .text("list", r.iter().map(|x| x.list.as_str()))
        .list("receivers", r.iter().map(|x| &x.receivers))
        .text("first_seen", r.iter().map(|x| x.first_seen.as_str()))
        .text("last_seen", r.iter().map(|x| x.last_seen.as_str()))
        .uint("deferrals", r.iter().map(|x| x.deferrals))
        .uint("bounces", r.iter().map(|x| x.bounces))
        .uint("messages", r.iter().map(|x| x.messages))
        .uint("recipient_domains", r.iter().map(|x| x.recipient_domains))
        .opt_text("listed_ip", r.iter().map(|x| x.listed_ip.as_deref()))
        .opt_text(
            "delisting_url",
            r.iter().map(|x| x.delisting_url.as_deref()),
        )
        .text("cause", r.iter().map(|x| x.cause.as_str()))
        .text("example", r.iter().map(|x| x.example.as_str()))
        .text("standing", r.iter().map(|x| x.standing.id()))
        .text("state", r.iter().map(|x| x.state.id()))
        .opt_text(
            "accepted_again",
            r.iter().map(|x| x.accepted_again.as_deref()),
        )
        .opt_text(
            "accepted_before",
            r.iter().map(|x| x.accepted_before.as_deref()),
        )
        .opt_text("first_bounce", r.iter().map(|x| x.first_bounce.as_deref()))
}

fn suspects(s: &Summary) -> Table {
    let r = &s.suspects;
    Table::new("suspects.csv", r.len())
        .uint("rank", r.iter().map(|x| u64::from(x.rank)))
        .text("identity", r.iter().map(|x| x.identity.as_str()))
        .text("kind", r.iter().map(|x| x.kind.as_str()))
        .float("score", r.iter().map(|x| x.score))
        .text("episode", r.iter().map(|x| x.episode.as_str()))
        .uint("messages", r.iter().map(|x| x.messages))
        .uint("recipients", r.iter().map(|x| x.recipients))
        .uint("recipient_domains", r.iter().map(|x| x.recipient_domains))
        .float("share_of_outbound", r.iter().map(|x| x.share_of_outbound))
        .float("burst_factor", r.iter().map(|x| x.burst_factor))
        .float(
            "unknown_recipient_share",
            r.iter().map(|x| x.unknown_recipient_share),
        )
        .float("refused_share", r.iter().map(|x| x.refused_share))
        .list("client_ips", r.iter().map(|x| &x.client_ips))
        .uint(
            "failed_logins_before",
            r.iter().map(|x| x.failed_logins_before),
        )
        .list("evidence", r.iter().map(|x| &x.evidence))
        .list("fix", r.iter().map(|x| &x.fix))
        .opt_text(
            "queued_ids_file",
            r.iter().map(|x| x.queued_ids_file.as_deref()),
        )
        .uint("excess_recipients", r.iter().map(|x| x.excess_recipients))
        .float("suspicion", r.iter().map(|x| x.suspicion))
        .opt_text(
            "listing_onset",
            r.iter().map(|x| x.listing_onset.as_deref()),
        )
        .list("envelope_senders", r.iter().map(|x| &x.envelope_senders))
        .opt_text("home", r.iter().map(|x| x.home.as_deref()))
        .list(
            "ip_uses",
            r.iter()
                .map(|x| x.ip_uses.iter().map(ip_use).collect::<Vec<String>>())
                .collect::<Vec<_>>()
                .iter(),
        )
        .uint("bounce_notices", r.iter().map(|x| x.bounce_notices))
        .list(
            "later_bursts",
            r.iter()
                .map(|x| {
                    x.later_bursts
                        .iter()
                        .map(|b| format!("{} to {}: {} recipients", b.start, b.end, b.recipients))
                        .collect::<Vec<String>>()
                })
                .collect::<Vec<_>>()
                .iter(),
        )
        .text("role", r.iter().map(|x| x.role.id()))
        .opt_text("queued_file", r.iter().map(|x| x.queued_file.as_deref()))
        .opt_text(
            "review_ids_file",
            r.iter().map(|x| x.review_ids_file.as_deref()),
        )
        .uint("queued_spam", r.iter().map(|x| x.queued_spam))
        .uint("queued_review", r.iter().map(|x| x.queued_review))
}

/// `203.0.113.9 new, first 2026-11-28T18:34:02, 12 messages`
fn ip_use(u: &crate::model::SuspectIp) -> String {
    format!(
        "{} {}, first {}, {} messages",
        u.ip,
        if u.usual { "usual" } else { "new" },
        u.first_used,
        u.messages
    )
}

fn evidence(s: &Summary) -> Table {
    let r = &s.evidence_lines;
    Table::new("evidence.csv", r.len())
        .text("finding", r.iter().map(|x| x.finding.as_str()))
        .text("about", r.iter().map(|x| x.about.as_str()))
        .text("file", r.iter().map(|x| x.file.as_str()))
        .uint("line", r.iter().map(|x| x.line))
        .text("time", r.iter().map(|x| x.time.as_str()))
        .text("text", r.iter().map(|x| x.text.as_str()))
}

fn guessing(s: &Summary) -> Table {
    let r = &s.password_guessing;
    Table::new("password_guessing.csv", r.len())
        .text("kind", r.iter().map(|x| x.kind.as_str()))
        .text("key", r.iter().map(|x| x.key.as_str()))
        .uint("failures", r.iter().map(|x| x.failures))
        .uint("distinct", r.iter().map(|x| x.distinct))
        .opt_text("first", r.iter().map(|x| x.first.as_deref()))
        .opt_text("last", r.iter().map(|x| x.last.as_deref()))
        .opt_text("login_after", r.iter().map(|x| x.login_after.as_deref()))
        .opt_text(
            "login_after_ip",
            r.iter().map(|x| x.login_after_ip.as_deref()),
        )
        .list("targets", r.iter().map(|x| &x.targets))
}

fn senders(s: &Summary) -> Table {
    let r = &s.top_senders;
    Table::new("senders.csv", r.len())
        .text("identity", r.iter().map(|x| x.identity.as_str()))
        .text("kind", r.iter().map(|x| x.kind.as_str()))
        .uint("messages", r.iter().map(|x| x.messages))
        .uint("recipients", r.iter().map(|x| x.recipients))
        .uint("delivered", r.iter().map(|x| x.delivered))
        .uint("deferred", r.iter().map(|x| x.deferred))
        .uint("bounced", r.iter().map(|x| x.bounced))
        .uint("expired", r.iter().map(|x| x.expired))
        .uint("rejected", r.iter().map(|x| x.rejected))
        .opt_text("first_seen", r.iter().map(|x| x.first_seen.as_deref()))
        .opt_text("last_seen", r.iter().map(|x| x.last_seen.as_deref()))
        .uint("discarded", r.iter().map(|x| x.discarded))
        .uint("bytes", r.iter().map(|x| x.bytes))
}

fn local_failures(s: &Summary) -> Table {
    let r = &s.local_failures;
    Table::new("local_failures.csv", r.len())
        .text("kind", r.iter().map(|x| x.kind.as_str()))
        .text("title", r.iter().map(|x| x.title.as_str()))
        .text("severity", r.iter().map(|x| x.severity.as_str()))
        .text("program", r.iter().map(|x| x.program.as_str()))
        .uint("count", r.iter().map(|x| x.count))
        .text("first", r.iter().map(|x| x.first.as_str()))
        .text("last", r.iter().map(|x| x.last.as_str()))
        .text(
            "stops_mail",
            r.iter().map(|x| if x.stops_mail { "yes" } else { "no" }),
        )
        .text("example", r.iter().map(|x| x.example.as_str()))
        .list("fix", r.iter().map(|x| &x.fix))
}

fn outgoing_limits(s: &Summary) -> Table {
    let r = &s.outgoing_limits;
    Table::new("outgoing_limits.csv", r.len())
        .text("sender", r.iter().map(|x| x.sender.as_str()))
        .opt_text("identity", r.iter().map(|x| x.identity.as_deref()))
        .uint("refused", r.iter().map(|x| x.refused))
        .text("first", r.iter().map(|x| x.first.as_str()))
        .text("last", r.iter().map(|x| x.last.as_str()))
}

fn text_counts(name: &'static str, r: &[TextCount]) -> Table {
    Table::new(name, r.len())
        .text("text", r.iter().map(|x| x.text.as_str()))
        .uint("count", r.iter().map(|x| x.count))
        .opt_text("cause", r.iter().map(|x| x.cause.as_deref()))
}

/// Column names of `queue_shape.csv` after `domain` and `total`.
pub fn shape_bucket_names(bucket_minutes: &[u64]) -> Vec<String> {
    let mut names: Vec<String> = bucket_minutes.iter().map(|m| format!("min_{m}")).collect();
    names.push(match bucket_minutes.last() {
        Some(m) => format!("min_{m}_plus"),
        None => "min_0_plus".to_string(),
    });
    names
}

fn queue_shape(s: &Summary) -> crate::Result<Table> {
    let Some(q) = &s.queue else {
        return Ok(Table::new("queue_shape.csv", 0));
    };
    let r = &q.shape.rows;
    let names = shape_bucket_names(&q.shape.bucket_minutes);
    let mut t = Table::new("queue_shape.csv", r.len())
        .text("domain", r.iter().map(|x| x.domain.as_str()))
        .uint("total", r.iter().map(|x| x.total));
    for (i, name) in names.iter().enumerate() {
        // A short row (a dump parser that knew fewer buckets) reads as zeros.
        t = t.uint(
            name,
            r.iter().map(|x| x.counts.get(i).copied().unwrap_or(0)),
        );
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_get_a_quote_numbers_do_not() {
        assert_eq!(
            neutralise("=HYPERLINK(\"http://evil\",\"x\")"),
            "'=HYPERLINK(\"http://evil\",\"x\")"
        );
        assert_eq!(neutralise("+1-2"), "'+1-2");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("\tx"), "'\tx");
        assert_eq!(neutralise("\rx"), "'\rx");
        assert_eq!(neutralise("-12"), "-12");
        assert_eq!(neutralise("-12.5"), "-12.5");
        assert_eq!(neutralise("-12.5e3"), "'-12.5e3");
        assert_eq!(neutralise("-"), "'-");
        // A real reason text passes unchanged.
        let t = "connect to 127.0.0.1[127.0.0.1]:10024: Connection refused";
        assert_eq!(neutralise(t), t);
        // A formula after a separator a spreadsheet may split on.
        assert_eq!(neutralise("x;=1+1;@SUM(1)"), "x;'=1+1;'@SUM(1)");
        assert_eq!(neutralise("a, -b|+c; =d"), "a, '-b|'+c; '=d");
        assert!(needs_quotes(&neutralise("x;=1+1")));
        assert!(!needs_quotes(&neutralise("x;y")));
    }

    #[test]
    fn a_table_with_a_formula_after_a_separator_quotes_its_text_cells() {
        let mut s = Summary::default();
        s.unclassified.push(TextCount {
            text: "x;=1+1;@SUM(1)".into(),
            count: 2,
            cause: None,
        });
        let csvs = render_csvs(&s).unwrap();
        let (_, bytes) = csvs.iter().find(|(n, _)| n == "unclassified.csv").unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(text, "text,count,cause\n\"x;'=1+1;'@SUM(1)\",2,\n");
    }

    #[test]
    fn timeline_csv_has_its_documented_header_and_numbers() {
        let mut s = Summary::default();
        s.timeline.rows.push(crate::model::TimelineRow {
            bucket_start: "2025-12-30T10:00:00".into(),
            cause: "content_filter_down".into(),
            deferral_events: 41,
            deferred_messages: 12,
        });
        let (name, bytes) = timeline(&s).into_bytes().unwrap();
        assert_eq!(name, "timeline.csv");
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "bucket_start,cause,deferral_events,deferred_messages\n2025-12-30T10:00:00,content_filter_down,41,12\n"
        );
    }

    #[test]
    fn shape_columns_name_each_age_bucket() {
        let names = shape_bucket_names(&[5, 10, 1280]);
        assert_eq!(names, ["min_5", "min_10", "min_1280", "min_1280_plus"]);
    }
}

/// One queued recipient, a row of `queue.csv`.
#[derive(Debug, Clone, Default)]
pub struct QueueRow {
    pub queue_id: String,
    pub queue: String,
    pub arrival: String,
    pub age_minutes: u64,
    pub size: u64,
    pub sender: String,
    pub recipient: String,
    pub domain: String,
    pub cause: String,
    pub reason: Option<String>,
    pub identity: Option<String>,
    /// The host whose logs hold it (queue ids repeat across servers).
    pub host: Option<String>,
    pub client_ip: Option<String>,
}

/// `queue.csv`: one row per queued recipient (the full queue; the Summary
/// keeps only aggregates and the oldest messages).
pub fn queue_csv(rows: &[QueueRow]) -> crate::Result<Vec<u8>> {
    let t = Table::new("queue.csv", rows.len())
        .text("queue_id", rows.iter().map(|r| r.queue_id.as_str()))
        .text("queue", rows.iter().map(|r| r.queue.as_str()))
        .text("arrival", rows.iter().map(|r| r.arrival.as_str()))
        .uint("age_minutes", rows.iter().map(|r| r.age_minutes))
        .uint("size", rows.iter().map(|r| r.size))
        .text("sender", rows.iter().map(|r| r.sender.as_str()))
        .text("recipient", rows.iter().map(|r| r.recipient.as_str()))
        .text("domain", rows.iter().map(|r| r.domain.as_str()))
        .text("cause", rows.iter().map(|r| r.cause.as_str()))
        .opt_text("reason", rows.iter().map(|r| r.reason.as_deref()))
        .opt_text("identity", rows.iter().map(|r| r.identity.as_deref()))
        .opt_text("host", rows.iter().map(|r| r.host.as_deref()))
        .opt_text("client_ip", rows.iter().map(|r| r.client_ip.as_deref()));
    Ok(t.into_bytes()?.1)
}

/// `suspect-N-queued.csv`: one suspect's queued messages, each with the
/// evidence behind its verdict (delete or review).
pub fn suspect_queued_csv(
    rows: &[crate::analyze::queue::cleanup::CleanupRow],
) -> crate::Result<Vec<u8>> {
    let t = Table::new("suspect-N-queued.csv", rows.len())
        .text("queue_id", rows.iter().map(|r| r.queue_id.as_str()))
        .text("queue", rows.iter().map(|r| r.queue))
        .text("arrival", rows.iter().map(|r| r.arrival.as_str()))
        .uint("size", rows.iter().map(|r| r.size))
        .text("sender", rows.iter().map(|r| r.sender.as_str()))
        .list("recipients", rows.iter().map(|r| &r.recipients))
        .opt_text("client_ip", rows.iter().map(|r| r.client_ip.as_deref()))
        .text("client_ip_use", rows.iter().map(|r| r.ip.id()))
        .text("burst", rows.iter().map(|r| r.burst.id()))
        .opt_text("reason", rows.iter().map(|r| r.reason.as_deref()))
        .text("cause", rows.iter().map(|r| r.cause))
        .text("verdict", rows.iter().map(|r| r.verdict.id()))
        .text("why", rows.iter().map(|r| r.why.as_str()));
    Ok(t.into_bytes()?.1)
}

/// `messages.csv` (`--messages`): one row per message, appended to `out`
/// a batch at a time (the header with the first batch).
pub fn append_messages_csv(
    rows: &[crate::analyze::messages::MessageRow],
    out: &mut Vec<u8>,
) -> crate::Result<()> {
    let header = out.is_empty();
    let t = Table::new("messages.csv", rows.len())
        .uint("message", rows.iter().map(|r| r.message))
        .text("host", rows.iter().map(|r| r.host.as_str()))
        .text("queue_ids", rows.iter().map(|r| r.queue_ids.as_str()))
        .text("identity", rows.iter().map(|r| r.identity.as_str()))
        .text("client_ip", rows.iter().map(|r| r.client_ip.as_str()))
        .opt_uint("bounce_of", rows.iter().map(|r| r.bounce_of))
        .text("arrival", rows.iter().map(|r| r.arrival.as_str()))
        .opt_text("removed", rows.iter().map(|r| r.removed.as_deref()))
        .text("status", rows.iter().map(|r| r.status))
        .uint("recipients", rows.iter().map(|r| r.recipients))
        .uint("sent", rows.iter().map(|r| r.sent))
        .uint("deferred", rows.iter().map(|r| r.deferred))
        .uint("bounced", rows.iter().map(|r| r.bounced))
        .uint("expired", rows.iter().map(|r| r.expired))
        .opt_text("cause", rows.iter().map(|r| r.cause.as_deref()))
        .text("fates", rows.iter().map(|r| r.fates.as_str()));
    t.append_to(out, header)
}
