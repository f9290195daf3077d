//! Every outcome counted once and honestly: soft bounces, expiries and
//! deletions, the filter's discards, local failures, Plesk's limits,
//! clocks. Lines in the formats Postfix, amavisd-new and Plesk document.

use super::*;
use crate::classify::LocalKind;
use crate::parse::parse_chunk;

fn run_with(log: &str, zone: Option<&str>) -> Findings {
    let classifier = Classifier::builtin();
    let mut c = Correlator::new(
        &classifier,
        YearPolicy {
            forced: Some(2026),
            anchor: None,
        },
    );
    c.set_zone(zone.map(|z| jiff::tz::TimeZone::get(z).unwrap()));
    let p = parse_chunk(log.as_bytes());
    c.consume(0, 1, log.as_bytes(), &p.events);
    c.finish()
}

fn run(log: &str) -> Findings {
    run_with(log, None)
}

const BARRACUDA: &str = "host mx.example.com[192.0.2.7] said: 554 5.7.1 Service unavailable; Client host [198.51.100.25] blocked using b.barracudacentral.org; http://www.barracudanetworks.com/reputation/?pr=1&ip=198.51.100.25 (in reply to RCPT TO command)";

#[test]
fn soft_bounces_are_deferrals_with_their_cause() {
    let mut log =
        String::from("Jan  5 10:00:00 mx postfix/pickup[1]: ABCDE12345: uid=10005 from=<shop>\n");
    for (i, to) in ["a@example.com", "b@example.com", "c@example.com"]
        .iter()
        .enumerate()
    {
        log += &format!("Jan  5 10:00:0{} mx postfix/smtp[2]: ABCDE12345: to=<{to}>, relay=mx.example.com[192.0.2.7]:25, delay=1, delays=0/0/0/1, dsn=5.7.1, status=SOFTBOUNCE ({BARRACUDA})\n", i + 1);
    }
    let f = run(&log);
    assert_eq!(f.counts.deferral_events, 3);
    assert_eq!(f.counts.soft_bounces, 3);
    assert_eq!(f.counts.bounced, 0);
    assert_eq!(f.counts.deferred_messages, 1);
    assert!(f
        .outcomes
        .iter()
        .all(|o| o.status == OutcomeStatus::Deferred
            && o.cause == Cause::Blacklisted
            && f.strings.get(f.reply(o).list) == b"b.barracudacentral.org"));
}

#[test]
fn outcomes_with_one_reply_share_it_and_other_replies_do_not() {
    let mut log =
        String::from("Jan  5 10:00:00 mx postfix/pickup[1]: ABCDE12345: uid=10005 from=<shop>\n");
    let other = BARRACUDA.replace("mx.example.com[192.0.2.7]", "mx2.example.net[192.0.2.8]");
    let replies = [BARRACUDA, BARRACUDA, other.as_str(), BARRACUDA];
    for (i, reply) in replies.iter().enumerate() {
        log += &format!("Jan  5 10:00:0{} mx postfix/smtp[2]: ABCDE12345: to=<r{i}@example.com>, relay=mx.example.com[192.0.2.7]:25, delay=1, delays=0/0/0/1, dsn=4.7.1, status=deferred ({reply})\n", i + 1);
    }
    let f = run(&log);
    assert_eq!(f.outcomes.len(), 4);
    assert_eq!(f.replies.len(), 2, "{:?}", f.replies);
    let ids: Vec<u32> = f.outcomes.iter().map(|o| o.reply).collect();
    assert_eq!(ids, [0, 0, 1, 0]);
    let hosts: Vec<std::borrow::Cow<str>> = f
        .outcomes
        .iter()
        .map(|o| f.strings.str(f.reply(o).remote_host))
        .collect();
    assert_eq!(
        hosts,
        [
            "mx.example.com",
            "mx.example.com",
            "mx2.example.net",
            "mx.example.com"
        ]
    );
}

#[test]
fn expiries_and_deletions_keep_their_last_deferral() {
    let log = "\
Jan  5 10:00:00 mx postfix/pickup[1]: ABCDE12345: uid=33 from=<www-data>
Jan  5 10:00:01 mx postfix/smtp[2]: ABCDE12345: to=<a@example.com>, relay=none, delay=1, delays=0/0/1/0, dsn=4.4.3, status=deferred (Host or domain name not found. Name service error for name=example.com type=MX: Host not found, try again)
Jan  5 11:00:01 mx postfix/qmgr[3]: ABCDE12345: from=<www-data@mx.example.net>, status=expired, returned to sender
Jan  5 11:00:01 mx postfix/qmgr[3]: ABCDE12345: removed
Jan  5 10:00:00 mx postfix/pickup[1]: BCDEF12345: uid=33 from=<www-data>
Jan  5 10:00:01 mx postfix/smtp[2]: BCDEF12345: to=<b@example.org>, relay=mx.example.org[192.0.2.8]:25, delay=1, delays=0/0/0/1, dsn=4.7.1, status=deferred (host mx.example.org[192.0.2.8] said: 450 4.7.1 Service unavailable; Client host [198.51.100.25] blocked using zen.spamhaus.org (in reply to RCPT TO command))
Jan  5 12:00:00 mx postfix/postsuper[4]: BCDEF12345: removed
Jan  5 12:00:00 mx postfix/postsuper[4]: CDEFA12345: removed
";
    let f = run(log);
    assert_eq!(f.counts.expired, 1);
    assert_eq!(
        f.counts.deleted, 1,
        "a message never seen queued is not counted"
    );
    let causes: Vec<(RemovalKind, Cause)> = f
        .removals
        .iter()
        .map(|r| (r.kind, f.outcomes[r.last_deferral.unwrap() as usize].cause))
        .collect();
    assert_eq!(
        causes,
        [
            (RemovalKind::Expired, Cause::DnsFailure),
            (RemovalKind::Deleted, Cause::Blacklisted)
        ]
    );
}

#[test]
fn the_filters_discards_and_quarantine_are_not_deliveries() {
    let log = "\
Jun  1 09:18:27 mx postfix/smtpd[1]: 413BE60672: client=mail.example.org[192.0.2.33]
Jun  1 09:18:27 mx postfix/qmgr[2]: 413BE60672: from=<a@example.org>, size=5098, nrcpt=1 (queue active)
Jun  1 09:18:28 mx amavis[1626]: (01626-01) Blocked INFECTED (Win.Test.EICAR_HDB-1) {DiscardedInbound,Quarantined}, [192.0.2.33]:57864 <a@example.org> -> <b@example.net>, quarantine: 7/virus-x, Queue-ID: 413BE60672, mail_id: x, Hits: -, size: 5098, 981 ms
Jun  1 09:18:28 mx postfix/smtp[3]: 413BE60672: to=<b@example.net>, relay=127.0.0.1[127.0.0.1]:10024, delay=1.2, delays=0.19/0.01/0.23/0.82, dsn=2.7.0, status=sent (250 2.7.0 Ok, discarded, id=01626-01 - INFECTED: Win.Test.EICAR_HDB-1)
Jun  1 09:18:28 mx postfix/qmgr[2]: 413BE60672: removed
Jun  1 09:20:35 mx postfix/smtpd[1]: 5D20460671: client=mail.example.org[192.0.2.33]
Jun  1 09:20:36 mx postfix/smtp[3]: 5D20460671: to=<b@example.net>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.09, delays=0.01/0/0/0.07, dsn=2.7.0, status=sent (250 2.7.0 Ok, discarded, id=01626-02 - spam)
Jun  1 09:20:36 mx postfix/qmgr[2]: 5D20460671: removed
Dec 16 02:29:45 mx postfix/discard[22813]: A0E081100E: to=<c@example.com>, relay=none, delay=0.05, delays=0.04/0/0/0, dsn=2.0.0, status=sent (example.com)
";
    let f = run(log);
    assert_eq!(f.counts.delivered, 0);
    assert_eq!(f.counts.quarantined, 1);
    assert_eq!(f.counts.discarded, 2);
    let client = f.strings.lookup(b"client:192.0.2.33").unwrap();
    assert_eq!(f.senders[&client].discarded, 2);
    assert_eq!(f.senders[&client].delivered, 0);
}

#[test]
fn our_own_delivery_failing_is_local() {
    let log = "\
Jan  5 10:00:00 mx postfix/smtpd[1]: ABCDE12345: client=mail.example.org[192.0.2.33]
Jan  5 10:00:01 mx postfix/pipe[2]: ABCDE12345: to=<u@example.net>, relay=dovecot, delay=0.1, delays=0/0/0/0.1, dsn=4.3.0, status=deferred (temporary failure)
Jan  5 10:00:02 mx postfix/lmtp[3]: ABCDE12345: to=<v@example.net>, relay=mx.example.net[private/dovecot-lmtp], delay=0.1, delays=0/0/0/0.1, dsn=4.2.2, status=deferred (host mx.example.net[private/dovecot-lmtp] said: 452 4.2.2 <v@example.net> Not enough disk space (in reply to end of DATA command))
";
    let f = run(log);
    assert!(f.outcomes.iter().all(|o| o.cause == Cause::LocalSystem));
    let kinds: Vec<LocalKind> = f.local.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [LocalKind::LocalDelivery, LocalKind::DiskFull]);
    assert!(f.local.iter().all(|e| e.source == LocalSource::Deferral));
}

#[test]
fn what_the_daemons_say_is_grouped_and_kept_in_time() {
    let mut log = String::new();
    for (i, pid) in [946, 947, 948].iter().enumerate() {
        log += &format!("Mar 15 06:1{i}:14 pi postfix/smtp[{pid}]: fatal: specify a password table via the `smtp_sasl_password_maps' configuration parameter\n");
        log += &format!("Mar 15 06:1{i}:15 pi postfix/master[500]: warning: process /usr/lib/postfix/smtp pid {pid} exit status 1\n");
        log += &format!("Mar 15 06:1{i}:15 pi postfix/master[500]: warning: /usr/lib/postfix/smtp: bad command startup -- throttling\n");
    }
    log += "Mar 15 06:20:00 pi postfix/smtpd[7]: warning: hostname x.example does not resolve to address 192.0.2.1\n";
    log += "Mar 15 06:20:01 pi postfix/bounce[8]: warning: for instructions see the bounce(5) manual\n";
    let f = run(&log);
    let groups: Vec<(Option<LocalKind>, u64)> =
        f.diagnostics.iter().map(|g| (g.kind, g.count)).collect();
    // pids differ, the groups do not; inbound noise is not a diagnostic.
    assert_eq!(
        groups,
        [
            (Some(LocalKind::Config), 3),
            (Some(LocalKind::CrashLoop), 3),
            (Some(LocalKind::CrashLoop), 3),
            (Some(LocalKind::ConfigWarning), 1),
        ]
    );
    // Evidence-only kinds make no local event.
    assert_eq!(f.local.len(), 9);
    assert_eq!(f.local[0].kind, LocalKind::Config);
}

#[test]
fn plesk_limits_and_failed_logins_are_recorded() {
    let log = "\
Jan 10 12:34:55 h postfix/submission/smtpd[7015]: AE16288F80: client=localhost[::1], sasl_method=LOGIN, sasl_username=user@test.example
Jan 10 12:34:56 h /usr/lib64/plesk-9.0/psa-pc-remote[5977]: REJECT during call 'limit-out' handler
Jan 10 12:34:56 h postfix/cleanup[7018]: AE16288F80: milter-reject: END-OF-MESSAGE from localhost[::1]: 5.7.0 Your message could not be sent. The limit on the number of allowed outgoing messages was exceeded. Try again later.; from=<user@test.example> to=<x@example.net> proto=ESMTP helo=<webmail.test.example>
Jan 10 12:35:00 h plesk_saslauthd[11166]: failed mail authentication attempt for user 'info@test.example' (password len=10)
";
    let f = run(log);
    assert_eq!(f.limit_out_handler, 1);
    assert_eq!(f.outgoing_limits.len(), 1);
    let l = f.outgoing_limits[0];
    assert_eq!(f.strings.get(l.identity), b"sasl:user@test.example");
    assert_eq!(f.strings.get(l.sender), b"user@test.example");
    assert_eq!(f.counts.rejected, 1);
    assert_eq!(f.login_failures.len(), 1);
    assert_eq!(
        f.strings.get(f.login_failures[0].username),
        b"info@test.example"
    );
}

#[test]
fn offsets_are_put_on_the_servers_clock_when_its_zone_is_known() {
    // journald's JSON export in UTC next to rsyslog's local time.
    let log = "\
2026-01-03T09:00:00+00:00 mx postfix/qmgr[1]: ABCDE12345: removed
Jan  3 10:00:05 mx postfix/qmgr[1]: BCDEF12345: removed
2026-07-03T09:00:00+00:00 mx postfix/qmgr[1]: CDEFA12345: removed
";
    let f = run_with(log, Some("Europe/Berlin"));
    assert_eq!(f.first.unwrap().iso(), "2026-01-03T10:00:00");
    // Summer time: two hours east of UTC.
    assert_eq!(f.last.unwrap().iso(), "2026-07-03T11:00:00");
    assert_eq!(f.clocks.local, 1);
    assert_eq!(f.clocks.offsets, [(0, 2)]);
    assert_eq!(f.clocks.converted, 2);
    // Without a zone the times stay as written.
    let f = run(log);
    assert_eq!(f.first.unwrap().iso(), "2026-01-03T09:00:00");
    assert_eq!(f.clocks.converted, 0);
}

#[test]
fn one_attempt_logged_by_plesk_and_smtpd_is_one_failure() {
    let log = "\
Jan 10 12:35:00 h plesk_saslauthd[11166]: failed mail authentication attempt for user 'info@test.example' (password len=10)
Jan 10 12:35:00 h postfix/smtpd[7015]: warning: unknown[192.0.2.61]: SASL LOGIN authentication failed: authentication failure, sasl_username=info@test.example
Jan 10 12:36:00 h plesk_saslauthd[11166]: failed mail authentication attempt for user 'info@test.example' (password len=8)
Jan 10 12:40:00 h postfix/smtpd[7015]: warning: unknown[192.0.2.62]: SASL LOGIN authentication failed: UGFzc3dvcmQ6
";
    let f = run(log);
    let seen: Vec<(&[u8], &[u8])> = f
        .login_failures
        .iter()
        .map(|l| (f.strings.get(l.username), f.strings.get(l.client_ip)))
        .collect();
    assert_eq!(
        seen,
        [
            (&b"info@test.example"[..], &b"192.0.2.61"[..]),
            (b"info@test.example", b""),
            (b"", b"192.0.2.62"),
        ]
    );
}
