//! Fuzz target: any bytes, read as a heap dump (plain or gzip), must give an index or an
//! error, never a panic, a hang or an out-of-memory. The census runs, then everything the
//! report command does runs on the index, plus the per-object readers; with `HEAPSIGHT_FUZZ_ANALYSIS=1` the retention
//! analysis (graph, dominators, paths) too.
//!
//! The library opens files (it maps them), so each input is written to an unlinked file in
//! /dev/shm, which the library opens as /proc/self/fd/N (Linux only, as libFuzzer runs here).

#![no_main]

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use heapsight::analysis::histogram::histogram;
use heapsight::analysis::{Analysis, AnalysisOptions};
use heapsight::heap::{Census, HeapIndex};
use heapsight::hprof::HprofError;
use heapsight::progress::Progress;
use heapsight::report::{build_report, census_report, ReportOptions};
use libfuzzer_sys::fuzz_target;

struct Scratch {
    /// An unlinked file (nothing is left behind when libFuzzer exits), opened by the library
    /// through /proc/self/fd.
    file: Mutex<File>,
    path: PathBuf,
    analysis: bool,
}

fn scratch() -> &'static Scratch {
    static S: OnceLock<Scratch> = OnceLock::new();
    S.get_or_init(|| {
        let file = tempfile::tempfile_in("/dev/shm")
            .or_else(|_| tempfile::tempfile())
            .expect("a scratch file");
        let path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        Scratch {
            file: Mutex::new(file),
            path,
            analysis: std::env::var_os("HEAPSIGHT_FUZZ_ANALYSIS").is_some(),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let s = scratch();
    let mut f = s.file.lock().unwrap_or_else(|e| e.into_inner());
    f.set_len(0).unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    f.write_all(data).unwrap();
    f.flush().unwrap();
    // The census (`report --histogram-only`) reads the same bytes its own way.
    if let Ok(census) = Census::open(&s.path, &Progress::new()) {
        let report = census_report(&census, ReportOptions { top: None });
        let _ = heapsight::report::render_text(&report);
    }
    let index = match HeapIndex::open(&s.path, &Progress::new()) {
        Ok(index) => index,
        Err(e) => {
            // Every error names where it happened (I/O errors name the file).
            let msg = e.to_string();
            assert!(
                matches!(e, HprofError::Io { .. }) || msg.contains("byte"),
                "error without an offset: {msg}"
            );
            return;
        }
    };
    let _ = histogram(&index);
    let report = build_report(&index, None, ReportOptions { top: None });
    let _ = heapsight::report::render_text(&report);
    for o in 0..index.object_count().min(1_000) as u32 {
        let _ = index.fields(o);
        let _ = index.read_string(o);
        let _ = index.describe(o);
        let _ = index.array_length(o);
    }
    for t in index.threads() {
        for f in &t.frames {
            let _ = f.display();
        }
    }
    if s.analysis {
        let index = Arc::new(index);
        if let Ok(a) = Analysis::run(index.clone(), AnalysisOptions::default(), &Progress::new()) {
            let report = build_report(&index, Some(&a), ReportOptions { top: Some(10) });
            let _ = heapsight::report::render_text(&report);
            let _ = heapsight::report::render_dominator_tree(&a, 4, 0.0);
        }
    }
});
