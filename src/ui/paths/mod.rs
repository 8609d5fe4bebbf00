//! Paths to GC roots: why an object (or every instance of a class) is still alive.
//!
//! For one object: up to ten shortest paths merged into a tree from the object up to the GC
//! roots, and a drawing of the chosen chain whose boxes can be clicked through
//! (`object.rs`, `chain.rs`). For a class: the merged shortest paths of all its instances,
//! grouped by class at every level (`merged.rs`). The searches run as tasks and are cached per
//! target and mode.

mod chain;
mod merged;
mod object;

use std::sync::Arc;

use egui::Ui;
use rustc_hash::FxHashMap;

use super::task::{Poll, Task};
use super::{widgets, Command, PathTarget, Place, Session};
use crate::analysis::graph::DumpForward;
use crate::analysis::instances::instances_of_class;
use crate::analysis::merged_paths::{merge_paths_by_class, MergedPaths};
use crate::analysis::paths::{hop_name, shortest_paths, PathMode, RootPath, ShortestPathTree};
use crate::analysis::Analysis;
use crate::heap::{ClassIndex, ObjectId};
use crate::progress::Phase;

use merged::MergedView;
use object::ObjectPathsView;

/// Paths shown for one object.
const PATH_LIMIT: usize = 10;
/// Objects the search for one object's paths may visit before it gives up.
const PATH_BUDGET: usize = 4_000_000;
/// Results kept for going back and forth between objects.
const CACHE_MAX: usize = 32;

fn mode_of(exclude_weak: bool) -> PathMode {
    if exclude_weak {
        PathMode::ExcludeWeak
    } else {
        PathMode::IncludeWeak
    }
}

/// A small map that forgets its oldest entries.
struct Cache<K, V> {
    entries: Vec<(K, V)>,
}

impl<K: PartialEq, V> Default for Cache<K, V> {
    fn default() -> Self {
        Cache {
            entries: Vec::new(),
        }
    }
}

impl<K: PartialEq, V> Cache<K, V> {
    fn get(&self, k: &K) -> Option<&V> {
        self.entries.iter().find(|e| &e.0 == k).map(|e| &e.1)
    }

    fn insert(&mut self, k: K, v: V) {
        self.entries.retain(|e| e.0 != k);
        if self.entries.len() >= CACHE_MAX {
            self.entries.remove(0);
        }
        self.entries.push((k, v));
    }
}

/// What one object's paths are cached by.
type ObjectKey = (ObjectId, PathMode);
/// What a class's merged paths are cached by.
type ClassKey = (ClassIndex, PathMode);

/// A finished merge, with the shortest-path tree through weak references if it made one.
struct ClassResult {
    merged: Option<MergedPaths>,
    weak_tree: Option<Arc<ShortestPathTree>>,
}

pub struct PathsView {
    session_key: usize,
    exclude_weak: bool,
    object_cache: Cache<ObjectKey, Arc<Vec<RootPath>>>,
    /// The one object search under way (a new target replaces it).
    object_task: Option<(ObjectKey, Task<Vec<RootPath>>)>,
    object_failed: Option<ObjectKey>,
    /// What is displayed for the current object target.
    object_view: Option<(ObjectKey, ObjectPathsView)>,
    class_cache: Cache<ClassKey, Arc<MergedPaths>>,
    /// The one merge under way (a new target cancels it).
    class_task: Option<(ClassKey, Task<ClassResult>)>,
    class_view: Option<(ClassKey, MergedView)>,
    /// Shortest paths including weak references, computed on first need.
    weak_tree: Option<Arc<ShortestPathTree>>,
    labels: FxHashMap<(ObjectId, ObjectId), String>,
    /// Merged-paths nodes double-clicked this frame.
    merged_toggles: Vec<u32>,
}

impl Default for PathsView {
    fn default() -> Self {
        PathsView {
            session_key: 0,
            exclude_weak: true,
            object_cache: Cache::default(),
            object_task: None,
            object_failed: None,
            object_view: None,
            class_cache: Cache::default(),
            class_task: None,
            class_view: None,
            weak_tree: None,
            labels: FxHashMap::default(),
            merged_toggles: Vec::new(),
        }
    }
}

impl PathsView {
    fn sync(&mut self, session: &Session) {
        let key = Arc::as_ptr(&session.analysis) as usize;
        if key != self.session_key {
            let exclude_weak = self.exclude_weak;
            *self = PathsView::default();
            self.exclude_weak = exclude_weak;
            self.session_key = key;
        }
    }

    /// How `from` refers to `to`, cached (an array may be scanned to find the index).
    fn label(&mut self, a: &Analysis, from: ObjectId, to: ObjectId) -> String {
        if self.labels.len() > 10_000 {
            self.labels.clear();
        }
        self.labels
            .entry((from, to))
            .or_insert_with(|| hop_name(a, from, to))
            .clone()
    }

    fn poll_tasks(&mut self) {
        if let Some((key, task)) = &mut self.object_task {
            match task.poll() {
                Poll::Running => {}
                Poll::Done(paths) => {
                    self.object_cache.insert(*key, Arc::new(paths));
                    self.object_task = None;
                }
                Poll::Died => {
                    self.object_failed = Some(*key);
                    self.object_task = None;
                }
            }
        }
        if let Some((key, task)) = &mut self.class_task {
            match task.poll() {
                Poll::Running => {}
                Poll::Done(r) => {
                    if let Some(t) = r.weak_tree {
                        self.weak_tree = Some(t);
                    }
                    if let Some(m) = r.merged {
                        self.class_cache.insert(*key, Arc::new(m));
                    }
                    self.class_task = None;
                }
                Poll::Died => self.class_task = None,
            }
        }
    }

    /// Starts the merge of `c`'s instances' paths, cancelling any other.
    fn start_merge(&mut self, session: &Session, ctx: &egui::Context, key: ClassKey) {
        let (c, mode) = key;
        let a = session.analysis.clone();
        let weak_tree = self.weak_tree.clone();
        let task = Task::spawn("heapsight-merged-paths", ctx, move |progress| {
            let mut computed = None;
            let tree: Arc<ShortestPathTree> = match (mode, weak_tree) {
                (PathMode::ExcludeWeak, _) => {
                    let merged = merge_class(&a, &a.shortest_paths, c, progress);
                    return ClassResult {
                        merged,
                        weak_tree: None,
                    };
                }
                (PathMode::IncludeWeak, Some(t)) => t,
                (PathMode::IncludeWeak, None) => {
                    progress.start(Phase::Graph, 0);
                    // The outgoing lists are gone: read references from the dump.
                    let forward = DumpForward::new(&a.index, true);
                    let t = Arc::new(ShortestPathTree::compute(
                        &a.index,
                        &forward,
                        PathMode::IncludeWeak,
                    ));
                    computed = Some(t.clone());
                    t
                }
            };
            ClassResult {
                merged: merge_class(&a, &tree, c, progress),
                weak_tree: computed,
            }
        });
        self.class_task = Some((key, task));
    }

    pub fn ui(&mut self, ui: &mut Ui, session: &Session, place: &Place, out: &mut Vec<Command>) {
        self.sync(session);
        self.poll_tasks();
        let a = session.analysis.clone();
        let Some(target) = place.path_target.clone() else {
            ui.add_space(8.0);
            ui.heading("Paths to GC roots");
            widgets::hint_text(
                ui,
                "Pick an object (right-click: \"Paths to GC roots\") or a class in the histogram \
                 to see the chains of references that keep it alive.",
            );
            ui.add_space(4.0);
            self.weak_checkbox(ui);
            return;
        };
        match target {
            PathTarget::Object(o) if (o as usize) < a.index.object_count() => {
                self.object_ui(ui, session, o, place, out)
            }
            PathTarget::Class(c) if (c as usize) < a.index.classes().len() => {
                self.class_ui(ui, session, c, place, out)
            }
            _ => {
                widgets::hint_text(ui, "This object or class is not in the dump.");
            }
        }
    }

    fn weak_checkbox(&mut self, ui: &mut Ui) -> bool {
        ui.checkbox(&mut self.exclude_weak, "Exclude weak/soft references")
            .on_hover_text(
                "Weak, soft and phantom references do not keep objects alive. Untick to also \
                 follow their referent fields.",
            )
            .changed()
    }

    /// Starts the search for one object's paths unless it is cached or under way.
    fn start_search(&mut self, session: &Session, ctx: &egui::Context, key: ObjectKey) {
        if self.object_cache.get(&key).is_some()
            || matches!(&self.object_task, Some((k, _)) if *k == key)
        {
            return;
        }
        let (o, mode) = key;
        let a = session.analysis.clone();
        self.object_failed = None;
        let task = Task::spawn("heapsight-paths", ctx, move |_| {
            shortest_paths(&a, o, mode, PATH_LIMIT, PATH_BUDGET)
        });
        self.object_task = Some((key, task));
    }
}

/// All instances of `c`, then their merged paths; `None` when cancelled.
fn merge_class(
    a: &Analysis,
    tree: &ShortestPathTree,
    c: ClassIndex,
    progress: &crate::progress::Progress,
) -> Option<MergedPaths> {
    progress.start(Phase::Index, 0);
    let members = instances_of_class(&a.index, &a.dominators, c, progress)?;
    progress.start(Phase::Dominators, members.len() as u64);
    merge_paths_by_class(&a.index, tree, &a.roots, &a.dominators, &members, progress)
}
