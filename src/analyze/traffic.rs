//! pflogsumm's views, from the correlator's aggregates: traffic per hour and
//! per day, delivery per recipient domain (with its state at the end of
//! the logs), messages per sender domain, our rejects per client and
//! reason, failed logins per client IP and login, sizes, and the master
//! daemon's starts, reloads and stops. Also the stretches where the logs
//! fall silent although their pace says lines were due.

use rustc_hash::FxHashMap;

use super::AnalysisOptions;
use crate::classify::Cause;
use crate::correlate::traffic::{HourCounts, SIZE_BANDS};
use crate::correlate::{Findings, OutcomeStatus, Sym};
use crate::model::{
    DaemonRow, DomainRow, KeyCount, RejectRow, SaslFailureRow, SenderDomainRow, Sizes, TimeGap,
    Traffic, TrafficRow,
};
use crate::time::{LogTime, DAY, HOUR, MINUTE};

/// Rows a view keeps in the summary (and its CSV).
const ROWS_MAX: usize = 10_000;
/// Hours the hourly table fills in between the first and the last.
const HOURS_SHOWN: i64 = 24 * 400;

/// Every view, into `Summary::traffic`.
pub fn summarize(f: &Findings, opts: &AnalysisOptions) -> Traffic {
    let mut capped = Vec::new();
    let t = &f.traffic;
    let names = ["hours", "recipient domains", "sender domains", "rejects"];
    for (name, n) in names.iter().zip(t.dropped) {
        if n > 0 {
            capped.push(format!("{name}: {n} past the cap"));
        }
    }
    let (per_hour, per_day) = hours_and_days(f, opts);
    let mut out = Traffic {
        per_hour,
        per_day,
        domains: domains(f, opts),
        sender_domains: sender_domains(f),
        rejects: rejects(f, opts),
        sasl_failures: sasl_failures(f, opts),
        sizes: sizes(f),
        daemon: daemon(f, opts),
        capped,
    };
    for (name, len) in [
        ("recipient domains", out.domains.len()),
        ("sender domains", out.sender_domains.len()),
        ("rejects", out.rejects.len()),
        ("sasl failures", out.sasl_failures.len()),
    ] {
        if len > ROWS_MAX {
            out.capped
                .push(format!("{name}: {} rows beyond {ROWS_MAX}", len - ROWS_MAX));
        }
    }
    out.domains.truncate(ROWS_MAX);
    out.sender_domains.truncate(ROWS_MAX);
    out.rejects.truncate(ROWS_MAX);
    out.sasl_failures.truncate(ROWS_MAX);
    out
}

fn row(start: String, h: &HourCounts) -> TrafficRow {
    TrafficRow {
        start,
        received: h.received,
        delivered: h.delivered,
        deferral_events: h.deferrals,
        bounced: h.bounced,
        rejected: h.rejected,
        expired: h.expired,
        bytes_received: h.bytes_received,
        bytes_delivered: h.bytes_delivered,
    }
}

fn add(a: &mut HourCounts, b: &HourCounts) {
    a.received += b.received;
    a.delivered += b.delivered;
    a.deferrals += b.deferrals;
    a.bounced += b.bounced;
    a.rejected += b.rejected;
    a.expired += b.expired;
    a.bytes_received += b.bytes_received;
    a.bytes_delivered += b.bytes_delivered;
}

/// Every hour from the first to the last (quiet ones as zeros, so a gap
/// shows), and every day.
fn hours_and_days(f: &Findings, opts: &AnalysisOptions) -> (Vec<TrafficRow>, Vec<TrafficRow>) {
    let hours = &f.traffic.hours;
    let (Some(&first), Some(&last)) = (hours.keys().min(), hours.keys().max()) else {
        return (Vec::new(), Vec::new());
    };
    let zero = HourCounts::default();
    let mut per_hour = Vec::new();
    if (last - first) / HOUR < HOURS_SHOWN {
        let mut h = first;
        while h <= last {
            per_hour.push(row(
                opts.format.iso(LogTime(h)),
                hours.get(&h).unwrap_or(&zero),
            ));
            h += HOUR;
        }
    } else {
        let mut keys: Vec<&i64> = hours.keys().collect();
        keys.sort_unstable();
        per_hour.extend(
            keys.into_iter()
                .map(|h| row(opts.format.iso(LogTime(*h)), &hours[h])),
        );
    }
    let mut days: FxHashMap<i64, HourCounts> = FxHashMap::default();
    for (h, c) in hours {
        add(days.entry(h.div_euclid(DAY) * DAY).or_default(), c);
    }
    let mut keys: Vec<i64> = days.keys().copied().collect();
    keys.sort_unstable();
    let per_day = keys
        .iter()
        .map(|d| {
            let (y, m, day, ..) = LogTime(*d).civil();
            row(format!("{y:04}-{m:02}-{day:02}"), &days[d])
        })
        .collect();
    (per_hour, per_day)
}

/// Deferrals, bounces and the last failure per recipient domain, from the
/// outcomes (their causes final after the port 25 judgement).
#[derive(Default)]
struct Failures {
    deferrals: u64,
    bounced: u64,
    last: Option<(LogTime, Cause)>,
}

fn domains(f: &Findings, opts: &AnalysisOptions) -> Vec<DomainRow> {
    let mut failed: FxHashMap<Sym, Failures> = FxHashMap::default();
    for o in &f.outcomes {
        let e = failed.entry(o.recipient_domain).or_default();
        match o.status {
            OutcomeStatus::Deferred => e.deferrals += 1,
            OutcomeStatus::Bounced => e.bounced += 1,
            OutcomeStatus::Expired => continue,
        }
        if e.last.is_none_or(|(t, _)| o.time >= t) {
            e.last = Some((o.time, o.cause));
        }
    }
    let mut keys: Vec<Sym> = f.traffic.domains.keys().copied().collect();
    keys.extend(failed.keys().filter(|d| !f.traffic.domains.contains_key(d)));
    let mut rows: Vec<DomainRow> = keys
        .into_iter()
        .map(|d| {
            let sent = f.traffic.domains.get(&d).copied().unwrap_or_default();
            let fail = failed.remove(&d).unwrap_or_default();
            let state = match (sent.last_sent, fail.last) {
                (Some(s), Some((t, _))) if t > s => "failing",
                (Some(_), _) => "ok",
                (None, _) => "never_delivered",
            };
            let secs = |ms: u64| (ms as f64 / 100.0).round() / 10.0;
            DomainRow {
                domain: match f.strings.str(d) {
                    name if name.is_empty() => "(no domain)".to_string(),
                    name => name.into_owned(),
                },
                outbound: sent.sent == 0 || sent.external * 2 >= sent.sent,
                sent: sent.sent,
                bytes: sent.bytes,
                deferral_events: fail.deferrals,
                bounced: fail.bounced,
                average_delay_seconds: secs(sent.delay_sum_ms.checked_div(sent.sent).unwrap_or(0)),
                max_delay_seconds: secs(u64::from(sent.delay_max_ms)),
                last_success: sent.last_sent.map(|t| opts.format.iso(t)),
                last_failure: fail.last.map(|(t, _)| opts.format.iso(t)),
                last_cause: fail.last.map(|(_, c)| c.id().to_string()),
                state: state.to_string(),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        let n = |r: &DomainRow| r.sent + r.deferral_events + r.bounced;
        n(b).cmp(&n(a)).then(a.domain.cmp(&b.domain))
    });
    rows
}

fn sender_domains(f: &Findings) -> Vec<SenderDomainRow> {
    let mut rows: Vec<SenderDomainRow> = f
        .traffic
        .sender_domains
        .iter()
        .filter(|(_, v)| v.0 > 0)
        .map(|(&d, &(messages, bytes))| SenderDomainRow {
            domain: f.strings.str(d).into_owned(),
            messages,
            bytes,
        })
        .collect();
    rows.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.domain.cmp(&b.domain)));
    rows
}

fn rejects(f: &Findings, opts: &AnalysisOptions) -> Vec<RejectRow> {
    let mut rows: Vec<RejectRow> = f
        .traffic
        .rejects
        .iter()
        .map(|(&(reason, client), r)| RejectRow {
            reason: f.strings.str(reason).into_owned(),
            cause: Some(r.cause.id().to_string()),
            client: f.strings.str(client).into_owned(),
            count: r.count,
            first: opts.format.iso(r.first),
            last: opts.format.iso(r.last),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.reason.cmp(&b.reason))
            .then(a.client.cmp(&b.client))
    });
    rows
}

fn sasl_failures(f: &Findings, opts: &AnalysisOptions) -> Vec<SaslFailureRow> {
    let mut by: FxHashMap<(Sym, Sym), (u64, LogTime, LogTime)> = FxHashMap::default();
    for l in &f.login_failures {
        let e = by
            .entry((l.client_ip, l.username))
            .or_insert((0, l.time, l.time));
        e.0 += 1;
        e.1 = e.1.min(l.time);
        e.2 = e.2.max(l.time);
    }
    let mut rows: Vec<SaslFailureRow> = by
        .into_iter()
        .map(|((ip, user), (n, a, b))| SaslFailureRow {
            client_ip: f.strings.str(ip).into_owned(),
            login: f.strings.str(user).into_owned(),
            failures: n,
            first: opts.format.iso(a),
            last: opts.format.iso(b),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.failures
            .cmp(&a.failures)
            .then(a.client_ip.cmp(&b.client_ip))
            .then(a.login.cmp(&b.login))
    });
    rows
}

/// `under 10 KB`, `10 KB to 100 KB`, ..., `50 MB and more`.
fn band_name(i: usize) -> String {
    let human = |b: u64| {
        if b >= 1 << 20 {
            format!("{} MB", b >> 20)
        } else {
            format!("{} KB", b >> 10)
        }
    };
    match i {
        0 => format!("under {}", human(SIZE_BANDS[0])),
        i if i < SIZE_BANDS.len() => {
            format!("{} to {}", human(SIZE_BANDS[i - 1]), human(SIZE_BANDS[i]))
        }
        _ => format!("{} and more", human(SIZE_BANDS[SIZE_BANDS.len() - 1])),
    }
}

fn sizes(f: &Findings) -> Sizes {
    let t = &f.traffic;
    Sizes {
        messages: t.size_bands.iter().sum(),
        bytes_received: f.counts.bytes_received,
        bytes_delivered: f.counts.bytes_delivered,
        largest: t.largest,
        bands: t
            .size_bands
            .iter()
            .enumerate()
            .map(|(i, &n)| KeyCount {
                key: band_name(i),
                messages: n,
                bytes: 0,
            })
            .collect(),
    }
}

fn daemon(f: &Findings, opts: &AnalysisOptions) -> Vec<DaemonRow> {
    let mut rows: Vec<(LogTime, DaemonRow)> = f
        .traffic
        .daemon
        .iter()
        .map(|(&text, d)| {
            (
                d.first,
                DaemonRow {
                    event: d.event.id().to_string(),
                    text: f.strings.str(text).into_owned(),
                    count: d.count,
                    first: opts.format.iso(d.first),
                    last: opts.format.iso(d.last),
                },
            )
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.text.cmp(&b.1.text)));
    rows.into_iter().map(|r| r.1).collect()
}

/// A silence this long at the logs' average pace would have held this many
/// Postfix lines: below it, a quiet night is no gap.
const GAP_LINES: f64 = 200.0;
/// Gaps the report names.
const GAPS_SHOWN: usize = 10;

/// Stretches without a Postfix line where the logs' own pace says at least
/// [`GAP_LINES`] were due: a rotation missing, syslog stopped.
pub fn gaps(f: &Findings, postfix_lines: u64, opts: &AnalysisOptions) -> Vec<TimeGap> {
    let (Some(first), Some(last)) = (f.first, f.last) else {
        return Vec::new();
    };
    let span = (last.0 - first.0).max(1) as f64;
    let mut gaps: Vec<&(LogTime, LogTime)> = f.traffic.gaps.iter().collect();
    // Lines per millisecond outside the gaps themselves.
    let silent: i64 = gaps.iter().map(|g| g.1 .0 - g.0 .0).sum();
    let pace = postfix_lines as f64 / (span - silent as f64).max(HOUR as f64);
    gaps.sort_by_key(|g| (std::cmp::Reverse(g.1 .0 - g.0 .0), g.0));
    let mut out: Vec<TimeGap> = gaps
        .into_iter()
        .filter_map(|&(a, b)| {
            let expected = pace * (b.0 - a.0) as f64;
            (expected >= GAP_LINES).then(|| TimeGap {
                from: opts.format.iso(a),
                to: opts.format.iso(b),
                minutes: ((b.0 - a.0) / MINUTE) as u64,
                expected_lines: expected.round() as u64,
            })
        })
        .take(GAPS_SHOWN)
        .collect();
    out.sort_by(|a, b| a.from.cmp(&b.from));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Classifier;
    use crate::correlate::{Correlator, YearPolicy};
    use crate::parse::parse_chunk;

    fn findings(log: &str) -> Findings {
        let classifier = Classifier::builtin();
        let mut c = Correlator::new(
            &classifier,
            YearPolicy {
                forced: Some(2026),
                anchor: None,
            },
        );
        let p = parse_chunk(log.as_bytes());
        c.consume(0, 1, log.as_bytes(), &p.events);
        c.finish()
    }

    const LOG: &str = "\
Nov 28 18:30:12 mail postfix/master[100]: daemon started -- version 3.7.11, configuration /etc/postfix
Nov 28 18:30:12 mail postfix/smtpd[18071]: D375AD054A: client=a.example[192.0.2.1], sasl_method=PLAIN, sasl_username=alice@lab.test
Nov 28 18:30:12 mail postfix/qmgr[18040]: D375AD054A: from=<alice@lab.test>, size=2048, nrcpt=2 (queue active)
Nov 28 18:30:13 mail postfix/smtp[18070]: D375AD054A: to=<a@gmail-like.test>, relay=mx.gmail-like.test[192.0.2.20]:25, delay=1.25, delays=0.02/0.01/0/0.02, dsn=2.0.0, status=sent (250 2.0.0 OK)
Nov 28 18:30:14 mail postfix/smtp[18070]: D375AD054A: to=<b@example.org>, relay=mx.example.org[192.0.2.21]:25, delay=2, delays=0.02/0.01/0/0.02, dsn=4.2.0, status=deferred (host mx.example.org[192.0.2.21] said: 450 4.2.0 Greylisted)
Nov 28 18:40:14 mail postfix/qmgr[18040]: D375AD054A: from=<alice@lab.test>, size=2048, nrcpt=2 (queue active)
Nov 28 19:40:14 mail postfix/smtp[18070]: D375AD054A: to=<b@example.org>, relay=mx.example.org[192.0.2.21]:25, delay=600, delays=0.02/0.01/0/0.02, dsn=2.0.0, status=sent (250 ok)
Nov 28 19:40:14 mail postfix/qmgr[18040]: D375AD054A: removed
Nov 28 19:41:00 mail postfix/smtpd[18071]: NOQUEUE: reject: RCPT from dsl-66.badisp.test[192.0.2.66]: 554 5.7.1 Service unavailable; Client host [192.0.2.66] blocked using zen.spamhaus.org; from=<x@badisp.test> to=<bob@lab.test> proto=ESMTP helo=<x>
Nov 28 19:42:00 mail postfix/smtpd[18071]: warning: unknown[192.0.2.88]: SASL PLAIN authentication failed: authentication failure, sasl_username=dave@lab.test
Nov 28 19:43:00 mail postfix/master[100]: reload -- version 3.7.11, configuration /etc/postfix
";

    #[test]
    fn the_views_count_what_pflogsumm_counts() {
        let f = findings(LOG);
        let t = summarize(&f, &AnalysisOptions::default());
        assert_eq!(t.per_hour.len(), 2);
        let h18 = &t.per_hour[0];
        assert_eq!(
            (h18.received, h18.delivered, h18.deferral_events),
            (1, 1, 1)
        );
        assert_eq!(h18.bytes_received, 2048);
        let h19 = &t.per_hour[1];
        assert_eq!((h19.delivered, h19.rejected), (1, 1));
        assert_eq!(t.per_day.len(), 1);
        assert_eq!(t.per_day[0].start, "2026-11-28");
        let org = t
            .domains
            .iter()
            .find(|d| d.domain == "example.org")
            .unwrap();
        assert_eq!(
            (org.sent, org.deferral_events, org.state.as_str()),
            (1, 1, "ok")
        );
        // From its first arrival (the line's delay= says 600 s, logged
        // wrong on purpose: a filter's copy counts from its re-injection).
        assert_eq!(org.max_delay_seconds, 4202.0);
        assert_eq!(org.last_cause.as_deref(), Some("greylisted"));
        let gm = t
            .domains
            .iter()
            .find(|d| d.domain == "gmail-like.test")
            .unwrap();
        assert_eq!(gm.average_delay_seconds, 1.3);
        assert_eq!(t.sender_domains[0].domain, "lab.test");
        assert_eq!(t.sender_domains[0].bytes, 2048);
        assert_eq!(t.rejects.len(), 1);
        assert_eq!(t.rejects[0].client, "dsl-66.badisp.test[192.0.2.66]");
        assert_eq!(t.sasl_failures[0].client_ip, "192.0.2.88");
        assert_eq!(t.sasl_failures[0].login, "dave@lab.test");
        assert_eq!(t.sizes.messages, 1);
        assert_eq!(t.sizes.largest, 2048);
        let events: Vec<&str> = t.daemon.iter().map(|d| d.event.as_str()).collect();
        assert_eq!(events, ["started", "reloaded"]);
    }

    #[test]
    fn a_silence_the_pace_did_not_expect_is_a_gap() {
        let mut log = String::new();
        // 300 lines an hour for two hours, nothing for three, then more.
        for (start, hours) in [(8, 2), (13, 1)] {
            for k in 0..(300 * hours) {
                let m = k * 60 / 300;
                log += &format!(
                    "Nov 28 {:02}:{:02}:{:02} mail postfix/qmgr[1]: ABCDE{:05}: removed\n",
                    start + m / 60,
                    m % 60,
                    k % 60,
                    k
                );
            }
        }
        let f = findings(&log);
        let gaps = gaps(&f, 900, &AnalysisOptions::default());
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert!(gaps[0].from.starts_with("2026-11-28T09:59"), "{gaps:?}");
        assert!(gaps[0].minutes >= 180);
    }
}
