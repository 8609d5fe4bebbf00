//! The inspector: everything about the selected object — class, sizes, GC-root kinds, its
//! dominator, field values (strings decoded, references as links), array contents, statics of
//! a class, class loader, and who references it.
//!
//! Everything shown is read once per selected object and cached.

use std::sync::Arc;

use egui::{Grid, RichText, ScrollArea, Ui};

use super::{widgets, Command, PathTarget, Place, Session};
use crate::analysis::dominators::{SUPER_ROOT, UNREACHABLE};
use crate::analysis::paths::reference_label;
use crate::analysis::Analysis;
use crate::format;
use crate::heap::{ClassIndex, ObjectId, ObjectView};
use crate::hprof::{BasicType, Value};

/// Characters of a string shown.
const STRING_LIMIT: usize = 200;
/// Array elements shown.
const ELEMENT_LIMIT: usize = 100;
/// Referrers shown.
const REFERRER_LIMIT: usize = 50;

/// A field or element value, ready to draw.
#[derive(Debug, Clone)]
enum Cell {
    Null,
    /// A reference to an object of the dump: its label and, for strings, the text.
    Ref {
        object: ObjectId,
        label: String,
        text: Option<String>,
    },
    /// A reference to an id the dump does not hold.
    Dangling(u64),
    Primitive(String),
}

#[derive(Debug, Clone)]
struct FieldRow {
    name: String,
    ty: String,
    value: Cell,
}

#[derive(Debug, Clone)]
enum Dominator {
    Object(ObjectId, String),
    GcRoots,
    Unreachable,
}

#[derive(Debug, Clone)]
enum Contents {
    None,
    Fields(Vec<FieldRow>),
    ObjectArray {
        length: usize,
        elements: Vec<(usize, Cell)>,
    },
    PrimitiveArray {
        elem: BasicType,
        length: u32,
        preview: String,
        text: Option<String>,
    },
}

/// What the inspector shows for one object.
struct Details {
    object: ObjectId,
    title: String,
    class_name: String,
    address: u64,
    shallow: u64,
    retained: u64,
    reachable: bool,
    roots: Vec<String>,
    dominator: Dominator,
    string_value: Option<String>,
    contents: Contents,
    /// For class objects: the class's statics, superclass and instance count.
    class_info: Option<ClassDetails>,
    loader: Option<(ObjectId, String)>,
    loader_is_boot: bool,
    referrers: Vec<(ObjectId, String, String, bool)>,
    referrers_total: usize,
}

struct ClassDetails {
    statics: Vec<FieldRow>,
    super_class: Option<(ObjectId, String)>,
    instances: u64,
    instance_bytes: u64,
}

#[derive(Default)]
pub struct InspectorPanel {
    cached: Option<(usize, Arc<Details>)>,
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
            _ => {
                let d = Arc::new(details(a, o));
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
    ui.label(RichText::new(&d.class_name).heading().strong())
        .on_hover_text(&d.title);
    if let Some(s) = &d.string_value {
        ui.label(RichText::new(s).monospace())
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

    Grid::new("heapsight.inspector.summary")
        .num_columns(2)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            ui.label("Shallow size");
            widgets::bytes_label(ui, d.shallow);
            ui.end_row();
            ui.label("Retained size");
            if d.reachable {
                let reachable = a.dominators.reachable_bytes.max(1);
                ui.horizontal(|ui| {
                    widgets::bytes_label(ui, d.retained);
                    widgets::hint_text(ui, format::percent(d.retained, reachable));
                });
            } else {
                widgets::hint_text(ui, "none: unreachable");
            }
            ui.end_row();
            if !d.roots.is_empty() {
                ui.label("GC root");
                ui.label(RichText::new(d.roots.join(", ")).color(ui.visuals().hyperlink_color));
                ui.end_row();
            }
            ui.label("Dominator");
            match &d.dominator {
                Dominator::Object(dom, label) => {
                    link(ui, a, *dom, label, out);
                }
                Dominator::GcRoots => {
                    widgets::hint_text(ui, "none: held directly by GC roots");
                }
                Dominator::Unreachable => {
                    ui.label(
                        RichText::new("unreachable: garbage").color(ui.visuals().warn_fg_color),
                    );
                }
            }
            ui.end_row();
            ui.label("Class loader");
            match &d.loader {
                Some((l, label)) => {
                    link(ui, a, *l, label, out);
                }
                None if d.loader_is_boot => {
                    widgets::hint_text(ui, "bootstrap");
                }
                None => {
                    widgets::hint_text(ui, "not in the dump");
                }
            }
            ui.end_row();
            if let Some(c) = &d.class_info {
                if let Some((s, label)) = &c.super_class {
                    ui.label("Superclass");
                    link(ui, a, *s, label, out);
                    ui.end_row();
                }
                ui.label("Instances");
                ui.label(format!(
                    "{} ({})",
                    format::thousands(c.instances),
                    format::bytes(c.instance_bytes)
                ));
                ui.end_row();
            }
        });

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
                .show(ui, |ui| {
                    field_grid(ui, a, "heapsight.inspector.field_grid", fields, out)
                });
        }
        Contents::ObjectArray { length, elements } => {
            egui::CollapsingHeader::new(format!(
                "Elements ({})",
                format::thousands(*length as u64)
            ))
            .id_salt("heapsight.inspector.elements")
            .default_open(true)
            .show(ui, |ui| {
                Grid::new("heapsight.inspector.element_grid")
                    .num_columns(2)
                    .striped(true)
                    .spacing([12.0, 2.0])
                    .show(ui, |ui| {
                        for (i, cell) in elements {
                            ui.label(RichText::new(format!("[{i}]")).monospace());
                            value_cell(ui, a, cell, out);
                            ui.end_row();
                        }
                    });
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
                    ui.label(RichText::new(t).monospace());
                    ui.add_space(4.0);
                }
                ui.label(RichText::new(preview).monospace());
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
                    field_grid(ui, a, "heapsight.inspector.static_grid", &c.statics, out);
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
        Grid::new("heapsight.inspector.referrer_grid")
            .num_columns(2)
            .striped(true)
            .spacing([12.0, 2.0])
            .show(ui, |ui| {
                for (from, field, label, weak) in &d.referrers {
                    let mut text = RichText::new(field).monospace();
                    if *weak {
                        text = text.italics();
                    }
                    let r = ui.label(text);
                    if *weak {
                        r.on_hover_text("A weak/soft reference: does not keep the object alive");
                    }
                    link(ui, a, *from, label, out);
                    ui.end_row();
                }
            });
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

fn field_grid(ui: &mut Ui, a: &Analysis, id: &str, fields: &[FieldRow], out: &mut Vec<Command>) {
    Grid::new(id)
        .num_columns(3)
        .striped(true)
        .spacing([10.0, 2.0])
        .show(ui, |ui| {
            for f in fields {
                ui.label(RichText::new(&f.name).monospace());
                widgets::hint_text(ui, &f.ty);
                value_cell(ui, a, &f.value, out);
                ui.end_row();
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
            ui.label(RichText::new(s).monospace());
        }
        Cell::Ref {
            object,
            label,
            text,
        } => {
            ui.horizontal(|ui| {
                if let Some(t) = text {
                    ui.label(RichText::new(t).monospace());
                }
                link(ui, a, *object, label, out);
            });
        }
    }
}

/// A link that selects `o`, with the object menu on right-click.
fn link(ui: &mut Ui, a: &Analysis, o: ObjectId, label: &str, out: &mut Vec<Command>) {
    let response = ui
        .link(label)
        .on_hover_text(format!("{}\nClick: select", a.index.describe(o)));
    if response.clicked() {
        out.push(Command::Select(o));
    }
    response.context_menu(|ui| widgets::object_menu(ui, &a.index, o, out));
}

/// `"text"` for a `java.lang.String` (quoted, escaped, cut at 200 characters).
fn string_text(a: &Analysis, o: ObjectId) -> Option<String> {
    let s = a.index.read_string_limited(o, STRING_LIMIT + 1)?;
    let cut = s.chars().count() > STRING_LIMIT;
    let body: String = s.chars().take(STRING_LIMIT).collect();
    Some(format!(
        "\"{}\"{}",
        body.escape_debug(),
        if cut { "…" } else { "" }
    ))
}

/// `HashMap @ 0x…` with the package left out, for links.
fn short_describe(a: &Analysis, o: ObjectId) -> String {
    let full = a.index.describe(o);
    let (name, rest) = match full.find(" @ ") {
        Some(i) => full.split_at(i),
        None => (full.as_str(), ""),
    };
    let (prefix, name) = match name.strip_prefix("class ") {
        Some(n) => ("class ", n),
        None => ("", name),
    };
    let base_end = name.find('[').unwrap_or(name.len());
    let (base, suffix) = name.split_at(base_end);
    // Keep the package of classes, not of instances.
    let base = if prefix.is_empty() {
        base.rsplit('.').next().unwrap_or(base)
    } else {
        base
    };
    format!("{prefix}{base}{suffix}{rest}")
}

fn reference_cell(a: &Analysis, id: u64) -> Cell {
    if id == 0 {
        return Cell::Null;
    }
    match a.index.find(id) {
        Some(t) => Cell::Ref {
            object: t,
            label: short_describe(a, t),
            text: string_text(a, t),
        },
        None => Cell::Dangling(id),
    }
}

fn value_row(a: &Analysis, name: &str, value: Value) -> FieldRow {
    let (ty, cell) = match value {
        Value::Object(id) => {
            let cell = reference_cell(a, id);
            let ty = match &cell {
                Cell::Ref { object, .. } => {
                    let c = a.index.class_of(*object);
                    let n = &a.index.classes().get(c).name;
                    n.rsplit('.').next().unwrap_or(n).to_string()
                }
                _ => "ref".to_string(),
            };
            (ty, cell)
        }
        v => (
            primitive_type(v).to_string(),
            Cell::Primitive(v.to_string()),
        ),
    };
    FieldRow {
        name: name.to_string(),
        ty,
        value: cell,
    }
}

fn primitive_type(v: Value) -> &'static str {
    match v {
        Value::Object(_) => "ref",
        Value::Boolean(_) => "boolean",
        Value::Char(_) => "char",
        Value::Float(_) => "float",
        Value::Double(_) => "double",
        Value::Byte(_) => "byte",
        Value::Short(_) => "short",
        Value::Int(_) => "int",
        Value::Long(_) => "long",
    }
}

fn details(a: &Analysis, o: ObjectId) -> Details {
    let index = &a.index;
    let classes = index.classes();
    let class = index.class_of(o);
    let class_obj_of = index.class_for_object(o);
    let class_name = match class_obj_of {
        Some(c) => format!("class {}", classes.get(c).name),
        None => classes.get(class).name.clone(),
    };
    let reachable = a.dominators.is_reachable(o);
    let dominator = match a.dominators.idom(o) {
        UNREACHABLE => Dominator::Unreachable,
        SUPER_ROOT => Dominator::GcRoots,
        d if (d as usize) < index.object_count() => Dominator::Object(d, short_describe(a, d)),
        _ => Dominator::GcRoots,
    };
    let mut roots: Vec<String> = a
        .roots
        .kinds(o)
        .map(|k| k.as_str().replace('_', " "))
        .collect();
    roots.dedup();

    let contents = match index.view(o) {
        Some(ObjectView::Instance { .. }) => Contents::Fields(
            index
                .fields(o)
                .iter()
                .map(|f| value_row(a, &f.name, f.value))
                .collect(),
        ),
        Some(ObjectView::ObjectArray { elements, .. }) => Contents::ObjectArray {
            length: elements.len(),
            elements: elements
                .iter()
                .take(ELEMENT_LIMIT)
                .enumerate()
                .map(|(i, id)| (i, reference_cell(a, id)))
                .collect(),
        },
        Some(ObjectView::PrimitiveArray {
            elem, length, data, ..
        }) => {
            let (preview, text) = primitive_preview(elem, length, data, index.header().id_size);
            Contents::PrimitiveArray {
                elem,
                length,
                preview,
                text,
            }
        }
        Some(ObjectView::Class { .. }) | None => Contents::None,
    };

    // The loader of the class this object is (for class objects) or is an instance of.
    let loader_class: ClassIndex = class_obj_of.unwrap_or(class);
    let loader_id = classes.get(loader_class).loader_id;
    let loader = index
        .find(loader_id)
        .filter(|_| loader_id != 0)
        .map(|l| (l, short_describe(a, l)));

    let class_info = class_obj_of.map(|c| {
        let info = classes.get(c);
        let (instances, instance_bytes) = a
            .histogram
            .rows
            .iter()
            .find(|r| r.class == c)
            .map(|r| (r.count, r.shallow_bytes))
            .unwrap_or((0, 0));
        ClassDetails {
            statics: info
                .statics
                .iter()
                .map(|s| value_row(a, &s.name, s.value))
                .collect(),
            super_class: info
                .super_class
                .and_then(|s| index.class_object(s))
                .map(|s| (s, short_describe(a, s))),
            instances,
            instance_bytes,
        }
    });

    let strong = a.graph.incoming.neighbours(o);
    let weak: Vec<ObjectId> = a.graph.weak_to(o).collect();
    let referrers_total = strong.len() + weak.len();
    let referrers = strong
        .iter()
        .map(|&f| (f, false))
        .chain(weak.iter().map(|&f| (f, true)))
        .take(REFERRER_LIMIT)
        .map(|(f, w)| (f, reference_label(index, f, o), short_describe(a, f), w))
        .collect();

    let string_value = string_text(a, o);
    Details {
        object: o,
        title: index.describe(o),
        class_name,
        address: index.address(o),
        shallow: index.shallow_size(o),
        retained: a.dominators.retained(o),
        reachable,
        roots,
        dominator,
        string_value,
        contents,
        class_info,
        loader,
        loader_is_boot: loader_id == 0,
        referrers,
        referrers_total,
    }
}

/// The first elements of a primitive array as numbers, and as text when they look like text.
fn primitive_preview(
    elem: BasicType,
    length: u32,
    data: &[u8],
    id_size: usize,
) -> (String, Option<String>) {
    let size = elem.size_in_dump(id_size).max(1);
    let shown = (length as usize).min(ELEMENT_LIMIT);
    let values: Vec<String> = (0..shown)
        .filter_map(|i| {
            data.get(i * size..)
                .and_then(|b| Value::decode(elem, b, id_size))
        })
        .map(|v| match v {
            // Chars read better as characters in a list of numbers too.
            Value::Char(c) => format!("{}", Value::Char(c)),
            v => v.to_string(),
        })
        .collect();
    let mut preview = values.join(", ");
    if length as usize > shown {
        preview.push_str(&format!(
            ", … ({} more)",
            format::thousands(length as u64 - shown as u64)
        ));
    }
    let text = match elem {
        BasicType::Byte => {
            let bytes = &data[..data.len().min(STRING_LIMIT)];
            let printable = !bytes.is_empty()
                && bytes
                    .iter()
                    .all(|&b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\r' || b == b'\t');
            printable.then(|| {
                let s: String = bytes.iter().map(|&b| b as char).collect();
                format!(
                    "\"{}\"{}",
                    s.escape_debug(),
                    if data.len() > STRING_LIMIT { "…" } else { "" }
                )
            })
        }
        BasicType::Char => {
            let units: Vec<u16> = data
                .chunks_exact(2)
                .take(STRING_LIMIT)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .collect();
            let s: String = char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect();
            (!s.is_empty() && s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t')).then(
                || {
                    format!(
                        "\"{}\"{}",
                        s.escape_debug(),
                        if length as usize > STRING_LIMIT {
                            "…"
                        } else {
                            ""
                        }
                    )
                },
            )
        }
        _ => None,
    };
    (preview, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_arrays_preview_as_text() {
        let (preview, text) = primitive_preview(BasicType::Byte, 2, b"hi", 8);
        assert_eq!(preview, "104, 105");
        assert_eq!(text.as_deref(), Some("\"hi\""));
        let (_, text) = primitive_preview(BasicType::Byte, 2, &[0, 1], 8);
        assert_eq!(text, None);
    }

    #[test]
    fn int_arrays_preview_as_numbers() {
        let mut data = Vec::new();
        for i in 0..150i32 {
            data.extend_from_slice(&i.to_be_bytes());
        }
        let (preview, text) = primitive_preview(BasicType::Int, 150, &data, 8);
        assert!(preview.starts_with("0, 1, 2"));
        assert!(preview.ends_with("… (50 more)"));
        assert_eq!(text, None);
    }
}
