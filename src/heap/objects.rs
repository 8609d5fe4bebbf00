//! Reading one object's contents back from the dump, on demand.

use std::sync::Arc;

use super::classes::{ClassIndex, ClassKind};
use super::{HeapIndex, ObjectId};
use crate::hprof::{BasicType, IdList, SubRecord, SubRecordIter, Value};

/// A named field value of an instance.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldValue {
    pub name: Arc<str>,
    /// Class that declares the field.
    pub declared_by: ClassIndex,
    pub value: Value,
}

/// An object's contents as stored in the dump.
#[derive(Debug, Clone)]
pub enum ObjectView<'a> {
    Instance {
        class: ClassIndex,
        /// Raw field bytes: this class's fields first, then each superclass's.
        data: &'a [u8],
    },
    ObjectArray {
        class: ClassIndex,
        elements: IdList<'a>,
    },
    PrimitiveArray {
        class: ClassIndex,
        elem: BasicType,
        length: u32,
        data: &'a [u8],
    },
    Class {
        class: ClassIndex,
    },
}

impl HeapIndex {
    /// Re-reads the object's sub-record from the mapped dump.
    pub fn view(&self, o: ObjectId) -> Option<ObjectView<'_>> {
        let offset = self.offsets.get(o as usize)? as usize;
        let data = self.source.bytes().get(offset..)?;
        let mut it = SubRecordIter::new(data, offset as u64, self.header.id_size);
        let class = self.class_of(o);
        Some(match it.next()?.ok()?.record {
            SubRecord::Instance { fields, .. } => ObjectView::Instance {
                class,
                data: fields,
            },
            SubRecord::ObjectArray { elements, .. } => ObjectView::ObjectArray { class, elements },
            SubRecord::PrimitiveArray {
                elem, length, data, ..
            } => ObjectView::PrimitiveArray {
                class,
                elem,
                length,
                data,
            },
            SubRecord::Class(_) => ObjectView::Class {
                class: self.class_for_object(o)?,
            },
            _ => return None,
        })
    }

    /// Every instance field with its value, in dump order (own class first).
    pub fn fields(&self, o: ObjectId) -> Vec<FieldValue> {
        let Some(ObjectView::Instance { class, data }) = self.view(o) else {
            return Vec::new();
        };
        let id_size = self.header.id_size;
        let mut out = Vec::new();
        let mut pos = 0usize;
        for c in self.classes.chain(class) {
            for f in &self.classes.get(c).fields {
                let Some(value) = data
                    .get(pos..)
                    .and_then(|b| Value::decode(f.ty, b, id_size))
                else {
                    return out;
                };
                pos += f.ty.size_in_dump(id_size);
                out.push(FieldValue {
                    name: f.name.clone(),
                    declared_by: c,
                    value,
                });
            }
        }
        out
    }

    /// The value of the first instance field called `name` (the most derived class wins).
    pub fn field(&self, o: ObjectId, name: &str) -> Option<Value> {
        let ObjectView::Instance { class, data } = self.view(o)? else {
            return None;
        };
        let id_size = self.header.id_size;
        let mut pos = 0usize;
        for c in self.classes.chain(class) {
            for f in &self.classes.get(c).fields {
                if &*f.name == name {
                    return Value::decode(f.ty, data.get(pos..)?, id_size);
                }
                pos += f.ty.size_in_dump(id_size);
            }
        }
        None
    }

    /// The object a reference field points to, if it is in the dump.
    pub fn field_object(&self, o: ObjectId, name: &str) -> Option<ObjectId> {
        self.find(self.field(o, name)?.as_object()?)
    }

    /// The text of a `java.lang.String` (JDK 9+ compact strings and JDK 8 `char[]` both).
    pub fn read_string(&self, o: ObjectId) -> Option<String> {
        self.read_string_limited(o, usize::MAX)
    }

    /// Like `read_string`, keeping at most `max_chars` characters.
    pub fn read_string_limited(&self, o: ObjectId, max_chars: usize) -> Option<String> {
        if self.classes.get(self.class_of(o)).name != "java.lang.String" {
            return None;
        }
        let value = self.field_object(o, "value")?;
        let coder = self.field(o, "coder").and_then(|v| v.as_i64());
        let ObjectView::PrimitiveArray { elem, data, .. } = self.view(value)? else {
            return None;
        };
        Some(match (elem, coder) {
            // Compact strings keep UTF-16 in a byte[] in the JVM's native (little-endian) order.
            (BasicType::Byte, Some(1)) => decode_utf16(data, max_chars, true),
            (BasicType::Byte, _) => data.iter().take(max_chars).map(|&b| b as char).collect(),
            (BasicType::Char, _) => decode_utf16(data, max_chars, false),
            _ => return None,
        })
    }

    /// Text of a `java.lang.String`, or of a `char[]` (JDK 8 keeps some names, such as
    /// `Thread.name`, as a bare char array).
    pub fn read_text(&self, o: ObjectId, max_chars: usize) -> Option<String> {
        if let Some(s) = self.read_string_limited(o, max_chars) {
            return Some(s);
        }
        match self.view(o)? {
            ObjectView::PrimitiveArray {
                elem: BasicType::Char,
                data,
                ..
            } => Some(decode_utf16(data, max_chars, false)),
            _ => None,
        }
    }

    /// The array length, for arrays.
    pub fn array_length(&self, o: ObjectId) -> Option<u32> {
        match self.view(o)? {
            ObjectView::ObjectArray { elements, .. } => Some(elements.len() as u32),
            ObjectView::PrimitiveArray { length, .. } => Some(length),
            _ => None,
        }
    }

    /// `java.lang.String@0x12345678`-style label.
    pub fn describe(&self, o: ObjectId) -> String {
        let class = self.classes.get(self.class_of(o));
        if let Some(c) = self.class_for_object(o) {
            return format!(
                "class {} @ 0x{:x}",
                self.classes.get(c).name,
                self.address(o)
            );
        }
        match class.kind {
            ClassKind::Instance => format!("{} @ 0x{:x}", class.name, self.address(o)),
            _ => {
                let base = class.name.strip_suffix("[]").unwrap_or(&class.name);
                // Without the dump the length is unknown: say nothing rather than 0.
                let len = self
                    .array_length(o)
                    .map_or(String::new(), |n| n.to_string());
                format!("{base}[{len}] @ 0x{:x}", self.address(o))
            }
        }
    }
}

fn decode_utf16(data: &[u8], max_chars: usize, little_endian: bool) -> String {
    // The dump writes char[] elements big-endian.
    let units = data.chunks_exact(2).map(|b| {
        if little_endian {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        }
    });
    char::decode_utf16(units)
        .take(max_chars)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}
