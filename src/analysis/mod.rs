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
pub use persist::{IndexState, IndexStatus, LazyGraph, OpenError, OpenOptions};

/// Options of a full retention analysis.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnalysisOptions {
    pub references: ReferenceMode,
    /// Drop the referrer lists once the immediate dominators are known, before the retained-size
    /// passes (the report and the index need no referrers): the peak falls by their size
    /// (4 bytes per object and per reference). Asked for later, they are built again from
    /// the dump.
    pub release_graph: bool,
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
    /// Where the index file is and how it served this open (set by [`Analysis::open`]), for
    /// the window to show.
    pub index_status: Option<IndexStatus>,
}

impl Analysis {
    pub fn run(
        index: Arc<HeapIndex>,
        options: AnalysisOptions,
        progress: &Progress,
    ) -> Result<Analysis, GraphError> {
        let mode = options.references;
        let outgoing = graph::build_outgoing(&index, progress)?;
        progress.start(Phase::Dominators, index.object_count() as u64);
        // The two forward walks side by side. The breadth-first one ends first: its core then
        // reads the string values for the duplicate-strings hint (index-only work).
        let ((shortest_paths, repeated_values), spanning) = rayon::join(
            || {
                let paths = ShortestPathTree::compute_with_hops(&index, &outgoing, progress);
                // Cancelled: the repeated values are not worth reading.
                let values = paths
                    .as_ref()
                    .map(|_| hints::waste::RepeatedValues::new(&index));
                (paths, values)
            },
            || dominators::depth_first(&index, &outgoing, mode, progress),
        );
        progress.mark("forward walks");
        let (Some(shortest_paths), Some(repeated_values), Some(mut spanning)) =
            (shortest_paths, repeated_values, spanning)
        else {
            return Err(GraphError::Cancelled);
        };
        if progress.is_cancelled() {
            return Err(GraphError::Cancelled);
        }
        spanning.release_vertex();
        let graph = ReferenceGraph::new(outgoing, index.class_of_all(), progress)?;
        spanning.restore_vertex();
        progress.mark("incoming");
        let Some(immediate) = dominators::immediate(&index, &graph, spanning, mode, progress)
        else {
            return Err(GraphError::Cancelled);
        };
        let graph = if options.release_graph {
            drop(graph);
            LazyGraph::deferred(index.clone())
        } else {
            LazyGraph::ready(graph, index.clone())
        };
        let Some(dominators) = dominators::tree(&index, immediate, progress) else {
            return Err(GraphError::Cancelled);
        };
        if progress.is_cancelled() {
            return Err(GraphError::Cancelled);
        }
        let (retained_by_class, (unreachable_by_class, histogram)) = rayon::join(
            || dominators::retained_by_class(&index, &dominators),
            || {
                rayon::join(
                    || dominators::unreachable_by_class(&index, &dominators),
                    || histogram::histogram(&index),
                )
            },
        );
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
            index_status: None,
        })
    }
}
