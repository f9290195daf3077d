//! The payload parser on real lines (lab-1 and documented formats).
use super::*;

fn parse(line: &[u8]) -> (EventKind, &[u8]) {
    let h = crate::parse::syslog::parse_header(line).unwrap();
    let svc = crate::parse::syslog::service(h.program);
    (parse_payload(line, svc, h.message), line)
}

fn s(line: &[u8], sp: Span) -> &str {
    std::str::from_utf8(sp.get(line)).unwrap()
}

#[test]
fn queue_id_round_trip() {
    for id in [
        "D375AD054A",
        "4Qw2Rh1GhVz9sXp",
        "3mPVKl0Mhjz7sXv",
        "44JCRG5tYPzCqt2",
    ] {
        assert_eq!(QueueId::parse(id.as_bytes()).unwrap().to_string(), id);
    }
    assert!(QueueId::parse(b"NOQUEUE").is_some()); // shape-wise an id: callers test NOQUEUE first
    assert!(QueueId::parse(b"a b").is_none());
}

#[test]
fn lab_client_with_sasl() {
    let (k, l) = parse(b"Nov 28 18:30:33 mail postfix/submission/smtpd[18085]: 3330AD0558: client=unknown[127.0.0.102], sasl_method=PLAIN, sasl_username=carol@lab.test");
    match k {
        EventKind::Client {
            qid,
            client,
            sasl_username,
        } => {
            assert_eq!(qid.to_string(), "3330AD0558");
            assert_eq!(s(l, client), "unknown[127.0.0.102]");
            assert_eq!(s(l, sasl_username), "carol@lab.test");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn lab_pickup_and_qmgr() {
    let (k, l) =
        parse(b"Nov 28 18:30:12 mail postfix/pickup[18039]: D375AD054A: uid=33 from=<www-data>");
    assert!(matches!(k, EventKind::Pickup { uid: Some(33), from, .. } if s(l, from) == "www-data"));
    let (k, l) = parse(b"Nov 28 18:30:12 mail postfix/qmgr[18040]: D375AD054A: from=<www-data@lab.test>, size=360, nrcpt=1 (queue active)");
    assert!(
        matches!(k, EventKind::QueueActive { size: 360, nrcpt: 1, from, .. } if s(l, from) == "www-data@lab.test")
    );
    let (k, _) = parse(b"Nov 28 18:30:12 mail postfix/qmgr[18040]: D375AD054A: removed");
    assert!(matches!(k, EventKind::Removed { .. }));
}

#[test]
fn lab_delivery_to_content_filter_and_deferral() {
    let (k, l) = parse(b"Nov 28 18:30:12 mail postfix/smtp[18070]: D375AD054A: to=<quinn.kim@gmail-like.test>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.06, delays=0.02/0.01/0/0.02, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as DDEDDD0543)");
    match k {
        EventKind::Delivery {
            to,
            relay,
            status,
            reason,
            dsn,
            delays,
            ..
        } => {
            assert_eq!(s(l, to), "quinn.kim@gmail-like.test");
            assert_eq!(s(l, delays), "0.02/0.01/0/0.02");
            assert_eq!(s(l, relay), "127.0.0.1[127.0.0.1]:10024");
            assert_eq!(s(l, dsn), "2.0.0");
            assert_eq!(status, DeliveryStatus::Sent);
            assert_eq!(
                s(l, reason),
                "250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as DDEDDD0543"
            );
        }
        other => panic!("{other:?}"),
    }
    let (k, l) = parse(b"Jan  5 10:00:00 mx postfix/smtp[1]: ABCDEF1234: to=<a@b.c>, orig_to=<x@y>, relay=none, delay=30, delays=30/0/0/0, dsn=4.4.1, status=deferred (connect to mx.b.c[1.2.3.4]:25: Connection timed out)");
    assert!(
        matches!(k, EventKind::Delivery { status: DeliveryStatus::Deferred, reason, orig_to, .. }
        if s(l, reason) == "connect to mx.b.c[1.2.3.4]:25: Connection timed out" && s(l, orig_to) == "x@y")
    );
}

#[test]
fn expired_and_notifications() {
    let (k, l) = parse(b"Nov 28 18:44:01 mail postfix/qmgr[1]: 5F00AD0001: from=<bob@lab.test>, status=expired, returned to sender");
    assert!(
        matches!(k, EventKind::Expired { forced: false, from, .. } if s(l, from) == "bob@lab.test")
    );
    let (k, _) = parse(b"Nov 28 18:44:01 mail postfix/bounce[1]: 5F00AD0001: sender non-delivery notification: 6A11BD0002");
    assert!(
        matches!(k, EventKind::Notification { child, .. } if child.to_string() == "6A11BD0002")
    );
    let (k, _) = parse(b"Feb  1 00:00:00 h postfix/qmgr[1]: 5F00AD0001: from=<a@b>, status=force-expired, returned to sender");
    assert!(matches!(k, EventKind::Expired { forced: true, .. }));
}

#[test]
fn noqueue_reject_fields() {
    let line = b"Jan  5 10:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.7]: 554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.7; from=<x@spam.test> to=<bob@example.com> proto=ESMTP helo=<spam.test>";
    let (k, l) = parse(line);
    match k {
        EventKind::Reject {
            qid: None,
            client,
            reason,
            from,
            to,
            helo,
            action: RejectAction::Reject,
            ..
        } => {
            assert_eq!(s(l, client), "unknown[192.0.2.7]");
            assert!(s(l, reason).starts_with("554 5.7.1 Service unavailable; Client host"));
            assert!(s(l, reason).ends_with("query/ip/192.0.2.7"));
            assert_eq!(s(l, from), "<x@spam.test>");
            assert_eq!(s(l, to), "<bob@example.com>");
            assert_eq!(s(l, helo), "<spam.test>");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn sasl_failure_with_username() {
    let (k, l) = parse(b"Nov 28 18:30:16 mail postfix/submission/smtpd[18085]: warning: unknown[127.0.0.89]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=info@lab.test");
    assert!(
        matches!(k, EventKind::SaslFailure { client, username, reason }
        if s(l, client) == "unknown[127.0.0.89]" && s(l, username) == "info@lab.test"
            && s(l, reason) == "(reason unavailable), sasl_username=info@lab.test")
    );
    let (k, l) = parse(b"Jan  1 00:00:00 h postfix/smtpd[1]: warning: unknown[1.2.3.4]: SASL LOGIN authentication failed: UGFzc3dvcmQ6");
    assert!(matches!(k, EventKind::SaslFailure { username, .. } if s(l, username).is_empty()));
}

#[test]
fn cleanup_milter_reject_and_hold() {
    let (k, _) = parse(b"Jan  1 00:00:00 h postfix/cleanup[1]: 4A2B3C4D5E: milter-reject: END-OF-MESSAGE from x[1.2.3.4]: 5.7.1 Spam; from=<a@b> to=<c@d> proto=ESMTP helo=<x>");
    assert!(matches!(
        k,
        EventKind::Reject {
            stage: RejectStage::Cleanup,
            action: RejectAction::Reject,
            ..
        }
    ));
    let (k, _) = parse(b"Jan  1 00:00:00 h postfix/cleanup[1]: 4A2B3C4D5E: hold: header Subject: x from local; from=<a@b> to=<c@d>");
    assert!(matches!(k, EventKind::Held { .. }));
    let (k, _) = parse(b"Nov 28 18:55:00 mail postfix/postsuper[1]: A2AA3D073B: placed on hold");
    assert!(matches!(k, EventKind::Held { .. }));
}

#[test]
fn unknown_postfix_line_is_not_understood() {
    let (k, _) = parse(b"Jan  1 00:00:00 h postfix/smtpd[1]: something entirely new happened");
    assert_eq!(k, EventKind::NotUnderstood);
}

#[test]
fn hostile_bytes_never_panic() {
    for m in [
        &b"ABCDEF1234: to=<"[..],
        b"ABCDEF1234: to=<a@b>, status=",
        b"ABCDEF1234: from=<a, status=expired",
        b"NOQUEUE: reject: RCPT from ",
        b"ABCDEF1234: client=",
        b"ABCDEF1234: sender non-delivery notification: ",
        b"warning: x: SASL",
        b"\xff\xff: \xff",
        b":",
        b"",
    ] {
        let _ = parse_payload(m, b"smtp", m);
    }
}
