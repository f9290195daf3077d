//! The staged story: when each incident starts and ends.

use super::clock::{DAY, HOUR, MIN, SEC};
use super::rng::Rng;
use super::world::Listing;

/// The staged story's times, drawn once from the seed.
#[derive(Debug, Clone)]
pub(super) struct Story {
    pub(super) start: i64,
    pub(super) end: i64,
    pub(super) brute_start: i64,
    pub(super) brute_end: i64,
    pub(super) burst_start: i64,
    pub(super) burst_end: i64,
    pub(super) hold_at: i64,
    pub(super) script_start: i64,
    pub(super) script_end: i64,
    pub(super) filter_down: (i64, i64),
    pub(super) dns_down: (i64, i64),
    pub(super) port25: (i64, i64),
    /// (listing, start, end or None for "still at the end of the logs").
    pub(super) listings: Vec<(Listing, i64, Option<i64>)>,
}

impl Story {
    pub(super) fn draw(rng: &mut Rng) -> Story {
        let j = |rng: &mut Rng, mins: u64| rng.range(0, mins * 60) as i64 * SEC;
        let start = 6 * HOUR + 25 * MIN + 5 * SEC + j(rng, 0);
        let end = 7 * DAY + 10 * HOUR + 20 * MIN + j(rng, 20);
        let brute_start = DAY + 22 * HOUR + j(rng, 30);
        let burst_start = 2 * DAY + 9 * HOUR + 30 * MIN + j(rng, 20);
        let burst_end = burst_start + 3 * HOUR + 30 * MIN + j(rng, 10);
        let script_start = 5 * DAY + 2 * HOUR + j(rng, 30);
        let script_end = script_start + 2 * HOUR + 30 * MIN + j(rng, 10);
        let fd = 3 * DAY + 10 * HOUR + j(rng, 20);
        let dd = 4 * DAY + 14 * HOUR + 20 * MIN + j(rng, 20);
        let pd = 6 * DAY + 9 * HOUR + j(rng, 20);
        let listings = vec![
            (
                Listing::Spamhaus,
                burst_start + 45 * MIN + j(rng, 5),
                Some(3 * DAY + 16 * HOUR + j(rng, 30)),
            ),
            (Listing::Microsoft, burst_start + 60 * MIN + j(rng, 5), None),
            (
                Listing::GmailRate,
                burst_start + 75 * MIN + j(rng, 5),
                Some(2 * DAY + 23 * HOUR + j(rng, 20)),
            ),
            (
                Listing::Spamcop,
                burst_start + 90 * MIN + j(rng, 5),
                Some(3 * DAY + 12 * HOUR + j(rng, 20)),
            ),
            (
                Listing::Barracuda,
                script_start + 40 * MIN + j(rng, 5),
                None,
            ),
        ];
        Story {
            start,
            end,
            brute_start,
            brute_end: brute_start + 3 * HOUR + 20 * MIN,
            burst_start,
            burst_end,
            hold_at: burst_end + 25 * MIN + j(rng, 5),
            script_start,
            script_end,
            filter_down: (fd, fd + HOUR + 45 * MIN + j(rng, 10)),
            dns_down: (dd, dd + HOUR + 15 * MIN + j(rng, 10)),
            port25: (pd, pd + HOUR + 30 * MIN + j(rng, 10)),
            listings,
        }
    }

    pub(super) fn listing_active(&self, l: Listing, t: i64) -> bool {
        self.listings
            .iter()
            .any(|&(x, s, e)| x == l && t >= s && e.is_none_or(|e| t < e))
    }
}
