//! The server itself: what it said about its own failures, as a table of
//! evidence, as incidents and in the headline; and what the reader should
//! know about how it ran (soft bounces, filter discards, Plesk's limits).

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use super::{outcomes, pct, AnalysisOptions};
use crate::classify::{Cause, LocalKind};
use crate::correlate::{Findings, LocalEvent, LocalSource, OutcomeStatus, Sym};
use crate::model::{HeadlineItem, Incident, LocalFailure, OutgoingLimitRow, Summary};
use crate::time::{LogTime, HOUR};

/// Lines of one kind further apart than this are two incidents.
pub const LOCAL_GAP: i64 = 2 * HOUR;
/// Rows the local failures table keeps.
const MAX_ROWS: usize = 1000;
/// Local failures the headline names at most.
const MAX_HEADLINE: usize = 3;

/// Everything this module adds to the summary, after the causes, the
/// incidents and the first headline are made.
pub fn summarize(f: &Findings, opts: &AnalysisOptions, summary: &mut Summary) {
    outcomes::removal_causes(f, summary);
    summary.local_failures = failures_table(f, opts);
    local_incidents(f, opts, summary);
    super::lasting::add_incidents(f, opts, summary);
    outcomes::bounce_and_reject_headline(summary);
    summary.outgoing_limits = outgoing_limits(f, opts);
    notes(f, summary);
}

/// The evidence table: every diagnostic group, and the deferrals and
/// bounces that point to the server, by kind.
fn failures_table(f: &Findings, opts: &AnalysisOptions) -> Vec<LocalFailure> {
    let fmt = &opts.format;
    let s = |sym: Sym| f.strings.str(sym).into_owned();
    let mut rows: Vec<LocalFailure> = f
        .diagnostics
        .iter()
        .map(|g| {
            let (kind, title, stops, fix) = match g.kind {
                Some(k) => (k.id(), k.title().to_string(), k.stops_mail(), k.fix()),
                None => (
                    "other",
                    format!("Other {}", g.severity.id()),
                    false,
                    &[][..],
                ),
            };
            LocalFailure {
                kind: kind.to_string(),
                title,
                severity: g.severity.id().to_string(),
                program: s(g.program),
                count: g.count,
                first: fmt.iso(g.first),
                last: fmt.iso(g.last),
                example: s(g.text),
                stops_mail: stops,
                fix: fix.iter().map(|x| x.to_string()).collect(),
                lines: Vec::new(),
            }
        })
        .collect();
    // (kind, text, source) -> (count, first, last, example)
    type Group = (u64, LogTime, LogTime, Sym);
    let mut from_outcomes: FxHashMap<(LocalKind, Sym, LocalSource), Group> = FxHashMap::default();
    for e in f
        .local
        .iter()
        .filter(|e| !matches!(e.source, LocalSource::Said(_)))
    {
        let r = from_outcomes
            .entry((e.kind, e.normalised, e.source))
            .or_insert((0, e.time, e.time, e.text));
        r.0 += 1;
        r.1 = r.1.min(e.time);
        r.2 = r.2.max(e.time);
    }
    for ((kind, _, source), (count, first, last, text)) in from_outcomes {
        rows.push(LocalFailure {
            kind: kind.id().to_string(),
            title: kind.title().to_string(),
            severity: source.id().to_string(),
            program: "postfix".to_string(),
            count,
            first: fmt.iso(first),
            last: fmt.iso(last),
            example: s(text),
            stops_mail: kind.stops_mail(),
            fix: kind.fix().iter().map(|x| x.to_string()).collect(),
            lines: Vec::new(),
        });
    }
    rows.sort_by(|a, b| {
        b.stops_mail
            .cmp(&a.stops_mail)
            .then(b.count.cmp(&a.count))
            .then(a.kind.cmp(&b.kind))
            .then(a.example.cmp(&b.example))
    });
    rows.truncate(MAX_ROWS);
    rows
}

/// A run of one kind's lines.
struct Cluster {
    kind: LocalKind,
    first: LogTime,
    last: LogTime,
    lines: u64,
    queued: u32,
    fatal: bool,
    programs: BTreeSet<Sym>,
    /// The first line, and the first fatal or panic line (the daemon's
    /// own last words say most).
    first_text: (Sym, Sym),
    worst_text: Option<(Sym, Sym)>,
    last_text: (Sym, Sym),
}

impl Cluster {
    fn example(&self) -> (Sym, Sym) {
        self.worst_text.unwrap_or(self.first_text)
    }
}

/// The lines a run needs to be an incident: one fatal configuration,
/// start-up error or panic stops a daemon; other kinds need a few.
fn enough(c: &Cluster) -> bool {
    let one = matches!(
        c.kind,
        LocalKind::Config | LocalKind::Startup | LocalKind::Panic
    ) && c.fatal;
    c.lines >= 3 || one
}

fn clusters(f: &Findings) -> Vec<Cluster> {
    let mut by_kind: FxHashMap<LocalKind, Vec<&LocalEvent>> = FxHashMap::default();
    for e in &f.local {
        if let LocalSource::Said(_) = e.source {
            by_kind.entry(e.kind).or_default().push(e);
        }
    }
    let mut out = Vec::new();
    for (kind, mut events) in by_kind {
        events.sort_by_key(|e| e.time);
        let mut cur: Option<Cluster> = None;
        for e in events {
            let fatal = matches!(
                e.source,
                LocalSource::Said(crate::parse::Severity::Fatal | crate::parse::Severity::Panic)
            );
            match &mut cur {
                Some(c) if e.time.0 - c.last.0 <= LOCAL_GAP => {
                    c.last = e.time;
                    c.lines += 1;
                    c.queued = c.queued.max(e.queued);
                    if fatal && !c.fatal {
                        c.worst_text = Some((e.program, e.text));
                    }
                    c.fatal |= fatal;
                    c.programs.insert(e.program);
                    c.last_text = (e.program, e.text);
                }
                _ => {
                    out.extend(cur.take());
                    cur = Some(Cluster {
                        kind,
                        first: e.time,
                        last: e.time,
                        lines: 1,
                        queued: e.queued,
                        fatal,
                        programs: BTreeSet::from([e.program]),
                        first_text: (e.program, e.text),
                        worst_text: fatal.then_some((e.program, e.text)),
                        last_text: (e.program, e.text),
                    });
                }
            }
        }
        out.extend(cur);
    }
    out.retain(enough);
    out.sort_by_key(|c| (c.first, c.kind));
    out
}

/// The cause an incident of a local kind is filed under.
fn cause_of(kind: LocalKind) -> Cause {
    match kind {
        LocalKind::ContentFilter => Cause::ContentFilterDown,
        LocalKind::Relayhost => Cause::RelayUnavailable,
        _ => Cause::LocalSystem,
    }
}

/// The wall-clock time of a report time (`2026-01-03T10:00:00+01:00`).
pub(super) fn time_of(iso: &str) -> Option<LogTime> {
    LogTime::parse_local(iso.get(..19).unwrap_or(iso)).ok()
}

fn short(t: LogTime) -> String {
    t.iso().replace('T', " ").chars().take(16).collect()
}

/// How near a kind is to the root of a failure: a fatal configuration
/// error explains the crash loop that follows it, not the other way round.
fn rank(kind: LocalKind) -> u8 {
    LocalKind::ALL
        .iter()
        .position(|&k| k == kind)
        .map_or(u8::MAX, |p| match kind {
            LocalKind::CrashLoop => 200,
            LocalKind::Fatal => 190,
            LocalKind::Panic => 180,
            _ => p as u8,
        })
}

/// Runs of different kinds that overlap in time and share a cause: one
/// failure seen from several daemons (a fatal error and master's crash
/// loop). The first cluster of each group is the likeliest root.
fn episodes(mut clusters: Vec<Cluster>) -> Vec<Vec<Cluster>> {
    clusters.sort_by_key(|c| (c.first, c.kind));
    let mut out: Vec<(Cause, LogTime, Vec<Cluster>)> = Vec::new();
    for c in clusters {
        let cause = cause_of(c.kind);
        match out
            .iter_mut()
            .find(|(k, last, _)| *k == cause && c.first.0 <= last.0 + LOCAL_GAP)
        {
            Some(e) => {
                e.1 = e.1.max(c.last);
                e.2.push(c);
            }
            None => out.push((cause, c.last, vec![c])),
        }
    }
    out.into_iter()
        .map(|(_, _, mut group)| {
            group.sort_by_key(|c| (rank(c.kind), std::cmp::Reverse(c.lines)));
            group
        })
        .collect()
}

/// Incidents (and headline items) from runs of local failure lines; a run
/// that overlaps an incident of the same cause made from deferrals is
/// added to it.
fn local_incidents(f: &Findings, opts: &AnalysisOptions, summary: &mut Summary) {
    let fmt = &opts.format;
    let s = |sym: Sym| f.strings.str(sym).into_owned();
    let said = |t: (Sym, Sym)| format!("{}: {}", s(t.0), s(t.1));
    let mut items = Vec::new();
    for group in episodes(clusters(f)) {
        let root = &group[0];
        let cause = cause_of(root.kind);
        let first = group.iter().map(|c| c.first).min().expect("one cluster");
        let last = group.iter().map(|c| c.last).max().expect("one cluster");
        let lines: u64 = group.iter().map(|c| c.lines).sum();
        let queued = group.iter().map(|c| c.queued).max().unwrap_or(0);
        let programs: BTreeSet<String> = group
            .iter()
            .flat_map(|c| c.programs.iter().map(|&p| s(p)))
            .collect();
        let times = |n: u64| {
            if n == 1 {
                "once".to_string()
            } else {
                format!("{n} times")
            }
        };
        let mut evidence = format!("\"{}\" {}", said(root.example()), times(root.lines));
        for c in group.iter().skip(1).take(2) {
            evidence += &format!(", with \"{}\" {}", said(c.example()), times(c.lines));
        }
        let overlaps = summary.incidents.iter_mut().find(|i| {
            i.cause == cause.id()
                && time_of(&i.start).is_some_and(|a| a.0 <= last.0 + LOCAL_GAP)
                && time_of(&i.end).is_some_and(|b| b.0 + LOCAL_GAP >= first.0)
        });
        if let Some(inc) = overlaps {
            inc.local_kind = Some(root.kind.id().to_string());
            inc.local_lines += lines;
            inc.programs.extend(programs);
            if let Some(h) = summary
                .headline
                .iter_mut()
                .find(|h| h.cause == inc.cause && h.start.as_deref() == Some(&inc.start))
            {
                h.text += &format!(" The server logged {evidence}.");
            }
            continue;
        }
        let deferrals = f
            .outcomes
            .iter()
            .filter(|o| {
                o.status == OutcomeStatus::Deferred
                    && o.cause == cause
                    && o.time >= first
                    && o.time <= last
            })
            .count() as u64;
        let latest = group.iter().max_by_key(|c| c.last).expect("one cluster");
        let inc = Incident {
            cause: cause.id().to_string(),
            start: fmt.iso(first),
            end: fmt.iso(last),
            deferral_events: deferrals,
            messages: u64::from(queued),
            share_of_deferrals: pct(deferrals, f.counts.deferral_events),
            receivers: Vec::new(),
            first_example: Some(said(root.example())),
            last_example: Some(said(latest.last_text)),
            local_kind: Some(root.kind.id().to_string()),
            local_lines: lines,
            programs: programs.into_iter().collect(),
            lines: Vec::new(),
        };
        let held = match queued {
            0 => String::new(),
            1 => "; 1 message was queued meanwhile".to_string(),
            n => format!("; {n} messages were queued meanwhile"),
        };
        let text = format!(
            "{} from {} to {}: {evidence}{held}.",
            root.kind.title(),
            short(first),
            short(last),
        );
        items.push((
            lines,
            HeadlineItem {
                cause: inc.cause.clone(),
                title: root.kind.title().to_string(),
                text,
                start: Some(inc.start.clone()),
                end: Some(inc.end.clone()),
                messages: inc.messages,
                evidence: inc.first_example.clone(),
                fix: root.kind.fix().iter().map(|x| x.to_string()).collect(),
                ..HeadlineItem::default()
            },
        ));
        summary.incidents.push(inc);
    }
    summary
        .incidents
        .sort_by_key(|i| (time_of(&i.start), i.cause.clone()));
    items.sort_by_key(|x| std::cmp::Reverse(x.0));
    for (_, item) in items.into_iter().take(MAX_HEADLINE) {
        insert_headline(summary, item);
    }
}

/// Puts a local item after any blacklisting item and before the first
/// incident item that held fewer messages.
pub(super) fn insert_headline(summary: &mut Summary, item: HeadlineItem) {
    if outcomes::headline_is_empty(summary) {
        summary.headline.clear();
    }
    let h = &summary.headline;
    let after_lists = h
        .iter()
        .take_while(|x| matches!(x.cause.as_str(), "blacklisted" | "rate_limited"))
        .count();
    let at = (after_lists..h.len())
        .find(|&i| h[i].messages < item.messages)
        .unwrap_or(h.len());
    summary.headline.insert(at, item);
}

/// Plesk Outgoing Mail Control refusals per (submitter, sender).
fn outgoing_limits(f: &Findings, opts: &AnalysisOptions) -> Vec<OutgoingLimitRow> {
    let mut by: FxHashMap<(Sym, Sym), (u64, LogTime, LogTime)> = FxHashMap::default();
    for l in &f.outgoing_limits {
        let e = by
            .entry((l.identity, l.sender))
            .or_insert((0, l.time, l.time));
        e.0 += 1;
        e.1 = e.1.min(l.time);
        e.2 = e.2.max(l.time);
    }
    let mut rows: Vec<OutgoingLimitRow> = by
        .into_iter()
        .map(|((identity, sender), (n, a, b))| OutgoingLimitRow {
            identity: (identity != 0)
                .then(|| super::display_identity(&f.strings.str(identity), &opts.passwd)),
            sender: f.strings.str(sender).into_owned(),
            refused: n,
            first: opts.format.iso(a),
            last: opts.format.iso(b),
        })
        .collect();
    rows.sort_by(|a, b| b.refused.cmp(&a.refused).then(a.sender.cmp(&b.sender)));
    rows
}

fn notes(f: &Findings, summary: &mut Summary) {
    let c = &f.counts;
    if c.soft_bounces > 0 {
        summary.notes.push(format!(
            "The server runs with `soft_bounce = yes`: {} deliveries that would have bounced were deferred instead (status=SOFTBOUNCE); they are counted as deferrals and stay queued until they expire.",
            c.soft_bounces
        ));
    }
    if c.discarded + c.quarantined > 0 {
        summary.notes.push(format!(
            "The content filter (or a discard rule) dropped {} recipients, {} of them kept in quarantine: they are not counted as delivered.",
            c.discarded + c.quarantined,
            c.quarantined
        ));
    }
    if !f.outgoing_limits.is_empty() || f.limit_out_handler > 0 {
        summary.notes.push(format!(
            "Plesk Outgoing Mail Control refused {} messages (psa-pc-remote logged {} `limit-out` rejects): the senders are in the outgoing limits table.",
            f.outgoing_limits.len(),
            f.limit_out_handler
        ));
    }
    let plesk_failures = f
        .login_failures
        .iter()
        .filter(|l| l.client_ip == 0 && l.username != 0)
        .count();
    if plesk_failures > 0 {
        summary.notes.push(format!(
            "{plesk_failures} failed logins were named by plesk_saslauthd alone (account known, client not): they count as failed logins of those accounts."
        ));
    }
    if f.local_dropped > 0 {
        summary.problems.push(format!(
            "{} local failure lines beyond the first {} were counted in their groups but not kept for the incidents",
            f.local_dropped,
            crate::correlate::LOCAL_MAX
        ));
    }
}
