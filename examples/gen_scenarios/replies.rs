//! Reply texts of receiving servers, copied from real logs (lab-1, the
//! public corpus) and the providers' documented replies. Each function
//! returns the text Postfix puts in parentheses after `status=`.

use super::clock::{iso_millis, SEC};
use super::rng::Rng;

/// What a receiver's reply means, as the truth records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ListId {
    Spamhaus,
    Spamcop,
    Barracuda,
    Microsoft,
    Gmail,
    Yahoo,
}

impl ListId {
    pub const ALL: [ListId; 6] = [
        ListId::Spamhaus,
        ListId::Spamcop,
        ListId::Barracuda,
        ListId::Microsoft,
        ListId::Gmail,
        ListId::Yahoo,
    ];

    /// The list's name as the tool writes it.
    pub fn id(self) -> &'static str {
        match self {
            ListId::Spamhaus => "zen.spamhaus.org",
            ListId::Spamcop => "bl.spamcop.net",
            ListId::Barracuda => "b.barracudacentral.org",
            ListId::Microsoft => "microsoft",
            ListId::Gmail => "gmail",
            ListId::Yahoo => "yahoo",
        }
    }
}

/// A recipient-side or connection-side reply that is not about our
/// reputation: it must never open a blacklist episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoiseKind {
    RecipientRate,
    Concurrency,
    Busy,
    Greylisting,
}

impl NoiseKind {
    pub fn id(self) -> &'static str {
        match self {
            NoiseKind::RecipientRate => "recipient_rate",
            NoiseKind::Concurrency => "concurrency",
            NoiseKind::Busy => "busy",
            NoiseKind::Greylisting => "greylisting",
        }
    }

    pub fn example(self) -> &'static str {
        match self {
            NoiseKind::RecipientRate => "450-4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered",
            NoiseKind::Concurrency => "421 4.7.0 Too many concurrent SMTP connections; please try again later",
            NoiseKind::Busy => "451 4.7.500 Server busy. Please try again later",
            NoiseKind::Greylisting => "450 4.2.0 Recipient address rejected: Greylisted",
        }
    }
}

/// One reply: enhanced status code, status word and text.
pub struct Reply {
    pub dsn: &'static str,
    pub bounce: bool,
    pub text: String,
}

fn gsmtp(rng: &mut Rng) -> String {
    format!(
        "{}si{}qkb.{} - gsmtp",
        rng.word(b"0123456789abcdef", 6),
        rng.range(1_000_000, 9_999_999),
        rng.range(100, 999)
    )
}

fn ms_frontend(rng: &mut Rng) -> String {
    format!(
        "{}EUR0{}FT{:03}.eop-EUR0{}.prod.protection.outlook.com",
        rng.range(1000, 9999),
        rng.range(1, 6),
        rng.range(10, 99),
        rng.range(1, 6)
    )
}

/// The refusal of a receiver that lists our IP. `host` is `mx[ip]`;
/// `escalated` is Gmail's second step (550 instead of 421).
pub fn listing(
    rng: &mut Rng,
    l: ListId,
    host: &str,
    our_ip: &str,
    t: i64,
    escalated: bool,
) -> Reply {
    let said = format!("host {host} said:");
    match l {
        ListId::Spamhaus => Reply {
            dsn: "5.7.1",
            bounce: true,
            text: format!("{said} 554 5.7.1 Service unavailable; Client host [{our_ip}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{our_ip} (in reply to RCPT TO command)"),
        },
        ListId::Spamcop => Reply {
            dsn: "4.7.1",
            bounce: false,
            text: format!("{said} 450 4.7.1 Service unavailable; Client host [{our_ip}] blocked using bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?{our_ip} (in reply to RCPT TO command)"),
        },
        ListId::Barracuda => Reply {
            dsn: "4.7.1",
            bounce: false,
            text: format!("host {host} refused to talk to me: 554 5.7.1 Service unavailable; Client host [{our_ip}] blocked using b.barracudacentral.org; http://www.barracudanetworks.com/reputation/?pr=1&ip={our_ip}"),
        },
        ListId::Microsoft => Reply {
            dsn: "5.7.1",
            bounce: true,
            text: format!("{said} 550 5.7.1 Unfortunately, messages from [{our_ip}] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3140). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [{} {} {:016X}] (in reply to MAIL FROM command)", ms_frontend(rng), iso_millis(t + rng.between(0, SEC)), rng.next_u64()),
        },
        ListId::Gmail if escalated => Reply {
            dsn: "5.7.1",
            bounce: true,
            text: format!("{said} 550-5.7.1 [{our_ip:<15}12] Our system has detected that this 550-5.7.1 message is likely unsolicited mail. To reduce the amount of spam sent 550-5.7.1 to Gmail, this message has been blocked. Please visit 550-5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError 550 5.7.1  for more information. {} (in reply to end of DATA command)", gsmtp(rng)),
        },
        ListId::Gmail => Reply {
            dsn: "4.7.0",
            bounce: false,
            text: format!("{said} 421-4.7.0 [{our_ip:<15}15] Our system has detected an unusual rate of 421-4.7.0 unsolicited mail originating from your IP address. To protect our 421-4.7.0 users from spam, mail sent from your IP address has been temporarily 421-4.7.0 rate limited. Please visit 421-4.7.0  https://support.google.com/mail/?p=UnsolicitedRateLimitError to 421 4.7.0 review our Bulk Email Senders Guidelines. {} (in reply to end of DATA command)", gsmtp(rng)),
        },
        ListId::Yahoo => Reply {
            dsn: "4.7.0",
            bounce: false,
            text: format!("{said} 421 4.7.0 [TSS04] Messages from {our_ip} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes (in reply to MAIL FROM command)"),
        },
    }
}

/// Barracuda's own appliances name the list "Barracuda Reputation": the same
/// list as b.barracudacentral.org under another name.
pub fn barracuda_appliance(host: &str, our_ip: &str) -> Reply {
    Reply {
        dsn: "4.7.1",
        bounce: false,
        text: format!("host {host} refused to talk to me: 554 5.7.1 Service unavailable; Client host [{our_ip}] blocked using Barracuda Reputation; http://www.barracudanetworks.com/reputation/?r=1&ip={our_ip}"),
    }
}

/// A reply that is not about our reputation.
pub fn noise(
    rng: &mut Rng,
    k: NoiseKind,
    host: &str,
    addr: &str,
    our_ip: &str,
    domain: &str,
    t: i64,
) -> Reply {
    let said = format!("host {host} said:");
    match k {
        NoiseKind::RecipientRate => Reply {
            dsn: "4.2.1",
            bounce: false,
            text: format!("{said} 450-4.2.1 The user you are trying to contact is receiving mail at a rate that 450-4.2.1 prevents additional messages from being delivered. Please resend your 450-4.2.1 message at a later date. If the user is able to receive mail at that 450-4.2.1 time, your message will be delivered. For more information, go to 450-4.2.1  https://support.google.com/mail/?p=ReceivingRate {} (in reply to RCPT TO command)", gsmtp(rng)),
        },
        NoiseKind::Concurrency => Reply {
            dsn: "4.7.0",
            bounce: false,
            text: format!("host {host} refused to talk to me: 421 4.7.0 Too many concurrent SMTP connections; please try again later"),
        },
        NoiseKind::Busy => Reply {
            dsn: "4.7.500",
            bounce: false,
            text: format!("{said} 451 4.7.500 Server busy. Please try again later from [{our_ip}]. (S77714) [Name=Protocol Filter Agent][AGT=PFA][MxId={:016X}] [{} {}] (in reply to MAIL FROM command)", rng.next_u64(), ms_frontend(rng), iso_millis(t)),
        },
        NoiseKind::Greylisting => Reply {
            dsn: "4.2.0",
            bounce: false,
            text: format!("{said} 450 4.2.0 <{addr}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/{domain}.html (in reply to RCPT TO command)"),
        },
    }
}

/// The providers whose replies differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Local,
    Gmail,
    Microsoft,
    Yahoo,
    Generic,
}

pub fn unknown_user(rng: &mut Rng, p: Provider, host: &str, addr: &str, domain: &str) -> Reply {
    let said = format!("host {host} said:");
    match p {
        Provider::Gmail => Reply {
            dsn: "5.1.1",
            bounce: true,
            text: format!("{said} 550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. For more information, go to 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser {} (in reply to RCPT TO command)", gsmtp(rng)),
        },
        Provider::Microsoft => Reply {
            dsn: "5.5.0",
            bounce: true,
            text: format!("{said} 550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [{}] (in reply to RCPT TO command)", ms_frontend(rng)),
        },
        Provider::Yahoo => Reply {
            dsn: "5.0.0",
            bounce: true,
            text: format!("{said} 554 delivery error: dd This user doesn't have a {domain} account ({addr}) [0] - mta{}.mail.ne1.yahoo.com (in reply to end of DATA command)", rng.range(1000, 9999)),
        },
        _ => Reply {
            dsn: "5.1.1",
            bounce: true,
            text: format!("{said} 550 5.1.1 <{addr}>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)"),
        },
    }
}

/// The receiver's acceptance.
pub fn accepted(rng: &mut Rng, p: Provider, t: i64, msgid: &str, size: u64) -> String {
    match p {
        Provider::Gmail => format!("250 2.0.0 OK  {} {}", t / 1000, gsmtp(rng)),
        Provider::Microsoft => format!(
            "250 2.6.0 {msgid} [InternalId={}, Hostname=AM{}PR0{}MB{}.eurprd0{}.prod.outlook.com] {} bytes in 0.{:03}, {}.{:03} KB/sec Queued mail for delivery",
            rng.range(1_000_000_000_000, 9_999_999_999_999),
            rng.range(4, 9),
            rng.range(1, 6),
            rng.range(1000, 9999),
            rng.range(1, 6),
            size + 2200,
            rng.range(10, 999),
            rng.range(100, 9000),
            rng.range(0, 999)
        ),
        Provider::Yahoo => "250 ok dirdel".to_string(),
        _ => format!("250 2.0.0 Ok: queued as {}", rng.word(b"0123456789ABCDEF", 11)),
    }
}
