//! The public corpus beside the project (`../shared/corpus`), which tests
//! may read but not copy. Where it is absent a test skips with a message;
//! with `POSTMORTEM_REQUIRE_CORPUS` set (`.ci/run` sets it when the corpus
//! is there) the test fails instead, so a run meant to read the corpus
//! cannot pass by skipping it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `../shared/corpus/<rel>` (`rel` empty: the corpus itself), if present.
pub fn corpus(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var_os("POSTMORTEM_REQUIRE_CORPUS").is_some() {
        panic!(
            "{} is absent and POSTMORTEM_REQUIRE_CORPUS is set",
            p.display()
        );
    }
    eprintln!("skipping: {} is absent", p.display());
    None
}
