//! The instances of the classes that have few, grouped by class. Most queries for a class's
//! instances (the hints': class loaders, session managers, buffers, collections of a kind)
//! ask for such classes, and each would otherwise scan every object's class number: 13 scans
//! for the report of a 25.8 M-object dump. Built by the first query, with two scans.

use super::class_of::ClassOf;
use super::{ClassIndex, ObjectId};

/// Classes of at most this many instances are listed…
#[cfg(not(test))]
const FEW_PER_CLASS: u64 = 1 << 16;
/// …the least populous first, up to this many instances in all (16 MB).
#[cfg(not(test))]
const LISTED_AT_MOST: u64 = 1 << 22;
// Small enough for the tests to leave classes out both ways.
#[cfg(test)]
const FEW_PER_CLASS: u64 = 64;
#[cfg(test)]
const LISTED_AT_MOST: u64 = 300;
/// The span of a class whose instances are not listed.
const NOT_LISTED: (u32, u32) = (u32::MAX, u32::MAX);

pub struct FewInstances {
    /// Where each class's instances are in `objects`, or [`NOT_LISTED`].
    spans: Vec<(u32, u32)>,
    /// The listed classes' instances, grouped by class, each group in object order.
    objects: Vec<ObjectId>,
}

impl FewInstances {
    pub fn new(class_of: &ClassOf, classes: usize) -> FewInstances {
        let counts = class_of.counts(classes);
        let mut order: Vec<ClassIndex> = (0..classes as ClassIndex)
            .filter(|&c| counts[c as usize] <= FEW_PER_CLASS)
            .collect();
        order.sort_unstable_by_key(|&c| counts[c as usize]);
        let mut listed = vec![false; classes];
        let mut total = 0u64;
        for c in order {
            total += counts[c as usize];
            if total > LISTED_AT_MOST {
                break;
            }
            listed[c as usize] = true;
        }
        let mut spans = vec![NOT_LISTED; classes];
        let mut at = 0u32;
        for c in 0..classes {
            if listed[c] {
                let end = at + counts[c] as u32;
                spans[c] = (at, end);
                at = end;
            }
        }
        // Found in object order and placed by class in that order.
        let found = class_of.objects_and_classes_of(&listed);
        let mut cursor: Vec<u32> = spans.iter().map(|s| s.0).collect();
        let mut objects = vec![0 as ObjectId; at as usize];
        for (c, o) in found {
            if let Some(k) = cursor.get_mut(c as usize) {
                if let Some(slot) = objects.get_mut(*k as usize) {
                    *slot = o;
                    *k += 1;
                }
            }
        }
        FewInstances { spans, objects }
    }

    /// The objects of the classes marked in `mask`, in object order; `None` when one of them
    /// has too many instances to be listed here.
    pub fn objects_of(&self, mask: &[bool]) -> Option<Vec<ObjectId>> {
        let mut out = Vec::new();
        let mut groups = 0;
        for (c, _) in mask.iter().enumerate().filter(|(_, &m)| m) {
            let &(a, b) = self.spans.get(c)?;
            if (a, b) == NOT_LISTED {
                return None;
            }
            out.extend_from_slice(self.objects.get(a as usize..b as usize)?);
            groups += 1;
        }
        if groups > 1 {
            out.sort_unstable();
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn lists_what_a_scan_finds(
            classes in prop::collection::vec(0u32..12, 0..1_200),
            marked in prop::collection::vec(any::<bool>(), 12),
        ) {
            let class_of = ClassOf::new(classes.clone(), 12);
            let few = FewInstances::new(&class_of, 12);
            let count = |c: usize| classes.iter().filter(|&&k| k as usize == c).count() as u64;
            match few.objects_of(&marked) {
                Some(found) => prop_assert_eq!(found, class_of.objects_of(&marked)),
                // Left out: a marked class has too many instances, or the budget ran out.
                None => prop_assert!((0..12).any(|c| marked[c] && (count(c) > FEW_PER_CLASS
                    || (0..12).filter(|&k| count(k) <= count(c)).map(count).sum::<u64>()
                        > LISTED_AT_MOST))),
            }
        }
    }
}
