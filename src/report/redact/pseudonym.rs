//! Pseudonyms from a keyed hash.
//!
//! Keyed BLAKE3 with a key derived from the salt, cut to 64 bits (16 hex
//! characters). Why these choices: an unkeyed or published hash of an IPv4
//! address is reversed by hashing all 2^32 addresses, and a domain by a
//! dictionary, so the key must be secret: without `--salt` it is drawn from
//! the OS for each run. 64 bits make two identities sharing a pseudonym
//! unlikely even with millions of values (about 3e-8 at a million), where the
//! former 32 bits merged two after about 65 thousand.

use crate::Error;

/// Hex characters kept from the hash: 64 bits.
pub const HEX_LEN: usize = 16;

/// The context string of BLAKE3's key derivation: a key made for these
/// pseudonyms is never the key of anything else.
const CONTEXT: &str = "postmortem 2026 report redaction pseudonyms v1";

#[derive(Clone)]
pub struct Keyed {
    key: [u8; 32],
}

impl Keyed {
    pub fn new(salt: &str) -> Keyed {
        Keyed {
            key: blake3::derive_key(CONTEXT, salt.as_bytes()),
        }
    }

    /// The pseudonym's hash part for `value` of one `kind` (`ip`, `name`,
    /// `address`, ...): the kind keeps an IP and a login of the same text apart.
    pub fn hex(&self, kind: &str, value: &str) -> String {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        h.update(kind.as_bytes());
        h.update(&[0]);
        h.update(value.as_bytes());
        let hash = h.finalize();
        let mut out = String::with_capacity(HEX_LEN);
        for b in &hash.as_bytes()[..HEX_LEN / 2] {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }
}

/// A salt nobody can guess: 128 bits from the OS, as hex.
pub fn random_salt() -> crate::Result<String> {
    let mut buf = [0u8; 16];
    getrandom::fill(&mut buf).map_err(|e| Error::Report {
        what: "redaction".to_string(),
        message: format!("no random salt from the operating system ({e}); give one with --salt"),
    })?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// The hash part of a pseudonym: redacting twice changes nothing more.
pub fn is_hex(s: &str) -> bool {
    s.len() == HEX_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_hex_is_stable_per_salt_and_differs_across_salts() {
        let a = Keyed::new("s");
        assert_eq!(a.hex("ip", "192.0.2.1"), a.hex("ip", "192.0.2.1"));
        assert_ne!(a.hex("ip", "192.0.2.1"), a.hex("name", "192.0.2.1"));
        assert_ne!(
            a.hex("ip", "192.0.2.1"),
            Keyed::new("t").hex("ip", "192.0.2.1")
        );
        assert!(is_hex(&a.hex("ip", "x")));
        let (r1, r2) = (random_salt().unwrap(), random_salt().unwrap());
        assert_eq!(r1.len(), 32);
        assert_ne!(r1, r2);
    }
}
