//! Adjacency lists reversed on every core (the referrer lists).
//!
//! Each worker owns a range of targets and reads every edge in source order, so it writes
//! its lists already sorted, with no atomics (hot targets such as class objects would make
//! shared counters ping-pong between cores) and no sort afterwards.

use rayon::prelude::*;

use super::{AdjacencyLists, Csr};
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
/// next referrer goes and ends at its list's end; worker `i` owns the targets `ranges[i]`
/// and the positions `spans[i]` of `targets`.
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
                    out[(*slot - base) as usize] = v;
                    *slot += 1;
                });
            }
        });
    (!progress.is_cancelled()).then_some(())
}
