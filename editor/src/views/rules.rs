//! One flag in one environment: the kill switch, prerequisites, individual
//! targets per variant, rules (add, delete, reorder, segment, condition,
//! serve) and the default serve, with rollouts as sliders and numeric fields
//! that always add up to 100 ([`burgee_rules::edit::set_rollout_weight`]).

use std::sync::Arc;

use burgee_rules::edit::{EditError, apply_stage_template, set_rollout_weight, weight_number, weight_thousandths};
use burgee_rules::model::{Flag, FlagEnvironment, FlagFile, Prerequisite, Rollout, RolloutEntry, Rule, Serve};
use eframe::egui::{self, RichText};

use super::condition::condition_ui;
use super::{committed_text, committed_text_field, diagnostics_at, env_pointer, inline_diagnostics, unique_key};
use crate::document::Document;

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

/// A new rule for `env` of `flag`: a fresh id, matching everyone, serving
/// the first variant that is not the off variant.
pub fn new_rule(flag: &Flag, env: &FlagEnvironment) -> Rule {
    let rules = env.rules.as_deref().unwrap_or_default();
    let id = unique_key(&format!("rule-{}", rules.len() + 1), |k| rules.iter().any(|r| r.id == k));
    let variant = flag.variants.keys().find(|v| **v != flag.off).or_else(|| flag.variants.keys().next());
    Rule {
        id,
        description: None,
        segment: None,
        matches: None,
        serve: Serve::Variant(variant.cloned().unwrap_or_default()),
    }
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

/// The environment page of flag `key` in `env`. `file` is a copy of the
/// model taken for this frame; edits go to `doc`.
pub fn environment_ui(ui: &mut egui::Ui, doc: &mut Document, file: &FlagFile, key: &str, env_key: &str) {
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
        if ui
            .small_button("Remove settings")
            .on_hover_text("Delete this environment's settings (the flag is off there)")
            .clicked()
        {
            doc.edit("Remove environment settings", |m| {
                if let Some(f) = m.flags.get_mut(key).map(Arc::make_mut) {
                    f.environments.shift_remove(env_key);
                }
            });
        }
    });
    diagnostics_at(ui, doc, &pointer);
    stage_template_ui(ui, doc, file, key, env_key);
    ui.separator();

    prerequisites_ui(ui, doc, file, key, env_key, env);
    ui.separator();
    targets_ui(ui, doc, key, env_key, env, &variants);
    ui.separator();
    rules_ui(ui, doc, file, flag, key, env_key, env, &variants);
    ui.separator();

    ui.label(RichText::new("Default (everyone else)").strong());
    if let Some(serve) =
        serve_ui(ui, egui::Id::unique((key, env_key, "default")), "Default", &env.default, &variants, key)
    {
        let label = if matches!(serve, Serve::Rollout(_)) { "Set rollout weight" } else { "Change default" };
        edit_env_merging(doc, label, key, env_key, |e| e.default = serve);
    }
    inline_diagnostics(ui, doc, &format!("{pointer}/default"));
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
    for (i, p) in prerequisites.iter().enumerate() {
        ui.horizontal_wrapped(|ui| {
            if let Some(new) = super::choice(ui, (key, env_key, "prereq", i), "Requires flag", &p.flag, &other_flags) {
                let first = file.flags.get(&new).and_then(|f| f.variants.keys().next().cloned());
                edit_env(doc, "Change prerequisite", key, env_key, |e| {
                    if let Some(p) = e.prerequisites.as_mut().and_then(|ps| ps.get_mut(i)) {
                        p.flag = new;
                        p.variants = first.into_iter().collect();
                    }
                });
            }
            ui.label("serving");
            for v in file.flags.get(&p.flag).map(|f| f.variants.keys().cloned().collect::<Vec<_>>()).unwrap_or_default()
            {
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
                edit_env(doc, "Remove prerequisite", key, env_key, |e| {
                    if let Some(ps) = e.prerequisites.as_mut() {
                        ps.remove(i);
                        if ps.is_empty() {
                            e.prerequisites = None;
                        }
                    }
                });
            }
        });
        inline_diagnostics(ui, doc, &format!("{pointer}/prerequisites/{i}"));
    }
    if !other_flags.is_empty() && ui.button("Add prerequisite").clicked() {
        let flag = other_flags[0].clone();
        let variants = file.flags.get(&flag).and_then(|f| f.variants.keys().next().cloned()).into_iter().collect();
        edit_env(doc, "Add prerequisite", key, env_key, |e| {
            e.prerequisites.get_or_insert_with(Vec::new).push(Prerequisite { flag, variants });
        });
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
            ui.label(RichText::new(v).monospace());
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
                let name = format!("Add target key for {v}");
                if let Some(new) = committed_text_field(ui, id, "", &name, 170.0, None) {
                    let new = new.trim().to_owned();
                    if !new.is_empty() {
                        let v = v.clone();
                        edit_env(doc, "Add target", key, env_key, |e| {
                            let t = e.targets.get_or_insert_with(Default::default);
                            let list = t.entry(v).or_default();
                            if !list.contains(&new) {
                                list.push(new);
                            }
                        });
                    }
                }
            });
            ui.end_row();
        }
    });
    inline_diagnostics(ui, doc, &format!("{pointer}/targets"));
}

#[allow(clippy::too_many_arguments)]
fn rules_ui(
    ui: &mut egui::Ui,
    doc: &mut Document,
    file: &FlagFile,
    flag: &Flag,
    key: &str,
    env_key: &str,
    env: &FlagEnvironment,
    variants: &[String],
) {
    let pointer = env_pointer(key, env_key);
    let segments: Vec<String> = file.segments.as_ref().map(|s| s.keys().cloned().collect()).unwrap_or_default();
    ui.label(RichText::new("Rules (first match wins)").strong());
    let rules = env.rules.as_deref().unwrap_or_default();
    let n = rules.len();
    for (i, rule) in rules.iter().enumerate() {
        let rule_pointer = format!("{pointer}/rules/{i}");
        let frame = egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                let handle = egui::Id::unique((key, env_key, "rule-drag", i));
                let dragged = DraggedRule { flag: key.to_owned(), env: env_key.to_owned(), index: i };
                ui.dnd_drag_source(handle, dragged, |ui| {
                    ui.label(RichText::new(format!("= Rule {}", i + 1)).strong())
                        .on_hover_text("Drag onto another rule to move it there");
                });
                let l = ui.label("id");
                if let Some(id) = committed_text_field(
                    ui,
                    egui::Id::unique((key, env_key, "rule-id", i)),
                    &rule.id,
                    "",
                    140.0,
                    Some(l.id),
                ) {
                    edit_env(doc, "Rename rule", key, env_key, |e| {
                        if let Some(r) = e.rules.as_mut().and_then(|r| r.get_mut(i)) {
                            r.id = id.trim().to_owned();
                        }
                    });
                }
                let up = ui
                    .add_enabled(i > 0, egui::Button::new("Up").small())
                    .accessible_name(format!("Move rule {} up", rule.id));
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
                    edit_env(doc, "Delete rule", key, env_key, |e| {
                        if let Some(rules) = e.rules.as_mut() {
                            rules.remove(i);
                            if rules.is_empty() {
                                e.rules = None;
                            }
                        }
                    });
                }
            });
            if let Some(d) = committed_text(
                ui,
                egui::Id::unique((key, env_key, "rule-desc", i)),
                "Description",
                rule.description.as_deref().unwrap_or_default(),
                "what this rule is for",
            ) {
                edit_env(doc, "Edit rule description", key, env_key, |e| {
                    if let Some(r) = e.rules.as_mut().and_then(|r| r.get_mut(i)) {
                        r.description = (!d.trim().is_empty()).then_some(d);
                    }
                });
            }
            ui.horizontal(|ui| {
                let mut options = vec!["(any user)".to_owned()];
                options.extend(segments.iter().cloned());
                let current = rule.segment.clone().unwrap_or_else(|| options[0].clone());
                let label = format!("Rule {} segment", rule.id);
                if let Some(new) =
                    super::choice_named(ui, (key, env_key, "rule-seg", i), "segment", &label, &current, &options)
                {
                    let segment = (new != options[0]).then_some(new);
                    edit_env(doc, "Change rule segment", key, env_key, |e| {
                        if let Some(r) = e.rules.as_mut().and_then(|r| r.get_mut(i)) {
                            r.segment = segment;
                        }
                    });
                }
            });
            match &rule.matches {
                Some(cond) => {
                    let id = egui::Id::unique((key, env_key, "rule-match", i));
                    if let Some(new) = condition_ui(ui, id, cond, &segments) {
                        edit_env(doc, "Edit rule condition", key, env_key, |e| {
                            if let Some(r) = e.rules.as_mut().and_then(|r| r.get_mut(i)) {
                                r.matches = Some(new);
                            }
                        });
                    }
                    if ui
                        .small_button("Remove condition")
                        .accessible_name(format!("Remove condition of rule {}", rule.id))
                        .clicked()
                    {
                        edit_env(doc, "Remove rule condition", key, env_key, |e| {
                            if let Some(r) = e.rules.as_mut().and_then(|r| r.get_mut(i)) {
                                r.matches = None;
                            }
                        });
                    }
                }
                None => {
                    if ui
                        .small_button("Add condition")
                        .accessible_name(format!("Add condition to rule {}", rule.id))
                        .clicked()
                    {
                        edit_env(doc, "Add rule condition", key, env_key, |e| {
                            if let Some(r) = e.rules.as_mut().and_then(|r| r.get_mut(i)) {
                                r.matches =
                                    Some(burgee_rules::model::Condition::All(vec![super::condition::new_leaf()]));
                            }
                        });
                    }
                }
            }
            let prefix = format!("Rule {}", rule.id);
            if let Some(serve) =
                serve_ui(ui, egui::Id::unique((key, env_key, "rule-serve", i)), &prefix, &rule.serve, variants, key)
            {
                let label = if matches!(serve, Serve::Rollout(_)) { "Set rollout weight" } else { "Change rule serve" };
                edit_env_merging(doc, label, key, env_key, |e| {
                    if let Some(r) = e.rules.as_mut().and_then(|r| r.get_mut(i)) {
                        r.serve = serve;
                    }
                });
            }
            inline_diagnostics(ui, doc, &rule_pointer);
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
        let rule = new_rule(flag, env);
        edit_env(doc, "Add rule", key, env_key, |e| e.rules.get_or_insert_with(Vec::new).push(rule));
    }
    diagnostics_at(ui, doc, &format!("{pointer}/rules"));
}

/// A serve: one variant, or a rollout with a slider and a numeric field per
/// variant (always adding up to 100), `bucket_by` and `salt`. `prefix`
/// names the widgets ("Default", "Rule staff"): the slider of variant `on`
/// is labelled `"{prefix} rollout on %"`. Returns the changed serve.
pub fn serve_ui(
    ui: &mut egui::Ui,
    id: egui::Id,
    prefix: &str,
    serve: &Serve,
    variants: &[String],
    flag_key: &str,
) -> Option<Serve> {
    let mut out = None;
    ui.horizontal(|ui| {
        ui.label("Serve");
        let is_rollout = matches!(serve, Serve::Rollout(_));
        if ui
            .selectable_label(!is_rollout, "one variant")
            .accessible_name(format!("{prefix} serves one variant"))
            .clicked()
            && is_rollout
        {
            let first = match serve {
                Serve::Rollout(r) => {
                    r.entries.iter().max_by_key(|e| weight_thousandths(&e.weight)).map(|e| e.variant.clone())
                }
                Serve::Variant(v) => Some(v.clone()),
            };
            out = Some(Serve::Variant(first.or_else(|| variants.first().cloned()).unwrap_or_default()));
        }
        if ui.selectable_label(is_rollout, "rollout").accessible_name(format!("{prefix} serves a rollout")).clicked()
            && !is_rollout
        {
            out = Some(Serve::Rollout(rollout_from(serve, variants)));
        }
        if let Serve::Variant(v) = serve
            && let Some(new) =
                super::choice_named(ui, id.with("variant"), "", &format!("{prefix} variant"), v, variants)
        {
            out = Some(Serve::Variant(new));
        }
    });
    if let Serve::Rollout(rollout) = serve
        && let Some(r) = rollout_ui(ui, id, prefix, rollout, variants, flag_key)
    {
        out = Some(Serve::Rollout(r));
    }
    out
}

/// A rollout over every variant, all of it on the currently served one.
fn rollout_from(serve: &Serve, variants: &[String]) -> Rollout {
    let current = match serve {
        Serve::Variant(v) => v.clone(),
        Serve::Rollout(r) => return r.clone(),
    };
    let mut entries: Vec<RolloutEntry> =
        variants.iter().map(|v| RolloutEntry { variant: v.clone(), weight: weight_number(0) }).collect();
    match entries.iter_mut().find(|e| e.variant == current) {
        Some(e) => e.weight = weight_number(100_000),
        None => {
            if let Some(e) = entries.first_mut() {
                e.weight = weight_number(100_000);
            }
        }
    }
    Rollout { entries, bucket_by: None, salt: None }
}

fn rollout_ui(
    ui: &mut egui::Ui,
    id: egui::Id,
    prefix: &str,
    rollout: &Rollout,
    variants: &[String],
    flag_key: &str,
) -> Option<Rollout> {
    let mut out = None;
    ui.indent(id.with("rollout"), |ui| {
        for (i, entry) in rollout.entries.iter().enumerate() {
            ui.horizontal(|ui| {
                let mut pct = weight_thousandths(&entry.weight).map_or(0.0, |t| f64::from(t) / 1000.0);
                let slider = egui::Slider::new(&mut pct, 0.0..=100.0)
                    .max_decimals(3)
                    .step_by(0.001)
                    .suffix(" %")
                    .text(format!("{prefix} rollout {} %", entry.variant));
                if ui.add(slider).changed() {
                    let mut entries = rollout.entries.clone();
                    if set_rollout_weight(&mut entries, i, pct).is_ok() {
                        out = Some(Rollout { entries, ..rollout.clone() });
                    }
                }
                if rollout.entries.len() > 1
                    && ui
                        .small_button("x")
                        .accessible_name(format!("{prefix} rollout: remove {}", entry.variant))
                        .clicked()
                {
                    let mut entries = rollout.entries.clone();
                    entries.remove(i);
                    // Give the removed share back so the total stays 100.
                    let keep = weight_thousandths(&entries[0].weight).unwrap_or(0);
                    if set_rollout_weight(&mut entries, 0, f64::from(keep) / 1000.0).is_ok() {
                        out = Some(Rollout { entries, ..rollout.clone() });
                    }
                }
            });
        }
        let total: u32 = rollout.entries.iter().filter_map(|e| weight_thousandths(&e.weight)).sum();
        if total != 100_000 {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("weights add up to {}%, not 100%", f64::from(total) / 1000.0),
            );
        }
        let missing: Vec<&String> =
            variants.iter().filter(|v| !rollout.entries.iter().any(|e| &e.variant == *v)).collect();
        if !missing.is_empty() {
            ui.horizontal(|ui| {
                for v in missing {
                    if ui.small_button(format!("+ {v}")).accessible_name(format!("{prefix} rollout: add {v}")).clicked()
                    {
                        let mut entries = rollout.entries.clone();
                        entries.push(RolloutEntry { variant: v.clone(), weight: weight_number(0) });
                        out = Some(Rollout { entries, ..rollout.clone() });
                    }
                }
            });
        }
        ui.horizontal(|ui| {
            let l = ui.label("bucket by");
            let current = rollout.bucket_by.clone().unwrap_or_default();
            if let Some(b) = committed_text_field(ui, id.with("bucket"), &current, "targetingKey", 140.0, Some(l.id)) {
                let b = b.trim().to_owned();
                out = Some(Rollout { bucket_by: (!b.is_empty()).then_some(b), ..rollout.clone() });
            }
            let l = ui.label("salt");
            let current = rollout.salt.clone().unwrap_or_default();
            if let Some(s) = committed_text_field(ui, id.with("salt"), &current, flag_key, 140.0, Some(l.id)) {
                out = Some(Rollout { salt: (!s.is_empty()).then_some(s), ..rollout.clone() });
            }
        });
    });
    out
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
    fn new_rules_get_fresh_ids_and_serve_the_on_variant() {
        let f = flag();
        let rule = new_rule(&f, &f.environments["production"]);
        assert_eq!(rule.id, "rule-3");
        assert_eq!(rule.serve, Serve::Variant("on".into()));
    }

    #[test]
    fn a_rollout_starts_with_everything_on_the_served_variant() {
        let r = rollout_from(&Serve::Variant("off".into()), &["on".into(), "off".into()]);
        let weights: Vec<_> = r.entries.iter().map(|e| weight_thousandths(&e.weight).unwrap()).collect();
        assert_eq!(weights, [0, 100_000]);
    }
}
