//! One text per cause: strip what differs from message to message.
//!
//! Two deferrals for the same reason rarely carry the same text: Gmail adds a
//! per-message id, Microsoft a server name and a timestamp, every reply names
//! the recipient, and multi-line replies repeat their code on every line
//! (`550-5.7.1 ... 550-5.7.1 ...`). The normalised text drops all that so the
//! "unclassified texts" table groups them and a verdict cache hits.

use std::sync::OnceLock;

use regex::Regex;

struct Res {
    time: Regex,
    addr: Regex,
    ipv6: Regex,
    ipv4: Regex,
    gmail_ip_count: Regex,
    id_assign: Regex,
    code: Regex,
    id_tail: Regex,
}

fn res() -> &'static Res {
    static RE: OnceLock<Res> = OnceLock::new();
    RE.get_or_init(|| {
        let r = |p: &str| Regex::new(p).expect("normaliser regex compiles (tested)");
        Res {
            time: r(r"\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"),
            addr: r(r#"<?"?[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"?@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*>?"#),
            ipv6: r(r"(?i)\[(?:IPv6:)?[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?::(?:\d{1,3}\.){3}\d{1,3})?"),
            ipv4: r(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"),
            gmail_ip_count: r(r"<ip>\s+\d+\]"),
            id_assign: r(r"(?i)\b(id|ticket|ref)([=:#]+ ?)[A-Za-z0-9+/._-]{4,}"),
            code: r(r"^([2-5]\d\d)(?:-([2-5]\.\d{1,3}\.\d{1,3}))?-?$"),
            id_tail: r(r"<id>(?:[.-](?:\d+|<id>))+"),
        }
    })
}

/// True for an alphanumeric run that is a message-specific token: long and
/// holding digits (`223017si7808772qkb`, `D66033979C96EE88`), or very long
/// (base64).
fn is_id_run(run: &str) -> bool {
    let digits = run.bytes().filter(u8::is_ascii_digit).count();
    (run.len() >= 8 && digits >= 2)
        || (run.len() >= 20 && digits >= 1)
        || (run.len() >= 6 && digits == run.len())
}

/// Replaces id-like alphanumeric runs with `<id>`, keeping the rest.
fn mask_ids(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run_start: Option<usize> = None;
    let flush = |out: &mut String, run: &str| {
        if is_id_run(run) {
            out.push_str("<id>");
        } else {
            out.push_str(run);
        }
    };
    for (i, ch) in s.char_indices() {
        if ch.is_ascii_alphanumeric() {
            run_start.get_or_insert(i);
        } else {
            if let Some(st) = run_start.take() {
                flush(&mut out, &s[st..i]);
            }
            out.push(ch);
        }
    }
    if let Some(st) = run_start {
        flush(&mut out, &s[st..]);
    }
    out
}

/// Drops the reply code repeated at the start of every line of a multi-line
/// SMTP reply (`421-4.7.0 ... 421-4.7.0 ... 421 4.7.0 ...`), keeping the first.
fn drop_repeated_codes(s: &str) -> String {
    let re = &res().code;
    let tokens: Vec<&str> = s.split_whitespace().collect();
    let mut out: Vec<&str> = Vec::with_capacity(tokens.len());
    // The first reply code, once seen after "said:" or "me:".
    let mut first: Option<(&str, Option<&str>)> = None;
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        let after_reply_intro = out
            .last()
            .is_some_and(|p| p.ends_with("said:") || p.ends_with("me:"));
        if let Some((code, enh)) = first {
            let rest = t.strip_prefix(code);
            if rest == Some("") || rest == Some("-") {
                // `421` or `421-`, maybe followed by the enhanced code.
                if enh.is_some() && tokens.get(i + 1).copied() == enh {
                    i += 1;
                }
                i += 1;
                continue;
            }
            if let Some(after) = rest.and_then(|r| r.strip_prefix('-')) {
                if Some(after) == enh {
                    i += 1;
                    continue;
                }
                // `550-Invalid` on a reply without enhanced codes.
                if !after.starts_with(|c: char| c.is_ascii_digit()) {
                    out.push(after);
                    i += 1;
                    continue;
                }
            }
        } else if after_reply_intro {
            if let Some(c) = re.captures(t) {
                let code = c.get(1).map_or("", |m| m.as_str());
                let enh = c.get(2).map(|m| m.as_str()).or_else(|| {
                    tokens.get(i + 1).copied().filter(|n| {
                        let b = n.as_bytes();
                        b.len() >= 5 && b[1] == b'.' && b[0] == code.as_bytes()[0]
                    })
                });
                first = Some((code, enh));
            } else if let Some((code, _)) = t.split_once('-') {
                if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) {
                    first = Some((&t[..3], None));
                }
            }
        }
        out.push(t);
        i += 1;
    }
    out.join(" ")
}

/// The text with message-specific tokens masked and repeated reply codes
/// removed, so identical causes group into one text.
pub fn normalise(text: &str) -> String {
    let re = res();
    let s = drop_repeated_codes(text);
    let s = re.time.replace_all(&s, "<time>");
    let s = re.addr.replace_all(&s, "<addr>");
    // IPv6 first: its tail may be an IPv4 address (`::ffff:192.0.2.1`).
    let s = re.ipv6.replace_all(&s, "[<ip>");
    let s = re.ipv4.replace_all(&s, "<ip>");
    let s = re.gmail_ip_count.replace_all(&s, "<ip>]");
    let s = re.id_assign.replace_all(&s, "$1$2<id>");
    let s = mask_ids(&s);
    // Gmail's `223017si7808772qkb.432 - gsmtp`: the counter is part of the id.
    let s = re.id_tail.replace_all(&s, "<id>");
    // The masks themselves are alphanumeric runs (`ip`, `id`, `addr`),
    // short enough to survive `mask_ids`.
    s.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_multiline_reply_collapses_to_one_text() {
        // Two real lab-1 deferrals that differ in IP count, recipient and id.
        let a = "host gmail-smtp-in.l.gmail-like.test[127.0.0.20] said: 421-4.7.0 [127.0.0.1      15] Our system has detected an unusual rate of 421-4.7.0 unsolicited mail originating from your IP address. To protect our 421-4.7.0 users from spam, mail sent from your IP address has been temporarily 421-4.7.0 rate limited. Please visit 421-4.7.0  https://support.google.com/mail/?p=UnsolicitedRateLimitError to 421 4.7.0 review our Bulk Email Senders Guidelines. 223017si7808772qkb.432 - gsmtp (in reply to end of DATA command)";
        let b = "host gmail-smtp-in.l.gmail-like.test[127.0.0.20] said: 421-4.7.0 [127.0.0.1       3] Our system has detected an unusual rate of 421-4.7.0 unsolicited mail originating from your IP address. To protect our 421-4.7.0 users from spam, mail sent from your IP address has been temporarily 421-4.7.0 rate limited. Please visit 421-4.7.0  https://support.google.com/mail/?p=UnsolicitedRateLimitError to 421 4.7.0 review our Bulk Email Senders Guidelines. 91823si1121qkb.7 - gsmtp (in reply to end of DATA command)";
        let na = normalise(a);
        assert_eq!(na, normalise(b));
        assert_eq!(
            na,
            "host gmail-smtp-in.l.gmail-like.test[<ip>] said: 421-4.7.0 [<ip>] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. Please visit https://support.google.com/mail/?p=UnsolicitedRateLimitError to review our Bulk Email Senders Guidelines. <id> - gsmtp (in reply to end of DATA command)"
        );
    }

    #[test]
    fn addresses_ids_and_times_are_masked() {
        let t = "host outlook-like-test.mail.protection.outlook-like.test[127.0.0.21] said: 550 5.7.1 Unfortunately, messages from [127.0.0.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3140). [3344EUR03FT66.eop-EUR03.prod.protection.outlook.com 2026-11-28T18:37:30.340Z D66033979C96EE88] (in reply to MAIL FROM command)";
        let n = normalise(t);
        assert!(n.contains("(S3140)"), "{n}");
        assert!(
            n.contains("[<id>.eop-EUR03.prod.protection.outlook.com <time> <id>]"),
            "{n}"
        );
        let u = "host mx.example.net[127.0.0.10] said: 550 5.1.1 <nouser.x@example.net>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)";
        assert_eq!(
            normalise(u),
            "host mx.example.net[<ip>] said: 550 5.1.1 <addr>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)"
        );
    }

    #[test]
    fn multiline_reply_without_enhanced_codes() {
        let t = "host mx.example.com[192.0.2.7] said: 550-Invalid recipient <a@example.com> 550 (#5.1.1) (in reply to RCPT TO command)";
        assert_eq!(
            normalise(t),
            "host mx.example.com[<ip>] said: 550-Invalid recipient <addr> (#5.1.1) (in reply to RCPT TO command)"
        );
    }

    #[test]
    fn ipv6_and_connect_texts() {
        assert_eq!(
            normalise(
                "connect to mx.example.com[2a00:1450:400c:c04::1b]:25: Network is unreachable"
            ),
            "connect to mx.example.com[<ip>]:25: Network is unreachable"
        );
        // Times of day are not IPv6 addresses.
        assert!(normalise("try again at 18:37:30").contains("18:37:30"));
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for t in [
            "",
            "said:",
            "said: 4",
            "said: 421-",
            "said: 421 4",
            "é said: 550-é 550",
            "\u{0}\u{ffff}",
        ] {
            let _ = normalise(t);
        }
    }
}
