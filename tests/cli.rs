//! The command line as a user meets it: stdin, time windows, messages for
//! mistakes, the small subcommands.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_postmortem"))
}

fn lab_log() -> Option<PathBuf> {
    Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lab-1/logs/maillog"))
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn stdin_gives_the_same_totals_as_the_file() {
    let Some(log) = lab_log() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    let st = bin()
        .args(["analyze", "-q", "--year", "2026", "--out"])
        .arg(&a)
        .arg(&log)
        .status()
        .unwrap();
    assert!(st.success());
    let mut child = bin()
        .args(["analyze", "-q", "--year", "2026", "--out"])
        .arg(&b)
        .arg("-")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(&log).unwrap())
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(summary(&a)["totals"], summary(&b)["totals"]);
    assert_eq!(summary(&b)["inputs"][0]["path"], "-");
}

#[test]
fn since_and_until_narrow_the_period() {
    let Some(log) = lab_log() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let all = tmp.path().join("all");
    let part = tmp.path().join("part");
    assert!(bin()
        .args(["analyze", "-q", "--year", "2026", "--out"])
        .arg(&all)
        .arg(&log)
        .status()
        .unwrap()
        .success());
    let st = bin()
        .args([
            "analyze",
            "-q",
            "--year",
            "2026",
            "--since",
            "2026-11-28T18:56",
            "--until",
            "2026-11-28 18:56:30",
            "--out",
        ])
        .arg(&part)
        .arg(&log)
        .status()
        .unwrap();
    assert!(st.success());
    let (a, p) = (summary(&all), summary(&part));
    assert!(p["period"]["first"].as_str().unwrap() >= "2026-11-28T18:56:00");
    assert!(p["period"]["last"].as_str().unwrap() < "2026-11-28T18:56:30");
    assert!(
        p["totals"]["deferral_events"].as_u64().unwrap()
            < a["totals"]["deferral_events"].as_u64().unwrap()
    );
}

#[test]
fn mistakes_get_a_clear_message_and_exit_1() {
    let out = bin()
        .args(["analyze", "--since", "last week", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a time like 2026-01-03"));

    let tmp = tempfile::tempdir().unwrap();
    let out = bin().arg("analyze").arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no maillog found"), "{err}");
    assert!(err.contains("samples/"), "{err}");

    let out = bin()
        .args(["analyze", "--timezone", "Mars/Olympus", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));

    // Flags clap refuses exit 1 too: 2 means a partial analysis.
    for args in [
        &["analyze", "--no-such-flag"][..],
        &["queue", "x", "--shape-buckets", "0"],
    ] {
        let out = bin().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
    let out = bin().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// qshape's options on `postmortem queue`, on the dump shipped in samples/.
#[test]
fn queue_prints_qshape_with_its_options() {
    let dump = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/postqueue-p.txt");
    let out = bin()
        .arg("queue")
        .arg(&dump)
        .args(["--dump-time", "2026-01-03 23:59:00"])
        .args(["--shape-senders", "--shape-linear"])
        .args(["--shape-buckets", "4", "--shape-minutes", "30"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let at = text
        .find("sender domains by age")
        .expect("the qshape heading");
    let head: Vec<&str> = text[at..]
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(head, ["T", "30", "60", "90", "90+"], "{text}");
}

#[test]
fn explain_names_the_cause_and_rule() {
    let out = bin()
        .args([
            "explain",
            "connect to 127.0.0.1[127.0.0.1]:10024: Connection refused",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("content_filter_down"), "{text}");
    assert!(text.contains("rule"), "{text}");
}

#[test]
fn causes_lists_the_taxonomy() {
    let out = bin().arg("causes").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for id in [
        "port25_blocked",
        "content_filter_down",
        "dns_failure",
        "blacklisted",
        "unknown",
    ] {
        assert!(text.contains(id), "{id} missing");
    }
}

#[test]
fn redact_keeps_the_servers_own_name_and_hides_third_parties() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("mail.log");
    std::fs::write(
        &log,
        "Jan  5 10:00:00 mx1.ourserver.example postfix/pickup[1]: ABCDE12345: uid=1000 from=<shop>\n\
Jan  5 10:00:01 mx1.ourserver.example postfix/qmgr[2]: ABCDE12345: from=<shop@ourserver.example>, size=100, nrcpt=2 (queue active)\n\
Jan  5 10:00:02 mx1.ourserver.example postfix/smtp[3]: ABCDE12345: to=<anna@customer.example>, relay=none, delay=1, delays=0/0/1/0, dsn=5.4.6, status=bounced (mail for mx1.ourserver.example loops back to myself)\n\
Jan  5 10:00:03 mx1.ourserver.example postfix/smtp[3]: ABCDE12345: to=<bob@thirdparty.example>, relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to mx.thirdparty.example[192.0.2.9]:25: Connection refused)\n",
    )
    .unwrap();
    let out = tmp.path().join("r");
    let st = bin()
        .args(["analyze", "-q", "--year", "2026", "--redact", "--out"])
        .arg(&out)
        .arg(&log)
        .status()
        .unwrap();
    assert!(st.success());
    let mut all = String::new();
    for e in std::fs::read_dir(&out).unwrap() {
        all += &std::fs::read_to_string(e.unwrap().path()).unwrap_or_default();
    }
    assert!(
        all.contains("mx1.ourserver.example"),
        "the server's own name was hidden"
    );
    for secret in ["thirdparty.example", "192.0.2.9", "anna@customer.example"] {
        assert!(!all.contains(secret), "{secret} leaked");
    }
}

#[test]
fn completions_and_the_man_page_name_every_subcommand() {
    let subcommands = ["analyze", "queue", "explain", "causes", "fleet"];
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = bin().args(["completions", shell]).output().unwrap();
        assert!(o.status.success(), "{shell}");
        let text = String::from_utf8(o.stdout).unwrap();
        for s in subcommands {
            assert!(text.contains(s), "{shell} completion lacks {s}");
        }
        assert!(
            text.contains("--parquet"),
            "{shell} completion lacks --parquet"
        );
    }
    let o = bin().arg("man").output().unwrap();
    assert!(o.status.success());
    let roff = String::from_utf8(o.stdout).unwrap();
    assert!(
        roff.starts_with(".ie") || roff.contains(".TH postmortem"),
        "{roff}"
    );
    for s in subcommands {
        assert!(roff.contains(s), "the man page lacks {s}");
    }
    let o = bin().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "an unknown shell is a usage error"
    );
}
