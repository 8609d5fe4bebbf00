//! The window's layout at the sizes users have (egui_kittest, whole app on the sample dump):
//! the hints panel is never overlapped nor overflowed by its neighbours or its own contents,
//! at 1280×720, 1600×1000 and at 2× scale.

#![allow(clippy::unwrap_used)] // a test may panic on what it did not expect

use std::time::{Duration, Instant};

use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::{Harness, Node};
use heapsight::ui::{sample_dump_path, Command, HeapsightApp, Tab};

type App = Harness<'static, HeapsightApp>;

fn loaded_app(size: [f32; 2], pixels_per_point: f32) -> App {
    let mut h = Harness::builder()
        .with_size(size)
        .with_pixels_per_point(pixels_per_point)
        .build_eframe(|_cc| HeapsightApp::without_storage(Some(sample_dump_path())));
    let start = Instant::now();
    while !h.state().is_loaded() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the sample did not load"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(15));
    }
    h.run_steps(4);
    h
}

/// Every widget with bounds: (role and label, left, right, top).
fn widgets(h: &App) -> Vec<(String, f64, f64, f64)> {
    fn walk(n: Node<'_>, out: &mut Vec<(String, f64, f64, f64)>) {
        let a = n.accesskit_node();
        if let Some(r) = a.bounding_box() {
            let name = format!(
                "{:?} {:?}",
                a.role(),
                a.label().or(a.value()).unwrap_or_default()
            );
            out.push((name, r.x0, r.x1, r.y0));
        }
        for c in n.children() {
            walk(c, out);
        }
    }
    let mut out = Vec::new();
    walk(h.root(), &mut out);
    out
}

/// Nothing straddles the hints panel's left edge (its resize handle excepted), and its
/// contents start right of that edge.
fn assert_hints_panel_clean(h: &App, width: f32, ppp: f32, what: &str) {
    let (_, hints) = h.state().panel_widths().expect("panels drawn");
    assert!(hints > 200.0, "{what}: the hints panel is shown ({hints})");
    // Accessibility bounds are in pixels, panel widths in points.
    let edge = f64::from((width - hints) * ppp);
    let top_bar = 25.0 * f64::from(ppp);
    let straddling: Vec<_> = widgets(h)
        .into_iter()
        .filter(|(name, left, right, top)| {
            *top > top_bar
                && *left < edge - 1.0
                && *right > edge + 1.0
                && !name.contains("Resize panel")
        })
        .collect();
    assert!(
        straddling.is_empty(),
        "{what}: widgets across the hints panel's edge at x = {edge}: {straddling:#?}"
    );
    let tabs = h.get_by_label_contains("Leak hints").rect();
    assert!(
        f64::from(tabs.left()) >= f64::from(width - hints),
        "{what}: the hints panel's first line starts at {} left of its edge {edge}",
        tabs.left()
    );
}

#[test]
fn the_hints_panel_is_neither_clipped_nor_overlapped() {
    for (size, ppp) in [
        ([1280.0, 720.0], 1.0),
        ([1600.0, 1000.0], 1.0),
        ([1280.0, 720.0], 2.0),
    ] {
        let mut h = loaded_app(size, ppp);
        for tab in [Tab::Overview, Tab::Histogram, Tab::Dominators, Tab::Threads] {
            h.state_mut().send(Command::ShowTab(tab));
            h.run_steps(4);
            assert_hints_panel_clean(&h, size[0], ppp, &format!("{size:?} ×{ppp} {tab:?}"));
        }
        // A hint's evidence path: the hint opened, its long evidence links on screen.
        h.state_mut().send(Command::ShowHint(0));
        h.run_steps(6);
        assert_hints_panel_clean(&h, size[0], ppp, &format!("{size:?} ×{ppp} hint path"));
    }
}

/// Narrow windows (a laptop's, a window beside another): every view fits between the side
/// panels, its tables' columns shrunk, also after the window shrinks under tables laid out wider.
#[test]
fn narrow_windows_keep_every_view_left_of_the_hints_panel() {
    let tabs = [Tab::Overview, Tab::Histogram, Tab::Dominators, Tab::Threads];
    for width in [1200.0, 1100.0, 1000.0] {
        let mut h = loaded_app([width, 720.0], 1.0);
        for tab in tabs {
            h.state_mut().send(Command::ShowTab(tab));
            h.run_steps(4);
            assert_hints_panel_clean(&h, width, 1.0, &format!("{width} {tab:?}"));
        }
    }
    let mut h = loaded_app([1600.0, 1000.0], 1.0);
    for tab in tabs {
        h.state_mut().send(Command::ShowTab(tab));
        h.run_steps(4);
    }
    h.set_size(egui::vec2(1000.0, 720.0));
    for tab in tabs {
        h.state_mut().send(Command::ShowTab(tab));
        h.run_steps(4);
        assert_hints_panel_clean(&h, 1000.0, 1.0, &format!("1600 → 1000 {tab:?}"));
    }
}
