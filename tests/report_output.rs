//! The report folder from a hand-built Summary: complete, with the documented
//! CSV headers, the HTML sections, hostile log text made inert, `--redact`
//! leaving no address or IP behind, and no half report after a failure.

use postmortem::model::*;
use postmortem::report::{render_html, write_report, RedactOptions, ReportOptions};
use std::path::Path;

/// Realistic values, close to the lab recording in samples/.
fn summary() -> Summary {
    Summary {
        schema_version: SCHEMA_VERSION,
        tool_version: "0.1.0".into(),
        headline: vec![HeadlineItem {
            cause: "blacklisted".into(),
            title: "Server IP blacklisted".into(),
            text: "The server is blacklisted since 2025-12-29 10:21: zen.spamhaus.org, microsoft. 460 messages refused or delayed.".into(),
            start: Some("2025-12-29T10:21:55".into()),
            end: Some("2026-01-03T10:21:27".into()),
            messages: 460,
            evidence: Some("Most likely source: sasl:mike@studio-example.org (score 52) from 185.243.145.11".into()),
            fix: vec!["Check the listing: `dig +short 25.100.51.198.zen.spamhaus.org`.".into()],
        }, HeadlineItem {
            cause: "content_filter_down".into(),
            title: "Content filter down".into(),
            text: "Content filter down from 2025-12-30 10:17 to 2025-12-30 12:05: 30 messages held up.".into(),
            start: Some("2025-12-30T10:17:34".into()),
            end: Some("2025-12-30T12:05:56".into()),
            messages: 30,
            evidence: Some("connect to 127.0.0.1[127.0.0.1]:10024: Connection refused".into()),
            fix: vec!["Restart it and Postfix: `systemctl restart amavis && postfix reload`".into()],
        }],
        inputs: vec![InputInfo {
            path: "samples/mail.log.2.gz".into(),
            kind: "maillog".into(),
            compressed: true,
            bytes: 61752,
            lines: 3305,
            first: Some("2025-12-27T06:43:55".into()),
            last: Some("2025-12-28T06:23:02".into()),
            problems: vec![],
        }],
        period: Period {
            first: Some("2025-12-27T06:43:55".into()),
            last: Some("2026-01-03T10:35:20".into()),
            timezone: "local".into(),
            year_inferred: Some(2025),
            year_source: Some("inferred from the newest file's modification date".into()),
        },
        lines: LineCounts {
            total: 51584,
            postfix: 45039,
            other: 6545,
            not_understood: 1,
            not_understood_examples: vec!["Dec 30 10:16:18 mx1 postfix/smtp[4242]: odd line from bob@shop-example.net".into()],
            by_program: vec![ProgramCount { program: "postfix/smtp".into(), lines: 16355 }],
            not_understood_by_program: vec![ProgramCount { program: "postfix/smtp".into(), lines: 1 }],
        },
        totals: Totals {
            received: 2120,
            delivered: 3823,
            deferral_events: 4490,
            deferred_messages: 197,
            bounced: 1000,
            expired: 2,
            rejected: 114,
            held: 6,
        },
        causes: vec![CauseRow {
            cause: "blacklisted".into(),
            title: "Server IP blacklisted".into(),
            deferral_events: 1665,
            deferred_messages: 55,
            bounces: 395,
            expired: 0,
            share_of_deferrals: 37.1,
            first: Some("2025-12-29T10:21:55".into()),
            last: Some("2026-01-03T10:21:27".into()),
            top_detail: Some("zen.spamhaus.org".into()),
            example: Some("host mx1.telco-example.fr[192.0.2.32] said: 550 5.7.1 Service unavailable; Client host [198.51.100.25] blocked using zen.spamhaus.org".into()),
            fix: vec!["Stop the source first.".into()],
        }],
        incidents: vec![Incident {
            cause: "content_filter_down".into(),
            start: "2025-12-30T10:16:18".into(),
            end: "2025-12-30T12:06:21".into(),
            deferral_events: 228,
            messages: 30,
            share_of_deferrals: 5.1,
            receivers: vec![],
            first_example: Some("connect to 127.0.0.1[127.0.0.1]:10024: Connection refused".into()),
            last_example: None,
        }],
        timeline: Timeline {
            bucket_seconds: 3600,
            rows: vec![
                TimelineRow { bucket_start: "2025-12-30T10:00:00".into(), cause: "content_filter_down".into(), deferral_events: 120, deferred_messages: 20 },
                TimelineRow { bucket_start: "2025-12-30T11:00:00".into(), cause: "content_filter_down".into(), deferral_events: 108, deferred_messages: 18 },
                TimelineRow { bucket_start: "2025-12-30T11:00:00".into(), cause: "blacklisted".into(), deferral_events: 40, deferred_messages: 9 },
            ],
        },
        unclassified: vec![TextCount { text: "host mx.odd-example.com[203.0.113.9] said: 451 try later, carol@corp-example.com".into(), count: 3, cause: None }],
        blacklistings: vec![BlacklistEpisode {
            list: "zen.spamhaus.org".into(),
            receivers: vec!["mx1.telco-example.fr".into()],
            first_seen: "2025-12-29T10:21:55".into(),
            last_seen: "2025-12-30T14:52:34".into(),
            deferrals: 0,
            bounces: 172,
            messages: 126,
            recipient_domains: 2,
            example: "host mx1.telco-example.fr[192.0.2.32] said: 550 5.7.1 Service unavailable; Client host [198.51.100.25] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/198.51.100.25".into(),
            listed_ip: Some("198.51.100.25".into()),
            delisting_url: Some("https://check.spamhaus.org/".into()),
            cause: "blacklisted".into(),
        }],
        suspects: vec![Suspect {
            rank: 1,
            identity: "sasl:mike@studio-example.org".into(),
            kind: "sasl".into(),
            score: 52.0,
            episode: "zen.spamhaus.org, microsoft".into(),
            messages: 50,
            recipients: 307,
            recipient_domains: 46,
            share_of_outbound: 48.0,
            burst_factor: 353.5,
            unknown_recipient_share: 34.5,
            refused_share: 0.0,
            client_ips: vec!["185.243.145.11".into(), "2001:db8:77::5".into()],
            failed_logins_before: 286,
            evidence: vec!["286 failed logins for mike@studio-example.org from 185.243.145.11 before the listing".into()],
            fix: vec!["Reset the password of mike@studio-example.org: `doveadm pw`".into()],
            queued_ids_file: Some("suspect-1-queued-ids.txt".into()),
        }],
        top_senders: vec![SenderRow {
            identity: "sender:oldblog@mx1.hosting-example.net".into(),
            kind: "sender".into(),
            messages: 665,
            recipients: 672,
            delivered: 639,
            deferred: 163,
            bounced: 25,
            expired: 0,
            rejected: 0,
            first_seen: Some("2025-12-27T07:14:19".into()),
            last_seen: Some("2026-01-03T10:34:27".into()),
        }],
        inbound_rejects: vec![TextCount { text: "554 5.7.1 Client host [<ip>] blocked using zen.spamhaus.org".into(), count: 72, cause: Some("blacklisted".into()) }],
        queue: Some(QueueSummary {
            dump_time: "2026-01-03T10:35:20".into(),
            dump_time_source: "newest log line".into(),
            messages: 24,
            bytes: 415931,
            recipients: 25,
            by_queue: vec![KeyCount { key: "deferred".into(), messages: 18, bytes: 381930 }],
            by_cause: vec![KeyCount { key: "blacklisted".into(), messages: 10, bytes: 112935 }],
            by_sender: vec![KeyCount { key: "mike@studio-example.org".into(), messages: 6, bytes: 34001 }],
            by_recipient_domain: vec![KeyCount { key: "corp-example.com".into(), messages: 10, bytes: 1 }],
            age_bands: vec![],
            oldest: vec![QueuedMessageRow {
                queue_id: "9B336D0787".into(),
                queue: "hold".into(),
                arrival: "2025-12-29T10:52:19".into(),
                age_minutes: 7183,
                size: 7074,
                sender: "mike@studio-example.org".into(),
                recipients: vec!["zoe_hoffmann@gmail.com".into()],
                cause: "held".into(),
                reason: Some("host gmail-smtp-in.l.google.com[142.250.27.26] said: 421-4.7.0 unusual rate".into()),
                identity: Some("sasl:mike@studio-example.org".into()),
            }],
            shape: QueueShape {
                bucket_minutes: vec![5, 10, 20, 40, 80, 160, 320, 640, 1280],
                rows: vec![
                    QueueShapeRow { domain: "TOTAL".into(), total: 25, counts: vec![0, 0, 0, 0, 0, 0, 0, 0, 2, 23] },
                    QueueShapeRow { domain: "corp-example.com".into(), total: 10, counts: vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 10] },
                ],
            },
            shape_senders: QueueShape::default(),
            not_in_logs: 0,
        }),
        problems: vec!["samples/passwd: not a maillog or queue dump".into()],
        redacted: false,
    }
}

const XSS: &[&str] = &[
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "=HYPERLINK(\"http://evil\",\"x\")",
];

/// The same Summary with every stranger-controlled text replaced by attacks.
fn hostile() -> Summary {
    let mut s = summary();
    let all = XSS.join(" ");
    s.top_senders[0].identity = XSS[0].into();
    s.top_senders.push(SenderRow {
        identity: XSS[3].into(),
        kind: "sender".into(),
        ..Default::default()
    });
    s.top_senders.push(SenderRow {
        identity: "+cmd|' /C calc'!A0".into(),
        kind: "sender".into(),
        ..Default::default()
    });
    s.top_senders.push(SenderRow {
        identity: "@SUM(1+1)".into(),
        kind: "sender".into(),
        ..Default::default()
    });
    s.top_senders.push(SenderRow {
        identity: "-2+3".into(),
        kind: "sender".into(),
        ..Default::default()
    });
    s.suspects[0].identity = XSS[1].into();
    s.suspects[0].evidence = XSS.iter().map(|x| x.to_string()).collect();
    s.suspects[0].client_ips = vec![XSS[3].into()];
    s.queue.as_mut().unwrap().oldest[0].sender = XSS[1].into();
    s.queue.as_mut().unwrap().oldest[0].recipients = vec![XSS[0].into(), XSS[3].into()];
    s.unclassified[0].text = all.clone();
    s.unclassified.push(TextCount {
        text: XSS[3].into(),
        count: 1,
        cause: None,
    });
    s.inbound_rejects[0].text = XSS[3].into();
    s.lines.not_understood_examples = vec![all.clone()];
    s.headline[0].text = all.clone();
    s.headline[0].evidence = Some(all.clone());
    s.causes[0].example = Some(XSS[3].into());
    s.blacklistings[0].example = all.clone();
    s.blacklistings[0].delisting_url = Some(XSS[2].into());
    s.blacklistings.push(BlacklistEpisode {
        list: XSS[0].into(),
        delisting_url: Some(
            "https://check.spamhaus.org.evil.example/\"onmouseover=\"alert(1)".into(),
        ),
        example: XSS[1].into(),
        cause: "blacklisted".into(),
        ..Default::default()
    });
    s.incidents[0].receivers = vec![XSS[1].into()];
    s
}

fn opts() -> ReportOptions {
    ReportOptions {
        time_label: "server local time".into(),
        ..Default::default()
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Splits a CSV produced by polars into rows of cells (quotes handled).
fn csv_cells(text: &str) -> Vec<Vec<String>> {
    let mut rows = vec![];
    let mut row = vec![];
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    rows
}

#[test]
fn the_folder_is_complete_with_documented_headers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("incident-42");
    let mut o = opts();
    o.extra_files
        .push(("suspect-1-queued-ids.txt".into(), b"9B336D0787\n".to_vec()));
    o.extra_files.push((
        "queue.csv".into(),
        b"queue_id,sender\n9B336D0787,mike@studio-example.org\n".to_vec(),
    ));
    let files = write_report(&summary(), &out, &o).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "blacklist.csv",
            "causes.csv",
            "inbound_rejects.csv",
            "incidents.csv",
            "queue.csv",
            "queue_shape.csv",
            "report.html",
            "senders.csv",
            "summary.json",
            "suspect-1-queued-ids.txt",
            "suspects.csv",
            "timeline.csv",
            "unclassified.csv",
        ]
    );
    assert_eq!(files.len(), names.len());
    assert!(files.iter().all(|f| f.starts_with(&out) && f.is_file()));
    // No temporary folder left beside it.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");

    let header = |name: &str| {
        read(&out.join(name))
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        header("timeline.csv"),
        "bucket_start,cause,deferral_events,deferred_messages"
    );
    assert_eq!(
        header("causes.csv"),
        "cause,title,deferral_events,deferred_messages,bounces,expired,share_of_deferrals,first,last,top_detail,example,fix"
    );
    assert_eq!(
        header("incidents.csv"),
        "cause,start,end,deferral_events,messages,share_of_deferrals,receivers,first_example,last_example"
    );
    assert_eq!(
        header("blacklist.csv"),
        "list,receivers,first_seen,last_seen,deferrals,bounces,messages,recipient_domains,listed_ip,delisting_url,cause,example"
    );
    assert_eq!(
        header("suspects.csv"),
        "rank,identity,kind,score,episode,messages,recipients,recipient_domains,share_of_outbound,burst_factor,unknown_recipient_share,refused_share,client_ips,failed_logins_before,evidence,fix,queued_ids_file"
    );
    assert_eq!(
        header("senders.csv"),
        "identity,kind,messages,recipients,delivered,deferred,bounced,expired,rejected,first_seen,last_seen"
    );
    assert_eq!(header("unclassified.csv"), "text,count,cause");
    assert_eq!(header("inbound_rejects.csv"), "text,count,cause");
    assert_eq!(
        header("queue_shape.csv"),
        "domain,total,min_5,min_10,min_20,min_40,min_80,min_160,min_320,min_640,min_1280,min_1280_plus"
    );
    let shape = csv_cells(&read(&out.join("queue_shape.csv")));
    assert_eq!(
        shape[1],
        ["TOTAL", "25", "0", "0", "0", "0", "0", "0", "0", "0", "2", "23"]
    );
    // Lists are joined with "; ", times stay ISO 8601, numbers stay numbers.
    let suspects = csv_cells(&read(&out.join("suspects.csv")));
    assert_eq!(suspects[1][12], "185.243.145.11; 2001:db8:77::5");
    assert_eq!(suspects[1][9], "353.5");
    let timeline = csv_cells(&read(&out.join("timeline.csv")));
    assert_eq!(
        timeline[3],
        ["2025-12-30T11:00:00", "blacklisted", "40", "9"]
    );

    let json: serde_json::Value = serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    assert_eq!(json["totals"]["deferral_events"], 4490);
    assert_eq!(
        json["suspects"][0]["identity"],
        "sasl:mike@studio-example.org"
    );
}

#[test]
fn the_html_tells_the_story_in_its_sections() {
    let html = render_html(&summary(), &opts()).unwrap();
    for id in [
        "headline",
        "timeline",
        "incidents",
        "blacklist",
        "suspects",
        "senders",
        "queue",
        "unclassified",
        "coverage",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{id}\"")),
            "section {id} missing"
        );
    }
    // Problems first: the headline comes before the timeline and the coverage last.
    let pos = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing"))
    };
    assert!(pos("id=\"headline\"") < pos("id=\"timeline\""));
    assert!(pos("id=\"suspects\"") < pos("id=\"coverage\""));
    // Fix commands are in <code>, the chart is inline SVG with bars and a legend.
    assert!(html.contains("<code>systemctl restart amavis &amp;&amp; postfix reload</code>"));
    assert!(html.contains("<svg class=\"chart\""));
    assert!(html.matches("<rect x=").count() >= 3);
    assert!(html.contains("Content filter down"));
    // Only the allow-listed portal becomes a link.
    assert!(html.contains("<a href=\"https:&#x2f;&#x2f;check.spamhaus.org&#x2f;\""));
    // Coverage names the inferred year and the time label.
    assert!(html.contains("2025: inferred from the newest file"));
    assert!(html.contains("server local time"));
    // Self-contained: nothing loads from elsewhere.
    assert!(!html.contains("src=\"http") && !html.contains("@import") && !html.contains("url("));
    // Without a queue, no queue section.
    let mut s = summary();
    s.queue = None;
    assert!(!render_html(&s, &opts())
        .unwrap()
        .contains("<section id=\"queue\""));
}

#[test]
fn hostile_text_comes_out_inert() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hostile");
    write_report(&hostile(), &out, &opts()).unwrap();
    let html = read(&out.join("report.html"));
    assert!(
        !html.contains("<script>alert"),
        "raw script tag in the HTML"
    );
    assert!(!html.contains("<img"), "raw img tag in the HTML");
    assert!(!html.to_ascii_lowercase().contains("href=\"javascript:"));
    assert!(!html.contains("onmouseover=\""));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    // The bad delisting URLs are shown, as text.
    assert!(html.contains("<code>javascript:alert(1)</code>"));
    // Exactly one script element: ours.
    assert_eq!(html.matches("<script").count(), 1);

    let mut formula_cells = 0;
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "csv") {
            for row in csv_cells(&read(&path)) {
                for cell in row {
                    let first = cell.chars().next();
                    assert!(
                        !(matches!(first, Some('=' | '+' | '@' | '\t' | '\r'))
                            || first == Some('-') && cell.parse::<f64>().is_err()),
                        "{}: cell {cell:?} is a formula",
                        path.display()
                    );
                    if cell.starts_with("'=")
                        || cell.starts_with("'+")
                        || cell.starts_with("'@")
                        || cell.starts_with("'-")
                    {
                        formula_cells += 1;
                    }
                }
            }
        }
    }
    // senders (4), suspects client_ips, unclassified, inbound, causes example.
    assert!(formula_cells >= 8, "only {formula_cells} neutralised cells");
    let senders = read(&out.join("senders.csv"));
    assert!(
        senders.contains("'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")"),
        "{senders}"
    );
    assert!(senders.contains("'-2+3"));
}

#[test]
fn redacted_reports_name_no_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("redacted");
    let mut o = opts();
    o.redact = Some(RedactOptions {
        salt: "ticket-42".into(),
        keep: vec![],
    });
    o.extra_files.push((
        "queue.csv".into(),
        b"queue_id,sender,recipient\n9B336D0787,mike@studio-example.org,zoe_hoffmann@gmail.com\n"
            .to_vec(),
    ));
    write_report(&summary(), &out, &o).unwrap();
    let secrets = [
        "mike@studio-example.org",
        "mike",
        "studio-example.org",
        "zoe_hoffmann",
        "oldblog",
        "bob@shop-example.net",
        "carol@corp-example.com",
        "185.243.145.11",
        "2001:db8:77::5",
        "192.0.2.32",
        "203.0.113.9",
        "142.250.27.26",
        "telco-example.fr",
        "mx.odd-example.com",
    ];
    let mut checked = 0;
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        let text = read(&path);
        for s in secrets {
            assert!(!text.contains(s), "{} still contains {s}", path.display());
        }
        checked += 1;
    }
    assert_eq!(checked, 12);
    let json: serde_json::Value = serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    assert_eq!(json["redacted"], true);
    // Still readable: list names, cause ids, the delisting URL, our listed IP.
    let s = read(&out.join("summary.json"));
    for kept in [
        "zen.spamhaus.org",
        "content_filter_down",
        "https://check.spamhaus.org/",
        "198.51.100.25",
        "127.0.0.1[127.0.0.1]:10024",
    ] {
        assert!(s.contains(kept), "{kept} was redacted");
    }
    // The same login has the same pseudonym everywhere.
    let identity = json["suspects"][0]["identity"].as_str().unwrap();
    assert!(identity.starts_with("sasl:user-"), "{identity}");
    let pseudonym = identity.trim_start_matches("sasl:");
    assert_eq!(json["queue"]["oldest"][0]["sender"], pseudonym);
    assert!(read(&out.join("queue.csv")).contains(pseudonym));
}

#[test]
fn an_existing_folder_is_refused_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    write_report(&summary(), &out, &opts()).unwrap();
    let err = write_report(&summary(), &out, &opts()).unwrap_err();
    assert!(
        matches!(err, postmortem::Error::OutputExists { .. }),
        "{err}"
    );
    // With force, the old report is replaced.
    let mut s = summary();
    s.totals.deferral_events = 7;
    let o = ReportOptions {
        force: true,
        ..opts()
    };
    write_report(&s, &out, &o).unwrap();
    assert!(read(&out.join("summary.json")).contains("\"deferral_events\": 7"));
    // Force never replaces a folder that is not a report.
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(home.join("notes.txt"), "mine").unwrap();
    assert!(write_report(&s, &home, &o).is_err());
    assert_eq!(read(&home.join("notes.txt")), "mine");
}

#[test]
fn a_failed_write_leaves_nothing_that_looks_complete() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("broken");
    let mut o = opts();
    // A second file of a name already written fails half-way through.
    o.extra_files.push(("summary.json".into(), b"{}".to_vec()));
    assert!(write_report(&summary(), &out, &o).is_err());
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "temporary folder left behind"
    );
    // A file name that would leave the folder is refused too.
    let mut o = opts();
    o.extra_files.push(("../escape.txt".into(), b"x".to_vec()));
    assert!(write_report(&summary(), &out, &o).is_err());
    assert!(!out.exists() && !dir.path().join("escape.txt").exists());
}

#[test]
fn long_tables_are_capped_in_the_html_not_in_the_csv() {
    let mut s = summary();
    s.top_senders = (0..20_000)
        .map(|i| SenderRow {
            identity: format!("sender:user{i}@customer-{i}.example.net"),
            kind: "sender".into(),
            messages: 20_000 - i,
            ..Default::default()
        })
        .collect();
    s.unclassified = (0..20_000)
        .map(|i| TextCount {
            text: format!(
                "host mx{i}.example.net[192.0.2.{}] said: 451 4.3.0 temporary failure number {i}",
                i % 250
            ),
            count: 1,
            cause: None,
        })
        .collect();
    let html = render_html(&s, &opts()).unwrap();
    assert!(html.len() < 1_000_000, "{} bytes", html.len());
    assert!(html.contains("sender:user199@"));
    assert!(!html.contains("sender:user200@"));
    assert!(html.contains(
        "Showing the first 200 of 20000 rows; all of them are in <code>senders.csv</code>"
    ));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big");
    write_report(&s, &out, &opts()).unwrap();
    assert_eq!(read(&out.join("senders.csv")).lines().count(), 20_001);
}
