//! Small readers of delivery fields: relays, addresses, replies.

use crate::parse::QueueId;

/// Relays that are our own content filter or a loopback re-injection:
/// `127.0.0.1[127.0.0.1]:10024`, `localhost[::1]:10025`. A named host on a
/// loopback address (a test rig's fake MX) is not one.
pub fn is_loopback_relay(relay: &[u8]) -> bool {
    let Some(open) = memchr::memchr(b'[', relay) else {
        return false;
    };
    let name = &relay[..open];
    let rest = &relay[open + 1..];
    let ip = &rest[..memchr::memchr(b']', rest).unwrap_or(rest.len())];
    is_loopback_ip(ip) && (name == ip || name == b"localhost" || name.starts_with(b"127."))
}

/// A relay to another machine, not a local mailbox transport (`virtual`,
/// `local`, `dovecot`, LMTP on port 24) nor our content filter.
pub(crate) fn is_external_relay(relay: &[u8]) -> bool {
    if relay == b"none" {
        return true;
    }
    memchr::memchr(b'[', relay).is_some() && !is_loopback_relay(relay) && !relay.ends_with(b":24")
}

pub(crate) fn domain_of(addr: &[u8]) -> &[u8] {
    match memchr::memrchr(b'@', addr) {
        Some(p) => &addr[p + 1..],
        None => &addr[..0],
    }
}

/// `host[1.2.3.4]` -> `1.2.3.4`
pub fn client_ip(client: &[u8]) -> &[u8] {
    match (memchr::memchr(b'[', client), memchr::memrchr(b']', client)) {
        (Some(a), Some(b)) if b > a => &client[a + 1..b],
        _ => client,
    }
}

pub(crate) fn is_loopback_ip(ip: &[u8]) -> bool {
    ip.starts_with(b"127.") || ip == b"::1"
}

/// `n` in decimal, written into `buf` (no allocation per line).
pub(crate) fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// The queue id named by `... queued as NEWID` at the end of a reply.
pub(crate) fn queued_as(reason: &[u8]) -> Option<QueueId> {
    let p = memchr::memmem::rfind(reason, b"queued as ")?;
    let rest = &reason[p + 10..];
    let end = rest
        .iter()
        .position(|c| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    QueueId::parse(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_writes_every_u32() {
        for n in [0, 7, 10, 33, 10005, 4_294_967_295] {
            assert_eq!(decimal(n, &mut [0; 10]), n.to_string().as_bytes());
        }
    }
}
