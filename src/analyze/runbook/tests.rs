use super::*;
use crate::model::{KeyCount, Period, QueueSummary, SuspectIp};

fn summary() -> Summary {
    Summary {
        period: Period {
            first: Some("2026-01-01T00:00:00".into()),
            last: Some("2026-01-03T12:00:00".into()),
            ..Period::default()
        },
        ..Summary::default()
    }
}

fn login() -> Suspect {
    Suspect {
        rank: 1,
        identity: "sasl:dave@lab.test".into(),
        kind: "sasl".into(),
        episode: "zen.spamhaus.org".into(),
        messages: 412,
        recipients: 2300,
        ip_uses: vec![
            SuspectIp {
                ip: "198.51.100.7".into(),
                usual: true,
                ..SuspectIp::default()
            },
            SuspectIp {
                ip: "203.0.113.9".into(),
                usual: false,
                ..SuspectIp::default()
            },
        ],
        ..Suspect::default()
    }
}

fn listing(state: ProblemState) -> BlacklistEpisode {
    BlacklistEpisode {
        list: "zen.spamhaus.org".into(),
        cause: "blacklisted".into(),
        standing: Standing::Reputation,
        state,
        listed_ip: Some("192.0.2.10".into()),
        last_seen: "2026-01-03T11:50:00".into(),
        ..BlacklistEpisode::default()
    }
}

fn dump(deferred: u64) -> QueueSummary {
    QueueSummary {
        dump_time: "2026-01-03T12:05:00".into(),
        by_queue: vec![KeyCount {
            key: "deferred".into(),
            messages: deferred,
            bytes: 1,
        }],
        ..QueueSummary::default()
    }
}

fn all_commands(steps: &[RunbookStep]) -> Vec<&str> {
    steps
        .iter()
        .flat_map(|s| s.commands.iter().map(String::as_str))
        .collect()
}

#[test]
fn no_flush_while_a_listing_is_ongoing() {
    let mut s = summary();
    s.suspects = vec![login()];
    s.blacklistings = vec![listing(ProblemState::Ongoing)];
    s.queue = Some(dump(200));
    s.suspects[0].queued_file = Some("suspect-1-queued.csv".into());
    s.suspects[0].queued_ids_file = Some("suspect-1-queued-ids.txt".into());
    s.suspects[0].queued_spam = 180;
    let steps = build(&s);
    assert!(
        all_commands(&steps)
            .iter()
            .all(|c| !c.contains("postqueue -f")),
        "{steps:#?}"
    );
    let titles: Vec<&str> = steps.iter().map(|s| s.title.as_str()).collect();
    let at = |p: &str| {
        titles
            .iter()
            .position(|t| t.starts_with(p))
            .unwrap_or_else(|| panic!("{p}: {titles:?}"))
    };
    assert!(at("Stop the source") < at("Delete the queued spam"));
    assert!(at("Delete the queued spam") < at("Request delisting"));
    assert_eq!(at("Do not flush"), titles.len() - 1);
    // The real values, not placeholders.
    let cmds = all_commands(&steps);
    assert!(
        cmds.contains(&"dig +short 10.2.0.192.zen.spamhaus.org"),
        "{cmds:?}"
    );
    assert!(
        cmds.contains(&"postsuper -d - < suspect-1-queued-ids.txt"),
        "{cmds:?}"
    );
    assert!(cmds.contains(&"doveadm kick dave@lab.test"), "{cmds:?}");
    assert!(steps[0].why.contains("203.0.113.9") && !steps[0].why.contains("198.51.100.7"));
}

#[test]
fn flush_comes_last_once_the_listing_ended() {
    let mut s = summary();
    s.suspects = vec![login()];
    s.blacklistings = vec![listing(ProblemState::Ended)];
    s.queue = Some(dump(30));
    let steps = build(&s);
    let last = steps.last().unwrap();
    assert_eq!(last.commands, vec!["postqueue -f"]);
    assert!(steps
        .iter()
        .all(|s| !s.title.starts_with("Request delisting")));
    assert_eq!(
        all_commands(&steps)
            .iter()
            .filter(|c| c.contains("postqueue -f"))
            .count(),
        1
    );
}

#[test]
fn without_a_dump_the_spam_may_still_be_queued() {
    let mut s = summary();
    s.suspects = vec![login()];
    s.inputs = vec![crate::model::InputInfo {
        path: "logs/mail.log".into(),
        kind: "maillog".into(),
        ..Default::default()
    }];
    let steps = build(&s);
    let cmds = all_commands(&steps);
    assert!(
        cmds.contains(&"postmortem analyze logs/mail.log queue.json"),
        "{cmds:?}"
    );
    assert!(cmds.iter().all(|c| !c.contains("postqueue -f")));
    assert_eq!(steps.last().unwrap().title, "Do not flush the queue yet");
}

#[test]
fn values_from_the_logs_are_shell_quoted() {
    let mut s = summary();
    s.suspects = vec![Suspect {
        identity: "sender:x';rm -rf ~;'@evil.example".into(),
        kind: "sender".into(),
        ..Suspect::default()
    }];
    let steps = build(&s);
    let cmd = &steps[0].commands[0];
    assert!(cmd.contains(r"'x'\'';rm -rf ~;'\''@evil.example'"), "{cmd}");
    assert_eq!(sh("dave@lab.test"), "dave@lab.test");
    assert_eq!(sh(""), "''");
}

#[test]
fn the_server_own_failure_gets_a_fix_only_while_it_lasts() {
    let mut s = summary();
    s.incidents = vec![Incident {
        cause: "port25_blocked".into(),
        start: "2026-01-03T09:00:00".into(),
        end: "2026-01-03T11:30:00".into(),
        messages: 40,
        receivers: vec!["mx.corp-example.com".into()],
        ..Incident::default()
    }];
    let item = |state: ProblemState| crate::model::HeadlineItem {
        cause: "port25_blocked".into(),
        end: Some("2026-01-03T11:30:00".into()),
        state,
        ..Default::default()
    };
    s.headline = vec![item(ProblemState::Ongoing)];
    let steps = build(&s);
    assert_eq!(steps[0].commands[0], "nc -zv -w 5 mx.corp-example.com 25");
    assert_eq!(steps.last().unwrap().commands, vec!["postqueue -f"]);
    s.headline = vec![item(ProblemState::Ended)];
    assert!(build(&s).is_empty(), "an ended block needs nothing now");
    // A receiver's problem is not ours to fix.
    s.headline = vec![crate::model::HeadlineItem {
        cause: "mailbox_full".into(),
        ..item(ProblemState::Ongoing)
    }];
    assert!(build(&s).is_empty());
}

#[test]
fn a_local_script_over_smtp_is_not_blocked_by_firewall() {
    let mut s = summary();
    s.suspects = vec![Suspect {
        identity: "client:127.0.0.1".into(),
        kind: "client".into(),
        ..Suspect::default()
    }];
    let steps = build(&s);
    assert!(all_commands(&steps).iter().all(|c| !c.contains("iptables")));
}

#[test]
fn dnsbl_names_for_both_families() {
    assert_eq!(
        crate::classify::dnsbl_name("192.0.2.10", "zen.spamhaus.org").unwrap(),
        "10.2.0.192.zen.spamhaus.org"
    );
    let v6 = crate::classify::dnsbl_name("2001:db8::1", "zen.spamhaus.org").unwrap();
    assert!(
        v6.starts_with("1.0.0.0.0.0.0.0") && v6.ends_with("8.b.d.0.1.0.0.2.zen.spamhaus.org"),
        "{v6}"
    );
    assert_eq!(v6.split('.').count(), 32 + 3);
    assert!(crate::classify::dnsbl_name("not an ip", "x").is_none());
    assert_eq!(
        filter_port("connect to 127.0.0.1[127.0.0.1]:10024: Connection refused"),
        Some("10024")
    );
}
