//! `burgee-files`: the disk side of a flags file, shared by the sidecar
//! (`fmt`) and the editor (save): reading it, and replacing it atomically —
//! a temporary file in the same directory, fsynced, renamed over the old one
//! — so a watcher (the sidecar) never sees half a file.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why a flags file could not be read or written.
#[derive(Debug, Error)]
pub enum FileError {
    /// Reading failed.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Writing (the temporary file, its sync, or the rename) failed; the old
    /// file is untouched.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// The file's text.
pub fn read(path: &Path) -> Result<String, FileError> {
    fs::read_to_string(path).map_err(|source| FileError::Read { path: path.to_path_buf(), source })
}

/// Replace the file at `path` with `text` in one rename. A symlink (such as a
/// Kubernetes ConfigMap's) is followed: its target is replaced, not the link.
/// The file keeps its permissions. On any failure the old file is untouched
/// and no temporary file is left behind.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), FileError> {
    let target: PathBuf = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let failed = |source| FileError::Write { path: path.to_path_buf(), source };
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".burgee-").suffix(".tmp").tempfile_in(dir).map_err(failed)?;
    tmp.write_all(text.as_bytes()).map_err(failed)?;
    if let Ok(meta) = fs::metadata(&target) {
        tmp.as_file().set_permissions(meta.permissions()).map_err(failed)?;
    }
    tmp.as_file().sync_all().map_err(failed)?;
    tmp.persist(&target).map_err(|e| failed(e.error))?;
    // Make the rename itself durable.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_by_rename_and_leaves_nothing_behind() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flags.json");
        fs::write(&path, "old").unwrap();
        let inode = fs::metadata(&path).unwrap().ino();
        write_atomically(&path, "new").unwrap();
        assert_eq!(read(&path).unwrap(), "new");
        assert_ne!(fs::metadata(&path).unwrap().ino(), inode);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing_dir = dir.path().join("nope").join("flags.json");
        let err = write_atomically(&missing_dir, "x").unwrap_err();
        assert!(err.to_string().starts_with("cannot write "), "{err}");
    }
}
