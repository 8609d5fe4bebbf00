//! Objects' outgoing references decoded from the dump: the only place outside the index
//! build that reads reference fields, so an index without its dump can say what it lacks.

use super::{ClassIndex, ClassKind, HeapIndex, ObjectId};
use crate::hprof::{BasicType, SubRecord, SubRecordIter};

/// References from each object read from the dump, for forward walks after the outgoing
/// lists are gone (slower: every object is parsed again).
pub struct DumpForward<'a> {
    reader: ReferenceReader<'a>,
    with_weak: bool,
    read: std::cell::Cell<u32>,
}

impl<'a> DumpForward<'a> {
    pub fn new(index: &'a HeapIndex, with_weak: bool) -> Self {
        DumpForward {
            reader: ReferenceReader::new(index),
            with_weak,
            read: std::cell::Cell::new(0),
        }
    }
}

impl DumpForward<'_> {
    pub fn object_count(&self) -> usize {
        self.reader.index.object_count()
    }

    /// Calls `f` with every reference from `v` (and its `referent` when `with_weak`).
    #[inline]
    pub fn for_each_successor(&self, v: u32, mut f: impl FnMut(u32)) {
        // A walk in reference order touches the whole file: let go of its pages now and then.
        let read = self.read.get().wrapping_add(1);
        self.read.set(read);
        if read % (1 << 20) == 0 {
            self.reader.index.release_all_pages();
        }
        let with_weak = self.with_weak;
        self.reader.for_each(v, |t, weak| {
            if with_weak || !weak {
                f(t)
            }
        });
    }
}

/// Where reference fields sit in one class's instance data, as the dump lays it out.
struct RefLayout {
    offsets: Vec<u32>,
    /// Offset of `referent` for Reference subclasses.
    referent: Option<u32>,
}

fn ref_layouts(index: &HeapIndex) -> Vec<RefLayout> {
    let reference: Vec<ClassIndex> = index.classes().by_name("java.lang.ref.Reference").collect();
    (0..index.classes().len() as ClassIndex)
        .map(|c| {
            let (fields, referent) = reference_fields(index, c, &reference);
            RefLayout {
                offsets: fields.into_iter().map(|(offset, _)| offset).collect(),
                referent,
            }
        })
        .collect()
}

/// The reference fields of instances of `c` as the dump lays them out (the chain from the
/// class up): byte offset in the instance data and name of each, and the offset of
/// `referent` when `c` is a subclass of one of `reference` (`java.lang.ref.Reference`),
/// which the list leaves out.
pub fn reference_fields<'a>(
    index: &'a HeapIndex,
    c: ClassIndex,
    reference: &[ClassIndex],
) -> (Vec<(u32, &'a str)>, Option<u32>) {
    let classes = index.classes();
    let id_size = index.header().id_size;
    let is_reference = reference.iter().any(|&r| classes.is_subclass_of(c, r));
    let mut pos = 0u32;
    let mut fields = Vec::new();
    let mut referent = None;
    for ci in classes.chain(c) {
        for f in &classes.get(ci).fields {
            if f.ty == BasicType::Object {
                if is_reference && &*f.name == "referent" && referent.is_none() {
                    referent = Some(pos);
                } else {
                    fields.push((pos, &*f.name));
                }
            }
            pos += f.ty.size_in_dump(id_size) as u32;
        }
    }
    (fields, referent)
}

/// Reads objects' outgoing references straight from the dump.
pub struct ReferenceReader<'a> {
    index: &'a HeapIndex,
    layouts: Vec<RefLayout>,
}

impl<'a> ReferenceReader<'a> {
    pub fn new(index: &'a HeapIndex) -> Self {
        ReferenceReader {
            index,
            layouts: ref_layouts(index),
        }
    }

    /// Calls `f` with every outgoing reference of `o` that resolves to an object of the dump,
    /// and `true` for a `referent`. Includes the edge to the object's class.
    pub fn for_each(&self, o: ObjectId, mut f: impl FnMut(ObjectId, bool)) {
        visit_references(self.index, &self.layouts, o, &mut f);
    }
}

fn visit_references(
    index: &HeapIndex,
    layouts: &[RefLayout],
    o: ObjectId,
    f: &mut impl FnMut(ObjectId, bool),
) {
    let id_size = index.header().id_size;
    let classes = index.classes();
    let class = index.class_of(o);
    if let Some(class_obj) = index.class_object(class) {
        f(class_obj, false);
    }
    if let Some(c) = index.class_for_object(o) {
        let info = classes.get(c);
        if let Some(s) = info.super_class.and_then(|s| index.class_object(s)) {
            f(s, false);
        }
        if let Some(l) = index.find(info.loader_id).filter(|_| info.loader_id != 0) {
            f(l, false);
        }
        for s in &info.statics {
            if let Some(t) = s.value.as_object().and_then(|id| index.find(id)) {
                f(t, false);
            }
        }
        return;
    }
    match classes.get(class).kind {
        ClassKind::PrimitiveArray(_) => {}
        ClassKind::Instance | ClassKind::ObjectArray => {
            let off = index.offset(o) as usize;
            let Some(data) = index.source().bytes().get(off..) else {
                return;
            };
            let Some(Ok(r)) = SubRecordIter::new(data, off as u64, id_size).next() else {
                return;
            };
            let resolve = |id: u64| if id == 0 { None } else { index.find(id) };
            match r.record {
                SubRecord::Instance { fields, .. } => {
                    let layout = &layouts[class as usize];
                    let read = |p: u32| {
                        fields
                            .get(p as usize..p as usize + id_size)
                            .map(|b| crate::hprof::cursor::read_id(b, id_size))
                    };
                    for &p in &layout.offsets {
                        if let Some(t) = read(p).and_then(resolve) {
                            f(t, false);
                        }
                    }
                    if let Some(t) = layout.referent.and_then(read).and_then(resolve) {
                        f(t, true);
                    }
                }
                SubRecord::ObjectArray { elements, .. } => {
                    for t in elements.iter().filter_map(resolve) {
                        f(t, false);
                    }
                }
                _ => {}
            }
        }
    }
}
