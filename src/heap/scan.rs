//! The first pass over a dump: a walk over the top-level records, which cuts the heap-dump
//! records into chunks of whole sub-records, then a parallel survey of the chunks that counts
//! their objects and collects class dumps and GC roots.
//!
//! HotSpot writes heap-dump segments of about 1 MB, so the walk only reads record headers and
//! the survey is where the sub-records are parsed, on every core. A single huge HEAP DUMP
//! record (older JVMs) is cut by reading its sub-records once in sequence.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::chunk_objects::ChunkObjects;
use super::dumps::{DumpList, DumpPart};
use super::threads::{RawFrame, RawThread, RawTrace};
use crate::hprof::records::Record;
use crate::hprof::{ClassDump, GcRoot, HprofError, RecordIter, SubRecord, SubRecordIter};
use crate::progress::Progress;

/// Target size of a chunk of sub-records handed to one worker.
const CHUNK_BYTES: usize = 8 << 20;

/// A run of whole sub-records of one heap-dump record.
#[derive(Clone, Copy)]
pub(super) struct Run {
    pub start: usize,
    pub end: usize,
    segment: u32,
}

/// One heap-dump record: where its body is and whether the file ends inside it.
struct Segment {
    body_start: usize,
    body_end: usize,
    truncated: bool,
    /// Read once in sequence to cut it: half of its progress is counted by the walk.
    cut: bool,
}

/// Consecutive runs handed to one worker, and the file-order position of its first object.
#[derive(Default)]
pub(super) struct Chunk {
    pub runs: Vec<Run>,
    pub first_object: usize,
}

/// What the first pass collects.
#[derive(Default)]
pub(super) struct Scan<'a> {
    pub utf8: FxHashMap<u64, (u64, u32)>,
    pub class_names: FxHashMap<u64, u64>,
    pub class_serials: FxHashMap<u32, u64>,
    pub frames: FxHashMap<u64, RawFrame>,
    pub traces: FxHashMap<u32, RawTrace>,
    pub threads: Vec<RawThread>,
    pub class_dumps: Vec<(u64, ClassDump<'a>)>,
    pub roots: Vec<GcRoot>,
    pub chunks: Vec<Chunk>,
    pub objects: usize,
    /// Every object's identifier in file order, when asked for.
    pub ids: Vec<u64>,
    /// The objects of each of `chunks`, when asked for.
    pub objects_by_chunk: Vec<ChunkObjects>,
    pub unknown_tags: FxHashMap<u8, u32>,
    pub warnings: Vec<String>,
    /// Every heap dump of the file; only the selected one is read.
    pub dumps: DumpList,
}

/// Scans every record once; `collect_objects` keeps every object's identifier and what
/// `chunk_objects` fills the index from. `release` drops
/// the pages of a surveyed chunk: the next pass reads them again, and resident file pages
/// count against the process's memory.
/// `dump` picks one of several heap dumps (1-based; `None`: the last).
pub(super) fn scan_records<'a>(
    data: &'a [u8],
    start: usize,
    id_size: usize,
    collect_objects: bool,
    dump: Option<usize>,
    progress: &Progress,
    release: &(dyn Fn(usize, usize) + Sync),
) -> Result<Scan<'a>, HprofError> {
    let mut s = Scan::default();
    let mut segments: Vec<Segment> = Vec::new();
    // The dump each segment belongs to; a segment list is open until its HEAP DUMP END.
    let mut dump_of_segment: Vec<usize> = Vec::new();
    let mut segments_open = false;
    let mut runs: Vec<Run> = Vec::new();
    // Reading a record header maps a whole page-cache folio (up to 2 MB on ext4 or xfs):
    // over 1 MB segments the walk alone would map the whole file.
    let mut released_to = start;
    for rec in RecordIter::new(data, start, id_size) {
        if progress.is_cancelled() {
            return Err(HprofError::Cancelled);
        }
        let offset = rec.offset as usize;
        if offset - released_to >= CHUNK_BYTES {
            release(released_to, offset - released_to);
            released_to = offset;
        }
        match rec.record {
            Record::Utf8 { id, text } => {
                let off = text.as_ptr() as usize - data.as_ptr() as usize;
                s.utf8.insert(id, (off as u64, text.len() as u32));
            }
            Record::LoadClass {
                serial,
                class_id,
                name_id,
                ..
            } => {
                s.class_names.insert(class_id, name_id);
                s.class_serials.insert(serial, class_id);
            }
            Record::StackFrame {
                frame_id,
                method_name_id,
                signature_id,
                source_file_id,
                class_serial,
                line,
            } => {
                s.frames.insert(
                    frame_id,
                    RawFrame {
                        method_name_id,
                        signature_id,
                        source_file_id,
                        class_serial,
                        line,
                    },
                );
            }
            Record::StackTrace {
                serial,
                thread_serial,
                frame_ids,
            } => {
                s.traces.insert(
                    serial,
                    RawTrace {
                        thread_serial,
                        frames: frame_ids.iter().collect(),
                    },
                );
            }
            Record::StartThread {
                serial,
                object_id,
                stack_serial,
                name_id,
                ..
            } => s.threads.push(RawThread {
                serial,
                object_id,
                stack_serial,
                name_id: Some(name_id),
            }),
            Record::HeapDump {
                body,
                body_offset,
                truncated,
            } => {
                let body_start = body_offset as usize;
                let segment = segments.len() as u32;
                let tag = data.get(offset).copied().unwrap_or(0);
                if s.dumps.parts.is_empty() || tag == crate::hprof::records::tag::HEAP_DUMP || !segments_open {
                    let time = data.get(offset + 1..offset + 5).unwrap_or(&[0; 4]);
                    s.dumps.parts.push(DumpPart {
                        number: s.dumps.parts.len() + 1,
                        time_us: u32::from_be_bytes([time[0], time[1], time[2], time[3]]),
                        offset: offset as u64,
                        objects: 0,
                    });
                }
                segments_open = tag == crate::hprof::records::tag::HEAP_DUMP_SEGMENT;
                dump_of_segment.push(s.dumps.parts.len() - 1);
                let cut = cut_runs(body, body_start, segment, id_size, CHUNK_BYTES, &mut runs, progress);
                segments.push(Segment {
                    body_start,
                    body_end: body_start + body.len(),
                    truncated,
                    cut,
                });
            }
            Record::Unknown { tag, .. } => *s.unknown_tags.entry(tag).or_default() += 1,
            Record::Truncated {
                tag,
                needed,
                available,
            } => s.warnings.push(format!(
                "the dump is truncated: the record with tag 0x{tag:02x} at byte {} needs {needed} bytes but the file ends after {available}; everything before it was read",
                rec.offset
            )),
            Record::Malformed { tag, at } => s.warnings.push(format!(
                "record with tag 0x{tag:02x} at byte {} is shorter than its fields (needed {} bytes at byte {}); skipped",
                rec.offset, at.needed, at.offset
            )),
            Record::UnloadClass { .. }
            | Record::EndThread { .. }
            | Record::HeapSummary { .. }
            | Record::AllocSites { .. }
            | Record::CpuSamples { .. }
            | Record::ControlSettings { .. } => {}
            Record::HeapDumpEnd => segments_open = false,
        }
    }
    s.dumps.selected = match dump {
        None => s.dumps.parts.len().saturating_sub(1),
        Some(n) if (1..=s.dumps.parts.len()).contains(&n) => n - 1,
        Some(n) => {
            return Err(HprofError::NoSuchDump {
                requested: n,
                available: s.dumps.parts.len(),
            })
        }
    };
    progress.mark("records");
    let heap_bytes: usize = runs.iter().map(|r| r.end - r.start).sum();
    progress.add((data.len() - heap_bytes) as u64);
    let chunks = group(runs, &dump_of_segment);
    let survey_of = |chunk: &Chunk| survey_chunk(data, id_size, chunk, collect_objects);
    survey(
        &mut s,
        data,
        &segments,
        &dump_of_segment,
        chunks,
        &survey_of,
        progress,
        release,
    )?;
    Ok(s)
}

/// Cuts a heap-dump body into runs of about `chunk_bytes`. A body that small stays whole
/// without being read; a larger one is read in sequence to find sub-record boundaries (up to
/// the first bad sub-record: the survey reports it). True when the body was read.
fn cut_runs(
    body: &[u8],
    body_start: usize,
    segment: u32,
    id_size: usize,
    chunk_bytes: usize,
    runs: &mut Vec<Run>,
    progress: &Progress,
) -> bool {
    let run = |start, end| Run {
        start,
        end,
        segment,
    };
    if body.len() <= 2 * chunk_bytes {
        // Even an empty body: a truncated one must still be warned about.
        runs.push(run(body_start, body_start + body.len()));
        return false;
    }
    let mut it = SubRecordIter::new(body, body_start as u64, id_size);
    let mut run_start = body_start;
    while let Some(Ok(_)) = it.next() {
        let at = it.offset() as usize;
        if at - run_start >= chunk_bytes {
            runs.push(run(run_start, at));
            progress.add(((at - run_start) / 2) as u64);
            run_start = at;
            if progress.is_cancelled() {
                break;
            }
        }
    }
    if body_start + body.len() > run_start {
        runs.push(run(run_start, body_start + body.len()));
    }
    true
}

/// Groups consecutive runs of one dump into chunks of about `CHUNK_BYTES`.
fn group(runs: Vec<Run>, dump_of_segment: &[usize]) -> Vec<Chunk> {
    let dump_of = |r: &Run| {
        dump_of_segment
            .get(r.segment as usize)
            .copied()
            .unwrap_or(0)
    };
    let mut chunks = Vec::new();
    let mut current = Chunk::default();
    let mut bytes = 0;
    for r in runs {
        // A chunk holds one dump's runs, within 4 GiB (`ChunkObjects` keeps u32 offsets).
        let apart = |first: &Run| r.end - first.start > u32::MAX as usize;
        if current
            .runs
            .last()
            .is_some_and(|last| dump_of(last) != dump_of(&r))
            || current.runs.first().is_some_and(apart)
        {
            chunks.push(std::mem::take(&mut current));
            bytes = 0;
        }
        current.runs.push(r);
        bytes += r.end - r.start;
        if bytes >= CHUNK_BYTES {
            chunks.push(std::mem::take(&mut current));
            bytes = 0;
        }
    }
    if !current.runs.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// What one worker found in one chunk.
#[derive(Default)]
struct ChunkSurvey<'a> {
    objects: usize,
    ids: Vec<u64>,
    objects_of: ChunkObjects,
    class_dumps: Vec<(u64, ClassDump<'a>)>,
    roots: Vec<GcRoot>,
    /// The first bad sub-record: its run, the error, and where the good sub-records end.
    failure: Option<(usize, HprofError, usize)>,
}

fn survey_chunk<'a>(
    data: &'a [u8],
    id_size: usize,
    chunk: &Chunk,
    collect_objects: bool,
) -> ChunkSurvey<'a> {
    let mut out = ChunkSurvey::default();
    if let Some(first) = chunk.runs.first() {
        out.objects_of = ChunkObjects::new(first.start);
    }
    for (ri, run) in chunk.runs.iter().enumerate() {
        let mut it = SubRecordIter::new(&data[run.start..run.end], run.start as u64, id_size);
        let mut last_good = run.start;
        while let Some(r) = it.next() {
            let r = match r {
                Ok(r) => r,
                Err(e) => {
                    out.failure = Some((ri, e, last_good));
                    out.objects_of.finish();
                    return out;
                }
            };
            let id = match r.record {
                SubRecord::Instance { id, .. }
                | SubRecord::ObjectArray { id, .. }
                | SubRecord::PrimitiveArray { id, .. } => Some(id),
                SubRecord::Class(c) => {
                    out.class_dumps.push((r.offset, c));
                    Some(c.class_id)
                }
                SubRecord::Root(_) | SubRecord::HeapDumpInfo { .. } => None,
            };
            if let Some(id) = id {
                out.objects += 1;
                if collect_objects {
                    out.ids.push(id);
                    out.objects_of.push(r.offset, &r.record);
                }
            }
            match r.record {
                SubRecord::Instance { .. }
                | SubRecord::ObjectArray { .. }
                | SubRecord::PrimitiveArray { .. }
                | SubRecord::Class(_) => {}
                SubRecord::Root(root) => out.roots.push(root),
                SubRecord::HeapDumpInfo { .. } => {}
            }
            last_good = it.offset() as usize;
        }
    }
    out.objects_of.finish();
    out
}

/// The parts joined, copied on every core (hundreds of MB on big dumps).
fn concat_parallel(parts: Vec<Vec<u64>>) -> Vec<u64> {
    let mut all = vec![0u64; parts.iter().map(Vec::len).sum()];
    let mut slots: Vec<&mut [u64]> = Vec::with_capacity(parts.len());
    let mut rest: &mut [u64] = &mut all;
    for p in &parts {
        let (slot, tail) = rest.split_at_mut(p.len());
        slots.push(slot);
        rest = tail;
    }
    slots
        .into_par_iter()
        .zip(parts)
        .for_each(|(slot, part)| slot.copy_from_slice(&part));
    all
}

/// Surveys the chunks in parallel, then merges what they found in file order. The first bad
/// sub-record ends the scan: with an error, or with a warning when the file ends inside its
/// heap-dump record (a truncated dump keeps everything before it).
#[allow(clippy::too_many_arguments)]
fn survey<'a>(
    s: &mut Scan<'a>,
    data: &'a [u8],
    segments: &[Segment],
    dump_of_segment: &[usize],
    mut chunks: Vec<Chunk>,
    survey_of: &(dyn Fn(&Chunk) -> ChunkSurvey<'a> + Sync),
    progress: &Progress,
    release: &(dyn Fn(usize, usize) + Sync),
) -> Result<(), HprofError> {
    let surveys: Vec<ChunkSurvey<'a>> = chunks
        .par_iter()
        .map(|chunk| {
            if progress.is_cancelled() {
                return ChunkSurvey::default();
            }
            let found = survey_of(chunk);
            for r in &chunk.runs {
                release(r.start, r.end - r.start);
            }
            let weight = |r: &Run| {
                let bytes = r.end - r.start;
                if segments[r.segment as usize].cut {
                    bytes / 2
                } else {
                    bytes
                }
            };
            progress.add(chunk.runs.iter().map(weight).sum::<usize>() as u64);
            found
        })
        .collect();
    if progress.is_cancelled() {
        return Err(HprofError::Cancelled);
    }
    let mut kept = chunks.len();
    let mut id_parts: Vec<Vec<u64>> = Vec::with_capacity(chunks.len());
    let mut other_dump = vec![false; chunks.len()];
    for (ci, (chunk, found)) in chunks.iter_mut().zip(surveys).enumerate() {
        let dump = chunk
            .runs
            .first()
            .and_then(|r| dump_of_segment.get(r.segment as usize))
            .copied()
            .unwrap_or(0);
        if let Some(part) = s.dumps.parts.get_mut(dump) {
            part.objects += found.objects;
        }
        if dump != s.dumps.selected {
            // Another dump of the file: counted for the list, not read.
            other_dump[ci] = true;
            continue;
        }
        chunk.first_object = s.objects;
        s.objects += found.objects;
        id_parts.push(found.ids);
        s.objects_by_chunk.push(found.objects_of);
        s.class_dumps.extend(found.class_dumps);
        s.roots.extend(found.roots);
        if let Some((ri, error, last_good)) = found.failure {
            let segment = &segments[chunk.runs[ri].segment as usize];
            if !segment.truncated {
                return Err(error);
            }
            s.warnings.push(format!(
                "the dump is truncated: the heap-dump segment at byte {} ends with the file at byte {}; {error}. Objects before byte {last_good} were read, {} bytes after were not",
                segment.body_start.saturating_sub(9),
                data.len(),
                data.len() - last_good
            ));
            chunk.runs.truncate(ri + 1);
            chunk.runs[ri].end = last_good;
            kept = ci + 1;
            break;
        }
        if let Some(last) = chunk.runs.last() {
            let segment = &segments[last.segment as usize];
            if segment.truncated && last.end == segment.body_end {
                s.warnings.push(format!(
                    "the dump is truncated inside the heap-dump segment at byte {}: the file ends at byte {} before the segment's declared end; everything in it was read",
                    segment.body_start.saturating_sub(9),
                    data.len()
                ));
            }
        }
    }
    chunks.truncate(kept);
    let mut keep = other_dump.iter().map(|&other| !other);
    chunks.retain(|_| keep.next().unwrap_or(true));
    s.chunks = chunks;
    s.ids = concat_parallel(id_parts);
    progress.set(data.len() as u64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body of `n` ROOT UNKNOWN sub-records (8-byte ids), then one byte of an unknown tag.
    fn roots_then_bad_tag(n: usize) -> Vec<u8> {
        let mut body = Vec::new();
        for i in 0..n as u64 {
            body.push(0xFF);
            body.extend_from_slice(&(0x1000 + i * 8).to_be_bytes());
        }
        body.push(0x77);
        body
    }

    #[test]
    fn a_large_body_is_cut_at_sub_record_boundaries_and_its_error_found() {
        let body = roots_then_bad_tag(1000);
        let base = 100;
        let mut runs = Vec::new();
        let cut = cut_runs(&body, base, 0, 8, 100, &mut runs, &Progress::new());
        assert!(cut);
        assert_eq!(runs.first().map(|r| r.start), Some(base));
        assert_eq!(runs.last().map(|r| r.end), Some(base + body.len()));
        for w in runs.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
        for r in &runs[..runs.len() - 1] {
            assert_eq!((r.end - base) % 9, 0, "run ends inside a sub-record");
        }
        let mut data = vec![0u8; base];
        data.extend_from_slice(&body);
        let chunk = Chunk {
            runs,
            first_object: 0,
        };
        let found = survey_chunk(&data, 8, &chunk, true);
        assert_eq!(found.roots.len(), 1000);
        let (_, error, last_good) = found.failure.expect("the bad tag is reported");
        assert_eq!(last_good, base + 9000);
        assert!(matches!(
            error,
            HprofError::UnknownSubRecord { tag: 0x77, offset } if offset == (base + 9000) as u64
        ));
    }

    #[test]
    fn a_small_body_stays_whole_without_being_read() {
        let body = roots_then_bad_tag(10);
        let mut runs = Vec::new();
        assert!(!cut_runs(&body, 0, 3, 8, 100, &mut runs, &Progress::new()));
        assert_eq!(runs.len(), 1);
        assert_eq!(
            (runs[0].start, runs[0].end, runs[0].segment),
            (0, body.len(), 3)
        );
    }

    #[test]
    fn runs_are_grouped_into_chunks_of_about_the_chunk_size() {
        let runs: Vec<Run> = (0..10)
            .map(|i| Run {
                start: i * (3 << 20),
                end: (i + 1) * (3 << 20),
                segment: i as u32,
            })
            .collect();
        let chunks = group(runs, &[0; 10]);
        assert_eq!(
            chunks.iter().map(|c| c.runs.len()).collect::<Vec<_>>(),
            [3, 3, 3, 1]
        );
    }
}
