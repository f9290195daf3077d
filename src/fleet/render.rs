//! The fleet report's files: `fleet.html` (self-contained, escaped by the
//! template engine), `fleet.json`, and one CSV per question.

use minijinja::{AutoEscape, Environment};

use super::Fleet;
use crate::report::tables::frame::{Batch, Kind, Schema};

const TEMPLATE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>postmortem fleet: {{ hosts|length }} hosts</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right}.warn{color:#8a1c1c;font-weight:600}
</style></head><body>
<h1>Fleet: {{ hosts|length }} hosts, {{ runs|length }} runs</h1>
<p>Hosts: {{ hosts|join(", ") }}.</p>
<h2 id="shared">Shared between hosts</h2>
{% if shared %}<p class="warn">{{ shared|length }} logins or client IPs were seen on more than one host, as a suspect of a blacklisting or in password guessing.</p>
<table><tr><th>kind</th><th>value</th><th>hosts</th><th>seen as</th></tr>
{% for s in shared %}<tr><td>{{ s.kind }}</td><td>{{ s.value }}</td><td>{{ s.hosts|join(", ") }}</td><td>{{ s.seen_as|join("; ") }}</td></tr>
{% endfor %}</table>{% else %}<p>No login or client IP was seen on more than one host.</p>{% endif %}
<h2 id="overlaps">Listed on the same list at the same time</h2>
{% if overlaps %}<table><tr><th>list</th><th>hosts</th><th>from</th><th>to</th></tr>
{% for o in overlaps %}<tr><td>{{ o.list }}</td><td>{{ o.hosts|join(", ") }}</td><td>{{ o.from }}</td><td>{{ o.to }}</td></tr>
{% endfor %}</table>{% else %}<p>No two hosts were listed on one list at the same time.</p>{% endif %}
<h2 id="ongoing">Blacklistings ongoing at the end of each host's logs</h2>
{% if ongoing %}<table><tr><th>host</th><th>list</th><th>first seen</th><th>last seen</th><th>messages</th><th>listed IP</th></tr>
{% for e in ongoing %}<tr><td>{{ e.host }}</td><td>{{ e.list }}</td><td>{{ e.first_seen }}</td><td>{{ e.last_seen }}</td><td class="n">{{ e.messages }}</td><td>{{ e.listed_ip or "" }}</td></tr>
{% endfor %}</table>{% else %}<p>None.</p>{% endif %}
<h2 id="causes">Causes over time, per host</h2>
<table><tr><th>host</th><th>day</th><th>cause</th><th>deferrals</th><th>bounces</th></tr>
{% for c in causes %}<tr><td>{{ c.host }}</td><td>{{ c.day }}</td><td>{{ c.cause }}</td><td class="n">{{ c.deferrals }}</td><td class="n">{{ c.bounces }}</td></tr>
{% endfor %}</table>
{% if problems %}<h2>Problems</h2><ul>{% for p in problems %}<li>{{ p }}</li>{% endfor %}</ul>{% endif %}
<p>Written by postmortem {{ tool_version }} from the runs' event tables (schema version {{ schema_version }}).</p>
</body></html>
"#;

fn err(what: &str, e: impl std::fmt::Display) -> crate::Error {
    crate::Error::Report {
        what: what.to_string(),
        message: e.to_string(),
    }
}

/// `fleet.html`.
pub fn html(f: &Fleet) -> crate::Result<String> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("fleet.html", TEMPLATE)
        .map_err(|e| err("fleet.html", e))?;
    let mut shown = f.clone();
    escape(&mut shown);
    env.get_template("fleet.html")
        .and_then(|t| t.render(minijinja::value::Serde(&shown)))
        .map_err(|e| err("fleet.html", e))
}

/// Control and bidi characters shown as `<U+XXXX>`, as in every output.
fn escape(f: &mut Fleet) {
    let e = |s: &mut String| *s = crate::report::escape::escape_unsafe(s).into_owned();
    for s in &mut f.shared {
        e(&mut s.value);
        s.hosts.iter_mut().for_each(e);
        s.seen_as.iter_mut().for_each(e);
    }
    for o in &mut f.overlaps {
        e(&mut o.list);
        o.hosts.iter_mut().for_each(e);
    }
    for o in &mut f.ongoing {
        e(&mut o.host);
        e(&mut o.list);
    }
    for c in &mut f.causes {
        e(&mut c.host);
        e(&mut c.cause);
    }
    f.hosts.iter_mut().for_each(e);
}

const CAUSES: Schema = &[
    ("host", Kind::Str),
    ("day", Kind::Str),
    ("cause", Kind::Str),
    ("deferrals", Kind::U64),
    ("bounces", Kind::U64),
];
const SHARED: Schema = &[
    ("kind", Kind::Str),
    ("value", Kind::Str),
    ("hosts", Kind::Str),
    ("seen_as", Kind::Str),
];
const OVERLAPS: Schema = &[
    ("list", Kind::Str),
    ("hosts", Kind::Str),
    ("from", Kind::Str),
    ("to", Kind::Str),
];
const ONGOING: Schema = &[
    ("host", Kind::Str),
    ("list", Kind::Str),
    ("first_seen", Kind::Str),
    ("last_seen", Kind::Str),
    ("messages", Kind::U64),
    ("listed_ip", Kind::Str),
];

fn csv(name: &str, mut b: Batch) -> crate::Result<(String, Vec<u8>)> {
    let mut df = b.take().map_err(|e| err(name, e))?;
    let mut out = Vec::new();
    crate::report::csv::append_frame(&mut df, &mut out, true, name)?;
    Ok((name.to_string(), out))
}

/// Every file of the fleet report as (name, bytes).
pub fn files(f: &Fleet) -> crate::Result<Vec<(String, Vec<u8>)>> {
    let mut shown = f.clone();
    escape(&mut shown);
    let f = &shown;
    let mut causes = Batch::new(CAUSES, f.causes.len());
    for c in &f.causes {
        causes
            .row()
            .str(Some(&c.host))
            .str(Some(&c.day))
            .str(Some(&c.cause))
            .u64(Some(c.deferrals))
            .u64(Some(c.bounces))
            .end();
    }
    let mut shared = Batch::new(SHARED, f.shared.len());
    for s in &f.shared {
        shared
            .row()
            .str(Some(&s.kind))
            .str(Some(&s.value))
            .str(Some(&s.hosts.join("; ")))
            .str(Some(&s.seen_as.join("; ")))
            .end();
    }
    let mut overlaps = Batch::new(OVERLAPS, f.overlaps.len());
    for o in &f.overlaps {
        overlaps
            .row()
            .str(Some(&o.list))
            .str(Some(&o.hosts.join("; ")))
            .str(Some(&o.from))
            .str(Some(&o.to))
            .end();
    }
    let mut ongoing = Batch::new(ONGOING, f.ongoing.len());
    for o in &f.ongoing {
        ongoing
            .row()
            .str(Some(&o.host))
            .str(Some(&o.list))
            .str(Some(&o.first_seen))
            .str(Some(&o.last_seen))
            .u64(Some(o.messages))
            .str(o.listed_ip.as_deref())
            .end();
    }
    let json = serde_json::to_string_pretty(f).map_err(|e| err("fleet.json", e))?;
    Ok(vec![
        ("fleet.html".to_string(), html(f)?.into_bytes()),
        ("fleet.json".to_string(), json.into_bytes()),
        csv("fleet_causes.csv", causes)?,
        csv("fleet_shared.csv", shared)?,
        csv("fleet_overlaps.csv", overlaps)?,
        csv("fleet_ongoing.csv", ongoing)?,
    ])
}
