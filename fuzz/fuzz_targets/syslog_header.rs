//! The syslog header parser on arbitrary bytes: a stamp, host, program and
//! message, or `None`, never a panic. Whatever it returns must be borrowed
//! from the line it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postmortem::parse::syslog;

fn inside(line: &[u8], part: &[u8]) -> bool {
    part.is_empty() || {
        let start = part.as_ptr() as usize;
        let base = line.as_ptr() as usize;
        start >= base && start + part.len() <= base + line.len()
    }
}

fuzz_target!(|line: &[u8]| {
    if let Some(h) = syslog::parse_header(line) {
        assert!(inside(line, h.host));
        assert!(inside(line, h.program));
        assert!(inside(line, h.message));
        let _ = syslog::service(h.program);
        let _ = h.stamp.in_year(2026);
        let _ = h.stamp.in_year(2024);
    }
    let _ = syslog::parse_stamp(line);
});
