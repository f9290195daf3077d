//! What a queue dump says: what is stuck, why, for how long, whose it is.
//!
//! [`summarize`] fills `model::QueueSummary` (totals by queue, cause, sender
//! and recipient domain, age bands, the oldest messages, and qshape's table
//! in both of its modes). [`qshape`] reproduces Postfix's `qshape` exactly
//! (same buckets, same counts) from a dump instead of the spool, so the two
//! can be checked against each other. [`select`] picks messages for a
//! reviewable `postsuper -d -` input file; nothing here touches a server.

use std::collections::{HashMap, HashSet};

use crate::classify::Classifier;
use crate::model::{KeyCount, QueueSummary, QueuedMessageRow};
use crate::parse::queue::{address_domain, QueueDump, QueueName, QueuedMessage};
use crate::time::{LogTime, TimeFormat, DAY, HOUR, MINUTE};

/// qshape's defaults: 10 buckets, the first 5 minutes wide, each next one
/// twice as old; the last has no upper bound.
pub mod cleanup;
pub mod join;
pub mod load;
mod select;
mod shape;

/// What the logs know about a queue id: the submitting identity
/// (`sasl:dave@lab.test`, `uid:33`, ...) and, when known, the cause of its
/// last deferral. The lead's correlator supplies it; `None` means the logs
/// never mention that id.
pub type LogLookup<'a> = &'a dyn Fn(&str) -> Option<(String, Option<String>)>;

pub use load::{load_dumps, DumpClock, DumpInput, LoadedDumps};
pub use select::{
    check_without_logs, select, senders_of, write_ids, write_ids_file, SelectContext, Selector,
};
pub use shape::{
    in_queues, parent_domain, qshape, render_qshape, render_qshape_width, shape_domain, ShapeMode,
    ShapeOptions,
};

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
    let mut tallies = Tallies::new();
    let mut not_in_logs = 0;
    let mut facts: Vec<Option<(String, Option<String>)>> = Vec::with_capacity(dump.messages.len());
    let mut causes: Vec<&'static str> = Vec::with_capacity(dump.messages.len());
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
        tallies.add(m, cause, dump_time);
    }
    QueueSummary {
        dump_time: fmt.iso(dump_time),
        dump_time_source: source.to_string(),
        messages: dump.messages.len() as u64,
        bytes: dump.bytes(),
        recipients: dump.recipients(),
        by_queue: ranked(tallies.by_queue, usize::MAX),
        by_cause: ranked(tallies.by_cause, usize::MAX),
        by_sender: ranked(tallies.by_sender, TOP),
        by_recipient_domain: ranked(tallies.by_domain, TOP),
        age_bands: tallies.age_bands,
        oldest: oldest(dump, dump_time, fmt, &causes, &facts),
        shape: qshape(dump, dump_time, &ShapeOptions::default(), &[]),
        shape_senders: qshape(dump, dump_time, &ShapeOptions::senders(), &[]),
        not_in_logs,
        notes: Vec::new(),
        host: None,
    }
}

/// A dump's messages and bytes by queue, cause, sender, recipient domain
/// and age band.
struct Tallies {
    by_queue: HashMap<&'static str, KeyCount>,
    by_cause: HashMap<&'static str, KeyCount>,
    by_sender: HashMap<String, KeyCount>,
    by_domain: HashMap<String, KeyCount>,
    age_bands: Vec<KeyCount>,
}

impl Tallies {
    fn new() -> Self {
        let bands = ["under_1d", "1d_to_4d", "over_4d"];
        Tallies {
            by_queue: HashMap::new(),
            by_cause: HashMap::new(),
            by_sender: HashMap::new(),
            by_domain: HashMap::new(),
            age_bands: bands
                .iter()
                .map(|b| KeyCount {
                    key: b.to_string(),
                    ..KeyCount::default()
                })
                .collect(),
        }
    }

    /// Counts `m` (of cause `cause`) once in each table; once in each of
    /// its recipients' domains.
    fn add(&mut self, m: &QueuedMessage, cause: &'static str, dump_time: LogTime) {
        fn count(map_entry: &mut KeyCount, size: u64) {
            map_entry.messages += 1;
            map_entry.bytes = map_entry.bytes.saturating_add(size);
        }
        count(
            self.by_queue
                .entry(m.queue.id())
                .or_insert_with(|| KeyCount {
                    key: m.queue.id().to_string(),
                    ..KeyCount::default()
                }),
            m.size,
        );
        count(
            self.by_cause.entry(cause).or_insert_with(|| KeyCount {
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
        count(
            self.by_sender
                .entry(sender.clone())
                .or_insert_with(|| KeyCount {
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
            count(
                self.by_domain.entry(d.clone()).or_insert_with(|| KeyCount {
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
        count(&mut self.age_bands[band], m.size);
    }
}

/// The first `n` counts, most messages first (then most bytes, then by key).
fn ranked<K>(map: HashMap<K, KeyCount>, n: usize) -> Vec<KeyCount> {
    let mut v: Vec<KeyCount> = map.into_values().collect();
    v.sort_by(|a, b| {
        b.messages
            .cmp(&a.messages)
            .then(b.bytes.cmp(&a.bytes))
            .then(a.key.cmp(&b.key))
    });
    v.truncate(n);
    v
}

/// The [`TOP`] oldest messages, oldest first, with their causes and what
/// the logs say of them (`causes` and `facts` in the dump's order).
fn oldest(
    dump: &QueueDump,
    dump_time: LogTime,
    fmt: &TimeFormat,
    causes: &[&'static str],
    facts: &[Option<(String, Option<String>)>],
) -> Vec<QueuedMessageRow> {
    let mut order: Vec<usize> = (0..dump.messages.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&dump.messages[a], &dump.messages[b]);
        x.arrival.cmp(&y.arrival).then(x.queue_id.cmp(&y.queue_id))
    });
    order
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
        .collect()
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
    use crate::parse::queue::QueuedRecipient;

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
