//! The report in a real browser: headless Chromium loads report.html from a
//! hand-built Summary, the sections exist in the DOM, nothing is fetched
//! from elsewhere, and a screenshot is saved for review
//! (target/report-screenshot.png). Then the real reports of lab-1, the
//! samples and a quiet public2 server, at 1366 and 400 px: no table, block or chart wider than its
//! container and no chart label clipped (measured in the page,
//! tests/fixtures/measure.js), with screenshots in target/screenshots/.
//! Skips when Chromium is not installed.

mod common;
#[path = "common/corpus.rs"]
mod shared;

use common::SECTIONS;
use postmortem::model::*;
use postmortem::report::{write_report, ReportOptions};
use std::path::PathBuf;
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    let fixed = PathBuf::from("/usr/bin/chromium");
    if fixed.is_file() {
        return Some(fixed);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

/// A day and a half of hourly buckets, so the chart has bars to draw.
fn summary() -> Summary {
    let mut timeline = Vec::new();
    for h in 0..36u64 {
        let (day, hour) = (29 + (h + 8) / 24, (h + 8) % 24);
        let stamp = format!("2025-12-{day:02}T{hour:02}:00:00");
        if (10..14).contains(&h) {
            timeline.push(TimelineRow {
                bucket_start: stamp.clone(),
                cause: "content_filter_down".into(),
                deferral_events: 40 + h,
                deferred_messages: 9,
            });
        }
        if h >= 2 {
            timeline.push(TimelineRow {
                bucket_start: stamp.clone(),
                cause: "blacklisted".into(),
                deferral_events: 15 + h % 7,
                deferred_messages: 4,
            });
        }
        timeline.push(TimelineRow {
            bucket_start: stamp,
            cause: "remote_unavailable".into(),
            deferral_events: 2,
            deferred_messages: 1,
        });
    }
    Summary {
        schema_version: SCHEMA_VERSION,
        tool_version: "0.1.0".into(),
        headline: vec![
            HeadlineItem {
                cause: "blacklisted".into(),
                title: "Server IP blacklisted".into(),
                text: "The server is blacklisted since 2025-12-29 10:21 by zen.spamhaus.org: 460 messages refused or delayed.".into(),
                start: Some("2025-12-29T10:21:55".into()),
                end: Some("2025-12-30T19:40:00".into()),
                messages: 460,
                evidence: Some("Most likely source: sasl:mike@studio-example.org (score 52)".into()),
                fix: vec!["Stop the source first: `postsuper -d - < suspect-1-queued-ids.txt`.".into()],
                ..Default::default()
            },
            HeadlineItem {
                cause: "content_filter_down".into(),
                title: "Content filter down".into(),
                text: "Content filter down from 2025-12-29 18:00 to 2025-12-29 21:59: 30 messages held up.".into(),
                start: Some("2025-12-29T18:00:00".into()),
                end: Some("2025-12-29T21:59:00".into()),
                messages: 30,
                evidence: Some("connect to 127.0.0.1[127.0.0.1]:10024: Connection refused".into()),
                fix: vec!["Restart it and Postfix: `systemctl restart amavis && postfix reload`".into()],
                ..Default::default()
            },
        ],
        period: Period {
            first: Some("2025-12-29T08:00:00".into()),
            last: Some("2025-12-30T19:59:00".into()),
            timezone: "local".into(),
            year_inferred: Some(2025),
            year_source: Some("the newest file's modification date".into()),
            ..Default::default()
        },
        totals: Totals { received: 2120, delivered: 3823, deferral_events: 1900, deferred_messages: 197, bounced: 40, ..Default::default() },
        causes: vec![CauseRow {
            cause: "blacklisted".into(),
            title: "Server IP blacklisted".into(),
            deferral_events: 600,
            share_of_deferrals: 60.0,
            example: Some("host mx1.telco-example.fr[192.0.2.32] said: 550 5.7.1 blocked using zen.spamhaus.org".into()),
            ..Default::default()
        }],
        incidents: vec![Incident {
            cause: "content_filter_down".into(),
            start: "2025-12-29T18:00:00".into(),
            end: "2025-12-29T21:59:00".into(),
            deferral_events: 180,
            messages: 30,
            share_of_deferrals: 9.5,
            ..Default::default()
        }],
        timeline: Timeline { bucket_seconds: 3600, rows: timeline, ..Default::default() },
        unclassified: vec![TextCount { text: "host mx.odd-example.com[203.0.113.9] said: 451 try later".into(), count: 3, cause: None }],
        blacklistings: vec![BlacklistEpisode {
            list: "zen.spamhaus.org".into(),
            receivers: vec!["mx1.telco-example.fr".into()],
            first_seen: "2025-12-29T10:21:55".into(),
            last_seen: "2025-12-30T14:52:34".into(),
            bounces: 172,
            messages: 126,
            recipient_domains: 2,
            example: "host mx1.telco-example.fr[192.0.2.32] said: 550 5.7.1 Service unavailable; Client host [198.51.100.25] blocked using zen.spamhaus.org".into(),
            listed_ip: Some("198.51.100.25".into()),
            delisting_url: Some("https://check.spamhaus.org/".into()),
            cause: "blacklisted".into(),
            ..Default::default()
        }],
        suspects: vec![Suspect {
            rank: 1,
            identity: "sasl:mike@studio-example.org".into(),
            kind: "sasl".into(),
            score: 52.0,
            messages: 50,
            recipients: 307,
            recipient_domains: 46,
            evidence: vec!["<script>alert(1)</script> sent 50 messages to 307 recipients".into()],
            fix: vec!["Reset the password: `doveadm pw`".into()],
            ..Default::default()
        }],
        top_senders: vec![SenderRow { identity: "uid:10002 (shopnews)".into(), kind: "uid".into(), messages: 665, ..Default::default() }],
        queue: Some(QueueSummary {
            dump_time: "2025-12-30T19:59:00".into(),
            messages: 24,
            recipients: 25,
            shape: QueueShape {
                bucket_minutes: vec![5, 10, 20, 40, 80, 160, 320, 640, 1280],
                rows: vec![QueueShapeRow { domain: "TOTAL".into(), total: 25, counts: vec![0, 0, 0, 0, 0, 0, 0, 0, 2, 23] }],
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Nothing points outside but in-page anchors, the allow-listed portal and
/// the report folder's own files by their plain names.
fn links_stay_in_the_folder(dom_text: &str) {
    let links: Vec<&str> = dom_text
        .match_indices("href=\"")
        .map(|(i, _)| &dom_text[i + 6..])
        .collect();
    for l in &links {
        let target = &l[..l.find('"').unwrap_or(l.len())];
        // In-page anchors, the allow-listed portal, or a file of the
        // report folder by its plain name.
        let own_file = !target.is_empty()
            && target
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            && !target.starts_with('.');
        assert!(
            target.starts_with('#') || target == "https://check.spamhaus.org/" || own_file,
            "link to {target}"
        );
    }
}

fn run(browser: &PathBuf, args: &[&str], url: &str) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(args)
    .arg(url);
    cmd.output().expect("chromium runs")
}

#[test]
fn the_report_renders_in_chromium_without_the_network() {
    let Some(browser) = chromium() else {
        eprintln!("SKIP browser test: chromium not found (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    write_report(&summary(), &out, &ReportOptions::default()).unwrap();
    let html_path = out.join("report.html");
    let url = format!("file://{}", html_path.display());
    let netlog = dir.path().join("netlog.json");

    let dom = run(
        &browser,
        &["--dump-dom", &format!("--log-net-log={}", netlog.display())],
        &url,
    );
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.status.success() && dom_text.contains("</html>"),
        "chromium failed: {}",
        String::from_utf8_lossy(&dom.stderr)
    );
    for id in SECTIONS {
        assert!(
            dom_text.contains(&format!("id=\"{id}\"")),
            "section {id} missing from the DOM"
        );
    }
    // The chart was parsed as SVG with bars; the sort script ran (it marks headers).
    assert!(dom_text.contains("<svg class=\"chart\""));
    assert!(dom_text.matches("<rect ").count() > 30);
    assert!(
        dom_text.contains("class=\"sortable\""),
        "the sort script did not run"
    );
    // The hostile evidence is text in the DOM, not an element.
    assert!(dom_text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_eq!(dom_text.matches("<script").count(), 1);

    // Nothing points outside except the allow-listed delisting portal.
    let html = std::fs::read_to_string(&html_path).unwrap();
    for bad in [
        "src=\"http",
        "src='http",
        "@import",
        "url(",
        "<link",
        "<img",
        "<iframe",
    ] {
        assert!(
            !html.contains(bad) && !dom_text.contains(bad),
            "{bad} found"
        );
    }
    links_stay_in_the_folder(&dom_text);
    // The net log (when this chromium writes one) shows no request but the
    // browser's own background calls to Google's update and account services.
    if let Ok(log) = std::fs::read_to_string(&netlog) {
        const BROWSER_OWN: [&str; 4] = ["google.com", "googleapis.com", "gstatic.com", "gvt1.com"];
        for (i, _) in log.match_indices("\"url\":\"http") {
            let url = &log[i + 7..];
            let url = &url[..url.find('"').unwrap_or(url.len())];
            let host = url
                .split("://")
                .nth(1)
                .unwrap_or("")
                .split(['/', ':', '?'])
                .next()
                .unwrap_or("");
            assert!(
                BROWSER_OWN
                    .iter()
                    .any(|d| host == *d || host.ends_with(&format!(".{d}"))),
                "a request left the page: {url}"
            );
        }
    }

    // Under the build folder (CARGO_TARGET_DIR may put it outside the clone).
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    std::fs::create_dir_all(&target).expect("build folder");
    let shot = target.join("report-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    let out = run(
        &browser,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000",
        ],
        &url,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "screenshot is {} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());
}

/// The build folder (CARGO_TARGET_DIR may put it outside the clone).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Headless Chromium's window is at least 500 px wide: narrower widths
/// are measured in a frame of that width inside a wrapper page.
fn frame_page(dir: &std::path::Path, width: u32, height: u32) -> PathBuf {
    let page = dir.join(format!("frame-{width}.html"));
    std::fs::write(
        &page,
        format!(
            r#"<!DOCTYPE html><html><body style="margin:0">
<iframe src="measure.html" style="border:0;width:{width}px;height:{height}px"></iframe>
<pre id="pm-measure"></pre>
<script>window.addEventListener("message", function (e) {{ document.getElementById("pm-measure").textContent = e.data; }});</script>
</body></html>"#
        ),
    )
    .unwrap();
    page
}

/// Measures report.html in `dir` at `width` px, with `css` added (to show
/// that the check fails on a broken layout): the findings, one a line,
/// the first being `STATS ...`.
fn measure(browser: &PathBuf, dir: &std::path::Path, width: u32, css: &str) -> Vec<String> {
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let at = html.find("'nonce-").expect("the page has a script nonce") + 7;
    let nonce = &html[at..at + html[at..].find('\'').unwrap()];
    let script = include_str!("fixtures/measure.js");
    let page = html.replace(
        "</body>",
        &format!("<style>{css}</style><script nonce=\"{nonce}\">{script}</script></body>"),
    );
    std::fs::write(dir.join("measure.html"), page).unwrap();
    let wrapper = frame_page(dir, width, 900);
    let window = format!("--window-size={},1000", width.max(500));
    let out = run(
        browser,
        &["--dump-dom", "--virtual-time-budget=3000", &window],
        &format!("file://{}", wrapper.display()),
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    let key = "<pre id=\"pm-measure\">";
    let start = dom.rfind(key).expect("the wrapper page was dumped") + key.len();
    let text = &dom[start..start + dom[start..].find("</pre>").unwrap()];
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .lines()
        .map(str::to_string)
        .collect()
}

/// Saves what a reader sees first at `width` px.
fn screenshot(browser: &PathBuf, dir: &std::path::Path, width: u32, shot: &std::path::Path) {
    let _ = std::fs::remove_file(shot);
    let (url, window) = if width >= 500 {
        (
            dir.join("report.html"),
            format!("--window-size={width},900"),
        )
    } else {
        (
            frame_page(dir, width, 1800),
            "--window-size=500,1800".to_string(),
        )
    };
    let out = run(
        browser,
        &[
            &format!("--screenshot={}", shot.display()),
            "--virtual-time-budget=2000",
            &window,
        ],
        &format!("file://{}", url.display()),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000);
}

#[test]
fn real_reports_fit_at_1366_and_400_px() {
    let Some(browser) = chromium() else {
        eprintln!("SKIP browser test: chromium not found (apt-get install chromium)");
        return;
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut cases: Vec<(&str, Vec<PathBuf>)> = vec![("samples", vec![root.join("samples")])];
    // A real server's log with no incident: a chart without lanes.
    if let Some(quiet) = shared::corpus("public2/kai0200-sohu-emaillog") {
        cases.push(("public2-kai0200", vec![quiet]));
    }
    if let Some(logs) = common::run::lab_logs() {
        let queue = logs.join("../queue/postqueue-p.txt");
        cases.push(("lab-1", vec![logs, queue]));
    }
    let shots = target_dir().join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for (name, inputs) in &cases {
        let dir = tmp.path().join(name);
        let paths: Vec<&std::path::Path> = inputs.iter().map(PathBuf::as_path).collect();
        let r = common::run::analyze_in(&dir, &paths, &[], std::time::Duration::from_secs(120));
        assert!(r.summary.is_some(), "{name}: {}", r.stderr);
        for width in [1366, 400] {
            let found = measure(&browser, &dir, width, "");
            eprintln!("{name} at {width} px: {}", found.join("; "));
            let stats = found.first().expect("the page was measured");
            assert!(
                stats.starts_with(&format!("STATS viewport={width} ")),
                "{name} at {width}: {stats}"
            );
            // Tables and the chart with its labels were there to measure.
            assert!(
                !stats.contains(" tables=0 ") && stats.contains(" charts=1 "),
                "{stats}"
            );
            assert!(!stats.ends_with(" labels=0"), "{stats}");
            assert_eq!(found.len(), 1, "{name} at {width} px: {found:#?}");
            let shot = shots.join(format!("{name}-{width}.png"));
            screenshot(&browser, &dir, width, &shot);
            eprintln!("screenshot: {}", shot.display());
        }
    }
    // The check sees a broken layout: cells that may not wrap, labels too
    // big for the chart.
    let (name, _) = &cases[cases.len() - 1];
    let broken = measure(
        &browser,
        &tmp.path().join(name),
        400,
        "td, th, code, .evidence { white-space: pre !important; overflow-wrap: normal !important; word-break: normal !important; } .chart text { font-size: 40px !important; }",
    );
    assert!(broken.iter().any(|l| l.starts_with("WIDE ")), "{broken:#?}");
    assert!(
        broken.iter().any(|l| l.starts_with("CLIPPED ")),
        "{broken:#?}"
    );
}
