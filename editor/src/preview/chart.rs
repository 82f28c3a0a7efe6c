//! Showing previews: a bar chart of users per variant (egui_plot), and
//! tables of users per deciding step, change impact and segment members.
//!
//! Every number is also a plain label with a fixed wording (the `*_label`
//! functions build it), so people using a screen reader and egui_kittest
//! tests can find it by label: e.g. `get_by_label(&variant_label("on", 120, 1000))`.

use eframe::egui;
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

/// A bar chart of users per variant (every variant, zeros included), with
/// the variants' names under the bars and each count as a label below.
pub fn distribution_chart(ui: &mut egui::Ui, dist: &Distribution) -> egui::Response {
    let total = dist.total;
    let names: Vec<String> = dist.variants.iter().map(|(v, _)| v.clone()).collect();
    let bars: Vec<Bar> = dist
        .variants
        .iter()
        .enumerate()
        .map(|(i, (variant, users))| Bar::new(i as f64, *users as f64).name(variant).width(0.6))
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
        for (variant, users) in &dist.variants {
            ui.label(variant_label(variant, *users, total));
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
            let served: Vec<String> = dist
                .variants
                .iter()
                .zip(&step.by_variant)
                .filter(|(_, n)| **n > 0)
                .map(|((v, _), n)| format!("{v} {}", thousands(*n)))
                .collect();
            ui.label(served.join(", "));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preview::distribution::{DeciderCount, Distribution};
    use crate::preview::impact::{Move, Outcome};
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

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
