//! The event tables (`--parquet`, `--tables-csv`): read back with polars
//! and with DuckDB (the `duckdb` Python package; skipped with a message
//! where it cannot be imported), they give the same totals as
//! summary.json, on the lab recording and on generated logs; `--redact`
//! reaches them; the CSV copies are neutralised like every CSV.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use polars::prelude::*;
use polars_io::prelude::{ParquetReader, SerReader};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// lab-1's logs, from the repository's fixtures (always here).
fn lab_logs() -> Option<PathBuf> {
    Some(root().join("tests/fixtures/lab-1/logs"))
}

/// Runs `analyze` into `out` and returns summary.json.
fn analyze(input: &Path, out: &Path, extra: &[&str]) -> Value {
    let run = common::run::analyze_in(out, &[input], extra, Duration::from_secs(300));
    assert!(
        matches!(run.code, Some(0) | Some(2)),
        "analyze failed: {}",
        run.stderr
    );
    run.summary.expect("summary.json")
}

/// Every file of one table (`ext` parquet or csv) under a report folder.
fn files(out: &Path, table: &str, ext: &str) -> Vec<PathBuf> {
    fn walk(d: &Path, ext: &str, v: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, ext, v);
            } else if p.extension().is_some_and(|x| x == ext) {
                v.push(p);
            }
        }
    }
    let mut v = Vec::new();
    if out.join(table).is_dir() {
        walk(&out.join(table), ext, &mut v);
    }
    v.sort();
    v
}

/// One table read back with polars: all its Parquet files stacked.
fn read(out: &Path, table: &str) -> DataFrame {
    let mut all: Option<DataFrame> = None;
    for f in files(out, table, "parquet") {
        let df = ParquetReader::new(std::fs::File::open(&f).unwrap())
            .finish()
            .unwrap();
        match all.as_mut() {
            Some(a) => {
                a.vstack_mut(&df).unwrap();
            }
            None => all = Some(df),
        }
    }
    all.unwrap_or_else(|| panic!("no {table} files under {}", out.display()))
}

fn count_eq(df: &DataFrame, col: &str, value: &str) -> u64 {
    df.column(col)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .filter(|v| *v == Some(value))
        .count() as u64
}

fn count_true(df: &DataFrame, col: &str) -> u64 {
    df.column(col)
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .filter(|v| *v == Some(true))
        .count() as u64
}

/// Messages with at least one deferral, by (host, message).
fn deferred_messages(d: &DataFrame) -> u64 {
    let status = d.column("status").unwrap().str().unwrap();
    let host = d.column("host").unwrap().str().unwrap();
    let msg = d.column("message").unwrap().u32().unwrap();
    let mut set = std::collections::HashSet::new();
    for i in 0..d.height() {
        if status.get(i) == Some("deferred") {
            set.insert((host.get(i).map(str::to_string), msg.get(i)));
        }
    }
    set.len() as u64
}

/// The totals the tables hold, computed with polars.
fn polars_totals(out: &Path) -> Vec<(&'static str, u64)> {
    let d = read(out, "deliveries");
    let m = read(out, "messages");
    vec![
        ("delivered", count_eq(&d, "status", "sent")),
        ("deferral_events", count_eq(&d, "status", "deferred")),
        ("bounced", count_eq(&d, "status", "bounced")),
        ("soft_bounced", count_true(&d, "soft_bounce")),
        ("deferred_messages", deferred_messages(&d)),
        ("received", count_true(&m, "received")),
        ("expired", count_true(&m, "expired")),
        ("deleted", count_true(&m, "deleted")),
        ("held", count_true(&m, "held")),
    ]
}

/// The same totals in DuckDB SQL; `None` where the package is missing.
fn duckdb_totals(out: &Path) -> Option<Vec<(String, u64)>> {
    let script = r#"
import json, sys
try:
    import duckdb
except Exception as e:
    print("NO_DUCKDB", e)
    sys.exit(0)
out = sys.argv[1]
d = f"read_parquet('{out}/deliveries/**/*.parquet', hive_partitioning=true)"
m = f"read_parquet('{out}/messages/**/*.parquet', hive_partitioning=true)"
q = lambda s: duckdb.sql(s).fetchall()[0][0]
print(json.dumps({
  "delivered": q(f"select count(*) from {d} where status = 'sent'"),
  "deferral_events": q(f"select count(*) from {d} where status = 'deferred'"),
  "bounced": q(f"select count(*) from {d} where status = 'bounced'"),
  "soft_bounced": q(f"select count(*) from {d} where soft_bounce"),
  "deferred_messages": q(f"select count(distinct (host, message)) from {d} where status = 'deferred'"),
  "received": q(f"select count(*) from {m} where received"),
  "expired": q(f"select count(*) from {m} where expired"),
  "deleted": q(f"select count(*) from {m} where deleted"),
  "held": q(f"select count(*) from {m} where held"),
}))
"#;
    let o = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(out)
        .output();
    let o = match o {
        Ok(o) => o,
        Err(e) => {
            eprintln!("skipping DuckDB: python3 cannot run ({e})");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&o.stdout);
    if text.starts_with("NO_DUCKDB") {
        eprintln!(
            "skipping DuckDB: the duckdb Python package is missing ({})",
            text.trim()
        );
        return None;
    }
    // A query that fails is a failure, not a skip.
    assert!(
        o.status.success(),
        "duckdb: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_str(text.trim()).expect("duckdb output");
    Some(
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
            .collect(),
    )
}

/// Both readers agree with summary.json's totals.
fn check_totals(summary: &Value, out: &Path) {
    let totals = &summary["totals"];
    for (k, n) in polars_totals(out) {
        assert_eq!(n, totals[k].as_u64().unwrap(), "polars: {k}");
    }
    if let Some(duck) = duckdb_totals(out) {
        for (k, n) in duck {
            assert_eq!(n, totals[k.as_str()].as_u64().unwrap(), "duckdb: {k}");
        }
    }
    // Deferrals per cause as causes[] counts them, after the port 25
    // judgement.
    let d = read(out, "deliveries");
    for c in summary["causes"].as_array().unwrap() {
        let cause = c["cause"].as_str().unwrap();
        let status = d.column("status").unwrap().str().unwrap();
        let causes = d.column("cause").unwrap().str().unwrap();
        let n = (0..d.height())
            .filter(|&i| status.get(i) == Some("deferred") && causes.get(i) == Some(cause))
            .count() as u64;
        assert_eq!(n, c["deferral_events"].as_u64().unwrap(), "cause {cause}");
    }
}

#[test]
fn lab_tables_read_back_to_the_summary_totals() {
    let Some(logs) = lab_logs() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    let summary = analyze(&logs, &out, &["--parquet", "--tables-csv"]);
    check_totals(&summary, &out);
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("tables.json")).unwrap()).unwrap();
    assert_eq!(manifest["schema_version"], 1);
    let d = read(&out, "deliveries");
    assert_eq!(
        manifest["tables"]["deliveries"]["rows"].as_u64().unwrap(),
        d.height() as u64
    );
    // Partitioned by host and date, and the marker lists every file.
    let marker = std::fs::read_to_string(out.join(".postmortem-report")).unwrap();
    for f in files(&out, "deliveries", "parquet") {
        let rel = f.strip_prefix(&out).unwrap().to_string_lossy().into_owned();
        assert!(rel.contains("/host=") && rel.contains("/date="), "{rel}");
        assert!(marker.lines().any(|l| l == rel), "{rel} not in the marker");
    }
    // The CSV copies hold the same rows.
    let csv_rows: usize = files(&out, "deliveries", "csv")
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap().lines().count() - 1)
        .sum();
    assert_eq!(csv_rows, d.height());
    // Every failed attempt has its cause; reply codes and stages are read.
    let failed = count_eq(&d, "status", "deferred") + count_eq(&d, "status", "bounced");
    assert!(failed > 0);
    assert_eq!(
        d.column("cause").unwrap().null_count() as u64,
        d.height() as u64 - failed
    );
    assert!(d.column("reply_code").unwrap().null_count() < d.height());
    assert!(count_eq(&d, "stage", "rcpt") > 0);
    // Replaced with --force, tables and all.
    let again = analyze(&logs, &out, &["--parquet", "--force"]);
    assert_eq!(again["totals"], summary["totals"]);
}

#[test]
fn generated_tables_read_back_to_the_summary_totals() {
    let samples = root().join("samples");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    let summary = analyze(&samples, &out, &["--parquet"]);
    check_totals(&summary, &out);
    // A dump was given: its rows, with the dump time.
    let q = read(&out, "queue");
    assert_eq!(
        q.height() as u64,
        summary["queue"]["recipients"].as_u64().unwrap()
    );
    assert_eq!(q.column("dump_time").unwrap().null_count(), 0);
    let e = read(&out, "episodes");
    assert_eq!(
        e.height(),
        summary["blacklistings"].as_array().unwrap().len()
    );
}

/// Every text cell of every table under `out`, read with polars.
fn all_text(out: &Path) -> String {
    let mut text = String::new();
    for t in [
        "deliveries",
        "messages",
        "episodes",
        "incidents",
        "suspects",
        "guessing",
        "queue",
    ] {
        for f in files(out, t, "parquet") {
            let df = ParquetReader::new(std::fs::File::open(&f).unwrap())
                .finish()
                .unwrap();
            for c in df.columns() {
                if let Ok(s) = c.str() {
                    for v in s.iter().flatten() {
                        text.push_str(v);
                        text.push('\n');
                    }
                }
            }
        }
    }
    text
}

#[test]
fn redact_reaches_the_tables() {
    let Some(logs) = lab_logs() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("plain");
    analyze(&logs, &plain, &["--parquet"]);
    let d = read(&plain, "deliveries");
    let secrets: std::collections::BTreeSet<String> = d
        .column("recipient")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .filter(|r| r.contains('@') && !r.starts_with("postmaster@"))
        .map(str::to_string)
        .collect();
    assert!(secrets.len() > 10);
    let red = tmp.path().join("red");
    analyze(
        &logs,
        &red,
        &["--parquet", "--tables-csv", "--redact", "--salt", "s"],
    );
    let text = all_text(&red);
    assert!(text.contains("user-"), "pseudonyms are there");
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "{s} left in a table");
    }
    let csvs: String = files(&red, "deliveries", "csv")
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    for s in &secrets {
        assert!(!csvs.contains(s.as_str()), "{s} left in a CSV table");
    }
}

#[test]
fn parquet_costs_little_memory() {
    // The rows stream through a file: peak memory stays within 10% (and
    // 16 MiB of writer buffers) of a run without the tables.
    let samples = root().join("samples");
    let tmp = tempfile::tempdir().unwrap();
    let rss = |extra: &[&str], name: &str| {
        let mut args: Vec<String> = vec!["analyze".into(), samples.display().to_string()];
        args.extend(["--quiet".into(), "--out".into()]);
        args.push(tmp.path().join(name).display().to_string());
        args.extend(extra.iter().map(|s| s.to_string()));
        let run = common::run::run_bin(&args, None, Duration::from_secs(300));
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        run.max_rss_kib
    };
    let without = rss(&[], "a");
    let with = rss(&["--parquet"], "b");
    eprintln!("peak RSS: {without} KiB without --parquet, {with} KiB with");
    assert!(
        with <= without + without / 10 + 16 * 1024,
        "{with} KiB with --parquet, {without} KiB without"
    );
}

/// The same check on any report folder written with `--parquet`, e.g. a
/// 30 M-line generated set:
///
/// ```text
/// PM_REPORT=/tmp/r30 cargo test --release --test tables -- --ignored --nocapture given_report
/// ```
#[test]
#[ignore]
fn given_report_tables_read_back_to_its_totals() {
    let Ok(dir) = std::env::var("PM_REPORT") else {
        eprintln!("set PM_REPORT to a report folder written with --parquet");
        return;
    };
    let out = PathBuf::from(dir);
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let started = std::time::Instant::now();
    check_totals(&summary, &out);
    eprintln!(
        "{}: the tables give summary.json's totals ({:.1} s)",
        out.display(),
        started.elapsed().as_secs_f64()
    );
}
