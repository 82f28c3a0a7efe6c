//! `burgee-editor` as a library: the document model ([`document`]: open,
//! edit, undo, validate, save atomically, notice changes on disk), the
//! previews ([`preview`]: sample populations, who gets which variant, change
//! impact), and the UI ([`app`] and [`views`], plain `*_ui` functions over the
//! state, tested with egui_kittest). `main.rs` only starts eframe.

pub mod app;
pub mod document;
pub mod preview;
pub mod views;
