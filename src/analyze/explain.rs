//! Why one reason text gets the cause it gets (`postmortem explain`).
//!
//! The text is a reason as Postfix logs it, or a whole log line as admins
//! paste it: the reply is then taken out of the line (the reason of a
//! delivery, the reply of a reject, the text of a warning) and explained.
//! [`explain`] gathers the verdict, the normalised text the reports group
//! by, the delisting page of the list named, and the fix steps with the
//! listing's check written for the listed IP and list.

use crate::classify::{delisting_url, dig_command, normalise, Classifier, Verdict};
use crate::parse::{postfix, syslog, EventKind};

/// What `postmortem explain` says about one text.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// When a whole Postfix log line was given: what the line is
    /// (`postfix/smtp deferred`) and the reply taken out of it, which is
    /// the text explained.
    pub from_line: Option<(String, String)>,
    pub verdict: Verdict,
    /// The explained text as the reports group it.
    pub normalised: String,
    /// The delisting page of the list the text names.
    pub delisting: Option<&'static str>,
    /// The local failure's fix when the text is one, else the cause's.
    pub fix: Vec<String>,
}

/// The fix step that shows the listing check with an example IP and list.
const DIG_EXAMPLE: &str = "`dig +short 4.3.2.1.zen.spamhaus.org` (reversed IP)";

/// Explains `text`: a reason, or a whole log line whose reply is explained.
pub fn explain(classifier: &Classifier, text: &str) -> Explanation {
    let from_line = reply_in_line(text);
    let text = from_line.as_ref().map_or(text, |(_, reply)| reply.as_str());
    let verdict = classifier.classify(text);
    Explanation {
        normalised: normalise(text),
        delisting: verdict.detail.list.as_deref().and_then(delisting_url),
        fix: fix_steps(&verdict),
        from_line,
        verdict,
    }
}

/// The reply in a whole log line: the reason of a delivery, the reply of a
/// reject, the text of a warning. `None` when `text` is no Postfix line
/// (it is then the reason itself), with what the line was.
fn reply_in_line(text: &str) -> Option<(String, String)> {
    let line = text.trim().as_bytes();
    let h = syslog::parse_header(line)?;
    if !syslog::is_postfix(h.program) {
        return None;
    }
    let service = syslog::service(h.program);
    let program = String::from_utf8_lossy(h.program);
    let (what, span) = match postfix::parse_payload(line, service, h.message) {
        EventKind::Delivery { status, reason, .. } => (
            format!("{program} {}", format!("{status:?}").to_lowercase()),
            reason,
        ),
        EventKind::Reject { reason, .. } => (format!("{program} reject"), reason),
        EventKind::Diagnostic { text, .. } => (format!("{program} diagnostic"), text),
        _ => return None,
    };
    let reply = String::from_utf8_lossy(span.get(line)).trim().to_string();
    (!reply.is_empty()).then_some((what, reply))
}

/// The fix steps, the listing's check naming the listed IP and the list
/// when the text names both.
fn fix_steps(v: &Verdict) -> Vec<String> {
    let steps = match v.local {
        Some(k) => k.fix(),
        None => v.cause.fix(),
    };
    let d = &v.detail;
    let dig = d
        .listed_ip
        .as_deref()
        .zip(d.list.as_deref())
        .and_then(|(ip, list)| dig_command(ip, list));
    steps
        .iter()
        .map(|step| match &dig {
            Some(dig) => step.replace(DIG_EXAMPLE, &format!("`{dig}`")),
            None => step.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Cause;

    fn of(text: &str) -> Explanation {
        explain(&Classifier::builtin(), text)
    }

    #[test]
    fn the_reply_is_taken_out_of_a_whole_line() {
        let e = of("Jan  3 10:21:27 mx1 postfix/smtp[4242]: 9B336D0787: to=<a@corp-example.com>, relay=mx1.corp-example.com[192.0.2.32]:25, delay=5, delays=0/0/5/0, dsn=4.7.1, status=deferred (host mx1.corp-example.com[192.0.2.32] said: 450 4.7.1 Client host [198.51.100.25] blocked using zen.spamhaus.org (in reply to RCPT TO command))");
        let (what, reply) = e.from_line.unwrap();
        assert_eq!(what, "postfix/smtp deferred");
        assert_eq!(reply, "host mx1.corp-example.com[192.0.2.32] said: 450 4.7.1 Client host [198.51.100.25] blocked using zen.spamhaus.org (in reply to RCPT TO command)");
        assert_eq!(e.verdict.cause, Cause::Blacklisted);
        assert!(
            e.normalised
                .starts_with("host mx1.corp-example.com[<ip>] said"),
            "{}",
            e.normalised
        );

        let e = of("Nov 28 18:30:02 mx1 postfix/smtpd[77]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 554 5.7.1 Service unavailable; Client host [203.0.113.9] blocked using zen.spamhaus.org; from=<a@b.example> to=<c@d.example> proto=ESMTP helo=<x>");
        assert_eq!(e.from_line.unwrap().0, "postfix/smtpd reject");
        let e = of("Nov 28 18:30:02 mx1 postfix/smtp[77]: fatal: specify a password table via the `smtp_sasl_password_maps' configuration parameter");
        let (what, reply) = e.from_line.unwrap();
        assert_eq!(what, "postfix/smtp diagnostic");
        assert!(
            reply.starts_with("fatal: specify a password table"),
            "{reply}"
        );
        assert_eq!(e.verdict.local.unwrap().id(), "config_error");
    }

    #[test]
    fn a_line_without_a_reply_is_explained_as_it_is() {
        // A line that says nothing to explain, and one not Postfix's.
        for text in [
            "Nov 28 18:30:02 mx1 postfix/qmgr[77]: 3E485D0602: removed",
            "Nov 28 18:30:02 mx1 dovecot[77]: imap-login: Login: user=<a@b.example>",
            "host mx.example.com[192.0.2.1] said: 450 4.2.0 Greylisted",
        ] {
            let e = of(text);
            assert!(e.from_line.is_none(), "{text}");
            assert_eq!(e.normalised, normalise(text), "{text}");
        }
        assert_eq!(
            of("host mx.example.com[192.0.2.1] said: 450 4.2.0 Greylisted")
                .verdict
                .cause,
            Cause::Greylisted
        );
    }

    #[test]
    fn the_listing_check_names_the_listed_ip_and_list() {
        let e = of("host mx.example.com[127.0.0.22] said: 550 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1 (in reply to RCPT TO command)");
        assert_eq!(e.delisting, Some("https://check.spamhaus.org/"));
        assert_eq!(e.fix.len(), Cause::Blacklisted.fix().len());
        assert!(
            e.fix
                .iter()
                .any(|s| s.contains("`dig +short 1.0.0.127.zen.spamhaus.org`")),
            "{:?}",
            e.fix
        );
        assert!(
            !e.fix.iter().any(|s| s.contains(DIG_EXAMPLE)),
            "{:?}",
            e.fix
        );
        // No listed IP: the example stays.
        let e = of("host mx[1.2.3.4] said: 554 5.7.1 blocked using zen.spamhaus.org");
        assert!(e.fix.iter().any(|s| s.contains(DIG_EXAMPLE)), "{:?}", e.fix);
    }

    #[test]
    fn a_local_failure_gets_its_own_fix() {
        let e = of("fatal: specify a password table via the `smtp_sasl_password_maps' configuration parameter");
        let local = e.verdict.local.unwrap();
        assert_eq!(local.id(), "config_error");
        let fix: Vec<&str> = local.fix().to_vec();
        assert_eq!(e.fix, fix);
        assert_ne!(e.fix, e.verdict.cause.fix().to_vec());
        assert!(e.delisting.is_none());
    }
}
