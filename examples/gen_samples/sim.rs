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
//! The module is shared with `tests/generator.rs` through `#[path]`, so it
//! holds no nested module files and needs only std, flate2 and serde_json.

use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------
// Configuration

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

// ---------------------------------------------------------------------------
// PRNG: SplitMix64, small and good enough for traffic shapes.

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in lo..=hi.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next_u64() % xs.len() as u64) as usize]
    }
    /// Exponential with the given mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.f64()).ln()
    }
}

// ---------------------------------------------------------------------------
// Time: milliseconds of wall clock since 2025-12-27T00:00:00.

const SEC: i64 = 1000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
/// Days since 1970-01-01 of 2025-12-27, the simulation's day 0.
const EPOCH_DAYS: i64 = 20449;

/// The product's own calendar arithmetic, so the generator and the parser
/// cannot disagree about a date.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let (y, m, d) = postmortem::time::civil_from_days(z);
    (i64::from(y), m, d)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

/// `Dec 29 09:40:12` (day padded with a space).
fn syslog_stamp(t: i64) -> String {
    let days = t.div_euclid(DAY);
    let (_, m, d) = civil_from_days(EPOCH_DAYS + days);
    let s = t.div_euclid(SEC) % 86400;
    format!(
        "{} {:>2} {:02}:{:02}:{:02}",
        MONTHS[m as usize - 1],
        d,
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// `2025-12-29T09:40:12`.
pub fn iso(t: i64) -> String {
    let days = t.div_euclid(DAY);
    let (y, m, d) = civil_from_days(EPOCH_DAYS + days);
    let s = t.div_euclid(SEC) % 86400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// `Mon Dec 29 09:40:12`, as `postqueue -p` shows arrival times.
fn queue_stamp(t: i64) -> String {
    let days = EPOCH_DAYS + t.div_euclid(DAY);
    format!(
        "{} {}",
        WEEKDAYS[days.rem_euclid(7) as usize],
        syslog_stamp(t)
    )
}

/// Hour of day 0..24 and day index of a time.
fn hour_of(t: i64) -> (i64, i64) {
    (t.rem_euclid(DAY) / HOUR, t.div_euclid(DAY))
}

/// Postfix's delay formatting: two significant digits below ten seconds.
fn fmt_delay(out: &mut String, secs: f64) {
    if secs < 0.005 {
        out.push('0');
    } else if secs < 1.0 {
        let s = format!("{secs:.2}");
        out.push_str(s.trim_end_matches('0').trim_end_matches('.'));
    } else if secs < 10.0 {
        let s = format!("{secs:.1}");
        out.push_str(s.trim_end_matches('0').trim_end_matches('.'));
    } else {
        let _ = write!(out, "{}", secs.round() as i64);
    }
}

// ---------------------------------------------------------------------------
// The world: hosts, domains, people.

const HOST: &str = "mx1";
const FQDN: &str = "mx1.hosting-example.net";
const OUR_IP: &str = "198.51.100.25";
const FILTER_RELAY: &str = "relay=127.0.0.1[127.0.0.1]:10024";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    Local,
    Gmail,
    Microsoft,
    Yahoo,
    Generic,
}

/// A receiver-side condition that lasts a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listing {
    Spamhaus,
    Microsoft,
    GmailRate,
    Spamcop,
    Barracuda,
}

impl Listing {
    fn list(self) -> &'static str {
        match self {
            Listing::Spamhaus => "zen.spamhaus.org",
            Listing::Microsoft => "microsoft",
            Listing::GmailRate => "gmail",
            Listing::Spamcop => "bl.spamcop.net",
            Listing::Barracuda => "b.barracudacentral.org",
        }
    }
    fn cause(self) -> &'static str {
        match self {
            Listing::GmailRate => "rate_limited",
            _ => "blacklisted",
        }
    }
}

#[derive(Debug, Clone)]
struct Domain {
    name: String,
    mx: String,
    ip: String,
    provider: Provider,
    greylist: bool,
    dead: bool,
    listing: Option<Listing>,
}

#[derive(Debug, Clone)]
struct Contact {
    addr: String,
    dom: usize,
    unknown: bool,
    full: bool,
}

const FIRST: [&str; 24] = [
    "anna", "ben", "clara", "david", "eva", "felix", "greta", "hugo", "ida", "jonas", "karin",
    "lukas", "marie", "nils", "olga", "paul", "rita", "stefan", "tina", "uwe", "vera", "walter",
    "yara", "zoe",
];
const LAST: [&str; 20] = [
    "weber",
    "schmidt",
    "meyer",
    "fischer",
    "wagner",
    "becker",
    "hoffmann",
    "koch",
    "richter",
    "klein",
    "wolf",
    "neumann",
    "braun",
    "zimmermann",
    "krause",
    "martin",
    "dubois",
    "rossi",
    "jansen",
    "novak",
];
const W1: [&str; 12] = [
    "alpen", "nord", "sun", "blue", "green", "star", "metro", "city", "euro", "tech", "river",
    "oak",
];
const W2: [&str; 8] = [
    "mail", "net", "web", "shop", "media", "haus", "works", "trade",
];
const TLDS: [&str; 7] = [".de", ".com", ".net", ".fr", ".it", ".nl", ".at"];

// Traffic sources, by index.
const SRC_SASL: usize = 0; // ordinary mailboxes, one source per user (6)
const N_SASL: usize = 6;
const SRC_SALES: usize = 6;
const SRC_NEWS: usize = 7;
const SRC_ORDERS: usize = 8;
const SRC_WWW: usize = 9;
const SRC_INBOUND: usize = 10;
const SRC_INBOUND_REJECT: usize = 11;
const SRC_MIKE: usize = 12; // the compromised mailbox, legit and then spam
const SRC_SCRIPT: usize = 13; // the hacked site script
const SRC_BRUTE: usize = 14; // password guessing against mike
const SRC_BOTS: usize = 15; // background SASL guessing noise
const SRC_IMAP: usize = 16; // dovecot logins
const N_SRC: usize = 17;

const SASL_USERS: [&str; N_SASL] = [
    "alice@shop-example.com",
    "bob@shop-example.com",
    "carol@bakery-example.net",
    "dan@bakery-example.net",
    "erin@studio-example.org",
    "frank@studio-example.org",
];
const MIKE: &str = "mike@studio-example.org";
const SALES: &str = "sales@shop-example.com";
const NEWS_UID: u32 = 10002;
const SCRIPT_UID: u32 = 10005;

/// The staged story's times, drawn once from the seed.
#[derive(Debug, Clone)]
struct Story {
    start: i64,
    end: i64,
    brute_start: i64,
    brute_end: i64,
    burst_start: i64,
    burst_end: i64,
    hold_at: i64,
    script_start: i64,
    script_end: i64,
    filter_down: (i64, i64),
    dns_down: (i64, i64),
    port25: (i64, i64),
    /// (listing, start, end or None for "still at the end of the logs").
    listings: Vec<(Listing, i64, Option<i64>)>,
}

impl Story {
    fn draw(rng: &mut Rng) -> Story {
        let j = |rng: &mut Rng, mins: u64| rng.range(0, mins * 60) as i64 * SEC;
        let start = 6 * HOUR + 25 * MIN + 5 * SEC + j(rng, 0);
        let end = 7 * DAY + 10 * HOUR + 20 * MIN + j(rng, 20);
        let brute_start = DAY + 22 * HOUR + j(rng, 30);
        let burst_start = 2 * DAY + 9 * HOUR + 30 * MIN + j(rng, 20);
        let burst_end = burst_start + 3 * HOUR + 30 * MIN + j(rng, 10);
        let script_start = 5 * DAY + 2 * HOUR + j(rng, 30);
        let script_end = script_start + 2 * HOUR + 30 * MIN + j(rng, 10);
        let fd = 3 * DAY + 10 * HOUR + j(rng, 20);
        let dd = 4 * DAY + 14 * HOUR + 20 * MIN + j(rng, 20);
        let pd = 6 * DAY + 9 * HOUR + j(rng, 20);
        let listings = vec![
            (
                Listing::Spamhaus,
                burst_start + 45 * MIN + j(rng, 5),
                Some(3 * DAY + 16 * HOUR + j(rng, 30)),
            ),
            (Listing::Microsoft, burst_start + 60 * MIN + j(rng, 5), None),
            (
                Listing::GmailRate,
                burst_start + 75 * MIN + j(rng, 5),
                Some(2 * DAY + 23 * HOUR + j(rng, 20)),
            ),
            (
                Listing::Spamcop,
                burst_start + 90 * MIN + j(rng, 5),
                Some(3 * DAY + 12 * HOUR + j(rng, 20)),
            ),
            (
                Listing::Barracuda,
                script_start + 40 * MIN + j(rng, 5),
                None,
            ),
        ];
        Story {
            start,
            end,
            brute_start,
            brute_end: brute_start + 3 * HOUR + 20 * MIN,
            burst_start,
            burst_end,
            hold_at: burst_end + 25 * MIN + j(rng, 5),
            script_start,
            script_end,
            filter_down: (fd, fd + HOUR + 45 * MIN + j(rng, 10)),
            dns_down: (dd, dd + HOUR + 15 * MIN + j(rng, 10)),
            port25: (pd, pd + HOUR + 30 * MIN + j(rng, 10)),
            listings,
        }
    }

    fn listing_active(&self, l: Listing, t: i64) -> bool {
        self.listings
            .iter()
            .any(|&(x, s, e)| x == l && t >= s && e.is_none_or(|e| t < e))
    }
}

// ---------------------------------------------------------------------------
// Queue state.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)] // the user index documents who sent; only equality is read
enum Origin {
    Sasl(usize),
    Sales,
    Mike,
    Uid(u32),
    Inbound,
    Bounce,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for the hand-off to the content filter.
    PreFilter,
    /// Re-queued by the filter (or a bounce): real delivery.
    Deliver,
}

#[derive(Debug, Clone)]
struct Rcpt {
    addr: String,
    dom: usize,
    unknown: bool,
    full: bool,
    done: bool,
    bounced: bool,
    last_reason: Option<String>,
}

#[derive(Debug, Clone)]
struct Msg {
    qid: String,
    stage: Stage,
    sender: String,
    origin: Origin,
    rcpts: Vec<Rcpt>,
    /// When the message first entered the queue (delay= counts from here).
    arrival: i64,
    /// When the current queue file was made (postqueue's arrival time).
    queued: i64,
    size: u64,
    msgid: String,
    attempts: u32,
    deferred_ever: bool,
    held: bool,
    spam: bool,
    last_cause: Option<&'static str>,
}

#[derive(Debug)]
enum Ev {
    Source(usize),
    Attempt(u64),
    Hold,
    FilterBack,
    /// Hourly cron (false) or cron.daily, which runs logrotate (true).
    Cron(bool),
    /// A line written later, e.g. a dovecot logout.
    Line(&'static str, String),
}

struct Sched {
    t: i64,
    seq: u64,
    ev: Ev,
}
impl PartialEq for Sched {
    fn eq(&self, o: &Self) -> bool {
        (self.t, self.seq) == (o.t, o.seq)
    }
}
impl Eq for Sched {}
impl PartialOrd for Sched {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Sched {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        // Min-heap on (time, sequence).
        (o.t, o.seq).cmp(&(self.t, self.seq))
    }
}

// ---------------------------------------------------------------------------
// Output: rotated, gzipped in a second thread.

enum Chunk {
    Data(Vec<u8>),
    Segment(PathBuf),
}

struct Sink {
    tx: Option<mpsc::SyncSender<Chunk>>,
    worker: Option<thread::JoinHandle<io::Result<()>>>,
    buf: Vec<u8>,
    dir: PathBuf,
    segments: Vec<SegInfo>,
    next_rotation: i64,
    max_lines: u64,
    stamp_sec: i64,
    stamp: String,
}

#[derive(Debug, Clone)]
struct SegInfo {
    tmp: PathBuf,
    lines: u64,
    first: i64,
    last: i64,
}

impl Sink {
    fn new(dir: &Path, level: u32, max_lines: u64, first_rotation: i64) -> Sink {
        let (tx, rx) = mpsc::sync_channel::<Chunk>(8);
        let worker = thread::spawn(move || -> io::Result<()> {
            let mut enc: Option<GzEncoder<BufWriter<File>>> = None;
            for c in rx {
                match c {
                    Chunk::Segment(p) => {
                        if let Some(e) = enc.take() {
                            e.finish()?.flush()?;
                        }
                        let f = BufWriter::with_capacity(1 << 20, File::create(&p)?);
                        enc = Some(GzEncoder::new(f, Compression::new(level)));
                    }
                    Chunk::Data(d) => {
                        if let Some(e) = enc.as_mut() {
                            e.write_all(&d)?;
                        }
                    }
                }
            }
            if let Some(e) = enc.take() {
                e.finish()?.flush()?;
            }
            Ok(())
        });
        Sink {
            tx: Some(tx),
            worker: Some(worker),
            buf: Vec::with_capacity(1 << 21),
            dir: dir.to_path_buf(),
            segments: Vec::new(),
            next_rotation: first_rotation,
            max_lines,
            stamp_sec: i64::MIN,
            stamp: String::new(),
        }
    }

    /// A stand-in left behind when the real sink is finished.
    fn closed() -> Sink {
        Sink {
            tx: None,
            worker: None,
            buf: Vec::new(),
            dir: PathBuf::new(),
            segments: Vec::new(),
            next_rotation: 0,
            max_lines: 0,
            stamp_sec: 0,
            stamp: String::new(),
        }
    }

    fn send(&mut self, c: Chunk) -> io::Result<()> {
        let tx = self.tx.as_ref().expect("sink open");
        tx.send(c)
            .map_err(|_| io::Error::other("gzip writer thread stopped"))
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let d = std::mem::replace(&mut self.buf, Vec::with_capacity(1 << 21));
            self.send(Chunk::Data(d))?;
        }
        Ok(())
    }

    fn new_segment(&mut self, t: i64) -> io::Result<()> {
        self.flush_buf()?;
        let p = self.dir.join(format!(".seg-{:05}.gz", self.segments.len()));
        self.segments.push(SegInfo {
            tmp: p.clone(),
            lines: 0,
            first: t,
            last: t,
        });
        self.send(Chunk::Segment(p))
    }

    /// Starts a line at time `t`: rotates if due and writes the syslog
    /// header; the caller appends the message text and a newline.
    fn begin(&mut self, t: i64, prog: &str, pid: u32) -> io::Result<&mut Vec<u8>> {
        let rotate_now = match self.segments.last() {
            None => true,
            Some(s) => t >= self.next_rotation || s.lines >= self.max_lines,
        };
        if rotate_now {
            while t >= self.next_rotation {
                self.next_rotation += DAY;
            }
            self.new_segment(t)?;
        }
        let s = self.segments.last_mut().expect("segment");
        s.lines += 1;
        s.last = t;
        let sec = t.div_euclid(SEC);
        if sec != self.stamp_sec {
            self.stamp_sec = sec;
            self.stamp = syslog_stamp(t);
        }
        self.buf.extend_from_slice(self.stamp.as_bytes());
        self.buf.push(b' ');
        self.buf.extend_from_slice(HOST.as_bytes());
        self.buf.push(b' ');
        self.buf.extend_from_slice(prog.as_bytes());
        if pid != 0 {
            let _ = write!(self.buf, "[{pid}]");
        }
        self.buf.extend_from_slice(b": ");
        if self.buf.len() > (1 << 21) {
            self.flush_buf()?;
        }
        Ok(&mut self.buf)
    }

    fn finish(mut self) -> io::Result<Vec<SegInfo>> {
        self.flush_buf()?;
        drop(self.tx.take());
        if let Some(w) = self.worker.take() {
            w.join()
                .map_err(|_| io::Error::other("gzip writer thread panicked"))??;
        }
        Ok(self.segments)
    }
}

// ---------------------------------------------------------------------------
// Ground-truth counters.

#[derive(Debug, Default, Clone)]
struct CauseCount {
    deferral_events: u64,
    bounces: u64,
    expired: u64,
    example: Option<String>,
}

#[derive(Debug, Default)]
struct Counts {
    received: u64,
    delivered: u64,
    deferral_events: u64,
    deferred_messages: u64,
    bounced: u64,
    expired: u64,
    rejected: u64,
    held: u64,
    /// Recipients amavis blocked as spam: dropped, or kept in quarantine.
    discarded: u64,
    quarantined: u64,
    postfix_lines: u64,
    other_lines: u64,
    causes: BTreeMap<&'static str, CauseCount>,
    /// Per listing: first and last line time seen, deferrals, bounces.
    listing_seen: BTreeMap<&'static str, (i64, i64, u64, u64)>,
    culprit_msgs: BTreeMap<&'static str, (u64, u64)>,
    culprit_ips: BTreeMap<&'static str, Vec<String>>,
    failed_logins: u64,
    newsletter_per_day: BTreeMap<i64, u64>,
}

// ---------------------------------------------------------------------------
// The simulation.

struct Pids {
    next: u32,
    cur: HashMap<&'static str, u32>,
}

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

    fn add_domain(&mut self, name: &str, mx: &str, ip: &str, p: Provider) -> usize {
        let i = self.domains.len();
        self.domains.push(Domain {
            name: name.to_string(),
            mx: mx.to_string(),
            ip: ip.to_string(),
            provider: p,
            greylist: false,
            dead: false,
            listing: None,
        });
        self.dom_index.insert(name.to_string(), i);
        i
    }

    fn build_world(&mut self) {
        for d in [
            "shop-example.com",
            "bakery-example.net",
            "studio-example.org",
            "oldblog-example.org",
            "mx1.hosting-example.net",
        ] {
            self.add_domain(d, FQDN, OUR_IP, Provider::Local);
        }
        let g = self.add_domain(
            "gmail.com",
            "gmail-smtp-in.l.google.com",
            "142.250.27.26",
            Provider::Gmail,
        );
        self.domains[g].listing = Some(Listing::GmailRate);
        let g2 = self.add_domain(
            "googlemail.com",
            "gmail-smtp-in.l.google.com",
            "142.250.27.27",
            Provider::Gmail,
        );
        self.domains[g2].listing = Some(Listing::GmailRate);
        for (d, ip) in [
            ("outlook.com", "52.101.68.17"),
            ("hotmail.com", "52.101.73.4"),
        ] {
            let mx = format!("{}.olc.protection.outlook.com", d.replace('.', "-"));
            let i = self.add_domain(d, &mx, ip, Provider::Microsoft);
            self.domains[i].listing = Some(Listing::Microsoft);
        }
        self.add_domain(
            "yahoo.com",
            "mta5.am0.yahoodns.net",
            "67.195.204.72",
            Provider::Yahoo,
        );
        self.add_domain(
            "web.de",
            "mx-ha03.web.de",
            "212.227.15.10",
            Provider::Generic,
        );
        self.add_domain(
            "gmx.de",
            "mx00.emig.gmx.net",
            "212.227.17.5",
            Provider::Generic,
        );
        for (d, mx, ip, l) in [
            (
                "kabelnet-example.de",
                "mx.kabelnet-example.de",
                "192.0.2.31",
                Listing::Spamhaus,
            ),
            (
                "telco-example.fr",
                "mx1.telco-example.fr",
                "192.0.2.32",
                Listing::Spamhaus,
            ),
            (
                "bigisp-example.net",
                "mx.bigisp-example.net",
                "192.0.2.33",
                Listing::Spamcop,
            ),
            (
                "corp-example.com",
                "mail.corp-example.com",
                "192.0.2.34",
                Listing::Barracuda,
            ),
        ] {
            let i = self.add_domain(d, mx, ip, Provider::Generic);
            self.domains[i].listing = Some(l);
        }
        let k = self.add_domain(
            "kmu-example.ch",
            "mail.kmu-example.ch",
            "192.0.2.35",
            Provider::Generic,
        );
        self.domains[k].greylist = true;
        let dead = self.add_domain(
            "deadshop-example.com",
            "mail.deadshop-example.com",
            "203.0.113.77",
            Provider::Generic,
        );
        self.domains[dead].dead = true;
        // Ordinary other domains.
        let mut generic = Vec::new();
        for a in W1 {
            for b in W2 {
                if self.rng.chance(0.35) {
                    let tld = *self.rng.pick(&TLDS);
                    let name = format!("{a}{b}{tld}");
                    if self.dom_index.contains_key(&name) {
                        continue;
                    }
                    let ip = format!(
                        "{}.{}",
                        self.rng.pick(&["203.0.113", "198.51.100", "192.0.2"]),
                        self.rng.range(40, 250)
                    );
                    let mx = if self.rng.chance(0.5) {
                        format!("mx.{name}")
                    } else {
                        format!("mail.{name}")
                    };
                    generic.push(self.add_domain(&name, &mx, &ip, Provider::Generic));
                }
            }
        }
        let big: Vec<usize> = (5..self.domains.len())
            .filter(|&i| !self.domains[i].dead && !self.domains[i].greylist)
            .collect();
        self.spam_domains = big.clone();

        self.local_users = SASL_USERS
            .iter()
            .chain(
                [
                    MIKE,
                    SALES,
                    "info@oldblog-example.org",
                    "office@shop-example.com",
                ]
                .iter(),
            )
            .map(|s| s.to_string())
            .collect();

        // Contact lists: mostly the big providers and a few partners; one
        // contact at the dead shop, one at the greylisting firm, one full box.
        for u in 0..N_SASL + 1 {
            let mut list = Vec::new();
            for _ in 0..30 {
                let dom = if self.rng.chance(0.55) {
                    big[(self.rng.next_u64() % 9) as usize]
                } else {
                    *self.rng.pick(&big)
                };
                list.push(self.person(dom, false));
            }
            list.push(self.person(k, false));
            if u % 2 == 0 {
                list.push(self.person(dead, false));
            }
            // Colleagues on the same server.
            for l in 0..3 {
                let addr = self.local_users[(u + l + 1) % N_SASL].clone();
                let dom = self.dom_of(&addr);
                list.push(Contact {
                    addr,
                    dom,
                    unknown: false,
                    full: false,
                });
            }
            self.contacts.push(list);
        }
        let bigisp = self.dom_index["bigisp-example.net"];
        self.contacts[1].push(Contact {
            addr: "buchhaltung@bigisp-example.net".into(),
            dom: bigisp,
            unknown: false,
            full: true,
        });
        for _ in 0..300 {
            let dom = *self.rng.pick(&big);
            let c = self.person(dom, false);
            self.customers.push(c);
        }
        let c = self.person(dead, false);
        self.customers.push(c);
        for _ in 0..900 {
            let dom = *self.rng.pick(&big);
            let unknown = self.rng.chance(0.006);
            let c = self.person(dom, unknown);
            self.subscribers.push(c);
        }
        for _ in 0..120 {
            let dom = *self.rng.pick(&big);
            let p = self.person(dom, false);
            let host = match self.domains[dom].provider {
                Provider::Gmail => format!("mail-ej1-f{}.google.com", self.rng.range(40, 70)),
                Provider::Microsoft => format!(
                    "mail-{}.outbound.protection.outlook.com",
                    self.rng.pick(&["db8eur05", "am6eur04", "vi1eur06"])
                ),
                _ => self.domains[dom].mx.clone(),
            };
            let ip = format!(
                "{}.{}",
                self.rng
                    .pick(&["209.85.218", "40.107.21", "212.227.126", "203.0.113"]),
                self.rng.range(2, 250)
            );
            self.external_senders.push((p.addr, host, ip));
        }
        for _ in 0..8 {
            let ip = format!(
                "{}.{}.{}.{}",
                self.rng
                    .pick(&["45", "103", "185", "91", "177", "41", "36", "196"]),
                self.rng.range(10, 250),
                self.rng.range(1, 250),
                self.rng.range(2, 250)
            );
            let name = if self.rng.chance(0.5) {
                "unknown".to_string()
            } else {
                format!("ip-{}.static.example-hoster.net", ip.replace('.', "-"))
            };
            self.mike_ips.push((name, ip));
        }
    }

    fn dom_of(&self, addr: &str) -> usize {
        let d = addr.rsplit('@').next().unwrap_or("");
        *self.dom_index.get(d).unwrap_or(&0)
    }

    fn person(&mut self, dom: usize, unknown: bool) -> Contact {
        let f = *self.rng.pick(&FIRST);
        let l = *self.rng.pick(&LAST);
        let addr = match self.rng.range(0, 3) {
            0 => format!("{f}.{l}@{}", self.domains[dom].name),
            1 => format!("{f}{l}{}@{}", self.rng.range(1, 99), self.domains[dom].name),
            2 => format!("{}{l}@{}", &f[..1], self.domains[dom].name),
            _ => format!("{f}_{l}@{}", self.domains[dom].name),
        };
        Contact {
            addr,
            dom,
            unknown,
            full: false,
        }
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

    fn new_qid(&mut self, t: i64) -> String {
        // Postfix reuses short ids: the inode comes back, and so can the
        // microseconds. Reuse one retired days ago now and then.
        if self.rng.chance(0.003) {
            if let Some((rt, q)) = self.retired.front().cloned() {
                if t - rt > 2 * DAY && !self.live_qids.contains(&q) {
                    self.retired.pop_front();
                    self.live_qids.insert(q.clone());
                    return q;
                }
            }
        }
        loop {
            let usec = self.rng.range(0, 999_999);
            let inode = 0xD0500 + self.rng.range(0, 0x2FF);
            let q = format!("{usec:05X}{inode:05X}");
            if self.live_qids.insert(q.clone()) {
                return q;
            }
        }
    }

    fn retire_qid(&mut self, t: i64, q: &str) {
        self.live_qids.remove(q);
        if self.rng.chance(0.05) {
            self.retired.push_back((t, q.to_string()));
            if self.retired.len() > 20_000 {
                self.retired.pop_front();
            }
        }
    }

    // -- rates ---------------------------------------------------------------

    /// Messages (or events) per hour of a source at time t, before scaling.
    fn rate(&self, src: usize, t: i64) -> f64 {
        // Tuned so that scale 1 gives about 50 k lines.
        0.75 * self.base_rate(src, t)
    }

    fn base_rate(&self, src: usize, t: i64) -> f64 {
        let (h, day) = hour_of(t);
        let weekend = matches!(day, 0 | 1 | 7) || day == 5; // Sat, Sun, Sat; Jan 1
        let office = match h {
            8..=17 => 1.0,
            7 | 18..=20 => 0.45,
            _ => 0.08,
        } * if weekend { 0.3 } else { 1.0 };
        let s = &self.story;
        match src {
            SRC_SASL..=5 => 1.1 * office,
            SRC_SALES => 0.9 * office,
            // The newsletter: the same trickle every day, 07:00 to 21:00.
            SRC_NEWS if (7..21).contains(&h) => 9.0,
            SRC_NEWS => 0.0,
            SRC_ORDERS => 0.6 + 0.6 * office,
            SRC_WWW => 0.15,
            SRC_INBOUND => 2.0 + 5.0 * office,
            SRC_INBOUND_REJECT => 0.9,
            SRC_MIKE => {
                if t >= s.burst_start && t < s.burst_end {
                    95.0
                } else {
                    0.5 * office
                }
            }
            SRC_SCRIPT if t >= s.script_start && t < s.script_end => 130.0,
            SRC_BRUTE if t >= s.brute_start && t < s.brute_end => 110.0,
            SRC_BOTS => 2.5,
            SRC_IMAP => 6.0 * office + 0.5,
            _ => 0.0,
        }
    }

    fn next_arrival(&mut self, src: usize, t: i64) {
        let r = self.rate(src, t) * self.cfg.scale;
        let boundary = (t / (10 * MIN) + 1) * 10 * MIN;
        let next = if r <= 0.0 {
            boundary
        } else {
            let dt = (self.rng.exp(3600.0 / r) * 1000.0) as i64 + 1;
            // Memoryless: past a rate change, draw again from there.
            if t + dt >= boundary {
                self.schedule(boundary, Ev::Source(src + 1000));
                return;
            }
            t + dt
        };
        if r <= 0.0 {
            self.schedule(next, Ev::Source(src + 1000));
        } else {
            self.schedule(next, Ev::Source(src));
        }
    }

    // -- run -------------------------------------------------------------------

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

    // -- arrivals ----------------------------------------------------------

    fn arrive(&mut self, src: usize, t: i64) -> io::Result<()> {
        match src {
            SRC_SASL..=5 => {
                let n = if self.rng.chance(0.7) {
                    1
                } else {
                    self.rng.range(2, 3) as usize
                };
                let rc = self.pick_contacts(src, n);
                let ip = format!("203.0.113.{}", 100 + src);
                let host = format!("dyn-{}.dsl.example-isp.net", 100 + src);
                self.submit_sasl(t, Origin::Sasl(src), SASL_USERS[src], &host, &ip, rc, false)
            }
            SRC_SALES => {
                let n = self.rng.range(8, 25) as usize;
                let mut rc = Vec::new();
                for _ in 0..n {
                    let c = self.rng.pick(&self.customers).clone();
                    if !rc.iter().any(|r: &Contact| r.addr == c.addr) {
                        rc.push(c);
                    }
                }
                self.submit_sasl(
                    t,
                    Origin::Sales,
                    SALES,
                    "office.shop-example.com",
                    "198.51.100.77",
                    rc,
                    false,
                )
            }
            SRC_NEWS => {
                let c = self.subscribers[self.news_cursor % self.subscribers.len()].clone();
                self.news_cursor += 1;
                *self.c.newsletter_per_day.entry(t / DAY).or_default() += 1;
                self.pickup(
                    t,
                    NEWS_UID,
                    "newsletter@shop-example.com",
                    None,
                    vec![c],
                    false,
                )
            }
            SRC_ORDERS => {
                let c = self.rng.pick(&self.customers).clone();
                self.pickup(t, 10001, "orders@shop-example.com", None, vec![c], false)
            }
            SRC_WWW => {
                let to = Contact {
                    addr: "office@shop-example.com".into(),
                    dom: 0,
                    unknown: false,
                    full: false,
                };
                self.pickup(
                    t,
                    33,
                    "www-data@mx1.hosting-example.net",
                    Some("www-data"),
                    vec![to],
                    false,
                )
            }
            SRC_INBOUND => self.inbound(t),
            SRC_INBOUND_REJECT => self.inbound_reject(t),
            SRC_MIKE => {
                let s = &self.story;
                if t >= s.burst_start && t < s.burst_end {
                    let n = self.rng.range(4, 10) as usize;
                    let rc = self.spam_rcpts(n);
                    let (host, ip) = self.rng.pick(&self.mike_ips).clone();
                    self.submit_sasl(t, Origin::Mike, MIKE, &host, &ip, rc, true)
                } else if t >= s.burst_end && t < s.burst_end + 2 * HOUR {
                    // Password changed: the spammers keep trying.
                    let (host, ip) = self.rng.pick(&self.mike_ips).clone();
                    self.failed_login(t, &host, &ip, MIKE, true)
                } else {
                    let rc = self.pick_contacts(N_SASL, 1);
                    self.submit_sasl(
                        t,
                        Origin::Mike,
                        MIKE,
                        "dyn-112.dsl.example-isp.net",
                        "203.0.113.112",
                        rc,
                        false,
                    )
                }
            }
            SRC_SCRIPT => {
                let n = self.rng.range(1, 2) as usize;
                let rc = self.spam_rcpts(n);
                self.pickup(
                    t,
                    SCRIPT_UID,
                    "oldblog@mx1.hosting-example.net",
                    Some("oldblog"),
                    rc,
                    true,
                )
            }
            SRC_BRUTE => self.failed_login(t, "unknown", "45.142.120.61", MIKE, true),
            SRC_BOTS => {
                let ip = format!(
                    "{}.{}.{}.{}",
                    self.rng.pick(&["80", "141", "193", "212", "5"]),
                    self.rng.range(1, 250),
                    self.rng.range(1, 250),
                    self.rng.range(1, 250)
                );
                let users = ["admin", "test", "info", "sales", "office", "postmaster"];
                let u = format!(
                    "{}@{}",
                    self.rng.pick(&users),
                    self.rng.pick(&[
                        "shop-example.com",
                        "bakery-example.net",
                        "studio-example.org"
                    ])
                );
                self.failed_login(t, "unknown", &ip, &u, false)
            }
            SRC_IMAP => self.imap_login(t),
            _ => Ok(()),
        }
    }

    fn pick_contacts(&mut self, who: usize, n: usize) -> Vec<Contact> {
        let mut v: Vec<Contact> = Vec::new();
        for _ in 0..n {
            let c = self.rng.pick(&self.contacts[who]).clone();
            if !v.iter().any(|x| x.addr == c.addr) {
                v.push(c);
            }
        }
        v
    }

    fn spam_rcpts(&mut self, n: usize) -> Vec<Contact> {
        let mut v: Vec<Contact> = Vec::new();
        for _ in 0..n {
            // Harvested lists lean on the big webmail providers.
            let dom = if self.rng.chance(0.5) {
                self.spam_domains[(self.rng.next_u64() % 13) as usize]
            } else {
                *self.rng.pick(&self.spam_domains)
            };
            let unknown = self.rng.chance(0.35);
            let c = self.person(dom, unknown);
            if !v.iter().any(|x| x.addr == c.addr) {
                v.push(c);
            }
        }
        v
    }

    #[allow(clippy::too_many_arguments)]
    fn make_msg(
        &mut self,
        t: i64,
        qid: String,
        sender: &str,
        origin: Origin,
        rc: Vec<Contact>,
        spam: bool,
        size: u64,
        stage: Stage,
    ) -> u64 {
        let serial = self.next_serial;
        self.next_serial += 1;
        // Postfix makes the Message-Id of what it creates itself (pickup,
        // bounces); mail clients make their own.
        let stamp = iso(t).replace(['-', 'T', ':'], "");
        let msgid = match origin {
            Origin::Bounce | Origin::Uid(_) => format!("<{stamp}.{qid}@{FQDN}>"),
            _ => format!(
                "<{stamp}.{:08}@{}>",
                self.rng.range(0, 99_999_999),
                sender.rsplit('@').next().unwrap_or(FQDN)
            ),
        };
        let m = Msg {
            qid,
            stage,
            sender: sender.to_string(),
            origin,
            rcpts: rc
                .into_iter()
                .map(|c| Rcpt {
                    addr: c.addr,
                    dom: c.dom,
                    unknown: c.unknown,
                    full: c.full,
                    done: false,
                    bounced: false,
                    last_reason: None,
                })
                .collect(),
            arrival: t,
            queued: t,
            size,
            msgid,
            attempts: 0,
            deferred_ever: false,
            held: false,
            spam,
            last_cause: None,
        };
        self.live.insert(serial, m);
        serial
    }

    /// cleanup + qmgr lines of a new queue file.
    fn enqueue_lines(&mut self, t: i64, serial: u64) -> io::Result<()> {
        let (qid, msgid, sender, size, n) = {
            let m = &self.live[&serial];
            (
                m.qid.clone(),
                m.msgid.clone(),
                m.sender.clone(),
                m.size,
                m.rcpts.len(),
            )
        };
        let p = self.pid("postfix/cleanup", 0.01);
        self.line.clear();
        let _ = write!(self.line, "{qid}: message-id={msgid}");
        self.emit(t, "postfix/cleanup", p)?;
        let p = self.pid("postfix/qmgr", 0.0);
        self.line.clear();
        let _ = write!(
            self.line,
            "{qid}: from=<{sender}>, size={size}, nrcpt={n} (queue active)"
        );
        self.emit(t, "postfix/qmgr", p)
    }

    #[allow(clippy::too_many_arguments)]
    fn submit_sasl(
        &mut self,
        t: i64,
        origin: Origin,
        login: &str,
        host: &str,
        ip: &str,
        rc: Vec<Contact>,
        spam: bool,
    ) -> io::Result<()> {
        if rc.is_empty() {
            return Ok(());
        }
        let prog = if self.rng.chance(0.8) {
            "postfix/submission/smtpd"
        } else {
            "postfix/smtps/smtpd"
        };
        let p = self.pid(prog, 0.15);
        self.line.clear();
        let _ = write!(self.line, "connect from {host}[{ip}]");
        self.emit(t, prog, p)?;
        let qid = self.new_qid(t);
        self.line.clear();
        let _ = write!(
            self.line,
            "{qid}: client={host}[{ip}], sasl_method={}, sasl_username={login}",
            if self.rng.chance(0.7) {
                "PLAIN"
            } else {
                "LOGIN"
            }
        );
        self.emit(t, prog, p)?;
        self.c.received += 1;
        let n = rc.len();
        let size = if spam {
            self.rng.range(2500, 9000)
        } else {
            self.rng.range(1800, 90_000)
        };
        if origin == Origin::Mike {
            let e = self
                .c
                .culprit_msgs
                .entry(if spam { "mike" } else { "mike-legit" })
                .or_default();
            e.0 += 1;
            e.1 += n as u64;
            if spam {
                let ips = self.c.culprit_ips.entry("mike").or_default();
                if !ips.iter().any(|x| x == ip) {
                    ips.push(ip.to_string());
                }
            }
        }
        let serial = self.make_msg(t, qid, login, origin, rc, spam, size, Stage::PreFilter);
        self.enqueue_lines(t, serial)?;
        self.line.clear();
        let _ = write!(
            self.line,
            "disconnect from {host}[{ip}] ehlo=2 starttls=1 auth=1 mail=1 rcpt={n} data=1 quit=1 commands={}",
            n + 6
        );
        self.emit(t, prog, p)?;
        let d = self.rng.range(0, 900) as i64;
        self.schedule(t + d, Ev::Attempt(serial));
        Ok(())
    }

    fn pickup(
        &mut self,
        t: i64,
        uid: u32,
        sender: &str,
        pickup_from: Option<&str>,
        rc: Vec<Contact>,
        spam: bool,
    ) -> io::Result<()> {
        if rc.is_empty() {
            return Ok(());
        }
        let qid = self.new_qid(t);
        let p = self.pid("postfix/pickup", 0.002);
        self.line.clear();
        let _ = write!(
            self.line,
            "{qid}: uid={uid} from=<{}>",
            pickup_from.unwrap_or(sender)
        );
        self.emit(t, "postfix/pickup", p)?;
        self.c.received += 1;
        if uid == SCRIPT_UID {
            let e = self.c.culprit_msgs.entry("script").or_default();
            e.0 += 1;
            e.1 += rc.len() as u64;
        }
        let size = if uid == NEWS_UID {
            self.rng.range(38_000, 46_000)
        } else {
            self.rng.range(900, 6000)
        };
        let serial = self.make_msg(
            t,
            qid,
            sender,
            Origin::Uid(uid),
            rc,
            spam,
            size,
            Stage::PreFilter,
        );
        self.enqueue_lines(t, serial)?;
        let d = self.rng.range(0, 700) as i64;
        self.schedule(t + d, Ev::Attempt(serial));
        Ok(())
    }

    fn inbound(&mut self, t: i64) -> io::Result<()> {
        let (sender, host, ip) = self.rng.pick(&self.external_senders).clone();
        let to = self.rng.pick(&self.local_users[..N_SASL + 2]).clone();
        let dom = self.dom_of(&to);
        let p = self.pid("postfix/smtpd", 0.1);
        self.line.clear();
        let _ = write!(self.line, "connect from {host}[{ip}]");
        self.emit(t, "postfix/smtpd", p)?;
        let qid = self.new_qid(t);
        self.line.clear();
        let _ = write!(self.line, "{qid}: client={host}[{ip}]");
        self.emit(t, "postfix/smtpd", p)?;
        self.c.received += 1;
        let size = self.rng.range(3000, 250_000);
        let rc = vec![Contact {
            addr: to,
            dom,
            unknown: false,
            full: false,
        }];
        let serial = self.make_msg(
            t,
            qid,
            &sender,
            Origin::Inbound,
            rc,
            false,
            size,
            Stage::PreFilter,
        );
        self.enqueue_lines(t, serial)?;
        self.line.clear();
        let _ = write!(
            self.line,
            "disconnect from {host}[{ip}] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7"
        );
        self.emit(t, "postfix/smtpd", p)?;
        let d = self.rng.range(0, 900) as i64;
        self.schedule(t + d, Ev::Attempt(serial));
        Ok(())
    }

    fn inbound_reject(&mut self, t: i64) -> io::Result<()> {
        let p = self.pid("postfix/smtpd", 0.1);
        let ip = format!(
            "{}.{}.{}.{}",
            self.rng.pick(&["37", "77", "94", "185", "193"]),
            self.rng.range(1, 250),
            self.rng.range(1, 250),
            self.rng.range(2, 250)
        );
        let to = self.rng.pick(&self.local_users).clone();
        let helo = format!("{}.example-bulk.net", self.rng.pick(&W1));
        self.line.clear();
        let _ = write!(self.line, "connect from unknown[{ip}]");
        self.emit(t, "postfix/smtpd", p)?;
        self.line.clear();
        if self.rng.chance(0.7) {
            let _ = write!(
                self.line,
                "NOQUEUE: reject: RCPT from unknown[{ip}]: 554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{ip}; from=<promo@{helo}> to=<{to}> proto=ESMTP helo=<{helo}>"
            );
        } else {
            let local = to.rsplit('@').next().unwrap_or("shop-example.com");
            let f = *self.rng.pick(&FIRST);
            let _ = write!(
                self.line,
                "NOQUEUE: reject: RCPT from unknown[{ip}]: 550 5.1.1 <{f}@{local}>: Recipient address rejected: User unknown in virtual mailbox table; from=<news@{helo}> to=<{f}@{local}> proto=ESMTP helo=<{helo}>"
            );
        }
        self.emit(t, "postfix/smtpd", p)?;
        self.c.rejected += 1;
        self.line.clear();
        let _ = write!(
            self.line,
            "disconnect from unknown[{ip}] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4"
        );
        self.emit(t, "postfix/smtpd", p)
    }

    fn failed_login(
        &mut self,
        t: i64,
        host: &str,
        ip: &str,
        user: &str,
        known: bool,
    ) -> io::Result<()> {
        let p = self.pid("postfix/smtpd", 0.1);
        self.line.clear();
        let _ = write!(self.line, "connect from {host}[{ip}]");
        self.emit(t, "postfix/smtpd", p)?;
        let sp = self.pid("plesk_saslauthd", 0.01);
        if !known {
            self.line.clear();
            let _ = write!(
                self.line,
                "No such user '{user}' in mail authorization database"
            );
            self.emit(t, "plesk_saslauthd", sp)?;
        }
        self.line.clear();
        let _ = write!(
            self.line,
            "failed mail authentication attempt for user '{user}' (password len={})",
            self.rng.range(6, 14)
        );
        self.emit(t, "plesk_saslauthd", sp)?;
        self.line.clear();
        let _ = write!(
            self.line,
            "warning: {host}[{ip}]: SASL LOGIN authentication failed: authentication failure, sasl_username={user}"
        );
        self.emit(t, "postfix/smtpd", p)?;
        if user == MIKE {
            self.c.failed_logins += 1;
        }
        self.line.clear();
        let _ = write!(
            self.line,
            "disconnect from {host}[{ip}] ehlo=1 auth=0/1 quit=1 commands=2/3"
        );
        self.emit(t, "postfix/smtpd", p)
    }

    fn imap_login(&mut self, t: i64) -> io::Result<()> {
        let u = self.rng.pick(&SASL_USERS[..]).to_string();
        let mpid = {
            self.pids.next += self.rng.range(1, 30) as u32;
            self.pids.next
        };
        let sess: String = (0..16)
            .map(|_| {
                let c = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                    [(self.rng.next_u64() % 64) as usize];
                c as char
            })
            .collect();
        let rip = format!("203.0.113.{}", self.rng.range(100, 106));
        self.line.clear();
        let _ = write!(
            self.line,
            "imap-login: Login: user=<{u}>, method=PLAIN, rip={rip}, lip={OUR_IP}, mpid={mpid}, TLS, session=<{sess}>"
        );
        self.emit(t, "dovecot", 0)?;
        let text = format!(
            "imap({u})<{mpid}><{sess}>: Logged out in={} out={} deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0",
            self.rng.range(40, 900),
            self.rng.range(400, 90_000)
        );
        let later = t + self.rng.range(1000, 40_000) as i64;
        self.schedule(later, Ev::Line("dovecot", text));
        Ok(())
    }

    fn cron(&mut self, t: i64, daily: bool) -> io::Result<()> {
        let p = {
            self.pids.next += self.rng.range(1, 50) as u32;
            self.pids.next
        };
        self.line.clear();
        if daily {
            // cron.daily runs logrotate two seconds later.
            self.line.push_str(
                "(root) CMD (test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; })",
            );
        } else {
            self.line
                .push_str("(root) CMD (   cd / && run-parts --report /etc/cron.hourly)");
        }
        self.emit(t, "CRON", p)
    }

    // -- delivery -------------------------------------------------------------

    fn attempt(&mut self, serial: u64, t: i64) -> io::Result<()> {
        let Some(m) = self.live.get(&serial) else {
            return Ok(());
        };
        if m.held {
            return Ok(());
        }
        // Expiry: queue lifetime 5 days.
        if m.attempts > 0 && t - m.arrival > 5 * DAY {
            return self.expire(serial, t);
        }
        match m.stage {
            Stage::PreFilter => self.hand_to_filter(serial, t),
            Stage::Deliver => self.deliver(serial, t),
        }
    }

    fn filter_down(&self, t: i64) -> bool {
        t >= self.story.filter_down.0 && t < self.story.filter_down.1
    }

    fn delays(&mut self, t: i64, m_arrival: i64, conn: f64) -> String {
        let total = (t - m_arrival) as f64 / 1000.0 + conn;
        let mut s = String::new();
        s.push_str("delay=");
        fmt_delay(&mut s, total);
        s.push_str(", delays=");
        fmt_delay(&mut s, (t - m_arrival) as f64 / 1000.0);
        s.push('/');
        fmt_delay(&mut s, self.rng.range(0, 3) as f64 / 100.0);
        s.push('/');
        fmt_delay(&mut s, conn * 0.3);
        s.push('/');
        fmt_delay(&mut s, conn * 0.7);
        s
    }

    fn record_deferral(&mut self, serial: u64, cause: &'static str, reason: &str, ri: usize) {
        self.c.deferral_events += 1;
        let cc = self.c.causes.entry(cause).or_default();
        cc.deferral_events += 1;
        if cc.example.is_none() {
            cc.example = Some(reason.to_string());
        }
        if let Some(m) = self.live.get_mut(&serial) {
            m.deferred_ever = true;
            m.last_cause = Some(cause);
            m.rcpts[ri].last_reason = Some(reason.to_string());
        }
    }

    fn record_bounce(&mut self, cause: &'static str, reason: &str) {
        self.c.bounced += 1;
        let cc = self.c.causes.entry(cause).or_default();
        cc.bounces += 1;
        if cc.example.is_none() {
            cc.example = Some(reason.to_string());
        }
    }

    fn hand_to_filter(&mut self, serial: u64, t: i64) -> io::Result<()> {
        let p = self.pid("postfix/smtp", 0.05);
        if self.filter_down(t) {
            self.line.clear();
            self.line
                .push_str("connect to 127.0.0.1[127.0.0.1]:10024: Connection refused");
            self.emit(t, "postfix/smtp", p)?;
            let reason = "connect to 127.0.0.1[127.0.0.1]:10024: Connection refused";
            let n = self.live[&serial].rcpts.len();
            let (qid, arrival) = (self.live[&serial].qid.clone(), self.live[&serial].arrival);
            for ri in 0..n {
                let d = self.delays(t, arrival, 0.0);
                let addr = self.live[&serial].rcpts[ri].addr.clone();
                self.line.clear();
                let _ = write!(
                    self.line,
                    "{qid}: to=<{addr}>, relay=none, {d}, dsn=4.4.1, status=deferred ({reason})"
                );
                self.emit(t, "postfix/smtp", p)?;
                self.record_deferral(serial, "content_filter_down", reason, ri);
            }
            return self.reschedule(serial, t);
        }
        // Some inbound mail is spam amavis blocks: dropped or quarantined.
        if matches!(self.live[&serial].origin, Origin::Inbound) && self.filter_rng.chance(0.12) {
            return self.filter_blocks(serial, t, p);
        }
        // Amavis re-injects first, then answers: the new queue file's lines
        // come before the hand-off's status=sent.
        let new = self.new_qid(t);
        let lp = self.pid("postfix/smtpd#local", 0.02);
        let (old, n, sender, origin, spam) = {
            let m = &self.live[&serial];
            (
                m.qid.clone(),
                m.rcpts.len(),
                m.sender.clone(),
                m.origin,
                m.spam,
            )
        };
        self.line.clear();
        self.line.push_str("connect from localhost[127.0.0.1]");
        self.emit(t, "postfix/smtpd", lp)?;
        self.line.clear();
        let _ = write!(self.line, "{new}: client=localhost[127.0.0.1]");
        self.emit(t, "postfix/smtpd", lp)?;
        {
            let grow = self.rng.range(180, 260);
            let m = self.live.get_mut(&serial).expect("live");
            m.qid = new.clone();
            m.stage = Stage::Deliver;
            m.queued = t;
            m.size += grow;
            m.attempts = 0;
        }
        self.enqueue_lines(t, serial)?;
        let outbound = !matches!(origin, Origin::Inbound);
        if outbound {
            let dp = self.pid("opendkim", 0.0);
            self.line.clear();
            let _ = write!(
                self.line,
                "{new}: DKIM-Signature field added (s=default, d={})",
                sender.rsplit('@').next().unwrap_or(FQDN)
            );
            self.emit(t, "opendkim", dp)?;
        }
        self.line.clear();
        let _ = write!(
            self.line,
            "disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt={n} data=1 quit=1 commands={}",
            n + 4
        );
        self.emit(t, "postfix/smtpd", lp)?;
        let ap = self.pid("amavis", 0.02);
        let first_rcpt = self.live[&serial].rcpts[0].addr.clone();
        let mail_id: String = (0..12)
            .map(|_| (b'a' + (self.rng.next_u64() % 26) as u8) as char)
            .collect();
        let msgid = self.live[&serial].msgid.clone();
        let size = self.live[&serial].size;
        self.line.clear();
        let _ = write!(
            self.line,
            "({ap}-{:02}) Passed {} {} <{sender}> -> <{first_rcpt}>{}, Queue-ID: {old}, Message-ID: {msgid}, mail_id: {mail_id}, Hits: {:.3}, size: {size}, queued_as: {new}, {} ms",
            self.rng.range(1, 99),
            if spam && self.rng.chance(0.3) { "SPAMMY" } else { "CLEAN" },
            if outbound { "{RelayedOutbound}, ORIGINATING LOCAL [127.0.0.1]:41234" } else { "{RelayedInbound}, [127.0.0.1]:41234" },
            if n > 1 { ",..." } else { "" },
            if spam { 4.0 + self.rng.f64() * 1.5 } else { -1.0 + self.rng.f64() * 2.0 },
            self.rng.range(90, 900)
        );
        self.emit(t, "amavis", ap)?;
        let arrival = self.live[&serial].arrival;
        for ri in 0..n {
            let d = self.delays(t, arrival, 0.02);
            let addr = self.live[&serial].rcpts[ri].addr.clone();
            self.line.clear();
            let _ = write!(
                self.line,
                "{old}: to=<{addr}>, {FILTER_RELAY}, {d}, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as {new})"
            );
            self.emit(t, "postfix/smtp", p)?;
        }
        let qp = self.pid("postfix/qmgr", 0.0);
        self.line.clear();
        let _ = write!(self.line, "{old}: removed");
        self.emit(t, "postfix/qmgr", qp)?;
        self.retire_qid(t, &old);
        let d = self.rng.range(10, 1500) as i64;
        self.schedule(t + d, Ev::Attempt(serial));
        Ok(())
    }

    /// Amavis blocks the message as spam: it answers `discarded`, keeps a
    /// copy in quarantine half the time, and nothing is re-injected.
    fn filter_blocks(&mut self, serial: u64, t: i64, p: u32) -> io::Result<()> {
        let quarantine = self.filter_rng.chance(0.5);
        let ap = self.pid("amavis", 0.02);
        let m = self.live[&serial].clone();
        let id = format!("{ap:05}-{:02}", self.filter_rng.range(1, 99));
        let mail_id: String = (0..12)
            .map(|_| (b'a' + (self.filter_rng.next_u64() % 26) as u8) as char)
            .collect();
        self.line.clear();
        let _ = write!(
            self.line,
            "({id}) Blocked SPAM {{DiscardedInbound{}}}, [127.0.0.1]:41234 <{}> -> <{}>{}, {}Queue-ID: {}, Message-ID: {}, mail_id: {mail_id}, Hits: {:.3}, size: {}, {} ms",
            if quarantine { ",Quarantined" } else { "" },
            m.sender,
            m.rcpts[0].addr,
            if m.rcpts.len() > 1 { ",..." } else { "" },
            if quarantine {
                format!("quarantine: spam-{mail_id}, ")
            } else {
                String::new()
            },
            m.qid,
            m.msgid,
            8.0 + self.filter_rng.f64() * 20.0,
            m.size,
            self.filter_rng.range(200, 2500)
        );
        self.emit(t, "amavis", ap)?;
        for r in &m.rcpts {
            let d = self.delays(t, m.arrival, 0.02);
            self.line.clear();
            let _ = write!(
                self.line,
                "{}: to=<{}>, {FILTER_RELAY}, {d}, dsn=2.7.0, status=sent (250 2.7.0 Ok, discarded, id={id} - spam)",
                m.qid, r.addr
            );
            self.emit(t, "postfix/smtp", p)?;
            if quarantine {
                self.c.quarantined += 1;
            } else {
                self.c.discarded += 1;
            }
        }
        let qp = self.pid("postfix/qmgr", 0.0);
        self.line.clear();
        let _ = write!(self.line, "{}: removed", m.qid);
        self.emit(t, "postfix/qmgr", qp)?;
        self.retire_qid(t, &m.qid);
        self.live.remove(&serial);
        // It may have waited for the filter before: it was deferred then.
        if m.deferred_ever {
            self.c.deferred_messages += 1;
        }
        Ok(())
    }

    fn reschedule(&mut self, serial: u64, t: i64) -> io::Result<()> {
        let m = self.live.get_mut(&serial).expect("live");
        m.attempts += 1;
        let k = m.attempts.min(5);
        let backoff = (300 * (1i64 << (k - 1))).min(3600) * SEC;
        let jitter = self.rng.range(0, 240) as i64 * SEC;
        self.schedule(t + backoff + jitter, Ev::Attempt(serial));
        Ok(())
    }

    fn deliver(&mut self, serial: u64, t: i64) -> io::Result<()> {
        // Group pending recipients by domain: one connection each.
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        for (i, r) in self.live[&serial].rcpts.iter().enumerate() {
            if r.done {
                continue;
            }
            match groups.iter_mut().find(|g| g.0 == r.dom) {
                Some(g) => g.1.push(i),
                None => groups.push((r.dom, vec![i])),
            }
        }
        for (dom, idx) in groups {
            self.deliver_group(serial, t, dom, &idx)?;
        }
        let m = &self.live[&serial];
        if m.rcpts.iter().all(|r| r.done) {
            self.finish_msg(serial, t)
        } else {
            self.reschedule(serial, t)
        }
    }

    fn deliver_group(&mut self, serial: u64, t: i64, dom: usize, idx: &[usize]) -> io::Result<()> {
        let d = self.domains[dom].clone();
        let (qid, arrival, sender) = {
            let m = &self.live[&serial];
            (m.qid.clone(), m.arrival, m.sender.clone())
        };
        if d.provider == Provider::Local {
            let p = self.pid("postfix/lmtp", 0.05);
            for &ri in idx {
                let addr = self.live[&serial].rcpts[ri].addr.clone();
                let dl = self.delays(t, arrival, 0.03);
                let sess: String = (0..22)
                    .map(|_| {
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                            [(self.rng.next_u64() % 62) as usize] as char
                    })
                    .collect();
                let msgid = self.live[&serial].msgid.clone();
                self.line.clear();
                let _ = write!(
                    self.line,
                    "lmtp({addr})<{}><{sess}>: msgid={msgid}: saved mail to INBOX",
                    self.rng.range(2000, 90_000)
                );
                self.emit(t, "dovecot", 0)?;
                self.line.clear();
                let _ = write!(
                    self.line,
                    "{qid}: to=<{addr}>, relay={FQDN}[private/dovecot-lmtp], {dl}, dsn=2.0.0, status=sent (250 2.0.0 <{addr}> {sess} Saved)"
                );
                self.emit(t, "postfix/lmtp", p)?;
                self.c.delivered += 1;
                self.live.get_mut(&serial).expect("live").rcpts[ri].done = true;
            }
            return Ok(());
        }
        let relay = format!("{}[{}]:25", d.mx, d.ip);
        let s = &self.story;
        let port25 = t >= s.port25.0 && t < s.port25.1;
        let dns = t >= s.dns_down.0 && t < s.dns_down.1;

        // A destination Postfix marked dead: no connection, postfix/error.
        if let Some((until, reason, cause)) = self.dead_until.get(&dom).cloned() {
            if t < until {
                let p = self.pid("postfix/error", 0.1);
                let reason = format!("delivery temporarily suspended: {reason}");
                for &ri in idx {
                    let addr = self.live[&serial].rcpts[ri].addr.clone();
                    let dl = self.delays(t, arrival, 0.0);
                    self.line.clear();
                    let _ = write!(
                        self.line,
                        "{qid}: to=<{addr}>, relay=none, {dl}, dsn=4.4.1, status=deferred ({reason})"
                    );
                    self.emit(t, "postfix/error", p)?;
                    self.record_deferral(serial, cause, &reason, ri);
                    self.listing_hit(cause, &reason, t, false);
                }
                return Ok(());
            }
        }
        let p = self.pid("postfix/smtp", 0.05);
        let conn_fail: Option<(String, &'static str, &'static str)> = if dns {
            Some((
                format!(
                    "Host or domain name not found. Name service error for name={} type=MX: Host not found, try again",
                    d.name
                ),
                "dns_failure",
                "4.4.3",
            ))
        } else if port25 || d.dead {
            Some((
                format!("connect to {}[{}]:25: Connection timed out", d.mx, d.ip),
                if port25 {
                    "port25_blocked"
                } else {
                    "remote_unavailable"
                },
                "4.4.1",
            ))
        } else if self.rng.chance(0.002) {
            Some((
                format!(
                    "lost connection with {}[{}] while receiving the initial server greeting",
                    d.mx, d.ip
                ),
                "remote_unavailable",
                "4.4.2",
            ))
        } else {
            None
        };
        if let Some((reason, cause, dsn)) = conn_fail {
            let relay_kv = if dsn == "4.4.2" {
                relay.clone()
            } else {
                "none".to_string()
            };
            if dsn == "4.4.1" {
                self.line.clear();
                self.line.push_str(&reason);
                self.emit(t, "postfix/smtp", p)?;
                self.dead_until
                    .insert(dom, (t + 5 * MIN, reason.clone(), cause));
            }
            for &ri in idx {
                let addr = self.live[&serial].rcpts[ri].addr.clone();
                let dl = self.delays(t, arrival, if dsn == "4.4.1" { 30.0 } else { 0.0 });
                self.line.clear();
                let _ = write!(
                    self.line,
                    "{qid}: to=<{addr}>, relay={relay_kv}, {dl}, dsn={dsn}, status=deferred ({reason})"
                );
                self.emit(t, "postfix/smtp", p)?;
                self.record_deferral(serial, cause, &reason, ri);
            }
            return Ok(());
        }
        // Connected.
        if matches!(
            d.provider,
            Provider::Gmail | Provider::Microsoft | Provider::Yahoo
        ) || self.rng.chance(0.3)
        {
            self.line.clear();
            let _ = write!(
                self.line,
                "Trusted TLS connection established to {relay}: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (P-256) server-digest SHA256"
            );
            self.emit(t, "postfix/smtp", p)?;
        }
        let listed = d.listing.filter(|&l| self.story.listing_active(l, t));
        // Barracuda refuses in the greeting: a connection-level deferral.
        if listed == Some(Listing::Barracuda) {
            let reason = format!(
                "host {}[{}] refused to talk to me: 554 5.7.1 Service unavailable; Client host [{OUR_IP}] blocked using b.barracudacentral.org; http://www.barracudanetworks.com/reputation/?pr=1&ip={OUR_IP}",
                d.mx, d.ip
            );
            self.dead_until
                .insert(dom, (t + 4 * MIN, reason.clone(), "blacklisted"));
            for &ri in idx {
                let addr = self.live[&serial].rcpts[ri].addr.clone();
                let dl = self.delays(t, arrival, 0.4);
                self.line.clear();
                let _ = write!(
                    self.line,
                    "{qid}: to=<{addr}>, relay={relay}, {dl}, dsn=4.7.1, status=deferred ({reason})"
                );
                self.emit(t, "postfix/smtp", p)?;
                self.record_deferral(serial, "blacklisted", &reason, ri);
                self.listing_hit("blacklisted", &reason, t, false);
            }
            return Ok(());
        }
        for &ri in idx {
            let (addr, unknown, full) = {
                let r = &self.live[&serial].rcpts[ri];
                (r.addr.clone(), r.unknown, r.full)
            };
            let attempts = self.live[&serial].attempts;
            // (dsn, status deferred?, bounced?, text, cause)
            let host_said = format!("host {}[{}] said:", d.mx, d.ip);
            let outcome: (String, u8, String, &'static str) = if let Some(l) = listed {
                match l {
                    Listing::Spamhaus => (
                        "5.7.1".into(),
                        2,
                        format!("{host_said} 550 5.7.1 Service unavailable; Client host [{OUR_IP}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{OUR_IP} (in reply to RCPT TO command)"),
                        "blacklisted",
                    ),
                    Listing::Microsoft => (
                        "5.7.1".into(),
                        2,
                        format!("{host_said} 550 5.7.1 Unfortunately, messages from [{OUR_IP}] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3140). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [AM4PEPF00027A6C.eurprd04.prod.outlook.com {}.{:03}Z {:016X}] (in reply to MAIL FROM command)", iso(t), self.rng.range(0, 999), self.rng.next_u64()),
                        "blacklisted",
                    ),
                    Listing::GmailRate => (
                        "4.7.0".into(),
                        1,
                        format!("{host_said} 421-4.7.0 [{OUR_IP:<15}15] Our system has detected an unusual rate of 421-4.7.0 unsolicited mail originating from your IP address. To protect our 421-4.7.0 users from spam, mail sent from your IP address has been temporarily 421-4.7.0 rate limited. Please visit 421-4.7.0  https://support.google.com/mail/?p=UnsolicitedRateLimitError to 421 4.7.0 review our Bulk Email Senders Guidelines. {:x}si{}qkb.{} - gsmtp (in reply to end of DATA command)", self.rng.range(0x100000, 0xffffff), self.rng.range(1_000_000, 9_999_999), self.rng.range(100, 999)),
                        "rate_limited",
                    ),
                    Listing::Spamcop => (
                        "4.7.1".into(),
                        1,
                        format!("{host_said} 450 4.7.1 Service unavailable; Client host [{OUR_IP}] blocked using bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?{OUR_IP} (in reply to RCPT TO command)"),
                        "blacklisted",
                    ),
                    Listing::Barracuda => unreachable!("handled at connect"),
                }
            } else if unknown {
                let text = match d.provider {
                    Provider::Gmail => format!("{host_said} 550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. For more information, go to 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser {:x}.{} - gsmtp (in reply to RCPT TO command)", self.rng.range(0x100000, 0xffffff), self.rng.range(10, 99)),
                    Provider::Microsoft => format!("{host_said} 550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [AM4PEPF00027A6C.eurprd04.prod.outlook.com] (in reply to RCPT TO command)"),
                    Provider::Yahoo => format!("{host_said} 554 delivery error: dd This user doesn't have a yahoo.com account ({addr}) [0] - mta{}.mail.ne1.yahoo.com (in reply to end of DATA command)", self.rng.range(1000, 9999)),
                    _ => format!("{host_said} 550 5.1.1 <{addr}>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)"),
                };
                let dsn = match d.provider {
                    Provider::Microsoft => "5.5.0",
                    Provider::Yahoo => "5.0.0",
                    _ => "5.1.1",
                };
                (dsn.into(), 2, text, "unknown_recipient")
            } else if full {
                if attempts >= 3 {
                    ("5.2.2".into(), 2, format!("{host_said} 552 5.2.2 <{addr}>: Recipient address rejected: Mailbox full (in reply to RCPT TO command)"), "mailbox_full")
                } else {
                    ("4.2.2".into(), 1, format!("{host_said} 452 4.2.2 <{addr}>: Recipient address rejected: Mailbox full (in reply to RCPT TO command)"), "mailbox_full")
                }
            } else if d.greylist && {
                let key = (sender.clone(), addr.clone());
                let first = *self.greylist.entry(key).or_insert(t);
                t - first < 5 * MIN
            } {
                (
                    "4.2.0".into(),
                    1,
                    format!("{host_said} 450 4.2.0 <{addr}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/{}.html (in reply to RCPT TO command)", d.name),
                    "greylisted",
                )
            } else {
                let text = match d.provider {
                    Provider::Gmail => format!("250 2.0.0 OK  {} {:x}si{}qkb.{} - gsmtp", 1_766_800_000 + t / 1000, self.rng.range(0x100000, 0xffffff), self.rng.range(1_000_000, 9_999_999), self.rng.range(100, 999)),
                    Provider::Microsoft => format!("250 2.6.0 {} [InternalId={}, Hostname=AM4PR04MB{}.eurprd04.prod.outlook.com] {} bytes in 0.{:03}, {}.{:03} KB/sec Queued mail for delivery", self.live[&serial].msgid, self.rng.range(1_000_000_000_000, 9_999_999_999_999), self.rng.range(1000, 9999), self.live[&serial].size + 2200, self.rng.range(10, 999), self.rng.range(100, 9000), self.rng.range(0, 999)),
                    Provider::Yahoo => "250 ok dirdel".to_string(),
                    _ => {
                        let q: String = (0..11).map(|_| b"0123456789ABCDEF"[(self.rng.next_u64() % 16) as usize] as char).collect();
                        format!("250 2.0.0 Ok: queued as {q}")
                    }
                };
                ("2.0.0".into(), 0, text, "")
            };
            let (dsn, kind, text, cause) = outcome;
            let conn = 0.2 + self.rng.f64() * 1.2;
            let dl = self.delays(t, arrival, conn);
            let status = match kind {
                0 => "sent",
                1 => "deferred",
                _ => "bounced",
            };
            self.line.clear();
            let _ = write!(
                self.line,
                "{qid}: to=<{addr}>, relay={relay}, {dl}, dsn={dsn}, status={status} ({text})"
            );
            self.emit(t, "postfix/smtp", p)?;
            match kind {
                0 => {
                    self.c.delivered += 1;
                    self.live.get_mut(&serial).expect("live").rcpts[ri].done = true;
                }
                1 => {
                    self.record_deferral(serial, cause, &text, ri);
                    self.listing_hit_l(listed, t, false);
                }
                _ => {
                    self.record_bounce(cause, &text);
                    self.listing_hit_l(listed, t, true);
                    let m = self.live.get_mut(&serial).expect("live");
                    m.rcpts[ri].done = true;
                    m.rcpts[ri].bounced = true;
                    m.rcpts[ri].last_reason = Some(text);
                    m.last_cause = Some(cause);
                }
            }
        }
        Ok(())
    }

    fn listing_hit_l(&mut self, l: Option<Listing>, t: i64, bounce: bool) {
        if let Some(l) = l {
            let e = self.c.listing_seen.entry(l.list()).or_insert((t, t, 0, 0));
            e.1 = t;
            if bounce {
                e.3 += 1;
            } else {
                e.2 += 1;
            }
        }
    }

    /// A suspended-destination deferral that repeats a listing's text.
    fn listing_hit(&mut self, cause: &str, reason: &str, t: i64, bounce: bool) {
        if cause == "blacklisted" && reason.contains("barracudacentral") {
            self.listing_hit_l(Some(Listing::Barracuda), t, bounce);
        }
    }

    /// All recipients done: a bounce notice if any bounced, then removal.
    fn finish_msg(&mut self, serial: u64, t: i64) -> io::Result<()> {
        let m = self.live.remove(&serial).expect("live");
        let bounced = m.rcpts.iter().any(|r| r.bounced);
        if bounced && !m.sender.is_empty() {
            self.notify_sender(&m, t)?;
        }
        let qp = self.pid("postfix/qmgr", 0.0);
        self.line.clear();
        let _ = write!(self.line, "{}: removed", m.qid);
        self.emit(t, "postfix/qmgr", qp)?;
        if m.deferred_ever {
            self.c.deferred_messages += 1;
        }
        self.retire_qid(t, &m.qid);
        Ok(())
    }

    fn notify_sender(&mut self, m: &Msg, t: i64) -> io::Result<()> {
        let nq = self.new_qid(t);
        let dom = self.dom_of(&m.sender);
        let dom = if self.domains[dom].name == m.sender.rsplit('@').next().unwrap_or("") {
            dom
        } else {
            // An outside sender we have no table entry for: use a generic one.
            self.spam_domains[self.spam_domains.len() - 1]
        };
        let rc = vec![Contact {
            addr: m.sender.clone(),
            dom,
            unknown: false,
            full: false,
        }];
        let size = 2400 + m.size.min(8000) / 4;
        let serial = self.make_msg(
            t,
            nq.clone(),
            "",
            Origin::Bounce,
            rc,
            false,
            size,
            Stage::Deliver,
        );
        self.enqueue_lines(t, serial)?;
        let bp = self.pid("postfix/bounce", 0.05);
        self.line.clear();
        let _ = write!(
            self.line,
            "{}: sender non-delivery notification: {nq}",
            m.qid
        );
        self.emit(t, "postfix/bounce", bp)?;
        self.schedule(t + 5, Ev::Attempt(serial));
        Ok(())
    }

    fn expire(&mut self, serial: u64, t: i64) -> io::Result<()> {
        let m = self.live.get(&serial).expect("live").clone();
        let qp = self.pid("postfix/qmgr", 0.0);
        self.line.clear();
        if m.sender.is_empty() {
            // A bounce that could not be delivered is just dropped.
            let _ = write!(
                self.line,
                "{}: from=<>, status=expired, returned to sender",
                m.qid
            );
        } else {
            let _ = write!(
                self.line,
                "{}: from=<{}>, status=expired, returned to sender",
                m.qid, m.sender
            );
        }
        self.emit(t, "postfix/qmgr", qp)?;
        self.c.expired += 1;
        let cause = m.last_cause.unwrap_or("unknown");
        self.c.causes.entry(cause).or_default().expired += 1;
        // The pending recipients now count as bounced for the notice.
        let m2 = {
            let mm = self.live.get_mut(&serial).expect("live");
            for r in mm.rcpts.iter_mut() {
                if !r.done {
                    r.done = true;
                    r.bounced = true;
                }
            }
            mm.clone()
        };
        if !m2.sender.is_empty() {
            self.notify_sender(&m2, t)?;
        }
        self.live.remove(&serial);
        self.line.clear();
        let _ = write!(self.line, "{}: removed", m2.qid);
        self.emit(t, "postfix/qmgr", qp)?;
        if m2.deferred_ever {
            self.c.deferred_messages += 1;
        }
        self.retire_qid(t, &m2.qid);
        Ok(())
    }

    fn hold(&mut self, t: i64) -> io::Result<()> {
        // The admin notices the burst and holds what is left of the spam.
        let picked: Vec<u64> = self
            .live
            .iter()
            .filter(|(_, m)| m.origin == Origin::Mike && m.spam && m.deferred_ever && !m.held)
            .map(|(s, _)| *s)
            .take((6.0 * self.cfg.scale).ceil() as usize)
            .collect();
        let p = {
            self.pids.next += 7;
            self.pids.next
        };
        for s in &picked {
            let q = {
                let m = self.live.get_mut(s).expect("live");
                m.held = true;
                m.qid.clone()
            };
            self.line.clear();
            let _ = write!(self.line, "{q}: placed on hold");
            self.emit(t, "postfix/postsuper", p)?;
            self.c.held += 1;
        }
        self.line.clear();
        let _ = write!(self.line, "Placed on hold: {} messages", picked.len());
        self.emit(t, "postfix/postsuper", p)
    }

    fn filter_back(&mut self, t: i64) -> io::Result<()> {
        let p = {
            self.pids.next += 11;
            self.pids.next
        };
        self.line.clear();
        self.line.push_str(
            "starting. /usr/sbin/amavisd-new at mx1.hosting-example.net amavisd-new-2.13.0 (20230106), Unicode aware, LC_CTYPE=\"C.UTF-8\"",
        );
        self.emit(t, "amavis", p)?;
        self.pids.cur.remove("amavis");
        // The admin flushes the queue (postqueue -f) once amavis is back.
        let pending: Vec<u64> = self
            .live
            .iter()
            .filter(|(_, m)| m.stage == Stage::PreFilter && !m.held)
            .map(|(s, _)| *s)
            .collect();
        let flush_at = t + 2 * MIN;
        for (i, s) in pending.into_iter().enumerate() {
            self.schedule(flush_at + (i as i64 % 120) * 500, Ev::Attempt(s));
        }
        Ok(())
    }

    // -- end of run -----------------------------------------------------------

    fn write_queue_dump(&mut self, _end: i64) -> io::Result<Value> {
        let mut out = String::new();
        let mut total = 0u64;
        let mut held = 0u64;
        let mut rcpts = 0u64;
        if self.live.is_empty() {
            out.push_str("Mail queue is empty\n");
        } else {
            out.push_str("-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n");
            for m in self.live.values() {
                let mark = if m.held { '!' } else { ' ' };
                let _ = writeln!(
                    out,
                    "{:<10}{mark}{:>8} {}  {}",
                    m.qid,
                    m.size,
                    queue_stamp(m.queued),
                    if m.sender.is_empty() {
                        "MAILER-DAEMON"
                    } else {
                        &m.sender
                    }
                );
                total += m.size;
                if m.held {
                    held += 1;
                }
                // Recipients grouped by their last reason, as showq does.
                let mut groups: Vec<(Option<String>, Vec<&str>)> = Vec::new();
                for r in m.rcpts.iter().filter(|r| !r.done) {
                    rcpts += 1;
                    match groups.iter_mut().find(|g| g.0 == r.last_reason) {
                        Some(g) => g.1.push(&r.addr),
                        None => groups.push((r.last_reason.clone(), vec![&r.addr])),
                    }
                }
                groups.sort_by_key(|g| g.0.is_none());
                for (reason, addrs) in groups {
                    if let Some(r) = reason {
                        let s = format!("({r})");
                        let _ = writeln!(out, "{s:>78}");
                    }
                    for a in addrs {
                        let _ = writeln!(out, "{:41}{a}", "");
                    }
                }
                out.push('\n');
            }
            let _ = writeln!(
                out,
                "-- {} Kbytes in {} Requests.",
                total.div_ceil(1024),
                self.live.len()
            );
        }
        std::fs::write(self.cfg.out.join("postqueue-p.txt"), out)?;
        Ok(json!({
            "messages": self.live.len(),
            "held": held,
            "recipients": rcpts,
            "deferred_messages": self.live.values().filter(|m| m.deferred_ever).count(),
        }))
    }

    fn write_passwd(&self) -> io::Result<()> {
        let text = "root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
sync:x:4:65534:sync:/bin:/bin/sync
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
systemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin
messagebus:x:100:107::/nonexistent:/usr/sbin/nologin
sshd:x:101:65534::/run/sshd:/usr/sbin/nologin
postfix:x:102:109::/var/spool/postfix:/usr/sbin/nologin
dovecot:x:103:111:Dovecot mail server,,,:/usr/lib/dovecot:/usr/sbin/nologin
dovenull:x:104:112:Dovecot login user,,,:/nonexistent:/usr/sbin/nologin
amavis:x:105:113:AMaViS system user,,,:/var/lib/amavis:/bin/sh
opendkim:x:106:114::/run/opendkim:/usr/sbin/nologin
psaadm:x:998:997:Plesk administrator:/opt/psa/admin:/bin/false
popuser:x:30:31:POP3 service user:/:/bin/false
psaftp:x:997:996:anonftp psa user:/:/bin/false
shopexample:x:10001:1003::/var/www/vhosts/shop-example.com:/bin/false
shopnews:x:10002:1003::/var/www/vhosts/news.shop-example.com:/bin/false
bakery:x:10003:1003::/var/www/vhosts/bakery-example.net:/bin/false
studio:x:10004:1003::/var/www/vhosts/studio-example.org:/bin/false
oldblog:x:10005:1003::/var/www/vhosts/oldblog-example.org:/bin/false
";
        std::fs::write(self.cfg.out.join("passwd"), text)
    }

    fn truth(&self, files: Vec<Value>, queue: Value) -> Value {
        let s = &self.story;
        let c = &self.c;
        let first = files
            .first()
            .and_then(|f| f["first"].as_str())
            .unwrap_or("")
            .to_string();
        let last = files
            .last()
            .and_then(|f| f["last"].as_str())
            .unwrap_or("")
            .to_string();
        let causes: Vec<Value> = c
            .causes
            .iter()
            .map(|(k, v)| {
                json!({
                    "cause": k,
                    "deferral_events": v.deferral_events,
                    "bounces": v.bounces,
                    "expired": v.expired,
                    "example": v.example,
                })
            })
            .collect();
        let mut incidents = vec![
            json!({"cause": "content_filter_down", "start": iso(s.filter_down.0), "end": iso(s.filter_down.1),
                   "detail": "nothing listens on 127.0.0.1:10024 (amavis stopped); queue flushed when it came back"}),
            json!({"cause": "dns_failure", "start": iso(s.dns_down.0), "end": iso(s.dns_down.1),
                   "detail": "resolver down: every remote MX lookup answers 'Host not found, try again'"}),
            json!({"cause": "port25_blocked", "start": iso(s.port25.0), "end": iso(s.port25.1),
                   "detail": "provider drops outbound tcp/25: timeouts to every remote destination at once"}),
        ];
        for &(l, start, end) in &s.listings {
            let receivers: Vec<&str> = self
                .domains
                .iter()
                .filter(|d| d.listing == Some(l))
                .map(|d| d.name.as_str())
                .collect();
            let seen = c.listing_seen.get(l.list());
            let episode = if l == Listing::Barracuda {
                "script-burst"
            } else {
                "mailbox-burst"
            };
            incidents.push(json!({
                "cause": l.cause(),
                "list": l.list(),
                "receivers": receivers,
                "start": iso(start),
                "end": end.map(iso),
                "delisted": end.is_some(),
                "first_seen": seen.map(|x| iso(x.0)),
                "last_seen": seen.map(|x| iso(x.1)),
                "deferrals": seen.map_or(0, |x| x.2),
                "bounces": seen.map_or(0, |x| x.3),
                "episode": episode,
            }));
        }
        let mike = c.culprit_msgs.get("mike").copied().unwrap_or_default();
        let script = c.culprit_msgs.get("script").copied().unwrap_or_default();
        let news_days: Vec<Value> = c
            .newsletter_per_day
            .iter()
            .map(|(d, n)| json!({"date": &iso(d * DAY)[..10], "messages": n}))
            .collect();
        json!({
            "generator": "cargo run --release --example gen_samples",
            "seed": self.cfg.seed,
            "scale": self.cfg.scale,
            "host": HOST,
            "server_ip": OUR_IP,
            "first_line": first,
            "last_line": last,
            "years": [2025, 2026],
            "timezone": "server wall clock, no zone",
            "lines": {
                "total": c.postfix_lines + c.other_lines,
                "postfix": c.postfix_lines,
                "other": c.other_lines,
            },
            "files": files,
            "totals": {
                "received": c.received,
                "delivered": c.delivered,
                "deferral_events": c.deferral_events,
                "deferred_messages": c.deferred_messages,
                "bounced": c.bounced,
                "expired": c.expired,
                "rejected": c.rejected,
                "held": c.held,
                "discarded": c.discarded,
                "quarantined": c.quarantined,
            },
            "causes": causes,
            "incidents": incidents,
            "culprits": [
                {
                    "identity": format!("sasl:{MIKE}"),
                    "kind": "sasl",
                    "episode": "mailbox-burst",
                    "lists": ["zen.spamhaus.org", "microsoft", "gmail", "bl.spamcop.net"],
                    "burst_start": iso(s.burst_start),
                    "burst_end": iso(s.burst_end),
                    "messages": mike.0,
                    "recipients": mike.1,
                    "client_ips": c.culprit_ips.get("mike").cloned().unwrap_or_default(),
                    "failed_logins_before": c.failed_logins,
                    "brute_force_ip": "45.142.120.61",
                    "brute_force_start": iso(s.brute_start),
                },
                {
                    "identity": format!("uid:{SCRIPT_UID}"),
                    "kind": "uid",
                    "episode": "script-burst",
                    "lists": ["b.barracudacentral.org"],
                    "envelope_sender": "oldblog@mx1.hosting-example.net",
                    "burst_start": iso(s.script_start),
                    "burst_end": iso(s.script_end),
                    "messages": script.0,
                    "recipients": script.1,
                },
            ],
            "decoys": [
                {"identity": format!("uid:{NEWS_UID}"), "why": "newsletter@shop-example.com: high volume but the same rate every day (07:00-21:00), clean list", "per_day": news_days},
                {"identity": format!("sasl:{SALES}"), "why": "many legitimate recipients per message, steady office-hours rate, almost no unknown recipients"},
            ],
            "queue_at_end": queue,
        })
    }
}

/// Renames the segments oldest first to Debian's names: the newest plain
/// `mail.log`, the one before plain `mail.log.1`, older ones gzipped with
/// the highest number oldest.
fn name_files(out: &Path, segs: &[SegInfo]) -> io::Result<Vec<Value>> {
    let n = segs.len();
    let mut files = Vec::new();
    for (k, s) in segs.iter().enumerate() {
        let age = n - 1 - k;
        let (name, plain) = match age {
            0 => ("mail.log".to_string(), true),
            1 => ("mail.log.1".to_string(), true),
            a => (format!("mail.log.{a}.gz"), false),
        };
        let dest = out.join(&name);
        if plain {
            let mut dec =
                flate2::read::MultiGzDecoder::new(io::BufReader::new(File::open(&s.tmp)?));
            let mut w = BufWriter::with_capacity(1 << 20, File::create(&dest)?);
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let r = dec.read(&mut buf)?;
                if r == 0 {
                    break;
                }
                w.write_all(&buf[..r])?;
            }
            w.flush()?;
            std::fs::remove_file(&s.tmp)?;
        } else {
            std::fs::rename(&s.tmp, &dest)?;
        }
        // mtime = the last line, as if the server's clock were UTC: what
        // year inference from modification times would see.
        let secs = (EPOCH_DAYS * 86400 + s.last / 1000) as u64;
        let f = File::options().write(true).open(&dest)?;
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))?;
        files.push(json!({
            "name": name,
            "compressed": !plain,
            "lines": s.lines,
            "first": iso(s.first),
            "last": iso(s.last),
        }));
    }
    Ok(files)
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

fn truth_md(t: &Value) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Ground truth of the generated maillogs\n");
    let _ = writeln!(
        s,
        "Seed {}, scale {}. Host `{}` ({}). Lines {} to {} (the span crosses the new year: year-less syslog stamps).\n",
        t["seed"], t["scale"], t["host"].as_str().unwrap_or(""), t["server_ip"].as_str().unwrap_or(""),
        t["first_line"].as_str().unwrap_or(""), t["last_line"].as_str().unwrap_or("")
    );
    let _ = writeln!(
        s,
        "## Totals (the product's counting rules)\n\n| total | value |\n|---|---|"
    );
    if let Some(o) = t["totals"].as_object() {
        for (k, v) in o {
            let _ = writeln!(s, "| {k} | {v} |");
        }
    }
    let _ = writeln!(
        s,
        "\n## Causes\n\n| cause | deferral events | bounces | expired |\n|---|---|---|---|"
    );
    for c in t["causes"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            c["cause"].as_str().unwrap_or(""),
            c["deferral_events"],
            c["bounces"],
            c["expired"]
        );
    }
    let _ = writeln!(s, "\n## Incidents\n\n| cause | list | receivers | start | end | first seen | episode |\n|---|---|---|---|---|---|---|");
    for i in t["incidents"].as_array().into_iter().flatten() {
        let rec: Vec<&str> = i["receivers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str())
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            i["cause"].as_str().unwrap_or(""),
            i["list"].as_str().unwrap_or(""),
            rec.join(", "),
            i["start"].as_str().unwrap_or(""),
            i["end"].as_str().unwrap_or("end of logs"),
            i["first_seen"].as_str().unwrap_or(""),
            i["episode"].as_str().unwrap_or(""),
        );
    }
    let _ = writeln!(s, "\n## Culprits\n\n| identity | kind | episode | burst | messages | recipients |\n|---|---|---|---|---|---|");
    for c in t["culprits"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} to {} | {} | {} |",
            c["identity"].as_str().unwrap_or(""),
            c["kind"].as_str().unwrap_or(""),
            c["episode"].as_str().unwrap_or(""),
            c["burst_start"].as_str().unwrap_or(""),
            c["burst_end"].as_str().unwrap_or(""),
            c["messages"],
            c["recipients"]
        );
    }
    let _ = writeln!(
        s,
        "\n## Decoys (must not rank as spam suspects)\n\n| identity | why |\n|---|---|"
    );
    for d in t["decoys"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "| {} | {} |",
            d["identity"].as_str().unwrap_or(""),
            d["why"].as_str().unwrap_or("")
        );
    }
    let _ = writeln!(
        s,
        "\n## Files (oldest first)\n\n| file | lines | first | last |\n|---|---|---|---|"
    );
    for f in t["files"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            f["name"].as_str().unwrap_or(""),
            f["lines"],
            f["first"].as_str().unwrap_or(""),
            f["last"].as_str().unwrap_or("")
        );
    }
    let q = &t["queue_at_end"];
    let _ = writeln!(
        s,
        "\nQueue at the end (`postqueue-p.txt`): {} messages, {} held, {} recipients.",
        q["messages"], q["held"], q["recipients"]
    );
    s
}
