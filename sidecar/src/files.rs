//! The sidecar's file I/O: [`burgee_files`] with errors for `anyhow`, and
//! a flags file's text read on two threads ([`OnTwoThreads`]).

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

/// A [`burgee_rules::parse::Join`] on two threads: reading a flags file's
/// text, the duplicate-key pass runs beside the parse into the model (on
/// the 20 MB file of `bench/scale.sh`, about 80 ms of its 300 ms). When no
/// thread can be started, both run here, one after the other.
pub struct OnTwoThreads;

impl burgee_rules::parse::Join for OnTwoThreads {
    fn join<A: Send, B: Send>(&self, a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
        let a = std::sync::Mutex::new(Some(a));
        let (ran, b) = std::thread::scope(|scope| {
            let run_a = || a.lock().ok().and_then(|mut a| a.take()).map(|a| a());
            let spawned = std::thread::Builder::new().name("burgee-read".into()).spawn_scoped(scope, run_a);
            let b = b();
            let ran = spawned.ok().map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
            (ran.flatten(), b)
        });
        match ran {
            Some(a) => (a, b),
            None => {
                // The thread could not start: `a` is still here.
                let a = a.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
                (a.map(|a| a()).unwrap_or_else(|| unreachable!("`a` runs once")), b)
            }
        }
    }
}
