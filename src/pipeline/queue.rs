//! The queue dumps beside the logs: what is stuck and whose, and per
//! suspect its queued mail sorted into spam to delete and mail to review,
//! each message with its evidence. The ids files are for the operator's
//! `postsuper -d -` after review; nothing here touches a server.

use std::path::PathBuf;

use super::ExtraFile;
use crate::analyze::queue::cleanup::{self, SuspectCleanup, Verdict};
use crate::analyze::queue::join::Joined;
use crate::analyze::queue::{self as queue_analysis, CauseCache, DumpClock};
use crate::analyze::suspects::SuspectRef;
use crate::config::AnalyzeConfig;
use crate::correlate::Findings;
use crate::error::Result;
use crate::input::Source;
use crate::model::{self, QueueSummary, Summary};
use crate::parse::queue::{self as q, QueueDump};
use crate::report::csv::QueueRow;
use crate::time::TimeFormat;

/// The queue part of a run.
pub struct Section {
    pub summary: QueueSummary,
    pub files: Vec<ExtraFile>,
    /// A dump could not be read in full.
    pub partial: bool,
    /// queue.csv's rows, for the `queue` event table.
    pub rows: Vec<QueueRow>,
}

/// Reads the dumps, joins them to the logs by (host, queue id), and writes
/// queue.csv and each suspect's cleanup files.
/// Puts a dump's section in the summary (the queue, the headline, what the
/// suspects left queued) and its files in `files`; its rows for the
/// `queue` table are returned.
pub fn attach(
    section: Section,
    files: &mut Vec<ExtraFile>,
    summary: &mut Summary,
) -> Vec<QueueRow> {
    summary.queue = Some(section.summary);
    files.extend(section.files);
    headline(summary);
    let from_suspects = summary
        .suspects
        .iter()
        .map(|s| s.queued_spam + s.queued_review)
        .sum();
    crate::analyze::status::queue_from_dump(summary, from_suspects);
    section.rows
}

pub fn section(
    cfg: &AnalyzeConfig,
    dumps: &[Source],
    findings: &Findings,
    suspects: &[SuspectRef],
    fmt: &TimeFormat,
    summary: &mut Summary,
) -> Result<Section> {
    let paths: Vec<PathBuf> = dumps.iter().map(|s| s.path.clone()).collect();
    let loaded = queue_analysis::load_dumps(
        &paths,
        &DumpClock {
            flag: cfg.dump_time,
            newest_log_line: findings.last,
            zone: fmt.zone().cloned(),
        },
    )?;
    let partial = !loaded.problems.is_empty();
    summary.problems.extend(loaded.problems);
    let dump = &loaded.dump;
    let joined = Joined::new(findings, dump);
    let passwd = &cfg.passwd;
    let lookup = |id: &str| -> Option<(String, Option<String>)> {
        let info = joined.get(id)?;
        let identity =
            crate::analyze::display_identity(&findings.strings.str(info.identity), passwd);
        Some((identity, info.first_cause.map(|c| c.id().to_string())))
    };
    let has_logs = findings.first.is_some();
    let mut qs = queue_analysis::summarize_joined(
        dump,
        loaded.dump_time,
        loaded.source.describe(),
        &cfg.classifier,
        fmt,
        has_logs.then_some(&lookup as &dyn Fn(&str) -> Option<(String, Option<String>)>),
    );
    qs.host = joined.host_name();
    qs.notes.extend(joined.note.clone());
    qs.notes.extend(loaded.notes);

    let mut cache = CauseCache::new(&cfg.classifier);
    let rows = queue_rows(
        dump,
        loaded.dump_time,
        &joined,
        findings,
        &lookup,
        &mut cache,
        fmt,
    );
    let mut files = vec![(
        "queue.csv".to_string(),
        crate::report::csv::queue_csv(&rows)?,
    )];
    let plans = cleanup::plan(findings, &joined, dump, suspects, &mut cache, fmt);
    // With a dump, "give a queue dump" advice gives way to the lists.
    for s in &mut summary.suspects {
        s.fix.retain(|f| !f.starts_with("Delete its queued"));
    }
    for plan in &plans {
        if let Some(s) = summary.suspects.iter_mut().find(|s| s.rank == plan.rank) {
            files.extend(cleanup_files(plan, s)?);
        }
    }
    Ok(Section {
        summary: qs,
        files,
        partial,
        rows,
    })
}

/// What the logs know of a queue id: its identity and its cause, if any.
type Lookup<'a> = dyn Fn(&str) -> Option<(String, Option<String>)> + 'a;

/// queue.csv's rows: every queued recipient with what the logs say.
fn queue_rows(
    dump: &QueueDump,
    dump_time: crate::time::LogTime,
    joined: &Joined,
    findings: &Findings,
    lookup: &Lookup<'_>,
    cache: &mut CauseCache,
    fmt: &TimeFormat,
) -> Vec<QueueRow> {
    let host = joined.host.map(|h| findings.strings.str(h).into_owned());
    let mut rows = Vec::new();
    for m in &dump.messages {
        let known = lookup(&m.queue_id);
        let client_ip = joined
            .get(&m.queue_id)
            .filter(|i| i.client_ip != 0)
            .map(|i| findings.strings.str(i.client_ip).into_owned());
        for r in &m.recipients {
            let cause = match (&r.reason, m.queue) {
                (_, q::QueueName::Hold) => queue_analysis::HELD.to_string(),
                (Some(reason), _) => cache.cause_of(reason).to_string(),
                (None, _) => known
                    .as_ref()
                    .and_then(|j| j.1.clone())
                    .unwrap_or_else(|| queue_analysis::NEVER_TRIED.to_string()),
            };
            rows.push(QueueRow {
                queue_id: m.queue_id.clone(),
                queue: m.queue.id().to_string(),
                arrival: fmt.iso(m.arrival),
                age_minutes: ((dump_time.0 - m.arrival.0).max(0) / crate::time::MINUTE) as u64,
                size: m.size,
                sender: m.sender.clone(),
                recipient: r.address.clone(),
                domain: q::address_domain(&r.address),
                cause,
                reason: r.reason.clone(),
                identity: known.as_ref().map(|j| j.0.clone()),
                host: known.as_ref().and(host.clone()),
                client_ip: client_ip.clone(),
            });
        }
    }
    rows
}

/// One suspect's `suspect-N-queued.csv`, its delete list and its review
/// list; the suspect's row says how many of each and why.
fn cleanup_files(plan: &SuspectCleanup, s: &mut model::Suspect) -> Result<Vec<ExtraFile>> {
    let mut files = Vec::new();
    let base = format!("suspect-{}", s.rank);
    let evidence = format!("{base}-queued.csv");
    files.push((
        evidence.clone(),
        crate::report::csv::suspect_queued_csv(&plan.rows)?,
    ));
    s.queued_file = Some(evidence.clone());
    let delete = plan.ids(Verdict::Delete);
    let review = plan.ids(Verdict::Review);
    s.queued_spam = delete.len() as u64;
    s.queued_review = review.len() as u64;
    let ids_file = |name: String, ids: &[&str]| -> ExtraFile {
        let mut body = Vec::new();
        let _ = queue_analysis::write_ids(ids.iter().copied(), &mut body);
        (name, body)
    };
    if !delete.is_empty() {
        let name = format!("{base}-queued-ids.txt");
        s.fix.push(format!(
            "Delete its queued spam once the source is stopped: `postsuper -d - < {name}` ({} messages; the runbook gives the order).",
            delete.len()
        ));
        files.push(ids_file(name.clone(), &delete));
        s.queued_ids_file = Some(name);
    }
    if !review.is_empty() {
        let name = format!("{base}-review-ids.txt");
        files.push(ids_file(name.clone(), &review));
        s.review_ids_file = Some(name);
    }
    s.evidence.push(match (delete.len(), review.len()) {
        (d, 0) => format!("{d} of its messages are still queued, all with spam evidence (see {evidence})"),
        (0, r) => format!("{r} of its messages are still queued, none with spam evidence the logs can show: review them (see {evidence})"),
        (d, r) => format!("{} of its messages are still queued: {d} with spam evidence, {r} to review (a new IP, or outside its bursts, decides; see {evidence})", d + r),
    });
    Ok(files)
}

/// Without logs (or without incidents in them), the queue says what is
/// stuck: one headline item per cause holding queued mail.
pub fn headline(summary: &mut Summary) {
    let only_none = summary.headline.iter().all(|h| h.cause == "none");
    let Some(q) = &summary.queue else { return };
    if !only_none || q.messages == 0 {
        return;
    }
    let mut items = Vec::new();
    for kc in q.by_cause.iter().take(4) {
        let cause = crate::classify::Cause::from_id(&kc.key);
        let title = cause.map_or(kc.key.replace('_', " "), |c| c.title().to_string());
        items.push(model::HeadlineItem {
            cause: kc.key.clone(),
            title: title.clone(),
            text: format!(
                "{title}: {} of the {} queued messages ({} KB) at {}.",
                kc.messages,
                q.messages,
                kc.bytes / 1024,
                q.dump_time.replace('T', " ")
            ),
            messages: kc.messages,
            evidence: q
                .oldest
                .iter()
                .find(|m| m.cause == kc.key)
                .and_then(|m| m.reason.clone()),
            fix: cause.map_or_else(Vec::new, |c| {
                c.fix().iter().map(|s| s.to_string()).collect()
            }),
            ..model::HeadlineItem::default()
        });
    }
    if !items.is_empty() {
        summary.headline = items;
    }
}
