//! `postmortem explain`: why one reason text gets the cause it gets.
//!
//! ```text
//! postmortem explain TEXT [--rules FILE]
//! ```
//!
//! TEXT is a reason as Postfix logs it (the part in parentheses after
//! `status=deferred`, or a `delivery temporarily suspended: ...` text).
//! Prints the cause id and title, the rule that matched, the detail found
//! (list and its delisting page, remote host, reply codes, listed IP, connect
//! failure), the kind of local failure for what the server says about
//! itself (`fatal: ...`), the normalised text the reports group by, what
//! the cause means and its fix. `--rules FILE` adds a rules file in front of the built-in
//! table (see `Classifier::from_rules_file`).

use std::io::Write;

use crate::classify::{delisting_url, normalise, Cause, Classifier, ConnectFailure};
use crate::{Error, Result};

fn failure_text(f: ConnectFailure) -> &'static str {
    match f {
        ConnectFailure::TimedOut => "connection timed out",
        ConnectFailure::NoRoute => "no route to host",
        ConnectFailure::NetworkUnreachable => "network is unreachable",
        ConnectFailure::Refused => "connection refused",
    }
}

fn render(classifier: &Classifier, text: &str, out: &mut dyn Write) -> std::io::Result<()> {
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
    for step in steps {
        writeln!(out, "  - {step}")?;
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
