//! What to do, in order, with the values the analysis found: stop each
//! source, delete its reviewed spam, fix what is broken on this server,
//! request delisting, release held mail, and flush the queue last, only
//! when nothing found argues against it (a listing still refusing mail, or
//! spam that may still be queued).
//!
//! Every value put in a command comes from the logs, which an attacker
//! writes in part (sender addresses, logins): each is shell-quoted.

use crate::classify::Cause;
use crate::input::SourceKind;
use crate::model::{
    BlacklistEpisode, Incident, LocalFailure, ProblemState, RunbookStep, Standing, Summary,
    Suspect, SuspectRole,
};
use crate::parse::queue::QueueName;
use crate::time::{LogTime, DAY};

/// Most sources given their own step; the rest are named in one.
const MAX_SOURCES: usize = 5;

/// The steps for this summary, empty when nothing needs doing.
pub fn build(s: &Summary) -> Vec<RunbookStep> {
    let mut steps = Vec::new();
    stop_sources(s, &mut steps);
    delete_spam(s, &mut steps);
    let fixes_before = steps.len();
    fix_server(s, &mut steps);
    let fixed_here = steps.len() > fixes_before;
    delist(s, &mut steps);
    held(s, &mut steps);
    flush(s, fixed_here, &mut steps);
    steps
}

/// `value` as one shell word: left alone when plainly safe, else in single
/// quotes.
fn sh(value: &str) -> String {
    let safe = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@._+:/=,%-".contains(&b));
    if safe {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

fn day(iso: &str) -> &str {
    iso.get(..10).unwrap_or(iso)
}

fn stop_sources(s: &Summary, steps: &mut Vec<RunbookStep>) {
    let (shown, rest) = s.suspects.split_at(s.suspects.len().min(MAX_SOURCES));
    for suspect in shown {
        steps.push(stop_source(suspect));
    }
    if !rest.is_empty() {
        let names: Vec<&str> = rest.iter().map(|x| x.identity.as_str()).collect();
        steps.push(RunbookStep {
            title: format!("Stop the {} other sources", rest.len()),
            commands: vec![],
            why: format!(
                "Also named, with less evidence: {}. See the suspects table for each one's evidence.",
                names.join(", ")
            ),
        });
    }
}

fn stop_source(x: &Suspect) -> RunbookStep {
    let raw = x
        .identity
        .split_once(" (")
        .map_or(x.identity.as_str(), |p| p.0);
    let value = raw.split_once(':').map_or(raw, |p| p.1);
    let role = match x.role {
        SuspectRole::Cause => format!(
            "It sent {} messages to {} recipients before the {} listing",
            x.messages, x.recipients, x.episode
        ),
        SuspectRole::WhileListed => format!(
            "It sent {} messages to {} recipients while the server was already listed ({}): not the listing's cause, but it keeps it alive",
            x.messages, x.recipients, x.episode
        ),
    };
    // The script was put in place before it sent: look a week back.
    let since = x
        .listing_onset
        .as_deref()
        .and_then(|t| LogTime::parse_local(day(t)).ok())
        .map(|t| LogTime(t.0 - 7 * DAY).iso()[..10].to_string())
        .unwrap_or_default();
    match x.kind.as_str() {
        "sasl" => stop_login(x, value, &role),
        "uid" => stop_script(x, value, &role, &since),
        "client" => stop_client(value, &role),
        _ => stop_sender(value, &role),
    }
}

fn stop_login(x: &Suspect, value: &str, role: &str) -> RunbookStep {
    let new_ips: Vec<&str> = x
        .ip_uses
        .iter()
        .filter(|u| !u.usual)
        .map(|u| u.ip.as_str())
        .take(8)
        .collect();
    let ips = if new_ips.is_empty() {
        String::new()
    } else {
        format!(", from IPs it had not used before ({})", new_ips.join(", "))
    };
    RunbookStep {
        title: format!("Stop the source: reset the password of {value}"),
        commands: vec![
            format!("pw=$(openssl rand -base64 18); PSA_PASSWORD=\"$pw\" plesk bin mail -u {} -passwd ''; echo \"$pw\"  # Plesk", sh(value)),
            format!("doveadm kick {}", sh(value)),
            format!("doveadm sieve list -u {}", sh(value)),
        ],
        why: format!(
            "{role}{ips}. A new password stops it; ending its sessions stops the ones open now. Elsewhere than Plesk, change it where the mailboxes are kept. Look for forwarding rules the attacker may have left."
        ),
    }
}

fn stop_script(x: &Suspect, value: &str, role: &str, since: &str) -> RunbookStep {
    let uid = value.split(' ').next().unwrap_or(value);
    let user = format!("$(getent passwd {} | cut -d: -f1)", sh(uid));
    let home = x.home.as_deref().map_or_else(
        || format!("\"$(getent passwd {} | cut -d: -f6)\"", sh(uid)),
        sh,
    );
    let mut commands = vec![format!("getent passwd {}", sh(uid))];
    if !since.is_empty() {
        commands.push(format!(
            "find {home} -xdev -name '*.php' -newermt {} -ls",
            sh(since)
        ));
    }
    commands.push(format!(
        "postconf -e \"authorized_submit_users = !{user}, static:all\""
    ));
    let senders = if x.envelope_senders.is_empty() {
        String::new()
    } else {
        format!(
            " Its envelope senders name the site: {}.",
            x.envelope_senders
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    RunbookStep {
        title: format!("Stop the source: the script running as uid {uid}"),
        commands,
        why: format!(
            "{role}, through the sendmail command.{senders} PHP files changed in the week before the listing point to the script; `authorized_submit_users` stops that user's mail until the script is removed (keep any users already in that parameter). Plesk: Tools & Settings > Mail Server Settings > outgoing mail control."
        ),
    }
}

fn stop_client(value: &str, role: &str) -> RunbookStep {
    let local = value.starts_with("127.") || value == "::1";
    let (commands, how) = if local {
        (
            vec!["ss -tnp '( dport = :25 or dport = :587 )'".to_string()],
            "It connects from this server itself: a local program sends over SMTP; find it by its process.",
        )
    } else {
        (
            vec![
                format!("iptables -I INPUT -s {} -p tcp -m multiport --dports 25,465,587 -j DROP", sh(value)),
                "postconf mynetworks smtpd_relay_restrictions".to_string(),
            ],
            "It relayed without logging in: block it, then check why the server lets it relay (mynetworks, smtpd_relay_restrictions).",
        )
    };
    RunbookStep {
        title: format!("Stop the source: client {value}"),
        commands,
        why: format!("{role}. {how}"),
    }
}

fn stop_sender(value: &str, role: &str) -> RunbookStep {
    let domain = value.rsplit_once('@').map_or(value, |p| p.1);
    RunbookStep {
        title: format!("Stop the source: whatever sends as {value}"),
        commands: vec![format!(
            "grep -rlF --include='*.php' {} /var/www 2>/dev/null | head",
            sh(value)
        )],
        why: format!(
            "{role}, without a login or a local user the logs name: look for the web application of {domain} that uses this address (Plesk: /var/www/vhosts/{domain})."
        ),
    }
}

fn delete_spam(s: &Summary, steps: &mut Vec<RunbookStep>) {
    let Some(queue) = &s.queue else {
        if !s.suspects.is_empty() {
            steps.push(RunbookStep {
                title: "Take a queue dump to find the queued spam".into(),
                commands: vec![
                    "postqueue -j > queue.json".into(),
                    format!("postmortem analyze {} queue.json", log_args(s)),
                ],
                why: "No queue dump was given, so the sources' queued mail is unknown. With one, the report writes per source the queue ids the logs show to be spam, and the ones to review (`postqueue -p > queue.txt` where `-j` is missing, before Postfix 3.1).".into(),
            });
        }
        return;
    };
    for x in &s.suspects {
        let (Some(csv), spam, review) = (&x.queued_file, x.queued_spam, x.queued_review) else {
            continue;
        };
        let mut commands = Vec::new();
        if let (Some(ids), true) = (&x.review_ids_file, review > 0) {
            commands.push(format!("xargs -n1 postcat -hq < {} | less", sh(ids)));
        }
        if let (Some(ids), true) = (&x.queued_ids_file, spam > 0) {
            commands.push(format!("head -n 3 {} | xargs -n1 postcat -bq", sh(ids)));
            commands.push(format!("postsuper -d - < {}", sh(ids)));
        }
        if commands.is_empty() {
            continue;
        }
        steps.push(RunbookStep {
            title: format!(
                "Delete the queued spam of {}: {spam} messages, {review} to review",
                x.identity
            ),
            commands,
            why: format!(
                "{csv} gives each queued message's evidence.{} Run these from the report folder soon after the dump (taken {}): a queue id is reused once its message has left.",
                if review > 0 {
                    " The review list holds what may be legitimate (the owner's own IPs, mail outside the bursts): release or delete it by hand."
                } else {
                    ""
                },
                queue.dump_time
            ),
        });
    }
}

/// The log paths as given, for a command that reruns the analysis.
fn log_args(s: &Summary) -> String {
    let logs: Vec<&str> = s
        .inputs
        .iter()
        .filter(|i| i.kind == SourceKind::Maillog.id())
        .map(|i| i.path.as_str())
        .collect();
    if logs.len() <= 4 {
        return logs.into_iter().map(sh).collect::<Vec<_>>().join(" ");
    }
    // Many rotations: their common folder.
    let dirs: std::collections::BTreeSet<&str> = logs
        .iter()
        .map(|p| p.rsplit_once('/').map_or(".", |x| x.0))
        .collect();
    dirs.into_iter().map(sh).collect::<Vec<_>>().join(" ")
}

/// The server's own failures still there at the end of the logs: the
/// headline's items whose state says so (mail did not go through again).
fn fix_server(s: &Summary, steps: &mut Vec<RunbookStep>) {
    let mut seen: Vec<Cause> = Vec::new();
    for h in &s.headline {
        let Some(cause) = Cause::from_id(&h.cause) else {
            continue;
        };
        if !fixed_here(cause) || h.state != ProblemState::Ongoing || seen.contains(&cause) {
            continue;
        }
        seen.push(cause);
        let incident = s
            .incidents
            .iter()
            .filter(|i| i.cause == h.cause)
            .max_by(|a, b| a.end.cmp(&b.end));
        let local = s
            .local_failures
            .iter()
            .filter(|l| l.stops_mail && h.end.as_deref().is_some_and(|e| l.last.as_str() <= e))
            .max_by(|a, b| a.last.cmp(&b.last));
        steps.push(match (cause, local, incident) {
            (Cause::LocalSystem, Some(l), _) => fix_local(l),
            (_, _, Some(i)) => fix_cause(cause, i),
            _ => fix_cause(cause, &Incident::default()),
        });
    }
    for e in &s.blacklistings {
        if e.standing == Standing::Policy && e.state == ProblemState::Ongoing {
            steps.push(fix_policy(e));
            break;
        }
    }
}

/// Causes that are this server's (or its provider's) to fix, not a
/// receiver's.
pub fn fixed_here(cause: Cause) -> bool {
    matches!(
        cause,
        Cause::Port25Blocked
            | Cause::ContentFilterDown
            | Cause::DnsFailure
            | Cause::LocalSystem
            | Cause::RelayUnavailable
            | Cause::RelayAuthFailure
            | Cause::TlsFailure
            | Cause::AuthPolicy
    )
}

fn fix_cause(cause: Cause, i: &Incident) -> RunbookStep {
    let receiver = i.receivers.first().map(String::as_str);
    let host = receiver.unwrap_or("gmail-smtp-in.l.google.com");
    let example = i.last_example.as_deref().unwrap_or_default();
    let commands: Vec<String> = match cause {
        Cause::Port25Blocked => vec![
            format!("nc -zv -w 5 {} 25", sh(host)),
            format!("nc -zv -w 5 {} 587", sh(host)),
            "iptables -S OUTPUT; nft list ruleset 2>/dev/null | grep -w 25".into(),
        ],
        Cause::ContentFilterDown => {
            let port = filter_port(example).unwrap_or("10024");
            vec![
                "systemctl status amavis".into(),
                format!("ss -ltnp | grep -w {}", sh(&format!(":{port}"))),
                "systemctl restart amavis && postfix reload".into(),
            ]
        }
        Cause::DnsFailure => {
            let domain = receiver.unwrap_or("gmail.com");
            vec![
                format!("dig MX {}", sh(domain)),
                format!("dig @9.9.9.9 MX {}", sh(domain)),
                "cat /etc/resolv.conf /var/spool/postfix/etc/resolv.conf".into(),
            ]
        }
        Cause::RelayUnavailable | Cause::RelayAuthFailure => vec![
            "postconf relayhost smtp_sasl_auth_enable smtp_sasl_password_maps".into(),
            format!("nc -zv -w 5 {} 587", sh(host.trim_matches(['[', ']']))),
            "postmap /etc/postfix/sasl_passwd && postfix reload".into(),
        ],
        Cause::TlsFailure => vec![format!(
            "openssl s_client -starttls smtp -connect {}:25 -servername {} </dev/null",
            sh(host),
            sh(host)
        )],
        Cause::AuthPolicy => vec![format!("dig +short TXT {}", sh(receiver.unwrap_or("")))],
        _ => vec![
            "postfix check".into(),
            "df -h /var/spool/postfix; df -i /var/spool/postfix".into(),
        ],
    };
    RunbookStep {
        title: format!("Fix the server: {}", cause.title().to_lowercase()),
        commands,
        why: format!(
            "Mail did not go through again before the end of the logs (seen from {} to {}, {} messages held up; last reply: {}). {}",
            i.start,
            i.end,
            i.messages,
            example,
            cause.fix().iter().take(2).cloned().collect::<Vec<_>>().join(" ")
        ),
    }
}

/// `connect to 127.0.0.1[127.0.0.1]:10024: Connection refused` -> `10024`.
fn filter_port(reply: &str) -> Option<&str> {
    let after = &reply[reply.find("]:")? + 2..];
    let end = after
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(after.len());
    Some(&after[..end]).filter(|p| !p.is_empty())
}

fn fix_policy(e: &BlacklistEpisode) -> RunbookStep {
    let ip = e.listed_ip.as_deref().unwrap_or_default();
    let mut commands = vec!["postconf relayhost".to_string()];
    if !ip.is_empty() {
        commands.push(format!("dig +short -x {}", sh(ip)));
    }
    RunbookStep {
        title: format!("Fix the server: {} refuses this kind of IP", e.list),
        commands,
        why: format!(
            "{} refuses mail from the server's IP for what the IP is (a dynamic or residential range, no matching reverse DNS), not for spam: delisting does not help. Relay through the provider's smart host, or get a static IP with a reverse DNS name that matches the HELO name. Reply: {}",
            e.list, e.example
        ),
    }
}

fn fix_local(l: &LocalFailure) -> RunbookStep {
    let commands: Vec<String> = match l.kind.as_str() {
        "disk_full" => vec![
            "df -h /var/spool/postfix; df -i /var/spool/postfix".into(),
            "du -xsh /var/* 2>/dev/null | sort -h | tail".into(),
        ],
        "content_filter" => vec![
            "systemctl status amavis".into(),
            "systemctl restart amavis && postfix reload".into(),
        ],
        "resource_limit" => vec!["cat /proc/sys/fs/file-nr; free -m".into()],
        "corrupt_queue_files" | "queue_file" => vec![
            "postfix check".into(),
            "ls -l /var/spool/postfix/corrupt".into(),
        ],
        _ => vec!["postfix check".into(), "postconf -n".into()],
    };
    RunbookStep {
        title: format!("Fix the server: {}", l.title),
        commands,
        why: format!(
            "{} lines from {} to {}, and mail did not go through again before the end of the logs: {} {}",
            l.count,
            l.first,
            l.last,
            l.example,
            l.fix.join(" ")
        ),
    }
}

/// Reputation listings still refusing mail at the end of the logs.
fn ongoing_listings(s: &Summary) -> impl Iterator<Item = &BlacklistEpisode> {
    s.blacklistings
        .iter()
        .filter(|e| e.state == ProblemState::Ongoing && e.standing != Standing::Policy)
}

fn delist(s: &Summary, steps: &mut Vec<RunbookStep>) {
    let mut done: Vec<&str> = Vec::new();
    for e in ongoing_listings(s).filter(|e| e.cause == Cause::Blacklisted.id()) {
        if done.contains(&e.list.as_str()) {
            continue;
        }
        done.push(&e.list);
        // A list can have several episodes: the last refusal of any.
        let last_seen = ongoing_listings(s)
            .filter(|x| x.list == e.list)
            .map(|x| x.last_seen.as_str())
            .max()
            .unwrap_or(&e.last_seen);
        let mut commands = Vec::new();
        if let (Some(ip), true) = (&e.listed_ip, e.list.contains('.')) {
            if let Some(name) = crate::classify::dnsbl_name(ip, &e.list) {
                commands.push(format!("dig +short {}", sh(&name)));
            }
        }
        let url = e
            .delisting_url
            .as_deref()
            .map(|u| format!(" Request it at {u}."))
            .unwrap_or_default();
        let spamhaus = if e.list.contains("spamhaus") {
            " Spamhaus answers 127.255.255.254 (refused) through public resolvers: ask from the server's own resolver."
        } else {
            ""
        };
        steps.push(RunbookStep {
            title: format!("Request delisting from {}", e.list),
            commands,
            why: format!(
                "It still refused mail at the end of the logs (last {last_seen}).{url}{spamhaus} Ask only once the source is stopped and its spam deleted: a listing requested while spam flows comes back."
            ),
        });
    }
}

fn held(s: &Summary, steps: &mut Vec<RunbookStep>) {
    let Some(q) = &s.queue else { return };
    let held = q
        .by_queue
        .iter()
        .find(|k| k.key == QueueName::Hold.id())
        .map_or(0, |k| k.messages);
    if held == 0 {
        return;
    }
    steps.push(RunbookStep {
        title: format!("Look at the {held} held messages"),
        commands: vec![
            "postqueue -p | awk '$1 ~ /!$/ {print substr($1, 1, length($1)-1)}' > held-ids.txt".into(),
            "xargs -n1 postcat -hq < held-ids.txt | less".into(),
        ],
        why: "Held mail never leaves on its own: an admin or a filter put it on hold. Release what is legitimate with `postsuper -H QUEUE_ID` and delete the rest with `postsuper -d QUEUE_ID`; the sources' held spam is already in their delete lists.".into(),
    });
}

fn flush(s: &Summary, fixed_here: bool, steps: &mut Vec<RunbookStep>) {
    let mut against = Vec::new();
    let mut listed: Vec<&str> = Vec::new();
    for e in ongoing_listings(s) {
        if !listed.contains(&e.list.as_str()) {
            listed.push(&e.list);
        }
    }
    if !listed.is_empty() {
        against.push(format!(
            "{} still refused the server's mail at the end of the logs: a flush sends the whole queue into the refusal and feeds the listing",
            listed.join(", ")
        ));
    }
    let sources = !s.suspects.is_empty();
    if sources && s.queue.is_none() {
        against.push(
            "no queue dump was given, so the sources' spam may still be queued: a flush would send it"
                .to_string(),
        );
    }
    if !against.is_empty() {
        steps.push(RunbookStep {
            title: "Do not flush the queue yet".into(),
            commands: vec![],
            why: format!(
                "{}. Postfix retries deferred mail on its own; flush only when nothing here stands in the way.",
                against.join("; ")
            ),
        });
        return;
    }
    let deferred = s.queue.as_ref().map_or(0, |q| {
        q.by_queue
            .iter()
            .filter(|k| k.key == QueueName::Deferred.id())
            .map(|k| k.messages)
            .sum::<u64>()
    });
    if deferred == 0 && !fixed_here {
        return;
    }
    let done = if sources {
        "once the sources are stopped and their spam deleted"
    } else {
        "once the fixes above are done"
    };
    steps.push(RunbookStep {
        title: "Flush the queue, last".into(),
        commands: vec!["postqueue -f".into()],
        why: format!(
            "No listing was still refusing mail at the end of the logs{}. Flush {done}, so the waiting mail goes out now instead of at its next retry.",
            if deferred > 0 { format!(" and {deferred} messages wait in the deferred queue") } else { String::new() }
        ),
    });
}

#[cfg(test)]
mod tests;
