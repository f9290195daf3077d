//! `postqueue -p` text parser on arbitrary bytes: a dump (possibly with
//! problems), never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postmortem::parse::queue;
use postmortem::time::LogTime;

fuzz_target!(|bytes: &[u8]| {
    let now = LogTime::from_civil(2026, 11, 28, 19, 0, 0, 0).unwrap();
    let d = queue::parse_text(bytes, now);
    let _ = d.recipients();
    let _ = d.bytes();
    let _ = d.newest_arrival();
    for m in &d.messages {
        let _ = m.sender_domain();
        let _ = m.first_reason();
    }
    let _ = queue::detect(bytes);
    let _ = queue::parse(bytes, now, None);
});
