//! What the scenario tests share: the generator (examples/gen_scenarios,
//! included by path), a scenario generated into a folder, the tool run on
//! one, and readers for the truth's JSON.
//!
//! Not part of `common/mod.rs`, which every test binary builds: only the
//! scenario tests include it, with
//! `#[path = "common/scenario.rs"] mod scenario;`.
#![allow(dead_code)]

#[path = "../../examples/gen_scenarios/mod.rs"]
pub mod gen;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Generates the scenario of `seed` (and `shape`, else the seed's) into
/// `dir`; its truth.
pub fn generate(dir: &Path, seed: u64, shape: Option<&str>) -> Value {
    let shape = shape.map(|s| gen::Shape::parse(s).expect("a shape"));
    gen::generate(dir, seed, shape).expect("generate")
}

/// Runs the built tool on a folder; its summary.json.
pub fn analyze(dir: &Path, out: &Path) -> Value {
    let run = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .arg("analyze")
        .arg(dir)
        .arg("--out")
        .arg(out)
        .args(["--force", "--quiet"])
        .output()
        .expect("run postmortem");
    assert!(
        run.status.success(),
        "postmortem analyze {}: {}\n{}",
        dir.display(),
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

/// A count in a truth or a summary.json.
pub fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// A string in a truth or a summary.json; empty when absent.
pub fn st(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}
