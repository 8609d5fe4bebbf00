//! A bitmap that knows how many bits are set before each block of it, so the rank of a bit
//! (the set bits before it) takes a few popcounts: how sparse per-object data is found
//! without an offset per object.

use rayon::prelude::*;

use super::store::Array;

/// Bitmap words per rank entry: half a bit of rank per object.
const BLOCK_WORDS: usize = 8;

pub struct RankedBits {
    /// Bit `i % 64` of word `i / 64` stands for `i`.
    words: Array<u64>,
    /// Set bits before each block of [`BLOCK_WORDS`] words.
    block_rank: Vec<u32>,
    ones: usize,
}

impl RankedBits {
    /// Fewer than 2^32 set bits.
    pub fn new(words: Array<u64>) -> RankedBits {
        let mut total = 0u32;
        let block_rank = words
            .chunks(BLOCK_WORDS)
            .map(|block| {
                let before = total;
                total += block.iter().map(|w| w.count_ones()).sum::<u32>();
                before
            })
            .collect();
        RankedBits {
            words,
            block_rank,
            ones: total as usize,
        }
    }

    /// The bitmap of the `len` positions for which `is_set` holds, built on every core.
    pub fn from_fn(len: usize, is_set: impl Fn(usize) -> bool + Sync) -> RankedBits {
        let words: Vec<u64> = (0..len.div_ceil(64))
            .into_par_iter()
            .with_min_len(1 << 10)
            .map(|w| {
                let lo = w * 64;
                (lo..(lo + 64).min(len)).fold(0u64, |word, i| word | (is_set(i) as u64) << (i - lo))
            })
            .collect();
        RankedBits::new(words.into())
    }

    #[inline]
    pub fn contains(&self, i: u32) -> bool {
        self.words
            .get(i as usize / 64)
            .is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    /// Set bits before `i` (all of them past the end).
    #[inline]
    pub fn rank(&self, i: u32) -> usize {
        let word = i as usize / 64;
        let block = word / BLOCK_WORDS;
        let (Some(&before), Some(&last)) = (self.block_rank.get(block), self.words.get(word))
        else {
            return self.ones;
        };
        let whole = self.words.get(block * BLOCK_WORDS..word).unwrap_or(&[]);
        let mask = (1u64 << (i % 64)) - 1;
        before as usize
            + whole.iter().map(|w| w.count_ones() as usize).sum::<usize>()
            + (last & mask).count_ones() as usize
    }

    /// All set bits.
    pub fn ones(&self) -> usize {
        self.ones
    }

    pub fn words(&self) -> &Array<u64> {
        &self.words
    }

    pub fn memory_bytes(&self) -> usize {
        self.words.owned_bytes() + self.block_rank.len() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn rank_counts_the_bits_before(bits in prop::collection::vec(any::<bool>(), 0..3000)) {
            let ranked = RankedBits::from_fn(bits.len(), |i| bits[i]);
            let mut before = 0;
            for (i, &b) in bits.iter().enumerate() {
                prop_assert_eq!(ranked.contains(i as u32), b);
                prop_assert_eq!(ranked.rank(i as u32), before);
                before += b as usize;
            }
            prop_assert_eq!(ranked.ones(), before);
            prop_assert_eq!(ranked.rank(bits.len() as u32), before);
            prop_assert_eq!(ranked.rank(bits.len().next_multiple_of(512) as u32), before);
        }
    }
}
