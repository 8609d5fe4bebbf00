//! Referrer counts made early, for the referrer lists.

use super::reverse::in_degrees_into;
use super::{Outgoing, WithClassEdges};
use crate::heap::class_of::ClassOf;
use crate::progress::Progress;

/// How many referrers each object has (at `o + 1`), counted from the outgoing lists before
/// [`super::ReferenceGraph::new`] needs them: the count reads nothing else, so it can run on
/// a core another step leaves idle.
pub struct ReferrerCounts(Vec<u32>);

impl ReferrerCounts {
    /// `None` once `progress` is cancelled. In one pass over the edges on one core: beside
    /// the depth-first walk, which holds the other, workers that each own a range of
    /// targets but read every edge would read them all once per worker, in turn.
    pub fn count(outgoing: &Outgoing, class_of: &ClassOf, progress: &Progress) -> Option<Self> {
        let with_class = WithClassEdges { outgoing, class_of };
        let n = outgoing.lists.node_count();
        in_degrees_into(&with_class, vec![0; n + 1], &[(0, n)], progress).map(ReferrerCounts)
    }

    /// The counts (at `o + 1`) when they are of `n` objects.
    pub(super) fn of(self, n: usize) -> Option<Vec<u32>> {
        (self.0.len() == n + 1).then_some(self.0)
    }
}
