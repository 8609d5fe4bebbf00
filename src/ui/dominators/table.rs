//! Drawing the dominator tree's rows through the shared tree table.

use std::sync::Arc;

use egui::text::LayoutJob;
use egui::{Color32, RichText, Sense, Ui};

use super::{DominatorView, ListKey, RowKind, Unreachable, LABEL_CACHE_MAX, NEXT_PAGE};
use crate::analysis::dominators::{SUPER_ROOT, UNREACHABLE};
use crate::analysis::label::root_kinds_text;
use crate::analysis::paths::reference_label;
use crate::format;
use crate::heap::ObjectId;
use crate::ui::tree_table::{self, ColumnSpec, Expander, RowInfo, TreeEvent};
use crate::ui::widgets::{self, append};
use crate::ui::{Command, Place, Session};

impl DominatorView {
    /// `.field  java.util.HashMap @ 0x7f3a…  "name"  GC root: …`: the field by which the
    /// dominator holds the object (when it holds it directly), the name muted after the
    /// address, root kinds in the link colour. Cached per object.
    fn label(&mut self, session: &Session, o: ObjectId, style: &egui::Style) -> Arc<LayoutJob> {
        if self.labels.len() > LABEL_CACHE_MAX || self.labels_dark != style.visuals.dark_mode {
            self.labels_dark = style.visuals.dark_mode;
            self.labels.clear();
        }
        self.labels
            .entry(o)
            .or_insert_with(|| Arc::new(object_job(session, o, style)))
            .clone()
    }

    pub(super) fn table_ui(
        &mut self,
        ui: &mut Ui,
        session: &Session,
        place: &Place,
        out: &mut Vec<Command>,
    ) {
        let a = session.analysis.clone();
        let reachable = a.dominators.reachable_bytes.max(1);
        let style = ui.style().clone();
        let rows = std::mem::take(&mut self.rows);
        let selected = place.selected;
        let revealed = self.revealed;
        let (u_count, u_bytes, listing) = match &self.unreachable {
            Some(Unreachable::Ready(u)) => (u.count, u.bytes, false),
            _ => (
                a.dominators.unreachable_objects,
                a.dominators.unreachable_bytes,
                true,
            ),
        };
        let expanded = self.expanded.clone();
        let info = |r: usize| {
            let row = rows[r];
            let open = |k: ListKey| Expander::of(true, expanded.contains(&k));
            let (expander, sel) = match row.kind {
                RowKind::Object(o) => (
                    Expander::of(
                        !a.dominators.children(o).is_empty(),
                        expanded.contains(&ListKey::Children(o)),
                    ),
                    selected == Some(o) || revealed == Some(o),
                ),
                RowKind::UnreachableObject(o) => (Expander::Leaf, selected == Some(o)),
                RowKind::Group { parent, class, .. } => {
                    (open(ListKey::Group(parent, class)), false)
                }
                RowKind::UnreachableSection => (open(ListKey::UnreachableClasses), false),
                RowKind::UnreachableClass { class, .. } => {
                    (open(ListKey::Unreachable(class)), false)
                }
                RowKind::More { .. } => (Expander::Leaf, false),
            };
            RowInfo {
                depth: row.depth,
                expander,
                selected: sel,
            }
        };
        let name = |r: usize| match rows[r].kind {
            RowKind::Object(o) | RowKind::UnreachableObject(o) => session.label(o).full(),
            RowKind::Group { class, count, .. }
            | RowKind::UnreachableClass { class, count, .. } => {
                group_text(&a.index.classes().get(class).name, count)
            }
            RowKind::UnreachableSection => group_text("Unreachable objects", u_count),
            RowKind::More { .. } => String::new(),
        };
        let mut toggles: Vec<ListKey> = Vec::new();
        let mut more: Vec<(ListKey, usize)> = Vec::new();
        let columns = [
            ColumnSpec::remainder("Object", 220.0),
            ColumnSpec::sized("Shallow", 80.0, 56.0),
            ColumnSpec::sized("Retained", 150.0, 100.0),
            ColumnSpec::sized("% of heap", 70.0, 50.0),
        ];
        let mut table = std::mem::take(&mut self.table);
        let events = {
            let this = &mut *self;
            let mut first = |ui: &mut Ui, r: usize, ri: &RowInfo| match rows[r].kind {
                RowKind::Object(o) | RowKind::UnreachableObject(o) => {
                    let job = this.label(session, o, &style);
                    let response = ui
                        .add(
                            egui::Label::new(job.as_ref().clone())
                                .sense(Sense::click())
                                .truncate(),
                        )
                        .on_hover_text("Click: select. Double-click: expand. Right-click: more.");
                    if response.clicked() {
                        out.push(Command::Select(o));
                    }
                    if response.double_clicked() && ri.expander != Expander::Leaf {
                        toggles.push(ListKey::Children(o));
                    }
                    response.context_menu(|ui| widgets::object_menu(ui, &a.index, o, out));
                }
                RowKind::Group {
                    parent,
                    class,
                    count,
                    ..
                } => {
                    let text = group_text(&a.index.classes().get(class).name, count);
                    let response = ui.add(
                        egui::Label::new(RichText::new(text).strong())
                            .sense(Sense::click())
                            .truncate(),
                    );
                    if response.clicked() {
                        toggles.push(ListKey::Group(parent, class));
                    }
                }
                RowKind::More { list, shown, total } => {
                    let rest = total - shown;
                    let next = rest.min(NEXT_PAGE);
                    let text = format!(
                        "… {} more (show next {})",
                        format::thousands(rest as u64),
                        format::thousands(next as u64)
                    );
                    if ui.link(text).clicked() {
                        more.push((list, shown + next));
                    }
                }
                RowKind::UnreachableSection => {
                    let mut text = group_text("Unreachable objects", u_count);
                    if listing && expanded.contains(&ListKey::UnreachableClasses) {
                        text.push_str("  listing…");
                    }
                    let response = ui
                        .add(
                            egui::Label::new(
                                RichText::new(text)
                                    .strong()
                                    .color(ui.visuals().warn_fg_color),
                            )
                            .sense(Sense::click())
                            .truncate(),
                        )
                        .on_hover_text(
                            "Objects no GC root reaches: garbage the next GC frees. They are \
                             not part of the dominator tree.",
                        );
                    if response.clicked() {
                        toggles.push(ListKey::UnreachableClasses);
                    }
                }
                RowKind::UnreachableClass { class, count, .. } => {
                    let text = group_text(&a.index.classes().get(class).name, count);
                    let response = ui.add(egui::Label::new(text).sense(Sense::click()).truncate());
                    if response.clicked() {
                        toggles.push(ListKey::Unreachable(class));
                    }
                }
            };
            let mut cell = |ui: &mut Ui, r: usize, col: usize| match rows[r].kind {
                RowKind::Object(o) => match col {
                    1 => {
                        widgets::bytes_label(ui, a.index.shallow_size(o));
                    }
                    2 => retained_bar(ui, a.dominators.retained(o), reachable),
                    _ => {
                        ui.label(format::percent(a.dominators.retained(o), reachable));
                    }
                },
                RowKind::UnreachableObject(o) => match col {
                    1 => {
                        widgets::bytes_label(ui, a.index.shallow_size(o));
                    }
                    2 => {
                        widgets::hint_text(ui, "garbage");
                    }
                    _ => {}
                },
                RowKind::Group {
                    shallow, retained, ..
                } => match col {
                    1 => {
                        widgets::bytes_label(ui, shallow);
                    }
                    2 => retained_bar(ui, retained, reachable),
                    _ => {
                        ui.label(format::percent(retained, reachable));
                    }
                },
                RowKind::UnreachableSection => match col {
                    1 => {
                        widgets::bytes_label(ui, u_bytes);
                    }
                    2 => {
                        widgets::hint_text(ui, "shallow total");
                    }
                    _ => {}
                },
                RowKind::UnreachableClass { bytes, .. } => {
                    if col == 1 {
                        widgets::bytes_label(ui, bytes);
                    }
                }
                RowKind::More { .. } => {}
            };
            tree_table::show(
                ui,
                &mut table,
                "heapsight.dominators.table",
                &columns,
                rows.len(),
                &info,
                &name,
                None,
                &mut first,
                &mut cell,
            )
        };
        self.table = table;
        for event in events {
            match event {
                TreeEvent::Toggle(r) | TreeEvent::Activate(r) => match rows[r].kind {
                    RowKind::Object(o) => toggles.push(ListKey::Children(o)),
                    RowKind::Group { parent, class, .. } => {
                        toggles.push(ListKey::Group(parent, class))
                    }
                    RowKind::UnreachableSection => toggles.push(ListKey::UnreachableClasses),
                    RowKind::UnreachableClass { class, .. } => {
                        toggles.push(ListKey::Unreachable(class))
                    }
                    RowKind::More { list, shown, total } => {
                        more.push((list, shown + (total - shown).min(NEXT_PAGE)))
                    }
                    RowKind::UnreachableObject(_) => {}
                },
                TreeEvent::Cursor(r) => {
                    if let RowKind::Object(o) | RowKind::UnreachableObject(o) = rows[r].kind {
                        self.synced_selection = Some(o);
                        out.push(Command::Cursor(o));
                    }
                }
            }
        }
        self.rows = rows;
        for list in toggles {
            if !self.expanded.remove(&list) {
                self.expanded.insert(list);
            }
            self.dirty = true;
        }
        for (list, limit) in more {
            self.limits.insert(list, limit);
            self.dirty = true;
        }
    }
}

fn group_text(name: &str, count: u64) -> String {
    format!("{name}  ({} objects)", format::thousands(count))
}

fn retained_bar(ui: &mut Ui, retained: u64, reachable: u64) {
    let width = (ui.available_width() - 4.0).max(40.0);
    widgets::size_bar(
        ui,
        retained as f64 / reachable as f64,
        &format::bytes(retained),
        width,
    )
    .on_hover_text(format!("{} bytes retained", format::thousands(retained)));
}

/// The row label of `o`; see [`DominatorView::label`].
fn object_job(session: &Session, o: ObjectId, style: &egui::Style) -> LayoutJob {
    let a = &session.analysis;
    let label = session.label(o);
    let font = egui::TextStyle::Body.resolve(style);
    let mono = egui::FontId::monospace(font.size * 0.92);
    let visuals = &style.visuals;
    let mut job = LayoutJob::default();
    let parent = a.dominators.idom(o);
    if parent != SUPER_ROOT && parent != UNREACHABLE {
        let field = reference_label(&a.index, parent, o);
        if field != "?" {
            append(
                &mut job,
                &format!("{field}  "),
                mono,
                visuals.weak_text_color(),
            );
        }
    }
    append(
        &mut job,
        &label.type_name(),
        font.clone(),
        visuals.text_color(),
    );
    append(
        &mut job,
        &format!(" @ {}", label.address_text()),
        font.clone(),
        visuals.weak_text_color(),
    );
    if let Some(n) = &label.name {
        let color = if visuals.dark_mode {
            Color32::from_rgb(230, 200, 120)
        } else {
            Color32::from_rgb(140, 90, 0)
        };
        append(&mut job, &format!("  {n}"), font.clone(), color);
    }
    if a.roots.is_root(o) {
        let text = format!("  GC root: {}", root_kinds_text(a.roots.kinds(o)));
        append(&mut job, &text, font, visuals.hyperlink_color);
    }
    job
}
