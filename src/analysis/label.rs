//! How an object is named on screen: class, array length, address, and for threads, class
//! loaders and strings the name a person knows it by. Views build text from these parts
//! instead of parsing `HeapIndex::describe` strings.

use crate::analysis::java;
use crate::heap::{ClassIndex, HeapIndex, ObjectId, ObjectView};

/// Characters of a name (thread, loader, string) kept in a label.
const NAME_LIMIT: usize = 80;

/// What sort of object a label names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    Instance,
    /// An array with its length.
    Array(u32),
    /// A `java.lang.Class` object: `class_name` is the class it stands for.
    Class,
}

/// An object's name in parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectLabel {
    pub kind: LabelKind,
    /// Fully qualified Java name (`java.util.HashMap`, `byte[]`), or the represented class.
    pub class_name: String,
    pub address: u64,
    /// The thread's name, the class loader's name, or a string's text, when there is one.
    pub name: Option<String>,
}

impl ObjectLabel {
    /// The parts of `o`'s label; `names` tells which classes are threads and loaders.
    pub fn of(index: &HeapIndex, names: &NamedClasses, o: ObjectId) -> ObjectLabel {
        let address = index.address(o);
        if let Some(c) = index.class_for_object(o) {
            return ObjectLabel {
                kind: LabelKind::Class,
                class_name: index.classes().get(c).name.clone(),
                address,
                name: None,
            };
        }
        let class = index.class_of(o);
        let class_name = index.classes().get(class).name.clone();
        let kind = match index.view(o) {
            Some(ObjectView::ObjectArray { elements, .. }) => {
                LabelKind::Array(elements.len() as u32)
            }
            Some(ObjectView::PrimitiveArray { length, .. }) => LabelKind::Array(length),
            _ => LabelKind::Instance,
        };
        let name = match names.role(class) {
            Role::Thread | Role::Loader => loader_or_thread_name(index, o),
            Role::String => index
                .read_string_limited(o, NAME_LIMIT + 1)
                .map(|s| quoted(&s)),
            Role::Plain => None,
        };
        ObjectLabel {
            kind,
            class_name,
            address,
            name,
        }
    }

    /// `java.util.HashMap`, `byte[12]`, `class java.lang.String`.
    pub fn type_name(&self) -> String {
        self.decorate(&self.class_name)
    }

    /// `HashMap`, `HashMap$Node[16]`, `class String`: without the package.
    pub fn short_type_name(&self) -> String {
        self.decorate(short_class_name(&self.class_name))
    }

    /// `0x7f3a12c0`.
    pub fn address_text(&self) -> String {
        format!("0x{:x}", self.address)
    }

    /// `java.util.HashMap @ 0x…` as `HeapIndex::describe` writes it, plus the name if any.
    pub fn full(&self) -> String {
        match &self.name {
            Some(n) => format!("{} @ {}  {n}", self.type_name(), self.address_text()),
            None => format!("{} @ {}", self.type_name(), self.address_text()),
        }
    }

    /// `HashMap @ 0x…  name`: for links and boxes.
    pub fn short(&self) -> String {
        match &self.name {
            Some(n) => format!("{} @ {}  {n}", self.short_type_name(), self.address_text()),
            None => format!("{} @ {}", self.short_type_name(), self.address_text()),
        }
    }

    fn decorate(&self, name: &str) -> String {
        match self.kind {
            LabelKind::Instance => name.to_string(),
            LabelKind::Class => format!("class {name}"),
            LabelKind::Array(len) => {
                let base = name.strip_suffix("[]").unwrap_or(name);
                format!("{base}[{len}]")
            }
        }
    }
}

/// `HashMap$Node[]` for `java.util.HashMap$Node[]`: the package left out.
pub fn short_class_name(name: &str) -> &str {
    let base_end = name.find('[').unwrap_or(name.len());
    match name[..base_end].rfind('.') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// GC-root kinds as words: `Java frame, JNI global`.
pub fn root_kinds_text(kinds: impl IntoIterator<Item = crate::hprof::RootKind>) -> String {
    let mut words: Vec<String> = kinds
        .into_iter()
        .map(|k| k.as_str().replace('_', " "))
        .collect();
    words.dedup();
    if words.is_empty() {
        "root".into()
    } else {
        words.join(", ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Plain,
    Thread,
    Loader,
    String,
}

/// Which classes are threads, class loaders or strings: computed once per dump, so a label
/// costs one look-up.
pub struct NamedClasses {
    roles: Vec<Role>,
}

impl NamedClasses {
    pub fn new(index: &HeapIndex) -> NamedClasses {
        let threads = java::subclass_mask(index, &["java.lang.Thread"]);
        let loaders = java::subclass_mask(index, &["java.lang.ClassLoader"]);
        let roles = (0..index.classes().len())
            .map(|c| {
                if threads.get(c).copied().unwrap_or(false) {
                    Role::Thread
                } else if loaders.get(c).copied().unwrap_or(false) {
                    Role::Loader
                } else if index.classes().get(c as ClassIndex).name == "java.lang.String" {
                    Role::String
                } else {
                    Role::Plain
                }
            })
            .collect();
        NamedClasses { roles }
    }

    fn role(&self, c: ClassIndex) -> Role {
        self.roles.get(c as usize).copied().unwrap_or(Role::Plain)
    }

    /// True for subclasses of `java.lang.Thread`.
    pub fn is_thread(&self, c: ClassIndex) -> bool {
        self.role(c) == Role::Thread
    }

    /// True for subclasses of `java.lang.ClassLoader`.
    pub fn is_loader(&self, c: ClassIndex) -> bool {
        self.role(c) == Role::Loader
    }
}

/// A thread's `name`; a loader's `name`, or the web application it serves (Tomcat's
/// `contextName`, Jetty's `_name`).
fn loader_or_thread_name(index: &HeapIndex, o: ObjectId) -> Option<String> {
    ["name", "contextName", "_name"]
        .iter()
        .find_map(|f| java::field_string(index, o, f))
        .filter(|s| !s.is_empty())
        .map(|s| quoted(&s))
}

fn quoted(s: &str) -> String {
    quote(s, NAME_LIMIT)
}

/// `"text"`, cut at `limit` characters; anything but printable ASCII is escaped (`\u{e9}`),
/// so a label never needs a glyph the fonts may lack.
pub fn quote(s: &str, limit: usize) -> String {
    let cut = s.chars().count() > limit;
    let mut body = String::new();
    for c in s.chars().take(limit) {
        match c {
            '"' => body.push_str("\\\""),
            '\\' => body.push_str("\\\\"),
            c if c == ' ' || c.is_ascii_graphic() => body.push(c),
            '\n' => body.push_str("\\n"),
            '\t' => body.push_str("\\t"),
            c => body.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    format!("\"{body}\"{}", if cut { "…" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names() {
        assert_eq!(short_class_name("java.util.HashMap"), "HashMap");
        assert_eq!(
            short_class_name("java.util.HashMap$Node[]"),
            "HashMap$Node[]"
        );
        assert_eq!(short_class_name("int[]"), "int[]");
        assert_eq!(short_class_name("Main"), "Main");
    }

    #[test]
    fn decorations() {
        let l = ObjectLabel {
            kind: LabelKind::Array(16),
            class_name: "java.util.HashMap$Node[]".into(),
            address: 0x10,
            name: None,
        };
        assert_eq!(l.type_name(), "java.util.HashMap$Node[16]");
        assert_eq!(l.short(), "HashMap$Node[16] @ 0x10");
        let c = ObjectLabel {
            kind: LabelKind::Class,
            class_name: "java.lang.String".into(),
            address: 0x20,
            name: None,
        };
        assert_eq!(c.short_type_name(), "class String");
    }

    #[test]
    fn names_are_quoted_in_ascii() {
        assert_eq!(quoted("main"), "\"main\"");
        assert_eq!(quoted("caf\u{e9} \"x\""), "\"caf\\u{e9} \\\"x\\\"\"");
    }
}
