//! Immediate dominators by semi-NCA: a depth-first spanning tree (the forward walk), then
//! semi-dominators with iterative path compression and nearest common ancestors, over u32
//! preorder numbers.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use rayon::prelude::*;

use super::{SUPER_ROOT, UNREACHABLE};
use crate::analysis::graph::{DerivedEdges, Distance, NodeBits, Successors};
use crate::heap::store::Array;
use crate::prefetch::prefetch;
use crate::progress::Progress;
pub use listed::DerivedSources;
use listed::ListedReferrers;
use parents::PreorderParents;

mod listed;
mod parents;
mod search;

/// Immediate dominators from a virtual super-root whose successors are `roots` (sorted,
/// unique). Returns per node its immediate dominator, [`SUPER_ROOT`] or [`UNREACHABLE`], and
/// the reachable nodes in depth-first preorder (so every node comes after its dominator).
pub fn immediate_dominators<G: Successors + DerivedEdges>(
    g: &G,
    roots: &[u32],
) -> (Vec<u32>, Vec<u32>) {
    let never = Progress::new();
    spanning_tree(g, g, roots, &never)
        .and_then(|tree| {
            dominators_of_spanning_tree(g, DerivedSources::Grouped, roots, tree, &never)
        })
        .unwrap_or_default()
}

/// How often the long sequential loops look at `Progress`: cancel stops them within
/// milliseconds, and the counter moves while they run.
pub(super) const CHECK_EVERY: usize = 1 << 16;

/// A depth-first spanning tree from the super-root (preorder number 0): the only part of the
/// dominator computation that walks forward.
pub struct SpanningTree {
    /// Preorder number of each node; 0 when unreachable. Parked by [`SpanningTree::park_in`]
    /// when memory is short.
    pub(super) pre_of: Array<u32>,
    /// Preorder number of each node's parent, by preorder number (`parent[0]` is the
    /// super-root's), kept as depths until the search (a byte a node,
    /// [`parents::PreorderParents`]). The node of each preorder number is not kept: it is
    /// the inverse of `pre_of`, derived when needed (4 bytes per object less while memory is
    /// tightest).
    pub(super) parent: PreorderParents,
    /// The edges the walk did not enter by, but the derived ones: the referrers the
    /// semi-dominator search reads ([`listed::NonTreeEdges`]).
    pub(super) non_tree: listed::NonTreeEdges,
    /// Where the search may park an array it writes early and reads again only at the end,
    /// and whether it always does ([`SpanningTree::park_in`]).
    pub(super) scratch: Option<(std::path::PathBuf, bool)>,
}

impl SpanningTree {
    /// Parks the preorder numbers in a temporary file in `dir` until the search reads them
    /// again at its end (4 bytes per object less), and lets the search park what it reads
    /// again only at the end (the single-referrer nodes' parents, 4 bytes per object): when
    /// memory is short, or `always`.
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

/// `slice` as atomics, for workers that each write distinct places of it (relaxed stores).
fn as_cells(slice: &mut [u32]) -> &[AtomicU32] {
    // SAFETY: `AtomicU32` has the size and alignment of `u32`, and `slice` stays borrowed
    // exclusively while the atomics live.
    unsafe { &*(slice as *mut [u32] as *const [AtomicU32]) }
}

/// The depth-first spanning tree, listing the edges it does not enter by (but `derived`'s);
/// `None` once `progress` is cancelled. Counts half a step per node entered (the
/// semi-dominator loop counts the other half).
pub fn spanning_tree<G: Successors>(
    g: &G,
    derived: &impl DerivedEdges,
    roots: &[u32],
    progress: &Progress,
) -> Option<SpanningTree> {
    let n = g.node_count();
    // Depth-first preorder from the super-root (preorder number 0).
    let mut pre_of = vec![0u32; n];
    // By depth: the super-root's is 0, a GC root's 1, a node's one more than its parent's.
    let mut parent = PreorderParents::with_capacity(n + 1);
    parent.push(0);
    let mut non_tree = listed::NonTreeEdges::default();
    {
        // Successors not seen yet are gathered per node when it is entered: (first successor,
        // end) into `succ`; they are tested again when their turn comes. Those seen already,
        // and those seen by their turn, are listed as non-tree edges.
        let mut seen = NodeBits::new(n);
        let mut succ: Vec<u32> = Vec::new();
        let mut stack: Vec<(u32, usize, usize)> = Vec::new();
        for &r in roots {
            if (r as usize) >= n || !seen.insert(r) {
                continue;
            }
            let rnum = parent.len() as u32;
            pre_of[r as usize] = rnum;
            parent.push(1);
            let a = succ.len();
            let skip = derived.derived_successor(r);
            g.for_each_successor(r, |t| {
                if !seen.contains(t) {
                    succ.push(t)
                } else if Some(t) != skip {
                    non_tree.push(rnum, t);
                }
            });
            stack.push((rnum, a, succ.len()));
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
                if !seen.insert(t) {
                    non_tree.push(vnum, t);
                    continue;
                }
                if parent.len() % CHECK_EVERY == 0 {
                    if progress.is_cancelled() {
                        return None;
                    }
                    progress.set(parent.len() as u64 / 2);
                }
                let tnum = parent.len() as u32;
                pre_of[t as usize] = tnum;
                // One below `vnum`, whose frame tops the stack of the path's frames.
                parent.push(stack.len() as u32 + 1);
                let a = succ.len();
                let skip = derived.derived_successor(t);
                g.for_each_successor(t, |x| {
                    if !seen.contains(x) {
                        g.prefetch(x, Distance::Far);
                        prefetch(&pre_of, x as usize);
                        succ.push(x)
                    } else if Some(x) != skip {
                        non_tree.push(tnum, x);
                    }
                });
                stack.push((tnum, a, succ.len()));
            }
        }
    }
    // Its spare capacity given back (glibc moves big blocks' pages, it copies nothing).
    non_tree.shrink_to_fit();
    Some(SpanningTree {
        pre_of: pre_of.into(),
        parent,
        non_tree,
        scratch: None,
    })
}

/// Immediate dominators as `immediate_dominators`, from a spanning tree of the graph whose
/// derived edges are `derived`, their sources read from `sources`; `None` once `progress` is
/// cancelled.
pub fn dominators_of_spanning_tree(
    derived: &impl DerivedEdges,
    sources: DerivedSources,
    roots: &[u32],
    tree: SpanningTree,
    progress: &Progress,
) -> Option<(Vec<u32>, Vec<u32>)> {
    let SpanningTree {
        pre_of,
        parent,
        non_tree,
        scratch,
    } = tree;
    let r = parent.len() - 1;

    // Most nodes are GC roots (semi-dominator 0) or have one referrer, their spanning-tree
    // parent (which is their semi-dominator and immediate dominator). Only the others,
    // "multi" nodes, need the search: those with a non-tree edge or a derived one to them.
    let root_at = roots_by_preorder(roots, &pre_of, r);
    // The parents are expanded (one pass in preorder, on one core) beside the lists.
    let (referrers, parent) = rayon::join(
        || ListedReferrers::new(non_tree, derived, sources, &pre_of, &root_at, progress),
        || parent.expand(),
    );
    let referrers = referrers?;
    progress.mark("referrer lists");
    let multi_at = &referrers.multi_at;
    let single_at = singles(&root_at, multi_at, r);
    let multi_parent: Vec<u32> = multi_at.par_iter().map(|&w| parent[w as usize]).collect();
    let mut multi_semi = vec![0u32; multi_at.len()];
    // A single-referrer node's immediate dominator is its spanning-tree parent; the search
    // compresses `parent` in place, so the single nodes' are kept apart.
    let single_parent: Array<u32> = {
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
    };

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
            if single_at.contains(w) {
                ancestor[w as usize]
            } else {
                0
            }
        })
        .collect();
    search::semi_dominators(
        &referrers,
        &mut ancestor,
        &mut best,
        &mut multi_semi,
        progress,
    )?;
    drop(referrers.lists);
    progress.mark("semi-dominators");

    // Immediate dominators in preorder numbers, in `best`'s place: 0 for GC roots, the
    // parent for single-referrer nodes (on every core), then the nearest-common-ancestor
    // step of semi-NCA for the multi nodes, in preorder.
    let mut idom_pre = best;
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
    drop(single_parent);
    for (k, &w) in multi_at.iter().enumerate() {
        let mut d = multi_parent[k];
        while d > multi_semi[k] {
            d = idom_pre[d as usize];
        }
        idom_pre[w as usize] = d;
    }
    drop(multi_parent);
    drop(multi_semi);
    drop(referrers.multi_at);
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

/// The GC roots' preorder numbers.
fn roots_by_preorder(roots: &[u32], pre_of: &[u32], r: usize) -> NodeBits {
    let mut root_at = NodeBits::new(r + 1);
    for &root in roots {
        if let Some(&w) = pre_of.get(root as usize).filter(|&&w| w != 0) {
            root_at.insert(w);
        }
    }
    root_at
}

/// The preorder numbers `1..=r` of neither a GC root nor a multi node (`multi_at`,
/// ascending): the single-referrer nodes.
fn singles(root_at: &NodeBits, multi_at: &[u32], r: usize) -> NodeBits {
    let mut multi = NodeBits::new(r + 1);
    for &w in multi_at {
        multi.insert(w);
    }
    let words: Vec<u64> = root_at
        .words()
        .par_iter()
        .zip(multi.words().par_iter())
        .enumerate()
        .map(|(i, (&root, &multi))| {
            let mut single = !(root | multi);
            if i == 0 {
                single &= !1;
            }
            let past = (r + 1).saturating_sub(i * 64);
            if past < 64 {
                single &= (1u64 << past) - 1;
            }
            single
        })
        .collect();
    NodeBits::from_words(words)
}
