//! Per-class (and per-group) totals over the dominator tree: MAT's minimum retained size.

use std::sync::atomic::Ordering::Relaxed;

use rayon::prelude::*;

use super::DominatorTree;
use crate::analysis::graph::AtomicBits;
use crate::heap::{HeapIndex, ObjectId};
use crate::progress::Progress;

/// MAT's minimum retained size per class: the retained sizes of the instances that no other
/// instance of the same class dominates.
pub fn retained_by_class(index: &HeapIndex, tree: &DominatorTree) -> Vec<u64> {
    let identity: Vec<u32> = (0..index.classes().len() as u32).collect();
    retained_by_group(index, tree, &identity, identity.len(), &Progress::new()).unwrap_or_default()
}

/// The same for groups of classes (packages, loaders): `group_of[class]` is the class's group.
/// An object counts when no other object of its group dominates it. `progress` counts the
/// subtrees walked; `None` once it is cancelled.
pub fn retained_by_group(
    index: &HeapIndex,
    tree: &DominatorTree,
    group_of: &[u32],
    groups: usize,
    progress: &Progress,
) -> Option<Vec<u64>> {
    const AHEAD: usize = 4;
    let class_of = index.class_of_all();
    let group = |o: ObjectId| group_of[class_of.get(o) as usize];
    // One big subtree often holds most of the heap: cut the tree below its largest nodes into
    // subtrees walked in parallel, each with the groups on its path from the super-root.
    let Split {
        mut total,
        paths,
        tasks,
        above,
    } = split_subtrees(tree, &group, groups);
    // The walks only mark the objects that do not count (those below another of their group,
    // and those above the cut, counted there): the retained sizes of the others are then read
    // in object order, not at random in the walk (half its time went there).
    let n = index.object_count();
    let covered = AtomicBits::new(n);
    for &o in &above {
        covered.insert(o);
    }
    struct Walk {
        /// Objects of each group on the current path; an object counts when its group has none.
        active: Vec<u32>,
        /// (object, its group, next child position).
        stack: Vec<(ObjectId, u32, u32)>,
    }
    progress.set_total(tasks.len() as u64);
    tasks.par_iter().for_each_init(
        || Walk {
            active: vec![0; groups],
            stack: Vec::new(),
        },
        |w, &(path, subtrees)| {
            if progress.is_cancelled() {
                return;
            }
            progress.add(1);
            let path = &paths[path as usize];
            for &g in path {
                w.active[g as usize] += 1;
            }
            let enter = |o: ObjectId, w: &mut Walk| {
                let g = group(o);
                if w.active[g as usize] != 0 {
                    covered.insert(o);
                }
                w.active[g as usize] += 1;
                w.stack.push((o, g, 0));
            };
            for &root in subtrees {
                enter(root, w);
                while let Some(&(o, g, next)) = w.stack.last() {
                    let kids = tree.children(o);
                    // Most children are leaves, entered and left at once: the class (and the
                    // list bounds) of a sibling some places on are asked for now.
                    if let Some(&ahead) = kids.get(next as usize + AHEAD) {
                        class_of.prefetch(ahead);
                        tree.child_offsets.prefetch(ahead);
                    }
                    if let Some(&k) = kids.get(next as usize) {
                        if let Some(top) = w.stack.last_mut() {
                            top.2 += 1;
                        }
                        enter(k, w);
                    } else {
                        w.active[g as usize] -= 1;
                        w.stack.pop();
                    }
                }
            }
            for &g in path {
                w.active[g as usize] -= 1;
            }
        },
    );
    if progress.is_cancelled() {
        return None;
    }
    let counted = covered
        .words()
        .par_iter()
        .enumerate()
        .with_min_len(1 << 10)
        .fold(
            || vec![0u64; groups],
            |mut sums, (k, word)| {
                let mut left = !word.load(Relaxed);
                while left != 0 {
                    let o = (k * 64) as ObjectId + left.trailing_zeros();
                    left &= left - 1;
                    if (o as usize) < n {
                        sums[group(o) as usize] += tree.retained(o);
                    }
                }
                sums
            },
        )
        .reduce(
            || vec![0u64; groups],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        );
    for (x, y) in total.iter_mut().zip(counted) {
        *x += y;
    }
    Some(total)
}

/// The dominator tree cut for parallel walks.
struct Split<'t> {
    /// What the nodes above the cut add, per group.
    total: Vec<u64>,
    /// Groups on the path from the super-root to a cut.
    paths: Vec<Vec<u32>>,
    /// Subtrees to walk: runs of roots below the same path (an index into `paths`).
    tasks: Vec<(u32, &'t [ObjectId])>,
    /// The nodes above the cut, counted in `total` if they count.
    above: Vec<ObjectId>,
}

/// Nodes retaining more than a share of the heap are counted here, and their children become
/// subtrees to walk.
fn split_subtrees<'t>(
    tree: &'t DominatorTree,
    group: &impl Fn(ObjectId) -> u32,
    groups: usize,
) -> Split<'t> {
    const MAX_PATH: usize = 64;
    const MAX_SPLITS: usize = 4096;
    const TASK: usize = 4096;
    let big = (tree.reachable_bytes / 256).max(1);
    let mut total = vec![0u64; groups];
    let mut paths: Vec<Vec<u32>> = vec![Vec::new()];
    let mut tasks = Vec::new();
    let mut above = Vec::new();
    // Lists sorted by retained size, largest first: only a prefix of each can be split, and
    // the rest (a big array's million elements) become tasks without a look at each.
    let mut lists: Vec<(&'t [ObjectId], u32)> = vec![(tree.top_level(), 0)];
    while let Some((list, path)) = lists.pop() {
        let (bigs, small) = list.split_at(list.partition_point(|&o| tree.retained(o) > big));
        tasks.extend(small.chunks(TASK).map(|run| (path, run)));
        for (i, &o) in bigs.iter().enumerate() {
            let kids = tree.children(o);
            if kids.is_empty()
                || paths[path as usize].len() >= MAX_PATH
                || above.len() >= MAX_SPLITS
            {
                tasks.push((path, &bigs[i..=i]));
                continue;
            }
            above.push(o);
            let g = group(o);
            let mut below = paths[path as usize].clone();
            if !below.contains(&g) {
                total[g as usize] += tree.retained(o);
            }
            below.push(g);
            paths.push(below);
            lists.push((kids, (paths.len() - 1) as u32));
        }
    }
    Split {
        total,
        paths,
        tasks,
        above,
    }
}
