//! The verdict cache: reason texts classified once per shape.
//!
//! Replies differ mostly in addresses, IPs and message ids, so the cache is
//! keyed on a text's shape ([`shape_key`]) and the regexes run once per
//! shape, on the parse workers, off the sequential correlator.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::{Classifier, Verdict};
use crate::parse::{DeliveryStatus, EventKind, LineEvent, RejectAction};

/// A reason text's verdict, computed on a parse worker.
#[derive(Debug)]
pub struct PreVerdict {
    pub verdict: Verdict,
    pub normalised: String,
    /// Which IPv4 address of the text (1-based, 0: none) the verdict's
    /// listed IP and remote host are: the cache key masks addresses, so
    /// each text supplies its own.
    listed_ip_slot: u8,
    remote_host_slot: u8,
}

/// A reason's shared verdict and the addresses that are its own.
#[derive(Debug, Clone)]
pub struct Classified {
    pub verdict: Arc<PreVerdict>,
    /// Byte ranges in the reason text.
    pub(crate) listed_ip: Option<(u32, u32)>,
    pub(crate) remote_ip: Option<(u32, u32)>,
}

impl Classified {
    /// The verdict of this very text: the shared one with the text's own
    /// listed IP and remote host put back.
    pub fn verdict_for(&self, text: &[u8]) -> Verdict {
        let mut v = self.verdict.verdict.clone();
        let own = |r: Option<(u32, u32)>| {
            r.and_then(|(a, b)| text.get(a as usize..b as usize))
                .map(|ip| String::from_utf8_lossy(ip).into_owned())
        };
        if let Some(ip) = own(self.listed_ip) {
            v.detail.listed_ip = Some(ip);
        }
        if let Some(ip) = own(self.remote_ip) {
            v.detail.remote_host = Some(ip);
        }
        v
    }
}

/// A thread's verdict cache.
#[derive(Default)]
struct VerdictCache {
    /// The rule table the verdicts are of.
    owner: u64,
    /// Scratch: the key being built and its IPv4 addresses' positions.
    key: Vec<u8>,
    ips: Vec<(u32, u32)>,
    map: FxHashMap<Box<[u8]>, Arc<PreVerdict>>,
    /// Bytes held by the keys: some replies carry unique words all the
    /// same, so the cache is emptied past [`CACHE_BYTES`].
    key_bytes: usize,
}

/// What one thread's cache may hold in keys.
const CACHE_BYTES: usize = 16 << 20;
/// The part of a reason text that is classified and kept: replies are a
/// few hundred bytes; a hostile one of megabytes is read to here.
pub const REASON_MAX: usize = 2048;

thread_local! {
    /// Each thread's verdict cache.
    static PRE_CACHE: std::cell::RefCell<VerdictCache> =
        std::cell::RefCell::new(VerdictCache::default());
}

/// Classifies the reason texts of a chunk's deferrals, bounces, rejects
/// and diagnostics (the events the correlator would classify), in parallel with other
/// chunks: (event index, verdict), in event order.
pub fn preclassify(
    chunk: &[u8],
    events: &[LineEvent],
    classifier: &Classifier,
) -> Vec<(u32, Classified)> {
    let mut out = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        let reason = match ev.kind {
            EventKind::Delivery {
                status:
                    DeliveryStatus::Deferred | DeliveryStatus::Bounced | DeliveryStatus::SoftBounce,
                reason,
                ..
            } => reason,
            EventKind::Diagnostic { text, .. } => text,
            EventKind::Reject {
                action: RejectAction::Reject,
                reason,
                ..
            } => reason,
            _ => continue,
        };
        out.push((i as u32, cached_verdict(reason.get(chunk), classifier)));
    }
    out
}

/// The verdict of a reason text, through this thread's cache. Replies
/// differ mostly in addresses, IPs and message ids, so the cache is keyed
/// on the text's shape and the regexes run once per shape. The key, not
/// the text, is classified: every text with one key gets the same verdict
/// and group whichever thread saw it first, so results never depend on
/// timing. IPs in the key are numbered placeholders; an IP the verdict
/// names is taken back from each text.
pub fn cached_verdict(text: &[u8], classifier: &Classifier) -> Classified {
    let text = &text[..text.len().min(REASON_MAX)];
    PRE_CACHE.with(|cache| {
        let cache = &mut *cache.borrow_mut();
        if cache.owner != classifier.id() {
            // Another rule table: its verdicts may differ.
            cache.map.clear();
            cache.key_bytes = 0;
            cache.owner = classifier.id();
        }
        let (key, ips) = (&mut cache.key, &mut cache.ips);
        shape_key(text, key, ips, !classifier.reads_addresses());
        let verdict = match cache.map.get(key.as_slice()) {
            Some(v) => v.clone(),
            None => {
                let s = String::from_utf8_lossy(key);
                let verdict = classifier.classify(&s);
                let slot = |d: &Option<String>| d.as_deref().map_or(0, placeholder_slot);
                let v = Arc::new(PreVerdict {
                    listed_ip_slot: slot(&verdict.detail.listed_ip),
                    remote_host_slot: slot(&verdict.detail.remote_host),
                    normalised: crate::classify::normalise(&s),
                    verdict,
                });
                if cache.key_bytes + key.len() > CACHE_BYTES || cache.map.len() >= 20_000 {
                    cache.map.clear();
                    cache.key_bytes = 0;
                }
                cache.key_bytes += key.len();
                cache.map.insert(key.as_slice().into(), v.clone());
                v
            }
        };
        let pick = |slot: u8| match slot {
            0 => None,
            n => ips.get(n as usize - 1).copied(),
        };
        Classified {
            listed_ip: pick(verdict.listed_ip_slot),
            remote_ip: pick(verdict.remote_host_slot),
            verdict,
        }
    })
}

/// The placeholder `0.0.0.N` stands for the Nth IPv4 address of a text.
fn placeholder_slot(ip: &str) -> u8 {
    ip.strip_prefix("0.0.0.")
        .and_then(|n| n.parse::<u8>().ok())
        .unwrap_or(0)
}

/// The end of a dotted-quad IPv4 address starting at `i`, if one does.
fn ipv4_at(w: &[u8], i: usize) -> Option<usize> {
    let mut p = i;
    for part in 0..4 {
        let start = p;
        while p < w.len() && p - start < 3 && w[p].is_ascii_digit() {
            p += 1;
        }
        if p == start || (p < w.len() && w[p].is_ascii_digit()) {
            return None;
        }
        if part < 3 {
            if w.get(p) != Some(&b'.') {
                return None;
            }
            p += 1;
        }
    }
    // `1.2.3.4.5` is not an address.
    if w.get(p) == Some(&b'.') && w.get(p + 1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some(p)
}

/// The verdict cache key of a reason text: an address becomes `a@b.c`
/// inside its own brackets (`<a@b.c>:`); IPv4 addresses but loopback
/// become `0.0.0.N` (their positions go to `ips`) when `mask_ips`; other
/// words longer than six bytes with three digits and a letter (message
/// ids, server names, timestamps) become `#` (after their `name=`), except
/// `host[ip]:port`, URLs and a multi-line reply's `451-Word`. Reply codes,
/// hosts, ports and everything else stay, so two texts with one key
/// classify alike.
fn shape_key(text: &[u8], out: &mut Vec<u8>, ips: &mut Vec<(u32, u32)>, mask_ips: bool) {
    out.clear();
    ips.clear();
    out.reserve(text.len());
    // This runs for every deferral and bounce. Only a word holding a digit
    // or an `@` can change, so the text is skipped eight bytes at a time to
    // the next digit (and searched for `@` with memchr); only those words
    // are read byte by byte, and the runs between them are copied at once.
    let (mut copied, mut at) = (0usize, 0usize);
    let mut next_at = memchr::memchr(b'@', text);
    while at < text.len() {
        let digit = next_digit(text, at);
        let hit = match (digit, next_at) {
            (Some(d), Some(a)) => d.min(a),
            (Some(d), None) => d,
            (None, Some(a)) => a,
            (None, None) => break,
        };
        let start = memchr::memrchr(b' ', &text[at..hit]).map_or(at, |p| at + p + 1);
        let end = memchr::memchr(b' ', &text[hit..]).map_or(text.len(), |p| hit + p);
        let (mut digits, mut dots, mut flags) = (0usize, 0usize, 0u8);
        for (i, &c) in text[start..end].iter().enumerate() {
            let k = BYTE_CLASS[c as usize];
            digits += usize::from(k & DIGIT);
            dots += usize::from((k & DOT) >> 1);
            // A bracket inside a word is `host[ip]`; a leading one is not.
            flags |= if k & BRACKET != 0 && i == 0 { 0 } else { k };
        }
        out.extend_from_slice(&text[copied..start]);
        shape_word(text, start, end, (digits, dots, flags), out, ips, mask_ips);
        copied = end;
        at = end;
        if next_at.is_some_and(|a| a < end) {
            next_at = memchr::memchr(b'@', &text[end..]).map(|p| end + p);
        }
    }
    out.extend_from_slice(&text[copied..]);
}

/// The position of the first ASCII digit at or after `from`, eight bytes
/// at a time.
fn next_digit(text: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const ZEROS: u64 = u64::from_ne_bytes([b'0'; 8]);
    let mut i = from;
    while i + 8 <= text.len() {
        let x = u64::from_ne_bytes(text[i..i + 8].try_into().expect("8 bytes"));
        // Digits become bytes under 10; test for any byte under 10.
        let t = x ^ ZEROS;
        if t.wrapping_sub(ONES * 10) & !t & HIGHS != 0 {
            break;
        }
        i += 8;
    }
    text[i..].iter().position(u8::is_ascii_digit).map(|p| i + p)
}

const DIGIT: u8 = 1;
const DOT: u8 = 2;
const AT: u8 = 4;
const LETTER: u8 = 8;
const BRACKET: u8 = 16;
const SLASH: u8 = 32;

/// What [`shape_key`] notices about each byte.
static BYTE_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = if b.is_ascii_digit() {
            DIGIT
        } else if b == b'.' {
            DOT
        } else if b == b'@' {
            AT
        } else if b.is_ascii_alphabetic() {
            LETTER
        } else if b == b'[' {
            BRACKET
        } else if b == b'/' {
            SLASH
        } else {
            0
        };
        c += 1;
    }
    t
};

/// Appends the key of `text[start..end]`, one word; see [`shape_key`].
fn shape_word(
    text: &[u8],
    start: usize,
    end: usize,
    (digits, dots, flags): (usize, usize, u8),
    out: &mut Vec<u8>,
    ips: &mut Vec<(u32, u32)>,
    mask_ips: bool,
) {
    let word = &text[start..end];
    if flags & AT != 0 {
        // Keep the brackets around an address (`<a@b>:`): rules read them.
        let lead = word
            .iter()
            .take_while(|c| !c.is_ascii_alphanumeric())
            .count();
        let trail = word[lead..]
            .iter()
            .rev()
            .take_while(|c| !c.is_ascii_alphanumeric())
            .count();
        out.extend_from_slice(&word[..lead]);
        out.extend_from_slice(b"a@b.c");
        out.extend_from_slice(&word[word.len() - trail..]);
        return;
    }
    if mask_ips && digits >= 4 && dots >= 3 {
        let mark = out.len();
        let mut found = false;
        let mut i = 0;
        while i < word.len() {
            let boundary = i == 0 || !(word[i - 1].is_ascii_digit() || word[i - 1] == b'.');
            match (boundary && word[i].is_ascii_digit())
                .then(|| ipv4_at(word, i))
                .flatten()
            {
                Some(e) if !word[i..].starts_with(b"127.") && ips.len() < 255 => {
                    ips.push(((start + i) as u32, (start + e) as u32));
                    out.extend_from_slice(b"0.0.0.");
                    let n = ips.len() as u8;
                    if n >= 100 {
                        out.push(b'0' + n / 100);
                    }
                    if n >= 10 {
                        out.push(b'0' + n / 10 % 10);
                    }
                    out.push(b'0' + n % 10);
                    found = true;
                    i = e;
                }
                Some(e) => {
                    out.extend_from_slice(&word[i..e]);
                    found = true;
                    i = e;
                }
                None => {
                    out.push(word[i]);
                    i += 1;
                }
            }
        }
        if found {
            return;
        }
        out.truncate(mark);
    }
    // Status codes (`550-5.1.1`, `(#5.1.1)`) have no letters; a multi-line
    // reply's first word (`451-You`) is a code too.
    let continued = word.len() > 3 && word[..3].iter().all(u8::is_ascii_digit) && word[3] == b'-';
    let keep = flags & (BRACKET | SLASH) != 0;
    if word.len() > 6 && digits >= 3 && flags & LETTER != 0 && !keep && !continued {
        // `name=value`: the name stays.
        if let Some(eq) = memchr::memrchr(b'=', word) {
            out.extend_from_slice(&word[..=eq]);
        }
        out.push(b'#');
    } else {
        out.extend_from_slice(word);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Cause;

    #[test]
    fn cache_key_drops_addresses_and_ids_but_keeps_codes() {
        let (mut a, mut b, mut ips) = (Vec::new(), Vec::new(), Vec::new());
        let mut key = |text: &[u8], out: &mut Vec<u8>| shape_key(text, out, &mut ips, true);
        key(
            b"host mx.example.com[192.0.2.1] said: 550 5.1.1 <anna@example.com>: User unknown",
            &mut a,
        );
        key(
            b"host mx.example.com[192.0.2.1] said: 550 5.1.1 <bob@example.com>: User unknown",
            &mut b,
        );
        assert_eq!(a, b);
        key(
            b"host mx.example.com[192.0.2.1] said: 450 4.1.1 <anna@example.com>: User unknown",
            &mut b,
        );
        assert_ne!(a, b);
        // The filter's port and a remote MX's port never share a key.
        key(
            b"connect to 127.0.0.1[127.0.0.1]:10024: Connection refused",
            &mut a,
        );
        key(
            b"connect to mx.example.com[192.0.2.31]:25: Connection refused",
            &mut b,
        );
        assert_ne!(a, b);
        // Gmail's per-message ids do not split a key.
        key(
            b"review our Bulk Email Senders Guidelines. 31539dsi9032594qkb.632 - gsmtp",
            &mut a,
        );
        key(
            b"review our Bulk Email Senders Guidelines. a1c064si6795317qkb.681 - gsmtp",
            &mut b,
        );
        assert_eq!(a, b);
        // Nor do Microsoft's server names, timestamps and ids.
        key(b"block list (S3140). [AM4PEPF00027A6C.eurprd04.prod.outlook.com 2025-12-29T10:43:36.113Z 58818353971E7A77] (in reply to MAIL FROM command)", &mut a);
        key(b"block list (S3140). [DB5PEPF00014B8F.eurprd02.prod.outlook.com 2025-12-30T09:21:17.121Z 02E0C319518F2AAB] (in reply to MAIL FROM command)", &mut b);
        assert_eq!(a, b);
    }

    /// Word by word, every byte read: what [`shape_key`] must equal.
    fn shape_key_plain(text: &[u8], out: &mut Vec<u8>, ips: &mut Vec<(u32, u32)>, mask_ips: bool) {
        out.clear();
        ips.clear();
        let mut start = 0;
        for (n, word) in text.split(|&c| c == b' ').enumerate() {
            if n > 0 {
                out.push(b' ');
            }
            let (mut digits, mut dots, mut flags) = (0usize, 0usize, 0u8);
            for (i, &c) in word.iter().enumerate() {
                digits += usize::from(c.is_ascii_digit());
                dots += usize::from(c == b'.');
                flags |= if c == b'@' { AT } else { 0 };
                flags |= if c.is_ascii_alphabetic() { LETTER } else { 0 };
                flags |= if c == b'[' && i > 0 { BRACKET } else { 0 };
                flags |= if c == b'/' { SLASH } else { 0 };
            }
            shape_word(
                text,
                start,
                start + word.len(),
                (digits, dots, flags),
                out,
                ips,
                mask_ips,
            );
            start += word.len() + 1;
        }
    }

    proptest::proptest! {
        #[test]
        fn shape_key_equals_the_word_by_word_reading(
            text in proptest::collection::vec(proptest::sample::select(b"ab Z01239.@[]/:=<>-\xc3".to_vec()), 0..120),
            mask in proptest::bool::ANY,
        ) {
            let (mut fast, mut fast_ips, mut plain, mut plain_ips) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            shape_key(&text, &mut fast, &mut fast_ips, mask);
            shape_key_plain(&text, &mut plain, &mut plain_ips, mask);
            proptest::prop_assert_eq!(fast, plain);
            proptest::prop_assert_eq!(fast_ips, plain_ips);
        }
    }

    #[test]
    fn next_digit_finds_every_first_digit() {
        let texts: [&[u8]; 6] = [
            b"",
            b"no digits here at all, none",
            b"7",
            b"abcdefgh9",
            b"\xc3\xa9t\xc3\xa9 \xff\x80/:;@ 450 4.7.1",
            b"host mx.example.com[192.0.2.1] said: 550",
        ];
        for t in texts {
            for from in 0..=t.len() {
                let want = t[from..]
                    .iter()
                    .position(u8::is_ascii_digit)
                    .map(|p| from + p);
                assert_eq!(next_digit(t, from), want, "{t:?} from {from}");
            }
        }
    }

    #[test]
    fn cache_key_numbers_ips_and_keeps_loopback() {
        let (mut key, mut ips) = (Vec::new(), Vec::new());
        let text: &[u8] = b"host mx.example.com[192.0.2.1]:25 said: 554 Client host [203.0.113.9] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/203.0.113.9 via 127.0.0.1 v1.2.3.4.5";
        shape_key(text, &mut key, &mut ips, true);
        assert_eq!(
            String::from_utf8_lossy(&key),
            "host mx.example.com[0.0.0.1]:25 said: 554 Client host [0.0.0.2] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/0.0.0.3 via 127.0.0.1 #"
        );
        let got: Vec<&[u8]> = ips
            .iter()
            .map(|&(a, b)| &text[a as usize..b as usize])
            .collect();
        assert_eq!(got, [&b"192.0.2.1"[..], b"203.0.113.9", b"203.0.113.9"]);
        // Rules from a user's file may name addresses: nothing is masked.
        shape_key(text, &mut key, &mut ips, false);
        assert!(key.windows(9).any(|w| w == b"192.0.2.1"));
        assert!(ips.is_empty());
    }

    #[test]
    fn cached_verdicts_belong_to_their_rule_table() {
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("rules.toml");
        std::fs::write(
            &rules,
            "[[rule]]\ncause = \"blacklisted\"\npattern = \"(?i)try again later\"\n",
        )
        .unwrap();
        let user = Classifier::from_rules_file(&rules).unwrap();
        let builtin = Classifier::builtin();
        // No address in it: both tables build the same key.
        let text: &[u8] = b"450 4.7.1 please try again later";
        let before = cached_verdict(text, &builtin).verdict.verdict.cause;
        assert_eq!(
            cached_verdict(text, &user).verdict.verdict.cause,
            Cause::Blacklisted
        );
        // Same thread, same text: the built-in table's own verdict again.
        assert_eq!(cached_verdict(text, &builtin).verdict.verdict.cause, before);
        assert_ne!(before, Cause::Blacklisted);
    }

    #[test]
    fn cached_verdicts_keep_each_texts_own_addresses() {
        let classifier = Classifier::builtin();
        let a: &[u8] = b"554 5.7.1 Service unavailable; Client host [185.20.235.239] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/185.20.235.239";
        let b: &[u8] = b"554 5.7.1 Service unavailable; Client host [94.73.139.6] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/94.73.139.6";
        let (va, vb) = (
            cached_verdict(a, &classifier),
            cached_verdict(b, &classifier),
        );
        // One shape, one shared verdict...
        assert!(Arc::ptr_eq(&va.verdict, &vb.verdict));
        // ...and each text's own listed IP, as classifying it alone gives.
        for (text, c) in [(a, &va), (b, &vb)] {
            let direct = classifier.classify(std::str::from_utf8(text).unwrap());
            assert_eq!(c.verdict_for(text), direct);
        }
        assert_eq!(
            va.verdict_for(a).detail.listed_ip.as_deref(),
            Some("185.20.235.239")
        );
        let host: &[u8] = b"connect to 198.51.100.7[198.51.100.7]:25: Connection timed out";
        let direct = classifier.classify(std::str::from_utf8(host).unwrap());
        assert_eq!(cached_verdict(host, &classifier).verdict_for(host), direct);
        assert_eq!(direct.detail.remote_host.as_deref(), Some("198.51.100.7"));
    }
}
