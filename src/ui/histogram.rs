//! The class histogram: sortable, filterable, grouped by class, package or loader; a row
//! lists its instances or opens merged paths to GC roots.

use std::collections::HashSet;
use std::path::PathBuf;

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};
use rayon::prelude::*;

use super::widgets::{hint_text, object_link, size_bar};
use super::{Command, PathTarget, Place, Session};
use crate::analysis::histogram::{group, GroupRow, Grouping};
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
    pub retained: u64,
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
    instances: Option<(ClassIndex, Vec<ObjectId>)>,
    /// Groups with their exact retained sizes, computed once per grouping.
    groups: Option<(GroupBy, Vec<GroupRow>)>,
    status: Option<String>,
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
            status: None,
        }
    }
}

impl HistogramView {
    /// The rows as shown (for tests and export).
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Rebuilds the rows if the filter, grouping, sort or expansion changed.
    pub fn refresh(&mut self, a: &Analysis) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        let matcher = match regex::RegexBuilder::new(&self.filter)
            .case_insensitive(true)
            .build()
        {
            Ok(re) => {
                self.filter_error = None;
                Some(re)
            }
            Err(_) => {
                self.filter_error = Some("not a regular expression: matching as text".into());
                None
            }
        };
        let needle = self.filter.to_lowercase();
        let classes = a.index.classes();
        let matches = |name: &str| match &matcher {
            Some(re) => re.is_match(name),
            None => name.to_lowercase().contains(&needle),
        };
        let mut per_class = vec![(0u64, 0u64); classes.len()];
        for r in &a.histogram.rows {
            per_class[r.class as usize] = (r.count, r.shallow_bytes);
        }
        let class_row = |c: ClassIndex, depth: u8| Row {
            label: classes.get(c).name.clone(),
            classes: vec![c],
            count: per_class[c as usize].0,
            shallow: per_class[c as usize].1,
            retained: a.retained_by_class[c as usize],
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
                if self.groups.as_ref().map(|(g, _)| *g) != Some(self.group_by) {
                    let groups = group(&a.index, &a.histogram, grouping, Some(&a.dominators));
                    self.groups = Some((self.group_by, groups));
                }
                let groups = self
                    .groups
                    .as_ref()
                    .map(|(_, g)| g.as_slice())
                    .unwrap_or(&[]);
                groups
                    .iter()
                    .filter_map(|g| {
                        let members: Vec<ClassIndex> = g
                            .classes
                            .iter()
                            .copied()
                            .filter(|&c| matches(&classes.get(c).name))
                            .collect();
                        if members.is_empty() {
                            return None;
                        }
                        let rows: Vec<Row> = members.iter().map(|&c| class_row(c, 1)).collect();
                        let exact = members.len() == g.classes.len();
                        Some(Row {
                            label: g.key.clone(),
                            count: rows.iter().map(|r| r.count).sum(),
                            shallow: rows.iter().map(|r| r.shallow).sum(),
                            retained: match g.retained_bytes {
                                Some(r) if exact => r,
                                _ => rows.iter().map(|r| r.retained).sum(),
                            },
                            unreachable: rows.iter().map(|r| r.unreachable).sum(),
                            classes: members,
                            is_group: true,
                            depth: 0,
                        })
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
        self.toolbar(ui);
        self.refresh(a);
        if self.selected.is_some() {
            egui::Panel::bottom("histogram-instances")
                .resizable(true)
                .default_size(260.0)
                .min_size(120.0)
                .show(ui, |ui| self.instances_panel(ui, a, out));
        }
        self.table(ui, a, out);
    }

    fn toolbar(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
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
                self.status = Some(match self.export_csv() {
                    Ok(Some(p)) => format!("saved {}", p.display()),
                    Ok(None) => String::new(),
                    Err(e) => format!("could not save: {e}"),
                });
            }
            if let Some(s) = &self.status {
                ui.label(RichText::new(s).weak());
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

    fn header_button(&mut self, ui: &mut Ui, label: &str, sort: SortBy) {
        let arrow = if self.sort_by == sort {
            if self.descending {
                " ▼"
            } else {
                " ▲"
            }
        } else {
            ""
        };
        if ui
            .add(egui::Button::new(RichText::new(format!("{label}{arrow}")).strong()).frame(false))
            .on_hover_text(format!("Sort by {}", label.to_lowercase()))
            .clicked()
        {
            if self.sort_by == sort {
                self.descending = !self.descending;
            } else {
                self.sort_by = sort;
                self.descending = sort != SortBy::Name;
            }
            self.dirty = true;
        }
    }

    fn table(&mut self, ui: &mut Ui, a: &Analysis, out: &mut Vec<Command>) {
        let reachable = a.dominators.reachable_bytes.max(1);
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        let mut clicked: Option<usize> = None;
        let mut toggled: Option<String> = None;
        let mut paths_for: Option<ClassIndex> = None;
        let mut copy: Option<String> = None;
        TableBuilder::new(ui)
            .id_salt("histogram-table")
            .striped(true)
            .resizable(true)
            .sense(egui::Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(320.0).at_least(160.0).clip(true))
            .column(Column::initial(80.0).at_least(60.0))
            .column(Column::initial(80.0).at_least(60.0))
            .column(Column::initial(140.0).at_least(100.0))
            .column(Column::remainder().at_least(60.0))
            .header(row_height + 4.0, |mut h| {
                h.col(|ui| self.header_button(ui, "Class", SortBy::Name));
                h.col(|ui| self.header_button(ui, "Objects", SortBy::Count));
                h.col(|ui| self.header_button(ui, "Shallow", SortBy::Shallow));
                h.col(|ui| self.header_button(ui, "Retained", SortBy::Retained));
                h.col(|ui| self.header_button(ui, "Garbage", SortBy::Unreachable));
            })
            .body(|body| {
                body.rows(row_height, self.rows.len(), |mut row| {
                    let i = row.index();
                    let r = &self.rows[i];
                    let is_selected = !r.is_group && self.selected == r.classes.first().copied();
                    row.set_selected(is_selected);
                    row.col(|ui| {
                        ui.add_space(16.0 * r.depth as f32);
                        if r.is_group {
                            let open = self.expanded.contains(&r.label);
                            ui.label(if open { "▼" } else { "▶" });
                            ui.label(RichText::new(&r.label).strong());
                            ui.label(RichText::new(format!("{} classes", r.classes.len())).weak());
                        } else {
                            ui.label(&r.label).on_hover_text(&r.label);
                        }
                    });
                    row.col(|ui| {
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            ui.label(format::thousands(r.count));
                        });
                    });
                    row.col(|ui| {
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            ui.label(format::bytes(r.shallow));
                        });
                    });
                    row.col(|ui| {
                        let w = ui.available_width();
                        size_bar(
                            ui,
                            r.retained as f64 / reachable as f64,
                            &format::bytes(r.retained),
                            w,
                        );
                    });
                    row.col(|ui| {
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            if r.unreachable > 0 {
                                ui.label(format::thousands(r.unreachable));
                            }
                        });
                    });
                    let response = row.response();
                    if response.clicked() {
                        clicked = Some(i);
                    }
                    if !r.is_group {
                        let c = r.classes[0];
                        let name = r.label.clone();
                        response.context_menu(|ui| {
                            if ui.button("List instances").clicked() {
                                clicked = Some(i);
                                ui.close();
                            }
                            if ui.button("Merged paths to GC roots").clicked() {
                                paths_for = Some(c);
                                ui.close();
                            }
                            if ui.button("Copy class name").clicked() {
                                copy = Some(name.clone());
                                ui.close();
                            }
                        });
                    } else if response.clicked() {
                        toggled = Some(r.label.clone());
                    }
                });
            });
        if let Some(label) = toggled {
            if !self.expanded.remove(&label) {
                self.expanded.insert(label);
            }
            self.dirty = true;
        } else if let Some(i) = clicked {
            if let Some(r) = self.rows.get(i) {
                if !r.is_group {
                    self.selected = r.classes.first().copied();
                }
            }
        }
        if let Some(c) = paths_for {
            out.push(Command::ShowPaths(PathTarget::Class(c)));
        }
        if let Some(text) = copy {
            out.push(Command::Copy(text));
        }
    }

    fn instances_panel(&mut self, ui: &mut Ui, a: &Analysis, out: &mut Vec<Command>) {
        let Some(c) = self.selected else { return };
        if self.instances.as_ref().map(|(k, _)| *k) != Some(c) {
            let class_of = a.index.class_of_all();
            let mut list: Vec<ObjectId> = (0..class_of.len() as ObjectId)
                .into_par_iter()
                .filter(|&o| class_of[o as usize] == c)
                .collect();
            list.par_sort_by(|x, y| {
                a.dominators
                    .retained(*y)
                    .cmp(&a.dominators.retained(*x))
                    .then(x.cmp(y))
            });
            self.instances = Some((c, list));
        }
        let Some((_, list)) = &self.instances else {
            return;
        };
        let name = a.index.classes().get(c).name.clone();
        ui.horizontal(|ui| {
            ui.label(RichText::new(format!("Instances of {name}")).strong());
            ui.label(
                RichText::new(format!("{} objects", format::thousands(list.len() as u64))).weak(),
            );
            if ui.button("Merged paths to GC roots").clicked() {
                out.push(Command::ShowPaths(PathTarget::Class(c)));
            }
            if ui.button("Close").clicked() {
                self.selected = None;
            }
        });
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        let index = &a.index;
        let dom = &a.dominators;
        TableBuilder::new(ui)
            .id_salt("histogram-instances-table")
            .striped(true)
            .column(Column::remainder().at_least(260.0).clip(true))
            .column(Column::initial(100.0))
            .column(Column::initial(100.0))
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
                        object_link(ui, index, o, out);
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

    fn export_csv(&self) -> std::io::Result<Option<PathBuf>> {
        let Some(path) = rfd::FileDialog::new()
            .set_file_name("histogram.csv")
            .add_filter("CSV", &["csv"])
            .save_file()
        else {
            return Ok(None);
        };
        std::fs::write(&path, rows_to_csv(&self.rows))?;
        Ok(Some(path))
    }
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
            r.count, r.shallow, r.retained, r.unreachable
        ));
    }
    s
}
