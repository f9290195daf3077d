//! Properties that must hold for any input: the parser and correlator take
//! any bytes without panicking, and where a log is cut into chunks, or how
//! it was compressed, does not change what is counted.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use proptest::prelude::*;

use postmortem::classify::Classifier;
use postmortem::correlate::{Correlator, Counts, YearPolicy};
use postmortem::input;
use postmortem::parse::{self, LineStats};

/// Realistic Postfix lines (and a few foreign ones) to build logs from,
/// taken from the shapes of the lab-1 recording.
const LINES: &[&str] = &[
    "Nov 28 18:30:12 mail postfix/pickup[18039]: D375AD054A: uid=33 from=<www-data>",
    "Nov 28 18:30:12 mail postfix/cleanup[18041]: D375AD054A: message-id=<20261128183012.D375AD054A@mail.lab.test>",
    "Nov 28 18:30:12 mail postfix/qmgr[18040]: D375AD054A: from=<www-data@lab.test>, size=360, nrcpt=1 (queue active)",
    "Nov 28 18:30:12 mail postfix/smtp[18070]: D375AD054A: to=<quinn.kim@gmail-like.test>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.06, delays=0.02/0.01/0/0.02, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as DDEDDD0543)",
    "Nov 28 18:30:12 mail postfix/qmgr[18040]: D375AD054A: removed",
    "Nov 28 18:30:12 mail postfix/smtpd[18075]: DDEDDD0543: client=localhost[127.0.0.1]",
    "Nov 28 18:30:12 mail postfix/qmgr[18040]: DDEDDD0543: from=<www-data@lab.test>, size=811, nrcpt=1 (queue active)",
    "Nov 28 18:30:13 mail postfix/smtp[18077]: DDEDDD0543: to=<quinn.kim@gmail-like.test>, relay=mx.gmail-like.test[127.0.0.60]:25, delay=0.3, delays=0/0/0.1/0.2, dsn=4.7.28, status=deferred (host mx.gmail-like.test[127.0.0.60] said: 421-4.7.28 Our system has detected an unusual rate of unsolicited mail (in reply to end of DATA command))",
    "Nov 28 18:30:14 mail last message repeated 3 times",
    "Nov 28 18:30:33 mail postfix/submission/smtpd[18085]: 3330AD0558: client=unknown[127.0.0.102], sasl_method=PLAIN, sasl_username=carol@lab.test",
    "Nov 28 18:30:33 mail postfix/qmgr[18040]: 3330AD0558: from=<carol@lab.test>, size=420, nrcpt=2 (queue active)",
    "Nov 28 18:30:34 mail postfix/smtp[18090]: 3330AD0558: to=<bob@outlook-like.test>, relay=mx.outlook-like.test[127.0.0.61]:25, delay=1, delays=0/0/0.5/0.5, dsn=5.7.1, status=bounced (host mx.outlook-like.test[127.0.0.61] said: 550 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org (in reply to RCPT TO command))",
    "Nov 28 18:30:34 mail postfix/bounce[18091]: 3330AD0558: sender non-delivery notification: 4A1B2C3D4E",
    "Nov 28 18:30:16 mail postfix/submission/smtpd[18085]: warning: unknown[127.0.0.89]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=info@lab.test",
    "Nov 28 18:31:00 mail postfix/smtpd[18100]: NOQUEUE: reject: RCPT from unknown[192.0.2.7]: 554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org; from=<x@spam.test> to=<bob@lab.test> proto=ESMTP helo=<spam.test>",
    "Nov 28 18:44:01 mail postfix/qmgr[18040]: 5F00AD0001: from=<bob@lab.test>, status=expired, returned to sender",
    "Nov 28 18:55:00 mail postfix/postsuper[1]: A2AA3D073B: placed on hold",
    "Nov 28 18:30:12 mail dovecot: imap-login: Login: user=<carol@lab.test>",
    "Nov 28 18:30:12 other postfix/qmgr[7]: D375AD054A: from=<x@other.test>, size=1, nrcpt=1 (queue active)",
    "garbage without a stamp",
];

fn classifier() -> &'static Classifier {
    static C: std::sync::OnceLock<Classifier> = std::sync::OnceLock::new();
    C.get_or_init(Classifier::builtin)
}

fn years() -> YearPolicy {
    YearPolicy {
        forced: None,
        anchor: Some((2026, 11, 29)),
    }
}

/// Parses and correlates `parts` in order, as the pipeline does.
fn run(parts: &[&[u8]]) -> (LineStats, Counts) {
    let mut c = Correlator::new(classifier(), years());
    let mut stats = LineStats::default();
    for p in parts {
        let parsed = parse::parse_chunk(p);
        c.consume(0, 1, p, &parsed.events);
        stats.merge(parsed.stats);
    }
    (stats, c.finish().counts)
}

fn line_totals(s: &LineStats) -> (u64, u64, u64, u64, u64) {
    (s.total, s.postfix, s.other, s.not_understood, s.no_header)
}

/// A log of `picks` lines from [`LINES`], with `\r\n` ends where asked.
fn log_from(picks: &[(usize, bool)]) -> Vec<u8> {
    let mut v = Vec::new();
    for &(i, crlf) in picks {
        v.extend_from_slice(LINES[i % LINES.len()].as_bytes());
        v.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_parse_and_correlate(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let (stats, _) = run(&[&bytes]);
        prop_assert_eq!(stats.total, stats.postfix + stats.other);
    }

    #[test]
    fn mangled_real_lines_parse_and_correlate(
        picks in proptest::collection::vec((0..LINES.len(), any::<bool>()), 1..40),
        cuts in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..20),
    ) {
        // Real lines with bytes replaced: the near misses hostile input is.
        let mut bytes = log_from(&picks);
        for (at, b) in cuts {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let (stats, _) = run(&[&bytes]);
        prop_assert!(stats.not_understood <= stats.postfix);
    }

    #[test]
    fn chunking_at_line_ends_changes_no_count(
        picks in proptest::collection::vec((0..LINES.len(), any::<bool>()), 1..120),
        parts in 1usize..12,
    ) {
        let bytes = log_from(&picks);
        let (whole_stats, whole_counts) = run(&[&bytes]);
        let pieces = input::split_lines(&bytes, parts);
        prop_assert_eq!(pieces.concat(), bytes.clone());
        let (split_stats, split_counts) = run(&pieces);
        prop_assert_eq!(line_totals(&whole_stats), line_totals(&split_stats));
        prop_assert_eq!(whole_stats.total, picks.len() as u64);
        prop_assert_eq!(format!("{whole_counts:?}"), format!("{split_counts:?}"));
    }
}

// ------------------------------------------------ gzip members, end to end

fn summary_of(dir: &Path, input: &Path) -> serde_json::Value {
    let out = dir.join(format!(
        "report-{}",
        input.file_name().unwrap().to_string_lossy()
    ));
    let st = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .arg("analyze")
        .arg(input)
        .args(["--year", "2026", "--quiet", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(0), "{}", input.display());
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

proptest! {
    // Each case runs the binary twice: few cases.
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// `cat a.gz b.gz > c.gz` is valid gzip (logrotate's and `gzip -c >>`'s
    /// output): every member is read, as if the file were plain.
    #[test]
    fn concatenated_gzip_members_read_like_the_plain_file(
        picks in proptest::collection::vec((0..LINES.len(), any::<bool>()), 1..200),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let bytes = log_from(&picks);
        let tmp = tempfile::tempdir().unwrap();
        let plain = tmp.path().join("maillog-20261128");
        std::fs::write(&plain, &bytes).unwrap();
        // Members cut anywhere, even inside a line.
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        at.push(0);
        at.push(bytes.len());
        at.sort_unstable();
        let mut gz = Vec::new();
        for w in at.windows(2) {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&bytes[w[0]..w[1]]).unwrap();
            gz.extend(e.finish().unwrap());
        }
        let packed = tmp.path().join("maillog-20261128.gz");
        std::fs::write(&packed, &gz).unwrap();
        let a = summary_of(tmp.path(), &plain);
        let b = summary_of(tmp.path(), &packed);
        prop_assert_eq!(&a["totals"], &b["totals"]);
        prop_assert_eq!(&a["lines"], &b["lines"]);
        prop_assert_eq!(&a["period"], &b["period"]);
    }
}
