//! The small tables made from the analysis: `episodes` (blacklistings),
//! `incidents`, `suspects`, `guessing` (password guessing) and `queue` (a
//! dump's recipients). They come from the Summary after redaction, so they
//! say what the report says.

use super::frame::{Kind, Schema};
use super::partition::Partitioned;
use super::{rows::date_of, SCHEMA_VERSION};
use crate::model::Summary;
use crate::report::csv::QueueRow;
use crate::time::LogTime;

pub const EPISODES: Schema = &[
    ("schema_version", Kind::U32),
    ("run_id", Kind::Str),
    ("host", Kind::Str),
    ("list", Kind::Str),
    ("receivers", Kind::Str),
    ("first_seen", Kind::Time),
    ("last_seen", Kind::Time),
    ("utc_offset", Kind::I32),
    ("state", Kind::Str),
    ("accepted_again", Kind::Time),
    ("deferrals", Kind::U64),
    ("bounces", Kind::U64),
    ("messages", Kind::U64),
    ("recipient_domains", Kind::U64),
    ("listed_ip", Kind::Str),
    ("cause", Kind::Str),
    ("standing", Kind::Str),
    ("example", Kind::Str),
];

pub const INCIDENTS: Schema = &[
    ("schema_version", Kind::U32),
    ("run_id", Kind::Str),
    ("host", Kind::Str),
    ("cause", Kind::Str),
    ("start", Kind::Time),
    ("end", Kind::Time),
    ("utc_offset", Kind::I32),
    ("deferral_events", Kind::U64),
    ("messages", Kind::U64),
    ("share_of_deferrals", Kind::F64),
    ("receivers", Kind::Str),
    ("local_kind", Kind::Str),
    ("first_example", Kind::Str),
];

pub const SUSPECTS: Schema = &[
    ("schema_version", Kind::U32),
    ("run_id", Kind::Str),
    ("host", Kind::Str),
    ("rank", Kind::U32),
    ("identity", Kind::Str),
    ("kind", Kind::Str),
    ("score", Kind::F64),
    ("episode", Kind::Str),
    ("listing_onset", Kind::Time),
    ("messages", Kind::U64),
    ("recipients", Kind::U64),
    ("excess_recipients", Kind::U64),
    ("client_ips", Kind::Str),
    ("new_client_ips", Kind::Str),
    ("failed_logins_before", Kind::U64),
    ("evidence", Kind::Str),
];

pub const GUESSING: Schema = &[
    ("schema_version", Kind::U32),
    ("run_id", Kind::Str),
    ("host", Kind::Str),
    ("kind", Kind::Str),
    ("key", Kind::Str),
    ("failures", Kind::U64),
    ("distinct", Kind::U64),
    ("first", Kind::Time),
    ("last", Kind::Time),
    ("login_after", Kind::Time),
    ("login_after_ip", Kind::Str),
    ("targets", Kind::Str),
];

pub const QUEUE: Schema = &[
    ("schema_version", Kind::U32),
    ("run_id", Kind::Str),
    ("host", Kind::Str),
    ("dump_time", Kind::Time),
    ("queue_id", Kind::Str),
    ("queue", Kind::Str),
    ("arrival", Kind::Time),
    ("age_minutes", Kind::U64),
    ("size", Kind::U64),
    ("sender", Kind::Str),
    ("recipient", Kind::Str),
    ("domain", Kind::Str),
    ("cause", Kind::Str),
    ("reason", Kind::Str),
    ("identity", Kind::Str),
    ("client_ip", Kind::Str),
];

/// An ISO 8601 time of the Summary: the wall clock and its UTC offset
/// when it carries one (`2026-01-03T10:11:12.5+01:00`).
pub fn parse_iso(s: &str) -> Option<(LogTime, Option<i32>)> {
    let (date, rest) = s.split_once('T')?;
    let clock_end = rest.find(['+', 'Z']).or_else(|| rest.rfind('-'));
    let (clock, zone) = rest.split_at(clock_end.unwrap_or(rest.len()));
    let (whole, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let t = LogTime::parse_local(&format!("{date}T{whole}")).ok()?;
    let ms: i64 = frac
        .get(..frac.len().min(3))
        .filter(|f| !f.is_empty())
        .and_then(|f| format!("{f:0<3}").parse().ok())
        .unwrap_or(0);
    let offset = match zone {
        "" => None,
        "Z" => Some(0),
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let (h, m) = z[1..].split_once(':').unwrap_or((&z[1..], "0"));
            Some(sign * (h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60))
        }
    };
    Some((LogTime(t.0 + ms), offset))
}

fn time(s: Option<&str>) -> Option<i64> {
    s.and_then(parse_iso).map(|(t, _)| t.0)
}

fn offset(s: &str) -> Option<i32> {
    parse_iso(s).and_then(|(_, o)| o)
}

/// The calendar day a row is filed under; the run's first day when the
/// row has no time.
fn day(s: Option<&str>, fallback: &str) -> String {
    s.and_then(parse_iso)
        .map_or_else(|| fallback.to_string(), |(t, _)| date_of(t))
}

fn joined(v: &[String]) -> String {
    v.join("; ")
}

/// Writes the tables made from the (redacted) Summary.
pub fn write(
    s: &Summary,
    queue: &[QueueRow],
    host: &str,
    run_id: &str,
    tables: &mut [Partitioned; 5],
) -> crate::Result<()> {
    let first = day(s.period.first.as_deref(), "unknown");
    let v = Some(u32::from(SCHEMA_VERSION));
    let [episodes, incidents, suspects, guessing, queue_t] = tables;
    for e in &s.blacklistings {
        episodes
            .row(host, &day(Some(&e.first_seen), &first))?
            .u32(v)
            .str(Some(run_id))
            .str(Some(host))
            .str(Some(&e.list))
            .str(Some(&joined(&e.receivers)))
            .time(time(Some(&e.first_seen)))
            .time(time(Some(&e.last_seen)))
            .i32(offset(&e.first_seen))
            .str(Some(e.state.id()).filter(|x| !x.is_empty()))
            .time(time(e.accepted_again.as_deref()))
            .u64(Some(e.deferrals))
            .u64(Some(e.bounces))
            .u64(Some(e.messages))
            .u64(Some(e.recipient_domains))
            .str(e.listed_ip.as_deref())
            .str(Some(&e.cause))
            .str(Some(e.standing.id()))
            .str(Some(&e.example))
            .end();
    }
    for i in &s.incidents {
        incidents
            .row(host, &day(Some(&i.start), &first))?
            .u32(v)
            .str(Some(run_id))
            .str(Some(host))
            .str(Some(&i.cause))
            .time(time(Some(&i.start)))
            .time(time(Some(&i.end)))
            .i32(offset(&i.start))
            .u64(Some(i.deferral_events))
            .u64(Some(i.messages))
            .f64(Some(i.share_of_deferrals))
            .str(Some(&joined(&i.receivers)))
            .str(i.local_kind.as_deref())
            .str(i.first_example.as_deref())
            .end();
    }
    for x in &s.suspects {
        let new_ips: Vec<String> = x
            .ip_uses
            .iter()
            .filter(|u| !u.usual)
            .map(|u| u.ip.clone())
            .collect();
        suspects
            .row(host, &day(x.listing_onset.as_deref(), &first))?
            .u32(v)
            .str(Some(run_id))
            .str(Some(host))
            .u32(Some(x.rank))
            .str(Some(&x.identity))
            .str(Some(&x.kind))
            .f64(Some(x.score))
            .str(Some(&x.episode))
            .time(time(x.listing_onset.as_deref()))
            .u64(Some(x.messages))
            .u64(Some(x.recipients))
            .u64(Some(x.excess_recipients))
            .str(Some(&joined(&x.client_ips)))
            .str(Some(&joined(&new_ips)))
            .u64(Some(x.failed_logins_before))
            .str(Some(&joined(&x.evidence)))
            .end();
    }
    for g in &s.password_guessing {
        guessing
            .row(host, &day(g.first.as_deref(), &first))?
            .u32(v)
            .str(Some(run_id))
            .str(Some(host))
            .str(Some(&g.kind))
            .str(Some(&g.key))
            .u64(Some(g.failures))
            .u64(Some(g.distinct))
            .time(time(g.first.as_deref()))
            .time(time(g.last.as_deref()))
            .time(time(g.login_after.as_deref()))
            .str(g.login_after_ip.as_deref())
            .str(Some(&joined(&g.targets)))
            .end();
    }
    let dump = s.queue.as_ref().map(|q| q.dump_time.as_str());
    for r in queue {
        queue_t
            .row(host, &day(dump, &first))?
            .u32(v)
            .str(Some(run_id))
            .str(Some(host))
            .time(time(dump))
            .str(Some(&r.queue_id))
            .str(Some(&r.queue))
            .time(time(Some(&r.arrival)))
            .u64(Some(r.age_minutes))
            .u64(Some(r.size))
            .str(Some(&r.sender))
            .str(Some(&r.recipient))
            .str(Some(&r.domain))
            .str(Some(&r.cause))
            .str(r.reason.as_deref())
            .str(r.identity.as_deref())
            .str(r.client_ip.as_deref())
            .end();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_times_read_back_with_their_offsets() {
        let t = LogTime::from_civil(2026, 1, 3, 10, 11, 12, 0).unwrap();
        assert_eq!(parse_iso("2026-01-03T10:11:12"), Some((t, None)));
        assert_eq!(
            parse_iso("2026-01-03T10:11:12+01:00"),
            Some((t, Some(3600)))
        );
        assert_eq!(
            parse_iso("2026-01-03T10:11:12.5-05:30"),
            Some((LogTime(t.0 + 500), Some(-19800)))
        );
        assert_eq!(parse_iso("2026-01-03"), None);
    }
}
