//! Reachability and the dominator tree from a virtual super-root over all GC roots
//! (semi-NCA, iterative, u32 arrays), retained sizes, and per-class minimum retained sizes.

use rayon::prelude::*;

use super::graph::{reverse, AdjacencyLists, ClassEdges, Forward, Outgoing};
use crate::heap::packed::U40Vec;
use crate::heap::store::Array;
use crate::heap::{HeapIndex, ObjectId, OBJECT_RUN};
use crate::prefetch::prefetch;
use crate::progress::{Phase, Progress};

mod by_class;
mod layout;
mod persist;
mod semi_nca;

pub use by_class::{retained_by_class, retained_by_group};
pub use layout::ShallowSizes;
use layout::{ChildOffsets, RetainedSizes};
pub use semi_nca::{
    dominators_of_spanning_tree, immediate_dominators, spanning_tree, DerivedSources, SpanningTree,
};

/// `idom` of objects the super-root dominates directly.
pub const SUPER_ROOT: ObjectId = u32::MAX;
/// `idom` of objects no GC root reaches.
pub const UNREACHABLE: ObjectId = u32::MAX - 1;

const NONE: u32 = u32::MAX;

/// Which references keep objects alive for the dominator tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReferenceMode {
    /// Every reference, weak and soft `referent`s too (Eclipse MAT's definition).
    #[default]
    All,
    /// `referent` of `java.lang.ref.Reference` subclasses ignored (as ahat does).
    StrongOnly,
}

pub struct DominatorTree {
    idom: Array<ObjectId>,
    /// Below 1 TiB: the index refuses dumps that large.
    retained: RetainedSizes,
    child_offsets: ChildOffsets,
    children: Array<ObjectId>,
    top_level: Array<ObjectId>,
    pub mode: ReferenceMode,
    pub reachable_objects: u64,
    pub reachable_bytes: u64,
    pub unreachable_objects: u64,
    pub unreachable_bytes: u64,
}

impl DominatorTree {
    /// The immediate dominator: an object, [`SUPER_ROOT`] or [`UNREACHABLE`].
    #[inline]
    pub fn idom(&self, o: ObjectId) -> ObjectId {
        self.idom[o as usize]
    }

    #[inline]
    pub fn is_reachable(&self, o: ObjectId) -> bool {
        self.idom[o as usize] != UNREACHABLE
    }

    /// Retained size (0 for unreachable objects, which are not in the tree).
    #[inline]
    pub fn retained(&self, o: ObjectId) -> u64 {
        match &self.retained {
            RetainedSizes::All(sizes) => sizes.get(o as usize).unwrap_or(0),
            RetainedSizes::Inner(sizes) => match self.child_offsets.place(o) {
                Some(place) => sizes.get(place),
                None if self.idom.get(o as usize).is_some_and(|&d| d != UNREACHABLE) => {
                    (sizes.shallow)(o)
                }
                None => 0,
            },
        }
    }

    /// Children in the dominator tree, largest retained size first.
    pub fn children(&self, o: ObjectId) -> &[ObjectId] {
        self.children
            .get(self.child_offsets.range(o))
            .unwrap_or_default()
    }

    /// Objects the super-root dominates directly, largest retained size first.
    pub fn top_level(&self) -> &[ObjectId] {
        &self.top_level
    }

    /// The chain of dominators from `o` up to (not including) the super-root.
    pub fn dominators_of(&self, o: ObjectId) -> Vec<ObjectId> {
        let mut out = vec![o];
        let mut d = self.idom[o as usize];
        while d != SUPER_ROOT && d != UNREACHABLE && out.len() <= self.idom.len() {
            out.push(d);
            d = self.idom[d as usize];
        }
        out
    }

    pub fn memory_bytes(&self) -> usize {
        self.idom.len() * 4
            + self.retained.memory_bytes()
            + self.child_offsets.memory_bytes()
            + self.children.len() * 4
    }
}

/// Unique GC-root objects, sorted.
pub fn root_objects(index: &HeapIndex) -> Vec<ObjectId> {
    let mut roots: Vec<ObjectId> = index.roots().iter().map(|r| r.object).collect();
    roots.sort_unstable();
    roots.dedup();
    roots
}

/// The depth-first spanning tree of the reference graph from the GC roots: the forward half
/// of the dominator computation, the only one that needs the outgoing lists. It lists the
/// edges it does not enter by (but the class edges), which are all the referrers the
/// dominator search reads besides the class edges. `None` once `progress` is cancelled.
pub fn depth_first(
    index: &HeapIndex,
    outgoing: &Outgoing,
    mode: ReferenceMode,
    progress: &Progress,
) -> Option<SpanningTree> {
    let class_of = index.class_of_all();
    let forward = Forward {
        outgoing,
        class_of,
        with_weak: mode == ReferenceMode::All,
    };
    let class_edges = ClassEdges::new(outgoing, class_of);
    let tree = spanning_tree(&forward, &class_edges, &root_objects(index), progress);
    progress.mark("depth first");
    tree
}

/// Immediate dominators (and the reachable objects in preorder) from the spanning tree
/// `depth_first` made with the same `mode`, and the class edges (`outgoing`'s, which is
/// not needed after the walks), whose sources are read from `sources`; `None` once
/// `progress` is cancelled.
pub fn immediate(
    index: &HeapIndex,
    class_edges: &ClassEdges,
    sources: DerivedSources,
    spanning: SpanningTree,
    mode: ReferenceMode,
    progress: &Progress,
) -> Option<Immediate> {
    let roots = root_objects(index);
    let (idom, preorder) =
        dominators_of_spanning_tree(class_edges, sources, &roots, spanning, progress)?;
    progress.mark("idom");
    Some(Immediate {
        idom,
        preorder,
        mode,
    })
}

/// What [`immediate`] finds: each object's immediate dominator, and the reachable objects in
/// depth-first preorder (every object after its dominator).
pub struct Immediate {
    idom: Vec<ObjectId>,
    preorder: Vec<ObjectId>,
    mode: ReferenceMode,
}

/// The dominator tree, with retained sizes and sorted children lists, from the immediate
/// dominators, and the instances and shallow bytes per class that no GC root reaches (counted
/// in the pass that reads the sizes); `None` once `progress` is cancelled.
pub fn tree(
    index: &HeapIndex,
    immediate: Immediate,
    progress: &Progress,
) -> Option<(DominatorTree, Vec<(u64, u64)>)> {
    let Immediate {
        idom,
        preorder,
        mode,
    } = immediate;
    if progress.is_cancelled() {
        return None;
    }
    let n = index.object_count();
    let r = preorder.len();

    progress.start(Phase::RetainedSizes, n as u64);
    // Each reachable object's shallow size, where its retained size adds up; the unreachable
    // ones counted per class in the same pass.
    let classes = index.classes().len();
    let mut retained = vec![0u64; n];
    let unreachable_by_class = retained
        .par_chunks_mut(OBJECT_RUN)
        .enumerate()
        .fold(
            || vec![(0u64, 0u64); classes],
            |mut unreachable, (k, out)| {
                let lo = k * OBJECT_RUN;
                let range = lo as ObjectId..(lo + out.len()) as ObjectId;
                index.for_each_class_and_size(range, |v, c, size| {
                    if idom[v as usize] != UNREACHABLE {
                        out[v as usize - lo] = size;
                    } else if let Some(e) = unreachable.get_mut(c as usize) {
                        e.0 += 1;
                        e.1 += size;
                    }
                });
                unreachable
            },
        )
        .reduce(
            || vec![(0u64, 0u64); classes],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    x.0 += y.0;
                    x.1 += y.1;
                }
                a
            },
        );
    progress.mark("sizes");
    add_to_dominators(&preorder, &idom, &mut retained);
    drop(preorder);
    let reachable_bytes: u64 = idom
        .par_iter()
        .zip(retained.par_iter())
        .filter(|(&d, _)| d == SUPER_ROOT)
        .map(|(_, &r)| r)
        .sum();
    let retained = {
        let packed = U40Vec::new(&retained);
        drop(retained);
        packed
    };
    let retained_of = |o: ObjectId| retained.get(o as usize).unwrap_or(0);
    progress.mark("retained");
    if progress.is_cancelled() {
        return None;
    }

    // Children lists, each sorted by retained size.
    let mut top_level: Vec<ObjectId> = idom
        .par_iter()
        .enumerate()
        .filter(|(_, &d)| d == SUPER_ROOT)
        .map(|(v, _)| v as ObjectId)
        .collect();
    let (child_offsets, mut children) = reverse(&DominatorEdges(&idom), n).into_parts();
    progress.mark("children");
    if progress.is_cancelled() {
        return None;
    }
    sort_children(&child_offsets, &mut children, &retained_of);
    top_level.sort_unstable_by(larger_retained_first(&retained_of));
    progress.mark("sorted");

    let total = index.total_shallow_bytes();
    progress.set(n as u64);
    let tree = DominatorTree {
        idom: idom.into(),
        retained: RetainedSizes::All(retained),
        child_offsets: ChildOffsets::All(child_offsets.into()),
        children: children.into(),
        top_level: top_level.into(),
        mode,
        reachable_objects: r as u64,
        reachable_bytes,
        unreachable_objects: (n - r) as u64,
        unreachable_bytes: total - reachable_bytes,
    };
    Some((tree, unreachable_by_class))
}

/// Adds each reachable object's retained size to its immediate dominator's, children before
/// their dominators (reverse preorder). Sequential, and three random reads per object: the
/// object's dominator and size some places ahead, and the dominator's size some places
/// nearer, are asked for before they are needed.
fn add_to_dominators(preorder: &[ObjectId], idom: &[ObjectId], retained: &mut [u64]) {
    const FAR: usize = 32;
    const NEAR: usize = 12;
    let r = preorder.len();
    for i in (0..r).rev() {
        if let Some(&ahead) = i.checked_sub(FAR).and_then(|j| preorder.get(j)) {
            prefetch(idom, ahead as usize);
            prefetch(retained, ahead as usize);
        }
        if let Some(&near) = i.checked_sub(NEAR).and_then(|j| preorder.get(j)) {
            if let Some(&d) = idom.get(near as usize) {
                prefetch(retained, d as usize);
            }
        }
        let v = preorder[i] as usize;
        let d = idom[v];
        if d != SUPER_ROOT {
            retained[d as usize] += retained[v];
        }
    }
}

/// The order of children lists: largest retained size first, then by object number.
fn larger_retained_first(
    retained: &impl Fn(ObjectId) -> u64,
) -> impl Fn(&ObjectId, &ObjectId) -> std::cmp::Ordering + '_ {
    move |a, b| retained(*b).cmp(&retained(*a)).then(a.cmp(b))
}

/// Sorts each node's children list by [`larger_retained_first`]. A retained size is a random
/// read (two, packed): each list's are read once into a buffer of keys, which is sorted, not
/// read again by every comparison.
fn sort_children(
    offsets: &[u32],
    children: &mut [ObjectId],
    retained: &(impl Fn(ObjectId) -> u64 + Sync),
) {
    // Jobs over ranges of nodes (and so of `children`); lists of a big array's elements,
    // millions long, are left for afterwards.
    const NODES_PER_JOB: usize = 1 << 16;
    const LONG: usize = 1 << 12;
    let n = offsets.len() - 1;
    let mut jobs: Vec<(usize, usize, &mut [ObjectId])> = Vec::with_capacity(n / NODES_PER_JOB + 1);
    let mut rest = children;
    for lo in (0..n).step_by(NODES_PER_JOB) {
        let hi = (lo + NODES_PER_JOB).min(n);
        let (part, tail) = rest.split_at_mut((offsets[hi] - offsets[lo]) as usize);
        jobs.push((lo, hi, part));
        rest = tail;
    }
    let long: Vec<&mut [ObjectId]> = jobs
        .into_par_iter()
        .flat_map_iter(|(lo, hi, mut part)| {
            let mut long = Vec::new();
            let mut keyed = Vec::new();
            for v in lo..hi {
                let (list, tail) = part.split_at_mut((offsets[v + 1] - offsets[v]) as usize);
                part = tail;
                if list.len() > LONG {
                    long.push(list);
                } else if list.len() > 1 {
                    sort_by_keys(list, retained, &mut keyed);
                }
            }
            long
        })
        .collect();
    // Each list on its own core (there are usually several); a list only on every core
    // when its sizes are too varied to be distributed.
    let varied: Vec<&mut [ObjectId]> = long
        .into_par_iter()
        .filter_map(|list| (!distribute_by_size(list, retained)).then_some(list))
        .collect();
    for list in varied {
        let mut keyed: Vec<(std::cmp::Reverse<u64>, ObjectId)> = list
            .par_iter()
            .map(|&o| (std::cmp::Reverse(retained(o)), o))
            .collect();
        keyed.par_sort_unstable();
        list.par_iter_mut()
            .zip(keyed.par_iter())
            .for_each(|(slot, &(_, o))| *slot = o);
    }
}

/// Sorts a long `list` of ascending object numbers (as [`reverse`] makes them) by
/// [`larger_retained_first`] when its retained sizes take few distinct values, as a big
/// array's elements mostly do (at most [`FEW_SIZES`]): a stable distribution by size, with no
/// comparisons. False, and `list` untouched, otherwise.
fn distribute_by_size(list: &mut [ObjectId], retained: &impl Fn(ObjectId) -> u64) -> bool {
    if !list.is_sorted() {
        return false;
    }
    // Each distinct size's bucket, in order of first appearance, and each object's bucket.
    let mut bucket_of_size: rustc_hash::FxHashMap<u64, u16> = Default::default();
    let mut sizes: Vec<u64> = Vec::new();
    let mut bucket: Vec<u16> = Vec::with_capacity(list.len());
    let mut last: Option<(u64, u16)> = None;
    for &o in list.iter() {
        let size = retained(o);
        let b = match last.filter(|&(s, _)| s == size) {
            Some((_, b)) => b,
            None => match bucket_of_size.get(&size) {
                Some(&b) => b,
                None if sizes.len() < FEW_SIZES => {
                    let b = sizes.len() as u16;
                    bucket_of_size.insert(size, b);
                    sizes.push(size);
                    b
                }
                None => return false,
            },
        };
        last = Some((size, b));
        bucket.push(b);
    }
    // Where each bucket starts, the largest size's first.
    let mut by_size: Vec<u16> = (0..sizes.len() as u16).collect();
    by_size.sort_unstable_by_key(|&b| std::cmp::Reverse(sizes[b as usize]));
    let mut counts = vec![0u32; sizes.len()];
    for &b in &bucket {
        counts[b as usize] += 1;
    }
    let mut start = vec![0u32; sizes.len()];
    let mut at = 0u32;
    for &b in &by_size {
        start[b as usize] = at;
        at += counts[b as usize];
    }
    let mut sorted = vec![0 as ObjectId; list.len()];
    for (&o, &b) in list.iter().zip(&bucket) {
        sorted[start[b as usize] as usize] = o;
        start[b as usize] += 1;
    }
    list.copy_from_slice(&sorted);
    true
}

/// At most this many distinct retained sizes in a list [`distribute_by_size`] sorts.
const FEW_SIZES: usize = 1 << 12;

/// Sorts `list` by [`larger_retained_first`], reading each retained size once into `keyed`.
fn sort_by_keys(
    list: &mut [ObjectId],
    retained: &impl Fn(ObjectId) -> u64,
    keyed: &mut Vec<(std::cmp::Reverse<u64>, ObjectId)>,
) {
    keyed.clear();
    keyed.extend(list.iter().map(|&o| (std::cmp::Reverse(retained(o)), o)));
    keyed.sort_unstable();
    for (slot, &(_, o)) in list.iter_mut().zip(keyed.iter()) {
        *slot = o;
    }
}

/// Each object's edge to its immediate dominator (none for the top level and unreachable).
struct DominatorEdges<'a>(&'a [ObjectId]);

impl AdjacencyLists for DominatorEdges<'_> {
    fn node_count(&self) -> usize {
        self.0.len()
    }
    #[inline]
    fn for_each_neighbour(&self, v: u32, mut f: impl FnMut(u32)) {
        match self.0[v as usize] {
            SUPER_ROOT | UNREACHABLE => {}
            d => f(d),
        }
    }
}

#[cfg(test)]
mod tests;
