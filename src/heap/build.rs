//! Building the index: one sequential scan of the records (which also finds chunk boundaries
//! inside heap-dump segments), then one parallel pass over the chunks that fills flat arrays.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::classes::{
    java_class_name, primitive_array_type, ClassIndex, ClassInfo, ClassKind, ClassTable, FieldInfo,
    StaticInfo,
};
use super::idmap::IdMap;
use super::layout::{self, LayoutSample};
use super::scan::{scan_records, Chunk, Scan};
use super::threads;
use super::{HeapIndex, ObjectId, Root, LARGE_SIZE};
use crate::hprof::{
    parse_header, BasicType, ClassDump, DumpSource, HprofError, SubRecord, SubRecordIter,
};
use crate::progress::{Phase, Progress};

pub(super) fn build(source: DumpSource, progress: &Progress) -> Result<HeapIndex, HprofError> {
    let data = source.bytes();
    let header = parse_header(data)?;
    let id_size = header.id_size;

    progress.start(Phase::Read, data.len() as u64);
    let release = |start: usize, len: usize| source.release(start, len);
    let scan = scan_records(data, header.records_start, id_size, progress, &release)?;

    let mut warnings = scan.warnings;
    if !scan.unknown_tags.is_empty() {
        let mut tags: Vec<_> = scan.unknown_tags.iter().collect();
        tags.sort();
        let list: Vec<String> = tags
            .iter()
            .map(|(t, n)| format!("0x{t:02x} ×{n}"))
            .collect();
        warnings.push(format!(
            "skipped {} records with unknown tags ({})",
            scan.unknown_tags.values().sum::<u32>(),
            list.join(", ")
        ));
    }

    let utf8_text = |id: u64| -> Option<&str> {
        let &(off, len) = scan.utf8.get(&id)?;
        std::str::from_utf8(data.get(off as usize..off as usize + len as usize)?).ok()
    };
    let (mut classes, class_lookup) =
        build_class_table(&scan.class_dumps, &scan.class_names, &utf8_text);
    let Scan {
        utf8,
        class_names,
        class_serials,
        frames,
        traces,
        threads: raw_threads,
        roots: raw_roots,
        chunks,
        objects: n,
        ..
    } = scan;

    // The parallel pass: fill per-object arrays in file order.
    progress.start(Phase::Index, data.len() as u64);
    let mut ids = vec![0u64; n];
    let mut offsets = vec![0u64; n];
    let mut class_of = vec![0u32; n];
    let mut lens = vec![0u32; n];
    let unknown_class = AtomicU64::new(0);
    let field_mismatch = AtomicU64::new(0);
    {
        let mut parts = Vec::with_capacity(chunks.len());
        let (mut ri, mut ro, mut rc, mut rl) = (
            ids.as_mut_slice(),
            offsets.as_mut_slice(),
            class_of.as_mut_slice(),
            lens.as_mut_slice(),
        );
        for ch in &chunks {
            let (a, b) = ri.split_at_mut(ch.objects);
            let (c, d) = ro.split_at_mut(ch.objects);
            let (e, f) = rc.split_at_mut(ch.objects);
            let (g, h) = rl.split_at_mut(ch.objects);
            parts.push((ch, a, c, e, g));
            (ri, ro, rc, rl) = (b, d, f, h);
        }
        let ctx = FillContext {
            data,
            id_size,
            classes: &classes,
            lookup: &class_lookup,
            unknown_class: &unknown_class,
            field_mismatch: &field_mismatch,
        };
        parts
            .into_par_iter()
            .for_each(|(ch, ids, offs, cls, lens)| {
                if progress.is_cancelled() {
                    return;
                }
                ctx.fill(ch, ids, offs, cls, lens);
                for run in &ch.runs {
                    progress.add((run.end - run.start) as u64);
                    source.release(run.start, run.end - run.start);
                }
            });
    }
    if progress.is_cancelled() {
        return Err(HprofError::Cancelled);
    }
    let unknown_class = unknown_class.into_inner();
    if unknown_class > 0 {
        warnings.push(format!(
            "{unknown_class} objects name a class the dump does not describe; counted as \"{UNKNOWN_CLASS}\""
        ));
    }
    let field_mismatch = field_mismatch.into_inner();
    if field_mismatch > 0 {
        warnings.push(format!(
            "{field_mismatch} instances have field data of a different length than their class declares"
        ));
    }

    progress.mark("fill");

    // Number objects by address.
    let (id_map, ranks) = IdMap::build(&ids);
    drop(ids);
    if let Some(ranks) = ranks {
        offsets = scatter(&offsets, &ranks);
        class_of = scatter(&class_of, &ranks);
        lens = scatter(&lens, &ranks);
    }
    let duplicates = id_map.duplicates();
    if duplicates > 0 {
        warnings.push(format!(
            "{duplicates} object identifiers occur more than once; references resolve to one of them"
        ));
    }
    progress.mark("number");

    // Layout, then shallow sizes.
    let samples: Vec<LayoutSample> = id_map
        .first_ids(200_000)
        .into_iter()
        .enumerate()
        .filter(|&(i, _)| class_of[i] != classes.class_class)
        .map(|(i, address)| LayoutSample {
            address,
            class: class_of[i],
            length: lens[i],
        })
        .collect();
    let layout = layout::detect(id_size, &classes, &samples);
    for c in 0..classes.classes.len() {
        let size = layout.instance_size(&classes, c as ClassIndex);
        classes.classes[c].instance_size = size;
    }
    let class_sizes: Vec<u32> = (0..classes.classes.len())
        .map(|c| layout.class_object_size(&classes, c as ClassIndex))
        .collect();
    let large = std::sync::Mutex::new(FxHashMap::default());
    let class_class = classes.class_class;
    progress.mark("layout");
    let shallow: Vec<u32> = (0..n)
        .into_par_iter()
        .map(|i| {
            let c = class_of[i];
            let size = if c == class_class {
                class_sizes.get(lens[i] as usize).copied().unwrap_or(0) as u64
            } else {
                match classes.classes[c as usize].kind {
                    ClassKind::Instance => classes.classes[c as usize].instance_size as u64,
                    ClassKind::ObjectArray => layout.array_size(BasicType::Object, lens[i]),
                    ClassKind::PrimitiveArray(t) => layout.array_size(t, lens[i]),
                }
            };
            if size >= LARGE_SIZE as u64 {
                if let Ok(mut m) = large.lock() {
                    m.insert(i as ObjectId, size);
                }
                LARGE_SIZE
            } else {
                size as u32
            }
        })
        .collect();
    let large_sizes = large.into_inner().unwrap_or_default();

    progress.mark("shallow");
    let mut class_objects = vec![None; classes.classes.len()];
    let mut class_by_object = Vec::new();
    for (ci, c) in classes.classes.iter().enumerate() {
        if c.dump_offset.is_some() {
            if let Some(o) = id_map.get(c.id) {
                class_objects[ci] = Some(o);
                class_by_object.push((o, ci as ClassIndex));
            }
        }
    }
    class_by_object.sort_unstable();
    drop(lens);

    let mut missing_roots = 0usize;
    let roots: Vec<Root> = raw_roots
        .iter()
        .filter_map(|r| {
            let o = id_map.get(r.object_id);
            if o.is_none() {
                missing_roots += 1;
            }
            Some(Root {
                object: o?,
                kind: r.kind,
                thread_serial: r.thread_serial,
                frame: r.frame,
            })
        })
        .collect();
    if missing_roots > 0 {
        warnings.push(format!(
            "{missing_roots} GC roots point to objects that are not in the dump; ignored"
        ));
    }

    let mut index = HeapIndex {
        source,
        header,
        layout,
        classes,
        ids: id_map,
        offsets,
        class_of,
        shallow,
        large_sizes,
        class_objects,
        class_by_object,
        roots,
        threads: Vec::new(),
        utf8,
        warnings,
    };
    progress.mark("roots");
    index.threads = threads::build_threads(
        &index,
        &raw_threads,
        &traces,
        &frames,
        &class_serials,
        &class_names,
    );
    Ok(index)
}

/// `out[to[i]] = values[i]`, in parallel; `to` must be a permutation of `0..values.len()`.
fn scatter<T: Copy + Default + Send + Sync>(values: &[T], to: &[ObjectId]) -> Vec<T> {
    struct Dest<T>(*mut T);
    // SAFETY: each slot is written by exactly one task (`to` is a permutation).
    unsafe impl<T: Send> Sync for Dest<T> {}
    unsafe impl<T: Send> Send for Dest<T> {}
    impl<T> Dest<T> {
        /// SAFETY: caller guarantees `i` is in bounds and written by no other task.
        unsafe fn write(&self, i: usize, v: T) {
            unsafe { *self.0.add(i) = v };
        }
    }
    let mut out = vec![T::default(); values.len()];
    let len = out.len();
    let dest = Dest(out.as_mut_ptr());
    values.par_iter().zip(to.par_iter()).for_each(|(&v, &r)| {
        if (r as usize) < len {
            // SAFETY: in bounds (checked) and written once (permutation), while `out` lives.
            unsafe { dest.write(r as usize, v) };
        }
    });
    out
}

pub(super) const UNKNOWN_CLASS: &str = "<unknown class>";

/// Builds the class table from CLASS DUMPs and LOAD CLASS names, adding the classes every
/// dump needs but may lack (primitive arrays, `java.lang.Class`, a placeholder).
fn build_class_table<'t>(
    dumps: &[(u64, ClassDump<'_>)],
    names: &FxHashMap<u64, u64>,
    utf8: &dyn Fn(u64) -> Option<&'t str>,
) -> (ClassTable, FxHashMap<u64, ClassIndex>) {
    let mut lookup: FxHashMap<u64, ClassIndex> = FxHashMap::default();
    let mut classes: Vec<ClassInfo> = Vec::with_capacity(dumps.len() + 16);
    let mut field_names: FxHashMap<u64, Arc<str>> = FxHashMap::default();
    let mut name_of = |id: u64| -> Arc<str> {
        field_names
            .entry(id)
            .or_insert_with(|| Arc::from(utf8(id).unwrap_or("<unnamed>")))
            .clone()
    };
    for (offset, d) in dumps {
        if lookup.contains_key(&d.class_id) {
            continue;
        }
        let name = names
            .get(&d.class_id)
            .and_then(|&n| utf8(n))
            .map(java_class_name)
            .unwrap_or_else(|| format!("<class 0x{:x}>", d.class_id));
        let kind = if let Some(t) = primitive_array_type(&name) {
            ClassKind::PrimitiveArray(t)
        } else if name.ends_with("[]") {
            ClassKind::ObjectArray
        } else {
            ClassKind::Instance
        };
        let fields: Vec<FieldInfo> = d
            .instance_fields()
            .map(|f| FieldInfo {
                name: name_of(f.name_id),
                ty: f.ty,
            })
            .collect();
        let statics = d
            .statics()
            .map(|s| StaticInfo {
                name: name_of(s.name_id),
                value: s.value,
            })
            .collect();
        lookup.insert(d.class_id, classes.len() as ClassIndex);
        classes.push(ClassInfo {
            id: d.class_id,
            name,
            kind,
            super_class: None,
            loader_id: d.loader_id,
            fields,
            statics,
            instance_size: 0,
            dump_offset: Some(*offset),
        });
    }
    for (offset, d) in dumps {
        if let (Some(&ci), Some(&si)) = (lookup.get(&d.class_id), lookup.get(&d.super_id)) {
            // Only the CLASS DUMP the class was built from (the first, if duplicated).
            if classes[ci as usize].dump_offset == Some(*offset) && si != ci {
                classes[ci as usize].super_class = Some(si);
            }
        }
    }
    let mut table = ClassTable {
        classes,
        class_class: 0,
        primitive_arrays: [0; 12],
    };
    let synthesize = |table: &mut ClassTable, name: &str, kind: ClassKind| -> ClassIndex {
        if let Some(i) = table.by_name(name).next() {
            return i;
        }
        table.classes.push(ClassInfo {
            id: 0,
            name: name.to_string(),
            kind,
            super_class: None,
            loader_id: 0,
            fields: Vec::new(),
            statics: Vec::new(),
            instance_size: 0,
            dump_offset: None,
        });
        (table.classes.len() - 1) as ClassIndex
    };
    table.class_class = synthesize(&mut table, "java.lang.Class", ClassKind::Instance);
    for t in BasicType::PRIMITIVES {
        let name = format!("{}[]", t.java_name());
        table.primitive_arrays[t as usize] =
            synthesize(&mut table, &name, ClassKind::PrimitiveArray(t));
    }
    synthesize(&mut table, UNKNOWN_CLASS, ClassKind::Instance);
    synthesize(&mut table, "java.lang.Object[]", ClassKind::ObjectArray);
    (table, lookup)
}

struct FillContext<'a> {
    data: &'a [u8],
    id_size: usize,
    classes: &'a ClassTable,
    lookup: &'a FxHashMap<u64, ClassIndex>,
    unknown_class: &'a AtomicU64,
    field_mismatch: &'a AtomicU64,
}

impl FillContext<'_> {
    fn fill(
        &self,
        ch: &Chunk,
        ids: &mut [u64],
        offs: &mut [u64],
        cls: &mut [u32],
        lens: &mut [u32],
    ) {
        let unknown = self.classes.by_name(UNKNOWN_CLASS).next().unwrap_or(0);
        let object_array = self
            .classes
            .by_name("java.lang.Object[]")
            .next()
            .unwrap_or(unknown);
        let mut last: (u64, ClassIndex) = (u64::MAX, 0);
        let mut resolve = |class_id: u64, fallback: ClassIndex, misses: &mut u64| -> ClassIndex {
            if last.0 == class_id {
                return last.1;
            }
            let c = match self.lookup.get(&class_id) {
                Some(&c) => c,
                None => {
                    *misses += 1;
                    return fallback;
                }
            };
            last = (class_id, c);
            c
        };
        let mut k = 0usize;
        let mut misses = 0u64;
        let mut mismatched = 0u64;
        let mut expected_bytes: FxHashMap<ClassIndex, usize> = FxHashMap::default();
        let runs = ch.runs.iter().flat_map(|run| {
            SubRecordIter::new(
                &self.data[run.start..run.end],
                run.start as u64,
                self.id_size,
            )
        });
        for r in runs {
            let Ok(r) = r else { break };
            if k >= ids.len() {
                break;
            }
            let (id, class, len) = match r.record {
                SubRecord::Instance {
                    id,
                    class_id,
                    fields,
                    ..
                } => {
                    let c = resolve(class_id, unknown, &mut misses);
                    let want = *expected_bytes.entry(c).or_insert_with(|| {
                        self.classes
                            .all_fields(c)
                            .map(|f| f.ty.size_in_dump(self.id_size))
                            .sum()
                    });
                    if want != fields.len() && c != unknown {
                        mismatched += 1;
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
                    resolve(class_id, object_array, &mut misses),
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
            ids[k] = id;
            offs[k] = r.offset;
            cls[k] = class;
            lens[k] = len;
            k += 1;
        }
        debug_assert_eq!(k, ch.objects, "chunk of object {}", ch.first_object);
        if misses > 0 {
            self.unknown_class.fetch_add(misses, Ordering::Relaxed);
        }
        if mismatched > 0 {
            self.field_mismatch.fetch_add(mismatched, Ordering::Relaxed);
        }
    }
}
