//! Each object's class number, two bytes per object when the dump has at most 65,536 classes
//! (nearly all do), four otherwise.

use rayon::prelude::*;

use super::store::{Array, Pod, Store, StoreError, StoreWriter};
use super::{ClassIndex, ObjectId};
use crate::prefetch::prefetch;

pub enum ClassOf {
    Narrow(Array<u16>),
    Wide(Array<u32>),
}

impl ClassOf {
    /// From one number per object, narrowed when `classes` allows.
    pub fn new(class_of: Vec<ClassIndex>, classes: usize) -> ClassOf {
        if classes <= 1 << 16 {
            ClassOf::Narrow(
                class_of
                    .par_iter()
                    .map(|&c| c as u16)
                    .collect::<Vec<_>>()
                    .into(),
            )
        } else {
            ClassOf::Wide(class_of.into())
        }
    }

    #[inline]
    pub fn get(&self, o: ObjectId) -> ClassIndex {
        match self {
            ClassOf::Narrow(a) => a[o as usize] as ClassIndex,
            ClassOf::Wide(a) => a[o as usize],
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ClassOf::Narrow(a) => a.len(),
            ClassOf::Wide(a) => a.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn prefetch(&self, o: ObjectId) {
        match self {
            ClassOf::Narrow(a) => prefetch(a, o as usize),
            ClassOf::Wide(a) => prefetch(a, o as usize),
        }
    }

    /// Objects whose class is marked in `mask`, in object order (one parallel scan).
    pub fn objects_of(&self, mask: &[bool]) -> Vec<ObjectId> {
        match self {
            ClassOf::Narrow(a) => objects_of(a, mask, |_, o| o),
            ClassOf::Wide(a) => objects_of(a, mask, |_, o| o),
        }
    }

    /// As [`ClassOf::objects_of`], each object with its class.
    pub fn objects_and_classes_of(&self, mask: &[bool]) -> Vec<(ClassIndex, ObjectId)> {
        match self {
            ClassOf::Narrow(a) => objects_of(a, mask, |c, o| (c, o)),
            ClassOf::Wide(a) => objects_of(a, mask, |c, o| (c, o)),
        }
    }

    /// Objects per class, for `classes` classes (one parallel scan).
    pub fn counts(&self, classes: usize) -> Vec<u64> {
        fn counts<T: Pod + Into<u32> + Sync>(class_of: &[T], classes: usize) -> Vec<u64> {
            class_of
                .par_chunks(1 << 16)
                .fold(
                    || vec![0u64; classes],
                    |mut counts, run| {
                        for &c in run {
                            if let Some(n) = counts.get_mut(c.into() as usize) {
                                *n += 1;
                            }
                        }
                        counts
                    },
                )
                .reduce(
                    || vec![0u64; classes],
                    |mut a, b| {
                        a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                        a
                    },
                )
        }
        match self {
            ClassOf::Narrow(a) => counts(a, classes),
            ClassOf::Wide(a) => counts(a, classes),
        }
    }

    /// How many objects have a class for which `keep` holds.
    pub fn count(&self, keep: impl Fn(ClassIndex) -> bool + Sync) -> usize {
        match self {
            ClassOf::Narrow(a) => a.par_iter().filter(|&&c| keep(c as ClassIndex)).count(),
            ClassOf::Wide(a) => a.par_iter().filter(|&&c| keep(c)).count(),
        }
    }

    /// Whether every class number is below `classes`.
    pub fn all_below(&self, classes: usize) -> bool {
        self.count(|c| c as usize >= classes) == 0
    }

    pub fn memory_bytes(&self) -> usize {
        match self {
            ClassOf::Narrow(a) => a.owned_bytes(),
            ClassOf::Wide(a) => a.owned_bytes(),
        }
    }

    pub fn save<'a>(&'a self, w: &mut StoreWriter<'a>) {
        match self {
            ClassOf::Narrow(a) => w.array("heap.class_of16", a),
            ClassOf::Wide(a) => w.array("heap.class_of", a),
        }
    }

    pub fn load(store: &Store) -> Result<ClassOf, StoreError> {
        match store.array("heap.class_of16") {
            Ok(a) => Ok(ClassOf::Narrow(a)),
            Err(_) => Ok(ClassOf::Wide(store.array("heap.class_of")?)),
        }
    }
}

/// Plain loops over runs: rayon's enumerate/filter adapters copied every item through the
/// stack, which made this scan of every object cost more than the rules that called it.
fn objects_of<T: Pod + Into<u32> + Sync, R: Send>(
    class_of: &[T],
    mask: &[bool],
    item: impl Fn(ClassIndex, ObjectId) -> R + Sync,
) -> Vec<R> {
    if !mask.iter().any(|&m| m) {
        return Vec::new();
    }
    const RUN: usize = 1 << 16;
    class_of
        .par_chunks(RUN)
        .enumerate()
        .flat_map_iter(|(k, run)| {
            let first = (k * RUN) as ObjectId;
            let mut found = Vec::new();
            for (i, &c) in run.iter().enumerate() {
                let c: u32 = c.into();
                if mask.get(c as usize) == Some(&true) {
                    found.push(item(c, first + i as ObjectId));
                }
            }
            found
        })
        .collect()
}
