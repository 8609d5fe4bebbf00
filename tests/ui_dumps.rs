//! A file holding several heap dumps (the hprof agent appends one per request), in the window
//! (egui_kittest): the overview lists them and says which is shown (the last), and one click
//! reloads the file with another, through the loader.

#![allow(clippy::unwrap_used)] // a test may panic on what it did not expect

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use heapsight::format;
use heapsight::ui::{Command, HeapsightApp};
use support::hprof_writer::*;

type App = Harness<'static, HeapsightApp>;

/// Two dumps of the same process in one file: 10 sessions, then 25.
fn two_dumps(path: &Path) {
    let first = sessions_heap(10, 0).build();
    let second = sessions_heap(25, 0).build();
    let mut bytes = first.raw.clone();
    bytes.extend_from_slice(&second.raw[second.header_len..]);
    std::fs::write(path, bytes).unwrap();
}

fn step_until(h: &mut App, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    while !done(h) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what} (error: {:?})",
            h.state().load_error()
        );
        h.step();
        std::thread::sleep(Duration::from_millis(15));
    }
    h.run_steps(3);
}

/// (dump number shown, objects in the index) of the loaded dump.
fn shown(h: &App) -> (usize, usize) {
    let index = &h.state().session().expect("loaded").analysis.index;
    (index.dumps().selected + 1, index.object_count())
}

#[test]
fn the_overview_lists_the_dumps_of_a_file_and_switches_in_one_click() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.hprof");
    two_dumps(&path);
    let mut h = Harness::builder()
        .with_size([1280.0, 720.0])
        .build_eframe(|_cc| HeapsightApp::without_storage(None));
    h.state_mut().send(Command::Open(path.clone()));
    h.step();
    step_until(&mut h, "the file to load", |h| h.state().is_loaded());

    // The last dump is shown by default, the chooser lists both.
    let (number, last_objects) = shown(&h);
    assert_eq!(number, 2);
    h.get_by_label("This file holds 2 heap dumps");
    h.get_by_label_contains("Shown: #2 (the last");
    assert!(h.query_by_label("Show dump #2").is_none(), "#2 is shown");
    h.get_by_label_contains("#1, taken");
    h.get_by_label_contains("#2, taken");

    // One click on the first: the file reloads through the loader with dump #1.
    h.get_by_label("Show dump #1").click();
    // The click sends the command, the next frame's logic starts the load.
    h.step();
    h.step();
    assert!(h.state().is_loading(), "the switch goes through the loader");
    step_until(&mut h, "dump #1 to load", |h| {
        h.state().is_loaded() && shown(h).0 == 1
    });
    let (_, first_objects) = shown(&h);
    assert!(
        first_objects < last_objects,
        "dump #1 (10 sessions) has fewer objects: {first_objects} vs {last_objects}"
    );
    // Its object count is the one on the overview, and the other dump is one click away.
    h.get_by_label(&format::thousands(first_objects as u64));
    h.get_by_label_contains("Shown: #1.");
    h.get_by_label("Show dump #2");
    assert_eq!(h.state().loaded_path(), Some(path.as_path()));
    let sessions = {
        let a = &h.state().session().unwrap().analysis;
        let class = a.index.classes().by_name("Session").next().unwrap();
        (0..a.index.object_count() as u32)
            .filter(|&o| a.index.class_of(o) == class)
            .count()
    };
    assert_eq!(sessions, 10, "dump #1 alone, not a merge");

    // And back to the last.
    h.get_by_label("Show dump #2").click();
    h.step();
    step_until(&mut h, "dump #2 to load", |h| {
        h.state().is_loaded() && shown(h).0 == 2
    });
    assert_eq!(shown(&h).1, last_objects);
}
