//! The condition-tree builder: `all` / `any` / `none` groups, segment
//! references and attribute tests with every op, each with a values input
//! that fits the op (none for `exists`, one percentage for `percent`,
//! numbers for `lt`…`gte`, text for the rest).
//!
//! [`condition_ui`] draws a tree from a copy and returns the changed tree,
//! so the caller makes one undoable edit of the field that holds it.

use burgee_rules::model::{Condition, Leaf, Op};
use eframe::egui::{self, RichText};
use serde_json::{Number, Value};

use super::committed_text_field;

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
    /// One percentage (`percent`).
    Percent,
    /// Numbers (`lt`, `lte`, `gt`, `gte`).
    Numbers,
    /// Any JSON scalars: strings, numbers, booleans (`in`, `not_in`, `contains`, `not_contains`).
    Scalars,
    /// Timestamps (RFC 3339) or Unix seconds (`before`, `after`).
    Times,
    /// Strings (the text and semver ops, `matches`).
    Strings,
}

/// The values input `op` takes.
pub fn values_kind(op: Op) -> ValuesKind {
    match op {
        Op::Exists | Op::NotExists => ValuesKind::Nothing,
        Op::Percent => ValuesKind::Percent,
        Op::Lt | Op::Lte | Op::Gt | Op::Gte => ValuesKind::Numbers,
        Op::In | Op::NotIn | Op::Contains | Op::NotContains => ValuesKind::Scalars,
        Op::Before | Op::After => ValuesKind::Times,
        _ => ValuesKind::Strings,
    }
}

/// The hint shown in an empty values field.
fn values_hint(kind: ValuesKind) -> &'static str {
    match kind {
        ValuesKind::Numbers => "numbers, comma-separated: 10, 20.5",
        ValuesKind::Scalars => "values, comma-separated: US, 42, true, \"quoted, text\"",
        ValuesKind::Times => "2026-01-01T00:00:00Z, or Unix seconds",
        ValuesKind::Strings => "text, comma-separated",
        ValuesKind::Nothing | ValuesKind::Percent => "",
    }
}

/// Values as the person types them: comma-separated, strings bare unless
/// they would read as something else.
pub fn values_to_text(values: &[Value], kind: ValuesKind) -> String {
    values
        .iter()
        .map(|v| match v {
            Value::String(s) => {
                let ambiguous = s.contains(',')
                    || s.trim() != s
                    || s.starts_with('"')
                    || (kind == ValuesKind::Scalars && serde_json::from_str::<Value>(s).is_ok());
                if ambiguous { Value::String(s.clone()).to_string() } else { s.clone() }
            }
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Split on commas outside double quotes.
fn split_items(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in text.chars() {
        if quoted && escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == ',' && !quoted {
            items.push(std::mem::take(&mut current));
            continue;
        }
        current.push(c);
    }
    items.push(current);
    items.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

/// Read typed values: numbers stay numbers where the op compares numbers,
/// `true`/`false` and numbers are JSON for the scalar ops, quoted text is a
/// string, everything else is a string. Errors name the item that is wrong.
pub fn text_to_values(text: &str, kind: ValuesKind) -> Result<Vec<Value>, String> {
    split_items(text)
        .into_iter()
        .map(|item| {
            if item.starts_with('"') {
                return serde_json::from_str::<Value>(&item).map_err(|e| format!("`{item}`: {e}"));
            }
            match kind {
                ValuesKind::Numbers | ValuesKind::Percent => serde_json::from_str::<Number>(&item)
                    .map(Value::Number)
                    .map_err(|_| format!("`{item}` is not a number")),
                ValuesKind::Scalars => Ok(match serde_json::from_str::<Value>(&item) {
                    Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => v,
                    _ => Value::String(item),
                }),
                ValuesKind::Times => Ok(match serde_json::from_str::<Number>(&item) {
                    Ok(n) => Value::Number(n),
                    Err(_) => Value::String(item),
                }),
                ValuesKind::Strings | ValuesKind::Nothing => Ok(Value::String(item)),
            }
        })
        .collect()
}

/// A fresh attribute test.
pub fn new_leaf() -> Condition {
    Condition::leaf("country", Op::In, vec![Value::String("US".into())])
}

/// Draw condition `cond` (the node at `id`) and return it changed, if the
/// person changed it. `segments` are the segment keys to choose from.
pub fn condition_ui(ui: &mut egui::Ui, id: egui::Id, cond: &Condition, segments: &[String]) -> Option<Condition> {
    let mut out = None;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.horizontal(|ui| {
            let current = kind_name(cond);
            egui::ComboBox::new(id.with("kind"), "Condition kind").selected_text(current).show_ui(ui, |ui| {
                for kind in ["all of", "any of", "none of", "in segment", "attribute"] {
                    if ui.selectable_label(kind == current, kind).clicked() && kind != current {
                        out = Some(convert(cond, kind, segments));
                    }
                }
            });
        });
        match cond {
            Condition::All(children) | Condition::Any(children) | Condition::None(children) => {
                if let Some(children) = group_ui(ui, id, children, segments) {
                    out = Some(match cond {
                        Condition::All(_) => Condition::All(children),
                        Condition::Any(_) => Condition::Any(children),
                        _ => Condition::None(children),
                    });
                }
            }
            Condition::Segment(segment) => {
                ui.horizontal(|ui| {
                    if let Some(new) = super::choice(ui, id.with("segment"), "Segment", segment, segments) {
                        out = Some(Condition::Segment(new));
                    }
                });
            }
            Condition::Leaf(leaf) => {
                if let Some(leaf) = leaf_ui(ui, id, leaf) {
                    out = Some(Condition::Leaf(leaf));
                }
            }
        }
    });
    out
}

/// Turn a node into another kind, keeping what can be kept.
fn convert(cond: &Condition, kind: &str, segments: &[String]) -> Condition {
    let children = match cond {
        Condition::All(c) | Condition::Any(c) | Condition::None(c) => c.clone(),
        other => vec![other.clone()],
    };
    match kind {
        "all of" => Condition::All(children),
        "any of" => Condition::Any(children),
        "none of" => Condition::None(children),
        "in segment" => Condition::Segment(segments.first().cloned().unwrap_or_default()),
        _ => new_leaf(),
    }
}

/// The children of a group, each removable, and buttons to add more.
fn group_ui(ui: &mut egui::Ui, id: egui::Id, children: &[Condition], segments: &[String]) -> Option<Vec<Condition>> {
    let mut out: Option<Vec<Condition>> = None;
    ui.indent(id.with("children"), |ui| {
        if children.is_empty() {
            ui.label(RichText::new("(no conditions yet)").weak());
        }
        for (i, child) in children.iter().enumerate() {
            ui.horizontal_top(|ui| {
                if ui.small_button("x").on_hover_text("Remove this condition").clicked() {
                    let mut next = children.to_vec();
                    next.remove(i);
                    out = Some(next);
                }
                ui.vertical(|ui| {
                    if let Some(changed) = condition_ui(ui, id.with(i), child, segments) {
                        let mut next = children.to_vec();
                        next[i] = changed;
                        out = Some(next);
                    }
                });
            });
        }
        ui.horizontal(|ui| {
            let mut add = |c: Condition| {
                let mut next = children.to_vec();
                next.push(c);
                out = Some(next);
            };
            if ui.small_button("+ attribute test").clicked() {
                add(new_leaf());
            }
            if ui.small_button("+ segment test").clicked() {
                add(Condition::Segment(segments.first().cloned().unwrap_or_default()));
            }
            if ui.small_button("+ group").clicked() {
                add(Condition::All(Vec::new()));
            }
        });
    });
    out
}

/// An attribute test: attribute path, op, and values fitting the op.
fn leaf_ui(ui: &mut egui::Ui, id: egui::Id, leaf: &Leaf) -> Option<Leaf> {
    let mut out = None;
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Attribute");
        if let Some(attribute) =
            committed_text_field(ui, id.with("attr"), &leaf.attribute, "e.g. company.plan", 140.0, Some(l.id))
        {
            out = Some(Leaf { attribute, ..leaf.clone() });
        }
        egui::ComboBox::new(id.with("op"), "Op").selected_text(leaf.op.as_str()).show_ui(ui, |ui| {
            for op in Op::ALL {
                if ui.selectable_label(op == leaf.op, op.as_str()).clicked() && op != leaf.op {
                    out = Some(Leaf { op, values: values_for_op(op, &leaf.values), ..leaf.clone() });
                }
            }
        });
        let kind = values_kind(leaf.op);
        match kind {
            ValuesKind::Nothing => {
                ui.label(RichText::new("(takes no values)").weak());
            }
            ValuesKind::Percent => {
                let mut pct = leaf.values.first().and_then(Value::as_f64).unwrap_or(0.0);
                let r = ui.add(egui::Slider::new(&mut pct, 0.0..=100.0).max_decimals(3).suffix("%").text("Percent"));
                if r.changed() {
                    let n = Number::from_f64((pct * 1000.0).round() / 1000.0).unwrap_or_else(|| Number::from(0));
                    out = Some(Leaf { values: vec![Value::Number(n)], ..leaf.clone() });
                }
            }
            _ => {
                let l = ui.label("Values");
                let text = values_to_text(&leaf.values, kind);
                let err_id = id.with("values-error");
                if let Some(new) =
                    committed_text_field(ui, id.with("values"), &text, values_hint(kind), 220.0, Some(l.id))
                {
                    match text_to_values(&new, kind) {
                        Ok(values) => {
                            ui.data_mut(|d| d.remove::<String>(err_id));
                            out = Some(Leaf { values, ..leaf.clone() });
                        }
                        Err(e) => {
                            ui.data_mut(|d| d.insert_temp(err_id, e));
                        }
                    }
                }
                if let Some(e) = ui.data(|d| d.get_temp::<String>(err_id)) {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
            }
        }
    });
    out
}

/// Values kept across an op change where they still fit.
fn values_for_op(op: Op, values: &[Value]) -> Vec<Value> {
    match values_kind(op) {
        ValuesKind::Nothing => Vec::new(),
        ValuesKind::Percent => vec![values.iter().find(|v| v.is_number()).cloned().unwrap_or(Value::from(10))],
        ValuesKind::Numbers => {
            let numbers: Vec<Value> = values.iter().filter(|v| v.is_number()).cloned().collect();
            if numbers.is_empty() { vec![Value::from(0)] } else { numbers }
        }
        _ => values.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_read_by_op() {
        assert_eq!(
            text_to_values("US, 42, true, \"a, b\"", ValuesKind::Scalars).unwrap(),
            vec![
                Value::from("US"),
                serde_json::from_str::<Value>("42").unwrap(),
                Value::Bool(true),
                Value::from("a, b")
            ]
        );
        assert!(text_to_values("ten", ValuesKind::Numbers).is_err());
        assert_eq!(text_to_values("1.2.0", ValuesKind::Strings).unwrap(), vec![Value::from("1.2.0")]);
        assert_eq!(text_to_values(" , ", ValuesKind::Strings).unwrap(), Vec::<Value>::new());
    }

    #[test]
    fn values_round_trip_through_text() {
        let values = vec![Value::from("US"), Value::from("42"), Value::from(7), Value::from("x, y")];
        let text = values_to_text(&values, ValuesKind::Scalars);
        assert_eq!(text, "US, \"42\", 7, \"x, y\"");
        assert_eq!(text_to_values(&text, ValuesKind::Scalars).unwrap(), values);
    }

    #[test]
    fn every_op_has_an_input() {
        for op in Op::ALL {
            let values = values_for_op(op, &[Value::from("x")]);
            match values_kind(op) {
                ValuesKind::Nothing => assert!(values.is_empty()),
                ValuesKind::Percent | ValuesKind::Numbers => assert!(values.iter().all(Value::is_number)),
                _ => assert_eq!(values.len(), 1),
            }
        }
    }
}
