//! Threads: many threads of one pool, and threads started by a web application's class
//! loader that are still alive.

use rustc_hash::FxHashMap;

use super::{evidence, hint, simple_name, Category, Certainty, Hint, Stake};
use crate::analysis::java;
use crate::analysis::Analysis;
use crate::format::bytes;
use crate::heap::ObjectId;

/// A pool of this many threads (same name pattern) is worth a hint.
pub const MANY_THREADS: usize = 32;
/// A thread's stack reservation by default on 64-bit Linux (-Xss1m).
pub const DEFAULT_STACK_BYTES: u64 = 1 << 20;

pub fn many(count: usize) -> bool {
    count >= MANY_THREADS
}

pub fn hints(a: &Analysis) -> Vec<Hint> {
    let index = &a.index;
    let tree = &a.dominators;
    let mut out = Vec::new();
    let live: Vec<(ObjectId, &str)> = index
        .threads()
        .iter()
        .filter_map(|t| Some((t.object?, t.name.as_str())))
        .collect();
    let total = live.len();
    let mut pools: FxHashMap<String, Vec<(ObjectId, &str)>> = FxHashMap::default();
    for &(o, name) in &live {
        pools
            .entry(java::thread_name_pattern(name))
            .or_default()
            .push((o, name));
    }
    let mut pools: Vec<(String, Vec<(ObjectId, &str)>)> = pools.into_iter().collect();
    pools.sort_by_key(|(p, v)| (std::cmp::Reverse(v.len()), p.clone()));
    for (pattern, members) in pools.into_iter().filter(|(_, v)| many(v.len())) {
        let retained: u64 = members.iter().map(|&(o, _)| tree.retained(o)).sum();
        let mut h = hint(
            "many_threads",
            Category::Threads,
            if members.len() >= 200 {
                Certainty::Likely
            } else {
                Certainty::Possible
            },
            Stake::EstimatedNative,
            format!(
                "{} threads named \"{pattern}\" ({} threads in all)",
                members.len(),
                total
            ),
        );
        // At stake: their native stacks (the heap they keep is the thread-local hint's).
        h.retained_bytes = members.len() as u64 * DEFAULT_STACK_BYTES;
        h.numbers.insert("retained_bytes".into(), retained);
        h.numbers
            .insert("estimated_native_bytes".into(), h.retained_bytes);
        h.numbers.insert("threads".into(), members.len() as u64);
        h.numbers.insert("total_threads".into(), total as u64);
        for &(o, name) in members.iter().take(5) {
            h.evidence
                .push(evidence(a, o, "thread", Some(format!("thread \"{name}\""))));
        }
        h.explanation = format!(
            "{} live threads share the name pattern \"{pattern}\": one pool (or many pools \
             created per client). Each thread reserves a native stack (-Xss, 1 MB by default \
             on 64-bit Linux), may get its own glibc malloc arena, and keeps its thread-locals \
             alive; none of this shows in the heap. The native memory at stake is estimated as \
             one default stack per thread ({}); the memory actually committed is usually \
             less. The heap the threads keep alive (their thread-locals included) is {}.",
            members.len(),
            bytes(h.retained_bytes),
            bytes(retained)
        );
        h.fix = "Bound the pool (maximumPoolSize) to what the workload needs, and make sure \
                 the component that owns it is created once and shut down (a pool per client \
                 instance multiplies threads). See the -Xss and MALLOC_ARENA_MAX advice."
            .to_string();
        out.push(h);
    }
    // Threads started by a web application's class loader.
    let webapp = java::subclass_mask(index, super::classloaders::WEBAPP_LOADERS);
    let mut by_loader: FxHashMap<ObjectId, Vec<(ObjectId, &str)>> = FxHashMap::default();
    for &(o, name) in &live {
        let mut loaders = vec![index.classes().get(index.class_of(o)).loader_id];
        if let Some(t) = index.field_object(o, "target") {
            loaders.push(index.classes().get(index.class_of(t)).loader_id);
        }
        for l in loaders {
            if let Some(lo) = index.find(l).filter(|_| l != 0) {
                if webapp[index.class_of(lo) as usize] {
                    by_loader.entry(lo).or_default().push((o, name));
                    break;
                }
            }
        }
    }
    let mut by_loader: Vec<(ObjectId, Vec<(ObjectId, &str)>)> = by_loader.into_iter().collect();
    by_loader.sort_by_key(|(l, _)| *l);
    for (loader, threads) in by_loader {
        let state = super::classloaders::loader_state(index, loader);
        let stopped = state.is_stopped();
        let names: Vec<String> = threads
            .iter()
            .map(|&(o, n)| format!("\"{n}\" ({})", java::class_name(index, o)))
            .collect();
        let mut h = hint(
            "app_threads",
            Category::Threads,
            if stopped {
                Certainty::Certain
            } else {
                Certainty::Possible
            },
            Stake::Retained,
            format!(
                "{} thread(s) started by {}{} are alive",
                threads.len(),
                simple_name(java::class_name(index, loader)),
                if stopped { " (stopped)" } else { "" }
            ),
        );
        h.retained_bytes = threads.iter().map(|&(o, _)| tree.retained(o)).sum();
        h.numbers.insert("threads".into(), threads.len() as u64);
        h.evidence.push(evidence(a, loader, "loader", None));
        for &(o, n) in threads.iter().take(10) {
            h.evidence
                .push(evidence(a, o, "thread", Some(format!("thread \"{n}\""))));
        }
        h.explanation = format!(
            "Threads whose class or Runnable comes from the web application loader {}: {}. \
             {}",
            index.describe(loader),
            names.join(", "),
            if stopped {
                "The application is stopped, yet its threads run on and keep its class loader \
                 (and every class it loaded) alive."
            } else {
                "They must be stopped when the application is undeployed, or they keep its \
                 class loader alive."
            }
        );
        h.fix = "Stop these threads in ServletContextListener.contextDestroyed (shutdown() \
                 executors, cancel() Timers, interrupt and join worker threads)."
            .to_string();
        out.push(h);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn pool_threshold() {
        assert!(super::many(32));
        assert!(!super::many(31));
    }
}
