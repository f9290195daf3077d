//! Characters from log lines that must never reach a reader as they are.
//!
//! A control character (NUL, ESC, CR) can rewrite a terminal or break a CSV
//! row; a line separator (U+2028) splits a line in some viewers; a bidi
//! override (U+202E) makes `moc.elpmaxe@nhoj` display as another address; a
//! zero-width character hides inside a name. Every exporter shows them as a
//! visible `<U+XXXX>`, so the text stays readable and nothing is dropped
//! silently. JSON stays valid: the escape is plain text.

use crate::model::Summary;
use std::borrow::Cow;

/// Every string of the Summary escaped: all exporters then show the same
/// visible text.
pub fn escape_summary(summary: &mut Summary) {
    // Most summaries hold nothing to escape, and their JSON text says so
    // faster than the round trip through a tree of values (tens of
    // milliseconds on a large one).
    if serde_json::to_vec(&*summary).is_ok_and(|json| !json_may_hold_unsafe(&json)) {
        return;
    }
    let Ok(mut v) = serde_json::to_value(&*summary) else {
        return;
    };
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => {
                if let Cow::Owned(e) = escape_unsafe(s) {
                    *s = e;
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(walk),
            serde_json::Value::Object(o) => o.values_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    if let Ok(s) = serde_json::from_value::<Summary>(v) {
        *summary = s;
    }
}

/// A quick test on a JSON text: false means none of its strings holds an
/// unsafe character. serde_json writes C0 controls as escapes (`\n`,
/// `\u0001`) and everything else as it is.
fn json_may_hold_unsafe(json: &[u8]) -> bool {
    if may_hold_unsafe(json) {
        return true;
    }
    let mut i = 0;
    while let Some(p) = json.get(i..).and_then(|t| memchr::memchr(b'\\', t)) {
        let at = i + p;
        match json.get(at + 1) {
            Some(b'n' | b'r' | b't' | b'b' | b'f' | b'u') => return true,
            // `\\`, `\"`, `\/`: the escaped character is skipped too.
            _ => i = at + 2,
        }
    }
    false
}

/// Whether `c` is shown as `<U+XXXX>` instead of itself.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Line and paragraph separators.
            '\u{2028}' | '\u{2029}'
            // Bidi marks, embeddings, overrides and isolates.
            | '\u{061C}' | '\u{200E}' | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            // Zero-width characters and the byte order mark.
            | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
            // Interlinear annotations: hidden text in some renderers.
            | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// A quick test on raw bytes: false means no unsafe character but line
/// ends can be in them (each unsafe character is a C0 byte, DEL, or starts
/// with one of the UTF-8 lead bytes below), so a large file that is clean
/// is not decoded.
pub fn may_hold_unsafe(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .any(|&b| (b < 0x20 && b != b'\n') || matches!(b, 0x7f | 0xc2 | 0xd8 | 0xe2 | 0xef))
}

/// `s` with every unsafe character written as `<U+XXXX>`.
pub fn escape_unsafe(s: &str) -> Cow<'_, str> {
    escape_with(s, |_| false)
}

/// As [`escape_unsafe`], but line ends stay: for whole files (CSV rows)
/// whose cells were written by a CSV writer.
pub fn escape_unsafe_keep_lines(s: &str) -> Cow<'_, str> {
    escape_with(s, |c| c == '\n')
}

fn escape_with(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe_char(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_unsafe_char(c) && !keep(c) {
            out.push_str(&format!("<U+{:04X}>", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One line of text for a terminal (a `postmortem: PROBLEM` line): every
/// unsafe character, line ends included, shown as `<U+XXXX>`.
pub fn terminal_line(s: &str) -> String {
    escape_unsafe(s).into_owned()
}

/// A writer for terminal output built from log and dump text (`postmortem
/// queue`, `postmortem explain`): whatever is written, escape sequences
/// and other unsafe characters reach the terminal only as `<U+XXXX>`; line
/// ends pass.
pub struct SafeWriter<W> {
    inner: W,
}

impl<W: std::io::Write> SafeWriter<W> {
    pub fn new(inner: W) -> Self {
        SafeWriter { inner }
    }
}

impl<W: std::io::Write> std::io::Write for SafeWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !may_hold_unsafe(buf) {
            return self.inner.write(buf);
        }
        // Formatted writes hand over whole pieces; a character split
        // between two writes is shown as U+FFFD, never as raw bytes.
        let text = String::from_utf8_lossy(buf);
        self.inner
            .write_all(escape_unsafe_keep_lines(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The quick test never misses a string the escaping changes.
        #[test]
        fn the_json_test_finds_every_string_to_escape(
            s in r#"\PC*|[\x00-\x7f\u{80}-\u{9f}\u{2028}\u{202e}\u{feff}a\\"]{0,40}"#
        ) {
            let json = serde_json::to_vec(&s).unwrap();
            if matches!(escape_unsafe(&s), Cow::Owned(_)) {
                proptest::prop_assert!(json_may_hold_unsafe(&json), "{s:?}");
            }
        }
    }

    #[test]
    fn the_json_test_passes_clean_text_and_reads_escapes() {
        let clean =
            serde_json::to_vec(&["host mx.example.com[192.0.2.1] said: 550 \\ \"quoted\" a/b"])
                .unwrap();
        assert!(!json_may_hold_unsafe(&clean));
        for bad in [
            "line\nbreak",
            "tab\there",
            "bell\u{7}",
            "bidi\u{202E}x",
            "del\u{7f}",
        ] {
            let json = serde_json::to_vec(&[bad]).unwrap();
            assert!(json_may_hold_unsafe(&json), "{bad:?}");
        }
        // Not valid JSON, but never a panic.
        assert!(!json_may_hold_unsafe(b"ends with \\"));
    }

    #[test]
    fn controls_bidi_and_separators_become_visible() {
        let s = "a\0b\x1b[31mc\u{2028}d\u{202E}moc.elpmaxe\u{200B}e\u{7f}\u{85}";
        let e = escape_unsafe(s);
        assert_eq!(
            e,
            "a<U+0000>b<U+001B>[31mc<U+2028>d<U+202E>moc.elpmaxe<U+200B>e<U+007F><U+0085>"
        );
        assert!(matches!(escape_unsafe("plain, ünïcode"), Cow::Borrowed(_)));
        assert_eq!(escape_unsafe("a\nb\tc"), "a<U+000A>b<U+0009>c");
        assert_eq!(escape_unsafe_keep_lines("a\nb\rc"), "a\nb<U+000D>c");
    }

    #[test]
    fn terminal_writer_never_passes_escape_sequences() {
        use std::io::Write;
        let mut out = SafeWriter::new(Vec::new());
        write!(
            out,
            "sender \x1b]52;c;ZXZpbA==\x07 and \x1b[2J, title \x1b]0;owned\x07\nnext line\n"
        )
        .unwrap();
        let text = String::from_utf8(out.inner).unwrap();
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
        assert!(text.contains("<U+001B>]52;c;ZXZpbA==<U+0007>"), "{text:?}");
        assert_eq!(text.lines().count(), 2);
        assert_eq!(terminal_line("a\nb\x1b"), "a<U+000A>b<U+001B>");
    }
}
