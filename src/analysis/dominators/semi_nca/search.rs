//! The semi-dominator loop of semi-NCA (Lengauer–Tarjan's first phase, with iterative path
//! compression).

use rayon::prelude::*;

use super::listed::{DerivedList, ListedReferrers};
use super::CHECK_EVERY;
use crate::prefetch::prefetch;
use crate::progress::Progress;

/// The semi-dominator loop over the multi nodes, from the last: each one's semi-dominator
/// into `multi_semi` (by multi node) and `best`. The other nodes' `best` holds their
/// semi-dominator already; `ancestor` holds the spanning tree's parents. `None` once
/// `progress` is cancelled.
pub(super) fn semi_dominators(
    referrers: &ListedReferrers,
    ancestor: &mut [u32],
    best: &mut [u32],
    multi_semi: &mut [u32],
    progress: &Progress,
) -> Option<()> {
    // Referrers are read in one array from its end: their forest links are fetched some
    // places ahead, across the lists' bounds (most lists hold one or two).
    const AHEAD: usize = 8;
    let r = best.len() - 1;
    let lists = &referrers.lists;
    let refs = lists.refs();
    let mut derived = lists.derived().rev().peekable();
    let mut path = Vec::new();
    for (k, &w) in referrers.multi_at.iter().enumerate().rev() {
        if k % CHECK_EVERY == 0 {
            if progress.is_cancelled() {
                return None;
            }
            progress.set(((r + (r - w as usize)) / 2) as u64);
        }
        // `w` is not linked yet: its link is its parent, the referrer it was entered by.
        let mut s = ancestor[w as usize];
        let mut forest = Forest {
            current: w,
            ancestor: &mut *ancestor,
            best: &mut *best,
            path: &mut path,
        };
        let (a, b) = lists.listed(k);
        if b - a >= ON_EVERY_CORE {
            forest.lower_semi_on_every_core(&refs[a..b], None, &mut s);
        } else {
            for i in (a..b).rev() {
                // 0, the super-root, is the least a semi-dominator can be.
                if s == 0 {
                    break;
                }
                if let Some(&q) = i.checked_sub(AHEAD).and_then(|j| refs.get(j)) {
                    prefetch(forest.ancestor, q as usize);
                    prefetch(forest.best, q as usize);
                }
                s = s.min(forest.eval(refs[i]));
            }
        }
        while let Some((_, list)) = derived.next_if(|(d, _)| *d == k) {
            let (list, pre_of) = match list {
                DerivedList::Preorder(list) => (list, None),
                DerivedList::Nodes { nodes, pre_of } => (nodes, Some(pre_of)),
            };
            if list.len() >= ON_EVERY_CORE {
                forest.lower_semi_on_every_core(list, pre_of, &mut s);
            } else {
                for &pp in list {
                    if let Some(pp) = preorder(pp, pre_of) {
                        s = s.min(forest.eval(pp));
                    }
                }
            }
        }
        multi_semi[k] = s;
        best[w as usize] = s;
    }
    (!progress.is_cancelled()).then_some(())
}

/// The preorder number of referrer `v`: itself, or by `pre_of` when given (`None` when not
/// reached).
#[inline]
fn preorder(v: u32, pre_of: Option<&[u32]>) -> Option<u32> {
    match pre_of {
        None => Some(v),
        Some(pre_of) => pre_of.get(v as usize).copied().filter(|&w| w != 0),
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
    /// Lowers `s` to the least semi-dominator candidate a long list of referrers `preds`
    /// gives (a class object has every instance as a referrer), preorder numbers or nodes
    /// with their `pre_of`: each referrer's candidate is read without compressing its path,
    /// on every core, where that path is short (compression does not change the candidate);
    /// the few with longer paths are then evaluated in turn.
    fn lower_semi_on_every_core(&mut self, preds: &[u32], pre_of: Option<&[u32]>, s: &mut u32) {
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
                for &pp in part {
                    let Some(pp) = preorder(pp, pre_of) else {
                        continue;
                    };
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

    /// Lengauer–Tarjan's EVAL of `v` while the current node is processed.
    #[inline]
    fn eval(&mut self, v: u32) -> u32 {
        eval(v, self.current, self.ancestor, self.best, self.path)
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
