//! The heap index: every object numbered densely (u32, in address order), with its class,
//! file offset and shallow size in flat arrays; the class table; GC roots; threads.
//! Built once in parallel passes over the mapped dump, then immutable (share it by `Arc`).

mod build;
mod census;
mod chunk_objects;
pub mod class_of;
pub mod classes;
mod dumps;
mod few_instances;
mod fields;
pub mod idmap;
pub mod layout;
mod numbers;
mod objects;
pub mod packed;
mod persist;
pub mod props;
pub mod rank;
mod reader;
pub mod references;
mod scan;
mod shallow;
pub mod store;
pub mod threads;
pub mod vm;

use std::path::Path;

use rustc_hash::FxHashMap;

use crate::hprof::{DumpSource, Header, HprofError, RootKind};
use crate::progress::Progress;
pub use census::Census;
pub use classes::{ClassIndex, ClassInfo, ClassKind, ClassTable, FieldInfo, StaticInfo};
pub use dumps::{DumpList, DumpPart};
use idmap::IdMap;
pub use layout::ObjectLayout;
pub use objects::{FieldValue, ObjectView};
use packed::U40Vec;
pub use threads::{FrameInfo, ThreadInfo};

/// Dense number of an object: its rank by address among all objects of the dump.
pub type ObjectId = u32;

/// A GC root resolved to an object of the dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Root {
    pub object: ObjectId,
    pub kind: RootKind,
    pub thread_serial: Option<u32>,
    pub frame: Option<u32>,
}

/// Marks a shallow size too large for u32; the real value is in `large_sizes`.
const LARGE_SIZE: u32 = u32::MAX;

pub struct HeapIndex {
    source: DumpSource,
    header: Header,
    layout: ObjectLayout,
    classes: ClassTable,
    ids: IdMap,
    /// File offsets (dumps below 1 TiB).
    offsets: U40Vec,
    class_of: class_of::ClassOf,
    shallow: shallow::ShallowTable,
    large_sizes: FxHashMap<ObjectId, u64>,
    /// Object number of each class's class object, parallel to `classes`.
    class_objects: Vec<Option<ObjectId>>,
    /// (class object, class) sorted by object.
    class_by_object: Vec<(ObjectId, ClassIndex)>,
    roots: Vec<Root>,
    threads: Vec<ThreadInfo>,
    utf8: FxHashMap<u64, (u64, u32)>,
    warnings: Vec<String>,
    dumps: DumpList,
    /// Built by the first query for instances of classes.
    few_instances: std::sync::OnceLock<few_instances::FewInstances>,
}

impl HeapIndex {
    /// Opens, maps and indexes a dump (plain or gzip).
    pub fn open(path: &Path, progress: &Progress) -> Result<HeapIndex, HprofError> {
        let source = DumpSource::open(path, progress)?;
        build::build(source, progress)
    }

    /// Indexes an already opened source.
    pub fn from_source(source: DumpSource, progress: &Progress) -> Result<HeapIndex, HprofError> {
        build::build(source, progress)
    }

    pub fn source(&self) -> &DumpSource {
        &self.source
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn layout(&self) -> &ObjectLayout {
        &self.layout
    }

    pub fn classes(&self) -> &ClassTable {
        &self.classes
    }

    pub fn object_count(&self) -> usize {
        self.ids.len()
    }

    /// The dump's identifier (address) of an object.
    #[inline]
    pub fn address(&self, o: ObjectId) -> u64 {
        self.ids.id(o)
    }

    /// The object with this identifier, if the dump has it.
    #[inline]
    pub fn find(&self, address: u64) -> Option<ObjectId> {
        self.ids.get(address)
    }

    /// File offset (in the decompressed dump) of the object's sub-record.
    #[inline]
    pub fn offset(&self, o: ObjectId) -> u64 {
        self.offsets.get(o as usize).unwrap_or(0)
    }

    #[inline]
    pub fn class_of(&self, o: ObjectId) -> ClassIndex {
        self.class_of.get(o)
    }

    pub fn class_of_all(&self) -> &class_of::ClassOf {
        &self.class_of
    }

    /// Objects whose class is marked in `mask`, in object order: from the list of the
    /// classes with few instances (made by the first query) when it has them all, else by a
    /// scan of every object's class.
    pub fn objects_of_classes(&self, mask: &[bool]) -> Vec<ObjectId> {
        self.few_instances()
            .objects_of(mask)
            .unwrap_or_else(|| self.class_of.objects_of(mask))
    }

    /// Lists the instances of classes with few of them now, not at the first query for a
    /// class's instances (70 ms at 25.8 M objects, which the hints would wait for).
    pub fn prepare_instance_lists(&self) {
        self.few_instances();
    }

    fn few_instances(&self) -> &few_instances::FewInstances {
        self.few_instances
            .get_or_init(|| few_instances::FewInstances::new(&self.class_of, self.classes.len()))
    }

    #[inline]
    pub fn shallow_size(&self, o: ObjectId) -> u64 {
        self.whole_size(o, self.shallow.get(o, self.class_of.get(o)))
    }

    /// `o`'s size from the table's value `s`: [`LARGE_SIZE`] stands for one kept apart.
    #[inline]
    fn whole_size(&self, o: ObjectId, s: u32) -> u64 {
        match s {
            LARGE_SIZE => self
                .large_sizes
                .get(&o)
                .copied()
                .unwrap_or(LARGE_SIZE as u64),
            s => s as u64,
        }
    }

    /// `f(o, class, shallow size)` for the objects of `range` in order, as `class_of` and
    /// `shallow_size` give them, in one pass: no rank per object for the sizes that vary.
    #[inline]
    pub fn for_each_class_and_size(
        &self,
        range: std::ops::Range<ObjectId>,
        mut f: impl FnMut(ObjectId, ClassIndex, u64),
    ) {
        self.shallow.for_each_in(&self.class_of, range, |o, c, s| {
            f(o, c, self.whole_size(o, s))
        })
    }

    /// Drops the mapped file pages under objects a pass is done reading (resident file pages
    /// count against the process's memory; one read maps a whole page-cache folio). Objects
    /// in address order are mostly in file order, so their records merge into a few spans.
    pub fn release_pages(&self, objects: impl IntoIterator<Item = ObjectId>) {
        const GAP: u64 = 1 << 20;
        let mut span: Option<(u64, u64)> = None;
        for o in objects {
            let at = self.offset(o);
            span = match span {
                Some((lo, hi)) if at >= lo && at <= hi + GAP => Some((lo, hi.max(at))),
                Some((lo, hi)) => {
                    self.source.release(lo as usize, (hi - lo) as usize + 1);
                    Some((at, at))
                }
                None => Some((at, at)),
            };
        }
        if let Some((lo, hi)) = span {
            self.source.release(lo as usize, (hi - lo) as usize + 1);
        }
    }

    /// Drops every mapped file page.
    pub fn release_all_pages(&self) {
        self.source.release(0, self.source.bytes().len());
        // Parked or loaded from an index file, the offsets were paged in by the reads.
        self.offsets.release_pages();
    }

    /// If `o` is a class object, the class it stands for.
    #[inline]
    pub fn class_for_object(&self, o: ObjectId) -> Option<ClassIndex> {
        if self.class_of(o) != self.classes.class_class {
            return None;
        }
        self.class_by_object
            .binary_search_by_key(&o, |&(obj, _)| obj)
            .ok()
            .map(|i| self.class_by_object[i].1)
    }

    /// The class object of a class (classes heapsight synthesised have none).
    pub fn class_object(&self, c: ClassIndex) -> Option<ObjectId> {
        self.class_objects.get(c as usize).copied().flatten()
    }

    pub fn roots(&self) -> &[Root] {
        &self.roots
    }

    /// Number of GC roots of each kind, by the kind's name.
    pub fn roots_by_kind(&self) -> std::collections::BTreeMap<&'static str, u64> {
        let mut kinds = std::collections::BTreeMap::new();
        for r in &self.roots {
            *kinds.entry(r.kind.as_str()).or_insert(0u64) += 1;
        }
        kinds
    }

    pub fn threads(&self) -> &[ThreadInfo] {
        &self.threads
    }

    /// Problems met while reading that did not stop it.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The heap dumps of the file and the one indexed.
    pub fn dumps(&self) -> &DumpList {
        &self.dumps
    }

    /// A UTF8 record's text.
    pub fn utf8(&self, id: u64) -> Option<&str> {
        let &(off, len) = self.utf8.get(&id)?;
        let bytes = self
            .source
            .bytes()
            .get(off as usize..off as usize + len as usize)?;
        std::str::from_utf8(bytes).ok()
    }

    /// Sum of all shallow sizes.
    pub fn total_shallow_bytes(&self) -> u64 {
        use rayon::prelude::*;
        object_ranges(self.object_count())
            .map(|range| {
                let mut sum = 0;
                self.for_each_class_and_size(range, |_, _, s| sum += s);
                sum
            })
            .sum()
    }

    /// Moves the file offsets out of anonymous memory into a temporary file in `dir`
    /// ([`store::park`]): the graph passes do not read them, and reading objects afterwards
    /// pages them back in.
    pub fn park_offsets(&mut self, dir: &std::path::Path) {
        let offsets = std::mem::replace(&mut self.offsets, U40Vec::new(&[]));
        self.offsets = offsets.park(dir);
    }

    /// Approximate memory held by the index itself (not the mapped dump).
    pub fn memory_bytes(&self) -> usize {
        self.ids.memory_bytes()
            + self.offsets.memory_bytes()
            + self.class_of.memory_bytes()
            + self.shallow.memory_bytes()
    }
}

/// Objects per run of a pass in object order on every core ([`object_ranges`]).
pub const OBJECT_RUN: usize = 1 << 16;

/// The objects `0..n` in runs of [`OBJECT_RUN`], for passes in object order on every core.
pub fn object_ranges(
    n: usize,
) -> impl rayon::iter::IndexedParallelIterator<Item = std::ops::Range<ObjectId>> {
    use rayon::prelude::*;
    (0..n.div_ceil(OBJECT_RUN))
        .into_par_iter()
        .map(move |k| (k * OBJECT_RUN) as ObjectId..((k + 1) * OBJECT_RUN).min(n) as ObjectId)
}
