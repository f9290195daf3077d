//! Writes a seeded blacklisting incident on a Plesk-like Postfix server:
//! rotated maillogs (some gzipped), a `postqueue -p` dump at the end of the
//! logs, and the exact ground truth (`truth.json`, `TRUTH.md`).
//!
//! ```text
//! cargo run --release --example gen_scenarios -- --out /tmp/scen --seed 3
//! cargo run --release --example gen_scenarios -- --out /tmp/scen --seed 3 --shape two-sources
//! ```
//!
//! The same seed and shape give the same bytes. Without `--shape` the seed
//! picks one; extra features (noise, decoys, a listing that ends, held
//! spam, no content filter, a one-day queue lifetime) vary with the seed.

#[path = "gen_scenarios/mod.rs"]
mod gen;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "Generate a seeded blacklisting incident with its ground truth")]
struct Args {
    /// Output folder (created if missing; earlier mail.log* files in it are replaced).
    #[arg(long)]
    out: PathBuf,
    /// Seed of the scenario: the same seed and shape give the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// One of: script-outsends-login, no-history, two-sources, noise-before,
    /// decoys, short-logs, listing-ends (default: drawn from the seed).
    #[arg(long)]
    shape: Option<String>,
}

fn main() {
    let args = Args::parse();
    let shape = match args.shape.as_deref() {
        None => None,
        Some(s) => match gen::Shape::parse(s) {
            Some(x) => Some(x),
            None => {
                eprintln!(
                    "unknown shape {s:?}; one of: {}",
                    gen::shape_names().join(", ")
                );
                std::process::exit(2);
            }
        },
    };
    let started = Instant::now();
    let truth = match gen::generate(&args.out, args.seed, shape) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("gen_scenarios: {}: {e}", args.out.display());
            std::process::exit(1);
        }
    };
    eprintln!(
        "{} (seed {}): {} lines in {} files, {} queued, in {:.2} s; truth in {}",
        truth["shape"].as_str().unwrap_or(""),
        args.seed,
        truth["lines"]["total"],
        truth["files"].as_array().map_or(0, Vec::len),
        truth["queue"]["messages"],
        started.elapsed().as_secs_f64(),
        args.out.join("truth.json").display()
    );
}
