//! `postqueue -j` (Postfix 3.1 and later): one JSON object per message.
//!
//! ```text
//! {"queue_name": "deferred", "queue_id": "3E485D0602", "arrival_time": 1795891681,
//!  "message_size": 748, "forced_expire": false, "sender": "dave@lab.test",
//!  "recipients": [{"address": "julia.silva99@bigisp.test", "delay_reason": "host ..."}]}
//! ```
//!
//! `arrival_time` is epoch seconds, so unlike the text listing it is UTC:
//! to line it up with the server's log times it is shown in the server's
//! zone when one is given, else as UTC (and the dump says so).

use serde::Deserialize;

use super::{DumpProblem, QueueDump, QueueName, QueuedMessage, QueuedRecipient};
use crate::time::{LogTime, SECOND};

#[derive(Deserialize)]
struct JsonMessage {
    queue_name: String,
    queue_id: String,
    arrival_time: i64,
    #[serde(default)]
    message_size: u64,
    #[serde(default)]
    forced_expire: bool,
    #[serde(default)]
    sender: String,
    #[serde(default)]
    recipients: Vec<JsonRecipient>,
}

#[derive(Deserialize)]
struct JsonRecipient {
    address: String,
    #[serde(default)]
    delay_reason: Option<String>,
}

/// Parses JSON lines, arrival times read as UTC.
pub fn parse_json(bytes: &[u8]) -> QueueDump {
    parse_json_in_zone(bytes, None)
}

/// Epoch seconds to the wall clock of `zone` (UTC when `None`).
pub fn epoch_to_wall(secs: i64, zone: Option<&jiff::tz::TimeZone>) -> Option<LogTime> {
    let Some(zone) = zone else {
        return secs.checked_mul(SECOND).map(LogTime);
    };
    let ts = jiff::Timestamp::from_second(secs).ok()?;
    LogTime::from_datetime(zone.to_datetime(ts))
}

/// Parses JSON lines; bad lines become problems, the others are kept.
pub fn parse_json_in_zone(bytes: &[u8], zone: Option<&jiff::tz::TimeZone>) -> QueueDump {
    let mut dump = QueueDump {
        clock_note: Some(match zone {
            Some(z) => format!(
                "postqueue -j arrival times (UTC epoch seconds) shown in {}",
                z.iana_name().unwrap_or("the given zone")
            ),
            None => {
                "postqueue -j arrival times (UTC epoch seconds) shown as UTC: no zone was given"
                    .to_string()
            }
        }),
        ..QueueDump::default()
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    for (i, line) in crate::parse::lines(bytes).enumerate() {
        let n = i as u64 + 1;
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let text = String::from_utf8_lossy(line);
        let parsed: JsonMessage = match serde_json::from_str(&text) {
            Ok(m) => m,
            Err(e) => {
                dump.problems.push(DumpProblem {
                    line: n,
                    message: format!("not a postqueue -j record: {e}"),
                });
                continue;
            }
        };
        let Some(arrival) = epoch_to_wall(parsed.arrival_time, zone) else {
            dump.problems.push(DumpProblem {
                line: n,
                message: format!("arrival_time {} is out of range", parsed.arrival_time),
            });
            continue;
        };
        if parsed.queue_id.is_empty() {
            dump.problems.push(DumpProblem {
                line: n,
                message: "record without a queue_id".into(),
            });
            continue;
        }
        let queue = QueueName::from_id(&parsed.queue_name).unwrap_or_else(|| {
            dump.problems.push(DumpProblem {
                line: n,
                message: format!("unknown queue_name {:?}", parsed.queue_name),
            });
            QueueName::Unknown
        });
        dump.messages.push(QueuedMessage {
            queue_id: parsed.queue_id,
            queue,
            arrival,
            size: parsed.message_size,
            sender: parsed.sender,
            recipients: parsed
                .recipients
                .into_iter()
                .map(|r| QueuedRecipient {
                    address: r.address,
                    reason: r.delay_reason.filter(|s| !s.trim().is_empty()),
                })
                .collect(),
            forced_expire: parsed.forced_expire,
        });
    }
    dump
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_records_and_reports_bad_lines() {
        // public/postqueue-json/rust_postbud_captured_live_relay.jsonl, plus damage.
        let text = br#"{"queue_name": "deferred", "queue_id": "3F373F5418", "arrival_time": 1787026965, "message_size": 5794, "forced_expire": false, "sender": "no-reply@example.com", "recipients": [{"address": "user@example.net", "delay_reason": "host mx.example.net[192.0.2.22] said: 451 4.7.7 Please try again later. IP rate-limited. (in reply to end of DATA command)"}]}
{"queue_name": "active", "queue_id": "004E6F5409", "arrival_time": 1787026952, "message_size": 3118, "forced_expire": false, "sender": "no-reply@example.com", "recipients": [{"address": "other@example.net"}]}
{"queue_name": "active", "queue_id": "004E6F54
"#;
        let d = parse_json(text);
        assert_eq!(d.messages.len(), 2);
        assert_eq!(d.problems.len(), 1);
        assert_eq!(d.problems[0].line, 3);
        let m = &d.messages[0];
        assert_eq!(m.queue, QueueName::Deferred);
        assert_eq!(m.size, 5794);
        // 1787026965 = 2026-08-18T04:22:45Z
        assert_eq!(
            m.arrival,
            LogTime::from_civil(2026, 8, 18, 4, 22, 45, 0).unwrap()
        );
        assert!(m.recipients[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("IP rate-limited"));
        assert_eq!(d.messages[1].queue, QueueName::Active);
        assert_eq!(d.messages[1].recipients[0].reason, None);
        assert!(d.clock_note.as_deref().unwrap().contains("UTC"));
    }

    #[test]
    fn zone_shifts_to_server_wall_clock() {
        let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        let t = epoch_to_wall(1787026965, Some(&berlin)).unwrap();
        assert_eq!(t, LogTime::from_civil(2026, 8, 18, 6, 22, 45, 0).unwrap());
    }
}
