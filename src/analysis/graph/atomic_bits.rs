//! A bit per object, set from any thread.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::heap::ObjectId;

/// Bit `o % 64` of word `o / 64` stands for object `o`, as in [`super::NodeBits`].
pub struct AtomicBits {
    words: Vec<AtomicU64>,
}

impl AtomicBits {
    pub fn new(n: usize) -> AtomicBits {
        AtomicBits {
            words: (0..n.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Sets `o`'s bit; whether it was clear.
    #[inline]
    pub fn insert(&self, o: ObjectId) -> bool {
        let bit = 1u64 << (o % 64);
        self.words
            .get(o as usize / 64)
            .is_some_and(|w| w.fetch_or(bit, Relaxed) & bit == 0)
    }

    #[inline]
    pub fn contains(&self, o: ObjectId) -> bool {
        let bit = 1u64 << (o % 64);
        self.words
            .get(o as usize / 64)
            .is_some_and(|w| w.load(Relaxed) & bit != 0)
    }

    pub fn words(&self) -> &[AtomicU64] {
        &self.words
    }
}
