//! Reason text to root cause. (Stub: the real pattern table lands here.)

use serde::Serialize;

/// Root causes, with the canonical ids of the design's taxonomy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    Port25Blocked,
    ContentFilterDown,
    DnsFailure,
    Blacklisted,
    RateLimited,
    Greylisted,
    AuthPolicy,
    MailboxFull,
    UnknownRecipient,
    TlsFailure,
    RelayAuthFailure,
    RemoteUnavailable,
    LocalSystem,
    Unknown,
}

impl Cause {
    pub const ALL: [Cause; 14] = [
        Cause::Port25Blocked,
        Cause::ContentFilterDown,
        Cause::DnsFailure,
        Cause::Blacklisted,
        Cause::RateLimited,
        Cause::Greylisted,
        Cause::AuthPolicy,
        Cause::MailboxFull,
        Cause::UnknownRecipient,
        Cause::TlsFailure,
        Cause::RelayAuthFailure,
        Cause::RemoteUnavailable,
        Cause::LocalSystem,
        Cause::Unknown,
    ];
    pub fn id(self) -> &'static str {
        match self {
            Cause::Port25Blocked => "port25_blocked",
            Cause::ContentFilterDown => "content_filter_down",
            Cause::DnsFailure => "dns_failure",
            Cause::Blacklisted => "blacklisted",
            Cause::RateLimited => "rate_limited",
            Cause::Greylisted => "greylisted",
            Cause::AuthPolicy => "auth_policy",
            Cause::MailboxFull => "mailbox_full",
            Cause::UnknownRecipient => "unknown_recipient",
            Cause::TlsFailure => "tls_failure",
            Cause::RelayAuthFailure => "relay_auth_failure",
            Cause::RemoteUnavailable => "remote_unavailable",
            Cause::LocalSystem => "local_system",
            Cause::Unknown => "unknown",
        }
    }
    pub fn from_id(id: &str) -> Option<Cause> {
        Cause::ALL.into_iter().find(|c| c.id() == id)
    }
    pub fn title(self) -> &'static str {
        self.id()
    }
    pub fn fix(self) -> &'static [&'static str] {
        &[]
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Detail {
    pub list: Option<String>,
    pub remote_host: Option<String>,
    pub remote_port: Option<u16>,
    pub reply_code: Option<u16>,
    pub enhanced_code: Option<String>,
    pub listed_ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub cause: Cause,
    pub detail: Detail,
    pub connect_failure: Option<ConnectFailure>,
    pub rule: String,
}

#[derive(Debug, Clone)]
pub struct Classifier {}

impl Classifier {
    pub fn from_rules_file(_p: &std::path::Path) -> crate::Result<Self> {
        Ok(Classifier {})
    }
    pub fn builtin() -> Self {
        Classifier {}
    }
    pub fn classify(&self, _text: &str) -> Verdict {
        Verdict {
            cause: Cause::Unknown,
            detail: Detail::default(),
            connect_failure: None,
            rule: String::new(),
        }
    }
}

/// Stub: replaced by the real normaliser.
pub fn normalise(text: &str) -> String {
    text.to_string()
}

/// Stub.
#[derive(Debug, Clone, Copy)]
pub struct ConnectAttempt<'a> {
    pub time: crate::time::LogTime,
    pub destination: &'a str,
    pub failure: ConnectFailure,
    pub port: u16,
}

/// Stub.
pub fn judge_port25(attempts: &[ConnectAttempt]) -> Vec<bool> {
    vec![false; attempts.len()]
}

/// Stub.
pub fn delisting_url(_list: &str) -> Option<&'static str> {
    None
}
