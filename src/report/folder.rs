//! The report folder on disk: written whole or not at all, and replaced
//! (`--force`) only when it is a folder this tool wrote.
//!
//! A folder counts as ours when it holds the marker file this module writes
//! and nothing but the files that marker lists: a folder that also holds an
//! operator's notes, a subfolder or one of the run's inputs is never
//! replaced, whatever else it holds (`report.html` alone proves nothing).
//! Replacing moves the old folder aside first and removes it only once the
//! new one is in place, so a failure at any step leaves one of the two.

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

use crate::Error;

/// The marker: its first line says what wrote the folder, the others name
/// the files written.
pub const MARKER: &str = ".postmortem-report";
const MARKER_HEAD: &str = "postmortem report folder; files written:";
/// A marker is a few hundred bytes (a few hundred kilobytes with event
/// tables of many days); a huge one is not ours.
const MARKER_MAX: u64 = 4 << 20;

/// Writes more files (the event tables, in subfolders) into the folder
/// being made, and returns their paths relative to it (`/`-separated).
pub type MoreFiles<'a> = &'a mut dyn FnMut(&Path) -> crate::Result<Vec<String>>;

/// `path` made absolute and clean: `.` and `..` resolved, the existing part
/// canonical (links followed), so `R/.`, `R/` and `./x/../R` all name `R`.
/// The last component is kept as given when it does not exist yet.
pub fn normalise(path: &Path) -> crate::Result<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io(".", e))?
            .join(path)
    };
    // Lexically first: `a/b/..` is `a` even when `b` does not exist.
    let mut clean = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    // Then canonical for the longest existing prefix.
    let mut existing = clean.clone();
    let mut tail = Vec::new();
    while !existing.exists() {
        match (existing.file_name(), existing.parent()) {
            (Some(n), Some(p)) => {
                tail.push(n.to_os_string());
                existing = p.to_path_buf();
            }
            _ => break,
        }
    }
    // The last component itself is not resolved when it is a link: the
    // check below refuses to replace a link.
    let mut out = if tail.is_empty() {
        match (existing.parent(), existing.file_name()) {
            (Some(p), Some(n)) => p.canonicalize().unwrap_or(p.to_path_buf()).join(n),
            _ => existing,
        }
    } else {
        existing.canonicalize().unwrap_or(existing)
    };
    for t in tail.into_iter().rev() {
        out.push(t);
    }
    Ok(out)
}

/// Whether `inner` is `outer` or lies below it (both normalised).
fn within(inner: &Path, outer: &Path) -> bool {
    inner.starts_with(outer)
}

/// Refuses an output folder that overlaps the inputs: inside an input
/// folder (it would be read as input next time), or holding an input (a
/// replacement would delete it).
pub fn check_against_inputs(out: &Path, inputs: &[PathBuf]) -> crate::Result<()> {
    let out_abs = normalise(out)?;
    for input in inputs {
        if input.as_os_str() == "-" {
            continue;
        }
        let in_abs = normalise(input)?;
        if input.is_dir() && within(&out_abs, &in_abs) {
            return Err(Error::OutputInsideInput {
                path: out.to_path_buf(),
                input: input.clone(),
            });
        }
        if within(&in_abs, &out_abs) {
            return Err(Error::Usage(format!(
                "the input {} is inside the report folder {}; choose another --out",
                input.display(),
                out.display()
            )));
        }
    }
    Ok(())
}

/// Why `dir` may not be replaced, if it may not.
fn refuse_replacing(dir: &Path) -> Option<String> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) => return Some(format!("cannot read it ({e})")),
    };
    if meta.file_type().is_symlink() {
        return Some("it is a link".into());
    }
    if !meta.is_dir() {
        return Some("it is not a folder".into());
    }
    let entries: Vec<std::fs::DirEntry> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.flatten().collect(),
        Err(e) => return Some(format!("cannot list it ({e})")),
    };
    if entries.is_empty() {
        return None;
    }
    let marker = dir.join(MARKER);
    let listed = match read_marker(&marker) {
        Some(l) => l,
        None => {
            return Some(format!(
                "it holds no {MARKER} file, so postmortem did not write it"
            ))
        }
    };
    let listed: std::collections::HashSet<String> = listed.into_iter().collect();
    unlisted(dir, "", &entries, &listed)
        .map(|name| format!("it holds {name}, which postmortem did not write there"))
}

/// The first entry under `dir` (`prefix` its relative path) that is not a
/// file the marker lists: a folder counts when all it holds is listed.
fn unlisted(
    dir: &Path,
    prefix: &str,
    entries: &[std::fs::DirEntry],
    listed: &std::collections::HashSet<String>,
) -> Option<String> {
    for e in entries {
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if name == MARKER {
            continue;
        }
        let kind = e.file_type().ok();
        if kind.is_some_and(|t| t.is_dir())
            && listed.iter().any(|l| l.starts_with(&format!("{name}/")))
        {
            let sub = dir.join(e.file_name());
            let inner: Vec<std::fs::DirEntry> = match std::fs::read_dir(&sub) {
                Ok(rd) => rd.flatten().collect(),
                Err(_) => return Some(name),
            };
            if let Some(n) = unlisted(&sub, &format!("{name}/"), &inner, listed) {
                return Some(n);
            }
            continue;
        }
        if !kind.is_some_and(|t| t.is_file()) || !listed.contains(&name) {
            return Some(name);
        }
    }
    None
}

/// The file names a marker lists, or `None` when it is not our marker.
fn read_marker(path: &Path) -> Option<Vec<String>> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MARKER_MAX {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    (lines.next()? == MARKER_HEAD).then(|| lines.map(str::to_string).collect())
}

/// Writes `files` as the folder `out_dir`: into a hidden sibling first,
/// renamed into place when complete. With `force`, an existing folder is
/// replaced only when this tool wrote it.
pub fn write_folder(
    out_dir: &Path,
    files: &[(String, Cow<[u8]>)],
    force: bool,
) -> crate::Result<Vec<PathBuf>> {
    write_folder_with(out_dir, files, force, None)
}

/// [`write_folder`], with `more` writing further files into the folder
/// before it is put in place.
pub fn write_folder_with(
    out_dir: &Path,
    files: &[(String, Cow<[u8]>)],
    force: bool,
    more: Option<MoreFiles<'_>>,
) -> crate::Result<Vec<PathBuf>> {
    let out_dir = normalise(out_dir)?;
    let exists = std::fs::symlink_metadata(&out_dir).is_ok();
    if exists {
        if !force {
            return Err(Error::OutputExists { path: out_dir });
        }
        if let Some(why) = refuse_replacing(&out_dir) {
            return Err(Error::Usage(format!(
                "{} is not replaced: {why}; --force only replaces a report folder postmortem wrote",
                out_dir.display()
            )));
        }
    }
    let name = out_dir.file_name().ok_or_else(|| {
        Error::Usage(format!(
            "{}: the report folder needs a name (e.g. reports/incident-42)",
            out_dir.display()
        ))
    })?;
    let parent = out_dir.parent().unwrap_or(Path::new("/")).to_path_buf();
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let sibling = |what: &str| {
        parent.join(format!(
            ".{}.{what}-{}",
            name.to_string_lossy(),
            std::process::id()
        ))
    };
    let tmp = sibling("tmp");
    if tmp.exists() {
        // Left by an earlier run of this very process id: ours to remove.
        std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    }
    std::fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let extra = match more {
        Some(f) => f(&tmp),
        None => Ok(Vec::new()),
    };
    let written = extra.and_then(|extra| write_all(&tmp, files, &extra).map(|_| extra));
    let extra = match written {
        Ok(extra) => extra,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    let old = sibling("old");
    if exists {
        if let Err(e) = std::fs::rename(&out_dir, &old) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(Error::io(&out_dir, e));
        }
    }
    if let Err(e) = std::fs::rename(&tmp, &out_dir) {
        // Put the old report back: the user keeps what they had.
        if exists {
            let _ = std::fs::rename(&old, &out_dir);
        }
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(Error::io(&out_dir, e));
    }
    if exists {
        std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
    }
    Ok(files
        .iter()
        .map(|(n, _)| n.as_str())
        .chain(extra.iter().map(String::as_str))
        .map(|n| out_dir.join(n))
        .collect())
}

fn write_all(dir: &Path, files: &[(String, Cow<[u8]>)], extra: &[String]) -> crate::Result<()> {
    use std::io::Write;
    let mut marker = String::from(MARKER_HEAD);
    for name in files.iter().map(|(n, _)| n).chain(extra) {
        marker.push('\n');
        marker.push_str(name);
    }
    marker.push('\n');
    let marker_file = (MARKER.to_string(), Cow::Owned(marker.into_bytes()));
    for (name, bytes) in files.iter().chain(std::iter::once(&marker_file)) {
        let path = dir.join(name);
        // create_new: two files of one name are a bug, not an overwrite.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        f.write_all(bytes).map_err(|e| Error::io(&path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<(String, Cow<'static, [u8]>)> {
        vec![
            ("report.html".into(), Cow::Borrowed(&b"<html>"[..])),
            ("summary.json".into(), Cow::Borrowed(&b"{}"[..])),
        ]
    }

    #[test]
    fn dot_and_dotdot_name_the_same_folder() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path().join("R");
        std::fs::create_dir(&r).unwrap();
        let want = r.canonicalize().unwrap();
        assert_eq!(normalise(&r.join(".")).unwrap(), want);
        assert_eq!(normalise(&dir.path().join("x/../R")).unwrap(), want);
        assert_eq!(
            normalise(&dir.path().join("new/./sub")).unwrap(),
            dir.path().canonicalize().unwrap().join("new/sub")
        );
    }

    #[test]
    fn replaces_only_what_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r");
        write_folder(&out, &files(), false).unwrap();
        assert!(out.join(MARKER).is_file());
        // Replaced through `r/.` too: the old report is not lost on the way.
        write_folder(&out.join("."), &files(), true).unwrap();
        assert!(out.join("summary.json").is_file());
        // An operator's file inside: refused, nothing touched.
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        let err = write_folder(&out, &files(), true).unwrap_err().to_string();
        assert!(err.contains("notes.txt"), "{err}");
        assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), b"mine");
        // A report.html alone does not make a folder ours.
        let other = dir.path().join("o");
        std::fs::create_dir_all(other.join("logs")).unwrap();
        std::fs::write(other.join("report.html"), "old").unwrap();
        assert!(write_folder(&other, &files(), true).is_err());
        assert!(other.join("logs").is_dir());
        // Nothing left behind beside the folders.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    }

    #[test]
    fn inputs_inside_the_report_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r");
        std::fs::create_dir_all(out.join("logs")).unwrap();
        let log = out.join("mail.log");
        std::fs::write(&log, "x").unwrap();
        assert!(check_against_inputs(&out, &[log]).is_err());
        assert!(check_against_inputs(&out, &[out.join("logs")]).is_err());
        assert!(check_against_inputs(&out.join("logs/r"), &[out.join("logs")]).is_err());
        assert!(
            check_against_inputs(&dir.path().join("elsewhere"), std::slice::from_ref(&out)).is_ok()
        );
    }
}
