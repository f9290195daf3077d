//! Pseudonyms for a report that goes to a third party (`--redact`).
//!
//! One pass over every output token: each string of the Summary (and each
//! cell of the extra files) is scanned by one pattern for what can be
//! personal (addresses, host names, IPs, URLs, logins, local user names,
//! program arguments, file names), and each token is replaced by a stable
//! pseudonym from a keyed hash (same value, same salt, same pseudonym).
//!
//! What stays readable is an explicit allow list, nothing else:
//! - cause ids, titles, times and the tool's own fix texts;
//! - the names of lists and reputation systems from the built-in rules, the
//!   zones and portals of the list operators (`zen.spamhaus.org`);
//! - the server's own names: the exact host names of the syslog host field
//!   (never a bare label or a public suffix: a host field `com` keeps `com`
//!   and nothing under it);
//! - the server's own IPs: those given in `keep` (an IP in the syslog host
//!   field), and a listed IP that replies from at least two different
//!   receiving domains name as the listed or connecting client. Postfix
//!   does not log its outbound address; a receiver's reply names the IP it
//!   saw, and two unrelated receivers naming the same one is the evidence
//!   that it is ours. One reply alone may quote anybody (a client in a
//!   header), so its IP is a pseudonym;
//! - loopback addresses and system accounts (`root`, `MAILER-DAEMON`, uids
//!   under 1000 from `--passwd`), which are the same on every server.

mod names;
mod pseudonym;
mod tokens;

use crate::model::Summary;
use pseudonym::Keyed;
use regex::{Captures, Regex};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

#[derive(Debug, Clone, Default)]
pub struct RedactOptions {
    /// Mixed into every pseudonym's key. Empty: a random salt is drawn, so
    /// that nobody can recompute the pseudonyms (see [`Self::resolved`]).
    pub salt: String,
    /// Set by [`Self::resolved`] when the salt was drawn for this run: the
    /// report then says its pseudonyms match no other report.
    pub random_salt: bool,
    /// The server's own host names and IPs, which stay readable.
    pub keep: Vec<String>,
}

impl RedactOptions {
    /// Draws the random salt when none was given; call once per run so the
    /// files and the terminal show the same pseudonyms.
    pub fn resolved(mut self) -> crate::Result<RedactOptions> {
        if self.salt.is_empty() {
            self.salt = pseudonym::random_salt()?;
            self.random_salt = true;
        }
        Ok(self)
    }
}

/// Rewrites every third-party identifier in the Summary and records how.
pub fn redact(summary: &mut Summary, opts: &RedactOptions) -> crate::Result<()> {
    Redactor::for_summary(opts, summary)?.redact_summary(summary);
    Ok(())
}

/// Local parts and logins that name a role on every server, not a person.
const SYSTEM_ACCOUNTS: &[&str] = &[
    "mailer-daemon",
    "postmaster",
    "root",
    "double-bounce",
    "nobody",
    "www-data",
    "apache",
    "nginx",
    "postfix",
    "amavis",
    "clamav",
    "daemon",
    "mail",
];

/// Uids below this are system accounts (Debian and RHEL policy); Plesk's
/// subscription users, named after customers, start at 10000.
const FIRST_USER_UID: u64 = 1000;

/// The value-level rules: what one address, name, IP or login becomes.
struct Core {
    keyed: Keyed,
    random_salt: bool,
    own_names: HashSet<String>,
    own_ips: HashSet<IpAddr>,
}

pub struct Redactor {
    core: Core,
    /// Exact values the Summary names as personal (input paths, list names
    /// that are not built in; logins and passwd names), with their
    /// pseudonyms: found wherever they stand in a text.
    known: HashMap<String, String>,
    re: Regex,
}

impl Core {
    fn pseudonym(&self, prefix: &str, kind: &str, value: &str) -> String {
        format!("{prefix}-{}", self.keyed.hex(kind, value))
    }

    fn is_own_ip(&self, ip: IpAddr) -> bool {
        let ip = tokens::canonical(ip);
        ip.is_loopback() || ip.is_unspecified() || self.own_ips.contains(&ip)
    }

    fn ip(&self, ip: IpAddr) -> String {
        let ip = tokens::canonical(ip);
        if self.is_own_ip(ip) {
            ip.to_string()
        } else {
            self.pseudonym("ip", "ip", &ip.to_string())
        }
    }

    fn readable_name(&self, lower: &str) -> bool {
        self.own_names.contains(lower)
            || names::is_public_service(lower)
            || is_domain_pseudonym(lower)
    }

    /// A dotted word: a pseudonym for its host name part, or the word as it
    /// is when it names no host (`mail.log.2.gz`), IPs inside it redacted.
    fn name(&self, token: &str) -> String {
        let lower = token.to_lowercase();
        if self.readable_name(&lower) {
            return token.to_string();
        }
        match names::host_prefix(&lower) {
            Some(end) if self.readable_name(&lower[..end]) => token.to_string(),
            Some(end) => format!("{}{}", self.domain_pseudonym(&lower[..end]), &lower[end..]),
            None => self.ipv4_inside(token),
        }
    }

    fn domain_pseudonym(&self, lower: &str) -> String {
        format!("domain-{}.example", self.keyed.hex("name", lower))
    }

    /// A name known to be a host (an address's domain, a URL's host, a
    /// HELO name): a pseudonym even when the suffix is unknown.
    fn host(&self, host: &str) -> String {
        if let Some(ip) = tokens::parse_ip(host) {
            return if host.starts_with('[') {
                let v6 = if host.to_ascii_lowercase().starts_with("[ipv6:") {
                    "IPv6:"
                } else {
                    ""
                };
                format!("[{v6}{}]", self.ip(ip))
            } else {
                self.ip(ip)
            };
        }
        let lower = host.to_lowercase();
        if lower.is_empty() || self.readable_name(&lower) || lower == "unknown" {
            host.to_string()
        } else {
            self.domain_pseudonym(&lower)
        }
    }

    fn address(&self, address: &str) -> String {
        let Some((local, domain)) = address.rsplit_once('@') else {
            return self.login(address);
        };
        let local_lower = local.to_lowercase();
        // `'@SUM(1)`: punctuation before an @ names nobody.
        let nobody = !local.chars().any(char::is_alphanumeric);
        let local = if nobody
            || SYSTEM_ACCOUNTS.contains(&local_lower.as_str())
            || is_user_pseudonym(&local_lower)
        {
            local.to_string()
        } else {
            self.pseudonym("user", "address", &address.to_lowercase())
        };
        format!("{local}@{}", self.host(domain))
    }

    fn login(&self, login: &str) -> String {
        if login.contains('@') {
            return self.address(login);
        }
        let lower = login.to_lowercase();
        if lower.is_empty()
            || SYSTEM_ACCOUNTS.contains(&lower.as_str())
            || is_user_pseudonym(&lower)
        {
            return login.to_string();
        }
        self.pseudonym("user", "address", &lower)
    }

    fn passwd_name(&self, uid: &str, name: &str) -> String {
        if uid.parse::<u64>().is_ok_and(|u| u < FIRST_USER_UID) {
            name.to_string()
        } else {
            self.login(name)
        }
    }

    /// Input file names: a component that is not a plain log name
    /// (`mail.customer.de.gz`, a home folder) becomes a pseudonym.
    fn path(&self, path: &str) -> String {
        path.split('/')
            .map(|c| {
                if c.is_empty() || tokens::is_plain_log_name(c) {
                    c.to_string()
                } else {
                    let ext = if c.ends_with(".gz") { ".gz" } else { "" };
                    format!("{}{ext}", self.pseudonym("file", "file", c))
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// A blacklisting's list: readable only when it is a built-in list or
    /// a zone of a known operator; a receiving domain used as the list name
    /// gets its host pseudonym, anything else a list pseudonym.
    fn list(&self, list: &str) -> String {
        let lower = list.to_lowercase();
        let builtin = crate::classify::rules::BUILTIN
            .iter()
            .any(|r| r.list == Some(lower.as_str()));
        if builtin
            || names::is_public_service(&lower)
            || is_domain_pseudonym(&lower)
            || lower.starts_with("list-")
        {
            list.to_string()
        } else if names::host_prefix(&lower) == Some(lower.len()) {
            self.domain_pseudonym(&lower)
        } else {
            self.pseudonym("list", "list", &lower)
        }
    }

    /// IPv4 addresses inside a word that is no token itself.
    fn ipv4_inside(&self, s: &str) -> String {
        static IP4: OnceLock<Regex> = OnceLock::new();
        let re = IP4.get_or_init(|| {
            Regex::new(r"(?:0[xX][0-9A-Fa-f]{1,2}|[0-9]{1,3})(?:\.(?:0[xX][0-9A-Fa-f]{1,2}|[0-9]{1,3})){3}")
                .expect("IPv4 pattern compiles")
        });
        re.replace_all(s, |c: &Captures| match tokens::parse_ipv4(&c[0]) {
            Some(v4) => self.ip(IpAddr::V4(v4)),
            None => c[0].to_string(),
        })
        .into_owned()
    }
}

/// `user-<hex>`: already a pseudonym.
fn is_user_pseudonym(s: &str) -> bool {
    s.strip_prefix("user-").is_some_and(pseudonym::is_hex)
}

/// `domain-<hex>.example`: already a pseudonym.
fn is_domain_pseudonym(s: &str) -> bool {
    s.strip_prefix("domain-")
        .and_then(|r| r.strip_suffix(".example"))
        .is_some_and(pseudonym::is_hex)
}

impl Redactor {
    /// A redactor for one Summary: the own IPs and the known personal
    /// values are read from it, so the files and the terminal agree.
    pub fn for_summary(opts: &RedactOptions, summary: &Summary) -> crate::Result<Redactor> {
        let opts = opts.clone().resolved()?;
        let mut own_names = HashSet::new();
        let mut own_ips = HashSet::new();
        for k in &opts.keep {
            match tokens::parse_ip(k) {
                Some(ip) => {
                    own_ips.insert(tokens::canonical(ip));
                }
                None => {
                    let lower = k.to_lowercase();
                    if !names::is_bare_suffix(&lower) {
                        own_names.insert(lower);
                    }
                }
            }
        }
        own_ips.extend(listed_ips_named_by_two_receivers(summary));
        let core = Core {
            keyed: Keyed::new(&opts.salt),
            random_salt: opts.random_salt,
            own_names,
            own_ips,
        };
        let known = known_values(&core, summary);
        let alternation = |first: bool| {
            let mut v: Vec<&String> = known
                .keys()
                .filter(|k| is_first_known(k) == first)
                .collect();
            // Longest first: a value that contains another wins.
            v.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
            v.iter()
                .map(|k| regex::escape(k))
                .collect::<Vec<_>>()
                .join("|")
        };
        let pattern = tokens::pattern(&alternation(true), &alternation(false));
        let re = Regex::new(&pattern).map_err(|e| crate::Error::Report {
            what: "redaction".to_string(),
            message: e.to_string(),
        })?;
        Ok(Redactor { core, known, re })
    }

    /// Rewrites every string of the Summary, then rebuilds the suspects' fix
    /// texts from the redacted identities.
    pub fn redact_summary(&self, summary: &mut Summary) {
        if let Ok(mut v) = serde_json::to_value(&*summary) {
            self.walk("", "", &mut v);
            if let Ok(s) = serde_json::from_value::<Summary>(v) {
                *summary = s;
            }
        }
        for s in &mut summary.suspects {
            let kind = crate::correlate::IdentityKind::from_id(&s.kind);
            s.fix = crate::analyze::suspects::fixes(kind, &s.identity);
        }
        summary.redacted = true;
        summary.redaction_salt = Some(
            if self.core.random_salt {
                "random"
            } else {
                "given"
            }
            .to_string(),
        );
    }

    fn walk(&self, outer: &str, key: &str, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.field(outer, key, s),
            Value::Array(a) => a.iter_mut().for_each(|x| self.walk(outer, key, x)),
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    self.walk(key, k, x);
                }
            }
            _ => {}
        }
    }

    /// One string of the Summary, by the field it is in.
    fn field(&self, outer: &str, key: &str, s: &str) -> String {
        match key {
            "list" => self.core.list(s),
            "listed_ip" | "client_ips" | "client_ip" => match tokens::parse_ip(s) {
                Some(ip) => self.core.ip(ip),
                None => self.text(s),
            },
            "delisting_url" if crate::classify::delisting_urls().any(|u| u == s) => s.to_string(),
            "path" => self.core.path(s),
            "program" => self.program(s),
            "fix" if is_builtin_fix(s) => s.to_string(),
            // A login may be a bare local name (`dave`).
            "sender" | "recipients" | "login" => self.mailbox(s),
            "key" if outer == "by_sender" => self.mailbox(s),
            _ => self.text(s),
        }
    }

    /// A sender or recipient cell: a bare local name is a login.
    fn mailbox(&self, s: &str) -> String {
        if s.contains(['@', ' ']) || s.is_empty() {
            self.text(s)
        } else {
            self.core.login(s)
        }
    }

    /// A syslog program name; an argument in parentheses is the site or
    /// user a script runs for.
    fn program(&self, s: &str) -> String {
        match s.split_once('(') {
            Some((name, args)) => {
                let args = args.trim_end_matches(')');
                format!(
                    "{}({})",
                    self.text(name),
                    self.core.pseudonym("arg", "arg", args)
                )
            }
            None => self.text(s),
        }
    }

    /// Rewrites one free text.
    pub fn text(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for c in self.re.captures_iter(s) {
            let Some(m) = c.get(0) else { continue };
            out.push_str(&s[last..m.start()]);
            out.push_str(&self.token(&c, s, m.start(), m.end()));
            last = m.end();
        }
        out.push_str(&s[last..]);
        out
    }

    fn token(&self, c: &Captures, hay: &str, start: usize, end: usize) -> String {
        let core = &self.core;
        let whole = &hay[start..end];
        let g = |n: &str| c.name(n).map_or("", |m| m.as_str());
        if c.name("kfirst").is_some() {
            return self.known.get(whole).cloned().unwrap_or_default();
        }
        if c.name("url").is_some() {
            return self.url(whole);
        }
        if c.name("hdr").is_some() {
            let value = g("hval");
            let value = if value.is_empty() {
                String::new()
            } else {
                core.pseudonym("text", "text", value)
            };
            return format!("{}{value}{}", g("hdr"), self.text(g("hend")));
        }
        if c.name("qaddr").is_some() {
            return core.address(whole);
        }
        if c.name("dname").is_some() {
            let name = g("dname");
            let name = if name.len() <= 2 {
                name.to_string()
            } else {
                format!("\"{}\"", core.pseudonym("name", "display", name))
            };
            return format!("{name}{}", g("dsep"));
        }
        if c.name("ukey").is_some() {
            let name = c.name("uname").map_or(String::new(), |n| {
                let inner = n.as_str().trim_start_matches(" (").trim_end_matches(')');
                format!(" ({})", core.passwd_name(g("uid"), inner))
            });
            return format!("uid:{}{name}", g("uid"));
        }
        if c.name("akey").is_some() {
            let key = g("akey");
            let value = g("aval");
            let value = if key.starts_with("helo") {
                core.host(value)
            } else {
                core.login(value)
            };
            return format!("{key}{value}");
        }
        if c.name("lkey").is_some() {
            let (value, trail) = split_trailing(g("lval"));
            return format!("{}{}{trail}", g("lkey"), core.login(value));
        }
        if c.name("ckey").is_some() {
            return format!("client:{}", self.client(g("cval")));
        }
        if c.name("bkey").is_some() {
            let (value, trail) = split_trailing(g("bval"));
            return format!("{}{}{trail}", g("bkey"), core.list(value));
        }
        if c.name("addr").is_some() {
            return core.address(whole);
        }
        if c.name("hn").is_some() {
            let (host, ip) = (g("hn"), g("hi"));
            return match tokens::parse_ip(ip) {
                Some(addr) => {
                    let v6 = if ip.starts_with("IPv6:") { "IPv6:" } else { "" };
                    format!("{}[{v6}{}]", core.host(host), core.ip(addr))
                }
                // `smtp[4242]`: a process id.
                None => format!("{}[{ip}]", core.name(host)),
            };
        }
        if c.name("ip6").is_some() {
            return match tokens::parse_ipv6(whole) {
                Some((ip, a, b)) => {
                    format!("{}{}{}", &whole[..a], core.ip(IpAddr::V6(ip)), &whole[b..])
                }
                None => core.ipv4_inside(whole),
            };
        }
        if c.name("ip4").is_some() {
            return self.ipv4(whole, &hay[end..]);
        }
        if c.name("prog").is_some() {
            let args = core.pseudonym("arg", "arg", g("pargs"));
            return format!("{}({args}){}", self.text(g("prog")), g("pend"));
        }
        if c.name("name").is_some() {
            return core.name(whole);
        }
        if c.name("klast").is_some() && is_whole_word(hay, start, end) {
            return self.known.get(whole).cloned().unwrap_or_default();
        }
        whole.to_string()
    }

    /// An IPv4 token; `after` is the text that follows it. A reversed IP
    /// before a list zone (`25.113.0.203.zen.spamhaus.org`) is ours when
    /// its forward form is.
    fn ipv4(&self, token: &str, after: &str) -> String {
        let Some(v4) = tokens::parse_ipv4(token) else {
            return token.to_string();
        };
        if let Some(zone) = after.strip_prefix('.') {
            let zone_end = zone
                .find(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-'))
                .unwrap_or(zone.len());
            let o = v4.octets();
            let forward = IpAddr::V4(Ipv4Addr::new(o[3], o[2], o[1], o[0]));
            if names::is_public_service(&zone[..zone_end].to_lowercase())
                && self.core.is_own_ip(forward)
            {
                return token.to_string();
            }
        }
        self.core.ip(IpAddr::V4(v4))
    }

    /// `unknown[192.0.2.1]`, `mx.example.com[192.0.2.1]` or an IP.
    fn client(&self, value: &str) -> String {
        if let Some(ip) = tokens::parse_ip(value) {
            return self.core.ip(ip);
        }
        match value.split_once('[') {
            Some((host, rest)) => format!("{}[{}", self.core.host(host), self.text(rest)),
            None => self.core.host(value),
        }
    }

    fn url(&self, whole: &str) -> String {
        let (core_part, trail) = tokens::split_trailing_punctuation(whole);
        let Some(u) = tokens::parse_url(core_part) else {
            return self.core.ipv4_inside(whole);
        };
        let user = u.userinfo.map_or(String::new(), |ui| {
            let name = ui.split(':').next().unwrap_or(ui);
            format!(
                "{}@",
                self.core.pseudonym(
                    "user",
                    "address",
                    &tokens::percent_decode(name).to_lowercase()
                )
            )
        });
        let port = u.port.map_or(String::new(), |p| format!(":{p}"));
        let rest = self.text(&tokens::percent_decode(u.rest));
        format!(
            "{}://{user}{}{port}{rest}{trail}",
            u.scheme,
            self.core.host(u.host)
        )
    }

    /// Redacts a CSV file written by the report (queue.csv, messages.csv)
    /// cell by cell: `sender` and `recipient` cells are mailboxes.
    pub fn csv(&self, text: &str) -> String {
        let mut lines = text.split_inclusive('\n');
        let Some(header) = lines.next() else {
            return String::new();
        };
        let columns = split_csv_line(header.trim_end_matches(['\n', '\r']));
        let mut out = String::with_capacity(text.len());
        out.push_str(header);
        for line in lines {
            let body = line.trim_end_matches(['\n', '\r']);
            let cells: Vec<String> = split_csv_line(body)
                .iter()
                .enumerate()
                .map(|(i, cell)| match columns.get(i).map(String::as_str) {
                    Some(col) => self.cell(col, cell),
                    None => self.text(cell),
                })
                // Again after redaction: idempotent on neutralised cells.
                .map(|cell| crate::report::csv::neutralise(&cell))
                .collect();
            out.push_str(&join_csv_line(&cells));
            out.push_str(&line[body.len()..]);
        }
        out
    }
}

impl Redactor {
    /// One cell of a table, by its column: mailboxes, host names, IPs and
    /// lists by their own rules, anything else as free text.
    pub fn cell(&self, column: &str, value: &str) -> String {
        match column {
            "sender" | "recipient" | "orig_recipient" => self.mailbox(value),
            "host" | "recipient_domain" | "relay_host" => self.core.host(value),
            "relay_ip" | "client_ip" | "listed_ip" => match tokens::parse_ip(value) {
                Some(ip) => self.core.ip(ip),
                None => self.text(value),
            },
            "list" => self.core.list(value),
            _ => self.text(value),
        }
    }
}

/// Splits one CSV line into cells, RFC 4180 quotes understood.
fn split_csv_line(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let cell = cells.last_mut().expect("one cell at least");
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(String::new()),
            (c, _) => cell.push(c),
        }
    }
    cells
}

fn join_csv_line(cells: &[String]) -> String {
    cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\n', '\r']) || crate::report::csv::needs_quotes(c) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn split_trailing(s: &str) -> (&str, &str) {
    let core = s.trim_end_matches(['.', ':', '!', '?']);
    (core, &s[core.len()..])
}

/// A known value found inside a longer word (`john` in `johnny`) is not it.
fn is_whole_word(hay: &str, start: usize, end: usize) -> bool {
    let word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '@' | '.');
    let before = hay[..start].chars().next_back().is_none_or(|c| !word(c));
    let after = hay[end..].chars().next();
    let after_ok = match after {
        None => true,
        // A sentence's full stop is not part of the word.
        Some('.') => !hay[end + 1..].starts_with(|c: char| c.is_alphanumeric()),
        Some(c) => !word(c),
    };
    before && after_ok
}

/// Paths and list names go first in the pattern; logins and local user
/// names last, so a host name that starts with one wins.
fn is_first_known(k: &str) -> bool {
    k.contains(['/', '.'])
}

/// Whether a fix text is one of the tool's own (the cause table's).
fn is_builtin_fix(s: &str) -> bool {
    crate::classify::Cause::ALL
        .iter()
        .any(|c| c.fix().contains(&s))
}

/// Listed IPs that replies from two or more receiving domains name.
fn listed_ips_named_by_two_receivers(summary: &Summary) -> Vec<IpAddr> {
    let mut domains: HashMap<IpAddr, HashSet<String>> = HashMap::new();
    for b in &summary.blacklistings {
        let Some(ip) = b.listed_ip.as_deref().and_then(tokens::parse_ip) else {
            continue;
        };
        let set = domains.entry(tokens::canonical(ip)).or_default();
        for r in &b.receivers {
            let lower = r.to_lowercase();
            let registrable = psl::domain_str(&lower).unwrap_or(&lower).to_string();
            set.insert(registrable);
        }
    }
    domains
        .into_iter()
        .filter(|(_, d)| d.len() >= 2)
        .map(|(ip, _)| ip)
        .collect()
}

/// The personal values the Summary names in fields of known meaning, with
/// their pseudonyms: they are then caught wherever else they stand (a login
/// in a fix text, an input path in a problem).
fn known_values(core: &Core, summary: &Summary) -> HashMap<String, String> {
    let mut known = HashMap::new();
    for input in &summary.inputs {
        let p = core.path(&input.path);
        if p != input.path {
            known.insert(input.path.clone(), p);
        }
    }
    let lists = summary.blacklistings.iter().map(|b| b.list.as_str());
    for list in lists {
        let l = core.list(list);
        if l != list {
            known.insert(list.to_string(), l);
        }
    }
    let identities = summary
        .suspects
        .iter()
        .map(|s| s.identity.as_str())
        .chain(summary.top_senders.iter().map(|s| s.identity.as_str()))
        .chain(
            summary
                .outgoing_limits
                .iter()
                .filter_map(|l| l.identity.as_deref()),
        )
        .chain(
            summary
                .queue
                .iter()
                .flat_map(|q| q.oldest.iter().filter_map(|m| m.identity.as_deref())),
        );
    for id in identities {
        let (kind, value) = id.split_once(':').unwrap_or(("", id));
        let value = match kind {
            "uid" => match value.split_once(" (") {
                Some((uid, name)) if uid.parse::<u64>().is_ok_and(|u| u >= FIRST_USER_UID) => {
                    name.trim_end_matches(')')
                }
                _ => continue,
            },
            "sasl" | "sender" => value,
            _ => continue,
        };
        let pseudonym = core.login(value);
        if value.chars().count() >= 3 && !value.contains('@') && pseudonym != value {
            known.insert(value.to_string(), pseudonym);
        }
    }
    known
}

#[cfg(test)]
mod tests;
