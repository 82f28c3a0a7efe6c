//! The sidecar's file I/O: [`burgee_files`] with errors for `anyhow`.

use std::path::Path;

use anyhow::Result;

/// The file's text.
pub fn read(path: &Path) -> Result<String> {
    Ok(burgee_files::read(path)?)
}

/// Replace the file atomically (see [`burgee_files::write_atomically`]).
pub fn write_atomically(path: &Path, text: &str) -> Result<()> {
    Ok(burgee_files::write_atomically(path, text)?)
}
