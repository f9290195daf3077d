//! `postqueue -p` at the end of the logs, as Postfix's showq prints it
//! (compare lab-1's `queue/postqueue-p.txt`): the header, per message
//! `ID[*!] size arrival sender`, each recipient group's last reason in
//! parentheses (right-aligned to column 77 when short, at column 0 when
//! long: showq does not wrap), the recipients indented by 41 columns, a
//! blank line, and `-- N Kbytes in M Requests.`.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::clock::{iso, queue_stamp};
use super::sim::Msg;

/// The listing's order: active first, then deferred, then held (showq
/// walks the queues in that order), by queue id within each.
fn order(msgs: &[&Msg]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..msgs.len()).collect();
    let rank = |m: &Msg| {
        if m.held {
            2
        } else if m.rcpts.iter().any(|r| r.reason.is_some()) {
            1
        } else {
            0
        }
    };
    idx.sort_by(|&a, &b| (rank(msgs[a]), &msgs[a].qid).cmp(&(rank(msgs[b]), &msgs[b].qid)));
    idx
}

/// The listing's text and, per message, what the truth says about it.
pub fn render(msgs: &[&Msg]) -> (String, Vec<Value>) {
    if msgs.is_empty() {
        return ("Mail queue is empty\n".to_string(), Vec::new());
    }
    let mut out =
        String::from("-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n");
    let mut total = 0u64;
    let mut truth = Vec::new();
    for i in order(msgs) {
        let m = msgs[i];
        let active = !m.held && m.rcpts.iter().all(|r| r.reason.is_none());
        let mark = if m.held {
            '!'
        } else if active {
            '*'
        } else {
            ' '
        };
        let sender = if m.sender.is_empty() {
            "MAILER-DAEMON"
        } else {
            &m.sender
        };
        let _ = writeln!(
            out,
            "{:<10}{mark}{:>8} {}  {sender}",
            m.qid,
            m.size,
            queue_stamp(m.queued)
        );
        total += m.size;
        // Recipients grouped by their last reason, as showq does.
        let mut groups: Vec<(Option<&String>, Vec<&str>)> = Vec::new();
        for r in m.rcpts.iter().filter(|r| !r.done) {
            match groups.iter_mut().find(|g| g.0 == r.reason.as_ref()) {
                Some(g) => g.1.push(&r.p.addr),
                None => groups.push((r.reason.as_ref(), vec![&r.p.addr])),
            }
        }
        for (reason, addrs) in &groups {
            if let Some(r) = reason {
                let _ = writeln!(out, "{:>77}", format!("({r})"));
            }
            for a in addrs {
                let _ = writeln!(out, "{:41}{a}", "");
            }
        }
        out.push('\n');
        truth.push(json!({
            "queue_id": m.qid,
            "identity": m.identity,
            "spam": m.spam,
            "client_ip": if m.client_ip.is_empty() { Value::Null } else { json!(m.client_ip) },
            "why": m.why,
            "sender": m.sender,
            "arrival": iso(m.arrival),
            "queue": if m.held { "hold" } else if active { "active" } else { "deferred" },
            "recipients": m.rcpts.iter().filter(|r| !r.done).count(),
        }));
    }
    let n = msgs.len();
    let _ = writeln!(
        out,
        "-- {} Kbytes in {n} Request{}.",
        total / 1024,
        if n == 1 { "" } else { "s" }
    );
    (out, truth)
}
