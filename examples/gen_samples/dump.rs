//! End-of-run files besides the logs: the `postqueue -p` dump of what is
//! still queued, and the server's /etc/passwd.

use std::fmt::Write as _;
use std::io;

use serde_json::{json, Value};

use super::clock::queue_stamp;
use super::Sim;

impl Sim {
    pub(super) fn write_queue_dump(&mut self, _end: i64) -> io::Result<Value> {
        let mut out = String::new();
        let mut total = 0u64;
        let mut held = 0u64;
        let mut rcpts = 0u64;
        if self.live.is_empty() {
            out.push_str("Mail queue is empty\n");
        } else {
            out.push_str("-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n");
            for m in self.live.values() {
                let mark = if m.held { '!' } else { ' ' };
                let _ = writeln!(
                    out,
                    "{:<10}{mark}{:>8} {}  {}",
                    m.qid,
                    m.size,
                    queue_stamp(m.queued),
                    if m.sender.is_empty() {
                        "MAILER-DAEMON"
                    } else {
                        &m.sender
                    }
                );
                total += m.size;
                if m.held {
                    held += 1;
                }
                // Recipients grouped by their last reason, as showq does.
                let mut groups: Vec<(Option<String>, Vec<&str>)> = Vec::new();
                for r in m.rcpts.iter().filter(|r| !r.done) {
                    rcpts += 1;
                    match groups.iter_mut().find(|g| g.0 == r.last_reason) {
                        Some(g) => g.1.push(&r.addr),
                        None => groups.push((r.last_reason.clone(), vec![&r.addr])),
                    }
                }
                groups.sort_by_key(|g| g.0.is_none());
                for (reason, addrs) in groups {
                    if let Some(r) = reason {
                        let s = format!("({r})");
                        let _ = writeln!(out, "{s:>78}");
                    }
                    for a in addrs {
                        let _ = writeln!(out, "{:41}{a}", "");
                    }
                }
                out.push('\n');
            }
            let _ = writeln!(
                out,
                "-- {} Kbytes in {} Requests.",
                total.div_ceil(1024),
                self.live.len()
            );
        }
        std::fs::write(self.cfg.out.join("postqueue-p.txt"), out)?;
        Ok(json!({
            "messages": self.live.len(),
            "held": held,
            "recipients": rcpts,
            "deferred_messages": self.live.values().filter(|m| m.deferred_ever).count(),
        }))
    }

    pub(super) fn write_passwd(&self) -> io::Result<()> {
        let text = "root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
sync:x:4:65534:sync:/bin:/bin/sync
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
systemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin
messagebus:x:100:107::/nonexistent:/usr/sbin/nologin
sshd:x:101:65534::/run/sshd:/usr/sbin/nologin
postfix:x:102:109::/var/spool/postfix:/usr/sbin/nologin
dovecot:x:103:111:Dovecot mail server,,,:/usr/lib/dovecot:/usr/sbin/nologin
dovenull:x:104:112:Dovecot login user,,,:/nonexistent:/usr/sbin/nologin
amavis:x:105:113:AMaViS system user,,,:/var/lib/amavis:/bin/sh
opendkim:x:106:114::/run/opendkim:/usr/sbin/nologin
psaadm:x:998:997:Plesk administrator:/opt/psa/admin:/bin/false
popuser:x:30:31:POP3 service user:/:/bin/false
psaftp:x:997:996:anonftp psa user:/:/bin/false
shopexample:x:10001:1003::/var/www/vhosts/shop-example.com:/bin/false
shopnews:x:10002:1003::/var/www/vhosts/news.shop-example.com:/bin/false
bakery:x:10003:1003::/var/www/vhosts/bakery-example.net:/bin/false
studio:x:10004:1003::/var/www/vhosts/studio-example.org:/bin/false
oldblog:x:10005:1003::/var/www/vhosts/oldblog-example.org:/bin/false
";
        std::fs::write(self.cfg.out.join("passwd"), text)
    }
}
