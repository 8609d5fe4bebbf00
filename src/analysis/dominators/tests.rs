use super::*;
use crate::analysis::graph::{reverse, AdjacencyLists, DerivedEdges, Successors};
use crate::progress::Progress;
use proptest::prelude::*;

/// A graph as lists of successors; a node in a group also has an edge to the group's target,
/// its first successor, which is derived (as an object's to its class object).
struct Adjacency {
    succ: Vec<Vec<u32>>,
    group: Vec<Option<u32>>,
    group_targets: Vec<u32>,
}

impl Adjacency {
    fn new(n: usize, edges: &[(u32, u32)]) -> Self {
        Self::with_groups(n, edges, vec![None; n], Vec::new())
    }

    fn with_groups(
        n: usize,
        edges: &[(u32, u32)],
        group: Vec<Option<u32>>,
        group_targets: Vec<u32>,
    ) -> Self {
        let mut succ: Vec<Vec<u32>> = group
            .iter()
            .map(|g| g.map(|g| group_targets[g as usize]).into_iter().collect())
            .collect();
        for &(a, b) in edges {
            succ[a as usize].push(b);
        }
        debug_assert_eq!(succ.len(), n);
        Adjacency {
            succ,
            group,
            group_targets,
        }
    }
}

impl Successors for Adjacency {
    fn node_count(&self) -> usize {
        self.succ.len()
    }
    fn for_each_successor(&self, v: u32, f: impl FnMut(u32)) {
        self.succ[v as usize].iter().copied().for_each(f);
    }
}

impl AdjacencyLists for Adjacency {
    fn node_count(&self) -> usize {
        self.succ.len()
    }
    fn for_each_neighbour(&self, v: u32, f: impl FnMut(u32)) {
        self.succ[v as usize].iter().copied().for_each(f);
    }
}

impl DerivedEdges for Adjacency {
    fn group_count(&self) -> usize {
        self.group_targets.len()
    }
    fn group_of(&self, v: u32) -> Option<u32> {
        self.group[v as usize]
    }
    fn group_target(&self, group: u32) -> u32 {
        self.group_targets[group as usize]
    }
}

fn reachable(g: &Adjacency, roots: &[u32], removed: Option<u32>) -> Vec<bool> {
    let mut seen = vec![false; g.succ.len()];
    let mut stack: Vec<u32> = roots
        .iter()
        .copied()
        .filter(|&r| Some(r) != removed)
        .collect();
    for &r in &stack {
        seen[r as usize] = true;
    }
    while let Some(v) = stack.pop() {
        for &t in &g.succ[v as usize] {
            if !seen[t as usize] && Some(t) != removed {
                seen[t as usize] = true;
                stack.push(t);
            }
        }
    }
    seen
}

/// Dominators by definition: d dominates v when removing d makes v unreachable.
fn naive_idom(g: &Adjacency, roots: &[u32]) -> Vec<u32> {
    let n = g.succ.len();
    let base = reachable(g, roots, None);
    let dominated: Vec<Vec<bool>> = (0..n as u32)
        .map(|d| {
            let r = reachable(g, roots, Some(d));
            (0..n)
                .map(|v| base[v] && !r[v] && v != d as usize)
                .collect()
        })
        .collect();
    (0..n)
        .map(|v| {
            if !base[v] {
                return UNREACHABLE;
            }
            let strict: Vec<u32> = (0..n as u32)
                .filter(|&d| dominated[d as usize][v])
                .collect();
            // The immediate dominator is the strict dominator every other one dominates.
            strict
                .iter()
                .copied()
                .find(|&d| {
                    strict
                        .iter()
                        .all(|&e| e == d || dominated[e as usize][d as usize])
                })
                .unwrap_or(SUPER_ROOT)
        })
        .collect()
}

#[test]
fn hand_made_diamond_and_chain() {
    // 0 → 1 → 3, 0 → 2 → 3, 3 → 4 → 5 → 6 (chain), 7 unreachable → 3
    let g = Adjacency::new(
        8,
        &[
            (0, 1),
            (0, 2),
            (1, 3),
            (2, 3),
            (3, 4),
            (4, 5),
            (5, 6),
            (7, 3),
        ],
    );
    let (idom, order) = immediate_dominators(&g, &[0]);
    assert_eq!(idom, vec![SUPER_ROOT, 0, 0, 0, 3, 4, 5, UNREACHABLE]);
    assert_eq!(order.len(), 7);
    // Two roots sharing a child: the child hangs off the super-root.
    let g = Adjacency::new(3, &[(0, 2), (1, 2)]);
    let (idom, _) = immediate_dominators(&g, &[0, 1]);
    assert_eq!(idom, vec![SUPER_ROOT, SUPER_ROOT, SUPER_ROOT]);
}

#[test]
fn million_deep_chain_does_not_overflow_the_stack() {
    let n = 1_000_000u32;
    let edges: Vec<(u32, u32)> = (0..n - 1).map(|i| (i, i + 1)).collect();
    let g = Adjacency::new(n as usize, &edges);
    let (idom, _) = immediate_dominators(&g, &[0]);
    assert_eq!(idom[n as usize - 1], n - 2);
    assert_eq!(idom[0], SUPER_ROOT);
}

/// Checks `immediate_dominators` against the definition, also with the derived edges' sources
/// read from every node's referrer list, and that its preorder puts every dominator before
/// what it dominates.
fn check_against_naive(g: &Adjacency, roots: &[u32]) -> Result<(), TestCaseError> {
    let n = g.succ.len();
    let (idom, order) = immediate_dominators(g, roots);
    let naive = naive_idom(g, roots);
    prop_assert_eq!(&idom, &naive);
    let never = Progress::new();
    let referrers = reverse(g, n);
    let tree = spanning_tree(g, g, roots, &never).unwrap();
    let sources = DerivedSources::ReferrerLists(&referrers);
    let (from_lists, _) = dominators_of_spanning_tree(g, sources, roots, tree, &never).unwrap();
    prop_assert_eq!(&from_lists, &naive);
    let mut pos = vec![usize::MAX; n];
    for (i, &v) in order.iter().enumerate() {
        pos[v as usize] = i;
    }
    for &v in &order {
        let d = idom[v as usize];
        if d != SUPER_ROOT {
            prop_assert!(pos[d as usize] < pos[v as usize]);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// Mostly single-referrer nodes, as in a Java heap: a random tree (chains when the
    /// parent is the previous node) plus a few extra edges making diamonds, cycles
    /// through single-referrer nodes, and referrers of roots.
    #[test]
    fn matches_naive_dominators_on_trees_with_extra_edges(
        n in 1usize..40,
        parents in proptest::collection::vec((0u32..40, proptest::bool::weighted(0.4)), 40),
        extra in proptest::collection::vec((0u32..40, 0u32..40), 0..8),
        raw_roots in proptest::collection::vec(0u32..40, 1..4),
    ) {
        let mut edges = Vec::new();
        for v in 1..n as u32 {
            let (p, chain) = parents[v as usize];
            edges.push((if chain { v - 1 } else { p % v }, v));
        }
        edges.extend(extra.into_iter().map(|(a, b)| (a % n as u32, b % n as u32)));
        let mut roots: Vec<u32> = raw_roots.into_iter().map(|r| r % n as u32).collect();
        roots.sort_unstable();
        roots.dedup();
        check_against_naive(&Adjacency::new(n, &edges), &roots)?;
    }

    /// Long chains with a few edges across them and back up them.
    #[test]
    fn matches_naive_dominators_on_chains(
        n in 2usize..120,
        extra in proptest::collection::vec((0u32..120, 0u32..120), 0..6),
        second_root in 0u32..120,
    ) {
        let mut edges: Vec<(u32, u32)> = (1..n as u32).map(|v| (v - 1, v)).collect();
        edges.extend(extra.into_iter().map(|(a, b)| (a % n as u32, b % n as u32)));
        let mut roots = vec![0, second_root % n as u32];
        roots.sort_unstable();
        roots.dedup();
        check_against_naive(&Adjacency::new(n, &edges), &roots)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn matches_naive_dominators(
        n in 1usize..24,
        raw_edges in proptest::collection::vec((0u32..24, 0u32..24), 0..60),
        raw_roots in proptest::collection::vec(0u32..24, 1..4),
    ) {
        let edges: Vec<(u32, u32)> = raw_edges
            .into_iter()
            .map(|(a, b)| (a % n as u32, b % n as u32))
            .collect();
        let mut roots: Vec<u32> = raw_roots.into_iter().map(|r| r % n as u32).collect();
        roots.sort_unstable();
        roots.dedup();
        let g = Adjacency::new(n, &edges);
        let tree = spanning_tree(&g, &g, &roots, &Progress::new()).unwrap();
        let vertex = tree.vertex();
        prop_assert_eq!(vertex.len(), tree.parent.len());
        for (w, &v) in vertex.iter().enumerate().skip(1) {
            prop_assert_eq!(tree.pre_of[v as usize] as usize, w);
        }
        check_against_naive(&g, &roots)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// As a heap: a tree with a few extra edges, and most nodes in a group whose derived edge
    /// goes to one of a few "class" nodes, which may be roots, unreached, or referred to
    /// also by listed edges (twice from the same node, too).
    #[test]
    fn matches_naive_dominators_with_derived_edges(
        n in 2usize..48,
        parents in proptest::collection::vec(0u32..48, 48),
        groups in proptest::collection::vec(proptest::option::weighted(0.7, 0u32..4), 48),
        raw_targets in proptest::collection::vec(0u32..48, 1..4),
        extra in proptest::collection::vec((0u32..48, 0u32..48), 0..8),
        raw_roots in proptest::collection::vec(0u32..48, 1..4),
    ) {
        let group_targets: Vec<u32> = raw_targets.iter().map(|t| t % n as u32).collect();
        let group: Vec<Option<u32>> = (0..n)
            .map(|v| groups[v].map(|g| g % group_targets.len() as u32))
            .collect();
        let mut edges: Vec<(u32, u32)> =
            (1..n as u32).map(|v| (parents[v as usize] % v, v)).collect();
        edges.extend(extra.into_iter().map(|(a, b)| (a % n as u32, b % n as u32)));
        let mut roots: Vec<u32> = raw_roots.into_iter().map(|r| r % n as u32).collect();
        roots.sort_unstable();
        roots.dedup();
        let g = Adjacency::with_groups(n, &edges, group, group_targets);
        check_against_naive(&g, &roots)?;
    }
}

#[test]
fn cancelled_walks_stop_and_say_so() {
    let n = 3 * semi_nca::CHECK_EVERY;
    let edges: Vec<(u32, u32)> = (1..n as u32).map(|v| (v - 1, v)).collect();
    let g = Adjacency::new(n, &edges);
    let cancelled = Progress::new();
    cancelled.cancel();
    assert!(spanning_tree(&g, &g, &[0], &cancelled).is_none());
    let tree = spanning_tree(&g, &g, &[0], &Progress::new()).unwrap();
    assert!(
        dominators_of_spanning_tree(&g, DerivedSources::Grouped, &[0], tree, &cancelled).is_none()
    );
}

/// Children lists sorted as `larger_retained_first` orders them, whichever way
/// `sort_children` takes: short lists, long lists of few sizes (distributed) or of many.
fn check_sorted_children(lists: Vec<Vec<u32>>, retained: &[u64]) -> Result<(), TestCaseError> {
    let mut offsets = vec![0u32];
    let mut children = Vec::new();
    for mut list in lists {
        list.sort_unstable();
        list.dedup();
        children.extend(list);
        offsets.push(children.len() as u32);
    }
    let retained_of = |o: u32| retained[o as usize];
    let mut expected = children.clone();
    for w in offsets.windows(2) {
        expected[w[0] as usize..w[1] as usize].sort_by(larger_retained_first(&retained_of));
    }
    sort_children(&offsets, &mut children, &retained_of);
    prop_assert_eq!(children, expected);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn children_lists_sort_by_retained_size(
        lists in prop::collection::vec(prop::collection::vec(0u32..20_000, 0..40), 1..20),
        long in prop::collection::vec(0u32..20_000, 5_000..8_000),
        sizes in 1u64..6_000,
        seed in any::<u64>(),
    ) {
        // Retained sizes with `sizes` distinct values: below FEW_SIZES they are distributed,
        // above they are sorted.
        let retained: Vec<u64> = (0..20_000u64)
            .map(|o| (o.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ seed) % sizes * 40)
            .collect();
        let mut lists = lists;
        lists.push(long);
        check_sorted_children(lists, &retained)?;
    }
}
