//! Causes explained as text: one reason text's verdict (`postmortem
//! explain`) and the whole taxonomy (`postmortem causes`).

use std::fmt::{self, Write};

use crate::analyze::explain::Explanation;
use crate::classify::{Cause, ConnectFailure};

/// The verdict on one text: the cause, the rule that matched, the detail
/// found, the kind of local failure, the normalised text, what the cause
/// means and its fix.
pub fn render_explanation(e: &Explanation) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = explanation(e, &mut s);
    s
}

/// Every cause id a report can show, in the order of the design: its
/// title, what it means, and the remediation steps.
pub fn render_causes() -> String {
    let mut s = String::new();
    for (i, cause) in Cause::ALL.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        let _ = writeln!(s, "{}: {}", cause.id(), cause.title());
        let _ = writeln!(s, "  {}", cause.description());
        for step in cause.fix() {
            let _ = writeln!(s, "  - {step}");
        }
    }
    s
}

fn failure_text(f: ConnectFailure) -> &'static str {
    match f {
        ConnectFailure::TimedOut => "connection timed out",
        ConnectFailure::NoRoute => "no route to host",
        ConnectFailure::NetworkUnreachable => "network is unreachable",
        ConnectFailure::Refused => "connection refused",
    }
}

fn explanation(e: &Explanation, out: &mut String) -> fmt::Result {
    if let Some((what, reply)) = &e.from_line {
        writeln!(out, "log line:    {what}; its reply is explained:")?;
        writeln!(out, "reply text:  {reply}")?;
    }
    let v = &e.verdict;
    writeln!(out, "cause:       {} ({})", v.cause.id(), v.cause.title())?;
    let rule = if v.rule.is_empty() {
        "(none matched)"
    } else {
        &v.rule
    };
    writeln!(out, "rule:        {rule}")?;
    detail(e, out)?;
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
    writeln!(out, "normalised:  {}", e.normalised)?;
    writeln!(out, "meaning:     {}", v.cause.description())?;
    writeln!(out, "fix:")?;
    for step in &e.fix {
        writeln!(out, "  - {step}")?;
    }
    Ok(())
}

/// The list and its delisting page, the remote host, the reply codes and
/// the listed IP, each when found.
fn detail(e: &Explanation, out: &mut String) -> fmt::Result {
    let d = &e.verdict.detail;
    if let Some(list) = &d.list {
        writeln!(out, "list:        {list}")?;
        if let Some(url) = e.delisting {
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Classifier;

    fn explain(text: &str) -> String {
        render_explanation(&crate::analyze::explain::explain(
            &Classifier::builtin(),
            text,
        ))
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

    #[test]
    fn lists_every_cause_once_in_order_with_its_fix() {
        let s = render_causes();
        let headers: Vec<&str> = s
            .lines()
            .filter(|l| !l.starts_with(' ') && !l.is_empty())
            .map(|l| l.split(':').next().unwrap())
            .collect();
        let ids: Vec<&str> = Cause::ALL.iter().map(|c| c.id()).collect();
        assert_eq!(headers, ids);
        assert!(s.contains("plesk sbin mchk --without-spam"), "{s}");
        assert!(s.contains("dig @8.8.8.8 MX gmail.com"), "{s}");
        assert!(s.contains("smtp_destination_rate_delay"), "{s}");
        assert!(s.contains("relayhost = [smtp.provider.example]:587"), "{s}");
    }
}
