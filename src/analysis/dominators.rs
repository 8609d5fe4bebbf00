//! Reachability and the dominator tree from a virtual super-root over all GC roots
//! (semi-NCA, iterative, u32 arrays), retained sizes, and per-class minimum retained sizes.

use rayon::prelude::*;

use super::graph::ReferenceGraph;
use crate::heap::{HeapIndex, ObjectId};
use crate::progress::{Phase, Progress};

/// `idom` of objects the super-root dominates directly.
pub const SUPER_ROOT: ObjectId = u32::MAX;
/// `idom` of objects no GC root reaches.
pub const UNREACHABLE: ObjectId = u32::MAX - 1;

const NONE: u32 = u32::MAX;

/// Which references keep objects alive for the dominator tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReferenceMode {
    /// Every reference, weak and soft `referent`s too (Eclipse MAT's definition).
    #[default]
    All,
    /// `referent` of `java.lang.ref.Reference` subclasses ignored (as ahat does).
    StrongOnly,
}

pub struct DominatorTree {
    idom: Vec<ObjectId>,
    retained: Vec<u64>,
    child_offsets: Vec<u32>,
    children: Vec<ObjectId>,
    top_level: Vec<ObjectId>,
    pub mode: ReferenceMode,
    pub reachable_objects: u64,
    pub reachable_bytes: u64,
    pub unreachable_objects: u64,
    pub unreachable_bytes: u64,
}

impl DominatorTree {
    /// The immediate dominator: an object, [`SUPER_ROOT`] or [`UNREACHABLE`].
    #[inline]
    pub fn idom(&self, o: ObjectId) -> ObjectId {
        self.idom[o as usize]
    }

    #[inline]
    pub fn is_reachable(&self, o: ObjectId) -> bool {
        self.idom[o as usize] != UNREACHABLE
    }

    /// Retained size (0 for unreachable objects, which are not in the tree).
    #[inline]
    pub fn retained(&self, o: ObjectId) -> u64 {
        self.retained[o as usize]
    }

    /// Children in the dominator tree, largest retained size first.
    pub fn children(&self, o: ObjectId) -> &[ObjectId] {
        let a = self.child_offsets[o as usize] as usize;
        let b = self.child_offsets[o as usize + 1] as usize;
        &self.children[a..b]
    }

    /// Objects the super-root dominates directly, largest retained size first.
    pub fn top_level(&self) -> &[ObjectId] {
        &self.top_level
    }

    /// The chain of dominators from `o` up to (not including) the super-root.
    pub fn dominators_of(&self, o: ObjectId) -> Vec<ObjectId> {
        let mut out = vec![o];
        let mut cur = o;
        while let Some(&d) = Some(&self.idom[cur as usize]) {
            if d == SUPER_ROOT || d == UNREACHABLE || out.len() > self.idom.len() {
                break;
            }
            out.push(d);
            cur = d;
        }
        out
    }

    pub fn memory_bytes(&self) -> usize {
        self.idom.len() * 4 + self.retained.len() * 8 + self.child_offsets.len() * 4 + self.children.len() * 4
    }
}

/// Unique GC-root objects, sorted.
pub fn root_objects(index: &HeapIndex) -> Vec<ObjectId> {
    let mut roots: Vec<ObjectId> = index.roots().iter().map(|r| r.object).collect();
    roots.sort_unstable();
    roots.dedup();
    roots
}

pub fn compute(
    index: &HeapIndex,
    graph: &ReferenceGraph,
    mode: ReferenceMode,
    progress: &Progress,
) -> DominatorTree {
    let n = index.object_count();
    let roots = root_objects(index);
    let with_weak = mode == ReferenceMode::All;
    progress.start(Phase::Dominators, n as u64);

    // Depth-first preorder from the super-root (preorder number 0).
    let mut pre_of = vec![0u32; n];
    let mut vertex: Vec<ObjectId> = Vec::with_capacity(n + 1);
    let mut parent: Vec<u32> = Vec::with_capacity(n + 1);
    vertex.push(SUPER_ROOT);
    parent.push(NONE);
    {
        // (object, its preorder number, next out-edge, next weak edge position, weak end)
        let mut stack: Vec<(ObjectId, u32, u32, u32, u32)> = Vec::new();
        let weak_range = |v: ObjectId| -> (u32, u32) {
            if !with_weak {
                return (0, 0);
            }
            let a = graph.weak.partition_point(|e| e.from < v);
            let b = a + graph.weak[a..].iter().take_while(|e| e.from == v).count();
            (a as u32, b as u32)
        };
        for &r in &roots {
            if pre_of[r as usize] != 0 {
                continue;
            }
            let num = vertex.len() as u32;
            pre_of[r as usize] = num;
            vertex.push(r);
            parent.push(0);
            let (wa, wb) = weak_range(r);
            stack.push((r, num, 0, wa, wb));
            while let Some(top) = stack.last_mut() {
                let (v, vnum) = (top.0, top.1);
                let out = graph.outgoing.neighbours(v);
                let next = if (top.2 as usize) < out.len() {
                    top.2 += 1;
                    Some(out[top.2 as usize - 1])
                } else if top.3 < top.4 {
                    top.3 += 1;
                    Some(graph.weak[top.3 as usize - 1].to)
                } else {
                    None
                };
                match next {
                    Some(t) if pre_of[t as usize] == 0 => {
                        let tnum = vertex.len() as u32;
                        pre_of[t as usize] = tnum;
                        vertex.push(t);
                        parent.push(vnum);
                        let (wa, wb) = weak_range(t);
                        stack.push((t, tnum, 0, wa, wb));
                    }
                    Some(_) => {}
                    None => {
                        stack.pop();
                    }
                }
            }
        }
    }
    let r = vertex.len() - 1;
    progress.set(n as u64 / 3);

    // Semi-dominators (Lengauer–Tarjan's first phase, with iterative path compression).
    let mut semi: Vec<u32> = (0..=r as u32).collect();
    let mut label: Vec<u32> = (0..=r as u32).collect();
    let mut ancestor: Vec<u32> = vec![NONE; r + 1];
    let mut path: Vec<u32> = Vec::new();
    let is_root = |o: ObjectId| roots.binary_search(&o).is_ok();
    for w in (1..=r).rev() {
        let v = vertex[w];
        let mut s = semi[w];
        if is_root(v) {
            s = 0;
        }
        let mut consider = |p: ObjectId, s: &mut u32| {
            let pp = pre_of[p as usize];
            if pp == 0 {
                return;
            }
            let u = eval(pp, &mut ancestor, &mut label, &semi, &mut path);
            if semi[u as usize] < *s {
                *s = semi[u as usize];
            }
        };
        if s != 0 {
            for &p in graph.incoming.neighbours(v) {
                consider(p, &mut s);
            }
            if with_weak {
                for p in graph.weak_to(v) {
                    consider(p, &mut s);
                }
            }
        }
        semi[w] = s;
        ancestor[w] = parent[w];
    }
    drop(ancestor);
    drop(label);
    progress.set(2 * n as u64 / 3);

    // Immediate dominators: the nearest common ancestor step of semi-NCA.
    let mut idom_pre = parent;
    for w in 1..=r {
        let mut d = idom_pre[w];
        while d > semi[w] {
            d = idom_pre[d as usize];
        }
        idom_pre[w] = d;
    }
    drop(semi);

    progress.start(Phase::RetainedSizes, n as u64);
    let mut retained_pre: Vec<u64> = vertex.iter().map(|&v| if v == SUPER_ROOT { 0 } else { index.shallow_size(v) }).collect();
    for w in (1..=r).rev() {
        let d = idom_pre[w] as usize;
        retained_pre[d] += retained_pre[w];
    }

    let mut idom = vec![UNREACHABLE; n];
    let mut retained = vec![0u64; n];
    for w in 1..=r {
        let v = vertex[w] as usize;
        let d = idom_pre[w];
        idom[v] = if d == 0 { SUPER_ROOT } else { vertex[d as usize] };
        retained[v] = retained_pre[w];
    }
    drop(retained_pre);
    drop(idom_pre);
    drop(vertex);
    drop(pre_of);

    // Children lists, each sorted by retained size.
    let mut child_offsets = vec![0u32; n + 1];
    let mut top_level = Vec::new();
    for (v, &d) in idom.iter().enumerate() {
        match d {
            SUPER_ROOT => top_level.push(v as ObjectId),
            UNREACHABLE => {}
            d => child_offsets[d as usize + 1] += 1,
        }
    }
    for i in 0..n {
        child_offsets[i + 1] += child_offsets[i];
    }
    let mut cursor = child_offsets.clone();
    let mut children = vec![0u32; child_offsets[n] as usize];
    for (v, &d) in idom.iter().enumerate() {
        if d != SUPER_ROOT && d != UNREACHABLE {
            children[cursor[d as usize] as usize] = v as ObjectId;
            cursor[d as usize] += 1;
        }
    }
    drop(cursor);
    let by_retained = |a: &ObjectId, b: &ObjectId| {
        retained[*b as usize]
            .cmp(&retained[*a as usize])
            .then(a.cmp(b))
    };
    {
        let mut slices: Vec<&mut [ObjectId]> = Vec::new();
        let mut rest: &mut [ObjectId] = &mut children;
        for i in 0..n {
            let len = (child_offsets[i + 1] - child_offsets[i]) as usize;
            if len > 1 {
                let (a, b) = rest.split_at_mut(len);
                slices.push(a);
                rest = b;
            } else {
                rest = &mut rest[len..];
            }
        }
        slices.par_iter_mut().for_each(|s| s.sort_unstable_by(by_retained));
    }
    top_level.sort_unstable_by(by_retained);

    let reachable_bytes: u64 = top_level.iter().map(|&v| retained[v as usize]).sum();
    let total = index.total_shallow_bytes();
    progress.set(n as u64);
    DominatorTree {
        idom,
        retained,
        child_offsets,
        children,
        top_level,
        mode,
        reachable_objects: r as u64,
        reachable_bytes,
        unreachable_objects: (n - r) as u64,
        unreachable_bytes: total - reachable_bytes,
    }
}

/// Lengauer–Tarjan's EVAL with path compression, without recursion.
#[inline]
fn eval(v: u32, ancestor: &mut [u32], label: &mut [u32], semi: &[u32], path: &mut Vec<u32>) -> u32 {
    if ancestor[v as usize] == NONE {
        return v;
    }
    path.clear();
    let mut x = v;
    while ancestor[x as usize] != NONE && ancestor[ancestor[x as usize] as usize] != NONE {
        path.push(x);
        x = ancestor[x as usize];
    }
    for &y in path.iter().rev() {
        let a = ancestor[y as usize] as usize;
        if semi[label[a] as usize] < semi[label[y as usize] as usize] {
            label[y as usize] = label[a];
        }
        ancestor[y as usize] = ancestor[a];
    }
    label[v as usize]
}

/// MAT's minimum retained size per class: the retained sizes of the instances that no other
/// instance of the same class dominates.
pub fn retained_by_class(index: &HeapIndex, tree: &DominatorTree) -> Vec<u64> {
    let nclasses = index.classes().len();
    let mut total = vec![0u64; nclasses];
    let mut active = vec![0u32; nclasses];
    // (object, next child position); entering adds, leaving undoes.
    let mut stack: Vec<(ObjectId, u32)> = Vec::new();
    for &t in tree.top_level() {
        let c = index.class_of(t) as usize;
        if active[c] == 0 {
            total[c] += tree.retained(t);
        }
        active[c] += 1;
        stack.push((t, 0));
        while let Some(top) = stack.last_mut() {
            let kids = tree.children(top.0);
            if (top.1 as usize) < kids.len() {
                let k = kids[top.1 as usize];
                top.1 += 1;
                let c = index.class_of(k) as usize;
                if active[c] == 0 {
                    total[c] += tree.retained(k);
                }
                active[c] += 1;
                stack.push((k, 0));
            } else {
                let c = index.class_of(top.0) as usize;
                active[c] -= 1;
                stack.pop();
            }
        }
    }
    total
}

/// Instances and shallow bytes per class that no GC root reaches.
pub fn unreachable_by_class(index: &HeapIndex, tree: &DominatorTree) -> Vec<(u64, u64)> {
    let nclasses = index.classes().len();
    let mut out = vec![(0u64, 0u64); nclasses];
    for o in 0..index.object_count() as ObjectId {
        if !tree.is_reachable(o) {
            let e = &mut out[index.class_of(o) as usize];
            e.0 += 1;
            e.1 += index.shallow_size(o);
        }
    }
    out
}
