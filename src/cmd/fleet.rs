//! `postmortem fleet DIR...`: many servers' runs side by side.
//!
//! Reads the event tables that `postmortem analyze --parquet` wrote into
//! each report folder (give the report folders, or folders holding them)
//! and writes a fleet report: `fleet.html`, `fleet.json` and CSVs of the
//! causes per host and day, the blacklistings still ongoing, the logins and
//! client IPs seen on more than one host, and the hosts listed on one list
//! at the same time.

use std::borrow::Cow;
use std::path::PathBuf;

use crate::config::FleetConfig;
use crate::fleet::{self, Fleet};

/// What a fleet run found and where it was written.
#[derive(Debug)]
pub struct FleetOutcome {
    pub fleet: Fleet,
    pub out_dir: PathBuf,
}

pub fn run(cfg: &FleetConfig) -> crate::Result<FleetOutcome> {
    crate::report::folder::check_against_inputs(&cfg.out, &cfg.dirs)?;
    let fleet = fleet::build(&cfg.dirs)?;
    let files: Vec<(String, Cow<[u8]>)> = fleet::render::files(&fleet)?
        .into_iter()
        .map(|(n, b)| (n, Cow::Owned(b)))
        .collect();
    crate::report::folder::write_folder(&cfg.out, &files, cfg.force)?;
    Ok(FleetOutcome {
        fleet,
        out_dir: cfg.out.clone(),
    })
}
