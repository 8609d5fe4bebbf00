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
    let degrees = all_in_degrees(lists, targets, progress)?;
    reverse_counted(lists, degrees, progress)
}

/// As [`reverse_or_cancel`], from the in-degrees of the `degrees.len() - 1` targets as
/// [`all_in_degrees`] counts them.
pub(super) fn reverse_counted(
    lists: &impl AdjacencyLists,
    degrees: Vec<u32>,
    progress: &Progress,
) -> Option<Csr> {
    let n = degrees.len() - 1;
    let ranges = worker_ranges(n);
    // Offsets shifted by one place: `offsets[t + 1]` is where `t`'s list starts and serves
    // as its write cursor; after the fill it holds where the list ends, which is the CSR
    // offset of `t + 1`. No separate cursor array (4 bytes per object).
    let mut offsets = degrees;
    let mut sum = 0u32;
    for o in offsets.iter_mut().skip(1) {
        let d = *o;
        *o = sum;
        sum += d;
    }
    let mut targets = vec![0u32; sum as usize];
    // `offsets[t + 1]` is where `t`'s list starts (past the end: the total).
    let spans = worker_spans(&ranges, |t| offsets.get(t + 1).copied().unwrap_or(sum), sum);
    fill(
        lists,
        &ranges,
        &spans,
        &mut offsets[1..],
        &mut targets,
        progress,
    )?;
    Some(Csr::owned(offsets, targets))
}

/// Where each worker's part of the reversed lists starts and ends, from where the list of
/// each range's first target starts (`start_of`), and the total.
fn worker_spans(
    ranges: &[(usize, usize)],
    start_of: impl Fn(usize) -> u32,
    total: u32,
) -> Vec<(u32, u32)> {
    ranges
        .iter()
        .enumerate()
        .map(|(i, &(lo, _))| {
            let end = ranges.get(i + 1).map_or(total, |&(next, _)| start_of(next));
            (start_of(lo), end)
        })
        .collect()
}

/// The reversed lists of only the nodes in `listed`, numbered by their rank in it; each list
/// in ascending order. `degrees` are the in-degrees as [`in_degrees`] counts them; they
/// become the lists' write cursors, by node (a rank per edge would cost several random
/// reads). `None` once `progress` is cancelled.
pub(super) fn reverse_listed(
    lists: &impl AdjacencyLists,
    mut degrees: Vec<u32>,
    listed: &RankedBits,
    progress: &Progress,
) -> Option<Csr> {
    let n = degrees.len() - 1;
    let ranges = worker_ranges(n);
    let list_ranges: Vec<(usize, usize)> = ranges
        .iter()
        .map(|&(lo, hi)| (rank_at(listed, lo), rank_at(listed, hi)))
        .collect();
    let sums: Vec<u32> = ranges
        .par_iter()
        .map(|&(lo, hi)| {
            (lo..hi)
                .filter(|&t| listed.contains(t as u32))
                .map(|t| degrees[t + 1])
                .sum()
        })
        .collect();
    // `ends[k + 1]`: where list k ends. `degrees[t + 1]`: where the next referrer of a
    // listed `t` goes, `NOT_LISTED` for the others.
    let mut ends = vec![0u32; rank_at(listed, n) + 1];
    let mut spans = Vec::with_capacity(ranges.len());
    {
        let mut parts: Vec<(&mut [u32], &mut [u32], u32)> = Vec::with_capacity(ranges.len());
        let mut rest_e: &mut [u32] = &mut ends[1..];
        let mut rest_d: &mut [u32] = &mut degrees[1..];
        let mut base = 0u32;
        for ((&(klo, khi), &(lo, hi)), &sum) in list_ranges.iter().zip(&ranges).zip(&sums) {
            let (e, tail_e) = rest_e.split_at_mut(khi - klo);
            let (d, tail_d) = rest_d.split_at_mut(hi - lo);
            parts.push((e, d, base));
            spans.push((base, base + sum));
            base += sum;
            rest_e = tail_e;
            rest_d = tail_d;
        }
        parts.into_par_iter().zip(ranges.par_iter()).for_each(
            |((ends, cursors, base), &(lo, _))| {
                let mut at = base;
                let mut next_end = ends.iter_mut();
                for (t, cursor) in (lo..).zip(cursors.iter_mut()) {
                    if listed.contains(t as u32) {
                        let d = *cursor;
                        *cursor = at;
                        at += d;
                        if let Some(end) = next_end.next() {
                            *end = at;
                        }
                    } else {
                        *cursor = NOT_LISTED;
                    }
                }
            },
        );
    }
    let total: u32 = sums.iter().sum();
    let mut targets = vec![0u32; total as usize];
    fill(
        lists,
        &ranges,
        &spans,
        &mut degrees[1..],
        &mut targets,
        progress,
    )?;
    drop(degrees);
    Some(Csr::owned(ends, targets))
}

/// The write cursor of a target without a list.
const NOT_LISTED: u32 = u32::MAX;

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
    in_degrees_into(lists, vec![0; n + 1], ranges, progress)
}

/// As [`in_degrees`], counted in `degree`, `n + 1` zeros.
pub(super) fn in_degrees_into(
    lists: &impl AdjacencyLists,
    mut degree: Vec<u32>,
    ranges: &[(usize, usize)],
    progress: &Progress,
) -> Option<Vec<u32>> {
    let sources = lists.node_count();
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

/// Writes every edge `v → t` as `v` into the list of `t`. `cursors[t]` holds where `t`'s
/// next referrer goes ([`NOT_LISTED`]: `t` has no list) and ends at its list's end; worker
/// `i` owns the targets `ranges[i]` and the positions `spans[i]` of `targets`.
fn fill(
    lists: &impl AdjacencyLists,
    ranges: &[(usize, usize)],
    spans: &[(u32, u32)],
    cursors: &mut [u32],
    targets: &mut [u32],
    progress: &Progress,
) -> Option<()> {
    let sources = lists.node_count();
    let mut parts = Vec::with_capacity(ranges.len());
    let mut rest_c: &mut [u32] = cursors;
    let mut rest_t: &mut [u32] = targets;
    for (&(lo, hi), &(start, end)) in ranges.iter().zip(spans) {
        let (c, tail_c) = rest_c.split_at_mut(hi - lo);
        let (t, tail_t) = rest_t.split_at_mut((end - start) as usize);
        parts.push((c, t, lo, hi, start));
        rest_c = tail_c;
        rest_t = tail_t;
    }
    parts
        .into_par_iter()
        .for_each(|(cursor, out, lo, hi, base)| {
            for v in 0..sources as u32 {
                if v % CHECK_EVERY == 0 && progress.is_cancelled() {
                    return;
                }
                lists.for_each_neighbour(v, |t| {
                    if (t as usize) < lo || (t as usize) >= hi {
                        return;
                    }
                    let slot = &mut cursor[t as usize - lo];
                    if *slot != NOT_LISTED {
                        out[(*slot - base) as usize] = v;
                        *slot += 1;
                    }
                });
            }
        });
    (!progress.is_cancelled()).then_some(())
}
