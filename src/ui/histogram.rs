//! The class histogram: sortable, filterable, grouped by class, package or loader; a row
//! lists its instances or opens merged paths to GC roots.

use std::collections::HashSet;
use std::sync::Arc;

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::name_filter::NameFilter;
use super::task::{Poll, Task};
use super::tree_table::{self, ColumnSpec, Expander, RowInfo, TreeEvent, TreeTableState};
use super::widgets::{hint_text, object_menu, size_bar};
use super::{Command, PathTarget, Place, Session};
use crate::analysis::histogram::{group_or_cancel, GroupRow, Grouping};
use crate::analysis::instances::instances_of_class;
use crate::analysis::Analysis;
use crate::format;
use crate::heap::{ClassIndex, ObjectId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Class,
    Package,
    ClassLoader,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Name,
    Count,
    Shallow,
    Retained,
    Unreachable,
}

/// One table row: a class, or a group with its classes below it when expanded.
#[derive(Debug, Clone)]
pub struct Row {
    pub label: String,
    pub classes: Vec<ClassIndex>,
    pub count: u64,
    pub shallow: u64,
    /// `None` while a group's retained size is being computed.
    pub retained: Option<u64>,
    pub unreachable: u64,
    pub is_group: bool,
    pub depth: u8,
}

pub struct HistogramView {
    pub filter: String,
    pub group_by: GroupBy,
    pub sort_by: SortBy,
    pub descending: bool,
    expanded: HashSet<String>,
    rows: Vec<Row>,
    dirty: bool,
    filter_error: Option<String>,
    selected: Option<ClassIndex>,
    /// Instances of the selected class, largest retained first.
    instances: Option<(ClassIndex, Instances)>,
    /// Groups of the classes the filter shows, with their retained sizes as sets, computed
    /// once per grouping and filter.
    groups: Option<((GroupBy, String), Groups)>,
    table: TreeTableState,
}

/// Groups of classes: at once without their retained sizes, which a task computes (a walk of
/// the whole dominator tree: seconds on a big dump).
enum Groups {
    Computing(Task<Option<Vec<GroupRow>>>, Vec<GroupRow>),
    Ready(Vec<GroupRow>),
}

impl Groups {
    fn rows(&self) -> &[GroupRow] {
        match self {
            Groups::Computing(_, rows) | Groups::Ready(rows) => rows,
        }
    }
}

/// The instances of the chosen class: listed by a task.
enum Instances {
    Listing(Task<Vec<ObjectId>>),
    Ready(Arc<Vec<ObjectId>>),
}

impl Default for HistogramView {
    fn default() -> Self {
        HistogramView {
            filter: String::new(),
            group_by: GroupBy::Class,
            sort_by: SortBy::Retained,
            descending: true,
            expanded: HashSet::new(),
            rows: Vec::new(),
            dirty: true,
            filter_error: None,
            selected: None,
            instances: None,
            groups: None,
            table: TreeTableState::default(),
        }
    }
}

impl HistogramView {
    /// The rows as shown (for tests and export).
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Rebuilds the rows if the filter, grouping, sort or expansion changed, or the groups'
    /// retained sizes arrived.
    pub fn refresh(&mut self, a: &Arc<Analysis>, ctx: &egui::Context) {
        if let Some((_, Groups::Computing(task, _))) = &mut self.groups {
            match task.poll() {
                Poll::Done(Some(rows)) => {
                    if let Some((_, groups)) = &mut self.groups {
                        *groups = Groups::Ready(rows);
                    }
                    self.dirty = true;
                }
                Poll::Done(None) | Poll::Died => self.groups = None,
                Poll::Running => {}
            }
        }
        if !self.dirty {
            return;
        }
        self.dirty = false;
        let filter = NameFilter::new(&self.filter);
        self.filter_error = filter.error.clone();
        let classes = a.index.classes();
        let matches = |name: &str| filter.matches(name);
        let mut per_class = vec![(0u64, 0u64); classes.len()];
        for r in &a.histogram.rows {
            per_class[r.class as usize] = (r.count, r.shallow_bytes);
        }
        let class_row = |c: ClassIndex, depth: u8| Row {
            label: classes.get(c).name.clone(),
            classes: vec![c],
            count: per_class[c as usize].0,
            shallow: per_class[c as usize].1,
            retained: Some(a.retained_by_class[c as usize]),
            unreachable: a.unreachable_by_class[c as usize].0,
            is_group: false,
            depth,
        };
        let mut rows: Vec<Row> = match self.group_by {
            GroupBy::Class => a
                .histogram
                .rows
                .iter()
                .filter(|r| matches(&classes.get(r.class).name))
                .map(|r| class_row(r.class, 0))
                .collect(),
            GroupBy::Package | GroupBy::ClassLoader => {
                let grouping = if self.group_by == GroupBy::Package {
                    Grouping::Package
                } else {
                    Grouping::ClassLoader
                };
                let key = (self.group_by, self.filter.clone());
                if self.groups.as_ref().map(|(k, _)| k) != Some(&key) {
                    // A new filter drops the last one's task (which stops it).
                    let shown: Vec<bool> = (0..classes.len() as ClassIndex)
                        .map(|c| matches(&classes.get(c).name))
                        .collect();
                    let never = crate::progress::Progress::new();
                    let (index, hist) = (&a.index, &a.histogram);
                    let quick = group_or_cancel(index, hist, grouping, Some(&shown), None, &never)
                        .unwrap_or_default();
                    let a = a.clone();
                    let task = Task::spawn("heapsight-groups", ctx, move |progress| {
                        let tree = Some(&a.dominators);
                        group_or_cancel(
                            &a.index,
                            &a.histogram,
                            grouping,
                            Some(&shown),
                            tree,
                            progress,
                        )
                    });
                    self.groups = Some((key, Groups::Computing(task, quick)));
                }
                let groups = self.groups.as_ref().map(|(_, g)| g.rows()).unwrap_or(&[]);
                groups
                    .iter()
                    .map(|g| Row {
                        label: g.key.clone(),
                        count: g.count,
                        shallow: g.shallow_bytes,
                        retained: g.retained_bytes,
                        unreachable: g
                            .classes
                            .iter()
                            .map(|&c| a.unreachable_by_class[c as usize].0)
                            .sum(),
                        classes: g.classes.clone(),
                        is_group: true,
                        depth: 0,
                    })
                    .collect()
            }
        };
        let key = |r: &Row| (r.count, r.shallow, r.retained, r.unreachable);
        let sort_by = self.sort_by;
        rows.sort_by(|x, y| {
            let o = match sort_by {
                SortBy::Name => x.label.cmp(&y.label),
                SortBy::Count => key(x).0.cmp(&key(y).0),
                SortBy::Shallow => key(x).1.cmp(&key(y).1),
                SortBy::Retained => key(x).2.cmp(&key(y).2),
                SortBy::Unreachable => key(x).3.cmp(&key(y).3),
            };
            if self.descending {
                o.reverse()
            } else {
                o
            }
        });
        if self.group_by != GroupBy::Class {
            let mut flat = Vec::with_capacity(rows.len());
            for g in rows {
                let open = self.expanded.contains(&g.label);
                let members = g.classes.clone();
                flat.push(g);
                if open {
                    let mut kids: Vec<Row> = members.iter().map(|&c| class_row(c, 1)).collect();
                    kids.sort_by_key(|r| std::cmp::Reverse(r.retained));
                    flat.extend(kids);
                }
            }
            rows = flat;
        }
        self.rows = rows;
    }

    pub fn ui(&mut self, ui: &mut Ui, session: &Session, _place: &Place, out: &mut Vec<Command>) {
        let a = &session.analysis;
        self.toolbar(ui, out);
        self.refresh(a, ui.ctx());
        self.groups_progress(ui);
        if self.selected.is_some() {
            egui::Panel::bottom("histogram-instances")
                .resizable(true)
                .default_size(240.0)
                .size_range(100.0..=(ui.available_height() * 0.6).max(120.0))
                .show(ui, |ui| self.instances_panel(ui, session, out));
        }
        self.table(ui, a, out);
    }

    /// While the groups' retained sizes are computed: how far, and a way to stop.
    fn groups_progress(&mut self, ui: &mut Ui) {
        let Some(((by, _), Groups::Computing(task, _))) = &self.groups else {
            return;
        };
        let what = if *by == GroupBy::Package {
            "package"
        } else {
            "class loader"
        };
        let snap = task.progress.snapshot();
        let mut cancel = false;
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(format!("Computing the retained size of each {what}…"));
            if snap.total > 0 {
                ui.add(
                    egui::ProgressBar::new(snap.done as f32 / snap.total as f32)
                        .desired_width(160.0)
                        .show_percentage(),
                );
            }
            cancel = ui.button("Cancel").clicked();
        });
        if cancel {
            // Back to classes: a grouping without its retained sizes would sort wrongly.
            self.groups = None;
            self.group_by = GroupBy::Class;
            self.dirty = true;
        }
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(250));
    }

    fn toolbar(&mut self, ui: &mut Ui, out: &mut Vec<Command>) {
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Filter");
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut self.filter)
                        .hint_text("class name or regex")
                        .desired_width(260.0),
                )
                .labelled_by(label.id);
            if edit.changed() {
                self.dirty = true;
                self.table.scroll_to_top();
            }
            if let Some(e) = &self.filter_error {
                ui.label(RichText::new(e).weak());
            }
            ui.separator();
            ui.label("Group by");
            for (g, label) in [
                (GroupBy::Class, "class"),
                (GroupBy::Package, "package"),
                (GroupBy::ClassLoader, "class loader"),
            ] {
                if ui.selectable_label(self.group_by == g, label).clicked() && self.group_by != g {
                    self.group_by = g;
                    self.dirty = true;
                }
            }
            ui.separator();
            if ui.button("Export CSV…").clicked() {
                out.push(Command::SaveCsv {
                    file_name: "histogram.csv".into(),
                    contents: rows_to_csv(&self.rows),
                });
            }
        });
        let shown = self.rows.iter().filter(|r| r.depth == 0).count();
        hint_text(
            ui,
            format!(
                "{} rows · retained = MAT's minimum retained size (instances not dominated by another instance of the class)",
                format::thousands(shown as u64)
            ),
        );
    }

    fn table(&mut self, ui: &mut Ui, a: &Analysis, out: &mut Vec<Command>) {
        let reachable = a.dominators.reachable_bytes.max(1);
        let mut toggled: Option<String> = None;
        let mut chosen: Option<ClassIndex> = None;
        let mut paths_for: Option<ClassIndex> = None;
        let mut copy: Option<String> = None;
        let columns = [
            ColumnSpec::remainder("Class", 150.0),
            ColumnSpec::sized("Objects", 84.0, 60.0),
            ColumnSpec::sized("Shallow", 84.0, 60.0),
            ColumnSpec::sized("Retained", 140.0, 80.0),
            ColumnSpec::sized("Garbage", 76.0, 60.0),
        ];
        let rows = std::mem::take(&mut self.rows);
        let selected = self.selected;
        let expanded = &self.expanded;
        let info = |i: usize| {
            let r = &rows[i];
            RowInfo {
                depth: r.depth as u32,
                expander: Expander::of(r.is_group, expanded.contains(&r.label)),
                selected: !r.is_group && selected == r.classes.first().copied(),
            }
        };
        let name = |i: usize| rows[i].label.clone();
        let mut first = |ui: &mut Ui, i: usize, _: &RowInfo| {
            let r = &rows[i];
            if r.is_group {
                let response = ui.add(
                    egui::Label::new(RichText::new(&r.label).strong())
                        .sense(egui::Sense::click())
                        .truncate(),
                );
                ui.label(RichText::new(format!("{} classes", r.classes.len())).weak());
                if response.clicked() {
                    toggled = Some(r.label.clone());
                }
                return;
            }
            let c = r.classes[0];
            let response = ui
                .add(
                    egui::Label::new(&r.label)
                        .sense(egui::Sense::click())
                        .truncate(),
                )
                .on_hover_text(format!(
                    "{}\nClick: list instances. Right-click: more.",
                    r.label
                ));
            if response.clicked() {
                chosen = Some(c);
            }
            response.context_menu(|ui| {
                if ui.button("List instances").clicked() {
                    chosen = Some(c);
                    ui.close();
                }
                if ui.button("Merged paths to GC roots").clicked() {
                    paths_for = Some(c);
                    ui.close();
                }
                if ui.button("Copy class name").clicked() {
                    copy = Some(r.label.clone());
                    ui.close();
                }
            });
        };
        let mut cell = |ui: &mut Ui, i: usize, col: usize| {
            let r = &rows[i];
            let right = egui::Layout::right_to_left(egui::Align::Center);
            match col {
                1 => {
                    ui.with_layout(right, |ui| ui.label(format::thousands(r.count)));
                }
                2 => {
                    ui.with_layout(right, |ui| ui.label(format::bytes(r.shallow)));
                }
                3 => match r.retained {
                    Some(retained) => {
                        let w = ui.available_width();
                        size_bar(
                            ui,
                            retained as f64 / reachable as f64,
                            &format::bytes(retained),
                            w,
                        );
                    }
                    None => {
                        ui.label(RichText::new("computing…").weak()).on_hover_text(
                            "The group's retained size: a walk of the dominator tree",
                        );
                    }
                },
                _ => {
                    ui.with_layout(right, |ui| {
                        if r.unreachable > 0 {
                            ui.label(format::thousands(r.unreachable))
                                .on_hover_text("Instances no GC root reaches");
                        }
                    });
                }
            }
        };
        let mut table = std::mem::take(&mut self.table);
        let sort = (self.sort_by, self.descending);
        let mut new_sort = None;
        let mut header = |ui: &mut Ui, col: usize| {
            let (label, by) = [
                ("Class", SortBy::Name),
                ("Objects", SortBy::Count),
                ("Shallow", SortBy::Shallow),
                ("Retained", SortBy::Retained),
                ("Garbage", SortBy::Unreachable),
            ][col.min(4)];
            if header_button(ui, label, by, sort) {
                new_sort = Some(by);
            }
        };
        let events = tree_table::show(
            ui,
            &mut table,
            "histogram-table",
            &columns,
            rows.len(),
            &info,
            &name,
            Some(&mut header),
            &mut first,
            &mut cell,
        );
        self.table = table;
        for e in events {
            match (
                e,
                rows.get(match e {
                    TreeEvent::Toggle(i) | TreeEvent::Cursor(i) | TreeEvent::Activate(i) => i,
                }),
            ) {
                (TreeEvent::Toggle(_), Some(r)) if r.is_group => toggled = Some(r.label.clone()),
                (TreeEvent::Activate(_), Some(r)) if r.is_group => toggled = Some(r.label.clone()),
                (TreeEvent::Activate(_), Some(r)) => paths_for = r.classes.first().copied(),
                (TreeEvent::Cursor(_), Some(r)) if !r.is_group => {
                    chosen = r.classes.first().copied()
                }
                _ => {}
            }
        }
        self.rows = rows;
        if let Some(by) = new_sort {
            if self.sort_by == by {
                self.descending = !self.descending;
            } else {
                self.sort_by = by;
                self.descending = by != SortBy::Name;
            }
            self.dirty = true;
            // A new order starts at the top.
            self.table.scroll_to_top();
        }
        if let Some(label) = toggled {
            if !self.expanded.remove(&label) {
                self.expanded.insert(label);
            }
            self.dirty = true;
        }
        if let Some(c) = chosen {
            self.selected = Some(c);
        }
        if let Some(c) = paths_for {
            out.push(Command::ShowPaths(PathTarget::Class(c)));
        }
        if let Some(text) = copy {
            out.push(Command::Copy(text));
        }
    }

    fn instances_panel(&mut self, ui: &mut Ui, session: &Session, out: &mut Vec<Command>) {
        let a = session.analysis.clone();
        let Some(c) = self.selected else { return };
        let name = a.index.classes().get(c).name.clone();
        let current = matches!(&self.instances, Some((k, _)) if *k == c);
        if !current {
            let a2 = a.clone();
            let task = Task::spawn("heapsight-instances", ui.ctx(), move |progress| {
                instances_of_class(&a2.index, &a2.dominators, c, progress).unwrap_or_default()
            });
            self.instances = Some((c, Instances::Listing(task)));
        }
        if let Some((_, Instances::Listing(task))) = &mut self.instances {
            if let Poll::Done(list) = task.poll() {
                self.instances = Some((c, Instances::Ready(Arc::new(list))));
            }
        }
        let list = match &self.instances {
            Some((_, Instances::Ready(list))) => Some(list.clone()),
            _ => None,
        };
        // The title on its own line: a truncating label takes the whole row and would push
        // the buttons out of sight.
        ui.add(egui::Label::new(RichText::new(format!("Instances of {name}")).strong()).truncate());
        // The same layout while the list is being made and once it is there: the buttons
        // first, and the table's space taken from the first frame. (The panel used to grow
        // by 170 px and the count to push the buttons sideways when the list arrived, so a
        // click aimed at "Merged paths" in that frame could miss it.)
        ui.horizontal(|ui| {
            if ui.button("Merged paths to GC roots").clicked() {
                out.push(Command::ShowPaths(PathTarget::Class(c)));
            }
            if ui.button("Close").clicked() {
                self.selected = None;
            }
            match &list {
                Some(list) => ui.label(
                    RichText::new(format!("{} objects", format::thousands(list.len() as u64)))
                        .weak(),
                ),
                None => ui.spinner(),
            };
        });
        let Some(list) = list else {
            ui.allocate_space(ui.available_size());
            return;
        };
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        let index = &a.index;
        let dom = &a.dominators;
        TableBuilder::new(ui)
            .id_salt("histogram-instances-table")
            // Exactly the space left, whatever the rows: a table taller than the panel would
            // grow it in the next frame (the default minimum scroll height is 200 px).
            .auto_shrink([false, false])
            .min_scrolled_height(0.0)
            .striped(true)
            .column(Column::remainder().at_least(200.0).clip(true))
            .column(Column::initial(90.0))
            .column(Column::initial(90.0))
            .header(row_height, |mut h| {
                h.col(|ui| {
                    ui.strong("Object");
                });
                h.col(|ui| {
                    ui.strong("Shallow");
                });
                h.col(|ui| {
                    ui.strong("Retained");
                });
            })
            .body(|body| {
                body.rows(row_height, list.len(), |mut row| {
                    let o = list[row.index()];
                    row.col(|ui| {
                        let response = ui
                            .add(
                                egui::Label::new(
                                    RichText::new(session.label(o).short())
                                        .color(ui.visuals().hyperlink_color),
                                )
                                .sense(egui::Sense::click())
                                .truncate(),
                            )
                            .on_hover_text("Select: show fields in the inspector");
                        if response.clicked() {
                            out.push(Command::Select(o));
                        }
                        response.context_menu(|ui| object_menu(ui, index, o, out));
                        if !dom.is_reachable(o) {
                            ui.label(RichText::new("unreachable").weak());
                        }
                    });
                    row.col(|ui| {
                        ui.label(format::bytes(index.shallow_size(o)));
                    });
                    row.col(|ui| {
                        ui.label(format::bytes(dom.retained(o)));
                    });
                });
            });
    }
}

/// A sortable column title; true when clicked.
fn header_button(
    ui: &mut Ui,
    label: &str,
    by: SortBy,
    (sort_by, descending): (SortBy, bool),
) -> bool {
    let arrow = match (sort_by == by, descending) {
        (false, _) => "",
        (true, true) => " ▼",
        (true, false) => " ▲",
    };
    ui.add(egui::Button::new(RichText::new(format!("{label}{arrow}")).strong()).frame(false))
        .on_hover_text(format!("Sort by {}", label.to_lowercase()))
        .clicked()
}

/// CSV of the rows as shown.
pub fn rows_to_csv(rows: &[Row]) -> String {
    let mut s = String::from("name,objects,shallow_bytes,retained_bytes,unreachable_objects\n");
    for r in rows {
        let name = if r.label.contains([',', '"']) {
            format!("\"{}\"", r.label.replace('"', "\"\""))
        } else {
            r.label.clone()
        };
        s.push_str(&format!(
            "{name},{},{},{},{}\n",
            r.count,
            r.shallow,
            r.retained.map(|b| b.to_string()).unwrap_or_default(),
            r.unreachable
        ));
    }
    s
}
