//! Analyses of the heap index: pure functions of it, no UI types.

pub mod advice;
pub mod dominators;
pub mod graph;
pub mod hints;
pub mod histogram;
pub mod java;
pub mod paths;

use std::sync::Arc;

use crate::heap::HeapIndex;
use crate::progress::Progress;
use dominators::{DominatorTree, ReferenceMode};
use graph::{GraphError, ReferenceGraph};
use histogram::Histogram;
use paths::{PathMode, RootIndex, ShortestPathTree};

/// Options of a full retention analysis.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnalysisOptions {
    pub references: ReferenceMode,
}

/// Everything the retention views need, computed once per dump.
pub struct Analysis {
    pub index: Arc<HeapIndex>,
    pub graph: ReferenceGraph,
    pub dominators: DominatorTree,
    /// Shortest paths to GC roots, not through weak references.
    pub shortest_paths: ShortestPathTree,
    pub roots: RootIndex,
    pub histogram: Histogram,
    /// Minimum retained size per class (by class index).
    pub retained_by_class: Vec<u64>,
    /// Unreachable instances and bytes per class (by class index).
    pub unreachable_by_class: Vec<(u64, u64)>,
}

impl Analysis {
    pub fn run(
        index: Arc<HeapIndex>,
        options: AnalysisOptions,
        progress: &Progress,
    ) -> Result<Analysis, GraphError> {
        let graph = graph::build_graph(&index, progress)?;
        let dominators = dominators::compute(&index, &graph, options.references, progress);
        let (shortest_paths, (retained_by_class, (unreachable_by_class, histogram))) = rayon::join(
            || ShortestPathTree::compute(&index, &graph, PathMode::ExcludeWeak),
            || {
                rayon::join(
                    || dominators::retained_by_class(&index, &dominators),
                    || {
                        rayon::join(
                            || dominators::unreachable_by_class(&index, &dominators),
                            || histogram::histogram(&index),
                        )
                    },
                )
            },
        );
        progress.mark("paths+classes");
        let roots = RootIndex::new(&index);
        Ok(Analysis {
            index,
            graph,
            dominators,
            shortest_paths,
            roots,
            histogram,
            retained_by_class,
            unreachable_by_class,
        })
    }
}
