//! Garbage mistaken for a leak: a large share of the dump is unreachable (not yet collected).
//! Say so, per class, before anyone hunts for a leak that is not there.

use super::{evidence, hint, Category, Certainty, Hint, Stake};
use crate::analysis::java;
use crate::analysis::Analysis;
use crate::format::{bytes, percent, thousands};
use crate::heap::ObjectId;

/// Share of all bytes in the dump that is unreachable before the hint fires.
pub const GARBAGE_SHARE: f64 = 0.20;
/// Less garbage than this is never worth a hint.
pub const GARBAGE_MIN_BYTES: u64 = 4 << 20;

pub fn fires(unreachable: u64, total: u64) -> bool {
    unreachable >= GARBAGE_MIN_BYTES && unreachable as f64 >= total as f64 * GARBAGE_SHARE
}

pub fn hints(a: &Analysis) -> Vec<Hint> {
    let index = &a.index;
    let tree = &a.dominators;
    let garbage = tree.unreachable_bytes;
    let total = tree.reachable_bytes + garbage;
    if !fires(garbage, total) {
        return Vec::new();
    }
    let mut by_class: Vec<(usize, u64, u64)> = a
        .unreachable_by_class
        .iter()
        .enumerate()
        .filter(|(_, &(n, _))| n > 0)
        .map(|(c, &(n, b))| (c, n, b))
        .collect();
    by_class.sort_by_key(|&(_, _, b)| std::cmp::Reverse(b));
    by_class.truncate(10);
    let partial = super::partial_reachability(index);
    let mut h = hint(
        "garbage",
        Category::Garbage,
        Certainty::Likely,
        Stake::Unreachable,
        if partial.is_some() {
            format!(
                "{} of the dump ({}) is not reachable from what this incomplete dump holds: \
                 reachability is partial",
                percent(garbage, total),
                bytes(garbage)
            )
        } else {
            format!(
                "{} of the dump ({}) is unreachable garbage not yet collected",
                percent(garbage, total),
                bytes(garbage)
            )
        },
    );
    h.retained_bytes = garbage;
    h.numbers.insert("unreachable_bytes".into(), garbage);
    h.numbers
        .insert("unreachable_objects".into(), tree.unreachable_objects);
    h.numbers
        .insert("reachable_bytes".into(), tree.reachable_bytes);
    let classes = index.classes();
    let lines: Vec<String> = by_class
        .iter()
        .map(|&(c, n, b)| {
            format!(
                "{} ({} objects, {})",
                classes.get(c as u32).name,
                thousands(n),
                bytes(b)
            )
        })
        .collect();
    // One sample object of each of the top classes, to inspect.
    let mut mask = vec![false; classes.len()];
    for &(c, _, _) in by_class.iter().take(5) {
        mask[c] = true;
    }
    let mut sampled: Vec<u32> = Vec::new();
    let samples: Vec<ObjectId> = java::instances(index, &mask)
        .into_iter()
        .filter(|&o| !tree.is_reachable(o))
        .filter(|&o| {
            let c = index.class_of(o);
            if sampled.contains(&c) {
                false
            } else {
                sampled.push(c);
                true
            }
        })
        .collect();
    for o in samples {
        h.evidence.push(evidence(a, o, "unreachable sample", None));
    }
    if let Some(why) = partial {
        h.explanation = format!(
            "{} objects ({}, {} of the dump) are not reachable from the GC roots and objects \
             this dump holds, but the dump is incomplete ({why}): objects it lost may keep \
             them alive, so they cannot be called garbage. The live heap read is {}. Biggest \
             by class: {}.",
            thousands(tree.unreachable_objects),
            bytes(garbage),
            percent(garbage, total),
            bytes(tree.reachable_bytes),
            lines.join("; ")
        );
        h.fix = "Take a complete heap dump (enough disk space; jmap -dump or \
                 -XX:+HeapDumpOnOutOfMemoryError) before judging what is garbage."
            .to_string();
        return vec![h];
    }
    h.explanation = format!(
        "{} objects ({}, {} of the dump) are not reachable from any GC root: the collector \
         would free them at its next (old-generation) collection. The dump was taken without \
         a GC first (`jmap -dump` without `:live`, or an OutOfMemoryError dump taken mid-GC). \
         Do not hunt for a leak in these; the live heap is {}. Biggest garbage by class: {}.",
        thousands(tree.unreachable_objects),
        bytes(garbage),
        percent(garbage, total),
        bytes(tree.reachable_bytes),
        lines.join("; ")
    );
    h.fix = "Judge leaks on the reachable heap only. If the process's memory stays high while \
             most of the heap is garbage, the heap grew and does not shrink: see the JVM advice \
             on -XX:MinHeapFreeRatio/-XX:MaxHeapFreeRatio (or size -Xms = -Xmx deliberately). \
             A lot of garbage in the old generation also means objects live just long enough to \
             be promoted: a larger young generation may help."
        .to_string();
    vec![h]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold() {
        assert!(fires(100 << 20, 200 << 20));
        assert!(!fires(1 << 20, 2 << 20));
        assert!(!fires(10 << 20, 100 << 20));
    }
}
