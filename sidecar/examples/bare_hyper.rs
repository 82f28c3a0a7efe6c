//! The baseline for `bench/ofrep.sh`: a bare hyper server that answers each
//! path with a fixed JSON body, built the way the sidecar is (same hyper
//! connection settings, same tokio runtime settings, same allocator, same
//! socket options), so the benchmark measures what Burgee adds on top of
//! hyper.
//!
//! `cargo run --release -p burgee-sidecar --example bare_hyper -- 127.0.0.1:8017 [PATH=FILE]...`
//!
//! Each `PATH=FILE` answers requests for `PATH` with the bytes of `FILE`;
//! any other path gets a fixed single-flag answer.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const BODY: &str = r#"{"key":"new-checkout","value":true,"variant":"on","reason":"TARGETING_MATCH","metadata":{"ruleId":"staff","stage":"beta"}}"#;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr =
        args.next().unwrap_or_else(|| "127.0.0.1:8017".into()).parse().map_err(std::io::Error::other)?;
    let mut bodies = HashMap::new();
    for arg in args {
        let (path, file) = arg.split_once('=').ok_or_else(|| std::io::Error::other(format!("not PATH=FILE: {arg}")))?;
        bodies.insert(path.to_owned(), Bytes::from(std::fs::read(file)?));
    }
    let bodies = Arc::new(bodies);
    let _ = tikv_jemalloc_ctl::background_thread::write(true);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().max_blocking_threads(4).build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        println!("bare hyper listening on http://{}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            let _ = socket2::SockRef::from(&stream).set_send_buffer_size(128 * 1024);
            let bodies = bodies.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let body = bodies.get(req.uri().path()).cloned().unwrap_or(Bytes::from_static(BODY.as_bytes()));
                    async move {
                        let mut r = Response::new(Full::new(body));
                        r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                        Ok::<_, Infallible>(r)
                    }
                });
                let _ = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(std::time::Duration::from_secs(10))
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}
