//! A chunk of arbitrary bytes through the line parser: every non-blank line
//! is counted exactly once, and every span of every event lies inside the
//! chunk.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postmortem::parse::{self, EventKind, Span};

fn check(chunk: &[u8], s: Span) {
    assert!(
        s.start as usize + s.len as usize <= chunk.len(),
        "span {s:?} outside a chunk of {}",
        chunk.len()
    );
}

fuzz_target!(|chunk: &[u8]| {
    let p = parse::parse_chunk(chunk);
    let st = &p.stats;
    assert_eq!(st.total, st.postfix + st.other);
    assert!(st.no_header <= st.other);
    assert!(st.not_understood <= st.postfix);
    assert!(p.events.len() as u64 <= st.total);
    for ev in &p.events {
        check(chunk, ev.host);
        assert!((ev.line_start as usize) < chunk.len());
        match ev.kind {
            EventKind::Client {
                client,
                sasl_username,
                ..
            } => {
                check(chunk, client);
                check(chunk, sasl_username);
            }
            EventKind::Delivery {
                to,
                orig_to,
                relay,
                dsn,
                reason,
                ..
            } => {
                for s in [to, orig_to, relay, dsn, reason] {
                    check(chunk, s);
                }
            }
            EventKind::Reject {
                client,
                reason,
                from,
                to,
                helo,
                ..
            } => {
                for s in [client, reason, from, to, helo] {
                    check(chunk, s);
                }
            }
            EventKind::Diagnostic { program, text, .. } => {
                check(chunk, program);
                check(chunk, text);
            }
            EventKind::SaslFailure {
                client,
                username,
                reason,
            } => {
                for s in [client, username, reason] {
                    check(chunk, s);
                }
            }
            _ => {}
        }
    }
});
