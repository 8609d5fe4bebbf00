//! Broken, truncated and hostile input: every file must give either an error that names a byte
//! offset, or an index (with a warning when something was lost). Never a panic, never a hang.
//!
//! Includes the truncation sweeps (a synthetic dump cut at every byte, the real sample dump at
//! ~500 offsets), regressions found by fuzzing (`fuzz/regressions/`), and a stable-Rust
//! mutation fuzzer (`#[ignore]`d; see `scripts/fuzz.sh`).

#![allow(clippy::unwrap_used)] // a test may panic on what it did not expect

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use heapsight::analysis::histogram::histogram;
use heapsight::heap::{Census, HeapIndex};
use heapsight::hprof::HprofError;
use heapsight::progress::Progress;
use heapsight::report::{build_report, ReportOptions};
use support::census::assert_census_matches;
use support::hprof_writer::*;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A scratch directory, in memory when the machine has /dev/shm (the sweeps write many files).
fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("heapsight-bad-")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap()
}

fn open_bytes(dir: &Path, bytes: &[u8]) -> Result<HeapIndex, HprofError> {
    let path = dir.join("input.hprof");
    std::fs::write(&path, bytes).unwrap();
    HeapIndex::open(&path, &Progress::new())
}

/// Opens `bytes` and, if that works, runs everything a report does, so a panic anywhere shows.
fn exercise(dir: &Path, bytes: &[u8]) -> Result<HeapIndex, HprofError> {
    let index = open_bytes(dir, bytes);
    let census = Census::open(&dir.join("input.hprof"), &Progress::new());
    // The census (`report --histogram-only`) fails or reports exactly as the index does.
    match (&census, &index) {
        (Ok(census), Ok(index)) => assert_census_matches(census, index),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!(
            "census {:?} but index {:?}",
            a.as_ref().err().map(ToString::to_string),
            b.as_ref().err().map(ToString::to_string)
        ),
    }
    let index = index?;
    let _ = histogram(&index);
    for o in 0..index.object_count().min(2_000) as u32 {
        let _ = index.fields(o);
        let _ = index.read_string(o);
        let _ = index.describe(o);
    }
    Ok(index)
}

/// The error names a position: "byte" and a number.
fn assert_names_offset(e: &HprofError) {
    let msg = e.to_string();
    assert!(
        msg.contains("byte") && msg.bytes().any(|b| b.is_ascii_digit()),
        "error does not name a byte offset: {msg}"
    );
}

fn expect_err(dir: &Path, bytes: &[u8]) -> String {
    match exercise(dir, bytes) {
        Ok(i) => panic!(
            "expected an error, got an index of {} objects, warnings {:?}",
            i.object_count(),
            i.warnings()
        ),
        Err(e) => {
            assert_names_offset(&e);
            e.to_string()
        }
    }
}

fn has_warning(index: &HeapIndex, needle: &str) -> bool {
    index.warnings().iter().any(|w| w.contains(needle))
}

// ---------------------------------------------------------------------------------------------
// Not a dump
// ---------------------------------------------------------------------------------------------

#[test]
fn an_empty_file() {
    let dir = scratch();
    let msg = expect_err(dir.path(), b"");
    assert!(msg.contains("empty") && msg.contains("byte 0"), "{msg}");
}

#[test]
fn a_png_image() {
    let dir = scratch();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&[0u8; 64]);
    let msg = expect_err(dir.path(), &png);
    assert!(msg.contains("PNG"), "{msg}");
}

#[test]
fn random_bytes() {
    let dir = scratch();
    let mut rng = XorShift::new(7);
    for len in [1usize, 2, 17, 31, 100, 4096] {
        for _ in 0..5 {
            let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            if bytes.starts_with(&[0x1f, 0x8b]) || bytes.starts_with(b"JAVA") {
                continue;
            }
            expect_err(dir.path(), &bytes);
        }
    }
}

#[test]
fn text_that_is_almost_a_header() {
    let dir = scratch();
    for text in [
        &b"JAVA PROFILE 1.0.4\0\0\0\0\x08\0\0\0\0\0\0\0\0"[..],
        b"JAVA PROFILE 1.0.2 and more text",
        b"java profile 1.0.2\0\0\0\0\x08\0\0\0\0\0\0\0\0",
        b"JAVA PROFILE",
    ] {
        expect_err(dir.path(), text);
    }
}

#[test]
fn the_header_truncated_at_every_byte() {
    let dir = scratch();
    for id_size in [4, 8] {
        let full = HprofWriter::new(Version::V102, id_size, 1).finish();
        assert_eq!(full.len(), 31);
        for cut in 0..full.len() {
            let msg = expect_err(dir.path(), &full[..cut]);
            if cut > 0 {
                assert!(
                    msg.contains("header") || msg.contains("HPROF"),
                    "cut {cut}: {msg}"
                );
            }
        }
        // The whole header is an empty dump.
        let index = exercise(dir.path(), &full).unwrap();
        assert_eq!(index.object_count(), 0);
    }
}

#[test]
fn an_identifier_size_of_3() {
    let dir = scratch();
    for size in [0u32, 1, 2, 3, 5, 7, 16, u32::MAX] {
        let bytes = HprofWriter::with_header("JAVA PROFILE 1.0.2", size, 1).finish();
        let msg = expect_err(dir.path(), &bytes);
        assert!(
            msg.contains(&format!("identifier size {size}")) && msg.contains("byte 19"),
            "{msg}"
        );
    }
}

#[test]
fn the_cli_fails_with_the_offset_on_stderr() {
    let dir = scratch();
    let path = dir.path().join("id3.hprof");
    std::fs::write(
        &path,
        HprofWriter::with_header("JAVA PROFILE 1.0.2", 3, 1).finish(),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_heapsight"))
        .arg("report")
        .arg(&path)
        .arg("--json")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("byte 19"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Broken sub-records
// ---------------------------------------------------------------------------------------------

/// A dump whose last heap record is `tail` appended to a valid heap, written as a segment
/// (`segment`) or one HEAP DUMP; returns the bytes and the offset of `tail`'s first byte.
fn with_bad_tail(id_size: usize, segment: bool, tail: &[u8]) -> (Vec<u8>, u64) {
    let mut b = HeapBuilder::new(id_size)
        .segments(if segment { 1 } else { 0 })
        .heap_dump_end(false);
    let obj = b.object_class;
    let c = b.class("A", Some(obj), &[("x", Ty::Int)]);
    b.instance(c);
    b.extra_sub_record(tail);
    let dump = b.build();
    let body_len: usize = dump.raw.len() - *dump.record_starts.last().unwrap() - 9;
    let heap_start = *dump.record_starts.last().unwrap();
    assert_eq!(dump.raw[heap_start], if segment { 0x1C } else { 0x0C });
    let at = heap_start + 9 + body_len - tail.len();
    (dump.raw, at as u64)
}

#[test]
fn a_sub_record_tag_that_does_not_exist() {
    let dir = scratch();
    for id_size in [4, 8] {
        for segment in [true, false] {
            for t in [0x00u8, 0x09, 0x24, 0x42, 0x88, 0x8F, 0xC2, 0xFD] {
                let (bytes, at) = with_bad_tail(id_size, segment, &[t, 0, 0, 0, 0, 0, 0, 0, 0]);
                let msg = expect_err(dir.path(), &bytes);
                assert!(
                    msg.contains(&format!("0x{t:02x}")) && msg.contains(&format!("at byte {at}")),
                    "tag 0x{t:02x}, segment {segment}: {msg}"
                );
            }
        }
    }
}

#[test]
fn an_absurd_array_length_in_a_complete_segment() {
    let dir = scratch();
    for id_size in [4, 8] {
        let mut subs = SubRecords::new(id_size);
        subs.primitive_array_raw(0x7100_0000, 0, Ty::Int.code(), 0x7fff_ffff, &[0; 16]);
        let (bytes, at) = with_bad_tail(id_size, true, subs.bytes());
        let msg = expect_err(dir.path(), &bytes);
        assert!(
            msg.contains(&format!("at byte {at}")) && msg.contains("length past the end"),
            "{msg}"
        );
        assert!(msg.contains("PRIMITIVE ARRAY"), "{msg}");

        // u32::MAX longs: the byte count overflows u32 (and would overflow usize on 32 bits).
        let mut subs = SubRecords::new(id_size);
        subs.primitive_array_raw(0x7100_0000, 0, Ty::Long.code(), u32::MAX, &[]);
        let (bytes, at) = with_bad_tail(id_size, true, subs.bytes());
        let msg = expect_err(dir.path(), &bytes);
        assert!(msg.contains(&format!("at byte {at}")), "{msg}");

        // Object arrays and instances the same.
        let mut subs = SubRecords::new(id_size);
        subs.raw(&[subtag::OBJECT_ARRAY_DUMP]);
        put_id_raw(&mut subs, 0x7100_0000, id_size);
        subs.raw(&0u32.to_be_bytes());
        subs.raw(&0x7fff_ffffu32.to_be_bytes());
        put_id_raw(&mut subs, 0, id_size);
        let (bytes, at) = with_bad_tail(id_size, true, subs.bytes());
        let msg = expect_err(dir.path(), &bytes);
        assert!(
            msg.contains("OBJECT ARRAY") && msg.contains(&format!("at byte {at}")),
            "{msg}"
        );

        let mut subs = SubRecords::new(id_size);
        subs.raw(&[subtag::INSTANCE_DUMP]);
        put_id_raw(&mut subs, 0x7100_0000, id_size);
        subs.raw(&0u32.to_be_bytes());
        put_id_raw(&mut subs, 0, id_size);
        subs.raw(&u32::MAX.to_be_bytes());
        let (bytes, at) = with_bad_tail(id_size, true, subs.bytes());
        let msg = expect_err(dir.path(), &bytes);
        assert!(
            msg.contains("INSTANCE DUMP") && msg.contains(&format!("at byte {at}")),
            "{msg}"
        );
    }
}

fn put_id_raw(s: &mut SubRecords, id: u64, id_size: usize) {
    let mut b = Vec::new();
    put_id(&mut b, id, id_size);
    s.raw(&b);
}

#[test]
fn an_invalid_basic_type() {
    let dir = scratch();
    // In a primitive array.
    let mut subs = SubRecords::new(8);
    subs.primitive_array_raw(0x7100_0000, 0, 2, 1, &[0; 8]); // 2 = object: not primitive
    let (bytes, _) = with_bad_tail(8, true, subs.bytes());
    let msg = expect_err(dir.path(), &bytes);
    assert!(msg.contains("invalid basic type 2"), "{msg}");
    let mut subs = SubRecords::new(8);
    subs.primitive_array_raw(0x7100_0000, 0, 3, 1, &[0; 8]);
    let (bytes, _) = with_bad_tail(8, true, subs.bytes());
    let msg = expect_err(dir.path(), &bytes);
    assert!(msg.contains("invalid basic type 3"), "{msg}");
    // In a class dump's fields.
    let mut subs = SubRecords::new(8);
    subs.class_dump(&ClassDumpSpec {
        class_id: 0x6000_0000,
        fields: vec![(1, Ty::Int)],
        ..Default::default()
    });
    let mut raw = subs.bytes().to_vec();
    *raw.last_mut().unwrap() = 12; // the field's type
    let (bytes, at) = with_bad_tail(8, true, &raw);
    let msg = expect_err(dir.path(), &bytes);
    let type_at = at + raw.len() as u64 - 1;
    assert!(
        msg.contains("invalid basic type 12") && msg.contains(&format!("byte {type_at}")),
        "{msg}"
    );
}

#[test]
fn a_class_dump_cut_short_inside_a_complete_segment() {
    let dir = scratch();
    let mut subs = SubRecords::new(8);
    subs.class_dump(&ClassDumpSpec {
        class_id: 0x6000_0000,
        statics: vec![(1, Val::Long(1)), (2, Val::Object(3))],
        fields: vec![(1, Ty::Int), (2, Ty::Object)],
        ..Default::default()
    });
    for keep in [1, 10, 40, subs.len() - 1] {
        let (bytes, at) = with_bad_tail(8, true, &subs.bytes()[..keep]);
        let msg = expect_err(dir.path(), &bytes);
        assert!(
            msg.contains(&format!("at byte {at}")) && msg.contains("length past the end"),
            "keep {keep}: {msg}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Record lengths past the end
// ---------------------------------------------------------------------------------------------

#[test]
fn a_record_length_past_the_end_of_the_file() {
    let dir = scratch();
    // A UTF8 record that claims 1000 bytes, at the end of an otherwise fine dump.
    let b = realistic_heap(8, 20).segments(2);
    let mut raw = b.build().raw;
    let at = raw.len();
    raw.extend_from_slice(&[tag::UTF8, 0, 0, 0, 0, 0, 0, 0x03, 0xE8]);
    raw.extend_from_slice(&[b'x'; 20]);
    let index = exercise(dir.path(), &raw).expect("the heap before it is readable");
    assert!(
        index
            .warnings()
            .iter()
            .any(|w| w.contains("truncated") && w.contains(&format!("byte {at}"))),
        "{:?}",
        index.warnings()
    );
    assert_eq!(
        index.object_count() as u64,
        b.expected_histogram(&LayoutSpec::COMPRESSED).objects
    );

    // A segment whose length runs past the end: its whole sub-records are read.
    let mut w = HprofWriter::new(Version::V102, 4, 0);
    let mut subs = w.sub_records();
    subs.primitive_array(0x7000_0000, 0, &PrimData::Int(vec![1, 2, 3]));
    subs.primitive_array(0x7000_0020, 0, &PrimData::Byte(vec![1]));
    let seg_at = w.len();
    w.record_with_length(tag::HEAP_DUMP_SEGMENT, 0x10_0000, subs.bytes());
    let index = exercise(dir.path(), w.bytes()).unwrap();
    assert_eq!(index.object_count(), 2);
    assert!(
        index
            .warnings()
            .iter()
            .any(|w| w.contains("truncated") && w.contains(&format!("byte {seg_at}"))),
        "{:?}",
        index.warnings()
    );
}

#[test]
fn a_record_shorter_than_its_fields_is_skipped_with_a_warning() {
    let dir = scratch();
    let mut w = HprofWriter::new(Version::V102, 8, 0);
    w.record(tag::LOAD_CLASS, &[0, 0, 0, 1, 0, 0]); // needs 4 + 8 + 4 + 8
    w.record(tag::STACK_TRACE, &[0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9]); // 9 frames, none there
    w.record(tag::UTF8, &[1, 2, 3]); // shorter than an id
    let index = exercise(dir.path(), w.bytes()).unwrap();
    assert_eq!(
        index
            .warnings()
            .iter()
            .filter(|w| w.contains("shorter than its fields"))
            .count(),
        3,
        "{:?}",
        index.warnings()
    );
}

// ---------------------------------------------------------------------------------------------
// Inconsistent but readable heaps
// ---------------------------------------------------------------------------------------------

#[test]
fn objects_of_classes_the_dump_does_not_describe() {
    let dir = scratch();
    let mut w = HprofWriter::new(Version::V102, 8, 0);
    let mut subs = w.sub_records();
    subs.instance(0x7000_0000, 0, 0x1234_5678, &[Val::Int(1)]);
    subs.object_array(0x7000_0010, 0, 0x1234_5670, &[0x7000_0000]);
    subs.root(&Root::JniGlobal {
        object: 0x7000_0010,
        jni_ref: 0,
    });
    w.heap_dump_segment(&subs).heap_dump_end();
    let index = exercise(dir.path(), w.bytes()).unwrap();
    assert_eq!(index.object_count(), 2);
    assert!(
        has_warning(&index, "2 objects name a class"),
        "{:?}",
        index.warnings()
    );
    let names: Vec<String> = (0..2)
        .map(|o| index.classes().get(index.class_of(o)).name.clone())
        .collect();
    assert_eq!(names, ["<unknown class>", "java.lang.Object[]"]);
}

#[test]
fn instances_with_the_wrong_amount_of_field_data() {
    let dir = scratch();
    let mut b = HeapBuilder::new(8).segments(1);
    let obj = b.object_class;
    let c = b.class("Wrong", Some(obj), &[("a", Ty::Long), ("b", Ty::Object)]);
    let mut subs = SubRecords::new(8);
    subs.instance_raw(0x7200_0000, 0, c, &[1, 2, 3]); // 3 bytes instead of 16
    subs.instance_raw(0x7200_0010, 0, c, &[0; 40]); // too many
    b.extra_sub_record(subs.bytes());
    let index = exercise(dir.path(), &b.build().raw).unwrap();
    assert!(
        has_warning(&index, "2 instances have field data of a different length"),
        "{:?}",
        index.warnings()
    );
    let short = index.find(0x7200_0000).unwrap();
    assert!(index.fields(short).is_empty());
    assert_eq!(index.field(short, "b"), None);
}

#[test]
fn duplicate_object_ids() {
    let dir = scratch();
    let mut w = HprofWriter::new(Version::V102, 4, 0);
    let mut subs = w.sub_records();
    for _ in 0..3 {
        subs.primitive_array(0x7000_0000, 0, &PrimData::Int(vec![1]));
    }
    w.heap_dump_segment(&subs);
    let index = exercise(dir.path(), w.bytes()).unwrap();
    assert_eq!(index.object_count(), 3);
    assert!(
        has_warning(&index, "more than once"),
        "{:?}",
        index.warnings()
    );
    assert!(index.find(0x7000_0000).is_some());
}

#[test]
fn a_class_that_is_its_own_superclass_and_a_cycle() {
    let dir = scratch();
    let mut b = HeapBuilder::new(8).segments(1);
    let a_id = 0x0000_0006_0000_0000;
    let b_id = 0x0000_0006_0000_1000;
    b.add_class_with_id(a_id, "CycleA", Some(b_id), 0, &[("x", Ty::Int)]);
    b.add_class_with_id(b_id, "CycleB", Some(a_id), 0, &[("y", Ty::Int)]);
    let me = 0x0000_0006_0000_2000;
    b.add_class_with_id(me, "Me", Some(me), 0, &[("z", Ty::Int)]);
    let mut subs = SubRecords::new(8);
    subs.instance(0x7300_0000, 0, a_id, &[Val::Int(1), Val::Int(2)]);
    subs.instance(0x7300_0010, 0, me, &[Val::Int(3)]);
    b.extra_sub_record(subs.bytes());
    let start = Instant::now();
    let index = exercise(dir.path(), &b.build().raw).unwrap();
    assert!(start.elapsed() < Duration::from_secs(10));
    let o = index.find(0x7300_0010).unwrap();
    assert_eq!(index.field(o, "z"), Some(heapsight::hprof::Value::Int(3)));
}

#[test]
fn objects_spread_over_the_whole_address_space() {
    // A corrupt (or ZGC-coloured) dump: objects at both ends of the 64-bit space, aligned.
    let dir = scratch();
    let mut w = HprofWriter::new(Version::V102, 8, 0);
    let mut subs = w.sub_records();
    let (low, high) = (0x10u64, 0xFFFF_FFFF_FFFF_FFF0u64);
    subs.primitive_array(low, 0, &PrimData::Int(vec![1]));
    subs.primitive_array(high, 0, &PrimData::Int(vec![2]));
    subs.root(&Root::JniGlobal {
        object: high,
        jni_ref: 0,
    });
    w.heap_dump_segment(&subs);
    let index = exercise(dir.path(), w.bytes()).unwrap();
    assert_eq!(index.object_count(), 2);
    assert_eq!(index.find(low), Some(0));
    assert_eq!(index.find(high), Some(1));
    assert_eq!(index.address(1), high);
    assert_eq!(index.roots().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// gzip
// ---------------------------------------------------------------------------------------------

#[test]
fn corrupt_and_truncated_gzip() {
    let dir = scratch();
    let gz = realistic_heap(8, 50).gzip(Gzip::Single).build().bytes;
    // Garbage after the magic.
    let mut bad = vec![0x1f, 0x8b];
    bad.extend_from_slice(&[0xAA; 40]);
    expect_err(dir.path(), &bad);
    // A flipped byte in the deflate stream or in the CRC.
    for pos in [20, gz.len() / 2, gz.len() - 6] {
        let mut g = gz.clone();
        g[pos] ^= 0x55;
        if let Err(e) = exercise(dir.path(), &g) {
            assert_names_offset(&e);
        }
    }
    // Cut anywhere: an error naming the position, or what could be read; never a panic.
    for cut in (2..gz.len()).step_by(97) {
        if let Err(e) = exercise(dir.path(), &gz[..cut]) {
            assert_names_offset(&e);
        }
    }
    // An empty gzip member is an empty file.
    let msg = expect_err(dir.path(), &gzip_single(b""));
    assert!(msg.contains("empty"), "{msg}");
}

// ---------------------------------------------------------------------------------------------
// Truncation sweeps
// ---------------------------------------------------------------------------------------------

/// Aborts the test process if a sweep hangs, saying where.
struct Watchdog {
    done: Arc<AtomicBool>,
}

impl Watchdog {
    fn new(what: &'static str, limit: Duration, position: Arc<AtomicUsize>) -> Watchdog {
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            while !d.load(Ordering::Relaxed) {
                if start.elapsed() > limit {
                    eprintln!(
                        "{what}: hung for {limit:?} at offset {}",
                        position.load(Ordering::Relaxed)
                    );
                    std::process::abort();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Watchdog { done }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}

/// What a cut at `cut` gave.
#[derive(Debug)]
enum CutResult {
    Error(String),
    Index { objects: usize, truncated: bool },
}

fn cut_at(dir: &Path, raw: &[u8], cut: usize, everything: bool) -> CutResult {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if everything {
            exercise(dir, &raw[..cut])
        } else {
            open_bytes(dir, &raw[..cut]).inspect(|index| {
                let _ = build_report(index, None, ReportOptions { top: None });
            })
        }
    }));
    match r {
        Err(_) => panic!("panic reading the dump cut at byte {cut}"),
        Ok(Err(e)) => {
            assert_names_offset(&e);
            CutResult::Error(e.to_string())
        }
        Ok(Ok(index)) => CutResult::Index {
            objects: index.object_count(),
            truncated: index.warnings().iter().any(|w| w.contains("truncated")),
        },
    }
}

/// Cuts `dump` at every offset in `cuts` (on every core): an error naming a byte, or an index
/// with a "truncated" warning, except at record boundaries (complete files); object counts
/// never go down as the cut moves on. Returns the cuts that broke the rule.
fn sweep(dump: &Dump, cuts: &[usize], what: &'static str) -> Vec<(usize, String)> {
    let clean = dump.clean_cuts();
    let position = Arc::new(AtomicUsize::new(0));
    let _dog = Watchdog::new(what, Duration::from_secs(120), position.clone());
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(4);
    let mut results: Vec<(usize, CutResult)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let position = &position;
                s.spawn(move || {
                    let dir = scratch();
                    cuts.iter()
                        .skip(t)
                        .step_by(threads)
                        .enumerate()
                        .map(|(k, &cut)| {
                            position.store(cut, Ordering::Relaxed);
                            // The whole API on some cuts, opening and the report on all.
                            (cut, cut_at(dir.path(), &dump.raw, cut, k % 5 == 0))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("sweep thread"))
            .collect()
    });
    results.sort_by_key(|(cut, _)| *cut);
    let mut bad = Vec::new();
    let mut last_objects = 0usize;
    for (cut, r) in results {
        let is_clean = clean.binary_search(&cut).is_ok();
        match r {
            CutResult::Error(msg) => {
                if cut >= dump.header_len {
                    bad.push((cut, format!("error after the header: {msg}")));
                }
            }
            CutResult::Index { objects, truncated } => {
                if is_clean && truncated {
                    bad.push((cut, "a complete file reported as truncated".into()));
                }
                if !is_clean && !truncated {
                    bad.push((
                        cut,
                        format!("{objects} objects and no \"truncated\" warning"),
                    ));
                }
                if objects < last_objects {
                    bad.push((cut, format!("{objects} objects after {last_objects}")));
                }
                last_objects = objects;
            }
        }
    }
    bad
}

fn report_bad(bad: &[(usize, String)]) -> String {
    let mut s = format!("{} bad cuts; first ones:\n", bad.len());
    for (cut, why) in bad.iter().take(10) {
        s.push_str(&format!("  byte {cut}: {why}\n"));
    }
    s
}

#[test]
fn truncation_sweep_of_a_segmented_dump_at_every_byte() {
    let start = Instant::now();
    for id_size in [4, 8] {
        let dump = realistic_heap(id_size, 120).segments(4).build();
        let len = dump.raw.len();
        // Every byte with 8-byte ids; 2 500 cuts spread over the file with 4-byte ids.
        let cuts: Vec<usize> = if id_size == 8 {
            (0..=len).collect()
        } else {
            (0..2_500).map(|i| i * len / 2_499).collect()
        };
        let bad = sweep(&dump, &cuts, "segmented sweep");
        assert!(bad.is_empty(), "id size {id_size}: {}", report_bad(&bad));
    }
    eprintln!("segmented sweep: {:?}", start.elapsed());
}

#[test]
fn truncation_sweep_of_a_single_heap_dump_record() {
    let dump = realistic_heap(8, 120).build();
    let cuts: Vec<usize> = (0..=dump.raw.len()).collect();
    let bad = sweep(&dump, &cuts, "single HEAP DUMP sweep");
    assert!(bad.is_empty(), "{}", report_bad(&bad));
}

#[test]
fn a_single_heap_dump_record_cut_anywhere_never_panics() {
    // The weaker promise that holds today: an error naming a byte, or an index whose object
    // count never decreases as the cut moves on.
    let dump = realistic_heap(8, 120).build();
    let dir = scratch();
    let position = Arc::new(AtomicUsize::new(0));
    let _dog = Watchdog::new(
        "single HEAP DUMP cuts",
        Duration::from_secs(120),
        position.clone(),
    );
    let mut last = 0;
    for cut in (0..=dump.raw.len()).step_by(5) {
        position.store(cut, Ordering::Relaxed);
        if let CutResult::Index { objects, .. } = cut_at(dir.path(), &dump.raw, cut, false) {
            assert!(objects >= last, "cut {cut}: {objects} objects after {last}");
            last = objects;
        }
    }
}

fn sample_dump() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/sample.hprof.gz");
    let mut raw = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    raw
}

#[test]
fn truncation_sweep_of_the_real_sample_dump() {
    let raw = sample_dump();
    let start = Instant::now();
    // Record boundaries of the real dump, walking the top-level records.
    let mut clean = vec![31usize];
    let mut pos = 31;
    while pos + 9 <= raw.len() {
        let len = u32::from_be_bytes(raw[pos + 5..pos + 9].try_into().unwrap()) as usize;
        pos += 9 + len;
        clean.push(pos);
    }
    assert_eq!(pos, raw.len(), "the sample's records end with the file");
    let dump = Dump {
        bytes: Vec::new(),
        raw,
        record_starts: clean,
        header_len: 31,
    };
    // ~500 cuts; 200 in debug builds, where each open of a few MB takes ~50 ms.
    let n = if cfg!(debug_assertions) { 200 } else { 500 };
    let len = dump.raw.len();
    let mut cuts: Vec<usize> = (0..n).map(|i| 1 + (len - 1) * i / (n - 1)).collect();
    // A few cuts right around the start of the heap too.
    let first_heap = dump
        .record_starts
        .iter()
        .copied()
        .find(|&s| s < len && dump.raw[s] == 0x1C)
        .unwrap();
    cuts.extend(first_heap - 2..first_heap + 40);
    cuts.sort_unstable();
    cuts.dedup();
    let bad = sweep(&dump, &cuts, "sample sweep");
    assert!(bad.is_empty(), "{}", report_bad(&bad));
    eprintln!("sample sweep: {} cuts in {:?}", cuts.len(), start.elapsed());
}

// ---------------------------------------------------------------------------------------------
// Fuzzing: regressions and a stable-Rust mutation fuzzer
// ---------------------------------------------------------------------------------------------

fn fuzz_dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(sub)
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        p.is_file() && !name.starts_with('.') && name != "README.md"
    });
    v.sort();
    v
}

/// Crashing inputs in `fuzz/regressions/` whose bug is still open: each is replayed by its own
/// `#[ignore]`d test below instead of by `fuzz_regressions_do_not_panic`. Remove a name from
/// here (and the `#[ignore]`) when its bug is fixed.
const OPEN_BUGS: &[&str] = &[
    "idmap-get-overflow-min.bin",
    "idmap-address-span-timeout.bin",
];

/// Reads a regression input; panics (with the file name) if the reader panics.
fn replay(path: &Path) {
    let dir = scratch();
    let bytes = std::fs::read(path).unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        exercise(dir.path(), &bytes).map(|_| ())
    }));
    match r {
        Err(_) => panic!("{} panics", path.display()),
        Ok(Err(e)) => assert_names_offset(&e),
        Ok(Ok(())) => {}
    }
}

/// Every input the fuzzer ever crashed on: no panic now, and errors name an offset.
#[test]
fn fuzz_regressions_do_not_panic() {
    for path in files_in(&fuzz_dir("regressions")) {
        let name = path.file_name().unwrap().to_str().unwrap();
        if !OPEN_BUGS.contains(&name) {
            replay(&path);
        }
    }
}

/// Found by cargo-fuzz: 8-byte ids, a HEAP DUMP whose only sub-record is a ROOT UNKNOWN of
/// 0xFFFFFFFFFFFFFFFF.
#[test]
fn regression_idmap_get_overflow() {
    replay(&fuzz_dir("regressions").join("idmap-get-overflow-min.bin"));
}

/// Found by cargo-fuzz: two CLASS DUMPs whose ids are 2^55 apart (0x00b700070f000000 and
/// 0x00800007_0f000600); 201 bytes that take minutes and gigabytes to index.
#[test]
fn regression_idmap_address_span_timeout() {
    let start = Instant::now();
    replay(&fuzz_dir("regressions").join("idmap-address-span-timeout.bin"));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

/// The same bug, written by hand: a dump with no objects (or one at address 0) and a GC root
/// (or a lookup) of address 0xFFFF_FFFF_FFFF_FFFF.
#[test]
fn a_root_to_the_last_address_in_a_dump_without_objects() {
    let dir = scratch();
    for object_at_zero in [false, true] {
        let mut w = HprofWriter::new(Version::V102, 8, 0);
        let mut subs = w.sub_records();
        if object_at_zero {
            subs.primitive_array(0, 0, &PrimData::Int(vec![1]));
        }
        subs.root(&Root::Unknown(u64::MAX));
        w.heap_dump_segment(&subs);
        let index = exercise(dir.path(), w.bytes()).unwrap();
        assert!(has_warning(
            &index,
            "1 GC roots point to objects that are not in the dump"
        ));
        assert_eq!(index.find(u64::MAX), None);
        assert_eq!(index.find(u64::MAX - 1), None);
    }
}

/// The seed corpus is valid dumps.
#[test]
fn fuzz_seeds_are_valid_dumps() {
    let dir = scratch();
    let seeds = files_in(&fuzz_dir("seeds"));
    assert!(!seeds.is_empty(), "no seeds in fuzz/seeds");
    for path in seeds {
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            bytes.len() < 50_000,
            "{} is too big for a seed",
            path.display()
        );
        let index =
            exercise(dir.path(), &bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(index.object_count() > 0, "{}", path.display());
    }
}

/// Seeds for the fuzzers, written by the test writer. `scripts/fuzz.sh` regenerates
/// `fuzz/seeds/` with `HEAPSIGHT_WRITE_SEEDS=1 cargo test --test bad_input write_fuzz_seeds`.
pub fn seed_dumps() -> Vec<(&'static str, Vec<u8>)> {
    let tiny = {
        let mut b = HeapBuilder::new(4).segments(1);
        let obj = b.object_class;
        let c = b.class("T", Some(obj), &[("next", Ty::Object), ("n", Ty::Int)]);
        let a = b.instance(c);
        let x = b.instance_with(c, &[("next", Val::Object(a)), ("n", Val::Int(5))]);
        b.root(Root::JniGlobal {
            object: x,
            jni_ref: 1,
        });
        b.string("hi");
        b
    };
    let android = {
        let mut b = HeapBuilder::with(Version::V103, 4, StringStyle::Compact)
            .android_heap_info()
            .segments(2);
        b.primitive_array_nodata(Ty::Int, 100);
        let s = b.string("android");
        for r in Root::every_kind(s, 1) {
            b.root(r);
        }
        b
    };
    let jdk8 = {
        let mut b =
            HeapBuilder::with(Version::V101, 8, StringStyle::Jdk8).order(Order::MetadataLast);
        b.string("jdk8 string");
        b.thread("main", &[FrameDef::new("Main", "main", "Main.java", 1)]);
        b
    };
    vec![
        ("tiny-4", tiny.build().raw),
        (
            "realistic-8-segments",
            realistic_heap(8, 40).segments(3).build().raw,
        ),
        ("realistic-4-single", realistic_heap(4, 40).build().raw),
        (
            "realistic-8-length0",
            realistic_heap(8, 30).heap_dump_length(0).build().raw,
        ),
        (
            "unusual-order",
            realistic_heap(8, 30)
                .order(Order::MetadataLast)
                .instances_before_classes(true)
                .shuffle(3)
                .segments(2)
                .extra_record(Placement::Start, 0x42, b"vendor")
                .build()
                .raw,
        ),
        ("android-1.0.3", android.build().raw),
        ("jdk8-1.0.1", jdk8.build().raw),
        (
            "gzip-chunked",
            realistic_heap(8, 30)
                .segments(2)
                .gzip(Gzip::Chunked { block_size: 2048 })
                .build()
                .bytes,
        ),
    ]
}

#[test]
fn write_fuzz_seeds() {
    if std::env::var_os("HEAPSIGHT_WRITE_SEEDS").is_none() {
        return;
    }
    let dir = fuzz_dir("seeds");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in seed_dumps() {
        std::fs::write(dir.join(format!("{name}.bin")), bytes).unwrap();
    }
}

/// One random mutation: flip, set, insert, delete, duplicate or truncate; numbers that matter
/// in HPROF (lengths, tags) are favoured.
fn mutate(rng: &mut XorShift, data: &mut Vec<u8>) {
    const INTERESTING: [u8; 12] = [
        0x00, 0x01, 0x02, 0x0C, 0x1C, 0x20, 0x21, 0x22, 0x23, 0x2C, 0x7F, 0xFF,
    ];
    if data.is_empty() {
        data.push(rng.next_u64() as u8);
        return;
    }
    let len = data.len() as u64;
    let pos = rng.below(len) as usize;
    match rng.below(9) {
        0 => data[pos] ^= 1 << rng.below(8),
        1 => data[pos] = rng.next_u64() as u8,
        2 => data[pos] = INTERESTING[rng.below(INTERESTING.len() as u64) as usize],
        3 => {
            // A u4 (a length or count) set to something interesting.
            let v: u32 = match rng.below(5) {
                0 => 0,
                1 => u32::MAX,
                2 => 0x7fff_ffff,
                3 => rng.below(64) as u32,
                _ => rng.next_u64() as u32,
            };
            for (i, b) in v.to_be_bytes().iter().enumerate() {
                if let Some(x) = data.get_mut(pos + i) {
                    *x = *b;
                }
            }
        }
        4 => {
            let n = 1 + rng.below(8) as usize;
            for _ in 0..n {
                data.insert(pos, rng.next_u64() as u8);
            }
        }
        5 => {
            let n = (1 + rng.below(16) as usize).min(data.len() - pos);
            data.drain(pos..pos + n);
        }
        6 => {
            let n = (1 + rng.below(64) as usize).min(data.len() - pos);
            let chunk = data[pos..pos + n].to_vec();
            let at = rng.below(len) as usize;
            data.splice(at..at, chunk);
        }
        7 => data.truncate(pos.max(1)),
        _ => {
            // Small arithmetic on a byte (an off-by-one length).
            data[pos] = data[pos].wrapping_add(rng.below(5) as u8).wrapping_sub(2);
        }
    }
}

/// Mutates the seeds for `HEAPSIGHT_FUZZ_SECS` seconds (default 10); saves any input that
/// panics, or takes over 10 s, to `fuzz/regressions/` and fails. Run it in release:
/// `HEAPSIGHT_FUZZ_SECS=600 cargo test --release --test bad_input -- --ignored mutation_fuzzer`.
#[test]
#[ignore = "long-running fuzzer; see scripts/fuzz.sh"]
fn mutation_fuzzer() {
    let secs: u64 = std::env::var("HEAPSIGHT_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let seed: u64 = std::env::var("HEAPSIGHT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("mutation fuzzer: seed {seed}, {secs} s");
    let mut corpus: Vec<Vec<u8>> = seed_dumps().into_iter().map(|(_, b)| b).collect();
    corpus.extend(
        files_in(&fuzz_dir("seeds"))
            .iter()
            .filter_map(|p| std::fs::read(p).ok()),
    );
    let dir = scratch();
    // An abort (not a panic: e.g. a failed allocation) kills the process before the input can
    // be saved; it is still there.
    eprintln!(
        "mutation fuzzer: each input is written to {}/input.hprof first",
        dir.path().display()
    );
    let mut rng = XorShift::new(seed);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let prev_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut runs = 0u64;
    let mut failures = Vec::new();
    while Instant::now() < deadline {
        let mut input = corpus[rng.below(corpus.len() as u64) as usize].clone();
        for _ in 0..1 + rng.below(4) {
            mutate(&mut rng, &mut input);
        }
        let started = Instant::now();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            exercise(dir.path(), &input).map(|_| ())
        }));
        runs += 1;
        let why = match r {
            Err(p) => Some(format!(
                "panic: {}",
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
            Ok(Err(e)) if !(e.to_string().contains("byte")) => {
                Some(format!("error without an offset: {e}"))
            }
            _ if started.elapsed() > Duration::from_secs(10) => {
                Some(format!("slow: {:?}", started.elapsed()))
            }
            _ => None,
        };
        if let Some(why) = why {
            let out = fuzz_dir("regressions");
            std::fs::create_dir_all(&out).unwrap();
            let name = format!("mutation-{seed}-{runs}.bin");
            std::fs::write(out.join(&name), &input).unwrap();
            failures.push(format!("{name}: {why}"));
        } else if runs % 64 == 0 && corpus.len() < 256 && input.len() < 64 * 1024 {
            // Keep some mutants as new parents (cheap diversity without coverage feedback).
            corpus.push(input);
        }
    }
    std::panic::set_hook(prev_hook);
    eprintln!("mutation fuzzer: {runs} runs, {} failures", failures.len());
    assert!(failures.is_empty(), "{failures:#?}");
}
