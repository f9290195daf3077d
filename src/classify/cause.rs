//! The taxonomy: root causes with their canonical ids, titles, meanings
//! and fixes.

use serde::Serialize;

/// Root causes, with the canonical ids of the design's taxonomy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    Port25Blocked,
    ContentFilterDown,
    DnsFailure,
    Blacklisted,
    RateLimited,
    Greylisted,
    AuthPolicy,
    MailboxFull,
    UnknownRecipient,
    TlsFailure,
    RelayAuthFailure,
    /// The relay host (smart host) itself cannot be reached.
    RelayUnavailable,
    RemoteUnavailable,
    LocalSystem,
    Unknown,
}

impl Cause {
    pub const ALL: [Cause; 15] = [
        Cause::Port25Blocked,
        Cause::ContentFilterDown,
        Cause::DnsFailure,
        Cause::Blacklisted,
        Cause::RateLimited,
        Cause::Greylisted,
        Cause::AuthPolicy,
        Cause::MailboxFull,
        Cause::UnknownRecipient,
        Cause::TlsFailure,
        Cause::RelayAuthFailure,
        Cause::RelayUnavailable,
        Cause::RemoteUnavailable,
        Cause::LocalSystem,
        Cause::Unknown,
    ];

    /// The canonical id (also the serialised form).
    pub fn id(self) -> &'static str {
        match self {
            Cause::Port25Blocked => "port25_blocked",
            Cause::ContentFilterDown => "content_filter_down",
            Cause::DnsFailure => "dns_failure",
            Cause::Blacklisted => "blacklisted",
            Cause::RateLimited => "rate_limited",
            Cause::Greylisted => "greylisted",
            Cause::AuthPolicy => "auth_policy",
            Cause::MailboxFull => "mailbox_full",
            Cause::UnknownRecipient => "unknown_recipient",
            Cause::TlsFailure => "tls_failure",
            Cause::RelayAuthFailure => "relay_auth_failure",
            Cause::RelayUnavailable => "relay_unavailable",
            Cause::RemoteUnavailable => "remote_unavailable",
            Cause::LocalSystem => "local_system",
            Cause::Unknown => "unknown",
        }
    }

    /// The cause with this canonical id.
    pub fn from_id(id: &str) -> Option<Cause> {
        Cause::ALL.into_iter().find(|c| c.id() == id)
    }

    /// A short human title for reports.
    pub fn title(self) -> &'static str {
        match self {
            Cause::Port25Blocked => "Outbound port 25 blocked",
            Cause::ContentFilterDown => "Content filter down",
            Cause::DnsFailure => "DNS resolution failing",
            Cause::Blacklisted => "Server IP blacklisted",
            Cause::RateLimited => "Rate limited by receivers",
            Cause::Greylisted => "Greylisted",
            Cause::AuthPolicy => "SPF/DKIM/DMARC or reverse DNS policy",
            Cause::MailboxFull => "Recipient mailbox full",
            Cause::UnknownRecipient => "Unknown recipient or domain",
            Cause::TlsFailure => "TLS failure",
            Cause::RelayAuthFailure => "Relay refused our credentials",
            Cause::RelayUnavailable => "Relay host unreachable",
            Cause::RemoteUnavailable => "Remote server unavailable",
            Cause::LocalSystem => "Local server problem",
            Cause::Unknown => "Unclassified",
        }
    }

    /// What the cause means, in one or two sentences.
    pub fn description(self) -> &'static str {
        match self {
            Cause::Port25Blocked => "Connections to port 25 fail the same way (timed out, no route, unreachable, refused) towards many unrelated destinations at once, so the block is on our side: usually the hosting provider or a local firewall filters outbound SMTP.",
            Cause::ContentFilterDown => "Postfix cannot hand mail to its content filter (amavisd-new, SpamAssassin spamd, a milter, usually on 127.0.0.1:10024): the filter process is stopped, crashed or was removed while master.cf still routes mail through it.",
            Cause::DnsFailure => "The server's own resolver fails (SERVFAIL, timeouts, `Host not found, try again`), so Postfix cannot look up the MX of any destination; Spamhaus answers refusing queries from a public/open resolver count here too.",
            Cause::Blacklisted => "A receiver refuses or defers our mail because our IP or domain is on a blocklist (Spamhaus, SpamCop, Barracuda...) or has a bad reputation with the provider (Microsoft, Gmail, Yahoo, Proofpoint, Mimecast...).",
            Cause::RateLimited => "A receiver throttles our volume (too many messages, connections or complaints) without naming a listing; mail goes through when the volume drops.",
            Cause::Greylisted => "The receiver defers the first attempt from an unknown sender on purpose; a proper retry passes.",
            Cause::AuthPolicy => "The receiver rejects mail that fails SPF, DKIM or DMARC checks or comes from an IP without matching reverse DNS.",
            Cause::MailboxFull => "The recipient's mailbox is over its quota; the receiver defers or bounces until it is emptied.",
            Cause::UnknownRecipient => "The recipient address or its domain does not exist (user unknown, disabled account, domain without MX or A record). Many of these point to a bad list or to spam.",
            Cause::TlsFailure => "The TLS handshake with the receiver or relay failed, or TLS is required and could not be started.",
            Cause::RelayAuthFailure => "The relay host (smart host) refused our SASL credentials or does not let us relay.",
            Cause::RelayUnavailable => "Postfix cannot connect to its relay host (smart host, `relayhost`, usually on port 587 or 465): every message waits on it, whatever its destination. A firewall, a wrong host or port, or the provider's outage; not one receiver's problem.",
            Cause::RemoteUnavailable => "The receiving server did not answer, dropped the connection, timed out or answered with a temporary error not covered by another cause; usually transient.",
            Cause::LocalSystem => "The local server itself is broken: disk full, queue file write errors, mail looping back to itself, a missing or misconfigured delivery transport.",
            Cause::Unknown => "No rule matched this text; it is listed with its most common texts so the taxonomy can grow.",
        }
    }

    /// Concrete remediation steps, as runbooks give them.
    pub fn fix(self) -> &'static [&'static str] {
        match self {
            Cause::Port25Blocked => &[
                "Confirm from the server: `nc -zv gmail-smtp-in.l.google.com 25` (or `telnet HOST 25`) times out while `nc -zv HOST 587` connects.",
                "Check the local firewall first: `iptables -S OUTPUT`, `nft list ruleset`, the hosting panel's firewall.",
                "Ask the provider to open outbound port 25 (many clouds block it by default and unblock on request).",
                "Or relay through a smart host: `postconf -e 'relayhost = [smtp.provider.example]:587' 'smtp_sasl_auth_enable = yes' 'smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd' 'smtp_sasl_security_options = noanonymous' 'smtp_tls_security_level = encrypt'`, then `postmap /etc/postfix/sasl_passwd && postfix reload`.",
            ],
            Cause::ContentFilterDown => &[
                "Check the filter: `systemctl status amavis` (`amavisd-new` on older systems, `amavisd` on RHEL), `ss -ltnp | grep -E ':10024|:10025'`.",
                "Restart it and Postfix: `systemctl restart amavis && postfix reload`; read `journalctl -u amavis` for why it stopped.",
                "If the filter was removed on purpose, remove `content_filter = smtp-amavis:[127.0.0.1]:10024` (and `-o content_filter` in master.cf), then `postfix reload`.",
                "On Plesk, after removing Plesk Email Security or SpamAssassin: `plesk sbin mchk --without-spam` rewrites the Postfix configuration.",
            ],
            Cause::DnsFailure => &[
                "Compare the server's resolver with a public one: `dig MX gmail.com` versus `dig @8.8.8.8 MX gmail.com`.",
                "Check `/etc/resolv.conf` (and `/var/spool/postfix/etc/resolv.conf` when Postfix runs chrooted) and the local resolver (`systemctl status systemd-resolved unbound bind9 dnsmasq`).",
                "For Spamhaus 'open resolver' answers (127.255.255.254): run a local caching resolver or use a Spamhaus DQS key; public resolvers are refused.",
            ],
            Cause::Blacklisted => &[
                "Stop the source first: find the sender behind the volume (see the senders table), disable the compromised account or script, and remove its queued mail (`postsuper -d -` with the reviewed queue ids).",
                "Check the listing: `dig +short 4.3.2.1.zen.spamhaus.org` (reversed IP) or the list's lookup page.",
                "Only then request delisting from each list or provider named (Spamhaus check.spamhaus.org, Microsoft sender.office.com, ...); a listing requested while spam still flows comes back.",
                "Meanwhile relay the legitimate mail through a smart host (`relayhost = [smtp.provider]:587` with SASL).",
            ],
            Cause::RateLimited => &[
                "Find and fix the volume source first (see the senders table): a compromised account or a bulk mailer sending too fast.",
                "Slow down per destination: `postconf -e 'smtp_destination_concurrency_limit = 2' 'smtp_destination_rate_delay = 1s'` (or a dedicated transport for the throttling provider), then `postfix reload`.",
                "For Gmail and Yahoo, check the sender's standing at postmaster.google.com and senders.yahooinc.com.",
            ],
            Cause::Greylisted => &[
                "Nothing to do: greylisting passes on the next retry. Only check that the queue is retried (`postqueue -p` ages) and that the sending IP stays the same across retries.",
            ],
            Cause::AuthPolicy => &[
                "Publish or fix SPF for the sending domain (`dig TXT example.com` must include this server's IP).",
                "Sign with DKIM (opendkim or the panel's DKIM switch) and publish the key; publish a DMARC record (`_dmarc.example.com`).",
                "Make the reverse DNS (PTR) of the server IP match its HELO name (`dig -x IP`); the provider sets the PTR.",
            ],
            Cause::MailboxFull => &[
                "Recipient side: the recipient must empty the mailbox or get a larger quota. Nothing to fix on this server.",
            ],
            Cause::UnknownRecipient => &[
                "Clean the list: remove the unknown addresses and domains that do not exist.",
                "Many unknown recipients from one sender point to spam or a bad list: check that sender in the senders table.",
            ],
            Cause::TlsFailure => &[
                "Test the handshake: `openssl s_client -starttls smtp -connect HOST:25 -servername HOST`.",
                "Check the TLS policy (`smtp_tls_security_level`, `smtp_tls_policy_maps`) and the CA bundle (`smtp_tls_CAfile`); raise `smtp_tls_loglevel = 1` to see why.",
            ],
            Cause::RelayAuthFailure => &[
                "Check the relay credentials in `/etc/postfix/sasl_passwd` (the key must match `relayhost` exactly, e.g. `[smtp.provider]:587`), then `postmap /etc/postfix/sasl_passwd && postfix reload`.",
                "Make sure a SASL mechanism is available (`libsasl2-modules` on Debian, `cyrus-sasl-plain` on RHEL) and `smtp_sasl_auth_enable = yes`.",
                "If the reply is 'Relay access denied' from a destination MX, the MX does not accept that domain: check the recipient domain's MX.",
            ],
            Cause::RelayUnavailable => &[
                "Test the relay from the server: `nc -zv RELAYHOST 587` (and 465, 25); compare with `postconf relayhost` and the transport maps.",
                "Check the local and provider firewalls for outbound 587/465, and the relay provider's status page.",
                "Fix `relayhost` (bracketed name and port, e.g. `[smtp.provider.example]:587`), then `postfix reload`.",
            ],
            Cause::RemoteUnavailable => &[
                "Usually transient: watch whether the same destination keeps failing (`qshape deferred`).",
                "Test the destination: `dig MX DOMAIN` then `nc -zv MXHOST 25`.",
            ],
            Cause::LocalSystem => &[
                "Disk: `df -h /var/spool/postfix` and `df -i`; free space, then `postfix reload`.",
                "Mail loops back to myself: the destination's MX points to this server; check `mydestination`, `myhostname` and the domain's MX.",
                "Transport errors: check `master.cf` for the transport named in the log (`postfix check`, `journalctl -u postfix`), then `postfix reload`.",
            ],
            Cause::Unknown => &[
                "Read the text in the unclassified table; add a rule to a rules file (`--rules FILE`) if it is a known cause.",
            ],
        }
    }
}
