//! Counts kept while lines are written: each one changes only when its
//! line is in the logs, so the truth never needs the output read back.

use std::collections::{BTreeMap, BTreeSet};

use super::replies::{ListId, NoiseKind};

/// What a delivery line's reply was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A listing's refusal; `true` for Gmail's escalated 550.
    Listing(ListId, bool),
    Noise(NoiseKind),
    Unknown,
    Other,
}

/// README "Counting".
#[derive(Debug, Default, Clone)]
pub struct Totals {
    pub received: u64,
    pub delivered: u64,
    pub deferral_events: u64,
    pub deferred_messages: u64,
    pub bounced: u64,
    pub expired: u64,
    pub rejected: u64,
    pub held: u64,
}

/// First and last time of something, with a count.
#[derive(Debug, Default, Clone, Copy)]
pub struct Span {
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub count: u64,
}

impl Span {
    pub fn add(&mut self, t: i64) {
        self.first.get_or_insert(t);
        self.last = Some(t);
        self.count += 1;
    }
}

#[derive(Debug, Default, Clone)]
pub struct Episode {
    pub refusals: Span,
    pub deferrals: u64,
    pub bounces: u64,
    /// Gmail: the 421 step and the 550 step.
    pub deferred_step: Span,
    pub bounced_step: Span,
    pub receivers: BTreeSet<String>,
    /// First accepted delivery to its receivers after the listing ended.
    pub accepted_after_end: Option<i64>,
}

#[derive(Debug, Default, Clone)]
pub struct NoiseCount {
    pub replies: Span,
    pub receivers: BTreeSet<String>,
}

/// One submission of a source's identity: (time, recipients, in the logs).
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub t: i64,
    pub rcpts: u64,
    pub visible: bool,
}

#[derive(Debug, Default, Clone)]
pub struct SourceCount {
    pub spam: Vec<Sent>,
    pub legit: Vec<Sent>,
    /// Client IPs the spam came from (written lines only).
    pub spam_ips: BTreeSet<String>,
    /// Failed logins against the login: (time, ip), written lines only.
    pub failed_logins: Vec<(i64, String)>,
    pub first_seen: Option<i64>,
}

#[derive(Debug, Default)]
pub struct Tally {
    pub totals: Totals,
    pub episodes: BTreeMap<ListId, Episode>,
    pub noise: BTreeMap<NoiseKind, NoiseCount>,
    /// Unknown recipients of legitimate mail (bounces).
    pub unknown_legit: Span,
    pub sources: Vec<SourceCount>,
    /// Per decoy: messages and recipients in the logs.
    pub decoys: Vec<(u64, u64)>,
}

impl Tally {
    pub fn new(sources: usize, decoys: usize) -> Tally {
        Tally {
            sources: vec![SourceCount::default(); sources],
            decoys: vec![(0, 0); decoys],
            ..Tally::default()
        }
    }

    /// A delivery line that was written: `status` is sent, deferred or
    /// bounced; `receiver` the host it came from; `spam` whether the
    /// message was spam.
    pub fn delivery(&mut self, t: i64, status: &str, class: Class, receiver: &str, spam: bool) {
        match status {
            "sent" => self.totals.delivered += 1,
            "deferred" => self.totals.deferral_events += 1,
            _ => self.totals.bounced += 1,
        }
        match class {
            Class::Listing(l, escalated) => {
                let e = self.episodes.entry(l).or_default();
                e.refusals.add(t);
                e.receivers.insert(receiver.to_string());
                if status == "deferred" {
                    e.deferrals += 1;
                } else {
                    e.bounces += 1;
                }
                if l == ListId::Gmail {
                    if escalated {
                        e.bounced_step.add(t);
                    } else {
                        e.deferred_step.add(t);
                    }
                }
            }
            Class::Noise(k) => {
                let n = self.noise.entry(k).or_default();
                n.replies.add(t);
                n.receivers.insert(receiver.to_string());
            }
            Class::Unknown if !spam => self.unknown_legit.add(t),
            _ => {}
        }
    }

    /// An accepted delivery to a receiver of list `l` that has ended.
    pub fn accepted_after(&mut self, l: ListId, t: i64) {
        let e = self.episodes.entry(l).or_default();
        e.accepted_after_end.get_or_insert(t);
    }

    /// The first refusal line of any listing.
    pub fn first_listing(&self) -> Option<i64> {
        self.episodes
            .values()
            .filter_map(|e| e.refusals.first)
            .min()
    }
}
