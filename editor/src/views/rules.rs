//! One flag in one environment: the kill switch, prerequisites, individual
//! targets per variant, rules (add, delete, reorder, segment, condition,
//! serve) and the default serve.
//!
//! - A new rule starts unfinished: no segment, no condition, serving
//!   nothing, so it decides no one until the person chooses what it serves
//!   ([`crate::document::is_unfinished`]).
//! - Rollout weights are typed one per variant (`34`, `33.333`): a typed
//!   weight changes that variant and takes the difference from one other —
//!   the next one, or the one marked as the balance — never rescaling the
//!   rest ([`burgee_rules::edit::set_weight`]); text that is not a weight
//!   from 0 to 100 with at most 3 decimals stays in its field, marked, and
//!   changes nothing. "Split evenly" shares 100 out.
//! - Each rule shows what the preview's sample says about it: a rule that
//!   decides no sample user (matching none, or shadowed by an earlier step),
//!   and a default no sample user reaches.

use std::sync::Arc;

use burgee_rules::Weight;
use burgee_rules::edit::{EditError, apply_stage_template, set_weight, split_evenly};
use burgee_rules::model::{
    Condition, Flag, FlagEnvironment, FlagFile, Prerequisite, Rollout, RolloutEntry, Rule, Serve,
};
use eframe::egui::{self, RichText};

use super::condition::{ConditionAt, condition_ui, new_leaf};
use super::field::{Applied, FieldSpec, commit_field, draft_field, live_field};
use super::{diagnostics_at, env_pointer, inline_diagnostics, unique_key};
use crate::document::{Document, is_unfinished};
use crate::preview::{Decider, RuleReach};

/// Apply `f` to flag `flag`'s settings in `env` as one undo step.
pub fn edit_env(doc: &mut Document, label: &str, flag: &str, env: &str, f: impl FnOnce(&mut FlagEnvironment)) -> bool {
    doc.edit(label, |m| {
        if let Some(e) = m.flags.get_mut(flag).map(Arc::make_mut).and_then(|f| f.environments.get_mut(env)) {
            f(e);
        }
    })
}

/// Like [`edit_env`], merged with the previous step of the same label (drags, typing).
fn edit_env_merging(
    doc: &mut Document,
    label: &str,
    flag: &str,
    env: &str,
    f: impl FnOnce(&mut FlagEnvironment),
) -> bool {
    doc.edit_merging(label, |m| {
        if let Some(e) = m.flags.get_mut(flag).map(Arc::make_mut).and_then(|f| f.environments.get_mut(env)) {
            f(e);
        }
    })
}

/// What the preview's sample says about one flag in one environment, for
/// the warnings shown on its rules and default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleFacts {
    /// The flag.
    pub flag: String,
    /// The environment.
    pub environment: String,
    /// How many sample users.
    pub total: usize,
    /// Per rule, in order.
    pub reach: Vec<RuleReach>,
    /// How many sample users the default decides.
    pub default_decides: usize,
}

impl SampleFacts {
    /// Whether these facts are about `flag` in `env`.
    pub fn is_for(&self, flag: &str, env: &str) -> bool {
        self.flag == flag && self.environment == env
    }

    /// The warning for rule `id`, if the sample gives one.
    pub fn rule_warning(&self, id: &str) -> Option<String> {
        let reach = self.reach.iter().find(|r| r.rule == id)?;
        if reach.decides > 0 || self.total == 0 {
            return None;
        }
        let total = crate::preview::chart::thousands(self.total);
        Some(match &reach.shadowed_by {
            None => format!("decides no one: none of the {total} sample users matches it"),
            Some(earlier) => {
                let by = match earlier {
                    Decider::Rule(r) => format!("rule `{r}` above it"),
                    Decider::Target => "the individual targets".to_owned(),
                    Decider::Prerequisite => "an unmet prerequisite".to_owned(),
                    Decider::Disabled => "the kill switch".to_owned(),
                    Decider::Default | Decider::Error(_) => "an earlier step".to_owned(),
                };
                format!(
                    "shadowed: all {} sample users it matches are decided earlier, by {by}",
                    crate::preview::chart::thousands(reach.matches)
                )
            }
        })
    }

    /// The warning for the default, if no sample user reaches it.
    pub fn default_warning(&self) -> Option<String> {
        (self.default_decides == 0 && self.total > 0).then(|| {
            format!(
                "no sample user reaches the default: the steps above decide all {}",
                crate::preview::chart::thousands(self.total)
            )
        })
    }
}

/// A new flag environment: disabled, serving the off variant.
pub fn new_environment(flag: &Flag) -> FlagEnvironment {
    FlagEnvironment {
        enabled: false,
        prerequisites: None,
        targets: None,
        rules: None,
        default: Serve::Variant(flag.off.clone()),
    }
}

/// A new rule for `env`: a fresh id, no segment, no condition, and no
/// variant yet — unfinished, so it decides no one until the person chooses
/// what it serves.
pub fn new_rule(env: &FlagEnvironment) -> Rule {
    let rules = env.rules.as_deref().unwrap_or_default();
    let id = unique_key(&format!("rule-{}", rules.len() + 1), |k| rules.iter().any(|r| r.id == k));
    Rule { id, description: None, segment: None, matches: None, serve: Serve::Variant(String::new()) }
}

/// Move rule `index` by `delta` places (-1 up, +1 down); false at an end.
pub fn move_rule(env: &mut FlagEnvironment, index: usize, delta: isize) -> bool {
    let Some(rules) = env.rules.as_mut() else { return false };
    let Some(to) = index.checked_add_signed(delta).filter(|to| *to < rules.len()) else { return false };
    if index >= rules.len() {
        return false;
    }
    rules.swap(index, to);
    true
}

/// Remove item `i` of an optional list, and the list itself once it is empty
/// (the file then has no empty `rules` or `prerequisites`).
fn remove_from<T>(list: &mut Option<Vec<T>>, i: usize) {
    if let Some(items) = list.as_mut().filter(|items| i < items.len()) {
        items.remove(i);
        if items.is_empty() {
            *list = None;
        }
    }
}

/// What is carried while a rule is dragged by its handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraggedRule {
    /// The flag.
    pub flag: String,
    /// The environment.
    pub env: String,
    /// The rule's index.
    pub index: usize,
}

/// Move rule `from` to position `to` (the others shift); false when either is out of range.
pub fn move_rule_to(env: &mut FlagEnvironment, from: usize, to: usize) -> bool {
    let Some(rules) = env.rules.as_mut() else { return false };
    if from >= rules.len() || to >= rules.len() {
        return false;
    }
    let rule = rules.remove(from);
    rules.insert(to, rule);
    true
}

/// The environment page of flag `key` in `env`. `file` is the model as it
/// was at the start of the frame; edits go to `doc`.
pub fn environment_ui(
    ui: &mut egui::Ui,
    doc: &mut Document,
    file: &FlagFile,
    key: &str,
    env_key: &str,
    sample: Option<&SampleFacts>,
) {
    let Some(flag) = file.flags.get(key) else { return };
    let pointer = env_pointer(key, env_key);
    let Some(env) = flag.environments.get(env_key) else {
        ui.label(format!("`{key}` has no settings for {env_key}, so it is off there (serves `{}`).", flag.off));
        if ui.button(format!("Configure {env_key}")).clicked() {
            let new_env = new_environment(flag);
            let order: Vec<String> = file.environments.clone();
            doc.edit("Configure environment", |m| {
                if let Some(f) = m.flags.get_mut(key).map(Arc::make_mut) {
                    f.environments.insert(env_key.to_owned(), new_env);
                    f.environments.sort_by_cached_key(|k, _| order.iter().position(|e| e == k).unwrap_or(usize::MAX));
                }
            });
        }
        return;
    };
    let variants: Vec<String> = flag.variants.keys().cloned().collect();

    // Kill switch.
    ui.horizontal(|ui| {
        let mut enabled = env.enabled;
        let text = format!("Enabled in {env_key}");
        if ui.checkbox(&mut enabled, RichText::new(text).strong()).changed() {
            edit_env(doc, if enabled { "Enable flag" } else { "Disable flag" }, key, env_key, |e| e.enabled = enabled);
        }
        if !env.enabled {
            ui.label(RichText::new(format!("off: everyone gets `{}`", flag.off)).color(ui.visuals().warn_fg_color));
        }
        let confirm_id = egui::Id::unique(("remove-settings", key, env_key));
        if ui
            .small_button("Remove settings")
            .on_hover_text("Delete this environment's settings (the flag is off there)")
            .clicked()
        {
            ui.data_mut(|d| d.insert_temp(confirm_id, true));
        }
        if ui.data(|d| d.get_temp::<bool>(confirm_id)).unwrap_or(false) {
            let question = format!("Remove the {env_key} settings of `{key}`?");
            let refs = [burgee_rules::edit::Reference {
                pointer: pointer.clone(),
                description: format!("the flag becomes off in {env_key}: everyone there gets `{}`", flag.off),
            }];
            if let Some(answer) = super::confirm_delete_ui(ui, "remove-settings", &question, &refs, "Remove settings") {
                if answer {
                    doc.edit("Remove environment settings", |m| {
                        if let Some(f) = m.flags.get_mut(key).map(Arc::make_mut) {
                            f.environments.shift_remove(env_key);
                        }
                    });
                }
                ui.data_mut(|d| d.remove::<bool>(confirm_id));
            }
        }
        diagnostics_at(ui, doc, &pointer);
    });
    stage_template_ui(ui, doc, file, key, env_key);
    ui.separator();

    prerequisites_ui(ui, doc, file, key, env_key, env);
    ui.separator();
    targets_ui(ui, doc, key, env_key, env, &variants);
    ui.separator();
    rules_ui(ui, doc, file, key, env_key, env, sample);
    ui.separator();

    ui.horizontal(|ui| {
        ui.label(RichText::new("Default (everyone else)").strong());
        if let Some(w) = sample.filter(|_| env.enabled).and_then(SampleFacts::default_warning) {
            ui.label(RichText::new(format!("warning: {w}")).color(ui.visuals().warn_fg_color));
        }
    });
    let at = ServeAt::Default { flag: key.to_owned(), env: env_key.to_owned() };
    serve_ui(ui, doc, &at, "Default", &env.default, flag);
    diagnostics_at(ui, doc, &format!("{pointer}/default"));
    diagnostics_at(ui, doc, &format!("{pointer}/default/variant"));
}

/// When the flag's stage has a template for this environment: a button that
/// applies it here only (its rules and default replace this environment's),
/// and the reason when that is refused.
fn stage_template_ui(ui: &mut egui::Ui, doc: &mut Document, file: &FlagFile, key: &str, env_key: &str) {
    let Some(stage_key) = file.flags.get(key).and_then(|f| f.stage.clone()) else { return };
    let Some(stage) = file.effective_stages().into_iter().find(|s| s.key == stage_key) else { return };
    if !stage.template.as_ref().is_some_and(|t| t.contains_key(env_key)) {
        return;
    }
    let message_id = egui::Id::unique((key, env_key, "template-message"));
    let text = format!("Apply the {} template to {env_key}", stage.name);
    let hover = "Replace this environment's rules and default with the stage's";
    if ui.button(text).on_hover_text(hover).clicked() {
        let result = doc.try_edit("Apply stage template", |m| {
            let mut applied = m.clone();
            apply_stage_template(&mut applied, key, &stage_key)?;
            let settings = applied.flags.get(key).and_then(|f| f.environments.get(env_key)).cloned();
            if let (Some(f), Some(settings)) = (m.flags.get_mut(key).map(Arc::make_mut), settings) {
                f.environments.insert(env_key.to_owned(), settings);
            }
            Ok::<(), EditError>(())
        });
        let message = match result {
            Some(Err(e)) => Some(format!("Template not applied: {e}")),
            _ => None,
        };
        ui.data_mut(|d| match message {
            Some(m) => {
                d.insert_temp(message_id, m);
            }
            None => d.remove::<String>(message_id),
        });
    }
    if let Some(m) = ui.data(|d| d.get_temp::<String>(message_id)) {
        ui.colored_label(ui.visuals().warn_fg_color, m);
    }
}

fn prerequisites_ui(
    ui: &mut egui::Ui,
    doc: &mut Document,
    file: &FlagFile,
    key: &str,
    env_key: &str,
    env: &FlagEnvironment,
) {
    let pointer = env_pointer(key, env_key);
    ui.label(RichText::new("Prerequisites").strong());
    let prerequisites = env.prerequisites.as_deref().unwrap_or_default();
    let other_flags: Vec<String> = file.flags.keys().filter(|k| *k != key).cloned().collect();
    // A prerequisite on a flag starts by waiting for its variants other than
    // its off variant (`on` for a switch); the checkboxes show and change it.
    let wanted = |flag: &str| -> Vec<String> {
        file.flags.get(flag).map(|f| f.variants.keys().filter(|v| **v != f.off).cloned().collect()).unwrap_or_default()
    };
    for (i, p) in prerequisites.iter().enumerate() {
        ui.horizontal_wrapped(|ui| {
            if let Some(new) = super::choice(ui, (key, env_key, "prereq", i), "Requires flag", &p.flag, &other_flags) {
                let variants = wanted(&new);
                edit_env(doc, "Change prerequisite", key, env_key, |e| {
                    if let Some(p) = e.prerequisites.as_mut().and_then(|ps| ps.get_mut(i)) {
                        p.flag = new;
                        p.variants = variants;
                    }
                });
            }
            ui.label("serving");
            let names = file.flags.get(&p.flag).map(|f| f.variants.keys().cloned().collect::<Vec<_>>());
            for v in names.unwrap_or_default() {
                let mut on = p.variants.contains(&v);
                if ui.checkbox(&mut on, v.as_str()).changed() {
                    edit_env(doc, "Change prerequisite", key, env_key, |e| {
                        if let Some(p) = e.prerequisites.as_mut().and_then(|ps| ps.get_mut(i)) {
                            if on {
                                p.variants.push(v.clone());
                            } else {
                                p.variants.retain(|x| *x != v);
                            }
                        }
                    });
                }
            }
            if ui.small_button("x").accessible_name(format!("Remove prerequisite {}", p.flag)).clicked() {
                edit_env(doc, "Remove prerequisite", key, env_key, |e| remove_from(&mut e.prerequisites, i));
            }
            inline_diagnostics(ui, doc, &format!("{pointer}/prerequisites/{i}"));
        });
    }
    if !other_flags.is_empty() {
        let taken: Vec<&str> = prerequisites.iter().map(|p| p.flag.as_str()).collect();
        let options: Vec<String> = other_flags.iter().filter(|f| !taken.contains(&f.as_str())).cloned().collect();
        let name = format!("Add prerequisite to {key} in {env_key}");
        if let Some(flag) =
            super::choice_named(ui, (key, env_key, "add-prereq"), "", &name, "Add prerequisite…", &options)
        {
            let variants = wanted(&flag);
            edit_env(doc, "Add prerequisite", key, env_key, |e| {
                e.prerequisites.get_or_insert_with(Vec::new).push(Prerequisite { flag, variants });
            });
        }
    }
}

fn targets_ui(
    ui: &mut egui::Ui,
    doc: &mut Document,
    key: &str,
    env_key: &str,
    env: &FlagEnvironment,
    variants: &[String],
) {
    let pointer = env_pointer(key, env_key);
    ui.label(RichText::new("Individual targets").strong());
    egui::Grid::new((key, env_key, "targets")).num_columns(2).show(ui, |ui| {
        for v in variants {
            super::variant_chip(ui, variants, v);
            ui.horizontal_wrapped(|ui| {
                let keys = env.targets.as_ref().and_then(|t| t.get(v)).cloned().unwrap_or_default();
                for target in &keys {
                    ui.label(target);
                    if ui.small_button("x").accessible_name(format!("Remove target {target} from {v}")).clicked() {
                        let (v, target) = (v.clone(), target.clone());
                        edit_env(doc, "Remove target", key, env_key, |e| {
                            if let Some(t) = e.targets.as_mut() {
                                if let Some(list) = t.get_mut(&v) {
                                    list.retain(|k| *k != target);
                                    if list.is_empty() {
                                        t.shift_remove(&v);
                                    }
                                }
                                if t.is_empty() {
                                    e.targets = None;
                                }
                            }
                        });
                    }
                }
                let id = egui::Id::unique((key, env_key, "add-target", v));
                let at = format!("{pointer}/targets/{}", super::escape(v));
                let spec = FieldSpec::new("", format!("Add target key for {v}"), at).hint("targeting key, then Enter");
                if let Some(new) = draft_field(ui, id, spec) {
                    let v = v.clone();
                    edit_env(doc, "Add target", key, env_key, |e| {
                        let t = e.targets.get_or_insert_with(Default::default);
                        let list = t.entry(v).or_default();
                        if !list.contains(&new) {
                            list.push(new);
                        }
                    });
                }
                inline_diagnostics(ui, doc, &format!("{pointer}/targets/{}", super::escape(v)));
            });
            ui.end_row();
        }
    });
    diagnostics_at(ui, doc, &format!("{pointer}/targets"));
}

#[allow(clippy::too_many_arguments)]
fn rules_ui(
    ui: &mut egui::Ui,
    doc: &mut Document,
    file: &FlagFile,
    key: &str,
    env_key: &str,
    env: &FlagEnvironment,
    sample: Option<&SampleFacts>,
) {
    let Some(flag) = file.flags.get(key) else { return };
    let pointer = env_pointer(key, env_key);
    let segments: Vec<String> = file.segments.as_ref().map(|s| s.keys().cloned().collect()).unwrap_or_default();
    ui.label(RichText::new("Rules (first match wins)").strong());
    let rules = env.rules.as_deref().unwrap_or_default();
    let n = rules.len();
    for (i, rule) in rules.iter().enumerate() {
        let rule_pointer = format!("{pointer}/rules/{i}");
        let unfinished = is_unfinished(rule);
        let mut frame = egui::Frame::group(ui.style());
        if unfinished {
            frame = frame.stroke(egui::Stroke::new(1.5, ui.visuals().warn_fg_color));
        }
        let frame = frame.show(ui, |ui| {
            ui.set_width(ui.available_width());
            rule_header_ui(ui, doc, key, env_key, i, n, rule);
            if unfinished {
                ui.label(
                    RichText::new(
                        "New rule, not finished: it decides no one until you choose what it serves. \
                         Choose who it applies to (a segment, a condition, or everyone) and a variant below.",
                    )
                    .color(ui.visuals().warn_fg_color),
                );
            } else if let Some(w) = sample.filter(|_| env.enabled).and_then(|s| s.rule_warning(&rule.id)) {
                ui.label(RichText::new(format!("warning: {w}")).color(ui.visuals().warn_fg_color));
            }
            let mut description = rule.description.clone().unwrap_or_default();
            ui.horizontal(|ui| {
                ui.label("Description");
                let edit = egui::TextEdit::singleline(&mut description).hint_text("what this rule is for");
                let r = ui
                    .add(edit.desired_width(ui.available_width().min(480.0)))
                    .accessible_name(format!("Rule {} description", rule.id));
                if r.changed() {
                    edit_env_merging(doc, "Edit rule description", key, env_key, |e| {
                        if let Some(r) = e.rules.as_mut().and_then(|r| r.get_mut(i)) {
                            r.description = (!description.is_empty()).then(|| description.clone());
                        }
                    });
                }
            });
            ui.horizontal(|ui| {
                let mut options = vec![EVERYONE.to_owned()];
                options.extend(segments.iter().cloned());
                let current = rule.segment.clone().unwrap_or_else(|| options[0].clone());
                let label = format!("Rule {} segment", rule.id);
                if let Some(new) =
                    super::choice_named(ui, (key, env_key, "rule-seg", i), "applies to", &label, &current, &options)
                {
                    let segment = (new != EVERYONE).then_some(new);
                    edit_env(doc, "Change rule segment", key, env_key, |e| {
                        if let Some(r) = e.rules.as_mut().and_then(|r| r.get_mut(i)) {
                            r.segment = segment;
                        }
                    });
                }
                if rule.matches.is_none() {
                    let add = ui.small_button("Add condition");
                    if add.accessible_name(format!("Add condition to rule {}", rule.id)).clicked() {
                        edit_env(doc, "Add rule condition", key, env_key, |e| {
                            if let Some(r) = e.rules.as_mut().and_then(|r| r.get_mut(i)) {
                                r.matches = Some(Condition::All(vec![new_leaf()]));
                            }
                        });
                    }
                }
                inline_diagnostics(ui, doc, &format!("{rule_pointer}/segment"));
            });
            if let Some(cond) = &rule.matches {
                let at = ConditionAt::rule(key, env_key, i, &rule.id);
                condition_ui(ui, doc, &at, cond, &segments);
                let remove = ui.small_button("Remove condition");
                if remove.accessible_name(format!("Remove condition of rule {}", rule.id)).clicked() {
                    at.set_root(doc, "Remove rule condition", None);
                }
            }
            let at = ServeAt::Rule { flag: key.to_owned(), env: env_key.to_owned(), index: i, id: rule.id.clone() };
            serve_ui(ui, doc, &at, &format!("Rule {}", rule.id), &rule.serve, flag);
            diagnostics_at(ui, doc, &rule_pointer);
            diagnostics_at(ui, doc, &format!("{rule_pointer}/serve"));
            if !unfinished {
                // An unfinished rule says so above, in words.
                diagnostics_at(ui, doc, &format!("{rule_pointer}/serve/variant"));
            }
            diagnostics_at(ui, doc, &format!("{rule_pointer}/id"));
        });
        if let Some(dropped) = frame.response.dnd_release_payload::<DraggedRule>()
            && dropped.flag == key
            && dropped.env == env_key
            && dropped.index != i
        {
            edit_env(doc, "Move rule", key, env_key, |e| {
                move_rule_to(e, dropped.index, i);
            });
        }
    }
    if ui.button("Add rule").clicked() {
        let rule = new_rule(env);
        edit_env(doc, "Add rule", key, env_key, |e| e.rules.get_or_insert_with(Vec::new).push(rule));
    }
    diagnostics_at(ui, doc, &format!("{pointer}/rules"));
}

/// The segment chooser's entry for a rule without a segment.
const EVERYONE: &str = "everyone";

/// A rule's first row: the drag handle, its id, up, down, delete.
fn rule_header_ui(ui: &mut egui::Ui, doc: &mut Document, key: &str, env_key: &str, i: usize, n: usize, rule: &Rule) {
    ui.horizontal(|ui| {
        let handle = egui::Id::unique((key, env_key, "rule-drag", i));
        let dragged = DraggedRule { flag: key.to_owned(), env: env_key.to_owned(), index: i };
        ui.dnd_drag_source(handle, dragged, |ui| {
            ui.label(RichText::new(format!("= Rule {}", i + 1)).strong())
                .on_hover_text("Drag onto another rule to move it there");
        });
        ui.label("id");
        let at = format!("{}/rules/{i}/id", env_pointer(key, env_key));
        let spec = FieldSpec::new(&rule.id, format!("Rule {} id", i + 1), at);
        let (flag, env, old) = (key.to_owned(), env_key.to_owned(), rule.id.clone());
        let apply: super::field::Apply = Arc::new(move |doc: &mut Document, text: &str| {
            let new = text.trim().to_owned();
            if !burgee_rules::model::is_valid_key(&new) {
                return Err("use 1 to 128 of A-Z a-z 0-9 _ - .".to_owned());
            }
            let rules = doc
                .model()
                .and_then(|m| m.flags.get(&flag))
                .and_then(|f| f.environments.get(&env))
                .and_then(|e| e.rules.clone())
                .unwrap_or_default();
            if rules.get(i).is_none_or(|r| r.id != old) {
                return Err(format!("rule `{old}` has moved or was removed"));
            }
            if let Some(other) = rules.iter().position(|r| r.id == new).filter(|&j| j != i) {
                return Err(format!("rule {} already has the id `{new}`", other + 1));
            }
            edit_env(doc, "Rename rule", &flag, &env, |e| {
                if let Some(r) = e.rules.as_mut().and_then(|r| r.get_mut(i)) {
                    r.id = new;
                }
            });
            Ok(Applied::Done)
        });
        commit_field(ui, doc, egui::Id::unique((key, env_key, "rule-id", i, &rule.id)), spec, apply);
        let up =
            ui.add_enabled(i > 0, egui::Button::new("Up").small()).accessible_name(format!("Move rule {} up", rule.id));
        if up.clicked() {
            edit_env(doc, "Move rule", key, env_key, |e| {
                move_rule(e, i, -1);
            });
        }
        let down = ui
            .add_enabled(i + 1 < n, egui::Button::new("Down").small())
            .accessible_name(format!("Move rule {} down", rule.id));
        if down.clicked() {
            edit_env(doc, "Move rule", key, env_key, |e| {
                move_rule(e, i, 1);
            });
        }
        if ui.small_button("Delete").accessible_name(format!("Delete rule {}", rule.id)).clicked() {
            edit_env(doc, "Delete rule", key, env_key, |e| remove_from(&mut e.rules, i));
        }
    });
}

/// Where a serve is: a rule's (by position and id) or the default.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ServeAt {
    /// Rule `index` (id `id`) of `flag` in `env`.
    Rule {
        /// The flag.
        flag: String,
        /// The environment.
        env: String,
        /// The rule's position.
        index: usize,
        /// Its id when drawn (an edit lands only on that rule).
        id: String,
    },
    /// The default of `flag` in `env`.
    Default {
        /// The flag.
        flag: String,
        /// The environment.
        env: String,
    },
}

impl ServeAt {
    /// The serve in `file`, if it is still there.
    fn serve_mut<'f>(&self, file: &'f mut FlagFile) -> Option<&'f mut Serve> {
        let (flag, env) = match self {
            ServeAt::Rule { flag, env, .. } | ServeAt::Default { flag, env } => (flag, env),
        };
        let e = Arc::make_mut(file.flags.get_mut(flag)?).environments.get_mut(env)?;
        match self {
            ServeAt::Default { .. } => Some(&mut e.default),
            ServeAt::Rule { index, id, .. } => {
                let rule = e.rules.as_mut()?.get_mut(*index)?;
                (rule.id == *id).then_some(&mut rule.serve)
            }
        }
    }

    /// Apply `f` to the serve as one undo step (merged with the previous one
    /// of the same label when `merging`: a slider drag is one step).
    pub fn edit(&self, doc: &mut Document, label: &str, merging: bool, f: impl FnOnce(&mut Serve)) -> bool {
        let apply = |m: &mut FlagFile| {
            if let Some(serve) = self.serve_mut(m) {
                f(serve);
            }
        };
        if merging { doc.edit_merging(label, apply) } else { doc.edit(label, apply) }
    }

    fn pointer(&self) -> String {
        match self {
            ServeAt::Rule { flag, env, index, .. } => format!("{}/rules/{index}/serve", env_pointer(flag, env)),
            ServeAt::Default { flag, env } => format!("{}/default", env_pointer(flag, env)),
        }
    }
}

/// The first choice of the variant chooser of a rule that serves nothing yet.
const CHOOSE_VARIANT: &str = "(choose a variant)";

/// A serve: one variant, or a rollout with a weight per variant (see the
/// [module docs](self)), `bucket_by` and `salt`. `prefix` names the widgets
/// ("Default", "Rule staff"): the weight of variant `on` is labelled
/// `"{prefix} rollout on weight"`, its slider `"{prefix} rollout on %"`.
pub fn serve_ui(ui: &mut egui::Ui, doc: &mut Document, at: &ServeAt, prefix: &str, serve: &Serve, flag: &Flag) {
    let variants: Vec<String> = flag.variants.keys().cloned().collect();
    let variants = &variants[..];
    let flag_key = match at {
        ServeAt::Rule { flag, .. } | ServeAt::Default { flag, .. } => flag.as_str(),
    };
    ui.horizontal(|ui| {
        ui.label("Serve");
        let is_rollout = matches!(serve, Serve::Rollout(_));
        let one =
            ui.selectable_label(!is_rollout, "one variant").accessible_name(format!("{prefix} serves one variant"));
        if one.clicked()
            && let Serve::Rollout(r) = serve
        {
            // The variant with the largest share (the first among equals).
            let biggest = r.entries.iter().max_by_key(|e| (weight(e), std::cmp::Reverse(e.variant.clone())));
            let v = biggest.map(|e| e.variant.clone()).unwrap_or_default();
            at.edit(doc, "Change serve", false, |s| *s = Serve::Variant(v));
        }
        let roll = ui.selectable_label(is_rollout, "rollout").accessible_name(format!("{prefix} serves a rollout"));
        if roll.clicked()
            && let Serve::Variant(v) = serve
        {
            let rollout = rollout_from(v, variants, &flag.off);
            at.edit(doc, "Change serve", false, |s| *s = Serve::Rollout(rollout));
        }
        if let Serve::Variant(v) = serve {
            let shown = if v.is_empty() { CHOOSE_VARIANT } else { v.as_str() };
            if let Some(new) = super::choice_named(
                ui,
                egui::Id::unique((at, "variant")),
                "",
                &format!("{prefix} variant"),
                shown,
                variants,
            ) {
                at.edit(doc, "Change serve", false, |s| *s = Serve::Variant(new));
            }
            if !v.is_empty() {
                super::variant_chip(ui, variants, v);
            }
        }
    });
    if let Serve::Rollout(rollout) = serve {
        rollout_ui(ui, doc, at, prefix, rollout, variants, flag_key);
    }
}

/// A rollout of every variant with all of it on `current` — switching to a
/// rollout moves no one — or, for a rule that serves nothing yet, on the
/// off variant (a ramp starts at 0 %).
fn rollout_from(current: &str, variants: &[String], off: &str) -> Rollout {
    let on = variants.iter().position(|v| v == current).or_else(|| variants.iter().position(|v| v == off)).unwrap_or(0);
    let entries = variants
        .iter()
        .enumerate()
        .map(|(i, v)| RolloutEntry {
            variant: v.clone(),
            weight: if i == on { Weight::ALL } else { Weight::NONE }.to_number(),
        })
        .collect();
    Rollout { entries, bucket_by: None, salt: None }
}

/// An entry's weight in thousandths of a percent.
fn weight(entry: &RolloutEntry) -> u32 {
    Weight::nearest(&entry.weight).map_or(0, Weight::thousandths)
}

/// The entry that takes the difference when entry `index` is typed: the one
/// marked as the balance, or else the next one (wrapping).
fn balance_for(marked: Option<usize>, index: usize, len: usize) -> usize {
    match marked {
        Some(b) if b != index && b < len => b,
        _ => (index + 1) % len.max(1),
    }
}

fn rollout_ui(
    ui: &mut egui::Ui,
    doc: &mut Document,
    at: &ServeAt,
    prefix: &str,
    rollout: &Rollout,
    variants: &[String],
    flag_key: &str,
) {
    let id = egui::Id::unique((at, "rollout"));
    let marked_id = id.with("balance");
    let marked: Option<String> = ui.data(|d| d.get_temp::<String>(marked_id));
    let marked_index = marked.as_ref().and_then(|m| rollout.entries.iter().position(|e| &e.variant == m));
    let len = rollout.entries.len();
    ui.indent(id, |ui| {
        rollout_bar(ui, rollout, variants);
        egui::Grid::new(id.with("grid")).num_columns(5).show(ui, |ui| {
            for (i, entry) in rollout.entries.iter().enumerate() {
                super::variant_chip(ui, variants, &entry.variant);
                let balance = balance_for(marked_index, i, len);
                let balance_name = rollout.entries.get(balance).map_or("", |e| e.variant.as_str()).to_owned();
                // The typed weight.
                ui.horizontal(|ui| {
                    let text = entry.weight.to_string();
                    let what = format!("{prefix} rollout {} weight", entry.variant);
                    let spec = FieldSpec::new(&text, what, format!("{}/rollout/{i}/weight", at.pointer()))
                        .min_width(70.0)
                        .mark_elsewhere();
                    let (target, variant) = (at.clone(), entry.variant.clone());
                    let apply: super::field::Apply = Arc::new(move |doc: &mut Document, typed: &str| {
                        let w = Weight::from_text(typed)?;
                        let mut outcome = Err(format!("the rollout no longer has `{variant}`"));
                        target.edit(doc, "Set rollout weight", false, |s| {
                            if let Serve::Rollout(r) = s
                                && r.entries.get(i).is_some_and(|e| e.variant == variant)
                            {
                                outcome = set_weight(&mut r.entries, i, w, balance).map_err(|e| e.to_string());
                            }
                        });
                        outcome.map(|()| Applied::Done)
                    });
                    commit_field(ui, doc, weight_field(at, i, &entry.variant), spec, apply);
                    ui.label("%").on_hover_text(format!("Typing a weight takes the difference from `{balance_name}`"));
                });
                // The slider: the same edit, dragged.
                let mut pct = f64::from(weight(entry)) / 1000.0;
                let slider = egui::Slider::new(&mut pct, 0.0..=100.0)
                    .max_decimals(3)
                    .step_by(0.001)
                    .show_value(false)
                    .text(format!("{prefix} rollout {} %", entry.variant));
                let r = ui.add(slider).on_hover_text(format!("Dragging takes the difference from `{balance_name}`"));
                if r.changed() {
                    let w = Weight::saturating(
                        (pct * 1000.0).round().clamp(0.0, f64::from(Weight::ALL.thousandths())) as u32
                    );
                    at.edit(doc, "Set rollout weight", true, |s| {
                        if let Serve::Rollout(r) = s {
                            let _ = set_weight(&mut r.entries, i, w, balance);
                        }
                    });
                }
                ui.horizontal(|ui| {
                    let mut is_balance = marked_index == Some(i);
                    let b = ui
                        .checkbox(&mut is_balance, "balance")
                        .on_hover_text("Typing another weight takes the difference from this variant");
                    if b.changed() {
                        ui.data_mut(|d| {
                            if is_balance {
                                d.insert_temp(marked_id, entry.variant.clone());
                            } else {
                                d.remove::<String>(marked_id);
                            }
                        });
                    }
                    if len > 1 {
                        let remove =
                            ui.small_button("x").accessible_name(format!("{prefix} rollout: remove {}", entry.variant));
                        if remove.clicked() {
                            at.edit(doc, "Remove rollout entry", false, |s| {
                                if let Serve::Rollout(r) = s
                                    && i < r.entries.len()
                                {
                                    // Its share goes to its balance first.
                                    let _ = set_weight(&mut r.entries, i, Weight::NONE, balance);
                                    r.entries.remove(i);
                                }
                            });
                        }
                    }
                });
                super::field::mark(ui, weight_field(at, i, &entry.variant));
                ui.end_row();
            }
        });
        let total: u32 = rollout.entries.iter().map(weight).sum();
        if total != Weight::ALL.thousandths() {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("weights add up to {}%, not 100%", f64::from(total) / 1000.0),
            );
        }
        ui.horizontal(|ui| {
            if ui.small_button("Split evenly").accessible_name(format!("{prefix} rollout: split evenly")).clicked() {
                at.edit(doc, "Split rollout evenly", false, |s| {
                    if let Serve::Rollout(r) = s {
                        split_evenly(&mut r.entries);
                    }
                });
            }
            for v in variants.iter().filter(|v| !rollout.entries.iter().any(|e| &e.variant == *v)) {
                if ui.small_button(format!("+ {v}")).accessible_name(format!("{prefix} rollout: add {v}")).clicked() {
                    let v = v.clone();
                    at.edit(doc, "Add rollout entry", false, |s| {
                        if let Serve::Rollout(r) = s {
                            r.entries.push(RolloutEntry { variant: v, weight: Weight::NONE.to_number() });
                        }
                    });
                }
            }
        });
        ui.horizontal(|ui| {
            let l = ui.label("bucket by");
            let current = rollout.bucket_by.clone().unwrap_or_default();
            let spec = FieldSpec::new(&current, format!("{prefix} bucket by"), format!("{}/bucket_by", at.pointer()))
                .hint("targetingKey")
                .labelled_by(l.id);
            if let Some(b) = live_field(ui, id.with("bucket"), spec, |t| Ok::<_, String>(t.to_owned())) {
                at.edit(doc, "Change bucket_by", true, |s| {
                    if let Serve::Rollout(r) = s {
                        r.bucket_by = (!b.is_empty()).then_some(b);
                    }
                });
            }
            let l = ui.label("salt");
            let current = rollout.salt.clone().unwrap_or_default();
            let spec = FieldSpec::new(&current, format!("{prefix} salt"), format!("{}/salt", at.pointer()))
                .hint(flag_key)
                .labelled_by(l.id);
            if let Some(salt) = live_field(ui, id.with("salt"), spec, |t| Ok::<_, String>(t.to_owned())) {
                at.edit(doc, "Change salt", true, |s| {
                    if let Serve::Rollout(r) = s {
                        r.salt = (!salt.is_empty()).then_some(salt);
                    }
                });
            }
        });
        if rollout.salt.is_some() {
            ui.label(RichText::new("A different salt puts every user in a new bucket.").weak().small());
        }
        inline_diagnostics(ui, doc, &format!("{}/rollout", at.pointer()));
    });
}

/// The id of the weight field of entry `i` (variant `variant`) of the rollout at `at`.
fn weight_field(at: &ServeAt, i: usize, variant: &str) -> egui::Id {
    egui::Id::unique((at, "weight", i, variant))
}

/// The rollout as one bar, each variant's share in its colour.
fn rollout_bar(ui: &mut egui::Ui, rollout: &Rollout, variants: &[String]) {
    let width = ui.available_width().min(360.0);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(width, 8.0), egui::Sense::hover());
    let mut x = rect.left();
    for entry in &rollout.entries {
        let w = rect.width() * weight(entry) as f32 / Weight::ALL.thousandths() as f32;
        let part = egui::Rect::from_min_size(egui::pos2(x, rect.top()), egui::vec2(w, rect.height()));
        ui.painter().rect_filled(part, 0.0, super::color_of(variants, &entry.variant));
        x += w;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag() -> Flag {
        serde_json::from_str(
            r#"{"variants": {"on": true, "off": false}, "off": "off",
                "environments": {"production": {"enabled": true, "rules": [
                  {"id": "a", "serve": {"variant": "on"}}, {"id": "b", "serve": {"variant": "off"}}],
                  "default": {"variant": "off"}}}}"#,
        )
        .unwrap()
    }

    #[test]
    fn rules_move_within_bounds() {
        let mut env = flag().environments["production"].clone();
        assert!(!move_rule(&mut env, 0, -1));
        assert!(move_rule(&mut env, 0, 1));
        let ids: Vec<_> = env.rules.as_ref().unwrap().iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["b", "a"]);
        assert!(!move_rule(&mut env, 1, 1));
    }

    #[test]
    fn a_dragged_rule_lands_where_it_is_dropped() {
        let mut env = flag().environments["production"].clone();
        let c = Rule { id: "c".into(), ..env.rules.as_ref().unwrap()[0].clone() };
        env.rules.as_mut().unwrap().push(c);
        assert!(move_rule_to(&mut env, 2, 0));
        let ids: Vec<_> = env.rules.as_ref().unwrap().iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["c", "a", "b"]);
        assert!(!move_rule_to(&mut env, 3, 0));
    }

    #[test]
    fn a_new_rule_gets_a_fresh_id_and_serves_nothing_yet() {
        let f = flag();
        let rule = new_rule(&f.environments["production"]);
        assert_eq!(rule.id, "rule-3");
        assert!(is_unfinished(&rule) && rule.segment.is_none() && rule.matches.is_none());
    }

    #[test]
    fn a_rollout_starts_with_everything_on_the_served_variant() {
        let variants = ["on".to_owned(), "off".to_owned()];
        let weights = |r: Rollout| r.entries.iter().map(weight).collect::<Vec<_>>();
        assert_eq!(weights(rollout_from("on", &variants, "off")), [100_000, 0]);
        assert_eq!(weights(rollout_from("", &variants, "off")), [0, 100_000], "an unfinished rule starts at 0 % on");
    }

    #[test]
    fn the_balance_is_the_marked_variant_or_the_next() {
        assert_eq!(balance_for(None, 0, 3), 1);
        assert_eq!(balance_for(None, 2, 3), 0);
        assert_eq!(balance_for(Some(2), 0, 3), 2);
        assert_eq!(balance_for(Some(0), 0, 3), 1, "a variant does not balance itself");
    }
}
