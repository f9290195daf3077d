//! `postqueue -j` JSON-lines parser on arbitrary bytes, in UTC and in a
//! zone with DST: a dump, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postmortem::parse::queue;
use std::sync::LazyLock;

static BERLIN: LazyLock<Option<jiff::tz::TimeZone>> =
    LazyLock::new(|| jiff::tz::TimeZone::get("Europe/Berlin").ok());

fuzz_target!(|bytes: &[u8]| {
    let d = queue::parse_json(bytes);
    let _ = d.recipients();
    let _ = d.newest_arrival();
    for m in &d.messages {
        let _ = m.sender_domain();
    }
    let _ = queue::parse_json_in_zone(bytes, BERLIN.as_ref());
});
