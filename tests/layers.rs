//! The module order of each crate, as ARCHITECTURE.md writes it, holds in
//! the code: every `crate::…` and `super::…` path in a module's non-test
//! code names a module of a lower layer (or of its own entry, for a group
//! such as `cli`). So no module cycle can come back unnoticed.
//!
//! The order is read from ARCHITECTURE.md's `layers` blocks, one per crate:
//!
//! ```text
//! layers of burgee-rules (src: shared/src)
//! 1: diagnostic, bucket, model
//! 2: parse, ...
//! ```
//!
//! A module's dependencies are read from its file's text, up to its
//! `#[cfg(test)]` module (tests may use anything), comment lines left out.

// A failed unwrap in a test is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// One crate's written order: its source folder and its layers, lowest first.
struct Order {
    krate: String,
    src: PathBuf,
    layers: Vec<Vec<String>>,
}

/// Every `layers of CRATE (src: DIR)` block of ARCHITECTURE.md.
fn written_orders(architecture: &str) -> Vec<Order> {
    let mut orders = Vec::new();
    let mut lines = architecture.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("layers of ") else { continue };
        let (krate, src) =
            rest.split_once(" (src: ").unwrap_or_else(|| panic!("`{line}`: want `layers of CRATE (src: DIR)`"));
        let mut layers = Vec::new();
        while let Some(next) = lines.peek() {
            let Some((n, modules)) = next.split_once(": ") else { break };
            let Ok(n) = n.trim().parse::<usize>() else { break };
            assert_eq!(n, layers.len() + 1, "{krate}: layers are numbered 1, 2, … in order");
            layers.push(modules.split(',').map(|m| m.trim().to_owned()).collect());
            lines.next();
        }
        orders.push(Order { krate: krate.to_owned(), src: repo().join(src.trim_end_matches(')')), layers });
    }
    orders
}

/// Every module of a crate (`serve::routes`, `lib`) and the text of its
/// non-test code, comment lines left out.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            let text = fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            let code: Vec<&str> = code.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
            out.insert(parts.join("::"), code.join("\n"));
        }
    }
    out
}

/// The modules `code` (of module `name`) names with `crate::…` or `super::…`
/// paths, resolved to the longest module that exists.
fn dependencies(name: &str, code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let parent = name.rsplit_once("::").map_or("", |(p, _)| p);
    let mut found = BTreeSet::new();
    for (prefix, base) in [("crate::", String::new()), ("super::", parent.to_owned())] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            // `a::b::c`, or a group `{a, b::c}`.
            let paths: Vec<String> = if let Some(group) = rest.strip_prefix('{') {
                group.split('}').next().unwrap().split(',').map(|p| p.trim().to_owned()).collect()
            } else {
                let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
                vec![rest[..end].to_owned()]
            };
            for path in paths {
                let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty() && *s != "self").collect();
                // No module named: an item of the parent module (`super::x`)
                // or of the crate root (`crate::x`, in lib.rs).
                let owner = if base.is_empty() { "lib".to_owned() } else { base.clone() };
                let mut best = known.contains(&owner).then_some(owner);
                for n in 1..=segments.len() {
                    let candidate = if base.is_empty() {
                        segments[..n].join("::")
                    } else {
                        format!("{base}::{}", segments[..n].join("::"))
                    };
                    if known.contains(&candidate) {
                        best = Some(candidate);
                    }
                }
                if let Some(m) = best
                    && m != name
                {
                    found.insert(m);
                }
            }
        }
    }
    found
}

/// The layer entry a module belongs to: the entry naming it or, failing
/// that, the nearest module it is inside (`cli` holds `cli::check`).
fn entry_of<'a>(module: &str, order: &'a Order) -> Option<(usize, &'a str)> {
    // The longest entry that fits: `views::flag` is its own entry even
    // when `views` (the module's mod.rs) is one too.
    let fits = |e: &String| module == e.as_str() || module.starts_with(&format!("{e}::"));
    let entries = order.layers.iter().enumerate().flat_map(|(i, layer)| layer.iter().map(move |e| (i, e)));
    entries.filter(|(_, e)| fits(e)).max_by_key(|(_, e)| e.len()).map(|(i, e)| (i, e.as_str()))
}

/// Every edge against the order, as `module -> dependency (why)`.
fn violations(order: &Order, modules: &BTreeMap<String, String>) -> Vec<String> {
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    let mut wrong = Vec::new();
    for (name, code) in modules {
        let Some((layer, entry)) = entry_of(name, order) else {
            wrong.push(format!("{name}: not in any layer of {}", order.krate));
            continue;
        };
        for dep in dependencies(name, code, &known) {
            match entry_of(&dep, order) {
                Some((_, e)) if e == entry => {}
                Some((l, _)) if l < layer => {}
                Some((l, _)) => wrong.push(format!("{name} (layer {}) uses {dep} (layer {})", layer + 1, l + 1)),
                None => wrong.push(format!("{name} uses {dep}, which is in no layer")),
            }
        }
    }
    wrong
}

#[test]
fn every_crate_follows_the_module_order_architecture_md_writes() {
    let architecture = fs::read_to_string(repo().join("ARCHITECTURE.md")).unwrap();
    let orders = written_orders(&architecture);
    let crates: Vec<&str> = orders.iter().map(|o| o.krate.as_str()).collect();
    assert_eq!(
        crates,
        ["burgee-rules", "burgee-files", "burgee-sidecar", "burgee-editor"],
        "a layers block for each crate"
    );
    for order in &orders {
        let modules = modules(&order.src);
        assert!(!modules.is_empty(), "{}: no modules read from {}", order.krate, order.src.display());
        let wrong = violations(order, &modules);
        assert!(wrong.is_empty(), "{} breaks its written order:\n{}", order.krate, wrong.join("\n"));
    }
}

#[test]
fn an_edge_against_the_order_is_caught() {
    let order = Order {
        krate: "example".into(),
        src: PathBuf::new(),
        layers: vec![
            vec!["model".into(), "views".into()],
            vec!["parse".into(), "cli".into(), "views::flag".into()],
            vec!["serve::routes".into()],
        ],
    };
    let mut modules = BTreeMap::new();
    modules.insert("model".to_owned(), "use crate::parse::Parser;".to_owned());
    modules.insert("parse".to_owned(), "fn f() { crate::model::Thing::new() }".to_owned());
    modules.insert("cli".to_owned(), String::new());
    modules.insert("cli::check".to_owned(), "use super::{fmt, model};".to_owned());
    modules.insert("cli::fmt".to_owned(), "use crate::{parse, model::Flag};".to_owned());
    modules.insert("serve::routes".to_owned(), "use crate::cli;".to_owned());
    // A parent's item used by its child is fine; the parent using the child's
    // items through the crate root goes up. An item of lib.rs is lib's.
    modules.insert("views".to_owned(), "fn f() { crate::views::flag::page() }".to_owned());
    modules.insert("views::flag".to_owned(), "fn g() { super::plural(2) }".to_owned());
    modules.insert("lib".to_owned(), "pub fn version() {}".to_owned());
    let wrong = violations(&order, &modules);
    // model → parse goes up; cli::fmt → parse is sideways (same layer,
    // another entry); views → views::flag goes up; lib is in no layer.
    assert_eq!(
        wrong,
        [
            "cli::fmt (layer 2) uses parse (layer 2)",
            "lib: not in any layer of example",
            "model (layer 1) uses parse (layer 2)",
            "views (layer 1) uses views::flag (layer 2)",
        ],
        "{wrong:?}"
    );
    // `super::model` from cli::check is cli::model, which does not exist; `super::fmt` is in its own entry.
}
