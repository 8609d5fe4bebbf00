//! The app as a user drives it (egui_kittest): open the sample dump, watch it load, sort and
//! filter the histogram, jump from a row to its merged paths to GC roots and back.

#![allow(clippy::unwrap_used)] // a test may panic on what it did not expect

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use heapsight::analysis::dominators::SUPER_ROOT;
use heapsight::analysis::histogram::{group, group_or_cancel, Grouping};
use heapsight::progress::Progress;
use heapsight::ui::{sample_dump_path, Command, HeapsightApp, Tab};

fn app_with(path: Option<std::path::PathBuf>) -> Harness<'static, HeapsightApp> {
    Harness::builder()
        .with_size([1400.0, 900.0])
        .build_eframe(move |_cc| HeapsightApp::without_storage(path))
}

/// Steps the app until the dump is loaded (the loader runs on its own threads).
fn wait_loaded(h: &mut Harness<'static, HeapsightApp>) {
    let start = Instant::now();
    while !h.state().is_loaded() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the sample did not load: {:?}",
            h.state().load_error()
        );
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    h.run_steps(4);
}

/// Steps the app until the histogram's groups have their retained sizes (a task).
fn wait_for_group_sizes(h: &mut Harness<'static, HeapsightApp>) {
    let start = Instant::now();
    while h
        .state()
        .histogram_rows()
        .iter()
        .any(|r| r.retained.is_none())
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "group sizes never came"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run_steps(2);
}

#[test]
fn opens_the_sample_and_browses_the_histogram() {
    let mut h = app_with(None);
    h.run_steps(2);
    // The start screen offers the sample.
    h.get_by_label("Open sample dump").click();
    h.run_steps(2);
    wait_loaded(&mut h);
    assert_eq!(h.state().current_tab(), Some(Tab::Overview));
    h.get_by_label("Reachable from GC roots");

    h.get_by_label("Histogram").click();
    h.run_steps(3);
    assert_eq!(h.state().current_tab(), Some(Tab::Histogram));
    // Sort by object count, then filter to the sessions.
    let strings_before = h.query_all_by_label("java.lang.String").count();
    assert!(strings_before > 0, "the histogram lists java.lang.String");
    h.get_by_label_contains("Objects").click();
    h.run_steps(2);
    // Group by package: the groups at once, their retained sizes from a task (a walk of
    // the whole dominator tree), then exact: a group's, not the sum of its classes'.
    h.get_by_label("package").click();
    h.run_steps(2);
    wait_for_group_sizes(&mut h);
    h.run_steps(2);
    let rows = h.state().histogram_rows();
    assert!(rows.iter().any(|r| r.is_group), "grouped by package");
    let session = h.state().session().unwrap();
    let a = &session.analysis;
    let exact = group(
        &a.index,
        &a.histogram,
        Grouping::Package,
        Some(&a.dominators),
    );
    let mut whole_groups = 0;
    for r in rows.iter().filter(|r| r.is_group) {
        let g = exact.iter().find(|g| g.key == r.label).unwrap();
        if g.classes.len() == r.classes.len() {
            assert_eq!(r.retained, g.retained_bytes, "{}", r.label);
            whole_groups += 1;
        }
    }
    assert!(whole_groups > 0, "a group with all its classes shown");
    h.get_by_label("class").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::TextInput, "Filter").focus();
    h.run_steps(1);
    h.get_by_role_and_label(Role::TextInput, "Filter")
        .type_text("Session$");
    h.run_steps(3);
    h.get_by_label("Session");
    assert!(h.query_all_by_label("java.lang.String").count() < strings_before);
    // Filtered and grouped: a group's retained size is that of its shown classes as one set.
    h.get_by_label("package").click();
    h.run_steps(2);
    wait_for_group_sizes(&mut h);
    let session = h.state().session().unwrap();
    let a = &session.analysis;
    let classes = a.index.classes();
    let shown: Vec<bool> = (0..classes.len() as u32)
        .map(|c| classes.get(c).name.ends_with("Session"))
        .collect();
    let exact = group_or_cancel(
        &a.index,
        &a.histogram,
        Grouping::Package,
        Some(&shown),
        Some(&a.dominators),
        &Progress::new(),
    )
    .unwrap();
    let groups: Vec<_> = h
        .state()
        .histogram_rows()
        .iter()
        .filter(|r| r.is_group)
        .collect();
    assert_eq!(groups.len(), exact.len());
    let dom = &a.dominators;
    for r in groups {
        let g = exact.iter().find(|g| g.key == r.label).unwrap();
        assert_eq!(r.classes, g.classes);
        assert_eq!(r.retained, g.retained_bytes, "{}", r.label);
        // The naive definition: the group's instances no other of them dominates.
        let in_set = |o: u32| r.classes.contains(&a.index.class_of(o));
        let mut naive = 0;
        for o in 0..a.index.object_count() as u32 {
            if !in_set(o) || !dom.is_reachable(o) {
                continue;
            }
            assert!(classes.get(a.index.class_of(o)).name.ends_with("Session"));
            let mut up = dom.idom(o);
            while up != SUPER_ROOT && !in_set(up) {
                up = dom.idom(up);
            }
            if up == SUPER_ROOT {
                naive += dom.retained(o);
            }
        }
        assert_eq!(r.retained, Some(naive), "{}", r.label);
    }
    h.get_by_label("class").click();
    h.run_steps(2);

    // Row → its instances.
    h.get_by_label("Session").click();
    h.run_steps(3);
    h.get_by_label_contains("Instances of Session");

    // Row → merged paths to GC roots, then back.
    // One click, also while the instances are still being listed: the panel keeps its
    // layout when the list arrives (its table used to grow the panel by 28 px, the count
    // pushed the buttons sideways, and a click in the frame the button moved was lost).
    h.get_by_label("Merged paths to GC roots").click();
    h.run_steps(4);
    assert_eq!(h.state().current_tab(), Some(Tab::Paths));
    h.state_mut().send(Command::Back);
    h.run_steps(3);
    assert_eq!(h.state().current_tab(), Some(Tab::Histogram));
    h.state_mut().send(Command::Forward);
    h.run_steps(3);
    assert_eq!(h.state().current_tab(), Some(Tab::Paths));
}

#[test]
fn a_file_that_is_not_a_dump_shows_an_error_in_the_window() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("picture.png");
    std::fs::write(&path, b"\x89PNG\r\n\x1a\n not a heap dump at all").expect("write");
    let mut h = app_with(Some(path));
    let start = Instant::now();
    while h.state().load_error().is_none() {
        assert!(start.elapsed() < Duration::from_secs(30), "no error shown");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run_steps(2);
    h.get_by_label("The dump could not be opened");
    h.get_by_label_contains("PNG");
}

#[test]
fn the_dominator_tree_and_threads_tabs_open() {
    let mut h = app_with(Some(sample_dump_path()));
    wait_loaded(&mut h);
    h.get_by_label("Dominator tree").click();
    h.run_steps(3);
    assert_eq!(h.state().current_tab(), Some(Tab::Dominators));
    h.get_by_label("Threads").click();
    h.run_steps(3);
    assert_eq!(h.state().current_tab(), Some(Tab::Threads));
    h.get_by_label_contains("main");
}
