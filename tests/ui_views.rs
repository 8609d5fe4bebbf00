//! Interaction tests of the retention views (dominator tree, paths to GC roots, inspector,
//! threads) on the sample dump, through egui_kittest: they find widgets by their accessible
//! labels, click and type, and check what is shown and which `Command`s the views push.

#![allow(clippy::unwrap_used)] // a test may panic on what it did not expect

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;

use heapsight::analysis::{Analysis, AnalysisOptions};
use heapsight::format::thousands;
use heapsight::heap::{HeapIndex, ObjectId};
use heapsight::progress::Progress;
use heapsight::ui::dominators::DominatorView;
use heapsight::ui::inspector::InspectorPanel;
use heapsight::ui::paths::PathsView;
use heapsight::ui::threads::ThreadsView;
use heapsight::ui::{sample_dump_path, Command, PathTarget, Place, Session, Tab};

fn analysis() -> Arc<Analysis> {
    static ANALYSIS: OnceLock<Arc<Analysis>> = OnceLock::new();
    ANALYSIS
        .get_or_init(|| {
            let progress = Progress::new();
            let index = HeapIndex::open(&sample_dump_path(), &progress).expect("sample dump opens");
            Arc::new(
                Analysis::run(Arc::new(index), AnalysisOptions::default(), &progress)
                    .expect("sample dump analyses"),
            )
        })
        .clone()
}

fn session() -> Session {
    Session::new(sample_dump_path(), analysis(), 0.0)
}

/// What a view needs each frame, and what it asked for.
struct State<V> {
    view: V,
    session: Session,
    place: Place,
    out: Vec<Command>,
}

impl<V> State<V> {
    fn new(view: V, tab: Tab) -> Self {
        State {
            view,
            session: session(),
            place: Place {
                tab,
                selected: None,
                path_target: None,
            },
            out: Vec::new(),
        }
    }

    /// Does what the app does with the commands that change the place.
    fn apply(&mut self) {
        for c in std::mem::take(&mut self.out) {
            match c {
                Command::Select(o) => self.place.selected = Some(o),
                Command::ShowPaths(t) => {
                    if let PathTarget::Object(o) = t {
                        self.place.selected = Some(o);
                    }
                    self.place.path_target = Some(t);
                }
                _ => {}
            }
        }
    }
}

fn harness<'a, V: 'a>(
    state: State<V>,
    mut draw: impl FnMut(&mut V, &mut egui::Ui, &Session, &Place, &mut Vec<Command>) + 'a,
) -> Harness<'a, State<V>> {
    Harness::builder()
        .with_size(egui::vec2(1200.0, 800.0))
        .build_ui_state(
            move |ui, s: &mut State<V>| {
                egui::CentralPanel::default().show(ui, |ui| {
                    draw(&mut s.view, ui, &s.session, &s.place, &mut s.out)
                });
            },
            state,
        )
}

/// Steps until `done` holds (background work finishing), then lets the UI settle.
fn wait_for<V>(
    h: &mut Harness<'_, State<V>>,
    what: &str,
    done: impl Fn(&Harness<'_, State<V>>) -> bool,
) {
    let start = Instant::now();
    loop {
        h.step();
        if done(h) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run();
}

/// Scrolls the table down (the rows are virtual: only those on screen exist) until `label`
/// shows.
fn scroll_until<V>(h: &mut Harness<'_, State<V>>, label: &str) {
    for _ in 0..400 {
        if has_label(h, label) {
            h.run();
            return;
        }
        h.query_all_by_label_contains("@ 0x")
            .last()
            .expect("table rows on screen")
            .scroll_down();
        h.step();
    }
    panic!("{label} never came into view");
}

fn has_label<V>(h: &Harness<'_, State<V>>, label: &str) -> bool {
    h.query_all_by_label_contains(label).next().is_some()
}

fn class_named(a: &Analysis, name: &str) -> u32 {
    a.index
        .classes()
        .by_name(name)
        .next()
        .unwrap_or_else(|| panic!("class {name} in the sample"))
}

fn instances(a: &Analysis, class: u32) -> Vec<ObjectId> {
    (0..a.index.object_count() as ObjectId)
        .filter(|&o| a.index.class_of(o) == class)
        .collect()
}

/// A live `Session` (held in the manager's map).
fn live_session(a: &Analysis) -> ObjectId {
    let c = class_named(a, "Session");
    *instances(a, c)
        .iter()
        .find(|&&o| a.dominators.is_reachable(o))
        .expect("a live session")
}

fn garbage_session(a: &Analysis) -> ObjectId {
    let c = class_named(a, "Session");
    *instances(a, c)
        .iter()
        .find(|&&o| !a.dominators.is_reachable(o))
        .expect("a garbage session")
}

// ----- dominator tree -----------------------------------------------------------------------

#[test]
fn dominator_tree_expands_and_collapses() {
    let mut h = harness(
        State::new(DominatorView::default(), Tab::Dominators),
        |v, ui, s, p, o| v.ui(ui, s, p, o),
    );
    h.run();
    assert!(has_label(&h, "Find object:"));
    assert!(h.query_by_label("Group children by class").is_some());
    // The biggest top-level object is first and can be expanded.
    let a = analysis();
    let top = a.dominators.top_level()[0];
    assert!(!a.dominators.children(top).is_empty());
    let expand = format!("Expand {}", a.index.describe(top));
    h.get_by_label_contains(&expand).click();
    h.run();
    let collapse = format!("Collapse {}", a.index.describe(top));
    assert!(
        has_label(&h, &collapse),
        "expanded node shows a collapse triangle"
    );
    let child = a.dominators.children(top)[0];
    assert!(
        has_label(&h, &format!("@ 0x{:x}", a.index.address(child))),
        "the first child is listed"
    );
    h.get_by_label_contains(&collapse).click();
    h.run();
    assert!(has_label(&h, &expand));

    // Clicking an object selects it.
    h.get_all_by_label_contains(&a.index.describe(top))
        .find(|n| n.accesskit_node().role() != Role::Button)
        .expect("object label")
        .click();
    h.run();
    assert!(h.state().out.contains(&Command::Select(top)));
}

#[test]
fn dominator_search_by_id_reveals_the_object() {
    let a = analysis();
    let target = live_session(&a);
    let address = a.index.address(target);
    let mut h = harness(
        State::new(DominatorView::default(), Tab::Dominators),
        |v, ui, s, p, o| v.ui(ui, s, p, o),
    );
    h.run();
    let field = h.get_by_label("Find object:");
    field.focus();
    h.run();
    h.get_by_label("Find object:")
        .type_text(&format!("0x{address:x}"));
    h.run();
    h.get_by_label("Find").click();
    h.run();
    h.run();
    assert!(h.state().out.contains(&Command::Select(target)));
    let label = format!("Session @ 0x{address:x}");
    assert!(
        has_label(&h, &label),
        "the found session is on screen after the search"
    );
    // Its dominators are expanded.
    let chain = a.dominators.dominators_of(target);
    let parent = chain[1];
    assert!(has_label(
        &h,
        &format!("Collapse {}", a.index.describe(parent))
    ));

    // An unknown id says so.
    h.get_by_label("Find object:").focus();
    h.key_combination_modifiers(egui::Modifiers::COMMAND, &[egui::Key::A]);
    h.get_by_label("Find object:").type_text("0x1");
    h.run();
    h.get_by_label("Find").click();
    h.run();
    assert!(has_label(&h, "No object 0x"));
}

#[test]
fn dominator_grouping_and_paging() {
    let a = analysis();
    // The sessions map's table: the node with the most children.
    let big = (0..a.index.object_count() as ObjectId)
        .filter(|&o| a.dominators.is_reachable(o))
        .max_by_key(|&o| a.dominators.children(o).len())
        .unwrap();
    let n = a.dominators.children(big).len();
    assert!(
        n > 200,
        "the sample has a node with more than 200 children ({n})"
    );

    let mut state = State::new(DominatorView::default(), Tab::Dominators);
    state
        .view
        .reveal(&state.session, a.dominators.children(big)[0]);
    let mut h = harness(state, |v, ui, s, p, o| v.ui(ui, s, p, o));
    h.run();
    let more = format!(
        "… {} more (show next {})",
        thousands((n - 200) as u64),
        thousands((n - 200).min(1000) as u64)
    );
    scroll_until(&mut h, &more);
    h.get_by_label(&more).click();
    h.run();
    assert!(
        !has_label(&h, &more),
        "all children shown after 'show next'"
    );

    // Grouping by class aggregates the children.
    h.get_by_label("Group children by class").click();
    h.run();
    assert!(
        h.query_all_by_label_contains(" objects)").next().is_some(),
        "class groups are listed"
    );
    let group = h
        .query_all_by_label_contains("Expand ")
        .find(|n| {
            n.accesskit_node()
                .label()
                .is_some_and(|l| l.ends_with(" objects)"))
        })
        .map(|n| n.accesskit_node().label().unwrap_or_default());
    if let Some(group) = group {
        h.get_by_label(&group).click();
        h.run();
        let collapse = group.replacen("Expand ", "Collapse ", 1);
        assert!(has_label(&h, &collapse), "a class group expands");
    }
}

#[test]
fn dominator_shows_unreachable_objects() {
    let a = analysis();
    let garbage = garbage_session(&a);
    let mut h = harness(
        State::new(DominatorView::default(), Tab::Dominators),
        |v, ui, s, p, o| v.ui(ui, s, p, o),
    );
    h.run();
    h.get_by_label("Show unreachable objects").click();
    h.run();
    assert!(has_label(&h, "Unreachable objects"));
    // The unreachable objects are listed in the background.
    wait_for(&mut h, "the unreachable objects", |h| {
        has_label(h, "Expand Session  (")
    });
    let sessions = h
        .query_all_by_label_contains("Expand Session  (")
        .next()
        .map(|n| n.accesskit_node().label().unwrap_or_default())
        .expect("the garbage sessions' class is listed");
    assert!(sessions.contains("(100 objects)"), "{sessions}");
    h.get_by_label(&sessions).click();
    h.run();
    assert!(h.query_all_by_label_contains("Session @ 0x").count() > 5);

    // reveal() of a garbage object opens its class among the unreachable objects.
    let mut state = State::new(DominatorView::default(), Tab::Dominators);
    state.view.reveal(&state.session, garbage);
    let mut h = harness(state, |v, ui, s, p, o| v.ui(ui, s, p, o));
    h.run();
    let label = format!("Session @ 0x{:x}", a.index.address(garbage));
    assert!(h.query_by_label(&label).is_some());
}

// ----- paths to GC roots --------------------------------------------------------------------

#[test]
fn paths_of_an_object_and_click_through() {
    let a = analysis();
    let target = live_session(&a);
    let mut state = State::new(PathsView::default(), Tab::Paths);
    state.place.path_target = Some(PathTarget::Object(target));
    let mut h = harness(state, |v, ui, s, p, o| v.ui(ui, s, p, o));
    wait_for(&mut h, "paths", |h| has_label(h, "Path node "));
    // The tree: the object, then the references up to the root.
    assert!(has_label(&h, "← "));
    assert!(has_label(&h, "GC root"));
    let nodes: Vec<String> = h
        .query_all_by_label_contains("Path node ")
        .map(|n| n.accesskit_node().label().unwrap_or_default())
        .collect();
    assert!(nodes.len() >= 2, "a chain of at least two boxes: {nodes:?}");
    let full = |o: ObjectId| h.state().session.label(o).full();
    let target_node = format!("Path node {}", full(target));
    assert!(nodes.contains(&target_node));

    // Click the box just above the object: it becomes the new target.
    let parent_node = nodes
        .iter()
        .rev()
        .find(|l| **l != target_node)
        .unwrap()
        .clone();
    h.get_by_label(&parent_node).click();
    h.run();
    let pushed = h.state().out.clone();
    let new_target = pushed
        .iter()
        .find_map(|c| match c {
            Command::ShowPaths(PathTarget::Object(o)) => Some(*o),
            _ => None,
        })
        .expect("clicking a node pushes ShowPaths");
    assert!(pushed.contains(&Command::Select(new_target)));
    let new_node = format!("Path node {}", h.state().session.label(new_target).full());
    assert_eq!(parent_node, new_node);
    h.state_mut().apply();
    wait_for(&mut h, "paths of the new target", |h| {
        has_label(h, &new_node) && !has_label(h, &target_node)
    });
}

#[test]
fn exclude_weak_toggle_changes_the_paths() {
    let a = analysis();
    // An object only weak references reach: no strong path, but reachable in the dominator
    // tree (which counts weak references, as MAT does).
    let weak_only = (0..a.index.object_count() as ObjectId).find(|&o| {
        a.dominators.is_reachable(o)
            && a.shortest_paths.path(&a.index, &a.roots, o).is_none()
            && a.graph.incoming.neighbours(o).is_empty()
    });
    let Some(weak_only) = weak_only else {
        eprintln!("no weakly reachable object in the sample; skipping");
        return;
    };
    let mut state = State::new(PathsView::default(), Tab::Paths);
    state.place.path_target = Some(PathTarget::Object(weak_only));
    let mut h = harness(state, |v, ui, s, p, o| v.ui(ui, s, p, o));
    wait_for(&mut h, "strong paths", |h| {
        has_label(h, "No strong path") || has_label(h, "Path node ")
    });
    assert!(
        has_label(&h, "No strong path"),
        "only weak paths lead to this object"
    );
    h.get_by_label("Exclude weak/soft references").click();
    wait_for(&mut h, "weak paths", |h| has_label(h, "Path node "));
    assert!(
        has_label(&h, "referent"),
        "the path goes through a referent field"
    );
}

#[test]
fn merged_paths_of_a_class() {
    let a = analysis();
    let c = class_named(&a, "Session");
    let mut state = State::new(PathsView::default(), Tab::Paths);
    state.place.path_target = Some(PathTarget::Class(c));
    let mut h = harness(state, |v, ui, s, p, o| v.ui(ui, s, p, o));
    wait_for(&mut h, "merged paths", |h| {
        has_label(h, "have a path to a GC root")
    });
    assert!(has_label(&h, "400 instances; 300 have a path to a GC root"));
    assert!(has_label(
        &h,
        "100 instances are not reachable from any GC root"
    ));
    // The busiest chain is open: some row counts all 300 live sessions.
    assert!(h.query_all_by_label("300").next().is_some());
    // Including weak references needs the second shortest-path tree, computed in the background.
    h.get_by_label("Exclude weak/soft references").click();
    wait_for(&mut h, "merged paths with weak references", |h| {
        has_label(h, "have a path to a GC root")
    });
    assert!(has_label(
        &h,
        "100 instances are not reachable from any GC root (garbage)."
    ));
}

// ----- inspector ----------------------------------------------------------------------------

#[test]
fn inspector_shows_fields_and_links() {
    let a = analysis();
    let target = live_session(&a);
    let mut state = State::new(InspectorPanel::default(), Tab::Dominators);
    state.place.selected = Some(target);
    let mut h = harness(state, |v, ui, s, p, o| v.ui(ui, s, p, o));
    h.run();
    assert!(has_label(&h, "Session"));
    assert!(has_label(&h, "Fields (5)"));
    let referrers = a.graph.incoming.neighbours(target).len() + a.graph.weak_to(target).count();
    assert!(referrers >= 1);
    assert!(has_label(&h, &format!("Referenced by ({referrers})")));
    // The id string is decoded and quoted.
    assert!(
        h.query_all_by_label_contains("\"live-").next().is_some(),
        "the id String shows its text"
    );
    // References are links that select their target (a string shows its text).
    let id = a.index.field_object(target, "id").unwrap();
    h.get_all_by_label_contains("\"live-")
        .find(|n| n.accesskit_node().role() == Role::Label)
        .expect("the id link")
        .click();
    h.run();
    assert!(h.state().out.contains(&Command::Select(id)));

    h.get_by_label("Copy id").click();
    h.get_by_label("Paths to GC roots").click();
    h.get_by_label("Show in dominator tree").click();
    h.run();
    let out = &h.state().out;
    assert!(out.contains(&Command::Copy(format!("0x{:x}", a.index.address(target)))));
    assert!(out.contains(&Command::ShowPaths(PathTarget::Object(target))));
    assert!(out.contains(&Command::RevealInDominatorTree(target)));

    // A class object shows its statics; an array its elements.
    let manager = class_named(&a, "SessionManager");
    let class_obj = a.index.class_object(manager).unwrap();
    h.state_mut().place.selected = Some(class_obj);
    h.run();
    assert!(has_label(&h, "class SessionManager"));
    assert!(has_label(&h, "Static fields ("));

    let byte_array = instances(&a, class_named(&a, "byte[]"))
        .into_iter()
        .find(|&o| a.index.array_length(o).unwrap_or(0) > 3)
        .unwrap();
    h.state_mut().place.selected = Some(byte_array);
    h.run();
    assert!(has_label(&h, "byte["));
}

// ----- threads ------------------------------------------------------------------------------

#[test]
fn threads_list_and_stack() {
    let a = analysis();
    let main = a
        .index
        .threads()
        .iter()
        .find(|t| t.name == "main")
        .expect("a main thread");
    let mut h = harness(
        State::new(ThreadsView::default(), Tab::Threads),
        |v, ui, s, p, o| v.ui(ui, s, p, o),
    );
    h.run();
    assert!(has_label(&h, "Select a thread"));
    h.get_by_label("main").click();
    h.run();
    if let Some(o) = main.object {
        assert!(h.state().out.contains(&Command::Select(o)));
    }
    assert!(has_label(&h, "Stack of \"main\""));
    assert!(
        has_label(&h, "at java.lang.Thread.sleep"),
        "the stack trace is shown"
    );
    assert!(has_label(&h, "SessionsInMap.main"));
    // Locals of the frames are listed under them, as links.
    if main.frames.iter().any(|f| !f.locals.is_empty()) {
        assert!(
            h.query_all_by_label("holds").count() > 0,
            "main's frames hold objects"
        );
    }

    // Filtering.
    h.get_by_label("Filter threads:").focus();
    h.get_by_label("Filter threads:")
        .type_text("zzz-no-such-thread");
    h.run();
    assert!(h.query_by_label("main").is_none());
    assert!(has_label(&h, "0 of "));
}

// ----- themes -------------------------------------------------------------------------------

#[test]
fn views_draw_in_light_theme() {
    let a = analysis();
    let target = live_session(&a);
    let mut state = State::new(
        (
            DominatorView::default(),
            InspectorPanel::default(),
            ThreadsView::default(),
        ),
        Tab::Dominators,
    );
    state.place.selected = Some(target);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1200.0, 800.0))
        .with_theme(egui::Theme::Light)
        .build_ui_state(
            |ui, s: &mut State<(DominatorView, InspectorPanel, ThreadsView)>| {
                egui::Panel::left("inspector")
                    .show(ui, |ui| s.view.1.ui(ui, &s.session, &s.place, &mut s.out));
                egui::Panel::bottom("threads")
                    .default_size(300.0)
                    .show(ui, |ui| s.view.2.ui(ui, &s.session, &s.place, &mut s.out));
                egui::CentralPanel::default()
                    .show(ui, |ui| s.view.0.ui(ui, &s.session, &s.place, &mut s.out));
            },
            state,
        );
    h.run();
    assert!(!h.ctx.global_style().visuals.dark_mode);
    assert!(has_label(&h, "Fields ("));
    assert!(has_label(&h, "Find object:"));
}

#[test]
fn glyphs_used_by_the_views_exist_in_the_default_fonts() {
    // kittest panics on a missing glyph when it lays text out; check the special characters the
    // views print up front, for a clear message.
    let mut h = Harness::new_ui(|ui| {
        ui.label("ready");
    });
    h.run();
    let missing: String = h.ctx.fonts_mut(|f| {
        "…·\"'"
            .chars()
            .filter(|&c| {
                !f.has_glyph(&egui::FontId::proportional(12.0), c)
                    || !f.has_glyph(&egui::FontId::monospace(12.0), c)
            })
            .collect()
    });
    assert!(missing.is_empty(), "missing glyphs: {missing}");
}
