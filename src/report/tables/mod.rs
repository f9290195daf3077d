//! Event tables for engines (`--parquet`, `--tables-csv`): `deliveries`
//! (one row per recipient per delivery attempt), `messages` (one row per
//! message after the content filter), and the analysis' `episodes`,
//! `incidents`, `suspects`, `guessing` and `queue`, each partitioned
//! Hive-style as `TABLE/host=H/date=D/part-N.parquet` so that DuckDB,
//! Spark or polars read many servers' runs as one table. Columns are
//! documented in `docs/tables.md`; [`SCHEMA_VERSION`] is in every row and
//! in each file's metadata.
//!
//! The correlator streams its rows into a [`Spill`] while the logs are
//! read; [`write_tables`] turns them into the tables once the analysis has
//! fixed every cause, a row group at a time.

pub mod findings;
pub mod frame;
pub mod partition;
pub mod rows;
pub mod spill;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use crate::correlate::{Findings, Sym};
use crate::model::Summary;
use crate::report::csv::QueueRow;
use crate::report::redact::Redactor;
use crate::time::{LogTime, TimeFormat, MINUTE};
pub use partition::Formats;
use partition::Partitioned;
pub use spill::Spill;

/// The tables' schema version: columns are only ever added within one.
pub const SCHEMA_VERSION: u16 = 1;

/// Text cells as every output shows them: redacted when asked, control
/// and bidi characters escaped. Redacting is per value and values repeat
/// (relays, domains, texts), so results are kept for a while.
pub struct Cleaner<'a> {
    redactor: Option<&'a Redactor>,
    memo: HashMap<(&'static str, String), String>,
}

const MEMO_MAX: usize = 200_000;

impl<'a> Cleaner<'a> {
    pub fn new(redactor: Option<&'a Redactor>) -> Self {
        Cleaner {
            redactor,
            memo: HashMap::new(),
        }
    }

    pub fn cell<'v>(&mut self, column: &'static str, value: &'v str) -> Cow<'v, str> {
        let Some(r) = self.redactor else {
            return crate::report::escape::escape_unsafe(value);
        };
        if value.is_empty() {
            return Cow::Borrowed(value);
        }
        if let Some(v) = self.memo.get(&(column, value.to_string())) {
            return Cow::Owned(v.clone());
        }
        let out = crate::report::escape::escape_unsafe(&r.cell(column, value)).into_owned();
        if self.memo.len() >= MEMO_MAX {
            self.memo.clear();
        }
        self.memo.insert((column, value.to_string()), out.clone());
        Cow::Owned(out)
    }
}

/// What the rows need from the run.
pub struct Context<'a> {
    pub findings: &'a Findings,
    pub fmt: &'a TimeFormat,
    pub passwd: &'a HashMap<u32, String>,
    pub run_id: String,
    pub clean: Cleaner<'a>,
    deliveries: Option<Partitioned>,
    messages: Option<Partitioned>,
    offsets: HashMap<i64, Option<i32>>,
    identities: HashMap<Sym, String>,
}

impl Context<'_> {
    /// The UTC offset of a wall-clock time in `--timezone`'s zone (or the
    /// one offset every line carried); `None` when the zone is unknown.
    pub fn offset(&mut self, t: LogTime) -> Option<i32> {
        let zone = self.fmt.zone()?;
        // Zones change offset on the quarter hour at the finest.
        let key = t.0.div_euclid(15 * MINUTE);
        if let Some(o) = self.offsets.get(&key) {
            return *o;
        }
        let (y, m, d, h, mi, s, _) = t.civil();
        let o =
            jiff::civil::DateTime::new(y as i16, m as i8, d as i8, h as i8, mi as i8, s as i8, 0)
                .ok()
                .and_then(|dt| dt.to_zoned_datetime(zone.clone()).ok())
                .map(|z| z.offset().seconds());
        if self.offsets.len() > 100_000 {
            self.offsets.clear();
        }
        self.offsets.insert(key, o);
        o
    }

    /// An identity as the reports write it (`uid:N (name)` with `--passwd`).
    pub fn identity(&mut self, sym: Sym) -> String {
        if sym == 0 {
            return String::new();
        }
        if let Some(s) = self.identities.get(&sym) {
            return s.clone();
        }
        let s = crate::analyze::display_identity(&self.findings.strings.str(sym), self.passwd);
        if self.identities.len() > 100_000 {
            self.identities.clear();
        }
        self.identities.insert(sym, s.clone());
        s
    }

    /// A message serial after merges (a filter's copy seen first).
    pub fn resolve(&self, mut serial: u32) -> u32 {
        for _ in 0..16 {
            match self.findings.merged_serials.get(&serial) {
                Some(&next) if next != serial => serial = next,
                _ => break,
            }
        }
        serial
    }
}

/// What [`write_tables`] writes and from what.
pub struct TableOptions<'a> {
    pub formats: Formats,
    pub fmt: &'a TimeFormat,
    pub passwd: &'a HashMap<u32, String>,
    pub redactor: Option<&'a Redactor>,
    /// The Summary as the report shows it (redacted when asked).
    pub summary: &'a Summary,
    /// A queue dump's recipients (`queue.csv`'s rows), not yet redacted.
    pub queue: &'a [QueueRow],
}

/// A run's id: the same inputs and period give the same id.
pub fn run_id(summary: &Summary) -> String {
    let mut h = blake3::Hasher::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    for i in &summary.inputs {
        h.update(i.path.as_bytes());
        h.update(&i.bytes.to_le_bytes());
    }
    for p in [&summary.period.first, &summary.period.last] {
        h.update(p.as_deref().unwrap_or("").as_bytes());
    }
    h.finalize().to_hex()[..16].to_string()
}

/// The run's host for the tables made from the analysis: the syslog host
/// field (hosts joined with `+` when one run read several).
fn run_host(findings: &Findings) -> String {
    let hosts: Vec<String> = findings
        .hosts
        .iter()
        .map(|&h| findings.strings.str(h).into_owned())
        .collect();
    if hosts.is_empty() {
        "unknown".to_string()
    } else {
        hosts.join("+")
    }
}

fn io_err(what: &str, e: std::io::Error) -> crate::Error {
    crate::Error::Report {
        what: what.to_string(),
        message: format!("reading the rows back: {e}"),
    }
}

/// Writes every table under `dir` (the report folder being written) and
/// returns the paths written, relative to it.
pub fn write_tables(
    dir: &Path,
    spill: &mut Spill,
    findings: &Findings,
    opts: &TableOptions<'_>,
) -> crate::Result<Vec<String>> {
    let run_id = run_id(opts.summary);
    let v = u32::from(SCHEMA_VERSION);
    let table = |name, schema| Partitioned::new(dir, name, schema, opts.formats, v);
    let mut ctx = Context {
        findings,
        fmt: opts.fmt,
        passwd: opts.passwd,
        run_id: run_id.clone(),
        clean: Cleaner::new(opts.redactor),
        deliveries: Some(table("deliveries", rows::DELIVERIES)),
        messages: Some(table("messages", rows::MESSAGES)),
        offsets: HashMap::new(),
        identities: HashMap::new(),
    };
    let mut reader = spill.reader()?;
    let mut row = spill::AttemptRow::default();
    let mut counts = [0u64; 2];
    loop {
        match reader.next(&mut row).map_err(|e| io_err("deliveries", e))? {
            None => break,
            Some(spill::Record::Attempt) => {
                rows::delivery(&mut ctx, &row)?;
                counts[0] += 1;
            }
            Some(spill::Record::Repeat(n, t)) => {
                row.time = t;
                for _ in 0..n {
                    rows::delivery(&mut ctx, &row)?;
                    counts[0] += 1;
                }
            }
            Some(spill::Record::Message(m)) => {
                rows::message(&mut ctx, &m)?;
                counts[1] += 1;
            }
        }
    }
    let host = ctx.clean.cell("host", &run_host(findings)).into_owned();
    let day = findings
        .first
        .map_or_else(|| "unknown".to_string(), rows::date_of);
    let mut written = Vec::new();
    let deliveries = ctx.deliveries.take().expect("set");
    written.extend(deliveries.finish_or_empty(&host, &day)?);
    let messages = ctx.messages.take().expect("set");
    written.extend(messages.finish_or_empty(&host, &day)?);
    let queue: Vec<QueueRow> = opts
        .queue
        .iter()
        .map(|r| clean_queue_row(&mut ctx.clean, r))
        .collect();
    let mut small = [
        table("episodes", findings::EPISODES),
        table("incidents", findings::INCIDENTS),
        table("suspects", findings::SUSPECTS),
        table("guessing", findings::GUESSING),
        table("queue", findings::QUEUE),
    ];
    findings::write(opts.summary, &queue, &host, &run_id, &mut small)?;
    let mut rows_per_table = vec![("deliveries", counts[0]), ("messages", counts[1])];
    for t in small {
        let name = t.name();
        rows_per_table.push((name, t.rows));
        written.extend(t.finish_or_empty(&host, &day)?);
    }
    let manifest = serde_json::json!({
        "schema_version": SCHEMA_VERSION,
        "tool_version": env!("CARGO_PKG_VERSION"),
        "run_id": run_id,
        "host": host,
        "tables": rows_per_table
            .iter()
            .map(|(n, r)| (n.to_string(), serde_json::json!({ "rows": r })))
            .collect::<serde_json::Map<_, _>>(),
    });
    let path = dir.join("tables.json");
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| crate::Error::Report {
        what: "tables.json".into(),
        message: e.to_string(),
    })?;
    std::fs::write(&path, text).map_err(|e| crate::Error::io(&path, e))?;
    written.push("tables.json".to_string());
    Ok(written)
}

/// A run's tables as the report shows them: [`write_tables`] with the
/// Summary redacted and escaped as in the report's other files.
pub struct RunTables<'a> {
    pub findings: &'a Findings,
    /// The Summary before redaction.
    pub summary: &'a Summary,
    pub queue: &'a [QueueRow],
    pub formats: Formats,
    pub fmt: &'a TimeFormat,
    pub passwd: &'a HashMap<u32, String>,
    pub redact: Option<&'a crate::report::RedactOptions>,
}

impl RunTables<'_> {
    /// Writes the tables under `dir`; returns the paths written.
    pub fn write(&self, dir: &Path, spill: &mut Spill) -> crate::Result<Vec<String>> {
        let redactor = self
            .redact
            .map(|r| Redactor::for_summary(r, self.summary))
            .transpose()?;
        let mut shown = self.summary.clone();
        if let Some(r) = &redactor {
            r.redact_summary(&mut shown);
        }
        crate::report::escape::escape_summary(&mut shown);
        let opts = TableOptions {
            formats: self.formats,
            fmt: self.fmt,
            passwd: self.passwd,
            redactor: redactor.as_ref(),
            summary: &shown,
            queue: self.queue,
        };
        // Reading and analysis freed much; the tables should not sit on it.
        crate::memory::give_back_free_pages();
        write_tables(dir, spill, self.findings, &opts)
    }
}

fn clean_queue_row(c: &mut Cleaner<'_>, r: &QueueRow) -> QueueRow {
    let mut cell = |col, v: &str| c.cell(col, v).into_owned();
    QueueRow {
        queue_id: r.queue_id.clone(),
        queue: r.queue.clone(),
        arrival: r.arrival.clone(),
        age_minutes: r.age_minutes,
        size: r.size,
        sender: cell("sender", &r.sender),
        recipient: cell("recipient", &r.recipient),
        domain: cell("recipient_domain", &r.domain),
        cause: r.cause.clone(),
        reason: r.reason.as_deref().map(|x| cell("reason", x)),
        identity: r.identity.as_deref().map(|x| cell("identity", x)),
        host: r.host.as_deref().map(|x| cell("host", x)),
        client_ip: r.client_ip.as_deref().map(|x| cell("client_ip", x)),
    }
}
