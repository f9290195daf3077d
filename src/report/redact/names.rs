//! Which dotted words are host names, and which host names stay readable.
//!
//! A word is a host name when some run of its first labels ends in a public
//! suffix of the public suffix list (the `psl` crate, compiled in) or in a
//! special-use top-level name (`.test`, `.example`, `.local`, ...), with at
//! least one label before that suffix. So `mail.customer.pl`,
//! `campus.example.html` and `mail.customer.de.gz` are names (Poland is a
//! country, not a Perl script), and `resolv.conf` or `mail.log.2.gz` are not.
//! Guessing by file extensions failed both ways: `.pl`, `.rs`, `.md`, `.sh`
//! and `.zip` are real top-level domains.

/// Special-use and private top-level names (RFC 2606, 6761, 6762, 8375 and
/// names in common private use): not in the public list, yet real networks
/// and test data use them for hosts.
const PRIVATE_TLDS: &[&str] = &[
    "test",
    "example",
    "invalid",
    "local",
    "localdomain",
    "internal",
    "intranet",
    "lan",
    "home",
    "corp",
    "private",
    "arpa",
];

/// Operators of block lists and reputation services, and their portals: a
/// public service identifies nobody. A name equal to one of these or under one
/// stays readable (`zen.spamhaus.org`, `www.spamcop.net`).
const PUBLIC_SERVICES: &[&str] = &[
    "spamhaus.org",
    "spamcop.net",
    "barracudacentral.org",
    "barracudanetworks.com",
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
    "www.mimecast.com",
    "ers.trendmicro.com",
    "csi.cloudmark.com",
    "sender.office.com",
    "senders.yahooinc.com",
    "help.yahoo.com",
    "support.google.com",
    "postmaster.google.com",
];

/// Names of the machine itself, not of anyone.
const LOOPBACK_NAMES: &[&str] = &["localhost", "localhost.localdomain"];

/// Whether a (lowercase) name is a public service or the loopback name.
pub fn is_public_service(lower: &str) -> bool {
    LOOPBACK_NAMES.contains(&lower)
        || PUBLIC_SERVICES.iter().any(|p| {
            lower == *p
                || lower
                    .strip_suffix(p)
                    .is_some_and(|head| head.ends_with('.'))
        })
}

/// The byte length of the longest run of leading labels of `lower` that is
/// a host name, or `None` when no run is.
pub fn host_prefix(lower: &str) -> Option<usize> {
    if lower.split('.').any(str::is_empty) {
        // `a..b`, `.x`, `x.`: the caller trims a final dot.
        return None;
    }
    let ends: Vec<usize> = lower
        .match_indices('.')
        .map(|(i, _)| i)
        .chain(std::iter::once(lower.len()))
        .collect();
    // ends[0] is the end of the first label: a name needs two labels.
    ends.iter()
        .skip(1)
        .rev()
        .copied()
        .find(|&end| is_host_name(&lower[..end]))
}

/// A whole name with at least one label under a known suffix.
fn is_host_name(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or("");
    // A top-level label is never all digits: `1.2` is a number.
    if !last.chars().any(char::is_alphabetic) {
        return false;
    }
    if PRIVATE_TLDS.contains(&last) {
        return true;
    }
    let known = psl::suffix(name.as_bytes()).is_some_and(|s| s.is_known());
    known && psl::domain(name.as_bytes()).is_some()
}

/// Whether a (lowercase) name is itself only a public suffix or a bare
/// label (`com`, `co.uk`, `mx1`): such a syslog host field never makes
/// anything readable.
pub fn is_bare_suffix(lower: &str) -> bool {
    !lower.contains('.')
        || psl::suffix(lower.as_bytes())
            .is_some_and(|s| s.is_known() && s.as_bytes().len() == lower.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_domains_are_names_and_file_names_are_not() {
        for name in [
            "mail.customer.pl",
            "www.shop.rs",
            "readme.md",
            "deploy.sh",
            "files.zip",
            "relay.cf",
            "postgrey.schweikert.ch",
            "mx.bigisp.test",
            "campus.example",
            "my_host.customer.com",
            "xn--bcher-kva.de",
            "bücher.de",
            "почта.рф",
            "sg2plibsmtp01-1.prod.sin2.secureserver.net",
        ] {
            assert_eq!(host_prefix(name), Some(name.len()), "{name}");
        }
        assert_eq!(
            host_prefix("campus.example.html"),
            Some("campus.example".len())
        );
        assert_eq!(
            host_prefix("mail.customer.de.gz"),
            Some("mail.customer.de".len())
        );
        for not in [
            "mail.log.2.gz",
            "resolv.conf",
            "bl.shtml",
            "troubleshooting.aspx",
            "5.7.1",
            "1.2.3.4",
            "com",
            "co.uk",
            "a..b",
        ] {
            assert_eq!(host_prefix(not), None, "{not}");
        }
    }

    #[test]
    fn public_services_and_bare_suffixes() {
        assert!(is_public_service("zen.spamhaus.org"));
        assert!(is_public_service("spamhaus.org"));
        assert!(!is_public_service("notspamhaus.org"));
        assert!(!is_public_service("spamhaus.org.evil.example"));
        assert!(is_bare_suffix("com"));
        assert!(is_bare_suffix("co.uk"));
        assert!(is_bare_suffix("mx1"));
        assert!(!is_bare_suffix("mx1.hosting-example.net"));
    }
}
