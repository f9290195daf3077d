//! Reading a queue dump whole: plain or gzip, a file or stdin, bounded.
//!
//! A dump is parsed as one piece (a message's lines wrap, and the closing
//! `-- N Kbytes in M Requests.` line checks the whole), so it is read into
//! memory, up to [`DUMP_MAX`]: `postqueue -p` of a million queued messages
//! is about 200 MB.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::Error;

/// The most a dump may hold once decompressed.
pub const DUMP_MAX: u64 = 2 << 30;

/// A queue dump's bytes, decompressed.
#[derive(Debug)]
pub struct DumpFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub mtime: Option<SystemTime>,
    pub compressed: bool,
    /// Reading stopped early (corrupt gzip, too large): what came before is
    /// in `bytes`.
    pub cut: Option<Error>,
}

/// Reads the dump at `path` (`-` is stdin); an error only when nothing at
/// all could be read.
pub fn read_dump(path: &Path) -> Result<DumpFile, Error> {
    let (reader, mtime): (Box<dyn Read>, Option<SystemTime>) = if path.as_os_str() == "-" {
        (Box::new(io::stdin().lock()), None)
    } else {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            return Err(Error::Usage(format!(
                "{}: a folder, not a queue dump",
                path.display()
            )));
        }
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        (Box::new(file), meta.modified().ok())
    };
    let mut input = io::BufReader::with_capacity(1 << 16, reader);
    let compressed = {
        use io::BufRead;
        input
            .fill_buf()
            .map(|b| b.starts_with(&[0x1f, 0x8b]))
            .unwrap_or(false)
    };
    let mut bytes = Vec::new();
    let read = if compressed {
        super::gzip::GzReader::new(input)
            .take(DUMP_MAX + 1)
            .read_to_end(&mut bytes)
    } else {
        input.take(DUMP_MAX + 1).read_to_end(&mut bytes)
    };
    let mut cut = match read {
        Ok(_) => None,
        Err(e) if bytes.is_empty() => return Err(Error::io(path, e)),
        Err(e) if compressed => Some(Error::Gzip {
            path: path.to_path_buf(),
            offset: bytes.len() as u64,
            message: e.to_string(),
        }),
        Err(e) => Some(Error::io(path, e)),
    };
    if bytes.len() as u64 > DUMP_MAX {
        bytes.truncate(DUMP_MAX as usize);
        cut = Some(Error::Usage(format!(
            "{}: larger than {} GiB; only its start was read",
            path.display(),
            DUMP_MAX >> 30
        )));
    }
    Ok(DumpFile {
        path: path.to_path_buf(),
        bytes,
        mtime,
        compressed,
        cut,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_and_plain_read_alike() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let text = b"-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n";
        let plain = dir.path().join("q.txt");
        std::fs::write(&plain, text).unwrap();
        let gz = dir.path().join("q.txt.gz");
        let mut enc =
            flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), Default::default());
        enc.write_all(text).unwrap();
        enc.finish().unwrap();
        let a = read_dump(&plain).unwrap();
        let b = read_dump(&gz).unwrap();
        assert_eq!(a.bytes, b.bytes);
        assert!(!a.compressed && b.compressed);
        assert!(a.cut.is_none() && b.cut.is_none());
        // Cut short: the start is kept and the cut said.
        let whole = std::fs::read(&gz).unwrap();
        std::fs::write(&gz, &whole[..whole.len() - 10]).unwrap();
        let c = read_dump(&gz).unwrap();
        assert!(c.cut.is_some());
        assert!(read_dump(dir.path()).is_err());
    }
}
