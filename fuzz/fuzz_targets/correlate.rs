//! Arbitrary bytes through the parser and the correlator, split at a line
//! end chosen by the input: findings (messages.csv's rows too), never a
//! panic, and totals that do not depend on where the split fell.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postmortem::classify::Classifier;
use postmortem::correlate::{Correlator, YearPolicy};
use postmortem::input;
use postmortem::parse;
use std::sync::LazyLock;

static CLASSIFIER: LazyLock<Classifier> = LazyLock::new(Classifier::builtin);

fn run(parts: &[&[u8]]) -> postmortem::correlate::Counts {
    let years = YearPolicy {
        forced: None,
        anchor: Some((2026, 11, 29)),
    };
    let mut c = Correlator::new(&CLASSIFIER, years);
    c.track_messages();
    for p in parts {
        let parsed = parse::parse_chunk(p);
        c.consume(0, 1, p, &parsed.events);
    }
    let f = c.finish();
    // messages.csv's rows: any bytes, never a panic.
    let rows = postmortem::analyze::messages::message_rows(
        &f,
        &postmortem::time::TimeFormat::local(),
        &Default::default(),
    );
    assert!(rows.len() <= f.messages as usize + 1);
    f.counts
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, chunk)) = data.split_first() else {
        return;
    };
    let whole = run(&[chunk]);
    let parts = input::split_lines(chunk, (n % 8) as usize + 1);
    let split = run(&parts);
    assert_eq!(format!("{whole:?}"), format!("{split:?}"));
});
