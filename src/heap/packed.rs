//! Unsigned integers below 2^40 in 5 bytes each: 3 bytes per entry less than `u64`, which is
//! 72 MB per array on a 24 M-object dump. File offsets (dumps below 1 TiB) and retained sizes
//! fit. Values that grow slowly (the file offsets of objects in address order) take 2.25
//! bytes each in blocks.

use rayon::prelude::*;

use super::store::{Array, Store, StoreError, StoreWriter};

/// The first value that does not fit.
pub const U40_LIMIT: u64 = 1 << 40;

pub struct U40Vec {
    repr: Repr,
}

enum Repr {
    /// The low 32 bits and the high 8 of each value.
    Split { low: Array<u32>, high: Array<u8> },
    /// Values that mostly grow slowly (file offsets of objects in address order): per block
    /// of [`BLOCK`] values the smallest, and per value its distance from it in 16 bits;
    /// blocks whose values spread wider are kept whole in `whole` (their base is
    /// [`WHOLE`] + their place there). 2.25 bytes a value instead of 5.
    Blocks {
        base: Array<u64>,
        delta: Array<u16>,
        whole: Array<u64>,
    },
}

/// Values per block of [`Repr::Blocks`].
const BLOCK: usize = 32;
/// Marks the base of a block kept whole.
const WHOLE: u64 = 1 << 63;

impl U40Vec {
    /// Packs `values`; a value of [`U40_LIMIT`] or more is stored as `U40_LIMIT - 1`.
    pub fn new(values: &[u64]) -> U40Vec {
        let clamp = |v: u64| v.min(U40_LIMIT - 1);
        let low = values
            .par_iter()
            .map(|&v| clamp(v) as u32)
            .collect::<Vec<_>>()
            .into();
        let high = values
            .par_iter()
            .map(|&v| (clamp(v) >> 32) as u8)
            .collect::<Vec<_>>()
            .into();
        U40Vec {
            repr: Repr::Split { low, high },
        }
    }

    /// Adds the values `value(i)` of the indices `keep` selects (of `0..n`, in order) to an
    /// index file as [`U40Vec::save`] would, building the sections' bytes directly (no copy
    /// of the values on the side: at 100 M objects each is hundreds of megabytes).
    pub fn save_selected(
        name: &str,
        w: &mut StoreWriter<'_>,
        n: usize,
        keep: impl Fn(usize) -> bool + Sync,
        value: impl Fn(usize) -> u64 + Sync,
    ) {
        let clamp = |v: u64| v.min(U40_LIMIT - 1);
        let low: Vec<u8> = (0..n)
            .into_par_iter()
            .filter(|&i| keep(i))
            .flat_map_iter(|i| (clamp(value(i)) as u32).to_le_bytes())
            .collect();
        let high: Vec<u8> = (0..n)
            .into_par_iter()
            .filter(|&i| keep(i))
            .map(|i| (clamp(value(i)) >> 32) as u8)
            .collect();
        w.bytes(&format!("{name}.low"), low);
        w.bytes(&format!("{name}.high"), high);
    }

    #[inline]
    pub fn get(&self, i: usize) -> Option<u64> {
        match &self.repr {
            Repr::Split { low, high } => Some((*high.get(i)? as u64) << 32 | *low.get(i)? as u64),
            Repr::Blocks { base, delta, whole } => {
                let d = *delta.get(i)?;
                let b = *base.get(i / BLOCK)?;
                if b & WHOLE != 0 {
                    let at = ((b & !WHOLE) as usize).checked_add(i % BLOCK)?;
                    whole.get(at).copied()
                } else {
                    Some(b + d as u64)
                }
            }
        }
    }

    /// Hints that value `i` is wanted soon.
    #[inline]
    pub fn prefetch(&self, i: usize) {
        match &self.repr {
            Repr::Split { low, high } => {
                crate::prefetch::prefetch(low, i);
                crate::prefetch::prefetch(high, i);
            }
            Repr::Blocks { base, delta, .. } => {
                crate::prefetch::prefetch(base, i / BLOCK);
                crate::prefetch::prefetch(delta, i);
            }
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Split { low, .. } => low.len(),
            Repr::Blocks { delta, .. } => delta.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn memory_bytes(&self) -> usize {
        match &self.repr {
            Repr::Split { low, .. } => low.len() * 5,
            Repr::Blocks { base, delta, whole } => {
                base.len() * 8 + delta.len() * 2 + whole.len() * 8
            }
        }
    }

    /// Drops the pages of a mapped (loaded or parked) array from the process.
    pub fn release_pages(&self) {
        match &self.repr {
            Repr::Split { low, high } => {
                low.release_pages();
                high.release_pages();
            }
            Repr::Blocks { base, delta, whole } => {
                base.release_pages();
                delta.release_pages();
                whole.release_pages();
            }
        }
    }

    /// The array parked in a temporary file in `dir` ([`super::store::park`]).
    pub fn park(self, dir: &std::path::Path) -> U40Vec {
        use super::store::park;
        let repr = match self.repr {
            Repr::Split { low, high } => Repr::Split {
                low: park(low, dir),
                high: park(high, dir),
            },
            Repr::Blocks { base, delta, whole } => Repr::Blocks {
                base: park(base, dir),
                delta: park(delta, dir),
                whole: park(whole, dir),
            },
        };
        U40Vec { repr }
    }

    /// Adds the array to an index file as `name.low` and `name.high`.
    pub fn save<'a>(&'a self, name: &str, w: &mut StoreWriter<'a>) {
        match &self.repr {
            Repr::Split { low, high } => {
                w.array(&format!("{name}.low"), low);
                w.array(&format!("{name}.high"), high);
            }
            Repr::Blocks { .. } => {
                let values: Vec<u64> = (0..self.len()).map(|i| self.get(i).unwrap_or(0)).collect();
                let split = U40Vec::new(&values);
                if let Repr::Split { low, high } = split.repr {
                    w.bytes(&format!("{name}.low"), bytemuck::cast_slice(&low).to_vec());
                    w.bytes(
                        &format!("{name}.high"),
                        bytemuck::cast_slice(&high).to_vec(),
                    );
                }
            }
        }
    }

    /// Packs `values` in blocks of [`BLOCK`] ([`Repr::Blocks`]): 2.25 bytes a value where the
    /// values of each block lie within 64 KiB of each other (file offsets of objects in
    /// address order), 8 where they do not; clamped as in [`U40Vec::new`].
    pub fn blocks(values: &[u64]) -> U40Vec {
        let value = |i: usize| values[i].min(U40_LIMIT - 1);
        let (base, whole) = block_bases(values.len(), value);
        let mut delta = vec![0u16; values.len()];
        delta
            .par_chunks_mut(BLOCK)
            .zip(base.par_iter())
            .enumerate()
            .for_each(|(b, (out, &min))| {
                if min & WHOLE == 0 {
                    for (d, i) in out.iter_mut().zip(b * BLOCK..) {
                        *d = (value(i) - min) as u16;
                    }
                }
            });
        U40Vec {
            repr: Repr::Blocks {
                base: base.into(),
                delta: delta.into(),
                whole: whole.into(),
            },
        }
    }

    /// Adds the array to an index file in blocks (`name.base`, `name.delta`, `name.whole`):
    /// 2.25 bytes a value where values in each block of 32 lie within 64 KiB of each other.
    pub fn save_blocks<'a>(&'a self, name: &str, w: &mut StoreWriter<'a>) {
        match &self.repr {
            Repr::Blocks { base, delta, whole } => {
                w.array(&format!("{name}.base"), base);
                w.array(&format!("{name}.delta"), delta);
                w.array(&format!("{name}.whole"), whole);
            }
            Repr::Split { .. } => {
                // Copied into blocks first (file offsets are made in blocks: this is for
                // other values).
                let values: Vec<u64> = (0..self.len())
                    .into_par_iter()
                    .map(|i| self.get(i).unwrap_or(0))
                    .collect();
                if let Repr::Blocks { base, delta, whole } = U40Vec::blocks(&values).repr {
                    for (part, bytes) in [
                        ("base", bytemuck::cast_slice(&base)),
                        ("delta", bytemuck::cast_slice(&delta)),
                        ("whole", bytemuck::cast_slice(&whole)),
                    ] {
                        w.bytes(&format!("{name}.{part}"), bytes.to_vec());
                    }
                }
            }
        }
    }

    /// The array saved by [`U40Vec::save_blocks`], mapped from the file.
    pub fn load_blocks(store: &Store, name: &str) -> Result<U40Vec, StoreError> {
        let base: Array<u64> = store.array(&format!("{name}.base"))?;
        let delta: Array<u16> = store.array(&format!("{name}.delta"))?;
        let whole: Array<u64> = store.array(&format!("{name}.whole"))?;
        let fits = base.len() == delta.len().div_ceil(BLOCK)
            && whole.len() % BLOCK == 0
            && base.par_iter().all(|&b| {
                b & WHOLE == 0 && b < U40_LIMIT
                    || (b & !WHOLE) % BLOCK as u64 == 0 && ((b & !WHOLE) as usize) < whole.len()
            });
        if !fits {
            return Err(StoreError::Corrupt {
                path: store.path().display().to_string(),
                what: format!("{name}: blocks inconsistent"),
            });
        }
        Ok(U40Vec {
            repr: Repr::Blocks { base, delta, whole },
        })
    }

    /// Blocks kept whole by [`U40Vec::save_blocks`] (for size reports).
    pub fn whole_blocks(&self) -> usize {
        match &self.repr {
            Repr::Split { .. } => 0,
            Repr::Blocks { whole, .. } => whole.len() / BLOCK,
        }
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
        Ok(U40Vec {
            repr: Repr::Split { low, high },
        })
    }
}

/// The values `0..n` of each block of [`BLOCK`]: the smallest where they lie within 64 KiB
/// of it, else [`WHOLE`] + where the block's values start in the second list (`whole`,
/// padded to whole blocks).
fn block_bases(n: usize, value: impl Fn(usize) -> u64 + Sync) -> (Vec<u64>, Vec<u64>) {
    let span = |b: usize| b * BLOCK..((b + 1) * BLOCK).min(n);
    let mut base: Vec<u64> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let (min, max) = span(b).fold((u64::MAX, 0), |(lo, hi), i| {
                (lo.min(value(i)), hi.max(value(i)))
            });
            if max - min <= u16::MAX as u64 {
                min
            } else {
                WHOLE
            }
        })
        .collect();
    let mut whole: Vec<u64> = Vec::new();
    for (b, slot) in base.iter_mut().enumerate() {
        if *slot == WHOLE {
            *slot = WHOLE | whole.len() as u64;
            whole.extend(span(b).map(&value));
            // A short last block is padded, so every whole block has BLOCK values.
            whole.resize(whole.len().next_multiple_of(BLOCK), 0);
        }
    }
    (base, whole)
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
        let blocks = U40Vec::blocks(&values);
        for (i, &v) in values.iter().enumerate() {
            assert_eq!(blocks.get(i), Some(v));
        }
        assert_eq!(blocks.get(values.len()), None);
        assert_eq!(U40Vec::blocks(&[u64::MAX]).get(0), Some(U40_LIMIT - 1));
    }

    proptest::proptest! {
        #[test]
        fn blocks_round_trip_through_a_file(
            steps in proptest::collection::vec((0u64..3000, 0u32..40), 0..300),
        ) {
            // Mostly small steps up, now and then a big one or a step back.
            let mut v = 1u64 << 33;
            let values: Vec<u64> = steps
                .iter()
                .map(|&(step, kind)| {
                    v = match kind {
                        0 => v + 200_000,
                        1 => v.saturating_sub(5_000),
                        _ => v + step,
                    };
                    v
                })
                .collect();
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("x.heapsight-index");
            let identity = crate::heap::store::DumpIdentity {
                size: 1,
                mtime_s: 2,
                mtime_ns: 3,
                head_crc: 4,
                tail_crc: 5,
            };
            // Saved from either form; the blocks made in memory read the same too.
            let in_blocks = U40Vec::blocks(&values);
            for packed in [U40Vec::new(&values), in_blocks] {
                let mut w = StoreWriter::new(identity);
                packed.save_blocks("v", &mut w);
                w.write(&path, &|_| true).unwrap();
                let store = Store::open(&path).unwrap();
                let back = U40Vec::load_blocks(&store, "v").unwrap();
                proptest::prop_assert_eq!(back.len(), values.len());
                proptest::prop_assert_eq!(packed.len(), values.len());
                for (i, &x) in values.iter().enumerate() {
                    proptest::prop_assert_eq!(back.get(i), Some(x));
                    proptest::prop_assert_eq!(packed.get(i), Some(x));
                }
                proptest::prop_assert_eq!(back.get(values.len()), None);
                proptest::prop_assert_eq!(packed.get(values.len()), None);
            }
        }
    }
}
