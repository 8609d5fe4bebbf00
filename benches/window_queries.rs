//! The window's heaviest queries on a big dump, without the window: "Merged paths to GC roots"
//! of the class with the most instances (all its instances, then their shortest paths merged
//! by class), timed and with the memory it adds above the loaded state; the histogram grouped
//! by package (a task: the groups' retained sizes walk the dominator tree); the dominator
//! tree's children grouped by class, of the top level and of the node with the most children
//! (on the UI thread when the view expands them).
//!
//! `cargo bench --bench window_queries -- DUMP` (opens DUMP through its index file, as the
//! window does; run `heapsight index DUMP` first to time the query alone).

use std::time::Instant;

use heapsight::analysis::dominators::SUPER_ROOT;
use heapsight::analysis::histogram::{group, Grouping};
use heapsight::analysis::instances::{children_by_class, instances_of_class};
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
    let started = Instant::now();
    let packages = group(
        &a.index,
        &a.histogram,
        Grouping::Package,
        Some(&a.dominators),
    );
    println!(
        "histogram by package: {} groups with their retained sizes in {:.2} s",
        packages.len(),
        started.elapsed().as_secs_f64()
    );
    let widest = (0..a.index.object_count() as u32)
        .max_by_key(|&o| a.dominators.children(o).len())
        .unwrap_or(SUPER_ROOT);
    for (what, parent) in [("the top level", SUPER_ROOT), ("the widest node", widest)] {
        let started = Instant::now();
        let groups = children_by_class(&a.index, &a.dominators, parent);
        let children: u64 = groups.iter().map(|g| g.count).sum();
        println!(
            "children of {what} by class: {children} children in {} classes, {:.3} s",
            groups.len(),
            started.elapsed().as_secs_f64()
        );
    }
    let Some(largest) = a.histogram.rows.iter().max_by_key(|r| r.count) else {
        return Ok(());
    };
    let class = largest.class;
    let name = a.index.classes().get(class).name.to_string();
    let before = resident_mb().0;
    // The most anonymous memory the query holds at once, sampled.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut most = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                most = most.max(resident_mb().0);
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            most
        })
    };
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
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let most = sampler.join().unwrap_or(0);
    let (after, peak) = resident_mb();
    println!(
        "merged paths of {name} ({} instances): {total:.2} s ({listed:.2} s listing them), \
         {} nodes, {} roots, retained as a set {} of {} reachable; anonymous memory \
         {before} -> {after} MB (at most +{} MB meanwhile), process peak {peak} MB",
        members.len(),
        merged.nodes.len(),
        merged.roots.len(),
        merged.retained,
        a.dominators.reachable_bytes,
        most.saturating_sub(before),
    );
    Ok(())
}
