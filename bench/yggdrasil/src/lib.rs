//! Nothing here: see `benches/yggdrasil.rs`.
