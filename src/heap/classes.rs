//! The class table: names in Java form, superclass, loader, field layouts, statics.

use std::sync::Arc;

use crate::hprof::{BasicType, Value};

/// Dense index of a class in [`ClassTable`].
pub type ClassIndex = u32;

/// What the instances of a class are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassKind {
    Instance,
    ObjectArray,
    PrimitiveArray(BasicType),
}

/// An instance field declared by one class (superclass fields live in the superclass).
#[derive(Debug, Clone)]
pub struct FieldInfo {
    pub name: Arc<str>,
    pub ty: BasicType,
}

#[derive(Debug, Clone)]
pub struct StaticInfo {
    pub name: Arc<str>,
    pub value: Value,
}

#[derive(Debug, Clone)]
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
#[derive(Debug, Default, Clone)]
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
