//! Checked configurations: the command line's values with every file loaded
//! and every name resolved once, before any input is read.
//!
//! `TryFrom<AnalyzeArgs>` and `TryFrom<QueueArgs>` read the rules file, the
//! passwd copy and the time zone, and parse the typed times; a mistake is an
//! [`Error::Usage`] naming the flag. Files given as options are read only when
//! they are regular files of a sane size: a FIFO would block for ever and
//! `/dev/zero` would fill memory.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::analyze::queue::{Selector, ShapeMode, ShapeOptions};
use crate::classify::Classifier;
use crate::cli::{AnalyzeArgs, FleetArgs, QueueArgs};
use crate::input::MAX_LINE;
use crate::parse::queue::{DumpTimeSource, QueueName};
use crate::time::{LogTime, TimeFormat, HOUR};
use crate::{Error, Result};

/// uid -> user name, from a copy of /etc/passwd.
pub type Passwd = HashMap<u32, String>;

/// `--since today` or `--since yesterday`, like pflogsumm's `-d`: resolved
/// once the inputs are found, against the day of the newest input's last
/// write (today on a live copy; the current day for stdin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelativeDay {
    Today,
    Yesterday,
}

/// Everything `postmortem analyze` needs, checked.
#[derive(Debug, Clone)]
pub struct AnalyzeConfig {
    pub paths: Vec<PathBuf>,
    /// Where the report goes; a new folder under `reports_root` when `None`.
    pub out: Option<PathBuf>,
    pub reports_root: PathBuf,
    pub force: bool,
    pub since: Option<LogTime>,
    pub until: Option<LogTime>,
    /// `--since today|yesterday`: only that day (`since` is then `None`).
    pub day: Option<RelativeDay>,
    pub year: Option<i32>,
    /// How the report writes times (`--timezone` applied).
    pub format: TimeFormat,
    pub jobs: usize,
    pub bucket: Option<i64>,
    pub lookback: i64,
    pub classifier: Classifier,
    pub passwd: Passwd,
    /// uid -> home directory, from the same copy of /etc/passwd.
    pub passwd_homes: Passwd,
    pub dump_time: Option<LogTime>,
    pub redact: bool,
    pub salt: String,
    /// Do not write a report folder (terminal summary only).
    pub no_report: bool,
    /// Write messages.csv (every message tracked through the run).
    pub messages: bool,
    /// The event tables, and in which formats (`--parquet`, `--tables-csv`).
    pub tables: crate::report::tables::Formats,
    /// Lines longer than this are cut (and reported).
    pub max_line: usize,
}

impl Default for AnalyzeConfig {
    fn default() -> Self {
        AnalyzeConfig {
            paths: Vec::new(),
            out: None,
            reports_root: PathBuf::from("reports"),
            force: false,
            since: None,
            until: None,
            day: None,
            year: None,
            format: TimeFormat::local(),
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            bucket: None,
            lookback: 24 * HOUR,
            classifier: Classifier::builtin(),
            passwd: Passwd::new(),
            passwd_homes: Passwd::new(),
            dump_time: None,
            redact: false,
            salt: String::new(),
            no_report: false,
            messages: false,
            tables: Default::default(),
            max_line: MAX_LINE,
        }
    }
}

impl TryFrom<AnalyzeArgs> for AnalyzeConfig {
    type Error = Error;

    fn try_from(a: AnalyzeArgs) -> Result<Self> {
        let day = match a.since.as_deref().map(str::trim) {
            Some("today") => Some(RelativeDay::Today),
            Some("yesterday") => Some(RelativeDay::Yesterday),
            _ => None,
        };
        let since = match day {
            Some(_) => None,
            None => typed_time("--since", a.since.as_deref())?,
        };
        let until = typed_time("--until", a.until.as_deref())?;
        if let (Some(s), Some(u)) = (since, until) {
            if u <= s {
                return Err(Error::Usage(format!(
                    "--until {} is not after --since {}: nothing would be analyzed",
                    u.iso(),
                    s.iso()
                )));
            }
        }
        let defaults = AnalyzeConfig::default();
        let (passwd, passwd_homes) = passwd(a.passwd.as_deref())?;
        Ok(AnalyzeConfig {
            paths: a.paths,
            out: a.out,
            force: a.force,
            since,
            until,
            day,
            year: a.year,
            format: time_format(a.timezone.as_deref())?,
            jobs: a.jobs.map_or(defaults.jobs, usize::from),
            bucket: a.bucket,
            lookback: a.lookback,
            classifier: classifier(a.rules.as_deref())?,
            passwd,
            passwd_homes,
            dump_time: typed_time("--dump-time", a.dump_time.as_deref())?,
            redact: a.redact,
            salt: a.salt,
            messages: a.messages,
            tables: crate::report::tables::Formats {
                parquet: a.parquet,
                csv: a.tables_csv,
            },
            max_line: a.max_line,
            ..defaults
        })
    }
}

/// Everything `postmortem queue` needs, checked.
#[derive(Debug, Clone, Default)]
pub struct QueueConfig {
    /// Dump files; `-` is stdin.
    pub dumps: Vec<PathBuf>,
    /// The moment the dumps were taken, server wall clock.
    pub dump_time: Option<LogTime>,
    /// How `dump_time` was found; `--dump-time` when `None`.
    pub dump_time_source: Option<DumpTimeSource>,
    /// IANA zone of the server, for `postqueue -j` epoch times and mtimes.
    pub timezone: Option<String>,
    /// Queues for the printed qshape table; empty = all.
    pub shape_queues: Vec<QueueName>,
    /// qshape's options for the printed table.
    pub shape: ShapeOptions,
    pub select: Vec<Selector>,
    /// Where to write the selected ids; never overwritten.
    pub ids_out: Option<PathBuf>,
    /// Rows of the oldest-messages list printed.
    pub oldest: usize,
    pub classifier: Classifier,
}

impl TryFrom<QueueArgs> for QueueConfig {
    type Error = Error;

    fn try_from(q: QueueArgs) -> Result<Self> {
        let dump_time = typed_time("--dump-time", q.dump_time.as_deref())?;
        if let Some(z) = &q.timezone {
            time_format(Some(z))?;
        }
        let shape_queues = q
            .shape_queues
            .iter()
            .map(|s| {
                QueueName::from_id(s).ok_or_else(|| {
                    Error::Usage(format!(
                        "unknown queue {s:?} in --shape-queues; use hold, active, incoming, deferred"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let select = q
            .select
            .iter()
            .map(|s| Selector::parse(s))
            .collect::<Result<Vec<_>>>()?;
        Ok(QueueConfig {
            dumps: q.dumps,
            dump_time,
            dump_time_source: dump_time.map(|_| DumpTimeSource::Flag),
            timezone: q.timezone,
            shape_queues,
            shape: ShapeOptions {
                mode: if q.shape_senders {
                    ShapeMode::Senders
                } else {
                    ShapeMode::Recipients
                },
                buckets: q.shape_buckets as usize,
                tick_minutes: q.shape_minutes,
                linear: q.shape_linear,
                parents: q.shape_parents,
                min_subdomains: q.shape_min_subdomains,
                width: usize::from(q.shape_width),
            },
            select,
            ids_out: q.ids_out,
            oldest: usize::from(q.oldest),
            classifier: classifier(q.rules.as_deref())?,
        })
    }
}

/// Everything `postmortem fleet` needs, checked.
#[derive(Debug, Clone, Default)]
pub struct FleetConfig {
    pub dirs: Vec<PathBuf>,
    pub out: PathBuf,
    pub force: bool,
}

impl TryFrom<FleetArgs> for FleetConfig {
    type Error = Error;

    fn try_from(a: FleetArgs) -> Result<Self> {
        for d in &a.dirs {
            if !d.is_dir() {
                return Err(Error::Usage(format!(
                    "{}: not a folder; give report folders written with `postmortem analyze --parquet`",
                    d.display()
                )));
            }
        }
        Ok(FleetConfig {
            dirs: a.dirs,
            out: a.out,
            force: a.force,
        })
    }
}

fn typed_time(flag: &str, value: Option<&str>) -> Result<Option<LogTime>> {
    value
        .map(|v| {
            LogTime::parse_local(v).map_err(|why| {
                Error::Usage(format!(
                    "{flag}: {why}; give the server's local time as 2026-11-28T18:56:06"
                ))
            })
        })
        .transpose()
}

fn time_format(zone: Option<&str>) -> Result<TimeFormat> {
    match zone {
        Some(z) => TimeFormat::with_zone(z),
        None => Ok(TimeFormat::local()),
    }
}

/// The built-in rules, plus a rules file's in front when one is given.
pub fn classifier(rules: Option<&Path>) -> Result<Classifier> {
    match rules {
        Some(p) => {
            let text = read_option_file(p, "--rules", 4 << 20)?;
            Classifier::from_rules_text(&text, p)
        }
        None => Ok(Classifier::builtin()),
    }
}

/// uid -> name and uid -> home directory.
fn passwd(path: Option<&Path>) -> Result<(Passwd, Passwd)> {
    match path {
        Some(p) => {
            let text = read_option_file(p, "--passwd", 16 << 20)?;
            Ok((
                crate::analyze::parse_passwd(&text),
                crate::analyze::suspects::parse_passwd_homes(&text),
            ))
        }
        None => Ok((Passwd::new(), Passwd::new())),
    }
}

/// Reads a file named by an option: a regular file of at most `max` bytes.
pub fn read_option_file(path: &Path, flag: &str, max: u64) -> Result<String> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::Usage(format!(
            "{flag} {}: not a regular file (a copy of the file is expected)",
            path.display()
        )));
    }
    if meta.len() > max {
        return Err(Error::Usage(format!(
            "{flag} {}: {} bytes is more than the {} MiB such a file can be",
            path.display(),
            meta.len(),
            max >> 20
        )));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max).read_to_string(&mut text))
        .map_err(|e| Error::io(path, e))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn analyze(args: &[&str]) -> Result<AnalyzeConfig> {
        let mut all = vec!["postmortem", "analyze"];
        all.extend_from_slice(args);
        match crate::cli::Cli::try_parse_from(all).unwrap().command {
            crate::cli::Command::Analyze(a) => AnalyzeConfig::try_from(a),
            _ => unreachable!(),
        }
    }

    #[test]
    fn option_files_must_be_regular_and_small() {
        let err = analyze(&["--passwd", "/dev/zero"]).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            // Would block for ever if it were opened.
            let err = analyze(&["--rules", fifo.to_str().unwrap()]).unwrap_err();
            assert!(err.to_string().contains("not a regular file"), "{err}");
        }
        let p = dir.path().join("passwd");
        std::fs::write(&p, "www-data:x:33:33::/var/www:/bin/false\n").unwrap();
        let cfg = analyze(&["--passwd", p.to_str().unwrap()]).unwrap();
        assert_eq!(cfg.passwd[&33], "www-data");
    }

    #[test]
    fn times_and_zones_are_checked_once() {
        assert!(analyze(&["--timezone", "Mars/Olympus"]).is_err());
        assert!(analyze(&["--since", "last week"]).is_err());
        let cfg = analyze(&["--since", "yesterday"]).unwrap();
        assert_eq!(cfg.day, Some(RelativeDay::Yesterday));
        assert!(cfg.since.is_none());
        assert!(analyze(&["--since", "2026-01-02", "--until", "2026-01-01"]).is_err());
        let cfg = analyze(&["--since", "2026-01-01", "--timezone", "UTC"]).unwrap();
        assert_eq!(cfg.format.zone_name(), "UTC");
    }

    #[test]
    fn queue_dump_time_is_the_servers_wall_clock() {
        let queue = |time: &str| {
            let all = ["postmortem", "queue", "q.txt", "--dump-time", time];
            match crate::cli::Cli::try_parse_from(all).unwrap().command {
                crate::cli::Command::Queue(q) => QueueConfig::try_from(q),
                _ => unreachable!(),
            }
        };
        let t = LogTime::from_civil(2026, 11, 28, 18, 56, 6, 0).unwrap();
        for given in ["2026-11-28T18:56:06", "2026-11-28 18:56:06"] {
            let cfg = queue(given).unwrap();
            assert_eq!(cfg.dump_time, Some(t));
            assert_eq!(cfg.dump_time_source, Some(DumpTimeSource::Flag));
        }
        let err = queue("yesterday").unwrap_err().to_string();
        assert!(err.starts_with("--dump-time: "), "{err}");
        assert!(
            err.ends_with("give the server's local time as 2026-11-28T18:56:06"),
            "{err}"
        );
    }
}
