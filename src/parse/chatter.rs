//! Lines Postfix writes that we recognise and need not keep: status
//! chatter, verbose (`-v`) debugging, TLS chatter, parameter dumps.
//!
//! Recognised lines count as understood; only what matches nothing here and
//! nothing in [`super::postfix`] is "not understood".

use memchr::memmem;
use std::sync::LazyLock;

static F_SOCKET_WANTED: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b" socket: wanted attribute"));

/// Lines after a queue id that we recognise and need not keep.
pub(super) fn informational_with_queue_id(rest: &[u8]) -> bool {
    const PREFIXES: &[&[u8]] = &[
        b"host ",                 // smtp: host X said: ... (before trying the next MX)
        b"lost connection with ", // smtp
        b"conversation with ",    // smtp
        b"enabling PIX workarounds",
        b"resent-message-id=",
        b"sender delay notification",
        b"replace: ",
        b"redirect: ",
        b"filter: ",
        b"prepend: ",
        b"info: ",
        b"skipped, still being delivered",
        b"recipient limit",
        b"requeued",
        b"expired",
        b"SASL authentication failed",
        b"Cannot start TLS",
        b"client=", // handled earlier; safety
        b"to=",     // to= without status (verbose logging)
        b"orig_to=",
        b"discard: ",
        b"uid=",
        b"sender=",
        b"queued as ",
        b"bounce: ",
        b"connect to ",
        b"Server certificate not verified",
        b"Untrusted TLS",
        b"Trusted TLS",
        b"Verified TLS",
        b"Anonymous TLS",
        b"TLS ",
        b"deferred: ",
        b"header ",
        b"body ",
        b"milter-",
        b"message-id",
        b"been_here:",
        b"passing ",
        b"dsn_",
        b"status=",
    ];
    PREFIXES.iter().any(|p| rest.starts_with(p))
}

/// Lines of a daemon run with `-v` (verbose logging): function names
/// (`qmgr_scan_start: ...`), attribute exchanges, socket chatter.
fn verbose_debug(msg: &[u8]) -> bool {
    const PREFIXES: &[&[u8]] = &[
        b"input attribute ",
        b"send attr ",
        b"request",
        b"done ",
        b"start ",
        b"process generation",
        b"wakeup ",
        b"connecting to ",
        b"idle timeout",
        b"master disconnect",
        b"open ",
        b"initial envelope",
        b"extracted envelope",
        b"cleanup flags",
        b"pref ",
        b"flush ",
        b"rewrite stream",
        b"proxymap stream",
        b"name_mask:",
        b"mail_",
        b"smtp_",
        b"smtpd_",
        b"qmgr_",
        b"before ",
        b"after ",
        b"mynetworks:",
        b"connection established",
        b"connection closed",
        b"fsspace:",
        b"auto_clnt_",
        b"inet_addr_local:",
        b"transport_event:",
        b"trigger_server",
        b"master_notify",
        b"private/",
        b"public/",
        b"> ",
        b"< ",
        b"connect to subsystem",
        b"maps_find:",
        b"mail_addr_find:",
        b"ctable_",
        b"dict_",
        b"event_",
        b"rewrite_",
        b"resolve_",
        b"match_",
        b"deliver_",
        b"vstream_",
        b"rec_",
    ];
    if PREFIXES.iter().any(|p| msg.starts_with(p))
        || F_SOCKET_WANTED.find(msg).is_some()
        || msg.ends_with(b" stream disconnect")
    {
        return true;
    }
    // `some_function_name: ...`: Postfix's verbose logs name the function.
    let end = msg
        .iter()
        .position(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'));
    matches!(end, Some(e) if e > 3 && msg[e] == b':' && msg[..e].contains(&b'_'))
}

/// `smtp_tls_loglevel` output: `host[ip]: TLS cipher list ...`.
fn tls_chatter(msg: &[u8]) -> bool {
    let head = &msg[..msg.len().min(80)];
    memmem::find(head, b"]: TLS ").is_some()
        || memmem::find(head, b"]: Issuing session ticket").is_some()
        || memmem::find(head, b"]: SSL").is_some()
        || memmem::find(head, b": certificate ").is_some()
}

/// `name = value` lines that smtpd -v prints for its parameters.
fn config_dump(msg: &[u8]) -> bool {
    let Some(eq) = memmem::find(msg, b" = ") else {
        return false;
    };
    eq > 2
        && msg[..eq]
            .iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

/// Lines without a queue id that we recognise and need not keep.
pub(super) fn informational(service: &[u8], msg: &[u8]) -> bool {
    // Daemons whose every line is status chatter for our purposes.
    const CHATTY: &[&[u8]] = &[
        b"anvil",
        b"scache",
        b"master",
        b"postfix-script",
        b"postlogd",
        b"tlsmgr",
        b"postscreen",
        b"dnsblog",
        b"verify",
        b"proxymap",
        b"trivial-rewrite",
        b"postsuper",
        b"postqueue",
        b"postdrop",
        b"sendmail",
        b"showq",
        b"flush",
        b"tlsproxy",
        b"spawn",
        b"postfix",
        b"postmap",
        b"postalias",
        b"postlog",
        b"policy-spf",
        b"policyd-spf",
        b"bounce",
        b"postconf",
        b"oqmgr",
        b"pipe",
    ];
    if CHATTY.contains(&service) {
        return true;
    }
    const PREFIXES: &[&[u8]] = &[
        b"connect from ",
        b"disconnect from ",
        b"lost connection after ",
        b"timeout after ",
        b"too many errors after ",
        b"improper command pipelining",
        b"Anonymous TLS connection",
        b"Trusted TLS connection",
        b"Untrusted TLS connection",
        b"Verified TLS connection",
        b"SSL_accept",
        b"SSL_connect",
        b"cannot load ",
        b"Compiled against ",
        b"Run-time linked against ",
        b">>> ",
        b"<<< ",
        b"SSL_connect error",
        b"TLS library problem",
        b"setting up TLS connection",
        b"connect to ",
        b"NOQUEUE: ",
        b"statistics: ",
        b"reject: ",
        b"non-SMTP command from ",
        b"warning: ",
        b"table ",
        b"Host offered STARTTLS",
        b"discarding EHLO keywords",
        b"proxy-reject",
        b"proxy-accept",
        b"abort: ",
        b"host ",
        b"mail for ",
        b"daemon started",
        b"terminating on signal",
        b"reload ",
        b"lookup ",
        b"begin ",
        b"end ",
        b"dict_",
        b"smtp_stream",
        b"Untrusted",
        b"certificate ",
        b"server certificate",
        b"client certificate",
        b"starting ",
        b"refreshing ",
        b"SNI ",
        b"cleanup_",
        b"name_mask",
        b"watchdog",
        b"auto_clnt",
        b"unknown ",
        b"check_",
        b"generic_checks",
        b"match_",
        b"smtpd_",
        b"been_here",
        b"xsasl_",
        b"initializing ",
        b"verify ",
        b"using ",
        b"enabling ",
        b"bad command",
        b"Trusted",
        b"Verified",
        b"Anonymous",
    ];
    PREFIXES.iter().any(|p| msg.starts_with(p))
        || verbose_debug(msg)
        || tls_chatter(msg)
        || config_dump(msg)
}
