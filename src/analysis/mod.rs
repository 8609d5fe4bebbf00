//! Analyses of the heap index: pure functions of it, no UI types.

pub mod advice;
pub mod dominators;
pub mod fillers;
pub mod graph;
pub mod hints;
pub mod histogram;
pub mod ids;
pub mod inspect;
pub mod instances;
pub mod java;
pub mod label;
pub mod merged_paths;
pub mod path_hops;
pub mod path_tree;
pub mod paths;
pub mod persist;
pub mod verdict;

use std::sync::Arc;

use crate::heap::HeapIndex;
use crate::progress::{Phase, Progress};
use dominators::{DominatorTree, ReferenceMode};
use graph::{GraphError, ReferenceGraph};
use histogram::Histogram;
use paths::{RootIndex, ShortestPathTree};
pub use persist::{
    IndexState, IndexStatus, LazyGraph, OpenError, OpenOptions, PendingIndex, Preview,
};

/// Options of a full retention analysis.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnalysisOptions {
    pub references: ReferenceMode,
    /// Build no referrer lists (the dominator search reads those the depth-first walk
    /// lists): the report and the index need none, the window builds them behind the dump on
    /// screen, and the outgoing lists go once walked. Asked for later, the lists are built
    /// from the dump.
    pub release_graph: bool,
    pub parking: Parking,
    pub path_hops: HopsFound,
}

/// When a fresh analysis finds its path hops (how each shortest-path parent refers to its
/// child, which an index file holds). Not recording them in the walk saves a pass over the
/// parents: 0.45 s at 25.8 M objects, 3.2 s at 103 M.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HopsFound {
    /// Recorded by the walk.
    #[default]
    InWalk,
    /// Read from the dump when the index file is written (the window writes it behind the
    /// dump on screen): reading them then needs 3–4 bytes an object beside the whole
    /// analysis, so short of memory for that they are recorded by the walk after all.
    WhenWritten,
    /// Not at all: no index file holds this analysis, and shown paths name their hops from
    /// the dump.
    Never,
}

/// Whether a fresh analysis parks the file offsets in a temporary file while the graph
/// passes run ([`crate::heap::store::park`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Parking {
    /// For dumps of 4 Mi objects or more, what memory is short of or where the peak
    /// matters, unless `HEAPSIGHT_PARK` is `0` (never) or `1` (always).
    #[default]
    Auto,
    Always,
    Never,
}

/// Everything the retention views need, computed once per dump.
pub struct Analysis {
    pub index: Arc<HeapIndex>,
    /// Built with a fresh analysis; on first use after a reopen from an index file.
    pub graph: LazyGraph,
    pub dominators: DominatorTree,
    /// Shortest paths to GC roots, not through weak references.
    pub shortest_paths: ShortestPathTree,
    pub roots: RootIndex,
    pub histogram: Histogram,
    /// Minimum retained size per class (by class index).
    pub retained_by_class: Vec<u64>,
    /// Unreachable instances and bytes per class (by class index).
    pub unreachable_by_class: Vec<(u64, u64)>,
    /// Repeated `byte[]`/`char[]` contents, for the duplicate-strings hint.
    pub repeated_values: hints::waste::RepeatedValues,
    /// Hints and advice as the first analysis found them, as JSON, when the analysis was
    /// saved to or opened from an index file: some rules read field values, which an index
    /// alone does not have, and they take seconds on a big dump.
    pub saved_findings: Option<persist::SavedFindings>,
}

impl Analysis {
    pub fn run(
        mut index: Arc<HeapIndex>,
        options: AnalysisOptions,
        progress: &Progress,
    ) -> Result<Analysis, GraphError> {
        let mode = options.references;
        // The pass over the dump also keys the string values for the duplicate-strings hint
        // (index-only work) as it reads them.
        let value_keys = hints::waste::ValueKeys::new(&index);
        let (mut outgoing, keys) =
            graph::build_outgoing_with(&index, progress, |o| value_keys.key(&index, o))?;
        // Parked where the peak matters: the file offsets now, the shortest-path parents as
        // they are walked; the graph passes up to the retained sizes read neither (but for a
        // few objects). The offsets' copy into a file takes one core; the repeated values
        // are sorted beside it. Unparked, they are sorted on the core the breadth-first walk
        // leaves while the depth-first one runs.
        let parking = resolved(options.parking);
        let scratch = park_dir(&index, parking);
        let heap = scratch
            .as_ref()
            .filter(|_| parking == Parking::Always || peak_worth_parking_for(&index))
            .and_then(|_| Arc::get_mut(&mut index));
        let (repeated_values, keys) = match (&scratch, heap) {
            (Some(dir), Some(heap)) => {
                let (repeated, ()) = rayon::join(
                    || hints::waste::RepeatedValues::from_keys(keys),
                    || heap.park_offsets(dir),
                );
                progress.mark("repeated values, parked");
                (Some(repeated), None)
            }
            _ => (None, Some(keys)),
        };
        progress.start(Phase::Dominators, index.object_count() as u64);
        // Short of memory for what the walks and the referrer lists add, the outgoing lists
        // (read only from here on) are parked too: under pressure the kernel then writes
        // their pages out and reads them back as needed, slower rather than out of memory.
        if let Some(dir) = &scratch {
            if parking == Parking::Always || walks_need_more_than_headroom(&index) {
                outgoing.lists = outgoing.lists.park(dir);
                progress.mark("parked lists");
            }
        }
        // Who asks for the referrer lists (`heapsight path`) gets them built here, unless
        // memory is short of them: then they are built on first use, as after a reopen. The
        // window builds them behind the dump on screen. The dominator search needs none of
        // them: it reads the referrers the depth-first walk lists.
        let release_graph =
            options.release_graph || referrer_lists_need_more_than_headroom(&index, &outgoing);
        // The two forward walks side by side. The depth-first one takes longer: where the
        // referrer lists are built, the core the breadth-first one leaves counts every
        // object's referrers for them (when memory has room for the counts this early).
        let count_referrers = !release_graph && !counts_need_more_than_headroom(&index);
        let ((shortest_paths, counted, sorted_here), spanning) = rayon::join(
            || {
                let park = scratch
                    .as_deref()
                    .filter(|_| parking == Parking::Always || peak_worth_parking_for(&index));
                let with_hops = match options.path_hops {
                    HopsFound::InWalk => true,
                    HopsFound::WhenWritten => reading_hops_later_needs_more_than_headroom(&index),
                    HopsFound::Never => false,
                };
                let tree =
                    ShortestPathTree::compute_strong(&index, &outgoing, with_hops, park, progress);
                let counted = (tree.is_some() && count_referrers).then(|| {
                    graph::ReferrerCounts::count(&outgoing, index.class_of_all(), progress)
                });
                progress.mark("referrer counts");
                let repeated = keys
                    .filter(|_| tree.is_some())
                    .map(hints::waste::RepeatedValues::from_keys);
                progress.mark("repeated values");
                (tree, counted.flatten(), repeated)
            },
            || dominators::depth_first(&index, &outgoing, mode, progress),
        );
        progress.mark("forward walks");
        let (Some(shortest_paths), Some(mut spanning), Some(repeated_values)) =
            (shortest_paths, spanning, repeated_values.or(sorted_here))
        else {
            return Err(GraphError::Cancelled);
        };
        if progress.is_cancelled() {
            return Err(GraphError::Cancelled);
        }
        // Asked again with the walks' arrays made: what they left may be short of the lists.
        let release_graph =
            release_graph || referrer_lists_need_more_than_headroom(&index, &outgoing);
        let class_of = index.class_of_all();
        let class_edges = graph::ClassEdges::new(&outgoing, class_of);
        // The preorder numbers are parked until the search's end where the referrer lists
        // are built meanwhile (their copy runs beside), or memory is short.
        let park_preorder = |spanning: &mut dominators::SpanningTree| {
            if let Some(dir) = &scratch {
                spanning.park_in(dir, parking == Parking::Always);
            }
        };
        if release_graph
            && (parking == Parking::Always
                || crate::memory::is_short_of(8 * index.object_count() as u64))
        {
            park_preorder(&mut spanning);
        }
        // The histogram needs no dominators: it is counted on whichever core the search
        // leaves idle (its semi-dominator loop runs on one), and the instances of classes
        // with few of them listed for the hints.
        let immediate_and_histogram = |sources, spanning| {
            rayon::join(
                || dominators::immediate(&index, &class_edges, sources, spanning, mode, progress),
                || {
                    index.prepare_instance_lists();
                    histogram::histogram(&index)
                },
            )
        };
        let (graph, (immediate, histogram)) = if release_graph {
            drop(outgoing);
            (
                LazyGraph::deferred(index.clone()),
                immediate_and_histogram(dominators::DerivedSources::Grouped, spanning),
            )
        } else {
            // The referrer lists are built first, from their counts, and the outgoing lists
            // dropped: the search then reads the class objects' referrers from them, where
            // it would list them apart (beside the search the peak rose by a fifth at 25.8 M
            // objects, for no time saved).
            let (graph, ()) = rayon::join(
                || ReferenceGraph::new(outgoing, class_of, counted, progress),
                || park_preorder(&mut spanning),
            );
            let graph = graph?;
            progress.mark("incoming");
            let sources = dominators::DerivedSources::ReferrerLists(&graph.incoming);
            let found = immediate_and_histogram(sources, spanning);
            (LazyGraph::ready(graph, index.clone()), found)
        };
        let Some(immediate) = immediate else {
            return Err(GraphError::Cancelled);
        };
        let Some((dominators, unreachable_by_class)) =
            dominators::tree(&index, immediate, progress)
        else {
            return Err(GraphError::Cancelled);
        };
        if progress.is_cancelled() {
            return Err(GraphError::Cancelled);
        }
        let retained_by_class = dominators::retained_by_class(&index, &dominators);
        let (histogram, unreachable_by_class) =
            fillers::separate(&index, &dominators, histogram, unreachable_by_class);
        progress.mark("classes");
        let roots = RootIndex::new(&index);
        Ok(Analysis {
            graph,
            index,
            dominators,
            shortest_paths,
            roots,
            histogram,
            retained_by_class,
            unreachable_by_class,
            repeated_values,
            saved_findings: None,
        })
    }
}

/// Whether the memory left is short of what the graph passes after the outgoing lists
/// take: at most 14 bytes per object on the bench dumps (the spanning tree's 5 to 8: its
/// parents take a byte an object in the walk, 4 once expanded; the shortest-path tree's 4,
/// the path hops' 2; then the referrer counts), with a tenth more.
fn walks_need_more_than_headroom(index: &HeapIndex) -> bool {
    const BYTES_PER_OBJECT: u64 = 16;
    crate::memory::is_short_of(index.object_count() as u64 * BYTES_PER_OBJECT)
}

/// Whether the file offsets (2–5 bytes an object) and the shortest-path parents (4) are
/// parked, to lower the peak. It costs time: the offsets are copied into a file while the
/// walks wait (49 MB at 25.8 M objects took 0.02–0.30 s on the bench machine); the parents
/// are made in one, beside the depth-first walk. Worth it only where the peak matters, when
/// the analysis (about 32 bytes an object with both in memory) would take more than an
/// eighth of the memory left.
fn peak_worth_parking_for(index: &HeapIndex) -> bool {
    const BYTES_PER_OBJECT: u64 = 32;
    let peak = index.object_count() as u64 * BYTES_PER_OBJECT;
    crate::memory::headroom_bytes().is_none_or(|headroom| peak > headroom / 8)
}

/// Whether the memory left is short of the referrer counts (4 bytes per object) beside the
/// depth-first walk, with room to spare (four times their size): made there, they live
/// while the walk's arrays do.
fn counts_need_more_than_headroom(index: &HeapIndex) -> bool {
    const BYTES_PER_OBJECT: u64 = 4;
    crate::memory::is_short_of(index.object_count() as u64 * BYTES_PER_OBJECT * 4)
}

/// Whether the memory left now is short of what reading the path hops when the index file
/// is written needs on top of the whole analysis: about 20 bytes an object held at the end
/// (2.1 GB at 103 M objects, less what the index holds already), and 4 for the read.
fn reading_hops_later_needs_more_than_headroom(index: &HeapIndex) -> bool {
    const BYTES_PER_OBJECT: u64 = 24;
    crate::memory::is_short_of(index.object_count() as u64 * BYTES_PER_OBJECT)
}

/// Whether the memory left is short of every object's referrer list beside the dominator
/// search: 4 bytes an edge (the class edges included), 4 an object for the lists' starts and
/// 4 for the transposition's cursors, the search's 12 an object, with a quarter more (the
/// listed referrers).
fn referrer_lists_need_more_than_headroom(index: &HeapIndex, outgoing: &graph::Outgoing) -> bool {
    let edges = outgoing.edge_count(index.class_of_all());
    let bytes = (edges + 5 * index.object_count() as u64) * 4;
    crate::memory::is_short_of(bytes + bytes / 4)
}

/// `Always` or `Never` as `HEAPSIGHT_PARK` (`1`, `0`) says, for `Auto`.
fn resolved(parking: Parking) -> Parking {
    match (parking, std::env::var("HEAPSIGHT_PARK").as_deref()) {
        (Parking::Auto, Ok("0")) => Parking::Never,
        (Parking::Auto, Ok("1")) => Parking::Always,
        (p, _) => p,
    }
}

/// Where a fresh analysis parks arrays, if it does.
fn park_dir(index: &HeapIndex, parking: Parking) -> Option<std::path::PathBuf> {
    const MIN_OBJECTS: usize = 1 << 22;
    let wanted = match parking {
        Parking::Always => true,
        Parking::Never => false,
        Parking::Auto => index.object_count() >= MIN_OBJECTS,
    };
    if !wanted || !index.has_dump() {
        return None;
    }
    crate::heap::store::scratch_dir(index.source().path())
}
