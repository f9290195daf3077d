//! The tool on real servers' logs (`../shared/corpus/public2` and
//! `public`): every outcome counted, the server's own failures seen, the
//! severity files merged, the clocks said. Each source is checked for what
//! its report must now say. Skipped when the corpus is absent.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

#[path = "common/corpus.rs"]
mod shared;
use shared::corpus;

/// Runs `analyze` on `inputs` and reads its summary.json.
fn analyze(inputs: &[&Path], extra: &[&str]) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    let o = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args(["analyze", "--quiet", "--out"])
        .arg(&out)
        .args(inputs)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        o.status.code().is_some_and(|c| c <= 2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

fn causes(s: &Value) -> Vec<&str> {
    s["headline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["cause"].as_str().unwrap())
        .collect()
}

fn input<'a>(s: &'a Value, name: &str) -> &'a Value {
    s["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("no input {name}"))
}

fn local<'a>(s: &'a Value, kind: &str) -> Vec<&'a Value> {
    s["local_failures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == kind)
        .collect()
}

/// Every expiry is put down to a cause: the causes' expiries add up.
fn expiries_add_up(s: &Value) {
    let sum: u64 = s["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["expired"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, s["totals"]["expired"].as_u64().unwrap());
}

#[test]
fn a_smtp_daemon_that_cannot_start_and_a_blocked_port_25() {
    let Some(dir) = corpus("public2/starshipengineer-email-setup") else {
        return;
    };
    let s = analyze(&[&dir], &[]);
    let c = causes(&s);
    assert!(c.contains(&"port25_blocked"), "{c:?}");
    assert!(c.contains(&"local_system"), "{c:?}");
    let config = local(&s, "config_error");
    assert_eq!(config[0]["count"], 657);
    assert_eq!(config[0]["severity"], "fatal");
    assert!(s["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["local_kind"] == "config_error" && i["local_lines"].as_u64().unwrap() > 657));
    // mail.err is a subset of mail.log here: every line read once.
    let err = input(&s, "mail.err");
    assert_eq!(err["lines"], 0);
    assert_eq!(err["duplicate_lines"], 676);
    expiries_add_up(&s);
    assert_eq!(s["lines"]["not_understood"], 0);
}

#[test]
fn severity_files_that_reach_beyond_mail_log_are_read() {
    let Some(dir) = corpus("public2/arnevandebemdt-systeembeheer") else {
        return;
    };
    let s = analyze(&[&dir], &[]);
    // mail.err.1 and mail.err.2.gz hold lines no mail.log holds.
    assert_eq!(input(&s, "mail.err.1")["duplicate_lines"], 0);
    assert_eq!(input(&s, "mail.err.2.gz")["lines"], 80);
    let h = &s["headline"][0];
    assert_eq!(h["cause"], "local_system", "{h}");
    assert_eq!(h["title"], "System resource limit reached");
    assert!(
        h["text"]
            .as_str()
            .unwrap()
            .contains("fatal: epoll_create: Too many open files in system"),
        "{h}"
    );
    assert!(local(&s, "resource_limit")
        .iter()
        .any(|l| l["program"] == "postfix/qmgr" && l["severity"] == "fatal"));
}

#[test]
fn expiries_take_their_last_deferrals_cause_and_warn_files_merge() {
    let Some(dir) = corpus("public2/teliten-log-plemma") else {
        return;
    };
    let s = analyze(&[&dir], &[]);
    assert_eq!(s["totals"]["expired"], 853);
    let dns = s["causes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cause"] == "dns_failure")
        .unwrap();
    assert_eq!(dns["expired"], 853);
    expiries_add_up(&s);
    // mail.warn.3.gz reaches weeks before mail.log; mail.warn.1 is inside it.
    assert!(input(&s, "mail.warn.3.gz")["lines"].as_u64().unwrap() >= 1500);
    assert_eq!(input(&s, "mail.warn.1")["lines"], 0);
    assert_eq!(input(&s, "mail.warn.1")["duplicate_lines"], 3);
    assert!(local(&s, "config_warning")[0]["count"].as_u64().unwrap() > 1000);
    assert_eq!(s["lines"]["not_understood"], 0);
}

#[test]
fn a_configuration_error_makes_the_headline() {
    let Some(dir) = corpus("public2/jar321-hacker") else {
        return;
    };
    let s = analyze(&[&dir], &[]);
    assert_eq!(s["headline"][0]["title"], "Postfix configuration error");
    assert_eq!(input(&s, "mail.err")["duplicate_lines"], 4);
}

#[test]
fn a_relay_host_that_times_out_is_its_own_cause() {
    let Some(dump) = corpus("public2/palashmaran-deltainductions/mailq.txt") else {
        return;
    };
    let s = analyze(&[&dump], &[]);
    assert_eq!(s["headline"][0]["cause"], "relay_unavailable");
}

#[test]
fn a_dumps_weekdays_choose_its_year() {
    let Some(dump) = corpus("public2/datadog-integrations-core/postqueue_p.txt") else {
        return;
    };
    let s = analyze(&[&dump], &[]);
    let q = &s["queue"];
    assert!(
        q["dump_time"].as_str().unwrap().starts_with("2023-08-15"),
        "{q}"
    );
    let notes: Vec<&str> = q["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("in 2023, not in 2026")),
        "{notes:?}"
    );
    // `(deferred transport)` is this server's defer_transports.
    assert_eq!(s["headline"][0]["cause"], "local_system");
}

#[test]
fn bounces_make_the_headline_when_nothing_is_deferred() {
    let Some(dir) = corpus("public2/juliepradelli-link") else {
        return;
    };
    let s = analyze(&[&dir], &[]);
    let h = &s["headline"][0];
    assert!(
        h["text"].as_str().unwrap().contains("recipients bounced"),
        "{h}"
    );
    assert_ne!(h["cause"], "none");
}

#[test]
fn lines_with_one_offset_keep_it() {
    let Some(dir) = corpus("public2/pixelpark-postfix-logsums") else {
        return;
    };
    let s = analyze(&[&dir], &[]);
    assert_eq!(s["period"]["timezone"], "+01:00");
    assert!(s["period"]["first"].as_str().unwrap().ends_with("+01:00"));
    assert_eq!(s["period"]["offsets"], serde_json::json!(["+01:00"]));
    assert_eq!(s["lines"]["not_understood"], 0);
}

#[test]
fn every_whole_postfix_line_of_public2_is_understood() {
    let Some(root) = corpus("public2") else {
        return;
    };
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() || dir.ends_with("sekoia-intake-formats") {
            continue;
        }
        let s = analyze(&[&dir], &[]);
        for e in s["lines"]["not_understood_examples"].as_array().unwrap() {
            // Only two log lines glued without a line end may be left.
            let e = e.as_str().unwrap();
            assert!(
                e.matches(" postfix/").count() >= 2 || e.matches("]: ").count() >= 2,
                "{}: {e}",
                dir.display()
            );
        }
    }
}

#[test]
fn the_filters_quarantine_and_plesks_failed_logins() {
    if let Some(dir) = corpus("public/dmlinarr-securepostfix") {
        let s = analyze(&[&dir], &[]);
        assert_eq!(s["totals"]["quarantined"], 2);
        assert_eq!(s["totals"]["delivered"], 5);
    }
    if let Some(dir) = corpus("public/plesk") {
        let s = analyze(&[&dir], &[]);
        let notes = s["notes"].to_string();
        assert!(
            notes.contains("failed logins were named by plesk_saslauthd"),
            "{notes}"
        );
    }
}

/// Lab-1's lines (UTC, year-less) beside the same server's lines as a
/// journald export writes them (`+00:00`): one clock with --timezone UTC,
/// said to be two without it.
#[test]
fn two_clocks_are_aligned_by_timezone_or_said() {
    let Some(log) = corpus("lab-1/logs/maillog") else {
        return;
    };
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().take(200).collect();
    let dir = tempfile::tempdir().unwrap();
    let local: String = lines[..100].iter().map(|l| format!("{l}\n")).collect();
    // `Nov 28 18:55:00 host ...` -> `2026-11-28T18:55:00+00:00 host ...`
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let journal: String = lines[100..]
        .iter()
        .map(|l| {
            let m = months.iter().position(|m| l.starts_with(m)).unwrap() + 1;
            let d: u32 = l[4..6].trim().parse().unwrap();
            format!("2026-{m:02}-{d:02}T{}+00:00{}\n", &l[7..15], &l[15..])
        })
        .collect();
    std::fs::write(dir.path().join("maillog"), local).unwrap();
    std::fs::write(dir.path().join("journal.log"), journal).unwrap();
    let s = analyze(&[dir.path()], &["--year", "2026"]);
    let problems = s["problems"].to_string();
    assert!(
        problems.contains("clocks could not be aligned"),
        "{problems}"
    );
    let s = analyze(&[dir.path()], &["--year", "2026", "--timezone", "UTC"]);
    assert!(!s["problems"]
        .to_string()
        .contains("clocks could not be aligned"));
    assert!(s["notes"].to_string().contains("put on the clock of UTC"));
    // Berlin is an hour east of lab-1's UTC stamps: the journal's lines
    // move to Berlin's clock, the year-less ones are read as Berlin's.
    let s = analyze(
        &[dir.path()],
        &["--year", "2026", "--timezone", "Europe/Berlin"],
    );
    let last = s["period"]["last"].as_str().unwrap();
    let expected = &lines[199][7..15];
    let hour: u32 = expected[..2].parse::<u32>().unwrap() + 1;
    assert!(
        last.contains(&format!("T{hour:02}{}", &expected[2..])),
        "{last} vs {expected}"
    );
}

/// Plesk's Outgoing Mail Control in its documented maillog format: a
/// subscription's script (uid 10005) and a mailbox over their limits.
/// The subscription's system user is named from a copy of /etc/passwd,
/// and a redacted report names no one.
#[test]
fn plesk_limits_name_the_sender_and_the_subscription_user() {
    let dir = tempfile::tempdir().unwrap();
    let log = "\
Jan 10 12:34:50 plesk1 postfix/pickup[7001]: 1A2B3C4D5E: uid=10005 from=<shopuser>
Jan 10 12:34:50 plesk1 /usr/lib64/plesk-9.0/psa-pc-remote[5977]: REJECT during call 'limit-out' handler
Jan 10 12:34:50 plesk1 postfix/cleanup[7018]: 1A2B3C4D5E: milter-reject: END-OF-MESSAGE from localhost[127.0.0.1]: 5.7.0 Your message could not be sent. The limit on the number of allowed outgoing messages was exceeded. Try again later.; from=<shopuser@shop-example.com> to=<x@example.net> proto=ESMTP helo=<localhost>
Jan 10 12:35:55 plesk1 postfix/submission/smtpd[7015]: 2B3C4D5E6F: client=localhost[::1], sasl_method=LOGIN, sasl_username=sales@shop-example.com
Jan 10 12:35:56 plesk1 /usr/lib64/plesk-9.0/psa-pc-remote[5977]: REJECT during call 'limit-out' handler
Jan 10 12:35:56 plesk1 postfix/cleanup[7018]: 2B3C4D5E6F: milter-reject: END-OF-MESSAGE from localhost[::1]: 5.7.0 Your message could not be sent. The limit on the number of allowed outgoing messages was exceeded. Try again later.; from=<sales@shop-example.com> to=<y@example.org> proto=ESMTP helo=<webmail.shop-example.com>
";
    std::fs::write(dir.path().join("maillog"), log).unwrap();
    let passwd = dir.path().join("passwd.copy");
    std::fs::write(
        &passwd,
        "root:x:0:0:root:/root:/bin/bash\nshopuser:x:10005:1003::/var/www/vhosts/shop-example.com:/bin/false\n",
    )
    .unwrap();
    let log_path = dir.path().join("maillog");
    let s = analyze(
        &[&log_path],
        &["--year", "2026", "--passwd", passwd.to_str().unwrap()],
    );
    let rows = s["outgoing_limits"].as_array().unwrap();
    let who: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["sender"].as_str().unwrap(),
                r["identity"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        who.contains(&("shopuser@shop-example.com", "uid:10005 (shopuser)")),
        "{who:?}"
    );
    assert!(
        who.contains(&("sales@shop-example.com", "sasl:sales@shop-example.com")),
        "{who:?}"
    );
    assert!(s["notes"].to_string().contains("psa-pc-remote logged 2"));
    // Redacted: neither the user nor the mailbox is named anywhere.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    let st = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args([
            "analyze", "--quiet", "--redact", "--year", "2026", "--passwd",
        ])
        .arg(&passwd)
        .arg("--out")
        .arg(&out)
        .arg(&log_path)
        .status()
        .unwrap();
    assert!(st.success());
    for entry in std::fs::read_dir(&out).unwrap() {
        let p = entry.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        for secret in ["shopuser", "sales@", "shop-example.com"] {
            assert!(!text.contains(secret), "{} names {secret}", p.display());
        }
    }
}

/// lab-1: the short-lifetime phase's expiries each take their last
/// deferral's cause; the SASL backend lost under password guessing is
/// evidence, not an incident; the bounce template warnings are
/// configuration warnings.
#[test]
fn lab1_expiries_by_cause_and_the_servers_own_words() {
    let Some(logs) = corpus("lab-1/logs") else {
        return;
    };
    let s = analyze(&[&logs], &[]);
    assert_eq!(s["totals"]["expired"], 15);
    expiries_add_up(&s);
    assert!(s["causes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["cause"] != "unknown" || c["expired"] == 0));
    assert_eq!(local(&s, "auth_backend")[0]["count"], 5);
    assert!(local(&s, "config_warning")
        .iter()
        .all(|l| l["stops_mail"] == false));
    assert!(s["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i.get("local_kind").is_none()));
}
