//! What the server says about itself: the kinds of local failure.
//!
//! A deferral can only say what one delivery attempt met. A server whose
//! disk is full, whose `smtp` daemon dies at start, or whose lookup tables
//! are gone often logs no `status=` line at all: it says so in `warning:`,
//! `error:`, `fatal:` and `panic:` lines (and Dovecot in its `Error:`
//! lines). The rule table gives such texts, and the deferrals that point to
//! the server itself, a [`LocalKind`]: the report lists them as evidence,
//! and the kinds that stop mail make incidents.

use serde::Serialize;

/// One kind of local failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalKind {
    /// The queue's or the mailboxes' file system is full.
    DiskFull,
    /// Queue files cannot be written, or are damaged.
    QueueFile,
    /// `postfix check` found damaged queue files (already set aside in
    /// `corrupt/`): evidence of an earlier failure.
    #[serde(rename = "corrupt_queue_files")]
    CorruptFiles,
    /// A daemon dies at start again and again; master throttles it.
    CrashLoop,
    /// main.cf / master.cf errors that stop a daemon.
    #[serde(rename = "config_error")]
    Config,
    /// Configuration warnings that stop nothing (stale maps, duplicates).
    ConfigWarning,
    /// A lookup table that is missing or unreadable.
    MissingMap,
    /// A delivery transport that is missing, refused or unknown.
    Transport,
    /// The content filter cannot be reached (the daemons' own words).
    ContentFilter,
    /// Open files, memory, processes.
    ResourceLimit,
    /// Table, user or policy lookups that fail.
    LookupFailure,
    /// Mail for a domain comes back to this server.
    MailLoop,
    /// smtpd's SASL backend (Dovecot auth, saslauthd) cannot be reached.
    AuthBackend,
    /// The mail system does not start, or is down.
    Startup,
    /// Delivery to local mailboxes (Dovecot LMTP, deliver, pipe, local).
    LocalDelivery,
    /// The relay host (smart host) cannot be reached.
    Relayhost,
    /// Any other fatal error of a daemon.
    Fatal,
    /// Any panic of a daemon.
    Panic,
    /// A command typed or scripted with wrong arguments; stops no mail.
    Command,
}

impl LocalKind {
    pub const ALL: [LocalKind; 19] = [
        LocalKind::DiskFull,
        LocalKind::QueueFile,
        LocalKind::CorruptFiles,
        LocalKind::CrashLoop,
        LocalKind::Config,
        LocalKind::ConfigWarning,
        LocalKind::MissingMap,
        LocalKind::Transport,
        LocalKind::ContentFilter,
        LocalKind::ResourceLimit,
        LocalKind::LookupFailure,
        LocalKind::MailLoop,
        LocalKind::AuthBackend,
        LocalKind::Startup,
        LocalKind::LocalDelivery,
        LocalKind::Relayhost,
        LocalKind::Fatal,
        LocalKind::Panic,
        LocalKind::Command,
    ];

    pub fn id(self) -> &'static str {
        match self {
            LocalKind::DiskFull => "disk_full",
            LocalKind::QueueFile => "queue_file",
            LocalKind::CorruptFiles => "corrupt_queue_files",
            LocalKind::CrashLoop => "crash_loop",
            LocalKind::Config => "config_error",
            LocalKind::ConfigWarning => "config_warning",
            LocalKind::MissingMap => "missing_map",
            LocalKind::Transport => "transport",
            LocalKind::ContentFilter => "content_filter",
            LocalKind::ResourceLimit => "resource_limit",
            LocalKind::LookupFailure => "lookup_failure",
            LocalKind::MailLoop => "mail_loop",
            LocalKind::AuthBackend => "auth_backend",
            LocalKind::Startup => "startup",
            LocalKind::LocalDelivery => "local_delivery",
            LocalKind::Relayhost => "relayhost",
            LocalKind::Fatal => "fatal",
            LocalKind::Panic => "panic",
            LocalKind::Command => "command",
        }
    }

    pub fn from_id(id: &str) -> Option<LocalKind> {
        LocalKind::ALL.into_iter().find(|k| k.id() == id)
    }

    pub fn title(self) -> &'static str {
        match self {
            LocalKind::DiskFull => "Disk full on this server",
            LocalKind::QueueFile => "Queue files cannot be written or are damaged",
            LocalKind::CorruptFiles => "Damaged queue files were set aside",
            LocalKind::CrashLoop => "A Postfix daemon keeps dying at start",
            LocalKind::Config => "Postfix configuration error",
            LocalKind::ConfigWarning => "Postfix configuration warning",
            LocalKind::MissingMap => "A lookup table is missing or unreadable",
            LocalKind::Transport => "A delivery transport is missing or unavailable",
            LocalKind::ContentFilter => "The content filter cannot be reached",
            LocalKind::ResourceLimit => "System resource limit reached",
            LocalKind::LookupFailure => "Table, user or policy lookups fail",
            LocalKind::MailLoop => "Mail loops back to this server",
            LocalKind::AuthBackend => "The SASL authentication backend fails",
            LocalKind::Startup => "The mail system does not start",
            LocalKind::LocalDelivery => "Local delivery fails",
            LocalKind::Relayhost => "The relay host cannot be reached",
            LocalKind::Fatal => "A Postfix daemon stopped with a fatal error",
            LocalKind::Panic => "A Postfix daemon panicked",
            LocalKind::Command => "A mail command was run with wrong arguments",
        }
    }

    /// Whether lines of this kind stop or hold mail, so that a run of them
    /// is an incident (configuration warnings and mistyped commands are
    /// evidence only).
    pub fn stops_mail(self) -> bool {
        !matches!(
            self,
            LocalKind::ConfigWarning | LocalKind::Command | LocalKind::CorruptFiles
        )
    }

    /// What to do, as runbooks say it.
    pub fn fix(self) -> &'static [&'static str] {
        match self {
            LocalKind::DiskFull => &[
                "Check space and inodes: `df -h /var/spool/postfix /var/vmail /var/qmail` and `df -i`; find what grew: `du -xsh /var/* | sort -h`.",
                "Free space (old logs, backups, the queue of a spam run after review), then `postfix reload`.",
            ],
            LocalKind::QueueFile => &[
                "Check the queue file system: `df -h /var/spool/postfix`, `dmesg` for I/O errors, and `postfix check`.",
                "Damaged queue files are moved to `corrupt/`: inspect them with `postcat`, then remove them with `postsuper -d`.",
            ],
            LocalKind::CorruptFiles => &[
                "Postfix moved damaged queue files to `corrupt/` earlier (a crash, a full disk): inspect them with `postcat`, then remove them with `postsuper -d ALL corrupt` when nothing in them is needed.",
            ],
            LocalKind::CrashLoop => &[
                "Read the `fatal:` line just before `bad command startup -- throttling`: it names what the daemon lacks.",
                "Fix it, run `postfix check`, then `postfix reload`.",
            ],
            LocalKind::Config => &[
                "Run `postfix check` and `postconf -n`; fix the parameter the log names in main.cf or master.cf.",
                "For `specify a password table`: set `smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd`, `postmap` it, then `postfix reload`.",
            ],
            LocalKind::ConfigWarning => &[
                "Nothing stops mail, but the configuration is not what was meant: `postconf -n`, then fix the parameter or `postmap` the table the warning names.",
            ],
            LocalKind::MissingMap => &[
                "Rebuild the table the log names: `postmap hash:/etc/postfix/FILE` (or check the database it points to), then `postfix reload`.",
            ],
            LocalKind::Transport => &[
                "Check `master.cf` for the transport named in the log and `postconf transport_maps default_transport relay_transport`; `postfix check`, then `postfix reload`.",
                "A queue listing's `(deferred transport)` is `defer_transports`: empty it (`postconf -e defer_transports=`), then `postfix reload`.",
            ],
            LocalKind::ContentFilter => &[
                "Check the filter: `systemctl status amavis`, `ss -ltnp | grep -E ':10024|:10025'`; restart it, then `postfix reload`.",
            ],
            LocalKind::ResourceLimit => &[
                "Check the limits: `cat /proc/sys/fs/file-nr`, `ulimit -n`, `free -m`; raise `fs.file-max` or the service's `LimitNOFILE`, or find the process that leaks.",
                "Then `postfix reload` (or restart Postfix).",
            ],
            LocalKind::LookupFailure => &[
                "Check the lookup backend the log names (MySQL, LDAP, a policy service, Dovecot's user database) and `postmap -q KEY TABLE`.",
            ],
            LocalKind::MailLoop => &[
                "The domain's MX points back to this server: check `mydestination`, `virtual_mailbox_domains`, `relay_domains` and the domain's MX record.",
            ],
            LocalKind::AuthBackend => &[
                "Check the SASL backend: `systemctl status dovecot saslauthd`, the `smtpd_sasl_path` socket, `doveadm auth test USER`.",
            ],
            LocalKind::Startup => &[
                "Start Postfix by hand and read why it fails: `postfix check && postfix start`, `journalctl -u postfix`.",
            ],
            LocalKind::LocalDelivery => &[
                "Check the local delivery agent: `systemctl status dovecot`, `doveadm log errors`, the mail store's disk and permissions.",
            ],
            LocalKind::Relayhost => &[
                "Test the relay host from the server: `nc -zv RELAYHOST 587`; check `postconf relayhost` and the firewall for outbound 587/465.",
            ],
            LocalKind::Fatal => &[
                "Read the fatal line: it names what the daemon lacks; fix it, `postfix check`, then `postfix reload`.",
            ],
            LocalKind::Panic => &[
                "A panic is a Postfix bug or a broken environment: note the version (`postconf mail_version`), check `dmesg`, restart Postfix.",
            ],
            LocalKind::Command => &[
                "Nothing is broken: a command (`postfix`, `sendmail`, `postqueue`, a script) was given wrong arguments; check the script or cron job that ran it.",
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_and_has_words() {
        for k in LocalKind::ALL {
            assert_eq!(LocalKind::from_id(k.id()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.id())
            );
            assert!(!k.title().is_empty() && !k.fix().is_empty(), "{k:?}");
        }
        assert!(!LocalKind::Command.stops_mail());
        assert!(LocalKind::DiskFull.stops_mail());
    }
}
