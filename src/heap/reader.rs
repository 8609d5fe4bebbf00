//! The second pass's view of a chunk: each object sub-record as (id, class, length), and the
//! shallow size that follows from the layout. Shared by the full index and the census.

use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::FxHashMap;

use super::classes::{ClassIndex, ClassKind, ClassTable};
use super::layout::{LayoutSample, ObjectLayout};
use super::scan::Chunk;
use crate::hprof::{BasicType, SubRecord, SubRecordIter};

pub(super) const UNKNOWN_CLASS: &str = "<unknown class>";

/// Objects whose addresses the layout is detected from.
pub(super) const LAYOUT_SAMPLE: usize = 200_000;

/// One object as the index stores it. `length` is the element count of an array and, for a
/// class object, the index of the class it describes (`u32::MAX` when unknown).
#[derive(Clone, Copy, Debug)]
pub(super) struct ObjectRecord {
    pub id: u64,
    pub class: ClassIndex,
    pub length: u32,
}

/// Resolves object sub-records against the class table; one per worker, since it caches.
pub(super) struct ObjectReader<'a> {
    data: &'a [u8],
    id_size: usize,
    classes: &'a ClassTable,
    lookup: &'a FxHashMap<u64, ClassIndex>,
    unknown: ClassIndex,
    object_array: ClassIndex,
    last: (u64, ClassIndex),
    /// Bytes of field values per class, worked out on first use (`usize::MAX`: not yet).
    expected_bytes: Vec<usize>,
    unknown_class: u64,
    field_mismatch: u64,
}

impl<'a> ObjectReader<'a> {
    pub fn new(
        data: &'a [u8],
        id_size: usize,
        classes: &'a ClassTable,
        lookup: &'a FxHashMap<u64, ClassIndex>,
    ) -> Self {
        let (unknown, object_array) = fallback_classes(classes);
        ObjectReader {
            data,
            id_size,
            classes,
            lookup,
            unknown,
            object_array,
            last: (u64::MAX, 0),
            expected_bytes: vec![usize::MAX; classes.len()],
            unknown_class: 0,
            field_mismatch: 0,
        }
    }

    fn resolve(&mut self, class_id: u64, fallback: ClassIndex) -> ClassIndex {
        if self.last.0 == class_id {
            return self.last.1;
        }
        match self.lookup.get(&class_id) {
            Some(&c) => {
                self.last = (class_id, c);
                c
            }
            None => {
                self.unknown_class += 1;
                fallback
            }
        }
    }

    fn expected_bytes(&mut self, c: ClassIndex) -> usize {
        let Some(&want) = self.expected_bytes.get(c as usize) else {
            return usize::MAX;
        };
        if want != usize::MAX {
            return want;
        }
        let want = declared_field_bytes(self.classes, c, self.id_size);
        self.expected_bytes[c as usize] = want;
        want
    }

    /// Calls `f` for each object of the chunk, in file order.
    pub fn for_each(&mut self, chunk: &Chunk, mut f: impl FnMut(ObjectRecord)) {
        let (data, id_size) = (self.data, self.id_size);
        // Nested loops, not a flattened iterator: records are big enough that the adapter's
        // copies of each one cost more than reading it.
        for run in &chunk.runs {
            for r in SubRecordIter::new(&data[run.start..run.end], run.start as u64, id_size) {
                // The scan cut a bad chunk short before its first error.
                let Ok(r) = r else { return };
                let (id, class, length) = match r.record {
                    SubRecord::Instance {
                        id,
                        class_id,
                        fields,
                        ..
                    } => {
                        let c = self.resolve(class_id, self.unknown);
                        if self.expected_bytes(c) != fields.len() && c != self.unknown {
                            self.field_mismatch += 1;
                        }
                        (id, c, 0)
                    }
                    SubRecord::ObjectArray {
                        id,
                        class_id,
                        elements,
                        ..
                    } => (
                        id,
                        self.resolve(class_id, self.object_array),
                        elements.len() as u32,
                    ),
                    SubRecord::PrimitiveArray {
                        id, elem, length, ..
                    } => (id, self.classes.primitive_arrays[elem as usize], length),
                    SubRecord::Class(c) => (
                        c.class_id,
                        self.classes.class_class,
                        self.lookup.get(&c.class_id).copied().unwrap_or(u32::MAX),
                    ),
                    SubRecord::Root(_) | SubRecord::HeapDumpInfo { .. } => continue,
                };
                f(ObjectRecord { id, class, length });
            }
        }
    }
}

/// The classes of objects whose class id names no class: `<unknown class>` for instances,
/// `java.lang.Object[]` for object arrays.
pub(super) fn fallback_classes(classes: &ClassTable) -> (ClassIndex, ClassIndex) {
    let unknown = classes.by_name(UNKNOWN_CLASS).next().unwrap_or(0);
    let object_array = classes
        .by_name("java.lang.Object[]")
        .next()
        .unwrap_or(unknown);
    (unknown, object_array)
}

/// Bytes of field values an instance of class `c` has in the dump.
pub(super) fn declared_field_bytes(classes: &ClassTable, c: ClassIndex, id_size: usize) -> usize {
    classes
        .all_fields(c)
        .map(|f| f.ty.size_in_dump(id_size))
        .sum()
}

/// What the readers found wrong, summed over workers, as warnings.
#[derive(Default)]
pub(super) struct ReadProblems {
    unknown_class: AtomicU64,
    field_mismatch: AtomicU64,
}

impl ReadProblems {
    pub fn add(&self, reader: &ObjectReader<'_>) {
        self.unknown_class
            .fetch_add(reader.unknown_class, Ordering::Relaxed);
        self.field_mismatch
            .fetch_add(reader.field_mismatch, Ordering::Relaxed);
    }

    pub fn warn(self, warnings: &mut Vec<String>) {
        warn_read_problems(
            self.unknown_class.into_inner(),
            self.field_mismatch.into_inner(),
            warnings,
        );
    }
}

/// The warnings of objects whose class id names no class, and of instances whose field bytes
/// differ from their class's.
pub(super) fn warn_read_problems(
    unknown_class: u64,
    field_mismatch: u64,
    warnings: &mut Vec<String>,
) {
    if unknown_class > 0 {
        warnings.push(format!(
            "{unknown_class} objects name a class the dump does not describe; counted as \"{UNKNOWN_CLASS}\""
        ));
    }
    if field_mismatch > 0 {
        warnings.push(format!(
            "{field_mismatch} instances have field data of a different length than their class declares"
        ));
    }
}

/// The first objects in file order, sorted by address. HotSpot writes each heap region in
/// address order, so neighbours here are mostly neighbours in memory, which is what layout
/// detection needs. Class objects (mirrors) are kept: their size is not known, but they
/// end the gap after the object before them.
pub(super) fn layout_sample(objects: impl Iterator<Item = ObjectRecord>) -> Vec<LayoutSample> {
    let mut sample: Vec<LayoutSample> = objects
        .take(LAYOUT_SAMPLE)
        .map(|o| LayoutSample {
            address: o.id,
            class: o.class,
            length: o.length,
        })
        .collect();
    sample.sort_unstable_by_key(|s| s.address);
    sample
}

/// Sets each class's instance size from the layout.
pub(super) fn apply_layout(classes: &mut ClassTable, layout: &ObjectLayout) {
    let sizes = layout.instance_sizes(classes);
    for (class, size) in classes.classes.iter_mut().zip(sizes) {
        class.instance_size = size;
    }
}

/// Shallow sizes under a layout (after `apply_layout`).
pub(super) struct ShallowSizes<'a> {
    classes: &'a ClassTable,
    layout: &'a ObjectLayout,
    class_objects: Vec<u32>,
}

impl<'a> ShallowSizes<'a> {
    pub fn new(classes: &'a ClassTable, layout: &'a ObjectLayout) -> Self {
        let class_objects = (0..classes.classes.len())
            .map(|c| layout.class_object_size(classes, c as ClassIndex))
            .collect();
        ShallowSizes {
            classes,
            layout,
            class_objects,
        }
    }

    /// The size of every object of `class`, if they all have one (not arrays).
    pub fn instance_size(&self, class: ClassIndex) -> Option<u64> {
        let c = self.classes.classes.get(class as usize)?;
        matches!(c.kind, ClassKind::Instance).then_some(c.instance_size as u64)
    }

    /// The shallow size of an object of `class` with `length` as in `ObjectRecord`.
    #[inline]
    pub fn of(&self, class: ClassIndex, length: u32) -> u64 {
        if class == self.classes.class_class {
            return self
                .class_objects
                .get(length as usize)
                .copied()
                .unwrap_or(0) as u64;
        }
        let c = &self.classes.classes[class as usize];
        match c.kind {
            ClassKind::Instance => c.instance_size as u64,
            ClassKind::ObjectArray => self.layout.array_size(BasicType::Object, length),
            ClassKind::PrimitiveArray(t) => self.layout.array_size(t, length),
        }
    }
}
