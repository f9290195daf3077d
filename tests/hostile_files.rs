//! Hostile and broken files, folders and streams through the real binary:
//! damaged gzip, files cut or unreadable while read, pipes, symlink loops,
//! file names that are not ASCII, junk where a log should be, an output
//! folder that must not be written, a disk that fills up, no network.
//! Nothing crashes, nothing readable is lost, and every problem names its
//! file and where (`hostile_lines.rs` has what is inside the lines).
//!
//! Each test writes small realistic Postfix logs (or uses the lab-1 logs)
//! into a scratch folder and runs `postmortem analyze` on it. Exit codes:
//! 0 complete, 1 nothing analyzed, 2 partial.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::run::*;

// ------------------------------------------------------------ broken gzip

#[test]
fn gzip_truncated_mid_stream_keeps_prefix_and_names_offset() {
    let (tmp, logs) = logs_dir();
    let text = log_of(4000, "mx1", 1);
    let gz = gzip(text.as_bytes());
    std::fs::write(logs.join("mail.log.2.gz"), &gz[..gz.len() / 2]).unwrap();
    let other = log_of(300, "mx1", 2);
    std::fs::write(logs.join("mail.log.1"), &other).unwrap();

    let r = analyze(tmp.path(), &[&logs]);
    assert_eq!(r.code, Some(2), "partial: {}", r.stderr);
    // The file and the byte offset, on stderr and in summary.json.
    let msg = r.stderr_line("mail.log.2.gz");
    assert!(msg.contains("truncated gzip data after"), "{msg}");
    let offset: u64 = msg
        .split("after ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no offset in {msg}"));
    assert!(offset > 0 && offset < text.len() as u64, "{offset}");
    assert!(r.problems().iter().any(|p| p.contains("mail.log.2.gz")));
    let broken = r.input("mail.log.2.gz");
    assert!(broken["problems"][0].as_str().unwrap().contains("gzip"));
    // The readable prefix was analyzed: about the lines before the offset.
    let read = broken["lines"].as_u64().unwrap();
    let before = line_count(&text[..offset as usize]);
    assert!(
        read >= before && read <= before + 1,
        "{read} lines for {before} before the cut"
    );
    // The other file completely.
    assert_eq!(
        r.input("mail.log.1")["lines"].as_u64().unwrap(),
        line_count(&other)
    );
    assert_eq!(r.lines(), read + line_count(&other));
}

#[test]
fn gzip_corrupt_mid_stream_keeps_prefix_and_other_files() {
    let (tmp, logs) = logs_dir();
    let text = log_of(4000, "mx1", 1);
    let mut gz = gzip(text.as_bytes());
    let mid = gz.len() / 2;
    for b in &mut gz[mid..mid + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(logs.join("maillog-20261127.gz"), &gz).unwrap();
    let other = log_of(200, "mx1", 2);
    std::fs::write(logs.join("maillog"), &other).unwrap();

    let r = analyze(tmp.path(), &[&logs]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("maillog-20261127.gz") && r.stderr.contains("decompressed bytes"),
        "{}",
        r.stderr
    );
    let broken = r.input("maillog-20261127.gz");
    assert!(!broken["problems"].as_array().unwrap().is_empty());
    // The prefix was analyzed (what the damaged deflate data decoded to
    // before the check failed may add a few garbage lines).
    assert!(
        broken["lines"].as_u64().unwrap() > line_count(&text) / 4,
        "{broken}"
    );
    assert_eq!(
        r.input("maillog")["lines"].as_u64().unwrap(),
        line_count(&other)
    );
}

#[test]
fn gzip_unreadable_from_its_start_is_an_error_not_an_empty_file() {
    let (tmp, logs) = logs_dir();
    std::fs::write(
        logs.join("mail.log.3.gz"),
        b"\x1f\x8b\x08\x00garbage that is no deflate stream",
    )
    .unwrap();
    let good = log_of(50, "mx1", 1);
    std::fs::write(logs.join("mail.log"), &good).unwrap();
    let r = analyze(tmp.path(), &[&logs]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("mail.log.3.gz") && r.stderr.contains("gzip"),
        "{}",
        r.stderr
    );
    assert_eq!(r.lines(), line_count(&good));
}

// ------------------------------------------------------ live files, mmap

#[test]
fn live_file_named_mail_log_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let text = log_of(500, "mx1", 1);
    let live = tmp.path().join("mail.log");
    std::fs::write(&live, &text).unwrap();
    let r = analyze(tmp.path(), &[&live]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.lines(), line_count(&text));
    assert_eq!(r.total("delivered"), 500);
}

/// Truncates `path` to zero after `after`, while the binary reads it.
fn truncate_during_run(name: &str, old: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = log_of(2000, "mx1", 1);
    // About 60 MB: long enough that the truncation lands mid-read.
    for _ in 0..(60 << 20) / chunk.len() {
        f.write_all(chunk.as_bytes()).unwrap();
    }
    drop(f);
    if old {
        set_old_mtime(&path);
    }
    let p2 = path.clone();
    let cutter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        std::fs::File::options()
            .write(true)
            .open(&p2)
            .unwrap()
            .set_len(0)
            .unwrap();
    });
    // analyze_in asserts the process was not killed (SIGBUS).
    let r = analyze_in(
        &tmp.path().join("report"),
        &[&path],
        &[],
        Duration::from_secs(300),
    );
    cutter.join().unwrap();
    assert!(
        matches!(r.code, Some(0) | Some(1) | Some(2)),
        "{:?} {}",
        r.code,
        r.stderr
    );
}

#[test]
fn live_file_truncated_while_read_does_not_crash() {
    truncate_during_run("mail.log", false);
}

#[test]
fn rotated_file_truncated_during_run_does_not_crash() {
    // Freshly written: a rotation may be at work on it, so it is read, not
    // mapped. (An old rotation truncated by hand mid-run is the risk left.)
    truncate_during_run("mail.log.1", false);
}

// ------------------------------------------------ access, links and names

/// `postmortem analyze <(zcat ...)`: a pipe is read once and whole. The
/// kind sniff used to swallow its first 64 KB and then wait for a second
/// writer for ever.
#[test]
fn a_named_pipe_is_read_once_and_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("journal");
    match Command::new("mkfifo").arg(&fifo).status() {
        Ok(s) if s.success() => {}
        _ => {
            eprintln!("skipping: no mkfifo");
            return;
        }
    }
    // Well over the 64 KB a sniff reads.
    let text = log_of(1500, "mx1", 1);
    let (f2, t2) = (fifo.clone(), text.clone());
    let writer = std::thread::spawn(move || {
        // Blocks until the binary opens the pipe for reading.
        let mut w = std::fs::File::options().write(true).open(&f2).unwrap();
        let _ = w.write_all(t2.as_bytes());
    });
    let r = analyze_in(
        &tmp.path().join("report"),
        &[&fifo],
        &[],
        Duration::from_secs(60),
    );
    writer.join().unwrap();
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.lines(), line_count(&text));
    assert_eq!(r.total("delivered"), 1500);
}

#[test]
fn permission_denied_names_the_file_and_analyzes_the_rest() {
    if is_root() {
        eprintln!("skipping: running as root, chmod cannot deny reading");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let (tmp, logs) = logs_dir();
    let secret = logs.join("mail.log.1");
    std::fs::write(&secret, log_of(10, "mx1", 1)).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    let good = log_of(30, "mx1", 2);
    std::fs::write(logs.join("mail.log"), &good).unwrap();
    let r = analyze(tmp.path(), &[&logs]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    let msg = r.stderr_line("mail.log.1");
    assert!(
        msg.contains("Permission denied") && msg.contains("run as a user"),
        "{msg}"
    );
    assert_eq!(r.lines(), line_count(&good));
}

/// What the permission test checks, checkable as root too: an unreadable
/// file's message names it and says what to do.
#[test]
fn unreadable_file_message_names_file_and_fix() {
    let e = postmortem::Error::io(
        "/var/log/mail.log.1",
        std::io::Error::from(std::io::ErrorKind::PermissionDenied),
    );
    let msg = e.to_string();
    assert!(msg.starts_with("/var/log/mail.log.1: "), "{msg}");
    assert!(msg.contains("run as a user who may read it"), "{msg}");
    let g = postmortem::Error::Gzip {
        path: "mail.log.2.gz".into(),
        offset: 1234,
        message: "corrupt deflate stream".into(),
    };
    let msg = g.to_string();
    assert!(msg.contains("mail.log.2.gz") && msg.contains("after 1234 decompressed bytes"));
    assert!(msg.contains("gzip -t"), "{msg}");
}

#[test]
fn symlink_loops_in_a_folder_neither_hang_nor_crash() {
    let (tmp, logs) = logs_dir();
    let text = log_of(40, "mx1", 1);
    std::fs::write(logs.join("mail.log"), &text).unwrap();
    std::os::unix::fs::symlink(".", logs.join("loop")).unwrap();
    std::os::unix::fs::symlink("b", logs.join("a")).unwrap();
    std::os::unix::fs::symlink("a", logs.join("b")).unwrap();
    std::os::unix::fs::symlink("mail.log", logs.join("same.log")).unwrap();
    let r = analyze_in(
        &tmp.path().join("report"),
        &[&logs],
        &[],
        Duration::from_secs(60),
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    // Counted once through the folder (and once more through the file
    // link, which is a file of its own name).
    assert!(r.lines() == line_count(&text) || r.lines() == 2 * line_count(&text));
    // A loop named directly: a clear error, exit 1.
    let r = analyze_in(
        &tmp.path().join("report2"),
        &[&logs.join("a")],
        &[],
        Duration::from_secs(60),
    );
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("logs/a"), "{}", r.stderr);
    // Through the folder link: the same file.
    let deep = logs.join("loop/loop/loop/mail.log");
    let r = analyze_in(
        &tmp.path().join("report3"),
        &[&deep],
        &[],
        Duration::from_secs(60),
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.lines(), line_count(&text));
}

/// A file name with a multi-byte character where a date could start made
/// the rotation sort slice inside a character.
#[test]
fn non_ascii_file_names_in_a_folder() {
    let (tmp, logs) = logs_dir();
    // Each file its own messages: the same lines twice would be read once.
    let mut lines = 0;
    for (k, name) in [
        "maillog-été",
        "maillog-20261127-ü",
        "почта.log.1",
        "mail.log-\u{1F4E7}",
    ]
    .into_iter()
    .enumerate()
    {
        let text = log_of(20, "mx1", k as u32 + 1);
        lines += line_count(&text);
        std::fs::write(logs.join(name), &text).unwrap();
    }
    let r = analyze(tmp.path(), &[&logs]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.lines(), lines);
}

// ------------------------------------------------------ nothing to analyze

#[test]
fn an_empty_file_alone_fails_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("mail.log");
    std::fs::write(&path, b"").unwrap();
    let r = analyze(tmp.path(), &[&path]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("mail.log") && r.stderr.contains("no maillog"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"));
}

#[test]
fn a_folder_without_logs_fails_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("empty");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), b"nothing to see here\n").unwrap();
    let r = analyze(tmp.path(), &[&dir]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("empty") && r.stderr.contains("no maillog"),
        "{}",
        r.stderr
    );
}

#[test]
fn binary_junk_is_skipped_with_a_reason() {
    let (tmp, logs) = logs_dir();
    let junk: Vec<u8> = match std::fs::read("/bin/ls") {
        Ok(b) => b,
        // A pseudo-random binary stand-in where /bin/ls is missing.
        Err(_) => (0..200_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect(),
    };
    std::fs::write(logs.join("maillog"), &junk).unwrap();
    // Alone: nothing analyzed, exit 1.
    let r = analyze_in(
        &tmp.path().join("r1"),
        &[&logs.join("maillog")],
        &[],
        Duration::from_secs(60),
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("maillog"), "{}", r.stderr);
    // Beside a real log: skipped with its reason, the log analyzed.
    let good = log_of(25, "mx1", 1);
    std::fs::write(logs.join("maillog-20261128"), &good).unwrap();
    let r = analyze_in(
        &tmp.path().join("r2"),
        &[&logs],
        &[],
        Duration::from_secs(60),
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.lines(), line_count(&good));
    let skipped = r.input("logs/maillog");
    assert_eq!(skipped["kind"], "skipped");
    assert!(skipped["problems"][0]
        .as_str()
        .unwrap()
        .contains("not a maillog"));
}

// ------------------------------------------------------------------ output

#[test]
fn existing_out_folder_is_refused_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("mail.log");
    std::fs::write(&path, log_of(5, "mx1", 1)).unwrap();
    let out = tmp.path().join("report");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), b"operator notes").unwrap();
    let r = analyze_in(&out, &[&path], &[], Duration::from_secs(60));
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("already exists") && r.stderr.contains("--force"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read(out.join("keep.txt")).unwrap(),
        b"operator notes"
    );
    assert!(
        !out.join("summary.json").exists(),
        "nothing written into it"
    );
    // --force replaces only a report folder, never a folder of other
    // files named by mistake.
    let r = analyze_in(&out, &[&path], &["--force"], Duration::from_secs(60));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(out.join("keep.txt").exists());
    // An earlier report is replaced by a complete one.
    let report = tmp.path().join("report2");
    let r = analyze_in(&report, &[&path], &[], Duration::from_secs(60));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let r = analyze_in(&report, &[&path], &["--force"], Duration::from_secs(60));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.total("delivered"), 5);
}

#[test]
fn out_inside_an_input_folder_is_refused() {
    let (_tmp, logs) = logs_dir();
    std::fs::write(logs.join("mail.log"), log_of(5, "mx1", 1)).unwrap();
    let out = logs.join("sub/report");
    let r = analyze_in(&out, &[&logs], &[], Duration::from_secs(60));
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("inside the input folder"), "{}", r.stderr);
    assert!(
        !logs.join("sub").exists(),
        "nothing created among the inputs"
    );
    // Through a relative path with `..` too.
    let rel = logs.join("../logs/report");
    let r = analyze_in(&rel, &[&logs], &[], Duration::from_secs(60));
    assert_eq!(r.code, Some(1));
    assert!(!logs.join("report").exists());
}

/// A report that cannot be written completely leaves nothing at --out:
/// a disk that fills up (a 16 KB tmpfs in a private mount namespace; skipped
/// where `unshare -m` is not allowed).
#[test]
fn a_full_disk_leaves_no_half_report() {
    let Some(logs) = lab_logs() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let disk = tmp.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    // 4 KB: smaller than the lab's summary alone, so writing must fail.
    let script = format!(
        "mount -t tmpfs -o size=4k none '{disk}' || exit 99\n\
         '{bin}' analyze '{logs}' --quiet --out '{disk}/report'; code=$?\n\
         if [ -e '{disk}/report' ]; then echo \"left behind: [$(ls -A '{disk}/report' | tr '\\n' ' ')]\" >&2; fi\n\
         exit $code\n",
        disk = disk.display(),
        bin = env!("CARGO_BIN_EXE_postmortem"),
        logs = logs.display()
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .output();
    let Ok(out) = out else {
        eprintln!("skipping: no unshare");
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(99) || stderr.starts_with("unshare:") {
        eprintln!("skipping: cannot mount a small disk here: {stderr}");
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        !stderr.contains("left behind"),
        "a half report was left: {stderr}"
    );
    assert!(
        stderr.contains("report"),
        "names what it could not write: {stderr}"
    );
}

// ---------------------------------------------------------------- network

/// The analysis sends nothing anywhere: in a network namespace without any
/// interface up it gives the same summary.
#[test]
fn no_network_same_summary() {
    let Some(logs) = lab_logs() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let probe = Command::new("unshare").args(["-n", "true"]).status();
    if !matches!(probe, Ok(s) if s.success()) {
        eprintln!("skipping: `unshare -n` is missing or not allowed here");
        return;
    }
    let normal = analyze_in(
        &tmp.path().join("a"),
        &[&logs],
        &["--year", "2026"],
        Duration::from_secs(300),
    );
    let out_b = tmp.path().join("b");
    let st = Command::new("unshare")
        .arg("-n")
        .arg(env!("CARGO_BIN_EXE_postmortem"))
        .arg("analyze")
        .arg(&logs)
        .args(["--year", "2026", "--quiet", "--out"])
        .arg(&out_b)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(st.code(), normal.code);
    let isolated: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_b.join("summary.json")).unwrap())
            .unwrap();
    let a = normal.summary.unwrap();
    assert!(a["totals"]["received"].as_u64().unwrap() > 0);
    for key in ["totals", "lines", "period", "problems"] {
        assert_eq!(a[key], isolated[key], "{key}");
    }
}
