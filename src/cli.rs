//! The command line as clap reads it: every value checked for its type and
//! range here, so a mistake is a message and exit 1, never a panic or an
//! overflow later. [`crate::config`] turns these into checked
//! configurations with every file loaded.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::time::{DAY, HOUR, MINUTE, SECOND};

const EXAMPLES: &str = "\
Examples:
  postmortem analyze samples/
  postmortem analyze /var/log/maillog* queue.txt --out reports/incident-42
  journalctl -u postfix -o short-iso | postmortem analyze -
  postmortem analyze logs/ --since 2026-01-03 --until '2026-01-04 12:00' --timezone Europe/Berlin
  postmortem queue postqueue-p.txt --select sender=spammer@example.com --ids-out ids.txt
  postmortem explain 'host mx[1.2.3.4] said: 554 5.7.1 blocked using zen.spamhaus.org'
  postmortem causes";

#[derive(Parser, Debug)]
#[command(
    name = "postmortem",
    version,
    about = "Offline forensic analysis of Postfix mail servers: why mail is stuck, since when, and who got the server blacklisted.",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyze maillogs (and queue dumps) and write an incident report.
    #[command(after_help = EXAMPLES)]
    Analyze(AnalyzeArgs),
    /// Analyze queue dumps alone (`postqueue -p`, `mailq`, `postqueue -j`) and select messages for cleanup.
    Queue(QueueArgs),
    /// Show how a reason text is classified, and the rule that matched.
    Explain {
        /// The reason text, e.g. from `status=deferred (...)`.
        text: Vec<String>,
        /// A TOML file of extra classification rules.
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// List the causes postmortem knows, what they mean and their fixes.
    Causes,
    /// Put many servers' runs side by side, from the event tables that
    /// `analyze --parquet` wrote: causes per host over time, ongoing
    /// blacklistings, logins and client IPs seen on several hosts, hosts
    /// listed on one list at the same time.
    Fleet(FleetArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `postmortem man > postmortem.1`.
    Man,
}

#[derive(Args, Debug, Default)]
pub struct FleetArgs {
    /// Report folders written with `analyze --parquet`, or folders holding them.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Fleet report folder.
    #[arg(long, short, default_value = "reports/fleet")]
    pub out: PathBuf,
    /// Replace an existing fleet report folder (only one postmortem wrote).
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug, Default)]
pub struct AnalyzeArgs {
    /// Log files, folders of them, queue dumps, or `-` for stdin. Default: /var/log/maillog* and /var/log/mail.log*.
    pub paths: Vec<PathBuf>,
    /// Report folder (default: a new folder under reports/ named after the analyzed period).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Replace an existing report folder (only one postmortem wrote, holding none of the inputs).
    #[arg(long)]
    pub force: bool,
    /// Only events at or after this time (`2026-01-03`, `2026-01-03T10:00`, `2026-01-03 10:00:00`), or only those of `today` or `yesterday` (like pflogsumm -d: the day of the newest input's last write, today on a live copy).
    #[arg(long)]
    pub since: Option<String>,
    /// Only events before this time.
    #[arg(long)]
    pub until: Option<String>,
    /// Year of the first year-less syslog line (default: inferred from the newest file's date).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1970..=9999))]
    pub year: Option<i32>,
    /// IANA zone the server's log times are in (e.g. Europe/Berlin); adds offsets to the report's times.
    #[arg(long)]
    pub timezone: Option<String>,
    /// Worker threads (default: all cores; 1 to 256).
    #[arg(long, short, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
    /// Timeline bucket (`5m`, `1h`, `1d`; 1 minute to 31 days; default: chosen from the span).
    #[arg(long, value_parser = bucket)]
    pub bucket: Option<i64>,
    /// How far before a blacklisting to look for its source (1 minute to 90 days).
    #[arg(long, default_value = "24h", value_parser = lookback)]
    pub lookback: i64,
    /// A TOML file of extra classification rules.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// A copy of /etc/passwd to name local uids.
    #[arg(long)]
    pub passwd: Option<PathBuf>,
    /// When the queue dump was taken (default: the newest log line, else the dump's mtime).
    #[arg(long)]
    pub dump_time: Option<String>,
    /// Also write messages.csv: one row per message with the fate of each recipient
    /// (memory then grows with the number of messages).
    #[arg(long)]
    pub messages: bool,
    /// Also write the event tables as Parquet (deliveries, messages, episodes,
    /// incidents, suspects, guessing, queue), partitioned
    /// `TABLE/host=H/date=D/part-N.parquet` for DuckDB, Spark or polars.
    #[arg(long)]
    pub parquet: bool,
    /// Also write the event tables as CSV, partitioned the same way.
    #[arg(long)]
    pub tables_csv: bool,
    /// Cut lines longer than this (`64K`, `1M`; 4K to 256M) and report them.
    #[arg(long, default_value = "1M", value_parser = line_limit)]
    pub max_line: usize,
    /// Replace addresses, logins, host names and IPs by stable pseudonyms.
    #[arg(long)]
    pub redact: bool,
    /// Salt for --redact pseudonyms (same salt, same pseudonyms across reports;
    /// without it a random salt is drawn and the report says so).
    #[arg(long, default_value = "")]
    pub salt: String,
    /// Print no progress and only the report location.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args, Debug, Default)]
pub struct QueueArgs {
    /// Queue dumps: `postqueue -p` / `mailq` text or `postqueue -j` JSON.
    pub dumps: Vec<PathBuf>,
    /// When the dump was taken (default: the file's mtime).
    #[arg(long)]
    pub dump_time: Option<String>,
    /// Select messages: sender=ADDR, sender_domain=D, domain=D (recipient), cause=ID, queue=deferred, older=2h, identity=ID. Repeatable; all must match.
    #[arg(long)]
    pub select: Vec<String>,
    /// Write the selected queue ids here, one per line, for `postsuper -d - < FILE` after review.
    #[arg(long)]
    pub ids_out: Option<PathBuf>,
    /// A TOML file of extra classification rules.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// IANA zone of `postqueue -j` arrival times (default: UTC).
    #[arg(long)]
    pub timezone: Option<String>,
    /// Queues in the qshape table, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub shape_queues: Vec<String>,
    /// qshape -s: the table by sender domain instead of recipient domain.
    #[arg(long)]
    pub shape_senders: bool,
    /// qshape -p: also parent domains (`.example.com`), from --shape-min-subdomains subdomains on.
    #[arg(long)]
    pub shape_parents: bool,
    /// qshape -m: subdomains a parent domain needs for a line of its own.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub shape_min_subdomains: u64,
    /// qshape -b: the number of age buckets.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub shape_buckets: u64,
    /// qshape -t: the first bucket's age limit in minutes (1 to 10080).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=10_080))]
    pub shape_minutes: u64,
    /// qshape -l: buckets grow linearly instead of doubling.
    #[arg(long)]
    pub shape_linear: bool,
    /// qshape -w: the table's width in columns (80 to 1000).
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u16).range(80..=1000))]
    pub shape_width: u16,
    /// How many of the oldest messages to list (0 to 10000).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(0..=10_000))]
    pub oldest: u16,
}

/// `5m`, `2h`, `1d`, `90s` to milliseconds, within `[min, max]`.
pub fn parse_duration(s: &str, min: i64, max: i64) -> Result<i64, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 5m, 1h or 1d"))?;
    let mult = match unit {
        "s" => SECOND,
        "m" | "min" | "" => MINUTE,
        "h" => HOUR,
        "d" => DAY,
        _ => return Err(format!("{s:?}: unknown unit {unit:?}; use s, m, h or d")),
    };
    let ms = n.checked_mul(mult).filter(|ms| (min..=max).contains(ms));
    ms.ok_or_else(|| {
        format!(
            "{s:?} is out of range: give {} to {}",
            human(min),
            human(max)
        )
    })
}

fn human(ms: i64) -> String {
    match ms {
        ms if ms % DAY == 0 => format!("{}d", ms / DAY),
        ms if ms % HOUR == 0 => format!("{}h", ms / HOUR),
        ms if ms % MINUTE == 0 => format!("{}m", ms / MINUTE),
        ms => format!("{}s", ms / SECOND),
    }
}

fn bucket(s: &str) -> Result<i64, String> {
    parse_duration(s, MINUTE, 31 * DAY)
}

fn lookback(s: &str) -> Result<i64, String> {
    parse_duration(s, MINUTE, 90 * DAY)
}

/// `64K`, `1M`, `1048576` to bytes, 4 KiB to 256 MiB.
fn line_limit(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 1u64 << 10),
        Some((i, 'M' | 'm')) => (&t[..i], 1 << 20),
        _ => (t, 1),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size like 64K or 1M"))?;
    n.checked_mul(mult)
        .filter(|b| (4 << 10..=256 << 20).contains(b))
        .map(|b| b as usize)
        .ok_or_else(|| format!("{s:?} is out of range: give 4K to 256M"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_checked_not_wrapped() {
        assert_eq!(lookback("24h"), Ok(24 * HOUR));
        assert_eq!(bucket("5m"), Ok(5 * MINUTE));
        for bad in ["999999999999d", "0m", "1s", "91d", "-5m", "5x", ""] {
            assert!(lookback(bad).is_err(), "{bad}");
        }
        assert!(bucket("1s").is_err());
        assert!(bucket("32d").is_err());
    }

    #[test]
    fn line_limits_are_sizes_in_range() {
        assert_eq!(line_limit("1M"), Ok(1 << 20));
        assert_eq!(line_limit("64k"), Ok(64 << 10));
        assert_eq!(line_limit("4096"), Ok(4096));
        for bad in ["1K", "1G", "300M", "18446744073709551615M", "x"] {
            assert!(line_limit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn options_out_of_range_are_refused() {
        for args in [
            &["postmortem", "analyze", "--jobs", "100000"][..],
            &["postmortem", "analyze", "--jobs", "0"],
            &["postmortem", "analyze", "--year", "2147483647"],
            &["postmortem", "analyze", "--lookback", "999999999999d"],
            &["postmortem", "analyze", "--bucket", "1s"],
            &[
                "postmortem",
                "queue",
                "--shape-width",
                "18446744073709551615",
            ],
            &["postmortem", "queue", "--shape-minutes", "99999999999"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
        assert!(Cli::try_parse_from(["postmortem", "analyze", "--jobs", "256"]).is_ok());
    }
}
