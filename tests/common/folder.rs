//! A generated log folder as the generator tests read it back.
#![allow(dead_code)]

use std::io::Read;
use std::path::Path;

/// Every file of a folder, name -> bytes, sorted by name.
pub fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The log lines, oldest file first (highest rotation number first).
pub fn log_lines(dir: &Path) -> Vec<String> {
    let mut names: Vec<(u32, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("mail.log"))
        .map(|n| {
            let num = n
                .trim_start_matches("mail.log")
                .trim_start_matches('.')
                .trim_end_matches(".gz")
                .parse()
                .unwrap_or(0);
            (num, n)
        })
        .collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.0));
    let mut text = String::new();
    for (_, n) in names {
        let bytes = std::fs::read(dir.join(&n)).unwrap();
        if n.ends_with(".gz") {
            assert_eq!(&bytes[..2], &[0x1f, 0x8b], "{n} is not gzip");
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_string(&mut text)
                .unwrap();
        } else {
            text.push_str(std::str::from_utf8(&bytes).unwrap());
        }
    }
    text.lines().map(str::to_string).collect()
}
