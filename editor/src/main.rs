//! `burgee-editor [FILE]`: the Burgee desktop editor for flags files.
//!
//! A thin binary: it reads the command line and hands a
//! [`burgee_editor::app::BurgeeApp`] to eframe. Everything else (documents,
//! views, previews) is the `burgee_editor` library.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use burgee_editor::app::BurgeeApp;
use eframe::egui;

/// The command-line help.
const USAGE: &str = "\
Usage: burgee-editor [FILE]

Opens a Burgee flags file for editing (or an empty window: File ▸ Open…, Ctrl+O).

Arguments:
  [FILE]  the flags file to open (e.g. examples/flags.json)

Options:
  -h, --help     print this help
  -V, --version  print the version";

/// What the command line asked for.
#[derive(Debug, PartialEq)]
enum Command {
    /// Open the window, on this file if one was named.
    Open(Option<PathBuf>),
    /// Print the help and exit.
    Help,
    /// Print the version and exit.
    Version,
}

/// Read the command line (without the program name).
fn parse_args(args: impl IntoIterator<Item = String>) -> anyhow::Result<Command> {
    let mut file = None;
    let mut only_paths = false;
    for arg in args {
        match arg.as_str() {
            "-h" | "--help" if !only_paths => return Ok(Command::Help),
            "-V" | "--version" if !only_paths => return Ok(Command::Version),
            "--" if !only_paths => only_paths = true,
            option if !only_paths && option.starts_with('-') && option != "-" => {
                bail!("unknown option `{option}`\n\n{USAGE}")
            }
            path => {
                if file.is_some() {
                    bail!("only one FILE can be opened, got a second: `{path}`\n\n{USAGE}");
                }
                file = Some(PathBuf::from(path));
            }
        }
    }
    Ok(Command::Open(file))
}

fn main() -> anyhow::Result<()> {
    let path = match parse_args(std::env::args().skip(1))? {
        Command::Help => {
            println!("{USAGE}");
            return Ok(());
        }
        Command::Version => {
            println!("burgee-editor {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        Command::Open(path) => path,
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Burgee editor")
            .with_app_id("burgee-editor")
            .with_inner_size([1400.0, 900.0]),
        ..Default::default()
    };
    let start = move |cc: &eframe::CreationContext<'_>| {
        let mut app = BurgeeApp::new(path);
        if let Some(storage) = cc.storage {
            app.restore(storage);
        }
        Ok(Box::new(app) as Box<dyn eframe::App>)
    };
    eframe::run_native("Burgee editor", options, Box::new(start))
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("could not open the editor window (is a display available?)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> anyhow::Result<Command> {
        parse_args(list.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn command_line_takes_at_most_one_file() {
        assert_eq!(args(&[]).unwrap(), Command::Open(None));
        assert_eq!(args(&["flags.json"]).unwrap(), Command::Open(Some("flags.json".into())));
        assert_eq!(args(&["--", "-odd.json"]).unwrap(), Command::Open(Some("-odd.json".into())));
        assert_eq!(args(&["--help"]).unwrap(), Command::Help);
        assert_eq!(args(&["-V"]).unwrap(), Command::Version);
        assert!(args(&["a.json", "b.json"]).is_err());
        assert!(args(&["--frobnicate"]).is_err());
    }
}
