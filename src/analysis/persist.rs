//! The index file of an analysis: written beside the dump (or in the cache directory) after
//! the first analysis, mapped on the next open of the same unchanged dump. Every reason not
//! to trust a file (stale, truncated, corrupt, foreign, other version) means "analyse again
//! and rewrite it", with a note saying why. The format: docs/INDEX-FILE.md.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use super::advice::Advice;
use super::dominators::{DominatorTree, ReferenceMode};
use super::graph::{build_graph, ReferenceGraph};
use super::hints::waste::RepeatedValues;
use super::hints::Hint;
use super::histogram::{Histogram, HistogramPreview, HistogramRow};
use super::path_hops::PathHops;
use super::paths::{RootIndex, ShortestPathTree};
use super::{Analysis, AnalysisOptions};
use crate::heap::store::{
    index_path_beside, index_path_in_cache, is_index_file, Array, DumpIdentity, Store, StoreError,
    StoreWriter, WriteError,
};
use crate::heap::HeapIndex;
use crate::hprof::{DumpSource, HprofError};
use crate::progress::{Phase, Progress};

mod pending;
pub use pending::PendingIndex;

/// Hints and advice serialised as the report prints them.
#[derive(Debug, Clone)]
pub struct SavedFindings {
    pub hints: Box<serde_json::value::RawValue>,
    pub advice: Box<serde_json::value::RawValue>,
}

impl SavedFindings {
    pub fn of(a: &Analysis) -> SavedFindings {
        let hints = super::hints::leak_hints(a);
        let advice = super::advice::jvm_advice(a, &hints);
        // Plain data: serialising it cannot fail; `null` would be refused on load.
        let raw = |json: serde_json::Result<String>| {
            serde_json::value::RawValue::from_string(json.unwrap_or_else(|_| "null".into()))
                .unwrap_or_default()
        };
        // Pretty-printed as a top-level field of the pretty report (two spaces deep), so the
        // report prints them byte for byte as a fresh analysis does. JSON strings hold no raw
        // newlines: only the layout's are indented.
        let pretty = |json: serde_json::Result<String>| json.map(|s| s.replace('\n', "\n  "));
        SavedFindings {
            hints: raw(pretty(serde_json::to_string_pretty(&hints))),
            advice: raw(pretty(serde_json::to_string_pretty(&advice))),
        }
    }

    /// The hints and advice as the rules made them (`None` if the JSON does not read back,
    /// e.g. written by another version): the window shows these instead of running the
    /// rules again, which reads the dump (seconds on a big one) or cannot run without it.
    pub fn parse(&self) -> Option<(Vec<Hint>, Advice)> {
        let hints = serde_json::from_str(self.hints.get()).ok()?;
        let advice = serde_json::from_str(self.advice.get()).ok()?;
        Some((hints, advice))
    }
}

/// How to open a dump.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenOptions {
    pub references: ReferenceMode,
    /// Analyse from scratch; read and write no index file.
    pub no_index: bool,
    /// Which heap dump of a file holding several (1-based; `None`: the last). Any other
    /// than the default is analysed from scratch: the index file holds the last one.
    pub dump: Option<usize>,
    /// See [`AnalysisOptions::release_graph`].
    pub release_graph: bool,
}

static WINDOW_NO_INDEX: AtomicBool = AtomicBool::new(false);

/// `heapsight --no-index`: the window's loads read and write no index file.
pub fn set_window_no_index(no_index: bool) {
    WINDOW_NO_INDEX.store(no_index, Ordering::Relaxed);
}

impl OpenOptions {
    /// The options of the window's loads: the referrer lists are built behind the dump on
    /// screen ([`LazyGraph::warm`]), not by the analysis.
    pub fn for_window() -> OpenOptions {
        OpenOptions {
            references: ReferenceMode::All,
            no_index: WINDOW_NO_INDEX.load(Ordering::Relaxed),
            dump: None,
            release_graph: true,
        }
    }
}

/// What happened with the index file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexState {
    /// Mapped from an index file made earlier.
    Reopened,
    /// Analysed; the index file for next time is being written.
    Writing,
    /// Analysed, and the index file written for next time.
    Written,
    /// Analysed, but the index file could not be written (see the notes).
    NotWritten,
    /// `--no-index`, or an analysis the index does not hold (strong references only).
    Disabled,
    /// An index file opened without its dump: field values are unknown.
    IndexOnly,
}

#[derive(Debug, Clone)]
pub struct IndexStatus {
    pub state: IndexState,
    /// The index file read or written.
    pub path: Option<PathBuf>,
    /// Why an existing file was not used, why writing failed.
    pub notes: Vec<String>,
}

impl IndexStatus {
    /// One line for the report and the window.
    pub fn summary(&self) -> String {
        let at = |p: &Option<PathBuf>| {
            p.as_ref()
                .map_or(String::new(), |p| p.display().to_string())
        };
        match self.state {
            IndexState::Reopened => format!("reopened from index {}", at(&self.path)),
            IndexState::Writing => "writing an index file for next time".to_string(),
            IndexState::Written => format!("index written to {}", at(&self.path)),
            IndexState::NotWritten => "no index written".to_string(),
            IndexState::Disabled => "index not used".to_string(),
            IndexState::IndexOnly => format!(
                "index {} opened without its dump: field values need the dump",
                at(&self.path)
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Dump(#[from] HprofError),
    #[error(transparent)]
    Graph(#[from] super::graph::GraphError),
    #[error(transparent)]
    Index(#[from] StoreError),
    #[error("cancelled")]
    Cancelled,
}

/// The reference graph: built with the analysis, or on first use after a reopen (only the
/// referrer lists and the all-paths search need it, and it is the largest structure).
pub struct LazyGraph {
    cell: Arc<OnceLock<ReferenceGraph>>,
    index: Arc<HeapIndex>,
}

impl LazyGraph {
    pub fn ready(graph: ReferenceGraph, index: Arc<HeapIndex>) -> LazyGraph {
        let cell = OnceLock::new();
        let _ = cell.set(graph);
        LazyGraph {
            cell: Arc::new(cell),
            index,
        }
    }

    pub fn deferred(index: Arc<HeapIndex>) -> LazyGraph {
        LazyGraph {
            cell: Arc::new(OnceLock::new()),
            index,
        }
    }

    pub fn is_built(&self) -> bool {
        self.cell.get().is_some()
    }

    /// Starts building the graph on a background thread, so it is there when first wanted;
    /// not when memory is short of what it takes at its peak (about 20 bytes an object at
    /// 103 M, with a fifth more): then the first view that wants it builds it, as a task.
    pub fn warm(&self) {
        const BYTES_PER_OBJECT: u64 = 24;
        let need = self.index.object_count() as u64 * BYTES_PER_OBJECT;
        if self.is_built() || crate::memory::is_short_of(need) {
            return;
        }
        let cell = self.cell.clone();
        let index = self.index.clone();
        let _ = std::thread::Builder::new()
            .name("heapsight-graph".into())
            .spawn(move || {
                cell.get_or_init(|| build_or_empty(&index));
            });
    }
}

fn build_or_empty(index: &HeapIndex) -> ReferenceGraph {
    // It was built once for this same index, so it fits: the error cannot happen here.
    build_graph(index, &Progress::new())
        .unwrap_or_else(|_| ReferenceGraph::empty(index.object_count()))
}

impl std::ops::Deref for LazyGraph {
    type Target = ReferenceGraph;
    fn deref(&self) -> &ReferenceGraph {
        self.cell.get_or_init(|| build_or_empty(&self.index))
    }
}

impl Analysis {
    /// Opens a dump, or an index file alone: maps a valid index file of the dump when there
    /// is one, otherwise analyses it and writes the index file (unless `no_index`).
    pub fn open(
        path: &Path,
        options: &OpenOptions,
        progress: &Progress,
    ) -> Result<(Analysis, IndexStatus), OpenError> {
        let (analysis, status, pending) = open_or_analyse(path, options, false, progress, None)?;
        let status = match pending {
            Some(pending) => pending.write(&analysis, progress)?,
            None => status,
        };
        Ok((analysis, status))
    }

    /// As [`Analysis::open`], but the index file of a fresh analysis is left for the caller to
    /// write ([`PendingIndex::write`]; the status says [`IndexState::Writing`] meanwhile): the
    /// window shows the dump first and writes the file behind it. A fresh analysis also hands
    /// `preview` the largest classes as soon as the objects are indexed, long before the
    /// dominators are known.
    pub fn open_deferring_index(
        path: &Path,
        options: &OpenOptions,
        progress: &Progress,
        preview: &Preview<'_>,
    ) -> Result<(Analysis, IndexStatus, Option<PendingIndex>), OpenError> {
        open_or_analyse(path, options, true, progress, Some(preview))
    }
}

/// Takes the histogram's largest rows while the analysis goes on.
pub type Preview<'a> = dyn Fn(HistogramPreview) + Sync + 'a;

/// Rows in a [`HistogramPreview`]: every class, so that the loading screen's filter finds any
/// (a name each: a few MB for the largest class tables).
const PREVIEW_ROWS: usize = usize::MAX;

/// `deferring`: the caller writes the index file later ([`PendingIndex`]).
fn open_or_analyse(
    path: &Path,
    options: &OpenOptions,
    deferring: bool,
    progress: &Progress,
    preview: Option<&Preview<'_>>,
) -> Result<(Analysis, IndexStatus, Option<PendingIndex>), OpenError> {
    if is_index_file(path) {
        let (analysis, status) = open_index_alone(path, progress)?;
        return Ok((analysis, status, None));
    }
    let mode = options.references;
    if options.no_index || options.dump.is_some() || mode != ReferenceMode::All {
        // No index file holds this analysis: shown paths name their hops from the dump.
        let analysis = analyse(path, options, super::HopsFound::Never, progress, preview)?;
        let status = IndexStatus {
            state: IndexState::Disabled,
            path: None,
            notes: Vec::new(),
        };
        return Ok((analysis, status, None));
    }
    let identity = DumpIdentity::of(path).map_err(|source| HprofError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mut notes = Vec::new();
    let candidates: Vec<PathBuf> = std::iter::once(index_path_beside(path))
        .chain(index_path_in_cache(path))
        .collect();
    for candidate in candidates.iter().filter(|c| c.exists()) {
        match reopen(candidate, path, &identity, progress) {
            Ok(analysis) => {
                let status = IndexStatus {
                    state: IndexState::Reopened,
                    path: Some(candidate.clone()),
                    notes,
                };
                return Ok((analysis, status, None));
            }
            Err(e) => notes.push(format!("{e}; rebuilding it")),
        }
    }
    // Written behind the window, the index file reads the path hops from the dump then
    // ([`save`]): the walk does not record them, and the dump is on screen sooner.
    let path_hops = if deferring {
        super::HopsFound::WhenWritten
    } else {
        super::HopsFound::InWalk
    };
    let mut analysis = analyse(path, options, path_hops, progress, preview)?;
    progress.start(Phase::Hints, 0);
    analysis.saved_findings = Some(SavedFindings::of(&analysis));
    let status = IndexStatus {
        state: IndexState::Writing,
        path: None,
        notes: notes.clone(),
    };
    let pending = PendingIndex {
        dump: path.to_path_buf(),
        identity,
        candidates,
        notes,
    };
    Ok((analysis, status, Some(pending)))
}

/// A fresh analysis of `path`, with the path hops when `path_hops` says.
fn analyse(
    path: &Path,
    options: &OpenOptions,
    path_hops: super::HopsFound,
    progress: &Progress,
    preview: Option<&Preview<'_>>,
) -> Result<Analysis, OpenError> {
    let (mode, dump) = (options.references, options.dump);
    let opened = DumpSource::open(path, progress).and_then(|mut source| {
        source.select_dump(dump);
        HeapIndex::from_source(source, progress)
    });
    let index = match opened {
        Err(HprofError::Cancelled) => return Err(OpenError::Cancelled),
        other => Arc::new(other?),
    };
    if progress.is_cancelled() {
        return Err(OpenError::Cancelled);
    }
    if let Some(preview) = preview {
        // 50 ms per 25 M objects, on every core: the analysis counts the histogram again
        // later, on a core its sequential steps leave idle.
        let histogram = super::histogram::histogram(&index);
        preview(HistogramPreview::of(&index, &histogram, PREVIEW_ROWS));
        progress.mark("preview");
    }
    let analysis_options = AnalysisOptions {
        references: mode,
        release_graph: options.release_graph,
        path_hops,
        ..AnalysisOptions::default()
    };
    let analysis = match Analysis::run(index, analysis_options, progress) {
        Err(super::graph::GraphError::Cancelled) => return Err(OpenError::Cancelled),
        other => other?,
    };
    if progress.is_cancelled() {
        return Err(OpenError::Cancelled);
    }
    Ok(analysis)
}

fn stale(path: &Path) -> StoreError {
    StoreError::Corrupt {
        path: path.display().to_string(),
        what: "made from another version of the dump (size, time or contents changed)".into(),
    }
}

fn reopen(
    index_path: &Path,
    dump: &Path,
    identity: &DumpIdentity,
    progress: &Progress,
) -> Result<Analysis, OpenError> {
    progress.start(Phase::Index, 0);
    let store = Store::open(index_path)?;
    if store.identity() != identity {
        return Err(stale(index_path).into());
    }
    progress.mark("index mapped");
    let source = DumpSource::open(dump, progress)?;
    load(&store, Some(source))
}

fn open_index_alone(
    path: &Path,
    progress: &Progress,
) -> Result<(Analysis, IndexStatus), OpenError> {
    progress.start(Phase::Index, 0);
    let store = Store::open(path)?;
    progress.mark("index mapped");
    let mut analysis = load(&store, None)?;
    // The dump it was made from, if it is still where it was and unchanged, serves field values.
    let dump = PathBuf::from(analysis.index.source().path());
    let state = match DumpIdentity::of(&dump) {
        Ok(id) if id == *store.identity() => {
            let source = DumpSource::open(&dump, progress)?;
            analysis = load(&store, Some(source))?;
            IndexState::Reopened
        }
        _ => IndexState::IndexOnly,
    };
    let status = IndexStatus {
        state,
        path: Some(path.to_path_buf()),
        notes: Vec::new(),
    };
    Ok((analysis, status))
}

/// Writes the analysis's index file to `dest`.
pub fn save(
    a: &Analysis,
    identity: DumpIdentity,
    dest: &Path,
    progress: &Progress,
) -> Result<(), WriteError> {
    // The window's fresh analysis walked without the path hops: they are read now.
    let read_hops = match a.shortest_paths.hops() {
        None if a.index.has_dump() => {
            let hops = PathHops::read_from_dump(&a.index, &a.shortest_paths, progress)
                .ok_or(WriteError::Cancelled)?;
            progress.mark("path hops read");
            Some(hops)
        }
        _ => None,
    };
    let mut w = StoreWriter::new(identity);
    a.index.save(&mut w);
    a.dominators.save(&mut w, |o| a.index.shallow_size(o));
    a.shortest_paths
        .save(&mut w, &a.dominators, read_hops.as_ref());
    a.repeated_values.save(&mut w);
    w.array("analysis.retained_by_class", &a.retained_by_class);
    let unreachable: Vec<u64> = a
        .unreachable_by_class
        .iter()
        .flat_map(|&(n, b)| [n, b])
        .collect();
    w.bytes(
        "analysis.unreachable_by_class",
        bytemuck::cast_slice(&unreachable).to_vec(),
    );
    let h = &a.histogram;
    let mut rows: Vec<u64> = vec![h.total_count, h.total_shallow_bytes];
    rows.extend(
        h.rows
            .iter()
            .flat_map(|r| [r.class as u64, r.count, r.shallow_bytes]),
    );
    w.bytes("analysis.histogram", bytemuck::cast_slice(&rows).to_vec());
    // Hints and advice read field values: kept as found, for opening without the dump.
    let computed;
    let findings = match &a.saved_findings {
        Some(f) => f,
        None => {
            computed = SavedFindings::of(a);
            &computed
        }
    };
    let pair = (findings.hints.get(), findings.advice.get());
    w.bytes(
        "analysis.findings",
        postcard::to_stdvec(&pair).unwrap_or_default(),
    );
    progress.start(Phase::SaveIndex, w.len());
    w.write(dest, &|n| {
        progress.add(n);
        !progress.is_cancelled()
    })
}

/// The analysis saved by [`save`], its big arrays mapped from the file.
pub fn load(store: &Store, source: Option<DumpSource>) -> Result<Analysis, OpenError> {
    let corrupt = |what: &str| StoreError::Corrupt {
        path: store.path().display().to_string(),
        what: what.to_string(),
    };
    let index = Arc::new(HeapIndex::load(store, source)?);
    let n = index.object_count();
    let classes = index.classes().len();
    let sizes = index.clone();
    let dominators = DominatorTree::load(store, n, Arc::new(move |o| sizes.shallow_size(o)))?;
    let shortest_paths = ShortestPathTree::load(store, n, dominators.idom_array())?;
    let repeated_values = RepeatedValues::load(store, n)?;
    let retained_by_class: Array<u64> = store.array("analysis.retained_by_class")?;
    let unreachable: Array<u64> = store.array("analysis.unreachable_by_class")?;
    let rows: Array<u64> = store.array("analysis.histogram")?;
    if retained_by_class.len() != classes || unreachable.len() != 2 * classes || rows.len() < 2 {
        return Err(corrupt("per-class arrays inconsistent").into());
    }
    let histogram = Histogram {
        total_count: rows[0],
        total_shallow_bytes: rows[1],
        rows: rows[2..]
            .chunks_exact(3)
            .map(|r| HistogramRow {
                class: r[0] as u32,
                count: r[1],
                shallow_bytes: r[2],
            })
            .collect(),
    };
    if histogram.rows.iter().any(|r| r.class as usize >= classes) {
        return Err(corrupt("histogram class out of range").into());
    }
    let (hints, advice): (String, String) = postcard::from_bytes(store.bytes("analysis.findings")?)
        .map_err(|_| corrupt("analysis.findings unreadable"))?;
    let raw = |s: String, open: char| {
        serde_json::value::RawValue::from_string(s)
            .ok()
            .filter(|r| r.get().starts_with(open))
            .ok_or_else(|| corrupt("analysis.findings incomplete"))
    };
    let saved_findings = SavedFindings {
        hints: raw(hints, '[')?,
        advice: raw(advice, '{')?,
    };
    let roots = RootIndex::new(&index);
    Ok(Analysis {
        saved_findings: Some(saved_findings),
        graph: LazyGraph::deferred(index.clone()),
        index,
        dominators,
        shortest_paths,
        roots,
        histogram,
        retained_by_class: retained_by_class.to_vec(),
        unreachable_by_class: unreachable.chunks_exact(2).map(|p| (p[0], p[1])).collect(),
        repeated_values,
    })
}
