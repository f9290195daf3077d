//! One table written Hive-style, `TABLE/host=H/date=D/part-N.parquet` (and
//! `.csv` on request), a row group at a time: rows are buffered per
//! partition and written when a partition's buffer fills or when all
//! buffers together hold too many rows, so memory stays flat however many
//! rows go through.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;
use polars_io::parquet::write::{
    BatchedWriter, KeyValueMetadata, ParquetCompression, ParquetWriter, StatisticsOptions,
};

use super::frame::{Batch, Row, Schema};

/// Rows per row group (and per CSV batch).
pub const GROUP_ROWS: usize = 16_384;
/// Rows buffered across all open partitions of a table.
const BUFFERED_MAX: usize = 2 * GROUP_ROWS;
/// Partitions written to at once; the least recently used is closed past
/// it (its later rows go to a new part file).
const OPEN_MAX: usize = 32;

/// Which files a table is written as.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Formats {
    pub parquet: bool,
    pub csv: bool,
}

struct Part {
    batch: Batch,
    parquet: Option<BatchedWriter<File>>,
    csv: Option<BufWriter<File>>,
    csv_header: bool,
    last_use: u64,
    /// Relative paths of its files, for the report's marker.
    files: Vec<String>,
}

/// A table being written under `root/NAME/`.
pub struct Partitioned {
    name: &'static str,
    schema: Schema,
    root: PathBuf,
    formats: Formats,
    schema_version: u32,
    open: HashMap<(String, String), Part>,
    next_part: HashMap<(String, String), u32>,
    buffered: usize,
    tick: u64,
    /// Relative paths written (closed parts).
    pub written: Vec<String>,
    pub rows: u64,
}

fn err(what: &str, e: impl std::fmt::Display) -> crate::Error {
    crate::Error::Report {
        what: what.to_string(),
        message: e.to_string(),
    }
}

/// A partition value as a folder name: `/`, `=` and control characters
/// escaped as Hive does (`%2F`), never `.` or `..`.
pub fn partition_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '+' | '@') {
            out.push(c);
        } else {
            let mut b = [0; 4];
            for byte in c.encode_utf8(&mut b).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    if out.is_empty() || out.chars().all(|c| c == '.') {
        out = out.replace('.', "%2E");
        if out.is_empty() {
            out.push_str("__HIVE_DEFAULT_PARTITION__");
        }
    }
    out
}

impl Partitioned {
    pub fn new(
        root: &Path,
        name: &'static str,
        schema: Schema,
        formats: Formats,
        schema_version: u32,
    ) -> Partitioned {
        Partitioned {
            name,
            schema,
            root: root.to_path_buf(),
            formats,
            schema_version,
            open: HashMap::new(),
            next_part: HashMap::new(),
            buffered: 0,
            tick: 0,
            written: Vec::new(),
            rows: 0,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// A row of the partition (host, date); fill it and call `end`.
    pub fn row(&mut self, host: &str, date: &str) -> crate::Result<Row<'_>> {
        self.tick += 1;
        self.rows += 1;
        let key = (host.to_string(), date.to_string());
        if !self.open.contains_key(&key) {
            if self.open.len() >= OPEN_MAX {
                let lru = self
                    .open
                    .iter()
                    .min_by_key(|(_, p)| p.last_use)
                    .map(|(k, _)| k.clone())
                    .expect("open partitions");
                self.close(&lru)?;
            }
            let part = self.open_part(&key)?;
            self.open.insert(key.clone(), part);
        }
        if self.buffered >= BUFFERED_MAX {
            let fullest = self
                .open
                .iter()
                .max_by_key(|(_, p)| p.batch.len())
                .map(|(k, _)| k.clone())
                .expect("open partitions");
            self.flush(&fullest)?;
        }
        let full = self
            .open
            .get(&key)
            .is_some_and(|p| p.batch.len() >= GROUP_ROWS);
        if full {
            self.flush(&key)?;
        }
        self.buffered += 1;
        let tick = self.tick;
        let part = self.open.get_mut(&key).expect("opened above");
        part.last_use = tick;
        Ok(part.batch.row())
    }

    fn open_part(&mut self, key: &(String, String)) -> crate::Result<Part> {
        let n = self.next_part.entry(key.clone()).or_insert(0);
        let number = *n;
        *n += 1;
        let rel_dir = format!(
            "{}/host={}/date={}",
            self.name,
            partition_value(&key.0),
            partition_value(&key.1)
        );
        let dir = self.root.join(&rel_dir);
        std::fs::create_dir_all(&dir).map_err(|e| crate::Error::io(&dir, e))?;
        let mut files = Vec::new();
        let mut create = |ext: &str| -> crate::Result<File> {
            let rel = format!("{rel_dir}/part-{number}.{ext}");
            let path = self.root.join(&rel);
            let f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| crate::Error::io(&path, e))?;
            files.push(rel);
            Ok(f)
        };
        let parquet = if self.formats.parquet {
            // Pages are written whole: no buffer in between, so an error
            // writing the footer is seen here, not lost in a drop.
            let out = create("parquet")?;
            let schema = Batch::new(self.schema, 0)
                .take()
                .map_err(|e| err(self.name, e))?
                .schema()
                .as_ref()
                .clone();
            let meta = KeyValueMetadata::from_static(vec![
                (
                    "postmortem.schema_version".to_string(),
                    self.schema_version.to_string(),
                ),
                ("postmortem.table".to_string(), self.name.to_string()),
            ]);
            Some(
                ParquetWriter::new(out)
                    .with_compression(ParquetCompression::Zstd(None))
                    .with_statistics(StatisticsOptions::full())
                    .with_key_value_metadata(Some(meta))
                    .set_parallel(false)
                    .batched(&schema)
                    .map_err(|e| err(self.name, e))?,
            )
        } else {
            None
        };
        let csv = if self.formats.csv {
            Some(BufWriter::with_capacity(1 << 20, create("csv")?))
        } else {
            None
        };
        Ok(Part {
            batch: Batch::new(self.schema, GROUP_ROWS.min(4096)),
            parquet,
            csv,
            csv_header: true,
            last_use: 0,
            files,
        })
    }

    fn flush(&mut self, key: &(String, String)) -> crate::Result<()> {
        let name = self.name;
        let Some(part) = self.open.get_mut(key) else {
            return Ok(());
        };
        self.buffered -= part.batch.len();
        write_part(name, part)
    }

    fn close(&mut self, key: &(String, String)) -> crate::Result<()> {
        self.flush(key)?;
        if let Some(part) = self.open.remove(key) {
            self.written.extend(finish_part(self.name, part)?);
        }
        Ok(())
    }

    /// [`Partitioned::finish`]; a table without rows still gets one empty
    /// file under (host, date), so that engines find its columns.
    pub fn finish_or_empty(mut self, host: &str, date: &str) -> crate::Result<Vec<String>> {
        if self.written.is_empty() && self.open.is_empty() {
            let key = (host.to_string(), date.to_string());
            let part = self.open_part(&key)?;
            self.open.insert(key, part);
        }
        self.finish()
    }

    /// Writes what is buffered and closes every file; returns the relative
    /// paths written.
    pub fn finish(mut self) -> crate::Result<Vec<String>> {
        let keys: Vec<(String, String)> = self.open.keys().cloned().collect();
        for k in keys {
            self.close(&k)?;
        }
        self.written.sort();
        Ok(self.written)
    }
}

fn write_part(name: &str, part: &mut Part) -> crate::Result<()> {
    if part.batch.is_empty() {
        return Ok(());
    }
    let mut df: DataFrame = part.batch.take().map_err(|e| err(name, e))?;
    if let Some(w) = part.parquet.as_mut() {
        w.write_batch(&df).map_err(|e| err(name, e))?;
    }
    if let Some(out) = part.csv.as_mut() {
        crate::report::csv::append_frame(&mut df, out, part.csv_header, name)?;
        part.csv_header = false;
    }
    Ok(())
}

fn finish_part(name: &str, mut part: Part) -> crate::Result<Vec<String>> {
    write_part(name, &mut part)?;
    if let Some(w) = part.parquet.take() {
        w.finish().map_err(|e| err(name, e))?;
    }
    if let Some(mut out) = part.csv.take() {
        use std::io::Write;
        if part.csv_header {
            // No row at all: the header alone.
            let mut empty = Batch::new(part.batch.schema(), 0)
                .take()
                .map_err(|e| err(name, e))?;
            crate::report::csv::append_frame(&mut empty, &mut out, true, name)?;
        }
        out.flush().map_err(|e| err(name, e))?;
    }
    Ok(part.files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_stay_one_folder() {
        assert_eq!(partition_value("mail.example.com"), "mail.example.com");
        assert_eq!(partition_value("a/b"), "a%2Fb");
        assert_eq!(partition_value(".."), "%2E%2E");
        assert_eq!(partition_value("x=y"), "x%3Dy");
        assert_eq!(partition_value(""), "__HIVE_DEFAULT_PARTITION__");
    }
}
