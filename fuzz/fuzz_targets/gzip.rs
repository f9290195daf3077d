//! The gzip reader (input/gzip.rs) on arbitrary bytes as a gzip file, and
//! on valid gzip of arbitrary bytes: it must never panic or loop, and must
//! read back what flate2 wrote. (Resuming at checkpoints is tested in the
//! module's unit tests: fuzz inputs are far smaller than their spacing.)
#![no_main]

use std::io::{Read, Write};

use libfuzzer_sys::fuzz_target;
use postmortem::input::gzip::GzReader;

fn read_all(r: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 777];
    loop {
        match r.read(&mut buf)? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // Arbitrary bytes taken for gzip: an error or text, never a panic.
    let _ = read_all(&mut GzReader::new(data));

    // Valid gzip (two members when there is enough data) reads back.
    let mut gz = Vec::new();
    let parts: Vec<&[u8]> = match data.is_empty() {
        true => vec![data],
        false => data.chunks(data.len() / 2 + 1).collect(),
    };
    for part in parts {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(part).unwrap();
        gz.extend(enc.finish().unwrap());
    }
    let mut r = GzReader::indexed(&gz[..]);
    assert_eq!(read_all(&mut r).unwrap(), data);

    // A byte flipped: the reader stops or reads, but never panics.
    if let Some(&first) = data.first() {
        let at = first as usize % gz.len();
        gz[at] ^= 0x5a;
        let _ = read_all(&mut GzReader::new(&gz[..]));
    }
});
