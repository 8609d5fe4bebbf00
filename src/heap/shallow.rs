//! Shallow sizes without an array of them: every instance of a class has the same size, so
//! only objects whose size varies (arrays, `java.lang.Class` objects: a quarter of a typical
//! heap) keep theirs, found by rank in a bitmap. About 1.1 bytes per object instead of 4, in
//! memory and in the index file.

use rayon::prelude::*;

use super::class_of::ClassOf;
use super::rank::RankedBits;
use super::reader::ShallowSizes;
use super::store::{Array, Store, StoreError, StoreWriter};
use super::{ClassIndex, ObjectId, LARGE_SIZE};

/// `per_class` of classes whose objects differ in size.
const VARIES: u32 = u32::MAX - 1;

pub(super) struct ShallowTable {
    /// The size of each class's instances, or [`VARIES`].
    per_class: Array<u32>,
    /// A bit per object whose class's size varies.
    varies: RankedBits,
    /// Those objects' sizes, in object order; [`LARGE_SIZE`] for sizes that do not fit.
    sizes: Array<u32>,
}

impl ShallowTable {
    pub fn empty() -> ShallowTable {
        ShallowTable {
            per_class: Vec::new().into(),
            varies: RankedBits::new(Vec::new().into()),
            sizes: Vec::new().into(),
        }
    }

    /// The sizes of objects of classes `class_of` with array lengths `lens` (as in
    /// `ObjectRecord`), and the sizes too large for a `u32`.
    pub fn new(
        sizes: &ShallowSizes,
        classes: usize,
        class_class: ClassIndex,
        class_of: &ClassOf,
        lens: &[u32],
    ) -> (ShallowTable, Vec<(ObjectId, u64)>) {
        let per_class: Vec<u32> = (0..classes as ClassIndex)
            .map(|c| match sizes.instance_size(c) {
                Some(s) if c != class_class && s < VARIES as u64 => s as u32,
                _ => VARIES,
            })
            .collect();
        let varies_of = |o: usize| per_class[class_of.get(o as ObjectId) as usize] == VARIES;
        let varies = RankedBits::from_fn(class_of.len(), varies_of);
        let size_of = |o: usize| sizes.of(class_of.get(o as ObjectId), lens[o]);
        // One pass on every core: each range of objects writes its sizes where the bitmap's
        // rank puts them.
        const RANGE: usize = 1 << 16;
        let n = class_of.len();
        let mut object_sizes = vec![0u32; varies.ones()];
        let mut slots = Vec::with_capacity(n.div_ceil(RANGE));
        let mut rest: &mut [u32] = &mut object_sizes;
        for start in (0..n).step_by(RANGE) {
            let end = (start + RANGE).min(n);
            let count = varies.rank(end as u32) - varies.rank(start as u32);
            let (slot, tail) = std::mem::take(&mut rest).split_at_mut(count);
            slots.push((start..end, slot));
            rest = tail;
        }
        let large: Vec<(ObjectId, u64)> = slots
            .into_par_iter()
            .flat_map_iter(|(range, slot)| {
                let mut large = Vec::new();
                let mut out = slot.iter_mut();
                for o in range.filter(|&o| varies.contains(o as u32)) {
                    let size = size_of(o);
                    if size >= LARGE_SIZE as u64 {
                        large.push((o as ObjectId, size));
                    }
                    if let Some(slot) = out.next() {
                        *slot = size.min(LARGE_SIZE as u64) as u32;
                    }
                }
                large
            })
            .collect();
        let table = ShallowTable {
            per_class: per_class.into(),
            varies,
            sizes: object_sizes.into(),
        };
        (table, large)
    }

    /// `o`'s size, [`LARGE_SIZE`] when it does not fit (0 for numbers a corrupt file left
    /// without a size).
    #[inline]
    pub fn get(&self, o: ObjectId, class: ClassIndex) -> u32 {
        match self.per_class.get(class as usize) {
            Some(&VARIES) => self.sizes.get(self.varies.rank(o)).copied().unwrap_or(0),
            Some(&s) => s,
            None => 0,
        }
    }

    /// `f(o, class, size)` for the objects of `range` in order, sizes as
    /// [`ShallowTable::get`] gives them: the varying ones are read in turn from one rank,
    /// not found by a rank each.
    #[inline]
    pub fn for_each_in(
        &self,
        class_of: &ClassOf,
        range: std::ops::Range<ObjectId>,
        mut f: impl FnMut(ObjectId, ClassIndex, u32),
    ) {
        let mut next = self.varies.rank(range.start);
        for o in range {
            let c = class_of.get(o);
            let size = match self.per_class.get(c as usize) {
                Some(&VARIES) => {
                    next += 1;
                    self.sizes.get(next - 1).copied().unwrap_or(0)
                }
                Some(&s) => s,
                None => 0,
            };
            f(o, c, size);
        }
    }

    pub fn memory_bytes(&self) -> usize {
        self.per_class.owned_bytes() + self.varies.memory_bytes() + self.sizes.owned_bytes()
    }

    pub fn save<'a>(&'a self, w: &mut StoreWriter<'a>) {
        w.array("heap.shallow.per_class", &self.per_class);
        w.array("heap.shallow.varies", self.varies.words());
        w.array("heap.shallow.sizes", &self.sizes);
    }

    /// The table saved by [`ShallowTable::save`] for `objects` objects of `classes` classes.
    pub fn load(store: &Store, objects: usize, classes: usize) -> Result<ShallowTable, StoreError> {
        let per_class: Array<u32> = store.array("heap.shallow.per_class")?;
        let varies = RankedBits::new(store.array("heap.shallow.varies")?);
        let sizes: Array<u32> = store.array("heap.shallow.sizes")?;
        if per_class.len() != classes
            || varies.words().len() != objects.div_ceil(64)
            || sizes.len() != varies.ones()
        {
            return Err(StoreError::Corrupt {
                path: store.path().display().to_string(),
                what: "shallow-size arrays inconsistent".into(),
            });
        }
        Ok(ShallowTable {
            per_class,
            varies,
            sizes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Each varying object finds its own size; the others their class's.
        #[test]
        fn sizes_match_a_plain_array(classes in prop::collection::vec(0u32..4, 0..3000)) {
            // Classes 0 and 1 have fixed sizes, 2 and 3 vary: size = object number.
            let per_class = vec![16, 24, VARIES, VARIES];
            let plain: Vec<u32> = classes
                .iter()
                .enumerate()
                .map(|(o, &c)| if c < 2 { per_class[c as usize] } else { o as u32 })
                .collect();
            let varies: Vec<u64> = (0..classes.len().div_ceil(64))
                .map(|w| {
                    (w * 64..(w * 64 + 64).min(classes.len()))
                        .fold(0, |word, o| word | ((classes[o] >= 2) as u64) << (o - w * 64))
                })
                .collect();
            let sizes: Vec<u32> = (0..classes.len() as u32)
                .filter(|&o| classes[o as usize] >= 2)
                .collect();
            let table = ShallowTable {
                per_class: per_class.into(),
                varies: RankedBits::new(varies.into()),
                sizes: sizes.into(),
            };
            for (o, &c) in classes.iter().enumerate() {
                prop_assert_eq!(table.get(o as ObjectId, c), plain[o]);
            }
            // In runs from any object, as one pass reads them.
            let class_of = ClassOf::Narrow(classes.iter().map(|&c| c as u16).collect::<Vec<_>>().into());
            let n = classes.len() as ObjectId;
            for start in [0, n / 3, n / 2, n.saturating_sub(1), n] {
                let mut seen = Vec::new();
                table.for_each_in(&class_of, start..n, |o, c, size| seen.push((o, c, size)));
                let want: Vec<(ObjectId, ClassIndex, u32)> =
                    (start..n).map(|o| (o, classes[o as usize], plain[o as usize])).collect();
                prop_assert_eq!(seen, want);
            }
        }
    }
}
