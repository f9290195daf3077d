//! Lines of other programs that tell what became of Postfix's mail or of
//! the server: Plesk's Outgoing Mail Control and SASL daemon, amavisd-new's
//! quarantine, Dovecot's errors. Everything else of other programs is only
//! counted.
//!
//! Recognition is by the program name first (a byte comparison), then a
//! fixed string; no regex runs here.

use memchr::memmem;

use super::postfix::{EventKind, QueueId, Severity, Span};

/// The event of a line of a program other than Postfix, if it is one we
/// keep. `program` and `msg` are sub-slices of `chunk`.
pub fn foreign(chunk: &[u8], program: &[u8], msg: &[u8]) -> Option<EventKind> {
    let name = match memchr::memrchr(b'/', program) {
        Some(p) => &program[p + 1..],
        None => program,
    };
    match name {
        b"plesk_saslauthd" => plesk_sasl(chunk, msg),
        b"psa-pc-remote" => memmem::find(msg, b"REJECT during call 'limit-out' handler")
            .map(|_| EventKind::PleskLimitOut),
        _ if name.starts_with(b"amavis") => amavis_quarantine(msg),
        _ if name.starts_with(b"dovecot") => dovecot_error(chunk, program, msg),
        _ => None,
    }
}

/// `failed mail authentication attempt for user 'info@example.com' (password len=10)`
fn plesk_sasl(chunk: &[u8], msg: &[u8]) -> Option<EventKind> {
    let rest = msg.strip_prefix(b"failed mail authentication attempt for user '")?;
    let end = memchr::memchr(b'\'', rest)?;
    Some(EventKind::SaslFailure {
        client: Span::EMPTY,
        username: Span::of(chunk, &rest[..end]),
        reason: Span::EMPTY,
    })
}

/// `(01626-01) Blocked INFECTED (Eicar) {DiscardedInbound,Quarantined}, ... Queue-ID: 413BE60672, ...`
fn amavis_quarantine(msg: &[u8]) -> Option<EventKind> {
    let head = &msg[..msg.len().min(200)];
    memmem::find(head, b") Blocked ")?;
    let actions_at = memchr::memchr(b'{', msg)?;
    let actions_end = actions_at + memchr::memchr(b'}', &msg[actions_at..])?;
    memmem::find(&msg[actions_at..actions_end], b"Quarantined")?;
    let id_at = memmem::find(msg, b"Queue-ID: ")? + 10;
    let id = &msg[id_at..];
    let end = id
        .iter()
        .position(|&c| !c.is_ascii_alphanumeric())
        .unwrap_or(id.len());
    Some(EventKind::Quarantined {
        qid: QueueId::parse(&id[..end])?,
    })
}

/// `lmtp(u@example.com)<123><abc>: Error: write(...) failed: No space left on device`
fn dovecot_error(chunk: &[u8], program: &[u8], msg: &[u8]) -> Option<EventKind> {
    // The severity word opens the message or follows a `: ` (after the
    // service and user parts); one pass over the colons of the head.
    let head = &msg[..msg.len().min(300)];
    let word_at = |at: usize| -> Option<Severity> {
        let w = &head[at..];
        if w.starts_with(b"Error: ") {
            Some(Severity::Error)
        } else if w.starts_with(b"Fatal: ") {
            Some(Severity::Fatal)
        } else if w.starts_with(b"Panic: ") {
            Some(Severity::Panic)
        } else {
            None
        }
    };
    let (severity, at) = match word_at(0) {
        Some(sev) => (sev, 0),
        None => memchr::memchr_iter(b':', head)
            .filter(|&p| head.get(p + 1) == Some(&b' '))
            .find_map(|p| word_at(p + 2).map(|sev| (sev, p + 2)))?,
    };
    Some(EventKind::Diagnostic {
        severity,
        program: Span::of(chunk, program),
        text: Span::of(chunk, &msg[at..]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &[u8]) -> (Option<EventKind>, &[u8]) {
        let h = crate::parse::syslog::parse_header(line).unwrap();
        (foreign(line, h.program, h.message), line)
    }

    fn s(line: &[u8], sp: Span) -> &str {
        std::str::from_utf8(sp.get(line)).unwrap()
    }

    #[test]
    fn plesk_failed_login_names_the_account() {
        // The shape of a real Plesk server's lines under password guessing
        // (public/plesk), names changed.
        let (k, l) = parse(b"Oct  7 06:53:00 plesk1 plesk_saslauthd[11166]: failed mail authentication attempt for user 'info@example.de' (password len=10)");
        assert!(
            matches!(k, Some(EventKind::SaslFailure { username, client, .. }) if s(l, username) == "info@example.de" && client.is_empty())
        );
        let (k, _) = parse(b"Oct  7 06:53:00 plesk1 plesk_saslauthd[11166]: No such user 'info@example.de' in mail authorization database");
        assert!(k.is_none());
    }

    #[test]
    fn plesk_limit_out_handler() {
        // Plesk's documented maillog line for Outgoing Mail Control.
        let (k, _) = parse(b"Jan 10 12:34:56 server /usr/lib64/plesk-9.0/psa-pc-remote[5977]: REJECT during call 'limit-out' handler");
        assert_eq!(k, Some(EventKind::PleskLimitOut));
        let (k, _) = parse(b"Mar 21 10:29:11 vps /usr/lib/plesk-9.0/psa-pc-remote[13591]: PASS during call 'limit-out' handler");
        assert!(k.is_none());
    }

    #[test]
    fn amavis_quarantine_names_the_queue_id() {
        // amavisd-new's log line (the shape of public/dmlinarr's, names
        // changed).
        let (k, _) = parse(b"Jun  1 09:18:28 mx amavis[1626]: (01626-01) Blocked INFECTED (Win.Test.EICAR_HDB-1) {DiscardedInbound,Quarantined}, [192.0.2.33]:57864 <a@example.org> -> <b@example.net>, quarantine: 7/virus-7AueO3MCQ0Xg, Queue-ID: 413BE60672, Message-ID: <20240601091826.D04496012B@example.org>, mail_id: 7AueO3MCQ0Xg, Hits: -, size: 5098, 981 ms");
        assert!(
            matches!(k, Some(EventKind::Quarantined { qid }) if qid.to_string() == "413BE60672")
        );
        // Passed with a quarantined copy: delivered all the same.
        let (k, _) = parse(b"Jun  1 09:18:28 h amavis[1626]: (01626-02) Passed SPAM {RelayedTaggedInbound,Quarantined}, [1.2.3.4]:1 <a@b> -> <c@d>, Queue-ID: 413BE60673, mail_id: x");
        assert!(k.is_none());
    }

    #[test]
    fn dovecot_errors_are_diagnostics_from_the_severity_word() {
        let (k, l) = parse(b"Jan 10 12:34:56 mx dovecot: lmtp(u@example.com)<4711><abc>: Error: write(/var/vmail/example.com/u/dovecot.index.log) failed: No space left on device");
        match k {
            Some(EventKind::Diagnostic {
                severity: Severity::Error,
                program,
                text,
            }) => {
                assert_eq!(s(l, program), "dovecot");
                assert!(s(l, text).starts_with("Error: write("), "{}", s(l, text));
            }
            other => panic!("{other:?}"),
        }
        let (k, _) = parse(
            b"Jan 10 12:34:56 mx dovecot: imap-login: Login: user=<u@example.com>, method=PLAIN",
        );
        assert!(k.is_none());
    }
}
