//! The inspector panel: draws `analysis::inspect::Details` of the selected object. Long values
//! are cut to the panel's width with the full text on hover, so the panel keeps the width the
//! user gave it.

use std::sync::Arc;

use egui::{RichText, ScrollArea, Ui};

use super::task::{Poll, Task};
use super::{widgets, Command, PathTarget, Place, Session};
use crate::analysis::inspect::{Cell, Contents, Details, Dominator, FieldRow};
use crate::analysis::label::NamedClasses;
use crate::analysis::Analysis;
use crate::format;
use crate::heap::ObjectId;

#[derive(Default)]
pub struct InspectorPanel {
    cached: Option<(usize, Arc<Details>)>,
    /// Details read on a worker while the referrer lists are still being built (after a
    /// reopen from the index file): reading them on the UI thread would wait for that, seconds
    /// on a big dump.
    reading: Option<(usize, ObjectId, Task<Details>)>,
}

impl InspectorPanel {
    pub fn ui(&mut self, ui: &mut Ui, session: &Session, place: &Place, out: &mut Vec<Command>) {
        let Some(o) = place.selected else {
            ui.add_space(8.0);
            ui.heading("Inspector");
            widgets::hint_text(
                ui,
                "Select an object in any view to see its fields, sizes and referrers here.",
            );
            return;
        };
        let a = &*session.analysis;
        if o as usize >= a.index.object_count() {
            widgets::hint_text(ui, "The selected object is not in this dump.");
            return;
        }
        let key = Arc::as_ptr(&session.analysis) as usize;
        let details = match &self.cached {
            Some((k, d)) if *k == key && d.object == o => d.clone(),
            _ if !a.graph.is_built() => {
                if !matches!(&self.reading, Some((k, r, _)) if *k == key && *r == o) {
                    let analysis = session.analysis.clone();
                    let task = Task::spawn("heapsight-inspect", ui.ctx(), move |_| {
                        // One look-up per class: cheaper than sharing the session's.
                        let names = NamedClasses::new(&analysis.index);
                        Details::of(&analysis, &names, o)
                    });
                    self.reading = Some((key, o, task));
                }
                let Some((_, _, task)) = &mut self.reading else {
                    return;
                };
                match task.poll() {
                    Poll::Done(d) => {
                        let d = Arc::new(d);
                        self.cached = Some((key, d.clone()));
                        self.reading = None;
                        d
                    }
                    Poll::Running | Poll::Died => {
                        ui.add_space(8.0);
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.heading(session.label(o).short());
                        });
                        widgets::hint_text(
                            ui,
                            "Finding its referrers: the reference graph is being built in the \
                             background after reopening the index (a few seconds on a big dump).",
                        );
                        return;
                    }
                }
            }
            _ => {
                let d = Arc::new(Details::of(a, &session.names, o));
                self.cached = Some((key, d.clone()));
                d
            }
        };
        ScrollArea::vertical()
            .id_salt("heapsight.inspector.scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| show(ui, a, &details, out));
    }
}

fn show(ui: &mut Ui, a: &Analysis, d: &Details, out: &mut Vec<Command>) {
    let o = d.object;
    ui.add_space(4.0);
    ui.add(egui::Label::new(RichText::new(&d.class_name).heading().strong()).truncate())
        .on_hover_text(&d.title);
    if let Some(s) = &d.string_value {
        ui.add(egui::Label::new(RichText::new(s).monospace()).wrap())
            .on_hover_text("The string's value");
    }
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("0x{:x}", d.address)).monospace());
        if ui
            .small_button("Copy id")
            .on_hover_text("Copy the object id to the clipboard")
            .clicked()
        {
            out.push(Command::Copy(format!("0x{:x}", d.address)));
        }
    });
    ui.add_space(4.0);

    kv(ui, "Shallow size", |ui| {
        widgets::bytes_label(ui, d.shallow);
    });
    kv(ui, "Retained size", |ui| {
        if d.reachable {
            let reachable = a.dominators.reachable_bytes.max(1);
            widgets::bytes_label(ui, d.retained);
            widgets::hint_text(ui, format::percent(d.retained, reachable));
        } else {
            widgets::hint_text(ui, "none: unreachable");
        }
    });
    if let Some(roots) = &d.roots {
        kv(ui, "GC root", |ui| {
            let color = ui.visuals().hyperlink_color;
            cut_label(ui, RichText::new(roots).color(color), roots);
        });
    }
    kv(ui, "Dominator", |ui| match &d.dominator {
        Dominator::Object(dom, label) => link(ui, a, *dom, label, out),
        Dominator::GcRoots => {
            widgets::hint_text(ui, "none: held directly by GC roots");
        }
        Dominator::Unreachable => {
            ui.label(RichText::new("unreachable: garbage").color(ui.visuals().warn_fg_color));
        }
    });
    kv(ui, "Class loader", |ui| match &d.loader {
        Some((l, label)) => link(ui, a, *l, label, out),
        None if d.loader_is_boot => {
            widgets::hint_text(ui, "bootstrap");
        }
        None => {
            widgets::hint_text(ui, "not in the dump");
        }
    });
    if let Some(c) = &d.class_info {
        if let Some((s, label)) = &c.super_class {
            kv(ui, "Superclass", |ui| link(ui, a, *s, label, out));
        }
        kv(ui, "Instances", |ui| {
            ui.label(format!(
                "{} ({})",
                format::thousands(c.instances),
                format::bytes(c.instance_bytes)
            ));
        });
    }

    ui.add_space(6.0);
    ui.horizontal_wrapped(|ui| {
        if ui.button("Paths to GC roots").clicked() {
            out.push(Command::ShowPaths(PathTarget::Object(o)));
        }
        if ui.button("Show in dominator tree").clicked() {
            out.push(Command::RevealInDominatorTree(o));
        }
    });
    ui.add_space(6.0);

    match &d.contents {
        Contents::None => {}
        Contents::Fields(fields) => {
            egui::CollapsingHeader::new(format!("Fields ({})", fields.len()))
                .id_salt("heapsight.inspector.fields")
                .default_open(true)
                .show(ui, |ui| field_grid(ui, a, fields, out));
        }
        Contents::ObjectArray { length, elements } => {
            egui::CollapsingHeader::new(format!(
                "Elements ({})",
                format::thousands(*length as u64)
            ))
            .id_salt("heapsight.inspector.elements")
            .default_open(true)
            .show(ui, |ui| {
                for (i, cell) in elements {
                    fixed_row(ui, &[0.2, 0.8], |ui, col| {
                        if col == 0 {
                            ui.label(RichText::new(format!("[{i}]")).monospace());
                        } else {
                            value_cell(ui, a, cell, out);
                        }
                    });
                }
                if *length > elements.len() {
                    widgets::hint_text(
                        ui,
                        format!(
                            "first {} of {} elements",
                            elements.len(),
                            format::thousands(*length as u64)
                        ),
                    );
                }
            });
        }
        Contents::PrimitiveArray {
            elem,
            length,
            preview,
            text,
        } => {
            egui::CollapsingHeader::new(format!(
                "{}[{}] contents",
                elem.java_name(),
                format::thousands(*length as u64)
            ))
            .id_salt("heapsight.inspector.primitive")
            .default_open(true)
            .show(ui, |ui| {
                if let Some(t) = text {
                    ui.label("As text:");
                    ui.add(egui::Label::new(RichText::new(t).monospace()).wrap());
                    ui.add_space(4.0);
                }
                ui.add(egui::Label::new(RichText::new(preview).monospace()).wrap());
            });
        }
    }

    if let Some(c) = &d.class_info {
        egui::CollapsingHeader::new(format!("Static fields ({})", c.statics.len()))
            .id_salt("heapsight.inspector.statics")
            .default_open(true)
            .show(ui, |ui| {
                if c.statics.is_empty() {
                    widgets::hint_text(ui, "none");
                } else {
                    field_grid(ui, a, &c.statics, out);
                }
            });
    }

    egui::CollapsingHeader::new(format!(
        "Referenced by ({})",
        format::thousands(d.referrers_total as u64)
    ))
    .id_salt("heapsight.inspector.referrers")
    .default_open(true)
    .show(ui, |ui| {
        if d.referrers.is_empty() {
            widgets::hint_text(ui, "no references to this object");
        }
        for (from, field, label, weak) in &d.referrers {
            fixed_row(ui, &[0.3, 0.7], |ui, col| {
                if col == 0 {
                    let mut text = RichText::new(field).monospace();
                    if *weak {
                        text = text.italics();
                    }
                    let r = ui.add(egui::Label::new(text).truncate());
                    if *weak {
                        r.on_hover_text(format!(
                            "{field}: a weak/soft reference, does not keep the object alive"
                        ));
                    } else {
                        r.on_hover_text(field);
                    }
                } else {
                    link(ui, a, *from, label, out);
                }
            });
        }
        if d.referrers_total > d.referrers.len() {
            widgets::hint_text(
                ui,
                format!(
                    "first {} of {} referrers",
                    d.referrers.len(),
                    format::thousands(d.referrers_total as u64)
                ),
            );
        }
    });
}

fn field_grid(ui: &mut Ui, a: &Analysis, fields: &[FieldRow], out: &mut Vec<Command>) {
    for f in fields {
        fixed_row(ui, &[0.34, 0.2, 0.46], |ui, col| match col {
            0 => cut_label(ui, RichText::new(&f.name).monospace(), &f.name),
            1 => cut_label(ui, RichText::new(&f.ty).weak(), &f.ty),
            _ => value_cell(ui, a, &f.value, out),
        });
    }
}

/// A row of cells, each a fixed share of the width and cut to it: long values never widen
/// the panel.
fn fixed_row(ui: &mut Ui, shares: &[f32], mut cell: impl FnMut(&mut Ui, usize)) {
    let gap = 8.0;
    let total = ui.available_width() - gap * (shares.len() as f32 - 1.0);
    let height = ui.spacing().interact_size.y;
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = gap;
        for (i, share) in shares.iter().enumerate() {
            let w = (total * share).max(12.0).floor();
            ui.allocate_ui_with_layout(
                egui::vec2(w, height),
                egui::Layout::left_to_right(egui::Align::Center),
                |ui| {
                    ui.set_width(w);
                    cell(ui, i);
                },
            );
        }
    });
}

/// `key` and a value on one line.
fn kv(ui: &mut Ui, key: &str, value: impl FnOnce(&mut Ui)) {
    let mut value = Some(value);
    fixed_row(ui, &[0.36, 0.64], |ui, col| {
        if col == 0 {
            ui.label(key);
        } else if let Some(v) = value.take() {
            v(ui);
        }
    });
}

fn value_cell(ui: &mut Ui, a: &Analysis, cell: &Cell, out: &mut Vec<Command>) {
    match cell {
        Cell::Null => {
            widgets::hint_text(ui, "null");
        }
        Cell::Dangling(id) => {
            widgets::hint_text(ui, format!("0x{id:x} (not in the dump)"));
        }
        Cell::Primitive(s) => {
            cut_label(ui, RichText::new(s).monospace(), s);
        }
        Cell::Ref {
            object,
            label,
            text,
        } => {
            // A string shows its text (which selects it); other objects their label.
            match text {
                Some(t) => link(ui, a, *object, t, out),
                None => link(ui, a, *object, label, out),
            }
        }
    }
}

/// A link that selects `o`, cut to the width left, with the object menu on right-click.
fn link(ui: &mut Ui, a: &Analysis, o: ObjectId, label: &str, out: &mut Vec<Command>) {
    let text = RichText::new(label).color(ui.visuals().hyperlink_color);
    let response = ui
        .add(
            egui::Label::new(text)
                .sense(egui::Sense::click())
                .truncate(),
        )
        .on_hover_text(format!("{label}\n{}\nClick: select", a.index.describe(o)));
    if response.clicked() {
        out.push(Command::Select(o));
    }
    response.context_menu(|ui| widgets::object_menu(ui, &a.index, o, out));
}

/// Text cut to the width left, the whole of it on hover.
fn cut_label(ui: &mut Ui, text: RichText, full: &str) {
    let response = ui.add(egui::Label::new(text).truncate());
    if response.hovered() {
        response.on_hover_text(full);
    }
}
