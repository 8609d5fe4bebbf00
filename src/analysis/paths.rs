//! Paths to GC roots: the shortest chains of references from a root to an object, with the
//! field or array index of every hop, and "merge shortest paths" for a set of objects.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use super::dominators::DominatorTree;
use super::graph::{Forward, Outgoing, ReferenceGraph, Successors};
use super::path_hops::{self, HopRecorder, PathHops};
use crate::heap::rank::RankedBits;
use crate::heap::store::{Array, ScratchArray, Store, StoreError, StoreWriter};
use crate::heap::{HeapIndex, ObjectId, ObjectView};
use crate::hprof::{RootKind, Value};
use crate::progress::Progress;
use walk::walk;

mod walk;

const NONE: u32 = u32::MAX;

/// Whether paths may pass through `referent`s of `java.lang.ref.Reference` objects, which
/// do not keep their referents alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PathMode {
    #[default]
    ExcludeWeak,
    IncludeWeak,
}

/// A breadth-first tree from all GC roots: every reachable object's parent on one shortest
/// path to a root.
pub struct ShortestPathTree {
    parent: Parents,
    pub mode: PathMode,
    /// How each object's parent refers to it, when the tree was made from the outgoing
    /// lists (the fresh analysis) or loaded from an index file.
    hops: Option<PathHops>,
}

impl ShortestPathTree {
    /// Breadth-first from all GC roots over `g`'s successors, which decide the `mode`.
    pub fn compute<G: Successors>(index: &HeapIndex, g: &G, mode: PathMode) -> ShortestPathTree {
        let never = Progress::new();
        let tree = Self::compute_or_cancel(index, g, mode, &never);
        tree.unwrap_or_else(|| ShortestPathTree {
            parent: Parents::Plain(vec![NONE; index.object_count()].into()),
            mode,
            hops: None,
        })
    }

    /// The tree not through weak references over the outgoing lists, with how each parent
    /// refers to each child ([`PathHops`]) when `with_hops` (an index file is to hold
    /// them; otherwise they are read from the dump when a path is shown); `None` once
    /// `progress` is cancelled. With `park`, the parents are made in a scratch file there
    /// ([`ScratchArray`]) and parked once walked: the rest of the analysis does not read them.
    pub fn compute_strong(
        index: &HeapIndex,
        outgoing: &Outgoing,
        with_hops: bool,
        park: Option<&std::path::Path>,
        progress: &Progress,
    ) -> Option<ShortestPathTree> {
        let strong = Forward {
            outgoing,
            class_of: index.class_of_all(),
            with_weak: false,
        };
        let mut recorder = with_hops.then(|| HopRecorder::new(index, outgoing));
        let n = index.object_count();
        // To be parked, the parents are made in a scratch file, which parks them uncopied.
        let scratch = park.and_then(|dir| ScratchArray::filled(dir, n, NONE));
        let parent: Array<ObjectId> = match scratch {
            Some(mut parent) => {
                walk(index, &strong, progress, recorder.as_mut(), &mut parent)?;
                parent.park()
            }
            None => {
                let mut parent = vec![NONE; n];
                walk(index, &strong, progress, recorder.as_mut(), &mut parent)?;
                parent.into()
            }
        };
        progress.mark("shortest paths");
        let hops = match recorder {
            Some(recorder) => {
                let hops = recorder.finish(&parent, park, progress)?;
                progress.mark("path hops");
                Some(hops)
            }
            None => None,
        };
        Some(ShortestPathTree {
            parent: Parents::Plain(parent),
            mode: PathMode::ExcludeWeak,
            hops,
        })
    }

    /// As [`ShortestPathTree::compute`]; `None` once `progress` is cancelled (checked every
    /// 64 Ki objects).
    pub fn compute_or_cancel<G: Successors>(
        index: &HeapIndex,
        g: &G,
        mode: PathMode,
        progress: &Progress,
    ) -> Option<ShortestPathTree> {
        let mut parent = vec![NONE; index.object_count()];
        walk(index, g, progress, None, &mut parent)?;
        Some(ShortestPathTree {
            parent: Parents::Plain(parent.into()),
            mode,
            hops: None,
        })
    }

    /// Adds the tree and its hops (`paths.…`) to an index file. Most objects' parent is
    /// their immediate dominator in `dominators` (their only referrer): only the others are
    /// stored, a bit per object saying which (about 1 byte per object instead of 4).
    /// `read_hops`: the hops read from the dump, for a tree walked without them.
    pub fn save<'a>(
        &'a self,
        w: &mut StoreWriter<'a>,
        dominators: &DominatorTree,
        read_hops: Option<&'a PathHops>,
    ) {
        use rayon::prelude::*;
        const WORDS: usize = 1024;
        let n = self.parent.len();
        let parts: Vec<(Vec<u64>, Vec<ObjectId>)> = (0..n.div_ceil(64 * WORDS))
            .into_par_iter()
            .map(|k| {
                let objects = k * 64 * WORDS..((k + 1) * 64 * WORDS).min(n);
                let mut words = vec![0u64; objects.len().div_ceil(64)];
                let mut other = Vec::new();
                for o in objects.clone() {
                    let p = self.parent.get(o as ObjectId).unwrap_or(NONE);
                    if p != parent_from_idom(dominators.idom(o as ObjectId), n) {
                        words[(o - objects.start) / 64] |= 1 << (o % 64);
                        other.push(p);
                    }
                }
                (words, other)
            })
            .collect();
        let (mut differs, mut other) = (Vec::new(), Vec::new());
        for (w, o) in parts {
            differs.extend(w);
            other.extend(o);
        }
        w.bytes(
            "paths.parent_differs",
            bytemuck::cast_slice(&differs).to_vec(),
        );
        w.bytes("paths.parent_other", bytemuck::cast_slice(&other).to_vec());
        match self.hops.as_ref().or(read_hops) {
            Some(h) => h.save(w),
            // A fresh analysis has them, recorded or read; stay loadable anyway.
            None => PathHops::save_unknown(n, w),
        }
    }

    /// The tree saved by [`ShortestPathTree::save`] (made with [`PathMode::ExcludeWeak`]),
    /// mapped from the file.
    /// `idom`: the dominator tree's, loaded first (most parents are the immediate dominator).
    pub fn load(
        store: &Store,
        objects: usize,
        idom: Array<ObjectId>,
    ) -> Result<ShortestPathTree, StoreError> {
        use rayon::prelude::*;
        let differs: Array<u64> = store.array("paths.parent_differs")?;
        let other: Array<ObjectId> = store.array("paths.parent_other")?;
        let set: u64 = differs.par_iter().map(|w| w.count_ones() as u64).sum();
        if idom.len() != objects
            || differs.len() != objects.div_ceil(64)
            || set != other.len() as u64
            || !other
                .par_iter()
                .all(|&p| p == NONE || (p as usize) < objects)
        {
            return Err(StoreError::Corrupt {
                path: store.path().display().to_string(),
                what: "shortest-path tree inconsistent".into(),
            });
        }
        let hops = PathHops::load(store, objects)?;
        Ok(ShortestPathTree {
            parent: Parents::FromIdom {
                idom,
                differs: RankedBits::new(differs),
                other,
            },
            mode: PathMode::ExcludeWeak,
            hops: Some(hops),
        })
    }

    /// How the tree parent of `to` refers to it, if `from` is that parent (`.field`,
    /// `[index]`, `static field`, `<class>`…): from the stored hops, or without them the first
    /// place in the dump that holds `to`, the one the walk took.
    pub fn hop_label(&self, index: &HeapIndex, from: ObjectId, to: ObjectId) -> Option<String> {
        if from == to || self.parent(to) != Some(from) {
            return None;
        }
        match &self.hops {
            Some(hops) => path_hops::name_of_place(index, from, hops.place(to)?),
            None if index.has_dump() => path_hops::first_place_name(index, from, to),
            None => None,
        }
    }

    /// The stored hops, if any.
    pub fn hops(&self) -> Option<&PathHops> {
        self.hops.as_ref()
    }

    /// The next object toward a GC root on `o`'s shortest path: `o` itself for a root, `None`
    /// when no root reaches `o` in this mode.
    pub fn parent(&self, o: ObjectId) -> Option<ObjectId> {
        match self.parent.get(o) {
            Some(p) if p != NONE => Some(p),
            _ => None,
        }
    }

    /// Objects from `o` up to its GC root; `None` when no root reaches `o` in this mode.
    pub fn path(&self, index: &HeapIndex, roots: &RootIndex, o: ObjectId) -> Option<Vec<ObjectId>> {
        let mut out = vec![o];
        let mut cur = o;
        while !roots.is_root(cur) {
            let p = self.parent.get(cur).unwrap_or(NONE);
            if p == NONE || out.len() > index.object_count() {
                return None;
            }
            out.push(p);
            cur = p;
        }
        Some(out)
    }
}

/// Every object's parent in the tree: an array, or (from an index file) the immediate
/// dominators with the objects whose parent differs kept apart.
enum Parents {
    Plain(Array<ObjectId>),
    FromIdom {
        idom: Array<ObjectId>,
        /// A bit per object whose parent is not [`parent_from_idom`].
        differs: RankedBits,
        /// Those objects' parents, in object order.
        other: Array<ObjectId>,
    },
}

/// The tree parent of an object whose only referrer is its immediate dominator `idom`.
#[inline]
fn parent_from_idom(idom: ObjectId, objects: usize) -> ObjectId {
    if (idom as usize) < objects {
        idom
    } else {
        NONE
    }
}

impl Parents {
    fn len(&self) -> usize {
        match self {
            Parents::Plain(p) => p.len(),
            Parents::FromIdom { idom, .. } => idom.len(),
        }
    }

    /// `o`'s parent, [`NONE`] when not reached; `None` past the end.
    #[inline]
    fn get(&self, o: ObjectId) -> Option<ObjectId> {
        match self {
            Parents::Plain(p) => p.get(o as usize).copied(),
            Parents::FromIdom {
                idom,
                differs,
                other,
            } => {
                if !differs.contains(o) {
                    return Some(parent_from_idom(*idom.get(o as usize)?, idom.len()));
                }
                other.get(differs.rank(o)).copied()
            }
        }
    }
}

/// GC-root kinds per object.
pub struct RootIndex {
    by_object: Vec<(ObjectId, RootKind)>,
}

impl RootIndex {
    pub fn new(index: &HeapIndex) -> RootIndex {
        let mut by_object: Vec<(ObjectId, RootKind)> =
            index.roots().iter().map(|r| (r.object, r.kind)).collect();
        by_object.sort_unstable();
        by_object.dedup();
        RootIndex { by_object }
    }

    pub fn is_root(&self, o: ObjectId) -> bool {
        self.kinds(o).next().is_some()
    }

    pub fn kinds(&self, o: ObjectId) -> impl Iterator<Item = RootKind> + '_ {
        let i = self.by_object.partition_point(|e| e.0 < o);
        self.by_object[i..]
            .iter()
            .take_while(move |e| e.0 == o)
            .map(|e| e.1)
    }
}

/// One path, from the object (first) to a GC root (last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootPath {
    pub objects: Vec<ObjectId>,
}

/// Up to `limit` shortest paths from `target` to distinct GC roots, shortest first, by a
/// breadth-first walk over incoming references. Gives up after visiting `budget` objects.
pub fn paths_to_roots(
    graph: &ReferenceGraph,
    roots: &RootIndex,
    target: ObjectId,
    mode: PathMode,
    limit: usize,
    budget: usize,
) -> Vec<RootPath> {
    let mut next_hop: FxHashMap<ObjectId, ObjectId> = FxHashMap::default();
    let mut queue = VecDeque::new();
    let mut found = Vec::new();
    next_hop.insert(target, NONE);
    queue.push_back(target);
    let reconstruct = |next_hop: &FxHashMap<ObjectId, ObjectId>, root: ObjectId| {
        // Walk from the root toward the target, then reverse.
        let mut objects = vec![root];
        let mut cur = root;
        while let Some(&n) = next_hop.get(&cur) {
            if n == NONE {
                break;
            }
            objects.push(n);
            cur = n;
        }
        objects.reverse();
        RootPath { objects }
    };
    while let Some(v) = queue.pop_front() {
        if roots.is_root(v) {
            found.push(reconstruct(&next_hop, v));
            if found.len() >= limit {
                break;
            }
            // Paths through another root are not shortest paths to a root.
            continue;
        }
        if next_hop.len() > budget {
            break;
        }
        let mut visit = |p: ObjectId| {
            if let std::collections::hash_map::Entry::Vacant(e) = next_hop.entry(p) {
                e.insert(v);
                queue.push_back(p);
            }
        };
        for &p in graph.incoming.neighbours(v) {
            visit(p);
        }
        if mode == PathMode::IncludeWeak {
            for p in graph.weak_to(v) {
                visit(p);
            }
        }
    }
    found
}

/// Up to `limit` shortest paths from `target` to distinct GC roots, shortest first. Not
/// through weak references, the first is the one of the shortest-path tree (the one merged
/// paths and hints show, and the only one an index file alone knows); the others come from a
/// search over the referrers, which needs the dump (visiting at most `budget` objects).
pub fn shortest_paths(
    a: &super::Analysis,
    target: ObjectId,
    mode: PathMode,
    limit: usize,
    budget: usize,
) -> Vec<RootPath> {
    let tree_path = (mode == PathMode::ExcludeWeak)
        .then(|| a.shortest_paths.path(&a.index, &a.roots, target))
        .flatten()
        .map(|objects| RootPath { objects });
    let tree_root = tree_path.as_ref().and_then(|p| p.objects.last().copied());
    let mut out: Vec<RootPath> = tree_path.into_iter().collect();
    if out.len() >= limit || !a.index.has_dump() {
        return out;
    }
    let found = paths_to_roots(&a.graph, &a.roots, target, mode, limit, budget);
    out.extend(
        found
            .into_iter()
            .filter(|p| tree_root.is_none() || p.objects.last().copied() != tree_root)
            .take(limit - out.len()),
    );
    out
}

/// How `from` refers to `to` on a path: from the shortest-path tree's stored hops when it is
/// a tree edge (no dump needed), otherwise read from the dump ([`reference_label`]); `?`
/// without the dump.
pub fn hop_name(a: &super::Analysis, from: ObjectId, to: ObjectId) -> String {
    match a.shortest_paths.hop_label(&a.index, from, to) {
        Some(name) => name,
        None if a.index.has_dump() => reference_label(&a.index, from, to),
        None => "?".into(),
    }
}

/// How `from` refers to `to`: `.field`, `[index]`, `static field`, `<class>`, `<super>`, …
pub fn reference_label(index: &HeapIndex, from: ObjectId, to: ObjectId) -> String {
    let to_id = index.address(to);
    let mut labels: Vec<String> = Vec::new();
    if let Some(c) = index.class_for_object(from) {
        let info = index.classes().get(c);
        for s in &info.statics {
            if s.value == Value::Object(to_id) {
                labels.push(format!("static {}", s.name));
            }
        }
        if info.super_class.and_then(|s| index.class_object(s)) == Some(to) {
            labels.push("<super>".into());
        }
        if info.loader_id == to_id && to_id != 0 {
            labels.push("<classloader>".into());
        }
    } else {
        match index.view(from) {
            Some(ObjectView::Instance { .. }) => {
                for f in index.fields(from) {
                    if f.value == Value::Object(to_id) {
                        labels.push(format!(".{}", f.name));
                    }
                }
            }
            Some(ObjectView::ObjectArray { elements, .. }) => {
                for (i, id) in elements.iter().enumerate() {
                    if id == to_id {
                        labels.push(format!("[{i}]"));
                        if labels.len() >= 3 {
                            break;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if labels.is_empty() && index.class_object(index.class_of(from)) == Some(to) {
        labels.push("<class>".into());
    }
    if labels.is_empty() {
        "?".into()
    } else {
        labels.join(", ")
    }
}

/// A node of merged shortest paths: reached from the root side, with how many of the chosen
/// objects have their shortest path through it and their retained bytes.
#[derive(Debug, Clone)]
pub struct MergedNode {
    pub object: ObjectId,
    /// Objects of the set whose path passes here.
    pub objects: u64,
    /// Sum of those objects' retained sizes.
    pub retained_bytes: u64,
    pub children: Vec<usize>,
}

/// Merged shortest paths to GC roots of a set of objects, as a forest rooted at GC roots.
#[derive(Debug, Clone, Default)]
pub struct MergedPaths {
    pub nodes: Vec<MergedNode>,
    /// Indices of the GC-root nodes, most objects first.
    pub roots: Vec<usize>,
    /// Objects of the set that no root reaches in this mode.
    pub unreachable: u64,
}

pub fn merge_shortest_paths(
    index: &HeapIndex,
    tree: &ShortestPathTree,
    roots: &RootIndex,
    objects: &[ObjectId],
    retained: impl Fn(ObjectId) -> u64,
) -> MergedPaths {
    let mut m = MergedPaths::default();
    let mut top: FxHashMap<ObjectId, usize> = FxHashMap::default();
    let mut child_of: FxHashMap<(usize, ObjectId), usize> = FxHashMap::default();
    for &o in objects {
        let Some(path) = tree.path(index, roots, o) else {
            m.unreachable += 1;
            continue;
        };
        let r = retained(o);
        let mut cur: Option<usize> = None;
        for &step in path.iter().rev() {
            let idx = match cur {
                None => *top.entry(step).or_insert_with(|| {
                    m.nodes.push(MergedNode {
                        object: step,
                        objects: 0,
                        retained_bytes: 0,
                        children: Vec::new(),
                    });
                    m.roots.push(m.nodes.len() - 1);
                    m.nodes.len() - 1
                }),
                Some(p) => match child_of.get(&(p, step)) {
                    Some(&c) => c,
                    None => {
                        m.nodes.push(MergedNode {
                            object: step,
                            objects: 0,
                            retained_bytes: 0,
                            children: Vec::new(),
                        });
                        let c = m.nodes.len() - 1;
                        m.nodes[p].children.push(c);
                        child_of.insert((p, step), c);
                        c
                    }
                },
            };
            m.nodes[idx].objects += 1;
            m.nodes[idx].retained_bytes += r;
            cur = Some(idx);
        }
    }
    let nodes = &m.nodes;
    let order = |a: &usize, b: &usize| {
        nodes[*b]
            .objects
            .cmp(&nodes[*a].objects)
            .then(nodes[*b].retained_bytes.cmp(&nodes[*a].retained_bytes))
    };
    let mut sorted_children: Vec<Vec<usize>> = m.nodes.iter().map(|n| n.children.clone()).collect();
    for c in &mut sorted_children {
        c.sort_by(order);
    }
    m.roots.sort_by(order);
    for (n, c) in m.nodes.iter_mut().zip(sorted_children) {
        n.children = c;
    }
    m
}
