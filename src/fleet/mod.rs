//! Many servers' runs at once (`postmortem fleet DIR...`): the event
//! tables of each run (`--parquet`) scanned lazily with polars, only the
//! columns and rows each question needs, and put side by side:
//!
//! - per host, the causes over time (deferrals and bounces per day) and the
//!   blacklistings still ongoing at the end of its logs;
//! - identities (SASL logins) and client IPs seen in more than one host's
//!   blacklistings (as suspects) or password guessing;
//! - hosts listed on the same list at the same time.

pub mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataFrame, DataType};
use serde::Serialize;

use crate::time::{LogTime, DAY, SECOND};

/// Causes per host and day.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CauseDay {
    pub host: String,
    pub day: String,
    pub cause: String,
    pub deferrals: u64,
    pub bounces: u64,
}

/// A blacklisting still ongoing at the end of a host's logs.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OngoingEpisode {
    pub host: String,
    pub list: String,
    pub first_seen: String,
    pub last_seen: String,
    pub messages: u64,
    pub listed_ip: Option<String>,
}

/// An identity or client IP found on more than one host.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Shared {
    /// `login` or `ip`.
    pub kind: String,
    pub value: String,
    pub hosts: Vec<String>,
    /// Where it was seen: `suspect`, `password_guessing`, per host.
    pub seen_as: Vec<String>,
}

/// Hosts listed on one list over overlapping times.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Overlap {
    pub list: String,
    pub hosts: Vec<String>,
    /// The time all of them were listed, UTC when the runs knew their
    /// offsets, else the servers' clocks.
    pub from: String,
    pub to: String,
}

/// The fleet report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Fleet {
    pub schema_version: u32,
    pub tool_version: String,
    pub runs: Vec<String>,
    pub hosts: Vec<String>,
    pub causes: Vec<CauseDay>,
    pub ongoing: Vec<OngoingEpisode>,
    pub shared: Vec<Shared>,
    pub overlaps: Vec<Overlap>,
    pub problems: Vec<String>,
}

fn err(what: &str, e: impl std::fmt::Display) -> crate::Error {
    crate::Error::Report {
        what: what.to_string(),
        message: e.to_string(),
    }
}

/// The Parquet files of one table under the given folders (report folders
/// or folders of them), found by their Hive layout `TABLE/host=H/...`.
pub fn table_files(dirs: &[PathBuf], table: &str) -> crate::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for d in dirs {
        if !d.is_dir() {
            return Err(crate::Error::Usage(format!(
                "{}: not a folder; give report folders written with `postmortem analyze --parquet`, or folders holding them",
                d.display()
            )));
        }
        walk(d, table, 0, false, &mut out)?;
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(
    dir: &Path,
    table: &str,
    depth: u32,
    inside: bool,
    out: &mut Vec<PathBuf>,
) -> crate::Result<()> {
    if depth > 8 {
        return Ok(());
    }
    let rd = std::fs::read_dir(dir).map_err(|e| crate::Error::io(dir, e))?;
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() {
            let here = inside || name == table;
            // Another table's folder holds nothing of this one.
            if !inside && name != table && is_table_name(&name) {
                continue;
            }
            walk(&e.path(), table, depth + 1, here, out)?;
        } else if kind.is_file() && inside && name.ends_with(".parquet") {
            out.push(e.path());
        }
    }
    Ok(())
}

fn is_table_name(name: &str) -> bool {
    matches!(
        name,
        "deliveries" | "messages" | "episodes" | "incidents" | "suspects" | "guessing" | "queue"
    )
}

/// The columns a question reads, and the type each is read as (times as
/// milliseconds in Int64).
type Columns = &'static [(&'static str, DataType)];

const S: DataType = DataType::String;
const I: DataType = DataType::Int64;
const DELIVERY_COLUMNS: Columns = &[
    ("host", S),
    ("run_id", S),
    ("time", I),
    ("status", S),
    ("cause", S),
];
const EPISODE_COLUMNS: Columns = &[
    ("host", S),
    ("list", S),
    ("first_seen", I),
    ("last_seen", I),
    ("utc_offset", I),
    ("state", S),
    ("messages", I),
    ("listed_ip", S),
];
const SUSPECT_COLUMNS: Columns = &[
    ("host", S),
    ("identity", S),
    ("kind", S),
    ("new_client_ips", S),
];
const GUESSING_COLUMNS: Columns = &[("host", S), ("kind", S), ("key", S), ("login_after_ip", S)];

/// One table file's `columns`, read with polars' Parquet reader (only
/// those columns are decoded); a column an older run lacks is all null.
fn read_file(path: &Path, columns: Columns) -> crate::Result<DataFrame> {
    use polars_io::prelude::{ParquetReader, SerReader};
    let what = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| crate::Error::io(path, e))?;
    let mut reader = ParquetReader::new(file);
    let schema = reader.schema().map_err(|e| err(&what, e))?;
    let present: Vec<String> = columns
        .iter()
        .filter(|c| schema.contains(c.0))
        .map(|c| c.0.to_string())
        .collect();
    let df = reader
        .with_columns(Some(present))
        .finish()
        .map_err(|e| err(&what, e))?;
    let height = df.height();
    let mut out = Vec::with_capacity(columns.len());
    for (name, dtype) in columns {
        out.push(match df.column(name) {
            Ok(c) => c.cast(dtype).map_err(|e| err(&what, e))?,
            Err(_) => Column::full_null((*name).into(), height, dtype),
        });
    }
    DataFrame::new(height, out).map_err(|e| err(&what, e))
}

/// A table's `columns` from all its files, as one frame. The files are
/// read here, projected, and the questions answered by walking the
/// columns: polars' lazy Parquet scan runs on its streaming engine, which
/// would bring an HTTP and cloud stack into an offline tool. Only the
/// small tables go through this; `deliveries` is aggregated file by file.
fn scan(files: &[PathBuf], columns: Columns) -> crate::Result<Option<DataFrame>> {
    let mut all: Option<DataFrame> = None;
    for f in files {
        let df = read_file(f, columns)?;
        match all.as_mut() {
            None => all = Some(df),
            Some(a) => {
                a.vstack_mut_owned(df)
                    .map_err(|e| err(&f.display().to_string(), e))?;
            }
        }
    }
    Ok(all)
}

fn strs(df: &DataFrame, col: &str) -> crate::Result<Vec<Option<String>>> {
    let c = df.column(col).map_err(|e| err(col, e))?;
    let c = c.cast(&DataType::String).map_err(|e| err(col, e))?;
    Ok(c.str()
        .map_err(|e| err(col, e))?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

fn ints(df: &DataFrame, col: &str) -> crate::Result<Vec<Option<i64>>> {
    let c = df.column(col).map_err(|e| err(col, e))?;
    let c = c.cast(&DataType::Int64).map_err(|e| err(col, e))?;
    Ok(c.i64().map_err(|e| err(col, e))?.iter().collect())
}

fn iso(ms: i64) -> String {
    LogTime(ms).iso()
}

/// Reads the runs' tables under `dirs` and answers the fleet's questions.
pub fn build(dirs: &[PathBuf]) -> crate::Result<Fleet> {
    let mut fleet = Fleet {
        schema_version: u32::from(crate::report::tables::SCHEMA_VERSION),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        ..Fleet::default()
    };
    let deliveries = table_files(dirs, "deliveries")?;
    let episodes = table_files(dirs, "episodes")?;
    if deliveries.is_empty() && episodes.is_empty() {
        return Err(crate::Error::Usage(
            "no event tables found: write them with `postmortem analyze --parquet --out DIR`, then give those folders".into(),
        ));
    }
    let mut hosts = BTreeSet::new();
    let mut runs = BTreeSet::new();
    fleet.causes = causes_per_day(&deliveries, &mut hosts, &mut runs)?;
    let (ongoing, overlaps) = match scan(&episodes, EPISODE_COLUMNS)? {
        Some(df) => episodes_of(df, &mut hosts)?,
        None => (Vec::new(), Vec::new()),
    };
    fleet.ongoing = ongoing;
    fleet.overlaps = overlaps;
    let suspects = scan(&table_files(dirs, "suspects")?, SUSPECT_COLUMNS)?;
    let guessing = scan(&table_files(dirs, "guessing")?, GUESSING_COLUMNS)?;
    fleet.shared = shared(suspects, guessing)?;
    fleet.hosts = hosts.into_iter().collect();
    fleet.runs = runs.into_iter().collect();
    Ok(fleet)
}

/// Deferrals and bounces per host, day and cause. Five columns are read,
/// one file (a host's day, or part of it) at a time, and each file is
/// summed before the next is read: memory holds one file's columns.
fn causes_per_day(
    files: &[PathBuf],
    hosts: &mut BTreeSet<String>,
    runs: &mut BTreeSet<String>,
) -> crate::Result<Vec<CauseDay>> {
    // (host, day, cause) -> (failed attempts, bounces)
    let mut sums: BTreeMap<(String, i64, String), (u64, u64)> = BTreeMap::new();
    for f in files {
        let df = read_file(f, DELIVERY_COLUMNS)?;
        let (h, run) = (strs(&df, "host")?, strs(&df, "run_id")?);
        let (t, status, cause) = (
            ints(&df, "time")?,
            strs(&df, "status")?,
            strs(&df, "cause")?,
        );
        let mut last: Option<(&str, &str)> = None;
        for i in 0..df.height() {
            let (host, run_id) = (
                h[i].as_deref().unwrap_or(""),
                run[i].as_deref().unwrap_or(""),
            );
            // A file holds one run's host: note it once.
            if last != Some((host, run_id)) {
                hosts.insert(host.to_string());
                runs.insert(run_id.to_string());
                last = Some((host, run_id));
            }
            let bounce = match status[i].as_deref() {
                Some("deferred") => false,
                Some("bounced") => true,
                _ => continue,
            };
            let ms = t[i].unwrap_or(0);
            let key = (
                host.to_string(),
                ms - ms.rem_euclid(DAY),
                cause[i].clone().unwrap_or_else(|| "unknown".to_string()),
            );
            let e = sums.entry(key).or_default();
            e.0 += 1;
            e.1 += u64::from(bounce);
        }
    }
    Ok(sums
        .into_iter()
        .map(|((host, day, cause), (attempts, bounces))| CauseDay {
            host,
            day: iso(day)[..10].to_string(),
            cause,
            deferrals: attempts.saturating_sub(bounces),
            bounces,
        })
        .collect())
}

/// One host's listing on one list: [from, to] in comparable milliseconds.
struct Listing {
    host: String,
    list: String,
    from: i64,
    to: i64,
}

fn episodes_of(
    df: DataFrame,
    hosts: &mut BTreeSet<String>,
) -> crate::Result<(Vec<OngoingEpisode>, Vec<Overlap>)> {
    let (h, l) = (strs(&df, "host")?, strs(&df, "list")?);
    let (f, t, o) = (
        ints(&df, "first_seen")?,
        ints(&df, "last_seen")?,
        ints(&df, "utc_offset")?,
    );
    let (s, m, ip) = (
        strs(&df, "state")?,
        ints(&df, "messages")?,
        strs(&df, "listed_ip")?,
    );
    let mut ongoing = Vec::new();
    let mut listings = Vec::new();
    for i in 0..df.height() {
        let host = h[i].clone().unwrap_or_default();
        hosts.insert(host.clone());
        let (from, to) = (f[i].unwrap_or(0), t[i].unwrap_or(0));
        if s[i].as_deref() == Some("ongoing") {
            ongoing.push(OngoingEpisode {
                host: host.clone(),
                list: l[i].clone().unwrap_or_default(),
                first_seen: iso(from),
                last_seen: iso(to),
                messages: m[i].unwrap_or(0) as u64,
                listed_ip: ip[i].clone(),
            });
        }
        let shift = o[i].unwrap_or(0) * SECOND;
        listings.push(Listing {
            host,
            list: l[i].clone().unwrap_or_default(),
            from: from - shift,
            to: to - shift,
        });
    }
    ongoing.sort_by(|a, b| (&a.host, &a.first_seen).cmp(&(&b.host, &b.first_seen)));
    Ok((ongoing, overlaps(listings)))
}

/// Per list, the hosts whose listings overlap in time: each listing with
/// the others that overlap it, merged when the same hosts overlap.
fn overlaps(mut listings: Vec<Listing>) -> Vec<Overlap> {
    listings.sort_by(|a, b| (&a.list, a.from).cmp(&(&b.list, b.from)));
    let mut out: Vec<Overlap> = Vec::new();
    for (i, a) in listings.iter().enumerate() {
        let mut hosts = BTreeSet::from([a.host.clone()]);
        let (mut from, mut to) = (a.from, a.to);
        for b in &listings[i + 1..] {
            if b.list != a.list || b.from > a.to {
                continue;
            }
            if b.host != a.host && b.from <= to && b.to >= from {
                hosts.insert(b.host.clone());
                from = from.max(b.from);
                to = to.min(b.to);
            }
        }
        if hosts.len() < 2 {
            continue;
        }
        let o = Overlap {
            list: a.list.clone(),
            hosts: hosts.into_iter().collect(),
            from: iso(from),
            to: iso(to),
        };
        if !out.iter().any(|x| x.list == o.list && x.hosts == o.hosts) {
            out.push(o);
        }
    }
    out
}

/// Logins and IPs of the suspects and of password guessing, on more than
/// one host.
fn shared(suspects: Option<DataFrame>, guessing: Option<DataFrame>) -> crate::Result<Vec<Shared>> {
    // (kind, value) -> host -> how it was seen there.
    let mut seen: BTreeMap<(String, String), BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    let mut note = |kind: &str, value: &str, host: &str, how: &str| {
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        seen.entry((kind.to_string(), value.to_string()))
            .or_default()
            .entry(host.to_string())
            .or_default()
            .insert(how.to_string());
    };
    if let Some(df) = suspects {
        let (h, id, k, ips) = (
            strs(&df, "host")?,
            strs(&df, "identity")?,
            strs(&df, "kind")?,
            strs(&df, "new_client_ips")?,
        );
        for i in 0..df.height() {
            let host = h[i].as_deref().unwrap_or("");
            let identity = id[i].as_deref().unwrap_or("");
            match k[i].as_deref() {
                Some("sasl") => note(
                    "login",
                    identity.trim_start_matches("sasl:"),
                    host,
                    "suspect",
                ),
                Some("client") => note(
                    "ip",
                    identity.trim_start_matches("client:"),
                    host,
                    "suspect",
                ),
                _ => note("identity", identity, host, "suspect"),
            }
            for ip in ips[i].as_deref().unwrap_or("").split("; ") {
                note("ip", ip, host, "suspect's client");
            }
        }
    }
    if let Some(df) = guessing {
        let (h, k, key, after) = (
            strs(&df, "host")?,
            strs(&df, "kind")?,
            strs(&df, "key")?,
            strs(&df, "login_after_ip")?,
        );
        for i in 0..df.height() {
            let host = h[i].as_deref().unwrap_or("");
            let key = key[i].as_deref().unwrap_or("");
            match k[i].as_deref() {
                Some("ip") => note("ip", key, host, "password guessing"),
                _ => note("login", key, host, "password guessing"),
            }
            if let Some(ip) = after[i].as_deref() {
                note("ip", ip, host, "login after guessing");
            }
        }
    }
    Ok(seen
        .into_iter()
        .filter(|(_, by_host)| by_host.len() > 1)
        .map(|((kind, value), by_host)| Shared {
            kind,
            value,
            hosts: by_host.keys().cloned().collect(),
            seen_as: by_host
                .iter()
                .map(|(h, how)| {
                    format!(
                        "{h}: {}",
                        how.iter().cloned().collect::<Vec<_>>().join(", ")
                    )
                })
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_that_overlap_on_one_list_pair_their_hosts() {
        let l = |host: &str, list: &str, from, to| Listing {
            host: host.into(),
            list: list.into(),
            from,
            to,
        };
        let o = overlaps(vec![
            l("a", "zen", 0, 100),
            l("b", "zen", 50, 150),
            l("c", "zen", 200, 300),
            l("c", "spamcop", 60, 70),
        ]);
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].hosts, ["a", "b"]);
        assert_eq!(
            (o[0].from.as_str(), o[0].to.as_str()),
            (iso(50).as_str(), iso(100).as_str())
        );
    }
}
