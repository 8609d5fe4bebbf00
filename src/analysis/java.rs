//! Reading well-known Java objects back from the heap: strings, enums, boxed numbers, maps
//! (`HashMap`, `LinkedHashMap`, `ConcurrentHashMap`, `Hashtable`, `Properties`, `TreeMap`,
//! `WeakHashMap`, `IdentityHashMap`, immutable and wrapped maps), lists and sets (`ArrayList`,
//! `Vector`, `CopyOnWriteArrayList`, `LinkedList`, `Arrays.asList`, immutable and wrapped
//! collections, queues), `ThreadLocal` maps, and "all instances of these classes".
//!
//! Everything is best effort: an unknown layout gives `None` or an empty list, never a panic.
//! Walks are bounded (`limit`) so a corrupt or cyclic structure cannot hang the caller.

use rayon::prelude::*;

use crate::heap::{ClassIndex, ClassKind, FieldValue, HeapIndex, ObjectId, ObjectView};
use crate::hprof::Value;

/// A resolved, non-null reference.
pub fn resolve(index: &HeapIndex, v: Option<Value>) -> Option<ObjectId> {
    match v? {
        Value::Object(0) => None,
        Value::Object(id) => index.find(id),
        _ => None,
    }
}

/// The Java name of an object's class.
pub fn class_name(index: &HeapIndex, o: ObjectId) -> &str {
    &index.classes().get(index.class_of(o)).name
}

/// An object's fields, read once, for several lookups.
pub struct Fields(pub Vec<FieldValue>);

impl Fields {
    pub fn of(index: &HeapIndex, o: ObjectId) -> Fields {
        Fields(index.fields(o))
    }

    pub fn get(&self, name: &str) -> Option<Value> {
        self.0.iter().find(|f| &*f.name == name).map(|f| f.value)
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|f| &*f.name == name)
    }

    pub fn object(&self, index: &HeapIndex, name: &str) -> Option<ObjectId> {
        resolve(index, self.get(name))
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name)?.as_i64()
    }

    pub fn boolean(&self, name: &str) -> Option<bool> {
        match self.get(name)? {
            Value::Boolean(b) => Some(b),
            v => v.as_i64().map(|i| i != 0),
        }
    }

    pub fn string(&self, index: &HeapIndex, name: &str) -> Option<String> {
        index.read_string_limited(self.object(index, name)?, 4096)
    }
}

pub fn field_int(index: &HeapIndex, o: ObjectId, name: &str) -> Option<i64> {
    index.field(o, name)?.as_i64()
}

pub fn field_string(index: &HeapIndex, o: ObjectId, name: &str) -> Option<String> {
    index.read_string_limited(index.field_object(o, name)?, 4096)
}

/// The constant name of an enum instance (`Enum.name`).
pub fn enum_name(index: &HeapIndex, o: ObjectId) -> Option<String> {
    field_string(index, o, "name")
}

/// The value of a boxed number or `AtomicLong`/`AtomicInteger`.
pub fn boxed_long(index: &HeapIndex, o: ObjectId) -> Option<i64> {
    field_int(index, o, "value")
}

/// Classes with this exact name (any loader).
pub fn classes_named(index: &HeapIndex, name: &str) -> Vec<ClassIndex> {
    index.classes().by_name(name).collect()
}

/// Per class: true when the class is one of `names` or a subclass of one.
pub fn subclass_mask(index: &HeapIndex, names: &[&str]) -> Vec<bool> {
    let classes = index.classes();
    let mut direct = vec![false; classes.len()];
    for (i, c) in classes.classes.iter().enumerate() {
        if names.contains(&c.name.as_str()) {
            direct[i] = true;
        }
    }
    (0..classes.len() as ClassIndex)
        .map(|c| {
            matches!(classes.get(c).kind, ClassKind::Instance)
                && classes.chain(c).any(|a| direct[a as usize])
        })
        .collect()
}

/// Per class: true when its name satisfies `pred` (instance classes only).
pub fn name_mask(index: &HeapIndex, pred: impl Fn(&str) -> bool) -> Vec<bool> {
    index
        .classes()
        .classes
        .iter()
        .map(|c| matches!(c.kind, ClassKind::Instance) && pred(&c.name))
        .collect()
}

/// `f` of each object (in address order), keeping the `Some`s: in parallel over runs of
/// objects, dropping the file pages each run read. For rules that read many objects.
pub fn read_objects<R: Send>(
    index: &HeapIndex,
    objects: &[ObjectId],
    f: impl Fn(ObjectId) -> Option<R> + Sync,
) -> Vec<R> {
    const RUN: usize = 1 << 14;
    objects
        .par_chunks(RUN)
        .flat_map_iter(|run| {
            let out: Vec<R> = run.iter().filter_map(|&o| f(o)).collect();
            index.release_pages(run.iter().copied());
            out
        })
        .collect()
}

/// All objects whose class is marked in `mask`, in address order
/// ([`HeapIndex::objects_of_classes`]).
pub fn instances(index: &HeapIndex, mask: &[bool]) -> Vec<ObjectId> {
    index.objects_of_classes(mask)
}

/// Instances of classes named exactly `name` or subclasses of them.
pub fn instances_of(index: &HeapIndex, names: &[&str]) -> Vec<ObjectId> {
    instances(index, &subclass_mask(index, names))
}

/// `read` of a static field, from the first class called `class` where it gives something.
fn static_field<T>(
    index: &HeapIndex,
    class: &str,
    field: &str,
    read: impl Fn(Value) -> Option<T>,
) -> Option<T> {
    index.classes().by_name(class).find_map(|c| {
        index
            .classes()
            .get(c)
            .statics
            .iter()
            .find(|s| &*s.name == field)
            .and_then(|s| read(s.value))
    })
}

/// A static field's object, from the first class called `class` that has it.
pub fn static_object(index: &HeapIndex, class: &str, field: &str) -> Option<ObjectId> {
    static_field(index, class, field, |v| resolve(index, Some(v)))
}

/// A static field's primitive value.
pub fn static_int(index: &HeapIndex, class: &str, field: &str) -> Option<i64> {
    static_field(index, class, field, |v| v.as_i64())
}

/// Elements of an object array (nulls skipped), at most `limit`.
pub fn array_elements(index: &HeapIndex, o: ObjectId, limit: usize) -> Vec<ObjectId> {
    match index.view(o) {
        Some(ObjectView::ObjectArray { elements, .. }) => elements
            .iter()
            .filter(|&id| id != 0)
            .filter_map(|id| index.find(id))
            .take(limit)
            .collect(),
        _ => Vec::new(),
    }
}

/// Elements of an object array with their slots (nulls as `None`), at most `limit` slots.
fn array_slots(index: &HeapIndex, o: ObjectId, limit: usize) -> Vec<Option<ObjectId>> {
    match index.view(o) {
        Some(ObjectView::ObjectArray { elements, .. }) => elements
            .iter()
            .take(limit)
            .map(|id| if id == 0 { None } else { index.find(id) })
            .collect(),
        _ => Vec::new(),
    }
}

/// Key/value pairs of a map, at most `limit`. `None` when `o` is not a map heapsight knows.
pub fn map_entries(
    index: &HeapIndex,
    o: ObjectId,
    limit: usize,
) -> Option<Vec<(Option<ObjectId>, Option<ObjectId>)>> {
    map_entries_depth(index, o, limit, 0)
}

fn map_entries_depth(
    index: &HeapIndex,
    o: ObjectId,
    limit: usize,
    depth: u32,
) -> Option<Vec<(Option<ObjectId>, Option<ObjectId>)>> {
    if depth > 4 {
        return None;
    }
    let name = class_name(index, o).to_string();
    let f = Fields::of(index, o);
    let mut out = Vec::new();
    // Wrappers: Collections.unmodifiableMap / synchronizedMap, ProcessEnvironment's
    // StringEnvironment, JDK 9+ Properties (a ConcurrentHashMap inside).
    for inner in ["m", "map"] {
        if let Some(i) = f.object(index, inner) {
            if f.object(index, "table").is_none() && !f.has("root") {
                return map_entries_depth(index, i, limit, depth + 1);
            }
        }
    }
    if name.starts_with("java.util.ImmutableCollections$Map1") {
        out.push((f.object(index, "k0"), f.object(index, "v0")));
        return Some(out);
    }
    if f.has("root") && name.contains("TreeMap") {
        let mut stack: Vec<ObjectId> = f.object(index, "root").into_iter().collect();
        let mut seen = 0usize;
        while let Some(n) = stack.pop() {
            seen += 1;
            if out.len() >= limit || seen > limit.saturating_mul(2) {
                break;
            }
            let nf = Fields::of(index, n);
            out.push((nf.object(index, "key"), nf.object(index, "value")));
            stack.extend(nf.object(index, "left"));
            stack.extend(nf.object(index, "right"));
        }
        return Some(out);
    }
    let table = f.object(index, "table")?;
    if name == "java.util.IdentityHashMap" || name.starts_with("java.util.ImmutableCollections$") {
        let slots = array_slots(index, table, limit.saturating_mul(2));
        for kv in slots.chunks(2) {
            if let [k, v] = kv {
                if k.is_some() {
                    out.push((*k, *v));
                }
            }
        }
        return Some(out);
    }
    let mut steps = 0usize;
    for head in array_elements(index, table, usize::MAX) {
        let mut node = Some(head);
        while let Some(n) = node {
            steps += 1;
            if out.len() >= limit || steps > limit.saturating_mul(4) {
                return Some(out);
            }
            let nf = Fields::of(index, n);
            if !nf.has("key") {
                // ConcurrentHashMap$TreeBin: its nodes hang off `first`.
                node = nf.object(index, "first");
                continue;
            }
            // WeakHashMap$Entry keeps its key in `referent`.
            let key = nf
                .object(index, "key")
                .or_else(|| nf.object(index, "referent"));
            out.push((key, nf.object(index, "value")));
            node = nf.object(index, "next");
        }
    }
    Some(out)
}

/// Elements of a list, set, queue or array (a map gives its values), at most `limit`.
/// `None` when `o` is not a collection heapsight knows.
pub fn elements(index: &HeapIndex, o: ObjectId, limit: usize) -> Option<Vec<ObjectId>> {
    elements_depth(index, o, limit, 0)
}

fn elements_depth(
    index: &HeapIndex,
    o: ObjectId,
    limit: usize,
    depth: u32,
) -> Option<Vec<ObjectId>> {
    if depth > 4 {
        return None;
    }
    let info = index.classes().get(index.class_of(o));
    match info.kind {
        ClassKind::ObjectArray => return Some(array_elements(index, o, limit)),
        ClassKind::PrimitiveArray(_) => return None,
        ClassKind::Instance => {}
    }
    let name = info.name.clone();
    let f = Fields::of(index, o);
    let sized = |arr: ObjectId, size: Option<i64>| {
        let n = size.map(|s| s.max(0) as usize).unwrap_or(usize::MAX);
        array_elements(index, arr, n.min(limit))
    };
    if let Some(arr) = f.object(index, "elementData") {
        let size = f.int("size").or_else(|| f.int("elementCount"));
        return Some(sized(arr, size));
    }
    if name.ends_with("CopyOnWriteArrayList") {
        return Some(
            f.object(index, "array")
                .map_or_else(Vec::new, |a| sized(a, None)),
        );
    }
    if name == "java.util.Arrays$ArrayList" {
        return Some(
            f.object(index, "a")
                .map_or_else(Vec::new, |a| sized(a, None)),
        );
    }
    if name.starts_with("java.util.ImmutableCollections$") {
        if let Some(arr) = f.object(index, "elements") {
            return Some(sized(arr, None));
        }
        if f.has("e0") {
            return Some(
                [f.object(index, "e0"), f.object(index, "e1")]
                    .into_iter()
                    .flatten()
                    .collect(),
            );
        }
    }
    if name == "java.util.ArrayDeque" {
        return Some(
            f.object(index, "elements")
                .map_or_else(Vec::new, |a| sized(a, None)),
        );
    }
    // Linked structures: LinkedList, ConcurrentLinkedQueue, LinkedBlockingQueue, ...
    let first = f
        .object(index, "first")
        .or_else(|| f.object(index, "head"))
        .filter(|&n| Fields::of(index, n).has("item"));
    if let Some(first) = first {
        let mut out = Vec::new();
        let mut node = Some(first);
        let mut steps = 0usize;
        while let Some(n) = node {
            steps += 1;
            if out.len() >= limit || steps > limit.saturating_mul(2) {
                break;
            }
            let nf = Fields::of(index, n);
            if !nf.has("item") {
                break;
            }
            out.extend(nf.object(index, "item"));
            node = nf.object(index, "next").filter(|&x| x != n);
        }
        return Some(out);
    }
    // Sets over maps: HashSet, LinkedHashSet, TreeSet (`m`), CopyOnWriteArraySet (`al`),
    // ConcurrentHashMap.KeySetView; wrappers (`c`, `list`).
    if name.ends_with("Set") || name.contains("Set$") || name.contains("KeySetView") {
        for inner in ["map", "m"] {
            if let Some(m) = f.object(index, inner) {
                return map_entries_depth(index, m, limit, depth + 1)
                    .map(|e| e.into_iter().filter_map(|(k, _)| k).collect());
            }
        }
    }
    for inner in ["al", "list", "c"] {
        if let Some(i) = f.object(index, inner) {
            return elements_depth(index, i, limit, depth + 1);
        }
    }
    map_entries_depth(index, o, limit, depth + 1)
        .map(|e| e.into_iter().filter_map(|(_, v)| v).collect())
}

/// One entry of a thread's `ThreadLocalMap`.
#[derive(Debug, Clone, Copy)]
pub struct ThreadLocalEntry {
    pub entry: ObjectId,
    /// The `ThreadLocal` (weakly held; `None` once collected: a stale entry).
    pub key: Option<ObjectId>,
    pub value: Option<ObjectId>,
}

/// Entries of a thread's `threadLocals` and `inheritableThreadLocals`.
pub fn thread_locals(index: &HeapIndex, thread: ObjectId) -> Vec<ThreadLocalEntry> {
    let f = Fields::of(index, thread);
    let mut out = Vec::new();
    for map_field in ["threadLocals", "inheritableThreadLocals"] {
        let Some(map) = f.object(index, map_field) else {
            continue;
        };
        let Some(table) = index.field_object(map, "table") else {
            continue;
        };
        for entry in array_elements(index, table, usize::MAX) {
            let ef = Fields::of(index, entry);
            out.push(ThreadLocalEntry {
                entry,
                key: ef.object(index, "referent"),
                value: ef.object(index, "value"),
            });
        }
    }
    out
}

/// `String`→`String` pairs of a `Properties` or `Map<String, String>`.
pub fn string_map(index: &HeapIndex, o: ObjectId, limit: usize) -> Vec<(String, String)> {
    map_entries(index, o, limit)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| {
            let k = read_text(index, k?)?;
            let v = read_text(index, v?)?;
            Some((k, v))
        })
        .collect()
}

/// Text of a `String`, or of `ProcessEnvironment`'s `Variable`/`Value` wrappers (`str`).
pub fn read_text(index: &HeapIndex, o: ObjectId) -> Option<String> {
    index
        .read_string_limited(o, 8192)
        .or_else(|| field_string(index, o, "str"))
}

/// Thread name with runs of digits replaced by `N`: `[_client_][generic][T#N]`,
/// `http-nio-8080-exec-N`, `pool-N-thread-N`.
pub fn thread_name_pattern(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_digits = false;
    for ch in name.chars() {
        if ch.is_ascii_digit() {
            if !in_digits {
                out.push('N');
            }
            in_digits = true;
        } else {
            out.push(ch);
            in_digits = false;
        }
    }
    out
}

/// The object is `java.lang.Thread` or a subclass.
pub fn is_thread(index: &HeapIndex, o: ObjectId) -> bool {
    let classes = index.classes();
    classes
        .chain(index.class_of(o))
        .any(|c| classes.get(c).name == "java.lang.Thread")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_name_patterns() {
        assert_eq!(
            thread_name_pattern("[_client_][generic][T#12]"),
            "[_client_][generic][T#N]"
        );
        assert_eq!(
            thread_name_pattern("http-nio-8080-exec-10"),
            "http-nio-N-exec-N"
        );
        assert_eq!(thread_name_pattern("main"), "main");
    }
}
