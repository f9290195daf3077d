use super::*;

fn with_keep(keep: &[&str]) -> Redactor {
    let opts = RedactOptions {
        salt: "s".into(),
        keep: keep.iter().map(|k| k.to_string()).collect(),
        ..Default::default()
    };
    Redactor::for_summary(&opts, &Summary::default()).unwrap()
}

fn r() -> Redactor {
    with_keep(&["198.51.100.25", "mx1.hosting-example.net"])
}

fn hides(out: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!out.contains(s), "{s} leaked in {out}");
    }
}

#[test]
fn a_real_blacklist_reply_keeps_the_list_and_our_ip() {
    let t = "host mx1.telco-example.fr[192.0.2.32] said: 550 5.7.1 Service unavailable; Client host [198.51.100.25] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/198.51.100.25 (in reply to RCPT TO command)";
    let out = r().text(t);
    hides(&out, &["telco-example", "192.0.2.32"]);
    assert!(
        out.contains("[198.51.100.25] blocked using zen.spamhaus.org"),
        "{out}"
    );
    assert!(
        out.contains("https://www.spamhaus.org/query/ip/198.51.100.25"),
        "{out}"
    );
    assert!(out.starts_with("host domain-"), "{out}");
}

#[test]
fn the_same_address_gets_the_same_pseudonym_and_domains_agree() {
    let red = r();
    let a = red.text("from=<mike@studio-example.org>");
    let b = red.text("sasl:mike@studio-example.org");
    let d = red.text("studio-example.org");
    let user = a.trim_start_matches("from=<").trim_end_matches('>');
    assert!(user.starts_with("user-") && !a.contains("mike"), "{a}");
    assert_eq!(b, format!("sasl:{user}"));
    assert!(user.ends_with(&format!("@{d}")), "{user} {d}");
    let other = Redactor::for_summary(
        &RedactOptions {
            salt: "t".into(),
            ..Default::default()
        },
        &Summary::default(),
    )
    .unwrap();
    assert_ne!(other.text("from=<mike@studio-example.org>"), a);
    // Redacting twice changes nothing more.
    assert_eq!(red.text(&a), a);
}

#[test]
fn logins_ipv6_and_unknown_clients() {
    let red = r();
    let t = "warning: unknown[185.243.145.11]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=dave";
    let out = red.text(t);
    assert!(out.starts_with("warning: unknown[ip-"), "{out}");
    hides(&out, &["185.243.145.11", "=dave"]);
    let v6 = red.text("connect to mx.example.net[2001:db8:10::25]:25: Connection timed out");
    hides(&v6, &["2001:db8", "mx.example.net"]);
    // Times and loopback stay.
    let amavis = "connect to 127.0.0.1[127.0.0.1]:10024: Connection refused at 10:11:12";
    assert_eq!(red.text(amavis), amavis);
}

#[test]
fn file_names_and_commands_stay_readable() {
    let red = r();
    for t in [
        "samples/mail.log.2.gz",
        "Check `/etc/resolv.conf`",
        "`postqueue -f`",
        "Blocked - see https://www.spamcop.net/bl.shtml?198.51.100.25",
        "uid:33 (www-data)",
        "Dec 30 10:16:18 mx1 postfix/smtp[4242]: warning",
        "2026-01-03T10:11:12+01:00 dsn=4.7.1",
    ] {
        assert_eq!(red.text(t), t);
    }
}

#[test]
fn domains_whose_last_label_looks_like_a_file_extension_are_hidden() {
    let red = r();
    for (t, secret) in [
        ("to=<jan@poczta.pl>", "poczta.pl"),
        ("mx.firma.rs said", "firma.rs"),
        ("host docs.md[192.0.2.4]", "docs.md"),
        ("relay=files.zip", "files.zip"),
        (
            "see http://postgrey.schweikert.ch/help/campus.example.html",
            "campus.example",
        ),
        ("mail.customer.de.gz: line 3", "customer.de"),
        ("helo=<pc.customer.cf>", "customer.cf"),
    ] {
        let out = red.text(t);
        hides(&out, &[secret]);
    }
}

#[test]
fn address_fragments_leak_nothing() {
    let red = r();
    for (t, secrets) in [
        (
            "to=<john=customer.example@bounce.example.net>",
            &["john", "customer.example", "bounce.example.net"][..],
        ),
        (
            "from=<\"john doe\"@customer.example>",
            &["john doe", "customer.example"],
        ),
        ("\"john doe\"@customer.example", &["john doe"]),
        ("o'brien@customer.example", &["o'brien", "brien"]),
        ("a/b?c`d@customer.example", &["a/b?c`d", "c`d"]),
        ("jürgen.müller@bücher.de", &["jürgen", "müller", "bücher"]),
        ("user@[192.0.2.44]", &["192.0.2.44"]),
        ("user@[IPv6:2001:db8::44]", &["2001:db8::44"]),
        ("client:::ffff:cb00:7116 sent", &["cb00:7116"]),
        (
            "connect from unknown[::ffff:203.0.113.22]",
            &["203.0.113.22"],
        ),
        (
            "client 203.000.113.025 said",
            &["203.000.113.025", "113.025"],
        ),
        (
            "host my_host.customer.com[192.0.2.9]",
            &["my_host", "customer.com"],
        ),
        (
            "see http://john:secret@www.customer.com/x",
            &["john", "secret", "customer.com"],
        ),
        (
            "header From: \"John Doe\" <jd@customer.example> from x[192.0.2.1]; from=<a@b.example>",
            &["John Doe", "jd@"],
        ),
        (
            "Jan  1 00:00:00 mx1 wordpress(www.customer.com)[12]: mail sent",
            &["customer.com"],
        ),
        (
            "Jan  1 00:00:00 mx1 php(customerx)[12]: sent",
            &["customerx"],
        ),
        ("blocked using ANY.NAME; see", &["ANY.NAME"]),
        ("blocked using rbl.customer-corp;", &["customer-corp"]),
        ("uid:10005 (oldblog) sent", &["oldblog"]),
        (
            "dovecot: imap-login: Login: user=<mikesmith>, method=PLAIN",
            &["mikesmith"],
        ),
    ] {
        let out = red.text(t);
        hides(&out, secrets);
    }
}

#[test]
fn mapped_and_plain_ipv4_share_one_pseudonym() {
    let red = r();
    let a = red.text("203.0.113.22");
    assert_eq!(red.text("::ffff:cb00:7116"), a);
    assert_eq!(red.text("::ffff:203.0.113.22"), a);
    assert_eq!(red.text("203.000.113.022"), a);
    assert_eq!(red.text("client:::ffff:cb00:7116"), format!("client:{a}"));
}

#[test]
fn a_host_field_that_is_a_bare_label_keeps_nothing_readable() {
    let red = with_keep(&["com", "dev", "co.uk", "mx1.hosting-example.net"]);
    let out = red.text("to=<a@shop.com> via relay.customer.dev and mail.x.co.uk");
    hides(&out, &["shop.com", "customer.dev", "x.co.uk"]);
    // The exact own name stays, a name under it does not.
    assert_eq!(
        red.text("mx1.hosting-example.net"),
        "mx1.hosting-example.net"
    );
    hides(&red.text("evil.mx1.hosting-example.net"), &["evil"]);
}

#[test]
fn the_listed_ip_is_ours_only_when_two_receivers_name_it() {
    use crate::model::BlacklistEpisode;
    let episode = |receiver: &str, ip: &str| BlacklistEpisode {
        list: "zen.spamhaus.org".into(),
        receivers: vec![receiver.into()],
        listed_ip: Some(ip.into()),
        ..Default::default()
    };
    let mut s = Summary {
        blacklistings: vec![
            episode("mx1.telco-example.fr", "198.51.100.25"),
            episode("mx2.telco-example.fr", "192.0.2.77"),
            episode("mx.other-example.de", "198.51.100.25"),
        ],
        ..Default::default()
    };
    let opts = RedactOptions {
        salt: "s".into(),
        ..Default::default()
    };
    let red = Redactor::for_summary(&opts, &s).unwrap();
    red.redact_summary(&mut s);
    assert_eq!(
        s.blacklistings[0].listed_ip.as_deref(),
        Some("198.51.100.25")
    );
    // One receiving domain quoting an IP may quote anybody.
    assert!(s.blacklistings[1]
        .listed_ip
        .as_deref()
        .unwrap()
        .starts_with("ip-"));
    // A reversed own IP before a list zone stays (the `dig` command).
    let dig = "dig +short 25.100.51.198.zen.spamhaus.org";
    assert_eq!(red.text(dig), dig);
}

#[test]
fn pseudonyms_are_64_bits_and_a_random_salt_is_said() {
    let opts = RedactOptions::default().resolved().unwrap();
    assert!(opts.random_salt && opts.salt.len() == 32);
    let red = Redactor::for_summary(&opts, &Summary::default()).unwrap();
    let p = red.text("sasl:cust21240");
    let hex = p.trim_start_matches("sasl:user-");
    assert_eq!(hex.len(), 16, "{p}");
    let mut s = Summary::default();
    red.redact_summary(&mut s);
    assert_eq!(s.redaction_salt.as_deref(), Some("random"));
}

#[test]
fn logins_named_by_identities_are_hidden_in_every_text() {
    let mut s = Summary::default();
    s.suspects.push(crate::model::Suspect {
        identity: "sasl:mikesmith".into(),
        kind: "sasl".into(),
        evidence: vec!["mikesmith logged in from 9 IPs".into()],
        fix: vec!["Reset the password of the mailbox mikesmith.".into()],
        ..Default::default()
    });
    s.top_senders.push(crate::model::SenderRow {
        identity: "uid:10005 (oldblog)".into(),
        ..Default::default()
    });
    s.problems
        .push("oldblog: script path /var/www/vhosts/oldblog/x.php".into());
    let red = Redactor::for_summary(
        &RedactOptions {
            salt: "s".into(),
            ..Default::default()
        },
        &s,
    )
    .unwrap();
    red.redact_summary(&mut s);
    let json = serde_json::to_string(&s).unwrap();
    hides(&json, &["mikesmith", "oldblog"]);
    let id = s.suspects[0]
        .identity
        .trim_start_matches("sasl:")
        .to_string();
    assert!(
        s.suspects[0].fix[0].contains(&id),
        "{:?}",
        s.suspects[0].fix
    );
}
