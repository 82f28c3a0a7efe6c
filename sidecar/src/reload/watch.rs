//! Watching the flags file: the directory is watched (so saves by rename,
//! ConfigMap `..data` symlink swaps and delete-then-recreate are all seen),
//! bursts of events are debounced, and each quiet moment triggers one
//! [`Store::reload`] on a blocking thread. An optional poll covers
//! filesystems that send no events.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::store::Store;

/// How long the directory must be quiet before a reload.
pub const DEBOUNCE: Duration = Duration::from_millis(50);

/// The longest a reload waits under a continuous stream of events.
const MAX_DELAY: Duration = Duration::from_millis(150);

/// Keeps the watch alive; dropping it stops watching.
pub struct WatchHandle {
    _watcher: Option<notify::RecommendedWatcher>,
}

/// Start watching `store`'s file, reloading on change (and every
/// `poll_interval`, if given).
pub fn spawn(store: Arc<Store>, poll_interval: Option<Duration>) -> Result<WatchHandle> {
    let (tx, rx) = mpsc::unbounded_channel::<()>();
    let dir = watched_dir(store.path());
    let watch_tx = tx.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
        Ok(e) if e.kind.is_access() => {}
        Ok(_) => {
            let _ = watch_tx.send(());
        }
        Err(e) => tracing::warn!(error = %e, "file watch error"),
    })
    .context("cannot start watching files")?;
    let watcher = match watcher.watch(&dir, RecursiveMode::NonRecursive) {
        Ok(()) => {
            tracing::info!(directory = %dir.display(), "watching for changes");
            Some(watcher)
        }
        Err(e) if poll_interval.is_some() => {
            tracing::warn!(directory = %dir.display(), error = %e, "cannot watch the directory; polling only");
            None
        }
        Err(e) => {
            return Err(e).with_context(|| {
                format!("cannot watch {} (use --poll-interval on filesystems without change events)", dir.display())
            });
        }
    };
    if let Some(every) = poll_interval {
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
    tokio::spawn(debounce_and_reload(store, rx));
    Ok(WatchHandle { _watcher: watcher })
}

/// The directory holding the file (the current directory for a bare name).
fn watched_dir(path: &Path) -> std::path::PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    }
}

async fn debounce_and_reload(store: Arc<Store>, mut rx: mpsc::UnboundedReceiver<()>) {
    while rx.recv().await.is_some() {
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
        let store = store.clone();
        match tokio::task::spawn_blocking(move || store.reload()).await {
            Ok(outcome) => tracing::debug!(?outcome, "reload"),
            Err(e) => tracing::error!(error = %e, "reload task failed"),
        }
    }
}
