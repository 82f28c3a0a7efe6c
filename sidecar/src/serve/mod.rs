//! `burgee-sidecar serve`: the HTTP server on hyper and tokio. It binds,
//! loads the file, starts the watch, accepts connections until SIGTERM or
//! SIGINT, then stops accepting and lets requests in flight finish. SIGHUP
//! re-reads the file. With `--health-listen`, a second listener serves only
//! health, readiness and metrics.

pub mod app;
pub mod body;
pub mod error;
pub mod evaluate;
pub mod events;
pub mod health;
pub mod routes;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::metrics::Metrics;
use crate::reload::store::{Outcome, Store};
use crate::reload::watch;
use app::App;

/// The default address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8016";

/// How long a client may take to send its request headers, by default
/// (`--header-read-timeout`, hidden, changes it). It also closes a connection
/// that stays idle this long between requests.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a write may stay pending (the client does not read) before the
/// connection is closed, by default (`--write-timeout`, hidden, changes it).
/// So a client that stops reading an event stream or a big answer gives its
/// connection back.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// The kernel send buffer asked for each connection (Linux doubles it). The
/// kernel would otherwise grow it to 4 MiB for a client that does not read;
/// bounded, a stuck client soon stops taking bytes, its event stream falls
/// behind and ends, and [`WRITE_TIMEOUT`] closes its connection. Loopback
/// clients that read see no difference.
const SEND_BUFFER: usize = 128 * 1024;

/// How many connections are served at once, by default (`--max-connections`).
pub const MAX_CONNECTIONS: usize = 4096;

/// How long shutdown waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The server's settings, from the command line.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The flags file.
    pub file: PathBuf,
    /// Where to listen.
    pub listen: SocketAddr,
    /// The environment served when a request names none.
    pub environment: Option<String>,
    /// Bearer token required on every request but `/healthz`.
    pub token: Option<String>,
    /// Origins that get CORS headers.
    pub cors_origins: Vec<String>,
    /// Also re-read the file this often (for filesystems without events).
    pub poll_interval: Option<Duration>,
    /// Start without a valid file, answering 503 on `/readyz` until one appears.
    pub wait_for_file: bool,
    /// How long a client may take to send its request headers.
    pub header_read_timeout: Duration,
    /// How long the body may take after the headers.
    pub body_read_timeout: Duration,
    /// How long a write may stay pending before the connection is closed.
    pub write_timeout: Duration,
    /// How many connections are open at once; past this, new ones wait to be accepted.
    pub max_connections: usize,
    /// Names besides loopback ones a request's `Host` may give (without a token).
    pub allowed_hosts: Vec<String>,
    /// How many event streams may be open at once.
    pub max_streams: usize,
    /// A flags file bigger than this is rejected unread.
    pub max_file_size: u64,
    /// Where to serve only `/healthz`, `/readyz` and `/metrics`, if anywhere.
    pub health_listen: Option<SocketAddr>,
}

/// Run the server until a shutdown signal.
pub async fn run(config: ServeConfig) -> Result<()> {
    if !config.listen.ip().is_loopback() && config.token.is_none() {
        bail!(
            "listening on {} reaches beyond this host: give a --token (or BURGEE_TOKEN) that clients must send",
            config.listen
        );
    }
    let metrics = Arc::new(Metrics::new());
    let store = Arc::new(
        Store::new(config.file.clone(), config.environment.clone(), metrics.clone())
            .with_max_file_size(config.max_file_size),
    );
    let first = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || store.reload()).await?
    };
    if first != Outcome::Accepted {
        if config.wait_for_file {
            tracing::warn!(file = %config.file.display(), "no valid flags file yet; /readyz answers 503 until one appears");
        } else {
            // Printed as well as logged: a log filter must not hide why we stopped.
            let shown = config.file.display().to_string();
            let errors = store.status().rejection.map(|r| r.errors).unwrap_or_default();
            for e in errors {
                let place = if e.pointer.is_empty() { String::new() } else { format!(" at {}", e.pointer) };
                crate::log::say(
                    crate::log::Stream::Stderr,
                    &format!("{shown}: error[{}]{place}: {}", e.code, e.message),
                );
            }
            bail!("{shown} cannot be served (every problem is listed above); fix it, or start with --wait-for-file");
        }
    }
    let watch = watch::spawn(store.clone(), config.poll_interval)?;
    // The handler is in place before the address is printed: a SIGHUP sent
    // as soon as the server says it listens must not find the default
    // action (which ends the process).
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(hangups) => {
            tokio::spawn(reload_on_sighup(hangups, watch.trigger()));
        }
        Err(e) => tracing::warn!(error = %e, "cannot handle SIGHUP; it will not reload the file"),
    }
    let mut signal = std::pin::pin!(shutdown_signal());

    let listener =
        TcpListener::bind(config.listen).await.with_context(|| format!("cannot listen on {}", config.listen))?;
    let local = listener.local_addr()?;
    let health = match config.health_listen {
        Some(addr) => {
            Some(TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr} (--health-listen)"))?)
        }
        None => None,
    };
    tracing::info!(address = %local, "listening");
    // Tests and scripts read the actual address (with --listen 127.0.0.1:0) from this line.
    crate::log::say(crate::log::Stream::Stdout, &format!("burgee-sidecar listening on http://{local}"));

    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let mut app = App::new(store, metrics, shutdown_rx.clone());
    app.token = config.token;
    app.cors_origins = config.cors_origins;
    app.allowed_hosts = config.allowed_hosts;
    app.streams = Arc::new(tokio::sync::Semaphore::new(config.max_streams.max(1)));
    app.body_read_timeout = config.body_read_timeout;
    let app = Arc::new(app);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    if let Some(health) = health {
        let address = health.local_addr()?;
        tracing::info!(address = %address, "health listener: /healthz, /readyz and /metrics only");
        crate::log::say(crate::log::Stream::Stdout, &format!("burgee-sidecar health on http://{address}"));
        tokio::spawn(serve_health(health, app.clone(), config.header_read_timeout, shutdown_rx));
    }
    // The connection limit: each connection holds a permit until it ends.
    // When none is left the server stops accepting (rather than accepting and
    // closing): new clients wait in the kernel's listen backlog and are
    // served, in order, as soon as open connections end; nothing is refused
    // that a moment's patience would not get through. Idle connections end
    // after the header read timeout, so the limit cannot be held for long
    // by clients that send nothing.
    let connections = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    let header_read_timeout = config.header_read_timeout;
    let write_timeout = config.write_timeout;
    let mut warned_full: Option<std::time::Instant> = None;
    loop {
        let permit = match connections.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                // Logged at most once a minute, however long the flood.
                if warned_full.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
                    warned_full = Some(std::time::Instant::now());
                    tracing::warn!(
                        limit = config.max_connections,
                        "connection limit reached: new connections wait until open ones end"
                    );
                }
                tokio::select! {
                    permit = connections.clone().acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                    () = &mut signal => break,
                }
            }
        };
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let _ = socket2::SockRef::from(&stream).set_send_buffer_size(SEND_BUFFER);
                let app = app.clone();
                let service = service_fn(move |req| {
                    let app = app.clone();
                    async move { Ok::<_, Infallible>(routes::handle(app, req).await) }
                });
                let mut stream = tokio_io_timeout::TimeoutStream::new(stream);
                stream.set_write_timeout(Some(write_timeout));
                let conn = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_read_timeout)
                    .serve_connection(TokioIo::new(Box::pin(stream)), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    drop(permit);
                });
            }
            () = &mut signal => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: finishing requests in flight");
    let _ = shutdown_tx.send(true);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("stopped"),
        () = tokio::time::sleep(SHUTDOWN_GRACE) => tracing::warn!("stopped with requests still in flight after {SHUTDOWN_GRACE:?}"),
    }
    Ok(())
}

/// Re-read the file on every SIGHUP, as a change would.
async fn reload_on_sighup(mut hangups: tokio::signal::unix::Signal, trigger: watch::Trigger) {
    while hangups.recv().await.is_some() {
        tracing::info!("SIGHUP: re-reading the flags file");
        trigger.reload();
    }
}

/// How many health connections are served at once.
const HEALTH_CONNECTIONS: usize = 64;

/// The health listener: `/healthz`, `/readyz` and `/metrics`, a few
/// connections at a time, until shutdown.
async fn serve_health(
    listener: TcpListener,
    app: Arc<App>,
    header_read_timeout: Duration,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let connections = Arc::new(tokio::sync::Semaphore::new(HEALTH_CONNECTIONS));
    let mut shutdown = shutdown;
    let mut stopped = std::pin::pin!(async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    });
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit { Ok(p) => p, Err(_) => return },
            () = &mut stopped => return,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "health listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut stopped => return,
        };
        let app = app.clone();
        // A probe has no body; the connection still ends within the
        // configured body time after its headers (`--body-read-timeout`).
        let app_body_time = app.body_read_timeout;
        let service = service_fn(move |req| {
            let app = app.clone();
            async move { Ok::<_, Infallible>(health::handle_health(app, req).await) }
        });
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .keep_alive(false)
            .serve_connection(TokioIo::new(stream), service);
        tokio::spawn(async move {
            let _ = tokio::time::timeout(header_read_timeout + app_body_time, conn).await;
            drop(permit);
        });
    }
}

/// SIGTERM or SIGINT. The handlers are installed when this is called (not
/// when it is first awaited), so a signal sent right after the server says
/// it listens is caught.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        let wait = |s: std::io::Result<tokio::signal::unix::Signal>| async move {
            match s {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = wait(int) => {}
            () = wait(term) => {}
        }
    }
}
