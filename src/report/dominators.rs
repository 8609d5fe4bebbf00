//! `heapsight dominators`: the dominator tree as indented text.

use std::fmt::Write as _;

use crate::analysis::Analysis;
use crate::format::{bytes, percent};
use crate::heap::ObjectId;

/// Nodes down to `depth` levels whose retained size is at least `min_percent` of the
/// reachable heap, children largest first.
pub fn render_dominator_tree(a: &Analysis, depth: usize, min_percent: f64) -> String {
    let index = &a.index;
    let tree = &a.dominators;
    let total = tree.reachable_bytes.max(1);
    let threshold = (total as f64 * min_percent / 100.0) as u64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>10}  {:>6}  {:>10}  object   (reachable heap {}; nodes ≥ {min_percent}%, depth ≤ {depth})",
        "retained",
        "%",
        "shallow",
        bytes(tree.reachable_bytes)
    );
    // (node, level), popped in display order.
    let mut stack: Vec<(ObjectId, usize)> = tree
        .top_level()
        .iter()
        .rev()
        .filter(|&&o| tree.retained(o) >= threshold)
        .map(|&o| (o, 0))
        .collect();
    let mut hidden = 0u64;
    while let Some((o, level)) = stack.pop() {
        let _ = writeln!(
            out,
            "{:>10}  {:>6}  {:>10}  {}{}",
            bytes(tree.retained(o)),
            percent(tree.retained(o), total),
            bytes(index.shallow_size(o)),
            "  ".repeat(level),
            index.describe(o)
        );
        if level + 1 < depth {
            let kids = tree.children(o);
            let shown = kids.partition_point(|&k| tree.retained(k) >= threshold);
            hidden += (kids.len() - shown) as u64;
            for &k in kids[..shown].iter().rev() {
                stack.push((k, level + 1));
            }
        }
    }
    let small = tree
        .top_level()
        .iter()
        .filter(|&&o| tree.retained(o) < threshold)
        .count() as u64
        + hidden;
    if small > 0 {
        let _ = writeln!(out, "({small} smaller nodes not shown)");
    }
    out
}
