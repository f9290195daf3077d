//! The reason classifier and the normaliser on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postmortem::classify::{normalise, Classifier};
use std::sync::LazyLock;

static CLASSIFIER: LazyLock<Classifier> = LazyLock::new(Classifier::builtin);

fuzz_target!(|text: &str| {
    let v = CLASSIFIER.classify(text);
    let _ = v.cause.id();
    let n = normalise(text);
    // Normalising is idempotent in spirit; at least it must classify too.
    let _ = CLASSIFIER.classify(&n);
});
