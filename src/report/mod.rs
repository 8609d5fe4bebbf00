//! The headless report: the same analysis the UI shows, as JSON or an aligned text table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::analysis::advice::{jvm_advice, Advice};
use crate::analysis::hints::{leak_hints, Hint};
use crate::analysis::histogram::{histogram, Histogram};
use crate::analysis::Analysis;
use crate::format::{bytes, clamp_percent, percent, percent_of, thousands};
use crate::heap::{Census, ClassTable, DumpList, HeapIndex, ObjectLayout};
use crate::hprof::{Compression, DumpSource, Header};

mod dominators;
mod paths;
pub use dominators::render_dominator_tree;
pub use paths::{path_report, render_paths, PathReport};

#[derive(Debug, Serialize)]
pub struct Report {
    pub file: String,
    /// The index file read or written (`heapsight report` sets it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_file: Option<String>,
    pub format: String,
    pub id_size: usize,
    pub timestamp_ms: u64,
    /// `timestamp_ms` as a date: `2026-11-30 05:12 UTC`.
    pub dump_taken: String,
    pub compressed: bool,
    pub layout: String,
    /// Which VM and object layout the sizes assume, and why.
    pub vm: VmReport,
    /// The heap dumps of the file (the hprof agent appends one per request); only `dump` is
    /// analysed.
    pub dumps: Vec<DumpEntry>,
    /// Number (1-based) of the dump analysed; 0 when the file has no heap dump.
    pub dump: usize,
    pub summary: Summary,
    pub histogram: Vec<HistogramEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dominators: Option<Vec<DominatorEntry>>,
    /// Leak-pattern hints, most severe first (with the analysis only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hints: Option<Vec<Hint>>,
    /// The hints as saved in the index file, in place of `hints` (see [`build_report_json`]).
    #[serde(rename = "hints", skip_serializing_if = "Option::is_none")]
    pub saved_hints: Option<Box<serde_json::value::RawValue>>,
    /// JVM facts and flag advice (with the analysis only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<Advice>,
    #[serde(rename = "advice", skip_serializing_if = "Option::is_none")]
    pub saved_advice: Option<Box<serde_json::value::RawValue>>,
    pub warnings: Vec<String>,
}

/// The VM generation and object layout assumed for shallow sizes, with the evidence.
#[derive(Debug, Serialize)]
pub struct VmReport {
    /// `JDK 9-14`, `JDK 24+`, ...
    pub jdk: String,
    /// What in the dump points to that generation.
    pub reason: String,
    /// `java.version` from the dump's system properties, when it has them.
    pub java_version: Option<String>,
    /// `system property java.version` or `class shapes`.
    pub jdk_source: String,
    /// What the class shapes alone point to, and why.
    pub class_shapes: String,
    /// The property and the class shapes name different generations: both, and which won.
    pub disagreement: Option<String>,
    /// Header and references: `64-bit, compressed oops and class pointers`, `32-bit`, ...
    pub layout: String,
    /// `pre-JDK 15 field grouping` or `JDK 15+ field packing`.
    pub field_rules: String,
    pub header_bytes: u32,
    pub reference_bytes: u32,
    pub alignment_bytes: u32,
    /// How many address-adjacent sampled objects sit exactly their computed size apart.
    pub address_check: AddressCheck,
    /// Classes sized from the addresses because the layout rules contradicted them.
    pub sized_from_addresses: Vec<CorrectedClass>,
}

#[derive(Debug, Serialize)]
pub struct DumpEntry {
    pub number: usize,
    pub timestamp_ms: u64,
    pub objects: u64,
}

#[derive(Debug, Serialize)]
pub struct AddressCheck {
    pub pairs: u64,
    pub matching: u64,
}

#[derive(Debug, Serialize)]
pub struct CorrectedClass {
    pub class: String,
    pub computed_bytes: u32,
    pub bytes: u32,
}

impl VmReport {
    fn of(layout: &ObjectLayout, classes: &ClassTable) -> VmReport {
        VmReport {
            jdk: layout.jdk.name().to_string(),
            reason: layout.jdk_reason.to_string(),
            java_version: layout.jdk_choice.java_version.clone(),
            jdk_source: if layout.jdk_choice.from_property {
                "system property java.version"
            } else {
                "class shapes"
            }
            .to_string(),
            class_shapes: layout.jdk_choice.class_shapes.clone(),
            disagreement: layout.jdk_choice.disagreement.clone(),
            layout: layout.shape.name().to_string(),
            field_rules: layout.field_rules().to_string(),
            header_bytes: layout.header,
            reference_bytes: layout.reference,
            alignment_bytes: layout.alignment,
            address_check: AddressCheck {
                pairs: layout.evidence.pairs,
                matching: layout.evidence.matching,
            },
            sized_from_addresses: layout
                .evidence
                .corrected
                .iter()
                .filter(|c| (c.0 as usize) < classes.len())
                .map(|&(c, computed, size)| CorrectedClass {
                    class: classes.get(c).name.clone(),
                    computed_bytes: computed,
                    bytes: size,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct DominatorEntry {
    pub id: String,
    pub class: String,
    pub shallow_bytes: u64,
    pub retained_bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub objects: u64,
    pub classes: u64,
    pub shallow_bytes: u64,
    pub gc_roots: BTreeMap<String, u64>,
    pub threads: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reachable_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable_objects: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable_bytes: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct HistogramEntry {
    pub class: String,
    pub loader: String,
    pub count: u64,
    pub shallow_bytes: u64,
    /// MAT's minimum retained size of the class's instances.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retained_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable_bytes: Option<u64>,
}

/// Options of `heapsight report`.
#[derive(Debug, Clone, Copy)]
pub struct ReportOptions {
    /// Histogram rows to keep; `None` keeps all.
    pub top: Option<usize>,
}

/// What a report says of the dump itself, whether it was indexed or only counted.
struct DumpFacts<'a> {
    source: &'a DumpSource,
    header: &'a Header,
    layout: &'a ObjectLayout,
    classes: &'a ClassTable,
    objects: u64,
    gc_roots: BTreeMap<String, u64>,
    threads: u64,
    warnings: &'a [String],
    dumps: &'a DumpList,
}

/// The report of the dump and its histogram, without retention.
fn histogram_report(facts: DumpFacts<'_>, hist: &Histogram, options: ReportOptions) -> Report {
    let limit = options.top.unwrap_or(usize::MAX);
    let classes = facts.classes;
    Report {
        file: facts.source.path().display().to_string(),
        index_file: None,
        format: facts.header.version.as_str().to_string(),
        id_size: facts.header.id_size,
        timestamp_ms: facts.header.timestamp_ms,
        dump_taken: crate::analysis::hints::present::date_time(facts.header.timestamp_ms),
        compressed: !matches!(facts.source.compression(), Compression::None),
        layout: facts.layout.describe(),
        vm: VmReport::of(facts.layout, classes),
        dumps: facts
            .dumps
            .parts
            .iter()
            .map(|p| DumpEntry {
                number: p.number,
                timestamp_ms: facts.header.timestamp_ms + p.time_us as u64 / 1000,
                objects: p.objects as u64,
            })
            .collect(),
        dump: facts.dumps.current().map_or(0, |p| p.number),
        summary: Summary {
            objects: facts.objects,
            classes: classes
                .classes
                .iter()
                .filter(|c| c.dump_offset.is_some())
                .count() as u64,
            shallow_bytes: hist.total_shallow_bytes,
            gc_roots: facts.gc_roots,
            threads: facts.threads,
            reachable_bytes: None,
            unreachable_objects: None,
            unreachable_bytes: None,
        },
        histogram: hist
            .rows
            .iter()
            .take(limit)
            .map(|r| {
                let c = classes.get(r.class);
                HistogramEntry {
                    class: c.name.clone(),
                    loader: format!("0x{:x}", c.loader_id),
                    count: r.count,
                    shallow_bytes: r.shallow_bytes,
                    retained_bytes: None,
                    unreachable_count: None,
                    unreachable_bytes: None,
                }
            })
            .collect(),
        dominators: None,
        hints: None,
        saved_hints: None,
        advice: None,
        saved_advice: None,
        warnings: facts.warnings.to_vec(),
    }
}

/// The histogram-only report from a census (no index, no retention).
pub fn census_report(census: &Census, options: ReportOptions) -> Report {
    let gc_roots = census
        .roots_by_kind()
        .iter()
        .map(|(kind, &n)| (kind.as_str().to_string(), n))
        .collect();
    let facts = DumpFacts {
        source: census.source(),
        header: census.header(),
        layout: census.layout(),
        classes: census.classes(),
        objects: census.object_count(),
        gc_roots,
        threads: census.thread_count() as u64,
        warnings: census.warnings(),
        dumps: census.dumps(),
    };
    histogram_report(
        facts,
        &Histogram::from_per_class(census.per_class()),
        options,
    )
}

/// The report; with `analysis`, retained sizes, reachability and top dominators too.
pub fn build_report(
    index: &HeapIndex,
    analysis: Option<&Analysis>,
    options: ReportOptions,
) -> Report {
    build(index, analysis, options, true)
}

/// The report for JSON output. With an analysis opened from an index file, the hints and
/// advice are those the first analysis saved there: recomputing them reads the dump (seconds
/// on a big one), and without the dump they cannot be recomputed at all.
pub fn build_report_json(
    index: &HeapIndex,
    analysis: Option<&Analysis>,
    options: ReportOptions,
) -> Report {
    let saved = analysis.and_then(|a| a.saved_findings.as_ref());
    let mut report = build(index, analysis, options, saved.is_none());
    if let Some(saved) = saved {
        report.saved_hints = Some(saved.hints.clone());
        report.saved_advice = Some(saved.advice.clone());
    }
    report
}

fn build(
    index: &HeapIndex,
    analysis: Option<&Analysis>,
    options: ReportOptions,
    with_findings: bool,
) -> Report {
    let computed;
    let hist: &Histogram = match analysis {
        Some(a) => &a.histogram,
        None => {
            computed = histogram(index);
            &computed
        }
    };
    let gc_roots = index
        .roots_by_kind()
        .into_iter()
        .map(|(kind, n)| (kind.to_string(), n))
        .collect();
    let facts = DumpFacts {
        source: index.source(),
        header: index.header(),
        layout: index.layout(),
        classes: index.classes(),
        objects: index.object_count() as u64,
        gc_roots,
        threads: index.threads().len() as u64,
        warnings: index.warnings(),
        dumps: index.dumps(),
    };
    let mut report = histogram_report(facts, hist, options);
    let Some(a) = analysis else {
        return report;
    };
    let s = &mut report.summary;
    s.reachable_bytes = Some(a.dominators.reachable_bytes);
    s.unreachable_objects = Some(a.dominators.unreachable_objects);
    s.unreachable_bytes = Some(a.dominators.unreachable_bytes);
    for (entry, row) in report.histogram.iter_mut().zip(&hist.rows) {
        let c = row.class as usize;
        entry.retained_bytes = Some(a.retained_by_class[c]);
        entry.unreachable_count = Some(a.unreachable_by_class[c].0);
        entry.unreachable_bytes = Some(a.unreachable_by_class[c].1);
    }
    let limit = options.top.unwrap_or(usize::MAX);
    report.dominators = Some(
        a.dominators
            .top_level()
            .iter()
            .take(limit)
            .map(|&o| DominatorEntry {
                id: format!("0x{:x}", index.address(o)),
                class: index.classes().get(index.class_of(o)).name.clone(),
                shallow_bytes: index.shallow_size(o),
                retained_bytes: a.dominators.retained(o),
            })
            .collect(),
    );
    if !with_findings {
        return report;
    }
    let mut hints = leak_hints(a);
    // A share of the live heap never exceeds it, whatever the dump (a truncated one included).
    for h in &mut hints {
        h.percent_of_heap = clamp_percent(h.percent_of_heap);
    }
    report.advice = Some(jvm_advice(a, &hints));
    report.hints = Some(hints);
    report
}

/// The report as a person reads it: a summary and aligned tables.
pub fn render_text(r: &Report) -> String {
    let mut out = String::new();
    let s = &r.summary;
    let _ = writeln!(out, "{} (dump taken {})", r.file, r.dump_taken);
    if let Some(index) = &r.index_file {
        let _ = writeln!(out, "  index file: {index}");
    }
    let _ = writeln!(
        out,
        "  {}, {}-byte identifiers{}; {}",
        r.format,
        r.id_size,
        if r.compressed { ", gzip" } else { "" },
        r.layout
    );
    let v = &r.vm;
    let _ = writeln!(
        out,
        "  VM: {} ({}), {}; {} of {} address-adjacent objects sit exactly their computed size apart",
        v.jdk,
        v.reason,
        v.field_rules,
        thousands(v.address_check.matching),
        thousands(v.address_check.pairs)
    );
    if let Some(d) = &v.disagreement {
        let _ = writeln!(out, "  Note: {d}");
    }
    for c in &v.sized_from_addresses {
        let _ = writeln!(
            out,
            "  {} sized {} B from the addresses (layout rules say {} B)",
            c.class, c.bytes, c.computed_bytes
        );
    }
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
    if let (Some(reach), Some(un_o), Some(un_b)) = (
        s.reachable_bytes,
        s.unreachable_objects,
        s.unreachable_bytes,
    ) {
        let _ = writeln!(
            out,
            "  reachable {} ({}); unreachable garbage not yet collected: {} objects, {}",
            bytes(reach),
            percent_of(reach, s.shallow_bytes, "the dump"),
            thousands(un_o),
            bytes(un_b)
        );
    }
    out.push('\n');
    let table: Vec<[String; 5]> = r
        .histogram
        .iter()
        .map(|h| {
            [
                thousands(h.count),
                thousands(h.shallow_bytes),
                bytes(h.shallow_bytes),
                h.retained_bytes.map(bytes).unwrap_or_default(),
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
    let w2 = table.iter().map(|t| t[2].len()).max().unwrap_or(0).max(7);
    let w3 = table.iter().map(|t| t[3].len()).max().unwrap_or(0).max(8);
    let _ = writeln!(
        out,
        "{:>w0$}  {:>w1$}  {:>w2$}  {:>w3$}  class",
        "instances", "shallow bytes", "shallow", "retained"
    );
    for t in &table {
        let _ = writeln!(
            out,
            "{:>w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {}",
            t[0], t[1], t[2], t[3], t[4]
        );
    }
    if let Some(doms) = &r.dominators {
        out.push_str("\nbiggest objects (dominator tree, top level; % of the reachable heap):\n");
        for d in doms.iter().take(20) {
            let _ = writeln!(
                out,
                "  {:>10}  {:>6}  {} @ {}",
                bytes(d.retained_bytes),
                percent(
                    d.retained_bytes,
                    s.reachable_bytes.unwrap_or(s.shallow_bytes)
                ),
                d.class,
                d.id
            );
        }
    }
    if let Some(hints) = &r.hints {
        render_hints(&mut out, hints);
    }
    if let Some(advice) = &r.advice {
        render_advice(&mut out, advice);
    }
    if !r.warnings.is_empty() {
        out.push_str("\nwarnings:\n");
        for w in &r.warnings {
            let _ = writeln!(out, "  - {w}");
        }
    }
    out
}

fn render_hints(out: &mut String, hints: &[Hint]) {
    out.push_str("\nLeak hints:\n");
    if hints.is_empty() {
        out.push_str("  none: no leak pattern found\n");
        return;
    }
    for (i, h) in hints.iter().enumerate() {
        let sev = serde_json::to_value(h.severity)
            .ok()
            .and_then(|v| v.as_str().map(str::to_uppercase))
            .unwrap_or_default();
        let _ = writeln!(out, "\n{}. [{sev}] {}", i + 1, h.title);
        let _ = writeln!(out, "   At stake: {}", h.summary);
        for line in h.explanation.lines() {
            let _ = writeln!(out, "   {line}");
        }
        let _ = writeln!(out, "   Fix: {}", h.fix);
        if !h.facts.is_empty() {
            let facts: Vec<String> = h
                .facts
                .iter()
                .map(|f| format!("{}: {}", f.label, f.value))
                .collect();
            let _ = writeln!(out, "   Numbers: {}", facts.join("; "));
        }
        for e in h.evidence.iter().take(8) {
            let _ = writeln!(
                out,
                "   - {}: {} [{}] retains {}",
                e.role,
                e.label,
                e.id,
                bytes(e.retained_bytes)
            );
        }
    }
}

fn render_advice(out: &mut String, a: &Advice) {
    out.push_str("\nJVM advice:\n");
    let j = &a.jvm;
    let or = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
    let _ = writeln!(
        out,
        "  Java {} ({}, {}), collector {}{}",
        or(&j.java_version),
        or(&j.vendor),
        or(&j.vm_name),
        or(&j.collector),
        j.collector_source
            .as_ref()
            .map(|s| format!(" (from {s})"))
            .unwrap_or_default()
    );
    if let Some(c) = &j.command {
        let _ = writeln!(out, "  command: {c}");
    }
    if !j.vm_args.is_empty() {
        let _ = writeln!(out, "  JVM arguments: {}", j.vm_args.join(" "));
    }
    for (k, v) in &j.env {
        let _ = writeln!(out, "  env {k}={v}");
    }
    if let Some(m) = j.max_heap_bytes {
        let _ = writeln!(
            out,
            "  maximum heap {} ({})",
            bytes(m),
            j.max_heap_source.clone().unwrap_or_default()
        );
    }
    let _ = writeln!(
        out,
        "  live set {}, garbage {}, {} threads, {} classes",
        bytes(a.live_set_bytes),
        bytes(a.garbage_bytes),
        thousands(j.threads),
        thousands(j.classes)
    );
    for f in &a.flags {
        let _ = writeln!(
            out,
            "\n  {}{}",
            f.setting,
            f.current
                .as_ref()
                .map(|c| format!("   (now {c})"))
                .unwrap_or_default()
        );
        let _ = writeln!(out, "    {}", f.why);
        for e in &f.evidence {
            let _ = writeln!(out, "    - {e}");
        }
    }
    if !a.cannot_tell.is_empty() {
        out.push_str("\n  What this dump cannot tell:\n");
        for c in &a.cannot_tell {
            let _ = writeln!(out, "  - {c}");
        }
    }
}
