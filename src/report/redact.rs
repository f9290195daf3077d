//! Pseudonyms for a report that goes to a third party (`--redact`).
//!
//! Addresses, SASL logins, host names and IP addresses of third parties are
//! replaced by stable pseudonyms (same input, same salt, same pseudonym) so
//! the report still shows that one login sent from nine IPs, without saying
//! who. The Summary is walked as a `serde_json::Value` and every string is
//! rewritten, free texts included: a reason text names the receiver's MX and
//! often the recipient. What stays readable: list names and the portals of
//! known lists, cause ids, delisting URLs, loopback addresses, the values the
//! caller asks to keep (the server's own IPs and names), and the IP the lists
//! say they listed (the operator needs it to ask for delisting).

use crate::model::Summary;
use regex::{Captures, Regex};
use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct RedactOptions {
    /// Mixed into every pseudonym: without it, an IPv4 pseudonym could be
    /// reversed by hashing all 2^32 addresses.
    pub salt: String,
    /// Names, addresses and IPs that stay readable (the server's own).
    pub keep: Vec<String>,
}

/// Rewrites every third-party identifier in the Summary and sets
/// `summary.redacted`.
pub fn redact(summary: &mut Summary, opts: &RedactOptions) {
    let mut r = Redactor::new(opts);
    for b in &summary.blacklistings {
        if let Some(ip) = &b.listed_ip {
            r.keep.push(ip.to_ascii_lowercase());
        }
    }
    r.redact_summary(summary);
}

/// Fields whose values are the tool's own words or structure, never log text.
const STRUCTURAL_KEYS: &[&str] = &[
    "cause",
    "list",
    "delisting_url",
    "kind",
    "title",
    "timezone",
    "tool_version",
    "year_source",
    "dump_time_source",
    "bucket_start",
    "start",
    "end",
    "first",
    "last",
    "first_seen",
    "last_seen",
    "dump_time",
    "arrival",
    "queue",
    "queue_id",
    "queued_ids_file",
    "program",
];

/// Public names that identify nobody: block lists and their lookup portals.
/// A name equal to one of these or under one stays readable.
const PUBLIC_SUFFIXES: &[&str] = &[
    "spamhaus.org",
    "spamcop.net",
    "barracudacentral.org",
    "barracuda.com",
    "uceprotect.net",
    "sorbs.net",
    "abuseat.org",
    "surbl.org",
    "uribl.com",
    "mailspike.net",
    "spamrats.com",
    "senderscore.org",
    "senderscore.com",
    "s5h.net",
    "psbl.org",
    "dnswl.org",
    "backscatterer.org",
    "nordspam.com",
    "ipcheck.proofpoint.com",
    "support.proofpoint.com",
    "mimecast.com",
    "ers.trendmicro.com",
    "csi.cloudmark.com",
    "sender.office.com",
    "senders.yahooinc.com",
    "help.yahoo.com",
    "support.google.com",
    "postmaster.google.com",
    "localhost",
];

/// Last labels that make a "name" a file name rather than a host
/// (`mail.log.2.gz`, `resolv.conf`, `bl.shtml`).
const FILE_EXTENSIONS: &[&str] = &[
    "log", "gz", "bz2", "xz", "zst", "zip", "txt", "csv", "json", "jsonl", "html", "htm", "shtml",
    "php", "md", "conf", "cf", "cfg", "toml", "yaml", "yml", "j2", "sh", "py", "pl", "rs", "db",
    "lmdb", "cdb", "pem", "crt", "key", "old", "bak", "tmp", "out", "err", "service", "pid",
    "sock",
];

pub struct Redactor {
    k0: u64,
    k1: u64,
    keep: Vec<String>,
    re: Regex,
}

impl Redactor {
    pub fn new(opts: &RedactOptions) -> Redactor {
        let (k0, k1) = keys_from_salt(opts.salt.as_bytes());
        // One pass, leftmost match wins; at one position the order below decides.
        let re = Regex::new(concat!(
            r"(?P<sasl>\bsasl:|\bsasl_username=)(?P<login>[^\s,;()<>\[\]{}]+)",
            r"|(?P<email>[A-Za-z0-9._%+!#$&*^{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)",
            r"|(?P<host>\b[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)\[(?P<hip>[0-9A-Fa-f:.]+)\]",
            r"|\b(?P<ip4>(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3})\b",
            r"|\b(?P<ip6>(?i:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,5})?))",
            r"|\b(?P<name>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,62})\b",
        ))
        .expect("redaction pattern is valid");
        Redactor {
            k0,
            k1,
            keep: opts.keep.iter().map(|k| k.to_ascii_lowercase()).collect(),
            re,
        }
    }

    pub fn redact_summary(&self, summary: &mut Summary) {
        let Ok(mut v) = serde_json::to_value(&*summary) else {
            return;
        };
        self.walk(&mut v);
        if let Ok(s) = serde_json::from_value::<Summary>(v) {
            *summary = s;
        }
        summary.redacted = true;
    }

    fn walk(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.text(s),
            Value::Array(a) => a.iter_mut().for_each(|x| self.walk(x)),
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    // Only a string is structural: `queue` is also the
                    // name of the whole queue section.
                    if !(x.is_string() && STRUCTURAL_KEYS.contains(&k.as_str())) {
                        self.walk(x);
                    }
                }
            }
            _ => {}
        }
    }

    /// Rewrites one free text.
    pub fn text(&self, s: &str) -> String {
        self.re
            .replace_all(s, |c: &Captures| self.replace(c))
            .into_owned()
    }

    fn replace(&self, c: &Captures) -> String {
        let whole = &c[0];
        if let (Some(prefix), Some(login)) = (c.name("sasl"), c.name("login")) {
            return format!("{}{}", prefix.as_str(), self.login(login.as_str()));
        }
        if let Some(m) = c.name("email") {
            return self.address(m.as_str());
        }
        if let (Some(h), Some(ip)) = (c.name("host"), c.name("hip")) {
            if !is_ip(ip.as_str()) {
                // `postfix/smtp[4242]`: a process id, not a host.
                return whole.to_string();
            }
            let host = h.as_str();
            let host = if host.eq_ignore_ascii_case("unknown") {
                host.to_string()
            } else if is_ip(host) {
                self.ip(host)
            } else {
                self.name(host)
            };
            return format!("{host}[{}]", self.ip(ip.as_str()));
        }
        if let Some(m) = c.name("ip4").or_else(|| c.name("ip6")) {
            return self.ip(m.as_str());
        }
        if let Some(m) = c.name("name") {
            return self.name(m.as_str());
        }
        whole.to_string()
    }

    fn kept(&self, value: &str) -> bool {
        let v = value.to_ascii_lowercase();
        self.keep
            .iter()
            .any(|k| *k == v || v.ends_with(&format!(".{k}")))
    }

    fn hash(&self, kind: &str, value: &str) -> String {
        let mut bytes = Vec::with_capacity(kind.len() + value.len() + 1);
        bytes.extend_from_slice(kind.as_bytes());
        bytes.push(0);
        bytes.extend(value.bytes().map(|b| b.to_ascii_lowercase()));
        format!("{:08x}", siphash24(self.k0, self.k1, &bytes) as u32)
    }

    fn ip(&self, ip: &str) -> String {
        if ip.eq_ignore_ascii_case("unknown") || self.kept(ip) || is_loopback(ip) {
            return ip.to_string();
        }
        format!("ip-{}", self.hash("ip", ip))
    }

    fn name(&self, name: &str) -> String {
        let lower = name.to_ascii_lowercase();
        let last = lower.rsplit('.').next().unwrap_or("");
        let public = PUBLIC_SUFFIXES
            .iter()
            .any(|p| lower == *p || lower.ends_with(&format!(".{p}")));
        let pseudonym = lower
            .strip_suffix(".example")
            .and_then(|l| l.strip_prefix("domain-"))
            .is_some_and(is_hex8);
        if public || pseudonym || FILE_EXTENSIONS.contains(&last) || self.kept(name) {
            return name.to_string();
        }
        format!("domain-{}.example", self.hash("name", &lower))
    }

    fn address(&self, address: &str) -> String {
        if self.kept(address) {
            return address.to_string();
        }
        let Some((local, domain)) = address.rsplit_once('@') else {
            return self.login(address);
        };
        if local.strip_prefix("user-").is_some_and(is_hex8) && self.name(domain) == domain {
            return address.to_string();
        }
        let domain = if domain.contains('.') {
            self.name(domain)
        } else {
            format!("domain-{}.example", self.hash("name", domain))
        };
        format!("user-{}@{domain}", self.hash("address", address))
    }

    fn login(&self, login: &str) -> String {
        if login.contains('@') {
            return self.address(login);
        }
        if self.kept(login) || login.strip_prefix("user-").is_some_and(is_hex8) {
            return login.to_string();
        }
        format!("user-{}", self.hash("address", login))
    }
}

/// The hash part of a pseudonym: redacting twice changes nothing more.
fn is_hex8(s: &str) -> bool {
    s.len() == 8 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

fn is_loopback(s: &str) -> bool {
    s.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

fn keys_from_salt(salt: &[u8]) -> (u64, u64) {
    // FNV-1a with two offsets: only spreads the salt into two keys; the
    // keyed SipHash below does the mixing.
    let fnv = |seed: u64| {
        salt.iter().fold(seed, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    (fnv(0xcbf2_9ce4_8422_2325), fnv(0x84222325_cbf29ce4))
}

/// SipHash-2-4 (Aumasson and Bernstein): a keyed hash whose output is stable
/// across Rust releases, unlike `DefaultHasher`.
pub(crate) fn siphash24(k0: u64, k1: u64, data: &[u8]) -> u64 {
    let mut v0 = k0 ^ 0x736f_6d65_7073_6575;
    let mut v1 = k1 ^ 0x646f_7261_6e64_6f6d;
    let mut v2 = k0 ^ 0x6c79_6765_6e65_7261;
    let mut v3 = k1 ^ 0x7465_6462_7974_6573;
    let round = |v0: &mut u64, v1: &mut u64, v2: &mut u64, v3: &mut u64| {
        *v0 = v0.wrapping_add(*v1);
        *v1 = v1.rotate_left(13);
        *v1 ^= *v0;
        *v0 = v0.rotate_left(32);
        *v2 = v2.wrapping_add(*v3);
        *v3 = v3.rotate_left(16);
        *v3 ^= *v2;
        *v0 = v0.wrapping_add(*v3);
        *v3 = v3.rotate_left(21);
        *v3 ^= *v0;
        *v2 = v2.wrapping_add(*v1);
        *v1 = v1.rotate_left(17);
        *v1 ^= *v2;
        *v2 = v2.rotate_left(32);
    };
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let m = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        v3 ^= m;
        round(&mut v0, &mut v1, &mut v2, &mut v3);
        round(&mut v0, &mut v1, &mut v2, &mut v3);
        v0 ^= m;
    }
    let mut last = (data.len() as u64 & 0xff) << 56;
    for (i, &b) in chunks.remainder().iter().enumerate() {
        last |= u64::from(b) << (8 * i);
    }
    v3 ^= last;
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    v0 ^= last;
    v2 ^= 0xff;
    for _ in 0..4 {
        round(&mut v0, &mut v1, &mut v2, &mut v3);
    }
    v0 ^ v1 ^ v2 ^ v3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> Redactor {
        Redactor::new(&RedactOptions {
            salt: "s".into(),
            keep: vec!["198.51.100.25".into(), "mx1.hosting-example.net".into()],
        })
    }

    #[test]
    fn siphash_matches_the_reference_vector() {
        // The paper's test key 00..0f and the 15-byte message 00..0e.
        let k0 = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]);
        let k1 = u64::from_le_bytes([8, 9, 10, 11, 12, 13, 14, 15]);
        let msg: Vec<u8> = (0..15).collect();
        assert_eq!(siphash24(k0, k1, &msg), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn a_real_blacklist_reply_keeps_the_list_and_our_ip() {
        let t = "host mx1.telco-example.fr[192.0.2.32] said: 550 5.7.1 Service unavailable; Client host [198.51.100.25] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/198.51.100.25 (in reply to RCPT TO command)";
        let out = r().text(t);
        assert!(!out.contains("telco-example"), "{out}");
        assert!(!out.contains("192.0.2.32"), "{out}");
        assert!(
            out.contains("[198.51.100.25] blocked using zen.spamhaus.org"),
            "{out}"
        );
        assert!(
            out.contains("https://www.spamhaus.org/query/ip/198.51.100.25"),
            "{out}"
        );
        assert!(out.starts_with("host domain-"), "{out}");
    }

    #[test]
    fn the_same_address_gets_the_same_pseudonym_and_domains_agree() {
        let red = r();
        let a = red.text("from=<mike@studio-example.org>");
        let b = red.text("sasl:mike@studio-example.org");
        let d = red.text("studio-example.org");
        let user = a.trim_start_matches("from=<").trim_end_matches('>');
        assert!(user.starts_with("user-") && !a.contains("mike"), "{a}");
        assert_eq!(b, format!("sasl:{user}"));
        assert!(user.ends_with(&format!("@{d}")), "{user} {d}");
        // Another salt, another pseudonym.
        let other = Redactor::new(&RedactOptions {
            salt: "t".into(),
            keep: vec![],
        });
        assert_ne!(other.text("from=<mike@studio-example.org>"), a);
        // Redacting twice changes nothing more.
        assert_eq!(red.text(&a), a);
    }

    #[test]
    fn logins_ipv6_and_unknown_clients() {
        let red = r();
        let t = "warning: unknown[185.243.145.11]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=dave";
        let out = red.text(t);
        assert!(out.starts_with("warning: unknown[ip-"), "{out}");
        assert!(
            !out.contains("185.243.145.11") && !out.contains("=dave"),
            "{out}"
        );
        let v6 = red.text("connect to mx.example.net[2001:db8:10::25]:25: Connection timed out");
        assert!(
            !v6.contains("2001:db8") && !v6.contains("mx.example.net"),
            "{v6}"
        );
        // Times and loopback stay.
        let amavis = "connect to 127.0.0.1[127.0.0.1]:10024: Connection refused at 10:11:12";
        assert_eq!(red.text(amavis), amavis);
    }

    #[test]
    fn file_names_and_commands_stay_readable() {
        let red = r();
        for t in [
            "samples/mail.log.2.gz",
            "Check `/etc/resolv.conf`",
            "`postqueue -f`",
            "Blocked - see https://www.spamcop.net/bl.shtml?198.51.100.25",
            "uid:33 (www-data)",
            "Dec 30 10:16:18 mx1 postfix/smtp[4242]: warning",
        ] {
            assert_eq!(red.text(t), t);
        }
    }
}
