//! The stream reader on arbitrary bytes, plain and as gzip (valid and
//! corrupt): it must never panic, its text must be lines of the input (cut
//! at the limit), and memory stays bounded by the block and the line limit.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use postmortem::input::{read_stream_to_end, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let opts = ReadOptions {
        block: 256,
        max_line: 64,
    };
    let plain = read_stream_to_end(data, false, opts);
    assert!(plain.failure.is_none());
    // Every line handed out is at most the limit (plus its line end).
    for line in plain.text.split(|&c| c == b'\n') {
        assert!(line.len() <= opts.max_line.max(opts.block) + 1, "{}", line.len());
    }
    // The same bytes gzipped read back the same; then with a byte flipped
    // the reader stops, or reads, but never panics.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    let mut gz = enc.finish().unwrap();
    let unzipped = read_stream_to_end(
        postmortem::input::gzip::GzReader::new(&gz[..]),
        true,
        opts,
    );
    assert_eq!(unzipped.text, plain.text);
    if let Some(&first) = data.first() {
        let at = first as usize % gz.len();
        gz[at] ^= 0x5a;
        let _ = read_stream_to_end(postmortem::input::gzip::GzReader::new(&gz[..]), true, opts);
    }
});
