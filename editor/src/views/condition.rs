//! The condition-tree builder: `all` / `any` / `none` groups, segment
//! references and attribute tests with every op.
//!
//! A test's values are a list, one entry per value, typed by op: text as
//! typed for the string ops (`^[A-Z]{2,3}$`, `a,b`, backslashes and quotes
//! go in exactly), a regular expression checked as it is typed for
//! `matches`, a version checked as it is typed for `semver_*`, a number for
//! `lt`…`gte`, a timestamp or Unix seconds for `before`/`after`, a
//! percentage for `percent`, text / number / true-false (chosen per value)
//! for `in`, `not_in`, `contains`, `not_contains`, and nothing for `exists`
//! and `not_exists`. Text that is not a value of the op's kind stays in its
//! field marked "not applied" ([`super::field`]); the file only ever holds
//! what was typed. New tests and segment references start empty, never with
//! a made-up value.
//!
//! [`condition_ui`] edits the document directly at a [`ConditionAt`]: the
//! condition of a rule or a segment, and the path to a node inside it.

use std::sync::Arc;

use burgee_rules::model::{Condition, FlagFile, Leaf, Op};
use burgee_rules::validate::check_value;
use eframe::egui::{self, RichText};
use serde_json::{Number, Value};

use super::field::{FieldSpec, draft_field, live_field, refuse};
use crate::document::Document;

/// Whose condition it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConditionOwner {
    /// The `match` of rule `index` (id `id`) of `flag` in `env`.
    Rule {
        /// The flag.
        flag: String,
        /// The environment.
        env: String,
        /// The rule's position.
        index: usize,
        /// The rule's id when the view was drawn (an edit lands only on that rule).
        id: String,
    },
    /// The `match` of segment `key`.
    Segment {
        /// The segment.
        key: String,
    },
}

/// A node of a condition tree in the file: whose condition, the child
/// indices from its root, and its JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConditionAt {
    /// Whose condition.
    pub owner: ConditionOwner,
    /// Child indices from the root down to the node.
    pub path: Vec<usize>,
    /// The node's JSON pointer (for diagnostics).
    pub pointer: String,
}

impl ConditionAt {
    /// The root of a rule's condition.
    pub fn rule(flag: &str, env: &str, index: usize, id: &str) -> Self {
        let pointer = format!("{}/rules/{index}/match", super::env_pointer(flag, env));
        let owner = ConditionOwner::Rule { flag: flag.into(), env: env.into(), index, id: id.into() };
        ConditionAt { owner, path: Vec::new(), pointer }
    }

    /// The root of a segment's condition.
    pub fn segment(key: &str) -> Self {
        let pointer = format!("/segments/{}/match", super::escape(key));
        ConditionAt { owner: ConditionOwner::Segment { key: key.into() }, path: Vec::new(), pointer }
    }

    /// Child `i` of this group node, whose field name is `group` (`all`…).
    fn child(&self, group: &str, i: usize) -> Self {
        let mut path = self.path.clone();
        path.push(i);
        ConditionAt { owner: self.owner.clone(), path, pointer: format!("{}/{group}/{i}", self.pointer) }
    }

    /// The root's slot (`match`) in `file`, if its owner is still there.
    fn root_mut<'f>(&self, file: &'f mut FlagFile) -> Option<&'f mut Option<Condition>> {
        match &self.owner {
            ConditionOwner::Rule { flag, env, index, id } => {
                let f = Arc::make_mut(file.flags.get_mut(flag)?);
                let rule = f.environments.get_mut(env)?.rules.as_mut()?.get_mut(*index)?;
                (rule.id == *id).then_some(&mut rule.matches)
            }
            ConditionOwner::Segment { key } => Some(&mut Arc::make_mut(file.segments.as_mut()?.get_mut(key)?).matches),
        }
    }

    /// The node in `file`, if it is still there.
    pub fn node_mut<'f>(&self, file: &'f mut FlagFile) -> Option<&'f mut Condition> {
        self.root_mut(file)?.as_mut()?.get_mut(&self.path)
    }

    /// Apply `f` to the node as one undo step (merged with the previous one
    /// of the same label when `typing`: a value typed key by key is one step).
    pub fn edit(&self, doc: &mut Document, label: &str, typing: bool, f: impl FnOnce(&mut Condition)) -> bool {
        let apply = |m: &mut FlagFile| {
            if let Some(node) = self.node_mut(m) {
                f(node);
            }
        };
        if typing { doc.edit_merging(label, apply) } else { doc.edit(label, apply) }
    }

    /// Set or clear the whole condition (the root's `match`).
    pub fn set_root(&self, doc: &mut Document, label: &str, condition: Option<Condition>) -> bool {
        doc.edit(label, |m| {
            if let Some(slot) = self.root_mut(m) {
                *slot = condition;
            }
        })
    }
}

/// What kind of node a condition is, for the kind chooser.
fn kind_name(c: &Condition) -> &'static str {
    match c {
        Condition::All(_) => "all of",
        Condition::Any(_) => "any of",
        Condition::None(_) => "none of",
        Condition::Segment(_) => "in segment",
        Condition::Leaf(_) => "attribute",
    }
}

/// The values input an op takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValuesKind {
    /// No values (`exists`, `not_exists`).
    Nothing,
    /// Percentages (`percent`).
    Percent,
    /// Numbers (`lt`, `lte`, `gt`, `gte`).
    Numbers,
    /// Text, numbers or booleans, chosen per value (`in`, `not_in`, `contains`, `not_contains`).
    Scalars,
    /// Timestamps (RFC 3339) or Unix seconds (`before`, `after`).
    Times,
    /// Semantic versions (`semver_*`).
    Versions,
    /// A regular expression (`matches`).
    Pattern,
    /// Text (`starts_with`, `ends_with`).
    Text,
}

/// The values input `op` takes.
pub fn values_kind(op: Op) -> ValuesKind {
    match op {
        Op::Exists | Op::NotExists => ValuesKind::Nothing,
        Op::Percent => ValuesKind::Percent,
        Op::Lt | Op::Lte | Op::Gt | Op::Gte => ValuesKind::Numbers,
        Op::In | Op::NotIn | Op::Contains | Op::NotContains => ValuesKind::Scalars,
        Op::Before | Op::After => ValuesKind::Times,
        Op::SemverEq | Op::SemverLt | Op::SemverLte | Op::SemverGt | Op::SemverGte => ValuesKind::Versions,
        Op::Matches => ValuesKind::Pattern,
        Op::StartsWith | Op::EndsWith => ValuesKind::Text,
    }
}

/// The JSON type of one value of an `in`-like test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarType {
    /// A string, exactly as typed.
    Text,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
}

impl ScalarType {
    const ALL: [ScalarType; 3] = [ScalarType::Text, ScalarType::Number, ScalarType::Boolean];

    fn of(v: &Value) -> ScalarType {
        match v {
            Value::Number(_) => ScalarType::Number,
            Value::Bool(_) => ScalarType::Boolean,
            _ => ScalarType::Text,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ScalarType::Text => "text",
            ScalarType::Number => "number",
            ScalarType::Boolean => "true/false",
        }
    }
}

/// The hint in an empty value field.
fn value_hint(kind: ValuesKind) -> &'static str {
    match kind {
        ValuesKind::Numbers => "a number, e.g. 10 or 20.5",
        ValuesKind::Percent => "a percentage, e.g. 10",
        ValuesKind::Scalars | ValuesKind::Text => "a value, exactly as it should match",
        ValuesKind::Times => "2026-01-01T00:00:00Z or Unix seconds",
        ValuesKind::Versions => "a version, e.g. 2.4.0",
        ValuesKind::Pattern => "a regular expression, e.g. ^[A-Z]{2}$",
        ValuesKind::Nothing => "",
    }
}

/// A value as its field shows it: strings as they are, numbers as written.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Read one typed value for `op` (`scalar`: the type chosen for an `in`-like
/// test). Strings are kept exactly as typed; the error says what is wrong.
pub fn read_value(op: Op, scalar: ScalarType, text: &str) -> Result<Value, String> {
    let number = || text.trim().parse::<Number>().map(Value::Number).map_err(|_| format!("`{text}` is not a number"));
    let value = match values_kind(op) {
        ValuesKind::Numbers | ValuesKind::Percent => number()?,
        ValuesKind::Scalars => match scalar {
            ScalarType::Text => Value::String(text.to_owned()),
            ScalarType::Number => number()?,
            ScalarType::Boolean => match text {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err("choose true or false".to_owned()),
            },
        },
        ValuesKind::Times => number().unwrap_or_else(|_| Value::String(text.to_owned())),
        ValuesKind::Versions | ValuesKind::Pattern | ValuesKind::Text | ValuesKind::Nothing => {
            Value::String(text.to_owned())
        }
    };
    check_value(op, &value)?;
    Ok(value)
}

/// A fresh attribute test: no attribute and no values yet (the person fills
/// both in; until then the file shows what is missing).
pub fn new_leaf() -> Condition {
    Condition::leaf("", Op::In, Vec::new())
}

/// Draw the condition at `at` (currently `cond`) and make the person's
/// changes to `doc`. `segments` are the segment keys to choose from.
pub fn condition_ui(ui: &mut egui::Ui, doc: &mut Document, at: &ConditionAt, cond: &Condition, segments: &[String]) {
    let id = egui::Id::unique(("condition", &at.owner, &at.path));
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.horizontal(|ui| {
            let current = kind_name(cond);
            let r = egui::ComboBox::from_id_salt(id.with("kind")).selected_text(current).show_ui(ui, |ui| {
                for kind in ["all of", "any of", "none of", "in segment", "attribute"] {
                    if ui.selectable_label(kind == current, kind).clicked() && kind != current {
                        let new = convert(cond, kind);
                        at.edit(doc, "Change condition kind", false, |c| *c = new);
                    }
                }
            });
            let _ = r.response.accessible_name(format!("Condition kind at {}", at.pointer));
            super::diagnostics_at(ui, doc, &at.pointer);
        });
        match cond {
            Condition::All(children) | Condition::Any(children) | Condition::None(children) => {
                let group = cond.group().map_or("all", |(name, _)| name);
                group_ui(ui, doc, at, group, children, segments);
            }
            Condition::Segment(segment) => {
                ui.horizontal(|ui| {
                    let shown = if segment.is_empty() { "(choose a segment)" } else { segment.as_str() };
                    let name = format!("Segment of condition at {}", at.pointer);
                    if let Some(new) = super::choice_named(ui, id.with("segment"), "Segment", &name, shown, segments) {
                        at.edit(doc, "Change condition segment", false, |c| *c = Condition::Segment(new));
                    }
                    super::inline_diagnostics(ui, doc, &format!("{}/segment", at.pointer));
                });
            }
            Condition::Leaf(leaf) => leaf_ui(ui, doc, at, id, leaf),
        }
    });
}

/// Turn a node into another kind, keeping what can be kept (a group's
/// children; a test becomes the only child of a new group).
fn convert(cond: &Condition, kind: &str) -> Condition {
    let children = match cond {
        Condition::All(c) | Condition::Any(c) | Condition::None(c) => c.clone(),
        other => vec![other.clone()],
    };
    match kind {
        "all of" => Condition::All(children),
        "any of" => Condition::Any(children),
        "none of" => Condition::None(children),
        "in segment" => Condition::Segment(String::new()),
        _ => new_leaf(),
    }
}

/// The children of a group node (`None` for a test or a segment reference).
fn children_mut(c: &mut Condition) -> Option<&mut Vec<Condition>> {
    match c {
        Condition::All(c) | Condition::Any(c) | Condition::None(c) => Some(c),
        Condition::Segment(_) | Condition::Leaf(_) => None,
    }
}

/// The children of a group, each removable, and buttons to add more.
fn group_ui(
    ui: &mut egui::Ui,
    doc: &mut Document,
    at: &ConditionAt,
    group: &str,
    children: &[Condition],
    segments: &[String],
) {
    ui.indent(egui::Id::unique(("condition-children", &at.owner, &at.path)), |ui| {
        if children.is_empty() {
            ui.label(RichText::new("(no conditions yet: add one below)").weak());
        }
        for (i, child) in children.iter().enumerate() {
            let child_at = at.child(group, i);
            ui.horizontal_top(|ui| {
                let remove = ui.small_button("x").on_hover_text("Remove this condition");
                if remove.accessible_name(format!("Remove condition at {}", child_at.pointer)).clicked() {
                    at.edit(doc, "Remove condition", false, |c| {
                        if let Some(children) = children_mut(c).filter(|c| i < c.len()) {
                            children.remove(i);
                        }
                    });
                }
                ui.vertical(|ui| condition_ui(ui, doc, &child_at, child, segments));
            });
        }
        ui.horizontal(|ui| {
            let add = |doc: &mut Document, new: Condition| {
                at.edit(doc, "Add condition", false, |c| {
                    if let Some(children) = children_mut(c) {
                        children.push(new);
                    }
                });
            };
            let name = |what: &str| format!("Add {what} to {}", at.pointer);
            if ui.small_button("+ attribute test").accessible_name(name("attribute test")).clicked() {
                add(doc, new_leaf());
            }
            if ui.small_button("+ segment test").accessible_name(name("segment test")).clicked() {
                add(doc, Condition::Segment(String::new()));
            }
            if ui.small_button("+ group").accessible_name(name("group")).clicked() {
                add(doc, Condition::All(Vec::new()));
            }
        });
    });
}

/// An attribute test: attribute path, op, and its values, one entry each.
fn leaf_ui(ui: &mut egui::Ui, doc: &mut Document, at: &ConditionAt, id: egui::Id, leaf: &Leaf) {
    let set_leaf = |doc: &mut Document, label: &str, typing: bool, f: &dyn Fn(&mut Leaf)| {
        at.edit(doc, label, typing, |c| {
            if let Condition::Leaf(l) = c {
                f(l);
            }
        });
    };
    ui.horizontal_wrapped(|ui| {
        ui.label("Attribute");
        let spec = FieldSpec::new(&leaf.attribute, format!("attribute at {}", at.pointer), &at.pointer)
            .hint("e.g. company.plan");
        let parse = |t: &str| if t.is_empty() { Err("type an attribute path".to_owned()) } else { Ok(t.to_owned()) };
        if let Some(attribute) = live_field(ui, id.with("attr"), spec, parse) {
            set_leaf(doc, "Edit condition attribute", true, &|l| l.attribute = attribute.clone());
        }
        let ops = egui::ComboBox::from_id_salt(id.with("op")).selected_text(leaf.op.as_str()).height(640.0);
        let r = ops.show_ui(ui, |ui| {
            for op in Op::ALL {
                if ui.selectable_label(op == leaf.op, op.as_str()).clicked() && op != leaf.op {
                    set_leaf(doc, "Change condition op", false, &|l| l.op = op);
                }
            }
        });
        let _ = r.response.accessible_name(format!("Op at {}", at.pointer));
        super::inline_diagnostics(ui, doc, &format!("{}/attribute", at.pointer));
        super::diagnostics_at(ui, doc, &format!("{}/op", at.pointer));
    });
    let kind = values_kind(leaf.op);
    let values_at = format!("{}/values", at.pointer);
    ui.indent(id.with("values"), |ui| {
        if kind == ValuesKind::Nothing && leaf.values.is_empty() {
            ui.label(RichText::new(format!("`{}` takes no values", leaf.op)).weak());
        }
        for (i, value) in leaf.values.iter().enumerate() {
            ui.horizontal(|ui| {
                value_ui(ui, doc, at, id.with(("value", i)), leaf.op, i, value);
                let remove = ui.small_button("x").accessible_name(format!("Remove value {} at {}", i + 1, at.pointer));
                if remove.clicked() {
                    set_leaf(doc, "Remove condition value", false, &|l| {
                        if i < l.values.len() {
                            l.values.remove(i);
                        }
                    });
                }
                super::inline_diagnostics(ui, doc, &format!("{values_at}/{i}"));
            });
        }
        if kind != ValuesKind::Nothing {
            ui.horizontal(|ui| add_value_ui(ui, doc, at, id.with("add-value"), leaf.op));
        }
        super::diagnostics_at(ui, doc, &values_at);
    });
}

/// One value of a test: a field typed by the op (and, for `in`-like tests,
/// a chooser of its JSON type).
fn value_ui(ui: &mut egui::Ui, doc: &mut Document, at: &ConditionAt, id: egui::Id, op: Op, i: usize, value: &Value) {
    let set = |doc: &mut Document, typing: bool, v: Value| {
        at.edit(doc, "Edit condition value", typing, |c| {
            if let Condition::Leaf(l) = c
                && let Some(slot) = l.values.get_mut(i)
            {
                *slot = v;
            }
        });
    };
    let scalar = ScalarType::of(value);
    let name = format!("Value {} at {}", i + 1, at.pointer);
    if values_kind(op) == ValuesKind::Scalars {
        if let Some(t) = scalar_type_ui(ui, id.with("type"), &name, scalar) {
            // The same text under the new type, when it reads as one; else its typed form.
            let text = value_text(value);
            let converted = read_value(op, t, &text).unwrap_or_else(|_| match t {
                ScalarType::Text => Value::String(text.clone()),
                ScalarType::Number => Value::from(0),
                ScalarType::Boolean => Value::Bool(true),
            });
            set(doc, false, converted);
        }
        if let Value::Bool(b) = value {
            let text = if *b { "true" } else { "false" };
            let mut b = *b;
            if ui.checkbox(&mut b, text).accessible_name(&name).changed() {
                set(doc, false, Value::Bool(b));
            }
            return;
        }
    }
    let text = value_text(value);
    let spec = FieldSpec::new(&text, name, format!("{}/values/{i}", at.pointer)).hint(value_hint(values_kind(op)));
    if let Some(v) = live_field(ui, id, spec, |t| read_value(op, scalar, t)) {
        set(doc, true, v);
    }
}

/// The type chooser of an `in`-like value; returns the newly chosen type.
fn scalar_type_ui(ui: &mut egui::Ui, id: egui::Id, name: &str, current: ScalarType) -> Option<ScalarType> {
    let mut chosen = None;
    let r = egui::ComboBox::from_id_salt(id).width(90.0).selected_text(current.name()).show_ui(ui, |ui| {
        for t in ScalarType::ALL {
            if ui.selectable_label(t == current, t.name()).clicked() && t != current {
                chosen = Some(t);
            }
        }
    });
    let _ = r.response.accessible_name(format!("{name} type"));
    chosen
}

/// The field that adds a value: type it and press Enter (or leave the
/// field); the next value goes in the same field.
fn add_value_ui(ui: &mut egui::Ui, doc: &mut Document, at: &ConditionAt, id: egui::Id, op: Op) {
    let scalar = if values_kind(op) == ValuesKind::Scalars {
        let current = ui.data(|d| d.get_temp::<ScalarType>(id.with("type"))).unwrap_or(ScalarType::Text);
        let name = format!("New value at {}", at.pointer);
        if let Some(t) = scalar_type_ui(ui, id.with("type-choice"), &name, current) {
            ui.data_mut(|d| d.insert_temp(id.with("type"), t));
        }
        ui.data(|d| d.get_temp::<ScalarType>(id.with("type"))).unwrap_or(ScalarType::Text)
    } else {
        ScalarType::Text
    };
    let spec = FieldSpec::new("", format!("new value at {}", at.pointer), format!("{}/values", at.pointer))
        .hint("add a value, then Enter");
    if let Some(text) = draft_field(ui, id, spec.clone()) {
        match read_value(op, scalar, &text) {
            Ok(value) => {
                at.edit(doc, "Add condition value", false, |c| {
                    if let Condition::Leaf(l) = c {
                        l.values.push(value);
                    }
                });
            }
            Err(why) => refuse(ui.ctx(), id, &spec, &text, why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_exactly_as_typed_by_op() {
        let text = ScalarType::Text;
        assert_eq!(read_value(Op::Matches, text, r"^[A-Z]{2,3}$"), Ok(Value::from(r"^[A-Z]{2,3}$")));
        assert_eq!(read_value(Op::In, text, "a,b"), Ok(Value::from("a,b")));
        assert_eq!(read_value(Op::In, text, r#"C:\path "quoted""#), Ok(Value::from(r#"C:\path "quoted""#)));
        assert_eq!(read_value(Op::In, text, " padded "), Ok(Value::from(" padded ")));
        assert_eq!(read_value(Op::In, text, "42"), Ok(Value::from("42")), "text stays text");
        assert_eq!(read_value(Op::In, ScalarType::Number, "42"), Ok(Value::from(42)));
        assert!(read_value(Op::In, ScalarType::Number, "x").is_err());
        assert_eq!(read_value(Op::In, ScalarType::Boolean, "true"), Ok(Value::Bool(true)));
        assert_eq!(read_value(Op::Lt, text, "10.50").map(|v| v.to_string()), Ok("10.50".to_owned()));
        assert!(read_value(Op::Lt, text, "ten").unwrap_err().contains("not a number"));
        assert!(read_value(Op::SemverGte, text, "2.4").is_ok());
        assert!(read_value(Op::SemverGte, text, "2.x").unwrap_err().contains("semantic version"));
        assert!(read_value(Op::Matches, text, "(").unwrap_err().contains("regular expression"));
        assert_eq!(read_value(Op::Before, text, "1767225600"), Ok(Value::from(1_767_225_600)));
        assert!(read_value(Op::Before, text, "2026-01-01T00:00:00Z").is_ok());
        assert!(read_value(Op::After, text, "next week").is_err());
        assert!(read_value(Op::Percent, text, "150").is_err());
    }

    #[test]
    fn every_op_has_an_input_kind_and_new_tests_start_empty() {
        for op in Op::ALL {
            let kind = values_kind(op);
            assert_eq!(kind == ValuesKind::Nothing, matches!(op, Op::Exists | Op::NotExists), "{op}");
        }
        let Condition::Leaf(leaf) = new_leaf() else { panic!() };
        assert!(leaf.attribute.is_empty() && leaf.values.is_empty());
    }
}
