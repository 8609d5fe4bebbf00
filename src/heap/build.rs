//! Building the index: the first pass (`scan`) finds chunks, class dumps and roots; the
//! second fills flat per-object arrays in parallel; then objects are numbered by address.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::classes::{build_class_table, ClassIndex, ClassTable};
use super::idmap::{IdMap, Order};
use super::layout;
use super::packed::{U40Vec, U40_LIMIT};
use super::reader::{
    apply_layout, layout_sample, ObjectReader, ObjectRecord, ReadProblems, ShallowSizes,
};
use super::scan::{scan_records, Scan};
use super::threads;
use super::{HeapIndex, ObjectId, Root, LARGE_SIZE};
use crate::hprof::{parse_header, DumpSource, Header, HprofError, RootKind};
use crate::progress::{Phase, Progress};

/// What every use of a dump starts from: its header, the first pass, and the class table.
pub(super) struct Prepared<'a> {
    pub header: Header,
    pub scan: Scan<'a>,
    pub classes: ClassTable,
    pub lookup: FxHashMap<u64, ClassIndex>,
    pub warnings: Vec<String>,
}

pub(super) fn prepare<'a>(
    source: &'a DumpSource,
    progress: &Progress,
) -> Result<Prepared<'a>, HprofError> {
    let data = source.bytes();
    let header = parse_header(data)?;
    progress.start(Phase::Read, data.len() as u64);
    let release = |start: usize, len: usize| source.release(start, len);
    let mut scan = scan_records(
        data,
        header.records_start,
        header.id_size,
        progress,
        &release,
    )?;

    let mut warnings = std::mem::take(&mut scan.warnings);
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
    let (classes, lookup) = build_class_table(&scan.class_dumps, &scan.class_names, &utf8_text);
    scan.class_dumps = Vec::new();
    Ok(Prepared {
        header,
        scan,
        classes,
        lookup,
        warnings,
    })
}

pub(super) fn build(source: DumpSource, progress: &Progress) -> Result<HeapIndex, HprofError> {
    let Prepared {
        header,
        scan,
        mut classes,
        lookup,
        mut warnings,
    } = prepare(&source, progress)?;
    let data = source.bytes();
    if data.len() as u64 >= U40_LIMIT {
        return Err(HprofError::TooLarge {
            bytes: data.len() as u64,
        });
    }
    let id_size = header.id_size;
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
    let problems = ReadProblems::default();
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
        parts
            .into_par_iter()
            .for_each(|(ch, ids, offs, cls, lens)| {
                if progress.is_cancelled() {
                    return;
                }
                let mut reader = ObjectReader::new(data, id_size, &classes, &lookup);
                let mut k = 0;
                reader.for_each(ch, |o| {
                    if k < ids.len() {
                        (ids[k], offs[k], cls[k], lens[k]) = (o.id, o.offset, o.class, o.length);
                        k += 1;
                    }
                });
                debug_assert_eq!(k, ch.objects, "chunk of object {}", ch.first_object);
                problems.add(&reader);
                for run in &ch.runs {
                    progress.add((run.end - run.start) as u64);
                    source.release(run.start, run.end - run.start);
                }
            });
    }
    if progress.is_cancelled() {
        return Err(HprofError::Cancelled);
    }
    problems.warn(&mut warnings);
    progress.mark("fill");

    // Layout, then shallow sizes, still in file order.
    let sample = layout_sample(
        classes.class_class,
        (0..n).map(|i| ObjectRecord {
            offset: offsets[i],
            id: ids[i],
            class: class_of[i],
            length: lens[i],
        }),
    );
    let layout = layout::detect(id_size, &classes, &sample);
    apply_layout(&mut classes, &layout);
    let (mut shallow, mut large_sizes) = {
        let sizes = ShallowSizes::new(&classes, &layout);
        let large = std::sync::Mutex::new(FxHashMap::default());
        let shallow: Vec<u32> = (0..n)
            .into_par_iter()
            .map(|i| {
                let size = sizes.of(class_of[i], lens[i]);
                if size < LARGE_SIZE as u64 {
                    return size as u32;
                }
                if let Ok(mut m) = large.lock() {
                    m.insert(i as ObjectId, size);
                }
                LARGE_SIZE
            })
            .collect();
        (shallow, large.into_inner().unwrap_or_default())
    };
    drop(lens);
    progress.mark("shallow");

    // Number objects by address.
    let (id_map, order) = IdMap::build(&ids);
    if !matches!(order, Order::Sorted) {
        let number = |i: usize| order.number(&id_map, &ids, i);
        (offsets, class_of, shallow) = scatter(number, &offsets, &class_of, &shallow);
        large_sizes = large_sizes
            .into_iter()
            .map(|(i, size)| (number(i as usize), size))
            .collect();
    }
    drop(order);
    drop(ids);
    let duplicates = id_map.duplicates();
    if duplicates > 0 {
        warnings.push(format!(
            "{duplicates} object identifiers occur more than once; references resolve to one of them"
        ));
    }
    progress.mark("number");

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

    let offsets = {
        let packed = U40Vec::new(&offsets);
        drop(offsets);
        packed
    };
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
    let root_stacks: FxHashMap<u32, u32> = raw_roots
        .iter()
        .filter(|r| r.kind == RootKind::ThreadObject)
        .filter_map(|r| Some((r.thread_serial?, r.stack_serial?)))
        .collect();
    index.threads = threads::build_threads(
        &index,
        &raw_threads,
        &traces,
        &frames,
        &class_serials,
        &class_names,
        &root_stacks,
    );
    Ok(index)
}

/// Moves the per-object arrays from file order to address order in one parallel pass:
/// position `i` goes to `to(i)`, a permutation of the positions.
fn scatter(
    to: impl Fn(usize) -> ObjectId + Sync,
    offsets: &[u64],
    class_of: &[ClassIndex],
    shallow: &[u32],
) -> (Vec<u64>, Vec<ClassIndex>, Vec<u32>) {
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
    let n = offsets.len();
    let mut out = (vec![0u64; n], vec![0; n], vec![0u32; n]);
    let dest = (
        Dest(out.0.as_mut_ptr()),
        Dest(out.1.as_mut_ptr()),
        Dest(out.2.as_mut_ptr()),
    );
    (0..n).into_par_iter().with_min_len(1 << 12).for_each(|i| {
        let r = to(i) as usize;
        if r < n {
            // SAFETY: in bounds (checked) and written once (permutation), while `out` lives.
            unsafe {
                dest.0.write(r, offsets[i]);
                dest.1.write(r, class_of[i]);
                dest.2.write(r, shallow[i]);
            }
        }
    });
    out
}
