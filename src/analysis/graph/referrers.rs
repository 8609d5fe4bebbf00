//! The referrers the dominator search reads, and no others. Nine objects in ten have exactly
//! one referrer, which is their parent in the depth-first spanning tree and their immediate
//! dominator: their lists are not built. Where the referrer lists are not wanted afterwards
//! (the report, the index), this halves what the transposition allocates at the peak.

use super::reverse::{all_in_degrees, in_degrees_into, reverse_listed};
use super::{AdjacencyLists, Csr, GraphError, Outgoing, Predecessors, WeakEdges};
use super::{Distance, WithClassEdges};
use crate::heap::class_of::ClassOf;
use crate::heap::rank::RankedBits;
use crate::heap::ObjectId;
use crate::progress::Progress;

pub struct MultiReferrers {
    /// Objects with exactly one referrer and no `referent` to them.
    single: RankedBits,
    /// Objects with a list in `lists`: several referrers, or one and a `referent`.
    listed: RankedBits,
    /// Referrers (not through `referent`s) of the `listed` objects, by rank there.
    lists: Csr,
    weak: WeakEdges,
}

/// How many referrers each object has (at `o + 1`), counted from the outgoing lists before
/// [`MultiReferrers::new`] needs them: the count reads nothing else, so it can run on a core
/// another step leaves idle.
pub struct ReferrerCounts(Vec<u32>);

impl ReferrerCounts {
    /// `None` once `progress` is cancelled. In one pass over the edges on one core: beside
    /// the depth-first walk, which holds the other, workers that each own a range of
    /// targets but read every edge would read them all once per worker, in turn.
    /// The counts are made in `spare` when given (its pages resident already, where a fresh
    /// array's would each be faulted in).
    pub fn count(
        outgoing: &Outgoing,
        class_of: &ClassOf,
        spare: Option<Vec<u32>>,
        progress: &Progress,
    ) -> Option<Self> {
        let with_class = WithClassEdges { outgoing, class_of };
        let n = outgoing.lists.node_count();
        let zeroed = crate::memory::zeroed_in(spare.unwrap_or_default(), n + 1);
        in_degrees_into(&with_class, zeroed, &[(0, n)], progress).map(ReferrerCounts)
    }

    /// The counts (at `o + 1`) when they are of `n` objects.
    pub(super) fn of(self, n: usize) -> Option<Vec<u32>> {
        (self.0.len() == n + 1).then_some(self.0)
    }
}

impl MultiReferrers {
    /// From the outgoing lists (with the class edges they derive), which are dropped, and
    /// their referrer counts when made already; [`GraphError::Cancelled`] once `progress` is.
    pub fn new(
        outgoing: Outgoing,
        class_of: &ClassOf,
        counted: Option<ReferrerCounts>,
        progress: &Progress,
    ) -> Result<MultiReferrers, GraphError> {
        let edges = outgoing.edge_count(class_of);
        if edges > u32::MAX as u64 {
            return Err(GraphError::TooManyEdges(edges));
        }
        let n = outgoing.lists.node_count();
        let with_class = WithClassEdges {
            outgoing: &outgoing,
            class_of,
        };
        let degrees = counted
            .and_then(|c| c.of(n))
            .or_else(|| all_in_degrees(&with_class, n, progress))
            .ok_or(GraphError::Cancelled)?;
        let (single, listed, lists) =
            referrer_lists(&with_class, degrees, &outgoing.weak, progress)
                .ok_or(GraphError::Cancelled)?;
        Ok(MultiReferrers {
            single,
            listed,
            lists,
            weak: outgoing.weak,
        })
    }

    /// The referrers of `n` nodes in `lists` (without `referent`s) and `weak`; `None` once
    /// `progress` is cancelled.
    pub fn of_lists(
        lists: &impl AdjacencyLists,
        n: usize,
        weak: WeakEdges,
        progress: &Progress,
    ) -> Option<MultiReferrers> {
        let degrees = all_in_degrees(lists, n, progress)?;
        let (single, listed, lists) = referrer_lists(lists, degrees, &weak, progress)?;
        Some(MultiReferrers {
            single,
            listed,
            lists,
            weak,
        })
    }

    pub fn memory_bytes(&self) -> usize {
        self.single.memory_bytes()
            + self.listed.memory_bytes()
            + self.lists.memory_bytes()
            + self.weak.memory_bytes()
    }
}

/// The single-referrer nodes, the listed ones and their lists, from the in-`degrees` of
/// `lists`' targets (at `t + 1`).
fn referrer_lists(
    lists: &impl AdjacencyLists,
    degrees: Vec<u32>,
    weak: &WeakEdges,
    progress: &Progress,
) -> Option<(RankedBits, RankedBits, Csr)> {
    let n = degrees.len() - 1;
    let single = RankedBits::from_fn(n, |t| degrees[t + 1] == 1 && !weak.has_to(t as u32));
    let listed = RankedBits::from_fn(n, |t| {
        let d = degrees[t + 1];
        d > 1 || (d == 1 && weak.has_to(t as u32))
    });
    let lists = reverse_listed(lists, degrees, &listed, progress)?;
    Some((single, listed, lists))
}

/// Referrers of the objects [`MultiReferrers`] lists, and `referent`s when `with_weak`.
pub struct MultiBackward<'a> {
    pub referrers: &'a MultiReferrers,
    pub with_weak: bool,
}

impl Predecessors for MultiBackward<'_> {
    #[inline]
    fn for_each_predecessor(&self, v: u32, mut f: impl FnMut(u32)) {
        let r = self.referrers;
        if r.listed.contains(v) {
            r.lists
                .neighbours(r.listed.rank(v) as ObjectId)
                .iter()
                .for_each(|&t| f(t));
        }
        if self.with_weak {
            r.weak.to(v).for_each(f);
        }
    }
    #[inline]
    fn has_single_predecessor(&self, v: u32) -> bool {
        self.referrers.single.contains(v)
    }
    #[inline]
    fn predecessor_count(&self, v: u32) -> usize {
        let r = self.referrers;
        let listed = if r.listed.contains(v) {
            r.lists.degree(r.listed.rank(v) as ObjectId)
        } else {
            0
        };
        let weak = if self.with_weak {
            r.weak.to(v).count()
        } else {
            0
        };
        listed + weak
    }
    fn lists_single_predecessors(&self) -> bool {
        false
    }
    #[inline]
    fn prefetch_predecessors(&self, v: u32) {
        let r = self.referrers;
        if r.listed.contains(v) {
            r.lists
                .prefetch(r.listed.rank(v) as ObjectId, Distance::Far);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::WeakEdge;
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Single-referrer objects are flagged; every other object lists its referrers as the
        /// full transposition does.
        #[test]
        fn lists_the_referrers_of_all_but_single_referrer_objects(
            n in 1usize..300,
            edges in proptest::collection::vec((0u32..300, 0u32..300), 0..600),
            weak in proptest::collection::vec((0u32..300, 0u32..300), 0..20),
        ) {
            let n32 = n as u32;
            let mut by_source = vec![Vec::new(); n];
            for &(a, b) in &edges {
                by_source[(a % n32) as usize].push(b % n32);
            }
            let csr = Csr::from_parts(n, vec![(
                by_source.iter().map(|l| l.len() as u32).collect(),
                by_source.concat(),
            )]).unwrap();
            let mut weak: Vec<WeakEdge> = weak
                .into_iter()
                .map(|(a, b)| WeakEdge { from: a % n32, to: b % n32 })
                .collect();
            weak.sort_unstable();
            let full = csr.transpose();
            let referrers =
                MultiReferrers::of_lists(&csr, n, WeakEdges::new(n, weak.clone()), &Progress::new())
                    .unwrap();
            let graph = super::super::ReferenceGraph {
                incoming: csr.transpose(),
                weak: WeakEdges::new(n, weak.clone()),
            };
            for with_weak in [false, true] {
                let all = super::super::Backward { graph: &graph, with_weak };
                for v in 0..n32 {
                    let mut listed = 0;
                    all.for_each_predecessor(v, |_| listed += 1);
                    prop_assert_eq!(all.predecessor_count(v), listed);
                }
                let back = MultiBackward { referrers: &referrers, with_weak };
                for v in 0..n32 {
                    let weak_to: Vec<u32> =
                        weak.iter().filter(|e| e.to == v).map(|e| e.from).collect();
                    let single = full.degree(v) == 1 && weak_to.is_empty();
                    prop_assert_eq!(back.has_single_predecessor(v), single);
                    let mut got = Vec::new();
                    back.for_each_predecessor(v, |p| got.push(p));
                    prop_assert_eq!(back.predecessor_count(v), got.len());
                    if !single {
                        let mut want = full.neighbours(v).to_vec();
                        if with_weak {
                            want.extend(&weak_to);
                        }
                        prop_assert_eq!(got, want);
                    }
                }
            }
        }
    }
}
