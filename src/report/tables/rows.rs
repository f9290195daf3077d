//! The `deliveries` and `messages` tables, from the spilled rows: fields
//! read from the raw delivery line (relay, reply code, stage, delays), the
//! final cause, redaction.

use super::frame::{Kind, Schema};
use super::spill::{AttemptRow, MessageRow};
use super::{Context, SCHEMA_VERSION};
use crate::correlate::AttemptStatus;
use crate::time::LogTime;

pub const DELIVERIES: Schema = &[
    ("schema_version", Kind::U32),
    ("run_id", Kind::Str),
    ("host", Kind::Str),
    ("message", Kind::U32),
    ("queue_id", Kind::Str),
    ("time", Kind::Time),
    ("utc_offset", Kind::I32),
    ("recipient", Kind::Str),
    ("recipient_domain", Kind::Str),
    ("orig_recipient", Kind::Str),
    ("identity", Kind::Str),
    ("status", Kind::Str),
    ("soft_bounce", Kind::Bool),
    ("relay", Kind::Str),
    ("relay_host", Kind::Str),
    ("relay_ip", Kind::Str),
    ("relay_port", Kind::U32),
    ("reply_code", Kind::U32),
    ("enhanced_code", Kind::Str),
    ("reply", Kind::Str),
    ("stage", Kind::Str),
    ("delay_before_qmgr", Kind::F64),
    ("delay_in_qmgr", Kind::F64),
    ("delay_connect", Kind::F64),
    ("delay_transmission", Kind::F64),
    ("cause", Kind::Str),
    ("list", Kind::Str),
    ("listed_ip", Kind::Str),
];

pub const MESSAGES: Schema = &[
    ("schema_version", Kind::U32),
    ("run_id", Kind::Str),
    ("host", Kind::Str),
    ("message", Kind::U32),
    ("queue_ids", Kind::Str),
    ("message_id", Kind::Str),
    ("sender", Kind::Str),
    ("identity", Kind::Str),
    ("client_ip", Kind::Str),
    ("size", Kind::U64),
    ("nrcpt", Kind::U32),
    ("recipients", Kind::U32),
    ("sent", Kind::U32),
    ("deferred", Kind::U32),
    ("bounced", Kind::U32),
    ("discarded", Kind::U32),
    ("arrival", Kind::Time),
    ("removed", Kind::Time),
    ("utc_offset", Kind::I32),
    ("status", Kind::Str),
    ("received", Kind::Bool),
    ("expired", Kind::Bool),
    ("deleted", Kind::Bool),
    ("held", Kind::Bool),
    ("bounce_of", Kind::U32),
];

/// `mx.example.net[192.0.2.1]:25` -> host, IP, port; `local`, `none` and
/// the like are a host alone.
pub fn split_relay(relay: &str) -> (Option<&str>, Option<&str>, Option<u16>) {
    if relay.is_empty() {
        return (None, None, None);
    }
    let Some(open) = relay.find('[') else {
        return (Some(relay), None, None);
    };
    let close = relay[open..].find(']').map(|c| open + c);
    let ip = close.map(|c| &relay[open + 1..c]).filter(|s| !s.is_empty());
    let port = close
        .and_then(|c| relay[c + 1..].strip_prefix(':'))
        .and_then(|p| p.parse().ok());
    let host = Some(&relay[..open]).filter(|h| !h.is_empty());
    (host, ip, port)
}

/// The SMTP reply code a delivery's text quotes: after `said: `, or at
/// its start (`250 2.0.0 Ok`).
pub fn reply_code(reply: &str) -> Option<u16> {
    let at = reply.find(" said: ").map_or(0, |p| p + 7);
    let code = reply.get(at..at + 3)?;
    let next = reply[at + 3..].chars().next();
    (code.bytes().all(|b| b.is_ascii_digit())
        && matches!(code.as_bytes()[0], b'2'..=b'5')
        && next.is_none_or(|c| c == ' ' || c == '-'))
    .then(|| code.parse().ok())
    .flatten()
}

/// Where in the SMTP conversation a reply came: Postfix says `(in reply
/// to RCPT TO command)`, `while receiving the initial server greeting`,
/// or could not connect at all.
pub fn stage(reply: &str) -> Option<&'static str> {
    let r = reply;
    if let Some(p) = r.rfind("in reply to ") {
        let cmd = &r[p + 12..];
        return Some(if cmd.starts_with("RCPT") {
            "rcpt"
        } else if cmd.starts_with("MAIL") {
            "mail"
        } else if cmd.starts_with("end of DATA") {
            "end_of_data"
        } else if cmd.starts_with("DATA") {
            "data"
        } else if cmd.starts_with("EHLO") || cmd.starts_with("HELO") || cmd.starts_with("LHLO") {
            "helo"
        } else if cmd.starts_with("STARTTLS") {
            "starttls"
        } else if cmd.starts_with("AUTH") {
            "auth"
        } else {
            "other"
        });
    }
    if r.contains("initial server greeting") || r.contains("refused to talk to me") {
        Some("greeting")
    } else if r.starts_with("connect to ") || r.contains("Host or domain name not found") {
        Some("connect")
    } else if r.contains("TLS") {
        Some("tls")
    } else if r.contains("while sending RCPT") {
        Some("rcpt")
    } else if r.contains("while sending") || r.contains("while receiving") {
        Some("data")
    } else {
        None
    }
}

/// `delays=a/b/c/d` as four numbers of seconds.
pub fn delays(d: &str) -> [Option<f64>; 4] {
    let mut out = [None; 4];
    for (i, part) in d.split('/').take(4).enumerate() {
        out[i] = part.parse().ok();
    }
    out
}

/// The date a row is filed under: the server's calendar day.
pub fn date_of(t: LogTime) -> String {
    let (y, m, d, ..) = t.civil();
    format!("{y:04}-{m:02}-{d:02}")
}

fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

fn some(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// One row of `deliveries`.
pub fn delivery(ctx: &mut Context<'_>, r: &AttemptRow) -> crate::Result<()> {
    let f = ctx.findings;
    let host = f.strings.str(r.host);
    let status = r.status();
    let outcome = r.outcome.and_then(|i| f.outcomes.get(i as usize));
    let recipient = lossy(&r.recipient);
    let domain = recipient
        .rsplit_once('@')
        .map(|(_, d)| d.to_lowercase())
        .unwrap_or_default();
    let relay = lossy(&r.relay);
    let (relay_host, relay_ip, relay_port) = split_relay(&relay);
    let reply = lossy(&r.reply);
    let code = reply_code(&reply);
    let failed = matches!(status, AttemptStatus::Deferred | AttemptStatus::Bounced);
    let stage = if failed { stage(&reply) } else { None };
    let d = delays(&lossy(&r.delays));
    let identity = ctx.identity(r.identity);
    let queue_id = crate::parse::QueueId(r.queue_id).to_string();
    let offset = ctx.offset(r.time);
    let cause = outcome.map(|o| o.cause.id());
    let list = outcome.map(|o| f.strings.str(f.reply(o).list).into_owned());
    let listed_ip = outcome.map(|o| f.strings.str(f.reply(o).listed_ip).into_owned());
    let message = ctx.resolve(r.message);
    let c = &mut ctx.clean;
    let host_c = c.cell("host", &host).into_owned();
    let recipient_c = c.cell("recipient", &recipient).into_owned();
    let domain_c = c.cell("recipient_domain", &domain).into_owned();
    let orig = lossy(&r.orig_recipient);
    let orig_c = c.cell("orig_recipient", &orig).into_owned();
    let identity_c = c.cell("identity", &identity).into_owned();
    let relay_c = c.cell("relay", &relay).into_owned();
    let relay_host_c = relay_host.map(|h| c.cell("relay_host", h).into_owned());
    let relay_ip_c = relay_ip.map(|h| c.cell("relay_ip", h).into_owned());
    let reply_c = c.cell("reply", &reply).into_owned();
    let dsn = lossy(&r.dsn);
    let list_c = list
        .as_deref()
        .and_then(some)
        .map(|l| c.cell("list", l).into_owned());
    let listed_c = listed_ip
        .as_deref()
        .and_then(some)
        .map(|l| c.cell("listed_ip", l).into_owned());
    let date = date_of(r.time);
    let run_id = ctx.run_id.clone();
    let table = ctx.deliveries.as_mut().expect("deliveries are written");
    table
        .row(&host_c, &date)?
        .u32(Some(u32::from(SCHEMA_VERSION)))
        .str(Some(&run_id))
        .str(Some(&host_c))
        .u32(Some(message))
        .str(Some(&queue_id))
        .time(Some(r.time.0))
        .i32(offset)
        .str(Some(&recipient_c))
        .str(some(&domain_c))
        .str(some(&orig_c))
        .str(some(&identity_c))
        .str(Some(status.id()))
        .bool(Some(r.soft_bounce))
        .str(some(&relay_c))
        .str(relay_host_c.as_deref())
        .str(relay_ip_c.as_deref())
        .u32(relay_port.map(u32::from))
        .u32(code.map(u32::from))
        .str(some(&dsn))
        .str(some(&reply_c))
        .str(stage)
        .f64(d[0])
        .f64(d[1])
        .f64(d[2])
        .f64(d[3])
        .str(cause)
        .str(list_c.as_deref())
        .str(listed_c.as_deref())
        .end();
    Ok(())
}

/// What became of a message, from its recipients' last fates.
pub fn message_status(m: &MessageRow) -> &'static str {
    let count = |s: AttemptStatus| m.fates.iter().filter(|&&f| f == s).count();
    let (sent, bounced) = (count(AttemptStatus::Sent), count(AttemptStatus::Bounced));
    let dropped = count(AttemptStatus::Discarded) + count(AttemptStatus::Quarantined);
    if m.rejected {
        "rejected"
    } else if m.removed.is_none() {
        "queued"
    } else if m.deleted {
        "deleted"
    } else if sent > 0 && sent + dropped == m.fates.len() {
        "delivered"
    } else if sent > 0 {
        "partly_delivered"
    } else if bounced > 0 || m.expired {
        "returned"
    } else if dropped > 0 && dropped == m.fates.len() {
        "discarded"
    } else {
        "unknown"
    }
}

/// One row of `messages`.
pub fn message(ctx: &mut Context<'_>, m: &MessageRow) -> crate::Result<()> {
    let f = ctx.findings;
    let host = f.strings.str(m.host);
    let count = |s: &[AttemptStatus]| m.fates.iter().filter(|f| s.contains(f)).count() as u32;
    let queue_ids = m
        .queue_ids
        .iter()
        .map(|q| q.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let identity = ctx.identity(m.identity);
    let offset = ctx.offset(m.arrival);
    let message = ctx.resolve(m.message);
    let bounce_of = (m.bounce_of != 0).then(|| ctx.resolve(m.bounce_of));
    let c = &mut ctx.clean;
    let host_c = c.cell("host", &host).into_owned();
    let mid = c.cell("message_id", &lossy(&m.message_id)).into_owned();
    let sender = c.cell("sender", &lossy(&m.sender)).into_owned();
    let identity_c = c.cell("identity", &identity).into_owned();
    let client = c.cell("client_ip", &lossy(&m.client_ip)).into_owned();
    let date = date_of(m.arrival);
    let run_id = ctx.run_id.clone();
    let table = ctx.messages.as_mut().expect("messages are written");
    table
        .row(&host_c, &date)?
        .u32(Some(u32::from(SCHEMA_VERSION)))
        .str(Some(&run_id))
        .str(Some(&host_c))
        .u32(Some(message))
        .str(Some(&queue_ids))
        .str(some(&mid))
        .str(Some(&sender))
        .str(some(&identity_c))
        .str(some(&client))
        .u64(Some(m.size))
        .u32(Some(m.nrcpt))
        .u32(Some(m.fates.len() as u32))
        .u32(Some(count(&[AttemptStatus::Sent])))
        .u32(Some(count(&[AttemptStatus::Deferred])))
        .u32(Some(count(&[AttemptStatus::Bounced])))
        .u32(Some(count(&[
            AttemptStatus::Discarded,
            AttemptStatus::Quarantined,
        ])))
        .time(Some(m.arrival.0))
        .time(m.removed.map(|t| t.0))
        .i32(offset)
        .str(Some(message_status(m)))
        .bool(Some(m.received))
        .bool(Some(m.expired))
        .bool(Some(m.deleted))
        .bool(Some(m.held))
        .u32(bounce_of)
        .end();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_fields_read_from_the_line() {
        assert_eq!(
            split_relay("mx.example.net[192.0.2.1]:25"),
            (Some("mx.example.net"), Some("192.0.2.1"), Some(25))
        );
        assert_eq!(split_relay("none"), (Some("none"), None, None));
        assert_eq!(
            split_relay("private/dovecot-lmtp"),
            (Some("private/dovecot-lmtp"), None, None)
        );
        let r = "host mx.example.org[192.0.2.2] said: 550 5.1.1 <b@example.org>: user unknown (in reply to RCPT TO command)";
        assert_eq!(reply_code(r), Some(550));
        assert_eq!(stage(r), Some("rcpt"));
        assert_eq!(reply_code("250 2.0.0 Ok: queued as 4ABC"), Some(250));
        let c = "connect to mx.example.com[192.0.2.3]:25: Connection timed out";
        assert_eq!((reply_code(c), stage(c)), (None, Some("connect")));
        assert_eq!(
            delays("0.02/0.01/0/0.02"),
            [Some(0.02), Some(0.01), Some(0.0), Some(0.02)]
        );
        assert_eq!(delays(""), [None; 4]);
    }
}
