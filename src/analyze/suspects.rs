//! Who got the server blacklisted: ranking the sending identities behind
//! each listing.
//!
//! For each episode, look at what every identity sent to external
//! recipients in the look-back window before its onset, and weigh volume by
//! how abnormal it was:
//!
//! - `share`: the identity's share of the server's external recipients in
//!   the window;
//! - `burst`: its rate in the window against its own earlier rate (when the
//!   logs reach back further than the window), else its rate in the second
//!   half of the window against the first half. A newsletter that sends the
//!   same every day scores about 1; a stolen mailbox that starts spewing
//!   scores tens;
//! - `unknown`: the share of its recipients that bounced as unknown (bought
//!   or guessed lists), `refused`: the share refused as spam or for
//!   reputation;
//! - for SASL logins: how many client IPs used the login, and failed logins
//!   of the same account before its first success (password guessing).
//!
//! ```text
//! score = 100 * sqrt(share)
//!             * (0.45 burst' + 0.30 unknown + 0.05 refused + 0.10 ips' + 0.10 guessing')
//! burst' = ln(burst) / ln(50), ips' = (ips - 2) / 4, guessing' = failures / 10
//! ```
//!
//! Each primed term is capped to 0..1. Refusals weigh little: once the
//! server is listed, every sender's mail is refused.
//!
//! Volume alone cannot make a suspect: a steady sender has burst' near 0.
//! Identities scoring under [`MIN_SCORE`] show no anomaly and are not
//! listed (they stay in the senders table); Postfix's own bounce notices
//! are a consequence, never a source.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::{display_identity, AnalysisOptions, Episode};
use crate::classify::Cause;
use crate::correlate::{Findings, IdentityKind, OutcomeStatus, Sym};
use crate::model::Suspect;
use crate::time::{LogTime, MINUTE};

/// The least score of a listed suspect.
pub const MIN_SCORE: f64 = 10.0;

#[derive(Default)]
struct Window {
    messages: HashSet<u32>,
    recipients: u64,
    domains: HashSet<Sym>,
    earlier: u64,
    first_half: u64,
    second_half: u64,
}

/// Ranks suspects across all episodes: each identity once, with its best
/// score and the episode that gave it.
pub fn rank(f: &Findings, episodes: &[Episode], opts: &AnalysisOptions) -> Vec<Suspect> {
    let mut best: HashMap<Sym, Suspect> = HashMap::default();
    // Episodes that start within one look-back of an earlier one share its
    // cause: a listing spreads from one list to the next within hours.
    let mut onsets: Vec<(LogTime, Vec<&Episode>)> = Vec::new();
    for e in episodes {
        match onsets
            .iter_mut()
            .find(|(t, _)| e.first.0 >= t.0 && e.first.0 - t.0 < opts.lookback)
        {
            Some((_, v)) => v.push(e),
            None => onsets.push((e.first, vec![e])),
        }
    }
    for (onset, group) in &onsets {
        let names: Vec<String> = group
            .iter()
            .map(|e| f.strings.str(e.list_or_receiver).into_owned())
            .collect();
        let label = names.join(", ");
        for s in rank_one(f, *onset, &label, opts) {
            let key = f.strings.lookup(&s.identity_raw).unwrap_or(0);
            let keep = match best.get(&key) {
                Some(old) => s.suspect.score > old.score,
                None => true,
            };
            if keep {
                best.insert(key, s.suspect);
            }
        }
    }
    let mut v: Vec<Suspect> = best
        .into_values()
        .filter(|s| s.score >= MIN_SCORE)
        .collect();
    v.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.identity.cmp(&b.identity))
    });
    v.truncate(20);
    for (i, s) in v.iter_mut().enumerate() {
        s.rank = i as u32 + 1;
    }
    v
}

struct Ranked {
    identity_raw: Vec<u8>,
    suspect: Suspect,
}

fn rank_one(f: &Findings, onset: LogTime, label: &str, opts: &AnalysisOptions) -> Vec<Ranked> {
    let lookback = opts.lookback;
    let start = LogTime(onset.0 - lookback);
    let log_start = f.first.unwrap_or(start);
    // The part of the window the logs cover.
    let from = start.max(log_start);
    let half = LogTime(from.0 + (onset.0 - from.0) / 2);
    let history = (from.0 - log_start.0).max(0);
    let mut win: HashMap<Sym, Window> = HashMap::default();
    let mut total_recipients = 0u64;
    for r in &f.outbound {
        if r.time < onset && r.time >= from {
            let w = win.entry(r.identity).or_default();
            w.messages.insert(r.message);
            w.recipients += 1;
            w.domains.insert(r.domain);
            total_recipients += 1;
            if r.time < half {
                w.first_half += 1;
            } else {
                w.second_half += 1;
            }
        } else if r.time < from {
            if let Some(w) = win.get_mut(&r.identity) {
                w.earlier += 1;
            } else {
                win.entry(r.identity).or_default().earlier += 1;
            }
        }
    }
    if total_recipients == 0 {
        return Vec::new();
    }
    // Outcomes of each identity's mail around the onset: unknown users and
    // refusals show up in the hours after it was sent.
    let after = LogTime(onset.0 + lookback);
    let mut unknown: HashMap<Sym, u64> = HashMap::default();
    let mut refused: HashMap<Sym, u64> = HashMap::default();
    for o in &f.outcomes {
        if o.time < from || o.time > after {
            continue;
        }
        // Only the outcomes of the mail it sent in the window.
        if !win
            .get(&o.identity)
            .is_some_and(|w| w.messages.contains(&o.message))
        {
            continue;
        }
        match o.cause {
            Cause::UnknownRecipient if o.status == OutcomeStatus::Bounced => {
                *unknown.entry(o.identity).or_default() += 1
            }
            Cause::Blacklisted | Cause::RateLimited => *refused.entry(o.identity).or_default() += 1,
            _ => {}
        }
    }
    // Logins: client IPs per SASL identity in the window, and failures of
    // the same account before its first success.
    let mut ips: HashMap<Sym, HashSet<Sym>> = HashMap::default();
    let mut first_login: HashMap<Sym, LogTime> = HashMap::default();
    for l in &f.logins {
        if l.time >= from && l.time < onset {
            ips.entry(l.identity).or_default().insert(l.client_ip);
        }
        first_login
            .entry(l.identity)
            .and_modify(|t| *t = (*t).min(l.time))
            .or_insert(l.time);
    }
    let mut failures: HashMap<Vec<u8>, (u64, HashSet<Sym>)> = HashMap::default();
    for lf in &f.login_failures {
        if lf.username == 0 || lf.time >= onset {
            continue;
        }
        let mut id = b"sasl:".to_vec();
        id.extend_from_slice(f.strings.get(lf.username));
        let e = failures.entry(id).or_default();
        e.0 += 1;
        e.1.insert(lf.client_ip);
    }

    let mut out = Vec::new();
    for (id, w) in win {
        if w.recipients == 0 {
            continue;
        }
        let raw = f.strings.get(id).to_vec();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let kind = f.senders.get(&id).and_then(|s| s.kind);
        if kind == Some(IdentityKind::Local) {
            continue;
        }
        let share = w.recipients as f64 / total_recipients as f64;
        let window_len = (onset.0 - from.0).max(MINUTE) as f64;
        let burst = if history >= lookback / 2 && history > 0 {
            let before_rate = (w.earlier as f64 + 1.0) / history as f64;
            let now_rate = w.recipients as f64 / window_len;
            now_rate / before_rate
        } else {
            (w.second_half as f64 + 1.0) / (w.first_half as f64 + 1.0)
        };
        let burst_n = (burst.max(1.0).ln() / 50f64.ln()).min(1.0);
        let unknown_n = (*unknown.get(&id).unwrap_or(&0) as f64 / w.recipients as f64).min(1.0);
        let refused_n = (*refused.get(&id).unwrap_or(&0) as f64 / w.recipients as f64).min(1.0);
        let ip_count = ips.get(&id).map_or(0, |s| s.len());
        let ips_n = (ip_count.saturating_sub(2) as f64 / 4.0).min(1.0);
        let (failed, failed_ips) = failures
            .get(&raw)
            .filter(|_| first_login.contains_key(&id))
            .map(|(n, s)| (*n, s.len()))
            .unwrap_or((0, 0));
        let guess_n = (failed as f64 / 10.0).min(1.0);
        let score = 100.0
            * share.sqrt()
            * (0.45 * burst_n
                + 0.30 * unknown_n
                + 0.05 * refused_n
                + 0.10 * ips_n
                + 0.10 * guess_n);
        let score = (score * 10.0).round() / 10.0;

        let display = display_identity(&name, &opts.passwd);
        let mut evidence = vec![format!(
            "sent {} messages to {} external recipients in {} domains in the {} before {} ({}% of the server's outbound recipients)",
            w.messages.len(),
            w.recipients,
            w.domains.len(),
            human_span(onset.0 - from.0),
            label,
            (share * 1000.0).round() / 10.0
        )];
        if burst >= 3.0 {
            if w.earlier == 0 && w.first_half == 0 {
                evidence.push(format!(
                    "a sudden start: nothing sent before the last {}",
                    human_span((onset.0 - from.0) / 2)
                ));
            } else if burst >= 100.0 {
                evidence.push("over 100x its own earlier sending rate".to_string());
            } else {
                evidence.push(format!("{:.0}x its own earlier sending rate", burst));
            }
        }
        if unknown_n >= 0.05 {
            evidence.push(format!(
                "{:.0}% of its recipients bounced as unknown users (a bought or guessed list)",
                unknown_n * 100.0
            ));
        }
        if refused_n >= 0.05 {
            evidence.push(format!(
                "{:.0}% of its recipients were refused as spam or for reputation",
                refused_n * 100.0
            ));
        }
        if ip_count >= 2 {
            evidence.push(format!("the login was used from {ip_count} client IPs"));
        }
        if failed > 0 {
            evidence.push(format!(
                "{failed} failed logins for this account from {failed_ips} IPs before the listing (password guessing)"
            ));
        }
        let fix = fixes(kind, &display);
        out.push(Ranked {
            identity_raw: raw,
            suspect: Suspect {
                rank: 0,
                identity: display,
                kind: kind.map_or("unknown", |k| k.id()).to_string(),
                score,
                episode: label.to_string(),
                messages: w.messages.len() as u64,
                recipients: w.recipients,
                recipient_domains: w.domains.len() as u64,
                share_of_outbound: (share * 1000.0).round() / 10.0,
                burst_factor: (burst * 10.0).round() / 10.0,
                unknown_recipient_share: (unknown_n * 1000.0).round() / 10.0,
                refused_share: (refused_n * 1000.0).round() / 10.0,
                client_ips: ips
                    .get(&id)
                    .map(|s| {
                        let mut v: Vec<String> =
                            s.iter().map(|&x| f.strings.str(x).into_owned()).collect();
                        v.sort();
                        v
                    })
                    .unwrap_or_default(),
                failed_logins_before: failed,
                evidence,
                fix,
                queued_ids_file: None,
            },
        });
    }
    out
}

fn human_span(ms: i64) -> String {
    let min = ms / MINUTE;
    if min >= 120 {
        format!("{} h", (min + 30) / 60)
    } else {
        format!("{min} min")
    }
}

/// The fix texts for a suspect, from its identity as the report shows it
/// (`uid:33 (www-data)`). A redacted report calls this again with the
/// redacted identity, so no fix text ever holds a raw login or user name.
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
            format!("Delete its queued mail after review: postmortem queue queue.txt --select sender_domain=... or, with the logs, the suspect's ids file; then postsuper -d - < FILE (raw identity {raw})."),
        ],
        Some(IdentityKind::Client) => vec![
            format!("Check why {value} may relay through the server (mynetworks, smtpd_relay_restrictions); block it if it should not."),
        ],
        _ => vec![format!("Find who sends as {value}: check the web applications and mailboxes that use this address.")],
    }
}
