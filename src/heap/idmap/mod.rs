//! Dump identifier (address) → dense object number, the object's rank by address.
//!
//! HotSpot objects sit at aligned addresses in a few dense regions, so the usual map is a
//! bitmap of object starts over the used parts of the address space, with ranks stored in
//! each cache line: a lookup touches one line. Dumps whose ids are not like that (unaligned,
//! duplicated, or spread thinly) fall back to sorted identifiers with a bucket table.

use super::store::{Array, Store, StoreError, StoreWriter};
use super::ObjectId;

mod bitmap;

use bitmap::AddressBitmap;

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
