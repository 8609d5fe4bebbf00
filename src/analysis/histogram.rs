//! Class histogram: instances and shallow bytes per class, grouped by class, package or loader.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::dominators::{retained_by_group, DominatorTree};
use crate::heap::{object_ranges, ClassIndex, HeapIndex};
use crate::progress::Progress;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistogramRow {
    pub class: ClassIndex,
    pub count: u64,
    pub shallow_bytes: u64,
}

/// One row per class that has instances, largest shallow size first.
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    pub rows: Vec<HistogramRow>,
    pub total_count: u64,
    pub total_shallow_bytes: u64,
}

/// Buckets of [`size_distribution`]: sizes up to 2^39 bytes, the last holding any larger.
pub const SIZE_BUCKETS: usize = 40;

/// Objects and bytes per power-of-two shallow size: `[i]` = (objects, bytes) of sizes in
/// (2^(i-1), 2^i], on every core.
pub fn size_distribution(index: &HeapIndex) -> Vec<(u64, u64)> {
    object_ranges(index.object_count())
        .fold(
            || vec![(0u64, 0u64); SIZE_BUCKETS],
            |mut acc, range| {
                index.for_each_class_and_size(range, |_, _, size| {
                    let bucket =
                        ((64 - size.max(1).leading_zeros()) as usize).min(SIZE_BUCKETS - 1);
                    acc[bucket].0 += 1;
                    acc[bucket].1 += size;
                });
                acc
            },
        )
        .reduce(|| vec![(0u64, 0u64); SIZE_BUCKETS], add_pairs)
}

/// `a + b`, pair by pair (counts and bytes of per-core partial tallies).
fn add_pairs(mut a: Vec<(u64, u64)>, b: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    for (x, y) in a.iter_mut().zip(b) {
        x.0 += y.0;
        x.1 += y.1;
    }
    a
}

pub fn histogram(index: &HeapIndex) -> Histogram {
    let nclasses = index.classes().len();
    let per_class = object_ranges(index.object_count())
        .fold(
            || vec![(0u64, 0u64); nclasses],
            |mut acc, range| {
                index.for_each_class_and_size(range, |_, c, size| {
                    if let Some(e) = acc.get_mut(c as usize) {
                        e.0 += 1;
                        e.1 += size;
                    }
                });
                acc
            },
        )
        .reduce(|| vec![(0u64, 0u64); nclasses], add_pairs);
    Histogram::from_per_class(&per_class)
}

impl Histogram {
    /// Rows from (instances, shallow bytes) per class, largest shallow size first.
    pub fn from_per_class(per_class: &[(u64, u64)]) -> Histogram {
        let mut rows: Vec<HistogramRow> = per_class
            .iter()
            .enumerate()
            .filter(|(_, &(count, _))| count > 0)
            .map(|(c, &(count, shallow_bytes))| HistogramRow {
                class: c as ClassIndex,
                count,
                shallow_bytes,
            })
            .collect();
        rows.sort_by(|a, b| {
            b.shallow_bytes
                .cmp(&a.shallow_bytes)
                .then(b.count.cmp(&a.count))
                .then(a.class.cmp(&b.class))
        });
        Histogram {
            total_count: rows.iter().map(|r| r.count).sum(),
            total_shallow_bytes: rows.iter().map(|r| r.shallow_bytes).sum(),
            rows,
        }
    }
}

/// The largest rows of a histogram with their class names, owning nothing of the index: what
/// the window shows while the rest of the analysis runs.
#[derive(Debug, Clone, Default)]
pub struct HistogramPreview {
    /// (class name, instances, shallow bytes), largest shallow size first.
    pub rows: Vec<(String, u64, u64)>,
    pub classes: usize,
    pub total_count: u64,
    pub total_shallow_bytes: u64,
}

impl HistogramPreview {
    /// The first `rows` rows of `histogram` (of `index`).
    pub fn of(index: &HeapIndex, histogram: &Histogram, rows: usize) -> HistogramPreview {
        let classes = index.classes();
        HistogramPreview {
            rows: histogram
                .rows
                .iter()
                .take(rows)
                .map(|r| (classes.get(r.class).name.clone(), r.count, r.shallow_bytes))
                .collect(),
            classes: histogram.rows.len(),
            total_count: histogram.total_count,
            total_shallow_bytes: histogram.total_shallow_bytes,
        }
    }
}

/// How to group histogram rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// One row per class name, merging same-named classes of different loaders.
    ClassName,
    Package,
    ClassLoader,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    pub key: String,
    pub classes: Vec<ClassIndex>,
    pub count: u64,
    pub shallow_bytes: u64,
    /// Minimum retained size of the group (set when a dominator tree is given).
    pub retained_bytes: Option<u64>,
}

/// The group key of a class.
pub fn group_key(index: &HeapIndex, class: ClassIndex, grouping: Grouping) -> String {
    let class = index.classes().get(class);
    match grouping {
        Grouping::ClassName => class.name.clone(),
        Grouping::Package => match class.package() {
            "" => "(default package)".to_string(),
            p => p.to_string(),
        },
        Grouping::ClassLoader => loader_name(index, class.loader_id),
    }
}

/// Groups histogram rows, with MAT's minimum retained size per group when `tree` is given;
/// the result is sorted by shallow bytes, largest first.
pub fn group(
    index: &HeapIndex,
    hist: &Histogram,
    grouping: Grouping,
    tree: Option<&DominatorTree>,
) -> Vec<GroupRow> {
    group_or_cancel(index, hist, grouping, None, tree, &Progress::new()).unwrap_or_default()
}

/// As [`group`], of the classes `shown` marks (by class index; all when `None`): a group's
/// retained size is then that of its shown classes' instances as one set, which never
/// exceeds the live heap (a sum over its classes would count nested instances twice). The
/// retained sizes walk the whole dominator tree (seconds on a big dump), so `progress`
/// counts that walk and `None` comes back once it is cancelled.
pub fn group_or_cancel(
    index: &HeapIndex,
    hist: &Histogram,
    grouping: Grouping,
    shown: Option<&[bool]>,
    tree: Option<&DominatorTree>,
    progress: &Progress,
) -> Option<Vec<GroupRow>> {
    let mut slot: FxHashMap<String, usize> = FxHashMap::default();
    let mut out: Vec<GroupRow> = Vec::new();
    let mut group_of = vec![u32::MAX; index.classes().len()];
    for r in &hist.rows {
        if shown.is_some_and(|s| !s.get(r.class as usize).copied().unwrap_or(false)) {
            continue;
        }
        let key = group_key(index, r.class, grouping);
        let i = *slot.entry(key.clone()).or_insert_with(|| {
            out.push(GroupRow {
                key,
                classes: Vec::new(),
                count: 0,
                shallow_bytes: 0,
                retained_bytes: None,
            });
            out.len() - 1
        });
        group_of[r.class as usize] = i as u32;
        let g = &mut out[i];
        g.classes.push(r.class);
        g.count += r.count;
        g.shallow_bytes += r.shallow_bytes;
    }
    if let Some(tree) = tree {
        // Classes without instances never occur in the tree, and those not shown count for
        // none: a spare group.
        let spare = out.len() as u32;
        for g in group_of.iter_mut().filter(|g| **g == u32::MAX) {
            *g = spare;
        }
        let retained = retained_by_group(index, tree, &group_of, out.len() + 1, progress)?;
        for (g, r) in out.iter_mut().zip(retained) {
            g.retained_bytes = Some(r);
        }
    }
    out.sort_by(|a, b| {
        b.shallow_bytes
            .cmp(&a.shallow_bytes)
            .then(a.key.cmp(&b.key))
    });
    Some(out)
}

/// `<boot>` or the loader's class and address.
pub fn loader_name(index: &HeapIndex, loader_id: u64) -> String {
    if loader_id == 0 {
        return "<boot class loader>".to_string();
    }
    match index.find(loader_id) {
        Some(o) => index.describe(o),
        None => format!("<loader 0x{loader_id:x}>"),
    }
}
