//! Every output file of three fixed runs, byte for byte against committed
//! copies: lab-1 against `tests/golden/lab-1`, the samples against the
//! example report in `reports/example` (the README's command with a given
//! year), and a generated incident (two sources, gzip rotations, a dump)
//! against `tests/golden/generated`. A change that moves any byte of any report shows here. After an
//! intended change, regenerate them with
//! `POSTMORTEM_UPDATE_GOLDEN=1 cargo test --test golden` and review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/scenario.rs"]
mod scenario;

fn run(golden: &str, args: &[&str]) {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), golden, args);
}

/// Runs the tool in `root` (the inputs named relative to it).
fn run_in(root: &Path, golden: &str, args: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    // Relative input paths, so the reports name the same files everywhere;
    // the callers give the year, so nothing depends on file times.
    let o = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .current_dir(root)
        .arg("analyze")
        .args(args)
        .args(["--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join(golden);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    if std::env::var_os("POSTMORTEM_UPDATE_GOLDEN").is_some() {
        let _ = std::fs::remove_dir_all(&golden);
        std::fs::create_dir_all(&golden).unwrap();
        for f in &files {
            std::fs::copy(f, golden.join(f.file_name().unwrap())).unwrap();
        }
        return;
    }
    let mut want: Vec<String> = std::fs::read_dir(&golden)
        .unwrap_or_else(|e| panic!("{}: {e}", golden.display()))
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    want.sort();
    let got: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(got, want, "the files written");
    for f in &files {
        let name = f.file_name().unwrap();
        let a = std::fs::read(f).unwrap();
        let b = std::fs::read(golden.join(name)).unwrap();
        assert!(
            a == b,
            "{} differs from tests/golden",
            name.to_string_lossy()
        );
    }
}

#[test]
fn lab1_with_its_dump_is_byte_identical() {
    run(
        "tests/golden/lab-1",
        &[
            "tests/fixtures/lab-1/logs",
            "tests/fixtures/lab-1/queue/postqueue-p.txt",
            "--year",
            "2026",
            "--timezone",
            "UTC",
        ],
    );
}

#[test]
fn samples_give_the_committed_example_report() {
    // The samples begin in December 2025.
    run("reports/example", &["samples/", "--year", "2025"]);
}

#[test]
fn a_generated_incident_is_byte_identical() {
    // The generator is deterministic by seed; the inputs are named
    // relative to the folder they are generated in.
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    scenario::generate(&logs, 424242, Some("two-sources"));
    run_in(
        tmp.path(),
        "tests/golden/generated",
        &["logs", "--timezone", "UTC"],
    );
}
