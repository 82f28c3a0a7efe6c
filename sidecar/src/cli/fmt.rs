//! `burgee-sidecar fmt FILE… [--check]`: rewrite valid flags files in the
//! canonical form the editor writes (like `cargo fmt`), atomically.

use std::path::Path;

use anyhow::Result;
use burgee_rules::{load, serialize};

/// Format (or with `check`, only compare) each file. `Ok(false)` when a file
/// is invalid, or with `check`, when one would change.
pub fn run(files: &[impl AsRef<Path>], check: bool) -> Result<bool> {
    let mut ok = true;
    for path in files {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = crate::files::read(path)?;
        let loaded = match load(&text) {
            Ok(l) => l,
            Err(rejected) => {
                for d in rejected.errors() {
                    eprintln!("{}", super::check::human_line(&shown, d));
                }
                eprintln!("{shown}: not formatted: fix the errors first");
                ok = false;
                continue;
            }
        };
        let canonical = serialize::to_string(&loaded.file);
        if canonical == text {
            continue;
        }
        if check {
            let line = text
                .lines()
                .zip(canonical.lines())
                .position(|(a, b)| a != b)
                .map_or_else(|| text.lines().count().min(canonical.lines().count()) + 1, |i| i + 1);
            println!(
                "{shown}: not in canonical form (first difference at line {line}); run `burgee-sidecar fmt {shown}`"
            );
            ok = false;
        } else {
            crate::files::write_atomically(path, &canonical)?;
            println!("{shown}: formatted");
        }
    }
    Ok(ok)
}
