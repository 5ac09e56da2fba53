//! Atomic file output: every report file is written to `<name>.tmp` in the same directory,
//! flushed and fsynced, then renamed over `<name>`, and the directory is fsynced.
//!
//! A reader therefore sees either the previous file or the complete new one, never a partial
//! file; a writer that fails halfway removes its temporary file and leaves `<name>` untouched.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::ReportError;

/// The temporary path used while `path` is being written (`<name>.tmp`, same directory).
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes `path` atomically: `fill` writes the content into a buffered temporary file, which
/// is then fsynced and renamed over `path`. On any error (including one returned by `fill`)
/// the temporary file is removed and `path` is left as it was.
pub fn write_atomic<F>(path: &Path, fill: F) -> Result<(), ReportError>
where
    F: FnOnce(&mut BufWriter<File>) -> Result<(), ReportError>,
{
    let tmp = temp_path(path);
    let result = write_then_rename(path, &tmp, fill);
    if result.is_err() {
        // Best effort: the temporary file may not even exist.
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to `path` atomically.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    write_atomic(path, |w| {
        w.write_all(bytes).map_err(|e| ReportError::io(path, e))
    })
}

fn write_then_rename<F>(path: &Path, tmp: &Path, fill: F) -> Result<(), ReportError>
where
    F: FnOnce(&mut BufWriter<File>) -> Result<(), ReportError>,
{
    let file = File::create(tmp).map_err(|e| ReportError::io(tmp, e))?;
    let mut writer = BufWriter::new(file);
    fill(&mut writer)?;
    let file = writer
        .into_inner()
        .map_err(|e| ReportError::io(tmp, e.into_error()))?;
    file.sync_all().map_err(|e| ReportError::io(tmp, e))?;
    drop(file);
    fs::rename(tmp, path).map_err(|e| ReportError::io(path, e))?;
    sync_parent(path);
    Ok(())
}

/// Fsyncs the directory holding `path` so the rename itself is durable. Best effort: some
/// platforms cannot open a directory for syncing, and the data is already safe in the file.
fn sync_parent(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(parent) {
        let _ = dir.sync_all();
    }
}

/// Creates `dir` (and its parents) if needed, failing if it exists as a non-directory.
pub fn ensure_dir(dir: &Path) -> Result<(), ReportError> {
    if dir.exists() && !dir.is_dir() {
        return Err(ReportError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, e))
}
