//! Writes a seeded, week-long set of Plesk/Postfix maillogs with staged
//! incidents and their exact ground truth (`truth.json`, `TRUTH.md`).
//!
//! The committed `samples/` folder is its default output:
//!
//! ```text
//! cargo run --release --example gen_samples -- --out samples --seed 7
//! ```
//!
//! `--scale N` (or `--lines N`) multiplies the traffic for benchmark sets;
//! lines are written as they are simulated, so memory stays flat.

#[path = "gen_samples/mod.rs"]
mod sim;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "Generate seeded Postfix maillogs with staged incidents and their ground truth")]
struct Args {
    /// Output folder (created if missing; old mail.log* files in it are replaced).
    #[arg(long, default_value = "samples")]
    out: PathBuf,
    /// Seed of the run: the same seed and options give the same bytes.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Multiplies every traffic rate (1 gives about 50 k lines).
    #[arg(long, conflicts_with = "lines")]
    scale: Option<f64>,
    /// Aim for about this many lines (sets the scale).
    #[arg(long)]
    lines: Option<u64>,
    /// Rotate a log file once it holds this many lines (besides the daily rotation).
    #[arg(long, default_value_t = 1_500_000)]
    max_file_lines: u64,
    /// gzip level of the rotated files (default: 6, or 1 above scale 5).
    #[arg(long)]
    gzip_level: Option<u32>,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let scale = match (args.scale, args.lines) {
        (Some(s), _) => s,
        (None, Some(n)) => n as f64 / sim::LINES_AT_SCALE_1,
        (None, None) => 1.0,
    };
    let mut cfg = sim::Config::new(&args.out, args.seed, scale);
    cfg.max_file_lines = args.max_file_lines;
    if let Some(l) = args.gzip_level {
        cfg.gzip_level = l.min(9);
    }
    let started = Instant::now();
    let truth = sim::generate(&cfg)?;
    let secs = started.elapsed().as_secs_f64();
    let lines = truth["lines"]["total"].as_u64().unwrap_or(0);
    eprintln!(
        "wrote {} lines in {} files to {} in {:.1} s ({:.0} lines/s); truth in truth.json",
        lines,
        truth["files"].as_array().map_or(0, |f| f.len()),
        cfg.out.display(),
        secs,
        lines as f64 / secs.max(1e-9)
    );
    Ok(())
}
