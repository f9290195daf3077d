//! What a queue dump says: what is stuck, why, for how long, whose it is.
//!
//! [`summarize`] fills `model::QueueSummary` (totals by queue, cause, sender
//! and recipient domain, age bands, the oldest messages, and qshape's table
//! in both of its modes). [`qshape`] reproduces Postfix's `qshape` exactly
//! (same buckets, same counts) from a dump instead of the spool, so the two
//! can be checked against each other. [`select`] picks messages for a
//! reviewable `postsuper -d -` input file; nothing here touches a server.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use crate::classify::Classifier;
use crate::model::{KeyCount, QueueShape, QueueShapeRow, QueueSummary, QueuedMessageRow};
use crate::parse::queue::{address_domain, QueueDump, QueueName, QueuedMessage};
use crate::time::{LogTime, TimeFormat, DAY, HOUR, MINUTE, SECOND};

/// qshape's defaults: 10 buckets, the first 5 minutes wide, each next one
/// twice as old; the last has no upper bound.
pub const SHAPE_TICK_MINUTES: u64 = 5;
pub const SHAPE_BUCKETS: usize = 10;
/// qshape's screen width and minimum domain column width.
const SHAPE_WIDTH: usize = 80;
const SHAPE_MIN_DOMAIN_WIDTH: usize = 18;

const TOP: usize = 20;
const ROW_RECIPIENTS: usize = 100;

/// The cause id given to held messages and to messages never tried yet.
pub const HELD: &str = "held";
pub const NEVER_TRIED: &str = "never_tried";

/// qshape's two views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeMode {
    /// Default: one count per recipient, by recipient domain.
    Recipients,
    /// `qshape -s`: one count per message, by sender domain.
    Senders,
}

/// qshape's options, with its defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeOptions {
    /// `-s`: by sender domain instead of recipient domain.
    pub mode: ShapeMode,
    /// `-b`: the number of age buckets (the last has no upper bound).
    pub buckets: usize,
    /// `-t`: the first bucket's age limit, in minutes.
    pub tick_minutes: u64,
    /// `-l`: buckets grow linearly (5, 10, 15 ...) instead of doubling.
    pub linear: bool,
    /// `-p`: also count each parent domain (`.example.com`), TLDs aside.
    pub parents: bool,
    /// `-m`: a parent domain is shown from this many subdomains on.
    pub min_subdomains: u64,
    /// `-w`: the screen width (only wider than 80 counts, as in qshape).
    pub width: usize,
}

impl Default for ShapeOptions {
    fn default() -> Self {
        ShapeOptions {
            mode: ShapeMode::Recipients,
            buckets: SHAPE_BUCKETS,
            tick_minutes: SHAPE_TICK_MINUTES,
            linear: false,
            parents: false,
            min_subdomains: 5,
            width: SHAPE_WIDTH,
        }
    }
}

impl ShapeOptions {
    /// The sender view with the other defaults.
    pub fn senders() -> Self {
        ShapeOptions {
            mode: ShapeMode::Senders,
            ..ShapeOptions::default()
        }
    }

    /// The bucket (1-based, as in qshape.pl) of an age in whole seconds: 1
    /// below one tick, then `2 + floor(log2(age / tick))`, or with `-l`
    /// `1 + floor(age / tick)`, capped at the last.
    pub fn bucket(&self, age_seconds: i64) -> usize {
        let ticks = age_seconds.max(0) as u64 / (60 * self.tick_minutes.max(1));
        let b = if ticks < 1 {
            1
        } else if self.linear {
            usize::try_from(ticks)
                .unwrap_or(usize::MAX)
                .saturating_add(1)
        } else {
            2 + (63 - ticks.leading_zeros()) as usize
        };
        b.min(self.buckets.max(1))
    }

    /// The upper age limit of each bucket but the last, in minutes.
    pub fn bucket_minutes(&self) -> Vec<u64> {
        let mut v = Vec::with_capacity(self.buckets.saturating_sub(1));
        let mut t = self.tick_minutes;
        for _ in 1..self.buckets {
            v.push(t);
            t = if self.linear {
                t.saturating_add(self.tick_minutes)
            } else {
                t.saturating_mul(2)
            };
        }
        v
    }
}

/// qshape's parent of a domain, `-p`: the first label dropped, shown with a
/// leading dot; `None` once only a top-level domain would be left.
pub fn parent_domain(domain: &str) -> Option<String> {
    let d = domain.strip_prefix('.').unwrap_or(domain);
    let dot = d.find('.').filter(|&i| i > 0)?;
    let rest = &d[dot + 1..];
    rest.contains('.').then(|| format!(".{rest}"))
}

/// What the logs know about a queue id: the submitting identity
/// (`sasl:dave@lab.test`, `uid:33`, ...) and, when known, the cause of its
/// last deferral. The lead's correlator supplies it; `None` means the logs
/// never mention that id.
pub type LogLookup<'a> = &'a dyn Fn(&str) -> Option<(String, Option<String>)>;

/// Classifies reason texts once each: a queue repeats the same few texts.
pub struct CauseCache<'a> {
    classifier: &'a Classifier,
    seen: HashMap<String, &'static str>,
}

impl<'a> CauseCache<'a> {
    pub fn new(classifier: &'a Classifier) -> Self {
        CauseCache {
            classifier,
            seen: HashMap::new(),
        }
    }

    pub fn cause_of(&mut self, reason: &str) -> &'static str {
        if let Some(c) = self.seen.get(reason) {
            return c;
        }
        let c = self.classifier.classify(reason).cause.id();
        self.seen.insert(reason.to_string(), c);
        c
    }

    /// One cause per message: `held` for the hold queue, `never_tried` when
    /// no recipient has a reason, else the cause of most recipients (the
    /// first one listed on a tie).
    pub fn message_cause(&mut self, m: &QueuedMessage) -> &'static str {
        if m.queue == QueueName::Hold {
            return HELD;
        }
        let mut counts: Vec<(&'static str, usize)> = Vec::new();
        for r in &m.recipients {
            if let Some(reason) = &r.reason {
                let c = self.cause_of(reason);
                match counts.iter_mut().find(|x| x.0 == c) {
                    Some(x) => x.1 += 1,
                    None => counts.push((c, 1)),
                }
            }
        }
        // max_by_key keeps the last maximum; iterate reversed to keep the first.
        counts
            .iter()
            .rev()
            .max_by_key(|x| x.1)
            .map_or(NEVER_TRIED, |x| x.0)
    }

    /// Every cause the message's recipients show, plus its message cause.
    pub fn all_causes(&mut self, m: &QueuedMessage) -> HashSet<&'static str> {
        let mut set: HashSet<&'static str> = HashSet::new();
        set.insert(self.message_cause(m));
        for r in &m.recipients {
            if let Some(reason) = &r.reason {
                set.insert(self.cause_of(reason));
            }
        }
        set
    }
}

fn age_ms(m: &QueuedMessage, dump_time: LogTime) -> i64 {
    (dump_time.0 - m.arrival.0).max(0)
}

/// The queue summary of `summary.json`, without logs to join.
pub fn summarize(
    dump: &QueueDump,
    dump_time: LogTime,
    source: &str,
    classifier: &Classifier,
    fmt: &TimeFormat,
) -> QueueSummary {
    summarize_joined(dump, dump_time, source, classifier, fmt, None)
}

/// The queue summary, with each queued message joined to what the logs say
/// about its queue id when `logs` is given (`not_in_logs` counts the misses;
/// it stays 0 without logs).
pub fn summarize_joined(
    dump: &QueueDump,
    dump_time: LogTime,
    source: &str,
    classifier: &Classifier,
    fmt: &TimeFormat,
    logs: Option<LogLookup>,
) -> QueueSummary {
    let mut cache = CauseCache::new(classifier);
    let mut by_queue: HashMap<&'static str, KeyCount> = HashMap::new();
    let mut by_cause: HashMap<&'static str, KeyCount> = HashMap::new();
    let mut by_sender: HashMap<String, KeyCount> = HashMap::new();
    let mut by_domain: HashMap<String, KeyCount> = HashMap::new();
    let bands = ["under_1d", "1d_to_4d", "over_4d"];
    let mut age_bands: Vec<KeyCount> = bands
        .iter()
        .map(|b| KeyCount {
            key: b.to_string(),
            ..KeyCount::default()
        })
        .collect();
    let mut not_in_logs = 0;
    let mut facts: Vec<Option<(String, Option<String>)>> = Vec::with_capacity(dump.messages.len());
    let mut causes: Vec<&'static str> = Vec::with_capacity(dump.messages.len());

    fn add(map_entry: &mut KeyCount, size: u64) {
        map_entry.messages += 1;
        map_entry.bytes = map_entry.bytes.saturating_add(size);
    }

    for m in &dump.messages {
        let known = logs.and_then(|f| f(&m.queue_id));
        if logs.is_some() && known.is_none() {
            not_in_logs += 1;
        }
        let mut cause = cache.message_cause(m);
        if cause == NEVER_TRIED {
            // The dump has no reason yet; the logs may have one.
            if let Some(c) = known.as_ref().and_then(|k| k.1.as_deref()) {
                if let Some(c) = crate::classify::Cause::from_id(c) {
                    cause = c.id();
                }
            }
        }
        causes.push(cause);
        facts.push(known);
        add(
            by_queue.entry(m.queue.id()).or_insert_with(|| KeyCount {
                key: m.queue.id().to_string(),
                ..KeyCount::default()
            }),
            m.size,
        );
        add(
            by_cause.entry(cause).or_insert_with(|| KeyCount {
                key: cause.to_string(),
                ..KeyCount::default()
            }),
            m.size,
        );
        let sender = if m.is_bounce() {
            "MAILER-DAEMON".to_string()
        } else {
            m.sender.clone()
        };
        add(
            by_sender.entry(sender.clone()).or_insert_with(|| KeyCount {
                key: sender,
                ..KeyCount::default()
            }),
            m.size,
        );
        let mut domains: Vec<String> = m
            .recipients
            .iter()
            .map(|r| address_domain(&r.address))
            .collect();
        domains.sort();
        domains.dedup();
        for d in domains {
            add(
                by_domain.entry(d.clone()).or_insert_with(|| KeyCount {
                    key: d,
                    ..KeyCount::default()
                }),
                m.size,
            );
        }
        let age = age_ms(m, dump_time);
        let band = if age < DAY {
            0
        } else if age < 4 * DAY {
            1
        } else {
            2
        };
        add(&mut age_bands[band], m.size);
    }

    let ranked = |map: HashMap<_, KeyCount>, n: usize| {
        let mut v: Vec<KeyCount> = map.into_values().collect();
        v.sort_by(|a, b| {
            b.messages
                .cmp(&a.messages)
                .then(b.bytes.cmp(&a.bytes))
                .then(a.key.cmp(&b.key))
        });
        v.truncate(n);
        v
    };

    let mut order: Vec<usize> = (0..dump.messages.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&dump.messages[a], &dump.messages[b]);
        x.arrival.cmp(&y.arrival).then(x.queue_id.cmp(&y.queue_id))
    });
    let oldest = order
        .into_iter()
        .take(TOP)
        .map(|i| {
            let m = &dump.messages[i];
            QueuedMessageRow {
                queue_id: m.queue_id.clone(),
                queue: m.queue.id().to_string(),
                arrival: fmt.iso(m.arrival),
                age_minutes: age_ms(m, dump_time) / MINUTE,
                size: m.size,
                sender: m.sender.clone(),
                recipients: m
                    .recipients
                    .iter()
                    .take(ROW_RECIPIENTS)
                    .map(|r| r.address.clone())
                    .collect(),
                cause: causes[i].to_string(),
                reason: m.first_reason().map(str::to_string),
                identity: facts[i].as_ref().map(|f| f.0.clone()),
            }
        })
        .collect();

    QueueSummary {
        dump_time: fmt.iso(dump_time),
        dump_time_source: source.to_string(),
        messages: dump.messages.len() as u64,
        bytes: dump.bytes(),
        recipients: dump.recipients(),
        by_queue: ranked(
            by_queue
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            usize::MAX,
        ),
        by_cause: ranked(
            by_cause
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            usize::MAX,
        ),
        by_sender: ranked(by_sender, TOP),
        by_recipient_domain: ranked(by_domain, TOP),
        age_bands,
        oldest,
        shape: qshape(dump, dump_time, &ShapeOptions::default(), &[]),
        shape_senders: qshape(dump, dump_time, &ShapeOptions::senders(), &[]),
        not_in_logs,
    }
}

/// Whether a message of queue `q` belongs to the selection `queues`; an
/// empty selection is every queue. A text listing's unmarked message
/// without a reason (`Unknown`) counts for deferred, incoming and maildrop,
/// since it may be in any of them.
pub fn in_queues(q: QueueName, queues: &[QueueName]) -> bool {
    queues.is_empty()
        || queues.contains(&q)
        || (q == QueueName::Unknown
            && queues.iter().any(|x| {
                matches!(
                    x,
                    QueueName::Deferred | QueueName::Incoming | QueueName::Maildrop
                )
            }))
}

/// The domain qshape files an address under (`MAILER-DAEMON` for the null
/// sender, which the listings print as `MAILER-DAEMON`).
pub fn shape_domain(address: &str) -> String {
    if address.is_empty() || address == "MAILER-DAEMON" {
        return "MAILER-DAEMON".to_string();
    }
    address_domain(address)
}

/// qshape's table from a dump. Ages count whole seconds from the arrival
/// (qshape reads the queue file's time record, the same arrival the
/// listing prints) to `dump_time`. Rows: TOTAL first, then domains by count,
/// shorter names first on a tie (qshape's order), then by name.
pub fn qshape(
    dump: &QueueDump,
    dump_time: LogTime,
    opts: &ShapeOptions,
    queues: &[QueueName],
) -> QueueShape {
    let now = dump_time.0.div_euclid(SECOND);
    let n = opts.buckets.max(1);
    let mut total = vec![0u64; n + 1];
    let mut domains: HashMap<String, Vec<u64>> = HashMap::new();
    // `-p`: how many distinct subdomains each parent domain has.
    let mut subdomains: HashMap<String, u64> = HashMap::new();
    for m in dump.messages.iter().filter(|m| in_queues(m.queue, queues)) {
        let b = opts.bucket(now - m.arrival.0.div_euclid(SECOND));
        let mut count = |d: String| {
            total[0] += 1;
            total[b] += 1;
            // The domain, then with -p each parent in turn (qshape's loop).
            let mut d = Some(d);
            let mut child_was_new = false;
            while let Some(name) = d {
                let row = domains
                    .entry(name.clone())
                    .or_insert_with(|| vec![0; n + 1]);
                let seen = row[0] > 0;
                row[0] += 1;
                row[b] += 1;
                if child_was_new {
                    *subdomains.entry(name.clone()).or_default() += 1;
                }
                child_was_new = !seen;
                d = if opts.parents {
                    parent_domain(&name)
                } else {
                    None
                };
            }
        };
        match opts.mode {
            ShapeMode::Senders => count(shape_domain(&m.sender)),
            ShapeMode::Recipients => {
                for r in &m.recipients {
                    count(shape_domain(&r.address));
                }
            }
        }
    }
    let mut rows: Vec<QueueShapeRow> = domains
        .into_iter()
        // A parent domain needs enough subdomains to get a line.
        .filter(|(d, _)| {
            !d.starts_with('.') || subdomains.get(d).copied().unwrap_or(0) >= opts.min_subdomains
        })
        .map(|(domain, c)| QueueShapeRow {
            domain,
            total: c[0],
            counts: c[1..].to_vec(),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.total
            .cmp(&a.total)
            .then(a.domain.len().cmp(&b.domain.len()))
            .then(a.domain.cmp(&b.domain))
    });
    rows.insert(
        0,
        QueueShapeRow {
            domain: "TOTAL".into(),
            total: total[0],
            counts: total[1..].to_vec(),
        },
    );
    QueueShape {
        bucket_minutes: opts.bucket_minutes(),
        rows,
    }
}

/// The table as qshape prints it (80 columns): numbers right-aligned in
/// columns as wide as the TOTAL row needs, domains right-aligned in what is
/// left, over-long domains cut to `+` and their tail.
pub fn render_qshape(shape: &QueueShape) -> String {
    render_qshape_width(shape, SHAPE_WIDTH)
}

/// [`render_qshape`] for a screen `width` wide (`-w`; qshape ignores less
/// than 80).
pub fn render_qshape_width(shape: &QueueShape, width: usize) -> String {
    let mut heads: Vec<String> = vec!["T".into()];
    heads.extend(shape.bucket_minutes.iter().map(|m| m.to_string()));
    heads.push(format!(
        "{}+",
        shape.bucket_minutes.last().copied().unwrap_or(0)
    ));
    let total: Vec<u64> = shape
        .rows
        .first()
        .map(|r| {
            std::iter::once(r.total)
                .chain(r.counts.iter().copied())
                .collect()
        })
        .unwrap_or_default();
    let widths: Vec<usize> = heads
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let l = total.get(i).map_or(1, |n| n.to_string().len()).max(h.len());
            if l > 2 {
                l + 1
            } else {
                3
            }
        })
        .collect();
    let dw = width
        .max(SHAPE_WIDTH)
        .saturating_sub(widths.iter().sum())
        .max(SHAPE_MIN_DOMAIN_WIDTH);
    let mut out = String::new();
    let mut line = |domain: &str, cells: &[String]| {
        let chars: Vec<char> = domain.chars().collect();
        if chars.len() > dw {
            let (lead, keep) = if domain.starts_with('.') {
                (".+", dw - 2)
            } else {
                ("+", dw - 1)
            };
            out.push_str(lead);
            out.extend(&chars[chars.len() - keep..]);
        } else {
            out.extend(std::iter::repeat_n(' ', dw - chars.len()));
            out.push_str(domain);
        }
        for (i, c) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(3);
            out.push_str(&format!("{c:>w$}"));
        }
        out.push('\n');
    };
    line("", &heads);
    for r in &shape.rows {
        let cells: Vec<String> = std::iter::once(r.total)
            .chain(r.counts.iter().copied())
            .map(|n| n.to_string())
            .collect();
        line(&r.domain, &cells);
    }
    out
}

/// One criterion of a cleanup selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `sender=dave@lab.test` (case-insensitive; `MAILER-DAEMON` for bounces)
    Sender(String),
    /// `sender_domain=lab.test`
    SenderDomain(String),
    /// `domain=gmail.com`: any recipient in that domain
    RecipientDomain(String),
    /// `cause=blacklisted`: the message's cause or any recipient's
    Cause(String),
    /// `age>2h`, `older=120m`: queued longer than this many minutes
    OlderThan(u64),
    /// `queue=deferred`
    Queue(QueueName),
    /// `identity=sasl:dave@lab.test`: who submitted it, per the logs
    Identity(String),
}

impl Selector {
    /// Parses one `key=value` (or `age>DURATION`) criterion.
    pub fn parse(s: &str) -> crate::Result<Selector> {
        let bad = |why: &str| {
            crate::Error::Usage(format!(
                "--select {s:?}: {why}; use sender=ADDR, sender_domain=DOMAIN, domain=DOMAIN, cause=ID, \
                 age>2h (or older=120m), queue=deferred|active|hold|incoming|maildrop, identity=ID"
            ))
        };
        let s = s.trim();
        if let Some(d) = s.strip_prefix("age>") {
            return minutes(d)
                .map(Selector::OlderThan)
                .ok_or_else(|| bad("bad duration"));
        }
        let (key, value) = s.split_once('=').ok_or_else(|| bad("no `=`"))?;
        let value = value.trim();
        if value.is_empty() {
            return Err(bad("empty value"));
        }
        Ok(match key.trim() {
            "sender" => Selector::Sender(value.to_string()),
            "sender_domain" => Selector::SenderDomain(value.trim_start_matches('@').to_lowercase()),
            "domain" | "recipient_domain" => {
                Selector::RecipientDomain(value.trim_start_matches('@').to_lowercase())
            }
            "cause" => Selector::Cause(value.to_string()),
            "older" | "age" => {
                Selector::OlderThan(minutes(value).ok_or_else(|| bad("bad duration"))?)
            }
            "queue" => {
                Selector::Queue(QueueName::from_id(value).ok_or_else(|| bad("unknown queue"))?)
            }
            "identity" => Selector::Identity(value.to_string()),
            _ => return Err(bad("unknown key")),
        })
    }

    fn kind(&self) -> u8 {
        match self {
            Selector::Sender(_) => 0,
            Selector::SenderDomain(_) => 1,
            Selector::RecipientDomain(_) => 2,
            Selector::Cause(_) => 3,
            Selector::OlderThan(_) => 4,
            Selector::Queue(_) => 5,
            Selector::Identity(_) => 6,
        }
    }
}

/// `90`, `90m`, `2h`, `3d`, `30s` (rounded up) to minutes.
fn minutes(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().ok()?;
    match unit.trim() {
        "" | "m" | "min" => Some(n),
        "h" => n.checked_mul(60),
        "d" => n.checked_mul(24 * 60),
        "s" => Some(n.div_ceil(60)),
        _ => None,
    }
}

/// What selection needs besides the dump.
pub struct SelectContext<'a> {
    pub classifier: &'a Classifier,
    pub dump_time: LogTime,
    pub logs: Option<LogLookup<'a>>,
}

/// The messages matching the selectors: any of the values of one kind,
/// and every kind given (`sender=a sender=b queue=deferred` is "from a or
/// b, and deferred"). No selector selects nothing, so a forgotten flag
/// never lists the whole queue for deletion.
pub fn select<'d>(
    dump: &'d QueueDump,
    selectors: &[Selector],
    ctx: &SelectContext,
) -> Vec<&'d QueuedMessage> {
    if selectors.is_empty() {
        return Vec::new();
    }
    let mut cache = CauseCache::new(ctx.classifier);
    let kinds: HashSet<u8> = selectors.iter().map(Selector::kind).collect();
    dump.messages
        .iter()
        .filter(|m| {
            kinds.iter().all(|&k| {
                selectors
                    .iter()
                    .filter(|s| s.kind() == k)
                    .any(|s| matches_one(m, s, ctx, &mut cache))
            })
        })
        .collect()
}

fn matches_one(
    m: &QueuedMessage,
    s: &Selector,
    ctx: &SelectContext,
    cache: &mut CauseCache,
) -> bool {
    match s {
        Selector::Sender(a) => {
            if m.is_bounce() {
                a.eq_ignore_ascii_case("MAILER-DAEMON") || a == "<>"
            } else {
                m.sender.eq_ignore_ascii_case(a)
            }
        }
        Selector::SenderDomain(d) => m.sender_domain().eq_ignore_ascii_case(d),
        Selector::RecipientDomain(d) => m
            .recipients
            .iter()
            .any(|r| address_domain(&r.address) == *d),
        Selector::Cause(c) => cache.all_causes(m).contains(c.as_str()),
        Selector::OlderThan(min) => age_ms(m, ctx.dump_time) > (*min as i64).saturating_mul(MINUTE),
        Selector::Queue(q) => m.queue == *q,
        Selector::Identity(id) => ctx
            .logs
            .and_then(|f| f(&m.queue_id))
            .is_some_and(|(who, _)| who.eq_ignore_ascii_case(id)),
    }
}

/// Writes one queue id per line, the input `postsuper -d -` reads. Ids that
/// are not plain letters and digits are skipped (a dump is untrusted text
/// and this file is meant to be fed to a root command); duplicates once.
/// Returns (written, skipped).
pub fn write_ids<'a>(
    ids: impl IntoIterator<Item = &'a str>,
    out: &mut dyn Write,
) -> std::io::Result<(u64, u64)> {
    let mut seen: HashSet<&str> = HashSet::new();
    let (mut written, mut skipped) = (0, 0);
    for id in ids {
        if id.is_empty() || !id.bytes().all(|c| c.is_ascii_alphanumeric()) {
            skipped += 1;
            continue;
        }
        if seen.insert(id) {
            out.write_all(id.as_bytes())?;
            out.write_all(b"\n")?;
            written += 1;
        }
    }
    Ok((written, skipped))
}

/// "3 h 20 min", "2 d 4 h": an age for people.
pub fn human_age(ms: i64) -> String {
    let ms = ms.max(0);
    if ms >= DAY {
        format!("{} d {} h", ms / DAY, (ms % DAY) / HOUR)
    } else if ms >= HOUR {
        format!("{} h {} min", ms / HOUR, (ms % HOUR) / MINUTE)
    } else {
        format!("{} min", ms / MINUTE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::queue::{parse_text, QueuedRecipient};

    fn msg(
        id: &str,
        queue: QueueName,
        arrival: LogTime,
        sender: &str,
        rcpts: &[(&str, Option<&str>)],
    ) -> QueuedMessage {
        QueuedMessage {
            queue_id: id.into(),
            queue,
            arrival,
            size: 700,
            sender: sender.into(),
            recipients: rcpts
                .iter()
                .map(|(a, r)| QueuedRecipient {
                    address: a.to_string(),
                    reason: r.map(str::to_string),
                })
                .collect(),
            forced_expire: false,
        }
    }

    #[test]
    fn buckets_follow_qshape() {
        let shape_bucket = |age| ShapeOptions::default().bucket(age);
        assert_eq!(shape_bucket(0), 1);
        assert_eq!(shape_bucket(299), 1);
        assert_eq!(shape_bucket(300), 2); // [5, 10) min: column "10"
        assert_eq!(shape_bucket(599), 2);
        assert_eq!(shape_bucket(600), 3);
        assert_eq!(shape_bucket(1199), 3);
        assert_eq!(shape_bucket(1200), 4);
        assert_eq!(shape_bucket(640 * 60), 9); // [640, 1280) min: column "1280"
        assert_eq!(shape_bucket(1279 * 60), 9);
        assert_eq!(shape_bucket(1280 * 60), 10); // column "1280+"
        assert_eq!(shape_bucket(10 * 86400 * 365), 10);
        assert_eq!(shape_bucket(-50), 1);
    }

    #[test]
    fn parent_domains_drop_one_label_and_stop_before_the_tld() {
        assert_eq!(
            parent_domain("mail.example.com").as_deref(),
            Some(".example.com")
        );
        assert_eq!(parent_domain("a.b.c.d").as_deref(), Some(".b.c.d"));
        assert_eq!(parent_domain(".b.c.d").as_deref(), Some(".c.d"));
        for top in [".example.com", "example.com", "com", "", "..a.b"] {
            assert_eq!(parent_domain(top), None, "{top}");
        }
    }

    #[test]
    fn linear_and_custom_buckets_follow_qshape() {
        let o = ShapeOptions {
            buckets: 6,
            tick_minutes: 10,
            linear: true,
            ..ShapeOptions::default()
        };
        assert_eq!(o.bucket_minutes(), [10, 20, 30, 40, 50]);
        assert_eq!(o.bucket(0), 1);
        assert_eq!(o.bucket(599), 1);
        assert_eq!(o.bucket(600), 2); // [10, 20) min: column "20"
        assert_eq!(o.bucket(35 * 60), 4);
        assert_eq!(o.bucket(50 * 60), 6); // column "50+"
        assert_eq!(o.bucket(i64::MAX), 6);
        let geometric = ShapeOptions {
            buckets: 4,
            tick_minutes: 1,
            ..ShapeOptions::default()
        };
        assert_eq!(geometric.bucket_minutes(), [1, 2, 4]);
        assert_eq!(geometric.bucket(3 * 60), 3);
        assert_eq!(geometric.bucket(4 * 60), 4);
        let one = ShapeOptions {
            buckets: 1,
            ..ShapeOptions::default()
        };
        assert!(one.bucket_minutes().is_empty());
        assert_eq!(one.bucket(1 << 40), 1);
    }

    #[test]
    fn parents_are_shown_from_enough_subdomains() {
        let now = LogTime::from_civil(2026, 11, 28, 18, 56, 6, 0).unwrap();
        let d = QueueDump {
            messages: vec![msg(
                "3E485D0602",
                QueueName::Deferred,
                LogTime(now.0 - 8 * MINUTE),
                "dave@lab.test",
                &[
                    ("a@x.example.com", None),
                    ("b@y.example.com", None),
                    ("c@y.example.com", None),
                    ("d@z.example.com", None),
                    ("e@example.com", None),
                ],
            )],
            ..QueueDump::default()
        };
        let with = |min_subdomains| ShapeOptions {
            parents: true,
            min_subdomains,
            ..ShapeOptions::default()
        };
        let r = qshape(&d, now, &with(3), &[]);
        // Three distinct subdomains: x, y and z (y twice counts once).
        let parent = r.rows.iter().find(|r| r.domain == ".example.com").unwrap();
        assert_eq!(parent.total, 4);
        // The totals count each recipient once, parents aside.
        assert_eq!(r.rows[0].total, 5);
        assert_eq!(
            r.rows
                .iter()
                .find(|r| r.domain == "y.example.com")
                .unwrap()
                .total,
            2
        );
        let r = qshape(&d, now, &with(4), &[]);
        assert!(r.rows.iter().all(|r| !r.domain.starts_with('.')));
        // Without -p, no parent rows at all.
        let r = qshape(&d, now, &ShapeOptions::default(), &[]);
        assert_eq!(r.rows.len(), 1 + 4);
    }

    #[test]
    fn shape_counts_recipients_or_senders() {
        let now = LogTime::from_civil(2026, 11, 28, 18, 56, 6, 0).unwrap();
        let d = QueueDump {
            messages: vec![
                msg(
                    "3E485D0602",
                    QueueName::Deferred,
                    LogTime(now.0 - 8 * MINUTE),
                    "dave@lab.test",
                    &[
                        ("a@bigisp.test", Some("x")),
                        ("b@Gmail-like.test", Some("y")),
                        ("c@gmail-like.test", Some("y")),
                    ],
                ),
                msg(
                    "A2AA3D073B",
                    QueueName::Hold,
                    LogTime(now.0 - 2 * MINUTE),
                    "",
                    &[("d@gmail-like.test", None)],
                ),
            ],
            ..QueueDump::default()
        };
        let r = qshape(&d, now, &ShapeOptions::default(), &[QueueName::Deferred]);
        assert_eq!(r.rows[0].domain, "TOTAL");
        assert_eq!(r.rows[0].total, 3);
        assert_eq!(r.rows[1].domain, "gmail-like.test");
        assert_eq!(r.rows[1].counts[1], 2);
        let s = qshape(&d, now, &ShapeOptions::senders(), &[]);
        assert_eq!(s.rows[0].total, 2);
        assert_eq!(
            s.rows
                .iter()
                .find(|r| r.domain == "MAILER-DAEMON")
                .unwrap()
                .counts[0],
            1
        );
        let text = render_qshape(&s);
        let head: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(
            head,
            ["T", "5", "10", "20", "40", "80", "160", "320", "640", "1280", "1280+"],
            "{text}"
        );
        // Small counts get qshape's minimum width of 3 per column.
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .ends_with("TOTAL  2  1  1  0  0  0   0   0   0    0     0"),
            "{text}"
        );
    }

    #[test]
    fn selectors_parse_and_combine() {
        assert_eq!(Selector::parse("age>2h").unwrap(), Selector::OlderThan(120));
        assert_eq!(
            Selector::parse("older=90").unwrap(),
            Selector::OlderThan(90)
        );
        assert_eq!(
            Selector::parse("queue=hold").unwrap(),
            Selector::Queue(QueueName::Hold)
        );
        assert_eq!(
            Selector::parse("domain=@Gmail.com").unwrap(),
            Selector::RecipientDomain("gmail.com".into())
        );
        assert!(Selector::parse("color=red").is_err());
        assert!(Selector::parse("age>soon").is_err());

        let text = include_str!("../../tests/fixtures/lab1-postqueue-p-head.txt");
        let now = LogTime::from_civil(2026, 11, 28, 18, 56, 6, 0).unwrap();
        let d = parse_text(text.as_bytes(), now);
        let c = Classifier::builtin();
        let ctx = SelectContext {
            classifier: &c,
            dump_time: now,
            logs: None,
        };
        let all_dave = select(
            &d,
            &[Selector::parse("sender=DAVE@lab.test").unwrap()],
            &ctx,
        );
        assert!(!all_dave.is_empty());
        assert!(all_dave.iter().all(|m| m.sender == "dave@lab.test"));
        let held = select(
            &d,
            &[
                Selector::parse("sender=dave@lab.test").unwrap(),
                Selector::parse("queue=hold").unwrap(),
            ],
            &ctx,
        );
        assert!(held.iter().all(|m| m.queue == QueueName::Hold));
        assert!(held.len() < all_dave.len());
        let either = select(
            &d,
            &[
                Selector::parse("sender=alice@lab.test").unwrap(),
                Selector::parse("sender=carol@lab.test").unwrap(),
            ],
            &ctx,
        );
        assert!(either.iter().any(|m| m.sender == "alice@lab.test"));
        assert!(either.iter().any(|m| m.sender == "carol@lab.test"));
        assert!(select(&d, &[], &ctx).is_empty());
        let old = select(&d, &[Selector::OlderThan(15)], &ctx);
        assert!(old.iter().all(|m| now.0 - m.arrival.0 > 15 * MINUTE));
        assert!(!old.is_empty());
    }

    #[test]
    fn ids_file_is_safe_for_postsuper() {
        let mut out = Vec::new();
        let (w, s) = write_ids(
            ["3E485D0602", "3E485D0602", "x; rm -rf /", "", "4dHJK0abcdz"],
            &mut out,
        )
        .unwrap();
        assert_eq!((w, s), (2, 2));
        assert_eq!(out, b"3E485D0602\n4dHJK0abcdz\n");
    }

    #[test]
    fn message_cause_prefers_held_then_majority() {
        let c = Classifier::builtin();
        let mut cache = CauseCache::new(&c);
        let t = LogTime(0);
        assert_eq!(
            cache.message_cause(&msg("A", QueueName::Hold, t, "a@b", &[("x@y", Some("z"))])),
            HELD
        );
        assert_eq!(
            cache.message_cause(&msg("B", QueueName::Active, t, "a@b", &[("x@y", None)])),
            NEVER_TRIED
        );
        let m = msg(
            "C",
            QueueName::Deferred,
            t,
            "a@b",
            &[("x@y", Some("anything"))],
        );
        assert_eq!(cache.message_cause(&m), c.classify("anything").cause.id());
    }
}
