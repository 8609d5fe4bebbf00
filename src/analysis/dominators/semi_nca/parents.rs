//! The spanning tree's parents as the depth-first walk makes them: a byte a node instead of
//! 4 while the walks' arrays are at their largest, expanded for the search.

use super::super::NONE;

/// The parent's preorder number of each preorder number, kept as depths. A node's parent is
/// the last node before it one level up, so the depths say it all; and each depth is one
/// more than the previous node's (the walk went down) or a few less (it came back up, by
/// `climb` levels). The climb of each node is kept in a byte, the rare larger ones apart.
#[derive(Default)]
pub struct PreorderParents {
    climbs: Vec<u8>,
    /// The depths of the nodes whose climb is [`FAR`], in preorder.
    far: Vec<u32>,
    last_depth: u32,
}

const FAR: u8 = u8::MAX;

impl PreorderParents {
    pub fn with_capacity(nodes: usize) -> PreorderParents {
        PreorderParents {
            climbs: Vec::with_capacity(nodes),
            ..PreorderParents::default()
        }
    }

    /// The next preorder number, at `depth` (the super-root's is 0, a GC root's 1).
    #[inline]
    pub fn push(&mut self, depth: u32) {
        let climb = (self.last_depth + 1)
            .checked_sub(depth)
            .and_then(|c| u8::try_from(c).ok())
            .filter(|&c| c < FAR);
        match climb {
            Some(c) if !self.climbs.is_empty() => self.climbs.push(c),
            _ => {
                self.far.push(depth);
                self.climbs.push(FAR);
            }
        }
        self.last_depth = depth;
    }

    pub fn len(&self) -> usize {
        self.climbs.len()
    }

    /// Every parent, by preorder number; [`NONE`] for the super-root (preorder number 0).
    /// One pass in preorder, which keeps the last node seen at each depth.
    pub fn expand(self) -> Vec<u32> {
        let mut parent = Vec::with_capacity(self.climbs.len());
        let mut at_depth: Vec<u32> = Vec::new();
        let mut far = self.far.iter();
        let mut depth = 0u32;
        for (w, &climb) in self.climbs.iter().enumerate() {
            depth = if climb == FAR {
                far.next().copied().unwrap_or(0)
            } else {
                depth + 1 - climb as u32
            };
            let d = depth as usize;
            parent.push(match d.checked_sub(1) {
                Some(up) => at_depth.get(up).copied().unwrap_or(NONE),
                None => NONE,
            });
            at_depth.truncate(d);
            at_depth.push(w as u32);
        }
        parent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Random depth-first trees (a step down, or back up any number of levels, a long
        /// chain now and then) give back every node's parent.
        #[test]
        fn parents_come_back_from_depths(
            steps in proptest::collection::vec((0u32..6, any::<u32>(), 0u32..40), 1..4000),
        ) {
            // The super-root, then the walk: `want` by preorder number.
            let mut want = vec![NONE];
            let mut depths = vec![0u32];
            let mut path = vec![0u32];
            for (kind, x, run) in steps {
                let levels = match kind {
                    0 => run * 10, // a long chain
                    1 | 2 => 1,
                    _ => 0,
                };
                // Back up to a random level (at least the GC roots' parent, the super-root).
                let keep = 1 + x as usize % path.len();
                path.truncate(keep);
                for _ in 0..levels.max(1) {
                    let w = want.len() as u32;
                    want.push(*path.last().unwrap());
                    depths.push(path.len() as u32);
                    path.push(w);
                }
            }
            let mut parents = PreorderParents::with_capacity(want.len());
            for &d in &depths {
                parents.push(d);
            }
            prop_assert_eq!(parents.len(), want.len());
            prop_assert_eq!(parents.expand(), want);
        }
    }
}
