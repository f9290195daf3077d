//! The `postmortem` binary: parses arguments, calls the library, renders
//! the outcome, and sets the exit code (0 complete, 1 failed, 2 partial).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use postmortem::analyze::queue::{ShapeMode, ShapeOptions};
use postmortem::cmd::analyze::{AnalyzeConfig, Progress};
use postmortem::time::{LogTime, DAY, HOUR, MINUTE};

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
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
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
}

#[derive(Args, Debug)]
struct AnalyzeArgs {
    /// Log files, folders of them, queue dumps, or `-` for stdin. Default: /var/log/maillog* and /var/log/mail.log*.
    paths: Vec<PathBuf>,
    /// Report folder (default: a new folder under reports/ named after the analyzed period).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Replace an existing report folder.
    #[arg(long)]
    force: bool,
    /// Only events at or after this time (`2026-01-03`, `2026-01-03T10:00`, `2026-01-03 10:00:00`).
    #[arg(long)]
    since: Option<String>,
    /// Only events before this time.
    #[arg(long)]
    until: Option<String>,
    /// Year of the first year-less syslog line (default: inferred from the newest file's date).
    #[arg(long)]
    year: Option<i32>,
    /// IANA zone the server's log times are in (e.g. Europe/Berlin); adds offsets to the report's times.
    #[arg(long)]
    timezone: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Timeline bucket (`5m`, `1h`, `1d`; default: chosen from the span).
    #[arg(long)]
    bucket: Option<String>,
    /// How far before a blacklisting to look for its source.
    #[arg(long, default_value = "24h")]
    lookback: String,
    /// A TOML file of extra classification rules.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// A copy of /etc/passwd to name local uids.
    #[arg(long)]
    passwd: Option<PathBuf>,
    /// When the queue dump was taken (default: the newest log line, else the dump's mtime).
    #[arg(long)]
    dump_time: Option<String>,
    /// Also write messages.csv: one row per message with the fate of each recipient
    /// (memory then grows with the number of messages).
    #[arg(long)]
    messages: bool,
    /// Replace addresses, logins, host names and IPs by stable pseudonyms.
    #[arg(long)]
    redact: bool,
    /// Salt for --redact pseudonyms (same salt, same pseudonyms across reports;
    /// without it a random salt is drawn and the report says so).
    #[arg(long, default_value = "")]
    salt: String,
    /// Print no progress and only the report location.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct QueueArgs {
    /// Queue dumps: `postqueue -p` / `mailq` text or `postqueue -j` JSON.
    dumps: Vec<PathBuf>,
    /// When the dump was taken (default: the file's mtime).
    #[arg(long)]
    dump_time: Option<String>,
    /// Select messages: sender=ADDR, sender_domain=D, domain=D (recipient), cause=ID, queue=deferred, older=2h, identity=ID. Repeatable; all must match.
    #[arg(long)]
    select: Vec<String>,
    /// Write the selected queue ids here, one per line, for `postsuper -d - < FILE` after review.
    #[arg(long)]
    ids_out: Option<PathBuf>,
    /// A TOML file of extra classification rules.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// IANA zone of `postqueue -j` arrival times (default: UTC).
    #[arg(long)]
    timezone: Option<String>,
    /// Queues in the qshape table, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    shape_queues: Vec<String>,
    /// qshape -s: the table by sender domain instead of recipient domain.
    #[arg(long)]
    shape_senders: bool,
    /// qshape -p: also parent domains (`.example.com`), from --shape-min-subdomains subdomains on.
    #[arg(long)]
    shape_parents: bool,
    /// qshape -m: subdomains a parent domain needs for a line of its own.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    shape_min_subdomains: u64,
    /// qshape -b: the number of age buckets.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=64))]
    shape_buckets: u64,
    /// qshape -t: the first bucket's age limit in minutes.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    shape_minutes: u64,
    /// qshape -l: buckets grow linearly instead of doubling.
    #[arg(long)]
    shape_linear: bool,
    /// qshape -w: the table's width in columns (80 at the least).
    #[arg(long, default_value_t = 80)]
    shape_width: usize,
    /// How many of the oldest messages to list.
    #[arg(long, default_value_t = 10)]
    oldest: usize,
}

/// `5m`, `2h`, `1d`, `90s` to milliseconds.
fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 5m, 1h or 1d"))?;
    let mult = match unit {
        "s" => 1000,
        "m" | "min" | "" => MINUTE,
        "h" => HOUR,
        "d" => DAY,
        _ => return Err(format!("{s:?}: unknown unit {unit:?}; use s, m, h or d")),
    };
    if n <= 0 {
        return Err(format!("{s:?} must be positive"));
    }
    Ok(n * mult)
}

struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

fn analyze(a: AnalyzeArgs) -> Result<ExitCode, String> {
    let mut paths = a.paths;
    if paths.is_empty() {
        paths = default_paths();
        if paths.is_empty() {
            return Err("no maillog found in /var/log (maillog*, mail.log*); name the files or folders to analyze, e.g. `postmortem analyze samples/`".into());
        }
    }
    let mut cfg = AnalyzeConfig {
        paths,
        out: a.out,
        force: a.force,
        since: a.since.as_deref().map(LogTime::parse_local).transpose()?,
        until: a.until.as_deref().map(LogTime::parse_local).transpose()?,
        year: a.year,
        timezone: a.timezone,
        bucket: a.bucket.as_deref().map(parse_duration).transpose()?,
        lookback: parse_duration(&a.lookback)?,
        rules: a.rules,
        passwd: a.passwd,
        dump_time: a
            .dump_time
            .as_deref()
            .map(LogTime::parse_local)
            .transpose()?,
        messages: a.messages,
        redact: a.redact,
        salt: a.salt,
        ..AnalyzeConfig::default()
    };
    if let Some(j) = a.jobs {
        cfg.jobs = j.max(1);
    }
    let show = !a.quiet && std::io::stderr().is_terminal();
    let bar = if show {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} reading {bytes}/{total_bytes} {wide_bar} {bytes_per_sec} {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let outcome = postmortem::cmd::analyze::run(&cfg, &Bar(bar)).map_err(|e| format!("{e:#}"))?;
    let mut out = std::io::stdout().lock();
    if !a.quiet {
        let color = postmortem::report::use_color(std::io::stdout().is_terminal());
        let _ = write!(
            out,
            "{}",
            postmortem::report::render_terminal(&outcome.summary, color)
        );
    }
    if let Some(dir) = &outcome.out_dir {
        let _ = writeln!(out, "report: {}", dir.join("report.html").display());
    }
    for p in &outcome.summary.problems {
        eprintln!("postmortem: {p}");
    }
    Ok(if outcome.partial {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn default_paths() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/var/log") {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("maillog") || name.starts_with("mail.log") {
                v.push(e.path());
            }
        }
    }
    v.sort();
    v
}

fn run() -> Result<ExitCode, String> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Exit 2 means "partial" here, not clap's "usage error": a mistake
        // on the command line exits 1 like any other failure.
        Err(e) => {
            let _ = e.print();
            return Ok(ExitCode::from(u8::from(e.use_stderr())));
        }
    };
    match cli.command {
        Command::Analyze(a) => analyze(a),
        Command::Queue(q) => queue(q),
        Command::Explain { text, rules } => {
            let classifier = match rules {
                Some(p) => postmortem::classify::Classifier::from_rules_file(&p)
                    .map_err(|e| e.to_string())?,
                None => postmortem::classify::Classifier::builtin(),
            };
            let text = text.join(" ");
            if text.trim().is_empty() {
                return Err("give the reason text to explain, e.g. postmortem explain 'Connection timed out'".into());
            }
            postmortem::cmd::explain::run(&classifier, &text, &mut std::io::stdout().lock())
                .map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Causes => {
            postmortem::cmd::causes::run(&mut std::io::stdout().lock())
                .map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn queue(q: QueueArgs) -> Result<ExitCode, String> {
    use postmortem::analyze::queue::Selector;
    use postmortem::cmd::queue::{parse_dump_time, QueueConfig};
    use postmortem::parse::queue::{DumpTimeSource, QueueName};
    let classifier = match &q.rules {
        Some(p) => {
            postmortem::classify::Classifier::from_rules_file(p).map_err(|e| e.to_string())?
        }
        None => postmortem::classify::Classifier::builtin(),
    };
    let dump_time = q
        .dump_time
        .as_deref()
        .map(parse_dump_time)
        .transpose()
        .map_err(|e| e.to_string())?;
    let shape_queues = q
        .shape_queues
        .iter()
        .map(|s| {
            QueueName::from_id(s)
                .ok_or_else(|| format!("unknown queue {s:?}; use hold, active, incoming, deferred"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let select = q
        .select
        .iter()
        .map(|s| Selector::parse(s).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let cfg = QueueConfig {
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
            width: q.shape_width,
        },
        select,
        ids_out: q.ids_out,
        oldest: q.oldest,
    };
    let outcome = postmortem::cmd::queue::run(&cfg, &classifier, &mut std::io::stdout().lock())
        .map_err(|e| e.to_string())?;
    for p in &outcome.problems {
        eprintln!("postmortem: {p}");
    }
    Ok(if outcome.partial() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("postmortem: {msg}");
            ExitCode::from(1)
        }
    }
}
