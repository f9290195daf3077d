//! The lines that name a queue file (`QUEUEID: ...`): a message's
//! arrival, envelope, delivery attempts and end.

use memchr::memmem;

use super::{
    diagnostic, field, fields, parse_millis, parse_u64, reject, strip_angle, value_end,
    DeliveryStatus, EventKind, QueueId, RejectAction, RejectStage, Span, F_SASL_USER, F_STATUS,
};
use crate::parse::chatter::informational_with_queue_id;

/// Splits `QUEUEID: rest`; `None` when the message does not start with an id.
#[inline]
pub(super) fn queue_id_prefix(msg: &[u8]) -> Option<(QueueId, &[u8])> {
    let colon = memchr::memchr(b':', &msg[..msg.len().min(20)])?;
    if &msg[..colon] == b"NOQUEUE" {
        return None;
    }
    let qid = QueueId::parse(&msg[..colon])?;
    let rest = msg.get(colon + 1..)?;
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    Some((qid, rest))
}

/// A line about one queue file, by what follows its id; `None` when
/// nothing known does (the caller tries the lines without an id).
#[inline]
pub(super) fn with_queue_id(
    chunk: &[u8],
    service: &[u8],
    qid: QueueId,
    rest: &[u8],
) -> Option<EventKind> {
    if let Some(c) = rest.strip_prefix(b"client=") {
        return Some(client(chunk, qid, rest, c));
    }
    if rest.starts_with(b"to=") {
        return delivery(chunk, qid, rest);
    }
    if rest.starts_with(b"from=") {
        return Some(queue_active(chunk, qid, rest));
    }
    if service == b"pickup" || rest.starts_with(b"uid=") {
        if let Some(k) = pickup(chunk, qid, rest) {
            return Some(k);
        }
    }
    if let Some(m) = rest.strip_prefix(b"message-id=") {
        return Some(EventKind::MessageId {
            qid,
            message_id: Span::of(chunk, m),
        });
    }
    if rest == b"removed"
        || (rest.starts_with(b"removed") && !rest.get(7).is_some_and(u8::is_ascii_alphanumeric))
    {
        return Some(if service == b"postsuper" {
            EventKind::Deleted { qid }
        } else {
            EventKind::Removed { qid }
        });
    }
    if rest == b"placed on hold" {
        return Some(EventKind::Held { qid });
    }
    if rest == b"released from hold" {
        return Some(EventKind::Released { qid });
    }
    if let Some(k) = notification(qid, rest) {
        return Some(k);
    }
    let stage = if service == b"cleanup" {
        RejectStage::Cleanup
    } else {
        RejectStage::Smtpd
    };
    if let Some(k) = reject(chunk, Some(qid), stage, rest) {
        if let EventKind::Reject {
            action: RejectAction::Hold,
            ..
        } = k
        {
            // cleanup `hold:` puts the message on hold.
            return Some(EventKind::Held { qid });
        }
        return Some(k);
    }
    if let Some(k) = diagnostic(chunk, rest) {
        return Some(k);
    }
    if informational_with_queue_id(rest) {
        return Some(EventKind::Info);
    }
    None
}

/// smtpd's `client=host[ip]` (with `sasl_username=` after a login); `c`
/// is what follows `client=`.
#[inline]
fn client(chunk: &[u8], qid: QueueId, rest: &[u8], c: &[u8]) -> EventKind {
    let client = value_end(c);
    let sasl = F_SASL_USER
        .find(rest)
        .map(|p| value_end(&rest[p + 14..]))
        .unwrap_or(&rest[..0]);
    EventKind::Client {
        qid,
        client: Span::of(chunk, client),
        sasl_username: Span::of(chunk, sasl),
    }
}

/// One recipient's delivery attempt: `to=<a>, relay=..., status=word (reason)`;
/// `None` without a status.
#[inline]
fn delivery(chunk: &[u8], qid: QueueId, rest: &[u8]) -> Option<EventKind> {
    let sp = |s: &[u8]| Span::of(chunk, s);
    let status = F_STATUS.find(rest)?;
    let st = &rest[status + 7..];
    let word_end = st
        .iter()
        .position(|&c| c == b' ' || c == b',')
        .unwrap_or(st.len());
    let status_kind = match &st[..word_end] {
        b"sent" => DeliveryStatus::Sent,
        b"deferred" => DeliveryStatus::Deferred,
        b"bounced" => DeliveryStatus::Bounced,
        b"expired" => DeliveryStatus::Expired,
        b"SOFTBOUNCE" => DeliveryStatus::SoftBounce,
        b"deliverable" => DeliveryStatus::Deliverable,
        b"undeliverable" => DeliveryStatus::Undeliverable,
        _ => DeliveryStatus::Other,
    };
    let head = &rest[..status];
    // One pass over `to=, orig_to=, relay=, conn_use=, delay=, delays=,
    // dsn=`: this is the most frequent line.
    let (mut to, mut orig_to, mut relay, mut dsn, mut delays) =
        (&head[..0], &head[..0], &head[..0], &head[..0], &head[..0]);
    let mut delay_ms = 0;
    for (k, v) in fields(head) {
        match k {
            b"to" => to = v,
            b"orig_to" => orig_to = v,
            b"relay" => relay = v,
            b"dsn" => dsn = v,
            b"delay" => delay_ms = parse_millis(v),
            b"delays" => delays = v,
            _ => {}
        }
    }
    Some(EventKind::Delivery {
        qid,
        to: sp(strip_angle(to)),
        orig_to: sp(strip_angle(orig_to)),
        relay: sp(relay),
        dsn: sp(dsn),
        delays: sp(delays),
        status: status_kind,
        reason: sp(reason_after(&st[word_end..])),
        delay_ms,
    })
}

/// qmgr's `from=<a>, size=N, nrcpt=N (queue active)`, or its
/// `from=<a>, status=expired, returned to sender`.
#[inline]
fn queue_active(chunk: &[u8], qid: QueueId, rest: &[u8]) -> EventKind {
    let sp = |s: &[u8]| Span::of(chunk, s);
    if let Some(p) = F_STATUS.find(rest) {
        let st = &rest[p + 7..];
        let forced = st.starts_with(b"force-expired");
        if st.starts_with(b"expired") || forced {
            return EventKind::Expired {
                qid,
                from: sp(strip_angle(field(rest, b"from").unwrap_or(&[]))),
                forced,
            };
        }
    }
    let from = strip_angle(field(rest, b"from").unwrap_or(&rest[..0]));
    let size = field(rest, b"size").and_then(parse_u64).unwrap_or(0);
    let nrcpt = field(rest, b"nrcpt").and_then(parse_u64).unwrap_or(0) as u32;
    EventKind::QueueActive {
        qid,
        from: sp(from),
        size,
        nrcpt,
    }
}

/// pickup's `uid=N from=<a>` (or Postfix 2.x's `sender=<a>`).
#[inline]
fn pickup(chunk: &[u8], qid: QueueId, rest: &[u8]) -> Option<EventKind> {
    if let Some(u) = rest.strip_prefix(b"uid=") {
        let end = u.iter().position(|&c| c == b' ').unwrap_or(u.len());
        let uid = parse_u64(&u[..end]).map(|v| v as u32);
        let from = strip_angle(field(rest, b"from").unwrap_or(&rest[..0]));
        return Some(EventKind::Pickup {
            qid,
            uid,
            from: Span::of(chunk, from),
        });
    }
    if let Some(f) = rest.strip_prefix(b"sender=") {
        // Postfix 2.x pickup without uid.
        return Some(EventKind::Pickup {
            qid,
            uid: None,
            from: Span::of(chunk, strip_angle(value_end(f))),
        });
    }
    None
}

/// `sender non-delivery notification: CHILD` (or `postmaster ...`): the
/// bounce notice `CHILD` reports on `qid`.
#[inline]
fn notification(qid: QueueId, rest: &[u8]) -> Option<EventKind> {
    if !(rest.starts_with(b"sender ") || rest.starts_with(b"postmaster ")) {
        return None;
    }
    let p = memmem::find(rest, b" notification: ")?;
    let child = QueueId::parse(rest[p + 15..].trim_ascii_end())?;
    Some(EventKind::Notification { qid, child })
}

/// The parenthesised text after `status=word `, up to the line's last `)`.
#[inline]
fn reason_after(rest: &[u8]) -> &[u8] {
    match memchr::memchr(b'(', rest) {
        Some(open) => {
            let inner = &rest[open + 1..];
            match memchr::memrchr(b')', inner) {
                Some(close) => &inner[..close],
                None => inner,
            }
        }
        None => &rest[..0],
    }
}
