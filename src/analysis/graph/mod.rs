//! The reference graph: outgoing references of every object as CSR over object numbers, and
//! the incoming graph built from it. `referent` edges of `java.lang.ref.Reference` objects are
//! kept apart so analyses can count them (MAT's default) or not (strong references only).

use rayon::prelude::*;

use crate::heap::class_of::ClassOf;
use crate::heap::store::Array;
use crate::heap::ClassIndex;
use crate::heap::{HeapIndex, ObjectId};
use crate::prefetch::prefetch;
use crate::progress::Progress;
// Reading references from the dump is the heap index's job; re-exported where it was.
pub use crate::heap::references::{DumpForward, ReferenceReader};
pub use atomic_bits::AtomicBits;
pub use derived::{ClassEdges, DerivedEdges};
pub use referrers::ReferrerCounts;
pub use reverse::{reverse, reverse_or_cancel};

mod atomic_bits;
mod derived;
mod referrers;
mod reverse;

/// Compressed sparse rows: the neighbours of `v` are `targets[offsets[v]..offsets[v + 1]]`.
pub struct Csr {
    offsets: Array<u32>,
    targets: Array<ObjectId>,
}

impl Csr {
    /// Lists `targets[offsets[v]..offsets[v + 1]]`, held in memory.
    pub(super) fn owned(offsets: Vec<u32>, targets: Vec<ObjectId>) -> Csr {
        Csr {
            offsets: offsets.into(),
            targets: targets.into(),
        }
    }

    #[inline]
    pub fn neighbours(&self, v: ObjectId) -> &[ObjectId] {
        let a = self.offsets[v as usize] as usize;
        let b = self.offsets[v as usize + 1] as usize;
        &self.targets[a..b]
    }

    pub fn node_count(&self) -> usize {
        self.offsets.len() - 1
    }

    /// (offsets, targets).
    pub fn into_parts(self) -> (Vec<u32>, Vec<ObjectId>) {
        (self.offsets.into_vec(), self.targets.into_vec())
    }

    /// The lists moved into temporary files in `dir` and mapped back: the kernel can then
    /// write their pages out and drop them when memory is short ([`crate::heap::store::park`]).
    pub fn park(self, dir: &std::path::Path) -> Csr {
        use crate::heap::store::park;
        Csr {
            offsets: park(self.offsets, dir),
            targets: park(self.targets, dir),
        }
    }

    #[inline]
    pub fn degree(&self, v: ObjectId) -> usize {
        (self.offsets[v as usize + 1] - self.offsets[v as usize]) as usize
    }

    /// Warms the cache for `neighbours(v)`: `Far` its offsets, `Near` its list.
    #[inline]
    pub fn prefetch(&self, v: ObjectId, distance: Distance) {
        match distance {
            Distance::Far => prefetch(&self.offsets, v as usize),
            Distance::Near => {
                if let Some(&a) = self.offsets.get(v as usize) {
                    prefetch(&self.targets, a as usize)
                }
            }
        }
    }

    pub fn edge_count(&self) -> usize {
        self.targets.len()
    }

    pub fn memory_bytes(&self) -> usize {
        self.offsets.owned_bytes() + self.targets.owned_bytes()
    }

    /// The same edges reversed; each node's sources come out in ascending order.
    pub fn transpose(&self) -> Csr {
        reverse(self, self.node_count())
    }

    /// Builds from per-range edge lists covering consecutive objects.
    fn from_parts(n: usize, parts: Vec<(Vec<u32>, Vec<ObjectId>)>) -> Result<Csr, GraphError> {
        let total: usize = parts.iter().map(|p| p.1.len()).sum();
        if total > u32::MAX as usize {
            return Err(GraphError::TooManyEdges(total as u64));
        }
        let nodes: usize = parts.iter().map(|p| p.0.len()).sum();
        debug_assert_eq!(nodes, n);
        let mut offsets = vec![0u32; nodes + 1];
        let mut targets = vec![0u32; total];
        // Each part fills its own stretch of both arrays, in parallel, and is freed once
        // copied: the parts and the arrays are not both whole at any time.
        let mut jobs = Vec::with_capacity(parts.len());
        let (mut rest_o, mut rest_t) = (&mut offsets[1..], targets.as_mut_slice());
        let mut base = 0u32;
        for part in parts {
            let (o, tail_o) = rest_o.split_at_mut(part.0.len());
            let (t, tail_t) = rest_t.split_at_mut(part.1.len());
            let start = base;
            base += part.1.len() as u32;
            jobs.push((o, t, start, part));
            (rest_o, rest_t) = (tail_o, tail_t);
        }
        jobs.into_par_iter()
            .for_each(|(o, t, base, (degrees, edges))| {
                let mut at = base;
                for (slot, d) in o.iter_mut().zip(&degrees) {
                    at += d;
                    *slot = at;
                }
                t.copy_from_slice(&edges);
            });
        Ok(Csr::owned(offsets, targets))
    }
}

/// Lists of each node's neighbours.
pub trait AdjacencyLists: Sync {
    fn node_count(&self) -> usize;
    fn for_each_neighbour(&self, v: u32, f: impl FnMut(u32));
}

impl AdjacencyLists for Csr {
    fn node_count(&self) -> usize {
        Csr::node_count(self)
    }
    #[inline]
    fn for_each_neighbour(&self, v: u32, f: impl FnMut(u32)) {
        Csr::neighbours(self, v).iter().copied().for_each(f)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("the dump has {0} references; heapsight handles at most 4,294,967,295")]
    TooManyEdges(u64),
    #[error("cancelled")]
    Cancelled,
}

/// A `referent` edge of a `java.lang.ref.Reference`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct WeakEdge {
    pub from: ObjectId,
    pub to: ObjectId,
}

/// Every object's outgoing references (except `referent`s) and the `referent` edges. Only
/// the forward walks (dominator DFS, shortest-path BFS) need the lists; they are then
/// turned into the [`ReferenceGraph`] and dropped, and later readers of an object's
/// references read them from the dump ([`ReferenceReader`]).
///
/// Every object's first reference, to its class object, is not stored in `lists` (one edge
/// per object, often half of them): it is derived from the object's class.
pub struct Outgoing {
    pub lists: Csr,
    pub weak: WeakEdges,
    /// The class object of each class, [`NO_OBJECT`] when the dump has none.
    class_objects: Vec<ObjectId>,
}

/// No object.
pub const NO_OBJECT: ObjectId = u32::MAX;

impl Outgoing {
    /// The reference from `v` to its class object, which `lists` leaves out.
    #[inline]
    pub fn class_edge(&self, class_of: &ClassOf, v: ObjectId) -> Option<ObjectId> {
        let c = self.class_objects[class_of.get(v) as usize];
        (c != NO_OBJECT).then_some(c)
    }

    /// Calls `f` with every reference of `v`, its class first (the order of
    /// [`ReferenceReader::for_each`]), without `referent`s.
    #[inline]
    pub fn for_each_strong(&self, class_of: &ClassOf, v: ObjectId, mut f: impl FnMut(ObjectId)) {
        if let Some(c) = self.class_edge(class_of, v) {
            f(c);
        }
        self.lists.neighbours(v).iter().for_each(|&t| f(t));
    }

    /// Every reference except `referent`s, class edges included.
    pub fn edge_count(&self, class_of: &ClassOf) -> u64 {
        let with_class = class_of.count(|c| self.class_objects[c as usize] != NO_OBJECT);
        self.lists.edge_count() as u64 + with_class as u64
    }
}

/// The outgoing lists with each object's class edge put back in front.
struct WithClassEdges<'a> {
    outgoing: &'a Outgoing,
    class_of: &'a ClassOf,
}

impl AdjacencyLists for WithClassEdges<'_> {
    fn node_count(&self) -> usize {
        self.outgoing.lists.node_count()
    }
    #[inline]
    fn for_each_neighbour(&self, v: u32, f: impl FnMut(u32)) {
        self.outgoing.for_each_strong(self.class_of, v, f)
    }
}

/// The references into every object, and the `referent` edges both ways.
pub struct ReferenceGraph {
    /// Referrers of every object, except through `referent`s of Reference objects.
    pub incoming: Csr,
    pub weak: WeakEdges,
}

impl ReferenceGraph {
    /// No references at all, for `n` objects.
    pub fn empty(n: usize) -> ReferenceGraph {
        ReferenceGraph {
            incoming: Csr::owned(vec![0; n + 1], Vec::new()),
            weak: WeakEdges::new(n, Vec::new()),
        }
    }

    /// Reverses the outgoing lists (with the class edges they derive), which are dropped,
    /// from their referrer counts when made already; [`GraphError::Cancelled`] once
    /// `progress` is.
    pub fn new(
        outgoing: Outgoing,
        class_of: &ClassOf,
        counted: Option<ReferrerCounts>,
        progress: &Progress,
    ) -> Result<ReferenceGraph, GraphError> {
        let edges = outgoing.edge_count(class_of);
        if edges > u32::MAX as u64 {
            return Err(GraphError::TooManyEdges(edges));
        }
        let n = outgoing.lists.node_count();
        let with_class = WithClassEdges {
            outgoing: &outgoing,
            class_of,
        };
        let incoming = match counted.and_then(|c| c.of(n)) {
            Some(degrees) => reverse::reverse_counted(&with_class, degrees, progress),
            None => reverse_or_cancel(&with_class, n, progress),
        }
        .ok_or(GraphError::Cancelled)?;
        Ok(ReferenceGraph {
            incoming,
            weak: outgoing.weak,
        })
    }

    #[inline]
    pub fn has_weak_to(&self, v: ObjectId) -> bool {
        self.weak.has_to(v)
    }

    #[inline]
    pub fn weak_from(&self, v: ObjectId) -> impl Iterator<Item = ObjectId> + '_ {
        self.weak.from(v)
    }

    #[inline]
    pub fn weak_to(&self, v: ObjectId) -> impl Iterator<Item = ObjectId> + '_ {
        self.weak.to(v)
    }

    pub fn memory_bytes(&self) -> usize {
        self.incoming.memory_bytes() + self.weak.memory_bytes()
    }
}

/// `referent` edges, looked up from either end.
pub struct WeakEdges {
    /// Sorted by `from`.
    by_source: Vec<WeakEdge>,
    /// Sorted by `to`.
    by_target: Vec<WeakEdge>,
    /// Objects with an edge from them / to them: walks over every object skip the searches
    /// for the others.
    sources: ObjectSet,
    targets: ObjectSet,
}

impl WeakEdges {
    /// From edges sorted by `from`.
    fn new(n: usize, by_source: Vec<WeakEdge>) -> WeakEdges {
        let mut by_target = by_source.clone();
        by_target.sort_unstable_by_key(|e| (e.to, e.from));
        WeakEdges {
            sources: ObjectSet::new(n, by_source.iter().map(|e| e.from)),
            targets: ObjectSet::new(n, by_source.iter().map(|e| e.to)),
            by_source,
            by_target,
        }
    }

    pub fn len(&self) -> usize {
        self.by_source.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_source.is_empty()
    }

    #[inline]
    pub fn has_to(&self, v: ObjectId) -> bool {
        self.targets.contains(v)
    }

    #[inline]
    pub fn from(&self, v: ObjectId) -> impl Iterator<Item = ObjectId> + '_ {
        let edges = if self.sources.contains(v) {
            &self.by_source[..]
        } else {
            &[]
        };
        let i = edges.partition_point(|e| e.from < v);
        edges[i..]
            .iter()
            .take_while(move |e| e.from == v)
            .map(|e| e.to)
    }

    #[inline]
    pub fn to(&self, v: ObjectId) -> impl Iterator<Item = ObjectId> + '_ {
        let edges = if self.targets.contains(v) {
            &self.by_target[..]
        } else {
            &[]
        };
        let i = edges.partition_point(|e| e.to < v);
        edges[i..]
            .iter()
            .take_while(move |e| e.to == v)
            .map(|e| e.from)
    }

    fn memory_bytes(&self) -> usize {
        self.by_source.len() * 16 + (self.sources.words.len() + self.targets.words.len()) * 8
    }
}

/// Nodes marked during a walk, one bit each: 3 MB for 24 M objects, so the "seen already?"
/// test of every edge stays in cache, where a per-node array of the walk would not.
pub struct NodeBits {
    words: Vec<u64>,
}

impl NodeBits {
    pub fn new(n: usize) -> NodeBits {
        NodeBits {
            words: vec![0; n.div_ceil(64)],
        }
    }

    /// From the words of `n.div_ceil(64)`, bit `v % 64` of word `v / 64` standing for `v`.
    pub fn from_words(words: Vec<u64>) -> NodeBits {
        NodeBits { words }
    }

    /// Bit `v % 64` of word `v / 64` stands for `v`.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    #[inline]
    pub fn contains(&self, v: u32) -> bool {
        self.words[v as usize / 64] >> (v % 64) & 1 == 1
    }

    /// Marks `v`; true when it was not marked before.
    #[inline]
    pub fn insert(&mut self, v: u32) -> bool {
        let w = &mut self.words[v as usize / 64];
        let bit = 1u64 << (v % 64);
        let new = *w & bit == 0;
        *w |= bit;
        new
    }
}

/// A set of objects as one bit each.
struct ObjectSet {
    words: Vec<u64>,
}

impl ObjectSet {
    fn new(n: usize, members: impl Iterator<Item = ObjectId>) -> ObjectSet {
        let mut words = vec![0u64; n.div_ceil(64)];
        for o in members {
            words[o as usize / 64] |= 1 << (o % 64);
        }
        ObjectSet { words }
    }

    #[inline]
    fn contains(&self, o: ObjectId) -> bool {
        self.words
            .get(o as usize / 64)
            .is_some_and(|w| w >> (o % 64) & 1 == 1)
    }
}

/// Successors of a graph whose nodes are `0..n`.
pub trait Successors {
    fn node_count(&self) -> usize;
    fn for_each_successor(&self, v: u32, f: impl FnMut(u32));
    /// Hints that `v`'s successors are wanted soon: `Far` fetches where its list is,
    /// `Near` (some steps later) the list itself. Walks whose order is known ahead (a
    /// breadth-first queue) hide the memory latency of a graph too big for the caches.
    #[inline]
    fn prefetch(&self, _v: u32, _distance: Distance) {}
}

/// How far ahead a [`Successors::prefetch`] is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Distance {
    Far,
    Near,
}

/// References from each object: the outgoing lists with the class edges, and `referent`s
/// when `with_weak`.
pub struct Forward<'a> {
    pub outgoing: &'a Outgoing,
    /// The index's [`HeapIndex::class_of_all`].
    pub class_of: &'a ClassOf,
    pub with_weak: bool,
}

impl Successors for Forward<'_> {
    fn node_count(&self) -> usize {
        self.outgoing.lists.node_count()
    }
    #[inline]
    fn for_each_successor(&self, v: u32, mut f: impl FnMut(u32)) {
        self.outgoing.for_each_strong(self.class_of, v, &mut f);
        if self.with_weak {
            self.outgoing.weak.from(v).for_each(f);
        }
    }
    #[inline]
    fn prefetch(&self, v: u32, distance: Distance) {
        if distance == Distance::Far {
            self.class_of.prefetch(v);
        }
        self.outgoing.lists.prefetch(v, distance)
    }
}

impl Successors for DumpForward<'_> {
    fn node_count(&self) -> usize {
        self.object_count()
    }
    #[inline]
    fn for_each_successor(&self, v: u32, f: impl FnMut(u32)) {
        DumpForward::for_each_successor(self, v, f)
    }
}

/// Builds the reference graph (for paths and referrers; no forward walks).
pub fn build_graph(index: &HeapIndex, progress: &Progress) -> Result<ReferenceGraph, GraphError> {
    let outgoing = build_outgoing(index, progress)?;
    let graph = ReferenceGraph::new(outgoing, index.class_of_all(), None, progress)?;
    progress.mark("incoming");
    Ok(graph)
}

/// Reads every object's references, in parallel over ranges of objects.
pub fn build_outgoing(index: &HeapIndex, progress: &Progress) -> Result<Outgoing, GraphError> {
    build_outgoing_with(index, progress, |_| None::<()>).map(|(outgoing, _)| outgoing)
}

/// As [`build_outgoing`], also keeping `also` of each object (in no particular order):
/// other work that reads objects, done while their pages are at hand.
pub fn build_outgoing_with<R: Send>(
    index: &HeapIndex,
    progress: &Progress,
    also: impl Fn(ObjectId) -> Option<R> + Sync,
) -> Result<(Outgoing, Vec<R>), GraphError> {
    let n = index.object_count();
    let reader = ReferenceReader::new(index);
    const RANGE: usize = 1 << 16;
    progress.start(crate::progress::Phase::Graph, n as u64);
    type Part<R> = (Vec<u32>, Vec<ObjectId>, Vec<WeakEdge>, Vec<R>);
    let parts: Vec<Part<R>> = (0..n.div_ceil(RANGE))
        .into_par_iter()
        .map(|r| {
            let start = r * RANGE;
            let end = ((r + 1) * RANGE).min(n);
            if progress.is_cancelled() {
                return (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            }
            let mut degrees = Vec::with_capacity(end - start);
            let mut edges = Vec::with_capacity((end - start) * 2);
            let mut weak = Vec::new();
            let mut found = Vec::new();
            for o in start as ObjectId..end as ObjectId {
                let before = edges.len();
                // The reader gives the class edge first; it is derived, not stored.
                let mut class_edge = index.class_object(index.class_of(o)).is_some();
                reader.for_each(o, |t, is_weak| {
                    if std::mem::take(&mut class_edge) {
                        return;
                    }
                    if is_weak {
                        weak.push(WeakEdge { from: o, to: t });
                    } else {
                        edges.push(t);
                    }
                });
                degrees.push((edges.len() - before) as u32);
                found.extend(also(o));
            }
            edges.shrink_to_fit();
            progress.add((end - start) as u64);
            index.release_pages(start as ObjectId..end as ObjectId);
            (degrees, edges, weak, found)
        })
        .collect();
    if progress.is_cancelled() {
        return Err(GraphError::Cancelled);
    }
    let mut weak = Vec::new();
    let mut found_all = Vec::new();
    let parts: Vec<(Vec<u32>, Vec<ObjectId>)> = parts
        .into_iter()
        .map(|(d, e, w, f)| {
            weak.extend(w);
            found_all.extend(f);
            (d, e)
        })
        .collect();
    index.release_all_pages();
    progress.mark("outgoing");
    let class_objects = (0..index.classes().len() as ClassIndex)
        .map(|c| index.class_object(c).unwrap_or(NO_OBJECT))
        .collect();
    let outgoing = Outgoing {
        lists: Csr::from_parts(n, parts)?,
        weak: WeakEdges::new(n, weak),
        class_objects,
    };
    progress.mark("lists");
    Ok((outgoing, found_all))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn transpose_reverses_every_edge(
            n in 1usize..40,
            edges in proptest::collection::vec((0u32..40, 0u32..40), 0..200),
        ) {
            let edges: Vec<(u32, u32)> =
                edges.into_iter().map(|(a, b)| (a % n as u32, b % n as u32)).collect();
            let mut by_source = vec![Vec::new(); n];
            for &(a, b) in &edges {
                by_source[a as usize].push(b);
            }
            let parts = vec![(
                by_source.iter().map(|l| l.len() as u32).collect(),
                by_source.concat(),
            )];
            let csr = Csr::from_parts(n, parts).unwrap();
            let t = csr.transpose();
            for v in 0..n as u32 {
                let mut want: Vec<u32> =
                    edges.iter().filter(|e| e.1 == v).map(|e| e.0).collect();
                want.sort_unstable();
                prop_assert_eq!(t.neighbours(v), &want[..]);
                prop_assert_eq!(csr.neighbours(v), &by_source[v as usize][..]);
            }
        }
    }
}
