//! Rules for what the server says about itself: `warning:`, `error:`,
//! `fatal:` and `panic:` lines of Postfix's daemons and `Error:`/`Fatal:`
//! lines of Dovecot.
//!
//! They join the one rule table in front of the reply rules. Every pattern
//! is anchored at a severity word at the start of the text, which no reply
//! text has, so they never decide a deferral's cause, and the reply rules'
//! anchored own-text patterns never see a diagnostic. Written from
//! Postfix's documented messages (`postconf(5)`, `master(8)`, `cleanup(8)`,
//! DEBUG_README) and the corpus's real lines.

use super::rules::{local_rule, BuiltinRule};
use super::Cause::{ContentFilterDown, LocalSystem, Unknown};
use super::LocalKind::*;

/// A severity word at the start of the text, then anything.
macro_rules! said {
    ($sev:literal, $p:literal) => {
        concat!(r"(?i)^(?:", $sev, r"): [^\n]*?(?:", $p, ")")
    };
}

pub const DIAGNOSTIC_RULES: &[BuiltinRule] = &[
    // Inbound chatter that only looks like trouble: postscreen's DNSBL
    // lookups time out on the receivers' side of the world.
    BuiltinRule {
        name: "diag_inbound_noise",
        cause: Unknown,
        list: None,
        pattern: r"(?i)^warning: (?:dnsblog(?:_query)?: |dnsblog reply timeout|hostname [^ ]+ does not resolve|[^ ]+: address not listed for hostname|[^ ]+: hostname [^ ]+ verification failed)",
        standing: super::Standing::None,
        local: None,
    },
    local_rule(
        "diag_command",
        Unknown,
        Command,
        r"(?i)^(?:warning|error|fatal): (?:usage: |unknown command|Recipient addresses must be specified|No recipient addresses found|-t option cannot be used|the Postfix mail system is (?:already|not) running|[^\n]{0,80}error reading input|[^\n]{0,60}No recipients specified)",
    ),
    local_rule(
        "diag_disk",
        LocalSystem,
        DiskFull,
        said!(
            "warning|error|fatal|panic",
            r"No space left on device|not enough free space in mail queue|Not enough disk space|Disk quota exceeded|file system full|insufficient (?:disk )?space"
        ),
    ),
    // `postfix check` names files it set aside earlier: evidence only.
    local_rule(
        "diag_corrupt_files",
        Unknown,
        CorruptFiles,
        r"(?i)^warning: damaged message: ",
    ),
    local_rule(
        "diag_queue_file",
        LocalSystem,
        QueueFile,
        said!(
            "warning|error|fatal|panic",
            r"queue file write error|damaged message|corrupt(?:ed)? (?:queue )?file|Input/output error|Read-only file system|bad record type|premature end-of-input"
        ),
    ),
    local_rule(
        "diag_resources",
        LocalSystem,
        ResourceLimit,
        said!(
            "warning|error|fatal|panic",
            r"Too many open files|Cannot allocate memory|out of memory|insufficient memory|Resource temporarily unavailable|has reached its process limit|No buffer space available|fork: "
        ),
    ),
    local_rule(
        "diag_crash_loop",
        LocalSystem,
        CrashLoop,
        said!(
            "warning|error|fatal",
            r"bad command startup -- throttling|process [^ ]+ pid [0-9]+ (?:exit status [1-9][0-9]*|killed by signal [0-9]+)|too many errors - program terminated"
        ),
    ),
    local_rule(
        "diag_content_filter",
        ContentFilterDown,
        ContentFilter,
        said!(
            "warning|error|fatal",
            r"connect to (?:transport )?(?:private|public)/[a-z0-9_.-]*(?:amavis|spam|scan|filter|clam|rspam|dspam|mailscanner)|(?:milter|Milter service) [^\n]{0,80}(?:Connection refused|can't connect|cannot connect|No such file or directory|Connection timed out)"
        ),
    ),
    local_rule(
        "diag_transport",
        LocalSystem,
        Transport,
        said!(
            "warning|error|fatal",
            r"connect to transport (?:private|public)/[^\s:]+: (?:No such file or directory|Connection refused|Permission denied)|unknown mail transport|mail transport unavailable|timeout connecting to transport|unable to find transport"
        ),
    ),
    local_rule(
        "diag_missing_map",
        LocalSystem,
        MissingMap,
        said!(
            "warning|error|fatal",
            r"is unavailable\. open (?:database|lookup table)|open database [^\n]*: No such file or directory|unsupported dictionary type|open [^\s:]+\.(?:db|lmdb|cdb): No such file"
        ),
    ),
    local_rule(
        "diag_lookup",
        LocalSystem,
        LookupFailure,
        said!(
            "warning|error|fatal",
            r"lookup error|lookup problem|Temporary lookup failure|user lookup (?:error|failure)|read TCP map reply|problem talking to (?:server|service)|policy service [^\n]{0,40}(?:error|failed|unavailable)"
        ),
    ),
    local_rule(
        "diag_auth_backend",
        LocalSystem,
        AuthBackend,
        said!(
            "warning|error|fatal",
            r"cannot connect to saslauthd|Connection lost to authentication server|authentication server [^\n]{0,40}(?:failed|unavailable|not running)|xsasl_dovecot_server_connect: [^\n]{0,80}(?:refused|No such file)"
        ),
    ),
    local_rule(
        "diag_startup",
        LocalSystem,
        Startup,
        said!(
            "warning|error|fatal|panic",
            r"mail system startup failed|daemon initialization failure|Address already in use|mail system is down|Postfix integrity check failed|Queue report unavailable"
        ),
    ),
    local_rule(
        "diag_config_warning",
        Unknown,
        ConfigWarning,
        said!(
            "warning",
            r"overriding earlier entry|do not list domain [^\n]* in BOTH|is older than source file|undefined parameter|unused parameter|will be removed|deprecated|please reduce time unit|zero result in delay template|for instructions see the bounce|main\.cf|master\.cf"
        ),
    ),
    local_rule(
        "diag_config",
        LocalSystem,
        Config,
        said!(
            "error|fatal|panic",
            r"main\.cf|master\.cf|bad (?:parameter|numerical|boolean) (?:value|configuration)|specify a password table|no SASL authentication mechanisms|unknown user name value|missing '=' after|unexpected command-line argument|config variable|unknown service: |invalid (?:transport|nexthop)|unsupported [a-z_]+ value"
        ),
    ),
    local_rule(
        "diag_loop",
        LocalSystem,
        MailLoop,
        said!(
            "warning|error|fatal",
            r"loops back to myself|mail forwarding loop"
        ),
    ),
];

#[cfg(test)]
mod tests {
    use super::super::{Classifier, LocalKind};

    /// Diagnostic texts as real servers write them (Postfix's fixed message
    /// texts from the corpus's `public` and the tuning part of `public2`,
    /// names and numbers changed; documented messages) and their kinds.
    const CASES: &[(&str, Option<LocalKind>)] = &[
        // Postfix's own messages, as the corpus's real servers wrote them
        // (names and numbers changed). smtp dies at start; master throttles.
        ("fatal: specify a password table via the `smtp_sasl_password_maps' configuration parameter", Some(LocalKind::Config)),
        ("warning: /usr/lib/postfix/smtp: bad command startup -- throttling", Some(LocalKind::CrashLoop)),
        ("warning: process /usr/lib/postfix/smtp pid 946 exit status 1", Some(LocalKind::CrashLoop)),
        ("fatal: timeout connecting to transport: smtp", Some(LocalKind::Transport)),
        // The system ran out of file handles.
        ("fatal: epoll_create: Too many open files in system", Some(LocalKind::ResourceLimit)),
        ("error: accept connection: Too many open files in system", Some(LocalKind::ResourceLimit)),
        ("fatal: scan_dir_push: open directory deferred: Too many open files in system", Some(LocalKind::ResourceLimit)),
        ("fatal: too many errors - program terminated", Some(LocalKind::CrashLoop)),
        // Configuration and commands.
        ("fatal: file /etc/postfix/main.cf: parameter myhostname: bad parameter value: host..example", Some(LocalKind::Config)),
        ("fatal: unknown service: smtp/tcp", Some(LocalKind::Config)),
        ("fatal: the Postfix mail system is already running", Some(LocalKind::Command)),
        ("fatal: usage: postfix [-c config_dir] [-Dv] command", Some(LocalKind::Command)),
        ("fatal: Recipient addresses must be specified on the command line or via the -t option", Some(LocalKind::Command)),
        ("fatal: bind 0.0.0.0 port 25: Address already in use", Some(LocalKind::Startup)),
        ("fatal: mail system startup failed", Some(LocalKind::Startup)),
        ("fatal: Queue report unavailable - mail system is down", Some(LocalKind::Startup)),
        ("error: unsupported dictionary type: mysql", Some(LocalKind::MissingMap)),
        ("warning: lmdb:/etc/postfix/restricted_senders is unavailable. open database /etc/postfix/restricted_senders.lmdb: No such file or directory", Some(LocalKind::MissingMap)),
        ("warning: lmdb:/etc/postfix/restricted_senders: table lookup problem", Some(LocalKind::LookupFailure)),
        ("warning: connect to transport private/smpt: No such file or directory", Some(LocalKind::Transport)),
        ("warning: not enough free space in mail queue: 121155584 bytes < 1.5*message size limit", Some(LocalKind::DiskFull)),
        ("warning: damaged message: corrupt/4B2C1D0E9F", Some(LocalKind::CorruptFiles)),
        ("warning: database /etc/postfix/virtual.db is older than source file /etc/postfix/virtual", Some(LocalKind::ConfigWarning)),
        ("warning: do not list domain example.org in BOTH mydestination and virtual_alias_domains", Some(LocalKind::ConfigWarning)),
        ("warning: /etc/postfix/main.cf, line 42: overriding earlier entry: mynetworks=127.0.0.0/8", Some(LocalKind::ConfigWarning)),
        ("fatal: /etc/postfix/main.cf, line 41: missing '=' after attribute name: \"reject_unauth_destination\"", Some(LocalKind::Config)),
        ("fatal: no SASL authentication mechanisms", Some(LocalKind::Config)),
        ("warning: localhost[127.0.0.1]: SASL PLAIN authentication failed: Connection lost to authentication server", Some(LocalKind::AuthBackend)),
        ("warning: SASL authentication failure: cannot connect to saslauthd server: No such file or directory", Some(LocalKind::AuthBackend)),
        ("fatal: lock file defer 4BD10C: Resource temporarily unavailable", Some(LocalKind::ResourceLimit)),
        // A policy map's server answered nothing.
        ("warning: read TCP map reply from 127.0.0.1:10030: unexpected EOF (Operation now in progress)", Some(LocalKind::LookupFailure)),
        // Documented messages: cleanup, postdrop, master.
        ("warning: mail_queue_enter: create file maildrop/123.456: No space left on device", Some(LocalKind::DiskFull)),
        ("fatal: cleanup_bounce: error writing queue file: No space left on device", Some(LocalKind::DiskFull)),
        ("warning: service \"smtp\" (25) has reached its process limit \"100\": new clients may experience noticeable delays", Some(LocalKind::ResourceLimit)),
        ("warning: connect to transport private/smtp-amavis: Connection refused", Some(LocalKind::ContentFilter)),
        ("warning: process /usr/libexec/postfix/smtpd pid 4711 killed by signal 11", Some(LocalKind::CrashLoop)),
        // A panic no rule knows: the correlator calls it a panic.
        ("panic: myfree: corrupt or unallocated memory block", None),
        // Dovecot's own words for a full disk.
        ("Error: write(/var/vmail/example.com/u/dovecot.index.log) failed: No space left on device", Some(LocalKind::DiskFull)),
        // Inbound noise: not the server's failure.
        ("warning: hostname mx.example.org does not resolve to address 5.6.7.8: Name or service not known", None),
        ("warning: 192.0.2.7: address not listed for hostname x.example", None),
        ("warning: dnsblog_query: lookup error for DNS query 1.2.3.4.zen.spamhaus.org: Host or domain name not found", None),
        ("warning: TLS library problem: error:0A000102:SSL routines::unsupported protocol", None),
    ];

    #[test]
    fn real_diagnostics_get_their_kind() {
        let c = Classifier::builtin();
        let mut failures = Vec::new();
        for (text, kind) in CASES {
            let v = c.classify(text);
            if v.local != *kind {
                failures.push(format!(
                    "{text}\n  want {kind:?}, got {:?} (rule {:?})",
                    v.local, v.rule
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn diagnostic_rules_never_decide_a_reply() {
        // A receiver quoting the same words is not our server.
        let c = Classifier::builtin();
        let v = c.classify("host mx.example.com[192.0.2.7] said: 452 4.3.1 Insufficient system storage; fatal: No space left on device (in reply to MAIL FROM command)");
        assert!(!v.rule.starts_with("diag_"), "{}", v.rule);
    }
}
