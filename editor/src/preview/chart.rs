//! Showing previews: a bar chart of users per variant (egui_plot), and
//! tables of users per deciding step, change impact and segment members.
//!
//! Every number is also a plain label with a fixed wording (the `*_label`
//! functions build it), so people using a screen reader and egui_kittest
//! tests can find it by label: e.g. `get_by_label(&variant_label("on", 120, 1000))`.

use eframe::egui::{self, Color32};
use egui::accesskit::Role;
use egui_plot::{Bar, BarChart, Plot};

use super::distribution::{Decider, Distribution};
use super::impact::Impact;

/// The id salt of the users-per-variant plot.
pub const CHART_ID: &str = "preview-distribution-chart";

/// The accessible name of the users-per-variant plot.
pub const CHART_LABEL: &str = "Users per variant chart";

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `part` as a percentage of `total` with one decimal (`12.5%`; `0.0%` of nobody).
pub fn percent(part: usize, total: usize) -> String {
    if total == 0 { "0.0%".to_owned() } else { format!("{:.1}%", part as f64 * 100.0 / total as f64) }
}

/// The label of one variant's count: `on: 1,234 users (12.3%)`.
pub fn variant_label(variant: &str, users: usize, total: usize) -> String {
    format!("{variant}: {} users ({})", thousands(users), percent(users, total))
}

/// The label of one step's count: `Rule staff: 120 users (1.2%)`,
/// `Default: 880 users (8.8%)`.
pub fn decider_label(decider: &Decider, users: usize, total: usize) -> String {
    format!("{decider}: {} users ({})", thousands(users), percent(users, total))
}

/// The summary line of an impact: `1,024 of 100,000 users change variant (1.0%)`.
pub fn impact_summary(impact: &Impact) -> String {
    format!(
        "{} of {} users change variant ({})",
        thousands(impact.changed),
        thousands(impact.total),
        percent(impact.changed, impact.total)
    )
}

/// The label of one move: `off to on: 9,871 users` (the default font has no arrow).
pub fn move_label(from: &str, to: &str, users: usize) -> String {
    format!("{from} to {to}: {} users", thousands(users))
}

/// The label of one segment's count: `Segment staff: 31 users (3.1%)`.
pub fn segment_label(segment: &str, users: usize, total: usize) -> String {
    format!("Segment {segment}: {} users ({})", thousands(users), percent(users, total))
}

/// A round step (1, 2 or 5 times a power of ten, at least 1) that cuts
/// `range` into about `parts` pieces.
pub fn nice_step(range: f64, parts: f64) -> f64 {
    let raw = (range / parts).max(1.0);
    let power = 10f64.powf(raw.log10().floor());
    let off = |step: f64| (range / step - parts).abs();
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| (m * power).max(1.0))
        .min_by(|a, b| off(*a).total_cmp(&off(*b)))
        .unwrap_or(power)
}

/// A bar chart of users per variant (every variant, zeros included), with
/// the variants' names under the bars and each count as a label below.
pub fn distribution_chart(ui: &mut egui::Ui, dist: &Distribution) -> egui::Response {
    let total = dist.total;
    let names: Vec<String> = dist.variants.iter().map(|(v, _)| v.clone()).collect();
    let bars: Vec<Bar> = dist
        .variants
        .iter()
        .enumerate()
        .map(|(i, (variant, users))| {
            let color = variant_color(i);
            Bar::new(i as f64, *users as f64)
                .name(variant)
                .width(0.6)
                .fill(color.gamma_multiply(0.85))
                .stroke(egui::Stroke::new(1.0, color))
        })
        .collect();
    let chart = BarChart::new("Users", bars)
        .element_formatter(Box::new(move |bar, _| variant_label(&bar.name, bar.value as usize, total)));
    let max = dist.variants.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    ui.vertical(|ui| {
        let plot = Plot::new(CHART_ID)
            .height(180.0)
            .allow_drag(false)
            .allow_zoom(false)
            .allow_scroll(false)
            .allow_boxed_zoom(false)
            .allow_double_click_reset(false)
            .show_grid([false, true])
            .include_y(0.0)
            .include_y(max * 1.1)
            .include_x(-0.6)
            .include_x(names.len() as f64 - 0.4)
            .y_axis_label("users")
            .y_axis_min_width(44.0)
            .y_grid_spacer(egui_plot::uniform_grid_spacer(|input| {
                // About four labelled lines: steps of 1, 2 or 5 times a power of ten.
                let step = nice_step(input.bounds.1 - input.bounds.0, 4.0);
                [step / 5.0, step / 2.0, step]
            }))
            .y_axis_formatter(|mark, _| {
                let n = mark.value.round();
                if n >= 0.0 && (mark.value - n).abs() < 1e-6 { thousands(n as usize) } else { String::new() }
            })
            .x_axis_formatter(move |mark, _| {
                let i = mark.value.round();
                if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .show(ui, |plot| plot.bar_chart(chart));
        plot.response.widget_info(|| egui::WidgetInfo::labeled(Role::Figure, true, CHART_LABEL));
        for (i, (variant, users)) in dist.variants.iter().enumerate() {
            ui.horizontal(|ui| {
                let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
                ui.painter().rect_filled(rect, 2.0, variant_color(i));
                ui.label(variant_label(variant, *users, total));
            });
        }
        if dist.errors > 0 {
            ui.label(format!("Errors: {} users ({})", thousands(dist.errors), percent(dist.errors, total)));
        }
    })
    .response
}

/// Users per deciding step (targets, each rule, default, disabled, …), with
/// the variants each step served.
pub fn rules_table(ui: &mut egui::Ui, dist: &Distribution) {
    egui::Grid::new("preview-rules-table").striped(true).num_columns(2).show(ui, |ui| {
        for step in &dist.deciders {
            ui.label(decider_label(&step.decider, step.users, dist.total));
            ui.horizontal(|ui| {
                let served = dist.variants.iter().zip(&step.by_variant).enumerate().filter(|(_, (_, n))| **n > 0);
                for (i, ((v, _), n)) in served {
                    let text = egui::RichText::new(format!("{v} {}", thousands(*n)));
                    ui.label(text.color(variant_color(i)));
                }
            });
            ui.end_row();
        }
    });
}

/// How many sample users change variant, by from and to, most first.
pub fn impact_table(ui: &mut egui::Ui, impact: &Impact) {
    ui.label(impact_summary(impact));
    if impact.moves.is_empty() {
        return;
    }
    egui::Grid::new("preview-impact-table").striped(true).show(ui, |ui| {
        for m in &impact.moves {
            ui.label(move_label(&m.from.to_string(), &m.to.to_string(), m.users));
            ui.end_row();
        }
    });
}

/// Members of each segment among `total` sample users.
pub fn segment_table(ui: &mut egui::Ui, counts: &[(String, usize)], total: usize) {
    egui::Grid::new("preview-segment-table").striped(true).show(ui, |ui| {
        for (segment, users) in counts {
            ui.label(segment_label(segment, *users, total));
            ui.end_row();
        }
    });
}

/// The colour of a flag's variant number `index` (in the flag's order),
/// the same in the chart, its legend, the rules and the diff. Okabe and
/// Ito's palette, which people with colour-vision deficiencies tell apart.
pub fn variant_color(index: usize) -> Color32 {
    const PALETTE: [Color32; 8] = [
        Color32::from_rgb(0x00, 0x72, 0xb2), // blue
        Color32::from_rgb(0xe6, 0x9f, 0x00), // orange
        Color32::from_rgb(0x00, 0x9e, 0x73), // green
        Color32::from_rgb(0xcc, 0x79, 0xa7), // pink
        Color32::from_rgb(0x56, 0xb4, 0xe9), // sky blue
        Color32::from_rgb(0xd5, 0x5e, 0x00), // vermillion
        Color32::from_rgb(0xf0, 0xe4, 0x42), // yellow
        Color32::from_rgb(0x99, 0x99, 0x99), // grey
    ];
    PALETTE[index % PALETTE.len()]
}

/// The colour of variant `variant` among `variants` (grey when it is not one of them).
pub fn color_of(variants: &[String], variant: &str) -> Color32 {
    variants.iter().position(|v| v == variant).map_or(Color32::GRAY, variant_color)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preview::distribution::{DeciderCount, Distribution};
    use crate::preview::impact::{Move, Outcome};
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    #[test]
    fn chart_steps_are_round() {
        assert_eq!(nice_step(8700.0, 4.0), 2000.0);
        assert_eq!(nice_step(11000.0, 4.0), 2000.0);
        assert_eq!(nice_step(120.0, 4.0), 50.0);
        assert_eq!(nice_step(3.0, 4.0), 1.0);
        assert_eq!(nice_step(100_000.0, 4.0), 20_000.0);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(percent(1, 8), "12.5%");
        assert_eq!(percent(0, 0), "0.0%");
        assert_eq!(variant_label("on", 1234, 10_000), "on: 1,234 users (12.3%)");
        assert_eq!(move_label("off", "on", 5), "off to on: 5 users");
    }

    fn sample() -> (Distribution, Impact) {
        let dist = Distribution {
            flag: "new-checkout".into(),
            environment: "production".into(),
            total: 1000,
            variants: vec![("on".into(), 130), ("off".into(), 870)],
            deciders: vec![
                DeciderCount { decider: Decider::Rule("staff".into()), users: 30, by_variant: vec![30, 0] },
                DeciderCount { decider: Decider::Default, users: 970, by_variant: vec![100, 870] },
            ],
            errors: 0,
        };
        let impact = Impact {
            total: 1000,
            changed: 100,
            moves: vec![Move { from: Outcome::Variant("off".into()), to: Outcome::Variant("on".into()), users: 100 }],
        };
        (dist, impact)
    }

    #[test]
    fn every_count_is_a_label() {
        let (dist, impact) = sample();
        let mut harness = Harness::builder().with_size([600.0, 700.0]).build_ui(move |ui| {
            distribution_chart(ui, &dist);
            rules_table(ui, &dist);
            impact_table(ui, &impact);
            segment_table(ui, &[("staff".into(), 31)], 1000);
        });
        harness.run();
        harness.get_by_label("on: 130 users (13.0%)");
        harness.get_by_label("off: 870 users (87.0%)");
        harness.get_by_label("Rule staff: 30 users (3.0%)");
        harness.get_by_label("Default: 970 users (97.0%)");
        harness.get_by_label("100 of 1,000 users change variant (10.0%)");
        harness.get_by_label("off to on: 100 users");
        harness.get_by_label("Segment staff: 31 users (3.1%)");
        harness.get_by_label(CHART_LABEL);
    }
}
