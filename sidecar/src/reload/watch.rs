//! Watching the flags file: the directory is watched (so saves by rename,
//! ConfigMap `..data` symlink swaps and delete-then-recreate are all seen),
//! bursts of events are debounced, and each quiet moment triggers one
//! [`Store::reload`] on a blocking thread. An optional poll covers
//! filesystems that send no events; [`Trigger`] asks for a reload (SIGHUP).
//!
//! The directory's parent is watched too, so a directory that is deleted
//! and made again (a volume remounted, a deploy that replaces the folder)
//! is watched again as soon as it is back; while it is gone, it is looked
//! for once a second.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::store::Store;

/// How long the directory must be quiet before a reload.
pub const DEBOUNCE: Duration = Duration::from_millis(50);

/// The longest a reload waits under a continuous stream of events.
const MAX_DELAY: Duration = Duration::from_millis(150);

/// How often a missing directory is looked for.
const MISSING_DIR_CHECK: Duration = Duration::from_secs(1);

/// Keeps the watch alive; dropping it stops watching.
pub struct WatchHandle {
    trigger: Trigger,
}

impl WatchHandle {
    /// Something that asks for a reload, as a change on disk would.
    pub fn trigger(&self) -> Trigger {
        self.trigger.clone()
    }
}

/// Asks the watch for a reload.
#[derive(Clone)]
pub struct Trigger(mpsc::UnboundedSender<()>);

impl Trigger {
    /// Re-read the file (debounced with any change in flight).
    pub fn reload(&self) {
        let _ = self.0.send(());
    }
}

/// Start watching `store`'s file, reloading on change (and every
/// `poll_interval`, if given).
pub fn spawn(store: Arc<Store>, poll_interval: Option<Duration>) -> Result<WatchHandle> {
    let (tx, rx) = mpsc::unbounded_channel::<()>();
    let dir = watched_dir(store.path());
    let inside = dir.clone();
    let watch_tx = tx.clone();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
        Ok(e) if e.kind.is_access() => {}
        // The parent's other entries are none of our business.
        Ok(e) if !e.paths.is_empty() && !e.paths.iter().any(|p| p.starts_with(&inside)) => {}
        Ok(_) => {
            let _ = watch_tx.send(());
        }
        Err(e) => tracing::warn!(error = %e, "file watch error"),
    })
    .context("cannot start watching files")?;
    let mut directory = Directory { path: dir, watcher, watching: None };
    if let Some(parent) = directory.path.parent() {
        // Best effort: without it, a recreated directory is found by the once-a-second check.
        let _ = directory.watcher.watch(parent, RecursiveMode::NonRecursive);
    }
    match directory.rewatch() {
        Ok(()) => tracing::info!(directory = %directory.path.display(), "watching for changes"),
        Err(e) if poll_interval.is_some() => {
            tracing::warn!(directory = %directory.path.display(), error = %e, "cannot watch the directory; polling only");
        }
        Err(e) => {
            return Err(e).with_context(|| {
                format!(
                    "cannot watch {} (use --poll-interval on filesystems without change events)",
                    directory.path.display()
                )
            });
        }
    }
    if let Some(every) = poll_interval {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if tx.send(()).is_err() {
                    break;
                }
            }
        });
    }
    tokio::spawn(debounce_and_reload(store, directory, rx));
    Ok(WatchHandle { trigger: Trigger(tx) })
}

/// The watched directory: its path, the watcher, and the identity (device
/// and inode) of the directory being watched, if any.
struct Directory {
    path: PathBuf,
    watcher: RecommendedWatcher,
    watching: Option<(u64, u64)>,
}

impl Directory {
    /// Watch the directory again when it is not the one being watched (it
    /// was deleted and made again, or it was missing); forget it when it is gone.
    fn rewatch(&mut self) -> notify::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let now = std::fs::metadata(&self.path).ok().filter(|m| m.is_dir()).map(|m| (m.dev(), m.ino()));
        if now == self.watching {
            return Ok(());
        }
        if self.watching.take().is_some() {
            let _ = self.watcher.unwatch(&self.path);
        }
        if now.is_some() {
            self.watcher.watch(&self.path, RecursiveMode::NonRecursive)?;
            self.watching = now;
            Ok(())
        } else {
            Err(notify::Error::path_not_found().add_path(self.path.clone()))
        }
    }
}

/// The directory holding the file (the current directory for a bare name),
/// made absolute so that its parent is known.
fn watched_dir(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::path::absolute(&dir).unwrap_or(dir)
}

async fn debounce_and_reload(store: Arc<Store>, mut directory: Directory, mut rx: mpsc::UnboundedReceiver<()>) {
    loop {
        // While the directory is missing, look for it once a second.
        let next = if directory.watching.is_some() {
            rx.recv().await
        } else {
            match tokio::time::timeout(MISSING_DIR_CHECK, rx.recv()).await {
                Ok(next) => next,
                Err(_) => Some(()),
            }
        };
        if next.is_none() {
            return;
        }
        let started = tokio::time::Instant::now();
        // Wait for a quiet moment, but not forever.
        loop {
            let deadline = (tokio::time::Instant::now() + DEBOUNCE).min(started + MAX_DELAY);
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(())) if tokio::time::Instant::now() < started + MAX_DELAY => continue,
                Ok(None) => return,
                _ => break,
            }
        }
        let was_watching = directory.watching.is_some();
        match directory.rewatch() {
            Ok(()) if !was_watching => {
                tracing::info!(directory = %directory.path.display(), "the directory is back: watching it again");
            }
            Ok(()) => {}
            Err(e) if was_watching => {
                tracing::warn!(directory = %directory.path.display(), error = %e, "the directory is gone; looking for it once a second");
            }
            Err(_) => {
                // Still missing; the file in service stays.
                continue;
            }
        }
        let store = store.clone();
        match tokio::task::spawn_blocking(move || store.reload()).await {
            Ok(outcome) => tracing::debug!(?outcome, "reload"),
            Err(e) => tracing::error!(error = %e, "reload task failed"),
        }
    }
}
