//! `--redact` tried as a careful attacker would: a log and a queue dump that
//! hold every kind of personal value the report could leak, then every
//! output file and the terminal output searched for each original value.
//! The same values must appear in a report made without `--redact`, so a
//! case that never reaches the report cannot pass by accident.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_postmortem"))
}

const OWN: &str = "mx1.hosting-example.net";
const OWN_IP: &str = "198.51.100.25";

/// Two logins whose 32-bit pseudonyms of the former scheme (SipHash of
/// `address\0LOGIN`, unsalted) were both `user-88fa0ec8`.
const COLLIDING: [&str; 2] = ["cust21240", "cust87162"];

/// Values that must never appear in a redacted report.
const SECRETS: &[&str] = &[
    // 1. Domains whose last label looks like a file extension.
    "poczta-firma.pl",
    "shop-firma.rs",
    "docs-firma.md",
    "tools-firma.py",
    "scripts-firma.sh",
    "files-firma.zip",
    "relay-firma.cf",
    "campus.example",
    // 2. The main suspect's bare login.
    "mikesmith",
    // 3. A list no built-in rule names, and a receiving domain used as one.
    "rbl.customer-zone.example",
    "bigcorp-mail.com",
    // 4. A client's IP that one receiver quotes.
    "203.0.113.77",
    // 5. A customer's system user from --passwd.
    "oldblog",
    // 7. Fragments.
    "john=verp-customer.example",
    "verp-customer.example",
    "john doe",
    "quoted-example.org",
    "o'brien",
    "apostrophe-example.org",
    "a/b?c`d",
    "odd-local.org",
    "jürgen.müller",
    "bücher-beispiel.de",
    "192.0.2.44",
    "cb00:7116",
    "203.0.113.22",
    "203.000.113.025",
    "my_host.underscore-customer.com",
    "underscore-customer.com",
    "john:pw",
    "url-customer.com",
    "John Display",
    "program-customer.com",
    "filename-customer.de",
    // 8. Names under a host field that is a bare label.
    "shop-under-com.com",
    // Third parties in general.
    "192.0.2.60",
    "mx.bigisp-example.net",
    "newsletter-customer.org",
];

fn line(t: &str, host: &str, prog: &str, msg: &str) -> String {
    format!("Jan  5 {t} {host} {prog}: {msg}\n")
}

/// One message submitted by `id` and deferred with `reason`.
fn deferred(t: &str, qid: &str, from: &str, to: &str, reason: &str) -> String {
    line(t, OWN, "postfix/qmgr[20]", &format!("{qid}: from=<{from}>, size=900, nrcpt=1 (queue active)"))
        + &line(t, OWN, "postfix/smtp[21]", &format!("{qid}: to=<{to}>, relay=none, delay=1, delays=0/0/1/0, dsn=4.7.1, status=deferred ({reason})"))
}

/// The log: a burst by one SASL login before two lists name our IP, and
/// every fragment the issue lists in the texts the report quotes.
fn build_log() -> String {
    let mut log = String::new();
    // Earlier, steady sending by a newsletter, so the burst stands out.
    for i in 0..6 {
        let qid = format!("A{i:09X}");
        log += &line(&format!("0{i}:00:00"), OWN, "postfix/smtpd[10]", &format!("{qid}: client=unknown[192.0.2.61], sasl_method=PLAIN, sasl_username=news@newsletter-customer.org"));
        log += &line(
            &format!("0{i}:00:01"),
            OWN,
            "postfix/qmgr[20]",
            &format!(
                "{qid}: from=<news@newsletter-customer.org>, size=900, nrcpt=1 (queue active)"
            ),
        );
        log += &line(&format!("0{i}:00:02"), OWN, "postfix/smtp[21]", &format!("{qid}: to=<reader{i}@files-firma.zip>, relay=mx.files-firma.zip[192.0.2.62]:25, delay=1, delays=0/0/1/0, dsn=2.0.0, status=sent (250 ok)"));
    }
    // The burst: mikesmith sends to many domains, then the listings.
    let domains = [
        "poczta-firma.pl",
        "shop-firma.rs",
        "docs-firma.md",
        "tools-firma.py",
        "scripts-firma.sh",
        "relay-firma.cf",
    ];
    for i in 0..60 {
        let qid = format!("B{i:09X}");
        let t = format!("09:{:02}:{:02}", 10 + i / 2, (i % 2) * 30);
        let d = domains[i % domains.len()];
        log += &line(&t, OWN, "postfix/smtpd[11]", &format!("{qid}: client=unknown[::ffff:cb00:7116], sasl_method=LOGIN, sasl_username=mikesmith"));
        log += &line(
            &t,
            OWN,
            "postfix/qmgr[20]",
            &format!("{qid}: from=<mikesmith@{OWN}>, size=900, nrcpt=1 (queue active)"),
        );
        log += &line(&t, OWN, "postfix/smtp[21]", &format!("{qid}: to=<user{i}@{d}>, relay=mx.{d}[192.0.2.60]:25, delay=1, delays=0/0/1/0, dsn=2.0.0, status=sent (250 ok)"));
    }
    let spamhaus = |host: &str| {
        format!("host {host}[192.0.2.60] said: 554 5.7.1 Service unavailable; Client host [{OWN_IP}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{OWN_IP} (in reply to RCPT TO command)")
    };
    log += &deferred(
        "09:41:00",
        "C000000001",
        &format!("mikesmith@{OWN}"),
        "a@poczta-firma.pl",
        &spamhaus("mx.poczta-firma.pl"),
    );
    log += &deferred(
        "09:42:00",
        "C000000002",
        &format!("mikesmith@{OWN}"),
        "b@shop-firma.rs",
        &spamhaus("mx.shop-firma.rs"),
    );
    // A third refusal: two make no episode.
    log += &deferred(
        "09:42:30",
        "C000000009",
        &format!("mikesmith@{OWN}"),
        "b2@shop-firma.rs",
        &spamhaus("mx.shop-firma.rs"),
    );
    // 3 and 4: an unknown zone, and a receiver quoting a client's IP.
    let zone = "host mx.bigisp-example.net[192.0.2.60] said: 554 5.7.1 Client host [203.0.113.77] blocked using rbl.customer-zone.example; see http://rbl.customer-zone.example/";
    log += &deferred(
        "09:43:00",
        "C000000003",
        &format!("mikesmith@{OWN}"),
        "c@bigisp-example.net",
        zone,
    );
    log += &deferred(
        "09:44:00",
        "C000000004",
        &format!("mikesmith@{OWN}"),
        "d@bigisp-example.net",
        zone,
    );
    let spam = "host mx.bigcorp-mail.com[192.0.2.60] said: 550 5.7.1 Message rejected as spam by Content Filtering. (in reply to end of DATA command)";
    log += &deferred(
        "09:45:00",
        "C000000005",
        &format!("mikesmith@{OWN}"),
        "e@bigcorp-mail.com",
        spam,
    );
    log += &deferred(
        "09:46:00",
        "C000000006",
        &format!("mikesmith@{OWN}"),
        "f@bigcorp-mail.com",
        spam,
    );
    // 1: the postgrey reply naming the recipient's domain in a URL path.
    log += &deferred("09:47:00", "C000000007", "news@newsletter-customer.org", "amy@campus.example",
        "host mx.campus.example[192.0.2.60] said: 450 4.2.0 <amy@campus.example>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/campus.example.html (in reply to RCPT TO command)");
    // 7: fragments in texts that fall to `unknown` and are quoted as they are.
    for (i, reason) in [
        "host mx.odd[192.0.2.60] said: 451 4.3.0 <john=verp-customer.example@bounce.example.net> try later",
        "host mx.odd[192.0.2.60] said: 451 4.3.0 <\"john doe\"@quoted-example.org> try later",
        "host mx.odd[192.0.2.60] said: 451 4.3.0 <o'brien@apostrophe-example.org> and <a/b?c`d@odd-local.org> try later",
        "host mx.odd[192.0.2.60] said: 451 4.3.0 <jürgen.müller@bücher-beispiel.de> try later",
        "host mx.odd[192.0.2.60] said: 451 4.3.0 <info@[192.0.2.44]> try later",
        "host mx.odd[192.0.2.60] said: 451 4.3.0 client 203.000.113.025 and ::ffff:203.0.113.22 try later",
        // Its own cause (a full mailbox), so it is that cause's example:
        // one remote host among many makes no incident.
        "host my_host.underscore-customer.com[192.0.2.60] said: 452 4.2.2 Mailbox full try later",
        "host mx.odd[192.0.2.60] said: 451 4.3.0 see http://john:pw@www.url-customer.com/x try later",
        // 9: control and bidi characters; 10: a formula after a separator.
        "host mx.odd[192.0.2.60] said: 451 4.3.0 <evil\u{202E}gro.elpmaxe@x.example> \u{1b}[31m red\u{2028}x;=1+1;@SUM(1)",
    ]
    .iter()
    .enumerate()
    {
        log += &deferred(&format!("10:0{i}:00"), &format!("D00000000{i}"), "news@newsletter-customer.org", "z@bigisp-example.net", reason);
    }
    // 7: a display name in a header_checks reject, a program with its site.
    log += &line("10:20:00", OWN, "postfix/cleanup[30]", "E000000001: reject: header From: \"John Display\" <jd@display-example.org> from unknown[192.0.2.61]; from=<jd@display-example.org> to=<x@bigisp-example.net> proto=ESMTP helo=<pc>: 5.7.1 rejected");
    log += &line(
        "10:21:00",
        OWN,
        "wordpress(www.program-customer.com)[99]",
        "mail sent to zz@program-customer.com",
    );
    log += &line(
        "10:21:30",
        OWN,
        "postfix/smtp[21]",
        "this line is not understood: www.program-customer.com",
    );
    // 5: a local script of a customer's system user.
    log += &line(
        "10:22:00",
        OWN,
        "postfix/pickup[40]",
        "F000000001: uid=10005 from=<oldblog>",
    );
    log += &line(
        "10:22:01",
        OWN,
        "postfix/qmgr[20]",
        &format!("F000000001: from=<oldblog@{OWN}>, size=900, nrcpt=1 (queue active)"),
    );
    log += &line("10:22:02", OWN, "postfix/smtp[21]", "F000000001: to=<r@shop-firma.rs>, relay=mx.shop-firma.rs[192.0.2.60]:25, delay=1, delays=0/0/1/0, dsn=2.0.0, status=sent (250 ok)");
    // 8: a host field that is a top-level label.
    log += &line(
        "10:22:59",
        "com",
        "postfix/qmgr[51]",
        "G000000001: from=<x@shop-under-com.com>, size=900, nrcpt=1 (queue active)",
    );
    log += &line("10:23:00", "com", "postfix/smtp[50]", "G000000001: to=<u@shop-under-com.com>, relay=mx.shop-under-com.com[192.0.2.60]:25, delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to mx.shop-under-com.com[192.0.2.60]:25: Connection refused)");
    // 6: two identities whose former pseudonyms collide.
    for (i, login) in COLLIDING.iter().enumerate() {
        let qid = format!("H00000000{i}");
        log += &line(
            "10:24:00",
            OWN,
            "postfix/smtpd[12]",
            &format!("{qid}: client=unknown[192.0.2.61], sasl_method=LOGIN, sasl_username={login}"),
        );
        log += &line(
            "10:24:01",
            OWN,
            "postfix/qmgr[20]",
            &format!("{qid}: from=<{login}@{OWN}>, size=900, nrcpt=1 (queue active)"),
        );
        log += &line("10:24:02", OWN, "postfix/smtp[21]", &format!("{qid}: to=<w@shop-firma.rs>, relay=mx.shop-firma.rs[192.0.2.60]:25, delay=1, delays=0/0/1/0, dsn=2.0.0, status=sent (250 ok)"));
    }
    log
}

const DUMP: &str = "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------
C000000001     1234 Mon Jan  5 09:41:00  mikesmith@mx1.hosting-example.net
(host mx.poczta-firma.pl[192.0.2.60] said: 554 5.7.1 Client host [198.51.100.25] blocked using zen.spamhaus.org)
                                         a@poczta-firma.pl

F000000002     7074 Mon Jan  5 10:22:00  oldblog
(host mx.campus.example[192.0.2.60] said: 450 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/campus.example.html)
                                         \"john doe\"@quoted-example.org
                                         jürgen.müller@bücher-beispiel.de

D000000001     2048 Mon Jan  5 10:00:00  news@newsletter-customer.org
(host mx.odd[192.0.2.60] said: 451 4.3.0 client 203.000.113.025 and ::ffff:203.0.113.22 see http://john:pw@www.url-customer.com/x x;=1+1;@SUM(1) <evil\u{202E}gro.elpmaxe@x.example> \u{1b}[31m red\u{2028})
                                         o'brien@apostrophe-example.org
                                         a/b?c`d@odd-local.org
                                         info@[192.0.2.44]
                                         u@shop-under-com.com

-- 11 Kbytes in 3 Requests.
";

/// Writes the inputs and returns (temp dir, log dir, passwd file).
fn inputs() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("in");
    std::fs::create_dir(&logs).unwrap();
    // The input file's name names a customer too.
    std::fs::write(logs.join("mail.filename-customer.de.log"), build_log()).unwrap();
    std::fs::write(logs.join("postqueue-p.txt"), DUMP).unwrap();
    let passwd = tmp.path().join("passwd");
    std::fs::write(&passwd, "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/bin/false\noldblog:x:10005:10005::/var/www/vhosts/oldblog:/bin/false\n").unwrap();
    (tmp, logs, passwd)
}

/// Runs `analyze` and returns every output file's text and the terminal's.
fn run(args: &[&str], inputs: &[&Path], out: &Path) -> Vec<(String, String)> {
    let o = bin()
        .args(["analyze", "--year", "2026", "--out"])
        .arg(out)
        .args(args)
        .args(inputs)
        .output()
        .unwrap();
    assert!(
        o.status.code().is_some_and(|c| c == 0 || c == 2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut texts = vec![
        (
            "stdout".to_string(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        ),
        (
            "stderr".to_string(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        ),
    ];
    for e in std::fs::read_dir(out).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        texts.push((
            name,
            String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned(),
        ));
    }
    texts
}

/// Every (file, value) where a value appears, case-insensitively.
fn hits(texts: &[(String, String)], values: &[&str]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (name, text) in texts {
        let lower = text.to_lowercase();
        for v in values {
            if lower.contains(&v.to_lowercase()) {
                found.push((name.clone(), v.to_string()));
            }
        }
    }
    found
}

#[test]
fn every_case_of_the_issue_reaches_the_report_and_none_leaks_when_redacted() {
    let (tmp, logs, passwd) = inputs();
    let passwd_arg = passwd.to_string_lossy().into_owned();
    let plain = run(
        &["--passwd", &passwd_arg, "--messages"],
        &[&logs],
        &tmp.path().join("plain"),
    );
    let seen: Vec<String> = hits(&plain, SECRETS).into_iter().map(|(_, v)| v).collect();
    let missing: Vec<&&str> = SECRETS
        .iter()
        .filter(|s| !seen.iter().any(|v| v == **s))
        .collect();
    assert!(
        missing.is_empty(),
        "cases that never reach a report: {missing:?}"
    );

    assert!(
        plain.iter().any(|(_, t)| t.contains("<U+202E>")),
        "no bidi override reached the report (escaped)"
    );
    let red = run(
        &[
            "--passwd",
            &passwd_arg,
            "--messages",
            "--redact",
            "--salt",
            "t",
        ],
        &[&logs],
        &tmp.path().join("red"),
    );
    let leaks = hits(&red, SECRETS);
    assert!(leaks.is_empty(), "leaks: {leaks:?}");
    let names: Vec<&str> = red.iter().map(|(n, _)| n.as_str()).collect();
    for f in [
        "report.html",
        "summary.json",
        "queue.csv",
        "causes.csv",
        "suspects.csv",
        "senders.csv",
    ] {
        assert!(names.contains(&f), "{f} not written: {names:?}");
    }
    // What stays readable: our name and IP, the list, the portal, cause ids.
    let all: String = red.iter().map(|(_, t)| t.as_str()).collect();
    for kept in [
        OWN,
        OWN_IP,
        "zen.spamhaus.org",
        "https://check.spamhaus.org/",
        "blacklisted",
    ] {
        assert!(all.contains(kept), "{kept} was redacted");
    }
    // 9: no control or bidi character in any output.
    for (name, text) in &red {
        for bad in ['\u{202E}', '\u{2028}', '\u{1b}', '\0'] {
            assert!(!text.contains(bad), "{name} holds U+{:04X}", bad as u32);
        }
    }
    let json: serde_json::Value =
        serde_json::from_str(&red.iter().find(|(n, _)| n == "summary.json").unwrap().1).unwrap();
    assert_eq!(json["redacted"], true);
    assert_eq!(json["redaction_salt"], "given");
    // 10: the formula after a separator is inert and its cell quoted.
    for (name, text) in red.iter().filter(|(n, _)| n.ends_with(".csv")) {
        assert!(!text.contains(";=1+1"), "{name}: {text}");
    }
    let queue = &red.iter().find(|(n, _)| n == "queue.csv").unwrap().1;
    let cell = queue
        .lines()
        .find(|l| l.contains("=1+1"))
        .unwrap_or_else(|| panic!("{queue}"));
    assert!(cell.contains("\"host "), "not quoted: {cell}");
    assert!(cell.contains(";'=1+1;'@"), "{cell}");
    // 2: the suspect's fix names the same pseudonym as its identity.
    let suspect = &json["suspects"][0];
    let id = suspect["identity"].as_str().unwrap();
    assert!(id.starts_with("sasl:user-"), "{id}");
    let fix = suspect["fix"][0].as_str().unwrap();
    assert!(fix.contains(id.trim_start_matches("sasl:")), "{fix}");
}

#[test]
fn identities_whose_former_32_bit_pseudonyms_collide_stay_apart() {
    let (tmp, logs, _) = inputs();
    let red = run(
        &["--redact", "--salt", ""],
        &[&logs],
        &tmp.path().join("red"),
    );
    let json: serde_json::Value =
        serde_json::from_str(&red.iter().find(|(n, _)| n == "summary.json").unwrap().1).unwrap();
    let senders: Vec<&str> = json["top_senders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["identity"].as_str().unwrap())
        .filter(|id| id.starts_with("sasl:user-"))
        .collect();
    // mikesmith, news@..., and the two colliding logins: four identities.
    let mut distinct = senders.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), senders.len(), "{senders:?}");
    assert!(senders.len() >= 4, "{senders:?}");
    assert!(hits(&red, &COLLIDING).is_empty());
}

#[test]
fn without_a_salt_two_runs_differ_and_the_report_says_the_salt_was_random() {
    let (tmp, logs, _) = inputs();
    let a = run(&["--redact"], &[&logs], &tmp.path().join("a"));
    let b = run(&["--redact"], &[&logs], &tmp.path().join("b"));
    let suspect = |t: &[(String, String)]| {
        let json: serde_json::Value =
            serde_json::from_str(&t.iter().find(|(n, _)| n == "summary.json").unwrap().1).unwrap();
        assert_eq!(json["redaction_salt"], "random");
        json["suspects"][0]["identity"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_ne!(suspect(&a), suspect(&b));
    let file = |t: &[(String, String)], n: &str| t.iter().find(|(f, _)| f == n).unwrap().1.clone();
    assert!(file(&a, "report.html").contains("random salt"));
    assert!(
        file(&a, "stdout").contains("random salt"),
        "{}",
        file(&a, "stdout")
    );
}

/// The lab recording: every address, login, host name and IP of a third
/// party found in its logs, searched for in the redacted report.
#[test]
fn lab1_redacted_names_no_third_party() {
    let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lab-1");
    assert!(lab.join("logs").is_dir(), "{} is missing", lab.display());
    let mut text = String::new();
    for e in std::fs::read_dir(lab.join("logs")).unwrap() {
        let p = e.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        if p.extension().is_some_and(|x| x == "gz") {
            use std::io::Read;
            let mut s = String::new();
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_string(&mut s)
                .unwrap();
            text += &s;
        } else {
            text += &String::from_utf8_lossy(&bytes);
        }
    }
    let mut secrets: std::collections::BTreeSet<String> = Default::default();
    let address = regex::Regex::new(r"[A-Za-z0-9._%+=-]+@[A-Za-z0-9.-]+[A-Za-z]").unwrap();
    let host = regex::Regex::new(r"([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+)\[").unwrap();
    let login = regex::Regex::new(r"sasl_username=([^,\s]+)").unwrap();
    let ip = regex::Regex::new(r"\b(?:\d{1,3}\.){3}\d{1,3}\b").unwrap();
    secrets.extend(address.find_iter(&text).map(|m| m.as_str().to_string()));
    secrets.extend(host.captures_iter(&text).map(|c| c[1].to_string()));
    secrets.extend(login.captures_iter(&text).map(|c| c[1].to_string()));
    secrets.extend(ip.find_iter(&text).map(|m| m.as_str().to_string()));
    // Loopback stays (the lab's receivers and our IP live there), and so do
    // the public lists' names and portals.
    secrets.retain(|s| {
        !(s.starts_with("127.")
            || s == "(unavailable)"
            || ["spamhaus.org", "spamcop.net", "barracudacentral.org"]
                .iter()
                .any(|p| s.ends_with(p)))
    });
    assert!(secrets.len() > 2000, "{}", secrets.len());
    let tmp = tempfile::tempdir().unwrap();
    let red = run(
        &["--redact"],
        &[&lab.join("logs"), &lab.join("queue/postqueue-p.txt")],
        &tmp.path().join("r"),
    );
    let values: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let leaks = hits(&red, &values);
    assert!(
        leaks.is_empty(),
        "{} leaks, e.g. {:?}",
        leaks.len(),
        &leaks[..leaks.len().min(20)]
    );
    eprintln!(
        "lab-1: {} values searched in {} outputs: 0 hits",
        values.len(),
        red.len()
    );
}
