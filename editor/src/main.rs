//! `burgee-editor`: the Burgee desktop editor for flags files.
//!
//! This is a read-only placeholder until the real editor lands: it opens the
//! flags file named on the command line (`burgee-editor [FILE]`), checks it
//! with `burgee-rules` exactly as the sidecar would, and shows a window titled
//! "Burgee editor" with the file's path, its error and warning counts, and
//! either its flags (key, stage, description) or every problem that makes it
//! invalid. It never writes the file.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use burgee_rules::{Diagnostic, FlagFile, parse, validate};
use eframe::egui::{self, Color32, RichText};

/// The command-line help.
const USAGE: &str = "\
Usage: burgee-editor [FILE]

Opens a Burgee flags file in a read-only preview window.

Arguments:
  [FILE]  the flags file to show (e.g. examples/flags.json)

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

/// One flag as the placeholder lists it.
#[derive(Debug, Clone, PartialEq)]
struct FlagRow {
    /// The flag's key.
    key: String,
    /// Its description, or an empty string.
    description: String,
    /// Its stage's name (e.g. "Beta"), if it has a stage.
    stage: Option<String>,
}

/// What opening the file gave.
#[derive(Debug, Clone, PartialEq)]
enum Contents {
    /// No file was named on the command line.
    NoFile,
    /// The file could not be read (missing, unreadable, not UTF-8).
    Unreadable(String),
    /// The file was read but is rejected: every diagnostic, errors and warnings.
    Invalid(Vec<Diagnostic>),
    /// The file is valid.
    Valid {
        /// The environments, in file order.
        environments: Vec<String>,
        /// How many segments it defines.
        segments: usize,
        /// Its flags, in file order.
        flags: Vec<FlagRow>,
        /// Warnings: legal, but probably not what was meant.
        warnings: Vec<Diagnostic>,
    },
}

impl Contents {
    /// Check a flags file's text the way the sidecar does.
    fn from_text(text: &str) -> Self {
        let file = match parse::parse(text) {
            Ok(file) => file,
            Err(diagnostics) => return Contents::Invalid(diagnostics),
        };
        let diagnostics = validate::validate(&file);
        if diagnostics.iter().any(Diagnostic::is_error) {
            return Contents::Invalid(diagnostics);
        }
        Contents::Valid {
            environments: file.environments.clone(),
            segments: file.segments.as_ref().map_or(0, |s| s.len()),
            flags: flag_rows(&file),
            warnings: diagnostics,
        }
    }

    /// Read and check the file at `path`.
    fn open(path: &Path) -> Self {
        match std::fs::read_to_string(path) {
            Ok(text) => Contents::from_text(&text),
            Err(e) => Contents::Unreadable(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// The number of errors and of warnings.
    fn counts(&self) -> (usize, usize) {
        match self {
            Contents::NoFile | Contents::Unreadable(_) => (0, 0),
            Contents::Invalid(diagnostics) => {
                let errors = diagnostics.iter().filter(|d| d.is_error()).count();
                (errors, diagnostics.len() - errors)
            }
            Contents::Valid { warnings, .. } => (0, warnings.len()),
        }
    }
}

/// The file's flags as rows, with stage keys turned into stage names.
fn flag_rows(file: &FlagFile) -> Vec<FlagRow> {
    let stages = file.effective_stages();
    file.flags
        .iter()
        .map(|(key, flag)| FlagRow {
            key: key.clone(),
            description: flag.description.clone().unwrap_or_default(),
            stage: flag
                .stage
                .as_ref()
                .map(|stage| stages.iter().find(|s| &s.key == stage).map_or_else(|| stage.clone(), |s| s.name.clone())),
        })
        .collect()
}

/// The placeholder window's state: one file, loaded once at start.
struct Preview {
    /// The path given on the command line, if any.
    path: Option<PathBuf>,
    /// What was found there.
    contents: Contents,
}

impl Preview {
    /// Load the file at `path`, if one was given.
    fn new(path: Option<PathBuf>) -> Self {
        let contents = path.as_deref().map_or(Contents::NoFile, Contents::open);
        Preview { path, contents }
    }

    /// The header: path and counts.
    fn header(&self, ui: &mut egui::Ui) {
        ui.heading("Burgee editor");
        ui.label(RichText::new("Read-only preview: the full editor is coming.").weak());
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            ui.label(RichText::new("File:").strong());
            match &self.path {
                Some(path) => ui.label(RichText::new(path.display().to_string()).monospace()),
                None => ui.label("none — run `burgee-editor FILE` to open one"),
            };
        });
        let (errors, warnings) = self.contents.counts();
        let visuals = ui.visuals().clone();
        ui.horizontal(|ui| {
            if let Contents::Valid { environments, segments, flags, .. } = &self.contents {
                ui.label(format!(
                    "{} flags · {segments} segments · environments: {} ·",
                    flags.len(),
                    environments.join(", ")
                ));
            }
            let error_color = if errors > 0 { visuals.error_fg_color } else { visuals.text_color() };
            let warning_color = if warnings > 0 { visuals.warn_fg_color } else { visuals.text_color() };
            ui.label(RichText::new(plural(errors, "error")).color(error_color).strong());
            ui.label("·");
            ui.label(RichText::new(plural(warnings, "warning")).color(warning_color).strong());
        });
        ui.add_space(4.0);
    }

    /// The body: the flags, or why there are none to show.
    fn body(&self, ui: &mut egui::Ui) {
        egui::ScrollArea::vertical().auto_shrink(false).show(ui, |ui| match &self.contents {
            Contents::NoFile => {
                ui.label("No flags file open.");
            }
            Contents::Unreadable(why) => {
                ui.colored_label(ui.visuals().error_fg_color, why);
            }
            Contents::Invalid(diagnostics) => {
                ui.label(RichText::new("The file is invalid; the sidecar would refuse it:").strong());
                ui.add_space(4.0);
                diagnostics_list(ui, diagnostics);
            }
            Contents::Valid { flags, warnings, .. } => {
                if !warnings.is_empty() {
                    diagnostics_list(ui, warnings);
                    ui.separator();
                }
                for flag in flags {
                    flag_card(ui, flag);
                }
            }
        });
    }
}

impl eframe::App for Preview {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::Panel::top("header").show(ui, |ui| self.header(ui));
        egui::CentralPanel::default().show(ui, |ui| self.body(ui));
    }
}

/// One flag: key and stage on a line, description below.
fn flag_card(ui: &mut egui::Ui, flag: &FlagRow) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            ui.label(RichText::new(&flag.key).monospace().strong().size(15.0));
            match &flag.stage {
                Some(stage) => {
                    ui.label(RichText::new(stage).color(Color32::WHITE).background_color(stage_color(stage)))
                }
                None => ui.label(RichText::new("no stage").weak()),
            };
        });
        if flag.description.is_empty() {
            ui.label(RichText::new("(no description)").weak().italics());
        } else {
            ui.add(egui::Label::new(&flag.description).wrap());
        }
    });
    ui.add_space(2.0);
}

/// A stage badge's colour: the four default stages get their own, others grey.
fn stage_color(stage_name: &str) -> Color32 {
    match stage_name {
        "In development" => Color32::from_rgb(0x6b, 0x72, 0x80),
        "Internal" => Color32::from_rgb(0x7c, 0x3a, 0xed),
        "Beta" => Color32::from_rgb(0xd9, 0x77, 0x06),
        "General availability" => Color32::from_rgb(0x16, 0xa3, 0x4a),
        _ => Color32::from_rgb(0x47, 0x55, 0x69),
    }
}

/// Errors and warnings, one a line: severity and code, where, what.
fn diagnostics_list(ui: &mut egui::Ui, diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        let color = if d.is_error() { ui.visuals().error_fg_color } else { ui.visuals().warn_fg_color };
        let severity = if d.is_error() { "error" } else { "warning" };
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("{severity}[{}]", d.code)).color(color).strong());
            let place = match d.location {
                Some(l) => format!("line {}, column {}", l.line, l.column),
                None if d.pointer.is_empty() => "the file".to_owned(),
                None => d.pointer.clone(),
            };
            ui.label(RichText::new(place).monospace());
            ui.label(&d.message);
        });
    }
}

/// `1 error`, `2 errors`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
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
    let preview = Preview::new(path);
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_title("Burgee editor").with_inner_size([960.0, 720.0]),
        ..Default::default()
    };
    eframe::run_native("Burgee editor", options, Box::new(|_cc| Ok(Box::new(preview))))
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

    #[test]
    fn the_example_file_lists_its_flags_with_stage_names_and_no_problems() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/flags.json");
        let contents = Contents::open(&path);
        assert_eq!(contents.counts(), (0, 0));
        let Contents::Valid { flags, environments, .. } = contents else { panic!("{contents:?}") };
        assert_eq!(environments, ["development", "staging", "production"]);
        assert!(flags.len() >= 10);
        assert!(flags.iter().all(|f| !f.description.is_empty() && f.stage.is_some()));
        let checkout = flags.iter().find(|f| f.key == "new-checkout").unwrap();
        assert_eq!(checkout.stage.as_deref(), Some("Beta"));
    }

    #[test]
    fn an_invalid_file_shows_its_errors_and_warnings() {
        let text = r#"{"version": 1, "environments": ["prod", "dev"], "flags": {
            "x": {"variants": {"on": true}, "off": "nope", "environments": {"prod": {"enabled": true, "default": {"variant": "on"}}}}}}"#;
        let contents = Contents::from_text(text);
        assert_eq!(contents.counts(), (1, 1), "{contents:?}");
        assert!(matches!(Contents::from_text("{"), Contents::Invalid(d) if d[0].location.is_some()));
    }

    #[test]
    fn a_missing_file_is_reported_not_fatal() {
        let contents = Contents::open(Path::new("/no/such/flags.json"));
        assert!(matches!(&contents, Contents::Unreadable(why) if why.contains("/no/such/flags.json")));
        assert_eq!(Preview::new(None).contents, Contents::NoFile);
    }
}
