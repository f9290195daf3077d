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

use crate::analyze::explain::explain;
use crate::classify::Classifier;
use crate::report::explain::render_explanation;
use crate::{Error, Result};

/// Prints the verdict for `text` to `out`.
pub fn run(classifier: &Classifier, text: &str, out: &mut dyn Write) -> Result<()> {
    let shown = render_explanation(&explain(classifier, text));
    out.write_all(shown.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_the_verdict_of_a_whole_line() {
        let mut out = Vec::new();
        let line = "Nov 28 18:30:02 mx1 postfix/smtpd[77]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 554 5.7.1 Service unavailable; Client host [203.0.113.9] blocked using zen.spamhaus.org; from=<a@b.example> to=<c@d.example> proto=ESMTP helo=<x>";
        run(&Classifier::builtin(), line, &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("log line:    postfix/smtpd reject; its reply is explained:\nreply text:  554 5.7.1 Service unavailable"), "{s}");
        assert!(
            s.contains("\ncause:       blacklisted (Server IP blacklisted)\n"),
            "{s}"
        );
        assert!(
            s.contains("`dig +short 9.113.0.203.zen.spamhaus.org`"),
            "{s}"
        );
    }
}
