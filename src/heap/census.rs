//! The class census: instances and shallow bytes per class, read straight from the dump
//! without numbering objects or keeping anything per object. It is what a histogram alone
//! needs (`report --histogram-only`): two parallel passes and little more memory than the
//! class table. Counts and sizes agree with the full index's histogram by construction: both
//! read objects with `reader::ObjectReader` and size them with `reader::ShallowSizes`.

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::build::{prepare, Prepared};
use super::classes::ClassTable;
use super::dumps::DumpList;
use super::layout::{self, ObjectLayout};
use super::reader::{
    apply_layout, layout_sample, ObjectReader, ReadProblems, ShallowSizes, LAYOUT_SAMPLE,
};
use super::scan::Scan;
use crate::hprof::{DumpSource, Header, HprofError, RootKind};
use crate::progress::{Phase, Progress};

pub struct Census {
    source: DumpSource,
    header: Header,
    layout: ObjectLayout,
    classes: ClassTable,
    /// (instances, shallow bytes), parallel to the class table.
    per_class: Vec<(u64, u64)>,
    objects: u64,
    /// GC roots whose object is in the dump, by kind.
    roots: FxHashMap<RootKind, u64>,
    threads: usize,
    warnings: Vec<String>,
    dumps: DumpList,
}

impl Census {
    pub fn open(path: &std::path::Path, progress: &Progress) -> Result<Census, HprofError> {
        let source = DumpSource::open(path, progress)?;
        Census::from_source(source, progress)
    }

    pub fn from_source(source: DumpSource, progress: &Progress) -> Result<Census, HprofError> {
        let Prepared {
            header,
            scan,
            mut classes,
            lookup,
            mut warnings,
            dumps,
        } = prepare(&source, false, progress)?;
        let data = source.bytes();
        let id_size = header.id_size;
        let Scan {
            chunks,
            objects,
            roots: raw_roots,
            threads: raw_threads,
            ..
        } = scan;

        // The same sample the full index takes: the first objects in file order.
        let mut first = Vec::new();
        let mut reader = ObjectReader::new(data, id_size, &classes, &lookup);
        for chunk in &chunks {
            if first.len() >= LAYOUT_SAMPLE {
                break;
            }
            reader.for_each(chunk, |o| first.push(o));
        }
        let sample = layout_sample(first.into_iter());
        let layout = layout::detect(id_size, &classes, &sample);
        apply_layout(&mut classes, &layout);
        let sizes = ShallowSizes::new(&classes, &layout);

        let root_ids: FxHashSet<u64> = raw_roots.iter().map(|r| r.object_id).collect();
        let problems = ReadProblems::default();
        progress.start(Phase::Index, data.len() as u64);
        let nclasses = classes.len();
        let (per_class, found_roots) = chunks
            .par_iter()
            .fold(
                || (vec![(0u64, 0u64); nclasses], Vec::new()),
                |(mut per_class, mut found), chunk| {
                    if progress.is_cancelled() {
                        return (per_class, found);
                    }
                    let mut reader = ObjectReader::new(data, id_size, &classes, &lookup);
                    reader.for_each(chunk, |o| {
                        let c = &mut per_class[o.class as usize];
                        c.0 += 1;
                        c.1 += sizes.of(o.class, o.length);
                        if root_ids.contains(&o.id) {
                            found.push(o.id);
                        }
                    });
                    problems.add(&reader);
                    for run in &chunk.runs {
                        progress.add((run.end - run.start) as u64);
                        source.release(run.start, run.end - run.start);
                    }
                    (per_class, found)
                },
            )
            .reduce(
                || (vec![(0u64, 0u64); nclasses], Vec::new()),
                |(mut a, mut fa), (b, fb)| {
                    for (x, y) in a.iter_mut().zip(b) {
                        x.0 += y.0;
                        x.1 += y.1;
                    }
                    fa.extend(fb);
                    (a, fa)
                },
            );
        if progress.is_cancelled() {
            return Err(HprofError::Cancelled);
        }
        problems.warn(&mut warnings);

        let found_roots: FxHashSet<u64> = found_roots.into_iter().collect();
        let mut roots: FxHashMap<RootKind, u64> = FxHashMap::default();
        let mut thread_serials: FxHashSet<u32> = raw_threads.iter().map(|t| t.serial).collect();
        let mut missing_roots = 0usize;
        for r in &raw_roots {
            if !found_roots.contains(&r.object_id) {
                missing_roots += 1;
                continue;
            }
            *roots.entry(r.kind).or_default() += 1;
            if r.kind == RootKind::ThreadObject {
                thread_serials.extend(r.thread_serial);
            }
        }
        if missing_roots > 0 {
            warnings.push(format!(
                "{missing_roots} GC roots point to objects that are not in the dump; ignored"
            ));
        }
        Ok(Census {
            source,
            header,
            layout,
            classes,
            per_class,
            objects: objects as u64,
            roots,
            threads: thread_serials.len(),
            warnings,
            dumps,
        })
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

    /// (instances, shallow bytes) of each class, parallel to the class table.
    pub fn per_class(&self) -> &[(u64, u64)] {
        &self.per_class
    }

    pub fn object_count(&self) -> u64 {
        self.objects
    }

    /// Number of GC roots of each kind (those whose object is in the dump).
    pub fn roots_by_kind(&self) -> &FxHashMap<RootKind, u64> {
        &self.roots
    }

    pub fn thread_count(&self) -> usize {
        self.threads
    }

    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The heap dumps of the file and the one counted.
    pub fn dumps(&self) -> &DumpList {
        &self.dumps
    }
}
