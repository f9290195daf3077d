//! Reason text to root cause.
//!
//! Every deferral, bounce and expiry carries a reason text (the part in
//! parentheses after `status=`). This module puts each text down to one
//! [`Cause`] of the design's taxonomy, with a [`Detail`] (the blocklist zone,
//! the remote host, the reply codes) and the name of the rule that matched, so
//! `postmortem explain` can show why.
//!
//! One table of patterns ([`rules`]) is compiled once into a single
//! multi-pattern regex. Rule order is priority: every pattern is prefixed with
//! a lazy `(?s:.)*?` and searched anchored at the start, so all matches begin
//! at offset 0 and leftmost-first semantics make the earliest rule that
//! matches anywhere win. That keeps "a listing beats a rate limit" and
//! "Spamhaus open-resolver answers are our DNS, not a listing" as plain
//! ordering, and runs several times faster than a `RegexSet` or a loop of
//! regexes.
//!
//! `port25_blocked` is not a property of one text: a connect failure is
//! classified `remote_unavailable` with its [`ConnectFailure`] kept, and
//! [`judge_port25`] decides over many attempts.

pub mod cache;
mod cause;
mod diagnostics;
pub mod local;
mod matcher;
mod normalise;
mod port25;
pub mod rules;

use std::path::Path;
use std::sync::{Arc, OnceLock};

use matcher::Matcher;
use regex::Regex;
use serde::Serialize;

pub use cause::Cause;
pub use local::LocalKind;
pub use normalise::normalise;
pub use port25::{judge_port25, ConnectAttempt, PORT25_MIN_DESTINATIONS, PORT25_WINDOW};

use crate::{Error, Result};

/// What a refusal says about our server's standing with the receiver.
/// Only `Reputation` is evidence that spam went out (and opens a blacklist
/// episode whose sources are looked for); `Policy` blocks the server for
/// what its IP is (a dynamic range), which no sender caused; `None` is
/// everything else, throttles about one recipient or a busy server
/// included.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Reputation,
    Policy,
    #[default]
    None,
}

impl Standing {
    pub fn id(self) -> &'static str {
        match self {
            Standing::Reputation => "reputation",
            Standing::Policy => "policy",
            Standing::None => "none",
        }
    }

    pub fn from_id(id: &str) -> Option<Standing> {
        [Standing::Reputation, Standing::Policy, Standing::None]
            .into_iter()
            .find(|s| s.id() == id)
    }
}

/// A connect failure, kept apart because `port25_blocked` is a judgement
/// over many attempts, not a property of one text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectFailure {
    TimedOut,
    NoRoute,
    NetworkUnreachable,
    Refused,
}

/// What the reason text says besides its cause.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Detail {
    /// The blocklist zone (`zen.spamhaus.org`) or reputation system (`microsoft`).
    pub list: Option<String>,
    pub remote_host: Option<String>,
    pub remote_port: Option<u16>,
    pub reply_code: Option<u16>,
    pub enhanced_code: Option<String>,
    /// The IP the reply says is listed or blocked.
    pub listed_ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub cause: Cause,
    /// What the reply says about our standing (see [`Standing`]).
    pub standing: Standing,
    pub detail: Detail,
    pub connect_failure: Option<ConnectFailure>,
    /// The name of the rule that matched; empty when none did.
    pub rule: String,
    /// The kind of local failure the text shows, when it is one.
    pub local: Option<LocalKind>,
}

/// One compiled rule's outcome.
#[derive(Debug, Clone)]
struct Outcome {
    name: String,
    cause: Cause,
    list: Option<String>,
    standing: Standing,
    local: Option<LocalKind>,
}

/// The compiled pattern table: a user's rules (first) and the built-in
/// ones, each table its own automaton, so a user's pattern can cost only
/// what its own automaton costs.
#[derive(Debug, Clone)]
pub struct Classifier {
    user: Option<Arc<Matcher>>,
    builtin: Arc<Matcher>,
    /// The user's rules' outcomes, then the built-in ones'.
    outcomes: Vec<Outcome>,
    /// Rules from a user's file come first; they may name addresses.
    user_rules: bool,
    /// Tells tables apart (clones share it): verdicts cached for one table
    /// are not another's.
    id: u64,
}

/// A new table's id.
fn next_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A rule before compilation.
struct RuleSource {
    name: String,
    cause: Cause,
    list: Option<String>,
    pattern: String,
    standing: Standing,
    local: Option<LocalKind>,
}

/// Automaton sizes: the built-in table, a user's whole file, one user rule.
const BUILTIN_NFA_LIMIT: usize = 64 << 20;
const USER_NFA_LIMIT: usize = 64 << 20;
const RULE_NFA_LIMIT: usize = 1 << 20;
/// Rules a file may hold.
const USER_RULES_MAX: usize = 20_000;

fn compile(rules: &[RuleSource], limit: usize) -> std::result::Result<Matcher, String> {
    let patterns: Vec<&str> = rules.iter().map(|r| r.pattern.as_str()).collect();
    Matcher::new(&patterns, limit)
}

/// The number of built-in rules (diagnostic and reply rules).
fn builtin_len() -> usize {
    diagnostics::DIAGNOSTIC_RULES.len() + rules::BUILTIN.len()
}

fn builtin_sources() -> Vec<RuleSource> {
    diagnostics::DIAGNOSTIC_RULES
        .iter()
        .chain(rules::BUILTIN)
        .map(|r| RuleSource {
            name: r.name.to_string(),
            cause: r.cause,
            list: r.list.map(str::to_string),
            pattern: r.pattern.to_string(),
            standing: r.standing,
            local: r.local,
        })
        .collect()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rule: Vec<UserRule>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct UserRule {
    name: Option<String>,
    cause: toml::Spanned<String>,
    pattern: toml::Spanned<String>,
    list: Option<String>,
    /// `reputation`, `policy` or `none`; by default `reputation` for
    /// `blacklisted` and `none` otherwise.
    standing: Option<toml::Spanned<String>>,
    /// The kind of local failure (`disk_full`, `crash_loop`, ...) a text
    /// matching the rule shows, if any.
    local: Option<toml::Spanned<String>>,
}

fn line_of(text: &str, offset: usize) -> u64 {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

impl Default for Classifier {
    fn default() -> Self {
        Classifier::builtin()
    }
}

impl Classifier {
    /// The built-in table.
    pub fn builtin() -> Self {
        static BUILTIN: OnceLock<Classifier> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                let sources = builtin_sources();
                let matcher =
                    compile(&sources, BUILTIN_NFA_LIMIT).expect("built-in rules compile (tested)");
                Classifier {
                    user: None,
                    builtin: Arc::new(matcher),
                    outcomes: sources.into_iter().map(Outcome::from).collect(),
                    user_rules: false,
                    id: next_id(),
                }
            })
            .clone()
    }

    /// The built-in table plus the rules of a TOML file, which take
    /// precedence. The file holds `[[rule]]` tables:
    ///
    /// ```toml
    /// [[rule]]
    /// name = "myisp-block"        # optional, shown by `explain`
    /// cause = "blacklisted"       # a cause id from `postmortem causes`
    /// pattern = "(?i)my isp block" # a regex searched anywhere in the text
    /// list = "myisp"              # optional: the list or reputation system
    /// ```
    ///
    /// Patterns use the `regex` syntax without Unicode classes: `(?i)` folds
    /// ASCII case, `.` matches any byte.
    pub fn from_rules_file(path: &Path) -> Result<Classifier> {
        let text = crate::config::read_option_file(path, "--rules", 4 << 20)?;
        Self::from_rules_text(&text, path)
    }

    /// [`Classifier::from_rules_file`] on a file's text already read;
    /// `path` names it in errors.
    pub fn from_rules_text(text: &str, path: &Path) -> Result<Classifier> {
        let syntax = |line: u64, message: String| Error::Syntax {
            path: path.to_path_buf(),
            line,
            message,
        };
        let file: RulesFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
            syntax(line, e.message().to_string())
        })?;
        if file.rule.len() > USER_RULES_MAX {
            return Err(syntax(
                0,
                format!(
                    "{} rules; a rules file holds at most {USER_RULES_MAX}",
                    file.rule.len()
                ),
            ));
        }
        let mut sources = Vec::with_capacity(file.rule.len() + rules::BUILTIN.len());
        for (i, r) in file.rule.into_iter().enumerate() {
            let cause = Cause::from_id(r.cause.get_ref()).ok_or_else(|| {
                let ids: Vec<&str> = Cause::ALL.iter().map(|c| c.id()).collect();
                syntax(
                    line_of(text, r.cause.span().start),
                    format!(
                        "unknown cause {:?}; use one of {}",
                        r.cause.get_ref(),
                        ids.join(", ")
                    ),
                )
            })?;
            let pattern = r.pattern.get_ref().clone();
            let standing = match &r.standing {
                None if cause == Cause::Blacklisted => Standing::Reputation,
                None => Standing::None,
                Some(st) => Standing::from_id(st.get_ref()).ok_or_else(|| {
                    syntax(
                        line_of(text, st.span().start),
                        format!(
                            "unknown standing {:?}; use reputation, policy or none",
                            st.get_ref()
                        ),
                    )
                })?,
            };
            let local = match &r.local {
                None => None,
                Some(k) => Some(LocalKind::from_id(k.get_ref()).ok_or_else(|| {
                    let ids: Vec<&str> = LocalKind::ALL.iter().map(|k| k.id()).collect();
                    syntax(
                        line_of(text, k.span().start),
                        format!(
                            "unknown local kind {:?}; use one of {}",
                            k.get_ref(),
                            ids.join(", ")
                        ),
                    )
                })?),
            };
            // Check each pattern alone so the error names its line, and
            // so one rule cannot take the whole file's budget.
            if let Err(e) = Matcher::new(&[pattern.as_str()], RULE_NFA_LIMIT) {
                return Err(syntax(
                    line_of(text, r.pattern.span().start),
                    format!("bad pattern {pattern:?}: {e}"),
                ));
            }
            sources.push(RuleSource {
                name: r.name.unwrap_or_else(|| format!("user rule {}", i + 1)),
                cause,
                list: r.list,
                pattern,
                standing,
                local,
            });
        }
        let user = compile(&sources, USER_NFA_LIMIT).map_err(|e| syntax(0, e))?;
        let builtin = Classifier::builtin();
        let mut outcomes: Vec<Outcome> = sources.into_iter().map(Outcome::from).collect();
        outcomes.extend(builtin.outcomes.iter().cloned());
        Ok(Classifier {
            user: Some(Arc::new(user)),
            builtin: builtin.builtin,
            outcomes,
            user_rules: true,
            id: next_id(),
        })
    }

    /// Whether a text's cause may depend on the IP addresses in it: only
    /// user rules name addresses (the built-in ones know loopback only).
    pub fn reads_addresses(&self) -> bool {
        self.user_rules
    }

    /// The table's id: the same for its clones, different for another.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The number of rules in the table.
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    /// The index of the first rule (by priority) that matches, if any.
    fn first_rule(&self, text: &str) -> Option<usize> {
        let text = text.as_bytes();
        match &self.user {
            Some(user) => match user.first(text) {
                Some(i) => Some(i),
                None => {
                    let offset = self.outcomes.len() - builtin_len();
                    self.builtin.first(text).map(|i| i + offset)
                }
            },
            None => self.builtin.first(text),
        }
    }

    /// Puts one reason text down to a cause.
    pub fn classify(&self, text: &str) -> Verdict {
        let joined = join_reply_lines(text);
        let text = joined.as_ref();
        let hit = self.first_rule(text).and_then(|i| self.outcomes.get(i));
        let cause = hit.map_or(Cause::Unknown, |o| o.cause);
        let mut detail = extract_detail(text);
        let wants_list =
            matches!(cause, Cause::Blacklisted) || hit.is_some_and(|o| o.list.is_some());
        if wants_list {
            detail.list = list_zone(text)
                .or_else(|| hit.and_then(|o| o.list.clone()))
                .or_else(|| list_by_name(text).map(str::to_string))
                .map(|l| canonical_list(&l));
        }
        Verdict {
            cause,
            standing: hit.map_or(Standing::None, |o| o.standing),
            detail,
            connect_failure: connect_failure(text),
            rule: hit.map(|o| o.name.clone()).unwrap_or_default(),
            local: hit.and_then(|o| o.local),
        }
    }
}

impl From<RuleSource> for Outcome {
    fn from(r: RuleSource) -> Self {
        Outcome {
            name: r.name,
            cause: r.cause,
            list: r.list,
            standing: r.standing,
            local: r.local,
        }
    }
}

/// A multi-line reply as one sentence: Postfix joins the lines of a reply
/// with spaces, so Gmail's `... not authorized to 550-5.7.1 send email
/// directly ...` holds the continuation code of each line inside its
/// words. Codes equal to the reply's own (after `said: `) are dropped after
/// the first, so patterns can match the words as the receiver wrote them.
pub fn join_reply_lines(text: &str) -> std::borrow::Cow<'_, str> {
    static MARKS: OnceLock<Regex> = OnceLock::new();
    let re = MARKS.get_or_init(|| {
        Regex::new(r" ([2-5][0-9][0-9])[ -](?:[245]\.[0-9]{1,3}\.[0-9]{1,3} )?")
            .expect("continuation pattern compiles")
    });
    let Some(start) = text
        .find("said: ")
        .map(|p| p + 6)
        .or_else(|| text.find("to me: ").map(|p| p + 7))
    else {
        return std::borrow::Cow::Borrowed(text);
    };
    let code = text.get(start..start + 3).unwrap_or("");
    if !code.bytes().all(|b| b.is_ascii_digit()) || code.len() < 3 {
        return std::borrow::Cow::Borrowed(text);
    }
    let head_end = text[start..].find(' ').map_or(text.len(), |p| start + p);
    let tail = &text[head_end..];
    if !re.is_match(tail) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..head_end]);
    let mut last = 0;
    for c in re.captures_iter(tail) {
        let m = c.get(0).expect("whole match");
        if c.get(1).is_some_and(|g| g.as_str() == code) {
            out.push_str(&tail[last..m.start()]);
            out.push(' ');
            last = m.end();
        }
    }
    out.push_str(&tail[last..]);
    std::borrow::Cow::Owned(out)
}

/// One name per list or provider: a reply may name a list by its zone, by
/// another zone of the same operator (`sbl.spamhaus.org`, `pbl...`), or by
/// the operator's word (`Barracuda Reputation`); the report shows one row
/// for each operator's list, under the id [`delisting_url`] knows.
pub fn canonical_list(name: &str) -> String {
    let l = name.to_ascii_lowercase();
    const OPERATORS: &[(&str, &str)] = &[
        ("spamhaus", "zen.spamhaus.org"),
        ("abuseat", "zen.spamhaus.org"),
        ("spamcop", "bl.spamcop.net"),
        ("barracuda", "b.barracudacentral.org"),
        ("uceprotect", "uceprotect"),
        ("sorbs", "sorbs"),
        ("spamrats", "spamrats"),
        ("mailspike", "mailspike"),
        ("outlook", "microsoft"),
        ("hotmail", "microsoft"),
    ];
    OPERATORS
        .iter()
        .find(|(word, _)| l.contains(word))
        .map_or(l.clone(), |(_, id)| (*id).to_string())
}

/// The lookup and removal portal of each known list (by a word of its name).
const DELISTING: &[(&str, &str)] = &[
    ("spamhaus", "https://check.spamhaus.org/"),
    ("abuseat", "https://check.spamhaus.org/"),
    ("spamcop", "https://www.spamcop.net/bl.shtml"),
    (
        "barracuda",
        "https://www.barracudacentral.org/rbl/removal-request",
    ),
    ("microsoft", "https://sender.office.com/"),
    ("outlook", "https://sender.office.com/"),
    ("hotmail", "https://sender.office.com/"),
    ("uceprotect", "https://www.uceprotect.net/en/rblcheck.php"),
    ("sorbs", "http://www.sorbs.net/delisting/overview.shtml"),
    ("proofpoint", "https://ipcheck.proofpoint.com/"),
    ("mimecast", "https://www.mimecast.com/senderfeedback/"),
    ("trendmicro", "https://ers.trendmicro.com/"),
    ("gmail", "https://postmaster.google.com/"),
    ("google", "https://postmaster.google.com/"),
    ("yahoo", "https://senders.yahooinc.com/"),
    ("cloudmark", "https://csi.cloudmark.com/en/reset/"),
    ("spamrats", "https://www.spamrats.com/removal.php"),
];

/// Every delisting URL the tool itself may write: the only ones a redacted
/// report keeps as they are.
pub fn delisting_urls() -> impl Iterator<Item = &'static str> {
    DELISTING.iter().map(|(_, url)| *url)
}

/// The page where a listed sender asks for removal, for known lists and
/// reputation systems (by zone or by the ids this module gives them).
pub fn delisting_url(list: &str) -> Option<&'static str> {
    let l = list.to_ascii_lowercase();
    DELISTING
        .iter()
        .find(|(key, _)| l.contains(key))
        .map(|(_, url)| *url)
}

/// The command that asks a DNS list whether `ip` is on it
/// (`dig +short 25.100.51.198.zen.spamhaus.org`): `None` for an IPv6 or
/// unparsable address, or a provider's name rather than a list zone.
pub fn dig_command(ip: &str, list: &str) -> Option<String> {
    let name = dnsbl_name(ip, list)?;
    list.contains('.').then(|| format!("dig +short {name}"))
}

/// The name a DNS blocklist is asked about: `192.0.2.10` on
/// `zen.spamhaus.org` is `10.2.0.192.zen.spamhaus.org`; IPv6 in reversed
/// nibbles.
pub fn dnsbl_name(ip: &str, zone: &str) -> Option<String> {
    let reversed = match ip.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}")
        }
        std::net::IpAddr::V6(v6) => {
            let hex: String = v6.octets().iter().map(|b| format!("{b:02x}")).collect();
            let nibbles: Vec<String> = hex.chars().rev().map(String::from).collect();
            nibbles.join(".")
        }
    };
    Some(format!("{reversed}.{zone}"))
}

struct DetailRegexes {
    connect: Regex,
    host_said: Regex,
    lost: Regex,
    transport: Regex,
    reply: Regex,
    enhanced: Regex,
    listed_ip: Regex,
    bracket_ip: Regex,
    zone: Regex,
    failure: Regex,
}

fn detail_regexes() -> &'static DetailRegexes {
    static RE: OnceLock<DetailRegexes> = OnceLock::new();
    RE.get_or_init(|| {
        let r = |p: &str| Regex::new(p).expect("detail regex compiles (tested)");
        DetailRegexes {
            connect: r(r"connect to ([^\s\[\]]+)\[([^\]]*)\](?::(\d{1,5}))?"),
            host_said: r(r"host ([^\s\[\]]*)\[([^\]]*)\](?::(\d{1,5}))? (?:said|refused to talk to me)"),
            lost: r(r"(?:lost connection with|conversation with) ([^\s\[\]]+)\[([^\]]*)\](?::(\d{1,5}))?"),
            transport: r(r"connect to transport (\S+?):? "),
            reply: r(r"(?:said|refused to talk to me): ([2-5]\d\d)(?:[ -]|$)"),
            enhanced: r(r"(?:^|[\s(#\[-])([245]\.\d{1,3}\.\d{1,3})(?:[^\d.]|\.?$|\.\s)"),
            listed_ip: r(concat!(
                r"(?i)\b(?:client host|messages from|banned sending ip|banned sender|mail from|from your ip|ip address|ip)\s*\[?",
                r"((?:\d{1,3}\.){3}\d{1,3})\]?(?:[^\d.]|$)",
                r"|(?i)(?:bl\.shtml\?|query/ip/|[?&]ip=|/ip/)((?:\d{1,3}\.){3}\d{1,3})",
                r"|((?:\d{1,3}\.){3}\d{1,3})\s+(?:has a poor reputation|is (?:listed|blocked|blacklisted))",
                r"|\[((?:\d{1,3}\.){3}\d{1,3})\s+\d+\]",
            )),
            bracket_ip: r(r"\[((?:\d{1,3}\.){3}\d{1,3})\]"),
            zone: r(concat!(
                r"(?i)blocked using ([a-z0-9][a-z0-9.-]*[a-z0-9])",
                r"|(?i)\b((?:zen|sbl|xbl|pbl|sbl-xbl|dbl|zrd)\.spamhaus\.org|bl\.spamcop\.net|b\.barracudacentral\.org",
                r"|(?:[a-z0-9-]+\.)*sorbs\.net|dnsbl-[1-3]\.uceprotect\.net|(?:[a-z0-9-]+\.)*spamrats\.com",
                r"|psbl\.surriel\.com|bl\.mailspike\.net|cbl\.abuseat\.org|ix\.dnsbl\.manitu\.net|dnsbl\.dronebl\.org)\b",
                r"|(?i)listed (?:in|on|at|by) (?:the )?([a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:org|net|com|de|eu|info))\b",
            )),
            failure: r(concat!(
                r"^(?:delivery temporarily suspended: )?connect to [^\n]*?: ",
                r"(Connection timed out|Operation timed out|No route to host|Network is unreachable|Connection refused)",
            )),
        }
    })
}

/// The connect failure of a `connect to HOST[IP]:PORT: ...` text (our own
/// connection attempt, not one a remote server reports inside its reply).
fn connect_failure(text: &str) -> Option<ConnectFailure> {
    let caps = detail_regexes().failure.captures(text)?;
    Some(match caps.get(1)?.as_str() {
        "Connection timed out" | "Operation timed out" => ConnectFailure::TimedOut,
        "No route to host" => ConnectFailure::NoRoute,
        "Network is unreachable" => ConnectFailure::NetworkUnreachable,
        _ => ConnectFailure::Refused,
    })
}

fn extract_detail(text: &str) -> Detail {
    let re = detail_regexes();
    let mut d = Detail::default();
    // The first host named is the one we talked to; nested replies
    // (`unverified address: host X said: ...`) come later in the text.
    let host = [&re.connect, &re.host_said, &re.lost]
        .iter()
        .filter_map(|r| r.captures(text))
        .min_by_key(|c| c.get(0).map_or(usize::MAX, |m| m.start()));
    if let Some(c) = host {
        let name = c.get(1).map_or("", |m| m.as_str());
        let addr = c.get(2).map_or("", |m| m.as_str());
        let shown = if name.is_empty() { addr } else { name };
        if !shown.is_empty() {
            d.remote_host = Some(shown.to_string());
        }
        d.remote_port = c.get(3).and_then(|m| m.as_str().parse().ok());
    } else if let Some(c) = re.transport.captures(text) {
        d.remote_host = c.get(1).map(|m| m.as_str().to_string());
    }
    let reply_start = match re.reply.captures(text) {
        Some(c) => {
            d.reply_code = c.get(1).and_then(|m| m.as_str().parse().ok());
            c.get(1).map_or(0, |m| m.start())
        }
        None => 0,
    };
    let reply = &text[reply_start..];
    d.enhanced_code = re
        .enhanced
        .captures(reply)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string());
    let listed = re
        .listed_ip
        .captures(reply)
        .and_then(|c| (1..c.len()).find_map(|i| c.get(i)))
        .map(|m| m.as_str().to_string());
    d.listed_ip = listed.or_else(|| {
        // A bracketed IP inside the reply itself (not the remote host's).
        if reply_start == 0 {
            return None;
        }
        re.bracket_ip
            .captures(reply)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_string())
    });
    d
}

/// The DNSBL zone the text names, if any.
fn list_zone(text: &str) -> Option<String> {
    let c = detail_regexes().zone.captures(text)?;
    (1..c.len())
        .find_map(|i| c.get(i))
        .map(|m| m.as_str().to_ascii_lowercase())
}

/// A list named without its zone (`listed at Spamhaus`, a lookup URL).
fn list_by_name(text: &str) -> Option<&'static str> {
    let l = text.to_ascii_lowercase();
    [
        ("spamhaus", "zen.spamhaus.org"),
        ("spamcop", "bl.spamcop.net"),
        ("barracuda", "b.barracudacentral.org"),
        ("uceprotect", "uceprotect"),
        ("sorbs", "sorbs"),
        ("proofpoint", "proofpoint"),
        ("mimecast", "mimecast"),
        ("trendmicro", "trendmicro"),
        ("cloudmark", "cloudmark"),
    ]
    .iter()
    .find(|(k, _)| l.contains(k))
    .map(|(_, v)| *v)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod throughput {
    use super::*;

    /// Prints texts/s for the rule match alone and for a full verdict.
    /// Run: `cargo test --lib classify::throughput -- --ignored --nocapture`
    /// (debug builds are several times slower than release).
    #[test]
    #[ignore]
    fn texts_per_second() {
        let texts = [
            "host mx.bigisp.test[127.0.0.23] said: 450 4.7.1 Service unavailable; Client host [127.0.0.1] blocked using bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?127.0.0.1 (in reply to RCPT TO command)",
            "delivery temporarily suspended: connect to gmail-smtp-in.l.gmail-like.test[127.0.0.20]:25: Connection timed out",
            "Host or domain name not found. Name service error for name=gmail-like.test type=MX: Host not found, try again",
            "host gmail-smtp-in.l.gmail-like.test[127.0.0.20] said: 421-4.7.0 [127.0.0.1      15] Our system has detected an unusual rate of 421-4.7.0 unsolicited mail originating from your IP address. To protect our 421-4.7.0 users from spam, mail sent from your IP address has been temporarily 421-4.7.0 rate limited. Please visit 421-4.7.0  https://support.google.com/mail/?p=UnsolicitedRateLimitError to 421 4.7.0 review our Bulk Email Senders Guidelines. 223017si7808772qkb.432 - gsmtp (in reply to end of DATA command)",
            "host mx.example.net[127.0.0.10] said: 550 5.1.1 <nouser.x@example.net>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)",
            "host mx-ha01.web.de[212.227.15.17] said: 550 Protocol violation (in reply to DATA command)",
        ];
        let c = Classifier::builtin();
        let rounds = 20_000;
        let start = std::time::Instant::now();
        let mut hits = 0usize;
        for _ in 0..rounds {
            for t in &texts {
                hits += c.first_rule(t).map_or(0, |i| i + 1);
            }
        }
        let n = (rounds * texts.len()) as f64;
        let el = start.elapsed().as_secs_f64();
        eprintln!("rule match: {:.0} texts/s ({hits})", n / el);
        let start = std::time::Instant::now();
        for _ in 0..rounds / 10 {
            for t in &texts {
                hits += c.classify(t).rule.len();
            }
        }
        let el = start.elapsed().as_secs_f64();
        eprintln!("full verdict: {:.0} texts/s ({hits})", n / 10.0 / el);
        let start = std::time::Instant::now();
        for _ in 0..rounds / 10 {
            for t in &texts {
                hits += normalise(t).len();
            }
        }
        let el = start.elapsed().as_secs_f64();
        eprintln!("normalise: {:.0} texts/s ({hits})", n / 10.0 / el);
        assert!(hits > 0);
    }
}
