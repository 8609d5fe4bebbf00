//! Whole-dump tests on dumps written by `support::hprof_writer`: through the library API
//! (`HeapIndex`, histogram, fields, strings, threads) and through the CLI (`report --json`).

#![allow(clippy::unwrap_used)] // a test may panic on what it did not expect

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use heapsight::analysis::histogram::{histogram, size_distribution, SIZE_BUCKETS};
use heapsight::analysis::{Analysis, AnalysisOptions};
use heapsight::heap::{Census, ClassKind, HeapIndex, ObjectId};
use heapsight::hprof::{BasicType, Compression, FormatVersion, RootKind, Value};
use heapsight::progress::Progress;
use proptest::prelude::*;
use support::census::assert_census_matches;
use support::hprof_writer::*;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn write_dump(dump: &Dump, name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dump.write_to(dir.path(), name);
    (dir, path)
}

/// Opens the index, and checks on the way that the census (`report --histogram-only`) tells
/// the same as the index's histogram report.
fn open(path: &Path) -> HeapIndex {
    let index = HeapIndex::open(path, &Progress::new())
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let census = Census::open(path, &Progress::new())
        .unwrap_or_else(|e| panic!("the census cannot open {}: {e}", path.display()));
    assert_census_matches(&census, &index);
    index
}

/// Writes and opens a builder's dump; the temp dir lives as long as the index needs it.
fn open_built(b: &HeapBuilder) -> (tempfile::TempDir, HeapIndex, Dump) {
    let dump = b.build();
    let (dir, path) = write_dump(&dump, "dump.hprof");
    let index = open(&path);
    (dir, index, dump)
}

fn layout_of(index: &HeapIndex) -> LayoutSpec {
    let l = index.layout();
    LayoutSpec {
        header: l.header as u64,
        reference: l.reference as u64,
        array_base: l.array_base as u64,
        array_base_wide: l.array_base_wide as u64,
        alignment: l.alignment as u64,
    }
}

/// Histogram by class name: (instances, shallow bytes).
fn histogram_by_name(index: &HeapIndex) -> BTreeMap<String, (u64, u64)> {
    let mut out = BTreeMap::new();
    for r in histogram(index).rows {
        let e: &mut (u64, u64) = out
            .entry(index.classes().get(r.class).name.clone())
            .or_default();
        e.0 += r.count;
        e.1 += r.shallow_bytes;
    }
    out
}

/// The index counts exactly what the builder wrote, sized with the layout the index reports.
fn assert_matches_builder(index: &HeapIndex, b: &HeapBuilder) {
    let expected = b.expected_histogram(&layout_of(index));
    assert_eq!(histogram_by_name(index), expected.per_class);
    assert_eq!(index.object_count() as u64, expected.objects);
    assert_eq!(index.total_shallow_bytes(), expected.shallow_bytes);
    let h = histogram(index);
    assert_eq!(h.total_count, expected.objects);
    assert_eq!(h.total_shallow_bytes, expected.shallow_bytes);
    // The overview's size chart, against one object at a time.
    let mut naive = vec![(0u64, 0u64); SIZE_BUCKETS];
    for o in 0..index.object_count() as ObjectId {
        let s = index.shallow_size(o);
        let bucket = (64 - s.max(1).leading_zeros() as usize).min(SIZE_BUCKETS - 1);
        naive[bucket].0 += 1;
        naive[bucket].1 += s;
    }
    assert_eq!(size_distribution(index), naive);
    // Every object is found by its address, numbered in address order, of the right class.
    let mut prev = None;
    for o in 0..index.object_count() as ObjectId {
        let a = index.address(o);
        assert!(prev < Some(a), "objects not numbered by address");
        prev = Some(a);
    }
    for obj in &b.objects {
        let o = index.find(obj.id).expect("object by address");
        assert_eq!(index.address(o), obj.id);
        assert_eq!(
            index.classes().get(index.class_of(o)).name,
            b.object_class_name(obj)
        );
    }
    for c in &b.classes {
        let o = index.find(c.id).expect("class object by address");
        let ci = index.class_for_object(o).expect("a class object");
        assert_eq!(index.classes().get(ci).name, c.name);
        assert_eq!(index.class_object(ci), Some(o));
        assert_eq!(
            index.classes().get(index.class_of(o)).name,
            "java.lang.Class"
        );
    }
}

fn to_value(v: Val) -> Value {
    match v {
        Val::Object(x) => Value::Object(x),
        Val::Boolean(x) => Value::Boolean(x),
        Val::Char(x) => Value::Char(x),
        Val::Float(x) => Value::Float(x),
        Val::Double(x) => Value::Double(x),
        Val::Byte(x) => Value::Byte(x),
        Val::Short(x) => Value::Short(x),
        Val::Int(x) => Value::Int(x),
        Val::Long(x) => Value::Long(x),
    }
}

fn cli_report(path: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_heapsight"))
        .arg("report")
        .arg(path)
        .arg("--json")
        .output()
        .expect("run heapsight");
    assert!(
        out.status.success(),
        "heapsight report failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

fn roots_by_kind(index: &HeapIndex) -> BTreeMap<&'static str, u64> {
    let mut m = BTreeMap::new();
    for r in index.roots() {
        *m.entry(r.kind.as_str()).or_default() += 1;
    }
    m
}

/// Roots the builder wrote, by report name (thread objects of HotSpot-style threads included).
fn expected_roots(b: &HeapBuilder) -> BTreeMap<&'static str, u64> {
    let mut m = BTreeMap::new();
    for r in &b.roots {
        *m.entry(r.report_name()).or_default() += 1;
    }
    for t in &b.threads {
        if t.style == ThreadStyle::RootThreadObject {
            *m.entry("thread_object").or_default() += 1;
        }
    }
    m
}

fn small_heap(id_size: usize) -> HeapBuilder {
    realistic_heap(id_size, 60)
}

// ---------------------------------------------------------------------------------------------
// Identifier sizes, versions, segments
// ---------------------------------------------------------------------------------------------

#[test]
fn every_id_size_version_and_segmentation_reads_the_same_heap() {
    for id_size in [4, 8] {
        for version in Version::ALL {
            for segments in [0, 1, 3] {
                let b = small_heap(id_size).version(version).segments(segments);
                let (_dir, index, _) = open_built(&b);
                let what = format!("id {id_size}, {version:?}, {segments} segments");
                assert_eq!(index.header().id_size, id_size, "{what}");
                assert_eq!(
                    index.header().version,
                    match version {
                        Version::V101 => FormatVersion::V101,
                        Version::V102 => FormatVersion::V102,
                        Version::V103 => FormatVersion::V103Android,
                    },
                    "{what}"
                );
                assert_eq!(index.header().timestamp_ms, b.timestamp_ms, "{what}");
                assert!(
                    index.warnings().is_empty(),
                    "{what}: {:?}",
                    index.warnings()
                );
                assert_matches_builder(&index, &b);
                assert_eq!(roots_by_kind(&index), expected_roots(&b), "{what}");
            }
        }
    }
}

#[test]
fn four_byte_ids_use_the_32_bit_layout() {
    let (_dir, index, _) = open_built(&small_heap(4));
    assert_eq!(layout_of(&index), LayoutSpec::BITS32);
}

#[test]
fn eight_byte_ids_keep_the_high_address_bits() {
    // Near the top of the address space (objects spread over the whole space are in
    // bad_input.rs).
    let mut b = HeapBuilder::with_addresses(
        Version::V102,
        8,
        StringStyle::Compact,
        0xFFFF_FFF0_0000_0000,
        0xFFFF_FFEF_FF00_0000,
    )
    .addressing(Addressing::Spaced {
        base: 0xFFFF_FFF0_0000_0000,
        step: 0x10_0010,
    });
    let obj = b.object_class;
    let c = b.class("Holder", Some(obj), &[("ref", Ty::Object), ("n", Ty::Long)]);
    let first = b.instance(c);
    let second = b.instance_with(
        c,
        &[("ref", Val::Object(first)), ("n", Val::Long(i64::MIN))],
    );
    b.root(Root::JniGlobal {
        object: second,
        jni_ref: 0xFFFF_FFFF_FFFF_FFF8,
    });
    let (_dir, index, _) = open_built(&b);
    assert_matches_builder(&index, &b);
    let o = index.find(second).unwrap();
    assert_eq!(index.address(o), 0xFFFF_FFF0_0010_0010);
    assert_eq!(index.field(o, "ref"), Some(Value::Object(first)));
    assert_eq!(index.field_object(o, "ref"), index.find(first));
    assert_eq!(index.field(o, "n"), Some(Value::Long(i64::MIN)));
}

#[test]
fn heap_dump_end_of_length_zero_and_records_after_it() {
    // Segments, then HEAP DUMP END (length 0), then more records: all read.
    let b = small_heap(8)
        .segments(2)
        .extra_record(Placement::End, tag::HEAP_SUMMARY, &[0u8; 24]);
    let (_dir, index, dump) = open_built(&b);
    let end = *dump.record_starts.iter().rev().nth(1).unwrap();
    assert_eq!(&dump.raw[end..end + 9], &[0x2C, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert!(index.warnings().is_empty(), "{:?}", index.warnings());
    assert_matches_builder(&index, &b);
}

#[test]
fn a_single_heap_dump_with_length_zero_is_read_to_the_end() {
    // A JVM that crashed while dumping leaves the HEAP DUMP's length 0.
    for id_size in [4, 8] {
        for end_record in [false, true] {
            let b = small_heap(id_size)
                .heap_dump_length(0)
                .heap_dump_end(end_record);
            let (_dir, index, _) = open_built(&b);
            assert_matches_builder(&index, &b);
            assert_eq!(roots_by_kind(&index), expected_roots(&b));
        }
    }
}

#[test]
fn empty_heap_dump_segments_are_fine() {
    let mut b = HeapBuilder::new(8).segments(1);
    let c = b.class("Lonely", None, &[]);
    b.instance(c);
    b.segments = 5; // more segments than sub-records: some segments are empty
    let (_dir, index, _) = open_built(&b);
    assert_matches_builder(&index, &b);
}

#[test]
fn a_header_only_file_is_an_empty_heap() {
    let bytes = HprofWriter::new(Version::V102, 8, 7).finish();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("header-only.hprof");
    std::fs::write(&path, bytes).unwrap();
    let index = open(&path);
    assert_eq!(index.object_count(), 0);
    assert_eq!(index.header().timestamp_ms, 7);
    assert!(histogram(&index).rows.is_empty());
    let report = cli_report(&path);
    assert_eq!(report["summary"]["objects"], 0);
}

// ---------------------------------------------------------------------------------------------
// Record order
// ---------------------------------------------------------------------------------------------

#[test]
fn names_and_stack_traces_after_the_heap_and_instances_before_their_classes() {
    for segments in [0, 2] {
        let b = small_heap(8)
            .order(Order::MetadataLast)
            .instances_before_classes(true)
            .segments(segments);
        let (_dir, index, _) = open_built(&b);
        assert!(index.warnings().is_empty(), "{:?}", index.warnings());
        assert_matches_builder(&index, &b);
        let node = index.classes().by_name("com.example.Node").next().unwrap();
        let names: Vec<&str> = index
            .classes()
            .get(node)
            .fields
            .iter()
            .map(|f| &*f.name)
            .collect();
        assert_eq!(names[..2], ["next", "value"]);
        let t = &index.threads()[0];
        assert_eq!(t.name, "main");
        assert_eq!(t.frames[0].method, "com.example.Main.work");
    }
}

#[test]
fn objects_written_out_of_address_order_are_numbered_by_address() {
    let b = small_heap(8).shuffle(42).segments(3);
    let (_dir, index, _) = open_built(&b);
    assert_matches_builder(&index, &b);
    // Field references still resolve after the renumbering.
    for obj in &b.objects {
        if let ObjKind::Instance { class, values } = &obj.kind {
            let o = index.find(obj.id).unwrap();
            let fields = index.fields(o);
            let want: Vec<Value> = values.iter().map(|v| to_value(*v)).collect();
            let got: Vec<Value> = fields.iter().map(|f| f.value).collect();
            assert_eq!(
                got,
                want,
                "fields of 0x{:x} ({})",
                obj.id,
                b.class_def(*class).name
            );
        }
    }
}

#[test]
fn more_classes_than_two_bytes_number_keep_four_byte_class_numbers() {
    // Class numbers past 65,535 (`ClassOf::Wide`), some with instances, in two segments so
    // that several chunks name them; class objects far below the instances (the builder's
    // usual gap holds 32,768 classes).
    let base = 0x0000_0007_1000_0000;
    let mut b = HeapBuilder::with_addresses(Version::V102, 8, StringStyle::Compact, base, base / 2)
        .segments(2);
    let obj = b.object_class;
    for k in 0..66_000 {
        let c = b.class(&format!("p.C{k}"), Some(obj), &[]);
        if k % 1000 == 999 || k >= 65_530 {
            b.instance(c);
        }
    }
    let (_dir, index, _) = open_built(&b);
    assert!(index.classes().len() > 1 << 16);
    assert_matches_builder(&index, &b);
}

// ---------------------------------------------------------------------------------------------
// GC roots
// ---------------------------------------------------------------------------------------------

#[test]
fn roots_of_every_kind_are_counted_under_their_names() {
    let mut b = HeapBuilder::with(Version::V103, 4, StringStyle::Compact).segments(2);
    let obj = b.object_class;
    let c = b.class("Rooted", Some(obj), &[]);
    let t = b.thread(
        "worker",
        &[FrameDef::new("Rooted", "run", "Rooted.java", 3)],
    );
    let mut kinds = Vec::new();
    for (i, r) in Root::every_kind(0, t.serial).into_iter().enumerate() {
        let o = b.instance(c);
        // Each kind once, the thread-bound ones on the thread (ThreadObject on its own serial,
        // so it does not replace the worker's thread object).
        let r = match r {
            Root::ThreadObject { .. } => Root::ThreadObject {
                object: o,
                thread: 77,
                stack: 0,
            },
            other => with_object(other, o),
        };
        b.root(r);
        kinds.push((i, r));
    }
    b.root(Root::StickyClass(c));
    let (_dir, index, dump) = open_built(&b);
    let want = expected_roots(&b);
    assert_eq!(roots_by_kind(&index), want);
    let mut all_kinds: Vec<&str> = RootKind::ALL.iter().map(|k| k.as_str()).collect();
    all_kinds.sort();
    assert_eq!(want.keys().copied().collect::<Vec<_>>(), all_kinds);
    for (_, r) in &kinds {
        let o = index.find(r.object()).unwrap();
        assert!(
            index
                .roots()
                .iter()
                .any(|x| x.object == o && x.kind.as_str() == r.report_name()),
            "{r:?}"
        );
    }
    // And through the CLI.
    let (_dir2, path) = write_dump(&dump, "roots.hprof");
    let report = cli_report(&path);
    let gc_roots = report["summary"]["gc_roots"].as_object().unwrap();
    for (name, n) in &want {
        assert_eq!(gc_roots[*name], *n, "{name}");
    }
    assert_eq!(gc_roots.len(), want.len());
}

fn with_object(r: Root, o: u64) -> Root {
    match r {
        Root::Unknown(_) => Root::Unknown(o),
        Root::JniGlobal { jni_ref, .. } => Root::JniGlobal { object: o, jni_ref },
        Root::JniLocal { thread, frame, .. } => Root::JniLocal {
            object: o,
            thread,
            frame,
        },
        Root::JavaFrame { thread, frame, .. } => Root::JavaFrame {
            object: o,
            thread,
            frame,
        },
        Root::NativeStack { thread, .. } => Root::NativeStack { object: o, thread },
        Root::StickyClass(_) => Root::StickyClass(o),
        Root::ThreadBlock { thread, .. } => Root::ThreadBlock { object: o, thread },
        Root::MonitorUsed(_) => Root::MonitorUsed(o),
        Root::ThreadObject { thread, stack, .. } => Root::ThreadObject {
            object: o,
            thread,
            stack,
        },
        Root::InternedString(_) => Root::InternedString(o),
        Root::Finalizing(_) => Root::Finalizing(o),
        Root::Debugger(_) => Root::Debugger(o),
        Root::ReferenceCleanup(_) => Root::ReferenceCleanup(o),
        Root::VmInternal(_) => Root::VmInternal(o),
        Root::JniMonitor { thread, frame, .. } => Root::JniMonitor {
            object: o,
            thread,
            frame,
        },
        Root::Unreachable(_) => Root::Unreachable(o),
    }
}

#[test]
fn roots_to_objects_not_in_the_dump_are_ignored_with_a_warning() {
    let mut b = small_heap(8);
    b.root(Root::JniGlobal {
        object: 0xDEAD_BEE0,
        jni_ref: 1,
    });
    let (_dir, index, _) = open_built(&b);
    assert!(
        index.warnings().iter().any(|w| w.contains("1 GC roots")),
        "{:?}",
        index.warnings()
    );
    let mut want = expected_roots(&b);
    *want.get_mut("jni_global").unwrap() -= 1;
    assert_eq!(roots_by_kind(&index), want);
}

// ---------------------------------------------------------------------------------------------
// Unknown and rare records
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_top_level_tags_are_skipped_with_a_warning() {
    let b = small_heap(8)
        .segments(2)
        .extra_record(Placement::Start, 0x42, b"vendor data")
        .extra_record(Placement::BeforeHeap, 0xAB, &[1, 2, 3, 4, 5])
        .extra_record(Placement::AfterHeap, 0x42, &[])
        .extra_record(Placement::End, 0xF0, &[0xFF; 100]);
    let (_dir, index, dump) = open_built(&b);
    assert_matches_builder(&index, &b);
    let w = index.warnings().join("\n");
    assert!(w.contains("unknown"), "{w}");
    assert!(
        w.contains("0x42") && w.contains("0xab") && w.contains("0xf0"),
        "{w}"
    );
    assert!(w.contains("skipped 4 records"), "{w}");
    let (_dir2, path) = write_dump(&dump, "unknown.hprof");
    let report = cli_report(&path);
    assert_eq!(report["warnings"].as_array().unwrap().len(), 1);
}

#[test]
fn unknown_tags_around_a_single_heap_dump_record() {
    // Unknown records before a single HEAP DUMP and at the end of the file, well away from it.
    let b = small_heap(4)
        .extra_record(Placement::Start, 0x42, b"vendor data")
        .extra_record(Placement::BeforeHeap, 0x99, &[7; 9])
        .extra_record(Placement::End, 0x42, &[]);
    let (_dir, index, _) = open_built(&b);
    assert_matches_builder(&index, &b);
    assert!(index.warnings().iter().any(|w| w.contains("unknown")));
}

#[test]
fn a_single_heap_dump_followed_directly_by_an_unknown_tag() {
    let b = small_heap(8).order(Order::MetadataLast).extra_record(
        Placement::AfterHeap,
        0x42,
        b"vendor",
    );
    let (_dir, index, _) = open_built(&b);
    assert_matches_builder(&index, &b);
    assert!(index.warnings().iter().any(|w| w.contains("unknown")));
}

#[test]
fn a_single_heap_dump_followed_by_a_name_and_an_unknown_tag() {
    // HEAP DUMP (correct length), a UTF8 record, then a record of an unknown tag. The declared
    // length is right, so the UTF8 record must be read as a name, not as a ROOT JNI GLOBAL
    // (tag 0x01) followed by garbage.
    let mut utf8 = 0x0ABC_DEF0u64.to_be_bytes().to_vec();
    utf8.extend_from_slice(b"a name after the heap");
    let b = small_heap(8)
        .extra_record(Placement::AfterHeap, tag::UTF8, &utf8)
        .extra_record(Placement::AfterHeap, 0x42, b"vendor");
    let (_dir, index, _) = open_built(&b);
    assert_eq!(index.utf8(0x0ABC_DEF0), Some("a name after the heap"));
    assert_eq!(roots_by_kind(&index), expected_roots(&b));
    assert_matches_builder(&index, &b);
    let w = index.warnings().join("\n");
    assert!(
        w.contains("skipped 1 records with unknown tags (0x42"),
        "{w}"
    );
    assert!(!w.contains("GC roots"), "{w}");
}

#[test]
fn heap_summary_unload_class_end_thread_and_constant_pools_are_accepted() {
    let mut b = small_heap(8).with_heap_summary();
    let id_size = b.id_size;
    let mut body = Vec::new();
    body.extend_from_slice(&7u32.to_be_bytes());
    b = b
        .extra_record(Placement::End, tag::UNLOAD_CLASS, &body)
        .extra_record(Placement::End, tag::END_THREAD, &body);
    // A class dump with a constant pool (HotSpot writes none; the format allows it).
    let mut subs = SubRecords::new(id_size);
    let cls = 0x0000_0007_0FFF_0000;
    subs.class_dump(&ClassDumpSpec {
        class_id: cls,
        super_id: b.object_class,
        constant_pool: vec![(1, Val::Int(5)), (2, Val::Object(0)), (3, Val::Double(1.5))],
        statics: vec![(b.name_id("K"), Val::Long(3))],
        fields: vec![(b.name_id("x"), Ty::Short)],
        instance_size: 2,
        ..Default::default()
    });
    subs.instance(0x0000_0007_0FFF_1000, 0, cls, &[Val::Short(-2)]);
    b.extra_sub_record(subs.bytes());
    b.name_id("WithPool");
    let (_dir, index, _) = open_built(&b);
    assert!(index.warnings().iter().all(|w| !w.contains("unknown")));
    let o = index.find(0x0000_0007_0FFF_1000).unwrap();
    assert_eq!(index.field(o, "x"), Some(Value::Short(-2)));
    let ci = index.class_for_object(index.find(cls).unwrap()).unwrap();
    let statics = &index.classes().get(ci).statics;
    assert_eq!(statics.len(), 1);
    assert_eq!(&*statics[0].name, "K");
    assert_eq!(statics[0].value, Value::Long(3));
}

// ---------------------------------------------------------------------------------------------
// gzip
// ---------------------------------------------------------------------------------------------

#[test]
fn gzip_is_detected_by_its_magic_even_with_an_hprof_name() {
    let b = small_heap(8).segments(2).gzip(Gzip::Single);
    let dump = b.build();
    assert_eq!(&dump.bytes[..2], &[0x1f, 0x8b]);
    let (_dir, path) = write_dump(&dump, "looks-plain.hprof");
    let index = open(&path);
    assert_matches_builder(&index, &b);
    assert_eq!(
        index.source().compression(),
        &Compression::Gzip {
            compressed_bytes: dump.bytes.len() as u64,
            block_size: None
        }
    );
    let report = cli_report(&path);
    assert_eq!(report["compressed"], true);
    assert_eq!(report["summary"]["objects"], index.object_count() as u64);
}

#[test]
fn chunked_gzip_of_several_members_is_read_whole() {
    // jcmd GC.heap_dump -gz: independent 1 MiB members, the first commented with the size.
    let mut b = small_heap(8).segments(2);
    let big = b.primitive_array(PrimData::Byte(
        (0..2_500_000u32).map(|i| (i * 7) as u8).collect(),
    ));
    b.root(Root::JniGlobal {
        object: big,
        jni_ref: 1,
    });
    let b = b.gzip(Gzip::Chunked {
        block_size: 1_048_576,
    });
    let dump = b.build();
    assert!(dump.raw.len() > 2 * 1_048_576);
    // Three members: count the gzip headers at member starts by decoding one at a time.
    let members = count_gzip_members(&dump.bytes);
    assert_eq!(members, dump.raw.len().div_ceil(1_048_576));
    let (_dir, path) = write_dump(&dump, "chunked.hprof");
    let index = open(&path);
    assert_matches_builder(&index, &b);
    assert_eq!(
        index.source().compression(),
        &Compression::Gzip {
            compressed_bytes: dump.bytes.len() as u64,
            block_size: Some(1_048_576)
        }
    );
    let o = index.find(big).unwrap();
    assert_eq!(index.array_length(o), Some(2_500_000));
}

fn count_gzip_members(mut bytes: &[u8]) -> usize {
    use std::io::Read;
    let mut n = 0;
    while !bytes.is_empty() {
        let mut d = flate2::bufread::GzDecoder::new(bytes);
        let mut sink = Vec::new();
        d.read_to_end(&mut sink).unwrap();
        let rest = d.into_inner();
        bytes = rest;
        n += 1;
    }
    n
}

// ---------------------------------------------------------------------------------------------
// Classes, fields, names
// ---------------------------------------------------------------------------------------------

#[test]
fn java_class_names_arrays_and_nested_classes() {
    let mut b = HeapBuilder::new(8).segments(1);
    let obj = b.object_class;
    let outer = b.class("com.example.Outer", Some(obj), &[]);
    let inner = b.class("com.example.Outer$Inner", Some(outer), &[("n", Ty::Int)]);
    let anon = b.class("com.example.Outer$1", Some(obj), &[]);
    let default_pkg = b.class("NoPackage", Some(obj), &[]);
    let i1 = b.instance(inner);
    let a1 = b.instance(anon);
    let d1 = b.instance(default_pkg);
    let ints = b.primitive_array(PrimData::Int(vec![1, 2, 3]));
    let objs = b.object_array("java.lang.Object[]", &[i1, a1, 0]);
    let inners = b.object_array("com.example.Outer$Inner[]", &[i1]);
    let bytes2 = b.primitive_array(PrimData::Byte(vec![9]));
    let matrix = b.object_array("byte[][]", &[bytes2, 0]);
    let grid = b.object_array("java.lang.Object[][]", &[objs]);
    for t in Ty::PRIMITIVES {
        b.primitive_array(PrimData::zeros(t, 3));
    }
    let (_dir, index, _) = open_built(&b);
    assert_matches_builder(&index, &b);
    let name_of = |id: u64| {
        let o = index.find(id).unwrap();
        index.classes().get(index.class_of(o)).name.clone()
    };
    assert_eq!(name_of(i1), "com.example.Outer$Inner");
    assert_eq!(name_of(a1), "com.example.Outer$1");
    assert_eq!(name_of(d1), "NoPackage");
    assert_eq!(name_of(ints), "int[]");
    assert_eq!(name_of(objs), "java.lang.Object[]");
    assert_eq!(name_of(inners), "com.example.Outer$Inner[]");
    assert_eq!(name_of(matrix), "byte[][]");
    assert_eq!(name_of(grid), "java.lang.Object[][]");
    let kind_of = |name: &str| {
        let c = index.classes().by_name(name).next().unwrap();
        index.classes().get(c).kind
    };
    assert_eq!(kind_of("int[]"), ClassKind::PrimitiveArray(BasicType::Int));
    assert_eq!(
        kind_of("boolean[]"),
        ClassKind::PrimitiveArray(BasicType::Boolean)
    );
    assert_eq!(kind_of("java.lang.Object[]"), ClassKind::ObjectArray);
    assert_eq!(kind_of("byte[][]"), ClassKind::ObjectArray);
    assert_eq!(kind_of("com.example.Outer$Inner"), ClassKind::Instance);
    let inner_ci = index
        .classes()
        .by_name("com.example.Outer$Inner")
        .next()
        .unwrap();
    assert_eq!(index.classes().get(inner_ci).package(), "com.example");
    let outer_ci = index.classes().by_name("com.example.Outer").next().unwrap();
    assert_eq!(index.classes().get(inner_ci).super_class, Some(outer_ci));
    assert!(index
        .describe(index.find(ints).unwrap())
        .starts_with("int[3] @ 0x"));
    assert_eq!(index.array_length(index.find(objs).unwrap()), Some(3));
    // Histogram rows carry the Java names too.
    let hist = histogram_by_name(&index);
    for name in [
        "int[]",
        "java.lang.Object[]",
        "byte[][]",
        "com.example.Outer$Inner",
    ] {
        assert!(hist.contains_key(name), "{name}");
    }
}

#[test]
fn instance_fields_of_every_type_in_dump_order_with_superclass_fields() {
    for id_size in [4, 8] {
        let mut b = HeapBuilder::new(id_size);
        let obj = b.object_class;
        let base = b.class(
            "Base",
            Some(obj),
            &[("shadowed", Ty::Int), ("baseRef", Ty::Object)],
        );
        let fields: Vec<(String, Ty)> = Ty::ALL
            .iter()
            .map(|t| (format!("f_{}", t.java_name().replace('.', "_")), *t))
            .chain([("shadowed".to_string(), Ty::Long)])
            .collect();
        let field_refs: Vec<(&str, Ty)> = fields.iter().map(|(n, t)| (n.as_str(), *t)).collect();
        let derived = b.class("Derived", Some(base), &field_refs);
        let target = b.instance(base);
        let vals = [
            Val::Object(target),
            Val::Boolean(true),
            Val::Char(0x263A),
            Val::Float(-1.25),
            Val::Double(std::f64::consts::PI),
            Val::Byte(-128),
            Val::Short(-32768),
            Val::Int(i32::MIN),
            Val::Long(i64::MAX),
            Val::Long(-5), // Derived.shadowed
        ];
        let o = b.instance(derived);
        for ((name, _), v) in fields.iter().zip(vals) {
            b.set(o, name, v);
        }
        // Base's own `shadowed` and `baseRef` come after Derived's fields.
        if let ObjKind::Instance { values, .. } = &mut b.objects.last_mut().unwrap().kind {
            let n = values.len();
            values[n - 2] = Val::Int(77);
            values[n - 1] = Val::Object(target);
        }
        b.add_static(derived, "S_INT", Val::Int(12));
        b.add_static(derived, "S_REF", Val::Object(target));
        b.add_static(derived, "S_DOUBLE", Val::Double(2.5));
        let (_dir, index, _) = open_built(&b);
        assert_matches_builder(&index, &b);
        let io = index.find(o).unwrap();
        let got = index.fields(io);
        assert_eq!(got.len(), fields.len() + 2);
        for (g, ((name, _), v)) in got.iter().zip(fields.iter().zip(vals)) {
            assert_eq!(&*g.name, name.as_str());
            assert_eq!(g.value, to_value(v), "{name}");
            assert_eq!(index.classes().get(g.declared_by).name, "Derived");
        }
        let tail = &got[fields.len()..];
        assert_eq!(&*tail[0].name, "shadowed");
        assert_eq!(tail[0].value, Value::Int(77));
        assert_eq!(index.classes().get(tail[0].declared_by).name, "Base");
        assert_eq!(tail[1].value, Value::Object(target));
        // `field` picks the most derived one.
        assert_eq!(index.field(io, "shadowed"), Some(Value::Long(-5)));
        assert_eq!(index.field(io, "baseRef"), Some(Value::Object(target)));
        assert_eq!(
            index.field_object(io, "f_java_lang_Object"),
            index.find(target)
        );
        assert_eq!(index.field(io, "nope"), None);
        // Statics.
        let ci = index.classes().by_name("Derived").next().unwrap();
        let statics: Vec<(String, Value)> = index
            .classes()
            .get(ci)
            .statics
            .iter()
            .map(|s| (s.name.to_string(), s.value))
            .collect();
        assert_eq!(
            statics,
            vec![
                ("S_INT".to_string(), Value::Int(12)),
                ("S_REF".to_string(), Value::Object(target)),
                ("S_DOUBLE".to_string(), Value::Double(2.5)),
            ]
        );
    }
}

#[test]
fn a_duplicated_class_dump_does_not_lose_later_superclasses() {
    let mut b = HeapBuilder::new(8);
    let obj = b.object_class;
    let base = b.class("Base", Some(obj), &[("a", Ty::Long)]);
    // The same class described twice (as some writers do for classes in several heaps).
    let dup = b.class_def(base).clone();
    b.add_class_with_id(dup.id, "Base", Some(obj), 0, &[("a", Ty::Long)]);
    let derived = b.class("Derived", Some(base), &[("b", Ty::Int)]);
    let o = b.instance_with(derived, &[("a", Val::Long(1)), ("b", Val::Int(2))]);
    let (_dir, index, _) = open_built(&b);
    let ci = index.classes().by_name("Derived").next().unwrap();
    let base_ci = index.classes().by_name("Base").next().unwrap();
    assert_eq!(index.classes().get(ci).super_class, Some(base_ci));
    let io = index.find(o).unwrap();
    assert_eq!(index.field(io, "a"), Some(Value::Long(1)));
    // 12 header + 4 + 8 = 24 with compressed oops: the superclass's field counts.
    assert_eq!(
        index.shallow_size(io),
        b.instance_size(derived, &layout_of(&index))
    );
}

// ---------------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------------

#[test]
fn strings_latin1_utf16_and_jdk8_char_arrays() {
    let texts = [
        "",
        "hello",
        "café ÿ",
        "日本語 ✓",
        "emoji 🦀 pair",
        "mixed é and € sign",
    ];
    for style in [StringStyle::Compact, StringStyle::Jdk8] {
        for id_size in [4, 8] {
            let mut b = HeapBuilder::with(Version::V102, id_size, style);
            let ids: Vec<u64> = texts.iter().map(|t| b.string(t)).collect();
            let (_dir, index, _) = open_built(&b);
            assert_matches_builder(&index, &b);
            for (t, id) in texts.iter().zip(&ids) {
                let o = index.find(*id).unwrap();
                assert_eq!(index.read_string(o).as_deref(), Some(*t), "{style:?}");
                let first3: String = t.chars().take(3).collect();
                assert_eq!(index.read_string_limited(o, 3).as_deref(), Some(&*first3));
            }
            // Compact strings: Latin-1 has coder 0, others coder 1 (UTF-16 little-endian).
            if style == StringStyle::Compact {
                let o = index.find(ids[2]).unwrap();
                assert_eq!(index.field(o, "coder"), Some(Value::Byte(0)));
                let v = index.field_object(o, "value").unwrap();
                assert_eq!(index.array_length(v), Some("café ÿ".chars().count() as u32));
                let o = index.find(ids[3]).unwrap();
                assert_eq!(index.field(o, "coder"), Some(Value::Byte(1)));
            }
            // Not a string.
            let v = index
                .field_object(index.find(ids[1]).unwrap(), "value")
                .unwrap();
            assert_eq!(index.read_string(v), None);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------------------------

#[test]
fn a_thread_with_a_stack_trace_and_a_java_frame_local() {
    for style in [ThreadStyle::RootThreadObject, ThreadStyle::StartThread] {
        for order in [Order::HotSpot, Order::MetadataLast] {
            let mut b = HeapBuilder::new(8).order(order).segments(2);
            let obj = b.object_class;
            let c = b.class("com.example.Work", Some(obj), &[]);
            let t = b.thread_with(
                "worker-1",
                &[
                    FrameDef::new("java.lang.Thread", "sleep", "Thread.java", -3),
                    FrameDef::new("com.example.Work", "run", "Work.java", 42),
                    FrameDef::new("com.example.Work", "main", "Work.java", 7),
                ],
                style,
            );
            let local = b.instance(c);
            let native = b.instance(c);
            b.root(Root::JavaFrame {
                object: local,
                thread: t.serial,
                frame: 1,
            });
            b.root(Root::JniLocal {
                object: local,
                thread: t.serial,
                frame: 2,
            });
            b.root(Root::NativeStack {
                object: native,
                thread: t.serial,
            });
            let (_dir, index, _) = open_built(&b);
            let what = format!("{style:?} {order:?}");
            assert_eq!(index.threads().len(), 1, "{what}");
            let th = &index.threads()[0];
            assert_eq!(th.serial, t.serial);
            assert_eq!(th.object, index.find(t.object), "{what}");
            assert_eq!(th.name, "worker-1", "{what}");
            assert_eq!(th.frames.len(), 3, "{what}");
            assert_eq!(th.frames[0].method, "java.lang.Thread.sleep");
            assert_eq!(
                th.frames[0].display(),
                "java.lang.Thread.sleep(Native Method)"
            );
            assert_eq!(th.frames[1].method, "com.example.Work.run");
            assert_eq!(th.frames[1].source_file, "Work.java");
            assert_eq!(th.frames[1].line, 42);
            assert_eq!(th.frames[1].signature, "()V");
            assert_eq!(th.frames[1].display(), "com.example.Work.run(Work.java:42)");
            let lo = index.find(local).unwrap();
            assert_eq!(th.frames[1].locals, vec![lo], "{what}");
            assert_eq!(th.frames[2].locals, vec![lo], "{what}");
            assert!(th.frames[0].locals.is_empty());
            assert_eq!(th.other_roots, vec![index.find(native).unwrap()]);
        }
    }
}

#[test]
fn several_threads_are_listed_by_serial() {
    let mut b = HeapBuilder::new(4);
    for i in 0..5 {
        b.thread(
            &format!("pool-1-thread-{i}"),
            &[FrameDef::new("W", "run", "W.java", i)],
        );
    }
    let (_dir, index, _) = open_built(&b);
    let names: Vec<&str> = index.threads().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        (0..5)
            .map(|i| format!("pool-1-thread-{i}"))
            .collect::<Vec<_>>()
    );
    assert!(index
        .threads()
        .windows(2)
        .all(|w| w[0].serial < w[1].serial));
}

#[test]
fn a_jdk8_thread_whose_name_is_a_char_array_is_named() {
    let mut b = HeapBuilder::with(Version::V102, 8, StringStyle::Jdk8);
    b.thread(
        "Finalizer",
        &[FrameDef::new("java.lang.Object", "wait", "Object.java", -3)],
    );
    let (_dir, index, _) = open_built(&b);
    assert_eq!(index.threads()[0].name, "Finalizer");
}

// ---------------------------------------------------------------------------------------------
// Android
// ---------------------------------------------------------------------------------------------

#[test]
fn android_heap_info_nodata_arrays_and_android_roots() {
    let mut b = HeapBuilder::with(Version::V103, 4, StringStyle::Compact)
        .android_heap_info()
        .segments(2);
    let obj = b.object_class;
    let c = b.class("android.app.Activity", Some(obj), &[("mTitle", Ty::Object)]);
    let title = b.string("Main");
    let a = b.instance_with(c, &[("mTitle", Val::Object(title))]);
    let nodata = b.primitive_array_nodata(Ty::Int, 1000);
    let nodata_bytes = b.primitive_array_nodata(Ty::Byte, 3);
    for r in [
        Root::InternedString(title),
        Root::Finalizing(a),
        Root::Debugger(a),
        Root::ReferenceCleanup(a),
        Root::VmInternal(nodata),
        Root::JniMonitor {
            object: a,
            thread: 1,
            frame: 0,
        },
        Root::Unreachable(nodata_bytes),
    ] {
        b.root(r);
    }
    let (_dir, index, _) = open_built(&b);
    assert_eq!(index.header().version, FormatVersion::V103Android);
    assert_matches_builder(&index, &b);
    assert_eq!(roots_by_kind(&index), expected_roots(&b));
    let o = index.find(nodata).unwrap();
    assert_eq!(index.array_length(o), Some(1000));
    assert_eq!(index.shallow_size(o), 4016); // 32-bit: 12 + 4 000, aligned to 8
    assert_eq!(index.classes().get(index.class_of(o)).name, "int[]");
    let ao = index.find(a).unwrap();
    let t = index.field_object(ao, "mTitle").unwrap();
    assert_eq!(index.read_string(t).as_deref(), Some("Main"));
}

// ---------------------------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------------------------

#[test]
fn the_layout_is_detected_from_packed_addresses() {
    for layout in [LayoutSpec::COMPRESSED, LayoutSpec::UNCOMPRESSED] {
        let mut b = HeapBuilder::new(8).addressing(Addressing::Packed {
            base: 0x0000_0007_1000_0000,
            layout,
        });
        let obj = b.object_class;
        let c = b.class("P", Some(obj), &[("r", Ty::Object), ("i", Ty::Int)]);
        let d = b.class("Q", Some(obj), &[("a", Ty::Object), ("b", Ty::Object)]);
        for i in 0..300 {
            b.instance(c);
            b.instance(d);
            b.primitive_array(PrimData::Long(vec![0; i % 5]));
            b.object_array("java.lang.Object[]", &vec![0; i % 3]);
            b.string("x");
        }
        let (_dir, index, _) = open_built(&b);
        assert_eq!(layout_of(&index), layout);
        assert_matches_builder(&index, &b);
    }
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

#[test]
fn cli_report_json_matches_the_library() {
    let b = small_heap(8).segments(2).version(Version::V101);
    let dump = b.build();
    let (_dir, path) = write_dump(&dump, "cli.hprof");
    let index = open(&path);
    let report = cli_report(&path);
    assert_eq!(report["format"], "JAVA PROFILE 1.0.1");
    assert_eq!(report["id_size"], 8);
    assert_eq!(report["timestamp_ms"], b.timestamp_ms);
    assert_eq!(report["compressed"], false);
    assert_eq!(report["layout"], index.layout().describe());
    let s = &report["summary"];
    assert_eq!(s["objects"], index.object_count() as u64);
    assert_eq!(s["classes"], b.classes.len() as u64);
    assert_eq!(s["shallow_bytes"], index.total_shallow_bytes());
    // `main`, and the thread-object root of `realistic_heap` on serial 1000.
    assert_eq!(s["threads"], 2);
    let expected = b.expected_histogram(&layout_of(&index));
    let rows = report["histogram"].as_array().unwrap();
    assert_eq!(rows.len(), expected.per_class.len());
    for r in rows {
        let name = r["class"].as_str().unwrap();
        let (count, bytes) = expected.per_class[name];
        assert_eq!(r["count"], count, "{name}");
        assert_eq!(r["shallow_bytes"], bytes, "{name}");
        assert_eq!(r["loader"], "0x0");
    }
    // Largest first.
    let sizes: Vec<u64> = rows
        .iter()
        .map(|r| r["shallow_bytes"].as_u64().unwrap())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]));
    // Text output and --top.
    let out = Command::new(env!("CARGO_BIN_EXE_heapsight"))
        .args(["report", "--top", "2"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("JAVA PROFILE 1.0.1, 8-byte identifiers"),
        "{text}"
    );
    assert!(text.contains("instances"), "{text}");
}

#[test]
fn cli_reports_a_missing_file_as_an_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_heapsight"))
        .args(["report", "/nonexistent/dump.hprof", "--json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/dump.hprof"), "{err}");
}

#[test]
fn class_loaders_are_reported() {
    let mut b = HeapBuilder::new(8);
    let obj = b.object_class;
    let loader_class = b.class("com.example.MyLoader", Some(obj), &[]);
    let loader = b.instance(loader_class);
    let a = b.class_with_loader("com.example.Plugin", Some(obj), loader, &[]);
    b.instance(a);
    let dump = b.build();
    let (_dir, path) = write_dump(&dump, "loaders.hprof");
    let report = cli_report(&path);
    let row = report["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["class"] == "com.example.Plugin")
        .unwrap()
        .clone();
    assert_eq!(row["loader"], format!("0x{loader:x}"));
}

// ---------------------------------------------------------------------------------------------
// Random heaps
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum GenObj {
    Instance { class: usize, refs: Vec<usize> },
    ObjArray { refs: Vec<usize> },
    Prim { ty: usize, len: usize },
}

#[derive(Debug, Clone)]
struct GenHeap {
    id_size: usize,
    segments: usize,
    shuffle: Option<u64>,
    /// (superclass index among earlier classes, field types as indexes into Ty::ALL)
    classes: Vec<(Option<usize>, Vec<usize>)>,
    objects: Vec<GenObj>,
    roots: Vec<(usize, usize)>,
}

fn gen_heap() -> impl Strategy<Value = GenHeap> {
    let classes = prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            prop::collection::vec(0usize..9, 0..6),
        ),
        1..8,
    );
    let objects = prop::collection::vec(
        prop_oneof![
            (
                any::<prop::sample::Index>(),
                prop::collection::vec(any::<prop::sample::Index>(), 0..4)
            )
                .prop_map(|(c, r)| (
                    0u8,
                    c.index(1 << 16),
                    r.iter().map(|i| i.index(1 << 16)).collect()
                )),
            prop::collection::vec(any::<prop::sample::Index>(), 0..5).prop_map(|r| (
                1u8,
                0,
                r.iter().map(|i| i.index(1 << 16)).collect()
            )),
            (0usize..8, 0usize..40).prop_map(|(t, l)| (2u8, t * 64 + l, Vec::new())),
        ],
        0..60,
    );
    (
        prop_oneof![Just(4usize), Just(8usize)],
        0usize..4,
        prop::option::of(any::<u64>()),
        classes,
        objects,
        prop::collection::vec((0usize..16, any::<prop::sample::Index>()), 0..10),
    )
        .prop_map(|(id_size, segments, shuffle, classes, objects, roots)| {
            let classes: Vec<(Option<usize>, Vec<usize>)> = classes
                .into_iter()
                .enumerate()
                .map(|(i, (sup, fields))| {
                    let sup = if i == 0 { None } else { Some(sup.index(i)) };
                    (sup, fields)
                })
                .collect();
            let n = objects.len();
            let objects = objects
                .into_iter()
                .map(|(k, x, refs)| {
                    let refs: Vec<usize> = refs.iter().map(|r| r % (n + 1)).collect();
                    match k {
                        0 => GenObj::Instance {
                            class: x % classes.len(),
                            refs,
                        },
                        1 => GenObj::ObjArray { refs },
                        _ => GenObj::Prim {
                            ty: x / 64,
                            len: x % 64,
                        },
                    }
                })
                .collect();
            let roots = roots
                .into_iter()
                .filter(|_| n > 0)
                .map(|(k, i)| (k, i.index(n.max(1))))
                .collect();
            GenHeap {
                id_size,
                segments,
                shuffle,
                classes,
                objects,
                roots,
            }
        })
}

/// Writes a generated heap; references index objects (n = null).
fn build_generated(g: &GenHeap) -> HeapBuilder {
    build_generated_with(g, false)
}

/// With `reference`, class 0 is `java.lang.ref.Reference` and its first reference field is
/// `referent`: its instances and those of its subclasses hold weak edges.
fn build_generated_with(g: &GenHeap, reference: bool) -> HeapBuilder {
    let mut b = HeapBuilder::new(g.id_size).segments(g.segments);
    if let Some(seed) = g.shuffle {
        b = b.shuffle(seed);
    }
    let mut class_ids = Vec::new();
    for (i, (sup, fields)) in g.classes.iter().enumerate() {
        let sup_id = sup.map(|s| class_ids[s]).unwrap_or(b.object_class);
        let mut names: Vec<String> = (0..fields.len()).map(|j| format!("f{i}_{j}")).collect();
        if reference && i == 0 {
            if let Some(j) = fields.iter().position(|&t| Ty::ALL[t] == Ty::Object) {
                names[j] = "referent".to_string();
            }
        }
        let fs: Vec<(&str, Ty)> = names
            .iter()
            .zip(fields)
            .map(|(n, &t)| (n.as_str(), Ty::ALL[t]))
            .collect();
        let name = if reference && i == 0 {
            "java.lang.ref.Reference".to_string()
        } else {
            format!("gen.C{i}")
        };
        class_ids.push(b.class(&name, Some(sup_id), &fs));
    }
    // Addresses are known in advance (spaced), so forward references work.
    let base = match b.addressing {
        Addressing::Spaced { base, .. } => base,
        _ => unreachable!(),
    };
    let addr = |i: usize| base + 16 * i as u64;
    let n = g.objects.len();
    let target = |r: usize| if r >= n { 0 } else { addr(r) };
    for (i, o) in g.objects.iter().enumerate() {
        let id = match o {
            GenObj::Instance { class, refs } => {
                let id = b.instance(class_ids[*class]);
                let fields = b.all_fields(class_ids[*class]);
                let mut k = 0;
                for (name, ty) in fields {
                    if ty == Ty::Object {
                        if let Some(&r) = refs.get(k) {
                            b.set(id, &name, Val::Object(target(r)));
                        }
                        k += 1;
                    }
                }
                id
            }
            GenObj::ObjArray { refs } => {
                let els: Vec<u64> = refs.iter().map(|&r| target(r)).collect();
                b.object_array("java.lang.Object[]", &els)
            }
            GenObj::Prim { ty, len } => {
                b.primitive_array(PrimData::zeros(Ty::PRIMITIVES[*ty], *len))
            }
        };
        assert_eq!(id, addr(i));
    }
    for &(k, i) in &g.roots {
        let r = with_object(Root::every_kind(0, 9)[k], addr(i));
        b.root(r);
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_heaps_read_back_exactly(g in gen_heap()) {
        let b = build_generated(&g);
        let (_dir, index, _) = open_built(&b);
        prop_assert!(index.warnings().is_empty(), "{:?}", index.warnings());
        let expected = b.expected_histogram(&layout_of(&index));
        prop_assert_eq!(histogram_by_name(&index), expected.per_class);
        prop_assert_eq!(index.object_count() as u64, expected.objects);
        prop_assert_eq!(histogram(&index).total_shallow_bytes, expected.shallow_bytes);
        prop_assert_eq!(roots_by_kind(&index), expected_roots(&b));
        for obj in &b.objects {
            let o = index.find(obj.id).unwrap();
            prop_assert_eq!(index.shallow_size(o), b.object_size(obj, &layout_of(&index)));
            match &obj.kind {
                ObjKind::Instance { values, .. } => {
                    let got: Vec<Value> = index.fields(o).iter().map(|f| f.value).collect();
                    let want: Vec<Value> = values.iter().map(|v| to_value(*v)).collect();
                    prop_assert_eq!(got, want);
                }
                ObjKind::ObjectArray { elements, .. } => {
                    prop_assert_eq!(index.array_length(o), Some(elements.len() as u32));
                }
                ObjKind::PrimitiveArray(d) => {
                    prop_assert_eq!(index.array_length(o), Some(d.len() as u32));
                }
                ObjKind::PrimitiveArrayNoData { .. } => {}
            }
        }
    }
}

#[test]
fn a_thread_found_through_its_thread_object_roots_stack_serial() {
    // ROOT THREAD OBJECT names the stack trace; this STACK TRACE does not name the thread
    // (its thread serial is 0), so only the root links them.
    let mut b = HeapBuilder::new(8).segments(1);
    let obj = b.object_class;
    let c = b.class("Job", Some(obj), &[]);
    let t = b.thread("lonely", &[FrameDef::new("Job", "run", "Job.java", 5)]);
    let local = b.instance(c);
    b.root(Root::JavaFrame {
        object: local,
        thread: t.serial,
        frame: 0,
    });
    let mut dump = b.build();
    // Find the thread's STACK TRACE record and zero its thread serial.
    let at = dump
        .record_starts
        .iter()
        .copied()
        .find(|&s| {
            dump.raw[s] == tag::STACK_TRACE
                && dump.raw[s + 9..s + 13] == t.stack_serial.to_be_bytes()
        })
        .unwrap();
    dump.raw[at + 13..at + 17].copy_from_slice(&0u32.to_be_bytes());
    dump.bytes = dump.raw.clone();
    let (_dir, path) = write_dump(&dump, "thread.hprof");
    let index = open(&path);
    let th = &index.threads()[0];
    assert_eq!(th.name, "lonely");
    assert_eq!(th.frames.len(), 1);
    assert_eq!(th.frames[0].locals, vec![index.find(local).unwrap()]);
}

#[test]
fn arrays_larger_than_4_gb_keep_their_exact_shallow_size() {
    // Android's PRIMITIVE ARRAY NODATA can state any length without the data.
    let mut b = HeapBuilder::with(Version::V103, 8, StringStyle::Compact).segments(1);
    let huge = b.primitive_array_nodata(Ty::Long, u32::MAX);
    let big = b.primitive_array_nodata(Ty::Byte, u32::MAX);
    let (_dir, index, _) = open_built(&b);
    let l = layout_of(&index);
    let o = index.find(huge).unwrap();
    assert_eq!(
        index.shallow_size(o),
        l.array_size(Ty::Long, u32::MAX as u64)
    );
    assert!(index.shallow_size(o) > 32 << 30);
    let o = index.find(big).unwrap();
    assert_eq!(
        index.shallow_size(o),
        l.array_size(Ty::Byte, u32::MAX as u64)
    );
    assert_matches_builder(&index, &b);
}

#[test]
fn names_that_are_not_utf8() {
    let mut b = HeapBuilder::new(8).segments(1);
    let obj = b.object_class;
    let c = b.class("Fine", Some(obj), &[("f", Ty::Int)]);
    let o = b.instance(c);
    let mut dump = b.build();
    // Corrupt the UTF8 records of the class name and the field name.
    for s in dump.record_starts.clone() {
        if dump.raw[s] == tag::UTF8 {
            let text = &dump.raw[s + 17
                ..s + 9 + u32::from_be_bytes(dump.raw[s + 5..s + 9].try_into().unwrap()) as usize];
            if text == b"Fine" || text == b"f" {
                dump.raw[s + 17] = 0xFF;
            }
        }
    }
    dump.bytes = dump.raw.clone();
    let (_dir, path) = write_dump(&dump, "names.hprof");
    let index = open(&path);
    let io = index.find(o).unwrap();
    let class = index.classes().get(index.class_of(io));
    assert!(class.name.starts_with("<class 0x"), "{}", class.name);
    assert_eq!(index.fields(io).len(), 1);
    assert_eq!(index.fields(io)[0].value, Value::Int(0));
    cli_report(&path);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// MAT's minimum retained size by its definition: the retained sizes of the objects no
    /// other object of the same class dominates; and the unreachable instances and bytes
    /// per class, counted one object at a time.
    #[test]
    fn random_heaps_minimum_retained_sizes_match_their_definition(g in gen_heap()) {
        let b = build_generated(&g);
        let (_dir, index, _) = open_built(&b);
        let index = std::sync::Arc::new(index);
        let a = Analysis::run(index.clone(), AnalysisOptions::default(), &Progress::new())
            .expect("analysis");
        let tree = &a.dominators;
        let mut want = vec![0u64; index.classes().len()];
        let mut unreachable = vec![(0u64, 0u64); index.classes().len()];
        for o in 0..index.object_count() as ObjectId {
            if !tree.is_reachable(o) {
                let e = &mut unreachable[index.class_of(o) as usize];
                e.0 += 1;
                e.1 += index.shallow_size(o);
                continue;
            }
            let c = index.class_of(o);
            let chain = tree.dominators_of(o);
            if chain[1..].iter().all(|&d| index.class_of(d) != c) {
                want[c as usize] += tree.retained(o);
            }
        }
        prop_assert_eq!(&a.retained_by_class, &want);
        prop_assert_eq!(&a.unreachable_by_class, &unreachable);
    }
}

/// Immediate dominators by their definition (d dominates v when v is reachable and no longer
/// is without d), over the references `ReferenceReader` reads from the dump, class edges
/// included; `referent`s count when `with_weak`.
fn naive_idoms(index: &HeapIndex, with_weak: bool) -> Vec<ObjectId> {
    use heapsight::analysis::dominators::{SUPER_ROOT, UNREACHABLE};
    use heapsight::analysis::graph::ReferenceReader;
    let n = index.object_count();
    let reader = ReferenceReader::new(index);
    let succ: Vec<Vec<ObjectId>> = (0..n as ObjectId)
        .map(|o| {
            let mut out = Vec::new();
            reader.for_each(o, |t, weak| {
                if with_weak || !weak {
                    out.push(t)
                }
            });
            out
        })
        .collect();
    let roots: Vec<ObjectId> = index.roots().iter().map(|r| r.object).collect();
    let reach = |removed: Option<ObjectId>| {
        let mut seen = vec![false; n];
        let mut stack: Vec<ObjectId> = roots
            .iter()
            .copied()
            .filter(|&r| Some(r) != removed)
            .collect();
        for &r in &stack {
            seen[r as usize] = true;
        }
        while let Some(v) = stack.pop() {
            for &t in &succ[v as usize] {
                if !seen[t as usize] && Some(t) != removed {
                    seen[t as usize] = true;
                    stack.push(t);
                }
            }
        }
        seen
    };
    let base = reach(None);
    let dominated: Vec<Vec<bool>> = (0..n as ObjectId)
        .map(|d| {
            let r = reach(Some(d));
            (0..n)
                .map(|v| base[v] && !r[v] && v != d as usize)
                .collect()
        })
        .collect();
    (0..n)
        .map(|v| {
            if !base[v] {
                return UNREACHABLE;
            }
            let strict: Vec<ObjectId> = (0..n as ObjectId)
                .filter(|&d| dominated[d as usize][v])
                .collect();
            strict
                .iter()
                .copied()
                .find(|&d| {
                    strict
                        .iter()
                        .all(|&e| e == d || dominated[e as usize][d as usize])
                })
                .unwrap_or(SUPER_ROOT)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The dominator tree of the whole pipeline (outgoing lists without class edges, the
    /// walks and the transpose that derive them, semi-NCA on multi-referrer nodes only)
    /// against the definition, in both reference modes, with `referent`s of a
    /// `java.lang.ref.Reference` class or without, with every referrer list or only those
    /// of multi-referrer objects (`release_graph`), with the file offsets parked or not.
    #[test]
    fn random_heaps_dominators_match_their_definition(
        g in gen_heap(),
        strong_only in any::<bool>(),
        reference in any::<bool>(),
        release_graph in any::<bool>(),
        park in any::<bool>(),
    ) {
        use heapsight::analysis::dominators::ReferenceMode;
        use heapsight::analysis::{Parking, HopsFound};
        let b = build_generated_with(&g, reference);
        let (_dir, index, _) = open_built(&b);
        let want = naive_idoms(&index, !strong_only);
        let references = if strong_only {
            ReferenceMode::StrongOnly
        } else {
            ReferenceMode::All
        };
        let a = Analysis::run(
            std::sync::Arc::new(index),
            AnalysisOptions {
                references,
                release_graph,
                parking: if park { Parking::Always } else { Parking::Never },
                path_hops: if park { HopsFound::InWalk } else { HopsFound::Never },
            },
            &Progress::new(),
        )
            .expect("analysis");
        for o in 0..a.index.object_count() as ObjectId {
            prop_assert_eq!(a.dominators.idom(o), want[o as usize], "object {}", o);
        }
    }
}
