//! The reference graph: outgoing references of every object as CSR over object numbers, and
//! the incoming graph built from it. `referent` edges of `java.lang.ref.Reference` objects are
//! kept apart so analyses can count them (MAT's default) or not (strong references only).

use rayon::prelude::*;

use crate::heap::{ClassIndex, ClassKind, HeapIndex, ObjectId};
use crate::hprof::{BasicType, SubRecord, SubRecordIter};
use crate::progress::Progress;

/// Compressed sparse rows: the neighbours of `v` are `targets[offsets[v]..offsets[v + 1]]`.
pub struct Csr {
    offsets: Vec<u32>,
    targets: Vec<ObjectId>,
}

impl Csr {
    #[inline]
    pub fn neighbours(&self, v: ObjectId) -> &[ObjectId] {
        let a = self.offsets[v as usize] as usize;
        let b = self.offsets[v as usize + 1] as usize;
        &self.targets[a..b]
    }

    pub fn node_count(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn edge_count(&self) -> usize {
        self.targets.len()
    }

    pub fn memory_bytes(&self) -> usize {
        self.offsets.len() * 4 + self.targets.len() * 4
    }

    /// The same edges reversed.
    pub fn transpose(&self) -> Csr {
        let n = self.node_count();
        let mut counts = vec![0u32; n + 1];
        for &t in &self.targets {
            counts[t as usize + 1] += 1;
        }
        for i in 0..n {
            counts[i + 1] += counts[i];
        }
        let offsets = counts.clone();
        let mut cursor = counts;
        let mut targets = vec![0u32; self.targets.len()];
        for v in 0..n as u32 {
            for &t in self.neighbours(v) {
                let slot = &mut cursor[t as usize];
                targets[*slot as usize] = v;
                *slot += 1;
            }
        }
        Csr { offsets, targets }
    }

    /// Builds from per-range edge lists covering consecutive objects.
    fn from_parts(n: usize, parts: Vec<(Vec<u32>, Vec<ObjectId>)>) -> Result<Csr, GraphError> {
        let total: usize = parts.iter().map(|p| p.1.len()).sum();
        if total > u32::MAX as usize {
            return Err(GraphError::TooManyEdges(total as u64));
        }
        let mut offsets = Vec::with_capacity(n + 1);
        let mut targets = Vec::with_capacity(total);
        offsets.push(0u32);
        for (degrees, edges) in parts {
            let mut at = targets.len() as u32;
            for d in degrees {
                at += d;
                offsets.push(at);
            }
            targets.extend_from_slice(&edges);
        }
        Ok(Csr { offsets, targets })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("the dump has {0} references; heapsight handles at most 4,294,967,295")]
    TooManyEdges(u64),
}

/// A `referent` edge of a `java.lang.ref.Reference`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct WeakEdge {
    pub from: ObjectId,
    pub to: ObjectId,
}

pub struct ReferenceGraph {
    /// Every reference except `referent`s of Reference objects.
    pub outgoing: Csr,
    pub incoming: Csr,
    /// `referent` edges sorted by `from`.
    pub weak: Vec<WeakEdge>,
    /// The same sorted by `to`.
    pub weak_by_target: Vec<WeakEdge>,
}

impl ReferenceGraph {
    pub fn weak_from(&self, v: ObjectId) -> impl Iterator<Item = ObjectId> + '_ {
        let i = self.weak.partition_point(|e| e.from < v);
        self.weak[i..]
            .iter()
            .take_while(move |e| e.from == v)
            .map(|e| e.to)
    }

    pub fn weak_to(&self, v: ObjectId) -> impl Iterator<Item = ObjectId> + '_ {
        let i = self.weak_by_target.partition_point(|e| e.to < v);
        self.weak_by_target[i..]
            .iter()
            .take_while(move |e| e.to == v)
            .map(|e| e.from)
    }

    pub fn memory_bytes(&self) -> usize {
        self.outgoing.memory_bytes() + self.incoming.memory_bytes() + self.weak.len() * 16
    }
}

/// Where reference fields sit in one class's instance data, as the dump lays it out.
struct RefLayout {
    offsets: Vec<u32>,
    /// Offset of `referent` for Reference subclasses.
    referent: Option<u32>,
}

fn ref_layouts(index: &HeapIndex) -> Vec<RefLayout> {
    let classes = index.classes();
    let id_size = index.header().id_size;
    let reference_class: Vec<ClassIndex> = classes.by_name("java.lang.ref.Reference").collect();
    (0..classes.len() as ClassIndex)
        .map(|c| {
            let is_reference = reference_class
                .iter()
                .any(|&r| classes.is_subclass_of(c, r));
            let mut pos = 0u32;
            let mut offsets = Vec::new();
            let mut referent = None;
            for ci in classes.chain(c) {
                for f in &classes.get(ci).fields {
                    if f.ty == BasicType::Object {
                        if is_reference && &*f.name == "referent" && referent.is_none() {
                            referent = Some(pos);
                        } else {
                            offsets.push(pos);
                        }
                    }
                    pos += f.ty.size_in_dump(id_size) as u32;
                }
            }
            RefLayout { offsets, referent }
        })
        .collect()
}

/// Calls `f` with every outgoing reference of `o` that resolves to an object of the dump,
/// and with `true` for a `referent`. Includes the edge to the object's class.
pub fn for_each_reference(index: &HeapIndex, o: ObjectId, mut f: impl FnMut(ObjectId, bool)) {
    let layouts = ref_layouts(index);
    visit_references(index, &layouts, o, &mut f);
}

fn visit_references(
    index: &HeapIndex,
    layouts: &[RefLayout],
    o: ObjectId,
    f: &mut impl FnMut(ObjectId, bool),
) {
    let id_size = index.header().id_size;
    let classes = index.classes();
    let class = index.class_of(o);
    if let Some(class_obj) = index.class_object(class) {
        f(class_obj, false);
    }
    if let Some(c) = index.class_for_object(o) {
        let info = classes.get(c);
        if let Some(s) = info.super_class.and_then(|s| index.class_object(s)) {
            f(s, false);
        }
        if let Some(l) = index.find(info.loader_id).filter(|_| info.loader_id != 0) {
            f(l, false);
        }
        for s in &info.statics {
            if let Some(t) = s.value.as_object().and_then(|id| index.find(id)) {
                f(t, false);
            }
        }
        return;
    }
    match classes.get(class).kind {
        ClassKind::PrimitiveArray(_) => {}
        ClassKind::Instance | ClassKind::ObjectArray => {
            let off = index.offset(o) as usize;
            let Some(data) = index.source().bytes().get(off..) else {
                return;
            };
            let mut it = SubRecordIter::new(data, off as u64, id_size);
            match it.next() {
                Some(Ok(r)) => match r.record {
                    SubRecord::Instance { fields, .. } => {
                        let layout = &layouts[class as usize];
                        let read = |p: u32| {
                            fields
                                .get(p as usize..p as usize + id_size)
                                .map(|b| crate::hprof::cursor::read_id(b, id_size))
                        };
                        for &p in &layout.offsets {
                            if let Some(t) = read(p).filter(|&id| id != 0).and_then(|id| index.find(id)) {
                                f(t, false);
                            }
                        }
                        if let Some(p) = layout.referent {
                            if let Some(t) = read(p).filter(|&id| id != 0).and_then(|id| index.find(id)) {
                                f(t, true);
                            }
                        }
                    }
                    SubRecord::ObjectArray { elements, .. } => {
                        for id in elements.iter() {
                            if id != 0 {
                                if let Some(t) = index.find(id) {
                                    f(t, false);
                                }
                            }
                        }
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
}

/// Builds the reference graph in parallel over ranges of objects.
pub fn build_graph(index: &HeapIndex, progress: &Progress) -> Result<ReferenceGraph, GraphError> {
    let n = index.object_count();
    let layouts = ref_layouts(index);
    const RANGE: usize = 1 << 16;
    progress.start(crate::progress::Phase::Graph, n as u64);
    let parts: Vec<(Vec<u32>, Vec<ObjectId>, Vec<WeakEdge>)> = (0..n.div_ceil(RANGE))
        .into_par_iter()
        .map(|r| {
            let start = r * RANGE;
            let end = ((r + 1) * RANGE).min(n);
            let mut degrees = Vec::with_capacity(end - start);
            let mut edges = Vec::with_capacity((end - start) * 2);
            let mut weak = Vec::new();
            for o in start as ObjectId..end as ObjectId {
                let before = edges.len();
                visit_references(index, &layouts, o, &mut |t, is_weak| {
                    if is_weak {
                        weak.push(WeakEdge { from: o, to: t });
                    } else {
                        edges.push(t);
                    }
                });
                degrees.push((edges.len() - before) as u32);
            }
            edges.shrink_to_fit();
            progress.add((end - start) as u64);
            (degrees, edges, weak)
        })
        .collect();
    let mut weak = Vec::new();
    let parts: Vec<(Vec<u32>, Vec<ObjectId>)> = parts
        .into_iter()
        .map(|(d, e, w)| {
            weak.extend(w);
            (d, e)
        })
        .collect();
    index.source().release(0, index.source().bytes().len());
    let outgoing = Csr::from_parts(n, parts)?;
    let incoming = outgoing.transpose();
    let mut weak_by_target = weak.clone();
    weak_by_target.sort_unstable_by_key(|e| (e.to, e.from));
    Ok(ReferenceGraph {
        outgoing,
        incoming,
        weak,
        weak_by_target,
    })
}
