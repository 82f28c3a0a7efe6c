//! The baseline for `bench/ofrep.sh`: a bare hyper server that answers every
//! request with one fixed OFREP-sized JSON body, built the same way as the
//! sidecar (same hyper, same runtime settings, same socket options), so the
//! benchmark measures what Burgee adds on top of hyper.
//!
//! `cargo run --release -p burgee-sidecar --example bare_hyper -- 127.0.0.1:8017`

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};

const BODY: &str = r#"{"key":"new-checkout","value":true,"variant":"on","reason":"TARGETING_MATCH","metadata":{"ruleId":"staff","stage":"beta"}}"#;

fn main() -> std::io::Result<()> {
    let addr: SocketAddr =
        std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8017".into()).parse().map_err(std::io::Error::other)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        println!("bare hyper listening on http://{}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(|_req: Request<hyper::body::Incoming>| async {
                    let mut r = Response::new(Full::new(Bytes::from_static(BODY.as_bytes())));
                    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    Ok::<_, Infallible>(r)
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
