//! Hot reload: [`store`] holds the version in service and swaps new ones in
//! whole; [`watch`] notices changes on disk and calls [`store::Store::reload`].

pub mod store;
pub mod watch;
