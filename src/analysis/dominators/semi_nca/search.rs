//! The semi-dominator loop of semi-NCA (Lengauer–Tarjan's first phase, with iterative path
//! compression), and the blocks of referrers another core gathers for it.

use rayon::prelude::*;

use super::CHECK_EVERY;
use crate::analysis::graph::Predecessors;
use crate::prefetch::prefetch;
use crate::progress::Progress;

/// The semi-dominator loop's state.
pub(super) struct SemiSearch<'a, G> {
    pub(super) g: &'a G,
    pub(super) pre_of: &'a [u32],
    /// The preorder number and the node of each multi node (by its index among them).
    pub(super) multi_at: &'a [u32],
    pub(super) multi_node: &'a [u32],
    pub(super) ancestor: &'a mut [u32],
    pub(super) best: &'a mut [u32],
    pub(super) path: Vec<u32>,
    /// Referrers of a long list, read a batch at a time.
    pub(super) batch: Vec<u32>,
    /// By multi node.
    pub(super) multi_semi: &'a mut [u32],
}

impl<G: Predecessors + Sync> SemiSearch<'_, G> {
    /// The loop over `block`'s multi nodes, from the last; `None` once `progress` is
    /// cancelled. The other nodes' `best` holds their semi-dominator already.
    pub(super) fn run(&mut self, block: &ReferrerBlock, progress: &Progress) -> Option<()> {
        let r = self.best.len() - 1;
        for k in (block.first..block.first + block.len()).rev() {
            let w = self.multi_at[k];
            if k % CHECK_EVERY == 0 {
                if progress.is_cancelled() {
                    return None;
                }
                progress.set(((r + (r - w as usize)) / 2) as u64);
            }
            let mut s = w;
            let mut forest = Forest {
                current: w,
                ancestor: self.ancestor,
                best: self.best,
                path: &mut self.path,
            };
            match block.of(k - block.first) {
                Some(preds) => forest.lower_semi(preds, &mut s),
                None => {
                    // Too long to copy: read in batches, each on every core.
                    let (batch, pre_of) = (&mut self.batch, self.pre_of);
                    let to_pre = |p: u32| pre_of[p as usize];
                    batch.clear();
                    self.g.for_each_predecessor(self.multi_node[k], |p| {
                        batch.push(p);
                        if batch.len() == LONG {
                            forest.lower_semi_on_every_core(batch, to_pre, &mut s);
                            batch.clear();
                        }
                    });
                    forest.lower_semi_on_every_core(batch, to_pre, &mut s);
                }
            }
            self.multi_semi[k] = s;
            self.best[w as usize] = s;
        }
        Some(())
    }
}

/// The referrers of consecutive nodes the semi-dominator search looks at ("multi" nodes,
/// with several referrers), as preorder numbers: gathered on another core, so that the
/// sequential loop streams through them instead of looking up, at random, each node's list
/// and each referrer's preorder number.
#[derive(Default)]
pub(super) struct ReferrerBlock {
    /// Index of the first node among the multi nodes.
    pub(super) first: usize,
    /// Where each node's list starts in `refs`, and where the last one ends.
    starts: Vec<u32>,
    refs: Vec<u32>,
    /// Nodes (in the block) whose lists are [`LONG`] or longer: not copied.
    long: Vec<u32>,
}

/// Referrers a block holds at most (but for its first list), 4 MiB. (Unit tests take all
/// three ways on small graphs: several blocks, long lists, lists read on every core.)
const BLOCK_REFS: usize = if cfg!(test) { 16 } else { 1 << 20 };
/// Lists this long (a class object has every instance as a referrer) are read in place,
/// in batches of this many, on every core.
const LONG: usize = if cfg!(test) { 12 } else { 1 << 16 };

impl ReferrerBlock {
    /// The block of multi nodes that ends before the `end`-th (`multi_node[k]` is node k):
    /// as many as [`BLOCK_REFS`] holds. Unreachable referrers are left out.
    pub(super) fn gather<G: Predecessors>(
        g: &G,
        end: usize,
        multi_node: &[u32],
        pre_of: &[u32],
    ) -> ReferrerBlock {
        const AHEAD: usize = 4;
        let mut first = end;
        let mut total = 0;
        // From the last node of the block back.
        let mut counts = Vec::new();
        while first > 0 {
            let count = g.predecessor_count(multi_node[first - 1]);
            let copied = if count >= LONG { 0 } else { count };
            if total + copied > BLOCK_REFS && first < end {
                break;
            }
            total += copied;
            counts.push(count);
            first -= 1;
        }
        let nodes = &multi_node[first..end];
        let mut starts = Vec::with_capacity(nodes.len() + 1);
        let mut refs = Vec::with_capacity(total);
        let mut long = Vec::new();
        starts.push(0);
        for (i, &v) in nodes.iter().enumerate() {
            if let Some(&ahead) = nodes.get(i + AHEAD) {
                g.prefetch_predecessors(ahead);
            }
            if counts[nodes.len() - 1 - i] >= LONG {
                long.push(i as u32);
            } else {
                g.for_each_predecessor(v, |p| {
                    let pp = pre_of[p as usize];
                    if pp != 0 {
                        refs.push(pp);
                    }
                });
            }
            starts.push(refs.len() as u32);
        }
        ReferrerBlock {
            first,
            starts,
            refs,
            long,
        }
    }

    fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// The referrers of the block's `i`-th node; `None` when its list is long.
    #[inline]
    fn of(&self, i: usize) -> Option<&[u32]> {
        if self.long.binary_search(&(i as u32)).is_ok() {
            return None;
        }
        Some(&self.refs[self.starts[i] as usize..self.starts[i + 1] as usize])
    }
}

/// From this many referrers a list is read on every core (in unit tests, from a few, so
/// that the proptests against the naive definition take both ways).
const ON_EVERY_CORE: usize = if cfg!(test) { 6 } else { 1 << 14 };
/// Path steps a referrer's candidate is read over without compression, on every core.
const READ_STEPS: u32 = if cfg!(test) { 1 } else { 4 };

/// The semi-dominator search's state while node `current` is processed.
struct Forest<'a> {
    current: u32,
    ancestor: &'a mut [u32],
    best: &'a mut [u32],
    path: &'a mut Vec<u32>,
}

impl Forest<'_> {
    /// Lowers `s` to the least semi-dominator candidate that the referrers `preds` (preorder
    /// numbers) give.
    #[inline]
    fn lower_semi(&mut self, preds: &[u32], s: &mut u32) {
        if preds.len() >= ON_EVERY_CORE {
            self.lower_semi_on_every_core(preds, |pp| pp, s);
        } else {
            self.lower_semi_in_turn(preds, s);
        }
    }

    /// [`Forest::lower_semi`] for a long list (a class object has every instance as a
    /// referrer), of referrers whose preorder numbers `to_pre` gives: each referrer's
    /// candidate is read without compressing its path, on every core, where that path is
    /// short (compression does not change the candidate); the few with longer paths are
    /// then evaluated in turn.
    fn lower_semi_on_every_core(
        &mut self,
        preds: &[u32],
        to_pre: impl Fn(u32) -> u32 + Sync,
        s: &mut u32,
    ) {
        if *s == 0 {
            return;
        }
        let current = self.current;
        let (ancestor, best) = (&*self.ancestor, &*self.best);
        let (least, longer) = preds
            .par_chunks(1 << 12)
            .map(|part| {
                let mut least = u32::MAX;
                let mut longer = Vec::new();
                for &p in part {
                    let pp = to_pre(p);
                    if pp == 0 {
                        continue;
                    }
                    if pp <= current {
                        least = least.min(pp);
                        continue;
                    }
                    let (mut x, mut m, mut steps) = (pp, best[pp as usize], 0);
                    while ancestor[x as usize] > current && steps <= READ_STEPS {
                        steps += 1;
                        x = ancestor[x as usize];
                        m = m.min(best[x as usize]);
                    }
                    if steps > READ_STEPS {
                        longer.push(pp);
                    } else {
                        least = least.min(m);
                    }
                }
                (least, longer)
            })
            .reduce(
                || (u32::MAX, Vec::new()),
                |(a, mut la), (b, lb)| {
                    la.extend(lb);
                    (a.min(b), la)
                },
            );
        *s = (*s).min(least);
        for pp in longer {
            if *s == 0 {
                return;
            }
            let e = eval(pp, current, self.ancestor, self.best, self.path);
            *s = (*s).min(e);
        }
    }

    /// [`Forest::lower_semi`] one referrer after the other, compressing paths.
    #[inline]
    fn lower_semi_in_turn(&mut self, preds: &[u32], s: &mut u32) {
        const AHEAD: usize = 8;
        for (i, &pp) in preds.iter().enumerate() {
            // 0, the super-root, is the least a semi-dominator can be: the rest of the list
            // cannot lower it.
            if *s == 0 {
                return;
            }
            if let Some(&q) = preds.get(i + AHEAD).filter(|&&q| q > self.current) {
                prefetch(self.ancestor, q as usize);
                prefetch(self.best, q as usize);
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
