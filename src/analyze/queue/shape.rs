//! qshape's table from a dump: recipient or sender domains by age.

use std::collections::HashMap;

use super::{SHAPE_BUCKETS, SHAPE_MIN_DOMAIN_WIDTH, SHAPE_TICK_MINUTES, SHAPE_WIDTH};
use crate::model::{QueueShape, QueueShapeRow};
use crate::parse::queue::{address_domain, QueueDump, QueueName};
use crate::time::{LogTime, SECOND};

/// qshape's two views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeMode {
    /// Default: one count per recipient, by recipient domain.
    Recipients,
    /// `qshape -s`: one count per message, by sender domain.
    Senders,
}

/// qshape's options, with its defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeOptions {
    /// `-s`: by sender domain instead of recipient domain.
    pub mode: ShapeMode,
    /// `-b`: the number of age buckets (the last has no upper bound).
    pub buckets: usize,
    /// `-t`: the first bucket's age limit, in minutes.
    pub tick_minutes: u64,
    /// `-l`: buckets grow linearly (5, 10, 15 ...) instead of doubling.
    pub linear: bool,
    /// `-p`: also count each parent domain (`.example.com`), TLDs aside.
    pub parents: bool,
    /// `-m`: a parent domain is shown from this many subdomains on.
    pub min_subdomains: u64,
    /// `-w`: the screen width (only wider than 80 counts, as in qshape).
    pub width: usize,
}

impl Default for ShapeOptions {
    fn default() -> Self {
        ShapeOptions {
            mode: ShapeMode::Recipients,
            buckets: SHAPE_BUCKETS,
            tick_minutes: SHAPE_TICK_MINUTES,
            linear: false,
            parents: false,
            min_subdomains: 5,
            width: SHAPE_WIDTH,
        }
    }
}

impl ShapeOptions {
    /// The sender view with the other defaults.
    pub fn senders() -> Self {
        ShapeOptions {
            mode: ShapeMode::Senders,
            ..ShapeOptions::default()
        }
    }

    /// The bucket (1-based, as in qshape.pl) of an age in whole seconds: 1
    /// below one tick, then `2 + floor(log2(age / tick))`, or with `-l`
    /// `1 + floor(age / tick)`, capped at the last.
    pub fn bucket(&self, age_seconds: i64) -> usize {
        let ticks = age_seconds.max(0) as u64 / (60 * self.tick_minutes.max(1));
        let b = if ticks < 1 {
            1
        } else if self.linear {
            usize::try_from(ticks)
                .unwrap_or(usize::MAX)
                .saturating_add(1)
        } else {
            2 + (63 - ticks.leading_zeros()) as usize
        };
        b.min(self.buckets.max(1))
    }

    /// The upper age limit of each bucket but the last, in minutes.
    pub fn bucket_minutes(&self) -> Vec<u64> {
        let mut v = Vec::with_capacity(self.buckets.saturating_sub(1));
        let mut t = self.tick_minutes;
        for _ in 1..self.buckets {
            v.push(t);
            t = if self.linear {
                t.saturating_add(self.tick_minutes)
            } else {
                t.saturating_mul(2)
            };
        }
        v
    }
}

/// qshape's parent of a domain, `-p`: the first label dropped, shown with a
/// leading dot; `None` once only a top-level domain would be left.
pub fn parent_domain(domain: &str) -> Option<String> {
    let d = domain.strip_prefix('.').unwrap_or(domain);
    let dot = d.find('.').filter(|&i| i > 0)?;
    let rest = &d[dot + 1..];
    rest.contains('.').then(|| format!(".{rest}"))
}

/// Whether a message of queue `q` belongs to the selection `queues`; an
/// empty selection is every queue. A text listing's unmarked message
/// without a reason (`Unknown`) counts for deferred, incoming and maildrop,
/// since it may be in any of them.
pub fn in_queues(q: QueueName, queues: &[QueueName]) -> bool {
    queues.is_empty()
        || queues.contains(&q)
        || (q == QueueName::Unknown
            && queues.iter().any(|x| {
                matches!(
                    x,
                    QueueName::Deferred | QueueName::Incoming | QueueName::Maildrop
                )
            }))
}

/// The domain qshape files an address under (`MAILER-DAEMON` for the null
/// sender, which the listings print as `MAILER-DAEMON`).
pub fn shape_domain(address: &str) -> String {
    if address.is_empty() || address == "MAILER-DAEMON" {
        return "MAILER-DAEMON".to_string();
    }
    address_domain(address)
}

/// qshape's table from a dump. Ages count whole seconds from the arrival
/// (qshape reads the queue file's time record, the same arrival the
/// listing prints) to `dump_time`. Rows: TOTAL first, then domains by count,
/// shorter names first on a tie (qshape's order), then by name.
pub fn qshape(
    dump: &QueueDump,
    dump_time: LogTime,
    opts: &ShapeOptions,
    queues: &[QueueName],
) -> QueueShape {
    let now = dump_time.0.div_euclid(SECOND);
    let n = opts.buckets.max(1);
    let mut total = vec![0u64; n + 1];
    let mut domains: HashMap<String, Vec<u64>> = HashMap::new();
    // `-p`: how many distinct subdomains each parent domain has.
    let mut subdomains: HashMap<String, u64> = HashMap::new();
    for m in dump.messages.iter().filter(|m| in_queues(m.queue, queues)) {
        let b = opts.bucket(now - m.arrival.0.div_euclid(SECOND));
        let mut count = |d: String| {
            total[0] += 1;
            total[b] += 1;
            // The domain, then with -p each parent in turn (qshape's loop).
            let mut d = Some(d);
            let mut child_was_new = false;
            while let Some(name) = d {
                let row = domains
                    .entry(name.clone())
                    .or_insert_with(|| vec![0; n + 1]);
                let seen = row[0] > 0;
                row[0] += 1;
                row[b] += 1;
                if child_was_new {
                    *subdomains.entry(name.clone()).or_default() += 1;
                }
                child_was_new = !seen;
                d = if opts.parents {
                    parent_domain(&name)
                } else {
                    None
                };
            }
        };
        match opts.mode {
            ShapeMode::Senders => count(shape_domain(&m.sender)),
            ShapeMode::Recipients => {
                for r in &m.recipients {
                    count(shape_domain(&r.address));
                }
            }
        }
    }
    let mut rows: Vec<QueueShapeRow> = domains
        .into_iter()
        // A parent domain needs enough subdomains to get a line.
        .filter(|(d, _)| {
            !d.starts_with('.') || subdomains.get(d).copied().unwrap_or(0) >= opts.min_subdomains
        })
        .map(|(domain, c)| QueueShapeRow {
            domain,
            total: c[0],
            counts: c[1..].to_vec(),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.total
            .cmp(&a.total)
            .then(a.domain.len().cmp(&b.domain.len()))
            .then(a.domain.cmp(&b.domain))
    });
    rows.insert(
        0,
        QueueShapeRow {
            domain: "TOTAL".into(),
            total: total[0],
            counts: total[1..].to_vec(),
        },
    );
    QueueShape {
        bucket_minutes: opts.bucket_minutes(),
        rows,
    }
}

/// The table as qshape prints it (80 columns): numbers right-aligned in
/// columns as wide as the TOTAL row needs, domains right-aligned in what is
/// left, over-long domains cut to `+` and their tail.
pub fn render_qshape(shape: &QueueShape) -> String {
    render_qshape_width(shape, SHAPE_WIDTH)
}

/// [`render_qshape`] for a screen `width` wide (`-w`; qshape ignores less
/// than 80).
pub fn render_qshape_width(shape: &QueueShape, width: usize) -> String {
    let mut heads: Vec<String> = vec!["T".into()];
    heads.extend(shape.bucket_minutes.iter().map(|m| m.to_string()));
    heads.push(format!(
        "{}+",
        shape.bucket_minutes.last().copied().unwrap_or(0)
    ));
    let total: Vec<u64> = shape
        .rows
        .first()
        .map(|r| {
            std::iter::once(r.total)
                .chain(r.counts.iter().copied())
                .collect()
        })
        .unwrap_or_default();
    let widths: Vec<usize> = heads
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let l = total.get(i).map_or(1, |n| n.to_string().len()).max(h.len());
            if l > 2 {
                l + 1
            } else {
                3
            }
        })
        .collect();
    let dw = width
        .max(SHAPE_WIDTH)
        .saturating_sub(widths.iter().sum())
        .max(SHAPE_MIN_DOMAIN_WIDTH);
    let mut out = String::new();
    let mut line = |domain: &str, cells: &[String]| {
        let chars: Vec<char> = domain.chars().collect();
        if chars.len() > dw {
            let (lead, keep) = if domain.starts_with('.') {
                (".+", dw - 2)
            } else {
                ("+", dw - 1)
            };
            out.push_str(lead);
            out.extend(&chars[chars.len() - keep..]);
        } else {
            out.extend(std::iter::repeat_n(' ', dw - chars.len()));
            out.push_str(domain);
        }
        for (i, c) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(3);
            out.push_str(&format!("{c:>w$}"));
        }
        out.push('\n');
    };
    line("", &heads);
    for r in &shape.rows {
        let cells: Vec<String> = std::iter::once(r.total)
            .chain(r.counts.iter().copied())
            .map(|n| n.to_string())
            .collect();
        line(&r.domain, &cells);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::queue::{QueuedMessage, QueuedRecipient};
    use crate::time::MINUTE;

    fn msg(
        id: &str,
        queue: QueueName,
        arrival: LogTime,
        sender: &str,
        rcpts: &[(&str, Option<&str>)],
    ) -> QueuedMessage {
        QueuedMessage {
            queue_id: id.into(),
            queue,
            arrival,
            size: 700,
            sender: sender.into(),
            recipients: rcpts
                .iter()
                .map(|(a, r)| QueuedRecipient {
                    address: a.to_string(),
                    reason: r.map(str::to_string),
                })
                .collect(),
            forced_expire: false,
        }
    }

    #[test]
    fn buckets_follow_qshape() {
        let shape_bucket = |age| ShapeOptions::default().bucket(age);
        assert_eq!(shape_bucket(0), 1);
        assert_eq!(shape_bucket(299), 1);
        assert_eq!(shape_bucket(300), 2); // [5, 10) min: column "10"
        assert_eq!(shape_bucket(599), 2);
        assert_eq!(shape_bucket(600), 3);
        assert_eq!(shape_bucket(1199), 3);
        assert_eq!(shape_bucket(1200), 4);
        assert_eq!(shape_bucket(640 * 60), 9); // [640, 1280) min: column "1280"
        assert_eq!(shape_bucket(1279 * 60), 9);
        assert_eq!(shape_bucket(1280 * 60), 10); // column "1280+"
        assert_eq!(shape_bucket(10 * 86400 * 365), 10);
        assert_eq!(shape_bucket(-50), 1);
    }

    #[test]
    fn parent_domains_drop_one_label_and_stop_before_the_tld() {
        assert_eq!(
            parent_domain("mail.example.com").as_deref(),
            Some(".example.com")
        );
        assert_eq!(parent_domain("a.b.c.d").as_deref(), Some(".b.c.d"));
        assert_eq!(parent_domain(".b.c.d").as_deref(), Some(".c.d"));
        for top in [".example.com", "example.com", "com", "", "..a.b"] {
            assert_eq!(parent_domain(top), None, "{top}");
        }
    }

    #[test]
    fn linear_and_custom_buckets_follow_qshape() {
        let o = ShapeOptions {
            buckets: 6,
            tick_minutes: 10,
            linear: true,
            ..ShapeOptions::default()
        };
        assert_eq!(o.bucket_minutes(), [10, 20, 30, 40, 50]);
        assert_eq!(o.bucket(0), 1);
        assert_eq!(o.bucket(599), 1);
        assert_eq!(o.bucket(600), 2); // [10, 20) min: column "20"
        assert_eq!(o.bucket(35 * 60), 4);
        assert_eq!(o.bucket(50 * 60), 6); // column "50+"
        assert_eq!(o.bucket(i64::MAX), 6);
        let geometric = ShapeOptions {
            buckets: 4,
            tick_minutes: 1,
            ..ShapeOptions::default()
        };
        assert_eq!(geometric.bucket_minutes(), [1, 2, 4]);
        assert_eq!(geometric.bucket(3 * 60), 3);
        assert_eq!(geometric.bucket(4 * 60), 4);
        let one = ShapeOptions {
            buckets: 1,
            ..ShapeOptions::default()
        };
        assert!(one.bucket_minutes().is_empty());
        assert_eq!(one.bucket(1 << 40), 1);
    }

    #[test]
    fn parents_are_shown_from_enough_subdomains() {
        let now = LogTime::from_civil(2026, 11, 28, 18, 56, 6, 0).unwrap();
        let d = QueueDump {
            messages: vec![msg(
                "3E485D0602",
                QueueName::Deferred,
                LogTime(now.0 - 8 * MINUTE),
                "dave@lab.test",
                &[
                    ("a@x.example.com", None),
                    ("b@y.example.com", None),
                    ("c@y.example.com", None),
                    ("d@z.example.com", None),
                    ("e@example.com", None),
                ],
            )],
            ..QueueDump::default()
        };
        let with = |min_subdomains| ShapeOptions {
            parents: true,
            min_subdomains,
            ..ShapeOptions::default()
        };
        let r = qshape(&d, now, &with(3), &[]);
        // Three distinct subdomains: x, y and z (y twice counts once).
        let parent = r.rows.iter().find(|r| r.domain == ".example.com").unwrap();
        assert_eq!(parent.total, 4);
        // The totals count each recipient once, parents aside.
        assert_eq!(r.rows[0].total, 5);
        assert_eq!(
            r.rows
                .iter()
                .find(|r| r.domain == "y.example.com")
                .unwrap()
                .total,
            2
        );
        let r = qshape(&d, now, &with(4), &[]);
        assert!(r.rows.iter().all(|r| !r.domain.starts_with('.')));
        // Without -p, no parent rows at all.
        let r = qshape(&d, now, &ShapeOptions::default(), &[]);
        assert_eq!(r.rows.len(), 1 + 4);
    }

    #[test]
    fn shape_counts_recipients_or_senders() {
        let now = LogTime::from_civil(2026, 11, 28, 18, 56, 6, 0).unwrap();
        let d = QueueDump {
            messages: vec![
                msg(
                    "3E485D0602",
                    QueueName::Deferred,
                    LogTime(now.0 - 8 * MINUTE),
                    "dave@lab.test",
                    &[
                        ("a@bigisp.test", Some("x")),
                        ("b@Gmail-like.test", Some("y")),
                        ("c@gmail-like.test", Some("y")),
                    ],
                ),
                msg(
                    "A2AA3D073B",
                    QueueName::Hold,
                    LogTime(now.0 - 2 * MINUTE),
                    "",
                    &[("d@gmail-like.test", None)],
                ),
            ],
            ..QueueDump::default()
        };
        let r = qshape(&d, now, &ShapeOptions::default(), &[QueueName::Deferred]);
        assert_eq!(r.rows[0].domain, "TOTAL");
        assert_eq!(r.rows[0].total, 3);
        assert_eq!(r.rows[1].domain, "gmail-like.test");
        assert_eq!(r.rows[1].counts[1], 2);
        let s = qshape(&d, now, &ShapeOptions::senders(), &[]);
        assert_eq!(s.rows[0].total, 2);
        assert_eq!(
            s.rows
                .iter()
                .find(|r| r.domain == "MAILER-DAEMON")
                .unwrap()
                .counts[0],
            1
        );
        let text = render_qshape(&s);
        let head: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(
            head,
            ["T", "5", "10", "20", "40", "80", "160", "320", "640", "1280", "1280+"],
            "{text}"
        );
        // Small counts get qshape's minimum width of 3 per column.
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .ends_with("TOTAL  2  1  1  0  0  0   0   0   0    0     0"),
            "{text}"
        );
    }
}
