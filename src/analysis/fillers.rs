//! G1's filler arrays. Since JDK 19 HotSpot fills the unused ends of TLABs and regions with
//! arrays of a class of its own, `jdk.internal.vm.FillerElement[]` (an int array inside), and a
//! heap dump writes them as plain `int[]`: left there they add megabytes to `int[]` that no
//! program allocated. jmap counts them apart; so does heapsight: an `int[]` that no GC root
//! reaches, of even length (fillers span whole 8-byte words) and not empty (plenty of
//! unreachable `int[0]` are real) and all zero (the memory of a fresh TLAB) is counted as a
//! filler. Fillers laid over reused memory keep the old bytes and
//! stay in `int[]`.

use rayon::prelude::*;

use super::dominators::DominatorTree;
use super::histogram::Histogram;
use crate::heap::{ClassIndex, HeapIndex, ObjectId, ObjectView};
use crate::hprof::BasicType;

/// The class jmap lists G1 fillers as; the index declares it for dumps of JDK 19 and later.
pub const FILLER_CLASS: &str = "jdk.internal.vm.FillerElement[]";

/// True when `o` is one of the VM's filler arrays.
fn is_filler(index: &HeapIndex, tree: &DominatorTree, int_array: ClassIndex, o: ObjectId) -> bool {
    if index.class_of(o) != int_array || tree.is_reachable(o) {
        return false;
    }
    match index.view(o) {
        Some(ObjectView::PrimitiveArray { length, data, .. }) => {
            length >= 2 && length % 2 == 0 && data.iter().all(|&b| b == 0)
        }
        _ => false,
    }
}

/// Moves the fillers from the `int[]` rows of the histogram and of the unreachable counts to
/// the filler class's rows (when the dump has that class).
pub fn separate(
    index: &HeapIndex,
    tree: &DominatorTree,
    histogram: Histogram,
    mut unreachable_by_class: Vec<(u64, u64)>,
) -> (Histogram, Vec<(u64, u64)>) {
    let classes = index.classes();
    let Some(filler) = classes.by_name(FILLER_CLASS).next() else {
        return (histogram, unreachable_by_class);
    };
    let int_array = classes.primitive_arrays[BasicType::Int as usize];
    let (count, bytes) = (0..index.object_count() as ObjectId)
        .into_par_iter()
        .with_min_len(1 << 14)
        .filter(|&o| is_filler(index, tree, int_array, o))
        .map(|o| (1u64, index.shallow_size(o)))
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    if count == 0 {
        return (histogram, unreachable_by_class);
    }
    let mut per_class = vec![(0u64, 0u64); classes.len()];
    for r in &histogram.rows {
        per_class[r.class as usize] = (r.count, r.shallow_bytes);
    }
    for table in [&mut per_class, &mut unreachable_by_class] {
        let from = &mut table[int_array as usize];
        from.0 = from.0.saturating_sub(count);
        from.1 = from.1.saturating_sub(bytes);
        let to = &mut table[filler as usize];
        to.0 += count;
        to.1 += bytes;
    }
    (Histogram::from_per_class(&per_class), unreachable_by_class)
}
