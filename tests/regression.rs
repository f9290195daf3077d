//! One test per bug fixed, named after what went wrong. Each runs the real
//! binary the way the bug was found, and fails on the code before the fix.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use common::run::*;

const MINUTE: Duration = Duration::from_secs(60);

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

// ------------------------------------------------ never lose a user's file

/// `--force` replaced any folder holding a `report.html`, inputs and notes
/// included: `r/logs` and `r/notes.txt` were deleted.
#[test]
fn force_never_replaces_a_folder_holding_inputs_or_other_files() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("r");
    let logs = r.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("mail.log"), log_of(20, "mx1", 1)).unwrap();
    std::fs::write(r.join("report.html"), "old").unwrap();
    std::fs::write(r.join("notes.txt"), "notes").unwrap();
    let run = analyze_in(&r, &[&logs], &["--force"], MINUTE);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(files_in(&r), ["logs", "notes.txt", "report.html"]);
    assert_eq!(files_in(&logs), ["mail.log"]);
    // The input itself inside --out.
    let r2 = tmp.path().join("r2");
    std::fs::create_dir(&r2).unwrap();
    let log = r2.join("mail.log");
    std::fs::write(&log, log_of(20, "mx1", 1)).unwrap();
    let run = analyze_in(&r2, &[&log], &["--force"], MINUTE);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("inside the report folder"),
        "{}",
        run.stderr
    );
    assert_eq!(files_in(&r2), ["mail.log"]);
}

/// `--out R/. --force` emptied the old report, then failed with "Invalid
/// argument": old report lost, no new one.
#[test]
fn out_ending_in_a_dot_replaces_the_report_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("mail.log");
    std::fs::write(&log, log_of(20, "mx1", 1)).unwrap();
    let out = tmp.path().join("R");
    assert_eq!(analyze_in(&out, &[&log], &[], MINUTE).code, Some(0));
    let run = analyze_in(&out.join("."), &[&log], &["--force"], MINUTE);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(out.join("summary.json").is_file());
    assert_eq!(run.total("delivered"), 20);
    // Nothing left beside it.
    assert_eq!(files_in(tmp.path()), ["R", "mail.log"]);
}

// ------------------------------------------------- memory, whatever comes in

/// A 16 MB gzip of one endless line allocated 4 GiB and aborted; so did
/// `/dev/zero`. Both now stop with exit 2 in little memory.
#[test]
fn endless_lines_end_with_exit_2_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let bomb = tmp.path().join("bomb.log.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&bomb).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(b"Nov 28 10:00:00 mx1 postfix/smtp[1]: ABCDEF0123: to=<")
        .unwrap();
    let chunk = vec![b'a'; 1 << 20];
    // Past the 256 MiB a cut line may skip.
    for _ in 0..300 {
        enc.write_all(&chunk).unwrap();
    }
    enc.finish().unwrap();
    for (input, name) in [(bomb.as_path(), "bomb"), (Path::new("/dev/zero"), "zero")] {
        let run = analyze_in(&tmp.path().join(name), &[input], &[], 5 * MINUTE);
        assert_eq!(run.code, Some(2), "{name}: {}", run.stderr);
        assert!(run.stderr.contains("without a line end"), "{}", run.stderr);
        assert!(
            run.max_rss_kib < 512 * 1024,
            "{name}: peak RSS {} KiB",
            run.max_rss_kib
        );
        eprintln!(
            "{name}: peak RSS {} KiB in {:?}",
            run.max_rss_kib, run.elapsed
        );
    }
}

/// A 3 MB reply text was copied whole into report.html, summary.json and
/// causes.csv; a line over the limit is now cut and every output quotes at
/// most the first 2 KiB of a reply, with a note.
#[test]
fn a_huge_reply_text_is_cut_in_every_output() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = log_of(10, "mx1", 1);
    text += "Nov 28 11:00:00 mx1 postfix/pickup[2]: AAAAAA0001: uid=33 from=<www-data>\n";
    text += "Nov 28 11:00:01 mx1 postfix/smtp[3]: AAAAAA0001: to=<x@example.net>, relay=mx.example.net[203.0.113.5]:25, delay=1, delays=0/0/0/1, dsn=5.0.0, status=bounced (host mx.example.net[203.0.113.5] said: 550 ";
    text += &"no ".repeat(1 << 20);
    text += ")\n";
    let log = tmp.path().join("mail.log");
    std::fs::write(&log, &text).unwrap();
    let out = tmp.path().join("r");
    let run = analyze_in(&out, &[&log], &[], MINUTE);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert_eq!(run.total("bounced"), 1);
    for f in ["report.html", "summary.json", "causes.csv"] {
        let len = std::fs::metadata(out.join(f)).unwrap().len();
        assert!(len < 200_000, "{f} is {len} bytes");
    }
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(summary.contains("[cut: "), "no cut note");
}

/// 2 M distinct program names took 890 MB and a 139 MB summary.json.
#[test]
fn made_up_program_names_are_capped() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = log_of(5, "mx1", 1);
    for i in 0..20_000 {
        text += &format!("Nov 28 11:00:00 mx1 prog{i:06}[1]: hello\n");
    }
    let log = tmp.path().join("mail.log");
    std::fs::write(&log, &text).unwrap();
    let run = analyze_in(&tmp.path().join("r"), &[&log], &[], MINUTE);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let programs = run.summary.as_ref().unwrap()["lines"]["by_program"]
        .as_array()
        .unwrap()
        .len();
    assert!(programs <= 1001, "{programs} program rows");
    assert_eq!(run.lines(), line_count(&text));
}

/// 2,000 simple user rules took 410 s and 12 GB; a counted repetition
/// made every reply cost milliseconds.
#[test]
fn thousands_of_user_rules_load_quickly() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules.toml");
    let mut toml = String::new();
    for i in 0..2000 {
        toml += &format!(
            "[[rule]]\nname = \"r{i}\"\ncause = \"blacklisted\"\npattern = \"(?i)custom block number {i} from isp\"\n\n"
        );
    }
    toml += "[[rule]]\ncause = \"blacklisted\"\npattern = \"[a-z ]*a[a-z ]{30}XYZ\"\n";
    std::fs::write(&rules, toml).unwrap();
    let text = "host mx[192.0.2.1] said: 550 custom block number 1999 from isp";
    let run = run_bin(
        &["explain", "--rules", rules.to_str().unwrap(), text],
        None,
        MINUTE,
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("r1999"), "{}", run.stdout);
    assert!(run.max_rss_kib < 256 * 1024, "{} KiB", run.max_rss_kib);
    eprintln!("2,001 rules: {:?}, {} KiB", run.elapsed, run.max_rss_kib);
    // The same rules over a log of long replies.
    let mut log = log_of(5, "mx1", 1);
    for i in 0..300 {
        log += &format!("Nov 28 11:00:{:02} mx1 postfix/smtp[3]: BBBBBB{i:04}: to=<x@example.net>, relay=mx.example.net[203.0.113.5]:25, delay=1, delays=0/0/0/1, dsn=4.0.0, status=deferred (host mx.example.net[203.0.113.5] said: 450 {} {i})\n", i % 60, "a b ".repeat(400));
    }
    let path = tmp.path().join("mail.log");
    std::fs::write(&path, log).unwrap();
    let r = analyze_in(
        &tmp.path().join("r"),
        &[&path],
        &["--rules", rules.to_str().unwrap()],
        5 * MINUTE,
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.total("deferral_events"), 300);
}

/// Truncating an old rotation while it was mapped killed the run with
/// SIGBUS. Now the lost pages read as zeros and the run says so (exit 2),
/// or finishes first (exit 0).
#[test]
fn an_old_rotation_cut_while_mapped_is_reported_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("mail.log.1");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = log_of(2000, "mx1", 1);
    for _ in 0..(80 << 20) / chunk.len() {
        f.write_all(chunk.as_bytes()).unwrap();
    }
    drop(f);
    set_old_mtime(&path);
    let p2 = path.clone();
    let cutter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let f = std::fs::File::options().write(true).open(&p2).unwrap();
        f.set_len(4096).unwrap();
    });
    // run_bin fails the test when the process dies by a signal.
    let run = analyze_in(&tmp.path().join("r"), &[&path], &[], 5 * MINUTE);
    cutter.join().unwrap();
    match run.code {
        Some(2) => assert!(run.stderr.contains("shrank"), "{}", run.stderr),
        Some(0) => eprintln!("the run finished before the cut"),
        other => panic!("{other:?}: {}", run.stderr),
    }
}

// ---------------------------------------------------------------- options

/// Out-of-range options panicked, overflowed or ran for minutes; each is
/// now exit 1 with a message naming the option.
#[test]
fn options_out_of_range_exit_1_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("mail.log");
    std::fs::write(&log, log_of(5, "mx1", 1)).unwrap();
    let log = log.to_str().unwrap();
    let cases: &[&[&str]] = &[
        &["analyze", log, "--jobs", "100000"],
        &["analyze", log, "--year", "2147483647"],
        &["analyze", log, "--lookback", "999999999999d"],
        &["analyze", log, "--bucket", "1s"],
        &["analyze", log, "--passwd", "/dev/zero"],
        &["analyze", log, "--max-line", "99G"],
        &["queue", log, "--shape-width", "18446744073709551615"],
    ];
    for args in cases {
        let run = run_bin(args, None, MINUTE);
        assert_eq!(run.code, Some(1), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
        let flag = args.iter().find(|a| a.starts_with("--")).unwrap();
        assert!(
            run.stderr.contains(flag) || run.stderr.contains("regular file"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

/// `--passwd FIFO` waited for a writer for ever.
#[test]
fn a_fifo_given_as_an_option_file_is_refused_not_waited_on() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("passwd");
    if !std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        eprintln!("skipping: no mkfifo");
        return;
    }
    let log = tmp.path().join("mail.log");
    std::fs::write(&log, log_of(5, "mx1", 1)).unwrap();
    let run = analyze_in(
        &tmp.path().join("r"),
        &[&log],
        &["--passwd", fifo.to_str().unwrap()],
        MINUTE,
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
}

/// One 1970 stamp with `--bucket 1s` over 2026 logs aborted (billions of
/// buckets); the bucket is now widened, with a note.
#[test]
fn a_tiny_bucket_over_a_long_span_is_widened() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text =
        String::from("1970-01-01T00:00:01+00:00 mx1 postfix/qmgr[1]: ABCDEF0001: removed\n");
    text += &log_of(20, "mx1", 1);
    let log = tmp.path().join("mail.log");
    std::fs::write(&log, text).unwrap();
    let run = analyze_in(&tmp.path().join("r"), &[&log], &["--bucket", "1m"], MINUTE);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.problems().iter().any(|p| p.contains("widened")));
    assert!(run.max_rss_kib < 512 * 1024, "{} KiB", run.max_rss_kib);
}

/// Summed `message_size` of a JSON dump wrapped around.
#[test]
fn dump_sizes_saturate_instead_of_wrapping() {
    let tmp = tempfile::tempdir().unwrap();
    let dump = tmp.path().join("q.jsonl");
    let big = u64::MAX / 2 + 1;
    let mut text = String::new();
    for id in ["AAAAAA0001", "AAAAAA0002"] {
        text += &format!("{{\"queue_name\": \"deferred\", \"queue_id\": \"{id}\", \"arrival_time\": 1795891681, \"message_size\": {big}, \"forced_expire\": false, \"sender\": \"a@example.org\", \"recipients\": [{{\"address\": \"b@example.net\"}}]}}\n");
    }
    std::fs::write(&dump, text).unwrap();
    let run = run_bin(&["queue", dump.to_str().unwrap()], None, MINUTE);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // Saturated, not wrapped to 0.
    let kb = u64::MAX / 1024;
    assert!(run.stdout.contains(&format!("{kb} KB")), "{}", run.stdout);
}

// ------------------------------------------------------ exits and messages

/// A cut or gzipped queue dump given to `analyze` exited 0 ("0 messages"
/// for a gzipped dump of 24, nothing said for a cut one).
#[test]
fn cut_and_gzipped_dumps_in_analyze() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dump = std::fs::read(root.join("samples/postqueue-p.txt")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("mail.log");
    std::fs::copy(root.join("samples/mail.log"), &log).unwrap();
    let gz = tmp.path().join("queue.txt.gz");
    std::fs::write(&gz, gzip(&dump)).unwrap();
    let run = analyze_in(&tmp.path().join("r1"), &[&log, &gz], &[], MINUTE);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let declared = String::from_utf8_lossy(&dump)
        .lines()
        .last()
        .and_then(|l| l.split(" in ").nth(1))
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap();
    assert_eq!(run.summary.as_ref().unwrap()["queue"]["messages"], declared);
    let cut = tmp.path().join("queue-cut.txt");
    std::fs::write(&cut, &dump[..dump.len() * 2 / 3]).unwrap();
    let run = analyze_in(&tmp.path().join("r2"), &[&log, &cut], &[], MINUTE);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("queue-cut.txt"), "{}", run.stderr);
}

/// A corrupt gzip was reported at the end of the stream and about 180
/// garbage lines from after the break were analyzed. Now the break is
/// found where the text stops looking like a log and nothing after it is
/// analyzed.
#[test]
fn a_corrupt_gzip_is_cut_where_it_broke() {
    let tmp = tempfile::tempdir().unwrap();
    let text = log_of(6000, "mx1", 1);
    let mut gz = gzip(text.as_bytes());
    let mid = gz.len() * 2 / 3;
    gz[mid] ^= 0xff;
    gz[mid + 1] ^= 0x55;
    let path = tmp.path().join("mail.log.2.gz");
    std::fs::write(&path, &gz).unwrap();
    let run = analyze_in(&tmp.path().join("r"), &[&path], &[], MINUTE);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let msg = run.stderr_line("mail.log.2.gz");
    assert!(msg.contains("stops looking like a log"), "{msg}");
    // Nothing that failed to parse was analyzed, and the lines read are a
    // true prefix of the file's.
    let s = run.summary.as_ref().unwrap();
    assert_eq!(s["lines"]["not_understood"], 0, "{}", s["lines"]);
    assert_eq!(s["lines"]["other"], 0, "{}", s["lines"]);
    assert!(run.lines() < line_count(&text));
}

/// Logs more than 8 folders deep or in hidden folders were skipped
/// without a word.
#[test]
fn deep_and_hidden_folders_are_listed_as_skipped() {
    let (tmp, logs) = logs_dir();
    std::fs::write(logs.join("mail.log"), log_of(5, "mx1", 1)).unwrap();
    let hidden = logs.join(".old");
    std::fs::create_dir(&hidden).unwrap();
    std::fs::write(hidden.join("mail.log"), log_of(5, "mx1", 2)).unwrap();
    let mut deep = logs.clone();
    for i in 0..10 {
        deep.push(format!("d{i}"));
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("mail.log"), log_of(5, "mx1", 3)).unwrap();
    let run = analyze(tmp.path(), &[&logs]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let inputs = run.summary.as_ref().unwrap()["inputs"].as_array().unwrap();
    let skipped: Vec<&str> = inputs
        .iter()
        .filter(|i| i["kind"] == "skipped")
        .map(|i| i["problems"][0].as_str().unwrap())
        .collect();
    assert!(
        skipped.iter().any(|p| p.contains("hidden folder")),
        "{skipped:?}"
    );
    assert!(
        skipped.iter().any(|p| p.contains("folders deep")),
        "{skipped:?}"
    );
}

/// Terminal escapes from a dump reached the screen raw in `postmortem
/// queue` output and in `postmortem:` problem lines.
#[test]
fn terminal_escapes_from_dumps_never_reach_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let dump = tmp.path().join("q.txt");
    let text = "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n\
ABCDEF0123     1234 Sat Nov 28 10:00:00  evil\x1b]52;c;ZXZpbA==\x07@example.org\n\
(host mx[192.0.2.1] said: 450 \x1b[2J\x1b]0;owned\x07 try later)\n\
                                         victim@example.net\n\n\
-- 1 Kbytes in 2 Requests.\n";
    std::fs::write(&dump, text).unwrap();
    let run = run_bin(
        &[
            "queue",
            dump.to_str().unwrap(),
            "--dump-time",
            "2026-11-28T11:00:00",
        ],
        None,
        MINUTE,
    );
    // The listing's totals disagree (2 declared, 1 read): a problem line.
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    for (what, out) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !out.contains('\x1b') && !out.contains('\x07'),
            "{what}: {out:?}"
        );
    }
    assert!(run.stdout.contains("<U+001B>"), "{}", run.stdout);
}
