//! Who owns an object: walking up the dominator tree to the static field, the thread or the
//! GC root that keeps it, through class loaders and their class lists (which hold every
//! class of an application, so they own nothing in particular).

use super::{label_of, simple_name};
use crate::analysis::dominators::{SUPER_ROOT, UNREACHABLE};
use crate::analysis::java;
use crate::analysis::paths::reference_label;
use crate::analysis::Analysis;
use crate::heap::{HeapIndex, ObjectId};

/// The static field, thread or root that keeps an object.
#[derive(Debug, Clone)]
pub struct Owner {
    /// Class object (static field), thread, or the root object itself.
    pub object: ObjectId,
    /// `static field com.x.Foo.bar`, `thread "main" (thread-local value)`, `GC root (jni global)`.
    pub text: String,
    /// A short name for titles: `static Foo.bar`, `thread "main"`.
    pub short: String,
    /// Dominator chain from the owner's child down to the object.
    pub chain: Vec<ObjectId>,
}

/// The object is a `java.lang.ClassLoader`.
pub fn is_loader(index: &HeapIndex, o: ObjectId) -> bool {
    let classes = index.classes();
    classes
        .chain(index.class_of(o))
        .any(|c| classes.get(c).name == "java.lang.ClassLoader")
}

/// A class loader's own bookkeeping: a JDK collection or array whose dominators up to a
/// class loader are JDK collections or arrays only (`ClassLoader.classes`, its `Object[]`,
/// `parallelLockMap`, ...). Every class of the loader hangs off them.
pub fn is_loader_bookkeeping(a: &Analysis, o: ObjectId) -> bool {
    let index = &a.index;
    let tree = &a.dominators;
    let mut cur = o;
    for _ in 0..6 {
        let info = index.classes().get(index.class_of(cur));
        let jdk_container = info.is_array()
            || (info.name.starts_with("java.util.") && index.class_for_object(cur).is_none());
        if !jdk_container {
            return false;
        }
        let up = tree.idom(cur);
        if up == SUPER_ROOT || up == UNREACHABLE {
            return false;
        }
        if is_loader(index, up) {
            return true;
        }
        cur = up;
    }
    false
}

/// Class objects, class loaders and a loader's class list: containers the owner of an
/// accumulation is below, never the owner itself.
pub fn is_container(a: &Analysis, o: ObjectId) -> bool {
    let index = &a.index;
    index.class_for_object(o).is_some() || is_loader(index, o) || is_loader_bookkeeping(a, o)
}

/// Walks up from `o` to its owner.
pub fn owner(a: &Analysis, o: ObjectId) -> Owner {
    let index = &a.index;
    let tree = &a.dominators;
    let mut chain = vec![o];
    let mut cur = o;
    loop {
        let up = tree.idom(cur);
        if up == SUPER_ROOT || up == UNREACHABLE || chain.len() > 100_000 {
            chain.reverse();
            let (text, short) = root_text(a, cur);
            return Owner {
                object: cur,
                text,
                short,
                chain,
            };
        }
        if let Some(c) = index.class_for_object(up) {
            let class = &index.classes().get(c).name;
            let label = reference_label(index, up, cur);
            if let Some(field) = label.strip_prefix("static ") {
                let field = field.split(',').next().unwrap_or(field).trim();
                chain.reverse();
                return Owner {
                    object: up,
                    text: format!("static field {class}.{field}"),
                    short: format!("static {}.{field}", simple_name(class)),
                    chain,
                };
            }
        }
        if java::is_thread(index, up) {
            let name = java::field_string(index, up, "name").unwrap_or_default();
            let how = if chain.iter().any(|&x| {
                java::class_name(index, x).starts_with("java.lang.ThreadLocal$ThreadLocalMap")
            }) {
                " (thread-local value)".to_string()
            } else {
                let l = reference_label(index, up, cur);
                if l == "?" {
                    String::new()
                } else {
                    format!(" (field {l})")
                }
            };
            chain.reverse();
            return Owner {
                object: up,
                text: format!("thread \"{name}\" ({}){how}", java::class_name(index, up)),
                short: format!("thread \"{name}\""),
                chain,
            };
        }
        chain.push(up);
        cur = up;
    }
}

fn root_text(a: &Analysis, o: ObjectId) -> (String, String) {
    let index = &a.index;
    if java::is_thread(index, o) {
        let l = label_of(index, o);
        let short = java::field_string(index, o, "name")
            .map(|n| format!("thread \"{n}\""))
            .unwrap_or_else(|| l.clone());
        return (l, short);
    }
    if let Some(c) = index.class_for_object(o) {
        let name = &index.classes().get(c).name;
        return (
            format!("class {name}"),
            format!("class {}", simple_name(name)),
        );
    }
    let kinds: Vec<&str> = a.roots.kinds(o).map(|k| k.as_str()).collect();
    let text = if kinds.is_empty() {
        "several GC roots".to_string()
    } else {
        format!("GC root ({})", kinds.join(", "))
    };
    (text.clone(), text)
}

/// `static IdleConnectionReaper.connectionManagers → ArrayList → Object[]`: the owner and the
/// classes along the chain down to `o`, at most `max` steps shown.
pub fn path_text(a: &Analysis, owner: &Owner, max: usize) -> String {
    let index = &a.index;
    let mut parts = vec![owner.short.clone()];
    let n = owner.chain.len();
    for (i, &x) in owner.chain.iter().enumerate() {
        if n > max && i > 0 && i < n - max / 2 && i >= max / 2 {
            if i == max / 2 {
                parts.push("…".into());
            }
            continue;
        }
        parts.push(simple_name(java::class_name(index, x)).to_string());
    }
    parts.join(" → ")
}
