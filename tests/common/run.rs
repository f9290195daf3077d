//! Running the binary in tests: exit code, output, peak memory, the
//! summary it wrote; and small realistic Postfix logs to run it on.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of the binary left behind.
pub struct Run {
    pub code: Option<i32>,
    pub stderr: String,
    pub stdout: String,
    pub summary: Option<serde_json::Value>,
    pub elapsed: Duration,
    /// The child's peak resident memory (`ru_maxrss` from `wait4`), KiB.
    pub max_rss_kib: u64,
}

impl Run {
    pub fn lines(&self) -> u64 {
        self.summary.as_ref().expect("summary.json")["lines"]["total"]
            .as_u64()
            .unwrap()
    }
    pub fn total(&self, key: &str) -> u64 {
        self.summary.as_ref().expect("summary.json")["totals"][key]
            .as_u64()
            .unwrap()
    }
    pub fn input(&self, name: &str) -> &serde_json::Value {
        let inputs = self.summary.as_ref().expect("summary.json")["inputs"]
            .as_array()
            .unwrap();
        inputs
            .iter()
            .find(|i| i["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("no input {name} in {inputs:?}"))
    }
    /// The stderr line naming `file`.
    pub fn stderr_line(&self, file: &str) -> &str {
        self.stderr
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("no message names {file}: {}", self.stderr))
    }
    pub fn problems(&self) -> Vec<String> {
        self.summary.as_ref().expect("summary.json")["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect()
    }
}

/// Runs the binary with `args` (in `dir` when given), killing it after
/// `limit`: a hang is a failure, not a stuck test run. A death by signal
/// fails the test.
pub fn run_bin<S: AsRef<std::ffi::OsStr>>(args: &[S], dir: Option<&Path>, limit: Duration) -> Run {
    let started = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_postmortem"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let mut child = cmd.spawn().unwrap();
    let drain = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut r) = r {
                let _ = std::io::Read::read_to_end(&mut r, &mut s);
            }
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = drain(child.stdout.take().map(|s| Box::new(s) as _));
    let err = drain(child.stderr.take().map(|s| Box::new(s) as _));
    let (status, max_rss_kib) = wait_with_rusage(&mut child, started, limit);
    let elapsed = started.elapsed();
    let stderr = err.join().unwrap();
    if let Some(sig) = status.1 {
        panic!(
            "postmortem {:?} was killed by signal {sig}; stderr:\n{stderr}",
            args.iter()
                .map(|a| a.as_ref().to_os_string())
                .collect::<Vec<_>>()
        );
    }
    Run {
        code: status.0,
        stderr,
        stdout: out.join().unwrap(),
        summary: None,
        elapsed,
        max_rss_kib,
    }
}

/// Waits for the child with `wait4`, for its own peak memory; kills it
/// after `limit`. Returns ((exit code, signal), peak RSS in KiB).
fn wait_with_rusage(
    child: &mut std::process::Child,
    started: Instant,
    limit: Duration,
) -> ((Option<i32>, Option<i32>), u64) {
    let pid = child.id() as libc::pid_t;
    loop {
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid out-parameter for wait4.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: pid is our own child, not yet reaped (Child::wait was
        // never called), and both out-pointers are valid.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
            let sig = libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status));
            return ((code, sig), usage.ru_maxrss as u64);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("postmortem did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `postmortem analyze ARGS EXTRA --out OUT --quiet` and reads the
/// summary it wrote, if any.
pub fn analyze_in(out: &Path, args: &[&Path], extra: &[&str], limit: Duration) -> Run {
    let mut all: Vec<std::ffi::OsString> = vec!["analyze".into()];
    all.extend(args.iter().map(|a| a.as_os_str().to_os_string()));
    all.extend(extra.iter().map(std::ffi::OsString::from));
    all.extend([
        "--out".into(),
        out.as_os_str().to_os_string(),
        "--quiet".into(),
    ]);
    let mut run = run_bin(&all, None, limit);
    run.summary = std::fs::read_to_string(out.join("summary.json"))
        .ok()
        .map(|s| serde_json::from_str(&s).expect("summary.json is JSON"));
    run
}

/// A temporary folder with an empty `logs` folder in it.
pub fn logs_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    (tmp, logs)
}

pub fn analyze(tmp: &Path, args: &[&Path]) -> Run {
    analyze_in(&tmp.join("report"), args, &[], Duration::from_secs(120))
}

/// The lines Postfix writes for one message accepted over SMTP and
/// delivered (or deferred) to one recipient.
pub fn message(host: &str, stamp: &str, qid: &str, from: &str, to: &str, deferred: bool) -> String {
    let outcome = if deferred {
        "dsn=4.4.1, status=deferred (connect to mx.example.net[203.0.113.5]:25: Connection timed out)".to_string()
    } else {
        format!("dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4Q{qid})")
    };
    let mut s = String::new();
    s += &format!("{stamp} {host} postfix/smtpd[2001]: {qid}: client=unknown[198.51.100.7]\n");
    s += &format!("{stamp} {host} postfix/cleanup[2002]: {qid}: message-id=<{qid}@example.org>\n");
    s += &format!("{stamp} {host} postfix/qmgr[2003]: {qid}: from=<{from}>, size=1840, nrcpt=1 (queue active)\n");
    s += &format!(
        "{stamp} {host} postfix/smtp[2004]: {qid}: to=<{to}>, relay=mx.example.net[203.0.113.5]:25, delay=0.4, delays=0.1/0/0.2/0.1, {outcome}\n"
    );
    if !deferred {
        s += &format!("{stamp} {host} postfix/qmgr[2003]: {qid}: removed\n");
    }
    s
}

/// `n` delivered messages, one a second from 10:00:00 on Nov 28.
pub fn log_of(n: usize, host: &str, id_base: u32) -> String {
    let mut s = String::new();
    for k in 0..n {
        let secs = k as u32;
        let stamp = format!(
            "Nov 28 {:02}:{:02}:{:02}",
            10 + secs / 3600 % 12,
            secs / 60 % 60,
            secs % 60
        );
        let qid = format!("{:010X}", id_base as u64 * 1_000_000 + k as u64);
        s += &message(
            host,
            &stamp,
            &qid,
            "alice@example.org",
            &format!("rcpt{k}@example.net"),
            false,
        );
    }
    s
}

pub fn line_count(s: &str) -> u64 {
    s.lines().filter(|l| !l.trim().is_empty()).count() as u64
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub fn set_old_mtime(path: &Path) {
    // Old enough that the reader maps it (rotated files touched in the
    // last minutes are read instead).
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(std::time::SystemTime::now() - Duration::from_secs(24 * 3600))
        .unwrap();
}

pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// The lab recording, kept in the repository: tests on it cannot skip.
pub fn lab_dir() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lab-1");
    assert!(p.join("logs").is_dir(), "{} is missing", p.display());
    p
}

pub fn lab_logs() -> Option<PathBuf> {
    Some(lab_dir().join("logs"))
}
