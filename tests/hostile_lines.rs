//! Hostile and strange lines through the real binary and its reader:
//! lines of 64 MB and 1 GB, a last line longer than a block, stamps that
//! recurse, NUL bytes and invalid UTF-8, repeats that would expand without
//! end, lines out of order, two hosts in one file, clocks that jump back or
//! repeat an hour. Nothing crashes or hangs, memory stays bounded, and the
//! totals are what the lines say (`hostile_files.rs` has the files around
//! them).
//!
//! Each test writes small realistic Postfix lines into a scratch folder and
//! runs `postmortem analyze` on it. Exit codes: 0 complete, 1 nothing
//! analyzed, 2 partial.

mod common;

use std::time::Duration;

use common::run::*;

use postmortem::input::{self, ReadItem, Source, SourceKind};
use postmortem::parse;

// ------------------------------------------------------------- long lines

/// A log with one line of `len` bytes and no line end in its middle.
fn with_long_line(len: usize) -> (Vec<u8>, u64) {
    let head = log_of(100, "mx1", 1);
    let tail = log_of(100, "mx1", 2);
    let mut v = Vec::with_capacity(len + head.len() + tail.len() + 200);
    v.extend_from_slice(head.as_bytes());
    // A Postfix delivery line whose recipient never ends.
    v.extend_from_slice(b"Nov 28 11:00:00 mx1 postfix/smtp[9]: ABCDEF0123: to=<");
    v.resize(v.len() + len, b'a');
    v.extend_from_slice(b">, relay=none, dsn=4.4.1, status=deferred (x)\n");
    v.extend_from_slice(tail.as_bytes());
    (v, line_count(&head) + line_count(&tail) + 1)
}

/// A 64 MB line is cut at the line limit whichever way it is read; the
/// lines around it are all analyzed and the cut is reported (exit 2).
#[test]
fn a_64_mb_line_in_the_middle_of_a_log_is_cut_and_reported() {
    let (bytes, lines) = with_long_line(64 << 20);
    let tmp = tempfile::tempdir().unwrap();
    // Each way in: read(2) for the live file, a mapping for an old
    // rotation, a decoder for gzip.
    let live = tmp.path().join("live/mail.log");
    let rotated = tmp.path().join("rotated/mail.log.1");
    let packed = tmp.path().join("packed/mail.log.2.gz");
    for p in [&live, &rotated, &packed] {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    }
    std::fs::write(&live, &bytes).unwrap();
    std::fs::write(&rotated, &bytes).unwrap();
    set_old_mtime(&rotated);
    std::fs::write(&packed, gzip(&bytes)).unwrap();
    drop(bytes);
    for (k, p) in [&live, &rotated, &packed].into_iter().enumerate() {
        let out = tmp.path().join(format!("report{k}"));
        let r = analyze_in(&out, &[p], &[], Duration::from_secs(300));
        assert_eq!(r.code, Some(2), "{}: {}", p.display(), r.stderr);
        assert_eq!(r.lines(), lines, "{}", p.display());
        assert_eq!(r.total("delivered"), 200, "{}", p.display());
        // The cut names where the line starts: right after the 100 lines
        // before it.
        let at = log_of(100, "mx1", 1).len();
        let line = r.stderr_line("longer than");
        assert!(line.contains(&format!("at byte {at})")), "{line}");
        eprintln!("{}: {:?}", p.display(), r.elapsed);
    }
}

#[test]
#[ignore = "writes 1 GB and takes minutes: cargo test --test hostile_lines -- --ignored"]
fn a_1_gb_line_is_cut() {
    let (bytes, lines) = with_long_line(1 << 30);
    let tmp = tempfile::tempdir().unwrap();
    let live = tmp.path().join("mail.log");
    std::fs::write(&live, &bytes).unwrap();
    drop(bytes);
    let r = analyze_in(
        &tmp.path().join("report"),
        &[&live],
        &[],
        Duration::from_secs(1800),
    );
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert_eq!(r.lines(), lines);
}

/// The reader used to spin for ever when a stream ended inside a line
/// longer than a block (no line end to cut at, and reads returning 0).
#[test]
fn reader_ends_on_a_last_line_longer_than_a_block() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("mail.log");
    let mut bytes = log_of(3, "mx1", 1).into_bytes();
    bytes.extend(std::iter::repeat_n(b'x', 10_000));
    std::fs::write(&path, &bytes).unwrap();
    let source = Source {
        path: path.clone(),
        kind: SourceKind::Maillog,
        compressed: false,
        bytes: bytes.len() as u64,
        mtime: None,
        series: 1,
        live: true,
        severity_file: false,
    };
    let rx = input::spawn_reader(
        vec![source],
        input::ReadOptions {
            block: 1024,
            max_line: 1 << 20,
        },
    );
    let mut got = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(ReadItem::Block(b)) => got.extend_from_slice(b.data.bytes()),
            Ok(ReadItem::Done { bytes: n, .. }) => {
                assert_eq!(n, bytes.len() as u64);
                break;
            }
            Ok(ReadItem::Failed { error, .. }) => panic!("{error}"),
            Ok(ReadItem::Progress(_) | ReadItem::LongLine { .. } | ReadItem::GzIndex { .. }) => {}
            Err(e) => panic!("the reader hung on a long last line: {e}"),
        }
    }
    assert_eq!(got, bytes);
}

// ---------------------------------------------------------- strange bytes

/// `2013 2013 2013 ...`: the year-first stamp parser recursed once per
/// five bytes and overflowed the stack of a parse thread.
#[test]
fn year_first_stamp_repeated_does_not_overflow_the_stack() {
    let line = "2013 ".repeat(200_000).into_bytes();
    let h = std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(move || parse::syslog::parse_header(&line).is_none())
        .unwrap();
    assert!(h.join().expect("no stack overflow"));
    // The real shape still parses.
    assert!(
        parse::syslog::parse_header(b"2013 Jun 12 06:35:24.123 gds39d postfix/smtpd[1]: x")
            .is_some()
    );
}

#[test]
fn nul_bytes_and_invalid_utf8_in_addresses() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = log_of(10, "mx1", 1).into_bytes();
    bytes.extend_from_slice(
        b"Nov 28 12:00:00 mx1 postfix/smtpd[1]: BADC0FFEE1: client=unknown[198.51.100.9]\n\
Nov 28 12:00:00 mx1 postfix/qmgr[2]: BADC0FFEE1: from=<\xff\xfe\x00evil@ex\xc3ample.org>, size=10, nrcpt=1 (queue active)\n\
Nov 28 12:00:01 mx1 postfix/smtp[3]: BADC0FFEE1: to=<\x00\x00@\xe2\x28\xa1.example>, relay=mx.example.net[203.0.113.5]:25, dsn=4.7.1, status=deferred (host said: 554 5.7.1 \xff\xff blocked using zen.spamhaus.org\x00)\n\
\x00\x00\x00\x00\x00\x00\n\
Nov 28 12:00:02 mx1 postfix/smtp\x00[4]: \x00\x00\x00\n",
    );
    bytes.extend_from_slice(log_of(10, "mx1", 2).as_bytes());
    let path = tmp.path().join("mail.log");
    std::fs::write(&path, &bytes).unwrap();
    let r = analyze(tmp.path(), &[&path]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    // The line of NULs alone is not a line (what a crash leaves behind).
    assert_eq!(r.lines(), 50 + 50 + 4);
    assert_eq!(r.total("delivered"), 20);
    assert_eq!(r.total("received"), 21);
    assert_eq!(r.total("deferral_events"), 1);
}

/// `last message repeated 4294967295 times` after a deferral expanded to
/// 10,000 outcomes a line: 250 KB of such lines took 4 GB. Now a run adds
/// at most a million outcomes from repeats.
#[test]
fn repeated_lines_cannot_exhaust_memory() {
    let mut s = message(
        "mx1",
        "Nov 28 10:00:00",
        "ABCDE12345",
        "a@example.org",
        "b@example.net",
        true,
    );
    for _ in 0..5000 {
        s += "Nov 28 10:00:01 mx1 last message repeated 4294967295 times\n";
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("mail.log");
    std::fs::write(&path, &s).unwrap();
    let r = analyze(tmp.path(), &[&path]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.total("deferral_events"), 1 + 1_000_000);
    assert_eq!(r.total("deferred_messages"), 1);
}

// ------------------------------------------------------- order and clocks

#[test]
fn lines_interleaved_out_of_order_keep_totals() {
    // Twenty messages' lines dealt round-robin (each message's own lines
    // stay in order), then every pair of neighbouring lines swapped once.
    let msgs: Vec<Vec<String>> = (0..20)
        .map(|k| {
            message(
                "mx1",
                &format!("Nov 28 10:00:{k:02}"),
                &format!("{:010X}", 0xA000 + k),
                "alice@example.org",
                "bob@example.net",
                k % 4 == 0,
            )
            .lines()
            .map(str::to_string)
            .collect()
        })
        .collect();
    let mut lines = Vec::new();
    for i in 0..5 {
        for m in &msgs {
            if let Some(l) = m.get(i) {
                lines.push(l.clone());
            }
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("mail.log");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let r = analyze(tmp.path(), &[&path]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.total("received"), 20);
    assert_eq!(r.total("delivered"), 15);
    assert_eq!(r.total("deferral_events"), 5);
    assert_eq!(r.total("deferred_messages"), 5);
}

#[test]
fn two_hosts_mixed_in_one_file_are_two_messages() {
    // The same queue id on two hosts, lines interleaved: two messages.
    let a = message(
        "mx1",
        "Nov 28 10:00:00",
        "ABCDE12345",
        "a@example.org",
        "x@example.net",
        true,
    );
    let b = message(
        "mx2",
        "Nov 28 10:00:00",
        "ABCDE12345",
        "b@example.org",
        "y@example.net",
        false,
    );
    let mut mixed = String::new();
    for (la, lb) in a.lines().zip(b.lines()) {
        mixed += la;
        mixed += "\n";
        mixed += lb;
        mixed += "\n";
    }
    for l in b.lines().skip(a.lines().count()) {
        mixed += l;
        mixed += "\n";
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("mail.log");
    std::fs::write(&path, &mixed).unwrap();
    let r = analyze(tmp.path(), &[&path]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.total("received"), 2);
    assert_eq!(r.total("delivered"), 1);
    assert_eq!(r.total("deferred_messages"), 1);
}

#[test]
fn clock_jump_backwards_keeps_totals_and_year() {
    // NTP steps the clock back two minutes in the middle of the day.
    let mut s = String::new();
    for k in 0..30u32 {
        let t = if k < 15 { 600 + k } else { 480 + k };
        let stamp = format!("Nov 28 10:{:02}:{:02}", t / 60, t % 60);
        s += &message(
            "mx1",
            &stamp,
            &format!("{:010X}", 0xB000 + k),
            "a@example.org",
            "b@example.net",
            k == 20,
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("maillog");
    std::fs::write(&path, &s).unwrap();
    let r = analyze_in(
        &tmp.path().join("report"),
        &[&path],
        &["--year", "2026"],
        Duration::from_secs(60),
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.total("received"), 30);
    assert_eq!(r.total("delivered"), 29);
    assert_eq!(r.total("deferred_messages"), 1);
    let period = &r.summary.as_ref().unwrap()["period"];
    assert!(
        period["first"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-28T10:08"),
        "{period}"
    );
    assert!(
        period["last"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-28T10:10"),
        "{period}"
    );
}

#[test]
fn dst_change_repeated_hour_keeps_totals() {
    // Europe/Berlin, 25 Oct 2026: 02:00-02:59 happens twice. Messages every
    // five minutes from 01:30 to 03:30 wall clock, the repeated hour twice.
    let mut walls = Vec::new();
    for m in (90..180).step_by(5) {
        walls.push(m);
    }
    for m in (120..210).step_by(5) {
        walls.push(m);
    }
    let mut s = String::new();
    for (k, m) in walls.iter().enumerate() {
        let stamp = format!("Oct 25 {:02}:{:02}:00", m / 60, m % 60);
        s += &message(
            "mx1",
            &stamp,
            &format!("{:010X}", 0xC000 + k),
            "a@example.org",
            "b@example.net",
            k % 10 == 3,
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("maillog");
    std::fs::write(&path, &s).unwrap();
    let r = analyze_in(
        &tmp.path().join("report"),
        &[&path],
        &["--year", "2026", "--timezone", "Europe/Berlin"],
        Duration::from_secs(60),
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let deferred = walls
        .iter()
        .enumerate()
        .filter(|(k, _)| k % 10 == 3)
        .count() as u64;
    assert_eq!(r.total("received"), walls.len() as u64);
    assert_eq!(r.total("delivered"), walls.len() as u64 - deferred);
    assert_eq!(r.total("deferred_messages"), deferred);
    assert_eq!(r.lines(), line_count(&s));
}
