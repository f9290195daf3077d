//! The raw log lines each finding cites: which lines to look up (built
//! here, from the findings' own values and times), and where the lines
//! found go in the summary. The lookup itself is `input::lines`.

use crate::correlate::{Findings, IdentityKind, Sym};
use crate::input::lines::{Found, Query};
use crate::model::{EvidenceLine, Summary};
use crate::time::{LogTime, TimeFormat, MINUTE, SECOND};

/// What a line is evidence for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Suspect(usize),
    Episode(usize),
    Incident(usize),
    /// A row of `summary.local_failures`.
    Local(usize),
}

/// The lines to look up, each with what it stands for.
#[derive(Debug, Default)]
pub struct Requests {
    pub queries: Vec<Query>,
    pub about: Vec<(Target, &'static str)>,
}

impl Requests {
    /// Adds `other`'s requests (their tags renumbered).
    pub fn extend(&mut self, other: Requests) {
        for (mut q, about) in other.queries.into_iter().zip(other.about) {
            q.tag = self.about.len() as u32;
            self.about.push(about);
            self.queries.push(q);
        }
    }

    fn add(
        &mut self,
        target: Target,
        about: &'static str,
        needles: Vec<String>,
        from: LogTime,
        until: LogTime,
        want: usize,
    ) {
        if needles.iter().any(|n| n.is_empty()) {
            return;
        }
        let tag = self.about.len() as u32;
        self.about.push((target, about));
        self.queries.push(Query {
            tag,
            needles,
            from,
            until,
            want,
        });
    }

    /// A suspect's lines, each at the second the analysis saw it: its first
    /// message in the window, its first from each new client IP (two at
    /// most), the first failed login of its account.
    pub(super) fn suspect(
        &mut self,
        index: usize,
        f: &Findings,
        s: &super::suspects::Scored,
        new_ips: &[(Sym, LogTime)],
    ) {
        let raw = f.strings.str(s.identity).into_owned();
        let value = raw
            .split_once(':')
            .map_or(raw.as_str(), |x| x.1)
            .to_string();
        let target = Target::Suspect(index);
        let needle = match s.kind {
            Some(IdentityKind::Sasl) => format!("sasl_username={value}"),
            Some(IdentityKind::Uid) => format!(": uid={value} from="),
            Some(IdentityKind::Client) => format!("[{value}]"),
            Some(IdentityKind::Sender) => format!("from=<{value}>"),
            _ => return,
        };
        let second = |t: LogTime| (t, LogTime(t.0 + SECOND));
        // A submission line, not a failed login that names the account.
        let mut first = vec![needle.clone()];
        if matches!(s.kind, Some(IdentityKind::Sasl | IdentityKind::Client)) {
            first.push(": client=".into());
        }
        if let Some(t) = s.first_sent {
            // Its first recipient is logged at arrival: the submission is
            // that second or a little before.
            let (from, until) = second(t);
            self.add(
                target,
                "its first message in the window before the listing",
                first,
                LogTime(from.0 - MINUTE),
                until,
                1,
            );
        }
        if s.kind == Some(IdentityKind::Sasl) {
            for (ip, t) in new_ips.iter().take(2) {
                let ip = f.strings.str(*ip).into_owned();
                let (from, until) = second(*t);
                self.add(
                    target,
                    "a login from a client IP it had not used before",
                    vec![needle.clone(), ": client=".into(), format!("[{ip}]")],
                    from,
                    until,
                    1,
                );
            }
            if let Some(t) = s.first_failure {
                let (from, until) = second(t);
                self.add(
                    target,
                    "the first failed login of its account",
                    vec!["authentication failed".into(), needle.clone()],
                    from,
                    until,
                    1,
                );
            }
        }
    }

    /// An episode's first refusal, and its first outright one.
    pub fn episode(
        &mut self,
        index: usize,
        receiver: &str,
        first: LogTime,
        first_bounce: Option<LogTime>,
    ) {
        let target = Target::Episode(index);
        let host = format!("{receiver}[");
        self.add(
            target,
            "its first refusal",
            vec![host.clone(), "status=".into()],
            first,
            LogTime(first.0 + SECOND),
            1,
        );
        if let Some(b) = first_bounce.filter(|&b| b != first) {
            self.add(
                target,
                "its first outright refusal",
                vec![host, "status=bounced".into()],
                b,
                LogTime(b.0 + SECOND),
                1,
            );
        }
    }

    /// An incident's first and last replies.
    pub fn incident(&mut self, index: usize, example: (&str, LogTime), last: (&str, LogTime)) {
        let target = Target::Incident(index);
        for ((text, t), about) in [(example, "its first reply"), (last, "its last reply")] {
            let needle: String = text.chars().take(80).collect();
            self.add(target, about, vec![needle], t, LogTime(t.0 + SECOND), 1);
        }
    }

    /// An episode's last refusal.
    pub fn episode_last(&mut self, index: usize, receiver: &str, last: LogTime) {
        self.add(
            Target::Episode(index),
            "its last refusal",
            vec![format!("{receiver}["), "status=".into()],
            last,
            LogTime(last.0 + SECOND),
            1,
        );
    }

    /// The incidents as the summary holds them at the end (the server's own
    /// ones included): the first line that shows each, and its last.
    pub fn incidents(&mut self, summary: &Summary) {
        let time = |iso: &str| LogTime::parse_local(iso.get(..19).unwrap_or(iso)).ok();
        for (i, inc) in summary.incidents.iter().enumerate() {
            let (Some(start), Some(end)) = (time(&inc.start), time(&inc.end)) else {
                continue;
            };
            // A local incident quotes `program: text`; the line holds
            // `program[pid]: text`.
            let text = |t: &str| match inc.local_kind {
                Some(_) => t.split_once(": ").map_or(t, |x| x.1).to_string(),
                None => t.to_string(),
            };
            let window = |t: LogTime| (t, LogTime(t.0 + SECOND));
            if let Some(first) = &inc.first_example {
                let needle = fixed_prefix(&text(first));
                // The quoted line may be the worst of the run, not its first.
                let (from, until) = match inc.local_kind {
                    Some(_) => (start, LogTime(end.0 + SECOND)),
                    None => window(start),
                };
                self.add(
                    Target::Incident(i),
                    "its first line",
                    vec![needle],
                    from,
                    until,
                    1,
                );
            }
            if let Some(last) = &inc.last_example {
                let (from, until) = window(end);
                let needle = fixed_prefix(&text(last));
                self.add(
                    Target::Incident(i),
                    "its last line",
                    vec![needle],
                    from,
                    until,
                    1,
                );
            }
        }
    }

    /// The server's own failures that stop mail (and the first others):
    /// their first and last lines.
    pub fn local_failures(&mut self, summary: &Summary) {
        let time = |iso: &str| LogTime::parse_local(iso.get(..19).unwrap_or(iso)).ok();
        let rows = summary.local_failures.iter().enumerate();
        for (i, l) in rows.filter(|(i, l)| l.stops_mail || *i < 10).take(30) {
            let needle = fixed_prefix(&l.example);
            let mut needles = vec![needle];
            if matches!(l.severity.as_str(), "deferral" | "bounce") {
                needles.push("status=".into());
            } else if !l.program.is_empty() {
                needles.push(format!("{}[", l.program));
            }
            for (t, about) in [(&l.first, "its first line"), (&l.last, "its last line")] {
                if let Some(t) = time(t) {
                    let until = LogTime(t.0 + SECOND);
                    self.add(Target::Local(i), about, needles.clone(), t, until, 1);
                }
            }
        }
    }
}

/// The part of a text every line of its group shares: up to the first
/// digit (numbers differ from line to line), at most 80 characters; the
/// whole first 80 when the digits come too early to leave a usable needle.
fn fixed_prefix(text: &str) -> String {
    let head: String = text.chars().take(80).collect();
    match head.find(|c: char| c.is_ascii_digit()) {
        Some(p) if p >= 12 => head[..p].to_string(),
        _ => head,
    }
}

/// Puts the lines found on their findings, and all of them, in order, in
/// `summary.evidence_lines`.
pub fn attach(
    summary: &mut Summary,
    requests: &Requests,
    found: Vec<Found>,
    files: &[String],
    fmt: &TimeFormat,
) {
    let mut found = found;
    found.sort_by_key(|f| (f.tag, f.source, f.line));
    for f in found {
        let Some(&(target, about)) = requests.about.get(f.tag as usize) else {
            continue;
        };
        let line = EvidenceLine {
            finding: match target {
                Target::Suspect(i) => format!("suspect {}", i + 1),
                Target::Episode(i) => format!(
                    "blacklisting {}",
                    summary.blacklistings.get(i).map_or("", |b| b.list.as_str())
                ),
                Target::Incident(i) => format!(
                    "incident {}",
                    summary.incidents.get(i).map_or("", |x| x.cause.as_str())
                ),
                Target::Local(i) => format!(
                    "server {}",
                    summary
                        .local_failures
                        .get(i)
                        .map_or("", |x| x.kind.as_str())
                ),
            },
            about: about.to_string(),
            file: files.get(f.source).cloned().unwrap_or_default(),
            line: f.line,
            time: fmt.iso(f.time),
            text: f.text,
        };
        let slot = match target {
            Target::Suspect(i) => summary.suspects.get_mut(i).map(|s| &mut s.lines),
            Target::Episode(i) => summary.blacklistings.get_mut(i).map(|b| &mut b.lines),
            Target::Incident(i) => summary.incidents.get_mut(i).map(|x| &mut x.lines),
            Target::Local(i) => summary.local_failures.get_mut(i).map(|x| &mut x.lines),
        };
        if let Some(v) = slot {
            v.push(line.clone());
        }
        summary.evidence_lines.push(line);
    }
    // Each finding's lines in the order they were written.
    let by_time = |v: &mut Vec<EvidenceLine>| {
        v.sort_by(|a, b| (&a.time, &a.file, a.line).cmp(&(&b.time, &b.file, b.line)));
    };
    summary
        .suspects
        .iter_mut()
        .for_each(|x| by_time(&mut x.lines));
    summary
        .blacklistings
        .iter_mut()
        .for_each(|x| by_time(&mut x.lines));
    summary
        .incidents
        .iter_mut()
        .for_each(|x| by_time(&mut x.lines));
    summary
        .local_failures
        .iter_mut()
        .for_each(|x| by_time(&mut x.lines));
}
