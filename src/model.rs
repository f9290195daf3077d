//! The findings of one analysis, as the reports show them.
//!
//! This is the schema of `summary.json` (`schema_version` 1) and the single
//! input of every exporter in `report`: CSV, HTML, JSON and the terminal view
//! are pure functions of a [`Summary`]. Field names are part of the public
//! schema: add fields, never rename them.

use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    pub schema_version: u32,
    pub tool_version: String,
    /// One sentence per likely root cause, most important first.
    pub headline: Vec<HeadlineItem>,
    pub inputs: Vec<InputInfo>,
    pub period: Period,
    pub lines: LineCounts,
    pub totals: Totals,
    pub causes: Vec<CauseRow>,
    pub incidents: Vec<Incident>,
    /// Bucket x cause, only non-empty cells.
    pub timeline: Timeline,
    pub unclassified: Vec<TextCount>,
    pub blacklistings: Vec<BlacklistEpisode>,
    pub suspects: Vec<Suspect>,
    pub top_senders: Vec<SenderRow>,
    /// IPs guessing passwords and accounts guessed at.
    #[serde(default)]
    pub password_guessing: Vec<GuessingRow>,
    /// Every raw log line the findings cite (`evidence.csv`).
    #[serde(default)]
    pub evidence_lines: Vec<EvidenceLine>,
    /// Inbound verdicts of our own server (NOQUEUE rejects), kept apart from
    /// outbound trouble.
    pub inbound_rejects: Vec<TextCount>,
    pub queue: Option<QueueSummary>,
    /// What the server said about itself: warnings, errors, fatal and panic
    /// lines (and deferrals that point to the server), grouped.
    #[serde(default)]
    pub local_failures: Vec<LocalFailure>,
    /// Plesk Outgoing Mail Control refusals per sender.
    #[serde(default)]
    pub outgoing_limits: Vec<OutgoingLimitRow>,
    /// What to do, in order: stop the sources, delete the reviewed spam,
    /// fix the server, delist, and flush last (only when nothing argues
    /// against it).
    #[serde(default)]
    pub runbook: Vec<RunbookStep>,
    /// What the reader should know that is not a problem of the run:
    /// `soft_bounce`, merged severity files, clocks, how sure a finding is
    /// (logs too short to compare a sender with its past, ...).
    #[serde(default)]
    pub notes: Vec<String>,
    pub problems: Vec<String>,
    /// Whether addresses, logins and IPs were pseudonymised.
    pub redacted: bool,
    /// With `redacted`: `random` when the pseudonyms' salt was drawn for this
    /// report alone (its pseudonyms match no other report's), `given` when it
    /// came from `--salt` (stable across reports with the same salt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction_salt: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HeadlineItem {
    pub cause: String,
    pub title: String,
    /// "content_filter_down from 10:02 to 11:40: 412 messages, 96% of deferrals"
    pub text: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub messages: u64,
    pub evidence: Option<String>,
    pub fix: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InputInfo {
    pub path: String,
    /// `maillog`, `queue_text`, `queue_json`, `skipped`
    pub kind: String,
    /// Lines skipped because another input holds them too (a `mail.warn`
    /// or `mail.err` beside `mail.log`).
    #[serde(default)]
    pub duplicate_lines: u64,
    pub compressed: bool,
    pub bytes: u64,
    pub lines: u64,
    pub first: Option<String>,
    pub last: Option<String>,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Period {
    pub first: Option<String>,
    pub last: Option<String>,
    /// The UTC offsets the lines carried (`+01:00`), when any did.
    #[serde(default)]
    pub offsets: Vec<String>,
    /// The zone the times are expressed in: an IANA name given with
    /// `--timezone`, or `local` (the server's wall clock, as logged).
    pub timezone: String,
    /// The year given to year-less syslog stamps, when any were seen.
    pub year_inferred: Option<i32>,
    /// How that year was chosen, in words.
    pub year_source: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LineCounts {
    pub total: u64,
    pub postfix: u64,
    pub other: u64,
    pub not_understood: u64,
    pub not_understood_examples: Vec<String>,
    /// Lines per program (`postfix/smtp`, `dovecot`, ...).
    pub by_program: Vec<ProgramCount>,
    /// Not-understood Postfix lines per program.
    pub not_understood_by_program: Vec<ProgramCount>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProgramCount {
    pub program: String,
    pub lines: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Totals {
    /// Messages that entered from outside (smtpd `client=` or pickup), once
    /// per message even when a content filter re-queued them.
    pub received: u64,
    /// Recipients with `status=sent`, not counting content-filter hand-offs.
    pub delivered: u64,
    pub deferral_events: u64,
    pub deferred_messages: u64,
    pub bounced: u64,
    pub expired: u64,
    pub rejected: u64,
    pub held: u64,
    /// Recipients the content filter (or a discard transport or action)
    /// dropped: not delivered, not kept.
    #[serde(default)]
    pub discarded: u64,
    /// Recipients the content filter blocked and kept in quarantine.
    #[serde(default)]
    pub quarantined: u64,
    /// `status=SOFTBOUNCE` lines (`soft_bounce = yes`), counted in
    /// `deferral_events` too.
    #[serde(default)]
    pub soft_bounced: u64,
    /// Queued messages deleted with `postsuper -d`.
    #[serde(default)]
    pub deleted: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CauseRow {
    pub cause: String,
    pub title: String,
    pub deferral_events: u64,
    pub deferred_messages: u64,
    pub bounces: u64,
    /// Messages that expired with this cause as their last deferral's.
    pub expired: u64,
    /// Messages deleted (`postsuper -d`) with this cause as their last
    /// deferral's.
    #[serde(default)]
    pub deleted: u64,
    pub share_of_deferrals: f64,
    pub first: Option<String>,
    pub last: Option<String>,
    pub top_detail: Option<String>,
    pub example: Option<String>,
    pub fix: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Incident {
    pub cause: String,
    pub start: String,
    pub end: String,
    pub deferral_events: u64,
    pub messages: u64,
    pub share_of_deferrals: f64,
    pub receivers: Vec<String>,
    pub first_example: Option<String>,
    pub last_example: Option<String>,
    /// Raw log lines that show it.
    #[serde(default)]
    pub lines: Vec<EvidenceLine>,
    /// For a failure of the server itself: its kind (`crash_loop`,
    /// `disk_full`, ...), the lines it wrote and the programs that wrote them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_kind: Option<String>,
    #[serde(default)]
    pub local_lines: u64,
    #[serde(default)]
    pub programs: Vec<String>,
}

/// One group of lines in which the server shows itself failing (or
/// warning), counted.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LocalFailure {
    /// `disk_full`, `crash_loop`, `config_error`, ...; `other` for a
    /// warning no rule knows.
    pub kind: String,
    pub title: String,
    /// `warning`, `error`, `fatal`, `panic`, or `deferral`/`bounce` for
    /// delivery attempts that point to the server.
    pub severity: String,
    pub program: String,
    pub count: u64,
    pub first: String,
    pub last: String,
    pub example: String,
    /// Whether such lines stop or hold mail (configuration warnings and
    /// mistyped commands do not).
    pub stops_mail: bool,
    pub fix: Vec<String>,
}

/// Plesk Outgoing Mail Control refusals of one sender.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OutgoingLimitRow {
    /// Who submitted (`sasl:LOGIN`, `uid:N`, ...), when the logs say.
    pub identity: Option<String>,
    /// The envelope sender (the mailbox the limit counts).
    pub sender: String,
    pub refused: u64,
    pub first: String,
    pub last: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Timeline {
    pub bucket_seconds: i64,
    pub rows: Vec<TimelineRow>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TimelineRow {
    pub bucket_start: String,
    pub cause: String,
    pub deferral_events: u64,
    pub deferred_messages: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TextCount {
    pub text: String,
    pub count: u64,
    pub cause: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BlacklistEpisode {
    /// The list or reputation system (`zen.spamhaus.org`, `microsoft`, ...).
    pub list: String,
    /// The receiving domains or MX hosts that answered so.
    pub receivers: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub deferrals: u64,
    pub bounces: u64,
    pub messages: u64,
    pub recipient_domains: u64,
    /// The exact receiver text, first seen.
    pub example: String,
    /// Our sending IP when the reply names it.
    pub listed_ip: Option<String>,
    pub delisting_url: Option<String>,
    pub cause: String,
    /// `reputation` (spam went out) or `policy` (the kind of IP is refused).
    #[serde(default)]
    pub standing: String,
    /// `ongoing` at the end of the logs, or `ended`.
    #[serde(default)]
    pub state: String,
    /// When ended: the first delivery its receivers accepted again.
    #[serde(default)]
    pub accepted_again: Option<String>,
    /// The last delivery its receivers accepted before the onset: the
    /// listing happened between then and `first_seen`.
    #[serde(default)]
    pub accepted_before: Option<String>,
    /// When the refusals turned from deferrals into bounces.
    #[serde(default)]
    pub first_bounce: Option<String>,
    /// Raw log lines that show it.
    #[serde(default)]
    pub lines: Vec<EvidenceLine>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Suspect {
    pub rank: u32,
    /// A cause of its listing, or a source that sent in bulk while listed.
    #[serde(default)]
    pub role: SuspectRole,
    /// `sasl:dave@example.com`, `uid:33 (www-data)`, `sender:x@y`, `client:1.2.3.4`
    pub identity: String,
    pub kind: String,
    pub score: f64,
    pub episode: String,
    pub messages: u64,
    pub recipients: u64,
    pub recipient_domains: u64,
    pub share_of_outbound: f64,
    pub burst_factor: f64,
    pub unknown_recipient_share: f64,
    pub refused_share: f64,
    pub client_ips: Vec<String>,
    pub failed_logins_before: u64,
    pub evidence: Vec<String>,
    pub fix: Vec<String>,
    /// Its queued messages the logs show to be spam: the ids for
    /// `postsuper -d -`.
    pub queued_ids_file: Option<String>,
    /// Its other queued messages, to look at before anything is done.
    #[serde(default)]
    pub review_ids_file: Option<String>,
    /// All its queued messages with their evidence (`suspect-N-queued.csv`).
    #[serde(default)]
    pub queued_file: Option<String>,
    #[serde(default)]
    pub queued_spam: u64,
    #[serde(default)]
    pub queued_review: u64,
    /// Recipients in the window beyond what its own past predicts.
    #[serde(default)]
    pub excess_recipients: u64,
    /// How much of its window mail the evidence says was spam, 0 to 1.
    #[serde(default)]
    pub suspicion: f64,
    /// The onset of the listing its window ends at.
    #[serde(default)]
    pub listing_onset: Option<String>,
    /// The envelope senders it used, most used first (a script's site).
    #[serde(default)]
    pub envelope_senders: Vec<String>,
    /// A uid's home directory, from `--passwd` (the subscription).
    #[serde(default)]
    pub home: Option<String>,
    /// A login's client IPs in the window, in order of first use.
    #[serde(default)]
    pub ip_uses: Vec<SuspectIp>,
    /// Bounce and delay notices returned to its sender.
    #[serde(default)]
    pub bounce_notices: u64,
    /// Hours after the listing in which it sent again in bulk.
    #[serde(default)]
    pub later_bursts: Vec<SuspectBurst>,
    /// Raw log lines that show it.
    #[serde(default)]
    pub lines: Vec<EvidenceLine>,
}

/// What a suspect is to the listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuspectRole {
    /// It sent the mail before the listing that likely caused it.
    #[default]
    Cause,
    /// It sent in bulk only after the first listing: not its cause, but a
    /// source to stop, and its queued mail is spam to remove.
    WhileListed,
}

impl SuspectRole {
    pub fn id(self) -> &'static str {
        match self {
            SuspectRole::Cause => "cause",
            SuspectRole::WhileListed => "while_listed",
        }
    }
}

/// A raw log line a finding cites, where to find it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EvidenceLine {
    /// `suspect 1`, `blacklisting zen.spamhaus.org`, `incident dns_failure`.
    pub finding: String,
    /// What the line shows.
    pub about: String,
    pub file: String,
    /// 1-based, in the decompressed file.
    pub line: u64,
    pub time: String,
    pub text: String,
}

/// Password guessing: an IP failing logins against several accounts
/// (`kind` `ip`, `distinct` accounts), or an account failing from many IPs
/// (`kind` `account`, `distinct` IPs).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GuessingRow {
    pub kind: String,
    pub key: String,
    pub failures: u64,
    pub distinct: u64,
    pub first: Option<String>,
    pub last: Option<String>,
    /// For an account: its first successful login after the first failure
    /// (the guess may have worked), and from where.
    pub login_after: Option<String>,
    pub login_after_ip: Option<String>,
    /// The accounts an IP tried, or the IPs an account was tried from (five
    /// at most).
    #[serde(default)]
    pub targets: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SuspectIp {
    pub ip: String,
    pub first_used: String,
    pub messages: u64,
    /// Used by the login before the window.
    pub usual: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SuspectBurst {
    pub start: String,
    pub end: String,
    pub recipients: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SenderRow {
    pub identity: String,
    pub kind: String,
    pub messages: u64,
    pub recipients: u64,
    pub delivered: u64,
    /// Recipients the content filter dropped (quarantined or not).
    #[serde(default)]
    pub discarded: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub expired: u64,
    pub rejected: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QueueSummary {
    pub dump_time: String,
    /// `--dump-time`, `newest log line`, or `file mtime`.
    pub dump_time_source: String,
    pub messages: u64,
    pub bytes: u64,
    pub recipients: u64,
    pub by_queue: Vec<KeyCount>,
    pub by_cause: Vec<KeyCount>,
    pub by_sender: Vec<KeyCount>,
    pub by_recipient_domain: Vec<KeyCount>,
    pub age_bands: Vec<KeyCount>,
    pub oldest: Vec<QueuedMessageRow>,
    /// qshape layout, recipient-domain mode.
    pub shape: QueueShape,
    /// qshape layout, sender-domain mode (`qshape -s`).
    pub shape_senders: QueueShape,
    /// Queued messages the logs never mention.
    pub not_in_logs: u64,
    /// What the reader should know about the dump: ids in two dumps, how
    /// sure the dump time is.
    #[serde(default)]
    pub notes: Vec<String>,
    /// The host whose logs the dump was joined to, when the logs hold several.
    #[serde(default)]
    pub host: Option<String>,
}

/// One step of the runbook: what to do, the commands with the real values,
/// and why it comes at this point.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RunbookStep {
    pub title: String,
    pub commands: Vec<String>,
    pub why: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeyCount {
    pub key: String,
    pub messages: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QueuedMessageRow {
    pub queue_id: String,
    pub queue: String,
    pub arrival: String,
    pub age_minutes: i64,
    pub size: u64,
    pub sender: String,
    pub recipients: Vec<String>,
    pub cause: String,
    pub reason: Option<String>,
    pub identity: Option<String>,
}

/// qshape's table: rows are domains (the first is TOTAL), columns T then the
/// age buckets in minutes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct QueueShape {
    /// Upper bounds in minutes: 5, 10, 20, 40, 80, 160, 320, 640, 1280, then 1280+.
    pub bucket_minutes: Vec<u64>,
    pub rows: Vec<QueueShapeRow>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct QueueShapeRow {
    pub domain: String,
    pub total: u64,
    pub counts: Vec<u64>,
}
