//! The JVM's system properties as the dump holds them (`java.version`, `java.vm.name`, ...):
//! read here, in the layer that reads the dump, because the object layout depends on the
//! JDK they name; the analysis (JVM advice) reuses them.

use std::collections::BTreeMap;

use super::{HeapIndex, ObjectId, ObjectView};

/// Most properties a map may give (a JVM has a few hundred).
const MAX_PROPERTIES: usize = 10_000;
/// Longest property value kept.
const MAX_VALUE_CHARS: usize = 8192;

/// Where JDKs keep the properties: the copy saved at start-up (JDK 9+, then JDK 8), then
/// `System.props`. The first source that has a key wins.
const SOURCES: &[(&str, &str)] = &[
    ("jdk.internal.misc.VM", "savedProps"),
    ("sun.misc.VM", "savedProps"),
    ("java.lang.System", "props"),
];

/// Every `String` → `String` system property the dump holds.
pub fn system_properties(index: &HeapIndex) -> BTreeMap<String, String> {
    let mut all = BTreeMap::new();
    for &(class, field) in SOURCES {
        let Some(map) = static_object(index, class, field) else {
            continue;
        };
        for (k, v) in string_entries(index, map) {
            all.entry(k).or_insert(v);
        }
    }
    all
}

/// A static reference field's object, from the first class called `class` that has it.
fn static_object(index: &HeapIndex, class: &str, field: &str) -> Option<ObjectId> {
    let classes = index.classes();
    classes.by_name(class).find_map(|c| {
        let s = classes.get(c).statics.iter().find(|s| &*s.name == field)?;
        index.find(s.value.as_object()?)
    })
}

/// The `String` pairs of a `Properties` (JDK 8: a `Hashtable`; JDK 9+: a `ConcurrentHashMap`
/// inside), a `HashMap`, a `ConcurrentHashMap`, an immutable map or a wrapper around one.
fn string_entries(index: &HeapIndex, map: ObjectId) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut map = map;
    // Wrappers (unmodifiable maps, JDK 9+ Properties) hold the real map in `m` or `map`.
    for _ in 0..4 {
        if index.field_object(map, "table").is_some() {
            break;
        }
        match index
            .field_object(map, "map")
            .or_else(|| index.field_object(map, "m"))
        {
            Some(inner) => map = inner,
            None => break,
        }
    }
    let Some(table) = index.field_object(map, "table") else {
        return out;
    };
    let Some(ObjectView::ObjectArray { elements, .. }) = index.view(table) else {
        return out;
    };
    let slots: Vec<Option<ObjectId>> = elements
        .iter()
        .map(|id| if id == 0 { None } else { index.find(id) })
        .collect();
    let text = |o: Option<ObjectId>| index.read_string_limited(o?, MAX_VALUE_CHARS);
    let class = &index.classes().get(index.class_of(map)).name;
    if class.starts_with("java.util.ImmutableCollections$") {
        // Keys and values alternate in the table.
        for kv in slots.chunks(2) {
            if let [k, v] = kv {
                if let (Some(k), Some(v)) = (text(*k), text(*v)) {
                    out.push((k, v));
                }
            }
        }
        return out;
    }
    let mut steps = 0usize;
    for head in slots.into_iter().flatten() {
        let mut node = Some(head);
        while let Some(n) = node {
            steps += 1;
            if out.len() >= MAX_PROPERTIES || steps > MAX_PROPERTIES * 4 {
                return out;
            }
            let Some(key) = index.field(n, "key") else {
                // ConcurrentHashMap$TreeBin: its nodes hang off `first`.
                node = index.field_object(n, "first");
                continue;
            };
            let key = key.as_object().and_then(|id| index.find(id));
            // HashMap and Hashtable call it `value`, ConcurrentHashMap `val`.
            let value = index
                .field_object(n, "value")
                .or_else(|| index.field_object(n, "val"));
            if let (Some(k), Some(v)) = (text(key), text(value)) {
                out.push((k, v));
            }
            node = index.field_object(n, "next");
        }
    }
    out
}
