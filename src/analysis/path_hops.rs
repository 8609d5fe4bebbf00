//! How each object's parent on the shortest-path tree refers to it (which reference field,
//! array index, static field, class edge), found once by the fresh analysis and kept in the
//! index file, so paths to GC roots name their hops without the dump.
//!
//! A hop is a *place* in the parent's references:
//! - a class object: the position in its references as [`ReferenceReader`] lists them
//!   (its class, `<super>`, `<classloader>`, then the static fields that hold an object of
//!   the dump), all of which the index knows without the dump;
//! - an instance or an object array: 0 for the edge to its class (when the class has a class
//!   object), then one place per reference field (in [`ReferenceReader`]'s order, `referent`
//!   left out) or per array element, null or not, so that the name does not depend on which
//!   fields were null.
//!
//! [`ReferenceReader`]: crate::heap::references::ReferenceReader

use std::sync::atomic::AtomicU16;
use std::sync::atomic::Ordering::Relaxed;

use rayon::prelude::*;

use super::graph::Outgoing;
use crate::heap::rank::RankedBits;
use crate::heap::store::{Array, Store, StoreError, StoreWriter};
use crate::heap::{ClassIndex, ClassKind, HeapIndex, ObjectId, ObjectView};
use crate::progress::Progress;

mod from_dump;

/// Places from here on keep their high 16 bits apart.
const WIDE: u32 = 1 << 16;
/// A place that was not found (named `?`).
const UNKNOWN: u32 = u32::MAX;

/// Per object, the place by which its tree parent refers to it.
pub struct PathHops {
    /// The low 16 bits of every place.
    places: Array<u16>,
    /// A bit per object whose place is [`WIDE`] or more (array elements past 65,535, and
    /// [`UNKNOWN`]).
    wide: RankedBits,
    /// The high 16 bits of those places, in object order.
    high: Array<u16>,
}

/// Reference fields of one class's instances, in the order of the dump's reference lists.
pub struct RefFields<'a> {
    /// Byte offset of each in the instance data, and its name.
    pub fields: Vec<(u32, &'a str)>,
}

/// The reference fields of instances of `c` as [`ReferenceReader`] visits them: the chain
/// from the class up, `referent` of `java.lang.ref.Reference` subclasses left out (it is
/// not a strong reference; the shortest paths do not follow it).
///
/// [`ReferenceReader`]: crate::heap::references::ReferenceReader
pub fn ref_fields(index: &HeapIndex, c: ClassIndex) -> RefFields<'_> {
    let reference: Vec<ClassIndex> = index.classes().by_name("java.lang.ref.Reference").collect();
    ref_fields_with(index, c, &reference)
}

fn ref_fields_with<'a>(
    index: &'a HeapIndex,
    c: ClassIndex,
    reference: &[ClassIndex],
) -> RefFields<'a> {
    let (fields, _referent) = crate::heap::references::reference_fields(index, c, reference);
    RefFields { fields }
}

/// A class object's references, in [`ReferenceReader`]'s order (only those that point to an
/// object of the dump): each target and its name.
///
/// [`ReferenceReader`]: crate::heap::references::ReferenceReader
fn class_object_references(
    index: &HeapIndex,
    o: ObjectId,
    c: ClassIndex,
) -> Vec<(ObjectId, String)> {
    let info = index.classes().get(c);
    let mut found = Vec::new();
    if let Some(class) = index.class_object(index.class_of(o)) {
        found.push((class, "<class>".to_string()));
    }
    if let Some(s) = info.super_class.and_then(|s| index.class_object(s)) {
        found.push((s, "<super>".to_string()));
    }
    if let Some(loader) = (info.loader_id != 0)
        .then(|| index.find(info.loader_id))
        .flatten()
    {
        found.push((loader, "<classloader>".to_string()));
    }
    for s in &info.statics {
        if let Some(t) = s.value.as_object().and_then(|id| index.find(id)) {
            found.push((t, format!("static {}", s.name)));
        }
    }
    found
}

/// Whether references of `o` start with the edge to its class object.
fn has_class_edge(index: &HeapIndex, o: ObjectId) -> bool {
    index.class_object(index.class_of(o)).is_some()
}

/// How `from` refers to `to` at `place`: `.field`, `[index]`, `static field`, `<class>`…;
/// `None` if the place does not fit `from`.
pub fn name_of_place(index: &HeapIndex, from: ObjectId, place: u32) -> Option<String> {
    if let Some(c) = index.class_for_object(from) {
        return class_object_references(index, from, c)
            .into_iter()
            .nth(place as usize)
            .map(|(_, name)| name);
    }
    let class_edge = has_class_edge(index, from) as u32;
    if place < class_edge {
        return Some("<class>".into());
    }
    let slot = place - class_edge;
    let class = index.class_of(from);
    match index.classes().get(class).kind {
        ClassKind::Instance => ref_fields(index, class)
            .fields
            .get(slot as usize)
            .map(|(_, name)| format!(".{name}")),
        ClassKind::ObjectArray => Some(format!("[{slot}]")),
        ClassKind::PrimitiveArray(_) => None,
    }
}

/// The name of the first place in `from`'s references (in [`ReferenceReader`]'s order, as
/// [`name_of_place`] counts them) that holds `to`, read from the dump: the hop a walk that
/// records none takes (`--no-index` makes no index file, so it records no hops). `None`
/// without the dump, or when no such place holds `to` (a `referent`).
///
/// [`ReferenceReader`]: crate::heap::references::ReferenceReader
pub fn first_place_name(index: &HeapIndex, from: ObjectId, to: ObjectId) -> Option<String> {
    if let Some(c) = index.class_for_object(from) {
        return class_object_references(index, from, c)
            .into_iter()
            .find(|&(t, _)| t == to)
            .map(|(_, name)| name);
    }
    if index.class_object(index.class_of(from)) == Some(to) {
        return Some("<class>".into());
    }
    let address = index.address(to);
    match index.view(from)? {
        ObjectView::Instance { class, data } => {
            let id_size = index.header().id_size;
            ref_fields(index, class)
                .fields
                .into_iter()
                .find(|&(off, _)| {
                    data.get(off as usize..off as usize + id_size)
                        .is_some_and(|b| crate::hprof::cursor::read_id(b, id_size) == address)
                })
                .map(|(_, name)| format!(".{name}"))
        }
        ObjectView::ObjectArray { elements, .. } => elements
            .iter()
            .position(|id| id == address)
            .map(|i| format!("[{i}]")),
        _ => None,
    }
}

/// Records, during the breadth-first walk over the outgoing lists, where each newly reached
/// object sits in its parent's list. Where that position is the place (class objects, and
/// instances with no null or unresolved reference field, whose list has one entry per
/// field) it is final; otherwise the parent is kept for one read from the dump afterwards.
/// Its children are not kept (8 bytes each, 37 M of them at 100 M objects, while the
/// depth-first walk is at its peak): they are found again from its list and the tree.
pub struct HopRecorder<'a> {
    index: &'a HeapIndex,
    outgoing: &'a Outgoing,
    places: Vec<u16>,
    /// `[object, place]` of places of [`WIDE`] or more.
    wide: Vec<[u32; 2]>,
    /// Children whose place is not known yet.
    pending: usize,
    /// Their parents, in walk order.
    groups: Vec<ObjectId>,
    /// Per class: reference fields of an instance (`u32::MAX` for arrays, classes without
    /// instances of fixed layout) and whether its objects have a class edge.
    field_counts: Vec<u32>,
    class_edge: Vec<bool>,
    /// Offsets of the reference fields of each instance class.
    layouts: Vec<Vec<u32>>,
}

/// What [`HopRecorder::begin`] found about one parent.
pub struct ParentMark {
    exact: bool,
    class_edge: u32,
    start: usize,
}

impl<'a> HopRecorder<'a> {
    pub fn new(index: &'a HeapIndex, outgoing: &'a Outgoing) -> HopRecorder<'a> {
        let classes = index.classes();
        let layouts = reference_layouts(index);
        let field_counts = (0..classes.len())
            .map(|c| match classes.get(c as ClassIndex).kind {
                ClassKind::Instance => layouts[c].len() as u32,
                _ => u32::MAX,
            })
            .collect();
        let class_edge = (0..classes.len() as ClassIndex)
            .map(|c| index.class_object(c).is_some())
            .collect();
        HopRecorder {
            index,
            outgoing,
            places: vec![0; index.object_count()],
            wide: Vec::new(),
            pending: 0,
            groups: Vec::new(),
            field_counts,
            class_edge,
            layouts,
        }
    }

    /// Before `v`'s successors are walked.
    #[inline]
    pub fn begin(&self, v: ObjectId) -> ParentMark {
        let class = self.index.class_of(v) as usize;
        let exact = self.field_counts[class] as usize == self.outgoing.lists.degree(v)
            || (class as ClassIndex == self.index.classes().class_class
                && self.index.class_for_object(v).is_some());
        ParentMark {
            exact,
            class_edge: self.class_edge[class] as u32,
            start: self.pending,
        }
    }

    /// `t` was reached first from the parent of `mark`, at `position` in its list.
    #[inline]
    pub fn record(&mut self, mark: &ParentMark, t: ObjectId, position: u32) {
        if mark.exact || position < mark.class_edge {
            self.place(t, position);
        } else {
            self.pending += 1;
        }
    }

    /// After `v`'s successors are walked.
    #[inline]
    pub fn end(&mut self, v: ObjectId, mark: ParentMark) {
        if self.pending > mark.start {
            self.groups.push(v);
        }
    }

    #[inline]
    fn place(&mut self, t: ObjectId, place: u32) {
        self.places[t as usize] = place as u16;
        if place >= WIDE {
            self.wide.push([t, place]);
        }
    }

    /// Reads the parents whose positions are not places from the dump (each once, in object
    /// order, in parallel) and gives the finished hops; `None` once `progress` is cancelled.
    /// `parent` is the tree the walk made. With `park`, the places go to a temporary file
    /// there (they are next read when the index file is written).
    pub fn finish(
        self,
        parent: &Array<ObjectId>,
        park: Option<&std::path::Path>,
        progress: &Progress,
    ) -> Option<PathHops> {
        let HopRecorder {
            index,
            outgoing,
            mut places,
            mut wide,
            mut groups,
            layouts,
            ..
        } = self;
        // In parent order: the dump is read forward.
        groups.par_sort_unstable();
        // Parked, the tree and the offsets are file pages that count as the process's own
        // while mapped: they are dropped every so many groups (the page cache keeps them).
        let done = std::sync::atomic::AtomicUsize::new(0);
        const RELEASE_TREE_EVERY: usize = 8;
        const RELEASE_EVERY: usize = 64;
        let found: Vec<Vec<[u32; 2]>> = {
            // Each child has one parent, so the groups write disjoint places.
            let shared = SharedPlaces::new(&mut places);
            groups
                .par_chunks(1024)
                .map(|chunk| {
                    let mut wide = Vec::new();
                    let mut group = Vec::new();
                    if progress.is_cancelled() {
                        return wide;
                    }
                    for &v in chunk {
                        let class_object = index.class_object(index.class_of(v));
                        let ce = class_object.is_some() as u32;
                        children_by_position(outgoing, parent, v, class_object, &mut group);
                        places_from_dump(index, outgoing, &layouts, v, ce, &group, |t, place| {
                            shared.set(t, place as u16);
                            if place >= WIDE {
                                wide.push([t, place]);
                            }
                        });
                    }
                    index.release_pages(chunk.iter().copied());
                    // The children are anywhere in the tree: its pages go often; the
                    // offsets, read in order, and the dump's pages less often.
                    let k = done.fetch_add(1, Relaxed);
                    if k % RELEASE_TREE_EVERY == RELEASE_TREE_EVERY - 1 {
                        parent.release_pages();
                    }
                    if k % RELEASE_EVERY == RELEASE_EVERY - 1 {
                        index.release_all_pages();
                    }
                    wide
                })
                .collect()
        };
        parent.release_pages();
        index.release_all_pages();
        if progress.is_cancelled() {
            return None;
        }
        wide.extend(found.into_iter().flatten());
        Some(PathHops::from_places(places, wide, park))
    }
}

/// Per class, the offsets of an instance's reference fields in [`ref_fields`]' order (none
/// for array classes).
fn reference_layouts(index: &HeapIndex) -> Vec<Vec<u32>> {
    let classes = index.classes();
    let reference: Vec<ClassIndex> = classes.by_name("java.lang.ref.Reference").collect();
    (0..classes.len() as ClassIndex)
        .map(|c| match classes.get(c).kind {
            ClassKind::Instance => ref_fields_with(index, c, &reference)
                .fields
                .iter()
                .map(|f| f.0)
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// The per-object places, written by the parallel readers of [`HopRecorder::finish`]: each
/// object is written by the one group of its parent.
struct SharedPlaces<'a> {
    places: &'a [AtomicU16],
}

impl<'a> SharedPlaces<'a> {
    fn new(places: &'a mut [u16]) -> SharedPlaces<'a> {
        // SAFETY: `AtomicU16` has the size, alignment and bit validity of `u16`, and the
        // exclusive borrow means no other access to these values while this view lives.
        let places = unsafe { &*(places as *mut [u16] as *const [AtomicU16]) };
        SharedPlaces { places }
    }

    #[inline]
    fn set(&self, t: ObjectId, place: u16) {
        if let Some(p) = self.places.get(t as usize) {
            p.store(place, Relaxed);
        }
    }
}

impl PathHops {
    /// The hops of `places` (the low 16 bits of each) and `wide` (`[object, place]` of the
    /// places of [`WIDE`] or more, in any order), the places parked in `park` if given.
    fn from_places(
        places: Vec<u16>,
        mut wide: Vec<[u32; 2]>,
        park: Option<&std::path::Path>,
    ) -> PathHops {
        wide.par_sort_unstable();
        let mut bits = vec![0u64; places.len().div_ceil(64)];
        for &[t, _] in &wide {
            bits[t as usize / 64] |= 1 << (t % 64);
        }
        let high: Vec<u16> = wide.iter().map(|e| (e[1] >> 16) as u16).collect();
        let places: Array<u16> = places.into();
        let places = match park {
            Some(dir) => crate::heap::store::park(places, dir),
            None => places,
        };
        PathHops::new(places, bits.into(), high.into())
    }

    fn new(places: Array<u16>, wide: Array<u64>, high: Array<u16>) -> PathHops {
        PathHops {
            places,
            wide: RankedBits::new(wide),
            high,
        }
    }

    /// The place by which `o`'s tree parent refers to it, if known.
    pub fn place(&self, o: ObjectId) -> Option<u32> {
        let low = *self.places.get(o as usize)? as u32;
        if !self.wide.contains(o) {
            return Some(low);
        }
        let place = (*self.high.get(self.wide.rank(o))? as u32) << 16 | low;
        (place != UNKNOWN).then_some(place)
    }

    /// Places of 65,536 or more (kept in two parts).
    pub fn wide_count(&self) -> usize {
        self.high.len()
    }

    pub fn memory_bytes(&self) -> usize {
        self.places.owned_bytes() + self.wide.memory_bytes() + self.high.owned_bytes()
    }

    /// Adds `paths.hops`, `paths.hops_wide` and `paths.hops_high` to an index file.
    pub fn save<'a>(&'a self, w: &mut StoreWriter<'a>) {
        w.array("paths.hops", &self.places);
        w.array("paths.hops_wide", self.wide.words());
        w.array("paths.hops_high", &self.high);
    }

    /// Sections that say "unknown" for each of `objects` (a tree made without its hops).
    pub fn save_unknown(objects: usize, w: &mut StoreWriter<'_>) {
        let places = vec![u16::MAX; objects];
        let wide = vec![u64::MAX; objects.div_ceil(64)];
        let high = vec![u16::MAX; wide.len() * 64];
        w.bytes("paths.hops", bytemuck::cast_slice(&places).to_vec());
        w.bytes("paths.hops_wide", bytemuck::cast_slice(&wide).to_vec());
        w.bytes("paths.hops_high", bytemuck::cast_slice(&high).to_vec());
    }

    /// The hops saved by [`PathHops::save`], mapped from the file and checked so that no
    /// lookup can go wrong.
    pub fn load(store: &Store, objects: usize) -> Result<PathHops, StoreError> {
        let places: Array<u16> = store.array("paths.hops")?;
        let wide: Array<u64> = store.array("paths.hops_wide")?;
        let high: Array<u16> = store.array("paths.hops_high")?;
        let set: u64 = wide.iter().map(|w| w.count_ones() as u64).sum();
        if places.len() != objects || wide.len() != objects.div_ceil(64) || set != high.len() as u64
        {
            return Err(StoreError::Corrupt {
                path: store.path().display().to_string(),
                what: "path hops inconsistent".into(),
            });
        }
        Ok(PathHops::new(places, wide, high))
    }
}

/// The children `v` was the first to reach, as [`HopRecorder::record`] saw them: `(child,
/// position)` in increasing position, the first position of each; `class_object`, the
/// target of `v`'s class edge (position 0) if it has one, left out.
fn children_by_position(
    outgoing: &Outgoing,
    parent: &[ObjectId],
    v: ObjectId,
    class_object: Option<ObjectId>,
    group: &mut Vec<(ObjectId, u32)>,
) {
    group.clear();
    let list = outgoing.lists.neighbours(v);
    let class_edge = class_object.is_some() as u32;
    let first = class_edge..class_edge + list.len() as u32;
    group.extend(
        list.iter()
            .zip(first)
            // A GC root is its own parent and no one's child.
            .filter(|&(&t, _)| t != v && parent.get(t as usize) == Some(&v))
            .map(|(&t, position)| (t, position)),
    );
    // A child listed twice was reached at its first position; a child that is also `v`'s
    // class object was reached by the class edge, before the list.
    if let Some(c) = class_object {
        group.retain(|e| e.0 != c);
    }
    if group.len() > 1 {
        group.sort_unstable();
        group.dedup_by_key(|e| e.0);
        group.sort_unstable_by_key(|e| e.1);
    }
}

/// The places of `group` (`(child, position)` in increasing position, children reached
/// first from `v`), given to `set`, found by reading `v`'s reference fields or elements from
/// the dump: position `class_edge + r` is the `r`-th that is not null and points to an
/// object of the dump. `u32::MAX` for a child not found.
fn places_from_dump(
    index: &HeapIndex,
    outgoing: &Outgoing,
    layouts: &[Vec<u32>],
    v: ObjectId,
    class_edge: u32,
    group: &[(ObjectId, u32)],
    mut set: impl FnMut(ObjectId, u32),
) {
    let id_size = index.header().id_size;
    let mut scan = |slots: &mut dyn Iterator<Item = u64>, all_resolve: bool| {
        let mut next = group.iter().peekable();
        let mut r = 0u32;
        for (s, id) in slots.enumerate() {
            let Some(&&(t, position)) = next.peek() else {
                return;
            };
            if id == 0 || !(all_resolve || index.find(id).is_some()) {
                continue;
            }
            if class_edge + r == position {
                set(t, class_edge + s as u32);
                next.next();
            }
            r += 1;
        }
        for &(t, _) in next {
            set(t, u32::MAX);
        }
    };
    let degree = outgoing.lists.degree(v);
    match index.view(v) {
        Some(ObjectView::Instance { class, data }) => {
            let offsets = layouts.get(class as usize).map_or(&[][..], |l| &l[..]);
            let ids = || {
                offsets.iter().map(|&off| {
                    data.get(off as usize..off as usize + id_size)
                        .map_or(0, |b| crate::hprof::cursor::read_id(b, id_size))
                })
            };
            // Every non-null reference points into the dump (the usual case): no lookups.
            let all_resolve = ids().filter(|&id| id != 0).count() == degree;
            scan(&mut ids(), all_resolve);
        }
        Some(ObjectView::ObjectArray { elements, .. }) => {
            let all_resolve = elements.iter().filter(|&id| id != 0).count() == degree;
            scan(&mut elements.iter(), all_resolve);
        }
        _ => scan(&mut std::iter::empty(), true),
    }
}
