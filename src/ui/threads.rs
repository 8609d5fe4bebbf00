//! Threads: every thread with the memory its thread object retains, and for the chosen one
//! its stack trace with the objects each frame's local variables hold.

use std::sync::Arc;

use egui::{Align, Layout, RichText, Sense, Ui};
use egui_extras::{Column, Size, StripBuilder, TableBuilder};

use super::tree_table::{self, ColumnSpec, Expander, RowInfo, TreeEvent, TreeTableState};
use super::widgets::with_arrows;
use super::{widgets, Command, Place, Session};
use crate::analysis::Analysis;
use crate::format;
use crate::heap::ObjectId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortBy {
    Name,
    Retained,
    Frames,
}

/// A line of the stack pane.
#[derive(Debug, Clone, Copy)]
enum StackRow {
    /// Frame `i` of the thread.
    Frame(usize),
    /// An object a frame's locals hold.
    Local(ObjectId),
    /// Heading of the roots that belong to no frame.
    OtherHeading,
    Other(ObjectId),
    Empty,
}

pub struct ThreadsView {
    session_key: usize,
    sort: SortBy,
    descending: bool,
    filter: String,
    /// Thread indices in display order (sorted and filtered).
    order: Vec<usize>,
    order_dirty: bool,
    /// Index of the chosen thread in `threads()`.
    selected: Option<usize>,
    stack: Vec<StackRow>,
    table: TreeTableState,
}

impl Default for ThreadsView {
    fn default() -> Self {
        ThreadsView {
            session_key: 0,
            sort: SortBy::Retained,
            descending: true,
            filter: String::new(),
            order: Vec::new(),
            order_dirty: true,
            selected: None,
            stack: Vec::new(),
            table: TreeTableState::default(),
        }
    }
}

impl ThreadsView {
    fn sync(&mut self, session: &Session) {
        let key = Arc::as_ptr(&session.analysis) as usize;
        if key != self.session_key {
            *self = ThreadsView::default();
            self.session_key = key;
        }
    }

    fn thread_retained(a: &Analysis, i: usize) -> u64 {
        a.index.threads()[i]
            .object
            .map(|o| a.dominators.retained(o))
            .unwrap_or(0)
    }

    fn resort(&mut self, a: &Analysis) {
        self.order_dirty = false;
        let threads = a.index.threads();
        let needle = self.filter.trim().to_lowercase();
        let mut order: Vec<usize> = (0..threads.len())
            .filter(|&i| needle.is_empty() || threads[i].name.to_lowercase().contains(&needle))
            .collect();
        match self.sort {
            SortBy::Name => order.sort_by(|&x, &y| {
                threads[x]
                    .name
                    .to_lowercase()
                    .cmp(&threads[y].name.to_lowercase())
            }),
            SortBy::Retained => {
                order.sort_by_key(|&i| Self::thread_retained(a, i));
            }
            SortBy::Frames => order.sort_by_key(|&i| threads[i].frames.len()),
        }
        if self.descending {
            order.reverse();
        }
        self.order = order;
    }

    /// Chooses thread `i`: its stack, each frame's locals largest first.
    fn choose(&mut self, a: &Analysis, i: usize) {
        self.selected = Some(i);
        let t = &a.index.threads()[i];
        let mut rows = Vec::new();
        for (fi, f) in t.frames.iter().enumerate() {
            rows.push(StackRow::Frame(fi));
            let mut locals = f.locals.clone();
            locals.sort_by_key(|&o| std::cmp::Reverse(a.dominators.retained(o)));
            locals.dedup();
            rows.extend(locals.into_iter().map(StackRow::Local));
        }
        if t.frames.is_empty() {
            rows.push(StackRow::Empty);
        }
        if !t.other_roots.is_empty() {
            rows.push(StackRow::OtherHeading);
            let mut others = t.other_roots.clone();
            others.sort_by_key(|&o| std::cmp::Reverse(a.dominators.retained(o)));
            others.dedup();
            rows.extend(others.into_iter().map(StackRow::Other));
        }
        self.stack = rows;
    }

    pub fn ui(&mut self, ui: &mut Ui, session: &Session, place: &Place, out: &mut Vec<Command>) {
        self.sync(session);
        let analysis = session.analysis.clone();
        let a = &*analysis;
        let threads = a.index.threads();
        if threads.is_empty() {
            ui.add_space(8.0);
            ui.heading("Threads");
            widgets::hint_text(ui, "This dump has no thread information.");
            return;
        }
        if self.order_dirty {
            self.resort(a);
        }

        ui.horizontal(|ui| {
            let label = ui.label("Filter threads:");
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut self.filter)
                        .id_salt("heapsight.threads.filter")
                        .hint_text("name contains…")
                        .desired_width(200.0),
                )
                .labelled_by(label.id);
            if edit.changed() {
                self.order_dirty = true;
                self.table.scroll_to_top();
            }
            ui.separator();
            widgets::hint_text(
                ui,
                format!(
                    "{} of {} threads",
                    format::thousands(self.order.len() as u64),
                    format::thousands(threads.len() as u64)
                ),
            );
        });
        ui.add_space(4.0);

        StripBuilder::new(ui)
            .size(Size::relative(0.42).at_least(120.0))
            .size(Size::remainder().at_least(120.0))
            .vertical(|mut strip| {
                strip.cell(|ui| self.threads_table(ui, a, place, out));
                strip.cell(|ui| {
                    ui.separator();
                    self.stack_ui(ui, a, place, out);
                });
            });
    }

    fn threads_table(&mut self, ui: &mut Ui, a: &Analysis, place: &Place, out: &mut Vec<Command>) {
        let threads = a.index.threads();
        let reachable = a.dominators.reachable_bytes.max(1);
        let order = std::mem::take(&mut self.order);
        let mut chosen = None;
        let columns = [
            ColumnSpec::remainder("Thread", 200.0),
            ColumnSpec::sized("Retained", 160.0, 100.0),
            ColumnSpec::sized("Frames", 70.0, 50.0),
            ColumnSpec::sized("Locals", 70.0, 50.0),
        ];
        let selected = self.selected;
        let info = |r: usize| {
            let i = order[r];
            let t = &threads[i];
            RowInfo {
                depth: 0,
                expander: Expander::Leaf,
                selected: selected == Some(i) || (t.object.is_some() && t.object == place.selected),
            }
        };
        let name = |r: usize| threads[order[r]].name.clone();
        let mut first = |ui: &mut Ui, r: usize, _: &RowInfo| {
            let i = order[r];
            let t = &threads[i];
            let response = ui
                .add(
                    egui::Label::new(t.name.as_str())
                        .sense(Sense::click())
                        .truncate(),
                )
                .on_hover_text(format!("{}\nClick: show the stack trace", t.name));
            if response.clicked() {
                chosen = Some((i, true));
            }
            if let Some(o) = t.object {
                response.context_menu(|ui| widgets::object_menu(ui, &a.index, o, out));
            }
        };
        let mut cell = |ui: &mut Ui, r: usize, col: usize| {
            let i = order[r];
            let t = &threads[i];
            match col {
                1 => {
                    let r = Self::thread_retained(a, i);
                    let w = (ui.available_width() - 4.0).max(40.0);
                    widgets::size_bar(ui, r as f64 / reachable as f64, &format::bytes(r), w)
                        .on_hover_text(format!(
                            "{} bytes retained by the thread object",
                            format::thousands(r)
                        ));
                }
                2 => {
                    ui.label(format::thousands(t.frames.len() as u64));
                }
                _ => {
                    let locals: usize = t.frames.iter().map(|f| f.locals.len()).sum::<usize>()
                        + t.other_roots.len();
                    ui.label(format::thousands(locals as u64));
                }
            }
        };
        let sort = (self.sort, self.descending);
        let mut new_sort = None;
        let mut header = |ui: &mut Ui, col: usize| {
            let (label, by) = match col {
                0 => ("Thread", Some(SortBy::Name)),
                1 => ("Retained", Some(SortBy::Retained)),
                2 => ("Frames", Some(SortBy::Frames)),
                _ => ("Locals", None),
            };
            match by {
                Some(by) => {
                    if header_button(ui, label, by, sort) {
                        new_sort = Some(by);
                    }
                }
                None => {
                    ui.strong(label);
                }
            }
        };
        let mut table = std::mem::take(&mut self.table);
        let events = tree_table::show(
            ui,
            &mut table,
            "heapsight.threads.table",
            &columns,
            order.len(),
            &info,
            &name,
            Some(&mut header),
            &mut first,
            &mut cell,
        );
        self.table = table;
        for e in events {
            if let TreeEvent::Cursor(r) | TreeEvent::Activate(r) = e {
                chosen = order.get(r).map(|&i| (i, false));
            }
        }
        self.order = order;
        if let Some(by) = new_sort {
            if self.sort == by {
                self.descending = !self.descending;
            } else {
                self.sort = by;
                self.descending = by != SortBy::Name;
            }
            self.order_dirty = true;
            self.table.scroll_to_top();
        }
        if let Some((i, clicked)) = chosen {
            self.choose(a, i);
            if let Some(o) = threads[i].object {
                out.push(if clicked {
                    Command::Select(o)
                } else {
                    Command::Cursor(o)
                });
            }
        }
    }

    fn stack_ui(&mut self, ui: &mut Ui, a: &Analysis, place: &Place, out: &mut Vec<Command>) {
        let threads = a.index.threads();
        let Some(i) = self.selected.filter(|&i| i < threads.len()) else {
            widgets::hint_text(
                ui,
                "Select a thread to see its stack trace and what its local variables hold.",
            );
            return;
        };
        let t = &threads[i];
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!("Stack of \"{}\"", t.name));
            if let Some(o) = t.object {
                widgets::object_link(ui, &a.index, o, out);
            }
        });
        let row_height = ui.spacing().interact_size.y;
        let rows = std::mem::take(&mut self.stack);
        let reachable = a.dominators.reachable_bytes.max(1);
        TableBuilder::new(ui)
            .id_salt("heapsight.threads.stack")
            .striped(false)
            .resizable(true)
            .auto_shrink([false, false])
            .cell_layout(Layout::left_to_right(Align::Center))
            .column(Column::remainder().at_least(240.0).clip(true))
            .column(Column::initial(170.0).at_least(100.0).clip(true))
            .body(|body| {
                body.rows(row_height, rows.len(), |mut row| match rows[row.index()] {
                    StackRow::Frame(fi) => {
                        let f = &t.frames[fi];
                        row.col(|ui| {
                            ui.label(RichText::new(format!("at {}", f.display())).monospace())
                                .on_hover_text(if f.signature.is_empty() {
                                    f.method.clone()
                                } else {
                                    format!("{}{}", f.method, f.signature)
                                });
                        });
                        row.col(|ui| {
                            if !f.locals.is_empty() {
                                widgets::hint_text(
                                    ui,
                                    format!(
                                        "{} local{}",
                                        f.locals.len(),
                                        if f.locals.len() == 1 { "" } else { "s" }
                                    ),
                                );
                            }
                        });
                    }
                    StackRow::Local(o) | StackRow::Other(o) => {
                        row.set_selected(place.selected == Some(o));
                        row.col(|ui| {
                            ui.add_space(28.0);
                            widgets::hint_text(ui, "holds");
                            widgets::object_link(ui, &a.index, o, out);
                        });
                        row.col(|ui| {
                            let r = a.dominators.retained(o);
                            let w = (ui.available_width() - 4.0).max(40.0);
                            widgets::size_bar(
                                ui,
                                r as f64 / reachable as f64,
                                &format::bytes(r),
                                w,
                            )
                            .on_hover_text(format!("{} bytes retained", format::thousands(r)));
                        });
                    }
                    StackRow::OtherHeading => {
                        row.col(|ui| {
                            ui.strong("Held by the thread outside any Java frame");
                        });
                        row.col(|_| {});
                    }
                    StackRow::Empty => {
                        row.col(|ui| {
                            widgets::hint_text(ui, "No stack trace in the dump for this thread.");
                        });
                        row.col(|_| {});
                    }
                });
            });
        self.stack = rows;
    }
}

/// A sortable column title; true when clicked.
fn header_button(ui: &mut Ui, label: &str, by: SortBy, (sort, descending): (SortBy, bool)) -> bool {
    let arrow = match (sort == by, descending) {
        (false, _) => "",
        (true, true) => " ▼",
        (true, false) => " ▲",
    };
    ui.add(egui::Button::new(with_arrows(ui.style(), &format!("{label}{arrow}"))).frame(false))
        .on_hover_text(format!("Sort by {}", label.to_lowercase()))
        .clicked()
}
