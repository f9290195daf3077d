//! The rule table's mechanics: priority, user rules, details, lists.
use super::*;

#[test]
fn every_cause_round_trips_through_its_id() {
    for c in Cause::ALL {
        assert_eq!(Cause::from_id(c.id()), Some(c));
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            format!("\"{}\"", c.id())
        );
        assert!(!c.description().is_empty());
        assert!(!c.fix().is_empty(), "{c:?} has no fix");
    }
    assert_eq!(Cause::from_id("nope"), None);
}

#[test]
fn rule_order_is_priority_even_when_a_later_rule_matches_earlier_in_the_text() {
    let rules = vec![
        RuleSource {
            name: "late".into(),
            cause: Cause::Blacklisted,
            list: None,
            pattern: "zzz".into(),
            standing: Standing::None,
            local: None,
        },
        RuleSource {
            name: "early".into(),
            cause: Cause::RateLimited,
            list: None,
            pattern: "aaa".into(),
            standing: Standing::None,
            local: None,
        },
    ];
    let c = Classifier {
        user: None,
        builtin: Arc::new(compile(&rules, 1 << 20).unwrap()),
        outcomes: rules.into_iter().map(Outcome::from).collect(),
        user_rules: true,
        id: next_id(),
    };
    // "aaa" occurs first in the text, but rule 0 wins because it is first.
    assert_eq!(c.classify("aaa then zzz").rule, "late");
    assert_eq!(c.classify("only aaa").rule, "early");
    assert_eq!(c.classify("neither").cause, Cause::Unknown);
}

#[test]
fn multi_line_replies_read_as_one_sentence() {
    let t = "host g[192.0.2.7] said: 550-5.7.1 [192.0.2.1] The IP is not authorized to 550-5.7.1 send email directly to our servers. 550 5.7.1 Bye. (in reply to end of DATA command)";
    assert_eq!(
        join_reply_lines(t),
        "host g[192.0.2.7] said: 550-5.7.1 [192.0.2.1] The IP is not authorized to send email directly to our servers. Bye. (in reply to end of DATA command)"
    );
    // Another code inside the text is the receiver's words: kept.
    let t = "host m[192.0.2.7] said: 450 4.1.1 <a@b>: unverified address: 550 5.1.1 unknown";
    assert_eq!(join_reply_lines(t), t);
    assert_eq!(
        join_reply_lines("connect to x[1.2.3.4]:25: timed out"),
        "connect to x[1.2.3.4]:25: timed out"
    );
}

#[test]
fn listing_beats_rate_limit_in_one_reply() {
    let c = Classifier::builtin();
    // A rate-limit text that also names a listing.
    let v = c.classify("host mx.example.com[192.0.2.1] said: 421 4.7.0 Too many connections; your IP 203.0.113.5 is listed on bl.spamcop.net (in reply to MAIL FROM command)");
    assert_eq!(v.cause, Cause::Blacklisted);
    assert_eq!(v.detail.list.as_deref(), Some("bl.spamcop.net"));
}

#[test]
fn user_rules_take_precedence() {
    let toml = "[[rule]]\nname = \"isp\"\ncause = \"blacklisted\"\npattern = \"(?i)my isp block\"\nlist = \"myisp\"\n\n[[rule]]\ncause = \"greylisted\"\npattern = \"Temporary local problem\"\n";
    let c = Classifier::from_rules_text(toml, Path::new("rules.toml")).unwrap();
    let v = c.classify(
        "host a.example[192.0.2.1] said: 550 5.7.1 MY ISP BLOCK (in reply to RCPT TO command)",
    );
    assert_eq!((v.cause, v.rule.as_str()), (Cause::Blacklisted, "isp"));
    assert_eq!(v.detail.list.as_deref(), Some("myisp"));
    // Without the user rule this text is remote_unavailable (4xx).
    let text = "host mx.kdent.example[192.0.2.7] said: 451 Temporary local problem - please try later (in reply to RCPT TO command)";
    assert_eq!(
        Classifier::builtin().classify(text).cause,
        Cause::RemoteUnavailable
    );
    let v = c.classify(text);
    assert_eq!(
        (v.cause, v.rule.as_str()),
        (Cause::Greylisted, "user rule 2")
    );
    // Built-in rules still apply after the user's.
    assert_eq!(
        c.classify("connect to 127.0.0.1[127.0.0.1]:10024: Connection refused")
            .cause,
        Cause::ContentFilterDown
    );
}

#[test]
fn bad_rules_files_name_the_line() {
    let bad_regex = "[[rule]]\ncause = \"blacklisted\"\npattern = \"(unclosed\"\n";
    match Classifier::from_rules_text(bad_regex, Path::new("r.toml")) {
        Err(Error::Syntax { line, message, .. }) => {
            assert_eq!(line, 3, "{message}");
            assert!(message.contains("unclosed"), "{message}");
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    let bad_cause = "[[rule]]\ncause = \"blacklist\"\npattern = \"x\"\n";
    match Classifier::from_rules_text(bad_cause, Path::new("r.toml")) {
        Err(Error::Syntax { line, message, .. }) => {
            assert_eq!(line, 2);
            assert!(message.contains("blacklisted"), "{message}");
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    let bad_toml = "[[rule]]\ncause = \"blacklisted\"\npattern = x\n";
    match Classifier::from_rules_text(bad_toml, Path::new("r.toml")) {
        Err(Error::Syntax { line, .. }) => assert_eq!(line, 3),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn rules_file_is_read_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    std::fs::write(
        &path,
        "[[rule]]\nname = \"x\"\ncause = \"local_system\"\npattern = \"frobnicated\"\n",
    )
    .unwrap();
    let c = Classifier::from_rules_file(&path).unwrap();
    assert_eq!(c.classify("queue frobnicated").cause, Cause::LocalSystem);
    assert_eq!(
        c.len(),
        rules::BUILTIN.len() + diagnostics::DIAGNOSTIC_RULES.len() + 1
    );
    assert!(matches!(
        Classifier::from_rules_file(&dir.path().join("missing.toml")),
        Err(Error::Io { .. })
    ));
}

#[test]
fn delisting_urls_for_known_lists() {
    assert_eq!(
        delisting_url("zen.spamhaus.org"),
        Some("https://check.spamhaus.org/")
    );
    assert_eq!(
        delisting_url("b.barracudacentral.org"),
        Some("https://www.barracudacentral.org/rbl/removal-request")
    );
    assert_eq!(
        delisting_url("microsoft"),
        Some("https://sender.office.com/")
    );
    assert_eq!(
        delisting_url("dnsbl-1.uceprotect.net"),
        Some("https://www.uceprotect.net/en/rblcheck.php")
    );
    assert_eq!(
        delisting_url("yahoo"),
        Some("https://senders.yahooinc.com/")
    );
    assert_eq!(delisting_url("myisp"), None);
}

#[test]
fn detail_of_a_lab_spamcop_deferral() {
    let v = Classifier::builtin().classify("host mx.bigisp.test[127.0.0.23] said: 450 4.7.1 Service unavailable; Client host [127.0.0.1] blocked using bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?127.0.0.1 (in reply to RCPT TO command)");
    assert_eq!(v.cause, Cause::Blacklisted);
    assert_eq!(
        v.detail,
        Detail {
            list: Some("bl.spamcop.net".into()),
            remote_host: Some("mx.bigisp.test".into()),
            remote_port: None,
            reply_code: Some(450),
            enhanced_code: Some("4.7.1".into()),
            listed_ip: Some("127.0.0.1".into()),
        }
    );
    assert_eq!(v.connect_failure, None);
}

#[test]
fn detail_of_a_connect_failure() {
    let v = Classifier::builtin().classify("delivery temporarily suspended: connect to gmail-smtp-in.l.gmail-like.test[127.0.0.20]:25: Connection timed out");
    assert_eq!(v.cause, Cause::RemoteUnavailable);
    assert_eq!(v.connect_failure, Some(ConnectFailure::TimedOut));
    assert_eq!(
        v.detail.remote_host.as_deref(),
        Some("gmail-smtp-in.l.gmail-like.test")
    );
    assert_eq!(v.detail.remote_port, Some(25));
    assert_eq!(v.detail.reply_code, None);
    // A connect failure the remote reports inside its reply is not ours.
    let nested = Classifier::builtin().classify("host mail.example.cz[192.0.2.8] said: 450 4.1.1 <a@example.cz>: Recipient address rejected: unverified address: connect to mx.example.cz[192.0.2.9]:25: Connection refused (in reply to RCPT TO command)");
    assert_eq!(nested.connect_failure, None);
    assert_eq!(
        nested.detail.remote_host.as_deref(),
        Some("mail.example.cz")
    );
}
