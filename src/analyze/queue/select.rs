//! Picking queued messages for a reviewable `postsuper -d -` input file.

use std::collections::HashSet;
use std::io::Write;

use super::{age_ms, CauseCache, LogLookup};
use crate::classify::Classifier;
use crate::parse::queue::{address_domain, QueueDump, QueueName, QueuedMessage};
use crate::time::{LogTime, MINUTE};

/// One criterion of a cleanup selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `sender=dave@lab.test` (case-insensitive; `MAILER-DAEMON` for bounces)
    Sender(String),
    /// `sender_domain=lab.test`
    SenderDomain(String),
    /// `domain=gmail.com`: any recipient in that domain
    RecipientDomain(String),
    /// `cause=blacklisted`: the message's cause or any recipient's
    Cause(String),
    /// `age>2h`, `older=120m`: queued longer than this many minutes
    OlderThan(u64),
    /// `queue=deferred`
    Queue(QueueName),
    /// `identity=sasl:dave@lab.test`: who submitted it, per the logs
    Identity(String),
}

impl Selector {
    /// Parses one `key=value` (or `age>DURATION`) criterion.
    pub fn parse(s: &str) -> crate::Result<Selector> {
        let bad = |why: &str| {
            crate::Error::Usage(format!(
                "--select {s:?}: {why}; use sender=ADDR, sender_domain=DOMAIN, domain=DOMAIN, cause=ID, \
                 age>2h (or older=120m), queue=deferred|active|hold|incoming|maildrop, identity=ID"
            ))
        };
        let s = s.trim();
        if let Some(d) = s.strip_prefix("age>") {
            return minutes(d)
                .map(Selector::OlderThan)
                .ok_or_else(|| bad("bad duration"));
        }
        let (key, value) = s.split_once('=').ok_or_else(|| bad("no `=`"))?;
        let value = value.trim();
        if value.is_empty() {
            return Err(bad("empty value"));
        }
        Ok(match key.trim() {
            "sender" => Selector::Sender(value.to_string()),
            "sender_domain" => Selector::SenderDomain(value.trim_start_matches('@').to_lowercase()),
            "domain" | "recipient_domain" => {
                Selector::RecipientDomain(value.trim_start_matches('@').to_lowercase())
            }
            "cause" => {
                let known = crate::classify::Cause::ALL.iter().map(|c| c.id());
                let mut valid: Vec<&str> = known.chain([super::HELD, super::NEVER_TRIED]).collect();
                if !valid.contains(&value) {
                    valid.sort_unstable();
                    return Err(crate::Error::Usage(format!(
                        "--select {s:?}: unknown cause; use one of {}",
                        valid.join(", ")
                    )));
                }
                Selector::Cause(value.to_string())
            }
            "older" | "age" => {
                Selector::OlderThan(minutes(value).ok_or_else(|| bad("bad duration"))?)
            }
            "queue" => {
                Selector::Queue(QueueName::from_id(value).ok_or_else(|| bad("unknown queue"))?)
            }
            "identity" => Selector::Identity(value.to_string()),
            _ => return Err(bad("unknown key")),
        })
    }

    fn kind(&self) -> u8 {
        match self {
            Selector::Sender(_) => 0,
            Selector::SenderDomain(_) => 1,
            Selector::RecipientDomain(_) => 2,
            Selector::Cause(_) => 3,
            Selector::OlderThan(_) => 4,
            Selector::Queue(_) => 5,
            Selector::Identity(_) => 6,
        }
    }
}

/// `90`, `90m`, `2h`, `3d`, `30s` (rounded up) to minutes.
fn minutes(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().ok()?;
    match unit.trim() {
        "" | "m" | "min" => Some(n),
        "h" => n.checked_mul(60),
        "d" => n.checked_mul(24 * 60),
        "s" => Some(n.div_ceil(60)),
        _ => None,
    }
}

/// What selection needs besides the dump.
pub struct SelectContext<'a> {
    pub classifier: &'a Classifier,
    pub dump_time: LogTime,
    pub logs: Option<LogLookup<'a>>,
}

/// The messages matching the selectors: any of the values of one kind,
/// and every kind given (`sender=a sender=b queue=deferred` is "from a or
/// b, and deferred"). No selector selects nothing, so a forgotten flag
/// never lists the whole queue for deletion.
pub fn select<'d>(
    dump: &'d QueueDump,
    selectors: &[Selector],
    ctx: &SelectContext,
) -> Vec<&'d QueuedMessage> {
    if selectors.is_empty() {
        return Vec::new();
    }
    let mut cache = CauseCache::new(ctx.classifier);
    let kinds: HashSet<u8> = selectors.iter().map(Selector::kind).collect();
    dump.messages
        .iter()
        .filter(|m| {
            kinds.iter().all(|&k| {
                selectors
                    .iter()
                    .filter(|s| s.kind() == k)
                    .any(|s| matches_one(m, s, ctx, &mut cache))
            })
        })
        .collect()
}

fn matches_one(
    m: &QueuedMessage,
    s: &Selector,
    ctx: &SelectContext,
    cache: &mut CauseCache,
) -> bool {
    match s {
        Selector::Sender(a) => {
            if m.is_bounce() {
                a.eq_ignore_ascii_case("MAILER-DAEMON") || a == "<>"
            } else {
                m.sender.eq_ignore_ascii_case(a)
            }
        }
        Selector::SenderDomain(d) => m.sender_domain().eq_ignore_ascii_case(d),
        Selector::RecipientDomain(d) => m
            .recipients
            .iter()
            .any(|r| address_domain(&r.address) == *d),
        Selector::Cause(c) => cache.all_causes(m).contains(c.as_str()),
        Selector::OlderThan(min) => age_ms(m, ctx.dump_time) > (*min as i64).saturating_mul(MINUTE),
        Selector::Queue(q) => m.queue == *q,
        Selector::Identity(id) => ctx
            .logs
            .and_then(|f| f(&m.queue_id))
            .is_some_and(|(who, _)| who.eq_ignore_ascii_case(id)),
    }
}

/// Writes one queue id per line, the input `postsuper -d -` reads. Ids that
/// are not plain letters and digits are skipped (a dump is untrusted text
/// and this file is meant to be fed to a root command); duplicates once.
/// Returns (written, skipped).
pub fn write_ids<'a>(
    ids: impl IntoIterator<Item = &'a str>,
    out: &mut dyn Write,
) -> std::io::Result<(u64, u64)> {
    let mut seen: HashSet<&str> = HashSet::new();
    let (mut written, mut skipped) = (0, 0);
    for id in ids {
        if id.is_empty() || !id.bytes().all(|c| c.is_ascii_alphanumeric()) {
            skipped += 1;
            continue;
        }
        if seen.insert(id) {
            out.write_all(id.as_bytes())?;
            out.write_all(b"\n")?;
            written += 1;
        }
    }
    Ok((written, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Classifier;
    use crate::parse::queue::parse_text;

    #[test]
    fn selectors_parse_and_combine() {
        assert_eq!(Selector::parse("age>2h").unwrap(), Selector::OlderThan(120));
        assert_eq!(
            Selector::parse("older=90").unwrap(),
            Selector::OlderThan(90)
        );
        assert_eq!(
            Selector::parse("queue=hold").unwrap(),
            Selector::Queue(QueueName::Hold)
        );
        assert_eq!(
            Selector::parse("domain=@Gmail.com").unwrap(),
            Selector::RecipientDomain("gmail.com".into())
        );
        assert!(Selector::parse("color=red").is_err());
        assert!(Selector::parse("age>soon").is_err());

        let text = include_str!("../../../tests/fixtures/lab1-postqueue-p-head.txt");
        let now = LogTime::from_civil(2026, 11, 28, 18, 56, 6, 0).unwrap();
        let d = parse_text(text.as_bytes(), now);
        let c = Classifier::builtin();
        let ctx = SelectContext {
            classifier: &c,
            dump_time: now,
            logs: None,
        };
        let all_dave = select(
            &d,
            &[Selector::parse("sender=DAVE@lab.test").unwrap()],
            &ctx,
        );
        assert!(!all_dave.is_empty());
        assert!(all_dave.iter().all(|m| m.sender == "dave@lab.test"));
        let held = select(
            &d,
            &[
                Selector::parse("sender=dave@lab.test").unwrap(),
                Selector::parse("queue=hold").unwrap(),
            ],
            &ctx,
        );
        assert!(held.iter().all(|m| m.queue == QueueName::Hold));
        assert!(held.len() < all_dave.len());
        let either = select(
            &d,
            &[
                Selector::parse("sender=alice@lab.test").unwrap(),
                Selector::parse("sender=carol@lab.test").unwrap(),
            ],
            &ctx,
        );
        assert!(either.iter().any(|m| m.sender == "alice@lab.test"));
        assert!(either.iter().any(|m| m.sender == "carol@lab.test"));
        assert!(select(&d, &[], &ctx).is_empty());
        let old = select(&d, &[Selector::OlderThan(15)], &ctx);
        assert!(old.iter().all(|m| now.0 - m.arrival.0 > 15 * MINUTE));
        assert!(!old.is_empty());
    }

    #[test]
    fn ids_file_is_safe_for_postsuper() {
        let mut out = Vec::new();
        let (w, s) = write_ids(
            ["3E485D0602", "3E485D0602", "x; rm -rf /", "", "4dHJK0abcdz"],
            &mut out,
        )
        .unwrap();
        assert_eq!((w, s), (2, 2));
        assert_eq!(out, b"3E485D0602\n4dHJK0abcdz\n");
    }
}
