//! Building the index: the first pass (`scan`) finds chunks, class dumps, roots and object
//! identifiers, and keeps each object's offset, class reference and length; objects are
//! numbered by address; `chunk_objects::fill` places what was kept in flat per-object arrays
//! at those numbers, in parallel.

use rustc_hash::FxHashMap;

use super::chunk_objects::{fill, Filled};
use super::classes::{build_class_table, ClassIndex, ClassInfo, ClassKind, ClassTable};
use super::dumps::DumpList;
use super::idmap::IdMap;
use super::layout;
use super::packed::{U40Vec, U40_LIMIT};
use super::props;
use super::reader::{apply_layout, ShallowSizes};
use super::scan::{scan_records, Scan};
use super::shallow::ShallowTable;
use super::threads;
use super::vm::{self, Jdk};
use super::{HeapIndex, Root};
use crate::hprof::{parse_header, BasicType, DumpSource, Header, HprofError, RootKind};
use crate::progress::{Phase, Progress};

/// What every use of a dump starts from: its header, the first pass, and the class table.
pub(super) struct Prepared<'a> {
    pub header: Header,
    pub scan: Scan<'a>,
    pub classes: ClassTable,
    pub lookup: FxHashMap<u64, ClassIndex>,
    pub warnings: Vec<String>,
    pub dumps: DumpList,
}

/// `collect_objects` keeps every object's identifier (in `scan.ids`), in file order, and
/// what the index is filled from (`scan.objects_by_chunk`).
pub(super) fn prepare<'a>(
    source: &'a DumpSource,
    collect_objects: bool,
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
        collect_objects,
        source.selected_dump(),
        progress,
        &release,
    )?;

    let mut warnings = std::mem::take(&mut scan.warnings);
    let dumps = std::mem::take(&mut scan.dumps);
    warnings.extend(dumps.warning());
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
    let (mut classes, lookup) = build_class_table(&scan.class_dumps, &scan.class_names, &utf8_text);
    declare_filler_class(&mut classes);
    scan.class_dumps = Vec::new();
    Ok(Prepared {
        header,
        scan,
        classes,
        lookup,
        warnings,
        dumps,
    })
}

/// JDK 19+ VMs fill unused heap with `jdk.internal.vm.FillerElement[]` arrays, which the dump
/// writes as `int[]`; the analysis counts them under this class (see `analysis::fillers`).
fn declare_filler_class(classes: &mut ClassTable) {
    let name = "jdk.internal.vm.FillerElement[]";
    if vm::guess(classes).0 < Jdk::Jdk21 || classes.by_name(name).next().is_some() {
        return;
    }
    classes.classes.push(ClassInfo {
        id: 0,
        name: name.to_string(),
        kind: ClassKind::PrimitiveArray(BasicType::Int),
        super_class: None,
        loader_id: 0,
        fields: Vec::new(),
        statics: Vec::new(),
        instance_size: 0,
        dump_offset: None,
    });
}

pub(super) fn build(source: DumpSource, progress: &Progress) -> Result<HeapIndex, HprofError> {
    let Prepared {
        header,
        scan,
        mut classes,
        lookup,
        mut warnings,
        dumps,
    } = {
        let bytes = source.bytes().len() as u64;
        if bytes >= U40_LIMIT {
            return Err(HprofError::TooLarge { bytes });
        }
        prepare(&source, true, progress)?
    };
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
        ids,
        objects_by_chunk,
        ..
    } = scan;

    progress.mark("scan");
    // Number objects by address, from the identifiers the first pass collected.
    let (id_map, order) = IdMap::build(&ids);
    let duplicates = id_map.duplicates();
    if duplicates > 0 {
        warnings.push(format!(
            "{duplicates} object identifiers occur more than once; references resolve to one of them"
        ));
    }
    progress.mark("number");

    // What the first pass kept of each object, placed at its number.
    let first_objects: Vec<usize> = chunks.iter().map(|c| c.first_object).collect();
    let filled = fill(
        objects_by_chunk,
        &first_objects,
        ids,
        &id_map,
        order,
        &classes,
        &lookup,
        id_size,
        progress,
    );
    if progress.is_cancelled() {
        return Err(HprofError::Cancelled);
    }
    filled.warn(&mut warnings);
    let Filled {
        offsets,
        class_of,
        lens,
        sample,
        ..
    } = filled;
    progress.mark("fill");

    // Layout (sampled from the first objects in file order), then shallow sizes.
    let layout = layout::detect(id_size, &classes, &sample);
    apply_layout(&mut classes, &layout);

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
        // Objects in address order mostly sit close together in the file: 2.25 bytes each.
        let packed = U40Vec::blocks(&offsets);
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
        shallow: ShallowTable::empty(),
        large_sizes: FxHashMap::default(),
        class_objects,
        class_by_object,
        roots,
        threads: Vec::new(),
        utf8,
        warnings,
        dumps,
        few_instances: Default::default(),
    };
    progress.mark("roots");

    // The dump's own java.version, readable now, overrules the class shapes; then sizes.
    let java_version = props::system_properties(&index).remove("java.version");
    if java_version.is_some() {
        let checked = layout::cross_check(
            index.layout.clone(),
            java_version.as_deref(),
            id_size,
            &index.classes,
            &sample,
        );
        if checked.jdk != index.layout.jdk || checked.shape != index.layout.shape {
            apply_layout(&mut index.classes, &checked);
        }
        index.layout = checked;
    }
    drop(sample);
    progress.mark("java.version");
    let (shallow, large_sizes) = ShallowTable::new(
        &ShallowSizes::new(&index.classes, &index.layout),
        index.classes.len(),
        index.classes.class_class,
        index.class_of_all(),
        &lens,
    );
    drop(lens);
    index.shallow = shallow;
    index.large_sizes = large_sizes.into_iter().collect();
    progress.mark("shallow");
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
