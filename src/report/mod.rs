//! Everything written from a [`Summary`]: the report folder (HTML, Markdown,
//! JSON, CSV)
//! and the short terminal view.
//!
//! Each exporter is a pure function of the Summary (plus options) to bytes,
//! testable without a disk; [`write_report`] is the one writer that puts the
//! bytes in a folder, and does it so that a killed or failed run never leaves
//! a half report that looks whole ([`folder`]).

mod chart;
pub mod csv;
pub mod escape;
pub mod explain;
mod first_screen;
pub mod folder;
pub mod html;
pub mod markdown;
pub mod queue;
pub mod redact;
pub mod tables;
pub mod terminal;

pub use html::render_html;
pub use markdown::render_markdown;
pub use redact::{redact, RedactOptions};
pub use terminal::{render_terminal, use_color};

use crate::model::Summary;
use crate::Error;
use serde::Serialize;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Replace an existing report folder.
    pub force: bool,
    /// Pseudonymise the Summary (and the extra files) before writing.
    pub redact: Option<RedactOptions>,
    /// What the report's times are in: "server local time" or a zone name.
    pub time_label: String,
    /// More files for the folder (ids files per suspect, `queue.csv`), as
    /// (file name, bytes). A name must be a plain file name.
    pub extra_files: Vec<(String, Vec<u8>)>,
    /// The run's inputs: a report folder that holds one is never written
    /// or replaced.
    pub inputs: Vec<PathBuf>,
}

impl ReportOptions {
    /// How the times are labelled: the zone, or the server's local time.
    pub fn time_label(&self) -> &str {
        if self.time_label.is_empty() {
            "server local time"
        } else {
            &self.time_label
        }
    }
}

/// `summary.json`: the Summary as pretty JSON (schema in `model`).
pub fn render_json(summary: &Summary) -> crate::Result<String> {
    serde_json::to_string_pretty(summary).map_err(|e| Error::Report {
        what: "summary.json".to_string(),
        message: e.to_string(),
    })
}

/// Every file of the report folder as (name, bytes), redacted when asked.
/// Pure: nothing touches the disk.
pub fn render_files<'a>(
    summary: &Summary,
    opts: &'a ReportOptions,
) -> crate::Result<Vec<(String, Cow<'a, [u8]>)>> {
    let redactor = opts
        .redact
        .as_ref()
        .map(|r| redact::Redactor::for_summary(r, summary))
        .transpose()?;
    let mut summary = summary.clone();
    if let Some(r) = &redactor {
        r.redact_summary(&mut summary);
    }
    // Last, so that no output shows a control or bidi character as it is.
    escape::escape_summary(&mut summary);
    // Each file is rendered from the summary alone: side by side.
    let summary = &summary;
    let (html, (json, (markdown, csvs))) = rayon::join(
        || render_html(summary, opts),
        || {
            rayon::join(
                || render_json(summary),
                || {
                    rayon::join(
                        || render_markdown(summary, opts.time_label()),
                        || csv::render_csvs(summary),
                    )
                },
            )
        },
    );
    let mut files: Vec<(String, Cow<[u8]>)> = vec![
        ("report.html".to_string(), Cow::Owned(html?.into_bytes())),
        ("summary.md".to_string(), Cow::Owned(markdown.into_bytes())),
        ("summary.json".to_string(), Cow::Owned(json?.into_bytes())),
    ];
    files.extend(csvs?.into_iter().map(|(n, b)| (n, Cow::Owned(b))));
    for (name, bytes) in &opts.extra_files {
        check_file_name(name)?;
        // Borrowed when nothing changes: messages.csv can be large.
        let bytes = match &redactor {
            Some(r) => {
                let text = String::from_utf8_lossy(bytes);
                let text = if name.ends_with(".csv") {
                    r.csv(&text)
                } else {
                    r.text(&text)
                };
                Cow::Owned(
                    escape::escape_unsafe_keep_lines(&text)
                        .into_owned()
                        .into_bytes(),
                )
            }
            None if !escape::may_hold_unsafe(bytes) => Cow::Borrowed(bytes.as_slice()),
            None => Cow::Owned(
                escape::escape_unsafe_keep_lines(&String::from_utf8_lossy(bytes))
                    .into_owned()
                    .into_bytes(),
            ),
        };
        files.push((name.clone(), bytes));
    }
    Ok(files)
}

/// Writes the report folder and returns the paths written (inside
/// `out_dir`). Refuses an existing `out_dir` unless `opts.force`; even then
/// it only replaces a folder this tool wrote, and never one holding an
/// input (see [`folder`]).
pub fn write_report(
    summary: &Summary,
    out_dir: &Path,
    opts: &ReportOptions,
) -> crate::Result<Vec<PathBuf>> {
    write_report_with(summary, out_dir, opts, None)
}

/// [`write_report`], with `more` writing further files (the event tables)
/// into the folder before it is put in place.
pub fn write_report_with(
    summary: &Summary,
    out_dir: &Path,
    opts: &ReportOptions,
    more: Option<folder::MoreFiles<'_>>,
) -> crate::Result<Vec<PathBuf>> {
    folder::check_against_inputs(out_dir, &opts.inputs)?;
    if !opts.force && std::fs::symlink_metadata(out_dir).is_ok() {
        return Err(Error::OutputExists {
            path: out_dir.to_path_buf(),
        });
    }
    let files = render_files(summary, opts)?;
    folder::write_folder_with(out_dir, &files, opts.force, more)
}

/// A file name from a caller must stay inside the folder.
fn check_file_name(name: &str) -> crate::Result<()> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && name.len() <= 200;
    if plain {
        Ok(())
    } else {
        Err(Error::Report {
            what: name.to_string(),
            message: "an extra report file needs a plain file name".to_string(),
        })
    }
}

/// The causes in the order reports list them, with fixed colours.
///
/// Colours: Okabe-Ito and Paul Tol's palettes, distinguishable with the
/// common colour-vision deficiencies; the four causes of most stuck queues get
/// the strongest ones. A cause id outside the list (a user rule) gets grey.
pub const CAUSE_COLORS: &[(&str, &str)] = &[
    ("port25_blocked", "#D55E00"),
    ("content_filter_down", "#E69F00"),
    ("dns_failure", "#CC79A7"),
    ("blacklisted", "#882255"),
    ("rate_limited", "#0072B2"),
    ("greylisted", "#B8B8B8"),
    ("auth_policy", "#56B4E9"),
    ("mailbox_full", "#009E73"),
    ("unknown_recipient", "#F0E442"),
    ("tls_failure", "#332288"),
    ("relay_auth_failure", "#44AA99"),
    ("relay_unavailable", "#117733"),
    ("remote_unavailable", "#999933"),
    ("local_system", "#AA4499"),
    ("unknown", "#6E6E6E"),
];

pub fn cause_color(cause: &str) -> &'static str {
    CAUSE_COLORS
        .iter()
        .find(|(c, _)| *c == cause)
        .map_or("#8C8C8C", |(_, col)| col)
}

/// The cause's title as the analysis named it, else its id in words: one
/// label per cause on the whole page.
pub fn cause_title(s: &Summary, cause: &str) -> String {
    crate::classify::Cause::from_id(cause)
        .map(|c| c.title().to_string())
        .or_else(|| {
            s.causes
                .iter()
                .find(|c| c.cause == cause)
                .map(|c| c.title.clone())
        })
        .unwrap_or_else(|| {
            let words = cause.replace('_', " ");
            let mut c = words.chars();
            c.next()
                .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
        })
}

/// Position of a cause in the fixed order; unknown ids sort last.
pub fn cause_rank(cause: &str) -> usize {
    CAUSE_COLORS
        .iter()
        .position(|(c, _)| *c == cause)
        .unwrap_or(CAUSE_COLORS.len())
}

/// A piece of a fix step: commands are quoted with backticks in the text.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    pub code: bool,
}

/// Splits "Restart it: `systemctl restart amavis`." into text and code
/// pieces, so the template can put commands in `<code>` without ever
/// treating the text as markup.
pub fn segments(step: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    for (i, piece) in step.split('`').enumerate() {
        if !piece.is_empty() {
            out.push(Segment {
                text: piece.to_string(),
                code: i % 2 == 1,
            });
        }
    }
    out
}

/// Lookup and removal portals whose links the report may make clickable.
const DELISTING_HOSTS: &[&str] = &[
    "check.spamhaus.org",
    "www.spamhaus.org",
    "www.spamcop.net",
    "www.barracudacentral.org",
    "barracudacentral.org",
    "sender.office.com",
    "www.uceprotect.net",
    "ipcheck.proofpoint.com",
    "www.mimecast.com",
    "ers.trendmicro.com",
    "postmaster.google.com",
    "support.google.com",
    "senders.yahooinc.com",
    "help.yahoo.com",
    "csi.cloudmark.com",
    "www.spamrats.com",
    "www.abuseat.org",
    "www.sorbs.net",
];

/// The URL as a link target when it is `https://` to a known portal and has
/// nothing odd in it (credentials, ports, spaces, quotes); otherwise `None`
/// and the report shows it as text.
pub fn safe_delisting_link(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://")?;
    if url.len() > 300
        || url
            .bytes()
            .any(|b| b <= b' ' || b >= 0x7f || b"\"'<>\\`".contains(&b))
    {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    DELISTING_HOSTS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(host))
        .then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_steps_split_into_text_and_commands() {
        let s = segments("Restart it and Postfix: `systemctl restart amavis && postfix reload`; read `journalctl -u amavis`.");
        assert_eq!(s.len(), 5);
        assert!(s[1].code && s[1].text == "systemctl restart amavis && postfix reload");
        assert!(!s[2].code && s[2].text == "; read ");
        assert!(s[3].code && !s[4].code);
        assert_eq!(segments("no command").len(), 1);
    }

    #[test]
    fn only_known_portals_become_links() {
        assert!(safe_delisting_link("https://check.spamhaus.org/").is_some());
        assert!(safe_delisting_link("https://www.spamcop.net/bl.shtml?198.51.100.25").is_some());
        for bad in [
            "javascript:alert(1)",
            "http://check.spamhaus.org/",
            "https://check.spamhaus.org.evil.example/",
            "https://evil.example/?check.spamhaus.org",
            "https://user@check.spamhaus.org/",
            "https://check.spamhaus.org:8443/",
            "https://check.spamhaus.org/\"onmouseover=alert(1)",
            "https://check.spamhaus.org/ x",
        ] {
            assert_eq!(safe_delisting_link(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_cause_has_a_distinct_colour() {
        let mut seen: Vec<&str> = CAUSE_COLORS.iter().map(|(_, c)| *c).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), CAUSE_COLORS.len());
        assert_eq!(cause_color("blacklisted"), "#882255");
        assert_eq!(cause_rank("port25_blocked"), 0);
    }

    #[test]
    fn extra_file_names_stay_in_the_folder() {
        assert!(check_file_name("suspect-1-queued-ids.txt").is_ok());
        for bad in ["../x", "a/b", ".hidden", "", "a\\b"] {
            assert!(check_file_name(bad).is_err(), "{bad}");
        }
    }
}
