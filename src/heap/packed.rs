//! Unsigned integers below 2^40 in 5 bytes each: 3 bytes per entry less than `u64`, which is
//! 72 MB per array on a 24 M-object dump. File offsets (dumps below 1 TiB) and retained sizes
//! fit.

use rayon::prelude::*;

use super::store::{Array, Store, StoreError, StoreWriter};

/// The first value that does not fit.
pub const U40_LIMIT: u64 = 1 << 40;

pub struct U40Vec {
    low: Array<u32>,
    high: Array<u8>,
}

impl U40Vec {
    /// Packs `values`; a value of [`U40_LIMIT`] or more is stored as `U40_LIMIT - 1`.
    pub fn new(values: &[u64]) -> U40Vec {
        let clamp = |v: u64| v.min(U40_LIMIT - 1);
        U40Vec {
            low: values
                .par_iter()
                .map(|&v| clamp(v) as u32)
                .collect::<Vec<_>>()
                .into(),
            high: values
                .par_iter()
                .map(|&v| (clamp(v) >> 32) as u8)
                .collect::<Vec<_>>()
                .into(),
        }
    }

    #[inline]
    pub fn get(&self, i: usize) -> Option<u64> {
        Some((*self.high.get(i)? as u64) << 32 | *self.low.get(i)? as u64)
    }

    pub fn len(&self) -> usize {
        self.low.len()
    }

    pub fn is_empty(&self) -> bool {
        self.low.is_empty()
    }

    pub fn memory_bytes(&self) -> usize {
        self.low.len() * 5
    }

    /// The array parked in a temporary file in `dir` ([`super::store::park`]).
    pub fn park(self, dir: &std::path::Path) -> U40Vec {
        U40Vec {
            low: super::store::park(self.low, dir),
            high: super::store::park(self.high, dir),
        }
    }

    /// Adds the array to an index file as `name.low` and `name.high`.
    pub fn save<'a>(&'a self, name: &str, w: &mut StoreWriter<'a>) {
        w.array(&format!("{name}.low"), &self.low);
        w.array(&format!("{name}.high"), &self.high);
    }

    /// The array saved by [`U40Vec::save`], mapped from the file.
    pub fn load(store: &Store, name: &str) -> Result<U40Vec, StoreError> {
        let low: Array<u32> = store.array(&format!("{name}.low"))?;
        let high: Array<u8> = store.array(&format!("{name}.high"))?;
        if low.len() != high.len() {
            return Err(StoreError::Corrupt {
                path: store.path().display().to_string(),
                what: format!("{name}: halves of different lengths"),
            });
        }
        Ok(U40Vec { low, high })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_below_the_limit_and_clamp_above() {
        let values = [
            0,
            1,
            u32::MAX as u64,
            1 << 32,
            U40_LIMIT - 1,
            123_456_789_012,
        ];
        let packed = U40Vec::new(&values);
        for (i, &v) in values.iter().enumerate() {
            assert_eq!(packed.get(i), Some(v));
        }
        assert_eq!(packed.get(values.len()), None);
        assert_eq!(U40Vec::new(&[u64::MAX]).get(0), Some(U40_LIMIT - 1));
    }
}
