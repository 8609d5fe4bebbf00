//! Paths of one object: the merged tree (object at the top, GC roots at the leaves) and, beside
//! it or below it when the window is narrow, the chosen path drawn as a chain.

use egui::{RichText, Sense, Ui};
use egui_extras::{Size, StripBuilder};
use rustc_hash::FxHashSet;

use super::{mode_of, PathsView, PATH_BUDGET, PATH_LIMIT};
use crate::analysis::label::root_kinds_text;
use crate::analysis::path_tree::PathTree;
use crate::format;
use crate::heap::ObjectId;
use crate::ui::tree_table::{self, ColumnSpec, Expander, RowInfo, TreeEvent, TreeTableState};
use crate::ui::widgets::{self, with_arrows};
use crate::ui::{Command, Place, Session};

/// Below this width the chain goes under the tree instead of beside it.
const SIDE_BY_SIDE_MIN: f32 = 1000.0;
/// Width of the chain beside the tree.
const CHAIN_WIDTH: f32 = 300.0;

pub(super) struct ObjectPathsView {
    pub tree: PathTree,
    collapsed: FxHashSet<usize>,
    rows: Vec<(usize, u32, Option<usize>)>,
    /// The path drawn as a chain.
    pub chain: usize,
    table: TreeTableState,
    /// Scroll the chain drawing to its top when the chain changes.
    pub chain_scroll_reset: bool,
}

impl ObjectPathsView {
    fn new(tree: PathTree) -> ObjectPathsView {
        let rows = tree.flatten(&FxHashSet::default());
        ObjectPathsView {
            tree,
            collapsed: FxHashSet::default(),
            rows,
            chain: 0,
            table: TreeTableState::default(),
            chain_scroll_reset: true,
        }
    }
}

impl PathsView {
    pub(super) fn object_ui(
        &mut self,
        ui: &mut Ui,
        session: &Session,
        o: ObjectId,
        place: &Place,
        out: &mut Vec<Command>,
    ) {
        let a = &*session.analysis;
        ui.horizontal_wrapped(|ui| {
            ui.heading("Paths to GC roots of");
            let label = session.label(o).short();
            if ui.link(label).clicked() {
                out.push(Command::Select(o));
            }
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

        let key = (o, mode_of(self.exclude_weak));
        if !matches!(&self.object_view, Some((k, _)) if *k == key) {
            match self.object_cache.get(&key).cloned() {
                Some(paths) => {
                    self.object_view = Some((key, ObjectPathsView::new(PathTree::new(o, paths))));
                }
                None => {
                    self.start_search(session, ui.ctx(), key);
                    if self.object_failed == Some(key) {
                        ui.colored_label(
                            ui.visuals().error_fg_color,
                            "The search for paths failed (see the log).",
                        );
                    } else {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.label("Searching for paths to GC roots…");
                        });
                    }
                    return;
                }
            }
        }
        let Some((k, mut view)) = self.object_view.take() else {
            return;
        };
        self.object_body(ui, session, o, &mut view, place, out);
        self.object_view = Some((k, view));
    }

    fn object_body(
        &mut self,
        ui: &mut Ui,
        session: &Session,
        o: ObjectId,
        view: &mut ObjectPathsView,
        place: &Place,
        out: &mut Vec<Command>,
    ) {
        let a = &*session.analysis;
        if view.tree.paths.is_empty() {
            ui.add_space(8.0);
            let msg = if !a.index.has_dump() && !self.exclude_weak {
                "Paths through weak or soft references need the dump: the index alone holds the \
                 shortest strong path of each object."
                    .to_string()
            } else if !a.dominators.is_reachable(o) {
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
        let summary = match view.tree.paths.len() {
            1 if !a.index.has_dump() => "The shortest path to a GC root, from the object up to \
                 the root (the index alone holds one per object; more paths need the dump)."
                .to_string(),
            1 => "1 shortest path to a GC root, from the object up to the root.".to_string(),
            PATH_LIMIT => format!(
                "The {PATH_LIMIT} shortest paths to GC roots, from the object up to the roots."
            ),
            n => format!("{n} shortest paths to GC roots, from the object up to the roots."),
        };
        widgets::hint_text(ui, summary);
        let side_by_side = ui.available_width() >= SIDE_BY_SIDE_MIN;
        let strip = StripBuilder::new(ui).clip(true);
        if side_by_side {
            strip
                .size(Size::remainder().at_least(300.0))
                .size(Size::exact(CHAIN_WIDTH))
                .horizontal(|mut strip| {
                    strip.cell(|ui| self.object_tree_ui(ui, session, view, place, out));
                    strip.cell(|ui| self.chain_ui(ui, session, view, place, out));
                });
        } else {
            strip
                .size(Size::relative(0.45).at_least(120.0))
                .size(Size::remainder().at_least(160.0))
                .vertical(|mut strip| {
                    strip.cell(|ui| self.object_tree_ui(ui, session, view, place, out));
                    strip.cell(|ui| self.chain_ui(ui, session, view, place, out));
                });
        }
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
        let reachable = a.dominators.reachable_bytes.max(1);
        let rows = std::mem::take(&mut view.rows);
        let tree = &view.tree;
        let collapsed = &view.collapsed;
        let text_of = |this: &mut PathsView, r: usize| {
            let (n, _, parent) = rows[r];
            let x = tree.nodes[n].object;
            match parent {
                None => session.label(x).full(),
                Some(p) => {
                    let child = tree.nodes[p].object;
                    let field = this.label(a, x, child);
                    format!("← {field} of {}", session.label(x).full())
                }
            }
        };
        let info = |r: usize| {
            let (n, depth, _) = rows[r];
            let node = &tree.nodes[n];
            RowInfo {
                depth,
                expander: Expander::of(!node.children.is_empty(), !collapsed.contains(&n)),
                selected: place.selected == Some(node.object),
            }
        };
        let name = |r: usize| session.label(tree.nodes[rows[r].0].object).full();
        let mut chain = None;
        let columns = [
            ColumnSpec::remainder("Object / referenced from", 200.0),
            ColumnSpec::sized("Shallow", 76.0, 50.0),
            ColumnSpec::sized("Retained", 130.0, 80.0),
        ];
        let mut table = std::mem::take(&mut view.table);
        let events = {
            let this = &mut *self;
            let mut first = |ui: &mut Ui, r: usize, _: &RowInfo| {
                let node = &tree.nodes[rows[r].0];
                let x = node.object;
                let text = text_of(this, r);
                let response = ui
                    .add(
                        egui::Label::new(with_arrows(ui.style(), &text))
                            .sense(Sense::click())
                            .truncate(),
                    )
                    .on_hover_text("Click: select and draw this path");
                if a.roots.is_root(x) {
                    ui.label(
                        RichText::new(format!("GC root: {}", root_kinds_text(a.roots.kinds(x))))
                            .color(ui.visuals().hyperlink_color)
                            .small(),
                    );
                }
                if response.clicked() {
                    out.push(Command::Select(x));
                    chain = Some(node.path);
                }
                response.context_menu(|ui| widgets::object_menu(ui, &a.index, x, out));
            };
            let mut cell = |ui: &mut Ui, r: usize, col: usize| {
                let x = tree.nodes[rows[r].0].object;
                if col == 1 {
                    widgets::bytes_label(ui, a.index.shallow_size(x));
                } else {
                    let ret = a.dominators.retained(x);
                    let w = (ui.available_width() - 4.0).max(40.0);
                    widgets::size_bar(ui, ret as f64 / reachable as f64, &format::bytes(ret), w);
                }
            };
            tree_table::show(
                ui,
                &mut table,
                "heapsight.paths.object_tree",
                &columns,
                rows.len(),
                &info,
                &name,
                None,
                &mut first,
                &mut cell,
            )
        };
        view.table = table;
        let mut toggles = Vec::new();
        for e in events {
            match e {
                TreeEvent::Toggle(r) | TreeEvent::Activate(r) => toggles.push(rows[r].0),
                TreeEvent::Cursor(r) => {
                    let node = &tree.nodes[rows[r].0];
                    out.push(Command::Cursor(node.object));
                    chain = Some(node.path);
                }
            }
        }
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
                view.chain_scroll_reset = true;
            }
        }
    }
}
