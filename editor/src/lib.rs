//! `burgee-editor` as a library: the document model ([`document`]: open,
//! edit, undo, validate, save atomically, notice changes on disk), the
//! previews ([`preview`]: sample populations, who gets which variant, change
//! impact), and the UI ([`app`] and [`views`], plain `*_ui` functions over the
//! state, tested with egui_kittest). `main.rs` only starts eframe.

/// jemalloc for the editor and everything built on this library (its
/// benches and tests): with glibc's allocator, a big file's load and
/// previews leave the heap fragmented, and every later frame's small
/// allocations pay for it (a frame on a 35 MB file: 14 ms instead of 5 ms,
/// `_int_malloc` and `malloc_consolidate` a third of it).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

pub mod app;
pub mod document;
pub mod preview;
pub mod views;
