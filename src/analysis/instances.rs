//! Sets of objects a view lists: the instances of a class, the children of a dominator-tree
//! node grouped by class, and the unreachable objects of each class.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::dominators::{DominatorTree, SUPER_ROOT};
use super::java;
use crate::heap::{ClassIndex, HeapIndex, ObjectId};
use crate::progress::Progress;

/// All instances of `class`, largest retained size first (ties: address order). One parallel
/// scan of the class array; `None` when cancelled.
pub fn instances_of_class(
    index: &HeapIndex,
    dominators: &DominatorTree,
    class: ClassIndex,
    progress: &Progress,
) -> Option<Vec<ObjectId>> {
    let mut mask = vec![false; index.classes().len()];
    *mask.get_mut(class as usize)? = true;
    let mut objects = java::instances(index, &mask);
    if progress.is_cancelled() {
        return None;
    }
    objects.par_sort_by_key(|&o| (std::cmp::Reverse(dominators.retained(o)), o));
    Some(objects)
}

/// The dominator-tree children of `parent` (`SUPER_ROOT`: the top level).
pub fn dominated_by(dominators: &DominatorTree, parent: ObjectId) -> &[ObjectId] {
    if parent == SUPER_ROOT {
        dominators.top_level()
    } else {
        dominators.children(parent)
    }
}

/// The children of one node that share a class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassGroup {
    pub class: ClassIndex,
    pub count: u64,
    pub shallow: u64,
    /// Sum of the members' retained sizes: they are siblings, so their retained sets are
    /// disjoint and the sum is the group's retained size.
    pub retained: u64,
    /// Largest retained size first.
    pub members: Vec<ObjectId>,
}

/// `parent`'s dominator-tree children grouped by class, largest retained first.
pub fn children_by_class(
    index: &HeapIndex,
    dominators: &DominatorTree,
    parent: ObjectId,
) -> Vec<ClassGroup> {
    let mut by_class: FxHashMap<ClassIndex, usize> = FxHashMap::default();
    let mut groups: Vec<ClassGroup> = Vec::new();
    // Children are sorted by retained size already, so members stay in that order.
    for &o in dominated_by(dominators, parent) {
        let c = index.class_of(o);
        let i = *by_class.entry(c).or_insert_with(|| {
            groups.push(ClassGroup {
                class: c,
                count: 0,
                shallow: 0,
                retained: 0,
                members: Vec::new(),
            });
            groups.len() - 1
        });
        let g = &mut groups[i];
        g.count += 1;
        g.shallow += index.shallow_size(o);
        g.retained += dominators.retained(o);
        g.members.push(o);
    }
    groups.sort_by(|x, y| {
        y.retained
            .cmp(&x.retained)
            .then(y.count.cmp(&x.count))
            .then(x.class.cmp(&y.class))
    });
    groups
}

/// Unreachable objects per class: the classes from the per-class counts, the instances from
/// one scan over all objects, bucketed by class (one `u32` per unreachable object).
pub struct UnreachableObjects {
    /// (class, count, shallow bytes), most bytes first.
    pub classes: Vec<(ClassIndex, u64, u64)>,
    pub count: u64,
    pub bytes: u64,
    /// Instances of class `c` are `objects[starts[c]..ends[c]]`, largest first.
    starts: Vec<usize>,
    ends: Vec<usize>,
    objects: Vec<ObjectId>,
}

impl UnreachableObjects {
    /// `unreachable_by_class` is `Analysis::unreachable_by_class` (count, bytes per class).
    pub fn new(
        index: &HeapIndex,
        dominators: &DominatorTree,
        unreachable_by_class: &[(u64, u64)],
    ) -> UnreachableObjects {
        let mut classes: Vec<(ClassIndex, u64, u64)> = unreachable_by_class
            .iter()
            .enumerate()
            .filter(|(_, &(n, _))| n > 0)
            .map(|(c, &(n, b))| (c as ClassIndex, n, b))
            .collect();
        classes.sort_by(|x, y| y.2.cmp(&x.2).then(y.1.cmp(&x.1)).then(x.0.cmp(&y.0)));
        let n = unreachable_by_class.len();
        let mut starts = vec![0usize; n + 1];
        for (c, &(count, _)) in unreachable_by_class.iter().enumerate() {
            starts[c + 1] = starts[c] + count as usize;
        }
        let mut ends = starts[..n].to_vec();
        let mut objects = vec![0 as ObjectId; starts[n]];
        if !objects.is_empty() {
            for o in 0..index.object_count() as ObjectId {
                if !dominators.is_reachable(o) {
                    let c = index.class_of(o) as usize;
                    // The counts come from the same predicate; guard anyway.
                    if c < n && ends[c] < starts[c + 1] {
                        objects[ends[c]] = o;
                        ends[c] += 1;
                    }
                }
            }
            for c in 0..n {
                objects[starts[c]..ends[c]]
                    .sort_by_key(|&o| (std::cmp::Reverse(index.shallow_size(o)), o));
            }
        }
        starts.truncate(n);
        UnreachableObjects {
            count: classes.iter().map(|c| c.1).sum(),
            bytes: classes.iter().map(|c| c.2).sum(),
            classes,
            starts,
            ends,
            objects,
        }
    }

    /// The unreachable instances of `c`, largest first.
    pub fn instances_of(&self, c: ClassIndex) -> &[ObjectId] {
        match (self.starts.get(c as usize), self.ends.get(c as usize)) {
            (Some(&s), Some(&e)) => &self.objects[s..e],
            _ => &[],
        }
    }
}
