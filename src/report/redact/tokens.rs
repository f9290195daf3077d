//! The parsers of what can be personal in a text: the one pattern that
//! finds candidate tokens, and the small parsers that confirm them (IPv4 in
//! every spelling, IPv6 with mapped forms, URLs, file paths).
//!
//! The pattern is one leftmost-first alternation: the earliest token in the
//! text wins, and at one position the order below decides (a key such as
//! `sasl_username=` before the address it introduces, an address before the
//! host name inside it, an IPv4 address before a host name, since a DNSBL
//! query name `25.113.0.203.zen.spamhaus.org` starts with a reversed IP).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Characters of an RFC 5321 dot-atom local part (atext and dots), plus
/// any letter or digit for internationalised addresses (RFC 6531).
///
/// Marks and format characters (a bidi override, a zero-width joiner) count
/// as part of a token, so they cannot cut an address in two.
const LOCAL: &str = r"[\p{L}\p{M}\p{N}\p{Cf}!#$%&'*+/=?^_`{|}~.-]+";
/// A host name or a domain literal (`[192.0.2.1]`, `[IPv6:2001:db8::1]`).
const DOMAIN: &str =
    r"(?:\[[^\]\s]+\]|[\p{L}\p{M}\p{N}\p{Cf}_-]+(?:\.[\p{L}\p{M}\p{N}\p{Cf}_-]+)*)";

/// The token pattern; `known_first` and `known_last` are alternations of
/// exact values (already escaped) that the Summary names as personal.
pub fn pattern(known_first: &str, known_last: &str) -> String {
    let mut alts: Vec<String> = Vec::new();
    if !known_first.is_empty() {
        alts.push(format!("(?P<kfirst>{known_first})"));
    }
    alts.extend([
        // A URL: user info, host, and a path that may hold domains and IPs.
        r"(?P<url>(?-u:\b)[A-Za-z][A-Za-z0-9+.-]+://[^\s<>\x22'`\\]+)".to_string(),
        // A header or body line quoted by cleanup's header_checks: the value
        // is the sender's own text (a display name, a subject).
        r"(?P<hdr>(?-u:\b)(?:header|mime-header|nested-header|body) [A-Za-z][A-Za-z0-9-]*: )(?P<hval>.*?)(?P<hend> from [^\s\[\]]*\[[^\]\s]*\]|$)".to_string(),
        // A quoted local part (`"john doe"@example.com`).
        format!(r#"(?P<qaddr>"[^"\r\n]+"@{DOMAIN})"#),
        // A quoted display name before an address (`"John Doe" <j@x>`).
        r#"(?P<dname>"[^"\r\n]*")(?P<dsep>\s*<)"#.to_string(),
        // `uid:N (name)`: the name comes from --passwd.
        r"(?P<ukey>(?-u:\b)uid:)(?P<uid>\d+)(?P<uname> \([^)\r\n]+\))?".to_string(),
        // Keys whose value is an address, a login or a client's name.
        r"(?P<akey>(?-u:\b)(?:from|to|orig_to|helo|user|login|sasl_username|sasl_sender|authid|rcpt|sender|recipient)=<)(?P<aval>[^>\r\n]*)".to_string(),
        r"(?P<lkey>(?-u:\b)(?:sasl|sender):|(?-u:\b)(?:sasl_username|sasl_sender|user|login|authid|sender|recipient)=)(?P<lval>[^\s,;<>()\[\]\x22]+)".to_string(),
        r"(?P<ckey>(?-u:\b)client:)(?P<cval>[^\s,;]+)".to_string(),
        // A list zone as a receiver names it.
        r"(?P<bkey>(?-u:\b)blocked using )(?P<bval>[^\s;,]+)".to_string(),
        // An address.
        format!(r"(?P<addr>{LOCAL}@{DOMAIN})"),
        // `host[ip]` as Postfix writes a peer: a host name whatever its suffix.
        r"(?P<hn>[\p{L}\p{N}_][\p{L}\p{M}\p{N}\p{Cf}_.-]*)\[(?P<hi>(?:IPv6:)?[0-9A-Fa-f:.]+)\]".to_string(),
        // IPv6, IPv4-mapped included; confirmed by the parser.
        r"(?P<ip6>(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f.]*)".to_string(),
        // IPv4 in decimal (zero-padded too) or hex octets.
        r"(?P<ip4>(?:0[xX][0-9A-Fa-f]{1,2}|[0-9]{1,3})(?:\.(?:0[xX][0-9A-Fa-f]{1,2}|[0-9]{1,3})){3})".to_string(),
        // A syslog program name with an argument (`wordpress(www.customer.com)[12]:`).
        r"(?P<prog>[A-Za-z][A-Za-z0-9_.-]*)\((?P<pargs>[^()\s]+)\)(?P<pend>[\[:])".to_string(),
        // A dotted word: a host name when the public suffix list says so.
        r"(?P<name>[\p{L}\p{N}_][\p{L}\p{M}\p{N}\p{Cf}_-]*(?:\.[\p{L}\p{M}\p{N}\p{Cf}_-]+)+)".to_string(),
    ]);
    if !known_last.is_empty() {
        alts.push(format!("(?P<klast>{known_last})"));
    }
    alts.join("|")
}

/// An IPv4 address in any dotted spelling: `203.0.113.25`,
/// `203.000.113.025` (zero-padded octets are decimal, as in logs),
/// `0xcb.0x00.0x71.0x19`.
pub fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for o in &mut octets {
        let p = parts.next()?;
        let v = match p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u32>().ok()?
            }
            None => return None,
        };
        *o = u8::try_from(v).ok()?;
    }
    parts.next().is_none().then(|| Ipv4Addr::from(octets))
}

/// An IPv6 candidate (a run of hex digits, colons and dots) as an address
/// and the byte range of the run it spans: the run may carry a `:port`, a
/// stray leading colon (`client:::1`) or a trailing colon.
pub fn parse_ipv6(run: &str) -> Option<(Ipv6Addr, usize, usize)> {
    let mut start = 0;
    let mut end = run.trim_end_matches(':').len();
    if run[..end].starts_with(":::") {
        start = 1;
    }
    if let Ok(ip) = run[start..end].parse::<Ipv6Addr>() {
        return Some((ip, start, end));
    }
    // `2001:db8::1:25` read as address and port.
    end = start + run[start..end].rfind(':')?;
    let head = &run[start..end];
    let ip = head
        .parse::<Ipv6Addr>()
        .ok()
        .filter(|_| head.contains("::"))?;
    Some((ip, start, end))
}

/// An address with the IPv4-mapped IPv6 forms (`::ffff:203.0.113.25`,
/// `::ffff:cb00:7119`) folded into IPv4: one host, one pseudonym.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Any spelling of an IP address, `IPv6:` literals and brackets included.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim_start_matches('[').trim_end_matches(']');
    let s = s
        .strip_prefix("IPv6:")
        .or_else(|| s.strip_prefix("ipv6:"))
        .unwrap_or(s);
    if let Some(v4) = parse_ipv4(s) {
        return Some(IpAddr::V4(v4));
    }
    s.parse::<Ipv6Addr>()
        .ok()
        .map(|v6| canonical(IpAddr::V6(v6)))
}

/// A URL cut into its parts; `rest` is the path, query and fragment.
#[derive(Debug, PartialEq, Eq)]
pub struct Url<'a> {
    pub scheme: &'a str,
    pub userinfo: Option<&'a str>,
    pub host: &'a str,
    pub port: Option<&'a str>,
    pub rest: &'a str,
}

pub fn parse_url(s: &str) -> Option<Url<'_>> {
    let (scheme, after) = s.split_once("://")?;
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let (host, port) = if hostport.starts_with('[') {
        let close = hostport.find(']')?;
        let port = hostport[close + 1..].strip_prefix(':');
        (&hostport[..=close], port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
            _ => (hostport, None),
        }
    };
    Some(Url {
        scheme,
        userinfo,
        host,
        port,
        rest,
    })
}

/// Percent-decodes a URL part when the result is UTF-8, so that
/// `john%40example.com` is seen as the address it is.
pub fn percent_decode(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('%') {
        return s.into();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).map_or(s.into(), Into::into)
}

/// Trailing characters a URL in prose does not own (`see http://x/y.`).
pub fn split_trailing_punctuation(s: &str) -> (&str, &str) {
    let core = s.trim_end_matches(['.', ',', ';', ':', ')', '!', '?', ']', '}']);
    (core, &s[core.len()..])
}

/// A log file name as logrotate, syslog and Postfix leave it, which names
/// nobody: `maillog`, `mail.log.2.gz`, `maillog-20260103.gz`,
/// `maillog.20260103-101112`, `postqueue-p.txt`.
pub fn is_plain_log_name(component: &str) -> bool {
    const BASES: &[&str] = &[
        "maillog",
        "mail.log",
        "mail.err",
        "mail.warn",
        "mail.info",
        "mail",
        "syslog",
        "messages",
        "postfix.log",
        "postqueue",
        "postqueue-p",
        "postqueue-j",
        "mailq",
        "queue",
        "log",
        "logs",
        "var",
        "tmp",
        "samples",
    ];
    let lower = component.to_ascii_lowercase();
    let mut rest = lower.as_str();
    for ext in [".gz", ".txt", ".json", ".jsonl", ".log"] {
        rest = rest.strip_suffix(ext).unwrap_or(rest);
    }
    // Rotation suffixes: `.1`, `-20260103`, `.20260103-101112`.
    let base = rest.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-');
    let base = if BASES.contains(&base) { base } else { rest };
    BASES.contains(&base) || component == "-" || component == "." || component == ".."
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_in_every_dotted_spelling() {
        let want = Some(Ipv4Addr::new(203, 0, 113, 25));
        assert_eq!(parse_ipv4("203.0.113.25"), want);
        assert_eq!(parse_ipv4("203.000.113.025"), want);
        assert_eq!(parse_ipv4("0xcb.0x00.0x71.0x19"), want);
        assert_eq!(parse_ipv4("256.0.0.1"), None);
        assert_eq!(parse_ipv4("1.2.3"), None);
        assert_eq!(parse_ipv4("1.2.3.4.5"), None);
    }

    #[test]
    fn ipv6_candidates_with_mapped_forms_ports_and_stray_colons() {
        let ip = |s: &str| parse_ipv6(s).map(|(ip, a, b)| (canonical(IpAddr::V6(ip)), a, b));
        let mapped = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 25));
        assert_eq!(ip("::ffff:cb00:7119"), Some((mapped, 0, 16)));
        assert_eq!(ip("::ffff:203.0.113.25"), Some((mapped, 0, 19)));
        let one = "::1".parse().unwrap();
        assert_eq!(ip(":::1"), Some((one, 1, 4)));
        let db8 = "2001:db8::1".parse().unwrap();
        assert_eq!(ip("2001:db8::1:"), Some((db8, 0, 11)));
        assert!(ip("2001:db8:0:0:0:0:0:1").is_some());
        assert_eq!(parse_ipv6("10:11:12"), None);
        assert_eq!(parse_ipv6("4F2A1B3C9D:"), None);
        assert_eq!(
            parse_ip("[IPv6:2001:db8::7]"),
            "2001:db8::7".parse::<IpAddr>().ok()
        );
        assert_eq!(
            parse_ip("::ffff:cb00:7119"),
            Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 25)))
        );
    }

    #[test]
    fn urls_split_into_user_host_port_and_rest() {
        let u = parse_url("http://john:pw@www.customer.com:8080/a/b?c=d").unwrap();
        assert_eq!(u.userinfo, Some("john:pw"));
        assert_eq!(u.host, "www.customer.com");
        assert_eq!(u.port, Some("8080"));
        assert_eq!(u.rest, "/a/b?c=d");
        let v6 = parse_url("https://[2001:db8::1]:443/").unwrap();
        assert_eq!((v6.host, v6.port), ("[2001:db8::1]", Some("443")));
        assert_eq!(percent_decode("john%40example.com"), "john@example.com");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(
            split_trailing_punctuation("http://x/y)."),
            ("http://x/y", ").")
        );
    }

    #[test]
    fn log_file_names_name_nobody() {
        for ok in [
            "maillog",
            "mail.log.2.gz",
            "maillog-20260103.gz",
            "maillog.20260103-101112",
            "postqueue-p.txt",
            "-",
        ] {
            assert!(is_plain_log_name(ok), "{ok}");
        }
        for personal in [
            "mail.customer.de.gz",
            "john",
            "customer-logs",
            "mail.log.customer",
        ] {
            assert!(!is_plain_log_name(personal), "{personal}");
        }
    }

    #[test]
    fn the_pattern_compiles_with_and_without_known_values() {
        regex::Regex::new(&pattern("", "")).unwrap();
        regex::Regex::new(&pattern("a\\.b", "john|mike")).unwrap();
    }
}
