//! Port 25 blocked on a server that talks to few destinations.
//!
//! The judgement over many destinations at once (`classify::judge_port25`)
//! needs traffic to several domains within minutes. A small server (a
//! Raspberry Pi sending to Gmail only) never has that: every attempt on
//! port 25 times out, for days, towards the one provider it uses. What
//! tells a block from that provider being down is time and breadth: all of
//! a provider's MX hosts do not stop answering for hours, but a filter on
//! outbound port 25 makes them all time out, and no SMTP server answers on
//! port 25 in the meantime.
//!
//! The rule: connect failures of one kind on port 25 that follow each
//! other with gaps under [`MAX_GAP`] form a run; a run that holds at least
//! [`MIN_ATTEMPTS`] attempts, during which no attempt reached an SMTP
//! server on port 25 (no reply, no delivery), and that lasts at least
//! [`MIN_SPAN`] towards [`MIN_HOSTS`] or more hosts, or [`MIN_SPAN_ONE`]
//! towards one, is a local block. Postfix names only the last MX it tried
//! (`connect to alt4.gmail-smtp-in...`), so one host named for half a day
//! is still all of them failing.
//!
//! Such runs, and the runs of the many-destinations rule, become incidents
//! here when they are too thin for the timeline's (a few attempts an hour).

use rustc_hash::FxHashSet;

use super::AnalysisOptions;
use crate::classify::{Cause, ConnectFailure};
use crate::correlate::{Findings, OutcomeStatus, Sym};
use crate::model::{HeadlineItem, Incident, Summary};
use crate::time::{LogTime, HOUR};

/// The longest pause between attempts of one run (Postfix's maximal
/// backoff is 4000 s; a server switched off at night pauses longer).
pub const MAX_GAP: i64 = 6 * HOUR;
/// The shortest run that counts.
pub const MIN_SPAN: i64 = HOUR;
/// The shortest run that counts when one host is named.
pub const MIN_SPAN_ONE: i64 = 12 * HOUR;
pub const MIN_ATTEMPTS: usize = 5;
pub const MIN_HOSTS: usize = 2;

/// Re-judges connect failures on port 25 that the many-destinations rule
/// left to `remote_unavailable`.
pub fn judge_lasting_block(f: &mut Findings) {
    let mut contacts = f.port25_contacts.clone();
    contacts.sort_unstable();
    for kind in [
        ConnectFailure::TimedOut,
        ConnectFailure::NoRoute,
        ConnectFailure::NetworkUnreachable,
    ] {
        let mut idx: Vec<usize> = f
            .outcomes
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                o.connect_failure == Some(kind)
                    && matches!(o.port, 0 | 25)
                    && o.cause == Cause::RemoteUnavailable
            })
            .map(|(i, _)| i)
            .collect();
        idx.sort_by_key(|&i| (f.outcomes[i].time, i));
        let mut start = 0;
        while start < idx.len() {
            let mut end = start;
            while end + 1 < idx.len()
                && f.outcomes[idx[end + 1]].time.0 - f.outcomes[idx[end]].time.0 <= MAX_GAP
            {
                end += 1;
            }
            let run = &idx[start..=end];
            if is_block(f, run, &contacts) {
                for &i in run {
                    f.outcomes[i].cause = Cause::Port25Blocked;
                }
            }
            start = end + 1;
        }
    }
}

fn is_block(f: &Findings, run: &[usize], contacts: &[LogTime]) -> bool {
    if run.len() < MIN_ATTEMPTS {
        return false;
    }
    let (first, last) = (f.outcomes[run[0]].time, f.outcomes[run[run.len() - 1]].time);
    let hosts: FxHashSet<u32> = run
        .iter()
        .map(|&i| f.reply(&f.outcomes[i]).remote_host)
        .collect();
    let span = last.0 - first.0;
    if span < MIN_SPAN || (hosts.len() < MIN_HOSTS && span < MIN_SPAN_ONE) {
        return false;
    }
    // Nothing answered on port 25 meanwhile.
    let p = contacts.partition_point(|&t| t < first);
    !(p < contacts.len() && contacts[p] <= last)
}

/// Incidents for runs of `port25_blocked` attempts that no incident of
/// the timeline covers (too few per bucket), with their headline items.
pub fn add_incidents(f: &Findings, opts: &AnalysisOptions, summary: &mut Summary) {
    let mut idx: Vec<usize> = (0..f.outcomes.len())
        .filter(|&i| f.outcomes[i].cause == Cause::Port25Blocked)
        .collect();
    idx.sort_by_key(|&i| (f.outcomes[i].time, i));
    let mut start = 0;
    while start < idx.len() {
        let mut end = start;
        while end + 1 < idx.len()
            && f.outcomes[idx[end + 1]].time.0 - f.outcomes[idx[end]].time.0 <= MAX_GAP
        {
            end += 1;
        }
        let run = &idx[start..=end];
        start = end + 1;
        if run.len() < MIN_ATTEMPTS {
            continue;
        }
        let (first, last) = (f.outcomes[run[0]].time, f.outcomes[run[run.len() - 1]].time);
        let covered = summary.incidents.iter().any(|i| {
            i.cause == Cause::Port25Blocked.id()
                && super::local::time_of(&i.start).is_some_and(|a| a <= last)
                && super::local::time_of(&i.end).is_some_and(|b| b >= first)
        });
        if covered {
            continue;
        }
        let (inc, item) = run_incident(f, opts, run);
        summary.incidents.push(inc);
        super::local::insert_headline(summary, item);
    }
}

fn run_incident(f: &Findings, opts: &AnalysisOptions, run: &[usize]) -> (Incident, HeadlineItem) {
    let s = |sym: Sym| f.strings.str(sym).into_owned();
    let o = |i: usize| &f.outcomes[i];
    let (first, last) = (o(run[0]).time, o(run[run.len() - 1]).time);
    let messages: FxHashSet<u32> = run.iter().map(|&i| o(i).message).collect();
    let mut hosts: Vec<Sym> = run.iter().map(|&i| f.reply(o(i)).remote_host).collect();
    hosts.sort_unstable();
    hosts.dedup();
    let deferrals = run
        .iter()
        .filter(|&&i| o(i).status == OutcomeStatus::Deferred)
        .count() as u64;
    let cause = Cause::Port25Blocked;
    let inc = Incident {
        cause: cause.id().to_string(),
        start: opts.format.iso(first),
        end: opts.format.iso(last),
        deferral_events: deferrals,
        messages: messages.len() as u64,
        share_of_deferrals: super::pct(deferrals, f.counts.deferral_events),
        receivers: hosts
            .iter()
            .filter(|&&h| h != 0)
            .take(10)
            .map(|&h| s(h))
            .collect(),
        first_example: Some(s(f.reply(o(run[0])).text)),
        last_example: Some(s(f.reply(o(run[run.len() - 1])).text)),
        ..Incident::default()
    };
    let short = |t: LogTime| {
        t.iso()
            .replace('T', " ")
            .chars()
            .take(16)
            .collect::<String>()
    };
    let item = HeadlineItem {
        cause: inc.cause.clone(),
        title: cause.title().to_string(),
        text: format!(
            "{} from {} to {}: every attempt on port 25 failed the same way ({} attempts, {} messages held up) and no SMTP server answered on port 25 meanwhile.",
            cause.title(),
            short(first),
            short(last),
            run.len(),
            messages.len()
        ),
        start: Some(inc.start.clone()),
        end: Some(inc.end.clone()),
        messages: inc.messages,
        evidence: inc.first_example.clone(),
        fix: cause.fix().iter().map(|x| x.to_string()).collect(),
        ..HeadlineItem::default()
    };
    (inc, item)
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
                forced: Some(2016),
                anchor: None,
            },
        );
        let p = parse_chunk(log.as_bytes());
        c.consume(0, 1, log.as_bytes(), &p.events);
        c.finish()
    }

    /// Like public2's starshipengineer server: a home server whose every
    /// attempt to Gmail's MX hosts times out, for hours; nothing else is sent.
    fn gmail_only(extra: &str) -> String {
        let mut log = String::from("Jun 10 08:00:00 pi postfix/pickup[1]: 1A2B3C4D5E: uid=1000 from=<pi>\nJun 10 08:00:00 pi postfix/qmgr[2]: 1A2B3C4D5E: from=<pi@home.example>, size=400, nrcpt=1 (queue active)\n");
        let hosts = [
            ("gmail-smtp-in.l.google.com", "192.0.2.27"),
            ("alt1.gmail-smtp-in.l.google.com", "192.0.2.28"),
            ("alt2.gmail-smtp-in.l.google.com", "192.0.2.29"),
            ("alt3.gmail-smtp-in.l.google.com", "192.0.2.30"),
            ("alt4.gmail-smtp-in.l.google.com", "192.0.2.31"),
        ];
        for k in 0..8 {
            let (h, ip) = hosts[k % 5];
            log += &format!("Jun 10 {:02}:30:00 pi postfix/smtp[3]: 1A2B3C4D5E: to=<someone@gmail.com>, relay=none, delay=1, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to {h}[{ip}]:25: Connection timed out)\n", 8 + k);
        }
        log + extra
    }

    #[test]
    fn hours_of_timeouts_to_one_provider_are_a_block() {
        let f = {
            let mut f = findings(&gmail_only(""));
            crate::analyze::apply_port25_judgement(&mut f);
            judge_lasting_block(&mut f);
            f
        };
        assert_eq!(f.outcomes.len(), 8);
        assert!(f.outcomes.iter().all(|o| o.cause == Cause::Port25Blocked));
    }

    #[test]
    fn an_answer_on_port_25_meanwhile_says_the_provider_is_down_not_us() {
        let sent = "Jun 10 11:00:00 pi postfix/smtp[3]: 1A2B3C4D5F: to=<a@example.org>, relay=mx.example.org[192.0.2.9]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n";
        let mut f = findings(&gmail_only(sent));
        judge_lasting_block(&mut f);
        assert!(f
            .outcomes
            .iter()
            .all(|o| o.cause == Cause::RemoteUnavailable));
    }

    #[test]
    fn one_dead_host_or_a_short_run_is_not_a_block() {
        let mut log = String::new();
        for k in 0..8 {
            log += &format!("Jun 10 {:02}:30:00 h postfix/smtp[3]: 1A2B3C4D5E: to=<x@dead.example>, relay=none, delay=1, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to mx.dead.example[192.0.2.1]:25: Connection timed out)\n", 8 + k);
        }
        let mut f = findings(&log);
        judge_lasting_block(&mut f);
        assert!(f
            .outcomes
            .iter()
            .all(|o| o.cause == Cause::RemoteUnavailable));
    }
}
