//! Picking queued messages for a reviewable `postsuper -d -` input file.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::Write;
use std::path::Path;

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

/// The criterion as `--select` takes it back (`age>` in minutes).
impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Sender(a) => write!(f, "sender={a}"),
            Selector::SenderDomain(d) => write!(f, "sender_domain={d}"),
            Selector::RecipientDomain(d) => write!(f, "domain={d}"),
            Selector::Cause(c) => write!(f, "cause={c}"),
            Selector::OlderThan(m) => write!(f, "age>{m}m"),
            Selector::Queue(q) => write!(f, "queue={}", q.id()),
            Selector::Identity(i) => write!(f, "identity={i}"),
        }
    }
}

/// Refuses the criteria a dump alone cannot answer: whose mail a message
/// is (`identity=`) comes from the logs.
pub fn check_without_logs(selectors: &[Selector]) -> crate::Result<()> {
    if !selectors.iter().any(|s| matches!(s, Selector::Identity(_))) {
        return Ok(());
    }
    Err(crate::Error::Usage(
        "--select identity=...: whose mail a message is comes from the logs, which `postmortem queue` does not read. \
         Run `postmortem analyze LOGS DUMP`: it writes each suspect's queued ids, sorted into spam (suspect-N-queued-ids.txt) \
         and mail to review (suspect-N-review-ids.txt). Here, select by sender= or sender_domain= instead."
            .into(),
    ))
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

/// Whose mail a selection holds: each envelope sender (`<>` for bounces)
/// with its count of messages, most first, then by name. A cause or a
/// domain selects everyone's mail that met it, legitimate mail included.
pub fn senders_of<'d>(picked: &[&'d QueuedMessage]) -> Vec<(&'d str, u64)> {
    let mut by: HashMap<&str, u64> = HashMap::new();
    for m in picked {
        *by.entry(if m.sender.is_empty() { "<>" } else { &m.sender })
            .or_default() += 1;
    }
    let mut rows: Vec<(&str, u64)> = by.into_iter().collect();
    rows.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    rows
}

/// Writes the ids file at `path` (see [`write_ids`]); a file already there
/// is never overwritten, since it may be the reviewed list. Returns
/// (written, skipped).
pub fn write_ids_file<'a>(
    path: &Path,
    ids: impl IntoIterator<Item = &'a str>,
) -> crate::Result<(u64, u64)> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                crate::Error::Usage(format!(
                    "{} already exists; choose another --ids-out (it is never overwritten)",
                    path.display()
                ))
            } else {
                crate::Error::io(path, e)
            }
        })?;
    write_ids(ids, &mut file).map_err(|e| crate::Error::io(path, e))
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
    fn selectors_print_as_they_are_given_back() {
        for given in [
            "sender=dave@lab.test",
            "sender_domain=lab.test",
            "domain=gmail.com",
            "cause=blacklisted",
            "age>120m",
            "queue=hold",
            "identity=sasl:dave@lab.test",
        ] {
            let s = Selector::parse(given).unwrap();
            assert_eq!(s.to_string(), given);
            assert_eq!(Selector::parse(&s.to_string()).unwrap(), s);
        }
        assert_eq!(Selector::parse("age>2h").unwrap().to_string(), "age>120m");
        assert_eq!(
            Selector::parse("sender_domain=@Lab.TEST")
                .unwrap()
                .to_string(),
            "sender_domain=lab.test"
        );
    }

    #[test]
    fn identity_needs_the_logs() {
        let by_sender = [Selector::parse("sender=dave@lab.test").unwrap()];
        assert!(check_without_logs(&by_sender).is_ok());
        assert!(check_without_logs(&[]).is_ok());
        let with_identity = [
            by_sender[0].clone(),
            Selector::parse("identity=sasl:dave@lab.test").unwrap(),
        ];
        let e = check_without_logs(&with_identity).unwrap_err().to_string();
        assert!(e.starts_with("--select identity=...: whose mail"), "{e}");
        assert!(e.contains("postmortem analyze LOGS DUMP"), "{e}");
    }

    #[test]
    fn senders_of_a_selection_most_first() {
        let text = include_str!("../../../tests/fixtures/lab1-postqueue-p-head.txt");
        let now = LogTime::from_civil(2026, 11, 28, 18, 56, 6, 0).unwrap();
        let d = parse_text(text.as_bytes(), now);
        let all: Vec<&QueuedMessage> = d.messages.iter().collect();
        assert_eq!(
            senders_of(&all),
            [
                ("alice@lab.test", 19),
                ("dave@lab.test", 12),
                ("carol@lab.test", 9)
            ]
        );
        let mut bounce = all[0].clone();
        bounce.sender.clear();
        assert_eq!(
            senders_of(&[&bounce, &bounce, all[0]]),
            [("<>", 2), (all[0].sender.as_str(), 1)]
        );
        assert!(senders_of(&[]).is_empty());
    }

    #[test]
    fn ids_file_is_written_once_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ids.txt");
        let counts = write_ids_file(&path, ["3E485D0602", "bad;id", "303F4D0570"]).unwrap();
        assert_eq!(counts, (2, 1));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "3E485D0602\n303F4D0570\n"
        );
        let again = write_ids_file(&path, ["A45C2D06F6"]).unwrap_err();
        assert!(matches!(again, crate::Error::Usage(_)), "{again:?}");
        assert!(again.to_string().contains("already exists"), "{again}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "3E485D0602\n303F4D0570\n"
        );
        let nowhere = dir.path().join("missing").join("ids.txt");
        assert!(matches!(
            write_ids_file(&nowhere, ["A45C2D06F6"]),
            Err(crate::Error::Io { .. })
        ));
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
