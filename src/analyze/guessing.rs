//! Password guessing: an IP that fails logins against several accounts, and
//! an account that fails logins from many IPs, with whether the account was
//! then used successfully (the guess that worked).

use rustc_hash::{FxHashMap, FxHashSet};

use super::AnalysisOptions;
use crate::correlate::{Findings, Sym};
use crate::model::GuessingRow;
use crate::time::LogTime;

/// An IP is listed from this many failures, over at least two accounts.
pub const IP_MIN_FAILURES: u64 = 5;
/// An account is listed from failures from this many distinct IPs, or this
/// many failures in all, or from a few failures when a successful login
/// followed them.
pub const ACCOUNT_MIN_IPS: u64 = 3;
pub const ACCOUNT_MIN_FAILURES: u64 = 10;
pub const ACCOUNT_MIN_BEFORE_SUCCESS: u64 = 5;

#[derive(Default)]
struct Acc {
    failures: u64,
    others: FxHashSet<Sym>,
    first: Option<LogTime>,
    last: Option<LogTime>,
}

impl Acc {
    fn add(&mut self, t: LogTime, other: Sym) {
        self.failures += 1;
        self.others.insert(other);
        self.first = Some(self.first.map_or(t, |f| f.min(t)));
        self.last = Some(self.last.map_or(t, |l| l.max(t)));
    }
}

/// The guessing sources and targets, most failures first.
pub fn password_guessing(f: &Findings, opts: &AnalysisOptions) -> Vec<GuessingRow> {
    let mut by_ip: FxHashMap<Sym, Acc> = FxHashMap::default();
    let mut by_account: FxHashMap<Sym, Acc> = FxHashMap::default();
    for lf in &f.login_failures {
        by_ip
            .entry(lf.client_ip)
            .or_default()
            .add(lf.time, lf.username);
        if lf.username != 0 {
            by_account
                .entry(lf.username)
                .or_default()
                .add(lf.time, lf.client_ip);
        }
    }
    // The first successful login of each account after a failure.
    let first_success = |account: Sym, after: LogTime| -> Option<(LogTime, Sym)> {
        let mut id = b"sasl:".to_vec();
        id.extend_from_slice(f.strings.get(account));
        let sym = f.strings.lookup(&id)?;
        f.logins
            .iter()
            .filter(|l| l.identity == sym && l.time > after)
            .min_by_key(|l| l.time)
            .map(|l| (l.time, l.client_ip))
    };
    let fmt = &opts.format;
    let s = |sym: Sym| f.strings.str(sym).into_owned();
    let mut rows: Vec<GuessingRow> = Vec::new();
    for (ip, a) in &by_ip {
        let accounts = a.others.iter().filter(|&&u| u != 0).count() as u64;
        if a.failures >= IP_MIN_FAILURES && accounts >= 2 {
            rows.push(GuessingRow {
                kind: "ip".into(),
                key: s(*ip),
                failures: a.failures,
                distinct: accounts,
                first: a.first.map(|t| fmt.iso(t)),
                last: a.last.map(|t| fmt.iso(t)),
                targets: names(f, &a.others),
                ..GuessingRow::default()
            });
        }
    }
    for (account, a) in &by_account {
        let ips = a.others.len() as u64;
        let success = a.first.and_then(|t| first_success(*account, t));
        let listed = ips >= ACCOUNT_MIN_IPS
            || a.failures >= ACCOUNT_MIN_FAILURES
            || (success.is_some() && a.failures >= ACCOUNT_MIN_BEFORE_SUCCESS);
        if listed {
            rows.push(GuessingRow {
                kind: "account".into(),
                key: s(*account),
                failures: a.failures,
                distinct: ips,
                first: a.first.map(|t| fmt.iso(t)),
                last: a.last.map(|t| fmt.iso(t)),
                login_after: success.map(|(t, _)| fmt.iso(t)),
                login_after_ip: success.map(|(_, ip)| s(ip)),
                targets: names(f, &a.others),
            });
        }
    }
    rows.sort_by(|a, b| {
        b.failures
            .cmp(&a.failures)
            .then(a.kind.cmp(&b.kind))
            .then(a.key.cmp(&b.key))
    });
    rows.truncate(1000);
    rows
}

/// Up to five names of a set, sorted.
fn names(f: &Findings, set: &FxHashSet<Sym>) -> Vec<String> {
    let mut v: Vec<String> = set
        .iter()
        .filter(|&&x| x != 0)
        .map(|&x| f.strings.str(x).into_owned())
        // Postfix writes `(unavailable)` where the client gave no name.
        .filter(|n| !n.starts_with('('))
        .collect();
    v.sort();
    v.truncate(5);
    v
}
