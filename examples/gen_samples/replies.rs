//! What a receiving server answers for one recipient: a listing's refusal,
//! an unknown user, a full mailbox, greylisting, or the provider's own
//! accepted-reply text.

use super::clock::{iso, MIN};
use super::deliver::Group;
use super::world::{Listing, Provider, OUR_IP};
use super::Sim;

/// A receiver's answer to one recipient: (dsn, 0 sent / 1 deferred /
/// 2 bounced, the reply text, the cause it counts under).
pub(super) type Reply = (String, u8, String, &'static str);

impl Sim {
    /// The answer of the group's destination to one recipient, in order of
    /// precedence: a listing, an unknown user, a full mailbox, greylisting,
    /// else accepted.
    pub(super) fn reply(
        &mut self,
        g: &Group,
        addr: &str,
        unknown: bool,
        full: bool,
        attempts: u32,
        listed: Option<Listing>,
    ) -> Reply {
        let (t, d) = (g.t, &g.d);
        let host_said = format!("host {}[{}] said:", d.mx, d.ip);
        if let Some(l) = listed {
            self.listed_reply(l, t, &host_said)
        } else if unknown {
            self.unknown_reply(d.provider, addr, &host_said)
        } else if full {
            if attempts >= 3 {
                ("5.2.2".into(), 2, format!("{host_said} 552 5.2.2 <{addr}>: Recipient address rejected: Mailbox full (in reply to RCPT TO command)"), "mailbox_full")
            } else {
                ("4.2.2".into(), 1, format!("{host_said} 452 4.2.2 <{addr}>: Recipient address rejected: Mailbox full (in reply to RCPT TO command)"), "mailbox_full")
            }
        } else if d.greylist && {
            let key = (g.sender.clone(), addr.to_string());
            let first = *self.greylist.entry(key).or_insert(t);
            t - first < 5 * MIN
        } {
            (
                "4.2.0".into(),
                1,
                format!("{host_said} 450 4.2.0 <{addr}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/{}.html (in reply to RCPT TO command)", d.name),
                "greylisted",
            )
        } else {
            self.accepted_reply(g)
        }
    }

    /// A listing's refusal or deferral (Barracuda refuses at the greeting,
    /// before any recipient).
    fn listed_reply(&mut self, l: Listing, t: i64, host_said: &str) -> Reply {
        match l {
            Listing::Spamhaus => (
                "5.7.1".into(),
                2,
                format!("{host_said} 550 5.7.1 Service unavailable; Client host [{OUR_IP}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{OUR_IP} (in reply to RCPT TO command)"),
                "blacklisted",
            ),
            Listing::Microsoft => (
                "5.7.1".into(),
                2,
                format!("{host_said} 550 5.7.1 Unfortunately, messages from [{OUR_IP}] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3140). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [AM4PEPF00027A6C.eurprd04.prod.outlook.com {}.{:03}Z {:016X}] (in reply to MAIL FROM command)", iso(t), self.rng.range(0, 999), self.rng.next_u64()),
                "blacklisted",
            ),
            Listing::GmailRate => (
                "4.7.0".into(),
                1,
                format!("{host_said} 421-4.7.0 [{OUR_IP:<15}15] Our system has detected an unusual rate of 421-4.7.0 unsolicited mail originating from your IP address. To protect our 421-4.7.0 users from spam, mail sent from your IP address has been temporarily 421-4.7.0 rate limited. Please visit 421-4.7.0  https://support.google.com/mail/?p=UnsolicitedRateLimitError to 421 4.7.0 review our Bulk Email Senders Guidelines. {:x}si{}qkb.{} - gsmtp (in reply to end of DATA command)", self.rng.range(0x100000, 0xffffff), self.rng.range(1_000_000, 9_999_999), self.rng.range(100, 999)),
                "rate_limited",
            ),
            Listing::Spamcop => (
                "4.7.1".into(),
                1,
                format!("{host_said} 450 4.7.1 Service unavailable; Client host [{OUR_IP}] blocked using bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?{OUR_IP} (in reply to RCPT TO command)"),
                "blacklisted",
            ),
            Listing::Barracuda => unreachable!("handled at connect"),
        }
    }

    /// No such user, in each provider's words.
    fn unknown_reply(&mut self, provider: Provider, addr: &str, host_said: &str) -> Reply {
        let text = match provider {
            Provider::Gmail => format!("{host_said} 550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. For more information, go to 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser {:x}.{} - gsmtp (in reply to RCPT TO command)", self.rng.range(0x100000, 0xffffff), self.rng.range(10, 99)),
            Provider::Microsoft => format!("{host_said} 550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [AM4PEPF00027A6C.eurprd04.prod.outlook.com] (in reply to RCPT TO command)"),
            Provider::Yahoo => format!("{host_said} 554 delivery error: dd This user doesn't have a yahoo.com account ({addr}) [0] - mta{}.mail.ne1.yahoo.com (in reply to end of DATA command)", self.rng.range(1000, 9999)),
            _ => format!("{host_said} 550 5.1.1 <{addr}>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)"),
        };
        let dsn = match provider {
            Provider::Microsoft => "5.5.0",
            Provider::Yahoo => "5.0.0",
            _ => "5.1.1",
        };
        (dsn.into(), 2, text, "unknown_recipient")
    }

    /// Accepted, in each provider's words.
    fn accepted_reply(&mut self, g: &Group) -> Reply {
        let (t, serial) = (g.t, g.serial);
        let text = match g.d.provider {
            Provider::Gmail => format!("250 2.0.0 OK  {} {:x}si{}qkb.{} - gsmtp", 1_766_800_000 + t / 1000, self.rng.range(0x100000, 0xffffff), self.rng.range(1_000_000, 9_999_999), self.rng.range(100, 999)),
            Provider::Microsoft => format!("250 2.6.0 {} [InternalId={}, Hostname=AM4PR04MB{}.eurprd04.prod.outlook.com] {} bytes in 0.{:03}, {}.{:03} KB/sec Queued mail for delivery", self.live[&serial].msgid, self.rng.range(1_000_000_000_000, 9_999_999_999_999), self.rng.range(1000, 9999), self.live[&serial].size + 2200, self.rng.range(10, 999), self.rng.range(100, 9000), self.rng.range(0, 999)),
            Provider::Yahoo => "250 ok dirdel".to_string(),
            _ => {
                let q: String = (0..11).map(|_| b"0123456789ABCDEF"[(self.rng.next_u64() % 16) as usize] as char).collect();
                format!("250 2.0.0 Ok: queued as {q}")
            }
        };
        ("2.0.0".into(), 0, text, "")
    }
}
