//! Paths to GC roots: why an object (or every instance of a class) is still alive.
//!
//! For one object: up to ten shortest paths, merged into a tree from the object up to the GC
//! roots (as Eclipse MAT shows them), and a drawing of the chosen chain whose nodes can be
//! clicked through. For a class: the merged shortest paths of all its instances, from the GC
//! roots down. Searches run on a worker thread and are cached per target and mode.

use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;

use egui::{Align, Align2, FontId, Layout, Rect, RichText, Sense, Stroke, Ui, Vec2};
use egui_extras::{Column, Size, StripBuilder, TableBuilder};
use rustc_hash::{FxHashMap, FxHashSet};

use super::dominators::{triangle, with_arrows};
use super::{widgets, Command, PathTarget, Place, Session};
use crate::analysis::graph::DumpForward;
use crate::analysis::paths::{
    merge_shortest_paths, paths_to_roots, reference_label, MergedPaths, PathMode, RootPath,
    ShortestPathTree,
};
use crate::analysis::Analysis;
use crate::format;
use crate::heap::{ClassIndex, ObjectId};

/// Paths shown for one object.
const PATH_LIMIT: usize = 10;
/// Objects the search for one object's paths may visit before it gives up.
const PATH_BUDGET: usize = 4_000_000;
/// Results kept for going back and forth between objects.
const CACHE_MAX: usize = 32;
/// Children of a merged-paths node shown at first, and added per click.
const FIRST_PAGE: usize = 200;
const NEXT_PAGE: usize = 1000;

/// Work on a worker thread; the result is taken on the UI thread.
struct Job<T> {
    rx: Receiver<T>,
}

impl<T: Send + 'static> Job<T> {
    fn spawn(ctx: &egui::Context, name: &str, work: impl FnOnce() -> T + Send + 'static) -> Job<T> {
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let result = work();
                let _ = tx.send(result);
                ctx.request_repaint();
            });
        if let Err(e) = spawned {
            eprintln!("heapsight: cannot start a worker thread: {e}");
        }
        Job { rx }
    }

    /// The result, once; `Err` when the worker died without one.
    fn poll(&self) -> Option<Result<T, ()>> {
        match self.rx.try_recv() {
            Ok(v) => Some(Ok(v)),
            Err(std::sync::mpsc::TryRecvError::Empty) => None,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => Some(Err(())),
        }
    }
}

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

/// Up to ten paths of one object merged into a tree: node 0 is the object, a node's children
/// are the objects that reference it on some path, leaves are GC roots.
struct PathTree {
    paths: Arc<Vec<RootPath>>,
    nodes: Vec<TreeNode>,
}

struct TreeNode {
    object: ObjectId,
    children: Vec<usize>,
    /// The first path through this node.
    path: usize,
}

impl PathTree {
    fn new(target: ObjectId, paths: Arc<Vec<RootPath>>) -> PathTree {
        let mut nodes = vec![TreeNode {
            object: target,
            children: Vec::new(),
            path: 0,
        }];
        for (pi, p) in paths.iter().enumerate() {
            let mut cur = 0usize;
            for &o in p.objects.iter().skip(1) {
                let existing = nodes[cur]
                    .children
                    .iter()
                    .copied()
                    .find(|&c| nodes[c].object == o);
                cur = match existing {
                    Some(c) => c,
                    None => {
                        nodes.push(TreeNode {
                            object: o,
                            children: Vec::new(),
                            path: pi,
                        });
                        let c = nodes.len() - 1;
                        nodes[cur].children.push(c);
                        c
                    }
                };
            }
        }
        PathTree { paths, nodes }
    }

    /// Visible (node, depth, parent) in display order.
    fn flatten(&self, collapsed: &FxHashSet<usize>) -> Vec<(usize, u32, Option<usize>)> {
        let mut out = Vec::new();
        let mut stack = vec![(0usize, 0u32, None)];
        while let Some((n, d, parent)) = stack.pop() {
            out.push((n, d, parent));
            if !collapsed.contains(&n) {
                for &c in self.nodes[n].children.iter().rev() {
                    stack.push((c, d + 1, Some(n)));
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MergedRow {
    Node(usize),
    /// "… N more" under a node (`usize::MAX`: under the top level).
    More {
        parent: usize,
        shown: usize,
        total: usize,
    },
}

const TOP: usize = usize::MAX;

/// The merged paths of one class, as displayed.
struct MergedView {
    merged: Arc<MergedPaths>,
    instances: u64,
    expanded: FxHashSet<usize>,
    limits: FxHashMap<usize, usize>,
    /// (row, depth, parent node): the parent names the field that leads to the node.
    rows: Vec<(MergedRow, u32, Option<usize>)>,
    /// Retained bytes of all instances with a path: 100 % of the bars.
    total_retained: u64,
    dirty: bool,
}

impl MergedView {
    fn new(merged: Arc<MergedPaths>, instances: u64) -> MergedView {
        let mut expanded = FxHashSet::default();
        // Open the busiest chain down to where it branches: usually the answer.
        if let Some(&first) = merged.roots.first() {
            let mut cur = first;
            for _ in 0..64 {
                expanded.insert(cur);
                let kids = &merged.nodes[cur].children;
                if kids.len() != 1 {
                    break;
                }
                cur = kids[0];
            }
        }
        let total_retained = merged
            .roots
            .iter()
            .map(|&r| merged.nodes[r].retained_bytes)
            .sum::<u64>()
            .max(1);
        MergedView {
            merged,
            instances,
            expanded,
            limits: FxHashMap::default(),
            rows: Vec::new(),
            total_retained,
            dirty: true,
        }
    }

    fn rebuild(&mut self) {
        self.dirty = false;
        let m = &self.merged;
        let mut rows = Vec::new();
        // (parent, list, next position, depth)
        let mut stack: Vec<(usize, usize, u32)> = vec![(TOP, 0, 0)];
        while let Some(top) = stack.last_mut() {
            let (parent, pos, depth) = *top;
            let list: &[usize] = if parent == TOP {
                &m.roots
            } else {
                &m.nodes[parent].children
            };
            let limit = self.limits.get(&parent).copied().unwrap_or(FIRST_PAGE);
            if pos >= list.len().min(limit) {
                if list.len() > limit {
                    rows.push((
                        MergedRow::More {
                            parent,
                            shown: limit,
                            total: list.len(),
                        },
                        depth,
                        None,
                    ));
                }
                stack.pop();
                continue;
            }
            top.1 += 1;
            let n = list[pos];
            let parent_node = (parent != TOP).then_some(parent);
            rows.push((MergedRow::Node(n), depth, parent_node));
            if self.expanded.contains(&n) && !m.nodes[n].children.is_empty() {
                stack.push((n, 0, depth + 1));
            }
        }
        self.rows = rows;
    }
}

enum ObjectState {
    Searching,
    Ready(Box<ObjectPathsView>),
    Failed,
}

struct ObjectPathsView {
    tree: PathTree,
    collapsed: FxHashSet<usize>,
    rows: Vec<(usize, u32, Option<usize>)>,
    /// The path drawn as a chain.
    chain: usize,
}

/// What one object's paths are cached by.
type ObjectKey = (ObjectId, PathMode);
/// What a class's merged paths are cached by.
type ClassKey = (ClassIndex, PathMode);

pub struct PathsView {
    session_key: usize,
    exclude_weak: bool,
    object_cache: Cache<ObjectKey, Arc<Vec<RootPath>>>,
    object_jobs: Vec<(ObjectKey, Job<Vec<RootPath>>)>,
    /// What is displayed for the current object target.
    object_view: Option<(ObjectKey, ObjectState)>,
    class_cache: Cache<ClassKey, (Arc<MergedPaths>, u64)>,
    class_jobs: Vec<(ClassKey, Job<ClassResult>)>,
    class_view: Option<(ClassKey, MergedView)>,
    /// Shortest paths including weak references, computed on first need.
    weak_tree: Option<Arc<ShortestPathTree>>,
    labels: FxHashMap<(ObjectId, ObjectId), String>,
    /// Scroll the chain drawing to its top when the chain changes.
    chain_scroll_reset: bool,
}

struct ClassResult {
    merged: MergedPaths,
    instances: u64,
    weak_tree: Option<Arc<ShortestPathTree>>,
}

impl Default for PathsView {
    fn default() -> Self {
        PathsView {
            session_key: 0,
            exclude_weak: true,
            object_cache: Cache::default(),
            object_jobs: Vec::new(),
            object_view: None,
            class_cache: Cache::default(),
            class_jobs: Vec::new(),
            class_view: None,
            weak_tree: None,
            labels: FxHashMap::default(),
            chain_scroll_reset: false,
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
            .or_insert_with(|| reference_label(&a.index, from, to))
            .clone()
    }

    fn poll_jobs(&mut self) {
        let mut i = 0;
        while i < self.object_jobs.len() {
            match self.object_jobs[i].1.poll() {
                None => i += 1,
                Some(result) => {
                    let (key, _) = self.object_jobs.remove(i);
                    match result {
                        Ok(paths) => self.object_cache.insert(key, Arc::new(paths)),
                        Err(()) => {
                            if let Some((k, state)) = &mut self.object_view {
                                if *k == key {
                                    *state = ObjectState::Failed;
                                }
                            }
                        }
                    }
                }
            }
        }
        let mut i = 0;
        while i < self.class_jobs.len() {
            match self.class_jobs[i].1.poll() {
                None => i += 1,
                Some(result) => {
                    let (key, _) = self.class_jobs.remove(i);
                    if let Ok(r) = result {
                        if let Some(t) = r.weak_tree {
                            self.weak_tree = Some(t);
                        }
                        self.class_cache
                            .insert(key, (Arc::new(r.merged), r.instances));
                    }
                }
            }
        }
    }

    pub fn ui(&mut self, ui: &mut Ui, session: &Session, place: &Place, out: &mut Vec<Command>) {
        self.sync(session);
        self.poll_jobs();
        let analysis = session.analysis.clone();
        let a = &*analysis;

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

    // ----- one object -------------------------------------------------------------------

    fn object_ui(
        &mut self,
        ui: &mut Ui,
        session: &Session,
        o: ObjectId,
        place: &Place,
        out: &mut Vec<Command>,
    ) {
        let a = &*session.analysis;

        // Header.
        ui.horizontal_wrapped(|ui| {
            ui.heading("Paths to GC roots of");
            widgets::object_link(ui, &a.index, o, out);
        });
        ui.horizontal_wrapped(|ui| {
            self.weak_checkbox(ui);
            ui.separator();
            widgets::hint_text(
                ui,
                format!(
                    "shallow {}, retained {}",
                    format::bytes(a.index.shallow_size(o)),
                    format::bytes(a.dominators.retained(o))
                ),
            );
        });
        ui.add_space(4.0);

        let mode = mode_of(self.exclude_weak);
        let key = (o, mode);

        // Start or pick up the search for this target.
        let current = matches!(&self.object_view, Some((k, _)) if *k == key);
        let waiting = matches!(&self.object_view, Some((k, ObjectState::Searching)) if *k == key);
        if !current || waiting {
            if let Some(paths) = self.object_cache.get(&key).cloned() {
                let tree = PathTree::new(o, paths);
                let rows = tree.flatten(&FxHashSet::default());
                self.object_view = Some((
                    key,
                    ObjectState::Ready(Box::new(ObjectPathsView {
                        tree,
                        collapsed: FxHashSet::default(),
                        rows,
                        chain: 0,
                    })),
                ));
                self.chain_scroll_reset = true;
            } else if !current {
                if !self.object_jobs.iter().any(|(k, _)| *k == key) {
                    let a2 = session.analysis.clone();
                    let job = Job::spawn(ui.ctx(), "heapsight-paths", move || {
                        paths_to_roots(&a2.graph, &a2.roots, o, mode, PATH_LIMIT, PATH_BUDGET)
                    });
                    self.object_jobs.push((key, job));
                }
                self.object_view = Some((key, ObjectState::Searching));
            }
        }

        let Some((k, mut state)) = self.object_view.take() else {
            return;
        };
        self.object_body(ui, session, o, &mut state, place, out);
        self.object_view = Some((k, state));
    }

    fn object_body(
        &mut self,
        ui: &mut Ui,
        session: &Session,
        o: ObjectId,
        state: &mut ObjectState,
        place: &Place,
        out: &mut Vec<Command>,
    ) {
        let a = &*session.analysis;
        let view = match state {
            ObjectState::Searching => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Searching for paths to GC roots…");
                });
                return;
            }
            ObjectState::Failed => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    "The search for paths failed (see the log).",
                );
                return;
            }
            ObjectState::Ready(v) => v,
        };

        if view.tree.paths.is_empty() {
            ui.add_space(8.0);
            let msg = if !a.dominators.is_reachable(o) {
                "No GC root reaches this object: it is garbage that the next collection frees."
                    .to_string()
            } else if self.exclude_weak {
                "No strong path to a GC root: this object is only reachable through weak or \
                 soft references (or the search budget ran out). Untick \"Exclude weak/soft \
                 references\" to follow them."
                    .to_string()
            } else {
                format!(
                    "No path found within the search budget ({} objects visited).",
                    format::thousands(PATH_BUDGET as u64)
                )
            };
            ui.label(RichText::new(msg).color(ui.visuals().warn_fg_color));
            return;
        }

        let n_paths = view.tree.paths.len();
        let summary = match n_paths {
            1 => "1 shortest path to a GC root, from the object up to the root.".to_string(),
            PATH_LIMIT => format!(
                "The {PATH_LIMIT} shortest paths to GC roots, from the object up to the roots."
            ),
            n => format!("{n} shortest paths to GC roots, from the object up to the roots."),
        };
        widgets::hint_text(ui, summary);
        StripBuilder::new(ui)
            .size(Size::remainder().at_least(300.0))
            .size(Size::exact(290.0))
            .horizontal(|mut strip| {
                strip.cell(|ui| {
                    self.object_tree_ui(ui, session, view, place, out);
                });
                strip.cell(|ui| {
                    self.chain_ui(ui, session, view, place, out);
                });
            });
    }

    fn object_tree_ui(
        &mut self,
        ui: &mut Ui,
        session: &Session,
        view: &mut ObjectPathsView,
        place: &Place,
        out: &mut Vec<Command>,
    ) {
        let a = &*session.analysis;
        let row_height = ui.spacing().interact_size.y;
        let reachable = a.dominators.reachable_bytes.max(1);
        let mut toggles = Vec::new();
        let mut chain = None;
        let rows = std::mem::take(&mut view.rows);
        TableBuilder::new(ui)
            .id_salt("heapsight.paths.object_tree")
            .striped(true)
            .resizable(true)
            .auto_shrink([false, false])
            .cell_layout(Layout::left_to_right(Align::Center))
            .column(Column::remainder().at_least(240.0).clip(true))
            .column(Column::initial(80.0).at_least(50.0).clip(true))
            .column(Column::initial(140.0).at_least(80.0).clip(true))
            .header(row_height + 2.0, |mut h| {
                h.col(|ui| {
                    ui.strong("Object / referenced from");
                });
                h.col(|ui| {
                    ui.strong("Shallow");
                });
                h.col(|ui| {
                    ui.strong("Retained");
                });
            })
            .body(|body| {
                body.rows(row_height, rows.len(), |mut row| {
                    let (n, depth, parent) = rows[row.index()];
                    let node = &view.tree.nodes[n];
                    let x = node.object;
                    row.set_selected(place.selected == Some(x));
                    let text = match parent {
                        None => a.index.describe(x),
                        Some(p) => {
                            let child = view.tree.nodes[p].object;
                            let field = self.label(a, x, child);
                            format!("← {field} of {}", a.index.describe(x))
                        }
                    };
                    let roots: Vec<&str> = a.roots.kinds(x).map(|k| k.as_str()).collect();
                    row.col(|ui| {
                        ui.add_space(depth.min(40) as f32 * 14.0);
                        if node.children.is_empty() {
                            ui.add_space(16.0 + ui.spacing().item_spacing.x);
                        } else {
                            let open = !view.collapsed.contains(&n);
                            if triangle(ui, open, &text) {
                                toggles.push(n);
                            }
                        }
                        let response = ui
                            .add(
                                egui::Label::new(with_arrows(ui.style(), &text))
                                    .sense(Sense::click())
                                    .truncate(),
                            )
                            .on_hover_text("Click: select and draw this path");
                        if !roots.is_empty() {
                            ui.label(
                                RichText::new(format!("GC root: {}", pretty_kinds(&roots)))
                                    .color(ui.visuals().hyperlink_color)
                                    .small(),
                            );
                        }
                        if response.clicked() {
                            out.push(Command::Select(x));
                            chain = Some(node.path);
                        }
                        response.context_menu(|ui| widgets::object_menu(ui, &a.index, x, out));
                    });
                    row.col(|ui| {
                        widgets::bytes_label(ui, a.index.shallow_size(x));
                    });
                    row.col(|ui| {
                        let r = a.dominators.retained(x);
                        let w = (ui.available_width() - 4.0).max(40.0);
                        widgets::size_bar(ui, r as f64 / reachable as f64, &format::bytes(r), w);
                    });
                });
            });
        view.rows = rows;
        if !toggles.is_empty() {
            for n in toggles {
                if !view.collapsed.remove(&n) {
                    view.collapsed.insert(n);
                }
            }
            view.rows = view.tree.flatten(&view.collapsed);
        }
        if let Some(c) = chain {
            if c != view.chain {
                view.chain = c;
                self.chain_scroll_reset = true;
            }
        }
    }

    /// The chosen path drawn as boxes from the GC root (top) down to the object, each edge
    /// labelled with the field; only the boxes on screen are drawn.
    fn chain_ui(
        &mut self,
        ui: &mut Ui,
        session: &Session,
        view: &mut ObjectPathsView,
        place: &Place,
        out: &mut Vec<Command>,
    ) {
        let a = &*session.analysis;
        let n = view.tree.paths.len();
        if n == 0 {
            return;
        }
        view.chain = view.chain.min(n - 1);
        ui.horizontal(|ui| {
            if ui
                .add_enabled(
                    view.chain > 0,
                    egui::Button::new(with_arrows(ui.style(), "← Previous path")),
                )
                .clicked()
            {
                view.chain -= 1;
                self.chain_scroll_reset = true;
            }
            ui.label(format!("Path {} of {n}", view.chain + 1));
            if ui
                .add_enabled(
                    view.chain + 1 < n,
                    egui::Button::new(with_arrows(ui.style(), "Next path →")),
                )
                .clicked()
            {
                view.chain += 1;
                self.chain_scroll_reset = true;
            }
        });
        let path = view.tree.paths[view.chain].objects.clone();
        widgets::hint_text(
            ui,
            format!(
                "{} reference{} from the GC root; click a box to follow its own paths.",
                path.len() - 1,
                if path.len() == 2 { "" } else { "s" }
            ),
        );
        ui.separator();

        // Draw in reference order: root first.
        let order: Vec<ObjectId> = path.iter().rev().copied().collect();
        let box_h = 46.0;
        let edge_h = 34.0;
        let slot = box_h + edge_h;
        let total_h = order.len() as f32 * slot - edge_h + 8.0;
        let mut scroll = egui::ScrollArea::vertical()
            .id_salt("heapsight.paths.chain")
            .auto_shrink([false, false]);
        if std::mem::take(&mut self.chain_scroll_reset) {
            scroll = scroll.vertical_scroll_offset(0.0);
        }
        scroll.show_viewport(ui, |ui, viewport| {
            let width = ui.available_width().max(160.0);
            let (full, _) = ui.allocate_exact_size(Vec2::new(width, total_h), Sense::hover());
            let first = ((viewport.min.y / slot).floor().max(0.0)) as usize;
            let last = (((viewport.max.y / slot).ceil()) as usize + 1).min(order.len());
            let visuals = ui.visuals().clone();
            for i in first..last {
                let o = order[i];
                let top = full.min.y + i as f32 * slot;
                let rect = Rect::from_min_size(
                    egui::pos2(full.min.x + 4.0, top),
                    Vec2::new(width - 12.0, box_h),
                );
                let is_root = i == 0;
                let is_target = i + 1 == order.len();
                let name = a.index.describe(o);
                let response = ui
                    .interact(
                        rect,
                        ui.make_persistent_id(("heapsight.paths.chain-node", i, o)),
                        Sense::click(),
                    )
                    .on_hover_text(format!(
                        "{name}\nClick: select it and show its own paths to GC roots"
                    ));
                response.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::Button, true, format!("Path node {name}"))
                });
                if response.clicked() {
                    out.push(Command::Select(o));
                    if !is_target {
                        out.push(Command::ShowPaths(PathTarget::Object(o)));
                    }
                }
                response.context_menu(|ui| widgets::object_menu(ui, &a.index, o, out));

                let painter = ui.painter();
                let w = if response.hovered() {
                    &visuals.widgets.hovered
                } else {
                    &visuals.widgets.inactive
                };
                let stroke = if place.selected == Some(o) || is_target {
                    Stroke::new(2.0, visuals.selection.stroke.color)
                } else if is_root {
                    Stroke::new(1.5, visuals.hyperlink_color)
                } else {
                    visuals.widgets.noninteractive.bg_stroke
                };
                painter.rect(rect, 6.0, w.weak_bg_fill, stroke, egui::StrokeKind::Inside);
                let title = short_name(&name);
                let clip = rect.shrink(6.0);
                let painter = painter.with_clip_rect(clip);
                painter.text(
                    rect.left_top() + Vec2::new(8.0, 6.0),
                    Align2::LEFT_TOP,
                    title,
                    FontId::proportional(13.5),
                    visuals.strong_text_color(),
                );
                let sub = if is_root {
                    let kinds: Vec<&str> = a.roots.kinds(o).map(|k| k.as_str()).collect();
                    format!("GC root: {}", pretty_kinds(&kinds))
                } else {
                    format!(
                        "{} shallow · {} retained",
                        format::bytes(a.index.shallow_size(o)),
                        format::bytes(a.dominators.retained(o))
                    )
                };
                painter.text(
                    rect.left_bottom() + Vec2::new(8.0, -6.0),
                    Align2::LEFT_BOTTOM,
                    sub,
                    FontId::proportional(11.5),
                    if is_root {
                        visuals.hyperlink_color
                    } else {
                        visuals.weak_text_color()
                    },
                );

                // The edge to the next box, labelled with the field.
                if i + 1 < order.len() {
                    let x = rect.left() + 22.0;
                    let y0 = rect.bottom();
                    let y1 = y0 + edge_h;
                    let color = visuals.weak_text_color();
                    let painter = ui.painter();
                    painter.line_segment(
                        [egui::pos2(x, y0), egui::pos2(x, y1 - 1.0)],
                        Stroke::new(1.5, color),
                    );
                    painter.add(egui::Shape::convex_polygon(
                        vec![
                            egui::pos2(x - 5.0, y1 - 7.0),
                            egui::pos2(x + 5.0, y1 - 7.0),
                            egui::pos2(x, y1 - 1.0),
                        ],
                        color,
                        Stroke::NONE,
                    ));
                    let field = self.label(a, o, order[i + 1]);
                    painter
                        .with_clip_rect(Rect::from_min_max(
                            egui::pos2(x, y0),
                            egui::pos2(full.right(), y1),
                        ))
                        .text(
                            egui::pos2(x + 10.0, (y0 + y1) / 2.0),
                            Align2::LEFT_CENTER,
                            field,
                            FontId::monospace(12.0),
                            visuals.text_color(),
                        );
                }
            }
        });
    }

    // ----- all instances of a class -----------------------------------------------------

    fn class_ui(
        &mut self,
        ui: &mut Ui,
        session: &Session,
        c: ClassIndex,
        place: &Place,
        out: &mut Vec<Command>,
    ) {
        let a = &*session.analysis;
        let class_name = a.index.classes().get(c).name.clone();

        ui.horizontal_wrapped(|ui| {
            ui.heading(format!("Merged paths to GC roots of all {class_name}"));
        });
        ui.horizontal_wrapped(|ui| {
            self.weak_checkbox(ui);
        });
        ui.add_space(4.0);
        let mode = mode_of(self.exclude_weak);
        let key = (c, mode);

        if !matches!(&self.class_view, Some((k, _)) if *k == key) {
            if let Some((merged, instances)) = self.class_cache.get(&key).cloned() {
                self.class_view = Some((key, MergedView::new(merged, instances)));
            } else if !self.class_jobs.iter().any(|(k, _)| *k == key) {
                let a2 = session.analysis.clone();
                let weak_tree = self.weak_tree.clone();
                let job = Job::spawn(ui.ctx(), "heapsight-merged-paths", move || {
                    let objects: Vec<ObjectId> = a2
                        .index
                        .class_of_all()
                        .iter()
                        .enumerate()
                        .filter(|(_, &k)| k == c)
                        .map(|(o, _)| o as ObjectId)
                        .collect();
                    let (tree, computed) = match mode {
                        PathMode::ExcludeWeak => (None, None),
                        PathMode::IncludeWeak => match weak_tree {
                            Some(t) => (Some(t), None),
                            None => {
                                // The outgoing lists are gone: read references from the dump.
                                let forward = DumpForward::new(&a2.index, true);
                                let t = Arc::new(ShortestPathTree::compute(
                                    &a2.index,
                                    &forward,
                                    PathMode::IncludeWeak,
                                ));
                                (Some(t.clone()), Some(t))
                            }
                        },
                    };
                    let tree: &ShortestPathTree = match &tree {
                        Some(t) => t,
                        None => &a2.shortest_paths,
                    };
                    let merged = merge_shortest_paths(&a2.index, tree, &a2.roots, &objects, |o| {
                        a2.dominators.retained(o)
                    });
                    ClassResult {
                        merged,
                        instances: objects.len() as u64,
                        weak_tree: computed,
                    }
                });
                self.class_jobs.push((key, job));
            }
        }

        match self.class_view.take() {
            Some((k, mut view)) if k == key => {
                self.class_body(ui, session, &mut view, place, out);
                self.class_view = Some((k, view));
            }
            other => {
                self.class_view = other;
                self.class_waiting(ui, mode);
            }
        }
    }

    fn class_body(
        &mut self,
        ui: &mut Ui,
        session: &Session,
        view: &mut MergedView,
        place: &Place,
        out: &mut Vec<Command>,
    ) {
        let a = &*session.analysis;
        if view.dirty {
            view.rebuild();
        }
        let merged = view.merged.clone();
        let reached = view.instances - merged.unreachable;
        ui.label(format!(
            "{} instances; {} have a path to a GC root.",
            format::thousands(view.instances),
            format::thousands(reached)
        ));
        if merged.unreachable > 0 {
            let text = if self.exclude_weak {
                format!(
                    "{} instances are not reachable from any GC root (garbage, or reachable \
                     only through weak/soft references).",
                    format::thousands(merged.unreachable)
                )
            } else {
                format!(
                    "{} instances are not reachable from any GC root (garbage).",
                    format::thousands(merged.unreachable)
                )
            };
            ui.label(RichText::new(text).color(ui.visuals().warn_fg_color));
        }
        if merged.roots.is_empty() {
            return;
        }
        ui.add_space(4.0);

        let total_retained = view.total_retained;
        let row_height = ui.spacing().interact_size.y;
        let rows = std::mem::take(&mut view.rows);
        let mut toggles = Vec::new();
        let mut more = Vec::new();
        TableBuilder::new(ui)
            .id_salt("heapsight.paths.merged")
            .striped(true)
            .resizable(true)
            .auto_shrink([false, false])
            .cell_layout(Layout::left_to_right(Align::Center))
            .column(Column::remainder().at_least(280.0).clip(true))
            .column(Column::initial(90.0).at_least(60.0).clip(true))
            .column(Column::initial(170.0).at_least(100.0).clip(true))
            .header(row_height + 2.0, |mut h| {
                h.col(|ui| {
                    ui.strong("GC root / reference");
                });
                h.col(|ui| {
                    ui.strong("Objects");
                });
                h.col(|ui| {
                    ui.strong("Retained");
                });
            })
            .body(|body| {
                body.rows(row_height, rows.len(), |mut row| {
                    let i = row.index();
                    let (r, depth, parent) = rows[i];
                    let indent = depth.min(40) as f32 * 14.0;
                    match r {
                        MergedRow::Node(n) => {
                            let node = &merged.nodes[n];
                            let x = node.object;
                            row.set_selected(place.selected == Some(x));
                            let text = match parent {
                                None => {
                                    let kinds: Vec<&str> =
                                        a.roots.kinds(x).map(|k| k.as_str()).collect();
                                    format!(
                                        "{}  [GC root: {}]",
                                        a.index.describe(x),
                                        pretty_kinds(&kinds)
                                    )
                                }
                                Some(p) => {
                                    let from = merged.nodes[p].object;
                                    let field = self.label(a, from, x);
                                    format!("{field} → {}", a.index.describe(x))
                                }
                            };
                            row.col(|ui| {
                                ui.add_space(indent);
                                if node.children.is_empty() {
                                    ui.add_space(16.0 + ui.spacing().item_spacing.x);
                                } else if triangle(ui, view.expanded.contains(&n), &text) {
                                    toggles.push(n);
                                }
                                let response = ui
                                    .add(
                                        egui::Label::new(with_arrows(ui.style(), &text))
                                            .sense(Sense::click())
                                            .truncate(),
                                    )
                                    .on_hover_text(
                                        "Click: select. Double-click: expand. Right-click: more.",
                                    );
                                if response.clicked() {
                                    out.push(Command::Select(x));
                                }
                                if response.double_clicked() && !node.children.is_empty() {
                                    toggles.push(n);
                                }
                                response
                                    .context_menu(|ui| widgets::object_menu(ui, &a.index, x, out));
                            });
                            row.col(|ui| {
                                ui.label(format::thousands(node.objects));
                            });
                            row.col(|ui| {
                                let w = (ui.available_width() - 4.0).max(40.0);
                                widgets::size_bar(
                                    ui,
                                    node.retained_bytes as f64 / total_retained as f64,
                                    &format::bytes(node.retained_bytes),
                                    w,
                                )
                                .on_hover_text(format!(
                                    "{} bytes retained by the {} instances below",
                                    format::thousands(node.retained_bytes),
                                    format::thousands(node.objects)
                                ));
                            });
                        }
                        MergedRow::More {
                            parent,
                            shown,
                            total,
                        } => {
                            row.col(|ui| {
                                ui.add_space(indent + 16.0 + ui.spacing().item_spacing.x);
                                let rest = total - shown;
                                let next = rest.min(NEXT_PAGE);
                                let text = format!(
                                    "… {} more (show next {})",
                                    format::thousands(rest as u64),
                                    format::thousands(next as u64)
                                );
                                if ui.link(text).clicked() {
                                    more.push((parent, shown + next));
                                }
                            });
                            row.col(|_| {});
                            row.col(|_| {});
                        }
                    }
                });
            });
        view.rows = rows;
        for n in toggles {
            if !view.expanded.remove(&n) {
                view.expanded.insert(n);
            }
            view.dirty = true;
        }
        for (p, limit) in more {
            view.limits.insert(p, limit);
            view.dirty = true;
        }
    }

    fn class_waiting(&self, ui: &mut Ui, mode: PathMode) {
        ui.horizontal(|ui| {
            ui.spinner();
            if mode == PathMode::IncludeWeak && self.weak_tree.is_none() {
                ui.label("Computing shortest paths through weak references…");
            } else {
                ui.label("Merging the shortest paths of all instances…");
            }
        });
    }
}

/// `HashMap` for `java.util.HashMap @ 0x…`, `Node[16]` for `java.util.HashMap$Node[16] @ …`.
fn short_name(describe: &str) -> String {
    let name = describe.split(" @ ").next().unwrap_or(describe);
    let (prefix, name) = match name.strip_prefix("class ") {
        Some(rest) => ("class ", rest),
        None => ("", name),
    };
    let base_end = name.find('[').unwrap_or(name.len());
    let (base, suffix) = name.split_at(base_end);
    let short = base.rsplit('.').next().unwrap_or(base);
    format!("{prefix}{short}{suffix}")
}

fn pretty_kinds(kinds: &[&str]) -> String {
    if kinds.is_empty() {
        return "root".into();
    }
    kinds.join(", ").replace('_', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names() {
        assert_eq!(short_name("java.util.HashMap @ 0x10"), "HashMap");
        assert_eq!(
            short_name("java.util.HashMap$Node[16] @ 0x10"),
            "HashMap$Node[16]"
        );
        assert_eq!(short_name("class java.lang.String @ 0x10"), "class String");
        assert_eq!(short_name("int[3] @ 0x10"), "int[3]");
    }

    #[test]
    fn tree_merges_shared_prefixes() {
        let paths = Arc::new(vec![
            RootPath {
                objects: vec![1, 2, 3],
            },
            RootPath {
                objects: vec![1, 2, 4],
            },
            RootPath {
                objects: vec![1, 5],
            },
        ]);
        let t = PathTree::new(1, paths);
        assert_eq!(t.nodes.len(), 5);
        let rows = t.flatten(&FxHashSet::default());
        let objects: Vec<ObjectId> = rows.iter().map(|r| t.nodes[r.0].object).collect();
        assert_eq!(objects, vec![1, 2, 3, 4, 5]);
        let mut collapsed = FxHashSet::default();
        collapsed.insert(1);
        assert_eq!(t.flatten(&collapsed).len(), 3);
    }
}
