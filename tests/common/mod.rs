//! Shared by the report tests: a hand-built Summary, the report's section
//! ids and a reader for the CSVs.
#![allow(dead_code)]

pub mod run;

use postmortem::model::*;

/// The ids of the report's sections, in page order.
pub const SECTIONS: [&str; 10] = [
    "headline",
    "timeline",
    "incidents",
    "local",
    "blacklist",
    "suspects",
    "senders",
    "queue",
    "unclassified",
    "coverage",
];

/// Realistic values, close to the lab recording in samples/.
pub fn summary() -> Summary {
    Summary {
        schema_version: SCHEMA_VERSION,
        tool_version: "0.1.0".into(),
        headline: vec![HeadlineItem {
            cause: "blacklisted".into(),
            title: "Server IP blacklisted".into(),
            text: "The server is blacklisted since 2025-12-29 10:21: zen.spamhaus.org, microsoft. 460 messages refused or delayed.".into(),
            start: Some("2025-12-29T10:21:55".into()),
            end: Some("2026-01-03T10:21:27".into()),
            messages: 460,
            evidence: Some("Most likely source: sasl:mike@studio-example.org (score 52) from 185.243.145.11".into()),
            fix: vec!["Check the listing: `dig +short 25.100.51.198.zen.spamhaus.org`.".into()],
        }, HeadlineItem {
            cause: "content_filter_down".into(),
            title: "Content filter down".into(),
            text: "Content filter down from 2025-12-30 10:17 to 2025-12-30 12:05: 30 messages held up.".into(),
            start: Some("2025-12-30T10:17:34".into()),
            end: Some("2025-12-30T12:05:56".into()),
            messages: 30,
            evidence: Some("connect to 127.0.0.1[127.0.0.1]:10024: Connection refused".into()),
            fix: vec!["Restart it and Postfix: `systemctl restart amavis && postfix reload`".into()],
        }],
        inputs: vec![InputInfo {
            path: "samples/mail.log.2.gz".into(),
            kind: "maillog".into(),
            compressed: true,
            bytes: 61752,
            lines: 3305,
            first: Some("2025-12-27T06:43:55".into()),
            last: Some("2025-12-28T06:23:02".into()),
            problems: vec![],
            duplicate_lines: 0,
        }],
        period: Period {
            first: Some("2025-12-27T06:43:55".into()),
            last: Some("2026-01-03T10:35:20".into()),
            timezone: "local".into(),
            year_inferred: Some(2025),
            year_source: Some("inferred from the newest file's modification date".into()),
            offsets: vec![],
        },
        lines: LineCounts {
            total: 51584,
            postfix: 45039,
            other: 6545,
            not_understood: 1,
            not_understood_examples: vec!["Dec 30 10:16:18 mx1 postfix/smtp[4242]: odd line from bob@shop-example.net".into()],
            by_program: vec![ProgramCount { program: "postfix/smtp".into(), lines: 16355 }],
            not_understood_by_program: vec![ProgramCount { program: "postfix/smtp".into(), lines: 1 }],
        },
        totals: Totals {
            received: 2120,
            delivered: 3823,
            deferral_events: 4490,
            deferred_messages: 197,
            bounced: 1000,
            expired: 2,
            rejected: 114,
            held: 6,
            discarded: 41,
            quarantined: 12,
            soft_bounced: 0,
            deleted: 3,
        },
        causes: vec![CauseRow {
            cause: "blacklisted".into(),
            title: "Server IP blacklisted".into(),
            deferral_events: 1665,
            deferred_messages: 55,
            bounces: 395,
            expired: 0,
            deleted: 3,
            share_of_deferrals: 37.1,
            first: Some("2025-12-29T10:21:55".into()),
            last: Some("2026-01-03T10:21:27".into()),
            top_detail: Some("zen.spamhaus.org".into()),
            example: Some("host mx1.telco-example.fr[192.0.2.32] said: 550 5.7.1 Service unavailable; Client host [198.51.100.25] blocked using zen.spamhaus.org".into()),
            fix: vec!["Stop the source first.".into()],
        }],
        incidents: vec![Incident {
            cause: "content_filter_down".into(),
            start: "2025-12-30T10:16:18".into(),
            end: "2025-12-30T12:06:21".into(),
            deferral_events: 228,
            messages: 30,
            share_of_deferrals: 5.1,
            receivers: vec![],
            first_example: Some("connect to 127.0.0.1[127.0.0.1]:10024: Connection refused".into()),
            last_example: None,
            lines: vec![],
            local_kind: None,
            local_lines: 0,
            programs: vec![],
        }],
        timeline: Timeline {
            bucket_seconds: 3600,
            rows: vec![
                TimelineRow { bucket_start: "2025-12-30T10:00:00".into(), cause: "content_filter_down".into(), deferral_events: 120, deferred_messages: 20 },
                TimelineRow { bucket_start: "2025-12-30T11:00:00".into(), cause: "content_filter_down".into(), deferral_events: 108, deferred_messages: 18 },
                TimelineRow { bucket_start: "2025-12-30T11:00:00".into(), cause: "blacklisted".into(), deferral_events: 40, deferred_messages: 9 },
            ],
        },
        unclassified: vec![TextCount { text: "host mx.odd-example.com[203.0.113.9] said: 451 try later, carol@corp-example.com".into(), count: 3, cause: None }],
        blacklistings: vec![BlacklistEpisode {
            list: "zen.spamhaus.org".into(),
            receivers: vec!["mx1.telco-example.fr".into()],
            first_seen: "2025-12-29T10:21:55".into(),
            last_seen: "2025-12-30T14:52:34".into(),
            deferrals: 0,
            bounces: 172,
            messages: 126,
            recipient_domains: 2,
            example: "host mx1.telco-example.fr[192.0.2.32] said: 550 5.7.1 Service unavailable; Client host [198.51.100.25] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/198.51.100.25".into(),
            listed_ip: Some("198.51.100.25".into()),
            delisting_url: Some("https://check.spamhaus.org/".into()),
            cause: "blacklisted".into(),
            standing: "reputation".into(),
            state: "ongoing".into(),
            accepted_again: None,
            accepted_before: Some("2025-12-29T10:02:11".into()),
            first_bounce: Some("2025-12-29T10:21:55".into()),
            lines: vec![],
        }],
        suspects: vec![Suspect {
            rank: 1,
            identity: "sasl:mike@studio-example.org".into(),
            kind: "sasl".into(),
            score: 52.0,
            episode: "zen.spamhaus.org, microsoft".into(),
            messages: 50,
            recipients: 307,
            recipient_domains: 46,
            share_of_outbound: 48.0,
            burst_factor: 353.5,
            unknown_recipient_share: 34.5,
            refused_share: 0.0,
            client_ips: vec!["185.243.145.11".into(), "2001:db8:77::5".into()],
            failed_logins_before: 286,
            evidence: vec!["286 failed logins for mike@studio-example.org from 185.243.145.11 before the listing".into()],
            fix: vec!["Reset the password of mike@studio-example.org: `doveadm pw`".into()],
            queued_ids_file: Some("suspect-1-queued-ids.txt".into()),
            ..Suspect::default()
        }],
        top_senders: vec![SenderRow {
            identity: "sender:oldblog@mx1.hosting-example.net".into(),
            kind: "sender".into(),
            messages: 665,
            recipients: 672,
            delivered: 639,
            discarded: 2,
            deferred: 163,
            bounced: 25,
            expired: 0,
            rejected: 0,
            first_seen: Some("2025-12-27T07:14:19".into()),
            last_seen: Some("2026-01-03T10:34:27".into()),
        }],
        inbound_rejects: vec![TextCount { text: "554 5.7.1 Client host [<ip>] blocked using zen.spamhaus.org".into(), count: 72, cause: Some("blacklisted".into()) }],
        queue: Some(QueueSummary {
            dump_time: "2026-01-03T10:35:20".into(),
            dump_time_source: "newest log line".into(),
            messages: 24,
            bytes: 415931,
            recipients: 25,
            by_queue: vec![KeyCount { key: "deferred".into(), messages: 18, bytes: 381930 }],
            by_cause: vec![KeyCount { key: "blacklisted".into(), messages: 10, bytes: 112935 }],
            by_sender: vec![KeyCount { key: "mike@studio-example.org".into(), messages: 6, bytes: 34001 }],
            by_recipient_domain: vec![KeyCount { key: "corp-example.com".into(), messages: 10, bytes: 1 }],
            age_bands: vec![],
            oldest: vec![QueuedMessageRow {
                queue_id: "9B336D0787".into(),
                queue: "hold".into(),
                arrival: "2025-12-29T10:52:19".into(),
                age_minutes: 7183,
                size: 7074,
                sender: "mike@studio-example.org".into(),
                recipients: vec!["zoe_hoffmann@gmail.com".into()],
                cause: "held".into(),
                reason: Some("host gmail-smtp-in.l.google.com[142.250.27.26] said: 421-4.7.0 unusual rate".into()),
                identity: Some("sasl:mike@studio-example.org".into()),
            }],
            shape: QueueShape {
                bucket_minutes: vec![5, 10, 20, 40, 80, 160, 320, 640, 1280],
                rows: vec![
                    QueueShapeRow { domain: "TOTAL".into(), total: 25, counts: vec![0, 0, 0, 0, 0, 0, 0, 0, 2, 23] },
                    QueueShapeRow { domain: "corp-example.com".into(), total: 10, counts: vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 10] },
                ],
            },
            shape_senders: QueueShape::default(),
            not_in_logs: 0,
            notes: vec![],
            host: None,
        }),
        local_failures: vec![LocalFailure {
            kind: "crash_loop".into(),
            title: "A Postfix daemon keeps dying at start".into(),
            severity: "warning".into(),
            program: "postfix/master".into(),
            count: 657,
            first: "2025-12-30T10:16:18".into(),
            last: "2025-12-30T12:06:21".into(),
            example: "warning: /usr/lib/postfix/smtp: bad command startup -- throttling".into(),
            stops_mail: true,
            fix: vec!["Read the `fatal:` line just before `bad command startup -- throttling`: it names what the daemon lacks.".into()],
        }],
        outgoing_limits: vec![OutgoingLimitRow {
            identity: Some("sasl:mike@studio-example.org".into()),
            sender: "mike@studio-example.org".into(),
            refused: 17,
            first: "2025-12-29T11:02:00".into(),
            last: "2025-12-29T12:40:10".into(),
        }],
        notes: vec!["The content filter (or a discard rule) dropped 53 recipients, 12 of them kept in quarantine: they are not counted as delivered.".into()],
        problems: vec!["samples/passwd: not a maillog or queue dump".into()],
        password_guessing: vec![],
        evidence_lines: vec![],
        redacted: false,
        redaction_salt: None,
        runbook: vec![RunbookStep {
            title: "Stop the source: sasl:mike@studio-example.org".into(),
            commands: vec!["doveadm kick mike@studio-example.org".into()],
            why: "The login sent 412 messages from 31 new IPs before the first listing.".into(),
        }],
    }
}

/// Splits a CSV produced by polars into rows of cells (quotes handled).
pub fn csv_cells(text: &str) -> Vec<Vec<String>> {
    let mut rows = vec![];
    let mut row = vec![];
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    rows
}
