//! A suspect's queued mail, sorted into what the logs show to be spam (the
//! ids offered for `postsuper -d -`) and what a person should look at first
//! (a review list): a hacked login's owner keeps sending real mail, and a
//! hacked form still gets real visitors.
//!
//! The evidence, per message:
//! - a SASL login's message is spam when its client IP shows the attack: an
//!   IP the login had not used before its burst, that sent at a program's
//!   pace (5 messages in ten minutes or more) or failed logins. The owner's
//!   IPs (used before, or at a person's pace) go to review;
//! - any other identity's (a script, a relaying client, a sender address)
//!   is spam when it arrived inside one of the identity's bursts (runs of 5
//!   messages or more at a program's pace, see [`bursts`]); mail before,
//!   between or after them goes to review. A legitimate message sent in the
//!   middle of a burst cannot be told from the spam by its time, but by its
//!   recipient: one the identity also mailed outside its bursts (the site
//!   owner a form notifies) is a correspondent, so the message goes to
//!   review.

use super::join::Joined;
use super::CauseCache;
use crate::analyze::sending::{login_verdict, IpUse, LoginVerdict, Profile, PACE};
use crate::analyze::suspects::SuspectRef;
use crate::correlate::{Findings, IdentityKind, Sym};
use crate::parse::queue::{QueueDump, QueuedMessage};
use crate::time::{LogTime, TimeFormat};

pub use crate::analyze::sending::BurstPlace;

/// What to do with one queued message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The logs show it to be the suspect's spam.
    Delete,
    /// The logs cannot tell: look at it (`postcat -q ID`) first.
    Review,
}

impl Verdict {
    pub fn id(self) -> &'static str {
        match self {
            Verdict::Delete => "delete",
            Verdict::Review => "review",
        }
    }
}

/// One queued message of a suspect, with its evidence.
#[derive(Debug, Clone)]
pub struct CleanupRow {
    pub queue_id: String,
    pub queue: &'static str,
    pub arrival: String,
    pub size: u64,
    pub sender: String,
    pub recipients: Vec<String>,
    pub client_ip: Option<String>,
    pub ip: IpUse,
    pub burst: BurstPlace,
    pub reason: Option<String>,
    pub cause: &'static str,
    pub verdict: Verdict,
    pub why: String,
}

/// One suspect's queued mail.
#[derive(Debug, Clone)]
pub struct SuspectCleanup {
    pub rank: u32,
    pub rows: Vec<CleanupRow>,
}

impl SuspectCleanup {
    pub fn ids(&self, v: Verdict) -> Vec<&str> {
        self.rows
            .iter()
            .filter(|r| r.verdict == v)
            .map(|r| r.queue_id.as_str())
            .collect()
    }
}

/// Sorts each suspect's queued messages.
pub fn plan(
    f: &Findings,
    joined: &Joined,
    dump: &QueueDump,
    suspects: &[SuspectRef],
    cache: &mut CauseCache,
    fmt: &TimeFormat,
) -> Vec<SuspectCleanup> {
    let mut out = Vec::new();
    for &SuspectRef {
        rank,
        identity,
        kind,
    } in suspects
    {
        let profile = Profile::of(f, identity);
        let rows: Vec<CleanupRow> = dump
            .messages
            .iter()
            .filter_map(|m| joined.get(&m.queue_id).map(|info| (m, info)))
            .filter(|(_, info)| info.identity == identity)
            .map(|(m, info)| {
                row(
                    f,
                    m,
                    info.client_ip,
                    info.arrival,
                    kind,
                    &profile,
                    cache,
                    fmt,
                )
            })
            .collect();
        if !rows.is_empty() {
            out.push(SuspectCleanup { rank, rows });
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn row(
    f: &Findings,
    m: &QueuedMessage,
    client_ip: Sym,
    arrival: LogTime,
    kind: Option<IdentityKind>,
    p: &Profile,
    cache: &mut CauseCache,
    fmt: &TimeFormat,
) -> CleanupRow {
    let inside = p.dense(arrival);
    let ip_name = (client_ip != 0).then(|| f.strings.str(client_ip).into_owned());
    let login_ip = (kind == Some(IdentityKind::Sasl))
        .then(|| p.ips.get(&client_ip))
        .flatten();
    let (verdict, ip, why) = match (kind, login_ip) {
        (Some(IdentityKind::Sasl), Some(facts)) => {
            let LoginVerdict(attacker, ip, why) =
                login_verdict(ip_name.as_deref().unwrap_or_default(), facts, p, fmt);
            let verdict = if attacker {
                Verdict::Delete
            } else {
                Verdict::Review
            };
            (verdict, ip, why)
        }
        (Some(IdentityKind::Sasl), None) => (
            Verdict::Review,
            IpUse::NotKnown,
            "the logs do not show the login's client IP for it".to_string(),
        ),
        _ if inside && p.known_recipient(m.recipients.iter().map(|r| r.address.as_str())).is_some() => (
            Verdict::Review,
            IpUse::NotKnown,
            format!(
                "arrived {} inside one of its bursts, but to {}, which it also mailed outside them: a correspondent, not a spam target",
                fmt.iso(arrival),
                p.known_recipient(m.recipients.iter().map(|r| r.address.as_str())).unwrap_or_default()
            ),
        ),
        _ if inside => (
            Verdict::Delete,
            IpUse::NotKnown,
            format!(
                "arrived {} inside one of its bursts ({PACE} or more messages at a program's pace)",
                fmt.iso(arrival)
            ),
        ),
        _ => (
            Verdict::Review,
            IpUse::NotKnown,
            format!(
                "arrived {} outside its bursts ({PACE} or more messages at a program's pace)",
                fmt.iso(arrival)
            ),
        ),
    };
    CleanupRow {
        queue_id: m.queue_id.clone(),
        queue: m.queue.id(),
        arrival: fmt.iso(m.arrival),
        size: m.size,
        sender: m.sender.clone(),
        recipients: m.recipients.iter().map(|r| r.address.clone()).collect(),
        client_ip: ip_name,
        ip,
        burst: if inside {
            BurstPlace::Inside
        } else {
            BurstPlace::Outside
        },
        reason: m.first_reason().map(str::to_string),
        cause: cache.message_cause(m),
        verdict,
        why,
    }
}
