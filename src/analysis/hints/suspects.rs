//! Leak suspects in Eclipse MAT's sense: single objects, or the instances of one class, that
//! retain a large share of the reachable heap; for each, the accumulation point found by
//! walking down the dominator tree while one child keeps most of its parent's retained size.

use rustc_hash::FxHashMap;

use super::{evidence, hint, owner, simple_name, Category, Certainty, Hint, Stake};
use crate::analysis::java;
use crate::analysis::Analysis;
use crate::format::{bytes, percent, thousands};
use crate::heap::{ClassKind, ObjectId};

/// Share of the reachable heap that makes a suspect (MAT's default).
pub const SUSPECT_SHARE: f64 = 0.10;
/// Below this many bytes nothing is a suspect, however small the heap.
pub const SUSPECT_MIN_BYTES: u64 = 8 << 20;
/// Keep descending while the biggest child retains at least this share of its parent.
pub const BIG_DROP_RATIO: f64 = 0.7;

/// Bytes a suspect must retain in a heap with `reachable` live bytes.
pub fn suspect_threshold(reachable: u64) -> u64 {
    ((reachable as f64 * SUSPECT_SHARE) as u64).max(SUSPECT_MIN_BYTES)
}

/// Walks down from `o` while the biggest dominator-tree child retains at least
/// [`BIG_DROP_RATIO`] of its parent. Returns the chain from `o` to the accumulation point.
pub fn accumulation_chain(a: &Analysis, o: ObjectId) -> Vec<ObjectId> {
    let tree = &a.dominators;
    let mut chain = vec![o];
    let mut cur = o;
    while chain.len() < 10_000 {
        let Some(&big) = tree.children(cur).first() else {
            break;
        };
        if (tree.retained(big) as f64) < tree.retained(cur) as f64 * BIG_DROP_RATIO {
            break;
        }
        chain.push(big);
        cur = big;
    }
    chain
}

/// Dominator-tree nodes retaining at least `threshold`, looking through containers (class
/// loaders, their class lists, class objects) down to what a static field or a thread holds.
fn candidates(a: &Analysis, threshold: u64) -> Vec<ObjectId> {
    let tree = &a.dominators;
    let mut out = Vec::new();
    let mut stack: Vec<ObjectId> = tree
        .top_level()
        .iter()
        .copied()
        .take_while(|&o| tree.retained(o) >= threshold)
        .collect();
    while let Some(o) = stack.pop() {
        if owner::is_container(a, o) {
            stack.extend(
                tree.children(o)
                    .iter()
                    .copied()
                    .take_while(|&k| tree.retained(k) >= threshold),
            );
        } else {
            out.push(o);
        }
    }
    out.sort_by_key(|&o| std::cmp::Reverse(tree.retained(o)));
    out
}

pub fn hints(a: &Analysis) -> Vec<Hint> {
    let index = &a.index;
    let tree = &a.dominators;
    let reachable = super::reachable_bytes(a);
    let threshold = suspect_threshold(reachable);
    let mut out = Vec::new();
    let mut covered: Vec<ObjectId> = Vec::new();
    for o in candidates(a, threshold).into_iter().take(5) {
        let chain = accumulation_chain(a, o);
        let acc = *chain.last().unwrap_or(&o);
        let retained = tree.retained(o);
        let kids = tree.children(acc);
        let class = java::class_name(index, o).to_string();
        let acc_class = java::class_name(index, acc).to_string();
        let own = owner::owner(a, o);
        let kid_bytes: u64 = kids.iter().map(|&k| tree.retained(k)).sum();
        let kid_class = kids
            .first()
            .map(|&k| simple_name(java::class_name(index, k)).to_string())
            .unwrap_or_default();
        let mut h = hint(
            "leak_suspect",
            Category::Leak,
            Certainty::Likely,
            Stake::Retained,
            format!(
                "Leak suspect: {} ({}) retains {}, {} of the live heap; the bulk is {} objects \
                 (mostly {kid_class}) in one {}",
                own.short,
                simple_name(&class),
                bytes(retained),
                percent(retained, reachable),
                thousands(kids.len() as u64),
                simple_name(&acc_class),
            ),
        );
        h.retained_bytes = retained;
        h.claimed.push(o);
        h.evidence.push(evidence(a, o, "suspect", None));
        if index.class_for_object(own.object).is_some() || java::is_thread(index, own.object) {
            h.evidence
                .push(evidence(a, own.object, "owner", Some(own.text.clone())));
        }
        if acc != o {
            h.evidence
                .push(evidence(a, acc, "accumulation point", None));
        }
        for &k in kids.iter().take(5) {
            h.evidence.push(evidence(a, k, "accumulated object", None));
        }
        h.numbers.insert("retained_bytes".into(), retained);
        h.numbers
            .insert("accumulated_objects".into(), kids.len() as u64);
        h.numbers.insert("accumulated_bytes".into(), kid_bytes);
        let via: Vec<String> = chain
            .iter()
            .map(|&c| simple_name(java::class_name(index, c)).to_string())
            .collect();
        h.explanation = format!(
            "{} holds {} ({}), which keeps {} of the {} live heap alive. Walking down the \
             dominator tree ({}) the bulk sits in {} @ 0x{:x}: it alone holds {} objects \
             ({}) that nothing else keeps alive. Path from the owner: {}. An object that grows \
             like this is usually a cache or registry that is filled but never emptied. \
             (Leak suspects are objects retaining at least {} of the live heap and at least \
             {}, as in Eclipse MAT; class loaders, their class lists and class objects are \
             looked through to the static field or thread that holds the bulk.)",
            own.text,
            index.describe(o),
            simple_name(&class),
            bytes(retained),
            bytes(reachable),
            via.join(" → "),
            acc_class,
            index.address(acc),
            thousands(kids.len() as u64),
            bytes(kid_bytes),
            owner::path_text(a, &owner::owner(a, acc), 8),
            percent((SUSPECT_SHARE * 1000.0) as u64, 1000),
            bytes(SUSPECT_MIN_BYTES),
        );
        h.fix = format!(
            "Find who adds to {} (open the accumulation point's path to GC roots) and why \
             {} entries are never removed: remove them when their work is done, bound the \
             structure (size limit or expiry, e.g. a Caffeine cache), or hold values weakly \
             if it is a cache. If it is legitimately this big, the heap is too small for it.",
            own.text,
            if kid_class.is_empty() {
                "its".to_string()
            } else {
                kid_class.clone()
            },
        );
        covered.extend(chain);
        out.push(h);
    }
    out.extend(class_groups(a, threshold, reachable, &covered));
    out
}

/// The `k` reachable objects of `objects` that retain most, largest first (ties by object):
/// picked on every core, then only they sorted (a class can have millions of instances).
fn biggest_reachable(a: &Analysis, objects: Vec<ObjectId>, k: usize) -> Vec<ObjectId> {
    use rayon::prelude::*;
    let tree = &a.dominators;
    let larger_first =
        |a: &ObjectId, b: &ObjectId| (tree.retained(*b).cmp(&tree.retained(*a))).then(a.cmp(b));
    let keep_biggest = |mut v: Vec<ObjectId>| {
        if v.len() > k {
            v.select_nth_unstable_by(k - 1, larger_first);
            v.truncate(k);
        }
        v
    };
    let mut biggest = objects
        .par_chunks(1 << 16)
        .map(|run| {
            keep_biggest(
                run.iter()
                    .copied()
                    .filter(|&o| tree.is_reachable(o))
                    .collect(),
            )
        })
        .reduce(Vec::new, |mut x, y| {
            x.extend(y);
            keep_biggest(x)
        });
    biggest.sort_unstable_by(larger_first);
    biggest
}

/// Instances of one class that together retain a large share, none alone a suspect.
fn class_groups(a: &Analysis, threshold: u64, reachable: u64, covered: &[ObjectId]) -> Vec<Hint> {
    let index = &a.index;
    let tree = &a.dominators;
    let classes = index.classes();
    let mut groups: Vec<(u32, u64)> = a
        .histogram
        .rows
        .iter()
        .filter(|r| r.count >= 2)
        .filter(|r| {
            let c = classes.get(r.class);
            matches!(c.kind, ClassKind::Instance)
                && !matches!(c.name.as_str(), "java.lang.String" | "java.lang.Class")
                // Loaders hold every class of an application: containers, not suspects.
                && !classes
                    .chain(r.class)
                    .any(|k| classes.get(k).name == "java.lang.ClassLoader")
        })
        .map(|r| (r.class, a.retained_by_class[r.class as usize]))
        .filter(|&(_, retained)| retained >= threshold)
        .collect();
    groups.sort_by_key(|&(_, r)| std::cmp::Reverse(r));
    let mut out = Vec::new();
    for (class, mut retained) in groups.into_iter().take(3) {
        let mut mask = vec![false; classes.len()];
        mask[class as usize] = true;
        let mut inst = biggest_reachable(a, java::instances(index, &mask), 1000);
        // A loader's class list (a `Vector` on JDK 8 and 11, an `ArrayList` later) holds every
        // class of an application: looked through, never a suspect, and its bytes are not
        // this group's.
        let all = inst.len();
        inst.retain(|&o| !owner::is_container(a, o));
        if inst.len() < all {
            retained = outermost_retained(a, &inst);
            if retained < threshold {
                continue;
            }
        }
        if inst.is_empty() {
            continue;
        }
        // Already told: the biggest instances sit on (or under) a reported suspect's chain.
        let is_covered = |o: ObjectId| tree.dominators_of(o).iter().any(|x| covered.contains(x));
        let covered_bytes: u64 = inst
            .iter()
            .filter(|&&o| is_covered(o))
            .map(|&o| tree.retained(o))
            .sum();
        if covered_bytes * 2 >= retained {
            continue;
        }
        // The deepest dominator shared by most of the biggest instances.
        let mut count: FxHashMap<ObjectId, (u32, u32)> = FxHashMap::default();
        for &o in &inst {
            for (depth, d) in tree
                .dominators_of(o)
                .into_iter()
                .skip(1)
                .take(64)
                .enumerate()
            {
                let e = count.entry(d).or_insert((0, u32::MAX));
                e.0 += 1;
                e.1 = e.1.min(depth as u32);
            }
        }
        let need = (inst.len() as u32 * 4).div_ceil(5);
        let common = count
            .iter()
            .filter(|(_, &(c, _))| c >= need)
            .filter(|(&d, _)| !owner::is_container(a, d))
            .min_by_key(|(&d, &(_, depth))| (tree.retained(d), depth))
            .map(|(&d, _)| d);
        if let Some(d) = common {
            if covered.contains(&d) || tree.dominators_of(d).iter().any(|x| covered.contains(x)) {
                continue;
            }
        }
        let name = classes.get(class).name.clone();
        let n = a
            .histogram
            .rows
            .iter()
            .find(|r| r.class == class)
            .map_or(0, |r| r.count);
        let mut h = hint(
            "leak_suspect",
            Category::Leak,
            Certainty::Likely,
            Stake::Retained,
            format!(
                "Leak suspect: {} instances of {} retain {}, {} of the live heap",
                thousands(n),
                simple_name(&name),
                bytes(retained),
                percent(retained, reachable)
            ),
        );
        h.retained_bytes = retained;
        h.claimed = inst.clone();
        h.numbers.insert("instances".into(), n);
        h.numbers.insert("retained_bytes".into(), retained);
        let held = match common {
            Some(d) => {
                h.evidence.push(evidence(a, d, "accumulation point", None));
                let own = owner::owner(a, d);
                format!(
                    "Most of them are kept by {}, held by {} (path: {}).",
                    index.describe(d),
                    own.text,
                    owner::path_text(a, &own, 8)
                )
            }
            None => "They are kept from many different places; merge their shortest paths to \
                     GC roots to see the common holders."
                .to_string(),
        };
        for &o in inst.iter().take(5) {
            h.evidence.push(evidence(a, o, "instance", None));
        }
        h.explanation = format!(
            "{} instances of {name} together retain {} of {} reachable bytes. {held}",
            thousands(n),
            bytes(retained),
            bytes(reachable)
        );
        h.fix = format!(
            "Check why {} objects accumulate: where are they created, and who should release \
             them? Bound or clean the collection that holds them.",
            simple_name(&name)
        );
        out.push(h);
    }
    out
}

/// Retained bytes of `objects` counted once: those below another of them are left out.
fn outermost_retained(a: &Analysis, objects: &[ObjectId]) -> u64 {
    let tree = &a.dominators;
    let set: rustc_hash::FxHashSet<ObjectId> = objects.iter().copied().collect();
    objects
        .iter()
        .filter(|&&o| {
            !tree
                .dominators_of(o)
                .iter()
                .skip(1)
                .any(|d| set.contains(d))
        })
        .map(|&o| tree.retained(o))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        assert_eq!(suspect_threshold(1 << 30), (1u64 << 30) / 10);
        assert_eq!(suspect_threshold(10 << 20), SUSPECT_MIN_BYTES);
    }
}
