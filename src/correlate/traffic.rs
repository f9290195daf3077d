//! pflogsumm's counts, kept as aggregates while reading: per hour, per
//! recipient domain, per sender domain, per rejecting client and reason,
//! message sizes, the master daemon's events, and the stretches without a
//! line.
//!
//! Nothing here grows per line: each map is keyed by an hour, a domain, a
//! (reason, client) pair or an event text, and each has a cap past which
//! new keys are counted as dropped (a hostile log of made-up domains must
//! not grow memory without end).

use rustc_hash::FxHashMap;

use super::Sym;
use crate::parse::DaemonEvent;
use crate::time::{LogTime, HOUR, MINUTE};

/// Hours kept (22 years of logs).
pub const HOURS_MAX: usize = 200_000;
/// Recipient domains kept.
pub const DOMAINS_MAX: usize = 200_000;
/// Sender domains kept.
pub const SENDER_DOMAINS_MAX: usize = 100_000;
/// (reason, client) pairs of our rejects kept.
pub const REJECTS_MAX: usize = 100_000;
/// Distinct daemon event texts kept.
const DAEMON_MAX: usize = 1000;
/// Stretches without a Postfix line kept (the longest ones).
const GAPS_MAX: usize = 50;
/// The shortest stretch without a Postfix line worth keeping.
pub const GAP_MIN: i64 = 30 * MINUTE;
/// Upper bounds of the size bands, in bytes (the last band is open).
pub const SIZE_BANDS: [u64; 5] = [10 << 10, 100 << 10, 1 << 20, 10 << 20, 50 << 20];

/// One hour's traffic. Received counts messages, delivered and bounced
/// recipients, deferrals and rejects events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HourCounts {
    pub received: u64,
    pub delivered: u64,
    pub deferrals: u64,
    pub bounced: u64,
    pub rejected: u64,
    pub expired: u64,
    pub bytes_received: u64,
    pub bytes_delivered: u64,
}

/// Deliveries to one recipient domain.
#[derive(Debug, Clone, Copy, Default)]
pub struct DomainCounts {
    /// Recipients delivered.
    pub sent: u64,
    pub bytes: u64,
    /// Sent to another server (rather than into this server's mailboxes).
    pub external: u64,
    pub delay_sum_ms: u64,
    pub delay_max_ms: u32,
    pub last_sent: Option<LogTime>,
}

/// Our rejects of one client for one reason.
#[derive(Debug, Clone, Copy)]
pub struct RejectCounts {
    pub count: u64,
    pub first: LogTime,
    pub last: LogTime,
    pub cause: crate::classify::Cause,
}

/// One master daemon event text, counted.
#[derive(Debug, Clone, Copy)]
pub struct DaemonCounts {
    pub event: DaemonEvent,
    pub count: u64,
    pub first: LogTime,
    pub last: LogTime,
}

/// Everything above, with what the caps left out.
#[derive(Debug, Default)]
pub struct Traffic {
    pub hours: FxHashMap<i64, HourCounts>,
    pub domains: FxHashMap<Sym, DomainCounts>,
    /// Messages received and their bytes, per envelope sender domain.
    pub sender_domains: FxHashMap<Sym, (u64, u64)>,
    /// Keyed by (normalised reason, client).
    pub rejects: FxHashMap<(Sym, Sym), RejectCounts>,
    /// Keyed by the event's text.
    pub daemon: FxHashMap<Sym, DaemonCounts>,
    /// Messages per size band ([`SIZE_BANDS`], then the open band).
    pub size_bands: [u64; SIZE_BANDS.len() + 1],
    pub largest: u64,
    /// Stretches without a Postfix line, longest kept, and the time of the
    /// line seen last.
    pub gaps: Vec<(LogTime, LogTime)>,
    pub last_line: Option<LogTime>,
    /// Keys refused by the caps: hours, domains, sender domains, rejects.
    pub dropped: [u64; 4],
}

impl Traffic {
    /// The counts of the hour of `t`, or `None` past the cap.
    pub fn hour(&mut self, t: LogTime) -> Option<&mut HourCounts> {
        let h = t.0.div_euclid(HOUR) * HOUR;
        if !self.hours.contains_key(&h) && self.hours.len() >= HOURS_MAX {
            self.dropped[0] += 1;
            return None;
        }
        Some(self.hours.entry(h).or_default())
    }

    pub fn domain(&mut self, d: Sym) -> Option<&mut DomainCounts> {
        if !self.domains.contains_key(&d) && self.domains.len() >= DOMAINS_MAX {
            self.dropped[1] += 1;
            return None;
        }
        Some(self.domains.entry(d).or_default())
    }

    /// A message received, of `size` bytes, from `sender_domain`; `sign`
    /// -1 takes back one counted before (a content filter's copy).
    pub fn received(&mut self, t: LogTime, sender_domain: Sym, size: u64, sign: i8) {
        let add = |v: &mut u64, n: u64| {
            *v = if sign < 0 {
                v.saturating_sub(n)
            } else {
                v.saturating_add(n)
            };
        };
        if let Some(h) = self.hour(t) {
            add(&mut h.bytes_received, size);
        }
        let known = self.sender_domains.contains_key(&sender_domain);
        if known || self.sender_domains.len() < SENDER_DOMAINS_MAX {
            let e = self.sender_domains.entry(sender_domain).or_default();
            add(&mut e.0, 1);
            add(&mut e.1, size);
        } else if sign > 0 {
            self.dropped[2] += 1;
        }
        let band = SIZE_BANDS
            .iter()
            .position(|&b| size < b)
            .unwrap_or(SIZE_BANDS.len());
        add(&mut self.size_bands[band], 1);
        if sign > 0 {
            self.largest = self.largest.max(size);
        }
    }

    /// A recipient delivered, to `domain`, `delay_ms` after arrival.
    pub fn delivered(&mut self, t: LogTime, domain: Sym, size: u64, delay_ms: u32, external: bool) {
        if let Some(h) = self.hour(t) {
            h.delivered += 1;
            h.bytes_delivered += size;
        }
        if let Some(d) = self.domain(domain) {
            d.sent += 1;
            d.bytes += size;
            d.external += u64::from(external);
            d.delay_sum_ms += u64::from(delay_ms);
            d.delay_max_ms = d.delay_max_ms.max(delay_ms);
            d.last_sent = Some(d.last_sent.map_or(t, |l| l.max(t)));
        }
    }

    pub fn reject(&mut self, t: LogTime, reason: Sym, client: Sym, cause: crate::classify::Cause) {
        if let Some(h) = self.hour(t) {
            h.rejected += 1;
        }
        let key = (reason, client);
        let room = self.rejects.len() < REJECTS_MAX;
        match self.rejects.get_mut(&key) {
            Some(r) => {
                r.count += 1;
                r.first = r.first.min(t);
                r.last = r.last.max(t);
            }
            None if room => {
                self.rejects.insert(
                    key,
                    RejectCounts {
                        count: 1,
                        first: t,
                        last: t,
                        cause,
                    },
                );
            }
            None => self.dropped[3] += 1,
        }
    }

    pub fn daemon(&mut self, t: LogTime, event: DaemonEvent, text: Sym) {
        let room = self.daemon.len() < DAEMON_MAX;
        match self.daemon.get_mut(&text) {
            Some(d) => {
                d.count += 1;
                d.first = d.first.min(t);
                d.last = d.last.max(t);
            }
            None if room => {
                self.daemon.insert(
                    text,
                    DaemonCounts {
                        event,
                        count: 1,
                        first: t,
                        last: t,
                    },
                );
            }
            None => {}
        }
    }

    /// A Postfix line at `t`, in log order: a long silence before it is a
    /// gap.
    pub fn line_at(&mut self, t: LogTime) {
        let Some(prev) = self.last_line else {
            self.last_line = Some(t);
            return;
        };
        if t.0 - prev.0 >= GAP_MIN {
            self.gaps.push((prev, t));
            if self.gaps.len() > 2 * GAPS_MAX {
                self.gaps
                    .sort_by_key(|g| (std::cmp::Reverse(g.1 .0 - g.0 .0), g.0));
                self.gaps.truncate(GAPS_MAX);
            }
        }
        if t > prev {
            self.last_line = Some(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_what_they_refuse() {
        let mut t = Traffic::default();
        for d in 0..(DOMAINS_MAX as u32 + 5) {
            t.delivered(LogTime(0), d, 1, 0, true);
        }
        assert_eq!(t.domains.len(), DOMAINS_MAX);
        assert_eq!(t.dropped[1], 5);
        assert_eq!(t.hours.len(), 1);
        assert_eq!(t.hours[&0].delivered, DOMAINS_MAX as u64 + 5);
    }

    #[test]
    fn a_copy_taken_back_leaves_no_trace() {
        let mut t = Traffic::default();
        t.received(LogTime(HOUR + 5), 7, 2000, 1);
        t.received(LogTime(HOUR + 9), 7, 2100, 1);
        t.received(LogTime(HOUR + 9), 7, 2100, -1);
        assert_eq!(t.sender_domains[&7], (1, 2000));
        assert_eq!(t.hours[&HOUR].bytes_received, 2000);
        assert_eq!(t.size_bands[0], 1);
    }

    #[test]
    fn silences_become_gaps_and_the_longest_are_kept() {
        let mut t = Traffic::default();
        let mut now = 0;
        for k in 0..200 {
            t.line_at(LogTime(now));
            now += if k % 2 == 0 {
                GAP_MIN + k * MINUTE
            } else {
                MINUTE
            };
        }
        assert!(t.gaps.len() <= 2 * GAPS_MAX);
        let longest = t.gaps.iter().map(|g| g.1 .0 - g.0 .0).max().unwrap();
        assert_eq!(longest, GAP_MIN + 198 * MINUTE);
        // Out of order lines (a second host's file) never make a gap.
        t.line_at(LogTime(0));
        assert!(t.gaps.iter().all(|g| g.1 > g.0));
    }
}
