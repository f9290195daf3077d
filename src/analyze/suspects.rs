//! Who got the server blacklisted: the sending identities behind each
//! listing, ranked by the spam they likely sent before it.
//!
//! A listing follows spam: traps and complaints count what reached them.
//! So each reputation episode gets its own look-back window before its own
//! onset (`--lookback`, 24 h by default), ending at the last delivery its
//! receivers still accepted when there was one (the listing came after it,
//! so later mail cannot have caused it), and every identity that sent
//! external mail in it is scored on the same footing, whatever its kind
//! (SASL login, script uid, unauthenticated client, envelope sender):
//!
//! ```text
//! excess    = recipients in the window - what its own past rate predicts
//!             (the whole volume when the logs hold no past to compare with)
//! suspicion = 1 - (1 - .9 novel)(1 - .6 machine)(1 - .8 unknown)
//!                 (1 - .8 refused)(1 - .8 new_ips)(1 - .7 guessing)
//!                 (1 - .3 bulk)(1 - .4 spread)
//! weight    = excess * (0.1 + 0.9 suspicion)
//! score     = 100 * weight / (sum of the listed identities' weights)
//! ```
//!
//! Each term is in 0..1: `novel` how far its volume in the window stands
//! over what its own past predicts for those hours of the day (log scale: 3x
//! is 0, the noise of a steady sender, 30x is 1); `machine` its peak pace
//! (messages an hour over its busiest ten minutes: 30 is 0, a person's
//! most, 150 is 1); `unknown` the share of its
//! recipients that bounced as unknown users (1 at 20%); `refused` the
//! share refused for reputation or as spam before the listing; `new_ips`
//! client IPs a login used in the window that it had not used before (or,
//! without a past, more than two at once); `guessing` failed logins of the
//! account before the listing; `bulk` recipients per message; `spread`
//! distinct domains per recipient. A steady sender has little excess, so
//! volume alone cannot make a suspect; evidence without volume cannot
//! either. The score is the identity's share of the suspicious mail before
//! that listing.
//!
//! Worked example (lab-like): a script sends 178 recipients in the window
//! and had sent nothing in the day before (excess 178, novel 1, suspicion
//! 0.9+, weight 170); a phished login sends 120 from 8 new IPs after 300
//! failed logins (weight 119); a newsletter sends its usual 2,000 (excess
//! 0, weight 0). Scores: script 59, login 41, newsletter not listed.
//!
//! Listed per episode: excess of at least [`MIN_EXCESS`] recipients, a
//! suspicion of at least [`MIN_SUSPICION`], a weight of at least a twentieth
//! of the episode's top one. Across episodes the ranking takes each
//! episode's first suspect in order of onset, then each one's second, and
//! so on, so the source of every listing stands near the top.

use std::collections::HashMap;

use rustc_hash::{FxHashMap, FxHashSet};

use super::episodes::Episode;
use super::{display_identity, AnalysisOptions};
use crate::classify::{Cause, Standing};
use crate::correlate::{Findings, IdentityKind, OutcomeStatus, Sym};
use crate::model::{Suspect, SuspectBurst, SuspectIp, SuspectRole};
use crate::time::{LogTime, MINUTE};

/// The least excess (recipients) of a listed suspect.
pub const MIN_EXCESS: f64 = 5.0;
/// The least suspicion of a listed suspect.
pub const MIN_SUSPICION: f64 = 0.3;

/// What one identity did in one episode's window, and its verdict.
#[derive(Debug, Clone)]
pub(super) struct Scored {
    pub identity: Sym,
    pub kind: Option<IdentityKind>,
    pub weight: f64,
    pub excess: f64,
    pub suspicion: f64,
    pub messages: u64,
    pub recipients: u64,
    pub domains: u64,
    pub share: f64,
    pub burst: f64,
    pub unknown: f64,
    pub refused: f64,
    pub failed_logins: u64,
    /// The first failed login of its account and its first message in the
    /// window: where its evidence lines are.
    pub first_failure: Option<LogTime>,
    pub first_sent: Option<LogTime>,
    pub ips: Vec<(Sym, LogTime, u64, bool)>,
    pub evidence: Vec<String>,
}

/// The ranking: suspects across episodes, and what the reader should know
/// Identities listed as sending while listed, at most.
const WHILE_LISTED_MAX: usize = 5;

/// about how sure it is.
#[derive(Debug, Default)]
pub struct Ranking {
    pub suspects: Vec<Suspect>,
    pub notes: Vec<String>,
    /// The raw lines each suspect's evidence cites, to look up.
    pub requests: super::evidence::Requests,
    /// Each suspect's identity, in rank order.
    pub identities: Vec<SuspectRef>,
}

/// A ranked suspect's identity, for what is looked up after the ranking
/// (its queued mail).
#[derive(Debug, Clone, Copy)]
pub struct SuspectRef {
    pub rank: u32,
    pub identity: Sym,
    pub kind: Option<IdentityKind>,
}

/// Ranks suspects for the reputation episodes, earliest first.
pub fn rank(f: &Findings, episodes: &[Episode], opts: &AnalysisOptions) -> Ranking {
    let mut per_episode: Vec<(&Episode, Vec<Scored>, (LogTime, LogTime))> = Vec::new();
    let mut notes = Vec::new();
    let Some(first_listing) = episodes
        .iter()
        .filter(|e| e.is_reputation())
        .map(|e| e.first)
        .min()
    else {
        return Ranking::default();
    };
    let mut short: Vec<String> = Vec::new();
    for e in episodes.iter().filter(|e| e.is_reputation()) {
        // The listing took effect after the last delivery its receivers
        // accepted: mail sent later cannot have caused it.
        let end = e
            .accepted_before
            .filter(|t| t.0 > e.first.0 - opts.lookback)
            .map_or(e.first, |t| LogTime(t.0 + 1));
        let w = super::suspect_window::Window::new(f, end, opts.lookback, first_listing);
        if !w.has_history() {
            short.push(format!(
                "{} ({} before it)",
                e.name(f),
                human_span(e.first.0 - w.log_start.0)
            ));
        }
        per_episode.push((e, w.score(f), (w.from, w.onset)));
    }
    if !short.is_empty() {
        notes.push(format!(
            "The logs start less than a look-back ({}) before these listings: {}. Their suspects are compared with the other senders of the same window, not with their own past; give older logs for a surer answer.",
            human_span(opts.lookback),
            short.join(", ")
        ));
    }
    // Round r takes each episode's r-th suspect, episodes by onset.
    let mut placed: FxHashSet<Sym> = FxHashSet::default();
    let mut order: Vec<(&Episode, &Scored, (LogTime, LogTime))> = Vec::new();

    let rounds = per_episode.iter().map(|p| p.1.len()).max().unwrap_or(0);
    for r in 0..rounds {
        for (e, list, window) in &per_episode {
            if let Some(s) = list.get(r) {
                if placed.insert(s.identity) {
                    order.push((e, s, *window));
                }
            }
        }
    }
    order.truncate(20);
    let causes = order.len();
    // Who sent in bulk while listed: not a cause of the listing, but its
    // spam is queued and keeps the listing alive, so it is a source to
    // stop. Ranked after the causes.
    let end = f.last.map_or(first_listing, |t| LogTime(t.0 + 1));
    let later: Vec<Scored> =
        super::suspect_window::Window::while_listed(f, first_listing, end, opts.lookback)
            .score(f)
            .into_iter()
            .filter(|s| !placed.contains(&s.identity))
            .take(WHILE_LISTED_MAX)
            .collect();
    for s in &later {
        let at = s.first_sent.unwrap_or(first_listing);
        let e = episodes
            .iter()
            .filter(|e| e.is_reputation() && e.first <= at)
            .max_by_key(|e| e.first)
            .or_else(|| episodes.iter().find(|e| e.is_reputation()))
            .expect("a reputation episode exists");
        order.push((e, s, (first_listing, end)));
    }
    let mut requests = super::evidence::Requests::default();
    for (i, (_, s, _)) in order.iter().enumerate() {
        let new_ips: Vec<(Sym, LogTime)> = s
            .ips
            .iter()
            .filter(|ip| !ip.3)
            .map(|ip| (ip.0, ip.1))
            .collect();
        requests.suspect(i, f, s, &new_ips);
    }
    let identities = order
        .iter()
        .enumerate()
        .map(|(i, (_, s, _))| SuspectRef {
            rank: i as u32 + 1,
            identity: s.identity,
            kind: s.kind,
        })
        .collect();
    let suspects = order
        .into_iter()
        .enumerate()
        .map(|(i, (e, s, _))| {
            let mut row = suspect(f, e, s, i as u32 + 1, opts);
            if i >= causes {
                row.role = SuspectRole::WhileListed;
            }
            row
        })
        .collect();
    Ranking {
        suspects,
        notes,
        requests,
        identities,
    }
}

/// The report's row of one scored identity.
fn suspect(f: &Findings, e: &Episode, s: &Scored, rank: u32, opts: &AnalysisOptions) -> Suspect {
    let fmt = &opts.format;
    let name = f.strings.str(s.identity).into_owned();
    let display = display_identity(&name, &opts.passwd);
    let stats = f.senders.get(&s.identity);
    let mut senders: Vec<(Sym, u64)> = stats
        .map(|st| st.envelope_senders.clone())
        .unwrap_or_default();
    senders.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let home = name
        .strip_prefix("uid:")
        .and_then(|u| u.parse::<u32>().ok())
        .and_then(|u| opts.passwd_homes.get(&u).cloned());
    let mut evidence = s.evidence.clone();
    if let Some(h) = &home {
        evidence.push(format!(
            "its home directory is {h} (the subscription's files)"
        ));
    }
    let notices = stats.map_or(0, |st| st.bounce_notices);
    if notices > 0 {
        evidence.push(format!(
            "{notices} bounce or delay notices were returned to its sender address"
        ));
    }
    let bursts = later_bursts(f, s.identity, e.first);
    for b in bursts.iter().take(4) {
        evidence.push(if b.0 == e.first {
            format!(
                "it went on sending after the listing: {} recipients until {}",
                b.1,
                fmt.iso(b.2)
            )
        } else {
            format!(
                "it sent again after the listing: {} recipients from {} to {}",
                b.1,
                fmt.iso(b.0),
                fmt.iso(b.2)
            )
        });
    }
    Suspect {
        rank,
        role: SuspectRole::Cause,
        identity: display.clone(),
        kind: s.kind.map_or("unknown", |k| k.id()).to_string(),
        score: (s.weight * 10.0).round() / 10.0,
        episode: e.name(f),
        messages: s.messages,
        recipients: s.recipients,
        recipient_domains: s.domains,
        share_of_outbound: round1(s.share * 100.0),
        burst_factor: round1(s.burst),
        unknown_recipient_share: round1(s.unknown * 100.0),
        refused_share: round1(s.refused * 100.0),
        client_ips: s
            .ips
            .iter()
            .map(|ip| f.strings.str(ip.0).into_owned())
            .collect(),
        failed_logins_before: s.failed_logins,
        evidence,
        fix: fixes(s.kind, &display),
        queued_ids_file: None,
        review_ids_file: None,
        queued_file: None,
        queued_spam: 0,
        queued_review: 0,
        excess_recipients: s.excess.round() as u64,
        suspicion: round2(s.suspicion),
        listing_onset: Some(fmt.iso(e.first)),
        envelope_senders: senders
            .iter()
            .take(3)
            .map(|(sym, _)| f.strings.str(*sym).into_owned())
            .collect(),
        home,
        ip_uses: s
            .ips
            .iter()
            .map(|(ip, first, messages, usual)| SuspectIp {
                ip: f.strings.str(*ip).into_owned(),
                first_used: fmt.iso(*first),
                messages: *messages,
                usual: *usual,
            })
            .collect(),
        bounce_notices: notices,
        later_bursts: bursts
            .iter()
            .map(|b| SuspectBurst {
                start: fmt.iso(b.0),
                end: fmt.iso(b.2),
                recipients: b.1,
            })
            .collect(),
        lines: Vec::new(),
    }
}

/// Runs of two minutes after `onset` in which `identity` sent at least 3
/// external recipients each: (start, recipients, end). A run that begins
/// right at the onset is the burst going on; later ones are new bursts.
fn later_bursts(f: &Findings, identity: Sym, onset: LogTime) -> Vec<(LogTime, u64, LogTime)> {
    const STEP: i64 = 2 * MINUTE;
    let mut slots: std::collections::BTreeMap<i64, u64> = Default::default();
    for r in f
        .outbound
        .iter()
        .filter(|r| r.identity == identity && r.time >= onset)
    {
        *slots.entry((r.time.0 - onset.0) / STEP).or_default() += 1;
    }
    let mut out: Vec<(LogTime, u64, LogTime)> = Vec::new();
    let mut last_slot = i64::MIN;
    for (&k, &n) in slots.iter().filter(|(_, &n)| n >= 3) {
        let start = LogTime(onset.0 + k * STEP);
        let end = LogTime(start.0 + STEP);
        match out.last_mut() {
            Some(run) if last_slot + 1 == k => {
                run.1 += n;
                run.2 = end;
            }
            _ => out.push((start, n, end)),
        }
        last_slot = k;
    }
    out
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub(super) fn human_span(ms: i64) -> String {
    let min = ms / MINUTE;
    if min >= 120 {
        format!("{} h", (min + 30) / 60)
    } else {
        format!("{min} min")
    }
}

/// Whether an outcome is a refusal that speaks of the mail's reputation or
/// content (for the `refused` term: such refusals before a listing are
/// evidence against the sender).
pub(super) fn refused_for_reputation(
    cause: Cause,
    standing: Standing,
    status: OutcomeStatus,
) -> bool {
    standing == Standing::Reputation && cause != Cause::Unknown && status != OutcomeStatus::Expired
}

/// What to do about a suspect, from its kind and the identity as shown
/// (already redacted when the report is).
pub fn fixes(kind: Option<IdentityKind>, display: &str) -> Vec<String> {
    // `uid:33 (www-data)`: the id is `uid:33`, the value `33`.
    let raw = display.split_once(" (").map_or(display, |x| x.0);
    let value = raw.split_once(':').map_or(raw, |x| x.1);
    match kind {
        Some(IdentityKind::Sasl) => vec![
            format!("Reset the password of the mailbox {value} and end its sessions; check it for forwarding rules and auto-replies the attacker may have set."),
            "Plesk: Mail > the mailbox > Change password; Tools & Settings > Mail Server Settings: limit outgoing messages per mailbox.".to_string(),
            "Delete its queued spam after review: give a queue dump (postqueue -p > queue.txt) to postmortem analyze with the logs; it writes this suspect's queued ids for postsuper -d - < FILE.".to_string(),
        ],
        Some(IdentityKind::Uid) => vec![
            format!("Find the script behind {display}: getent passwd {} names the user; in Plesk it is a subscription's system user. Look for recently changed PHP files in its document root (find httpdocs -name '*.php' -mtime -3).", value.split(' ').next().unwrap_or(value)),
            "Disable the script or the subscription's mail() (Plesk: Tools & Settings > Mail Server Settings > outgoing mail control / limits per subscription).".to_string(),
            format!("Delete its queued mail after review: give a queue dump to postmortem analyze with the logs; it writes this suspect's queued ids for postsuper -d - < FILE (identity {raw})."),
        ],
        Some(IdentityKind::Client) => vec![
            format!("Check why {value} may relay through the server (mynetworks, smtpd_relay_restrictions); block it if it should not."),
        ],
        _ => vec![format!("Find who sends as {value}: check the web applications and mailboxes that use this address.")],
    }
}

/// uid -> home directory, from a copy of /etc/passwd.
pub fn parse_passwd_homes(text: &str) -> HashMap<u32, String> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            let uid = f.get(2)?.parse().ok()?;
            let home = f.get(5).filter(|h| !h.is_empty())?;
            Some((uid, home.to_string()))
        })
        .collect()
}

/// Counts per key, for the window's tallies.
pub(super) type Tally = FxHashMap<Sym, u64>;
