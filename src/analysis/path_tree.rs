//! Several paths of one object merged into a tree, as Eclipse MAT's "Path to GC roots" shows
//! them: node 0 is the object, a node's children are the objects that reference it on some
//! path, leaves are GC roots.

use std::sync::Arc;

use rustc_hash::FxHashSet;

use super::paths::RootPath;
use crate::heap::ObjectId;

pub struct PathTree {
    pub paths: Arc<Vec<RootPath>>,
    pub nodes: Vec<PathNode>,
}

pub struct PathNode {
    pub object: ObjectId,
    pub children: Vec<usize>,
    /// The first path through this node.
    pub path: usize,
}

impl PathTree {
    /// Merges `paths` (each from `target` up to a root) by their shared prefixes.
    pub fn new(target: ObjectId, paths: Arc<Vec<RootPath>>) -> PathTree {
        let mut nodes = vec![PathNode {
            object: target,
            children: Vec::new(),
            path: 0,
        }];
        for (pi, p) in paths.iter().enumerate() {
            let mut cur = 0usize;
            for &o in p.objects.iter().skip(1) {
                let existing = nodes[cur]
                    .children
                    .iter()
                    .copied()
                    .find(|&c| nodes[c].object == o);
                cur = match existing {
                    Some(c) => c,
                    None => {
                        nodes.push(PathNode {
                            object: o,
                            children: Vec::new(),
                            path: pi,
                        });
                        let c = nodes.len() - 1;
                        nodes[cur].children.push(c);
                        c
                    }
                };
            }
        }
        PathTree { paths, nodes }
    }

    /// Visible (node, depth, parent) in display order, without recursion.
    pub fn flatten(&self, collapsed: &FxHashSet<usize>) -> Vec<(usize, u32, Option<usize>)> {
        let mut out = Vec::new();
        let mut stack = vec![(0usize, 0u32, None)];
        while let Some((n, d, parent)) = stack.pop() {
            out.push((n, d, parent));
            if !collapsed.contains(&n) {
                for &c in self.nodes[n].children.iter().rev() {
                    stack.push((c, d + 1, Some(n)));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_merges_shared_prefixes() {
        let paths = Arc::new(vec![
            RootPath {
                objects: vec![1, 2, 3],
            },
            RootPath {
                objects: vec![1, 2, 4],
            },
            RootPath {
                objects: vec![1, 5],
            },
        ]);
        let t = PathTree::new(1, paths);
        assert_eq!(t.nodes.len(), 5);
        let rows = t.flatten(&FxHashSet::default());
        let objects: Vec<ObjectId> = rows.iter().map(|r| t.nodes[r.0].object).collect();
        assert_eq!(objects, vec![1, 2, 3, 4, 5]);
        let mut collapsed = FxHashSet::default();
        collapsed.insert(1);
        assert_eq!(t.flatten(&collapsed).len(), 3);
    }
}
