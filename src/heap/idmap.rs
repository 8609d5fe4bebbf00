//! Dump identifier (address) → dense object number, the object's rank by address.
//!
//! HotSpot objects sit at aligned addresses in a few dense regions, so the usual map is a
//! bitmap of object starts over the used parts of the address space, with ranks stored in
//! each cache line: a lookup touches one line. Dumps whose ids are not like that (unaligned,
//! duplicated, or spread thinly) fall back to sorted identifiers with a bucket table.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64};

use super::store::{Array, Store, StoreError, StoreWriter};
use super::ObjectId;

/// Bits of one 64-byte line; its first word holds the rank of the line's first bit.
const LINE_BITS: u64 = 448;
const LINES_PER_BLOCK: u64 = 1024;
/// Granules (alignment units) covered by one block of lines.
const BLOCK_GRANULES: u64 = LINE_BITS * LINES_PER_BLOCK;
const NO_BLOCK: u32 = u32::MAX;

pub struct IdMap {
    repr: Repr,
}

enum Repr {
    Bitmap(AddressBitmap),
    Sorted(SortedIds),
}

/// Where the object at each input position lands in address order.
pub enum Order {
    /// The input was sorted and unique: object numbers are the positions.
    Sorted,
    /// The object number of each position.
    Permutation(Vec<ObjectId>),
    /// Identifiers are unique: position `i` is object `map.get(ids[i])`, looked up by the
    /// caller (the build does it once, after the map, on every core).
    Lookup,
}

impl Order {
    /// The object number of input position `i` (`ids` is the map's input).
    #[cfg(test)]
    pub fn number(&self, map: &IdMap, ids: &[u64], i: usize) -> ObjectId {
        match self {
            Order::Sorted => i as ObjectId,
            Order::Permutation(p) => p[i],
            Order::Lookup => map.get(ids[i]).unwrap_or(u32::MAX),
        }
    }
}

impl IdMap {
    /// Builds the map from identifiers in any order, and says where each input goes.
    pub fn build(ids: &[u64]) -> (IdMap, Order) {
        use rayon::prelude::*;
        if let Some(bitmap) = AddressBitmap::build(ids) {
            let sorted = ids.par_windows(2).all(|w| w[0] < w[1]);
            let map = IdMap {
                repr: Repr::Bitmap(bitmap),
            };
            return (map, if sorted { Order::Sorted } else { Order::Lookup });
        }
        let (sorted, permutation) = SortedIds::build(ids);
        let order = match permutation {
            Some(p) => Order::Permutation(p),
            None => Order::Sorted,
        };
        (
            IdMap {
                repr: Repr::Sorted(sorted),
            },
            order,
        )
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Bitmap(b) => b.len,
            Repr::Sorted(s) => s.ids.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The object with this identifier, if any.
    #[inline]
    pub fn get(&self, id: u64) -> Option<ObjectId> {
        match &self.repr {
            Repr::Bitmap(b) => b.rank(id),
            Repr::Sorted(s) => s.get(id),
        }
    }

    /// The identifier of object `o`.
    pub fn id(&self, o: ObjectId) -> u64 {
        match &self.repr {
            Repr::Bitmap(b) => b.select(o),
            Repr::Sorted(s) => s.ids[o as usize],
        }
    }

    /// Identifiers of objects `0..n` in order (cheaper than `id` one by one).
    pub fn first_ids(&self, n: usize) -> Vec<u64> {
        match &self.repr {
            Repr::Bitmap(b) => b.first_ids(n),
            Repr::Sorted(s) => s.ids[..n.min(s.ids.len())].to_vec(),
        }
    }

    /// Identifiers that occur more than once (only the sorted fallback allows them).
    pub fn duplicates(&self) -> usize {
        match &self.repr {
            Repr::Bitmap(_) => 0,
            Repr::Sorted(s) => s.ids.windows(2).filter(|w| w[0] == w[1]).count(),
        }
    }

    pub fn memory_bytes(&self) -> usize {
        match &self.repr {
            Repr::Bitmap(b) => b.lines.len() * 64 + b.blocks.len() * 4,
            Repr::Sorted(s) => s.ids.len() * 8 + s.buckets.len() * 4,
        }
    }
}

impl IdMap {
    /// Adds the map's sections, named `prefix.…`, to an index file.
    pub fn save<'a>(&'a self, prefix: &str, w: &mut StoreWriter<'a>) {
        match &self.repr {
            Repr::Bitmap(b) => {
                let scalars = [0, b.base, b.shift as u64, b.len as u64];
                w.bytes(
                    &format!("{prefix}.kind"),
                    bytemuck::cast_slice(&scalars).to_vec(),
                );
                w.array(&format!("{prefix}.blocks"), &b.blocks);
                let used: Vec<u32> = b.used.iter().flat_map(|&(l, k)| [l, k]).collect();
                w.bytes(
                    &format!("{prefix}.used"),
                    bytemuck::cast_slice(&used).to_vec(),
                );
                w.array(&format!("{prefix}.lines"), &b.lines);
            }
            Repr::Sorted(s) => {
                let scalars = [1, s.min, s.shift as u64, s.ids.len() as u64];
                w.bytes(
                    &format!("{prefix}.kind"),
                    bytemuck::cast_slice(&scalars).to_vec(),
                );
                w.array(&format!("{prefix}.ids"), &s.ids);
                w.array(&format!("{prefix}.buckets"), &s.buckets);
            }
        }
    }

    /// The map saved by [`IdMap::save`], its big arrays mapped from the file.
    pub fn load(store: &Store, prefix: &str) -> Result<IdMap, StoreError> {
        let scalars: Array<u64> = store.array(&format!("{prefix}.kind"))?;
        let bad = |what: &str| StoreError::Corrupt {
            path: store.path().display().to_string(),
            what: format!("{prefix}: {what}"),
        };
        let &[kind, a, shift, len] = &scalars[..] else {
            return Err(bad("bad header"));
        };
        let repr = match kind {
            0 => {
                let used: Array<u32> = store.array(&format!("{prefix}.used"))?;
                let lines: Array<[u64; 8]> = store.array(&format!("{prefix}.lines"))?;
                let blocks: Array<u32> = store.array(&format!("{prefix}.blocks"))?;
                if lines.is_empty() || shift > 63 {
                    return Err(bad("empty bitmap"));
                }
                Repr::Bitmap(AddressBitmap {
                    base: a,
                    shift: shift as u32,
                    blocks,
                    used: used.chunks_exact(2).map(|p| (p[0], p[1])).collect(),
                    lines,
                    len: len as usize,
                })
            }
            1 => {
                let ids: Array<u64> = store.array(&format!("{prefix}.ids"))?;
                let buckets: Array<u32> = store.array(&format!("{prefix}.buckets"))?;
                if ids.len() as u64 != len || buckets.len() < 2 || shift > 63 {
                    return Err(bad("inconsistent sizes"));
                }
                Repr::Sorted(SortedIds {
                    ids,
                    min: a,
                    shift: shift as u32,
                    buckets,
                })
            }
            _ => return Err(bad("unknown kind")),
        };
        Ok(IdMap { repr })
    }
}

struct AddressBitmap {
    base: u64,
    shift: u32,
    /// First line of each block of the address space, or `NO_BLOCK` when no object is there.
    blocks: Array<u32>,
    /// (first line, block) of the blocks in use, ascending.
    used: Vec<(u32, u32)>,
    lines: Array<[u64; 8]>,
    len: usize,
}

impl AddressBitmap {
    fn build(ids: &[u64]) -> Option<AddressBitmap> {
        use rayon::prelude::*;
        if ids.is_empty() {
            return None;
        }
        let (min, max, bits) = ids
            .par_iter()
            .fold(
                || (u64::MAX, 0u64, 0u64),
                |(lo, hi, or), &id| (lo.min(id), hi.max(id), or | id),
            )
            .reduce(
                || (u64::MAX, 0u64, 0u64),
                |a, b| (a.0.min(b.0), a.1.max(b.1), a.2 | b.2),
            );
        let shift = bits.trailing_zeros().min(6);
        if shift < 2 {
            return None;
        }
        let base = min >> shift << shift;
        let granules = ((max - base) >> shift) + 1;
        let nblocks = granules.div_ceil(BLOCK_GRANULES);
        // The block table alone must cost less than the sorted ids it replaces.
        if nblocks.saturating_mul(4) > ids.len() as u64 * 8 {
            return None;
        }
        // Used blocks only: cheaper than the sorted ids unless objects are spread thinly.
        let used_block: Vec<AtomicBool> = (0..nblocks).map(|_| AtomicBool::new(false)).collect();
        ids.par_iter().with_min_len(1 << 14).for_each(|&id| {
            let flag = &used_block[(((id - base) >> shift) / BLOCK_GRANULES) as usize];
            // Neighbouring ids share a block: read before writing, so cores rarely contend.
            if !flag.load(Relaxed) {
                flag.store(true, Relaxed);
            }
        });
        let used_block: Vec<bool> = used_block.into_iter().map(|f| f.into_inner()).collect();
        let used_count = used_block.iter().filter(|&&u| u).count() as u64;
        let bytes = used_count * LINES_PER_BLOCK * 64 + nblocks * 4;
        if bytes > ids.len() as u64 * 8 || used_count * LINES_PER_BLOCK > u32::MAX as u64 {
            return None;
        }
        let mut blocks = vec![NO_BLOCK; nblocks as usize];
        let mut used = Vec::with_capacity(used_count as usize);
        let mut next = 0u32;
        for (b, &u) in used_block.iter().enumerate() {
            if u {
                blocks[b] = next;
                used.push((next, b as u32));
                next += LINES_PER_BLOCK as u32;
            }
        }
        let words: Vec<AtomicU64> = (0..next as usize * 8).map(|_| AtomicU64::new(0)).collect();
        let placed = ids.par_iter().with_min_len(1 << 14).all(|&id| {
            let Some((line, word, bit)) = Self::position(base, shift, &blocks, id) else {
                return false;
            };
            words[line * 8 + word].fetch_or(1 << bit, Relaxed);
            true
        });
        if !placed {
            return None;
        }
        let mut lines = vec![[0u64; 8]; next as usize];
        lines
            .par_iter_mut()
            .zip(words.par_chunks(8))
            .for_each(|(line, w)| {
                for (x, a) in line.iter_mut().zip(w) {
                    *x = a.load(Relaxed);
                }
            });
        drop(words);
        let mut rank = 0u64;
        for l in &mut lines {
            l[0] = rank;
            rank += l[1..].iter().map(|w| w.count_ones() as u64).sum::<u64>();
        }
        if rank != ids.len() as u64 {
            return None; // duplicate identifiers
        }
        Some(AddressBitmap {
            base,
            shift,
            blocks: blocks.into(),
            used,
            lines: lines.into(),
            len: ids.len(),
        })
    }

    /// (line, word, bit) of an identifier, if it falls on an aligned granule of a used block.
    #[inline]
    fn position(base: u64, shift: u32, blocks: &[u32], id: u64) -> Option<(usize, usize, u32)> {
        let off = id.checked_sub(base)?;
        if off & ((1 << shift) - 1) != 0 {
            return None;
        }
        let g = off >> shift;
        let first = *blocks.get((g / BLOCK_GRANULES) as usize)?;
        if first == NO_BLOCK {
            return None;
        }
        let within = g % BLOCK_GRANULES;
        let line = first as usize + (within / LINE_BITS) as usize;
        let bit = within % LINE_BITS;
        Some((line, 1 + (bit / 64) as usize, (bit % 64) as u32))
    }

    #[inline]
    fn rank(&self, id: u64) -> Option<ObjectId> {
        let (line, word, bit) = Self::position(self.base, self.shift, &self.blocks, id)?;
        let l = &self.lines[line];
        if (l[word] >> bit) & 1 == 0 {
            return None;
        }
        let mut r = l[0];
        for w in &l[1..word] {
            r += w.count_ones() as u64;
        }
        r += (l[word] & ((1u64 << bit) - 1)).count_ones() as u64;
        Some(r as ObjectId)
    }

    /// The identifier of the object with rank `o`.
    fn select(&self, o: ObjectId) -> u64 {
        let o = o as u64;
        let line = self.lines.partition_point(|l| l[0] <= o) - 1;
        let l = &self.lines[line];
        let mut left = o - l[0];
        let mut bit_index = 0u64;
        for (wi, w) in l[1..].iter().enumerate() {
            let c = w.count_ones() as u64;
            if left < c {
                let mut w = *w;
                for _ in 0..left {
                    w &= w - 1;
                }
                bit_index = wi as u64 * 64 + w.trailing_zeros() as u64;
                break;
            }
            left -= c;
        }
        self.granule_address(line, bit_index)
    }

    fn granule_address(&self, line: usize, bit_index: u64) -> u64 {
        let u = self
            .used
            .partition_point(|&(first, _)| first as usize <= line)
            - 1;
        let (first, block) = self.used[u];
        let g =
            block as u64 * BLOCK_GRANULES + (line as u64 - first as u64) * LINE_BITS + bit_index;
        self.base + (g << self.shift)
    }

    fn first_ids(&self, n: usize) -> Vec<u64> {
        let mut out = Vec::with_capacity(n.min(self.len));
        'lines: for (line, l) in self.lines.iter().enumerate() {
            for (wi, &w) in l[1..].iter().enumerate() {
                let mut w = w;
                while w != 0 {
                    if out.len() >= n {
                        break 'lines;
                    }
                    let b = w.trailing_zeros() as u64;
                    out.push(self.granule_address(line, wi as u64 * 64 + b));
                    w &= w - 1;
                }
            }
        }
        out
    }
}

/// Sorted identifiers plus a coarse bucket table, so a lookup is one bucket read and a short
/// binary search, with 4 bytes of overhead per 4 objects.
struct SortedIds {
    ids: Array<u64>,
    min: u64,
    shift: u32,
    /// `buckets[b]` = first index whose `(id - min) >> shift` is `b` or more.
    buckets: Array<u32>,
}

impl SortedIds {
    /// Sorts the identifiers; returns the object number of each input position when the
    /// input was not sorted already.
    fn build(input: &[u64]) -> (SortedIds, Option<Vec<ObjectId>>) {
        use rayon::prelude::*;
        let (ids, ranks) = match address_order(input) {
            None => (input.to_vec(), None),
            Some(perm) => {
                let ids: Vec<u64> = perm.par_iter().map(|&i| input[i as usize]).collect();
                let mut ranks = vec![0u32; input.len()];
                for (rank, &i) in perm.iter().enumerate() {
                    ranks[i as usize] = rank as ObjectId;
                }
                (ids, Some(ranks))
            }
        };
        (SortedIds::new(ids), ranks)
    }

    fn new(ids: Vec<u64>) -> SortedIds {
        let (min, max) = match (ids.first(), ids.last()) {
            (Some(&a), Some(&b)) => (a, b),
            _ => {
                return SortedIds {
                    ids: ids.into(),
                    min: 0,
                    shift: 0,
                    buckets: vec![0, 0].into(),
                }
            }
        };
        let wanted = (ids.len() / 4).max(1) as u64;
        let span = max - min;
        let mut shift = 0u32;
        while shift < 63 && (span >> shift) >= wanted {
            shift += 1;
        }
        let nb = ((span >> shift) + 2) as usize;
        let mut buckets = vec![0u32; nb];
        let mut i = 0usize;
        for (b, slot) in buckets.iter_mut().enumerate() {
            while i < ids.len() && (((ids[i] - min) >> shift) as usize) < b {
                i += 1;
            }
            *slot = i as u32;
        }
        SortedIds {
            ids: ids.into(),
            min,
            shift,
            buckets: buckets.into(),
        }
    }

    #[inline]
    fn get(&self, id: u64) -> Option<ObjectId> {
        if id < self.min {
            return None;
        }
        let b = (id - self.min) >> self.shift;
        if b >= self.buckets.len() as u64 - 1 {
            return None;
        }
        let b = b as usize;
        let lo = self.buckets[b] as usize;
        let hi = self.buckets[b + 1] as usize;
        self.ids[lo..hi]
            .binary_search(&id)
            .ok()
            .map(|i| (lo + i) as ObjectId)
    }
}

/// The permutation that sorts `ids` (stable), or `None` when they are sorted already. Dumps
/// list objects heap space by heap space, so the ids form a few ascending runs: merge those.
pub(super) fn address_order(ids: &[u64]) -> Option<Vec<u32>> {
    use rayon::prelude::*;
    let mut runs: Vec<usize> = vec![0];
    runs.extend((1..ids.len()).filter(|&i| ids[i - 1] > ids[i]));
    if runs.len() == 1 {
        return None;
    }
    if runs.len() > 64 {
        let mut perm: Vec<u32> = (0..ids.len() as u32).collect();
        perm.par_sort_by_key(|&i| ids[i as usize]);
        return Some(perm);
    }
    runs.push(ids.len());
    // k-way merge; k is small, so a linear scan of the run heads beats a heap.
    let mut heads: Vec<(usize, usize)> = runs.windows(2).map(|w| (w[0], w[1])).collect();
    let mut perm = Vec::with_capacity(ids.len());
    while !heads.is_empty() {
        let mut best = 0;
        for h in 1..heads.len() {
            if ids[heads[h].0] < ids[heads[best].0] {
                best = h;
            }
        }
        let (pos, end) = heads[best];
        // Take the whole stretch of this run that stays below every other head.
        let limit = heads
            .iter()
            .enumerate()
            .filter(|&(h, _)| h != best)
            .map(|(_, &(p, _))| ids[p])
            .min()
            .unwrap_or(u64::MAX);
        let mut i = pos;
        while i < end && ids[i] <= limit {
            perm.push(i as u32);
            i += 1;
        }
        if i == pos {
            perm.push(i as u32);
            i += 1;
        }
        if i == end {
            heads.swap_remove(best);
        } else {
            heads[best].0 = i;
        }
    }
    Some(perm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(ids: &[u64]) {
        let (map, order) = IdMap::build(ids);
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let unique = sorted.len() == ids.len();
        for (i, &id) in ids.iter().enumerate() {
            let o = map.get(id).expect("every id is found");
            let expected = order.number(&map, ids, i);
            if unique {
                assert_eq!(o, expected);
                assert_eq!(map.id(o), id);
                assert_eq!(sorted[o as usize], id);
            }
            if !ids.contains(&(id + 1)) {
                assert_eq!(map.get(id + 1), None);
            }
        }
        if unique {
            assert_eq!(map.first_ids(10), sorted[..sorted.len().min(10)].to_vec());
        }
        assert_eq!(map.get(0).is_some(), ids.contains(&0));
    }

    #[test]
    fn dense_heap_uses_the_bitmap() {
        let ids: Vec<u64> = (0..100_000u64).map(|i| 0x7_0000_0000 + i * 24).collect();
        let (map, order) = IdMap::build(&ids);
        assert!(matches!(map.repr, Repr::Bitmap(_)));
        assert!(matches!(order, Order::Sorted));
        assert!(map.memory_bytes() < ids.len() * 8);
        check(&ids);
        // Two spaces, young before old in the file.
        let mut two: Vec<u64> = (0..5000u64).map(|i| 0x8_0000_0000 + i * 16).collect();
        two.extend((0..5000u64).map(|i| 0x7_0000_0000 + i * 16));
        check(&two);
    }

    #[test]
    fn odd_ids_fall_back_to_sorting() {
        check(&[5, 3, 9, 1]);
        check(&[0x1000, 0x1000_0000_0000, 0x20]);
        check(&[]);
        check(&[42]);
        check(&[16, 16, 8]);
    }

    proptest! {
        #[test]
        fn finds_every_id(raw in proptest::collection::vec(0u64..1_000_000, 0..300), align in 0u32..5) {
            let ids: Vec<u64> = raw.into_iter().map(|x| (x << align) + 0x1000).collect();
            check(&ids);
        }

        #[test]
        fn address_order_sorts_runs(
            runs in proptest::collection::vec(proptest::collection::vec(0u64..1000, 0..50), 1..80)
        ) {
            let ids: Vec<u64> = runs
                .into_iter()
                .flat_map(|mut r| { r.sort_unstable(); r })
                .collect();
            let sorted_already = ids.windows(2).all(|w| w[0] <= w[1]);
            match address_order(&ids) {
                None => prop_assert!(sorted_already),
                Some(perm) => {
                    let mut seen = vec![false; ids.len()];
                    for &i in &perm {
                        prop_assert!(!seen[i as usize]);
                        seen[i as usize] = true;
                    }
                    prop_assert_eq!(perm.len(), ids.len());
                    prop_assert!(perm.windows(2).all(|w| ids[w[0] as usize] <= ids[w[1] as usize]));
                }
            }
        }
    }
}
