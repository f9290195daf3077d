//! A seeded simulation of one Plesk-style Postfix server over a week, written
//! out as the rotated maillogs syslog would leave, with the exact ground
//! truth of what it staged.
//!
//! Why a simulation rather than templated lines: the product's counting
//! rules (a message is one message across the content-filter hand-off,
//! deferrals repeat on a backoff, listings hit legitimate mail too) are only
//! exercised when each line follows from a queue state. Every count in the
//! truth is taken while the line is written, never by reading the output.
//!
//! The module is shared with `tests/generator.rs` through `#[path]` to this
//! `mod.rs`, so its files, one per job, sit next to it and both includers
//! find them; it needs only std, flate2, serde_json and the product's
//! calendar. This file holds the simulation's state and its event loop.

mod clock;
mod deliver;
mod dump;
mod filter;
mod queue;
mod replies;
mod rng;
mod sink;
mod story;
mod submit;
mod traffic;
mod truth;
mod world;

use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::io;
use std::path::PathBuf;

use serde_json::Value;

use clock::{DAY, HOUR, MIN, SEC};
use queue::{Ev, Msg, Sched};
use rng::Rng;
use sink::{name_files, Sink};
use story::Story;
use traffic::N_SRC;
use truth::{truth_md, Counts};
use world::{Contact, Domain};

/// What to generate; `scale` multiplies every traffic rate (1.0 gives the
/// committed samples, about 50 k lines).
#[derive(Debug, Clone)]
pub struct Config {
    pub out: PathBuf,
    pub seed: u64,
    pub scale: f64,
    /// A log file is rotated at the daily logrotate run and also when it
    /// reaches this many lines (logrotate `maxsize`).
    pub max_file_lines: u64,
    pub gzip_level: u32,
}

impl Config {
    pub fn new(out: impl Into<PathBuf>, seed: u64, scale: f64) -> Config {
        Config {
            out: out.into(),
            seed,
            scale,
            max_file_lines: 1_500_000,
            // Level 1 keeps multi-GB sets within minutes; the small committed
            // set is worth the better ratio.
            gzip_level: if scale > 5.0 { 1 } else { 6 },
        }
    }
}

/// Lines written at scale 1.0 for the default story, measured; `--lines N`
/// divides by it to pick a scale.
pub const LINES_AT_SCALE_1: f64 = 51_500.0;

struct Pids {
    next: u32,
    cur: HashMap<&'static str, u32>,
}

/// The simulation: the world, the queue, the scheduled events, the open
/// log file and the counters of the truth.
pub struct Sim {
    cfg: Config,
    rng: Rng,
    /// Draws of the content filter's verdicts, apart from the main stream.
    filter_rng: Rng,
    story: Story,
    heap: BinaryHeap<Sched>,
    seq: u64,
    sink: Sink,
    live: BTreeMap<u64, Msg>,
    live_qids: HashSet<String>,
    retired: VecDeque<(i64, String)>,
    next_serial: u64,
    domains: Vec<Domain>,
    dom_index: HashMap<String, usize>,
    contacts: Vec<Vec<Contact>>,
    customers: Vec<Contact>,
    subscribers: Vec<Contact>,
    news_cursor: usize,
    local_users: Vec<String>,
    spam_domains: Vec<usize>,
    external_senders: Vec<(String, String, String)>,
    greylist: HashMap<(String, String), i64>,
    dead_until: HashMap<usize, (i64, String, &'static str)>,
    mike_ips: Vec<(String, String)>,
    pids: Pids,
    c: Counts,
    line: String,
}

impl Sim {
    pub fn new(cfg: Config) -> Sim {
        let mut rng = Rng::new(cfg.seed);
        let story = Story::draw(&mut rng);
        let first_rotation = DAY + 6 * HOUR + 25 * MIN + 3 * SEC;
        let sink = Sink::new(&cfg.out, cfg.gzip_level, cfg.max_file_lines, first_rotation);
        let filter_rng = Rng::new(cfg.seed ^ 0x5eed_f117_e4ed_0001);
        let mut sim = Sim {
            cfg,
            rng,
            filter_rng,
            story,
            heap: BinaryHeap::new(),
            seq: 0,
            sink,
            live: BTreeMap::new(),
            live_qids: HashSet::new(),
            retired: VecDeque::new(),
            next_serial: 0,
            domains: Vec::new(),
            dom_index: HashMap::new(),
            contacts: Vec::new(),
            customers: Vec::new(),
            subscribers: Vec::new(),
            news_cursor: 0,
            local_users: Vec::new(),
            spam_domains: Vec::new(),
            external_senders: Vec::new(),
            greylist: HashMap::new(),
            dead_until: HashMap::new(),
            mike_ips: Vec::new(),
            pids: Pids {
                next: 2100,
                cur: HashMap::new(),
            },
            c: Counts::default(),
            line: String::with_capacity(512),
        };
        sim.pids.next += sim.rng.range(0, 5000) as u32;
        sim.build_world();
        sim
    }

    fn schedule(&mut self, t: i64, ev: Ev) {
        self.seq += 1;
        self.heap.push(Sched {
            t,
            seq: self.seq,
            ev,
        });
    }

    fn pid(&mut self, prog: &'static str, churn: f64) -> u32 {
        let fresh = match self.pids.cur.get(prog) {
            None => true,
            Some(_) => self.rng.chance(churn),
        };
        if fresh {
            self.pids.next += self.rng.range(1, 60) as u32;
            if self.pids.next > 4_000_000 {
                self.pids.next = 1000;
            }
            self.pids.cur.insert(prog, self.pids.next);
        }
        self.pids.cur[prog]
    }

    /// Writes one line; `self.line` holds the text after `prog[pid]: `.
    fn emit(&mut self, t: i64, prog: &'static str, pid: u32) -> io::Result<()> {
        if prog.starts_with("postfix/") {
            self.c.postfix_lines += 1;
        } else {
            self.c.other_lines += 1;
        }
        let buf = self.sink.begin(t, prog, pid)?;
        buf.extend_from_slice(self.line.as_bytes());
        buf.push(b'\n');
        Ok(())
    }

    pub fn run(mut self) -> io::Result<Value> {
        let start = self.story.start;
        for src in 0..N_SRC {
            self.next_arrival(src, start);
        }
        self.schedule(self.story.hold_at, Ev::Hold);
        self.schedule(self.story.filter_down.1, Ev::FilterBack);
        let mut cron = (start / HOUR + 1) * HOUR + 17 * MIN + SEC;
        while cron < self.story.end {
            self.schedule(cron, Ev::Cron(false));
            cron += HOUR;
        }
        let mut daily = DAY + 6 * HOUR + 25 * MIN + SEC;
        while daily < self.story.end {
            self.schedule(daily, Ev::Cron(true));
            daily += DAY;
        }
        while let Some(Sched { t, ev, .. }) = self.heap.pop() {
            if t >= self.story.end {
                break;
            }
            match ev {
                Ev::Source(s) if s >= 1000 => self.next_arrival(s - 1000, t),
                Ev::Source(s) => {
                    self.arrive(s, t)?;
                    self.next_arrival(s, t);
                }
                Ev::Attempt(serial) => self.attempt(serial, t)?,
                Ev::Hold => self.hold(t)?,
                Ev::FilterBack => self.filter_back(t)?,
                Ev::Cron(daily) => self.cron(t, daily)?,
                Ev::Line(prog, text) => {
                    self.line.clear();
                    self.line.push_str(&text);
                    self.emit(t, prog, 0)?;
                }
            }
        }
        let end = self.story.end;
        let queue = self.write_queue_dump(end)?;
        let segs = std::mem::replace(&mut self.sink, Sink::closed()).finish()?;
        let files = name_files(&self.cfg.out, &segs)?;
        // Messages still queued count as deferred if they ever were.
        let still: u64 = self.live.values().filter(|m| m.deferred_ever).count() as u64;
        self.c.deferred_messages += still;
        self.write_passwd()?;
        let truth = self.truth(files, queue);
        Ok(truth)
    }
}

/// Generates the whole set into `cfg.out` (created if missing) and returns
/// the truth, also written as `truth.json` and `TRUTH.md`.
pub fn generate(cfg: &Config) -> io::Result<Value> {
    std::fs::create_dir_all(&cfg.out)?;
    // Old rotations of a previous, longer run would confuse a reader.
    for e in std::fs::read_dir(&cfg.out)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with("mail.log") || name.starts_with(".seg-") {
            std::fs::remove_file(e.path())?;
        }
    }
    let truth = Sim::new(cfg.clone()).run()?;
    let mut text = serde_json::to_string_pretty(&truth).map_err(io::Error::other)?;
    text.push('\n');
    std::fs::write(cfg.out.join("truth.json"), text)?;
    std::fs::write(cfg.out.join("TRUTH.md"), truth_md(&truth))?;
    Ok(truth)
}
