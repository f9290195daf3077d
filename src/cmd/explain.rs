//! `postmortem explain`: why one reason text gets the cause it gets.
//!
//! ```text
//! postmortem explain TEXT [--rules FILE]
//! ```
//!
//! TEXT is a reason as Postfix logs it (the part in parentheses after
//! `status=deferred`, or a `delivery temporarily suspended: ...` text), or
//! the whole log line, as admins paste it: the reply is taken out of it.
//! Prints the cause id and title, the rule that matched, the detail found
//! (list and its delisting page, remote host, reply codes, listed IP, connect
//! failure), the kind of local failure for what the server says about
//! itself (`fatal: ...`), the normalised text the reports group by, what
//! the cause means and its fix. `--rules FILE` adds a rules file in front of the built-in
//! table (see `Classifier::from_rules_file`).

use std::io::Write;

use crate::classify::{delisting_url, dig_command, normalise, Cause, Classifier, ConnectFailure};
use crate::parse::{postfix, syslog, EventKind};
use crate::{Error, Result};

fn failure_text(f: ConnectFailure) -> &'static str {
    match f {
        ConnectFailure::TimedOut => "connection timed out",
        ConnectFailure::NoRoute => "no route to host",
        ConnectFailure::NetworkUnreachable => "network is unreachable",
        ConnectFailure::Refused => "connection refused",
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

fn render(classifier: &Classifier, text: &str, out: &mut dyn Write) -> std::io::Result<()> {
    let from_line = reply_in_line(text);
    if let Some((what, reply)) = &from_line {
        writeln!(out, "log line:    {what}; its reply is explained:")?;
        writeln!(out, "reply text:  {reply}")?;
    }
    let text = from_line.as_ref().map_or(text, |(_, r)| r.as_str());
    let v = classifier.classify(text);
    let d = &v.detail;
    writeln!(out, "cause:       {} ({})", v.cause.id(), v.cause.title())?;
    let rule = if v.rule.is_empty() {
        "(none matched)"
    } else {
        &v.rule
    };
    writeln!(out, "rule:        {rule}")?;
    if let Some(list) = &d.list {
        writeln!(out, "list:        {list}")?;
        if let Some(url) = delisting_url(list) {
            writeln!(out, "delisting:   {url}")?;
        }
    }
    if let Some(host) = &d.remote_host {
        match d.remote_port {
            Some(port) => writeln!(out, "remote host: {host} port {port}")?,
            None => writeln!(out, "remote host: {host}")?,
        }
    }
    if d.reply_code.is_some() || d.enhanced_code.is_some() {
        let code = d.reply_code.map(|c| c.to_string()).unwrap_or_default();
        let enh = d.enhanced_code.as_deref().unwrap_or("");
        writeln!(out, "reply:       {}", format!("{code} {enh}").trim())?;
    }
    if let Some(ip) = &d.listed_ip {
        writeln!(out, "listed ip:   {ip}")?;
    }
    if let Some(f) = v.connect_failure {
        writeln!(out, "connect:     {}", failure_text(f))?;
        if v.cause == Cause::RemoteUnavailable {
            writeln!(
                out,
                "             (the same failure towards many destinations at once is judged {} by `analyze`)",
                Cause::Port25Blocked.id()
            )?;
        }
    }
    if let Some(k) = v.local {
        writeln!(out, "local:       {} ({})", k.id(), k.title())?;
    }
    writeln!(out, "normalised:  {}", normalise(text))?;
    writeln!(out, "meaning:     {}", v.cause.description())?;
    writeln!(out, "fix:")?;
    let steps = match v.local {
        Some(k) => k.fix(),
        None => v.cause.fix(),
    };
    // The listing's check with the listed IP and the list named.
    let dig = d
        .listed_ip
        .as_deref()
        .zip(d.list.as_deref())
        .and_then(|(ip, list)| dig_command(ip, list));
    for step in steps {
        match &dig {
            Some(dig) => writeln!(
                out,
                "  - {}",
                step.replace(
                    "`dig +short 4.3.2.1.zen.spamhaus.org` (reversed IP)",
                    &format!("`{dig}`")
                )
            )?,
            None => writeln!(out, "  - {step}")?,
        }
    }
    Ok(())
}

/// Prints the verdict for `text` to `out`.
pub fn run(classifier: &Classifier, text: &str, out: &mut dyn Write) -> Result<()> {
    render(classifier, text, out).map_err(|e| Error::io("<stdout>", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explain(text: &str) -> String {
        let mut out = Vec::new();
        run(&Classifier::builtin(), text, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_whole_log_line_is_explained_by_its_reply() {
        let s = explain("Jan  3 10:21:27 mx1 postfix/smtp[4242]: 9B336D0787: to=<a@corp-example.com>, relay=mx1.corp-example.com[192.0.2.32]:25, delay=5, delays=0/0/5/0, dsn=4.7.1, status=deferred (host mx1.corp-example.com[192.0.2.32] said: 450 4.7.1 Client host [198.51.100.25] blocked using zen.spamhaus.org (in reply to RCPT TO command))");
        assert!(s.starts_with("log line:    postfix/smtp deferred; its reply is explained:\nreply text:  host mx1.corp-example.com[192.0.2.32] said: 450 4.7.1 Client host"), "{s}");
        assert!(s.contains("cause:       blacklisted"), "{s}");
        // The check names the listed IP, reversed, and the list.
        assert!(
            s.contains("`dig +short 25.100.51.198.zen.spamhaus.org`"),
            "{s}"
        );
        assert!(!s.contains("4.3.2.1"), "{s}");
        // The normalised text is the reply's, not the line's.
        assert!(
            s.contains("normalised:  host mx1.corp-example.com[<ip>] said"),
            "{s}"
        );
        let s = explain("Nov 28 18:30:02 mx1 postfix/smtpd[77]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 554 5.7.1 Service unavailable; Client host [203.0.113.9] blocked using zen.spamhaus.org; from=<a@b.example> to=<c@d.example> proto=ESMTP helo=<x>");
        assert!(s.starts_with("log line:    postfix/smtpd reject"), "{s}");
        // A reason alone is explained as it is.
        let s = explain("host mx.example.com[192.0.2.1] said: 450 4.2.0 Greylisted");
        assert!(s.starts_with("cause:       greylisted"), "{s}");
    }

    #[test]
    fn explains_a_lab_spamhaus_reject() {
        let s = explain("host mx.example.com[127.0.0.22] said: 550 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1 (in reply to RCPT TO command)");
        assert!(
            s.starts_with("cause:       blacklisted (Server IP blacklisted)\n"),
            "{s}"
        );
        assert!(s.contains("rule:        dnsbl\n"), "{s}");
        assert!(
            s.contains("list:        zen.spamhaus.org\ndelisting:   https://check.spamhaus.org/\n"),
            "{s}"
        );
        assert!(s.contains("remote host: mx.example.com\n"), "{s}");
        assert!(s.contains("reply:       550 5.7.1\n"), "{s}");
        assert!(s.contains("listed ip:   127.0.0.1\n"), "{s}");
        assert!(
            s.contains("normalised:  host mx.example.com[<ip>] said: 550 5.7.1"),
            "{s}"
        );
        assert!(s.contains("  - Stop the source first"), "{s}");
    }

    #[test]
    fn explains_a_connect_failure_and_the_port25_judgement() {
        let s = explain("connect to mx.slowpoke.test[127.0.0.30]:25: Connection timed out");
        assert!(s.starts_with("cause:       remote_unavailable"), "{s}");
        assert!(s.contains("remote host: mx.slowpoke.test port 25\n"), "{s}");
        assert!(s.contains("connect:     connection timed out\n"), "{s}");
        assert!(s.contains("port25_blocked"), "{s}");
    }

    #[test]
    fn explains_what_the_server_says_about_itself() {
        let s = explain("fatal: specify a password table via the `smtp_sasl_password_maps' configuration parameter");
        assert!(s.starts_with("cause:       local_system"), "{s}");
        assert!(
            s.contains("local:       config_error (Postfix configuration error)"),
            "{s}"
        );
        assert!(s.contains("smtp_sasl_password_maps = hash:"), "{s}");
    }

    #[test]
    fn explains_an_unknown_text() {
        let s = explain("host mx-ha01.web.de[212.227.15.17] said: 550 Protocol violation (in reply to DATA command)");
        assert!(
            s.starts_with("cause:       unknown (Unclassified)\nrule:        (none matched)\n"),
            "{s}"
        );
        assert!(s.contains("reply:       550\n"), "{s}");
        assert!(!s.contains("list:"), "{s}");
    }
}
