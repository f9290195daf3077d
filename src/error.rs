//! Typed errors with the context a user needs to act: the file, the line or
//! byte offset, and what to do.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}{}", io_hint(.source))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: corrupt or truncated gzip data after {offset} decompressed bytes: {message}; the lines before it were analyzed; copy the file again from the server (`gzip -t FILE` checks a copy)")]
    Gzip {
        path: PathBuf,
        offset: u64,
        message: String,
    },
    #[error(
        "no maillog found in {searched}; try `postmortem analyze samples/` or name the log files"
    )]
    NoInput { searched: String },
    #[error("{path}:{line}: {message}")]
    Syntax {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("output folder {path} already exists; choose another --out or add --force")]
    OutputExists { path: PathBuf },
    #[error("output folder {path} is inside the input folder {input}; choose another --out")]
    OutputInsideInput { path: PathBuf, input: PathBuf },
    #[error("{0}")]
    Usage(String),
    #[error("writing {what}: {message}")]
    Report { what: String, message: String },
}

/// What to do about a file we could not read.
fn io_hint(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => {
            "; run as a user who may read it, or copy it readable (`sudo cp FILE . && sudo chown $USER FILE`)"
        }
        std::io::ErrorKind::NotFound => "; check the path (a link to nothing shows the same)",
        _ => "",
    }
}

impl Error {
    /// The reader of our output went away (`postmortem queue ... | head`):
    /// not a failure to report.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
