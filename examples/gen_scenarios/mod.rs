//! A seeded generator of varied blacklisting incidents on a Plesk-like
//! Postfix server, with their exact ground truth.
//!
//! A scenario is drawn from the seed (and an optional shape): the server,
//! its mailboxes and scripts, ordinary traffic, one or more spam sources,
//! the receivers that list the server and when, noise that must not be
//! taken for a listing, decoys. The simulation writes the rotated maillogs,
//! a `postqueue -p` dump at the end of the logs, and `truth.json` /
//! `TRUTH.md`, whose counts are kept while the lines are written.
//!
//! The module is shared with the tests (`tests/common/scenario.rs` and
//! `tests/fleet.rs`) through `#[path]`; it needs only std, flate2,
//! serde_json and the product's calendar.

pub mod clock;
mod deliver;
pub mod dump;
pub mod plan;
pub mod replies;
pub mod rng;
pub mod sim;
pub mod sink;
pub mod stage;
pub mod tally;
pub mod truth;
pub mod world;

use std::io;
use std::path::Path;

use serde_json::Value;

pub use plan::Shape;

/// Names of the shapes, for `--shape`.
pub fn shape_names() -> Vec<&'static str> {
    Shape::ALL.iter().map(|s| s.name()).collect()
}

/// The shape a seed picks when none is given.
pub fn shape_of_seed(seed: u64) -> Shape {
    let mut r = rng::Rng::new(seed ^ 0x5A5A);
    *r.pick(&Shape::ALL)
}

/// Generates a scenario into `out` (created if missing; earlier files of a
/// scenario in it are replaced) and returns its truth.
pub fn generate(out: &Path, seed: u64, shape: Option<Shape>) -> io::Result<Value> {
    std::fs::create_dir_all(out)?;
    for e in std::fs::read_dir(out)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with("mail.log") {
            std::fs::remove_file(e.path())?;
        }
    }
    let shape = shape.unwrap_or_else(|| shape_of_seed(seed));
    let mut rng = rng::Rng::new(seed);
    let mut world_rng = rng.fork(1);
    let mut plan_rng = rng.fork(2);
    let sim_rng = rng.fork(3);
    let mut w = world::World::build(&mut world_rng);
    let plan = plan::draw(&mut plan_rng, shape, &mut w);
    let mut sim = sim::Sim::new(seed, plan, w, sim_rng);
    sim.run();
    let mut live: Vec<&sim::Msg> = sim.live.values().collect();
    live.sort_by(|a, b| a.qid.cmp(&b.qid));
    let (text, queue) = dump::render(&live);
    std::fs::write(out.join("postqueue-p.txt"), text)?;
    // Messages still queued count as deferred if a deferral of theirs is in the logs.
    let still = sim.live.values().filter(|m| m.deferred_seen).count() as u64;
    sim.tally.totals.deferred_messages += still;
    let files = sim.sink.finish(out)?;
    let truth = truth::build(&sim, files, queue);
    let mut text = serde_json::to_string_pretty(&truth).map_err(io::Error::other)?;
    text.push('\n');
    std::fs::write(out.join("truth.json"), text)?;
    std::fs::write(out.join("TRUTH.md"), truth::markdown(&truth))?;
    Ok(truth)
}
