//! The class table: names in Java form, superclass, loader, field layouts, statics.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::reader::UNKNOWN_CLASS;
use crate::hprof::{BasicType, ClassDump, Value};

/// Dense index of a class in [`ClassTable`].
pub type ClassIndex = u32;

/// What the instances of a class are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ClassKind {
    Instance,
    ObjectArray,
    PrimitiveArray(BasicType),
}

/// An instance field declared by one class (superclass fields live in the superclass).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FieldInfo {
    pub name: Arc<str>,
    pub ty: BasicType,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StaticInfo {
    pub name: Arc<str>,
    pub value: Value,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ClassInfo {
    /// Identifier of the class object in the dump (0 for classes heapsight synthesised).
    pub id: u64,
    /// Java form: `java.lang.String`, `int[]`, `java.lang.Object[][]`, `Outer$Inner`.
    pub name: String,
    pub kind: ClassKind,
    pub super_class: Option<ClassIndex>,
    /// Identifier of the defining loader object; 0 for the boot loader.
    pub loader_id: u64,
    pub fields: Vec<FieldInfo>,
    pub statics: Vec<StaticInfo>,
    /// Shallow size of one instance as the JVM lays it out (instances only).
    pub instance_size: u32,
    /// File offset of the CLASS DUMP record, if any.
    pub dump_offset: Option<u64>,
}

impl ClassInfo {
    pub fn is_array(&self) -> bool {
        !matches!(self.kind, ClassKind::Instance)
    }

    /// `java.util` for `java.util.HashMap$Node`; empty for the default package and primitives.
    pub fn package(&self) -> &str {
        let base = self.name.trim_end_matches("[]");
        match base.rfind('.') {
            Some(i) => &base[..i],
            None => "",
        }
    }
}

/// Converts a JVM class name (`java/lang/String`, `[Ljava/lang/Object;`, `[[I`) to Java form.
pub fn java_class_name(jvm: &str) -> String {
    let dims = jvm.bytes().take_while(|&b| b == b'[').count();
    if dims == 0 {
        return jvm.replace('/', ".");
    }
    let elem = &jvm[dims..];
    let base = match elem.as_bytes().first() {
        Some(b'L') => elem[1..].trim_end_matches(';').replace('/', "."),
        Some(b'Z') => "boolean".into(),
        Some(b'C') => "char".into(),
        Some(b'F') => "float".into(),
        Some(b'D') => "double".into(),
        Some(b'B') => "byte".into(),
        Some(b'S') => "short".into(),
        Some(b'I') => "int".into(),
        Some(b'J') => "long".into(),
        _ => elem.replace('/', "."),
    };
    let mut s = String::with_capacity(base.len() + 2 * dims);
    s.push_str(&base);
    for _ in 0..dims {
        s.push_str("[]");
    }
    s
}

/// The element type of a one-dimensional primitive array class named in Java form (`int[]`).
pub fn primitive_array_type(java_name: &str) -> Option<BasicType> {
    let base = java_name.strip_suffix("[]")?;
    BasicType::PRIMITIVES
        .into_iter()
        .find(|t| t.java_name() == base)
}

/// All classes of a dump.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct ClassTable {
    pub classes: Vec<ClassInfo>,
    /// Index of `java.lang.Class`, the class of every class object.
    pub class_class: ClassIndex,
    /// The class of each primitive array type, by `BasicType as usize`.
    pub primitive_arrays: [ClassIndex; 12],
}

impl ClassTable {
    pub fn get(&self, i: ClassIndex) -> &ClassInfo {
        &self.classes[i as usize]
    }

    pub fn len(&self) -> usize {
        self.classes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// Classes with exactly this Java name (several loaders may define the same name).
    pub fn by_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = ClassIndex> + 'a {
        self.classes
            .iter()
            .enumerate()
            .filter(move |(_, c)| c.name == name)
            .map(|(i, _)| i as ClassIndex)
    }

    /// Superclass chain starting with `i` itself.
    pub fn chain(&self, i: ClassIndex) -> impl Iterator<Item = ClassIndex> + '_ {
        let mut next = Some(i);
        let mut steps = 0usize;
        std::iter::from_fn(move || {
            let cur = next?;
            steps += 1;
            // A corrupt dump could make a cycle; no real hierarchy is this deep.
            next = if steps > 10_000 {
                None
            } else {
                self.classes[cur as usize].super_class
            };
            Some(cur)
        })
    }

    /// True when `i` is `ancestor` or a subclass of it.
    pub fn is_subclass_of(&self, i: ClassIndex, ancestor: ClassIndex) -> bool {
        self.chain(i).any(|c| c == ancestor)
    }

    /// Instance fields in dump order: the class's own, then each superclass's.
    pub fn all_fields(&self, i: ClassIndex) -> impl Iterator<Item = &FieldInfo> + '_ {
        self.chain(i)
            .flat_map(move |c| self.classes[c as usize].fields.iter())
    }
}

/// Builds the class table from CLASS DUMPs and LOAD CLASS names, adding the classes every
/// dump needs but may lack (primitive arrays, `java.lang.Class`, a placeholder).
pub(super) fn build_class_table<'t>(
    dumps: &[(u64, ClassDump<'_>)],
    names: &FxHashMap<u64, u64>,
    utf8: &dyn Fn(u64) -> Option<&'t str>,
) -> (ClassTable, FxHashMap<u64, ClassIndex>) {
    let mut lookup: FxHashMap<u64, ClassIndex> = FxHashMap::default();
    let mut classes: Vec<ClassInfo> = Vec::with_capacity(dumps.len() + 16);
    let mut field_names: FxHashMap<u64, Arc<str>> = FxHashMap::default();
    let mut name_of = |id: u64| -> Arc<str> {
        field_names
            .entry(id)
            .or_insert_with(|| Arc::from(utf8(id).unwrap_or("<unnamed>")))
            .clone()
    };
    for (offset, d) in dumps {
        if lookup.contains_key(&d.class_id) {
            continue;
        }
        let name = names
            .get(&d.class_id)
            .and_then(|&n| utf8(n))
            .map(java_class_name)
            .unwrap_or_else(|| format!("<class 0x{:x}>", d.class_id));
        let kind = if let Some(t) = primitive_array_type(&name) {
            ClassKind::PrimitiveArray(t)
        } else if name.ends_with("[]") {
            ClassKind::ObjectArray
        } else {
            ClassKind::Instance
        };
        let fields: Vec<FieldInfo> = d
            .instance_fields()
            .map(|f| FieldInfo {
                name: name_of(f.name_id),
                ty: f.ty,
            })
            .collect();
        let statics = d
            .statics()
            .map(|s| StaticInfo {
                name: name_of(s.name_id),
                value: s.value,
            })
            .collect();
        lookup.insert(d.class_id, classes.len() as ClassIndex);
        classes.push(ClassInfo {
            id: d.class_id,
            name,
            kind,
            super_class: None,
            loader_id: d.loader_id,
            fields,
            statics,
            instance_size: 0,
            dump_offset: Some(*offset),
        });
    }
    for (offset, d) in dumps {
        if let (Some(&ci), Some(&si)) = (lookup.get(&d.class_id), lookup.get(&d.super_id)) {
            // Only the CLASS DUMP the class was built from (the first, if duplicated).
            if classes[ci as usize].dump_offset == Some(*offset) && si != ci {
                classes[ci as usize].super_class = Some(si);
            }
        }
    }
    let mut table = ClassTable {
        classes,
        class_class: 0,
        primitive_arrays: [0; 12],
    };
    let synthesize = |table: &mut ClassTable, name: &str, kind: ClassKind| -> ClassIndex {
        if let Some(i) = table.by_name(name).next() {
            return i;
        }
        table.classes.push(ClassInfo {
            id: 0,
            name: name.to_string(),
            kind,
            super_class: None,
            loader_id: 0,
            fields: Vec::new(),
            statics: Vec::new(),
            instance_size: 0,
            dump_offset: None,
        });
        (table.classes.len() - 1) as ClassIndex
    };
    table.class_class = synthesize(&mut table, "java.lang.Class", ClassKind::Instance);
    for t in BasicType::PRIMITIVES {
        let name = format!("{}[]", t.java_name());
        table.primitive_arrays[t as usize] =
            synthesize(&mut table, &name, ClassKind::PrimitiveArray(t));
    }
    synthesize(&mut table, UNKNOWN_CLASS, ClassKind::Instance);
    synthesize(&mut table, "java.lang.Object[]", ClassKind::ObjectArray);
    (table, lookup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_jvm_names() {
        assert_eq!(java_class_name("java/lang/String"), "java.lang.String");
        assert_eq!(java_class_name("[I"), "int[]");
        assert_eq!(java_class_name("[[B"), "byte[][]");
        assert_eq!(java_class_name("[Ljava/lang/Object;"), "java.lang.Object[]");
        assert_eq!(
            java_class_name("[[Ljava/util/HashMap$Node;"),
            "java.util.HashMap$Node[][]"
        );
        assert_eq!(java_class_name("Outer$Inner"), "Outer$Inner");
        // Some writers already use dots.
        assert_eq!(java_class_name("java.lang.String"), "java.lang.String");
        assert_eq!(primitive_array_type("int[]"), Some(BasicType::Int));
        assert_eq!(primitive_array_type("int[][]"), None);
    }
}
