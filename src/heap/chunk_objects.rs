//! What the first pass keeps of each object, by chunk and in file order, so that the index's
//! per-object arrays are filled at the objects' numbers without reading the dump again
//! (a second read faulted in the whole file once more: 3 s of 38 at 103 M objects).
//!
//! About 5 bytes per object until the fill: the distance from the object before in 2 bytes,
//! an entry of the chunk's own table of classes (resolved once the class table exists) in 2,
//! and the lengths of arrays. The fill places one array at a time and frees its source.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::class_of::ClassOf;
use super::classes::{ClassIndex, ClassTable};
use super::idmap::{IdMap, Order};
use super::layout::LayoutSample;
use super::numbers::FileOrderNumbers;
use super::reader::{
    declared_field_bytes, fallback_classes, layout_sample, warn_read_problems, ObjectRecord,
    LAYOUT_SAMPLE,
};
use super::ObjectId;
use crate::hprof::{BasicType, SubRecord};
use crate::progress::{Phase, Progress};

/// How an object sub-record names its class, before the class table exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ClassRef {
    Instance(u64),
    ObjectArray(u64),
    PrimitiveArray(BasicType),
    /// A class dump: an instance of `java.lang.Class`.
    Class(u64),
}

/// `ChunkObjects::steps` value of an offset kept in `far`.
const FAR: u16 = u16::MAX;
/// `ChunkObjects::refs` value of an entry kept in `wide`.
const WIDE: u16 = u16::MAX;

/// The objects of one chunk, in file order: about 5 bytes each.
#[derive(Default)]
pub(super) struct ChunkObjects {
    /// File offset the offsets are relative to (the chunk spans less than 4 GiB).
    base: u64,
    /// Each object's distance from the one before (the first's from `base`), or [`FAR`]
    /// when that does not fit: its offset is then the next of `far`.
    steps: Vec<u16>,
    far: Vec<u32>,
    last_offset: u32,
    /// Each object's entry of `table`, or [`WIDE`]: the entry is then the next of `wide`.
    refs: Vec<u16>,
    wide: Vec<u32>,
    /// The elements of each array, in order (instances' sizes follow from their class).
    array_lengths: Vec<u32>,
    table: Vec<ClassRef>,
    /// Per entry naming an instance's class: its first instance's field bytes and how many
    /// instances had that many; the others, rare, in `odd_fields` as (entry, bytes).
    fields: Vec<(u32, u64)>,
    odd_fields: Vec<(u32, u32)>,
    slots: FxHashMap<ClassRef, u32>,
    last: Option<(ClassRef, u32)>,
}

impl ChunkObjects {
    pub fn new(base: usize) -> Self {
        ChunkObjects {
            base: base as u64,
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Records an object sub-record at file offset `offset` (past the last one recorded);
    /// other sub-records are ignored.
    #[inline]
    pub fn push(&mut self, offset: u64, record: &SubRecord<'_>) {
        let (class, length) = match *record {
            SubRecord::Instance {
                class_id, fields, ..
            } => (ClassRef::Instance(class_id), fields.len() as u32),
            SubRecord::ObjectArray {
                class_id,
                ref elements,
                ..
            } => (ClassRef::ObjectArray(class_id), elements.len() as u32),
            SubRecord::PrimitiveArray { elem, length, .. } => {
                (ClassRef::PrimitiveArray(elem), length)
            }
            SubRecord::Class(c) => (ClassRef::Class(c.class_id), 0),
            SubRecord::Root(_) | SubRecord::HeapDumpInfo { .. } => return,
        };
        let slot = match self.last {
            Some((c, slot)) if c == class => slot,
            _ => {
                let (table, fields) = (&mut self.table, &mut self.fields);
                let slot = *self.slots.entry(class).or_insert_with(|| {
                    table.push(class);
                    fields.push((0, 0));
                    table.len() as u32 - 1
                });
                self.last = Some((class, slot));
                slot
            }
        };
        let at = (offset - self.base) as u32;
        match u16::try_from(at.wrapping_sub(self.last_offset)) {
            Ok(step) if step != FAR => self.steps.push(step),
            _ => {
                self.steps.push(FAR);
                self.far.push(at);
            }
        }
        self.last_offset = at;
        match u16::try_from(slot) {
            Ok(r) if r != WIDE => self.refs.push(r),
            _ => {
                self.refs.push(WIDE);
                self.wide.push(slot);
            }
        }
        match class {
            ClassRef::Instance(_) => {
                let seen = &mut self.fields[slot as usize];
                if seen.1 == 0 {
                    seen.0 = length;
                }
                if seen.0 == length {
                    seen.1 += 1;
                } else {
                    self.odd_fields.push((slot, length));
                }
            }
            ClassRef::ObjectArray(_) | ClassRef::PrimitiveArray(_) => {
                self.array_lengths.push(length)
            }
            ClassRef::Class(_) => {}
        }
    }

    /// Drops the lookup structures once the chunk is read.
    pub fn finish(&mut self) {
        self.slots = FxHashMap::default();
        self.last = None;
    }

    /// `f(position, entry, elements)` for the first `limit` objects, in order; `elements`
    /// is 0 but for arrays.
    #[inline]
    fn for_each_entry(&self, limit: usize, mut f: impl FnMut(usize, u32, u32)) {
        let mut wide = self.wide.iter();
        let mut lengths = self.array_lengths.iter();
        for (j, &r) in self.refs.iter().enumerate().take(limit) {
            let slot = match r {
                WIDE => wide.next().copied().unwrap_or(0),
                r => r as u32,
            };
            let elements = match self.table.get(slot as usize) {
                Some(ClassRef::ObjectArray(_) | ClassRef::PrimitiveArray(_)) => {
                    lengths.next().copied().unwrap_or(0)
                }
                _ => 0,
            };
            f(j, slot, elements);
        }
    }

    /// `f(position, file offset)` for every object, in order.
    #[inline]
    fn for_each_offset(&self, mut f: impl FnMut(usize, u64)) {
        let mut far = self.far.iter();
        let mut at = 0u32;
        for (j, &step) in self.steps.iter().enumerate() {
            at = match step {
                FAR => far.next().copied().unwrap_or(at),
                step => at + step as u32,
            };
            f(j, self.base + at as u64);
        }
    }

    /// Instances whose field bytes differ from what their class declares.
    fn field_mismatches(&self, table: &[Resolved]) -> u64 {
        let expected = |slot: u32| table.get(slot as usize).map_or(u32::MAX, |r| r.field_bytes);
        let firsts: u64 = (self.fields.iter().enumerate())
            .filter(|&(slot, &(bytes, _))| {
                let want = expected(slot as u32);
                want != u32::MAX && want != bytes
            })
            .map(|(_, &(_, count))| count)
            .sum();
        let odd = self.odd_fields.iter().filter(|&&(slot, bytes)| {
            let want = expected(slot);
            want != u32::MAX && want != bytes
        });
        firsts + odd.count() as u64
    }
}

/// A chunk's table entry resolved against the class table.
#[derive(Clone, Copy)]
struct Resolved {
    class: ClassIndex,
    /// The class id named no class of the dump.
    unknown: bool,
    /// An instance: its size follows from its class, not its length.
    instance: bool,
    /// Field bytes an instance of the class has (`u32::MAX`: not checked).
    field_bytes: u32,
    /// A class object's length is the index of the class it describes.
    describes: Option<ClassIndex>,
}

fn resolve(
    table: &[ClassRef],
    classes: &ClassTable,
    lookup: &FxHashMap<u64, ClassIndex>,
    id_size: usize,
) -> Vec<Resolved> {
    let (unknown, object_array) = fallback_classes(classes);
    let plain = |class| Resolved {
        class,
        unknown: false,
        instance: false,
        field_bytes: u32::MAX,
        describes: None,
    };
    let named = |id: &u64, fallback| match lookup.get(id) {
        Some(&c) => plain(c),
        None => Resolved {
            unknown: true,
            ..plain(fallback)
        },
    };
    table
        .iter()
        .map(|r| match r {
            ClassRef::Instance(id) => {
                let mut out = named(id, unknown);
                out.instance = true;
                if out.class != unknown {
                    let bytes = declared_field_bytes(classes, out.class, id_size);
                    out.field_bytes = u32::try_from(bytes).unwrap_or(u32::MAX - 1);
                }
                out
            }
            ClassRef::ObjectArray(id) => named(id, object_array),
            ClassRef::PrimitiveArray(t) => plain(classes.primitive_arrays[*t as usize]),
            ClassRef::Class(id) => Resolved {
                describes: Some(lookup.get(id).copied().unwrap_or(u32::MAX)),
                ..plain(classes.class_class)
            },
        })
        .collect()
}

impl Resolved {
    /// The length the index stores (see `ObjectRecord::length`).
    #[inline]
    fn length(&self, recorded: u32) -> u32 {
        match self.describes {
            Some(c) => c,
            None if self.instance => 0,
            None => recorded,
        }
    }
}

/// The index's per-object arrays, at object numbers, and what the layout is detected from.
pub(super) struct Filled {
    pub offsets: Vec<u64>,
    pub class_of: ClassOf,
    pub lens: Vec<u32>,
    pub sample: Vec<LayoutSample>,
    /// Objects whose class id names no class; instances whose field bytes differ from their
    /// class's.
    pub unknown_class: u64,
    pub field_mismatch: u64,
}

impl Filled {
    pub fn warn(&self, warnings: &mut Vec<String>) {
        warn_read_problems(self.unknown_class, self.field_mismatch, warnings);
    }
}

/// Places every chunk's objects at their numbers. `ids` are the identifiers in file order,
/// the input of `id_map`, which `order` goes with; `first_objects` the file-order position of
/// each chunk's first object.
#[allow(clippy::too_many_arguments)]
pub(super) fn fill(
    mut parts: Vec<ChunkObjects>,
    first_objects: &[usize],
    ids: Vec<u64>,
    id_map: &IdMap,
    order: Order,
    classes: &ClassTable,
    lookup: &FxHashMap<u64, ClassIndex>,
    id_size: usize,
    progress: &Progress,
) -> Filled {
    let n = ids.len();
    let tables: Vec<Vec<Resolved>> = parts
        .par_iter()
        .map(|p| resolve(&p.table, classes, lookup, id_size))
        .collect();
    // The first objects in file order.
    let mut first = Vec::with_capacity(LAYOUT_SAMPLE.min(n));
    for (p, table) in parts.iter().zip(&tables) {
        let left = LAYOUT_SAMPLE - first.len();
        p.for_each_entry(left, |_, slot, elements| {
            let r = &table[slot as usize];
            first.push((r.class, r.length(elements)));
        });
        if first.len() >= LAYOUT_SAMPLE {
            break;
        }
    }
    let sample = layout_sample(
        first
            .into_iter()
            .zip(&ids)
            .map(|((class, length), &id)| ObjectRecord { id, class, length }),
    );
    progress.mark("sample");
    // The number of each file-order position, found once rather than in every pass.
    enum Numbers {
        Positions,
        Permutation(Vec<ObjectId>),
        Runs(FileOrderNumbers),
    }
    let numbers = match order {
        Order::Sorted => Numbers::Positions,
        Order::Permutation(p) => Numbers::Permutation(p),
        Order::Lookup => Numbers::Runs(FileOrderNumbers::new(&ids, id_map)),
    };
    progress.mark("ranks");
    let number = |k: usize| match &numbers {
        Numbers::Positions => k as ObjectId,
        Numbers::Permutation(p) => p[k],
        Numbers::Runs(runs) => runs.get(k),
    };
    progress.start(Phase::Index, 3 * n as u64);

    // The offsets, in the identifiers' place: their pages are resident already, where a fresh
    // array's would each be faulted in (8 bytes per object). Zeroed first, for positions
    // no object takes (an identifier listed twice).
    let mut offsets = ids;
    offsets.par_iter_mut().for_each(|o| *o = 0);
    let dest = SharedSlice::new(&mut offsets);
    parts
        .par_iter_mut()
        .zip(first_objects)
        .for_each(|(p, &first)| {
            p.for_each_offset(|j, offset| {
                // SAFETY: numbers are a permutation of the positions: one writer per slot.
                unsafe { dest.write(number(first + j) as usize, offset) };
            });
            progress.add(p.len() as u64);
            p.steps = Vec::new();
            p.far = Vec::new();
        });
    progress.mark("offsets");

    // Class numbers in the two bytes `ClassOf` keeps when they fit, not narrowed afterwards.
    let narrow = classes.len() <= 1 << 16;
    let mut narrow_of = vec![0u16; if narrow { n } else { 0 }];
    let mut wide_of = vec![0 as ClassIndex; if narrow { 0 } else { n }];
    let mut lens = vec![0u32; n];
    let dest = (
        SharedSlice::new(&mut narrow_of),
        SharedSlice::new(&mut wide_of),
        SharedSlice::new(&mut lens),
    );
    let (unknown_class, field_mismatch) = parts
        .par_iter_mut()
        .zip(first_objects)
        .zip(&tables)
        .map(|((p, &first), table)| {
            let mut unknown = 0u64;
            p.for_each_entry(usize::MAX, |j, slot, elements| {
                let r = &table[slot as usize];
                unknown += r.unknown as u64;
                let at = number(first + j) as usize;
                // SAFETY: as above.
                unsafe {
                    if narrow {
                        dest.0.write(at, r.class as u16);
                    } else {
                        dest.1.write(at, r.class);
                    }
                    dest.2.write(at, r.length(elements));
                }
            });
            progress.add(2 * p.len() as u64);
            let mismatch = p.field_mismatches(table);
            p.refs = Vec::new();
            p.wide = Vec::new();
            p.array_lengths = Vec::new();
            (unknown, mismatch)
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));

    let class_of = if narrow {
        ClassOf::Narrow(narrow_of.into())
    } else {
        ClassOf::Wide(wide_of.into())
    };
    Filled {
        offsets,
        class_of,
        lens,
        sample,
        unknown_class,
        field_mismatch,
    }
}

/// A slice that parallel tasks write at distinct positions.
struct SharedSlice<T> {
    ptr: *mut T,
    len: usize,
}

// SAFETY: tasks write distinct positions only (the caller's promise in `write`).
unsafe impl<T: Send> Sync for SharedSlice<T> {}

impl<T> SharedSlice<T> {
    fn new(slice: &mut [T]) -> Self {
        SharedSlice {
            ptr: slice.as_mut_ptr(),
            len: slice.len(),
        }
    }

    /// Writes `value` at `i` (ignored when out of bounds).
    ///
    /// SAFETY: no other task writes or reads position `i` meanwhile, and the slice outlives
    /// this value.
    unsafe fn write(&self, i: usize, value: T) {
        if i < self.len {
            unsafe { *self.ptr.add(i) = value };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hprof::IdList;
    use proptest::prelude::*;

    /// What was pushed: offset, the class reference, elements (arrays) or field bytes.
    type Pushed = (u64, ClassRef, u32);

    fn push_all(base: usize, pushed: &[Pushed]) -> ChunkObjects {
        let zeros = vec![0u8; 64 * 8];
        let mut objects = ChunkObjects::new(base);
        for &(offset, class, length) in pushed {
            let record = match class {
                ClassRef::Instance(class_id) => SubRecord::Instance {
                    id: 1,
                    stack_serial: 0,
                    class_id,
                    fields: &zeros[..length as usize],
                },
                ClassRef::ObjectArray(class_id) => SubRecord::ObjectArray {
                    id: 1,
                    stack_serial: 0,
                    class_id,
                    elements: IdList::new(&zeros[..length as usize * 8], 8),
                },
                ClassRef::PrimitiveArray(elem) => SubRecord::PrimitiveArray {
                    id: 1,
                    stack_serial: 0,
                    elem,
                    length,
                    data: &[],
                },
                ClassRef::Class(_) => unreachable!("not generated"),
            };
            objects.push(offset, &record);
        }
        objects.finish();
        objects
    }

    fn decoded(objects: &ChunkObjects) -> Vec<Pushed> {
        let mut offsets = Vec::new();
        objects.for_each_offset(|j, offset| offsets.push((j, offset)));
        let mut out = Vec::new();
        objects.for_each_entry(usize::MAX, |j, slot, elements| {
            assert_eq!(offsets[j].0, j);
            out.push((offsets[j].1, objects.table[slot as usize], elements));
        });
        assert_eq!(out.len(), offsets.len());
        out
    }

    fn class_ref(kind: u8, id: u64) -> ClassRef {
        match kind {
            0 => ClassRef::Instance(id),
            1 => ClassRef::ObjectArray(id),
            _ => ClassRef::PrimitiveArray(BasicType::Int),
        }
    }

    proptest! {
        #[test]
        fn objects_read_back_as_pushed(
            base in 0usize..1 << 20,
            objects in prop::collection::vec((0u32..150_000, 0u8..3, 0u64..6, 0u32..64), 0..300),
        ) {
            let mut offset = base as u64;
            let pushed: Vec<Pushed> = objects
                .iter()
                .map(|&(gap, kind, id, length)| {
                    offset += gap as u64;
                    (offset, class_ref(kind, 0x1000 + id), length)
                })
                .collect();
            let chunk = push_all(base, &pushed);
            let want: Vec<Pushed> = pushed
                .iter()
                .map(|&(o, c, l)| (o, c, if matches!(c, ClassRef::Instance(_)) { 0 } else { l }))
                .collect();
            prop_assert_eq!(decoded(&chunk), want);
            // Instances whose field bytes differ from their class's (here: 8 bytes each).
            let table: Vec<Resolved> = chunk
                .table
                .iter()
                .map(|c| Resolved {
                    class: 0,
                    unknown: false,
                    instance: matches!(c, ClassRef::Instance(_)),
                    field_bytes: if matches!(c, ClassRef::Instance(_)) { 8 } else { u32::MAX },
                    describes: None,
                })
                .collect();
            let mismatched = pushed
                .iter()
                .filter(|(_, c, l)| matches!(c, ClassRef::Instance(_)) && *l != 8)
                .count() as u64;
            prop_assert_eq!(chunk.field_mismatches(&table), mismatched);
        }
    }

    #[test]
    fn more_table_entries_than_two_bytes_number() {
        let pushed: Vec<Pushed> = (0..70_000u64)
            .map(|k| (10 + 3 * k, ClassRef::Instance(0x10_0000 + k), 0))
            .collect();
        let chunk = push_all(10, &pushed);
        assert_eq!(chunk.wide.len(), 70_000 - WIDE as usize);
        assert_eq!(decoded(&chunk), pushed);
    }
}
