//! Saving the heap index into an index file and mapping it back, so a reopened dump skips
//! the scan. Without the dump the index still answers everything but field values.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::dumps::DumpList;
use super::store::{Store, StoreError, StoreWriter};
use super::{ClassTable, HeapIndex, IdMap, ObjectId, ObjectLayout, Root, ThreadInfo, U40Vec};
use crate::hprof::{Compression, DumpSource, Header};

/// The small parts, serialised together.
#[derive(Serialize, Deserialize)]
struct HeapMeta {
    dump_path: String,
    compression: Compression,
    header: Header,
    layout: ObjectLayout,
    classes: ClassTable,
    large_sizes: Vec<(ObjectId, u64)>,
    class_objects: Vec<Option<ObjectId>>,
    class_by_object: Vec<(ObjectId, u32)>,
    roots: Vec<Root>,
    threads: Vec<ThreadInfo>,
    dumps: DumpList,
    warnings: Vec<String>,
}

fn corrupt(store: &Store, what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        path: store.path().display().to_string(),
        what: what.to_string(),
    }
}

impl HeapIndex {
    /// Adds the index's sections (`heap.…`) to an index file.
    pub fn save<'a>(&'a self, w: &mut StoreWriter<'a>) {
        let mut large_sizes: Vec<(ObjectId, u64)> =
            self.large_sizes.iter().map(|(&o, &s)| (o, s)).collect();
        large_sizes.sort_unstable();
        let meta = HeapMeta {
            dump_path: self.source.path().display().to_string(),
            compression: self.source.compression().clone(),
            header: self.header,
            layout: self.layout.clone(),
            classes: self.classes.clone(),
            large_sizes,
            class_objects: self.class_objects.clone(),
            class_by_object: self.class_by_object.clone(),
            roots: self.roots.clone(),
            threads: self.threads.clone(),
            dumps: self.dumps.clone(),
            warnings: self.warnings.clone(),
        };
        // Serialising plain data into a Vec cannot fail.
        w.bytes("heap.meta", postcard::to_stdvec(&meta).unwrap_or_default());
        self.ids.save("heap.ids", w);
        self.offsets.save_blocks("heap.offsets", w);
        self.class_of.save(w);
        self.shallow.save(w);
    }

    /// The index saved by [`HeapIndex::save`], its arrays mapped from the file. `source` is
    /// the dump, or `None` to browse the index alone (then object contents are unknown).
    pub fn load(store: &Store, source: Option<DumpSource>) -> Result<HeapIndex, StoreError> {
        let meta: HeapMeta = postcard::from_bytes(store.bytes("heap.meta")?)
            .map_err(|e| corrupt(store, format_args!("heap.meta: {e}")))?;
        let ids = IdMap::load(store, "heap.ids")?;
        let offsets = U40Vec::load_blocks(store, "heap.offsets")?;
        let class_of = super::class_of::ClassOf::load(store)?;
        let n = ids.len();
        let classes = meta.classes.len();
        let shallow = super::shallow::ShallowTable::load(store, n, classes)?;
        if offsets.len() != n || class_of.len() != n {
            return Err(corrupt(store, "per-object arrays of different lengths"));
        }
        // Out-of-range numbers would panic later: the checksums make this nearly impossible,
        // but a cheap check keeps a bad file from ever crashing a view.
        if !class_of.all_below(classes) || meta.roots.iter().any(|r| r.object as usize >= n) {
            return Err(corrupt(store, "object or class number out of range"));
        }
        let source = source.unwrap_or_else(|| {
            DumpSource::absent(std::path::Path::new(&meta.dump_path), meta.compression)
        });
        Ok(HeapIndex {
            source,
            header: meta.header,
            layout: meta.layout,
            classes: meta.classes,
            ids,
            offsets,
            class_of,
            shallow,
            large_sizes: meta.large_sizes.into_iter().collect::<FxHashMap<_, _>>(),
            class_objects: meta.class_objects,
            class_by_object: meta.class_by_object,
            roots: meta.roots,
            threads: meta.threads,
            dumps: meta.dumps,
            few_instances: Default::default(),
            utf8: FxHashMap::default(),
            warnings: meta.warnings,
        })
    }

    /// Whether the dump's bytes are at hand (not when browsing an index file alone): field
    /// values, strings and array contents need them.
    pub fn has_dump(&self) -> bool {
        !self.source.bytes().is_empty()
    }
}
