//! The CSVs of pflogsumm's views (`traffic_hourly.csv`, ...) and of the
//! timeline's flow: one table per view of [`Traffic`](crate::model::Traffic).

use super::Table;
use crate::model::{Summary, TrafficRow};

/// The views' tables, in a fixed order.
pub(super) fn tables(s: &Summary) -> Vec<Table> {
    vec![
        traffic("traffic_hourly.csv", &s.traffic.per_hour),
        traffic("traffic_daily.csv", &s.traffic.per_day),
        domains(s),
        sender_domains(s),
        rejects(s),
        sasl_failures(s),
        sizes(s),
        daemon(s),
        flow(s),
    ]
}

fn traffic(name: &'static str, r: &[TrafficRow]) -> Table {
    Table::new(name, r.len())
        .text("start", r.iter().map(|x| x.start.as_str()))
        .uint("received", r.iter().map(|x| x.received))
        .uint("delivered", r.iter().map(|x| x.delivered))
        .uint("deferral_events", r.iter().map(|x| x.deferral_events))
        .uint("bounced", r.iter().map(|x| x.bounced))
        .uint("rejected", r.iter().map(|x| x.rejected))
        .uint("expired", r.iter().map(|x| x.expired))
        .uint("bytes_received", r.iter().map(|x| x.bytes_received))
        .uint("bytes_delivered", r.iter().map(|x| x.bytes_delivered))
}

fn domains(s: &Summary) -> Table {
    let r = &s.traffic.domains;
    Table::new("domains.csv", r.len())
        .text("domain", r.iter().map(|x| x.domain.as_str()))
        .text(
            "direction",
            r.iter()
                .map(|x| if x.outbound { "outbound" } else { "local" }),
        )
        .uint("sent", r.iter().map(|x| x.sent))
        .uint("bytes", r.iter().map(|x| x.bytes))
        .uint("deferral_events", r.iter().map(|x| x.deferral_events))
        .uint("bounced", r.iter().map(|x| x.bounced))
        .float(
            "average_delay_seconds",
            r.iter().map(|x| x.average_delay_seconds),
        )
        .float("max_delay_seconds", r.iter().map(|x| x.max_delay_seconds))
        .opt_text("last_success", r.iter().map(|x| x.last_success.as_deref()))
        .opt_text("last_failure", r.iter().map(|x| x.last_failure.as_deref()))
        .opt_text("last_cause", r.iter().map(|x| x.last_cause.as_deref()))
        .text("state", r.iter().map(|x| x.state.as_str()))
}

fn sender_domains(s: &Summary) -> Table {
    let r = &s.traffic.sender_domains;
    Table::new("sender_domains.csv", r.len())
        .text("domain", r.iter().map(|x| x.domain.as_str()))
        .uint("messages", r.iter().map(|x| x.messages))
        .uint("bytes", r.iter().map(|x| x.bytes))
}

fn rejects(s: &Summary) -> Table {
    let r = &s.traffic.rejects;
    Table::new("rejects.csv", r.len())
        .text("client", r.iter().map(|x| x.client.as_str()))
        .text("reason", r.iter().map(|x| x.reason.as_str()))
        .opt_text("cause", r.iter().map(|x| x.cause.as_deref()))
        .uint("count", r.iter().map(|x| x.count))
        .text("first", r.iter().map(|x| x.first.as_str()))
        .text("last", r.iter().map(|x| x.last.as_str()))
}

fn sasl_failures(s: &Summary) -> Table {
    let r = &s.traffic.sasl_failures;
    Table::new("sasl_failures.csv", r.len())
        .text("client_ip", r.iter().map(|x| x.client_ip.as_str()))
        .text("login", r.iter().map(|x| x.login.as_str()))
        .uint("failures", r.iter().map(|x| x.failures))
        .text("first", r.iter().map(|x| x.first.as_str()))
        .text("last", r.iter().map(|x| x.last.as_str()))
}

fn sizes(s: &Summary) -> Table {
    let r = &s.traffic.sizes.bands;
    Table::new("sizes.csv", r.len())
        .text("band", r.iter().map(|x| x.key.as_str()))
        .uint("messages", r.iter().map(|x| x.messages))
}

fn daemon(s: &Summary) -> Table {
    let r = &s.traffic.daemon;
    Table::new("daemon_events.csv", r.len())
        .text("event", r.iter().map(|x| x.event.as_str()))
        .text("text", r.iter().map(|x| x.text.as_str()))
        .uint("count", r.iter().map(|x| x.count))
        .text("first", r.iter().map(|x| x.first.as_str()))
        .text("last", r.iter().map(|x| x.last.as_str()))
}

fn flow(s: &Summary) -> Table {
    let r = &s.timeline.flow;
    Table::new("timeline_flow.csv", r.len())
        .text("bucket_start", r.iter().map(|x| x.bucket_start.as_str()))
        .uint("delivered", r.iter().map(|x| x.delivered))
        .uint("bounced", r.iter().map(|x| x.bounced))
        .uint("deferral_events", r.iter().map(|x| x.deferral_events))
}
