//! What the inspector shows for one object, read from the dump once: class, sizes, GC-root
//! kinds, dominator, field values (strings decoded, references labelled), array contents,
//! statics of a class, class loader, and who references it.

use super::dominators::{SUPER_ROOT, UNREACHABLE};
use super::label::{quote, root_kinds_text, NamedClasses, ObjectLabel};
use super::paths::reference_label;
use super::Analysis;
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
pub enum Cell {
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
pub struct FieldRow {
    pub name: String,
    pub ty: String,
    pub value: Cell,
}

#[derive(Debug, Clone)]
pub enum Dominator {
    Object(ObjectId, String),
    GcRoots,
    Unreachable,
}

#[derive(Debug, Clone)]
pub enum Contents {
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
pub struct Details {
    pub object: ObjectId,
    pub title: String,
    pub class_name: String,
    pub address: u64,
    pub shallow: u64,
    pub retained: u64,
    pub reachable: bool,
    /// GC-root kinds, when the object is a root.
    pub roots: Option<String>,
    pub dominator: Dominator,
    pub string_value: Option<String>,
    pub contents: Contents,
    /// For class objects: the class's statics, superclass and instance count.
    pub class_info: Option<ClassDetails>,
    pub loader: Option<(ObjectId, String)>,
    pub loader_is_boot: bool,
    pub referrers: Vec<(ObjectId, String, String, bool)>,
    pub referrers_total: usize,
}

pub struct ClassDetails {
    pub statics: Vec<FieldRow>,
    pub super_class: Option<(ObjectId, String)>,
    pub instances: u64,
    pub instance_bytes: u64,
}

/// `"text"` for a `java.lang.String` (quoted, escaped, cut at 200 characters).
fn string_text(a: &Analysis, o: ObjectId) -> Option<String> {
    let s = a.index.read_string_limited(o, STRING_LIMIT + 1)?;
    Some(quote(&s, STRING_LIMIT))
}

/// `HashMap @ 0x…  "name"` with the package left out (kept for class objects), for links.
fn short_describe(a: &Analysis, names: &NamedClasses, o: ObjectId) -> String {
    let label = ObjectLabel::of(&a.index, names, o);
    if label.kind == super::label::LabelKind::Class {
        label.full()
    } else {
        label.short()
    }
}

fn reference_cell(a: &Analysis, names: &NamedClasses, id: u64) -> Cell {
    if id == 0 {
        return Cell::Null;
    }
    match a.index.find(id) {
        Some(t) => Cell::Ref {
            object: t,
            label: short_describe(a, names, t),
            text: string_text(a, t),
        },
        None => Cell::Dangling(id),
    }
}

fn value_row(a: &Analysis, names: &NamedClasses, name: &str, value: Value) -> FieldRow {
    let (ty, cell) = match value {
        Value::Object(id) => {
            let cell = reference_cell(a, names, id);
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

impl Details {
    /// Reads everything shown about `o`.
    pub fn of(a: &Analysis, names: &NamedClasses, o: ObjectId) -> Details {
        details(a, names, o)
    }
}

fn details(a: &Analysis, names: &NamedClasses, o: ObjectId) -> Details {
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
        d if (d as usize) < index.object_count() => {
            Dominator::Object(d, short_describe(a, names, d))
        }
        _ => Dominator::GcRoots,
    };
    let roots = if a.roots.is_root(o) {
        Some(root_kinds_text(a.roots.kinds(o)))
    } else {
        None
    };

    let contents = match index.view(o) {
        Some(ObjectView::Instance { .. }) => Contents::Fields(
            index
                .fields(o)
                .iter()
                .map(|f| value_row(a, names, &f.name, f.value))
                .collect(),
        ),
        Some(ObjectView::ObjectArray { elements, .. }) => Contents::ObjectArray {
            length: elements.len(),
            elements: elements
                .iter()
                .take(ELEMENT_LIMIT)
                .enumerate()
                .map(|(i, id)| (i, reference_cell(a, names, id)))
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
        .map(|l| (l, short_describe(a, names, l)));

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
                .map(|s| value_row(a, names, &s.name, s.value))
                .collect(),
            super_class: info
                .super_class
                .and_then(|s| index.class_object(s))
                .map(|s| (s, short_describe(a, names, s))),
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
        .map(|(f, w)| {
            (
                f,
                reference_label(index, f, o),
                short_describe(a, names, f),
                w,
            )
        })
        .collect();

    let string_value = string_text(a, o);
    Details {
        object: o,
        title: ObjectLabel::of(index, names, o).full(),
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
pub fn primitive_preview(
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
