//! The window as a user drives it (egui_kittest, whole app): panels keep their widths, Cancel
//! returns to the dump on screen, the keyboard pages through tables, merged paths are grouped
//! by class, failed opens stay out of Recent, dropped files open, and the path field opens a
//! dump when there is no file chooser.

#![allow(clippy::unwrap_used)] // a test may panic on what it did not expect

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use heapsight::analysis::merged_paths::merge_paths_by_class;
use heapsight::analysis::{Analysis, AnalysisOptions, IndexState};
use heapsight::heap::{HeapIndex, ObjectId};
use heapsight::progress::Progress;
use heapsight::ui::{sample_dump_path, Command, HeapsightApp, PathTarget, Tab};
use support::jvm::{self, Jvm};

type App = Harness<'static, HeapsightApp>;

fn app(size: [f32; 2]) -> App {
    Harness::builder()
        .with_size(size)
        .build_eframe(|_cc| HeapsightApp::without_storage(None))
}

/// Steps until `done` holds, failing after a minute.
fn step_until(h: &mut App, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    while !done(h) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what} (error: {:?})",
            h.state().load_error()
        );
        h.step();
        std::thread::sleep(Duration::from_millis(15));
    }
    h.run_steps(3);
}

fn open(h: &mut App, path: &Path) {
    h.state_mut().send(Command::Open(path.to_path_buf()));
    h.step();
    step_until(h, "the dump to load", |h| {
        h.state().is_loaded() && h.state().loaded_path() == Some(path)
    });
}

/// A copy of the sample under another name, so two loads can be told apart.
fn sample_copy(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::copy(sample_dump_path(), &p).expect("copy the sample");
    p
}

#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        Err("heap dumps are read from their path".into())
    }
}

#[test]
fn cancel_keeps_the_dump_on_screen_and_an_empty_window_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    let other = sample_copy(dir.path(), "other.hprof.gz");
    let mut h = app([1280.0, 720.0]);
    h.run_steps(2);

    // Nothing loaded: Cancel goes back to the start screen with no dump and no error.
    h.state_mut().send(Command::Open(other.clone()));
    h.step();
    assert!(h.state().is_loading());
    h.get_by_label("Cancel (Esc)").click();
    h.run_steps(2);
    assert!(!h.state().is_loading());
    assert!(!h.state().is_loaded());
    assert_eq!(h.state().load_error(), None);
    assert!(h.state().loaded_path().is_none());

    // A dump on screen stays there when the next load is cancelled, at the place the user was.
    open(&mut h, &sample_dump_path());
    h.state_mut().send(Command::ShowTab(Tab::Histogram));
    h.run_steps(2);
    h.state_mut().send(Command::Open(other.clone()));
    h.step();
    assert!(h.state().is_loading());
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(!h.state().is_loading());
    assert_eq!(h.state().loaded_path(), Some(sample_dump_path().as_path()));
    assert_eq!(h.state().current_tab(), Some(Tab::Histogram));
    // The cancelled load never replaces it later.
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(h.state().loaded_path(), Some(sample_dump_path().as_path()));
}

/// The index state shown for the dump on screen.
fn index_state(h: &App) -> Option<IndexState> {
    let session = h.state().session()?;
    session.index_status.as_ref().map(|s| s.state.clone())
}

/// Files in `dir` whose name ends with `suffix`.
fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect()
}

#[test]
fn a_fresh_dump_shows_first_and_its_index_file_follows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dump = sample_copy(dir.path(), "fresh.hprof.gz");
    let mut h = app([1280.0, 720.0]);
    open(&mut h, &dump);
    // On screen while (or after) the file is written behind it, and then written.
    let state = index_state(&h);
    assert!(
        matches!(state, Some(IndexState::Writing | IndexState::Written)),
        "{state:?}"
    );
    step_until(&mut h, "the index file", |h| {
        index_state(h) == Some(IndexState::Written)
    });
    assert_eq!(files_ending(dir.path(), ".heapsight-index").len(), 1);
    assert!(files_ending(dir.path(), ".tmp").is_empty());
    drop(h);

    // The next window reopens it.
    let mut h = app([1280.0, 720.0]);
    open(&mut h, &dump);
    assert_eq!(index_state(&h), Some(IndexState::Reopened));

    // A window closed (or another dump opened) as the file is being written leaves no
    // temporary file behind: the write finishes or is undone.
    let other = sample_copy(dir.path(), "other.hprof.gz");
    h.state_mut().send(Command::Open(other.clone()));
    h.step();
    step_until(&mut h, "the other dump to load", |h| {
        h.state().is_loaded() && h.state().loaded_path() == Some(other.as_path())
    });
    drop(h);
    // A cancelled write removes its file on its own thread, soon.
    let start = Instant::now();
    while !files_ending(dir.path(), ".tmp").is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "a temporary file is left"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_failed_open_is_not_recent_and_a_good_one_is() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("notes.hprof");
    std::fs::write(&bad, b"this is not a heap dump").expect("write");
    let mut h = app([1280.0, 720.0]);
    h.state_mut().send(Command::Open(bad.clone()));
    h.step();
    step_until(&mut h, "the error", |h| h.state().load_error().is_some());
    assert!(
        !h.state().recent().contains(&bad),
        "{:?}",
        h.state().recent()
    );
    open(&mut h, &sample_dump_path());
    assert_eq!(h.state().recent().first(), Some(&sample_dump_path()));
    // The File menu lists it under Recent, with Quit.
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Quit  (Ctrl+Q)");
    h.get_by_label("Recent").hover();
    h.run_steps(2);
}

#[test]
fn a_dropped_file_opens_and_a_second_drop_replaces_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = sample_copy(dir.path(), "first.hprof.gz");
    let second = sample_copy(dir.path(), "second.hprof.gz");
    let mut h = app([1280.0, 720.0]);
    h.run_steps(2);
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(first.clone())));
    h.step();
    step_until(&mut h, "the first drop", |h| {
        h.state().is_loaded() && h.state().loaded_path() == Some(first.as_path())
    });
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(second.clone())));
    h.step();
    step_until(&mut h, "the second drop", |h| {
        h.state().is_loaded() && h.state().loaded_path() == Some(second.as_path())
    });
}

#[test]
fn the_path_field_opens_a_dump_and_the_chooser_never_blocks_frames() {
    let mut h = app([1280.0, 720.0]);
    h.run_steps(2);
    // Whatever the desktop offers, frames keep coming while the chooser is up.
    h.state_mut().send(Command::OpenPrompt);
    h.run_steps(2);
    let field = h.get_by_label("Path of the file (Tab completes):");
    field.focus();
    h.run_steps(1);
    // Replace the pre-filled directory with the sample's path.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Path of the file (Tab completes):")
        .type_text(&sample_dump_path().display().to_string());
    h.run_steps(1);
    h.get_by_label("Open").click();
    h.step();
    step_until(&mut h, "the typed path to load", |h| h.state().is_loaded());
}

#[test]
fn keyboard_moves_the_selection_through_the_dominator_tree() {
    let mut h = app([1280.0, 720.0]);
    open(&mut h, &sample_dump_path());
    h.state_mut().send(Command::ShowTab(Tab::Dominators));
    h.run_steps(3);
    assert_eq!(h.state().selected(), None);
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(2);
    let first = h.state().selected().expect("Down selects the first row");
    h.key_press(egui::Key::PageDown);
    h.run_steps(2);
    let paged = h.state().selected().expect("a selection");
    assert_ne!(paged, first, "Page Down moves the selection");
    // End goes to the last row ("… N more" when the top level is paged), Up to the last object.
    h.key_press(egui::Key::End);
    h.run_steps(2);
    h.key_press(egui::Key::ArrowUp);
    h.run_steps(2);
    let last = h.state().selected().expect("a selection");
    assert_ne!(last, paged, "End goes to the last row");
    h.key_press(egui::Key::Home);
    h.run_steps(2);
    assert_eq!(
        h.state().selected(),
        Some(first),
        "Home goes back to the first row"
    );
    // The histogram follows the keyboard too: Down picks a class and lists its instances.
    h.state_mut().send(Command::ShowTab(Tab::Histogram));
    h.run_steps(3);
    h.key_press(egui::Key::ArrowDown);
    h.step();
    step_until(&mut h, "the instances of the first class", |h| {
        h.query_all_by_label_contains("Instances of ")
            .next()
            .is_some()
    });
}

fn sample_analysis() -> Arc<Analysis> {
    let progress = Progress::new();
    let index = HeapIndex::open(&sample_dump_path(), &progress).expect("sample opens");
    Arc::new(
        Analysis::run(Arc::new(index), AnalysisOptions::default(), &progress)
            .expect("sample analyses"),
    )
}

#[test]
fn merged_paths_have_one_row_per_referrer_class_and_set_sizes() {
    let a = sample_analysis();
    let string = a
        .index
        .classes()
        .by_name("java.lang.String")
        .next()
        .expect("String");
    let members: Vec<ObjectId> = (0..a.index.object_count() as ObjectId)
        .filter(|&o| a.index.class_of(o) == string)
        .collect();
    let m = merge_paths_by_class(
        &a.index,
        &a.shortest_paths,
        &a.roots,
        &a.dominators,
        &members,
        &Progress::new(),
    )
    .expect("not cancelled");
    assert!(!m.roots.is_empty());
    let mut seen_roots = std::collections::HashSet::new();
    for &r in &m.roots {
        assert!(
            seen_roots.insert(m.nodes[r as usize].class),
            "one row per root class"
        );
    }
    for n in &m.nodes {
        let mut classes = std::collections::HashSet::new();
        for &c in &n.children {
            let child = &m.nodes[c as usize];
            assert!(classes.insert(child.class), "one row per referrer class");
            assert!(child.members <= n.members);
            assert!(
                child.retained <= n.retained,
                "a subset retains no more than its set"
            );
        }
        assert!(n.retained <= a.dominators.reachable_bytes);
    }
    let reached: u64 = m.roots.iter().map(|&r| m.nodes[r as usize].members).sum();
    assert_eq!(reached + m.unreachable, members.len() as u64);
    let sum_of_members: u64 = members.iter().map(|&o| a.dominators.retained(o)).sum();
    assert!(m.retained <= sum_of_members && m.retained <= a.dominators.reachable_bytes);

    // The window shows them: every referrer class once under its parent.
    let mut h = app([1600.0, 1000.0]);
    open(&mut h, &sample_dump_path());
    h.state_mut()
        .send(Command::ShowPaths(PathTarget::Class(string)));
    h.step();
    step_until(&mut h, "merged paths", |h| {
        h.query_all_by_label_contains("have a path to a GC root")
            .next()
            .is_some()
    });
    h.get_by_label_contains("together they retain");
}

/// Compiles and dumps `tests/java/LongNames.java`; `None` without a JDK (unless `CI` is set).
fn long_names_dump(dir: &Path) -> Option<PathBuf> {
    if !jvm::jdk_available() {
        assert!(std::env::var_os("CI").is_none(), "CI needs a JDK");
        eprintln!("no JDK on PATH: skipping");
        return None;
    }
    let compiled = jvm::compile_scenario("LongNames", &dir.join("classes")).expect("compiles");
    let dump = dir.join("LongNames.hprof");
    let jvm = Jvm::start(&compiled, &["-Xmx64m"], &[], dir).expect("JVM ready");
    jvm.dump(&dump).expect("jmap dump");
    drop(jvm);
    Some(dump)
}

#[test]
fn the_inspector_keeps_its_width_after_a_thread_with_long_values() {
    let dir = jvm::work_dir("ui-long-names").expect("work dir");
    let Some(dump) = long_names_dump(dir.path()) else {
        return;
    };
    for size in [[1280.0, 720.0], [1600.0, 1000.0]] {
        let mut h = app(size);
        open(&mut h, &dump);
        h.state_mut().send(Command::ShowTab(Tab::Threads));
        h.run_steps(3);
        let (threads, task) = long_named_objects(&h);
        // The width with an ordinary object selected: the task's class object.
        let small = {
            let a = &h.state().session().expect("loaded").analysis;
            a.index
                .class_object(a.index.class_of(task))
                .expect("class object")
        };
        h.state_mut().send(Command::Select(small));
        h.run_steps(4);
        let (inspector, hints) = h.state().panel_widths().expect("panels drawn");
        let worker = *threads.first().expect("the worker thread with a long name");
        h.state_mut().send(Command::Select(worker));
        h.run_steps(4);
        // Its task, whose fields hold long strings.
        h.state_mut().send(Command::Select(task));
        h.run_steps(4);
        let (inspector_after, hints_after) = h.state().panel_widths().expect("panels drawn");
        assert!(
            (inspector_after - inspector).abs() < 1.0 && (hints_after - hints).abs() < 1.0,
            "at {size:?} the panels kept their widths: inspector {inspector} → \
             {inspector_after}, hints {hints} → {hints_after}"
        );
        h.state_mut().send(Command::Back);
        h.run_steps(3);
        let (inspector_back, _) = h.state().panel_widths().expect("panels drawn");
        assert!((inspector_back - inspector).abs() < 1.0);
    }
}

/// The worker thread objects whose name is long, and the `LongNames$Task` instance.
fn long_named_objects(h: &App) -> (Vec<ObjectId>, ObjectId) {
    let session = h.state().session().expect("loaded");
    let a = &session.analysis;
    let threads: Vec<ObjectId> = a
        .index
        .threads()
        .iter()
        .filter(|t| t.name.len() > 200)
        .filter_map(|t| t.object)
        .collect();
    let task_class = a
        .index
        .classes()
        .by_name("LongNames$Task")
        .next()
        .expect("task class");
    let task = (0..a.index.object_count() as ObjectId)
        .find(|&o| a.index.class_of(o) == task_class)
        .expect("a task");
    (threads, task)
}
