//! The `postmortem` binary: parses arguments, calls the library, renders
//! the outcome, and sets the exit code (0 complete, 1 failed, 2 partial).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use postmortem::cli::{AnalyzeArgs, Cli, Command, FleetArgs, QueueArgs};
use postmortem::config::{AnalyzeConfig, FleetConfig, QueueConfig};
use postmortem::pipeline::Progress;
use postmortem::report::escape::{terminal_line, SafeWriter};

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

fn progress_bar(quiet: bool) -> Bar {
    if quiet || !std::io::stderr().is_terminal() {
        return Bar(indicatif::ProgressBar::hidden());
    }
    let b = indicatif::ProgressBar::new(0);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} reading {bytes}/{total_bytes} {wide_bar} {bytes_per_sec} {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Bar(b)
}

fn analyze(mut a: AnalyzeArgs) -> Result<ExitCode, String> {
    if a.paths.is_empty() {
        a.paths = default_paths();
        if a.paths.is_empty() {
            return Err("no maillog found in /var/log (maillog*, mail.log*); name the files or folders to analyze, e.g. `postmortem analyze samples/`".into());
        }
    }
    let quiet = a.quiet;
    let cfg = AnalyzeConfig::try_from(a).map_err(|e| e.to_string())?;
    let outcome =
        postmortem::pipeline::run(&cfg, &progress_bar(quiet)).map_err(|e| format!("{e:#}"))?;
    let mut out = std::io::stdout().lock();
    if !quiet {
        let color = postmortem::report::use_color(std::io::stdout().is_terminal());
        let _ = write!(
            out,
            "{}",
            postmortem::report::render_terminal(&outcome.summary, color)
        );
    }
    if let Some(dir) = &outcome.out_dir {
        let shown = terminal_line(&dir.join("report.html").display().to_string());
        let _ = writeln!(out, "report: {shown}");
    }
    for p in &outcome.summary.problems {
        eprintln!("postmortem: {}", terminal_line(p));
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

fn queue(q: QueueArgs) -> Result<ExitCode, String> {
    let cfg = QueueConfig::try_from(q).map_err(|e| e.to_string())?;
    let outcome =
        match postmortem::cmd::queue::run(&cfg, &mut SafeWriter::new(std::io::stdout().lock())) {
            Ok(o) => o,
            Err(e) if e.is_broken_pipe() => return Ok(ExitCode::SUCCESS),
            Err(e) => return Err(e.to_string()),
        };
    for p in &outcome.problems {
        eprintln!("postmortem: {}", terminal_line(p));
    }
    Ok(if outcome.partial() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn explain(text: Vec<String>, rules: Option<PathBuf>) -> Result<ExitCode, String> {
    let classifier = postmortem::config::classifier(rules.as_deref()).map_err(|e| e.to_string())?;
    let text = text.join(" ");
    if text.trim().is_empty() {
        return Err(
            "give the reason text to explain, e.g. postmortem explain 'Connection timed out'"
                .into(),
        );
    }
    let mut out = SafeWriter::new(std::io::stdout().lock());
    match postmortem::cmd::explain::run(&classifier, &text, &mut out) {
        Err(e) if !e.is_broken_pipe() => Err(e.to_string()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn fleet(a: FleetArgs) -> Result<ExitCode, String> {
    let cfg = FleetConfig::try_from(a).map_err(|e| e.to_string())?;
    let outcome = postmortem::cmd::fleet::run(&cfg).map_err(|e| format!("{e:#}"))?;
    let f = &outcome.fleet;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} hosts, {} runs; {} logins or IPs on several hosts, {} shared listings, {} ongoing",
        f.hosts.len(),
        f.runs.len(),
        f.shared.len(),
        f.overlaps.len(),
        f.ongoing.len()
    );
    for s in &f.shared {
        let line = format!("shared {} {}: {}", s.kind, s.value, s.hosts.join(", "));
        let _ = writeln!(out, "{}", terminal_line(&line));
    }
    let shown = terminal_line(&outcome.out_dir.join("fleet.html").display().to_string());
    let _ = writeln!(out, "report: {shown}");
    Ok(ExitCode::SUCCESS)
}

/// Completion scripts and the man page come from the same clap model.
fn generated(command: &Command) -> Result<ExitCode, String> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    let written = match command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut cmd, "postmortem", &mut out);
            Ok(())
        }
        _ => clap_mangen::Man::new(cmd).render(&mut out),
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
        _ => Ok(ExitCode::SUCCESS),
    }
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
        Command::Explain { text, rules } => explain(text, rules),
        Command::Fleet(a) => fleet(a),
        c @ (Command::Completions { .. } | Command::Man) => generated(&c),
        Command::Causes => match postmortem::cmd::causes::run(&mut std::io::stdout().lock()) {
            Err(e) if !e.is_broken_pipe() => Err(e.to_string()),
            _ => Ok(ExitCode::SUCCESS),
        },
    }
}

fn main() -> ExitCode {
    postmortem::memory::fewer_arenas();
    match run() {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("postmortem: {}", terminal_line(&msg));
            ExitCode::from(1)
        }
    }
}
