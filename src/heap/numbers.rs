//! The object number of each identifier in file order, where the order of the dump's
//! objects is not that of their addresses (several heap regions, listed out of order).

use rayon::prelude::*;

use super::idmap::IdMap;
use super::ObjectId;

/// Identifiers per run looked at together (fewer in unit tests, so that small inputs hold
/// many runs).
const RUN: usize = if cfg!(test) { 8 } else { 1 << 12 };
/// The first number of a run not numbered in turn.
const LOOKED_UP: ObjectId = ObjectId::MAX;

/// The object number of each of a dump's identifiers in file order, run by run. Files list
/// the objects of each heap region in address order: a run of ids that ascends, and whose
/// ends' numbers lie as far apart as it is long, holds every object between them, numbered
/// in turn from its first. Only the others are looked up id by id and kept. At 25.8 M
/// objects every id was looked up into an array before: 0.11 s on two cores and 103 MB of
/// fresh pages, against 0.04 s and next to nothing.
pub(super) struct FileOrderNumbers {
    /// Per run: its first number, or [`LOOKED_UP`] and where its numbers start in `looked_up`.
    runs: Vec<(ObjectId, u32)>,
    looked_up: Vec<ObjectId>,
}

impl FileOrderNumbers {
    /// The numbers of `ids` (unique, as [`super::idmap::Order::Lookup`] says).
    pub(super) fn new(ids: &[u64], id_map: &IdMap) -> FileOrderNumbers {
        let firsts: Vec<ObjectId> = ids
            .par_chunks(RUN)
            .map(|run| first_of_run(run, id_map).unwrap_or(LOOKED_UP))
            .collect();
        let mut runs = Vec::with_capacity(firsts.len());
        let mut at = 0usize;
        for (r, &first) in firsts.iter().enumerate() {
            runs.push((first, at as u32));
            if first == LOOKED_UP {
                at += RUN.min(ids.len() - r * RUN);
            }
        }
        let looked_up = ids
            .par_chunks(RUN)
            .zip(&firsts)
            .filter(|&(_, &first)| first == LOOKED_UP)
            .flat_map_iter(|(run, _)| run.iter().map(|&id| id_map.get(id).unwrap_or(LOOKED_UP)))
            .collect();
        FileOrderNumbers { runs, looked_up }
    }

    /// The number of file position `k`.
    #[inline]
    pub(super) fn get(&self, k: usize) -> ObjectId {
        let (first, at) = self.runs[k / RUN];
        if first != LOOKED_UP {
            first + (k % RUN) as ObjectId
        } else {
            self.looked_up[at as usize + k % RUN]
        }
    }
}

/// The number of the first of `ids` when they are numbered in turn from it.
fn first_of_run(ids: &[u64], id_map: &IdMap) -> Option<ObjectId> {
    let (first, last) = (id_map.get(*ids.first()?)?, id_map.get(*ids.last()?)?);
    let in_turn =
        last.checked_sub(first)? as usize == ids.len() - 1 && ids.windows(2).all(|w| w[0] < w[1]);
    in_turn.then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn numbers_as_each_id_looked_up(
            regions in prop::collection::vec((0u64..1 << 16, 1usize..40, 1u64..6), 1..12),
            order in prop::collection::vec(any::<u16>(), 12),
            strays in prop::collection::vec(0u64..1 << 24, 0..20),
        ) {
            // Regions of objects 8-byte aligned, listed in some order, and a few stray ids.
            let mut ids: Vec<u64> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            let mut listed: Vec<usize> = (0..regions.len()).collect();
            listed.sort_by_key(|&r| order[r]);
            for r in listed {
                let (start, count, gap) = regions[r];
                for k in 0..count as u64 {
                    let id = 0x1000_0000 + (start * 64 + k * gap) * 8;
                    if seen.insert(id) {
                        ids.push(id);
                    }
                }
            }
            for s in strays {
                let id = 0x1000_0000 + s * 8;
                if seen.insert(id) {
                    ids.push(id);
                }
            }
            let (map, _) = IdMap::build(&ids);
            let numbers = FileOrderNumbers::new(&ids, &map);
            for (k, &id) in ids.iter().enumerate() {
                prop_assert_eq!(numbers.get(k), map.get(id).unwrap_or(LOOKED_UP));
            }
        }
    }
}
