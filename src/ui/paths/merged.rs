//! Merged paths of all instances of a class, grouped by class at every level: a tree from the
//! GC-root classes down to the class itself, with how many instances pass through each place
//! and the bytes they retain as a set.

use std::sync::Arc;

use egui::{RichText, Sense, Ui};
use rustc_hash::FxHashSet;

use super::{mode_of, PathsView};
use crate::analysis::label::{root_kinds_text, short_class_name};
use crate::analysis::merged_paths::{MergedPaths, NONE};
use crate::format;
use crate::heap::ClassIndex;
use crate::progress::Phase;
use crate::ui::tree_table::{self, ColumnSpec, Expander, RowInfo, TreeEvent, TreeTableState};
use crate::ui::widgets::{self, with_arrows};
use crate::ui::{Command, Place, Session};

/// The merged paths of one class, as displayed.
pub(super) struct MergedView {
    merged: Arc<MergedPaths>,
    expanded: FxHashSet<u32>,
    /// (node, depth) of the visible rows.
    rows: Vec<(u32, u32)>,
    dirty: bool,
    table: TreeTableState,
}

impl MergedView {
    fn new(merged: Arc<MergedPaths>) -> MergedView {
        let mut expanded = FxHashSet::default();
        // Open the busiest chain down to where it branches: usually the answer.
        if let Some(&first) = merged.roots.first() {
            let mut cur = first;
            for _ in 0..64 {
                expanded.insert(cur);
                let kids = &merged.nodes[cur as usize].children;
                if kids.len() != 1 {
                    break;
                }
                cur = kids[0];
            }
        }
        MergedView {
            merged,
            expanded,
            rows: Vec::new(),
            dirty: true,
            table: TreeTableState::default(),
        }
    }

    fn rebuild(&mut self) {
        self.dirty = false;
        let m = &self.merged;
        let mut rows = Vec::new();
        let mut stack: Vec<(u32, u32)> = m.roots.iter().rev().map(|&r| (r, 0)).collect();
        while let Some((n, d)) = stack.pop() {
            rows.push((n, d));
            if self.expanded.contains(&n) {
                for &c in m.nodes[n as usize].children.iter().rev() {
                    stack.push((c, d + 1));
                }
            }
        }
        self.rows = rows;
    }
}

impl PathsView {
    pub(super) fn class_ui(
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
            widgets::hint_text(
                ui,
                "Grouped by class at every level, from the GC roots down to the instances.",
            );
        });
        ui.add_space(4.0);
        let key = (c, mode_of(self.exclude_weak));
        if !matches!(&self.class_view, Some((k, _)) if *k == key) {
            if let Some(merged) = self.class_cache.get(&key).cloned() {
                self.class_view = Some((key, MergedView::new(merged)));
            } else {
                if !matches!(&self.class_task, Some((k, _)) if *k == key) {
                    self.start_merge(session, ui.ctx(), key);
                }
                self.class_waiting(ui, out);
                return;
            }
        }
        if let Some((k, mut view)) = self.class_view.take() {
            self.class_body(ui, session, &mut view, place, out);
            self.class_view = Some((k, view));
        }
    }

    /// Progress of the merge, with Cancel.
    fn class_waiting(&mut self, ui: &mut Ui, out: &mut Vec<Command>) {
        let Some((_, task)) = &self.class_task else {
            return;
        };
        let snap = task.progress.snapshot();
        let what = match snap.phase {
            Phase::Graph => "Computing shortest paths through weak references…".to_string(),
            Phase::Index => "Listing the instances…".to_string(),
            _ => format!(
                "Merging the shortest paths of {} instances…",
                format::thousands(snap.total)
            ),
        };
        let mut cancel = false;
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(what);
            if snap.total > 0 {
                ui.add(
                    egui::ProgressBar::new(snap.done as f32 / snap.total as f32)
                        .desired_width(200.0)
                        .show_percentage(),
                );
            }
            if let Some(r) = snap.phase_remaining_s() {
                ui.label(format!("about {:.0} s left", r.max(1.0)));
            }
            cancel = ui.button("Cancel").clicked();
        });
        if cancel {
            self.class_task = None;
            out.push(Command::Back);
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
        let reached = merged.members - merged.unreachable;
        ui.label(format!(
            "{} instances; {} have a path to a GC root; together they retain {}.",
            format::thousands(merged.members),
            format::thousands(reached),
            format::bytes(merged.retained)
        ))
        .on_hover_text(
            "Retained as a set: an instance that another instance keeps alive is counted once, \
             inside the one that keeps it.",
        );
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
        let total = merged.retained.max(1);
        let rows = std::mem::take(&mut view.rows);
        let expanded = &view.expanded;
        let info = |r: usize| {
            let (n, depth) = rows[r];
            let node = &merged.nodes[n as usize];
            RowInfo {
                depth,
                expander: Expander::of(!node.children.is_empty(), expanded.contains(&n)),
                selected: place.selected == Some(node.sample),
            }
        };
        let name = |r: usize| {
            a.index
                .classes()
                .get(merged.nodes[rows[r].0 as usize].class)
                .name
                .clone()
        };
        let columns = [
            ColumnSpec::remainder("GC root / referenced from (by class)", 240.0),
            ColumnSpec::sized("Objects", 80.0, 56.0),
            ColumnSpec::sized("Instances", 84.0, 56.0),
            ColumnSpec::sized("Retained", 150.0, 100.0),
        ];
        let mut table = std::mem::take(&mut view.table);
        let events = {
            let this = &mut *self;
            let mut first = |ui: &mut Ui, r: usize, ri: &RowInfo| {
                let node = &merged.nodes[rows[r].0 as usize];
                let full_class = &a.index.classes().get(node.class).name;
                let class = short_class_name(full_class);
                let text = if node.sample_referrer == NONE {
                    format!(
                        "{class}  [GC root: {}]",
                        root_kinds_text(a.roots.kinds(node.sample))
                    )
                } else {
                    let mut field = this.label(a, node.sample_referrer, node.sample);
                    if field.starts_with('[') && node.objects > 1 {
                        field = "[…]".into();
                    }
                    format!("{field} → {class}")
                };
                let response = ui
                    .add(
                        egui::Label::new(with_arrows(ui.style(), &text))
                            .sense(Sense::click())
                            .truncate(),
                    )
                    .on_hover_text(format!(
                        "{full_class}\n{} distinct objects of this class here; click: select \
                         one of them",
                        format::thousands(node.objects),
                    ));
                if response.clicked() {
                    out.push(Command::Select(node.sample));
                }
                if response.double_clicked() && ri.expander != Expander::Leaf {
                    toggles_push(this, rows[r].0);
                }
                response.context_menu(|ui| widgets::object_menu(ui, &a.index, node.sample, out));
            };
            let mut cell = |ui: &mut Ui, r: usize, col: usize| {
                let node = &merged.nodes[rows[r].0 as usize];
                match col {
                    1 => {
                        ui.label(format::thousands(node.objects))
                            .on_hover_text("Distinct objects of this class at this place");
                    }
                    2 => {
                        ui.label(format::thousands(node.members)).on_hover_text(
                            "Instances whose shortest path to a GC root passes here",
                        );
                    }
                    _ => {
                        let w = (ui.available_width() - 4.0).max(40.0);
                        widgets::size_bar(
                            ui,
                            node.retained as f64 / total as f64,
                            &format::bytes(node.retained),
                            w,
                        )
                        .on_hover_text(format!(
                            "{} bytes retained by the {} instances below, as a set",
                            format::thousands(node.retained),
                            format::thousands(node.members)
                        ));
                    }
                }
            };
            tree_table::show(
                ui,
                &mut table,
                "heapsight.paths.merged",
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
        let mut toggles: Vec<u32> = std::mem::take(&mut self.merged_toggles);
        for e in events {
            match e {
                TreeEvent::Toggle(r) | TreeEvent::Activate(r) => toggles.push(rows[r].0),
                TreeEvent::Cursor(r) => {
                    out.push(Command::Cursor(merged.nodes[rows[r].0 as usize].sample))
                }
            }
        }
        view.rows = rows;
        for n in toggles {
            if !view.expanded.remove(&n) {
                view.expanded.insert(n);
            }
            view.dirty = true;
        }
    }
}

/// A double-click asks for a toggle from inside the row closure.
fn toggles_push(view: &mut PathsView, node: u32) {
    view.merged_toggles.push(node);
}
