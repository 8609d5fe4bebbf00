//! The headless report: the same analysis the UI shows, as JSON or an aligned text table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::analysis::histogram::{histogram, Histogram};
use crate::format::{bytes, thousands};
use crate::heap::HeapIndex;
use crate::hprof::Compression;

#[derive(Debug, Serialize)]
pub struct Report {
    pub file: String,
    pub format: String,
    pub id_size: usize,
    pub timestamp_ms: u64,
    pub compressed: bool,
    pub layout: String,
    pub summary: Summary,
    pub histogram: Vec<HistogramEntry>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub objects: u64,
    pub classes: u64,
    pub shallow_bytes: u64,
    pub gc_roots: BTreeMap<String, u64>,
    pub threads: u64,
}

#[derive(Debug, Serialize)]
pub struct HistogramEntry {
    pub class: String,
    pub loader: String,
    pub count: u64,
    pub shallow_bytes: u64,
}

/// Options of `heapsight report`.
#[derive(Debug, Clone, Copy)]
pub struct ReportOptions {
    /// Histogram rows to keep; `None` keeps all.
    pub top: Option<usize>,
}

pub fn build_report(index: &HeapIndex, options: ReportOptions) -> Report {
    let hist: Histogram = histogram(index);
    let mut gc_roots = BTreeMap::new();
    for r in index.roots() {
        *gc_roots.entry(r.kind.as_str().to_string()).or_insert(0u64) += 1;
    }
    let classes = index.classes();
    let rows = hist.rows.iter().take(options.top.unwrap_or(usize::MAX));
    Report {
        file: index.source().path().display().to_string(),
        format: index.header().version.as_str().to_string(),
        id_size: index.header().id_size,
        timestamp_ms: index.header().timestamp_ms,
        compressed: !matches!(index.source().compression(), Compression::None),
        layout: index.layout().describe(),
        summary: Summary {
            objects: index.object_count() as u64,
            classes: classes
                .classes
                .iter()
                .filter(|c| c.dump_offset.is_some())
                .count() as u64,
            shallow_bytes: hist.total_shallow_bytes,
            gc_roots,
            threads: index.threads().len() as u64,
        },
        histogram: rows
            .map(|r| {
                let c = classes.get(r.class);
                HistogramEntry {
                    class: c.name.clone(),
                    loader: format!("0x{:x}", c.loader_id),
                    count: r.count,
                    shallow_bytes: r.shallow_bytes,
                }
            })
            .collect(),
        warnings: index.warnings().to_vec(),
    }
}

/// The report as a person reads it: a summary and aligned tables.
pub fn render_text(r: &Report) -> String {
    let mut out = String::new();
    let s = &r.summary;
    let _ = writeln!(out, "{}", r.file);
    let _ = writeln!(
        out,
        "  {}, {}-byte identifiers{}; {}",
        r.format,
        r.id_size,
        if r.compressed { ", gzip" } else { "" },
        r.layout
    );
    let _ = writeln!(
        out,
        "  {} objects, {} classes, {} shallow, {} threads",
        thousands(s.objects),
        thousands(s.classes),
        bytes(s.shallow_bytes),
        thousands(s.threads)
    );
    let roots: Vec<String> = s
        .gc_roots
        .iter()
        .map(|(k, v)| format!("{k} {}", thousands(*v)))
        .collect();
    let _ = writeln!(out, "  GC roots: {}", roots.join(", "));
    out.push('\n');
    let table: Vec<[String; 4]> = r
        .histogram
        .iter()
        .map(|h| {
            [
                thousands(h.count),
                thousands(h.shallow_bytes),
                bytes(h.shallow_bytes),
                if h.loader == "0x0" {
                    h.class.clone()
                } else {
                    format!("{}  (loader {})", h.class, h.loader)
                },
            ]
        })
        .collect();
    let w0 = table.iter().map(|t| t[0].len()).max().unwrap_or(0).max(9);
    let w1 = table.iter().map(|t| t[1].len()).max().unwrap_or(0).max(13);
    let w2 = table.iter().map(|t| t[2].len()).max().unwrap_or(0).max(4);
    let _ = writeln!(
        out,
        "{:>w0$}  {:>w1$}  {:>w2$}  class",
        "instances", "shallow bytes", "size"
    );
    for t in &table {
        let _ = writeln!(out, "{:>w0$}  {:>w1$}  {:>w2$}  {}", t[0], t[1], t[2], t[3]);
    }
    if !r.warnings.is_empty() {
        out.push_str("\nwarnings:\n");
        for w in &r.warnings {
            let _ = writeln!(out, "  - {w}");
        }
    }
    out
}
