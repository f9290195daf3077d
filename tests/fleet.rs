//! `postmortem fleet` over three generated hosts: scenarios from the
//! scenario generator, given host names of their own, two of them made to
//! share the attacker's IP and the stolen login (the second host's are
//! renamed to the first's in its logs, so each truth stays exact under the
//! renaming). The fleet report must name that login and that IP with the
//! two hosts, and nothing of the third host's source as shared. The README's
//! DuckDB queries are run on the same tables (skipped with a message where
//! the `duckdb` Python package cannot be imported).

mod common;
#[allow(dead_code)]
#[path = "../examples/gen_scenarios/mod.rs"]
mod gen;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

/// Seeds whose scenario has a phished SASL login sending from new IPs.
const HOSTS: [(&str, u64); 3] = [("mx-a", 11), ("mx-b", 12), ("mx-c", 13)];

/// The truth's first source that is a SASL login with attacker IPs.
fn stolen_login(truth: &Value) -> (String, String) {
    let s = truth["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "sasl" && !s["attacker_ips"].as_array().unwrap().is_empty())
        .expect("a scenario with a stolen login");
    (
        s["identity"]
            .as_str()
            .unwrap()
            .trim_start_matches("sasl:")
            .to_string(),
        s["attacker_ips"][0].as_str().unwrap().to_string(),
    )
}

/// `from` replaced by `to` where it stands as a whole word (an address or
/// IP inside a longer one is left alone).
fn replace_word(text: &str, from: &str, to: &str) -> String {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || "._-+".contains(c));
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(p) = rest.find(from) {
        let before = match p {
            0 => out.chars().next_back(),
            _ => rest[..p].chars().next_back(),
        };
        let after = rest[p + from.len()..].chars().next();
        out.push_str(&rest[..p]);
        out.push_str(if word(before) || word(after) {
            from
        } else {
            to
        });
        rest = &rest[p + from.len()..];
    }
    out.push_str(rest);
    out
}

/// Rewrites a generated host's logs: its syslog host field, and the words
/// given.
fn rewrite(dir: &Path, host: &str, words: &[(String, String)]) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("mail.log") {
            continue;
        }
        let bytes = std::fs::read(e.path()).unwrap();
        let gz = name.ends_with(".gz");
        let mut text = String::new();
        if gz {
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_string(&mut text)
                .unwrap();
        } else {
            text = String::from_utf8(bytes).unwrap();
        }
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            // `Mon dd hh:mm:ss HOST program[pid]: ...`
            let fields: Vec<&str> = line.splitn(5, ' ').collect();
            let (head, rest) = if fields.len() == 5 && fields[1].is_empty() {
                // `Jan  3`: two spaces.
                let f: Vec<&str> = line.splitn(6, ' ').collect();
                (f[..4].join(" "), f.get(5).copied().unwrap_or(""))
            } else {
                (fields[..3].join(" "), fields.get(4).copied().unwrap_or(""))
            };
            out.push_str(&head);
            out.push(' ');
            out.push_str(host);
            out.push(' ');
            out.push_str(rest);
            out.push('\n');
        }
        for (from, to) in words {
            out = replace_word(&out, from, to);
        }
        let data = if gz {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(out.as_bytes()).unwrap();
            enc.finish().unwrap()
        } else {
            out.into_bytes()
        };
        std::fs::write(e.path(), data).unwrap();
    }
}

struct Fleet {
    _tmp: tempfile::TempDir,
    runs: PathBuf,
    report: Value,
    shared_login: String,
    shared_ip: String,
    third: (String, String),
}

fn fleet() -> Fleet {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("out");
    let mut first: Option<(String, String)> = None;
    let mut third = (String::new(), String::new());
    for (i, (host, seed)) in HOSTS.iter().enumerate() {
        let dir = tmp.path().join(format!("logs-{host}"));
        let truth = gen::generate(
            &dir,
            *seed,
            Some(gen::Shape::parse("script-outsends-login").unwrap()),
        )
        .unwrap();
        let (login, ip) = stolen_login(&truth);
        let words = match (i, &first) {
            (1, Some((l, a))) => vec![(login.clone(), l.clone()), (ip.clone(), a.clone())],
            _ => Vec::new(),
        };
        if i == 0 {
            first = Some((login.clone(), ip.clone()));
        }
        if i == 2 {
            third = (login, ip);
        }
        rewrite(&dir, host, &words);
        let out = runs.join(host);
        let run = common::run::run_bin(
            &[
                "analyze",
                dir.to_str().unwrap(),
                "--parquet",
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ],
            None,
            Duration::from_secs(300),
        );
        assert_eq!(run.code, Some(0), "{}", run.stderr);
    }
    let report_dir = tmp.path().join("fleet");
    let run = common::run::run_bin(
        &[
            "fleet",
            runs.to_str().unwrap(),
            "--out",
            report_dir.to_str().unwrap(),
        ],
        None,
        Duration::from_secs(300),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("report: "), "{}", run.stdout);
    eprintln!("postmortem fleet:\n{}", run.stdout);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(report_dir.join("fleet.json")).unwrap())
            .unwrap();
    for f in [
        "fleet.html",
        "fleet_causes.csv",
        "fleet_shared.csv",
        "fleet_overlaps.csv",
        "fleet_ongoing.csv",
    ] {
        assert!(report_dir.join(f).is_file(), "{f}");
    }
    let (shared_login, shared_ip) = first.unwrap();
    Fleet {
        _tmp: tmp,
        runs,
        report,
        shared_login,
        shared_ip,
        third,
    }
}

fn shared_hosts(report: &Value, kind: &str, value: &str) -> Option<Vec<String>> {
    report["shared"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind && s["value"] == value)
        .map(|s| {
            s["hosts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap().to_string())
                .collect()
        })
}

/// The README's DuckDB queries (the ```sql blocks under "Fleet queries"),
/// with `out/` standing for the folder of runs.
fn readme_queries() -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("### Fleet queries")
        .nth(1)
        .expect("a Fleet queries section in the README");
    let section = section.split("\n## ").next().unwrap();
    section
        .split("```sql\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap().to_string())
        .collect()
}

fn duckdb(queries: &[String], runs: &Path) -> Option<Vec<Value>> {
    let script = r#"
import json, sys
try:
    import duckdb
except Exception as e:
    print("NO_DUCKDB", e)
    sys.exit(0)
con = duckdb.connect()
out = []
for q in json.loads(sys.stdin.read()):
    cur = con.execute(q)
    cols = [d[0] for d in cur.description]
    out.append([dict(zip(cols, [str(v) if v is not None else None for v in r])) for r in cur.fetchall()])
print(json.dumps(out))
"#;
    let qs: Vec<String> = queries
        .iter()
        .map(|q| q.replace("'out/", &format!("'{}/", runs.display())))
        .collect();
    let mut child = match std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("skipping DuckDB: python3 cannot run ({e})");
            return None;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&qs).unwrap().as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    if text.starts_with("NO_DUCKDB") {
        eprintln!(
            "skipping DuckDB: the duckdb Python package is missing ({})",
            text.trim()
        );
        return None;
    }
    assert!(
        o.status.success(),
        "duckdb: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    Some(serde_json::from_str::<Vec<Value>>(text.trim()).unwrap())
}

#[test]
fn fleet_names_the_shared_login_and_ip_and_their_hosts() {
    let f = fleet();
    let r = &f.report;
    assert_eq!(r["hosts"], serde_json::json!(["mx-a", "mx-b", "mx-c"]));
    let both = vec!["mx-a".to_string(), "mx-b".to_string()];
    assert_eq!(
        shared_hosts(r, "login", &f.shared_login),
        Some(both.clone()),
        "{:#}",
        r["shared"]
    );
    assert_eq!(
        shared_hosts(r, "ip", &f.shared_ip),
        Some(both.clone()),
        "{:#}",
        r["shared"]
    );
    // The third host's source is its own.
    assert_eq!(shared_hosts(r, "login", &f.third.0), None);
    assert_eq!(shared_hosts(r, "ip", &f.third.1), None);
    // Every host's causes over time are there.
    for h in ["mx-a", "mx-b", "mx-c"] {
        assert!(
            r["causes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["host"] == h && c["cause"] == "blacklisted"),
            "{h}"
        );
    }

    // The README's DuckDB queries answer the same.
    let queries = readme_queries();
    assert_eq!(queries.len(), 4, "four fleet queries in the README");
    let Some(results) = duckdb(&queries, &f.runs) else {
        return;
    };
    let shared = &results[2];
    let hosts_of = |value: &str| {
        shared
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["value"] == value)
            .map(|row| row["hosts"].as_str().unwrap().to_string())
    };
    assert_eq!(
        hosts_of(&f.shared_login).as_deref(),
        Some("mx-a, mx-b"),
        "{shared:#}"
    );
    assert_eq!(
        hosts_of(&f.shared_ip).as_deref(),
        Some("mx-a, mx-b"),
        "{shared:#}"
    );
    assert_eq!(hosts_of(&f.third.0), None);
    // Causes per host and day: the same deferral count as the fleet report.
    let sum = |rows: &Value, key: &str| -> u64 {
        rows.as_array()
            .unwrap()
            .iter()
            .map(|x| {
                x[key]
                    .as_str()
                    .map_or_else(|| x[key].as_u64().unwrap_or(0), |s| s.parse().unwrap())
            })
            .sum()
    };
    assert_eq!(
        sum(&results[0], "deferrals"),
        sum(&r["causes"], "deferrals")
    );
}
