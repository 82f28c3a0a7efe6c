//! `burgee-sidecar` as a library: the server ([`serve`]), hot reload
//! ([`reload`]), the one-shot commands ([`cli`]), OFREP shaping ([`ofrep`]),
//! file I/O ([`files`]) and logging that cannot stop the server ([`log`]). `main.rs` is only the command line.
//!
//! The request handler, [`serve::routes::handle`], is a plain async function
//! from request to response, so it can be tested without a socket.

pub mod cli;
pub mod files;
pub mod log;
pub mod metrics;
pub mod ofrep;
pub mod reload;
pub mod serve;
