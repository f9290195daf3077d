//! Is port 25 blocked on our side, or is one receiver down?
//!
//! One `connect to mx.example.com[192.0.2.1]:25: Connection timed out` says
//! nothing about whose fault it is. The same failure towards many unrelated
//! destinations at the same time does: a receiver cannot make everybody
//! else's servers time out, but a provider's filter on outbound port 25 can.
//!
//! The rule: an attempt on port 25 counts as a local block when, within
//! [`PORT25_WINDOW`] either side of it (a 10-minute window centred on the
//! attempt), attempts with the **same** [`ConnectFailure`] on port 25 went to
//! at least [`PORT25_MIN_DESTINATIONS`] distinct destinations, the attempt's
//! own included. Destinations are compared by their registered domain (the
//! last two labels, three for `co.uk`-style names), so `mx1.example.com` and
//! `mx2.example.com` are one destination, not two.
//!
//! Why these choices:
//! - The same failure kind: a standing dead host (refused), a black-holed
//!   MX (timed out) and an unroutable one (unreachable) at once are three
//!   receivers' problems, not one block; a firewall answers every
//!   destination the same way.
//! - A centred window: Postfix retries deferred mail on a backoff of minutes,
//!   so the destinations of one block fail over a few minutes, not one
//!   second; centring also counts the first failures of a block, before
//!   the third destination shows up.
//! - Only failures are seen here, so a successful delivery in between cannot
//!   veto the judgement; a narrow window keeps a lone dead receiver's
//!   failures from being pulled into a block far from it in time.
//!
//! Ports other than 25 (submission relays, content filters) are never a port
//! 25 block; loopback filter ports are classified `content_filter_down` before
//! they get here.

use rustc_hash::FxHashMap;
use std::collections::HashMap;

use super::ConnectFailure;
use crate::time::{LogTime, MINUTE};

/// Half the width of the window around an attempt (milliseconds).
pub const PORT25_WINDOW: i64 = 5 * MINUTE;

/// Distinct destinations failing the same way that make a local block.
pub const PORT25_MIN_DESTINATIONS: usize = 3;

/// One failed connection attempt.
#[derive(Debug, Clone, Copy)]
pub struct ConnectAttempt<'a> {
    pub time: LogTime,
    /// The recipient domain or the MX host.
    pub destination: &'a str,
    pub failure: ConnectFailure,
    pub port: u16,
}

/// The registered domain of a host or recipient domain: `mx1.example.com`
/// and `example.com` are the same destination. Naive about public
/// suffixes: a two-letter country code under a short second level
/// (`co.uk`, `com.au`) keeps three labels.
fn registered_domain(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = host.rsplit('.').collect();
    let keep = match labels.as_slice() {
        [tld, sld, _, ..] if tld.len() == 2 && sld.len() <= 3 => 3,
        _ => 2,
    };
    let n = labels.len().min(keep);
    labels[..n]
        .iter()
        .rev()
        .copied()
        .collect::<Vec<_>>()
        .join(".")
}

/// For each attempt, whether it counts as a local port 25 block (see the
/// module docs for the rule). Attempts need not be sorted.
pub fn judge_port25(attempts: &[ConnectAttempt]) -> Vec<bool> {
    let mut verdict = vec![false; attempts.len()];
    // Each destination's registered domain is worked out once and stands
    // as a number: a blocked port fails hundreds of thousands of attempts
    // to a few hundred destinations.
    let mut domain_of: FxHashMap<&str, u32> = FxHashMap::default();
    let mut domains: FxHashMap<String, u32> = FxHashMap::default();
    // Group the port 25 attempts by failure kind, each group sorted by time.
    let mut groups: HashMap<ConnectFailure, Vec<(LogTime, usize, u32)>> = HashMap::new();
    for (i, a) in attempts.iter().enumerate() {
        if a.port == 25 {
            let domain = *domain_of.entry(a.destination).or_insert_with(|| {
                let next = domains.len() as u32;
                *domains
                    .entry(registered_domain(a.destination))
                    .or_insert(next)
            });
            groups
                .entry(a.failure)
                .or_default()
                .push((a.time, i, domain));
        }
    }
    let mut counts = vec![0usize; domains.len()];
    for mut group in groups.into_values() {
        group.sort_by_key(|&(t, i, _)| (t, i));
        // Two pointers: [lo, hi) holds the attempts within the window of the
        // current one; `distinct` counts the destinations among them.
        counts.iter_mut().for_each(|c| *c = 0);
        let mut distinct = 0usize;
        let (mut lo, mut hi) = (0, 0);
        for k in 0..group.len() {
            let t = group[k].0 .0;
            while hi < group.len() && group[hi].0 .0 <= t.saturating_add(PORT25_WINDOW) {
                let c = &mut counts[group[hi].2 as usize];
                distinct += usize::from(*c == 0);
                *c += 1;
                hi += 1;
            }
            while group[lo].0 .0 < t.saturating_sub(PORT25_WINDOW) {
                let c = &mut counts[group[lo].2 as usize];
                *c -= 1;
                distinct -= usize::from(*c == 0);
                lo += 1;
            }
            if distinct >= PORT25_MIN_DESTINATIONS {
                verdict[group[k].1] = true;
            }
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    fn at(min: i64, sec: i64, dest: &str, failure: ConnectFailure) -> ConnectAttempt<'_> {
        ConnectAttempt {
            time: LogTime(min * MINUTE + sec * SECOND),
            destination: dest,
            failure,
            port: 25,
        }
    }

    use ConnectFailure::*;

    #[test]
    fn many_destinations_timing_out_together_are_a_local_block() {
        // lab-1's port25-blocked phase: every destination times out at once.
        let a = [
            at(0, 0, "gmail-like.test", TimedOut),
            at(0, 5, "bigisp.test", TimedOut),
            at(0, 9, "corp-mail.test", TimedOut),
            at(1, 0, "gmail-like.test", TimedOut),
        ];
        assert_eq!(judge_port25(&a), vec![true; 4]);
    }

    #[test]
    fn one_dead_destination_is_not_a_block() {
        let a: Vec<_> = (0..20)
            .map(|m| at(m, 0, "slowpoke.test", TimedOut))
            .collect();
        assert!(judge_port25(&a).iter().all(|b| !b));
    }

    #[test]
    fn different_failures_do_not_add_up() {
        // lab-1's standing conditions: a dead host, a black hole, an
        // unroutable net, at the same time: three receivers' problems.
        let a = [
            at(0, 0, "deadhost.test", Refused),
            at(0, 1, "slowpoke.test", TimedOut),
            at(0, 2, "unreach.test", NetworkUnreachable),
        ];
        assert_eq!(judge_port25(&a), vec![false; 3]);
    }

    #[test]
    fn the_window_is_ten_minutes_centred() {
        let a = [
            at(0, 0, "a.example", TimedOut),
            at(4, 0, "b.example", TimedOut),
            at(8, 0, "c.example", TimedOut),
            at(30, 0, "a.example", TimedOut),
        ];
        // b sees a and c within 5 minutes; a and c see only b.
        assert_eq!(judge_port25(&a), vec![false, true, false, false]);
    }

    #[test]
    fn mx_hosts_of_one_domain_are_one_destination_and_other_ports_never_count() {
        let mut a = vec![
            at(0, 0, "mx1.example.com", TimedOut),
            at(0, 1, "mx2.example.com", TimedOut),
            at(0, 2, "example.com", TimedOut),
            at(0, 3, "mail.example.co.uk", TimedOut),
            at(0, 4, "example.co.uk", TimedOut),
        ];
        // Two destinations: example.com and example.co.uk.
        assert_eq!(judge_port25(&a), vec![false; 5]);
        let mut relay = at(0, 5, "smtp.relay.example", TimedOut);
        relay.port = 587;
        a.push(relay);
        assert_eq!(judge_port25(&a), vec![false; 6]);
        // A third destination on port 25 makes it a block.
        a.push(at(0, 6, "other.co.uk", TimedOut));
        assert_eq!(
            judge_port25(&a),
            vec![true, true, true, true, true, false, true]
        );
    }

    #[test]
    fn unsorted_input_is_judged_by_time() {
        let a = [
            at(2, 0, "c.example", TimedOut),
            at(90, 0, "d.example", TimedOut),
            at(0, 0, "a.example", TimedOut),
            at(1, 0, "b.example", TimedOut),
        ];
        assert_eq!(judge_port25(&a), vec![true, false, true, true]);
    }
}
