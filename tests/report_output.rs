//! The report folder from a hand-built Summary: complete, with the documented
//! CSV headers, the HTML sections, hostile log text made inert, `--redact`
//! leaving no address or IP behind, and no half report after a failure.

mod common;

use common::{csv_cells, summary, SECTIONS};
use postmortem::model::*;
use postmortem::report::{render_html, write_report, RedactOptions, ReportOptions};
use std::path::Path;

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
            ".postmortem-report",
            "blacklist.csv",
            "causes.csv",
            "daemon_events.csv",
            "domains.csv",
            "evidence.csv",
            "inbound_rejects.csv",
            "incidents.csv",
            "local_failures.csv",
            "outgoing_limits.csv",
            "password_guessing.csv",
            "queue.csv",
            "queue_shape.csv",
            "rejects.csv",
            "report.html",
            "sasl_failures.csv",
            "sender_domains.csv",
            "senders.csv",
            "sizes.csv",
            "summary.json",
            "summary.md",
            "suspect-1-queued-ids.txt",
            "suspects.csv",
            "timeline.csv",
            "timeline_flow.csv",
            "traffic_daily.csv",
            "traffic_hourly.csv",
            "unclassified.csv",
        ]
    );
    // Every file but the marker that says the folder is postmortem's.
    assert_eq!(files.len(), names.len() - 1);
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
        "cause,title,deferral_events,deferred_messages,bounces,expired,share_of_deferrals,first,last,top_detail,example,fix,deleted"
    );
    assert_eq!(
        header("incidents.csv"),
        "cause,start,end,deferral_events,messages,share_of_deferrals,receivers,first_example,last_example,local_kind,local_lines,programs"
    );
    assert_eq!(
        header("blacklist.csv"),
        "list,receivers,first_seen,last_seen,deferrals,bounces,messages,recipient_domains,listed_ip,delisting_url,cause,example,standing,state,accepted_again,accepted_before,first_bounce"
    );
    assert_eq!(
        header("suspects.csv"),
        "rank,identity,kind,score,episode,messages,recipients,recipient_domains,share_of_outbound,burst_factor,unknown_recipient_share,refused_share,client_ips,failed_logins_before,evidence,fix,queued_ids_file,excess_recipients,suspicion,listing_onset,envelope_senders,home,ip_uses,bounce_notices,later_bursts,role,queued_file,review_ids_file,queued_spam,queued_review"
    );
    assert_eq!(
        header("senders.csv"),
        "identity,kind,messages,recipients,delivered,deferred,bounced,expired,rejected,first_seen,last_seen,discarded,bytes"
    );
    assert_eq!(
        header("traffic_hourly.csv"),
        "start,received,delivered,deferral_events,bounced,rejected,expired,bytes_received,bytes_delivered"
    );
    assert_eq!(header("traffic_daily.csv"), header("traffic_hourly.csv"));
    assert_eq!(
        header("domains.csv"),
        "domain,direction,sent,bytes,deferral_events,bounced,average_delay_seconds,max_delay_seconds,last_success,last_failure,last_cause,state"
    );
    assert_eq!(header("sender_domains.csv"), "domain,messages,bytes");
    assert_eq!(
        header("rejects.csv"),
        "client,reason,cause,count,first,last"
    );
    assert_eq!(
        header("sasl_failures.csv"),
        "client_ip,login,failures,first,last"
    );
    assert_eq!(header("sizes.csv"), "band,messages");
    assert_eq!(header("daemon_events.csv"), "event,text,count,first,last");
    assert_eq!(
        header("timeline_flow.csv"),
        "bucket_start,delivered,bounced,deferral_events"
    );
    assert_eq!(
        header("local_failures.csv"),
        "kind,title,severity,program,count,first,last,stops_mail,example,fix"
    );
    assert_eq!(
        header("outgoing_limits.csv"),
        "sender,identity,refused,first,last"
    );
    assert_eq!(header("evidence.csv"), "finding,about,file,line,time,text");
    assert_eq!(
        header("password_guessing.csv"),
        "kind,key,failures,distinct,first,last,login_after,login_after_ip,targets"
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
    for id in SECTIONS {
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
    // The listed IP is kept because the caller knows it is the server's:
    // one receiver naming it is not enough (see the redact module).
    o.redact = Some(RedactOptions {
        salt: "ticket-42".into(),
        keep: vec!["198.51.100.25".into()],
        ..Default::default()
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
    // summary.md too.
    assert_eq!(checked, 27);
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

/// The steps in order on the first screen and in summary.md, before the
/// problems' details; none said while the runbook is empty.
#[test]
fn the_runbook_is_on_the_first_screen_in_order() {
    let mut s = summary();
    s.runbook.push(RunbookStep {
        title: "Flush the queue, last".into(),
        commands: vec!["postqueue -f".into()],
        why: "Nothing argues against it any more.".into(),
    });
    let html = render_html(&s, &opts()).unwrap();
    let first = html
        .find("<ol class=\"runbook\">")
        .expect("runbook rendered");
    let a = html[first..]
        .find("<li><b>Stop the source: sasl:mike@studio-example.org</b><div class=\"note\">The login sent 412 messages from 31 new IPs before the first listing.</div><code class=\"cmd\">doveadm kick mike@studio-example.org</code></li>")
        .expect("first step");
    let b = html[first..]
        .find("<li><b>Flush the queue, last</b>")
        .expect("last step");
    assert!(a < b);
    assert!(first < html.find("<section id=\"problems\">").unwrap());
    let md = postmortem::report::render_markdown(&s, "UTC");
    let a = md
        .find("1. **Stop the source: sasl:mike@studio-example.org**")
        .expect(&md);
    let b = md.find("2. **Flush the queue, last**\n   Nothing argues against it any more.\n\n   ```sh\n   postqueue -f\n   ```").expect(&md);
    assert!(a < b);

    s.runbook.clear();
    let html = render_html(&s, &opts()).unwrap();
    assert!(!html.contains("runbook\">") && !html.contains("What to do, in order"));
    assert!(!postmortem::report::render_markdown(&s, "UTC").contains("What to do, in order"));
}

/// Each suspect's role and its cleanup files, linked with their counts.
#[test]
fn suspects_show_their_role_and_cleanup_files() {
    let mut s = summary();
    let mut second = s.suspects[0].clone();
    second.rank = 2;
    second.identity = "uid:33 (www-data)".into();
    second.role = SuspectRole::WhileListed;
    second.queued_file = Some("suspect-2-queued.csv".into());
    second.queued_ids_file = None;
    second.review_ids_file = Some("suspect-2-review-ids.txt".into());
    second.queued_spam = 0;
    second.queued_review = 4;
    s.suspects.push(second);
    // A name that is not a plain file of the folder is never a link.
    s.suspects[0].queued_file = Some("../../etc/passwd".into());
    s.suspects[0].queued_spam = 3;
    let html = render_html(&s, &opts()).unwrap();
    let table = &html[html.find("id=\"suspects-table\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(
        table.contains("<span class=\"role cause\">cause of the listing</span>"),
        "{table}"
    );
    assert!(
        table
            .contains("<span class=\"role while_listed\">sent while listed (not the cause)</span>"),
        "{table}"
    );
    assert!(table.contains("<a href=\"suspect-1-queued-ids.txt\">suspect-1-queued-ids.txt</a> <span class=\"note\">3 ids to delete (spam evidence): postsuper -d - &lt; file</span>"), "{table}");
    assert!(table.contains("<a href=\"suspect-2-queued.csv\">suspect-2-queued.csv</a> <span class=\"note\">its 4 queued messages with their evidence</span>"), "{table}");
    assert!(table.contains("<a href=\"suspect-2-review-ids.txt\">suspect-2-review-ids.txt</a> <span class=\"note\">4 ids to review before anything is done</span>"), "{table}");
    assert!(!html.contains("etc/passwd\""), "a path became a link");
    let dir = tempfile::tempdir().unwrap();
    write_report(&s, &dir.path().join("r"), &opts()).unwrap();
    let rows = csv_cells(&read(&dir.path().join("r/suspects.csv")));
    let col = |name: &str| rows[0].iter().position(|c| c == name).expect(name);
    assert_eq!(rows[2][col("role")], "while_listed");
    assert_eq!(rows[2][col("review_ids_file")], "suspect-2-review-ids.txt");
    assert_eq!(rows[2][col("queued_review")], "4");
}
