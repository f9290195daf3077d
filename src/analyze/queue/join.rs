//! A queue dump joined to the logs, by (host, queue id).
//!
//! Queue ids repeat across servers (and, short ones, over days on one
//! server): a dump is one host's, so its ids are looked up among that
//! host's messages only. The host is the one whose still-queued messages
//! the dump's ids match most; with logs of several hosts that choice is
//! said, and a dump whose ids match no host's is not joined.

use rustc_hash::FxHashMap;

use crate::correlate::{Findings, QueueIdInfo, Sym};
use crate::parse::queue::QueueDump;

/// The logs' view of a dump's messages.
pub struct Joined<'f> {
    findings: &'f Findings,
    /// The host the dump is taken to be from.
    pub host: Option<Sym>,
    /// What the reader should know about the choice.
    pub note: Option<String>,
}

impl<'f> Joined<'f> {
    /// Picks the dump's host by the most ids matched.
    pub fn new(findings: &'f Findings, dump: &QueueDump) -> Joined<'f> {
        let mut matches: FxHashMap<Sym, usize> = FxHashMap::default();
        for m in &dump.messages {
            for info in findings.live_ids.get(&m.queue_id).into_iter().flatten() {
                *matches.entry(info.host).or_default() += 1;
            }
        }
        let mut ranked: Vec<(Sym, usize)> = matches.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let host = ranked.first().map(|h| h.0);
        let note = match (ranked.first(), findings.hosts.len()) {
            (Some(&(h, n)), hosts) if hosts > 1 => Some(format!(
                "the logs hold {hosts} hosts; the dump's ids match {}'s still-queued messages best ({n} of {}), so it was joined to that host's logs",
                findings.strings.str(h),
                dump.messages.len()
            )),
            (None, _) if !dump.messages.is_empty() && findings.first.is_some() => Some(
                "none of the dump's queue ids is still queued in the logs given: it was not joined to them (a dump of another server, or of another time?)".to_string(),
            ),
            _ => None,
        };
        Joined {
            findings,
            host,
            note,
        }
    }

    /// What the logs know of one queued message.
    pub fn get(&self, queue_id: &str) -> Option<&'f QueueIdInfo> {
        let host = self.host?;
        self.findings
            .live_ids
            .get(queue_id)?
            .iter()
            .find(|i| i.host == host)
    }

    /// The host's name, when the logs hold more than one host.
    pub fn host_name(&self) -> Option<String> {
        (self.findings.hosts.len() > 1)
            .then(|| self.host.map(|h| self.findings.strings.str(h).into_owned()))
            .flatten()
    }
}
