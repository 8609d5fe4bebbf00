//! Immediate dominators by semi-NCA: a depth-first spanning tree (the forward walk), then
//! semi-dominators with iterative path compression and nearest common ancestors, over u32
//! preorder numbers.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use rayon::prelude::*;

use super::{NONE, SUPER_ROOT, UNREACHABLE};
use crate::analysis::graph::{Distance, NodeBits, Predecessors, Successors};
use crate::heap::rank::RankedBits;
use crate::heap::store::Array;
use crate::prefetch::prefetch;
use crate::progress::Progress;
use search::{ReferrerBlock, SemiSearch};

mod search;

/// Immediate dominators from a virtual super-root whose successors are `roots` (sorted,
/// unique). Returns per node its immediate dominator, [`SUPER_ROOT`] or [`UNREACHABLE`], and
/// the reachable nodes in depth-first preorder (so every node comes after its dominator).
pub fn immediate_dominators<G: Successors + Predecessors + Sync>(
    g: &G,
    roots: &[u32],
) -> (Vec<u32>, Vec<u32>) {
    let never = Progress::new();
    spanning_tree(g, roots, &never)
        .and_then(|tree| dominators_of_spanning_tree(g, roots, tree, &never))
        .unwrap_or_default()
}

/// How often the long sequential loops look at `Progress`: cancel stops them within
/// milliseconds, and the counter moves while they run.
pub(super) const CHECK_EVERY: usize = 1 << 16;

/// A depth-first spanning tree from the super-root (preorder number 0): the only part of the
/// dominator computation that walks forward.
pub struct SpanningTree {
    /// Preorder number of each node; 0 when unreachable. Parked by [`SpanningTree::park_in`]:
    /// the referrer lists are built between the walk that writes it and the search that
    /// reads it.
    pub(super) pre_of: Array<u32>,
    /// Preorder number of each node's parent, by preorder number (`parent[0]` is the
    /// super-root's). The node of each preorder number is not kept: it is the inverse of
    /// `pre_of`, derived when needed (4 bytes per object less while memory is tightest).
    pub(super) parent: Vec<u32>,
    /// Where the search may park an array it writes early and reads again only at the end,
    /// and whether it always does ([`SpanningTree::park_in`]).
    pub(super) scratch: Option<(std::path::PathBuf, bool)>,
}

impl SpanningTree {
    /// Parks the preorder numbers in a temporary file in `dir` until the search reads them
    /// (while the referrer lists are built, 4 bytes per object less), and lets the search
    /// park what it reads again only at the end (the single-referrer nodes' parents, 4 bytes
    /// per object): when memory is short, or `always`.
    pub fn park_in(&mut self, dir: &std::path::Path, always: bool) {
        let pre_of = std::mem::replace(&mut self.pre_of, Vec::new().into());
        self.pre_of = crate::heap::store::park(pre_of, dir);
        self.scratch = Some((dir.to_path_buf(), always));
    }

    /// The node of each preorder number (`[0]` is the super-root).
    #[cfg(test)]
    pub fn vertex(&self) -> Vec<u32> {
        vertex_of_preorder(&self.pre_of, self.parent.len(), Vec::new())
    }
}

/// The node of each preorder number `0..len`, from the preorder number of each node; in
/// `buffer`'s memory ([`crate::memory::zeroed_in`]).
fn vertex_of_preorder(pre_of: &[u32], len: usize, buffer: Vec<u32>) -> Vec<u32> {
    let mut vertex = crate::memory::zeroed_in(buffer, len);
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

/// The node of each preorder number in `wanted`, by its rank there: one pass over
/// `pre_of` that writes only those (the whole inverse, 4 bytes per object, is made only at
/// the end, where memory is less tight).
fn nodes_by_rank(pre_of: &[u32], wanted: &RankedBits) -> Vec<u32> {
    let mut nodes = vec![0u32; wanted.ones()];
    let cells = as_cells(&mut nodes);
    pre_of
        .par_iter()
        .enumerate()
        .with_min_len(1 << 14)
        .for_each(|(v, &w)| {
            if w != 0 && wanted.contains(w) {
                cells[wanted.rank(w)].store(v as u32, Relaxed);
            }
        });
    nodes
}

/// `slice` as atomics, for workers that each write distinct places of it (relaxed stores).
fn as_cells(slice: &mut [u32]) -> &[AtomicU32] {
    // SAFETY: `AtomicU32` has the size and alignment of `u32`, and `slice` stays borrowed
    // exclusively while the atomics live.
    unsafe { &*(slice as *mut [u32] as *const [AtomicU32]) }
}

/// The depth-first spanning tree; `None` once `progress` is cancelled. Counts half a step per
/// node entered (the semi-dominator loop counts the other half).
pub fn spanning_tree<G: Successors>(
    g: &G,
    roots: &[u32],
    progress: &Progress,
) -> Option<SpanningTree> {
    let n = g.node_count();
    // Depth-first preorder from the super-root (preorder number 0).
    let mut pre_of = vec![0u32; n];
    let mut parent: Vec<u32> = Vec::with_capacity(n + 1);
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
            pre_of[r as usize] = parent.len() as u32;
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
                    if parent.len() % CHECK_EVERY == 0 {
                        if progress.is_cancelled() {
                            return None;
                        }
                        progress.set(parent.len() as u64 / 2);
                    }
                    let tnum = parent.len() as u32;
                    pre_of[t as usize] = tnum;
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
    Some(SpanningTree {
        pre_of: pre_of.into(),
        parent,
        scratch: None,
    })
}

/// Immediate dominators as `immediate_dominators`, from a spanning tree of the same graph;
/// `None` once `progress` is cancelled.
pub fn dominators_of_spanning_tree<G: Predecessors + Sync>(
    g: &G,
    roots: &[u32],
    tree: SpanningTree,
    progress: &Progress,
) -> Option<(Vec<u32>, Vec<u32>)> {
    let SpanningTree {
        pre_of,
        parent,
        scratch,
    } = tree;
    let r = parent.len() - 1;

    // Most nodes are GC roots (semi-dominator 0) or have one referrer (their DFS parent is
    // their semi-dominator and immediate dominator). Only the others, "multi" nodes, need
    // the search, so only they keep their node, parent and semi-dominator, in these lists.
    let (root_at, single_at) = kinds_by_preorder(g, roots, &pre_of, r);
    progress.mark("node kinds");
    let multi = RankedBits::from_fn(r + 1, |w| {
        w != 0 && !root_at.contains(w as u32) && !single_at.contains(w as u32)
    });
    let multi_at: Vec<u32> = (1..=r as u32)
        .into_par_iter()
        .filter(|&w| multi.contains(w))
        .collect();
    let multi_node = nodes_by_rank(&pre_of, &multi);
    drop(multi);
    let multi_parent: Vec<u32> = multi_at.par_iter().map(|&w| parent[w as usize]).collect();
    let mut multi_semi = vec![0u32; multi_at.len()];
    // A single-referrer node's immediate dominator is its referrer, its spanning-tree
    // parent. Where `g` does not list that referrer, the parent is kept (the search
    // compresses `parent` in place).
    let single_parent: Option<Array<u32>> = (!g.lists_single_predecessors()).then(|| {
        let kept: Vec<u32> = parent
            .par_iter()
            .enumerate()
            .map(|(w, &p)| if single_at.contains(w as u32) { p } else { 0 })
            .collect();
        // Short: less left than the search's four arrays of 4 bytes per node.
        let short = || crate::memory::is_short_of(16 * r as u64);
        match &scratch {
            Some((dir, always)) if *always || short() => crate::heap::store::park(kept.into(), dir),
            _ => kept.into(),
        }
    });

    // Semi-dominators (Lengauer–Tarjan's first phase, with iterative path compression).
    // Nodes above the current one are linked into the forest, whose links are the DFS
    // parents (`ancestor`, compressed in place: the parents of nodes not linked yet are
    // intact). `best[x]` is the least semi-dominator on x's compressed path (a value, not a
    // node as Lengauer–Tarjan's `label`: one random read less per step). The semi-dominators
    // of GC roots (0) and of single-referrer nodes (their parent) are known: written on
    // every core (first touches of fresh pages cost more than the values), so the loop
    // visits only the multi nodes. A node's `best` is not read before it is linked.
    let mut ancestor = parent;
    let mut best: Vec<u32> = (0..=r as u32)
        .into_par_iter()
        .map(|w| {
            if single_at.contains(w) && !root_at.contains(w) {
                ancestor[w as usize]
            } else {
                0
            }
        })
        .collect();
    let mut search = SemiSearch {
        g,
        pre_of: &pre_of,
        multi_at: &multi_at,
        multi_node: &multi_node,
        ancestor: &mut ancestor,
        best: &mut best,
        path: Vec::new(),
        batch: Vec::new(),
        multi_semi: &mut multi_semi,
    };
    // In blocks of multi nodes from the last: while one core runs the loop over a block, the
    // other gathers the referrers of the block before it.
    let gather = |end: usize| ReferrerBlock::gather(g, end, &multi_node, &pre_of);
    let mut next = (!multi_at.is_empty()).then(|| gather(multi_at.len()));
    while let Some(block) = next.take() {
        let (gathered, done) = rayon::join(
            || (block.first > 0).then(|| gather(block.first)),
            || search.run(&block, progress),
        );
        done?;
        next = gathered;
    }
    drop(search);
    if progress.is_cancelled() {
        return None;
    }
    drop(multi_node);
    progress.mark("semi-dominators");

    // Immediate dominators in preorder numbers, in `best`'s place: 0 for GC roots, the one
    // referrer for single-referrer nodes (on every core), then the nearest-common-ancestor
    // step of semi-NCA for the multi nodes, in preorder.
    let mut idom_pre = best;
    if let Some(single_parent) = single_parent {
        idom_pre
            .par_iter_mut()
            .zip(single_parent.par_iter())
            .enumerate()
            .for_each(|(w, (d, &p))| {
                if root_at.contains(w as u32) {
                    *d = 0;
                } else if single_at.contains(w as u32) {
                    *d = p;
                }
            });
    } else {
        let cells = as_cells(&mut idom_pre);
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
    // By node: each reachable node's slot is written once, from its preorder number (three
    // arrays live, not four with `pre_of`).
    // In the forest links' memory.
    let mut vertex = vertex_of_preorder(&pre_of, r + 1, ancestor);
    let n = pre_of.len();
    drop(pre_of);
    // Filled on every core: the first touch of each fresh page is most of the cost.
    let mut idom: Vec<u32> = (0..n).into_par_iter().map(|_| UNREACHABLE).collect();
    {
        let cells = as_cells(&mut idom);
        (1..r + 1)
            .into_par_iter()
            .with_min_len(1 << 14)
            .for_each(|w| {
                let d = match idom_pre[w] {
                    0 => SUPER_ROOT,
                    d => vertex[d as usize],
                };
                if let Some(cell) = cells.get(vertex[w] as usize) {
                    cell.store(d, Relaxed);
                }
            });
    }
    drop(idom_pre);
    vertex.remove(0);
    Some((idom, vertex))
}

/// GC roots, and nodes with one referrer, by preorder number: found on every core, so the
/// sequential semi-dominator loop reads a bit in order rather than, at random, the root set
/// and the bounds of a referrer list (which most nodes need no more than that). Each worker
/// owns a range of preorder numbers and reads every node: plain writes to bits of its own,
/// where atomic ones at random places would each wait for their memory in turn.
fn kinds_by_preorder<G: Predecessors + Sync>(
    g: &G,
    roots: &[u32],
    pre_of: &[u32],
    r: usize,
) -> (NodeBits, NodeBits) {
    let mut root_at = NodeBits::new(r + 1);
    for &root in roots {
        if let Some(&w) = pre_of.get(root as usize).filter(|&&w| w != 0) {
            root_at.insert(w);
        }
    }
    let mut words = vec![0u64; (r + 1).div_ceil(64)];
    let per_worker = words
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(1);
    words
        .par_chunks_mut(per_worker)
        .enumerate()
        .for_each(|(k, out)| {
            let lo = k * per_worker * 64;
            let hi = lo + out.len() * 64;
            for (v, &w) in pre_of.iter().enumerate() {
                let w = w as usize;
                if w != 0
                    && (lo..hi).contains(&w)
                    && !root_at.contains(w as u32)
                    && g.has_single_predecessor(v as u32)
                {
                    out[(w - lo) / 64] |= 1 << (w % 64);
                }
            }
        });
    (root_at, NodeBits::from_words(words))
}
