//! `messages.csv` (`--messages`): one row per message, from arrival to
//! removal, with what became of each recipient.
//!
//! The correlator records each queue file; copies of one message (a
//! content filter's re-injection) share its serial, possibly after a
//! merge. A message's recipients are read from its copies' deliveries,
//! leaving out the hand-offs to the local filter unless nothing else was
//! logged.

use std::collections::{BTreeMap, HashMap};

use crate::correlate::{is_loopback_relay, Fate, Findings, QueueFileRecord, RecipientRecord};
use crate::time::TimeFormat;

/// One message as `messages.csv` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRow {
    pub message: u64,
    pub host: String,
    /// Queue ids of its copies, first to last, space-separated.
    pub queue_ids: String,
    pub identity: String,
    /// The SMTP client that submitted it (empty: local or unknown).
    pub client_ip: String,
    /// For a bounce notice: the message it reports on.
    pub bounce_of: Option<u64>,
    pub arrival: String,
    /// `None` while a copy is still queued at the end of the logs.
    pub removed: Option<String>,
    /// `queued`, `delivered`, `partly_delivered`, `returned` (bounced or
    /// expired) or `unknown` (no delivery logged).
    pub status: &'static str,
    pub recipients: u64,
    pub sent: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub expired: u64,
    /// The cause of the last failure of the first recipient that failed.
    pub cause: Option<String>,
    /// Each recipient and its fate: `a@b.example sent; c@d.example bounced (unknown_recipient)`.
    pub fates: String,
}

/// Recipients listed in `fates` before `+N more`.
const FATES_SHOWN: usize = 20;

/// The rows, in order of arrival. Needs the analysis to have judged port
/// 25 first (causes are read from the outcomes).
pub fn message_rows(
    f: &Findings,
    fmt: &TimeFormat,
    passwd: &HashMap<u32, String>,
) -> Vec<MessageRow> {
    let mut all = Vec::new();
    for_each_batch(f, fmt, passwd, usize::MAX, |rows| {
        all.extend_from_slice(rows);
        Ok(())
    })
    .expect("collecting rows does not fail");
    all
}

/// The rows in order of arrival, handed to `write` `batch` at a time: a
/// month of logs holds millions of messages, and their rows need not all
/// exist at once.
pub fn for_each_batch(
    f: &Findings,
    fmt: &TimeFormat,
    passwd: &HashMap<u32, String>,
    batch: usize,
    mut write: impl FnMut(&[MessageRow]) -> crate::Result<()>,
) -> crate::Result<()> {
    let messages = messages_by_arrival(f);
    let mut rows: Vec<MessageRow> = Vec::with_capacity(batch.min(messages.len()));
    for (serial, copies) in messages {
        rows.push(message_row(f, fmt, passwd, serial, &copies));
        if rows.len() >= batch {
            write(&rows)?;
            rows.clear();
        }
    }
    if !rows.is_empty() {
        write(&rows)?;
    }
    Ok(())
}

/// The message `serial` belongs to after merges.
fn resolve(f: &Findings, mut serial: u32) -> u32 {
    // Merges chain at most a few times; the bound guards a cycle.
    for _ in 0..16 {
        match f.merged_serials.get(&serial) {
            Some(&next) if next != serial => serial = next,
            _ => break,
        }
    }
    serial
}

/// Each message with its copies, first arrival first; messages in order
/// of arrival.
fn messages_by_arrival(f: &Findings) -> Vec<(u32, Vec<&QueueFileRecord>)> {
    let mut by_message: BTreeMap<u32, Vec<&QueueFileRecord>> = BTreeMap::new();
    for q in &f.queue_files {
        by_message.entry(resolve(f, q.message)).or_default().push(q);
    }
    let mut messages: Vec<(u32, Vec<&QueueFileRecord>)> = by_message.into_iter().collect();
    for (_, copies) in &mut messages {
        copies.sort_by_key(|q| q.arrival);
    }
    messages.sort_by_key(|(serial, copies)| (copies[0].arrival, *serial));
    messages
}

/// Each recipient once, its latest record; the hand-offs to the local
/// filter only when nothing else was logged.
fn latest_fates<'a>(f: &Findings, copies: &[&'a QueueFileRecord]) -> Vec<&'a RecipientRecord> {
    let handoff =
        |r: &RecipientRecord| r.fate == Fate::Sent && is_loopback_relay(f.strings.get(r.relay));
    let real = copies
        .iter()
        .flat_map(|q| &q.recipients)
        .any(|r| !handoff(r));
    let mut fates: Vec<&RecipientRecord> = Vec::new();
    for r in copies.iter().flat_map(|q| &q.recipients) {
        if real && handoff(r) {
            continue;
        }
        match fates.iter_mut().find(|x| x.address == r.address) {
            Some(x) if r.time >= x.time => *x = r,
            Some(_) => {}
            None => fates.push(r),
        }
    }
    fates
}

/// A message's recipients by fate, the cause of the first that failed,
/// and the `fates` text.
#[derive(Default)]
struct FateCounts {
    sent: u64,
    deferred: u64,
    bounced: u64,
    expired: u64,
    cause: Option<String>,
    text: Vec<String>,
}

fn count_fates(f: &Findings, fates: &[&RecipientRecord]) -> FateCounts {
    let s = |sym| f.strings.str(sym).into_owned();
    let mut c = FateCounts::default();
    for r in fates {
        *match r.fate {
            Fate::Sent => &mut c.sent,
            Fate::Deferred => &mut c.deferred,
            Fate::Bounced => &mut c.bounced,
            Fate::Expired => &mut c.expired,
        } += 1;
        let failed = r
            .failure
            .filter(|_| r.fate != Fate::Sent)
            .and_then(|i| f.outcomes.get(i as usize));
        if c.cause.is_none() {
            c.cause = failed.map(|o| o.cause.id().to_string());
        }
        if c.text.len() < FATES_SHOWN {
            c.text.push(match failed {
                Some(o) => format!("{} {} ({})", s(r.address), r.fate.id(), o.cause.id()),
                None => format!("{} {}", s(r.address), r.fate.id()),
            });
        }
    }
    if fates.len() > FATES_SHOWN {
        c.text.push(format!("+{} more", fates.len() - FATES_SHOWN));
    }
    c
}

/// The row of the message `serial`, from its copies (first arrival first).
fn message_row(
    f: &Findings,
    fmt: &TimeFormat,
    passwd: &HashMap<u32, String>,
    serial: u32,
    copies: &[&QueueFileRecord],
) -> MessageRow {
    let s = |sym| f.strings.str(sym).into_owned();
    let first = copies[0];
    let fates = latest_fates(f, copies);
    let c = count_fates(f, &fates);
    let removed = copies
        .iter()
        .map(|q| q.removed)
        .collect::<Option<Vec<_>>>()
        .and_then(|v| v.into_iter().max());
    let total = fates.len() as u64;
    let status = if removed.is_none() {
        "queued"
    } else if total == 0 {
        "unknown"
    } else if c.sent == total {
        "delivered"
    } else if c.sent > 0 {
        "partly_delivered"
    } else if c.bounced + c.expired > 0 {
        "returned"
    } else {
        "unknown"
    };
    let identity = copies
        .iter()
        .rev()
        .map(|q| q.identity)
        .find(|&i| i != 0)
        .unwrap_or(0);
    MessageRow {
        message: u64::from(serial),
        host: s(first.host),
        queue_ids: copies
            .iter()
            .map(|q| q.queue_id.to_string())
            .collect::<Vec<_>>()
            .join(" "),
        identity: super::display_identity(&s(identity), passwd),
        client_ip: copies
            .iter()
            .map(|q| q.client_ip)
            .find(|&i| i != 0)
            .map_or_else(String::new, s),
        bounce_of: copies
            .iter()
            .map(|q| q.bounce_of)
            .find(|&b| b != 0)
            .map(|b| u64::from(resolve(f, b))),
        arrival: fmt.iso(first.arrival),
        removed: removed.map(|t| fmt.iso(t)),
        status,
        recipients: total,
        sent: c.sent,
        deferred: c.deferred,
        bounced: c.bounced,
        expired: c.expired,
        cause: c.cause,
        fates: c.text.join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Classifier;
    use crate::correlate::{Correlator, YearPolicy};

    #[test]
    fn one_row_per_message_with_each_recipients_last_fate() {
        let log = "\
Nov 28 18:30:12 mail postfix/pickup[18039]: D375AD054A: uid=33 from=<www-data>
Nov 28 18:30:12 mail postfix/qmgr[18040]: D375AD054A: from=<www-data@lab.test>, size=360, nrcpt=2 (queue active)
Nov 28 18:30:13 mail postfix/smtp[18072]: D375AD054A: to=<a@example.net>, relay=mx.example.net[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)
Nov 28 18:30:13 mail postfix/smtp[18072]: D375AD054A: to=<b@example.org>, relay=mx.example.org[192.0.2.2]:25, delay=1, delays=0/0/0/1, dsn=4.7.1, status=deferred (host mx.example.org[192.0.2.2] said: 450 4.7.1 Service unavailable; Client host [198.51.100.25] blocked using zen.spamhaus.org (in reply to RCPT TO command))
Nov 28 18:40:13 mail postfix/smtp[18072]: D375AD054A: to=<b@example.org>, relay=mx.example.org[192.0.2.2]:25, delay=601, delays=0/0/0/1, dsn=5.7.1, status=bounced (host mx.example.org[192.0.2.2] said: 554 5.7.1 Service unavailable; Client host [198.51.100.25] blocked using zen.spamhaus.org (in reply to RCPT TO command))
Nov 28 18:40:13 mail postfix/qmgr[18040]: D375AD054A: removed
Nov 28 18:41:00 mail postfix/pickup[18039]: 3330AD0558: uid=34 from=<cron>
";
        let classifier = Classifier::builtin();
        let years = YearPolicy {
            forced: Some(2026),
            anchor: None,
        };
        let p = crate::parse::parse_chunk(log.as_bytes());
        let mut c = Correlator::new(&classifier, years);
        c.track_messages();
        c.consume(0, 1, log.as_bytes(), &p.events);
        let f = c.finish();
        let rows = message_rows(&f, &TimeFormat::local(), &HashMap::new());
        assert_eq!(rows.len(), 2);
        let r = &rows[0];
        assert_eq!(
            (r.queue_ids.as_str(), r.identity.as_str(), r.status),
            ("D375AD054A", "uid:33", "partly_delivered")
        );
        assert_eq!((r.recipients, r.sent, r.deferred, r.bounced), (2, 1, 0, 1));
        assert_eq!(r.cause.as_deref(), Some("blacklisted"));
        assert_eq!(
            r.fates,
            "a@example.net sent; b@example.org bounced (blacklisted)"
        );
        assert_eq!(r.removed.as_deref(), Some("2026-11-28T18:40:13"));
        // Still queued at the end of the logs, nothing delivered yet.
        assert_eq!((rows[1].status, rows[1].recipients), ("queued", 0));
        // Without tracking, nothing is kept.
        let mut c = Correlator::new(&classifier, years);
        c.consume(0, 1, log.as_bytes(), &p.events);
        assert!(c.finish().queue_files.is_empty());
    }
}
