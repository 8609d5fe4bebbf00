//! The window's heaviest query on a big dump, without the window: "Merged paths to GC roots"
//! of the class with the most instances (all its instances, then their shortest paths merged
//! by class), timed and with the memory it adds above the loaded state.
//!
//! `cargo bench --bench window_queries -- DUMP` (opens DUMP through its index file, as the
//! window does; run `heapsight index DUMP` first to time the query alone).

use std::time::Instant;

use heapsight::analysis::instances::instances_of_class;
use heapsight::analysis::merged_paths::merge_paths_by_class;
use heapsight::analysis::{Analysis, OpenOptions};
use heapsight::progress::{memory_status_mb, Progress};

fn resident_mb() -> (u64, u64) {
    let [anon, peak] = memory_status_mb(["RssAnon:", "VmHWM:"]);
    (anon, peak)
}

fn main() -> anyhow::Result<()> {
    heapsight::memory::return_freed_memory_promptly();
    let Some(dump) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("usage: cargo bench --bench window_queries -- DUMP");
        return Ok(());
    };
    let started = Instant::now();
    let (a, status) = Analysis::open(dump.as_ref(), &OpenOptions::for_window(), &Progress::new())?;
    println!(
        "opened in {:.2} s ({}), anonymous memory {} MB",
        started.elapsed().as_secs_f64(),
        status.summary(),
        resident_mb().0
    );
    let Some(largest) = a.histogram.rows.iter().max_by_key(|r| r.count) else {
        return Ok(());
    };
    let class = largest.class;
    let name = a.index.classes().get(class).name.to_string();
    let before = resident_mb().0;
    let progress = Progress::new();
    let started = Instant::now();
    let members = instances_of_class(&a.index, &a.dominators, class, &progress)
        .ok_or_else(|| anyhow::anyhow!("cancelled"))?;
    let listed = started.elapsed().as_secs_f64();
    let merged = merge_paths_by_class(
        &a.index,
        &a.shortest_paths,
        &a.roots,
        &a.dominators,
        &members,
        &progress,
    )
    .ok_or_else(|| anyhow::anyhow!("cancelled"))?;
    let total = started.elapsed().as_secs_f64();
    let (after, peak) = resident_mb();
    println!(
        "merged paths of {name} ({} instances): {total:.2} s ({listed:.2} s listing them), \
         {} nodes, {} roots, retained as a set {} of {} reachable; anonymous memory \
         {before} -> {after} MB (+{} MB), process peak {peak} MB",
        members.len(),
        merged.nodes.len(),
        merged.roots.len(),
        merged.retained,
        a.dominators.reachable_bytes,
        after.saturating_sub(before),
    );
    Ok(())
}
