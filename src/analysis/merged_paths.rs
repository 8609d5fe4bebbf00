//! "Merge shortest paths to GC roots" of a set of objects, grouped by class at every level as
//! Eclipse MAT shows it: the top level is the classes of the GC roots, each level below the
//! classes of the next objects on the paths, down to the set's own class. A node counts the
//! members whose shortest path passes through it and the bytes those members retain *as a
//! set*: a member that another member dominates is counted once, inside its dominator, so no
//! total exceeds the live heap.
//!
//! Cost: one walk up the shortest-path tree per member that stops at the first object already
//! placed (so members sharing a path share the work), and one walk up the dominator tree per
//! member that stops at the first member or at an object already answered. Memory: one map
//! entry per distinct object on the paths, one node per (place, class).

use rustc_hash::FxHashMap;

use super::dominators::{DominatorTree, SUPER_ROOT, UNREACHABLE};
use super::paths::{RootIndex, ShortestPathTree};
use crate::heap::{ClassIndex, HeapIndex, ObjectId};
use crate::progress::Progress;

/// No node / no object.
pub const NONE: u32 = u32::MAX;

/// Members handled between two looks at the cancel flag.
const CHECK_EVERY: usize = 4096;
/// Answers of the nearest-member walk kept before the memo is dropped (bounds memory).
const MEMO_MAX: usize = 4_000_000;
/// Steps a check "is this dominator on the member's path" may take before it assumes not.
const ON_PATH_STEPS: usize = 256;

/// Objects of one class at one place on the paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassNode {
    pub class: ClassIndex,
    /// `NONE` for a GC-root class.
    pub parent: u32,
    pub depth: u32,
    /// Members of the set whose shortest path passes through here.
    pub members: u64,
    /// Distinct objects of this class at this place.
    pub objects: u64,
    /// Bytes the members passing here retain as a set.
    pub retained: u64,
    /// One object here, and the object before it on its path (`NONE` at the top): for
    /// selecting, and for naming the field that leads here.
    pub sample: ObjectId,
    pub sample_referrer: ObjectId,
    /// Most members first.
    pub children: Vec<u32>,
}

/// The merged paths of a set.
#[derive(Debug, Clone, Default)]
pub struct MergedPaths {
    pub nodes: Vec<ClassNode>,
    /// GC-root classes, most members first.
    pub roots: Vec<u32>,
    /// Members in the set.
    pub members: u64,
    /// Members that no GC root reaches in this mode.
    pub unreachable: u64,
    /// Bytes the whole set retains (no member counted inside another).
    pub retained: u64,
}

/// Merges the shortest paths (from `tree`) of `members`; `None` when cancelled. `progress`
/// counts members.
pub fn merge_paths_by_class(
    index: &HeapIndex,
    tree: &ShortestPathTree,
    roots: &RootIndex,
    dominators: &DominatorTree,
    members: &[ObjectId],
    progress: &Progress,
) -> Option<MergedPaths> {
    let mut m = MergedPaths {
        members: members.len() as u64,
        ..MergedPaths::default()
    };
    // Which merged node each object on a path belongs to: an object's place is fixed by its
    // own shortest path, so one node per object. By object number, plus one (0: none yet):
    // untouched pages of the zeroed array take no memory, and a class of millions touches
    // them all, where a map of the same entries took as much and most of the time.
    let mut node_of: Vec<u32> = vec![0; index.object_count()];
    let node_at = |node_of: &[u32], o: ObjectId| match node_of.get(o as usize) {
        Some(&n) if n > 0 => Some(n - 1),
        _ => None,
    };
    let mut child: FxHashMap<(u32, ClassIndex), u32> = FxHashMap::default();
    let mut top: FxHashMap<ClassIndex, u32> = FxHashMap::default();
    // Per member: its node (NONE when unreachable).
    let mut member_node: Vec<u32> = Vec::with_capacity(members.len());
    let mut climb: Vec<ObjectId> = Vec::new();
    for (i, &t) in members.iter().enumerate() {
        if i % CHECK_EVERY == 0 {
            if progress.is_cancelled() {
                return None;
            }
            progress.set(i as u64 / 2);
        }
        climb.clear();
        let mut cur = t;
        let mut attach = NONE;
        let mut reached = true;
        loop {
            if let Some(n) = node_at(&node_of, cur) {
                attach = n;
                break;
            }
            climb.push(cur);
            match tree.parent(cur) {
                Some(p) if p != cur && !roots.is_root(cur) => cur = p,
                Some(_) => break,
                None => {
                    reached = false;
                    break;
                }
            }
            if climb.len() > index.object_count() {
                reached = false;
                break;
            }
        }
        if !reached {
            m.unreachable += 1;
            member_node.push(NONE);
            continue;
        }
        let mut parent = attach;
        let mut referrer = if attach == NONE {
            NONE
        } else {
            climb.last().and_then(|&x| tree.parent(x)).unwrap_or(NONE)
        };
        for &x in climb.iter().rev() {
            let class = index.class_of(x);
            let existing = if parent == NONE {
                top.get(&class).copied()
            } else {
                child.get(&(parent, class)).copied()
            };
            let n = match existing {
                Some(n) => n,
                None => {
                    let n = m.nodes.len() as u32;
                    let depth = if parent == NONE {
                        0
                    } else {
                        m.nodes[parent as usize].depth + 1
                    };
                    m.nodes.push(ClassNode {
                        class,
                        parent,
                        depth,
                        members: 0,
                        objects: 0,
                        retained: 0,
                        sample: x,
                        sample_referrer: referrer,
                        children: Vec::new(),
                    });
                    if parent == NONE {
                        top.insert(class, n);
                        m.roots.push(n);
                    } else {
                        child.insert((parent, class), n);
                        m.nodes[parent as usize].children.push(n);
                    }
                    n
                }
            };
            m.nodes[n as usize].objects += 1;
            if let Some(slot) = node_of.get_mut(x as usize) {
                *slot = n + 1;
            }
            parent = n;
            referrer = x;
        }
        member_node.push(parent);
    }

    // Retained bytes: a member adds its retained size from its own node up to (not including)
    // the node of its nearest dominator in the set; summed up the tree below.
    let mut in_set = vec![false; index.object_count()];
    for &t in members {
        if let Some(b) = in_set.get_mut(t as usize) {
            *b = true;
        }
    }
    let mut delta: Vec<i128> = vec![0; m.nodes.len()];
    let mut ending: Vec<u64> = vec![0; m.nodes.len()];
    let mut memo: FxHashMap<ObjectId, ObjectId> = FxHashMap::default();
    let mut walked: Vec<ObjectId> = Vec::new();
    for (i, &t) in members.iter().enumerate() {
        if i % CHECK_EVERY == 0 {
            if progress.is_cancelled() {
                return None;
            }
            progress.set((members.len() + i) as u64 / 2);
        }
        let n = member_node[i];
        if n == NONE {
            continue;
        }
        ending[n as usize] += 1;
        let r = dominators.retained(t) as i128;
        let owner = nearest_member_dominator(dominators, &in_set, t, &mut memo, &mut walked);
        if owner == NONE {
            m.retained += r as u64;
            delta[n as usize] += r;
            continue;
        }
        // The dominator lies on every path to `t`, so on its shortest path too, unless the
        // paths follow weak references the dominators ignore: check, briefly.
        let owner_node = node_at(&node_of, owner).unwrap_or(NONE);
        if owner_node != NONE && on_path(tree, t, owner) {
            delta[n as usize] += r;
            delta[owner_node as usize] -= r;
        }
        // Otherwise the owner's own bytes include `t`'s: counted there.
    }
    // Children come after their parents: one pass from the end sums subtrees.
    for k in (0..m.nodes.len()).rev() {
        let p = m.nodes[k].parent;
        m.nodes[k].members = ending[k];
        m.nodes[k].retained = delta[k].max(0) as u64;
        if p != NONE {
            ending[p as usize] += ending[k];
            delta[p as usize] += delta[k];
        }
    }
    let nodes = &m.nodes;
    let order = |a: &u32, b: &u32| {
        let (x, y) = (&nodes[*a as usize], &nodes[*b as usize]);
        y.members
            .cmp(&x.members)
            .then(y.retained.cmp(&x.retained))
            .then(x.class.cmp(&y.class))
    };
    let mut children: Vec<Vec<u32>> = nodes.iter().map(|n| n.children.clone()).collect();
    for c in &mut children {
        c.sort_by(order);
    }
    m.roots.sort_by(order);
    for (n, c) in m.nodes.iter_mut().zip(children) {
        n.children = c;
    }
    progress.set(members.len() as u64);
    Some(m)
}

/// The closest strict dominator of `t` that is in the set, or `NONE`.
fn nearest_member_dominator(
    dominators: &DominatorTree,
    in_set: &[bool],
    t: ObjectId,
    memo: &mut FxHashMap<ObjectId, ObjectId>,
    walked: &mut Vec<ObjectId>,
) -> ObjectId {
    walked.clear();
    let mut cur = dominators.idom(t);
    let found = loop {
        if cur == SUPER_ROOT || cur == UNREACHABLE || cur as usize >= in_set.len() {
            break NONE;
        }
        if in_set[cur as usize] {
            break cur;
        }
        if let Some(&known) = memo.get(&cur) {
            break known;
        }
        walked.push(cur);
        cur = dominators.idom(cur);
    };
    if memo.len() > MEMO_MAX {
        memo.clear();
    }
    for &w in walked.iter() {
        memo.insert(w, found);
    }
    found
}

/// True when `owner` is on `t`'s shortest path within a few steps.
fn on_path(tree: &ShortestPathTree, t: ObjectId, owner: ObjectId) -> bool {
    let mut cur = t;
    for _ in 0..ON_PATH_STEPS {
        match tree.parent(cur) {
            Some(p) if p == owner => return true,
            Some(p) if p != cur => cur = p,
            _ => return false,
        }
    }
    false
}
