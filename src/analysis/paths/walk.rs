//! The breadth-first walk from the GC roots that makes the shortest-path tree.

use std::collections::VecDeque;

use crate::analysis::dominators::root_objects;
use crate::analysis::graph::{Distance, NodeBits, Successors};
use crate::analysis::path_hops::HopRecorder;
use crate::heap::{HeapIndex, ObjectId};
use crate::progress::Progress;

/// Breadth-first from all GC roots over `g`'s successors: every object's parent (a root is
/// its own, `u32::MAX` when not reached); records each object's position in its parent's list
/// when asked. `None` once `progress` is cancelled (checked every 64 Ki objects).
pub(super) fn walk<G: Successors>(
    index: &HeapIndex,
    g: &G,
    progress: &Progress,
    mut hops: Option<&mut HopRecorder>,
    parent: &mut [ObjectId],
) -> Option<()> {
    let n = index.object_count();
    let mut seen = NodeBits::new(n);
    // The objects reached and not yet expanded: the frontier only (a ring), not every
    // reached object (4 bytes each at the walk's end).
    let mut queue: VecDeque<ObjectId> = VecDeque::new();
    for r in root_objects(index) {
        if (r as usize) < n && seen.insert(r) {
            parent[r as usize] = r;
            queue.push_back(r);
        }
    }
    // The queue says whose lists come next: fetch them some steps ahead (this walk took
    // half the time).
    const FAR: usize = 16;
    const NEAR: usize = 8;
    let mut expanded = 0usize;
    while let Some(v) = queue.pop_front() {
        if let Some(&ahead) = queue.get(FAR - 1) {
            g.prefetch(ahead, Distance::Far);
        }
        if let Some(&ahead) = queue.get(NEAR - 1) {
            g.prefetch(ahead, Distance::Near);
        }
        expanded += 1;
        if expanded % (1 << 16) == 0 && progress.is_cancelled() {
            return None;
        }
        match hops.as_deref_mut() {
            None => g.for_each_successor(v, |t: ObjectId| {
                if seen.insert(t) {
                    parent[t as usize] = v;
                    queue.push_back(t);
                }
            }),
            Some(hops) => {
                let mark = hops.begin(v);
                let mut k = 0u32;
                g.for_each_successor(v, |t: ObjectId| {
                    if seen.insert(t) {
                        parent[t as usize] = v;
                        queue.push_back(t);
                        hops.record(&mark, t, k);
                    }
                    k += 1;
                });
                hops.end(v, mark);
            }
        }
    }
    Some(())
}
