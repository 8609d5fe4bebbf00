//! Adjacency lists reversed on every core: all of them (the referrer lists), or only the
//! lists of chosen nodes (the referrers the dominator search reads).
//!
//! Each worker owns a range of targets and reads every edge in source order, so it writes
//! its lists already sorted, with no atomics (hot targets such as class objects would make
//! shared counters ping-pong between cores) and no sort afterwards.

use rayon::prelude::*;

use super::{AdjacencyLists, Csr};
use crate::heap::rank::RankedBits;
use crate::progress::Progress;

/// How often each worker looks at `Progress` (in sources).
const CHECK_EVERY: u32 = 1 << 16;

/// The edges of `lists` reversed, as lists of the `targets` nodes they point to; each list
/// comes out in ascending order.
pub fn reverse(lists: &impl AdjacencyLists, targets: usize) -> Csr {
    reverse_or_cancel(lists, targets, &Progress::new())
        .unwrap_or_else(|| Csr::owned(vec![0; targets + 1], Vec::new()))
}

/// As [`reverse`]; `None` once `progress` is cancelled (each worker looks every 64 Ki
/// sources).
pub fn reverse_or_cancel(
    lists: &impl AdjacencyLists,
    targets: usize,
    progress: &Progress,
) -> Option<Csr> {
    let n = targets;
    let ranges = worker_ranges(n);
    // Offsets shifted by one place: `offsets[t + 1]` is where `t`'s list starts and serves
    // as its write cursor; after the fill it holds where the list ends, which is the CSR
    // offset of `t + 1`. No separate cursor array (4 bytes per object).
    let mut offsets = in_degrees(lists, n, &ranges, progress)?;
    let mut sum = 0u32;
    for o in offsets.iter_mut().skip(1) {
        let d = *o;
        *o = sum;
        sum += d;
    }
    let mut targets = vec![0u32; sum as usize];
    fill(
        lists,
        &ranges,
        &ranges,
        |t| Some(t as usize),
        &mut offsets[1..],
        &mut targets,
        progress,
    )?;
    Some(Csr::owned(offsets, targets))
}

/// The reversed lists of only the nodes in `listed`, numbered by their rank in it; each list
/// in ascending order. `degrees` are the in-degrees as [`in_degrees`] counts them (and are
/// dropped before the lists are allocated). `None` once `progress` is cancelled.
pub(super) fn reverse_listed(
    lists: &impl AdjacencyLists,
    degrees: Vec<u32>,
    listed: &RankedBits,
    progress: &Progress,
) -> Option<Csr> {
    let n = degrees.len() - 1;
    let ranges = worker_ranges(n);
    let list_ranges: Vec<(usize, usize)> = ranges
        .iter()
        .map(|&(lo, hi)| (rank_at(listed, lo), rank_at(listed, hi)))
        .collect();
    // Shifted as in `reverse_or_cancel`: `offsets[k + 1]` starts as list k's start.
    let mut offsets = vec![0u32; rank_at(listed, n) + 1];
    let sums: Vec<u32> = ranges
        .par_iter()
        .map(|&(lo, hi)| {
            (lo..hi)
                .filter(|&t| listed.contains(t as u32))
                .map(|t| degrees[t + 1])
                .sum()
        })
        .collect();
    {
        let mut parts: Vec<(&mut [u32], u32)> = Vec::with_capacity(ranges.len());
        let mut rest: &mut [u32] = &mut offsets[1..];
        let mut base = 0u32;
        for (&(klo, khi), &sum) in list_ranges.iter().zip(&sums) {
            let (part, tail) = rest.split_at_mut(khi - klo);
            parts.push((part, base));
            base += sum;
            rest = tail;
        }
        parts
            .into_par_iter()
            .zip(ranges.par_iter())
            .for_each(|((part, base), &(lo, hi))| {
                let mut at = base;
                let listed_here = (lo..hi).filter(|&t| listed.contains(t as u32));
                for (slot, t) in part.iter_mut().zip(listed_here) {
                    *slot = at;
                    at += degrees[t + 1];
                }
            });
    }
    drop(degrees);
    let total: u32 = sums.iter().sum();
    let mut targets = vec![0u32; total as usize];
    fill(
        lists,
        &ranges,
        &list_ranges,
        |t| listed.contains(t).then(|| listed.rank(t)),
        &mut offsets[1..],
        &mut targets,
        progress,
    )?;
    Some(Csr::owned(offsets, targets))
}

/// Set bits of `listed` before `i`, which may be its length.
fn rank_at(listed: &RankedBits, i: usize) -> usize {
    listed.rank(i as u32)
}

/// The workers' ranges of target nodes.
fn worker_ranges(n: usize) -> Vec<(usize, usize)> {
    let workers = rayon::current_num_threads().clamp(1, 64);
    (0..workers)
        .map(|k| (k * n / workers, (k + 1) * n / workers))
        .collect()
}

/// The in-degree of every target `t` of `lists`, at `t + 1` (the shape of shifted offsets);
/// `None` once `progress` is cancelled.
pub(super) fn in_degrees(
    lists: &impl AdjacencyLists,
    n: usize,
    ranges: &[(usize, usize)],
    progress: &Progress,
) -> Option<Vec<u32>> {
    let sources = lists.node_count();
    let mut degree = vec![0u32; n + 1];
    {
        let mut parts: Vec<&mut [u32]> = Vec::with_capacity(ranges.len());
        let mut rest: &mut [u32] = &mut degree[1..];
        for &(lo, hi) in ranges {
            let (part, tail) = rest.split_at_mut(hi - lo);
            parts.push(part);
            rest = tail;
        }
        parts
            .into_par_iter()
            .zip(ranges.par_iter())
            .for_each(|(counts, &(lo, hi))| {
                for v in 0..sources as u32 {
                    if v % CHECK_EVERY == 0 && progress.is_cancelled() {
                        return;
                    }
                    lists.for_each_neighbour(v, |t| {
                        let t = t as usize;
                        if t >= lo && t < hi {
                            counts[t - lo] += 1;
                        }
                    });
                }
            });
    }
    (!progress.is_cancelled()).then_some(degree)
}

/// The degrees of `lists` with the default worker ranges.
pub(super) fn all_in_degrees(
    lists: &impl AdjacencyLists,
    n: usize,
    progress: &Progress,
) -> Option<Vec<u32>> {
    in_degrees(lists, n, &worker_ranges(n), progress)
}

/// Writes every edge `v → t` as `v` into the list of `t` (`list_of(t)`, `None` for targets
/// without a list). `cursors[k]` holds where list k's next edge goes and ends at its end;
/// worker `i` owns the targets `ranges[i]` and the lists `list_ranges[i]`.
fn fill(
    lists: &impl AdjacencyLists,
    ranges: &[(usize, usize)],
    list_ranges: &[(usize, usize)],
    list_of: impl Fn(u32) -> Option<usize> + Sync,
    cursors: &mut [u32],
    targets: &mut [u32],
    progress: &Progress,
) -> Option<()> {
    let sources = lists.node_count();
    let total = targets.len() as u32;
    let start_of = |k: usize| cursors.get(k).copied().unwrap_or(total);
    let spans: Vec<(u32, u32)> = list_ranges
        .iter()
        .map(|&(klo, khi)| (start_of(klo), start_of(khi)))
        .collect();
    let mut parts = Vec::with_capacity(ranges.len());
    let mut rest_c: &mut [u32] = cursors;
    let mut rest_t: &mut [u32] = targets;
    for ((&range, &(klo, khi)), &(start, end)) in ranges.iter().zip(list_ranges).zip(&spans) {
        let (c, tail_c) = rest_c.split_at_mut(khi - klo);
        let (t, tail_t) = rest_t.split_at_mut((end - start) as usize);
        parts.push((c, t, range, klo, start));
        rest_c = tail_c;
        rest_t = tail_t;
    }
    parts
        .into_par_iter()
        .for_each(|(cursor, out, (lo, hi), klo, base)| {
            for v in 0..sources as u32 {
                if v % CHECK_EVERY == 0 && progress.is_cancelled() {
                    return;
                }
                lists.for_each_neighbour(v, |t| {
                    if (t as usize) < lo || (t as usize) >= hi {
                        return;
                    }
                    if let Some(k) = list_of(t) {
                        let slot = &mut cursor[k - klo];
                        out[(*slot - base) as usize] = v;
                        *slot += 1;
                    }
                });
            }
        });
    (!progress.is_cancelled()).then_some(())
}
