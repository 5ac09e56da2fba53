//! The error type of the reports crate: conditions a caller can cause (unreadable or
//! unwritable paths, malformed CSV or JSON, a directory that is not a complete run).
//!
//! Bad simulation input never panics here: odd observations are counted as anomalies by the
//! oracle, and odd numbers are written as empty cells.

use std::io;
use std::path::{Path, PathBuf};

/// Everything that can go wrong while writing or reading reports.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or directory could not be read, written, created or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// A CSV file could not be written or parsed.
    #[error("{}: CSV: {source}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The CSV error (with line information when reading).
        source: csv::Error,
    },
    /// A JSON file could not be written or parsed.
    #[error("{}: JSON: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// A path that must be a directory is not one.
    #[error("{}: not a directory", path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// A file that must exist does not (for example a run directory without its marker).
    #[error("{}: missing {what}", path.display())]
    Missing {
        /// Where it was looked for.
        path: PathBuf,
        /// What is missing.
        what: String,
    },
    /// A file exists but its content is not what this crate writes.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A plot could not be drawn.
    #[error("plot {name}: {message}")]
    Plot {
        /// The plot's file name.
        name: String,
        /// The drawing error.
        message: String,
    },
}

impl ReportError {
    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        ReportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn csv(path: &Path, source: csv::Error) -> Self {
        ReportError::Csv {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn json(path: &Path, source: serde_json::Error) -> Self {
        ReportError::Json {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn invalid(path: &Path, message: impl Into<String>) -> Self {
        ReportError::Invalid {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}
