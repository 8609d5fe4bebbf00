//! The dominator tree's sections of the index file (`dom.…`, see docs/INDEX-FILE.md).
//!
//! `idom` is not stored: the children lists are, one after the other in parent order, with a
//! bit per object that has children (`dom.parents`) and a bit per position of `dom.children`
//! where a list starts (`dom.list_starts`): a quarter of a byte per object instead of four.
//! The load finds the inner objects' list starts from the bits and rebuilds `idom` from the
//! lists, each in a parallel pass; the rest is read in place ([`super::layout`]).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use rayon::prelude::*;

use super::layout::{ChildOffsets, InnerLists, InnerSizes, RetainedSizes, ShallowSizes};
use super::{DominatorTree, ReferenceMode, SUPER_ROOT, UNREACHABLE};
use crate::heap::packed::U40Vec;
use crate::heap::rank::RankedBits;
use crate::heap::store::{Array, Store, StoreError, StoreWriter};
use crate::heap::ObjectId;

/// Objects per job of the load's passes (a multiple of 64: whole words of `dom.parents`).
const CHUNK: usize = 1 << 16;

impl DominatorTree {
    /// Adds the tree's sections (`dom.…`) to an index file.
    pub fn save<'a>(&'a self, w: &mut StoreWriter<'a>, shallow: impl Fn(ObjectId) -> u64 + Sync) {
        let scalars = [
            (self.mode == ReferenceMode::StrongOnly) as u64,
            self.reachable_objects,
            self.reachable_bytes,
            self.unreachable_objects,
            self.unreachable_bytes,
        ];
        w.bytes("dom.scalars", bytemuck::cast_slice(&scalars).to_vec());
        let n = self.idom.len();
        let (parents, starts) = self.child_offsets.bits(n, self.children.len());
        w.bytes("dom.parents", bytemuck::cast_slice(&parents).to_vec());
        w.bytes("dom.list_starts", bytemuck::cast_slice(&starts).to_vec());
        // A leaf retains its own shallow size and an unreachable object nothing: when that
        // holds for all of them, only the others' retained sizes are stored, in object order.
        let has_children = move |o: usize| !self.child_offsets.range(o as ObjectId).is_empty();
        let leaves_follow = (0..n).into_par_iter().all(|o| {
            has_children(o)
                || self.retained(o as ObjectId)
                    == if self.idom[o] == UNREACHABLE {
                        0
                    } else {
                        shallow(o as ObjectId)
                    }
        });
        if leaves_follow {
            // The low 32 bits, made when written (4 bytes an inner node); the few sizes of
            // 4 GiB or more whole, with their place.
            let inner = (0..n).into_par_iter().filter(|&o| has_children(o)).count();
            let low = move || -> Vec<u8> {
                (0..n)
                    .into_par_iter()
                    .filter(move |&o| has_children(o))
                    .flat_map_iter(move |o| (self.retained(o as ObjectId) as u32).to_le_bytes())
                    .collect()
            };
            let ranked = RankedBits::new(parents.into());
            let big: Vec<u64> = (0..n)
                .into_par_iter()
                .filter(|&o| has_children(o) && self.retained(o as ObjectId) > u32::MAX as u64)
                .flat_map_iter(|o| [ranked.rank(o as u32) as u64, self.retained(o as ObjectId)])
                .collect();
            w.bytes_later("dom.retained_inner.low", inner * 4, low);
            w.bytes(
                "dom.retained_inner.big",
                bytemuck::cast_slice(&big).to_vec(),
            );
        } else {
            match &self.retained {
                RetainedSizes::All(sizes) => sizes.save("dom.retained", w),
                RetainedSizes::Inner(_) => U40Vec::save_selected(
                    "dom.retained",
                    w,
                    n,
                    |_| true,
                    |o| self.retained(o as ObjectId),
                ),
            }
        }
        w.array("dom.children", &self.children);
        w.array("dom.top_level", &self.top_level);
    }

    /// The tree saved by [`DominatorTree::save`]: `idom` and the inner objects' list starts
    /// rebuilt, the rest read in place from the file (a leaf's retained size is its `shallow`
    /// size).
    pub fn load(
        store: &Store,
        objects: usize,
        shallow: ShallowSizes,
    ) -> Result<DominatorTree, StoreError> {
        let corrupt = || StoreError::Corrupt {
            path: store.path().display().to_string(),
            what: "dominator tree arrays inconsistent".into(),
        };
        let scalars: Array<u64> = store.array("dom.scalars")?;
        let parents: Array<u64> = store.array("dom.parents")?;
        let starts: Array<u64> = store.array("dom.list_starts")?;
        let children: Array<ObjectId> = store.array("dom.children")?;
        let top_level: Array<ObjectId> = store.array("dom.top_level")?;
        let n = objects;
        let lists =
            inner_lists_from_bits(n, parents, &starts, children.len()).ok_or_else(corrupt)?;
        let idom = idom_from_lists(n, &lists, &children, &top_level).ok_or_else(corrupt)?;
        let retained = match InnerSizes::load(store, lists.inner.ones(), shallow)? {
            Some(inner) => RetainedSizes::Inner(inner),
            None => {
                let all = U40Vec::load(store, "dom.retained")?;
                if all.len() != n {
                    return Err(corrupt());
                }
                RetainedSizes::All(all)
            }
        };
        // Every reachable object is in one list or at the top level.
        let counts_fit = scalars.len() == 5
            && scalars[1] == (children.len() + top_level.len()) as u64
            && scalars[1].checked_add(scalars[3]) == Some(n as u64);
        if !counts_fit {
            return Err(corrupt());
        }
        Ok(DominatorTree {
            idom: Array::shared(idom),
            retained,
            child_offsets: ChildOffsets::Inner(lists),
            children,
            top_level,
            mode: if scalars[0] == 1 {
                ReferenceMode::StrongOnly
            } else {
                ReferenceMode::All
            },
            reachable_objects: scalars[1],
            reachable_bytes: scalars[2],
            unreachable_objects: scalars[3],
            unreachable_bytes: scalars[4],
        })
    }

    /// The immediate dominators, shared (not copied) when rebuilt at load.
    pub(crate) fn idom_array(&self) -> Array<ObjectId> {
        self.idom.clone()
    }
}

/// Set bits of `words` before each chunk of `CHUNK` bits, and in all.
fn ones_before_chunks(words: &[u64]) -> (Vec<usize>, usize) {
    let mut before: Vec<usize> = words
        .par_chunks(CHUNK / 64)
        .map(|c| c.iter().map(|w| w.count_ones() as usize).sum())
        .collect();
    let mut sum = 0;
    for b in &mut before {
        (*b, sum) = (sum, sum + *b);
    }
    (before, sum)
}

/// The inner objects' lists of `n` objects and `m` children from the bits
/// [`ChildOffsets::bits`] makes; `None` when they do not describe them (a corrupt file): as
/// many list starts as parents, the first at position 0, no bit past the ends.
fn inner_lists_from_bits(
    n: usize,
    parents: Array<u64>,
    starts: &[u64],
    m: usize,
) -> Option<InnerLists> {
    let ones = |w: &[u64]| w.par_iter().map(|w| w.count_ones() as usize).sum::<usize>();
    let beyond =
        |w: &[u64], len: usize| len % 64 != 0 && w.last().is_some_and(|&l| l >> (len % 64) != 0);
    let lists = ones(&parents);
    let fits = m <= u32::MAX as usize
        && parents.len() == n.div_ceil(64)
        && starts.len() == m.div_ceil(64)
        && !beyond(&parents, n)
        && !beyond(starts, m)
        && ones(starts) == lists
        && (m == 0 || starts[0] & 1 == 1);
    if !fits {
        return None;
    }
    // The place of each set bit of `starts`, in order: each chunk of bits fills its stretch.
    let (before, _) = ones_before_chunks(starts);
    let mut places = vec![0u32; lists + 1];
    places[lists] = m as u32;
    let mut jobs = Vec::with_capacity(before.len());
    let mut rest = &mut places[..lists];
    for (k, words) in starts.chunks(CHUNK / 64).enumerate() {
        let end = before.get(k + 1).copied().unwrap_or(lists);
        let (part, tail) = rest.split_at_mut(end - before[k]);
        jobs.push((k * CHUNK, words, part));
        rest = tail;
    }
    jobs.into_par_iter().for_each(|(first, words, part)| {
        let mut slots = part.iter_mut();
        for_each_set_bit(words, first, |at| {
            if let Some(slot) = slots.next() {
                *slot = at as u32;
            }
        });
    });
    Some(InnerLists {
        inner: RankedBits::new(parents),
        starts: places,
    })
}

/// Calls `f` with the position of each set bit of `words` in order, bit 0 of `words[0]`
/// standing for `first`.
fn for_each_set_bit(words: &[u64], first: usize, mut f: impl FnMut(usize)) {
    for (j, &word) in words.iter().enumerate() {
        let mut word = word;
        while word != 0 {
            f(first + j * 64 + word.trailing_zeros() as usize);
            word &= word - 1;
        }
    }
}

/// Each of `n` objects' immediate dominator from the inner objects' lists and the top
/// level; `None` when an object is out of range or in more than one list (a corrupt file).
fn idom_from_lists(
    n: usize,
    lists: &InnerLists,
    children: &[ObjectId],
    top_level: &[ObjectId],
) -> Option<Vec<ObjectId>> {
    let cells: Vec<AtomicU32> = (0..n)
        .into_par_iter()
        .map(|_| AtomicU32::new(UNREACHABLE))
        .collect();
    let bad = AtomicBool::new(false);
    let set = |o: ObjectId, d: ObjectId| match cells.get(o as usize) {
        Some(c) => c.store(d, Ordering::Relaxed),
        None => bad.store(true, Ordering::Relaxed),
    };
    top_level.par_iter().for_each(|&o| set(o, SUPER_ROOT));
    // The inner objects in order, a chunk of them per job, each from its first place.
    let words = lists.inner.words();
    let (before, _) = ones_before_chunks(words);
    words
        .par_chunks(CHUNK / 64)
        .enumerate()
        .for_each(|(k, chunk)| {
            let mut place = before[k];
            for_each_set_bit(chunk, k * CHUNK, |p| {
                let list = match (lists.starts.get(place), lists.starts.get(place + 1)) {
                    (Some(&a), Some(&b)) => children.get(a as usize..b as usize),
                    _ => None,
                };
                for &o in list.unwrap_or_default() {
                    set(o, p as ObjectId);
                }
                place += 1;
            });
        });
    // In place (same layout): no second allocation.
    let idom: Vec<ObjectId> = cells.into_iter().map(AtomicU32::into_inner).collect();
    // Each object in one place at most: as many objects placed as the lists hold.
    let placed = idom.par_iter().filter(|&&d| d != UNREACHABLE).count();
    (!bad.into_inner() && placed == children.len() + top_level.len()).then_some(idom)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::store::DumpIdentity;
    use proptest::prelude::*;
    use std::sync::Arc;

    fn shallow(o: ObjectId) -> u64 {
        16 + 8 * (o as u64 % 5)
    }

    /// A tree from each object's parent (`SUPER_ROOT`, `UNREACHABLE` or an earlier object),
    /// built the way the analysis builds it.
    fn tree_of(idom: Vec<ObjectId>) -> DominatorTree {
        let n = idom.len();
        let mut retained: Vec<u64> = (0..n as u32)
            .map(|o| match idom[o as usize] {
                UNREACHABLE => 0,
                _ => shallow(o),
            })
            .collect();
        for o in (0..n).rev() {
            if (idom[o] as usize) < n {
                retained[idom[o] as usize] += retained[o];
            }
        }
        let order = |a: &ObjectId, b: &ObjectId| {
            (retained[*b as usize], *a).cmp(&(retained[*a as usize], *b))
        };
        let mut children: Vec<ObjectId> = (0..n as u32)
            .filter(|&o| (idom[o as usize] as usize) < n)
            .collect();
        children.sort_by(|a, b| idom[*a as usize].cmp(&idom[*b as usize]).then(order(a, b)));
        let mut child_offsets = vec![0u32; n + 1];
        for &c in &children {
            child_offsets[idom[c as usize] as usize + 1] += 1;
        }
        for v in 0..n {
            child_offsets[v + 1] += child_offsets[v];
        }
        let mut top_level: Vec<ObjectId> = (0..n as u32)
            .filter(|&o| idom[o as usize] == SUPER_ROOT)
            .collect();
        top_level.sort_by(order);
        let reachable = idom.iter().filter(|&&d| d != UNREACHABLE).count() as u64;
        DominatorTree {
            idom: idom.into(),
            retained: RetainedSizes::All(U40Vec::new(&retained)),
            child_offsets: ChildOffsets::All(child_offsets.into()),
            children: children.into(),
            top_level: top_level.into(),
            mode: ReferenceMode::All,
            reachable_objects: reachable,
            reachable_bytes: 1,
            unreachable_objects: n as u64 - reachable,
            unreachable_bytes: 2,
        }
    }

    fn idom_strategy(max: usize) -> impl Strategy<Value = Vec<ObjectId>> {
        proptest::collection::vec(0u32..100, 1..max).prop_map(|picks| {
            picks
                .iter()
                .enumerate()
                .map(|(o, &p)| match p {
                    0..=9 => SUPER_ROOT,
                    10..=19 => UNREACHABLE,
                    _ if o == 0 => SUPER_ROOT,
                    p => p % o as u32,
                })
                .collect()
        })
    }

    fn identity() -> DumpIdentity {
        DumpIdentity {
            size: 1,
            mtime_s: 2,
            mtime_ns: 3,
            head_crc: 4,
            tail_crc: 5,
        }
    }

    fn write(path: &std::path::Path, sections: &[(String, Vec<u8>)]) -> Store {
        let mut w = StoreWriter::new(identity());
        for (name, bytes) in sections {
            w.bytes(name, bytes.clone());
        }
        w.write(path, &|_| true).unwrap();
        Store::open(path).unwrap()
    }

    fn sections_of(tree: &DominatorTree, path: &std::path::Path) -> Vec<(String, Vec<u8>)> {
        let mut w = StoreWriter::new(identity());
        tree.save(&mut w, shallow);
        w.write(path, &|_| true).unwrap();
        let store = Store::open(path).unwrap();
        store
            .section_sizes()
            .into_iter()
            .map(|(name, _)| {
                let bytes = store.bytes(&name).unwrap().to_vec();
                (name, bytes)
            })
            .collect()
    }

    /// Everything a view reads of a loaded tree.
    fn walk(tree: &DominatorTree, n: usize) -> u64 {
        let mut sum = tree.top_level().len() as u64;
        for o in 0..n as u32 {
            sum += tree.children(o).len() as u64 + tree.retained(o);
            sum += tree.dominators_of(o).len() as u64 + tree.idom(o) as u64;
        }
        sum
    }

    proptest! {
        #[test]
        fn lists_and_idom_come_back_from_the_bits(idom in idom_strategy(300)) {
            let tree = tree_of(idom.clone());
            let (n, m) = (idom.len(), tree.children.len());
            let (parents, starts) = tree.child_offsets.bits(n, m);
            let lists = inner_lists_from_bits(n, parents.into(), &starts, m).unwrap();
            let back = ChildOffsets::Inner(lists);
            for o in 0..n as ObjectId + 2 {
                prop_assert_eq!(&tree.children[back.range(o)], tree.children(o), "list of {}", o);
            }
            let ChildOffsets::Inner(lists) = &back else { unreachable!() };
            let idom_back = idom_from_lists(n, lists, &tree.children, &tree.top_level);
            prop_assert_eq!(idom_back, Some(idom));
        }

        #[test]
        fn an_object_in_two_places_is_refused(idom in idom_strategy(100), pick in 0usize..1000) {
            let tree = tree_of(idom);
            let mut children = tree.children.to_vec();
            prop_assume!(!children.is_empty());
            // A child listed again in place of another, or a top-level object as a child.
            let at = pick % children.len();
            children[at] = match tree.top_level.first() {
                Some(&t) if pick % 2 == 0 => t,
                _ => children[(at + 1) % children.len()],
            };
            prop_assume!(children[at] != tree.children[at]);
            let n = tree.idom.len();
            let (parents, starts) = tree.child_offsets.bits(n, children.len());
            let lists = inner_lists_from_bits(n, parents.into(), &starts, children.len()).unwrap();
            prop_assert_eq!(idom_from_lists(n, &lists, &children, &tree.top_level), None);
        }
    }

    #[test]
    fn the_tree_round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let idom: Vec<ObjectId> = (0..5000u32)
            .map(|o| match o % 11 {
                0 => SUPER_ROOT,
                1 => UNREACHABLE,
                _ => o * 7 / 11,
            })
            .collect();
        let n = idom.len();
        let mut tree = tree_of(idom);
        // Some inner objects retain 4 GiB or more (stored apart), the last one too.
        let last_parent = (0..n).rev().find(|&o| !tree.children(o as u32).is_empty());
        let sizes: Vec<u64> = (0..n)
            .map(|o| match tree.retained(o as u32) {
                r if tree.children(o as u32).is_empty() => r,
                r if o % 3 == 0 || Some(o) == last_parent => (5 << 32) + r,
                r => r,
            })
            .collect();
        tree.retained = RetainedSizes::All(U40Vec::new(&sizes));
        let path = dir.path().join("t.heapsight-index");
        let sections = sections_of(&tree, &path);
        let big = &sections
            .iter()
            .find(|s| s.0 == "dom.retained_inner.big")
            .unwrap()
            .1;
        assert!(big.len() > 16 * 100, "{}", big.len());
        let store = write(&path, &sections);
        assert!(store.bytes("dom.idom").is_err(), "idom is not stored");
        let back = DominatorTree::load(&store, n, Arc::new(shallow)).unwrap();
        assert_eq!(&back.idom[..], &tree.idom[..]);
        for o in 0..n as ObjectId {
            assert_eq!(back.children(o), tree.children(o), "children of {o}");
        }
        assert_eq!(&back.children[..], &tree.children[..]);
        assert_eq!(&back.top_level[..], &tree.top_level[..]);
        for o in 0..n as u32 {
            assert_eq!(back.retained(o), tree.retained(o), "retained of {o}");
        }
        assert_eq!(
            (back.reachable_objects, back.unreachable_objects),
            (tree.reachable_objects, tree.unreachable_objects)
        );
        assert!(DominatorTree::load(&store, n + 1, Arc::new(shallow)).is_err());
        assert!(DominatorTree::load(&store, n - 64, Arc::new(shallow)).is_err());
    }

    #[test]
    fn damaged_sections_are_refused_or_read_without_panic() {
        let dir = tempfile::tempdir().unwrap();
        let idom: Vec<ObjectId> = (0..70u32)
            .map(|o| match o % 9 {
                0 => SUPER_ROOT,
                1 => UNREACHABLE,
                _ => o / 3,
            })
            .collect();
        let n = idom.len();
        let mut tree = tree_of(idom);
        let sizes: Vec<u64> = (0..n as u32)
            .map(|o| {
                let big = o % 4 == 2 && !tree.children(o).is_empty();
                tree.retained(o) + (big as u64) * (3 << 32)
            })
            .collect();
        tree.retained = RetainedSizes::All(U40Vec::new(&sizes));
        let path = dir.path().join("t.heapsight-index");
        let good = sections_of(&tree, &path);
        assert!(good
            .iter()
            .any(|s| s.0 == "dom.retained_inner.big" && s.1.len() >= 32));
        let mut refused = 0;
        for (i, (name, bytes)) in good.iter().enumerate() {
            let mut damaged: Vec<Vec<u8>> = (0..bytes.len())
                .flat_map(|at| {
                    [0x01u8, 0x80, 0xff].map(|x| {
                        let mut b = bytes.clone();
                        b[at] ^= x;
                        b
                    })
                })
                .collect();
            damaged.push(bytes[..bytes.len().saturating_sub(1)].to_vec());
            damaged.push(bytes[..bytes.len().saturating_sub(8)].to_vec());
            damaged.push([&bytes[..], &[0u8; 8]].concat());
            for b in damaged {
                let mut sections = good.clone();
                sections[i].1 = b;
                let store = write(&path, &sections);
                match DominatorTree::load(&store, n, Arc::new(shallow)) {
                    Ok(t) => {
                        walk(&t, n);
                    }
                    Err(_) => refused += 1,
                }
            }
            let mut without = good.clone();
            without.remove(i);
            let store = write(&path, &without);
            assert!(
                DominatorTree::load(&store, n, Arc::new(shallow)).is_err(),
                "without {name}"
            );
        }
        assert!(refused > 100, "{refused}");
    }
}
