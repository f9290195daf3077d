//! The built-in pattern table: reason text to cause, in priority order.
//!
//! Order is the whole policy, so it is written down here:
//!
//! 1. Our own plumbing first (content filter, resolver, disk, transports),
//!    matched only where Postfix itself speaks, at the start of the text
//!    (optionally after `delivery temporarily suspended: `), so a remote
//!    reply that happens to quote such words is not taken for ours.
//! 2. TLS and relay credentials.
//! 3. Listings and reputation, provider-specific rules before the generic
//!    ones (so the list is named), and all before rate limits: a reply that
//!    names both a listing and a rate limit is `blacklisted`.
//! 4. Rate limits, greylisting, authentication policy, full mailboxes,
//!    unknown recipients.
//! 5. The catch-alls for a remote server that is down or answered 4xx.
//!
//! Patterns are regexes without Unicode classes (`(?i)` folds ASCII). An
//! enhanced status code is bounded by `(?:^|[^0-9.])` and `(?:[^0-9]|$)` so
//! `5.1.1` does not match inside an IP address.

use super::Cause;

/// One built-in rule.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinRule {
    pub name: &'static str,
    pub cause: Cause,
    /// The list or reputation system the rule implies, when the text does
    /// not name a DNSBL zone itself.
    pub list: Option<&'static str>,
    pub pattern: &'static str,
    /// What the reply says about our server's standing: only listings,
    /// reputation and complaints open a blacklist episode.
    pub standing: Standing,
    /// The kind of local failure the text shows, for our own plumbing.
    pub local: Option<LocalKind>,
}

/// A rule whose standing follows its cause: a listing is about our
/// reputation, anything else about nothing of ours.
const fn rule(
    name: &'static str,
    cause: Cause,
    list: Option<&'static str>,
    pattern: &'static str,
) -> BuiltinRule {
    BuiltinRule {
        name,
        cause,
        list,
        pattern,
        standing: match cause {
            Cause::Blacklisted => Standing::Reputation,
            _ => Standing::None,
        },
        local: None,
    }
}

/// A rule for a text that shows the server itself failing.
pub(super) const fn local_rule(
    name: &'static str,
    cause: Cause,
    local: LocalKind,
    pattern: &'static str,
) -> BuiltinRule {
    BuiltinRule {
        name,
        cause,
        list: None,
        pattern,
        standing: Standing::None,
        local: Some(local),
    }
}

/// A rule with its own standing (a throttle that cites complaints, a
/// block of the kind of IP rather than of what it sent).
const fn rule_with(
    name: &'static str,
    cause: Cause,
    list: Option<&'static str>,
    standing: Standing,
    pattern: &'static str,
) -> BuiltinRule {
    BuiltinRule {
        name,
        cause,
        list,
        pattern,
        standing,
        local: None,
    }
}

use super::{LocalKind, Standing};
use Cause::*;

/// Postfix's own text, possibly after the dead-destination prefix.
macro_rules! own {
    ($p:literal) => {
        concat!(r"^(?:delivery temporarily suspended: )?", $p)
    };
}

pub const BUILTIN: &[BuiltinRule] = &[
    // --- 1. local plumbing -------------------------------------------------
    // Any loopback port but 25 is a local service: amavis 10024, the
    // reinjection listener 10025, spamd 783, rspamd 11332, milters...
    // Port 25 on loopback is left out: test rigs run real receivers there.
    rule(
        "content_filter_connect",
        ContentFilterDown,
        None,
        own!(
            r"(?i)(?:connect to|lost connection with|conversation with) [^\s\[]*\[(?:127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|::1)\]:(?:[013-9][0-9]*|2|2[0-46-9][0-9]*|25[0-9]+)(?:[^0-9]|$)"
        ),
    ),
    // Postfix does not print the port in `lost connection`: 127.0.0.1
    // itself is where a content filter listens.
    rule(
        "content_filter_lost",
        ContentFilterDown,
        None,
        own!(r"(?i)(?:lost connection with|conversation with) [^\s\[]*\[(?:127\.0\.0\.1|::1)\] "),
    ),
    rule(
        "content_filter_transport",
        ContentFilterDown,
        None,
        own!(
            r"(?i)connect to (?:transport )?(?:private|public)/[a-z0-9_.-]*(?:amavis|spam|scan|filter|clam|rspam|dspam|mailscanner|milter)"
        ),
    ),
    // The filter answered but failed inside (amavisd-new's own replies).
    rule(
        "content_filter_reply",
        ContentFilterDown,
        None,
        r"(?i)\b(?:mail_via_smtp|mail_via_pipe|spam_scan|virus_scan)\b[^\n]{0,60}?FAILED|(?:^|[^0-9.])4\.5\.0 Error in processing, id=|\b(?:amavisd?|spamd|clamd|rspamd|milter)\b[^\n]{0,80}?(?:connection refused|not responding|can't connect|cannot connect|service unavailable)",
    ),
    // Spamhaus refuses queries relayed through public resolvers
    // (127.255.255.254) or over quota: the receiver's or our resolver setup,
    // not a listing of our IP.
    rule(
        "spamhaus_open_resolver",
        DnsFailure,
        Some("zen.spamhaus.org"),
        r"(?i)spamhaus[^\n]{0,300}?(?:open resolver|public resolver|127\.255\.255\.25[2-5]|/returnc/)|(?:open|public) resolver[^\n]{0,300}?spamhaus",
    ),
    rule(
        "dns_temporary",
        DnsFailure,
        None,
        own!(
            r"(?i)(?:Host or domain name not found\. )?Name service error for name=[^ ]* type=[A-Za-z0-9]*: (?:Host not found, try again|Malformed or unexpected name server reply|server failure)"
        ),
    ),
    rule(
        "dns_resolver",
        DnsFailure,
        None,
        own!(
            r"(?i)(?:Temporary failure in name resolution|unable to look up (?:host|domain)|DNS server failure)"
        ),
    ),
    // Permanent answers: the domain has no MX and no address.
    rule(
        "dns_no_such_domain",
        UnknownRecipient,
        None,
        own!(
            r"(?i)(?:(?:Host or domain name not found\. )?Name service error for name=[^ ]* type=[A-Za-z0-9]*: (?:Host not found|Host found but no data record)|Domain [^ ]+ does not accept mail \(nullMX\)|Domain not found)"
        ),
    ),
    // A remote server's own verification results, quoted in its reply:
    // its problem, not ours (`unverified address: ... loops back to myself`).
    rule(
        "remote_unverified_unknown",
        UnknownRecipient,
        None,
        r"(?i)unverified address: [^\n]{0,200}?(?:unknown user|user unknown|no such user|does not exist|undeliverable)",
    ),
    rule(
        "remote_unverified",
        RemoteUnavailable,
        None,
        r"(?i)unverified address",
    ),
    // Our own mail store (Dovecot LMTP on a socket or on loopback) says
    // its disk is full: this server's disk, not the recipient's quota.
    local_rule(
        "local_store_disk",
        LocalSystem,
        LocalKind::DiskFull,
        r"(?i)(?:\[(?:private|public)/[^\]]*\]|\[/[^\]]*\]|\[(?:127\.[0-9.]+|::1)\](?::[0-9]+)?) said: [^\n]*?(?:Not enough disk space|No space left on device|Insufficient system storage|disk (?:is )?full)",
    ),
    // A receiver whose disk is full says so in its reply.
    rule(
        "remote_no_space",
        RemoteUnavailable,
        None,
        r"(?i)(?:said|refused to talk to me): [^\n]*?(?:No space left on device|queue file write error|Insufficient system storage)",
    ),
    local_rule(
        "local_disk",
        LocalSystem,
        LocalKind::DiskFull,
        r"(?i)No space left on device|error writing message: (?:File too large|Disk quota exceeded)",
    ),
    local_rule(
        "local_queue_file",
        LocalSystem,
        LocalKind::QueueFile,
        r"(?i)queue file write error",
    ),
    local_rule(
        "local_loop",
        LocalSystem,
        LocalKind::MailLoop,
        own!(r"(?i)(?:mail for [^ ]+ loops back to myself|mail forwarding loop for )"),
    ),
    local_rule(
        "local_transport",
        LocalSystem,
        LocalKind::Transport,
        own!(
            r"(?i)(?:mail transport unavailable|unknown mail transport error|connect to transport |mail system configuration error|unknown service|server configuration error|lookup table|deferred transport\s*$)"
        ),
    ),
    // local(8), virtual(8) and pipe(8) report their own lookups.
    local_rule(
        "local_lookup",
        LocalSystem,
        LocalKind::LookupFailure,
        own!(
            r"(?i)(?:user lookup (?:error|failure)|temporary lookup failure|table lookup problem|lookup error)"
        ),
    ),
    // Connect failures on a port other than 25 (and not on loopback): the
    // relay host, which every message waits on.
    local_rule(
        "relay_unreachable",
        RelayUnavailable,
        LocalKind::Relayhost,
        own!(
            r"(?i)connect to [^\s\[]*\[[^\]]*\]:(?:[013-9][0-9]*|2|2[0-46-9][0-9]*|25[0-9]+): (?:Connection timed out|Operation timed out|No route to host|Network is unreachable|Connection refused|Host is down)"
        ),
    ),
    // --- 2. TLS and relay credentials --------------------------------------
    rule(
        "tls",
        TlsFailure,
        None,
        r"(?i)Cannot start TLS|TLS is required, but|TLS handshake|handshake failure|SSL_connect error|certificate verification failed|Server certificate not (?:verified|trusted)|TLS negotiation failed|must issue a STARTTLS",
    ),
    rule(
        "relay_sasl",
        RelayAuthFailure,
        None,
        r"(?i)SASL authentication failed|authentication failed[^\n]{0,60}?(?:^|[^0-9])535|(?:said|refused to talk to me): 535[ -]|(?:said|refused to talk to me): 530[ -]5\.7\.[01][^0-9]|Authentication (?:credentials invalid|unsuccessful)|no mechanism available",
    ),
    rule(
        "relay_denied",
        RelayAuthFailure,
        None,
        r"(?i)Relay access denied|Unable to relay|we do not relay|relaying denied|Relaying not allowed|relay not permitted",
    ),
    // --- 3. listings and reputation -----------------------------------------
    // The kind of IP is refused, not what it sent: dynamic or residential
    // ranges (Spamhaus PBL, Gmail's "not authorized to send directly", AOL
    // RTR:DU). The server is blocked all the same, but no sender caused it.
    rule_with(
        "dynamic_ip_policy",
        Blacklisted,
        None,
        Standing::Policy,
        r"(?i)\bpbl\.spamhaus\.org|spamhaus\.org/pbl|/pbl/query|not authorized to send (?:e-?mail )?directly|\bRTR:DU\b|\bdynamic (?:ip|address|pool|range)|\bdial-?up\b|\bresidential (?:ip|address|range)|rrDynamic",
    ),
    rule(
        "microsoft_block",
        Blacklisted,
        Some("microsoft"),
        r"(?i)\bS3140\b|\bS3150\b|\bS3114\b|\bS3115\b|\bS775\b|(?:^|[^0-9.])5\.7\.(?:606|511)(?:[^0-9]|$)|(?:^|[^0-9.])4\.7\.650(?:[^0-9]|$)|banned sending IP|banned sender|sender\.office\.com|part of their network is on our block list",
    ),
    rule(
        "gmail_reputation",
        Blacklisted,
        Some("gmail"),
        r"(?i)low reputation of the sending|likely unsolicited mail|unsolicited mail originating from your IP address[^\n]{0,200}?blocked|UnsolicitedMessageError|IPReputation|DomainReputation",
    ),
    rule(
        "yahoo_block",
        Blacklisted,
        Some("yahoo"),
        r"(?i)\[TS0[1-3]\]|\[TSS0[79]\]|\[TSS1[0-9]\]|permanently deferred",
    ),
    rule(
        "proofpoint_block",
        Blacklisted,
        Some("proofpoint"),
        r"(?i)ipcheck\.proofpoint|proofpoint[^\n]{0,100}?(?:block|dnsbl|reputation)|pphosted[^\n]{0,100}?block",
    ),
    rule(
        "mimecast_reputation",
        Blacklisted,
        Some("mimecast"),
        r"(?i)Poor Reputation Sender|mimecast[^\n]{0,200}?(?:reputation|blocked)",
    ),
    rule(
        "trendmicro_block",
        Blacklisted,
        Some("trendmicro"),
        r"(?i)ers\.trendmicro\.com|trend ?micro[^\n]{0,100}?(?:reputation|block|listed)",
    ),
    rule(
        "cloudmark_reputation",
        Blacklisted,
        Some("cloudmark"),
        r"(?i)cloudmark|\bCSI\b[^\n]{0,40}?reputation",
    ),
    // Road Runner (Spectrum) refuses addresses its customers complained
    // about: `554 5.7.1 - ERROR: Mail Refused - IP - See
    // http://security.rr.com/mail_blocks.htm#...` (its documented format).
    rule(
        "roadrunner_block",
        Blacklisted,
        Some("roadrunner"),
        r"(?i)ERROR: ?(?:5\.7\.1: ?550 )?Mail Refused|security\.rr\.com",
    ),
    // Symantec Email Security.cloud (MessageLabs): "553-Message filtered":
    // its anti-spam filter took the mail for spam (Broadcom's KB).
    rule(
        "messagelabs_filtered",
        Blacklisted,
        Some("messagelabs"),
        r"(?i)(?:^|[^a-z])Message filtered|messagelabs|symanteccloud",
    ),
    rule(
        "dnsbl",
        Blacklisted,
        None,
        r"(?i)blocked using |\b(?:spamhaus|spamcop|barracudacentral|uceprotect|sorbs|spamrats|abuseat|dnsbl|rbl)\b|black ?list|block ?list|blacklisted|blocklisted|deny ?list|denylisted|Blocked - see https?://",
    ),
    rule(
        "reputation",
        Blacklisted,
        None,
        r"(?i)(?:poor|bad|low|negative) (?:sender |ip |domain )?reputation|reputation (?:is )?(?:too )?(?:low|poor)|reputation[^\n]{0,40}?(?:block|reject|denied)|(?:sender|ip|domain) reputation",
    ),
    rule(
        "client_blocked",
        Blacklisted,
        None,
        r"(?i)(?:client host|your ip|ip address|sending ip|your host|your server|your network)[^\n]{0,60}?\b(?:blocked|banned|blacklisted|listed)\b",
    ),
    // Receivers that reject the content as spam: the same evidence of a
    // spam source as a listing, and the same fix (stop the source).
    rule(
        "rejected_as_spam",
        Blacklisted,
        None,
        r"(?i)rejected as spam|(?:message|mail) (?:was |is )?(?:classified|identified|detected) as spam|\bDT:SPM\b|REJECT bulk\.|looks like spam|considered (?:as )?spam|spam message rejected|Denied [^\n]{0,60}\(Mode: normal\)|Denied by policy|rejected due to content restrictions",
    ),
    // --- 4. throttling and the recipient side ------------------------------
    // Throttles that cite unsolicited mail or complaints are about what we
    // sent: evidence of a spam source, like a listing.
    rule_with(
        "gmail_unsolicited_rate",
        RateLimited,
        Some("gmail"),
        Standing::Reputation,
        r"(?i)(?:^|[^0-9.])[45]\.7\.28(?:[^0-9]|$)|unusual rate of (?:[0-9]{3}-[0-9.]+ )?unsolicited|UnsolicitedRateLimitError",
    ),
    // One recipient's mailbox gets too much mail: about them, not us.
    rule(
        "gmail_recipient_rate",
        RateLimited,
        Some("gmail"),
        r"(?i)receiving mail at a rate|receiving mail too quickly|ReceivingRateLimit",
    ),
    rule_with(
        "yahoo_rate",
        RateLimited,
        Some("yahoo"),
        Standing::Reputation,
        r"(?i)\[TSS?0[4-6]\]|unexpected volume or user complaints|deferred due to user complaints",
    ),
    // Office 365 limits the connections one sender keeps open at once:
    // about the connection count, not what we sent.
    rule(
        "microsoft_concurrency",
        RateLimited,
        Some("microsoft"),
        r"(?i)Concurrent connections limit exceeded|aka\.ms/concurrent_sending",
    ),
    rule(
        "microsoft_busy",
        RateLimited,
        Some("microsoft"),
        r"(?i)Server busy|(?:^|[^0-9.])4\.7\.500(?:[^0-9]|$)",
    ),
    rule(
        "rate",
        RateLimited,
        None,
        r"(?i)rate.?limit|too many (?:connections|concurrent|simultaneous|messages|recipients|mails?|sessions|invalid recipients|errors|bounces)|too much mail|(?:message|connection|sending) rate|exceeded (?:the |your )?(?:message |sending |connection |hourly |daily )(?:rate|limit)|Intrusion prevention active|too fast|slow down|throttl",
    ),
    rule(
        "greylisted",
        Greylisted,
        None,
        r"(?i)gr[ae]y[- ]?list|postgrey",
    ),
    rule(
        "auth_policy",
        AuthPolicy,
        None,
        r"(?i)(?:^|[^0-9.])[45]\.7\.2[0-6](?:[^0-9]|$)|\bSPF\b|\bDKIM\b|\bDMARC\b|unauthenticated (?:e?mail|sender)|sender is unauthenticated|reverse (?:hostname|dns)|\bPTR record|\brDNS\b",
    ),
    rule(
        "mailbox_full",
        MailboxFull,
        None,
        r"(?i)(?:^|[^0-9.])[45]\.2\.2(?:[^0-9]|$)|over ?quota|quota (?:exceeded|full)|exceeded (?:the |his |her |their )?(?:storage|quota|mailbox)|mail ?box (?:is )?(?:full|over)|full mailbox|mailbox has exceeded|out of storage space|mailbox size limit|mail ?box is full",
    ),
    rule(
        "unknown_recipient",
        UnknownRecipient,
        None,
        r"(?i)(?:^|[^0-9.])[45]\.1\.[0-36](?:[^0-9]|$)|(?:^|[^0-9.])5\.2\.1(?:[^0-9]|$)|user(?:name)? (?:is )?unknown|unknown (?:user|recipient|local part|alias|or illegal alias|e-?mail address|address)|no such (?:user|person|recipient|mailbox|address|account)|(?:does not|doesn't|not) exist|mailbox (?:is )?(?:unavailable|not found|disabled|inactive|currently disabled)|account (?:is |has been )?(?:disabled|discontinued|inactive|suspended|deactivated)|has been disabled|is disabled|invalid (?:recipient|mailbox|user|address|e-?mail)|user invalid|recipient (?:unknown|invalid|not found)|inactive recipient|no mailbox here|doesn't have a [^\n]{0,20}?account|user not found|undeliverable address|unrou?te?able address|user <[^>\s]*> unknown|Recipient address rejected: Access denied|has moved to|not in my validrcptto|is not a known user",
    ),
    // --- 5. the remote side is down ----------------------------------------
    // Our own mail store answered (LMTP on a socket): whatever it says that
    // no rule above placed (a full quota is above), it is this server's.
    local_rule(
        "local_store_reply",
        LocalSystem,
        LocalKind::LocalDelivery,
        r"(?i)\[(?:private|public)/[^\]]*\] said: ",
    ),
    rule(
        "connect_failed",
        RemoteUnavailable,
        None,
        own!(
            r"(?i)connect to [^\n]*?: (?:Connection timed out|Operation timed out|No route to host|Network is unreachable|Connection refused|Host is down|Connection reset by peer)"
        ),
    ),
    rule(
        "lost_connection",
        RemoteUnavailable,
        None,
        own!(
            r"(?i)(?:lost connection with |conversation with [^\n]*? timed out|Connection reset|server dropped connection|read timeout|unexpected end of file)"
        ),
    ),
    rule(
        "remote_4xx",
        RemoteUnavailable,
        None,
        r"(?i)(?:said|refused to talk to me): 4[0-9][0-9](?:[ -]|$)",
    ),
    rule(
        "remote_temporary",
        RemoteUnavailable,
        None,
        r"(?i)try again later|temporar(?:il)?y (?:deferred|unavailable|rejected)|temporary (?:failure|error|problem)|service (?:temporarily )?(?:unavailable|not available)|too busy",
    ),
];

#[cfg(test)]
mod tests {
    use super::super::{Cause, Classifier};
    use super::*;

    /// Real reason texts (lab-1 receivers and the public corpus), the cause
    /// and the list each must get.
    const CASES: &[(&str, Cause, Option<&str>)] = &[
        // lab-1 receivers
        ("host mx.example.com[127.0.0.22] said: 550 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1 (in reply to RCPT TO command)", Blacklisted, Some("zen.spamhaus.org")),
        ("host mx.bigisp.test[127.0.0.23] said: 450 4.7.1 Service unavailable; Client host [127.0.0.1] blocked using bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?127.0.0.1 (in reply to RCPT TO command)", Blacklisted, Some("bl.spamcop.net")),
        ("delivery temporarily suspended: host mail.corp-mail.test[127.0.0.24] refused to talk to me: 554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using b.barracudacentral.org; http://www.barracudanetworks.com/reputation/?pr=1&ip=127.0.0.1", Blacklisted, Some("b.barracudacentral.org")),
        ("host outlook-like-test.mail.protection.outlook-like.test[127.0.0.21] said: 550 5.7.1 Unfortunately, messages from [127.0.0.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3140). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [3344EUR03FT66.eop-EUR03.prod.protection.outlook.com 2026-11-28T18:37:30.340Z D66033979C96EE88] (in reply to MAIL FROM command)", Blacklisted, Some("microsoft")),
        ("host gmail-smtp-in.l.gmail-like.test[127.0.0.20] said: 421-4.7.0 [127.0.0.1      15] Our system has detected an unusual rate of 421-4.7.0 unsolicited mail originating from your IP address. To protect our 421-4.7.0 users from spam, mail sent from your IP address has been temporarily 421-4.7.0 rate limited. Please visit 421-4.7.0  https://support.google.com/mail/?p=UnsolicitedRateLimitError to 421 4.7.0 review our Bulk Email Senders Guidelines. 223017si7808772qkb.432 - gsmtp (in reply to end of DATA command)", RateLimited, Some("gmail")),
        ("host mx1.example.org[127.0.0.11] said: 450 4.2.0 <amy.moreau@example.org>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.org.html (in reply to RCPT TO command)", Greylisted, None),
        ("host mx1.example.org[127.0.0.11] said: 452 4.2.2 <fullbox.ian@example.org>: Recipient address rejected: Mailbox is full / over quota (in reply to RCPT TO command)", MailboxFull, None),
        ("host mx.example.net[127.0.0.10] said: 550 5.1.1 <nouser.x@example.net>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)", UnknownRecipient, None),
        ("host outlook-like-test.mail.protection.outlook-like.test[127.0.0.21] said: 550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [F960EUR03FT23.eop-EUR03.prod.protection.outlook.com] (in reply to RCPT TO command)", UnknownRecipient, None),
        ("delivery temporarily suspended: connect to 127.0.0.1[127.0.0.1]:10024: Connection refused", ContentFilterDown, None),
        ("connect to 127.0.0.1[127.0.0.1]:10024: Connection refused", ContentFilterDown, None),
        ("delivery temporarily suspended: Host or domain name not found. Name service error for name=gmail-like.test type=MX: Host not found, try again", DnsFailure, None),
        ("Host or domain name not found. Name service error for name=defunct-shop.test type=A: Host not found", UnknownRecipient, None),
        ("connect to mx.slowpoke.test[127.0.0.30]:25: Connection timed out", RemoteUnavailable, None),
        ("connect to mx.deadhost.test[127.0.0.31]:25: Connection refused", RemoteUnavailable, None),
        ("connect to mx.unreach.test[192.0.2.25]:25: Network is unreachable", RemoteUnavailable, None),
        // kdent
        ("host mx.example.com[192.0.2.7] said: 451 Temporary local problem - please try later (in reply to RCPT TO command)", RemoteUnavailable, None),
        ("host mx.example.com[192.0.2.7] said: 452 Too many recipients received from the sender (in reply to RCPT TO command)", RateLimited, None),
        ("conversation with lbzod.example.download[192.0.2.9] timed out while sending message body", RemoteUnavailable, None),
        ("lost connection with lbzod.example.download[192.0.2.9] while receiving the initial server greeting", RemoteUnavailable, None),
        ("connect to mx.example.com[192.0.2.7]:25: No route to host", RemoteUnavailable, None),
        ("host mx.example.com[192.0.2.7] said: 550 Administrative prohibition (in reply to end of DATA command)", Unknown, None),
        // pflgviewer
        ("host mx.example.com[192.0.2.7] said: 550 5.4.1 [a@example.com]: Recipient address rejected: Access denied (in reply to RCPT TO command)", UnknownRecipient, None),
        ("delivery temporarily suspended: host mx.example.com[192.0.2.7] refused to talk to me: 421 Too many invalid recipients", RateLimited, None),
        ("mail transport unavailable", LocalSystem, None),
        ("host mx.example.com[192.0.2.7] said: 550 csi-us.mimecast.org Poor Reputation Sender - http://kb.mimecast.com/Mimecast_Knowledge_Base/Administration_Console/Monitoring/Mimecast_SMTP_Error_Codes#554 (in reply to RCPT TO command)", Blacklisted, Some("mimecast")),
        ("host p3plibsmtp.example.net[192.0.2.7] refused to talk to me: 554 sg2plibsmtp01-1.prod.sin2.secureserver.net bizsmtp IBN. Connection refused. 192.0.2.1 has a poor reputation on Cloudmark Sender Intelligence (CSI). Please visit http://csi.cloudmark.com/reset-request/?ip=192.0.2.1 to request a delisting.", Blacklisted, Some("cloudmark")),
        ("host aspmx.l.google.com[192.0.2.7] said: 550 5.2.1 The email account that you tried to reach is disabled. i17si1wiv.21 - gsmtp (in reply to RCPT TO command)", UnknownRecipient, None),
        ("host mx.example.com[192.0.2.7] said: 550 Requested action not taken: mailbox unavailable (in reply to RCPT TO command)", UnknownRecipient, None),
        ("host mx.example.com[192.0.2.7] said: 550 5.7.1 Message rejected as spam by Content Filtering. (in reply to end of DATA command)", Blacklisted, None),
        // lightmeter go_test_embedded_lines
        ("host mx.example.com[192.0.2.7] refused to talk to me: 554 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1", Blacklisted, Some("proofpoint")),
        ("host mx.example.com[192.0.2.7] said: 550-5.7.1 [192.0.2.1      18] Our system has detected that this message is 550-5.7.1 likely suspicious due to the very low reputation of the sending IP 550-5.7.1 address. To best protect our users from spam, the message has been 550-5.7.1 blocked. (in reply to end of DATA command)", Blacklisted, Some("gmail")),
        ("host mx.example.com[192.0.2.7] said: 550-5.7.28 [192.0.2.1       1] Our system has detected an unusual rate of 550-5.7.28 unsolicited mail originating from your IP address. (in reply to end of DATA command)", RateLimited, Some("gmail")),
        ("host mx.example.com[192.0.2.7] said: 550 5.7.511 Access denied, banned sender[192.0.2.1]. To request removal from this list please forward this message to delist@microsoft.com (in reply to MAIL FROM command)", Blacklisted, Some("microsoft")),
        ("host [192.0.2.7] said: 550 5.7.606 Access denied, banned sending IP [192.0.2.1]. To request removal from this list please visit https://sender.office.com/ and follow the directions.", Blacklisted, Some("microsoft")),
        ("host mx.example.com[192.0.2.7] said: 421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to user complaints - 4.16.55.1; see https://help.yahoo.com/kb/postmaster/SLN3434.html (in reply to MAIL FROM command)", RateLimited, Some("yahoo")),
        ("host mx.example.com[192.0.2.7] said: 450-You have been greylisted. This is part of our standard anti-spam measures 450-and your mail system should automatically try again later. (in reply to RCPT TO command)", Greylisted, None),
        // ipalakchopra
        ("connect to mx01.mail.com[192.0.2.7]:25: Connection timed out", RemoteUnavailable, None),
        ("Host or domain name not found. Name service error for name=mail.com type=AAAA: Host not found, try again", DnsFailure, None),
        ("unknown user: \"contact\"", UnknownRecipient, None),
        // fonylew
        ("lost connection with gmail.com[192.0.2.7] while receiving the initial server greeting", RemoteUnavailable, None),
        ("lost connection with 192.0.2.7[192.0.2.7] while sending end of data -- message may be sent more than once", RemoteUnavailable, None),
        // mensetmanus
        ("delivery temporarily suspended: host mx.example.com[192.0.2.7] refused to talk to me: 421 4.7.1 Intrusion prevention active for [192.0.2.1][P]", RateLimited, None),
        ("connect to mx.example.com[2a00:1450:400c:c04::1b]:25: Network is unreachable", RemoteUnavailable, None),
        ("host mx.example.com[192.0.2.7] said: 452-4.2.2 The email account that you tried to reach is over quota. Please direct 452-4.2.2 the recipient to 452 4.2.2 http://support.google.com/mail/bin/answer.py?answer=6558 a1si.89 - gsmtp", MailboxFull, None),
        // infohtreasure, ladywhyfi, grok-patterns
        ("unknown mail transport error", LocalSystem, None),
        ("delivery temporarily suspended: lost connection with mta7.am0.yahoodns.net[192.0.2.7] while sending RCPT TO", RemoteUnavailable, None),
        ("mail forwarding loop for a@example.com", LocalSystem, None),
        ("host mx.example.com[2a00:1450:400c:c04::1b] said: 550-5.7.1 [2a01:4f8::2      12] Our system has detected that this 550-5.7.1 message is likely unsolicited mail. To reduce the amount of spam sent 550-5.7.1 to Gmail, this message has been blocked.", Blacklisted, Some("gmail")),
        // fgforrest, rsyslog, solaris, dmlinarr, kumina, sergeymakinen
        ("host mx.example.cz[192.0.2.7] said: 450 4.7.1 Error: too much mail from 192.0.2.1 (in reply to MAIL FROM command)", RateLimited, None),
        ("host mx.example.cz[192.0.2.7] said: 450 4.1.1 <a@example.cz>: Recipient address rejected: unverified address: mail for sh.example.cz loops back to myself (in reply to RCPT TO command)", RemoteUnavailable, None),
        ("host mx.example.cz[192.0.2.7] said: 450 4.1.1 <a@example.cz>: Recipient address rejected: unverified address: unknown user: \"a@example.cz\" (in reply to RCPT TO command)", UnknownRecipient, None),
        ("host mx.example.cz[192.0.2.7] said: 451-4.7.0 DNS timeout 451 4.7.0 For assistance, contact your administrator", RemoteUnavailable, None),
        ("host mx.example.cz[192.0.2.7] said: 450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1] (in reply to RCPT TO command)", AuthPolicy, None),
        ("host mx.example.org[2001:db8::33] said: 550 5.7.23 <a@example.org>: Recipient address rejected: Message rejected due to: SPF fail - not authorized. (in reply to RCPT TO command)", AuthPolicy, None),
        ("host mx.example.com[192.0.2.7] said: 451 DT:SPM 163 mx40,abc--.1 1, please try again 15min later (in reply to end of DATA command)", Blacklisted, None),
        ("host mx.example.com[192.0.2.7] said: 550 5.7.1 <a@example.cz>: Relay access denied (in reply to RCPT TO command)", RelayAuthFailure, None),
        ("Name service error for name=example.cz type=MX: Malformed or unexpected name server reply", DnsFailure, None),
        ("host mx.example.cz[192.0.2.7] said: 452 4.2.2 <a@example.cz> Mailbox has exceeded the limit (in reply to RCPT TO command)", MailboxFull, None),
        ("host mx.example.cz[192.0.2.7] said: 451 4.7.1 Greylisting in action, please come back in 25 minutes (in reply to RCPT TO command)", Greylisted, None),
        // taxonomy texts from the design and the brief
        ("connect to transport private/smtp-amavis: Connection refused", ContentFilterDown, None),
        ("host 127.0.0.1[127.0.0.1] said: 451 4.5.0 Error in processing, id=12345-01, mail_via_smtp FAILED: 421 4.4.2 Connection refused", ContentFilterDown, None),
        ("host mx.example.com[192.0.2.7] said: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; Error: open resolver; https://www.spamhaus.org/returnc/pub/198.51.100.3", DnsFailure, Some("zen.spamhaus.org")),
        ("No space left on device", LocalSystem, None),
        ("mail for example.com loops back to myself", LocalSystem, None),
        ("Cannot start TLS: handshake failure", TlsFailure, None),
        ("SASL authentication failed; server smtp.provider.example[192.0.2.7] said: 535 5.7.8 Error: authentication failed: authentication failure", RelayAuthFailure, None),
        ("host gmail-smtp-in.l.google.com[192.0.2.7] said: 550-5.7.26 This mail has been blocked because the sender is unauthenticated. (in reply to end of DATA command)", AuthPolicy, None),
        ("host mx.example.com[192.0.2.7] said: 451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (AS3) (in reply to RCPT TO command)", RateLimited, Some("microsoft")),
        ("host mx.example.com[192.0.2.7] said: 421 4.7.0 [TS03] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed.", Blacklisted, Some("yahoo")),
        ("host mx.example.com[192.0.2.7] said: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using dnsbl-1.uceprotect.net; IP listed", Blacklisted, Some("uceprotect")),
        ("host mx.example.com[192.0.2.7] said: 450-4.2.1 The user you are trying to contact is receiving mail at a rate that 450-4.2.1 prevents additional messages from being delivered. (in reply to RCPT TO command)", RateLimited, Some("gmail")),
        ("host mx.example.com[192.0.2.7] said: 421 4.7.0 Too many concurrent SMTP connections from this IP address; please try again later.", RateLimited, None),
        // Replies real servers met (the public2 corpus, names changed, and
        // the providers' documented texts).
        ("host smtp.office365.com[192.0.2.7] said: 432 4.3.2 Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending for more information. [Hostname=AM0PR01MB1234.eurprd01.prod.outlook.com] (in reply to end of DATA command)", RateLimited, Some("microsoft")),
        ("host cdptpa-mx.example.com[192.0.2.7] said: 554 5.7.1 - ERROR: Mail Refused - 192.0.2.1 - See http://security.rr.com/mail_blocks.htm#IP_BLOCK - 20120704 (in reply to MAIL FROM command)", Blacklisted, Some("roadrunner")),
        ("host mx.example.com[192.0.2.7] said: 553-Message filtered. Refer to the Troubleshooting page at 553-http://www.symanteccloud.com/troubleshooting for more 553 information. (#5.7.1) (in reply to end of DATA command)", Blacklisted, Some("messagelabs")),
        ("host example.com.au.s200a1.mxlogic.net[192.0.2.7] said: 554 Denied [8e6f0b3a.1.2.mxlogic.net] (Mode: normal) (in reply to end of DATA command)", Blacklisted, None),
        ("host mx.example.edu.au[192.0.2.7] said: 550 Denied by policy (in reply to RCPT TO command)", Blacklisted, None),
        ("host mx.example.com[192.0.2.7] said: 553 sorry, this recipient is not in my validrcptto list (#5.7.1) (in reply to RCPT TO command)", UnknownRecipient, None),
        ("host mx.example.com[192.0.2.7] said: 550 \"user@example.com\" is not a known user (in reply to RCPT TO command)", UnknownRecipient, None),
        ("host mx-aol.mail.gm0.yahoodns.net[192.0.2.7] said: 554- (RTR:DU) https://postmaster.yahooinc.com/error-codes (in reply to MAIL FROM command)", Blacklisted, None),
        ("user lookup error", LocalSystem, None),
        ("deferred transport", LocalSystem, None),
        ("host mail.example.com[private/dovecot-lmtp] said: 452 4.2.2 <u@example.com> Not enough disk space (in reply to end of DATA command)", LocalSystem, None),
        ("host mail.example.com[private/dovecot-lmtp] said: 451 4.3.0 <u@example.com> Temporary internal error (in reply to end of DATA command)", LocalSystem, None),
        ("host mail.example.com[private/dovecot-lmtp] said: 552 5.2.2 <u@example.com> Quota exceeded (mailbox for user is full) (in reply to end of DATA command)", MailboxFull, None),
        ("connect to smtp.gmail.com[192.0.2.9]:587: Connection timed out", RelayUnavailable, None),
        ("delivery temporarily suspended: connect to smtp.gmail.com[192.0.2.8]:587: Connection timed out", RelayUnavailable, None),
        ("host mx.example.com[192.0.2.7] said: 452 4.3.1 Insufficient system storage (in reply to MAIL FROM command)", RemoteUnavailable, None),
    ];

    /// Only replies about our reputation are evidence of spam sent; the
    /// providers' documented texts for each kind.
    #[test]
    fn standing_says_whether_a_reply_is_about_us() {
        use super::super::Standing;
        let cases: &[(&str, Standing, Option<&str>)] = &[
            // Listings and reputation: evidence.
            ("host mx.example.com[192.0.2.7] said: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1", Standing::Reputation, Some("zen.spamhaus.org")),
            ("host mx.example.com[192.0.2.7] said: 554 Service unavailable; Client host [192.0.2.1] blocked using Barracuda Reputation; http://www.barracudanetworks.com/reputation/?r=1&ip=192.0.2.1", Standing::Reputation, Some("b.barracudacentral.org")),
            ("host mx.example.com[192.0.2.7] said: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using sbl.spamhaus.org", Standing::Reputation, Some("zen.spamhaus.org")),
            ("host gmail-smtp-in.l.google.com[192.0.2.7] said: 421-4.7.0 [192.0.2.1 15] Our system has detected an unusual rate of 421-4.7.0 unsolicited mail originating from your IP address. (in reply to end of DATA command)", Standing::Reputation, Some("gmail")),
            ("host mta6.am0.yahoodns.net[192.0.2.7] said: 421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes (in reply to MAIL FROM command)", Standing::Reputation, Some("yahoo")),
            // The kind of IP: blocked, but by policy.
            ("host gmail-smtp-in.l.google.com[192.0.2.7] said: 550-5.7.1 [192.0.2.1] The IP you're using to send mail is not authorized to 550-5.7.1 send email directly to our servers. Please use the SMTP relay at your 550-5.7.1 service provider instead. (in reply to end of DATA command)", Standing::Policy, None),
            ("host mx.example.com[192.0.2.7] said: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using pbl.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1", Standing::Policy, Some("zen.spamhaus.org")),
            // About one recipient, the connection count, a busy server: no.
            ("host gmail-smtp-in.l.google.com[192.0.2.7] said: 450-4.2.1 The user you are trying to contact is receiving mail at a rate that 450-4.2.1 prevents additional messages from being delivered. (in reply to RCPT TO command)", Standing::None, Some("gmail")),
            ("host mx.example.com[192.0.2.7] said: 421 4.7.0 Too many concurrent SMTP connections from this IP address; please try again later.", Standing::None, None),
            ("host mx.example.com[192.0.2.7] said: 451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (AS3) (in reply to RCPT TO command)", Standing::None, Some("microsoft")),
            ("host mx1.example.org[192.0.2.7] said: 450 4.2.0 <a@example.org>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.org.html", Standing::None, None),
        ];
        let c = Classifier::builtin();
        for (text, standing, list) in cases {
            let v = c.classify(text);
            assert_eq!(v.standing, *standing, "{text} (rule {})", v.rule);
            assert_eq!(v.detail.list.as_deref(), *list, "{text}");
        }
    }

    #[test]
    fn every_builtin_pattern_compiles_alone() {
        for r in BUILTIN {
            regex::Regex::new(r.pattern).unwrap_or_else(|e| panic!("{}: {e}", r.name));
        }
    }

    #[test]
    fn real_texts_get_their_cause_and_list() {
        let c = Classifier::builtin();
        let mut failures = Vec::new();
        for (text, cause, list) in CASES {
            let v = c.classify(text);
            let got_list = v.detail.list.as_deref();
            if v.cause != *cause || got_list != *list {
                failures.push(format!(
                    "{text}\n  want {} {list:?}, got {} {got_list:?} (rule {:?})",
                    cause.id(),
                    v.cause.id(),
                    v.rule
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn loopback_port_25_is_a_receiver_not_a_filter() {
        let c = Classifier::builtin();
        let v = c.classify("connect to mx.example.test[127.0.0.30]:25: Connection timed out");
        assert_eq!(v.cause, Cause::RemoteUnavailable);
        let v = c.classify("connect to localhost[127.0.0.1]:2525: Connection refused");
        assert_eq!(v.cause, Cause::ContentFilterDown);
        let v = c.classify("connect to localhost[::1]:783: Connection refused");
        assert_eq!(v.cause, Cause::ContentFilterDown);
    }

    #[test]
    fn enhanced_codes_are_not_found_inside_addresses() {
        let c = Classifier::builtin();
        // 10.5.1.1 holds "5.1.1" but is an IP, not a status code.
        let v = c.classify(
            "host mx.example.com[10.5.1.1] said: 550 Protocol violation (in reply to DATA command)",
        );
        assert_eq!(v.cause, Cause::Unknown);
    }
}
