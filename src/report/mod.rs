//! Reports (stub: the real exporters replace this file).
use crate::model::Summary;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default)]
pub struct RedactOptions {
    pub salt: String,
    pub keep: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    pub force: bool,
    pub redact: Option<RedactOptions>,
    pub time_label: String,
    pub extra_files: Vec<(String, Vec<u8>)>,
}

pub fn write_report(summary: &Summary, out_dir: &Path, _opts: &ReportOptions) -> crate::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out_dir).map_err(|e| crate::Error::io(out_dir, e))?;
    let p = out_dir.join("summary.json");
    std::fs::write(&p, serde_json::to_string_pretty(summary).unwrap()).map_err(|e| crate::Error::io(&p, e))?;
    Ok(vec![p])
}

pub fn render_terminal(summary: &Summary, _color: bool) -> String {
    serde_json::to_string_pretty(&summary.headline).unwrap()
}

pub fn use_color(t: bool) -> bool {
    t
}
