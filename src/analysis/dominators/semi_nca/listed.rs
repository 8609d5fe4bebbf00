//! The referrers the semi-dominator search reads, from what the depth-first walk listed: the
//! edges it did not enter by (nine objects in ten are entered by their only referrer, and
//! have none), and the derived edges (each object's to its class object), grouped by target
//! from the nodes' groups. No pass over every edge, no referrer counts, and the referrers
//! come as preorder numbers, in the order the search reads them.

use rayon::prelude::*;

use crate::analysis::graph::{Csr, DerivedEdges, NodeBits};
use crate::prefetch::prefetch;
use crate::progress::Progress;

/// Edges the depth-first walk saw but did not enter by, as (the source's preorder number,
/// the target node), packed in a `u64`.
#[derive(Default)]
pub struct NonTreeEdges(Vec<u64>);

impl NonTreeEdges {
    #[inline]
    pub(super) fn push(&mut self, source_pre: u32, target: u32) {
        self.0.push((source_pre as u64) << 32 | target as u64);
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }
}

/// Where the search reads the derived edges' sources from.
#[derive(Clone, Copy)]
pub enum DerivedSources<'a> {
    /// Lists made for it: the reached nodes of each group whose target is a multi node, by
    /// group (4 bytes a node).
    Grouped,
    /// Every node's referrer list, made already for other uses (`heapsight path`'s), read in
    /// place: the target's list holds its group's nodes.
    ReferrerLists(&'a Csr),
}

/// Referrers of the multi nodes (those with an edge to them that is not their
/// spanning-tree edge, and not GC roots), by their index among them, as preorder numbers.
pub(super) struct ListedReferrers<'a> {
    /// The multi nodes' preorder numbers, ascending.
    pub(super) multi_at: Vec<u32>,
    pub(super) lists: Lists<'a>,
}

pub(super) struct Lists<'a> {
    /// The sources of the listed edges to multi node `k`: `refs[starts[k]..starts[k + 1]]`.
    starts: Vec<u32>,
    refs: Vec<u32>,
    /// The derived edges by multi node: (multi node, start, end) in `Derived::Grouped`'s
    /// list, or (multi node, target node, 0) for `Derived::ReferrerLists`.
    derived_of: Vec<(u32, u32, u32)>,
    derived: Derived<'a>,
}

enum Derived<'a> {
    Grouped(Vec<u32>),
    ReferrerLists { lists: &'a Csr, pre_of: &'a [u32] },
}

/// Sources of derived edges to one multi node.
pub(super) enum DerivedList<'a> {
    /// As preorder numbers.
    Preorder(&'a [u32]),
    /// As nodes, with the preorder number of each (0: not reached, not a referrer).
    Nodes { nodes: &'a [u32], pre_of: &'a [u32] },
}

impl Lists<'_> {
    /// The listed referrers of multi node `k`, and where they are in one array of all
    /// (the search reads ahead across lists).
    #[inline]
    pub(super) fn listed(&self, k: usize) -> (usize, usize) {
        (self.starts[k] as usize, self.starts[k + 1] as usize)
    }

    #[inline]
    pub(super) fn refs(&self) -> &[u32] {
        &self.refs
    }

    /// The derived referrers' lists, by multi node ascending.
    pub(super) fn derived(&self) -> impl DoubleEndedIterator<Item = (usize, DerivedList<'_>)> {
        self.derived_of.iter().map(|&(k, a, b)| {
            let list = match &self.derived {
                Derived::Grouped(list) => DerivedList::Preorder(&list[a as usize..b as usize]),
                Derived::ReferrerLists { lists, pre_of } => DerivedList::Nodes {
                    nodes: lists.neighbours(a),
                    pre_of,
                },
            };
            (k as usize, list)
        })
    }
}

impl<'a> ListedReferrers<'a> {
    /// From the walk's non-tree edges and the derived ones, whose sources are read from
    /// `sources`; `pre_of` and `root_at` are the walk's preorder numbers and the GC roots'
    /// (whose semi-dominator is known). `None` once `progress` is cancelled.
    pub(super) fn new(
        non_tree: NonTreeEdges,
        derived: &impl DerivedEdges,
        sources: DerivedSources<'a>,
        pre_of: &'a [u32],
        root_at: &NodeBits,
        progress: &Progress,
    ) -> Option<ListedReferrers<'a>> {
        let edges = by_target(non_tree.0, pre_of, root_at);
        if progress.is_cancelled() {
            return None;
        }
        let (targets, derived) = match sources {
            DerivedSources::Grouped => {
                let (targets, list) = derived_lists(derived, pre_of, root_at);
                (targets, Derived::Grouped(list))
            }
            DerivedSources::ReferrerLists(lists) => (
                derived_targets(derived, pre_of, root_at),
                Derived::ReferrerLists { lists, pre_of },
            ),
        };
        if progress.is_cancelled() {
            return None;
        }
        // The multi nodes: the listed edges' targets and the derived lists', merged.
        let mut multi_at = Vec::new();
        let mut starts = vec![0u32];
        let mut derived_of = Vec::with_capacity(targets.len());
        let mut next_derived = targets.iter().peekable();
        let mut i = 0;
        while i < edges.len() || next_derived.peek().is_some() {
            let listed_target = edges.get(i).map(|&e| (e >> 32) as u32);
            let derived_target = next_derived.peek().map(|&&(t, _, _)| t);
            let w = match (listed_target, derived_target) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => break,
            };
            let k = multi_at.len() as u32;
            multi_at.push(w);
            while edges.get(i).is_some_and(|&e| (e >> 32) as u32 == w) {
                i += 1;
            }
            starts.push(i as u32);
            while let Some(&&(_, a, b)) = next_derived.peek().filter(|&&&(t, _, _)| t == w) {
                derived_of.push((k, a, b));
                next_derived.next();
            }
        }
        let refs: Vec<u32> = edges.par_iter().map(|&e| e as u32).collect();
        drop(edges);
        Some(ListedReferrers {
            multi_at,
            lists: Lists {
                starts,
                refs,
                derived_of,
                derived,
            },
        })
    }
}

/// The edges as (target's preorder number, source's), sorted, without those to GC roots
/// and from a node to itself (neither can lower a semi-dominator).
fn by_target(mut edges: Vec<u64>, pre_of: &[u32], root_at: &NodeBits) -> Vec<u64> {
    const AHEAD: usize = 16;
    edges.par_chunks_mut(1 << 14).for_each(|part| {
        for i in 0..part.len() {
            if let Some(&ahead) = part.get(i + AHEAD) {
                prefetch(pre_of, ahead as u32 as usize);
            }
            let e = part[i];
            let (source, target) = ((e >> 32) as u32, e as u32);
            let t = pre_of.get(target as usize).copied().unwrap_or(0);
            part[i] = if t == 0 || t == source || root_at.contains(t) {
                u64::MAX
            } else {
                (t as u64) << 32 | source as u64
            };
        }
    });
    edges.par_sort_unstable();
    let kept = edges.partition_point(|&e| e != u64::MAX);
    edges.truncate(kept);
    edges
}

/// A group's target that no derived edge can lower the semi-dominator of: not reached, or a
/// GC root.
const NOT_LISTED: u32 = u32::MAX;

/// The preorder number of each group's target, [`NOT_LISTED`] for those not reached and GC
/// roots.
fn target_preorder(derived: &impl DerivedEdges, pre_of: &[u32], root_at: &NodeBits) -> Vec<u32> {
    (0..derived.group_count() as u32)
        .map(|g| {
            let t = pre_of
                .get(derived.group_target(g) as usize)
                .copied()
                .unwrap_or(0);
            if t == 0 || root_at.contains(t) {
                NOT_LISTED
            } else {
                t
            }
        })
        .collect()
}

/// For each group's target that is reached and not a GC root, (its preorder number, the
/// target, 0), ascending, once each: where the derived edges' sources are read from every
/// node's referrer list.
fn derived_targets(
    derived: &impl DerivedEdges,
    pre_of: &[u32],
    root_at: &NodeBits,
) -> Vec<(u32, u32, u32)> {
    let target_pre = target_preorder(derived, pre_of, root_at);
    let mut targets: Vec<(u32, u32, u32)> = (0..target_pre.len())
        .filter(|&g| target_pre[g] != NOT_LISTED)
        .map(|g| (target_pre[g], derived.group_target(g as u32), 0))
        .collect();
    targets.sort_unstable();
    targets.dedup();
    targets
}

/// The derived edges grouped by target: for each group whose target is reached and is not a
/// GC root, and which has reached nodes, (the target's preorder number, start, end) in the
/// list of their preorder numbers; ascending by target.
#[allow(clippy::type_complexity)]
fn derived_lists(
    derived: &impl DerivedEdges,
    pre_of: &[u32],
    root_at: &NodeBits,
) -> (Vec<(u32, u32, u32)>, Vec<u32>) {
    let groups = derived.group_count();
    let target_pre = target_preorder(derived, pre_of, root_at);
    if target_pre.iter().all(|&t| t == NOT_LISTED) {
        return (Vec::new(), Vec::new());
    }
    // A counting sort by group: each chunk of nodes counts its own, then writes them from
    // where its counts place it.
    let n = pre_of.len();
    let chunks = (rayon::current_num_threads() * 4).clamp(1, n.max(1));
    let chunk = n.div_ceil(chunks).max(1);
    let listed = |v: usize| -> Option<(usize, u32)> {
        let w = pre_of[v];
        if w == 0 {
            return None;
        }
        let g = derived.group_of(v as u32)? as usize;
        (target_pre.get(g).is_some_and(|&t| t != NOT_LISTED)).then_some((g, w))
    };
    let mut counts: Vec<Vec<u32>> = (0..n.div_ceil(chunk))
        .into_par_iter()
        .map(|c| {
            let mut count = vec![0u32; groups];
            for v in c * chunk..((c + 1) * chunk).min(n) {
                if let Some((g, _)) = listed(v) {
                    count[g] += 1;
                }
            }
            count
        })
        .collect();
    // Groups in the order of their targets; each chunk's cursor per group.
    let mut order: Vec<u32> = (0..groups as u32)
        .filter(|&g| target_pre[g as usize] != NOT_LISTED)
        .collect();
    order.sort_unstable_by_key(|&g| target_pre[g as usize]);
    let mut lists = Vec::with_capacity(order.len());
    let mut at = 0u32;
    for &g in &order {
        let start = at;
        for count in counts.iter_mut() {
            let c = count[g as usize];
            count[g as usize] = at;
            at += c;
        }
        if at > start {
            lists.push((target_pre[g as usize], start, at));
        }
    }
    let mut out = vec![0u32; at as usize];
    {
        let cells = super::as_cells(&mut out);
        counts
            .into_par_iter()
            .enumerate()
            .for_each(|(c, mut cursor)| {
                for v in c * chunk..((c + 1) * chunk).min(n) {
                    if let Some((g, w)) = listed(v) {
                        cells[cursor[g] as usize].store(w, std::sync::atomic::Ordering::Relaxed);
                        cursor[g] += 1;
                    }
                }
            });
    }
    (lists, out)
}
