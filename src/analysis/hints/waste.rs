//! Wasted memory: duplicate strings, empty collections, big primitive arrays.

use std::hash::Hasher;

use rayon::prelude::*;
use rustc_hash::FxHasher;

use super::{evidence, hint, Category, Certainty, Hint, Stake};
use crate::analysis::java;
use crate::analysis::Analysis;
use crate::format::{bytes, percent, thousands};
use crate::heap::{ClassKind, HeapIndex, ObjectId, ObjectView};

/// Waste below this many bytes is never reported.
pub const WASTE_MIN_BYTES: u64 = 4 << 20;
/// ... nor below this share of the live heap.
pub const WASTE_SHARE: f64 = 0.05;
/// A primitive array this big (and this share of the live heap) is worth a look.
pub const BIG_ARRAY_BYTES: u64 = 10 << 20;

pub fn worth(wasted: u64, reachable: u64) -> bool {
    wasted >= WASTE_MIN_BYTES && wasted as f64 >= reachable as f64 * WASTE_SHARE
}

/// Arrays that may back a string (`byte[]`, `char[]` of up to 4096 elements) whose contents
/// occur more than once, as (hash of the contents, length, array), sorted. Needs only the
/// index: `Analysis::run` keys the arrays as the pass over the dump for the outgoing
/// references reads them; the rule then keeps the arrays a `String` owns.
pub struct RepeatedValues {
    keyed: Vec<(u64, u32, ObjectId)>,
}

/// Entries of [`RepeatedValues`] with the same contents.
fn same_value(a: &(u64, u32, ObjectId), b: &(u64, u32, ObjectId)) -> bool {
    (a.0, a.1) == (b.0, b.1)
}

/// Arrays longer than this are not string values worth comparing.
const STRING_VALUE_MAX_LEN: u32 = 4096;

/// Keys the contents of the arrays [`RepeatedValues`] compares.
pub struct ValueKeys {
    /// `byte[]` and `char[]`, by class index.
    classes: Vec<bool>,
}

impl ValueKeys {
    pub fn new(index: &HeapIndex) -> ValueKeys {
        let classes = index
            .classes()
            .classes
            .iter()
            .map(|c| {
                matches!(
                    c.kind,
                    ClassKind::PrimitiveArray(crate::hprof::BasicType::Byte)
                        | ClassKind::PrimitiveArray(crate::hprof::BasicType::Char)
                )
            })
            .collect();
        ValueKeys { classes }
    }

    /// (hash of the contents, length, `o`) when `o` is an array that may back a string.
    #[inline]
    pub fn key(&self, index: &HeapIndex, o: ObjectId) -> Option<(u64, u32, ObjectId)> {
        if !*self.classes.get(index.class_of(o) as usize)? {
            return None;
        }
        let Some(ObjectView::PrimitiveArray { data, length, .. }) = index.view(o) else {
            return None;
        };
        if length > STRING_VALUE_MAX_LEN {
            return None;
        }
        let mut h = FxHasher::default();
        h.write(data);
        Some((h.finish(), length, o))
    }
}

impl RepeatedValues {
    /// From the keys [`ValueKeys::key`] gave, in any order.
    pub fn from_keys(mut keyed: Vec<(u64, u32, ObjectId)>) -> RepeatedValues {
        keyed.par_sort_unstable();
        // Only values seen twice or more can be duplicates, whichever arrays the rule keeps.
        let keyed = keyed
            .chunk_by(same_value)
            .filter(|group| group.len() > 1)
            .flatten()
            .copied()
            .collect();
        RepeatedValues { keyed }
    }

    /// Adds the values (`analysis.repeated`) to an index file.
    pub fn save(&self, w: &mut crate::heap::store::StoreWriter<'_>) {
        w.bytes(
            "analysis.repeated",
            postcard::to_stdvec(&self.keyed).unwrap_or_default(),
        );
    }

    /// The values saved by [`RepeatedValues::save`].
    pub fn load(
        store: &crate::heap::store::Store,
        objects: usize,
    ) -> Result<RepeatedValues, crate::heap::store::StoreError> {
        let keyed: Vec<(u64, u32, ObjectId)> =
            postcard::from_bytes(store.bytes("analysis.repeated")?)
                .ok()
                .filter(|k: &Vec<(u64, u32, ObjectId)>| k.iter().all(|e| (e.2 as usize) < objects))
                .ok_or_else(|| crate::heap::store::StoreError::Corrupt {
                    path: store.path().display().to_string(),
                    what: "analysis.repeated unreadable".into(),
                })?;
        Ok(RepeatedValues { keyed })
    }
}

fn duplicate_strings(a: &Analysis, out: &mut Vec<Hint>) {
    let index = &a.index;
    let tree = &a.dominators;
    let reachable = super::reachable_bytes(a);
    let string_classes: Vec<u32> = java::classes_named(index, "java.lang.String");
    let Some(&string_class) = string_classes.first() else {
        return;
    };
    let string_size = index.classes().get(string_class).instance_size as u64;
    // String values: arrays dominated by a String.
    let owned = |arr: ObjectId| {
        let d = tree.idom(arr);
        tree.is_reachable(arr)
            && (d as usize) < index.object_count()
            && index.class_of(d) == string_class
    };
    // (wasted, count, sample); on every core (millions of arrays, each an `idom` lookup).
    let mut groups: Vec<(u64, u64, ObjectId)> = a
        .repeated_values
        .keyed
        .par_chunk_by(same_value)
        .filter_map(|group| {
            let mut owned_arrays = group.iter().map(|e| e.2).filter(|&arr| owned(arr));
            let sample = owned_arrays.next()?;
            let n = 1 + owned_arrays.count() as u64;
            let per = index.shallow_size(sample) + string_size;
            (n > 1).then_some(((n - 1) * per, n, sample))
        })
        .collect();
    let wasted: u64 = groups.iter().map(|g| g.0).sum();
    if !worth(wasted, reachable) {
        return;
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.0));
    let mut h = hint(
        "duplicate_strings",
        Category::Waste,
        Certainty::Possible,
        Stake::Wasted,
        format!(
            "Duplicate strings waste {} ({} of the live heap)",
            bytes(wasted),
            percent(wasted, reachable)
        ),
    );
    h.retained_bytes = wasted;
    h.numbers.insert("wasted_bytes".into(), wasted);
    h.numbers
        .insert("distinct_duplicated".into(), groups.len() as u64);
    let mut examples = Vec::new();
    for &(w, n, arr) in groups.iter().take(5) {
        let s = tree.idom(arr);
        let text = index
            .read_string_limited(s, 60)
            .unwrap_or_default()
            .replace('\n', " ");
        examples.push(format!("\"{text}\" ×{} ({})", thousands(n), bytes(w)));
        h.evidence.push(evidence(
            a,
            s,
            "duplicated string",
            Some(format!("\"{text}\" ×{}", thousands(n))),
        ));
    }
    h.explanation = format!(
        "{} distinct string values exist in several copies; the extra copies take {}. Top: {}.",
        thousands(groups.len() as u64),
        bytes(wasted),
        examples.join(", ")
    );
    h.fix = "Intern or canonicalise values that repeat (enums, codes, header names, JSON \
             keys); with G1, -XX:+UseStringDeduplication shares the arrays of long-lived \
             strings."
        .to_string();
    out.push(h);
}

fn empty_collections(a: &Analysis, out: &mut Vec<Hint>) {
    let index = &a.index;
    let tree = &a.dominators;
    let reachable = super::reachable_bytes(a);
    let mut rows = Vec::new();
    let mut total_wasted = 0u64;
    let mut samples = Vec::new();
    for (class, size_field) in [
        ("java.util.HashMap", "size"),
        ("java.util.ArrayList", "size"),
        ("java.util.LinkedHashMap", "size"),
        ("java.util.concurrent.ConcurrentHashMap", "baseCount"),
        ("java.util.HashSet", ""),
    ] {
        let mut mask = vec![false; index.classes().len()];
        for c in java::classes_named(index, class) {
            mask[c as usize] = true;
        }
        let inst = java::instances(index, &mask);
        let empty: Vec<(ObjectId, u64)> = java::read_objects(index, &inst, |o| {
            if !tree.is_reachable(o) {
                return None;
            }
            let target = if size_field.is_empty() {
                index.field_object(o, "map")?
            } else {
                o
            };
            let field = if size_field.is_empty() {
                "size"
            } else {
                size_field
            };
            let n = java::field_int(index, target, field)?;
            (n == 0).then(|| (o, tree.retained(o)))
        });
        if empty.is_empty() {
            continue;
        }
        let w: u64 = empty.iter().map(|e| e.1).sum();
        total_wasted += w;
        rows.push(format!(
            "{} empty {class} ({})",
            thousands(empty.len() as u64),
            bytes(w)
        ));
        samples.extend(empty.iter().take(2).map(|e| e.0));
    }
    if !worth(total_wasted, reachable) {
        return;
    }
    let mut h = hint(
        "empty_collections",
        Category::Waste,
        Certainty::Possible,
        Stake::Wasted,
        format!("Empty collections take {}", bytes(total_wasted)),
    );
    h.retained_bytes = total_wasted;
    h.numbers.insert("wasted_bytes".into(), total_wasted);
    for o in samples.into_iter().take(6) {
        h.evidence.push(evidence(a, o, "empty collection", None));
    }
    h.explanation = format!(
        "Collections that hold nothing still cost their header and, once used, their table: \
         {}.",
        rows.join(", ")
    );
    h.fix = "Create collections lazily, use Collections.emptyList()/emptyMap() for the empty \
             case, and size them for their real contents."
        .to_string();
    out.push(h);
}

fn big_arrays(a: &Analysis, out: &mut Vec<Hint>) {
    let index = &a.index;
    let tree = &a.dominators;
    let reachable = super::reachable_bytes(a);
    let limit = BIG_ARRAY_BYTES.max((reachable as f64 * WASTE_SHARE) as u64);
    let mask: Vec<bool> = index
        .classes()
        .classes
        .iter()
        .map(|c| matches!(c.kind, ClassKind::PrimitiveArray(_)))
        .collect();
    // One pass in object order (millions of arrays: no list of them first).
    let mut big: Vec<ObjectId> = crate::heap::object_ranges(index.object_count())
        .flat_map_iter(|range| {
            let mut found = Vec::new();
            index.for_each_class_and_size(range, |o, c, size| {
                if size >= limit && mask.get(c as usize) == Some(&true) && tree.is_reachable(o) {
                    found.push(o);
                }
            });
            found
        })
        .collect();
    if big.is_empty() {
        return;
    }
    big.sort_by_key(|&o| std::cmp::Reverse(index.shallow_size(o)));
    let total: u64 = big.iter().map(|&o| index.shallow_size(o)).sum();
    let mut h = hint(
        "big_primitive_arrays",
        Category::Waste,
        Certainty::Possible,
        Stake::Retained,
        format!(
            "{} primitive arrays of {} or more take {}",
            big.len(),
            bytes(limit),
            bytes(total)
        ),
    );
    h.retained_bytes = total;
    h.numbers.insert("arrays".into(), big.len() as u64);
    h.numbers.insert("bytes".into(), total);
    for &o in big.iter().take(5) {
        h.evidence.push(evidence(a, o, "big array", None));
    }
    h.explanation = format!(
        "Single primitive arrays of {} or more: buffers read whole into memory, oversized \
         caches or pre-sized buffers. Together {} of the live heap.",
        bytes(limit),
        percent(total, reachable)
    );
    h.fix = "Stream instead of buffering whole payloads, size buffers to their use, and check \
             the owner (paths to GC roots) of each array."
        .to_string();
    out.push(h);
}

pub fn hints(a: &Analysis) -> Vec<Hint> {
    let mut out = Vec::new();
    duplicate_strings(a, &mut out);
    empty_collections(a, &mut out);
    big_arrays(a, &mut out);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn threshold() {
        assert!(super::worth(10 << 20, 100 << 20));
        assert!(!super::worth(1 << 20, 10 << 20));
    }
}
