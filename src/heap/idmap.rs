//! Dump identifier → dense object number, over the identifiers sorted ascending.

use super::ObjectId;

/// Sorted identifiers plus a coarse bucket table so a lookup is one bucket read and a short
/// binary search, with 4 bytes of overhead per 4 objects.
pub struct IdMap {
    ids: Vec<u64>,
    min: u64,
    shift: u32,
    /// `buckets[b]` = first index whose `(id - min) >> shift` is `b` or more.
    buckets: Vec<u32>,
}

impl IdMap {
    /// `ids` must be sorted ascending.
    pub fn new(ids: Vec<u64>) -> IdMap {
        debug_assert!(ids.windows(2).all(|w| w[0] <= w[1]));
        let (min, max) = match (ids.first(), ids.last()) {
            (Some(&a), Some(&b)) => (a, b),
            _ => {
                return IdMap {
                    ids,
                    min: 0,
                    shift: 0,
                    buckets: vec![0, 0],
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
        IdMap {
            ids,
            min,
            shift,
            buckets,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    #[inline]
    pub fn id(&self, o: ObjectId) -> u64 {
        self.ids[o as usize]
    }

    pub fn ids(&self) -> &[u64] {
        &self.ids
    }

    #[inline]
    pub fn get(&self, id: u64) -> Option<ObjectId> {
        if id < self.min {
            return None;
        }
        let b = ((id - self.min) >> self.shift) as usize;
        if b + 1 >= self.buckets.len() {
            return None;
        }
        let lo = self.buckets[b] as usize;
        let hi = self.buckets[b + 1] as usize;
        let slice = &self.ids[lo..hi];
        slice.binary_search(&id).ok().map(|i| (lo + i) as ObjectId)
    }

    pub fn memory_bytes(&self) -> usize {
        self.ids.len() * 8 + self.buckets.len() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_id_and_nothing_else() {
        let ids: Vec<u64> = (0..10_000u64).map(|i| 0x7000_0000 + i * i * 8).collect();
        let m = IdMap::new(ids.clone());
        for (i, &id) in ids.iter().enumerate() {
            assert_eq!(m.get(id), Some(i as u32));
            assert_eq!(m.get(id + 1), None);
        }
        assert_eq!(m.get(0), None);
        assert_eq!(m.get(u64::MAX), None);
        let empty = IdMap::new(vec![]);
        assert_eq!(empty.get(5), None);
        let one = IdMap::new(vec![42]);
        assert_eq!(one.get(42), Some(0));
    }
}
