//! Reachability and the dominator tree from a virtual super-root over all GC roots
//! (semi-NCA, iterative, u32 arrays), retained sizes, and per-class minimum retained sizes.

use rayon::prelude::*;

use super::graph::{
    reverse, AdjacencyLists, Backward, Distance, Forward, NodeBits, Outgoing, Predecessors,
    ReferenceGraph, Successors,
};
use crate::heap::packed::U40Vec;
use crate::heap::store::{Array, Store, StoreError, StoreWriter};
use crate::heap::{HeapIndex, ObjectId};
use crate::prefetch::prefetch;
use crate::progress::{Phase, Progress};

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
    retained: U40Vec,
    child_offsets: Array<u32>,
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
        self.retained.get(o as usize).unwrap_or(0)
    }

    /// Children in the dominator tree, largest retained size first.
    pub fn children(&self, o: ObjectId) -> &[ObjectId] {
        let a = self.child_offsets[o as usize] as usize;
        let b = self.child_offsets[o as usize + 1] as usize;
        &self.children[a..b]
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
            + self.child_offsets.len() * 4
            + self.children.len() * 4
    }
}

impl DominatorTree {
    /// Adds the tree's sections (`dom.…`) to an index file.
    pub fn save<'a>(&'a self, w: &mut StoreWriter<'a>) {
        let scalars = [
            (self.mode == ReferenceMode::StrongOnly) as u64,
            self.reachable_objects,
            self.reachable_bytes,
            self.unreachable_objects,
            self.unreachable_bytes,
        ];
        w.bytes("dom.scalars", bytemuck::cast_slice(&scalars).to_vec());
        w.array("dom.idom", &self.idom);
        self.retained.save("dom.retained", w);
        w.array("dom.child_offsets", &self.child_offsets);
        w.array("dom.children", &self.children);
        w.array("dom.top_level", &self.top_level);
    }

    /// The tree saved by [`DominatorTree::save`], mapped from the file.
    pub fn load(store: &Store, objects: usize) -> Result<DominatorTree, StoreError> {
        let scalars: Array<u64> = store.array("dom.scalars")?;
        let tree = DominatorTree {
            idom: store.array("dom.idom")?,
            retained: U40Vec::load(store, "dom.retained")?,
            child_offsets: store.array("dom.child_offsets")?,
            children: store.array("dom.children")?,
            top_level: store.array("dom.top_level")?,
            mode: if scalars.first() == Some(&1) {
                ReferenceMode::StrongOnly
            } else {
                ReferenceMode::All
            },
            reachable_objects: scalars.get(1).copied().unwrap_or(0),
            reachable_bytes: scalars.get(2).copied().unwrap_or(0),
            unreachable_objects: scalars.get(3).copied().unwrap_or(0),
            unreachable_bytes: scalars.get(4).copied().unwrap_or(0),
        };
        let n = objects;
        let in_range = |v: &[ObjectId], special: bool| {
            v.par_iter()
                .all(|&o| (o as usize) < n || (special && (o == SUPER_ROOT || o == UNREACHABLE)))
        };
        let consistent = scalars.len() == 5
            && tree.idom.len() == n
            && tree.retained.len() == n
            && tree.child_offsets.len() == n + 1
            && tree.child_offsets.windows(2).all(|w| w[0] <= w[1])
            && tree
                .child_offsets
                .last()
                .is_some_and(|&e| e as usize == tree.children.len())
            && in_range(&tree.idom, true)
            && in_range(&tree.children, false)
            && in_range(&tree.top_level, false);
        if !consistent {
            return Err(StoreError::Corrupt {
                path: store.path().display().to_string(),
                what: "dominator tree arrays inconsistent".into(),
            });
        }
        Ok(tree)
    }
}

/// Unique GC-root objects, sorted.
pub fn root_objects(index: &HeapIndex) -> Vec<ObjectId> {
    let mut roots: Vec<ObjectId> = index.roots().iter().map(|r| r.object).collect();
    roots.sort_unstable();
    roots.dedup();
    roots
}

/// Immediate dominators from a virtual super-root whose successors are `roots` (sorted,
/// unique). Returns per node its immediate dominator, [`SUPER_ROOT`] or [`UNREACHABLE`], and
/// the reachable nodes in depth-first preorder (so every node comes after its dominator).
pub fn immediate_dominators<G: Successors + Predecessors + Sync>(
    g: &G,
    roots: &[u32],
) -> (Vec<u32>, Vec<u32>) {
    dominators_of_spanning_tree(g, roots, spanning_tree(g, roots))
}

/// A depth-first spanning tree from the super-root (preorder number 0): the only part of the
/// dominator computation that walks forward.
pub struct SpanningTree {
    /// Preorder number of each node; 0 when unreachable.
    pre_of: Vec<u32>,
    /// Node of each preorder number (`vertex[0]` is the super-root).
    vertex: Vec<u32>,
    /// Preorder number of each node's parent.
    parent: Vec<u32>,
}

impl SpanningTree {
    /// Frees the node of each preorder number (4 bytes per object) while memory is tightest:
    /// the incoming lists are built while the outgoing ones still exist.
    pub fn release_vertex(&mut self) {
        self.vertex = Vec::new();
    }

    /// Rebuilds what `release_vertex` freed from its inverse, `pre_of`: each worker owns a
    /// range of preorder numbers and scans every node.
    pub fn restore_vertex(&mut self) {
        self.vertex = vertex_of_preorder(&self.pre_of, self.parent.len());
    }
}

/// The node of each preorder number `0..len`, from the preorder number of each node.
fn vertex_of_preorder(pre_of: &[u32], len: usize) -> Vec<u32> {
    let mut vertex = vec![0u32; len];
    let per_worker = len.div_ceil(rayon::current_num_threads().max(1)).max(1);
    vertex
        .par_chunks_mut(per_worker)
        .enumerate()
        .for_each(|(k, out)| {
            let lo = k * per_worker;
            for (v, &p) in pre_of.iter().enumerate() {
                if let Some(slot) = (p as usize).checked_sub(lo).and_then(|i| out.get_mut(i)) {
                    *slot = v as u32;
                }
            }
        });
    // Preorder number 0, which unreachable nodes also have, is the super-root's.
    vertex[0] = SUPER_ROOT;
    vertex
}

pub fn spanning_tree<G: Successors>(g: &G, roots: &[u32]) -> SpanningTree {
    let n = g.node_count();
    // Depth-first preorder from the super-root (preorder number 0).
    let mut pre_of = vec![0u32; n];
    let mut vertex: Vec<u32> = Vec::with_capacity(n + 1);
    let mut parent: Vec<u32> = Vec::with_capacity(n + 1);
    vertex.push(SUPER_ROOT);
    parent.push(NONE);
    {
        // Successors not seen yet are gathered per node when it is entered: (first successor,
        // end) into `succ`; they are tested again when their turn comes.
        let mut seen = NodeBits::new(n);
        let mut succ: Vec<u32> = Vec::new();
        let mut stack: Vec<(u32, usize, usize)> = Vec::new();
        for &r in roots {
            if (r as usize) >= n || !seen.insert(r) {
                continue;
            }
            pre_of[r as usize] = vertex.len() as u32;
            vertex.push(r);
            parent.push(0);
            let a = succ.len();
            g.for_each_successor(r, |t| {
                if !seen.contains(t) {
                    succ.push(t)
                }
            });
            stack.push((pre_of[r as usize], a, succ.len()));
            while let Some(top) = stack.last_mut() {
                if top.1 == top.2 {
                    let (_, a, _) = *top;
                    stack.pop();
                    succ.truncate(a);
                    continue;
                }
                let t = succ[top.1];
                top.1 += 1;
                // Successors are entered in list order: fetch the next one's list now.
                if let Some(&next) = succ.get(top.1).filter(|_| top.1 < top.2) {
                    g.prefetch(next, Distance::Near);
                }
                let vnum = top.0;
                if seen.insert(t) {
                    let tnum = vertex.len() as u32;
                    pre_of[t as usize] = tnum;
                    vertex.push(t);
                    parent.push(vnum);
                    let a = succ.len();
                    g.for_each_successor(t, |x| {
                        if !seen.contains(x) {
                            g.prefetch(x, Distance::Far);
                            prefetch(&pre_of, x as usize);
                            succ.push(x)
                        }
                    });
                    stack.push((tnum, a, succ.len()));
                }
            }
        }
    }
    SpanningTree {
        pre_of,
        vertex,
        parent,
    }
}

/// Immediate dominators as `immediate_dominators`, from a spanning tree of the same graph.
pub fn dominators_of_spanning_tree<G: Predecessors + Sync>(
    g: &G,
    roots: &[u32],
    tree: SpanningTree,
) -> (Vec<u32>, Vec<u32>) {
    let SpanningTree {
        pre_of,
        vertex,
        parent,
    } = tree;
    let r = vertex.len() - 1;

    // Most nodes are GC roots (semi-dominator 0) or have one referrer (their DFS parent is
    // their semi-dominator and immediate dominator). Only the others, "multi" nodes, need
    // the search, so only they keep their node, parent and semi-dominator, in these lists.
    let (root_at, single_at) = kinds_by_preorder(g, roots, &pre_of, r);
    let multi_at: Vec<u32> = (1..=r as u32)
        .into_par_iter()
        .filter(|&w| !root_at.contains(w) && !single_at.contains(w))
        .collect();
    let multi_node: Vec<u32> = multi_at.par_iter().map(|&w| vertex[w as usize]).collect();
    let multi_parent: Vec<u32> = multi_at.par_iter().map(|&w| parent[w as usize]).collect();
    let mut multi_semi = vec![0u32; multi_at.len()];
    // Rebuilt from `pre_of` at the end: 4 bytes per object less while memory is tightest.
    drop(vertex);

    // Semi-dominators (Lengauer–Tarjan's first phase, with iterative path compression).
    // Nodes above the current one are linked into the forest, whose links are the DFS
    // parents (`ancestor`, compressed in place: the parents of nodes not linked yet are
    // intact). `best[x]` is the least semi-dominator on x's compressed path (a value, not a
    // node as Lengauer–Tarjan's `label`: one random read less per step). Filled on every
    // core: first touches of fresh pages cost more than the values.
    let mut ancestor = parent;
    let mut best: Vec<u32> = (0..=r).into_par_iter().map(|_| 0).collect();
    let mut path: Vec<u32> = Vec::new();
    let mut chunk: Vec<u32> = Vec::with_capacity(1024);
    let mut k = multi_at.len();
    for w in (1..=r).rev() {
        let s = if root_at.contains(w as u32) {
            0
        } else if single_at.contains(w as u32) {
            // Its one referrer discovered it: the DFS parent, not yet linked.
            ancestor[w]
        } else {
            k -= 1;
            debug_assert_eq!(multi_at[k], w as u32);
            if let Some(&next) = k.checked_sub(2).and_then(|j| multi_node.get(j)) {
                g.prefetch_predecessors(next);
            }
            let mut s = w as u32;
            // Referrers go through in batches, so that each one's preorder number and
            // forest link can be fetched some steps before they are needed (a class
            // object has every instance as a referrer: millions of independent lookups).
            chunk.clear();
            let mut forest = Forest {
                current: w as u32,
                pre_of: &pre_of,
                ancestor: &mut ancestor,
                best: &mut best,
                path: &mut path,
            };
            g.for_each_predecessor(multi_node[k], |p| {
                // 0, the super-root, is the least a semi-dominator can be: the rest of the
                // list cannot lower it. (Classes have every instance as a referrer.)
                if s != 0 {
                    chunk.push(p);
                    if chunk.len() == chunk.capacity() {
                        forest.lower_semi(&chunk, &mut s);
                        chunk.clear();
                    }
                }
            });
            forest.lower_semi(&chunk, &mut s);
            multi_semi[k] = s;
            s
        };
        best[w] = s;
    }
    drop(ancestor);
    drop(multi_node);

    // Immediate dominators in preorder numbers, in `best`'s place: 0 for GC roots, the one
    // referrer for single-referrer nodes (on every core), then the nearest-common-ancestor
    // step of semi-NCA for the multi nodes, in preorder.
    let mut idom_pre = best;
    {
        use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
        // SAFETY: `AtomicU32` has the size and alignment of `u32`, and `idom_pre` is borrowed
        // exclusively while `cells` lives.
        let cells: &[AtomicU32] =
            unsafe { &*(idom_pre.as_mut_slice() as *mut [u32] as *const [AtomicU32]) };
        pre_of
            .par_iter()
            .enumerate()
            .with_min_len(1 << 14)
            .for_each(|(v, &w)| {
                if w == 0 {
                    return;
                }
                if root_at.contains(w) {
                    cells[w as usize].store(0, Relaxed);
                } else if single_at.contains(w) {
                    g.for_each_predecessor(v as u32, |p| {
                        cells[w as usize].store(pre_of[p as usize], Relaxed)
                    });
                }
            });
    }
    for (k, &w) in multi_at.iter().enumerate() {
        let mut d = multi_parent[k];
        while d > multi_semi[k] {
            d = idom_pre[d as usize];
        }
        idom_pre[w as usize] = d;
    }
    drop(multi_parent);
    drop(multi_semi);
    drop(multi_at);
    let mut vertex = vertex_of_preorder(&pre_of, r + 1);
    let idom: Vec<u32> = pre_of
        .par_iter()
        .map(|&w| match w {
            0 => UNREACHABLE,
            w => match idom_pre[w as usize] {
                0 => SUPER_ROOT,
                d => vertex[d as usize],
            },
        })
        .collect();
    drop(pre_of);
    vertex.remove(0);
    (idom, vertex)
}

/// GC roots, and nodes with one referrer, by preorder number: found on every core, so the
/// sequential semi-dominator loop reads a bit in order rather than, at random, the root set
/// and the bounds of a referrer list (which most nodes need no more than that).
fn kinds_by_preorder<G: Predecessors + Sync>(
    g: &G,
    roots: &[u32],
    pre_of: &[u32],
    r: usize,
) -> (NodeBits, NodeBits) {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    let mut root_at = NodeBits::new(r + 1);
    for &root in roots {
        if let Some(&w) = pre_of.get(root as usize).filter(|&&w| w != 0) {
            root_at.insert(w);
        }
    }
    let words: Vec<AtomicU64> = (0..(r + 1).div_ceil(64))
        .map(|_| AtomicU64::new(0))
        .collect();
    pre_of
        .par_iter()
        .enumerate()
        .with_min_len(1 << 14)
        .for_each(|(v, &w)| {
            if w != 0 && !root_at.contains(w) && g.has_single_predecessor(v as u32) {
                words[w as usize / 64].fetch_or(1 << (w % 64), Relaxed);
            }
        });
    let single_at = NodeBits::from_words(words.into_iter().map(AtomicU64::into_inner).collect());
    (root_at, single_at)
}

/// The depth-first spanning tree of the reference graph from the GC roots: the forward half
/// of the dominator computation, the only one that needs the outgoing lists.
pub fn depth_first(index: &HeapIndex, outgoing: &Outgoing, mode: ReferenceMode) -> SpanningTree {
    let forward = Forward {
        outgoing,
        class_of: index.class_of_all(),
        with_weak: mode == ReferenceMode::All,
    };
    spanning_tree(&forward, &root_objects(index))
}

/// The dominator tree from the spanning tree `depth_first` made with the same `mode`.
pub fn compute(
    index: &HeapIndex,
    graph: &ReferenceGraph,
    spanning: SpanningTree,
    mode: ReferenceMode,
    progress: &Progress,
) -> DominatorTree {
    let n = index.object_count();
    let roots = root_objects(index);
    let backward = Backward {
        graph,
        with_weak: mode == ReferenceMode::All,
    };
    let (idom, preorder) = dominators_of_spanning_tree(&backward, &roots, spanning);
    progress.mark("idom");
    let r = preorder.len();

    progress.start(Phase::RetainedSizes, n as u64);
    let mut retained: Vec<u64> = idom
        .par_iter()
        .enumerate()
        .map(|(v, &d)| {
            if d == UNREACHABLE {
                0
            } else {
                index.shallow_size(v as ObjectId)
            }
        })
        .collect();
    // Children before their dominators.
    for &v in preorder.iter().rev() {
        let d = idom[v as usize];
        if d != SUPER_ROOT {
            retained[d as usize] += retained[v as usize];
        }
    }
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

    // Children lists, each sorted by retained size.
    let mut top_level: Vec<ObjectId> = idom
        .par_iter()
        .enumerate()
        .filter(|(_, &d)| d == SUPER_ROOT)
        .map(|(v, _)| v as ObjectId)
        .collect();
    let (child_offsets, mut children) = reverse(&DominatorEdges(&idom), n).into_parts();
    progress.mark("children");
    sort_children(&child_offsets, &mut children, &retained_of);
    top_level.sort_unstable_by(larger_retained_first(&retained_of));
    progress.mark("sorted");

    let total = index.total_shallow_bytes();
    progress.set(n as u64);
    DominatorTree {
        idom: idom.into(),
        retained,
        child_offsets: child_offsets.into(),
        children: children.into(),
        top_level: top_level.into(),
        mode,
        reachable_objects: r as u64,
        reachable_bytes,
        unreachable_objects: (n - r) as u64,
        unreachable_bytes: total - reachable_bytes,
    }
}

/// The order of children lists: largest retained size first, then by object number.
fn larger_retained_first(
    retained: &impl Fn(ObjectId) -> u64,
) -> impl Fn(&ObjectId, &ObjectId) -> std::cmp::Ordering + '_ {
    move |a, b| retained(*b).cmp(&retained(*a)).then(a.cmp(b))
}

/// Sorts each node's children list by [`larger_retained_first`].
fn sort_children(
    offsets: &[u32],
    children: &mut [ObjectId],
    retained: &(impl Fn(ObjectId) -> u64 + Sync),
) {
    // Jobs over ranges of nodes (and so of `children`); lists of a big array's elements,
    // millions long, are left for a parallel sort on keys read once.
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
    let by_retained = larger_retained_first(retained);
    let long: Vec<&mut [ObjectId]> = jobs
        .into_par_iter()
        .flat_map_iter(|(lo, hi, mut part)| {
            let mut long = Vec::new();
            for v in lo..hi {
                let (list, tail) = part.split_at_mut((offsets[v + 1] - offsets[v]) as usize);
                part = tail;
                if list.len() > LONG {
                    long.push(list);
                } else if list.len() > 1 {
                    list.sort_unstable_by(&by_retained);
                }
            }
            long
        })
        .collect();
    for list in long {
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

/// The semi-dominator search's state while node `current` is processed.
struct Forest<'a> {
    current: u32,
    pre_of: &'a [u32],
    ancestor: &'a mut [u32],
    best: &'a mut [u32],
    path: &'a mut Vec<u32>,
}

impl Forest<'_> {
    /// Lowers `s` to the least semi-dominator candidate that the referrers `preds` give.
    #[inline]
    fn lower_semi(&mut self, preds: &[u32], s: &mut u32) {
        const AHEAD: usize = 8;
        for &p in preds.iter().take(2 * AHEAD) {
            prefetch(self.pre_of, p as usize);
        }
        for (i, &p) in preds.iter().enumerate() {
            if *s == 0 {
                return;
            }
            if let Some(&q) = preds.get(i + 2 * AHEAD) {
                prefetch(self.pre_of, q as usize);
            }
            if let Some(&q) = preds.get(i + AHEAD) {
                let qq = self.pre_of[q as usize];
                if qq > self.current {
                    prefetch(self.ancestor, qq as usize);
                    prefetch(self.best, qq as usize);
                }
            }
            let pp = self.pre_of[p as usize];
            if pp == 0 {
                continue;
            }
            let e = eval(pp, self.current, self.ancestor, self.best, self.path);
            if e < *s {
                *s = e;
            }
        }
    }
}

/// Lengauer–Tarjan's EVAL with path compression, without recursion: the least
/// semi-dominator on the forest path above `v`, or `v` itself when it is not linked yet.
/// Nodes above `current` are linked; `ancestor` of the others is not read.
#[inline]
fn eval(v: u32, current: u32, ancestor: &mut [u32], best: &mut [u32], path: &mut Vec<u32>) -> u32 {
    if v <= current {
        // Not linked: its semi-dominator is not known yet, and is at most itself.
        return v;
    }
    path.clear();
    let mut x = v;
    while ancestor[x as usize] > current {
        path.push(x);
        x = ancestor[x as usize];
    }
    // `x`, the top linked node, keeps its value; the path below it takes the least.
    for &y in path.iter().rev() {
        let a = ancestor[y as usize] as usize;
        if best[a] < best[y as usize] {
            best[y as usize] = best[a];
        }
        ancestor[y as usize] = ancestor[a];
    }
    best[v as usize]
}

/// MAT's minimum retained size per class: the retained sizes of the instances that no other
/// instance of the same class dominates.
pub fn retained_by_class(index: &HeapIndex, tree: &DominatorTree) -> Vec<u64> {
    let identity: Vec<u32> = (0..index.classes().len() as u32).collect();
    retained_by_group(index, tree, &identity, identity.len())
}

/// The same for groups of classes (packages, loaders): `group_of[class]` is the class's group.
/// An object counts when no other object of its group dominates it.
pub fn retained_by_group(
    index: &HeapIndex,
    tree: &DominatorTree,
    group_of: &[u32],
    groups: usize,
) -> Vec<u64> {
    let group = |o: ObjectId| group_of[index.class_of(o) as usize];
    // One big subtree often holds most of the heap: cut the tree below its largest nodes into
    // subtrees walked in parallel, each with the groups on its path from the super-root.
    let Split {
        mut total,
        paths,
        tasks,
    } = split_subtrees(tree, &group, groups);
    struct Walk {
        total: Vec<u64>,
        /// Objects of each group on the current path; an object counts when its group has none.
        active: Vec<u32>,
        /// (object, next child position).
        stack: Vec<(ObjectId, u32)>,
    }
    let fresh = || Walk {
        total: vec![0; groups],
        active: vec![0; groups],
        stack: Vec::new(),
    };
    let walked = tasks
        .par_iter()
        .fold(fresh, |mut w, &(path, subtrees)| {
            let path = &paths[path as usize];
            for &g in path {
                w.active[g as usize] += 1;
            }
            let enter = |o: ObjectId, w: &mut Walk| {
                let g = group(o) as usize;
                if w.active[g] == 0 {
                    w.total[g] += tree.retained(o);
                }
                w.active[g] += 1;
                w.stack.push((o, 0));
            };
            for &root in subtrees {
                enter(root, &mut w);
                while let Some(&(o, next)) = w.stack.last() {
                    if let Some(&k) = tree.children(o).get(next as usize) {
                        if let Some(top) = w.stack.last_mut() {
                            top.1 += 1;
                        }
                        enter(k, &mut w);
                    } else {
                        w.active[group(o) as usize] -= 1;
                        w.stack.pop();
                    }
                }
            }
            for &g in path {
                w.active[g as usize] -= 1;
            }
            w
        })
        .reduce(fresh, |mut a, b| {
            for (x, y) in a.total.iter_mut().zip(b.total) {
                *x += y;
            }
            a
        });
    for (x, y) in total.iter_mut().zip(walked.total) {
        *x += y;
    }
    total
}

/// The dominator tree cut for parallel walks.
struct Split<'t> {
    /// What the nodes above the cut add, per group.
    total: Vec<u64>,
    /// Groups on the path from the super-root to a cut.
    paths: Vec<Vec<u32>>,
    /// Subtrees to walk: runs of roots below the same path (an index into `paths`).
    tasks: Vec<(u32, &'t [ObjectId])>,
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
    let mut splits = 0;
    // Lists sorted by retained size, largest first: only a prefix of each can be split, and
    // the rest (a big array's million elements) become tasks without a look at each.
    let mut lists: Vec<(&'t [ObjectId], u32)> = vec![(tree.top_level(), 0)];
    while let Some((list, path)) = lists.pop() {
        let (bigs, small) = list.split_at(list.partition_point(|&o| tree.retained(o) > big));
        tasks.extend(small.chunks(TASK).map(|run| (path, run)));
        for (i, &o) in bigs.iter().enumerate() {
            let kids = tree.children(o);
            if kids.is_empty() || paths[path as usize].len() >= MAX_PATH || splits >= MAX_SPLITS {
                tasks.push((path, &bigs[i..=i]));
                continue;
            }
            splits += 1;
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
    }
}

/// Instances and shallow bytes per class that no GC root reaches.
pub fn unreachable_by_class(index: &HeapIndex, tree: &DominatorTree) -> Vec<(u64, u64)> {
    let nclasses = index.classes().len();
    let fresh = || vec![(0u64, 0u64); nclasses];
    (0..index.object_count() as ObjectId)
        .into_par_iter()
        .with_min_len(1 << 16)
        .fold(fresh, |mut out, o| {
            if !tree.is_reachable(o) {
                let e = &mut out[index.class_of(o) as usize];
                e.0 += 1;
                e.1 += index.shallow_size(o);
            }
            out
        })
        .reduce(fresh, |mut a, b| {
            for (x, y) in a.iter_mut().zip(b) {
                x.0 += y.0;
                x.1 += y.1;
            }
            a
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    struct Adjacency {
        succ: Vec<Vec<u32>>,
        pred: Vec<Vec<u32>>,
    }

    impl Adjacency {
        fn new(n: usize, edges: &[(u32, u32)]) -> Self {
            let mut succ = vec![Vec::new(); n];
            let mut pred = vec![Vec::new(); n];
            for &(a, b) in edges {
                succ[a as usize].push(b);
                pred[b as usize].push(a);
            }
            Adjacency { succ, pred }
        }
    }

    impl Successors for Adjacency {
        fn node_count(&self) -> usize {
            self.succ.len()
        }
        fn for_each_successor(&self, v: u32, f: impl FnMut(u32)) {
            self.succ[v as usize].iter().copied().for_each(f);
        }
    }

    impl Predecessors for Adjacency {
        fn for_each_predecessor(&self, v: u32, f: impl FnMut(u32)) {
            self.pred[v as usize].iter().copied().for_each(f);
        }
        fn has_single_predecessor(&self, v: u32) -> bool {
            self.pred[v as usize].len() == 1
        }
    }

    fn reachable(g: &Adjacency, roots: &[u32], removed: Option<u32>) -> Vec<bool> {
        let mut seen = vec![false; g.succ.len()];
        let mut stack: Vec<u32> = roots
            .iter()
            .copied()
            .filter(|&r| Some(r) != removed)
            .collect();
        for &r in &stack {
            seen[r as usize] = true;
        }
        while let Some(v) = stack.pop() {
            for &t in &g.succ[v as usize] {
                if !seen[t as usize] && Some(t) != removed {
                    seen[t as usize] = true;
                    stack.push(t);
                }
            }
        }
        seen
    }

    /// Dominators by definition: d dominates v when removing d makes v unreachable.
    fn naive_idom(g: &Adjacency, roots: &[u32]) -> Vec<u32> {
        let n = g.succ.len();
        let base = reachable(g, roots, None);
        let dominated: Vec<Vec<bool>> = (0..n as u32)
            .map(|d| {
                let r = reachable(g, roots, Some(d));
                (0..n)
                    .map(|v| base[v] && !r[v] && v != d as usize)
                    .collect()
            })
            .collect();
        (0..n)
            .map(|v| {
                if !base[v] {
                    return UNREACHABLE;
                }
                let strict: Vec<u32> = (0..n as u32)
                    .filter(|&d| dominated[d as usize][v])
                    .collect();
                // The immediate dominator is the strict dominator every other one dominates.
                strict
                    .iter()
                    .copied()
                    .find(|&d| {
                        strict
                            .iter()
                            .all(|&e| e == d || dominated[e as usize][d as usize])
                    })
                    .unwrap_or(SUPER_ROOT)
            })
            .collect()
    }

    #[test]
    fn hand_made_diamond_and_chain() {
        // 0 → 1 → 3, 0 → 2 → 3, 3 → 4 → 5 → 6 (chain), 7 unreachable → 3
        let g = Adjacency::new(
            8,
            &[
                (0, 1),
                (0, 2),
                (1, 3),
                (2, 3),
                (3, 4),
                (4, 5),
                (5, 6),
                (7, 3),
            ],
        );
        let (idom, order) = immediate_dominators(&g, &[0]);
        assert_eq!(idom, vec![SUPER_ROOT, 0, 0, 0, 3, 4, 5, UNREACHABLE]);
        assert_eq!(order.len(), 7);
        // Two roots sharing a child: the child hangs off the super-root.
        let g = Adjacency::new(3, &[(0, 2), (1, 2)]);
        let (idom, _) = immediate_dominators(&g, &[0, 1]);
        assert_eq!(idom, vec![SUPER_ROOT, SUPER_ROOT, SUPER_ROOT]);
    }

    #[test]
    fn million_deep_chain_does_not_overflow_the_stack() {
        let n = 1_000_000u32;
        let edges: Vec<(u32, u32)> = (0..n - 1).map(|i| (i, i + 1)).collect();
        let g = Adjacency::new(n as usize, &edges);
        let (idom, _) = immediate_dominators(&g, &[0]);
        assert_eq!(idom[n as usize - 1], n - 2);
        assert_eq!(idom[0], SUPER_ROOT);
    }

    /// Checks `immediate_dominators` against the definition, and its preorder.
    fn check_against_naive(g: &Adjacency, roots: &[u32]) -> Result<(), TestCaseError> {
        let n = g.succ.len();
        let (idom, order) = immediate_dominators(g, roots);
        prop_assert_eq!(&idom, &naive_idom(g, roots));
        let mut pos = vec![usize::MAX; n];
        for (i, &v) in order.iter().enumerate() {
            pos[v as usize] = i;
        }
        for &v in &order {
            let d = idom[v as usize];
            if d != SUPER_ROOT {
                prop_assert!(pos[d as usize] < pos[v as usize]);
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Mostly single-referrer nodes, as in a Java heap: a random tree (chains when the
        /// parent is the previous node) plus a few extra edges making diamonds, cycles
        /// through single-referrer nodes, and referrers of roots.
        #[test]
        fn matches_naive_dominators_on_trees_with_extra_edges(
            n in 1usize..40,
            parents in proptest::collection::vec((0u32..40, proptest::bool::weighted(0.4)), 40),
            extra in proptest::collection::vec((0u32..40, 0u32..40), 0..8),
            raw_roots in proptest::collection::vec(0u32..40, 1..4),
        ) {
            let mut edges = Vec::new();
            for v in 1..n as u32 {
                let (p, chain) = parents[v as usize];
                edges.push((if chain { v - 1 } else { p % v }, v));
            }
            edges.extend(extra.into_iter().map(|(a, b)| (a % n as u32, b % n as u32)));
            let mut roots: Vec<u32> = raw_roots.into_iter().map(|r| r % n as u32).collect();
            roots.sort_unstable();
            roots.dedup();
            check_against_naive(&Adjacency::new(n, &edges), &roots)?;
        }

        /// Long chains with a few edges across them and back up them.
        #[test]
        fn matches_naive_dominators_on_chains(
            n in 2usize..120,
            extra in proptest::collection::vec((0u32..120, 0u32..120), 0..6),
            second_root in 0u32..120,
        ) {
            let mut edges: Vec<(u32, u32)> = (1..n as u32).map(|v| (v - 1, v)).collect();
            edges.extend(extra.into_iter().map(|(a, b)| (a % n as u32, b % n as u32)));
            let mut roots = vec![0, second_root % n as u32];
            roots.sort_unstable();
            roots.dedup();
            check_against_naive(&Adjacency::new(n, &edges), &roots)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn matches_naive_dominators(
            n in 1usize..24,
            raw_edges in proptest::collection::vec((0u32..24, 0u32..24), 0..60),
            raw_roots in proptest::collection::vec(0u32..24, 1..4),
        ) {
            let edges: Vec<(u32, u32)> = raw_edges
                .into_iter()
                .map(|(a, b)| (a % n as u32, b % n as u32))
                .collect();
            let mut roots: Vec<u32> = raw_roots.into_iter().map(|r| r % n as u32).collect();
            roots.sort_unstable();
            roots.dedup();
            let g = Adjacency::new(n, &edges);
            let mut tree = spanning_tree(&g, &roots);
            let vertex = tree.vertex.clone();
            tree.release_vertex();
            tree.restore_vertex();
            prop_assert_eq!(&tree.vertex, &vertex);
            let (idom, order) = immediate_dominators(&g, &roots);
            prop_assert_eq!(&idom, &naive_idom(&g, &roots));
            // Preorder puts every dominator before what it dominates.
            let mut pos = vec![usize::MAX; n];
            for (i, &v) in order.iter().enumerate() {
                pos[v as usize] = i;
            }
            for &v in &order {
                let d = idom[v as usize];
                if d != SUPER_ROOT {
                    prop_assert!(pos[d as usize] < pos[v as usize]);
                }
            }
        }
    }
}
