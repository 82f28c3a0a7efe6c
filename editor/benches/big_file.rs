//! The editor on a big file (10,000 flags, 1,000 segments, 100,000
//! individual targets, 35 MB), driven through its UI with egui_kittest as a
//! person would use it: open the file, a frame with a flag and its preview
//! on screen, a keystroke in the flag search, selecting another flag, a
//! keystroke in the flag's description (an edit: undo step, re-validation,
//! preview request), the time from that keystroke until the preview shows
//! the result for it, a frame of the segments page and a keystroke in a
//! segment's description. Each keystroke is measured with the frame that
//! shows it. Target: every interaction well under 50 ms, so nothing lags.
//!
//! Run by `bench/scale.sh`, which generates the file with
//! `bench/generate.py` and passes its path in `BURGEE_SCALE_FILE`; without
//! it this bench does nothing.

// A panic here fails a benchmark, which is what we want (as clippy.toml says
// for tests); `allow-unwrap-in-tests` does not reach benches.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use burgee_editor::app::BurgeeApp;
use criterion::{Criterion, criterion_group, criterion_main};
use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

/// No timer-driven disk checks while frames are measured.
const NO_POLLING: Duration = Duration::from_secs(3600);

fn harness(path: PathBuf) -> Harness<'static, BurgeeApp> {
    let mut app = BurgeeApp::new(Some(path));
    app.disk_check_interval = NO_POLLING;
    let mut h = Harness::builder()
        .with_size([1600.0, 1000.0])
        .with_max_steps(64)
        .build_ui_state(|ui, app: &mut BurgeeApp| app.ui(ui), app);
    h.run();
    h
}

/// Type a character into the focused field on even calls, delete it on odd
/// ones (so the text stays short), then run one frame.
fn keystroke(h: &mut Harness<'_, BurgeeApp>, label: &str, n: &mut u64) {
    if n.is_multiple_of(2) {
        h.get_all_by_label(label).next().unwrap().type_text("7");
    } else {
        h.key_press(egui::Key::Backspace);
    }
    *n += 1;
    h.step();
}

fn big_file(c: &mut Criterion) {
    let Ok(path) = std::env::var("BURGEE_SCALE_FILE") else {
        eprintln!("BURGEE_SCALE_FILE is not set: nothing to measure (run bench/scale.sh)");
        return;
    };
    let path = PathBuf::from(path);
    let mut group = c.benchmark_group("editor_big_file");
    group.sample_size(10).measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    group.bench_function("open", |b| b.iter(|| BurgeeApp::new(Some(path.clone()))));

    group.sample_size(30).measurement_time(Duration::from_secs(4));
    let mut h = harness(path.clone());
    h.get_by_label("flag-00003").click_accesskit();
    h.run();
    h.get_by_label("Environment production").click_accesskit();
    h.run();
    h.state_mut().preview.wait(Duration::from_secs(30));
    h.run();
    group.bench_function("frame_with_list_flag_and_preview", |b| b.iter(|| h.step()));

    h.get_by_label("Search flags").focus();
    h.run();
    let mut n = 0;
    group.bench_function("search_keystroke", |b| b.iter(|| keystroke(&mut h, "Search flags", &mut n)));
    h.get_by_label("Search flags").focus();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.key_press(egui::Key::Backspace);
    h.run();

    let mut flip = false;
    group.bench_function("select_flag", |b| {
        b.iter(|| {
            flip = !flip;
            h.get_by_label(if flip { "flag-00001" } else { "flag-00002" }).click_accesskit();
            h.step();
        })
    });

    // (Still selected when select_flag was filtered out: its key is then on screen twice.)
    if h.state().selected_flag.as_deref() != Some("flag-00003") {
        h.get_by_label("flag-00003").click_accesskit();
        h.run();
    }
    h.get_all_by_label("Description").next().unwrap().focus();
    h.run();
    let mut n = 0;
    group.bench_function("description_keystroke", |b| b.iter(|| keystroke(&mut h, "Description", &mut n)));
    group.bench_function("description_keystroke_to_updated_preview", |b| {
        b.iter(|| {
            keystroke(&mut h, "Description", &mut n);
            h.state_mut().preview.wait(Duration::from_secs(30)).unwrap();
            h.step();
        })
    });

    // The segments page: 1,000 segments, each listed with its member count.
    h.get_by_label("Segments").click_accesskit();
    h.run();
    h.get_by_label("segment-0003").click_accesskit();
    h.run();
    group.bench_function("segments_page_frame", |b| b.iter(|| h.step()));
    h.get_all_by_label("Description").next().unwrap().focus();
    h.run();
    let mut n = 0;
    group.bench_function("segment_description_keystroke", |b| b.iter(|| keystroke(&mut h, "Description", &mut n)));
    group.finish();
}

criterion_group!(benches, big_file);
criterion_main!(benches);
